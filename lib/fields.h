/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one description of nacct's records: every field of a flow record
 * and of the interface totals, once, in a table (lib/fields.c).  Each
 * line names the field, its C field in the contract (maps/nacct.h), its
 * type, whether it is per direction, how the per-CPU copies merge, its
 * unit, its IPFIX information element, and where it appears.  Every
 * output is generated from these tables:
 *   flow fields   -> flows (table, --json, --csv), export --json, the IPFIX
 *                    templates and records, top's columns
 *   total fields  -> status (table and --json), the Prometheus families,
 *                    the IPFIX options records
 * and the per-CPU merge of a flow (flows, export, top, serve) is driven by
 * the flow table's merge rules.  Adding a counter: the contract field, its
 * increment in the program, one line in the table.
 */
#ifndef NACCT_FIELDS_H
#define NACCT_FIELDS_H

#include <stddef.h>
#include <linux/types.h>
#include "../maps/nacct.h"
#include "tunnels.h"

/* how a value is written */
enum nacct_fkind {
	NACCT_FK_U64 = 0, /* unsigned integer */
	NACCT_FK_STR,     /* text */
	NACCT_FK_ADDR,    /* IP address: text; IPFIX 4 (IPv4) or 16 bytes */
	NACCT_FK_TIME,    /* CLOCK_MONOTONIC ns -> RFC 3339 UTC ("" for 0); IPFIX ms */
	NACCT_FK_FLAGS,   /* TCP flags: "FSRPAUEC" letters; IPFIX the bits */
	NACCT_FK_MILLI,   /* thousandths (u), written with 3 decimals: ns as "12.345" us */
	NACCT_FK_JSON,    /* nested JSON (object/array); CSV: its JSON text, quoted */
	NACCT_FK_BOOL,    /* true / false */
};

/* where the value comes from */
enum nacct_fsrc {
	NACCT_FS_VAL = 0, /* the flow value (struct nacct_flow_val), merged over CPUs */
	NACCT_FS_KEY,     /* the flow key, oriented src -> dst */
	NACCT_FS_SIDE,    /* the side programs' record of the flow (NULL when not loaded) */
	NACCT_FS_REC,     /* the record itself: interface, export message and direction */
};

/* how the per-CPU copies of a value field merge */
enum nacct_merge {
	NACCT_MERGE_NONE = 0,
	NACCT_MERGE_SUM,    /* counters: sum */
	NACCT_MERGE_OR,     /* bit sets: OR */
	NACCT_MERGE_MIN_NZ, /* the smallest non-zero (first_seen: 0 = this CPU never saw it) */
	NACCT_MERGE_LAST,   /* the largest of this field and first_seen (coarse vs precise clock) */
	NACCT_MERGE_FIRST,  /* the value of the CPU that saw the flow first */
	NACCT_MERGE_ANY,    /* a non-zero value wins */
};

/* field.dir: an element of a [NACCT_DIR_MAX] array, or both combined */
#define NACCT_FD_BOTH 2 /* sum (counters) or OR (flags) of rx and tx */
#define NACCT_FD_NONE 3 /* not a per-direction field */

/* field.out: where a field appears */
enum {
	NACCT_OUT_FLOW = 1 << 0,   /* flow records: flows table/JSON/CSV and export --json */
	NACCT_OUT_EXPORT = 1 << 1, /* export --json records only (message, span, direction) */
	NACCT_OUT_IPFIX = 1 << 2,  /* IPFIX records only (interfaces, flowDirection) */
	NACCT_OUT_TABLE = 1 << 3,  /* the flows table only (a compact column of other fields) */
	NACCT_OUT_HOST = 1 << 4,   /* a domain's host view only (flows --host: the interfaces) */
};

/* IPFIX enterprise elements of nacct (README "IPFIX"): this Private
 * Enterprise Number is RFC 5612's, reserved for documentation, until
 * nacct has one of its own; a collector maps them by (PEN, id) */
#define NACCT_IPFIX_PEN 32473

