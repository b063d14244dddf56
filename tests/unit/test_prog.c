// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the data path: the real XDP and TC programs run with
 * BPF_PROG_TEST_RUN on packets built in code; every case checks the
 * verdict, the map contents it should have produced, and the
 * conservation law.  Every frame also goes through the key check
 * (keys.c): the side programs' parser must give it the data path's key.
 * Needs root and bpffs.  -v prints details of passes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <sys/stat.h>
#include "nacct_probes.skel.h"
#include "../../maps/maps.h"
#include "harness.h"
#include "keys.h"
#include "pkt.h"
#include "tun.h"

static __u8 buf[PKT_MAX];

#define U64(x) ((unsigned long long)(x))

static int is_echo(const struct pkt_spec *s)
{
	return (s->proto == PKT_P_ICMP && (s->icmp_type == 8 || s->icmp_type == 0)) ||
	       (s->proto == PKT_P_ICMPV6 && (s->icmp_type == 128 || s->icmp_type == 129));
}

/* the ports the key should hold for a packet of @s (host order) */
static void exp_ports(const struct pkt_spec *s, __u16 *sp, __u16 *dp)
{
	switch (s->proto) {
	case PKT_P_TCP:
	case PKT_P_UDP:
	case PKT_P_UDPLITE:
	case PKT_P_SCTP:
		*sp = s->sport;
		*dp = s->dport;
		break;
	case PKT_P_ICMP:
	case PKT_P_ICMPV6:
		if (is_echo(s))
			*sp = *dp = s->sport;
		else
		{
			*sp = (__u16)(s->icmp_type << 8 | s->icmp_code);
			*dp = 0;
		}
		break;
	default:
		*sp = *dp = 0;
	}
}

static size_t build(const struct pkt_spec *s, struct pkt_layout *l)
{
	struct pkt_layout tmp;
	size_t n = pkt_build(s, buf, sizeof(buf), l ? l : &tmp);

	if (!n) {
		fprintf(stderr, "pkt_build failed\n");
		exit(1);
	}
	return n;
}

static int n_flows(struct ut *u)
{
	struct ut_flows f;
	int n;

	if (ut_flows(u, &f))
		return -1;
	n = (int)f.n;
	ut_flows_free(&f);
	return n;
}

/* ---- one flow seen in both directions ------------------------------------ */

struct tw_case {
	const char *name;
	int family;
	__u8 proto;
	__u16 sport, dport;
	int swap;            /* the remote end is the higher address */
	enum ut_hook rx;     /* UT_XDP or UT_TC_INGRESS */
	void (*tweak)(struct pkt_spec *s);
	__u16 vlan;          /* expected key.vlan */
};

static void tw_reply(struct pkt_spec *s)
{
	pkt_spec_reverse(s);
	if (s->proto == PKT_P_ICMP || s->proto == PKT_P_ICMPV6)
		s->sport = s->dport; /* the reply echoes the identifier */
	if (s->proto == PKT_P_TCP)
		s->tcp_flags = 0x12;
	if (s->proto == PKT_P_ICMP && s->icmp_type == 8)
		s->icmp_type = 0;
	if (s->proto == PKT_P_ICMPV6 && s->icmp_type == 128)
		s->icmp_type = 129;
}

static void tw_ip4opt(struct pkt_spec *s) { s->ip4_opt = 12; s->payload = 33; }
static void tw_v6chain(struct pkt_spec *s)
{
	s->n_ext = 3;
	s->ext[0] = 0;  /* hop-by-hop */
	s->ext[1] = 43; /* routing */
	s->ext[2] = 60; /* destination options */
}
static void tw_v6ah(struct pkt_spec *s)
{
	s->n_ext = 2;
	s->ext[0] = 0;
	s->ext[1] = 51; /* AH */
}
static void tw_v6atomic(struct pkt_spec *s)
{
	s->n_ext = 1;
	s->ext[0] = 44; /* atomic fragment: offset 0, no M */
}
static void tw_vlan(struct pkt_spec *s)
{
	s->nvlan = 1;
	s->vlan_tpid[0] = 0x8100;
	s->vlan_vid[0] = 0x2000 | 100; /* PCP bits must not leak into the id */
}
static void tw_qinq(struct pkt_spec *s)
{
	s->nvlan = 2;
	s->vlan_tpid[0] = 0x88a8;
	s->vlan_vid[0] = 200;
	s->vlan_tpid[1] = 0x8100;
	s->vlan_vid[1] = 300;
}
static void tw_payload(struct pkt_spec *s) { s->payload = 1000; s->tcp_opt = 12; }

static const struct tw_case tw_cases[] = {
	{ "tcp4", 4, PKT_P_TCP, 40000, 80, 0, UT_XDP, tw_payload, 0 },
	{ "tcp4_remote_high", 4, PKT_P_TCP, 80, 40000, 1, UT_XDP, NULL, 0 },
	{ "tcp4_tc_ingress", 4, PKT_P_TCP, 40001, 443, 0, UT_TC_INGRESS, NULL, 0 },
	{ "tcp6", 6, PKT_P_TCP, 40000, 80, 0, UT_XDP, tw_payload, 0 },
	{ "tcp6_remote_high", 6, PKT_P_TCP, 22, 50000, 1, UT_XDP, NULL, 0 },
	{ "udp4", 4, PKT_P_UDP, 5353, 53, 0, UT_XDP, NULL, 0 },
	{ "udp6", 6, PKT_P_UDP, 1000, 2000, 1, UT_XDP, NULL, 0 },
	{ "icmp_echo", 4, PKT_P_ICMP, 0x1234, 0, 0, UT_XDP, NULL, 0 },
	{ "icmp_echo_remote_high", 4, PKT_P_ICMP, 0x4321, 0, 1, UT_XDP, NULL, 0 },
	{ "icmpv6_echo", 6, PKT_P_ICMPV6, 0x77, 0, 0, UT_XDP, NULL, 0 },
	{ "sctp4", 4, PKT_P_SCTP, 36412, 36412, 0, UT_XDP, NULL, 0 },
	{ "sctp6", 6, PKT_P_SCTP, 9899, 2905, 0, UT_XDP, NULL, 0 },
	{ "udplite6", 6, PKT_P_UDPLITE, 7000, 7001, 0, UT_XDP, NULL, 0 },
	{ "udplite4", 4, PKT_P_UDPLITE, 7000, 7001, 1, UT_XDP, NULL, 0 },
	{ "unknown_proto4", 4, 253, 1, 2, 0, UT_XDP, NULL, 0 },
	{ "unknown_proto6", 6, 254, 1, 2, 1, UT_XDP, NULL, 0 },
	{ "ip4_options", 4, PKT_P_TCP, 33000, 25, 0, UT_XDP, tw_ip4opt, 0 },
	{ "ip6_ext_chain", 6, PKT_P_TCP, 33000, 25, 0, UT_XDP, tw_v6chain, 0 },
	{ "ip6_ext_ah", 6, PKT_P_UDP, 500, 4500, 0, UT_XDP, tw_v6ah, 0 },
	{ "ip6_atomic_frag", 6, PKT_P_UDP, 501, 4501, 0, UT_XDP, tw_v6atomic, 0 },
	{ "vlan_8021q", 4, PKT_P_UDP, 1111, 2222, 0, UT_XDP, tw_vlan, 100 },
	{ "vlan_qinq", 6, PKT_P_TCP, 1111, 2222, 1, UT_XDP, tw_qinq, 200 },
	{ "vlan_qinq_tc_ingress", 4, PKT_P_TCP, 1111, 2222, 0, UT_TC_INGRESS, tw_qinq, 200 },
};

