// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nacct export: flow expiry and export to an IPFIX collector (or JSON
 * lines on stdout), exactly once across restarts.
 *
 * The command: its options, one exporter per attachment (a lock file),
 * signals, the loop of one round a second, and the log.  The work is the
 * exporter core's (lib/exporter.h: expiry, deltas, the journal, the
 * expired counter, and why a kill -9 anywhere neither loses nor repeats
 * a count), on the attachment's pinned maps (lib/exporter_bpf.c), into a
 * sink (ctl/sink.h: IPFIX over UDP/TCP, JSON lines).
 *
 * What remains (README "export"):
 *  - the transport: UDP can drop datagrams (the sequence numbers let the
 *    collector count them); with TCP a message queued to the socket is
 *    delivered unless the connection or the collector dies after we
 *    queued it.  Nothing here can see past the socket.
 *  - --json writes to a pipe or file with write(): "sent" is recorded
 *    right after write() returns, so a kill in that window repeats one
 *    batch of lines (each line carries its message sequence number).
 *  - the data path updates a flow through a pointer from its lookup; a
 *    packet that races the delete of an idle flow (idle for the whole
 *    --idle-timeout, then a packet within the same microsecond) can land
 *    in the freed element.  Only a data-path change could close that.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../lib/community_id.h"
#include "nacct.h"
#include "sink.h"
#include "../lib/exporter.h"
#include "../lib/exporter_bpf.h"
#include "../lib/log.h"
#include "../lib/side.h"
#include "../maps/maps.h"

const char *const nacct_transport_names[] = { "udp", "tcp", NULL };

#define TICK_MS 1000

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	g_stop = 1;
}

static __u64 mono_coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int parse_hostport(const char *s, struct sockaddr_storage *ss, socklen_t *len, int tcp)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	char host[256];
	const char *colon = strrchr(s, ':'), *h = s;
	size_t hl;
	int rc;

	if (!colon || !colon[1])
		return -EINVAL;
	hl = colon - s;
	if (*h == '[' && hl >= 2 && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	hints.ai_socktype = tcp ? SOCK_STREAM : SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc || !res)
		return -EINVAL;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* the addresses of this network namespace (v4-mapped for v4): which end is local */
struct local_addrs {
	__u8 (*a)[16];
	size_t n;
};

static void load_local(struct local_addrs *l)
{
	struct ifaddrs *ifa, *p;
	size_t n = 0;

	free(l->a);
	l->a = NULL;
	l->n = 0;
	if (getifaddrs(&ifa))
		return;
	for (p = ifa; p; p = p->ifa_next)
		n++;
	l->a = calloc(n ? n : 1, 16);
	for (p = ifa; p && l->a; p = p->ifa_next) {
		__u8 *a;

		if (!p->ifa_addr)
			continue;
		a = l->a[l->n];
		if (p->ifa_addr->sa_family == AF_INET) {
			memset(a, 0, 10);
			a[10] = a[11] = 0xff;
			memcpy(a + 12, &((struct sockaddr_in *)p->ifa_addr)->sin_addr, 4);
			l->n++;
		} else if (p->ifa_addr->sa_family == AF_INET6) {
			memcpy(a, &((struct sockaddr_in6 *)p->ifa_addr)->sin6_addr, 16);
			l->n++;
		}
	}
	freeifaddrs(ifa);
}

/* one exporter per attachment: the state maps are its alone */
static int lock_attachment(const char *ifname, int *fd)
{
	char lock[512], name[128];

	mkdir("/run/nacct", 0755);
	nacct_pin_name(ifname, name, sizeof(name));
	snprintf(lock, sizeof(lock), "/run/nacct/export.%s.lock", name);
	*fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd >= 0 && !flock(*fd, LOCK_EX | LOCK_NB))
		return 0;
	if (errno == EWOULDBLOCK)
		return nacct_usage_error("%s: another nacct export is running on it", ifname);
	pr_warn("%s: %s\n", lock, strerror(errno));
	return NACCT_EXIT_FAIL;
}

/* the destinations of one export, in lane order (the pins are named by kind) */
enum { SINK_IPFIX, SINK_JSON, SINK_CH, SINK_KINDS };
static const char *const sink_kind[] = { "ipfix", "json", "clickhouse" };

