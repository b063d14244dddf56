// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The record formatters (lib/fmt.c: table, JSON, CSV from the field
 * table) and the JSON sink of export: values, escapes, null side fields
 * against present ones, CSV quoting of JSON-valued fields, and the
 * contract that `flows --csv`'s header, `flows --json`'s keys and the
 * flow part of `export --json`'s keys are one list.  JSON and CSV are
 * read back with a real parser: python3's json and csv modules.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "check.h"
#include "memstore.h"
#include "../../ctl/sink.h"
#include "../../lib/fmt.h"
#include "../../lib/names.h"
#include "../../lib/side.h"

/* JSON lines -> "K key,key,..." and "V key value" lines (value as json.dumps);
 * CSV -> one json.dumps(row) per row */
static const char py[] =
	"import sys, json, csv\n"
	"if sys.argv[1] == 'json':\n"
	"    for line in sys.stdin:\n"
	"        o = json.loads(line)\n"
	"        print('K ' + ','.join(o.keys()))\n"
	"        for k, v in o.items():\n"
	"            print('V %s %s' % (k, json.dumps(v, sort_keys=True, separators=(',', ':'))))\n"
	"else:\n"
	"    for row in csv.reader(sys.stdin):\n"
	"        print(json.dumps(row, separators=(',', ':')))\n";

static char g_py[64];

/* the parser's view of text: NULL when python3 fails */
static char *parse(const char *mode, const char *text)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "python3 %s %s", g_py, mode);
	return t_run(cmd, text);
}

/* line @n (0-based) of kind K, or the value of key @key in record @rec */
static char *nth_keys(const char *out, int rec)
{
	const char *p = out;
	int i = -1;

	for (; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncmp(p, "K ", 2) && ++i == rec) {
			size_t n = strcspn(p + 2, "\n");

			return strndup(p + 2, n);
		}
	}
	return strdup("");
}

static char *value(const char *out, int rec, const char *key)
{
	const char *p = out;
	size_t kl = strlen(key);
	int i = -1;

	for (; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncmp(p, "K ", 2))
			i++;
		else if (i == rec && !strncmp(p, "V ", 2) && !strncmp(p + 2, key, kl) &&
			 p[2 + kl] == ' ')
			return strndup(p + 3 + kl, strcspn(p + 3 + kl, "\n"));
	}
	return strdup("(missing)");
}

static void expect_value(const char *out, int rec, const char *key, const char *want,
			 const char *what)
{
	char name[200], *v = value(out, rec, key);

	snprintf(name, sizeof(name), "fmt: %s: %s = %.60s%s", what, key, want,
		 strlen(want) > 60 ? "..." : "");
	t_eq_str(name, want, v);
	free(v);
}

/* ---- two records: without and with the side programs ----------------------- */

static const __u8 V6A[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x0a };
static const __u8 V6B[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x0b };

struct fixture {
	struct nacct_rec r[2];
	struct nacct_tcp_val tcp;
	struct nacct_probe_rec prec;
	struct nacct_probe_drop drops[2];
	struct nacct_probe_view pv;
	struct nacct_side side;
	char t0[32], t1[32];
};