static void t_two_way(struct ut *u, const struct tw_case *c)
{
	struct pkt_spec s, r;
	struct nacct_flow_key k;
	struct nacct_flow_val v;
	struct nacct_stats st;
	__u16 sp, dp;
	size_t n1, n2;
	int remote_lo, nf;
	char name[128];

	ut_reset(u);
	pkt_spec_init(&s, c->family, c->proto, c->sport, c->dport);
	if (c->tweak)
		c->tweak(&s);
	if (c->swap) {
		/* remote (sender of the first packet) is the higher address */
		__u8 t[16];

		memcpy(t, s.src, 16);
		memcpy(s.src, s.dst, 16);
		memcpy(s.dst, t, 16);
	}
	n1 = build(&s, NULL);
	snprintf(name, sizeof(name), "%s_verdicts", c->name);
	if (ut_send(u, c->rx, buf, n1, name))
		return;
	r = s;
	tw_reply(&r);
	n2 = build(&r, NULL);
	if (ut_send(u, UT_TC_EGRESS, buf, n2, name))
		return;
	ut_check(1, name, NULL);

	exp_ports(&s, &sp, &dp);
	ut_key(&k, c->family, s.src, sp, s.dst, dp, s.proto, c->vlan, &remote_lo);
	nf = n_flows(u);
	snprintf(name, sizeof(name), "%s_one_flow", c->name);
	if (!ut_check(nf == 1 && ut_flow(u, &k, &v) == 0, name,
		      "%d flows; expected one with proto %u ports %u/%u vlan %u", nf, s.proto, sp,
		      dp, c->vlan))
		return;
	snprintf(name, sizeof(name), "%s_counters", c->name);
	ut_check(v.packets[0] == 1 && v.packets[1] == 1 && v.bytes[0] == n1 && v.bytes[1] == n2,
		 name, "rx %llu/%llu tx %llu/%llu; expected rx 1/%zu tx 1/%zu", U64(v.packets[0]),
		 U64(v.bytes[0]), U64(v.packets[1]), U64(v.bytes[1]), n1, n2);
	snprintf(name, sizeof(name), "%s_direction", c->name);
	ut_check(v.first_dir == (remote_lo ? 0 : 1) && v.seen_dirs == 3 &&
			 remote_lo == !c->swap,
		 name, "first_dir %u seen_dirs %u remote_is_lo %d", v.first_dir, v.seen_dirs,
		 remote_lo);
	if (s.proto == PKT_P_TCP) {
		snprintf(name, sizeof(name), "%s_tcp_flags", c->name);
		ut_check(v.tcp_flags[0] == 0x02 && v.tcp_flags[1] == 0x12, name,
			 "rx flags %#x tx flags %#x", v.tcp_flags[0], v.tcp_flags[1]);
	}
	ut_stats(u, &st);
	snprintf(name, sizeof(name), "%s_totals", c->name);
	ut_check(st.packets[0] == 1 && st.packets[1] == 1 && st.bytes[0] == n1 &&
			 st.bytes[1] == n2 && st.frag_packets[0] + st.frag_packets[1] == 0,
		 name, "totals rx %llu/%llu tx %llu/%llu frag %llu", U64(st.packets[0]),
		 U64(st.bytes[0]), U64(st.packets[1]), U64(st.bytes[1]),
		 U64(st.frag_packets[0] + st.frag_packets[1]));
	snprintf(name, sizeof(name), "%s_conservation", c->name);
	ut_conserve(u, name);
}

/* ---- fragments ---------------------------------------------------------- */

/*
 * ICMP messages other than echo are one-way: one flow per sender, the
 * sender's port type << 8 | code, the other 0.  An echo whose identifier
 * reads as a type and code (0x0303: port unreachable) between the same
 * hosts is a flow of its own.
 */
static void t_icmp_apart(struct ut *u)
{
	struct pkt_spec s;
	struct nacct_flow_key k;
	struct nacct_flow_val v;
	size_t n1, n2, n3;
	int e, a, b;

	ut_reset(u);
	pkt_spec_init(&s, 4, PKT_P_ICMP, 0x0303, 0); /* echo request, id 0x0303 */
	n1 = build(&s, NULL);
	ut_send(u, UT_XDP, buf, n1, "icmp_apart");
	s.icmp_type = 3;
	s.icmp_code = 3;
	n2 = build(&s, NULL);
	ut_send(u, UT_XDP, buf, n2, "icmp_apart");
	pkt_spec_reverse(&s); /* the other host's port unreachable back */
	n3 = build(&s, NULL);
	ut_send(u, UT_TC_EGRESS, buf, n3, "icmp_apart");
	ut_key(&k, 4, s.dst, 0x0303, s.src, 0x0303, PKT_P_ICMP, 0, NULL);
	e = ut_flow(u, &k, &v) == 0 && v.packets[0] == 1 && v.bytes[0] == n1;
	ut_key(&k, 4, s.dst, 0x0303, s.src, 0, PKT_P_ICMP, 0, NULL);
	a = ut_flow(u, &k, &v) == 0 && v.packets[0] == 1 && v.bytes[0] == n2 && !v.packets[1];
	ut_key(&k, 4, s.src, 0x0303, s.dst, 0, PKT_P_ICMP, 0, NULL);
	b = ut_flow(u, &k, &v) == 0 && v.packets[1] == 1 && v.bytes[1] == n3 && !v.packets[0];
	ut_check(n_flows(u) == 3 && e && a && b, "icmp_echo_apart_from_errors",
		 "%d flows; echo (0x0303, 0x0303) %s, unreachable A->B (0x0303, 0) %s, B->A %s",
		 n_flows(u), e ? "ok" : "missing", a ? "ok" : "missing", b ? "ok" : "missing");
}

static void t_frag4(struct ut *u)
{
	struct pkt_spec s;
	struct nacct_flow_key k;
	struct nacct_flow_val v;
	struct nacct_stats st;
	size_t n[3], tot = 0;
	int i;

	ut_reset(u);
	pkt_spec_init(&s, 4, PKT_P_UDP, 5000, 53);
	s.frag = 1;
	s.frag_id = 0x1234;
	for (i = 0; i < 3; i++) {
		s.frag_off = (__u16)(i * 5); /* 40 bytes a fragment */
		s.frag_mf = i < 2;
		s.payload = i == 0 ? 32 : 40;
		n[i] = build(&s, NULL);
		tot += n[i];
		if (ut_send(u, UT_XDP, buf, n[i], "frag4_verdicts"))
			return;
	}
	ut_check(1, "frag4_verdicts", NULL);
	ut_key(&k, 4, s.src, 5000, s.dst, 53, PKT_P_UDP, 0, NULL);
	ut_check(n_flows(u) == 1 && !ut_flow(u, &k, &v) && v.packets[0] == 3 && v.bytes[0] == tot,
		 "frag4_later_fragments_in_first_flow",
		 "%d flows, flow 5000->53: %llu packets %llu bytes (expected 3/%zu)", n_flows(u),
		 U64(v.packets[0]), U64(v.bytes[0]), tot);
	ut_stats(u, &st);
	ut_check(st.frag_packets[0] == 3 && st.frag_noports[0] == 0, "frag4_stats",
		 "frag_packets %llu frag_noports %llu", U64(st.frag_packets[0]),
		 U64(st.frag_noports[0]));

	/* a later fragment whose first fragment was never seen */
	s.frag_id = 0x9999;
	s.frag_off = 100;
	s.frag_mf = 0;
	n[0] = build(&s, NULL);
	if (ut_send(u, UT_TC_EGRESS, buf, n[0], "frag4_orphan"))
		return;
	ut_key(&k, 4, s.src, 0, s.dst, 0, PKT_P_UDP, 0, NULL);
	ut_stats(u, &st);
	memset(&v, 0, sizeof(v));
	ut_check(!ut_flow(u, &k, &v) && v.packets[1] == 1 && v.bytes[1] == n[0] &&
			 st.frag_noports[1] == 1 && st.frag_packets[1] == 1,
		 "frag4_orphan_noports", "flow ports 0: %llu packets; frag_noports[tx] %llu",
		 U64(v.packets[1]), U64(st.frag_noports[1]));

	/* an ICMP echo in fragments: the later part lands in the echo id's flow */
	ut_reset(u);
	pkt_spec_init(&s, 4, PKT_P_ICMP, 0xbeef, 0);
	s.frag = 1;
	s.frag_id = 0x55;
	s.frag_mf = 1;
	s.payload = 1472;
	n[0] = build(&s, NULL);
	ut_send(u, UT_XDP, buf, n[0], "frag4_icmp");
	s.frag_mf = 0;
	s.frag_off = 185;
	s.payload = 100;
	n[1] = build(&s, NULL);
	ut_send(u, UT_XDP, buf, n[1], "frag4_icmp");
	ut_key(&k, 4, s.src, 0xbeef, s.dst, 0xbeef, PKT_P_ICMP, 0, NULL);
	memset(&v, 0, sizeof(v));
	ut_check(n_flows(u) == 1 && !ut_flow(u, &k, &v) && v.packets[0] == 2 &&
			 v.bytes[0] == n[0] + n[1],
		 "frag4_icmp_echo_one_flow", "%d flows; echo flow %llu packets", n_flows(u),
		 U64(v.packets[0]));
	ut_conserve(u, "frag4_conservation");
}

