/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One way to read an attachment: status, serve, top and export open it
 * with nacct_iface_open() (maps/maps.h) and read it through
 * nacct_snapshot(): totals (with the NIC's counters in offload mode),
 * buckets, subnets, programs, map fill and, when asked, every flow merged
 * over CPUs by the field table's rules.  Prints nothing.
 */
#ifndef NACCT_SNAPSHOT_H
#define NACCT_SNAPSHOT_H

#include <stddef.h>
#include <linux/types.h>
#include "fields.h"
#include "../maps/maps.h"

/* every flow of the map (batched), merged per CPU; @ifindex not 0: only
 * the flows of that interface (a shared domain's member, whose flows
 * carry it in their key: nacct_iface_maps.if_filter); caller frees *out */
int nacct_dump_flows(int fd, __u32 ifindex, struct nacct_flow **out, size_t *n);

/* an attachment's programs and link, by their pins */
enum nacct_prog_idx {
	NACCT_PROG_XDP = 0,
	NACCT_PROG_TC_INGRESS,
	NACCT_PROG_TC_EGRESS,
	NACCT_PROG_MAX,
};
extern const char *const nacct_prog_pins[NACCT_PROG_MAX];
/* the program names in metrics: "xdp", "tc_ingress", "tc_egress" */
extern const char *const nacct_prog_names[NACCT_PROG_MAX];

struct nacct_prog_stat {
	int present;
	__u32 id;
	__u64 run_cnt, run_time_ns; /* kernel.bpf_stats_enabled */
};
/* a program's id and run statistics (present = 0 when fd < 0 or unreadable) */
void nacct_prog_stat_fd(int fd, struct nacct_prog_stat *p);

/* nacct_snapshot(what): the parts to read besides meta and totals */
enum {
	NACCT_SNAP_FLOWS = 1 << 0,   /* the flow dump (fl), flow sums and count */
	NACCT_SNAP_SUBNETS = 1 << 1, /* subnets and their counters */
	NACCT_SNAP_ETHER = 1 << 2,   /* non-IP by ethertype */
	NACCT_SNAP_PROGS = 1 << 3,   /* program ids, run stats, link id */
};

struct nacct_snapshot {
	struct nacct_meta meta;
	int consistent;                   /* NACCT_SNAP_FLOWS: no flow expired while it was read */
	int present;                      /* the interface exists with the same ifindex */
	struct nacct_totals t;            /* totals, expired counts; flow sums: dumped with
					   * NACCT_SNAP_FLOWS, else derived */
	int offload;                      /* hw[] read (offload mode) */
	struct nacct_hw_counter hw[NACCT_HW_SLOTS];
	struct nacct_flow *fl;            /* NACCT_SNAP_FLOWS */
	size_t n_fl;
	struct nacct_tuns tuns;           /* NACCT_SNAP_FLOWS: their tunnels */
	struct nacct_subnet *subs;        /* NACCT_SNAP_SUBNETS */
	size_t n_subs;
	struct nacct_subnet_stats *sstats; /* index = subnet id */
	size_t n_sstats;
	struct nacct_ethertype *et;       /* NACCT_SNAP_ETHER */
	size_t n_et;
	struct nacct_prog_stat progs[NACCT_PROG_MAX]; /* NACCT_SNAP_PROGS */
	__u32 link_id;
};

/* 0 or a negative errno; free with nacct_snapshot_free() either way */
int nacct_snapshot(const struct nacct_iface_maps *m, unsigned int what, struct nacct_snapshot *s);
void nacct_snapshot_free(struct nacct_snapshot *s);

/* the NIC's counters of an offload attachment (pinned in dir) */
int nacct_offload_read(const char *dir, struct nacct_hw_counter hw[NACCT_HW_SLOTS]);

#endif /* NACCT_SNAPSHOT_H */
