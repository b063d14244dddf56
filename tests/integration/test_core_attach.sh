#!/bin/bash
# attach / detach lifecycle, bad input, and coexistence:
# - every bad input is one line on stderr, exit status 2, nothing attached
# - repeated attach/detach leaves no pins, qdiscs, filters or programs
# - a second attach is refused; another XDP program is never replaced
#   without --force; others' TC filters survive our detach
# - --hook tc counts exactly like XDP does; --mode generic is honoured
. "$(dirname "$0")/../lib.sh"
t_need_root
t_setup_pair || { t_fail setup "cannot create netns/veth"; exit 1; }
XPASS=$ROOT/.output/tests/xdp_pass.bpf.o

leftovers() { # what nacct could leave behind on IF_B
	local pins qd filt xdp
	pins=$(ls /sys/fs/bpf/nacct 2>/dev/null | grep -F "$IF_B" | tr '\n' ' ')
	qd=$(tc -n "$NS_B" qdisc show dev "$IF_B" | grep -c clsact)
	filt=$(tc -n "$NS_B" filter show dev "$IF_B" egress | grep -c nacct)
	xdp=$(ip -n "$NS_B" link show "$IF_B" | grep -c 'prog/xdp')
	echo "pins=[$pins] clsact=$qd filters=$filt xdp=$xdp"
}
CLEAN="pins=[] clsact=0 filters=0 xdp=0"

expect_usage() { # name, command... : exit 2, one stderr line, nothing attached
	local name=$1 err rc
	shift
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" = 2 ] && [ "$(printf '%s\n' "$err" | grep -c .)" -ge 1 ] && [[ "$err" == nacct:* ]]; then
		t_ok "$name: exit 2 ($(head -n1 <<<"$err"))"
	else
		t_fail "$name" "rc=$rc" "stderr: $err"
	fi
}

# ---- bad input ----------------------------------------------------------
expect_usage "unknown interface" nacct_b attach nosuchif0
expect_usage "bad CIDR" nacct_b attach "$IF_B" --subnets 10.0.0.0/33
expect_usage "bad CIDR in list" nacct_b attach "$IF_B" --subnets 10.0.0.0/8,banana
printf '10.0.0.0/8\n# comment\n300.1.1.1/24\n' >"$T_TMP/subnets.txt"
expect_usage "bad CIDR in @FILE" nacct_b attach "$IF_B" --subnets "@$T_TMP/subnets.txt"
expect_usage "missing @FILE" nacct_b attach "$IF_B" --subnets "@$T_TMP/nope.txt"
expect_usage "bad --mode" nacct_b attach "$IF_B" --mode turbo
expect_usage "bad --hook" nacct_b attach "$IF_B" --hook nfqueue
expect_usage "bad --max-flows" nacct_b attach "$IF_B" --max-flows -5
expect_usage "--max-flows not a number" nacct_b attach "$IF_B" --max-flows lots
expect_usage "unknown option" nacct_b attach "$IF_B" --frobnicate
expect_usage "missing interface" nacct_b attach
expect_usage "unknown command" nacct_b frobnicate
expect_usage "status of a detached interface" nacct_b status "$IF_B"
expect_usage "flows of a detached interface" nacct_b flows "$IF_B"
expect_usage "detach of a detached interface" nacct_b detach "$IF_B"
expect_usage "subnets: bad interval" nacct_b subnets "$IF_B" -3
t_check "nothing attached after bad input" "$CLEAN" "$(leftovers)"

# not root: clear error, exit 2
if command -v setpriv >/dev/null; then
	expect_usage "unprivileged user" in_b setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all "$NACCT" attach "$IF_B"
	t_check "nothing attached by an unprivileged user" "$CLEAN" "$(leftovers)"
else
	t_skip "unprivileged user" "setpriv missing"
fi

# bpffs missing and not mountable (private mount namespace: /sys/fs is a
# read-only tmpfs there, so /sys/fs/bpf does not exist)
err=$(unshare -m sh -c "mount -t tmpfs -o ro none /sys/fs && exec nsenter --net=/run/netns/$NS_B $NACCT attach $IF_B" 2>&1)
rc=$?
if [ "$rc" = 2 ] && [[ "$err" == *bpffs* ]]; then t_ok "bpffs not mountable: exit 2 ($err)"; else t_fail "bpffs not mountable" "rc=$rc" "$err"; fi
t_check "nothing attached without bpffs" "$CLEAN" "$(leftovers)"

# ---- lifecycle ----------------------------------------------------------
bad=0
for i in $(seq 20); do
	out=$(nacct_b attach "$IF_B" 2>&1) || { bad=1; t_log "attach $i failed: $out"; }
	out=$(nacct_b detach "$IF_B" 2>&1) || { bad=1; t_log "detach $i failed: $out"; }
	[ "$(leftovers)" = "$CLEAN" ] || { bad=1; t_log "after cycle $i: $(leftovers)"; break; }
done
t_check "20 attach/detach cycles: all succeed, nothing left" 0 "$bad"
# the maps of one attachment are gone from the kernel after detach
nacct_b attach "$IF_B" >/dev/null
ids=$(for m in /sys/fs/bpf/nacct/"$IF_B"*/nacct_*; do bpftool map show pinned "$m" | awk -F: 'NR==1{print $1}'; done | sort -n | tr '\n' ' ')
nacct_b detach "$IF_B" >/dev/null
sleep 1 # maps are freed after an RCU grace period
alive=""
for id in $ids; do bpftool map show id "$id" >/dev/null 2>&1 && alive="$alive $id"; done
t_check "no map of a detached attachment left in the kernel" "" "$alive"

