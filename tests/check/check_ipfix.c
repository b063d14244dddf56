// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * IPFIX: records encoded by ctl/ipfix.c, decoded by libfixbuf's collector
 * side (fbCollectorAllocFP on the bytes) with templates of our own, field
 * by field; then the exporter core with the IPFIX sink over a socket,
 * whose messages decode to the interface totals with sequence numbers
 * that count the data records.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <fixbuf/public.h>

#include "check.h"
#include "memstore.h"
#include "../../ctl/ipfix.h"
#include "../../ctl/sink.h"
#include "../../lib/names.h"
#include "../../lib/side.h"

/* the decoder's own view of the records (packed, as libfixbuf lays them out) */
struct dflow {
	uint8_t dir, ver, proto;
	uint8_t sa[16], da[16];
	uint16_t sp, dp, vlan, flags;
	uint64_t pk, by, start, end;
	uint32_t in_if, out_if;
	uint64_t l2seg;
	uint8_t ttype;
	uint32_t tunid;
	uint8_t osa[16], oda[16];
	uint16_t inner_type;
	uint64_t retrans, drops;
	uint16_t dreason;
	uint8_t tstate;
	uint32_t srtt;
	uint64_t connlat;
	uint16_t tid;
};

struct dstat {
	uint32_t in_if;
	uint8_t dir;
	uint64_t obs, pk, by, ns_pk, ns_by, ig_pk, ig_by;
};

struct decoded {
	struct dflow f[256];
	size_t nf;
	struct dstat s[64];
	size_t ns;
	uint32_t seq[256], domain[256], set_ids[256];
	size_t nmsg;
	int err;
	char why[200];
};

#define S(n, l) { (char *)(n), (l), 0 }
static fbInfoElementSpec_t spec_v4[] = {
	S("flowDirection", 1), S("ipVersion", 1), S("protocolIdentifier", 1),
	S("sourceIPv4Address", 4), S("sourceTransportPort", 2),
	S("destinationIPv4Address", 4), S("destinationTransportPort", 2), S("vlanId", 2),
	S("packetDeltaCount", 8), S("octetDeltaCount", 8), S("tcpControlBits", 2),
	S("flowStartMilliseconds", 8), S("flowEndMilliseconds", 8), S("ingressInterface", 4),
	S("egressInterface", 4), S("layer2SegmentId", 8), S("nacctTunnelType", 1),
	S("nacctTunnelId", 4), S("nacctOuterSourceAddress", 16),
	S("nacctOuterDestinationAddress", 16), S("nacctInnerEthertype", 2),
	S("nacctTcpRetransmits", 8), S("nacctDrops", 8), S("nacctDropReason", 2),
	S("nacctTcpState", 1), S("nacctTcpSrttMicroseconds", 4),
	S("nacctTcpConnectLatencyNanoseconds", 8), FB_IESPEC_NULL
};
static fbInfoElementSpec_t spec_v6[] = {
	S("flowDirection", 1), S("ipVersion", 1), S("protocolIdentifier", 1),
	S("sourceIPv6Address", 16), S("sourceTransportPort", 2),
	S("destinationIPv6Address", 16), S("destinationTransportPort", 2), S("vlanId", 2),
	S("packetDeltaCount", 8), S("octetDeltaCount", 8), S("tcpControlBits", 2),
	S("flowStartMilliseconds", 8), S("flowEndMilliseconds", 8), S("ingressInterface", 4),
	S("egressInterface", 4), S("layer2SegmentId", 8), S("nacctTunnelType", 1),
	S("nacctTunnelId", 4), S("nacctOuterSourceAddress", 16),
	S("nacctOuterDestinationAddress", 16), S("nacctInnerEthertype", 2),
	S("nacctTcpRetransmits", 8), S("nacctDrops", 8), S("nacctDropReason", 2),
	S("nacctTcpState", 1), S("nacctTcpSrttMicroseconds", 4),
	S("nacctTcpConnectLatencyNanoseconds", 8), FB_IESPEC_NULL
};
static fbInfoElementSpec_t spec_st[] = {
	S("ingressInterface", 4), S("flowDirection", 1), S("observationTimeMilliseconds", 8),
	S("packetTotalCount", 8), S("octetTotalCount", 8), S("notSentPacketTotalCount", 8),
	S("notSentOctetTotalCount", 8), S("ignoredPacketTotalCount", 8),
	S("ignoredOctetTotalCount", 8), FB_IESPEC_NULL
};

