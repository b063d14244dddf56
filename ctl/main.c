// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nacct: the command table and typed option parser.  Every option of
 * every command is declared here once, bound to a field of that command's
 * own option struct (ctl/nacct.h), and parsed and validated in one place:
 * a bad value is one
 * clear line on stderr and exit status 2.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nacct.h"
#include "../lib/exporter.h"
#include "sink.h"
#include "../lib/log.h"
#include "../lib/probes.h"

#ifndef NACCT_VERSION
#define NACCT_VERSION "0.1.0"
#endif

const char *const nacct_mode_names[] = { "auto", "native", "generic", "offload", NULL };
const char *const nacct_hook_names[] = { "xdp", "tc", NULL };
/* --flow-layout: index = enum nacct_layout_req ("default" is index 0) */
const char *const nacct_layout_names[] = { "default", "percpu", "shared", NULL };
/* --multi-buffer: index = enum nacct_mb_req */
const char *const nacct_mb_names[] = { "auto", "on", "off", NULL };
/* --side-programs: index = enum nacct_side_req */
const char *const nacct_side_names[] = { "on", "off", NULL };
const char *const nacct_decap_names[] = { "on", "off", NULL };
const char *const nacct_sort_names[] = { "bytes", "packets", "first", "last", NULL };

/* an option bound to field f of the command's option struct st */
#define OFF(st, f) offsetof(struct st, f)

/* the global options bind to every struct's leading struct nacct_args */
#define ARGS(f) offsetof(struct nacct_args, f)

static const struct nacct_opt opts_detach[] = {
	{ "all", 0, OPT_FLAG, OFF(detach_opts, all), NULL,
	  "every attachment of this network namespace" },
	{ "match", 0, OPT_STR, OFF(detach_opts, match), "GLOB[,GLOB]",
	  "with --all: only interfaces whose name matches" },
	{ "exclude", 0, OPT_STR, OFF(detach_opts, exclude), "GLOB[,GLOB]",
	  "with --all: not interfaces whose name matches" },
	{ 0 },
};

static const struct nacct_opt opts_attach[] = {
	{ "all", 0, OPT_FLAG, OFF(attach_opts, all), NULL,
	  "every interface of this network namespace but lo (those attached already are left "
	  "as they are)" },
	{ "match", 0, OPT_STR, OFF(attach_opts, match), "GLOB[,GLOB]",
	  "with --all: only interfaces whose name matches (e.g. 'veth*,eth*')" },
	{ "exclude", 0, OPT_STR, OFF(attach_opts, exclude), "GLOB[,GLOB]",
	  "with --all: not interfaces whose name matches" },
	{ "follow", 0, OPT_FLAG, OFF(attach_opts, follow), NULL,
	  "with --all: keep running, attach interfaces that appear (rtnetlink) and remove what "
	  "those that go leave behind, until SIGTERM/SIGINT" },
	{ "detach-on-exit", 0, OPT_FLAG, OFF(attach_opts, detach_on_exit), NULL,
	  "with --follow: at SIGTERM/SIGINT detach the interfaces this command attached (what "
	  "nacct-all.service does)" },
	{ "mode", 0, OPT_ENUM, OFF(attach_opts, req.mode), "MODE",
	  "XDP mode: auto (native if the driver has it, else generic; says why), native, "
	  "generic, offload (runs on the NIC: device totals only; see nacct caps)", nacct_mode_names },
	{ "hook", 0, OPT_ENUM, OFF(attach_opts, req.hook), "HOOK",
	  "ingress hook: xdp (default) or tc; egress is always TC", nacct_hook_names },
	{ "subnets", 0, OPT_CIDRS, OFF(attach_opts, req.subnets), "CIDR[,CIDR...]|@FILE",
	  "subnets to count traffic by (IPv4 and IPv6)" },
	{ "max-flows", 0, OPT_U64, OFF(attach_opts, req.max_flows), "N",
	  "flow table capacity (default 262144); beyond it packets go to the overflow bucket",
	  NULL, 16, 1ULL << 26 },
	{ "force", 0, OPT_FLAG, OFF(attach_opts, req.force), NULL,
	  "replace an XDP program that is not nacct's" },
	{ "multi", 0, OPT_FLAG, OFF(attach_opts, req.multi), NULL,
	  "run beside other XDP programs: through libxdp's multi-program dispatcher (a new one, "
	  "or the one on the interface; nacct runs first). Without it nacct joins a dispatcher "
	  "it finds; another program loaded without one is refused. Needs freplace (exit 2 "
	  "where the kernel refuses it)" },
	{ "sample", 0, OPT_RATIO, OFF(attach_opts, req.sample_n), "1/N",
	  "mirror 1 in N packets to the sample ring buffer from the start (for nacct capture)",
	  NULL, 1, UINT32_MAX },
	{ "flow-layout", 0, OPT_ENUM, OFF(attach_opts, req.flow_layout), "LAYOUT",
	  "flow table values: percpu (one per CPU, plain adds; memory grows with the CPU count) "
	  "or shared (one per flow, atomic adds); default: " NACCT_FLOW_LAYOUT_DEFAULT_NAME,
	  nacct_layout_names },
	{ "multi-buffer", 0, OPT_ENUM, OFF(attach_opts, req.multi_buffer), "auto|on|off",
	  "the XDP program for frames larger than one buffer (jumbo MTUs): auto (where the "
	  "kernel has it and the driver takes multi-buffer frames), on (kernel 5.18+), off "
	  "(single-buffer: a few ns less per packet; a jumbo MTU then leaves generic mode only)",
	  nacct_mb_names },
	{ "side-programs", 0, OPT_ENUM, OFF(attach_opts, req.side_programs), "on|off",
	  "load the host's side programs (drops with reason, retransmits, TCP states) if not "
	  "loaded yet: on (default); off: the data path only (no per-drop cost on a host that "
	  "drops floods)", nacct_side_names },
	{ "probes", 0, OPT_ENUM, OFF(attach_opts, req.probes), "auto|tracepoint|kprobe",
	  "how the side programs are loaded: auto (default: tracepoints, the kprobe twin where "
	  "the kernel lacks one), tracepoint (a missing one is an error, exit 2), kprobe (every "
	  "kprobe twin; no kprobes is an error, exit 2). The loaded set is shared: auto reuses it, "
	  "a forced mode it does not meet is an error (nothing is attached)",
	  nacct_probes_mode_names },
	{ "decap", 0, OPT_ENUM, OFF(attach_opts, req.decap), "on|off",
	  "tunnels (VXLAN, Geneve, GRE, GRETAP, IPIP, SIT, IPv6-in-IPv6, 4in6, MPLS): on "
	  "(default): the inner flow, with the tunnel in its key; off: the outer headers only",
	  nacct_decap_names },
	{ "domain", 0, OPT_STR, OFF(attach_opts, req.domain), "NAME|none",
	  "share one set of programs and tables with the other interfaces of this network "
	  "namespace's domain NAME (loaded by its first member; each more interface is a link: "
	  "ms, no memory of its own); flows carry their interface. Default: none, but "
	  "\"" NACCT_DOMAIN_DEFAULT "\" with --all" },
	{ "dedup", 0, OPT_FLAG, OFF(attach_opts, req.dedup), NULL,
	  "with --domain/--all, when the domain is loaded: keep a host view too, every packet "
	  "counted once however many members saw it (veth, bridge, NIC), with the interfaces it "
	  "crossed (nacct flows --host); per-interface counts stay as they are. Kernel 5.12+" },
	{ "max-ifaces", 0, OPT_U64, OFF(attach_opts, req.max_ifaces), "N",
	  "a new domain's capacity in interfaces (default 512): its per-interface rows are "
	  "allocated when it is loaded", NULL, 1, 65535 },
	{ "tunnel-ports", 0, OPT_TUNPORTS, OFF(attach_opts, req.tun_ports),
	  "vxlan=P[,P..],geneve=P[,P..]",
	  "UDP ports of the UDP tunnels (up to 4 each; default vxlan=4789,8472,geneve=6081; a "
	  "type not given keeps its defaults)" },
	{ 0 },
};

