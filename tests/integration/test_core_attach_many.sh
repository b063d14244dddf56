#!/bin/bash
# nacct attach IFACE... / --all [--match] [--exclude], detach IFACE... /
# --all, on 8 more veth pairs between the test's namespaces.  --all puts
# the interfaces in the namespace's shared domain "default" (one set of
# programs and tables, loaded by the first; README "Many interfaces").
# Checks: the globs pick exactly the interfaces they name; one domain,
# a slot each, the programs loaded once (the same program ids on every
# interface); each interface's nacct totals equal its kernel counters
# under traffic on all of them, and its flows (filtered from the shared
# table by ifindex) the generator's; the shared table holds exactly the
# members' flows (conservation); --all leaves attached ones as they are; a
# named list is attached all or none (a bad name: exit 2, nothing
# attached); a member that leaves takes its flows with it; options that
# differ from the domain's, and capture on a member: exit 2; detach --all
# leaves no pin, program or filter behind, the domain with the last.
source "$(dirname "$0")/../lib.sh"
t_need_root
UDPSEND=$ROOT/.output/udpsend
[ -x "$UDPSEND" ] || { t_skip attach_many "build .output/udpsend"; exit 0; }
t_setup_pair || { t_fail setup "cannot create netns pair"; exit 1; }
N=8
for i in $(seq 1 $N); do
	t_add_link "$NS_A" "${T_ID}n$i" "198.18.$((10 + i)).1" "$NS_B" "${T_ID}m$i" "198.18.$((10 + i)).2" ||
		{ t_fail setup "link $i"; exit 1; }
	# no IPv6 on them: a new link's DAD and MLD reports, sent when they
	# are sent, would land between the reads of the exact check below
	# (neighbours are permanent: no ARP either)
	ip netns exec "$NS_A" sysctl -qw "net.ipv6.conf.${T_ID}n$i.disable_ipv6=1"
	ip netns exec "$NS_B" sysctl -qw "net.ipv6.conf.${T_ID}m$i.disable_ipv6=1"
done
t_drop_udp b 9000 || { t_fail setup "nft"; exit 1; }
t_cleanup_add "in_b $NACCT detach --all"
INO=$(stat -L -c %i /run/netns/"$NS_B")
# the interfaces attached in B: their pin directories
# (':' starts what is not an attachment: the domain's own directory)
attached() { ls /sys/fs/bpf/nacct/ | grep -v '^:' | sed -n "s/:ns$INO\$//p" | sort | tr '\n' ' '; }
DDIR=/sys/fs/bpf/nacct/:domain:default:ns$INO

# --all with globs: m1..m7 (m8 excluded, b0 and lo not matched)
t0=$(date +%s%N)
out=$(in_b "$NACCT" attach --all --match "${T_ID}m*" --exclude "${T_ID}m8" --mode generic 2>&1)
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
t_check "attach --all --match --exclude: exit 0" 0 "$rc"
want=$(for i in $(seq 1 7); do printf '%s ' "${T_ID}m$i"; done)
t_check "the globs picked m1..m7" "$want" "$(attached)"
t_log "attach --all: 7 interfaces in $ms ms (one load, then a link each)"
t_check "one shared domain for them" 1 "$(ls -d "$DDIR" 2>/dev/null | wc -l)"
t_check "... a slot each (1..7)" "1 2 3 4 5 6 7" \
	"$(for i in $(seq 1 7); do t_status_json b "${T_ID}m$i" | jq -r '.reason' | sed -n 's/.*slot \([0-9]*\):.*/\1/p'; done | sort -n | paste -sd' ')"
# the programs were loaded once: every member runs the same XDP program
t_check "... the XDP program loaded once (one program id on the 7)" 1 \
	"$(for i in $(seq 1 7); do ip -n "$NS_B" -j link show "${T_ID}m$i" | jq -r '.[0].xdp.prog.id // .[0].xdp.attached[0].prog.id // empty'; done | sort -u | wc -l)"