#define GET(p, v) (memcpy(&(v), p, sizeof(v)), p += sizeof(v))

static void unpack_flow(const uint8_t *p, int v6, struct dflow *f)
{
	uint32_t a;

	memset(f, 0, sizeof(*f));
	GET(p, f->dir);
	GET(p, f->ver);
	GET(p, f->proto);
	if (v6) {
		GET(p, f->sa);
	} else {
		GET(p, a); /* host order */
		a = htonl(a);
		memcpy(f->sa, &a, 4);
	}
	GET(p, f->sp);
	if (v6) {
		GET(p, f->da);
	} else {
		GET(p, a);
		a = htonl(a);
		memcpy(f->da, &a, 4);
	}
	GET(p, f->dp);
	GET(p, f->vlan);
	GET(p, f->pk);
	GET(p, f->by);
	GET(p, f->flags);
	GET(p, f->start);
	GET(p, f->end);
	GET(p, f->in_if);
	GET(p, f->out_if);
	GET(p, f->l2seg);
	GET(p, f->ttype);
	GET(p, f->tunid);
	GET(p, f->osa);
	GET(p, f->oda);
	GET(p, f->inner_type);
	GET(p, f->retrans);
	GET(p, f->drops);
	GET(p, f->dreason);
	GET(p, f->tstate);
	GET(p, f->srtt);
	GET(p, f->connlat);
}

static void unpack_stat(const uint8_t *p, struct dstat *s)
{
	GET(p, s->in_if);
	GET(p, s->dir);
	GET(p, s->obs);
	GET(p, s->pk);
	GET(p, s->by);
	GET(p, s->ns_pk);
	GET(p, s->ns_by);
	GET(p, s->ig_pk);
	GET(p, s->ig_by);
}

static int add_tmpl(fbSession_t *ses, fbInfoModel_t *m, fbInfoElementSpec_t *spec, uint16_t tid)
{
	GError *err = NULL;
	fbTemplate_t *t = fbTemplateAlloc(m);

	if (!fbTemplateAppendSpecArray(t, spec, 0, &err) ||
	    !fbSessionAddTemplate(ses, TRUE, tid, t, &err)) {
		t_note("decoder template %u: %s", tid, err ? err->message : "?");
		g_clear_error(&err);
		return -1;
	}
	return 0;
}

/*
 * flowDirection is missing from some libfixbuf models; nacct's enterprise
 * elements (README "Tunnels": PEN 32473, ids 1-5) as a collector would
 * define them from the README, not from nacct's table
 */
