#!/bin/bash
# Jumbo frames on native XDP: a veth pair at MTU 9000.  A single-buffer XDP
# program is refused there in native mode (veth: ERANGE) and would fall
# back to generic; nacct loads its multi-buffer program ("xdp.frags")
# where the kernel and the driver take multi-buffer frames (veth
# advertises rx_sg), so `--mode auto` gets native and says
# "native (multi-buffer)".  Then, against independent witnesses on the
# same traffic (offloads off: one skb is one wire packet):
#  - 8000-byte pings (IPv4, IPv6), UDP datagrams of 1500 to 9000 bytes
#    (IPv4 and IPv6) and a TCP transfer at MSS 8948: totals equal the
#    kernel's interface counters, per direction packets and frame bytes
#    equal tcpdump's, per flow too; nothing malformed; conservation holds
#  - inline capture of jumbo frames: the same frames as tcpdump's (length
#    and the first 1536 bytes, the data path's snaplen)
#  - tap capture (AF_XDP bound with XDP_USE_SG): whole jumbo frames, byte
#    for byte those tcpdump saw leave the sender
#  - --multi-buffer off: the single-buffer program, refused native at this
#    MTU, so generic, with the reason; still whole frames counted
. "$(dirname "$0")/../lib.sh"
t_need_root
for tool in tcpdump tshark editcap; do
	command -v $tool >/dev/null || { t_skip jumbo "$tool not installed (scripts/deps.sh test)"; exit 0; }
done
export TSHARK_RUN_AS_ROOT=1
t_setup_pair || { t_fail setup "cannot create netns/veth"; exit 1; }
UDPSEND=$ROOT/.output/udpsend
TCPXFER=$ROOT/.output/tcpxfer
cp "$NACCT" "$T_TMP/nacct" && NACCT=$T_TMP/nacct
for ns in "$NS_A" "$NS_B"; do
	ifc=$IF_A; [ "$ns" = "$NS_B" ] && ifc=$IF_B
	ip -n "$ns" link set "$ifc" mtu 9000
	ip netns exec "$ns" ethtool -K "$ifc" tso off gso off gro off >/dev/null 2>&1
done
# no ICMP port unreachable replies: the UDP flows are what was sent
in_b nft 'add table inet nacct_test; add chain inet nacct_test in { type filter hook input priority 0; }; add rule inet nacct_test in udp dport { 7000-7010 } drop' ||
	{ t_fail setup "nft"; exit 1; }

# ---- 1. attach: native, multi-buffer ----------------------------------------
out=$(nacct_b attach "$IF_B" 2>&1)
t_check "attach on an MTU 9000 veth: exit status" 0 $?
st=$(nacct_b status "$IF_B" --json)
t_check "auto chose native mode (not generic)" native "$(jq -r .mode <<<"$st")"
reason=$(jq -r .reason <<<"$st")
case $reason in
*"native (multi-buffer)"*) t_ok "status's reason says native (multi-buffer) ($reason)" ;;
*) t_fail "status's reason says native (multi-buffer)" "reason: $reason" "$out" ;;
esac
t_check "the kernel runs it in driver mode" 1 \
	"$(ip -n "$NS_B" -d link show "$IF_B" | grep -c 'prog/xdp ')"

# ---- 2. exact counts against the kernel and tcpdump --------------------------
sleep 0.5
t_tcpdump_start "$NS_B" "$IF_B" "$T_TMP/j.pcap"
s0=$(nacct_b status "$IF_B" --json)
k_rx0=$(t_ifstat "$NS_B" "$IF_B" rx_packets)
k_tx0=$(t_ifstat "$NS_B" "$IF_B" tx_packets)

in_b "$TCPXFER" server 198.18.0.2 5009 >"$T_TMP/srv" &
srv=$!
t_cleanup_add "kill $srv"
in_a ping -q -c 20 -i 0.01 -s 8000 198.18.0.2 >/dev/null
in_a ping -q -c 20 -i 0.01 -s 8000 fd00:18::2 >/dev/null
# UDP: IPv4 1472 (a 1514-byte frame), 4000, 8000 and 8972 (the largest
# unfragmented at MTU 9000); IPv6 8952
sent=0
for spec in "198.18.0.2 7001 50 1472 41001" "198.18.0.2 7002 50 4000 41002" \
	"198.18.0.2 7003 50 8000 41003" "198.18.0.2 7004 50 8972 41004" \
	"fd00:18::2 7005 50 8952 41005"; do
	set -- $spec
	n=$(in_a "$UDPSEND" "$1" "$2" "$3" "$4" "$5")
	t_check "udpsend $4 bytes to $1 sent" "$3" "$n"
	sent=$((sent + n))
done
for _ in $(seq 50); do grep -q ready "$T_TMP/srv" && break; sleep 0.1; done
t_check "TCP transfer of 2 MB at MTU 9000" "sent 2000000" \
	"$(in_a "$TCPXFER" client 198.18.0.2 5009 2000000)"
