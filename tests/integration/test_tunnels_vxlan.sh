#!/bin/bash
# Tunnels with real VXLAN devices: nacct on the underlay veth sees the
# inner conversations with their VNI and outer endpoints, and every inner
# flow's packets and bytes per direction equal tshark's decode of the same
# traffic (tcpdump on the same interface).
#
# Underlay: the test pair, IPv4 198.18.0.1/2 and IPv6 fd00:18::1/2.
# Overlay, one pair of tenant namespaces per VXLAN (the devices are made in
# the underlay namespaces, so their UDP sockets stay there, and moved to
# the tenants):
#   VNI 100  IPv4 underlay, port 4789   tenant 1: 10.77.0.1/2, fd10::1/2
#   VNI 200  IPv4 underlay, port 4789   tenant 2: the same addresses
#   VNI 300  IPv6 underlay, port 4789   tenant 3: the same addresses
#   VNI 400  IPv4 underlay, port 8472 (Linux's default)   tenant 4: the same
# Then the same traffic with --tunnel-ports vxlan=4789 (VNI 400 is plain UDP
# 8472 now) and with --decap off (outer flows only), against the same witness.
. "$(dirname "$0")/../lib.sh"
t_need_root
for tool in tshark jq ncat; do
	command -v $tool >/dev/null || { t_skip tunnels_vxlan "$tool not installed"; exit 0; }
done
UDPSEND=$ROOT/.output/udpsend
[ -x "$UDPSEND" ] || { t_skip tunnels_vxlan "build .output/udpsend (make test-integration)"; exit 0; }
ip link add "${T_ID}vx" type vxlan id 1 dstport 4789 2>/dev/null &&
	ip link del "${T_ID}vx" || { t_skip tunnels_vxlan "no vxlan device in this kernel"; exit 0; }
t_setup_pair || { t_fail setup "cannot create netns/veth"; exit 1; }

# tenant namespaces: ${T_ID}tNa / ${T_ID}tNb
tenant() { echo "${T_ID}t$1$2"; }
in_t() { local ns; ns=$(tenant "$1" "$2"); shift 2; nsenter --net=/run/netns/"$ns" "$@"; }
setup_vni() {
	local n=$1 vni=$2 under=$3 port=$4 la ra lb rb side
	if [ "$under" = 4 ]; then la=198.18.0.1 ra=198.18.0.2; else la=fd00:18::1 ra=fd00:18::2; fi
	for side in a b; do
		local ns ifu vx=vx$n loc rem mac
		ns=$(tenant "$n" "$side")
		ip netns add "$ns" || return 1
		t_cleanup_add "ip netns del $ns"
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.router_solicitations=0 \
			net.ipv6.conf.default.router_solicitations=0 net.ipv6.conf.default.dad_transmits=0 \
			net.ipv6.conf.default.mldv2_unsolicited_report_interval=1 \
			net.ipv6.conf.default.mldv1_unsolicited_report_interval=1 2>/dev/null
		if [ $side = a ]; then ifu=$IF_A loc=$la rem=$ra; else ifu=$IF_B loc=$ra rem=$la; fi
		ip -n "${T_ID}$side" link add "$vx" type vxlan id "$vni" local "$loc" remote "$rem" \
			dstport "$port" dev "$ifu" || return 1
		ip -n "${T_ID}$side" link set "$vx" netns "$ns" || return 1
		ip -n "$ns" link set lo up
		if [ $side = a ]; then
			ip -n "$ns" addr add 10.77.0.1/24 dev "$vx"
			ip -n "$ns" addr add fd10::1/64 dev "$vx" nodad
		else
			ip -n "$ns" addr add 10.77.0.2/24 dev "$vx"
			ip -n "$ns" addr add fd10::2/64 dev "$vx" nodad
		fi
		ip netns exec "$ns" ethtool -K "$vx" tso off gso off gro off >/dev/null 2>&1
		ip -n "$ns" link set "$vx" up
	done
	# static neighbours inside: no ARP/ND in the tunnels unless a test wants it
	local ma mb
	ma=$(ip -n "$(tenant "$n" a)" -br link show "vx$n" | awk '{print $3}')
	mb=$(ip -n "$(tenant "$n" b)" -br link show "vx$n" | awk '{print $3}')
	ip -n "$(tenant "$n" a)" neigh add 10.77.0.2 lladdr "$mb" dev "vx$n" nud permanent
	ip -n "$(tenant "$n" b)" neigh add 10.77.0.1 lladdr "$ma" dev "vx$n" nud permanent
	ip -n "$(tenant "$n" a)" neigh add fd10::2 lladdr "$mb" dev "vx$n" nud permanent
	ip -n "$(tenant "$n" b)" neigh add fd10::1 lladdr "$ma" dev "vx$n" nud permanent
}
for ns in "$NS_A" "$NS_B"; do
	ifc=$IF_A; [ "$ns" = "$NS_B" ] && ifc=$IF_B
	ip netns exec "$ns" ethtool -K "$ifc" tso off gso off gro off >/dev/null 2>&1
