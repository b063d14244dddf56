// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nacct serve: Prometheus text exposition (format 0.0.4) of every
 * attachment in this network namespace, with libmicrohttpd.  Every scrape
 * reads the pinned maps afresh; nothing is cached.  Counters are the
 * kernel's running totals (never reset while attached), in base units
 * (packets, bytes, seconds); gauges are map fill levels.
 * The side programs' maps (NACCT_PIN_ROOT/:probes) are optional: their
 * metrics appear when they are loaded.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <microhttpd.h>

#include "nacct.h"
#include "../lib/log.h"
#include "../maps/maps.h"
#include "../lib/side.h"
#include "../lib/snapshot.h"

static const char *const dir_name[NACCT_DIR_MAX] = { "rx", "tx" };

/* everything one scrape reads of one attachment */
struct iface_snap {
	char ifname[32];
	struct nacct_snapshot s;
};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	g_stop = 1;
}

static int snap_iface(const char *ifname, struct iface_snap *s)
{
	struct nacct_iface_maps m;
	int err;

	memset(s, 0, sizeof(*s));
	snprintf(s->ifname, sizeof(s->ifname), "%s", ifname);
	err = nacct_iface_open(ifname, &m);
	if (err)
		return err;
	/* no flow dump: a scrape costs the same at any flow count */
	err = nacct_snapshot(&m, NACCT_SNAP_SUBNETS | NACCT_SNAP_ETHER | NACCT_SNAP_PROGS, &s->s);
	nacct_iface_close(&m);
	return err;
}

static void snap_free(struct iface_snap *s)
{
	nacct_snapshot_free(&s->s);
}

/* label values: escape backslash, quote and newline */
static void label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

#define U(x) ((unsigned long long)(x))

#define IF_FAMILY(name, type, help, fmt, expr)                                             \
	do {                                                                              \
		family(f, name, type, help);                                              \
		for (i = 0; i < n; i++) {                                                 \
			fprintf(f, "%s{ifname=\"", name);                                 \
			label(f, s[i].ifname);                                             \
			fprintf(f, "\"} " fmt "\n", expr);                                 \
		}                                                                          \
	} while (0)

/* the interface totals: one family per line of the totals table */
static void write_total_metrics(FILE *f, struct iface_snap *s, size_t n)
{
	size_t i, k;
	int d;

	for (k = 0; k < nacct_total_nfields; k++) {
		const struct nacct_total_field *t = &nacct_total_fields[k];

		if (!(t->out & NACCT_TOUT_PROM))
			continue;
		family(f, t->prom, "counter", t->help);
		for (i = 0; i < n; i++)
			for (d = 0; d < (t->per_dir ? NACCT_DIR_MAX : 1); d++) {
				fprintf(f, "%s{ifname=\"", t->prom);
				label(f, s[i].ifname);
				if (t->per_dir)
					fprintf(f, "\",direction=\"%s", dir_name[d]);
				fprintf(f, "\"} %llu\n", U(nacct_total_get(t, &s[i].s.t, d)));
			}
	}
}

static void write_iface_metrics(FILE *f, struct iface_snap *s, size_t n)
{
	size_t i, k;
	int d;

	write_total_metrics(f, s, n);
	family(f, "nacct_malformed_reason_packets_total", "counter",
	       "Malformed packets by reason.");
	for (i = 0; i < n; i++)
		for (k = 0; k < NACCT_MAL_MAX; k++) {
			fprintf(f, "nacct_malformed_reason_packets_total{ifname=\"");
			label(f, s[i].ifname);
			fprintf(f, "\",reason=\"%s\"} %llu\n", nacct_malformed_names[k],
				U(s[i].s.t.st.malformed[k]));
		}
	family(f, "nacct_nonip_ethertype_packets_total", "counter",
	       "Non-IP frames by ethertype.");
	for (i = 0; i < n; i++)
		for (k = 0; k < s[i].s.n_et; k++)
			for (d = 0; d < NACCT_DIR_MAX; d++) {
				fprintf(f, "nacct_nonip_ethertype_packets_total{ifname=\"");
				label(f, s[i].ifname);
				fprintf(f, "\",ethertype=\"0x%04x\",direction=\"%s\"} %llu\n",
					s[i].s.et[k].ethertype, dir_name[d],
					U(s[i].s.et[k].val.packets[d]));
			}
	IF_FAMILY("nacct_flows", "gauge", "Flows in the flow map.", "%llu", U(s[i].s.t.flows));
	IF_FAMILY("nacct_flows_max", "gauge", "Capacity of the flow map.", "%llu",
		  U(s[i].s.meta.max_flows));
	IF_FAMILY("nacct_flow_map_fill_ratio", "gauge", "Flow map fill level (0..1).", "%.6f",
		  s[i].s.meta.max_flows ? (double)s[i].s.t.flows / s[i].s.meta.max_flows : 0.0);

	family(f, "nacct_subnet_packets_total", "counter",
	       "Packets by subnet: rx from the subnet, tx to it (subnet=\"none\": no match).");
	for (int b = 0; b < 2; b++) {
		if (b)
			family(f, "nacct_subnet_bytes_total", "counter", "Bytes by subnet.");
		for (i = 0; i < n; i++) {
			const struct nacct_snapshot *ss = &s[i].s;

			for (k = 0; k <= ss->n_subs; k++) {
				const char *cidr = k ? ss->subs[k - 1].cidr : "none";
				__u32 id = k ? ss->subs[k - 1].id : 0;

				if (id >= ss->n_sstats)
					continue;
				for (d = 0; d < NACCT_DIR_MAX; d++) {
					fprintf(f, "%s{ifname=\"",
						b ? "nacct_subnet_bytes_total" :
						    "nacct_subnet_packets_total");
					label(f, s[i].ifname);
					fprintf(f, "\",subnet=\"%s\",direction=\"%s\"} %llu\n", cidr,
						dir_name[d],
						U(b ? ss->sstats[id].bytes[d] : ss->sstats[id].packets[d]));
				}
			}
		}
	}
}