static const struct nacct_opt opts_json[] = {
	{ "json", 'j', OPT_FLAG, OFF(json_opts, json), NULL, "one JSON object per line" },
	{ 0 },
};

static const struct nacct_opt opts_flows[] = {
	{ "json", 'j', OPT_FLAG, OFF(flows_opts, json), NULL, "one JSON object per line" },
	{ "csv", 0, OPT_FLAG, OFF(flows_opts, csv), NULL, "comma-separated values with a header line" },
	{ "sort", 's', OPT_ENUM, OFF(flows_opts, sort), "KEY", "sort by bytes (default), packets, first, last",
	  nacct_sort_names },
	{ "top", 'n', OPT_U64, OFF(flows_opts, top), "N", "show only the first N flows", NULL, 1,
	  UINT32_MAX },
	{ "host", 0, OPT_FLAG, OFF(flows_opts, host), NULL,
	  "the host view of the interface's shared domain (attach --dedup): each packet once, "
	  "IFACE where it was first seen, IFACES every member that saw it" },
	{ "community-id-seed", 0, OPT_U64, OFF(flows_opts, cid_seed), "N",
	  "seed of the records' community_id (Community ID v1; default 0, as Zeek and "
	  "Suricata)", NULL, 0, 65535 },
	{ 0 },
};

static const struct nacct_opt opts_top[] = {
	{ "interval", 'i', OPT_U64, OFF(top_opts, interval), "SECONDS",
	  "seconds between refreshes (default 2); rates are over the measured interval", NULL, 1,
	  3600 },
	{ "by", 'b', OPT_ENUM, OFF(top_opts, by), "VIEW",
	  "rows: flows (default), subnets, ports (protocol + responder port), protocols",
	  nacct_top_by_names },
	{ "count", 'n', OPT_U64, OFF(top_opts, count), "COUNT", "exit after COUNT refreshes", NULL, 1,
	  UINT32_MAX },
	{ "rows", 0, OPT_U64, OFF(top_opts, rows), "N",
	  "rows per refresh when not on a terminal (default 25)", NULL, 1, UINT32_MAX },
	{ "json", 'j', OPT_FLAG, OFF(top_opts, json), NULL,
	  "one JSON object per row and per refresh (a \"total\" object first)" },
	{ 0 },
};

static const struct nacct_opt opts_capture[] = {
	{ "write", 'w', OPT_STR, OFF(capture_opts, write), "FILE|-",
	  "pcap file (nanosecond timestamps), or - for stdout; with -G a strftime(3) pattern" },
	{ "count", 'c', OPT_U64, OFF(capture_opts, count), "COUNT", "stop after exactly COUNT packets written",
	  NULL, 1, UINT64_MAX },
	{ "rotate", 'G', OPT_U64, OFF(capture_opts, rotate), "SECONDS",
	  "start a new file every SECONDS (FILE as strftime pattern, else FILE, FILE.1, ...)",
	  NULL, 1, 1U << 30 },
	{ "sample", 0, OPT_RATIO, OFF(capture_opts, sample_n), "1/N",
	  "capture 1 in N packets, drawn at random (default 1/1: every packet)", NULL, 1,
	  UINT32_MAX },
	{ "snaplen", 's', OPT_U64, OFF(capture_opts, snaplen), "N",
	  "bytes kept per packet (default and most: 1536 inline, 65536 with --tap: whole frames)", NULL, 1,
	  262144 },
	{ "tap", 0, OPT_FLAG, OFF(capture_opts, tap), NULL,
	  "tap mode for a mirror port: sampled RX frames go to AF_XDP sockets, all other RX "
	  "frames are DROPPED after counting" },
	{ "frames", 0, OPT_U64, OFF(capture_opts, xsk_frames), "N",
	  "--tap: UMEM frames per RX queue, power of two (default 8192, 4 KiB each)", NULL, 64,
	  1U << 20 },
	{ "ring", 0, OPT_U64, OFF(capture_opts, xsk_ring), "N",
	  "--tap: AF_XDP RX ring size per queue, power of two (default 4096)", NULL, 64,
	  1U << 18 },
	{ "copy", 0, OPT_FLAG, OFF(capture_opts, xsk_copy), NULL,
	  "--tap: bind the AF_XDP sockets in copy mode even where the driver offers zero-copy" },
	{ 0 },
};

