// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nacct side programs: the kernel's own TCP and drop events, joined onto
 * the flow records the packets built: the same canonical key (vlan = 0),
 * built by the data path's own key builder (maps/key.h) from a socket's
 * endpoints or, for a dropped skb, from the data path's own parser
 * (maps/parse_skb.bpf.h).
 *
 * Tracepoints first (tp_btf: typed arguments, no trace record to build):
 *   skb:kfree_skb            drops with their reason, every protocol
 *   tcp:tcp_retransmit_skb   retransmitted segments
 *   sock:inet_sock_set_state states, lifespans, connect/accept latency, listen
 *   tcp:tcp_probe            smoothed RTT
 *   tcp:tcp_receive_reset / tcp:tcp_send_reset
 *   syscalls:sys_exit_accept4 / sys_exit_accept  who accepted (classic
 *                            tracepoints: syscalls have no tp_btf of their own)
 * Every TCP program has a kprobe twin ("?kprobe/...": not loaded by
 * default); the loader (lib/probes.c) switches to it when the running
 * kernel's BTF has no such tracepoint, or for every event with
 * --probes kprobe.  kfree_skb has been a tracepoint
 * for as long as BPF has existed and has no twin.
 *
 * Nothing here is per packet to user space: records are aggregated in
 * maps; side events go only to the ring buffers of running readers
 * (`nacct events`, one ring and one mask per reader slot).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "nacct.h"
#include "key.h"
#include "parse_skb.bpf.h"
#include "sock.bpf.h"
#include "choice.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * 1: no program sees accept() return on this kernel (no syscall tracepoints,
 * no kprobes): the accept line is sent at the handshake, without its owner.
 * Set by the loader (lib/probes.c) before load.
 */
const volatile __u8 accept_at_handshake = 0;

/* ---- maps: pinned by name under NACCT_PIN_ROOT/:probes ----------------- */

/* flow side records: canonical key (vlan 0) + netns -> struct nacct_tcp_val */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NACCT_TCP_MAX);
	__type(key, struct nacct_side_key);
	__type(value, struct nacct_tcp_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nacct_tcp SEC(".maps");

/* per-flow drops by reason, per netns */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NACCT_TCP_MAX);
	__type(key, struct nacct_side_drop_key);
	__type(value, struct nacct_side_drop_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nacct_tcp_drops SEC(".maps");

/* all drops by reason (also those that belong to no flow) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NACCT_DROP_REASONS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nacct_drop_reasons SEC(".maps");

/*
 * Live sockets: kernel socket address -> birth, owner, last state change.
 * The address is a key only; it never leaves the kernel.
 */
struct nacct_sock_val {
	__u64 birth_ns;
	__u64 last_ns;    /* last state change */
	__u64 connect_ns; /* SYN_SENT entered */
	__u64 accept_lat_ns; /* SYN_RECV -> ESTABLISHED, for the accept line at accept() */
	__u32 pid;
	__be16 lport; /* the local port while bound: CLOSE comes after it is given back */
	__u16 pad;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NACCT_SOCK_MAX);
	__type(key, __u64);
	__type(value, struct nacct_sock_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nacct_socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nacct_probe_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nacct_probe_stats SEC(".maps");

/* the layout of this set (written by the loader): a stale set is replaced */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nacct_probe_meta);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nacct_probe_meta SEC(".maps");

/* which program watches each event, and why (written by the loader, read
 * by `nacct status`; the programs never look at it) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nacct_probe_choice);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nacct_probe_choice SEC(".maps");

/* reader slots: what each running `nacct events` wants (mask 0: free) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NACCT_EV_READERS);
	__type(key, __u32);
	__type(value, struct nacct_ev_reader);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nacct_ev_readers SEC(".maps");

/* one ring buffer per reader slot, created and inserted by the reader */
struct nacct_ev_ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, NACCT_EV_RING_SIZE);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, NACCT_EV_READERS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct nacct_ev_ring);
} nacct_ev_rings SEC(".maps");

/* NOT_SPECIFIED call sites that free a processed packet (see count_drop) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NACCT_CONSUMED_SITES);
	__type(key, __u32);
	__type(value, struct nacct_site_range);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nacct_drop_consumed SEC(".maps");

/* drops per (reason, call site): where the kernel let go of them */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct nacct_site_key);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nacct_drop_sites SEC(".maps");

/* ---- helpers -------------------------------------------------------------- */

static __always_inline struct nacct_probe_stats *pstats(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&nacct_probe_stats, &zero);
}

/*
 * Does any reader slot want this kind of event?  Each reader has its own
 * mask and ring, so readers never switch each other's events off or take
 * each other's events (array lookups are inlined: a few ns per event with
 * no reader).  Bounded loops, not unrolled: the key is passed by address.
 * The answer is 0/1 and ev_send() looks at the masks again: a bit per
 * slot carried along would multiply the verifier's paths by 2^slots.
 */
