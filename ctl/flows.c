// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* nacct flows / nacct subnets: read the pinned maps and print them. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include "../lib/community_id.h"
#include "nacct.h"
#include "../lib/log.h"
#include "../maps/maps.h"
#include "../lib/fmt.h"
#include "../lib/names.h"
#include "../lib/side.h"
#include "../lib/snapshot.h"

/* TCP side records of the side programs (probes/), when they are attached */
static struct nacct_probe_view g_pv;
static int g_have_pv;

/* the interfaces a listing command covers: the one named, or all attached */
static int iface_list(const struct nacct_args *cfg, int npos, char ***names, size_t *n)
{
	if (cfg->argc > npos) {
		*names = calloc(1, sizeof(char *));
		if (!*names)
			return -ENOMEM;
		(*names)[0] = strdup(cfg->argv[npos]);
		*n = 1;
		return 0;
	}
	return nacct_list_attached(names, n);
}

static void free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* the order of a listing: sort values, not the records, move (a million of them) */
struct order {
	__u64 k;
	size_t i;
};

static __u64 flow_sort_val(const struct nacct_flow *f, int sort)
{
	switch (sort) {
	case NACCT_S_PACKETS: return f->val.packets[0] + f->val.packets[1];
	case NACCT_S_FIRST: return ~f->val.first_seen; /* oldest first */
	case NACCT_S_LAST: return f->val.last_seen;
	default: return f->val.bytes[0] + f->val.bytes[1];
	}
}

