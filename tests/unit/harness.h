/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Unit-test harness: loads the real XDP and TC objects with their maps
 * pinned in a private bpffs directory (shared as in production), runs
 * them with BPF_PROG_TEST_RUN, reads the maps back (summing per-CPU
 * values itself, independently of maps/maps.c), and prints
 * "ok NAME" / "not ok NAME" + "# detail" lines.
 */
#ifndef NACCT_UT_HARNESS_H
#define NACCT_UT_HARNESS_H

#include <stddef.h>
#include <linux/types.h>
#include "nacct.h"

struct nacct_xdp;
struct nacct_tc;
struct nacct_tun_ports;

struct ut_subnet {
	int family; /* 4 / 6 */
	__u8 addr[16];
	int plen;
	__u32 id;
};

struct ut_opts {
	__u32 max_flows;                 /* 0: default */
	__u32 flow_layout;               /* enum nacct_flow_layout (0: per-CPU) */
	int xdp_frags;                   /* the multi-buffer XDP program (else the default) */
	const struct ut_subnet *subnets; /* ids must be 1..n_subnets */
	size_t n_subnets;
	int decap;                       /* enum nacct_decap_req (0: on) */
	const struct nacct_tun_ports *tun_ports; /* NULL: the object's defaults */
};

struct ut {
	char dir[128];
	struct nacct_xdp *xdp;
	struct nacct_tc *tc;
	int prog_xdp, prog_egress, prog_ingress;
	int flows, stats, subnets, subnet_stats, ethertypes, frags, cfg, samples, tunnels, queues;
	int tun_cache[2]; /* each object's per-CPU last-tunnel cache (XDP, TC): not pinned */
	__u32 n_subnet_ids;
	int ncpu;
	__u32 flow_layout; /* enum nacct_flow_layout */
	int copies;        /* values per flow key: ncpu (per-CPU layout) or 1 (shared) */
	int xdp_frags;     /* the XDP program is the multi-buffer variant */
};

enum ut_hook {
	UT_XDP = 0,     /* RX */
	UT_TC_EGRESS,   /* TX */
	UT_TC_INGRESS,  /* RX */
};

extern int ut_failures;
extern int ut_verbose;
/* the layout every later ut_load() uses when its options leave it 0 (-1: none) */
extern int ut_default_layout;
/* 1: every later ut_load() loads the multi-buffer XDP program */
extern int ut_default_frags;
/* prepended to every test name ("" by default) */
extern const char *ut_prefix;
/* called with every frame ut_run() is given, before it runs (NULL: none) */
extern void (*ut_frame_hook)(const void *pkt, __u32 len);

/* "ok NAME" or "not ok NAME" + the detail; returns @cond */
int ut_check(int cond, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ut_skip(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ut_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int ut_load(struct ut *u, const struct ut_opts *o);
void ut_unload(struct ut *u);
/* empty flows, frags, ethertypes; zero stats and subnet counters */
int ut_reset(struct ut *u);

struct __sk_buff;
/*
 * Run one frame through a hook.  @skb_ctx (TC only, may be NULL) is
 * passed as ctx_in (gso_segs, gso_size, ...).  Returns 0 and sets
 * *verdict, or the negative errno of BPF_PROG_TEST_RUN.
 */
int ut_run(struct ut *u, enum ut_hook h, const void *pkt, __u32 len,
	   const struct __sk_buff *skb_ctx, int *verdict);
/*
 * Run one frame through the multi-buffer XDP program as a frame whose
 * first buffer holds @linear bytes and the rest fragments (kernels whose
 * BPF_PROG_TEST_RUN takes the linear size from ctx_in's data_end: 6.18+).
 * Returns 0 and sets *verdict, or the negative errno (-EINVAL, -EPROTO:
 * the kernel takes no such size, or made another split).
 */
int ut_run_xdp_split(struct ut *u, const void *pkt, __u32 len, __u32 linear, int *verdict);
/*
 * Frames BPF_PROG_TEST_RUN refuses with EINVAL before any program runs
 * (found here on 6.18, and checked by the fuzzer on every frame): shorter
 * than an Ethernet header; for skb programs also an IPv4/IPv6 ethertype
 * with less than the fixed IP header behind it.
 */
int ut_refused(enum ut_hook h, const __u8 *pkt, size_t len);
/* the expected verdict of a hook: XDP_PASS or TC_ACT_UNSPEC */
int ut_pass_verdict(enum ut_hook h);
/* run and check the verdict; failures are printed under @name */
int ut_send(struct ut *u, enum ut_hook h, const void *pkt, __u32 len, const char *name);

int ut_stats(struct ut *u, struct nacct_stats *st);

/* per-CPU sums of every flow */
struct ut_flows {
	size_t n;
	struct nacct_flow_key *keys;
	struct nacct_flow_val *vals; /* summed; first_dir/seen_dirs ORed */
	__u64 packets[NACCT_DIR_MAX], bytes[NACCT_DIR_MAX];
};
int ut_flows(struct ut *u, struct ut_flows *f);
void ut_flows_free(struct ut_flows *f);

/* the canonical key of a packet from (@a, @ap) to (@b, @bp); @fam 4/6, v4 in bytes 0..3 */
void ut_key(struct nacct_flow_key *k, int fam, const __u8 *a, __u16 ap, const __u8 *b,
	    __u16 bp, __u8 proto, __u16 vlan, int *a_is_lo);
/* one flow by key; returns 0 if present */
int ut_flow(struct ut *u, const struct nacct_flow_key *k, struct nacct_flow_val *v);

int ut_ethertype(struct ut *u, __u32 et, struct nacct_ethertype_val *v);
/* the tunnel entry of a handle (0 if found); the number of tunnels */
int ut_tunnel(struct ut *u, __u64 handle, struct nacct_tun_key *k);
int ut_tunnel_count(struct ut *u);
int ut_subnet_stats(struct ut *u, __u32 id, struct nacct_subnet_stats *s);
int ut_set_cfg(struct ut *u, __u32 sample_n, __u32 snaplen);

/*
 * The conservation law, checked as one test line:
 * totals == sum(flows) + overflow + malformed + nonip (packets and bytes,
 * per direction), nonip == sum(ethertypes), malformed == sum(reasons),
 * sum(subnet counters) == sum(flows) + overflow, flows_created == the
 * flows in the map (no test deletes one).
 */
int ut_conserve(struct ut *u, const char *name);

const char *ut_hook_name(enum ut_hook h);
const char *ut_mal_name(int reason);

#endif /* NACCT_UT_HARNESS_H */
