/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Tunnels: the data path's second parsing stage (README "Tunnels").
 *
 * The parser (maps/parse.h) reads a frame's outer headers; what it found
 * makes a tunnel candidate (nacct_tun_candidate(), pkt->tun_cand) — a UDP
 * port of VXLAN or Geneve, GRE, IPv4 or IPv6 inside IP, an MPLS label
 * stack.  This stage walks the outer
 * lengths again to find the tunnel header, reads it, notes the
 * tunnel (type, network id, outer endpoints) in pkt->tun and parses the
 * inner packet with the very same L3/L4 code into the flow key: the inner
 * 5-tuple is the flow; accounting adds the tunnel's handle to the key.
 *
 * One level: the inner packet is not looked at for another tunnel (a
 * tunnel inside a tunnel is the inner flow between the inner tunnel's
 * endpoints).  An outer IP fragment is not opened (its flow is the outer
 * one, as without decapsulation).  Outcomes besides the inner flow:
 *   NACCT_MAL_TUN_HDR  a tunnel header that is cut short or inconsistent
 *                      (VXLAN without its I flag, Geneve version != 0,
 *                      GRE with the routing bit, an MPLS stack without
 *                      a payload)
 *   NACCT_MAL_INNER    the inner Ethernet/IP/L4 headers fail the checks
 *                      an outer one would
 *   the outer flow     a payload this stage does not decode (ARP in
 *                      VXLAN, GRE version 1, MPLS carrying neither IPv4
 *                      nor IPv6 or a stack deeper than NACCT_MAX_MPLS):
 *                      pkt->inner_type records its ethertype (MPLS: the
 *                      frame stays non-IP 0x8847, as without the stage)
 *
 * The load-time switches (nacct_decap_on, the UDP ports) are in
 * maps/parse.h, beside the parser.
 */
#ifndef NACCT_DECAP_H
#define NACCT_DECAP_H

#include "parse.h"

/* pkt->inner_type of a tunnel whose inner headers lie past the first
 * buffer of a multi-buffer frame: counted on its outer flow */
#define NACCT_INNER_UNREACHED 0xffff

/* offsets beyond this are not opened: the outer flow (the bound the
 * verifier needs; any real tunnel's headers start well before it) */
#define NACCT_DECAP_MAX_OFF 1024

/*
 * @off (<= NACCT_DECAP_MAX_OFF, tested) on the register that moves the
 * pointer: the compiler may add a copy taken before the test, and a
 * packet pointer whose offset can reach 64 KiB gets no range from a
 * bounds check.  An AND the compiler cannot drop bounds it again.
 */
static __always_inline __u32 nacct_decap_bound(__u32 off)
{
	asm volatile("%0 &= 0x7ff" : "+r"(off));
	return off;
}

/*
 * Does the tunnel stage open this packet?  A UDP port of VXLAN or Geneve,
 * GRE, IPv4 or IPv6 in IP, MPLS; nacct_decap_on.  Asked once the parser
 * is done, of what it wrote (a fragment is left to its outer flow by the
 * stage, nacct_decap_parse).  Marks the packet (pkt->tun_cand) for the
 * accounting.
 */
static __always_inline int nacct_tun_candidate(struct nacct_pkt *pkt, int res)
{
	if (!nacct_decap_on)
		return 0;
	if (res == NACCT_P_NONIP) {
		if (pkt->ethertype != NACCT_ETH_P_MPLS)
			return 0;
	} else if (res != NACCT_P_IP) {
		return 0;
	} else if (pkt->proto == NACCT_IPPROTO_UDP) {
		if (!nacct_tun_udp(pkt->dport))
			return 0;
	} else if (pkt->proto != NACCT_IPPROTO_GRE && pkt->proto != NACCT_IPPROTO_IPIP &&
		   pkt->proto != NACCT_IPPROTO_IPV6) {
		return 0;
	}
	pkt->tun_cand = 1;
	return 1;
}

