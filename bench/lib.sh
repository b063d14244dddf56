#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Shared helpers of the benchmark scripts (bench/*.sh): a private netns
# pair joined by a 2-queue veth (A sends with bench_gen, B receives),
# counters, and min/median/max.  Never touches a host interface.
# Sourced; guarded against double inclusion.
[ -n "${BENCH_LIB_SH:-}" ] && return 0
BENCH_LIB_SH=1

B_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NACCT=${NACCT:-$B_ROOT/nacct}
GEN=$B_ROOT/.output/bench_gen
DROP_OBJ=$B_ROOT/.output/bench/drop.bpf.o
B_ID="nb$$$(printf '%04x' $((RANDOM)))"
NS_A="${B_ID}a"
NS_B="${B_ID}b"
IF_A="${B_ID}a0"
IF_B="${B_ID}b0"
B_TMP=$(mktemp -d /tmp/nacct-bench.XXXXXX)
_B_CLEANUP=()

b_log() { echo "# $*" >&2; }
b_cleanup_add() { _B_CLEANUP+=("$*"); }
_b_cleanup() {
	local i
	for ((i = ${#_B_CLEANUP[@]} - 1; i >= 0; i--)); do eval "${_B_CLEANUP[i]}" >/dev/null 2>&1 || true; done
	in_b "$NACCT" detach "$IF_B" >/dev/null 2>&1 || true
	ip netns del "$NS_A" 2>/dev/null || true
	ip netns del "$NS_B" 2>/dev/null || true
	rm -rf "$B_TMP"
}
trap _b_cleanup EXIT
trap 'exit 130' INT TERM

in_a() { nsenter --net=/run/netns/"$NS_A" "$@"; }
in_b() { nsenter --net=/run/netns/"$NS_B" "$@"; }

b_need_root() {
	if [ "$(id -u)" != 0 ]; then echo "bench: needs root" >&2; exit 2; fi
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
	[ -x "$GEN" ] || { echo "bench: $GEN missing (make bench-build)" >&2; exit 2; }
}

# A (198.18.0.1, fd00:18::1) <-> B (198.18.0.2, fd00:18::2), 2 queues each;
# GRO on so that veth runs NAPI (and accepts XDP frames) without a program
b_setup_pair() {
	ip netns add "$NS_A" && ip netns add "$NS_B" || return 1
	ip link add "$IF_A" numtxqueues 2 numrxqueues 2 netns "$NS_A" type veth \
		peer name "$IF_B" numtxqueues 2 numrxqueues 2 netns "$NS_B" || return 1
	ip -n "$NS_A" addr add 198.18.0.1/24 dev "$IF_A"
	ip -n "$NS_B" addr add 198.18.0.2/24 dev "$IF_B"
	ip -n "$NS_A" addr add fd00:18::1/64 dev "$IF_A" nodad
	ip -n "$NS_B" addr add fd00:18::2/64 dev "$IF_B" nodad
	for ns in "$NS_A" "$NS_B"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.router_solicitations=0 \
			net.ipv6.conf.default.router_solicitations=0 2>/dev/null
		ip -n "$ns" link set lo up
	done
	ip -n "$NS_A" link set "$IF_A" up
	ip -n "$NS_B" link set "$IF_B" up
	in_a ethtool -K "$IF_A" gro on >/dev/null 2>&1
	in_b ethtool -K "$IF_B" gro on >/dev/null 2>&1
	MAC_A=$(ip -n "$NS_A" -br link show "$IF_A" | awk '{print $3}')
	MAC_B=$(ip -n "$NS_B" -br link show "$IF_B" | awk '{print $3}')
	ip -n "$NS_A" neigh add 198.18.0.2 lladdr "$MAC_B" dev "$IF_A" nud permanent
	ip -n "$NS_B" neigh add 198.18.0.1 lladdr "$MAC_A" dev "$IF_B" nud permanent
}

# bench_gen in A towards B; prints "SENT SECS".  GEN_DST_MAC overrides the
# destination MAC (another host's: B sees mirror-port traffic, dropped
# early by its IP layer)
b_gen() {
	in_a "$GEN" -i "$IF_A" --dst-mac "${GEN_DST_MAC:-$MAC_B}" "$@" | awk -F'[ =]' '/^gen_sent=/ {print $2, $4}'
}

# kernel counters of B's veth
b_rx_packets() { ip netns exec "$NS_B" cat "/sys/class/net/$IF_B/statistics/rx_packets"; }
b_xdp_drops() { in_b ethtool -S "$IF_B" | awk '/rx_queue_[0-9]+_xdp_drops:/ {s += $2} END {print s + 0}'; }
b_xmit_err() { in_a ethtool -S "$IF_A" | awk '/xdp_xmit_err:/ {s += $2} END {print s + 0}'; }
b_nacct_rx() { in_b "$NACCT" status "$IF_B" --json 2>/dev/null | jq -r '.totals.rx_packets // 0'; }
b_pin_dir() { ls -d /sys/fs/bpf/nacct/"$IF_B":ns* 2>/dev/null | head -1; }

# write nacct_cfg of B's attachment: b_nacct_cfg SAMPLE_N SNAPLEN TAP
b_nacct_cfg() {
	local le
	le() { printf '%02x %02x %02x %02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
	# shellcheck disable=SC2046
	bpftool map update pinned "$(b_pin_dir)/nacct_cfg" key hex 00 00 00 00 \
		value hex $(le "$1") $(le "$2") $(le "$3") 00 00 00 00
}

# a pid and all its descendants (nsenter forks: the tool is its child)
b_tree() {
	local c
	echo "$1"
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do b_tree "$c"; done
}
# cpu ticks (utime + stime) of a pid and its descendants
b_ticks() {
	local p s=0 t
	for p in $(b_tree "$1"); do
		t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null) && s=$((s + t))
	done
	echo "$s"
}
# stop a pid and its descendants: b_stop PID [SIGNAL] (deepest first;
# default TERM; KILL after 10 s)
b_stop() {
	local p
	for p in $(b_tree "$1" | tac); do kill -"${2:-TERM}" "$p" 2>/dev/null; done
	for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	for p in $(b_tree "$1"); do kill -KILL "$p" 2>/dev/null; done
	wait "$1" 2>/dev/null
}
B_HZ=$(getconf CLK_TCK)

# min / median / max of the numbers on stdin, "%.Nf"
b_mmm() {
	sort -g | awk -v f="${1:-%.2f}" '{v[NR] = $1} END {
		if (!NR) { print "-"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf f " / " f " / " f "\n", v[1], m, v[NR] }'
}

# the parts' common arguments: b_args "$@" sets QUICK (0/1, --quick) and
# OUT (--out FILE, else stdout); anything else is a usage error (exit 2)
b_args() {
	QUICK=0
	OUT=/dev/stdout
	while [ $# -gt 0 ]; do
		case "$1" in
		--quick) QUICK=1 ;;
		--out) OUT=$2; shift ;;
		*) echo "usage: $0 [--quick] [--out FILE]" >&2; exit 2 ;;
		esac
		shift
	done
}
