// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nacct TC programs: egress accounting (always), and ingress accounting
 * where XDP is unavailable or taken (`--hook tc`).  Same parser, same
 * maps as the XDP program.  A GSO skb counts as the wire packets it
 * stands for; a VLAN tag held in skb metadata counts its 4 wire bytes.
 * The verdict is always TC_ACT_UNSPEC (CTX_ACT_OK), so filters after ours
 * still run.  Sampling is the same code as XDP's (maps/sample.bpf.h).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "../maps/ctx_skb.h"
#include "../maps/account.bpf.h"
#include "../maps/sample.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* headers we want linear before parsing; most skbs already are */
#define NACCT_TC_PULL 256

/*
 * Make the first headers linear.  Inline (a subprogram call cost 7 ns a
 * packet), but nothing the test teaches the verifier may outlive it: the
 * values it compares die here, and the caller reads the skb's length
 * afresh after the compiler barrier.  Were they live after the join, the
 * verifier would carry two copies of every parser path (pulled or not,
 * length below or above the bound): three times the work.
 */
static __always_inline void nacct_tc_pull(struct __sk_buff *skb)
{
	__u32 len = skb->len, have = skb->data_end - skb->data;

	if (have < len && have < NACCT_TC_PULL)
		bpf_skb_pull_data(skb, len < NACCT_TC_PULL ? len : NACCT_TC_PULL);
	asm volatile("" ::: "memory");
}

/*
 * The tunnel stage (maps/decap.h) of a candidate: open the tunnel, parse
 * the inner packet; the result goes to the one accounting below.  A
 * global function: the verifier checks the stage once, on its own, not
 * once for every way the outer parse ended (inlined, the program passes
 * its million-instruction limit), and the accounting after it once more
 * for an unknown result.
 */
static __always_inline int nacct_tc_tunnel_stage(struct __sk_buff *skb, __u32 len, int res,
						 struct nacct_pkt *pkt)
{
	if (!pkt)
		return NACCT_P_MALFORMED;
	res = nacct_decap_parse(NACCT_DECAP_MEM(1), ctx_data(skb), ctx_data_end(skb), len, res,
				pkt);
	if (res == NACCT_P_INNER)
		res = nacct_decap_inner(NACCT_DECAP_MEM(1), ctx_data(skb), ctx_data_end(skb), pkt);
	return res;
}

__noinline int nacct_tc_tunnel(struct __sk_buff *skb, __u32 len, int res, struct nacct_pkt *pkt)
{
	return nacct_tc_tunnel_stage(skb, len, res, pkt);
}

/* the compat twins' (maps/account.bpf.h): no pointer arguments before 5.12 */
static __noinline int nacct_tc_tunnel_compat(struct __sk_buff *skb, __u32 len, int res,
					     struct nacct_pkt *pkt)
{
	return nacct_tc_tunnel_stage(skb, len, res, pkt);
}

/*
 * One parsed skb into the counters: a GSO skb counts as the wire packets
 * it stands for (every segment repeats the headers), a VLAN tag in
 * metadata its 4 wire bytes.
 */
static __always_inline int nacct_tc_account(struct __sk_buff *skb, __u32 len, int res,
					    __u32 dir, struct nacct_pkt *pkt, const int compat)
{
	__u64 pkts = 1, bytes = len;
	__u32 segs = skb->gso_segs, qm;

	if (segs > 1 && res == NACCT_P_IP) {
		pkts = segs;
		bytes = len + (__u64)(segs - 1) * pkt->hdr_len;
		nacct_stats_gso(dir, skb->ifindex);
	}
	if (skb->vlan_present)
		bytes += 4 * pkts;
	/* RX queue: the driver's record (queue + 1; 0: none); TX rows come
	 * from tc/nacct_txq.bpf.c, as the queue is picked after this hook */
	qm = dir == NACCT_DIR_RX ? skb->queue_mapping : 0;
	nacct_account_dir(pkt, res, dir, qm ? qm - 1 : NACCT_QUEUE_OTHER, pkts, bytes,
			  nacct_domain ? skb->ifindex : 0, compat);
	return 0;
}

static __always_inline int nacct_tc(struct __sk_buff *skb, __u32 dir, const int compat)
{
	struct nacct_pkt pkt;
	void *data, *data_end;
	__u32 len;
	int res, hw_vlan = -1;

	nacct_tc_pull(skb);
	len = ctx_full_len(skb);
	data = ctx_data(skb);
	data_end = ctx_data_end(skb);
	if (skb->vlan_present)
		hw_vlan = skb->vlan_tci & 0x0fff;

	nacct_pkt_init(&pkt);
	res = nacct_parse(data, data_end, len, hw_vlan, 1, &pkt);
	if (nacct_tun_candidate(&pkt, res))
		res = compat ? nacct_tc_tunnel_compat(skb, len, res, &pkt) :
			       nacct_tc_tunnel(skb, len, res, &pkt);
	nacct_tc_account(skb, len, res, dir, &pkt, compat);
	return nacct_sample_verdict(skb, len, dir);
}

SEC("tc")
int nacct_tc_egress(struct __sk_buff *skb)
{
	return nacct_tc(skb, NACCT_DIR_TX, NACCT_CURRENT);
}

SEC("tc")
int nacct_tc_ingress(struct __sk_buff *skb)
{
	return nacct_tc(skb, NACCT_DIR_RX, NACCT_CURRENT);
}

/* the twins for kernels before 5.12 (maps/account.bpf.h) */
SEC("?tc")
int nacct_tc_egress_compat(struct __sk_buff *skb)
{
	return nacct_tc(skb, NACCT_DIR_TX, NACCT_COMPAT);
}

SEC("?tc")
int nacct_tc_ingress_compat(struct __sk_buff *skb)
{
	return nacct_tc(skb, NACCT_DIR_RX, NACCT_COMPAT);
}
