#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Turns the TSV files of one benchmark run (bench/run.sh) into markdown
# tables on stdout and PNG plots (gnuplot) next to them; the targets, their
# change against the previous run and the stages come from the run's
# summary.json (bench/summary.sh), when it has one.
# Usage: bench/report.sh DIR   (DIR holds micro.tsv linerate.tsv peers.tsv
#                               ctl.tsv, and summary.json)
set -u
D=$1

mmm() { # min / median / max of column values on stdin
	sort -g | awk -v f="${1:-%.2f}" '{v[NR] = $1} END {
		if (!NR) { print "-"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf f " / " f " / " f, v[1], m, v[NR] }'
}
med() { sort -g | awk '{v[NR] = $1} END { if (!NR) print 0; else print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ---- targets, change, stages: from summary.json (bench/summary.sh) -----------
S=$D/summary.json
SUM=$(dirname "$0")/summary.sh
if [ -s "$S" ]; then
	echo "### Where nacct stands against its targets"
	echo
	echo "From [summary.json]($(basename "$D")/summary.json): median (min) of the runs; every"
	echo "ratio is against a baseline measured in this run; *met* compares the median-based"
	echo "figure with the goal (\`info\`: no goal).  Benchmarks never fail on speed."
	echo
	"$SUM" targets "$S"
	echo
	echo "### Change against the previous run of the same kind"
	echo
	"$SUM" compare "$S"
	echo
	echo "### nacct_xdp stage by stage (IPv4, BPF_PROG_TEST_RUN)"
	echo
	echo "Cumulative variants of nacct's own code (bench/variants.bpf.c): each stage does"
	echo "everything of the one above plus what it adds; + is the increment of the medians."
	echo "The last stage is the real nacct_xdp (sampling off)."
	echo
	"$SUM" stages "$S"
	echo
fi

# ---- micro ------------------------------------------------------------------
if [ -s "$D/micro.tsv" ]; then
	M=$D/micro.tsv
	# hook family prog flows phase subnets sample_n min median max
	mic() { awk -F'\t' -v h="$1" -v f="$2" -v p="$3" -v n="$4" -v ph="$5" -v s="$6" -v sn="$7" -v c="${8:-9}" \
		'$1 == h && $2 == f && $3 == p && $4 == n && $5 == ph && $6 == s && $7 == sn {print $c; exit}' "$M"; }
	echo "### Per-packet cost (BPF_PROG_TEST_RUN, ns/packet, min / median / max)"
	echo
	echo "| hook | IP | program | flows | phase | subnets | sample_n | ns/pkt | vs bare hash: median (min) |"
	echo "|---|---|---|---|---|---|---|---|---|"
	awk -F'\t' '{print}' "$M" | while IFS=$'\t' read -r h f p n ph s sn mi me ma _; do
		base=$(mic "$h" "$f" hash "$n" "$ph" 0 0)
		bmin=$(mic "$h" "$f" hash "$n" "$ph" 0 0 8)
		r="-"
		{ [ "$p" = nacct ] || [ "$p" = hash64 ] || [ "$p" = st_account ]; } && [ -n "$base" ] &&
			r=$(awk -v a="$me" -v b="$base" -v x="$mi" -v y="$bmin" 'BEGIN {printf "%.2fx (%.2fx)", a / b, x / y}')
		echo "| $h | v$f | $p | $n | $ph | $s | $sn | $mi / $me / $ma | $r |"
	done
	echo
	echo "flows 1: one packet, test_run repeat N (hot flow).  flows > 1: the rewriter"
	echo "program stamps flow i mod F into the packet and tail-calls the program under"
	echo "test; *insert* is the first pass (F new flows, repeat = F), *update* the next"
	echo "N packets over the existing flows; its own baseline is *pass* at the same"
	echo "flows (rewriter + tail call + XDP_PASS).  hash = bare PERCPU_HASH update (40-byte"
	echo "key, 16-byte value); hash64 = the same with nacct's 64-byte value + coarse clock;"
	echo "st_* = the cumulative stages of nacct's own code (bench/variants.bpf.c, see the"
	echo "stage table).  Items are measured in interleaved runs (run 1 of every item, then"
	echo "run 2, ...); the min is the run least disturbed by other load on the machine"
	echo "(noise only adds time), so the ratio of the mins is the steadier figure when"
	echo "medians spread."
	echo
	# ns/pkt vs subnets
	for fam in 4 6; do
 		i=0
		for s in 0 10 10000 100000; do
			i=$((i + 1))
			[ -z "$(mic xdp $fam nacct 1 hot $s 0)" ] && continue
			printf '%s\t%s\t%s\t%s\n' "$((i - 1))" "$(mic xdp $fam nacct 1 hot $s 0)" \
				"$(awk -F'\t' -v f=$fam -v s=$s '$1 == "xdp" && $2 == f && $3 == "nacct" && $4 > 1 && $5 == "insert" && $6 == s && $7 == 0 {print $9}' "$M")" \
				"$(awk -F'\t' -v f=$fam -v s=$s '$1 == "xdp" && $2 == f && $3 == "nacct" && $4 > 1 && $5 == "update" && $6 == s && $7 == 0 {print $9}' "$M")"
		done >"$D/subnets_v$fam.dat"
	done
	if command -v gnuplot >/dev/null; then
		gnuplot <<EOG 2>/dev/null
set terminal pngcairo size 800,500 font ",11"
set output "$D/ns_vs_subnets.png"
set title "nacct XDP: ns/packet vs configured subnets (BPF\\\\_PROG\\\\_TEST\\\\_RUN, medians)"
set xlabel "subnets in the LPM trie"
set ylabel "ns / packet"
set key top left
set grid
set style data linespoints
set xtics ("0" 0, "10" 1, "10k" 2, "100k" 3)
set xrange [-0.2:3.2]
set key outside below
set yrange [0:*]
set datafile missing "-"
plot "$D/subnets_v4.dat" using 1:(\$2 > 0 ? \$2 : 1/0) title "IPv4, 1 flow (hot)" lw 2 pt 7, \
     "$D/subnets_v4.dat" using 1:(\$3 > 0 ? \$3 : 1/0) title "IPv4, 1M flows, insert" lw 2 pt 5, \
     "$D/subnets_v4.dat" using 1:(\$4 > 0 ? \$4 : 1/0) title "IPv4, 1M flows, update" lw 2 pt 9, \
     "$D/subnets_v6.dat" using 1:(\$2 > 0 ? \$2 : 1/0) title "IPv6, 1 flow (hot)" lw 2 dt 2 pt 7, \
     "$D/subnets_v6.dat" using 1:(\$3 > 0 ? \$3 : 1/0) title "IPv6, 1M flows, insert" lw 2 dt 2 pt 5, \
     "$D/subnets_v6.dat" using 1:(\$4 > 0 ? \$4 : 1/0) title "IPv6, 1M flows, update" lw 2 dt 2 pt 9
EOG
		echo "![ns/packet vs subnets](ns_vs_subnets.png)"
		echo
	fi
fi

# ---- line rate -------------------------------------------------------------
if [ -s "$D/linerate.tsv" ]; then
	L=$D/linerate.tsv
	echo "### Line rate on a 2-queue veth (bench_gen, 64-byte UDP/IPv4), Mpps, min / median / max"
	echo
	echo "| receiver | flows | offered | received (kernel counter) | received (nacct totals) | vs baseline, same run | nacct user CPU % |"
	echo "|---|---|---|---|---|---|---|"
	for flows in $(awk -F'\t' 'NR > 1 {print $2}' "$L" | sort -un); do
		for cfg in none drop hash tap xdppass inline inline_side; do
			sel() { awk -F'\t' -v c="$cfg" -v f="$flows" -v col="$1" 'NR > 1 && $1 == c && $2 == f {print $col}' "$L"; }
			[ -z "$(sel 1)" ] && continue
			base=none; [ "$cfg" = tap ] || [ "$cfg" = hash ] && base=drop
			ratio="-"
			if [ "$cfg" != none ] && [ "$cfg" != drop ]; then
				ratio="$(awk -F'\t' -v c="$cfg" -v b="$base" -v f="$flows" 'NR > 1 && $2 == f {
					if ($1 == c) x[$3] = $5; if ($1 == b) y[$3] = $5 }
					END { for (r in x) if (y[r] > 0) print 100 * x[r] / y[r] }' "$L" | mmm '%.0f') % of $base"
			fi
			second=""; [ "$cfg" = tap ] && second="hash"
			[ "$cfg" = inline ] || [ "$cfg" = inline_side ] && second="xdppass"
			if [ -n "$second" ]; then
				ratio="$ratio; $(awk -F'\t' -v f="$flows" -v a="$cfg" -v b="$second" 'NR > 1 && $2 == f {
					if ($1 == a) x[$3] = $5; if ($1 == b) y[$3] = $5 }
					END { for (r in x) if (y[r] > 0) print 100 * x[r] / y[r] }' "$L" | mmm '%.0f') % of $second"
			fi
			echo "| $cfg | $flows | $(sel 4 | mmm '%.2f') | $(sel 5 | mmm '%.2f') | $(sel 6 | grep -v '^-' | mmm '%.2f') | $ratio | $(sel 8 | grep -v '^-' | mmm '%.2f') |"
		done
	done
	echo
	echo "xdppass = a bare native XDP_PASS + TC egress pass program pair (bench/pass.bpf.c) on the same veth:"
	echo "the baseline of inline mode, which has the same two hooks.  inline = the data path alone"
	echo "(--side-programs off); inline_side = with the side programs, whose skb:kfree_skb program"
	echo "runs once per packet here (the stack drops every frame: no socket listens)."
	echo "Kernel counter: none/xdppass/inline/inline_side = B's rx_packets; drop/hash/tap = sum of B's rx_queue_N_xdp_drops"
	echo "(ethtool -S).  nacct totals = \`nacct status --json\` .totals.rx_packets.  Both are deltas"
	echo "over the generator's send interval.  The veth receiver's NAPI runs on the sender's CPU,"
	echo "so generator and receiver share the 2 CPUs; the offered rate is what the pair sustained."
	echo "With many flows a warm-up pass makes the interval steady state (updates, not inserts)."
	echo
	for cfg in none drop hash tap xdppass inline inline_side; do
		for flows in $(awk -F'\t' 'NR > 1 {print $2}' "$L" | sort -un); do
			printf '%s\t%s\n' "$flows" "$(awk -F'\t' -v c="$cfg" -v f="$flows" 'NR > 1 && $1 == c && $2 == f {print $5}' "$L" | med)"
		done >"$D/lr_$cfg.dat"
	done
	if command -v gnuplot >/dev/null; then
		gnuplot <<EOG 2>/dev/null
