// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * THE record tables (see lib/fields.h): one line per field of a flow
 * record and of the interface totals.  Every output and the per-CPU
 * merge are generated from them; nothing else spells a field out.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "community_id.h"
#include "fields.h"
#include "names.h"
#include "obuf.h"
#include "side.h"

#define VAL(f) offsetof(struct nacct_flow_val, f), sizeof(((struct nacct_flow_val *)0)->f[0])
#define VAL1(f) offsetof(struct nacct_flow_val, f), sizeof(((struct nacct_flow_val *)0)->f)
#define RX NACCT_DIR_RX
#define TX NACCT_DIR_TX
#define BOTH NACCT_FD_BOTH
#define NODIR NACCT_FD_NONE

/* ---- getters of the fields that are not plain value counters ------------ */

static void g_ifname(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	v->s = r->ifname ? r->ifname : "";
}

static void g_ifaces(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	v->s = r->ifaces ? r->ifaces : "";
}

static void g_family(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	v->u = r->key.family;
}

static void g_proto(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	v->s = nacct_proto_name(r->key.proto, b, n);
}

static void g_proto_num(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	v->u = r->key.proto;
}

/* src and dst: the key's endpoints, oriented by the record */
static void g_addr(const struct nacct_rec *r, int hi, struct nacct_fval *v, char *b, size_t n)
{
	v->a = hi ? r->key.hi_addr : r->key.lo_addr;
	v->family = r->key.family;
}

static void g_src(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	g_addr(r, r->src_hi, v, b, n);
}

static void g_dst(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	g_addr(r, !r->src_hi, v, b, n);
}

static void g_sport(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	v->u = ntohs(r->src_hi ? r->key.hi_port : r->key.lo_port);
}

static void g_dport(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	v->u = ntohs(r->src_hi ? r->key.lo_port : r->key.hi_port);
}

static void g_vlan(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	v->u = r->key.vlan;
}

/*
 * The tunnel (key.tunnel, resolved by the reader into r->tun): null for a
 * flow that was not tunnelled; "unknown" when its tunnel's entry is gone.
 * The outer endpoints go with src and dst: outer_src is the endpoint the
 * packets of src go through (val.outer_dir: lo_addr's).
 */
static int tun_none(const struct nacct_rec *r, struct nacct_fval *v)
{
	if (r->key.tunnel)
		return 0;
	v->null = 1;
	return 1;
}

static void g_tunnel(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	if (tun_none(r, v))
		return;
	v->u = r->tun ? r->tun->key.type : 0;
	v->s = r->tun ? nacct_tun_type_name(r->tun->key.type) : "unknown";
}

static void g_tunnel_id(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	v->u = r->tun ? r->tun->key.id : 0;
}

/* IANA layer2SegmentId: the encapsulation in the top byte (0x01 VXLAN) */
static void g_l2_segment(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	if (r->tun && r->tun->key.type == NACCT_TUN_VXLAN)
		v->u = 1ULL << 56 | r->tun->key.id;
}

static void g_tunnel_label(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	if (tun_none(r, v))
		return;
	v->s = r->tun ? nacct_tun_label(&r->tun->key, b, n) : "unknown";
}

static void g_outer(const struct nacct_rec *r, int dst, struct nacct_fval *v)
{
	int hi;

	if (tun_none(r, v) || !r->tun || !r->tun->key.family) {
		v->null = 1;
		return;
	}
	/* lo_addr's outer endpoint is outer_dir - 1; hi_addr's the other */
	hi = ((r->val.outer_dir ? r->val.outer_dir - 1 : 0) ^ r->src_hi) & 1;
	v->a = (hi ^ dst) ? r->tun->key.outer_hi : r->tun->key.outer_lo;
	v->family = r->tun->key.family;
}

static void g_outer_src(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	g_outer(r, 0, v);
}

static void g_outer_dst(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	g_outer(r, 1, v);
}

/* export records: the message, the direction, the record's span */
static void g_type(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	v->s = "flow";
}

static void g_seq(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	v->u = r->seq;
}

static void g_direction(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	v->u = r->dir == NACCT_DIR_TX; /* IANA flowDirection: 0 ingress, 1 egress */
	v->s = r->dir == NACCT_DIR_TX ? "tx" : "rx";
}

static void g_start(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	v->u = r->val.first_seen;
}

static void g_end(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	v->u = r->val.last_seen;
}

static void g_start_ms(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	v->u = nacct_mono_to_wall(r->val.first_seen) / 1000000ULL;
}

static void g_end_ms(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	v->u = nacct_mono_to_wall(r->val.last_seen) / 1000000ULL;
}

static void g_final(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	v->u = !!r->final;
}

static void g_in_if(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	v->u = r->dir == NACCT_DIR_RX ? r->ifindex : 0;
}

static void g_out_if(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	v->u = r->dir == NACCT_DIR_TX ? r->ifindex : 0;
}

/* Community ID v1 of the flow (lib/community_id.h) */
static void g_community_id(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	char id[NACCT_CID_LEN];

	if (nacct_community_id_key(nacct_community_id_seed, &r->key, r->src_hi, id)) {
		v->null = 1;
		return;
	}
	snprintf(b, n, "%s", id);
	v->s = b;
}