static const struct nacct_opt opts_events[] = {
	{ "drops", 0, OPT_FLAG, OFF(events_opts, drops), NULL, "drops with the kernel's reason (tcpdrop)" },
	{ "retrans", 0, OPT_FLAG, OFF(events_opts, retrans), NULL, "TCP retransmits (tcpretrans)" },
	{ "states", 0, OPT_FLAG, OFF(events_opts, states), NULL,
	  "state changes, connect/accept latency, listen, resets (tcpstates, tcpconnlat)" },
	{ "life", 0, OPT_FLAG, OFF(events_opts, life), NULL, "lifespans with bytes and segments (tcplife)" },
	{ "pid", 'p', OPT_U64, OFF(events_opts, pid), "PID", "only events of this process", NULL, 1,
	  UINT32_MAX },
	{ "lport", 'L', OPT_U64, OFF(events_opts, lport), "LPORT",
	  "only this local port (drops: the packet's destination port)", NULL, 1, 65535 },
	{ "rport", 'D', OPT_U64, OFF(events_opts, rport), "RPORT",
	  "only this remote port (drops: the packet's source port)", NULL, 1, 65535 },
	{ "json", 'j', OPT_FLAG, OFF(events_opts, json), NULL, "one JSON object per event" },
	{ "probes", 0, OPT_ENUM, OFF(events_opts, probes), "auto|tracepoint|kprobe",
	  "how to load the side programs when none are loaded (see attach --probes); a forced "
	  "mode that the loaded ones do not meet is an error", nacct_probes_mode_names },
	{ 0 },
};

static const struct nacct_opt opts_export[] = {
	{ "ipfix", 0, OPT_STR, OFF(export_opts, ipfix), "HOST:PORT", "IPFIX collector (e.g. nfcapd)" },
	{ "transport", 0, OPT_ENUM, OFF(export_opts, transport), "PROTO", "udp (default) or tcp",
	  nacct_transport_names },
	{ "idle-timeout", 0, OPT_U64, OFF(export_opts, idle_timeout), "S",
	  "remove a flow idle for S seconds, export its last delta (default 15)", NULL, 1,
	  86400 },
	{ "active-timeout", 0, OPT_U64, OFF(export_opts, active_timeout), "S",
	  "export a running flow every S seconds (default 60)", NULL, 1, 86400 },
	{ "observation-domain", 0, OPT_U64, OFF(export_opts, obs_domain), "N",
	  "IPFIX observation domain id (default 0)", NULL, 0, UINT32_MAX },
	{ "scan-rate", 0, OPT_U64, OFF(export_opts, scan_rate), "N",
	  "flows read from the flow map per second at most (default 16384): a larger map is "
	  "read in passes, and both timeouts act at a flow's next visit; higher costs more CPU",
	  NULL, 1024, 1U << 26 },
	{ "json", 'j', OPT_FLAG, OFF(export_opts, json), NULL,
	  "JSON lines on stdout (alone, or beside --ipfix/--clickhouse: one pass feeds all)" },
	{ "clickhouse", 0, OPT_STR, OFF(export_opts, clickhouse), "URL",
	  "flow records into ClickHouse over HTTP (http://HOST:8123), exactly once" },
	{ "database", 0, OPT_STR, OFF(export_opts, ch_database), "D",
	  "ClickHouse database (default nacct; created if missing)" },
	{ "table", 0, OPT_STR, OFF(export_opts, ch_table), "T",
	  "ClickHouse table (default flows; created if missing, columns added)" },
	{ "batch", 0, OPT_U64, OFF(export_opts, ch_batch), "N",
	  "ClickHouse: rows an INSERT at most (default 65536; the exporter's journal holds "
	  "them: 88 B a row)", NULL, 1, NACCT_XJ_ITEMS_MAX },
	{ "user", 0, OPT_STR, OFF(export_opts, ch_user), "U", "ClickHouse user" },
	{ "password-file", 0, OPT_STR, OFF(export_opts, ch_password_file), "F",
	  "ClickHouse password: the first line of F" },
	{ "exporter-id", 0, OPT_STR, OFF(export_opts, exporter_id), "ID",
	  "this host in ClickHouse's exporter column (default: the host name)" },
	{ "ttl-days", 0, OPT_U64, OFF(export_opts, ch_ttl_days), "N",
	  "ClickHouse: keep N days (a new table's TTL on servers 19.6+; older ones: nacct drops "
	  "the older days itself, hourly)", NULL, 1, 36500 },
	{ "community-id-seed", 0, OPT_U64, OFF(export_opts, cid_seed), "N",
	  "seed of the records' community_id (Community ID v1; default 0, as Zeek and "
	  "Suricata)", NULL, 0, 65535 },
	{ 0 },
};

static const struct nacct_opt opts_serve[] = {
	{ "metrics", 0, OPT_STR, OFF(serve_opts, metrics), "ADDR:PORT",
	  "listen address of the Prometheus endpoint (default 127.0.0.1:9464)" },
	{ 0 },
};

static const struct nacct_opt opts_softirqs[] = {
	{ "json", 'j', OPT_FLAG, OFF(softirqs_opts, json), NULL,
	  "one JSON object per vector (and CPU) per interval" },
	{ "cpu", 'C', OPT_FLAG, OFF(softirqs_opts, cpu), NULL, "one row per CPU and vector" },
	{ "dist", 'd', OPT_FLAG, OFF(softirqs_opts, dist), NULL,
	  "log2 histograms of each run's time (us)" },
	{ 0 },
};

static const struct nacct_opt opts_rtt[] = {
	{ "by", 'b', OPT_ENUM, OFF(rtt_opts, by), "KEY",
	  "one histogram per remote or local address or port (default: none, one histogram)",
	  nacct_rtt_by_names },
	{ "pid", 'p', OPT_U64, OFF(rtt_opts, pid), "PID",
	  "only sockets of this process (its socket fds, rescanned every 100 ms)", NULL, 1,
	  UINT32_MAX },
	{ "lport", 'L', OPT_U64, OFF(rtt_opts, lport), "LPORT", "only this local port", NULL, 1,
	  65535 },
	{ "rport", 'D', OPT_U64, OFF(rtt_opts, rport), "RPORT", "only this remote port", NULL, 1,
	  65535 },
	{ "milliseconds", 'm', OPT_FLAG, OFF(rtt_opts, ms), NULL,
	  "milliseconds instead of microseconds" },
	{ "json", 'j', OPT_FLAG, OFF(rtt_opts, json), NULL, "one JSON object per key per interval" },
	{ 0 },
};

static const struct nacct_opt opts_backlog[] = {
	{ "lport", 'L', OPT_U64, OFF(backlog_opts, lport), "LPORT", "only listeners on this port",
	  NULL, 1, 65535 },
	{ "all", 'a', OPT_FLAG, OFF(backlog_opts, all), NULL,
	  "every listener of the namespace, also those with no connection or drop" },
	{ "json", 'j', OPT_FLAG, OFF(backlog_opts, json), NULL,
	  "one JSON object per listener per interval" },
	{ 0 },
};

