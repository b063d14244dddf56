/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The destinations of nacct export, each a sink of the exporter core
 * (struct nacct_sink, lib/exporter.h): IPFIX over UDP or TCP
 * (ctl/sink_ipfix.c, messages built by ctl/ipfix.c), JSON lines on a
 * file descriptor (ctl/sink_json.c) and ClickHouse over HTTP
 * (ctl/sink_clickhouse.c, asked whether a message committed).  Both send through the core's
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

/* ClickHouse over its HTTP interface (README "Many hosts") */
#define NACCT_CH_BATCH 65536 /* rows an INSERT by default: ClickHouse wants few, large ones */
struct nacct_ch_opts {
	const char *url;            /* http://HOST:8123 */
	const char *database, *table; /* checked with nacct_ch_ident_ok() */
	const char *user, *password;  /* NULL: the server's default user */
	const char *exporter;       /* this host: the hostname or --exporter-id */
	const char *ifname;
	__u32 domain;               /* observation domain */
	__u64 attachment;           /* the attachment's attach time: seq restarts with it */
	unsigned int batch;         /* rows a message at most (the journal holds at most
				     * NACCT_XJ_ITEMS_MAX; more rows an INSERT: fewer parts) */
	unsigned int ttl_days;      /* table TTL on a new table (server 19.6+); 0: none */
};
int nacct_sink_clickhouse_new(struct nacct_sink **out, const struct nacct_ch_opts *o);
/* a database or table name ClickHouse takes unquoted: [A-Za-z_][A-Za-z0-9_]* */
int nacct_ch_ident_ok(const char *s);

#endif /* NACCT_SINK_H */
