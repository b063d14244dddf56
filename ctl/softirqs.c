// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nacct softirqs (bcc softirqs): count and time per softirq vector, per
 * interval, per CPU with --cpu, log2 histograms of time with -d.  Loads
 * probes/nacct_softirqs.bpf.c for the duration of the run (nothing
 * pinned); its counters are cumulative and each interval is the
 * difference of two reads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "nacct.h"
#include "tools.h"
#include "../lib/log.h"
#include "../maps/maps.h"
#include "nacct_softirqs.skel.h"

/* the vector names, from the one table of maps/nacct.h */
static const char *const sirq_names[NACCT_SIRQ_MAX] = {
#define NACCT_X_SIRQ_NAME(n, s) [NACCT_SIRQ_##n] = s,
	NACCT_SOFTIRQ_VECTORS(NACCT_X_SIRQ_NAME)
#undef NACCT_X_SIRQ_NAME
};

/* one read of the map: [vec * ncpu + cpu] */
static int sirq_read(int fd, int ncpu, struct nacct_sirq_val *out)
{
	__u32 v;

	for (v = 0; v < NACCT_SIRQ_MAX; v++)
		if (bpf_map_lookup_elem(fd, &v, out + (size_t)v * ncpu))
			return -errno;
	return 0;
}

static void row(const struct softirqs_opts *o, const char *rfc, double secs, __u64 seq, int v,
		int cpu, const struct nacct_sirq_val *d)
{
	if (o->json) {
		printf("{\"time\":\"%s\",\"seq\":%llu,\"interval_s\":%.3f,\"vector\":\"%s\"", rfc,
		       (unsigned long long)seq, secs, sirq_names[v]);
		if (cpu >= 0)
			printf(",\"cpu\":%d", cpu);
		printf(",\"count\":%llu,\"time_ns\":%llu,\"time_us\":%llu",
		       (unsigned long long)d->count, (unsigned long long)d->time_ns,
		       (unsigned long long)(d->time_ns / 1000));
		if (o->dist)
			nacct_hist_json(stdout, "hist_us", d->hist);
		puts("}");
		return;
	}
	if (o->dist) {
		if (!d->count)
			return;
		if (cpu >= 0)
			printf("\nsoftirq = %s, cpu = %d\n", sirq_names[v], cpu);
		else
			printf("\nsoftirq = %s\n", sirq_names[v]);
		nacct_hist_print(stdout, d->hist, "usecs");
		return;
	}
	if (cpu >= 0) {
		if (d->count)
			printf("%-4d %-10s %12llu %14llu\n", cpu, sirq_names[v],
			       (unsigned long long)d->count, (unsigned long long)(d->time_ns / 1000));
		return;
	}
	printf("%-10s %12llu %14llu\n", sirq_names[v], (unsigned long long)d->count,
	       (unsigned long long)(d->time_ns / 1000));
}

static void print_interval(const struct softirqs_opts *o, int ncpu, double secs, __u64 seq,
			   const struct nacct_sirq_val *cur, const struct nacct_sirq_val *prev)
{
	char hms[16], rfc[48];
	struct nacct_sirq_val d, sum;
	int v, c;

	nacct_tool_now(hms, sizeof(hms), rfc, sizeof(rfc));
	if (!o->json) {
		printf("\n%s\n", hms);
		if (!o->dist)
			printf(o->cpu ? "%-4s %-10s %12s %14s\n" : "%.0s%-10s %12s %14s\n", "CPU",
			       "SOFTIRQ", "COUNT", "TOTAL_usecs");
	}
	for (v = 0; v < NACCT_SIRQ_MAX; v++) {
		memset(&sum, 0, sizeof(sum));
		for (c = 0; c < ncpu; c++) {
			size_t i = (size_t)v * ncpu + c;

			nacct_u64s_sub(&d, &cur[i], &prev[i], sizeof(d));
			if (o->cpu)
				row(o, rfc, secs, seq, v, c, &d);
			else
				nacct_u64s_add(&sum, &d, sizeof(sum));
		}
		if (!o->cpu)
			row(o, rfc, secs, seq, v, -1, &sum);
	}
	fflush(stdout);
}

/* one interval's end: read, print the difference, keep it as the base */
struct sirq_run {
	const struct softirqs_opts *o;
	int fd, ncpu;
	struct nacct_sirq_val *cur, *prev;
};

static int sirq_interval(void *ctx, double secs, __u64 seq)
{
	struct sirq_run *r = ctx;
	struct nacct_sirq_val *tmp;
	int err = sirq_read(r->fd, r->ncpu, r->cur);

	if (err) {
		pr_warn("softirqs: cannot read the counters: %s\n", strerror(-err));
		return NACCT_EXIT_FAIL;
	}
	print_interval(r->o, r->ncpu, secs, seq, r->cur, r->prev);
	tmp = r->prev;
	r->prev = r->cur;
	r->cur = tmp;
	return 0;
}

int cmd_softirqs(struct softirqs_opts *o)
{
	struct nacct_softirqs *skel = NULL;
	struct sirq_run r = { .o = o };
	double interval;
	__u64 count;
	int err, ret = NACCT_EXIT_FAIL;

	err = nacct_tool_interval("softirqs", &o->a, 0, &interval, &count);
	if (err)
		return err;
	err = nacct_need_bpf();
	if (err)
		return err;
	r.ncpu = libbpf_num_possible_cpus();
	if (r.ncpu <= 0) {
		pr_warn("softirqs: cannot count the CPUs: %s\n", strerror(-r.ncpu));
		return NACCT_EXIT_FAIL;
	}
	r.cur = calloc((size_t)NACCT_SIRQ_MAX * r.ncpu, sizeof(*r.cur));
	r.prev = calloc((size_t)NACCT_SIRQ_MAX * r.ncpu, sizeof(*r.prev));
	if (!r.cur || !r.prev)
		goto out;
	skel = nacct_softirqs__open_and_load();
	if (!skel) {
		pr_warn("softirqs: cannot load the softirq programs: %s\n", strerror(errno));
		goto out;
	}
	err = nacct_softirqs__attach(skel);
	if (err) {
		pr_warn("softirqs: cannot attach to irq:softirq_entry/softirq_exit: %s\n",
			strerror(-err));
		goto out;
	}
	r.fd = bpf_map__fd(skel->maps.nacct_sirq);
	/* the baseline: everything counted since the attach before it is not
	 * part of the first interval */
	err = sirq_read(r.fd, r.ncpu, r.prev);
	if (err) {
		pr_warn("softirqs: cannot read the counters: %s\n", strerror(-err));
		goto out;
	}
	ret = nacct_tool_loop("Tracing softirqs", interval, count, NULL, sirq_interval, &r);
out:
	nacct_softirqs__destroy(skel);
	free(r.cur);
	free(r.prev);
	return ret;
}
