// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Fuzzer of the data path: feeds generated and mutated frames (random
 * bytes, valid packets of every kind with random truncation, bogus IHL and
 * length fields, VLAN stacks, IPv6 extension chains and loops, fragments,
 * jumbo and runt frames, plus the seed corpus) through the real XDP and TC
 * programs with BPF_PROG_TEST_RUN, one frame per call, and after every
 * batch compares the maps with an independent reference classifier
 * written here from the RFCs (791, 8200, 4302, 793, 768, 3828, 4960,
 * 792, 4443, IEEE 802.1Q/802.1ad) and nacct's documented contract, not
 * from maps/parse.h.  Every frame also goes through the key check
 * (keys.c): the side programs' parser must key it as the data path does.
 *
 * Usage: fuzz_prog [-v] [-c CORPUS_DIR] [-w OUT_DIR] [-l LAYOUT] PACKETS SEED
 *   -w writes the built-in interesting packets as hex corpus files;
 *   -l percpu|shared|both: the flow table layouts to fuzz (default both,
 *   each with PACKETS frames of the same SEED).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "harness.h"
#include "../../lib/snapshot.h"
#include "keys.h"
#include "maps.h"
#include "pkt.h"

#define BATCH 2000
#define FRAME_MAX 9216
/* test_run limits found on this kernel: an skb program takes at most
 * this many bytes, and a (non-frags) XDP program sees at most the first
 * XDP_LINEAR bytes of a longer frame (the rest goes to fragments it
 * cannot see; `nacct attach` never meets such frames, see the report) */
#define SKB_MAX 3712
#define XDP_LINEAR 3520
#define FLOWS_MAX 1024

#define U64(x) ((unsigned long long)(x))

/* ---- the reference classifier ------------------------------------------- */

enum { REF_IP = -1, REF_NONIP = -2 };

static __u16 rd16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

/*
 * Upper-layer header sizes nacct reads ports from; a datagram too short
 * to hold its header is malformed.  Other protocols: addresses only.
 */
static int ref_l4(__u8 proto, const __u8 *p, size_t n)
{
	size_t need;

	switch (proto) {
	case 6: /* RFC 793: 20 bytes, data offset >= 5 words, options inside */
		if (n < 20)
			return NACCT_MAL_L4;
		need = (size_t)(p[12] >> 4) * 4;
		return need < 20 || need > n ? NACCT_MAL_L4 : REF_IP;
	case 17:  /* RFC 768 */
	case 136: /* RFC 3828 UDP-Lite */
		need = 8;
		break;
	case 132: /* RFC 4960 common header */
		need = 12;
		break;
	case 1:  /* RFC 792 */
	case 58: /* RFC 4443 */
		need = 8;
		break;
	default:
		return REF_IP;
	}
	return n < need ? NACCT_MAL_L4 : REF_IP;
}

/* where an IP packet's upper layer is (for the tunnels) */
struct ref_l4 {
	__u8 proto;
	size_t off, len; /* from the IP header; bytes of the datagram from there */
	int frag;        /* a fragment: tunnels in it are not opened */
};

/* RFC 791.  @n: bytes from the IP header to the end of the frame */
static int ref_ipv4(const __u8 *p, size_t n, struct ref_l4 *l4)
{
	size_t ihl, tot, dlen;

	if (n < 20 || p[0] >> 4 != 4)
		return NACCT_MAL_IP4_HDR;
	ihl = (size_t)(p[0] & 15) * 4;
	if (ihl < 20 || ihl > n)
		return NACCT_MAL_IP4_HDR;
	tot = rd16(p + 2);
	/* total length 0 stands for "the frame" (GSO super-packets) */
	if (tot && (tot < ihl || tot > n))
		return NACCT_MAL_IP4_LEN;
	dlen = tot ? tot : n;
	l4->proto = p[9];
	l4->off = ihl;
	l4->len = dlen - ihl;
	l4->frag = (rd16(p + 6) & 0x3fff) != 0;
	if (rd16(p + 6) & 0x1fff)
		return REF_IP; /* a later fragment carries no upper-layer header */
	return ref_l4(p[9], p + ihl, dlen - ihl);
}

static int is_v6_ext(__u8 nh)
{
	/* RFC 8200 section 4, RFC 4302 (AH), 6275 (mobility), 7401 (HIP), 5533 (shim6) */
	return nh == 0 || nh == 43 || nh == 44 || nh == 51 || nh == 60 || nh == 135 ||
	       nh == 139 || nh == 140;
}

/* RFC 8200 */
static int ref_ipv6(const __u8 *p, size_t n, struct ref_l4 *l4)
{
	size_t plen, rem, off = 40, len;
	int count = 0;
	__u8 nh;

	if (n < 40 || p[0] >> 4 != 6)
		return NACCT_MAL_IP6_HDR;
	plen = rd16(p + 4);
	if (plen && 40 + plen > n)
		return NACCT_MAL_IP6_HDR;
	rem = plen ? plen : n - 40; /* 0: jumbogram / GSO, bounded by the frame */
	nh = p[6];
	while (is_v6_ext(nh)) {
		if (count++ == NACCT_MAX_IPV6_EXT)
			return NACCT_MAL_IP6_EXT; /* longer than nacct walks */
		if (nh == 44) {
			if (rem < 8)
				return NACCT_MAL_IP6_EXT;
			nh = p[off];
			/* an atomic fragment (offset 0, no M) is no fragment */
			if (rd16(p + off + 2) & 0xfff9)
				l4->frag = 1;
			if (rd16(p + off + 2) & 0xfff8)
				return REF_IP; /* later fragment */
			off += 8;
			rem -= 8;
			continue;
		}
		if (rem < 2)
			return NACCT_MAL_IP6_EXT;
		len = nh == 51 ? ((size_t)p[off + 1] + 2) * 4 : ((size_t)p[off + 1] + 1) * 8;
		if (len > rem)
			return NACCT_MAL_IP6_EXT;
		nh = p[off];
		off += len;
		rem -= len;
	}
	l4->proto = nh;
	l4->off = off;
	l4->len = rem;
	return ref_l4(nh, p + off, rem);
}

