#!/bin/bash
# The conservation invariant under pressure: many more distinct flows than
# --max-flows.  Every packet lands in exactly one place — a flow or the
# overflow bucket (or malformed / non-IP) — and the totals equal the
# kernel's interface counters and the generator's count.
# Also: malformed frames put on the wire are counted as malformed (by
# reason), never as flows, and are passed on; non-IP frames by ethertype;
# a GSO TCP stream at TC egress counts the wire packets it stands for.
. "$(dirname "$0")/../lib.sh"
t_need_root
t_setup_pair || { t_fail setup "cannot create netns/veth"; exit 1; }
UDPSEND=$ROOT/.output/udpsend
RAWSEND=$ROOT/.output/rawsend

nacct_b attach "$IF_B" --max-flows 64 --subnets 198.18.0.0/25 >/dev/null || { t_fail attach; exit 1; }
s0=$(nacct_b status "$IF_B" --json)
k0=$(t_ifstat "$NS_B" "$IF_B" rx_packets)
# 2000 datagrams over 1000 source ports: 1000 flows for a 64-flow table
sent=$(ip netns exec "$NS_A" "$UDPSEND" 198.18.0.2 7 2000 32 20000 1000)
sent6=$(ip netns exec "$NS_A" "$UDPSEND" fd00:18::2 7 500 32 30000 250)
sleep 0.5
k1=$(t_ifstat "$NS_B" "$IF_B" rx_packets)
s1=$(nacct_b status "$IF_B" --json)
d() { echo $(($(jq -r ".totals.$1" <<<"$s1") - $(jq -r ".totals.$1" <<<"$s0"))); }

t_check "generator sent" "2000 500" "$sent $sent6"
t_check "rx packets = kernel rx_packets" $((k1 - k0)) "$(d rx_packets)"
t_check "flow table is full" 64 "$(jq -r .maps.flows <<<"$s1")"
ovf=$(d overflow_packets)
if [ "$ovf" -gt 0 ]; then t_ok "overflow bucket used ($ovf packets)"; else t_fail "overflow bucket" "0 packets"; fi
# the flows' share summed from the listing, not status's own derivation
read -r sfp sfb <<<"$(nacct_b flows "$IF_B" --json | jq -rs '"\(map(.packets) | add) \(map(.bytes) | add)"')"
read -r tp fp tb fb <<<"$(jq -r --argjson fp "$sfp" --argjson fb "$sfb" '.totals | "\(.packets) \($fp + .overflow_packets + .malformed_packets + .nonip_packets) \(.bytes) \($fb + .overflow_bytes + .malformed_bytes + .nonip_bytes)"' <<<"$s1")"
t_check "conservation under overflow: packets" "$tp" "$fp"
t_check "conservation under overflow: bytes" "$tb" "$fb"
# subnets still see every packet, overflowed or not: 198.18.0.0/25 holds .1
sub=$(nacct_b subnets "$IF_B" --json | jq -rs 'map(select(.subnet=="198.18.0.0/25"))[0].rx_packets')
t_check "subnet counts include overflowed packets" 2000 "$sub"
t_check "flow listing has 64 flows" 64 "$(nacct_b flows "$IF_B" --json | wc -l)"
t_check "no insert errors besides full" 0 "$(jq -r .totals.flow_insert_errors <<<"$s1")"
nacct_b detach "$IF_B" >/dev/null

# ---- malformed and non-IP frames on the wire ------------------------------
nacct_b attach "$IF_B" >/dev/null
mac_a=$(ip -n "$NS_A" -br link show "$IF_A" | awk '{print $3}' | tr -d :)
mac_b=$(ip -n "$NS_B" -br link show "$IF_B" | awk '{print $3}' | tr -d :)
eth="${mac_b}${mac_a}"
# IPv4 with IHL 4; IPv4 cut inside the header; IPv4 tot_len beyond the frame;
# TCP header cut short; IPv6 header cut short; ARP; an 802.3/LLC frame
ip4_ihl4="${eth}08004400001c0000000040110000c6120001c6120002"
ip4_cut="${eth}0800450000"
ip4_len="${eth}08004500ffff00000000401100004f120001c61200020001000200080000"

