// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nacct rtt (bcc tcprtt): log2 histograms of TCP's smoothed RTT per
 * interval, in microseconds (milliseconds with -m), one per key with --by,
 * each with its count, average, minimum and maximum.  Loads
 * probes/nacct_rtt.bpf.c for the duration of the run (nothing pinned).
 * IFACE restricts to sockets of that interface's network namespace (the
 * caller's) whose packets use it, as `nacct events IFACE` does.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "nacct.h"
#include "tools.h"
#include "../lib/log.h"
#include "nacct_rtt.skel.h"

/* --by: index = enum nacct_rtt_by */
const char *const nacct_rtt_by_names[] = { "none", "raddr", "laddr", "rport", "lport", NULL };

struct rtt_row {
	struct nacct_rtt_key key;
	struct nacct_rtt_val val;
};

struct rtt_ctx {
	const struct rtt_opts *o;
	struct nacct_rtt *skel;
	int ncpu;
	int inode_fd;
	__u64 inodes; /* socket inodes of -p PID known so far */
};

/* -p PID: add the process's socket inodes to the filter set */
static int pid_scan(struct rtt_ctx *c)
{
	char path[64], ent[320];
	struct dirent *d;
	DIR *dir;
	__u8 one = 1;

	snprintf(path, sizeof(path), "/proc/%llu/fd", (unsigned long long)c->o->pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		unsigned long long ino;

		if (d->d_name[0] == '.')
			continue;
		snprintf(ent, sizeof(ent), "%s/%s", path, d->d_name);
		if (!nacct_fd_socket_ino(ent, &ino))
			continue;
		if (!bpf_map_update_elem(c->inode_fd, &ino, &one, BPF_NOEXIST))
			c->inodes++;
	}
	closedir(dir);
	return 0;
}

static void tick(void *ctx)
{
	struct rtt_ctx *c = ctx;

	if (c->o->pid)
		pid_scan(c);
}

static int cmp_row(const void *a, const void *b)
{
	return memcmp(&((const struct rtt_row *)a)->key, &((const struct rtt_row *)b)->key,
		      sizeof(struct nacct_rtt_key));
}

/* the entries of generation g, merged over CPUs and deleted */
static int read_gen(struct rtt_ctx *c, __u8 g, struct rtt_row **rows, size_t *n)
{
	int fd = bpf_map__fd(c->skel->maps.nacct_rtt_hist);
	struct nacct_rtt_key k, next, *keys = NULL;
	struct nacct_rtt_val *pc = NULL;
	struct rtt_row *r = NULL;
	size_t nk = 0, cap = 0, i;
	int cpu, j, err = 0, first = 1;

	*rows = NULL;
	*n = 0;
	while (!bpf_map_get_next_key(fd, first ? NULL : &k, &next)) {
		first = 0;
		k = next;
		if (k.gen != g)
			continue;
		if (nk == cap) {
			void *t = realloc(keys, (cap = cap ? cap * 2 : 64) * sizeof(*keys));

			if (!t) {
				err = -ENOMEM;
				goto out;
			}
			keys = t;
		}
		keys[nk++] = k;
	}
	pc = calloc(c->ncpu, sizeof(*pc));
	r = calloc(nk ? nk : 1, sizeof(*r));
	if (!pc || !r) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nk; i++) {
		struct rtt_row *row = &r[*n];

		if (bpf_map_lookup_elem(fd, &keys[i], pc))
			continue;
		bpf_map_delete_elem(fd, &keys[i]);
		row->key = keys[i];
		row->key.gen = 0;
		row->val.min = ~0ULL;
		for (cpu = 0; cpu < c->ncpu; cpu++) {
			const struct nacct_rtt_val *v = &pc[cpu];

			if (!v->count)
				continue; /* other CPUs' slots start zeroed */
			row->val.count += v->count;
			row->val.sum += v->sum;
			if (v->min < row->val.min)
				row->val.min = v->min;
			if (v->max > row->val.max)
				row->val.max = v->max;
			for (j = 0; j < NACCT_LOG2_SLOTS; j++)
				row->val.hist[j] += v->hist[j];
		}
		if (row->val.count)
			(*n)++;
	}
	qsort(r, *n, sizeof(*r), cmp_row);
	*rows = r;
	r = NULL;
out:
	free(keys);
	free(pc);
	free(r);
	return err;
}

static const char *key_str(int by, const struct nacct_rtt_key *k, char *buf, size_t len)
{
	switch (by) {
	case NACCT_RTT_BY_RADDR:
	case NACCT_RTT_BY_LADDR:
		return nacct_addr_str(k->addr, k->family, buf, len);
	case NACCT_RTT_BY_RPORT:
	case NACCT_RTT_BY_LPORT:
		snprintf(buf, len, "%u", ntohs(k->port));
		return buf;
	}
	snprintf(buf, len, "all");
	return buf;
}

