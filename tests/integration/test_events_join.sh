#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# A kernel drop joins the flow record of its packets, for packets the
# side programs used to key differently from the data path: IPv6 UDP with
# 5..8 extension headers (hop-by-hop, routing with segments left 0,
# destination options, AH, mobility, HIP, shim6) and UDP-Lite over IPv4
# and IPv6, sent to a port nobody listens on in namespace B.  The stack of
# B drops each one with a reason: NO_SOCKET (UDP, UDP-Lite) or IP_NOPROTO
# (a chain with AH: this kernel has no AH handler without xfrm states).
# Each flow's record at B must hold exactly N received packets and
# exactly N drops.  Witnesses: the sender's count (rawsend) and the
# kernel's own counters in B (Udp6NoPorts, UdpLiteNoPorts,
# UdpLite6NoPorts, Ip6InUnknownProtos), and `nacct events --drops`.
# The events reader also holds the pinned side programs for the test: an
# attach of another nacct build replaces a set no reader uses.
source "$(dirname "$0")/../lib.sh"
t_need_root
RAWSEND=$ROOT/.output/rawsend
MKFRAME=$ROOT/tests/tools/mkframe.py
[ -x "$RAWSEND" ] || { t_skip test_events_join "tests/tools not built (make $RAWSEND)"; exit 0; }
command -v python3 >/dev/null || { t_skip test_events_join "needs python3 (tests/tools/mkframe.py)"; exit 0; }
t_setup_pair || { t_fail setup "cannot create netns/veth"; exit 1; }
N=${NACCT_JOIN_N:-25}
PORT=$((20000 + RANDOM % 10000)) # nobody listens on it in B
MAC_A=$(ip -n "$NS_A" -br link show "$IF_A" | awk '{print $3}')
MAC_B=$(ip -n "$NS_B" -br link show "$IF_B" | awk '{print $3}')

PROBES=/sys/fs/bpf/nacct/:probes

nacct_b attach "$IF_B" >/dev/null || { t_fail attach "nacct attach $IF_B failed"; exit 1; }
t_events_start "$NS_B" --drops --json -L "$PORT"
# the side programs must be this build's: with another build's reader live,
# attach keeps that build's set
abi=$(bpftool map dump pinned "$PROBES/nacct_probe_meta" -j 2>/dev/null | jq -r '.[0].formatted.value.abi')
want_abi=$(awk '$2 == "NACCT_PROBES_ABI" {print $3}' "$ROOT/maps/nacct.h")
if [ "$abi" != "$want_abi" ]; then
	t_skip test_events_join "the pinned side programs are another nacct build's (ABI $abi, ours $want_abi), held by its events reader"
	exit 0
fi

# the kernel's drop counters in B: "Udp6NoPorts 3 ..." (snmp6 and snmp's UdpLite row)
kcounters() {
	ip netns exec "$NS_B" cat /proc/net/snmp6 | awk '$1 ~ /^(Udp6NoPorts|UdpLite6NoPorts|Ip6InUnknownProtos)$/ {print $1, $2}'
	ip netns exec "$NS_B" awk '$1 == "UdpLite:" {if (h) print "UdpLiteNoPorts", $3; h = 1}' /proc/net/snmp
}
kcount() { awk -v k="$2" '$1 == k {print $2}' <<<"$1"; }

# name proto family source-port extension-headers... expected kernel counter
FLOWS=(
	"ext5_udp udp 6 31005 hbh,rt,dst,dst,dst Udp6NoPorts"
	"ext6_ah_udp udp 6 31006 hbh,rt,dst,ah,dst,dst Ip6InUnknownProtos"
	"ext7_ah_udp udp 6 31007 hbh,dst,rt,dst,ah,mh,hip Ip6InUnknownProtos"
	"ext8_udp udp 6 31008 hbh,rt,dst,dst,dst,dst,dst,dst Udp6NoPorts"
	"ext8_all_kinds_udp udp 6 31018 hbh,rt,dst,ah,mh,hip,shim6,dst Ip6InUnknownProtos"
	"udplite4 udplite 4 31104 - UdpLiteNoPorts"
	"udplite6 udplite 6 31106 - UdpLite6NoPorts"
	"ext5_udplite6 udplite 6 31105 hbh,rt,dst,dst,dst UdpLite6NoPorts"
)

before=$(kcounters)
declare -A want_k sent_n
for f in "${FLOWS[@]}"; do
	read -r name proto fam sport exts kc <<<"$f"
	if [ "$fam" = 4 ]; then src=198.18.0.1 dst=198.18.0.2; else src=fd00:18::1 dst=fd00:18::2; fi
	[ "$exts" = - ] && exts=
	hex=$(python3 "$MKFRAME" "$MAC_A" "$MAC_B" "$src" "$dst" "$proto" "$sport" "$PORT" ${exts//,/ }) ||
		{ t_fail "$name: build the frame" "mkframe.py failed"; continue; }
	sent_n[$name]=$(in_a "$RAWSEND" "$IF_A" "$N" "$hex")
	want_k[$kc]=$(( ${want_k[$kc]:-0} + ${sent_n[$name]:-0} ))
done
sleep 1
after=$(kcounters)
kill -INT $EV; wait $EV

# the kernel saw every packet and dropped it for the reason expected
for kc in Udp6NoPorts UdpLite6NoPorts UdpLiteNoPorts Ip6InUnknownProtos; do
	t_check "kernel counter $kc (B) = packets sent" "${want_k[$kc]:-0}" \
		"$(( $(kcount "$after" $kc) - $(kcount "$before" $kc) ))"
done

flows=$(nacct_b flows "$IF_B" --json)
for f in "${FLOWS[@]}"; do
	read -r name proto fam sport exts kc <<<"$f"
	t_check "$name: sender's count" "$N" "${sent_n[$name]:-0}"
	# the record of the flow (either direction), as the data path keyed it
	rec=$(jq -c --arg p "$proto" --argjson s "$sport" --argjson d "$PORT" \
		'select(.proto == $p and ((.sport == $s and .dport == $d) or (.sport == $d and .dport == $s)))' \
		<<<"$flows")
	t_log "$name: $rec"
	t_check "$name: one record" 1 "$(grep -c . <<<"$rec")"
	t_check "$name: rx_packets and drops on that record" "$N $N" \
		"$(jq -r '"\(.rx_packets) \(.drops // 0)"' <<<"$rec" | head -1)"
	t_check "$name: drop events (nacct events --drops)" "$N" \
		"$(jq -c --arg p "$proto" --argjson s "$sport" 'select(.event == "drop" and .proto == $p and .sport == $s)' \
			"$T_TMP/ev" | grep -c .)"
done
# no drop of ours landed anywhere else (a record the side programs made up)
other=$(jq -r --argjson d "$PORT" 'select((.sport == $d or .dport == $d) and .rx_packets == 0) | .drops // 0' \
	<<<"$flows" | awk '{s += $1} END {print s + 0}')
t_check "drops on records without packets" 0 "$other"
t_log "drop reasons: $(jq -c --argjson d "$PORT" 'select(.dport == $d) | .drop_reasons' <<<"$flows" | sort | uniq -c | tr '\n' ' ')"
t_log "events stderr: $(head -c 300 "$T_TMP/ev.err")"
exit $T_FAILED