/* nacct counts every packet: 1 in 1, for collectors that scale by it */
static void g_sampling(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	v->u = 1;
}

/*
 * Side fields (the TCP side programs, probes/): null when they are not
 * loaded; with them, a flow without a socket record has zeros.  Single
 * valued fields show the socket on src's end when it is local, else the
 * one on dst's.
 */
static const struct nacct_tcp_val *side_tcp(const struct nacct_rec *r, struct nacct_fval *v)
{
	static const struct nacct_tcp_val none;

	if (!r->side) {
		v->null = 1;
		return NULL;
	}
	return r->side->tcp ? r->side->tcp : &none;
}

static int side_main(const struct nacct_rec *r, const struct nacct_tcp_val *t)
{
	int s = r->src_hi & 1;

	return t->state[s] || t->pid[s] ? s : !s;
}

static void g_retransmits(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	const struct nacct_tcp_val *t = side_tcp(r, v);

	if (t)
		v->u = t->retrans[0] + t->retrans[1];
}

static void g_drops(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	if (side_tcp(r, v))
		v->u = r->side->drops;
}

static void g_state(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	const struct nacct_tcp_val *t = side_tcp(r, v);

	if (t)
		v->s = nacct_tcp_state_name(t->state[side_main(r, t)]);
}

/* IPFIX: the kernel's TCP state number of the local socket (enum tcp_states) */
static void g_state_num(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	const struct nacct_tcp_val *t = side_tcp(r, v);

	if (t)
		v->u = t->state[side_main(r, t)];
}

/* IPFIX: the reason most of the flow's drops had (enum skb_drop_reason; 0: none) */
static void g_drop_reason(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	struct nacct_probe_drop_iter it;
	__u64 most = 0;

	if (!side_tcp(r, v))
		return;
	for (nacct_side_drops(r->side, &it); nacct_probe_drops_next(&it);)
		if (it.count > most) {
			most = it.count;
			v->u = it.reason;
		}
}

static void g_srtt(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	const struct nacct_tcp_val *t = side_tcp(r, v);

	if (t)
		v->u = t->srtt_us[side_main(r, t)];
}

static void g_connect_lat(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	const struct nacct_tcp_val *t = side_tcp(r, v);

	if (t)
		v->u = t->connect_ns[0] + t->connect_ns[1];
}

static void g_pid(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	const struct nacct_tcp_val *t = side_tcp(r, v);

	if (t)
		v->u = t->pid[side_main(r, t)];
}

static void g_comm(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	const struct nacct_tcp_val *t = side_tcp(r, v);

	if (t && n > 16) {
		/* comm may fill its 16 bytes without a NUL */
		memcpy(b, t->comm[side_main(r, t)], 16);
		b[16] = '\0';
		v->s = b;
	}
}

static void g_session_start(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	const struct nacct_tcp_val *t = side_tcp(r, v);

	if (t)
		v->u = r->side->tcp ? t->first_ns : 0;
}

static void g_session_end(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	const struct nacct_tcp_val *t = side_tcp(r, v);

	if (t)
		v->u = t->end_ns;
}

/* JSON-valued side fields: null without the side programs */
static void g_side_json(const struct nacct_rec *r, struct nacct_fval *v, char *b, size_t n)
{
	side_tcp(r, v);
}

/* {"REASON": count, ...}: drops of the flow by the kernel's reason */
static void j_drop_reasons(const struct nacct_rec *r, struct nacct_obuf *o)
{
	struct nacct_probe_drop_iter it;
	char rb[64];
	int first = 1;

	nacct_obuf_chr(o, '{');
	for (nacct_side_drops(r->side, &it); nacct_probe_drops_next(&it);) {
		if (!first)
			nacct_obuf_chr(o, ',');
		nacct_obuf_json_str(o, nacct_drop_reason_name(it.reason, rb, sizeof(rb)));
		nacct_obuf_chr(o, ':');
		nacct_obuf_u64(o, it.count);
		first = 0;
	}
	nacct_obuf_chr(o, '}');
}

/* every local socket of the flow, src's first */
static void j_sockets(const struct nacct_rec *r, struct nacct_obuf *o)
{
	const struct nacct_tcp_val *t = r->side->tcp;
	int j, first = 1;

	nacct_obuf_chr(o, '[');
	for (j = 0; t && j < 2; j++) {
		int side = j ? !(r->src_hi & 1) : r->src_hi & 1;
		char comm[20];

		if (!t->state[side] && !t->pid[side] && !t->retrans[side])
			continue;
		nacct_obuf_printf(o, "%s{\"end\":\"%s\",\"state\":\"%s\",\"retransmits\":%llu,"
				     "\"srtt_us\":%u,\"connect_latency_us\":",
				  first ? "" : ",", j ? "dst" : "src",
				  nacct_tcp_state_name(t->state[side]),
				  (unsigned long long)t->retrans[side], t->srtt_us[side]);
		nacct_obuf_milli(o, t->connect_ns[side]);
		nacct_obuf_printf(o, ",\"pid\":%u,\"comm\":", t->pid[side]);
		snprintf(comm, sizeof(comm), "%.16s", t->comm[side]);
		nacct_obuf_json_str(o, comm);
		nacct_obuf_chr(o, '}');
		first = 0;
	}
	nacct_obuf_chr(o, ']');
}

