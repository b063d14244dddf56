// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The exporter core: expiry, deltas, the journal (see lib/exporter.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exporter.h"
#include "side.h"

_Static_assert(sizeof(struct mmsghdr) <= 64, "mmsghdr does not fit the journal");
_Static_assert(sizeof(struct nacct_flow_val) % 8 == 0, "per-CPU value stride");
_Static_assert(sizeof(struct nacct_flow_key) % 8 == 0, "key hash reads whole words");

/* stores a kill or a concurrent reader must see in program order */
#define PUBLISH(lv, v) __atomic_store_n(&(lv), (v), __ATOMIC_RELEASE)
#define LOAD(lv) __atomic_load_n(&(lv), __ATOMIC_ACQUIRE)
#define FENCE() __atomic_thread_fence(__ATOMIC_SEQ_CST)

#define CRASH(x, p)                                                         \
	do {                                                                \
		if ((x)->cfg.crash)                                         \
			(x)->cfg.crash((x)->cfg.crash_arg, p);              \
	} while (0)

/* one sink and what it has been sent (the per-sink part, lib/exporter.h) */
struct lane {
	struct nacct_sink *sink;
	int down;       /* its send failed in this round: nothing more staged for it */
	int unresolved; /* its message in flight may have been sent: ask the sink */
	struct nacct_xjournal *j;
	__u32 j_cap;
	struct nacct_xentry *ent;
	__u32 n_ent;
	__u32 *idx;  /* open addressing over ent: entry + 1, 0 empty */
	__u32 idx_mask;
	__u32 *free_ent;
	__u32 n_free;
};

struct nacct_exporter {
	struct nacct_xcfg cfg;
	struct nacct_xstore *store;
	struct nacct_xmem mem;
	struct lane lanes[NACCT_X_LANES];
	int n_lanes;
	int ncpu;
	/* keys of the pending slots: slot + 1 */
	__u32 pend[4 * NACCT_XP_SLOTS];
	__u32 n_pend;
	__u32 next_slot;
	/* the pass over the flow map */
	__u32 pass_id;
	int in_pass, pass_gap, pass_ended, have_pass;
	size_t pass_flows, last_pass_flows;
	const __u8 (*local)[16];
	size_t n_local;
	const struct nacct_probe_view *pv; /* the side programs' records (NULL: none) */
	struct nacct_side side;            /* the join of side_key's flow */
	struct nacct_flow_key side_key;
	int side_ok;                       /* side is side_key's (both directions, every lane) */
	/* the totals last sent */
	struct nacct_stats last_st;
	int have_last_st, fill_warned;
	struct nacct_xreport *rep; /* the round's (NULL outside a round) */
	__u64 now;                 /* the round's time */
	int state_err;             /* an item could not be applied (last -errno) */
	struct nacct_xfigures fig;
	struct nacct_flow one; /* scratch: a slot's flow */
	/* scratch of a scanned chunk: key hashes and entries */
	__u64 *hbuf;
	long *ebuf;
	size_t cbuf;
};

size_t nacct_xslot_size(int ncpu)
{
	size_t n = sizeof(struct nacct_xslot) + (size_t)ncpu * sizeof(struct nacct_flow_val);

	return (n + 7) & ~(size_t)7;
}

static struct nacct_xslot *slot_at(const struct nacct_xmem *m, __u32 i)
{
	return (struct nacct_xslot *)(m->slots + (size_t)i * m->slot_size);
}

static __u64 key_hash(const struct nacct_flow_key *k)
{
	__u64 w[sizeof(*k) / 8], h = 0x9e3779b97f4a7c15ULL;
	size_t i;

	memcpy(w, k, sizeof(w));
	for (i = 0; i < sizeof(w) / 8; i++) {
		h ^= w[i];
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 33;
	}
	return h;
}