done
setup_vni 1 100 4 4789 && setup_vni 2 200 4 4789 && setup_vni 3 300 6 4789 &&
	setup_vni 4 400 4 8472 || { t_fail setup "cannot create the VXLAN devices"; exit 1; }
# VNI 500 ends in the underlay namespaces themselves (a host that terminates
# its own VXLAN): the side programs see the decapsulated packets there, in
# the namespace nacct reads, and join them onto the inner flow
for side in a b; do
	if [ $side = a ]; then loc=198.18.0.1 rem=198.18.0.2 ifu=$IF_A; else loc=198.18.0.2 rem=198.18.0.1 ifu=$IF_B; fi
	ip -n "${T_ID}$side" link add vx5 type vxlan id 500 local $loc remote $rem dstport 4789 dev "$ifu" &&
		ip -n "${T_ID}$side" addr add "10.78.0.$([ $side = a ] && echo 1 || echo 2)/24" dev vx5 &&
		ip -n "${T_ID}$side" link set vx5 up || { t_fail setup "VNI 500"; exit 1; }
	ip netns exec "${T_ID}$side" ethtool -K vx5 tso off gso off gro off >/dev/null 2>&1
done
ip -n "$NS_A" neigh add 10.78.0.2 lladdr "$(ip -n "$NS_B" -br link show vx5 | awk '{print $3}')" dev vx5 nud permanent
ip -n "$NS_B" neigh add 10.78.0.1 lladdr "$(ip -n "$NS_A" -br link show vx5 | awk '{print $3}')" dev vx5 nud permanent
in_b nft -f - <<NFT || { t_fail setup "nft"; exit 1; }
table inet ntun {
	chain in {
		type filter hook input priority 0;
		udp dport 7000 counter drop
	}
}
NFT
sleep 1 # the tenants' link-up chatter (MLD) passes before any window opens

# one round of traffic: per tenant a ping each way family, UDP both families
# (known counts), a short TCP transfer; the generators' count in $SENT.
# (In this shell, not a $(...): the listeners must not outlive the test.)
traffic() {
	local n c pids=()
	SENT=0
	for n in 1 2 3 4; do
		# nsenter itself, not a function in a subshell: $! is the listener
		nsenter --net=/run/netns/"$(tenant $n b)" ncat -l -u 10.77.0.2 6000 >/dev/null 2>&1 &
		pids+=($!)
		nsenter --net=/run/netns/"$(tenant $n b)" ncat -l -u fd10::2 6001 >/dev/null 2>&1 &
		pids+=($!)
	done
	t_cleanup_add "kill ${pids[*]}"
	sleep 0.3
	for n in 1 2 3 4; do
		in_t $n a ping -q -c $((3 + n)) -i 0.01 10.77.0.2 >/dev/null || return 1
		in_t $n a ping -q -c $((2 + n)) -i 0.01 fd10::2 >/dev/null || return 1
		c=$(in_t $n a "$UDPSEND" 10.77.0.2 6000 $((10 * n)) $((100 * n)) 41000)
		SENT=$((SENT + c))
		c=$(in_t $n a "$UDPSEND" fd10::2 6001 $((5 * n)) 300 41001)
		SENT=$((SENT + c))
		nsenter --net=/run/netns/"$(tenant $n b)" ncat -l 10.77.0.2 6002 >"$T_TMP/tcp$n.out" &
		local ncl=$!
		sleep 0.2
		head -c 20000 /dev/urandom >"$T_TMP/tcp$n.in"
		in_t $n a ncat --send-only 10.77.0.2 6002 <"$T_TMP/tcp$n.in"
		wait $ncl 2>/dev/null
		cmp -s "$T_TMP/tcp$n.in" "$T_TMP/tcp$n.out" || return 1
	done
	kill "${pids[@]}" 2>/dev/null
	wait "${pids[@]}" 2>/dev/null
	return 0
}

