// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pkt.h"

static const __u8 mac_a[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a };
static const __u8 mac_b[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0b };

void pkt_addr4(__u8 *a, __u8 b0, __u8 b1, __u8 b2, __u8 b3)
{
	memset(a, 0, 16);
	a[0] = b0;
	a[1] = b1;
	a[2] = b2;
	a[3] = b3;
}

void pkt_addr6(__u8 *a, __u16 hi, __u16 lo)
{
	memset(a, 0, 16);
	a[0] = 0xfd;
	pkt_put16(a + 2, hi);
	pkt_put16(a + 14, lo);
}

void pkt_spec_init(struct pkt_spec *s, int family, __u8 proto, __u16 sport, __u16 dport)
{
	memset(s, 0, sizeof(*s));
	s->family = family;
	s->proto = proto;
	s->sport = sport;
	s->dport = dport;
	if (family == 4) {
		pkt_addr4(s->src, 198, 18, 0, 1);
		pkt_addr4(s->dst, 198, 18, 0, 2);
	} else if (family == 6) {
		pkt_addr6(s->src, 1, 1);
		pkt_addr6(s->dst, 1, 2);
	}
	if (proto == PKT_P_ICMP)
		s->icmp_type = 8;
	if (proto == PKT_P_ICMPV6)
		s->icmp_type = 128;
	if (proto == PKT_P_TCP)
		s->tcp_flags = 0x02;
	s->frag_id = 0x4242;
}

void pkt_spec_reverse(struct pkt_spec *s)
{
	__u8 t[16];
	__u16 p;

	memcpy(t, s->src, 16);
	memcpy(s->src, s->dst, 16);
	memcpy(s->dst, t, 16);
	p = s->sport;
	s->sport = s->dport;
	s->dport = p;
}

/* size of the L4 header written for @s */
static size_t l4_size(const struct pkt_spec *s)
{
	switch (s->proto) {
	case PKT_P_TCP:
		return 20 + s->tcp_opt;
	case PKT_P_UDP:
	case PKT_P_UDPLITE:
	case PKT_P_ICMP:
	case PKT_P_ICMPV6:
		return 8;
	case PKT_P_SCTP:
		return 12;
	default:
		return 0;
	}
}

static void write_l4(const struct pkt_spec *s, __u8 *p, size_t l4len)
{
	switch (s->proto) {
	case PKT_P_TCP:
		pkt_put16(p, s->sport);
		pkt_put16(p + 2, s->dport);
		p[4] = 0x11; /* sequence number */
		p[12] = (__u8)(((20 + s->tcp_opt) / 4) << 4);
		p[13] = s->tcp_flags;
		pkt_put16(p + 14, 65535);
		memset(p + 20, 1, s->tcp_opt); /* NOP options */
		break;
	case PKT_P_UDP:
	case PKT_P_UDPLITE:
		pkt_put16(p, s->sport);
		pkt_put16(p + 2, s->dport);
		/* UDP: length; UDP-Lite: checksum coverage (0 = all) */
		pkt_put16(p + 4, s->proto == PKT_P_UDP ? (__u16)l4len : 0);
		break;
	case PKT_P_SCTP:
		pkt_put16(p, s->sport);
		pkt_put16(p + 2, s->dport);
		p[4] = 0xde; /* verification tag */
		break;
	case PKT_P_ICMP:
	case PKT_P_ICMPV6:
		p[0] = s->icmp_type;
		p[1] = s->icmp_code;
		pkt_put16(p + 4, s->sport); /* echo identifier */
		pkt_put16(p + 6, 1);        /* sequence */
		break;
	default:
		break;
	}
}

/* bytes of one IPv6 extension header of type @t as the builder writes it */
static size_t ext_size(__u8 t)
{
	switch (t) {
	case 43:
		return 24; /* hdrlen 2 */
	case 51:
		return 16; /* AH: (2 + 2) * 4 */
	default:
		return 8;
	}
}

