/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The nacct CLI: one config struct that every command's typed options
 * bind to, the command table's types, and exit statuses.
 */
#ifndef NACCT_CTL_H
#define NACCT_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "../maps/nacct.h"
#include "../maps/pins.h"
#include "../lib/names.h"

/* exit statuses */
#define NACCT_EXIT_OK 0
#define NACCT_EXIT_FAIL 1  /* a run-time failure */
#define NACCT_EXIT_USAGE 2 /* bad input: unknown interface, bad CIDR, no privileges */

/* a command returns one of these; -errno is mapped to NACCT_EXIT_FAIL */

struct nacct_cidr {
	__u8 family; /* NACCT_AF_INET / NACCT_AF_INET6 */
	__u8 plen;
	__u8 addr[16];
};

enum nacct_out_fmt {
	NACCT_OUT_TABLE = 0,
	NACCT_OUT_JSON,
	NACCT_OUT_CSV,
};

struct nacct_config {
	/* positional arguments after the command */
	int argc;
	char **argv;

	/* attach */
	int mode; /* index into nacct_mode_names: auto, native, generic, offload */
	int hook; /* index into nacct_hook_names: xdp, tc */
	struct nacct_cidr *subnets;
	size_t n_subnets;
	__u64 max_flows;
	int force;

	/* listing commands */
	int json;
	int csv;
	int sort; /* index into nacct_sort_names */
	__u64 top;

	/* top */
	__u64 interval; /* -i SECONDS between refreshes */
	int by;         /* index into nacct_top_by_names */
	__u64 count;    /* -n: refreshes, then exit (0: until q) */

	/* export / serve */
	const char *ipfix;      /* --ipfix HOST:PORT */
	int transport;          /* index into nacct_transport_names: udp, tcp */
	__u64 idle_timeout;     /* seconds; 0: default 15 */
	__u64 active_timeout;   /* seconds; 0: default 60 */
	__u64 obs_domain;       /* IPFIX observation domain id */
	const char *metrics;    /* --metrics ADDR:PORT */

	/* capture (-c COUNT uses count above); attach --sample too */
	__u64 sample_n;         /* --sample 1/N (OPT_RATIO); 0: not given */
	__u64 snaplen;          /* --snaplen N; 0: the most the data path copies */
	const char *write;      /* -w FILE|- */
	__u64 rotate;           /* -G SECONDS: a new file every SECONDS */
	int tap;                /* --tap: AF_XDP tap mode */
	__u64 xsk_frames;       /* --frames N: UMEM frames per queue */
	__u64 xsk_ring;         /* --ring N: RX ring descriptors per queue */

	/* events (TCP side events, ctl/events.c) */
	int ev_drops;    /* --drops */
	int ev_retrans;  /* --retrans */
	int ev_states;   /* --states: state changes, connect/accept, listen, resets */
	int ev_life;     /* --life: lifespans */
	__u64 ev_pid;    /* -p PID; 0: any */
	__u64 ev_lport;  /* -L LPORT; 0: any */
	__u64 ev_rport;  /* -D RPORT; 0: any */

	/* global */
	int verbose;
	int help;
};

extern const char *const nacct_mode_names[];
extern const char *const nacct_hook_names[];
extern const char *const nacct_sort_names[];
extern const char *const nacct_transport_names[];
extern const char *const nacct_top_by_names[];

enum nacct_mode_idx { NACCT_M_AUTO = 0, NACCT_M_NATIVE, NACCT_M_GENERIC, NACCT_M_OFFLOAD };
enum nacct_hook_idx { NACCT_H_XDP = 0, NACCT_H_TC };
enum nacct_sort_idx { NACCT_S_BYTES = 0, NACCT_S_PACKETS, NACCT_S_FIRST, NACCT_S_LAST };

/* print one clear error line and return NACCT_EXIT_USAGE */
int nacct_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* validate an interface name: returns ifindex, or 0 after printing an error */
int nacct_ifindex(const char *ifname);

/* parse "CIDR[,CIDR...]" or "@FILE"; 0, or -EINVAL after printing an error */
int nacct_parse_cidrs(const char *arg, struct nacct_cidr **out, size_t *n);
int nacct_parse_cidr(const char *s, struct nacct_cidr *out);

/* open an attachment's pinned maps for reading; 0, or an exit status
 * after one clear line (not attached, a killed run's leftovers, pins of
 * another build) */
struct nacct_iface_maps;
int nacct_open_attached(const char *ifname, struct nacct_iface_maps *m);

/* privileges and bpffs; 0 or NACCT_EXIT_USAGE after printing why */
int nacct_need_bpf(void);

/* commands */
int cmd_attach(struct nacct_config *cfg);
int cmd_detach(struct nacct_config *cfg);
int cmd_status(struct nacct_config *cfg);
int cmd_flows(struct nacct_config *cfg);
int cmd_subnets(struct nacct_config *cfg);
int cmd_caps(struct nacct_config *cfg); /* ctl/caps.c */
int cmd_export(struct nacct_config *cfg);
int cmd_serve(struct nacct_config *cfg);
int cmd_top(struct nacct_config *cfg);
int cmd_capture(struct nacct_config *cfg);
int cmd_events(struct nacct_config *cfg);

/* output helpers (ctl/output.c) */
void json_str(FILE *f, const char *s);
/* 1000-based human units, 3 significant digits: "950", "1.23k", "45.6M" */
const char *nacct_human(double v, char *buf, size_t len);
/* the same with a unit: nacct_human_rate(1.5e6, "b/s") = "1.50 Mb/s" */
const char *nacct_human_rate(double v, const char *unit, char *buf, size_t len);
/* 1 when fd is a terminal and NO_COLOR is unset (and TERM is not dumb) */
int nacct_use_color(int fd);

#endif /* NACCT_CTL_H */
