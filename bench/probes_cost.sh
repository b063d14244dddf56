#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The cost of each side program (probes/) per event, measured by the
# kernel itself: kernel.bpf_stats_enabled=1 makes every BPF program keep
# run_time_ns and run_cnt (bpftool prog show); the figure is
# delta(run_time_ns) / delta(run_cnt) over a warm run with many events.
# Workload, in its own netns + veth pair with nacct attached to one end:
# UDP datagrams to a closed port (kfree_skb NO_SOCKET drops), short TCP
# connections (state changes, RTT updates), SYNs to a closed port
# (resets), and a transfer through an nft rule that drops 1 packet in 10
# (NETFILTER_DROP drops, retransmits).  Two passes: no reader (aggregation
# only), then with `nacct events` reading every kind (events copied to
# its ring buffer).  Side programs see every netns: other traffic on the
# host is counted too (it is the same per-event cost).  Prints figures;
# never fails on speed.
# Usage: bench/probes_cost.sh [--quick]
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
NACCT=$ROOT/nacct
XFER=$ROOT/.output/tcpxfer
UDPSEND=$ROOT/.output/udpsend
N=${N:-20000}
CONNS=${CONNS:-300}
[ "${1:-}" = --quick ] && { N=5000; CONNS=100; }
[ "$(id -u)" = 0 ] || { echo "probes_cost: run as root" >&2; exit 2; }
for t in "$XFER" "$UDPSEND"; do
	[ -x "$t" ] || { echo "probes_cost: $t not built (make $t)" >&2; exit 2; }
done
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

ID=pc$$
A=${ID}a B=${ID}b IF_A=${ID}a0 IF_B=${ID}b0
OLD_STATS=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
	[ -n "${EV:-}" ] && kill "$EV" 2>/dev/null
	nsenter --net=/run/netns/"$B" "$NACCT" detach "$IF_B" >/dev/null 2>&1
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	sysctl -qw kernel.bpf_stats_enabled="$OLD_STATS"
}
trap cleanup EXIT
ina() { nsenter --net=/run/netns/"$A" "$@"; }
inb() { nsenter --net=/run/netns/"$B" "$@"; }

ip netns add "$A" && ip netns add "$B" || exit 1
ip link add "$IF_A" netns "$A" type veth peer name "$IF_B" netns "$B" || exit 1
ip -n "$A" addr add 198.18.0.1/24 dev "$IF_A"
ip -n "$B" addr add 198.18.0.2/24 dev "$IF_B"
for ns in "$A" "$B"; do ip -n "$ns" link set lo up; done
ip -n "$A" link set "$IF_A" up
ip -n "$B" link set "$IF_B" up
inb "$NACCT" attach "$IF_B" >/dev/null || exit 1
inb nft add table inet pc
inb nft add chain inet pc in '{ type filter hook input priority 0; }'
inb nft add rule inet pc in tcp dport 7001 numgen random mod 10 == 0 drop
sysctl -qw kernel.bpf_stats_enabled=1

PROGS="nacct_drop nacct_retrans nacct_state nacct_rtt nacct_rst_rx nacct_rst_tx"
# name run_time_ns run_cnt, summed over programs of that name
snap() {
	bpftool prog show -j | jq -r --arg names "$PROGS" '
		($names | split(" ")) as $n | map(select(.name as $x | $n | index($x))) |
		group_by(.name)[] | "\(.[0].name) \(map(.run_time_ns // 0) | add) \(map(.run_cnt // 0) | add)"'
}

TMP=$(mktemp -d /tmp/probes_cost.XXXXXX)
trap 'cleanup; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM
# one tcpxfer connection of BYTES to PORT: the server is listening first
xfer() { # PORT BYTES
	local i
	: >"$TMP/srv"
	inb "$XFER" server 198.18.0.2 "$1" >"$TMP/srv" &
	local srv=$!
	for ((i = 0; i < 100; i++)); do grep -q ready "$TMP/srv" && break; sleep 0.01; done
	ina "$XFER" client 198.18.0.2 "$1" "$2" >/dev/null
	wait "$srv" # not a bare wait: the events reader runs in the background too
}

workload() {
	local i
	# drops: datagrams to a closed port (NO_SOCKET)
	ina "$UDPSEND" 198.18.0.2 9 "$N" 16 >/dev/null
	# states + RTT: short connections
	for ((i = 0; i < CONNS; i++)); do xfer 7000 20000; done
	# resets: SYNs to a closed port
	for ((i = 0; i < CONNS; i++)); do ina "$XFER" client 198.18.0.2 9 1 >/dev/null 2>&1; done
	# retransmits + NETFILTER_DROP: a transfer through 10% loss
	xfer 7001 $((N * 200))
}

declare -A T0 C0
measure() { # TITLE
	local name t c
	while read -r name t c; do T0[$name]=$t; C0[$name]=$c; done < <(snap)
	workload
	printf '\n%s\n' "$1"
	printf '%-14s %-22s %10s %10s\n' PROGRAM TRACEPOINT EVENTS NS/EVENT
	while read -r name t c; do
		local dc=$((c - ${C0[$name]:-0})) dt=$((t - ${T0[$name]:-0})) tp
		case $name in
		nacct_drop) tp=skb:kfree_skb ;;
		nacct_retrans) tp=tcp:tcp_retransmit_skb ;;
		nacct_state) tp=sock:inet_sock_set_state ;;
		nacct_rtt) tp=tcp:tcp_probe ;;
		nacct_rst_rx) tp=tcp:tcp_receive_reset ;;
		nacct_rst_tx) tp=tcp:tcp_send_reset ;;
		*) tp=? ;;
		esac
		if [ "$dc" -gt 0 ]; then
			printf '%-14s %-22s %10d %10.0f\n' "$name" "$tp" "$dc" "$(echo "$dt / $dc" | bc -l)"
		else
			printf '%-14s %-22s %10d %10s\n' "$name" "$tp" 0 -
		fi
	done < <(snap)
}

echo "probes_cost: warm-up" >&2
workload
measure "no reader (aggregation into the flow side records only)"
nsenter --net=/run/netns/"$B" "$NACCT" events --json >/dev/null 2>&1 & # $! is nacct itself
EV=$!
sleep 1
measure "with \`nacct events\` reading every kind (events to its ring buffer)"
kill "$EV"
wait "$EV" 2>/dev/null
EV=
echo
echo "(kernel $(uname -r), $(nproc) CPUs; N=$N datagrams, $CONNS connections; bpf_stats adds ~20 ns of its own per run)"