static void fixture(struct fixture *fx, const char *ifname0)
{
	struct nacct_flow_val v;
	char tb[40];

	memset(fx, 0, sizeof(*fx));
	memset(&v, 0, sizeof(v));
	v.packets[0] = 5;
	v.packets[1] = 3;
	v.bytes[0] = 500;
	v.bytes[1] = 300;
	v.tcp_flags[0] = 0x12;
	v.tcp_flags[1] = 0x10;
	v.first_seen = t_mid_ms(1000000000ULL);
	v.last_seen = t_mid_ms(3500000000ULL);
	v.first_dir = 1;
	{
		struct nacct_flow_key k;

		ms_key4(&k, 6, 0xc0000201, 80, 0xc6336402, 40000);
		k.vlan = 12;
		nacct_rec_flow(&fx->r[0], ifname0, &k, &v);
	}
	/* the second: IPv6 UDP, lo sent first, with a socket record and drops */
	v.packets[1] = 0;
	v.bytes[1] = 0;
	v.tcp_flags[0] = v.tcp_flags[1] = 0;
	v.first_dir = 0;
	{
		struct nacct_flow_key k;

		ms_key6(&k, 17, V6A, 5353, V6B, 5353);
		nacct_rec_flow(&fx->r[1], "veth1", &k, &v);
		fx->prec.key = k;
	}
	fx->tcp.state[0] = 1; /* ESTABLISHED on lo, the src */
	fx->tcp.pid[0] = 4242;
	memcpy(fx->tcp.comm[0], "ev\"il,cmd", 9);
	fx->tcp.retrans[0] = 2;
	fx->tcp.retrans[1] = 1;
	fx->tcp.srtt_us[0] = 1500;
	fx->tcp.connect_ns[0] = 2500000;
	fx->prec.val = fx->tcp;
	fx->drops[0].key.flow = fx->prec.key;
	fx->drops[0].key.reason = 2;
	fx->drops[0].count = 3;
	fx->drops[1].key.flow = fx->prec.key;
	fx->drops[1].key.reason = 5;
	fx->drops[1].count = 1;
	fx->pv.recs = &fx->prec;
	fx->pv.n_recs = 1;
	fx->pv.drops = fx->drops;
	fx->pv.n_drops = 2;
	nacct_probe_view_side(&fx->pv, &fx->r[1].key, &fx->side);
	fx->r[1].side = &fx->side;
	snprintf(fx->t0, sizeof(fx->t0), "\"%s\"",
		 nacct_rfc3339(nacct_mono_to_wall(v.first_seen), tb, sizeof(tb)));
	snprintf(fx->t1, sizeof(fx->t1), "\"%s\"",
		 nacct_rfc3339(nacct_mono_to_wall(v.last_seen), tb, sizeof(tb)));
}

static void json_values(void)
{
	static const struct nacct_fmt fm = { NACCT_FMT_JSON, NACCT_OUT_FLOW };
	struct nacct_obuf o = { 0 };
	struct fixture fx;
	char *out, want[200];

	fixture(&fx, "we\"ird\\na\x01me");
	nacct_fmt_rec(&o, &fm, &fx.r[0]);
	nacct_fmt_rec(&o, &fm, &fx.r[1]);
	out = parse("json", o.p);
	if (!t_true("fmt: flows --json lines parse (python3 json)", out && strstr(out, "K "))) {
		free(out);
		nacct_obuf_free(&o);
		return;
	}
	expect_value(out, 0, "ifname", "\"we\\\"ird\\\\na\\u0001me\"", "JSON escapes the name");
	expect_value(out, 0, "src", "\"198.51.100.2\"", "IPv4 TCP");
	expect_value(out, 0, "sport", "40000", "IPv4 TCP");
	expect_value(out, 0, "dst", "\"192.0.2.1\"", "IPv4 TCP");
	expect_value(out, 0, "dport", "80", "IPv4 TCP");
	expect_value(out, 0, "proto", "\"tcp\"", "IPv4 TCP");
	expect_value(out, 0, "family", "4", "IPv4 TCP");
	expect_value(out, 0, "vlan", "12", "IPv4 TCP");
	expect_value(out, 0, "packets", "8", "IPv4 TCP");
	expect_value(out, 0, "bytes", "800", "IPv4 TCP");
	expect_value(out, 0, "rx_packets", "5", "IPv4 TCP");
	expect_value(out, 0, "tx_bytes", "300", "IPv4 TCP");
	expect_value(out, 0, "tcp_flags", "\"SA\"", "IPv4 TCP");
	expect_value(out, 0, "first_seen", fx.t0, "IPv4 TCP");
	expect_value(out, 0, "last_seen", fx.t1, "IPv4 TCP");
	expect_value(out, 0, "retransmits", "null", "no side programs: null");
	expect_value(out, 0, "state", "null", "no side programs: null");
	expect_value(out, 0, "drop_reasons", "null", "no side programs: null");
	expect_value(out, 0, "sockets", "null", "no side programs: null");
	expect_value(out, 0, "tunnel", "null", "not tunnelled: null");
	expect_value(out, 0, "tunnel_id", "0", "not tunnelled: 0");
	expect_value(out, 0, "outer_src", "null", "not tunnelled: null");
	expect_value(out, 1, "src", "\"2001:db8::a\"", "IPv6 UDP");
	expect_value(out, 1, "dst", "\"2001:db8::b\"", "IPv6 UDP");
	expect_value(out, 1, "tcp_flags", "\"\"", "IPv6 UDP");
	expect_value(out, 1, "retransmits", "3", "side programs");
	expect_value(out, 1, "drops", "4", "side programs");
	expect_value(out, 1, "state", "\"ESTABLISHED\"", "side programs");
	expect_value(out, 1, "pid", "4242", "side programs");
	expect_value(out, 1, "comm", "\"ev\\\"il,cmd\"", "side programs");
	expect_value(out, 1, "srtt_us", "1500", "side programs");
	expect_value(out, 1, "connect_latency_us", "2500.0", "side programs");
	{
		/* json.dumps sorted the keys: the kernel's names of reasons 2 and 5 */
		char a[64], b[64];

		nacct_drop_reason_name(2, a, sizeof(a));
		nacct_drop_reason_name(5, b, sizeof(b));
		if (strcmp(a, b) < 0)
			snprintf(want, sizeof(want), "{\"%s\":3,\"%s\":1}", a, b);
		else
			snprintf(want, sizeof(want), "{\"%s\":1,\"%s\":3}", b, a);
	}
	expect_value(out, 1, "drop_reasons", want, "side programs (an object)");
	expect_value(out, 1, "sockets",
		     "[{\"comm\":\"ev\\\"il,cmd\",\"connect_latency_us\":2500.0,\"end\":\"src\","
		     "\"pid\":4242,\"retransmits\":2,\"srtt_us\":1500,\"state\":\"ESTABLISHED\"},"
		     "{\"comm\":\"\",\"connect_latency_us\":0.0,\"end\":\"dst\",\"pid\":0,"
		     "\"retransmits\":1,\"srtt_us\":0,\"state\":\"\"}]",
		     "side programs (an array)");
	free(out);
	nacct_obuf_free(&o);
}