size_t pkt_build(const struct pkt_spec *s, __u8 *buf, size_t cap, struct pkt_layout *lay)
{
	size_t off = 12, l3, l4 = 0, len, l4h = 0, iplen;
	int later = 0, i;

	memset(lay, 0, sizeof(*lay));
	if (cap < 64)
		return 0;
	memset(buf, 0, cap);
	memcpy(buf, mac_b, 6);
	memcpy(buf + 6, mac_a, 6);
	for (i = 0; i < s->nvlan; i++) {
		pkt_put16(buf + off, s->vlan_tpid[i]);
		pkt_put16(buf + off + 2, s->vlan_vid[i]);
		off += 4;
	}
	pkt_put16(buf + off,
		  s->family == 4 ? 0x0800 : s->family == 6 ? 0x86dd : s->ethertype);
	off += 2;
	l3 = off;
	lay->l3 = l3;

	if (s->family == 0) {
		len = off + s->payload;
		if (len > cap)
			return 0;
		memset(buf + off, 0xab, s->payload);
		lay->l4 = lay->pay = off;
		lay->len = len;
		return len;
	}

	if (s->family == 4) {
		size_t ihl = 20 + s->ip4_opt;
		__u16 fo = 0;

		later = s->frag && s->frag_off;
		l4 = l3 + ihl;
		l4h = later ? 0 : l4_size(s);
		iplen = ihl + l4h + s->payload;
		len = l3 + iplen;
		if (len > cap)
			return 0;
		buf[l3] = (__u8)(0x40 | (ihl / 4));
		pkt_put16(buf + l3 + 2, (__u16)iplen);
		pkt_put16(buf + l3 + 4, (__u16)s->frag_id);
		if (s->frag)
			fo = (__u16)((s->frag_mf ? 0x2000 : 0) | (s->frag_off & 0x1fff));
		pkt_put16(buf + l3 + 6, fo);
		buf[l3 + 8] = 64;
		buf[l3 + 9] = s->proto;
		memcpy(buf + l3 + 12, s->src, 4);
		memcpy(buf + l3 + 16, s->dst, 4);
		memset(buf + l3 + 20, 1, s->ip4_opt); /* NOP options */
	} else {
		size_t p = l3 + 40;
		__u8 *nh = buf + l3 + 6;

		buf[l3] = 0x60;
		buf[l3 + 7] = 64;
		memcpy(buf + l3 + 8, s->src, 16);
		memcpy(buf + l3 + 24, s->dst, 16);
		for (i = 0; i < s->n_ext && !later; i++) {
			size_t n = ext_size(s->ext[i]);

			if (p + n > cap)
				return 0;
			*nh = s->ext[i];
			nh = buf + p;
			if (s->ext[i] == 44) {
				buf[p + 1] = 0;
				pkt_put16(buf + p + 2,
					  (__u16)((s->frag_off << 3) | (s->frag_mf ? 1 : 0)));
				buf[p + 4] = s->frag_id >> 24;
				buf[p + 5] = s->frag_id >> 16;
				buf[p + 6] = s->frag_id >> 8;
				buf[p + 7] = s->frag_id;
				later = s->frag_off != 0;
			} else if (s->ext[i] == 51) {
				buf[p + 1] = (__u8)(n / 4 - 2);
			} else {
				buf[p + 1] = (__u8)(n / 8 - 1);
				if (n > 8) /* padding option PadN over the rest */
					buf[p + 2] = 1, buf[p + 3] = (__u8)(n - 4);
			}
			p += n;
		}
		/* a later fragment's remaining headers are part of its data */
		*nh = (later && i < s->n_ext) ? s->ext[i] : s->proto;
		l4 = p;
		l4h = later ? 0 : l4_size(s);
		len = l4 + l4h + s->payload;
		if (len > cap)
			return 0;
		pkt_put16(buf + l3 + 4, (__u16)(len - l3 - 40));
	}
	if (l4h)
		write_l4(s, buf + l4, l4h + s->payload);
	memset(buf + l4 + l4h, 0xcd, s->payload);
	lay->l4 = l4;
	lay->pay = l4 + l4h;
	lay->has_l4 = !later && l4h;
	lay->len = len;
	return len;
}

int pkt_load_hex(const char *path, __u8 *b, size_t cap, size_t *n)
{
	FILE *f = fopen(path, "r");
	char line[1024], *p;
	unsigned int v;
	int used;

	if (!f)
		return -errno;
	*n = 0;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		for (p = line; sscanf(p, " %2x%n", &v, &used) == 1 && *n < cap; p += used)
			b[(*n)++] = (__u8)v;
	}
	fclose(f);
	return 0;
}

