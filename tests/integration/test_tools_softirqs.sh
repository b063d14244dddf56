#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# nacct softirqs against the kernel's own per-CPU softirq counters
# (/proc/softirqs).
#
# The interval is cut by SIGUSR1, and /proc/softirqs is read just before
# the signal (Pa) and again after nacct's line for the interval is out (Pb):
# nacct's read of its map lies between the two.  Per CPU and vector, with
# K the kernel's count and B nacct's, the kernel increments K right before
# it fires softirq_entry (handle_softirqs: kstat_incr_softirqs_this_cpu,
# then trace_softirq_entry), and softirqs do not nest on a CPU, so at any
# instant K - B - const is 0 or 1 (one run at most between the two).
# Hence for the interval between the two cuts, nacct's count D obeys
#     Pa1 - Pb0 - 1  <=  D  <=  Pb1 - Pa0 + 1
# i.e. the tolerance is exactly the runs the kernel counted inside the two
# read windows (Pb - Pa, printed) plus one run in flight per boundary.
# No timing is asserted.
source "$(dirname "$0")/../lib.sh"
t_need_root
t_setup_pair || { t_fail setup "cannot create netns/veth"; exit 1; }

# bad input: exit status 2, one line
for bad in "x" "0" "1 0" "1 2 3" "--bogus" "-q"; do
	# shellcheck disable=SC2086
	"$NACCT" softirqs $bad >/dev/null 2>"$T_TMP/err"
	rc=$?
	[ "$rc" = 2 ] && [ "$(wc -l <"$T_TMP/err")" -ge 1 ] || {
		t_fail "softirqs $bad: exit 2" "rc=$rc: $(cat "$T_TMP/err")"; continue; }
	t_ok "softirqs $bad: exit 2 ($(head -1 "$T_TMP/err"))"
done

# /proc/softirqs as "vector cpu count" lines (vector names lower case)
procsirq() {
	awk 'NR == 1 { n = NF; next }
	     { v = tolower($1); sub(":", "", v); for (i = 2; i <= n + 1; i++) print v, i - 2, $i }' \
		/proc/softirqs
}

# the names and order of nacct's vectors: the kernel's rows
nsenter --net=/run/netns/"$NS_A" "$NACCT" softirqs --json -d >"$T_TMP/out" 2>"$T_TMP/err" &
PID=$!
t_cleanup_add "kill $PID"
for _ in $(seq 100); do grep -q Tracing "$T_TMP/err" && break; sleep 0.1; done
grep -q Tracing "$T_TMP/err" || { t_fail "softirqs starts" "$(cat "$T_TMP/err")"; exit 1; }
ncpu=$(awk 'NR == 1 { print NF }' /proc/softirqs)
nrow=$((10 * ncpu))

# cut K: Pa, SIGUSR1, wait for the interval's lines, Pb
cut() {
	local k=$1 want
	procsirq >"$T_TMP/pa$k"
	kill -USR1 "$PID"
	for _ in $(seq 200); do
		[ "$(jq -c "select(.seq == $k)" "$T_TMP/out" 2>/dev/null | wc -l)" -ge 10 ] && break
		sleep 0.05
	done
	procsirq >"$T_TMP/pb$k"
}
kill -0 "$PID" || { t_fail "softirqs runs" "$(cat "$T_TMP/err")"; exit 1; }
# --cpu is a second run; this one sums CPUs, the per-CPU check below uses it
cut 1
# traffic for net_rx/net_tx between the two cuts: a flood ping over the veth
in_a ping -q -f -c 2000 -W 1 198.18.0.2 >"$T_TMP/ping" 2>&1
sleep 0.5
cut 2
kill -INT "$PID"; wait "$PID"

names=$(jq -r 'select(.seq == 1) | .vector' "$T_TMP/out" | paste -sd' ')
knames=$(awk '{ print $1 }' "$T_TMP/pa1" | uniq | paste -sd' ')
t_check "vectors: the kernel's names and order (/proc/softirqs)" "$knames" "$names"