# traffic on every attached interface: nacct = the kernel's counters, each
declare -A k0
for i in $(seq 1 7); do k0[$i]=$(t_ifstat "$NS_B" "${T_ID}m$i" rx_packets); done
for i in $(seq 1 7); do in_a "$UDPSEND" "198.18.$((10 + i)).2" 9000 $((50 * i)) 100 40000 3 >/dev/null; done
t_settle
bad=0
for i in $(seq 1 7); do
	k=$(($(t_ifstat "$NS_B" "${T_ID}m$i" rx_packets) - k0[$i]))
	n=$(t_status_json b "${T_ID}m$i" | jq -r .totals.rx_packets)
	[ "$k" = $((50 * i)) ] && [ "$n" = "$k" ] || { bad=1; t_log "m$i: generator $((50 * i)), kernel +$k, nacct $n"; }
done
t_check "each interface: nacct's rx total = its kernel counter = the generator's count" 0 "$bad"
for i in 1 4 7; do
	t_check "m$i: nacct's UDP flows to 9000 = the generator's count" $((50 * i)) \
		"$(in_b "$NACCT" flows "${T_ID}m$i" --json | jq -s 'map(select(.dport == 9000) | .packets) | add')"
done
# conservation: the shared table holds the members' flows, no more, no less
# (bpftool's count of its keys = the sum of flows IFACE's rows), and the
# flows to 9000 of all members = the generator's 50 + 100 + ... + 350
nt=$(bpftool -j map dump pinned "$DDIR/nacct_flows" 2>/dev/null | jq length)
nf=0
for i in $(seq 1 7); do nf=$((nf + $(in_b "$NACCT" flows "${T_ID}m$i" --json | wc -l))); done
t_check "the shared flow table's entries = the sum of the members' flows" "$nt" "$nf"
t_check "flows (every member): the UDP flows to 9000 = the generator's 1400, each on its interface" \
	"1400 7" "$(in_b "$NACCT" flows --json | jq -s 'map(select(.dport == 9000)) | "\(map(.packets) | add) \(map(.ifname) | unique | length)"' -r)"
out=$(in_b "$NACCT" attach "$IF_B" --domain default --max-flows 4096 2>&1)
t_check "attach --domain default with another --max-flows: exit 2" 2 "$?"
grep -q "max-flows" <<<"$out" && t_ok "... saying which option ($out)" || t_fail "... saying which option" "$out"
out=$(in_b timeout 5 "$NACCT" capture "${T_ID}m1" -c 1 -w "$T_TMP/x.pcap" 2>&1)
t_check "capture on a domain member: exit 2" 2 "$?"
grep -q "shared domain default" <<<"$out" && t_ok "... saying why ($out)" || t_fail "... saying why" "$out"

# --all again: the attached ones are left as they are, the rest attached
out=$(in_b "$NACCT" attach --all --mode generic 2>&1)
t_check "attach --all again: exit 0" 0 "$?"
t_check "... says m1 was attached already" 1 "$(grep -c "^${T_ID}m1: attached already" <<<"$out")"
want=$( (echo "$IF_B"; for i in $(seq 1 $N); do echo "${T_ID}m$i"; done) | sort | tr '\n' ' ')
t_check "... and attached the rest (b0, m8; not lo)" "$want" "$(attached)"
t_check "m3's counts survived the second --all" $((50 * 3)) \
	"$(in_b "$NACCT" flows "${T_ID}m3" --json | jq -s 'map(select(.dport == 9000) | .packets) | add')"

