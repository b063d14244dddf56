// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The JSON lines sink: one object per record (the flow and export fields
 * of the record table, lib/fmt.c) and per direction of the interface
 * totals ("type":"stats"), written to a file descriptor.  A message is
 * the lines of one journal message, written with write(); "sent" is
 * recorded right after write() returns, so a kill in between repeats one
 * batch of lines (each line carries its message's sequence number).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sink.h"
#include "../lib/fmt.h"
#include "../lib/log.h"

struct json_sink {
	struct nacct_sink base;
	int fd;
	struct nacct_obuf buf;    /* the lines of the message being built */
	unsigned int records;
};

static struct json_sink *json_of(struct nacct_sink *s)
{
	return (struct json_sink *)s;
}

static int json_open(struct nacct_sink *sk, __u64 seq)
{
	return 0;
}

static int json_rec(struct nacct_sink *sk, const struct nacct_rec *r)
{
	static const struct nacct_fmt jfmt = { NACCT_FMT_JSON, NACCT_OUT_FLOW | NACCT_OUT_EXPORT };
	struct json_sink *s = json_of(sk);

	nacct_fmt_rec(&s->buf, &jfmt, r);
	if (s->buf.err)
		return s->buf.err;
	s->records++;
	return 0;
}

/* the per-direction interface totals of the table */
static int json_totals(struct nacct_sink *sk, const struct nacct_xtotals *t)
{
	struct json_sink *s = json_of(sk);
	double fill = t->max_flows ? (double)t->flows / t->max_flows : 0;
	size_t k;

	nacct_obuf_str(&s->buf, "{\"type\":\"stats\",\"ifname\":");
	nacct_obuf_json_str(&s->buf, t->ifname);
	nacct_obuf_printf(&s->buf, ",\"direction\":\"%s\",\"time_ms\":%llu",
			  t->dir ? "tx" : "rx", (unsigned long long)t->obs_ms);
	for (k = 0; k < nacct_total_nfields; k++) {
		const struct nacct_total_field *f = &nacct_total_fields[k];

		if (!(f->out & NACCT_TOUT_STATUS) || !f->per_dir || f->need_flows)
			continue;
		nacct_obuf_printf(&s->buf, ",\"%s\":", f->name);
		nacct_obuf_u64(&s->buf, nacct_total_get(f, t->t, t->dir));
	}
	nacct_obuf_printf(&s->buf, ",\"flows\":%zu,\"max_flows\":%u,\"fill\":%.6f}\n", t->flows,
			  t->max_flows, fill);
	if (s->buf.err)
		return s->buf.err;
	s->records++;
	return 0;
}

static int json_seal(struct nacct_sink *sk, __u64 seq, const void **buf, size_t *len,
		     unsigned int *records)
{
	struct json_sink *s = json_of(sk);

	*len = 0;
	if (s->buf.err)
		return s->buf.err;
	*buf = s->buf.p;
	*len = s->buf.len;
	*records = s->records;
	/* the bytes stay until the next append */
	s->buf.len = 0;
	s->records = 0;
	return 0;
}

static int json_send(struct nacct_sink *sk, const void *buf, size_t len, struct mmsghdr *mm)
{
	struct json_sink *s = json_of(sk);
	size_t off = 0;
	int err;

	memset(mm, 0, sizeof(*mm));
	while (off < len) {
		ssize_t w = write(s->fd, (const char *)buf + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			err = w < 0 ? -errno : -EIO;
			pr_warn("export: send failed: %s\n", strerror(-err));
			return err;
		}
		off += w;
	}
	mm->msg_len = len;
	return 0;
}

static void json_close(struct nacct_sink *sk)
{
	struct json_sink *s = json_of(sk);

	nacct_obuf_free(&s->buf);
	free(s);
}

static const struct nacct_sink_ops json_ops = {
	.open = json_open,
	.rec = json_rec,
	.totals = json_totals,
	.seal = json_seal,
	.send = json_send,
	.close = json_close,
};

int nacct_sink_json_new(struct nacct_sink **out, int fd)
{
	struct json_sink *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->base.ops = &json_ops;
	s->fd = fd;
	*out = &s->base;
	return 0;
}
