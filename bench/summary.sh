#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# summary.json of one benchmark run, and what is read from it:
#
#   bench/summary.sh write DIR [--quick] [--date ISO] [--load-start "1 5 15"]
#                    [--note TEXT] [--part NAME=STATUS]...
#       DIR/summary.json from DIR's TSV files (micro.tsv, stages.tsv,
#       linerate.tsv, ctl.tsv; a missing one leaves its targets null)
#   bench/summary.sh targets FILE      the targets as a markdown table
#   bench/summary.sh stages FILE       the stage breakdown as a markdown table
#   bench/summary.sh compare FILE [PREV]
#       the change of every target (and stage) against PREV, by default the
#       newest older summary.json of the same kind (quick or full) under
#       bench/results/
#   bench/summary.sh previous FILE     the path of that default PREV, if any
#
# Every target: id, name, flows, what, unit, value (median of the runs),
# value_min, value_max, runs, baseline (median), baseline_min,
# baseline_max, baseline_name, ratio, ratio_min, goal, goal_op, goal_of,
# met.  goal_of names the figure the goal is about ("ratio" or "value");
# met compares that figure (from medians) with the goal, null when the
# target is informational (goal null) or was not measured.  ratio: micro
# = median / median, ratio_min = min / min (each side's least disturbed
# run); line rate = median of the per-run ratios (configs of one run are
# measured back to back), ratio_min = the lowest per-run ratio.
# Benchmarks never fail on speed: `met` is a figure, not an exit status.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RESULTS=${BENCH_RESULTS:-$ROOT/bench/results}

die() { echo "summary: $*" >&2; exit 2; }

# "min median max n" of the numbers on stdin ("- - - 0" for none)
stats() {
	sort -g | awk '{v[NR] = $1} END {
		if (!NR) { print "- - - 0"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		print v[1], m, v[NR], NR }'
}

# "N flow(s)" in words: 1 flow, 100k flows
flows_words() { [ "$1" = 1 ] && echo "1 flow" || echo "$(label "$1") flows"; }

# flow-count label of a target name: 1000000 -> 1m, 100000 -> 100k
label() { awk -v n="$1" 'BEGIN {
	if (n % 1000000 == 0) printf "%dm", n / 1000000
	else if (n % 1000 == 0) printf "%dk", n / 1000
	else printf "%d", n }'; }

# one target row (tab separated, "-" for null):
# id name flows what unit vmin vmed vmax runs baseline_name bmin bmed bmax
# ratio ratio_min goal goal_op goal_of
row() { local IFS=$'\t'; echo "$*"; }