static void t_frag6(struct ut *u)
{
	struct pkt_spec s;
	struct nacct_flow_key k;
	struct nacct_flow_val v;
	struct nacct_stats st;
	size_t n1, n2;

	ut_reset(u);
	pkt_spec_init(&s, 6, PKT_P_UDP, 6000, 6001);
	s.n_ext = 2;
	s.ext[0] = 0;  /* hop-by-hop before the fragment header */
	s.ext[1] = 44;
	s.frag_id = 0xabcdef01;
	s.frag_mf = 1;
	s.payload = 1000;
	n1 = build(&s, NULL);
	ut_send(u, UT_TC_EGRESS, buf, n1, "frag6");
	s.frag_off = 126;
	s.frag_mf = 0;
	s.payload = 300;
	n2 = build(&s, NULL);
	ut_send(u, UT_TC_EGRESS, buf, n2, "frag6");
	ut_key(&k, 6, s.src, 6000, s.dst, 6001, PKT_P_UDP, 0, NULL);
	memset(&v, 0, sizeof(v));
	ut_check(n_flows(u) == 1 && !ut_flow(u, &k, &v) && v.packets[1] == 2 &&
			 v.bytes[1] == n1 + n2,
		 "frag6_later_fragment_in_first_flow", "%d flows; flow: %llu packets %llu bytes",
		 n_flows(u), U64(v.packets[1]), U64(v.bytes[1]));
	ut_stats(u, &st);
	ut_check(st.frag_packets[1] == 2 && st.frag_noports[1] == 0, "frag6_stats",
		 "frag_packets %llu frag_noports %llu", U64(st.frag_packets[1]),
		 U64(st.frag_noports[1]));
	/* orphan */
	s.frag_id = 7;
	n2 = build(&s, NULL);
	ut_send(u, UT_XDP, buf, n2, "frag6");
	ut_key(&k, 6, s.src, 0, s.dst, 0, PKT_P_UDP, 0, NULL);
	ut_stats(u, &st);
	memset(&v, 0, sizeof(v));
	ut_check(!ut_flow(u, &k, &v) && v.packets[0] == 1 && st.frag_noports[0] == 1,
		 "frag6_orphan_noports", "ports-0 flow %llu packets, frag_noports %llu",
		 U64(v.packets[0]), U64(st.frag_noports[0]));
	ut_conserve(u, "frag6_conservation");
}

/* ---- clocks --------------------------------------------------------------- */

static __u64 clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * first_seen is CLOCK_MONOTONIC, precise; last_seen the coarse clock
 * (CLOCK_MONOTONIC_COARSE), which the data path reads once per jiffy and
 * caches: each packet's last_seen must lie between the coarse clock a
 * jiffy before the packet and the coarse clock after it, and move on
 * with time, on every hook.
 */
static void t_clock(struct ut *u)
{
	static const enum ut_hook hooks[] = { UT_XDP, UT_TC_EGRESS, UT_TC_INGRESS };
	struct nacct_flow_key k;
	struct nacct_flow_val v;
	struct timespec res;
	struct pkt_spec s;
	__u64 jiffy, t0, t1, prev = 0;
	char detail[1024] = "";
	size_t n, off = 0;
	int i, ok = 1;

	ut_reset(u);
	clock_getres(CLOCK_MONOTONIC_COARSE, &res);
	jiffy = (__u64)res.tv_sec * 1000000000ULL + res.tv_nsec;
	pkt_spec_init(&s, 4, PKT_P_UDP, 4242, 53);
	n = build(&s, NULL);
	ut_key(&k, 4, s.src, 4242, s.dst, 53, PKT_P_UDP, 0, NULL);
	t0 = clock_ns(CLOCK_MONOTONIC);
	ut_send(u, UT_XDP, buf, n, "clock_send");
	t1 = clock_ns(CLOCK_MONOTONIC);
	if (ut_flow(u, &k, &v) || v.first_seen < t0 || v.first_seen > t1) {
		ok = 0;
		off += snprintf(detail + off, sizeof(detail) - off,
				"first_seen %llu not in [%llu, %llu]\n", U64(v.first_seen), U64(t0),
				U64(t1));
	}
	for (i = 0; i < 9; i++) {
		usleep(3 * jiffy / 1000 + 1000);
		t0 = clock_ns(CLOCK_MONOTONIC_COARSE);
		ut_send(u, hooks[i % 3], buf, n, "clock_send");
		t1 = clock_ns(CLOCK_MONOTONIC_COARSE);
		if (ut_flow(u, &k, &v) || v.last_seen + jiffy < t0 || v.last_seen > t1 ||
		    v.last_seen <= prev) {
			ok = 0;
			off += snprintf(detail + off, sizeof(detail) - off,
					"packet %d (%s): last_seen %llu, coarse clock %llu .. %llu, "
					"previous %llu, jiffy %llu\n", i, ut_hook_name(hooks[i % 3]),
					U64(v.last_seen), U64(t0), U64(t1), U64(prev), U64(jiffy));
			if (off >= sizeof(detail))
				off = sizeof(detail) - 1;
		}
		prev = v.last_seen;
	}
	ut_check(ok, "clock_first_precise_last_coarse", "%s", detail);
}

/* ---- non-IP -------------------------------------------------------------- */

static void t_nonip(struct ut *u)
{
	struct nacct_ethertype_val ev, e0;
	struct pkt_spec s;
	struct nacct_stats st;
	size_t n1, n2, n3;

	ut_reset(u);
	pkt_spec_init(&s, 0, 0, 0, 0);
	s.ethertype = 0x0806;
	s.payload = 28;
	n1 = build(&s, NULL);
	ut_send(u, UT_XDP, buf, n1, "nonip_arp");
	s.nvlan = 1;
	s.vlan_tpid[0] = 0x8100;
	s.vlan_vid[0] = 5;
	n2 = build(&s, NULL);
	ut_send(u, UT_TC_EGRESS, buf, n2, "nonip_arp_vlan");
	/* 802.3 frame: the type field is a length (46 bytes of LLC) */
	s.nvlan = 0;
	s.ethertype = 46;
	s.payload = 46;
	n3 = build(&s, NULL);
	ut_send(u, UT_XDP, buf, n3, "nonip_8023");
	ut_ethertype(u, 0x0806, &ev);
	ut_check(ev.packets[0] == 1 && ev.bytes[0] == n1 && ev.packets[1] == 1 &&
			 ev.bytes[1] == n2,
		 "nonip_arp_ethertype", "ethertype 0x0806: rx %llu/%llu tx %llu/%llu",
		 U64(ev.packets[0]), U64(ev.bytes[0]), U64(ev.packets[1]), U64(ev.bytes[1]));
	ut_ethertype(u, 0, &e0);
	ut_check(e0.packets[0] == 1 && e0.bytes[0] == n3, "nonip_8023_length_frame",
		 "ethertype 0: %llu/%llu", U64(e0.packets[0]), U64(e0.bytes[0]));
	ut_stats(u, &st);
	ut_check(st.nonip_packets[0] == 2 && st.nonip_packets[1] == 1 && n_flows(u) == 0,
		 "nonip_stats", "nonip rx %llu tx %llu flows %d", U64(st.nonip_packets[0]),
		 U64(st.nonip_packets[1]), n_flows(u));
	ut_conserve(u, "nonip_conservation");
}

/* ---- malformed ------------------------------------------------------------ */

#define CLASS_IP -1
#define CLASS_REFUSED -2

/* run one frame on a reset map and check it is counted once, in @class */
static int one_frame(struct ut *u, enum ut_hook h, const __u8 *p, size_t len, int class,
		     char *why, size_t wlen)
{
	struct nacct_stats st;
	int verdict = 0, err, d = h == UT_TC_EGRESS, nf;

	ut_reset(u);
	err = ut_run(u, h, p, (__u32)len, NULL, &verdict);
	ut_stats(u, &st);
	if (class == CLASS_REFUSED) {
		if (err != -EINVAL || st.packets[0] + st.packets[1]) {
			snprintf(why, wlen, "len %zu: test_run %d, %llu counted (expected refusal)",
				 len, err, U64(st.packets[0] + st.packets[1]));
			return 0;
		}
		return 1;
	}
	if (err || verdict != ut_pass_verdict(h)) {
		snprintf(why, wlen, "len %zu: test_run %d verdict %d", len, err, verdict);
		return 0;
	}
	if (st.packets[d] != 1 || st.bytes[d] != len) {
		snprintf(why, wlen, "len %zu: totals %llu/%llu", len, U64(st.packets[d]),
			 U64(st.bytes[d]));
		return 0;
	}
	nf = n_flows(u);
	if (class == CLASS_IP) {
		if (nf != 1 || st.malformed_packets[d] || st.nonip_packets[d]) {
			int r, got = -1;

			for (r = 0; r < NACCT_MAL_MAX; r++)
				if (st.malformed[r])
					got = r;
			snprintf(why, wlen, "len %zu: expected a flow; %d flows, malformed %s, nonip %llu",
				 len, nf, got < 0 ? "none" : ut_mal_name(got),
				 U64(st.nonip_packets[d]));
			return 0;
		}
		return 1;
	}
	if (nf != 0 || st.malformed_packets[d] != 1 || st.malformed_bytes[d] != len ||
	    st.malformed[class] != 1) {
		int r, got = -1;

		for (r = 0; r < NACCT_MAL_MAX; r++)
			if (st.malformed[r])
				got = r;
		snprintf(why, wlen, "len %zu: expected malformed %s; got %s (flows %d, malformed %llu)",
			 len, ut_mal_name(class), got < 0 ? "none" : ut_mal_name(got), nf,
			 U64(st.malformed_packets[d]));
		return 0;
	}
	return 1;
}

