#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# nacct backlog against the kernel's own view of two listeners that never
# accept (ss -ltn: the queue and its limit; nstat: ListenOverflows and
# ListenDrops; /proc: the listen() caller), filled by clients in the peer
# namespace (tests/tools/synbl.py): an IPv4 one with listen(fd, 4) hit by
# 20 connections, an IPv6 one with listen(fd, 2) hit by 6.
#
# The clients connect one after another, each connect() given 0.2 s (less
# than the 1 s initial SYN timeout: one SYN each, no retransmit), so the
# window is bounded by the clients' own pace.  sk_acceptq_is_full() is
# "queue > limit": a listener with limit L takes L + 1 connections, which
# found the queue at 0, 1, ..., L (the histogram, max = L); every later SYN
# is dropped (one listen overflow and one listen drop each).  nacct runs
# from before the first SYN to after the last, so its drops must equal the
# nstat deltas over the same window, exactly, per listener the client's
# own count of failed connections.
source "$(dirname "$0")/../lib.sh"
t_need_root
SYNBL=$ROOT/tests/tools/synbl.py
t_setup_pair || { t_fail setup "cannot create netns/veth"; exit 1; }
P=$((20000 + RANDOM % 10000)) P6=$((P + 1))

# bad input: exit status 2
for bad in "0" "1 x" "1 2 3" "-L 0" "-L 70000" "--bogus" "x"; do
	# shellcheck disable=SC2086
	in_b "$NACCT" backlog $bad >/dev/null 2>"$T_TMP/err"
	rc=$?
	[ "$rc" = 2 ] && t_ok "backlog $bad: exit 2 ($(head -1 "$T_TMP/err"))" ||
		t_fail "backlog $bad: exit 2" "rc=$rc: $(cat "$T_TMP/err")"
done

nsenter --net=/run/netns/"$NS_B" python3 "$SYNBL" server 198.18.0.2 "$P" 4 >"$T_TMP/s4" 2>&1 &
t_cleanup_add "kill $!"
for _ in $(seq 100); do grep -q ready "$T_TMP/s4" && break; sleep 0.05; done
SPID=$(awk '/ready/ { print $2 }' "$T_TMP/s4")
SCOMM=$(cat "/proc/$SPID/comm")

# nstat in B: "ListenOverflows ListenDrops" (absolute, history untouched)
listen_stats() {
	in_b nstat -asz TcpExtListenOverflows TcpExtListenDrops |
		awk '$1 == "TcpExtListenOverflows" { o = $2 } $1 == "TcpExtListenDrops" { d = $2 }
		     END { printf "%d %d\n", o, d }'
}

# the runs: nacct from before the first SYN to after the last
PIDS=()
run() { # NAME ARGS...
	local name=$1; shift
	# nsenter directly (it execs nacct): $! is then nacct, which gets the SIGINT
	nsenter --net=/run/netns/"$NS_B" "$NACCT" backlog "$@" >"$T_TMP/$name" 2>"$T_TMP/$name.err" &
	PIDS+=($!)
	t_cleanup_add "kill $!"
}
run all --json
run l4 -L "$P" --json
run txt
for f in all l4 txt; do
	for _ in $(seq 100); do grep -q Tracing "$T_TMP/$f.err" && break; sleep 0.05; done
	grep -q Tracing "$T_TMP/$f.err" || t_fail "backlog run $f starts" "$(cat "$T_TMP/$f.err")"
done
# the IPv6 server listens after nacct started: its listen() is seen
nsenter --net=/run/netns/"$NS_B" python3 "$SYNBL" server fd00:18::2 "$P6" 2 >"$T_TMP/s6" 2>&1 &
t_cleanup_add "kill $!"
for _ in $(seq 100); do grep -q ready "$T_TMP/s6" && break; sleep 0.05; done
SPID6=$(awk '/ready/ { print $2 }' "$T_TMP/s6")
SCOMM6=$(cat "/proc/$SPID6/comm")
read -r O0 D0 <<<"$(listen_stats)"
END=$T_TMP/end
nsenter --net=/run/netns/"$NS_A" python3 "$SYNBL" client 198.18.0.2 "$P" 20 0.2 "$END" >"$T_TMP/c4" 2>&1 &
t_cleanup_add "kill $!"
nsenter --net=/run/netns/"$NS_A" python3 "$SYNBL" client fd00:18::2 "$P6" 6 0.2 "$END" >"$T_TMP/c6" 2>&1 &
t_cleanup_add "kill $!"
for _ in $(seq 200); do grep -q connected "$T_TMP/c4" && grep -q connected "$T_TMP/c6" && break; sleep 0.05; done
read -r O1 D1 <<<"$(listen_stats)"
kill -INT "${PIDS[@]}"
wait "${PIDS[@]}"
# ss: "Recv-Q Send-Q" of a listener (queue now and limit)
ssq() { in_b ss -ltnH "sport = :$1" | awk '{ print $2, $3 }'; }
read -r Q4 L4 <<<"$(ssq "$P")"
read -r Q6 L6 <<<"$(ssq "$P6")"
touch "$END"
read -r _ C4 _ F4 <"$T_TMP/c4"
read -r _ C6 _ F6 <"$T_TMP/c6"
t_log "v4 :$P: client connected $C4 failed $F4, ss queue $Q4 limit $L4; v6 :$P6: connected $C6 failed $F6, ss queue $Q6 limit $L6"
t_log "nstat ListenOverflows $O0 -> $O1, ListenDrops $D0 -> $D1"
t_log "run all: $(cat "$T_TMP/all")"
t_log "$(cat "$T_TMP/txt")"

