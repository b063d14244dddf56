// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* IPFIX messages with libfixbuf: templates, records, one message at a time. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fixbuf/public.h>

#include "ipfix.h"
#include "../lib/log.h"
#include "../maps/nacct.h"
#include "../lib/fields.h"
#include "../lib/names.h"

/*
 * The templates, generated from the record tables: one spec array per
 * template (the internal and the external template are the same), and
 * records packed in that order with host-order integers (libfixbuf
 * writes them in network order).
 */
#define MAX_SPEC 64
static fbInfoElementSpec_t spec_flow4[MAX_SPEC], spec_flow6[MAX_SPEC], spec_stats[MAX_SPEC];
/* the flow fields with an element, in template order */
static const struct nacct_field *ie_fields[MAX_SPEC];
static size_t n_ie_fields;

static void specs_init(void)
{
	fbInfoElementSpec_t *s4 = spec_flow4, *s6 = spec_flow6, *st = spec_stats;
	size_t i;

	if (s4->name)
		return;
	for (i = 0; i < nacct_flow_nfields; i++) {
		const struct nacct_field *f = &nacct_flow_fields[i];

		if (!f->ie)
			continue;
		ie_fields[n_ie_fields++] = f;
		if (f->kind == NACCT_FK_ADDR && f->ie_pen) {
			/* nacct's address elements: 16 bytes in both (IPv4 mapped) */
			*s4++ = (fbInfoElementSpec_t){ (char *)f->ie, 16, 0 };
			*s6++ = (fbInfoElementSpec_t){ (char *)f->ie, 16, 0 };
			continue;
		}
		*s4++ = (fbInfoElementSpec_t){ (char *)f->ie, f->kind == NACCT_FK_ADDR ? 4 : f->ie_len, 0 };
		*s6++ = (fbInfoElementSpec_t){ (char *)(f->ie6 ? f->ie6 : f->ie),
					       f->kind == NACCT_FK_ADDR ? 16 : f->ie_len, 0 };
	}
	*st++ = (fbInfoElementSpec_t){ "ingressInterface", 4, 0 };
	*st++ = (fbInfoElementSpec_t){ "flowDirection", 1, 0 };
	*st++ = (fbInfoElementSpec_t){ "observationTimeMilliseconds", 8, 0 };
	for (i = 0; i < nacct_total_nfields; i++)
		if (nacct_total_fields[i].out & NACCT_TOUT_IPFIX)
			*st++ = (fbInfoElementSpec_t){ (char *)nacct_total_fields[i].ie, 8, 0 };
}

/*
 * Elements of the tables that libfixbuf's model lacks (flowDirection is
 * missing from some versions; enterprise elements from all), added from
 * the table's id, pen and length: unsigned integers.
 */
static void model_add(fbInfoModel_t *model, const char *name, __u16 id, __u32 pen, __u8 len)
{
	static fbInfoElement_t extra[MAX_SPEC];
	static size_t n;
	static const int types[] = { 0, FB_UINT_8, FB_UINT_16, 0, FB_UINT_32, 0, 0, 0, FB_UINT_64 };
	fbInfoElement_t e = FB_IE_INIT_FULL(NULL, 0, 0, 0, FB_IE_F_ENDIAN, 0, 0, FB_UINT_64, NULL);

	if (fbInfoModelGetElementByName(model, name) || n >= MAX_SPEC ||
	    (len != 16 && (len > 8 || !types[len])))
		return;
	e.ref.name = name;
	e.num = id;
	e.ent = pen;
	e.len = len;
	/* 16 bytes: an address (ipv6Address; IPv4 mapped) */
	e.type = len == 16 ? FB_IP6_ADDR : types[len];
	if (len == 16)
		e.flags = 0;
	extra[n] = e;
	fbInfoModelAddElement(model, &extra[n++]);
}

static void model_complete(fbInfoModel_t *model)
{
	size_t i;

	for (i = 0; i < nacct_flow_nfields; i++) {
		const struct nacct_field *f = &nacct_flow_fields[i];

		if (f->ie && (f->kind != NACCT_FK_ADDR || f->ie_pen))
			model_add(model, f->ie, f->ie_id, f->ie_pen, f->ie_len);
	}
	for (i = 0; i < nacct_total_nfields; i++)
		if (nacct_total_fields[i].out & NACCT_TOUT_IPFIX)
			model_add(model, nacct_total_fields[i].ie, nacct_total_fields[i].ie_id, 0, 8);
	model_add(model, "flowDirection", 61, 0, 1);
}