# ---- micro: nacct vs a bare PERCPU_HASH update, same run ---------------------
# micro_mmm HOOK FAM PROG FLOWS PHASE -> "min med max runs" (subnets 0,
# sampling off; runs "-" in TSV files from before that column)
micro_mmm() {
	[ -s "$M" ] || return 0
	awk -F'\t' -v h="$1" -v f="$2" -v p="$3" -v n="$4" -v ph="$5" '$1 == h && $2 == f &&
		$3 == p && $4 == n && $5 == ph && $6 == 0 && $7 == 0 {
		print $8, $9, $10, (NF > 10 ? $11 : "-"); exit}' "$M"
}
micro_target() { # NAME HOOK FAM FLOWS PHASE GOAL WHAT
	local v b vmin vmed vmax n bmin bmed bmax r rmin
	v=$(micro_mmm "$2" "$3" nacct "$4" "$5")
	b=$(micro_mmm "$2" "$3" hash "$4" "$5")
	read -r vmin vmed vmax n <<<"${v:-- - - 0}"
	read -r bmin bmed bmax _ <<<"${b:-- - - 0}"
	r=-; rmin=-
	if [ -n "$v" ] && [ -n "$b" ]; then
		r=$(awk -v a="$vmed" -v b="$bmed" 'BEGIN {printf "%.3f", a / b}')
		rmin=$(awk -v a="$vmin" -v b="$bmin" 'BEGIN {printf "%.3f", a / b}')
	fi
	row "$1" "$1" "$4" "$7" ns/packet "$vmin" "$vmed" "$vmax" "$n" \
		"bare PERCPU_HASH update, same key size" "$bmin" "$bmed" "$bmax" "$r" "$rmin" \
		"$6" "<=" ratio
}
# the multi-buffer XDP program's cost over the single-buffer one's, same
# frames, same run: value = the difference of the medians (value_min: of
# the mins), baseline = the single-buffer program's ns
micro_delta() { # NAME PROG BASEPROG GOAL WHAT [BASEWHAT]
	local v b vmin vmed vmax n bmin bmed bmax dmed dmin dmax r rmin
	local bw=${6:-"nacct's single-buffer XDP program, same frames"}
	v=$(micro_mmm xdp 4 "$2" 1 hot)
	b=$(micro_mmm xdp 4 "$3" 1 hot)
	read -r vmin vmed vmax n <<<"${v:-- - - 0}"
	read -r bmin bmed bmax _ <<<"${b:-- - - 0}"
	dmed=-; dmin=-; dmax=-; r=-; rmin=-
	if [ -n "$v" ] && [ -n "$b" ]; then
		dmed=$(awk -v a="$vmed" -v b="$bmed" 'BEGIN {printf "%.1f", a - b}')
		dmin=$(awk -v a="$vmin" -v b="$bmin" 'BEGIN {printf "%.1f", a - b}')
		dmax=$(awk -v a="$vmax" -v b="$bmax" 'BEGIN {printf "%.1f", a - b}')
		r=$(awk -v a="$vmed" -v b="$bmed" 'BEGIN {printf "%.3f", a / b}')
		rmin=$(awk -v a="$vmin" -v b="$bmin" 'BEGIN {printf "%.3f", a / b}')
	fi
	row "$1" "$1" 1 "$5" ns/packet "$dmin" "$dmed" "$dmax" "$n" \
		"$bw" "$bmin" "$bmed" "$bmax" "$r" "$rmin" "$4" "<=" value
}
# what tunnels cost a packet that is no tunnel, same run: nacct over nacct
# --decap off (the parser's candidate marks) plus the bare hash update over
# the same with the key's first 40 bytes (the tunnel word of the key);
# value = the sum of the two differences of medians (value_min: of mins)
micro_tunnel_extra() { # NAME GOAL WHAT
	local a b c d amin amed bmin bmed cmin cmed dmin dmed n vmed vmin
	a=$(micro_mmm xdp 4 nacct 1 hot)
	b=$(micro_mmm xdp 4 nacct_nodecap 1 hot)
	c=$(micro_mmm xdp 4 hash 1 hot)
	d=$(micro_mmm xdp 4 hash40 1 hot)
	read -r amin amed _ n <<<"${a:-- - - 0}"
	read -r bmin bmed _ _ <<<"${b:-- - - 0}"
	read -r cmin cmed _ _ <<<"${c:-- - - 0}"
	read -r dmin dmed _ _ <<<"${d:-- - - 0}"
	vmed=-; vmin=-
	if [ -n "$a" ] && [ -n "$b" ] && [ -n "$c" ] && [ -n "$d" ]; then
		vmed=$(awk -v a="$amed" -v b="$bmed" -v c="$cmed" -v d="$dmed" 'BEGIN {printf "%.1f", a - b + c - d}')
		vmin=$(awk -v a="$amin" -v b="$bmin" -v c="$cmin" -v d="$dmin" 'BEGIN {printf "%.1f", a - b + c - d}')
	fi
	row "$1" "$1" 1 "$3" ns/packet "$vmin" "$vmed" - "$n" \
		"nacct --decap off, bare hash with a 40-byte key" "$bmin" "$bmed" - - - "$2" "<=" value
}
micro_targets() {
	local F lab
	M=$D/micro.tsv
	F=$( [ -s "$M" ] && awk -F'\t' '$4 > 1 {print $4; exit}' "$M")
	[ -n "$F" ] || F=$([ "$QUICK" = 1 ] && echo 100000 || echo 1000000)
	lab=$(label "$F")
	micro_target xdp_hot_ratio xdp 4 1 hot 1.15 "XDP, IPv4, 1 hot flow"
	micro_target "xdp_${lab}_update_ratio" xdp 4 "$F" update 1.10 "XDP, IPv4, $lab flows, update"
	micro_target xdp_hot_ratio_v6 xdp 6 1 hot 1.15 "XDP, IPv6, 1 hot flow"
	micro_target "xdp_${lab}_update_ratio_v6" xdp 6 "$F" update 1.10 "XDP, IPv6, $lab flows, update"
	micro_target tc_hot_ratio tc 4 1 hot 1.15 "TC egress, IPv4, 1 hot flow"
	micro_target "tc_${lab}_update_ratio" tc 4 "$F" update - "TC egress, IPv4, $lab flows, update"
	micro_delta xdp_frags_64_extra_ns nacct_mb nacct 3 \
		"XDP multi-buffer program, 64-byte frames, 1 hot flow: ns over single-buffer"
	micro_delta xdp_frags_1500_extra_ns nacct_mb@1500 nacct@1500 3 \
		"XDP multi-buffer program, 1500-byte frames, 1 hot flow: ns over single-buffer"
	micro_tunnel_extra tunnel_nontunnel_extra_ns 3 \
		"tunnels' cost to a packet that is no tunnel (XDP, IPv4 UDP, 1 hot flow)"
	local tt
	for tt in vxlan gre ipip mpls; do
		micro_delta "tunnel_${tt}_extra_ns" "nacct@$tt" "nacct_nodecap@$tt" - \
			"$tt packets decapsulated, 1 hot inner flow: ns over their outer flow" \
			"the same frames with --decap off (the outer flow)"
	done
	local j vmin vmed vmax n
	j=$(micro_mmm xdp 4 nacct_mb@9000 1 hot)
	read -r vmin vmed vmax n <<<"${j:-- - - 0}"
	row xdp_frags_9000_ns xdp_frags_9000_ns 1 \
		"XDP multi-buffer program, 9000-byte frames (first buffer + fragments), 1 hot flow" \
		ns/packet "$vmin" "$vmed" "$vmax" "$n" - - - - - - - - value
}