static const struct nacct_opt opts_none[] = { { 0 } };
static int run_check_config(void *o);

/* each command's entry: its function and option struct, typed once here */
#define CMD(name, st) .fn = run_##name, .opts_size = sizeof(struct st)
#define RUN(name, st)                                   \
	static int run_##name(void *o)                  \
	{                                               \
		return cmd_##name((struct st *)o);       \
	}
RUN(attach, attach_opts)
RUN(detach, detach_opts)
RUN(status, json_opts)
RUN(flows, flows_opts)
RUN(subnets, json_opts)
RUN(tunnels, json_opts)
RUN(top, top_opts)
RUN(capture, capture_opts)
RUN(events, events_opts)
RUN(caps, json_opts)
RUN(export, export_opts)
RUN(serve, serve_opts)
RUN(softirqs, softirqs_opts)
RUN(rtt, rtt_opts)
RUN(queues, json_opts)
RUN(backlog, backlog_opts)

static const struct attach_opts attach_defaults = {
	.req = { .mode = NACCT_M_AUTO, .hook = NACCT_H_XDP, .max_flows = NACCT_MAX_FLOWS_DEFAULT },
};
static const struct top_opts top_defaults = { .interval = 2, .rows = 25 };
static const struct export_opts export_defaults = {
	.idle_timeout = 15, .active_timeout = 60, .scan_rate = NACCT_X_SCAN_RATE,
};
static const struct serve_opts serve_defaults = { .metrics = "127.0.0.1:9464" };

const struct nacct_cmd nacct_commands[] = {
	{ "attach", opts_attach, &attach_defaults, "IFACE... | --all", 0, 4096,
	  "attach XDP ingress + TC egress accounting to each IFACE (or every interface: --all); "
	  "stays attached after exit",
	  "nacct attach eth0 --subnets 10.0.0.0/8,2001:db8::/32",
	  CMD(attach, attach_opts) },
	{ "detach", opts_detach, NULL, "IFACE... | --all", 0, 4096,
	  "remove nacct's programs, filters, qdisc and pins from each IFACE (or all: --all)",
	  "nacct detach eth0",
	  CMD(detach, detach_opts) },
	{ "status", opts_json, NULL, "[IFACE]", 0, 1,
	  "hooks, mode and why, program ids, map fill, totals", "nacct status eth0 --json",
	  CMD(status, json_opts) },
	{ "flows", opts_flows, NULL, "[IFACE]", 0, 1,
	  "per-flow counters (both directions, first/last seen, TCP flags)",
	  "nacct flows eth0 --sort packets --top 10",
	  CMD(flows, flows_opts) },
	{ "subnets", opts_json, NULL, "[IFACE] [INTERVAL [COUNT]]", 0, 3,
	  "per-subnet counters, rx = from the subnet, tx = to it; with INTERVAL, per-interval deltas",
	  "nacct subnets eth0 1 5",
	  CMD(subnets, json_opts) },
	{ "tunnels", opts_json, NULL, "[IFACE]", 0, 1,
	  "per tunnel (type, VNI/key/label, outer endpoints): packets and bytes of its inner "
	  "flows by direction, and how many",
	  "nacct tunnels eth0 --json",
	  CMD(tunnels, json_opts) },
	{ "top", opts_top, &top_defaults, "[IFACE]", 0, 1,
	  "live rates by flow, subnet, port, protocol or tunnel (keys: q quit, s sort, b view, p "
	  "pause)",
	  "nacct top eth0 -i 1 --by subnets",
	  CMD(top, top_opts) },
	{ "capture", opts_capture, NULL, "IFACE [FILTER...]", 1, 256,
	  "sampled packets to pcap (tcpdump filter syntax); attaches for the duration if needed",
	  "nacct capture eth0 -w out.pcap -c 1000 --sample 1/100 udp port 53",
	  CMD(capture, capture_opts) },
	{ "events", opts_events, NULL, "[IFACE]", 0, 1,
	  "stream TCP side events: drops with reason, retransmits, states, lifespans (tracepoints; --probes kprobe: the kprobe twins)",
	  "nacct events eth0 --retrans --states -D 443",
	  CMD(events, events_opts) },
	{ "caps", opts_json, NULL, "IFACE", 1, 1,
	  "the driver's XDP capabilities (xdp-features, offload probe) and what --mode auto picks",
	  "nacct caps eth0 --json",
	  CMD(caps, json_opts) },
	{ "export", opts_export, &export_defaults, "IFACE", 1, 1,
	  "expire flows and export them as IPFIX, JSON lines and/or ClickHouse rows, exactly once "
	  "across restarts",
	  "nacct export eth0 --ipfix 127.0.0.1:9995 --clickhouse http://127.0.0.1:8123",
	  CMD(export, export_opts) },
	{ "check-config", opts_none, NULL, "FILE...", 1, 4096,
	  "check the files the systemd units read (/etc/default/nacct-IFACE: "
	  "NACCT_ATTACH_ARGS, /etc/default/nacct-export-IFACE: NACCT_EXPORT_ARGS, "
	  "/etc/default/nacct-all: NACCT_ALL_ARGS) with the "
	  "commands' own option checks; exit 2 on the first bad line",
	  "nacct check-config /etc/default/nacct-*",
	  .fn = run_check_config, .opts_size = sizeof(struct check_config_opts) },
	{ "softirqs", opts_softirqs, NULL, "[INTERVAL [COUNT]]", 0, 2,
	  "time and count per softirq vector (bcc softirqs); without INTERVAL until Ctrl-C, "
	  "SIGUSR1 ends an interval early",
	  "nacct softirqs 1 5 --cpu",
	  CMD(softirqs, softirqs_opts) },
	{ "rtt", opts_rtt, NULL, "[IFACE] [INTERVAL [COUNT]]", 0, 3,
	  "histograms of TCP's smoothed RTT per interval, per address or port (bcc tcprtt; "
	  "tcp:tcp_probe)",
	  "nacct rtt eth0 1 5 --by raddr -D 443",
	  CMD(rtt, rtt_opts) },
	{ "queues", opts_json, NULL, "IFACE [INTERVAL [COUNT]]", 1, 3,
	  "per RX and TX queue: packets, bytes, average size, size buckets (bcc netqtop); without "
	  "INTERVAL since the attach",
	  "nacct queues eth0 1 5",
	  CMD(queues, json_opts) },
	{ "backlog", opts_backlog, NULL, "[INTERVAL [COUNT]]", 0, 2,
	  "per listener of this network namespace: the accept queue each new connection found "
	  "(bcc tcpsynbl), its limit, the listen() caller, listen drops and their reasons",
	  "nacct backlog 1 5 -L 443",
	  CMD(backlog, backlog_opts) },
	{ "serve", opts_serve, &serve_defaults, "", 0, 0,
	  "Prometheus metrics of every attached interface of this network namespace",
	  "nacct serve --metrics 127.0.0.1:9464",
	  CMD(serve, serve_opts) },
	{ 0 },
};

