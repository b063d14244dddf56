// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Tunnels (maps/decap.h) through BPF_PROG_TEST_RUN: every encapsulation
 * both ways (the flow is the inner 5-tuple, the tunnel joins the key,
 * the tunnel table holds type, id and canonical outer endpoints), two
 * VNIs with the same inner addresses, every cut of the tunnel and inner
 * headers (malformed with the right reason), payloads not decoded (the
 * outer flow), bad tunnel headers, an outer fragment, and the load-time
 * switches (--decap off, --tunnel-ports).
 */
#include <arpa/inet.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "pkt.h"
#include "tun.h"
#include "../../lib/attach.h"

#define U64(x) ((unsigned long long)(x))

static __u8 inner_buf[PKT_MAX], frame[PKT_MAX];

struct tun_case {
	const char *name;
	int type;       /* PKT_TUN_* */
	int ofam, ifam; /* outer, inner family */
	__u8 proto;     /* inner L4 */
	__u32 id;
	int gre_csum, gre_key, gre_seq, geneve_opt, mpls_labels, inner_vlan;
	__u16 geneve_proto; /* 0: Ethernet */
	enum ut_hook rx;
	__u8 expect_type; /* enum nacct_tun_type */
};

static const struct tun_case tun_cases[] = {
	{ "tun_vxlan4_in4", PKT_TUN_VXLAN, 4, 4, PKT_P_TCP, 100, .expect_type = NACCT_TUN_VXLAN },
	{ "tun_vxlan6_in6", PKT_TUN_VXLAN, 6, 6, PKT_P_UDP, 0xabcdef,
	  .expect_type = NACCT_TUN_VXLAN },
	{ "tun_vxlan4_in6_vlan", PKT_TUN_VXLAN, 4, 6, PKT_P_ICMPV6, 7, .inner_vlan = 1,
	  .expect_type = NACCT_TUN_VXLAN },
	{ "tun_vxlan4_tc_ingress", PKT_TUN_VXLAN, 4, 4, PKT_P_UDP, 5, .rx = UT_TC_INGRESS,
	  .expect_type = NACCT_TUN_VXLAN },
	{ "tun_geneve4_opts", PKT_TUN_GENEVE, 4, 4, PKT_P_TCP, 4242, .geneve_opt = 12,
	  .expect_type = NACCT_TUN_GENEVE },
	{ "tun_geneve6_ip", PKT_TUN_GENEVE, 6, 4, PKT_P_UDP, 1, .geneve_proto = 0x0800,
	  .expect_type = NACCT_TUN_GENEVE },
	{ "tun_gre4", PKT_TUN_GRE, 4, 4, PKT_P_TCP, 0, .expect_type = NACCT_TUN_GRE },
	{ "tun_gre4_key_csum_seq", PKT_TUN_GRE, 4, 6, PKT_P_TCP, 0x01020304, 1, 1, 1,
	  .expect_type = NACCT_TUN_GRE },
	{ "tun_gre6_key", PKT_TUN_GRE, 6, 4, PKT_P_SCTP, 77, 0, 1, 0,
	  .expect_type = NACCT_TUN_GRE },
	{ "tun_gretap4_key", PKT_TUN_GRETAP, 4, 4, PKT_P_UDP, 9, 0, 1, 1,
	  .expect_type = NACCT_TUN_GRETAP },
	{ "tun_gretap6_tc_ingress", PKT_TUN_GRETAP, 6, 6, PKT_P_TCP, 0, .rx = UT_TC_INGRESS,
	  .expect_type = NACCT_TUN_GRETAP },
	{ "tun_ipip", PKT_TUN_IPIP, 4, 4, PKT_P_TCP, 0, .expect_type = NACCT_TUN_IPIP },
	{ "tun_sit", PKT_TUN_IPIP, 4, 6, PKT_P_TCP, 0, .expect_type = NACCT_TUN_SIT },
	{ "tun_ip6ip6", PKT_TUN_IPIP, 6, 6, PKT_P_UDP, 0, .expect_type = NACCT_TUN_IP6IP6 },
	{ "tun_ip4in6", PKT_TUN_IPIP, 6, 4, PKT_P_ICMP, 0, .expect_type = NACCT_TUN_IP4IN6 },
	{ "tun_mpls1_ip4", PKT_TUN_MPLS, 0, 4, PKT_P_TCP, 16, .mpls_labels = 1,
	  .expect_type = NACCT_TUN_MPLS },
	{ "tun_mpls4_ip6", PKT_TUN_MPLS, 0, 6, PKT_P_UDP, 1048575, .mpls_labels = 4,
	  .expect_type = NACCT_TUN_MPLS },
};

