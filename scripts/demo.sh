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
for ns in "$A" "$B"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.router_solicitations=0 \
		net.ipv6.conf.default.router_solicitations=0
done
ip link add "$IF_A" netns "$A" type veth peer name "$IF_B" netns "$B"
ip -n "$A" addr add 198.18.0.1/24 dev "$IF_A"; ip -n "$A" addr add fd00:18::1/64 dev "$IF_A" nodad
ip -n "$B" addr add 198.18.0.2/24 dev "$IF_B"; ip -n "$B" addr add fd00:18::2/64 dev "$IF_B" nodad
for ns in "$A" "$B"; do ip -n "$ns" link set lo up; done
ip -n "$A" link set "$IF_A" up; ip -n "$B" link set "$IF_B" up
echo "demo: namespaces $A ($IF_A 198.18.0.1, fd00:18::1) <-> $B ($IF_B 198.18.0.2, fd00:18::2)"

step nacct attach "$IF_B" --subnets 198.18.0.0/25,198.18.0.128/25,fd00:18::/64
inb "$NACCT" attach "$IF_B" --subnets 198.18.0.0/25,198.18.0.128/25,fd00:18::/64 || exit 1
k0=$(ip netns exec "$B" cat /sys/class/net/$IF_B/statistics/rx_packets)

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
k1=$(ip netns exec "$B" cat /sys/class/net/$IF_B/statistics/rx_packets)

step nacct status "$IF_B"
inb "$NACCT" status "$IF_B"
step nacct flows "$IF_B" --top 8
inb "$NACCT" flows "$IF_B" --top 8
step nacct subnets "$IF_B"
inb "$NACCT" subnets "$IF_B"
step "nacct flows $IF_B --json --sort packets --top 2"
inb "$NACCT" flows "$IF_B" --json --sort packets --top 2

rx=$(inb "$NACCT" status "$IF_B" --json | sed -n 's/.*"rx_packets":\([0-9]*\).*/\1/p')
echo
echo "demo: kernel counted $((k1 - k0)) packets received on $IF_B since attach; nacct counted $rx"
[ "$rx" = $((k1 - k0)) ] && echo "demo: exact match" || echo "demo: MISMATCH (was other traffic running?)"
step nacct detach "$IF_B"
inb "$NACCT" detach "$IF_B"
