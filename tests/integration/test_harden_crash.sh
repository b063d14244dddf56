#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Crash safety: kill -9 of nacct at random moments leaves the old or the
# new state, never a half-attached interface that nothing cleans up.
# - attach killed after a random delay over its whole run: the interface is
#   then fully attached (pins + XDP link + TC filter, status works) or has
#   nothing of nacct, or what is left is reported by status and removed by
#   the next detach / attach
# - export and capture killed mid-run: the attachment stays whole
# - readers (subnets, top, export) killed: no count is lost, nacct's totals
#   = generator count = kernel counters
# NACCT_SOAK=1: 300 attach kills, 100 export/capture kills.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/harden_lib.sh"
t_need_root
t_setup_pair || { t_fail setup "cannot create netns/veth"; exit 1; }
UDPSEND=$ROOT/.output/udpsend

if [ "$H_SOAK" = 1 ]; then KILLS=300 BUDGET=3600 XKILLS=100; else KILLS=40 BUDGET=35 XKILLS=10; fi

# ---- attach killed at random moments ------------------------------------
t0=$(h_ms)
nacct_b attach "$IF_B" >/dev/null || t_fail "first attach"
T=$(($(h_ms) - t0))
nacct_b detach "$IF_B" >/dev/null
t_log "one attach takes ${T} ms; kills land uniformly in [0, $((T * 11 / 10))] ms"

n=0 full=0 none=0 half=0 bad=0 start=$(h_ms)
while [ "$n" -lt "$KILLS" ] && [ $(($(h_ms) - start)) -lt $((BUDGET * 1000)) ]; do
	n=$((n + 1))
	h_bg_b "$NACCT" attach "$IF_B" >/dev/null 2>&1
	pid=$!
	h_sleep_ms "$(h_rand $((T * 11 / 10 + 1)))"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	st=$(h_state)
	case $st in
	"$H_FULL")
		full=$((full + 1))
		nacct_b status "$IF_B" >/dev/null 2>&1 || { bad=1; t_log "kill $n: whole but status fails"; }
		nacct_b detach "$IF_B" >/dev/null 2>&1 || { bad=1; t_log "kill $n: detach of a whole attachment failed"; }
		;;
	"$H_NONE")
		none=$((none + 1))
		;;
	dir=1*)
		# published but not whole: the window that must not exist
		bad=1
		t_log "kill $n: published but incomplete: $st"
		nacct_b detach "$IF_B" >/dev/null 2>&1
		;;
	*)
		half=$((half + 1))
		err=$(nacct_b status "$IF_B" 2>&1 >/dev/null)
		rc=$?
		if [ "$rc" != 2 ] || [[ "$err" != *"killed nacct left"* ]]; then
			bad=1
			t_log "kill $n: $st: status did not report it (rc=$rc: $err)"
		fi
		if [ $((half % 2)) = 1 ]; then
			# the next detach removes it
			nacct_b detach "$IF_B" >/dev/null 2>&1 || { bad=1; t_log "kill $n: $st: detach failed"; }
		else
			# the next attach removes it and attaches whole
			nacct_b attach "$IF_B" >/dev/null 2>&1 || { bad=1; t_log "kill $n: $st: attach failed"; }
			[ "$(h_state)" = "$H_FULL" ] || { bad=1; t_log "kill $n: after attach: $(h_state)"; }
			nacct_b detach "$IF_B" >/dev/null 2>&1
		fi
		;;
	esac
	st=$(h_state)
	[ "$st" = "$H_NONE" ] || { bad=1; t_log "kill $n: after clean-up: $st"; nacct_b detach "$IF_B" >/dev/null 2>&1; }
done
t_log "attach kills: $n (whole: $full, nothing: $none, half-done and cleaned: $half)"
t_check "attach killed $n times: always whole, empty, or reported and cleaned" 0 "$bad"
t_check "no clsact left after the kills" 0 "$(tc -n "$NS_B" qdisc show dev "$IF_B" | grep -c clsact)"
if [ "$half" = 0 ]; then t_log "no kill landed in a half-done window this run"; fi

# a half state made on purpose: an attach stopped (SIGSTOP) once its TC
# filter exists (before its directory is published), then killed; it must be reported and cleaned
h_bg_b "$NACCT" attach "$IF_B" >/dev/null 2>&1
pid=$!
for _ in $(seq 400); do
	case $(h_state) in "dir=0 tmp=1 xdp="?" filters=1") break ;; esac
	sleep 0.01
