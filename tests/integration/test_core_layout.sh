#!/bin/bash
# The flow table layouts, each against independent witnesses on the same
# traffic: `nacct attach --flow-layout shared`, then `percpu`, on the
# receiving end of a veth pair.  The flow map has the layout's type
# (bpftool); totals equal the kernel's interface counters (packets) and
# tcpdump (packets and frame bytes, per direction); the conservation law
# holds; per flow, nacct's records equal tcpdump's on the same 5-tuple,
# including one UDP flow that two CPUs update at once (the request
# direction sent from CPU 0, the reply direction from CPU 1: on veth the
# receiver's XDP runs on the sender's CPU, TC egress on the replier's);
# flows_created equals the flows in the map.  ICMP errors quoting a UDP
# header are flows of their own: the per-flow witnesses leave them out.
# Offloads are off so that one skb is one wire packet.
. "$(dirname "$0")/../lib.sh"
t_need_root
t_setup_pair || { t_fail setup "cannot create netns/veth"; exit 1; }
UDPSEND=$ROOT/.output/udpsend
TCPXFER=$ROOT/.output/tcpxfer
for ns in "$NS_A" "$NS_B"; do
	ifc=$IF_A; [ "$ns" = "$NS_B" ] && ifc=$IF_B
	ip netns exec "$ns" ethtool -K "$ifc" tso off gso off gro off >/dev/null 2>&1
done
ncpu=$(nproc)
cpu_a=0; cpu_b=$((ncpu > 1 ? 1 : 0))
[ "$ncpu" -gt 1 ] || t_skip "two CPUs on one flow" "one CPU online: both directions run on CPU 0"