# ---- line rate: per-run ratios of the kernel's received Mpps --------------------
lr_target() { # NAME CFG BASE FLOWS GOAL WHAT BASENAME
	local v b r vmin vmed vmax n bmin bmed bmax rmin rmed
	v=$(awk -F'\t' -v c="$2" -v f="$4" 'NR > 1 && $1 == c && $2 == f {print $5}' "$L" | stats)
	b=$(awk -F'\t' -v c="$3" -v f="$4" 'NR > 1 && $1 == c && $2 == f {print $5}' "$L" | stats)
	r=$(awk -F'\t' -v a="$2" -v b="$3" -v f="$4" 'NR > 1 && $2 == f {
		if ($1 == a) x[$3] = $5; if ($1 == b) y[$3] = $5 }
		END { for (r in x) if (y[r] > 0) printf "%.4f\n", x[r] / y[r] }' "$L" | stats)
	read -r vmin vmed vmax n <<<"$v"
	read -r bmin bmed bmax _ <<<"$b"
	read -r rmin rmed _ _ <<<"$r"
	[ "$rmed" = - ] || rmed=$(printf '%.3f' "$rmed")
	[ "$rmin" = - ] || rmin=$(printf '%.3f' "$rmin")
	row "$1@$(label "$4")" "$1" "$4" "$6" Mpps "$vmin" "$vmed" "$vmax" "$n" "$7" \
		"$bmin" "$bmed" "$bmax" "$rmed" "$rmin" "$5" ">=" ratio
}
lr_targets() {
	local f flows
	L=$D/linerate.tsv
	flows=$( [ -s "$L" ] && awk -F'\t' 'NR > 1 {print $2}' "$L" | sort -un)
	[ -n "$flows" ] || flows="1 100000"
	for f in $flows; do
		lr_target inline_vs_xdp_pass inline xdppass "$f" 0.95 \
			"line rate, nacct inline (count + pass; data path, --side-programs off), $(flows_words "$f")" \
			"bare native XDP_PASS + TC pass pair, same veth"
		lr_target inline_side_vs_xdp_pass inline_side xdppass "$f" - \
			"line rate, nacct inline with the side programs (each frame also a kfree_skb drop), $(flows_words "$f")" \
			"bare native XDP_PASS + TC pass pair, same veth"
		lr_target inline_vs_no_program inline none "$f" - \
			"line rate, nacct inline (count + pass), $(flows_words "$f")" \
			"no program (veth straight to the stack)"
		lr_target xdp_pass_vs_no_program xdppass none "$f" - \
			"line rate, bare XDP_PASS + TC pass pair, $(flows_words "$f")" \
			"no program (veth straight to the stack)"
		lr_target tap_vs_hash_drop tap hash "$f" 0.95 \
			"line rate, nacct tap (count + drop), $(flows_words "$f")" \
			"bare PERCPU_HASH update + XDP_DROP"
		lr_target tap_vs_xdp_drop tap drop "$f" - \
			"line rate, nacct tap (count + drop), $(flows_words "$f")" "bare XDP_DROP"
	done
	local c
	c=$( [ -s "$L" ] && awk -F'\t' 'NR > 1 && $8 != "-" {print $8}' "$L" | stats)
	read -r vmin vmed vmax n <<<"${c:-- - - 0}"
	row nacct_user_cpu_pct nacct_user_cpu_pct - \
		"nacct's user-space CPU while counting (tap capture / subnets watch)" "%" \
		"$vmin" "$vmed" "$vmax" "$n" - - - - - - 2 "<=" value
}

