#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/vm/suite.sh [--host]
#
# The per-kernel suite of `make test-kernels`: run as root inside a guest
# booted by tests/vm/run-in-vm.sh (two virtio-net NICs eth0/eth1 on a
# qemu hub), or with --host on the build machine (a veth pair instead of
# the NICs; nothing is ever attached to a host NIC).  One line per
# capability, read by tests/vm/matrix.sh:
#   ok CAP detail | not ok CAP detail | skip CAP reason
# Each check compares nacct with an independent witness: the sender's
# count, the kernel's interface counters, ip/bpftool's view of the hook,
# a value written into an offloaded map by bpftool.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NACCT=$ROOT/nacct
UDPSEND=$ROOT/.output/udpsend
HOST=0
[ "${1:-}" = --host ] && HOST=1
ID=vm$$
NSA=${ID}a NSB=${ID}b
KREL=$(uname -r)
FAILED=0
TMP=$(mktemp -d /tmp/nacct-vmsuite.XXXXXX)

ok() { echo "ok $*"; }
nok() { echo "not ok $1"; shift; for l in "$@"; do echo "# $l"; done; FAILED=1; }
skip() { echo "skip $*"; }
ina() { nsenter --net=/run/netns/$NSA "$@"; }
inb() { nsenter --net=/run/netns/$NSB "$@"; }
# the kernel's own counter (nsenter keeps the host's /sys: ask netlink)
rx_packets() { ip -n "$1" -s -j link show "$2" | jq -r '.[0].stats64.rx.packets'; }
# the failed checks of a tests/run.sh output, each with its detail lines
# (the "# expected/actual" under it), before anything else it printed
failed_checks() { grep -E -A4 '^ *not ok' | head -n 40; }
kver_ge() { # major minor
	local M m
	M=${KREL%%.*}; m=${KREL#*.}; m=${m%%.*}
	[ "$M" -gt "$1" ] || { [ "$M" -eq "$1" ] && [ "$m" -ge "$2" ]; }
}

cleanup() {
	ina "$NACCT" detach "$IFA" >/dev/null 2>&1
	[ -n "${DISP_FILTER:-}" ] && ina xdp-filter unload "$IFA" >/dev/null 2>&1
	[ -n "${NSIM:-}" ] && "$NACCT" detach "$NSIM" >/dev/null 2>&1
	ip netns del "$NSA" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

# ---- the wire: A (198.18.1.1) <-> B (198.18.1.2), IPv6 off (no RS/MLD noise) ----
ip netns add "$NSA" && ip netns add "$NSB" || { nok setup "cannot create netns"; exit 1; }
for ns in "$NSA" "$NSB"; do
	nsenter --net=/run/netns/$ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
done
if [ $HOST = 1 ]; then
	IFA=${ID}a0 IFB=${ID}b0 WIRE="veth pair"
	ip link add "$IFA" netns "$NSA" type veth peer name "$IFB" netns "$NSB"
else
	# the guest's two virtio-net NICs, joined by the qemu hub
	IFA=eth0 IFB=eth1 WIRE="virtio-net"
	ip link set eth0 netns "$NSA" && ip link set eth1 netns "$NSB" ||
		{ nok setup "cannot move eth0/eth1 into namespaces"; exit 1; }
fi
ip -n "$NSA" addr add 198.18.1.1/24 dev "$IFA"
ip -n "$NSB" addr add 198.18.1.2/24 dev "$IFB"
ip -n "$NSA" link set "$IFA" up
ip -n "$NSB" link set "$IFB" up
ip -n "$NSA" neigh replace 198.18.1.2 lladdr "$(ip -n "$NSB" -br link show "$IFB" | awk '{print $3}')" \
	dev "$IFA" nud permanent
ip -n "$NSB" neigh replace 198.18.1.1 lladdr "$(ip -n "$NSA" -br link show "$IFA" | awk '{print $3}')" \
	dev "$IFB" nud permanent
echo "# kernel $KREL, wire: $WIRE ($IFA <-> $IFB)"

# ---- caps: xdp-features, or "unknown" before 6.3 --------------------------------
caps=$(ina "$NACCT" caps "$IFA" --json)
echo "# caps $IFA: $caps"
src=$(jq -r .xdp_features_source <<<"$caps")
basic=$(jq -r .basic <<<"$caps")
drv=$(jq -r .driver <<<"$caps")
want_drv=virtio_net; [ $HOST = 1 ] && want_drv=veth
if kver_ge 6 3; then want="netdev-genl true"; else want="unknown null"; fi
if [ "$src $basic" = "$want" ] && [ "$drv" = "$want_drv" ]; then
	ok caps "driver $drv, xdp-features $src, basic $basic, auto $(jq -r .auto_mode <<<"$caps")"
else
	nok caps "expected: driver $want_drv, source/basic $want" "actual: driver $drv, $src $basic"
fi

# ---- the verifier's work: processed instructions of the data path's programs ------
# (bench_micro --verifier: every flow table layout and subnet switch; the
# most with decapsulation on, the default; the kernel's limit is 1M)
if [ ! -x "$ROOT/.output/bench_micro" ]; then
	skip verifier "bench_micro not built (make .output/bench_micro)"
elif ! kver_ge 5 12; then
	skip verifier "bench_micro loads the programs; before 5.12 attach loads their compat twins (atomic OR, pointer arguments of global functions)"
else
	vout=$("$ROOT/.output/bench_micro" --verifier 2>&1)
	vrc=$?
	# its "most with decap on: nacct_xdp N nacct_tc N" line
	read -r vx vt < <(awk '/^most with decap on:/ { print $6 + 0, $8 + 0 }' <<<"$vout")
	if [ $vrc = 0 ] && [ "${vx:-0}" -gt 0 ] && [ "${vt:-0}" -gt 0 ]; then
		ok verifier "nacct_xdp $vx, nacct_tc_* $vt processed insns (the most over the layouts, decap on; limit 1000000)"
	else
		nok verifier "bench_micro --verifier: exit $vrc" "$(grep -E 'processed|load|rror' <<<"$vout" | tail -n 4)"
	fi
fi

# ---- native XDP with exact counts -------------------------------------------------
out=$(ina "$NACCT" attach "$IFA" 2>&1)
rc=$?
reason=$(ina "$NACCT" status "$IFA" --json 2>/dev/null | jq -r .reason)
mode=$(ip -n "$NSA" -d -j link show "$IFA" | jq -r '.[0].xdp.mode // 0')
if [ $rc = 0 ] && [ "$mode" = 1 ]; then
	ok native-attach "auto chose native (kernel attach_mode $mode): $reason"
else
	nok native-attach "attach rc $rc, kernel attach_mode $mode (1 = native)" "$out"
fi
if kver_ge 6 3; then
	case $reason in *xdp-features*) ok auto-reason "$reason" ;; *) nok auto-reason "$reason" ;; esac
else
	case $reason in *"no xdp-features"*) ok auto-reason "$reason" ;; *) nok auto-reason "$reason" ;; esac
fi
# udp_window PORT N SIZE SPORT: B sends N datagrams of SIZE bytes to A's
# PORT; sets sent, dn (nacct's rx_packets delta), dk (the kernel's) and
# fl ("packets bytes" of the flows to PORT)
udp_window() {
	local k0 k1 s0 s1
	k0=$(rx_packets "$NSA" "$IFA")
	s0=$(ina "$NACCT" status "$IFA" --json | jq -r .totals.rx_packets)
	sent=$(inb "$UDPSEND" 198.18.1.1 "$1" "$2" "$3" "$4")
	sleep 1
	k1=$(rx_packets "$NSA" "$IFA")
	s1=$(ina "$NACCT" status "$IFA" --json | jq -r .totals.rx_packets)
	dn=$((s1 - s0)) dk=$((k1 - k0))
	fl=$(ina "$NACCT" flows "$IFA" --json | jq -rs --argjson p "$1" \
		'map(select(.dport == $p)) | "\(map(.rx_packets) | add // 0) \(map(.rx_bytes) | add // 0)"')
}
N=1000
udp_window 9 $N 64 40000
if [ "$sent" = $N ] && [ $dn = $dk ] && [ $dn = $N ] && [ "${fl% *}" = $N ]; then
	ok native-exact "sender $sent = nacct rx $dn = kernel rx_packets $dk = udp flow rx ${fl% *}"
else
	nok native-exact "sender $sent, nacct rx $dn, kernel rx_packets $dk" "flows: $fl"
fi

# ---- jumbo frames: MTU 9000, native with the multi-buffer program -----------------
# virtio-net (mergeable buffers) takes multi-buffer XDP from 6.3 on and
# advertises rx_sg; before, a jumbo MTU leaves only generic mode, and the
# reason must say why.  Exact either way: sender = nacct = kernel.
ina "$NACCT" detach "$IFA" >/dev/null
if ip -n "$NSA" link set "$IFA" mtu 9000 2>"$TMP/mtu.err" &&
	ip -n "$NSB" link set "$IFB" mtu 9000 2>>"$TMP/mtu.err"; then
	out=$(ina "$NACCT" attach "$IFA" 2>&1)
	rc=$?
	st=$(ina "$NACCT" status "$IFA" --json 2>/dev/null)
	reason=$(jq -r .reason <<<"$st")
	mode=$(jq -r .mode <<<"$st")
	sg=$(ina "$NACCT" caps "$IFA" --json | jq -r .rx_sg)
	if [ $rc = 0 ] && [ "$mode" = native ] && [[ "$reason" == *"(multi-buffer)"* ]]; then
		ok jumbo-native "MTU 9000: $reason"
	elif [ $rc = 0 ] && ! kver_ge 6 3 && [ "$mode" = generic ]; then
		skip jumbo-native "kernel $KREL: no multi-buffer XDP in $drv before 6.3: generic ($reason)"
	else
		nok jumbo-native "MTU 9000: rc $rc, mode $mode, rx_sg $sg, reason: $reason" "$out"
	fi
	N=200
	udp_window 10 $N 8000 40001
	if [ "$sent" = $N ] && [ $dn = $dk ] && [ $dn = $N ] && [ "$fl" = "$N $((N * 8042))" ]; then
		ok jumbo-exact "$mode: sender $sent x 8042 B = flow $fl = kernel rx_packets $dk"
	else
		nok jumbo-exact "$mode: sender $sent, nacct rx $dn, kernel $dk, flow (packets bytes) $fl, want $N $((N * 8042))"
	fi
	ina "$NACCT" detach "$IFA" >/dev/null
	ip -n "$NSA" link set "$IFA" mtu 1500
	ip -n "$NSB" link set "$IFB" mtu 1500
else
	skip jumbo-native "the NICs refuse MTU 9000: $(head -c 200 "$TMP/mtu.err")"
fi

