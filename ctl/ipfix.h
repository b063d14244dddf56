/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * IPFIX (RFC 7011) message building with libfixbuf.  libfixbuf owns the
 * information model, the templates and the message encoding; it writes
 * each message into a buffer (fbExporterAllocBuffer) and the exporter
 * (ctl/export.c) sends it itself, because the send must be journaled
 * (see the top of export.c).
 *
 * The templates are generated from the record tables (lib/fields.c):
 *   256 flow, IPv4: every flow field with an information element, in
 *       table order (addresses as source/destinationIPv4Address)
 *   257 flow, IPv6: the same with source/destinationIPv6Address
 *   258 options template (scope: ingressInterface, flowDirection):
 *       observationTimeMilliseconds and every interface total with an
 *       element (running totals: packetTotalCount, octetTotalCount,
 *       notSent*TotalCount = the overflow bucket, ignored*TotalCount =
 *       malformed + non-IP frames).
 * Records are packed in template order from the same tables.
 */
#ifndef NACCT_IPFIX_H
#define NACCT_IPFIX_H

#include <stddef.h>
#include <linux/types.h>

#define NACCT_IPFIX_TID_FLOW4 256
#define NACCT_IPFIX_TID_FLOW6 257
#define NACCT_IPFIX_TID_STATS 258

struct nacct_rec;
struct nacct_totals;
struct nacct_ipfix;

/* mtu: largest message (UDP: fits one datagram) */
int nacct_ipfix_open(struct nacct_ipfix **out, __u32 domain, size_t mtu);
void nacct_ipfix_close(struct nacct_ipfix *ix);

/*
 * Append to the message being built.  -ENOSPC: the message is full (emit
 * it, then append again); -EIO: libfixbuf failed (logged).
 */
int nacct_ipfix_add_templates(struct nacct_ipfix *ix);
/* one uni-directional flow record (r->dir set) */
int nacct_ipfix_add_flow(struct nacct_ipfix *ix, const struct nacct_rec *r);
/* one options record: the running totals of hook direction dir */
int nacct_ipfix_add_stats(struct nacct_ipfix *ix, const struct nacct_totals *t, __u32 ifindex,
			  int dir, __u64 obs_ms);

/* data records in the message being built */
unsigned int nacct_ipfix_records(const struct nacct_ipfix *ix);

/*
 * Close the message being built and return it (*len = 0 when there was
 * nothing in it).  seq is written into the header's Sequence Number: the
 * exporter keeps it across restarts, libfixbuf's own count restarts at 0.
 */
int nacct_ipfix_emit(struct nacct_ipfix *ix, __u32 seq, const __u8 **buf, size_t *len);

#endif /* NACCT_IPFIX_H */
