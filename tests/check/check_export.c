// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The exporter core on the in-memory store: deltas, active-timeout
 * splits, idle expiry into pending slots, the journal, the expired
 * counter, and a "kill" at every crash point of a scripted run followed
 * by a restart (a new core on the same memory): nothing lost, nothing
 * sent twice, the IPFIX sequence numbers without a gap or a repeat, the
 * initiator kept in every record, and flows + expired + overflow = totals
 * at every step.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "check.h"
#include "xworld.h"

/* ---- the capture sink: what a collector received --------------------------- */

static struct tsink *tsink_of(struct nacct_sink *s)
{
	return (struct tsink *)s;
}

static int ts_open(struct nacct_sink *s, __u64 seq)
{
	return 0;
}

static int ts_rec(struct nacct_sink *sk, const struct nacct_rec *r)
{
	struct tsink *s = tsink_of(sk);
	struct trec *t;

	if (s->n == s->per_msg)
		return -ENOSPC;
	t = &s->msg->r[s->n++];
	memset(t, 0, sizeof(*t));
	t->key = r->key;
	t->dir = r->dir;
	t->src_hi = r->src_hi;
	t->final = r->final;
	t->packets = r->val.packets[0] + r->val.packets[1];
	t->bytes = r->val.bytes[0] + r->val.bytes[1];
	t->start = r->val.first_seen;
	t->end = r->val.last_seen;
	t->seq = r->seq;
	s->records++;
	return 0;
}

static int ts_totals(struct nacct_sink *sk, const struct nacct_xtotals *t)
{
	struct tsink *s = tsink_of(sk);

	s->msg->totals = 1;
	s->msg->st = t->t->st;
	s->records++;
	return 0;
}

static int ts_seal(struct nacct_sink *sk, __u64 seq, const void **buf, size_t *len,
		   unsigned int *records)
{
	struct tsink *s = tsink_of(sk);

	*len = 0;
	*records = s->records;
	if (!s->records)
		return 0;
	s->msg->seq = seq;
	s->msg->n = s->n;
	s->msg->records = s->records;
	*buf = s->msg;
	*len = sizeof(*s->msg) + s->n * sizeof(struct trec);
	/* the next message is built in the other buffer */
	s->msg = s->msg == s->buf[0] ? s->buf[1] : s->buf[0];
	memset(s->msg, 0, sizeof(*s->msg));
	s->n = 0;
	s->records = 0;
	return 0;
}

void xw_deliver(struct tlog *log, const struct tmsg *m)
{
	size_t i;

	if (m->seq != log->next_seq && !log->seq_bad) {
		log->seq_bad = 1;
		snprintf(log->why, sizeof(log->why), "message %llu: seq %llu, expected %llu",
			 (unsigned long long)log->msgs, (unsigned long long)m->seq,
			 (unsigned long long)log->next_seq);
	}
	log->next_seq = m->seq + m->records;
	log->msgs++;
	for (i = 0; i < m->n; i++) {
		if (log->n == log->cap) {
			log->cap = log->cap ? log->cap * 2 : 1024;
			log->r = realloc(log->r, log->cap * sizeof(*log->r));
		}
		log->r[log->n++] = m->r[i];
	}
	if (m->totals) {
		log->st = m->st;
		log->totals_msgs++;
	}
}

static int ts_send(struct nacct_sink *sk, const void *buf, size_t len, struct mmsghdr *mm)
{
	struct tsink *s = tsink_of(sk);

	memset(mm, 0, sizeof(*mm));
	s->sends++;
	if (s->fail_every && s->sends % s->fail_every == 0)
		return -ECONNREFUSED; /* nothing went */
	if (s->cut_every && s->sends % s->cut_every == 0) {
		/* a TCP write cut short: the collector drops the truncated message */
		mm->msg_len = len - 1;
		return -EPIPE;
	}
	if (s->ask) {
		/* a database: the message lands, then its answer comes back (or not) */
		xw_deliver(s->log, buf);
		if (s->crash)
			s->crash(s->crash_arg, NACCT_XC_DELIVERED);
		if (s->lost_every && s->sends % s->lost_every == 0)
			return -ETIMEDOUT;
		mm->msg_len = len;
		return 0;
	}
	if (s->fd >= 0) {
		/* to the collector in another process: the kernel stores msg_len
		 * in the journal inside the send syscall, as in production */
		struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

		mm->msg_hdr.msg_iov = &iov;
		mm->msg_hdr.msg_iovlen = 1;
		if (sendmmsg(s->fd, mm, 1, 0) != 1 || mm->msg_len != len)
			return -EIO;
		return 0;
	}
	/* the kernel: queued and recorded in one syscall */
	xw_deliver(s->log, buf);
	mm->msg_len = len;
	return 0;
}