tcp_cut="${eth}080045000018000000004006b2c2c6120001c6120002abcd0050"
ip6_cut="${eth}86dd6000000000081140fd00"
arp="${eth}08060001080006040001${mac_a}c6120001000000000000c6120063"
llc="${eth}0026424203000000000000000000000000000000000000000000000000000000"
s0=$(nacct_b status "$IF_B" --json)
k0=$(t_ifstat "$NS_B" "$IF_B" rx_packets)
f0=$(nacct_b flows "$IF_B" --json | jq -s 'map(.packets) | add // 0')
n=$(ip netns exec "$NS_A" "$RAWSEND" "$IF_A" 10 "$ip4_ihl4" "$ip4_cut" "$ip4_len" "$tcp_cut" "$ip6_cut" "$arp" "$llc")
sleep 0.3
s1=$(nacct_b status "$IF_B" --json)
k1=$(t_ifstat "$NS_B" "$IF_B" rx_packets)
t_check "raw frames sent" 70 "$n"
t_check "every raw frame seen by the kernel" 70 $((k1 - k0))
t_check "malformed frames" 50 "$(d malformed_packets)"
t_check "non-IP frames" 20 "$(d nonip_packets)"
t_check "no malformed frame became a flow (the flow listing's sum)" "$f0" \
	"$(nacct_b flows "$IF_B" --json | jq -s 'map(.packets) | add // 0')"
mal=$(jq -c '.malformed' <<<"$s1")
t_check "malformed by reason" '{"ethernet":0,"vlan":0,"ipv4_header":20,"ipv4_length":10,"ipv6_header":10,"ipv6_ext_header":0,"l4_header":10,"tunnel_header":0,"inner_header":0}' "$mal"
t_check "non-IP by ethertype" '{"llc":10,"arp":10}' "$(jq -c '.ethertypes' <<<"$s1" | jq -c 'to_entries|sort_by(.key)|reverse|from_entries')"
# passed, not dropped: the kernel's own IP layer sees (and rejects) them
t_check "malformed frames are passed to the stack (XDP drop count 0)" 0 \
	"$(ip -n "$NS_B" -s link show "$IF_B" | awk '/RX:/{getline; print $4}')"
nacct_b detach "$IF_B" >/dev/null

# ---- GSO at TC egress: one skb, many wire packets -------------------------
# B sends a TCP stream with TSO/GSO on: TC egress sees super-packets.  The
# receiver's IP layer counts wire packets in IpExtInNoECTPkts (+ECT/CE),
# which is the witness for nacct's tx packet count.
ip netns exec "$NS_B" ethtool -K "$IF_B" tso on gso on >/dev/null 2>&1
nacct_b attach "$IF_B" --hook tc >/dev/null
ip netns exec "$NS_A" ncat -l 198.18.0.1 6001 >/dev/null &
NCL=$!
t_cleanup_add "kill $NCL"
sleep 0.3
ecn() { ip netns exec "$NS_A" nstat -az 2>/dev/null | awk '/IpExtIn(NoECT|ECT0|ECT1|CE)Pkts/{s+=$2} END{print s+0}'; }
w0=$(ecn)
s0=$(nacct_b status "$IF_B" --json)
head -c 2000000 /dev/zero | ip netns exec "$NS_B" ncat --send-only 198.18.0.1 6001
wait $NCL 2>/dev/null
sleep 0.3
s1=$(nacct_b status "$IF_B" --json)
w1=$(ecn)
gso=$(d gso_skbs)
if [ "$gso" -gt 0 ]; then t_ok "GSO skbs seen at egress ($gso)"; else t_skip "GSO accounting" "no GSO skb reached TC egress"; fi
t_check "tx packets = receiver's wire packet count (IpExtIn*Pkts)" $((w1 - w0)) "$(d tx_packets)"
nacct_b detach "$IF_B" >/dev/null
exit $T_FAILED
