/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Accounting shared by the XDP and TC programs: turns a parsed packet into
 * exactly one increment of one bucket (a flow, the overflow bucket, the
 * malformed bucket or a non-IP ethertype), plus the interface totals and
 * one subnet counter.  Nothing here knows the context type.
 */
#ifndef NACCT_ACCOUNT_BPF_H
#define NACCT_ACCOUNT_BPF_H

#include "maps.bpf.h" /* first: the uapi types parse.h expects */
#include "parse.h"
#include "decap.h"
#include "key.h"

#ifndef E2BIG
#define E2BIG 7
#endif
#ifndef EEXIST
#define EEXIST 17
#endif
#ifndef ENOMEM
#define ENOMEM 12
#endif

/*
 * Load-time switches: const volatile globals in .rodata, set by the loader
 * through the skeleton before load (lib/attach.c), so the verifier prunes
 * the branch that is off and the JIT never emits it.  The defaults are
 * what is right whatever the attachment: a loader that does not know a
 * switch loses only speed.
 *
 * nacct_flow_layout: the flow table's value layout (enum
 *   nacct_flow_layout): a value per CPU and plain adds, or one shared
 *   value and atomic adds.  The loader sets the map's type to match
 *   (bpf_map__set_type: PERCPU_HASH or HASH).
 * nacct_subnet_lookup: 0 when no subnet is configured: a flow's subnet ids
 *   are 0 ("other") without two lookups in the empty LPM trie for every
 *   new flow (and, per-CPU layout, every CPU slot).  The "other" row is
 *   still counted per packet, in the kernel: its readers (subnets, top,
 *   serve) read it as it is.  Deriving it in user space as the IP packets
 *   (packets - malformed - non-IP, per direction) would save that counter
 *   too (~2 ns a packet): a change for those readers, not made here.
 */
const volatile __u32 nacct_flow_layout = NACCT_FLOW_PERCPU;
const volatile __u32 nacct_subnet_lookup = 1;
/*
 * nacct_coarse_clock: 0 where the kernel has no bpf_ktime_get_coarse_ns()
 *   (before 5.11): nacct_now_coarse() asks bpf_ktime_get_ns() instead, as
 *   rarely (once a jiffy).  The verifier never sees the call it prunes.
 */
const volatile __u32 nacct_coarse_clock = 1;
/*
 * nacct_nr_cpus: the possible CPUs (libbpf_num_possible_cpus()), set by
 *   the loader: a new tunnel's handle is its CPU's next sequence number
 *   times this, plus the CPU (unique, 32 bits: maps/nacct.h).
 */
const volatile __u32 nacct_nr_cpus = 1;

/*
 * @compat, a constant in each data-path program: 0 in the programs, 1 in
 * their compat twins (nacct_xdp_compat, nacct_tc_*_compat) for kernels
 * before 5.12, whose loader refuses two things the programs have:
 *  - BPF atomic OR (5.12 has every atomic; before it only add), refused
 *    anywhere in a program, on a pruned branch too ("BPF_STX uses reserved
 *    fields"): the twins have no shared flow layout, and the loader takes
 *    the per-CPU one with them;
 *  - pointer arguments of global functions ("Arg#3 type PTR ... is not
 *    supported yet"): the twins call the tunnel stage as a static function
 *    and have no multi-buffer copy (that needs 5.18 anyway).
 * The loader picks the twins where the atomic OR probe fails (lib/attach.h).
 */
#define NACCT_CURRENT 0
#define NACCT_COMPAT 1

/* subnet id of an address, 0 when no configured prefix covers it */
static __noinline __u32 nacct_subnet_of(const __u8 *addr, __u8 family)
{
	struct nacct_subnet_key k;
	struct nacct_subnet_val *v;

	__builtin_memset(&k, 0, sizeof(k));
	k.prefixlen = 8 + 128;
	k.family = family;
	if (family == NACCT_AF_INET)
		__builtin_memcpy(k.addr, addr + 12, 4);
	else
		__builtin_memcpy(k.addr, addr, 16);
	v = bpf_map_lookup_elem(&nacct_subnets, &k);
	return v ? v->id : 0;
}

/* both endpoints' subnet ids into a value (once per flow, or per flow and CPU) */
static __always_inline void nacct_subnets_fill(struct nacct_flow_val *v,
					       const struct nacct_flow_key *key)
{
	if (!nacct_subnet_lookup) {
		v->subnet_lo = 0;
		v->subnet_hi = 0;
		return;
	}
	v->subnet_lo = nacct_subnet_of(key->lo_addr, key->family);
	v->subnet_hi = nacct_subnet_of(key->hi_addr, key->family);
}

