// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * One key for a packet and for its drop: every frame runs through
 * tests/unit/keycheck.bpf.c, which parses it as the data path does (packet
 * memory, from Ethernet) and as the side programs do (nacct_parse_skb() on
 * a stand-in skb, kernel memory, from the network header, with skb->data
 * at the network header and at the MAC header), and the answers must be
 * the same: a key for both or for neither, and the same key with the data
 * path's VLAN id zeroed (the side programs' keys have vlan 0).
 *
 * Frames: named cases built here (IPv6 extension chains of 1..8 headers of
 * every kind, UDP-Lite, SCTP, ICMP, fragments, VLANs, malformed ones and
 * every cut of a long chain), the corpus files of tests/unit/corpus, and
 * every frame the other unit tests send (harness ut_frame_hook).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "harness.h"
#include "keycheck.h"
#include "keys.h"
#include "pkt.h"
#include "tests/keycheck.skel.h"

#define KC_DETAILS 6 /* mismatching frames described in a failure */

static struct keycheck *kc;
static int kc_fd = -1;

/* the frames seen through the harness hook */
static struct {
	unsigned long frames, keyed, nokey, l2only, refused, diff;
	char detail[4096];
	size_t off;
	int shown;
} seen;

enum { KC_SAME = 0, KC_DIFF, KC_L2ONLY, KC_REFUSED, KC_ERR };

int keys_init(void)
{
	int err;

	kc = keycheck__open_and_load();
	if (!kc)
		return -errno;
	kc_fd = bpf_program__fd(kc->progs.keycheck);
	err = kc_fd < 0 ? kc_fd : 0;
	if (err) {
		keycheck__destroy(kc);
		kc = NULL;
	}
	return err;
}

void keys_fini(void)
{
	keycheck__destroy(kc);
	kc = NULL;
}

/* where the side programs would enter: after Ethernet and up to two VLAN tags */
static void l3_of(const __u8 *p, size_t n, struct keycheck_in *in)
{
	size_t o = 14;
	__u16 et;
	int i;

	in->l3_off = KC_NO_L3;
	in->l3_proto = 0;
	if (n < 14)
		return;
	et = pkt_get16(p + 12);
	for (i = 0; et == 0x8100 || et == 0x88a8; i++) {
		if (i == NACCT_MAX_VLAN_DEPTH || o + 4 > n)
			return; /* the data path calls this malformed at L2 */
		et = pkt_get16(p + o + 2);
		o += 4;
	}
	in->l3_off = (__u32)o;
	in->l3_proto = et;
}

static const char *res_name(const struct keycheck_res *r)
{
	static char b[4][32];
	static int k;

	k = (k + 1) & 3;
	if (r->res == KC_RES_KEY)
		return "key";
	if (r->res == KC_RES_NONIP)
		return "nonip";
	if (r->res == KC_RES_MALFORMED)
		snprintf(b[k], sizeof(b[k]), "malformed %s", ut_mal_name(r->malformed));
	else
		snprintf(b[k], sizeof(b[k]), "not run (%d)", r->res);
	return b[k];
}

static void key_str(const struct nacct_flow_key *k, char *b, size_t n)
{
	size_t o = 0;
	int i;

	for (i = 0; i < 16 && o < n; i++)
		o += snprintf(b + o, n - o, "%02x", k->lo_addr[i]);
	o += snprintf(b + o, n > o ? n - o : 0, " %u / ", (unsigned)ntohs(k->lo_port));
	for (i = 0; i < 16 && o < n; i++)
		o += snprintf(b + o, n - o, "%02x", k->hi_addr[i]);
	snprintf(b + o, n > o ? n - o : 0, " %u proto %u fam %u vlan %u",
		 (unsigned)ntohs(k->hi_port), k->proto, k->family, k->vlan);
}

/* one side-program run against the data path's; 0 when they agree */
static int kc_agree(const struct keycheck_res *dp, const struct keycheck_res *side,
		    const char *which, char *why, size_t n)
{
	struct nacct_flow_key dk = dp->key;
	char a[160], b[160];

	if ((dp->res == KC_RES_KEY) != (side->res == KC_RES_KEY)) {
		snprintf(why, n, "data path: %s; side (%s): %s", res_name(dp), which,
			 res_name(side));
		return -1;
	}
	if (dp->res != KC_RES_KEY)
		return 0;
	dk.vlan = 0;
	if (memcmp(&dk, &side->key, sizeof(dk))) {
		key_str(&dp->key, a, sizeof(a));
		key_str(&side->key, b, sizeof(b));
		snprintf(why, n, "data path key %s\nside (%s) key %s", a, which, b);
		return -1;
	}
	return 0;
}

