#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Line rate on a 2-queue veth between two private netns, with bench_gen
# (XDP live frames, one thread per CPU) as the sender.  Receiver configs:
#   none    no program: into the network stack (kernel: rx_packets)
#   drop    bare XDP_DROP (kernel: sum of rx_queue_N_xdp_drops)
#   hash    bare PERCPU_HASH flow update + XDP_DROP (bench/hashdrop.bpf.c):
#           what tap mode does without nacct's bookkeeping (kernel: xdp_drops)
#   tap     nacct attach + `nacct capture --tap --sample 1/1000000`: count,
#           drop all but the samples (nacct: totals.rx_packets; kernel:
#           xdp_drops)
#   xdppass bare native XDP_PASS + TC egress pass (bench/pass.bpf.c): the
#           hooks inline mode uses, doing nothing (kernel: rx_packets)
#   inline  nacct attach --side-programs off: count, then pass to the
#           stack: the data path alone (nacct: totals.rx_packets; kernel:
#           rx_packets)
#   inline_side  nacct attach (the default): the same, with the host's side
#           programs loaded.  Every frame here ends as a drop in the stack
#           (no socket listens), so skb:kfree_skb's program runs once per
#           packet too: inline_side / inline is the side programs' cost on
#           a host whose traffic is dropped
# inline / xdppass is nacct's own cost in inline mode; none / xdppass is
# veth's: with a native XDP program it runs XDP on the frame, then builds
# the skb, where without one the frame goes to the stack directly.
# Every run takes the configs in turn (so background load drifts hit all
# of them alike), for each flow count.  With many flows a warm-up pass
# sends every flow (about once per CPU) before the measured interval, so
# the figures are the steady state (updates); bench_micro reports the
# insert cost separately.  While nacct is attached, the CPU time of its
# user-space process is measured from /proc: `nacct subnets IFACE 1`
# (inline) or the tap capture (tap).
# Usage: bench/linerate.sh [--quick] [--out FILE.tsv]
# TSV: cfg flows run offered_mpps kernel_mpps nacct_mpps xmit_err nacct_cpu_pct
set -u
. "$(dirname "$0")/lib.sh"

b_args "$@"
if [ "$QUICK" = 1 ]; then
	RUNS=3; SECS=1.5; FLOWS="1 100000"
else
	RUNS=3; SECS=3; FLOWS="1 1000 100000 1000000"
fi
HASH_OBJ=$B_ROOT/.output/bench/hashdrop.bpf.o
PASS_OBJ=$B_ROOT/.output/bench/pass.bpf.o
# the tap capture's samples; one() runs in a command substitution, so its
# own b_cleanup_add would be lost with the subshell: registered here
TAP_PCAP=/dev/shm/$B_ID-tap.pcap
b_cleanup_add "rm -f $TAP_PCAP"
b_need_root
b_setup_pair || { echo "linerate: cannot create the netns pair" >&2; exit 1; }

rx_kernel() {
	case "$1" in
	drop|hash|tap) b_xdp_drops ;;
	*) b_rx_packets ;;
	esac
}

one() {
	local cfg=$1 flows=$2 run=$3 k0 k1 n0=0 n1=0 e0 e1 out sent secs mon="" t0=0 t1=0 cpu="-"
	case "$cfg" in
	drop) in_b ip link set dev "$IF_B" xdpdrv obj "$DROP_OBJ" sec xdp || return ;;
	hash) in_b ip link set dev "$IF_B" xdpdrv obj "$HASH_OBJ" sec xdp || return ;;
	xdppass)
		in_b ip link set dev "$IF_B" xdpdrv obj "$PASS_OBJ" sec xdp || return
		if ! { in_b tc qdisc add dev "$IF_B" clsact &&
			in_b tc filter add dev "$IF_B" egress bpf da obj "$PASS_OBJ" sec tc; }; then
			in_b ip link set dev "$IF_B" xdpdrv off
			in_b tc qdisc del dev "$IF_B" clsact 2>/dev/null
			return
		fi ;;
	tap|inline|inline_side)
		local side=on
		[ "$cfg" = inline ] && side=off
		in_b "$NACCT" attach "$IF_B" --max-flows 1048576 --side-programs $side >/dev/null 2>&1 ||
			return
		if [ "$cfg" = tap ]; then
			# tap mode drops only while AF_XDP sockets are bound to the
			# queues: a running tap capture (1 in 10^6 frames sampled to
			# tmpfs) is both the binding and the user-space process measured
			in_b "$NACCT" capture "$IF_B" --tap --sample 1/1000000 \
				-w "$TAP_PCAP" >/dev/null 2>&1 &
			mon=$!
			sleep 1
		else
			in_b "$NACCT" subnets "$IF_B" 1 >/dev/null 2>&1 &
			mon=$!
			sleep 0.3
		fi ;;
	esac
	# steady state, not the insert burst: each CPU's share covers every flow
	# about once (the CPU that sends more covers all of them)
	[ "$flows" -gt 1 ] && b_gen -f "$flows" -n $((flows * $(nproc))) >/dev/null
	[ -n "$mon" ] && n0=$(b_nacct_rx)
	k0=$(rx_kernel "$cfg")
	e0=$(b_xmit_err)
	[ -n "$mon" ] && t0=$(b_ticks "$mon")
	out=$(b_gen -f "$flows" -d "$SECS")
	[ -n "$mon" ] && t1=$(b_ticks "$mon")
	sleep 0.2
	k1=$(rx_kernel "$cfg")
	e1=$(b_xmit_err)
	read -r sent secs <<<"$out"
	if [ -n "$mon" ]; then
		n1=$(b_nacct_rx)
		b_stop "$mon"
		[ "$cfg" = tap ] && rm -f "$TAP_PCAP"
		cpu=$(awk -v t=$((t1 - t0)) -v hz="$B_HZ" -v s="$secs" 'BEGIN {printf "%.2f", 100 * t / hz / s}')
		in_b "$NACCT" detach "$IF_B" >/dev/null
	fi
	case "$cfg" in drop|hash|xdppass) in_b ip link set dev "$IF_B" xdpdrv off ;; esac
	[ "$cfg" = xdppass ] && in_b tc qdisc del dev "$IF_B" clsact
	awk -v c="$cfg" -v f="$flows" -v r="$run" -v s="$sent" -v t="$secs" -v k=$((k1 - k0)) \
		-v n=$((n1 - n0)) -v e=$((e1 - e0)) -v cpu="$cpu" -v nac="$mon" 'BEGIN {
		printf "%s\t%s\t%s\t%.3f\t%.3f\t%s\t%d\t%s\n", c, f, r, s / t / 1e6, k / t / 1e6,
			nac == "" ? "-" : sprintf("%.3f", n / t / 1e6), e, cpu }'
}

b_log "linerate: $RUNS runs of ${SECS}s, flows: $FLOWS"
printf 'cfg\tflows\trun\toffered_mpps\tkernel_mpps\tnacct_mpps\txmit_err\tnacct_cpu_pct\n' >"$OUT"
for flows in $FLOWS; do
	for run in $(seq "$RUNS"); do
		for cfg in none drop hash tap xdppass inline inline_side; do
			line=$(one "$cfg" "$flows" "$run")
			[ -n "$line" ] && { echo "$line" >>"$OUT"; b_log "$line"; }
		done
	done
done
