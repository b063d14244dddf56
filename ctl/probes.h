/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The side programs (probes/): global, one set per host, pinned with
 * their links and maps under NACCT_PIN_ROOT/:probes.
 */
#ifndef NACCT_PROBES_H
#define NACCT_PROBES_H

#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include "../maps/nacct.h"

/* make sure the side programs are attached: 1 added now, 0 already there, -errno */
int nacct_probes_ensure(void);
/* remove them when no interface (in any netns) is attached: 1 removed, 0 kept, -errno */
int nacct_probes_release_if_unused(void);

/* the pinned maps; every fd -1 when absent */
struct nacct_probe_maps {
	int tcp, drops, reasons, stats, readers, rings, sites;
};
/* -ENOENT when the side programs are not attached */
int nacct_probes_open(struct nacct_probe_maps *m);
void nacct_probes_close(struct nacct_probe_maps *m);
int nacct_probes_read_stats(int fd, struct nacct_probe_stats *out);

/*
 * A reader slot for `nacct events`: its own ring buffer, event mask (bit
 * 1 << enum nacct_ev_type) and filters (@want; pid is filled in here), so
 * concurrent readers do not interfere.
 * Returns the slot and the ring's fd in *ring_fd; -EBUSY when all
 * NACCT_EV_READERS slots are taken by live readers.
 */
int nacct_ev_reader_open(const struct nacct_probe_maps *m, const struct nacct_ev_reader *want,
			 int *ring_fd);
/* events lost for this reader (its ring was full) */
__u64 nacct_ev_reader_lost(const struct nacct_probe_maps *m, int slot);
void nacct_ev_reader_close(const struct nacct_probe_maps *m, int slot, int ring_fd);

/* the kernel text symbol containing @addr ("" unknown); never the address */
const char *nacct_ksym_name(__u64 addr);

/* names from the running kernel's BTF ("NO_SOCKET"); "" unknown */
const char *nacct_drop_reason_name(__u32 reason, char *buf, size_t len);
const char *nacct_rst_reason_name(__u32 reason, char *buf, size_t len);
const char *nacct_tcp_state_name(int state);

/*
 * The flow side records of the caller's network namespace, read once for
 * a listing (`nacct flows`): records of other namespaces are left out.
 */
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
/*
 * Output of the side fields of one flow; src_side is the key endpoint
 * (0 lo, 1 hi) that `flows` prints as src.  Print nothing without a record.
 */
void nacct_probe_flow_json(FILE *f, const struct nacct_probe_view *v,
			   const struct nacct_flow_key *k, int src_side);
void nacct_probe_flow_cols_hdr(FILE *f);
void nacct_probe_flow_cols(FILE *f, const struct nacct_probe_view *v,
			   const struct nacct_flow_key *k, int src_side);

#endif /* NACCT_PROBES_H */