/* CSV: the same values, quoted where needed, JSON text for JSON fields */
static void csv_values(void)
{
	static const struct nacct_fmt fc = { NACCT_FMT_CSV, NACCT_OUT_FLOW };
	static const struct nacct_fmt fj = { NACCT_FMT_JSON, NACCT_OUT_FLOW };
	struct nacct_obuf c = { 0 }, j = { 0 };
	struct fixture fx;
	char *rows, *js, *hdr_row, *keys;
	size_t i, n = 0;

	fixture(&fx, "a,b \"q\"");
	nacct_fmt_header(&c, &fc);
	nacct_fmt_rec(&c, &fc, &fx.r[0]);
	nacct_fmt_rec(&c, &fc, &fx.r[1]);
	nacct_fmt_rec(&j, &fj, &fx.r[0]);
	rows = parse("csv", c.p);
	js = parse("json", j.p);
	if (!t_true("fmt: flows --csv parses (python3 csv)", rows && js && *rows)) {
		free(rows);
		free(js);
		return;
	}
	/* the header row is the JSON keys, in order */
	hdr_row = strndup(rows, strcspn(rows, "\n"));
	keys = nth_keys(js, 0);
	{
		char want[4096] = "[";
		char *k = keys, *e;

		for (; k && *k; k = e ? e + 1 : NULL) {
			e = strchr(k, ',');
			snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s\"%.*s\"",
				 n++ ? "," : "", (int)(e ? e - k : (long)strlen(k)), k);
		}
		strcat(want, "]");
		t_eq_str("fmt: CSV header = the JSON keys of flows, in order", want, hdr_row);
	}
	/* row 1: the quoted name; null side fields empty */
	{
		const char *r1 = strchr(rows, '\n') + 1;
		char *line1 = strndup(r1, strcspn(r1, "\n"));
		const char *r2 = strchr(r1, '\n') + 1;
		char *line2 = strndup(r2, strcspn(r2, "\n"));

		t_true("fmt: CSV quotes a name with a comma and quotes",
		       !strncmp(line1, "[\"a,b \\\"q\\\"\"", 12));
		t_true("fmt: CSV: null side fields are empty cells",
		       strstr(line1, ",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"]") !=
			       NULL);
		t_true("fmt: CSV: a JSON-valued field is its JSON text in one quoted cell",
		       strstr(line2, "\"[{\\\"end\\\":\\\"src\\\",\\\"state\\\":\\\"ESTABLISHED\\\"") !=
			       NULL);
		t_true("fmt: CSV: the comm with a comma and a quote stays one cell",
		       strstr(line2, ",\"ev\\\"il,cmd\",") != NULL);
		for (i = 0, n = 0; line1[i]; i++)
			n += line1[i] == '"';
		free(line1);
		free(line2);
	}
	free(hdr_row);
	free(keys);
	free(rows);
	free(js);
	nacct_obuf_free(&c);
	nacct_obuf_free(&j);
}

