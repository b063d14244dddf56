// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The transient tools' shared parts: interval loop, log2 histograms. */
#include <errno.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "tools.h"
#include "../lib/names.h"

static volatile sig_atomic_t g_stop, g_flush;

static void on_stop(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void on_flush(int sig)
{
	(void)sig;
	g_flush = 1;
}

int nacct_tool_interval(const char *cmd, const struct nacct_args *a, int first, double *interval,
			__u64 *count)
{
	char *end;
	long long c;

	*interval = 0;
	*count = 0;
	if (a->argc > first) {
		errno = 0;
		*interval = strtod(a->argv[first], &end);
		if (errno || *end || !(*interval > 0) || *interval > 86400)
			return nacct_usage_error("%s: invalid interval '%s' (seconds, > 0, <= 86400)",
						 cmd, a->argv[first]);
	}
	if (a->argc > first + 1) {
		errno = 0;
		c = strtoll(a->argv[first + 1], &end, 10);
		if (errno || *end || c <= 0)
			return nacct_usage_error("%s: invalid count '%s' (a number > 0)", cmd,
						 a->argv[first + 1]);
		*count = c;
	}
	if (a->argc > first + 2)
		return nacct_usage_error("%s: too many arguments ('%s')", cmd, a->argv[first + 2]);
	return 0;
}

void nacct_tool_signals(void)
{
	struct sigaction sa = { 0 };

	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop; /* no SA_RESTART: nanosleep returns */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_flush;
	sigaction(SIGUSR1, &sa, NULL);
}

int nacct_tool_stopped(void)
{
	return g_stop;
}

int nacct_tool_wait(double interval, void (*tick)(void *), void *ctx)
{
	struct timespec end, now;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += (time_t)interval;
	end.tv_nsec += (long)((interval - (time_t)interval) * 1e9);
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	/* a SIGUSR1 that came while the last interval printed ends this one */
	while (!g_stop && !g_flush) {
		struct timespec d = { 0, 100000000L };

		if (tick)
			tick(ctx);
		if (interval <= 0) {
			nanosleep(&d, NULL); /* a signal cuts it short */
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
			return 1;
		d.tv_sec = end.tv_sec - now.tv_sec;
		d.tv_nsec = end.tv_nsec - now.tv_nsec;
		if (d.tv_nsec < 0) {
			d.tv_sec--;
			d.tv_nsec += 1000000000L;
		}
		if (d.tv_sec >= 1 || d.tv_nsec > 100000000L) {
			d.tv_sec = 0;
			d.tv_nsec = 100000000L; /* tick every 100 ms */
		}
		nanosleep(&d, NULL);
	}
	g_flush = 0;
	return !g_stop;
}

__u64 nacct_log2_lo(int slot)
{
	return slot <= 0 ? 0 : 1ULL << (slot - 1);
}

__u64 nacct_log2_hi(int slot)
{
	if (slot <= 0)
		return 0;
	if (slot >= NACCT_LOG2_SLOTS - 1)
		return UINT64_MAX; /* the last slot holds everything above */
	return (1ULL << slot) - 1;
}

void nacct_hist_print(FILE *f, const __u64 *hist, const char *unit)
{
	int i, first = -1, last = -1, j, stars;
	__u64 max = 0;
	char lo[24], hi[24];

	for (i = 0; i < NACCT_LOG2_SLOTS; i++)
		if (hist[i]) {
			if (first < 0)
				first = i;
			last = i;
			if (hist[i] > max)
				max = hist[i];
		}
	if (last < 0)
		return;
	fprintf(f, "%22s : count     distribution\n", unit);
	for (i = first; i <= last; i++) {
		snprintf(lo, sizeof(lo), "%llu", (unsigned long long)nacct_log2_lo(i));
		if (i == NACCT_LOG2_SLOTS - 1)
			snprintf(hi, sizeof(hi), "...");
		else
			snprintf(hi, sizeof(hi), "%llu", (unsigned long long)nacct_log2_hi(i));
		stars = max ? (int)((hist[i] * 40 + max - 1) / max) : 0;
		fprintf(f, "%10s -> %-10s: %-9llu |", lo, hi, (unsigned long long)hist[i]);
		for (j = 0; j < 40; j++)
			fputc(j < stars ? '*' : ' ', f);
		fputs("|\n", f);
	}
}

void nacct_hist_json(FILE *f, const char *name, const __u64 *hist)
{
	int i, n = 0;

	fprintf(f, ",\"%s\":[", name);
	for (i = 0; i < NACCT_LOG2_SLOTS; i++) {
		if (!hist[i])
			continue;
		fprintf(f, "%s{\"lo\":%llu,\"hi\":%llu,\"count\":%llu}", n++ ? "," : "",
			(unsigned long long)nacct_log2_lo(i), (unsigned long long)nacct_log2_hi(i),
			(unsigned long long)hist[i]);
	}
	fputc(']', f);
}

void nacct_tool_now(char *hms, size_t hlen, char *rfc, size_t rlen)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(hms, hlen, "%H:%M:%S", &tm);
	nacct_rfc3339((__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec, rfc, rlen);
}

int nacct_tool_loop(const char *what, double interval, __u64 count, void (*tick)(void *),
		    int (*done)(void *ctx, double secs, __u64 seq), void *ctx)
{
	double t0 = nacct_tool_mono_s(), t1;
	__u64 seq = 0;
	int more = 1, err;

	nacct_tool_signals();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (what)
		fprintf(stderr, "%s... Hit Ctrl-C to end%s.\n", what,
			interval > 0 ? "" : " (SIGUSR1 prints the interval so far)");
	while (more) {
		more = nacct_tool_wait(interval, tick, ctx);
		t1 = nacct_tool_mono_s();
		err = done(ctx, t1 - t0, ++seq);
		if (err)
			return err;
		t0 = t1;
		if (count && seq >= count)
			break;
	}
	return 0;
}

__u8 nacct_tool_flip_gen(volatile __u8 *gen)
{
	__u8 g = *gen & 1;

	*gen = g ^ 1;
	usleep(10000);
	return g;
}

int nacct_fd_socket_ino(const char *path, unsigned long long *ino)
{
	char link[64];
	ssize_t n = readlink(path, link, sizeof(link) - 1);

	if (n <= 0)
		return 0;
	link[n] = '\0';
	return sscanf(link, "socket:[%llu]", ino) == 1;
}

double nacct_tool_mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int all_zero(const void *p, size_t len)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i])
			return 0;
	return 1;
}