nacct_b attach "$IF_B" >/dev/null
expect_usage "second attach refused" nacct_b attach "$IF_B"
t_check "pins are 0600" "600" "$(stat -c %a /sys/fs/bpf/nacct/"$IF_B"*/nacct_flows)"
t_check "pin directory is 0700" "700" "$(stat -c %a -- /sys/fs/bpf/nacct/"$IF_B"*)"
nacct_b detach "$IF_B" >/dev/null

# ---- coexistence ---------------------------------------------------------
ip -n "$NS_B" link set dev "$IF_B" xdpgeneric obj "$XPASS" sec xdp 2>/dev/null
other=$(ip -n "$NS_B" link show "$IF_B" | grep -o 'prog/xdp id [0-9]*')
if [ -n "$other" ]; then
	expect_usage "foreign XDP program not replaced" nacct_b attach "$IF_B"
	t_check "foreign XDP program still there" "$other" "$(ip -n "$NS_B" link show "$IF_B" | grep -o 'prog/xdp id [0-9]*')"
	out=$(nacct_b attach "$IF_B" --force 2>&1)
	rc=$?
	t_check "--force replaces it" 0 "$rc"
	[ "$rc" = 0 ] || t_log "$out"
	t_check "now nacct's program" 1 "$(ip -n "$NS_B" link show "$IF_B" | grep -c 'name nacct_xdp')"
	nacct_b detach "$IF_B" >/dev/null
else
	t_skip "foreign XDP program" "ip could not load $XPASS"
fi

# someone else's clsact + filter: ours is added beside it and removed alone
tc -n "$NS_B" qdisc add dev "$IF_B" clsact
tc -n "$NS_B" filter add dev "$IF_B" egress prio 1 handle 1 bpf da obj "$XPASS" sec tc 2>/dev/null
nacct_b attach "$IF_B" >/dev/null
prio=$(nacct_b status "$IF_B" --json | jq -r .programs.tc_priority)
if [ "$prio" != 1 ]; then t_ok "nacct took a free TC priority ($prio)"; else t_fail "nacct TC priority" "took the occupied prio 1"; fi
nacct_b detach "$IF_B" >/dev/null
t_check "the other filter survives our detach" 1 "$(tc -n "$NS_B" filter show dev "$IF_B" egress | grep -c other_tc)"
t_check "the other's clsact survives" 1 "$(tc -n "$NS_B" qdisc show dev "$IF_B" | grep -c clsact)"
tc -n "$NS_B" qdisc del dev "$IF_B" clsact

# ---- --hook tc and --mode generic count exactly --------------------------
for variant in "--hook tc" "--mode generic"; do
	# shellcheck disable=SC2086
	nacct_b attach "$IF_B" $variant >/dev/null
	st=$(nacct_b status "$IF_B" --json)
	k0=$(t_ifstat "$NS_B" "$IF_B" rx_packets)
	ip netns exec "$NS_A" ping -q -c 25 -i 0.01 198.18.0.2 >/dev/null
	u=$(ip netns exec "$NS_A" "$ROOT/.output/udpsend" 198.18.0.2 9 150 100 41000 30)
	sleep 0.3
	k1=$(t_ifstat "$NS_B" "$IF_B" rx_packets)
	st2=$(nacct_b status "$IF_B" --json)
	t_check "$variant: rx packets = kernel rx_packets" $((k1 - k0)) \
		$(($(jq .totals.rx_packets <<<"$st2") - $(jq .totals.rx_packets <<<"$st")))
	t_check "$variant: 30 UDP flows of 5 packets" 30 \
		"$(nacct_b flows "$IF_B" --json | jq -rs 'map(select(.proto=="udp" and .dport==9 and .rx_packets==5)) | length')"
	case $variant in
	*tc*) t_check "--hook tc: no XDP program" 0 "$(ip -n "$NS_B" link show "$IF_B" | grep -c prog/xdp)"
	      t_check "--hook tc: hook reported" tc "$(jq -r .hook <<<"$st")" ;;
	*) t_check "--mode generic reported" generic "$(jq -r .mode <<<"$st")"
	   t_check "--mode generic is xdpgeneric" 1 "$(ip -n "$NS_B" link show "$IF_B" | grep -c xdpgeneric)" ;;
	esac
	nacct_b detach "$IF_B" >/dev/null
	t_check "$variant: detach leaves nothing" "$CLEAN" "$(leftovers)"
done

# --side-programs off: the data path alone; the default loads the host's
# side programs (only checkable when no other attachment holds them)
if [ -e /sys/fs/bpf/nacct/:probes ]; then
	t_skip "--side-programs off" "another attachment on this host holds the side programs"
else
	nacct_b attach "$IF_B" --side-programs off >/dev/null
	t_check "--side-programs off: attached, no side programs loaded" "0 absent" \
		"$? $([ -e /sys/fs/bpf/nacct/:probes ] && echo present || echo absent)"
	nacct_b detach "$IF_B" >/dev/null
	nacct_b attach "$IF_B" >/dev/null
	t_check "default: the side programs are loaded" "0 present" \
		"$? $([ -e /sys/fs/bpf/nacct/:probes ] && echo present || echo absent)"
	nacct_b detach "$IF_B" >/dev/null
	t_check "... and the last detach takes them" absent \
		"$([ -e /sys/fs/bpf/nacct/:probes ] && echo present || echo absent)"
fi
nacct_b attach "$IF_B" --side-programs maybe >/dev/null 2>&1
t_check "--side-programs with a bad value: exit status 2" 2 $?
exit $T_FAILED
