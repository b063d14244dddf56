/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * IPFIX (RFC 7011) message building with libfixbuf.  libfixbuf owns the
 * information model, the templates and the message encoding; it writes
 * each message into a buffer (fbExporterAllocBuffer) and the exporter
 * (ctl/export.c) sends it itself, because the send must be journaled
 * (see the top of export.c).
 *
 * Templates (IANA elements only):
 *   256 flow, IPv4: flowStart/EndMilliseconds, octet/packetDeltaCount,
 *       source/destinationIPv4Address, ingress/egressInterface,
 *       source/destinationTransportPort, vlanId, tcpControlBits,
 *       protocolIdentifier, flowDirection
 *   257 flow, IPv6: the same with source/destinationIPv6Address
 *   258 options template (scope: ingressInterface, flowDirection), the
 *       interface counters that are not flows, as running totals:
 *       observationTimeMilliseconds, packetTotalCount/octetTotalCount
 *       (everything the hook saw), notSentPacketTotalCount/
 *       notSentOctetTotalCount (the overflow bucket: packets counted while
 *       the flow map was full, which no flow record carries),
 *       ignoredPacketTotalCount/ignoredOctetTotalCount (malformed and
 *       non-IP frames).
 */
#ifndef NACCT_IPFIX_H
#define NACCT_IPFIX_H

#include <stddef.h>
#include <linux/types.h>

#define NACCT_IPFIX_TID_FLOW4 256
#define NACCT_IPFIX_TID_FLOW6 257
#define NACCT_IPFIX_TID_STATS 258

/* one uni-directional flow record */
struct nacct_ipfix_flow {
	__u64 start_ms; /* wall clock, ms since the epoch */
	__u64 end_ms;
	__u64 octets;
	__u64 packets;
	__u8 src[16]; /* IPv4: IPv4-mapped (last 4 bytes) */
	__u8 dst[16];
	__u32 in_ifindex;  /* RX records: the interface; TX: 0 */
	__u32 out_ifindex; /* TX records: the interface; RX: 0 */
	__u16 sport;       /* host byte order */
	__u16 dport;
	__u16 vlan;
	__u8 family; /* NACCT_AF_INET / NACCT_AF_INET6 */
	__u8 proto;
	__u8 tcp_flags;
	__u8 direction; /* 0 ingress, 1 egress (IANA flowDirection) */
	__u8 pad[2];
};

/* one options record: running totals of one hook direction */
struct nacct_ipfix_stats {
	__u64 obs_ms;
	__u64 packets, octets;                   /* everything the hook saw */
	__u64 overflow_packets, overflow_octets; /* notSent*TotalCount */
	__u64 ignored_packets, ignored_octets;   /* malformed + non-IP */
	__u32 ifindex;
	__u8 direction;
	__u8 pad[3];
};

struct nacct_ipfix;

/* mtu: largest message (UDP: fits one datagram) */
int nacct_ipfix_open(struct nacct_ipfix **out, __u32 domain, size_t mtu);
void nacct_ipfix_close(struct nacct_ipfix *ix);

/*
 * Append to the message being built.  -ENOSPC: the message is full (emit
 * it, then append again); -EIO: libfixbuf failed (logged).
 */
int nacct_ipfix_add_templates(struct nacct_ipfix *ix);
int nacct_ipfix_add_flow(struct nacct_ipfix *ix, const struct nacct_ipfix_flow *f);
int nacct_ipfix_add_stats(struct nacct_ipfix *ix, const struct nacct_ipfix_stats *s);

/* data records in the message being built */
unsigned int nacct_ipfix_records(const struct nacct_ipfix *ix);

/*
 * Close the message being built and return it (*len = 0 when there was
 * nothing in it).  seq is written into the header's Sequence Number: the
 * exporter keeps it across restarts, libfixbuf's own count restarts at 0.
 */
int nacct_ipfix_emit(struct nacct_ipfix *ix, __u32 seq, const __u8 **buf, size_t *len);

#endif /* NACCT_IPFIX_H */