/*
 * Every cut of a TCP packet.  @fixup: the IP length field is set to what
 * is left (a well-formed short datagram); otherwise it still claims the
 * full length.
 */
static void t_truncate(struct ut *u, int fam, int fixup, enum ut_hook h)
{
	static __u8 cut[PKT_MAX];
	struct pkt_layout l;
	struct pkt_spec s;
	char name[96], why[256], detail[2048] = "";
	size_t n, c, off = 0, hdr_end, l4_end, ext_end;
	int bad = 0, class;

	pkt_spec_init(&s, fam, PKT_P_TCP, 1234, 80);
	s.tcp_opt = 12;
	s.payload = 16;
	if (fam == 4) {
		s.ip4_opt = 8;
	} else {
		s.n_ext = 1;
		s.ext[0] = 60;
	}
	n = build(&s, &l);
	hdr_end = l.l3 + (fam == 4 ? 20 + 8 : 40);
	ext_end = l.l4;
	l4_end = l.l4 + 20 + 12;
	for (c = 0; c <= n; c++) {
		memcpy(cut, buf, c);
		if (fixup && c >= l.l3 + 6) {
			if (fam == 4)
				pkt_put16(cut + l.l3 + 2, (__u16)(c - l.l3));
			else if (c >= l.l3 + 40)
				pkt_put16(cut + l.l3 + 4, (__u16)(c - l.l3 - 40));
		}
		if (ut_refused(h, cut, c))
			class = CLASS_REFUSED;
		else if (c < hdr_end)
			class = fam == 4 ? NACCT_MAL_IP4_HDR : NACCT_MAL_IP6_HDR;
		else if (c == n)
			class = CLASS_IP;
		else if (!fixup)
			class = fam == 4 ? NACCT_MAL_IP4_LEN : NACCT_MAL_IP6_HDR;
		else if (c < ext_end)
			class = NACCT_MAL_IP6_EXT;
		else if (c < l4_end)
			class = NACCT_MAL_L4;
		else
			class = CLASS_IP;
		if (!one_frame(u, h, cut, c, class, why, sizeof(why))) {
			bad++;
			if (off < sizeof(detail) - 300)
				off += snprintf(detail + off, sizeof(detail) - off, "%s\n", why);
		}
	}
	snprintf(name, sizeof(name), "truncate_tcp%d_%s_%s", fam, fixup ? "fixed_len" : "raw",
		 ut_hook_name(h));
	ut_check(!bad, name, "%d of %zu cuts wrong:\n%s", bad, n + 1, detail);
}

struct bogus {
	const char *name;
	int class;
	void (*make)(struct pkt_spec *s, struct pkt_layout *l, size_t *len, int phase);
	int family;
	__u8 proto;
};

/* phase 0: adjust the spec; phase 1: corrupt buf / *len after building */
static void b_ihl4(struct pkt_spec *s, struct pkt_layout *l, size_t *n, int ph)
{
	if (ph)
		buf[l->l3] = 0x44;
}
static void b_ihl15_short(struct pkt_spec *s, struct pkt_layout *l, size_t *n, int ph)
{
	if (ph)
		buf[l->l3] = 0x4f; /* 60-byte header, 40 bytes in the frame */
}
static void b_ihl_gt_totlen(struct pkt_spec *s, struct pkt_layout *l, size_t *n, int ph)
{
	if (!ph)
		s->payload = 100;
	else
		buf[l->l3] = 0x4f, pkt_put16(buf + l->l3 + 2, 40);
}
static void b_ip4_version6(struct pkt_spec *s, struct pkt_layout *l, size_t *n, int ph)
{
	if (ph)
		buf[l->l3] = 0x65;
}
static void b_totlen_big(struct pkt_spec *s, struct pkt_layout *l, size_t *n, int ph)
{
	if (ph)
		pkt_put16(buf + l->l3 + 2, (__u16)(*n - l->l3 + 1));
}
static void b_totlen_small(struct pkt_spec *s, struct pkt_layout *l, size_t *n, int ph)
{
	if (ph)
		pkt_put16(buf + l->l3 + 2, 19);
}
static void b_totlen_no_l4(struct pkt_spec *s, struct pkt_layout *l, size_t *n, int ph)
{
	/* datagram ends after the IP header; the frame's padding is not TCP */
	if (ph)
		pkt_put16(buf + l->l3 + 2, 20);
}
static void b_totlen_half_udp(struct pkt_spec *s, struct pkt_layout *l, size_t *n, int ph)
{
	if (!ph)
		s->payload = 26; /* a 60-byte frame */
	else
		pkt_put16(buf + l->l3 + 2, 24);
}
static void b_ip6_plen_big(struct pkt_spec *s, struct pkt_layout *l, size_t *n, int ph)
{
	if (ph)
		pkt_put16(buf + l->l3 + 4, (__u16)(*n - l->l3 - 40 + 1));
}
static void b_ip6_version4(struct pkt_spec *s, struct pkt_layout *l, size_t *n, int ph)
{
	if (ph)
		buf[l->l3] = 0x40;
}
static void b_ip6_plen_no_l4(struct pkt_spec *s, struct pkt_layout *l, size_t *n, int ph)
{
	if (!ph)
		s->payload = 20;
	else
		pkt_put16(buf + l->l3 + 4, 4); /* 4 bytes of UDP claimed */
}
static void b_doff4(struct pkt_spec *s, struct pkt_layout *l, size_t *n, int ph)
{
	if (ph)
		buf[l->l4 + 12] = 4 << 4;
}
static void b_doff0(struct pkt_spec *s, struct pkt_layout *l, size_t *n, int ph)
{
	if (ph)
		buf[l->l4 + 12] = 0;
}
static void b_doff15_short(struct pkt_spec *s, struct pkt_layout *l, size_t *n, int ph)
{
	if (!ph)
		s->payload = 8;
	else
		buf[l->l4 + 12] = 15 << 4; /* 60-byte header, 28 bytes present */
}
static void ext_n(struct pkt_spec *s, int k)
{
	int i;

	s->n_ext = k;
	for (i = 0; i < k; i++)
		s->ext[i] = i == 0 ? 0 : (i & 1) ? 60 : 43;
}
static void b_ext8(struct pkt_spec *s, struct pkt_layout *l, size_t *n, int ph)
{
	if (!ph)
		ext_n(s, NACCT_MAX_IPV6_EXT);
}
static void b_ext9(struct pkt_spec *s, struct pkt_layout *l, size_t *n, int ph)
{
	if (!ph)
		ext_n(s, NACCT_MAX_IPV6_EXT + 1);
}
static void b_ext_len_big(struct pkt_spec *s, struct pkt_layout *l, size_t *n, int ph)
{
	if (!ph)
		ext_n(s, 1);
	else
		buf[l->l3 + 41] = 200; /* 1608 bytes claimed */
}
static void b_ext_beyond_plen(struct pkt_spec *s, struct pkt_layout *l, size_t *n, int ph)
{
	if (!ph) {
		ext_n(s, 1);
		s->payload = 40;
	} else {
		pkt_put16(buf + l->l3 + 4, 4); /* half of the hop-by-hop header */
	}
}
static void b_ext_loop(struct pkt_spec *s, struct pkt_layout *l, size_t *n, int ph)
{
	/* every header points to another destination-options header */
	if (!ph) {
		s->payload = 400;
	} else {
		size_t p;

		buf[l->l3 + 6] = 60;
		for (p = l->l3 + 40; p + 8 <= *n; p += 8) {
			buf[p] = 60;
			buf[p + 1] = 0;
		}
	}
}
static void b_short_l4(struct pkt_spec *s, struct pkt_layout *l, size_t *n, int ph)
{
	if (ph)
		*n = l->l4 + 4, pkt_put16(buf + l->l3 + (s->family == 4 ? 2 : 4),
				  (__u16)(s->family == 4 ? *n - l->l3 : *n - l->l3 - 40));
}
static void b_sctp_8(struct pkt_spec *s, struct pkt_layout *l, size_t *n, int ph)
{
	if (ph)
		*n = l->l4 + 8, pkt_put16(buf + l->l3 + 2, (__u16)(*n - l->l3));
}
static void vlans(struct pkt_spec *s, int k)
{
	int i;

	s->nvlan = k;
	for (i = 0; i < k; i++) {
		s->vlan_tpid[i] = i == 0 ? 0x88a8 : 0x8100;
		s->vlan_vid[i] = (__u16)(10 + i);
	}
}
static void b_vlan3(struct pkt_spec *s, struct pkt_layout *l, size_t *n, int ph)
{
	if (!ph)
		vlans(s, 3);
}
static void b_vlan_cut(struct pkt_spec *s, struct pkt_layout *l, size_t *n, int ph)
{
	if (!ph)
		vlans(s, 1);
	else
		*n = 16; /* the tag's TCI only */
}
static void b_totlen0(struct pkt_spec *s, struct pkt_layout *l, size_t *n, int ph)
{
	/* tot_len 0: a GSO super-packet, bounded by the frame */
	if (ph)
		pkt_put16(buf + l->l3 + 2, 0);
}
static void b_ip6_plen0(struct pkt_spec *s, struct pkt_layout *l, size_t *n, int ph)
{
	if (ph)
		pkt_put16(buf + l->l3 + 4, 0);
}
static void b_padded(struct pkt_spec *s, struct pkt_layout *l, size_t *n, int ph)
{
	/* a 54-byte SYN padded to the 60-byte minimum: still the same flow */
	if (ph)
		*n = 60;
}