/* the database asked: is the message of seq there (delivery checks the seq order) */
static int ts_committed(struct nacct_sink *sk, __u64 seq, unsigned int records)
{
	struct tsink *s = tsink_of(sk);

	if (s->fail_every && ++s->asks % 2)
		return -ECONNREFUSED;
	return s->log->next_seq > seq;
}

static void ts_close(struct nacct_sink *sk)
{
	struct tsink *s = tsink_of(sk);

	free(s->buf[0]);
	free(s->buf[1]);
	free(s);
}

#define TS_OPS                                                              \
	.open = ts_open, .rec = ts_rec, .totals = ts_totals, .seal = ts_seal, \
	.send = ts_send, .close = ts_close
static const struct nacct_sink_ops ts_ops = { TS_OPS };
/* the same collector, able to say whether a message arrived (a database) */
static const struct nacct_sink_ops ts_ask_ops = { TS_OPS, .committed = ts_committed };

struct tsink *tsink_new(struct tlog *log, size_t per_msg)
{
	struct tsink *s = calloc(1, sizeof(*s));

	s->base.ops = &ts_ops;
	s->log = log;
	s->fd = -1;
	s->per_msg = per_msg;
	s->buf[0] = calloc(1, sizeof(struct tmsg) + per_msg * sizeof(struct trec));
	s->buf[1] = calloc(1, sizeof(struct tmsg) + per_msg * sizeof(struct trec));
	s->msg = s->buf[0];
	return s;
}

/* ---- the world: everything that outlives a kill ------------------------------ */

static const __u8 V6_LO[16] = { 0xfd, 0, 0, 0x18, [15] = 1 };
static const __u8 V6_HI[16] = { 0xfd, 0, 0, 0x18, [15] = 2 };

void xw_init(struct xworld *w, const struct xw_opts *o, void *shared)
{
	size_t ssz = nacct_xslot_size(XW_NCPU), off = 0;
	__u8 *mem;
	int i;

	memset(w, 0, sizeof(*w));
	w->o = *o;
	w->crash_at = w->crash_at2 = -1;
	w->sink_fd = -1;
	mem = shared ? shared : calloc(1, xw_mem_size());
	w->memblk = shared ? NULL : mem;
	w->j = (void *)(mem + off);
	off += (nacct_xjournal_size(NACCT_XJ_ITEMS) + 63) & ~(size_t)63;
	w->exp = (void *)(mem + off);
	off += (sizeof(struct nacct_export_expired) + 63) & ~(size_t)63;
	w->slots = mem + off;
	off += XW_SLOTS * ssz;
	off = (off + 63) & ~(size_t)63;
	w->ent = (void *)(mem + off);
	off += XW_ENT * sizeof(struct nacct_xentry);
	off = (off + 63) & ~(size_t)63;
	w->j2 = (void *)(mem + off);
	off += (nacct_xjournal_size(NACCT_XJ_ITEMS) + 63) & ~(size_t)63;
	w->ent2 = (void *)(mem + off);
	off += XW_ENT * sizeof(struct nacct_xentry);
	off = (off + 63) & ~(size_t)63;
	ms_init(&w->ms, XW_NCPU, XW_FLOWS_CAP, 7, mem + off);
	w->mem = (struct nacct_xmem){ .exp = w->exp, .slots = w->slots,
				      .n_slots = o->n_slots ? o->n_slots : XW_SLOTS,
				      .slot_size = ssz, .n_lanes = o->two ? 2 : 1 };
	w->mem.lane[0] = (struct nacct_xlane){ .j = w->j, .j_cap = o->j_cap, .ent = w->ent,
					       .n_ent = XW_ENT };
	w->mem.lane[1] = (struct nacct_xlane){ .j = w->j2, .j_cap = o->j_cap, .ent = w->ent2,
					       .n_ent = XW_ENT };
	/* the flows of the script */
	ms_key4(&w->keys[0], 6, 0xc6120501, 80, 0xc6120502, 40000);   /* mirrored TCP */
	ms_key4(&w->keys[1], 17, 0xc6120001, 40000, 0xc6120002, 9000); /* UDP, hi local */
	ms_key6(&w->keys[2], 17, V6_LO, 40001, V6_HI, 9001);           /* UDP v6, hi local */
	ms_key4(&w->keys[3], 1, 0xc6120001, 7, 0xc6120002, 7);         /* ICMP echo */
	for (i = 4; i < XW_NKEYS; i++)
		ms_key4(&w->keys[i], 17, 0xc6120001, 41000 + i, 0xc6120002, 9000);
	w->local[0][10] = w->local[0][11] = 0xff;
	w->local[0][12] = 198, w->local[0][13] = 18, w->local[0][14] = 0, w->local[0][15] = 2;
	memcpy(w->local[1], V6_HI, 16);
}

