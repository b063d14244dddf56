// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The XDP_DROP ceiling of bench/linerate.sh: the cheapest thing an XDP
 * program can do with a frame.  The kernel counts the drops itself
 * (veth: ethtool -S <iface> rx_queue_N_xdp_drops), so no map is needed.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int bench_xdp_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}