/* ---- the flow record ------------------------------------------------------ */

#define IE(name, id, len) .ie = name, .ie_id = id, .ie_len = len
#define IE46(n4, id4, n6, id6) .ie = n4, .ie_id = id4, .ie6 = n6, .ie6_id = id6
#define COL(h, w) .col = h, .width = w
#define GET(fn) .get = fn
#define FLOW NACCT_OUT_FLOW
#define EXPORT NACCT_OUT_EXPORT
#define IPFIX NACCT_OUT_IPFIX

/*
 * Columns: name, kind, source, outputs; C field (VAL: offset, element size,
 * elements), direction, merge, key; unit; IPFIX element; table column;
 * getter.  Order is output order.  VAL lines need no getter: the value is
 * the C field (one direction, or both summed / ORed).
 */
const struct nacct_field nacct_flow_fields[] = {
	/* export records: the message and the hook direction */
	{ "type", NACCT_FK_STR, NACCT_FS_REC, EXPORT, .dir = NODIR, GET(g_type),
	  .help = "\"flow\" (export also writes \"stats\" records)" },
	{ "seq", NACCT_FK_U64, NACCT_FS_REC, EXPORT, .dir = NODIR, GET(g_seq),
	  .help = "IPFIX sequence number of the record's message" },
	{ "direction", NACCT_FK_STR, NACCT_FS_REC, EXPORT | IPFIX, .dir = NODIR,
	  IE("flowDirection", 61, 1), GET(g_direction),
	  .help = "rx (ingress hook) or tx (egress hook) packets of the flow" },
	/* the flow: interface and key */
	{ "ifname", NACCT_FK_STR, NACCT_FS_REC, FLOW, .dir = NODIR, COL("IFACE", -10),
	  GET(g_ifname), .help = "interface (flows --host: where the flow's first packet was seen)" },
	{ "ifaces", NACCT_FK_STR, NACCT_FS_REC, NACCT_OUT_HOST, .dir = NODIR, COL("IFACES", -16),
	  GET(g_ifaces), .help = "flows --host: the domain's interfaces that saw the flow's packets" },
	{ "family", NACCT_FK_U64, NACCT_FS_KEY, FLOW, .dir = NODIR, .key = 1,
	  IE("ipVersion", 60, 1), GET(g_family), .help = "4 or 6" },
	{ "proto", NACCT_FK_STR, NACCT_FS_KEY, FLOW, .dir = NODIR, .key = 1, COL("PROTO", -5),
	  GET(g_proto), .help = "L4 protocol name (or number)" },
	{ "proto_num", NACCT_FK_U64, NACCT_FS_KEY, FLOW, .dir = NODIR, .key = 1,
	  IE("protocolIdentifier", 4, 1), GET(g_proto_num), .help = "IP protocol number" },
	{ "src", NACCT_FK_ADDR, NACCT_FS_KEY, FLOW, .dir = NODIR, .key = 1,
	  IE46("sourceIPv4Address", 8, "sourceIPv6Address", 27), COL("SRC", 39), GET(g_src),
	  .help = "flows: the initiator (TCP SYN, else first packet); export: the sender" },
	{ "sport", NACCT_FK_U64, NACCT_FS_KEY, FLOW, .dir = NODIR, .key = 1,
	  IE("sourceTransportPort", 7, 2), COL("SPORT", 5), GET(g_sport),
	  .help = "ICMP: echo id, or type << 8 | code (dport then 0)" },
	{ "dst", NACCT_FK_ADDR, NACCT_FS_KEY, FLOW, .dir = NODIR, .key = 1,
	  IE46("destinationIPv4Address", 12, "destinationIPv6Address", 28), COL("DST", -39),
	  .tsep = " > ", GET(g_dst) },
	{ "dport", NACCT_FK_U64, NACCT_FS_KEY, FLOW, .dir = NODIR, .key = 1,
	  IE("destinationTransportPort", 11, 2), COL("DPORT", 5), GET(g_dport) },
	{ "vlan", NACCT_FK_U64, NACCT_FS_KEY, FLOW, .dir = NODIR, .key = 1, IE("vlanId", 58, 2),
	  COL("VLAN", 4), GET(g_vlan), .help = "outermost VLAN id, 0 untagged" },
	{ "community_id", NACCT_FK_STR, NACCT_FS_KEY, FLOW, .dir = NODIR, GET(g_community_id),
	  .nullable = 1,
	  .help = "Community ID v1 of the (inner) flow, as Zeek and Suricata log it "
		  "(--community-id-seed)" },
	/* the tunnel (README "Tunnels"): part of the key */
	{ "tunnel", NACCT_FK_STR, NACCT_FS_KEY, FLOW, .dir = NODIR, .key = 1, .nullable = 1,
	  IE("nacctTunnelType", 1, 1), .ie_pen = NACCT_IPFIX_PEN, GET(g_tunnel),
	  .help = "vxlan, geneve, gre, gretap, ipip, sit, ip6ip6, ip4in6, mpls; null: none "
		  "(IPFIX: the number, README)" },
	{ "tunnel_id", NACCT_FK_U64, NACCT_FS_KEY, FLOW, .dir = NODIR, .key = 1,
	  IE("nacctTunnelId", 2, 4), .ie_pen = NACCT_IPFIX_PEN, GET(g_tunnel_id),
	  .help = "VNI, GRE key or top MPLS label; 0 when none" },
	{ "outer_src", NACCT_FK_ADDR, NACCT_FS_KEY, FLOW, .dir = NODIR, .key = 1, .nullable = 1,
	  IE("nacctOuterSourceAddress", 3, 16), .ie_pen = NACCT_IPFIX_PEN, GET(g_outer_src),
	  .help = "tunnel endpoint src's packets came through (null: none, MPLS)" },
	{ "outer_dst", NACCT_FK_ADDR, NACCT_FS_KEY, FLOW, .dir = NODIR, .key = 1, .nullable = 1,
	  IE("nacctOuterDestinationAddress", 4, 16), .ie_pen = NACCT_IPFIX_PEN,
	  GET(g_outer_dst), .help = "the other tunnel endpoint" },
	{ "tunnel_label", NACCT_FK_STR, NACCT_FS_KEY, NACCT_OUT_TABLE, .dir = NODIR, .nullable = 1,
	  COL("TUNNEL", -14), GET(g_tunnel_label), .help = "TYPE:ID" },
	{ "l2_segment", NACCT_FK_U64, NACCT_FS_KEY, IPFIX, .dir = NODIR,
	  IE("layer2SegmentId", 351, 8), GET(g_l2_segment),
	  .help = "VXLAN: 0x01 << 56 | VNI (IANA); else 0" },
	{ "inner_type", NACCT_FK_U64, NACCT_FS_VAL, FLOW, VAL1(inner_type), 1, NODIR,
	  NACCT_MERGE_ANY, IE("nacctInnerEthertype", 5, 2), .ie_pen = NACCT_IPFIX_PEN,
	  .help = "a tunnel's payload not decoded (counted on this outer flow): its ethertype" },
	/* the counters: per hook direction in the value, summed per CPU */
	{ "packets", NACCT_FK_U64, NACCT_FS_VAL, FLOW, VAL(packets), 2, BOTH, NACCT_MERGE_SUM,
	  .unit = "packets", IE("packetDeltaCount", 2, 8), COL("PACKETS", 10),
	  .help = "flows: since the flow began; export: in this record" },
	{ "bytes", NACCT_FK_U64, NACCT_FS_VAL, FLOW, VAL(bytes), 2, BOTH, NACCT_MERGE_SUM,
	  .unit = "bytes", IE("octetDeltaCount", 1, 8), COL("BYTES", 12),
	  .help = "frame length incl. the Ethernet header" },
	{ "rx_packets", NACCT_FK_U64, NACCT_FS_VAL, FLOW, VAL(packets), 2, RX, NACCT_MERGE_SUM,
	  .unit = "packets", COL("RX_PKTS", 10), .help = "received (XDP or TC ingress)" },
	{ "rx_bytes", NACCT_FK_U64, NACCT_FS_VAL, FLOW, VAL(bytes), 2, RX, NACCT_MERGE_SUM,
	  .unit = "bytes" },
	{ "tx_packets", NACCT_FK_U64, NACCT_FS_VAL, FLOW, VAL(packets), 2, TX, NACCT_MERGE_SUM,
	  .unit = "packets", COL("TX_PKTS", 10), .help = "sent (TC egress)" },
	{ "tx_bytes", NACCT_FK_U64, NACCT_FS_VAL, FLOW, VAL(bytes), 2, TX, NACCT_MERGE_SUM,
	  .unit = "bytes" },
	{ "tcp_flags", NACCT_FK_FLAGS, NACCT_FS_VAL, FLOW, VAL(tcp_flags), 2, BOTH,
	  NACCT_MERGE_OR, .unit = "flags", IE("tcpControlBits", 6, 1), COL("FLAGS", -8),
	  .help = "OR of the TCP flags seen" },
	{ "first_seen", NACCT_FK_TIME, NACCT_FS_VAL, FLOW, VAL1(first_seen), 1, NODIR,
	  NACCT_MERGE_MIN_NZ, .unit = "ns", IE("flowStartMilliseconds", 152, 8),
	  .help = "first packet (export: the record's first)" },
	{ "last_seen", NACCT_FK_TIME, NACCT_FS_VAL, FLOW, VAL1(last_seen), 1, NODIR,
	  NACCT_MERGE_LAST, .unit = "ns", IE("flowEndMilliseconds", 153, 8), COL("LAST", -12),
	  .help = "last packet (coarse clock: a jiffy)" },
	/* internal: merge rules only */
	{ "first_dir", NACCT_FK_U64, NACCT_FS_VAL, 0, VAL1(first_dir), 1, NODIR,
	  NACCT_MERGE_FIRST, .help = "the first packet went hi->lo (the initiator rule below)" },
	{ "seen_dirs", NACCT_FK_U64, NACCT_FS_VAL, 0, VAL1(seen_dirs), 1, NODIR, NACCT_MERGE_OR },
	{ "subnet_lo", NACCT_FK_U64, NACCT_FS_VAL, 0, VAL1(subnet_lo), 1, NODIR,
	  NACCT_MERGE_FIRST },
	{ "subnet_hi", NACCT_FK_U64, NACCT_FS_VAL, 0, VAL1(subnet_hi), 1, NODIR,
	  NACCT_MERGE_FIRST },
	{ "syn_dir", NACCT_FK_U64, NACCT_FS_VAL, 0, VAL1(syn_dir), 1, NODIR, NACCT_MERGE_ANY,
	  .help = "rule: a SYN names the initiator (first_dir = syn_dir - 1)" },
	{ "outer_dir", NACCT_FK_U64, NACCT_FS_VAL, 0, VAL1(outer_dir), 1, NODIR,
	  NACCT_MERGE_ANY, .help = "1 + the outer endpoint lo_addr's packets go through" },
	/* the side programs (null when not loaded) */
	{ "retransmits", NACCT_FK_U64, NACCT_FS_SIDE, FLOW, .dir = NODIR, .unit = "segments",
	  IE("nacctTcpRetransmits", 10, 8), .ie_pen = NACCT_IPFIX_PEN,
	  COL("RETRANS", 7), GET(g_retransmits), .help = "TCP segments retransmitted" },
	{ "drops", NACCT_FK_U64, NACCT_FS_SIDE, FLOW, .dir = NODIR, .unit = "packets",
	  IE("nacctDrops", 11, 8), .ie_pen = NACCT_IPFIX_PEN,
	  COL("DROPS", 7), GET(g_drops), .help = "packets the kernel dropped with a reason" },
	{ "drop_reason", NACCT_FK_U64, NACCT_FS_SIDE, IPFIX, .dir = NODIR,
	  IE("nacctDropReason", 12, 2), .ie_pen = NACCT_IPFIX_PEN, GET(g_drop_reason),
	  .help = "the kernel's reason (enum skb_drop_reason) of most of the flow's drops" },
	{ "drop_reasons", NACCT_FK_JSON, NACCT_FS_SIDE, FLOW, .dir = NODIR,
	  GET(g_side_json), .json = j_drop_reasons, .help = "drops by the kernel's reason" },
	{ "state", NACCT_FK_STR, NACCT_FS_SIDE, FLOW, .dir = NODIR, COL("STATE", -11),
	  GET(g_state), .help = "TCP state of the local socket" },
	{ "tcp_state", NACCT_FK_U64, NACCT_FS_SIDE, IPFIX, .dir = NODIR,
	  IE("nacctTcpState", 13, 1), .ie_pen = NACCT_IPFIX_PEN, GET(g_state_num),
	  .help = "state's number (the kernel's enum tcp_states: 1 ESTABLISHED ... 12 NEW_SYN_RECV)" },
	{ "srtt_us", NACCT_FK_U64, NACCT_FS_SIDE, FLOW, .dir = NODIR, .unit = "us",
	  IE("nacctTcpSrttMicroseconds", 14, 4), .ie_pen = NACCT_IPFIX_PEN,
	  COL("SRTT_US", 8), GET(g_srtt) },
	{ "connect_latency_us", NACCT_FK_MILLI, NACCT_FS_SIDE, FLOW, .dir = NODIR, .unit = "us",
	  IE("nacctTcpConnectLatencyNanoseconds", 15, 8), .ie_pen = NACCT_IPFIX_PEN,
	  GET(g_connect_lat), .help = "SYN_SENT -> ESTABLISHED (IPFIX: in ns)" },
	{ "pid", NACCT_FK_U64, NACCT_FS_SIDE, FLOW, .dir = NODIR, COL("PID", 7), GET(g_pid) },
	{ "comm", NACCT_FK_STR, NACCT_FS_SIDE, FLOW, .dir = NODIR, COL("COMM", -16), GET(g_comm) },
	{ "session_start", NACCT_FK_TIME, NACCT_FS_SIDE, FLOW, .dir = NODIR, .unit = "ns",
	  GET(g_session_start) },
	{ "session_end", NACCT_FK_TIME, NACCT_FS_SIDE, FLOW, .dir = NODIR, .unit = "ns",
	  GET(g_session_end) },
	{ "sockets", NACCT_FK_JSON, NACCT_FS_SIDE, FLOW, .dir = NODIR, GET(g_side_json),
	  .json = j_sockets, .help = "each local socket of the flow" },
	/* export records: the span, as before first_seen/last_seen existed there */
	{ "start", NACCT_FK_TIME, NACCT_FS_REC, EXPORT, .dir = NODIR, GET(g_start) },
	{ "end", NACCT_FK_TIME, NACCT_FS_REC, EXPORT, .dir = NODIR, GET(g_end) },
	{ "start_ms", NACCT_FK_U64, NACCT_FS_REC, EXPORT, .dir = NODIR, .unit = "ms",
	  GET(g_start_ms) },
	{ "end_ms", NACCT_FK_U64, NACCT_FS_REC, EXPORT, .dir = NODIR, .unit = "ms",
	  GET(g_end_ms) },
	{ "final", NACCT_FK_BOOL, NACCT_FS_REC, EXPORT, .dir = NODIR, GET(g_final),
	  .help = "the flow's last record (it expired)" },
	/* IPFIX only: the interface by direction */
	{ "in_ifindex", NACCT_FK_U64, NACCT_FS_REC, IPFIX, .dir = NODIR,
	  IE("ingressInterface", 10, 4), GET(g_in_if) },
	{ "out_ifindex", NACCT_FK_U64, NACCT_FS_REC, IPFIX, .dir = NODIR,
	  IE("egressInterface", 14, 4), GET(g_out_if) },
	{ "sampling_interval", NACCT_FK_U64, NACCT_FS_REC, IPFIX, .dir = NODIR,
	  IE("samplingInterval", 34, 4), GET(g_sampling),
	  .help = "1: every packet counted (Akvorado, goflow2 scale by it)" },
};
const size_t nacct_flow_nfields = sizeof(nacct_flow_fields) / sizeof(nacct_flow_fields[0]);

