#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# nacct events --states: accept lines name the process that accepted
# (tcpaccept), listen lines carry the backlog (solisten).  Two servers in
# netns B, one accepting with accept4() and one with accept(), each
# accepting N connections from netns A.  Witnesses: the server's own pid
# (os.getpid()) and /proc/PID/comm, the peer ports its accept() returned,
# strace (which syscall it really made), ss (a listener's Send-Q is its
# sk_max_ack_backlog) and the namespace's net.core.somaxconn; and the
# flows' side records while the connections are still open, before any
# close() could have named their owner.
source "$(dirname "$0")/../lib.sh"
t_need_root
ACC=$ROOT/tests/tools/accepter.py
command -v python3 >/dev/null || { t_skip test_events_accept "no python3"; exit 0; }
t_setup_pair || { t_fail setup "cannot create netns/veth"; exit 1; }
PORT=$((20000 + RANDOM % 10000))
N=3
SOMAXCONN=$(in_b cat /proc/sys/net/core/somaxconn)

nacct_b attach "$IF_B" >/dev/null || { t_fail attach "nacct attach $IF_B failed"; exit 1; }
t_events_start "$NS_B" --states --json

ev() { jq -c "select($1)" "$T_TMP/ev"; }
have_strace=0
command -v strace >/dev/null && have_strace=1

# one server: CALL PORT BACKLOG; its checks while it runs, the event checks after
declare -A SPID COMM BACKLOG_SS
serve() {
	local call=$1 port=$2 backlog=$3 go=$T_TMP/go.$1 srv=$T_TMP/srv.$1 st=() sp cp fl
	[ "$have_strace" = 1 ] && st=(strace -f -qq -e trace=accept,accept4 -o "$T_TMP/strace.$call")
	in_b "${st[@]}" python3 "$ACC" server 198.18.0.2 "$port" "$backlog" "$N" "$call" "$go" >"$srv" &
	sp=$!
	for _ in $(seq 100); do grep -q '^ready' "$srv" && break; sleep 0.1; done
	SPID[$call]=$(awk '$1 == "ready" {print $2}' "$srv")
	COMM[$call]=$(cat /proc/"${SPID[$call]}"/comm 2>/dev/null)
	# ss: a listener's Send-Q is the kernel's sk_max_ack_backlog
	BACKLOG_SS[$call]=$(in_b ss -ltnH "sport = :$port" | awk '{print $3}')
	in_a python3 "$ACC" client 198.18.0.2 "$port" "$N" "$go" >"$T_TMP/cli.$call" &
	cp=$!
	for _ in $(seq 100); do [ "$(grep -c '^accepted' "$srv")" = "$N" ] && break; sleep 0.1; done
	# open connections: only accept() can have named the owner so far
	fl=$(nacct_b flows "$IF_B" --json |
		jq -r "select(.proto==\"tcp\" and (.sport==$port or .dport==$port)) | \"\(.pid) \(.comm) \(.state)\"")
	if [ -n "$AT_HANDSHAKE" ]; then
		t_skip "$call: open flows' owner (pid comm state)" "$AT_HANDSHAKE"
	else
		t_check "$call: open flows' owner (pid comm state)" \
			"$(for _ in $(seq "$N"); do echo "${SPID[$call]} ${COMM[$call]} ESTABLISHED"; done | paste -sd,)" \
			"$(paste -sd, <<<"$fl")"
	fi
	touch "$go"
	wait "$cp" "$sp"
}
# where the kernel cannot pin a syscall tracepoint or kprobe link (< 5.15)
# accept events come at the handshake, without the accepting process:
# status says so, and the pid/comm checks skip with its words
AT_HANDSHAKE=$(nacct_b status "$IF_B" --json | jq -r '.side_programs.programs[]? |
	select(.kind == "handshake") | "accept events at the handshake: \(.why)"' | head -n1)
serve accept4 "$PORT" 7
# a backlog above somaxconn: __sys_listen() caps it
serve accept $((PORT + 1)) $((SOMAXCONN + 1000))
sleep 0.5
kill -TERM $EV
wait $EV
t_log "events stderr: $(cat "$T_TMP/ev.err")"

check() {
	local call=$1 port=$2 backlog=$3 want got
	t_log "$call server: pid ${SPID[$call]} comm ${COMM[$call]}, ss Send-Q ${BACKLOG_SS[$call]}"
	want=$((backlog < SOMAXCONN ? backlog : SOMAXCONN))
	t_check "$call: ss backlog = min(listen() argument, somaxconn)" "$want" "${BACKLOG_SS[$call]}"
	got=$(ev ".event==\"listen\" and .sport==$port" | jq -r '"\(.pid) \(.comm) \(.backlog)"')
	t_check "$call: listen line (pid comm backlog)" "${SPID[$call]} ${COMM[$call]} $want" "$got"
	# accept lines: one per connection, the server's pid and comm, the peer
	# ports its accept() returned
	want=$(awk -v p="${SPID[$call]}" -v c="${COMM[$call]}" '$1 == "accepted" {print p, c, $2}' \
		"$T_TMP/srv.$call" | sort | paste -sd,)
	got=$(ev ".event==\"accept\" and .sport==$port" | jq -r '"\(.pid) \(.comm) \(.dport)"' | sort | paste -sd,)
	if [ -n "$AT_HANDSHAKE" ]; then
		t_skip "$call: accept lines (pid comm peer port)" "$AT_HANDSHAKE"
		t_check "$call: accept lines (peer port)" "$(cut -d' ' -f3 <<<"${want//,/$'\n'}" | paste -sd,)" \
			"$(cut -d' ' -f3 <<<"${got//,/$'\n'}" | paste -sd,)"
	else
		t_check "$call: accept lines (pid comm peer port)" "$want" "$got"
	fi
	got=$(ev ".event==\"accept\" and .sport==$port and .latency_us > 0" | wc -l)
	t_check "$call: accept lines with a handshake latency" "$N" "$got"
	if [ "$have_strace" = 1 ]; then
		got=$(grep -cE "^[0-9]+ +$call\(" "$T_TMP/strace.$call")
		t_check "$call: strace saw the server make $call()" "$N" "$got"
	else
		t_skip "$call: strace witness" "no strace"
	fi
}
check accept4 "$PORT" 7
check accept $((PORT + 1)) $((SOMAXCONN + 1000))

nacct_b detach "$IF_B" >/dev/null
exit $T_FAILED