struct export_sinks {
	struct nacct_sink *s[NACCT_X_LANES];
	int kind[NACCT_X_LANES];
	const char *dest[NACCT_X_LANES];
	struct nacct_xpins_lane lane[NACCT_X_LANES]; /* each one's pinned state */
	int n;
};

static void log_recovery(const struct nacct_xrecovery *rec, const struct nacct_xpins *p,
			 const struct export_sinks *sk)
{
	const struct nacct_xjrecovery *r;
	int k;

	if (p->migrated)
		pr_info("export: the previous build's state converted (%u exported flows)\n",
			p->migrated_entries);
	for (k = 0; k < sk->n; k++) {
		r = &rec->j[k];
		if (p->b[k].grown)
			pr_info("export: %s: the journal now holds %u records (--batch)\n",
				sink_kind[sk->kind[k]], p->mem.lane[k].j_cap);
		if (r->intent && r->sent)
			pr_info("export: %s: message %llu (%u records) was sent before the restart: "
				"committing it\n", sink_kind[sk->kind[k]],
				(unsigned long long)r->message, r->records);
		else if (r->intent && r->unresolved)
			pr_info("export: %s: message %llu (%u records) may have reached the "
				"destination before the restart: asking it\n", sink_kind[sk->kind[k]],
				(unsigned long long)r->message, r->records);
		else if (r->intent)
			pr_info("export: %s: message %llu was not sent before the restart (%u of %u "
				"bytes): its records are sent again\n", sink_kind[sk->kind[k]],
				(unsigned long long)r->message, r->sent_len, r->msg_len);
	}

	if (rec->taken || rec->not_taken)
		pr_info("export: %u expired flows recovered from the pending map, %u deletes had "
			"not happened\n", rec->taken, rec->not_taken);
	if (rec->state_err)
		pr_warn("export: cannot record an exported flow: %s\n", strerror(-rec->state_err));
}

/* map pressure is never silent */
static void log_report(const char *ifname, const struct nacct_xreport *r,
		       const struct export_sinks *sk)
{
	int k;

	for (k = 0; k < sk->n; k++)
		if (r->lane_err[k] && r->lane_err[k] != -ENOENT)
			pr_warn("export: %s %s: %s\n", sink_kind[sk->kind[k]], sk->dest[k],
				strerror(-r->lane_err[k]));
	if (r->overflow_new)
		pr_warn("export: %s: flow map full, %llu packets went to the overflow bucket since "
			"the last round (%zu of %u flows)\n",
			ifname, (unsigned long long)r->overflow_new, r->flows, r->max_flows);
	if (r->fill_warn)
		pr_warn("export: %s: flow map %.0f%% full (%zu of %u)\n", ifname,
			r->max_flows ? 100.0 * r->flows / r->max_flows : 0.0, r->flows,
			r->max_flows);
	if (r->take_err)
		pr_warn("export: cannot remove an idle flow: %s\n", strerror(-r->take_err));
	if (r->state_err)
		pr_warn("export: cannot record an exported flow: %s\n", strerror(-r->state_err));
	if (r->resolved)
		pr_info("export: the message of sequence number %llu %s\n",
			(unsigned long long)r->resolved_seq,
			r->resolved == 1 ? "had committed: not sent again"
					 : "had not committed: its records are sent again");
}

struct export_run {
	const struct export_opts *cfg;
	const char *ifname;
	struct nacct_iface_maps m;
	int lock_fd;
	struct nacct_xpins pins;
	struct nacct_bpf_store store;
	int have_store;
	struct export_sinks sk;
	struct nacct_exporter *x;
	struct local_addrs local;
	/* the side programs' records, joined onto the records */
	struct nacct_probe_view pv;
	/* --clickhouse */
	char exporter[256];
	char *ch_password;
};

/* what a round needs from the system: local addresses, the side records */
static void prepare_round(struct export_run *r)
{
	int loaded;

	load_local(&r->local);
	nacct_exporter_set_local(r->x, (const __u8(*)[16])r->local.a, r->local.n);
	/* the side programs' records, joined onto every sink's records */
	nacct_probe_view_free(&r->pv);
	loaded = nacct_probe_view_load(&r->pv) == 0;
	if (loaded)
		nacct_probe_view_since(&r->pv, r->m.meta_val.attached_at);
	nacct_exporter_set_side(r->x, loaded ? &r->pv : NULL);
}