wait "$srv" 2>/dev/null
sleep 0.5
k_rx1=$(t_ifstat "$NS_B" "$IF_B" rx_packets)
k_tx1=$(t_ifstat "$NS_B" "$IF_B" tx_packets)
s1=$(nacct_b status "$IF_B" --json)
t_tcpdump_stop "$T_TMP/j.pcap" $((k_rx1 - k_rx0 + k_tx1 - k_tx0))
grep -q "^0 packets dropped by kernel" "$T_TMP/j.pcap.err" &&
	t_ok "tcpdump dropped nothing" || t_fail "tcpdump dropped packets" "$(cat "$T_TMP/j.pcap.err")"

d() { echo $(($(jq -r ".totals.$1" <<<"$s1") - $(jq -r ".totals.$1" <<<"$s0"))); }
t_check "rx packets = kernel rx_packets" $((k_rx1 - k_rx0)) "$(d rx_packets)"
t_check "tx packets = kernel tx_packets" $((k_tx1 - k_tx0)) "$(d tx_packets)"
read -r w_rxp w_rxb w_txp w_txb < <(t_pcap_dirs "$T_TMP/j.pcap" "$NS_B" "$IF_B")
mac_b=$(ip -n "$NS_B" -br link show "$IF_B" | awk '{print $3}')
jumbo=$(tshark -r "$T_TMP/j.pcap" -Y "frame.len > 4096 && eth.src != $mac_b" -T fields \
	-e frame.number 2>/dev/null | grep -c .)
t_log "received: $w_rxp frames, $w_rxb bytes; $jumbo of them larger than a 4 KiB buffer"
[ "$jumbo" -ge 200 ] && t_ok "the traffic has multi-buffer frames ($jumbo received over 4 KiB)" ||
	t_fail "the traffic has multi-buffer frames" "only $jumbo frames over 4 KiB"
t_check "rx packets = tcpdump" "$w_rxp" "$(d rx_packets)"
t_check "rx bytes = tcpdump frame bytes (whole frames, across fragments)" "$w_rxb" "$(d rx_bytes)"
t_check "tx packets = tcpdump" "$w_txp" "$(d tx_packets)"
t_check "tx bytes = tcpdump frame bytes" "$w_txb" "$(d tx_bytes)"
t_check "nothing malformed, no overflow" "0 0" "$(d malformed_packets) $(d overflow_packets)"
read -r tp fp tb fb < <(jq -r '.totals | "\(.packets) \(.flow_packets + .overflow_packets + .malformed_packets + .nonip_packets) \(.bytes) \(.flow_bytes + .overflow_bytes + .malformed_bytes + .nonip_bytes)"' <<<"$s1")
t_check "conservation: packets" "$tp" "$fp"
t_check "conservation: bytes" "$tb" "$fb"

nacct_b flows "$IF_B" --json >"$T_TMP/flows.json"
flow() { jq -rs "map(select($1)) | if length == 1 then .[0] | \"\(.packets) \(.bytes)\" else \"count=\(length)\" end" "$T_TMP/flows.json"; }
witness() { tshark -r "$T_TMP/j.pcap" -Y "$1" -T fields -e frame.len 2>/dev/null |
	awk '{ n++; b += $1 } END { print n+0, b+0 }'; }
for p in 7001 7002 7003 7004 7005; do
	t_check "UDP flow to port $p = tcpdump" "$(witness "udp.dstport == $p && !icmp && !icmpv6")" \
		"$(flow ".proto == \"udp\" and .dport == $p")"
done
t_check "TCP flow = tcpdump (both directions)" "$(witness "tcp.port == 5009")" \
	"$(flow '.proto == "tcp" and .dport == 5009')"
# an echo flow's ports are the echo identifier
id4=$(tshark -r "$T_TMP/j.pcap" -Y "icmp.type == 8" -T fields -e icmp.ident 2>/dev/null | head -1)
id6=$(tshark -r "$T_TMP/j.pcap" -Y "icmpv6.type == 128" -T fields -e icmpv6.echo.identifier 2>/dev/null | head -1)
t_check "IPv4 ping flow = tcpdump" "$(witness "icmp.ident == ${id4:-0}")" \
	"$(flow ".proto == \"icmp\" and .sport == $((${id4:-0}))")"
t_check "IPv6 ping flow = tcpdump" "$(witness "icmpv6.echo.identifier == ${id6:-0}")" \
	"$(flow ".proto == \"icmp6\" and .sport == $((${id6:-0}))")"

# ---- 3. inline capture of jumbo frames ---------------------------------------
# the frames of one UDP port, as tcpdump prints them with their bytes
frames_of() { tcpdump -r "$1" -nn -t -x "udp dst port $2" 2>/dev/null; }