# a named list is all or none
n8=$(bpftool -j map dump pinned "$DDIR/nacct_flows" 2>/dev/null | jq length)
f8=$(( $(in_b "$NACCT" flows "${T_ID}m8" --json | wc -l) + $(in_b "$NACCT" flows "$IF_B" --json | wc -l) ))
in_b "$NACCT" detach "${T_ID}m8" "$IF_B" >/dev/null
t_check "detach IFACE IFACE: both gone" "$(for i in $(seq 1 7); do printf '%s ' "${T_ID}m$i"; done)" "$(attached)"
n8b=$(bpftool -j map dump pinned "$DDIR/nacct_flows" 2>/dev/null | jq length)
t_check "... their flows left the shared table with them ($f8 of $n8)" "$((n8 - f8))" "$n8b"
out=$(in_b "$NACCT" attach "${T_ID}m8" nosuchif0 2>&1)
t_check "attach m8 nosuchif0: exit 2" 2 "$?"
grep -q "nosuchif0" <<<"$out" && t_ok "... naming the bad interface ($out)" || t_fail "... naming the bad interface" "$out"
t_check "... and m8 not attached" 0 "$(attached | grep -c "${T_ID}m8")"
out=$(in_b "$NACCT" attach --all "${T_ID}m8" 2>&1)
t_check "attach --all IFACE: exit 2" 2 "$?"
out=$(in_b "$NACCT" attach --match 'x*' "${T_ID}m8" 2>&1)
t_check "attach --match without --all: exit 2" 2 "$?"

# --follow: an interface that appears is attached and counted from its
# first packet after that; one that goes leaves nothing behind
nsenter --net=/run/netns/"$NS_B" "$NACCT" attach --all --match "${T_ID}f*" --follow --mode generic \
	>"$T_TMP/follow.out" 2>&1 &
FOL=$!
t_cleanup_add "kill $FOL"
for _ in $(seq 50); do grep -q watching "$T_TMP/follow.out" && break; sleep 0.1; done
t0=$(date +%s%N)
t_add_link "$NS_A" "${T_ID}g1" 198.18.31.1 "$NS_B" "${T_ID}f1" 198.18.31.2 || t_fail "link f1"
for _ in $(seq 100); do attached | grep -q "${T_ID}f1" && break; sleep 0.05; done
ms=$((($(date +%s%N) - t0) / 1000000))
t_check "--follow: a new interface that matches is attached" 1 "$(attached | grep -c "${T_ID}f1")"
t_log "--follow: attached $ms ms after the link appeared"
for _ in $(seq 50); do grep -q "^${T_ID}f1: attached" "$T_TMP/follow.out" && break; sleep 0.1; done
# nacct's rx count of f1 and the kernel's, the kernel's read between two
# equal reads of nacct's (the new link's IPv6 DAD/MLD packets come when
# they come): "nacct kernel"
f1_counts() {
	local a b k
	for _ in $(seq 10); do
		a=$(t_status_json b "${T_ID}f1" | jq -r .totals.rx_packets)
		k=$(t_ifstat "$NS_B" "${T_ID}f1" rx_packets)
		b=$(t_status_json b "${T_ID}f1" | jq -r .totals.rx_packets)
		[ "$a" = "$b" ] && break
		sleep 0.2
	done
	echo "$b $k"
}
read -r fn0 fk0 <<<"$(f1_counts)"
in_a "$UDPSEND" 198.18.31.2 9000 77 100 40000 1 >/dev/null
t_settle
# (the interface's growth includes those IPv6 packets: the kernel's own
# count is its witness; the generator's is the flow's)
read -r fn1 fk1 <<<"$(f1_counts)"
t_check "--follow: the new interface's count = its kernel counter's growth" "$((fk1 - fk0))" "$((fn1 - fn0))"
t_check "--follow: the new interface's flow = the generator's 77, from its first packet" 77 \
	"$(in_b "$NACCT" flows "${T_ID}f1" --json | jq -s 'map(select(.dport == 9000 and .sport == 40000) | .packets) | add')"
ip -n "$NS_B" link del "${T_ID}f1"
for _ in $(seq 100); do attached | grep -q "${T_ID}f1" || break; sleep 0.05; done
t_check "--follow: an interface that goes leaves no pins" 0 "$(attached | grep -c "${T_ID}f1")"
kill -TERM "$FOL"
wait "$FOL"
t_check "--follow: SIGTERM ends it, exit 0" 0 "$?"

