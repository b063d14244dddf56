// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* IPFIX messages with libfixbuf: templates, records, one message at a time. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fixbuf/public.h>

#include "ipfix.h"
#include "log.h"
#include "../maps/nacct.h"

/* the internal templates: these packed structs are the record layouts */
struct rec_flow4 {
	uint64_t start, end, octets, packets;
	uint32_t src, dst, in_if, out_if;
	uint16_t sport, dport, vlan;
	uint8_t flags, proto, dir;
} __attribute__((packed));

struct rec_flow6 {
	uint64_t start, end, octets, packets;
	uint8_t src[16], dst[16];
	uint32_t in_if, out_if;
	uint16_t sport, dport, vlan;
	uint8_t flags, proto, dir;
} __attribute__((packed));

struct rec_stats {
	uint32_t ifindex; /* scope */
	uint8_t dir;      /* scope */
	uint64_t obs, packets, octets, ns_packets, ns_octets, ig_packets, ig_octets;
} __attribute__((packed));

#define SPEC_FLOW(src, dst, alen)                                                         \
	{ "flowStartMilliseconds", 8, 0 }, { "flowEndMilliseconds", 8, 0 },           \
	{ "octetDeltaCount", 8, 0 }, { "packetDeltaCount", 8, 0 }, { src, alen, 0 },  \
	{ dst, alen, 0 }, { "ingressInterface", 4, 0 }, { "egressInterface", 4, 0 }, \
	{ "sourceTransportPort", 2, 0 }, { "destinationTransportPort", 2, 0 },        \
	{ "vlanId", 2, 0 }, { "tcpControlBits", 1, 0 },                               \
	{ "protocolIdentifier", 1, 0 }, { "flowDirection", 1, 0 }, FB_IESPEC_NULL

static fbInfoElementSpec_t spec_flow4[] = { SPEC_FLOW("sourceIPv4Address",
						      "destinationIPv4Address", 4) };
static fbInfoElementSpec_t spec_flow6[] = { SPEC_FLOW("sourceIPv6Address",
						      "destinationIPv6Address", 16) };
static fbInfoElementSpec_t spec_stats[] = {
	{ "ingressInterface", 4, 0 },
	{ "flowDirection", 1, 0 },
	{ "observationTimeMilliseconds", 8, 0 },
	{ "packetTotalCount", 8, 0 },
	{ "octetTotalCount", 8, 0 },
	{ "notSentPacketTotalCount", 8, 0 },
	{ "notSentOctetTotalCount", 8, 0 },
	{ "ignoredPacketTotalCount", 8, 0 },
	{ "ignoredOctetTotalCount", 8, 0 },
	FB_IESPEC_NULL,
};

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
	/* flowDirection (IANA 61) is missing from some libfixbuf models */
	static fbInfoElement_t flow_dir =
		FB_IE_INIT_FULL("flowDirection", 0, 61, 1, FB_IE_F_ENDIAN, 0, 1, FB_UINT_8, NULL);
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
	if (!fbInfoModelGetElementByName(ix->model, "flowDirection"))
		fbInfoModelAddElement(ix->model, &flow_dir);
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

int nacct_ipfix_add_flow(struct nacct_ipfix *ix, const struct nacct_ipfix_flow *f)
{
	if (f->family == NACCT_AF_INET) {
		struct rec_flow4 r = {
			.start = f->start_ms, .end = f->end_ms,
			.octets = f->octets, .packets = f->packets,
			.in_if = f->in_ifindex, .out_if = f->out_ifindex,
			.sport = f->sport, .dport = f->dport, .vlan = f->vlan,
			.flags = f->tcp_flags, .proto = f->proto, .dir = f->direction,
		};
		uint32_t a;

		/* libfixbuf takes IPv4 addresses as host-order integers */
		memcpy(&a, f->src + 12, 4);
		r.src = ntohl(a);
		memcpy(&a, f->dst + 12, 4);
		r.dst = ntohl(a);
		return append(ix, NACCT_IPFIX_TID_FLOW4, &r, sizeof(r));
	} else {
		struct rec_flow6 r = {
			.start = f->start_ms, .end = f->end_ms,
			.octets = f->octets, .packets = f->packets,
			.in_if = f->in_ifindex, .out_if = f->out_ifindex,
			.sport = f->sport, .dport = f->dport, .vlan = f->vlan,
			.flags = f->tcp_flags, .proto = f->proto, .dir = f->direction,
		};

		memcpy(r.src, f->src, 16);
		memcpy(r.dst, f->dst, 16);
		return append(ix, NACCT_IPFIX_TID_FLOW6, &r, sizeof(r));
	}
}

int nacct_ipfix_add_stats(struct nacct_ipfix *ix, const struct nacct_ipfix_stats *s)
{
	struct rec_stats r = {
		.ifindex = s->ifindex, .dir = s->direction, .obs = s->obs_ms,
		.packets = s->packets, .octets = s->octets,
		.ns_packets = s->overflow_packets, .ns_octets = s->overflow_octets,
		.ig_packets = s->ignored_packets, .ig_octets = s->ignored_octets,
	};

	return append(ix, NACCT_IPFIX_TID_STATS, &r, sizeof(r));
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
