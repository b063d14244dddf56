// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Community ID v1 (lib/community_id.c) against the published test vectors
 * of the spec's implementations (Zeek's community_id_v1 tests, the
 * baseline data): TCP, UDP, SCTP, ICMP and ICMPv6 (request, reply, and
 * one-way types), IPv4 and IPv6, seeds 0 and 1; both directions of a
 * flow give one ID.  (A one-way ICMP message keeps its sender first, as
 * Zeek and Wireshark order it; test_flows_community_id compares with
 * tshark on real packets.)  Then the flow key path: the IDs of flows as the data
 * path keys them (IPv4 mapped, canonical), in either orientation.
 */
#include <string.h>
#include <arpa/inet.h>

#include "check.h"
#include "../../lib/community_id.h"
#include "../../maps/hdr.h"
#include "../../maps/nacct.h"

#define V4A "1.2.3.4"
#define V4B "5.6.7.8"
#define V6A "fe80:1:203:405:607:809:a0b:c0d"
#define V6B "fe80:1011:1213:1415:1617:1819:1a1b:1c1d"

/* an address as keys hold it: 16 bytes, IPv4 mapped */
static int addr(const char *s, __u8 out[16])
{
	char m[64];

	snprintf(m, sizeof(m), "::ffff:%s", s);
	if (inet_pton(AF_INET6, m, out) == 1)
		return NACCT_AF_INET;
	return inet_pton(AF_INET6, s, out) == 1 ? NACCT_AF_INET6 : -1;
}

static const struct {
	const char *name, *src, *dst;
	__u8 proto;
	__u16 sport, dport, seed;
	const char *want;
} vectors[] = {
	{ "tcp", V4A, V4B, 6, 1122, 3344, 0, "1:wCb3OG7yAFWelaUydu0D+125CLM=" },
	{ "udp", V4A, V4B, 17, 1122, 3344, 0, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=" },
	{ "sctp", V4A, V4B, 132, 1122, 3344, 0, "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=" },
	{ "icmp_echo", V4A, V4B, 1, 8, 0, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=" },
	{ "icmp_echo_reply", V4B, V4A, 1, 0, 0, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=" },
	{ "icmp_time_exceeded", V4A, V4B, 1, 11, 0, 0, "1:f/YiSyWqczrTgfUCZlBUnvHRcPk=" },
	{ "icmp6_echo", V6A, V6B, 58, 128, 0, 0, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=" },
	{ "icmp6_echo_reply", V6B, V6A, 58, 129, 0, 0, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=" },
	{ "icmp6_one_way", V6A, V6B, 58, 155, 0, 0, "1:EvBBWYT0zEU0Gg9GDmH7rd7Mxk0=" },
	{ "tcp_seed1", V4A, V4B, 6, 1122, 3344, 1, "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk=" },
	{ "udp_seed1", V4A, V4B, 17, 1122, 3344, 1, "1:OShq+iKDAMVouh/4bMxB9Sz4amw=" },
	{ "icmp_echo_seed1", V4A, V4B, 1, 8, 0, 1, "1:9pr4ZGTICiuZoIh90RRYE2RyXpU=" },
	{ "icmp6_echo_seed1", V6A, V6B, 58, 128, 0, 1, "1:IO27GQzPuCtNnwFvjWALMHu5tJE=" },
};

/* a flow key built the data path's way: canonical, ports in network order */
static void key_of(const char *src, __u16 sp, const char *dst, __u16 dp, __u8 proto,
		   struct nacct_flow_key *k, int *src_hi)
{
	__u8 a[16], b[16];
	int fam = addr(src, a);

	addr(dst, b);
	memset(k, 0, sizeof(*k));
	*src_hi = memcmp(a, b, 16) > 0 || (!memcmp(a, b, 16) && sp > dp);
	memcpy(k->lo_addr, *src_hi ? b : a, 16);
	memcpy(k->hi_addr, *src_hi ? a : b, 16);
	k->lo_port = htons(*src_hi ? dp : sp);
	k->hi_port = htons(*src_hi ? sp : dp);
	k->proto = proto;
	k->family = fam;
}

void check_cid(void)
{
	struct nacct_flow_key k;
	char id[NACCT_CID_LEN], name[96];
	__u8 a[16], b[16];
	size_t i;
	int fam, hi;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		fam = addr(vectors[i].src, a);
		addr(vectors[i].dst, b);
		snprintf(name, sizeof(name), "community_id %s", vectors[i].name);
		if (nacct_community_id(vectors[i].seed, fam, a, b, vectors[i].proto,
				       vectors[i].sport, vectors[i].dport, id))
			strcpy(id, "(error)");
		t_eq_str(name, vectors[i].want, id);
	}
	/* the reverse of a two-way flow: the same ID */
	fam = addr(V4A, a);
	addr(V4B, b);
	nacct_community_id(0, fam, b, a, 6, 3344, 1122, id);
	t_eq_str("community_id tcp reversed", "1:wCb3OG7yAFWelaUydu0D+125CLM=", id);

	/* from flow keys, either orientation of the record */
	key_of(V4A, 1122, V4B, 3344, 6, &k, &hi);
	nacct_community_id_key(0, &k, hi, id);
	t_eq_str("community_id key tcp", "1:wCb3OG7yAFWelaUydu0D+125CLM=", id);
	nacct_community_id_key(0, &k, !hi, id);
	t_eq_str("community_id key tcp, other orientation", "1:wCb3OG7yAFWelaUydu0D+125CLM=", id);
	/* an echo flow keys (id, id): a request from src */
	key_of(V4A, 0x1234, V4B, 0x1234, 1, &k, &hi);
	nacct_community_id_key(0, &k, hi, id);
	t_eq_str("community_id key icmp echo", "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=", id);
	key_of(V6A, 7, V6B, 7, 58, &k, &hi);
	nacct_community_id_key(0, &k, hi, id);
	t_eq_str("community_id key icmp6 echo", "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=", id);
	/* another message keys (type << 8 | code, 0) from its sender, whatever
	 * the record's orientation */
	key_of(V4A, 11 << 8, V4B, 0, 1, &k, &hi);
	nacct_community_id_key(0, &k, hi, id);
	t_eq_str("community_id key icmp time exceeded", "1:f/YiSyWqczrTgfUCZlBUnvHRcPk=", id);
	nacct_community_id_key(0, &k, !hi, id);
	t_eq_str("community_id key icmp time exceeded, other orientation",
		 "1:f/YiSyWqczrTgfUCZlBUnvHRcPk=", id);
	key_of(V6A, 155 << 8, V6B, 0, 58, &k, &hi);
	nacct_community_id_key(0, &k, !hi, id);
	t_eq_str("community_id key icmp6 one-way, other orientation",
		 "1:EvBBWYT0zEU0Gg9GDmH7rd7Mxk0=", id);
}
