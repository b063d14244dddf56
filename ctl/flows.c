// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* nacct flows / nacct subnets: read the pinned maps and print them. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nacct.h"
#include "log.h"
#include "../maps/maps.h"
#include "probes.h"

/* TCP side records of the side programs (probes/), when they are attached */
static struct nacct_probe_view g_pv;
static int g_have_pv;

/* the interfaces a listing command covers: the one named, or all attached */
static int iface_list(struct nacct_config *cfg, int npos, char ***names, size_t *n)
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

static int g_sort;

static __u64 flow_sort_val(const struct nacct_flow *f)
{
	switch (g_sort) {
	case NACCT_S_PACKETS: return f->val.packets[0] + f->val.packets[1];
	case NACCT_S_FIRST: return f->val.first_seen;
	case NACCT_S_LAST: return f->val.last_seen;
	default: return f->val.bytes[0] + f->val.bytes[1];
	}
}

static int cmp_flow(const void *a, const void *b)
{
	__u64 x = flow_sort_val(a), y = flow_sort_val(b);

	/* first: oldest first; everything else: largest first */
	if (g_sort == NACCT_S_FIRST)
		return x < y ? -1 : x > y;
	return x > y ? -1 : x < y;
}

/* src = the endpoint that sent the first packet seen */
static void flow_endpoints(const struct nacct_flow *f, const __u8 **src, __u16 *sport,
			   const __u8 **dst, __u16 *dport)
{
	const struct nacct_flow_key *k = &f->key;

	if (f->val.first_dir == 0) {
		*src = k->lo_addr, *sport = ntohs(k->lo_port);
		*dst = k->hi_addr, *dport = ntohs(k->hi_port);
	} else {
		*src = k->hi_addr, *sport = ntohs(k->hi_port);
		*dst = k->lo_addr, *dport = ntohs(k->lo_port);
	}
}