run_layout() { # percpu|shared, the map type bpftool names
	local lay=$1 want_type=$2 out rc dir s0 s1 k_rx0 k_tx0 k_rx1 k_tx1 pa pb n_tcp
	t_log "--- --flow-layout $lay"
	out=$(nacct_b attach "$IF_B" --flow-layout "$lay" 2>&1)
	rc=$?
	t_check "$lay: attach exit status" 0 "$rc"
	[ "$rc" = 0 ] || { t_log "$out"; return 1; }
	dir=$(sed -n 's/.*pins: //p' <<<"$out")
	t_check "$lay: flow map type" "$want_type" \
		"$(in_b bpftool map show pinned "$dir/nacct_flows" -j 2>/dev/null | jq -r .type)"

	sleep 1 # link-up chatter (MLD) passes before the window opens
	t_tcpdump_start "$NS_B" "$IF_B" "$T_TMP/$lay.pcap"
	s0=$(nacct_b status "$IF_B" --json)
	k_rx0=$(t_ifstat "$NS_B" "$IF_B" rx_packets)
	k_tx0=$(t_ifstat "$NS_B" "$IF_B" tx_packets)

	# --- traffic ---------------------------------------------------------
	ip netns exec "$NS_B" "$TCPXFER" server 198.18.0.2 5003 >"$T_TMP/$lay.srv" &
	local srv=$!
	t_cleanup_add "kill $srv"
	ip netns exec "$NS_A" ping -q -c 20 -i 0.01 198.18.0.2 >/dev/null
	ip netns exec "$NS_A" ping -q -c 20 -i 0.01 fd00:18::2 >/dev/null
	# one UDP flow, both directions at once from two CPUs; each end's
	# socket is bound to its port while it sends, so nothing is refused
	ip netns exec "$NS_A" taskset -c "$cpu_a" "$UDPSEND" 198.18.0.2 6000 3000 100 6001 \
		>"$T_TMP/$lay.ua" &
	pa=$!
	ip netns exec "$NS_B" taskset -c "$cpu_b" "$UDPSEND" 198.18.0.1 6001 3000 300 6000 \
		>"$T_TMP/$lay.ub" &
	pb=$!
	wait "$pa" "$pb"
	# 64 more UDP flows, IPv6
	t_check "$lay: udpsend IPv6 sent" 640 \
		"$(ip netns exec "$NS_A" "$UDPSEND" fd00:18::2 5002 640 200 41000 64)"
	for _ in $(seq 50); do grep -q ready "$T_TMP/$lay.srv" && break; sleep 0.1; done
	t_check "$lay: TCP transfer" "sent 200000" \
		"$(ip netns exec "$NS_A" "$TCPXFER" client 198.18.0.2 5003 200000)"
	wait "$srv" 2>/dev/null
	sleep 0.5

	k_rx1=$(t_ifstat "$NS_B" "$IF_B" rx_packets)
	k_tx1=$(t_ifstat "$NS_B" "$IF_B" tx_packets)
	s1=$(nacct_b status "$IF_B" --json)
	t_tcpdump_stop "$T_TMP/$lay.pcap" $((k_rx1 - k_rx0 + k_tx1 - k_tx0))
	t_check "$lay: udpsend from CPU $cpu_a sent" 3000 "$(cat "$T_TMP/$lay.ua")"
	t_check "$lay: udpsend from CPU $cpu_b sent" 3000 "$(cat "$T_TMP/$lay.ub")"
	grep -q "^0 packets dropped by kernel" "$T_TMP/$lay.pcap.err" &&
		t_ok "$lay: tcpdump dropped nothing" ||
		t_fail "$lay: tcpdump dropped packets" "$(cat "$T_TMP/$lay.pcap.err")"

	d() { echo $(($(jq -r ".totals.$1" <<<"$s1") - $(jq -r ".totals.$1" <<<"$s0"))); }
	t_check "$lay: rx packets = kernel rx_packets" $((k_rx1 - k_rx0)) "$(d rx_packets)"
	t_check "$lay: tx packets = kernel tx_packets" $((k_tx1 - k_tx0)) "$(d tx_packets)"
	local w_rxp w_rxb w_txp w_txb
	read -r w_rxp w_rxb w_txp w_txb < <(t_pcap_dirs "$T_TMP/$lay.pcap" "$NS_B" "$IF_B")
	t_check "$lay: rx packets = tcpdump" "$w_rxp" "$(d rx_packets)"
	t_check "$lay: rx bytes = tcpdump frame bytes" "$w_rxb" "$(d rx_bytes)"
	t_check "$lay: tx packets = tcpdump" "$w_txp" "$(d tx_packets)"
	t_check "$lay: tx bytes = tcpdump frame bytes" "$w_txb" "$(d tx_bytes)"
	t_check "$lay: no overflow, no malformed" "0 0" "$(d overflow_packets) $(d malformed_packets)"

	local tp fp tb fb
	read -r tp fp tb fb < <(jq -r '.totals | "\(.packets) \(.flow_packets + .overflow_packets + .malformed_packets + .nonip_packets) \(.bytes) \(.flow_bytes + .overflow_bytes + .malformed_bytes + .nonip_bytes)"' <<<"$s1")
	t_check "$lay: conservation: packets" "$tp" "$fp"
	t_check "$lay: conservation: bytes" "$tb" "$fb"

	# per flow, against tshark on the same 5-tuple
	nacct_b flows "$IF_B" --json >"$T_TMP/$lay.flows.json"
	flow() { jq -rs "map(select($1)) | if length == 1 then .[0] | \"\(.packets) \(.bytes) \(.rx_packets) \(.tx_packets)\" else \"count=\(length)\" end" "$T_TMP/$lay.flows.json"; }
	witness() { tshark -r "$T_TMP/$lay.pcap" -Y "$1" -T fields -e frame.len 2>/dev/null |
		awk '{ n++; b += $1 } END { print n+0, b+0 }'; }
	local got
	got=$(flow '.proto=="udp" and ((.sport==6001 and .dport==6000) or (.sport==6000 and .dport==6001))')
	t_check "$lay: the two-CPU UDP flow = tcpdump" \
		"$(witness "udp.port==6000 && udp.port==6001 && !icmp")" "$(cut -d' ' -f1-2 <<<"$got")"
	t_check "$lay: the two-CPU UDP flow: rx/tx packets" "3000 3000" "$(cut -d' ' -f3-4 <<<"$got")"
	got=$(flow '.proto=="tcp" and .dport==5003')
	t_check "$lay: tcp flow = tcpdump" "$(witness "tcp.port==5003")" "$(cut -d' ' -f1-2 <<<"$got")"
	t_check "$lay: 64 IPv6 UDP flows of 10 packets" 64 \
		"$(jq -rs 'map(select(.proto=="udp" and .dport==5002 and .packets==10)) | length' "$T_TMP/$lay.flows.json")"
	t_check "$lay: IPv6 UDP = tcpdump" "$(witness "udp.port==5002 && ipv6 && !icmpv6")" \
		"$(jq -rs 'map(select(.proto=="udp" and .dport==5002)) | "\(map(.packets)|add) \(map(.bytes)|add)"' "$T_TMP/$lay.flows.json")"
	n_tcp=$(jq -rs 'map(select(.proto=="tcp" and .dport==5003))[0] | "\(.src) \(.dst)"' "$T_TMP/$lay.flows.json")
	t_check "$lay: tcp flow src is the initiator" "198.18.0.1 198.18.0.2" "$n_tcp"
	t_check "$lay: flows_created = flows in the map" "$(wc -l <"$T_TMP/$lay.flows.json")" \
		"$(jq -r .totals.flows_created <<<"$s1")"
	t_check "$lay: every record in both tables sums to the flow totals" \
		"$(jq -r '.totals | "\(.flow_packets) \(.flow_bytes)"' <<<"$s1")" \
		"$(jq -rs '"\(map(.packets)|add) \(map(.bytes)|add)"' "$T_TMP/$lay.flows.json")"

	nacct_b detach "$IF_B" >/dev/null
	t_check "$lay: detach leaves no pins" "" \
		"$(ls /sys/fs/bpf/nacct 2>/dev/null | grep -F "$IF_B" || true)"
}

run_layout shared hash
run_layout percpu percpu_hash
exit $T_FAILED