static __always_inline int ev_wanted(__u32 bit)
{
	__u32 i;

	for (i = 0; i < NACCT_EV_READERS; i++) {
		/* the key is a copy: were the counter's own address taken, it
		 * would live on the stack, where the 6.1 and 6.12 verifiers lose
		 * its value and report an infinite loop */
		__u32 key = i;
		struct nacct_ev_reader *r = bpf_map_lookup_elem(&nacct_ev_readers, &key);

		if (r && (r->mask & bit))
			return 1;
	}
	return 0;
}

/* a zeroed event on the caller's stack if any reader wants it, else NULL */
static __always_inline struct nacct_probe_event *ev_init(struct nacct_probe_event *e, __u16 type,
							  __u32 *bit)
{
	*bit = 1u << (type & 31);
	if (!ev_wanted(*bit))
		return NULL;
	__builtin_memset(e, 0, sizeof(*e));
	e->type = type;
	e->ts = bpf_ktime_get_ns();
	return e;
}

/* copy the event into the ring of every reader that wants it */
static __always_inline void ev_send(struct nacct_probe_event *e, __u32 bit)
{
	struct nacct_probe_stats *st = pstats();
	__u32 i;

	/* checked here, once: clang hoists &st->field above a later check,
	 * which the 6.1 and 6.12 verifiers refuse on a maybe-NULL pointer
	 * (the one-element array always has it) */
	if (!st)
		return;
	/* a dropped packet was mostly on its way in: its destination is local */
	__be16 lport = e->type == NACCT_EV_DROP ? e->dport : e->sport;
	__be16 rport = e->type == NACCT_EV_DROP ? e->sport : e->dport;

	for (i = 0; i < NACCT_EV_READERS; i++) {
		/* the key is a copy: were the counter's own address taken, it
		 * would live on the stack, where the 6.1 and 6.12 verifiers lose
		 * its value and report an infinite loop */
		__u32 key = i;
		struct nacct_ev_reader *r = bpf_map_lookup_elem(&nacct_ev_readers, &key);
		void *rb;

		if (!r || !(r->mask & bit))
			continue;
		/* the reader's filters here, so that other traffic cannot fill its ring */
		if ((r->netns && r->netns != e->netns) ||
		    (r->ifindex && e->ifindex && r->ifindex != e->ifindex) ||
		    (r->fpid && r->fpid != e->pid) || (r->lport && r->lport != lport) ||
		    (r->rport && r->rport != rport))
			continue;
		rb = bpf_map_lookup_elem(&nacct_ev_rings, &key);
		if (!rb)
			continue;
		if (bpf_ringbuf_output(rb, e, sizeof(*e), 0)) {
			__sync_fetch_and_add(&r->lost, 1);
			st->events_lost++;
		} else {
			st->events++;
		}
	}
}

/* a socket's endpoints as the data path would see them */
struct sk_ends {
	__u8 laddr[16];
	__u8 raddr[16];
	__be16 lport;
	__be16 rport;
	__u8 family;
	__u8 proto;
	__u16 pad;
};

