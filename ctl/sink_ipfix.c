// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The IPFIX sink: records encoded by ctl/ipfix.c (libfixbuf), sent over
 * UDP or TCP.  A message is sent with sendmmsg() on the core's journal
 * mmsghdr, so the kernel records what it queued inside the send syscall;
 * the templates lead every connection (and every UDP restart) and, over
 * UDP, come again every 30 s, unjournaled: a template message is all or
 * nothing and carries no counts.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "sink.h"
#include "ipfix.h"
#include "../lib/log.h"

#define TEMPLATE_REFRESH_S 30

struct ipfix_sink {
	struct nacct_sink base;
	const char *dest;
	struct nacct_ipfix *ix;
	int sock, own_sock, tcp;
	int need_templates; /* a new connection: the templates first */
	struct sockaddr_storage peer;
	socklen_t peer_len;
	time_t templates_at;
	__u64 seq; /* of the next data record: what a template message carries */
	/* the sealed message: a copy, because templates reuse libfixbuf's buffer */
	__u8 *msg;
	size_t msg_cap;
	unsigned int msg_records;
};

static struct ipfix_sink *ipfix_of(struct nacct_sink *s)
{
	return (struct ipfix_sink *)s;
}

static void sock_close(struct ipfix_sink *s)
{
	if (s->sock >= 0 && s->own_sock)
		close(s->sock);
	if (s->own_sock)
		s->sock = -1;
}

