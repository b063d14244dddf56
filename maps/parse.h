/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one packet parser, shared by the data path (XDP, TC) and the side
 * programs (skb:kfree_skb), so that a packet and its drop agree on the
 * flow key.
 *
 * Two ways to reach the bytes, one parsing logic.  Every header is read
 * through nacct_peek(), whose first argument is a compile-time constant
 * at every call site (everything here is always_inline):
 *   NACCT_MEM_PKT   the data path: the packet itself, zero copy, each read
 *                   checked against data_end where the verifier sees it
 *                   (no helper call: this is the ~30 ns hot path);
 *   NACCT_MEM_KERN  the side programs: kernel memory (skb->head +
 *                   network_header), each header copied to the stack with
 *                   bpf_probe_read_kernel after the same bounds check
 *                   against the end of the skb's linear area; also the
 *                   XDP multi-buffer program's way through a copy of a
 *                   frame whose headers run past its first buffer.
 * Both flavours run the very same L3 / extension-header / L4 code and the
 * same length checks (tot_len and payload_len against what is there, the
 * extension chain limit, TCP's data offset ...).
 *
 * Entry points: nacct_parse() at Ethernet (data path; VLAN tags walked
 * here; nacct_parse_eth() the same in either flavour), nacct_parse_l3() at the IP header (the side programs know the
 * ethertype and the network header; their keys have vlan 0).
 *
 * Compiles beside the uapi headers and beside vmlinux.h: fixed-width types,
 * our own header structs (maps/hdr.h), no uapi include.  The includer
 * provides the __u8 .. __be32 types first.
 */
#ifndef NACCT_PARSE_H
#define NACCT_PARSE_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "nacct.h"
#include "hdr.h"
#include "key.h"

enum nacct_mem {
	NACCT_MEM_PKT = 0,  /* direct packet access, bounded by data_end */
	NACCT_MEM_KERN = 1, /* bpf_probe_read_kernel into stack copies */
	/* a flag beside either: also sum the header bytes into pkt->hdr_len
	 * (TC: a GSO skb's wire bytes); nobody else reads them */
	NACCT_MEM_HDR_LEN = 2,
	/* a flag beside NACCT_MEM_PKT: nacct_ext_norm() in the IPv6
	 * extension-header walk (the data path's parse and its tunnel stage;
	 * not the multi-buffer copy's, on plain numbers, whose frame has no
	 * room for the walk's base: 6.1's verifier counts each frame of a
	 * chain of calls in 32-byte steps, up to 512 bytes) */
	NACCT_MEM_WALK_NORM = 4,
};

/*
 * Tunnels (maps/decap.h, README "Tunnels"): load-time switches in
 * .rodata, set by lib/attach.c: nacct_decap_on (0: no candidate is
 * marked, outer headers only) and the UDP ports of VXLAN and Geneve in
 * network byte order (--tunnel-ports; 0: a free slot).  Here, beside the
 * parser; the data path asks nacct_tun_candidate() once the parser is
 * done.  (Marks stored by the parser on each candidate's own path, as
 * before, kept the candidate paths apart in the verifier to the end of
 * the program: 2.2-3 times its work, over 7.3's million-instruction limit.)
 */
const volatile __u32 nacct_decap_on = 1;
/*
 * nacct_dedup: a shared domain's host view (attach --dedup, maps/account.bpf.h
 * nacct_host_add()): the parser also takes the packet's fingerprint,
 * pkt->fp, from fields that stay the same while a packet crosses the
 * host's interfaces and differ from one packet to the next of a flow:
 * IPv4 ID and total length, IPv6 payload length, TCP sequence and
 * acknowledgement numbers and checksum, the UDP and ICMP checksums and
 * lengths (ICMP: the echo sequence).  0: pruned.
 */
const volatile __u32 nacct_dedup = 0;
const volatile __be16 nacct_vxlan_ports[NACCT_TUN_PORTS] = { 0xb512 /* 4789 */,
							      0x1821 /* 8472 */ };
const volatile __be16 nacct_geneve_ports[NACCT_TUN_PORTS] = { 0xc117 /* 6081 */ };

/* the UDP tunnel a destination port names, or NACCT_TUN_NONE */
static __always_inline __u8 nacct_tun_udp(__be16 dport)
{
	int i;

#pragma unroll
	for (i = 0; i < NACCT_TUN_PORTS; i++) {
		if (!nacct_vxlan_ports[i])
			break;
		if (dport == nacct_vxlan_ports[i])
			return NACCT_TUN_VXLAN;
	}
#pragma unroll
	for (i = 0; i < NACCT_TUN_PORTS; i++) {
		if (!nacct_geneve_ports[i])
			break;
		if (dport == nacct_geneve_ports[i])
			return NACCT_TUN_GENEVE;
	}
	return NACCT_TUN_NONE;
}

enum nacct_parse_res {
	NACCT_P_IP = 0,     /* an IP packet: info filled */
	NACCT_P_NONIP,      /* not IP: info.ethertype set */
	NACCT_P_MALFORMED,  /* info.malformed set */
	NACCT_P_INNER,      /* maps/decap.h: a tunnel, its inner packet still to parse */
};

/*
 * What the parser found.  Its first 40 bytes are the flow key with the
 * source as "lo": the parser writes addresses, ports, protocol, family
 * and VLAN where the map lookup reads them, and nacct_key_canon() (key.h)
 * only swaps the endpoints in place when the source is the higher one.
 * No copy from a parse result into a key, and the addresses are written
 * as 8-byte words (the struct is 8-byte aligned), which the key's
 * comparison and the map's hash then read without a stall.
 */
struct nacct_pkt {
	union {
		struct nacct_flow_key key; /* src first until nacct_key_canon() */
		struct {
			__u8 src[16];
			__u8 dst[16];
			__be16 sport;
			__be16 dport;
			__u8 proto;
			__u8 family;
			__u16 vlan; /* outermost VLAN id */
			__u32 tunnel; /* the tunnel's handle (accounting fills it) */
			__u32 ifindex; /* shared domain: the interface (accounting) */
		};
	};
	__u8 tcp_flags;
	__u8 malformed;    /* enum nacct_malformed */
	__u16 ethertype;   /* host order; for non-IP packets */
	__u16 hdr_len;     /* L2+L3+L4 header bytes (GSO wire bytes; NACCT_MEM_HDR_LEN) */
	__u8 is_frag;      /* an IP fragment */
	__u8 frag_later;   /* a non-first fragment (no L4 header) */
	__u8 frag_more;    /* first fragment with more to come */
	__u8 tun_type;     /* decapsulated (maps/decap.h): tun holds the tunnel */
	__u8 outer_side;   /* ... and the outer source is its outer_lo (0) or outer_hi (1) */
	__u8 tun_cand;     /* nacct_tun_candidate(): a packet for the tunnel stage */
	__be32 frag_id;
	/*
	 * The tunnel stage's (maps/decap.h; the parser does not fill them):
	 * the L3 header's offset in the frame, the L4 header's from the L3
	 * header, the bytes of the datagram from the L4 header on.
	 */
	__u16 l3_off;
	__u16 l4_off;
	__u16 l4_len;
	__u16 inner_type;  /* a tunnel's undecoded payload: its ethertype */
	__u32 fp;          /* nacct_dedup: the fingerprint (see there) */
	__u32 fp_pad;      /* (tun stays 8-byte aligned: its words are compared) */
	/* not zeroed by nacct_pkt_init(): written whole when tun_type is set */
	struct nacct_tun_key tun;
} __attribute__((aligned(8)));

_Static_assert(sizeof(struct nacct_flow_key) == 48 &&
		       __builtin_offsetof(struct nacct_pkt, tcp_flags) == 48,
	       "struct nacct_pkt starts with the flow key");
_Static_assert(__builtin_offsetof(struct nacct_pkt, tun) % 8 == 0,
	       "struct nacct_pkt's tun is read in 8-byte words");

/* a packet's parse state before the parser runs: all but the tunnel key */
static __always_inline void nacct_pkt_init(struct nacct_pkt *pkt)
{
	__builtin_memset(pkt, 0, __builtin_offsetof(struct nacct_pkt, tun));
}

/*
 * Room for the largest header read at once (KERN flavour only); 8-byte
 * aligned so that the address words below are aligned stack reads.
 */
union nacct_hdr_buf {
	struct nacct_ethhdr eth;
	struct nacct_vlanhdr vlan;
	struct nacct_iphdr ip4;
	struct nacct_ipv6hdr ip6;
	struct nacct_ipv6_fraghdr frag;
	struct nacct_ipv6_opthdr opt;
	struct nacct_tcphdr tcp;
	struct nacct_udphdr udp;
	struct nacct_sctphdr sctp;
	struct nacct_icmphdr icmp;
	struct nacct_vxlanhdr vxlan;
	struct nacct_genevehdr geneve;
	struct nacct_grehdr gre;
	struct nacct_mplshdr mpls;
} __attribute__((aligned(8)));

/*
 * The address helpers write the key's addresses as two 8-byte words.
 * Reads from the packet may be unaligned (the verifier allows it where
 * the CPU does: x86, arm64); reads from a KERN copy are aligned (the
 * union above).
 */
static __always_inline void nacct_addr6_put(__u8 *dst, const void *src)
{
	__u64 *d = __builtin_assume_aligned(dst, 8);
	const __u64 *s = src;

	d[0] = s[0];
	d[1] = s[1];
}

/* ::ffff:a.b.c.d from @a (network byte order, as loaded from the header) */
static __always_inline void nacct_addr4_put(__u8 *dst, __be32 a)
{
	__u64 *d = __builtin_assume_aligned(dst, 8);

	d[0] = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	d[1] = (__u64)a << 32 | 0xffff0000ULL; /* bytes 8..15: 0 0 ff ff a b c d */
#else
	d[1] = 0x0000ffff00000000ULL | a;
#endif
}

/* source and destination port: one 4-byte word in the header and in the key */
static __always_inline void nacct_ports_put(struct nacct_pkt *pkt, const void *l4)
{
	*(__u32 *)&pkt->sport = *(const __u32 *)l4;
}

/* are @len bytes at @pos all before @end? (no read) */
static __always_inline int nacct_has(void *pos, void *end, __u32 len)
{
	return pos + len <= end;
}

/*
 * Point *@out at the @len bytes at @pos; -1 when they are not all before
 * @end.  PKT: *@out is @pos itself (the comparison with data_end is what
 * lets the verifier accept the reads that follow); KERN: a copy in @buf.
 * @mem and @len are constants at every call site, so each flavour
 * compiles to straight code.  An error return, not a NULL pointer: a
 * "pointer or NULL" would stay in the data path as a NULL test on a
 * packet pointer, one more branch for the verifier at every header.
 */
static __always_inline int nacct_peek(const int mem, void *pos, void *end, __u32 len,
				      union nacct_hdr_buf *buf, void **out)
{
	if (pos + len > end)
		return -1;
	if (!(mem & NACCT_MEM_KERN)) {
		*out = pos;
		return 0;
	}
	if (bpf_probe_read_kernel(buf, len, pos))
		return -1;
	*out = buf;
	return 0;
}

/* NACCT_PEEK(mem, hdr, pos, end, &buf): *hdr's size at pos, into hdr */
#define NACCT_PEEK(mem, hdr, pos, end, buf) \
	nacct_peek(mem, pos, end, sizeof(*(hdr)), buf, (void **)&(hdr))

/* @n more header bytes, when the caller asked for them (a constant) */
static __always_inline void nacct_hdr_add(const int mem, struct nacct_pkt *pkt, __u32 n)
{
	if (mem & NACCT_MEM_HDR_LEN)
		pkt->hdr_len += n;
}

/*
 * L4: ports and flags.  Returns 0, or -1 with pkt->malformed set.
 * @l4_avail is what the IP header says is left for L4, bounded by the
 * frame: an L4 header must lie inside its datagram, not in the
 * Ethernet padding or trailer after it.
 */
static __always_inline int nacct_parse_l4(const int mem, void *pos, void *end, __u32 l4_avail,
					  struct nacct_pkt *pkt)
{
	union nacct_hdr_buf b;

	switch (pkt->proto) {
	case NACCT_IPPROTO_TCP: {
		struct nacct_tcphdr *th;
		__u32 doff;

		if (NACCT_PEEK(mem, th, pos, end, &b) || l4_avail < sizeof(*th))
			goto bad;
		doff = (th->doff_res >> 4) * 4;
		/* options are not read, but they must be there (against the
		 * datagram, not the end: at TC they may sit past the linear part) */
		if (doff < sizeof(*th) || doff > l4_avail)
			goto bad;
		nacct_ports_put(pkt, th);
		pkt->tcp_flags = th->flags;
		if (nacct_dedup)
			pkt->fp ^= bpf_ntohl(th->seq) * 0x9e3779b1U ^ th->ack_seq ^
				   (__u32)th->check << 16;
		nacct_hdr_add(mem, pkt, doff);
		return 0;
	}
	case NACCT_IPPROTO_UDP:
	case NACCT_IPPROTO_UDPLITE: {
		struct nacct_udphdr *uh;

		if (NACCT_PEEK(mem, uh, pos, end, &b) || l4_avail < sizeof(*uh))
			goto bad;
		nacct_ports_put(pkt, uh);
		if (nacct_dedup)
			pkt->fp ^= ((__u32)uh->check << 16 | uh->len) * 0x9e3779b1U;
		nacct_hdr_add(mem, pkt, sizeof(*uh));
		return 0;
	}
	case NACCT_IPPROTO_SCTP: {
		/* common header: ports, vtag, checksum */
		struct nacct_sctphdr *sh;

		if (NACCT_PEEK(mem, sh, pos, end, &b) || l4_avail < sizeof(*sh))
			goto bad;
		nacct_ports_put(pkt, sh);
		nacct_hdr_add(mem, pkt, sizeof(*sh));
		return 0;
	}
	case NACCT_IPPROTO_ICMP:
	case NACCT_IPPROTO_ICMPV6: {
		struct nacct_icmphdr *ic;
		__u8 type, code;

		if (NACCT_PEEK(mem, ic, pos, end, &b) || l4_avail < sizeof(*ic))
			goto bad;
		type = ic->type;
		code = ic->code;
		if (nacct_dedup)
			pkt->fp ^= ((__u32)ic->check << 16 | ic->seq) * 0x9e3779b1U;
		if ((pkt->proto == NACCT_IPPROTO_ICMP && (type == 8 || type == 0)) ||
		    (pkt->proto == NACCT_IPPROTO_ICMPV6 && (type == 128 || type == 129))) {
			/* echo request/reply: the identifier on both sides */
			pkt->sport = ic->id;
			pkt->dport = ic->id;
		} else {
			/* the other port 0: never (id, id), so an echo whose
			 * identifier reads as a type and code stays apart */
			pkt->sport = bpf_htons((__u16)type << 8 | code);
			pkt->dport = 0;
		}
		nacct_hdr_add(mem, pkt, sizeof(*ic));
		return 0;
	}
	case NACCT_IPPROTO_GRE:
	case NACCT_IPPROTO_IPIP:
	case NACCT_IPPROTO_IPV6:
		/* addresses and protocol (the data path: a tunnel candidate) */
		return 0;
	default:
		/* other protocols: addresses and protocol only */
		return 0;
	}
bad:
	pkt->malformed = NACCT_MAL_L4;
	return -1;
}

static __always_inline int nacct_parse_ipv4(const int mem, void *pos, void *end, __u32 l3_avail,
					    struct nacct_pkt *pkt)
{
	union nacct_hdr_buf b;
	struct nacct_iphdr *iph;
	__u32 ihl, tot, dlen;
	__u16 frag;

	if (NACCT_PEEK(mem, iph, pos, end, &b) || iph->ver_ihl >> 4 != 4)
		goto bad_hdr;
	ihl = (iph->ver_ihl & 0x0f) * 4;
	if (ihl < sizeof(*iph))
		goto bad_hdr;
	/* options: the whole header must be present, in the frame and (a
	 * tunnel's inner packet) in the datagram that carries it */
	if (!nacct_has(pos, end, ihl) || ihl > l3_avail)
		goto bad_hdr;
	tot = bpf_ntohs(iph->tot_len);
	/* tot_len 0 is legal for GSO super-packets (BIG TCP) */
	if (tot && (tot < ihl || tot > l3_avail)) {
		pkt->malformed = NACCT_MAL_IP4_LEN;
		return -1;
	}
	dlen = tot ? tot : l3_avail;
	if (nacct_dedup)
		pkt->fp = (__u32)iph->id << 16 | tot;
	pkt->family = NACCT_AF_INET;
	pkt->proto = iph->protocol;
	nacct_addr4_put(pkt->src, iph->saddr);
	nacct_addr4_put(pkt->dst, iph->daddr);
	nacct_hdr_add(mem, pkt, ihl);


	frag = bpf_ntohs(iph->frag_off);
	if (frag & (NACCT_IP_MF | NACCT_IP_OFFSET)) {
		pkt->is_frag = 1;
		pkt->frag_id = (__be32)iph->id;
		if (frag & NACCT_IP_OFFSET) {
			pkt->frag_later = 1;
			return 0;
		}
		pkt->frag_more = 1;
	}
	return nacct_parse_l4(mem, pos + ihl, end, dlen > ihl ? dlen - ihl : 0, pkt);
bad_hdr:
	pkt->malformed = NACCT_MAL_IP4_HDR;
	return -1;
}

static __always_inline int nacct_ipv6_is_ext(__u8 nh)
{
	switch (nh) {
	case NACCT_IPPROTO_HOPOPTS:
	case NACCT_IPPROTO_ROUTING:
	case NACCT_IPPROTO_FRAGMENT:
	case NACCT_IPPROTO_AH:
	case NACCT_IPPROTO_DSTOPTS:
	case NACCT_IPPROTO_MH:
	case NACCT_IPPROTO_HIP:
	case NACCT_IPPROTO_SHIM6:
		return 1;
	default: /* 59 (no next header) and upper layers */
		return 0;
	}
}

/*
 * After each IPv6 extension header: the walk's position again as @base
 * (the first header after the fixed one) plus an offset, and @rem, both
 * masked to bounds they cannot pass (8 headers of at most 2048 bytes;
 * a datagram, BIG TCP's too, under 1 MiB), so the values do not change
 * but the verifier sees every way through the walk so far (hop-by-hop,
 * routing, AH, fragment ... in any order) as one range, and prunes: on
 * 7.3's verifier the walk's states grew past the million-instruction
 * limit.
 */
static __always_inline void *nacct_ext_norm(void *base, void *pos, __u32 *rem)
{
	__u64 off = pos - base;
	__u32 r = *rem;

	asm volatile("%0 &= 0x7fff" : "+r"(off));
	asm volatile("%0 &= 0xfffff" : "+r"(r));
	*rem = r;
	return base + off;
}

static __always_inline int nacct_parse_ipv6(const int mem, void *pos, void *end, __u32 l3_avail,
					    struct nacct_pkt *pkt)
{
	union nacct_hdr_buf b;
	struct nacct_ipv6hdr *ip6;
	__u32 plen, rem;
	void *base;
	__u8 nh;
	int i;

	if (NACCT_PEEK(mem, ip6, pos, end, &b) || ip6->ver_tc >> 4 != 6 ||
	    l3_avail < sizeof(*ip6)) {
		pkt->malformed = NACCT_MAL_IP6_HDR;
		return -1;
	}
	plen = bpf_ntohs(ip6->payload_len);
	/* payload_len 0: jumbogram or GSO super-packet */
	if (plen && plen + sizeof(*ip6) > l3_avail) {
		pkt->malformed = NACCT_MAL_IP6_HDR;
		return -1;
	}
	if (nacct_dedup)
		pkt->fp = plen;
	/* bytes of the datagram after the fixed header */
	rem = plen ? plen : l3_avail - sizeof(*ip6);
	pkt->family = NACCT_AF_INET6;
	nacct_addr6_put(pkt->src, ip6->saddr);
	nacct_addr6_put(pkt->dst, ip6->daddr);
	nacct_hdr_add(mem, pkt, sizeof(*ip6));
	nh = ip6->nexthdr;
	pos += sizeof(*ip6);
	base = pos;

	/*
	 * Bounded walk (the verifier needs a constant trip count): up to
	 * NACCT_MAX_IPV6_EXT extension headers, then the upper layer.  Every
	 * header must lie inside the frame and inside payload_len.
	 */
#pragma unroll
	for (i = 0; i <= NACCT_MAX_IPV6_EXT; i++) {
		struct nacct_ipv6_opthdr *oh;
		__u32 len;

		/* (the upper layer too starts from here) */
		if (mem & NACCT_MEM_WALK_NORM)
			pos = nacct_ext_norm(base, pos, &rem);
		if (!nacct_ipv6_is_ext(nh))
			break;
		/* chain longer than we walk: not a packet we can trust */
		if (i == NACCT_MAX_IPV6_EXT)
			goto bad_ext;
		if (nh == NACCT_IPPROTO_FRAGMENT) {
			struct nacct_ipv6_fraghdr *fh;
			__u16 off;

			if (NACCT_PEEK(mem, fh, pos, end, &b) || rem < sizeof(*fh))
				goto bad_ext;
			off = bpf_ntohs(fh->frag_off);
			nh = fh->nexthdr;
			pos += sizeof(*fh);
			rem -= sizeof(*fh);
			nacct_hdr_add(mem, pkt, sizeof(*fh));
			/* an atomic fragment (offset 0, no M) is not fragmented */
			if (off & 0xfff9) {
				pkt->is_frag = 1;
				pkt->frag_id = fh->id;
				if (off & 0xfff8) {
					pkt->proto = nh;
					pkt->frag_later = 1;
					return 0;
				}
				pkt->frag_more = 1;
			}
			continue;
		}
		if (NACCT_PEEK(mem, oh, pos, end, &b))
			goto bad_ext;
		if (nh == NACCT_IPPROTO_AH)
			len = (oh->hdrlen + 2) * 4;
		else
			len = (oh->hdrlen + 1) * 8;
		if (len > rem || !nacct_has(pos, end, len))
			goto bad_ext;
		nh = oh->nexthdr;
		pos += len;
		rem -= len;
		nacct_hdr_add(mem, pkt, len);
	}
	if (nacct_ipv6_is_ext(nh))
		goto bad_ext;
	/* one copy of the L4 parser after the walk, not one per unrolled step:
	 * a third of the verifier's work */
	pkt->proto = nh;

	return nacct_parse_l4(mem, pos, end, rem, pkt);
bad_ext:
	pkt->malformed = NACCT_MAL_IP6_EXT;
	return -1;
}

/*
 * Parse from the IP header at @l3: @proto is the ethertype (host order),
 * @end the end of what can be read (data_end; the skb's linear end),
 * @l3_avail the bytes of the packet from @l3 on (may reach past @end: a
 * TC skb or a dropped skb can be longer than its linear part).
 */
static __always_inline int nacct_parse_l3(const int mem, void *l3, void *end, __u32 l3_avail,
					  __u16 proto, struct nacct_pkt *pkt)
{
	int ret;

	if (proto != NACCT_ETH_P_IP && proto != NACCT_ETH_P_IPV6) {
		pkt->ethertype = proto;
		return NACCT_P_NONIP;
	}
	/* one test, then either family: the shape the verifier prunes best */
	if (proto == NACCT_ETH_P_IP)
		ret = nacct_parse_ipv4(mem, l3, end, l3_avail, pkt);
	else
		ret = nacct_parse_ipv6(mem, l3, end, l3_avail, pkt);
	return ret ? NACCT_P_MALFORMED : NACCT_P_IP;
}

/*
 * Parse a frame from its Ethernet header: @data .. @data_end what can be
 * read (read the @mem way), @frame_len the full frame's length (>=
 * data_end - data).  @hw_vlan: VLAN id the kernel holds in metadata (TC),
 * or -1.
 */
static __always_inline int nacct_parse_eth(const int mem, void *data, void *data_end,
					   __u32 frame_len, int hw_vlan, struct nacct_pkt *pkt)
{
	struct nacct_ethhdr *eth;
	union nacct_hdr_buf b;
	__u32 l3_off, l3_avail;
	void *pos;
	__u16 proto;
	int i;

	if (NACCT_PEEK(mem, eth, data, data_end, &b)) {
		pkt->malformed = NACCT_MAL_ETH;
		return NACCT_P_MALFORMED;
	}
	proto = bpf_ntohs(eth->proto);
	pos = data + sizeof(*eth);
	nacct_hdr_add(mem, pkt, sizeof(*eth));

#pragma unroll
	for (i = 0; i < NACCT_MAX_VLAN_DEPTH + 1; i++) {
		struct nacct_vlanhdr *vh;

		if (proto != NACCT_ETH_P_8021Q && proto != NACCT_ETH_P_8021AD)
			break;
		if (i == NACCT_MAX_VLAN_DEPTH || NACCT_PEEK(mem, vh, pos, data_end, &b)) {
			pkt->malformed = NACCT_MAL_VLAN;
			return NACCT_P_MALFORMED;
		}
		if (i == 0)
			pkt->vlan = bpf_ntohs(vh->tci) & 0x0fff;
		proto = bpf_ntohs(vh->proto);
		pos += sizeof(*vh);
		nacct_hdr_add(mem, pkt, sizeof(*vh));
	}
	/*
	 * A tag the kernel already took into metadata is the outermost one and
	 * counts toward the depth.  Handled after the walk, so that the walk
	 * and everything below it are one set of paths for the verifier
	 * whether or not there is such a tag.
	 */
	if (hw_vlan >= 0) {
		if (i + 1 > NACCT_MAX_VLAN_DEPTH) {
			pkt->malformed = NACCT_MAL_VLAN;
			return NACCT_P_MALFORMED;
		}
		pkt->vlan = hw_vlan & 0x0fff;
	}

	l3_off = pos - data;
	/* non-IP before the length arithmetic: the short way out for them */
	if (proto != NACCT_ETH_P_IP && proto != NACCT_ETH_P_IPV6) {
		pkt->ethertype = proto;
		return NACCT_P_NONIP;
	}
	l3_avail = frame_len > l3_off ? frame_len - l3_off : 0;
	return nacct_parse_l3(mem, pos, data_end, l3_avail, proto, pkt);
}

/*
 * The data path's entry: parse a frame from its Ethernet header, in the
 * packet itself.  @frame_len: full frame length (>= data_end - data: an
 * skb's or a multi-buffer XDP frame's headers are read from its linear
 * part).  @hw_vlan: VLAN id the kernel holds in metadata (TC), or -1.
 * @hdr_len (a constant): sum the header bytes into pkt->hdr_len (TC's GSO
 * wire bytes need them; XDP saves the work).
 */
static __always_inline int nacct_parse(void *data, void *data_end, __u32 frame_len,
				       int hw_vlan, const int hdr_len, struct nacct_pkt *pkt)
{
	const int mem = NACCT_MEM_PKT | NACCT_MEM_WALK_NORM | (hdr_len ? NACCT_MEM_HDR_LEN : 0);

	return nacct_parse_eth(mem, data, data_end, frame_len, hw_vlan, pkt);
}

#endif /* NACCT_PARSE_H */
