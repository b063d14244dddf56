/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Community ID, version 1 (Corelight's community-id-spec): a flow's
 * identifier shared with Zeek, Suricata and other tools, so that their
 * records join nacct's.  "1:" + base64(SHA-1(seed, addresses, protocol,
 * ports)), the endpoints ordered so that both directions agree.
 */
#ifndef NACCT_COMMUNITY_ID_H
#define NACCT_COMMUNITY_ID_H

#include <stddef.h>
#include <linux/types.h>

#define NACCT_CID_LEN 31 /* "1:" + 28 base64 characters + NUL */

struct nacct_flow_key;

/*
 * The ID of one packet's tuple: @family NACCT_AF_INET (addresses as 16
 * bytes, IPv4 mapped) or NACCT_AF_INET6; ports in host order, for
 * ICMP/ICMPv6 the type (@sport) and code (@dport).  0, or -EINVAL.
 */
int nacct_community_id(__u16 seed, int family, const __u8 *src, const __u8 *dst, __u8 proto,
		       __u16 sport, __u16 dport, char out[NACCT_CID_LEN]);

/*
 * The ID of a flow from its key, @src_hi: src is the key's hi endpoint
 * (the record's orientation).  An ICMP echo flow (both ports the
 * identifier) is an echo request from src; another ICMP message is its
 * sender's (type << 8 | code, the other port 0).
 */
int nacct_community_id_key(__u16 seed, const struct nacct_flow_key *k, int src_hi,
			   char out[NACCT_CID_LEN]);

/* the seed of every record's ID (`--community-id-seed N`; default 0) */
extern __u16 nacct_community_id_seed;

#endif /* NACCT_COMMUNITY_ID_H */
