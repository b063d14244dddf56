#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The whole benchmark (make bench / make bench-quick): per-packet cost,
# line rate, peers, control plane.  Writes bench/results/<date>.md with
# the tables and PNG plots, and keeps the raw TSV files next to it in
# bench/results/<date>/.  Prints figures; never fails on speed (exit
# status 0 unless a part could not run at all).
# Usage: bench/run.sh [--quick]
set -u
cd "$(dirname "$0")/.." || exit 1
QUICK=
[ "${1:-}" = --quick ] && QUICK=--quick
STAMP=$(date -u +%Y-%m-%d-%H%M)${QUICK:+-quick}
DIR=bench/results/$STAMP
mkdir -p "$DIR"
fail=0
part() { echo "== bench: $1" >&2; }

part "micro (BPF_PROG_TEST_RUN)"
.output/bench_micro $QUICK --tsv "$DIR/micro.tsv" || fail=1
part "line rate"
bench/linerate.sh $QUICK --out "$DIR/linerate.tsv" || fail=1
part "peers"
bench/peers.sh $QUICK --out "$DIR/peers.tsv" || fail=1
part "control plane"
bench/ctlplane.sh $QUICK --out "$DIR/ctl.tsv" || fail=1

{
	echo "# nacct benchmarks, $STAMP"
	echo
	echo "Machine: $(nproc) CPUs ($(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//'))," \
		"kernel $(uname -r), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)." \
		"Mode: ${QUICK:-full}.  The machine is shared: compare figures only with the"
	echo "baseline of the same run.  Raw TSV: [$STAMP/]($STAMP/)."
	echo
	bench/report.sh "$DIR"
} >"bench/results/$STAMP.md"
# the plots live next to the markdown so its relative links work
for f in "$DIR"/*.png; do [ -e "$f" ] && sed -i "s|($(basename "$f"))|($STAMP/$(basename "$f"))|" "bench/results/$STAMP.md"; done
rm -f "$DIR"/*.dat
echo "bench: wrote bench/results/$STAMP.md" >&2
exit $fail