int nacct_tool_take_gen(int fd, size_t ksz, size_t vsz, size_t gen_off, __u8 g, int ncpu,
			void (*merge)(void *dst, const void *src), void **keys, void **vals,
			size_t *n)
{
	/* a per-CPU value is an array of values each rounded up to 8 bytes */
	size_t stride = (vsz + 7) & ~(size_t)7, cap = 0, nk = 0, i, out = 0;
	unsigned char *k = NULL, *ks = NULL, *vs = NULL, *pc = NULL;
	int err = 0, cpu, first = 1;

	*keys = *vals = NULL;
	*n = 0;
	k = calloc(2, ksz);
	pc = calloc(ncpu > 0 ? ncpu : 1, stride);
	if (!k || !pc) {
		err = -ENOMEM;
		goto out;
	}
	/* the keys first: deleting while walking restarts a hash walk */
	while (!bpf_map_get_next_key(fd, first ? NULL : k, k + ksz)) {
		first = 0;
		memcpy(k, k + ksz, ksz);
		if (k[gen_off] != g)
			continue;
		if (nk == cap) {
			void *t = realloc(ks, (cap = cap ? cap * 2 : 64) * ksz);

			if (!t) {
				err = -ENOMEM;
				goto out;
			}
			ks = t;
		}
		memcpy(ks + nk++ * ksz, k, ksz);
	}
	vs = calloc(nk ? nk : 1, vsz);
	if (!vs) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nk; i++) {
		unsigned char *key = ks + i * ksz, *val = vs + out * vsz;

		if (bpf_map_lookup_elem(fd, key, ncpu > 0 ? (void *)pc : (void *)val))
			continue;
		bpf_map_delete_elem(fd, key);
		if (ncpu > 0) {
			memset(val, 0, vsz);
			for (cpu = 0; cpu < ncpu; cpu++)
				merge(val, pc + cpu * stride);
		}
		if (all_zero(val, vsz))
			continue;
		memmove(ks + out * ksz, key, ksz);
		ks[out * ksz + gen_off] = 0;
		out++;
	}
	*keys = ks;
	*vals = vs;
	*n = out;
	ks = vs = NULL;
out:
	free(k);
	free(pc);
	free(ks);
	free(vs);
	return err;
}
