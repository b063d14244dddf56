#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Soak of the long-running parts: capture and export started and stopped
# (SIGINT) over and over with traffic flowing.  Each stop is clean (exit 0),
# nacct_cfg is back to what it was, no pin, private directory or kernel
# object is left behind, and the counts stay exact through it all.
# Normal run: 10 of each (+ 2 captures that attach for their own
# duration); NACCT_SOAK=1: 100 of each (+ 10).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/harden_lib.sh"
t_need_root
t_setup_pair || { t_fail setup "cannot create netns/veth"; exit 1; }
UDPSEND=$ROOT/.output/udpsend
if [ "$H_SOAK" = 1 ]; then N=100 NT=10; else N=10 NT=2; fi
nacct_b help capture >/dev/null 2>&1 || { t_skip "$(basename "$0")" "no nacct capture in this build"; exit 0; }

nacct_b attach "$IF_B" >/dev/null || { t_fail attach; exit 1; }
DIR=$(ls -d /sys/fs/bpf/nacct/"$IF_B":ns*)
cfg() { bpftool map dump pinned "$DIR/nacct_cfg" -j | jq -c '.[0].value'; }
cfg0=$(cfg)
k0=$(t_ifstat "$NS_B" "$IF_B" rx_packets)
r0=$(h_rx)
(while :; do in_a "$UDPSEND" 198.18.0.2 9 200 64 53000 20 >/dev/null 2>&1; sleep 0.02; done) &
gen=$!
t_cleanup_add "kill $gen"

stop_after() { # ms, command...: run it, SIGINT after ms, its exit status
	local ms=$1 pid
	shift
	h_bg_b "$@"
	pid=$!
	h_sleep_ms "$ms"
	kill -INT "$pid" 2>/dev/null
	wait "$pid"
}

bad=0 pk=0
for i in $(seq "$N"); do
	stop_after $((300 + $(h_rand 700))) "$NACCT" capture "$IF_B" -w "$T_TMP/c.pcap" >/dev/null 2>"$T_TMP/c.err"
	rc=$?
	[ "$rc" = 0 ] || { bad=1; t_log "capture $i: rc=$rc $(tail -n1 "$T_TMP/c.err")"; }
	c=$(tcpdump -nr "$T_TMP/c.pcap" 2>/dev/null | wc -l)
	pk=$((pk + c))
	[ "$(cfg)" = "$cfg0" ] || { bad=1; t_log "capture $i: nacct_cfg left at $(cfg)"; }
done
t_check "$N captures started and stopped: clean exits, nacct_cfg restored" 0 "$bad"
[ "$pk" -gt 0 ] && t_ok "the captures wrote $pk packets" || t_fail "captures wrote nothing"

pins0=$(ls "$DIR" | tr '\n' ' ')
bad=0
for i in $(seq "$N"); do
	stop_after $((300 + $(h_rand 700))) "$NACCT" export "$IF_B" --json --idle-timeout 1 --active-timeout 1 >"$T_TMP/e.out" 2>"$T_TMP/e.err"
	rc=$?
	[ "$rc" = 0 ] || { bad=1; t_log "export $i: rc=$rc $(tail -n1 "$T_TMP/e.err")"; }
	[ "$i" = 1 ] && pins1=$(ls "$DIR" | tr '\n' ' ')
done
t_check "$N exports started and stopped: clean exits" 0 "$bad"
t_log "pins before the exporter: $pins0"
t_check "the exporter's state pins stay the same set" "$pins1" "$(ls "$DIR" | tr '\n' ' ')"
t_check "no private directory left" 0 "$(ls /sys/fs/bpf/nacct | grep -c "^:tmp:$IF_B")"

kill "$gen"
wait "$gen" 2>/dev/null
sleep 0.3
t_check "through it all: nacct rx = kernel rx_packets" $(($(t_ifstat "$NS_B" "$IF_B" rx_packets) - k0)) $(($(h_rx) - r0))
nacct_b detach "$IF_B" >/dev/null

# captures that attach for their own duration
bad=0
for i in $(seq "$NT"); do
	stop_after $((4000 + $(h_rand 1000))) "$NACCT" capture "$IF_B" -w "$T_TMP/t.pcap" >/dev/null 2>"$T_TMP/t.err"
	rc=$?
	[ "$rc" = 0 ] || { bad=1; t_log "temporary capture $i: rc=$rc $(tail -n1 "$T_TMP/t.err")"; }
	s=$(h_state)
	[ "$s" = "$H_NONE" ] || { bad=1; t_log "after temporary capture $i: $s"; nacct_b detach "$IF_B" >/dev/null 2>&1; }
done
t_check "$NT captures that attached for their duration: clean, nothing left" 0 "$bad"
t_check "no clsact left" 0 "$(tc -n "$NS_B" qdisc show dev "$IF_B" | grep -c clsact)"
exit $T_FAILED