size_t xw_mem_size(void)
{
	return 6 * 64 + 2 * nacct_xjournal_size(NACCT_XJ_ITEMS) + sizeof(struct nacct_export_expired) +
	       XW_SLOTS * nacct_xslot_size(XW_NCPU) + 2 * XW_ENT * sizeof(struct nacct_xentry) +
	       ms_mem_size(XW_FLOWS_CAP, 7);
}

/* flows + expired + overflow = totals, and taken flows = expired flows */
static int conserved(struct xworld *w, char *why, size_t len)
{
	__u64 p[2], b[2], fl;
	struct nacct_expired e;
	int d, r;

	ms_live(&w->ms, p, b, &fl);
	r = nacct_expired_sum(w->exp, w->slots, w->mem.n_slots, w->mem.slot_size, XW_NCPU, &e);
	if (r < 0) {
		snprintf(why, len, "expired sum: %d", r);
		return 0;
	}
	for (d = 0; d < 2; d++)
		if (p[d] + e.packets[d] + w->ms.st.overflow_packets[d] != w->ms.st.packets[d] ||
		    b[d] + e.bytes[d] + w->ms.st.overflow_bytes[d] != w->ms.st.bytes[d]) {
			snprintf(why, len,
				 "dir %d: flows %llu + expired %llu + overflow %llu != total %llu", d,
				 (unsigned long long)p[d], (unsigned long long)e.packets[d],
				 (unsigned long long)w->ms.st.overflow_packets[d],
				 (unsigned long long)w->ms.st.packets[d]);
			return 0;
		}
	if (e.flows != w->ms.takes) {
		snprintf(why, len, "expired flows %llu != taken %llu", (unsigned long long)e.flows,
			 (unsigned long long)w->ms.takes);
		return 0;
	}
	return 1;
}

static void crash_point(void *arg, enum nacct_xpoint p)
{
	struct xworld *w = arg;

	w->points++;
	w->hits[p]++;
	if (!w->bad && !conserved(w, w->why, sizeof(w->why))) {
		w->bad = 1;
		w->bad_point = p;
		w->bad_at = w->points;
	}
	if (w->points == w->crash_at || w->points == w->crash_at2) {
		w->kills++;
		if (w->kill_fn)
			w->kill_fn(w);
		longjmp(w->jb, 1);
	}
}

void xw_start(struct xworld *w)
{
	struct nacct_xcfg c = {
		.ifname = "veth0", .ifindex = 7, .max_flows = XW_FLOWS_CAP,
		.idle_ns = 3 * XW_S, .active_ns = 2 * XW_S, .scan_rate = w->o.scan_rate,
		.crash = crash_point, .crash_arg = w,
	};
	struct nacct_xrecovery rec;
	struct nacct_sink *sinks[2];

	for (;;) {
		w->sink = tsink_new(&w->log, w->o.per_msg ? w->o.per_msg : 5);
		w->sink->fail_every = w->o.fail_every;
		w->sink->cut_every = w->o.cut_every;
		w->sink->fd = w->sink_fd;
		if (w->o.ask) {
			w->sink->base.ops = &ts_ask_ops;
			w->sink->ask = 1;
			w->sink->lost_every = w->o.lost_every;
			w->sink->crash = crash_point;
			w->sink->crash_arg = w;
		}
		if (w->o.two) {
			w->sink2 = tsink_new(&w->log2, w->o.per_msg ? w->o.per_msg : 5);
			w->sink2->fail_every = w->o.fail2_every;
			sinks[1] = &w->sink2->base;
		}
		sinks[0] = &w->sink->base;
		if (setjmp(w->jb)) {
			/* killed while recovering: again (the half-made core is lost) */
			w->restarts++;
			ts_close(&w->sink->base);
			if (w->sink2)
				ts_close(&w->sink2->base);
			w->sink2 = NULL;
			continue;
		}
		if (nacct_exporter_new(&w->x, &c, &w->ms.base, &w->mem, sinks, &rec)) {
			w->bad = 1;
			snprintf(w->why, sizeof(w->why), "nacct_exporter_new failed");
		}
		w->rec_sent += rec.j[0].sent + rec.j[1].sent;
		w->rec_unsent += (rec.j[0].intent && !rec.j[0].sent) + (rec.j[1].intent && !rec.j[1].sent);
		w->rec_taken += rec.taken;
		w->rec_covered += rec.covered;
		nacct_exporter_set_local(w->x, (const __u8(*)[16])w->local, 2);
		return;
	}
}

void xw_stop(struct xworld *w)
{
	nacct_exporter_free(w->x);
	w->x = NULL;
	if (w->sink)
		ts_close(&w->sink->base);
	w->sink = NULL;
	if (w->sink2)
		ts_close(&w->sink2->base);
	w->sink2 = NULL;
}