static void model_fill(fbInfoModel_t *m)
{
	static fbInfoElement_t dir = FB_IE_INIT_FULL("flowDirection", 0, 61, 1, FB_IE_F_ENDIAN, 0,
						     1, FB_UINT_8, NULL);
	static fbInfoElement_t ent[] = {
		FB_IE_INIT_FULL("nacctTunnelType", 32473, 1, 1, FB_IE_F_ENDIAN, 0, 0, FB_UINT_8,
				NULL),
		FB_IE_INIT_FULL("nacctTunnelId", 32473, 2, 4, FB_IE_F_ENDIAN, 0, 0, FB_UINT_32,
				NULL),
		FB_IE_INIT_FULL("nacctOuterSourceAddress", 32473, 3, 16, 0, 0, 0, FB_IP6_ADDR,
				NULL),
		FB_IE_INIT_FULL("nacctOuterDestinationAddress", 32473, 4, 16, 0, 0, 0,
				FB_IP6_ADDR, NULL),
		FB_IE_INIT_FULL("nacctInnerEthertype", 32473, 5, 2, FB_IE_F_ENDIAN, 0, 0,
				FB_UINT_16, NULL),
		/* README "IPFIX": the side programs' elements */
		FB_IE_INIT_FULL("nacctTcpRetransmits", 32473, 10, 8, FB_IE_F_ENDIAN, 0, 0,
				FB_UINT_64, NULL),
		FB_IE_INIT_FULL("nacctDrops", 32473, 11, 8, FB_IE_F_ENDIAN, 0, 0, FB_UINT_64, NULL),
		FB_IE_INIT_FULL("nacctDropReason", 32473, 12, 2, FB_IE_F_ENDIAN, 0, 0, FB_UINT_16,
				NULL),
		FB_IE_INIT_FULL("nacctTcpState", 32473, 13, 1, FB_IE_F_ENDIAN, 0, 0, FB_UINT_8,
				NULL),
		FB_IE_INIT_FULL("nacctTcpSrttMicroseconds", 32473, 14, 4, FB_IE_F_ENDIAN, 0, 0,
				FB_UINT_32, NULL),
		FB_IE_INIT_FULL("nacctTcpConnectLatencyNanoseconds", 32473, 15, 8,
				FB_IE_F_ENDIAN, 0, 0, FB_UINT_64, NULL),
	};
	size_t i;

	if (!fbInfoModelGetElementByName(m, "flowDirection"))
		fbInfoModelAddElement(m, &dir);
	for (i = 0; i < sizeof(ent) / sizeof(ent[0]); i++)
		fbInfoModelAddElement(m, &ent[i]);
}

/* every IPFIX message in buf (one after the other), decoded */
static void decode(const uint8_t *buf, size_t len, struct decoded *d)
{
	fbInfoModel_t *model = fbInfoModelAlloc();
	fbSession_t *ses;
	fbCollector_t *col;
	fBuf_t *fb;
	GError *err = NULL;
	FILE *fp;
	size_t off;

	memset(d, 0, sizeof(*d));
	/* the headers, by hand: version 10, length, export time, seq, domain */
	for (off = 0; off + 16 <= len && d->nmsg < 256;) {
		uint16_t ver, mlen, set;
		uint32_t seq, dom;

		memcpy(&ver, buf + off, 2);
		memcpy(&mlen, buf + off + 2, 2);
		memcpy(&seq, buf + off + 8, 4);
		memcpy(&dom, buf + off + 12, 4);
		memcpy(&set, buf + off + 16, 2);
		if (ntohs(ver) != 10 || ntohs(mlen) < 16) {
			d->err = 1;
			snprintf(d->why, sizeof(d->why), "message %zu: version %u length %u", d->nmsg,
				 ntohs(ver), ntohs(mlen));
			return;
		}
		d->seq[d->nmsg] = ntohl(seq);
		d->domain[d->nmsg] = ntohl(dom);
		d->set_ids[d->nmsg++] = ntohs(set);
		off += ntohs(mlen);
	}
	model_fill(model);
	ses = fbSessionAlloc(model);
	if (add_tmpl(ses, model, spec_v4, 1001) || add_tmpl(ses, model, spec_v6, 1002) ||
	    add_tmpl(ses, model, spec_st, 1003)) {
		d->err = 1;
		return;
	}
	fp = fmemopen((void *)buf, len, "r");
	col = fbCollectorAllocFP(NULL, fp);
	fb = fBufAllocForCollection(ses, col);
	for (;;) {
		uint8_t rec[256];
		size_t rlen = sizeof(rec);
		uint16_t ext = 0, tid;
		fbTemplate_t *t = fBufNextCollectionTemplate(fb, &ext, &err);

		if (!t)
			break;
		tid = ext == NACCT_IPFIX_TID_FLOW4 ? 1001 : ext == NACCT_IPFIX_TID_FLOW6 ? 1002 :
		      ext == NACCT_IPFIX_TID_STATS ? 1003 : 0;
		if (!tid || !fBufSetInternalTemplate(fb, tid, &err) ||
		    !fBufNext(fb, rec, &rlen, &err))
			break;
		if (tid == 1003 && d->ns < 64)
			unpack_stat(rec, &d->s[d->ns++]);
		else if (tid != 1003 && d->nf < 256) {
			unpack_flow(rec, tid == 1002, &d->f[d->nf]);
			d->f[d->nf++].tid = ext;
		}
	}
	if (err && !g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOF)) {
		d->err = 1;
		snprintf(d->why, sizeof(d->why), "libfixbuf: %s", err->message);
	}
	g_clear_error(&err);
	fBufFree(fb);
	fbInfoModelFree(model);
	fclose(fp);
}

