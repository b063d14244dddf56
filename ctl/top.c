// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nacct top: a live view of the pinned counters, like iftop/tcptop.
 *
 * Every refresh reads the whole flow map (batched), the subnet counters
 * and the interface totals, and turns the difference to the previous read
 * into rates (bits and packets per second over the measured interval).
 * The same per-refresh deltas serve every view: flows, subnets, ports
 * (grouped by protocol and responder port) and protocols.  On a terminal
 * the view is full-screen (ncurses) with single-key commands; otherwise it
 * prints one block (or JSON lines with --json) per refresh.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <curses.h>
#include <bpf/bpf.h>

#include "nacct.h"
#include "../lib/log.h"
#include "../maps/maps.h"
#include "../lib/fields.h"
#include "../lib/side.h"
#include "../lib/snapshot.h"

const char *const nacct_top_by_names[] = { "flows", "subnets", "ports", "protocols", "tunnel",
					     NULL };
enum { BY_FLOWS = 0, BY_SUBNETS, BY_PORTS, BY_PROTOCOLS, BY_TUNNEL, BY_MAX };

static const char *const sort_names[] = { "rate", "pps", "total", "name" };
enum { SORT_RATE = 0, SORT_PPS, SORT_TOTAL, SORT_NAME, SORT_MAX };

struct top_iface {
	char name[32];
	struct nacct_iface_maps m;
	struct nacct_flow *prev; /* sorted by key */
	size_t n_prev;
	struct nacct_subnet_stats *scur; /* last read, since attach */
	struct nacct_subnet_stats *sdel; /* last interval */
	size_t n_scur;
	struct nacct_subnet *subs;
	size_t n_subs;
	struct nacct_stats st_prev, st_cur;
	__u64 since_ns; /* side records older than the attachment are not its */
	struct nacct_tuns tuns; /* the tunnels of the last read */
};

/* one flow of the last refresh with what it did in the interval */
struct fdelta {
	struct nacct_flow f;
	__u64 dp[NACCT_DIR_MAX], db[NACCT_DIR_MAX];
	__u64 drops, retrans, ddrops, dretrans; /* side programs: total, interval */
	int ifi;
};

/* one line of the view */
struct row {
	int ifi;
	char proto[12];
	char a[64];  /* flow: src:port; subnet: CIDR; port: port; protocol: "" */
	char b[64];  /* flow: dst:port */
	__u64 dp[NACCT_DIR_MAX], db[NACCT_DIR_MAX]; /* in the interval */
	__u64 packets, bytes;                         /* since attach */
	__u64 drops, retrans, ddrops, dretrans;       /* side programs */
	int n; /* flows merged into this row */
};

struct top {
	struct top_opts *cfg;
	struct top_iface *ifs;
	size_t n_ifs;
	struct fdelta *fd;
	size_t n_fd;
	struct row *rows;
	size_t n_rows;
	double dt; /* seconds of the last interval */
	struct nacct_probe_view pv;  /* side records of the last refresh */
	int by, sort, reverse, paused, refreshes, have_probes;
	int curses, color;
	char stamp[40];
};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_key(const void *a, const void *b)
{
	return memcmp(&((const struct nacct_flow *)a)->key, &((const struct nacct_flow *)b)->key,
		      sizeof(struct nacct_flow_key));
}

static __u64 delta(__u64 cur, __u64 prev)
{
	/* a counter that went back belongs to a flow that was removed and
	 * came again: all of it is new */
	return cur >= prev ? cur - prev : cur;
}

/*
 * Drops and retransmits from the side programs (NACCT_PIN_ROOT/:probes),
 * when they are attached: the same join as `nacct flows` (lib/side.h),
 * so DROPS and RETRANS are the flow's `drops` and `retransmits`; the
 * interval columns are what the last refresh added.
 */
static void join_probes(struct top *t, int deltas)
{
	struct nacct_probe_view cur;
	struct nacct_side sc, sp;
	size_t i;

	if (nacct_probe_view_load(&cur)) {
		t->have_probes = 0;
		nacct_probe_view_free(&t->pv);
		return;
	}
	for (i = 0; deltas && i < t->n_fd; i++) {
		struct fdelta *x = &t->fd[i];
		int tcp = x->f.key.proto == 6;
		__u64 rc, rp;

		cur.since_ns = t->pv.since_ns = t->ifs[x->ifi].since_ns;
		nacct_probe_view_side(&cur, &x->f.key, &sc);
		nacct_probe_view_side(&t->pv, &x->f.key, &sp);
		x->drops = sc.drops;
		x->ddrops = delta(sc.drops, sp.drops);
		/* retransmits are a TCP socket's: other protocols have none */
		rc = tcp && sc.tcp ? sc.tcp->retrans[0] + sc.tcp->retrans[1] : 0;
		rp = tcp && sp.tcp ? sp.tcp->retrans[0] + sp.tcp->retrans[1] : 0;
		x->retrans = rc;
		x->dretrans = delta(rc, rp);
	}
	nacct_probe_view_free(&t->pv);
	t->pv = cur;
	t->have_probes = 1;
}

