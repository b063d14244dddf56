// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nacct XDP offload variant: runs on the NIC (XDP_FLAGS_HW_MODE), so it
 * uses only what a device can hold: one ARRAY of NACCT_HW_SLOTS counters
 * bound to the device (maps/nacct.h, "hardware offload"), no per-CPU maps,
 * no ring buffer, no LPM trie, no helper but map lookup.  It counts every
 * frame and the frames without an IP header, and passes every frame on.
 * Per-flow accounting does not fit the devices we can test on (netdevsim:
 * at most 2 map entries); on a NIC that allows large maps (nfp) a flow
 * table could be added here, counting what the device allows.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "nacct.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * No pinning attribute: the loader binds the map to the device
 * (bpf_map__set_ifindex) and pins it itself, as nacct_hw_stats in the
 * attachment's directory.  Offloaded maps take no flags.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NACCT_HW_SLOTS);
	__type(key, __u32);
	__type(value, struct nacct_hw_counter);
} nacct_hw_stats SEC(".maps");

static __always_inline void hw_count(__u32 slot, __u64 len)
{
	struct nacct_hw_counter *c = bpf_map_lookup_elem(&nacct_hw_stats, &slot);

	if (!c)
		return;
	/* shared by every RX queue: atomic adds (nfp offloads BPF_XADD) */
	__sync_fetch_and_add(&c->packets, 1);
	__sync_fetch_and_add(&c->bytes, len);
}

SEC("xdp")
int nacct_offload(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u64 len = data_end - data;
	int ip = 0;

	hw_count(NACCT_HW_ALL, len);
	/* an Ethernet header plus a minimal IPv4 (20) or IPv6 (40) header */
	if ((void *)(eth + 1) <= data_end) {
		if (eth->h_proto == bpf_htons(ETH_P_IP))
			ip = (void *)(eth + 1) + 20 <= data_end;
		else if (eth->h_proto == bpf_htons(ETH_P_IPV6))
			ip = (void *)(eth + 1) + 40 <= data_end;
	}
	if (!ip)
		hw_count(NACCT_HW_NONIP, len);
	return XDP_PASS;
}