# ---- beside another XDP program: libxdp's dispatcher (issue 16) --------------------
# xdp-filter (xdp-tools, allow mode: every packet XDP_PASS) loaded first in
# native mode through libxdp's dispatcher; nacct joins it (auto), then
# with --multi.  Witnesses: the sender's count, xdp-filter's own per-action
# counter (its stats map, `xdp-filter status`), the kernel's rx_packets,
# xdp-loader's view of the dispatcher's programs.  Skipped with the reason
# where libxdp cannot make a dispatcher (freplace refused: the host).
filter_pass() { ina xdp-filter status 2>/dev/null | awk '$1 == "XDP_PASS" { print $2 }'; }
disp_progs() { ina xdp-loader status "$IFA" 2>/dev/null | awk '$2 ~ /^[0-9]+$/ && $3 ~ /_/ { print $3 }' | sort | paste -sd' '; }
if ! command -v xdp-filter >/dev/null || ! command -v xdp-loader >/dev/null; then
	for r in join exact detach multi; do skip xdp-dispatcher-$r "xdp-tools (xdp-filter, xdp-loader) not installed"; done
elif ! out=$(ina xdp-filter load -v -m native "$IFA" 2>&1); then
	for r in join exact detach multi; do skip xdp-dispatcher-$r "xdp-filter load -m native $IFA failed: $(tail -n 1 <<<"$out")"; done
elif ! ina xdp-loader status "$IFA" | grep -q xdp_dispatcher; then
	why=$(grep -io 'compatibility check[^.]*\|falling back[^.]*' <<<"$out" | head -n1)
	err=$(ina "$NACCT" attach "$IFA" --multi 2>&1 >/dev/null)
	rc=$?
	ina xdp-filter unload "$IFA" >/dev/null 2>&1
	if [ $rc = 2 ] && [[ "$err" == *freplace* ]]; then
		for r in join exact detach; do skip xdp-dispatcher-$r "libxdp loaded xdp-filter without a dispatcher (${why:-no dispatcher}); nacct --multi: exit 2: ${err#nacct: }"; done
		ok xdp-dispatcher-multi "refused, exit 2: ${err#nacct: }"
	else
		for r in join exact detach; do skip xdp-dispatcher-$r "libxdp loaded xdp-filter without a dispatcher (${why:-no dispatcher})"; done
		nok xdp-dispatcher-multi "--multi beside a lone program: rc $rc (want 2 and freplace named)" "$err"
	fi
else
	DISP_FILTER=1
	fid=$(disp_progs)
	out=$(ina "$NACCT" attach "$IFA" 2>&1)
	rc=$?
	reason=$(ina "$NACCT" status "$IFA" --json 2>/dev/null | jq -r .reason)
	st=$(ina "$NACCT" status "$IFA" 2>/dev/null | grep -E 'hooks:|beside:' | tr -s ' ' | paste -sd' ')
	mode=$(ip -n "$NSA" -d -j link show "$IFA" | jq -r '.[0].xdp.mode // 0')
	progs=$(disp_progs)
	if [ $rc = 0 ] && [ "$mode" = 1 ] && [[ "$reason" == "auto: joined libxdp dispatcher (other programs: xdpfilt_"*"): native"* ]] &&
		[[ " $progs " == *" nacct_xdp"* ]] && [[ "$progs" == *xdpfilt_* ]] && [[ "$st" == *dispatcher*xdpfilt_* ]]; then
		ok xdp-dispatcher-join "beside $fid: $reason; xdp-loader: $progs; kernel attach_mode $mode; status: $st"
	else
		nok xdp-dispatcher-join "attach rc $rc, attach_mode $mode, programs: $progs" "reason: $reason" "status: $st" "$out"
	fi
	N=1000
	f0=$(filter_pass)
	udp_window 11 $N 64 40002
	f1=$(filter_pass)
	df=$((f1 - f0))
	if [ "$sent" = $N ] && [ $dn = $N ] && [ $dk = $N ] && [ $df = $N ] && [ "${fl% *}" = $N ]; then
		ok xdp-dispatcher-exact "sender $sent = nacct rx $dn = xdp-filter XDP_PASS $df = kernel rx_packets $dk = udp flow rx ${fl% *}"
	else
		nok xdp-dispatcher-exact "sender $sent, nacct rx $dn, xdp-filter XDP_PASS $df, kernel rx_packets $dk, flow rx ${fl% *}"
	fi
	out=$(ina "$NACCT" detach "$IFA" 2>&1)
	rc=$?
	progs=$(disp_progs)
	pins=$(ls /sys/fs/bpf/nacct 2>/dev/null | grep -cF "$IFA")
	k0=$(rx_packets "$NSA" "$IFA"); f0=$(filter_pass)
	sent=$(inb "$UDPSEND" 198.18.1.1 11 100 64 40003)
	sleep 1
	k1=$(rx_packets "$NSA" "$IFA"); f1=$(filter_pass)
	if [ $rc = 0 ] && [[ "$progs" == xdpfilt_* ]] && [[ "$progs" != *nacct* ]] && [ "$pins" = 0 ] &&
		[ $((f1 - f0)) = 100 ] && [ $((k1 - k0)) = 100 ]; then
		ok xdp-dispatcher-detach "xdp-loader after detach: $progs; nacct pins gone; xdp-filter still counts: sender $sent = XDP_PASS $((f1 - f0)) = kernel $((k1 - k0))"
	else
		nok xdp-dispatcher-detach "detach rc $rc, programs left: $progs, nacct pins $pins" \
			"after: sender $sent, XDP_PASS $((f1 - f0)), kernel $((k1 - k0))" "$out"
	fi
	# --multi asked: beside xdp-filter again, then alone (a new dispatcher)
	out=$(ina "$NACCT" attach "$IFA" --multi 2>&1)
	rc=$?
	r1=$(ina "$NACCT" status "$IFA" --json 2>/dev/null | jq -r .reason)
	p1=$(disp_progs)
	ina "$NACCT" detach "$IFA" >/dev/null 2>&1
	ina xdp-filter unload "$IFA" >/dev/null 2>&1 && DISP_FILTER=
	out2=$(ina "$NACCT" attach "$IFA" --multi 2>&1)
	rc2=$?
	r2=$(ina "$NACCT" status "$IFA" --json 2>/dev/null | jq -r .reason)
	p2=$(disp_progs)
	N=200
	udp_window 12 $N 64 40004
	ina "$NACCT" detach "$IFA" >/dev/null 2>&1
	left=$(ip -n "$NSA" -d -j link show "$IFA" | jq -c '.[0].xdp // {}')
	if [ $rc = 0 ] && [[ "$r1" == "--multi requested: libxdp dispatcher (other programs: xdpfilt_"* ]] &&
		[ $rc2 = 0 ] && [[ "$r2" == "--multi requested: libxdp dispatcher (other programs: none): native"* ]] &&
		[[ "$p2" == nacct_xdp* ]] && [[ "$p2" != *" "* ]] && [ "$sent" = $N ] && [ $dn = $N ] && [ $dk = $N ] && [ "$left" = "{}" ]; then
		ok xdp-dispatcher-multi "beside xdp-filter: $r1 ($p1); alone: $r2 ($p2): sender $sent = nacct rx $dn = kernel $dk; after detach no XDP program"
	else
		nok xdp-dispatcher-multi "beside: rc $rc, $r1 ($p1)" "alone: rc $rc2, $r2 ($p2), sender $sent, nacct $dn, kernel $dk" \
			"after detach: $left" "$out" "$out2"
	fi
fi

# ---- offload refused where the driver has none -------------------------------------
err=$(ina "$NACCT" attach "$IFA" --mode offload 2>&1)
rc=$?
case "$rc $err" in
"2 "*"no XDP hardware offload"*) ok offload-refused "exit 2: $err" ;;
*) nok offload-refused "rc $rc: $err" ;;
esac

# ---- offload on netdevsim: attach, kernel view, map read ---------------------------
NSIM=
if modprobe netdevsim 2>/dev/null && [ -w /sys/bus/netdevsim/new_device ]; then
	echo "7 1" > /sys/bus/netdevsim/new_device
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		NSIM=$(ls /sys/bus/netdevsim/devices/netdevsim7/net/ 2>/dev/null | head -n1)
		[ -n "$NSIM" ] && break
		sleep 0.2
	done
fi
if [ -z "$NSIM" ]; then
	if [ $HOST = 1 ]; then skip offload "no netdevsim on this host (no loadable modules)"
	elif [ -s /run/vm/netdevsim.err ]; then
		skip offload "no netdevsim.ko for $KREL: its out-of-tree build failed: $(cat /run/vm/netdevsim.err)"
	else nok offload "netdevsim did not appear"; fi
else
	ip link set "$NSIM" up
	c=$("$NACCT" caps "$NSIM" --json)
	echo "# caps $NSIM: $c"
	out=$("$NACCT" attach "$NSIM" --mode offload 2>&1)
	rc=$?
	xj=$(ip -d -j link show "$NSIM" | jq -c '.[0].xdp // {}')
	pid=$(jq -r '.prog.id // .attached[0].prog.id // 0' <<<"$xj")
	xmode=$(jq -r '.mode // 0' <<<"$xj")
	dev=$(bpftool prog show id "$pid" 2>/dev/null | grep -o 'offloaded_to [^ ]*')
	dir=$("$NACCT" status "$NSIM" --json | jq -r '.ifname' >/dev/null; ls -d /sys/fs/bpf/nacct/"$NSIM"* 2>/dev/null | head -n1)
	# the witness: a value written into the device's map by bpftool (netdevsim
	# never runs the program on packets, so the counters move only this way)
	bpftool map update pinned "$dir/nacct_hw_stats" key 0 0 0 0 \
		value 7 0 0 0 0 0 0 0 188 2 0 0 0 0 0 0 2>/dev/null
	bpftool map update pinned "$dir/nacct_hw_stats" key 1 0 0 0 \
		value 3 0 0 0 0 0 0 0 180 0 0 0 0 0 0 0 2>/dev/null
	sj=$("$NACCT" status "$NSIM" --json)
	got="$(jq -r '"\(.mode) \(.totals.rx_packets) \(.totals.rx_bytes) \(.offload.rx_nonip_packets)"' <<<"$sj")"
	if [ $rc = 0 ] && [ "$xmode" = 3 ] && [ -n "$dev" ] && [ "$got" = "offload 7 700 3" ]; then
		ok offload "netdevsim: attach_mode 3, prog $pid $dev; status read the device map: $got; hw-offload bit $(jq -r .hw_offload <<<"$c")"
	else
		nok offload "attach rc $rc: $out" "kernel xdp: $xj ($dev)" \
			"status (want 'offload 7 700 3'): $got"
	fi
	out=$("$NACCT" detach "$NSIM" 2>&1)
	xj=$(ip -d -j link show "$NSIM" | jq -c '.[0].xdp // {}')
	if [ "$xj" = "{}" ] && [ ! -e "$dir" ]; then ok offload-detach "program off the device, pins gone"
	else nok offload-detach "$out" "kernel xdp after detach: $xj"; fi
	NSIM=
