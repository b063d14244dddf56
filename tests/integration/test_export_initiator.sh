#!/bin/bash
# The one per-CPU merge: a TCP flow whose first packet is counted on one
# CPU and whose SYN on another keeps its src/dst (the SYN's sender is the
# initiator) in every record of its life: `nacct flows`, each IPFIX record
# of the active timeout, and the final record of its idle expiry (the
# exporter once merged an expired flow's per-CPU values without the SYN
# rule and swapped src and dst in that last record).
# On veth the receiver runs on the sender's CPU: rawsend pinned with
# taskset puts each frame in the per-CPU slot of that CPU; bpftool's dump
# of the pinned flow map is the witness that the two CPUs did see them.
# Witness for the records: nfcapd/nfdump (a real IPFIX collector).
source "$(dirname "$0")/../lib.sh"
t_need_root
for tool in nfcapd nfdump bpftool jq python3 taskset; do
	command -v $tool >/dev/null || { t_skip export_initiator "$tool not installed"; exit 0; }
done
RAWSEND=$ROOT/.output/rawsend
[ -x "$RAWSEND" ] || { t_skip export_initiator "build .output/rawsend (make test-integration)"; exit 0; }
[ "$(nproc)" -ge 2 ] || { t_skip export_initiator "needs two CPUs"; exit 0; }
t_setup_pair || { t_fail setup "cannot create netns pair"; exit 1; }

# X:80 and Y:40000 are neither end of the veth: a mirror port's view.
# X < Y, so X is the key's lo endpoint; Y sends the SYN: Y is the initiator.
X=198.18.5.1 Y=198.18.5.2
MAC_B=$(ip -n "$NS_B" -br link show "$IF_B" | awk '{print $3}')
frame() { # src sport dst dport flags(hex): one Ethernet/IPv4/TCP frame in hex
	python3 - "$MAC_B" "$@" <<'PY'
import sys, struct, socket
mac, src, sport, dst, dport, flags = sys.argv[1:]
eth = bytes.fromhex(mac.replace(':', '')) + bytes.fromhex('020000000001') + b'\x08\x00'
tcp = struct.pack('!HHIIBBHHH', int(sport), int(dport), 1, 0, 5 << 4, int(flags, 16), 65535, 0, 0)
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0,
                 socket.inet_aton(src), socket.inet_aton(dst))
s = sum(struct.unpack('!10H', ip))
s = (s & 0xffff) + (s >> 16)
ip = ip[:10] + struct.pack('!H', ~s & 0xffff) + ip[12:]
print((eth + ip + tcp).hex())
PY
}
SYNACK=$(frame $X 80 $Y 40000 12)
SYN=$(frame $Y 40000 $X 80 02)
ACK_XY=$(frame $X 80 $Y 40000 10)
ACK_YX=$(frame $Y 40000 $X 80 10)
send_on() { in_a taskset -c "$1" "$RAWSEND" "$IF_A" "$2" "$3" >/dev/null; }

PORT=4739
NF=$T_TMP/nf
mkdir -p "$NF"
# per-CPU values: the layout whose merge this is about
nacct_b attach "$IF_B" --flow-layout percpu >/dev/null 2>&1 || { t_fail attach "nacct attach failed"; exit 1; }
in_b nfcapd -w "$NF" -b 127.0.0.1 -p $PORT -t 2 -I nacct >"$T_TMP/nfcapd.log" 2>&1 &
NFCAPD=$!
t_cleanup_add "kill $NFCAPD"
sleep 0.5

# the first packet of the flow on CPU 0 (X -> Y, a SYN-ACK seen before its
# SYN), then the SYN (Y -> X) on CPU 1
send_on 0 1 "$SYNACK"
sleep 0.05
send_on 1 1 "$SYN"
send_on 0 3 "$ACK_XY"
send_on 1 3 "$ACK_YX"

# witness: the flow map holds the flow with both CPUs' slots filled
pin=$(ls -d /sys/fs/bpf/nacct/"$IF_B"*:ns* 2>/dev/null | head -n1)
# (raw bytes: first_seen is the u64 at offset 32 of struct nacct_flow_val)
slots=$(bpftool -j map dump pinned "$pin/nacct_flows" 2>/dev/null |
	jq '[.[0].values[] | select(.value[32:40] | map(. != "0x00") | any)] | length')
t_check "the flow's per-CPU slots: both CPUs saw it (bpftool)" 2 "$slots"

f=$(nacct_b flows "$IF_B" --json | jq -c 'select(.proto == "tcp")')
t_check "flows: src = the SYN's sender" "$Y:40000 -> $X:80" \
	"$(jq -r '"\(.src):\(.sport) -> \(.dst):\(.dport)"' <<<"$f")"
t_check "flows: packets" 8 "$(jq -r .packets <<<"$f")"

export_run() { # export options...: an exporter in B, in the background
	nsenter --net=/run/netns/"$NS_B" "$NACCT" export "$IF_B" --ipfix 127.0.0.1:$PORT "$@" \
		2>>"$T_TMP/export.log" &
	EXP=$!
	t_cleanup_add "kill -9 $EXP"
}
# phase 1: active-timeout records while traffic flows on both CPUs, and
# SIGTERM's flush of the rest (the flow stays in the map)
export_run --active-timeout 1 --idle-timeout 60
for i in 1 2 3 4 5 6; do
	send_on 1 1 "$ACK_YX"
	send_on 0 1 "$ACK_XY"
	sleep 0.5
done
sleep 1.2
kill -TERM $EXP
wait $EXP
# phase 2: more packets, then the idle expiry: the flow leaves the map and
# its last delta goes out from the exporter's pending slot (the record the
# old per-CPU merge of expired flows got wrong)
send_on 0 2 "$ACK_XY"
send_on 1 2 "$ACK_YX"
export_run --active-timeout 60 --idle-timeout 1
sleep 4
kill -TERM $EXP
wait $EXP
sleep 2.5
kill -TERM $NFCAPD
wait $NFCAPD 2>/dev/null
t_check "the idle flow was removed (expired)" 0 "$(t_status_json b "$IF_B" | jq -r .maps.flows)"

nfdump -R "$NF" -q -N -o 'fmt:%pr|%sa|%sp|%da|%dp|%pkt|%te' 2>/dev/null |
	awk -F'|' -v OFS='|' 'NF >= 7 { for (i = 1; i <= NF; i++) gsub(/^ +| +$/, "", $i); print }' |
	awk -F'|' '$1 == 6 || $1 == "TCP"' >"$T_TMP/records"
n=$(wc -l <"$T_TMP/records")
[ "$n" -ge 3 ] && t_ok "IPFIX records of the flow: $n (active timeouts, flush, final)" ||
	t_fail "IPFIX records of the flow" "expected >= 3, got $n"
# the expiry's record is the one that ends last (phase 2); an active-timeout
# record of phase 1 may carry 4 packets too (2 every 0.5 s, 1 s timeout)
t_check "the expiry's final record: the 4 packets of phase 2" 4 "$(sort -t'|' -k7 "$T_TMP/records" | tail -n1 | cut -d'|' -f6)"
t_check "every IPFIX record: src = the SYN's sender" "$n" \
	"$(awk -F'|' -v y=$Y -v x=$X '$2 == y && $3 == 40000 && $4 == x && $5 == 80' "$T_TMP/records" | wc -l)"
t_check "IPFIX packets = frames sent" 24 "$(awk -F'|' '{s += $6} END {print s + 0}' "$T_TMP/records")"
[ "$T_FAILED" = 0 ] || sed 's/^/# /' "$T_TMP/records" "$T_TMP/export.log"
exit $T_FAILED