static void inner_spec(const struct tun_case *c, struct pkt_spec *s)
{
	pkt_spec_init(s, c->ifam, c->proto, 40000, c->proto == PKT_P_SCTP ? 5060 : 443);
	/* tenant addresses: the same for every case (and every VNI) */
	if (c->ifam == 4) {
		pkt_addr4(s->src, 10, 0, 0, 1);
		pkt_addr4(s->dst, 10, 0, 0, 2);
	} else {
		memset(s->src, 0, 16);
		memset(s->dst, 0, 16);
		s->src[0] = s->dst[0] = 0xfd;
		s->src[1] = s->dst[1] = 0x10;
		s->src[15] = 1;
		s->dst[15] = 2;
	}
	if (c->inner_vlan) {
		s->nvlan = 1;
		s->vlan_tpid[0] = 0x8100;
		s->vlan_vid[0] = 30;
	}
	s->payload = 20;
}

static void outer_spec(const struct tun_case *c, struct pkt_tun *t)
{
	memset(t, 0, sizeof(*t));
	t->type = c->type;
	t->family = c->ofam;
	t->id = c->id;
	t->gre_csum = c->gre_csum;
	t->gre_key = c->gre_key || ((c->type == PKT_TUN_GRE || c->type == PKT_TUN_GRETAP) && c->id);
	t->gre_seq = c->gre_seq;
	t->geneve_opt = c->geneve_opt;
	t->geneve_proto = c->geneve_proto;
	t->mpls_labels = c->mpls_labels;
	/* the endpoints: the sender is the higher address, so that the
	 * tunnel's canonical order is not the first packet's */
	if (c->ofam == 4) {
		pkt_addr4(t->src, 198, 18, 9, 2);
		pkt_addr4(t->dst, 198, 18, 9, 1);
	} else {
		pkt_addr6(t->src, 9, 2);
		pkt_addr6(t->dst, 9, 1);
	}
}

/* a whole tunnel frame into frame[]; the inner layout in *il */
static size_t tun_frame(const struct pkt_tun *t, const struct pkt_spec *s, struct pkt_layout *il,
			struct pkt_tun_layout *tl)
{
	size_t n = pkt_build(s, inner_buf, sizeof(inner_buf), il);

	return n ? pkt_build_tun(t, inner_buf, n, il->l3, frame, sizeof(frame), tl) : 0;
}

static void tun_reverse(struct pkt_tun *t)
{
	__u8 a[16];

	memcpy(a, t->src, 16);
	memcpy(t->src, t->dst, 16);
	memcpy(t->dst, a, 16);
}

/* the only flow, if there is exactly one */
static int one_flow(struct ut *u, struct nacct_flow_key *k, struct nacct_flow_val *v)
{
	struct ut_flows f;
	int ok;

	if (ut_flows(u, &f))
		return 0;
	ok = f.n == 1;
	if (ok) {
		*k = f.keys[0];
		*v = f.vals[0];
	}
	ut_flows_free(&f);
	return ok;
}

