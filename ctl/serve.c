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
#include "log.h"
#include "../maps/maps.h"

static const char *const mal_reason[NACCT_MAL_MAX] = {
	[NACCT_MAL_ETH] = "ethernet",   [NACCT_MAL_VLAN] = "vlan",
	[NACCT_MAL_IP4_HDR] = "ipv4_header", [NACCT_MAL_IP4_LEN] = "ipv4_length",
	[NACCT_MAL_IP6_HDR] = "ipv6_header", [NACCT_MAL_IP6_EXT] = "ipv6_ext_header",
	[NACCT_MAL_L4] = "l4_header",
};
static const char *const dir_name[NACCT_DIR_MAX] = { "rx", "tx" };
static const char *const prog_pins[] = { "prog_xdp", "prog_tc_ingress", "prog_tc_egress" };
#define N_PROGS (sizeof(prog_pins) / sizeof(prog_pins[0]))

struct prog_stat {
	int present;
	__u64 run_cnt, run_time_ns;
};

/* everything one scrape reads of one attachment */
struct iface_snap {
	char ifname[32];
	struct nacct_stats st;
	size_t flows;
	__u32 max_flows;
	struct nacct_subnet *subs;
	size_t n_subs;
	struct nacct_subnet_stats *sstats;
	size_t n_sstats;
	struct nacct_ethertype *et;
	size_t n_et;
	struct prog_stat progs[N_PROGS];
};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	g_stop = 1;
}

static void prog_stat_fd(int fd, struct prog_stat *p)
{
	struct bpf_prog_info info;
	__u32 ilen = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		return;
	p->present = 1;
	p->run_cnt = info.run_cnt;
	p->run_time_ns = info.run_time_ns;
}

static int snap_iface(const char *ifname, struct iface_snap *s)
{
	struct nacct_iface_maps m;
	struct nacct_flow *fl = NULL;
	char path[512];
	size_t i;
	int err, fd;

	memset(s, 0, sizeof(*s));
	snprintf(s->ifname, sizeof(s->ifname), "%s", ifname);
	err = nacct_iface_open(ifname, &m);
	if (err)
		return err;
	err = nacct_read_stats(m.stats, &s->st);
	if (!err)
		err = nacct_dump_flows(m.flows, &fl, &s->flows);
	free(fl);
	s->max_flows = m.meta_val.max_flows;
	if (!err) {
		nacct_read_subnets(m.subnets, &s->subs, &s->n_subs);
		nacct_read_subnet_stats(m.subnet_stats, &s->sstats, &s->n_sstats);
		nacct_read_ethertypes(m.ethertypes, &s->et, &s->n_et);
	}
	for (i = 0; i < N_PROGS; i++) {
		snprintf(path, sizeof(path), "%s/%s", m.dir, prog_pins[i]);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		prog_stat_fd(fd, &s->progs[i]);
		close(fd);
	}
	nacct_iface_close(&m);
	return err;
}

