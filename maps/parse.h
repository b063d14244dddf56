/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one packet parser, shared by the XDP and TC programs.
 *
 * Works on a cursor over [data, data_end).  Every read is preceded by a
 * bounds check against data_end, every loop is bounded, and nothing here
 * depends on the program type: the caller passes the pointers, the full
 * frame length (for TC the skb may be longer than its linear part) and
 * any VLAN tag the kernel already stripped into metadata.
 */
#ifndef NACCT_PARSE_H
#define NACCT_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "nacct.h"

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif
#ifndef IPPROTO_ICMPV6
#define IPPROTO_ICMPV6 58
#endif
#ifndef IPPROTO_SCTP
#define IPPROTO_SCTP 132
#endif
#define NACCT_IPV6_FRAG 44
#define NACCT_IP_MF 0x2000
#define NACCT_IP_OFFSET 0x1fff

enum nacct_parse_res {
	NACCT_P_IP = 0,     /* an IP packet: info filled */
	NACCT_P_NONIP,      /* not IP: info.ethertype set */
	NACCT_P_MALFORMED,  /* info.malformed set */
};

struct hdr_cursor {
	void *pos;
};

struct vlan_hdr_n {
	__be16 tci;
	__be16 proto;
};

struct sctp_ports {
	__be16 sport;
	__be16 dport;
};