/* read every interface once; with deltas != 0 keep the interval's deltas */
static int top_sample(struct top *t, int deltas)
{
	struct fdelta *fd = NULL, *tmp;
	size_t n_fd = 0, i, j;
	int err = 0, d;

	for (i = 0; i < t->n_ifs; i++) {
		struct top_iface *ti = &t->ifs[i];
		struct nacct_flow *cur;
		struct nacct_subnet_stats *scur;
		struct nacct_snapshot snap;
		size_t n, ns;

		err = nacct_snapshot(&ti->m, NACCT_SNAP_FLOWS | NACCT_SNAP_SUBNETS, &snap);
		if (err) {
			nacct_snapshot_free(&snap);
			pr_warn("%s: cannot read counters: %s (detached?)\n", ti->name,
				strerror(-err));
			goto out;
		}
		/* the flows and subnet counters change hands: the snapshot keeps the rest */
		cur = snap.fl, n = snap.n_fl, snap.fl = NULL;
		scur = snap.sstats, ns = snap.n_sstats, snap.sstats = NULL;
		nacct_tuns_free(&ti->tuns);
		ti->tuns = snap.tuns;
		memset(&snap.tuns, 0, sizeof(snap.tuns));
		ti->st_prev = ti->st_cur;
		ti->st_cur = snap.t.st;
		if (!deltas)
			ti->st_prev = ti->st_cur;
		nacct_snapshot_free(&snap);
		qsort(cur, n, sizeof(*cur), cmp_key);
		if (deltas && n) {
			tmp = realloc(fd, (n_fd + n) * sizeof(*fd));
			if (!tmp) {
				free(cur);
				free(scur);
				err = -ENOMEM;
				goto out;
			}
			fd = tmp;
			for (j = 0; j < n; j++) {
				struct fdelta *x = &fd[n_fd++];
				const struct nacct_flow *p;

				p = bsearch(&cur[j], ti->prev, ti->n_prev, sizeof(*cur), cmp_key);
				x->f = cur[j];
				x->ifi = i;
				for (d = 0; d < NACCT_DIR_MAX; d++) {
					x->dp[d] = delta(cur[j].val.packets[d],
							 p ? p->val.packets[d] : 0);
					x->db[d] = delta(cur[j].val.bytes[d], p ? p->val.bytes[d] : 0);
				}
			}
		}
		free(ti->prev);
		ti->prev = cur;
		ti->n_prev = n;

		free(ti->sdel);
		ti->sdel = calloc(ns ? ns : 1, sizeof(*ti->sdel));
		for (j = 0; ti->sdel && j < ns; j++)
			for (d = 0; d < NACCT_DIR_MAX; d++) {
				int had = ti->scur && j < ti->n_scur;

				ti->sdel[j].packets[d] = delta(scur[j].packets[d],
							       had ? ti->scur[j].packets[d] : 0);
				ti->sdel[j].bytes[d] = delta(scur[j].bytes[d],
							     had ? ti->scur[j].bytes[d] : 0);
			}
		free(ti->scur);
		ti->scur = scur;
		ti->n_scur = ns;
		if (!ti->sdel) {
			err = -ENOMEM;
			goto out;
		}
	}
out:
	if (err) {
		free(fd);
		return err;
	}
	if (deltas) {
		free(t->fd);
		t->fd = fd;
		t->n_fd = n_fd;
	}
	join_probes(t, deltas);
	return 0;
}

