#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# nacct capture: how many packets per second it sustains, and what the
# sampling test costs the data path.  Never fails on speed: prints figures.
#
# 1. Capture rate.  bench_gen (XDP live frames, exact count) offers 64-byte
#    UDP frames at a fixed rate into B's 2-queue veth while
#    `nacct capture IFACE --sample 1/1 -w /dev/shm/...` writes every sampled
#    packet.  Modes: inline (XDP copies into the ring buffer, frames go on
#    to the stack) and tap (XDP redirects to AF_XDP sockets, copy mode on
#    veth; tap-big: --frames 16384 --ring 8192).  counted = packets that
#    reached nacct (its own counter: the generator overruns the veth ring
#    at high rates); written_kpps = packets in the file / send time; drops
#    are the ring-buffer (or AF_XDP socket) losses the capture reports;
#    cpu % is the capture process's user+system time over the send time.
# 2. Per-packet cost of sampling.  BPF_PROG_TEST_RUN (bpftool prog run) of
#    the attached nacct_xdp program on one 64-byte UDP frame, repeated, for
#    nacct_cfg sample_n = 0 (off), 1000, 100, 10 and 1 (every packet, ring
#    buffer kept full: the drop path) and 1 with a capture draining.
#
# Usage: bench/capture_rate.sh [--quick] [--out FILE.tsv]
# TSV lines: rate MODE TARGET_KPPS RUN COUNTED COUNTED_KPPS WRITTEN WRITTEN_KPPS DROPS CPU_PCT
#            cost SAMPLE_N RUN NS_PER_PKT
set -u
. "$(dirname "$0")/lib.sh"

b_args "$@"
if [ "$QUICK" = 1 ]; then
	RUNS=1; SECS=1.5; RATES="100000 500000 0"; REPEAT=2000000
else
	RUNS=3; SECS=3; RATES="100000 250000 500000 1000000 2000000 0"; REPEAT=10000000
fi
b_need_root
b_setup_pair || { echo "capture_rate: cannot create the netns pair" >&2; exit 1; }
in_b "$NACCT" attach "$IF_B" >/dev/null || { echo "capture_rate: attach failed" >&2; exit 1; }
SHM=$(mktemp -d /dev/shm/nacct-bench.XXXXXX)
b_cleanup_add "rm -rf $SHM"

# start a capture in B; sets CAP_PID, CAP_ERR
cap_start() {
	local i
	CAP_ERR=$B_TMP/cap.err
	nsenter --net=/run/netns/"$NS_B" "$NACCT" capture "$IF_B" -w "$SHM/cap.pcap" "$@" \
		2>"$CAP_ERR" &
	CAP_PID=$!
	b_cleanup_add "kill -INT $CAP_PID"
	for ((i = 0; i < 600; i++)); do
		grep -qs ': capturing' "$CAP_ERR" && return 0
		kill -0 "$CAP_PID" 2>/dev/null || break
		sleep 0.1
	done
	b_log "capture did not start: $(cat "$CAP_ERR")"
	return 1
}
cap_stop() {
	kill -INT "$CAP_PID" 2>/dev/null
	wait "$CAP_PID" 2>/dev/null
}

echo "# capture rate: 64-byte UDP, 16 flows, ${SECS}s per point, sample 1/1; target 0 = as fast as bench_gen goes" >&2
# tap: the default rings (32 MiB of UMEM per queue), and bigger ones (64 MiB)
for mode in inline tap tap-big; do
	for rate in $RATES; do
		for ((run = 1; run <= RUNS; run++)); do
			args=(--sample 1/1 --snaplen 128)
			case "$mode" in
			tap) args+=(--tap) ;;
			tap-big) args+=(--tap --frames 16384 --ring 8192) ;;
			esac
			cap_start "${args[@]}" || continue
			t0=$(b_ticks "$CAP_PID")
			if [ "$rate" = 0 ]; then
				out=$(b_gen -f 16 -s 64 -d "$SECS")
			else
				out=$(b_gen -f 16 -s 64 -d "$SECS" -r "$rate")
			fi
			sleep 0.3
			t1=$(b_ticks "$CAP_PID")
			cap_stop
			read -r sent secs <<<"$out"
			# what reached nacct (the generator overruns the veth ring at high rates)
			counted=$(awk '/packets sampled of/ {print $5}' "$CAP_ERR")
			written=$(awk '/packets captured/ {print $1}' "$CAP_ERR")
			drops=$(awk '/packets dropped by/ {print $1}' "$CAP_ERR")
			awk -v m="$mode" -v r="$rate" -v run="$run" -v c="${counted:-0}" -v t="$secs" \
				-v w="${written:-0}" -v d="${drops:-0}" -v ticks=$((t1 - t0)) -v hz="$B_HZ" 'BEGIN {
				printf "rate\t%s\t%d\t%d\t%d\t%.1f\t%d\t%.1f\t%d\t%.1f\n", m, r / 1000, run,
					c, c / t / 1000, w, w / t / 1000, d, 100 * ticks / hz / t }' >>"$OUT"
			rm -f "$SHM/cap.pcap"
		done
	done
done

# ---- per-packet cost of the sampling test (BPF_PROG_TEST_RUN) --------------
# 64-byte Ethernet/IPv4/UDP frame 198.18.0.1:1234 -> 198.18.0.2:9
PKT=$B_TMP/pkt.bin
printf '%s' "${MAC_B//:/}${MAC_A//:/}0800" \
	"4500003200004000401100000000c6120001c6120002" "04d20009001e0000" \
	"00000000000000000000000000000000000000000000" | xxd -r -p >"$PKT"
PROG="$(b_pin_dir)/prog_xdp"
run_cost() { # sample_n run
	b_nacct_cfg "$1" 64 0
	in_b bpftool prog run pinned "$PROG" data_in "$PKT" repeat "$REPEAT" 2>&1 |
		awk -v n="$1" -v r="$2" '/duration/ { sub(/ns.*/, "", $NF); printf "cost\t%s\t%d\t%s\n", n, r, $NF }'
}
echo "# sampling cost: bpftool prog run, $REPEAT repeats of one 64-byte frame, ns/packet" >&2
for ((run = 1; run <= RUNS; run++)); do
	for n in 0 1000 100 10 1; do
		run_cost "$n" "$run" >>"$OUT"
	done
	# every packet sampled with a reader draining the ring buffer
	cap_start --sample 1/1 --snaplen 64 || continue
	run_cost 1 "$run" | sed 's/^cost\t1\t/cost\t1+reader\t/' >>"$OUT"
	cap_stop
	rm -f "$SHM/cap.pcap"
done
b_nacct_cfg 0 128 0