static int bpf_stats_enabled(void)
{
	FILE *p = fopen("/proc/sys/kernel/bpf_stats_enabled", "r");
	int v = 0;

	if (p) {
		if (fscanf(p, "%d", &v) != 1)
			v = 0;
		fclose(p);
	}
	return v;
}

/*
 * The side programs' links under :probes, whatever program each holds
 * (the tracepoint program, or its kprobe twin): found by their pin prefix
 * (maps/pins.h), never by a list of names.
 */
struct side_prog {
	char name[64]; /* the label: the program's name without "nacct_" */
	struct nacct_prog_stat ps;
};

static size_t side_progs(struct side_prog *out, size_t max)
{
	const char *dir = NACCT_PIN_ROOT "/" NACCT_PROBES_PIN;
	size_t plen = strlen(NACCT_PIN_LINK_PREFIX), n = 0;
	struct dirent *de;
	char path[512];
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		struct bpf_link_info li;
		__u32 ilen = sizeof(li);
		const char *nm = de->d_name + plen;
		int lfd, pfd;

		if (strncmp(de->d_name, NACCT_PIN_LINK_PREFIX, plen))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		lfd = bpf_obj_get(path);
		if (lfd < 0)
			continue;
		memset(&li, 0, sizeof(li));
		pfd = bpf_obj_get_info_by_fd(lfd, &li, &ilen) ? -1 : bpf_prog_get_fd_by_id(li.prog_id);
		close(lfd);
		nacct_prog_stat_fd(pfd, &out[n].ps);
		if (pfd >= 0)
			close(pfd);
		if (!out[n].ps.present)
			continue;
		if (!strncmp(nm, "nacct_", 6))
			nm += 6;
		snprintf(out[n].name, sizeof(out[n].name), "%s", nm);
		n++;
	}
	closedir(d);
	return n;
}

static void write_prog_metrics(FILE *f, struct iface_snap *s, size_t n)
{
	struct side_prog sp[32];
	size_t i, k, nsp = side_progs(sp, sizeof(sp) / sizeof(sp[0]));

	family(f, "nacct_bpf_stats_enabled", "gauge",
	       "kernel.bpf_stats_enabled: 1 when program run counts and times are collected.");
	fprintf(f, "nacct_bpf_stats_enabled %d\n", bpf_stats_enabled());
	for (int t = 0; t < 2; t++) {
		const char *name = t ? "nacct_prog_run_time_seconds_total" : "nacct_prog_runs_total";

		family(f, name, "counter",
		       t ? "Time spent in the program (0 unless kernel.bpf_stats_enabled=1)." :
			   "Program runs (0 unless kernel.bpf_stats_enabled=1).");
		for (i = 0; i < n; i++)
			for (k = 0; k < NACCT_PROG_MAX; k++) {
				const struct nacct_prog_stat *ps = &s[i].s.progs[k];

				if (!ps->present)
					continue;
				fprintf(f, "%s{ifname=\"", name);
				label(f, s[i].ifname);
				if (t)
					fprintf(f, "\",prog=\"%s\"} %.9f\n", nacct_prog_names[k],
						ps->run_time_ns / 1e9);
				else
					fprintf(f, "\",prog=\"%s\"} %llu\n", nacct_prog_names[k],
						U(ps->run_cnt));
			}
		/* side programs: one set for the host, ifname="" */
		for (k = 0; k < nsp; k++) {
			if (t)
				fprintf(f, "%s{ifname=\"\",prog=\"%s\"} %.9f\n", name, sp[k].name,
					sp[k].ps.run_time_ns / 1e9);
			else
				fprintf(f, "%s{ifname=\"\",prog=\"%s\"} %llu\n", name, sp[k].name,
					U(sp[k].ps.run_cnt));
		}
	}
}

