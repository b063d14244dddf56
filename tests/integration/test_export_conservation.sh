#!/bin/bash
# nacct export's expired counter (nacct_export_expired, lib/exporter.h):
# the exporter removes idle flows (--idle-timeout 1) from the flow map
# while real traffic runs, is killed with -9 in the middle and started
# again, and
#   flows + expired + overflow + malformed + non-IP = totals
# holds exactly at several moments once the traffic stops (while the
# exporter is still expiring the last flows), read two ways: the library's
# consistent snapshot (nacct_snapshot_expired, what status and serve will
# call) and `nacct flows --json` between two readings of the counter with
# the same generation.  The generator's count equals the totals and the
# kernel's rx_packets; the exporter's own JSON records are a witness for
# the counter (sum of records - flows still in the map = expired).
source "$(dirname "$0")/../lib.sh"
t_need_root
command -v jq >/dev/null || { t_skip export_conservation "jq not installed"; exit 0; }
UDPSEND=$ROOT/.output/udpsend
EXPIRED=$ROOT/.output/nacct_expired
for b in "$UDPSEND" "$EXPIRED"; do
	[ -x "$b" ] || { t_skip export_conservation "build $b (make test-integration)"; exit 0; }
done
t_setup_pair || { t_fail setup "cannot create netns pair"; exit 1; }
ip netns exec "$NS_A" sysctl -qw net.ipv6.conf."$IF_A".router_solicitations=0
ip netns exec "$NS_B" sysctl -qw net.ipv6.conf."$IF_B".router_solicitations=0
nacct_b attach "$IF_B" --mode generic >/dev/null 2>&1 || { t_fail attach "nacct attach failed"; exit 1; }
# B drops the test's UDP silently (after nacct counted it): no replies
t_drop_udp b 9000 9001 9002 || { t_fail setup "nft"; exit 1; }

expired() { in_b "$EXPIRED" "$IF_B" "$@"; }
start_exporter() { # records file
	nsenter --net=/run/netns/"$NS_B" "$NACCT" export "$IF_B" --json --idle-timeout 1 \
		--active-timeout 2 >>"$1" 2>>"$T_TMP/export.log" &
	EXP=$!
	t_cleanup_add "kill -9 $EXP"
}

s0=$(t_status_json b "$IF_B")
k0=$(t_ifstat "$NS_B" "$IF_B" rx_packets)
start_exporter "$T_TMP/rec1.jsonl"
sleep 1.2

# traffic in waves: 200 new IPv4 flows and 50 new IPv6 flows each, and one
# flow running through all of them; earlier waves go idle and are expired
# while later ones send
sent=0
during=""
for wave in 1 2 3 4; do
	n1=$(in_a "$UDPSEND" 198.18.0.2 9000 400 100 $((41000 + wave * 200)) 200)
	n2=$(in_a "$UDPSEND" 198.18.0.2 9001 60 300 40000 1)
	n3=$(in_a "$UDPSEND" fd00:18::2 9002 100 200 $((43000 + wave * 50)) 50)
	sent=$((sent + n1 + n2 + n3))
	if [ "$wave" = 2 ]; then
		# kill -9 while it expires wave 1's flows, start another
		sleep "0.$((RANDOM % 8 + 1))"
		kill -9 $EXP
		wait $EXP 2>/dev/null
		start_exporter "$T_TMP/rec2.jsonl"
	fi
	[ "$wave" = 4 ] && break
	sleep 1.3
	[ "$wave" = 3 ] && during=$(expired)