# --detach-on-exit (nacct-all.service): at SIGTERM the follower detaches
# what it attached (one found at start, one that appeared), not one that
# was attached before it; then detach --all --match takes that one alone
t_add_link "$NS_A" "${T_ID}h0" 198.18.32.1 "$NS_B" "${T_ID}e0" 198.18.32.2 || t_fail "link e0"
t_add_link "$NS_A" "${T_ID}h1" 198.18.33.1 "$NS_B" "${T_ID}e1" 198.18.33.2 || t_fail "link e1"
in_b "$NACCT" attach "${T_ID}e0" --mode generic >/dev/null || t_fail "attach e0"
nsenter --net=/run/netns/"$NS_B" "$NACCT" attach --all --match "${T_ID}e*" --follow --detach-on-exit \
	--mode generic >"$T_TMP/own.out" 2>&1 &
FOL=$!
t_cleanup_add "kill $FOL"
for _ in $(seq 50); do grep -q watching "$T_TMP/own.out" && break; sleep 0.1; done
t_add_link "$NS_A" "${T_ID}h2" 198.18.34.1 "$NS_B" "${T_ID}e2" 198.18.34.2 || t_fail "link e2"
for _ in $(seq 100); do attached | grep -q "${T_ID}e2" && break; sleep 0.05; done
t_check "--detach-on-exit: e0 (before), e1 (found), e2 (appeared) attached" \
	"${T_ID}e0 ${T_ID}e1 ${T_ID}e2" "$(attached | tr ' ' '\n' | grep "${T_ID}e" | paste -sd' ')"
kill -TERM "$FOL"
wait "$FOL"
t_check "--detach-on-exit: SIGTERM ends it, exit 0" 0 "$?"
t_check "--detach-on-exit: it detached its own two, said so" 2 "$(grep -c 'detached (--detach-on-exit)' "$T_TMP/own.out")"
t_check "--detach-on-exit: the one attached before it stays" "${T_ID}e0" \
	"$(attached | tr ' ' '\n' | grep "${T_ID}e" | paste -sd' ')"
out=$(in_b "$NACCT" detach --all --match "${T_ID}e*" 2>&1)
t_check "detach --all --match: exit 0, that one only" "0 1" "$? $(grep -c ': detached$' <<<"$out")"
t_check "detach --all --match: no e* left" "" "$(attached | tr ' ' '\n' | grep "${T_ID}e")"
out=$(in_b "$NACCT" detach --match "${T_ID}e*" "${T_ID}m1" 2>&1)
t_check "detach --match without --all: exit 2" 2 "$?"
out=$(in_b "$NACCT" attach --all --detach-on-exit 2>&1)
t_check "attach --detach-on-exit without --follow: exit 2" 2 "$?"

# --match and --exclude see altnames too (ip link property ... altname)
t_add_link "$NS_A" "${T_ID}k1" 198.18.35.1 "$NS_B" "${T_ID}q1" 198.18.35.2 || t_fail "link q1"
ip -n "$NS_B" link property add dev "${T_ID}q1" altname "${T_ID}alt1"
out=$(in_b "$NACCT" attach --all --match "${T_ID}alt*" --mode generic 2>&1)
t_check "attach --all --match ALTNAME-GLOB: that interface only" "${T_ID}q1" \
	"$(grep ': attached' <<<"$out" | cut -d: -f1 | paste -sd' ')"
out=$(in_b "$NACCT" detach --all --match "${T_ID}alt*" 2>&1)
t_check "detach --all --match ALTNAME-GLOB: that one" "${T_ID}q1: detached" "$out"

# detach --all: nothing of them left
out=$(in_b "$NACCT" detach --all 2>&1)
t_check "detach --all: exit 0" 0 "$?"
t_check "detach --all: 7 detached" 7 "$(grep -c ': detached$' <<<"$out")"
t_check "no attachment left" "" "$(attached)"
t_check "no pin directory of the namespace left (the domain's with its last member)" 0 \
	"$(ls -d /sys/fs/bpf/nacct/*:ns"$INO" 2>/dev/null | wc -l)"
t_check "no XDP program or TC filter left on the interfaces" 0 \
	"$(t_hooks_left "$NS_B" $(for i in $(seq 1 $N); do echo "${T_ID}m$i"; done))"
exit 0