static int flows_one(const char *ifname, struct nacct_config *cfg, int *header_done)
{
	struct nacct_iface_maps m;
	struct nacct_flow *fl = NULL;
	size_t n = 0, i, lim;
	int err;

	err = nacct_open_attached(ifname, &m);
	if (err)
		return err;
	/* side records from before this attachment are not its flows' */
	if (g_have_pv)
		nacct_probe_view_since(&g_pv, m.meta_val.attached_at);
	err = nacct_dump_flows(m.flows, &fl, &n);
	nacct_iface_close(&m);
	if (err) {
		pr_warn("%s: cannot read flows: %s\n", ifname, strerror(-err));
		return NACCT_EXIT_FAIL;
	}
	g_sort = cfg->sort;
	qsort(fl, n, sizeof(*fl), cmp_flow);
	lim = cfg->top && cfg->top < n ? cfg->top : n;

	if (!*header_done && !cfg->json) {
		if (cfg->csv)
			printf("ifname,proto,src,sport,dst,dport,vlan,packets,bytes,rx_packets,rx_bytes,"
			       "tx_packets,tx_bytes,tcp_flags,first_seen,last_seen\n");
		else
			printf("%-10s %-5s %39s %5s   %-39s %5s %4s %10s %12s %10s %10s %-8s %-8s",
			       "IFACE", "PROTO", "SRC", "SPORT", "DST", "DPORT", "VLAN", "PACKETS",
			       "BYTES", "RX_PKTS", "TX_PKTS", "FLAGS", "LAST");
		if (!cfg->csv) {
			if (g_have_pv)
				nacct_probe_flow_cols_hdr(stdout);
			putchar('\n');
		}
		*header_done = 1;
	}
	for (i = 0; i < lim; i++) {
		const struct nacct_flow *f = &fl[i];
		const __u8 *src, *dst;
		__u16 sport, dport;
		char sbuf[64], dbuf[64], pbuf[8], fbuf[12], t1[40], t2[40];
		__u64 pk = f->val.packets[0] + f->val.packets[1];
		__u64 by = f->val.bytes[0] + f->val.bytes[1];
		const char *proto = nacct_proto_name(f->key.proto, pbuf, sizeof(pbuf));

		flow_endpoints(f, &src, &sport, &dst, &dport);
		nacct_addr_str(src, f->key.family, sbuf, sizeof(sbuf));
		nacct_addr_str(dst, f->key.family, dbuf, sizeof(dbuf));
		nacct_tcp_flags_str(f->val.tcp_flags[0] | f->val.tcp_flags[1], fbuf, sizeof(fbuf));
		nacct_rfc3339(nacct_mono_to_wall(f->val.first_seen), t1, sizeof(t1));
		nacct_rfc3339(nacct_mono_to_wall(f->val.last_seen), t2, sizeof(t2));

		if (cfg->json) {
			printf("{\"ifname\":");
			json_str(stdout, ifname);
			printf(",\"family\":%u,\"proto\":\"%s\",\"proto_num\":%u,\"src\":\"%s\","
			       "\"sport\":%u,\"dst\":\"%s\",\"dport\":%u,\"vlan\":%u,"
			       "\"packets\":%llu,\"bytes\":%llu,\"rx_packets\":%llu,\"rx_bytes\":%llu,"
			       "\"tx_packets\":%llu,\"tx_bytes\":%llu,\"tcp_flags\":\"%s\","
			       "\"first_seen\":\"%s\",\"last_seen\":\"%s\"",
			       f->key.family, proto, f->key.proto, sbuf, sport, dbuf, dport,
			       f->key.vlan, (unsigned long long)pk, (unsigned long long)by,
			       (unsigned long long)f->val.packets[0],
			       (unsigned long long)f->val.bytes[0],
			       (unsigned long long)f->val.packets[1],
			       (unsigned long long)f->val.bytes[1], fbuf, t1, t2);
			if (g_have_pv)
				nacct_probe_flow_json(stdout, &g_pv, &f->key, f->val.first_dir);
			printf("}\n");
		} else if (cfg->csv) {
			printf("%s,%s,%s,%u,%s,%u,%u,%llu,%llu,%llu,%llu,%llu,%llu,%s,%s,%s\n", ifname,
			       proto, sbuf, sport, dbuf, dport, f->key.vlan, (unsigned long long)pk,
			       (unsigned long long)by, (unsigned long long)f->val.packets[0],
			       (unsigned long long)f->val.bytes[0],
			       (unsigned long long)f->val.packets[1],
			       (unsigned long long)f->val.bytes[1], fbuf, t1, t2);
		} else {
			printf("%-10s %-5s %39s %5u > %-39s %5u %4u %10llu %12llu %10llu %10llu %-8s "
			       "%.8s",
			       ifname, proto, sbuf, sport, dbuf, dport, f->key.vlan,
			       (unsigned long long)pk, (unsigned long long)by,
			       (unsigned long long)f->val.packets[0],
			       (unsigned long long)f->val.packets[1], fbuf, t2[0] ? t2 + 11 : "");
			if (g_have_pv)
				nacct_probe_flow_cols(stdout, &g_pv, &f->key, f->val.first_dir);
			putchar('\n');
		}
	}
	free(fl);
	return 0;
}

int cmd_flows(struct nacct_config *cfg)
{
	char **names;
	size_t n, i;
	int err, ret = 0, header = 0;

	if (cfg->json && cfg->csv)
		return nacct_usage_error("flows: --json and --csv exclude each other");
	err = nacct_need_bpf();
	if (err)
		return err;
	g_have_pv = nacct_probe_view_load(&g_pv) == 0;
	err = iface_list(cfg, 0, &names, &n);
	if (err) {
		pr_warn("cannot list attachments: %s\n", strerror(-err));
		return NACCT_EXIT_FAIL;
	}
	if (!n)
		return nacct_usage_error("no interface attached (try 'nacct attach IFACE')");
	for (i = 0; i < n; i++) {
		int r = flows_one(names[i], cfg, &header);

		if (r && !ret)
			ret = r;
	}
	free_names(names, n);
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

int cmd_subnets(struct nacct_config *cfg)
{
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
			print_subnets(&views[i], cfg->json, 0, "");
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
			print_subnets(&views[i], cfg->json, 1, stamp);
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