/* the outer endpoints into the tunnel key, canonical; 1: the source is hi */
static __always_inline int nacct_tun_endpoints(struct nacct_pkt *pkt)
{
	struct nacct_key_words kw;
	int side;

	/* nacct_key_canon() orders the endpoints; the ports stay zero */
	__builtin_memset(&kw, 0, sizeof(kw));
	__builtin_memcpy(kw.k.lo_addr, pkt->src, 16);
	__builtin_memcpy(kw.k.hi_addr, pkt->dst, 16);
	side = nacct_key_canon(&kw.k);
	__builtin_memcpy(pkt->tun.outer_lo, kw.k.lo_addr, 16);
	__builtin_memcpy(pkt->tun.outer_hi, kw.k.hi_addr, 16);
	return side;
}

/*
 * Where the tunnel header starts, for a packet the parser took as a
 * candidate: the parser does not note it (numbers stored on the stack
 * that differ by the way it went keep the verifier from merging those
 * ways: three times its work), so this walks the outer headers the
 * parser has checked once more, reading only lengths: Ethernet and its
 * tags, IPv4's IHL and total length, IPv6's extension headers.  Fills
 * l3_off, l4_off, l4_len; returns 0; 1 when the L4 header lies past
 * NACCT_DECAP_MAX_OFF; -1 where the walk cannot follow (the caller counts
 * the outer flow either way).
 */
static __always_inline int nacct_decap_locate(const int mem, void *data, void *data_end,
					      __u32 frame_len, int res, struct nacct_pkt *pkt)
{
	union nacct_hdr_buf b;
	struct nacct_ethhdr *eth;
	__u32 off, l4, rem;
	__u16 proto;
	void *pos;
	int i;

	if (NACCT_PEEK(mem, eth, data, data_end, &b))
		return -1;
	proto = bpf_ntohs(eth->proto);
	off = sizeof(*eth);
#pragma unroll
	for (i = 0; i < NACCT_MAX_VLAN_DEPTH; i++) {
		struct nacct_vlanhdr *vh;

		if (proto != NACCT_ETH_P_8021Q && proto != NACCT_ETH_P_8021AD)
			break;
		if (nacct_peek(mem, data + off, data_end, sizeof(*vh), &b, (void **)&vh))
			return -1;
		proto = bpf_ntohs(vh->proto);
		off += sizeof(*vh);
	}
	pkt->l3_off = off;
	if (res == NACCT_P_NONIP)
		return 0;
	pos = data + off;
	if (pkt->family == NACCT_AF_INET) {
		struct nacct_iphdr *iph;
		__u32 tot;

		if (NACCT_PEEK(mem, iph, pos, data_end, &b))
			return -1;
		l4 = (iph->ver_ihl & 0x0f) * 4;
		tot = bpf_ntohs(iph->tot_len);
		if (!tot)
			tot = frame_len > off ? frame_len - off : 0;
		if (tot < l4)
			return -1;
		rem = tot - l4;
	} else {
		struct nacct_ipv6hdr *ip6;
		__u8 nh;

		if (NACCT_PEEK(mem, ip6, pos, data_end, &b))
			return -1;
		rem = bpf_ntohs(ip6->payload_len);
		if (!rem)
			rem = frame_len > off + sizeof(*ip6) ? frame_len - off - sizeof(*ip6) : 0;
		nh = ip6->nexthdr;
		l4 = sizeof(*ip6);
#pragma unroll
		for (i = 0; i < NACCT_MAX_IPV6_EXT; i++) {
			struct nacct_ipv6_opthdr *oh;
			__u32 len;

			/* the parser stopped at pkt->proto; fragments are no candidates */
			if (nh == pkt->proto || !nacct_ipv6_is_ext(nh))
				break;
			/* past the bound of the stage: not opened */
			if (off + l4 > NACCT_DECAP_MAX_OFF)
				return 1;
			if (nacct_peek(mem, pos + (l4 & 0x7ff), data_end, sizeof(*oh), &b,
				       (void **)&oh))
				return -1;
			/* the fragment header is 8 bytes; its second byte is reserved */
			if (nh == NACCT_IPPROTO_FRAGMENT)
				len = sizeof(struct nacct_ipv6_fraghdr);
			else if (nh == NACCT_IPPROTO_AH)
				len = (oh->hdrlen + 2) * 4;
			else
				len = (oh->hdrlen + 1) * 8;
			if (len > rem)
				return -1;
			nh = oh->nexthdr;
			l4 += len;
			rem -= len;
		}
		if (nh != pkt->proto)
			return -1;
	}
	pkt->l4_off = l4;
	pkt->l4_len = rem;
	return 0;
}

