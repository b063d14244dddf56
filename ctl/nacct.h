/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The nacct CLI: each command's own option struct (bound to its option
 * table in ctl/main.c, xdp-tools' way), the commands, exit statuses.
 * The commands parse, call the library (lib/) and format; they are the
 * only part that prints.
 */
#ifndef NACCT_CTL_H
#define NACCT_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "../maps/nacct.h"
#include "../maps/pins.h"
#include "../lib/attach.h"
#include "../lib/names.h"

/* exit statuses */
#define NACCT_EXIT_OK 0
#define NACCT_EXIT_FAIL 1  /* a run-time failure */
#define NACCT_EXIT_USAGE 2 /* bad input: unknown interface, bad CIDR, no privileges */

/* a command returns one of these; -errno is mapped to NACCT_EXIT_FAIL */

/* every command's options begin with these: positionals and global flags */
struct nacct_args {
	int argc;
	char **argv;
	int verbose;
	int help;
};

enum nacct_sort_idx { NACCT_S_BYTES = 0, NACCT_S_PACKETS, NACCT_S_FIRST, NACCT_S_LAST };

struct attach_opts {
	struct nacct_args a;
	struct nacct_attach_req req; /* ifname: each positional in turn */
	int all;                     /* --all: every interface of the namespace but lo */
	const char *match, *exclude; /* --match/--exclude GLOB[,GLOB...] (with --all) */
	int follow;                  /* --follow (with --all): new ones too, until stopped */
	int detach_on_exit;          /* --detach-on-exit (with --follow) */
};

struct detach_opts {
	struct nacct_args a;
	int all;                     /* --all: every attachment of the namespace */
	const char *match, *exclude; /* --match/--exclude GLOB[,GLOB...] (with --all) */
};

/* nacct check-config FILE... */
struct check_config_opts {
	struct nacct_args a;
};

/* status, subnets, caps: --json only */
struct json_opts {
	struct nacct_args a;
	int json;
};

struct flows_opts {
	struct nacct_args a;
	int json;
	int csv;
	int sort; /* enum nacct_sort_idx */
	__u64 top;
	__u64 cid_seed; /* --community-id-seed */
	int host;       /* --host: the shared domain's host view (--dedup) */
};

struct top_opts {
	struct nacct_args a;
	__u64 interval; /* -i SECONDS between refreshes */
	int by;         /* index into nacct_top_by_names */
	__u64 count;    /* -n: refreshes, then exit (0: until q) */
	__u64 rows;     /* rows per refresh when not on a terminal */
	int json;
};

struct capture_opts {
	struct nacct_args a;
	const char *write; /* -w FILE|- */
	__u64 count;       /* -c: packets, then exit */
	__u64 rotate;      /* -G SECONDS: a new file every SECONDS */
	__u64 sample_n;    /* --sample 1/N; 0: not given */
	__u64 snaplen;     /* --snaplen N; 0: the most the data path copies */
	int tap;           /* --tap: AF_XDP tap mode */
	__u64 xsk_frames;  /* --frames N: UMEM frames per queue */
	__u64 xsk_ring;    /* --ring N: RX ring descriptors per queue */
	int xsk_copy;      /* --copy: AF_XDP copy mode even where zero-copy binds */
};

struct events_opts {
	struct nacct_args a;
	int drops;     /* --drops */
	int retrans;   /* --retrans */
	int states;    /* --states: state changes, connect/accept, listen, resets */
	int life;      /* --life: lifespans */
	__u64 pid;     /* -p PID; 0: any */
	__u64 lport;   /* -L LPORT; 0: any */
	__u64 rport;   /* -D RPORT; 0: any */
	int json;
	int probes;    /* --probes: enum nacct_probes_mode */
};

struct export_opts {
	struct nacct_args a;
	const char *ipfix;    /* --ipfix HOST:PORT */
	int transport;        /* index into nacct_transport_names: udp, tcp */
	__u64 idle_timeout;   /* seconds */
	__u64 active_timeout; /* seconds */
	__u64 obs_domain;     /* IPFIX observation domain id */
	__u64 scan_rate;      /* flows read per second at most */
	int json;
	__u64 cid_seed;       /* --community-id-seed */
	/* --clickhouse URL and its options (README "Many hosts") */
	const char *clickhouse;
	const char *ch_database, *ch_table, *ch_user, *ch_password_file;
	const char *exporter_id; /* default: the host name */
	__u64 ch_batch;
	__u64 ch_ttl_days;
};

/* nacct softirqs [INTERVAL [COUNT]] */
struct softirqs_opts {
	struct nacct_args a;
	int json;
	int cpu;  /* --cpu: one row per CPU */
	int dist; /* -d: log2 histograms of time */
};

/* nacct rtt [IFACE] [INTERVAL [COUNT]] */
struct rtt_opts {
	struct nacct_args a;
	int by;      /* --by: enum nacct_rtt_by (index into nacct_rtt_by_names) */
	__u64 pid;   /* -p PID; 0: any */
	__u64 lport; /* -L LPORT; 0: any */
	__u64 rport; /* -D RPORT; 0: any */
	int ms;      /* -m: milliseconds */
	int json;
};

/* nacct backlog [INTERVAL [COUNT]] */
struct backlog_opts {
	struct nacct_args a;
	__u64 lport; /* -L LPORT; 0: any */
	int all;     /* --all: every listener, not only those with news */
	int json;
};