static int run_loop(struct export_run *r)
{
	struct nacct_xreport rep;
	int err, k, lane_errs;

	while (!g_stop) {
		prepare_round(r);
		err = nacct_exporter_round(r->x, mono_coarse_ns(), 0, &rep);
		log_report(r->ifname, &rep, &r->sk);
		for (k = 0, lane_errs = 0; k < r->sk.n; k++)
			lane_errs += rep.lane_err[k] != 0;
		/* a sink's failure is logged with its name above */
		if (err && err != -ENOENT && !lane_errs)
			pr_warn("export: round failed: %s\n", strerror(-err));
		for (k = 0; k < r->sk.n; k++) {
			if (r->sk.kind[k] == SINK_IPFIX)
				nacct_sink_ipfix_tick(r->sk.s[k]);
			if (r->sk.kind[k] == SINK_JSON)
				fflush(stdout);
		}
		if (!g_stop)
			poll(NULL, 0, TICK_MS);
	}
	/* SIGTERM/SIGINT: every delta out, then a clean exit */
	prepare_round(r);
	err = nacct_exporter_round(r->x, mono_coarse_ns(), 1, &rep);
	log_report(r->ifname, &rep, &r->sk);
	if (err)
		pr_warn("export: final flush failed: %s\n", strerror(-err));
	return err;
}

/*
 * One more sink, with where its state (journal + exported state) is
 * pinned, named by its kind: IPFIX's is nacct_export (as before several
 * sinks), and so is JSON's when it runs alone; beside IPFIX it has
 * nacct_export_json; ClickHouse's is nacct_export_ch.
 */
static void add_sink(struct export_sinks *sk, struct nacct_sink *s, int kind, const char *dest,
		     const char *pin, __u32 j_cap)
{
	sk->s[sk->n] = s;
	sk->kind[sk->n] = kind;
	sk->dest[sk->n] = dest;
	sk->lane[sk->n++] = (struct nacct_xpins_lane){ pin, j_cap };
}

/* the sinks of the options, in lane order: IPFIX, JSON lines on stdout, ClickHouse */
static int open_sinks(struct export_run *r, const struct sockaddr_storage *peer,
		      socklen_t peer_len)
{
	const struct export_opts *cfg = r->cfg;
	struct nacct_sink *s;
	int err;

	if (cfg->ipfix) {
		err = nacct_sink_ipfix_new(&s, cfg->ipfix, peer, peer_len, cfg->transport == 1,
					   (__u32)cfg->obs_domain);
		if (err) {
			pr_warn("export: cannot set up IPFIX: %s\n", strerror(-err));
			return err;
		}
		add_sink(&r->sk, s, SINK_IPFIX, cfg->ipfix, NACCT_MAP_EXPORT, NACCT_XJ_ITEMS);
	}
	if (cfg->json) {
		err = nacct_sink_json_new(&s, STDOUT_FILENO);
		if (err)
			return err;
		add_sink(&r->sk, s, SINK_JSON, "stdout",
			 cfg->ipfix ? NACCT_MAP_EXPORT_JSON : NACCT_MAP_EXPORT, NACCT_XJ_ITEMS);
	}
	if (cfg->clickhouse) {
		struct nacct_ch_opts o = {
			.url = cfg->clickhouse, .database = cfg->ch_database,
			.table = cfg->ch_table, .user = cfg->ch_user, .password = r->ch_password,
			.exporter = r->exporter, .ifname = r->ifname,
			.domain = (__u32)cfg->obs_domain,
			.attachment = r->m.meta_val.attached_at,
			.batch = (unsigned int)cfg->ch_batch, .ttl_days = (unsigned int)cfg->ch_ttl_days,
		};

		err = nacct_sink_clickhouse_new(&s, &o);
		if (err) {
			pr_warn("export: cannot set up ClickHouse: %s\n", strerror(-err));
			return err;
		}
		add_sink(&r->sk, s, SINK_CH, cfg->clickhouse, NACCT_MAP_EXPORT_CH,
			 (__u32)cfg->ch_batch);
	}
	return 0;
}