const struct nacct_opt nacct_opts_global[] = {
	{ "verbose", 'v', OPT_FLAG, ARGS(verbose), NULL, "more output (twice: libbpf debug)" },
	{ "help", 'h', OPT_FLAG, ARGS(help), NULL, "this help" },
	{ 0 },
};

static void print_opts(FILE *f, const struct nacct_opt *o)
{
	char lhs[64];

	for (; o && o->name; o++) {
		/* "-x, --long ARG", or "    --long ARG" aligned with it */
		snprintf(lhs, sizeof(lhs), "%c%c%s--%s%s%s", o->shrt ? '-' : ' ',
			 o->shrt ? o->shrt : ' ', o->shrt ? ", " : "  ", o->name, o->arg ? " " : "",
			 o->arg ? o->arg : "");
		fprintf(f, "  %-34s %s\n", lhs, o->help);
	}
}

static void usage(FILE *f, const struct nacct_cmd *only)
{
	const struct nacct_cmd *c;

	if (only) {
		fprintf(f, "usage: nacct %s [options] %s\n  %s\n\noptions:\n", only->name, only->args,
			only->summary);
		print_opts(f, only->opts);
		print_opts(f, nacct_opts_global);
		fprintf(f, "\nexample:\n  %s\n", only->example);
		return;
	}
	fprintf(f, "usage: nacct [-v] COMMAND [options] [args]\n\n"
		   "Exact per-flow and per-subnet packet accounting with XDP and TC.\n\n"
		   "commands:\n");
	for (c = nacct_commands; c->name; c++)
		fprintf(f, "  %-8s %s\n", c->name, c->summary);
	fprintf(f, "  %-8s %s\n", "help", "help CMD: options and an example for CMD");
	fprintf(f, "\nglobal options:\n");
	print_opts(f, nacct_opts_global);
	fprintf(f, "  %-34s %s\n", "    --version", "print the version");
	fprintf(f, "\nexamples:\n");
	for (c = nacct_commands; c->name; c++)
		fprintf(f, "  %s\n", c->example);
	fprintf(f, "\nexit status: 0 ok, 1 run-time failure, 2 bad input\n");
}

static const struct nacct_opt *find_opt(const struct nacct_opt *o, const char *lng, char shrt)
{
	for (; o && o->name; o++)
		if ((lng && !strcmp(o->name, lng)) || (!lng && shrt && o->shrt == shrt))
			return o;
	return NULL;
}

static int set_opt(void *opts, const struct nacct_opt *o, const char *val)
{
	char *base = (char *)opts + o->off, *end;
	unsigned long long u;
	int i;

	switch (o->type) {
	case OPT_FLAG:
		(*(int *)base)++;
		return 0;
	case OPT_U64:
		errno = 0;
		if (!val || !*val || *val == '-')
			goto bad;
		u = strtoull(val, &end, 0);
		if (errno || *end)
			goto bad;
		if (u < o->min || u > o->max)
			return nacct_usage_error("--%s %s: must be between %llu and %llu", o->name,
						 val, (unsigned long long)o->min,
						 (unsigned long long)o->max);
		*(__u64 *)base = u;
		return 0;
	case OPT_ENUM:
		for (i = 0; o->vals[i]; i++)
			if (val && !strcmp(val, o->vals[i])) {
				*(int *)base = i;
				return 0;
			}
		goto bad;
	case OPT_RATIO:
		errno = 0;
		if (val && !strncmp(val, "1/", 2))
			val += 2;
		if (!val || !*val || *val == '-' || *val == '+')
			goto bad;
		u = strtoull(val, &end, 10);
		if (errno || *end)
			goto bad;
		if (u < o->min || u > o->max)
			return nacct_usage_error("--%s 1/%s: N must be between %llu and %llu", o->name,
						 val, (unsigned long long)o->min,
						 (unsigned long long)o->max);
		*(__u64 *)base = u;
		return 0;
	case OPT_STR:
		if (!val || !*val)
			goto bad;
		*(const char **)base = val;
		return 0;
	case OPT_CIDRS:
		if (nacct_parse_cidrs(val, (struct nacct_cidrs *)base))
			return NACCT_EXIT_USAGE;
		return 0;
	case OPT_TUNPORTS: {
		char why[160];

		if (!val || nacct_tun_ports_parse(val, (struct nacct_tun_ports *)base, why,
						  sizeof(why)))
			return nacct_usage_error("--%s %s: %s", o->name, val ? val : "",
						 val ? why : "a value is required");
		return 0;
	}
	}
bad:
	if (o->type == OPT_ENUM) {
		char list[128] = "";

		for (i = 0; o->vals[i]; i++) {
			strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
			strncat(list, o->vals[i], sizeof(list) - strlen(list) - 1);
		}
		return nacct_usage_error("--%s: invalid value '%s' (expected one of: %s)", o->name,
					 val ? val : "", list);
	}
	return nacct_usage_error("--%s: invalid value '%s'", o->name, val ? val : "");
}

/*
 * Parse argv[first..] against the command's options and the global ones;
 * positionals are collected in order.  GNU-style: options may follow
 * positionals, "--" ends options.
 */