/* a packet of script flow i; the ground truth counts it */
static void pkt(struct xworld *w, int i, int cpu, int edir, int dir, __u32 bytes, __u8 flags)
{
	__u64 before = w->ms.st.overflow_packets[dir];

	ms_packet(&w->ms, &w->keys[i], cpu, edir, dir, bytes, flags);
	if (w->ms.st.overflow_packets[dir] == before) {
		w->truth_p[i][dir]++;
		w->truth_b[i][dir] += bytes;
	}
}

static void traffic(struct xworld *w, int phase)
{
	int i, k;

	switch (phase) {
	case 0:
		/* TCP seen from a mirror port: the SYN-ACK (lo -> hi) first, on
		 * CPU 0, then the SYN (hi -> lo) on CPU 1: hi initiated it */
		pkt(w, 0, 0, 0, 0, 74, 0x12);
		w->ms.now += 1000;
		pkt(w, 0, 1, 1, 0, 74, 0x02);
		pkt(w, 0, 1, 1, 0, 66, 0x10);
		pkt(w, 0, 0, 0, 0, 1514, 0x18);
		for (k = 0; k < 6; k++) {
			pkt(w, 1, k % 3, 0, 0, 200, 0);     /* lo -> local hi: RX */
			pkt(w, 1, k % 3, 1, 1, 120, 0);     /* local hi -> lo: TX */
			pkt(w, 2, (k + 1) % 3, 0, 0, 300, 0);
		}
		pkt(w, 3, 0, 0, 0, 98, 0);
		pkt(w, 3, 2, 1, 1, 98, 0);
		for (i = 4; i < XW_NKEYS; i++)
			for (k = 0; k <= i % 3; k++)
				pkt(w, i, (i + k) % 3, 0, 0, 60 + i, 0);
		break;
	case 1:
		pkt(w, 0, 1, 1, 0, 66, 0x10);
		pkt(w, 0, 2, 0, 0, 1514, 0x10);
		for (k = 0; k < 4; k++) {
			pkt(w, 1, k % 3, 0, 0, 210, 0);
			pkt(w, 2, 2, 0, 0, 310, 0);
		}
		for (i = 4; i < XW_NKEYS; i += 2)
			pkt(w, i, i % 3, 0, 0, 70, 0);
		break;
	case 2:
		/* the TCP flow on every CPU, both ends */
		for (k = 0; k < 3; k++) {
			pkt(w, 0, k, 1, 0, 66, 0x10);
			pkt(w, 0, k, 0, 0, 900, 0x18);
		}
		pkt(w, 1, 0, 1, 1, 130, 0);
		break;
	case 3:
		pkt(w, 2, 1, 1, 1, 320, 0);
		pkt(w, 3, 1, 0, 0, 98, 0);
		break;
	case 4:
		/* new incarnations: the TCP flow again (SYN on CPU 2), a small one */
		pkt(w, 0, 0, 0, 0, 74, 0x12);
		w->ms.now += 500;
		pkt(w, 0, 2, 1, 0, 74, 0x02);
		pkt(w, 5, 1, 0, 0, 61, 0);
		pkt(w, 6, 1, 1, 1, 62, 0);
		break;
	case 5:
		pkt(w, 1, 2, 0, 0, 222, 0);
		pkt(w, 0, 1, 1, 0, 66, 0x11);
		break;
	}
}

/* the script: traffic phases and rounds at times (0.1 s units), final last */
static const struct { int t, phase, round, final; } script[] = {
	{ 1, 0, 0, 0 },   { 10, -1, 1, 0 }, { 15, 1, 0, 0 },  { 25, -1, 1, 0 },
	{ 30, 2, 0, 0 },  { 40, -1, 1, 0 }, { 50, -1, 1, 0 }, { 55, 3, 0, 0 },
	{ 60, -1, 1, 0 }, { 70, -1, 1, 0 }, { 75, 4, 0, 0 },  { 80, -1, 1, 0 },
	{ 90, -1, 1, 0 }, { 110, -1, 1, 0 }, { 115, 5, 0, 0 }, { 120, -1, 1, 0 },
	{ 130, -1, 1, 0 }, { 140, -1, 1, 0 }, { 160, -1, 1, 1 },
};

int xw_nsteps(void)
{
	return sizeof(script) / sizeof(script[0]);
}

int xw_is_traffic(int s)
{
	return script[s].phase >= 0;
}

void xw_step(struct xworld *w, int s)
{
	struct nacct_xreport rep;
	__u64 t = (__u64)script[s].t * XW_S / 10;

	if (script[s].phase >= 0) {
		w->ms.now = t;
		traffic(w, script[s].phase);
		return;
	}
	w->last_err = nacct_exporter_round(w->x, t, script[s].final, &rep);
	if (w->last_err)
		w->round_errs++;
	if (rep.take_err || rep.state_err)
		w->round_errs++;
}

