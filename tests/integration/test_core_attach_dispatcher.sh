#!/bin/bash
# Beside another XDP program (issue 16): xdp-filter (xdp-tools) loaded on
# B's veth first, then nacct.
# - where the kernel refuses freplace (the build host: EPERM), libxdp
#   loads xdp-filter without its dispatcher; `nacct attach --multi` is
#   refused with exit 2 and a message naming freplace and the other
#   program, plain `attach` keeps today's refusal, --multi on an empty
#   interface is refused too; the other program stays, nothing of nacct's
#   is left (pins, TC filters, programs)
# - where the kernel allows it (the qemu guests run this in core-tests),
#   `nacct attach` joins xdp-filter's dispatcher (auto, said so), both count
#   every datagram (nacct rx = udpsend = kernel rx_packets = xdp-filter's
#   XDP_PASS counter), and detach leaves xdp-filter running
. "$(dirname "$0")/../lib.sh"
t_need_root
command -v xdp-filter >/dev/null || { t_skip "dispatcher" "xdp-filter (xdp-tools) not installed"; exit 0; }
t_setup_pair || { t_fail setup "cannot create netns/veth"; exit 1; }
UDPSEND=$ROOT/.output/udpsend

leftovers() { # what nacct could leave behind on IF (in NS)
	local ns=$1 ifc=$2 pins qd filt progs
	pins=$(ls /sys/fs/bpf/nacct 2>/dev/null | grep -F "$ifc" | tr '\n' ' ')
	qd=$(tc -n "$ns" qdisc show dev "$ifc" | grep -c clsact)
	filt=$(tc -n "$ns" filter show dev "$ifc" egress | grep -c nacct)
	progs=$(nsenter --net=/run/netns/"$ns" xdp-loader status "$ifc" 2>/dev/null | grep -c nacct_xdp)
	echo "pins=[$pins] clsact=$qd filters=$filt nacct_in_hook=$progs"
}
CLEAN="pins=[] clsact=0 filters=0 nacct_in_hook=0"
xdp_id() { ip -n "$1" -d link show "$2" | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p' | head -n1; }
# xdp-filter's own XDP_PASS packet counter (its stats map, for all interfaces)
filter_pass() { in_b xdp-filter status | awk '$1 == "XDP_PASS" { print $2 }'; }

out=$(in_b xdp-filter load -m skb "$IF_B" 2>&1)
rc=$?
t_check "xdp-filter load -m skb (exit status)" 0 "$rc"
[ "$rc" = 0 ] || { t_log "$out"; exit 1; }
t_cleanup_add "in_b xdp-filter unload $IF_B"
other=$(xdp_id "$NS_B" "$IF_B")
dispatched=$(in_b xdp-loader status "$IF_B" | grep -c xdp_dispatcher)
before=$(bpftool prog show 2>/dev/null | grep -c 'name nacct_xdp')

if [ "$dispatched" = 0 ]; then
	# ---- freplace refused: xdp-filter runs alone, nacct cannot join ----
	t_log "libxdp loaded xdp-filter without a dispatcher (program id $other): freplace refused here"
	err=$(nacct_b attach "$IF_B" --multi 2>&1 >/dev/null)
	rc=$?
	t_check "--multi beside a lone program: exit 2" 2 "$rc"
	if [[ "$err" == nacct:*"id $other ('xdpfilt_"*freplace* ]] && [ "$(grep -c . <<<"$err")" = 1 ]; then
		t_ok "--multi: one line naming freplace and the other program ($err)"
	else
		t_fail "--multi: the message" "$err"
	fi
	t_check "--multi: the other program untouched" "$other" "$(xdp_id "$NS_B" "$IF_B")"
	t_check "--multi: nothing of nacct's left" "$CLEAN" "$(leftovers "$NS_B" "$IF_B")"

	err=$(nacct_b attach "$IF_B" 2>&1 >/dev/null)
	rc=$?
	t_check "attach without --multi: exit 2" 2 "$rc"
	if [[ "$err" == *"already has an XDP program id $other, name 'xdpfilt_"*"without --force"* ]]; then
		t_ok "attach without --multi: today's refusal ($err)"
	else
		t_fail "attach without --multi: the message" "$err"
	fi
	t_check "attach: the other program untouched" "$other" "$(xdp_id "$NS_B" "$IF_B")"
	t_check "attach: nothing of nacct's left" "$CLEAN" "$(leftovers "$NS_B" "$IF_B")"

	err=$(nacct_a attach "$IF_A" --multi 2>&1 >/dev/null)
	rc=$?
	t_check "--multi on an empty interface: exit 2" 2 "$rc"
	[[ "$err" == nacct:*freplace* ]] && t_ok "--multi on an empty interface: says why ($err)" ||
		t_fail "--multi on an empty interface: the message" "$err"
	t_check "--multi on an empty interface: no XDP program left" "" "$(xdp_id "$NS_A" "$IF_A")"
	t_check "--multi on an empty interface: nothing of nacct's left" "$CLEAN" \
		"$(leftovers "$NS_A" "$IF_A")"
	t_check "no nacct XDP program loaded by the refused attaches" "$before" \
		"$(bpftool prog show 2>/dev/null | grep -c 'name nacct_xdp')"
	in_b xdp-filter status >/dev/null 2>&1 && t_ok "xdp-filter status still answers" ||
		t_fail "xdp-filter status after the refusals"
	exit $T_FAILED
fi

# ---- freplace allowed: nacct joins xdp-filter's dispatcher ----------------
out=$(nacct_b attach "$IF_B" 2>&1)
rc=$?
t_check "attach beside xdp-filter (auto): exit status" 0 "$rc"
[ "$rc" = 0 ] || { t_log "$out"; exit 1; }
[[ "$out" == *"auto: joined libxdp dispatcher (other programs: xdpfilt_"* ]] &&
	t_ok "attach says it joined the dispatcher ($(grep mode: <<<"$out"))" ||
	t_fail "attach message" "$out"
st=$(nacct_b status "$IF_B")
[[ "$st" == *dispatcher*xdpfilt_* ]] && t_ok "status: dispatcher, beside xdpfilt" ||
	t_fail "status: dispatcher" "$st"
sleep 0.5
ip netns exec "$NS_B" ncat -l -u 198.18.0.2 5001 >/dev/null &
t_cleanup_add "kill $!"
sleep 0.3
s0=$(nacct_b status "$IF_B" --json | jq .totals.rx_packets)
k0=$(t_ifstat "$NS_B" "$IF_B" rx_packets)
f0=$(filter_pass)
sent=$(ip netns exec "$NS_A" "$UDPSEND" 198.18.0.2 5001 300 200 40001)
sleep 0.5
s1=$(nacct_b status "$IF_B" --json | jq .totals.rx_packets)
k1=$(t_ifstat "$NS_B" "$IF_B" rx_packets)
f1=$(filter_pass)
t_check "udpsend sent" 300 "$sent"
t_check "nacct rx = kernel rx_packets" $((k1 - k0)) $((s1 - s0))
t_check "xdp-filter's XDP_PASS = kernel rx_packets" $((k1 - k0)) $((f1 - f0))
t_check "nacct rx >= datagrams sent" 1 $(((s1 - s0) >= sent))
out=$(nacct_b detach "$IF_B" 2>&1)
rc=$?
t_check "detach: exit status" 0 "$rc"
[ "$rc" = 0 ] || t_log "$out"
in_b xdp-loader status "$IF_B" | grep -q xdpfilt_ && t_ok "detach: xdp-filter still attached" ||
	t_fail "detach: xdp-filter gone" "$(in_b xdp-loader status "$IF_B")"
t_check "detach: nothing of nacct's left" "$CLEAN" "$(leftovers "$NS_B" "$IF_B")"
exit $T_FAILED
