#!/bin/bash
# A shared domain's host view (attach --all --dedup; issue 19): two pods,
# each a namespace whose veth ends on a bridge in namespace B (vA, vB);
# all of B's interfaces in one domain with --dedup.  Pod A -> pod B crosses
# vA (RX) and vB (TX): each interface's view counts every packet on that
# interface, the host view (flows --host) counts it once, first seen on
# vA, crossed vA and vB.  IPv6 off, static neighbours (no ARP), pod B drops
# the UDP silently.  Witnesses: the generator's count, ping's count of
# requests and replies.  Prints the false-merge and missed-merge rates:
# packets the host view has fewer (two packets taken for one) or more (one
# packet counted twice) than were sent.
source "$(dirname "$0")/../lib.sh"
t_need_root
UDPSEND=$ROOT/.output/udpsend
[ -x "$UDPSEND" ] || { t_skip attach_dedup "build .output/udpsend"; exit 0; }
ip netns add "$NS_B" || { t_fail setup "netns"; exit 1; }
PA=${T_ID}pa PB=${T_ID}pb BR=${T_ID}br VA=${T_ID}va VB=${T_ID}vb
t_cleanup_add "in_b $NACCT detach --all"
t_cleanup_add "ip netns del $PA"
t_cleanup_add "ip netns del $PB"
in_b sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip -n "$NS_B" link add "$BR" type bridge || { t_fail setup "bridge"; exit 1; }
ip -n "$NS_B" link set "$BR" up
n=2
for p in "$PA:$VA" "$PB:$VB"; do
	t_add_pod "$NS_B" "$BR" "${p%%:*}" "${p#*:}" "198.18.120.$n/24" || { t_fail setup "pod $p"; exit 1; }
	n=$((n + 1))
done
MA=$(ip -n "$PA" -j link show eth0 | jq -r '.[0].address')
MB=$(ip -n "$PB" -j link show eth0 | jq -r '.[0].address')
ip -n "$PA" neigh replace 198.18.120.3 lladdr "$MB" dev eth0 nud permanent
ip -n "$PB" neigh replace 198.18.120.2 lladdr "$MA" dev eth0 nud permanent
nsenter --net=/run/netns/"$PB" nft -f - <<-NFT || { t_fail setup "nft"; exit 1; }
table inet nacct_t { chain in { type filter hook input priority 0; policy accept; udp dport 9000 drop; }; }
NFT
t_settle 1

out=$(in_b "$NACCT" attach --all --dedup --mode generic 2>&1)
echo "$out" | grep -v "^probes" | sed "s/^/    # /" | head -20
t_check "attach --all --dedup: exit 0" 0 "$?"
t_check "... vA, vB and the bridge in the domain" 3 "$(grep -c ': attached' <<<"$out")"
out=$(in_b "$NACCT" attach --dedup "$BR" 2>&1)
t_check "--dedup without --domain or --all: exit 2" 2 "$?"

# a burst each way: UDP A -> B, pings A -> B (requests one way, replies back)
N=300 P=50
sent=$(nsenter --net=/run/netns/"$PA" "$UDPSEND" 198.18.120.3 9000 $N 200 41000 1)
t_check "pod A sent $N datagrams" $N "$sent"
nsenter --net=/run/netns/"$PA" ping -q -c $P -i 0.01 -W 1 198.18.120.3 >"$T_TMP/ping" 2>&1
rcv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T_TMP/ping")
t_check "ping: $P requests, $P replies" $P "$rcv"
t_settle 1

fl=$(in_b "$NACCT" flows --json)
host=$(in_b "$NACCT" flows --host --json)
udp() { jq -s -r --arg d "$1" "map(select(.ifname == \$d and .dport == 9000 and .sport == 41000) | .$2) | add // 0"; }
icmp() { jq -s -r --arg d "$1" 'map(select(.ifname == $d and .proto == "icmp") | .packets) | add // 0'; }
t_check "vA's view: the datagrams, received" $N "$(udp "$VA" rx_packets <<<"$fl")"
t_check "vB's view: the same datagrams, sent on" $N "$(udp "$VB" tx_packets <<<"$fl")"
t_check "vA's and vB's views: the pings, both ways, each" "$((2 * P)) $((2 * P))" \
	"$(icmp "$VA" <<<"$fl") $(icmp "$VB" <<<"$fl")"
hu=$(jq -s -r 'map(select(.dport == 9000 and .sport == 41000) | .packets) | add // 0' <<<"$host")
hi=$(jq -s -r 'map(select(.proto == "icmp") | .packets) | add // 0' <<<"$host")
t_check "host view: each datagram once" $N "$hu"
t_check "host view: each ping once" $((2 * P)) "$hi"
t_check "host view: the datagrams' flow first seen on vA, crossed vA and vB" "$VA $VA,$VB" \
	"$(jq -s -r 'map(select(.dport == 9000 and .sport == 41000)) | .[0] | "\(.ifname) \(.ifaces)"' <<<"$host")"
t_check "host view: one UDP flow and one ICMP flow (no copy per interface)" "1 1" \
	"$(jq -s -r '"\(map(select(.dport == 9000)) | length) \(map(select(.proto == "icmp")) | length)"' <<<"$host")"
tot=$((N + 2 * P))
got=$((hu + hi))
t_log "dedup on veth -> bridge -> veth: $tot packets sent, host view $got:" \
	"missed merges $((got > tot ? got - tot : 0)) ($(awk -v a=$((got > tot ? got - tot : 0)) -v b=$tot 'BEGIN { printf "%.4f", a / b }')), " \
	"false merges $((tot > got ? tot - got : 0)) ($(awk -v a=$((tot > got ? tot - got : 0)) -v b=$tot 'BEGIN { printf "%.4f", a / b }'))"
out=$(in_b "$NACCT" flows --host "$BR" --json 2>&1)
t_check "flows --host on a member: the same view" "$N" \
	"$(jq -s -r 'map(select(.dport == 9000 and .sport == 41000) | .packets) | add // 0' <<<"$out")"
out=$(in_b "$NACCT" detach --all 2>&1)
t_check "detach --all: nothing of the namespace left" 0 \
	"$(ls -d /sys/fs/bpf/nacct/*:ns"$(stat -L -c %i /run/netns/"$NS_B")" 2>/dev/null | wc -l)"
exit 0