void xw_run(struct xworld *w)
{
	xw_start(w);
	for (w->step = 0; w->step < xw_nsteps(); w->step++) {
		if (setjmp(w->jb)) {
			/* killed in the middle of the round: a new core on the same memory */
			w->restarts++;
			xw_stop(w);
			xw_start(w);
			continue;
		}
		xw_step(w, w->step);
	}
	/* a kill in the last round, or its send refused: the final round again
	 * (the exporter run after it would do the same) */
	w->crash_at = w->crash_at2 = -1;
	if (w->kills || w->last_err) {
		struct nacct_xreport rep;
		int tries;

		for (tries = 0; tries < 10; tries++)
			if (setjmp(w->jb) == 0 &&
			    !nacct_exporter_round(w->x, (170 + tries) * XW_S / 10, 1, &rep))
				break;
	}
	xw_stop(w);
}

void xw_free(struct xworld *w)
{
	free(w->log.r);
	w->log.r = NULL;
	free(w->log2.r);
	w->log2.r = NULL;
	free(w->memblk);
	w->memblk = NULL;
}

/* what the collector has against the truth; 0 or why not in why */
/* one collector's records against the truth; 0 or why not in why */
static int verify_log(struct xworld *w, const struct tlog *log, const char *name, char *why,
		      size_t len)
{
	__u64 p[XW_NKEYS][2] = { { 0 } }, b[XW_NKEYS][2] = { { 0 } }, tp = 0, tt = 0;
	size_t r, i;
	int d;

	if (log->seq_bad) {
		snprintf(why, len, "%s: sequence numbers: %s", name, log->why);
		return 0;
	}
	for (r = 0; r < log->n; r++) {
		const struct trec *t = &log->r[r];

		for (i = 0; i < XW_NKEYS; i++)
			if (!memcmp(&t->key, &w->keys[i], sizeof(t->key)))
				break;
		if (i == XW_NKEYS) {
			snprintf(why, len, "%s: a record of an unknown flow", name);
			return 0;
		}
		p[i][t->dir] += t->packets;
		b[i][t->dir] += t->bytes;
		tp += t->packets;
		if (t->start > t->end) {
			snprintf(why, len, "%s: flow %zu: start %llu > end %llu", name, i,
				 (unsigned long long)t->start, (unsigned long long)t->end);
			return 0;
		}
		/* the TCP flow's initiator is hi (its SYN), in every record */
		if (i == 0 && !t->src_hi) {
			snprintf(why, len, "%s: TCP flow record %zu (final %d): src is lo", name, r,
				 t->final);
			return 0;
		}
	}
	for (i = 0; i < XW_NKEYS; i++)
		for (d = 0; d < 2; d++)
			if (p[i][d] != w->truth_p[i][d] || b[i][d] != w->truth_b[i][d]) {
				snprintf(why, len,
					 "%s: flow %zu dir %d: records %llu packets %llu bytes, sent "
					 "%llu packets %llu bytes", name,
					 i, d, (unsigned long long)p[i][d],
					 (unsigned long long)b[i][d],
					 (unsigned long long)w->truth_p[i][d],
					 (unsigned long long)w->truth_b[i][d]);
				return 0;
			}
	for (d = 0; d < 2; d++)
		tt += w->ms.st.packets[d] - w->ms.st.overflow_packets[d];
	if (tp != tt) {
		snprintf(why, len, "%s: records %llu packets, totals %llu", name,
			 (unsigned long long)tp, (unsigned long long)tt);
		return 0;
	}
	return 1;
}

/* what the collector(s) have against the truth; 0 or why not in why */
int xw_verify(struct xworld *w, char *why, size_t len)
{
	struct nacct_expired e;
	size_t i;

	if (w->bad) {
		snprintf(why, len, "at crash point %ld (kind %d): %s", w->bad_at, w->bad_point,
			 w->why);
		return 0;
	}
	if (!verify_log(w, &w->log, "collector", why, len))
		return 0;
	if (w->o.two && !verify_log(w, &w->log2, "second collector", why, len))
		return 0;
	if (!conserved(w, why, len))
		return 0;
	nacct_expired_sum(w->exp, w->slots, w->mem.n_slots, w->mem.slot_size, XW_NCPU, &e);
	for (i = 0; i < w->mem.n_slots; i++)
		if (((struct nacct_xslot *)(w->slots + i * w->mem.slot_size))->state) {
			snprintf(why, len, "slot %zu still pending after the final round", i);
			return 0;
		}
	if (w->round_errs && !w->o.fail_every && !w->o.cut_every && !w->o.lost_every &&
	    !w->o.fail2_every) {
		snprintf(why, len, "%d rounds failed", w->round_errs);
		return 0;
	}
	return 1;
}