/* drops by reason and retransmits, when the side programs are loaded */
static void write_probe_metrics(FILE *f)
{
	struct nacct_probe_maps m;
	struct nacct_probe_stats sum;
	char rbuf[64];
	__u64 v;
	__u32 r;

	if (nacct_probes_open(&m))
		return;
	if (nacct_probes_read_stats(m.stats, &sum) == 0) {
		family(f, "nacct_tcp_retransmits_total", "counter",
		       "TCP segments retransmitted (all network namespaces).");
		fprintf(f, "nacct_tcp_retransmits_total %llu\n", U(sum.retrans));
		family(f, "nacct_tcp_resets_total", "counter", "TCP resets by direction.");
		fprintf(f, "nacct_tcp_resets_total{direction=\"rx\"} %llu\n", U(sum.resets_rx));
		fprintf(f, "nacct_tcp_resets_total{direction=\"tx\"} %llu\n", U(sum.resets_tx));
		family(f, "nacct_probe_events_lost_total", "counter",
		       "Side events lost because the ring buffer was full.");
		fprintf(f, "nacct_probe_events_lost_total %llu\n", U(sum.events_lost));
	}
	family(f, "nacct_drops_total", "counter",
	       "Packets freed by the kernel with a drop reason (skb:kfree_skb), by reason.");
	for (r = 0; r < NACCT_DROP_REASONS; r++) {
		if (nacct_read_percpu_u64(m.reasons, r, &v, sizeof(v)) || !v)
			continue;
		fprintf(f, "nacct_drops_total{reason=\"%s\"} %llu\n",
			nacct_drop_reason_name(r, rbuf, sizeof(rbuf)), U(v));
	}
	nacct_probes_close(&m);
}

static char *render(size_t *len)
{
	struct iface_snap *s = NULL;
	char **names = NULL, *buf = NULL;
	size_t n = 0, have = 0, i;
	FILE *f;

	if (nacct_list_attached(&names, &n) == 0 && n)
		s = calloc(n, sizeof(*s));
	for (i = 0; s && i < n; i++)
		if (snap_iface(names[i], &s[have]) == 0)
			have++;
		else
			snap_free(&s[have]);
	f = open_memstream(&buf, len);
	if (f) {
		family(f, "nacct_attached_interfaces", "gauge",
		       "Interfaces with nacct attached in this network namespace.");
		fprintf(f, "nacct_attached_interfaces %zu\n", have);
		write_iface_metrics(f, s, have);
		write_prog_metrics(f, s, have);
		write_probe_metrics(f);
		fclose(f);
	}
	for (i = 0; i < have; i++)
		snap_free(&s[i]);
	free(s);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return buf;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_len, void **state)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	const char *page;
	char *body;
	size_t len = 0;

	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return MHD_NO;
	if (strcmp(url, "/metrics")) {
		page = strcmp(url, "/") ? "not found\n" :
			"<html><body><a href=\"/metrics\">nacct metrics</a></body></html>\n";
		resp = MHD_create_response_from_buffer(strlen(page), (void *)page,
						       MHD_RESPMEM_PERSISTENT);
		ret = MHD_queue_response(conn, strcmp(url, "/") ? MHD_HTTP_NOT_FOUND : MHD_HTTP_OK,
					 resp);
		MHD_destroy_response(resp);
		return ret;
	}
	body = render(&len);
	if (!body)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

static int parse_listen(const char *s, struct sockaddr_storage *ss)
{
	char host[128];
	const char *colon = strrchr(s, ':');
	size_t hl;
	char *end;
	unsigned long port;

	memset(ss, 0, sizeof(*ss));
	if (!colon)
		return -EINVAL;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || port == 0 || port > 65535)
		return -EINVAL;
	hl = colon - s;
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		s++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
		return 0;
	}
	return -EINVAL;
}

int cmd_serve(struct serve_opts *cfg)
{
	const char *listen = cfg->metrics;
	struct sockaddr_storage ss;
	struct MHD_Daemon *d;
	struct sigaction sa;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	int err;

	if (parse_listen(listen, &ss))
		return nacct_usage_error("serve: --metrics %s: expected ADDR:PORT (numeric)",
					 listen);
	err = nacct_need_bpf();
	if (err)
		return err;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	d = MHD_start_daemon(flags, ntohs(((struct sockaddr_in *)&ss)->sin_port), NULL, NULL,
			     handle, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
			     MHD_OPTION_CONNECTION_TIMEOUT, 10U, MHD_OPTION_END);
	if (!d) {
		pr_warn("serve: cannot listen on %s\n", listen);
		return NACCT_EXIT_FAIL;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (!bpf_stats_enabled())
		pr_info("serve: kernel.bpf_stats_enabled is 0: program run counts read 0 "
			"(sysctl -w kernel.bpf_stats_enabled=1 to collect them)\n");
	pr_info("serve: metrics on http://%s/metrics\n", listen);
	while (!g_stop)
		pause();
	MHD_stop_daemon(d);
	return 0;
}
