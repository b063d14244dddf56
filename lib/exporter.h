/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The exporter core: flow expiry, deltas and the exactly-once journal,
 * once, for every destination (a sink).  It prints nothing and touches
 * the kernel only through a store (struct nacct_xstore); everything it
 * must keep across a kill -9 lives in memory the caller gives it
 * (struct nacct_xmem): mmap'ed pinned BPF arrays in production
 * (lib/exporter_bpf.c), plain memory in the tests (tests/check/), where
 * "a restart" is a new core on the same memory and store.
 *
 * ---- What is kept, and where ---------------------------------------------
 *
 * The kernel's flow map holds running totals per flow (per CPU), never
 * reset by the data path.  The exporter sends deltas against what it has
 * exported, which it keeps in four places:
 *
 *   exported state  one entry per flow exported at least once: the totals
 *                   already exported per direction, the flow's
 *                   incarnation (its merged first_seen) and the start of
 *                   its next record.  Delta = kernel totals - entry.  A
 *                   flow that was removed and came back (first_seen
 *                   differs) starts from zero.  Entries are a plain array
 *                   (a free entry has used = 0); the hash index over it
 *                   lives in the process and is rebuilt at start, so each
 *                   entry is changed by single stores and a kill can tear
 *                   only an entry the journal rewrites on restart.
 *   pending slots   expired flows.  An idle flow is taken out of the
 *                   flow map with its final per-CPU values written
 *                   straight into its slot by the store (production:
 *                   BPF_MAP_LOOKUP_AND_DELETE_ELEM whose value buffer IS
 *                   the slot in the mmap'ed pinned array: the kernel
 *                   writes the final counters into memory that outlives
 *                   the process, inside the syscall).  A slot is TAKING
 *                   with zeroed values before the take; after a crash,
 *                   non-zero values mean the delete happened.  Its final
 *                   delta is exported like any other, then the slot is
 *                   finalized (below).
 *   the journal     the message in flight: the new exported totals of
 *                   every record in it (items), its sequence numbers and
 *                   a struct mmsghdr.  The sink sends the message so that
 *                   "sent" lands in the journal's mmsghdr atomically with
 *                   the send (sockets: sendmmsg() on that mmsghdr, the
 *                   kernel writes msg_len inside the syscall; JSON lines:
 *                   right after write()).
 *   expired counter what has left the flow map, for conservation (below).
 *
 * One message:  stage records + items (IDLE) -> msg_len, seq_after,
 * messages_after, state INTENT -> send -> apply the items to the exported
 * state (absolute values: idempotent), seq = seq_after, messages =
 * messages_after (absolute) -> IDLE.  On start: INTENT with msg_len ==
 * length: the message went out, apply it again (all of it is idempotent);
 * INTENT with msg_len < length: it did not (or a TCP write was cut short:
 * that connection is gone, and a collector discards a truncated last
 * message on it): its deltas are computed and sent again.  A sink that
 * can be asked (sink op committed: ClickHouse) settles an INTENT whose
 * send failed or was cut by a kill by asking the destination whether the
 * message's records are there, before anything else is sent.
 *
 * ---- The expired counter (conservation) -------------------------------------
 *
 * flows + expired + overflow + malformed + non-IP = totals, where expired
 * = the live copy of the counter (c[cur]) + every slot that holds a taken
 * flow and is not covered by that copy.  A slot is covered when its
 * fin_epoch is set and not newer than c[cur].epoch.  Finalizing a batch S
 * of slots whose final deltas are all committed:
 *   1. n = c[cur] + the values of S, n.epoch = c[cur].epoch + 1
 *   2. fin_epoch = n.epoch on each slot of S  (newer than c[cur]: still
 *      counted as slots)
 *   3. c[!cur] = n                            (not the live copy)
 *   4. cur = !cur: ONE aligned store.  Before it, S is counted by its
 *      slots and not by the counter; after it, by the counter and not by
 *      its slots.  A kill anywhere leaves one of the two.
 *   5. delete S's exported-state entries, free S's slots (state FREE
 *      first); a kill here leaves covered slots, which count for nothing
 *      and are freed again on start.
 * On start, a slot with fin_epoch newer than c[cur] (the flip did not
 * happen) gets fin_epoch = 0 again, so that the next batch's epoch cannot
 * cover it by accident.  The counter changes only by the flip, so it
 * neither misses nor double counts an expired flow whatever instruction a
 * kill -9 lands on; the flow map loses a flow only inside the take, when
 * its values land in a slot.  fin_epoch holds the low 32 bits of an epoch
 * (compared modulo 2^32: a covered slot is at most a few epochs old).
 *
 * Readers (status, serve) see the flow map and these at different
 * instants.  The core bumps the counter's gen before every take (after
 * the slot is TAKING), so a reader that reads the expired counts (gen
 * g1), then the flow map, then the expired counts again (gen g2) has a
 * consistent picture when g1 == g2 and no slot was TAKING: no flow left
 * the map in between (nacct_expired_read() waits out TAKING slots).
 *
 * ---- Records ----------------------------------------------------------------
 *
 * Each direction of a flow (the RX and the TX counters of the hook) is
 * its own uni-directional record (struct nacct_rec with dir, span and
 * final set), src -> dst as the packets went: the endpoint that is a
 * local address sends TX and receives RX; when neither or both are local,
 * the initiator (the merge's first_dir: SYN, else first packet) is the
 * source of RX records.  Active timeout: a record is sent when its start
 * is --active-timeout old; idle timeout: a flow without packets for
 * --idle-timeout is taken and its last delta sent.  The start of a
 * follow-up record is the time of the previous export (all of its packets
 * came after it), its end the flow's last packet; start <= end.
 *
 * ---- Cost: passes over the flow map ------------------------------------------
 *
 * Reading a flow costs ~0.5 us of kernel time (a batched read of its
 * per-CPU values), so the core does not dump the whole map every round:
 * it walks it in passes, at most cfg.scan_rate flows a round (one round a
 * second; NACCT_X_SCAN_RATE).  A map of up to scan_rate flows is read
 * whole every round, as before; a larger one in flows / scan_rate rounds,
 * which is then the resolution of both timeouts (1M flows: a pass a
 * minute, so an idle flow goes 15-76 s after its last packet and a
 * running one is split every 60-120 s).  Per flow read: its merge and a
 * lookup in the in-memory index (prefetched a chunk at a time); no
 * syscall but the batch reads, one send per message and the takes.  At
 * 1M running flows one active-timeout cycle costs ~1.1 s of CPU (kernel
 * reads ~0.5 s, records and sends ~0.6 s), against ~42 s for a dump and
 * a lookup per flow every second.
 *
 * ---- Several sinks ---------------------------------------------------------------
 *
 * One expiry pass feeds up to NACCT_X_LANES sinks.  Each sink is a lane
 * (struct lane in exporter.c) with its own journal (message in flight,
 * sequence numbers) and exported state (entries + index): production
 * keeps one pinned blob per sink kind (maps/pins.h).  Every record is
 * computed per lane against that lane's state and sent through that
 * lane's journal; the pending slots and the expired counter are shared,
 * and a slot is finalized when every lane's state shows its final totals.
 * A sink whose send fails is down for the rest of the round and the
 * others go on; its deltas wait in the flow map (idle flows stay there
 * too: the slots it has not acknowledged stay taken) until it is back.
 */
#ifndef NACCT_EXPORTER_H
#define NACCT_EXPORTER_H

#include <stddef.h>
#include <sys/socket.h>
#include <linux/types.h>
#include "fields.h"

/* ---- memory that outlives the process ------------------------------------- */

#define NACCT_XJ_MAGIC 0x32786a6eU /* "njx2" */
#define NACCT_XJ_VERSION 2
/* records a journal holds: IPFIX and JSON messages; ClickHouse batches up to the most */
#define NACCT_XJ_ITEMS 1024
#define NACCT_XJ_ITEMS_MAX 65536
#define NACCT_XP_SLOTS 256

/* one record of the message in flight: the flow's new exported totals */
struct nacct_xitem {
	struct nacct_flow_key key;
	__u64 packets; /* new exported totals of direction dir */
	__u64 bytes;
	__u64 first_seen; /* the incarnation */
	__u64 rec_start;  /* start of the next record */
	__u32 slot;       /* pending slot + 1 of an expired flow, 0: live flow */
	__u8 dir;
	__u8 pad[3];
};

enum { NACCT_XJ_IDLE = 0, NACCT_XJ_INTENT = 1 };

struct nacct_xjournal {
	__u32 magic;
	__u32 version;
	__u32 state;
	__u32 n_items;
	__u64 seq;            /* data records committed: the message's IPFIX sequence number */
	__u64 messages;       /* messages committed */
	__u64 seq_after;      /* seq and messages once the message in flight is committed */
	__u64 messages_after;
	__u32 msg_len;        /* length of the message in flight */
	__u32 n_records;
	__u8 mmsg[64];        /* struct mmsghdr; msg_len written by the kernel */
	struct nacct_xitem items[]; /* the capacity: struct nacct_xmem.j_cap */
};

/* bytes of a journal of cap items */
static inline size_t nacct_xjournal_size(__u32 cap)
{
	return sizeof(struct nacct_xjournal) + (size_t)cap * sizeof(struct nacct_xitem);
}

/* exported state of one flow */
struct nacct_xentry {
	__u32 used;
	__u32 seen; /* the pass that last read the flow: the process's own, reset at start */
	struct nacct_flow_key key;
	__u64 packets[NACCT_DIR_MAX];
	__u64 bytes[NACCT_DIR_MAX];
	__u64 rec_start[NACCT_DIR_MAX]; /* mono ns: start of the next record; 0: first_seen */
	__u64 first_seen;               /* incarnation */
};

enum { NACCT_XP_FREE = 0, NACCT_XP_TAKING = 1, NACCT_XP_TAKEN = 2 };

/* a pending slot: header + per-CPU values (the slot size depends on ncpu) */
struct nacct_xslot {
	__u32 state;
	__u32 fin_epoch; /* low 32 bits of the finalize epoch that covers it; 0: none */
	struct nacct_flow_key key;
	struct nacct_flow_val vals[]; /* one per possible CPU */
};

/* bytes of one slot */
size_t nacct_xslot_size(int ncpu);

/* the expired counter: one copy, and the pinned element with two */
struct nacct_xcount {
	__u64 packets[NACCT_DIR_MAX];
	__u64 bytes[NACCT_DIR_MAX];
	__u64 flows;
	__u64 epoch; /* finalize batches included */
};

#define NACCT_XE_MAGIC 0x31786e65U /* "enx1" */
#define NACCT_XE_VERSION 1

struct nacct_export_expired {
	__u32 magic;
	__u32 version;
	__u32 cur; /* c[cur] is the counter: flipped by one store */
	__u32 pad;
	__u64 gen; /* bumped before every take: a flow may leave the flow map */
	struct nacct_xcount c[2];
};

/* the sinks one exporter feeds from one expiry pass */
#define NACCT_X_LANES 4

/* one sink's memory: its journal and its exported state */
struct nacct_xlane {
	struct nacct_xjournal *j;
	__u32 j_cap;        /* the journal's items (0: NACCT_XJ_ITEMS) */
	struct nacct_xentry *ent;
	__u32 n_ent;
};

struct nacct_xmem {
	struct nacct_xlane lane[NACCT_X_LANES]; /* one per sink, in the sinks' order */
	__u32 n_lanes;
	struct nacct_export_expired *exp;
	__u8 *slots;        /* n_slots of slot_size bytes */
	__u32 n_slots;
	size_t slot_size;   /* nacct_xslot_size(the store's ncpu) */
};

/* ---- the store: the flow map and the interface totals ----------------------- */

struct nacct_xstore;
struct nacct_xstore_ops {
	/*
	 * The next flows of a pass over the flow map, merged per CPU
	 * (nacct_flow_merge); restart: begin a new pass.  *out stays valid
	 * until the next call.  Returns 1 when this call ended the pass (the
	 * next one starts another), 0 when there is more, or -errno.  A pass
	 * returns every flow that is in the map for all of it exactly once.
	 */
	int (*scan)(struct nacct_xstore *s, int restart, const struct nacct_flow **out,
		    size_t *n);
	/* take a flow out of the map, its per-CPU values (ncpu) into vals
	 * atomically with the delete: 0, -ENOENT (not there) or -errno */
	int (*take)(struct nacct_xstore *s, const struct nacct_flow_key *k,
		    struct nacct_flow_val *vals);
	/* the interface's counters (summed over CPUs) */
	int (*totals)(struct nacct_xstore *s, struct nacct_stats *st);
	/* the tunnel of a flow key's handle (optional; NULL: not known) */
	const struct nacct_tun *(*tunnel)(struct nacct_xstore *s, __u64 handle);
};

struct nacct_xstore {
	const struct nacct_xstore_ops *ops;
	int ncpu; /* per-CPU values of a take */
};

/* ---- sinks ------------------------------------------------------------------- */

/* an options record / stats line: the interface totals of one direction */
struct nacct_xtotals {
	const struct nacct_totals *t;
	const char *ifname;
	__u32 ifindex;
	int dir;
	__u64 obs_ms;      /* wall clock */
	size_t flows;      /* in the flow map (at the last complete pass) */
	__u32 max_flows;
};

struct nacct_sink;
struct nacct_sink_ops {
	/* connect and send what leads a connection (IPFIX: the templates,
	 * with sequence number seq); nothing when connected.  send() opens
	 * again by itself after a failure */
	int (*open)(struct nacct_sink *s, __u64 seq);
	/* append a record to the message being built; -ENOSPC: it is full
	 * (the core sends it and appends again) */
	int (*rec)(struct nacct_sink *s, const struct nacct_rec *r);
	int (*totals)(struct nacct_sink *s, const struct nacct_xtotals *t);
	/* close the message being built: its bytes (*len 0: empty) and data
	 * records; seq: the sequence number of its first record */
	int (*seal)(struct nacct_sink *s, __u64 seq, const void **buf, size_t *len,
		    unsigned int *records);
	/* send it so that mm->msg_len = the bytes handed over lands with the
	 * send (sendmmsg on mm); 0 only when all of it went */
	int (*send)(struct nacct_sink *s, const void *buf, size_t len, struct mmsghdr *mm);
	/* done: disconnect and free the sink */
	void (*close)(struct nacct_sink *s);
	/*
	 * Optional, for a destination that can be asked (a database): did the
	 * message whose first record is seq, with records records, commit?
	 * 1 yes, 0 no (and it never will), -errno: cannot tell now.  With it,
	 * a failed send or one a kill interrupted is not taken as "not sent":
	 * the message stays in flight until the destination answers, then is
	 * committed or computed again.  Without it (sockets, a pipe), a send
	 * that failed did not happen.
	 */
	int (*committed)(struct nacct_sink *s, __u64 seq, unsigned int records);
};

struct nacct_sink {
	const struct nacct_sink_ops *ops;
};

/* ---- the core ---------------------------------------------------------------- */

/* crash points (tests): cfg.crash is called at each; production: NULL */
enum nacct_xpoint {
	NACCT_XC_TAKE_MARKED = 1, /* slot TAKING, before the take */
	NACCT_XC_TAKE_DONE,       /* the take happened, slot still TAKING */
	NACCT_XC_STAGED,          /* a record and its item staged */
	NACCT_XC_INTENT,          /* journal INTENT, before the send */
	NACCT_XC_SENT,            /* sent, before the commit */
	NACCT_XC_APPLIED,         /* one item applied to the exported state */
	NACCT_XC_COMMITTED,       /* seq and messages set, state still INTENT */
	NACCT_XC_FIN_MARKED,      /* finalize: fin_epoch set on the batch */
	NACCT_XC_FIN_COUNTED,     /* the new copy written, before the flip */
	NACCT_XC_FIN_FLIPPED,     /* the flip, before the frees */
	NACCT_XC_FIN_FREED,       /* one slot freed */
	NACCT_XC_GC,              /* one stale entry deleted */
	NACCT_XC_DELIVERED,       /* a sink that can be asked: the destination has the
				   * message, the sink has not said so (the tests' sink) */
	NACCT_XC_MAX,
};

struct nacct_xcfg {
	const char *ifname;
	__u32 ifindex;
	__u32 max_flows;     /* the flow map's size (fill) */
	__u64 idle_ns, active_ns;
	__u32 scan_rate;     /* flows read per round at most (0: NACCT_X_SCAN_RATE) */
	void (*crash)(void *arg, enum nacct_xpoint p);
	void *crash_arg;
};

#define NACCT_X_SCAN_RATE 16384

/* what the restart found (for the log) */
struct nacct_xrecovery {
	struct nacct_xjrecovery { /* each lane's journal */
		int intent;            /* a message was in flight */
		int sent;              /* ... and went out: committed now */
		int unresolved;        /* ... not known to be sent: the sink is asked */
		__u64 message;         /* its number */
		__u32 records;
		__u32 sent_len, msg_len;
	} j[NACCT_X_LANES];
	__u32 taken, not_taken; /* TAKING slots: the delete happened / had not */
	__u32 covered;          /* finalized slots freed */
	int fresh;              /* a journal or the counter initialized */
	int state_err;          /* replaying: an exported flow could not be recorded */
};

/* what a round saw (for the log: map pressure is never silent) */
struct nacct_xreport {
	__u64 overflow_new;    /* packets to the overflow bucket since the last round */
	size_t flows;          /* flows at the last complete pass */
	__u32 max_flows;
	int fill_warn;         /* the map crossed 80% full */
	int take_err;          /* an idle flow could not be taken (last -errno) */
	int state_err;         /* an exported flow could not be recorded (last -errno) */
	int pass_done;         /* a pass over the map ended in this round */
	int resolved;          /* a message in flight was settled: 1 committed, 2 sent again */
	__u64 resolved_seq;
	int lane_err[NACCT_X_LANES]; /* a sink that failed this round (-errno) */
};

struct nacct_xfigures {
	__u64 records, messages, flows_expired; /* this run */
};

struct nacct_exporter;

/* a core on mem: recovers what a killed one left (rec: what it found) */
/* a core on mem: recovers what a killed one left (rec: what it found); sinks[k]
 * sends what lane k of mem keeps (mem->n_lanes of them) */
int nacct_exporter_new(struct nacct_exporter **out, const struct nacct_xcfg *cfg,
		       struct nacct_xstore *store, const struct nacct_xmem *mem,
		       struct nacct_sink *const *sinks, struct nacct_xrecovery *rec);
void nacct_exporter_free(struct nacct_exporter *x);

/* the local addresses of the namespace (16 bytes, IPv4 v4-mapped), kept by pointer */
void nacct_exporter_set_local(struct nacct_exporter *x, const __u8 (*addrs)[16], size_t n);
/* the side programs' records to join onto every record, kept by pointer (NULL: none) */
struct nacct_probe_view;
void nacct_exporter_set_side(struct nacct_exporter *x, const struct nacct_probe_view *pv);

/*
 * One round at now (CLOCK_MONOTONIC ns): finish what the pending slots
 * hold, read the next part of the pass (take idle flows, export what is
 * due), send the totals when they changed.  final: a whole pass now, and
 * every delta sent whatever its age (nothing is taken).
 */
int nacct_exporter_round(struct nacct_exporter *x, __u64 now, int final,
			 struct nacct_xreport *rep);

void nacct_exporter_figures(const struct nacct_exporter *x, struct nacct_xfigures *f);

/* open sink k now (at start: to say early that a collector is down) */
int nacct_exporter_open(struct nacct_exporter *x, int k);

/* ---- conservation: what has left the flow map -------------------------------- */

struct nacct_expired {
	__u64 packets[NACCT_DIR_MAX];
	__u64 bytes[NACCT_DIR_MAX];
	__u64 flows;
	__u64 gen;   /* changes whenever a flow may have left the map */
	int present; /* an exporter has run on the attachment */
};

/*
 * The expired counts of memory that is not changing under the caller
 * (tests, a stopped exporter): the live counter + the taken slots it
 * does not cover.  Returns the number of TAKING slots seen (a take in
 * progress, or one a killed exporter left).
 */
int nacct_expired_sum(const struct nacct_export_expired *e, const __u8 *slots, __u32 n_slots,
		      size_t slot_size, int ncpu, struct nacct_expired *out);

/*
 * Production (lib/exporter_bpf.c): the expired counts of the attachment
 * pinned in pin_dir, to add to the flow map's contents:
 *   flows + expired + overflow + malformed + non-IP = totals
 * Returns 0 (present = 0 and zeros when no exporter ever ran there) or
 * -errno.  For an exact sum read it before and after the flow dump and
 * use the dump only when both gens are equal: nacct_snapshot()
 * (lib/snapshot.c) does that.
 */
int nacct_expired_read(const char *pin_dir, struct nacct_expired *out);

#endif /* NACCT_EXPORTER_H */