/* --clickhouse and its options: checked before anything is opened */
static int check_clickhouse(struct export_run *r)
{
	struct export_opts *cfg = (struct export_opts *)r->cfg;
	char line[512];
	FILE *f;
	size_t n;

	if (!cfg->clickhouse) {
		if (cfg->ch_database || cfg->ch_table || cfg->ch_user || cfg->ch_password_file ||
		    cfg->exporter_id || cfg->ch_batch || cfg->ch_ttl_days)
			return nacct_usage_error("export: --database, --table, --batch, --user, "
						 "--password-file, --exporter-id and --ttl-days go "
						 "with --clickhouse");
		return 0;
	}
	if (strncmp(cfg->clickhouse, "http://", 7) && strncmp(cfg->clickhouse, "https://", 8))
		return nacct_usage_error("export: --clickhouse %s: expected http://HOST:PORT",
					 cfg->clickhouse);
	/* no trailing slash: the sink appends "/?query=" */
	n = strlen(cfg->clickhouse);
	while (n > 8 && cfg->clickhouse[n - 1] == '/')
		((char *)cfg->clickhouse)[--n] = '\0';
	if (!cfg->ch_batch)
		cfg->ch_batch = NACCT_CH_BATCH;
	if (!cfg->ch_database)
		cfg->ch_database = "nacct";
	if (!cfg->ch_table)
		cfg->ch_table = "flows";
	if (!nacct_ch_ident_ok(cfg->ch_database))
		return nacct_usage_error("export: --database %s: letters, digits and _ only",
					 cfg->ch_database);
	if (!nacct_ch_ident_ok(cfg->ch_table))
		return nacct_usage_error("export: --table %s: letters, digits and _ only",
					 cfg->ch_table);
	if (cfg->ch_password_file) {
		if (!cfg->ch_user)
			return nacct_usage_error("export: --password-file goes with --user");
		f = fopen(cfg->ch_password_file, "r");
		if (!f)
			return nacct_usage_error("export: --password-file %s: %s",
						 cfg->ch_password_file, strerror(errno));
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
		line[strcspn(line, "\r\n")] = '\0';
		r->ch_password = strdup(line);
		explicit_bzero(line, sizeof(line));
	}
	if (cfg->exporter_id) {
		if (!*cfg->exporter_id || strlen(cfg->exporter_id) >= sizeof(r->exporter))
			return nacct_usage_error("export: --exporter-id: 1 to %zu characters",
						 sizeof(r->exporter) - 1);
		snprintf(r->exporter, sizeof(r->exporter), "%s", cfg->exporter_id);
	} else if (gethostname(r->exporter, sizeof(r->exporter) - 1)) {
		snprintf(r->exporter, sizeof(r->exporter), "unknown");
	}
	return 0;
}

/* the options, before anything is opened: 0 or NACCT_EXIT_USAGE after saying why */
static int check_opts(struct export_run *r, struct sockaddr_storage *peer, socklen_t *peer_len)
{
	const struct export_opts *cfg = r->cfg;
	int ret;

	if (!cfg->json && !cfg->ipfix && !cfg->clickhouse)
		return nacct_usage_error("export: give --ipfix HOST:PORT, --clickhouse URL or --json");
	ret = check_clickhouse(r);
	if (ret)
		return ret;
	if (cfg->ipfix && parse_hostport(cfg->ipfix, peer, peer_len, cfg->transport == 1))
		return nacct_usage_error("export: --ipfix %s: expected HOST:PORT", cfg->ipfix);
	return 0;
}

int nacct_export_check(struct export_opts *cfg)
{
	struct export_run r;
	struct sockaddr_storage peer;
	socklen_t peer_len = 0;
	int ret;

	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	ret = check_opts(&r, &peer, &peer_len);
	free(r.ch_password);
	return ret;
}

