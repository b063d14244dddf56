// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nacct's own data-path code, cut into cumulative stages for bench_micro,
 * so that one run shows where the time of nacct_xdp goes and a regression
 * is located in one stage.  Built from the very same headers
 * (maps/parse.h, maps/account.bpf.h) and loaded with the same private
 * pin_root_path as nacct's objects, so the stages update nacct's own maps
 * (same key and value layout, same sizes).
 *
 * Each stage does everything the previous one does, plus one step:
 *
 *   bench_st_floor    XDP_PASS from this object (the test_run floor)
 *   bench_st_parse    + nacct_parse()
 *   bench_st_key      + the canonical flow key (lower endpoint first, in
 *                       place in the parse result)
 *   bench_st_lookup   + nacct_flows lookup; on a miss, insert (BPF_NOEXIST)
 *   bench_st_update   + the value update of either layout (counters,
 *                       flags, dirs; per-CPU: a fresh CPU slot's precise
 *                       clock and subnet ids)
 *   bench_st_clock    + the coarse clock for last_seen (jiffy-cached)
 *   bench_st_subnet   + the per-subnet counter (every packet; the ids
 *                       come with the value)
 *   bench_st_account  parse + the real nacct_account_dir(): the above plus
 *                     the interface totals and the malformed/non-IP/fragment
 *                     branches
 *
 * The last stage, "nacct" in bench_micro's table, is the real nacct_xdp:
 * it adds the nacct_cfg lookup, the tap test and the sampling decision.
 * Stages up to bench_st_subnet are built from the data path's own helpers
 * (the block below); keep them in step with maps/account.bpf.h.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "../maps/account.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * ===== ADAPT HERE when maps/parse.h or maps/account.bpf.h change ===========
 * The only places that name the data path's functions.  bv_parse() is the
 * data path's parser as nacct_xdp calls it; bv_key() makes the key
 * canonical the way nacct_account_dir() does (in place, in the parse
 * result); bv_add() is the data path's update of an existing flow's value
 * (either layout: the loader's rodata switch decides, as for nacct_xdp);
 * bv_now() its clock; bv_account() the data path's accounting entry.
 */
static __always_inline int bv_parse(void *data, void *data_end, struct nacct_pkt *pkt)
{
	__builtin_memset(pkt, 0, sizeof(*pkt));
	return nacct_parse(data, data_end, data_end - data, -1, 0, pkt);
}

/* returns edir: 0 when the packet's source is the key's lower endpoint */
static __always_inline __u8 bv_key(struct nacct_pkt *pkt)
{
	return nacct_key_canon(&pkt->key);
}

static __always_inline void bv_add(struct nacct_flow_val *v, const struct nacct_pkt *pkt,
				   __u8 edir, __u32 len, __u64 now)
{
	nacct_flow_add(v, pkt, NACCT_DIR_RX, edir, 1, len, now, NACCT_CURRENT);
}

static __always_inline __u64 bv_now(void)
{
	return nacct_now_coarse();
}

static __always_inline int bv_account(struct nacct_pkt *pkt, int res, __u32 queue, __u32 len)
{
	return nacct_account_dir(pkt, res, NACCT_DIR_RX, queue, 1, len, 0, NACCT_CURRENT);
}
/* ===== end of the block to adapt ========================================= */

/* the compiler must not drop what a stage computed */
#define BV_KEEP(p) asm volatile("" : : "r"(p) : "memory")

/* stage bits: what bv_flow() does beyond parse + key */
#define BV_LOOKUP (1 << 0)
#define BV_UPDATE (1 << 1)
#define BV_CLOCK (1 << 2)
#define BV_SUBNET (1 << 3)

/*
 * Key and (per @stages) the steps of nacct_account_dir() for one IP packet
 * of @len bytes, direction RX.  @stages is a constant in every caller, so
 * each copy holds only its own steps.  The insert of a new flow is the
 * same in every stage that looks up (a bare value): the stages measure
 * packets of a flow that exists.
 */
static __always_inline int bv_flow(struct nacct_pkt *pkt, __u32 len, __u32 stages)
{
	const __u32 dir = NACCT_DIR_RX;
	struct nacct_flow_val *v, nv;
	__u32 sub_id;
	__u64 now = 0;
	__u8 edir;

	edir = bv_key(pkt);
	if (!(stages & BV_LOOKUP)) {
		BV_KEEP(pkt);
		return edir;
	}
	if (stages & BV_CLOCK)
		now = bv_now();
	v = bpf_map_lookup_elem(&nacct_flows, &pkt->key);
	if (!v) {
		__builtin_memset(&nv, 0, sizeof(nv));
		nv.packets[dir] = 1;
		nv.bytes[dir] = len;
		nv.first_seen = bpf_ktime_get_ns();
		nv.last_seen = nv.first_seen;
		nv.seen_dirs = 1 << edir;
		nacct_subnets_fill(&nv, &pkt->key);
		if (bpf_map_update_elem(&nacct_flows, &pkt->key, &nv, BPF_NOEXIST))
			return 0;
		if (stages & BV_SUBNET) {
			sub_id = (edir ^ dir) ? nv.subnet_hi : nv.subnet_lo;
			nacct_subnet_add(sub_id, dir, 1, len);
		}
		return 0;
	}
	if (stages & BV_UPDATE)
		bv_add(v, pkt, edir, len, now);
	if (stages & BV_SUBNET) {
		sub_id = (edir ^ dir) ? v->subnet_hi : v->subnet_lo;
		nacct_subnet_add(sub_id, dir, 1, len);
	}
	return 0;
}

/* one program per stage: parse, then the stage's steps inline, as nacct_xdp */
#define BV_STAGE(name, stages)                                                  \
	SEC("xdp") int bench_st_##name(struct xdp_md *ctx)                     \
	{                                                                      \
		void *data = (void *)(long)ctx->data;                          \
		void *data_end = (void *)(long)ctx->data_end;                  \
		struct nacct_pkt pkt;                                          \
									       \
		if (bv_parse(data, data_end, &pkt) != NACCT_P_IP)              \
			return XDP_DROP;                                       \
		return bv_flow(&pkt, data_end - data, stages) ? XDP_DROP : XDP_PASS; \
	}

SEC("xdp")
int bench_st_floor(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int bench_st_parse(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct nacct_pkt pkt;
	int res;

	res = bv_parse(data, data_end, &pkt);
	BV_KEEP(&pkt);
	return res == NACCT_P_IP ? XDP_PASS : XDP_DROP;
}

BV_STAGE(key, 0)
BV_STAGE(lookup, BV_LOOKUP)
BV_STAGE(update, BV_LOOKUP | BV_UPDATE)
BV_STAGE(clock, BV_LOOKUP | BV_UPDATE | BV_CLOCK)
BV_STAGE(subnet, BV_LOOKUP | BV_UPDATE | BV_CLOCK | BV_SUBNET)

SEC("xdp")
int bench_st_account(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct nacct_pkt pkt;
	int res;

	res = bv_parse(data, data_end, &pkt);
	bv_account(&pkt, res, ctx->rx_queue_index, data_end - data);
	return XDP_PASS;
}
