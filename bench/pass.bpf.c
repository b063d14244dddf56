// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The baseline of nacct's inline mode in bench/linerate.sh: the same two
 * hooks nacct attaches (native XDP ingress, TC egress through clsact) on
 * the same veth, with programs that do nothing but pass.  inline / this
 * pair is nacct's own cost; "no program" vs this pair is what veth's
 * native-XDP receive path costs by itself (it builds the skb after the
 * XDP program instead of taking the frame straight to the stack).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int bench_xdp_pass_live(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/* nacct's TC program returns the same verdict: let later filters run */
SEC("tc")
int bench_tc_pass_live(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}
