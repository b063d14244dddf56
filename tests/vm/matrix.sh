#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/vm/matrix.sh [host] [5.10] [6.1] [6.12] [7.3]      (default: all five)
#
# `make test-kernels`: runs tests/vm/suite.sh on the build host (--host)
# and in Debian's 5.10 (bullseye), 6.1 (bookworm), 6.12 (bookworm-backports)
# and 7.3 (trixie-backports) kernels
# under qemu, then prints one table: capability x kernel, pass / FAIL /
# skip, with the reasons under it.  Logs: $NACCT_VM_LOGS
# (/tmp/nacct-test-kernels).  Exit status 1 if any check failed or a
# guest did not report.  NACCT_VM_TABLE_ONLY=1: the table of the logs
# already there, nothing run.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
LOGS=${NACCT_VM_LOGS:-/tmp/nacct-test-kernels}
mkdir -p "$LOGS"
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(host 5.10 6.1 6.12 7.3)
rc=0

# NACCT_VM_TABLE_ONLY=1: no run, the table of the logs already in $LOGS
# (kernels run apart, e.g. one at a time, into one table)
for k in "${kernels[@]}"; do
	if [ -n "${NACCT_VM_TABLE_ONLY:-}" ]; then
		[ -s "$LOGS/$k.log" ] || { echo "no log $LOGS/$k.log" >&2; rc=1; }
		grep -q '^not ok ' "$LOGS/$k.log" 2>/dev/null && rc=1
		continue
	fi
	start=$(date +%s)
	echo "=== $k" >&2
	if [ "$k" = host ]; then
		tests/vm/suite.sh --host > "$LOGS/$k.log" 2>&1
		r=$?
	else
		dir=$(tests/vm/fetch-kernel.sh "$k" 2>>"$LOGS/$k.fetch.log") ||
			{ echo "not ok boot cannot fetch Debian's $k kernel (see $LOGS/$k.fetch.log)" > "$LOGS/$k.log"; rc=1; continue; }
		# virtio-net with the DMA API (VIRTIO_F_ACCESS_PLATFORM; modern
		# only) where the driver has AF_XDP zero-copy (7.x: it needs a DMA
		# device and ring reset, which QEMU 7.2 offers); older kernels keep
		# the NICs every earlier row was measured on
		nic=
		case $k in 7.*) nic=disable-legacy=on,iommu_platform=on ;; esac
		# the serial console ends lines with \r\n
		NACCT_VM_NIC_OPTS=${NACCT_VM_NIC_OPTS-$nic} tests/vm/run-in-vm.sh "$dir" tests/vm/suite.sh 2>&1 |
			tr -d '\r' > "$LOGS/$k.log"
		r=${PIPESTATUS[0]}
		case $r in
		124) echo "not ok boot guest timed out" >> "$LOGS/$k.log" ;;
		125) echo "not ok boot guest died without a status" >> "$LOGS/$k.log" ;;
		*) echo "ok boot $(grep -o 'up after [0-9.]*s' "$LOGS/$k.log" | head -n1)" >> "$LOGS/$k.log" ;;
		esac
	fi
	[ $r = 0 ] || rc=1
	echo "    $(grep -c '^ok ' "$LOGS/$k.log") ok, $(grep -c '^not ok ' "$LOGS/$k.log") failed, $(grep -c '^skip ' "$LOGS/$k.log") skipped ($(( $(date +%s) - start ))s), log $LOGS/$k.log" >&2
done

# ---- the table -------------------------------------------------------------------
caps=$(for k in "${kernels[@]}"; do
	sed -n 's/^\(ok\|not ok\|skip\) \([a-z0-9-]*\).*/\2/p' "$LOGS/$k.log"
done | awk '!seen[$0]++')
cell() { # kernel cap
	local l
	l=$(grep -E "^(ok|not ok|skip) $2( |$)" "$LOGS/$1.log" | head -n1)
	case $l in
	"ok "*) echo pass ;;
	"not ok "*) echo FAIL ;;
	"skip "*) echo skip ;;
	*) echo - ;;
	esac
}
kname() { [ "$1" = host ] && echo "host $(uname -r | cut -d- -f1)" || grep -o '^# kernel [^,]*' "$LOGS/$1.log" | cut -c10- | head -n1; }
echo
printf '%-18s' "capability"
for k in "${kernels[@]}"; do printf ' | %-22s' "$(kname "$k" | cut -c1-22)"; done
echo
printf '%-18s' "------------------"
for k in "${kernels[@]}"; do printf ' | %-22s' "----------------------"; done
echo
for c in $caps; do
	printf '%-18s' "$c"
	for k in "${kernels[@]}"; do printf ' | %-22s' "$(cell "$k" "$c")"; done
	echo
done
echo
echo "details (skips and failures with their reasons):"
for k in "${kernels[@]}"; do
	grep -E '^(not ok|skip) ' "$LOGS/$k.log" | sed "s/^/  $k: /"
done
exit $rc
