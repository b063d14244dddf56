#!/bin/bash
# IPFIX as collectors read it, field by field: one `nacct export --ipfix
# --json` writes the same records to a collector and as JSON lines (two
# sinks of one expiry pass).  The collector is pmacct's nfacctd (Debian),
# started here on 127.0.0.1 in the test's namespace; tshark's own IPFIX
# dissector decodes the same datagrams (captured on lo).  Then:
#   - tshark, record by record: addresses, ports, protocol, packets, bytes,
#     start/end ms, flowDirection, ingress/egressInterface, samplingInterval
#     equal the JSON line of the same record;
#   - nfacctd's per-flow packets and bytes equal the JSON records' sums,
#     and the generators' counts.
source "$(dirname "$0")/../lib.sh"
t_need_root
for tool in tshark nfacctd jq python3; do
	command -v $tool >/dev/null || { t_skip export_collectors "$tool not installed (scripts/deps.sh test)"; exit 0; }
done
UDPSEND=$ROOT/.output/udpsend
[ -x "$UDPSEND" ] || { t_skip export_collectors "build .output/udpsend"; exit 0; }
t_setup_pair || { t_fail setup "cannot create netns pair"; exit 1; }
nacct_b attach "$IF_B" --mode generic >/dev/null 2>&1 || { t_fail attach "nacct attach failed"; exit 1; }
t_drop_udp b 9000 9001 || { t_fail setup "nft"; exit 1; }
PORT=24739

# ---- nfacctd: every flow, printed as JSON when it ends --------------------------
cat >"$T_TMP/nfacctd.conf" <<EOF
daemonize: false
nfacctd_ip: 127.0.0.1
nfacctd_port: $PORT
plugins: print[flows]
aggregate[flows]: src_host, dst_host, src_port, dst_port, proto
print_output[flows]: json
print_output_file[flows]: $T_TMP/nfacctd.json
print_refresh_time[flows]: 600
EOF
nsenter --net=/run/netns/"$NS_B" nfacctd -f "$T_TMP/nfacctd.conf" >"$T_TMP/nfacctd.log" 2>&1 &
NFA=$!
t_cleanup_add "kill -9 $NFA"
for _ in $(seq 50); do
	in_b ss -Huln "sport = :$PORT" | grep -q . && break
	sleep 0.1
done
in_b ss -Huln "sport = :$PORT" | grep -q . || { t_fail "nfacctd listens" "$(tail -n 5 "$T_TMP/nfacctd.log")"; exit 1; }
t_log "$(nfacctd -V 2>&1 | head -n 1)"
t_tcpdump_start "$NS_B" lo "$T_TMP/ipfix.pcap" || t_fail "tcpdump on lo" "$(cat "$T_TMP/ipfix.pcap.err")"

nsenter --net=/run/netns/"$NS_B" "$NACCT" export "$IF_B" --ipfix 127.0.0.1:$PORT --json \
	--observation-domain 7 --idle-timeout 1 --active-timeout 2 \
	>"$T_TMP/records.jsonl" 2>"$T_TMP/export.log" &
EXP=$!
t_cleanup_add "kill -9 $EXP"
sleep 1

# ---- traffic: v4 and v6 UDP flows, pings both ways; active splits and idle expiry
s4=$(in_a "$UDPSEND" 198.18.0.2 9000 300 200 41000 30)
s6=$(in_a "$UDPSEND" fd00:18::2 9001 200 300 42000 20)
in_a ping -c 5 -i 0.2 -q 198.18.0.2 >/dev/null
sleep 2.5
s4b=$(in_a "$UDPSEND" 198.18.0.2 9000 150 120 41000 30)
in_b ping -c 4 -i 0.2 -q 198.18.0.1 >/dev/null
sleep 3
kill -TERM "$EXP"
wait "$EXP"
t_check "exporter exits cleanly on SIGTERM" 0 "$?"
sleep 0.5
t_tcpdump_stop
# nfacctd writes its cache on SIGUSR1? print plugins flush on exit
kill -INT "$NFA"
wait "$NFA" 2>/dev/null

nj=$(jq -s 'map(select(.type == "flow")) | length' "$T_TMP/records.jsonl")
t_log "export --json: $nj flow records; $(grep -c . "$T_TMP/export.log") log lines"

# ---- tshark, record by record ---------------------------------------------------------
tshark -r "$T_TMP/ipfix.pcap" -d udp.port==$PORT,cflow -Y cflow -T json 2>"$T_TMP/tshark.err" \
	>"$T_TMP/tshark.json"
python3 - "$T_TMP/tshark.json" "$T_TMP/records.jsonl" <<'PY' >"$T_TMP/cmp.txt"
import json, sys, datetime
ts = json.load(open(sys.argv[1]))
flows = []
def walk(o):
    if isinstance(o, dict):
        if "cflow.srcport" in o or "cflow.protocol" in o:
            flows.append(o)
            return
        for v in o.values():
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
for p in ts:
    walk(p["_source"]["layers"].get("cflow", {}))