static __always_inline int sk_read_ends(const struct sock *sk, struct sk_ends *e)
{
	__u16 fam = BPF_CORE_READ(sk, __sk_common.skc_family);

	__builtin_memset(e, 0, sizeof(*e));
	e->proto = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
	e->lport = bpf_htons(BPF_CORE_READ(sk, __sk_common.skc_num));
	/* at CLOSE the port is already given back (skc_num = 0); inet_sport stays */
	if (!e->lport)
		e->lport = BPF_CORE_READ((const struct inet_sock *)sk, inet_sport);
	e->rport = BPF_CORE_READ(sk, __sk_common.skc_dport);
	if (fam == AF_INET) {
		nacct_v4_mapped(e->laddr, BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr));
		nacct_v4_mapped(e->raddr, BPF_CORE_READ(sk, __sk_common.skc_daddr));
		e->family = NACCT_AF_INET;
		return 0;
	}
	if (fam != AF_INET6)
		return -1;
	BPF_CORE_READ_INTO(&e->laddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
	BPF_CORE_READ_INTO(&e->raddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	/* a dual-stack socket talking IPv4: the packets are IPv4 */
	e->family = nacct_is_v4_mapped(e->raddr) ? NACCT_AF_INET : NACCT_AF_INET6;
	return 0;
}

static __always_inline __u32 sk_netns(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

static __always_inline __u32 sk_ifindex(const struct sock *sk)
{
	__u32 ifi = BPF_CORE_READ(sk, __sk_common.skc_bound_dev_if);

	if (ifi)
		return ifi;
	if (bpf_core_field_exists(sk->sk_rx_dst_ifindex)) {
		ifi = BPF_CORE_READ(sk, sk_rx_dst_ifindex);
		if (ifi)
			return ifi;
	}
	return BPF_CORE_READ(sk, sk_dst_cache, dev, ifindex);
}

static __always_inline void ev_fill_sk(struct nacct_probe_event *e, const struct sock *sk,
				       const struct sk_ends *s)
{
	__builtin_memcpy(e->saddr, s->laddr, 16);
	__builtin_memcpy(e->daddr, s->raddr, 16);
	e->sport = s->lport;
	e->dport = s->rport;
	e->family = s->family;
	e->proto = s->proto;
	e->netns = sk_netns(sk);
	e->ifindex = sk_ifindex(sk);
}

/* the flow side record of a socket in its netns (created on first use) */
static __always_inline struct nacct_tcp_val *tcp_rec(const struct sock *sk, const struct sk_ends *s,
						     int *side, struct nacct_side_key *k)
{
	struct nacct_tcp_val *v, nv;
	struct nacct_probe_stats *st;
	long err;

	*side = nacct_key_make(&k->flow, s->laddr, s->lport, s->raddr, s->rport, s->proto,
			       s->family, 0);
	k->netns = sk_netns(sk);
	k->pad = 0;
	v = bpf_map_lookup_elem(&nacct_tcp, k);
	if (v)
		return v;
	__builtin_memset(&nv, 0, sizeof(nv));
	/* readers ignore records created before their attachment */
	nv.first_ns = bpf_ktime_get_ns();
	err = bpf_map_update_elem(&nacct_tcp, k, &nv, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST: another CPU was first */) {
		st = pstats();
		if (st)
			st->map_errors++;
		return NULL;
	}
	return bpf_map_lookup_elem(&nacct_tcp, k);
}

static __always_inline __u32 tcp_srtt_us(const struct sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;

	return BPF_CORE_READ(tp, srtt_us) >> 3;
}

/* ---- drops: skb:kfree_skb ----------------------------------------------- */

/*
 * The flow key of a dropped packet, vlan 0: the data path's parser and key
 * builder (maps/parse_skb.bpf.h), entered at the network header.  -1 when
 * the packet has none (not IP, malformed, headers outside the linear
 * area); the drop then counts in drops_noflow.  The event gets the
 * packet's own direction: source as saddr.
 */
static __always_inline int skb_flow_key(const struct sk_buff *skb, struct nacct_flow_key *k,
					struct nacct_probe_event *e)
{
	struct nacct_pkt pkt;

	__builtin_memset(&pkt, 0, sizeof(pkt));
	if (nacct_parse_skb(skb, &pkt) != NACCT_P_IP)
		return -1;
	nacct_key_make(k, pkt.src, pkt.sport, pkt.dst, pkt.dport, pkt.proto, pkt.family, 0);
	if (e) {
		__builtin_memcpy(e->saddr, pkt.src, 16);
		__builtin_memcpy(e->daddr, pkt.dst, 16);
		e->sport = pkt.sport;
		e->dport = pkt.dport;
		e->family = pkt.family;
		e->proto = pkt.proto;
	}
	return 0;
}

/*
 * Which frees are drops.  skb:kfree_skb fires for every kfree_skb(): the
 * kernel names each real drop with a reason (SKB_DROP_REASON_*), while
 * NOT_SPECIFIED is what a plain kfree_skb() passes - often a real drop in
 * code not converted yet, but also a packet the kernel fully processed
 * and then freed with kfree_skb() instead of consume_skb().  Measured on
 * 6.18 (a 1 MB transfer over veth, bpftrace and the location field): all
 * phantom drops on healthy TCP came from tcp_rcv_state_process(), which
 * ends with tcp_drop_reason(sk, skb, NOT_SPECIFIED) for every segment it
 * processed but did not queue - the pure ACKs a socket in SYN_RECV,
 * FIN_WAIT1/2, CLOSING or LAST_ACK receives - while each of its real
 * drops sets a TCP_* reason first.  veth's native XDP path frees the
 * original skb with consume_skb() (SKB_CONSUMED) here.
 *
 * The second kind of free that is no drop: the members of an skb being
 * freed.  skb_release_data() frees a GRO packet's frag_list (the segments
 * chained behind its head once its frags were full) one kfree_skb() each,
 * after the packet's own free, which is the one to count: a drop, or a
 * consume.  Before 6.2 those member frees have no reason (5.10 guest: a
 * clean transfer's GRO packet, consumed by the reader, showed one "drop"
 * at skb_release_data now and then); since, they take the packet's.
 * Counted apart they would also make one dropped packet several (nft and
 * the device counters count it once).
 *
 * The rule: SKB_CONSUMED is never a drop; a free whose call site lies in a
 * function of nacct_drop_consumed (user space fills the ranges from
 * /proc/kallsyms at attach) is none if the function's kind is
 * NACCT_SITE_MEMBERS (skb_release_data), or if it is NACCT_SITE_PROCESSED
 * (tcp_rcv_state_process) and the free is NOT_SPECIFIED; those are counted
 * in frees_consumed instead.  Every other free is a drop, with its call
 * site counted in nacct_drop_sites.
 */
static __always_inline __u32 consumed_site(__u64 location)
{
	__u32 i;

	for (i = 0; i < NACCT_CONSUMED_SITES; i++) {
		/* the key is a copy: were the counter's own address taken, it
		 * would live on the stack, where the 6.1 and 6.12 verifiers lose
		 * its value and report an infinite loop */
		__u32 key = i;
		struct nacct_site_range *r = bpf_map_lookup_elem(&nacct_drop_consumed, &key);

		if (r && location >= r->start && location < r->end)
			return r->kind;
	}
	return 0;
}

static __always_inline void count_drop(const struct sk_buff *skb, __u64 location, __u32 reason)
{
	struct nacct_probe_stats *st = pstats();
	struct nacct_probe_event ev, *e;
	struct nacct_side_drop_val *dv, nd;
	struct nacct_side_drop_key dk;
	struct nacct_site_key sk;
	struct nacct_side_key k;
	struct nacct_tcp_val *v;
	struct net_device *dev;
	__u64 *cnt, one = 1;
	__u32 slot, readers, netns = 0, ifindex = 0, site;

	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_CONSUMED) &&
	    reason == bpf_core_enum_value(enum skb_drop_reason, SKB_CONSUMED))
		return;
	site = consumed_site(location);
	/* before 5.17 no free has a reason: each is what NOT_SPECIFIED is now */
	if (site == NACCT_SITE_MEMBERS ||
	    (site == NACCT_SITE_PROCESSED &&
	     (!bpf_core_type_exists(enum skb_drop_reason) ||
	      (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED) &&
	       reason == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED))))) {
		if (st)
			st->frees_consumed++;
		return;
	}
	if (st)
		st->drops++;
	slot = reason < NACCT_DROP_REASONS ? reason : NACCT_DROP_REASONS - 1;
	cnt = bpf_map_lookup_elem(&nacct_drop_reasons, &slot);
	if (cnt)
		*cnt += 1;
	__builtin_memset(&sk, 0, sizeof(sk));
	sk.location = location;
	sk.reason = reason;
	cnt = bpf_map_lookup_elem(&nacct_drop_sites, &sk);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	else
		bpf_map_update_elem(&nacct_drop_sites, &sk, &one, BPF_NOEXIST);

	e = ev_init(&ev, NACCT_EV_DROP, &readers);
	__builtin_memset(&k, 0, sizeof(k));
	if (skb_flow_key(skb, &k.flow, e)) {
		if (st)
			st->drops_noflow++;
		return;
	}
	/* the namespace the packet was dropped in: its device's, else its socket's */
	dev = BPF_CORE_READ(skb, dev);
	if (dev) {
		ifindex = BPF_CORE_READ(dev, ifindex);
		netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
	} else {
		const struct sock *ssk = BPF_CORE_READ(skb, sk);

		if (ssk)
			netns = sk_netns(ssk);
	}
	k.netns = netns;
	/*
	 * Only sockets create nacct_tcp records; drops of any flow go to the
	 * by-reason map, whose churn (floods to closed ports) then cannot
	 * evict the records of live connections.
	 */
	v = bpf_map_lookup_elem(&nacct_tcp, &k);
	if (v) {
		__sync_fetch_and_add(&v->drops, 1);
		v->last_reason = reason;
	}
	__builtin_memset(&dk, 0, sizeof(dk));
	dk.flow = k.flow;
	dk.netns = netns;
	dk.reason = reason;
	dv = bpf_map_lookup_elem(&nacct_tcp_drops, &dk);
	if (dv) {
		__sync_fetch_and_add(&dv->count, 1);
	} else {
		nd.count = 1;
		nd.first_ns = bpf_ktime_get_ns();
		if (bpf_map_update_elem(&nacct_tcp_drops, &dk, &nd, BPF_NOEXIST)) {
			dv = bpf_map_lookup_elem(&nacct_tcp_drops, &dk);
			if (dv)
				__sync_fetch_and_add(&dv->count, 1);
		}
	}
	if (!e)
		return;
	e->reason = reason;
	e->location = location;
	e->ifindex = ifindex;
	e->netns = netns;
	ev_send(e, readers);
}

