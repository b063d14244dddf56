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

	/* global */
	int verbose;
	int help;
};

extern const char *const nacct_mode_names[];
extern const char *const nacct_hook_names[];
extern const char *const nacct_sort_names[];

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

/* privileges and bpffs; 0 or NACCT_EXIT_USAGE after printing why */
int nacct_need_bpf(void);

/* commands */
int cmd_attach(struct nacct_config *cfg);
int cmd_detach(struct nacct_config *cfg);
int cmd_status(struct nacct_config *cfg);
int cmd_flows(struct nacct_config *cfg);
int cmd_subnets(struct nacct_config *cfg);

/* output helpers (ctl/output.c) */
void json_str(FILE *f, const char *s);
const char *nacct_proto_name(__u8 proto, char *buf, size_t len);
/* RFC 3339 UTC with milliseconds; "" for 0 */
const char *nacct_rfc3339(__u64 wall_ns, char *buf, size_t len);
const char *nacct_tcp_flags_str(__u8 flags, char *buf, size_t len);

#endif /* NACCT_CTL_H */
