/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The destinations of nacct export, each a sink of the exporter core
 * (struct nacct_sink, lib/exporter.h): IPFIX over UDP or TCP
 * (ctl/sink_ipfix.c, messages built by ctl/ipfix.c) and JSON lines on a
 * file descriptor (ctl/sink_json.c).  Both send through the core's
 * journal: a socket with sendmmsg() on the journal's mmsghdr (the kernel
 * stores what it queued inside the syscall), JSON lines with write() and
 * the length recorded right after it.
 */
#ifndef NACCT_SINK_H
#define NACCT_SINK_H

#include <sys/socket.h>
#include <linux/types.h>
#include "../lib/exporter.h"

struct nacct_probe_view;

/*
 * IPFIX to peer (UDP, or TCP when tcp), observation domain, messages of
 * at most 1400 bytes (UDP) or 32 KiB (TCP); dest names the collector in
 * warnings.  Not connected yet: open() does that.
 */
int nacct_sink_ipfix_new(struct nacct_sink **out, const char *dest,
			 const struct sockaddr_storage *peer, socklen_t peer_len, int tcp,
			 __u32 domain);
/* UDP: the templates again every 30 s (RFC 7011 8.4); call it once a round */
void nacct_sink_ipfix_tick(struct nacct_sink *s);
/* for tests: over a socket already connected (not closed by the sink) */
int nacct_sink_ipfix_fd(struct nacct_sink **out, int fd, __u32 domain, size_t mtu);

/* JSON lines (flow records and "stats" lines) on fd */
int nacct_sink_json_new(struct nacct_sink **out, int fd);
/* the side programs' view to join onto the records (NULL: not loaded) */
void nacct_sink_json_side(struct nacct_sink *s, const struct nacct_probe_view *pv);

#endif /* NACCT_SINK_H */