size_t pkt_build_tun(const struct pkt_tun *t, const __u8 *inner, size_t inner_len,
		     size_t inner_l3, __u8 *buf, size_t cap, struct pkt_tun_layout *tl)
{
	int eth_in = t->type == PKT_TUN_VXLAN || t->type == PKT_TUN_GRETAP ||
		     (t->type == PKT_TUN_GENEVE && (!t->geneve_proto || t->geneve_proto == 0x6558));
	const __u8 *in = eth_in ? inner : inner + inner_l3;
	size_t in_len = eth_in ? inner_len : inner_len - inner_l3, off, hl = 0, i;
	int inner_v6 = (inner[inner_l3] >> 4) == 6;

	memset(tl, 0, sizeof(*tl));
	if (cap < 14 + 40 + 64 + in_len)
		return 0;
	memset(buf, 0, cap);
	memcpy(buf, mac_b, 6);
	memcpy(buf + 6, mac_a, 6);
	pkt_put16(buf + 12, t->type == PKT_TUN_MPLS ? 0x8847 : t->family == 4 ? 0x0800 : 0x86dd);
	off = 14;
	tl->l3 = off;
	if (t->type == PKT_TUN_MPLS) {
		int n = t->mpls_labels ? t->mpls_labels : 1;

		tl->l4 = tl->tun = off;
		for (i = 0; i < (size_t)n; i++) {
			__u32 e = ((i ? 100 + i : t->id) & 0xfffff) << 12 | 64;

			if (i == (size_t)n - 1)
				e |= 0x100; /* bottom of stack */
			buf[off] = e >> 24;
			buf[off + 1] = e >> 16;
			buf[off + 2] = e >> 8;
			buf[off + 3] = e;
			off += 4;
		}
		tl->inner = off;
		memcpy(buf + off, in, in_len);
		tl->len = off + in_len;
		return tl->len;
	}
	off += t->family == 4 ? 20 : 40;
	tl->l4 = off;
	/* the tunnel header */
	switch (t->type) {
	case PKT_TUN_VXLAN:
	case PKT_TUN_GENEVE:
		pkt_put16(buf + off, t->udp_sport ? t->udp_sport : 49152);
		pkt_put16(buf + off + 2, t->udp_dport       ? t->udp_dport :
					 t->type == PKT_TUN_VXLAN ? 4789 :
								    6081);
		off += 8;
		tl->tun = off;
		if (t->type == PKT_TUN_VXLAN) {
			buf[off] = t->vxlan_flags ? t->vxlan_flags : 0x08;
			hl = 8;
		} else {
			buf[off] = (__u8)(t->geneve_ver << 6 | (t->geneve_opt / 4));
			pkt_put16(buf + off + 2, t->geneve_proto ? t->geneve_proto :
						 eth_in			 ? 0x6558 :
						 inner_v6		 ? 0x86dd :
									   0x0800);
			memset(buf + off + 8, 0x5a, t->geneve_opt);
			hl = 8 + t->geneve_opt;
		}
		buf[off + 4] = t->id >> 16;
		buf[off + 5] = t->id >> 8;
		buf[off + 6] = t->id;
		break;
	case PKT_TUN_GRE:
	case PKT_TUN_GRETAP: {
		__u16 fl = (t->gre_csum ? 0x8000 : 0) | (t->gre_routing ? 0x4000 : 0) |
			   (t->gre_key ? 0x2000 : 0) | (t->gre_seq ? 0x1000 : 0) | (t->gre_ver & 7);

		tl->tun = off;
		pkt_put16(buf + off, fl);
		pkt_put16(buf + off + 2, t->gre_proto     ? t->gre_proto :
					 t->type == PKT_TUN_GRETAP ? 0x6558 :
					 inner_v6		   ? 0x86dd :
								     0x0800);
		hl = 4;
		if (t->gre_csum)
			hl += 4;
		if (t->gre_key) {
			buf[off + hl] = t->id >> 24;
			buf[off + hl + 1] = t->id >> 16;
			buf[off + hl + 2] = t->id >> 8;
			buf[off + hl + 3] = t->id;
			hl += 4;
		}
		if (t->gre_seq)
			hl += 4;
		break;
	}
	default: /* IP in IP */
		tl->tun = off;
		break;
	}
	off += hl;
	tl->inner = off;
	memcpy(buf + off, in, in_len);
	tl->len = off + in_len;
	/* the outer IP header */
	if (t->family == 4) {
		__u8 *ip = buf + tl->l3;

		ip[0] = 0x45;
		ip[6] = t->outer_frag ? 0x20 : 0;
		ip[8] = 64;
		ip[9] = t->type == PKT_TUN_VXLAN || t->type == PKT_TUN_GENEVE ? 17 :
			t->type == PKT_TUN_IPIP ? (inner_v6 ? 41 : 4) : 47;
		memcpy(ip + 12, t->src, 4);
		memcpy(ip + 16, t->dst, 4);
	} else {
		__u8 *ip = buf + tl->l3;

		ip[0] = 0x60;
		ip[6] = t->type == PKT_TUN_VXLAN || t->type == PKT_TUN_GENEVE ? 17 :
			t->type == PKT_TUN_IPIP ? (inner_v6 ? 41 : 4) : 47;
		ip[7] = 64;
		memcpy(ip + 8, t->src, 16);
		memcpy(ip + 24, t->dst, 16);
	}
	pkt_tun_fix_len(t, tl, buf, tl->len);
	return tl->len;
}

void pkt_tun_fix_len(const struct pkt_tun *t, const struct pkt_tun_layout *tl, __u8 *buf, size_t n)
{
	if (t->type == PKT_TUN_MPLS || n <= tl->l3)
		return;
	if (t->family == 4)
		pkt_put16(buf + tl->l3 + 2, (__u16)(n - tl->l3));
	else
		pkt_put16(buf + tl->l3 + 4, (__u16)(n - tl->l3 - 40));
	if ((t->type == PKT_TUN_VXLAN || t->type == PKT_TUN_GENEVE) && n >= tl->l4 + 8)
		pkt_put16(buf + tl->l4 + 4, (__u16)(n - tl->l4));
}