# the witness over the interval between cut 1 and cut 2, all CPUs summed
check_interval() { # FILE-WITH "vector count" of nacct, label
	local bad=0 line v d lo hi w0 w1
	while read -r v d; do
		lo=$(awk -v v="$v" '$1 == v { s += $3 } END { print s }' "$T_TMP/pa2")
		lo=$((lo - $(awk -v v="$v" '$1 == v { s += $3 } END { print s }' "$T_TMP/pb1") - ncpu))
		hi=$(awk -v v="$v" '$1 == v { s += $3 } END { print s }' "$T_TMP/pb2")
		hi=$((hi - $(awk -v v="$v" '$1 == v { s += $3 } END { print s }' "$T_TMP/pa1") + ncpu))
		w0=$(($(awk -v v="$v" '$1 == v { s += $3 } END { print s }' "$T_TMP/pb1") - \
			$(awk -v v="$v" '$1 == v { s += $3 } END { print s }' "$T_TMP/pa1")))
		w1=$(($(awk -v v="$v" '$1 == v { s += $3 } END { print s }' "$T_TMP/pb2") - \
			$(awk -v v="$v" '$1 == v { s += $3 } END { print s }' "$T_TMP/pa2")))
		line="$v nacct=$d kernel in [$lo, $hi] (read windows $w0+$w1 runs, +-$ncpu in flight)"
		if [ "$d" -ge "$lo" ] && [ "$d" -le "$hi" ]; then t_log "$line"; else
			bad=1; t_log "MISMATCH $line"; fi
	done <"$1"
	[ "$bad" = 0 ] && t_ok "$2" || t_fail "$2" "see the lines above"
}
jq -r 'select(.seq == 2) | "\(.vector) \(.count)"' "$T_TMP/out" >"$T_TMP/n2"
check_interval "$T_TMP/n2" "counts per vector = /proc/softirqs over the interval, within the read windows"

netrx=$(awk '$1 == "net_rx" { print $2 }' "$T_TMP/n2")
t_log "ping: $(tail -2 "$T_TMP/ping" | head -1)"
[ "${netrx:-0}" -gt 0 ] && t_ok "net_rx counted during the flood ping ($netrx runs)" ||
	t_fail "net_rx counted during the flood ping" "net_rx=$netrx"

# -d: each run's time lands in one slot at its exit, counted at its entry:
# per vector, histogram total and count differ by the runs straddling the
# two cuts, at most one per CPU at each
hbad=$(jq -r --argjson n "$ncpu" 'select(.seq == 2) |
	(([.hist_us[].count] | add) // 0) as $h | select(($h - .count) > $n or (.count - $h) > $n) |
	"\(.vector) count=\(.count) hist=\($h)"' "$T_TMP/out")
[ -z "$hbad" ] && t_ok "-d: histogram totals = counts (+-1 run per CPU at each cut)" ||
	t_fail "-d: histogram totals = counts" "$hbad"
tns=$(jq -r 'select(.seq == 2 and .vector == "timer") | "\(.count) \(.time_ns)"' "$T_TMP/out")
read -r tc tt <<<"$tns"
[ "$tc" -gt 0 ] && [ "$tt" -gt 0 ] && t_ok "timer: $tc runs, $tt ns" || t_fail "timer time" "$tns"

# --cpu: the same witness per CPU and vector
nsenter --net=/run/netns/"$NS_A" "$NACCT" softirqs --json --cpu >"$T_TMP/out" 2>"$T_TMP/err" &
PID=$!
t_cleanup_add "kill $PID"
for _ in $(seq 100); do grep -q Tracing "$T_TMP/err" && break; sleep 0.1; done
cutc() {
	local k=$1
	procsirq >"$T_TMP/pa$k"
	kill -USR1 "$PID"
	for _ in $(seq 200); do
		[ "$(jq -c "select(.seq == $k)" "$T_TMP/out" 2>/dev/null | wc -l)" -ge "$nrow" ] && break
		sleep 0.05
	done
	procsirq >"$T_TMP/pb$k"
}
cutc 1
in_a ping -q -f -c 1000 -W 1 198.18.0.2 >/dev/null 2>&1
sleep 0.5
cutc 2
kill -INT "$PID"; wait "$PID"
bad=0 nlines=0
while read -r v c d; do
	k() { awk -v v="$v" -v c="$c" '$1 == v && $2 == c { print $3 }' "$T_TMP/$1"; }
	lo=$(($(k pa2) - $(k pb1) - 1))
	hi=$(($(k pb2) - $(k pa1) + 1))
	nlines=$((nlines + 1))
	if [ "$d" -lt "$lo" ] || [ "$d" -gt "$hi" ]; then
		bad=1; t_log "MISMATCH $v cpu$c nacct=$d kernel in [$lo, $hi]"
	elif [ "$d" -gt 0 ]; then t_log "$v cpu$c nacct=$d kernel in [$lo, $hi]"; fi
done < <(jq -r 'select(.seq == 2) | "\(.vector) \(.cpu) \(.count)"' "$T_TMP/out")
[ "$bad" = 0 ] && [ "$nlines" = "$nrow" ] &&
	t_ok "--cpu: $nlines rows, each = /proc/softirqs per CPU within the read windows +-1" ||
	t_fail "--cpu: per CPU = /proc/softirqs" "rows=$nlines of $nrow"

# text output: a header and ten rows
txt=$("$NACCT" softirqs 0.2 1 2>/dev/null)
t_check "text: ten vector rows" "10" "$(grep -cE '^(hi|timer|net_tx|net_rx|block|irq_poll|tasklet|sched|hrtimer|rcu) ' <<<"$txt")"
exit $T_FAILED
