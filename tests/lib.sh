#!/bin/bash
# Shared helpers for nacct's integration tests.
#
# Every test builds its own uniquely named network namespaces and veth
# pair (never the host's interfaces) and removes them on exit.  Output is
# TAP-like and read by tests/run.sh:
#   ok NAME            a passed check
#   not ok NAME        a failed check (with "# ..." lines explaining)
#   skip NAME REASON   a check that cannot run here
# BPF tools run through nsenter --net (ip netns exec remounts /sys, which
# hides bpffs).

set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NACCT=${NACCT:-$ROOT/nacct}
T_ID="nt$$$(printf '%04x' $((RANDOM)))"
NS_A="${T_ID}a"
NS_B="${T_ID}b"
T_FAILED=0
T_TMP=$(mktemp -d /tmp/nacct-test.XXXXXX)
_T_CLEANUP=()

t_ok() { echo "ok $*"; }
t_fail() { echo "not ok $1"; shift; for l in "$@"; do echo "# $l"; done; T_FAILED=1; }
t_skip() { echo "skip $*"; }
# the name nacct gives drop reason $1: "none" where skb:kfree_skb has no
# reason (kernels < 5.17: no enum skb_drop_reason in the kernel's BTF)
t_reason() { if grep -qa skb_drop_reason /sys/kernel/btf/vmlinux 2>/dev/null; then echo "$1"; else echo none; fi; }
t_log() { echo "# $*"; }

# t_check NAME EXPECTED ACTUAL
t_check() {
	if [ "$2" = "$3" ]; then t_ok "$1 ($3)"; else t_fail "$1" "expected: $2" "actual:   $3"; fi
}

t_cleanup_add() { _T_CLEANUP+=("$*"); }