static __always_inline void nacct_subnet_add(__u32 id, __u32 dir, __u64 pkts, __u64 bytes)
{
	struct nacct_subnet_stats *s;

	/* no subnets: the id is 0, a constant the verifier sees */
	if (!nacct_subnet_lookup)
		id = 0;
	s = bpf_map_lookup_elem(&nacct_subnet_stats, &id);

	if (!s) {
		/* an id beyond the array cannot happen; fall back to "unmatched" */
		__u32 zero = 0;

		s = bpf_map_lookup_elem(&nacct_subnet_stats, &zero);
		if (!s)
			return;
	}
	s->packets[dir] += pkts;
	s->bytes[dir] += bytes;
}

/*
 * The coarse clock (CLOCK_MONOTONIC, jiffy resolution) for last_seen,
 * without a helper call per packet: bpf_jiffies64() is inlined by the
 * verifier into one load, and bpf_ktime_get_coarse_ns() is asked only
 * when the jiffy changed.  The cache is one .bss pair shared by the CPUs
 * (written once per jiffy, read by every packet): a racing CPU can at
 * worst leave it a jiffy behind, which the next jiffy repairs.  The
 * timekeeper moves the coarse clock just after jiffies: a jiffy whose
 * clock has not moved yet is not cached, so the next packet asks again.
 */
struct {
	__u64 jiffies;
	__u64 ns;
} nacct_clock; /* anonymous: the skeletons spell it out for user space */

static __always_inline __u64 nacct_now_coarse(void)
{
	__u64 j = bpf_jiffies64(), ns;

	if (j == nacct_clock.jiffies) {
		asm volatile("" ::: "memory");
		return nacct_clock.ns;
	}
	ns = nacct_coarse_clock ? bpf_ktime_get_coarse_ns() : bpf_ktime_get_ns();
	if (ns != nacct_clock.ns) {
		/* the clock before its jiffy: a reader that sees the jiffy sees it */
		nacct_clock.ns = ns;
		asm volatile("" ::: "memory");
		nacct_clock.jiffies = j;
	}
	return ns;
}

/* a TCP SYN without ACK names the initiator: 1 + its direction, else 0 */
static __always_inline __u8 nacct_syn_dir(const struct nacct_pkt *pkt, __u8 edir)
{
	if (pkt->proto == NACCT_IPPROTO_TCP && (pkt->tcp_flags & 0x12) == 0x02)
		return edir + 1;
	return 0;
}

/* later fragments: recover the ports the first fragment carried */
static __noinline void nacct_frag_ports(struct nacct_pkt *pkt, struct nacct_stats *st,
					     __u32 dir)
{
	struct nacct_frag_key fk;
	struct nacct_frag_val *fv;

	__builtin_memset(&fk, 0, sizeof(fk));
	__builtin_memcpy(fk.src, pkt->src, 16);
	__builtin_memcpy(fk.dst, pkt->dst, 16);
	fk.id = pkt->frag_id;
	fk.proto = pkt->proto;
	fk.tunnel = pkt->tunnel;

	if (pkt->frag_more) {
		struct nacct_frag_val nv = { .sport = pkt->sport, .dport = pkt->dport };

		bpf_map_update_elem(&nacct_frags, &fk, &nv, BPF_ANY);
		return;
	}
	fv = bpf_map_lookup_elem(&nacct_frags, &fk);
	if (fv) {
		pkt->sport = fv->sport;
		pkt->dport = fv->dport;
	} else {
		st->frag_noports[dir]++;
	}
}

/* the handle from the tunnel table, or a new entry's */
static __always_inline __u32 nacct_tun_handle_slow(struct nacct_pkt *pkt, struct nacct_stats *st)
{
	struct nacct_tun_val *tv, nv;
	__u32 zero = 0, ncpu = nacct_nr_cpus ? nacct_nr_cpus : 1;
	__u64 *seq;

	tv = bpf_map_lookup_elem(&nacct_tunnels, &pkt->tun);
	if (tv)
		return tv->handle;
	seq = bpf_map_lookup_elem(&nacct_tun_seq, &zero);
	if (!seq)
		return 0;
	/* handles past 32 bits: none (the overflow bucket) */
	if (*seq + 1 > 0xffffffffULL / ncpu - 1)
		return 0;
	*seq += 1;
	nv.handle = *seq * ncpu + bpf_get_smp_processor_id() % ncpu;
	nv.first_seen = bpf_ktime_get_ns();
	if (!bpf_map_update_elem(&nacct_tunnels, &pkt->tun, &nv, BPF_NOEXIST)) {
		st->tunnels_created++;
		return nv.handle;
	}
	tv = bpf_map_lookup_elem(&nacct_tunnels, &pkt->tun);
	return tv ? tv->handle : 0;
}

