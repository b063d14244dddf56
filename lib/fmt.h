/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Records as text, generated from the field table (lib/fields.c): a
 * JSON object per line, CSV with a header line, TabSeparated rows (the
 * ClickHouse sink), or an aligned table.
 * The same field list makes all three, so `flows --csv`'s header,
 * `flows --json`'s keys and the flow part of `export --json`'s keys are
 * one list.
 */
#ifndef NACCT_FMT_H
#define NACCT_FMT_H

#include "fields.h"
#include "obuf.h"

enum nacct_fmt_kind {
	NACCT_FMT_TABLE = 0,
	NACCT_FMT_JSON,
	NACCT_FMT_CSV,
	NACCT_FMT_TSV, /* ClickHouse TabSeparated: \N for null, DateTime text, escapes */
};

struct nacct_fmt {
	enum nacct_fmt_kind kind;
	unsigned int out; /* the fields of these outputs (NACCT_OUT_*) */
	int side;         /* table: the side programs' columns */
};

/* does field @f belong in this output */
int nacct_fmt_has(const struct nacct_fmt *fm, const struct nacct_field *f);
/* CSV, TSV: the header line; table: the column titles; JSON: nothing */
void nacct_fmt_header(struct nacct_obuf *o, const struct nacct_fmt *fm);
/* one record, with its line end */
void nacct_fmt_rec(struct nacct_obuf *o, const struct nacct_fmt *fm, const struct nacct_rec *r);
/* one value as JSON (null, number, string, object) */
void nacct_fmt_json_value(struct nacct_obuf *o, const struct nacct_field *f,
			  const struct nacct_rec *r);

#endif /* NACCT_FMT_H */
