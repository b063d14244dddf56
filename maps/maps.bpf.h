/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Map definitions of the data path.  Included by the XDP and the TC
 * object; every map is pinned by name under /sys/fs/bpf/nacct/<iface>/
 * (the loader sets pin_root_path), so both objects of one interface share
 * one set of maps, and the maps outlive the process that loaded them.
 * Sizes marked "set at load" are overwritten by the loader before load.
 */
#ifndef NACCT_MAPS_BPF_H
#define NACCT_MAPS_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "nacct.h"
/*
 * nacct_domain: 1 in a shared domain's programs (attach --domain / --all;
 *   maps/nacct.h "A shared domain"): the flow key carries the ifindex and
 *   the per-interface rows are the interface's slot's.  0 (an
 *   attachment's own maps): slot 0 and ifindex 0, the lookup pruned.
 */
const volatile __u32 nacct_domain = 0;

#include "queues.bpf.h" /* nacct_queues */

/* flow records: canonical key -> per-CPU counters (size set at load) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, NACCT_MAX_FLOWS_DEFAULT);
	__type(key, struct nacct_flow_key);
	__type(value, struct nacct_flow_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nacct_flows SEC(".maps");

/* interface totals (RX: the RX queue rows, see nacct_account_dir) and
 * non-flow buckets; one per-CPU element */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nacct_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nacct_stats SEC(".maps");

/* this CPU's nacct_stats */

/* a domain's members: ifindex -> slot (max_entries: the domain's slots) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nacct_if_slots SEC(".maps");

/* the host view of a domain with --dedup (maps/nacct.h): sized at load */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1);
	__type(key, __u64);
	__type(value, struct nacct_dedup_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nacct_dedup_seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1);
	__type(key, struct nacct_flow_key);
	__type(value, struct nacct_flow_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nacct_host_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct nacct_flow_key);
	__type(value, struct nacct_host_if_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nacct_host_ifs SEC(".maps");

/* the per-interface rows' slot of @ifindex (0 outside a domain) */
static __always_inline __u32 nacct_slot_of(__u32 ifindex)
{
	__u32 *s;

	if (!nacct_domain)
		return 0;
	s = bpf_map_lookup_elem(&nacct_if_slots, &ifindex);
	return s ? *s : 0;
}

/* this CPU's nacct_stats of slot @slot */
static __always_inline struct nacct_stats *nacct_stats_get(__u32 slot)
{
	return bpf_map_lookup_elem(&nacct_stats, &slot);
}

/* subnet prefixes (v4 and v6 in one trie) -> subnet id (size set at load) */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1);
	__type(key, struct nacct_subnet_key);
	__type(value, struct nacct_subnet_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nacct_subnets SEC(".maps");

/* per-subnet counters by subnet id; id 0 = no subnet matched (set at load) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nacct_subnet_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nacct_subnet_stats SEC(".maps");

/* non-IP frames by ethertype (0: 802.3 length field / LLC; 0xffff: table full) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, NACCT_MAX_ETHERTYPES);
	__type(key, __u32);
	__type(value, struct nacct_ethertype_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nacct_ethertypes SEC(".maps");

/*
 * First fragment -> ports, so that later fragments (which carry no L4
 * header) land in the flow of their datagram.  LRU: an evicted entry only
 * costs port recovery (counted in frag_noports), never a count.
 */
struct nacct_frag_key {
	__u8 src[16];
	__u8 dst[16];
	__be32 id;
	__u8 proto;
	__u8 pad[3];
	__u64 tunnel; /* inner fragments: their tunnel's handle */
};

struct nacct_frag_val {
	__be16 sport;
	__be16 dport;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NACCT_FRAG_TRACK);
	__type(key, struct nacct_frag_key);
	__type(value, struct nacct_frag_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nacct_frags SEC(".maps");

/*
 * Tunnels seen (struct nacct_tun_key -> struct nacct_tun_val): the
 * handle a tunnel's inner flows carry in their key.  Shared, filled by
 * the data path at a tunnel's first packet; read-only after that (no
 * counters here: a tunnel's packets and bytes are its flows' sums, and a
 * per-packet write to one entry would bounce its cache line between
 * CPUs).  Not preallocated: most interfaces see no tunnel at all.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NACCT_MAX_TUNNELS);
	__type(key, struct nacct_tun_key);
	__type(value, struct nacct_tun_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nacct_tunnels SEC(".maps");

/*
 * Each CPU's last tunnel and its handle: a tunnel's packets come in runs
 * (one VTEP pair carries many inner flows), and comparing five words
 * costs a few ns where the hash lookup of a 40-byte key costs ~35.  Valid
 * as long as nacct_tunnels only grows (entries go with the attachment);
 * whatever deletes tunnel entries must clear these first.  Not pinned: a
 * new load starts with empty caches.
 */
struct nacct_tun_cache {
	struct nacct_tun_key key;
	__u64 handle; /* 0: empty */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nacct_tun_cache);
} nacct_tun_cache SEC(".maps");

/* each CPU's last tunnel handle: a new tunnel's handle is
 * (++seq[cpu]) << 16 | cpu, unique without an atomic */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nacct_tun_seq SEC(".maps");

/* run-time knobs (sampling, tap); one element, written by user space */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nacct_cfg);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nacct_cfg SEC(".maps");

/* attachment state for `status` and `detach`; written by user space only */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nacct_meta);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nacct_meta SEC(".maps");

/* sampled packets to user space (nacct capture); size set at load */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nacct_samples SEC(".maps");

/* scratch for building a sample before bpf_ringbuf_output() */
struct nacct_sample_buf {
	struct nacct_sample_hdr hdr;
	__u8 data[NACCT_SNAPLEN_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nacct_sample_buf);
} nacct_sample_scratch SEC(".maps");

#endif /* NACCT_MAPS_BPF_H */