/* run one frame; KC_* and, on KC_SAME, the outcome in @out */
static int kc_run(const __u8 *p, size_t len, struct keycheck_out *out, char *why, size_t n)
{
	LIBBPF_OPTS(bpf_test_run_opts, t);
	__u64 runs;

	why[0] = '\0';
	if (len < 14)
		return KC_REFUSED; /* BPF_PROG_TEST_RUN takes no XDP frame shorter than Ethernet */
	l3_of(p, len, &kc->bss->kc_in);
	runs = kc->bss->kc_out.runs;
	t.data_in = p;
	t.data_size_in = (__u32)len;
	if (bpf_prog_test_run_opts(kc_fd, &t)) {
		snprintf(why, n, "BPF_PROG_TEST_RUN: %s", strerror(errno));
		return errno == EINVAL ? KC_REFUSED : KC_ERR;
	}
	if (kc->bss->kc_out.runs != runs + 1) {
		snprintf(why, n, "the key check did not run");
		return KC_ERR;
	}
	*out = kc->bss->kc_out;
	if (out->dp.res == KC_RES_MALFORMED &&
	    (out->dp.malformed == NACCT_MAL_ETH || out->dp.malformed == NACCT_MAL_VLAN))
		return kc->bss->kc_in.l3_off == KC_NO_L3 ? KC_L2ONLY : KC_DIFF;
	if (kc->bss->kc_in.l3_off == KC_NO_L3) {
		snprintf(why, n, "no IP layer found here, data path: %s", res_name(&out->dp));
		return KC_DIFF;
	}
	if (kc_agree(&out->dp, &out->side_nh, "skb->data at the network header", why, n) ||
	    kc_agree(&out->dp, &out->side_mh, "skb->data at the MAC header", why, n))
		return KC_DIFF;
	return KC_SAME;
}

static void hex_prefix(const __u8 *p, size_t len, char *b, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < len && i < 96 && o + 3 < n; i++)
		o += snprintf(b + o, n - o, "%02x", p[i]);
	if (i < len && o + 4 < n)
		snprintf(b + o, n - o, "...");
}

void keys_frame(const void *pkt, __u32 len)
{
	struct keycheck_out o;
	char why[512], hex[256];
	int r;

	if (!kc)
		return;
	seen.frames++;
	r = kc_run(pkt, len, &o, why, sizeof(why));
	switch (r) {
	case KC_SAME:
		if (o.dp.res == KC_RES_KEY)
			seen.keyed++;
		else
			seen.nokey++;
		return;
	case KC_L2ONLY:
		seen.l2only++;
		return;
	case KC_REFUSED:
		seen.refused++;
		return;
	default:
		seen.diff++;
		if (seen.shown++ >= KC_DETAILS || seen.off >= sizeof(seen.detail) - 1)
			return;
		hex_prefix(pkt, len, hex, sizeof(hex));
		seen.off += snprintf(seen.detail + seen.off, sizeof(seen.detail) - seen.off,
				     "%u bytes %s\n%s\n", len, hex, why);
		if (seen.off >= sizeof(seen.detail))
			seen.off = sizeof(seen.detail) - 1;
	}
}

void keys_report(const char *name)
{
	if (!kc)
		return;
	ut_check(seen.diff == 0 && seen.keyed > 0, name,
		 "%lu frames: %lu keyed alike, %lu without a key in both, %lu L2-only, "
		 "%lu refused by test_run, %lu different%s\n%s",
		 seen.frames, seen.keyed, seen.nokey, seen.l2only, seen.refused, seen.diff,
		 seen.diff ? "; the first ones:" : "", seen.detail);
}

/* ---- named cases ------------------------------------------------------------ */

static __u8 frame[PKT_MAX];

/*
 * Build @s, run it, and check that both parsers agree; @want_ports: the
 * frame must also get a key with these ports (host order; -1: any
 * verdict, as long as both agree).
 */