static int key_eq(const struct nacct_flow_key *a, const struct nacct_flow_key *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* ---- the exported state: entries and their in-memory index -------------- */

static long ent_find_h(const struct lane *l, const struct nacct_flow_key *k, __u64 h)
{
	__u32 b = h & l->idx_mask, e;

	while ((e = l->idx[b])) {
		if (key_eq(&l->ent[e - 1].key, k))
			return e - 1;
		b = (b + 1) & l->idx_mask;
	}
	return -1;
}

static long ent_find(const struct lane *l, const struct nacct_flow_key *k)
{
	return ent_find_h(l, k, key_hash(k));
}

static void idx_add(struct lane *l, __u32 i)
{
	__u32 b = key_hash(&l->ent[i].key) & l->idx_mask;

	while (l->idx[b])
		b = (b + 1) & l->idx_mask;
	l->idx[b] = i + 1;
}

/* linear probing: remove by shifting the rest of the run back */
static void idx_del(struct lane *l, __u32 i)
{
	__u32 b = key_hash(&l->ent[i].key) & l->idx_mask, j, h;

	while (l->idx[b] != i + 1)
		b = (b + 1) & l->idx_mask;
	l->idx[b] = 0;
	for (j = (b + 1) & l->idx_mask; l->idx[j]; j = (j + 1) & l->idx_mask) {
		h = key_hash(&l->ent[l->idx[j] - 1].key) & l->idx_mask;
		/* the entry at j stays when its home lies cyclically in (b, j] */
		if (b <= j ? (b < h && h <= j) : (b < h || h <= j))
			continue;
		l->idx[b] = l->idx[j];
		l->idx[j] = 0;
		b = j;
	}
}

static void ent_del(struct lane *l, __u32 i)
{
	idx_del(l, i);
	PUBLISH(l->ent[i].used, 0);
	l->free_ent[l->n_free++] = i;
}

static int lane_init(struct lane *l, const struct nacct_xlane *m, struct nacct_sink *sink)
{
	__u64 cap = 16;
	__u32 i;

	memset(l, 0, sizeof(*l));
	l->sink = sink;
	l->j = m->j;
	l->j_cap = m->j_cap ? m->j_cap : NACCT_XJ_ITEMS;
	l->ent = m->ent;
	l->n_ent = m->n_ent;
	while (cap < 2ULL * m->n_ent)
		cap <<= 1;
	if (cap > UINT32_MAX)
		return -E2BIG;
	l->idx_mask = cap - 1;
	l->idx = calloc(cap, sizeof(*l->idx));
	l->free_ent = calloc(m->n_ent ? m->n_ent : 1, sizeof(*l->free_ent));
	if (!l->idx || !l->free_ent)
		return -ENOMEM;
	for (i = m->n_ent; i-- > 0;) {
		struct nacct_xentry *e = &l->ent[i];

		e->seen = 0;
		if (e->used && ent_find(l, &e->key) < 0) {
			idx_add(l, i);
			continue;
		}
		/* a second entry of one key cannot be made (inserts look the key up
		 * first); one found is dropped rather than trusted */
		if (e->used)
			PUBLISH(e->used, 0);
		l->free_ent[l->n_free++] = i;
	}
	return 0;
}

static void lane_free(struct lane *l)
{
	free(l->idx);
	free(l->free_ent);
}

/*
 * Make one journal item "exported".  Absolute values: applying it twice
 * (a restart replays the message) gives the same entry.  A new entry is
 * filled before it is marked used; a new incarnation zeroes the totals
 * before it takes the new first_seen, so a torn update is one the replay
 * redoes whole.
 */
static int apply_item(struct nacct_exporter *x, struct lane *l, const struct nacct_xitem *it)
{
	long i = ent_find(l, &it->key);
	struct nacct_xentry *e;
	int d = it->dir & 1;

	if (i < 0) {
		if (!l->n_free)
			return -ENOSPC;
		i = l->free_ent[--l->n_free];
		e = &l->ent[i];
		memset(e, 0, sizeof(*e));
		e->key = it->key;
		e->first_seen = it->first_seen;
		e->packets[d] = it->packets;
		e->bytes[d] = it->bytes;
		e->rec_start[d] = it->rec_start;
		PUBLISH(e->used, 1);
		idx_add(l, i);
	} else {
		e = &l->ent[i];
		if (e->first_seen != it->first_seen) {
			memset(e->packets, 0, sizeof(e->packets));
			memset(e->bytes, 0, sizeof(e->bytes));
			memset(e->rec_start, 0, sizeof(e->rec_start));
			PUBLISH(e->first_seen, it->first_seen);
		}
		e->packets[d] = it->packets;
		e->bytes[d] = it->bytes;
		e->rec_start[d] = it->rec_start;
	}
	l->ent[i].seen = x->pass_id;
	return 0;
}

/* ---- pending slots --------------------------------------------------------- */

static int pend_has(const struct nacct_exporter *x, const struct nacct_flow_key *k)
{
	__u32 mask = sizeof(x->pend) / sizeof(x->pend[0]) - 1;
	__u32 b, s;

	if (!x->n_pend)
		return 0;
	b = key_hash(k) & mask;
	while ((s = x->pend[b])) {
		if (key_eq(&slot_at(&x->mem, s - 1)->key, k))
			return 1;
		b = (b + 1) & mask;
	}
	return 0;
}

static void pend_add(struct nacct_exporter *x, __u32 slot)
{
	__u32 mask = sizeof(x->pend) / sizeof(x->pend[0]) - 1;
	__u32 b = key_hash(&slot_at(&x->mem, slot)->key) & mask;

	while (x->pend[b])
		b = (b + 1) & mask;
	x->pend[b] = slot + 1;
	x->n_pend++;
}

static void pend_rebuild(struct nacct_exporter *x)
{
	__u32 i;

	memset(x->pend, 0, sizeof(x->pend));
	x->n_pend = 0;
	for (i = 0; i < x->mem.n_slots; i++)
		if (slot_at(&x->mem, i)->state != NACCT_XP_FREE)
			pend_add(x, i);
}

static int slot_has_values(const struct nacct_xslot *s, int ncpu)
{
	int i;

	for (i = 0; i < ncpu; i++)
		if (s->vals[i].first_seen)
			return 1;
	return 0;
}

/* fin_epoch (low 32 bits) not newer than the counter's epoch */
static int covered(__u32 fin, __u64 epoch)
{
	return fin && (__u32)((__u32)epoch - fin) < 0x80000000U;
}

static const struct nacct_xcount *live_count(const struct nacct_export_expired *e)
{
	return &e->c[LOAD(e->cur) & 1];
}

static void slot_free(struct nacct_xslot *s, size_t size)
{
	PUBLISH(s->state, NACCT_XP_FREE);
	FENCE();
	memset((__u8 *)s + sizeof(s->state), 0, size - sizeof(s->state));
}

/* an expired flow's final values, merged like every other (lib/fields.c) */
static const struct nacct_flow *slot_flow(struct nacct_exporter *x, const struct nacct_xslot *s)
{
	x->one.key = s->key;
	nacct_flow_merge(&x->one.val, s->vals, x->ncpu);
	return &x->one;
}

/* ---- records ---------------------------------------------------------------- */

static int is_local(const struct nacct_exporter *x, const __u8 *addr)
{
	size_t i;

	for (i = 0; i < x->n_local; i++)
		if (!memcmp(x->local[i], addr, 16))
			return 1;
	return 0;
}

/* which endpoint sent the packets of hook direction dir: 0 lo, 1 hi */
static int src_is_hi(const struct nacct_exporter *x, const struct nacct_flow *f, int dir)
{
	int lo_l = is_local(x, f->key.lo_addr), hi_l = is_local(x, f->key.hi_addr);
	int sender_rx;

	if (lo_l != hi_l)
		sender_rx = lo_l ? 1 : 0; /* RX comes from the remote end */
	else if (f->val.seen_dirs == 1)
		return 0;
	else if (f->val.seen_dirs == 2)
		return 1;
	else
		sender_rx = f->val.first_dir; /* the initiator sends RX */
	return dir == NACCT_DIR_RX ? sender_rx : !sender_rx;
}

/*
 * One uni-directional record of a flow: what direction @dir added since
 * the last export (its own val, the other direction zero), from @start;
 * src -> dst as its packets went.
 */
static void delta_rec(struct nacct_exporter *x, const struct lane *l,
		      const struct nacct_flow *f, const struct nacct_xentry *base, int dir,
		      __u64 start, int final, struct nacct_rec *r)
{
	nacct_rec_flow(r, x->cfg.ifname, &f->key, &f->val);
	if (f->key.tunnel && x->store->ops->tunnel)
		r->tun = x->store->ops->tunnel(x->store, f->key.tunnel);
	memset(&r->val, 0, sizeof(r->val));
	/* what the record's fields read besides the delta */
	r->val.outer_dir = f->val.outer_dir;
	r->val.inner_type = f->val.inner_type;
	r->val.packets[dir] = f->val.packets[dir] - base->packets[dir];
	r->val.bytes[dir] = f->val.bytes[dir] - base->bytes[dir];
	r->val.tcp_flags[dir] = f->val.tcp_flags[dir];
	r->val.first_seen = start < f->val.last_seen ? start : f->val.last_seen;
	r->val.last_seen = f->val.last_seen;
	r->src_hi = src_is_hi(x, f, dir);
	r->ifindex = x->cfg.ifindex;
	r->dir = dir;
	r->seq = l->j->seq;
	r->final = final;
	if (x->pv) {
		/* a flow's records (its directions, each lane's) come one after the other */
		if (!x->side_ok || !key_eq(&x->side_key, &f->key)) {
			nacct_probe_view_side(x->pv, &f->key, &x->side);
			x->side_key = f->key;
			x->side_ok = 1;
		}
		r->side = &x->side;
	}
}

/* ---- one message: seal, journal, send, commit ----------------------------- */

/* the message in flight did not go out (or is not trusted): forget it */
static void journal_forget(struct nacct_xjournal *j)
{
	j->n_items = 0;
	j->n_records = 0;
	PUBLISH(j->state, NACCT_XJ_IDLE);
}

/* the message in flight went out: make its records "exported" */
static void commit(struct nacct_exporter *x, struct lane *l)
{
	struct nacct_xjournal *j = l->j;
	__u32 i;
	int err;

	for (i = 0; i < j->n_items; i++)
		__builtin_prefetch(&l->idx[key_hash(&j->items[i].key) & l->idx_mask]);
	for (i = 0; i < j->n_items; i++) {
		err = apply_item(x, l, &j->items[i]);
		if (err)
			x->state_err = err;
		CRASH(x, NACCT_XC_APPLIED);
	}
	j->seq = j->seq_after;
	j->messages = j->messages_after;
	CRASH(x, NACCT_XC_COMMITTED);
	PUBLISH(j->state, NACCT_XJ_IDLE);
	j->n_items = 0;
	j->n_records = 0;
}

/* close lane l's message being built, send it through its journal, commit */
static int flush(struct nacct_exporter *x, struct lane *l)
{
	struct nacct_xjournal *j = l->j;
	struct mmsghdr *mm = (struct mmsghdr *)j->mmsg;
	const void *buf;
	size_t len = 0;
	unsigned int recs = 0;
	int err;

	err = l->sink->ops->seal(l->sink, j->seq, &buf, &len, &recs);
	if (err)
		goto drop;
	if (!len) {
		j->n_items = 0;
		return 0;
	}
	j->msg_len = len;
	j->n_records = recs;
	j->seq_after = j->seq + recs;
	j->messages_after = j->messages + 1;
	memset(mm, 0, sizeof(*mm));
	__atomic_store_n(&j->state, NACCT_XJ_INTENT, __ATOMIC_SEQ_CST);
	CRASH(x, NACCT_XC_INTENT);
	err = l->sink->ops->send(l->sink, buf, len, mm);
	if (err && l->sink->ops->committed) {
		/* the destination may have it: stays INTENT until it says */
		l->unresolved = 1;
		l->down = 1;
		return err;
	}
	if (err)
		goto drop;
	CRASH(x, NACCT_XC_SENT);
	x->fig.records += recs;
	x->fig.messages++;
	commit(x, l);
	return 0;
drop:
	/* nothing went out: forget the staged records, the deltas stay in the
	 * flow map and are computed again */
	journal_forget(j);
	l->down = 1;
	return err ? err : -EIO;
}

static int lanes_up(const struct nacct_exporter *x)
{
	int k, n = 0;

	for (k = 0; k < x->n_lanes; k++)
		n += !x->lanes[k].down;
	return n;
}

/*
 * A lane whose send failed is down for the rest of the round (its error in
 * the report) and the others go on: the steps of a round fail only when no
 * lane is left, or for what is not a send (reading the map, a record).
 */
static int lane_failed(struct nacct_exporter *x, int k, int err)
{
	if (x->rep && !x->rep->lane_err[k])
		x->rep->lane_err[k] = err;
	return lanes_up(x) ? 0 : err;
}

/* every lane's message */
static int flush_all(struct nacct_exporter *x)
{
	int k, err;

	for (k = 0; k < x->n_lanes; k++) {
		if (x->lanes[k].down)
			continue;
		err = flush(x, &x->lanes[k]);
		if (err && (err = lane_failed(x, k, err)))
			return err;
	}
	return 0;
}

/* add one record to lane l (and its journal item); sends the message when it is full */
static int stage(struct nacct_exporter *x, struct lane *l, const struct nacct_flow *f,
		 const struct nacct_xentry *base, int dir, __u64 start, __u32 slot)
{
	struct nacct_xitem *it;
	struct nacct_rec r;
	int err;

	if (l->j->n_items >= l->j_cap) {
		err = flush(x, l);
		if (err)
			return err;
	}
	delta_rec(x, l, f, base, dir, start, slot != 0, &r);
	err = l->sink->ops->rec(l->sink, &r);
	if (err == -ENOSPC) {
		err = flush(x, l);
		r.seq = l->j->seq;
		if (!err)
			err = l->sink->ops->rec(l->sink, &r);
	}
	if (err)
		return err;
	it = &l->j->items[l->j->n_items];
	memset(it, 0, sizeof(*it));
	it->key = f->key;
	it->dir = dir;
	it->packets = f->val.packets[dir];
	it->bytes = f->val.bytes[dir];
	it->first_seen = f->val.first_seen;
	it->rec_start = x->now;
	it->slot = slot;
	l->j->n_items++;
	CRASH(x, NACCT_XC_STAGED);
	return 0;
}

/* the exported state of a flow's incarnation (zero if none) */
static void base_of(const struct lane *l, long i, const struct nacct_flow *f,
		    struct nacct_xentry *base)
{
	if (i >= 0 && l->ent[i].first_seen == f->val.first_seen) {
		*base = l->ent[i];
		return;
	}
	memset(base, 0, sizeof(*base));
	base->first_seen = f->val.first_seen;
}

/* export to lane l what it has not had of one flow (all directions) */
static int export_flow_lane(struct nacct_exporter *x, struct lane *l, const struct nacct_flow *f,
			    long ent, __u64 now, __u32 slot, int force)
{
	struct nacct_xentry base;
	int d, err;

	base_of(l, ent, f, &base);
	for (d = 0; d < NACCT_DIR_MAX; d++) {
		__u64 start = base.rec_start[d] ? base.rec_start[d] : f->val.first_seen;

		if (f->val.packets[d] <= base.packets[d])
			continue;
		if (!force && (now <= start || now - start < x->cfg.active_ns))
			continue;
		err = stage(x, l, f, &base, d, start, slot);
		if (err)
			return err;
	}
	return 0;
}

/* ... to every lane that is up; ent: the flow's entry in lane 0 (-2: look it up) */
static int export_flow(struct nacct_exporter *x, const struct nacct_flow *f, long ent,
		       __u64 now, __u32 slot, int force)
{
	int k, err;

	for (k = 0; k < x->n_lanes; k++) {
		struct lane *l = &x->lanes[k];

		if (l->down)
			continue;
		err = export_flow_lane(x, l, f, k == 0 && ent != -2 ? ent : ent_find(l, &f->key),
				       now, slot, force);
		if (err && (!l->down || (err = lane_failed(x, k, err))))
			return err; /* the record itself failed, or no lane is left */
	}
	return 0;
}

/* the final deltas of the expired flows (slots taken and not finalized) */
static int export_slots(struct nacct_exporter *x, __u64 now)
{
	__u32 i;
	int err;

	for (i = 0; i < x->mem.n_slots; i++) {
		const struct nacct_xslot *s = slot_at(&x->mem, i);
		const struct nacct_flow *f;

		if (s->state != NACCT_XP_TAKEN)
			continue;
		f = slot_flow(x, s);
		err = export_flow(x, f, -2, now, i + 1, 1);
		if (err)
			return err;
	}
	return 0;
}

/* ---- finalizing expired flows: the counter -------------------------------- */

/* every lane's exported state of a finalized incarnation (a new one keeps its own) */
static void drop_entries(struct nacct_exporter *x, const struct nacct_flow_key *k,
			 __u64 first_seen)
{
	int l;

	for (l = 0; l < x->n_lanes; l++) {
		long ei = ent_find(&x->lanes[l], k);

		if (ei >= 0 && x->lanes[l].ent[ei].first_seen == first_seen)
			ent_del(&x->lanes[l], ei);
	}
}

/*
 * Expired flows whose final deltas are committed leave the slots and go
 * into the expired counter, with one flip (lib/exporter.h).
 */
static void finalize(struct nacct_exporter *x)
{
	struct nacct_export_expired *e = x->mem.exp;
	__u32 cur = LOAD(e->cur) & 1, batch[NACCT_XP_SLOTS], nb = 0, i, k;
	__u64 first[NACCT_XP_SLOTS];
	struct nacct_xcount n = e->c[cur];
	struct nacct_xentry base;
	int d, done, l;

	for (i = 0; i < x->mem.n_slots && nb < NACCT_XP_SLOTS; i++) {
		struct nacct_xslot *s = slot_at(&x->mem, i);
		const struct nacct_flow *f;

		if (s->state != NACCT_XP_TAKEN)
			continue;
		f = slot_flow(x, s);
		/* final only when every lane has had all of it */
		for (l = 0, done = 1; l < x->n_lanes && done; l++) {
			base_of(&x->lanes[l], ent_find(&x->lanes[l], &f->key), f, &base);
			for (d = 0; d < NACCT_DIR_MAX; d++)
				if (f->val.packets[d] > base.packets[d])
					done = 0;
		}
		if (!done)
			continue;
		for (d = 0; d < NACCT_DIR_MAX; d++) {
			n.packets[d] += f->val.packets[d];
			n.bytes[d] += f->val.bytes[d];
		}
		first[nb] = f->val.first_seen;
		batch[nb++] = i;
	}
	if (!nb)
		return;
	n.flows += nb;
	n.epoch = e->c[cur].epoch + 1;
	if (!(__u32)n.epoch)
		n.epoch++; /* fin_epoch 0 means "none" */
	for (k = 0; k < nb; k++)
		PUBLISH(slot_at(&x->mem, batch[k])->fin_epoch, (__u32)n.epoch);
	CRASH(x, NACCT_XC_FIN_MARKED);
	/* the copy that is not live: its epoch first, so that a reader that
	 * saw a new field sees the new epoch too */
	PUBLISH(e->c[!cur].epoch, n.epoch);
	FENCE();
	memcpy(e->c[!cur].packets, n.packets, sizeof(n.packets));
	memcpy(e->c[!cur].bytes, n.bytes, sizeof(n.bytes));
	e->c[!cur].flows = n.flows;
	CRASH(x, NACCT_XC_FIN_COUNTED);
	__atomic_store_n(&e->cur, !cur, __ATOMIC_SEQ_CST);
	CRASH(x, NACCT_XC_FIN_FLIPPED);
	for (k = 0; k < nb; k++) {
		struct nacct_xslot *s = slot_at(&x->mem, batch[k]);

		drop_entries(x, &s->key, first[k]);
		slot_free(s, x->mem.slot_size);
		CRASH(x, NACCT_XC_FIN_FREED);
	}
	x->fig.flows_expired += nb;
	pend_rebuild(x);
}

/* ---- taking idle flows ------------------------------------------------------ */

static int find_free_slot(struct nacct_exporter *x)
{
	for (; x->next_slot < x->mem.n_slots; x->next_slot++)
		if (slot_at(&x->mem, x->next_slot)->state == NACCT_XP_FREE)
			return (int)x->next_slot++;
	return -1;
}

/* take an idle flow out of the map: its final counters land in the slot */
static int take(struct nacct_exporter *x, const struct nacct_flow *f, int idx)
{
	struct nacct_xslot *s = slot_at(&x->mem, idx);
	int err;

	memset(s, 0, x->mem.slot_size);
	s->key = f->key;
	__atomic_store_n(&s->state, NACCT_XP_TAKING, __ATOMIC_SEQ_CST);
	/* readers: a flow may leave the map from here on */
	__atomic_store_n(&x->mem.exp->gen, x->mem.exp->gen + 1, __ATOMIC_SEQ_CST);
	CRASH(x, NACCT_XC_TAKE_MARKED);
	err = x->store->ops->take(x->store, &f->key, s->vals);
	CRASH(x, NACCT_XC_TAKE_DONE);
	if (err) {
		slot_free(s, x->mem.slot_size);
		return err == -ENOENT ? 0 : err;
	}
	__atomic_store_n(&s->state, NACCT_XP_TAKEN, __ATOMIC_SEQ_CST);
	pend_add(x, idx);
	return 1;
}

static int expire(struct nacct_exporter *x, const struct nacct_flow *f, __u64 now)
{
	int idx = find_free_slot(x), err;

	if (idx < 0) {
		/* slots full: send what they hold, then go on */
		err = export_slots(x, now);
		if (!err)
			err = flush_all(x);
		if (err)
			return err;
		finalize(x);
		x->next_slot = 0;
		idx = find_free_slot(x);
		if (idx < 0)
			return 0;
	}
	err = take(x, f, idx);
	if (err < 0)
		x->rep->take_err = err;
	return 0;
}

/* ---- the pass over the flow map ----------------------------------------------- */

/*
 * The entries of a chunk of flows, looked up a chunk at a time: the index
 * buckets, then the entries, are prefetched for the whole chunk first, so
 * that their cache misses overlap instead of coming one flow at a time.
 */
static int lookup_chunk(struct nacct_exporter *x, const struct nacct_flow *fl, size_t n)
{
	struct lane *l = &x->lanes[0];
	size_t i;

	if (n > x->cbuf) {
		__u64 *h = realloc(x->hbuf, n * sizeof(*h));
		long *e = h ? realloc(x->ebuf, n * sizeof(*e)) : NULL;

		if (h)
			x->hbuf = h;
		if (!e)
			return -ENOMEM;
		x->ebuf = e;
		x->cbuf = n;
	}
	for (i = 0; i < n; i++) {
		x->hbuf[i] = key_hash(&fl[i].key);
		__builtin_prefetch(&l->idx[x->hbuf[i] & l->idx_mask]);
	}
	for (i = 0; i < n; i++) {
		__u32 e = l->idx[x->hbuf[i] & l->idx_mask];

		if (e)
			__builtin_prefetch(&l->ent[e - 1]);
	}
	for (i = 0; i < n; i++)
		x->ebuf[i] = ent_find_h(l, &fl[i].key, x->hbuf[i]);
	return 0;
}

/* one flow of the pass; ei: its entry as looked up with its chunk */
static int visit(struct nacct_exporter *x, const struct nacct_flow *f, long ei, __u64 now,
		 int final)
{
	/* the chunk's visits before this one may have finalized a slot and
	 * deleted this key's old entry (or reused its place) */
	struct lane *l0 = &x->lanes[0];
	long e;
	int k;

	if (ei >= 0 && (!l0->ent[ei].used || !key_eq(&l0->ent[ei].key, &f->key)))
		ei = ent_find(l0, &f->key);
	if (ei >= 0)
		l0->ent[ei].seen = x->pass_id;
	for (k = 1; k < x->n_lanes; k++)
		if ((e = ent_find(&x->lanes[k], &f->key)) >= 0)
			x->lanes[k].ent[e].seen = x->pass_id;
	/* a flow whose previous incarnation is still pending waits */
	if (pend_has(x, &f->key))
		return 0;
	if (!final && now > f->val.last_seen && now - f->val.last_seen >= x->cfg.idle_ns)
		return expire(x, f, now);
	return export_flow(x, f, ei, now, 0, final);
}

/* the next part of the pass (final: a whole new pass) */
static int scan(struct nacct_exporter *x, __u64 now, int final)
{
	size_t budget = x->cfg.scan_rate ? x->cfg.scan_rate : NACCT_X_SCAN_RATE, done = 0, i;
	int restart = final || !x->in_pass, r, err;

	x->next_slot = 0;
	while (final || done < budget) {
		const struct nacct_flow *fl;
		size_t n = 0;

		if (restart) {
			x->pass_id++;
			x->pass_flows = 0;
			x->pass_gap = 0;
			x->in_pass = 1;
		}
		r = x->store->ops->scan(x->store, restart, &fl, &n);
		restart = 0;
		if (r < 0) {
			x->in_pass = 0;
			return r;
		}
		x->pass_flows += n;
		done += n;
		err = lookup_chunk(x, fl, n);
		for (i = 0; !err && i < n; i++)
			err = visit(x, &fl[i], x->ebuf[i], now, final);
		if (err) {
			/* the rest of this chunk waits for the next pass */
			x->pass_gap = 1;
			if (r == 1)
				x->in_pass = 0;
			return err;
		}
		if (r == 1) {
			x->in_pass = 0;
			x->last_pass_flows = x->pass_flows;
			x->have_pass = 1;
			x->pass_ended = !x->pass_gap;
			break;
		}
	}
	return 0;
}

/* exported state of flows that are neither in the map nor pending */
static void gc(struct nacct_exporter *x)
{
	__u32 i;
	int k;

	for (k = 0; k < x->n_lanes; k++) {
		struct lane *l = &x->lanes[k];

		for (i = 0; i < l->n_ent; i++) {
			if (!l->ent[i].used || l->ent[i].seen == x->pass_id ||
			    pend_has(x, &l->ent[i].key))
				continue;
			ent_del(l, i);
			CRASH(x, NACCT_XC_GC);
		}
	}
}

/* ---- the counters that are not flows ------------------------------------------- */

static __u64 wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static int export_totals(struct nacct_exporter *x, int final)
{
	struct nacct_totals t;
	struct nacct_stats st;
	struct nacct_xtotals xt;
	size_t n_flows = x->have_pass ? x->last_pass_flows : x->pass_flows;
	__u32 maxf = x->cfg.max_flows;
	double fill = maxf ? (double)n_flows / maxf : 0;
	int d, k, err;

	if (x->store->ops->totals(x->store, &st))
		return 0;
	if (x->have_last_st) {
		__u64 ovf = st.overflow_packets[0] + st.overflow_packets[1];
		__u64 ovf0 = x->last_st.overflow_packets[0] + x->last_st.overflow_packets[1];

		if (ovf > ovf0)
			x->rep->overflow_new = ovf - ovf0;
	}
	if (fill >= 0.8 && !x->fill_warned) {
		x->rep->fill_warn = 1;
		x->fill_warned = 1;
	} else if (fill < 0.7) {
		x->fill_warned = 0;
	}
	if (x->have_last_st && !final && !memcmp(&st, &x->last_st, sizeof(st)))
		return 0;
	x->last_st = st;
	x->have_last_st = 1;
	memset(&t, 0, sizeof(t));
	t.st = st;
	nacct_totals_derive(&t);
	for (k = 0; k < x->n_lanes; k++) {
		struct lane *l = &x->lanes[k];

		for (d = 0; d < NACCT_DIR_MAX && !l->down; d++) {
			xt = (struct nacct_xtotals){ .t = &t, .ifname = x->cfg.ifname,
						     .ifindex = x->cfg.ifindex, .dir = d,
						     .obs_ms = wall_ms(), .flows = n_flows,
						     .max_flows = maxf };
			err = l->sink->ops->totals(l->sink, &xt);
			if (err == -ENOSPC) {
				err = flush(x, l);
				if (!err)
					err = l->sink->ops->totals(l->sink, &xt);
			}
			if (err) {
				/* a totals record that did not fit is not a send */
				if (!l->down)
					return err;
				if ((err = lane_failed(x, k, err)))
					return err;
			}
		}
	}
	return 0;
}

/* ---- the round -------------------------------------------------------------------- */

/* the message in flight that may have been sent: commit it or forget it, as the sink says */
static int resolve(struct nacct_exporter *x, struct lane *l)
{
	struct nacct_xjournal *j = l->j;
	int r;

	r = l->sink->ops->committed(l->sink, j->seq, j->n_records);
	if (r < 0) {
		l->down = 1;
		return r;
	}
	x->rep->resolved = r ? 1 : 2;
	x->rep->resolved_seq = j->seq;
	l->unresolved = 0;
	if (r) {
		x->fig.records += j->n_records;
		x->fig.messages++;
		commit(x, l);
		return 0;
	}
	/* not there: the deltas stay in the flow map and are computed again */
	journal_forget(j);
	return 0;
}

/* a step of the round: its error ends the round */
#define STEP(call)                                                         \
	do {                                                               \
		err = (call);                                              \
		if (err)                                                   \
			goto out;                                          \
	} while (0)

int nacct_exporter_round(struct nacct_exporter *x, __u64 now, int final,
			 struct nacct_xreport *rep)
{
	int err = 0, e, k, up;

	memset(rep, 0, sizeof(*rep));
	x->rep = rep;
	x->now = now;
	x->state_err = 0;
	x->pass_ended = 0;
	/* every lane tries again; one that cannot settle its message in flight stays down */
	for (k = 0, up = 0; k < x->n_lanes; k++) {
		struct lane *l = &x->lanes[k];

		l->down = 0;
		if (l->unresolved && (e = resolve(x, l))) {
			rep->lane_err[k] = e;
			if (!err)
				err = e;
		}
		up += !l->down;
	}
	if (!up)
		goto out;
	err = 0;
	/* expired flows from an earlier round (or before a restart) first */
	STEP(export_slots(x, now));
	STEP(flush_all(x));
	finalize(x);
	STEP(scan(x, now, final));
	STEP(export_slots(x, now));
	STEP(export_totals(x, final));
	STEP(flush_all(x));
	finalize(x);
	if (x->pass_ended)
		gc(x);
out:
	/* a lane that went down: the round says so */
	for (k = 0; k < x->n_lanes && !err; k++)
		err = rep->lane_err[k];
	rep->flows = x->have_pass ? x->last_pass_flows : x->pass_flows;
	rep->max_flows = x->cfg.max_flows;
	rep->pass_done = x->pass_ended;
	rep->state_err = x->state_err;
	x->rep = NULL;
	return err;
}

/* ---- start: recovery ------------------------------------------------------------------ */

/* lane l's journal after a kill: commit, ask, or forget its message in flight */
static void recover_journal(struct nacct_exporter *x, struct lane *l, struct nacct_xjrecovery *r,
			    int *fresh)
{
	struct nacct_xjournal *j = l->j;
	struct mmsghdr *mm = (struct mmsghdr *)j->mmsg;

	if (j->magic != NACCT_XJ_MAGIC || j->version != NACCT_XJ_VERSION) {
		memset(j, 0, sizeof(*j));
		j->version = NACCT_XJ_VERSION;
		PUBLISH(j->magic, NACCT_XJ_MAGIC);
		*fresh = 1;
	}
	if (j->state == NACCT_XJ_INTENT && j->n_items > l->j_cap)
		journal_forget(j); /* not a journal this memory can hold: nothing of it is trusted */
	if (j->state == NACCT_XJ_INTENT) {
		r->intent = 1;
		r->message = j->messages;
		r->records = j->n_records;
		r->sent_len = mm->msg_len;
		r->msg_len = j->msg_len;
		if (mm->msg_len == j->msg_len && j->msg_len) {
			r->sent = 1;
			commit(x, l);
		} else if (l->sink->ops->committed && j->msg_len) {
			/* the destination may have it: asked in the first round */
			l->unresolved = 1;
			r->unresolved = 1;
		} else {
			journal_forget(j);
		}
	} else {
		j->n_items = 0;
		j->n_records = 0;
	}
}

static void recover(struct nacct_exporter *x, struct nacct_xrecovery *rec)
{
	struct nacct_export_expired *e = x->mem.exp;
	__u32 i;
	int k;

	memset(rec, 0, sizeof(*rec));
	if (e->magic != NACCT_XE_MAGIC || e->version != NACCT_XE_VERSION) {
		memset(e, 0, sizeof(*e));
		e->version = NACCT_XE_VERSION;
		PUBLISH(e->magic, NACCT_XE_MAGIC);
		rec->fresh = 1;
	}
	for (k = 0; k < x->n_lanes; k++)
		recover_journal(x, &x->lanes[k], &rec->j[k], &rec->fresh);
	for (i = 0; i < x->mem.n_slots; i++) {
		struct nacct_xslot *s = slot_at(&x->mem, i);

		if (s->state == NACCT_XP_TAKING) {
			/* the kernel wrote the final values into the slot, or never did */
			if (slot_has_values(s, x->ncpu)) {
				PUBLISH(s->state, NACCT_XP_TAKEN);
				rec->taken++;
			} else {
				slot_free(s, x->mem.slot_size);
				rec->not_taken++;
				continue;
			}
		}
		if (s->state == NACCT_XP_FREE || !s->fin_epoch)
			continue;
		if (covered(s->fin_epoch, live_count(e)->epoch)) {
			/* finalized before the kill: the counter has it */
			const struct nacct_flow *f = slot_flow(x, s);

			drop_entries(x, &f->key, f->val.first_seen);
			slot_free(s, x->mem.slot_size);
			rec->covered++;
		} else {
			/* marked for a flip that did not happen */
			PUBLISH(s->fin_epoch, 0);
		}
	}
	pend_rebuild(x);
	rec->state_err = x->state_err;
}

int nacct_exporter_new(struct nacct_exporter **out, const struct nacct_xcfg *cfg,
		       struct nacct_xstore *store, const struct nacct_xmem *mem,
		       struct nacct_sink *const *sinks, struct nacct_xrecovery *rec)
{
	struct nacct_exporter *x;
	__u32 k;
	int err = 0;

	if (mem->slot_size < nacct_xslot_size(store->ncpu) || mem->n_slots > NACCT_XP_SLOTS ||
	    !mem->n_lanes || mem->n_lanes > NACCT_X_LANES)
		return -EINVAL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->cfg = *cfg;
	x->store = store;
	x->mem = *mem;
	x->ncpu = store->ncpu;
	for (k = 0; k < mem->n_lanes && !err; k++, x->n_lanes++)
		err = lane_init(&x->lanes[k], &mem->lane[k], sinks[k]);
	if (err) {
		nacct_exporter_free(x);
		return err;
	}
	recover(x, rec);
	*out = x;
	return 0;
}

void nacct_exporter_free(struct nacct_exporter *x)
{
	int k;

	if (!x)
		return;

	for (k = 0; k < x->n_lanes; k++)
		lane_free(&x->lanes[k]);
	free(x->hbuf);
	free(x->ebuf);
	free(x);
}

void nacct_exporter_set_local(struct nacct_exporter *x, const __u8 (*addrs)[16], size_t n)
{
	x->local = addrs;
	x->n_local = n;
}

void nacct_exporter_set_side(struct nacct_exporter *x, const struct nacct_probe_view *pv)
{
	x->pv = pv;
	x->side_ok = 0;
}

void nacct_exporter_figures(const struct nacct_exporter *x, struct nacct_xfigures *f)
{
	*f = x->fig;
}

int nacct_exporter_open(struct nacct_exporter *x, int k)
{
	struct lane *l = &x->lanes[k];

	return l->sink->ops->open(l->sink, l->j->seq);
}

/* ---- conservation -------------------------------------------------------------------- */

int nacct_expired_sum(const struct nacct_export_expired *e, const __u8 *slots, __u32 n_slots,
		      size_t slot_size, int ncpu, struct nacct_expired *out)
{
	const struct nacct_xcount *c;
	__u64 epoch;
	__u32 i, st, fin;
	int c_, d, taking = 0;

	memset(out, 0, sizeof(*out));
	if (!e || LOAD(e->magic) != NACCT_XE_MAGIC)
		return 0;
	out->present = 1;
	out->gen = LOAD(e->gen);
	c = live_count(e);
	epoch = LOAD(c->epoch);
	for (d = 0; d < NACCT_DIR_MAX; d++) {
		out->packets[d] = c->packets[d];
		out->bytes[d] = c->bytes[d];
	}
	out->flows = c->flows;
	for (i = 0; slots && i < n_slots; i++) {
		const struct nacct_xslot *s = (const void *)(slots + (size_t)i * slot_size);
		struct nacct_expired one;

		st = LOAD(s->state);
		if (st == NACCT_XP_FREE)
			continue;
		fin = LOAD(s->fin_epoch);
		if (covered(fin, epoch))
			continue;
		memset(&one, 0, sizeof(one));
		for (c_ = 0; c_ < ncpu; c_++)
			for (d = 0; d < NACCT_DIR_MAX; d++) {
				one.packets[d] += s->vals[c_].packets[d];
				one.bytes[d] += s->vals[c_].bytes[d];
			}
		if (st == NACCT_XP_TAKING) {
			taking++;
			if (!slot_has_values(s, ncpu))
				continue;
		}
		FENCE();
		/* freed or reused while we read it */
		if (LOAD(s->state) != st || LOAD(s->fin_epoch) != fin)
			return -EAGAIN;
		for (d = 0; d < NACCT_DIR_MAX; d++) {
			out->packets[d] += one.packets[d];
			out->bytes[d] += one.bytes[d];
		}
		out->flows++;
	}
	FENCE();
	if (LOAD(e->gen) != out->gen || live_count(e) != c || LOAD(c->epoch) != epoch)
		return -EAGAIN;
	return taking;
}