/*
 * The stage: @res is the parser's result for the outer headers and
 * nacct_tun_candidate() said yes.  @data .. @data_end what can be read
 * (the @mem way), @frame_len the whole frame's length.  Returns
 * NACCT_P_INNER with the tunnel in pkt->tun, pkt->tun_type set and the
 * inner packet's place in the parse state (nacct_decap_inner() next);
 * or the result for the packet: NACCT_P_IP with the outer flow and
 * pkt->inner_type set, NACCT_P_NONIP (MPLS not opened), NACCT_P_MALFORMED.
 */
static __always_inline int nacct_decap_parse(const int mem, void *data, void *data_end,
					     __u32 frame_len, int res, struct nacct_pkt *pkt)
{
	union nacct_hdr_buf b;
	__u32 off, avail, id = 0, hlen = 0;
	__u16 inner;
	__u8 type;
	void *pos;
	int i;

	/* a fragment: no tunnel, its outer flow (tested here, not with the
	 * candidate after the parser, where the verifier's work doubled) */
	if (pkt->is_frag)
		return res;
	i = nacct_decap_locate(mem, data, data_end, frame_len, res, pkt);
	if (i) {
		/* past the bound (1), or (-1, cannot happen after the parser's
		 * checks) not to be followed: the outer flow */
		if (i < 0)
			pkt->inner_type = NACCT_INNER_UNREACHED;
		return res;
	}
	if (res == NACCT_P_NONIP) {
		/* MPLS: the label stack right after the Ethernet header */
		struct nacct_mplshdr *mh;
		__u32 entry = 0;
		__u8 *nib;

		off = pkt->l3_off;
		if (off > NACCT_DECAP_MAX_OFF || frame_len <= off)
			goto bad_tun;
		pos = data + nacct_decap_bound(off);
		avail = frame_len - off;
#pragma unroll
		for (i = 0; i < NACCT_MAX_MPLS; i++) {
			if (nacct_peek(mem, pos + hlen, data_end, sizeof(*mh), &b, (void **)&mh) ||
			    avail < hlen + sizeof(*mh))
				goto bad_tun;
			entry = bpf_ntohl(mh->entry);
			if (i == 0)
				id = entry >> 12;
			hlen += sizeof(*mh);
			if (entry & NACCT_MPLS_S)
				break;
		}
		/* deeper than we walk: MPLS as it is, not opened */
		if (!(entry & NACCT_MPLS_S))
			return NACCT_P_NONIP;
		if (avail <= hlen ||
		    nacct_peek(mem, pos + hlen, data_end, 1, &b, (void **)&nib))
			goto bad_tun;
		switch (*nib >> 4) {
		case 4:
			inner = NACCT_ETH_P_IP;
			break;
		case 6:
			inner = NACCT_ETH_P_IPV6;
			break;
		default:
			/* a pseudowire or another payload: MPLS as it is */
			return NACCT_P_NONIP;
		}
		type = NACCT_TUN_MPLS;
		__builtin_memset(pkt->tun.outer_lo, 0, 32);
		pkt->outer_side = 0;
		pkt->tun.family = 0;
	} else {
		off = (__u32)pkt->l3_off + pkt->l4_off;
		avail = pkt->l4_len;
		if (off > NACCT_DECAP_MAX_OFF)
			return res;
		pos = data + nacct_decap_bound(off);
		switch (pkt->proto) {
		case NACCT_IPPROTO_UDP: {
			/* the parser checked the UDP header: it is there */
			pos += sizeof(struct nacct_udphdr);
			avail -= sizeof(struct nacct_udphdr);
			if (nacct_tun_udp(pkt->dport) == NACCT_TUN_VXLAN) {
				struct nacct_vxlanhdr *vh;

				if (NACCT_PEEK(mem, vh, pos, data_end, &b) || avail < sizeof(*vh) ||
				    !(vh->flags & NACCT_VXLAN_I))
					goto bad_tun;
				id = bpf_ntohl(vh->vni) >> 8;
				hlen = sizeof(*vh);
				inner = NACCT_ETH_P_TEB;
				type = NACCT_TUN_VXLAN;
			} else {
				struct nacct_genevehdr *gh;

				if (NACCT_PEEK(mem, gh, pos, data_end, &b) || avail < sizeof(*gh) ||
				    gh->ver_optlen >> 6)
					goto bad_tun;
				/* the options are skipped by their length, unread */
				hlen = sizeof(*gh) + (gh->ver_optlen & 0x3f) * 4;
				id = bpf_ntohl(gh->vni) >> 8;
				inner = bpf_ntohs(gh->proto);
				type = NACCT_TUN_GENEVE;
			}
			break;
		}
		case NACCT_IPPROTO_GRE: {
			struct nacct_grehdr *gh;
			__be32 *key;
			__u16 flags;

			if (NACCT_PEEK(mem, gh, pos, data_end, &b) || avail < sizeof(*gh))
				goto bad_tun;
			flags = bpf_ntohs(gh->flags);
			inner = bpf_ntohs(gh->proto);
			if (flags & NACCT_GRE_R)
				goto bad_tun;
			if (flags & NACCT_GRE_VER) {
				/* enhanced GRE (PPTP): not opened, the outer flow */
				pkt->inner_type = inner;
				return res;
			}
			hlen = sizeof(*gh);
			if (flags & NACCT_GRE_C)
				hlen += 4;
			if (flags & NACCT_GRE_K) {
				if (nacct_peek(mem, pos + hlen, data_end, 4, &b, (void **)&key))
					goto bad_tun;
				id = bpf_ntohl(*key);
				hlen += 4;
			}
			if (flags & NACCT_GRE_S)
				hlen += 4;
			type = inner == NACCT_ETH_P_TEB ? NACCT_TUN_GRETAP : NACCT_TUN_GRE;
			break;
		}
		default: {
			/* IP in IP: no tunnel header */
			__u8 v6_in = pkt->proto == NACCT_IPPROTO_IPV6;

			inner = v6_in ? NACCT_ETH_P_IPV6 : NACCT_ETH_P_IP;
			if (pkt->family == NACCT_AF_INET)
				type = v6_in ? NACCT_TUN_SIT : NACCT_TUN_IPIP;
			else
				type = v6_in ? NACCT_TUN_IP6IP6 : NACCT_TUN_IP4IN6;
			break;
		}
		}
		/* the whole tunnel header in the datagram and in the frame */
		if (hlen > avail || !nacct_has(pos, data_end, hlen))
			goto bad_tun;
		pkt->tun.family = pkt->family;
		pkt->outer_side = nacct_tun_endpoints(pkt);
	}
	pos += hlen;
	avail -= hlen;
	nacct_hdr_add(mem, pkt, hlen);

	if (inner == NACCT_ETH_P_TEB) {
		/* Ethernet inside: its header and up to NACCT_MAX_VLAN_DEPTH tags */
		struct nacct_ethhdr *eth;

		if (NACCT_PEEK(mem, eth, pos, data_end, &b) || avail < sizeof(*eth))
			goto bad_inner;
		inner = bpf_ntohs(eth->proto);
		pos += sizeof(*eth);
		avail -= sizeof(*eth);
		nacct_hdr_add(mem, pkt, sizeof(*eth));
#pragma unroll
		for (i = 0; i < NACCT_MAX_VLAN_DEPTH + 1; i++) {
			struct nacct_vlanhdr *vh;

			if (inner != NACCT_ETH_P_8021Q && inner != NACCT_ETH_P_8021AD)
				break;
			if (i == NACCT_MAX_VLAN_DEPTH || NACCT_PEEK(mem, vh, pos, data_end, &b) ||
			    avail < sizeof(*vh))
				goto bad_inner;
			inner = bpf_ntohs(vh->proto);
			pos += sizeof(*vh);
			avail -= sizeof(*vh);
			nacct_hdr_add(mem, pkt, sizeof(*vh));
		}
	}
	if (inner != NACCT_ETH_P_IP && inner != NACCT_ETH_P_IPV6) {
		/* not a payload we open: the outer flow, with what it carried */
		pkt->inner_type = inner;
		return res;
	}

	/* the inner packet: the outer 5-tuple goes, the tunnel stays; where
	 * it starts goes back through the parse state (see nacct_decap_inner) */
	pkt->tun.type = type;
	pkt->tun.id = id;
	pkt->tun.pad = 0;
	pkt->tun_type = type;
	*(__u32 *)&pkt->sport = 0;
	pkt->proto = 0;
	pkt->tcp_flags = 0;
	pkt->l3_off = pos - data;
	pkt->l4_len = avail;
	pkt->ethertype = inner;
	return NACCT_P_INNER;
bad_tun:
	pkt->malformed = NACCT_MAL_TUN_HDR;
	return NACCT_P_MALFORMED;
bad_inner:
	pkt->malformed = NACCT_MAL_INNER;
	return NACCT_P_MALFORMED;
}