done
kill -STOP "$pid" 2>/dev/null
st=$(h_state)
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
if [[ "$st" == "dir=0 tmp=1 xdp="?" filters=1" ]]; then
	t_log "stopped and killed in: $st"
	err=$(nacct_b status "$IF_B" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" = 2 ] && [[ "$err" == *"killed nacct left"* ]]; then t_ok "status reports a half attach: $err"; else t_fail "status of a half attach" "rc=$rc $err"; fi
	out=$(nacct_b detach "$IF_B" 2>&1)
	t_check "detach removes a half attach (rc)" 0 "$?"
	t_log "$out"
	t_check "nothing left after detach of a half attach" "$H_NONE clsact=0" "$(h_state) clsact=$(tc -n "$NS_B" qdisc show dev "$IF_B" | grep -c clsact)"
else
	t_skip "half attach caught on purpose" "the attach finished before it was stopped ($st)"
	nacct_b detach "$IF_B" >/dev/null 2>&1
fi

# ---- export and capture killed mid-run: the attachment stays whole -------
nacct_b attach "$IF_B" >/dev/null || t_fail "attach for export/capture kills"
(while :; do in_a "$UDPSEND" 198.18.0.2 9 200 80 42000 20 >/dev/null 2>&1; sleep 0.05; done) &
gen=$!
t_cleanup_add "kill $gen"
bad=0
for i in $(seq "$XKILLS"); do
	h_bg_b "$NACCT" export "$IF_B" --json --idle-timeout 1 --active-timeout 1 >"$T_TMP/export.out" 2>/dev/null
	pid=$!
	h_sleep_ms $((200 + $(h_rand 1500)))
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	[ "$(h_state)" = "$H_FULL" ] && nacct_b status "$IF_B" >/dev/null 2>&1 ||
		{ bad=1; t_log "export kill $i: $(h_state)"; }
done
t_check "export killed $XKILLS times mid-export: attachment whole" 0 "$bad"
# the exporter's state: still readable by the next exporter
in_b timeout -s INT 2 "$NACCT" export "$IF_B" --json --idle-timeout 1 >"$T_TMP/export.out" 2>"$T_TMP/export.err"
rc=$?
if [ "$rc" = 0 ] || [ "$rc" = 124 ]; then t_ok "an exporter starts on the state of killed ones"; else t_fail "exporter after kills" "rc=$rc" "$(cat "$T_TMP/export.err")"; fi

if nacct_b help capture >/dev/null 2>&1; then
	bad=0 rd=0
	for i in $(seq "$XKILLS"); do
		h_bg_b "$NACCT" capture "$IF_B" -w "$T_TMP/cap.pcap" >/dev/null 2>&1
		pid=$!
		h_sleep_ms $((300 + $(h_rand 1000)))
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		[ "$(h_state)" = "$H_FULL" ] && nacct_b status "$IF_B" >/dev/null 2>&1 ||
			{ bad=1; t_log "capture kill $i: $(h_state)"; }
		# what was written before the kill is a readable pcap (a cut last
		# record at most)
		c=$(tcpdump -nr "$T_TMP/cap.pcap" 2>/dev/null | wc -l)
		[ "$c" -gt 0 ] && rd=$((rd + 1))
	done
	t_check "capture killed $XKILLS times mid-write: attachment whole" 0 "$bad"
	t_log "pcap files readable with packets after the kill: $rd of $XKILLS"
	[ "$rd" -gt 0 ] && t_ok "killed captures leave readable pcap files ($rd of $XKILLS)" ||
		t_fail "killed captures leave readable pcap files" "none had a packet"
	# a capture after the killed ones starts and stops cleanly
	in_b timeout -s INT 2 "$NACCT" capture "$IF_B" -w "$T_TMP/cap2.pcap" >/dev/null 2>"$T_TMP/cap.err"
	rc=$?
	if [ "$rc" = 0 ] || [ "$rc" = 124 ]; then t_ok "a capture runs after killed ones"; else t_fail "capture after kills" "rc=$rc" "$(cat "$T_TMP/cap.err")"; fi
	t_log "nacct_cfg after the captures: $(bpftool map dump pinned /sys/fs/bpf/nacct/"$IF_B":ns*/nacct_cfg -j 2>/dev/null | jq -c '.[0].value' 2>/dev/null)"
else
	t_skip "capture kills" "nacct capture is not in this build"
fi
kill "$gen" 2>/dev/null
wait "$gen" 2>/dev/null
nacct_b detach "$IF_B" >/dev/null

# ---- readers killed: no count lost --------------------------------------
nacct_b attach "$IF_B" --subnets 198.18.0.0/24 >/dev/null || t_fail "attach for the count test"
k0=$(t_ifstat "$NS_B" "$IF_B" rx_packets)
r0=$(h_rx)
N=$(in_a "$UDPSEND" 198.18.0.2 9 3000 100 43000 50)
h_bg_b "$NACCT" subnets "$IF_B" 1 >/dev/null 2>&1
p1=$!
h_bg_b "$NACCT" top "$IF_B" --json -i 1 >/dev/null 2>&1
p2=$!
h_bg_b "$NACCT" export "$IF_B" --json --idle-timeout 1 --active-timeout 1 >/dev/null 2>&1
p3=$!
X=$(in_a "$UDPSEND" 198.18.0.2 9 2000 100 44000 50)
sleep 1.2
kill -9 $p1 $p2 $p3 2>/dev/null
wait $p1 $p2 $p3 2>/dev/null
M=$(in_a "$UDPSEND" 198.18.0.2 9 4000 100 45000 50)
sleep 0.3
k1=$(t_ifstat "$NS_B" "$IF_B" rx_packets)
r1=$(h_rx)
t_check "generator sent N + X + M" 9000 $((N + X + M))
t_check "after kill -9 of subnets/top/export: nacct rx = N + X + M" $((N + X + M)) $((r1 - r0))
t_check "nacct rx = kernel rx_packets" $((k1 - k0)) $((r1 - r0))
t_check "subnet 198.18.0.0/24 has them all" $((N + X + M)) \
	"$(nacct_b subnets "$IF_B" --json | jq -rs '[.[] | select(.subnet=="198.18.0.0/24") | .rx_packets] | add')"
nacct_b detach "$IF_B" >/dev/null
t_check "nothing left at the end" "$H_NONE" "$(h_state)"
exit $T_FAILED