/*
 * Tunnels, as nacct's README "Tunnels" states them, from RFC 7348
 * (VXLAN), 8926 (Geneve), 2784/2890 (GRE), 2003/4213/2473 (IP in IP),
 * 3032 (MPLS): one level, the inner packet classified like an outer one
 * (any failure: inner_header), a bad tunnel header tunnel_header, a
 * payload not decoded the outer flow (MPLS: non-IP 0x8847).
 */
#define REF_TUN_MAX_OFF 1024 /* the tunnel header's offset nacct opens up to */

static int ref_inner_ip(__u16 et, const __u8 *p, size_t n)
{
	struct ref_l4 l4 = { 0 };
	int c = et == 0x0800 ? ref_ipv4(p, n, &l4) : ref_ipv6(p, n, &l4);

	return c == REF_IP ? REF_IP : NACCT_MAL_INNER;
}

/* Ethernet inside (IEEE 802.3, up to two 802.1Q/802.1ad tags) */
static int ref_inner_eth(const __u8 *p, size_t n)
{
	size_t off = 14;
	int tags = 0;
	__u16 t;

	if (n < 14)
		return NACCT_MAL_INNER;
	t = rd16(p + 12);
	while (t == 0x8100 || t == 0x88a8) {
		if (tags == NACCT_MAX_VLAN_DEPTH || n < off + 4)
			return NACCT_MAL_INNER;
		t = rd16(p + off + 2);
		off += 4;
		tags++;
	}
	if (t != 0x0800 && t != 0x86dd)
		return REF_IP; /* not decoded: the outer flow */
	return ref_inner_ip(t, p + off, n - off);
}

static int ref_payload(__u16 et, const __u8 *p, size_t n)
{
	if (et == 0x6558)
		return ref_inner_eth(p, n);
	if (et == 0x0800 || et == 0x86dd)
		return ref_inner_ip(et, p, n);
	return REF_IP; /* the outer flow */
}

/* @p: the outer L4 header, @n the datagram's bytes from it */
static int ref_tunnel(const struct ref_l4 *l4, size_t frame_off, const __u8 *p, size_t n)
{
	size_t hl;
	__u16 f;

	if (l4->frag || frame_off > REF_TUN_MAX_OFF)
		return REF_IP;
	switch (l4->proto) {
	case 17:
		f = rd16(p + 2); /* destination port */
		p += 8;
		n -= 8;
		if (f == 4789 || f == 8472) {
			if (n < 8 || !(p[0] & 0x08))
				return NACCT_MAL_TUN_HDR;
			return ref_inner_eth(p + 8, n - 8);
		}
		if (f == 6081) {
			if (n < 8 || p[0] >> 6)
				return NACCT_MAL_TUN_HDR;
			hl = 8 + (size_t)(p[0] & 0x3f) * 4;
			if (hl > n)
				return NACCT_MAL_TUN_HDR;
			return ref_payload(rd16(p + 2), p + hl, n - hl);
		}
		return REF_IP;
	case 47:
		if (n < 4)
			return NACCT_MAL_TUN_HDR;
		f = rd16(p);
		if (f & 0x4000)
			return NACCT_MAL_TUN_HDR; /* routing present: RFC 2784 obsoletes it */
		if (f & 7)
			return REF_IP; /* version 1 (PPTP): not decoded */
		hl = 4 + (f & 0x8000 ? 4 : 0) + (f & 0x2000 ? 4 : 0) + (f & 0x1000 ? 4 : 0);
		if (hl > n)
			return NACCT_MAL_TUN_HDR;
		return ref_payload(rd16(p + 2), p + hl, n - hl);
	case 4:
		return ref_inner_ip(0x0800, p, n);
	case 41:
		return ref_inner_ip(0x86dd, p, n);
	default:
		return REF_IP;
	}
}

/* RFC 3032 label stack after the Ethernet header (@n: frame bytes) */
static int ref_mpls(const __u8 *p, size_t n)
{
	size_t off = 0;
	int i;

	for (i = 0; i < NACCT_MAX_MPLS; i++) {
		if (n < off + 4)
			return NACCT_MAL_TUN_HDR;
		off += 4;
		if (p[off - 2] & 1) /* bottom of stack */
			break;
	}
	if (!(p[off - 2] & 1))
		return REF_NONIP; /* deeper than nacct walks */
	if (n <= off)
		return NACCT_MAL_TUN_HDR;
	switch (p[off] >> 4) {
	case 4:
		return ref_inner_ip(0x0800, p + off, n - off);
	case 6:
		return ref_inner_ip(0x86dd, p + off, n - off);
	default:
		return REF_NONIP;
	}
}

