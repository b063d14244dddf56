// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Baselines for the micro-benchmark (bench/micro.c), run under
 * BPF_PROG_TEST_RUN next to nacct's real programs:
 *
 *   bench_xdp_pass    bare XDP_PASS: the floor of one test_run iteration
 *   bench_xdp_hash    Eth/IP/L4 parse + 5-tuple key (nacct's 40-byte key
 *                     layout) + PERCPU_HASH lookup-or-insert of a 16-byte
 *                     {packets, bytes} value: "a bare PERCPU_HASH update"
 *   bench_xdp_hash40  bench_xdp_hash with the key's first 40 bytes (the key
 *                     before its tunnel word): what that word costs
 *   bench_xdp_hash64  the same with nacct's 64-byte value and a coarse
 *                     timestamp (isolates value size + clock cost)
 *   bench_xdp_hash_shared  the bare update of a shared value: HASH (one
 *                     value for all CPUs), atomic adds; the baseline of
 *                     nacct's shared flow table layout
 *   bench_xdp_rw      the "rewriter": writes flow number (counter % nflows)
 *                     into the source address and port, then tail-calls
 *                     bench_jmp[0] (any of the above, or nacct's program).
 *                     This is how one test_run of a single packet becomes
 *                     a stream of nflows distinct flows.
 *   bench_tc_*        the same for TC (sched_cls) programs
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "nacct.h"
#include "bench.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* number of distinct flows the rewriter cycles through (0/1: no rewrite) */
__u32 nflows = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1); /* set at load */
	__type(key, struct nacct_flow_key);
	__type(value, struct bench_val);
} bench_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1); /* set at load */
	__type(key, struct nacct_flow_key);
	__type(value, struct nacct_flow_val);
} bench_flows64 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* set at load */
	__type(key, struct nacct_flow_key);
	__type(value, struct bench_val);
} bench_flows_shared SEC(".maps");

/* the flow key as it was before its tunnel word (40 bytes): what the word costs */
struct bench_key40 {
	__u8 b[40];
};
_Static_assert(sizeof(struct nacct_flow_key) == 48 &&
		       __builtin_offsetof(struct nacct_flow_key, tunnel) == 40,
	       "the tunnel word ends the key");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1); /* set at load */
	__type(key, struct bench_key40);
	__type(value, struct bench_val);
} bench_flows40 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} bench_ctr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bench_jmp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bench_tc_jmp SEC(".maps");

/* the bare update, into @map: bench_flows, or bench_flows40 (the key's first 40 bytes) */
static __always_inline void bench_hash_map(void *map, void *data, void *data_end)
{
	struct nacct_flow_key k;
	struct bench_val *v, nv;

	if (bench_key(data, data_end, &k))
		return;
	v = bpf_map_lookup_elem(map, &k);
	if (v) {
		v->packets++;
		v->bytes += data_end - data;
		return;
	}
	nv.packets = 1;
	nv.bytes = data_end - data;
	bpf_map_update_elem(map, &k, &nv, BPF_NOEXIST);
}

static __always_inline void bench_hash(void *data, void *data_end)
{
	bench_hash_map(&bench_flows, data, data_end);
}

static __always_inline void bench_hash_shared(void *data, void *data_end)
{
	struct nacct_flow_key k;
	struct bench_val *v, nv;

	if (bench_key(data, data_end, &k))
		return;
	v = bpf_map_lookup_elem(&bench_flows_shared, &k);
	if (v) {
		__sync_fetch_and_add(&v->packets, 1);
		__sync_fetch_and_add(&v->bytes, data_end - data);
		return;
	}
	nv.packets = 1;
	nv.bytes = data_end - data;
	bpf_map_update_elem(&bench_flows_shared, &k, &nv, BPF_NOEXIST);
}

static __always_inline void bench_hash64(void *data, void *data_end)
{
	struct nacct_flow_key k;
	struct nacct_flow_val *v, nv;
	__u64 now;

	if (bench_key(data, data_end, &k))
		return;
	now = bpf_ktime_get_coarse_ns();
	v = bpf_map_lookup_elem(&bench_flows64, &k);
	if (v) {
		v->packets[0]++;
		v->bytes[0] += data_end - data;
		v->last_seen = now;
		return;
	}
	__builtin_memset(&nv, 0, sizeof(nv));
	nv.packets[0] = 1;
	nv.bytes[0] = data_end - data;
	nv.first_seen = now;
	nv.last_seen = now;
	bpf_map_update_elem(&bench_flows64, &k, &nv, BPF_NOEXIST);
}

/* write flow number f into the packet: v4 source 198.18.x.y + port, v6 source low 32 bits */
static __always_inline void bench_rewrite(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	__u32 zero = 0, f;
	__u64 *ctr;

	if (nflows < 2)
		return;
	ctr = bpf_map_lookup_elem(&bench_ctr, &zero);
	if (!ctr)
		return;
	f = *ctr % nflows;
	*ctr += 1;
	if ((void *)(eth + 1) > data_end)
		return;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		struct udphdr *uh = (void *)(ip + 1);

		if ((void *)(uh + 1) > data_end)
			return;
		ip->saddr = bpf_htonl(0xc6120000 | (f & 0xffff)); /* 198.18.x.y */
		uh->source = bpf_htons(1024 + (f >> 16));
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return;
		ip6->saddr.in6_u.u6_addr32[3] = bpf_htonl(f);
	}
}

SEC("xdp")
int bench_xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int bench_xdp_hash(struct xdp_md *ctx)
{
	bench_hash((void *)(long)ctx->data, (void *)(long)ctx->data_end);
	return XDP_PASS;
}

SEC("xdp")
int bench_xdp_hash40(struct xdp_md *ctx)
{
	bench_hash_map(&bench_flows40, (void *)(long)ctx->data, (void *)(long)ctx->data_end);
	return XDP_PASS;
}

SEC("xdp")
int bench_xdp_hash_shared(struct xdp_md *ctx)
{
	bench_hash_shared((void *)(long)ctx->data, (void *)(long)ctx->data_end);
	return XDP_PASS;
}

SEC("xdp")
int bench_xdp_hash64(struct xdp_md *ctx)
{
	bench_hash64((void *)(long)ctx->data, (void *)(long)ctx->data_end);
	return XDP_PASS;
}

SEC("xdp")
int bench_xdp_rw(struct xdp_md *ctx)
{
	bench_rewrite((void *)(long)ctx->data, (void *)(long)ctx->data_end);
	bpf_tail_call(ctx, &bench_jmp, 0);
	return XDP_PASS;
}

SEC("tc")
int bench_tc_pass(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}

SEC("tc")
int bench_tc_hash(struct __sk_buff *skb)
{
	bench_hash((void *)(long)skb->data, (void *)(long)skb->data_end);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int bench_tc_rw(struct __sk_buff *skb)
{
	bench_rewrite((void *)(long)skb->data, (void *)(long)skb->data_end);
	bpf_tail_call(skb, &bench_tc_jmp, 0);
	return TC_ACT_UNSPEC;
}