/* ---- records encoded, decoded, compared ----------------------------------- */

static __u64 mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static const __u8 A6[16] = { 0x20, 0x01, 0x0d, 0xb8, [14] = 0xab, [15] = 0x01 };
static const __u8 B6[16] = { 0x20, 0x01, 0x0d, 0xb8, [13] = 0x77, [15] = 0x02 };

static void mkrec(struct nacct_rec *r, int v6, int dir, int src_hi, __u64 t0, int i)
{
	memset(r, 0, sizeof(*r));
	if (v6)
		ms_key6(&r->key, 6, A6, 443, B6, 51000 + i);
	else
		ms_key4(&r->key, 17, 0xc0000201, 53, 0xc6336402, 40000 + i);
	r->key.vlan = 100 + i;
	r->ifname = "veth7";
	r->ifindex = 7;
	r->dir = dir;
	r->src_hi = src_hi;
	r->val.packets[dir] = 1000 + i;
	r->val.bytes[dir] = 1500000ULL * (i + 1) + 12345;
	r->val.tcp_flags[dir] = v6 ? 0x1b : 0;
	r->val.first_seen = t_mid_ms(t0 - 5000000000ULL + i * 1000000ULL);
	r->val.last_seen = t_mid_ms(t0 - 1000000000ULL + i * 7000000ULL);
	r->final = i & 1;
	if (i == 2 || i == 6) {
		/* a VXLAN flow (VNI 4242) over 198.18.9.1 <-> 198.18.9.2; the
		 * key's lo goes through the outer hi (outer_dir 2) */
		static struct nacct_tun tun;

		t_vxlan_tun(&tun, 5 << 16);
		r->key.tunnel = tun.handle;
		r->tun = &tun;
		r->val.outer_dir = 2;
	}
	if (i == 3)
		r->val.inner_type = 0x0806;
	if (i == 5) {
		/* the side programs' record of the flow: a socket and two drop reasons */
		static struct nacct_probe_rec prec;
		static struct nacct_probe_drop drops[2];
		static struct nacct_probe_view pv;
		static struct nacct_side side;

		memset(&prec, 0, sizeof(prec));
		prec.key = r->key;
		prec.key.vlan = 0;
		prec.val.state[r->src_hi & 1] = 1; /* ESTABLISHED */
		prec.val.srtt_us[r->src_hi & 1] = 1234;
		prec.val.retrans[0] = 3;
		prec.val.retrans[1] = 2;
		prec.val.connect_ns[0] = 2500000;
		drops[0] = (struct nacct_probe_drop){ .key.flow = prec.key, .key.reason = 5,
						      .count = 1 };
		drops[1] = (struct nacct_probe_drop){ .key.flow = prec.key, .key.reason = 7,
						      .count = 4 };
		pv = (struct nacct_probe_view){ .recs = &prec, .n_recs = 1, .drops = drops,
						.n_drops = 2 };
		nacct_probe_view_side(&pv, &r->key, &side);
		r->side = &side;
	}
}