/* a field's value, as a getter produces it */
struct nacct_fval {
	int null;       /* no value: JSON null, CSV/table empty */
	__u64 u;        /* U64, TIME (monotonic ns), FLAGS */
	const char *s;  /* STR */
	const __u8 *a;  /* ADDR: 16 bytes (IPv4 v4-mapped) */
	__u8 family;    /* ADDR */
};

struct nacct_rec;
struct nacct_obuf;

/* one line of a record table */
struct nacct_field {
	const char *name;       /* JSON key, CSV column, Prometheus name part */
	enum nacct_fkind kind;
	enum nacct_fsrc src;
	unsigned int out;       /* NACCT_OUT_* (0: internal, merge only) */
	/* NACCT_FS_VAL: the C field (offset, one element's size, elements) */
	__u16 off;
	__u8 size, n;
	__u8 dir;               /* NACCT_DIR_RX/TX, NACCT_FD_BOTH or NACCT_FD_NONE */
	enum nacct_merge merge;
	__u8 key;               /* part of the flow key */
	__u8 nullable;          /* may have no value (side fields always may):
				 * JSON null, a ClickHouse Nullable column */
	const char *unit;       /* packets, bytes, ns, us, flags, ... ("" none) */
	/* IPFIX: IANA element (id, bytes), IPv6 variant for addresses; or an
	 * enterprise element (pen != 0, documented in README) */
	const char *ie, *ie6;
	__u16 ie_id, ie6_id;
	__u8 ie_len;
	__u32 ie_pen;
	/* text table: header and width (0: not a column; < 0: left aligned),
	 * and what separates it from the column before (NULL: a space) */
	const char *col;
	int width;
	const char *tsep;
	/* value of a non-VAL field (VAL fields are read generically) */
	void (*get)(const struct nacct_rec *r, struct nacct_fval *v, char *buf, size_t len);
	/* NACCT_FK_JSON: writes the JSON text */
	void (*json)(const struct nacct_rec *r, struct nacct_obuf *o);
	const char *help;
};

extern const struct nacct_field nacct_flow_fields[];
extern const size_t nacct_flow_nfields;

/* ---- the record every flow output reads --------------------------------- */

/* what the side programs know of one flow (lib/side.h) */
struct nacct_side;

struct nacct_rec {
	const char *ifname;
	const char *ifaces;        /* flows --host: the members that saw the flow ("a,b") */
	__u32 ifindex;
	struct nacct_flow_key key;
	struct nacct_flow_val val; /* merged (flows), or one record's delta (export) */
	int src_hi;                /* src is the key's hi endpoint */
	const struct nacct_side *side; /* NULL: side programs not loaded */
	const struct nacct_tun *tun;   /* key.tunnel's tunnel; NULL: none, or no longer known */
	/* export records */
	int dir;                   /* the record's hook direction; -1: both (a flow) */
	__u64 seq;                 /* its message's IPFIX sequence number */
	int final;                 /* the flow's last record (expired or at exit) */
};

/* a flow as flows shows it: src = the initiator (first packet or SYN) */
void nacct_rec_flow(struct nacct_rec *r, const char *ifname, const struct nacct_flow_key *k,
		    const struct nacct_flow_val *v);

/* the value of a field of a record */
void nacct_field_get(const struct nacct_field *f, const struct nacct_rec *r, struct nacct_fval *v,
		     char *buf, size_t len);
/* can the field have no value (null) */
static inline int nacct_field_nullable(const struct nacct_field *f)
{
	return f->nullable || f->src == NACCT_FS_SIDE;
}
/* look a field up by name (NULL: none) */
const struct nacct_field *nacct_flow_field(const char *name);

/* ---- the one per-CPU merge ---------------------------------------------- */

/* one flow with its per-CPU values merged (nacct_flow_merge) */
struct nacct_flow {
	struct nacct_flow_key key;
	struct nacct_flow_val val;
};

