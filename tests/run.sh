#!/bin/bash
# nacct's test runner: unit tests (BPF_PROG_TEST_RUN) and integration
# tests (netns + veth, real traffic).  Usage: tests/run.sh [unit|check|integration|PATTERN]
# Prints every check, then the plain summary line "N passed, N failed, N skipped".
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
sel=${1:-all}
pass=0 fail=0 skip=0
failed_names=()

mountpoint -q /sys/fs/bpf 2>/dev/null || mount -t bpf bpf /sys/fs/bpf 2>/dev/null
mountpoint -q /sys/kernel/tracing 2>/dev/null || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null

run_one() { # name, command...
	local name=$1; shift
	local out rc n_ok n_fail n_skip start
	start=$(date +%s)
	echo "=== $name"
	out=$(timeout "${NACCT_TEST_TIMEOUT:-900}" "$@" 2>&1)
	rc=$?
	echo "$out" | sed 's/^/    /'
	n_ok=$(grep -c '^ok ' <<<"$out")
	n_fail=$(grep -c '^not ok ' <<<"$out")
	n_skip=$(grep -c '^skip ' <<<"$out")
	if [ "$rc" != 0 ] && [ "$n_fail" = 0 ]; then
		n_fail=1
		echo "    not ok $name exited with status $rc"
	fi
	pass=$((pass + n_ok)); fail=$((fail + n_fail)); skip=$((skip + n_skip))
	[ "$n_fail" = 0 ] || failed_names+=("$name")
	echo "--- $name: $n_ok passed, $n_fail failed, $n_skip skipped ($(( $(date +%s) - start ))s)"
}

# make check's tests first: no root, no BPF (tests/check/)
if [ "$sel" = all ] || [ "$sel" = unit ] || [ "$sel" = check ]; then
	run_one check .output/check
fi
if [ "$sel" = all ] || [ "$sel" = unit ]; then
	run_one unit .output/test_unit
	run_one fuzz .output/fuzz_prog 200000 1
	# user-space parsers, coverage-guided (make fuzz-user builds them)
	run_one fuzz-user tests/fuzz/run.sh "${NACCT_FUZZ_SECONDS:-20}"
fi
if [ "$sel" != unit ]; then
	for t in tests/integration/test_*.sh; do
		[ -e "$t" ] || continue
		name=$(basename "$t" .sh)
		case "$sel" in all|integration) ;; *) [[ "$name" == *$sel* ]] || continue ;; esac
		run_one "$name" bash "$t"
	done
fi
echo
[ ${#failed_names[@]} -eq 0 ] || echo "failed: ${failed_names[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