/* ---- the checks ------------------------------------------------------------------ */

static void baseline(const struct xw_opts *o, const char *what)
{
	struct xworld *w = calloc(1, sizeof(*w));
	char why[512], name[160];
	__u64 nonfinal = 0, fin = 0, splits = 0;
	size_t r, used = 0, i;

	xw_init(w, o, NULL);
	xw_run(w);
	snprintf(name, sizeof(name), "export %s: records sum to the totals per flow and direction, "
		 "%llu messages", what, (unsigned long long)w->log.msgs);
	if (xw_verify(w, why, sizeof(why)))
		t_ok("%s", name);
	else
		t_fail(name, "%s", why);
	for (r = 0; r < w->log.n; r++) {
		const struct trec *t = &w->log.r[r];

		if (!memcmp(&t->key, &w->keys[0], sizeof(t->key))) {
			if (t->final)
				fin += t->packets;
			else
				nonfinal += t->packets;
		}
		if (!memcmp(&t->key, &w->keys[1], sizeof(t->key)) && t->dir == 0 && !t->final)
			splits++;
	}
	if (!o->fail_every && !o->cut_every && !o->lost_every && !o->fail2_every) {
		snprintf(name, sizeof(name), "export %s: active timeout splits a running flow "
			 "(%llu records of its RX)", what, (unsigned long long)splits);
		t_true(name, splits >= (o->scan_rate ? 1 : 2));
		snprintf(name, sizeof(name), "export %s: idle expiry: the TCP flow's final records "
			 "carry the rest (%llu + %llu packets)", what, (unsigned long long)nonfinal,
			 (unsigned long long)fin);
		t_true(name, fin > 0 && nonfinal + fin == w->truth_p[0][0] + w->truth_p[0][1]);
		snprintf(name, sizeof(name), "export %s: flows taken, all into the expired counter",
			 what);
		t_true(name, w->ms.takes >= XW_NKEYS - 2);
		for (i = 0; i < XW_ENT; i++)
			used += w->ent[i].used;
		snprintf(name, sizeof(name), "export %s: exported state of the live flows only (gc)",
			 what);
		t_eq_u64(name, w->ms.live, used);
		snprintf(name, sizeof(name), "export %s: the totals records carry the interface "
			 "totals", what);
		t_eq_u64(name, w->ms.st.packets[0] + w->ms.st.packets[1],
			 w->log.st.packets[0] + w->log.st.packets[1]);
	}
	xw_free(w);
	free(w);
}

/* a kill at crash point k (and k2), for every k of the run */
static void kill_everywhere(const struct xw_opts *o, const char *what, int twice)
{
	struct xworld *w = calloc(1, sizeof(*w));
	long points, k, bad = 0, kinds[NACCT_XC_MAX] = { 0 };
	__u64 sent = 0, unsent = 0, taken = 0, covered_ = 0;
	char why[512], name[200];
	int p;

	xw_init(w, o, NULL);
	xw_run(w);
	points = w->points;
	memcpy(kinds, w->hits, sizeof(kinds));
	xw_free(w);
	for (k = 1; k <= points; k++) {
		xw_init(w, o, NULL);
		w->crash_at = k;
		if (twice)
			w->crash_at2 = k + 1;
		xw_run(w);
		sent += w->rec_sent;
		unsent += w->rec_unsent;
		taken += w->rec_taken;
		covered_ += w->rec_covered;
		if (!xw_verify(w, why, sizeof(why)) && bad++ < 5)
			t_note("kill at point %ld%s: %s", k, twice ? " and the next" : "", why);
		xw_free(w);
	}
	snprintf(name, sizeof(name), "export %s: a kill%s at each of %ld crash points, then a "
		 "restart on the same memory: exact, no repeat, seq without gaps", what,
		 twice ? " (and one more while restarting)" : "", points);
	if (bad)
		t_fail(name, "%ld of %ld runs wrong", bad, points);
	else
		t_ok("%s", name);
	for (p = 1; p < NACCT_XC_MAX; p++)
		if (!kinds[p] && p != NACCT_XC_GC && (p != NACCT_XC_DELIVERED || o->ask))
			t_note("crash point kind %d never reached", p);
	t_note("restarts found: %llu messages sent and committed, %llu not sent, %llu taken "
	       "slots, %llu finalized slots", (unsigned long long)sent,
	       (unsigned long long)unsent, (unsigned long long)taken,
	       (unsigned long long)covered_);
	free(w);
}

/* ---- recovery, piece by piece ----------------------------------------------------- */

struct rworld {
	struct memstore ms;
	struct nacct_xjournal *j;
	struct nacct_export_expired e;
	__u8 slots[4][256];
	struct nacct_xentry ent[16];
	struct nacct_xmem mem;
	struct tlog log;
	struct tsink *sink;
	struct nacct_exporter *x;
	struct nacct_xrecovery rec;
};

