#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# nacct rtt against the kernel's own view of one long-lived connection
# between two test namespaces (ss -ti: its rtt and segs_in), with a second
# connection as noise in the same namespace.
#
# tcp:tcp_probe fires once for every segment an established socket
# receives, so over a run that starts before the connection's traffic and
# ends after it, the samples of the client socket equal the growth of its
# segs_in (ss -ti) over the same span: exact, no tolerance.  The server's
# last message acknowledges nothing new (tests/tools/rr.py), so the
# client's srtt that ss shows at the end is the one of the last sample:
# it must lie in [min, max] and in the histogram's range.
source "$(dirname "$0")/../lib.sh"
t_need_root
RR=$ROOT/tests/tools/rr.py
t_setup_pair || { t_fail setup "cannot create netns/veth"; exit 1; }
P=$((20000 + RANDOM % 10000)) C=$((P + 1)) P2=$((P + 2)) C2=$((P + 3))
N=200

# bad input: exit status 2
for bad in "nosuch0" "$IF_A 0" "$IF_A 1 x" "--by foo" "-L 0" "-D 70000" "-p 2147483647" "--bogus"; do
	# shellcheck disable=SC2086
	in_a "$NACCT" rtt $bad >/dev/null 2>"$T_TMP/err"
	rc=$?
	[ "$rc" = 2 ] && t_ok "rtt $bad: exit 2 ($(head -1 "$T_TMP/err"))" ||
		t_fail "rtt $bad: exit 2" "rc=$rc: $(cat "$T_TMP/err")"
done

GO=$T_TMP/go
in_b python3 "$RR" server 198.18.0.2 "$P" "$N" >"$T_TMP/s1" 2>&1 &
t_cleanup_add "kill $!"
in_b python3 "$RR" server 198.18.0.2 "$P2" "$N" >"$T_TMP/s2" 2>&1 &
t_cleanup_add "kill $!"
for _ in $(seq 100); do grep -q ready "$T_TMP/s1" && grep -q ready "$T_TMP/s2" && break; sleep 0.05; done
nsenter --net=/run/netns/"$NS_A" python3 "$RR" client 198.18.0.2 "$P" "$C" "$GO" "$N" >"$T_TMP/c1" 2>&1 &
CLI=$!
t_cleanup_add "kill $CLI"
nsenter --net=/run/netns/"$NS_A" python3 "$RR" client 198.18.0.2 "$P2" "$C2" "$GO" "$N" >"$T_TMP/c2" 2>&1 &
t_cleanup_add "kill $!"
for _ in $(seq 100); do grep -q connected "$T_TMP/c1" && grep -q connected "$T_TMP/c2" && break; sleep 0.05; done

# ss -ti of the client socket of one connection: "segs_in rtt_us"
ssinfo() { # DPORT SPORT
	in_a ss -tinH state established "( dport = :$1 and sport = :$2 )" | tr ' ' '\n' |
		awk -F: '$1 == "segs_in" { s = $2 } $1 == "rtt" { split($2, r, "/"); rtt = r[1] }
			 END { printf "%d %d\n", s, rtt * 1000 + 0.5 }'
}
read -r S0 _ <<<"$(ssinfo "$P" "$C")"
read -r Z0 _ <<<"$(ssinfo "$P2" "$C2")"

# the runs, all started before the traffic, stopped after it
PIDS=()
run() { # NS NAME ARGS...
	local ns=$1 name=$2; shift 2
	nsenter --net=/run/netns/"$ns" "$NACCT" rtt "$@" --json >"$T_TMP/$name" 2>"$T_TMP/$name.err" &
	PIDS+=($!)
	t_cleanup_add "kill $!"
}
run "$NS_A" d "$IF_A" -D "$P"
run "$NS_A" byr "$IF_A" --by rport
run "$NS_A" pid "$IF_A" -p "$CLI"
run "$NS_A" lms "$IF_A" -L "$C" -m
run "$NS_A" lo lo -D "$P"
run "$NS_B" bd "$IF_B" -D "$P"
run "$NS_B" bl "$IF_B" -L "$P" --by laddr
for f in d byr pid lms lo bd bl; do
	for _ in $(seq 100); do grep -q Tracing "$T_TMP/$f.err" && break; sleep 0.05; done
	grep -q Tracing "$T_TMP/$f.err" || t_fail "rtt run $f starts" "$(cat "$T_TMP/$f.err")"
done
touch "$GO"
for _ in $(seq 400); do grep -q done "$T_TMP/c1" && grep -q done "$T_TMP/c2" && break; sleep 0.05; done
grep -q done "$T_TMP/c1" || t_fail "client done" "$(cat "$T_TMP/c1")"
sleep 0.2
read -r S1 RTT <<<"$(ssinfo "$P" "$C")"
read -r Z1 _ <<<"$(ssinfo "$P2" "$C2")"
kill -INT "${PIDS[@]}"
wait "${PIDS[@]}"
touch "$GO.close"
segs=$((S1 - S0))
t_log "client $C->$P: segs_in $S0 -> $S1 ($segs), ss rtt ${RTT} us; noise $C2->$P2: segs_in $Z0 -> $Z1"
t_log "-D $P: $(cat "$T_TMP/d")"

j() { jq -r "$2" "$T_TMP/$1"; }
t_check "-D $P: samples = the client socket's segs_in growth" "$segs" "$(j d .count)"
t_check "--by rport: key $P = its segs_in growth" "$segs" "$(j byr "select(.key == \"$P\") | .count")"
t_check "--by rport: key $P2 (noise) = its segs_in growth" "$((Z1 - Z0))" \
	"$(j byr "select(.key == \"$P2\") | .count")"
t_check "--by rport: exactly the two connections' keys" "$P $P2" "$(j byr .key | sort -n | paste -sd' ')"
t_check "-p client pid: samples = its segs_in growth" "$segs" "$(j pid .count)"
t_check "-L $C -m: samples = its segs_in growth, in ms" "$segs ms" "$(j lms '"\(.count) \(.unit)"')"
lmsmax=$(j lms .max)
exp=$((RTT / 1000))
[ "$lmsmax" -ge "$exp" ] && t_ok "-m: max $lmsmax ms >= ss rtt $exp ms" || t_fail "-m max" "$lmsmax < $exp"

read -r mn mx lo hi <<<"$(j d '"\(.min) \(.max) \(.hist[0].lo) \(.hist[-1].hi)"')"
if [ "$mn" -le "$RTT" ] && [ "$RTT" -le "$mx" ] && [ "$lo" -le "$RTT" ] && [ "$RTT" -le "$hi" ]; then
	t_ok "ss rtt $RTT us within min..max $mn..$mx us and the histogram's $lo..$hi us"
else
	t_fail "ss rtt within the histogram" "ss rtt $RTT, min $mn max $mx, histogram $lo..$hi"
fi
hsum=$(j d '[.hist[].count] | add')
t_check "histogram total = count" "$(j d .count)" "$hsum"

# IFACE: lo in A carries none of it; in B no socket has remote port $P
# (the client, whose remote port it is, lives in A)
t_check "IFACE lo: no samples of the veth connection" "" "$(cat "$T_TMP/lo")"
t_check "IFACE $IF_B -D $P: no samples (the client is in the other netns)" "" "$(cat "$T_TMP/bd")"
bl=$(j bl '"\(.key) \(.count > 0)"')
t_check "IFACE $IF_B -L $P --by laddr: the server side" "198.18.0.2 true" "$bl"
exit $T_FAILED