/* class of a frame as the program sees it (@n bytes) */
static int ref_classify(const __u8 *p, size_t n, __u16 *ethertype)
{
	size_t off = 14;
	int tags = 0;
	__u16 t;

	if (n < 14)
		return NACCT_MAL_ETH;
	t = rd16(p + 12);
	while (t == 0x8100 || t == 0x88a8) {
		/* a C-tag under an S-tag is as deep as nacct goes */
		if (tags == NACCT_MAX_VLAN_DEPTH || n < off + 4)
			return NACCT_MAL_VLAN;
		t = rd16(p + off + 2);
		off += 4;
		tags++;
	}
	if (t == 0x0800 || t == 0x86dd) {
		struct ref_l4 l4 = { 0 };
		int c = t == 0x0800 ? ref_ipv4(p + off, n - off, &l4) :
				      ref_ipv6(p + off, n - off, &l4);

		if (c != REF_IP)
			return c;
		return ref_tunnel(&l4, off + l4.off, p + off + l4.off, l4.len);
	}
	*ethertype = t;
	if (t == 0x8847) {
		int c = ref_mpls(p + off, n - off);

		return c;
	}
	return REF_NONIP;
}

/* ---- generation ----------------------------------------------------------- */

static __u64 rng_state;

static __u64 rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static __u32 rn(__u32 n)
{
	return n ? (__u32)(rnd() % n) : 0;
}

struct corpus {
	size_t n;
	__u8 *data[256];
	size_t len[256];
};

static struct corpus corpus;

static const __u8 protos[] = { PKT_P_TCP, PKT_P_UDP, PKT_P_ICMP, PKT_P_ICMPV6,
			       PKT_P_SCTP, PKT_P_UDPLITE, 47, 253, 59 };
static const __u8 exts[] = { 0, 43, 60, 51, 44, 135, 139, 140 };

static void random_spec(struct pkt_spec *s, int jumbo)
{
	int fam = rn(20) == 0 ? 0 : rn(2) ? 4 : 6, i, r;
	__u8 proto = rn(8) ? protos[rn(sizeof(protos))] : (__u8)rn(256);

	pkt_spec_init(s, fam, proto, (__u16)(1000 + rn(16)), (__u16)(1000 + rn(16)));
	if (fam == 4) {
		pkt_addr4(s->src, 198, 18, 0, (__u8)rn(8));
		pkt_addr4(s->dst, 198, 18, 0, (__u8)rn(8));
	} else if (fam == 6) {
		pkt_addr6(s->src, 1, (__u16)rn(8));
		pkt_addr6(s->dst, 1, (__u16)rn(8));
	} else {
		s->ethertype = rn(2) ? 0x0806 : (__u16)rn(0x10000);
		if (s->ethertype == 0x0800 || s->ethertype == 0x86dd)
			s->ethertype = 0x88cc;
	}
	r = rn(20);
	s->nvlan = r < 14 ? 0 : r < 17 ? 1 : r < 19 ? 2 : 3;
	for (i = 0; i < s->nvlan; i++) {
		s->vlan_tpid[i] = rn(2) ? 0x8100 : 0x88a8;
		s->vlan_vid[i] = (__u16)rn(0x10000);
	}
	if (proto == PKT_P_ICMP || proto == PKT_P_ICMPV6)
		s->icmp_type = (__u8)(rn(2) ? (proto == PKT_P_ICMP ? 8 : 128) : rn(256));
	s->tcp_flags = (__u8)rn(256);
	if (proto == PKT_P_TCP && rn(3) == 0)
		s->tcp_opt = 4 * (int)rn(11);
	if (fam == 4 && rn(4) == 0)
		s->ip4_opt = 4 * (int)rn(11);
	if (fam == 6 && rn(3) == 0) {
		s->n_ext = (int)rn(11);
		for (i = 0; i < s->n_ext; i++)
			s->ext[i] = exts[rn(sizeof(exts))];
	}
	if (rn(5) == 0) {
		s->frag = fam == 4;
		if (fam == 6 && s->n_ext < 31)
			s->ext[s->n_ext++] = 44;
		s->frag_off = (__u16)(rn(2) ? 0 : rn(400));
		s->frag_mf = (int)rn(2);
		s->frag_id = rn(4);
	}
	s->payload = (int)(rn(4) == 0 ? rn(1500) : rn(64));
	if (jumbo)
		s->payload = 9000 - 200 + (int)rn(150);
}