/* ClickHouse's TabSeparated rows (the ClickHouse sink) */
static void tsv_values(void)
{
	static const struct nacct_fmt ft = { NACCT_FMT_TSV, NACCT_OUT_FLOW | NACCT_OUT_EXPORT };
	struct nacct_obuf o = { 0 };
	struct fixture fx;
	char *line, *cell, *save = NULL, want[64];
	size_t i, n = 0, nf = 0, nulls = 0, bad_null = 0;
	int r;

	fixture(&fx, "a\tb\\c\nd");
	fx.r[0].dir = 0;
	fx.r[0].final = 1;
	nacct_fmt_rec(&o, &ft, &fx.r[0]);
	for (i = 0; i < nacct_flow_nfields; i++)
		nf += nacct_fmt_has(&ft, &nacct_flow_fields[i]);
	line = strndup(o.p, strcspn(o.p, "\n"));
	t_true("fmt: TSV: one line per record (a newline in a name is escaped)",
	       o.len == strlen(line) + 1);
	for (i = 0; line[i]; i++)
		n += line[i] == '\t';
	t_eq_u64("fmt: TSV: one cell per field of export records", nf, n + 1);
	t_true("fmt: TSV: tab, backslash and newline of a name escaped",
	       strstr(line, "a\\tb\\\\c\\nd\t") != NULL);
	/* cells by field: times as ClickHouse DateTime, nulls \N, booleans 0/1 */
	for (i = 0, cell = strtok_r(line, "\t", &save); cell && i < nacct_flow_nfields; i++) {
		const struct nacct_field *f = &nacct_flow_fields[i];

		if (!nacct_fmt_has(&ft, f))
			continue;
		if (!strcmp(f->name, "first_seen")) {
			snprintf(want, sizeof(want), "%.19s", fx.t0 + 1);
			want[10] = ' ';
			t_eq_str("fmt: TSV: a time is YYYY-MM-DD hh:mm:ss (UTC)", want, cell);
		}
		if (!strcmp(f->name, "final"))
			t_eq_str("fmt: TSV: a boolean is 1 or 0", "1", cell);
		nulls += !strcmp(cell, "\\N");
		cell = strtok_r(NULL, "\t", &save);
	}
	t_true("fmt: TSV: the side fields of a record without them are \\N", nulls >= 10);
	free(line);
	nacct_obuf_free(&o);
	/* a field that can be null is declared so (ClickHouse: Nullable) */
	for (r = 0; r < 2; r++)
		for (i = 0; i < nacct_flow_nfields; i++) {
			struct nacct_fval v;
			char buf[64];

			fx.r[r].side = NULL;
			fx.r[r].key.tunnel = r; /* one with a tunnel handle no longer known */
			nacct_field_get(&nacct_flow_fields[i], &fx.r[r], &v, buf, sizeof(buf));
			if (v.null && !nacct_field_nullable(&nacct_flow_fields[i])) {
				t_note("field %s is null but not declared nullable",
				       nacct_flow_fields[i].name);
				bad_null++;
			}
		}
	t_eq_u64("fmt: every field that can be null is declared nullable", 0, bad_null);
}

static void table_values(void)
{
	struct nacct_fmt ft = { NACCT_FMT_TABLE, NACCT_OUT_FLOW, 1 };
	struct nacct_obuf o = { 0 };
	struct fixture fx;
	char tb[40], last[16], want[512];
	const char *row;

	fixture(&fx, "veth0");
	nacct_fmt_header(&o, &ft);
	nacct_fmt_rec(&o, &ft, &fx.r[0]);
	nacct_fmt_rec(&o, &ft, &fx.r[1]);
	nacct_rfc3339(nacct_mono_to_wall(fx.r[0].val.last_seen), tb, sizeof(tb));
	snprintf(last, sizeof(last), "%.12s", tb + 11);
	t_true("fmt: table header", !strncmp(o.p, "IFACE", 5) && strstr(o.p, "PACKETS") &&
	       strstr(o.p, "RETRANS"));
	row = strchr(o.p, '\n') + 1;
	{
		/* whitespace-separated cells of the first row */
		char *line = strndup(row, strcspn(row, "\n")), *tok, *save = NULL;

		want[0] = '\0';
		for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
			snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s|", tok);
		free(line);
	}
	{
		char expect[512];

		snprintf(expect, sizeof(expect),
			 "veth0|tcp|198.51.100.2|40000|>|192.0.2.1|80|12|-|8|800|5|3|SA|%s|-|-|-|-|-|-|",
			 last);
		t_eq_str("fmt: table row: src > dst (initiator first), counters, flags, time of "
			 "day, '-' for the tunnel and the side columns without the side programs", expect,
			 want);
	}
	row = strchr(row, '\n') + 1;
	t_true("fmt: table row with the side programs: state, pid, comm",
	       strstr(row, "ESTABLISHED") && strstr(row, "4242") && strstr(row, "ev\"il,cmd"));
	nacct_obuf_free(&o);
}