static const struct bogus bogus_cases[] = {
	{ "ip4_ihl_below_5", NACCT_MAL_IP4_HDR, b_ihl4, 4, PKT_P_TCP },
	{ "ip4_ihl_beyond_frame", NACCT_MAL_IP4_HDR, b_ihl15_short, 4, PKT_P_TCP },
	{ "ip4_ihl_beyond_totlen", NACCT_MAL_IP4_LEN, b_ihl_gt_totlen, 4, PKT_P_TCP },
	{ "ip4_bad_version", NACCT_MAL_IP4_HDR, b_ip4_version6, 4, PKT_P_TCP },
	{ "ip4_totlen_beyond_frame", NACCT_MAL_IP4_LEN, b_totlen_big, 4, PKT_P_TCP },
	{ "ip4_totlen_below_ihl", NACCT_MAL_IP4_LEN, b_totlen_small, 4, PKT_P_TCP },
	{ "ip4_totlen_no_room_for_tcp", NACCT_MAL_L4, b_totlen_no_l4, 4, PKT_P_TCP },
	{ "ip4_totlen_half_udp_header", NACCT_MAL_L4, b_totlen_half_udp, 4, PKT_P_UDP },
	{ "ip4_totlen_0_gso", CLASS_IP, b_totlen0, 4, PKT_P_TCP },
	{ "ip4_padded_min_frame", CLASS_IP, b_padded, 4, PKT_P_TCP },
	{ "ip6_plen_beyond_frame", NACCT_MAL_IP6_HDR, b_ip6_plen_big, 6, PKT_P_TCP },
	{ "ip6_bad_version", NACCT_MAL_IP6_HDR, b_ip6_version4, 6, PKT_P_TCP },
	{ "ip6_plen_half_udp_header", NACCT_MAL_L4, b_ip6_plen_no_l4, 6, PKT_P_UDP },
	{ "ip6_plen_0_gso", CLASS_IP, b_ip6_plen0, 6, PKT_P_UDP },
	{ "tcp_doff_4", NACCT_MAL_L4, b_doff4, 4, PKT_P_TCP },
	{ "tcp6_doff_0", NACCT_MAL_L4, b_doff0, 6, PKT_P_TCP },
	{ "tcp_doff_beyond_frame", NACCT_MAL_L4, b_doff15_short, 4, PKT_P_TCP },
	{ "ip6_ext_chain_max", CLASS_IP, b_ext8, 6, PKT_P_TCP },
	{ "ip6_ext_chain_too_long", NACCT_MAL_IP6_EXT, b_ext9, 6, PKT_P_TCP },
	{ "ip6_ext_len_beyond_frame", NACCT_MAL_IP6_EXT, b_ext_len_big, 6, PKT_P_TCP },
	{ "ip6_ext_beyond_payload_len", NACCT_MAL_IP6_EXT, b_ext_beyond_plen, 6, PKT_P_TCP },
	{ "ip6_ext_endless_chain", NACCT_MAL_IP6_EXT, b_ext_loop, 6, 253 },
	{ "icmp_short", NACCT_MAL_L4, b_short_l4, 4, PKT_P_ICMP },
	{ "icmpv6_short", NACCT_MAL_L4, b_short_l4, 6, PKT_P_ICMPV6 },
	{ "udp6_short", NACCT_MAL_L4, b_short_l4, 6, PKT_P_UDP },
	{ "sctp_short", NACCT_MAL_L4, b_sctp_8, 4, PKT_P_SCTP },
	{ "vlan_three_tags", NACCT_MAL_VLAN, b_vlan3, 4, PKT_P_UDP },
	{ "vlan_truncated_tag", NACCT_MAL_VLAN, b_vlan_cut, 4, PKT_P_UDP },
};

static void t_bogus(struct ut *u, const struct bogus *b, enum ut_hook h)
{
	struct pkt_layout l;
	struct pkt_spec s;
	char name[96], why[256] = "";
	size_t n;

	pkt_spec_init(&s, b->family, b->proto, 1000, 2000);
	b->make(&s, &l, &n, 0);
	n = build(&s, &l);
	b->make(&s, &l, &n, 1);
	snprintf(name, sizeof(name), "%s_%s", b->name, ut_hook_name(h));
	ut_check(one_frame(u, h, buf, n, b->class, why, sizeof(why)), name, "%s", why);
}

/* ---- TC only: GSO and a VLAN tag in skb metadata ---------------------------- */

static void t_gso(struct ut *u, int fam, int vlan)
{
	struct __sk_buff ctx;
	struct nacct_flow_key k;
	struct nacct_flow_val v;
	struct nacct_stats st;
	struct pkt_layout l;
	struct pkt_spec s;
	size_t n, hdr;
	char name[64];
	int verdict = 0, err;
	__u64 want;

	ut_reset(u);
	pkt_spec_init(&s, fam, PKT_P_TCP, 45000, 443);
	s.tcp_opt = 12;
	s.payload = 3 * 1000;
	if (vlan)
		tw_vlan(&s);
	if (fam == 6)
		tw_v6chain(&s);
	n = build(&s, &l);
	hdr = l.pay;
	memset(&ctx, 0, sizeof(ctx));
	ctx.gso_segs = 3;
	ctx.gso_size = 1000;
	snprintf(name, sizeof(name), "tc_gso_tcp%d%s_test_run", fam, vlan ? "_vlan" : "");
	err = ut_run(u, UT_TC_EGRESS, buf, (__u32)n, &ctx, &verdict);
	if (!ut_check(!err && verdict == -1, name, "test_run with gso_segs: %s, verdict %d",
		      strerror(-err), verdict))
		return;
	snprintf(name, sizeof(name), "tc_gso_tcp%d%s_counts_segments", fam, vlan ? "_vlan" : "");
	want = n + 2 * hdr;
	ut_key(&k, fam, s.src, 45000, s.dst, 443, PKT_P_TCP, vlan ? 100 : 0, NULL);
	memset(&v, 0, sizeof(v));
	ut_flow(u, &k, &v);
	ut_stats(u, &st);
	ut_check(v.packets[1] == 3 && v.bytes[1] == want && st.packets[1] == 3 &&
			 st.bytes[1] == want && st.gso_skbs[1] == 1,
		 name,
		 "flow %llu packets %llu bytes, totals %llu/%llu, gso_skbs %llu; expected 3 "
		 "packets, %llu bytes (len %zu + 2 * headers %zu)%s",
		 U64(v.packets[1]), U64(v.bytes[1]), U64(st.packets[1]), U64(st.bytes[1]),
		 U64(st.gso_skbs[1]), U64(want), n, hdr,
		 v.packets[1] == 1 ? "\nthe kernel did not hand gso_segs to the program" : "");
	snprintf(name, sizeof(name), "tc_gso_tcp%d%s_conservation", fam, vlan ? "_vlan" : "");
	ut_conserve(u, name);
}

