/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The exporter core on the kernel (lib/exporter_bpf.c): the store on an
 * attachment's pinned flow and stats maps, and the core's memory as the
 * exporter's pinned, mmap'ed arrays next to them.
 */
#ifndef NACCT_EXPORTER_BPF_H
#define NACCT_EXPORTER_BPF_H

#include "exporter.h"
#include "tunnels.h"

struct nacct_bpf_store {
	struct nacct_xstore base; /* first: the core's handle */
	int flows_fd, stats_fd, queues_fd; /* queues: the RX totals (nacct_read_totals) */
	__u32 slot, if_filter;    /* a shared domain's member (struct nacct_iface_maps) */
	__u32 chunk;              /* flows per batch read */
	struct nacct_flow_key *keys;
	struct nacct_flow_val *vals;
	struct nacct_flow *out;
	__u64 cursor;             /* the kernel's batch cursor (a bucket) */
	int first, at_end;
	int tunnels_fd;           /* -1: none */
	struct nacct_tuns tuns;   /* read again when a handle is not in it */
};

int nacct_bpf_store_init(struct nacct_bpf_store *s, int flows_fd, int stats_fd, int queues_fd);
/* a shared domain's member: its rows' slot and its flows' ifindex */
void nacct_bpf_store_member(struct nacct_bpf_store *s, __u32 slot, __u32 if_filter);
/* the tunnel map, for the records' tunnel fields (optional) */
void nacct_bpf_store_tunnels(struct nacct_bpf_store *s, int tunnels_fd);
void nacct_bpf_store_free(struct nacct_bpf_store *s);

/* the exporter's pinned maps, mmap'ed: the core's memory */
struct nacct_xpins_blob {
	int fd;
	__u8 *p;
	size_t len;
	int grown;                /* the journal was made larger for the sink */
};
struct nacct_xpins {
	struct nacct_xpins_blob b[NACCT_X_LANES]; /* each lane's journal + exported state */
	int pend_fd, exp_fd;
	struct nacct_xmem mem;
	const char *bad;          /* -EPROTO: the pin made by an incompatible build */
	int migrated;             /* the previous build's state was converted */
	__u32 migrated_entries;
};

/* one sink's blob: its pin name (maps/pins.h) and the journal it needs */
struct nacct_xpins_lane {
	const char *name;
	__u32 j_cap;              /* the sink's largest message, in records */
};

/*
 * Open (or create) the exporter's maps in the attachment's pin directory
 * for a flow map of max_flows and ncpu possible CPUs: the shared pending
 * slots and expired counter, and one blob per lane with a journal of at
 * least its j_cap records; converts the previous build's state (under
 * NACCT_MAP_EXPORT).  0 or -errno (-EPROTO: p->bad names the pin).
 */
int nacct_xpins_open(const char *dir, __u32 max_flows, int ncpu,
		     const struct nacct_xpins_lane *lanes, int n, struct nacct_xpins *p);
void nacct_xpins_close(struct nacct_xpins *p);

#endif /* NACCT_EXPORTER_BPF_H */