/* src = the endpoint that sent the first packet seen (as in nacct flows) */
static void flow_ends(const struct nacct_flow *f, char *a, size_t alen, char *b, size_t blen,
		      __u16 *dport)
{
	const struct nacct_flow_key *k = &f->key;
	const __u8 *src = k->lo_addr, *dst = k->hi_addr;
	__u16 sp = ntohs(k->lo_port), dp = ntohs(k->hi_port);
	char sa[48], da[48];
	int ports = k->proto == 6 || k->proto == 17 || k->proto == 132 || k->proto == 136;

	if (f->val.first_dir) {
		src = k->hi_addr, dst = k->lo_addr;
		sp = ntohs(k->hi_port), dp = ntohs(k->lo_port);
	}
	nacct_addr_str(src, k->family, sa, sizeof(sa));
	nacct_addr_str(dst, k->family, da, sizeof(da));
	if (!ports) {
		snprintf(a, alen, "%s", sa);
		snprintf(b, blen, "%s", da);
	} else if (k->family == NACCT_AF_INET6) {
		snprintf(a, alen, "[%s]:%u", sa, sp);
		snprintf(b, blen, "[%s]:%u", da, dp);
	} else {
		snprintf(a, alen, "%s:%u", sa, sp);
		snprintf(b, blen, "%s:%u", da, dp);
	}
	*dport = ports ? dp : 0;
}

static int cmp_group(const void *x, const void *y)
{
	const struct row *a = x, *b = y;
	int c = a->ifi - b->ifi;

	if (!c)
		c = strcmp(a->proto, b->proto);
	if (!c)
		c = strcmp(a->a, b->a);
	return c;
}

static int g_sort, g_reverse;

static int cmp_row(const void *x, const void *y)
{
	const struct row *a = x, *b = y;
	__u64 va, vb;
	int c;

	switch (g_sort) {
	case SORT_PPS:
		va = a->dp[0] + a->dp[1], vb = b->dp[0] + b->dp[1];
		break;
	case SORT_TOTAL:
		va = a->bytes, vb = b->bytes;
		break;
	case SORT_NAME:
		c = cmp_group(a, b);
		if (!c)
			c = strcmp(a->b, b->b);
		return g_reverse ? -c : c;
	default:
		va = a->db[0] + a->db[1], vb = b->db[0] + b->db[1];
		break;
	}
	/* largest first; ties by cumulative bytes, then by name: a stable screen */
	c = va > vb ? -1 : va < vb;
	if (!c)
		c = a->bytes > b->bytes ? -1 : a->bytes < b->bytes;
	if (!c)
		c = cmp_group(a, b);
	return g_reverse ? -c : c;
}