static int same_flow(const struct nacct_rec *r, const struct dflow *f, char *why, size_t len)
{
	int v6 = r->key.family == NACCT_AF_INET6, o = v6 ? 0 : 12, n = v6 ? 16 : 4;
	const __u8 *sa = r->src_hi ? r->key.hi_addr : r->key.lo_addr;
	const __u8 *da = r->src_hi ? r->key.lo_addr : r->key.hi_addr;
	__u16 sp = ntohs(r->src_hi ? r->key.hi_port : r->key.lo_port);
	__u16 dp = ntohs(r->src_hi ? r->key.lo_port : r->key.hi_port);

#define EXPECT(c, ...)                                      \
	do {                                                \
		if (!(c)) {                                 \
			snprintf(why, len, __VA_ARGS__);    \
			return 0;                           \
		}                                           \
	} while (0)
	EXPECT(f->tid == (v6 ? NACCT_IPFIX_TID_FLOW6 : NACCT_IPFIX_TID_FLOW4), "template %u",
	       f->tid);
	EXPECT(f->dir == r->dir, "flowDirection %u", f->dir);
	EXPECT(f->ver == (v6 ? 6 : 4), "ipVersion %u", f->ver);
	EXPECT(f->proto == r->key.proto, "protocolIdentifier %u", f->proto);
	EXPECT(!memcmp(f->sa, sa + o, n), "source address");
	EXPECT(!memcmp(f->da, da + o, n), "destination address");
	EXPECT(f->sp == sp && f->dp == dp, "ports %u %u", f->sp, f->dp);
	EXPECT(f->vlan == r->key.vlan, "vlanId %u", f->vlan);
	EXPECT(f->pk == r->val.packets[r->dir], "packetDeltaCount %llu",
	       (unsigned long long)f->pk);
	EXPECT(f->by == r->val.bytes[r->dir], "octetDeltaCount %llu", (unsigned long long)f->by);
	EXPECT(f->flags == r->val.tcp_flags[r->dir], "tcpControlBits %u", f->flags);
	EXPECT(f->start == nacct_mono_to_wall(r->val.first_seen) / 1000000,
	       "flowStartMilliseconds %llu", (unsigned long long)f->start);
	EXPECT(f->end == nacct_mono_to_wall(r->val.last_seen) / 1000000,
	       "flowEndMilliseconds %llu", (unsigned long long)f->end);
	EXPECT(f->in_if == (r->dir == NACCT_DIR_RX ? r->ifindex : 0u), "ingressInterface %u",
	       f->in_if);
	EXPECT(f->out_if == (r->dir == NACCT_DIR_TX ? r->ifindex : 0u), "egressInterface %u",
	       f->out_if);
	EXPECT(f->inner_type == r->val.inner_type, "nacctInnerEthertype %#x", f->inner_type);
	if (r->side)
		EXPECT(f->retrans == 5 && f->drops == 5 && f->dreason == 7 && f->tstate == 1 &&
			       f->srtt == 1234 && f->connlat == 2500000,
		       "side elements: retransmits %llu drops %llu reason %u state %u srtt %u "
		       "connect %llu", (unsigned long long)f->retrans,
		       (unsigned long long)f->drops, f->dreason, f->tstate, f->srtt,
		       (unsigned long long)f->connlat);
	else
		EXPECT(!f->retrans && !f->drops && !f->dreason && !f->tstate && !f->srtt &&
			       !f->connlat, "side elements without the side programs: not 0");
	if (!r->tun) {
		static const __u8 zero[16];

		EXPECT(f->ttype == 0 && f->tunid == 0 && f->l2seg == 0 &&
			       !memcmp(f->osa, zero, 16) && !memcmp(f->oda, zero, 16),
		       "not tunnelled: tunnel elements %u %u %llu", f->ttype, f->tunid,
		       (unsigned long long)f->l2seg);
		return 1;
	}
	{
		/* src's outer endpoint: lo's is outer_hi (outer_dir 2), hi's outer_lo */
		const __u8 *os = r->src_hi ? r->tun->key.outer_lo : r->tun->key.outer_hi;
		const __u8 *od = r->src_hi ? r->tun->key.outer_hi : r->tun->key.outer_lo;

		EXPECT(f->ttype == NACCT_TUN_VXLAN, "nacctTunnelType %u", f->ttype);
		EXPECT(f->tunid == 4242, "nacctTunnelId %u", f->tunid);
		EXPECT(f->l2seg == (1ULL << 56 | 4242), "layer2SegmentId %#llx",
		       (unsigned long long)f->l2seg);
		EXPECT(!memcmp(f->osa, os, 16) && !memcmp(f->oda, od, 16),
		       "outer addresses (src_hi %d)", r->src_hi);
	}
	return 1;
}