t_tcpdump_start "$NS_B" "$IF_B" "$T_TMP/w2.pcap"
if cap_start inline "$IF_B" -w "$T_TMP/inline.pcap" "udp dst port 7006"; then
	t_check "inline: 100 datagrams of 8000 bytes sent" 100 \
		"$(in_a "$UDPSEND" 198.18.0.2 7006 100 8000 41006)"
	cap_stop
	t_tcpdump_stop "$T_TMP/w2.pcap" 100 "udp dst port 7006"
	t_check "inline capture: exit 0" 0 "$CAP_RC"
	t_check "inline capture: 100 frames of 8042 bytes, 1536 of each kept" "100 8042 1536" \
		"$(tshark -r "$T_TMP/inline.pcap" -T fields -e frame.len -e frame.cap_len 2>/dev/null |
		   sort | uniq -c | awk '{print $1, $2, $3}')"
	editcap -s 1536 "$T_TMP/w2.pcap" "$T_TMP/w2.cut.pcap" >/dev/null 2>&1
	if [ "$(frames_of "$T_TMP/inline.pcap" 7006 | md5sum)" = \
	     "$(frames_of "$T_TMP/w2.cut.pcap" 7006 | md5sum)" ]; then
		t_ok "inline capture: the frames = tcpdump's (length and first 1536 bytes)"
	else
		t_fail "inline capture: the frames = tcpdump's (length and first 1536 bytes)" \
			"$(diff <(frames_of "$T_TMP/inline.pcap" 7006) <(frames_of "$T_TMP/w2.cut.pcap" 7006) | head -5)"
	fi
fi

# ---- 4. tap capture: whole jumbo frames through AF_XDP multi-buffer ----------
# tap mode drops what it does not capture, so the witness is tcpdump on the
# sender's side
T_SNAPLEN=0 t_tcpdump_start "$NS_A" "$IF_A" "$T_TMP/a.pcap"
if cap_start tap "$IF_B" -w "$T_TMP/tap.pcap" --tap; then
	t_log "$(grep 'tap queue' "$CAP_ERR" | head -2)"
	t_check "tap: every queue bound multi-buffer (XDP_USE_SG)" \
		"$(grep -c 'tap queue [0-9]*: AF_XDP' "$CAP_ERR")" \
		"$(grep -c 'tap queue [0-9]*: AF_XDP.*, multi-buffer$' "$CAP_ERR")"
	t_check "tap: 100 datagrams of 8972 bytes sent" 100 \
		"$(in_a "$UDPSEND" 198.18.0.2 7007 100 8972 41007)"
	cap_stop
	t_tcpdump_stop "$T_TMP/a.pcap" 100 "udp dst port 7007"
	t_check "tap capture: exit 0" 0 "$CAP_RC"
	t_check "tap capture: 100 whole frames of 9014 bytes" "100 9014 9014" \
		"$(tshark -r "$T_TMP/tap.pcap" -Y 'udp.dstport == 7007' -T fields -e frame.len \
			-e frame.cap_len 2>/dev/null | sort | uniq -c | awk '{print $1, $2, $3}')"
	if [ "$(frames_of "$T_TMP/tap.pcap" 7007 | md5sum)" = "$(frames_of "$T_TMP/a.pcap" 7007 | md5sum)" ]; then
		t_ok "tap capture: the frames = tcpdump's on the sender, byte for byte"
	else
		t_fail "tap capture: the frames = tcpdump's on the sender, byte for byte" \
			"$(diff <(frames_of "$T_TMP/tap.pcap" 7007) <(frames_of "$T_TMP/a.pcap" 7007) | head -5)"
	fi
fi

# ---- 5. --multi-buffer off: the single-buffer program, generic, and why --------
nacct_b detach "$IF_B" >/dev/null
nacct_b attach "$IF_B" --multi-buffer sometimes >/dev/null 2>&1
t_check "--multi-buffer with a bad value: exit status 2" 2 $?
out=$(nacct_b attach "$IF_B" --multi-buffer off 2>&1)
st=$(nacct_b status "$IF_B" --json)
t_check "--multi-buffer off at MTU 9000: generic mode" generic "$(jq -r .mode <<<"$st")"
case $(jq -r .reason <<<"$st") in
*"native attach failed"*"single-buffer: --multi-buffer off"*) t_ok "... and the reason says why ($(jq -r .reason <<<"$st"))" ;;
*) t_fail "... and the reason says why" "$(jq -r .reason <<<"$st")" "$out" ;;
esac
t_check "generic: 20 datagrams of 8000 bytes sent" 20 "$(in_a "$UDPSEND" 198.18.0.2 7008 20 8000 41008)"
sleep 0.3
t_check "generic: the flow counts them whole" "20 160840" \
	"$(nacct_b flows "$IF_B" --json | jq -rs 'map(select(.dport == 7008)) | "\(map(.packets) | add) \(map(.bytes) | add)"')"

nacct_b detach "$IF_B" >/dev/null
t_check "detach leaves no pins" "" "$(ls /sys/fs/bpf/nacct 2>/dev/null | grep -F "$IF_B" || true)"
exit $T_FAILED