static void t_tun_case(struct ut *u, const struct tun_case *c)
{
	struct pkt_spec s;
	struct pkt_tun t;
	struct pkt_layout il;
	struct pkt_tun_layout tl;
	struct nacct_flow_key k, want;
	struct nacct_flow_val v;
	struct nacct_tun_key tk;
	struct nacct_stats st;
	__u8 lo[16], hi[16];
	size_t n1, n2;
	int a_lo, fam_ok;
	char name[128];
	__u16 vlan = 0;

	ut_reset(u);
	inner_spec(c, &s);
	outer_spec(c, &t);
	n1 = tun_frame(&t, &s, &il, &tl);
	snprintf(name, sizeof(name), "%s_verdicts", c->name);
	if (!n1 || ut_send(u, c->rx, frame, n1, name))
		return;
	pkt_spec_reverse(&s);
	if (s.proto == PKT_P_TCP)
		s.tcp_flags = 0x12;
	if (s.proto == PKT_P_ICMP || s.proto == PKT_P_ICMPV6) {
		/* the echo reply: its identifier is the request's */
		s.icmp_type = s.proto == PKT_P_ICMP ? 0 : 129;
		s.sport = s.dport;
	}
	tun_reverse(&t);
	n2 = tun_frame(&t, &s, &il, &tl);
	if (!n2 || ut_send(u, UT_TC_EGRESS, frame, n2, name))
		return;
	ut_check(1, name, NULL);
	pkt_spec_reverse(&s); /* the first packet's again */

	snprintf(name, sizeof(name), "%s_one_flow", c->name);
	if (!ut_check(one_flow(u, &k, &v), name, "expected one flow (the inner one)"))
		return;
	if (s.proto == PKT_P_ICMP || s.proto == PKT_P_ICMPV6)
		ut_key(&want, c->ifam, s.src, 40000, s.dst, 40000, s.proto, vlan, &a_lo);
	else
		ut_key(&want, c->ifam, s.src, s.sport, s.dst, s.dport, s.proto, vlan, &a_lo);
	want.tunnel = k.tunnel;
	snprintf(name, sizeof(name), "%s_inner_key", c->name);
	ut_check(k.tunnel != 0 && !memcmp(&k, &want, sizeof(k)), name,
		 "tunnel handle %llu; the key %s the inner 5-tuple", U64(k.tunnel),
		 memcmp(&k, &want, sizeof(k)) ? "is not" : "is");

	snprintf(name, sizeof(name), "%s_tunnel", c->name);
	if (!ut_check(ut_tunnel(u, k.tunnel, &tk) == 0 && ut_tunnel_count(u) == 1, name,
		      "no tunnel entry for handle %llu (%d entries)", U64(k.tunnel),
		      ut_tunnel_count(u)))
		return;
	/* outer endpoints, canonical: 198.18.9.1 / fd00:9::1 first */
	memset(lo, 0, 16);
	memset(hi, 0, 16);
	if (c->ofam == 4) {
		lo[10] = lo[11] = hi[10] = hi[11] = 0xff;
		memcpy(lo + 12, t.src, 4); /* t is reversed: src is .1 */
		memcpy(hi + 12, t.dst, 4);
	} else if (c->ofam == 6) {
		memcpy(lo, t.src, 16);
		memcpy(hi, t.dst, 16);
	}
	fam_ok = c->ofam == 0 ? tk.family == 0 :
				tk.family == (c->ofam == 4 ? NACCT_AF_INET : NACCT_AF_INET6);
	ut_check(tk.type == c->expect_type && tk.id == (c->type == PKT_TUN_IPIP ? 0 : c->id) &&
			 fam_ok && !memcmp(tk.outer_lo, lo, 16) && !memcmp(tk.outer_hi, hi, 16),
		 name, "type %u (want %u) id %u (want %u) family %u, endpoints %s", tk.type,
		 c->expect_type, tk.id, c->id, tk.family,
		 !memcmp(tk.outer_lo, lo, 16) && !memcmp(tk.outer_hi, hi, 16) ? "canonical" :
										 "wrong");
	/* the inner lo endpoint's packets went through: the first packet
	 * came from outer .2 (outer_hi) when its inner source is lo */
	if (c->ofam) {
		snprintf(name, sizeof(name), "%s_outer_dir", c->name);
		ut_check(v.outer_dir == 1 + (a_lo ? 1 : 0), name,
			 "outer_dir %u, inner source is %s", v.outer_dir, a_lo ? "lo" : "hi");
	}
	snprintf(name, sizeof(name), "%s_counters", c->name);
	ut_check(v.packets[0] == 1 && v.packets[1] == 1 && v.bytes[0] == n1 && v.bytes[1] == n2,
		 name, "rx %llu/%llu tx %llu/%llu; expected rx 1/%zu tx 1/%zu (whole frames)",
		 U64(v.packets[0]), U64(v.bytes[0]), U64(v.packets[1]), U64(v.bytes[1]), n1, n2);
	ut_stats(u, &st);
	snprintf(name, sizeof(name), "%s_stats", c->name);
	ut_check(st.tunnel_packets[0] == 1 && st.tunnel_packets[1] == 1 &&
			 st.tunnels_created == 1 && st.malformed_packets[0] + st.malformed_packets[1] == 0,
		 name, "tunnel packets %llu/%llu, tunnels created %llu, malformed %llu",
		 U64(st.tunnel_packets[0]), U64(st.tunnel_packets[1]), U64(st.tunnels_created),
		 U64(st.malformed_packets[0] + st.malformed_packets[1]));
	snprintf(name, sizeof(name), "%s_conservation", c->name);
	ut_conserve(u, name);
}