static void encode_decode(void)
{
	struct nacct_ipfix *ix;
	struct nacct_rec r[8];
	struct nacct_totals t;
	struct decoded *d = calloc(1, sizeof(*d));
	uint8_t all[8192];
	const __u8 *buf;
	size_t len, n = 0, i;
	__u64 t0 = mono_now(), obs = 1700000000123ULL;
	char why[200], name[120];
	int dir;

	if (nacct_ipfix_open(&ix, 77, 1400)) {
		t_fail("ipfix: open", "nacct_ipfix_open failed");
		free(d);
		return;
	}
	/* message 1: templates; message 2: the flows and the options records */
	nacct_ipfix_add_templates(ix);
	nacct_ipfix_emit(ix, 1000, &buf, &len);
	memcpy(all + n, buf, len);
	n += len;
	for (i = 0; i < 8; i++) {
		mkrec(&r[i], i >= 4, i & 1, (i >> 1) & 1, t0, (int)i);
		nacct_ipfix_add_flow(ix, &r[i]);
	}
	memset(&t, 0, sizeof(t));
	for (dir = 0; dir < 2; dir++) {
		t.st.packets[dir] = 1000000 + dir;
		t.st.bytes[dir] = 900000000 + dir;
		t.st.overflow_packets[dir] = 17 + dir;
		t.st.overflow_bytes[dir] = 1700 + dir;
		t.st.malformed_packets[dir] = 3 + dir;
		t.st.malformed_bytes[dir] = 300 + dir;
		t.st.nonip_packets[dir] = 40 + dir;
		t.st.nonip_bytes[dir] = 4000 + dir;
	}
	nacct_totals_derive(&t);
	t_eq_u64("ipfix: records in the message", 8, nacct_ipfix_records(ix));
	for (dir = 0; dir < 2; dir++)
		nacct_ipfix_add_stats(ix, &t, 7, dir, obs + dir);
	nacct_ipfix_emit(ix, 1000, &buf, &len);
	memcpy(all + n, buf, len);
	n += len;
	nacct_ipfix_close(ix);

	decode(all, n, d);
	if (d->err) {
		t_fail("ipfix: decoded by libfixbuf", "%s", d->why);
		free(d);
		return;
	}
	t_eq_u64("ipfix: messages", 2, d->nmsg);
	t_eq_u64("ipfix: header sequence number", 1000, d->seq[1]);
	t_eq_u64("ipfix: header observation domain", 77, d->domain[1]);
	t_eq_u64("ipfix: the first message is a template set (id 2)", 2, d->set_ids[0]);
	t_eq_u64("ipfix: flow records decoded", 8, d->nf);
	for (i = 0; i < 8 && i < d->nf; i++) {
		snprintf(name, sizeof(name), "ipfix: %s %s record (src %s) decodes field by field",
			 i >= 4 ? "IPv6 TCP" : "IPv4 UDP", i & 1 ? "egress" : "ingress",
			 (i >> 1) & 1 ? "hi" : "lo");
		if (same_flow(&r[i], &d->f[i], why, sizeof(why)))
			t_ok("%s", name);
		else
			t_fail(name, "%s", why);
	}
	t_eq_u64("ipfix: options records decoded", 2, d->ns);
	for (i = 0; i < 2 && i < d->ns; i++) {
		const struct dstat *s = &d->s[i];

		dir = (int)i;
		snprintf(name, sizeof(name), "ipfix: options record %s: scope, time, totals, "
			 "overflow, malformed + non-IP", dir ? "tx" : "rx");
		if (s->in_if == 7 && s->dir == dir && s->obs == obs + dir &&
		    s->pk == t.st.packets[dir] && s->by == t.st.bytes[dir] &&
		    s->ns_pk == t.st.overflow_packets[dir] && s->ns_by == t.st.overflow_bytes[dir] &&
		    s->ig_pk == 43 + 2ULL * dir && s->ig_by == 4300 + 2ULL * dir)
			t_ok("%s", name);
		else
			t_fail(name, "if %u dir %u obs %llu pk %llu by %llu ns %llu/%llu ig %llu/%llu",
			       s->in_if, s->dir, (unsigned long long)s->obs,
			       (unsigned long long)s->pk, (unsigned long long)s->by,
			       (unsigned long long)s->ns_pk, (unsigned long long)s->ns_by,
			       (unsigned long long)s->ig_pk, (unsigned long long)s->ig_by);
	}
	free(d);
}

