#!/bin/bash
# VLAN: 802.1Q sub-interfaces and an 802.1ad + 802.1Q (QinQ) stack over
# the veth pair; nacct on the parent interface keys flows by the outer
# VLAN id and counts packets and frame bytes (tags included) exactly like
# tcpdump on the same parent interface sees them.  Both XDP and --hook tc.
. "$(dirname "$0")/../lib.sh"
t_need_root
t_setup_pair || { t_fail setup "cannot create netns/veth"; exit 1; }

# This kernel has no 8021q (and cannot load modules), so the tagged frames
# are built by hand and put on the wire with rawsend: UDP/IPv4 in 802.1Q
# 100, UDP/IPv4 in QinQ 802.1ad 200 + 802.1Q 300, UDP/IPv6 in 802.1Q 100.
# At TC ingress the kernel has already moved the outer tag into skb
# metadata, so the TC path also proves the metadata-tag accounting.
RAWSEND=$ROOT/.output/rawsend
mac_a=$(ip -n "$NS_A" -br link show "$IF_A" | awk '{print $3}' | tr -d :)
mac_b=$(ip -n "$NS_B" -br link show "$IF_B" | awk '{print $3}' | tr -d :)
eth="${mac_b}${mac_a}"
ip4="4500001c000000004011 0000 c6120001 c6120002"
f_q="${eth}81000064 0800 ${ip4} 1f901f9100080000"
f_qinq="${eth}88a800c8 8100012c 0800 ${ip4} 1f921f9300080000"
f_q6="${eth}81000064 86dd 6000000000081140 fd000018000000000000000000000001 fd000018000000000000000000000002 1f941f9500080000"
f_q=${f_q// /}; f_qinq=${f_qinq// /}; f_q6=${f_q6// /}

for hook in xdp tc; do
	nacct_b attach "$IF_B" --hook "$hook" >/dev/null || { t_fail "$hook: attach"; continue; }
	t_tcpdump_start "$NS_B" "$IF_B" "$T_TMP/$hook.pcap"
	n=$(ip netns exec "$NS_A" "$RAWSEND" "$IF_A" 11 "$f_q" "$f_qinq" "$f_q6")
	sleep 0.3
	s1=$(nacct_b status "$IF_B" --json)
	t_tcpdump_stop "$T_TMP/$hook.pcap" 33 vlan
	grep -q "^0 packets dropped by kernel" "$T_TMP/$hook.pcap.err" && t_ok "$hook: tcpdump dropped nothing" ||
		t_fail "$hook: tcpdump dropped packets" "$(cat "$T_TMP/$hook.pcap.err")"
	nacct_b flows "$IF_B" --json >"$T_TMP/$hook.flows"
	t_check "$hook: frames sent" 33 "$n"
	w() { tshark -r "$T_TMP/$hook.pcap" -Y "$1" -T fields -e frame.len 2>/dev/null | awk '{n++; b+=$1} END{print n+0, b+0}'; }
	got() { jq -rs "map(select($1)) | \"\(length) \(map(.packets)|add) \(map(.bytes)|add)\"" "$T_TMP/$hook.flows"; }
	t_check "$hook: 802.1Q 100 UDP/IPv4: one flow, vlan 100, = tcpdump" "1 $(w 'udp.port==8080')" \
		"$(got '.vlan==100 and .sport==8080')"
	t_check "$hook: QinQ 200/300 UDP/IPv4: one flow, outer vlan 200, = tcpdump" "1 $(w 'udp.port==8082')" \
		"$(got '.vlan==200 and .sport==8082')"
	t_check "$hook: 802.1Q 100 UDP/IPv6: one flow, vlan 100, = tcpdump" "1 $(w 'udp.port==8084')" \
		"$(got '.vlan==100 and .sport==8084 and .family==6')"
	t_check "$hook: 11 packets per flow" "11 11 11" \
		"$(jq -rs 'map(select(.vlan>0)) | map(.packets) | join(" ")' "$T_TMP/$hook.flows")"
	t_check "$hook: no malformed" 0 "$(jq -r .totals.malformed_packets <<<"$s1")"
	nacct_b detach "$IF_B" >/dev/null
done
exit $T_FAILED
