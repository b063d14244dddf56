#!/bin/bash
# nacct capture --tap on a veth (AF_XDP copy mode: veth has no zero-copy):
#  - one AF_XDP socket per RX queue (2 queues here), each reporting its mode
#  - every sampled frame reaches the file (tcpdump -r, tshark), the
#    accounting stays exact (generator, kernel rx_packets), and the frames
#    that tap mode takes are not delivered to the stack (ping fails)
#  - --sample 1/N within 5 sigma, accounting exact
#  - on exit tap mode is off again: the interface passes traffic
#  - an interface that is not attached: attached for the capture, detached
. "$(dirname "$0")/../lib.sh"
t_need_root
t_setup_pair || { t_fail setup "cannot create netns/veth"; exit 1; }
UDPSEND=$ROOT/.output/udpsend
command -v tcpdump >/dev/null && command -v tshark >/dev/null ||
	{ t_skip capture_tap "tcpdump and tshark are needed (scripts/deps.sh test)"; exit 0; }
export TSHARK_RUN_AS_ROOT=1
cp "$NACCT" "$T_TMP/nacct" && NACCT=$T_TMP/nacct

# two RX queues on B (and two TX queues on A, so flows spread over them)
QUEUES=1
if in_b ethtool -L "$IF_B" rx 2 tx 2 2>/dev/null && in_a ethtool -L "$IF_A" rx 2 tx 2 2>/dev/null; then
	QUEUES=2
fi

count_pkts() { tcpdump -r "$1" -nn "${@:2}" 2>/dev/null | wc -l; }
d() { echo $(($(jq -r ".totals.$1" <<<"$s1") - $(jq -r ".totals.$1" <<<"$s0"))); }
flow_pkts() { # packets of the UDP flows from source ports $1..$1+15
	nacct_b flows "$IF_B" --json |
		jq -s --argjson p "$1" 'map(select(.proto == "udp" and ((.sport >= $p and .sport < $p + 16) or (.dport >= $p and .dport < $p + 16)))) | map(.packets) | add'
}

# ---- 1. every frame, exact accounting, stack sees nothing -----------------
nacct_b attach "$IF_B" >/dev/null || { t_fail attach; exit 1; }
cap_start tap "$IF_B" -w "$T_TMP/tap.pcap" --tap || exit 1
t_check "one AF_XDP socket per RX queue, copy mode on veth" "$QUEUES" \
	"$(grep -c 'tap queue [0-9]*: AF_XDP copy mode' "$CAP_ERR")"
t_log "$(grep 'tap queue' "$CAP_ERR" | head -1)"
s0=$(t_status_json b "$IF_B")
k0=$(t_ifstat "$NS_B" "$IF_B" rx_packets)
sent=$(in_a "$UDPSEND" 198.18.0.2 9 1000 200 30000 16)
if in_a ping -c 3 -i 0.1 -W 1 -q 198.18.0.2 >/dev/null; then
	t_fail "tap mode: frames go to AF_XDP, not to the stack" "ping got replies"
else
	t_ok "tap mode: frames go to AF_XDP, not to the stack (ping fails)"
fi
sleep 0.3
k1=$(t_ifstat "$NS_B" "$IF_B" rx_packets)
s1=$(t_status_json b "$IF_B")
cap_stop
t_check "tap: exit 0 on SIGINT" 0 "$CAP_RC"
t_check "tap: generator sent" 1000 "$sent"
t_check "tap: tcpdump -r: UDP packets" 1000 "$(count_pkts "$T_TMP/tap.pcap" udp dst port 9)"
t_check "tap: tcpdump -r: echo requests" 3 "$(count_pkts "$T_TMP/tap.pcap" 'icmp[icmptype] == icmp-echo')"
t_check "tap: tshark: frame length 14+20+8+200, whole" "1000 242 242" \
	"$(tshark -r "$T_TMP/tap.pcap" -Y 'udp.dstport == 9' -T fields -e frame.len -e frame.cap_len 2>/dev/null |
	   sort | uniq -c | awk '{print $1, $2, $3}')"
t_check "tap: rx packets = kernel rx_packets" $((k1 - k0)) "$(d rx_packets)"
t_check "tap: the flows count every packet" 1000 "$(flow_pkts 30000)"
t_check "tap: file = data-path samples" "$(d samples)" "$(count_pkts "$T_TMP/tap.pcap")"
t_check "tap: nothing dropped" 1 "$(grep -c '^0 packets dropped' "$CAP_ERR")"
q_used=$(awk '/AF_XDP queue/ && $NF == "frames" && $(NF - 1) > 0' "$CAP_ERR" | wc -l)
# 16 sockets, each with a random tx hash: all on one queue has p = 2^-15
[ "$QUEUES" = 2 ] && t_check "tap: both RX queues' sockets received frames" 2 "$q_used"
t_log "$(grep 'AF_XDP queue' "$CAP_ERR" | tr '\n' ';')"
if in_a ping -c 2 -i 0.1 -W 1 -q 198.18.0.2 >/dev/null; then
	t_ok "after the capture tap mode is off: the stack gets traffic again"
else
	t_fail "tap mode off after the capture" "ping fails"
fi