struct ipv6_opt_hdr_n {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct ipv6_frag_hdr_n {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset << 3 | M */
	__be32 id;
};

/* what the parser found; the caller turns it into a flow key */
struct nacct_pkt {
	__u8 src[16];
	__u8 dst[16];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family;
	__u8 tcp_flags;
	__u8 malformed;    /* enum nacct_malformed */
	__u16 vlan;        /* outermost VLAN id */
	__u16 ethertype;   /* host order; for non-IP packets */
	__u16 hdr_len;     /* L2+L3+L4 header bytes (for GSO wire bytes) */
	__u8 is_frag;      /* an IP fragment */
	__u8 frag_later;   /* a non-first fragment (no L4 header) */
	__u8 frag_more;    /* first fragment with more to come */
	__u8 pad[3];
	__be32 frag_id;
};

static __always_inline void nacct_v4_mapped(__u8 *dst, __be32 a)
{
	__builtin_memset(dst, 0, 10);
	dst[10] = 0xff;
	dst[11] = 0xff;
	__builtin_memcpy(dst + 12, &a, 4);
}

/*
 * L4: ports and flags.  Returns 0, or -1 with pkt->malformed set.
 * @l4_avail is what the IP header says is left for L4, bounded by the
 * frame: an L4 header must lie inside its datagram, not in the
 * Ethernet padding or trailer after it.
 */
static __always_inline int nacct_parse_l4(struct hdr_cursor *c, void *data_end,
					  __u32 l4_avail, struct nacct_pkt *pkt)
{
	void *p = c->pos;

	switch (pkt->proto) {
	case IPPROTO_TCP: {
		struct tcphdr *th = p;
		__u32 doff;

		if ((void *)(th + 1) > data_end || l4_avail < sizeof(*th))
			goto bad;
		doff = th->doff * 4;
		/* options are not read, but they must be there (against the
		 * datagram, not data_end: at TC they may sit past the linear part) */
		if (doff < sizeof(*th) || doff > l4_avail)
			goto bad;
		pkt->sport = th->source;
		pkt->dport = th->dest;
		pkt->tcp_flags = ((__u8 *)th)[13];
		pkt->hdr_len += doff;
		return 0;
	}
	case IPPROTO_UDP:
	case 136: /* UDP-Lite */ {
		struct udphdr *uh = p;

		if ((void *)(uh + 1) > data_end || l4_avail < sizeof(*uh))
			goto bad;
		pkt->sport = uh->source;
		pkt->dport = uh->dest;
		pkt->hdr_len += sizeof(*uh);
		return 0;
	}
	case IPPROTO_SCTP: {
		struct sctp_ports *sp = p;

		/* common header is 12 bytes: ports, vtag, checksum */
		if (p + 12 > data_end || l4_avail < 12)
			goto bad;
		pkt->sport = sp->sport;
		pkt->dport = sp->dport;
		pkt->hdr_len += 12;
		return 0;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		__u8 *ic = p;
		__u8 type, code;
		__be16 id;

		if (p + 8 > data_end || l4_avail < 8)
			goto bad;
		type = ic[0];
		code = ic[1];
		__builtin_memcpy(&id, ic + 4, 2);
		if ((pkt->proto == IPPROTO_ICMP && (type == 8 || type == 0)) ||
		    (pkt->proto == IPPROTO_ICMPV6 && (type == 128 || type == 129))) {
			pkt->sport = id;
			pkt->dport = id;
		} else {
			pkt->sport = bpf_htons((__u16)type << 8 | code);
			pkt->dport = pkt->sport;
		}
		pkt->hdr_len += 8;
		return 0;
	}
	default:
		/* other protocols: addresses and protocol only */
		return 0;
	}
bad:
	pkt->malformed = NACCT_MAL_L4;
	return -1;
}

static __always_inline int nacct_parse_ipv4(struct hdr_cursor *c, void *data_end,
					    __u32 l3_avail, struct nacct_pkt *pkt)
{
	struct iphdr *iph = c->pos;
	__u32 ihl, tot, dlen;
	__u16 frag;

	if ((void *)(iph + 1) > data_end || iph->version != 4)
		goto bad_hdr;
	ihl = iph->ihl * 4;
	if (ihl < sizeof(*iph))
		goto bad_hdr;
	/* options: the whole header must be present */
	if (c->pos + ihl > data_end)
		goto bad_hdr;
	tot = bpf_ntohs(iph->tot_len);
	/* tot_len 0 is legal for GSO super-packets (BIG TCP) */
	if (tot && (tot < ihl || tot > l3_avail)) {
		pkt->malformed = NACCT_MAL_IP4_LEN;
		return -1;
	}
	dlen = tot ? tot : l3_avail;
	pkt->family = NACCT_AF_INET;
	pkt->proto = iph->protocol;
	nacct_v4_mapped(pkt->src, iph->saddr);
	nacct_v4_mapped(pkt->dst, iph->daddr);
	pkt->hdr_len += ihl;

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
	c->pos += ihl;
	return nacct_parse_l4(c, data_end, dlen > ihl ? dlen - ihl : 0, pkt);
bad_hdr:
	pkt->malformed = NACCT_MAL_IP4_HDR;
	return -1;
}

static __always_inline int nacct_ipv6_is_ext(__u8 nh)
{
	switch (nh) {
	case 0:   /* hop-by-hop */
	case 43:  /* routing */
	case 44:  /* fragment */
	case 51:  /* AH */
	case 60:  /* destination options */
	case 135: /* mobility */
	case 139: /* HIP */
	case 140: /* shim6 */
		return 1;
	default:  /* 59 (no next header) and upper layers */
		return 0;
	}
}

static __always_inline int nacct_parse_ipv6(struct hdr_cursor *c, void *data_end,
					    __u32 l3_avail, struct nacct_pkt *pkt)
{
	struct ipv6hdr *ip6 = c->pos;
	__u32 plen, rem;
	__u8 nh;
	int i;

	if ((void *)(ip6 + 1) > data_end || ip6->version != 6) {
		pkt->malformed = NACCT_MAL_IP6_HDR;
		return -1;
	}
	plen = bpf_ntohs(ip6->payload_len);
	/* payload_len 0: jumbogram or GSO super-packet */
	if (plen && plen + sizeof(*ip6) > l3_avail) {
		pkt->malformed = NACCT_MAL_IP6_HDR;
		return -1;
	}
	/* bytes of the datagram after the fixed header */
	rem = plen ? plen : l3_avail - sizeof(*ip6);
	pkt->family = NACCT_AF_INET6;
	__builtin_memcpy(pkt->src, &ip6->saddr, 16);
	__builtin_memcpy(pkt->dst, &ip6->daddr, 16);
	pkt->hdr_len += sizeof(*ip6);
	c->pos = ip6 + 1;
	nh = ip6->nexthdr;

	/*
	 * Bounded walk (the verifier needs a constant trip count): up to
	 * NACCT_MAX_IPV6_EXT extension headers, then the upper layer.  Every
	 * header must lie inside the frame and inside payload_len.
	 */
#pragma unroll
	for (i = 0; i <= NACCT_MAX_IPV6_EXT; i++) {
		struct ipv6_opt_hdr_n *oh = c->pos;
		__u32 len;

		if (!nacct_ipv6_is_ext(nh))
			break;
		/* chain longer than we walk: not a packet we can trust */
		if (i == NACCT_MAX_IPV6_EXT)
			goto bad_ext;
		if (nh == NACCT_IPV6_FRAG) {
			struct ipv6_frag_hdr_n *fh = c->pos;
			__u16 off;

			if ((void *)(fh + 1) > data_end || rem < sizeof(*fh))
				goto bad_ext;
			off = bpf_ntohs(fh->frag_off);
			nh = fh->nexthdr;
			c->pos = fh + 1;
			rem -= sizeof(*fh);
			pkt->hdr_len += sizeof(*fh);
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
		if ((void *)(oh + 1) > data_end)
			goto bad_ext;
		/* AH counts 4-octet units minus 2, the others 8-octet units minus 1 */
		if (nh == 51)
			len = (oh->hdrlen + 2) * 4;
		else
			len = (oh->hdrlen + 1) * 8;
		if (len > rem || c->pos + len > data_end)
			goto bad_ext;
		nh = oh->nexthdr;
		c->pos += len;
		rem -= len;
		pkt->hdr_len += len;
	}
	if (nacct_ipv6_is_ext(nh))
		goto bad_ext;
	/* one copy of the L4 parser after the walk, not one per unrolled step:
	 * a third of the verifier's work */
	pkt->proto = nh;
	return nacct_parse_l4(c, data_end, rem, pkt);
bad_ext:
	pkt->malformed = NACCT_MAL_IP6_EXT;
	return -1;
}

/*
 * Parse a frame.  @frame_len: full frame length (>= data_end - data).
 * @hw_vlan: VLAN id the kernel holds in metadata (TC), or -1.
 */
static __always_inline int nacct_parse(void *data, void *data_end, __u32 frame_len,
				       int hw_vlan, struct nacct_pkt *pkt)
{
	struct hdr_cursor c = { .pos = data };
	struct ethhdr *eth = data;
	__u16 proto;
	int i;

	if ((void *)(eth + 1) > data_end) {
		pkt->malformed = NACCT_MAL_ETH;
		return NACCT_P_MALFORMED;
	}
	proto = bpf_ntohs(eth->h_proto);
	c.pos = eth + 1;
	pkt->hdr_len = sizeof(*eth);

#pragma unroll
	for (i = 0; i < NACCT_MAX_VLAN_DEPTH + 1; i++) {
		struct vlan_hdr_n *vh = c.pos;

		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		if (i == NACCT_MAX_VLAN_DEPTH || (void *)(vh + 1) > data_end) {
			pkt->malformed = NACCT_MAL_VLAN;
			return NACCT_P_MALFORMED;
		}
		if (i == 0)
			pkt->vlan = bpf_ntohs(vh->tci) & 0x0fff;
		proto = bpf_ntohs(vh->proto);
		c.pos = vh + 1;
		pkt->hdr_len += sizeof(*vh);
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

	if (proto == ETH_P_IP || proto == ETH_P_IPV6) {
		__u32 l3_off = c.pos - data;
		__u32 l3_avail = frame_len > l3_off ? frame_len - l3_off : 0;
		int ret;

		if (proto == ETH_P_IP)
			ret = nacct_parse_ipv4(&c, data_end, l3_avail, pkt);
		else
			ret = nacct_parse_ipv6(&c, data_end, l3_avail, pkt);
		return ret ? NACCT_P_MALFORMED : NACCT_P_IP;
	}
	pkt->ethertype = proto;
	return NACCT_P_NONIP;
}

#endif /* NACCT_PARSE_H */