/*
 * The handle of the tunnel in pkt->tun: its entry's, or a new entry's.
 * A new tunnel takes the next number of this CPU's sequence (per-CPU:
 * no atomic, no other CPU can hand out the same); two CPUs that meet
 * one new tunnel at once both try to insert, and the loser takes the
 * winner's handle.  0: the table is full.
 */
static __noinline __u32 nacct_tun_handle(struct nacct_pkt *pkt, struct nacct_stats *st)
{
	struct nacct_tun_cache *c;
	__u32 zero = 0;
	__u32 h;

	/* this CPU's last tunnel (see nacct_tun_cache) */
	c = bpf_map_lookup_elem(&nacct_tun_cache, &zero);
	if (c && c->handle) {
		const __u64 *a = (const __u64 *)&c->key, *b = (const __u64 *)&pkt->tun;

		if (a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && a[4] == b[4])
			return c->handle;
	}
	h = nacct_tun_handle_slow(pkt, st);
	if (c && h) {
		__builtin_memcpy(&c->key, &pkt->tun, sizeof(c->key));
		c->handle = h;
	}
	return h;
}

/*
 * The shared layout ORs a packet's TCP flags and its direction bit into
 * the value with one 64-bit atomic OR on the 8-byte word that starts at
 * tcp_flags (tcp_flags[2], first_dir, seen_dirs, subnet_lo): BPF's atomic
 * OR is 32- or 64-bit, and the 32-bit one needs a newer instruction set
 * (-mcpu=v3) than this build's.  OR-ing zeros leaves first_dir and
 * subnet_lo as they are.  NACCT_WORD_BYTE: byte @off of that word.
 */
#define NACCT_FLAGS_WORD(v) ((__u64 *)&(v)->tcp_flags[0])
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NACCT_WORD_BYTE(off, x) ((__u64)(x) << (8 * (off)))
#else
#define NACCT_WORD_BYTE(off, x) ((__u64)(x) << (56 - 8 * (off)))
#endif
_Static_assert(__builtin_offsetof(struct nacct_flow_val, tcp_flags) % 8 == 0 &&
		       __builtin_offsetof(struct nacct_flow_val, seen_dirs) ==
			       __builtin_offsetof(struct nacct_flow_val, tcp_flags) + 3,
	       "the shared layout's flags word");

/*
 * A packet of a flow that exists: add it to the value.  Per-CPU layout:
 * this CPU's copy, plain adds; the flow's first packet on this CPU fills
 * the slot.  Shared layout: one value for every CPU, filled at insert;
 * two atomic adds, and the flags word is read first and ORed only when a
 * bit is new (rarely).  last_seen and syn_dir are plain stores in both:
 * any CPU's recent value is a right one.
 */
static __always_inline void nacct_flow_add(struct nacct_flow_val *v, const struct nacct_pkt *pkt,
					   __u32 dir, __u8 edir, __u64 pkts, __u64 bytes,
					   __u64 now, const int compat)
{
	if (!compat && nacct_flow_layout == NACCT_FLOW_SHARED) {
		__u64 bits = NACCT_WORD_BYTE(dir, pkt->tcp_flags) | NACCT_WORD_BYTE(3, 1 << edir);

		__sync_fetch_and_add(&v->packets[dir], pkts);
		__sync_fetch_and_add(&v->bytes[dir], bytes);
		if ((*NACCT_FLAGS_WORD(v) & bits) != bits)
			__sync_fetch_and_or(NACCT_FLAGS_WORD(v), bits);
	} else {
		if (!v->first_seen) {
			/* first packet of this flow on this CPU: fill this CPU's slot */
			v->first_seen = bpf_ktime_get_ns();
			v->first_dir = edir;
			v->outer_dir = pkt->tun_type ? 1 + (pkt->outer_side ^ edir) : 0;
			nacct_subnets_fill(v, &pkt->key);
		}
		v->packets[dir] += pkts;
		v->bytes[dir] += bytes;
		v->tcp_flags[dir] |= pkt->tcp_flags;
		v->seen_dirs |= 1 << edir;
	}
	v->last_seen = now;
	if (pkt->proto == NACCT_IPPROTO_TCP && (pkt->tcp_flags & 0x12) == 0x02)
		v->syn_dir = edir + 1;
	if (pkt->inner_type)
		v->inner_type = pkt->inner_type;
}

