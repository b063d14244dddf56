#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# nacct top: the full-screen view driven in tmux (send-keys, capture-pane)
# and the plain / JSON output when stdout is not a terminal.  Witnesses:
# udpsend's own count (exact totals) and its measured send rate (rates,
# within a broad bound: never failing on timing jitter).
source "$(dirname "$0")/../lib.sh"
t_need_root
for tool in tmux jq; do
	command -v $tool >/dev/null || { t_skip top "$tool not installed (scripts/deps.sh test)"; exit 0; }
done
UDPSEND=$ROOT/.output/udpsend
[ -x "$UDPSEND" ] || { t_skip top "no .output/udpsend (make .output/udpsend)"; exit 0; }
t_setup_pair || { t_fail setup "cannot create netns/veth"; exit 1; }
nacct_b attach "$IF_B" --subnets 198.18.0.0/24 >/dev/null 2>"$T_TMP/attach.err" ||
	{ t_fail attach "$(cat "$T_TMP/attach.err")"; exit 1; }

# ---- plain output: -n 3 refreshes into a file, traffic before it starts ---
N1=300
sent=$(in_a "$UDPSEND" 198.18.0.2 9001 $N1 100 41000)
t_check "udpsend sent all" "$N1" "$sent"
nacct_b top "$IF_B" -i 1 -n 3 >"$T_TMP/plain" 2>"$T_TMP/plain.err"
rc=$?
t_check "top -n 3 > file: exit status" 0 "$rc"
blocks=$(grep -c '^[0-9T:.Z-]*  nacct top  by flows' "$T_TMP/plain")
t_check "top -n 3 > file: 3 refreshes" 3 "$blocks"
# every block: stamp line, TOTAL line, header, rows with the header's columns
bad=$(awk '
	/  nacct top  by / { state = 1; next }
	state == 1 { if ($1 != "TOTAL") { print "no TOTAL: " $0 }; state = 2; next }
	state == 2 { nh = NF; if ($1 != "IFACE" || $0 !~ / PACKETS +BYTES/) print "bad header: " $0; state = 3; next }
	state == 3 && NF == 0 { state = 0; next }
	state == 3 && NF != nh { print "bad row (" NF " fields, header " nh "): " $0 }
' "$T_TMP/plain")
if [ -z "$bad" ]; then t_ok "plain output parses (aligned columns)"; else t_fail "plain output parses" "$bad"; fi
# a column of the last block's row for the flow, by header name
plain_col() { # column-name
	awk -v want="$1" '
		/  nacct top  by / { blk++; next }
		blk == 3 && $1 == "IFACE" { for (i = 1; i <= NF; i++) col[$i] = i; next }
		blk == 3 && $2 == "udp" && $3 == "198.18.0.1:41000" && $4 == "198.18.0.2:9001" { print $col[want] }
	' "$T_TMP/plain"
}
# the last block: the flow's cumulative packets = what udpsend sent, rate 0
t_check "plain: flow PACKETS = udpsend count" "$N1" "$(plain_col PACKETS)"
t_check "plain: flow BYTES in human units (300 x 142 B)" "42.6k" "$(plain_col BYTES)"
# no traffic during the run: the rates are exactly 0
t_check "plain: idle flow shows rate 0" "0 0 0 0" \
	"$(plain_col RX_b/s) $(plain_col TX_b/s) $(plain_col RX_p/s) $(plain_col TX_p/s)"

# ---- JSON: per-interval deltas add up exactly ------------------------------
N2=400
nacct_b top "$IF_B" -i 1 -n 4 --json >"$T_TMP/json" 2>&1 &
top_pid=$!
sleep 1.3
sent=$(in_a "$UDPSEND" 198.18.0.2 9002 $N2 200 42000)
wait $top_pid
t_check "top --json: exit status" 0 "$?"
if jq -e . "$T_TMP/json" >/dev/null 2>&1; then t_ok "top --json: every line is JSON"; else
	t_fail "top --json: every line is JSON" "$(head -5 "$T_TMP/json")"; fi
t_check "top --json: 4 total objects" 4 "$(jq -s '[.[] | select(.type == "total")] | length' "$T_TMP/json")"
flow='select(.type == "row" and .src == "198.18.0.1:42000" and .dst == "198.18.0.2:9002")'
t_check "top --json: last refresh, flow packets = udpsend count" "$sent" \
	"$(jq -s "[.[] | $flow] | last | .packets" "$T_TMP/json")"
# the flow did not exist at the first read: the interval deltas sum to its total
t_check "top --json: sum of interval packets = total" "$sent" \
	"$(jq -s "[.[] | $flow | .interval_packets] | add" "$T_TMP/json")"
# rate * measured interval = the interval's packets (to rounding)
bad=$(jq -r "$flow | select(((.rx_pps * .interval) - .interval_packets | fabs) > 1) | \"\\(.rx_pps) * \\(.interval) != \\(.interval_packets)\"" "$T_TMP/json")
if [ -z "$bad" ]; then t_ok "top --json: pps x interval = interval packets"; else t_fail "top --json: pps x interval" "$bad"; fi
t_check "top --json: frame bytes (200 B payload + 42)" $((sent * 242)) \
	"$(jq -s "[.[] | $flow] | last | .bytes" "$T_TMP/json")"

# ---- full screen in tmux ---------------------------------------------------
S="${T_ID}t1"
export TERM=xterm-256color
tmux -L "$S" new-session -d -s "$S" -x 170 -y 30 \
	"nsenter --net=/run/netns/$NS_B $NACCT top $IF_B -i 1; echo EXIT=\$?; stty -a | tr ' ;' '\n\n' | grep -x -- '-\?icanon\|-\?echo'; sleep 60" ||
	{ t_fail tmux "cannot start tmux"; exit 1; }
t_cleanup_add "tmux -L $S kill-server"
cap() { tmux -L "$S" capture-pane -p -t "$S" "$@"; }
wait_screen() { # pattern, tries of 0.2 s
	local i
	for ((i = 0; i < ${2:-50}; i++)); do cap | grep -q -- "$1" && return 0; sleep 0.2; done
	return 1
}
wait_screen 'TOTAL' || t_fail "tmux: top starts" "$(cap)"

# paced traffic: chunks of 50 packets every 0.1 s for ~4 s, one flow
N3=0 start=$(date +%s.%N)
for i in $(seq 40); do
	n=$(in_a "$UDPSEND" 198.18.0.2 9003 50 300 43000) && N3=$((N3 + n))
	sleep 0.1
	if [ "$i" = 30 ]; then cap >"$T_TMP/screen_live"; fi
done
elapsed=$(echo "$(date +%s.%N) - $start" | bc -l 2>/dev/null || python3 -c "print($(date +%s.%N) - $start)")
t_log "sent $N3 packets in ${elapsed}s"
line=$(grep -E '^udp +198\.18\.0\.1:43000 +198\.18\.0\.2:9003 ' "$T_TMP/screen_live")
if [ -n "$line" ]; then
	t_ok "tmux: the flow line appears while traffic runs"
	# RX p/s column (4th number from the end: RX b/s TX b/s RX p/s TX p/s PACKETS BYTES [DROPS RETRANS])
	pps=$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /:9003$/) { print $(i + 3); exit } }' <<<"$line")
	want=$(python3 -c "print(round($N3 / $elapsed))")
	# human units: 1.2k -> 1200
	pps_n=$(python3 -c "s='$pps'; m={'k':1e3,'M':1e6}; print(float(s[:-1])*m[s[-1]] if s[-1] in m else float(s))")
	if python3 -c "import sys; sys.exit(0 if $want / 4 <= $pps_n <= $want * 4 else 1)"; then
		t_ok "tmux: live RX p/s $pps within 4x of the sent rate ${want}/s"
	else
		t_fail "tmux: live RX p/s" "shown $pps, sent rate $want/s" "$line"
	fi
