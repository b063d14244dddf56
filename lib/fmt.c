// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "fmt.h"
#include "names.h"

int nacct_fmt_has(const struct nacct_fmt *fm, const struct nacct_field *f)
{
	if (!(f->out & (fm->out | (fm->kind == NACCT_FMT_TABLE ? NACCT_OUT_TABLE : 0))))
		return 0;
	if (fm->kind == NACCT_FMT_TABLE)
		return f->col && (fm->side || f->src != NACCT_FS_SIDE);
	return 1;
}

/*
 * A value as text, straight into the buffer (a million records: no
 * printf on this path).  JSON quotes text kinds; CSV quotes text that
 * needs it; TSV escapes it; the table shows times as the time of day.
 */
static void put_value(struct nacct_obuf *o, const struct nacct_field *f, const struct nacct_rec *r,
		      const struct nacct_fval *v, enum nacct_fmt_kind kind)
{
	char tb[64];
	int q = kind == NACCT_FMT_JSON;

	switch (f->kind) {
	case NACCT_FK_U64:
		nacct_obuf_u64(o, v->u);
		return;
	case NACCT_FK_MILLI:
		nacct_obuf_milli(o, v->u);
		return;
	case NACCT_FK_BOOL:
		if (kind == NACCT_FMT_TSV)
			nacct_obuf_chr(o, v->u ? '1' : '0');
		else
			nacct_obuf_str(o, v->u ? "true" : "false");
		return;
	case NACCT_FK_JSON:
		if (kind == NACCT_FMT_TSV || kind == NACCT_FMT_CSV) {
			/* nested JSON in one cell: its text, quoted or escaped */
			struct nacct_obuf j = { 0 };

			f->json(r, &j);
			if (kind == NACCT_FMT_TSV)
				nacct_obuf_tsv_str(o, j.p ? j.p : "");
			else
				nacct_obuf_csv_str(o, j.p ? j.p : "");
			nacct_obuf_free(&j);
		} else {
			f->json(r, o);
		}
		return;
	case NACCT_FK_STR:
		if (q)
			nacct_obuf_json_str(o, v->s ? v->s : "");
		else if (kind == NACCT_FMT_CSV)
			nacct_obuf_csv_str(o, v->s ? v->s : "");
		else if (kind == NACCT_FMT_TSV)
			nacct_obuf_tsv_str(o, v->s ? v->s : "");
		else
			nacct_obuf_str(o, v->s ? v->s : "");
		return;
	default:
		break;
	}
	/* addresses, times and flags: no character that needs an escape */
	if (q)
		nacct_obuf_chr(o, '"');
	switch (f->kind) {
	case NACCT_FK_ADDR:
		if (v->family == NACCT_AF_INET)
			nacct_obuf_ip4(o, v->a + 12);
		else
			nacct_obuf_str(o, nacct_addr_str(v->a, v->family, tb, sizeof(tb)));
		break;
	case NACCT_FK_TIME:
		nacct_rfc3339(nacct_mono_to_wall(v->u), tb, sizeof(tb));
		/* TSV: a ClickHouse DateTime, YYYY-MM-DD hh:mm:ss (UTC) */
		if (kind == NACCT_FMT_TSV) {
			if (strlen(tb) < 19)
				snprintf(tb, sizeof(tb), "0000-00-00T00:00:00");
			tb[10] = ' ';
			nacct_obuf_mem(o, tb, 19);
			break;
		}
		/* the table shows the time of day: HH:MM:SS.mmm */
		if (kind == NACCT_FMT_TABLE && tb[0])
			nacct_obuf_mem(o, tb + 11, 12);
		else
			nacct_obuf_str(o, tb);
		break;
	case NACCT_FK_FLAGS:
		nacct_obuf_str(o, nacct_tcp_flags_str((__u8)v->u, tb, sizeof(tb)));
		break;
	default:
		break;
	}
	if (q)
		nacct_obuf_chr(o, '"');
}

void nacct_fmt_json_value(struct nacct_obuf *o, const struct nacct_field *f,
			  const struct nacct_rec *r)
{
	struct nacct_fval v;
	char buf[64];

	nacct_field_get(f, r, &v, buf, sizeof(buf));
	if (v.null)
		nacct_obuf_str(o, "null");
	else
		put_value(o, f, r, &v, NACCT_FMT_JSON);
}

