#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# --probes auto|tracepoint|kprobe on attach and events.  Checked:
#   - bad values and contradictions exit 2 with a message, attach nothing;
#   - --probes tracepoint: status (text and --json) says the mode and that
#     every event is on its tracepoint; the drops it records = the kernel's
#     UdpNoPorts (nstat) and the sender's count; a second attach with the
#     same mode reuses the set (-v says so);
#   - --probes kprobe where the kernel offers no kprobes (this host): exit
#     2 naming kprobes, nothing attached, the loaded set unchanged; where it
#     does (the VM guests): a set loaded otherwise is refused by name (it is
#     shared), and on its own every event with a twin runs on a kprobe;
#   - the set goes with the last attachment.
source "$(dirname "$0")/../lib.sh"
t_need_root
UDPSEND=$ROOT/.output/udpsend
[ -x "$UDPSEND" ] || { t_skip test_events_probes "tests/tools not built (make $UDPSEND)"; exit 0; }
command -v nstat >/dev/null || { t_skip test_events_probes "no nstat (iproute2)"; exit 0; }
t_setup_pair || { t_fail setup "cannot create netns/veth"; exit 1; }
PROBES=/sys/fs/bpf/nacct/:probes
PINS=/sys/fs/bpf/nacct
others=$(ls "$PINS" 2>/dev/null | grep -vc '^:')
# nothing of this test's interfaces is pinned, hooked or attached
nothing_on() { # IFACE NS
	local left
	left=$(ls -d "$PINS/$1"* 2>/dev/null; ip -n "$2" -d -j link show "$1" | jq -c '.[0].xdp // empty';
		ip netns exec "$2" tc filter show dev "$1" egress 2>/dev/null)
	[ -z "$left" ] || { echo "$left"; return 1; }
}

# ---- parse errors: exit 2, a message, nothing attached ----------------------------
# expect2 NAME WANT-IN-MESSAGE CMD...: exit 2, the message, and (unless
# B_ATTACHED=1) nothing on B's interface
expect2() {
	local name=$1 want=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc = 2 ] && grep -q -- "$want" <<<"$out" &&
		{ [ "${B_ATTACHED:-0}" = 1 ] || nothing_on "$IF_B" "$NS_B" >/dev/null; }; then
		t_ok "$name (exit 2: $(head -c 160 <<<"$out"))"
	else
		t_fail "$name" "exit $rc (want 2), message: $out" "left: $(nothing_on "$IF_B" "$NS_B")"
	fi
}
expect2 "attach --probes bogus" "invalid value 'bogus'" in_b "$NACCT" attach --probes bogus "$IF_B"
expect2 "attach --probes (no value)" "--probes" in_b "$NACCT" attach "$IF_B" --probes
expect2 "events --probes KPROBE (names are lower case)" "invalid value" in_b "$NACCT" events --probes KPROBE
expect2 "attach --side-programs off --probes tracepoint" "side programs are off" \
	in_b "$NACCT" attach --side-programs off --probes tracepoint "$IF_B"

# ---- kprobes: where the kernel has none, refused with nothing left ------------------
kp_avail=0
[ -r /sys/bus/event_source/devices/kprobe/type ] && kp_avail=1
if [ $kp_avail = 0 ]; then
	before=$(ls "$PROBES" 2>/dev/null | sort | paste -sd' ')
	expect2 "attach --probes kprobe without kprobes" "no kprobes" in_b "$NACCT" attach --probes kprobe "$IF_B"
	expect2 "events --probes kprobe without kprobes" "no kprobes" in_b timeout 5 "$NACCT" events --probes kprobe
	t_check "the side programs after the refusals: as before" "$before" \
		"$(ls "$PROBES" 2>/dev/null | sort | paste -sd' ')"
fi

# ---- --probes tracepoint ----------------------------------------------------------
if [ -e "$PROBES" ]; then
	t_skip "--probes tracepoint" "side programs already loaded by $others other attachment(s) on this host"
	exit $T_FAILED
fi
out=$(in_b "$NACCT" -v attach --probes tracepoint "$IF_B" 2>&1)
rc=$?
# a kernel without BPF perf-event links (< 5.15) cannot pin the accept
# syscall tracepoints' links: nacct refuses tracepoint mode, saying so
if [ $rc = 2 ] && grep -q "BPF perf-event links" <<<"$out"; then
	t_skip "--probes tracepoint" "$(grep -- "--probes tracepoint:" <<<"$out" | head -n1)"
	exit $T_FAILED