/* two tenants, the same inner addresses and ports, two VNIs: two flows */
static void t_tun_two_vnis(struct ut *u)
{
	const struct tun_case *c = &tun_cases[0];
	struct pkt_spec s;
	struct pkt_tun t;
	struct pkt_layout il;
	struct pkt_tun_layout tl;
	struct ut_flows f;
	size_t n;
	int i;

	ut_reset(u);
	inner_spec(c, &s);
	outer_spec(c, &t);
	for (i = 0; i < 2; i++) {
		t.id = i ? 200 : 100;
		n = tun_frame(&t, &s, &il, &tl);
		if (ut_send(u, UT_XDP, frame, n, "tun_two_vnis"))
			return;
	}
	if (ut_flows(u, &f))
		return;
	ut_check(f.n == 2 && ut_tunnel_count(u) == 2 && f.keys[0].tunnel != f.keys[1].tunnel &&
			 !memcmp(f.keys[0].lo_addr, f.keys[1].lo_addr, 36),
		 "tun_two_vnis_two_flows", "%zu flows, %d tunnels", f.n, ut_tunnel_count(u));
	ut_flows_free(&f);
	ut_conserve(u, "tun_two_vnis_conservation");
}

/*
 * A reset between tests empties the tunnel table: the CPU that cached the
 * tunnel must not hand its old handle out again without an entry.  Pinned
 * to one CPU, so that the second packet meets the first one's cache.
 */
static void t_tun_reset_cache(struct ut *u)
{
	const struct tun_case *c = &tun_cases[0];
	cpu_set_t old, one;
	struct pkt_spec s;
	struct pkt_tun t;
	struct pkt_layout il;
	struct pkt_tun_layout tl;
	size_t n;
	int i, n_tun = -1;

	if (sched_getaffinity(0, sizeof(old), &old))
		return;
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	if (sched_setaffinity(0, sizeof(one), &one))
		return;
	inner_spec(c, &s);
	outer_spec(c, &t);
	for (i = 0; i < 2; i++) {
		ut_reset(u);
		n = tun_frame(&t, &s, &il, &tl);
		if (ut_send(u, UT_XDP, frame, n, "tun_reset_cache"))
			break;
		n_tun = ut_tunnel_count(u);
	}
	sched_setaffinity(0, sizeof(old), &old);
	ut_check(n_tun == 1, "tun_reset_cache",
		 "after a reset, the same tunnel on the same CPU: %d tunnel entries", n_tun);
}

/*
 * Every cut of the tunnel header and the inner headers, the outer
 * lengths made to match (a datagram that ends there): malformed, as
 * tunnel_header while the tunnel header is cut, as inner_header after.
 */
static void t_tun_cuts(struct ut *u, const struct tun_case *c, enum ut_hook h)
{
	struct pkt_spec s;
	struct pkt_tun t;
	struct pkt_layout il;
	struct pkt_tun_layout tl;
	struct nacct_stats st;
	size_t n, cut, end, inner0, bad = 0, tried = 0, first_bad = 0;
	int eth_in, want = 0, got = 0;
	char name[128];

	inner_spec(c, &s);
	outer_spec(c, &t);
	n = tun_frame(&t, &s, &il, &tl);
	eth_in = tl.inner + il.l3 <= n && (c->type == PKT_TUN_VXLAN || c->type == PKT_TUN_GRETAP ||
					   (c->type == PKT_TUN_GENEVE && !c->geneve_proto));
	inner0 = eth_in ? 0 : il.l3; /* where the inner bytes start in the inner frame */
	end = tl.inner + (il.pay - inner0); /* the end of the inner L4 header */
	for (cut = tl.tun; cut < end; cut++) {
		n = tun_frame(&t, &s, &il, &tl);
		pkt_tun_fix_len(&t, &tl, frame, cut);
		if (ut_refused(h, frame, cut))
			continue;
		ut_reset(u);
		if (ut_send(u, h, frame, cut, "tun_cut_verdict"))
			return;
		ut_stats(u, &st);
		want = cut < tl.inner || (c->type == PKT_TUN_MPLS && cut == tl.inner) ?
			       NACCT_MAL_TUN_HDR :
			       NACCT_MAL_INNER;
		tried++;
		if (st.malformed_packets[0] + st.malformed_packets[1] != 1 || st.malformed[want] != 1) {
			if (!bad++) {
				first_bad = cut;
				for (got = 0; got < NACCT_MAL_MAX && !st.malformed[got]; got++)
					;
			}
		}
	}
	snprintf(name, sizeof(name), "%s_cut_%s", c->name, ut_hook_name(h));
	ut_check(!bad && tried, name,
		 "%zu of %zu cuts mis-counted; first at byte %zu (tunnel header at %zu, inner at "
		 "%zu): %s, expected %s",
		 bad, tried, first_bad, tl.tun, tl.inner, got < NACCT_MAL_MAX ? ut_mal_name(got) :
										"not malformed",
		 ut_mal_name(want));
}