# ---- control plane ---------------------------------------------------------
ctl_target() { # NAME WHAT(TSV) GOAL DESCRIPTION
	local v vmin vmed vmax n
	v=$( [ -s "$C" ] && awk -F'\t' -v w="$2" '$1 == w {print $4}' "$C" | stats)
	read -r vmin vmed vmax n <<<"${v:-- - - 0}"
	row "$1" "$1" "$NFLOWS" "$4" s "$vmin" "$vmed" "$vmax" "$n" - - - - - - "$3" "<=" value
}
ctl_targets() {
	local key val ncpu mem max fixed c b percpu v vmin vmed vmax n
	C=$D/ctl.tsv
	NFLOWS=$( [ -s "$C" ] && awk -F'\t' '$1 == "flows_in_map" {print $4}' "$C")
	NFLOWS=${NFLOWS:--}
	ctl_target flows_json_1m_s dump_json_s 1 "nacct flows --json, 1M flows"
	ctl_target flows_csv_1m_s dump_csv_s 1 "nacct flows --csv, 1M flows"
	ctl_target flows_top10_1m_s top10_s 0.5 "nacct flows --top 10, 1M flows"
	ctl_target status_1m_s status_s 0.05 "nacct status, 1M flows"
	ctl_target status_json_1m_s status_json_s - "nacct status --json, 1M flows"
	v=$( [ -s "$C" ] && awk -F'\t' '$1 == "export_clickhouse_flows_per_s" {print $4}' "$C" | stats)
	read -r vmin vmed vmax n <<<"${v:-- - - 0}"
	row export_clickhouse_flows_per_s export_clickhouse_flows_per_s "$NFLOWS" \
		"nacct export --clickhouse: the whole map into a private clickhouse-server (Debian's 18.16), from the exporter's start to the last row" \
		flows/s "$vmin" "$vmed" "$vmax" "$n" - - - - - - 100000 ">=" value
	# bytes per flow at N possible CPUs: the per-CPU values cost
	# round8(value_size) x N; the rest of an element (key, element header,
	# bucket) is what the measured bytes_memlock / max_entries leaves
	# after this machine's per-CPU values
	ctlv() { [ -s "$C" ] && awk -F'\t' -v w="$1" '$1 == w {print $'"${2:-4}"'; exit}' "$C"; }
	key=$(ctlv flows_key_size); val=$(ctlv flows_value_size); ncpu=$(ctlv possible_cpus)
	mem=$(ctlv flows_bytes_memlock); max=$(ctlv flows_bytes_memlock 2)
	percpu=$(ctlv flows_percpu)
	for c in 2 64 256; do
		b=-; fixed=
		if [ "$percpu" = 0 ] && [ -n "$mem" ] && [ -n "$max" ]; then
			# the shared layout: one value per flow at any CPU count
			b=$(awk -v m="$mem" -v n="$max" 'BEGIN {printf "%.0f", m / n}')
			row "bytes_per_flow_${c}cpu" "bytes_per_flow_${c}cpu" - \
				"memory per flow at $c possible CPUs (shared layout, attach's default: one ${val:-?} B value per flow at any CPU count; key ${key:-?} B)" \
				bytes "$b" "$b" "$b" 1 - - - - - - - - value
			continue
		fi
		if [ -n "$val" ] && [ -n "$ncpu" ] && [ -n "$mem" ] && [ -n "$max" ]; then
			fixed=$(awk -v m="$mem" -v n="$max" -v v="$val" -v p="$ncpu" \
				'BEGIN {printf "%.0f", m / n - int((v + 7) / 8) * 8 * p}')
			b=$(awk -v f="$fixed" -v v="$val" -v c="$c" 'BEGIN {print f + int((v + 7) / 8) * 8 * c}')
		fi
		row "bytes_per_flow_${c}cpu" "bytes_per_flow_${c}cpu" - \
			"memory per flow at $c possible CPUs (value ${val:-?} B x $c + ${fixed:-?} B key/element/bucket; key ${key:-?} B)" \
			bytes "$b" "$b" "$b" "$([ "$b" = - ] && echo 0 || echo 1)" - - - - - - - - value
	done
}

