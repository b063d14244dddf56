/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the interval tools (softirqs, rtt, backlog, queues) share: the
 * [interval [count]] positionals, the interval loop with its signals, and
 * log2 histograms (the slots of probes/hist.bpf.h) as text and JSON.
 */
#ifndef NACCT_CTL_TOOLS_H
#define NACCT_CTL_TOOLS_H

#include <stdio.h>
#include "nacct.h"

/* [INTERVAL [COUNT]] from argv[first..]: interval 0 = until Ctrl-C,
 * count 0 = for ever; 0 or NACCT_EXIT_USAGE after one clear line */
int nacct_tool_interval(const char *cmd, const struct nacct_args *a, int first, double *interval,
			__u64 *count);

/* SIGINT/SIGTERM/SIGPIPE stop, SIGUSR1 ends the current interval early */
void nacct_tool_signals(void);
/* wait for the end of the interval (interval 0: until a signal), calling
 * tick(ctx) every 100 ms if given; 1: print and go on, 0: print and stop */
int nacct_tool_wait(double interval, void (*tick)(void *), void *ctx);
/* the stop signal came */
int nacct_tool_stopped(void);

/* the inclusive value range of log2 slot i */
__u64 nacct_log2_lo(int slot);
__u64 nacct_log2_hi(int slot);
/* bcc's print_log2_hist: "     usecs : count  distribution" with stars */
void nacct_hist_print(FILE *f, const __u64 *hist, const char *unit);
/* ,"NAME":[{"lo":L,"hi":H,"count":C},...] non-empty slots only */
void nacct_hist_json(FILE *f, const char *name, const __u64 *hist);

/*
 * The interval loop of every interval tool: signals (nacct_tool_signals),
 * stdout line-buffered, the banner "WHAT... Hit Ctrl-C to end." on stderr
 * (@what NULL: none), then at each interval's end (nacct_tool_wait with
 * @tick) @done(ctx, its length in seconds, its number from 1), which reads
 * and prints; after @count intervals (0: until a signal) or a non-zero
 * return of @done, which is returned.
 */
int nacct_tool_loop(const char *what, double interval, __u64 count, void (*tick)(void *),
		    int (*done)(void *ctx, double secs, __u64 seq), void *ctx);

/*
 * The tools whose programs write one of two generations (a .bss "gen"
 * byte): new samples go to the other generation from now on; a program
 * that read the old one runs to its end with preemption off (tracepoint),
 * microseconds: this waits that out.  Returns the generation to read.
 */
__u8 nacct_tool_flip_gen(volatile __u8 *gen);

/* 1 and the inode when the /proc/PID/fd/N link @path is a socket, else 0 */
int nacct_fd_socket_ino(const char *path, unsigned long long *ino);

/* CLOCK_MONOTONIC in seconds: the intervals' lengths */
double nacct_tool_mono_s(void);
/*
 * The entries of generation g of a hash map whose keys carry the
 * generation in the byte at gen_off (the transient tools' way to end an
 * interval without losing an update): each read, then deleted.  Per-CPU
 * values (ncpu > 0) are merged with merge(dst, one CPU's value) into a
 * zeroed value; entries that merge to all zero are left out.  On success
 * *keys and *vals hold *n entries (the generation byte cleared), to free().
 */
int nacct_tool_take_gen(int fd, size_t ksz, size_t vsz, size_t gen_off, __u8 g, int ncpu,
			void (*merge)(void *dst, const void *src), void **keys, void **vals,
			size_t *n);

/* the wall clock "HH:MM:SS" and RFC 3339 of now */
void nacct_tool_now(char *hms, size_t hlen, char *rfc, size_t rlen);

#endif /* NACCT_CTL_TOOLS_H */
