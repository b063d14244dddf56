#!/bin/bash
# Many interfaces in one shared domain (issue 19): 50 "pods", each a
# network namespace with a veth whose other end is on a bridge in
# namespace B, all of B's interfaces attached with one `attach --all` (the
# namespace's domain "default": one load, then a link each).  Traffic from
# every pod to the bridge's address; IPv6 off, static neighbours, UDP
# dropped silently at B's input (after nacct counted it).
# Checks, against the kernel's counters and the generator's counts:
#  - one domain, one program id per hook on all 51 interfaces, a slot
#    each; the ports on TC ingress (the bridge runs XDP), said why;
#  - every veth: nacct's RX total = its kernel counter, its flow to 9000 =
#    what its pod sent; the bridge: RX total = its kernel counter, and its
#    flows to 9000 = the sum (the same packets, seen again on the bridge:
#    each interface's view counts them on that interface);
#  - conservation: the shared flow table holds exactly the members' flows;
#  - attach time per interface and the memory of the shared tables
#    (each map once) per interface, printed;
#  - detach --all: no pin, program or filter left, the domain gone.
source "$(dirname "$0")/../lib.sh"
t_need_root
UDPSEND=$ROOT/.output/udpsend
[ -x "$UDPSEND" ] || { t_skip attach_domain "build .output/udpsend"; exit 0; }
command -v bpftool >/dev/null || { t_skip attach_domain "no bpftool"; exit 0; }
P=50
ip netns add "$NS_B" || { t_fail setup "netns"; exit 1; }
t_cleanup_add "in_b $NACCT detach --all"
for i in $(seq 1 $P); do t_cleanup_add "ip netns del ${T_ID}p$i"; done
BR=${T_ID}br
in_b sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip -n "$NS_B" link add "$BR" type bridge || { t_fail setup "bridge"; exit 1; }
# a MAC of its own (else the bridge takes its lowest port's, which changes
# as ports come, and the pods' frames to the old one are flooded)
BRMAC=02:00:5e:00:53:01
ip -n "$NS_B" link set "$BR" address "$BRMAC"
ip -n "$NS_B" addr add 198.18.100.1/24 dev "$BR"
ip -n "$NS_B" link set "$BR" up
for i in $(seq 1 $P); do
	p=${T_ID}p$i
	t_add_pod "$NS_B" "$BR" "$p" "${T_ID}v$i" "198.18.100.$((i + 1))/24" || { t_fail setup "pod $i"; exit 1; }
	ip -n "$p" neigh replace 198.18.100.1 lladdr "$BRMAC" dev eth0 nud permanent
done
t_drop_udp b 9000 || { t_fail setup "nft"; exit 1; }
# every pod's frames go to the bridge's own address: nothing is flooded,
# each frame crosses its veth and then the bridge, up to B's stack.  The
# bridge is attached first (names sort so): its ports get TC ingress (the
# kernel takes no XDP program below a device that has one; attach says so)
t_settle 1
INO=$(stat -L -c %i /run/netns/"$NS_B")
DDIR=/sys/fs/bpf/nacct/:domain:default:ns$INO

t0=$(date +%s%N)
out=$(in_b "$NACCT" attach --all --mode generic 2>&1)
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
n=$(grep -c ': attached' <<<"$out")
t_check "attach --all: exit 0" 0 "$rc"
t_check "... $((P + 1)) interfaces (the $P veths and the bridge)" $((P + 1)) "$n"
t_log "attach --all: $n interfaces in $ms ms, $((ms / (n > 0 ? n : 1))) ms each (the first loads the domain)"
t_check "one shared domain" 1 "$(ls -d "$DDIR" 2>/dev/null | wc -l)"
st=$(in_b "$NACCT" status --json)
t_check "a slot each, all different" $((P + 1)) "$(jq -r '.domain.slot' <<<"$st" | sort -un | grep -c .)"
t_check "the ports: TC ingress, because the bridge runs XDP" "$P" \
	"$(jq -r --arg b "$BR" 'select(.reason | test($b + ", its master, runs XDP")) | .ifname' <<<"$st" | grep -c .)"