static void t_hw_vlan(struct ut *u)
{
	struct __sk_buff ctx;
	struct nacct_flow_key k;
	struct nacct_flow_val v;
	struct pkt_spec s;
	size_t n;
	int verdict = 0, err;

	ut_reset(u);
	pkt_spec_init(&s, 4, PKT_P_UDP, 1, 2);
	n = build(&s, NULL);
	memset(&ctx, 0, sizeof(ctx));
	ctx.vlan_present = 1;
	ctx.vlan_tci = 0x2000 | 42;
	err = ut_run(u, UT_TC_EGRESS, buf, (__u32)n, &ctx, &verdict);
	if (err == -EINVAL) {
		ut_skip("tc_hw_vlan_metadata",
			"BPF_PROG_TEST_RUN refuses vlan_present/vlan_tci in ctx_in (EINVAL)");
		return;
	}
	ut_key(&k, 4, s.src, 1, s.dst, 2, PKT_P_UDP, 42, NULL);
	memset(&v, 0, sizeof(v));
	ut_flow(u, &k, &v);
	ut_check(!err && v.packets[1] == 1 && v.bytes[1] == n + 4, "tc_hw_vlan_metadata",
		 "err %d; flow vlan 42: %llu packets %llu bytes (expected 1/%zu)", err,
		 U64(v.packets[1]), U64(v.bytes[1]), n + 4);
}

/* ---- sampling ------------------------------------------------------------ */

struct smp {
	int n;
	struct {
		__u32 len, caplen;
		__u8 dir;
		__u8 data[64];
	} rec[16];
};

static int on_sample(void *ctx, void *data, size_t size)
{
	struct smp *sm = ctx;
	const struct nacct_sample_hdr *h = data;

	if (sm->n < 16 && size >= sizeof(*h)) {
		sm->rec[sm->n].len = h->len;
		sm->rec[sm->n].caplen = h->caplen;
		sm->rec[sm->n].dir = h->dir;
		memcpy(sm->rec[sm->n].data, (const __u8 *)data + sizeof(*h),
		       h->caplen < 64 && sizeof(*h) + h->caplen <= size ? h->caplen : 64);
	}
	sm->n++;
	return 0;
}

static void t_sampling(struct ut *u)
{
	static const size_t sizes[] = { 40, 60, 300, 1400 };
	static __u8 sent[4][64];
	struct ring_buffer *rb;
	struct pkt_spec s;
	struct smp sm;
	struct nacct_stats st;
	size_t n[4];
	char detail[1024] = "";
	size_t off = 0;
	int i, ok = 1;

	ut_reset(u);
	memset(&sm, 0, sizeof(sm));
	rb = ring_buffer__new(u->samples, on_sample, &sm, NULL);
	if (!ut_check(rb != NULL, "sample_ringbuf_open", "ring_buffer__new: %s", strerror(errno)))
		return;
	ring_buffer__consume(rb); /* leftovers of earlier cases */
	sm.n = 0;
	ut_set_cfg(u, 1, 64);
	for (i = 0; i < 4; i++) {
		pkt_spec_init(&s, i & 1 ? 6 : 4, PKT_P_UDP, (__u16)(100 + i), 53);
		s.payload = (int)sizes[i];
		n[i] = build(&s, NULL);
		memcpy(sent[i], buf, 64);
		ut_send(u, i & 1 ? UT_TC_EGRESS : UT_XDP, buf, n[i], "sample_every_packet");
	}
	ring_buffer__consume(rb);
	if (sm.n != 4) {
		ok = 0;
		off += snprintf(detail + off, sizeof(detail) - off, "%d records for 4 packets\n",
				sm.n);
	}
	for (i = 0; i < 4 && i < sm.n; i++) {
		__u32 cl = n[i] < 64 ? (__u32)n[i] : 64;

		if (sm.rec[i].len != n[i] || sm.rec[i].caplen != cl || sm.rec[i].dir != (i & 1) ||
		    memcmp(sm.rec[i].data, sent[i], cl)) {
			ok = 0;
			off += snprintf(detail + off, sizeof(detail) - off,
					"record %d: len %u caplen %u dir %u (expected %zu %u %d)%s\n",
					i, sm.rec[i].len, sm.rec[i].caplen, sm.rec[i].dir, n[i], cl,
					i & 1, memcmp(sm.rec[i].data, sent[i], cl) ? ", bytes differ" : "");
		}
	}
	ut_stats(u, &st);
	ut_check(ok && st.samples == 4 && st.sample_drops == 0, "sample_every_packet",
		 "%ssamples %llu drops %llu", detail, U64(st.samples), U64(st.sample_drops));

	ut_set_cfg(u, 0, 64);
	sm.n = 0;
	for (i = 0; i < 4; i++)
		ut_send(u, i & 1 ? UT_TC_EGRESS : UT_XDP, buf, 100, "sample_off");
	ring_buffer__consume(rb);
	ut_stats(u, &st);
	ut_check(sm.n == 0 && st.samples == 4, "sample_off", "%d records with sample_n 0", sm.n);
	ring_buffer__free(rb);
	ut_conserve(u, "sample_conservation");
}

/* ---- two CPUs on one flow ------------------------------------------------- */

struct cpu_run {
	struct ut *u;
	int cpu, prog_fd;
	const __u8 *pkt;
	__u32 len, repeat;
	pthread_barrier_t *start;
	int err;
};

static void *cpu_run_thread(void *arg)
{
	struct cpu_run *r = arg;
	cpu_set_t cs;
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = r->pkt, .data_size_in = r->len,
		    .repeat = r->repeat);

	CPU_ZERO(&cs);
	CPU_SET(r->cpu, &cs);
	r->err = pthread_setaffinity_np(pthread_self(), sizeof(cs), &cs);
	pthread_barrier_wait(r->start);
	if (!r->err && bpf_prog_test_run_opts(r->prog_fd, &t))
		r->err = -errno;
	return NULL;
}

/*
 * Two CPUs hit one new flow at the same moment, many times each
 * (BPF_PROG_TEST_RUN's repeat): CPU 0 runs the received packet through
 * XDP while CPU 1 runs the reply through TC egress (the insert race, both
 * directions' flags in one word), then both run the received packet
 * through XDP (the same counters at the same time).  Every count must be exact (the
 * shared layout adds atomically, the per-CPU one per CPU), the flow
 * inserted once whichever CPU won the race (flows_created), both
 * directions seen, and the conservation law hold.
 */
static void t_two_cpus(struct ut *u)
{
	enum { FLOWS = 6, REPEAT = 100000 };
	static __u8 rx[PKT_MAX], tx[PKT_MAX];
	struct nacct_stats st;
	struct pkt_layout lay;
	struct ut_flows f;
	struct pkt_spec s, r;
	char detail[1024] = "";
	size_t nrx, ntx, i, off = 0;
	size_t len_rx[2] = { 0, 0 }, len_tx[2] = { 0, 0 }; /* by family: [0] v4, [1] v6 */
	int ok = 1, c;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		ut_skip("two_cpus_one_flow_exact", "needs two online CPUs");
		return;
	}
	ut_reset(u);
	for (i = 0; i < FLOWS; i++) {
		int phase;

		pkt_spec_init(&s, i & 1 ? 6 : 4, PKT_P_TCP, (__u16)(20000 + i), 443);
		s.tcp_flags = 0x10;
		nrx = pkt_build(&s, rx, sizeof(rx), &lay);
		r = s;
		pkt_spec_reverse(&r);
		r.payload = 100;
		ntx = pkt_build(&r, tx, sizeof(tx), &lay);
		len_rx[i & 1] = nrx;
		len_tx[i & 1] = ntx;
		/* phase 0: the insert race, and both directions' flags in one word;
		 * phase 1: both CPUs add to the same counters */
		for (phase = 0; phase < 2; phase++) {
			pthread_barrier_t start;
			struct cpu_run run[2];
			pthread_t th[2];

			pthread_barrier_init(&start, NULL, 2);
			run[0] = (struct cpu_run){ u, 0, u->prog_xdp, rx, (__u32)nrx, REPEAT,
						   &start, 0 };
			if (phase == 0)
				run[1] = (struct cpu_run){ u, 1, u->prog_egress, tx, (__u32)ntx,
							   REPEAT, &start, 0 };
			else
				run[1] = (struct cpu_run){ u, 1, u->prog_xdp, rx, (__u32)nrx,
							   REPEAT, &start, 0 };
			for (c = 0; c < 2; c++)
				pthread_create(&th[c], NULL, cpu_run_thread, &run[c]);
			for (c = 0; c < 2; c++)
				pthread_join(th[c], NULL);
			pthread_barrier_destroy(&start);
			for (c = 0; c < 2; c++)
				if (run[c].err) {
					ok = 0;
					off += snprintf(detail + off, sizeof(detail) - off,
							"flow %zu, CPU %d: %s\n", i, c,
							strerror(-run[c].err));
				}
		}
	}
	if (ut_flows(u, &f) || ut_stats(u, &st)) {
		ut_check(0, "two_cpus_one_flow_exact", "cannot read the maps");
		return;
	}
	if (f.n != FLOWS || st.flows_created != FLOWS) {
		ok = 0;
		off += snprintf(detail + off, sizeof(detail) - off,
				"%zu flows in the map, %llu created; expected %d\n", f.n,
				U64(st.flows_created), FLOWS);
	}
	for (i = 0; i < f.n && off < sizeof(detail) - 128; i++) {
		const struct nacct_flow_val *v = &f.vals[i];
		int v6 = f.keys[i].family == NACCT_AF_INET6;

		if (v->packets[0] != 3 * REPEAT || v->packets[1] != REPEAT ||
		    v->bytes[0] != len_rx[v6] * 3 * REPEAT || v->bytes[1] != len_tx[v6] * REPEAT ||
		    v->seen_dirs != 3 ||
		    v->tcp_flags[0] != 0x10 || v->tcp_flags[1] != 0x10) {
			ok = 0;
			off += snprintf(detail + off, sizeof(detail) - off,
					"flow %zu: rx %llu/%llu tx %llu/%llu dirs %u flags %#x/%#x\n",
					i, U64(v->packets[0]), U64(v->bytes[0]), U64(v->packets[1]),
					U64(v->bytes[1]), v->seen_dirs, v->tcp_flags[0],
					v->tcp_flags[1]);
		}
	}
	ut_flows_free(&f);
	ut_check(ok, "two_cpus_one_flow_exact", "%s", detail);
	ut_conserve(u, "two_cpus_conservation");
}