/* ---- the core with the IPFIX sink, over a socket ---------------------------- */

/*
 * The sets of each message, by hand (RFC 7011 3.3): record lengths from
 * the template and options template sets, data records counted per
 * message; returns the messages whose sequence number is not the count
 * of data records before them.
 */
static int check_seq(const uint8_t *buf, size_t len, __u64 *total)
{
	uint16_t rlen[65536 / 64] = { 0 }; /* by template id - 256 */
	size_t off = 0;
	int bad = 0;

	*total = 0;
	while (off + 16 <= len) {
		uint16_t mlen, sid, slen, v;
		uint32_t seq;
		size_t so, end;

		memcpy(&mlen, buf + off + 2, 2);
		memcpy(&seq, buf + off + 8, 4);
		mlen = ntohs(mlen);
		if (ntohl(seq) != (uint32_t)*total)
			bad++;
		end = off + mlen;
		for (so = off + 16; so + 4 <= end; so += slen) {
			const uint8_t *p;

			memcpy(&sid, buf + so, 2);
			memcpy(&slen, buf + so + 2, 2);
			sid = ntohs(sid);
			slen = ntohs(slen);
			if (slen < 4)
				return bad + 1;
			p = buf + so + 4;
			if (sid == 2 || sid == 3) {
				while (p + 4 <= buf + so + slen) {
					uint16_t tid, nf, i, l = 0;

					memcpy(&tid, p, 2);
					memcpy(&nf, p + 2, 2);
					tid = ntohs(tid);
					nf = ntohs(nf);
					p += sid == 3 ? 6 : 4;
					rlen[(tid - 256) & 1023] = 0;
					for (i = 0; i < nf; i++) {
						memcpy(&v, p, 2);
						memcpy(&l, p + 2, 2);
						rlen[(tid - 256) & 1023] += ntohs(l);
						p += ntohs(v) & 0x8000 ? 8 : 4;
					}
				}
			} else if (sid >= 256 && rlen[(sid - 256) & 1023]) {
				*total += (slen - 4) / rlen[(sid - 256) & 1023];
			}
		}
		off = end;
	}
	return bad;
}