/* a host-order integer of len bytes */
static uint8_t *put_uint(uint8_t *p, __u64 v, size_t len)
{
	uint8_t b1 = v;
	uint16_t b2 = v;
	uint32_t b4 = v;

	switch (len) {
	case 1: memcpy(p, &b1, 1); break;
	case 2: memcpy(p, &b2, 2); break;
	case 4: memcpy(p, &b4, 4); break;
	default: memcpy(p, &v, 8); break;
	}
	return p + len;
}

struct nacct_ipfix {
	fbInfoModel_t *model;
	fbSession_t *session;
	fbExporter_t *exporter;
	fBuf_t *fbuf;
	uint8_t *buf;
	size_t mtu;
	unsigned int records; /* data records in the message being built */
	int has_content;      /* records or templates */
	uint16_t cur_tid;
};

static void log_gerr(const char *what, GError *err)
{
	pr_warn("ipfix: %s: %s\n", what, err ? err->message : "unknown error");
	g_clear_error(&err);
}

static int add_template(struct nacct_ipfix *ix, fbInfoElementSpec_t *spec, uint16_t tid,
			int scope)
{
	GError *err = NULL;
	fbTemplate_t *tmpl;

	/* one template object each for the internal and the external side */
	for (int ext = 0; ext < 2; ext++) {
		tmpl = fbTemplateAlloc(ix->model);
		if (!fbTemplateAppendSpecArray(tmpl, spec, 0, &err)) {
			fbTemplateFreeUnused(tmpl);
			log_gerr("template", err);
			return -EINVAL;
		}
		if (scope)
			fbTemplateSetOptionsScope(tmpl, scope);
		if (!fbSessionAddTemplate(ix->session, !ext, tid, tmpl, &err)) {
			fbTemplateFreeUnused(tmpl);
			log_gerr("add template", err);
			return -EINVAL;
		}
	}
	return 0;
}

int nacct_ipfix_open(struct nacct_ipfix **out, __u32 domain, size_t mtu)
{
	struct nacct_ipfix *ix;
	int err = -ENOMEM;

	if (mtu > UINT16_MAX)
		mtu = UINT16_MAX;
	ix = calloc(1, sizeof(*ix));
	if (!ix)
		return -ENOMEM;
	ix->mtu = mtu;
	ix->buf = malloc(mtu);
	if (!ix->buf)
		goto fail;
	ix->model = fbInfoModelAlloc();
	specs_init();
	model_complete(ix->model);
	ix->session = fbSessionAlloc(ix->model);
	fbSessionSetDomain(ix->session, domain);
	/* templates before the buffer exists: nothing is written yet, the
	 * exporter decides when templates go out (connect, refresh) */
	err = add_template(ix, spec_flow4, NACCT_IPFIX_TID_FLOW4, 0);
	if (!err)
		err = add_template(ix, spec_flow6, NACCT_IPFIX_TID_FLOW6, 0);
	if (!err)
		err = add_template(ix, spec_stats, NACCT_IPFIX_TID_STATS, 2);
	if (err)
		goto fail;
	ix->exporter = fbExporterAllocBuffer(ix->buf, (uint16_t)mtu);
	ix->fbuf = fBufAllocForExport(ix->session, ix->exporter);
	/* manual mode: a full message returns FB_ERROR_EOM instead of being
	 * emitted behind our back (we must see and journal every message) */
	fBufSetAutomaticMode(ix->fbuf, FALSE);
	*out = ix;
	return 0;
fail:
	nacct_ipfix_close(ix);
	return err;
}

void nacct_ipfix_close(struct nacct_ipfix *ix)
{
	if (!ix)
		return;
	if (ix->fbuf)
		fBufFree(ix->fbuf); /* frees the session and the exporter */
	else if (ix->session)
		fbSessionFree(ix->session);
	if (ix->model)
		fbInfoModelFree(ix->model);
	free(ix->buf);
	free(ix);
}

/* start a new message in the buffer (an empty one is never sent) */
static void restart(struct nacct_ipfix *ix)
{
	GError *err = NULL;

	if (!fBufEmit(ix->fbuf, &err))
		g_clear_error(&err);
	ix->cur_tid = 0;
}