int cmd_export(struct export_opts *cfg)
{
	struct export_run r;
	struct nacct_xrecovery rec;
	struct nacct_xfigures fig;
	struct nacct_xcfg xc;
	struct sockaddr_storage peer;
	socklen_t peer_len = 0;
	struct sigaction sa;
	int err, k, ret = NACCT_EXIT_FAIL, tcp = cfg->transport == 1;

	nacct_community_id_seed = (__u16)cfg->cid_seed;

	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	r.ifname = cfg->a.argv[0];
	r.lock_fd = -1;
	r.m.flows = -1;
	r.pins.pend_fd = r.pins.exp_fd = -1;
	for (k = 0; k < NACCT_X_LANES; k++)
		r.pins.b[k].fd = -1;
	ret = check_opts(&r, &peer, &peer_len);
	if (ret)
		goto out;
	ret = NACCT_EXIT_FAIL;
	err = nacct_need_bpf();
	if (err)
		return err;
	err = nacct_iface_open(r.ifname, &r.m);
	if (err == -ENOENT)
		return nacct_usage_error("%s is not attached", r.ifname);
	if (err == -EPROTO)
		return nacct_usage_error("%s: pinned maps were made by an incompatible nacct build; "
					 "detach and attach again", r.ifname);
	if (err) {
		pr_warn("%s: cannot open pinned maps: %s\n", r.ifname, strerror(-err));
		return NACCT_EXIT_FAIL;
	}
	ret = lock_attachment(r.ifname, &r.lock_fd);
	if (ret)
		goto out;
	ret = NACCT_EXIT_FAIL;
	/* the sinks first (nothing connects yet): they name their pinned state */
	err = open_sinks(&r, &peer, peer_len);
	if (err)
		goto out;
	err = nacct_xpins_open(r.m.dir, r.m.meta_val.max_flows, nacct_flow_copies(&r.m.meta_val),
			       r.sk.lane, r.sk.n, &r.pins);
	if (err == -EPROTO)
		pr_warn("%s/%s was made by an incompatible nacct build\n", r.m.dir,
			r.pins.bad ? r.pins.bad : NACCT_MAP_EXPORT);
	if (err) {
		pr_warn("%s: cannot open the export state maps: %s\n", r.ifname, strerror(-err));
		goto out;
	}
	err = nacct_bpf_store_init(&r.store, r.m.flows, r.m.stats, r.m.queues);
	if (!err)
		nacct_bpf_store_member(&r.store, r.m.slot, r.m.if_filter);
	if (!err)
		nacct_bpf_store_tunnels(&r.store, r.m.tunnels);
	if (err)
		goto out;
	r.have_store = 1;
	xc = (struct nacct_xcfg){
		.ifname = r.ifname,
		.ifindex = r.m.meta_val.ifindex,
		.max_flows = r.m.meta_val.max_flows,
		.idle_ns = cfg->idle_timeout * 1000000000ULL,
		.active_ns = cfg->active_timeout * 1000000000ULL,
		.scan_rate = (__u32)cfg->scan_rate,
	};
	err = nacct_exporter_new(&r.x, &xc, &r.store.base, &r.pins.mem, r.sk.s, &rec);
	if (err) {
		pr_warn("%s: cannot start the exporter: %s\n", r.ifname, strerror(-err));
		goto out;
	}
	log_recovery(&rec, &r.pins, &r.sk);
	for (k = 0; k < r.sk.n; k++) {
		if (r.sk.kind[k] == SINK_JSON)
			continue;
		err = nacct_exporter_open(r.x, k);
		if (err == -EOPNOTSUPP) {
			ret = NACCT_EXIT_USAGE;
			goto out;
		}
		if (err)
			pr_warn("export: cannot reach %s: %s (retrying every second)\n",
				r.sk.dest[k], strerror(-err));
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	for (k = 0; k < r.sk.n; k++)
		pr_info("export: %s -> %s (%s), idle %llus, active %llus, domain %llu\n", r.ifname,
			r.sk.dest[k], r.sk.kind[k] == SINK_IPFIX ? nacct_transport_names[tcp]
								 : sink_kind[r.sk.kind[k]],
			(unsigned long long)cfg->idle_timeout,
			(unsigned long long)cfg->active_timeout, (unsigned long long)cfg->obs_domain);

	if (run_loop(&r))
		goto out;
	nacct_exporter_figures(r.x, &fig);
	pr_info("export: %s: %llu records in %llu messages, %llu flows expired\n", r.ifname,
		(unsigned long long)fig.records, (unsigned long long)fig.messages,
		(unsigned long long)fig.flows_expired);
	ret = 0;
out:
	nacct_exporter_free(r.x);
	for (k = 0; k < r.sk.n; k++)
		r.sk.s[k]->ops->close(r.sk.s[k]);
	if (r.have_store)
		nacct_bpf_store_free(&r.store);
	nacct_xpins_close(&r.pins);
	if (r.lock_fd >= 0)
		close(r.lock_fd);
	free(r.local.a);
	free(r.ch_password);
	nacct_probe_view_free(&r.pv);
	nacct_iface_close(&r.m);
	return ret;
}