static void snap_free(struct iface_snap *s)
{
	free(s->subs);
	free(s->sstats);
	free(s->et);
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

/* one per-direction counter family over all interfaces */
#define DIR_FAMILY(name, help, field)                                                     \
	do {                                                                              \
		family(f, name, "counter", help);                                         \
		for (i = 0; i < n; i++)                                                   \
			for (d = 0; d < NACCT_DIR_MAX; d++) {                             \
				fprintf(f, "%s{ifname=\"", name);                         \
				label(f, s[i].ifname);                                     \
				fprintf(f, "\",direction=\"%s\"} %llu\n", dir_name[d],     \
					U(s[i].st.field[d]));                              \
			}                                                                  \
	} while (0)

#define IF_FAMILY(name, type, help, fmt, expr)                                             \
	do {                                                                              \
		family(f, name, type, help);                                              \
		for (i = 0; i < n; i++) {                                                 \
			fprintf(f, "%s{ifname=\"", name);                                 \
			label(f, s[i].ifname);                                             \
			fprintf(f, "\"} " fmt "\n", expr);                                 \
		}                                                                          \
	} while (0)

static void write_iface_metrics(FILE *f, struct iface_snap *s, size_t n)
{
	size_t i, k;
	int d;

	DIR_FAMILY("nacct_packets_total", "Packets seen by the hook (every frame).", packets);
	DIR_FAMILY("nacct_bytes_total", "Bytes seen by the hook (frame length incl. Ethernet).",
		   bytes);
	DIR_FAMILY("nacct_overflow_packets_total",
		   "Packets counted in the overflow bucket because the flow map was full.",
		   overflow_packets);
	DIR_FAMILY("nacct_overflow_bytes_total", "Bytes of the overflow bucket.", overflow_bytes);
	DIR_FAMILY("nacct_malformed_packets_total", "Malformed packets (counted, never dropped).",
		   malformed_packets);
	DIR_FAMILY("nacct_malformed_bytes_total", "Bytes of malformed packets.", malformed_bytes);
	DIR_FAMILY("nacct_nonip_packets_total", "Frames that carry neither IPv4 nor IPv6.",
		   nonip_packets);
	DIR_FAMILY("nacct_nonip_bytes_total", "Bytes of non-IP frames.", nonip_bytes);
	DIR_FAMILY("nacct_fragments_total", "IP fragments (also counted in their flows).",
		   frag_packets);
	DIR_FAMILY("nacct_gso_skbs_total", "GSO packets split into wire packets by TC egress.",
		   gso_skbs);

	family(f, "nacct_malformed_reason_packets_total", "counter",
	       "Malformed packets by reason.");
	for (i = 0; i < n; i++)
		for (k = 0; k < NACCT_MAL_MAX; k++) {
			fprintf(f, "nacct_malformed_reason_packets_total{ifname=\"");
			label(f, s[i].ifname);
			fprintf(f, "\",reason=\"%s\"} %llu\n", mal_reason[k], U(s[i].st.malformed[k]));
		}
	family(f, "nacct_nonip_ethertype_packets_total", "counter",
	       "Non-IP frames by ethertype.");
	for (i = 0; i < n; i++)
		for (k = 0; k < s[i].n_et; k++)
			for (d = 0; d < NACCT_DIR_MAX; d++) {
				fprintf(f, "nacct_nonip_ethertype_packets_total{ifname=\"");
				label(f, s[i].ifname);
				fprintf(f, "\",ethertype=\"0x%04x\",direction=\"%s\"} %llu\n",
					s[i].et[k].ethertype, dir_name[d],
					U(s[i].et[k].val.packets[d]));
			}
	IF_FAMILY("nacct_flow_insert_errors_total", "counter",
		  "Flow inserts that failed for another reason than a full map.", "%llu",
		  U(s[i].st.flow_insert_err));
	IF_FAMILY("nacct_samples_total", "counter", "Packets copied to the sample ring buffer.",
		  "%llu", U(s[i].st.samples));
	IF_FAMILY("nacct_sample_drops_total", "counter",
		  "Samples lost because the ring buffer was full.", "%llu",
		  U(s[i].st.sample_drops));
	IF_FAMILY("nacct_flows", "gauge", "Flows in the flow map.", "%llu", U(s[i].flows));
	IF_FAMILY("nacct_flows_max", "gauge", "Capacity of the flow map.", "%llu",
		  U(s[i].max_flows));
	IF_FAMILY("nacct_flow_map_fill_ratio", "gauge", "Flow map fill level (0..1).", "%.6f",
		  s[i].max_flows ? (double)s[i].flows / s[i].max_flows : 0.0);

	family(f, "nacct_subnet_packets_total", "counter",
	       "Packets by subnet: rx from the subnet, tx to it (subnet=\"none\": no match).");
	for (int b = 0; b < 2; b++) {
		if (b)
			family(f, "nacct_subnet_bytes_total", "counter", "Bytes by subnet.");
		for (i = 0; i < n; i++) {
			for (k = 0; k <= s[i].n_subs; k++) {
				const char *cidr = k ? s[i].subs[k - 1].cidr : "none";
				__u32 id = k ? s[i].subs[k - 1].id : 0;

				if (id >= s[i].n_sstats)
					continue;
				for (d = 0; d < NACCT_DIR_MAX; d++) {
					fprintf(f, "%s{ifname=\"",
						b ? "nacct_subnet_bytes_total" :
						    "nacct_subnet_packets_total");
					label(f, s[i].ifname);
					fprintf(f, "\",subnet=\"%s\",direction=\"%s\"} %llu\n", cidr,
						dir_name[d],
						U(b ? s[i].sstats[id].bytes[d] :
						      s[i].sstats[id].packets[d]));
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

static void write_prog_metrics(FILE *f, struct iface_snap *s, size_t n)
{
	char dir[256], path[512];
	size_t i, k;

	family(f, "nacct_bpf_stats_enabled", "gauge",
	       "kernel.bpf_stats_enabled: 1 when program run counts and times are collected.");
	fprintf(f, "nacct_bpf_stats_enabled %d\n", bpf_stats_enabled());
	for (int t = 0; t < 2; t++) {
		const char *name = t ? "nacct_prog_run_time_seconds_total" : "nacct_prog_runs_total";

		family(f, name, "counter",
		       t ? "Time spent in the program (0 unless kernel.bpf_stats_enabled=1)." :
			   "Program runs (0 unless kernel.bpf_stats_enabled=1).");
		for (i = 0; i < n; i++)
			for (k = 0; k < N_PROGS; k++) {
				if (!s[i].progs[k].present)
					continue;
				fprintf(f, "%s{ifname=\"", name);
				label(f, s[i].ifname);
				if (t)
					fprintf(f, "\",prog=\"%s\"} %.9f\n", prog_pins[k] + 5,
						s[i].progs[k].run_time_ns / 1e9);
				else
					fprintf(f, "\",prog=\"%s\"} %llu\n", prog_pins[k] + 5,
						U(s[i].progs[k].run_cnt));
			}
		/* side programs: their links under :probes */
		snprintf(dir, sizeof(dir), "%s/%s", NACCT_PIN_ROOT, NACCT_PROBES_PIN);
		static const char *const links[] = { "link_nacct_drop", "link_nacct_retrans",
						     "link_nacct_state", "link_nacct_rtt",
						     "link_nacct_rst_rx", "link_nacct_rst_tx" };
		for (k = 0; k < sizeof(links) / sizeof(links[0]); k++) {
			struct bpf_link_info li;
			struct prog_stat ps = { 0 };
			__u32 ilen = sizeof(li);
			int lfd, pfd;

			snprintf(path, sizeof(path), "%s/%s", dir, links[k]);
			lfd = bpf_obj_get(path);
			if (lfd < 0)
				continue;
			memset(&li, 0, sizeof(li));
			if (bpf_obj_get_info_by_fd(lfd, &li, &ilen) == 0) {
				pfd = bpf_prog_get_fd_by_id(li.prog_id);
				if (pfd >= 0) {
					prog_stat_fd(pfd, &ps);
					close(pfd);
				}
			}
			close(lfd);
			if (!ps.present)
				continue;
			if (t)
				fprintf(f, "%s{ifname=\"\",prog=\"%s\"} %.9f\n", name, links[k] + 11,
					ps.run_time_ns / 1e9);
			else
				fprintf(f, "%s{ifname=\"\",prog=\"%s\"} %llu\n", name, links[k] + 11,
					U(ps.run_cnt));
		}
	}
}

/* drops by reason and retransmits, when the side programs are loaded */
static void write_probe_metrics(FILE *f)
{
	char dir[256];
	struct nacct_probe_stats *ps = NULL, sum;
	__u64 *pc = NULL;
	struct btf *btf = NULL;
	const struct btf_type *et = NULL;
	int ncpu = nacct_ncpus(), sfd, rfd, i;
	__u32 zero = 0, r;

	snprintf(dir, sizeof(dir), "%s/%s", NACCT_PIN_ROOT, NACCT_PROBES_PIN);
	sfd = nacct_map_open(dir, "nacct_probe_stats", BPF_MAP_TYPE_PERCPU_ARRAY, 4,
			     sizeof(struct nacct_probe_stats));
	rfd = nacct_map_open(dir, "nacct_drop_reasons", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8);
	if (sfd >= 0) {
		ps = calloc(ncpu, sizeof(*ps));
		if (ps && bpf_map_lookup_elem(sfd, &zero, ps) == 0) {
			memset(&sum, 0, sizeof(sum));
			for (i = 0; i < ncpu; i++)
				for (size_t w = 0; w < sizeof(sum) / 8; w++)
					((__u64 *)&sum)[w] += ((__u64 *)&ps[i])[w];
			family(f, "nacct_tcp_retransmits_total", "counter",
			       "TCP segments retransmitted (all network namespaces).");
			fprintf(f, "nacct_tcp_retransmits_total %llu\n", U(sum.retrans));
			family(f, "nacct_tcp_resets_total", "counter", "TCP resets by direction.");
			fprintf(f, "nacct_tcp_resets_total{direction=\"rx\"} %llu\n",
				U(sum.resets_rx));
			fprintf(f, "nacct_tcp_resets_total{direction=\"tx\"} %llu\n",
				U(sum.resets_tx));
			family(f, "nacct_probe_events_lost_total", "counter",
			       "Side events lost because the ring buffer was full.");
			fprintf(f, "nacct_probe_events_lost_total %llu\n", U(sum.events_lost));
		}
		free(ps);
		close(sfd);
	}
	if (rfd < 0)
		return;
	pc = calloc(ncpu, sizeof(*pc));
	btf = btf__load_vmlinux_btf();
	if (btf) {
		int id = btf__find_by_name_kind(btf, "skb_drop_reason", BTF_KIND_ENUM);

		if (id > 0)
			et = btf__type_by_id(btf, id);
	}
	family(f, "nacct_drops_total", "counter",
	       "Packets freed by the kernel with a drop reason (skb:kfree_skb), by reason.");
	for (r = 0; pc && r < NACCT_DROP_REASONS; r++) {
		__u64 v = 0;
		char rbuf[32];
		const char *rn = NULL;

		if (bpf_map_lookup_elem(rfd, &r, pc))
			continue;
		for (i = 0; i < ncpu; i++)
			v += pc[i];
		if (!v)
			continue;
		if (et) {
			const struct btf_enum *e = btf_enum(et);

			for (i = 0; i < btf_vlen(et); i++)
				if (e[i].val == (int)r) {
					rn = btf__name_by_offset(btf, e[i].name_off);
					break;
				}
		}
		if (rn && !strncmp(rn, "SKB_DROP_REASON_", 16))
			rn += 16;
		if (!rn) {
			snprintf(rbuf, sizeof(rbuf), "%u", r);
			rn = rbuf;
		}
		fprintf(f, "nacct_drops_total{reason=\"%s\"} %llu\n", rn, U(v));
	}
	btf__free(btf);
	free(pc);
	close(rfd);
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

int cmd_serve(struct nacct_config *cfg)
{
	const char *listen = cfg->metrics ? cfg->metrics : "127.0.0.1:9464";
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
