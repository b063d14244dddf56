/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * An in-memory store for the exporter core (struct nacct_xstore): a flow
 * map with per-CPU values filled the way the data path fills them
 * (maps/account.bpf.h), the interface totals, and a take that moves a
 * flow's per-CPU values out atomically with its delete.  Its memory can
 * come from a shared mapping (the kill -9 tests fork).
 */
#ifndef NACCT_MEMSTORE_H
#define NACCT_MEMSTORE_H

#include "../../lib/exporter.h"

#define MS_MAXCPU 4
#define MS_JIFFY 4000000ULL /* the coarse clock of last_seen */

struct mflow {
	int live;
	struct nacct_flow_key key;
	struct nacct_flow_val pc[MS_MAXCPU];
};

struct memstore {
	struct nacct_xstore base;
	struct mflow *f;        /* every flow ever made; taken ones have live = 0 */
	size_t n, cap;
	size_t max_live, live;  /* more: the overflow bucket */
	size_t chunk, cursor;
	int at_end;
	struct nacct_flow *out; /* chunk flows */
	struct nacct_stats st;  /* the interface totals */
	__u64 now;              /* the data path's clock (ns) */
	__u64 takes;
	/* the kill -9 tests: what a syscall makes atomic */
	void (*atomic_begin)(void);
	void (*atomic_end)(void);
};

/* mem: cap flows + chunk out entries (NULL: calloc'ed) */
int ms_init(struct memstore *m, int ncpu, size_t cap, size_t chunk, void *mem);
size_t ms_mem_size(size_t cap, size_t chunk);

/* a key: lo and hi endpoints as the data path orders them (IPv4 v4-mapped) */
void ms_key4(struct nacct_flow_key *k, __u8 proto, __u32 lo, __u16 lo_port, __u32 hi,
	     __u16 hi_port);
void ms_key6(struct nacct_flow_key *k, __u8 proto, const __u8 lo[16], __u16 lo_port,
	     const __u8 hi[16], __u16 hi_port);

/* one packet: sent by endpoint edir (0 lo, 1 hi), counted on cpu at hook dir */
void ms_packet(struct memstore *m, const struct nacct_flow_key *k, int cpu, int edir, int dir,
	       __u32 bytes, __u8 tcp_flags);

/* the sums of the flows in the map */
void ms_live(const struct memstore *m, __u64 packets[2], __u64 bytes[2], __u64 *flows);

#endif /* NACCT_MEMSTORE_H */