done
t_log "generator: $sent datagrams; expired during the traffic: $during"
t_check "flows were expired while traffic ran" 1 \
	"$(jq -r 'if .flows > 0 then 1 else 0 end' <<<"${during:-{\"flows\":0\}}")"

# traffic has stopped; the exporter still expires what was sent last
moment=0
for pause in 0.1 0.3 0.4 0.5 0.7 0.7 0.8; do
	sleep "$pause"
	moment=$((moment + 1))
	snap=$(expired --snapshot)
	read -r ok why <<<"$(jq -r '. as $o |
		([0, 1] | map($o.flows[.] + $o.expired[.] + $o.overflow[.] + $o.malformed[.] + $o.nonip[.])) as $sum |
		"\(if .consistent == 1 and $sum == .totals then 1 else 0 end) flows=\(.flows | add)+expired=\(.expired | add)(\(.expired_flows) flows)=\($sum | add)/totals=\(.totals | add)"' <<<"$snap")"
	okb=$(jq -r '. as $o | [0, 1] | map($o.flows_bytes[.] + $o.expired_bytes[.] + $o.overflow_bytes[.]
		+ $o.malformed_bytes[.] + $o.nonip_bytes[.]) | if . == $o.totals_bytes then 1 else 0 end' <<<"$snap")
	t_check "moment $moment: flows + expired + overflow + malformed + non-IP = totals, per direction (library snapshot: $why)" 1 "$ok"
	t_check "moment $moment: ... and for bytes" 1 "$okb"
	# the same from the commands: the counter, the flow dump, the counter again
	for try in 1 2 3 4 5; do
		e1=$(expired)
		fl=$(nacct_b flows "$IF_B" --json | jq -s 'map(.packets) | add // 0')
		st=$(t_status_json b "$IF_B")
		e2=$(expired)
		[ "$(jq -r .gen <<<"$e1")" = "$(jq -r .gen <<<"$e2")" ] && break
	done
	ex=$(jq -r '.packets | add' <<<"$e2")
	read -r tot other <<<"$(jq -r '.totals | "\(.packets) \(.overflow_packets + .malformed_packets + .nonip_packets)"' <<<"$st")"
	t_check "moment $moment: nacct flows --json ($fl) + expired counter ($ex) + other buckets = status totals" \
		"$tot" "$((fl + ex + other))"
done

s1=$(t_status_json b "$IF_B")
k1=$(t_ifstat "$NS_B" "$IF_B" rx_packets)
t_check "generator's count = the totals since the traffic began" "$sent" \
	"$(($(jq -r .totals.packets <<<"$s1") - $(jq -r .totals.packets <<<"$s0")))"
t_check "... = the kernel's rx_packets" "$sent" "$((k1 - k0))"

# the exporter's records as a witness: everything out (SIGTERM), then
# records - flows still in the map = expired
kill -TERM $EXP
wait $EXP
t_check "exporter exits cleanly on SIGTERM" 0 $?
# a kill between write() and its record in the journal repeats that one
# message (README): lines of a message the second exporter sent again
rep=$(jq -r 'select(.type == "flow") | .seq' "$T_TMP/rec2.jsonl" | sort -u | head -n1)
rec1=$(jq -s --argjson r "${rep:--1}" 'map(select(.type == "flow" and .seq != $r) | .packets) | add // 0' "$T_TMP/rec1.jsonl")
dup=$(jq -s --argjson r "${rep:--1}" 'map(select(.type == "flow" and .seq == $r) | .packets) | add // 0' "$T_TMP/rec1.jsonl")
[ "$dup" = 0 ] || t_log "the kill repeated message seq $rep ($dup packets in rec1 are sent again)"
rec2=$(jq -s 'map(select(.type == "flow") | .packets) | add // 0' "$T_TMP/rec2.jsonl")
live=$(nacct_b flows "$IF_B" --json | jq -s 'map(.packets) | add // 0')
fin=$(expired)
s2=$(t_status_json b "$IF_B")
t_check "JSON records (both exporters) = the totals" "$(jq -r .totals.packets <<<"$s2")" "$((rec1 + rec2))"
t_check "expired counter = records - flows still in the map" "$((rec1 + rec2 - live))" \
	"$(jq -r '.packets | add' <<<"$fin")"
t_log "expired: $fin; still in the map: $live packets; log: $(grep -c 'flows expired' "$T_TMP/export.log") clean exits"
if [ "$T_FAILED" != 0 ]; then
	sed 's/^/# export: /' "$T_TMP/export.log" | tail -20
fi
exit $T_FAILED