/* ---- subnets ------------------------------------------------------------- */

static void t_subnets(void)
{
	struct ut_subnet sn[6];
	struct nacct_subnet_stats ss[7];
	struct pkt_spec s;
	struct ut u;
	__u64 exp_rx[7] = {}, exp_tx[7] = {};
	char detail[1024] = "";
	size_t n, off = 0;
	int i, ok = 1;

	memset(sn, 0, sizeof(sn));
	sn[0] = (struct ut_subnet){ .family = 4, .plen = 16, .id = 1 };
	pkt_addr4(sn[0].addr, 198, 18, 0, 0);
	sn[1] = (struct ut_subnet){ .family = 4, .plen = 24, .id = 2 };
	pkt_addr4(sn[1].addr, 198, 18, 5, 0);
	sn[2] = (struct ut_subnet){ .family = 6, .plen = 32, .id = 3 };
	pkt_addr6(sn[2].addr, 1, 0);
	sn[3] = (struct ut_subnet){ .family = 6, .plen = 48, .id = 4 };
	pkt_addr6(sn[3].addr, 1, 0);
	sn[3].addr[4] = 0x00;
	sn[3].addr[5] = 0x02; /* fd00:1:2::/48 */
	/* the bytes of 198.18/16 as an IPv6 prefix: must never match IPv4 */
	sn[4] = (struct ut_subnet){ .family = 6, .plen = 16, .id = 5 };
	sn[4].addr[0] = 198;
	sn[4].addr[1] = 18;
	sn[5] = (struct ut_subnet){ .family = 4, .plen = 32, .id = 6 };
	pkt_addr4(sn[5].addr, 198, 18, 5, 77);
	if (ut_load(&u, &(struct ut_opts){ .subnets = sn, .n_subnets = 6 })) {
		ut_check(0, "subnets_load", "cannot load with 6 subnets");
		return;
	}
	/* RX: counted against the source; TX: against the destination */
	struct {
		int fam;
		__u8 a[4];
		__u16 h6;
		__u8 s6;
		enum ut_hook hook;
		int id;
	} cases[] = {
		{ 4, { 198, 18, 5, 7 }, 0, 0, UT_XDP, 2 },      /* /24 beats /16 */
		{ 4, { 198, 18, 9, 9 }, 0, 0, UT_XDP, 1 },
		{ 4, { 198, 19, 1, 1 }, 0, 0, UT_XDP, 0 },      /* unmatched */
		{ 4, { 198, 18, 5, 77 }, 0, 0, UT_TC_EGRESS, 6 }, /* /32 */
		{ 4, { 198, 18, 5, 9 }, 0, 0, UT_TC_EGRESS, 2 },
		{ 4, { 198, 19, 200, 1 }, 0, 0, UT_TC_INGRESS, 0 },
		{ 6, {}, 1, 2, UT_XDP, 4 },                    /* fd00:1:2:: /48 */
		{ 6, {}, 1, 9, UT_TC_EGRESS, 3 },              /* fd00:1:9:: /32 */
		{ 6, {}, 2, 0, UT_XDP, 0 },                    /* fd00:2:: */
	};
	ut_reset(&u);
	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		int tx = cases[i].hook == UT_TC_EGRESS;
		__u8 *remote;

		pkt_spec_init(&s, cases[i].fam, PKT_P_UDP, (__u16)(3000 + i), 53);
		s.payload = i * 10;
		/* the local end is 198.19.255.254 / fd00:ff::1 (no subnet) */
		if (cases[i].fam == 4)
			pkt_addr4(s.dst, 198, 19, 255, 254);
		else
			pkt_addr6(s.dst, 0xff, 1);
		remote = s.src;
		if (cases[i].fam == 4) {
			memcpy(remote, cases[i].a, 4);
		} else {
			pkt_addr6(remote, cases[i].h6, 5);
			remote[5] = cases[i].s6;
		}
		if (tx)
			pkt_spec_reverse(&s);
		n = build(&s, NULL);
		ut_send(&u, cases[i].hook, buf, n, "subnets_send");
		/* the reply counts the remote end too: its destination on TX,
		 * its source on RX; the local end has no subnet, so counting
		 * the wrong end would show up as id 0 */
		pkt_spec_reverse(&s);
		n = build(&s, NULL);
		ut_send(&u, tx ? UT_XDP : UT_TC_EGRESS, buf, n, "subnets_send");
		exp_rx[cases[i].id]++;
		exp_tx[cases[i].id]++;
	}
	for (i = 0; i < 7; i++) {
		ut_subnet_stats(&u, (__u32)i, &ss[i]);
		if (ss[i].packets[0] != exp_rx[i] || ss[i].packets[1] != exp_tx[i]) {
			ok = 0;
			off += snprintf(detail + off, sizeof(detail) - off,
					"id %d: rx %llu tx %llu, expected rx %llu tx %llu\n", i,
					U64(ss[i].packets[0]), U64(ss[i].packets[1]),
					U64(exp_rx[i]), U64(exp_tx[i]));
		}
	}
	ut_check(ok, "subnets_rx_by_source_tx_by_destination", "%s", detail);
	ut_conserve(&u, "subnets_conservation");
	ut_unload(&u);
}

/* ---- overflow ------------------------------------------------------------ */

static void t_overflow(void)
{
	struct nacct_stats st;
	struct ut_flows f;
	struct pkt_spec s;
	struct ut u;
	__u64 bytes = 0;
	size_t n;
	int i;

	if (ut_load(&u, &(struct ut_opts){ .max_flows = 16 })) {
		ut_check(0, "overflow_load", "cannot load with max_flows 16");
		return;
	}
	ut_reset(&u);
	for (i = 0; i < 100; i++) {
		pkt_spec_init(&s, i % 3 ? 4 : 6, PKT_P_UDP, (__u16)(10000 + i), 53);
		s.payload = i;
		n = build(&s, NULL);
		bytes += n;
		ut_send(&u, i & 1 ? UT_TC_EGRESS : UT_XDP, buf, n, "overflow_send");
	}
	ut_stats(&u, &st);
	ut_flows(&u, &f);
	ut_check(f.n == 16, "overflow_map_full", "%zu flows in a 16-entry map", f.n);
	ut_check(st.packets[0] + st.packets[1] == 100 && st.bytes[0] + st.bytes[1] == bytes &&
			 f.packets[0] + f.packets[1] + st.overflow_packets[0] +
					 st.overflow_packets[1] == 100 &&
			 st.overflow_packets[0] + st.overflow_packets[1] == 84 &&
			 st.flow_insert_err == 0,
		 "overflow_flows_plus_overflow_is_total",
		 "totals %llu, flows %llu, overflow %llu (expected 100 = 16 + 84), insert_err %llu",
		 U64(st.packets[0] + st.packets[1]), U64(f.packets[0] + f.packets[1]),
		 U64(st.overflow_packets[0] + st.overflow_packets[1]), U64(st.flow_insert_err));
	ut_flows_free(&f);
	ut_conserve(&u, "overflow_conservation");
	ut_unload(&u);
}

/* ---- multi-buffer XDP (jumbo frames) ------------------------------------- */

/*
 * The multi-buffer program on frames larger than one buffer: bytes are
 * the whole frame's, across its fragments; and on frames whose headers
 * run past the first buffer (a first buffer of every size from the
 * Ethernet header to past the L4 header): the same flow, never malformed.
 * A frame bad in itself stays malformed however it is split.
 */
