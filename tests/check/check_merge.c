// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The one per-CPU merge (nacct_flow_merge, lib/fields.c): flows, top,
 * serve and the exporter's expired flows all read a flow through it.
 */
#include <string.h>

#include "check.h"
#include "memstore.h"

#define NCPU 4

static void merge_sums_and_times(void)
{
	struct nacct_flow_val pc[NCPU], m;

	memset(pc, 0, sizeof(pc));
	/* CPU 0 never saw the flow; CPU 2 saw it first (precise clock), CPU 3
	 * last, and CPU 1's coarse last_seen lags its own precise first_seen */
	pc[1] = (struct nacct_flow_val){ .packets = { 3, 1 }, .bytes = { 300, 60 },
					 .first_seen = 5000700, .last_seen = 4000000,
					 .tcp_flags = { 0x10, 0x02 }, .first_dir = 1,
					 .seen_dirs = 2, .subnet_lo = 11, .subnet_hi = 21 };
	pc[2] = (struct nacct_flow_val){ .packets = { 2, 0 }, .bytes = { 128, 0 },
					 .first_seen = 5000100, .last_seen = 8000000,
					 .tcp_flags = { 0x08, 0 }, .first_dir = 0,
					 .seen_dirs = 1, .subnet_lo = 12, .subnet_hi = 22 };
	pc[3] = (struct nacct_flow_val){ .packets = { 0, 4 }, .bytes = { 0, 400 },
					 .first_seen = 6000000, .last_seen = 12000000,
					 .tcp_flags = { 0, 0x01 }, .first_dir = 1,
					 .seen_dirs = 2, .subnet_lo = 13, .subnet_hi = 23 };
	nacct_flow_merge(&m, pc, NCPU);
	t_eq_u64("merge: rx packets summed", 5, m.packets[0]);
	t_eq_u64("merge: tx packets summed", 5, m.packets[1]);
	t_eq_u64("merge: rx bytes summed", 428, m.bytes[0]);
	t_eq_u64("merge: tx bytes summed", 460, m.bytes[1]);
	t_eq_u64("merge: rx TCP flags ORed", 0x18, m.tcp_flags[0]);
	t_eq_u64("merge: tx TCP flags ORed", 0x03, m.tcp_flags[1]);
	t_eq_u64("merge: seen_dirs ORed", 3, m.seen_dirs);
	t_eq_u64("merge: first_seen = the smallest non-zero (CPU 0 never saw it)", 5000100,
		 m.first_seen);
	t_eq_u64("merge: last_seen = the largest", 12000000, m.last_seen);
	t_eq_u64("merge: first_dir from the CPU that saw the flow first (CPU 2)", 0, m.first_dir);
	t_eq_u64("merge: subnet_lo from the first CPU", 12, m.subnet_lo);
	t_eq_u64("merge: subnet_hi from the first CPU", 22, m.subnet_hi);

	/* a coarse last_seen behind the precise first_seen of the same CPU */
	pc[3].last_seen = 4000000;
	pc[2].last_seen = 4000000;
	nacct_flow_merge(&m, pc, NCPU);
	t_eq_u64("merge: last_seen >= every CPU's first_seen (coarse clock lags)", 6000000,
		 m.last_seen);
	t_true("merge: first_seen <= last_seen", m.first_seen <= m.last_seen);

	memset(pc, 0, sizeof(pc));
	nacct_flow_merge(&m, pc, NCPU);
	t_eq_u64("merge: a value no CPU saw is all zero", 0,
		 m.packets[0] + m.packets[1] + m.first_seen + m.last_seen + m.first_dir);
}

static void merge_syn_rule(void)
{
	struct nacct_flow_val pc[NCPU], m;
	struct nacct_flow_key k;
	struct nacct_rec r;

	/*
	 * The case the exporter's own merge of expired flows got wrong: the
	 * first packet of a TCP flow (the SYN-ACK, lo -> hi) on CPU 0, its SYN
	 * (hi -> lo) on CPU 1 a little later.  The SYN's sender (hi) is the
	 * initiator, whichever CPU saw what first.
	 */
	memset(pc, 0, sizeof(pc));
	pc[0] = (struct nacct_flow_val){ .packets = { 2, 0 }, .first_seen = 1000,
					 .last_seen = 4000000, .tcp_flags = { 0x12, 0 },
					 .first_dir = 0, .seen_dirs = 1 };
	pc[1] = (struct nacct_flow_val){ .packets = { 2, 0 }, .first_seen = 2000,
					 .last_seen = 4000000, .tcp_flags = { 0x12, 0 },
					 .first_dir = 1, .seen_dirs = 2, .syn_dir = 2 };
	nacct_flow_merge(&m, pc, NCPU);
	t_eq_u64("merge: a SYN on another CPU than the first packet names the initiator (hi)", 1,
		 m.first_dir);
	ms_key4(&k, 6, 0xc6120501, 80, 0xc6120502, 40000);
	nacct_rec_flow(&r, "x", &k, &m);
	t_eq_u64("merge: ... so the flow's src is the SYN's sender", 1, r.src_hi);

	/* the same with the SYN on the CPU that saw the flow first, other way */
	pc[0].syn_dir = 1;
	pc[1].syn_dir = 0;
	nacct_flow_merge(&m, pc, NCPU);
	t_eq_u64("merge: SYN lo -> hi: lo is the initiator", 0, m.first_dir);

	/* no SYN: the first packet's sender, from the CPU that saw it first */
	pc[0].syn_dir = 0;
	pc[0].first_seen = 3000;
	nacct_flow_merge(&m, pc, NCPU);
	t_eq_u64("merge: no SYN: the first CPU's first packet names it (CPU 1: hi)", 1,
		 m.first_dir);
	t_eq_u64("merge: syn_dir: a non-zero value wins", 0, m.syn_dir);
}

void check_merge(void)
{
	merge_sums_and_times();
	merge_syn_rule();
}
