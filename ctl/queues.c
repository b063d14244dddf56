// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nacct queues IFACE [INTERVAL [COUNT]] [--json]: per RX and TX queue,
 * packets, bytes, average size and netqtop's size buckets, from the
 * attachment's nacct_queues (maps/queues.bpf.h): RX rows counted by the
 * data path, TX rows by tc/nacct_txq.bpf.c.  Without INTERVAL the counts
 * since the attach, once; with it, each interval's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <bpf/bpf.h>
#include "nacct.h"
#include "tools.h"
#include "../lib/log.h"
#include "../maps/maps.h"
#include "../maps/pins.h"

/* netqtop's buckets, inclusive byte ranges (the last one open) */
static const struct {
	const char *label;
	__u64 lo, hi;
} qsizes[NACCT_QSIZES] = {
	{ "0-64", 0, 64 },
	{ "65-512", 65, 512 },
	{ "513-2K", 513, 2048 },
	{ "2K-16K", 2049, 16384 },
	{ "16K-64K", 16385, 65535 },
};

/* the queues the device has in use (ethtool channels), 0 unknown */
static void dev_queues(const char *ifname, unsigned int *rx, unsigned int *tx)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	*rx = *tx = 0;
	if (fd < 0)
		return;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ch;
	if (ioctl(fd, SIOCETHTOOL, &ifr) == 0) {
		*rx = ch.rx_count + ch.combined_count;
		*tx = ch.tx_count + ch.combined_count;
	}
	close(fd);
}


static double avg(const struct nacct_queue_val *v)
{
	return v->packets ? (double)v->bytes / v->packets : 0;
}

static void row_text(const char *name, const struct nacct_queue_val *v, double secs)
{
	int i;

	printf("  %-6s %9.1f", name, avg(v));
	for (i = 0; i < NACCT_QSIZES; i++)
		printf(" %10llu", (unsigned long long)v->sizes[i]);
	printf(" %12llu %14llu", (unsigned long long)v->packets, (unsigned long long)v->bytes);
	if (secs > 0)
		printf(" %10.0f %12.0f", v->packets / secs, v->bytes / secs);
	printf("\n");
}

static void row_json(const struct nacct_queue_val *v, double secs)
{
	int i;

	printf("\"packets\":%llu,\"bytes\":%llu,\"avg_size\":%.1f", (unsigned long long)v->packets,
	       (unsigned long long)v->bytes, avg(v));
	if (secs > 0)
		printf(",\"pps\":%.1f,\"bps\":%.1f", v->packets / secs, v->bytes * 8 / secs);
	printf(",\"sizes\":[");
	for (i = 0; i < NACCT_QSIZES; i++)
		printf("%s{\"lo\":%llu,\"hi\":%llu,\"packets\":%llu}", i ? "," : "",
		       (unsigned long long)qsizes[i].lo, (unsigned long long)qsizes[i].hi,
		       (unsigned long long)v->sizes[i]);
	printf("]");
}

/*
 * One direction: the queues the device has in use (@nq, 0 unknown) and
 * any other queue with packets, the "other" row when it has any, the
 * total.
 */
static void print_dir(int json, const char *dir, const struct nacct_queue_val *rows,
		      unsigned int nq, double secs, int have)
{
	struct nacct_queue_val t = { 0 };
	char name[16];
	int q, first = 1;

	if (json)
		printf(",\"%s\":[", dir);
	else
		printf(" %s%s\n  %-6s %9s %10s %10s %10s %10s %10s %12s %14s%s\n",
		       dir[0] == 'r' ? "RX" : "TX",
		       have ? "" : " (not counted: the kernel refused the TX queue program)", "QUEUE",
		       "AVG_SIZE", qsizes[0].label, qsizes[1].label, qsizes[2].label,
		       qsizes[3].label, qsizes[4].label, "PACKETS", "BYTES",
		       secs > 0 ? "        PPS          BPS" : "");
	for (q = 0; q < NACCT_QUEUES; q++) {
		if ((unsigned int)q >= nq && !rows[q].packets)
			continue;
		nacct_u64s_add(&t, &rows[q], sizeof(t));
		if (json) {
			printf("%s{\"queue\":%d,", first ? "" : ",", q);
			row_json(&rows[q], secs);
			printf("}");
		} else {
			snprintf(name, sizeof(name), "%d", q);
			row_text(name, &rows[q], secs);
		}
		first = 0;
	}
	nacct_u64s_add(&t, &rows[NACCT_QUEUE_OTHER], sizeof(t));
	if (json) {
		printf("],\"%s_other\":{", dir);
		row_json(&rows[NACCT_QUEUE_OTHER], secs);
		printf("},\"%s_total\":{", dir);
		row_json(&t, secs);
		printf("}");
		return;
	}
	if (rows[NACCT_QUEUE_OTHER].packets)
		row_text("other", &rows[NACCT_QUEUE_OTHER], secs);
	row_text("total", &t, secs);
}

