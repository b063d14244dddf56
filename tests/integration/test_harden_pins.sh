#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Mismatched pins: a pin directory whose maps do not match this build
# (other key/value size or type, as an older or newer nacct would leave)
# is a clear error (exit 2) for the readers, is never reused by attach,
# and is removed by detach without reading it into our structs.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/harden_lib.sh"
t_need_root
t_setup_pair || { t_fail setup "cannot create netns/veth"; exit 1; }
command -v bpftool >/dev/null || { t_skip "$(basename "$0")" "bpftool missing"; exit 0; }

# the real sizes, from a real attachment
nacct_b attach "$IF_B" >/dev/null || { t_fail "attach"; exit 1; }
DIR=$(ls -d /sys/fs/bpf/nacct/"$IF_B":ns*)
msize() { bpftool map show pinned "$DIR/$1" -j | jq -r ".$2"; }
META_V=$(msize nacct_meta bytes_value)
FLOW_K=$(msize nacct_flows bytes_key)
FLOW_V=$(msize nacct_flows bytes_value)
nacct_b detach "$IF_B" >/dev/null
t_log "this build: nacct_meta value $META_V, nacct_flows key $FLOW_K value $FLOW_V"

# mkpins CASE: a pin directory as another build would have left it
mkpins() {
	mkdir -m 0700 "$DIR"
	local mv=$META_V
	[ "$1" = bigmeta ] && mv=4096
	bpftool map create "$DIR/nacct_meta" type array key 4 value "$mv" entries 1 name nacct_meta
	case $1 in
	keysize) bpftool map create "$DIR/nacct_flows" type percpu_hash key $((FLOW_K + 8)) value "$FLOW_V" entries 64 name nacct_flows ;;
	valsize) bpftool map create "$DIR/nacct_flows" type percpu_hash key "$FLOW_K" value $((FLOW_V - 8)) entries 64 name nacct_flows ;;
	type) bpftool map create "$DIR/nacct_flows" type hash key "$FLOW_K" value "$FLOW_V" entries 64 name nacct_flows ;;
	bigmeta) bpftool map create "$DIR/nacct_flows" type percpu_hash key "$FLOW_K" value "$FLOW_V" entries 64 name nacct_flows ;;
	esac
}

expect2() { # name, pattern, command...
	local name=$1 pat=$2 err rc
	shift 2
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" = 2 ] && [[ "$err" == nacct:*$pat* ]] && [ "$(grep -c . <<<"$err")" = 1 ]; then
		t_ok "$name: exit 2 ($err)"
	else
		t_fail "$name" "rc=$rc" "stderr: $err"
	fi
}

for c in keysize valsize type bigmeta; do
	mkpins "$c" || { t_fail "$c: cannot create the pins"; continue; }
	id0=$(bpftool map show pinned "$DIR/nacct_flows" -j | jq -r .id)
	expect2 "$c: status IFACE" incompatible nacct_b status "$IF_B"
	expect2 "$c: flows IFACE" incompatible nacct_b flows "$IF_B"
	expect2 "$c: subnets IFACE" incompatible nacct_b subnets "$IF_B"
	expect2 "$c: attach refuses to reuse" incompatible nacct_b attach "$IF_B"
	t_check "$c: attach left the pins alone and attached nothing" "$id0 xdp=0 filters=0" \
		"$(bpftool map show pinned "$DIR/nacct_flows" -j | jq -r .id) $(h_state | cut -d' ' -f3-)"
	out=$(nacct_b detach "$IF_B" 2>&1)
	rc=$?
	t_check "$c: detach removes the foreign pins" "0 $H_NONE" "$rc $(h_state)"
	[ "$rc" = 0 ] || t_log "$out"
done

# and a fresh attach after that counts exactly
nacct_b attach "$IF_B" >/dev/null
t_check "attach after the clean-up is whole" "$H_FULL" "$(h_state)"
k0=$(t_ifstat "$NS_B" "$IF_B" rx_packets)
r0=$(h_rx)
n=$(in_a "$ROOT/.output/udpsend" 198.18.0.2 9 500 64 46000 5)
sleep 0.3
t_check "counts exactly: nacct rx = generator" "$n" $(($(h_rx) - r0))
t_check "counts exactly: nacct rx = kernel" $(($(t_ifstat "$NS_B" "$IF_B" rx_packets) - k0)) $(($(h_rx) - r0))
nacct_b detach "$IF_B" >/dev/null
exit $T_FAILED