static void kc_case(const char *name, const struct pkt_spec *s, int want_sp, int want_dp)
{
	struct pkt_layout l;
	struct keycheck_out o;
	char why[512], full[80];
	size_t n = pkt_build(s, frame, sizeof(frame), &l);
	int r;

	snprintf(full, sizeof(full), "keys_%s", name);
	if (!n) {
		ut_check(0, full, "pkt_build failed");
		return;
	}
	r = kc_run(frame, n, &o, why, sizeof(why));
	if (r == KC_L2ONLY && want_sp < 0) {
		ut_check(1, full, "malformed at L2: no IP layer for the side programs");
		return;
	}
	if (r != KC_SAME) {
		ut_check(0, full, "%zu bytes: %s", n, why);
		return;
	}
	if (want_sp >= 0) {
		__u16 lo = ntohs(o.dp.key.lo_port), hi = ntohs(o.dp.key.hi_port);
		int ok = o.dp.res == KC_RES_KEY && o.dp.key.proto == s->proto &&
			 ((lo == want_sp && hi == want_dp) || (lo == want_dp && hi == want_sp));

		ut_check(ok, full, "expected a key with proto %u ports %d/%d; data path: %s, "
			 "proto %u ports %u/%u", s->proto, want_sp, want_dp, res_name(&o.dp),
			 o.dp.key.proto, lo, hi);
		return;
	}
	ut_check(1, full, "both: %s", res_name(&o.dp));
}

/* every cut of @s: both parsers agree on each prefix */
static void kc_cuts(const char *name, const struct pkt_spec *s)
{
	static __u8 cut[PKT_MAX];
	struct pkt_layout l;
	struct keycheck_out o;
	char why[512], full[80], detail[2048] = "";
	size_t n = pkt_build(s, frame, sizeof(frame), &l), c, off = 0;
	int bad = 0, keyed = 0, r;

	snprintf(full, sizeof(full), "keys_%s", name);
	for (c = 14; c <= n; c++) {
		memcpy(cut, frame, c);
		r = kc_run(cut, c, &o, why, sizeof(why));
		if (r == KC_SAME) {
			keyed += o.dp.res == KC_RES_KEY;
			continue;
		}
		if (r == KC_REFUSED)
			continue;
		if (bad++ < 4 && off < sizeof(detail) - 600)
			off += snprintf(detail + off, sizeof(detail) - off, "cut at %zu: %s\n", c, why);
	}
	ut_check(!bad && keyed > 0, full, "%d of %zu cuts differ, %d keyed\n%s", bad, n - 13, keyed,
		 detail);
}

static const __u8 ext_kinds_a[8] = { 0, 43, 51, 135, 139, 140, 60, 60 };
static const __u8 ext_kinds_b[8] = { 0, 60, 44, 51, 140, 139, 135, 43 };

static void ext_chain(struct pkt_spec *s, const __u8 *kinds, int n)
{
	s->n_ext = n;
	memcpy(s->ext, kinds, (size_t)n);
	/* the fragment header of kinds_b is an atomic fragment: offset 0, no M */
}