void nacct_fmt_header(struct nacct_obuf *o, const struct nacct_fmt *fm)
{
	size_t i;
	int n = 0;

	if (fm->kind == NACCT_FMT_JSON)
		return;
	for (i = 0; i < nacct_flow_nfields; i++) {
		const struct nacct_field *f = &nacct_flow_fields[i];

		if (!nacct_fmt_has(fm, f))
			continue;
		if (fm->kind == NACCT_FMT_CSV || fm->kind == NACCT_FMT_TSV) {
			if (n++)
				nacct_obuf_chr(o, fm->kind == NACCT_FMT_CSV ? ',' : '\t');
			nacct_obuf_str(o, f->name);
			continue;
		}
		if (n++)
			nacct_obuf_str(o, f->tsep ? "   " + (3 - strlen(f->tsep)) : " ");
		nacct_obuf_pad(o, f->col, f->width);
	}
	nacct_obuf_chr(o, '\n');
}

/* the table: a value padded to its column */
static void put_cell(struct nacct_obuf *o, const struct nacct_field *f, const struct nacct_rec *r,
		     const struct nacct_fval *v)
{
	struct nacct_obuf cell = { 0 };

	if (!v->null)
		put_value(&cell, f, r, v, NACCT_FMT_TABLE);
	nacct_obuf_pad(o, cell.p && cell.p[0] ? cell.p : "-", f->width);
	nacct_obuf_free(&cell);
}

/* ,"name": of every field, made once: a million records spell them */
static struct {
	char s[40];
	size_t len;
} g_keys[128];

static void json_keys_init(void)
{
	size_t i;

	for (i = 0; i < nacct_flow_nfields && i < sizeof(g_keys) / sizeof(g_keys[0]); i++) {
		int n = snprintf(g_keys[i].s, sizeof(g_keys[i].s), ",\"%s\":", nacct_flow_fields[i].name);

		g_keys[i].len = n > 0 && (size_t)n < sizeof(g_keys[i].s) ? (size_t)n : 0;
	}
}

static const char *json_key(size_t i, size_t *len)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	static __thread char slow[64];

	if (i >= sizeof(g_keys) / sizeof(g_keys[0])) {
		int n = snprintf(slow, sizeof(slow), ",\"%s\":", nacct_flow_fields[i].name);

		*len = n > 0 && (size_t)n < sizeof(slow) ? (size_t)n : 0;
		return slow;
	}
	pthread_once(&once, json_keys_init);
	*len = g_keys[i].len;
	return g_keys[i].s;
}

void nacct_fmt_rec(struct nacct_obuf *o, const struct nacct_fmt *fm, const struct nacct_rec *r)
{
	struct nacct_fval v;
	char buf[64];
	size_t i;
	int n = 0;

	if (fm->kind == NACCT_FMT_JSON)
		nacct_obuf_chr(o, '{');
	for (i = 0; i < nacct_flow_nfields; i++) {
		const struct nacct_field *f = &nacct_flow_fields[i];

		if (!nacct_fmt_has(fm, f))
			continue;
		nacct_field_get(f, r, &v, buf, sizeof(buf));
		switch (fm->kind) {
		case NACCT_FMT_JSON: {
			size_t kl;
			const char *k = json_key(i, &kl);

			/* the first key without its comma */
			if (n++)
				nacct_obuf_mem(o, k, kl);
			else
				nacct_obuf_mem(o, k + 1, kl - 1);
			if (v.null)
				nacct_obuf_mem(o, "null", 4);
			else
				put_value(o, f, r, &v, NACCT_FMT_JSON);
			break;
		}
		case NACCT_FMT_CSV:
			if (n++)
				nacct_obuf_chr(o, ',');
			if (!v.null)
				put_value(o, f, r, &v, NACCT_FMT_CSV);
			break;
		case NACCT_FMT_TSV:
			if (n++)
				nacct_obuf_chr(o, '\t');
			if (v.null)
				nacct_obuf_mem(o, "\\N", 2);
			else
				put_value(o, f, r, &v, NACCT_FMT_TSV);
			break;
		default:
			if (n++)
				nacct_obuf_str(o, f->tsep ? f->tsep : " ");
			put_cell(o, f, r, &v);
		}
	}
	nacct_obuf_str(o, fm->kind == NACCT_FMT_JSON ? "}\n" : "\n");
}