/* turn the last refresh's deltas into the rows of the current view */
static int build_rows(struct top *t)
{
	size_t n = 0, i, j, cap = 0;
	struct row *r;
	int d;

	free(t->rows);
	t->rows = NULL;
	t->n_rows = 0;
	if (t->by == BY_SUBNETS) {
		for (i = 0; i < t->n_ifs; i++)
			cap += t->ifs[i].n_scur;
	} else {
		cap = t->n_fd;
	}
	r = calloc(cap ? cap : 1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	if (t->by == BY_SUBNETS) {
		for (i = 0; i < t->n_ifs; i++) {
			struct top_iface *ti = &t->ifs[i];

			for (j = 0; j < ti->n_scur; j++) {
				const char *label = j ? "?" : "other";
				size_t k;
				__u64 p = 0;

				for (k = 0; k < ti->n_subs; k++)
					if (ti->subs[k].id == j)
						label = ti->subs[k].cidr;
				for (d = 0; d < NACCT_DIR_MAX; d++)
					p += ti->scur[j].packets[d];
				/* configured subnets always; "other" once it saw traffic */
				if (!j && !p)
					continue;
				r[n].ifi = i;
				snprintf(r[n].a, sizeof(r[n].a), "%s", label);
				for (d = 0; d < NACCT_DIR_MAX; d++) {
					r[n].dp[d] = ti->sdel ? ti->sdel[j].packets[d] : 0;
					r[n].db[d] = ti->sdel ? ti->sdel[j].bytes[d] : 0;
					r[n].packets += ti->scur[j].packets[d];
					r[n].bytes += ti->scur[j].bytes[d];
				}
				r[n].n = 1;
				n++;
			}
		}
		goto sort;
	}
	for (i = 0; i < t->n_fd; i++) {
		const struct fdelta *x = &t->fd[i];
		char pbuf[8];
		__u16 dport;

		r[n].ifi = x->ifi;
		snprintf(r[n].proto, sizeof(r[n].proto), "%s",
			 nacct_proto_name(x->f.key.proto, pbuf, sizeof(pbuf)));
		flow_ends(&x->f, r[n].a, sizeof(r[n].a), r[n].b, sizeof(r[n].b), &dport);
		if (t->by == BY_PORTS) {
			if (dport)
				snprintf(r[n].a, sizeof(r[n].a), "%u", dport);
			else
				snprintf(r[n].a, sizeof(r[n].a), "-");
			r[n].b[0] = '\0';
		} else if (t->by == BY_PROTOCOLS) {
			r[n].a[0] = r[n].b[0] = '\0';
		} else if (t->by == BY_TUNNEL) {
			/* per tunnel (type, id, outer endpoints); "-": not tunnelled */
			const struct nacct_tun *tu =
				nacct_tuns_find(&t->ifs[x->ifi].tuns, x->f.key.tunnel);

			if (!x->f.key.tunnel)
				snprintf(r[n].a, sizeof(r[n].a), "-");
			else if (!tu)
				snprintf(r[n].a, sizeof(r[n].a), "unknown");
			else
				nacct_tun_label_long(&tu->key, r[n].a, sizeof(r[n].a));
			r[n].b[0] = r[n].proto[0] = '\0';
		}
		for (d = 0; d < NACCT_DIR_MAX; d++) {
			r[n].dp[d] = x->dp[d];
			r[n].db[d] = x->db[d];
			r[n].packets += x->f.val.packets[d];
			r[n].bytes += x->f.val.bytes[d];
		}
		r[n].drops = x->drops;
		r[n].retrans = x->retrans;
		r[n].ddrops = x->ddrops;
		r[n].dretrans = x->dretrans;
		r[n].n = 1;
		n++;
	}
	if (t->by == BY_PORTS || t->by == BY_PROTOCOLS || t->by == BY_TUNNEL) {
		size_t m = 0;

		qsort(r, n, sizeof(*r), cmp_group);
		for (i = 0; i < n; i++) {
			if (m && !cmp_group(&r[m - 1], &r[i])) {
				struct row *o = &r[m - 1];

				for (d = 0; d < NACCT_DIR_MAX; d++) {
					o->dp[d] += r[i].dp[d];
					o->db[d] += r[i].db[d];
				}
				o->packets += r[i].packets;
				o->bytes += r[i].bytes;
				o->drops += r[i].drops;
				o->retrans += r[i].retrans;
				o->ddrops += r[i].ddrops;
				o->dretrans += r[i].dretrans;
				o->n++;
			} else {
				r[m++] = r[i];
			}
		}
		n = m;
	}
sort:
	g_sort = t->sort;
	g_reverse = t->reverse;
	qsort(r, n, sizeof(*r), cmp_row);
	t->rows = r;
	t->n_rows = n;
	return 0;
}

/* ---- the numbers of a row or of the totals --------------------------------- */

struct rates {
	double bps[NACCT_DIR_MAX], pps[NACCT_DIR_MAX];
};

static void rates_of(const struct top *t, const __u64 *dp, const __u64 *db, struct rates *r)
{
	int d;

	for (d = 0; d < NACCT_DIR_MAX; d++) {
		r->bps[d] = t->dt > 0 ? db[d] * 8.0 / t->dt : 0;
		r->pps[d] = t->dt > 0 ? dp[d] / t->dt : 0;
	}
}

static void totals_of(const struct top *t, __u64 *dp, __u64 *db, __u64 *packets, __u64 *bytes,
		      __u64 *other)
{
	size_t i;
	int d;

	memset(dp, 0, 2 * sizeof(*dp));
	memset(db, 0, 2 * sizeof(*db));
	*packets = *bytes = *other = 0;
	for (i = 0; i < t->n_ifs; i++) {
		const struct nacct_stats *c = &t->ifs[i].st_cur, *p = &t->ifs[i].st_prev;

		for (d = 0; d < NACCT_DIR_MAX; d++) {
			dp[d] += delta(c->packets[d], p->packets[d]);
			db[d] += delta(c->bytes[d], p->bytes[d]);
			*packets += c->packets[d];
			*bytes += c->bytes[d];
			*other += c->overflow_packets[d] + c->malformed_packets[d] +
				  c->nonip_packets[d];
		}
	}
}

/* the column titles top shares with the flow record: from the field table */
static const char *col(const char *field)
{
	const struct nacct_field *f = nacct_flow_field(field);

	return f && f->col ? f->col : field;
}

static const char *key_headers(int by, const char **a, const char **b)
{
	switch (by) {
	case BY_SUBNETS:
		*a = "SUBNET", *b = NULL;
		return NULL;
	case BY_PORTS:
		*a = "PORT", *b = NULL;
		return col("proto");
	case BY_PROTOCOLS:
		*a = *b = NULL;
		return col("proto");
	case BY_TUNNEL:
		*a = col("tunnel_label"), *b = NULL;
		return NULL;
	default:
		*a = col("src"), *b = col("dst");
		return col("proto");
	}
}

/* drops/retransmits columns: only with the side programs, and not per subnet */
static int side_cols(const struct top *t)
{
	return t->have_probes && t->by != BY_SUBNETS;
}

/* ---- plain text and JSON: when stdout is not a terminal --------------------- */

static void print_plain(struct top *t)
{
	const char *ph, *ah, *bh;
	__u64 dp[2], db[2], tp, tb, other;
	size_t i, lim = t->cfg->rows;
	int wa = 6, wb = 6, wi = 5;
	char s1[24], s2[24], s3[24], s4[24], s5[24];
	struct rates rt;

	if (lim > t->n_rows)
		lim = t->n_rows;
	totals_of(t, dp, db, &tp, &tb, &other);
	rates_of(t, dp, db, &rt);
	ph = key_headers(t->by, &ah, &bh);
	if (t->cfg->json) {
		printf("{\"type\":\"total\",\"time\":\"%s\",\"by\":\"%s\",\"interval\":%.3f,"
		       "\"rx_bps\":%.0f,\"tx_bps\":%.0f,\"rx_pps\":%.1f,\"tx_pps\":%.1f,"
		       "\"interval_packets\":%llu,\"interval_bytes\":%llu,\"packets\":%llu,"
		       "\"bytes\":%llu,\"not_in_flows\":%llu}\n",
		       t->stamp, nacct_top_by_names[t->by], t->dt, rt.bps[0], rt.bps[1], rt.pps[0],
		       rt.pps[1], (unsigned long long)(dp[0] + dp[1]),
		       (unsigned long long)(db[0] + db[1]), (unsigned long long)tp,
		       (unsigned long long)tb, (unsigned long long)other);
		for (i = 0; i < lim; i++) {
			const struct row *r = &t->rows[i];

			rates_of(t, r->dp, r->db, &rt);
			printf("{\"type\":\"row\",\"time\":\"%s\",\"ifname\":", t->stamp);
			json_str(stdout, t->ifs[r->ifi].name);
			printf(",\"by\":\"%s\",\"interval\":%.3f", nacct_top_by_names[t->by], t->dt);
			if (ph)
				printf(",\"proto\":\"%s\"", r->proto);
			if (ah) {
				printf(",\"%s\":", t->by == BY_FLOWS	   ? "src" :
						   t->by == BY_PORTS	   ? "port" :
						   t->by == BY_TUNNEL ? "tunnel" :
									"subnet");
				json_str(stdout, r->a);
			}
			if (bh) {
				printf(",\"dst\":");
				json_str(stdout, r->b);
			}
			if (side_cols(t))
				printf(",\"drops\":%llu,\"retrans\":%llu,\"interval_drops\":%llu,"
				       "\"interval_retrans\":%llu",
				       (unsigned long long)r->drops, (unsigned long long)r->retrans,
				       (unsigned long long)r->ddrops,
				       (unsigned long long)r->dretrans);
			printf(",\"rx_bps\":%.0f,\"tx_bps\":%.0f,\"rx_pps\":%.1f,\"tx_pps\":%.1f,"
			       "\"interval_packets\":%llu,\"interval_bytes\":%llu,\"packets\":%llu,"
			       "\"bytes\":%llu,\"flows\":%d}\n",
			       rt.bps[0], rt.bps[1], rt.pps[0], rt.pps[1],
			       (unsigned long long)(r->dp[0] + r->dp[1]),
			       (unsigned long long)(r->db[0] + r->db[1]),
			       (unsigned long long)r->packets, (unsigned long long)r->bytes, r->n);
		}
		fflush(stdout);
		return;
	}
	for (i = 0; i < lim; i++) {
		int l = strlen(t->rows[i].a), m = strlen(t->rows[i].b),
		    k = strlen(t->ifs[t->rows[i].ifi].name);

		wa = l > wa ? l : wa;
		wb = m > wb ? m : wb;
		wi = k > wi ? k : wi;
	}
	printf("%s  nacct top  by %s  sort %s  interval %.2fs\n", t->stamp,
	       nacct_top_by_names[t->by], sort_names[t->sort], t->dt);
	printf("TOTAL  rx %s %s  tx %s %s  packets %llu  bytes %s  not-in-flows %llu\n",
	       nacct_human_rate(rt.bps[0], "b/s", s1, sizeof(s1)),
	       nacct_human_rate(rt.pps[0], "p/s", s2, sizeof(s2)),
	       nacct_human_rate(rt.bps[1], "b/s", s3, sizeof(s3)),
	       nacct_human_rate(rt.pps[1], "p/s", s4, sizeof(s4)), (unsigned long long)tp,
	       nacct_human(tb, s5, sizeof(s5)), (unsigned long long)other);
	printf("%-*s", wi, "IFACE");
	if (ph)
		printf(" %-5s", ph);
	if (ah)
		printf(" %-*s", wa, ah);
	if (bh)
		printf(" %-*s", wb, bh);
	printf(" %10s %10s %9s %9s %12s %8s", "RX_b/s", "TX_b/s", "RX_p/s", "TX_p/s",
	       col("packets"), col("bytes"));
	if (side_cols(t))
		printf(" %7s %7s", col("drops"), col("retransmits"));
	printf("\n");
	for (i = 0; i < lim; i++) {
		const struct row *r = &t->rows[i];

		rates_of(t, r->dp, r->db, &rt);
		printf("%-*s", wi, t->ifs[r->ifi].name);
		if (ph)
			printf(" %-5s", r->proto);
		if (ah)
			printf(" %-*s", wa, r->a);
		if (bh)
			printf(" %-*s", wb, r->b);
		printf(" %10s %10s %9s %9s %12llu %8s", nacct_human(rt.bps[0], s1, sizeof(s1)),
		       nacct_human(rt.bps[1], s2, sizeof(s2)), nacct_human(rt.pps[0], s3, sizeof(s3)),
		       nacct_human(rt.pps[1], s4, sizeof(s4)), (unsigned long long)r->packets,
		       nacct_human(r->bytes, s5, sizeof(s5)));
		if (side_cols(t))
			printf(" %7llu %7llu", (unsigned long long)r->drops,
			       (unsigned long long)r->retrans);
		printf("\n");
	}
	printf("\n");
	fflush(stdout);
}

/* ---- full screen ------------------------------------------------------------ */

enum { C_BAR = 1, C_RATE, C_DIM, C_WARN };

/* print at (y, *x) with attributes, cut at the right edge: a line never wraps */
static void __attribute__((format(printf, 4, 5))) put(int y, int *x, attr_t attr,
							 const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || *x >= COLS)
		return;
	if (attr)
		attron(attr);
	mvaddnstr(y, *x, buf, COLS - *x);
	if (attr)
		attroff(attr);
	*x += n;
}