fi

# ---- side events: kprobe twins where a tracepoint is missing -----------------------
if [ ! -e /sys/kernel/tracing/kprobe_events ] && [ ! -e /sys/kernel/debug/tracing/kprobe_events ]; then
	skip kprobe-fallback "kernel without kprobes (CONFIG_KPROBES off)"
elif [ ! -e "$ROOT/.output/nacct_probes.skel.h" ]; then
	skip kprobe-fallback "probes/ not built yet"
else
	out=$(ina "$NACCT" -v attach "$IFA" 2>&1)
	ina "$NACCT" detach "$IFA" >/dev/null
	kp=$(grep -o 'no tracepoint [a-z_]*[^:]*: using [^ ]*' <<<"$out")
	if [ -n "$kp" ]; then
		ok kprobe-fallback "chosen: $(tr '\n' ';' <<<"$kp") (events checked by core-tests)"
	else
		skip kprobe-fallback "not chosen: every tracepoint exists on $KREL (kprobes available)"
	fi
fi

# ---- can this kernel keep kprobe side programs (pinned kprobe links, 5.15+)? ----
# nacct refuses --probes kprobe where it cannot pin them: the kprobe rows
# skip with its own reason there
KP_REFUSED=
if [ -e /sys/bus/event_source/devices/kprobe/type ]; then
	KP_REFUSED=$(ina "$NACCT" attach --probes kprobe "$IFA" 2>&1 >/dev/null)
	[ $? = 2 ] && [[ "$KP_REFUSED" == *"cannot pin kprobe links"* ]] || KP_REFUSED=
	ina "$NACCT" detach "$IFA" >/dev/null 2>&1
fi

# ---- serve: run metrics of every side program, whichever program holds its link ----
# The kprobe twins forced (--probes kprobe) where kprobes exist: each
# pinned link under :probes must have its nacct_prog_runs_total series (serve
# once named the tracepoint programs' pins by hand and lost the twins').
if [ ! -e /sys/kernel/tracing/kprobe_events ] && [ ! -e /sys/kernel/debug/tracing/kprobe_events ]; then
	skip serve-side-progs "kernel without kprobes (CONFIG_KPROBES off)"
elif [ -n "$KP_REFUSED" ]; then
	skip serve-side-progs "kernel $KREL: ${KP_REFUSED#nacct: }"
elif ! command -v curl >/dev/null; then
	skip serve-side-progs "no curl"
else
	sysctl -qw kernel.bpf_stats_enabled=1
	ina "$NACCT" -v attach --probes kprobe "$IFA" >"$TMP/kp.out" 2>&1
	ip -n "$NSA" link set lo up
	ina "$NACCT" serve --metrics 127.0.0.1:9464 2>"$TMP/serve.err" &
	spid=$!
	# state changes for the twins to see: one TCP connection B -> A refused
	inb timeout 2 bash -c 'exec 3<>/dev/tcp/198.18.1.1/9' 2>/dev/null
	m=
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		m=$(ina curl -sf http://127.0.0.1:9464/metrics) && break
		sleep 1
	done
	kill $spid; wait $spid 2>/dev/null
	links=$(ls /sys/fs/bpf/nacct/:probes/ | sed -n 's/^link_nacct_//p' | sort)
	series=$(grep -o '^nacct_prog_runs_total{ifname="",prog="[a-z0-9_]*"}' <<<"$m" | sed 's/.*prog="\([a-z0-9_]*\)"}/\1/' | sort)
	kps=$(grep -c '_kp$' <<<"$links")
	ina "$NACCT" detach "$IFA" >/dev/null
	sysctl -qw kernel.bpf_stats_enabled=0
	if [ "$kps" = 0 ]; then
		nok serve-side-progs "no kprobe twin was loaded" "$(tail -n 5 "$TMP/kp.out")"
	elif [ -n "$links" ] && [ "$links" = "$series" ]; then
		ok serve-side-progs "$kps kprobe twins; a run-count series for each of $(wc -l <<<"$links") side links"
	else
		nok serve-side-progs "links: $(tr '\n' ' ' <<<"$links")" "series: $(tr '\n' ' ' <<<"$series")" \
			"$(tail -n 3 "$TMP/serve.err")"
	fi
fi

# ---- AF_XDP tap: does zero-copy bind? ---------------------------------------------
if [ ! -e "$ROOT/af_xdp/tap.c" ]; then
	skip af-xdp-zerocopy "nacct capture --tap not built"
else
	ina "$NACCT" attach "$IFA" >/dev/null 2>&1
	ina timeout 60 "$NACCT" -v capture "$IFA" --tap -c 20 -w "$TMP/tap.pcap" >"$TMP/tap.out" 2>&1 &
	cpid=$!
	sleep 3
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		inb "$UDPSEND" 198.18.1.1 9 10 64 41000 >/dev/null
		kill -0 $cpid 2>/dev/null || break
		sleep 1
	done
	wait $cpid
	crc=$?
	zc=$(grep -o 'tap queue [0-9]*: AF_XDP [a-z-]* mode.*' "$TMP/tap.out" | head -n1)
	n=$(tcpdump -r "$TMP/tap.pcap" 2>/dev/null | wc -l)
	ina "$NACCT" detach "$IFA" >/dev/null 2>&1
	if [ $crc != 0 ] || [ "$n" != 20 ]; then
		nok af-xdp-tap "capture rc $crc, $n packets in the pcap (want 20)" "$(tail -n 5 "$TMP/tap.out")"
	else
		ok af-xdp-tap "20 packets captured in tap mode on $WIRE"
	fi
	case $zc in
	*"AF_XDP zero-copy mode"*) ok af-xdp-zerocopy "$zc" ;;
	"") nok af-xdp-zerocopy "no tap queue line" "$(tail -n 5 "$TMP/tap.out")" ;;
	*) skip af-xdp-zerocopy "driver refused: $zc" ;;
	esac
	# the rate of each mode on the same NIC: a burst of 3000 datagrams
	# from B, the first 2000 captured; the rate is the pcap's own (its
	# first to its last timestamp), zero-copy then copy mode (--copy)
	if [[ $zc == *"AF_XDP zero-copy mode"* ]]; then
		rates=() bad=
		for mode in zero-copy copy; do
			extra=()
			[ $mode = copy ] && extra=(--copy)
			ina "$NACCT" attach "$IFA" >/dev/null 2>&1
			ina timeout 120 "$NACCT" -v capture "$IFA" --tap "${extra[@]}" -c 2000 \
				-w "$TMP/rate.pcap" >"$TMP/rate.out" 2>&1 &
			cpid=$!
			sleep 3
			inb "$UDPSEND" 198.18.1.1 9 3000 64 41001 >/dev/null
			wait $cpid
			crc=$?
			ina "$NACCT" detach "$IFA" >/dev/null 2>&1
			got=$(grep -o "tap queue 0: AF_XDP [a-z-]* mode" "$TMP/rate.out" | head -n1)
			r=$(tcpdump -tt -r "$TMP/rate.pcap" 2>/dev/null |
				awk 'NR == 1 { a = $1 } { b = $1; n++ } END { if (n > 1 && b > a) printf "%d %d", n, (n - 1) / (b - a) }')
			if [ $crc != 0 ] || [ "${r%% *}" != 2000 ] || [[ $got != *"AF_XDP $mode mode"* ]]; then
				bad="$mode: capture rc $crc, '$got', pcap ${r:-empty}"
				break
			fi
			rates+=("$mode ${r#* } pps")
		done
		if [ -n "$bad" ]; then
			nok af-xdp-zerocopy-rate "$bad" "$(tail -n 5 "$TMP/rate.out")"
		else
			ok af-xdp-zerocopy-rate "2000 of a 3000-datagram burst captured each way: ${rates[0]}, ${rates[1]} (under qemu TCG: the emulation's rate, not the NIC's)"
		fi
	else
		skip af-xdp-zerocopy-rate "zero-copy did not bind"
	fi
fi