static struct rworld *rw_new(void)
{
	struct rworld *r = calloc(1, sizeof(*r));

	ms_init(&r->ms, 2, 16, 4, NULL);
	r->j = calloc(1, nacct_xjournal_size(NACCT_XJ_ITEMS));
	r->mem = (struct nacct_xmem){ .exp = &r->e, .slots = r->slots[0], .n_slots = 4,
				      .slot_size = 256, .n_lanes = 1 };
	r->mem.lane[0] = (struct nacct_xlane){ .j = r->j, .j_cap = NACCT_XJ_ITEMS, .ent = r->ent,
					       .n_ent = 16 };
	return r;
}

static void rw_start(struct rworld *r)
{
	struct nacct_xcfg c = { .ifname = "v", .idle_ns = XW_S, .active_ns = XW_S };

	r->sink = tsink_new(&r->log, 5);
	struct nacct_sink *sk = &r->sink->base;

	nacct_exporter_new(&r->x, &c, &r->ms.base, &r->mem, &sk, &r->rec);
}

static void rw_free(struct rworld *r)
{
	nacct_exporter_free(r->x);
	ts_close(&r->sink->base);
	free(r->ms.f);
	free(r->log.r);
	free(r->j);
	free(r);
}

static struct nacct_xslot *rw_slot(struct rworld *r, int i)
{
	return (struct nacct_xslot *)r->slots[i];
}

static void recovery_units(void)
{
	struct nacct_flow_key k, k2;
	struct nacct_xitem *it;
	struct mmsghdr *mm;
	struct rworld *r;

	ms_key4(&k, 17, 1, 1, 2, 2);
	ms_key4(&k2, 17, 3, 3, 4, 4);

	/* a fresh journal and counter */
	r = rw_new();
	rw_start(r);
	t_true("recovery: zeroed memory: a new journal and counter",
	       r->rec.fresh && r->j->magic == NACCT_XJ_MAGIC && r->e.magic == NACCT_XE_MAGIC &&
	       !r->rec.j[0].intent);
	rw_free(r);

	/* a message that went out: committed, with its new incarnation */
	r = rw_new();
	r->ent[3] = (struct nacct_xentry){ .used = 1, .key = k, .packets = { 50, 40 },
					   .bytes = { 500, 400 }, .first_seen = 111 };
	r->j->magic = NACCT_XJ_MAGIC;
	r->j->version = NACCT_XJ_VERSION;
	r->j->state = NACCT_XJ_INTENT;
	r->j->seq = 70;
	r->j->messages = 9;
	r->j->seq_after = 73;
	r->j->messages_after = 10;
	r->j->msg_len = 300;
	r->j->n_records = 3;
	r->j->n_items = 2;
	it = r->j->items;
	it[0] = (struct nacct_xitem){ .key = k, .packets = 7, .bytes = 70, .first_seen = 222,
				      .rec_start = 5, .dir = 0 };
	it[1] = (struct nacct_xitem){ .key = k2, .packets = 8, .bytes = 80, .first_seen = 333,
				      .rec_start = 6, .dir = 1 };
	mm = (struct mmsghdr *)r->j->mmsg;
	mm->msg_len = 300;
	rw_start(r);
	t_true("recovery: a message sent before the kill is committed (seq, messages, state)",
	       r->rec.j[0].intent && r->rec.j[0].sent && r->rec.j[0].message == 9 && r->rec.j[0].records == 3 &&
	       r->j->seq == 73 && r->j->messages == 10 && r->j->state == NACCT_XJ_IDLE &&
	       r->j->n_items == 0);
	t_true("recovery: a new incarnation's record resets the flow's exported state",
	       r->ent[3].used && r->ent[3].first_seen == 222 && r->ent[3].packets[0] == 7 &&
	       r->ent[3].packets[1] == 0 && r->ent[3].bytes[1] == 0);
	{
		int i, found = 0;

		for (i = 0; i < 16; i++)
			found += r->ent[i].used && !memcmp(&r->ent[i].key, &k2, sizeof(k2)) &&
				 r->ent[i].packets[1] == 8 && r->ent[i].first_seen == 333;
		t_eq_u64("recovery: ... and a flow's first record makes its entry", 1, found);
	}
	rw_free(r);

	/* a message cut short: dropped, nothing applied */
	r = rw_new();
	r->j->magic = NACCT_XJ_MAGIC;
	r->j->version = NACCT_XJ_VERSION;
	r->j->state = NACCT_XJ_INTENT;
	r->j->seq = 70;
	r->j->seq_after = 73;
	r->j->msg_len = 300;
	r->j->n_items = 1;
	r->j->items[0] = (struct nacct_xitem){ .key = k, .packets = 7, .first_seen = 222 };
	((struct mmsghdr *)r->j->mmsg)->msg_len = 299;
	rw_start(r);
	t_true("recovery: a message not (all) sent is dropped: its records go again",
	       r->rec.j[0].intent && !r->rec.j[0].sent && r->rec.j[0].sent_len == 299 && r->j->seq == 70 &&
	       r->j->state == NACCT_XJ_IDLE && !r->ent[0].used);
	rw_free(r);

	/* slots: a take that happened, one that did not, a finalized one, a stale mark */
	r = rw_new();
	r->e.magic = NACCT_XE_MAGIC;
	r->e.version = NACCT_XE_VERSION;
	r->e.cur = 1;
	r->e.c[1].epoch = 41;
	rw_slot(r, 0)->state = NACCT_XP_TAKING;
	rw_slot(r, 0)->key = k;
	rw_slot(r, 0)->vals[1].first_seen = 5;
	rw_slot(r, 0)->vals[1].packets[0] = 3;
	rw_slot(r, 1)->state = NACCT_XP_TAKING;
	rw_slot(r, 1)->key = k2;
	rw_slot(r, 2)->state = NACCT_XP_TAKEN;
	rw_slot(r, 2)->fin_epoch = 41;
	rw_slot(r, 2)->key = k2;
	rw_slot(r, 2)->vals[0].first_seen = 9;
	r->ent[0] = (struct nacct_xentry){ .used = 1, .key = k2, .first_seen = 9 };
	rw_slot(r, 3)->state = NACCT_XP_TAKEN;
	rw_slot(r, 3)->fin_epoch = 42;
	rw_slot(r, 3)->key = k;
	rw_slot(r, 3)->vals[0].first_seen = 8;
	rw_start(r);
	t_true("recovery: TAKING with values: the delete happened (TAKEN)",
	       rw_slot(r, 0)->state == NACCT_XP_TAKEN && r->rec.taken == 1);
	t_true("recovery: TAKING without values: it did not (FREE)",
	       rw_slot(r, 1)->state == NACCT_XP_FREE && r->rec.not_taken == 1);
	t_true("recovery: a slot the counter covers is freed with its exported state",
	       rw_slot(r, 2)->state == NACCT_XP_FREE && !r->ent[0].used && r->rec.covered == 1);
	t_true("recovery: a mark newer than the counter (no flip) is cleared",
	       rw_slot(r, 3)->state == NACCT_XP_TAKEN && rw_slot(r, 3)->fin_epoch == 0);
	rw_free(r);
}