_t_cleanup() {
	local i
	for ((i = ${#_T_CLEANUP[@]} - 1; i >= 0; i--)); do eval "${_T_CLEANUP[i]}" >/dev/null 2>&1 || true; done
	ip netns del "$NS_A" 2>/dev/null || true
	ip netns del "$NS_B" 2>/dev/null || true
	if [ -n "${NACCT_KEEP_TMP:-}" ]; then echo "# kept $T_TMP"; else rm -rf "$T_TMP"; fi
}
trap _t_cleanup EXIT

t_need_root() {
	if [ "$(id -u)" != 0 ]; then t_skip "$(basename "$0")" "needs root"; exit 0; fi
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
}

# run a command in namespace A or B (nsenter keeps bpffs visible)
in_a() { nsenter --net=/run/netns/"$NS_A" "$@"; }
in_b() { nsenter --net=/run/netns/"$NS_B" "$@"; }
# t_drop_udp a|b PORT...: that namespace drops UDP to PORTs at its input
# hook, after nacct counted them, silently (no ICMP port unreachables
# adding packets the test did not send)
t_drop_udp() {
	local ns=$1
	shift
	in_"$ns" nft -f - <<-NFT
	table inet ntest {
		chain in {
			type filter hook input priority 0;
			udp dport { $(echo "$@" | sed 's/ /, /g') } drop
		}
	}
	NFT
}

# NACCT_TEST_PROBES=auto|tracepoint|kprobe: how every attach and events of
# the tests loads the side programs (--probes); the VM suite's
# side-events-kprobe row runs the events tests with the kprobe twins so.
# T_PROBES is the option for commands started directly (backgrounded
# readers, whose $! must be nacct itself); nacct_a/nacct_b add it
# themselves.  Unset: no option, nacct's default (auto).
T_PROBES=()
[ -n "${NACCT_TEST_PROBES:-}" ] && T_PROBES=(--probes "$NACCT_TEST_PROBES")
# T_ARGS=("$@") with T_PROBES after the command word when it is attach or events
t_probes_args() {
	local a added=0
	T_ARGS=()
	for a in "$@"; do
		T_ARGS+=("$a")
		if [ $added = 0 ] && { [ "$a" = attach ] || [ "$a" = events ]; }; then
			T_ARGS+=("${T_PROBES[@]}")
			added=1
		fi
		[ "${a#-}" = "$a" ] && added=1 # only the first word that is not an option
	done
}

# after an attach, let the IPv6 MLD reports that the veth's reset for
# native XDP triggers go out before the caller opens a counting window
nacct_b() {
	local rc
	t_probes_args "$@"
	in_b "$NACCT" "${T_ARGS[@]}"
	rc=$?
	[ "${1:-}" = attach ] && [ "$rc" = 0 ] && sleep 0.3
	return $rc
}
nacct_a() {
	local rc
	t_probes_args "$@"
	in_a "$NACCT" "${T_ARGS[@]}"
	rc=$?
	[ "${1:-}" = attach ] && [ "$rc" = 0 ] && sleep 0.3
	return $rc
}

# two namespaces joined by one veth pair: A (198.18.0.1, fd00:18::1, iface
# ${T_ID}a0) <-> B (198.18.0.2, fd00:18::2, iface ${T_ID}b0)
IF_A="${T_ID}a0"
IF_B="${T_ID}b0"
t_setup_pair() {
	ip netns add "$NS_A" && ip netns add "$NS_B" || return 1
	# IPv6 link-local chatter (router solicitations) would race the
	# counters: off by default in the new namespaces, before the veth exists
	# and MLD listener reports, repeated for up to a second after link-up
	# and held back until the link-local address has passed DAD (another
	# second), are all sent within a few milliseconds instead
	for ns in "$NS_A" "$NS_B"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.router_solicitations=0 \
			net.ipv6.conf.default.router_solicitations=0 \
			net.ipv6.conf.default.mldv2_unsolicited_report_interval=1 \
			net.ipv6.conf.default.mldv1_unsolicited_report_interval=1 \
			net.ipv6.conf.default.dad_transmits=0 2>/dev/null
	done
	# T_VETH_QUEUES=N: N RX and N TX queues on both ends (default: the kernel's)
	local q=()
	[ -n "${T_VETH_QUEUES:-}" ] && q=(numrxqueues "$T_VETH_QUEUES" numtxqueues "$T_VETH_QUEUES")
	ip link add "$IF_A" netns "$NS_A" "${q[@]}" type veth peer name "$IF_B" netns "$NS_B" \
		"${q[@]}" || return 1
	ip -n "$NS_A" addr add 198.18.0.1/24 dev "$IF_A"
	ip -n "$NS_B" addr add 198.18.0.2/24 dev "$IF_B"
	ip -n "$NS_A" addr add fd00:18::1/64 dev "$IF_A" nodad
	ip -n "$NS_B" addr add fd00:18::2/64 dev "$IF_B" nodad
	ip -n "$NS_A" link set lo up
	ip -n "$NS_B" link set lo up
	ip -n "$NS_A" link set "$IF_A" up
	ip -n "$NS_B" link set "$IF_B" up
	# static neighbours: no ARP/ND noise unless a test wants it
	local mac_a mac_b
	mac_a=$(ip -n "$NS_A" -br link show "$IF_A" | awk '{print $3}')
	mac_b=$(ip -n "$NS_B" -br link show "$IF_B" | awk '{print $3}')
	ip -n "$NS_A" neigh add 198.18.0.2 lladdr "$mac_b" dev "$IF_A" nud permanent
	ip -n "$NS_B" neigh add 198.18.0.1 lladdr "$mac_a" dev "$IF_B" nud permanent
	ip -n "$NS_A" neigh add fd00:18::2 lladdr "$mac_b" dev "$IF_A" nud permanent
	ip -n "$NS_B" neigh add fd00:18::1 lladdr "$mac_a" dev "$IF_B" nud permanent
	ip netns exec "$NS_A" sysctl -qw "net.ipv6.conf.$IF_A.router_solicitations=0" 2>/dev/null
	ip netns exec "$NS_B" sysctl -qw "net.ipv6.conf.$IF_B.router_solicitations=0" 2>/dev/null
	t_cleanup_add "in_b $NACCT detach $IF_B"
	t_cleanup_add "in_a $NACCT detach $IF_A"
	# let the link-up MLD reports (1 ms interval, above) go out before any
	# test opens a counting window
	sleep 0.3
}

# t_add_link NS_X IF_X ADDR_X NS_Y IF_Y ADDR_Y: one more veth pair between
# two namespaces of the test (IPv4 /24 addresses, static neighbours, no
# router solicitations), removed with the namespaces
t_add_link() {
	local nx=$1 ix=$2 ax=$3 ny=$4 iy=$5 ay=$6
	ip link add "$ix" netns "$nx" type veth peer name "$iy" netns "$ny" || return 1
	ip -n "$nx" addr add "$ax/24" dev "$ix"
	ip -n "$ny" addr add "$ay/24" dev "$iy"
	ip netns exec "$nx" sysctl -qw "net.ipv6.conf.$ix.router_solicitations=0" 2>/dev/null
	ip netns exec "$ny" sysctl -qw "net.ipv6.conf.$iy.router_solicitations=0" 2>/dev/null
	ip -n "$nx" link set "$ix" up
	ip -n "$ny" link set "$iy" up
	ip -n "$nx" neigh add "$ay" lladdr "$(ip -n "$ny" -br link show "$iy" | awk '{print $3}')" \
		dev "$ix" nud permanent
	ip -n "$ny" neigh add "$ax" lladdr "$(ip -n "$nx" -br link show "$ix" | awk '{print $3}')" \
		dev "$iy" nud permanent
}

# t_events_start NS ARGS...: `nacct events ARGS` in namespace NS, output
# in $T_TMP/ev (stderr $T_TMP/ev.err), its pid in EV (started here, not
# through a function in a subshell, so that $EV is nacct itself), killed at
# cleanup; returns once the reader holds its slot (its ring and mask are in
# place): no fixed sleep
t_events_start() {
	local ns=$1
	shift
	nsenter --net=/run/netns/"$ns" "$NACCT" events "${T_PROBES[@]}" "$@" >"$T_TMP/ev" 2>"$T_TMP/ev.err" &
	EV=$!
	t_cleanup_add "kill $EV"
	for _ in $(seq 200); do
		bpftool map dump pinned /sys/fs/bpf/nacct/:probes/nacct_ev_readers -j 2>/dev/null |
			jq -e --argjson p "$EV" 'any(.[]; .formatted.value.pid == $p and .formatted.value.mask != 0)' \
				>/dev/null && return 0
		sleep 0.1
	done
	return 0
}

# interface counters from the kernel: t_ifstat NS IFACE rx_packets
# t_add_pod PARENT BRIDGE POD VETH ADDR/PLEN: a "pod", namespace POD (IPv6
# off) whose eth0 is the peer of VETH, a port of BRIDGE in namespace PARENT
t_add_pod() {
	local parent=$1 br=$2 pod=$3 v=$4 addr=$5
	ip netns add "$pod" || return 1
	nsenter --net=/run/netns/"$pod" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	ip -n "$parent" link add "$v" type veth peer name eth0 netns "$pod" || return 1
	ip -n "$parent" link set "$v" master "$br" up || return 1
	ip -n "$pod" addr add "$addr" dev eth0 && ip -n "$pod" link set eth0 up
}

# t_hooks_left NS IFACE...: how many XDP programs and BPF TC egress filters
# are on them (after a detach: 0)
t_hooks_left() {
	local ns=$1 d left=0
	shift
	for d in "$@"; do
		ip -n "$ns" link show "$d" | grep -q xdp && left=$((left + 1))
		nsenter --net=/run/netns/"$ns" tc filter show dev "$d" egress 2>/dev/null |
			grep -q bpf && left=$((left + 1))
	done
	echo "$left"
}

t_ifstat() { ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3"; }

# JSON helpers
t_status_json() { in_"$1" "$NACCT" status "$2" --json; }
t_jq() { jq -r "$@"; }

# wait until a file stops growing or N seconds pass
t_settle() { sleep "${1:-0.3}"; }

# tcpdump as a witness.  t_tcpdump_start NS IFACE FILE [COUNT]: capture
# until COUNT packets (when the expected number is known from an
# independent source, e.g. kernel counters) so that no packet still in the
# socket ring is lost at shutdown; returns once tcpdump is listening.
# t_tcpdump_stop [FILE EXPECTED [FILTER]]: wait (up to 15 s) for a
# COUNT-limited tcpdump to finish — or, given FILE and EXPECTED, until FILE
# holds EXPECTED packets (matching FILTER) — then interrupt it.
t_tcpdump_start() {
	local ns=$1 ifc=$2 file=$3 count=${4:-}
	# small snaplen and a big buffer: in immediate mode libpcap sizes its
	# ring slots by snaplen, and the default 256 KiB leaves only 8 slots
	ip netns exec "$ns" tcpdump -i "$ifc" -w "$file" -U --immediate-mode -n -s "${T_SNAPLEN:-4096}" -B 16384 \
		${count:+-c "$count"} 2>"$file.err" &
	T_TCPDUMP=$!
	t_cleanup_add "kill $T_TCPDUMP"
	for _ in $(seq 100); do grep -q listening "$file.err" && return 0; sleep 0.1; done
	return 1
}
t_tcpdump_stop() {
	local i file=${1:-} want=${2:-} filter=${3:-}
	for i in $(seq 150); do
		kill -0 "$T_TCPDUMP" 2>/dev/null || break
		if [ -n "$want" ] && [ "$(tcpdump -r "$file" -n $filter 2>/dev/null | wc -l)" -ge "$want" ]; then
			break
		fi
		sleep 0.1
	done
	kill -INT "$T_TCPDUMP" 2>/dev/null
	wait "$T_TCPDUMP" 2>/dev/null
	return 0
}

# nacct capture in namespace B, for the capture tests.
# cap_start NAME ARGS...: start `nacct capture ARGS...` (stderr in
# $T_TMP/NAME.err = $CAP_ERR, pid $CAP_PID); returns once it samples.
cap_start() {
	local name=$1 i
	shift
	CAP_ERR=$T_TMP/$name.err
	nsenter --net=/run/netns/"$NS_B" "$NACCT" capture "$@" 2>"$CAP_ERR" &
	CAP_PID=$!
	t_cleanup_add "kill -INT $CAP_PID"
	for ((i = 0; i < 600; i++)); do
		grep -qs ': capturing' "$CAP_ERR" && return 0
		kill -0 "$CAP_PID" 2>/dev/null || break
		sleep 0.1
	done
	t_fail "$name: capture did not start" "$(cat "$CAP_ERR")"
	return 1
}
# cap_stop: SIGINT, wait; sets CAP_RC
cap_stop() {
	sleep 0.3
	kill -INT "$CAP_PID" 2>/dev/null
	wait "$CAP_PID"
	CAP_RC=$?
}

# tcpdump's view of one interface, split by direction: t_pcap_dirs PCAP NS
# IFACE prints "rx_packets rx_bytes tx_packets tx_bytes" (frame lengths;
# a frame is sent when its source MAC is the interface's own)
t_pcap_dirs() {
	local mac
	mac=$(ip -n "$2" -br link show "$3" | awk '{print $3}')
	tshark -r "$1" -T fields -e eth.src -e frame.len 2>/dev/null |
		awk -v m="$mac" '{ if ($1 == m) { tp++; tb += $2 } else { rp++; rb += $2 } }
			END { print rp+0, rb+0, tp+0, tb+0 }'
}