/* one frame into @b; returns its length */
static size_t gen(__u8 *b)
{
	struct pkt_layout l;
	struct pkt_spec s;
	size_t n, i, k;
	int r = (int)rn(100);

	if (r < 6) { /* random bytes, often behind a plausible ethertype */
		static const __u16 et[] = { 0x0800, 0x86dd, 0x8100, 0x88a8, 0x0806 };

		n = rn(160);
		for (i = 0; i < n; i++)
			b[i] = (__u8)rnd();
		if (n >= 14 && rn(4))
			pkt_put16(b + 12, et[rn(5)]);
		if (n >= 15 && rn(2))
			b[14] = rn(2) ? 0x45 : 0x60;
		return n;
	}
	if (r < 9) { /* runt */
		n = rn(60);
		for (i = 0; i < n; i++)
			b[i] = (__u8)rnd();
		if (n >= 14)
			pkt_put16(b + 12, rn(2) ? 0x0800 : 0x86dd);
		return n;
	}
	if (r < 15 && corpus.n) { /* a corpus packet, perhaps mutated below */
		k = rn((__u32)corpus.n);
		n = corpus.len[k];
		memcpy(b, corpus.data[k], n);
		memset(&l, 0, sizeof(l));
		l.l3 = 14;
		l.l4 = 34;
	} else if (r >= 17 && r < 29) {
		/* a tunnel around a random packet (mutated below like any) */
		static __u8 in[FRAME_MAX];
		struct pkt_tun_layout tl;
		struct pkt_layout il;
		struct pkt_tun t;
		size_t m;

		random_spec(&s, 0);
		if (s.payload > 1200)
			s.payload = 1200;
		if (!s.family && rn(2)) /* mostly IP inside */
			s.family = rn(2) ? 4 : 6;
		m = pkt_build(&s, in, sizeof(in), &il);
		if (!m)
			return 0;
		memset(&t, 0, sizeof(t));
		t.type = 1 + (int)rn(PKT_TUN_MPLS);
		t.family = rn(2) ? 4 : 6;
		if (t.family == 4) {
			pkt_addr4(t.src, 198, 18, 1, (__u8)rn(4));
			pkt_addr4(t.dst, 198, 18, 1, (__u8)rn(4));
		} else {
			pkt_addr6(t.src, 2, (__u16)rn(4));
			pkt_addr6(t.dst, 2, (__u16)rn(4));
		}
		t.id = rn(4) ? rn(8) : (__u32)rnd();
		t.udp_dport = t.type == PKT_TUN_VXLAN && rn(2) ? 8472 : 0;
		t.gre_csum = (int)rn(2);
		t.gre_key = (int)rn(2);
		t.gre_seq = (int)rn(2);
		t.gre_routing = rn(16) == 0;
		t.gre_ver = rn(16) == 0;
		t.geneve_opt = rn(2) ? 4 * (int)rn(64) : 0;
		t.geneve_ver = rn(16) == 0;
		t.geneve_proto = rn(4) ? 0 : rn(2) ? 0x0800 : 0x86dd;
		t.vxlan_flags = rn(16) ? 0 : (__u8)rnd();
		t.mpls_labels = 1 + (int)rn(NACCT_MAX_MPLS + 1);
		t.outer_frag = rn(16) == 0;
		if (!s.family && t.type != PKT_TUN_VXLAN && t.type != PKT_TUN_GRETAP &&
		    t.type != PKT_TUN_GENEVE)
			t.type = PKT_TUN_VXLAN; /* IP-only tunnels take IP */
		n = pkt_build_tun(&t, in, m, il.l3, b, FRAME_MAX, &tl);
		if (!n)
			return 0;
		memset(&l, 0, sizeof(l));
		l.l3 = tl.l3;
		l.l4 = tl.l4;
		if (t.type == PKT_TUN_MPLS)
			l.l3 = l.l4 = tl.inner; /* the mutations below hit the inner IP header */
	} else {
		random_spec(&s, r < 17);
		n = pkt_build(&s, b, FRAME_MAX, &l);
		if (!n)
			return 0;
	}
	switch (rn(12)) {
	case 0:
	case 1:
	case 2:
		break;
	case 3: /* cut anywhere */
		n = rn((__u32)n + 1);
		break;
	case 4: /* cut, and make the IP length fields agree */
		n = rn((__u32)n + 1);
		if (n >= l.l3 + 4 && (b[l.l3] >> 4) == 4)
			pkt_put16(b + l.l3 + 2, (__u16)(n - l.l3));
		else if (n >= l.l3 + 40 && (b[l.l3] >> 4) == 6)
			pkt_put16(b + l.l3 + 4, (__u16)(n - l.l3 - 40));
		break;
	case 5: /* bogus IHL / version nibble */
		if (n > l.l3)
			b[l.l3] = rn(2) ? (__u8)((b[l.l3] & 0xf0) | rn(16)) : (__u8)rnd();
		break;
	case 6: /* bogus total length / payload length */
		if (n >= l.l3 + 6) {
			__u16 v = rn(2) ? (__u16)rnd() : (__u16)(n - l.l3 - 40 + rn(9) - 4);

			pkt_put16(b + l.l3 + ((b[l.l3] >> 4) == 6 ? 4 : 2), v);
		}
		break;
	case 7: /* bogus TCP data offset */
		if (n > l.l4 + 12)
			b[l.l4 + 12] = (__u8)(rn(16) << 4);
		break;
	case 8: /* IPv6 extension chain: next-header loops and bogus lengths */
		for (i = l.l3 + 40; i + 2 <= n && i < l.l3 + 40 + 64; i += 8) {
			if (rn(2))
				b[i] = exts[rn(sizeof(exts))];
			if (rn(4) == 0)
				b[i + 1] = (__u8)rn(4);
		}
		if (n > l.l3 + 6 && rn(2))
			b[l.l3 + 6] = exts[rn(sizeof(exts))];
		break;
	case 9: /* VLAN stack on top */
		k = 1 + rn(3);
		if (n + 4 * k <= FRAME_MAX && n >= 14) {
			memmove(b + 12 + 4 * k, b + 12, n - 12);
			for (i = 0; i < k; i++) {
				pkt_put16(b + 12 + 4 * i, rn(2) ? 0x8100 : 0x88a8);
				pkt_put16(b + 14 + 4 * i, (__u16)rnd());
			}
			n += 4 * k;
		}
		break;
	default: /* a few random bytes in the headers */
		k = 1 + rn(4);
		for (i = 0; i < k && n; i++)
			b[rn((__u32)(n < 96 ? n : 96))] = (__u8)rnd();
		break;
	}
	return n;
}

