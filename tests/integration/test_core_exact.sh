#!/bin/bash
# Exact counts: nacct's per-flow and total counters against independent
# witnesses on the same traffic — tcpdump on the same interface (packets
# and frame bytes per flow), the kernel's interface counters (packets),
# and the generators' own counts (ping -c, udpsend).
# Traffic: ping IPv4 (with fragments) and IPv6, UDP IPv4 and IPv6, a TCP
# transfer.  Offloads are off so that one skb is one wire packet and
# tcpdump sees what the wire carries.
. "$(dirname "$0")/../lib.sh"
t_need_root
t_setup_pair || { t_fail setup "cannot create netns/veth"; exit 1; }
UDPSEND=$ROOT/.output/udpsend
for ns in "$NS_A" "$NS_B"; do
	ifc=$IF_A; [ "$ns" = "$NS_B" ] && ifc=$IF_B
	ip netns exec "$ns" ethtool -K "$ifc" tso off gso off gro off >/dev/null 2>&1
done

out=$(nacct_b attach "$IF_B" --subnets 198.18.0.0/24,fd00:18::/64 2>&1)
rc=$?
t_check "attach exit status" 0 "$rc"
[ "$rc" = 0 ] || { t_log "$out"; exit 1; }
mode=$(nacct_b status "$IF_B" --json | jq -r .mode)
t_check "auto mode on veth is native" native "$mode"

sleep 1 # let link-up chatter (MLD) pass before the window opens
t_tcpdump_start "$NS_B" "$IF_B" "$T_TMP/b.pcap"

s0=$(nacct_b status "$IF_B" --json)
k_rx0=$(t_ifstat "$NS_B" "$IF_B" rx_packets)
k_tx0=$(t_ifstat "$NS_B" "$IF_B" tx_packets)

# --- traffic -------------------------------------------------------------
ip netns exec "$NS_B" ncat -l -u 198.18.0.2 5001 >/dev/null &
t_cleanup_add "kill $!"
ip netns exec "$NS_B" ncat -l -u fd00:18::2 5002 >/dev/null &
t_cleanup_add "kill $!"
ip netns exec "$NS_B" ncat -l 198.18.0.2 5003 >"$T_TMP/tcp.out" &
NCL=$!
t_cleanup_add "kill $NCL"
sleep 0.3
ip netns exec "$NS_A" ping -q -c 20 -i 0.01 198.18.0.2 >/dev/null
ip netns exec "$NS_A" ping -q -c 5 -i 0.01 -s 3000 198.18.0.2 >/dev/null
ip netns exec "$NS_A" ping -q -c 20 -i 0.01 fd00:18::2 >/dev/null
u4=$(ip netns exec "$NS_A" "$UDPSEND" 198.18.0.2 5001 300 200 40001)
u6=$(ip netns exec "$NS_A" "$UDPSEND" fd00:18::2 5002 200 700 40002)
head -c 300000 /dev/urandom >"$T_TMP/tcp.in"
ip netns exec "$NS_A" ncat --send-only 198.18.0.2 5003 <"$T_TMP/tcp.in"
wait "$NCL" 2>/dev/null
sleep 0.5

k_rx1=$(t_ifstat "$NS_B" "$IF_B" rx_packets)
k_tx1=$(t_ifstat "$NS_B" "$IF_B" tx_packets)
s1=$(nacct_b status "$IF_B" --json)
# the kernel's counters say how many frames tcpdump must have seen
t_tcpdump_stop "$T_TMP/b.pcap" $((k_rx1 - k_rx0 + k_tx1 - k_tx0))

t_check "udpsend IPv4 sent" 300 "$u4"
t_check "udpsend IPv6 sent" 200 "$u6"
t_check "TCP transfer intact" "$(md5sum <"$T_TMP/tcp.in")" "$(md5sum <"$T_TMP/tcp.out")"
grep -q "^0 packets dropped by kernel" "$T_TMP/b.pcap.err" &&
	t_ok "tcpdump dropped nothing" || t_fail "tcpdump dropped packets" "$(cat "$T_TMP/b.pcap.err")"

