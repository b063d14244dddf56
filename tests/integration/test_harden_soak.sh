#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Soak: attach/detach over and over with traffic flowing, while one
# long-running nacct serve is scraped: nothing leaks.
# - after every detach: no pins, no clsact, no filter, no XDP program
# - every BPF object id our attachments made (maps, programs, link) is gone
#   from the kernel at the end (others' tests run at the same time: only
#   our own ids are counted)
# - the long-running serve has the same open fds before and after, and
#   its RSS does not grow across the scrapes
# Normal run: 50 cycles (within a time budget: attach costs seconds of
# verifier time on a loaded machine), 300 scrapes; NACCT_SOAK=1: 1000
# cycles, 1000+ scrapes.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/harden_lib.sh"
t_need_root
t_setup_pair || { t_fail setup "cannot create netns/veth"; exit 1; }
UDPSEND=$ROOT/.output/udpsend
if [ "$H_SOAK" = 1 ]; then CYCLES=1000 BUDGET=100000 SCRAPES=1000; else CYCLES=50 BUDGET=60 SCRAPES=200; fi
command -v curl >/dev/null || { t_skip "$(basename "$0")" "curl missing"; exit 0; }

# traffic all along
(while :; do in_a "$UDPSEND" 198.18.0.2 9 200 64 52000 20 >/dev/null 2>&1; sleep 0.02; done) &
gen=$!
t_cleanup_add "kill $gen"

h_bg_b "$NACCT" serve --metrics 127.0.0.1:9470 >"$T_TMP/serve.log" 2>&1
sp=$!
t_cleanup_add "kill $sp"
for _ in $(seq 50); do in_b ss -ltnH | grep -q ':9470' && break; sleep 0.1; done
scrape() { in_b curl -sf http://127.0.0.1:9470/metrics >/dev/null; }
fds() { ls /proc/"$sp"/fd | wc -l; }
rss() { awk '/^VmRSS/{print $2}' /proc/"$sp"/status; }
scrape
fd0=$(fds)

IDS=""
n=0 bad=0 start=$(h_ms)
while [ "$n" -lt "$CYCLES" ] && [ $(($(h_ms) - start)) -lt $((BUDGET * 1000)) ]; do
	n=$((n + 1))
	nacct_b attach "$IF_B" >/dev/null 2>&1 || { bad=1; t_log "attach $n failed"; }
	st=$(nacct_b status "$IF_B" --json 2>/dev/null)
	for p in $(jq -r '.programs | .xdp, .tc_egress' <<<"$st"); do
		IDS+="prog $p"$'\n'
		IDS+=$(bpftool prog show id "$p" -j 2>/dev/null | jq -r '.map_ids[]? | "map \(.)"')$'\n'
	done
	IDS+="link $(jq -r .programs.xdp_link <<<"$st")"$'\n'
	scrape || { bad=1; t_log "scrape $n failed"; }
	nacct_b detach "$IF_B" >/dev/null 2>&1 || { bad=1; t_log "detach $n failed"; }
	s=$(h_state)
	q=$(tc -n "$NS_B" qdisc show dev "$IF_B" | grep -c clsact)
	[ "$s clsact=$q" = "$H_NONE clsact=0" ] || { bad=1; t_log "after cycle $n: $s clsact=$q"; break; }
	scrape
done
t_log "$n attach/detach cycles in $(( ($(h_ms) - start) / 1000 )) s, traffic flowing"
t_check "$n attach/detach cycles: each whole, each leaving nothing" 0 "$bad"

IDS=$(sort -u <<<"$IDS" | grep -v '^$')
left=""
for _ in $(seq 30); do
	left=$(h_alive <<<"$IDS" | tr '\n' ' ')
	[ -z "$left" ] && break
	sleep 0.2 # maps are freed after an RCU grace period
done
t_check "none of the $(grep -c . <<<"$IDS") BPF objects of our attachments is left in the kernel" "" "$left"

# the long-running serve across the cycles and then across many scrapes
# a leak grows the count; one fewer is a scrape connection that was still
# open when fd0 was taken
fd_le() { local f; f=$(fds); if [ "$f" -le "$fd0" ]; then t_ok "$1 ($f <= $fd0)"; else t_fail "$1" "before $fd0, after $f"; fi; }
fd_le "serve: open fds after $n cycles <= before"
for _ in $(seq 50); do scrape; done
r0=$(rss)
for _ in $(seq "$SCRAPES"); do scrape; done
r1=$(rss)
t_log "serve RSS: $r0 kB before, $r1 kB after $SCRAPES scrapes"
if [ $((r1 - r0)) -le 256 ]; then t_ok "serve RSS grows by at most 256 kB over $SCRAPES scrapes ($((r1 - r0)) kB)"; else t_fail "serve RSS" "grew by $((r1 - r0)) kB over $SCRAPES scrapes"; fi
fd_le "serve: open fds after $SCRAPES scrapes <= before"
kill "$sp"
wait "$sp" 2>/dev/null
kill "$gen"
exit $T_FAILED