static void draw(struct top *t)
{
	const char *ph, *ah, *bh;
	__u64 dp[2], db[2], tp, tb, other;
	char s1[24], s2[24], s3[24], s4[24], s5[24], line[512];
	int rows = LINES, cols = COLS, y, wa, wb, wi = 0, fixed;
	size_t i;
	struct rates rt;

	erase();
	totals_of(t, dp, db, &tp, &tb, &other);
	rates_of(t, dp, db, &rt);

	/* title bar */
	attron(t->color ? COLOR_PAIR(C_BAR) : A_REVERSE);
	snprintf(line, sizeof(line), " nacct top  %s%s  by %s  sort %s%s  every %llus%s",
		 t->ifs[0].name, t->n_ifs > 1 ? " +" : "", nacct_top_by_names[t->by],
		 sort_names[t->sort], t->reverse ? " (rev)" : "",
		 (unsigned long long)t->cfg->interval, t->paused ? "  [PAUSED]" : "");
	mvhline(0, 0, ' ', cols);
	mvaddnstr(0, 0, line, cols);
	if (t->stamp[0] && cols > (int)strlen(line) + 10)
		mvprintw(0, cols - 9, "%.8s", t->stamp + 11); /* HH:MM:SS */
	attroff(t->color ? COLOR_PAIR(C_BAR) : A_REVERSE);

	/* totals from the interface counters */
	snprintf(line, sizeof(line),
		 "TOTAL  rx %s %s  tx %s %s  packets %llu  bytes %s  not-in-flows %llu",
		 nacct_human_rate(rt.bps[0], "b/s", s1, sizeof(s1)),
		 nacct_human_rate(rt.pps[0], "p/s", s2, sizeof(s2)),
		 nacct_human_rate(rt.bps[1], "b/s", s3, sizeof(s3)),
		 nacct_human_rate(rt.pps[1], "p/s", s4, sizeof(s4)), (unsigned long long)tp,
		 nacct_human(tb, s5, sizeof(s5)), (unsigned long long)other);
	attron(A_BOLD);
	mvaddnstr(1, 0, line, cols);
	attroff(A_BOLD);

	/* columns: the key columns share what the numbers leave */
	ph = key_headers(t->by, &ah, &bh);
	if (t->n_ifs > 1)
		wi = 10;
	fixed = (wi ? wi + 1 : 0) + (ph ? 6 : 0) + 11 * 2 + 10 * 2 + 13 + 9 +
		(side_cols(t) ? 16 : 0);
	wa = ah ? cols - fixed - 1 : 0;
	wb = 0;
	if (bh) {
		wa = (cols - fixed - 2) / 2;
		wb = cols - fixed - 2 - wa;
	}
	if (wa > 47)
		wa = 47;
	if (wb > 47)
		wb = 47;
	if (ah && wa < 8)
		wa = 8;
	if (bh && wb < 8)
		wb = 8;

	y = 3;
	attron(A_REVERSE);
	mvhline(y, 0, ' ', cols);
	{
		int x = 0;

		if (wi)
			put(y, &x, 0, "%-*s ", wi, "IFACE");
		if (ph)
			put(y, &x, 0, "%-5s ", ph);
		if (ah)
			put(y, &x, 0, "%-*s ", wa, ah);
		if (bh)
			put(y, &x, 0, "%-*s ", wb, bh);
		put(y, &x, 0, "%10s %10s %9s %9s %12s %8s", "RX b/s", "TX b/s", "RX p/s", "TX p/s",
		    col("packets"), col("bytes"));
		if (side_cols(t))
			put(y, &x, 0, " %7s %7s", col("drops"), col("retransmits"));
	}
	attroff(A_REVERSE);
	y++;
	if (!t->refreshes)
		mvaddnstr(y, 0, "(measuring the first interval...)", cols);
	for (i = 0; i < t->n_rows && y < rows - 1; i++, y++) {
		const struct row *r = &t->rows[i];
		int x = 0;

		rates_of(t, r->dp, r->db, &rt);
		if (wi)
			put(y, &x, 0, "%-*.*s ", wi, wi, t->ifs[r->ifi].name);
		if (ph)
			put(y, &x, 0, "%-5.5s ", r->proto);
		if (ah)
			put(y, &x, 0, "%-*.*s ", wa, wa, r->a);
		if (bh)
			put(y, &x, 0, "%-*.*s ", wb, wb, r->b);
		put(y, &x, t->color && (r->db[0] || r->db[1]) ? COLOR_PAIR(C_RATE) : 0,
		    "%10s %10s %9s %9s", nacct_human(rt.bps[0], s1, sizeof(s1)),
		    nacct_human(rt.bps[1], s2, sizeof(s2)), nacct_human(rt.pps[0], s3, sizeof(s3)),
		    nacct_human(rt.pps[1], s4, sizeof(s4)));
		put(y, &x, 0, " %12llu %8s", (unsigned long long)r->packets,
		    nacct_human(r->bytes, s5, sizeof(s5)));
		if (side_cols(t))
			/* human units here: the columns keep their width */
			put(y, &x, t->color && (r->ddrops || r->dretrans) ? COLOR_PAIR(C_WARN) : 0,
			    " %7s %7s", nacct_human(r->drops, s1, sizeof(s1)),
			    nacct_human(r->retrans, s2, sizeof(s2)));
	}
	attron(t->color ? COLOR_PAIR(C_DIM) : A_DIM);
	mvaddnstr(rows - 1, 0,
		  "q quit  s sort  r reverse  b by flows/subnets/ports/protocols  p pause", cols);
	attroff(t->color ? COLOR_PAIR(C_DIM) : A_DIM);
	refresh();
}