/*
 * A tunnelled flow: its tunnel's type, id and outer endpoints, oriented
 * with src and dst (outer_dir names the endpoint of the key's lo), and
 * the compact TUNNEL column; a handle whose tunnel is gone: "unknown".
 */
static void tunnel_values(void)
{
	static const struct nacct_fmt fm = { NACCT_FMT_JSON, NACCT_OUT_FLOW };
	struct nacct_fmt ft = { NACCT_FMT_TABLE, NACCT_OUT_FLOW, 0 };
	struct nacct_obuf o = { 0 }, t = { 0 };
	struct nacct_tun tun;
	struct fixture fx;
	char *out;

	fixture(&fx, "eth0");
	t_vxlan_tun(&tun, 7 << 16 | 1);
	fx.r[0].key.tunnel = tun.handle;
	fx.r[0].tun = &tun;
	/* the key's lo (192.0.2.1, dst: src_hi) goes through outer_hi */
	fx.r[0].val.outer_dir = 2;
	fx.r[1].key.tunnel = 99; /* its tunnel no longer known */
	nacct_fmt_rec(&o, &fm, &fx.r[0]);
	nacct_fmt_rec(&o, &fm, &fx.r[1]);
	out = parse("json", o.p);
	if (t_true("fmt: tunnelled flows parse", out && strstr(out, "K "))) {
		expect_value(out, 0, "tunnel", "\"vxlan\"", "tunnel");
		expect_value(out, 0, "tunnel_id", "4242", "tunnel");
		expect_value(out, 0, "outer_src", fx.r[0].src_hi ? "\"198.18.9.1\"" :
								   "\"198.18.9.2\"",
			     "outer_src goes with src");
		expect_value(out, 0, "outer_dst", fx.r[0].src_hi ? "\"198.18.9.2\"" :
								   "\"198.18.9.1\"",
			     "outer_dst goes with dst");
		expect_value(out, 1, "tunnel", "\"unknown\"", "a handle without its tunnel");
	}
	free(out);
	nacct_fmt_rec(&t, &ft, &fx.r[0]);
	t_true("fmt: table TUNNEL column: TYPE:ID", t.p && strstr(t.p, " vxlan:4242 "));
	nacct_obuf_free(&o);
	nacct_obuf_free(&t);
}

/* ---- the contract: flows --csv header = flows --json keys = export's flow keys ----- */

static const char *const export_only[] = { "type", "seq", "direction", "start", "end",
					   "start_ms", "end_ms", "final", NULL };

