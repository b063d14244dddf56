#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Many interfaces on one host (issue 19's figures): N veth pairs in the
# bench's namespace B (both ends there, no traffic), each attached with
# `nacct attach IFACE --domain bench` in turn (one shared domain: the first
# attach loads it, every other one is links; the default --max-flows),
# then detached.  And, as the baseline measured in the same run, 10
# interfaces each with maps of its own (`--domain none`).
#   attach_ms        the wall time of each attach (one row per interface;
#                    attach_ms_own: with maps of its own)
#   pinned_bytes     bytes_memlock of the maps pinned for the interfaces
#                    (bpftool), each map once (a domain's maps are pinned
#                    again in every member's directory), after the N-th
#   per_iface_bytes  pinned_bytes / N (per_iface_bytes_own: own maps)
#   member_bytes     the maps only a member has (its nacct_meta), all N
# Side programs (shared by every attachment) left out.  Usage:
# bench/ifaces.sh [--quick] [--out FILE.tsv]; N = 10, 50 and 200
# (--quick: 10).  TSV: what n iface value unit
set -u
. "$(dirname "$0")/lib.sh"

b_args "$@"
b_need_root
ip netns add "$NS_B" || exit 1
printf 'what\tn\tiface\tvalue\tunit\n' >"$OUT"
row() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" | tee -a "$OUT" | sed 's/^/# /' >&2; }
ms() { echo $(($(date +%s%N) / 1000000)); }
# "id bytes_memlock" of every map pinned under the given directories
pinned_maps() {
	local d f
	for d in "$@"; do
		for f in "$d"/*; do
			bpftool -j map show pinned "$f" 2>/dev/null | jq -r 'select(.id) | "\(.id) \(.bytes_memlock)"'
		done
	done | sort -u
}
sum2() { awk '{ s += $2 } END { print s + 0 }'; }

# attach N interfaces in turn with OPTS, rows WHAT; then the memory rows (SUFFIX)
run() { # n what suffix opts...
	local n=$1 what=$2 sfx=$3 i t0 dirs total mem
	shift 3
	for i in $(seq 1 "$n"); do
		ip -n "$NS_B" link add "${B_ID}x$i" type veth peer name "${B_ID}y$i" || exit 1
		ip -n "$NS_B" link set "${B_ID}x$i" up
		ip -n "$NS_B" link set "${B_ID}y$i" up
	done
	for i in $(seq 1 "$n"); do
		t0=$(ms)
		in_b "$NACCT" attach "${B_ID}x$i" --mode generic "$@" >/dev/null 2>&1 ||
			{ b_log "ifaces: attach ${B_ID}x$i $* failed"; break; }
		row "$what" "$n" "$i" $(($(ms) - t0)) ms
	done
	dirs=$(ls -d /sys/fs/bpf/nacct/"${B_ID}"x*:ns* /sys/fs/bpf/nacct/:domain:bench:ns* 2>/dev/null)
	total=$(pinned_maps $dirs | sum2)
	row "pinned_bytes$sfx" "$n" all "$total" bytes
	row "per_iface_bytes$sfx" "$n" all $((total / n)) bytes
	# a member's own: what is pinned in its directory and not the domain's
	mem=$(join -v1 <(pinned_maps $(ls -d /sys/fs/bpf/nacct/"${B_ID}"x*:ns*) | sort) \
		<(pinned_maps $(ls -d /sys/fs/bpf/nacct/:domain:bench:ns* 2>/dev/null) | sort) | sum2)
	row "member_bytes$sfx" "$n" all "$mem" bytes
	for i in $(seq 1 "$n"); do
		in_b "$NACCT" detach "${B_ID}x$i" >/dev/null 2>&1
		ip -n "$NS_B" link del "${B_ID}x$i"
	done
}

SIZES="10 50 200"
[ "$QUICK" = 1 ] && SIZES=10
run 10 attach_ms_own _own --domain none
for n in $SIZES; do
	run "$n" attach_ms "" --domain bench
done
exit 0