set terminal pngcairo size 800,500 font ",11"
set output "$D/mpps_vs_flows.png"
set title "Receiver Mpps vs distinct flows (veth, 2 queues, medians)"
set xlabel "distinct flows"
set ylabel "Mpps received"
set logscale x
set format x "10^{%L}"
set key outside below
set grid
set yrange [0:*]
set style data linespoints
plot "$D/lr_drop.dat" title "bare XDP\\\\_DROP" lw 2 pt 7, \
     "$D/lr_hash.dat" title "bare PERCPU\\\\_HASH update + drop" lw 2 pt 13, \
     "$D/lr_tap.dat" title "nacct tap (count + drop)" lw 2 pt 5, \
     "$D/lr_none.dat" title "no program (stack)" lw 2 pt 9, \
     "$D/lr_xdppass.dat" title "bare XDP\\\\_PASS + TC pass" lw 2 pt 3, \
     "$D/lr_inline.dat" title "nacct inline (count + pass)" lw 2 pt 11, \
     "$D/lr_inline_side.dat" title "nacct inline + side programs (every frame a drop)" lw 2 pt 12
EOG
		echo "![Mpps vs flows](mpps_vs_flows.png)"
		echo
	fi
fi

# ---- peers -----------------------------------------------------------------
if [ -s "$D/peers.tsv" ]; then
	P=$D/peers.tsv
	echo "### Peers at the same offered load (1000 UDP flows, mirror-port frames), min / median / max"
	echo
	echo "| tool | offered Mpps | achieved Mpps | sent | accounted (median) | loss % | tool CPU % |"
	echo "|---|---|---|---|---|---|---|"
	for load in $(awk -F'\t' 'NR > 1 {print $2}' "$P" | sort -ug); do
		for tool in nacct pmacctd softflowd tcpdump; do
			sel() { awk -F'\t' -v t="$tool" -v l="$load" -v col="$1" 'NR > 1 && $1 == t && $2 == l {print $col}' "$P"; }
			[ -z "$(sel 1)" ] && continue
			echo "| $tool | $load | $(sel 8 | mmm '%.2f') | $(sel 4 | med) | $(sel 5 | med) | $(sel 6 | mmm '%.2f') | $(sel 7 | mmm '%.1f') |"
		done
	done
	echo
	echo "accounted: nacct = rx packets of its UDP flows (\`nacct flows --json\`); pmacctd = sum of PACKETS in its print"
	echo "plugin's CSV; softflowd = packets of its NetFlow v9 records in nfcapd (nfdump);"
	echo "tcpdump = \"packets captured\".  sent = bench_gen's exact count.  CPU = the tool's"
	echo "processes' user+system time over the send interval (nacct: its user-space"
	echo "\`nacct subnets IFACE 1\`; the counting itself runs in the kernel's XDP hook)."
	echo