const struct nacct_field *nacct_flow_field(const char *name)
{
	size_t i;

	for (i = 0; i < nacct_flow_nfields; i++)
		if (!strcmp(nacct_flow_fields[i].name, name))
			return &nacct_flow_fields[i];
	return NULL;
}

/* a value field's element, widened */
static __u64 val_elem(const struct nacct_field *f, const struct nacct_flow_val *v, int i)
{
	const __u8 *p = (const __u8 *)v + f->off + (size_t)i * f->size;

	switch (f->size) {
	case 1: return *p;
	case 2: return *(const __u16 *)p;
	case 4: return *(const __u32 *)p;
	default: return *(const __u64 *)p;
	}
}

void nacct_field_get(const struct nacct_field *f, const struct nacct_rec *r, struct nacct_fval *v,
		     char *buf, size_t len)
{
	memset(v, 0, sizeof(*v));
	if (f->src != NACCT_FS_VAL) {
		f->get(r, v, buf, len);
		return;
	}
	if (f->dir == NACCT_FD_BOTH) {
		v->u = f->merge == NACCT_MERGE_OR ? val_elem(f, &r->val, 0) | val_elem(f, &r->val, 1) :
						    val_elem(f, &r->val, 0) + val_elem(f, &r->val, 1);
	} else {
		v->u = val_elem(f, &r->val, f->dir < NACCT_DIR_MAX ? f->dir : 0);
	}
}