struct serve_opts {
	struct nacct_args a;
	const char *metrics; /* --metrics ADDR:PORT */
};

extern const char *const nacct_mode_names[];
extern const char *const nacct_hook_names[];
extern const char *const nacct_layout_names[];
extern const char *const nacct_mb_names[];
extern const char *const nacct_side_names[];
extern const char *const nacct_decap_names[];
extern const char *const nacct_sort_names[];
extern const char *const nacct_transport_names[];
extern const char *const nacct_top_by_names[];
extern const char *const nacct_rtt_by_names[];

/* the option types of the command tables */
enum nacct_opt_type {
	OPT_FLAG,  /* int = 1 */
	OPT_U64,   /* __u64 with min/max */
	OPT_ENUM,  /* int = index into vals */
	OPT_CIDRS, /* struct nacct_cidrs */
	OPT_STR,   /* const char * (points into argv) */
	OPT_RATIO, /* __u64 N of a rate "1/N" or "N", with min/max */
	OPT_TUNPORTS, /* struct nacct_tun_ports (--tunnel-ports) */
};

struct nacct_opt {
	const char *name; /* long name, without "--" */
	char shrt;        /* short name or 0 */
	enum nacct_opt_type type;
	size_t off;       /* offset in the command's option struct */
	const char *arg;  /* metavar for help */
	const char *help;
	const char *const *vals; /* OPT_ENUM */
	__u64 min, max;          /* OPT_U64, OPT_RATIO */
};

struct nacct_cmd {
	const char *name;
	const struct nacct_opt *opts;
	const void *defaults;     /* the option struct's initial value (NULL: zeros) */
	const char *args;         /* positional synopsis */
	int min_args, max_args;
	const char *summary;
	const char *example;
	int (*fn)(void *opts);    /* runs the command on its option struct */
	size_t opts_size;         /* sizeof the command's option struct */
};

/* the command table (ctl/main.c) */
extern const struct nacct_cmd nacct_commands[];
extern const struct nacct_opt nacct_opts_global[];

/* where the input being read came from (check-config: "FILE:LINE"), said first; NULL: nothing */
extern const char *nacct_err_where;
/* print one clear error line and return NACCT_EXIT_USAGE */
int nacct_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* validate an interface name: returns ifindex, or 0 after printing an error */
int nacct_ifindex(const char *ifname);

/* parse "CIDR[,CIDR...]" or "@FILE"; 0, or -EINVAL after printing an error */
/* --tunnel-ports TEXT into @p; 0, or -EINVAL with why in @err (ctl/util.c) */
int nacct_tun_ports_parse(const char *s, struct nacct_tun_ports *p, char *err, size_t len);
int nacct_parse_cidrs(const char *arg, struct nacct_cidrs *out);
int nacct_parse_cidr(const char *s, struct nacct_cidr *out);

/* open an attachment's pinned maps for reading; 0, or an exit status
 * after one clear line (not attached, a killed run's leftovers, pins of
 * another build) */
struct nacct_iface_maps;
int nacct_open_attached(const char *ifname, struct nacct_iface_maps *m);

/* privileges and bpffs; 0 or NACCT_EXIT_USAGE after printing why */
int nacct_need_bpf(void);

/* an attach's failure as one line on stderr; the exit status */
int nacct_attach_error(const char *ifname, int err, const struct nacct_attach_info *info);

/* commands */
int cmd_attach(struct attach_opts *o);
int cmd_detach(struct detach_opts *o);
int cmd_status(struct json_opts *o);
int cmd_flows(struct flows_opts *o);
int cmd_subnets(struct json_opts *o);
int cmd_tunnels(struct json_opts *o);
int cmd_caps(struct json_opts *o);
int cmd_export(struct export_opts *o);
/* export's options checked as cmd_export would, without running it (check-config) */
int nacct_export_check(struct export_opts *o);
int cmd_serve(struct serve_opts *o);
int cmd_top(struct top_opts *o);
int cmd_capture(struct capture_opts *o);
int cmd_events(struct events_opts *o);
int cmd_softirqs(struct softirqs_opts *o);
int cmd_rtt(struct rtt_opts *o);
int cmd_queues(struct json_opts *o);
int cmd_backlog(struct backlog_opts *o);

/* formats of the commands that tests check without root (tests/check) */
struct nacct_obuf;
struct nacct_snapshot;
struct nacct_probe_choice;
/* @side: the side programs' choice (NULL: unknown), @side_loaded: a set is pinned */
void nacct_status_format(struct nacct_obuf *o, const char *ifname, const struct nacct_snapshot *s,
			 const struct nacct_probe_choice *side, int side_loaded, int json);

/* output helpers (ctl/output.c) */
void json_str(FILE *f, const char *s);
/* 1000-based human units, 3 significant digits: "950", "1.23k", "45.6M" */
const char *nacct_human(double v, char *buf, size_t len);
/* the same with a unit: nacct_human_rate(1.5e6, "b/s") = "1.50 Mb/s" */
const char *nacct_human_rate(double v, const char *unit, char *buf, size_t len);
/* 1 when fd is a terminal and NO_COLOR is unset (and TERM is not dumb) */
int nacct_use_color(int fd);

#endif /* NACCT_CTL_H */