/* largest first; ties in dump order */
static int cmp_order(const void *a, const void *b)
{
	const struct order *x = a, *y = b;

	if (x->k != y->k)
		return x->k > y->k ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* sift down in a min-heap of the best @n so far (the root is the worst) */
static void heap_down(struct order *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;

		if (l < n && cmp_order(&h[l], &h[m]) > 0)
			m = l;
		if (l + 1 < n && cmp_order(&h[l + 1], &h[m]) > 0)
			m = l + 1;
		if (m == i)
			return;
		struct order t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

/*
 * Sort by key, largest first, ties in dump order: a radix sort (LSD, 16
 * bits a pass, passes over constant digits skipped), stable, so the
 * order equals cmp_order's.  A million flows: a few tens of ms.
 */
static int radix_sort(struct order *a, size_t n)
{
	struct order *tmp = malloc(n * sizeof(*tmp)), *src = a, *dst = tmp;
	size_t *cnt = calloc(65536, sizeof(*cnt)), i;
	int shift;

	if (!tmp || !cnt) {
		free(tmp);
		free(cnt);
		return -1;
	}
	for (shift = 0; shift < 64; shift += 16) {
		size_t sum = 0;
		unsigned int d;

		memset(cnt, 0, 65536 * sizeof(*cnt));
		/* descending: sort the complement ascending */
		for (i = 0; i < n; i++)
			cnt[(~src[i].k >> shift) & 0xffff]++;
		if (cnt[(~src[0].k >> shift) & 0xffff] == n)
			continue; /* one digit value: this pass moves nothing */
		for (d = 0; d < 65536; d++) {
			size_t c = cnt[d];

			cnt[d] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			dst[cnt[(~src[i].k >> shift) & 0xffff]++] = src[i];
		struct order *t = src;
		src = dst;
		dst = t;
	}
	if (src != a)
		memcpy(a, src, n * sizeof(*a));
	free(tmp);
	free(cnt);
	return 0;
}

/* the first @lim of @n flows in order (--top: a heap, not a sort of all) */
static size_t flow_order(const struct nacct_flow *fl, size_t n, int sort, size_t lim,
			 struct order *out)
{
	size_t i, k;

	if (lim >= n / 4) {
		for (i = 0; i < n; i++)
			out[i] = (struct order){ flow_sort_val(&fl[i], sort), i };
		if (!n || radix_sort(out, n))
			qsort(out, n, sizeof(*out), cmp_order);
		return lim < n ? lim : n;
	}
	for (i = k = 0; i < n; i++) {
		struct order o = { flow_sort_val(&fl[i], sort), i };

		if (k < lim) {
			out[k++] = o;
			if (k == lim)
				for (size_t j = lim / 2 + 1; j-- > 0;)
					heap_down(out, k, j);
		} else if (cmp_order(&o, &out[0]) < 0) {
			out[0] = o;
			heap_down(out, k, 0);
		}
	}
	qsort(out, k, sizeof(*out), cmp_order);
	return k;
}

/* the tunnels of the interface being listed (read after its flows: every
 * handle in the dump is in it); the workers only read it */
static struct nacct_tuns g_tuns;

/* one block of a listing, formatted by a worker into its own buffer */
struct fmt_block {
	const char *ifname;
	const char *const *names, *const *ifaces; /* per flow (flows --host), or NULL */
	const struct nacct_fmt *fm;
	const struct nacct_flow *fl;
	const struct order *ord;
	size_t from, to;
	struct nacct_obuf o;
	pthread_t th;
	int running;
};

static void *fmt_block(void *arg)
{
	struct fmt_block *b = arg;
	struct nacct_side side;
	struct nacct_rec r;
	size_t i;

	for (i = b->from; i < b->to; i++) {
		const struct nacct_flow *f = &b->fl[b->ord[i].i];

		/* sorted order jumps around the dump: fetch a few records ahead */
		if (i + 8 < b->to)
			__builtin_prefetch(&b->fl[b->ord[i + 8].i]);
		nacct_rec_flow(&r, b->names ? b->names[b->ord[i].i] : b->ifname, &f->key, &f->val);
		if (b->ifaces)
			r.ifaces = b->ifaces[b->ord[i].i];
		r.tun = nacct_tuns_find(&g_tuns, f->key.tunnel);
		if (g_have_pv) {
			nacct_probe_view_side(&g_pv, &f->key, &side);
			r.side = &side;
		}
		nacct_fmt_rec(&b->o, b->fm, &r);
	}
	return NULL;
}

#define FMT_BLOCK 16384 /* records per block */
#define FMT_WORKERS 4   /* the most workers */

/*
 * Format records [0, lim) in blocks of FMT_BLOCK: up to one worker per
 * online CPU (at most FMT_WORKERS) formats the next blocks while this
 * thread writes the oldest one out, in order.  A million records then
 * take a fraction of the time one core would; small listings stay on
 * this thread.
 */
static int fmt_records(struct nacct_obuf *o, const char *ifname, const char *const *names,
		       const char *const *ifaces, const struct nacct_fmt *fm,
		       const struct nacct_flow *fl, const struct order *ord, size_t lim)
{
	struct fmt_block b[FMT_WORKERS + 1];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nw = cpus > FMT_WORKERS ? FMT_WORKERS : cpus > 1 ? (size_t)cpus : 1;
	size_t nb = (lim + FMT_BLOCK - 1) / FMT_BLOCK, started = 0, written = 0, k;
	int err = 0;

	if (nw == 1 || nb <= 1) {
		struct fmt_block one = { ifname, names, ifaces, fm, fl, ord, 0, lim, *o };

		fmt_block(&one);
		*o = one.o;
		return o->err;
	}
	memset(b, 0, sizeof(b));
	/* the header (and what came before) goes out first */
	err = nacct_obuf_flush(o, stdout);
	while (written < nb) {
		/* nw blocks formatting, one more being written */
		for (; started < nb && started - written <= nw; started++) {
			struct fmt_block *x = &b[started % (nw + 1)];

			x->ifname = ifname, x->fm = fm, x->fl = fl, x->ord = ord;
			x->names = names, x->ifaces = ifaces;
			x->from = started * FMT_BLOCK;
			x->to = x->from + FMT_BLOCK < lim ? x->from + FMT_BLOCK : lim;
			x->o.len = 0;
			x->running = !pthread_create(&x->th, NULL, fmt_block, x);
			if (!x->running)
				fmt_block(x); /* no thread: format it here */
		}
		struct fmt_block *x = &b[written % (nw + 1)];

		if (x->running)
			pthread_join(x->th, NULL);
		x->running = 0;
		if (!err)
			err = x->o.err;
		if (!err)
			err = nacct_obuf_flush(&x->o, stdout);
		written++;
	}
	for (k = 0; k <= nw; k++)
		nacct_obuf_free(&b[k].o);
	return err;
}

static int flows_one(const char *ifname, const struct flows_opts *cfg, struct nacct_obuf *o,
		     int *header_done)
{
	struct nacct_fmt fm = { .out = NACCT_OUT_FLOW, .side = g_have_pv };
	struct nacct_iface_maps m;
	struct nacct_flow *fl = NULL;
	struct order *ord;
	size_t n = 0, lim;
	int err;

	fm.kind = cfg->json ? NACCT_FMT_JSON : cfg->csv ? NACCT_FMT_CSV : NACCT_FMT_TABLE;
	err = nacct_open_attached(ifname, &m);
	if (err)
		return err;
	/* side records from before this attachment are not its flows' */
	if (g_have_pv)
		nacct_probe_view_since(&g_pv, m.meta_val.attached_at);
	err = nacct_dump_flows(m.flows, m.if_filter, &fl, &n);
	if (!err)
		err = nacct_tuns_read(m.tunnels, &g_tuns);
	nacct_iface_close(&m);
	if (err) {
		pr_warn("%s: cannot read flows: %s\n", ifname, strerror(-err));
		return NACCT_EXIT_FAIL;
	}
	ord = calloc(n ? n : 1, sizeof(*ord));
	if (!ord) {
		free(fl);
		return NACCT_EXIT_FAIL;
	}
	lim = flow_order(fl, n, cfg->sort, cfg->top ? cfg->top : n, ord);

	if (!*header_done) {
		nacct_fmt_header(o, &fm);
		*header_done = 1;
	}
	err = fmt_records(o, ifname, NULL, NULL, &fm, fl, ord, lim);
	free(ord);
	free(fl);
	nacct_tuns_free(&g_tuns);
	return err ? NACCT_EXIT_FAIL : 0;
}

/* ---- flows --host: a shared domain's host view (--dedup) ------------------------ */

/* the members of a domain: slot -> name ("" unknown) */
struct host_members {
	char (*name)[IF_NAMESIZE];
	__u32 n;
};

static int host_members_read(const char *dir, __u32 slots, struct host_members *hm)
{
	__u32 k, nk, *pk = NULL, slot;
	int fd = nacct_map_open(dir, NACCT_MAP_IF_SLOTS, BPF_MAP_TYPE_HASH, 4, 4);

	if (fd < 0)
		return fd;
	hm->n = slots;
	hm->name = calloc(slots ? slots : 1, sizeof(*hm->name));
	if (!hm->name) {
		close(fd);
		return -ENOMEM;
	}
	while (!bpf_map_get_next_key(fd, pk, &nk)) {
		if (!bpf_map_lookup_elem(fd, &nk, &slot) && slot < slots &&
		    !if_indextoname(nk, hm->name[slot]))
			snprintf(hm->name[slot], IF_NAMESIZE, "if%u", nk);
		k = nk;
		pk = &k;
	}
	close(fd);
	return 0;
}

/* the domains listed already by this flows --host (one view each) */
static char g_host_done[64][NACCT_DOMAIN_NAME_LEN];
static int g_host_ndone;

static int flows_host_one(const char *ifname, const struct flows_opts *cfg, struct nacct_obuf *o,
			  int *header_done)
{
	struct nacct_fmt fm = { .out = NACCT_OUT_FLOW | NACCT_OUT_HOST, .side = g_have_pv };
	struct nacct_iface_maps m;
	struct host_members hm = { 0 };
	struct nacct_flow *fl = NULL;
	struct order *ord = NULL;
	const char **names = NULL, **ifaces = NULL;
	char *ibuf = NULL;
	size_t n = 0, lim, i;
	int err, hfd = -1, ifd = -1, d;

	fm.kind = cfg->json ? NACCT_FMT_JSON : cfg->csv ? NACCT_FMT_CSV : NACCT_FMT_TABLE;
	err = nacct_open_attached(ifname, &m);
	if (err)
		return err;
	if (!m.slot || !m.meta_val.dedup) {
		nacct_iface_close(&m);
		if (cfg->a.argc)
			return nacct_usage_error("flows --host: %s is not in a shared domain with a "
						 "host view (nacct attach --all --dedup)", ifname);
		return 0; /* listing every attachment: not this one */
	}
	for (d = 0; d < g_host_ndone; d++)
		if (!strcmp(g_host_done[d], m.meta_val.domain)) {
			nacct_iface_close(&m);
			return 0;
		}
	if (g_host_ndone < 64)
		snprintf(g_host_done[g_host_ndone++], NACCT_DOMAIN_NAME_LEN, "%s", m.meta_val.domain);
	hfd = nacct_map_open(m.dir, NACCT_MAP_HOST_FLOWS, nacct_flow_map_type(m.meta_val.flow_layout),
			     sizeof(struct nacct_flow_key), sizeof(struct nacct_flow_val));
	ifd = nacct_map_open(m.dir, NACCT_MAP_HOST_IFS, BPF_MAP_TYPE_HASH,
			     sizeof(struct nacct_flow_key), sizeof(struct nacct_host_if_val));
	err = hfd < 0 ? hfd : ifd < 0 ? ifd : 0;
	if (!err)
		err = host_members_read(m.dir, m.meta_val.max_ifaces, &hm);
	if (!err)
		err = nacct_dump_flows(hfd, 0, &fl, &n);
	if (!err)
		err = nacct_tuns_read(m.tunnels, &g_tuns);
	nacct_iface_close(&m);
	if (err) {
		pr_warn("%s: cannot read the host view: %s\n", ifname, strerror(-err));
		err = NACCT_EXIT_FAIL;
		goto out;
	}
	/* each flow: where it was first seen, and the members that saw it */
	names = calloc(n ? n : 1, sizeof(*names));
	ifaces = calloc(n ? n : 1, sizeof(*ifaces));
	ibuf = calloc(n ? n : 1, 256);
	ord = calloc(n ? n : 1, sizeof(*ord));
	if (!names || !ifaces || !ibuf || !ord) {
		err = NACCT_EXIT_FAIL;
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct nacct_host_if_val hv = { 0 };
		char *p = ibuf + i * 256, fname[IF_NAMESIZE] = "";
		size_t len = 0;
		__u32 s;

		names[i] = "";
		ifaces[i] = p;
		if (bpf_map_lookup_elem(ifd, &fl[i].key, &hv))
			continue;
		for (s = 1; s < hm.n; s++) {
			if (!(hv.seen & (1ULL << (s & 63))) || !hm.name[s][0])
				continue;
			len += snprintf(p + len, len < 256 ? 256 - len : 0, "%s%s", len ? "," : "",
					hm.name[s]);
			if (len >= 255)
				break;
		}
		if (if_indextoname(hv.first_ifindex, fname))
			for (s = 1; s < hm.n; s++)
				if (!strcmp(hm.name[s], fname)) {
					names[i] = hm.name[s];
					break;
				}
	}
	lim = flow_order(fl, n, cfg->sort, cfg->top ? cfg->top : n, ord);
	if (!*header_done) {
		nacct_fmt_header(o, &fm);
		*header_done = 1;
	}
	err = fmt_records(o, ifname, names, ifaces, &fm, fl, ord, lim) ? NACCT_EXIT_FAIL : 0;
out:
	if (hfd >= 0)
		close(hfd);
	if (ifd >= 0)
		close(ifd);
	free(hm.name);
	free(names);
	free(ifaces);
	free(ibuf);
	free(ord);
	free(fl);
	nacct_tuns_free(&g_tuns);
	return err;
}

/*
 * A listing of every attachment of @a (or the one it names), each
 * formatted by @one into one buffer written out at the end: flows and
 * tunnels.  The exit status is the first failure's.
 */
typedef int (*listing_fn)(const char *ifname, const void *cfg, struct nacct_obuf *o,
			  int *header_done);

static int run_listing(const struct nacct_args *a, listing_fn one, const void *cfg)
{
	struct nacct_obuf out = { 0 };
	char **names;
	size_t n, i;
	int err, ret = 0, header = 0;

	err = iface_list(a, 0, &names, &n);
	if (err) {
		pr_warn("cannot list attachments: %s\n", strerror(-err));
		return NACCT_EXIT_FAIL;
	}
	if (!n)
		return nacct_usage_error("no interface attached (try 'nacct attach IFACE')");
	for (i = 0; i < n; i++) {
		int r = one(names[i], cfg, &out, &header);

		if (r && !ret)
			ret = r;
	}
	if (nacct_obuf_flush(&out, stdout) && !ret)
		ret = NACCT_EXIT_FAIL;
	nacct_obuf_free(&out);
	free_names(names, n);
	return ret;
}

static int flows_listing(const char *ifname, const void *cfg, struct nacct_obuf *o,
			 int *header_done)
{
	if (((const struct flows_opts *)cfg)->host)
		return flows_host_one(ifname, cfg, o, header_done);
	return flows_one(ifname, cfg, o, header_done);
}

int cmd_flows(struct flows_opts *cfg)
{
	int err, ret;

	if (cfg->json && cfg->csv)
		return nacct_usage_error("flows: --json and --csv exclude each other");
	nacct_community_id_seed = (__u16)cfg->cid_seed;
	err = nacct_need_bpf();
	if (err)
		return err;
	g_have_pv = nacct_probe_view_load(&g_pv) == 0;
	ret = run_listing(&cfg->a, flows_listing, cfg);
	if (g_have_pv)
		nacct_probe_view_free(&g_pv);
	return ret;
}

/* ---- subnets ------------------------------------------------------------ */

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

struct subnet_view {
	char ifname[32];
	struct nacct_iface_maps m;
	struct nacct_subnet *subs;
	size_t n_subs;
	struct nacct_subnet_stats *prev, *cur;
	size_t n_stats;
};

static const char *subnet_label(struct subnet_view *v, __u32 id)
{
	size_t i;

	if (id == 0)
		return "other";
	for (i = 0; i < v->n_subs; i++)
		if (v->subs[i].id == id)
			return v->subs[i].cidr;
	return "?";
}

static void print_subnets(struct subnet_view *v, int json, int delta, const char *stamp)
{
	size_t id;

	if (!json)
		printf("%s%s%s\n", stamp, stamp[0] ? "  " : "", v->ifname);
	if (!json)
		printf("  %-43s %12s %14s %12s %14s\n", "SUBNET", "RX_PKTS", "RX_BYTES", "TX_PKTS",
		       "TX_BYTES");
	for (id = 0; id < v->n_stats; id++) {
		__u64 p[2], b[2];
		int d;

		for (d = 0; d < 2; d++) {
			p[d] = v->cur[id].packets[d] - (delta ? v->prev[id].packets[d] : 0);
			b[d] = v->cur[id].bytes[d] - (delta ? v->prev[id].bytes[d] : 0);
		}
		if (json) {
			printf("{\"ifname\":");
			json_str(stdout, v->ifname);
			printf(",\"subnet\":\"%s\",\"id\":%zu,\"rx_packets\":%llu,\"rx_bytes\":%llu,"
			       "\"tx_packets\":%llu,\"tx_bytes\":%llu,\"packets\":%llu,"
			       "\"bytes\":%llu%s%s%s%s}\n",
			       subnet_label(v, id), id, (unsigned long long)p[0],
			       (unsigned long long)b[0], (unsigned long long)p[1],
			       (unsigned long long)b[1], (unsigned long long)(p[0] + p[1]),
			       (unsigned long long)(b[0] + b[1]), delta ? ",\"interval\":true" : "",
			       stamp[0] ? ",\"time\":\"" : "", stamp, stamp[0] ? "\"" : "");
		} else {
			printf("  %-43s %12llu %14llu %12llu %14llu\n", subnet_label(v, id),
			       (unsigned long long)p[0], (unsigned long long)b[0],
			       (unsigned long long)p[1], (unsigned long long)b[1]);
		}
	}
}

int cmd_subnets(struct json_opts *o)
{
	const struct nacct_args *cfg = &o->a;
	struct subnet_view *views = NULL;
	char **names = NULL, *end;
	size_t n = 0, n_names = 0, i;
	int err, ret = 0, npos = 0;
	double interval = 0;
	long count = -1, iter;

	/* [IFACE] [INTERVAL [COUNT]]: a leading number is the interval */
	if (cfg->argc >= 1) {
		strtod(cfg->argv[0], &end);
		if (*end)
			npos = 1; /* first positional is an interface */
	}
	if (cfg->argc > npos) {
		interval = strtod(cfg->argv[npos], &end);
		if (*end || interval <= 0 || interval > 86400)
			return nacct_usage_error("subnets: invalid interval '%s' (seconds, > 0)",
						 cfg->argv[npos]);
	}
	if (cfg->argc > npos + 1) {
		count = strtol(cfg->argv[npos + 1], &end, 10);
		if (*end || count <= 0)
			return nacct_usage_error("subnets: invalid count '%s'", cfg->argv[npos + 1]);
	}
	if (cfg->argc > npos + 2)
		return nacct_usage_error("subnets: expected [IFACE] [INTERVAL [COUNT]]");
	err = nacct_need_bpf();
	if (err)
		return err;
	err = npos ? iface_list(cfg, 0, &names, &n) : nacct_list_attached(&names, &n);
	if (err) {
		pr_warn("cannot list attachments: %s\n", strerror(-err));
		return NACCT_EXIT_FAIL;
	}
	n_names = n;
	if (!n)
		return nacct_usage_error("no interface attached (try 'nacct attach IFACE')");
	views = calloc(n, sizeof(*views));
	if (!views) {
		ret = NACCT_EXIT_FAIL;
		goto out;
	}
	for (i = 0; i < n; i++) {
		snprintf(views[i].ifname, sizeof(views[i].ifname), "%s", names[i]);
		ret = nacct_open_attached(names[i], &views[i].m);
		if (ret) {
			views[i].m.flows = -1;
			n = i;
			goto out;
		}
		nacct_read_subnets(views[i].m.subnets, &views[i].subs, &views[i].n_subs);
		err = nacct_read_subnet_stats(views[i].m.subnet_stats, &views[i].cur,
					      &views[i].n_stats);
		if (err) {
			pr_warn("%s: cannot read subnet counters: %s\n", names[i], strerror(-err));
			ret = NACCT_EXIT_FAIL;
			n = i + 1;
			goto out;
		}
	}
	if (interval <= 0) {
		for (i = 0; i < n; i++)
			print_subnets(&views[i], o->json, 0, "");
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (iter = 0; !g_stop && (count < 0 || iter < count); iter++) {
		struct timespec ts = { (time_t)interval, (long)((interval - (time_t)interval) * 1e9) };
		char stamp[40];
		struct timespec now;

		while (nanosleep(&ts, &ts) && !g_stop)
			;
		if (g_stop)
			break;
		clock_gettime(CLOCK_REALTIME, &now);
		nacct_rfc3339((__u64)now.tv_sec * 1000000000ULL + now.tv_nsec, stamp, sizeof(stamp));
		for (i = 0; i < n; i++) {
			size_t ns;

			free(views[i].prev);
			views[i].prev = views[i].cur;
			views[i].cur = NULL;
			if (nacct_read_subnet_stats(views[i].m.subnet_stats, &views[i].cur, &ns) ||
			    ns != views[i].n_stats) {
				pr_warn("%s: cannot read subnet counters (detached?)\n", views[i].ifname);
				ret = NACCT_EXIT_FAIL;
				goto out;
			}
			print_subnets(&views[i], o->json, 1, stamp);
		}
		fflush(stdout);
	}
out:
	for (i = 0; views && i < n; i++) {
		nacct_iface_close(&views[i].m);
		free(views[i].subs);
		free(views[i].prev);
		free(views[i].cur);
	}
	free(views);
	free_names(names, n_names);
	return ret;
}

/* ---- nacct tunnels: per tunnel, the sums of its inner flows ---------------- */

struct tun_row {
	const struct nacct_tun *t;
	__u64 packets[NACCT_DIR_MAX], bytes[NACCT_DIR_MAX], flows;
};

static int cmp_tun_row(const void *x, const void *y)
{
	const struct tun_row *a = x, *b = y;
	__u64 ba = a->bytes[0] + a->bytes[1], bb = b->bytes[0] + b->bytes[1];

	if (ba != bb)
		return ba > bb ? -1 : 1;
	return a->t->handle < b->t->handle ? -1 : a->t->handle > b->t->handle;
}

static int tunnels_one(const char *ifname, int json, struct nacct_obuf *o, int *header_done)
{
	struct nacct_iface_maps m;
	struct nacct_flow *fl = NULL;
	struct nacct_tuns tuns;
	struct tun_row *rows;
	size_t n = 0, i;
	int err, d;

	err = nacct_open_attached(ifname, &m);
	if (err)
		return err;
	err = nacct_dump_flows(m.flows, m.if_filter, &fl, &n);
	if (!err)
		err = nacct_tuns_read(m.tunnels, &tuns);
	nacct_iface_close(&m);
	if (err) {
		free(fl);
		pr_warn("%s: cannot read flows and tunnels: %s\n", ifname, strerror(-err));
		return NACCT_EXIT_FAIL;
	}
	rows = calloc(tuns.n ? tuns.n : 1, sizeof(*rows));
	if (!rows) {
		free(fl);
		nacct_tuns_free(&tuns);
		return NACCT_EXIT_FAIL;
	}
	/* the table is sorted by handle: a row's index is its tunnel's */
	for (i = 0; i < tuns.n; i++)
		rows[i].t = &tuns.v[i];
	for (i = 0; i < n; i++) {
		const struct nacct_tun *t = nacct_tuns_find(&tuns, fl[i].key.tunnel);
		struct tun_row *r;

		if (!t)
			continue;
		r = &rows[t - tuns.v];
		for (d = 0; d < NACCT_DIR_MAX; d++) {
			r->packets[d] += fl[i].val.packets[d];
			r->bytes[d] += fl[i].val.bytes[d];
		}
		r->flows++;
	}
	free(fl);
	qsort(rows, tuns.n, sizeof(*rows), cmp_tun_row);
	if (!json && !*header_done) {
		nacct_obuf_printf(o, "%-10s %-7s %10s %-39s %-39s %10s %12s %10s %12s %6s\n", "IFACE",
				  "TUNNEL", "ID", "OUTER_A", "OUTER_B", "RX_PKTS", "RX_BYTES",
				  "TX_PKTS", "TX_BYTES", "FLOWS");
		*header_done = 1;
	}
	for (i = 0; i < tuns.n; i++) {
		const struct tun_row *r = &rows[i];
		const struct nacct_tun_key *k = &r->t->key;
		char a[64] = "-", b[64] = "-", ts[40];

		if (k->family) {
			nacct_addr_str(k->outer_lo, k->family, a, sizeof(a));
			nacct_addr_str(k->outer_hi, k->family, b, sizeof(b));
		}
		if (json) {
			nacct_obuf_printf(o, "{\"ifname\":");
			nacct_obuf_json_str(o, ifname);
			nacct_obuf_printf(o, ",\"tunnel\":\"%s\",\"tunnel_id\":%u,", nacct_tun_type_name(k->type),
					  k->id);
			if (k->family)
				nacct_obuf_printf(o, "\"outer_a\":\"%s\",\"outer_b\":\"%s\",", a, b);
			else
				nacct_obuf_printf(o, "\"outer_a\":null,\"outer_b\":null,");
			nacct_rfc3339(nacct_mono_to_wall(r->t->first_seen), ts, sizeof(ts));
			nacct_obuf_printf(o,
					  "\"rx_packets\":%llu,\"rx_bytes\":%llu,\"tx_packets\":%llu,"
					  "\"tx_bytes\":%llu,\"packets\":%llu,\"bytes\":%llu,"
					  "\"flows\":%llu,\"first_seen\":\"%s\"}\n",
					  (unsigned long long)r->packets[0],
					  (unsigned long long)r->bytes[0],
					  (unsigned long long)r->packets[1],
					  (unsigned long long)r->bytes[1],
					  (unsigned long long)(r->packets[0] + r->packets[1]),
					  (unsigned long long)(r->bytes[0] + r->bytes[1]),
					  (unsigned long long)r->flows, ts);
		} else {
			nacct_obuf_printf(o, "%-10s %-7s %10u %-39s %-39s %10llu %12llu %10llu %12llu %6llu\n",
					  ifname, nacct_tun_type_name(k->type), k->id, a, b,
					  (unsigned long long)r->packets[0],
					  (unsigned long long)r->bytes[0],
					  (unsigned long long)r->packets[1],
					  (unsigned long long)r->bytes[1], (unsigned long long)r->flows);
		}
	}
	free(rows);
	nacct_tuns_free(&tuns);
	return 0;
}

static int tunnels_listing(const char *ifname, const void *cfg, struct nacct_obuf *o,
			   int *header_done)
{
	return tunnels_one(ifname, ((const struct json_opts *)cfg)->json, o, header_done);
}

int cmd_tunnels(struct json_opts *cfg)
{
	int err = nacct_need_bpf();

	return err ? err : run_listing(&cfg->a, tunnels_listing, cfg);
}