d() { echo $(($(jq -r ".totals.$1" <<<"$s1") - $(jq -r ".totals.$1" <<<"$s0"))); }
t_check "rx packets = kernel rx_packets" $((k_rx1 - k_rx0)) "$(d rx_packets)"
t_check "tx packets = kernel tx_packets" $((k_tx1 - k_tx0)) "$(d tx_packets)"

# the whole window against tcpdump: packets and frame bytes per direction
mac_b=$(ip -n "$NS_B" -br link show "$IF_B" | awk '{print $3}')
read -r w_rxp w_rxb w_txp w_txb < <(t_pcap_dirs "$T_TMP/b.pcap" "$NS_B" "$IF_B")
t_check "rx packets = tcpdump" "$w_rxp" "$(d rx_packets)"
t_check "rx bytes = tcpdump frame bytes" "$w_rxb" "$(d rx_bytes)"
t_check "tx packets = tcpdump" "$w_txp" "$(d tx_packets)"
t_check "tx bytes = tcpdump frame bytes" "$w_txb" "$(d tx_bytes)"
t_check "no malformed" 0 "$(d malformed_packets)"
t_check "no overflow" 0 "$(d overflow_packets)"

# conservation: totals = flows (the flow map, summed from the listing) +
# overflow + malformed + non-IP (status derives its "in flows" from this)
read -r sfp sfb <<<"$(nacct_b flows "$IF_B" --json | jq -rs '"\(map(.packets) | add) \(map(.bytes) | add)"')"
tot=$(jq -r --argjson fp "$sfp" --argjson fb "$sfb" '.totals | "\(.packets) \($fp + .overflow_packets + .malformed_packets + .nonip_packets) \(.bytes) \($fb + .overflow_bytes + .malformed_bytes + .nonip_bytes)"' <<<"$s1")
read -r tp fp tb fb <<<"$tot"
t_check "status's in-flows = the flow map's sum: packets" "$sfp" "$(jq -r .totals.flow_packets <<<"$s1")"
t_check "status's flow count = the listing's" "$(nacct_b flows "$IF_B" --json | wc -l)" "$(jq -r .maps.flows <<<"$s1")"
t_check "conservation: packets" "$tp" "$fp"
t_check "conservation: bytes" "$tb" "$fb"

# per flow: nacct's record against tshark on the same 5-tuple
nacct_b flows "$IF_B" --json >"$T_TMP/flows.json"
flow() { # jq-selector -> "packets bytes rx_packets tx_packets"
	jq -rs "map(select($1)) | if length == 1 then .[0] | \"\(.packets) \(.bytes) \(.rx_packets) \(.tx_packets)\" else \"count=\(length)\" end" "$T_TMP/flows.json"
}
witness() { # display filter -> "packets bytes"
	tshark -r "$T_TMP/b.pcap" -Y "$1" -T fields -e frame.len 2>/dev/null |
		awk '{ n++; b += $1 } END { print n+0, b+0 }'
}
check_flow() { # name, jq selector, tshark filter, expected rx, expected tx
	local got want
	got=$(flow "$2")
	want=$(witness "$3")
	t_check "$1: packets bytes = tcpdump" "$want" "$(cut -d' ' -f1-2 <<<"$got")"
	[ -z "$4" ] || t_check "$1: rx/tx packets" "$4 $5" "$(cut -d' ' -f3-4 <<<"$got")"
}
check_flow "udp4 flow" '.proto=="udp" and .dport==5001 and .sport==40001' \
	"udp.port==5001 && udp.port==40001" 300 0