void nacct_rec_flow(struct nacct_rec *r, const char *ifname, const struct nacct_flow_key *k,
		    const struct nacct_flow_val *v)
{
	memset(r, 0, sizeof(*r));
	r->ifname = ifname;
	r->key = *k;
	r->val = *v;
	r->src_hi = v->first_dir & 1;
	r->dir = -1;
}

/* ---- the per-CPU merge, by the table ---------------------------------------- */

static void elem_set(const struct nacct_field *f, struct nacct_flow_val *v, int i, __u64 x)
{
	__u8 *p = (__u8 *)v + f->off + (size_t)i * f->size;

	switch (f->size) {
	case 1: *p = x; break;
	case 2: *(__u16 *)p = x; break;
	case 4: *(__u32 *)p = x; break;
	default: *(__u64 *)p = x; break;
	}
}

/* the merge rules, once per C field (several lines may name one) */
struct merge_op {
	const struct nacct_field *f;
};
static struct merge_op g_ops[32];
static size_t g_nops;

static void merge_ops_init(void)
{
	size_t i, j;

	for (i = 0; i < nacct_flow_nfields; i++) {
		const struct nacct_field *f = &nacct_flow_fields[i];

		if (f->src != NACCT_FS_VAL || f->merge == NACCT_MERGE_NONE)
			continue;
		for (j = 0; j < g_nops; j++)
			if (g_ops[j].f->off == f->off)
				break;
		if (j == g_nops && g_nops < sizeof(g_ops) / sizeof(g_ops[0]))
			g_ops[g_nops++].f = f;
	}
}

