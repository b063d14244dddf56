#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The side records (drops by reason) are per network namespace: two pairs
# of namespaces use the very same addresses and ports (A/B and C/D, both
# 198.18.0.1 -> 198.18.0.2), each sends UDP to a closed port of its peer
# with the same source port, a different number of datagrams.  Witnesses:
# udpsend's count and the kernel's UdpNoPorts of each receiving netns.
# Checked: each pair's flow shows its own drops only (before the side
# records carried the netns, both showed the sum), and a flow's drops
# recorded before its interface was attached are not joined.
source "$(dirname "$0")/../lib.sh"
t_need_root
UDPSEND=$ROOT/.output/udpsend
[ -x "$UDPSEND" ] || { t_skip test_events_netns "tests/tools not built (make $UDPSEND)"; exit 0; }
command -v nstat >/dev/null || { t_skip test_events_netns "no nstat (iproute2)"; exit 0; }
t_setup_pair || { t_fail setup "cannot create netns/veth"; exit 1; }

# the second pair: t_setup_pair again with C/D in place of A/B
NS_C="${T_ID}c"
NS_D="${T_ID}d"
IF_C="${T_ID}c0"
IF_D="${T_ID}d0"
t_cleanup_add "ip netns del $NS_C; ip netns del $NS_D"
(NS_A=$NS_C NS_B=$NS_D IF_A=$IF_C IF_B=$IF_D; t_setup_pair) ||
	{ t_fail setup "cannot create the second netns/veth pair"; exit 1; }
t_cleanup_add "nsenter --net=/run/netns/$NS_D $NACCT detach $IF_D"
in_c() { nsenter --net=/run/netns/"$NS_C" "$@"; }
in_d() { nsenter --net=/run/netns/"$NS_D" "$@"; }

UPORT=$((20000 + RANDOM % 10000)) # closed in B and D
SPORT=$((UPORT + 10000))
N_AB=100
N_CD=200
N_PRE=30  # C -> D on SPORT+1 before D is attached ...
N_POST=20 # ... and after
noports() { ip netns exec "$1" nstat -saz UdpNoPorts | awk '$1 == "UdpNoPorts" {print $2}'; }
b0=$(noports "$NS_B"); d0=$(noports "$NS_D")

nacct_b attach "$IF_B" >/dev/null || { t_fail attach "nacct attach $IF_B failed"; exit 1; }
# the side programs run now: these drops get a record before D is attached
in_c "$UDPSEND" 198.18.0.2 "$UPORT" "$N_PRE" 64 $((SPORT + 1)) >/dev/null
in_d "$NACCT" attach "${T_PROBES[@]}" "$IF_D" >/dev/null || { t_fail attach "nacct attach $IF_D failed"; exit 1; }
in_c "$UDPSEND" 198.18.0.2 "$UPORT" "$N_POST" 64 $((SPORT + 1)) >/dev/null
in_a "$UDPSEND" 198.18.0.2 "$UPORT" "$N_AB" 64 "$SPORT" >/dev/null
in_c "$UDPSEND" 198.18.0.2 "$UPORT" "$N_CD" 64 "$SPORT" >/dev/null
sleep 0.3
b1=$(noports "$NS_B"); d1=$(noports "$NS_D")
t_check "kernel UdpNoPorts (B D) = sent" "$N_AB $((N_CD + N_PRE + N_POST))" "$((b1 - b0)) $((d1 - d0))"

flow() { # flow NS IFACE SPORT: "rx_packets drops NO_SOCKET" of the UDP flow to UPORT
	nsenter --net=/run/netns/"$1" "$NACCT" flows "$2" --json |
		jq -r "select(.proto==\"udp\" and .sport==$3 and .dport==$UPORT) |
			\"\(.rx_packets) \(.drops // 0) \(.drop_reasons[\"$(t_reason NO_SOCKET)\"] // 0)\""
}
fb=$(flow "$NS_B" "$IF_B" "$SPORT")
fd=$(flow "$NS_D" "$IF_D" "$SPORT")
t_check "same 5-tuple at B: its own drops only (rx drops NO_SOCKET)" "$N_AB $N_AB $N_AB" "$fb"
t_check "same 5-tuple at D: its own drops only (rx drops NO_SOCKET)" "$N_CD $N_CD $N_CD" "$fd"
# the record of SPORT+1 in D was created before D's attachment: not joined
t_check "drops recorded before the attachment are not joined (rx drops)" "$N_POST 0 0" \
	"$(flow "$NS_D" "$IF_D" $((SPORT + 1)))"
exit $T_FAILED