/* ---- corpus files: hex bytes, '#' comments ---------------------------------- */

static void load_corpus(const char *dir)
{
	struct dirent *de;
	char path[512];
	DIR *d = opendir(dir);
	size_t n = 0;

	if (!d)
		return;
	while ((de = readdir(d)) && corpus.n < 256) {
		if (!strstr(de->d_name, ".hex"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		corpus.data[corpus.n] = malloc(FRAME_MAX);
		if (!corpus.data[corpus.n] ||
		    pkt_load_hex(path, corpus.data[corpus.n], FRAME_MAX, &n)) {
			free(corpus.data[corpus.n]);
			continue;
		}
		corpus.len[corpus.n++] = n;
	}
	closedir(d);
}

static int write_hex(const char *dir, const char *name, const char *what, const __u8 *b,
		     size_t n)
{
	char path[512];
	FILE *f;
	size_t i;

	snprintf(path, sizeof(path), "%s/%s.hex", dir, name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "# %s\n# %zu bytes\n", what, n);
	for (i = 0; i < n; i++)
		fprintf(f, "%02x%s", b[i], (i % 16 == 15 || i + 1 == n) ? "\n" : " ");
	fclose(f);
	return 0;
}

/* the seed corpus: packets that found bugs or sit on a boundary */
static int write_corpus(const char *dir)
{
	static __u8 b[FRAME_MAX];
	struct pkt_layout l;
	struct pkt_spec s;
	size_t n;
	int i;

	pkt_spec_init(&s, 4, PKT_P_TCP, 1234, 80);
	n = pkt_build(&s, b, sizeof(b), &l);
	pkt_put16(b + l.l3 + 2, 20);
	n = 60;
	write_hex(dir, "ip4_totlen_ends_before_tcp", "IPv4 total length 20, TCP header only in the "
		  "Ethernet padding: malformed l4 (parser read the padding as TCP)", b, n);

	pkt_spec_init(&s, 4, PKT_P_TCP, 1234, 80);
	s.payload = 8;
	n = pkt_build(&s, b, sizeof(b), &l);
	b[l.l4 + 12] = 15 << 4;
	write_hex(dir, "tcp_doff_beyond_datagram", "TCP data offset 15 with 28 bytes of TCP: "
		  "malformed l4 (parser accepted it)", b, n);

	pkt_spec_init(&s, 6, PKT_P_TCP, 1234, 80);
	s.n_ext = NACCT_MAX_IPV6_EXT;
	for (i = 0; i < s.n_ext; i++)
		s.ext[i] = i ? 60 : 0;
	n = pkt_build(&s, b, sizeof(b), &l);
	write_hex(dir, "ip6_ext_chain_8", "8 IPv6 extension headers: valid (parser allowed 7)", b,
		  n);
	s.n_ext++;
	s.ext[s.n_ext - 1] = 60;
	n = pkt_build(&s, b, sizeof(b), &l);
	write_hex(dir, "ip6_ext_chain_9", "9 IPv6 extension headers: malformed ip6_ext", b, n);

	pkt_spec_init(&s, 6, PKT_P_TCP, 1234, 80);
	s.n_ext = 1;
	s.payload = 40;
	n = pkt_build(&s, b, sizeof(b), &l);
	pkt_put16(b + l.l3 + 4, 4);
	write_hex(dir, "ip6_hbh_beyond_payload_len", "hop-by-hop header beyond payload_len 4: "
		  "malformed ip6_ext (parser walked past the datagram)", b, n);

	pkt_spec_init(&s, 6, PKT_P_UDP, 53, 53);
	s.payload = 20;
	n = pkt_build(&s, b, sizeof(b), &l);
	pkt_put16(b + l.l3 + 4, 4);
	write_hex(dir, "ip6_plen_half_udp", "IPv6 payload_len 4 with a UDP header: malformed l4",
		  b, n);

	pkt_spec_init(&s, 6, 253, 0, 0);
	s.payload = 200;
	n = pkt_build(&s, b, sizeof(b), &l);
	b[l.l3 + 6] = 60;
	for (i = 0; l.l3 + 40 + 8 * i + 8 <= n; i++)
		b[l.l3 + 40 + 8 * i] = 60, b[l.l3 + 41 + 8 * i] = 0;
	write_hex(dir, "ip6_ext_endless", "destination options pointing to themselves", b, n);

	pkt_spec_init(&s, 4, PKT_P_UDP, 5000, 53);
	s.frag = 1;
	s.frag_off = 100;
	n = pkt_build(&s, b, sizeof(b), &l);
	write_hex(dir, "ip4_orphan_fragment", "IPv4 later fragment without its first", b, n);

	pkt_spec_init(&s, 6, PKT_P_UDP, 6000, 6001);
	s.n_ext = 2;
	s.ext[0] = 0;
	s.ext[1] = 44;
	s.frag_mf = 1;
	s.payload = 64;
	n = pkt_build(&s, b, sizeof(b), &l);
	write_hex(dir, "ip6_first_fragment", "IPv6 hop-by-hop + first fragment of UDP", b, n);

	pkt_spec_init(&s, 4, PKT_P_UDP, 1, 2);
	s.nvlan = 3;
	s.vlan_tpid[0] = 0x88a8;
	s.vlan_tpid[1] = s.vlan_tpid[2] = 0x8100;
	n = pkt_build(&s, b, sizeof(b), &l);
	write_hex(dir, "vlan_three_tags", "802.1ad + two 802.1Q tags: malformed vlan", b, n);

	pkt_spec_init(&s, 4, PKT_P_TCP, 1, 2);
	s.ip4_opt = 40;
	n = pkt_build(&s, b, sizeof(b), &l);
	write_hex(dir, "ip4_ihl15", "IPv4 with 40 bytes of options", b, n);

	/* tunnels (README "Tunnels") */
	{
		static __u8 in[FRAME_MAX];
		struct pkt_tun_layout tl;
		struct pkt_tun t;
		size_t m;

		pkt_spec_init(&s, 4, PKT_P_TCP, 40000, 443);
		m = pkt_build(&s, in, sizeof(in), &l);
		memset(&t, 0, sizeof(t));
		t.type = PKT_TUN_VXLAN;
		t.family = 4;
		t.id = 100;
		pkt_addr4(t.src, 198, 18, 9, 1);
		pkt_addr4(t.dst, 198, 18, 9, 2);
		n = pkt_build_tun(&t, in, m, l.l3, b, sizeof(b), &tl);
		write_hex(dir, "tun_vxlan_tcp", "VXLAN VNI 100 carrying TCP: the inner flow", b, n);
		pkt_tun_fix_len(&t, &tl, b, tl.tun + 5);
		write_hex(dir, "tun_vxlan_cut", "VXLAN header cut after 5 bytes: malformed tunnel_header",
			  b, tl.tun + 5);

		t.type = PKT_TUN_GENEVE;
		t.family = 6;
		pkt_addr6(t.src, 9, 1);
		pkt_addr6(t.dst, 9, 2);
		t.geneve_opt = 252;
		n = pkt_build_tun(&t, in, m, l.l3, b, sizeof(b), &tl);
		write_hex(dir, "tun_geneve_max_opts", "Geneve over IPv6 with 252 option bytes", b, n);

		t.type = PKT_TUN_GRE;
		t.family = 4;
		t.gre_csum = t.gre_key = t.gre_seq = 1;
		n = pkt_build_tun(&t, in, m, l.l3, b, sizeof(b), &tl);
		write_hex(dir, "tun_gre_all_flags", "GRE with checksum, key and sequence number", b, n);
		pkt_tun_fix_len(&t, &tl, b, tl.inner + 10);
		write_hex(dir, "tun_gre_inner_cut", "GRE whose inner IPv4 header is cut: malformed "
			  "inner_header", b, tl.inner + 10);

		pkt_spec_init(&s, 6, PKT_P_UDP, 53, 53);
		m = pkt_build(&s, in, sizeof(in), &l);
		t.type = PKT_TUN_MPLS;
		t.mpls_labels = NACCT_MAX_MPLS;
		n = pkt_build_tun(&t, in, m, l.l3, b, sizeof(b), &tl);
		write_hex(dir, "tun_mpls_4_labels_ip6", "MPLS, 4 labels, IPv6 after the bottom one", b,
			  n);
		t.type = PKT_TUN_IPIP;
		t.family = 6;
		n = pkt_build_tun(&t, in, m, l.l3, b, sizeof(b), &tl);
		write_hex(dir, "tun_ip6ip6", "IPv6 in IPv6", b, n);
	}
	return 0;
}

/* ---- the run ------------------------------------------------------------- */

struct expect {
	__u64 packets[2], bytes[2];
	__u64 mal_packets[2], mal_bytes[2], mal[NACCT_MAL_MAX];
	__u64 nonip_packets[2], nonip_bytes[2];
	__u64 ip_packets[2], ip_bytes[2];
};

struct frame {
	__u32 len;
	__u8 hook;
	__u8 data[FRAME_MAX];
};

static struct frame *batch;

static void hexdump(const __u8 *b, size_t n)
{
	char line[80];
	size_t i, off = 0;

	for (i = 0; i < n && i < 256; i++) {
		off += snprintf(line + off, sizeof(line) - off, "%02x", b[i]);
		if (i % 16 == 15 || i + 1 == n || i == 255) {
			ut_diag("  %s", line);
			off = 0;
		}
	}
}

static void account(struct expect *e, int dir, size_t seen, int cls)
{
	e->packets[dir]++;
	e->bytes[dir] += seen;
	if (cls == REF_IP) {
		e->ip_packets[dir]++;
		e->ip_bytes[dir] += seen;
	} else if (cls == REF_NONIP) {
		e->nonip_packets[dir]++;
		e->nonip_bytes[dir] += seen;
	} else {
		e->mal_packets[dir]++;
		e->mal_bytes[dir] += seen;
		e->mal[cls]++;
	}
}

/* compare the maps with @e; returns 0 or a description in @why */
static int compare(struct ut *u, const struct expect *e, char *why, size_t wlen)
{
	struct nacct_stats st;
	struct nacct_flow *fl = NULL;
	size_t nf = 0, i, off = 0;
	__u64 fp[2] = {}, fb[2] = {};
	int d, r, bad = 0;

	why[0] = '\0';
	if (ut_stats(u, &st) || nacct_dump_flows(u->flows, 0, &fl, &nf)) {
		snprintf(why, wlen, "cannot read the maps");
		return -1;
	}
	for (i = 0; i < nf; i++)
		for (d = 0; d < 2; d++) {
			fp[d] += fl[i].val.packets[d];
			fb[d] += fl[i].val.bytes[d];
		}
	free(fl);
#define MISMATCH(what, got, want)                                                      \
	do {                                                                           \
		if ((got) != (want)) {                                                 \
			bad |= 1;                                                      \
			if (off < wlen)                                                \
				off += snprintf(why + off, wlen - off,                 \
						"%s: got %llu, expected %llu\n", what, \
						U64(got), U64(want));                  \
		}                                                                      \
	} while (0)
	for (d = 0; d < 2; d++) {
		MISMATCH(d ? "tx packets" : "rx packets", st.packets[d], e->packets[d]);
		MISMATCH(d ? "tx bytes" : "rx bytes", st.bytes[d], e->bytes[d]);
		MISMATCH(d ? "tx malformed" : "rx malformed", st.malformed_packets[d],
			 e->mal_packets[d]);
		MISMATCH(d ? "tx malformed bytes" : "rx malformed bytes", st.malformed_bytes[d],
			 e->mal_bytes[d]);
		MISMATCH(d ? "tx nonip" : "rx nonip", st.nonip_packets[d], e->nonip_packets[d]);
		MISMATCH(d ? "tx nonip bytes" : "rx nonip bytes", st.nonip_bytes[d],
			 e->nonip_bytes[d]);
		MISMATCH(d ? "tx flows+overflow" : "rx flows+overflow",
			 fp[d] + st.overflow_packets[d], e->ip_packets[d]);
		MISMATCH(d ? "tx flows+overflow bytes" : "rx flows+overflow bytes",
			 fb[d] + st.overflow_bytes[d], e->ip_bytes[d]);
		MISMATCH(d ? "tx conservation" : "rx conservation",
			 fp[d] + st.overflow_packets[d] + st.malformed_packets[d] +
				 st.nonip_packets[d],
			 st.packets[d]);
	}
	for (r = 0; r < NACCT_MAL_MAX; r++) {
		char w[32];

		snprintf(w, sizeof(w), "malformed %s", ut_mal_name(r));
		MISMATCH(w, st.malformed[r], e->mal[r]);
	}
#undef MISMATCH
	return bad ? -1 : 0;
}

static int expect_refused(enum ut_hook h, const __u8 *b, size_t n)
{
	return ut_refused(h, b, n) || (h != UT_XDP && n > SKB_MAX);
}

static size_t seen_len(enum ut_hook h, size_t n)
{
	return h == UT_XDP && n > XDP_LINEAR ? XDP_LINEAR : n;
}

/* after a mismatch: replay the batch one frame at a time to name the culprit */
static void find_culprit(struct ut *u, int nb)
{
	struct expect e;
	char why[1024];
	__u16 et;
	int i, verdict;

	for (i = 0; i < nb; i++) {
		struct frame *f = &batch[i];
		size_t seen = seen_len(f->hook, f->len);
		int cls;

		ut_reset(u);
		memset(&e, 0, sizeof(e));
		if (ut_run(u, f->hook, f->data, f->len, NULL, &verdict))
			continue;
		cls = ref_classify(f->data, seen, &et);
		account(&e, f->hook == UT_TC_EGRESS, seen, cls);
		if (compare(u, &e, why, sizeof(why))) {
			ut_diag("first differing frame (%u bytes, %s, reference: %s):",
				f->len, ut_hook_name(f->hook),
				cls == REF_IP ? "ip" : cls == REF_NONIP ? "non-ip" :
				ut_mal_name(cls));
			ut_diag("%s", why);
			hexdump(f->data, f->len);
			return;
		}
	}
	ut_diag("no single frame differs alone (state across frames?)");
}

/* one fuzz run of @npk frames on a fresh load with flow table @layout */
static void fuzz_run(unsigned long long npk, unsigned long long seed, __u32 layout)
{
	unsigned long long fed = 0, refused = 0, bad_verdict = 0, bad_refusal = 0;
	unsigned long long batches = 0, bad_batches = 0, jumbo_xdp = 0, ci = 0, k;
	struct timespec t0, t1, r0, r1;
	double run_ns = 0, wall;
	char why[2048], first_why[2200] = "";
	struct expect e;
	struct ut u;
	int nb;

	rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
	if (ut_load(&u, &(struct ut_opts){ .max_flows = FLOWS_MAX, .flow_layout = layout })) {
		ut_check(0, "fuzz_load", "cannot load the programs");
		return;
	}
	if (!ut_check(keys_init() == 0, "fuzz_keys_load", "cannot load the key check object: %s",
		      strerror(errno))) {
		ut_unload(&u);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (fed + refused < npk) {
		ut_reset(&u);
		memset(&e, 0, sizeof(e));
		for (nb = 0; nb < BATCH && fed + refused < npk;) {
			struct frame *f = &batch[nb];
			enum ut_hook h = (enum ut_hook)rn(3);
			int verdict = 0, err, want_refused, cls;
			size_t n, seen;
			__u16 et;

			/* the corpus first, through every hook, then generated frames */
			if (ci < corpus.n * 3) {
				n = corpus.len[ci / 3];
				memcpy(f->data, corpus.data[ci / 3], n);
				h = (enum ut_hook)(ci % 3);
				ci++;
			} else {
				n = gen(f->data);
			}
			if (n > SKB_MAX && rn(8))
				h = UT_XDP; /* jumbo frames: mostly where they are accepted */
			f->len = (__u32)n;
			f->hook = (__u8)h;
			want_refused = expect_refused(h, f->data, n);
			clock_gettime(CLOCK_MONOTONIC, &r0);
			err = ut_run(&u, h, f->data, (__u32)n, NULL, &verdict);
			clock_gettime(CLOCK_MONOTONIC, &r1);
			run_ns += (r1.tv_sec - r0.tv_sec) * 1e9 + (r1.tv_nsec - r0.tv_nsec);
			/* the side programs' parser must key it alike (outside the timing) */
			keys_frame(f->data, (__u32)n);
			if (err) {
				if (!want_refused || err != -EINVAL) {
					if (!bad_refusal++) {
						ut_diag("test_run refused a %zu-byte frame on %s: %s",
							n, ut_hook_name(h), strerror(-err));
						hexdump(f->data, n);
					}
				}
				refused++;
				continue;
			}
			if (want_refused && !bad_refusal++)
				ut_diag("test_run accepted a %zu-byte frame on %s the model refuses",
					n, ut_hook_name(h));
			if (verdict != ut_pass_verdict(h))
				bad_verdict++;
			seen = seen_len(h, n);
			jumbo_xdp += seen != n;
			cls = ref_classify(f->data, seen, &et);
			account(&e, h == UT_TC_EGRESS, seen, cls);
			fed++;
			nb++;
		}
		batches++;
		if (compare(&u, &e, why, sizeof(why))) {
			if (!bad_batches++) {
				snprintf(first_why, sizeof(first_why), "batch %llu (seed %llu):\n%s",
					 batches, seed, why);
				ut_diag("%s", first_why);
				find_culprit(&u, nb);
			}
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	wall = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
	k = fed + refused;

	ut_check(bad_verdict == 0, "fuzz_verdict_always_pass", "%llu frames with another verdict",
		 bad_verdict);
	ut_check(bad_refusal == 0, "fuzz_test_run_refusals_match_model",
		 "%llu frames refused or accepted against the model", bad_refusal);
	ut_check(bad_batches == 0, "fuzz_maps_match_reference_every_batch",
		 "%llu of %llu batches differ; first: %s", bad_batches, batches, first_why);
	keys_report("fuzz_keys_side_parser_agrees");
	keys_fini();
	ut_diag("fuzz: %llu frames (%llu fed, %llu refused by test_run, %llu jumbo on XDP), "
		"%zu corpus files, seed %llu, %llu batches, %s flow table",
		k, fed, refused, jumbo_xdp, corpus.n, seed, batches,
		layout == NACCT_FLOW_SHARED ? "shared" : "per-CPU");
	ut_diag("fuzz: %.0f ns/frame in BPF_PROG_TEST_RUN, %.0f ns/frame overall (%.1f s)",
		run_ns / (double)k, wall / (double)k, wall / 1e9);
	ut_unload(&u);
}

int main(int argc, char **argv)
{
	const char *cdir = "tests/unit/corpus", *wdir = NULL, *layouts = "both";
	unsigned long long npk, seed;
	int opt;

	while ((opt = getopt(argc, argv, "vc:w:l:")) != -1) {
		switch (opt) {
		case 'v':
			ut_verbose = 1;
			break;
		case 'c':
			cdir = optarg;
			break;
		case 'w':
			wdir = optarg;
			break;
		case 'l':
			layouts = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (wdir)
		return write_corpus(wdir) ? 1 : 0;
	if (argc - optind != 2 || (strcmp(layouts, "both") && strcmp(layouts, "percpu") &&
				   strcmp(layouts, "shared")))
		goto usage;
	npk = strtoull(argv[optind], NULL, 0);
	seed = strtoull(argv[optind + 1], NULL, 0);
	if (!npk)
		goto usage;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("skip fuzz needs root (BPF_PROG_TEST_RUN, bpffs)\n");
		return 0;
	}
	load_corpus(cdir);
	batch = calloc(BATCH, sizeof(*batch));
	if (!batch)
		return 1;
	/* the same frames through both flow table layouts; the shared one's
	 * test names carry "shared_" */
	if (strcmp(layouts, "shared"))
		fuzz_run(npk, seed, NACCT_FLOW_PERCPU);
	if (strcmp(layouts, "percpu")) {
		ut_prefix = "shared_";
		fuzz_run(npk, seed, NACCT_FLOW_SHARED);
		ut_prefix = "";
	}
	return ut_failures ? 1 : 0;
usage:
	fprintf(stderr, "usage: %s [-v] [-c CORPUS_DIR] [-w OUT_DIR] [-l percpu|shared|both] "
		"PACKETS SEED\n", argv[0]);
	return 2;
}