# ---- many interfaces (bench/ifaces.sh) ---------------------------------------
if_targets() {
	local F=$D/ifaces.tsv n v vmin vmed vmax k
	[ -s "$F" ] || return 0
	n=$(awk -F'\t' '$1 == "attach_ms" {print $2}' "$F" | sort -n | tail -n 1)
	# the first member loads the domain: one more interface is the others
	v=$(awk -F'\t' -v n="$n" '$1 == "attach_ms" && $2 == n && $3 > 1 {print $4}' "$F" | stats)
	read -r vmin vmed vmax k <<<"${v:-- - - 0}"
	row attach_ms_per_iface attach_ms_per_iface - \
		"nacct attach of one more interface to a shared domain, $n veth interfaces attached in turn (wall ms)" ms \
		"$vmin" "$vmed" "$vmax" "$k" - - - - - - 50 "<=" value
	v=$(awk -F'\t' '$1 == "attach_ms_own" {print $4}' "$F" | stats)
	read -r vmin vmed vmax k <<<"${v:-- - - 0}"
	row attach_ms_own attach_ms_own - \
		"the same with maps of its own (--domain none), 10 interfaces: the baseline" ms \
		"$vmin" "$vmed" "$vmax" "$k" - - - - - - - - value
	v=$(awk -F'\t' -v n="$n" '$1 == "per_iface_bytes" && $2 == n {print $4}' "$F")
	row pinned_bytes_per_iface pinned_bytes_per_iface - \
		"pinned map memory per interface, $n interfaces in one domain, each map once (default --max-flows)" bytes \
		"${v:--}" "${v:--}" "${v:--}" "$([ -n "$v" ] && echo 1 || echo 0)" - - - - - - - - value
	v=$(awk -F'\t' -v n="$n" '$1 == "member_bytes" && $2 == n {print int($4 / n)}' "$F")
	row member_bytes_per_iface member_bytes_per_iface - \
		"map memory only a member has (its nacct_meta), per interface, $n interfaces" bytes \
		"${v:--}" "${v:--}" "${v:--}" "$([ -n "$v" ] && echo 1 || echo 0)" - - - - - - - - value
	v=$(awk -F'\t' '$1 == "per_iface_bytes_own" {print $4}' "$F")
	row pinned_bytes_per_iface_own pinned_bytes_per_iface_own - \
		"pinned map memory per interface with maps of its own, 10 interfaces: the baseline" bytes \
		"${v:--}" "${v:--}" "${v:--}" "$([ -n "$v" ] && echo 1 || echo 0)" - - - - - - - - value
}