/*
 * The reason argument exists since 5.17 (with enum skb_drop_reason): read
 * only where the type exists, so that the verifier of an older kernel,
 * whose tracepoint has two arguments, never sees the access (the branch
 * is dead there).  Without it every drop has reason 0, which user space
 * names "none" (lib/names.c).
 */
SEC("tp_btf/kfree_skb")
int BPF_PROG(nacct_drop, struct sk_buff *skb, void *location)
{
	__u32 reason = 0;

	if (bpf_core_type_exists(enum skb_drop_reason))
		reason = (__u32)ctx[2];
	count_drop(skb, (__u64)(unsigned long)location, reason);
	return 0;
}

/* ---- retransmits: tcp:tcp_retransmit_skb -------------------------------- */

/* @segs segments of @sk retransmitted: TcpRetransSegs counts segments */
static __always_inline void count_retrans(const struct sock *sk, __u32 segs)
{
	struct nacct_probe_stats *st = pstats();
	struct nacct_probe_event ev, *e;
	struct nacct_side_key k;
	struct nacct_tcp_val *v;
	struct sk_ends s;
	__u32 readers;
	int side;

	if (!sk || !segs || sk_read_ends(sk, &s))
		return;
	if (st)
		st->retrans += segs;
	v = tcp_rec(sk, &s, &side, &k);
	if (v) {
		__sync_fetch_and_add(&v->retrans[side & 1], segs);
		v->srtt_us[side & 1] = tcp_srtt_us(sk);
	}
	e = ev_init(&ev, NACCT_EV_RETRANS, &readers);
	if (!e)
		return;
	ev_fill_sk(e, sk, &s);
	e->newstate = BPF_CORE_READ(sk, __sk_common.skc_state);
	e->rx_bytes = segs;
	e->srtt_us = tcp_srtt_us(sk);
	ev_send(e, readers);
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(nacct_retrans, const struct sock *sk, const struct sk_buff *skb)
{
	struct tcp_skb_cb *cb;
	__u32 segs;

	/*
	 * Newer kernels (with an err argument) fire for failed attempts too;
	 * those were never sent and are not in TcpRetransSegs.
	 */
	if (bpf_core_field_exists(struct trace_event_raw_tcp_retransmit_skb, err)) {
		int err = (int)ctx[2];

		if (err)
			return 0;
	}
	/* a TSO skb stands for several segments */
	cb = (struct tcp_skb_cb *)((const char *)skb + bpf_core_field_offset(skb->cb));
	segs = BPF_CORE_READ(cb, tcp_gso_segs);
	count_retrans(sk, segs ? segs : 1);
	return 0;
}

/* ---- states, lifespans, latencies: sock:inet_sock_set_state -------------- */

static __always_inline void own(struct nacct_sock_val *sv)
{
	sv->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(sv->comm, sizeof(sv->comm));
}

static __always_inline void state_change(const struct sock *sk, int oldstate, int newstate)
{
	struct nacct_probe_stats *st = pstats();
	struct nacct_sock_val *sv, nsv;
	struct nacct_probe_event ev, *e;
	struct nacct_side_key k;
	struct nacct_tcp_val *v;
	__u64 now = bpf_ktime_get_ns(), skey = (__u64)(unsigned long)sk, in_old = 0, lat = 0;
	__u16 evt = 0;
	struct sk_ends s;
	__u32 readers;
	int side;

	if (!sk || sk_read_ends(sk, &s) || s.proto != NACCT_IPPROTO_TCP)
		return;
	if (st)
		st->state_changes++;

	sv = bpf_map_lookup_elem(&nacct_socks, &skey);
	if (!sv && newstate != NACCT_TCP_CLOSE) {
		__builtin_memset(&nsv, 0, sizeof(nsv));
		nsv.birth_ns = now;
		nsv.last_ns = now;
		bpf_map_update_elem(&nacct_socks, &skey, &nsv, BPF_ANY);
		sv = bpf_map_lookup_elem(&nacct_socks, &skey);
	}
	if (sv) {
		if (s.lport)
			sv->lport = s.lport;
		else
			s.lport = sv->lport;
		in_old = now - sv->last_ns;
		sv->last_ns = now;
		/*
		 * The owner is only certain where the change runs in the
		 * owner's own system call: connect(), listen(), close() or
		 * shutdown().  Elsewhere (softirq) "current" is whoever was
		 * interrupted.
		 */
		if (newstate == NACCT_TCP_SYN_SENT || newstate == NACCT_TCP_LISTEN ||
		    (!sv->pid && (newstate == NACCT_TCP_FIN_WAIT1 || newstate == NACCT_TCP_LAST_ACK)))
			own(sv);
		if (newstate == NACCT_TCP_SYN_SENT)
			sv->connect_ns = now;
		if (newstate == NACCT_TCP_ESTABLISHED && oldstate == NACCT_TCP_SYN_SENT &&
		    sv->connect_ns) {
			lat = now - sv->connect_ns;
			evt = NACCT_EV_CONNECT;
		} else if (newstate == NACCT_TCP_ESTABLISHED && oldstate == NACCT_TCP_SYN_RECV) {
			/* softirq: the owner is not known until accept() returns
			 * (accepted()), which sends the line with this latency */
			lat = now - sv->birth_ns;
			sv->accept_lat_ns = lat;
			if (accept_at_handshake)
				evt = NACCT_EV_ACCEPT;
		}
	}

	/* the flow record: listeners and unconnected sockets have no flow */
	if (s.rport && s.lport && oldstate != NACCT_TCP_LISTEN) {
		v = tcp_rec(sk, &s, &side, &k);
		if (v) {
			side &= 1;
			/* a new session on a key whose last one ended */
			if (!v->first_ns || (v->end_ns && (oldstate == NACCT_TCP_SYN_SENT ||
							    newstate == NACCT_TCP_SYN_RECV))) {
				v->first_ns = sv ? sv->birth_ns : now;
				v->end_ns = 0;
			}
			v->state[side] = newstate;
			if (newstate == NACCT_TCP_CLOSE)
				v->end_ns = now;
			if (evt == NACCT_EV_CONNECT)
				v->connect_ns[side] = lat;
			if (sv && sv->pid) {
				v->pid[side] = sv->pid;
				__builtin_memcpy(v->comm[side], sv->comm, 16);
			}
			v->srtt_us[side] = tcp_srtt_us(sk);
		}
	}

	e = ev_init(&ev, NACCT_EV_STATE, &readers);
	if (e) {
		ev_fill_sk(e, sk, &s);
		e->oldstate = oldstate;
		e->newstate = newstate;
		e->dur_ns = in_old;
		if (sv) {
			e->pid = sv->pid;
			__builtin_memcpy(e->comm, sv->comm, 16);
		}
		ev_send(e, readers);
	}
	if (newstate == NACCT_TCP_LISTEN)
		evt = NACCT_EV_LISTEN;
	if (evt && (e = ev_init(&ev, evt, &readers))) {
		ev_fill_sk(e, sk, &s);
		e->oldstate = oldstate;
		e->newstate = newstate;
		e->dur_ns = lat;
		/* __inet_listen_sk() (inet_listen() in older kernels) stores
		 * the backlog before inet_csk_listen_start() sets LISTEN (so
		 * in 5.10 and since); __sys_listen() capped it at somaxconn */
		if (evt == NACCT_EV_LISTEN)
			e->backlog = BPF_CORE_READ(sk, sk_max_ack_backlog);
		if (sv) {
			e->pid = sv->pid;
			__builtin_memcpy(e->comm, sv->comm, 16);
		}
		ev_send(e, readers);
	}

	if (newstate != NACCT_TCP_CLOSE)
		return;
	/* the lifespan (tcplife): a socket that had a peer */
	if (sv && s.rport && oldstate != NACCT_TCP_LISTEN &&
	    (e = ev_init(&ev, NACCT_EV_LIFE, &readers))) {
		const struct tcp_sock *tp = (const struct tcp_sock *)sk;

		ev_fill_sk(e, sk, &s);
		e->oldstate = oldstate;
		e->newstate = newstate;
		e->dur_ns = now - sv->birth_ns;
		e->rx_bytes = BPF_CORE_READ(tp, bytes_received);
		e->tx_bytes = BPF_CORE_READ(tp, bytes_acked);
		e->rx_segs = BPF_CORE_READ(tp, segs_in);
		e->tx_segs = BPF_CORE_READ(tp, segs_out);
		e->srtt_us = tcp_srtt_us(sk);
		e->pid = sv->pid;
		__builtin_memcpy(e->comm, sv->comm, 16);
		ev_send(e, readers);
	}
	bpf_map_delete_elem(&nacct_socks, &skey);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(nacct_state, const struct sock *sk, int oldstate, int newstate)
{
	state_change(sk, oldstate, newstate);
	return 0;
}

/* ---- who accepted: syscalls:sys_exit_accept4 / sys_exit_accept --------- */

/*
 * The socket behind a file descriptor of the current task:
 * current->files->fdt->fd[fd]->private_data.  A socket's file and its
 * struct socket point at each other, and so do the socket and its sock:
 * anything else (not a socket, or the fd reused by another thread since
 * the syscall returned) is refused.  All of these fields are in every
 * kernel since 5.10.
 */
static __always_inline const struct sock *fd_sock(long fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *file = NULL;
	struct socket *sock;
	struct sock *sk;

	if (fd < 0 || !fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (!fds || bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	if (!sock || BPF_CORE_READ(sock, file) != file)
		return NULL;
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ(sk, sk_socket) != sock)
		return NULL;
	return sk;
}

/*
 * accept() returned @sk to the current process (tcpaccept's moment): it
 * becomes the socket's owner, on its live-socket record and on the flow's
 * side record, and the accept line is sent now, carrying the handshake
 * latency the state change measured.
 */
static __always_inline void accepted(const struct sock *sk)
{
	struct nacct_probe_event ev, *e;
	struct nacct_sock_val *sv;
	struct nacct_side_key k;
	struct nacct_tcp_val *v;
	struct sk_ends s;
	__u64 skey = (__u64)(unsigned long)sk;
	__u32 readers, pid;
	char comm[16];
	int side;

	if (!sk || sk_read_ends(sk, &s) || s.proto != NACCT_IPPROTO_TCP)
		return;
	pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(comm, sizeof(comm));
	sv = bpf_map_lookup_elem(&nacct_socks, &skey);
	if (sv) {
		sv->pid = pid;
		__builtin_memcpy(sv->comm, comm, 16);
	}
	/* only a record the state changes made: a socket accepted from a
	 * queue filled before the programs came has none */
	if (s.rport && s.lport) {
		side = nacct_key_make(&k.flow, s.laddr, s.lport, s.raddr, s.rport, s.proto,
				      s.family, 0) & 1;
		k.netns = sk_netns(sk);
		k.pad = 0;
		v = bpf_map_lookup_elem(&nacct_tcp, &k);
		if (v) {
			v->pid[side] = pid;
			__builtin_memcpy(v->comm[side], comm, 16);
		}
	}
	if (accept_at_handshake)
		return;
	e = ev_init(&ev, NACCT_EV_ACCEPT, &readers);
	if (!e)
		return;
	ev_fill_sk(e, sk, &s);
	e->oldstate = NACCT_TCP_SYN_RECV;
	e->newstate = BPF_CORE_READ(sk, __sk_common.skc_state);
	e->dur_ns = sv ? sv->accept_lat_ns : 0;
	e->pid = pid;
	__builtin_memcpy(e->comm, comm, 16);
	ev_send(e, readers);
}

/* the syscall exit records (struct syscall_trace_exit): nr, then ret */
SEC("tracepoint/syscalls/sys_exit_accept4")
int nacct_accept4(struct trace_event_raw_sys_exit *ctx)
{
	if (ctx->ret >= 0)
		accepted(fd_sock(ctx->ret));
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept")
int nacct_accept(struct trace_event_raw_sys_exit *ctx)
{
	if (ctx->ret >= 0)
		accepted(fd_sock(ctx->ret));
	return 0;
}

/* ---- smoothed RTT: tcp:tcp_probe ------------------------------------------ */

static __always_inline void rtt_update(const struct sock *sk)
{
	struct nacct_probe_stats *st;
	struct nacct_side_key k;
	struct nacct_tcp_val *v;
	struct sk_ends s;
	__u32 srtt;
	int side;

	if (!sk || sk_read_ends(sk, &s))
		return;
	side = nacct_key_make(&k.flow, s.laddr, s.lport, s.raddr, s.rport, s.proto, s.family, 0) & 1;
	k.netns = sk_netns(sk);
	k.pad = 0;
	/* only flows that already have a record (state changes create it) */
	v = bpf_map_lookup_elem(&nacct_tcp, &k);
	if (!v)
		return;
	srtt = tcp_srtt_us(sk);
	if (v->srtt_us[side] != srtt) {
		v->srtt_us[side] = srtt;
		st = pstats();
		if (st)
			st->rtt_updates++;
	}
}

SEC("tp_btf/tcp_probe")
int BPF_PROG(nacct_rtt, struct sock *sk, const struct sk_buff *skb)
{
	rtt_update(sk);
	return 0;
}

/* ---- resets --------------------------------------------------------------- */

static __always_inline void reset_event(const struct sock *sk, __u16 type, __u32 reason)
{
	struct nacct_probe_stats *st = pstats();
	struct nacct_probe_event ev, *e;
	struct sk_ends s;
	__u32 readers;

	if (st) {
		if (type == NACCT_EV_RST_RX)
			st->resets_rx++;
		else
			st->resets_tx++;
	}
	if (!sk || sk_read_ends(sk, &s))
		return;
	e = ev_init(&ev, type, &readers);
	if (!e)
		return;
	ev_fill_sk(e, sk, &s);
	e->newstate = BPF_CORE_READ(sk, __sk_common.skc_state);
	e->reason = reason;
	ev_send(e, readers);
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(nacct_rst_rx, struct sock *sk)
{
	reset_event(sk, NACCT_EV_RST_RX, 0);
	return 0;
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(nacct_rst_tx, const struct sock *sk, const struct sk_buff *skb)
{
	__u32 reason = 0;

	/* the reason argument exists since 6.10 */
	if (bpf_core_type_exists(enum sk_rst_reason))
		reason = (__u32)ctx[2];
	reset_event(sk, NACCT_EV_RST_TX, reason);
	return 0;
}

/* ---- kprobe fallbacks: loaded only where the tracepoint is missing ------- */

/*
 * The retransmit twin counts what TcpRetransSegs counts: the growth of
 * the socket's tcp_sock.total_retrans, which __tcp_retransmit_skb() (the
 * tracepoint's function) raises by the segments it hands to the transmit,
 * beside the counter.  That function is no hook (on Debian's 6.1 a kprobe
 * on its symbol never ran: its calls inlined, or a clone's), so the twin
 * watches both of its callers: tcp_retransmit_skb() (the retransmit
 * queue, the RTO) and tcp_send_loss_probe() (the tail loss probe).  An
 * attempt that fails before the transmit (-EBUSY: the original still in a
 * host queue, as under load; -ENOMEM, -EAGAIN) raises nothing (6.1 guest:
 * counting every entry of tcp_retransmit_skb gave 38 against its 36; not
 * seeing the probe, 0 against 1).
 * The entry keeps (sk, total_retrans) on the thread's stack of calls, the
 * return takes them back and counts the difference.  A stack: a softirq
 * on the way out of the transmit can retransmit for another socket on the
 * same thread.  The thread: the interrupted one's id in a softirq; the
 * idle threads, which share id 0, are told apart by CPU (a softirq does
 * not migrate).  The caller holds the socket's lock across the call.
 */
#define NACCT_RTX_DEPTH 4
struct nacct_rtx_calls {
	__u32 depth;
	__u32 pad;
	__u64 sk[NACCT_RTX_DEPTH];
	__u32 total[NACCT_RTX_DEPTH];
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct nacct_rtx_calls);
} nacct_rtx_calls SEC(".maps");

/* slot @d of the stack, bounded where the verifier sees it (the compiler
 * drops a mask it can prove redundant) */
static __always_inline __u32 rtx_slot(__u32 d)
{
	asm volatile("" : "+r"(d));
	return d & (NACCT_RTX_DEPTH - 1);
}

static __always_inline __u64 rtx_thread(void)
{
	__u64 id = bpf_get_current_pid_tgid();

	return id ? id : 0xffffffff00000000ULL | bpf_get_smp_processor_id();
}

static __always_inline __u32 rtx_total(const struct sock *sk)
{
	return BPF_CORE_READ((const struct tcp_sock *)sk, total_retrans);
}

static __always_inline void rtx_enter(const struct sock *sk)
{
	__u64 id = rtx_thread();
	struct nacct_rtx_calls *c = bpf_map_lookup_elem(&nacct_rtx_calls, &id), none = {};
	__u32 d;

	if (!c) { /* the thread's first: an empty stack */
		bpf_map_update_elem(&nacct_rtx_calls, &id, &none, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&nacct_rtx_calls, &id);
		if (!c)
			return;
	}
	d = c->depth;
	/* full: calls whose return the kretprobe missed (its instances ran out) */
	if (d >= NACCT_RTX_DEPTH)
		d = 0;
	c->sk[rtx_slot(d)] = (__u64)(unsigned long)sk;
	c->total[rtx_slot(d)] = sk ? rtx_total(sk) : 0;
	c->depth = d + 1;
}

static __always_inline void rtx_return(void)
{
	__u64 id = rtx_thread();
	struct nacct_rtx_calls *c = bpf_map_lookup_elem(&nacct_rtx_calls, &id);
	const struct sock *sk;
	__u32 d;

	if (!c || !c->depth || c->depth > NACCT_RTX_DEPTH)
		return;
	d = c->depth - 1;
	c->depth = d;
	d = rtx_slot(d);
	sk = (const struct sock *)(unsigned long)c->sk[d];
	if (sk)
		count_retrans(sk, rtx_total(sk) - c->total[d]);
}

SEC("?kprobe/tcp_retransmit_skb")
int BPF_KPROBE(nacct_retrans_kp, struct sock *sk)
{
	rtx_enter(sk);
	return 0;
}

SEC("?kretprobe/tcp_retransmit_skb")
int BPF_KRETPROBE(nacct_retrans_ret_kp)
{
	rtx_return();
	return 0;
}

SEC("?kprobe/tcp_send_loss_probe")
int BPF_KPROBE(nacct_tlp_kp, struct sock *sk)
{
	rtx_enter(sk);
	return 0;
}

SEC("?kretprobe/tcp_send_loss_probe")
int BPF_KRETPROBE(nacct_tlp_ret_kp)
{
	rtx_return();
	return 0;
}

SEC("?kprobe/tcp_set_state")
int BPF_KPROBE(nacct_state_kp, struct sock *sk, int state)
{
	int old = BPF_CORE_READ(sk, __sk_common.skc_state);

	if (old != state)
		state_change(sk, old, state);
	return 0;
}

/*
 * The tracepoint also fires from inet_sk_set_state(), an inline that
 * tcp_set_state() never sees: a passive open's child entering SYN_RECV
 * (in inet_csk_clone_lock()) and a socket entering LISTEN (in
 * inet_csk_listen_start()).  These two twins (loaded with nacct_state_kp)
 * report them where the functions return, once the change is certain.
 */
SEC("?kretprobe/inet_csk_clone_lock")
int BPF_KRETPROBE(nacct_synrecv_kp, struct sock *newsk)
{
	if (newsk && BPF_CORE_READ(newsk, __sk_common.skc_state) == NACCT_TCP_SYN_RECV)
		state_change(newsk, NACCT_TCP_LISTEN, NACCT_TCP_SYN_RECV);
	return 0;
}

/* the socket of an inet_csk_listen_start() running on a thread, for its return */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u64);
} nacct_listen_sk SEC(".maps");

SEC("?kprobe/inet_csk_listen_start")
int BPF_KPROBE(nacct_listen_kp, struct sock *sk)
{
	__u64 id = bpf_get_current_pid_tgid(), p = (__u64)(unsigned long)sk;

	bpf_map_update_elem(&nacct_listen_sk, &id, &p, BPF_ANY);
	return 0;
}

SEC("?kretprobe/inet_csk_listen_start")
int BPF_KRETPROBE(nacct_listen_ret_kp, int ret)
{
	__u64 id = bpf_get_current_pid_tgid(), *p = bpf_map_lookup_elem(&nacct_listen_sk, &id);
	struct sock *sk;

	if (!p)
		return 0;
	sk = (struct sock *)(unsigned long)*p;
	bpf_map_delete_elem(&nacct_listen_sk, &id);
	if (!ret && BPF_CORE_READ(sk, __sk_common.skc_state) == NACCT_TCP_LISTEN)
		state_change(sk, NACCT_TCP_CLOSE, NACCT_TCP_LISTEN);
	return 0;
}

/* also sees io_uring's accepts, which pass no syscall tracepoint */
SEC("?kretprobe/inet_csk_accept")
int BPF_KRETPROBE(nacct_accept_kp, struct sock *newsk)
{
	accepted(newsk);
	return 0;
}

SEC("?kprobe/tcp_rcv_established")
int BPF_KPROBE(nacct_rtt_kp, struct sock *sk)
{
	rtt_update(sk);
	return 0;
}

SEC("?kprobe/tcp_reset")
int BPF_KPROBE(nacct_rst_rx_kp, struct sock *sk)
{
	reset_event(sk, NACCT_EV_RST_RX, 0);
	return 0;
}

SEC("?kprobe/tcp_v4_send_reset")
int BPF_KPROBE(nacct_rst_tx_kp, const struct sock *sk)
{
	reset_event(sk, NACCT_EV_RST_TX, 0);
	return 0;
}
