// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A foreign XDP program for coexistence tests: passes everything. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int other_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("tc")
int other_tc(struct __sk_buff *skb)
{
	return -1; /* TC_ACT_UNSPEC */
}