# ---- the verifier's work (bench_micro --verifier) ----------------------------
# the most processed instructions over the flow table layouts and subnet
# switches, decapsulation on (the default; bench_micro's "most with decap
# on" line); the kernel's limit is 1M
ver_targets() {
	local F=$D/verifier.txt p v
	[ -s "$F" ] || return 0
	for p in xdp tc; do
		v=$(awk -v p="nacct_$p" '/^most with decap on:/ { for (i = 1; i < NF; i++)
			if ($i == p && $(i + 1) > 0) print $(i + 1) }' "$F")
		row "verifier_insns_$p" "verifier_insns_$p" - \
			"instructions the verifier processes for the $p program(s), the most over the layouts (decap on; the limit is 1,000,000)" \
			insns "${v:--}" "${v:--}" "${v:--}" "$([ -n "$v" ] && echo 1 || echo 0)" - - - - - - 200000 "<=" value
	done
}

# TSV target rows on stdin -> JSON array
rows_json() {
	jq -R -s '
	def n: if . == "-" or . == "" then null else tonumber end;
	[split("\n")[] | select(length > 0) | split("\t") | {
		id: .[0], name: .[1], flows: (.[2] | n), what: .[3], unit: .[4],
		value: (.[6] | n), value_min: (.[5] | n), value_max: (.[7] | n), runs: (.[8] | n),
		baseline: (.[11] | n), baseline_min: (.[10] | n), baseline_max: (.[12] | n),
		baseline_name: (if .[9] == "-" then null else .[9] end),
		ratio: (.[13] | n), ratio_min: (.[14] | n),
		goal: (.[15] | n), goal_op: (if .[16] == "-" then null else .[16] end), goal_of: .[17]
	} | . as $t | (if $t.goal_of == "ratio" then $t.ratio else $t.value end) as $fig |
	.met = (if $t.goal == null or $fig == null then null
		elif $t.goal_op == "<=" then $fig <= $t.goal else $fig >= $t.goal end)]'
}

stages_json() {
	local S=$D/stages.tsv
	[ -s "$S" ] || { echo '[]'; return; }
	jq -R -s '
	def n: if . == "-" or . == "" then null else tonumber end;
	[split("\n")[1:][] | select(length > 0) | split("\t") |
	 {stage: .[2], adds: .[3], flows: (.[0] | n), phase: .[1], ns: (.[4] | n),
	  ns_min: (.[5] | n), increment: (.[6] | n)}]' "$S"
}

