#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Run the user-space fuzz targets for SECONDS each (default 20) from the
# seeds in tests/fuzz/corpus/ (new inputs go to a scratch copy).
# Prints ok/not ok lines for tests/run.sh.  Usage: tests/fuzz/run.sh [SECONDS]
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-20}
fail=0
for t in cidr args; do
	bin=$ROOT/.output/fuzz/fuzz_$t
	if [ ! -x "$bin" ]; then echo "skip fuzz_$t not built (make fuzz-user; needs libclang-rt-14-dev)"; continue; fi
	work=$(mktemp -d /tmp/nacct-fuzz.XXXXXX)
	cp "$ROOT"/tests/fuzz/corpus/"$t"/* "$work"/ 2>/dev/null
	# leaks: the CIDR parsers must not leak; main()'s early exits do by design
	leaks=1
	[ "$t" = args ] && leaks=0
	out=$(cd "$work" && ASAN_OPTIONS=detect_leaks=$leaks "$bin" -max_total_time="$secs" -close_fd_mask=3 \
		-max_len=512 -timeout=10 -rss_limit_mb=1024 -artifact_prefix="$work/" "$work" </dev/null 2>&1)
	rc=$?
	runs=$(grep -o 'Done [0-9]* runs' <<<"$out" | awk '{print $2}')
	cov=$(grep -Eo 'cov: [0-9]+' <<<"$out" | tail -n1)
	if [ "$rc" = 0 ]; then
		echo "ok fuzz_$t: ${runs:-?} runs in ${secs}s, $cov, no crash, hang or leak"
		rm -rf "$work"
	else
		echo "not ok fuzz_$t (rc=$rc, artifacts in $work)"
		grep -E 'ERROR|SUMMARY|==[0-9]+==|Test unit written' <<<"$out" | head -n 20 | sed 's/^/# /'
		fail=1
	fi
done
exit $fail
