#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Control plane with a flow map holding FLOWS flows (attach --max-flows
# 1048576, filled by bench_gen sending FLOWS distinct flows; the fill is
# checked against nacct status): the wall time of
#   dump_json_s    nacct flows IFACE --json > /dev/null (lines checked)
#   dump_csv_s     nacct flows IFACE --csv > /dev/null (lines checked)
#   top10_s        nacct flows IFACE --top 10 > /dev/null
#   status_s       nacct status IFACE (plain)
#   status_json_s  nacct status IFACE --json
# and the memory a flow costs: bpftool's bytes_memlock of nacct_flows /
# max_entries (per-CPU values included, at this machine's possible CPUs),
# with the map's key and value sizes and the possible CPUs, from which
# bench/summary.sh computes the cost at other CPU counts.
# Usage: bench/ctlplane.sh [--quick] [--out FILE.tsv]
# TSV: what flows run value unit
set -u
. "$(dirname "$0")/lib.sh"

FLOWS=${BENCH_CTL_FLOWS:-1000000}
b_args "$@"
RUNS=3
[ "$QUICK" = 1 ] && RUNS=1
b_need_root
b_setup_pair || { echo "ctlplane: cannot create the netns pair" >&2; exit 1; }
printf 'what\tflows\trun\tvalue\tunit\n' >"$OUT"
row() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" | tee -a "$OUT" | sed 's/^/# /' >&2; }

in_b "$NACCT" attach "$IF_B" --max-flows 1048576 >/dev/null || exit 1
# tap mode while filling: the stack would only slow the fill down
b_nacct_cfg 0 128 1
# every CPU's share is about FLOWS frames, and one of them sends them all
GEN_DST_MAC=02:00:00:00:be:ef b_gen -f "$FLOWS" -n $((FLOWS * 3)) >/dev/null
n=$(in_b "$NACCT" status "$IF_B" --json | jq -r .maps.flows)
row flows_in_map "$FLOWS" 0 "$n" flows
# timed WHAT WANT_LINES CMD...: one row per run with the wall time of CMD
# (stdout counted, then dropped); WANT_LINES "-": not checked
timed() {
	local what=$1 want=$2 run t0 t1 lines
	shift 2
	for run in $(seq "$RUNS"); do
		t0=$(date +%s.%N)
		lines=$(in_b "$@" | wc -l)
		t1=$(date +%s.%N)
		row "$what" "$n" "$run" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')" s
		[ "$want" = - ] || [ "$lines" = "$want" ] ||
			b_log "ctlplane: $what printed $lines lines, expected $want"
	done
}
timed dump_json_s "$n" "$NACCT" flows "$IF_B" --json
timed dump_csv_s "$((n + 1))" "$NACCT" flows "$IF_B" --csv
timed top10_s - "$NACCT" flows "$IF_B" --top 10
timed status_s - "$NACCT" status "$IF_B"
timed status_json_s - "$NACCT" status "$IF_B" --json
ncpu=$(awk -F- '{print $NF + 1}' /sys/devices/system/cpu/possible)
info=$(bpftool map show pinned "$(b_pin_dir)/nacct_flows" -j)
mem=$(jq -r .bytes_memlock <<<"$info")
max=$(jq -r .max_entries <<<"$info")
row flows_bytes_memlock "$max" 0 "$mem" bytes
row bytes_per_flow "$max" 0 "$(awk -v m="$mem" -v n="$max" 'BEGIN {printf "%.1f", m / n}')" "bytes (${ncpu} possible CPUs)"
row flows_key_size "$max" 0 "$(jq -r .bytes_key <<<"$info")" bytes
row flows_value_size "$max" 0 "$(jq -r .bytes_value <<<"$info")" bytes
row possible_cpus "$max" 0 "$ncpu" cpus
# the flow table layout attach gave (1: per-CPU values, 0: shared)
row flows_percpu "$max" 0 "$(jq -r 'if .type == "percpu_hash" then 1 else 0 end' <<<"$info")" bool
for m in nacct_subnets nacct_subnet_stats nacct_stats nacct_samples nacct_frags; do
	row "${m}_bytes_memlock" "$max" 0 "$(bpftool map show pinned "$(b_pin_dir)/$m" -j | jq -r .bytes_memlock)" bytes
done
# export into ClickHouse: the whole map (every flow is due: --active-timeout 1
# on flows filled seconds ago) from the exporter's start until the server
# holds a row for every flow: export_clickhouse_s and the rows per second
# (a private Debian clickhouse-server on 127.0.0.1 in the bench's namespace)
CHS=$(dirname "$0")/../tests/tools/clickhouse.sh
if [ -x /usr/sbin/clickhouse-server ]; then
	chd=$(mktemp -d /tmp/nacct-bench-ch.XXXXXX)
	if chp=$(in_b "$CHS" start "$chd" 18123); then
		t0=$(date +%s.%N)
		nsenter --net=/run/netns/"$NS_B" "$NACCT" export "$IF_B" --clickhouse http://127.0.0.1:18123 \
			--exporter-id bench --active-timeout 1 --idle-timeout 86400 --scan-rate 67108864 \
			2>"$chd/export.log" &
		xp=$!
		rows=0
		for _ in $(seq 1 1200); do
			rows=$(in_b "$CHS" query 18123 "SELECT count() FROM nacct.flows" 2>/dev/null || echo 0)
			[ "${rows:-0}" -ge "$n" ] && break
			sleep 0.1
		done
		t1=$(date +%s.%N)
		kill "$xp"; wait "$xp" 2>/dev/null
		# after the exporter's last round: every packet of the flows is in a row
		want=$(in_b "$NACCT" status "$IF_B" --json |
			jq -r '.totals | .packets - .overflow_packets - .malformed_packets - .nonip_packets')
		pk=$(in_b "$CHS" query 18123 "SELECT sum(packets) FROM nacct.flows" 2>/dev/null)
		[ "$rows" -ge "$n" ] && [ "$pk" = "$want" ] ||
			b_log "ctlplane: ClickHouse has $rows rows / $pk packets, expected $n / $want: $(tail -n 3 "$chd/export.log")"
		row export_clickhouse_s "$n" 1 "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')" s
		row export_clickhouse_flows_per_s "$n" 1 \
			"$(awk -v a="$t0" -v b="$t1" -v r="$rows" 'BEGIN {printf "%.0f", r / (b - a)}')" flows/s
		kill "$chp"
		for _ in $(seq 1 100); do kill -0 "$chp" 2>/dev/null || break; sleep 0.1; done
	else
		b_log "ctlplane: clickhouse-server did not start"
	fi
	rm -rf "$chd"
fi
in_b "$NACCT" detach "$IF_B" >/dev/null
