// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nacct TC programs: egress accounting (always), and ingress accounting
 * where XDP is unavailable or taken (`--hook tc`).  Same parser, same
 * maps as the XDP program.  A GSO skb counts as the wire packets it
 * stands for; a VLAN tag held in skb metadata counts its 4 wire bytes.
 * The verdict is always TC_ACT_UNSPEC, so filters after ours still run.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "../maps/account.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* headers we want linear before parsing; most skbs already are */
#define NACCT_TC_PULL 256

static __always_inline int nacct_tc(struct __sk_buff *skb, __u32 dir)
{
	struct nacct_sample_buf *buf;
	struct nacct_cfg *cfg;
	struct nacct_pkt pkt;
	void *data, *data_end;
	__u32 zero = 0, len = skb->len, segs, caplen = 0, want;
	__u64 pkts = 1, bytes;
	int res, hw_vlan = -1;

	want = len < NACCT_TC_PULL ? len : NACCT_TC_PULL;
	if (skb->data_end - skb->data < want)
		bpf_skb_pull_data(skb, want);
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	if (skb->vlan_present)
		hw_vlan = skb->vlan_tci & 0x0fff;

	__builtin_memset(&pkt, 0, sizeof(pkt));
	res = nacct_parse(data, data_end, len, hw_vlan, &pkt);

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
	nacct_account(&pkt, res, dir, pkts, bytes);

	cfg = bpf_map_lookup_elem(&nacct_cfg, &zero);
	if (!cfg)
		return TC_ACT_UNSPEC;
	buf = nacct_sample_begin(cfg, len, dir, skb->ifindex, &caplen);
	if (buf) {
		/* 64-bit and re-checked after the barrier: the verifier must see
		 * the bound on the very register handed to the helper */
		__u64 cl = caplen;

		asm volatile("" : "+r"(cl));
		/* one test per barrier: clang folds "cl >= 1 && cl <= MAX" into
		 * "cl - 1 <= MAX - 1" on a copy of cl, and verifiers before
		 * ~6.18 do not carry that bound back (Debian's 6.1 and 6.12
		 * reject the program: "R4 invalid zero-sized read") */
		if (cl > NACCT_SNAPLEN_MAX)
			cl = 0;
		asm volatile("" : "+r"(cl));
		if (cl >= 1 && !bpf_skb_load_bytes(skb, 0, buf->data, cl))
			nacct_sample_emit(buf, cl);
		else
			nacct_sample_fail();
	}
	return TC_ACT_UNSPEC;
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