# one counting window: tcpdump on IF_B while `traffic` and then the command
# given (if any) run, stopped once it holds every frame the kernel counted
window() {
	local pcap=$1 rx0 tx0 rx1 tx1
	shift
	t_tcpdump_start "$NS_B" "$IF_B" "$pcap"
	rx0=$(t_ifstat "$NS_B" "$IF_B" rx_packets)
	tx0=$(t_ifstat "$NS_B" "$IF_B" tx_packets)
	traffic || { t_fail traffic "a tenant's traffic failed"; exit 1; }
	[ $# = 0 ] || "$@"
	sleep 0.3
	rx1=$(t_ifstat "$NS_B" "$IF_B" rx_packets)
	tx1=$(t_ifstat "$NS_B" "$IF_B" tx_packets)
	t_tcpdump_stop "$pcap" $((rx1 - rx0 + tx1 - tx0))
}
# datagrams the kernel drops after decapsulating them (nft, in NS_B)
send_drops() { dropsent=$(in_a "$UDPSEND" 10.78.0.2 7000 25 64 42000); }

# tshark's decode of a capture on IF_B, one line per VXLAN frame:
# "VNI proto inner_lo inner_hi dir len" (dir rx/tx by the outer source MAC)
decode() {
	local mac
	mac=$(ip -n "$NS_B" -br link show "$IF_B" | awk '{print $3}')
	tshark -r "$1" -d udp.port==8472,vxlan -Y vxlan -T fields -E occurrence=a -E separator='|' \
		-e eth.src -e eth.type -e vxlan.vni -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst \
		-e ip.proto -e ipv6.nxt -e frame.len 2>/dev/null |
		awk -F'|' -v m="$mac" '
		function last(s,  a, n) { n = split(s, a, ","); return a[n] }
		function first(s,  a) { split(s, a, ","); return a[1] }
		{
			dir = first($1) == m ? "tx" : "rx"
			et = last($2)
			if (et == "0x0800" || et == "0x00000800") { s = last($4); d = last($5); p = last($8) }
			else if (et == "0x86dd" || et == "0x000086dd") { s = last($6); d = last($7); p = last($9) }
			else next
			if (s > d) { t = s; s = d; d = t }
			print $3, p, s, d, dir, $10
		}'
}
# per inner flow: "VNI proto lo hi rx_p rx_b tx_p tx_b", sorted
witness_flows() {
	decode "$1" | awk '{ k = $1 " " $2 " " $3 " " $4
		if ($5 == "rx") { rp[k]++; rb[k] += $6 } else { tp[k]++; tb[k] += $6 }; keys[k] = 1 }
		END { for (k in keys) print k, rp[k]+0, rb[k]+0, tp[k]+0, tb[k]+0 }' | sort
}
nacct_inner_flows() {
	nacct_b flows "$IF_B" --json | jq -r 'select(.tunnel == "vxlan") |
		([.src, .dst] | sort) as $a |
		"\(.tunnel_id) \(.proto_num) \($a[0]) \($a[1]) \(.rx_packets) \(.rx_bytes) \(.tx_packets) \(.tx_bytes)"' |
		sort
}

# --- bad input: exit status 2, nothing attached -----------------------------
for bad in "--tunnel-ports vxlan=0" "--tunnel-ports foo=4789" "--tunnel-ports 4789" \
	"--tunnel-ports vxlan=1,2,3,4,5" "--tunnel-ports vxlan=6081,geneve=6081" "--decap maybe"; do
	out=$(nacct_b attach "$IF_B" $bad 2>&1)
	rc=$?
	left=$(ls -d /sys/fs/bpf/nacct/"$IF_B"* 2>/dev/null | wc -l)
	t_check "attach $bad: exit 2, nothing attached" "2 0" "$rc $left"
done

# --- 1: decapsulated ------------------------------------------------------
out=$(nacct_b attach "$IF_B" 2>&1) || { t_fail attach "$out"; exit 1; }
window "$T_TMP/d.pcap" send_drops
grep -q "^0 packets dropped by kernel" "$T_TMP/d.pcap.err" ||
	t_fail "tcpdump dropped packets" "$(cat "$T_TMP/d.pcap.err")"