else
	t_fail "tmux: the flow line appears while traffic runs" "$(cat "$T_TMP/screen_live")"
fi
# after the traffic: two refreshes later the flow's PACKETS is exact
sleep 2.5
line=$(cap | grep -E '^udp +198\.18\.0\.1:43000 +198\.18\.0\.2:9003 ')
t_check "tmux: flow PACKETS = udpsend count" "$N3" \
	"$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /:9003$/) { print $(i + 5); exit } }' <<<"$line")"
cap >"$T_TMP/screen_final"

# keys
tmux -L "$S" send-keys -t "$S" s
if wait_screen 'sort pps' 15; then t_ok "tmux: s cycles the sort key"; else t_fail "tmux: s" "$(cap | head -3)"; fi
tmux -L "$S" send-keys -t "$S" b
if wait_screen 'by subnets' 15 && cap | grep -q '^198\.18\.0\.0/24 '; then
	t_ok "tmux: b switches to subnets"
else
	t_fail "tmux: b switches to subnets" "$(cap | head -8)"
fi
sub=$(cap | awk '$1 == "198.18.0.0/24" { print $6 }')
flows_sum=$(nacct_b flows "$IF_B" --json | jq -s '[.[] | select(.src | startswith("198.18.0.")) | select(.dst | startswith("198.18.0.")) | .packets] | add')
t_check "tmux: subnet PACKETS = sum of its flows (nacct flows)" "$flows_sum" "$sub"
tmux -L "$S" send-keys -t "$S" b
wait_screen 'by ports' 15 && cap | grep -qE '^udp +9003 ' && t_ok "tmux: b again: ports" || t_fail "tmux: ports view" "$(cap | head -8)"
tmux -L "$S" send-keys -t "$S" p
if wait_screen 'PAUSED' 15; then t_ok "tmux: p pauses"; else t_fail "tmux: p pauses" "$(cap | head -2)"; fi
tmux -L "$S" send-keys -t "$S" q
if wait_screen 'EXIT=0' 25; then t_ok "tmux: q quits with status 0"; else t_fail "tmux: q quits" "$(cap)"; fi
wait_screen '^-\?echo$' 25 # stty runs after the EXIT line
t_check "tmux: terminal restored after q (icanon echo)" "icanon echo" "$(cap | grep -x -- '-\?icanon\|-\?echo' | tr '\n' ' ' | sed 's/ $//')"
tmux -L "$S" kill-server 2>/dev/null