static int parse_args(void *opts, const struct nacct_cmd *cmd, int argc, char **argv)
{
	struct nacct_args *cfg = opts;
	int i, only_pos = 0;

	cfg->argv = calloc(argc + 1, sizeof(char *));
	if (!cfg->argv)
		return NACCT_EXIT_FAIL;
	for (i = 0; i < argc; i++) {
		char *a = argv[i];
		const struct nacct_opt *o = NULL;
		const char *val = NULL;
		int gl = 0;

		if (only_pos || a[0] != '-' || !a[1]) {
			cfg->argv[cfg->argc++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_pos = 1;
			continue;
		}
		if (a[1] == '-') {
			char name[64];
			char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);

			if (len >= sizeof(name))
				return nacct_usage_error("unknown option '%s'", a);
			memcpy(name, a + 2, len);
			name[len] = '\0';
			o = find_opt(cmd->opts, name, 0);
			gl = !o;
			if (!o)
				o = find_opt(nacct_opts_global, name, 0);
			if (!o)
				return nacct_usage_error("%s: unknown option '%s' (see 'nacct help %s')",
							 cmd->name, a, cmd->name);
			if (eq)
				val = eq + 1;
		} else {
			if (a[2])
				return nacct_usage_error("%s: unknown option '%s'", cmd->name, a);
			o = find_opt(cmd->opts, NULL, a[1]);
			gl = !o;
			if (!o)
				o = find_opt(nacct_opts_global, NULL, a[1]);
			if (!o)
				return nacct_usage_error("%s: unknown option '%s' (see 'nacct help %s')",
							 cmd->name, a, cmd->name);
		}
		if (o->type != OPT_FLAG && !val) {
			if (i + 1 >= argc)
				return nacct_usage_error("option --%s needs a value (%s)", o->name,
							 o->arg);
			val = argv[++i];
		} else if (o->type == OPT_FLAG && val) {
			return nacct_usage_error("option --%s takes no value", o->name);
		}
		/* the global options bind to the leading struct nacct_args */
		if (set_opt(gl ? (void *)cfg : opts, o, val))
			return NACCT_EXIT_USAGE;
	}
	return 0;
}

/* ---- check-config ----------------------------------------------------------------- */

static void free_opts(const struct nacct_cmd *cmd, void *opts);

/*
 * One value of an EnvironmentFile line as systemd reads it: the whole
 * value in double quotes (with \\ \" escapes) or single quotes, or bare
 * (trailing blanks dropped).  NULL: an unterminated quote.
 */
static char *env_value(char *v)
{
	char q = *v, *o, *i;

	if (q != '"' && q != '\'') {
		size_t n = strlen(v);

		while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			v[--n] = '\0';
		return v;
	}
	for (o = v, i = v + 1; *i && *i != q; i++) {
		if (q == '"' && *i == '\\' && i[1])
			i++;
		*o++ = *i;
	}
	if (*i != q)
		return NULL;
	*o = '\0';
	return v;
}

/* nacct-all.service's attach options before $NACCT_ALL_ARGS
 * (systemd/nacct-all.service.in; test_config_check compares the two) */
#define ALL_UNIT_ARGS "--all --follow --detach-on-exit"

/*
 * The command a unit runs with VALUE's words (split at blanks, as $VAR is)
 * and IFACE; IFACE NULL: nacct-all.service's, after its fixed words.
 */