/* a message that needs no journal (templates): all or nothing */
static int send_raw(struct ipfix_sink *s, const __u8 *buf, size_t len)
{
	ssize_t n = send(s->sock, buf, len, MSG_NOSIGNAL);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static int send_templates(struct ipfix_sink *s)
{
	const __u8 *buf;
	size_t len;
	int err;

	err = nacct_ipfix_add_templates(s->ix);
	if (!err)
		err = nacct_ipfix_emit(s->ix, (__u32)s->seq, &buf, &len);
	if (!err)
		err = send_raw(s, buf, len);
	if (!err)
		s->templates_at = time(NULL);
	return err;
}

/* connect (TCP) or bind a destination (UDP), then send the templates */
static int sock_open(struct ipfix_sink *s)
{
	int err;

	if (s->sock < 0) {
		if (!s->own_sock)
			return -ENOTCONN;
		s->sock = socket(s->peer.ss_family,
				 (s->tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
		if (s->sock < 0)
			return -errno;
		if (connect(s->sock, (struct sockaddr *)&s->peer, s->peer_len)) {
			err = -errno;
			sock_close(s);
			return err;
		}
		s->need_templates = 1;
	}
	if (!s->need_templates)
		return 0;
	/* the templates lead every connection (and every UDP restart) */
	err = send_templates(s);
	if (err) {
		sock_close(s);
		return err;
	}
	s->need_templates = 0;
	return 0;
}

static int ipfix_open(struct nacct_sink *sk, __u64 seq)
{
	struct ipfix_sink *s = ipfix_of(sk);

	s->seq = seq;
	return sock_open(s);
}

static int ipfix_rec(struct nacct_sink *sk, const struct nacct_rec *r)
{
	return nacct_ipfix_add_flow(ipfix_of(sk)->ix, r);
}

static int ipfix_totals(struct nacct_sink *sk, const struct nacct_xtotals *t)
{
	return nacct_ipfix_add_stats(ipfix_of(sk)->ix, t->t, t->ifindex, t->dir, t->obs_ms);
}

static int ipfix_seal(struct nacct_sink *sk, __u64 seq, const void **buf, size_t *len,
		      unsigned int *records)
{
	struct ipfix_sink *s = ipfix_of(sk);
	const __u8 *b;
	size_t n;
	int err;

	*records = nacct_ipfix_records(s->ix);
	err = nacct_ipfix_emit(s->ix, (__u32)seq, &b, &n);
	*len = 0;
	if (err || !n)
		return err;
	if (n > s->msg_cap) {
		__u8 *m = realloc(s->msg, n);

		if (!m)
			return -ENOMEM;
		s->msg = m;
		s->msg_cap = n;
	}
	memcpy(s->msg, b, n);
	s->seq = seq;
	s->msg_records = *records;
	*buf = s->msg;
	*len = n;
	return 0;
}

/* the message through the journal's mmsghdr: msg_len lands with the send */
static int send_journaled(struct ipfix_sink *s, const void *buf, size_t len,
			  struct mmsghdr *mm)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	int n;

	memset(mm, 0, sizeof(*mm));
	mm->msg_hdr.msg_iov = &iov;
	mm->msg_hdr.msg_iovlen = 1;
	n = sendmmsg(s->sock, mm, 1, MSG_NOSIGNAL);
	if (n == 1 && mm->msg_len == len)
		return 0;
	return n < 0 ? -errno : -EIO;
}

static int ipfix_send(struct nacct_sink *sk, const void *buf, size_t len, struct mmsghdr *mm)
{
	struct ipfix_sink *s = ipfix_of(sk);
	int attempt, err = 0;

	for (attempt = 0; attempt < 2; attempt++) {
		err = sock_open(s);
		if (err) {
			pr_warn("export: cannot reach %s: %s\n", s->dest, strerror(-err));
			return err;
		}
		err = send_journaled(s, buf, len, mm);
		if (!err) {
			s->seq += s->msg_records;
			return 0;
		}
		/* a broken TCP connection, a partial write: a new connection
		 * (the collector drops what was cut), then the whole message */
		pr_warn("export: send failed: %s\n", strerror(-err));
		sock_close(s);
		if (!s->own_sock)
			break;
	}
	return err;
}

static void ipfix_close(struct nacct_sink *sk)
{
	struct ipfix_sink *s = ipfix_of(sk);

	sock_close(s);
	nacct_ipfix_close(s->ix);
	free(s->msg);
	free(s);
}

static const struct nacct_sink_ops ipfix_ops = {
	.open = ipfix_open,
	.rec = ipfix_rec,
	.totals = ipfix_totals,
	.seal = ipfix_seal,
	.send = ipfix_send,
	.close = ipfix_close,
};

static int ipfix_alloc(struct ipfix_sink **out, __u32 domain, size_t mtu)
{
	struct ipfix_sink *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	s->base.ops = &ipfix_ops;
	s->sock = -1;
	err = nacct_ipfix_open(&s->ix, domain, mtu);
	if (err) {
		free(s);
		return err;
	}
	*out = s;
	return 0;
}

int nacct_sink_ipfix_new(struct nacct_sink **out, const char *dest,
			 const struct sockaddr_storage *peer, socklen_t peer_len, int tcp,
			 __u32 domain)
{
	struct ipfix_sink *s;
	int err = ipfix_alloc(&s, domain, tcp ? 32768 : 1400);

	if (err)
		return err;
	s->dest = dest;
	s->tcp = tcp;
	s->own_sock = 1;
	s->peer = *peer;
	s->peer_len = peer_len;
	*out = &s->base;
	return 0;
}

int nacct_sink_ipfix_fd(struct nacct_sink **out, int fd, __u32 domain, size_t mtu)
{
	struct ipfix_sink *s;
	int err = ipfix_alloc(&s, domain, mtu);

	if (err)
		return err;
	s->dest = "socket";
	s->sock = fd;
	s->need_templates = 1;
	*out = &s->base;
	return 0;
}

void nacct_sink_ipfix_tick(struct nacct_sink *sk)
{
	struct ipfix_sink *s = ipfix_of(sk);

	if (s->tcp || s->sock < 0 || time(NULL) - s->templates_at < TEMPLATE_REFRESH_S)
		return;
	if (send_templates(s))
		sock_close(s);
}
