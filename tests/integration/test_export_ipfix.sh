#!/bin/bash
# nacct export: a real IPFIX collector (nfcapd, from nfdump) in the test's
# namespace receives nacct's records over UDP; nfdump's totals must equal
# the generators' counts and nacct's own interface totals exactly, across
# idle expiry, active-timeout splits and a kill -9 + restart of the
# exporter in the middle of the run; start <= end on every record.
source "$(dirname "$0")/../lib.sh"
t_need_root
for tool in nfcapd nfdump ncat jq; do
	command -v $tool >/dev/null || { t_skip export_ipfix "$tool not installed (scripts/deps.sh test)"; exit 0; }
done
UDPSEND=$ROOT/.output/udpsend
[ -x "$UDPSEND" ] || { t_skip export_ipfix "build .output/udpsend (make test-integration)"; exit 0; }
t_setup_pair || { t_fail setup "cannot create netns pair"; exit 1; }
# all/default do not reach interfaces that exist already: no stray RS
ip netns exec "$NS_A" sysctl -qw net.ipv6.conf."$IF_A".router_solicitations=0
ip netns exec "$NS_B" sysctl -qw net.ipv6.conf."$IF_B".router_solicitations=0

PORT=4739
NF=$T_TMP/nf
mkdir -p "$NF"
nacct_b attach "$IF_B" --mode generic >/dev/null 2>&1 || { t_fail attach "nacct attach failed"; exit 1; }
T0=$(date +%s)

# the collector, inside namespace B (its 127.0.0.1 is private to the test)
in_b nfcapd -w "$NF" -b 127.0.0.1 -p $PORT -t 2 -I nacct >"$T_TMP/nfcapd.log" 2>&1 &
NFCAPD=$!
t_cleanup_add "kill $NFCAPD"
# B drops the test's UDP silently (after nacct counted it): no port-unreachables
t_drop_udp b 9000 9001 || { t_fail setup "nft"; exit 1; }
sleep 0.5
# the same IPFIX stream for tshark's dissector (what the collector gets)
if command -v tshark >/dev/null; then
	t_tcpdump_start "$NS_B" lo "$T_TMP/ipfix.pcap" || t_fail "tcpdump on lo" "$(cat "$T_TMP/ipfix.pcap.err")"
fi

start_exporter() {
	# nsenter execs nacct: $! is the exporter itself
	nsenter --net=/run/netns/"$NS_B" "$NACCT" export "$IF_B" --ipfix 127.0.0.1:$PORT --idle-timeout 2 --active-timeout 2 \
		--observation-domain 7 2>>"$T_TMP/export.log" &
	EXP=$!
	t_cleanup_add "kill -9 $EXP"
}
start_exporter
sleep 1

# phase 1: IPv4 UDP and ping
sent_udp4=$(in_a "$UDPSEND" 198.18.0.2 9000 300 200 40000)
in_a ping -q -c 10 -i 0.01 198.18.0.2 >/dev/null
sleep 2.5
# kill -9 in the middle, more traffic while nothing exports, restart
kill -9 $EXP; wait $EXP 2>/dev/null
sent_udp6=$(in_a "$UDPSEND" fd00:18::2 9001 200 300 40001)
sent_udp4b=$(in_a "$UDPSEND" 198.18.0.2 9000 100 200 40000)
start_exporter
sleep 1.5
in_a ping -q -c 5 -i 0.01 198.18.0.2 >/dev/null
sent_udp4c=$(in_a "$UDPSEND" 198.18.0.2 9000 50 200 40000)
# a second kill -9 right after traffic, then let idle expiry run
kill -9 $EXP; wait $EXP 2>/dev/null
# kill storm: many flows, many messages, kill -9 at arbitrary moments
storm_sent=0
for i in 1 2 3 4 5 6; do
	start_exporter
	n=$(in_a "$UDPSEND" 198.18.0.2 9000 400 60 41000 200)
	storm_sent=$((storm_sent + n))
	sleep "0.$((RANDOM % 9 + 1))"
	kill -9 $EXP; wait $EXP 2>/dev/null
done
start_exporter
sleep 4
kill -TERM $EXP
wait $EXP
rc=$?
t_check "exporter exits cleanly on SIGTERM" 0 "$rc"
sleep 0.5
kill -TERM $NFCAPD; wait $NFCAPD 2>/dev/null
[ -n "${T_TCPDUMP:-}" ] && t_tcpdump_stop

st=$(t_status_json b "$IF_B")
nacct_pkts=$(jq -r '.totals.packets' <<<"$st")
nacct_bytes=$(jq -r '.totals.bytes' <<<"$st")
flows_left=$(jq -r '.maps.flows' <<<"$st")
t_check "idle flows removed from the flow map" 0 "$flows_left"

nfdump -R "$NF" -q -N -o 'fmt:%ts|%te|%td|%pr|%sa|%sp|%da|%dp|%pkt|%byt' 2>/dev/null \
	| awk -F'|' -v OFS='|' 'NF >= 10 { for (i = 1; i <= NF; i++) gsub(/^ +| +$/, "", $i); print }' \
	>"$T_TMP/records"