j() { jq -r "$2" "$T_TMP/$1"; }
v4() { j "$1" "select(.port == $P) | $2"; }
v6() { j "$1" "select(.port == $P6) | $2"; }
# the histogram the witness implies: one sample at each queue length 0..Q-1
want_hist() { # Q
	python3 -c 'import sys, collections
c = collections.Counter(0 if v == 0 else 1 << (v.bit_length() - 1) for v in range(int(sys.argv[1])))
print(" ".join("%d:%d" % kv for kv in sorted(c.items())))' "$1"
}
got_hist() { "$@" '[.hist[] | "\(.lo):\(.count)"] | join(" ")'; }

t_check "the clients' connections = the queue ss shows (v4, v6)" "$C4 $C6" "$Q4 $Q6"
t_check "ss: limits 4 and 2" "4 2" "$L4 $L6"
[ "$((O1 - O0))" -gt 0 ] && t_ok "the window saw listen overflows ($((O1 - O0)))" ||
	t_fail "listen overflows seen" "nstat delta $((O1 - O0))"
t_check "nstat: overflows = drops = the clients' failed connections" \
	"$((F4 + F6)) $((F4 + F6))" "$((O1 - O0)) $((D1 - D0))"

t_check "v4: new connections = ss queue" "$Q4" "$(v4 all .count)"
t_check "v4: backlog max = the limit ss shows (a queue of limit+1 is full)" "$L4 $L4" \
	"$(v4 all '"\(.max) \(.limit)"')"
t_check "v4: queue now = ss Recv-Q" "$Q4" "$(v4 all .queue)"
t_check "v4: histogram = one sample at each queue length 0..$((Q4 - 1))" "$(want_hist "$Q4")" \
	"$(got_hist v4 all)"
t_check "v4: drops = its client's failed connections" "$F4" "$(v4 all .drops)"
# the IPv4 server listened before nacct started: its socket's holder
t_check "v4: owner = the server, found by its fd (pid comm how)" "$SPID $SCOMM fd" \
	"$(v4 all '"\(.pid) \(.comm) \(.owner)"')"
t_check "v6: new connections, max, limit = ss" "$Q6 $L6 $L6" "$(v6 all '"\(.count) \(.max) \(.limit)"')"
t_check "v6: histogram" "$(want_hist "$Q6")" "$(got_hist v6 all)"
t_check "v6: drops = its client's failed connections" "$F6" "$(v6 all .drops)"
t_check "v6: owner = the listen() caller (pid comm how)" "$SPID6 $SCOMM6 listen" \
	"$(v6 all '"\(.pid) \(.comm) \(.owner)"')"
t_check "v6: address" "fd00:18::2 ipv6" "$(v6 all '"\(.addr) \(.family)"')"
t_check "all listeners' drops = nstat ListenDrops delta" "$((D1 - D0))" "$(j all '.drops' | paste -sd+ | bc)"
t_check "-L $P: only that listener, the same figures" \
	"$P $Q4 $F4" "$(j l4 '"\(.port) \(.count) \(.drops)"')"
grep -qF "listener 198.18.0.2:$P pid $SPID ($SCOMM) [fd holder]: limit 4, queue $Q4" "$T_TMP/txt" &&
	grep -qF "listener [fd00:18::2]:$P6 pid $SPID6 ($SCOMM6): limit 2, queue $Q6" "$T_TMP/txt" &&
	grep -q "new connections $Q4, backlog max 4, drops $F4" "$T_TMP/txt" &&
	t_ok "text: the listener line and its figures" ||
	t_fail "text output" "$(cat "$T_TMP/txt")"
exit $T_FAILED
