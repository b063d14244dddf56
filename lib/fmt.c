// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>

#include "fmt.h"
#include "names.h"

int nacct_fmt_has(const struct nacct_fmt *fm, const struct nacct_field *f)
{
	if (!(f->out & fm->out))
		return 0;
	if (fm->kind == NACCT_FMT_TABLE)
		return f->col && (fm->side || f->src != NACCT_FS_SIDE);
	return 1;
}

/* a value as text (not JSON-kind fields); NULL for null */
static const char *text(const struct nacct_field *f, const struct nacct_fval *v, int table,
			char *buf, size_t len)
{
	char tb[40];

	if (v->null)
		return NULL;
	switch (f->kind) {
	case NACCT_FK_STR:
	case NACCT_FK_ADDR:
		return v->s ? v->s : "";
	case NACCT_FK_TIME:
		nacct_rfc3339(nacct_mono_to_wall(v->u), tb, sizeof(tb));
		/* the table shows the time of day: HH:MM:SS.mmm */
		snprintf(buf, len, "%s", table && tb[0] ? tb + 11 : tb);
		if (table && buf[0])
			buf[12] = '\0';
		return buf;
	case NACCT_FK_FLAGS:
		return nacct_tcp_flags_str((__u8)v->u, buf, len);
	case NACCT_FK_F64:
		snprintf(buf, len, "%.3f", v->f);
		return buf;
	case NACCT_FK_BOOL:
		return v->u ? "true" : "false";
	default:
		snprintf(buf, len, "%llu", (unsigned long long)v->u);
		return buf;
	}
}

void nacct_fmt_json_value(struct nacct_obuf *o, const struct nacct_field *f,
			  const struct nacct_rec *r)
{
	struct nacct_fval v;
	char buf[64], tb[64];
	const char *t;

	nacct_field_get(f, r, &v, buf, sizeof(buf));
	if (v.null) {
		nacct_obuf_str(o, "null");
		return;
	}
	switch (f->kind) {
	case NACCT_FK_U64:
		nacct_obuf_u64(o, v.u);
		return;
	case NACCT_FK_JSON:
		f->json(r, o);
		return;
	case NACCT_FK_F64:
	case NACCT_FK_BOOL:
		nacct_obuf_str(o, text(f, &v, 0, tb, sizeof(tb)));
		return;
	case NACCT_FK_STR:
		nacct_obuf_json_str(o, v.s ? v.s : "");
		return;
	default:
		/* addresses, times and flags need no escapes */
		t = text(f, &v, 0, tb, sizeof(tb));
		nacct_obuf_chr(o, '"');
		nacct_obuf_str(o, t);
		nacct_obuf_chr(o, '"');
	}
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
		if (fm->kind == NACCT_FMT_CSV) {
			if (n++)
				nacct_obuf_chr(o, ',');
			nacct_obuf_str(o, f->name);
			continue;
		}
		if (n++)
			nacct_obuf_str(o, f->tsep ? "   " + (3 - strlen(f->tsep)) : " ");
		nacct_obuf_pad(o, f->col, f->width);
	}
	nacct_obuf_chr(o, '\n');
}

void nacct_fmt_rec(struct nacct_obuf *o, const struct nacct_fmt *fm, const struct nacct_rec *r)
{
	struct nacct_fval v;
	char buf[64], tb[64];
	size_t i;
	int n = 0;

	if (fm->kind == NACCT_FMT_JSON)
		nacct_obuf_chr(o, '{');
	for (i = 0; i < nacct_flow_nfields; i++) {
		const struct nacct_field *f = &nacct_flow_fields[i];
		const char *t;

		if (!nacct_fmt_has(fm, f))
			continue;
		switch (fm->kind) {
		case NACCT_FMT_JSON:
			if (n++)
				nacct_obuf_chr(o, ',');
			nacct_obuf_chr(o, '"');
			nacct_obuf_str(o, f->name);
			nacct_obuf_str(o, "\":");
			nacct_fmt_json_value(o, f, r);
			break;
		case NACCT_FMT_CSV:
			if (n++)
				nacct_obuf_chr(o, ',');
			if (f->kind == NACCT_FK_JSON) {
				struct nacct_obuf j = { 0 };

				nacct_fmt_json_value(&j, f, r);
				nacct_field_get(f, r, &v, buf, sizeof(buf));
				if (!v.null && !j.err && j.p)
					nacct_obuf_csv_str(o, j.p);
				nacct_obuf_free(&j);
				break;
			}
			nacct_field_get(f, r, &v, buf, sizeof(buf));
			t = text(f, &v, 0, tb, sizeof(tb));
			if (t && (f->kind == NACCT_FK_STR))
				nacct_obuf_csv_str(o, t);
			else if (t)
				nacct_obuf_str(o, t);
			break;
		default:
			if (n++)
				nacct_obuf_str(o, f->tsep ? f->tsep : " ");
			nacct_field_get(f, r, &v, buf, sizeof(buf));
			t = text(f, &v, 1, tb, sizeof(tb));
			nacct_obuf_pad(o, t && *t ? t : "-", f->width);
		}
	}
	nacct_obuf_str(o, fm->kind == NACCT_FMT_JSON ? "}\n" : "\n");
}
