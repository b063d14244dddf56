#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Coexistence:
# - a program loaded by xdp-loader (libxdp; its multi-program dispatcher
#   needs freplace, which this kernel may refuse, and then libxdp attaches
#   the program alone) is never replaced without --force; nacct says whose
#   it is (in a dispatcher, where freplace works, nacct joins it and leaves
#   it running); --hook tc then counts beside it, exactly, and leaves it alone
# - two interfaces attached at once are independent: traffic on one and
#   the detach of one do not touch the other's counts or pins
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/harden_lib.sh"
t_need_root
t_setup_pair || { t_fail setup "cannot create netns/veth"; exit 1; }
XPASS=$ROOT/.output/tests/xdp_pass.bpf.o
UDPSEND=$ROOT/.output/udpsend

# ---- xdp-loader ---------------------------------------------------------
# the component programs of the dispatcher on IF_B, as xdp-loader lists them
components() { in_b xdp-loader status "$IF_B" 2>/dev/null | awk '$1 == "=>" { print $3 }' | paste -sd' '; }
if command -v xdp-loader >/dev/null && [ -e "$XPASS" ]; then
	out=$(in_b xdp-loader load "$IF_B" "$XPASS" 2>&1)
	rc=$?
	[ "$rc" = 0 ] || out=$(in_b xdp-loader load -m skb "$IF_B" "$XPASS" 2>&1)
	st0=$(in_b xdp-loader status "$IF_B" 2>&1 | grep -E "^$IF_B|^ +=>|xdp_dispatcher|other_xdp")
	other=$(ip -n "$NS_B" link show "$IF_B" | grep -o 'prog/xdp id [0-9]* name [a-z_]*')
	if [ -n "$other" ]; then
		t_log "xdp-loader: $(tr '\n' ' ' <<<"$st0")"
		case $st0 in *xdp_dispatcher*) t_log "libxdp dispatcher loaded" ;; *) t_log "libxdp fell back to a single program (no dispatcher here)" ;; esac
		case $st0 in
		*xdp_dispatcher*)
			# freplace works here: nacct joins the dispatcher beside the
			# program (test_core_attach_dispatcher), it replaces nothing
			comp0=$(components)
			out=$(nacct_b attach "$IF_B" 2>&1)
			rc=$?
			if [ "$rc" = 0 ] && [[ "$out" == *"auto: joined libxdp dispatcher (other programs: $comp0 id "* ]]; then
				t_ok "xdp-loader's dispatcher joined, not replaced: $(grep mode: <<<"$out")"
			else
				t_fail "xdp-loader's dispatcher joined" "rc=$rc" "$out"
			fi
			nacct_b detach "$IF_B" >/dev/null
			t_check "xdp-loader's program still in its dispatcher" "$comp0" "$(components)"
			# detach re-made the dispatcher without nacct: a new program id
			other=$(ip -n "$NS_B" link show "$IF_B" | grep -o 'prog/xdp id [0-9]* name [a-z_]*')
			;;
		*)
			err=$(nacct_b attach "$IF_B" 2>&1 >/dev/null)
			rc=$?
			name=$(awk '{print $NF}' <<<"$other")
			if [ "$rc" = 2 ] && [[ "$err" == *"'$name'"* ]] && [[ "$err" == *--force* ]]; then
				t_ok "xdp-loader's program not replaced: $err"
			else
				t_fail "xdp-loader's program not replaced" "rc=$rc" "$err"
			fi
			t_check "xdp-loader's program still attached" "$other" "$(ip -n "$NS_B" link show "$IF_B" | grep -o 'prog/xdp id [0-9]* name [a-z_]*')"
			;;
		esac
		t_check "nothing of nacct left by the refused (or detached) attach" "$H_NONE" "$(h_state)"
		# beside it: TC ingress
		out=$(nacct_b attach "$IF_B" --hook tc 2>&1)
		t_check "--hook tc attaches beside xdp-loader's program" 0 "$?"
		k0=$(t_ifstat "$NS_B" "$IF_B" rx_packets)
		r0=$(h_rx)
		n=$(in_a "$UDPSEND" 198.18.0.2 9 700 64 47000 7)
		sleep 0.3
		t_check "--hook tc beside it: nacct rx = generator" "$n" $(($(h_rx) - r0))
		t_check "--hook tc beside it: nacct rx = kernel" $(($(t_ifstat "$NS_B" "$IF_B" rx_packets) - k0)) $(($(h_rx) - r0))
		nacct_b detach "$IF_B" >/dev/null
		t_check "xdp-loader's program survives our detach" "$other" "$(ip -n "$NS_B" link show "$IF_B" | grep -o 'prog/xdp id [0-9]* name [a-z_]*')"
		in_b xdp-loader unload -a "$IF_B" >/dev/null 2>&1 || ip -n "$NS_B" link set dev "$IF_B" xdp off
	else
		t_skip "xdp-loader coexistence" "xdp-loader could not load $XPASS: $out"
	fi