# ---- 2. --tap --sample 1/10 -------------------------------------------------
N=10000 R=10
cap_start tapsample "$IF_B" -w "$T_TMP/tapsample.pcap" --tap --sample 1/$R --frames 1024 --ring 512 || exit 1
s0=$(t_status_json b "$IF_B")
k0=$(t_ifstat "$NS_B" "$IF_B" rx_packets)
sent=$(in_a "$UDPSEND" 198.18.0.2 9 $N 64 31000 16)
sleep 0.3
k1=$(t_ifstat "$NS_B" "$IF_B" rx_packets)
s1=$(t_status_json b "$IF_B")
cap_stop
got=$(count_pkts "$T_TMP/tapsample.pcap" udp dst port 9)
read -r lo hi <<<"$(awk -v n=$N -v r=$R 'BEGIN { m = n / r; s = sqrt(n / r * (1 - 1 / r)); printf "%d %d", m - 5 * s, m + 5 * s + 1 }')"
if [ "$got" -ge "$lo" ] && [ "$got" -le "$hi" ]; then
	t_ok "tap --sample 1/$R of $N: $got packets, within 5 sigma [$lo, $hi]"
else
	t_fail "tap --sample 1/$R within 5 sigma" "expected $lo..$hi, got $got"
fi
t_check "tap sampling: generator sent" $N "$sent"
t_check "tap sampling: rx packets = kernel rx_packets" $((k1 - k0)) "$(d rx_packets)"
t_check "tap sampling: the flows count every packet" $N "$(flow_pkts 31000)"
t_check "tap sampling: file = data-path samples" "$(d samples)" "$(count_pkts "$T_TMP/tapsample.pcap")"

# ---- 2b. --tap --copy: copy mode asked for, and said so ---------------------
cap_start tapcopy "$IF_B" -w "$T_TMP/tapcopy.pcap" --tap --copy || exit 1
t_check "--copy: every queue in copy mode, the reason given" "$QUEUES" \
	"$(grep -c 'tap queue [0-9]*: AF_XDP copy mode (copy mode requested (--copy))' "$CAP_ERR")"
t_log "$(grep 'tap queue' "$CAP_ERR" | head -1)"
s0=$(t_status_json b "$IF_B")
sent=$(in_a "$UDPSEND" 198.18.0.2 9 300 64 32000 16)
sleep 0.3
s1=$(t_status_json b "$IF_B")
cap_stop
t_check "--copy: generator sent" 300 "$sent"
t_check "--copy: tcpdump -r: UDP packets" 300 "$(count_pkts "$T_TMP/tapcopy.pcap" udp dst port 9)"
t_check "--copy: file = data-path samples" "$(d samples)" "$(count_pkts "$T_TMP/tapcopy.pcap")"
nacct_b capture "$IF_B" -w "$T_TMP/x.pcap" --copy >/dev/null 2>"$T_TMP/copy.err"
t_check "--copy without --tap: exit 2" 2 $?
t_check "--copy without --tap: the message" 1 "$(grep -c -- '--copy are about the AF_XDP sockets of --tap' "$T_TMP/copy.err")"
nacct_b detach "$IF_B" >/dev/null

# ---- 3. not attached: --tap attaches for the capture, detaches after --------
cap_start taptemp "$IF_B" -w "$T_TMP/taptemp.pcap" --tap -c 50 || exit 1
in_a "$UDPSEND" 198.18.0.2 9 80 64 >/dev/null
for ((i = 0; i < 50; i++)); do kill -0 "$CAP_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$CAP_PID" 2>/dev/null && { t_fail "tap -c 50 exits by itself"; kill -INT "$CAP_PID"; }
wait "$CAP_PID"
t_check "tap, temporary attach: exit status" 0 "$?"
t_check "tap, temporary attach: -c 50 packets (tshark)" 50 \
	"$(tshark -r "$T_TMP/taptemp.pcap" -T fields -e frame.number 2>/dev/null | wc -l)"
t_check "tap, temporary attach: no XDP program left" "" "$(ip -n "$NS_B" link show "$IF_B" | grep -o 'prog/xdp')"
in_a ping -c 2 -i 0.1 -W 1 -q 198.18.0.2 >/dev/null && t_ok "tap, temporary attach: traffic flows after" ||
	t_fail "tap, temporary attach: traffic flows after"

# ---- 3b. a tap capture killed with SIGKILL leaves no drop behind -------------
# its sockets leave the XSKMAP when the process dies, and the XDP program
# drops only while a socket is bound to the queue
nacct_b attach "$IF_B" >/dev/null
cap_start tapkill "$IF_B" -w "$T_TMP/tapkill.pcap" --tap || exit 1
in_a ping -c 2 -i 0.1 -W 1 -q 198.18.0.2 >/dev/null &&
	t_fail "tap kill: tap mode was active before the kill" "ping got replies" ||
	t_ok "tap kill: tap mode active before the kill"
kill -KILL "$CAP_PID"; wait "$CAP_PID" 2>/dev/null
sleep 0.5
in_a ping -c 3 -i 0.1 -W 1 -q 198.18.0.2 >/dev/null && t_ok "tap kill: traffic flows after SIGKILL" ||
	t_fail "tap kill: traffic flows after SIGKILL" "the interface still drops"
t_check "tap kill: the attachment stays whole" 0 "$(nacct_b status "$IF_B" >/dev/null 2>&1; echo $?)"
nacct_b detach "$IF_B" >/dev/null

# ---- 4. --tap on a TC-hook attachment: refused ------------------------------
nacct_b attach "$IF_B" --hook tc >/dev/null
nacct_b capture "$IF_B" -w "$T_TMP/x.pcap" --tap 2>/dev/null
t_check "--tap with --hook tc: exit 2" 2 "$?"
nacct_b capture "$IF_B" -w "$T_TMP/x.pcap" --frames 1000 --tap 2>/dev/null
t_check "--frames not a power of two: exit 2" 2 "$?"
exit 0