/* one frame, then: its only flow's protocol and ports, stats */
static int send_one(struct ut *u, const __u8 *p, size_t n, const char *name)
{
	ut_reset(u);
	return ut_send(u, UT_XDP, p, n, name);
}

static void t_tun_not_opened(struct ut *u)
{
	const struct tun_case *c = &tun_cases[0];
	struct pkt_spec s, arp;
	struct pkt_tun t;
	struct pkt_layout il;
	struct pkt_tun_layout tl;
	struct nacct_flow_key k = { 0 };
	struct nacct_flow_val v = { 0 };
	struct nacct_stats st;
	struct nacct_ethertype_val ev;
	size_t n;

	/* ARP in VXLAN: the outer flow, with what it carried */
	inner_spec(c, &s);
	pkt_spec_init(&arp, 0, 0, 0, 0);
	arp.ethertype = 0x0806;
	arp.payload = 28;
	outer_spec(c, &t);
	n = tun_frame(&t, &arp, &il, &tl);
	if (send_one(u, frame, n, "tun_arp_in_vxlan"))
		return;
	ut_stats(u, &st);
	ut_check(one_flow(u, &k, &v) && k.tunnel == 0 && k.proto == PKT_P_UDP &&
			 (ntohs(k.lo_port) == 4789 || ntohs(k.hi_port) == 4789) &&
			 v.inner_type == 0x0806 && st.tunnel_undecoded[0] == 1 &&
			 ut_tunnel_count(u) == 0,
		 "tun_arp_in_vxlan_outer_flow", "inner_type %#x, undecoded %llu, tunnel %llu",
		 v.inner_type, U64(st.tunnel_undecoded[0]), U64(k.tunnel));
	ut_conserve(u, "tun_arp_in_vxlan_conservation");

	/* VXLAN without its I flag; Geneve version 1; GRE with routing */
	t.vxlan_flags = 0x80;
	n = tun_frame(&t, &s, &il, &tl);
	if (send_one(u, frame, n, "tun_vxlan_no_i"))
		return;
	ut_stats(u, &st);
	ut_check(st.malformed[NACCT_MAL_TUN_HDR] == 1, "tun_vxlan_no_i_flag_malformed",
		 "tunnel_header %llu", U64(st.malformed[NACCT_MAL_TUN_HDR]));
	outer_spec(&tun_cases[4], &t);
	t.geneve_ver = 1;
	n = tun_frame(&t, &s, &il, &tl);
	if (send_one(u, frame, n, "tun_geneve_v1"))
		return;
	ut_stats(u, &st);
	ut_check(st.malformed[NACCT_MAL_TUN_HDR] == 1, "tun_geneve_version1_malformed",
		 "tunnel_header %llu", U64(st.malformed[NACCT_MAL_TUN_HDR]));
	outer_spec(&tun_cases[6], &t);
	t.gre_routing = 1;
	n = tun_frame(&t, &s, &il, &tl);
	if (send_one(u, frame, n, "tun_gre_routing"))
		return;
	ut_stats(u, &st);
	ut_check(st.malformed[NACCT_MAL_TUN_HDR] == 1, "tun_gre_routing_malformed",
		 "tunnel_header %llu", U64(st.malformed[NACCT_MAL_TUN_HDR]));

	/* enhanced GRE (version 1, PPP inside): the outer flow */
	outer_spec(&tun_cases[6], &t);
	t.gre_ver = 1;
	t.gre_proto = 0x880b;
	n = tun_frame(&t, &s, &il, &tl);
	if (send_one(u, frame, n, "tun_gre_v1"))
		return;
	ut_check(one_flow(u, &k, &v) && k.tunnel == 0 && k.proto == 47 && v.inner_type == 0x880b,
		 "tun_gre_version1_outer_flow", "proto %u inner_type %#x", k.proto, v.inner_type);

	/* an outer fragment is not opened */
	outer_spec(c, &t);
	t.outer_frag = 1;
	n = tun_frame(&t, &s, &il, &tl);
	if (send_one(u, frame, n, "tun_outer_frag"))
		return;
	ut_check(one_flow(u, &k, &v) && k.tunnel == 0 && k.proto == PKT_P_UDP &&
			 ut_tunnel_count(u) == 0,
		 "tun_outer_fragment_outer_flow", "proto %u tunnel %llu", k.proto, U64(k.tunnel));

	/* MPLS deeper than nacct walks, and MPLS carrying neither IP: non-IP 0x8847 */
	outer_spec(&tun_cases[15], &t);
	t.mpls_labels = NACCT_MAX_MPLS + 1;
	n = tun_frame(&t, &s, &il, &tl);
	if (send_one(u, frame, n, "tun_mpls_deep"))
		return;
	ut_check(ut_ethertype(u, 0x8847, &ev) == 0 && ev.packets[0] == 1 && ut_tunnel_count(u) == 0,
		 "tun_mpls_deep_nonip", "not counted as non-IP 0x8847");
	t.mpls_labels = 1;
	n = tun_frame(&t, &s, &il, &tl);
	frame[tl.inner] = 0x00; /* a pseudowire control word */
	if (send_one(u, frame, n, "tun_mpls_pw"))
		return;
	ut_check(ut_ethertype(u, 0x8847, &ev) == 0 && ev.packets[0] == 1,
		 "tun_mpls_pseudowire_nonip", "not counted as non-IP 0x8847");
}