fi

# ---- control plane ---------------------------------------------------------
if [ -s "$D/ctl.tsv" ]; then
	C=$D/ctl.tsv
	echo "### Control plane"
	echo
	echo "| what | figure |"
	echo "|---|---|"
	echo "| flows in the map after the fill | $(awk -F'\t' '$1 == "flows_in_map" {print $4}' "$C") |"
	ctl_s() { awk -F'\t' -v w="$1" '$1 == w {print $4}' "$C" | mmm '%.3f'; }
	echo "| \`nacct flows IFACE --json > /dev/null\`, s | $(ctl_s dump_json_s) |"
	echo "| \`nacct flows IFACE --csv > /dev/null\`, s | $(ctl_s dump_csv_s) |"
	echo "| \`nacct flows IFACE --top 10\`, s | $(ctl_s top10_s) |"
	echo "| \`nacct status IFACE\`, s | $(ctl_s status_s) |"
	echo "| \`nacct status IFACE --json\`, s | $(ctl_s status_json_s) |"
	echo "| nacct_flows bytes_memlock (max_entries $(awk -F'\t' '$1 == "flows_bytes_memlock" {print $2}' "$C")) | $(awk -F'\t' '$1 == "flows_bytes_memlock" {printf "%.1f MiB", $4 / 1048576}' "$C") |"
	echo "| memory per flow | $(awk -F'\t' '$1 == "bytes_per_flow" {print $4, $5}' "$C") |"
	echo "| nacct_flows key / value size | $(awk -F'\t' '$1 == "flows_key_size" {k = $4} $1 == "flows_value_size" {v = $4} END {print (k ? k : "-") " / " (v ? v : "-") " bytes"}' "$C") |"
	awk -F'\t' '$1 ~ /^nacct_.*_bytes_memlock$/ {sub(/_bytes_memlock/, "", $1); printf "| %s bytes_memlock | %d |\n", $1, $4}' "$C"
	echo
fi