# ---- tunnels: real tunnel devices over the wire, decapsulated by nacct on A -------
# One line per type (tunnel-geneve ... tunnel-ip4in6), each on its own: a
# pair of devices of that type, one in each namespace, whose ends are the
# wire's addresses (IPv4 198.18.1.1/2, or IPv6 fd00:19::1/2 for ip6tnl);
# nacct attached afresh to A's NIC; pings and udpsend through the tunnel
# while tcpdump captures that NIC.  The check: nacct's inner flows of the
# tunnel (id, protocol, inner addresses; packets and bytes per direction)
# = tshark's decode of the capture; tshark saw the generators' packets in
# the tunnel; the flows' outer endpoints (and `nacct tunnels`') are the
# devices' ends.  Only the flows between the test's inner addresses are
# compared: a device's own link-up chatter (IPv6 MLD to ff02::16) may cross
# it before the window opens.  The module is loaded here; a type whose
# module or device the kernel refuses is skipped with the error.
TUN=${ID}t
TUN_MAC=$(ip -n "$NSA" -br link show "$IFA" | awk '{print $3}')
nic_packets() { ip -n "$1" -s -j link show "$2" | jq -r '.[0].stats64 | "\(.rx.packets) \(.tx.packets)"'; }
# tshark's decode, one line per frame with an IP packet inside an IP packet:
# "id proto inner_lo inner_hi dir len outer_lo outer_hi" (dir: tx when the
# frame's source MAC is A's NIC; id: Geneve VNI or GRE key, 0 none)
tun_decode() {
	tshark -r "$1" -T fields -E occurrence=a -E separator='|' \
		-e eth.src -e frame.protocols -e ip.src -e ip.dst -e ip.proto \
		-e ipv6.src -e ipv6.dst -e ipv6.nxt -e geneve.vni -e gre.key -e frame.len 2>/dev/null |
		awk -F'|' -v m="$TUN_MAC" '
		function nth(s, i,  a) { split(s, a, ","); return a[i] }
		function hex(s,  i, v) {
			v = 0; s = tolower(s); sub(/^0x/, "", s)
			for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
			return v
		}
		{
			# the outer and the inner IP layer: the first two in frame.protocols,
			# each the n-th occurrence among the fields of its family
			n = split($2, L, ":"); k = 0; c4 = 0; c6 = 0
			for (j = 1; j <= n && k < 2; j++) {
				if (L[j] == "ip") { k++; fam[k] = 4; idx[k] = ++c4 }
				else if (L[j] == "ipv6") { k++; fam[k] = 6; idx[k] = ++c6 }
			}
			if (k < 2) next
			for (j = 1; j <= 2; j++) {
				if (fam[j] == 4) { s[j] = nth($3, idx[j]); d[j] = nth($4, idx[j]); p[j] = nth($5, idx[j]) }
				else { s[j] = nth($6, idx[j]); d[j] = nth($7, idx[j]); p[j] = nth($8, idx[j]) }
				if (s[j] > d[j]) { t = s[j]; s[j] = d[j]; d[j] = t }
			}
			id = $9 != "" ? hex($9) : ($10 != "" ? hex($10) : 0)
			print id, p[2], s[2], d[2], (nth($1, 1) == m ? "tx" : "rx"), $11, s[1], d[1]
		}'
}
# tun_check CAP NAME WANT_ID UNDER INNER MODULE LINK_ARGS...
# CAP: the line's name; NAME: nacct's tunnel name; UNDER/INNER: 4 or 6;
# LINK_ARGS: `ip link add DEV` arguments, @L@/@R@ the local/remote end.
tun_check() {
	local cap=$1 name=$2 want_id=$3 under=$4 inner=$5 mod=$6 side ns loc rem l2 args
	shift 6
	local la=198.18.1.1 lb=198.18.1.2
	[ "$under" = 6 ] && la=fd00:19::1 lb=fd00:19::2
	local ia=10.90.0.1 ib=10.90.0.2 plen=24
	local nodad=
	[ "$inner" = 6 ] && ia=fd90::1 ib=fd90::2 plen=64 nodad=nodad
	# a module that will not load may be built in: the device tells
	modprobe "$mod" 2>"$TMP/tun.err"
	for side in a b; do
		if [ $side = a ]; then ns=$NSA loc=$la rem=$lb; else ns=$NSB loc=$lb rem=$la; fi
		args=$(sed "s/@L@/$loc/g; s/@R@/$rem/g" <<<"$*")
		if ! ip -n "$ns" link add "$TUN" $args 2>>"$TMP/tun.err"; then
			skip "$cap" "kernel $KREL: 'ip link add $TUN $args': $(tr '\n' ' ' <"$TMP/tun.err" | head -c 300)"
			ip -n "$NSA" link del "$TUN" 2>/dev/null
			return 0
		fi
		if [ "$inner" = 6 ]; then
			ip -n "$ns" link set "$TUN" addrgenmode none
			nsenter --net=/run/netns/$ns sysctl -qw net.ipv6.conf.$TUN.disable_ipv6=0
		fi
		if [ $side = a ]; then ip -n "$ns" addr add $ia/$plen dev "$TUN" ${nodad:-}
		else ip -n "$ns" addr add $ib/$plen dev "$TUN" ${nodad:-}; fi
		nsenter --net=/run/netns/$ns ethtool -K "$TUN" tso off gso off gro off >/dev/null 2>&1
		ip -n "$ns" link set "$TUN" up
	done
	# Ethernet inside (geneve, gretap): static neighbours, no ARP in the tunnel
	l2=$(ip -n "$NSA" -j link show "$TUN" | jq -r '.[0].link_type')
	if [ "$l2" = ether ]; then
		ip -n "$NSA" neigh replace $ib lladdr "$(ip -n "$NSB" -br link show "$TUN" | awk '{print $3}')" dev "$TUN" nud permanent
		ip -n "$NSB" neigh replace $ia lladdr "$(ip -n "$NSA" -br link show "$TUN" | awk '{print $3}')" dev "$TUN" nud permanent
	fi
	sleep 1 # the devices' link-up chatter passes before the window opens

	local out rc cpid lpids=() sa sb pc=4 kr kt k0r k0t k1r k1t s0r s0t s1r s1t
	out=$(ina "$NACCT" attach "$IFA" 2>&1)
	rc=$?
	if [ $rc != 0 ]; then
		nok "$cap" "attach rc $rc: $out"
		ip -n "$NSA" link del "$TUN"; ip -n "$NSB" link del "$TUN"
		return 0
	fi
	if [ $HAVE_TSHARK = 1 ]; then
		ina tcpdump -i "$IFA" -w "$TMP/tun.pcap" -U --immediate-mode -n -s 512 -B 16384 2>"$TMP/tun.pcap.err" &
		cpid=$!
		# under TCG tcpdump's start over 9p takes seconds: wait for it, not a fixed time
		for _ in $(seq 600); do grep -q listening "$TMP/tun.pcap.err" && break; sleep 0.1; done
	fi
	read -r k0r k0t <<<"$(nic_packets "$NSA" "$IFA")"
	local s0
	s0=$(ina "$NACCT" status "$IFA" --json | jq -r '"\(.totals.rx_packets) \(.totals.tx_packets)"')
	# known traffic: pings A -> B, UDP A -> B and B -> A (listeners: no ICMP errors)
	inb ncat -l -u --recv-only $ib 7000 >/dev/null 2>&1 &
	lpids+=($!)
	ina ncat -l -u --recv-only $ia 7001 >/dev/null 2>&1 &
	lpids+=($!)
	sleep 0.5
	ina ping -q -c $pc -i 0.05 $ib >/dev/null
	sa=$(ina "$UDPSEND" $ib 7000 20 200 42000)
	sb=$(inb "$UDPSEND" $ia 7001 10 300 42001)
	sleep 0.5
	kill "${lpids[@]}" 2>/dev/null; wait "${lpids[@]}" 2>/dev/null
	read -r k1r k1t <<<"$(nic_packets "$NSA" "$IFA")"
	kr=$((k1r - k0r)) kt=$((k1t - k0t))
	if [ $HAVE_TSHARK = 1 ]; then
		# every frame the kernel counted is in the file before tcpdump stops
		for _ in $(seq 60); do
			kill -0 $cpid 2>/dev/null || break
			[ "$(tcpdump -r "$TMP/tun.pcap" -n 2>/dev/null | wc -l)" -ge $((kr + kt)) ] && break
			sleep 0.5
		done
		# TERM: a background job of a script ignores INT (tcpdump keeps that)
		kill $cpid; wait $cpid 2>/dev/null
	fi
	local fl sel
	fl=$(ina "$NACCT" flows "$IFA" --json)
	# the flows between the test's inner addresses, per (id, protocol, pair)
	sel='select(.tunnel == $t and ([.src, .dst] | sort) == ([$a, $b] | sort))'
	jq -r --arg t "$name" --arg a $ia --arg b $ib "$sel"' | ([.src, .dst] | sort) as $p |
		"\(.tunnel_id) \(.proto_num) \($p[0]) \($p[1]) \(.rx_packets) \(.rx_bytes) \(.tx_packets) \(.tx_bytes)"' <<<"$fl" |
		awk '{ k = $1 " " $2 " " $3 " " $4; rp[k] += $5; rb[k] += $6; tp[k] += $7; tb[k] += $8 }
		END { for (k in rp) print k, rp[k], rb[k], tp[k], tb[k] }' | sort >"$TMP/tun.n"
	local outer ids tuns s1
	outer=$(jq -r --arg t "$name" --arg a $ia --arg b $ib "$sel"' |
		"\(.src)>\(.dst) \(.outer_src)>\(.outer_dst)"' <<<"$fl" | sort -u | tr '\n' ' ')
	ids=$(jq -r --arg t "$name" --arg a $ia --arg b $ib "$sel | .tunnel_id" <<<"$fl" | sort -u | tr '\n' ' ')
	tuns=$(ina "$NACCT" tunnels "$IFA" --json | jq -r --arg t "$name" 'select(.tunnel == $t) |
		"\(.tunnel_id) \([.outer_a, .outer_b] | sort | join(","))"' | tr '\n' ' ')
	s1=$(ina "$NACCT" status "$IFA" --json | jq -r '"\(.totals.rx_packets) \(.totals.tx_packets)"')
	ina "$NACCT" detach "$IFA" >/dev/null
	ip -n "$NSA" link del "$TUN"; ip -n "$NSB" link del "$TUN"

	# the endpoints: a flow from A's inner address rides A's end to B's
	local bad=() ends want_outer="$ia>$ib $la>$lb $ib>$ia $lb>$la "
	ends=$(printf '%s\n' $la $lb | sort | paste -sd,)
	[ "$ids" = "$want_id " ] || bad+=("tunnel_id: '$ids', want $want_id")
	[ "$tuns" = "$want_id $ends " ] || bad+=("nacct tunnels: '$tuns', want '$want_id $ends'")
	if [ $HAVE_TSHARK = 1 ]; then
		tun_decode "$TMP/tun.pcap" | awk -v a=$ia -v b=$ib '($3 == a && $4 == b) || ($3 == b && $4 == a)' >"$TMP/tun.d"
		awk '{ k = $1 " " $2 " " $3 " " $4
			if ($5 == "rx") { rp[k]++; rb[k] += $6 } else { tp[k]++; tb[k] += $6 }; keys[k] = 1 }
			END { for (k in keys) print k, rp[k]+0, rb[k]+0, tp[k]+0, tb[k]+0 }' "$TMP/tun.d" | sort >"$TMP/tun.w"
		local wend wping wudp icmp=1
		[ "$inner" = 6 ] && icmp=58
		wend=$(awk '{ print $7 "," $8 }' "$TMP/tun.d" | sort -u | paste -sd' ')
		wping=$(awk -v p=$icmp '$2 == p' "$TMP/tun.d" | wc -l)
		wudp=$(awk '$2 == 17' "$TMP/tun.d" | wc -l)
		[ "$wping $wudp" = "$((2 * pc)) $((sa + sb))" ] ||
			bad+=("tshark saw $wping ICMP and $wudp UDP packets in the tunnel, want $((2 * pc)) (ping) and $((sa + sb)) (udpsend)")
		[ "$wend" = "$ends" ] || bad+=("tshark's outer endpoints: $wend, want $ends")
		if [ ${#bad[@]} = 0 ] && [ "$outer" = "$want_outer" ] && diff -u "$TMP/tun.w" "$TMP/tun.n" >"$TMP/tun.diff"; then
			ok "$cap" "$name id $want_id, outer $ends: $(wc -l <"$TMP/tun.n") inner (protocol, address pair)s (ICMP $wping, UDP $wudp packets; rx+tx frames $(awk '{ p += $5 + $7; b += $6 + $8 } END { print p " / " b " B" }' "$TMP/tun.n")) = tshark per flow and direction"
		else
			diff -u "$TMP/tun.w" "$TMP/tun.n" >"$TMP/tun.diff"
			nok "$cap" "$name: nacct's inner flows against tshark's decode (id proto lo hi rx_p rx_b tx_p tx_b)" \
				"${bad[@]}" "outer (src>dst outer_src>outer_dst): '$outer', want '$want_outer'" \
				"$(sed -n '3,$p' "$TMP/tun.diff" | tr '\n' ';')"
		fi
	else
		# no tshark: nacct's inner packets per direction = the generators',
		# and nacct's totals = the NIC's kernel counters over the window
		local got want
		got=$(awk '{ r += $5; t += $7 } END { print r+0, t+0 }' "$TMP/tun.n")
		want="$((pc + sb)) $((pc + sa))"
		read -r s0r s0t <<<"$s0"; read -r s1r s1t <<<"$s1"
		[ "$got" = "$want" ] || bad+=("inner packets rx tx: $got, want $want (ping replies + B's datagrams, requests + A's)")
		[ "$((s1r - s0r)) $((s1t - s0t))" = "$kr $kt" ] ||
			bad+=("nacct rx/tx $((s1r - s0r)) $((s1t - s0t)) != kernel $kr $kt")
		if [ ${#bad[@]} = 0 ] && [ "$outer" = "$want_outer" ]; then
			ok "$cap" "$name id $want_id, outer $ends: inner packets rx/tx $got = generators; nacct = kernel counters $kr/$kt (no tshark: no per-flow bytes witness)"
		else
			nok "$cap" "$name (no tshark)" "${bad[@]}" "outer: '$outer', want '$want_outer'"
		fi
	fi
	return 0
}
HAVE_TSHARK=0
command -v tshark >/dev/null && command -v tcpdump >/dev/null && HAVE_TSHARK=1
if ! command -v ncat >/dev/null; then
	skip tunnels "no ncat (the UDP listeners)"
else
	# the wire for IPv6 underlays: fd00:19::1/2, no link-local (no RS/MLD from it)
	for s in A B; do
		if [ $s = A ]; then ns=$NSA ifc=$IFA; else ns=$NSB ifc=$IFB; fi
		ip -n "$ns" link set "$ifc" addrgenmode none
		nsenter --net=/run/netns/$ns sysctl -qw net.ipv6.conf.$ifc.disable_ipv6=0
		nsenter --net=/run/netns/$ns ethtool -K "$ifc" gro off >/dev/null 2>&1
	done
	ip -n "$NSA" addr add fd00:19::1/64 dev "$IFA" nodad
	ip -n "$NSB" addr add fd00:19::2/64 dev "$IFB" nodad
	ip -n "$NSA" neigh replace fd00:19::2 lladdr "$(ip -n "$NSB" -br link show "$IFB" | awk '{print $3}')" \
		dev "$IFA" nud permanent
	ip -n "$NSB" neigh replace fd00:19::1 lladdr "$TUN_MAC" dev "$IFB" nud permanent
	tun_check tunnel-geneve geneve 5 4 4 geneve type geneve id 5 remote @R@
	tun_check tunnel-gre gre 0 4 4 ip_gre type gre local @L@ remote @R@
	tun_check tunnel-gre-key gre 77 4 4 ip_gre type gre key 77 local @L@ remote @R@
	tun_check tunnel-gretap gretap 0 4 4 ip_gre type gretap local @L@ remote @R@
	tun_check tunnel-ipip ipip 0 4 4 ipip type ipip local @L@ remote @R@
	tun_check tunnel-sit sit 0 4 6 sit type sit local @L@ remote @R@
	tun_check tunnel-ip6ip6 ip6ip6 0 6 6 ip6_tunnel type ip6tnl mode ip6ip6 local @L@ remote @R@
	tun_check tunnel-ip4in6 ip4in6 0 6 4 ip6_tunnel type ip6tnl mode ipip6 local @L@ remote @R@
	for s in A B; do
		if [ $s = A ]; then ns=$NSA ifc=$IFA; else ns=$NSB ifc=$IFB; fi
		nsenter --net=/run/netns/$ns sysctl -qw net.ipv6.conf.$ifc.disable_ipv6=1
	done
fi

# ---- one TCP window through netem: nacct rtt / events beside libbpf-tools --------
# A's NIC delays everything it sends by 20 ms (netem).  In the window: one
# long-lived request/response connection A -> B (tests/tools/rr.py) and
# $NX short transfers A -> B (tcpxfer).  Watching it, started before the
# traffic and stopped after it: `nacct rtt` in A (us and ms), `nacct
# events` (every namespace) and, where the kernel lets them attach, the
# libbpf-tools tcprtt, tcpconnect and tcpconnlat (kprobe/fentry: guests
# only; they see every namespace).
#   rtt-netem       every sample of the connection in the 16-32 ms log2
#                   bucket or above (us and ms); samples = the growth of
#                   the socket's segs_in (ss -ti), exact; ss's rtt inside
#                   the histogram's range
#   bcc-tcprtt      tcprtt -P PORT's histogram = nacct's, slot by slot
#   bcc-tcpconnect  connect()s to the test's ports: pid comm addresses
#                   ports = nacct's connect events, line by line
#   bcc-tcpconnlat  the same connections; latencies reported, not asserted
#   bcc-tcpretrans  bcc's tcpretrans-bpfcc (bpfcc-tools: libbpf-tools has
#                   none): its lines between the test's addresses = nacct's
#                   retrans events, line by line (ends, ports, state)
#   bcc-tcpdrop     bcc's tcpdrop-bpfcc: each of its lines to the transfers'
#                   port is one of nacct's drop events there, line by line
#                   (ends, ports), and nacct's are as many as the nft rule's
#                   drops (tcpdrop skips skbs without a socket: sk == NULL)
RR=$ROOT/tests/tools/rr.py
XFER=$ROOT/.output/tcpxfer
BCC_VER=$(dpkg-query -W -f '${Version}' libbpf-tools 2>/dev/null)
have_kprobes() { [ -e /sys/kernel/tracing/kprobe_events ] || [ -e /sys/kernel/debug/tracing/kprobe_events ]; }
# bcc_start TOOL READY ARGS...: the tool, line-buffered, until READY
# (a regex) is in its output; sets BCC_ERR[TOOL] when it is missing or
# exits first
declare -A BCC_PID BCC_ERR
bcc_start() {
	local t=$1 ready=$2
	shift 2
	if ! command -v "$t" >/dev/null; then
		BCC_ERR[$t]="$t is not in libbpf-tools ${BCC_VER:-(not installed)}"
		return
	fi
	stdbuf -oL "$t" "$@" >"$TMP/bcc.$t" 2>"$TMP/bcc.$t.err" &
	BCC_PID[$t]=$!
}
# wait_out FILE REGEX PID TENTHS: until REGEX is in FILE (status 0), PID
# has exited or TENTHS tenths of a second have passed
wait_out() {
	for _ in $(seq "$4"); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || break
		sleep 0.1
	done
	grep -qE "$2" "$1" 2>/dev/null
}
bcc_ready() {
	local t
	for t in "${!BCC_PID[@]}"; do wait_out "$TMP/bcc.$t" "$1" "${BCC_PID[$t]}" 600; done
}
# the column COL of a libbpf-tools table, by its header's names
bcc_cols() { # FILE COLS...
	local f=$1
	shift
	awk -v want="$*" 'BEGIN { n = split(want, w, " ") }
		!h && $1 == "PID" { for (i = 1; i <= NF; i++) c[$i] = i; h = 1; next }
		h && NF > 1 { s = ""; for (i = 1; i <= n; i++) s = s (i > 1 ? " " : "") (w[i] in c ? $(c[w[i]]) : "-"); print s }' "$f"
}
# bcc's Python tools (bpfcc-tools) for what libbpf-tools 0.26 lacks.  They
# compile their C with clang against the running kernel's headers
# (/lib/modules/KREL/build and source: run-in-vm.sh points them at the
# headers debs it unpacked).  Run unchanged through a wrapper that gives
# them back Python's SIGINT handler: bash starts background jobs with
# SIGINT ignored, Python then installs none, and these tools end (printing
# everything read so far) only on KeyboardInterrupt.  PYTHONUNBUFFERED:
# each line reaches the file when printed.
declare -A BPY_PID BPY_ERR BPY_T0 BPY_READY
bpy_start() { # TOOL ARGS...: TOOL-bpfcc
	local t=$1 x
	shift
	x=$(command -v "$t-bpfcc") || { BPY_ERR[$t]="$t-bpfcc missing: bpfcc-tools not installed (scripts/deps.sh vm)"; return; }
	BPY_T0[$t]=$(date +%s.%N)
	PYTHONUNBUFFERED=1 python3 -c 'import runpy, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")' "$x" "$@" >"$TMP/bpy.$t" 2>"$TMP/bpy.$t.err" &
	BPY_PID[$t]=$!
}
# the tools print their header once their programs are attached; under
# TCG the compilation takes most of a minute.  Up to 10 minutes each.
bpy_ready() {
	local t
	for t in "${!BPY_PID[@]}"; do
		wait_out "$TMP/bpy.$t" '^TIME ' "${BPY_PID[$t]}" 6000 &&
			BPY_READY[$t]=$(echo "$(date +%s.%N) - ${BPY_T0[$t]}" | bc | xargs printf '%.1f')
	done
}
# tcpretrans-bpfcc: "PID LADDR:LPORT RADDR:RPORT STATE" between the test's addresses
bpy_retrans() {
	awk '$5 == "R>" && $4 ~ /^198\.18\.1\.[12]:/ && $6 ~ /^198\.18\.1\.[12]:/ { print $2, $4, $6, $7 }' "$TMP/bpy.tcpretrans"
}
# tcpdrop-bpfcc: "PID SADDR:SPORT DADDR:DPORT STATE FLAGS" to port $1 (stack lines skipped)
bpy_drops() {
	awk -v p=":$1" '$5 == ">" && $2 ~ /^[0-9]+$/ && substr($6, length($6) - length(p) + 1) == p { print $2, $4, $6, $7, $8 }' "$TMP/bpy.tcpdrop"
}
# nacct's retrans events between the test's addresses: "SADDR:SPORT DADDR:DPORT STATE"
ev_retrans() {
	jq -r 'select(.event == "retrans" and (.saddr | test("^198\\.18\\.1\\.[12]$")) and (.daddr | test("^198\\.18\\.1\\.[12]$"))) |
		"\(.saddr):\(.sport) \(.daddr):\(.dport) \(.state)"' "$TMP/ev"
}
# nacct's drop events to port $1 with a named reason (tcpdrop-bpfcc's own
# filter is reason > NOT_SPECIFIED): "SADDR:SPORT DADDR:DPORT REASON"
ev_drops() {
	jq -r --argjson x "$1" 'select(.event == "drop" and .dport == $x and .reason != "NOT_SPECIFIED") |
		"\(.saddr):\(.sport) \(.daddr):\(.dport) \(.reason)"' "$TMP/ev"
}
retrans_segs() { # A's Tcp RetransSegs (/proc/net is the reader's namespace's)
	ina awk '$1 == "Tcp:" { if (!h) { for (i = 2; i <= NF; i++) c[$i] = i; h = 1 } else print $(c["RetransSegs"]) }' /proc/net/snmp
}
ssinfo() { # DPORT SPORT: "segs_in rtt_us" of A's client socket
	ina ss -tinH state established "( dport = :$1 and sport = :$2 )" | tr ' ' '\n' |
		awk -F: '$1 == "segs_in" { s = $2 } $1 == "rtt" { split($2, r, "/"); rtt = r[1] }
			 END { printf "%d %d\n", s, rtt * 1000 + 0.5 }'
}
NX=3
P=$((20000 + RANDOM % 10000)) C=$((P + 1)) PX=$((P + 2))
modprobe sch_netem 2>"$TMP/netem.err"
if [ ! -f "$RR" ] || [ ! -x "$XFER" ]; then
	skip rtt-netem "tests/tools/rr.py or .output/tcpxfer missing"
elif ! tc -n "$NSA" qdisc add dev "$IFA" root netem delay 20ms 2>>"$TMP/netem.err"; then
	skip rtt-netem "kernel $KREL: no netem: $(tr '\n' ' ' <"$TMP/netem.err" | head -c 200)"
	for t in bcc-tcprtt bcc-tcpconnect bcc-tcpconnlat bcc-tcpretrans bcc-tcpdrop retrans-kernel drop-nft; do
		skip "$t" "no netem window on this kernel (rtt-netem)"
	done
else
	# GRO on, the NICs' default (the tunnel rows switched it off): virtio-net
	# leaves all but the Ethernet header of a large frame in page frags, and
	# without GRO nothing pulls the TCP header into the linear area before
	# nft drops the packet there; nacct's drop program reads the flow key
	# from the linear area only and loses such drops (drops_noflow, no
	# event).  Seen on 6.12: nft 15, nacct 8.  With GRO the headers are
	# pulled and every drop has its event.
	for s in A B; do
		if [ $s = A ]; then ns=$NSA ifc=$IFA; else ns=$NSB ifc=$IFB; fi
		nsenter --net=/run/netns/$ns ethtool -K "$ifc" gro "${NACCT_VM_WINDOW_GRO:-on}" >/dev/null 2>&1
	done
	GO=$TMP/go
	inb python3 "$RR" server 198.18.1.2 "$P" 30 >"$TMP/rr.s" 2>&1 &
	rrs=$!
	for _ in $(seq 300); do grep -q ready "$TMP/rr.s" && break; sleep 0.1; done
	# the event watchers first: they must see the connections being made
	"$NACCT" events --json >"$TMP/ev" 2>"$TMP/ev.err" &
	evp=$!
	bcc_start tcprtt Tracing -P "$P"
	bcc_start tcpconnect '^ *PID' -s
	bcc_start tcpconnlat '^ *PID' -L
	bpy_start tcpretrans
	bpy_start tcpdrop
	# the events reader holds its slot (its ring and mask are in place)
	for _ in $(seq 120); do
		bpftool map dump pinned /sys/fs/bpf/nacct/:probes/nacct_ev_readers -j 2>/dev/null |
			jq -e --argjson p "$evp" 'any(.[]; .formatted.value.pid == $p and .formatted.value.mask != 0)' \
				>/dev/null 2>&1 && break
		sleep 0.2
	done
	bcc_ready '^ *PID|Tracing'
	bpy_ready
	for t in "${!BPY_READY[@]}"; do echo "# bcc $t-bpfcc attached after ${BPY_READY[$t]} s (compile + load)"; done
	# started directly, so that $! is the client process (nsenter execs it)
	nsenter --net=/run/netns/"$NSA" python3 "$RR" client 198.18.1.2 "$P" "$C" "$GO" 30 >"$TMP/rr.c" 2>&1 &
	rrc=$!
	for _ in $(seq 300); do grep -q connected "$TMP/rr.c" && break; sleep 0.1; done
	# the connection idles until GO: S0 and the rtt runs' start see the same socket
	read -r S0 _ <<<"$(ssinfo "$P" "$C")"
	nsenter --net=/run/netns/"$NSA" "$NACCT" rtt "$IFA" 1 600 -D "$P" --json >"$TMP/rtt.us" 2>"$TMP/rtt.us.err" &
	rpids=($!)
	nsenter --net=/run/netns/"$NSA" "$NACCT" rtt "$IFA" 1 600 -D "$P" -m --json >"$TMP/rtt.ms" 2>"$TMP/rtt.ms.err" &
	rpids+=($!)
	for f in rtt.us rtt.ms; do
		for _ in $(seq 600); do grep -q Tracing "$TMP/$f.err" && break; sleep 0.1; done
	done
	# retransmits and drops on the transfers: B's nft drops every 8th data
	# segment to PX (its rule counter is the drops' witness, A's TcpRetransSegs
	# the retransmits')
	NFT=0
	if command -v nft >/dev/null && inb nft -f - 2>"$TMP/nft.err" <<-NFT
		table inet nacctvm {
			chain in {
				type filter hook input priority 0;
				tcp dport $PX meta length > 1000 numgen inc mod 8 == 0 counter drop
			}
		}
	NFT
	then NFT=1; fi
	R0=$(retrans_segs)
	# the traffic
	touch "$GO"
	xpids=()
	for i in $(seq $NX); do
		inb "$XFER" server 198.18.1.2 "$PX" >"$TMP/x.s$i" 2>&1 &
		xs=$!
		for _ in $(seq 300); do grep -q ready "$TMP/x.s$i" && break; sleep 0.1; done
		nsenter --net=/run/netns/"$NSA" "$XFER" client 198.18.1.2 "$PX" 50000 >"$TMP/x.c$i" 2>&1 &
		xpids+=($!)
		wait $!; wait $xs
	done
	for _ in $(seq 600); do grep -q done "$TMP/rr.c" && break; sleep 0.1; done
	sleep 0.5
	read -r S1 RTT <<<"$(ssinfo "$P" "$C")"
	sleep 0.5
	# the Python tools print slower than the C readers under TCG: before
	# they stop, wait (up to 2 minutes) until each has printed as many
	# lines as its witness counts (nacct's retrans events between the test's
	# addresses; the nft rule's counter); a shortfall stays a shortfall
	if [ -n "${BPY_READY[tcpretrans]:-}${BPY_READY[tcpdrop]:-}" ]; then
		nft0=$(inb nft list table inet nacctvm 2>/dev/null | grep -o 'packets [0-9]*' | cut -d' ' -f2)
		for _ in $(seq 1200); do
			{ [ -z "${BPY_READY[tcpretrans]:-}" ] || [ "$(bpy_retrans | wc -l)" -ge "$(ev_retrans | wc -l)" ]; } &&
				{ [ -z "${BPY_READY[tcpdrop]:-}" ] || [ "$(bpy_drops "$PX" | wc -l)" -ge "${nft0:-0}" ]; } && break
			sleep 0.1
		done
	fi
	kill -INT "${rpids[@]}" $evp "${BCC_PID[@]}" "${BPY_PID[@]}" 2>/dev/null
	for p in "${rpids[@]}" $evp "${BCC_PID[@]}" "${BPY_PID[@]}"; do
		for _ in $(seq 100); do kill -0 $p 2>/dev/null || break; sleep 0.1; done
		kill $p 2>/dev/null
		wait $p 2>/dev/null
	done
	R1=$(retrans_segs)
	nftd=$(inb nft list table inet nacctvm 2>/dev/null | grep -o 'packets [0-9]*' | cut -d' ' -f2)
	inb nft delete table inet nacctvm 2>/dev/null
	touch "$GO.close"
	wait $rrc $rrs 2>/dev/null
	tc -n "$NSA" qdisc del dev "$IFA" root
	echo "# netem window: client $C -> $P segs_in $S0 -> $S1, ss rtt $RTT us; $NX transfers to $PX ($(grep -h sent "$TMP"/x.c* | paste -sd, -))"

	# rtt-netem: us and ms runs, merged over their intervals
	segs=$((S1 - S0))
	merge='{ count: (map(.count) | add // 0), min: (map(.min) | min), max: (map(.max) | max),
		hist: ([.[].hist[]] | group_by(.hi) | map({lo: .[0].lo, hi: .[0].hi, count: (map(.count) | add)})) }'
	us=$(jq -cs "$merge" "$TMP/rtt.us")
	ms=$(jq -cs "$merge" "$TMP/rtt.ms")
	read -r uc ulo uhi umin umax <<<"$(jq -r '"\(.count) \(.hist[0].lo // -1) \(.hist[-1].hi // -1) \(.min) \(.max)"' <<<"$us")"
	read -r mc mlo <<<"$(jq -r '"\(.count) \(.hist[0].lo // -1)"' <<<"$ms")"
	uh=$(jq -r '.hist | map("\(.lo)-\(.hi):\(.count)") | join(" ")' <<<"$us")
	mh=$(jq -r '.hist | map("\(.lo)-\(.hi):\(.count)") | join(" ")' <<<"$ms")
	bad=()
	[ "$segs" -gt 0 ] && [ "$uc" = "$segs" ] || bad+=("us samples $uc, segs_in growth $segs")
	[ "$mc" = "$segs" ] || bad+=("ms samples $mc, segs_in growth $segs")
	[ "$ulo" -ge 16384 ] || bad+=("us histogram below the 16384-32767 us bucket: $uh")
	[ "$mlo" -ge 16 ] || bad+=("ms histogram below the 16-31 ms bucket: $mh")
	[ "$RTT" -ge "$ulo" ] && [ "$RTT" -le "$uhi" ] || bad+=("ss rtt $RTT us outside the histogram's $ulo..$uhi us")
	if [ ${#bad[@]} = 0 ]; then
		ok rtt-netem "netem 20 ms: $uc samples = segs_in growth; us $uh (min $umin max $umax); ms $mh; ss rtt $RTT us in $ulo..$uhi"
	else
		nok rtt-netem "${bad[@]}" "us: $(head -c 600 "$TMP/rtt.us")" "$(tail -n 2 "$TMP/rtt.us.err")"
	fi

	# the libbpf-tools witnesses: missing, or could not attach
	bcc_gone() { # TOOL ROW: 0 when the tool ran; else prints the skip/not ok
		if [ -n "${BCC_ERR[$1]:-}" ]; then skip "$2" "${BCC_ERR[$1]}"; return 1; fi
		if ! grep -qE '^ *PID|Tracing' "$TMP/bcc.$1"; then
			if have_kprobes; then nok "$2" "$1 did not start: $(tail -n 3 "$TMP/bcc.$1.err" | tr '\n' ' ')"
			else skip "$2" "$1 cannot attach on $KREL (no kprobes): $(tail -n 1 "$TMP/bcc.$1.err")"; fi
			return 1
		fi
		return 0
	}
	if bcc_gone tcprtt bcc-tcprtt; then
		# print_log2_hist: "lo -> hi : count |***|"
		w=$(awk '$2 == "->" && $4 == ":" && $5 > 0 { print $3 ":" $5 }' "$TMP/bcc.tcprtt" | paste -sd' ')
		n=$(jq -r '.hist | map("\(.hi):\(.count)") | join(" ")' <<<"$us")
		if [ -n "$n" ] && [ "$w" = "$n" ]; then
			ok bcc-tcprtt "tcprtt -P $P = nacct rtt per slot (hi:count): $w"
		else
			nok bcc-tcprtt "tcprtt (hi:count): '$w'" "nacct rtt: '$n'" "$(head -c 400 "$TMP/bcc.tcprtt")"
		fi
	fi
	# nacct's connect events to the test's ports: "pid comm saddr sport daddr dport"
	jq -r --argjson p "$P" --argjson x "$PX" 'select(.event == "connect" and (.dport == $p or .dport == $x)) |
		"\(.pid) \(.comm[:12]) \(.saddr) \(.sport) \(.daddr) \(.dport) \(.latency_us)"' "$TMP/ev" | sort >"$TMP/ev.conn"
	want_n=$((NX + 1))
	if bcc_gone tcpconnect bcc-tcpconnect; then
		bcc_cols "$TMP/bcc.tcpconnect" PID COMM SADDR SPORT DADDR DPORT |
			awk -v p=$P -v x=$PX '$6 == p || $6 == x' | sort >"$TMP/w.conn"
		cut -d' ' -f1-6 "$TMP/ev.conn" >"$TMP/n.conn"
		pids=$(cut -d' ' -f1 "$TMP/w.conn" | sort -u | paste -sd' ')
		wpids=$(printf '%s\n' $rrc "${xpids[@]}" | sort -u | paste -sd' ')
		if [ "$(wc -l <"$TMP/w.conn")" = $want_n ] && [ "$pids" = "$wpids" ] && diff -q "$TMP/w.conn" "$TMP/n.conn" >/dev/null; then
			ok bcc-tcpconnect "$want_n connects (pid comm saddr sport daddr dport) = nacct connect events line by line; pids = the clients' ($wpids)"
		else
			nok bcc-tcpconnect "tcpconnect: $(tr '\n' ';' <"$TMP/w.conn")" "nacct: $(tr '\n' ';' <"$TMP/n.conn")" \
				"clients' pids: $wpids"
		fi
	fi
	if bcc_gone tcpconnlat bcc-tcpconnlat; then
		bcc_cols "$TMP/bcc.tcpconnlat" PID COMM SADDR LPORT DADDR DPORT 'LAT(ms)' |
			awk -v p=$P -v x=$PX '$6 == p || $6 == x' | sort >"$TMP/w.lat"
		# "-" where this version prints no LPORT: compare without it
		if grep -q '^[^ ]* [^ ]* [^ ]* - ' "$TMP/w.lat"; then
			cut -d' ' -f1-3,5-6 "$TMP/w.lat" | sort >"$TMP/w.lk"; cut -d' ' -f1-3,5-6 "$TMP/ev.conn" | sort >"$TMP/n.lk"
		else
			cut -d' ' -f1-6 "$TMP/w.lat" >"$TMP/w.lk"; cut -d' ' -f1-6 "$TMP/ev.conn" >"$TMP/n.lk"
		fi
		lat=$(join -j1 <(awk '{ print $1 "/" $4, $7 }' "$TMP/w.lat" | sort) <(awk '{ print $1 "/" $4, $7 / 1000 }' "$TMP/ev.conn" | sort) |
			awk '{ d = $3 - $2; if (d < 0) d = -d; if (d > m) m = d; s = s sprintf(" %.2f/%.2f", $2, $3) }
				END { printf "latency ms tcpconnlat/nacct:%s; max difference %.2f ms", s, m }')
		if [ "$(wc -l <"$TMP/w.lk")" = $want_n ] && diff -q "$TMP/w.lk" "$TMP/n.lk" >/dev/null; then
			ok bcc-tcpconnlat "$want_n connections = nacct connect events; $lat"
		else
			nok bcc-tcpconnlat "tcpconnlat: $(tr '\n' ';' <"$TMP/w.lat")" "nacct: $(tr '\n' ';' <"$TMP/ev.conn")"
		fi
	fi
	# retransmits and drops against the kernel's own counters (no tcpretrans/tcpdrop needed)
	if [ $NFT = 0 ]; then
		skip retrans-kernel "no nft table in B: $(head -c 200 "$TMP/nft.err")"
		skip drop-nft "no nft table in B: $(head -c 200 "$TMP/nft.err")"
	else
		ino=$(stat -L -c %i /run/netns/"$NSA")
		nr=$(jq -s --argjson n "$ino" 'map(select(.event == "retrans" and .netns == $n)) |
			"\(length) \(map(.segs) | add // 0) \(group_by(.sport) | map("\(.[0].sport)->\(.[0].dport):\(map(.segs) | add)") | join(" "))"' -r "$TMP/ev")
		read -r nre nrs nrper <<<"$nr"
		if [ "$nrs" -gt 0 ] && [ "$nrs" = $((R1 - R0)) ]; then
			ok retrans-kernel "nacct retrans events in A: $nre, $nrs segments = A's TcpRetransSegs $R0 -> $R1; per connection $nrper"
		else
			nok retrans-kernel "nacct: $nre events, $nrs segments ($nrper); A's TcpRetransSegs $R0 -> $R1 ($((R1 - R0)))"
		fi
		# before 5.17 skb:kfree_skb has no reason: nacct's are "none" there
		wr=NETFILTER_DROP
		kver_ge 5 17 || wr=none
		nd=$(jq -s -r --argjson x "$PX" --arg r $wr 'map(select(.event == "drop" and .dport == $x)) |
			"\(map(select(.reason == $r and .saddr == "198.18.1.1" and .daddr == "198.18.1.2")) | length) \(map(.reason) | unique | join(","))"' "$TMP/ev")
		read -r ndn ndr <<<"$nd"
		if [ -n "$nftd" ] && [ "$nftd" -gt 0 ] && [ "$ndn" = "$nftd" ]; then
			ok drop-nft "nacct drop events $wr 198.18.1.1 -> 198.18.1.2:$PX: $ndn = nft rule counter $nftd (reasons seen on the port: $ndr$([ $wr = none ] && echo "; kernel $KREL: no drop reasons before 5.17"))"
		else
			nok drop-nft "nacct $wr to $PX: $ndn (reasons: $ndr); nft counter: '$nftd'" \
				"nacct events: $(tail -n 1 "$TMP/ev.err")"
		fi
	fi
	# bcc's Python tools: missing, no headers, or could not compile/attach
	bpy_gone() { # TOOL: 0 when the tool ran
		local t=$1 b=/lib/modules/$KREL/build
		if [ -n "${BPY_ERR[$t]:-}" ]; then skip "bcc-$t" "${BPY_ERR[$t]}"; return 1; fi
		[ -n "${BPY_READY[$t]:-}" ] && return 0
		if [ ! -d "$b/include" ] && [ ! -e /sys/kernel/kheaders.tar.xz ]; then
			skip "bcc-$t" "$t-bpfcc needs $KREL's headers: no $b/include (headers debs unpacked by run-in-vm.sh) and no kheaders: $(tail -n 1 "$TMP/bpy.$t.err")"
		elif e=$(grep -m1 -E "error: (invalid application of '(sizeof|__alignof)' to an incomplete type 'struct bpf_|use of undeclared identifier 'BPF_)" "$TMP/bpy.$t.err"); then
			# bcc compiles with its own copy of uapi/linux/bpf.h (same include
			# guard as the kernel's, so the kernel's is never read); a kernel
			# whose include/linux/bpf.h uses newer uapi types than that copy has
			# cannot be compiled against by this bcc at all
			skip "bcc-$t" "bcc $(dpkg-query -W -f '${Version}' python3-bpfcc 2>/dev/null) cannot compile against $KREL's headers: its bundled uapi/linux/bpf.h predates them and hides the kernel's ($(grep -c 'error:' "$TMP/bpy.$t.err") errors, first: ${e#*error: })"
		else
			nok "bcc-$t" "$t-bpfcc did not attach: $(tail -n 4 "$TMP/bpy.$t.err" | tr '\n' ' ' | head -c 600)"
		fi
		return 1
	}
	# per connection: "ends:count ..." of lines whose first two fields are the ends
	per_conn() { awk '{ n[$1 " " $2]++ } END { for (k in n) print k " x" n[k] }' | sort | paste -sd';'; }
	if bpy_gone tcpretrans; then
		bpy_retrans | cut -d' ' -f2- | sort >"$TMP/w.re"
		ev_retrans | sort >"$TMP/n.re"
		wn=$(wc -l <"$TMP/w.re")
		wp=$(bpy_retrans | cut -d' ' -f1 | sort | uniq -c | awk '{ printf "%s%s x%s", s, $2, $1; s = ", " }')
		why="pids not compared: a retransmit runs in the RTO timer's softirq or in ACK processing, and tcpretrans prints the task it interrupted ($wp); nacct's retrans events carry no pid"
		if [ "$wn" -gt 0 ] && diff -q "$TMP/w.re" "$TMP/n.re" >/dev/null; then
			ok bcc-tcpretrans "$wn retransmits (laddr:lport raddr:rport state) = nacct retrans events line by line; per connection $(per_conn <"$TMP/w.re"); $why"
		else
			nok bcc-tcpretrans "tcpretrans-bpfcc ($wn): $(per_conn <"$TMP/w.re")" "nacct ($(wc -l <"$TMP/n.re")): $(per_conn <"$TMP/n.re")" \
				"only in tcpretrans: $(comm -23 "$TMP/w.re" "$TMP/n.re" | head -n 5 | paste -sd';')" \
				"only in nacct: $(comm -13 "$TMP/w.re" "$TMP/n.re" | head -n 5 | paste -sd';')"
		fi
	fi
	if bpy_gone tcpdrop; then
		bpy_drops "$PX" | cut -d' ' -f2-3 | sort >"$TMP/w.dr"
		ev_drops "$PX" | cut -d' ' -f1-2 | sort >"$TMP/n.dr"
		wn=$(wc -l <"$TMP/w.dr")
		nreasons=$(ev_drops "$PX" | cut -d' ' -f3 | sort | uniq -c | awk '{ printf "%s%s x%s", s, $2, $1; s = ", " }')
		wst=$(bpy_drops "$PX" | cut -d' ' -f4-5 | sort | uniq -c | awk '{ printf "%s%s %s x%s", s, $2, $3, $1; s = ", " }')
		# bcc 0.26 takes the kprobe on tcp_drop() where it can (where
		# the function exists, not inlined), else skb:kfree_skb, whose
		# program it compiles in only where the tracepoint has its reason
		# (5.17+): before, it warns and attaches nothing at all
		how="kprobe tcp_drop"
		if grep -q '^WARNING: tcp_drop() kernel function not found' "$TMP/bpy.tcpdrop"; then
			how="skb:kfree_skb (no tcp_drop() in $KREL)"
			kver_ge 5 17 || how=nothing
		fi
		why="tcpdrop-bpfcc 0.26 prints no reason (it keeps reasons > NOT_SPECIFIED); its state/flags ($wst) and the pid of the interrupted task are not in nacct's drop events"
		# tcpdrop reports only skbs that carry a socket (its BPF text:
		# __trace_tcp_drop returns at once when sk == NULL); a received
		# segment gets one early only when the stack looked its socket up
		# before netfilter (ip_rcv's early demux, not for every skb of a
		# batch).  nacct keys a drop on the packet's headers: it has those
		# too.  So: each tcpdrop line is one of nacct's, line by line, and
		# nacct's lines are as many as the nft rule's counter.
		nn=$(wc -l <"$TMP/n.dr")
		only_w=$(comm -23 "$TMP/w.dr" "$TMP/n.dr" | wc -l)
		if [ "$wn" = 0 ] && [ "$how" = "kprobe tcp_drop" ] && [ "$nn" = "${nftd:-x}" ]; then
			# tcp_drop() exists, and netfilter's drops never pass it
			# (nf_hook_slow frees with kfree_skb): no witness here
			skip bcc-tcpdrop "kernel $KREL: tcpdrop-bpfcc takes the kprobe on tcp_drop(), which the nft drops never pass: it saw none; nacct $nn ($nreasons) = nft counter $nftd (drop-nft)"
		elif [ "$wn" = 0 ] && [ "$how" = nothing ] && [ "$nn" = "${nftd:-x}" ]; then
			# 5.10 (Debian): tcp_drop() is not kprobe-able, and the
			# tracepoint has no reason: tcpdrop 0.26 traces nothing
			skip bcc-tcpdrop "kernel $KREL: skb:kfree_skb has no drop reason before 5.17 and tcp_drop() is not traceable, so tcpdrop-bpfcc 0.26 attaches no program (its warning: $(grep -m1 '^WARNING' "$TMP/bpy.tcpdrop" | cut -c1-80)); nacct $nn ($nreasons) = nft counter $nftd (drop-nft)"
		elif [ "$wn" -gt 0 ] && [ "$only_w" = 0 ] && [ "$nn" = "${nftd:-x}" ]; then
			ok bcc-tcpdrop "$wn drops to :$PX (saddr:sport daddr:dport) seen by tcpdrop, each = a nacct drop event line by line; nacct $nn = nft counter $nftd ($nreasons), $((nn - wn)) of them on skbs without a socket, which tcpdrop skips (sk == NULL); per connection tcpdrop $(per_conn <"$TMP/w.dr"), nacct $(per_conn <"$TMP/n.dr"); tcpdrop on $how; $why"
		else
			nok bcc-tcpdrop "tcpdrop-bpfcc to :$PX ($wn): $(per_conn <"$TMP/w.dr")" "nacct ($(wc -l <"$TMP/n.dr"): $nreasons): $(per_conn <"$TMP/n.dr")" \
				"nft counter: '${nftd:-}'" "only in tcpdrop: $(comm -23 "$TMP/w.dr" "$TMP/n.dr" | head -n 5 | paste -sd';')" \
				"only in nacct: $(comm -13 "$TMP/w.dr" "$TMP/n.dr" | head -n 5 | paste -sd';')"
		fi
	fi
fi

# ---- queues-virtio: nacct queues on multi-queue virtio-net (tests/vm/queues-virtio.sh) ----
if [ $HOST = 1 ]; then
	skip queues-virtio "no virtio-net on the host (tests/integration/test_tools_queues.sh: veth, 4 queues)"
else
	. "$ROOT/tests/vm/queues-virtio.sh"
	queues_virtio
fi

# ---- side-events-kprobe: the events tests with every kprobe twin forced ----------
# tests/run.sh events again with NACCT_TEST_PROBES=kprobe: tests/lib.sh puts
# --probes kprobe on every attach and events of the tests, so the same
# witnesses (nstat, nft counters, tcpxfer/udpsend counts) judge the twins;
# test_events_probes checks there that status shows every event with a twin
# on its kprobe.  kprobe-twins-run: a set loaded so, with run counting on,
# and traffic that passes every twin (a listen and an accepted transfer, a
# SYN that B's nft drops once, a lone data segment that B's nft drops once
# (A's tail loss probe sends it again), a connect refused with a RST): the
# 12 pinned links are the twins' (tcp_set_state's with its SYN_RECV and
# LISTEN companions, tcp_retransmit_skb's and tcp_send_loss_probe's entries
# and returns) and bpftool's run_cnt of each twin's program is above 0.
# a row of the events tests (CAP LABEL OUTPUT): their summary line decides
events_row() {
	local sum
	sum=$(tail -n 1 <<<"$3")
	case $sum in
	"0 passed, 0 failed"*) skip "$1" "no events test" ;;
	*" 0 failed"*) ok "$1" "$2: $sum" ;;
	*) nok "$1" "$sum" "$(failed_checks <<<"$3")" ;;
	esac
}

side_events_kprobe() {
	local sj bad l id rc links runs srv
	if [ ! -r /sys/bus/event_source/devices/kprobe/type ]; then
		skip side-events-kprobe "kernel without kprobes"
		skip kprobe-twins-run "kernel without kprobes"
		return
	fi
	if [ -n "$KP_REFUSED" ]; then
		skip side-events-kprobe "kernel $KREL: ${KP_REFUSED#nacct: }"
		skip kprobe-twins-run "kernel $KREL: ${KP_REFUSED#nacct: }"
		return
	fi
	# NACCT_VM_EVENTS_PATTERN: a subset (a row rechecked alone)
	events_row side-events-kprobe "NACCT_TEST_PROBES=kprobe tests/run.sh events" \
		"$(NACCT_TEST_PROBES=kprobe "$ROOT/tests/run.sh" "${NACCT_VM_EVENTS_PATTERN:-events}" 2>&1)"
	command -v nft >/dev/null || { skip kprobe-twins-run "no nft"; return; }
	sysctl -qw kernel.bpf_stats_enabled=1
	ina "$NACCT" attach --probes kprobe "$IFA" >"$TMP/kt.out" 2>&1 ||
		{ nok kprobe-twins-run "attach --probes kprobe: $(cat "$TMP/kt.out")"; sysctl -qw kernel.bpf_stats_enabled=0; return; }
	sj=$(ina "$NACCT" status "$IFA" --json)
	# traffic through every twin: accept, states, rtt (a transfer A -> B) ...
	inb "$ROOT/.output/tcpxfer" server 198.18.1.2 20871 >"$TMP/kt.srv" &
	srv=$!
	for _ in $(seq 50); do grep -q ready "$TMP/kt.srv" && break; sleep 0.1; done
	ina "$ROOT/.output/tcpxfer" client 198.18.1.2 20871 200000 >/dev/null
	wait $srv
	# ... a retransmit: B's nft drops the first SYN to 20872, where nothing
	# listens: the retransmitted SYN gets a RST (resets sent and received)
	inb nft add table inet nacctkt &&
		inb nft add chain inet nacctkt in '{ type filter hook input priority 0; }' &&
		inb nft add rule inet nacctkt in tcp dport 20872 numgen inc mod 2 == 0 drop
	ina timeout 5 bash -c 'exec 3<>/dev/tcp/198.18.1.2/20872' 2>/dev/null
	# ... a tail loss probe: B's nft drops A's one data segment to 20873
	# once; nothing follows it, so A's probe timer sends it again
	inb timeout 20 "$ROOT/.output/tcpxfer" server 198.18.1.2 20873 >"$TMP/kt.tlp" &
	srv=$!
	for _ in $(seq 50); do grep -q ready "$TMP/kt.tlp" && break; sleep 0.1; done
	inb nft add rule inet nacctkt in tcp dport 20873 'tcp flags & psh == psh' numgen inc mod 2 == 0 drop
	ina timeout 5 bash -c 'exec 3<>/dev/tcp/198.18.1.2/20873; printf x >&3; sleep 2' 2>/dev/null
	wait $srv
	inb nft delete table inet nacctkt
	# ... and resets both ways (a connect to a closed port of A, from B)
	inb timeout 2 bash -c 'exec 3<>/dev/tcp/198.18.1.1/9' 2>/dev/null
	bad= runs=
	links=$(ls /sys/fs/bpf/nacct/:probes/ | grep '^link_nacct_.*_kp$')
	for l in $links; do
		id=$(bpftool link show pinned "/sys/fs/bpf/nacct/:probes/$l" -j | jq -r .prog_id)
		rc=$(bpftool prog show id "$id" -j | jq -r '.run_cnt // 0')
		runs="$runs ${l#link_nacct_}:$rc"
		[ "$rc" -gt 0 ] || bad="$bad ${l#link_nacct_}"
	done
	ina "$NACCT" detach "$IFA" >/dev/null
	sysctl -qw kernel.bpf_stats_enabled=0
	if [ "$(jq -r '.side_programs.mode' <<<"$sj")" = kprobe ] && [ "$(grep -c . <<<"$links")" = 12 ] &&
		[ -z "$(jq -r '.side_programs.programs[] | select(.has_twin and .kind != "kprobe") | .event' <<<"$sj")" ] &&
		[ -z "$bad" ]; then
		ok kprobe-twins-run "status: every event with a twin on its kprobe ($(jq -r '[.side_programs.programs[] | select(.kind == "kprobe") | .section] | join(", ")' <<<"$sj")); bpftool run_cnt:$runs"
	else
		nok kprobe-twins-run "status: $(jq -c .side_programs <<<"$sj")" "links: $(tr '\n' ' ' <<<"$links")" \
			"run_cnt:$runs; never ran:${bad:- none}"
	fi
}

# ---- the core integration tests (netns + veth inside this kernel) ----------------
# under TCG packet work is 10-30x slower than on the host: in a guest the
# default is the exact-count core test; NACCT_VM_CORE_PATTERN=core runs all
[ $HOST = 1 ] && : "${NACCT_VM_CORE_PATTERN:=core}"
: "${NACCT_VM_CORE_PATTERN:=core_exact}"
export NACCT_TEST_TIMEOUT=${NACCT_TEST_TIMEOUT:-600}
if [ "${NACCT_VM_CORE:-1}" = 1 ]; then
	out=$("$ROOT/tests/run.sh" "$NACCT_VM_CORE_PATTERN" 2>&1)
	sum=$(tail -n 1 <<<"$out")
	case $sum in
	*" 0 failed"*) ok core-tests "tests/run.sh $NACCT_VM_CORE_PATTERN: $sum" ;;
	*) nok core-tests "$sum" "$(failed_checks <<<"$out")" \
		"last lines: $(grep -v '^    ok ' <<<"$out" | tail -n 12)" ;;
	esac
	events_row side-events "tests/run.sh events" "$("$ROOT/tests/run.sh" events 2>&1)"
	side_events_kprobe
else
	skip core-tests "NACCT_VM_CORE=0"
fi
exit $FAILED