/*
 * The inner packet, after nacct_decap_parse() returned NACCT_P_INNER:
 * its L3 header at pkt->l3_off, pkt->l4_len bytes of it, ethertype
 * pkt->ethertype.  The same L3/L4 parser as the outer headers'; a
 * failure is NACCT_MAL_INNER.  A stage of its own (the programs call it
 * as a global function, checked once): reached from every tunnel type
 * with its own header lengths, the parser would be checked once per way
 * in, over the verifier's limit.
 */
static __always_inline int nacct_decap_inner(const int mem, void *data, void *data_end,
					     struct nacct_pkt *pkt)
{
	__u32 off = pkt->l3_off, avail = pkt->l4_len;
	__u16 inner = pkt->ethertype;
	int res;

	if (off > NACCT_DECAP_MAX_OFF + 512)
		goto bad;
	pkt->ethertype = 0;
	res = nacct_parse_l3(mem, data + (off & 0x7ff), data_end, avail, inner, pkt);
	if (res == NACCT_P_MALFORMED)
		pkt->malformed = NACCT_MAL_INNER;
	return res;
bad:
	pkt->malformed = NACCT_MAL_INNER;
	return NACCT_P_MALFORMED;
}

/*
 * The data path's flavour of the two steps (@hdr_len as nacct_parse).
 * Each program runs both in one global function of its own
 * (nacct_xdp_tunnel, nacct_tc_tunnel), checked by the verifier once
 * (inlined into the program, the stage is checked once for every way the
 * parser ended: over the million-instruction limit).  A tunnel packet
 * pays the call; the others one byte test.
 */
#define NACCT_DECAP_MEM(hdr_len) \
	(NACCT_MEM_PKT | NACCT_MEM_WALK_NORM | ((hdr_len) ? NACCT_MEM_HDR_LEN : 0))

#endif /* NACCT_DECAP_H */
