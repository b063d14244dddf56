/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The packet of an skb seen by a tracepoint (skb:kfree_skb), parsed by
 * the data path's parser (maps/parse.h) in its kernel-memory flavour, and
 * its flow key built by the data path's key builder (maps/key.h): a drop
 * and its packets agree on the key by construction.  Tracing programs
 * only: needs vmlinux.h (struct sk_buff) and CO-RE.
 *
 * The skb enters at L3: its ethertype is skb->protocol and its IP header
 * sits at skb->head + network_header, wherever skb->data points at the
 * moment of the drop (the MAC header on the way out, the transport header
 * after IP took its share on the way in).  Keys have vlan 0 (a tag may be
 * in the payload, in metadata or gone by then; readers join ignoring it).
 *
 * Bounds, the same checks the data path makes against its frame:
 *   the linear area, skb->head .. head + tail: no header is read past it
 *     (a header in a paged fragment gives no key, as a truncated frame);
 *   the datagram, network header .. skb->data + skb->len: tot_len,
 *     payload_len, the extension-header chain and TCP's data offset must
 *     fit in it.
 * A malformed packet gives no key.
 *
 * IP fragments: the data path recovers the ports of a later fragment from
 * its per-interface table of first fragments (nacct_frags, in
 * maps/account.bpf.h); a side program has no interface and no such table,
 * so a later fragment keys with ports 0 here and its drop lands on the
 * ports-0 record, not on its datagram's flow.
 */
#ifndef NACCT_PARSE_SKB_BPF_H
#define NACCT_PARSE_SKB_BPF_H

#include <bpf/bpf_core_read.h>

#include "parse.h"

/* Returns NACCT_P_IP with @pkt filled, or NACCT_P_NONIP / NACCT_P_MALFORMED. */
static __always_inline int nacct_parse_skb(const struct sk_buff *skb, struct nacct_pkt *pkt)
{
	__u16 proto = bpf_ntohs(BPF_CORE_READ(skb, protocol));
	unsigned char *head = BPF_CORE_READ(skb, head);
	unsigned char *data = BPF_CORE_READ(skb, data);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	/* an offset from head on 64-bit kernels (NET_SKBUFF_DATA_USES_OFFSET) */
	__u32 tail = BPF_CORE_READ(skb, tail);
	__u32 len = BPF_CORE_READ(skb, len);
	__s64 l3_avail;

	/* ~0: no network header set (the skb never reached L3) */
	if (nh == (__u16)~0U || !head) {
		pkt->ethertype = proto;
		return NACCT_P_NONIP;
	}
	/* from the network header to the end of the packet */
	l3_avail = (__s64)(data - head) + len - nh;
	if (l3_avail <= 0 || tail < nh) {
		pkt->malformed = proto == NACCT_ETH_P_IPV6 ? NACCT_MAL_IP6_HDR : NACCT_MAL_IP4_HDR;
		return NACCT_P_MALFORMED;
	}
	return nacct_parse_l3(NACCT_MEM_KERN, head + nh, head + tail, (__u32)l3_avail, proto, pkt);
}

#endif /* NACCT_PARSE_SKB_BPF_H */