void keys_cases(void)
{
	static const __u8 protos[] = { PKT_P_UDP, PKT_P_UDPLITE, PKT_P_TCP, PKT_P_SCTP };
	static const char *const pname[] = { "udp", "udplite", "tcp", "sctp" };
	struct pkt_spec s;
	char name[64];
	int i, n, p;

	if (!kc)
		return;
	/* IPv6 extension chains of 1..8 headers of every kind the data path walks */
	for (n = 1; n <= NACCT_MAX_IPV6_EXT; n++) {
		for (p = 0; p < 4; p++) {
			pkt_spec_init(&s, 6, protos[p], (__u16)(4000 + n), 53);
			ext_chain(&s, (n + p) & 1 ? ext_kinds_b : ext_kinds_a, n);
			s.payload = 20;
			snprintf(name, sizeof(name), "ip6_ext%d_%s", n, pname[p]);
			kc_case(name, &s, 4000 + n, 53);
		}
	}
	/* one header of each kind alone */
	for (i = 0; i < 8; i++) {
		static const __u8 kinds[8] = { 0, 43, 44, 51, 60, 135, 139, 140 };

		pkt_spec_init(&s, 6, PKT_P_UDP, 5000, (__u16)(6000 + kinds[i]));
		ext_chain(&s, &kinds[i], 1);
		snprintf(name, sizeof(name), "ip6_ext_only_%u_udp", kinds[i]);
		kc_case(name, &s, 5000, 6000 + kinds[i]);
	}
	/* plain L4 of every kind, both families */
	for (p = 0; p < 4; p++) {
		for (i = 4; i <= 6; i += 2) {
			pkt_spec_init(&s, i, protos[p], 33000, 7001);
			snprintf(name, sizeof(name), "%s%d", pname[p], i);
			kc_case(name, &s, 33000, 7001);
		}
	}
	pkt_spec_init(&s, 4, PKT_P_UDPLITE, 7000, 7001);
	s.ip4_opt = 12;
	kc_case("udplite4_ip_options", &s, 7000, 7001);
	pkt_spec_init(&s, 4, PKT_P_ICMP, 0x1234, 0);
	kc_case("icmp_echo", &s, 0x1234, 0x1234);
	s.icmp_type = 3;
	s.icmp_code = 3;
	kc_case("icmp_unreachable", &s, 0x0303, 0);
	pkt_spec_init(&s, 6, PKT_P_ICMPV6, 0x77, 0);
	kc_case("icmpv6_echo", &s, 0x77, 0x77);
	s.icmp_type = 1;
	s.icmp_code = 4;
	kc_case("icmpv6_unreachable", &s, 0x0104, 0);
	pkt_spec_init(&s, 6, 253, 1, 2);
	ext_chain(&s, ext_kinds_a, 3);
	kc_case("ip6_ext3_unknown_proto", &s, 0, 0);
	/* fragments: the first has the ports; a later one keys with ports 0 on
	 * both (the data path recovers them later, from its frag table) */
	pkt_spec_init(&s, 4, PKT_P_UDP, 5000, 53);
	s.frag = 1;
	s.frag_mf = 1;
	s.payload = 32;
	kc_case("frag4_first", &s, 5000, 53);
	s.frag_off = 5;
	s.frag_mf = 0;
	kc_case("frag4_later_ports_0", &s, 0, 0);
	pkt_spec_init(&s, 6, PKT_P_UDPLITE, 6000, 6001);
	ext_chain(&s, (const __u8[]){ 0, 51, 44 }, 3);
	s.frag_mf = 1;
	s.payload = 64;
	kc_case("frag6_first_after_ah", &s, 6000, 6001);
	s.frag_off = 9;
	s.frag_mf = 0;
	kc_case("frag6_later_ports_0", &s, 0, 0);
	/* VLANs: the data path's key has the id, the side programs' 0 */
	pkt_spec_init(&s, 6, PKT_P_UDPLITE, 1111, 2222);
	ext_chain(&s, ext_kinds_a, 8);
	s.nvlan = 2;
	s.vlan_tpid[0] = 0x88a8;
	s.vlan_vid[0] = 200;
	s.vlan_tpid[1] = 0x8100;
	s.vlan_vid[1] = 300;
	kc_case("qinq_ip6_ext8_udplite", &s, 1111, 2222);
	s.nvlan = 3;
	s.vlan_tpid[2] = 0x8100;
	s.vlan_vid[2] = 400;
	kc_case("vlan_three_tags_l2_only", &s, -1, -1);

	/* malformed: no key on either side */
	pkt_spec_init(&s, 6, PKT_P_UDP, 1, 2);
	ext_chain(&s, ext_kinds_a, 8);
	s.n_ext = 9;
	s.ext[8] = 60;
	kc_case("ip6_ext9_too_long", &s, -1, -1);

	/* every cut of the longest chains and of IPv4 with options */
	pkt_spec_init(&s, 6, PKT_P_UDPLITE, 4321, 1234);
	ext_chain(&s, ext_kinds_a, 8);
	s.payload = 8;
	kc_cuts("cuts_ip6_ext8_udplite", &s);
	pkt_spec_init(&s, 6, PKT_P_TCP, 4321, 80);
	ext_chain(&s, ext_kinds_b, 8);
	s.tcp_opt = 12;
	kc_cuts("cuts_ip6_ext8_tcp", &s);
	pkt_spec_init(&s, 4, PKT_P_SCTP, 4321, 80);
	s.ip4_opt = 40;
	kc_cuts("cuts_ip4_options_sctp", &s);
}

/* the corpus files: each one a check of its own */
void keys_corpus(const char *dir)
{
	struct dirent **de;
	struct keycheck_out o;
	char path[512], name[128], why[512];
	size_t len;
	int n, i, r;

	if (!kc)
		return;
	n = scandir(dir, &de, NULL, alphasort);
	if (n < 0) {
		ut_skip("keys_corpus", "no corpus directory %s", dir);
		return;
	}
	for (i = 0; i < n; i++) {
		char *dot = strstr(de[i]->d_name, ".hex");

		if (dot && !dot[4]) {
			snprintf(path, sizeof(path), "%s/%s", dir, de[i]->d_name);
			snprintf(name, sizeof(name), "keys_corpus_%.*s", (int)(dot - de[i]->d_name),
				 de[i]->d_name);
			if (pkt_load_hex(path, frame, sizeof(frame), &len)) {
				ut_check(0, name, "cannot read %s", path);
			} else {
				r = kc_run(frame, len, &o, why, sizeof(why));
				ut_check(r == KC_SAME || r == KC_L2ONLY, name, "%zu bytes: %s%s", len,
					 r == KC_SAME ? res_name(&o.dp) : "", why);
			}
		}
		free(de[i]);
	}
	free(de);
}