static void core_over_socket(void)
{
	struct memstore ms;
	struct nacct_flow_key k[40];
	struct nacct_xjournal *j = calloc(1, nacct_xjournal_size(NACCT_XJ_ITEMS));
	struct nacct_export_expired exp;
	size_t ssz = nacct_xslot_size(2);
	__u8 *slots = calloc(16, ssz);
	struct nacct_xentry *ent = calloc(128, sizeof(*ent));
	struct nacct_xmem mem = { .lane = { { .j = j, .ent = ent, .n_ent = 128 } }, .n_lanes = 1,
				  .exp = &exp, .slots = slots, .n_slots = 16, .slot_size = ssz };
	struct nacct_xcfg c = { .ifname = "veth7", .ifindex = 7, .max_flows = 64,
				.idle_ns = 3000000000ULL, .active_ns = 2000000000ULL };
	struct nacct_xrecovery rec;
	struct nacct_xreport rep;
	struct nacct_exporter *x = NULL;
	struct nacct_sink *sink = NULL;
	struct decoded *d = calloc(1, sizeof(*d));
	uint8_t *all = calloc(1, 1 << 20);
	size_t n = 0, i;
	__u64 t, pk = 0, recs = 0, want = 0;
	int sv[2], step, bad_seq = 0;

	memset(&exp, 0, sizeof(exp));
	ms_init(&ms, 2, 64, 16, NULL);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) || nacct_sink_ipfix_fd(&sink, sv[1], 9, 1400) ||
	    nacct_exporter_new(&x, &c, &ms.base, &mem, &sink, &rec)) {
		t_fail("ipfix: the core over a socket", "setup failed");
		goto out;
	}
	nacct_exporter_open(x, 0);
	for (i = 0; i < 40; i++)
		ms_key4(&k[i], i % 3 ? 17 : 6, 0xc6120001, 1000 + i, 0xc6120002, 2000);
	for (step = 0, t = 1000000000ULL; step < 10; step++, t += 1000000000ULL) {
		ms.now = t - 500000000ULL;
		for (i = 0; i < 40; i++)
			if ((i + step) % 4 == 0 && step < 6) {
				ms_packet(&ms, &k[i], step & 1, 0, 0, 100 + i, i % 3 ? 0 : 0x10);
				ms_packet(&ms, &k[i], (step + 1) & 1, 1, 1, 60, i % 3 ? 0 : 0x10);
			}
		nacct_exporter_round(x, t, step == 9, &rep);
	}
	for (;;) {
		ssize_t r = recv(sv[0], all + n, (1 << 20) - n, MSG_DONTWAIT);

		if (r <= 0)
			break;
		n += r;
	}
	decode(all, n, d);
	if (d->err) {
		t_fail("ipfix: the core's messages decode", "%s", d->why);
		goto out;
	}
	for (i = 0; i < d->nf; i++)
		pk += d->f[i].pk;
	/* the sequence number counts the data records before each message */
	bad_seq = check_seq(all, n, &recs);
	want = ms.st.packets[0] + ms.st.packets[1];
	t_eq_u64("ipfix: the core through the IPFIX sink: decoded packetDeltaCount = totals", want,
		 pk);
	t_true("ipfix: the core's messages: templates first, then data", d->nmsg > 2 &&
	       d->set_ids[0] == 2);
	t_eq_u64("ipfix: the core's last options records carry the totals", want,
		 d->ns >= 2 ? d->s[d->ns - 2].pk + d->s[d->ns - 1].pk : 0);
	t_eq_u64("ipfix: the core's header sequence numbers count the data records before",
		 0, bad_seq);
	t_eq_u64("ipfix: ... data records in all", (__u64)d->nf + d->ns, recs);
out:
	nacct_exporter_free(x);
	if (sink)
		sink->ops->close(sink);
	close(sv[0]);
	close(sv[1]);
	free(ms.f);
	free(j);
	free(slots);
	free(ent);
	free(d);
	free(all);
}

void check_ipfix(void)
{
	encode_decode();
	core_over_socket();
}