# loaded once: one TC egress program (id) on all 51, one TC ingress program
# on the 50 ports (the bridge's XDP program keeps them off XDP)
t_check "the programs loaded once: one egress program id on the $((P + 1)), one ingress id on the $P ports" "1 $((P + 1)) 1 $P" \
	"$(for i in $(seq 1 $P) br; do
		[ "$i" = br ] && d=$BR || d=${T_ID}v$i
		tc -n "$NS_B" -j filter show dev "$d" egress | jq -r '.[] | select(.options.prog) | .options.prog.id'
	done | sort | uniq -c | awk '{ n++; c = $1 } END { printf "%d %d", n, c }') $(for i in $(seq 1 $P); do
		tc -n "$NS_B" -j filter show dev "${T_ID}v$i" ingress | jq -r '.[] | select(.options.prog) | .options.prog.id'
	done | sort | uniq -c | awk '{ n++; c = $1 } END { printf "%d %d", n, c }')"
# memory of the shared tables, each map once (a member pins them again)
mem=$(for f in "$DDIR"/nacct_* /sys/fs/bpf/nacct/"${T_ID}"*:ns"$INO"/nacct_*; do
	bpftool -j map show pinned "$f" 2>/dev/null | jq -r 'select(.id) | "\(.id) \(.bytes_memlock)"'
done | sort -u | awk '{ s += $2 } END { print s + 0 }')
t_log "pinned map memory: $mem bytes for $n interfaces, $((mem / (n > 0 ? n : 1))) bytes each (default --max-flows)"

# traffic: pod i sends 10 + i datagrams from port 40000 + i
declare -A k0
for i in $(seq 1 $P); do k0[$i]=$(t_ifstat "$NS_B" "${T_ID}v$i" rx_packets); done
kb0=$(t_ifstat "$NS_B" "$BR" rx_packets)
sent=0
for i in $(seq 1 $P); do
	c=$(nsenter --net=/run/netns/"${T_ID}p$i" "$UDPSEND" 198.18.100.1 9000 $((10 + i)) 100 $((40000 + i)) 1)
	sent=$((sent + c))
done
t_check "the pods sent 10 + i each" $((P * 10 + P * (P + 1) / 2)) "$sent"
t_settle 1
st=$(in_b "$NACCT" status --json)
fl=$(in_b "$NACCT" flows --json)
bad=0
for i in $(seq 1 $P); do
	d=${T_ID}v$i
	k=$(t_ifstat "$NS_B" "$d" rx_packets)
	s=$(jq -r --arg d "$d" 'select(.ifname == $d) | .totals.rx_packets' <<<"$st")
	f=$(jq -s -r --arg d "$d" 'map(select(.ifname == $d and .dport == 9000) | .packets) | add' <<<"$fl")
	[ "$s" = "$k" ] && [ "$f" = $((10 + i)) ] && [ $((k - k0[$i])) = $((10 + i)) ] ||
		{ bad=$((bad + 1)); t_log "$d: kernel rx $k (+$((k - k0[$i]))), nacct rx $s, flow $f, sent $((10 + i))"; }
done
t_check "every veth: nacct rx = kernel rx, its flow to 9000 = its pod's count" 0 "$bad"
k=$(t_ifstat "$NS_B" "$BR" rx_packets)
t_check "the bridge: nacct rx = kernel rx" "$k" "$(jq -r --arg d "$BR" 'select(.ifname == $d) | .totals.rx_packets' <<<"$st")"
t_check "the bridge: its flows to 9000 = everything the pods sent ($((k - kb0)) more frames on the bridge)" "$sent" \
	"$(jq -s -r --arg d "$BR" 'map(select(.ifname == $d and .dport == 9000) | .packets) | add' <<<"$fl")"
t_check "conservation: the shared flow table's entries = the members' flows" \
	"$(bpftool -j map dump pinned "$DDIR/nacct_flows" | jq length)" "$(wc -l <<<"$fl")"

out=$(in_b "$NACCT" detach --all 2>&1)
t_check "detach --all: $n detached" "$n" "$(grep -c ': detached$' <<<"$out")"
t_check "no pin directory of the namespace left (the domain's with its last member)" 0 \
	"$(ls -d /sys/fs/bpf/nacct/*:ns"$INO" 2>/dev/null | wc -l)"
t_check "no XDP program or TC filter left on the interfaces" 0 \
	"$(t_hooks_left "$NS_B" "$BR" $(for i in $(seq 1 $P); do echo "${T_ID}v$i"; done))"
exit 0