/*
 * Merge the per-CPU copies of one flow value by the table's rules, then
 * the initiator rule: a TCP SYN (no ACK) names the initiator, whichever
 * CPU saw what first; else the CPU that saw the flow first does.
 */
void nacct_flow_merge(struct nacct_flow_val *dst, const struct nacct_flow_val *pcpu, int ncpu);

/* ---- interface totals ---------------------------------------------------- */

/*
 * An interface's totals: the data path's counters, the exporter's expired
 * counts, and what derives from them.  Conservation:
 *   flow_packets + expired_packets + overflow + malformed + non-IP = packets
 * (per direction, and the same for bytes).  Without the flow dump
 * (have_flows = 0: status, serve) flow_packets is that difference and
 * flows = flows_created - expired_flows: nothing scans the flow map.
 */
struct nacct_totals {
	struct nacct_stats st;               /* summed over CPUs (offload: + the NIC's rx) */
	__u64 flow_packets[NACCT_DIR_MAX];   /* in the flow map now */
	__u64 flow_bytes[NACCT_DIR_MAX];
	__u64 expired_packets[NACCT_DIR_MAX]; /* removed from the flow map by the exporter */
	__u64 expired_bytes[NACCT_DIR_MAX];
	__u64 expired_flows;
	__u64 ignored_packets[NACCT_DIR_MAX]; /* malformed + non-IP (IPFIX ignored*) */
	__u64 ignored_bytes[NACCT_DIR_MAX];
	__u64 hw_packets[NACCT_DIR_MAX];     /* offload: counted on the NIC (in st, no flows) */
	__u64 hw_bytes[NACCT_DIR_MAX];
	__u64 flows;                         /* flows in the map now */
	int have_flows;                      /* flow_* and flows summed from a dump */
};
/*
 * Fill the derived members from st, the expired and the NIC's counts:
 * ignored_*, and unless have_flows, flow_* and flows.
 */
void nacct_totals_derive(struct nacct_totals *t);

/* status table rows: packets and bytes of one bucket, per direction */
enum nacct_trow {
	NACCT_TROW_NONE = 0,
	NACCT_TROW_TOTAL,
	NACCT_TROW_FLOWS,
	NACCT_TROW_OVERFLOW,
	NACCT_TROW_MALFORMED,
	NACCT_TROW_NONIP,
	NACCT_TROW_EXPIRED,
};

/* total_field.out */
enum {
	NACCT_TOUT_STATUS = 1 << 0, /* status --json "totals" */
	NACCT_TOUT_PROM = 1 << 1,   /* a Prometheus family (prom) */
	NACCT_TOUT_IPFIX = 1 << 2,  /* the IPFIX options record (ie) */
};

struct nacct_total_field {
	const char *name;   /* status --json key (rx_/tx_ prefixed with per-direction) */
	unsigned int out;   /* NACCT_TOUT_* */
	const char *prom;   /* Prometheus family ("" none) */
	const char *help;
	const char *unit;   /* packets, bytes, ... */
	__u16 off;          /* in struct nacct_totals */
	__u8 per_dir;       /* a [NACCT_DIR_MAX] array: JSON adds rx_NAME and tx_NAME */
	__u8 json_split;    /* per_dir fields: also rx_/tx_ keys in status --json */
	enum nacct_trow row;/* status table row (packets or bytes column by unit) */
	const char *ie;     /* IPFIX options record element ("" none) */
	__u16 ie_id;
	__u8 need_flows;    /* derived from the flow map */
};

extern const struct nacct_total_field nacct_total_fields[];
extern const size_t nacct_total_nfields;
extern const char *const nacct_trow_labels[];

/* a total of one direction (dir < NACCT_DIR_MAX) or both (NACCT_FD_BOTH) */
__u64 nacct_total_get(const struct nacct_total_field *f, const struct nacct_totals *t, int dir);

/* malformed reasons by index: status, Prometheus */
extern const char *const nacct_malformed_names[NACCT_MAL_MAX];

#endif /* NACCT_FIELDS_H */