static int append(struct nacct_ipfix *ix, uint16_t tid, void *rec, size_t len)
{
	GError *err = NULL;

	if (ix->cur_tid != tid) {
		if (!fBufSetInternalTemplate(ix->fbuf, tid, &err) ||
		    !fBufSetExportTemplate(ix->fbuf, tid, &err))
			goto fail;
		ix->cur_tid = tid;
	}
	if (!fBufAppend(ix->fbuf, rec, len, &err)) {
		/* a fresh fBuf in manual mode has no message started yet and
		 * answers EOM: start one (nothing is sent) and try again */
		if (!ix->has_content && g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOM)) {
			g_clear_error(&err);
			restart(ix);
			if (fBufAppend(ix->fbuf, rec, len, &err))
				goto ok;
		}
		goto fail;
	}
ok:
	ix->records++;
	ix->has_content = 1;
	return 0;
fail:
	if (g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOM)) {
		g_clear_error(&err);
		return -ENOSPC;
	}
	log_gerr("append", err);
	return -EIO;
}

int nacct_ipfix_add_templates(struct nacct_ipfix *ix)
{
	GError *err = NULL;

	if (!fbSessionExportTemplates(ix->session, &err) && !ix->has_content &&
	    g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOM)) {
		g_clear_error(&err);
		restart(ix);
		fbSessionExportTemplates(ix->session, &err);
	}
	if (err) {
		if (g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOM)) {
			g_clear_error(&err);
			return -ENOSPC;
		}
		log_gerr("export templates", err);
		return -EIO;
	}
	ix->has_content = 1;
	return 0;
}

int nacct_ipfix_add_flow(struct nacct_ipfix *ix, const struct nacct_rec *r)
{
	uint8_t rec[512], *p = rec;
	struct nacct_fval v;
	char buf[64];
	size_t i;
	int v6 = r->key.family == NACCT_AF_INET6;

	for (i = 0; i < n_ie_fields; i++) {
		const struct nacct_field *f = ie_fields[i];

		nacct_field_get(f, r, &v, buf, sizeof(buf));
		if (f->kind == NACCT_FK_ADDR && f->ie_pen) {
			if (v.null || !v.a)
				memset(p, 0, 16);
			else
				memcpy(p, v.a, 16);
			p += 16;
		} else if (f->kind == NACCT_FK_ADDR && v6) {
			memcpy(p, v.a, 16);
			p += 16;
		} else if (f->kind == NACCT_FK_ADDR) {
			uint32_t a;

			/* libfixbuf takes IPv4 addresses as host-order integers */
			memcpy(&a, v.a + 12, 4);
			p = put_uint(p, ntohl(a), 4);
		} else if (f->kind == NACCT_FK_TIME) {
			p = put_uint(p, nacct_mono_to_wall(v.u) / 1000000ULL, f->ie_len);
		} else {
			p = put_uint(p, v.null ? 0 : v.u, f->ie_len);
		}
	}
	return append(ix, v6 ? NACCT_IPFIX_TID_FLOW6 : NACCT_IPFIX_TID_FLOW4, rec, p - rec);
}

int nacct_ipfix_add_stats(struct nacct_ipfix *ix, const struct nacct_totals *t, __u32 ifindex,
			  int dir, __u64 obs_ms)
{
	uint8_t rec[256], *p = rec;
	size_t i;

	p = put_uint(p, ifindex, 4);
	p = put_uint(p, dir, 1);
	p = put_uint(p, obs_ms, 8);
	for (i = 0; i < nacct_total_nfields; i++)
		if (nacct_total_fields[i].out & NACCT_TOUT_IPFIX)
			p = put_uint(p, nacct_total_get(&nacct_total_fields[i], t, dir), 8);
	return append(ix, NACCT_IPFIX_TID_STATS, rec, p - rec);
}

unsigned int nacct_ipfix_records(const struct nacct_ipfix *ix)
{
	return ix->records;
}

int nacct_ipfix_emit(struct nacct_ipfix *ix, __u32 seq, const __u8 **buf, size_t *len)
{
	GError *err = NULL;
	__u32 be = htonl(seq);
	size_t n;

	*len = 0;
	*buf = ix->buf;
	if (!ix->has_content)
		return 0;
	if (!fBufEmit(ix->fbuf, &err)) {
		log_gerr("emit", err);
		return -EIO;
	}
	n = fbExporterGetMsgLen(ix->exporter);
	ix->records = 0;
	ix->has_content = 0;
	ix->cur_tid = 0; /* a new message starts a new set */
	if (n < 16)
		return 0;
	/* header: version, length, export time, sequence number, domain */
	memcpy(ix->buf + 8, &be, 4);
	*len = n;
	return 0;
}
