/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A scripted exporter run on the in-memory store (check_export.c): the
 * store, the core's memory, what the collector received and the ground
 * truth: everything that outlives a kill.  check_export_kill.c runs the
 * same script in a forked child killed at random instants.
 */
#ifndef NACCT_XWORLD_H
#define NACCT_XWORLD_H

#include <setjmp.h>
#include "memstore.h"

#define XW_NCPU 3
#define XW_NKEYS 44
#define XW_SLOTS 8
#define XW_ENT 128
#define XW_FLOWS_CAP 256
#define XW_S 1000000000ULL

/* one record as the collector received it */
struct trec {
	struct nacct_flow_key key;
	__u64 packets, bytes, start, end, seq;
	int dir, src_hi, final;
};

/* one message of the capture sink */
struct tmsg {
	__u64 seq;
	unsigned int records; /* data records, totals included */
	size_t n;
	int totals;
	struct nacct_stats st;
	struct trec r[];
};

/* what the collector has received */
struct tlog {
	struct trec *r;
	size_t n, cap;
	__u64 msgs, next_seq;
	int seq_bad;
	char why[160];
	struct nacct_stats st; /* the last totals */
	__u64 totals_msgs;
};

struct tsink {
	struct nacct_sink base;
	struct tlog *log;
	struct tmsg *buf[2], *msg;
	size_t n, per_msg;
	unsigned int records;
	int fail_every, cut_every; /* refuse / cut every Nth send */
	/* a destination that can be asked (sink op committed, as ClickHouse):
	 * every lost_every-th send is delivered but its answer lost; with
	 * fail_every every other question goes unanswered (it is down) */
	int ask, lost_every;
	__u64 asks;
	void (*crash)(void *arg, enum nacct_xpoint p);
	void *crash_arg;
	__u64 sends;
	int fd;                    /* >= 0: messages go out on this socket */
};

struct tsink *tsink_new(struct tlog *log, size_t per_msg);

struct xw_opts {
	__u32 scan_rate; /* 0: a whole pass a round */
	__u32 n_slots;   /* 0: XW_SLOTS */
	size_t per_msg;  /* records a message (0: 5) */
	int fail_every, cut_every;
	int ask, lost_every; /* the sink can be asked whether a message committed */
	__u32 j_cap;         /* the journal's records (0: NACCT_XJ_ITEMS) */
	/* a second sink (lane 1) with its own collector: refuses every
	 * fail2_every-th send (down for that round while lane 0 goes on) */
	int two, fail2_every;
};

struct xworld {
	struct xw_opts o;
	struct memstore ms;
	struct nacct_xjournal *j;
	struct nacct_export_expired *exp;
	__u8 *slots;
	struct nacct_xentry *ent;
	struct nacct_xmem mem;
	struct nacct_flow_key keys[XW_NKEYS];
	__u8 local[2][16];
	__u64 truth_p[XW_NKEYS][2], truth_b[XW_NKEYS][2];
	struct tlog log;
	/* lane 1 (o.two): its journal, exported state and collector */
	struct nacct_xjournal *j2;
	struct nacct_xentry *ent2;
	struct tlog log2;
	/* the run */
	struct nacct_exporter *x;
	struct tsink *sink, *sink2;
	int step;
	jmp_buf jb;
	long points, crash_at, crash_at2, hits[NACCT_XC_MAX];
	void (*kill_fn)(struct xworld *w);
	int sink_fd; /* -1 (xw_init): the capture sink delivers in-process */
	void *memblk; /* the memory xw_init allocated */
	int done;
	int kills, restarts, round_errs, last_err;
	int bad, bad_point;
	long bad_at;
	char why[256];
	__u64 rec_sent, rec_unsent, rec_taken, rec_covered;
};

size_t xw_mem_size(void);
/* shared: xw_mem_size() bytes for the core's memory and the store (NULL: calloc) */
void xw_init(struct xworld *w, const struct xw_opts *o, void *shared);
void xw_free(struct xworld *w);
void xw_start(struct xworld *w);
void xw_stop(struct xworld *w);
void xw_run(struct xworld *w);
int xw_verify(struct xworld *w, char *why, size_t len);
int xw_nsteps(void);
int xw_is_traffic(int s);
/* step s of the script: a traffic phase or a round */
void xw_step(struct xworld *w, int s);
/* a message received by the collector into its log */
void xw_deliver(struct tlog *log, const struct tmsg *m);

#endif /* NACCT_XWORLD_H */