static int check_args(const char *where, const struct nacct_cmd *cmd, char *value,
		      const char *iface)
{
	char *words[256], *w, *save = NULL, *words_text = strdup(value);
	char fixed[] = ALL_UNIT_ARGS;
	int n = 0, ret;
	void *opts;

	if (!iface)
		for (w = strtok_r(fixed, " ", &save); w; w = strtok_r(NULL, " ", &save))
			words[n++] = w;
	save = NULL;
	for (w = strtok_r(value, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (n == (int)(sizeof(words) / sizeof(words[0])) - 1) {
			free(words_text);
			return nacct_usage_error("%s: too many words", where);
		}
		words[n++] = w;
	}
	if (iface)
		words[n++] = (char *)iface;
	opts = calloc(1, cmd->opts_size);
	if (!opts || !words_text) {
		free(opts);
		free(words_text);
		return NACCT_EXIT_FAIL;
	}
	if (cmd->defaults)
		memcpy(opts, cmd->defaults, cmd->opts_size);
	nacct_err_where = where;
	ret = parse_args(opts, cmd, n, words);
	if (!ret && iface && ((struct nacct_args *)opts)->argc != 1)
		ret = nacct_usage_error("%s takes the interface from the file name, not from %s",
					cmd->name, ((struct nacct_args *)opts)->argv[0]);
	if (!ret && !iface && ((struct nacct_args *)opts)->argc)
		ret = nacct_usage_error("nacct-all.service attaches every interface (--match and "
					"--exclude choose), not %s", ((struct nacct_args *)opts)->argv[0]);
	if (!ret && !strcmp(cmd->name, "export"))
		ret = nacct_export_check(opts);
	nacct_err_where = NULL;
	if (!ret && iface)
		printf("%s: ok: nacct %s %s %s\n", where, cmd->name, iface, words_text);
	else if (!ret)
		printf("%s: ok: nacct %s " ALL_UNIT_ARGS " %s\n", where, cmd->name, words_text);
	free(words_text);
	free_opts(cmd, opts);
	return ret;
}

static const struct nacct_cmd *cmd_named(const char *name)
{
	const struct nacct_cmd *c;

	for (c = nacct_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static int check_config_file(const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path, *iface, *var;
	const struct nacct_cmd *cmd;
	char line[4096], where[600];
	int lineno = 0, seen = 0, ret = 0;
	FILE *f;

	if (!strncmp(base, "nacct-export-", 13)) {
		cmd = cmd_named("export");
		iface = base + 13;
		var = "NACCT_EXPORT_ARGS";
	} else if (!strcmp(base, "nacct-all")) {
		/* nacct-all.service's (so no nacct@all: "all" is that unit's) */
		cmd = cmd_named("attach");
		iface = NULL;
		var = "NACCT_ALL_ARGS";
	} else if (!strncmp(base, "nacct-", 6)) {
		cmd = cmd_named("attach");
		iface = base + 6;
		var = "NACCT_ATTACH_ARGS";
	} else {
		return nacct_usage_error("%s: not a file the units read: nacct@IFACE reads "
					 "/etc/default/nacct-IFACE, nacct-export@IFACE "
					 "/etc/default/nacct-export-IFACE, nacct-all "
					 "/etc/default/nacct-all", path);
	}
	if (iface && (!*iface || strlen(iface) >= 16 || strpbrk(iface, "/: \t")))
		return nacct_usage_error("%s: '%s' is not an interface name", path, iface);
	f = fopen(path, "r");
	if (!f)
		return nacct_usage_error("%s: %s", path, strerror(errno));
	while (!ret && fgets(line, sizeof(line), f)) {
		char *p = line, *eq, *val;

		lineno++;
		snprintf(where, sizeof(where), "%s:%d", path, lineno);
		p[strcspn(p, "\r\n")] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#' || *p == ';')
			continue;
		eq = strchr(p, '=');
		if (!eq) {
			ret = nacct_usage_error("%s: expected NAME=VALUE", where);
			break;
		}
		*eq = '\0';
		if (strcmp(p, var)) {
			ret = nacct_usage_error("%s: unknown variable %s (this file's unit reads %s)",
						where, p, var);
			break;
		}
		val = env_value(eq + 1);
		if (!val) {
			ret = nacct_usage_error("%s: unterminated quote", where);
			break;
		}
		seen++;
		ret = check_args(where, cmd, val, iface);
	}
	fclose(f);
	if (!ret && !seen && cmd == cmd_named("export"))
		ret = nacct_usage_error("%s: no %s: the exporter needs a destination", path, var);
	if (!ret && !seen)
		printf("%s: ok: nacct attach %s (no options)\n", path,
		       iface ? iface : ALL_UNIT_ARGS);
	return ret;
}

static int run_check_config(void *o)
{
	struct check_config_opts *c = o;
	int i, ret;

	for (i = 0; i < c->a.argc; i++) {
		ret = check_config_file(c->a.argv[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * The man page nacct(8) and the shell completion are generated from the
 * command table above, so a command added to the table appears in
 * `nacct --help`, `nacct help CMD`, the man page and the completion at once.
 *   nacct --man                   roff for nacct(8) (make writes doc/nacct.8)
 *   nacct --complete-words        command names and global options
 *   nacct --complete-words CMD    CMD's options; "@iface" if it takes IFACE
 *   nacct --complete-words CMD OPT  OPT's values; "@file", "@value" or nothing (a flag)
 */
static void roff(FILE *f, const char *s)
{
	int bol = 1;

	for (; s && *s; s++) {
		if (bol && (*s == '.' || *s == '\''))
			fputs("\\&", f);
		bol = *s == '\n';
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

static void man_opts(FILE *f, const struct nacct_opt *o)
{
	int i;

	for (; o && o->name; o++) {
		fputs(".TP\n", f);
		if (o->shrt)
			fprintf(f, "\\fB\\-%c\\fR, ", o->shrt);
		fputs("\\fB\\-\\-", f);
		roff(f, o->name);
		fputs("\\fR", f);
		if (o->arg) {
			fputs(" \\fI", f);
			roff(f, o->arg);
			fputs("\\fR", f);
		}
		fputc('\n', f);
		roff(f, o->help);
		if (o->type == OPT_ENUM && o->vals) {
			fputs(" (one of:", f);
			for (i = 0; o->vals[i]; i++)
				fprintf(f, "%s \\fB%s\\fR", i ? "," : "", o->vals[i]);
			fputc(')', f);
		} else if (o->type == OPT_U64 && o->max) {
			fprintf(f, " (%llu to %llu)", (unsigned long long)o->min,
				(unsigned long long)o->max);
		}
		fputs(".\n", f);
	}
}

static int print_man(FILE *f)
{
	const struct nacct_cmd *c;
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	time_t when = sde ? (time_t)strtoll(sde, NULL, 10) : time(NULL);
	char date[32];
	struct tm tm;

	gmtime_r(&when, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	fprintf(f, ".\\\" generated by 'nacct --man' from the command table in ctl/main.c\n"
		   ".TH NACCT 8 \"%s\" \"nacct %s\" \"System Administration\"\n", date,
		NACCT_VERSION);
	fputs(".SH NAME\nnacct \\- exact per\\-flow and per\\-subnet packet accounting with XDP "
	      "and TC\n"
	      ".SH SYNOPSIS\n.B nacct\n[\\fB\\-v\\fR] \\fICOMMAND\\fR [\\fIoptions\\fR] "
	      "[\\fIargs\\fR]\n.br\n.B nacct help\n\\fICOMMAND\\fR\n.br\n"
	      ".B nacct\n\\fB\\-\\-help\\fR | \\fB\\-\\-version\\fR\n"
	      ".SH DESCRIPTION\n"
	      "\\fBnacct\\fR counts every packet of a network interface into per\\-flow and "
	      "per\\-subnet counters inside the kernel: an XDP program on ingress (or TC when XDP "
	      "is unavailable) and a TC program on egress, sharing one parser and one set of "
	      "maps.\n.PP\n"
	      "\\fBnacct attach\\fR loads the programs, pins their maps and links under "
	      "\\fI/sys/fs/bpf/nacct/IFACE\\fR and exits; the programs keep counting after "
	      "\\fBnacct\\fR exits, and every later command reads the pinned maps. A restart of "
	      "any user\\-space part loses no counts. \\fBnacct detach\\fR removes everything.\n"
	      ".PP\nThe flow key is direction\\-free: a packet and its reply count into one flow "
	      "record with separate counters per direction (rx: ingress, tx: egress). The sum of "
	      "all flows plus the overflow, malformed and non\\-IP buckets equals the interface "
	      "totals.\n"
	      ".PP\nListing commands take \\fB\\-\\-json\\fR (one object per line) and most take "
	      "\\fB\\-\\-csv\\fR; without an interface they cover every attachment in the current "
	      "network namespace. Rates are shown in 1000\\-based units (k, M, G); colour is used "
	      "only on a terminal and never when \\fBNO_COLOR\\fR is set.\n",
	      f);
	fputs(".SH COMMANDS\n", f);
	for (c = nacct_commands; c->name; c++) {
		fprintf(f, ".SS \"%s", c->name);
		if (c->opts && c->opts->name)
			fputs(" [options]", f);
		if (c->args && *c->args) {
			fputc(' ', f);
			roff(f, c->args);
		}
		fputs("\"\n", f);
		roff(f, c->summary);
		fputs(".\n", f);
		man_opts(f, c->opts);
		fputs(".PP\nExample:\n.PP\n.RS 4\n.nf\n", f);
		roff(f, c->example);
		fputs("\n.fi\n.RE\n", f);
	}
	fputs(".SS \"help [COMMAND]\"\nThe options of \\fICOMMAND\\fR and an example.\n"
	      ".SH GLOBAL OPTIONS\n", f);
	man_opts(f, nacct_opts_global);
	fputs(".TP\n\\fB\\-V\\fR, \\fB\\-\\-version\\fR\nPrint the version and exit.\n", f);
	fputs(".SH EXIT STATUS\n.TP\n.B 0\nSuccess.\n.TP\n.B 1\nA run\\-time failure (the "
	      "kernel refused a program, a map could not be read).\n.TP\n.B 2\nBad input: an "
	      "unknown command or option, an invalid value, an interface that does not exist or "
	      "is not attached, missing privileges. One line on standard error says which.\n"
	      ".SH FILES\n.TP\n.I /sys/fs/bpf/nacct/IFACE\n"
	      "Pinned maps, programs and the XDP link of an attachment in the initial network "
	      "namespace ('.' in interface names is stored as ':').\n"
	      ".TP\n.I /sys/fs/bpf/nacct/IFACE:nsINODE\nThe same for an interface in another "
	      "network namespace (\\fIINODE\\fR: the namespace's inode number).\n"
	      ".TP\n.I /sys/fs/bpf/nacct/:probes\nMaps of the TCP side programs (drops, "
	      "retransmits, states), one set for the whole host.\n"
	      ".TP\n.I /lib/systemd/system/nacct@.service\nAttach at boot: \\fBsystemctl enable "
	      "\\-\\-now nacct@eth0\\fR; stopping the unit detaches.\n"
	      ".TP\n.I /lib/systemd/system/nacct\\-export@.service\nThe flow exporter for one "
	      "interface; its arguments come from \\fI/etc/default/nacct\\-export\\-IFACE\\fR "
	      "(\\fBNACCT_EXPORT_ARGS=\\fR).\n"
	      ".SH PRIVILEGES\nCommands that load programs or read pinned maps need root, or "
	      "\\fBCAP_BPF\\fR, \\fBCAP_NET_ADMIN\\fR and \\fBCAP_PERFMON\\fR, and a BPF "
	      "filesystem mounted on \\fI/sys/fs/bpf\\fR (nacct mounts it when it is missing). "
	      "\\fBhelp\\fR, \\fB\\-\\-help\\fR and \\fB\\-\\-version\\fR need nothing.\n"
	      ".SH ENVIRONMENT\n.TP\n.B NO_COLOR\nWhen set and not empty, no colour is used.\n"
	      ".SH EXAMPLES\n.nf\n",
	      f);
	for (c = nacct_commands; c->name; c++) {
		roff(f, c->example);
		fputc('\n', f);
	}
	fputs(".fi\n.SH SEE ALSO\n\\fBbpftool\\fR(8), \\fBip\\fR(8), \\fBtc\\fR(8), "
	      "\\fBxdp\\-loader\\fR(8), \\fBtcpdump\\fR(8)\n",
	      f);
	return 0;
}

static int complete_words(int argc, char **argv)
{
	const struct nacct_cmd *c;
	const struct nacct_opt *o;
	int pass, i;

	if (argc < 1) {
		for (c = nacct_commands; c->name; c++)
			printf("%s\n", c->name);
		printf("help\n--help\n--version\n--verbose\n");
		return 0;
	}
	for (c = nacct_commands; c->name; c++)
		if (!strcmp(c->name, argv[0]))
			break;
	if (!c->name)
		return NACCT_EXIT_USAGE;
	if (argc < 2) {
		for (pass = 0; pass < 2; pass++)
			for (o = pass ? nacct_opts_global : c->opts; o && o->name; o++)
				printf("--%s\n", o->name);
		if (c->args && strstr(c->args, "IFACE"))
			printf("@iface\n");
		return 0;
	}
	/* the values of one option, long or short */
	for (pass = 0; pass < 2; pass++)
		for (o = pass ? nacct_opts_global : c->opts; o && o->name; o++) {
			if (strncmp(argv[1], "--", 2) ? !(argv[1][0] == '-' && argv[1][1] == o->shrt &&
							   !argv[1][2])
						      : strcmp(argv[1] + 2, o->name))
				continue;
			if (o->type == OPT_ENUM)
				for (i = 0; o->vals[i]; i++)
					printf("%s\n", o->vals[i]);
			else if (o->type == OPT_CIDRS || (o->arg && strstr(o->arg, "FILE")))
				printf("@file\n");
			else if (o->type != OPT_FLAG)
				printf("@value\n");
			return 0;
		}
	return 0;
}

/* what the parser allocated in an option struct */
static void free_opts(const struct nacct_cmd *cmd, void *opts)
{
	const struct nacct_opt *o;

	for (o = cmd->opts; o && o->name; o++)
		if (o->type == OPT_CIDRS)
			free(((struct nacct_cidrs *)((char *)opts + o->off))->v);
	free(((struct nacct_args *)opts)->argv);
	free(opts);
}

int main(int argc, char **argv)
{
	const struct nacct_cmd *cmd;
	struct nacct_args *args;
	int i = 1, ret, verbose = 0;
	void *opts;

	/* global options before the command */
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			verbose++;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout, NULL);
			return 0;
		} else if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V")) {
			printf("nacct %s\n", NACCT_VERSION);
			return 0;
		} else if (!strcmp(argv[i], "--man")) {
			return print_man(stdout);
		} else if (!strcmp(argv[i], "--complete-words")) {
			return complete_words(argc - i - 1, argv + i + 1);
		} else
			return nacct_usage_error("unknown option '%s' (see 'nacct --help')", argv[i]);
	}
	if (i >= argc) {
		usage(stderr, NULL);
		return NACCT_EXIT_USAGE;
	}
	if (!strcmp(argv[i], "help")) {
		if (i + 1 >= argc) {
			usage(stdout, NULL);
			return 0;
		}
		for (cmd = nacct_commands; cmd->name; cmd++)
			if (!strcmp(cmd->name, argv[i + 1])) {
				usage(stdout, cmd);
				return 0;
			}
		return nacct_usage_error("help: unknown command '%s'", argv[i + 1]);
	}
	if (!strcmp(argv[i], "version")) {
		printf("nacct %s\n", NACCT_VERSION);
		return 0;
	}
	for (cmd = nacct_commands; cmd->name; cmd++)
		if (!strcmp(cmd->name, argv[i]))
			break;
	if (!cmd->name)
		return nacct_usage_error("unknown command '%s' (see 'nacct --help')", argv[i]);

	/* the command's own option struct, from its defaults */
	opts = calloc(1, cmd->opts_size);
	if (!opts)
		return NACCT_EXIT_FAIL;
	if (cmd->defaults)
		memcpy(opts, cmd->defaults, cmd->opts_size);
	args = opts;
	args->verbose = verbose;
	ret = parse_args(opts, cmd, argc - i - 1, argv + i + 1);
	if (ret)
		goto out;
	if (args->help) {
		usage(stdout, cmd);
		goto out;
	}
	if (args->argc < cmd->min_args || args->argc > cmd->max_args) {
		nacct_usage_error("%s: expected %s", cmd->name, cmd->args);
		usage(stderr, cmd);
		ret = NACCT_EXIT_USAGE;
		goto out;
	}
	nacct_log_init(args->verbose);
	ret = cmd->fn(opts);
	if (ret < 0)
		ret = NACCT_EXIT_FAIL;
out:
	free_opts(cmd, opts);
	return ret;
}
