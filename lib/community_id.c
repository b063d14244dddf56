// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Community ID v1 (lib/community_id.h).  The hash input, all in network
 * byte order: seed (2 bytes), source and destination address (4 or 16
 * bytes each), protocol (1), a zero byte, and for TCP, UDP, SCTP, ICMP
 * and ICMPv6 the two ports (2 each).  ICMP: the type is the source port,
 * and the destination port is the counterpart type of a request/response
 * pair, else the code.  The lower (address, port) goes first, except for
 * an ICMP message without a counterpart (one-way: sender first), as Zeek,
 * the spec's reference (pycommunityid) and Wireshark do.
 * SHA-1 and base64 by OpenSSL's libcrypto.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <openssl/evp.h>

#include "community_id.h"
#include "../maps/hdr.h"
#include "../maps/nacct.h"

__u16 nacct_community_id_seed;

/* request/response types and their counterparts (the spec's tables); -1: none */
static int icmp_counterpart(int v6, __u8 type)
{
	static const __u8 v4[][2] = { { 8, 0 }, { 13, 14 }, { 15, 16 }, { 10, 9 }, { 17, 18 } };
	static const __u8 v6t[][2] = { { 128, 129 }, { 130, 131 }, { 133, 134 },
				       { 135, 136 }, { 139, 140 }, { 144, 145 } };
	const __u8(*t)[2] = v6 ? v6t : v4;
	size_t i, n = v6 ? sizeof(v6t) / sizeof(v6t[0]) : sizeof(v4) / sizeof(v4[0]);

	for (i = 0; i < n; i++) {
		if (t[i][0] == type)
			return t[i][1];
		if (t[i][1] == type)
			return t[i][0];
	}
	return -1;
}

static int has_ports(__u8 proto)
{
	return proto == NACCT_IPPROTO_TCP || proto == NACCT_IPPROTO_UDP ||
	       proto == NACCT_IPPROTO_SCTP || proto == NACCT_IPPROTO_ICMP ||
	       proto == NACCT_IPPROTO_ICMPV6;
}

int nacct_community_id(__u16 seed, int family, const __u8 *src, const __u8 *dst, __u8 proto,
		       __u16 sport, __u16 dport, char out[NACCT_CID_LEN])
{
	unsigned char in[2 + 16 + 16 + 2 + 4], md[EVP_MAX_MD_SIZE], *p = in;
	size_t alen = family == NACCT_AF_INET ? 4 : 16, off = 16 - alen;
	unsigned int mdlen = 0;
	__u16 s = sport, d = dport;
	int one_way = 0, c, cmp;

	if (family != NACCT_AF_INET && family != NACCT_AF_INET6)
		return -EINVAL;
	if (proto == NACCT_IPPROTO_ICMP || proto == NACCT_IPPROTO_ICMPV6) {
		c = icmp_counterpart(proto == NACCT_IPPROTO_ICMPV6, (__u8)sport);
		if (c >= 0)
			d = (__u16)c;
		else
			one_way = 1;
	}
	cmp = memcmp(src + off, dst + off, alen);
	if (!one_way && (cmp > 0 || (cmp == 0 && s > d))) {
		const __u8 *t = src;
		__u16 tp = s;

		src = dst;
		dst = t;
		s = d;
		d = tp;
	}
	*p++ = seed >> 8;
	*p++ = seed & 0xff;
	memcpy(p, src + off, alen);
	p += alen;
	memcpy(p, dst + off, alen);
	p += alen;
	*p++ = proto;
	*p++ = 0;
	if (has_ports(proto)) {
		*p++ = s >> 8;
		*p++ = s & 0xff;
		*p++ = d >> 8;
		*p++ = d & 0xff;
	}
	if (!EVP_Digest(in, p - in, md, &mdlen, EVP_sha1(), NULL) || mdlen != 20)
		return -EINVAL;
	out[0] = '1';
	out[1] = ':';
	EVP_EncodeBlock((unsigned char *)out + 2, md, 20); /* 28 characters and a NUL */
	return 0;
}

int nacct_community_id_key(__u16 seed, const struct nacct_flow_key *k, int src_hi,
			   char out[NACCT_CID_LEN])
{
	const __u8 *src = src_hi ? k->hi_addr : k->lo_addr, *dst = src_hi ? k->lo_addr : k->hi_addr;
	__u16 sp = ntohs(src_hi ? k->hi_port : k->lo_port);
	__u16 dp = ntohs(src_hi ? k->lo_port : k->hi_port);
	int v6 = k->proto == NACCT_IPPROTO_ICMPV6;

	if (k->proto == NACCT_IPPROTO_ICMP || v6) {
		if (sp == dp) {
			/* an echo flow: a request from src (maps/parse.h) */
			sp = v6 ? 128 : 8;
			dp = 0;
		} else {
			/* another message: its sender's port is type << 8 | code */
			__u16 tc = sp ? sp : dp;

			if (!sp) {
				const __u8 *t = src;

				src = dst;
				dst = t;
			}
			sp = tc >> 8;
			dp = tc & 0xff;
		}
	}
	return nacct_community_id(seed, k->family, src, dst, k->proto, sp, dp, out);
}