else
	t_skip "xdp-loader coexistence" "xdp-loader or $XPASS missing"
fi

# ---- two interfaces ------------------------------------------------------
IF_A1="${T_ID}a1" IF_B1="${T_ID}b1"
ip link add "$IF_A1" netns "$NS_A" type veth peer name "$IF_B1" netns "$NS_B" || { t_fail "second veth pair"; exit 1; }
# no IPv6 chatter (MLD, RS) and no ARP on the second pair: only our packets
ip netns exec "$NS_A" sysctl -qw "net.ipv6.conf.$IF_A1.disable_ipv6=1"
ip netns exec "$NS_B" sysctl -qw "net.ipv6.conf.$IF_B1.disable_ipv6=1"
ip -n "$NS_A" addr add 198.18.1.1/24 dev "$IF_A1"
ip -n "$NS_B" addr add 198.18.1.2/24 dev "$IF_B1"
ip -n "$NS_A" link set "$IF_A1" up
ip -n "$NS_B" link set "$IF_B1" up
ip -n "$NS_A" neigh add 198.18.1.2 lladdr "$(ip -n "$NS_B" -br link show "$IF_B1" | awk '{print $3}')" dev "$IF_A1" nud permanent
ip -n "$NS_B" neigh add 198.18.1.1 lladdr "$(ip -n "$NS_A" -br link show "$IF_A1" | awk '{print $3}')" dev "$IF_B1" nud permanent
t_cleanup_add "in_b $NACCT detach $IF_B1"

nacct_b attach "$IF_B" >/dev/null || t_fail "attach $IF_B"
nacct_b attach "$IF_B1" --hook tc >/dev/null || t_fail "attach $IF_B1"
t_check "both whole" "$H_FULL / dir=1 tmp=0 xdp=0 filters=2" "$(h_state "$IF_B") / $(h_state "$IF_B1")"
ids1=$(h_pinned_ids "/sys/fs/bpf/nacct/$IF_B1:ns*/*" | sort | tr '\n' ' ')
r0=$(h_rx "$IF_B") q0=$(h_rx "$IF_B1")
k0=$(t_ifstat "$NS_B" "$IF_B" rx_packets) j0=$(t_ifstat "$NS_B" "$IF_B1" rx_packets)
n=$(in_a "$UDPSEND" 198.18.0.2 9 1000 64 48000 10)
m=$(in_a "$UDPSEND" 198.18.1.2 9 300 64 49000 3)
sleep 0.3
t_check "$IF_B counts its own traffic only" "$n" $(($(h_rx "$IF_B") - r0))
t_check "$IF_B1 counts its own traffic only" "$m" $(($(h_rx "$IF_B1") - q0))
t_check "$IF_B = kernel" $(($(t_ifstat "$NS_B" "$IF_B" rx_packets) - k0)) $(($(h_rx "$IF_B") - r0))
t_check "$IF_B1 = kernel" $(($(t_ifstat "$NS_B" "$IF_B1" rx_packets) - j0)) $(($(h_rx "$IF_B1") - q0))
t_check "no flow of $IF_B's subnet on $IF_B1" 0 "$(nacct_b flows "$IF_B1" --json | jq -rs 'map(select(.src=="198.18.0.1" or .dst=="198.18.0.1" or .src_addr=="198.18.0.1")) | length')"

# detach one while the other counts
q0=$(h_rx "$IF_B1") j0=$(t_ifstat "$NS_B" "$IF_B1" rx_packets)
in_a "$UDPSEND" 198.18.1.2 9 3000 64 50000 3 >"$T_TMP/m2" &
g=$!
nacct_b detach "$IF_B" >/dev/null
wait $g
m2=$(cat "$T_TMP/m2")
sleep 0.3
t_check "$IF_B detached: nothing left on it" "$H_NONE" "$(h_state "$IF_B")"
t_check "$IF_B1 unaffected by the other's detach: rx = generator" "$m2" $(($(h_rx "$IF_B1") - q0))
t_check "$IF_B1 = kernel" $(($(t_ifstat "$NS_B" "$IF_B1" rx_packets) - j0)) $(($(h_rx "$IF_B1") - q0))
t_check "$IF_B1's pinned objects are the same ones" "$ids1" "$(h_pinned_ids "/sys/fs/bpf/nacct/$IF_B1:ns*/*" | sort | tr '\n' ' ')"
nacct_b detach "$IF_B1" >/dev/null
t_check "$IF_B1 detached: nothing left" "dir=0 tmp=0 xdp=0 filters=0" "$(h_state "$IF_B1")"
exit $T_FAILED