cmd_write() {
	local date load_start="" note="" parts="{}" p cpus possible model kernel
	D=${1:?usage: summary.sh write DIR}
	shift
	QUICK=0
	date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	while [ $# -gt 0 ]; do
		case "$1" in
		--quick) QUICK=1 ;;
		--date) date=$2; shift ;;
		--load-start) load_start=$2; shift ;;
		--note) note=$2; shift ;;
		--part) p=$2; parts=$(jq -c --arg k "${p%%=*}" --arg v "${p#*=}" '. + {($k): $v}' <<<"$parts"); shift ;;
		*) die "write: unknown option $1" ;;
		esac
		shift
	done
	[ -d "$D" ] || die "write: $D is not a directory"
	cpus=$(nproc)
	possible=$(awk -F- '{print $NF + 1}' /sys/devices/system/cpu/possible)
	model=$(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//')
	kernel=$(uname -r)
	{ micro_targets; ver_targets; lr_targets; ctl_targets; if_targets; } | rows_json >"$D/.targets.json"
	stages_json >"$D/.stages.json"
	jq -n --arg run "$(basename "$D")" --argjson quick "$([ "$QUICK" = 1 ] && echo true || echo false)" \
		--arg date "$date" --argjson cpus "$cpus" --argjson possible "$possible" \
		--arg model "$model" --arg kernel "$kernel" --arg ls "$load_start" \
		--arg le "$(cut -d' ' -f1-3 /proc/loadavg)" --arg note "$note" --argjson parts "$parts" \
		--slurpfile t "$D/.targets.json" --slurpfile s "$D/.stages.json" '
		def la: if . == "" then null else split(" ") | map(tonumber) end;
		{run: $run, quick: $quick, date: $date,
		 machine: {cpus: $cpus, possible_cpus: $possible, model: $model, kernel: $kernel,
			   loadavg_start: ($ls | la), loadavg_end: ($le | la),
			   note: (if $note == "" then null else $note end)},
		 parts: $parts, targets: $t[0], stages: $s[0]}' >"$D/summary.json.tmp" &&
		mv "$D/summary.json.tmp" "$D/summary.json"
	rm -f "$D/.targets.json" "$D/.stages.json"
	echo "$D/summary.json"
}

# ---- reading ---------------------------------------------------------------
cmd_targets() {
	local F=${1:?usage: summary.sh targets FILE}
	echo "| target | what | goal | nacct: median (min) | baseline: median (min) | ratio: median (min) | met |"
	echo "|---|---|---|---|---|---|---|"
	jq -r '
	def f: if . == null then "-" elif . >= 100 then (. * 10 | round / 10 | tostring)
		else (. * 1000 | round / 1000 | tostring) end;
	def mm(a; b; u): if a == null then "-" else "\(a | f) (\(b | f))\(if u then " " + u else "" end)" end;
	.targets[] |
	"| `\(.id)` | \(.what)\(if .baseline_name then " vs " + .baseline_name else "" end) | " +
	"\(if .goal == null then "info" else "\(.goal_of) \(.goal_op) \(.goal)" end) | " +
	"\(mm(.value; .value_min; .unit)) | \(mm(.baseline; .baseline_min; .unit)) | " +
	"\(mm(.ratio; .ratio_min; null)) | " +
	"\(if .met == true then "yes" elif .met == false then "**no**" else "-" end) |"' "$F"
}

cmd_stages() {
	local F=${1:?usage: summary.sh stages FILE}
	[ "$(jq '.stages | length' "$F")" -gt 0 ] || { echo "(no stage breakdown in this run)"; return; }
	echo "| stage | adds | flows | phase | ns/packet: median (min) | + (medians) |"
	echo "|---|---|---|---|---|---|"
	jq -r '.stages | sort_by(.flows) | .[] |
	"| \(.stage) | \(.adds) | \(.flows) | \(.phase) | \(.ns) (\(.ns_min)) | \(if .increment == null then "-" else (if .increment >= 0 then "+" else "" end) + (.increment | tostring) end) |"' "$F"
}