check_flow "udp6 flow" '.proto=="udp" and .dport==5002' "udp.port==5002 && ipv6" 200 0
check_flow "tcp flow" '.proto=="tcp" and .dport==5003' "tcp.port==5003" "" ""
# echo id = ports: each ping run is its own flow; all 20 requests + 20 replies
n4=$(jq -rs 'map(select(.proto=="icmp" and .packets==40)) | length' "$T_TMP/flows.json")
t_check "icmp: a 20-ping run is one flow of 40 packets" 1 "$n4"
n6=$(jq -rs 'map(select(.proto=="icmp6" and .src=="fd00:18::1" and .packets==40)) | length' "$T_TMP/flows.json")
t_check "icmp6: a 20-ping run is one flow of 40 packets" 1 "$n6"
# fragments: 5 pings of 3000 bytes = 3 fragments each way, all in one flow
frag=$(jq -rs 'map(select(.proto=="icmp" and .packets==30)) | length' "$T_TMP/flows.json")
t_check "fragmented pings: all 30 fragments in one flow" 1 "$frag"
t_check "fragments counted" 30 "$(d fragments)"
t_check "every later fragment found its ports" 0 "$(d fragments_noports)"
w_icmp=$(witness "ip.proto==1")
t_check "all IPv4 ICMP = tcpdump" "$w_icmp" "$(jq -rs 'map(select(.proto=="icmp")) | "\(map(.packets)|add) \(map(.bytes)|add)"' "$T_TMP/flows.json")"

# src/dst are initiator/responder; first/last seen are RFC 3339 and ordered
init=$(flow '.proto=="tcp" and .dport==5003' >/dev/null; jq -rs 'map(select(.proto=="tcp" and .dport==5003))[0] | "\(.src) \(.dst)"' "$T_TMP/flows.json")
t_check "tcp flow src is the initiator" "198.18.0.1 198.18.0.2" "$init"
bad_t=$(jq -rs 'map(select((.first_seen|test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$")|not) or .first_seen > .last_seen)) | length' "$T_TMP/flows.json")
t_check "first_seen <= last_seen, RFC 3339" 0 "$bad_t"
flags=$(jq -rs 'map(select(.proto=="tcp" and .dport==5003))[0].tcp_flags' "$T_TMP/flows.json")
case "$flags" in *S*F*|*F*S*) t_ok "tcp flags seen ($flags)";; *) t_fail "tcp flags" "got '$flags'";; esac

# subnets: everything from/to 198.18.0.0/24 and fd00:18::/64
nacct_b subnets "$IF_B" --json >"$T_TMP/subnets.json"
sub4=$(jq -rs 'map(select(.subnet=="198.18.0.0/24")) | .[0].rx_packets' "$T_TMP/subnets.json")
w_sub4=$(witness "ip.src==198.18.0.0/24 && !(eth.src==$mac_b)" | cut -d' ' -f1)
t_check "subnet 198.18.0.0/24 rx packets = tcpdump" "$w_sub4" "$sub4"
sub_sum=$(jq -rs 'map(.packets) | add' "$T_TMP/subnets.json")
s2=$(nacct_b status "$IF_B" --json)
t_check "subnet counters (incl. other) sum to IP packets" \
	"$(( $(jq -s 'map(.packets) | add' "$T_TMP/flows.json") + $(jq -r '.totals.overflow_packets' <<<"$s2") ))" "$sub_sum"

# CSV and the table render the same flows
ncsv=$(nacct_b flows "$IF_B" --csv | tail -n +2 | wc -l)
t_check "csv has one line per flow" "$(wc -l <"$T_TMP/flows.json")" "$ncsv"
top2=$(nacct_b flows "$IF_B" --sort packets --top 2 | tail -n +2 | wc -l)
t_check "--top 2" 2 "$top2"

nacct_b detach "$IF_B" >/dev/null
t_check "detach leaves no pins" "" "$(ls /sys/fs/bpf/nacct 2>/dev/null | grep -F "$IF_B" || true)"
exit $T_FAILED
