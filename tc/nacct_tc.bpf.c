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

static __always_inline int nacct_tc(struct __sk_buff *skb, __u32 dir)
{
	struct nacct_pkt pkt;
	void *data, *data_end;
	__u32 len, segs;
	__u64 pkts = 1, bytes;
	int res, hw_vlan = -1;

	nacct_tc_pull(skb);
	len = ctx_full_len(skb);
	data = ctx_data(skb);
	data_end = ctx_data_end(skb);
	if (skb->vlan_present)
		hw_vlan = skb->vlan_tci & 0x0fff;

	__builtin_memset(&pkt, 0, sizeof(pkt));
	res = nacct_parse(data, data_end, len, hw_vlan, 1, &pkt);

	bytes = len;
	segs = skb->gso_segs;
	if (segs > 1 && res == NACCT_P_IP) {
		/* every segment repeats the headers on the wire */
		pkts = segs;
		bytes = len + (__u64)(segs - 1) * pkt.hdr_len;
		nacct_stats_gso(dir);
	}
	if (hw_vlan >= 0)
		bytes += 4 * pkts;
	nacct_account_dir(&pkt, res, dir, pkts, bytes);
	return nacct_sample_verdict(skb, len, dir);
}

SEC("tc")
int nacct_tc_egress(struct __sk_buff *skb)
{
	return nacct_tc(skb, NACCT_DIR_TX);
}

SEC("tc")
int nacct_tc_ingress(struct __sk_buff *skb)
{
	return nacct_tc(skb, NACCT_DIR_RX);
}