void nacct_flow_merge(struct nacct_flow_val *dst, const struct nacct_flow_val *pcpu, int ncpu)
{
	size_t o;
	int c, i, first_cpu = -1;
	__u64 first = 0;

	static pthread_once_t once = PTHREAD_ONCE_INIT;

	if (ncpu == 1) {
		/* one copy (the shared layout): the rules merge a value with
		 * nothing, which leaves it as it is, but for the initiator rule */
		*dst = pcpu[0];
		if (dst->first_seen > dst->last_seen)
			dst->last_seen = dst->first_seen;
		if (dst->syn_dir)
			dst->first_dir = dst->syn_dir - 1;
		return;
	}
	pthread_once(&once, merge_ops_init);
	memset(dst, 0, sizeof(*dst));
	/* the CPU that saw the flow first: the source of the FIRST fields */
	for (c = 0; c < ncpu; c++)
		if (pcpu[c].first_seen && (!first || pcpu[c].first_seen < first)) {
			first = pcpu[c].first_seen;
			first_cpu = c;
		}
	for (o = 0; o < g_nops; o++) {
		const struct nacct_field *f = g_ops[o].f;

		for (i = 0; i < f->n; i++) {
			__u64 acc = 0;

			switch (f->merge) {
			case NACCT_MERGE_FIRST:
				acc = first_cpu >= 0 ? val_elem(f, &pcpu[first_cpu], i) : 0;
				break;
			case NACCT_MERGE_MIN_NZ:
				acc = first; /* first_seen: computed above */
				for (c = 0; f->off != offsetof(struct nacct_flow_val, first_seen) &&
					    c < ncpu; c++) {
					__u64 x = val_elem(f, &pcpu[c], i);

					if (x && (!acc || x < acc))
						acc = x;
				}
				break;
			default:
				for (c = 0; c < ncpu; c++) {
					__u64 x = val_elem(f, &pcpu[c], i);

					switch (f->merge) {
					case NACCT_MERGE_SUM: acc += x; break;
					case NACCT_MERGE_OR: acc |= x; break;
					case NACCT_MERGE_ANY: if (x) acc = x; break;
					case NACCT_MERGE_LAST:
						/* the coarse last_seen may lag the precise first_seen */
						if (pcpu[c].first_seen > x)
							x = pcpu[c].first_seen;
						if (x > acc)
							acc = x;
						break;
					default: break;
					}
				}
			}
			elem_set(f, dst, i, acc);
		}
	}
	/* the initiator rule: for TCP the SYN names it, whichever CPU saw what first */
	if (dst->syn_dir)
		dst->first_dir = dst->syn_dir - 1;
}

