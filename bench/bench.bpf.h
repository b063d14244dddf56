/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The bare flow-key parse of the benchmark baselines (bench/micro.bpf.c,
 * bench/hashdrop.bpf.c): Ethernet, IPv4 or IPv6 (no options or extension
 * headers walked), ports, into nacct's 40-byte key layout (not canonical).
 */
#ifndef BENCH_BPF_H
#define BENCH_BPF_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "nacct.h"

struct bench_val {
	__u64 packets;
	__u64 bytes;
};

/* minimal parse: Ethernet, IPv4 (no options walk beyond IHL) or IPv6, ports */
static __always_inline int bench_key(void *data, void *data_end, struct nacct_flow_key *k)
{
	struct ethhdr *eth = data;
	__be16 *ports;
	__u8 proto;

	if ((void *)(eth + 1) > data_end)
		return -1;
	__builtin_memset(k, 0, sizeof(*k));
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end)
			return -1;
		k->lo_addr[10] = 0xff;
		k->lo_addr[11] = 0xff;
		k->hi_addr[10] = 0xff;
		k->hi_addr[11] = 0xff;
		__builtin_memcpy(k->lo_addr + 12, &ip->saddr, 4);
		__builtin_memcpy(k->hi_addr + 12, &ip->daddr, 4);
		proto = ip->protocol;
		k->family = NACCT_AF_INET;
		ports = (void *)ip + ip->ihl * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		__builtin_memcpy(k->lo_addr, &ip6->saddr, 16);
		__builtin_memcpy(k->hi_addr, &ip6->daddr, 16);
		proto = ip6->nexthdr;
		k->family = NACCT_AF_INET6;
		ports = (void *)(ip6 + 1);
	} else {
		return -1;
	}
	if ((void *)(ports + 2) > data_end)
		return -1;
	k->lo_port = ports[0];
	k->hi_port = ports[1];
	k->proto = proto;
	return 0;
}

#endif /* BENCH_BPF_H */