static void print_rows(const struct rtt_opts *o, double secs, __u64 seq, const struct rtt_row *r,
		       size_t n)
{
	const char *unit = o->ms ? "ms" : "us", *uname = o->ms ? "msecs" : "usecs";
	char hms[16], rfc[48], kb[64];
	size_t i;

	nacct_tool_now(hms, sizeof(hms), rfc, sizeof(rfc));
	if (!o->json)
		printf("\n%s\n", hms);
	for (i = 0; i < n; i++) {
		const struct nacct_rtt_val *v = &r[i].val;
		double avg = (double)v->sum / v->count;

		key_str(o->by, &r[i].key, kb, sizeof(kb));
		if (o->json) {
			printf("{\"time\":\"%s\",\"seq\":%llu,\"interval_s\":%.3f,\"unit\":\"%s\","
			       "\"by\":\"%s\",\"key\":\"%s\",\"count\":%llu,\"avg\":%.3f,\"min\":%llu,"
			       "\"max\":%llu",
			       rfc, (unsigned long long)seq, secs, unit, nacct_rtt_by_names[o->by], kb,
			       (unsigned long long)v->count, avg, (unsigned long long)v->min,
			       (unsigned long long)v->max);
			nacct_hist_json(stdout, "hist", v->hist);
			puts("}");
			continue;
		}
		if (o->by)
			printf("\n%s = %s\n", nacct_rtt_by_names[o->by], kb);
		printf("count %llu, avg %.1f %s, min %llu, max %llu\n", (unsigned long long)v->count,
		       avg, uname, (unsigned long long)v->min, (unsigned long long)v->max);
		nacct_hist_print(stdout, v->hist, uname);
	}
	if (!o->json && !n)
		printf("no RTT samples\n");
	fflush(stdout);
}

/* one interval's end: flip the generation, read and print the old one */
static int rtt_interval(void *ctx, double secs, __u64 seq)
{
	struct rtt_ctx *c = ctx;
	struct rtt_row *rows = NULL;
	size_t n;
	int err = read_gen(c, nacct_tool_flip_gen(&c->skel->bss->gen), &rows, &n);

	if (err) {
		pr_warn("rtt: cannot read the histograms: %s\n", strerror(-err));
		return NACCT_EXIT_FAIL;
	}
	print_rows(c->o, secs, seq, rows, n);
	free(rows);
	return 0;
}

int cmd_rtt(struct rtt_opts *o)
{
	struct rtt_ctx c = { .o = o, .inode_fd = -1 };
	double interval;
	__u64 count;
	int err, ret = NACCT_EXIT_FAIL, first = 0, ifindex = 0;
	char *end;
	struct stat st;

	/* [IFACE] [INTERVAL [COUNT]]: a leading non-number is the interface */
	if (o->a.argc >= 1) {
		strtod(o->a.argv[0], &end);
		if (*end || end == o->a.argv[0])
			first = 1;
	}
	if (first) {
		ifindex = nacct_ifindex(o->a.argv[0]);
		if (!ifindex)
			return NACCT_EXIT_USAGE;
	}
	err = nacct_tool_interval("rtt", &o->a, first, &interval, &count);
	if (err)
		return err;
	if (o->pid && kill((pid_t)o->pid, 0) && errno == ESRCH)
		return nacct_usage_error("rtt: no such process: %llu", (unsigned long long)o->pid);
	err = nacct_need_bpf();
	if (err)
		return err;
	c.ncpu = libbpf_num_possible_cpus();
	if (c.ncpu <= 0)
		return NACCT_EXIT_FAIL;
	c.skel = nacct_rtt__open();
	if (!c.skel) {
		pr_warn("rtt: cannot open the RTT program: %s\n", strerror(errno));
		return NACCT_EXIT_FAIL;
	}
	c.skel->rodata->by = o->by;
	c.skel->rodata->in_ms = o->ms;
	c.skel->rodata->f_lport = o->lport;
	c.skel->rodata->f_rport = o->rport;
	c.skel->rodata->f_inodes = !!o->pid;
	if (ifindex) {
		if (stat("/proc/self/ns/net", &st)) {
			pr_warn("rtt: cannot read this network namespace: %s\n", strerror(errno));
			goto out;
		}
		c.skel->rodata->f_netns = st.st_ino;
		c.skel->rodata->f_ifindex = ifindex;
	}
	err = nacct_rtt__load(c.skel);
	if (err) {
		pr_warn("rtt: cannot load the RTT program (tcp:tcp_probe): %s\n", strerror(-err));
		goto out;
	}
	c.inode_fd = bpf_map__fd(c.skel->maps.nacct_rtt_inodes);
	if (o->pid && pid_scan(&c)) {
		ret = nacct_usage_error("rtt: cannot read the sockets of process %llu",
					(unsigned long long)o->pid);
		goto out;
	}
	err = nacct_rtt__attach(c.skel);
	if (err) {
		pr_warn("rtt: cannot attach to tcp:tcp_probe: %s\n", strerror(-err));
		goto out;
	}
	ret = nacct_tool_loop("Tracing TCP RTT", interval, count, tick, rtt_interval, &c);
	if (!ret && c.skel->bss->lost)
		pr_warn("rtt: %llu samples lost (histogram map full)\n",
			(unsigned long long)c.skel->bss->lost);
out:
	nacct_rtt__destroy(c.skel);
	return ret;
}