t_check "the generators sent every datagram" 150 "$SENT"

witness_flows "$T_TMP/d.pcap" >"$T_TMP/w.txt"
nacct_inner_flows >"$T_TMP/n.txt"
nw=$(wc -l <"$T_TMP/w.txt")
[ "$nw" -ge 20 ] && t_ok "tshark decoded $nw inner flows in 4 VNIs" ||
	t_fail "tshark decoded too few inner flows" "$(cat "$T_TMP/w.txt")"
if diff -u "$T_TMP/w.txt" "$T_TMP/n.txt" >"$T_TMP/diff.txt"; then
	t_ok "every inner flow (VNI, protocol, addresses): packets and bytes per direction = tshark ($nw flows)"
else
	t_fail "inner flows differ from tshark's decode" "$(head -30 "$T_TMP/diff.txt")"
fi
# the two tenants with the same addresses stay apart, by VNI
n_same=$(awk '$2 == 1 && $3 == "10.77.0.1" && $4 == "10.77.0.2" { print $1 }' "$T_TMP/n.txt" | sort -u | tr '\n' ' ')
t_check "the same inner ping in four VNIs: four flows" "100 200 300 400 " "$n_same"
# the outer endpoints: IPv4 underlay for 100, 200, 400; IPv6 for 300
outer=$(nacct_b flows "$IF_B" --json | jq -r 'select(.tunnel == "vxlan") |
	"\(.tunnel_id) \([.outer_src, .outer_dst] | sort | join(","))"' | sort -u | tr '\n' ';')
t_check "outer endpoints per VNI" \
	"100 198.18.0.1,198.18.0.2;200 198.18.0.1,198.18.0.2;300 fd00:18::1,fd00:18::2;400 198.18.0.1,198.18.0.2;500 198.18.0.1,198.18.0.2;" \
	"$outer"
# drops of the inner flow, from the side programs: matched by the inner
# 5-tuple (the dropped skb knows no tunnel) in the attachment's namespace
nftc=$(in_b nft -j list table inet ntun | jq '[.nftables[] | .rule? // empty | .expr[] | .counter? // empty | .packets] | add')
fd=$(nacct_b flows "$IF_B" --json | jq -r 'select(.tunnel == "vxlan" and .tunnel_id == 500 and .dport == 7000) |
	"\(.packets) \(.drops) \(.drop_reasons | keys | join(","))"')
t_check "VNI 500 inner flow: packets = sent, drops = nft's counter (side programs, inner 5-tuple)" \
	"$dropsent $nftc NETFILTER_DROP" "$fd"
# outer_src goes with src: a flow from tenant side a (10.77.0.1) came from 198.18.0.1 / fd00:18::1
bad_dir=$(nacct_b flows "$IF_B" --json | jq -r 'select(.tunnel == "vxlan" and (.src == "10.77.0.1" or .src == "fd10::1")) |
	select(.outer_src != "198.18.0.1" and .outer_src != "fd00:18::1") | .src' | wc -l)
t_check "outer_src is the tunnel endpoint of src" 0 "$bad_dir"
# nacct tunnels: per VNI the sums of tshark's frames, and the flow count
tw=$(decode "$T_TMP/d.pcap" | awk '{ p[$1]++; b[$1] += $6 } END { for (v in p) print v, p[v], b[v] }' | sort | tr '\n' ';')
tn=$(nacct_b tunnels "$IF_B" --json | jq -r 'select(.tunnel == "vxlan") | "\(.tunnel_id) \(.packets) \(.bytes)"' | sort | tr '\n' ';')
t_check "nacct tunnels: packets and bytes per VNI = tshark" "$tw" "$tn"
tf=$(nacct_b tunnels "$IF_B" --json | jq -r '"\(.tunnel_id) \(.flows)"' | sort | tr '\n' ' ')
nf=$(nacct_b flows "$IF_B" --json | jq -r 'select(.tunnel == "vxlan") | .tunnel_id' | sort | uniq -c | awk '{print $2, $1}' | tr '\n' ' ')
t_check "nacct tunnels: inner flows per VNI" "$nf" "$tf"
nacct_b tunnels "$IF_B" | grep -q "^$IF_B *vxlan *100 " && t_ok "nacct tunnels table" ||
	t_fail "nacct tunnels table" "$(nacct_b tunnels "$IF_B")"
nacct_b flows "$IF_B" | grep -q "vxlan:300" && t_ok "flows table shows TUNNEL vxlan:300" ||
	t_fail "flows table TUNNEL column" "$(nacct_b flows "$IF_B" | head -5)"
st=$(nacct_b status "$IF_B" --json)
tp=$(jq -r '.totals.tunnel_packets' <<<"$st")
t_check "status: tunnel packets = tshark's VXLAN frames with IP inside" "$(decode "$T_TMP/d.pcap" | wc -l)" "$tp"
t_check "no malformed" 0 "$(jq -r '.totals.malformed_packets' <<<"$st")"
read -r sfp sfb <<<"$(nacct_b flows "$IF_B" --json | jq -rs '"\(map(.packets) | add) \(map(.bytes) | add)"')"
t_check "conservation: flows + overflow + malformed + non-IP = totals" \
	"$(jq -r '"\(.totals.packets) \(.totals.bytes)"' <<<"$st")" \
	"$(jq -r --argjson p "$sfp" --argjson b "$sfb" '"\($p + .totals.overflow_packets + .totals.malformed_packets + .totals.nonip_packets) \($b + .totals.overflow_bytes + .totals.malformed_bytes + .totals.nonip_bytes)"' <<<"$st")"
top=$(nacct_b top "$IF_B" --by tunnel -i 1 -n 1 --json | jq -r 'select(.type == "row") | .tunnel' | sort | tr '\n' ';')
case "$top" in
*"vxlan:100 198.18.0.1-198.18.0.2"*"vxlan:300 fd00:18::1-fd00:18::2"*) t_ok "top --by tunnel rows" ;;
*) t_fail "top --by tunnel rows" "$top" ;;
esac
nacct_b detach "$IF_B" >/dev/null

# --- 2: --tunnel-ports vxlan=4789: port 8472 is plain UDP now --------------
out=$(nacct_b attach "$IF_B" --tunnel-ports vxlan=4789 2>&1) || { t_fail "attach --tunnel-ports" "$out"; exit 1; }
t_check "status shows the VXLAN ports" "4789" "$(nacct_b status "$IF_B" --json | jq -r '.tunnel_ports.vxlan | join(",")')"
window "$T_TMP/p.pcap"
witness_flows "$T_TMP/p.pcap" | awk '$1 != 400' >"$T_TMP/w2.txt"
nacct_inner_flows >"$T_TMP/n2.txt"
diff -u "$T_TMP/w2.txt" "$T_TMP/n2.txt" >"$T_TMP/diff2.txt" &&
	t_ok "--tunnel-ports vxlan=4789: VNIs 100-300 decoded, = tshark" ||
	t_fail "--tunnel-ports: inner flows differ" "$(head -20 "$T_TMP/diff2.txt")"
w400=$(decode "$T_TMP/p.pcap" | awk '$1 == 400 { p++; b += $6 } END { print p+0, b+0 }')
n400=$(nacct_b flows "$IF_B" --json | jq -rs 'map(select(.proto == "udp" and (.sport == 8472 or .dport == 8472))) | "\(map(.packets) | add // 0) \(map(.bytes) | add // 0)"')
t_check "--tunnel-ports vxlan=4789: VNI 400 is the outer UDP 8472 flow, = tshark" "$w400" "$n400"
nacct_b detach "$IF_B" >/dev/null

# --- 3: --decap off: the outer flows only -----------------------------------
out=$(nacct_b attach "$IF_B" --decap off 2>&1) || { t_fail "attach --decap off" "$out"; exit 1; }
window "$T_TMP/o.pcap"
t_check "--decap off: no tunnelled flow" 0 "$(nacct_b flows "$IF_B" --json | jq -r 'select(.tunnel != null) | .src' | wc -l)"
wv=$(decode "$T_TMP/o.pcap" | awk '{ p++; b += $6 } END { print p+0, b+0 }')
nv=$(nacct_b flows "$IF_B" --json | jq -rs 'map(select(.proto == "udp" and ([.sport, .dport] | index(4789) or index(8472)))) | "\(map(.packets) | add // 0) \(map(.bytes) | add // 0)"')
t_check "--decap off: the outer UDP flows hold every VXLAN frame, = tshark" "$wv" "$nv"
t_check "--decap off: status says so" "false" "$(nacct_b status "$IF_B" --json | jq -r '.decap')"
exit $T_FAILED
