#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Helpers of the hardening tests (test_harden_*.sh), sourced after tests/lib.sh.
# NACCT_SOAK=1 (make test-long) selects the long versions.

H_SOAK=${NACCT_SOAK:-0}

# a scratch directory of our own name: during development something on the
# shared machine removed /tmp/nacct-test.* directories of running tests
# (cause not found); lib.sh's clean-up removes this one instead
rmdir "$T_TMP" 2>/dev/null
T_TMP=$(mktemp -d /tmp/nacct-harden.XXXXXX)

# milliseconds since the epoch
h_ms() { date +%s%3N; }

# sleep a number of milliseconds
h_sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

# a random number in [0, $1)
h_rand() { echo $(((RANDOM * 32768 + RANDOM) % $1)); }

# what nacct has on an interface of namespace B:
# "dir=D tmp=T xdp=X filters=F" (published dir, dead-or-alive private dirs,
# XDP programs named nacct_xdp, TC filters running nacct_tc_*)
h_state() { # iface
	local ifc=${1:-$IF_B} dir tmp xdp filt
	dir=$(ls /sys/fs/bpf/nacct 2>/dev/null | grep -c "^$ifc:ns")
	tmp=$(ls /sys/fs/bpf/nacct 2>/dev/null | grep -c "^:tmp:$ifc:ns")
	xdp=$(ip -n "$NS_B" link show "$ifc" | grep -c 'name nacct_xdp')
	filt=$( (tc -n "$NS_B" filter show dev "$ifc" egress; tc -n "$NS_B" filter show dev "$ifc" ingress) 2>/dev/null | grep -c 'nacct_tc_')
	echo "dir=$dir tmp=$tmp xdp=$xdp filters=$filt"
}
H_NONE="dir=0 tmp=0 xdp=0 filters=0"
H_FULL="dir=1 tmp=0 xdp=1 filters=1"

# rx_packets of nacct's totals for an interface of B
h_rx() { nacct_b status "${1:-$IF_B}" --json | jq -r .totals.rx_packets; }

# ids of every BPF object pinned under an attachment's directories
h_pinned_ids() { # glob
	local f
	for f in $1; do
		[ -e "$f" ] || continue
		bpftool map show pinned "$f" 2>/dev/null | awk -F: 'NR==1{print "map " $1}'
		bpftool prog show pinned "$f" 2>/dev/null | awk -F: 'NR==1{print "prog " $1}'
		bpftool link show pinned "$f" 2>/dev/null | awk -F: 'NR==1{print "link " $1}'
	done
}

# which of "kind id" lines still exist in the kernel
h_alive() {
	local kind id
	while read -r kind id; do
		[ -n "$id" ] || continue
		bpftool "$kind" show id "$id" >/dev/null 2>&1 && echo "$kind $id"
	done
}

# start a command in namespace B in the background so that $! is the
# command's own pid (nsenter execs it), not a subshell's: kill -9 $! must
# hit nacct itself
h_bg_b() { nsenter --net=/run/netns/"$NS_B" "$@" & }