void check_export(void)
{
	struct xw_opts whole = { 0 }, paced = { .scan_rate = 10 }, tight = { .n_slots = 3 };
	struct xw_opts faults = { .fail_every = 3, .cut_every = 5 };
	struct xw_opts small_j = { .j_cap = 3 };
	struct xw_opts two = { .two = 1, .fail2_every = 3 }, two_ok = { .two = 1 };
	struct xw_opts ask = { .ask = 1 }, ask_faults = { .ask = 1, .lost_every = 2, .fail_every = 5 };

	recovery_units();
	baseline(&whole, "(a pass a round)");
	baseline(&paced, "(passes of 10 flows a round)");
	baseline(&tight, "(3 pending slots)");
	baseline(&faults, "(sends refused and cut)");
	kill_everywhere(&whole, "(a pass a round)", 0);
	kill_everywhere(&paced, "(passes of 10 flows a round)", 0);
	kill_everywhere(&tight, "(3 pending slots)", 0);
	kill_everywhere(&whole, "(a pass a round)", 1);
	kill_everywhere(&faults, "(sends refused and cut)", 0);
	/* a destination that can be asked (ClickHouse): a send whose answer
	 * was lost, or a kill after the message landed, is settled by asking */
	/* two sinks from one expiry pass, the second refusing every 3rd send:
	 * each collector exact, the slots held until both have a flow's end */
	baseline(&two, "(two sinks, the second refusing every 3rd send)");
	kill_everywhere(&two, "(two sinks, the second refusing every 3rd send)", 0);
	kill_everywhere(&two_ok, "(two sinks)", 1);
	/* a journal smaller than the sink's messages: it closes them */
	baseline(&small_j, "(a journal of 3 records, messages of 5)");
	kill_everywhere(&small_j, "(a journal of 3 records, messages of 5)", 0);
	baseline(&ask, "(a database sink)");
	baseline(&ask_faults, "(a database sink: answers lost, sends refused, questions unanswered)");
	kill_everywhere(&ask, "(a database sink)", 0);
	kill_everywhere(&ask, "(a database sink)", 1);
	kill_everywhere(&ask_faults, "(a database sink: answers lost, sends refused)", 0);
}