static void print_queues(const struct json_opts *o, const char *ifname,
			 const struct nacct_queue_val *cur, const struct nacct_queue_val *prev,
			 double secs, __u64 seq, int txq_on)
{
	struct nacct_queue_val d[NACCT_QUEUE_KEYS];
	unsigned int nrx, ntx;
	char hms[16], rfc[40];
	__u32 k;

	for (k = 0; k < NACCT_QUEUE_KEYS; k++)
		nacct_u64s_sub(&d[k], &cur[k], prev ? &prev[k] : NULL, sizeof(d[k]));
	dev_queues(ifname, &nrx, &ntx);
	nacct_tool_now(hms, sizeof(hms), rfc, sizeof(rfc));
	if (o->json) {
		printf("{\"time\":\"%s\",\"ifname\":", rfc);
		json_str(stdout, ifname);
		if (prev)
			printf(",\"seq\":%llu,\"interval_s\":%.3f", (unsigned long long)seq, secs);
		printf(",\"tx_counted\":%s", txq_on ? "true" : "false");
	} else {
		printf("%s %s%s\n", hms, ifname, prev ? "" : " (since attach)");
	}
	print_dir(o->json, "rx", &d[NACCT_DIR_RX * NACCT_QUEUE_ROWS], nrx, secs, 1);
	print_dir(o->json, "tx", &d[NACCT_DIR_TX * NACCT_QUEUE_ROWS], ntx, secs, txq_on);
	printf(o->json ? "}\n" : "\n");
	fflush(stdout);
}

/* the state of a run, for each interval's end */
struct queues_run {
	const struct json_opts *o;
	const char *ifname;
	int fd, txq_on;
	__u32 slot; /* a shared domain's member's rows */
	struct nacct_queue_val *cur, *prev;
};

static int queues_interval(void *ctx, double secs, __u64 seq)
{
	struct queues_run *r = ctx;
	struct nacct_queue_val *tmp;
	int err = nacct_read_queue_rows(r->fd, r->slot, r->cur);

	if (err) {
		pr_warn("%s: cannot read the queue counters (detached?): %s\n", r->ifname,
			strerror(-err));
		return NACCT_EXIT_FAIL;
	}
	print_queues(r->o, r->ifname, r->cur, r->prev, secs, seq, r->txq_on);
	tmp = r->prev;
	r->prev = r->cur;
	r->cur = tmp;
	return 0;
}

int cmd_queues(struct json_opts *o)
{
	struct queues_run r = { .o = o };
	struct nacct_iface_maps m;
	double interval;
	__u64 count;
	int err, ret = NACCT_EXIT_FAIL;

	if (o->a.argc < 1)
		return nacct_usage_error("queues: expected IFACE [INTERVAL [COUNT]]");
	r.ifname = o->a.argv[0];
	err = nacct_tool_interval("queues", &o->a, 1, &interval, &count);
	if (err)
		return err;
	err = nacct_need_bpf();
	if (err)
		return err;
	err = nacct_open_attached(r.ifname, &m);
	if (err)
		return err;
	r.txq_on = m.meta_val.txq_on;
	r.fd = m.queues;
	r.slot = m.slot;
	r.cur = calloc(NACCT_QUEUE_KEYS, sizeof(*r.cur));
	r.prev = calloc(NACCT_QUEUE_KEYS, sizeof(*r.prev));
	if (!r.cur || !r.prev)
		goto out;
	/* since the attach: once; else the first interval's base */
	err = nacct_read_queue_rows(r.fd, r.slot, r.prev);
	if (err) {
		pr_warn("%s: cannot read the queue counters: %s\n", r.ifname, strerror(-err));
		goto out;
	}
	if (interval <= 0) {
		print_queues(o, r.ifname, r.prev, NULL, 0, 0, r.txq_on);
		ret = 0;
		goto out;
	}
	ret = nacct_tool_loop(NULL, interval, count, NULL, queues_interval, &r);
out:
	nacct_iface_close(&m);
	free(r.cur);
	free(r.prev);
	return ret;
}
