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

/*
 * Make the first headers linear.  A subprogram of its own: were the test
 * inline, the verifier would carry what it learnt from it (and from the
 * pull) into two copies of every parser path — three times the work.
 */
static __noinline int nacct_tc_pull(struct __sk_buff *skb)
{
	__u32 len = skb->len, want = len < NACCT_TC_PULL ? len : NACCT_TC_PULL;

	if (skb->data_end - skb->data < want)
		bpf_skb_pull_data(skb, want);
	return 0;
}

static __always_inline int nacct_tc(struct __sk_buff *skb, __u32 dir)
{
	struct nacct_sample_buf *buf;
	struct nacct_cfg *cfg;
	struct nacct_pkt pkt;
	void *data, *data_end;
	__u32 zero = 0, len = skb->len, segs, caplen = 0;
	__u64 pkts = 1, bytes;
	int res, hw_vlan = -1;

	nacct_tc_pull(skb);
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
		/* Older verifiers need the bound built this way: 6.12 does not
		 * carry clang's folded "cl - 1 <= MAX - 1" test on a copy back
		 * to cl ("R4 invalid zero-sized read"), 6.1 learns no lower
		 * bound from "cl != 0".  So bound cl - 1 from above (0 wraps to
		 * 2^64 - 1 and fails), then add 1: [1, MAX] on this register. */
		__u64 c1 = (__u64)caplen - 1;

		asm volatile("" : "+r"(c1));
		if (c1 < NACCT_SNAPLEN_MAX) {
			__u64 cl = c1 + 1;

			if (!bpf_skb_load_bytes(skb, 0, buf->data, cl))
				nacct_sample_emit(buf, cl);
			else
				nacct_sample_fail();
		} else {
			nacct_sample_fail();
		}
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