/* ---- interface totals ------------------------------------------------------ */

const char *const nacct_malformed_names[NACCT_MAL_MAX] = {
	[NACCT_MAL_ETH] = "ethernet",       [NACCT_MAL_VLAN] = "vlan",
	[NACCT_MAL_IP4_HDR] = "ipv4_header", [NACCT_MAL_IP4_LEN] = "ipv4_length",
	[NACCT_MAL_IP6_HDR] = "ipv6_header", [NACCT_MAL_IP6_EXT] = "ipv6_ext_header",
	[NACCT_MAL_L4] = "l4_header",       [NACCT_MAL_TUN_HDR] = "tunnel_header",
	[NACCT_MAL_INNER] = "inner_header",
};

const char *const nacct_trow_labels[] = {
	[NACCT_TROW_NONE] = "",           [NACCT_TROW_TOTAL] = "total",
	[NACCT_TROW_FLOWS] = "in flows",  [NACCT_TROW_OVERFLOW] = "overflow",
	[NACCT_TROW_MALFORMED] = "malformed", [NACCT_TROW_NONIP] = "non-IP",
	[NACCT_TROW_EXPIRED] = "expired",
};

#define ST(f) offsetof(struct nacct_totals, st.f)
#define TT(f) offsetof(struct nacct_totals, f)
#define S NACCT_TOUT_STATUS
#define P NACCT_TOUT_PROM
#define I NACCT_TOUT_IPFIX

/*
 * Columns: status key, outputs, Prometheus family, help, unit, C field,
 * per direction, rx_/tx_ keys in status --json, status table row, IPFIX
 * options element, derived from the flow map.
 */
