#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Many interfaces on one host (issue 19's figures): N veth pairs in the
# bench's namespace B (both ends there, no traffic), each attached with
# `nacct attach` in turn (the default --max-flows), then detached.
#   attach_ms        the wall time of each attach (one row per interface)
#   pinned_bytes     bytes_memlock of every map pinned for the interfaces
#                    together (bpftool), after the N-th attach
#   per_iface_bytes  pinned_bytes / N
# and the same after the side programs (shared by every attachment) are
# left out.  Usage: bench/ifaces.sh [--quick] [--out FILE.tsv]; N = 10, 50
# and 200 (--quick: 10).  TSV: what n iface value unit
set -u
. "$(dirname "$0")/lib.sh"

b_args "$@"
b_need_root
ip netns add "$NS_B" || exit 1
printf 'what\tn\tiface\tvalue\tunit\n' >"$OUT"
row() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" | tee -a "$OUT" | sed 's/^/# /' >&2; }
ms() { echo $(($(date +%s%N) / 1000000)); }
# bytes_memlock of the maps pinned under the given directories
pinned() {
	local d f id sum=0
	for d in "$@"; do
		for f in "$d"/*; do
			id=$(bpftool -j map show pinned "$f" 2>/dev/null | jq -r '.bytes_memlock // empty')
			[ -n "$id" ] && sum=$((sum + id))
		done
	done
	echo "$sum"
}

SIZES="10 50 200"
[ "$QUICK" = 1 ] && SIZES=10
for n in $SIZES; do
	for i in $(seq 1 "$n"); do
		ip -n "$NS_B" link add "${B_ID}x$i" type veth peer name "${B_ID}y$i" || exit 1
		ip -n "$NS_B" link set "${B_ID}x$i" up
		ip -n "$NS_B" link set "${B_ID}y$i" up
	done
	for i in $(seq 1 "$n"); do
		t0=$(ms)
		in_b "$NACCT" attach "${B_ID}x$i" --mode generic >/dev/null 2>&1 ||
			{ b_log "ifaces: attach ${B_ID}x$i failed"; break; }
		row attach_ms "$n" "$i" $(($(ms) - t0)) ms
	done
	dirs=$(ls -d /sys/fs/bpf/nacct/"${B_ID}"x*:ns* 2>/dev/null)
	total=$(pinned $dirs)
	row pinned_bytes "$n" all "$total" bytes
	row per_iface_bytes "$n" all $((total / n)) bytes
	for i in $(seq 1 "$n"); do
		in_b "$NACCT" detach "${B_ID}x$i" >/dev/null 2>&1
		ip -n "$NS_B" link del "${B_ID}x$i"
	done
done
exit 0