fi
[ $rc = 0 ] || { t_fail "attach --probes tracepoint" "$out"; exit 1; }
sleep 0.3
sj=$(in_b "$NACCT" status "$IF_B" --json)
t_check "status --json: mode tracepoint, every event on its tracepoint" \
	"tracepoint 7 7" "$(jq -r '.side_programs | "\(.mode) \(.programs | length) \([.programs[] | select(.kind == "tracepoint")] | length)"' <<<"$sj")"
st=$(in_b "$NACCT" status "$IF_B")
if grep -q -- "--probes tracepoint:" <<<"$st" && grep -q "tcp_retransmit_skb *tp_btf/tcp_retransmit_skb" <<<"$st"; then
	t_ok "status (text) names the mode and each event's program"
else
	t_fail "status (text) names the mode and each event's program" "$st"
fi
if grep -q "tcp_retransmit_skb: tp_btf/tcp_retransmit_skb (--probes tracepoint)" <<<"$out"; then
	t_ok "attach -v says each event's program and why"
else
	t_fail "attach -v says each event's program and why" "$out"
fi
out=$(in_a "$NACCT" -v attach --probes tracepoint "$IF_A" 2>&1)
rc=$?
if [ $rc = 0 ] && grep -q "loaded already (--probes tracepoint): reused" <<<"$out"; then
	t_ok "a second attach --probes tracepoint reuses the set"
else
	t_fail "a second attach --probes tracepoint reuses the set" "exit $rc: $out"
fi
sleep 0.3
# the witness: datagrams to a closed port of B, dropped NO_SOCKET
UPORT=$((20000 + RANDOM % 10000))
N=40
noports() { ip netns exec "$NS_B" nstat -saz UdpNoPorts | awk '$1 == "UdpNoPorts" {print $2}'; }
b0=$(noports)
in_a "$UDPSEND" 198.18.0.2 "$UPORT" "$N" 64 >/dev/null
sleep 0.3
b1=$(noports)
got=$(nacct_b flows "$IF_B" --json | jq -r --arg r "$(t_reason NO_SOCKET)" "select(.proto==\"udp\" and .dport==$UPORT) | \"\(.rx_packets) \(.drop_reasons[\$r] // 0)\"")
t_check "tracepoint mode: flow rx and NO_SOCKET drops = UdpNoPorts = sent" "$N $N $N $N" "$((b1 - b0)) $N $got"

# a forced mode the loaded set does not meet: refused, by name (where
# kprobes exist; without them the refusal above names kprobes first)
if [ $kp_avail = 1 ]; then
	B_ATTACHED=1 expect2 "events --probes kprobe on a tracepoint set" "already loaded" \
		in_b timeout 5 "$NACCT" events --probes kprobe
fi
in_a "$NACCT" detach "$IF_A" >/dev/null
in_b "$NACCT" detach "$IF_B" >/dev/null
if [ "$others" = 0 ]; then
	t_check "the last detach removes the side programs" "gone" "$([ -e "$PROBES" ] && echo there || echo gone)"
fi

# ---- --probes kprobe where kprobes exist: every twin on its kprobe ------------------
if [ $kp_avail = 1 ]; then
	out=$(in_b "$NACCT" -v attach --probes kprobe "$IF_B" 2>&1) ||
		{ t_fail "attach --probes kprobe" "$out"; exit 1; }
	sj=$(in_b "$NACCT" status "$IF_B" --json)
	t_check "status --json: mode kprobe; every event with a twin on its kprobe, the others on tracepoints" \
		"kprobe 0" "$(jq -r '.side_programs | "\(.mode) \([.programs[] | select((.has_twin and .kind != "kprobe") or (.has_twin | not) and .kind != "tracepoint")] | length)"' <<<"$sj")"
	links=$(ls "$PROBES" | grep -c '^link_nacct_.*_kp$')
	t_check "the pinned links are the twins' (12: retrans and tail loss probe entry/return, state + synrecv + listen entry/return, rtt, rst_rx, rst_tx, accept)" 12 "$links"
	in_b "$NACCT" detach "$IF_B" >/dev/null
fi
exit $T_FAILED
