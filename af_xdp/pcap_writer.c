// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* pcap output with nanosecond timestamps, filters and rotation: see pcap_writer.h */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pcap/pcap.h>

#include "pcap_writer.h"
#include "../lib/log.h"

#define NS_PER_SEC 1000000000ULL

/* the name of the file that starts at @wall_ns */
static int file_name(struct nacct_pcap *w, __u64 wall_ns)
{
	time_t t = wall_ns / NS_PER_SEC;
	struct tm tm;

	if (!w->rotate_ns) {
		snprintf(w->path, sizeof(w->path), "%s", w->pattern);
		return 0;
	}
	if (strchr(w->pattern, '%')) {
		localtime_r(&t, &tm);
		if (!strftime(w->path, sizeof(w->path), w->pattern, &tm))
			return -ENAMETOOLONG;
		return 0;
	}
	/* no strftime pattern: FILE, FILE.1, FILE.2 ... rather than overwrite */
	if (!w->file_seq)
		snprintf(w->path, sizeof(w->path), "%s", w->pattern);
	else
		snprintf(w->path, sizeof(w->path), "%s.%u", w->pattern, w->file_seq);
	return 0;
}

static int open_file(struct nacct_pcap *w, __u64 wall_ns)
{
	int err;

	if (w->to_stdout) {
		w->dump = pcap_dump_fopen(w->dead, stdout);
		if (!w->dump) {
			pr_warn("cannot write pcap to stdout: %s\n", pcap_geterr(w->dead));
			return -EIO;
		}
		w->file = pcap_dump_file(w->dump);
		return 0;
	}
	err = file_name(w, wall_ns);
	if (err)
		return err;
	w->dump = pcap_dump_open(w->dead, w->path);
	if (!w->dump) {
		pr_warn("cannot open %s: %s\n", w->path, pcap_geterr(w->dead));
		return -EIO;
	}
	w->file = pcap_dump_file(w->dump);
	w->file_start_ns = wall_ns;
	pr_debug("writing %s\n", w->path);
	return 0;
}

static __u64 wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

int nacct_pcap_open(struct nacct_pcap *w, const char *pattern, __u32 snaplen, __u64 rotate_sec,
		    const char *filter)
{
	int err;

	memset(w, 0, sizeof(*w));
	if (strlen(pattern) >= sizeof(w->pattern))
		return -ENAMETOOLONG;
	snprintf(w->pattern, sizeof(w->pattern), "%s", pattern);
	w->to_stdout = !strcmp(pattern, "-");
	w->snaplen = snaplen;
	w->rotate_ns = rotate_sec * NS_PER_SEC;
	w->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, snaplen,
						       PCAP_TSTAMP_PRECISION_NANO);
	if (!w->dead)
		return -ENOMEM;
	if (filter && *filter) {
		struct bpf_program *prog = calloc(1, sizeof(*prog));

		if (!prog) {
			err = -ENOMEM;
			goto fail;
		}
		if (pcap_compile(w->dead, prog, filter, 1, PCAP_NETMASK_UNKNOWN)) {
			fprintf(stderr, "nacct: capture: bad filter '%s': %s\n", filter,
				pcap_geterr(w->dead));
			free(prog);
			err = -EINVAL;
			goto fail;
		}
		w->filter = prog;
	}
	err = open_file(w, wall_now());
	if (err)
		goto fail;
	return 0;
fail:
	nacct_pcap_close(w);
	return err;
}

int nacct_pcap_write(struct nacct_pcap *w, __u64 wall_ns, __u32 len, __u32 caplen,
		     const void *data)
{
	struct pcap_pkthdr h;

	if (caplen > w->snaplen)
		caplen = w->snaplen;
	if (caplen > len)
		len = caplen;
	/* nanosecond precision: tv_usec carries nanoseconds */
	h.ts.tv_sec = wall_ns / NS_PER_SEC;
	h.ts.tv_usec = wall_ns % NS_PER_SEC;
	h.caplen = caplen;
	h.len = len;
	if (w->filter && !pcap_offline_filter(w->filter, &h, data))
		return 0;
	errno = 0;
	pcap_dump((u_char *)w->dump, &h, data);
	/* pcap_dump() says nothing: a write that failed (EPIPE: the reader of
	 * -w - went away; ENOSPC) shows on the stream, with errno still set */
	if (ferror(w->file))
		return errno ? -errno : -EIO;
	w->pending++;
	return 1;
}

int nacct_pcap_flush(struct nacct_pcap *w)
{
	int err;

	if (!w->dump || !w->pending)
		return 0;
	w->pending = 0;
	errno = 0;
	if (pcap_dump_flush(w->dump) || ferror(w->file)) {
		err = errno ? -errno : -EIO;
		clearerr(w->file);
		return err;
	}
	return 0;
}

int nacct_pcap_maybe_rotate(struct nacct_pcap *w, __u64 wall_ns)
{
	int err;

	if (!w->rotate_ns || w->to_stdout || wall_ns < w->file_start_ns + w->rotate_ns)
		return 0;
	err = nacct_pcap_flush(w);
	pcap_dump_close(w->dump);
	w->dump = NULL;
	w->file = NULL;
	if (err)
		return err;
	w->file_seq++;
	/* the next file starts on the interval boundary, not when we noticed */
	return open_file(w, w->file_start_ns +
				    (wall_ns - w->file_start_ns) / w->rotate_ns * w->rotate_ns);
}

void nacct_pcap_close(struct nacct_pcap *w)
{
	if (w->dump) {
		pcap_dump_flush(w->dump);
		if (w->to_stdout)
			fflush(stdout);
		pcap_dump_close(w->dump);
		w->dump = NULL;
		w->file = NULL;
	}
	if (w->filter) {
		pcap_freecode(w->filter);
		free(w->filter);
		w->filter = NULL;
	}
	if (w->dead) {
		pcap_close(w->dead);
		w->dead = NULL;
	}
}