static int g_curses_on;

static void curses_end(void)
{
	if (g_curses_on) {
		endwin();
		g_curses_on = 0;
	}
}

static void curses_start(struct top *t)
{
	initscr();
	g_curses_on = 1;
	atexit(curses_end);
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	t->color = nacct_use_color(STDOUT_FILENO) && has_colors();
	if (t->color) {
		start_color();
		use_default_colors();
		init_pair(C_BAR, COLOR_BLACK, COLOR_CYAN);
		init_pair(C_RATE, COLOR_GREEN, -1);
		init_pair(C_DIM, COLOR_BLUE, -1);
		init_pair(C_WARN, COLOR_RED, -1);
	}
}

static void stamp_now(struct top *t)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	nacct_rfc3339((__u64)now.tv_sec * 1000000000ULL + now.tv_nsec, t->stamp, sizeof(t->stamp));
}

static int open_ifaces(struct top *t)
{
	char **names = NULL;
	size_t n = 0, i;
	int err;

	if (t->cfg->a.argc) {
		names = calloc(1, sizeof(*names));
		if (!names)
			return -ENOMEM;
		names[0] = strdup(t->cfg->a.argv[0]);
		n = 1;
	} else {
		err = nacct_list_attached(&names, &n);
		if (err) {
			pr_warn("cannot list attachments: %s\n", strerror(-err));
			return NACCT_EXIT_FAIL;
		}
		if (!n)
			return nacct_usage_error("no interface attached (try 'nacct attach IFACE')");
	}
	t->ifs = calloc(n, sizeof(*t->ifs));
	err = t->ifs ? 0 : NACCT_EXIT_FAIL;
	for (i = 0; !err && i < n; i++) {
		struct top_iface *ti = &t->ifs[i];

		snprintf(ti->name, sizeof(ti->name), "%s", names[i]);
		err = nacct_open_attached(names[i], &ti->m);
		if (err)
			break;
		t->n_ifs++;
		{
			struct nacct_probe_view v = { 0 };

			nacct_probe_view_since(&v, ti->m.meta_val.attached_at);
			ti->since_ns = v.since_ns;
		}
		nacct_read_subnets(ti->m.subnets, &ti->subs, &ti->n_subs);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return err;
}

int cmd_top(struct top_opts *cfg)
{
	struct top t;
	double next, now, last;
	size_t i;
	int err, ret = 0;

	memset(&t, 0, sizeof(t));
	t.cfg = cfg;
	t.by = cfg->by;
	err = nacct_need_bpf();
	if (err)
		return err;
	ret = open_ifaces(&t);
	if (ret)
		goto out;
	err = top_sample(&t, 0);
	if (err) {
		ret = NACCT_EXIT_FAIL;
		goto out;
	}
	t.curses = isatty(STDOUT_FILENO) && isatty(STDIN_FILENO) && !cfg->json;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	last = now_s();
	next = last + cfg->interval;
	if (t.curses) {
		curses_start(&t);
		draw(&t);
	}
	for (;;) {
		int ch = ERR;

		if (g_stop)
			break;
		now = now_s();
		if (now < next) {
			double wait = next - now;

			if (t.curses) {
				timeout(wait > 0.2 ? 200 : (int)(wait * 1000) + 1);
				ch = getch();
			} else {
				struct timespec ts = { (time_t)wait, (long)((wait - (time_t)wait) * 1e9) };

				nanosleep(&ts, NULL);
			}
			switch (ch) {
			case 'q': case 'Q':
				g_stop = 1;
				continue;
			case 's':
				t.sort = (t.sort + 1) % SORT_MAX;
				break;
			case 'r':
				t.reverse = !t.reverse;
				break;
			case 'b':
				t.by = (t.by + 1) % BY_MAX;
				break;
			case 'p': case ' ':
				t.paused = !t.paused;
				break;
			case KEY_RESIZE: case 12: /* ^L */
				break;
			default:
				continue;
			}
			/* a key: show the last refresh again in the new order */
			if (build_rows(&t)) {
				ret = NACCT_EXIT_FAIL;
				break;
			}
			draw(&t);
			continue;
		}
		/* the measured interval: a sleep may end late */
		now = now_s();
		t.dt = now - last;
		last = now;
		if (top_sample(&t, 1)) {
			ret = NACCT_EXIT_FAIL;
			break;
		}
		next += cfg->interval;
		if (next < now)
			next = now + cfg->interval;
		stamp_now(&t);
		if (build_rows(&t)) {
			ret = NACCT_EXIT_FAIL;
			break;
		}
		t.refreshes++;
		if (!t.paused) {
			if (t.curses)
				draw(&t);
			else
				print_plain(&t);
		}
		if (cfg->count && (__u64)t.refreshes >= cfg->count)
			break;
	}
out:
	curses_end();
	for (i = 0; i < t.n_ifs; i++) {
		nacct_iface_close(&t.ifs[i].m);
		free(t.ifs[i].prev);
		free(t.ifs[i].scur);
		free(t.ifs[i].sdel);
		free(t.ifs[i].subs);
		nacct_tuns_free(&t.ifs[i].tuns);
	}
	free(t.ifs);
	free(t.fd);
	free(t.rows);
	nacct_probe_view_free(&t.pv);
	return ret;
}
