/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * pcap output of nacct capture, on libpcap: a "dead" handle gives the
 * link type, snaplen and nanosecond precision; pcap_dump writes records;
 * a tcpdump-syntax filter is compiled on the dead handle and run on every
 * record with pcap_offline_filter.  With a rotation interval the file is
 * reopened every N seconds under a strftime(3) name, like tcpdump -G.
 */
#ifndef NACCT_PCAP_WRITER_H
#define NACCT_PCAP_WRITER_H

#include <stdio.h>
#include <linux/types.h>

/*
 * libpcap's types stay behind opaque pointers: <pcap/bpf.h> and
 * <linux/bpf.h> both define struct bpf_insn, so no file can include both.
 */
struct nacct_pcap {
	void *dead;   /* pcap_t */
	void *dump;   /* pcap_dumper_t */
	FILE *file;   /* its stdio stream: write errors show there */
	void *filter; /* struct bpf_program, NULL: no filter */
	int to_stdout;
	__u32 snaplen;
	__u64 rotate_ns;     /* 0: one file */
	__u64 file_start_ns; /* wall clock of the current file's start */
	unsigned int file_seq;
	char pattern[512];   /* -w FILE as given */
	char path[1024];     /* the file being written */
	__u64 pending;       /* records written since the last flush */
};

/*
 * Open the first output file (or stdout for "-").  @filter may be NULL or
 * "" for no filter.  Returns 0, -EINVAL for a filter that does not
 * compile (the reason printed), or another negative errno.
 */
int nacct_pcap_open(struct nacct_pcap *w, const char *pattern, __u32 snaplen, __u64 rotate_sec,
		    const char *filter);

/*
 * Filter and write one frame.  @wall_ns: wall clock timestamp.  Returns 1
 * when written, 0 when the filter rejected it, a negative errno when the
 * output failed (EPIPE: the reader went away).
 */
int nacct_pcap_write(struct nacct_pcap *w, __u64 wall_ns, __u32 len, __u32 caplen,
		     const void *data);

/* move to the next file when the rotation interval has passed */
int nacct_pcap_maybe_rotate(struct nacct_pcap *w, __u64 wall_ns);

/* push buffered records to the file or pipe; negative errno on failure */
int nacct_pcap_flush(struct nacct_pcap *w);

void nacct_pcap_close(struct nacct_pcap *w);

#endif /* NACCT_PCAP_WRITER_H */