# newest summary.json of the same kind (quick/full) older than FILE
cmd_previous() {
	local F=${1:?usage: summary.sh previous FILE} q d r f best="" bd=""
	q=$(jq -r .quick "$F"); d=$(jq -r .date "$F"); r=$(jq -r .run "$F")
	for f in "$RESULTS"/*/summary.json; do
		[ -e "$f" ] || continue
		read -r fq fd fr < <(jq -r '"\(.quick) \(.date) \(.run)"' "$f" 2>/dev/null) || continue
		[ "$fq" = "$q" ] && [ "$fr" != "$r" ] && [[ "$fd" < "$d" ]] || continue
		[[ -z "$bd" || "$fd" > "$bd" ]] && { best=$f; bd=$fd; }
	done
	[ -n "$best" ] && echo "$best"
}

cmd_compare() {
	local F=${1:?usage: summary.sh compare FILE [PREV]} P=${2:-} kind
	kind=$(jq -r 'if .quick then "quick" else "full" end' "$F")
	[ -n "$P" ] || P=$(cmd_previous "$F")
	if [ -z "$P" ]; then
		echo "No previous $kind run with a summary.json under bench/results/: nothing to compare with."
		return 0
	fi
	echo "Change against the previous $kind run, $(jq -r '"\(.run) (\(.date))"' "$P"):"
	echo "(the figure each goal is about: ratio or value; |change| >= 10 % is marked"
	echo "better/worse, smaller changes are within this shared machine's noise)"
	echo
	echo "| target | previous | now | change | met now (before) |"
	echo "|---|---|---|---|---|"
	jq -r -n --slurpfile a "$P" --slurpfile b "$F" '
	def fig: if . == null then null elif .goal_of == "ratio" then .ratio else .value end;
	def f: if . == null then "-" elif . >= 100 then (. * 10 | round / 10 | tostring)
		else (. * 1000 | round / 1000 | tostring) end;
	def m: if . == true then "yes" elif . == false then "no" else "-" end;
	($a[0].targets | map({(.id): .}) | add // {}) as $old |
	$b[0].targets[] as $t | $old[$t.id] as $o |
	($o | fig) as $p | ($t | fig) as $n |
	(if $p == null or $n == null or $p == 0 then null else ($n - $p) / $p * 100 end) as $c |
	"| `\($t.id)` | \($p | f) | \($n | f) | " +
	(if $c == null then "-" else
		((if $c >= 0 then "+" else "" end) + ($c * 10 | round / 10 | tostring) + " %") +
		(if ($c | fabs) < 10 or $t.goal_op == null then ""
		 elif ($t.goal_op == "<=") == ($c > 0) then " worse" else " better" end) end) +
	" | \($t.met | m) (\($o.met | m)) |"'
	# targets of the previous run that this run lacks
	jq -r -n --slurpfile a "$P" --slurpfile b "$F" '
	($b[0].targets | map(.id)) as $ids |
	$a[0].targets[] | select(.id as $i | $ids | index($i) | not) |
	"| `\(.id)` | \((if .goal_of == "ratio" then .ratio else .value end) // "-") | (not in this run) | - | - |"'
	if [ "$(jq '.stages | length' "$F")" -gt 0 ] && [ "$(jq '.stages | length' "$P")" -gt 0 ]; then
		echo
		echo "| stage | flows | previous ns | now ns | change |"
		echo "|---|---|---|---|---|"
		jq -r -n --slurpfile a "$P" --slurpfile b "$F" '
		$b[0].stages[] as $s |
		([$a[0].stages[] | select(.stage == $s.stage and .flows == $s.flows and .phase == $s.phase)][0]) as $o |
		"| \($s.stage) | \($s.flows) \($s.phase) | \($o.ns // "-") | \($s.ns) | " +
		(if $o == null or $o.ns == 0 then "-" else
			(($s.ns - $o.ns) / $o.ns * 100) as $c |
			(if $c >= 0 then "+" else "" end) + ($c * 10 | round / 10 | tostring) + " %" end) + " |"'
	fi
}

case "${1:-}" in
write) shift; cmd_write "$@" ;;
targets) shift; cmd_targets "$@" ;;
stages) shift; cmd_stages "$@" ;;
compare) shift; cmd_compare "$@" ;;
previous) shift; cmd_previous "$@" ;;
*) echo "usage: bench/summary.sh write DIR [options] | targets FILE | stages FILE | compare FILE [PREV] | previous FILE" >&2; exit 2 ;;
esac