static void contract(void)
{
	static const struct nacct_fmt fc = { NACCT_FMT_CSV, NACCT_OUT_FLOW };
	static const struct nacct_fmt fj = { NACCT_FMT_JSON, NACCT_OUT_FLOW };
	struct nacct_obuf c = { 0 }, j = { 0 };
	struct nacct_sink *sink = NULL;
	struct nacct_totals t;
	struct nacct_xtotals xt;
	struct mmsghdr mm;
	struct fixture fx;
	struct nacct_rec er;
	const void *buf;
	size_t len = 0;
	unsigned int recs = 0;
	char *ejs = NULL, *fjs, *ekeys, *fkeys, flowpart[4096] = "", got[65536];
	char *hdr;
	int p[2];
	ssize_t n;

	fixture(&fx, "veth0");
	nacct_fmt_header(&c, &fc);
	nacct_fmt_rec(&j, &fj, &fx.r[1]);
	/* export --json: the JSON sink, a delta record and a stats line */
	if (pipe(p) || nacct_sink_json_new(&sink, p[1])) {
		t_fail("fmt: export --json through the JSON sink", "pipe");
		return;
	}
	er = fx.r[1]; /* its side record joined, as the exporter core joins it */
	er.dir = NACCT_DIR_RX;
	er.seq = 41;
	er.final = 1;
	er.ifindex = 3;
	sink->ops->rec(sink, &er);
	memset(&t, 0, sizeof(t));
	t.st.packets[0] = 99;
	xt = (struct nacct_xtotals){ .t = &t, .ifname = "veth1", .ifindex = 3, .dir = 0,
				     .obs_ms = 1700000000000ULL, .flows = 10, .max_flows = 40 };
	sink->ops->totals(sink, &xt);
	sink->ops->seal(sink, 41, &buf, &len, &recs);
	t_eq_u64("fmt: export --json: records in the message (a flow, a stats line)", 2, recs);
	sink->ops->send(sink, buf, len, &mm);
	t_eq_u64("fmt: export --json: the send is recorded (msg_len)", len, mm.msg_len);
	n = read(p[0], got, sizeof(got) - 1);
	got[n > 0 ? n : 0] = '\0';
	close(p[0]);
	close(p[1]);
	sink->ops->close(sink);
	ejs = parse("json", got);
	fjs = parse("json", j.p);
	if (!t_true("fmt: export --json lines parse (python3 json)", ejs && fjs && strstr(ejs, "K "))) {
		free(ejs);
		free(fjs);
		return;
	}
	ekeys = nth_keys(ejs, 0);
	fkeys = nth_keys(fjs, 0);
	{
		char *k = ekeys, *e;
		int i, skip;

		for (; k && *k; k = e ? e + 1 : NULL) {
			size_t kl;

			e = strchr(k, ',');
			kl = e ? (size_t)(e - k) : strlen(k);
			for (i = 0, skip = 0; export_only[i]; i++)
				skip |= strlen(export_only[i]) == kl && !strncmp(export_only[i], k, kl);
			if (!skip)
				snprintf(flowpart + strlen(flowpart), sizeof(flowpart) - strlen(flowpart),
					 "%s%.*s", flowpart[0] ? "," : "", (int)kl, k);
		}
	}
	hdr = strndup(c.p, strcspn(c.p, "\n"));
	t_eq_str("fmt: the flows --csv header = the keys of a flows --json line", hdr, fkeys);
	t_eq_str("fmt: ... = the flow part of an export --json record's keys", fkeys, flowpart);
	{
		char want[512] = "type,seq,direction,";

		strcat(want, "ifname");
		t_true("fmt: export --json adds type, seq, direction first and start, end, "
		       "start_ms, end_ms, final after the flow's keys",
		       !strncmp(ekeys, want, strlen(want)) &&
			       strstr(ekeys, ",start,end,start_ms,end_ms,final") &&
			       !strcmp(ekeys + strlen(ekeys) - strlen("start,end,start_ms,end_ms,final"),
				       "start,end,start_ms,end_ms,final"));
	}
	expect_value(ejs, 0, "type", "\"flow\"", "export --json");
	expect_value(ejs, 0, "seq", "41", "export --json");
	expect_value(ejs, 0, "direction", "\"rx\"", "export --json");
	expect_value(ejs, 0, "final", "true", "export --json");
	expect_value(ejs, 0, "retransmits", "3", "export --json joins the side records");
	expect_value(ejs, 1, "type", "\"stats\"", "export --json stats line");
	expect_value(ejs, 1, "packets", "99", "export --json stats line");
	expect_value(ejs, 1, "fill", "0.25", "export --json stats line");
	{
		char *sk = nth_keys(ejs, 1);

		t_eq_str("fmt: export --json stats line keys",
			 "type,ifname,direction,time_ms,packets,bytes,expired_packets,expired_bytes,"
			 "overflow_packets,"
			 "overflow_bytes,malformed_packets,malformed_bytes,nonip_packets,nonip_bytes,"
			 "fragments,fragments_noports,gso_skbs,tunnel_packets,tunnel_undecoded,"
			 "flows,max_flows,fill", sk);
		free(sk);
	}
	free(hdr);
	free(ekeys);
	free(fkeys);
	free(ejs);
	free(fjs);
	nacct_obuf_free(&c);
	nacct_obuf_free(&j);
}

void check_fmt(void)
{
	int fd;

	snprintf(g_py, sizeof(g_py), "/tmp/nacct-check-py.XXXXXX");
	fd = mkstemp(g_py);
	if (fd < 0 || write(fd, py, sizeof(py) - 1) != (ssize_t)(sizeof(py) - 1)) {
		t_fail("fmt: python3 helper", "cannot write %s", g_py);
		return;
	}
	close(fd);
	json_values();
	csv_values();
	tsv_values();
	table_values();
	tunnel_values();
	contract();
	unlink(g_py);
}