const struct nacct_total_field nacct_total_fields[] = {
	{ "packets", S | P | I, "nacct_packets_total", "Packets seen by the hook (every frame).",
	  "packets", ST(packets), 1, 1, NACCT_TROW_TOTAL, "packetTotalCount", 86 },
	{ "bytes", S | P | I, "nacct_bytes_total",
	  "Bytes seen by the hook (frame length incl. Ethernet).", "bytes", ST(bytes), 1, 1,
	  NACCT_TROW_TOTAL, "octetTotalCount", 85 },
	{ "flow_packets", S, "", "Packets in the flows of the flow map.", "packets",
	  TT(flow_packets), 1, 0, NACCT_TROW_FLOWS, .need_flows = 1 },
	{ "flow_bytes", S, "", "Bytes in the flows of the flow map.", "bytes", TT(flow_bytes), 1,
	  0, NACCT_TROW_FLOWS, .need_flows = 1 },
	{ "expired_packets", S | P, "nacct_expired_packets_total",
	  "Packets of flows the exporter removed from the flow map.", "packets",
	  TT(expired_packets), 1, 0, NACCT_TROW_EXPIRED },
	{ "expired_bytes", S | P, "nacct_expired_bytes_total",
	  "Bytes of flows the exporter removed from the flow map.", "bytes", TT(expired_bytes), 1,
	  0, NACCT_TROW_EXPIRED },
	{ "overflow_packets", S | P | I, "nacct_overflow_packets_total",
	  "Packets counted in the overflow bucket because the flow map was full.", "packets",
	  ST(overflow_packets), 1, 0, NACCT_TROW_OVERFLOW, "notSentPacketTotalCount", 167 },
	{ "overflow_bytes", S | P | I, "nacct_overflow_bytes_total", "Bytes of the overflow bucket.",
	  "bytes", ST(overflow_bytes), 1, 0, NACCT_TROW_OVERFLOW, "notSentOctetTotalCount", 168 },
	{ "malformed_packets", S | P, "nacct_malformed_packets_total",
	  "Malformed packets (counted, never dropped).", "packets", ST(malformed_packets), 1, 0,
	  NACCT_TROW_MALFORMED },
	{ "malformed_bytes", S | P, "nacct_malformed_bytes_total", "Bytes of malformed packets.",
	  "bytes", ST(malformed_bytes), 1, 0, NACCT_TROW_MALFORMED },
	{ "nonip_packets", S | P, "nacct_nonip_packets_total",
	  "Frames that carry neither IPv4 nor IPv6.", "packets", ST(nonip_packets), 1, 0,
	  NACCT_TROW_NONIP },
	{ "nonip_bytes", S | P, "nacct_nonip_bytes_total", "Bytes of non-IP frames.", "bytes",
	  ST(nonip_bytes), 1, 0, NACCT_TROW_NONIP },
	{ "ignored_packets", I, "", "Malformed and non-IP packets (IPFIX ignoredPacketTotalCount).",
	  "packets", TT(ignored_packets), 1, 0, NACCT_TROW_NONE, "ignoredPacketTotalCount", 164 },
	{ "ignored_bytes", I, "", "Malformed and non-IP bytes.", "bytes", TT(ignored_bytes), 1, 0,
	  NACCT_TROW_NONE, "ignoredOctetTotalCount", 165 },
	{ "fragments", S | P, "nacct_fragments_total", "IP fragments (also counted in their flows).",
	  "packets", ST(frag_packets), 1, 0, NACCT_TROW_NONE },
	{ "fragments_noports", S | P, "nacct_fragments_noports_total",
	  "Later IP fragments whose first fragment was not seen (ports unknown).", "packets",
	  ST(frag_noports), 1, 0, NACCT_TROW_NONE },
	{ "gso_skbs", S | P, "nacct_gso_skbs_total",
	  "GSO packets split into wire packets by TC egress.", "skbs", ST(gso_skbs), 1, 0,
	  NACCT_TROW_NONE },
	{ "flow_insert_errors", S | P, "nacct_flow_insert_errors_total",
	  "Flow inserts that failed for another reason than a full map.", "errors",
	  ST(flow_insert_err), 0, 0, NACCT_TROW_NONE },
	{ "samples", S | P, "nacct_samples_total", "Packets copied to the sample ring buffer.",
	  "packets", ST(samples), 0, 0, NACCT_TROW_NONE },
	{ "sample_drops", S | P, "nacct_sample_drops_total",
	  "Samples lost because the ring buffer was full.", "packets", ST(sample_drops), 0, 0,
	  NACCT_TROW_NONE },
	{ "flows_created", S | P, "nacct_flows_created_total", "Flows inserted into the flow map.",
	  "flows", ST(flows_created), 0, 0, NACCT_TROW_NONE },
	{ "tunnel_packets", S | P, "nacct_tunnel_packets_total",
	  "Packets decapsulated: counted on their inner flow.", "packets", ST(tunnel_packets), 1,
	  0, NACCT_TROW_NONE },
	{ "tunnel_undecoded", S | P, "nacct_tunnel_undecoded_total",
	  "Tunnel packets with a payload not decoded: counted on their outer flow.", "packets",
	  ST(tunnel_undecoded), 1, 0, NACCT_TROW_NONE },
	{ "tunnels_created", S | P, "nacct_tunnels_created_total",
	  "Tunnels entered into the tunnel table.", "tunnels", ST(tunnels_created), 0, 0,
	  NACCT_TROW_NONE },
	{ "tunnel_overflow", S | P, "nacct_tunnel_overflow_total",
	  "Tunnel packets in the overflow bucket because the tunnel table was full.", "packets",
	  ST(tunnel_overflow), 0, 0, NACCT_TROW_NONE },
	{ "dedup_merged", S | P, "nacct_dedup_merged_total",
	  "Packets a shared domain's host view (--dedup) had counted on another interface already.",
	  "packets", ST(dedup_merged), 0, 0, NACCT_TROW_NONE },
	{ "flows_expired", S | P, "nacct_flows_expired_total",
	  "Flows the exporter removed from the flow map.", "flows", TT(expired_flows), 0, 0,
	  NACCT_TROW_NONE },
};
const size_t nacct_total_nfields = sizeof(nacct_total_fields) / sizeof(nacct_total_fields[0]);

__u64 nacct_total_get(const struct nacct_total_field *f, const struct nacct_totals *t, int dir)
{
	const __u64 *p = (const __u64 *)((const char *)t + f->off);

	if (!f->per_dir)
		return p[0];
	if (dir == NACCT_FD_BOTH)
		return p[0] + p[1];
	return p[dir & 1];
}

/* a - b for counters read at different instants: never below 0 */
static __u64 minus(__u64 a, __u64 b)
{
	return a > b ? a - b : 0;
}

void nacct_totals_derive(struct nacct_totals *t)
{
	const struct nacct_stats *st = &t->st;
	int d;

	for (d = 0; d < NACCT_DIR_MAX; d++) {
		t->ignored_packets[d] = st->malformed_packets[d] + st->nonip_packets[d];
		t->ignored_bytes[d] = st->malformed_bytes[d] + st->nonip_bytes[d];
		if (t->have_flows)
			continue;
		/* every packet lands in exactly one bucket: what the others and
		 * the exporter do not hold is in the flows (the NIC's, offload,
		 * are in no flow) */
		t->flow_packets[d] = minus(st->packets[d] - t->hw_packets[d],
					   st->overflow_packets[d] + st->malformed_packets[d] +
						   st->nonip_packets[d] + t->expired_packets[d]);
		t->flow_bytes[d] = minus(st->bytes[d] - t->hw_bytes[d],
					 st->overflow_bytes[d] + st->malformed_bytes[d] +
						 st->nonip_bytes[d] + t->expired_bytes[d]);
	}
	if (!t->have_flows)
		t->flows = minus(st->flows_created, t->expired_flows);
}