S="${T_ID}t2" # a new tmux server each time: kill-server + new-session races
t_cleanup_add "tmux -L $S kill-server"
# SIGINT (Ctrl-C) restores the terminal too; NO_COLOR: no colour escapes
tmux -L "$S" new-session -d -s "$S" -x 170 -y 30 \
	"NO_COLOR=1 nsenter --net=/run/netns/$NS_B $NACCT top $IF_B -i 1; echo EXIT=\$?; stty -a | tr ' ;' '\n\n' | grep -x -- '-\?icanon\|-\?echo'; sleep 60"
wait_screen 'TOTAL' && sleep 1.2
if tmux -L "$S" capture-pane -e -p -t "$S" | grep -q $'\e\[3[0-7]m\|\e\[38;5;\|\e\[4[0-7]m'; then
	t_fail "tmux: NO_COLOR: no colour" "$(tmux -L "$S" capture-pane -e -p -t "$S" | head -3 | cat -v)"
else
	t_ok "tmux: NO_COLOR: no colour escapes"
fi
tmux -L "$S" send-keys -t "$S" C-c
if wait_screen 'EXIT=0' 25; then t_ok "tmux: Ctrl-C ends with status 0"; else t_fail "tmux: Ctrl-C" "$(cap)"; fi
wait_screen '^-\?echo$' 25 # stty runs after the EXIT line
t_check "tmux: terminal restored after Ctrl-C" "icanon echo" "$(cap | grep -x -- '-\?icanon\|-\?echo' | tr '\n' ' ' | sed 's/ $//')"
tmux -L "$S" kill-server 2>/dev/null

S="${T_ID}t3"
t_cleanup_add "tmux -L $S kill-server"
# with colour allowed the rates are coloured
tmux -L "$S" new-session -d -s "$S" -x 170 -y 30 "env -u NO_COLOR nsenter --net=/run/netns/$NS_B $NACCT top $IF_B -i 1; sleep 60"
wait_screen 'TOTAL' && sleep 0.3
if tmux -L "$S" capture-pane -e -p -t "$S" | grep -q $'\e\[3[0-7]m\|\e\[38;5;\|\e\[4[0-7]m\|\e\[3[0-7];4[0-7]m'; then
	t_ok "tmux: colour on a terminal without NO_COLOR"
else
	t_fail "tmux: colour on a terminal" "$(tmux -L "$S" capture-pane -e -p -t "$S" | head -2 | cat -v)"
fi
tmux -L "$S" kill-server 2>/dev/null

# bad input: one line, status 2
out=$(nacct_b top "$IF_B" --by nonsense 2>&1); rc=$?
t_check "top --by nonsense: status 2" 2 "$rc"
out=$(nacct_b top "${T_ID}none" -n 1 2>&1); rc=$?
t_check "top on an interface that is not attached: status 2" 2 "$rc"

t_log "screen during traffic:"
sed 's/^/#   /' "$T_TMP/screen_live" | sed '/^#   *$/d'
exit $T_FAILED