def ms(s):
    # "Dec  7, 2026 10:40:00.123000000 UTC" (or with a zone name)
    s = " ".join(s.split())
    d, frac = s.rsplit(".", 1)
    frac = frac.split(" ")[0]
    t = datetime.datetime.strptime(d, "%b %d, %Y %H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp()) * 1000 + int(frac[:3])
def flags(b):
    # nacct's letters, in its order (lib/names.c)
    return "".join(c for i, c in enumerate("FSRPAUEC") if b & (1 << i))
def g(f, *names):
    for n in names:
        if n in f:
            return f[n]
    return None
dec = []
for f in flows:
    dec.append({
        "src": g(f, "cflow.srcaddr", "cflow.srcaddrv6"),
        "dst": g(f, "cflow.dstaddr", "cflow.dstaddrv6"),
        "sport": int(g(f, "cflow.srcport")), "dport": int(g(f, "cflow.dstport")),
        "proto_num": int(g(f, "cflow.protocol")),
        "packets": int(g(f, "cflow.packets64", "cflow.packets")),
        "bytes": int(g(f, "cflow.octets64", "cflow.octets")),
        "start_ms": ms(g(f.get("cflow.timedelta_tree", f), "cflow.abstimestart")),
        "end_ms": ms(g(f.get("cflow.timedelta_tree", f), "cflow.abstimeend")),
        "vlan": int(g(f, "cflow.vlanid")),
        "tcp_flags": flags(int(g(f, "cflow.tcpflags"), 16)),
        "direction": "rx" if g(f, "cflow.direction") == "0" else "tx",
        "in": int(g(f, "cflow.inputint")), "out": int(g(f, "cflow.outputint")),
        "sampling": int(g(f, "cflow.sampling_interval")),
    })
js = [r for r in map(json.loads, open(sys.argv[2])) if r.get("type") == "flow"]
keys = ["src", "dst", "sport", "dport", "proto_num", "packets", "bytes", "start_ms", "end_ms",
        "direction", "vlan", "tcp_flags"]
def k(r):
    return tuple(str(r[x]) for x in keys)
a = sorted(map(k, dec))
b = sorted(map(k, js))
print("records", len(dec), len(js))
print("equal", 1 if a == b else 0)
for x, y in zip(a, b):
    if x != y:
        print("first difference:", x, "vs", y)
        break
# the interface of each record: ingress for rx, egress for tx; 1-in-1 sampling
ifs = sorted({(d["direction"], d["in"] != 0, d["out"] != 0) for d in dec})
print("ifaces", ifs)
print("sampling", sorted({d["sampling"] for d in dec}))
PY
t_log "$(head -n 1 "$T_TMP/cmp.txt")"
t_check "tshark decodes as many flow records as export --json wrote" "records $nj $nj" \
	"$(grep '^records' "$T_TMP/cmp.txt")"
if grep -q '^equal 1' "$T_TMP/cmp.txt"; then
	t_ok "tshark = export --json, record by record: addresses, ports, protocol, packets, bytes, start/end ms, direction, vlan, TCP flags"
else
	t_fail "tshark = export --json, record by record" "$(grep -v '^equal' "$T_TMP/cmp.txt")" "$(tail -n 3 "$T_TMP/tshark.err")"
fi
t_check "tshark: rx records carry ingressInterface, tx egressInterface" \
	"ifaces [('rx', True, False), ('tx', False, True)]" "$(grep '^ifaces' "$T_TMP/cmp.txt")"
t_check "tshark: samplingInterval 1 on every record" "sampling [1]" "$(grep '^sampling' "$T_TMP/cmp.txt")"

# ---- nfacctd: per flow, the JSON records' sums --------------------------------------------
if [ -s "$T_TMP/nfacctd.json" ]; then
	want=$(jq -s -r 'map(select(.type == "flow")) | group_by([.src, .dst, .sport, .dport, .proto_num])
		| map("\(.[0].src) \(.[0].dst) \(.[0].sport) \(.[0].dport) \(.[0].proto_num) \(map(.packets) | add) \(map(.bytes) | add)")
		| sort | .[]' "$T_TMP/records.jsonl")
	got=$(jq -r '"\(.ip_src) \(.ip_dst) \(.port_src) \(.port_dst) \(.ip_proto) \(.packets) \(.bytes)"' "$T_TMP/nfacctd.json" |
		awk '{ p = $5; if (p == "udp") p = 17; else if (p == "icmp") p = 1; else if (p == "ipv6-icmp") p = 58; else if (p == "tcp") p = 6;
			k = $1 " " $2 " " $3 " " $4 " " p; pk[k] += $6; by[k] += $7 }
			END { for (k in pk) print k, pk[k], by[k] }' | sort)
	t_check "nfacctd: flows it received (as export --json)" "$(grep -c . <<<"$want")" "$(grep -c . <<<"$got")"
	if [ "$want" = "$got" ]; then
		t_ok "nfacctd: per-flow packets and bytes = export --json's sums"
	else
		t_fail "nfacctd: per-flow packets and bytes = export --json's sums" \
			"$(diff <(echo "$want") <(echo "$got") | head -n 8)"
	fi
	t_check "nfacctd: UDP to 9000 = the generator's count" "$((s4 + s4b))" \
		"$(jq -s 'map(select(.port_dst == 9000) | .packets) | add' "$T_TMP/nfacctd.json")"
	t_check "nfacctd: UDP to 9001 (IPv6) = the generator's count" "$s6" \
		"$(jq -s 'map(select(.port_dst == 9001) | .packets) | add' "$T_TMP/nfacctd.json")"
else
	t_fail "nfacctd wrote its flows" "$(tail -n 5 "$T_TMP/nfacctd.log")"
fi
exit 0
