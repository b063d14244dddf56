#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The whole benchmark (make bench / make bench-quick): per-packet cost,
# line rate, peers, control plane.  Writes, for run name <date>[-quick]:
#   bench/results/<run>/          the raw TSV files and PNG plots
#   bench/results/<run>/summary.json   the targets, stages and machine
#                                 (bench/summary.sh; see bench/README.md)
#   bench/results/<run>.md        the report: targets, change against the
#                                 previous run of the same kind, stages,
#                                 every table
# and prints the targets and their change against the previous run of the
# same kind (quick or full).  A full run then regenerates README.md's
# figures from its summary.json (bench/readme-figures.sh).
# Prints figures; never fails on speed (exit status 0 unless a part could
# not run at all).  BENCH_NOTE="..." is stored in summary.json's machine
# block (say there when the machine was busy and the figures are not for
# publishing).
# Usage: bench/run.sh [--quick]
set -u
cd "$(dirname "$0")/.." || exit 1
QUICK=
[ "${1:-}" = --quick ] && QUICK=--quick
START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
STAMP=$(date -u -d "$START" +%Y-%m-%d-%H%M)${QUICK:+-quick}
# two runs within a minute: the second one gets the seconds too
[ -e "bench/results/$STAMP" ] && STAMP=$(date -u -d "$START" +%Y-%m-%d-%H%M%S)${QUICK:+-quick}
DIR=bench/results/$STAMP
mkdir -p "$DIR"
fail=0
PARTS=()
part() { echo "== bench: $1" >&2; }
# done_part NAME STATUS: ok, or failed (the part could not run at all)
done_part() {
	PARTS+=(--part "$1=$([ "$2" = 0 ] && echo ok || echo failed)")
	[ "$2" = 0 ] || fail=1
}

echo "bench: run $STAMP, load average at the start: $LOAD_START" >&2
part "micro (BPF_PROG_TEST_RUN)"
.output/bench_micro $QUICK --tsv "$DIR/micro.tsv" --stages "$DIR/stages.tsv"
done_part micro $?
part "verifier"
.output/bench_micro --verifier >"$DIR/verifier.txt"
done_part verifier $?
part "line rate"
bench/linerate.sh $QUICK --out "$DIR/linerate.tsv"
done_part linerate $?
part "peers"
bench/peers.sh $QUICK --out "$DIR/peers.tsv"
done_part peers $?
part "control plane"
bench/ctlplane.sh $QUICK --out "$DIR/ctl.tsv"
done_part ctlplane $?
part "many interfaces"
bench/ifaces.sh $QUICK --out "$DIR/ifaces.tsv"
done_part ifaces $?

part "summary"
bench/summary.sh write "$DIR" $QUICK --date "$START" --load-start "$LOAD_START" \
	--note "${BENCH_NOTE:-}" "${PARTS[@]}" >/dev/null || fail=1
S=$DIR/summary.json

{
	echo "# nacct benchmarks, $STAMP"
	echo
	echo "Machine: $(nproc) CPUs ($(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//'))," \
		"kernel $(uname -r), load average at the start: $LOAD_START, at the end:" \
		"$(cut -d' ' -f1-3 /proc/loadavg) (the end includes the benchmark's own load)." \
		"Mode: ${QUICK:-full}.${BENCH_NOTE:+ Note: $BENCH_NOTE.}  The machine is shared: compare figures only with the"
	echo "baseline of the same run.  Raw TSV and [summary.json]($STAMP/summary.json): [$STAMP/]($STAMP/)."
	echo
	bench/report.sh "$DIR"
} >"bench/results/$STAMP.md"
# the plots live next to the markdown so its relative links work
for f in "$DIR"/*.png; do [ -e "$f" ] && sed -i "s|($(basename "$f"))|($STAMP/$(basename "$f"))|" "bench/results/$STAMP.md"; done
rm -f "$DIR"/*.dat
echo "bench: wrote bench/results/$STAMP.md and $S" >&2

if [ -s "$S" ]; then
	echo
	echo "### Targets of run $STAMP (median (min) of the runs; ratios against a baseline of this run)"
	echo
	bench/summary.sh targets "$S"
	echo
	bench/summary.sh compare "$S"
	echo
	[ -n "$QUICK" ] || bench/readme-figures.sh || fail=1
fi
exit $fail
