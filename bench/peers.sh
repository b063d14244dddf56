#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Peers side by side at the same offered loads: bench_gen sends a fixed
# number of IPv4 UDP packets (1000 flows) at a fixed rate into B's veth,
# where one tool at a time accounts them:
#   nacct      inline (XDP, count + pass); accounted = rx packets of its UDP flows
#   pmacctd    libpcap, print plugin (CSV); accounted = sum of its packets
#   softflowd  libpcap -> NetFlow v9 -> nfcapd; accounted = nfdump packets
#   tcpdump    -w to tmpfs; accounted = "packets captured"
# The generator's count is exact; loss = 1 - accounted / sent.  CPU % is
# the tool's user+system time (all its processes) over the send interval.
# Every peer filters "udp".  The frames carry another host's destination
# MAC, as on a mirror (SPAN) port: B's IP layer drops them at once, so the
# figures are the tools' own cost, not the stack's (which on this shared
# 2-core machine tops out well below 1 Mpps).
# Usage: bench/peers.sh [--quick] [--out FILE.tsv]
# TSV: tool offered_mpps run sent accounted loss_pct cpu_pct achieved_mpps
set -u
. "$(dirname "$0")/lib.sh"

b_args "$@"
if [ "$QUICK" = 1 ]; then
	SECS=2; LOADS="0.25 1"; RUNS=1
else
	SECS=6; LOADS="0.25 0.5 1"; RUNS=3
fi
b_need_root
b_setup_pair || { echo "peers: cannot create the netns pair" >&2; exit 1; }
GEN_DST_MAC=02:00:00:00:be:ef
SHM=$(mktemp -d /dev/shm/nacct-bench.XXXXXX)
b_cleanup_add "rm -rf $SHM"

start_tool() {
	local tool=$1 d=$SHM/$tool
	rm -rf "$d"
	mkdir -p "$d"
	case "$tool" in
	nacct)
		in_b "$NACCT" attach "$IF_B" --max-flows 65536 >/dev/null || return 1
		in_b "$NACCT" subnets "$IF_B" 1 >/dev/null 2>&1 &
		;;
	pmacctd)
		cat >"$d/pm.conf" <<EOC
daemonize: false
pcap_interface: $IF_B
pcap_filter: udp
aggregate: src_host, dst_host, src_port, dst_port, proto
plugins: print
print_output: csv
print_output_file: $d/pm.csv
print_refresh_time: 3600
plugin_buffer_size: 102400
plugin_pipe_size: 102400000
EOC
		in_b pmacctd -f "$d/pm.conf" >"$d/log" 2>&1 &
		;;
	softflowd)
		mkdir -p "$d/nf"
		in_b nfcapd -w "$d/nf" -p 19995 -b 127.0.0.1 -t 3600 >"$d/nfcapd.log" 2>&1 &
		echo $! >"$d/nfcapd.pid"
		b_cleanup_add "b_stop $!"
		sleep 0.3
		in_b softflowd -d -i "$IF_B" -n 127.0.0.1:19995 -v 9 -m 65536 -c "$d/ctl" \
			-p "$d/pid" udp >"$d/log" 2>&1 &
		;;
	tcpdump)
		in_b tcpdump -n -i "$IF_B" -w "$d/x.pcap" udp >"$d/log" 2>&1 &
		;;
	esac
	TOOL_PID=$!
	b_cleanup_add "b_stop $TOOL_PID"
	sleep 1
}

# prints the accounted packet count after stopping the tool
stop_tool() {
	local tool=$1 d=$SHM/$tool n
	case "$tool" in
	nacct)
		# UDP flows only, like the peers' "udp" filter (B's interface also
		# sees the odd IPv6 neighbour or router message)
		n=$(in_b "$NACCT" flows "$IF_B" --json | jq -s '[.[] | select(.proto_num == 17) | .rx_packets] | add // 0')
		b_stop "$TOOL_PID"
		in_b "$NACCT" detach "$IF_B" >/dev/null
		echo "$n" ;;
	pmacctd)
		# SIGINT: pmacctd's print plugin writes its cache on the way out
		b_stop "$TOOL_PID" INT
		awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "PACKETS") c = i; next }
			c { s += $c } END { print s + 0 }' "$d"/pm.csv 2>/dev/null || echo 0 ;;
	softflowd)
		in_b softflowctl -c "$d/ctl" expire-all >/dev/null 2>&1
		sleep 1
		b_stop "$TOOL_PID"
		sleep 0.5
		b_stop "$(cat "$d/nfcapd.pid")"
		nfdump -R "$d/nf" -q -o 'fmt:%pkt' 2>/dev/null | awk '{ v = $1
			if (v ~ /M$/) v = v * 1e6; else if (v ~ /K$/) v = v * 1e3; s += v } END { print s + 0 }' ;;
	tcpdump)
		b_stop "$TOOL_PID"
		awk '/packets captured/ { print $1 }' "$d/log" ;;
	esac
}

b_log "peers: loads $LOADS Mpps, ${SECS}s each, $RUNS runs"
printf 'tool\toffered_mpps\trun\tsent\taccounted\tloss_pct\tcpu_pct\tachieved_mpps\n' >"$OUT"
for load in $LOADS; do
	count=$(awk -v l="$load" -v s="$SECS" 'BEGIN {printf "%d", l * 1e6 * s}')
	for run in $(seq "$RUNS"); do
		for tool in nacct pmacctd softflowd tcpdump; do
			command -v "$tool" >/dev/null 2>&1 || [ "$tool" = nacct ] || { b_log "peers: $tool missing"; continue; }
			start_tool "$tool" || continue
			t0=$(b_ticks "$TOOL_PID")
			out=$(b_gen -f 1000 -n "$count" -r "$(awk -v l="$load" 'BEGIN {print l * 1e6}')")
			t1=$(b_ticks "$TOOL_PID")
			read -r sent secs <<<"$out"
			sleep 1
			acc=$(stop_tool "$tool")
			line=$(awk -v t="$tool" -v l="$load" -v r="$run" -v s="$sent" -v a="${acc:-0}" \
				-v tk=$((t1 - t0)) -v hz="$B_HZ" -v sec="$secs" 'BEGIN {
				printf "%s\t%s\t%s\t%d\t%d\t%.2f\t%.1f\t%.3f\n", t, l, r, s, a,
					s ? 100 * (s - a) / s : 0, 100 * tk / hz / sec, s / sec / 1e6 }')
			echo "$line" >>"$OUT"
			b_log "$line"
		done
	done
done