nf_pkts=$(awk -F'|' '{s+=$9} END {print s+0}' "$T_TMP/records")
nf_bytes=$(awk -F'|' '{s+=$10} END {print s+0}' "$T_TMP/records")
nf_recs=$(wc -l <"$T_TMP/records")
neg=$(awk -F'|' '$3 < 0' "$T_TMP/records" | wc -l)
sum_where() { awk -F'|' "$1 {s+=\$9} END {print s+0}" "$T_TMP/records"; }
t_log "nfdump: $nf_recs records, $nf_pkts packets, $nf_bytes bytes; nacct: $nacct_pkts packets, $nacct_bytes bytes"
t_check "nfdump packets = nacct interface total (two kill -9)" "$nacct_pkts" "$nf_pkts"
t_check "nfdump bytes = nacct interface total" "$nacct_bytes" "$nf_bytes"
t_check "nfdump UDPv4 A->B packets = generator" "$((sent_udp4 + sent_udp4b + sent_udp4c))" \
	"$(sum_where '$4 == 17 && $5 == "198.18.0.1" && $6 == 40000 && $7 == "198.18.0.2" && $8 == 9000')"
t_check "nfdump kill-storm flows (200 ports) packets = generator" "$storm_sent" \
	"$(sum_where '$4 == 17 && $6 >= 41000 && $6 < 41200')"
t_check "nfdump UDPv6 A->B packets = generator" "$sent_udp6" \
	"$(sum_where '$4 == 17 && $5 == "fd00:18::1" && $7 == "fd00:18::2" && $8 == 9001')"
t_check "nfdump ICMP echo A->B packets = ping count" 15 \
	"$(sum_where '$4 == 1 && $5 == "198.18.0.1" && $7 == "198.18.0.2"')"
t_check "nfdump ICMP echo B->A packets = ping count" 15 \
	"$(sum_where '$4 == 1 && $5 == "198.18.0.2" && $7 == "198.18.0.1"')"
t_log "restart recoveries: $(grep -c 'sent before the restart' "$T_TMP/export.log") committed in-flight messages, $(grep -c 'not sent before the restart' "$T_TMP/export.log") resent, $(grep -c 'recovered from the pending map' "$T_TMP/export.log") pending-slot recoveries"
# tshark's own IPFIX dissector over the same messages: every flow record
# says 1-in-1 sampling (samplingInterval) and its interface; the packets
# it decodes sum to nfdump's
if [ -s "$T_TMP/ipfix.pcap" ]; then
	tshark -r "$T_TMP/ipfix.pcap" -d udp.port==$PORT,cflow -Y cflow -T fields -E separator='|' \
		-e cflow.od_id -e cflow.sampling_interval -e cflow.packets -e cflow.inputint \
		-e cflow.outputint 2>"$T_TMP/tshark.err" >"$T_TMP/tshark.txt"
	ts_rec=$(awk -F'|' '{ n += split($3, a, ",") } END { print n + 0 }' "$T_TMP/tshark.txt")
	ts_pkts=$(awk -F'|' '{ n = split($3, a, ","); for (i = 1; i <= n; i++) s += a[i] } END { print s + 0 }' "$T_TMP/tshark.txt")
	ts_si=$(awk -F'|' '{ n = split($2, a, ","); for (i = 1; i <= n; i++) c[a[i]]++ } END { for (k in c) printf "%s:%d ", k, c[k] }' "$T_TMP/tshark.txt")
	ts_od=$(cut -d'|' -f1 "$T_TMP/tshark.txt" | tr ',' '\n' | sort -u | tr '\n' ' ')
	# interface values seen (ingressInterface also scopes the options records)
	ts_if=$(cut -d'|' -f4,5 "$T_TMP/tshark.txt" | tr ',|' '\n\n' | grep . | sort -u | tr '\n' ' ')
	t_log "tshark: $ts_rec flow records, $ts_pkts packets; samplingInterval $ts_si; domains $ts_od; interfaces $ts_if"
	t_check "tshark: packets decoded = nfdump's" "$nf_pkts" "$ts_pkts"
	t_check "tshark: every flow record has samplingInterval 1" "1:$ts_rec " "$ts_si"
	t_check "tshark: observation domain" "7 " "$ts_od"
	ifx=$(ip -n "$NS_B" -j link show "$IF_B" | jq -r '.[0].ifindex')
	t_check "tshark: ingress/egressInterface values: B's ifindex, or 0 for the other direction" \
		"$(printf '%s\n' 0 "$ifx" | sort -u | tr '\n' ' ')" "$ts_if"
else
	t_skip "tshark decode of the IPFIX stream: tshark not installed"
fi
t_check "no record with a negative duration" 0 "$neg"
now=$(date +%s)
bad_time=$(cut -d'|' -f1,2 "$T_TMP/records" | while IFS='|' read -r ts te; do
	s=$(date -d "$ts" +%s 2>/dev/null || echo 0)
	e=$(date -d "$te" +%s 2>/dev/null || echo 0)
	if [ "$s" -lt $((T0 - 2)) ] || [ "$e" -gt $((now + 2)) ] || [ "$s" -gt "$e" ]; then echo bad; fi
done | wc -l)
t_check "start <= end, both wall clock within the run" 0 "$bad_time"
if [ "$nf_pkts" != "$nacct_pkts" ] || [ "$neg" != 0 ]; then
	sed 's/^/# /' "$T_TMP/records" | head -40
	sed 's/^/# export: /' "$T_TMP/export.log" | tail -20
fi
exit $T_FAILED
