/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Reading the side programs' pinned records (NACCT_PIN_ROOT/:probes):
 * their maps, and a view of the caller's network namespace's flow side
 * records for joining onto flows (lib/fields.c's side fields).
 */
#ifndef NACCT_SIDE_H
#define NACCT_SIDE_H

#include <stddef.h>
#include <linux/types.h>
#include "../maps/nacct.h"

/* the pinned maps; every fd -1 when absent */
struct nacct_probe_maps {
	int tcp, drops, reasons, stats, readers, rings, sites;
};
/* -ENOENT when the side programs are not attached */
int nacct_probes_open(struct nacct_probe_maps *m);
void nacct_probes_close(struct nacct_probe_maps *m);
int nacct_probes_read_stats(int fd, struct nacct_probe_stats *out);

/* the flow side records of the caller's network namespace, read once */
struct nacct_probe_rec {
	struct nacct_flow_key key; /* vlan 0 */
	struct nacct_tcp_val val;
};
struct nacct_probe_drop {
	struct nacct_drop_key key;
	__u64 count;
	__u64 first_ns; /* record created, CLOCK_MONOTONIC */
};
struct nacct_probe_view {
	struct nacct_probe_rec *recs;
	size_t n_recs;
	struct nacct_probe_drop *drops;
	size_t n_drops;
	__u64 since_ns; /* CLOCK_MONOTONIC: records created before are not joined (0: all) */
};
/* -ENOENT when the side programs are not attached */
int nacct_probe_view_load(struct nacct_probe_view *v);
void nacct_probe_view_free(struct nacct_probe_view *v);
/*
 * Join only records created at or after @attached_at (wall clock ns, as
 * struct nacct_meta.attached_at; 0: all): a record older than the
 * attachment holds counts from before it and is ignored as a whole.
 */
void nacct_probe_view_since(struct nacct_probe_view *v, __u64 attached_at);
/* the record of a flow (its vlan ignored), or NULL */
const struct nacct_tcp_val *nacct_probe_view_find(const struct nacct_probe_view *v,
						   const struct nacct_flow_key *k);
/* the drops of a flow by reason: for (begin(); next();) { it.reason, it.count } */
struct nacct_probe_drop_iter {
	const struct nacct_probe_view *pv;
	struct nacct_flow_key key;
	size_t i;
	__u32 reason;
	__u64 count;
};
struct nacct_side;
/* the drops of a flow joined by nacct_probe_view_side(), reason by reason */
void nacct_side_drops(const struct nacct_side *s, struct nacct_probe_drop_iter *it);
int nacct_probe_drops_next(struct nacct_probe_drop_iter *it);

/* what the side programs know of one flow: a record's side fields */
struct nacct_side {
	const struct nacct_tcp_val *tcp;   /* NULL: no socket record */
	const struct nacct_probe_view *pv; /* for the drops by reason */
	__u64 drops;
	struct nacct_flow_key drops_key;   /* the drops' key and first index (nacct_side_drops) */
	size_t drops_at;
};
/* what the view knows of one flow */
void nacct_probe_view_side(const struct nacct_probe_view *v, const struct nacct_flow_key *k,
			   struct nacct_side *out);

#endif /* NACCT_SIDE_H */