void tun_suite(struct ut *u)
{
	size_t i;

	for (i = 0; i < sizeof(tun_cases) / sizeof(tun_cases[0]); i++)
		t_tun_case(u, &tun_cases[i]);
	t_tun_two_vnis(u);
	t_tun_reset_cache(u);
	for (i = 0; i < sizeof(tun_cases) / sizeof(tun_cases[0]); i++) {
		t_tun_cuts(u, &tun_cases[i], UT_XDP);
		if (i % 4 == 0)
			t_tun_cuts(u, &tun_cases[i], UT_TC_EGRESS);
	}
	t_tun_not_opened(u);
}

/* the load-time switches: --decap off, --tunnel-ports */
void tun_switches(void)
{
	const struct tun_case *c = &tun_cases[0];
	struct nacct_tun_ports ports = { .vxlan = { 4790 }, .vxlan_set = 1 };
	struct ut_opts off = { .decap = NACCT_DECAP_OFF }, po = { .tun_ports = &ports };
	struct pkt_spec s;
	struct pkt_tun t;
	struct pkt_layout il;
	struct pkt_tun_layout tl;
	struct nacct_flow_key k = { 0 };
	struct nacct_flow_val v = { 0 };
	struct ut u;
	size_t n;

	inner_spec(c, &s);
	outer_spec(c, &t);
	if (!ut_check(ut_load(&u, &off) == 0, "tun_decap_off_load", "cannot load"))
		return;
	n = tun_frame(&t, &s, &il, &tl);
	if (!send_one(&u, frame, n, "tun_decap_off"))
		ut_check(one_flow(&u, &k, &v) && k.tunnel == 0 && k.proto == PKT_P_UDP &&
				 ut_tunnel_count(&u) == 0,
			 "tun_decap_off_outer_flow", "proto %u tunnel %llu", k.proto, U64(k.tunnel));
	ut_unload(&u);

	if (!ut_check(ut_load(&u, &po) == 0, "tun_ports_load", "cannot load"))
		return;
	n = tun_frame(&t, &s, &il, &tl); /* UDP 4789: no longer VXLAN */
	if (!send_one(&u, frame, n, "tun_ports_4789"))
		ut_check(one_flow(&u, &k, &v) && k.tunnel == 0 && k.proto == PKT_P_UDP,
			 "tun_ports_4789_not_vxlan", "proto %u tunnel %llu", k.proto, U64(k.tunnel));
	t.udp_dport = 4790;
	n = tun_frame(&t, &s, &il, &tl);
	if (!send_one(&u, frame, n, "tun_ports_4790"))
		ut_check(one_flow(&u, &k, &v) && k.tunnel != 0 && k.proto == c->proto,
			 "tun_ports_4790_vxlan", "proto %u tunnel %llu", k.proto, U64(k.tunnel));
	outer_spec(&tun_cases[4], &t); /* Geneve keeps its default port */
	n = tun_frame(&t, &s, &il, &tl);
	if (!send_one(&u, frame, n, "tun_ports_geneve"))
		ut_check(one_flow(&u, &k, &v) && k.tunnel != 0, "tun_ports_geneve_default",
			 "tunnel %llu", U64(k.tunnel));
	ut_unload(&u);
}
