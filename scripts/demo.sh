#!/bin/bash
# nacct demo: its own pair of network namespaces joined by a veth pair,
# real traffic (ping over IPv4 and IPv6, a UDP burst over 20 flows, a TCP
# transfer), nacct attached to one end; then status, flows and subnets,
# checked against the kernel's own interface counters.  Removes
# everything it made on exit.  Never touches the host's interfaces.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
NACCT=$ROOT/nacct
UDPSEND=$ROOT/.output/udpsend
ID=$$
A=nacct-demo-a-$ID B=nacct-demo-b-$ID
IF_A=demo$ID-a IF_B=demo$ID-b
IF_A=${IF_A:0:15} IF_B=${IF_B:0:15}

[ "$(id -u)" = 0 ] || { echo "demo: run as root (it creates network namespaces)" >&2; exit 2; }
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

cleanup() {
	nsenter --net=/run/netns/$B "$NACCT" detach "$IF_B" >/dev/null 2>&1
	kill "${SRV:-}" 2>/dev/null
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
}
trap cleanup EXIT
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
inb() { nsenter --net=/run/netns/$B "$@"; }

ip netns add "$A" && ip netns add "$B" || exit 1
# no IPv6 chatter of our own in the counting window: no router
# solicitations, no DAD, and the MLD reports of link-up (and of the veth
# reset a native XDP attach causes) sent within milliseconds
for ns in "$A" "$B"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.router_solicitations=0 \
		net.ipv6.conf.default.router_solicitations=0 \
		net.ipv6.conf.default.mldv2_unsolicited_report_interval=1 \
		net.ipv6.conf.default.mldv1_unsolicited_report_interval=1 \
		net.ipv6.conf.default.dad_transmits=0
done
ip link add "$IF_A" netns "$A" type veth peer name "$IF_B" netns "$B"
ip -n "$A" addr add 198.18.0.1/24 dev "$IF_A"; ip -n "$A" addr add fd00:18::1/64 dev "$IF_A" nodad
ip -n "$B" addr add 198.18.0.2/24 dev "$IF_B"; ip -n "$B" addr add fd00:18::2/64 dev "$IF_B" nodad
for ns in "$A" "$B"; do ip -n "$ns" link set lo up; done
ip -n "$A" link set "$IF_A" up; ip -n "$B" link set "$IF_B" up
# static neighbours: no ARP/ND of our own either
MAC_A=$(ip -n "$A" -br link show "$IF_A" | awk '{print $3}')
MAC_B=$(ip -n "$B" -br link show "$IF_B" | awk '{print $3}')
ip -n "$A" neigh add 198.18.0.2 lladdr "$MAC_B" dev "$IF_A" nud permanent
ip -n "$A" neigh add fd00:18::2 lladdr "$MAC_B" dev "$IF_A" nud permanent
ip -n "$B" neigh add 198.18.0.1 lladdr "$MAC_A" dev "$IF_B" nud permanent
ip -n "$B" neigh add fd00:18::1 lladdr "$MAC_A" dev "$IF_B" nud permanent
echo "demo: namespaces $A ($IF_A 198.18.0.1, fd00:18::1) <-> $B ($IF_B 198.18.0.2, fd00:18::2)"

step nacct attach "$IF_B" --subnets 198.18.0.0/25,198.18.0.128/25,fd00:18::/64
inb "$NACCT" attach "$IF_B" --subnets 198.18.0.0/25,198.18.0.128/25,fd00:18::/64 || exit 1
# the counting window: the kernel's and nacct's receive counters read
# together, once the attach's own link chatter is over, and again after
# the traffic: both count the same packets
rx_kernel() { ip netns exec "$B" cat /sys/class/net/$IF_B/statistics/rx_packets; }
rx_nacct() { inb "$NACCT" status "$IF_B" --json | jq -r .totals.rx_packets; }
sleep 0.5
k0=$(rx_kernel) n0=$(rx_nacct)

echo; echo "demo: traffic: 10 pings (IPv4), 10 pings (IPv6), 2000 UDP datagrams over 20 flows to a"
echo "      port nobody listens on (the kernel drops them: NO_SOCKET), a 1 MB TCP transfer"
ip netns exec "$A" ping -q -c 10 -i 0.05 198.18.0.2 | tail -n 2
ip netns exec "$A" ping -q -c 10 -i 0.05 fd00:18::2 | tail -n 2
echo "udpsend: $(ip netns exec "$A" "$UDPSEND" 198.18.0.2 5001 2000 512 40000 20) datagrams sent"
ip netns exec "$B" ncat -l 198.18.0.2 5003 >/dev/null & SRV=$!
sleep 0.2
head -c 1000000 /dev/urandom | ip netns exec "$A" ncat --send-only 198.18.0.2 5003
wait $SRV 2>/dev/null
sleep 0.3
k1=$(rx_kernel) n1=$(rx_nacct)

step nacct status "$IF_B"
inb "$NACCT" status "$IF_B"
step nacct flows "$IF_B" --top 8
inb "$NACCT" flows "$IF_B" --top 8
step nacct subnets "$IF_B"
inb "$NACCT" subnets "$IF_B"
step "nacct flows $IF_B --json --sort packets --top 2"
inb "$NACCT" flows "$IF_B" --json --sort packets --top 2

echo
echo "demo: in the same window the kernel counted $((k1 - k0)) packets received on $IF_B; nacct counted $((n1 - n0))"
if [ $((n1 - n0)) = $((k1 - k0)) ]; then echo "demo: exact match"; else
	echo "demo: MISMATCH (was other traffic running?)"; st=1; fi
step nacct detach "$IF_B"
inb "$NACCT" detach "$IF_B"
exit "${st:-0}"