struct mb_case {
	const char *name;
	int family;
	__u8 proto;
	int n_ext;      /* IPv6 extension headers (hop-by-hop, routing, dest, AH...) */
	int nvlan;
	int bad_ihl;    /* IHL 4: malformed (ip4_hdr) */
};

static const struct mb_case mb_cases[] = {
	{ "mb_udp4_9000", 4, PKT_P_UDP, 0, 0, 0 },
	{ "mb_tcp6_ext5_vlan2", 6, PKT_P_TCP, 5, 2, 0 },
	{ "mb_udplite6_ext8", 6, PKT_P_UDPLITE, 8, 0, 0 },
	{ "mb_bad_ihl4", 4, PKT_P_TCP, 0, 1, 1 },
};

static void t_multibuf(const struct mb_case *c)
{
	static const __u8 exts[8] = { 0, 43, 60, 51, 60, 135, 139, 140 };
	struct ut_opts o = { .xdp_frags = 1 };
	struct nacct_stats st;
	struct pkt_layout l;
	struct pkt_spec s;
	struct ut_flows f;
	struct ut u;
	__u32 lin, runs = 0, refused = 0, hdr_end;
	size_t n;
	int v, err, i;

	if (ut_load(&u, &o)) {
		ut_check(0, c->name, "cannot load the multi-buffer XDP program");
		return;
	}
	pkt_spec_init(&s, c->family, c->proto, 40000, 9000);
	if (c->proto == PKT_P_TCP)
		s.tcp_flags = 0x18;
	s.n_ext = c->n_ext;
	for (i = 0; i < c->n_ext; i++)
		s.ext[i] = exts[i];
	if (c->nvlan)
		vlans(&s, c->nvlan);
	s.payload = 9000; /* a jumbo frame */
	n = build(&s, &l);
	if (c->bad_ihl)
		buf[l.l3] = 0x44;
	hdr_end = c->bad_ihl ? l.l3 + 20 : l.pay;
	/* one run as a driver would give it (the kernel picks the first
	 * buffer: about 3.5 kB), then one per first-buffer size that cuts
	 * the headers, from the Ethernet header on */
	err = ut_run(&u, UT_XDP, buf, n, NULL, &v);
	if (err || v != 2) {
		ut_check(0, c->name, "%zu bytes: err %d verdict %d", n, err, v);
		goto out;
	}
	runs++;
	for (lin = 14; lin <= hdr_end + 4; lin++) {
		err = ut_run_xdp_split(&u, buf, n, lin, &v);
		if ((err == -EINVAL || err == -EPROTO) && lin == 14) {
			ut_skip(c->name, "this kernel's BPF_PROG_TEST_RUN takes no linear size "
				"(ctx data_end < data size: 6.18+); the split-header cases did not run");
			break;
		}
		if (err || v != 2) {
			refused++;
			ut_check(0, c->name, "first buffer %u of %zu: err %d verdict %d", lin, n, err,
				 v);
			continue;
		}
		runs++;
	}
	ut_stats(&u, &st);
	ut_flows(&u, &f);
	if (c->bad_ihl) {
		ut_check(!refused && f.n == 0 && st.malformed[NACCT_MAL_IP4_HDR] == runs &&
				 st.malformed_bytes[0] == (__u64)runs * n,
			 c->name, "%u runs of %zu bytes: %zu flows, ip4_hdr malformed %llu, bytes %llu",
			 runs, n, f.n, U64(st.malformed[NACCT_MAL_IP4_HDR]),
			 U64(st.malformed_bytes[0]));
	} else {
		ut_check(!refused && f.n == 1 && f.packets[0] == runs &&
				 f.bytes[0] == (__u64)runs * n && st.malformed_packets[0] == 0 &&
				 (c->proto != PKT_P_TCP || f.vals[0].tcp_flags[0] == 0x18 ||
				  f.vals[0].tcp_flags[1] == 0x18),
			 c->name,
			 "%u runs of %zu bytes (headers %u): %zu flows, %llu packets, %llu bytes, "
			 "%llu malformed",
			 runs, n, hdr_end, f.n, U64(f.packets[0]), U64(f.bytes[0]),
			 U64(st.malformed_packets[0]));
	}
	ut_flows_free(&f);
	ut_conserve(&u, "mb_conservation");
out:
	ut_unload(&u);
}

/* every data-path test, on a fresh load with the current default layout */
static void run_suite(void)
{
	struct ut u;
	size_t i;

	if (ut_load(&u, NULL)) {
		ut_check(0, "load", "cannot load the XDP and TC objects with shared pinned maps");
		return;
	}
	ut_check(1, "load_shared_maps", NULL);
	for (i = 0; i < sizeof(tw_cases) / sizeof(tw_cases[0]); i++)
		t_two_way(&u, &tw_cases[i]);
	t_icmp_apart(&u);
	t_frag4(&u);
	t_frag6(&u);
	t_nonip(&u);
	t_clock(&u);
	for (i = 0; i < sizeof(bogus_cases) / sizeof(bogus_cases[0]); i++) {
		t_bogus(&u, &bogus_cases[i], UT_XDP);
		t_bogus(&u, &bogus_cases[i], UT_TC_EGRESS);
	}
	for (i = 0; i < 8; i++)
		t_truncate(&u, i & 1 ? 6 : 4, (i >> 1) & 1, i >> 2 ? UT_TC_EGRESS : UT_XDP);
	t_gso(&u, 4, 0);
	t_gso(&u, 4, 1);
	t_gso(&u, 6, 0);
	t_hw_vlan(&u);
	t_sampling(&u);
	t_two_cpus(&u);
	tun_suite(&u);
	ut_unload(&u);

	t_subnets();
	tun_switches();
	t_overflow();
	for (i = 0; i < sizeof(mb_cases) / sizeof(mb_cases[0]); i++)
		t_multibuf(&mb_cases[i]);
}

/*
 * Every side program passes this kernel's verifier, the kprobe twins
 * too: the loader loads a twin only where its tracepoint is missing or
 * with --probes kprobe, which hosts without kprobes (this one) refuse
 * before loading, so no other test here loads them.  Loading needs no
 * kprobe support; attaching them is the guests' job (tests/vm).
 */
static void probes_every_program_verifies(void)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts);
	struct nacct_probes *skel;
	struct bpf_program *prog;
	char dir[64], names[512] = "";
	int err, n = 0;

	snprintf(dir, sizeof(dir), "/sys/fs/bpf/nacct-unit-twins-%d", getpid());
	if (mkdir(dir, 0700) && errno != EEXIST) {
		ut_check(0, "probes_every_program_verifies", "mkdir %s: %s", dir, strerror(errno));
		return;
	}
	oopts.pin_root_path = dir;
	skel = nacct_probes__open_opts(&oopts);
	if (!ut_check(skel != NULL, "probes_open", "cannot open the side programs: %s",
		      strerror(errno)))
		goto out;
	bpf_object__for_each_program(prog, skel->obj)
	{
		bpf_program__set_autoload(prog, true);
		n++;
		if (strstr(bpf_program__section_name(prog), "probe/"))
			snprintf(names + strlen(names), sizeof(names) - strlen(names), " %s",
				 bpf_program__name(prog));
	}
	err = nacct_probes__load(skel);
	ut_check(!err, "probes_every_program_verifies",
		 "the side programs with every kprobe twin (%d programs; twins:%s): %s", n, names,
		 strerror(-err));
	nacct_probes__destroy(skel);
out:
	nacct_rm_pin_dir(dir); /* the maps the object pinned by name */
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "-v"))
		ut_verbose = 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("skip unit needs root (BPF_PROG_TEST_RUN, bpffs)\n");
		return 0;
	}
	if (ut_check(keys_init() == 0, "keys_load", "cannot load the key check object: %s",
		     strerror(errno)))
		ut_frame_hook = keys_frame;

	/* the whole suite on each flow table layout; the shared one's names
	 * carry "shared_" */
	ut_default_layout = NACCT_FLOW_PERCPU;
	run_suite();
	ut_default_layout = NACCT_FLOW_SHARED;
	ut_prefix = "shared_";
	run_suite();
	/* and with the multi-buffer XDP program (jumbo-MTU interfaces) */
	ut_default_frags = 1;
	ut_prefix = "mb_shared_";
	run_suite();
	ut_default_frags = 0;
	ut_prefix = "";

	probes_every_program_verifies();

	ut_frame_hook = NULL;
	keys_cases();
	keys_corpus("tests/unit/corpus");
	keys_report("keys_every_unit_test_frame");
	keys_fini();

	printf("# %d failed\n", ut_failures);
	return ut_failures ? 1 : 0;
}