/* one more 64-bit word into a fingerprint hash */
static __always_inline __u64 nacct_mix(__u64 h, __u64 v)
{
	h ^= v;
	h *= 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

/*
 * A shared domain's host view (--dedup; maps/nacct.h "The host view"):
 * the packet, already counted on its interface, is counted once more in
 * nacct_host_flows unless another member saw the same packet within the
 * window.  @pkt's key is canonical, @edir the source's endpoint, @dir a
 * constant.  In a frame of its own (nacct_host_add_rx/_tx: a key copy of
 * 48 bytes), called only where the switch is on.
 * Needs the atomic OR (5.12+: the loader refuses --dedup before).
 */
static __always_inline int nacct_host_add(struct nacct_pkt *pkt, const __u32 dir, __u32 edir,
					   __u64 pkts, __u64 bytes)
{
	struct nacct_key_words hk;
	struct nacct_dedup_val *dv, ndv;
	struct nacct_host_if_val *hv, nhv;
	struct nacct_flow_val *v, nv;
	struct nacct_stats *st;
	const __u64 *w;
	__u64 h, now = bpf_ktime_get_ns(), bit;
	__u32 slot;

	if (!pkt)
		return 0;
	slot = nacct_slot_of(pkt->ifindex);
	bit = 1ULL << (slot & 63);
	__builtin_memcpy(&hk.k, &pkt->key, sizeof(hk.k));
	hk.k.ifindex = 0;
	w = (const __u64 *)&hk.k;
	/* the key but the VLAN (a tag may be added or taken between two
	 * members), its direction, the packet's own fields */
	h = nacct_mix(nacct_mix(nacct_mix(nacct_mix(0, w[0]), w[1]), w[2]), w[3]);
	h = nacct_mix(nacct_mix(h, w[4] & 0x0000ffffffffffffULL), w[5]);
	h = nacct_mix(h, (__u64)pkt->fp << 1 | (edir & 1));
	dv = bpf_map_lookup_elem(&nacct_dedup_seen, &h);
	if (dv && now - dv->ts < NACCT_DEDUP_WINDOW_NS && !(dv->seen & bit)) {
		/* seen on another member: this interface joins the flow's */
		__sync_fetch_and_or(&dv->seen, bit);
		hv = bpf_map_lookup_elem(&nacct_host_ifs, &hk.k);
		if (hv && !(hv->seen & bit))
			__sync_fetch_and_or(&hv->seen, bit);
		st = nacct_stats_get(slot);
		if (st)
			st->dedup_merged += pkts;
		return 0;
	}
	ndv.ts = now;
	ndv.seen = bit;
	bpf_map_update_elem(&nacct_dedup_seen, &h, &ndv, BPF_ANY);
	v = bpf_map_lookup_elem(&nacct_host_flows, &hk.k);
	if (!v) {
		__builtin_memset(&nv, 0, sizeof(nv));
		nv.packets[dir] = pkts;
		nv.bytes[dir] = bytes;
		nv.first_seen = now;
		nv.last_seen = now;
		nv.tcp_flags[dir] = pkt->tcp_flags;
		nv.first_dir = edir & 1;
		nv.syn_dir = nacct_syn_dir(pkt, edir & 1);
		nv.seen_dirs = 1 << (edir & 1);
		nv.outer_dir = pkt->tun_type ? 1 + (pkt->outer_side ^ (edir & 1)) : 0;
		nv.inner_type = pkt->inner_type;
		nacct_subnets_fill(&nv, &hk.k);
		if (!bpf_map_update_elem(&nacct_host_flows, &hk.k, &nv, BPF_NOEXIST)) {
			nhv.seen = bit;
			nhv.first_ifindex = pkt->ifindex;
			nhv.pad = 0;
			bpf_map_update_elem(&nacct_host_ifs, &hk.k, &nhv, BPF_NOEXIST);
			return 0;
		}
		v = bpf_map_lookup_elem(&nacct_host_flows, &hk.k);
		if (!v)
			return 0; /* the host view is full: its flows stop growing */
	}
	nacct_flow_add(v, pkt, dir, edir & 1, pkts, bytes, nacct_now_coarse(), 0);
	hv = bpf_map_lookup_elem(&nacct_host_ifs, &hk.k);
	if (hv && !(hv->seen & bit))
		__sync_fetch_and_or(&hv->seen, bit);
	return 0;
}

/* a frame of its own for each direction (the direction a constant in
 * each, as the counters' offsets must be: maps/account.bpf.h) */
static __noinline int nacct_host_add_rx(struct nacct_pkt *pkt, __u32 edir, __u64 pkts,
					__u64 bytes)
{
	return nacct_host_add(pkt, NACCT_DIR_RX, edir, pkts, bytes);
}

static __noinline int nacct_host_add_tx(struct nacct_pkt *pkt, __u32 edir, __u64 pkts,
					__u64 bytes)
{
	return nacct_host_add(pkt, NACCT_DIR_TX, edir, pkts, bytes);
}

/*
 * No room for the flow (flow table full) or for its tunnel (tunnel table
 * full): the overflow bucket, and the subnet counters as for any packet
 * (@sub_id: the subnet RX counts the sender's, TX the receiver's).
 */
static __always_inline void nacct_overflow_add(struct nacct_stats *st, __u32 dir, __u64 pkts,
					       __u64 bytes, __u32 sub_id)
{
	st->overflow_packets[dir] += pkts;
	st->overflow_bytes[dir] += bytes;
	nacct_subnet_add(sub_id, dir, pkts, bytes);
}

/*
 * Account one packet (or, at TC, one GSO skb standing for @pkts wire
 * packets of @bytes wire bytes in total) that came in on RX queue @queue
 * (RX only; any number, see nacct_queue_add).  Returns 0: accounting never
 * changes the verdict.  @pkt's key part is made canonical here (its
 * endpoints may swap).  @dir is a constant in every copy, so that counter
 * addresses stay plain offsets.
 *
 * Inlined into each program: a subprogram call and its return cost ~7 ns
 * a packet here.  This used to be a global function, checked once by the
 * verifier, because the TC program came near the limit of 1M processed
 * instructions with it inlined; since the TC program's pull test no
 * longer forks the parser's paths (tc/nacct_tc.bpf.c) inlining costs the
 * verifier less than the call did (bench_micro --verifier).
 *
 * The RX totals are the RX queue rows (nacct_queues): a received packet
 * is counted once, in its queue's row, and nacct_read_totals() sums the
 * rows into nacct_stats' packets[RX] and bytes[RX], which the data path
 * leaves 0 (TX totals are counted here: the TX queue is picked after TC
 * egress).  So the common packet, an IP packet of a known flow, needs no
 * nacct_stats value at all: the rarer branches look it up.
 */
static __always_inline int nacct_account_dir(struct nacct_pkt *pkt, int res, __u32 dir,
					     __u32 queue, __u64 pkts, __u64 bytes, __u32 ifindex,
					     const int compat)
{
	struct nacct_flow_val *v, nv;
	struct nacct_stats *st = NULL;
	__u32 sub_id, slot = nacct_slot_of(ifindex);
	__u8 edir;
	__u64 now;
	int err;

	dir &= 1;
	if (nacct_domain)
		pkt->ifindex = ifindex;
	if (dir == NACCT_DIR_RX) {
		nacct_queue_add(NACCT_DIR_RX, queue, pkts, bytes, slot);
	} else {
		st = nacct_stats_get(slot);
		if (!st)
			return 0;
		st->packets[dir] += pkts;
		st->bytes[dir] += bytes;
	}

	if (!st && (res != NACCT_P_IP || pkt->tun_cand || pkt->is_frag)) {
		st = nacct_stats_get(slot);
		if (!st)
			return 0;
	}
	if (res == NACCT_P_MALFORMED) {
		st->malformed_packets[dir] += pkts;
		st->malformed_bytes[dir] += bytes;
		if (pkt->malformed < NACCT_MAL_MAX)
			st->malformed[pkt->malformed & 15]++;
		return 0;
	}
	if (res == NACCT_P_NONIP) {
		__u32 et = pkt->ethertype < 0x0600 ? 0 : pkt->ethertype;
		struct nacct_ethertype_val *ev, ne;

		st->nonip_packets[dir] += pkts;
		st->nonip_bytes[dir] += bytes;
		ev = bpf_map_lookup_elem(&nacct_ethertypes, &et);
		if (!ev) {
			__builtin_memset(&ne, 0, sizeof(ne));
			ne.packets[dir] = pkts;
			ne.bytes[dir] = bytes;
			err = bpf_map_update_elem(&nacct_ethertypes, &et, &ne, BPF_NOEXIST);
			if (!err)
				return 0;
			/* table full: the "other" bucket, pre-inserted by the loader */
			if (err != -EEXIST)
				et = 0xffff;
			ev = bpf_map_lookup_elem(&nacct_ethertypes, &et);
			if (!ev)
				return 0;
		}
		ev->packets[dir] += pkts;
		ev->bytes[dir] += bytes;
		return 0;
	}

	/* one test for a packet that is no tunnel: tun_type and inner_type
	 * are only ever set on a candidate */
	if (pkt->tun_cand) {
		if (pkt->tun_type) {
			/* the tunnel joins the key (before the fragment table,
			 * whose entries are per tunnel too) */
			pkt->tunnel = nacct_tun_handle(pkt, st);
			if (!pkt->tunnel) {
				st->tunnel_overflow += pkts;
				edir = nacct_key_canon(&pkt->key);
				nacct_subnets_fill(&nv, &pkt->key);
				nacct_overflow_add(st, dir, pkts, bytes,
						   (edir ^ dir) ? nv.subnet_hi : nv.subnet_lo);
				return 0;
			}
			st->tunnel_packets[dir] += pkts;
		} else if (pkt->inner_type) {
			st->tunnel_undecoded[dir] += pkts;
		}
	}
	if (pkt->is_frag) {
		st->frag_packets[dir] += pkts;
		nacct_frag_ports(pkt, st, dir);
	}

	/* canonical key, in place: lower endpoint first; edir 0: the source is lo */
	edir = nacct_key_canon(&pkt->key);
	/* a shared domain's host view (not in the compat twins: no atomic OR) */
	if (!compat && nacct_dedup) {
		if (dir == NACCT_DIR_RX)
			nacct_host_add_rx(pkt, edir, pkts, bytes);
		else
			nacct_host_add_tx(pkt, edir, pkts, bytes);
	}

	now = nacct_now_coarse();
	v = bpf_map_lookup_elem(&nacct_flows, &pkt->key);
	if (!v) {
		__builtin_memset(&nv, 0, sizeof(nv));
		nv.packets[dir] = pkts;
		nv.bytes[dir] = bytes;
		/* a flow's first packet (per-CPU layout: each CPU slot's first)
		 * gets the precise clock, so that the CPU that saw the flow first
		 * is known even within one jiffy */
		nv.first_seen = bpf_ktime_get_ns();
		nv.last_seen = nv.first_seen;
		nv.tcp_flags[dir] = pkt->tcp_flags;
		nv.first_dir = edir;
		nv.syn_dir = nacct_syn_dir(pkt, edir);
		nv.seen_dirs = 1 << edir;
		nv.outer_dir = pkt->tun_type ? 1 + (pkt->outer_side ^ edir) : 0;
		nv.inner_type = pkt->inner_type;
		nacct_subnets_fill(&nv, &pkt->key);
		err = bpf_map_update_elem(&nacct_flows, &pkt->key, &nv, BPF_NOEXIST);
		if (!st)
			st = nacct_stats_get(slot);
		if (!st)
			return 0;
		if (!err) {
			st->flows_created++;
			/* RX counts the sender's subnet, TX the receiver's */
			sub_id = (edir ^ dir) ? nv.subnet_hi : nv.subnet_lo;
			nacct_subnet_add(sub_id, dir, pkts, bytes);
			return 0;
		}
		if (err == -EEXIST)
			v = bpf_map_lookup_elem(&nacct_flows, &pkt->key);
		if (!v) {
			/* map full (E2BIG) or out of memory: the overflow bucket */
			if (err != -E2BIG && err != -EEXIST)
				st->flow_insert_err++;
			nacct_overflow_add(st, dir, pkts, bytes,
					   (edir ^ dir) ? nv.subnet_hi : nv.subnet_lo);
			return 0;
		}
	}
	nacct_flow_add(v, pkt, dir, edir, pkts, bytes, now, compat);
	sub_id = (edir ^ dir) ? v->subnet_hi : v->subnet_lo;
	nacct_subnet_add(sub_id, dir, pkts, bytes);
	return 0;
}

static __always_inline void nacct_stats_gso(__u32 dir, __u32 ifindex)
{
	struct nacct_stats *st = nacct_stats_get(nacct_slot_of(ifindex));

	if (st)
		st->gso_skbs[dir & 1]++;
}

#endif /* NACCT_ACCOUNT_BPF_H */
