#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# nacct queues (bcc netqtop's job) on a veth pair with 4 RX and 4 TX
# queues at both ends, flows spread over the queues, against the kernel's
# own per-queue counters on A:
#  - RX rows (native XDP): veth's rx_queue_N_xdp_packets / _xdp_bytes
#    (ethtool -S), queue by queue
#  - TX rows (net:net_dev_start_xmit): the mq qdisc's class of each TX
#    queue (tc -s class: Sent bytes, pkt), queue by queue
#  - each direction's rows sum to nacct's interface totals (status), and
#    the size buckets to the generator's frame sizes
#  - --hook tc: the RX rows at TC ingress sum to the totals
#  - bad input: exit status 2, nothing printed on stdout
. "$(dirname "$0")/../lib.sh"
t_need_root
T_VETH_QUEUES=4
t_setup_pair || { t_fail setup "cannot create netns/veth"; exit 1; }
UDPSEND=$ROOT/.output/udpsend
command -v ethtool >/dev/null && command -v nft >/dev/null ||
	{ t_skip queues "ethtool and nft are needed (scripts/deps.sh test)"; exit 0; }

# ---- bad input --------------------------------------------------------------
for bad in "" "$IF_A" "$IF_A x" "$IF_A 1 0" "$IF_A 1 2 3" "nosuchif0" "$IF_A --bogus"; do
	# shellcheck disable=SC2086
	in_a "$NACCT" queues $bad >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	# "$IF_A" alone is bad only while it is not attached
	[ "$rc" = 2 ] && [ ! -s "$T_TMP/out" ] && [ -s "$T_TMP/err" ] ||
		{ t_fail "queues ${bad:-(nothing)}: exit 2" "rc=$rc: $(cat "$T_TMP/err")"; continue; }
	t_ok "queues ${bad:-(nothing)}: exit 2 ($(head -1 "$T_TMP/err"))"
done

# no answers to the test's datagrams (ICMP port unreachable would add
# packets of other sizes): both ends drop them in their input chain
for ns in a b; do
	in_$ns nft -f - <<-EOF || { t_fail "nft ($ns)"; exit 1; }
	table inet nacct_q {
		chain in {
			type filter hook input priority 0; policy accept;
			udp dport 9 drop
		}
	}
	EOF
done
in_a tc qdisc replace dev "$IF_A" root mq || { t_fail "mq qdisc on $IF_A"; exit 1; }
nacct_a attach "$IF_A" --mode native >/dev/null || { t_fail "attach --mode native"; exit 1; }

# "N packets bytes" per queue: veth's RX counters, the mq classes (class
# :N is TX queue N-1)
ethq() {
	in_a ethtool -S "$IF_A" | awk -F'[_: ]+' '/rx_queue_[0-9]+_xdp_(packets|bytes):/ {
		v[$4, $6] = $NF } END { for (q = 0; q < 4; q++) print q, v[q, "packets"] + 0, v[q, "bytes"] + 0 }'
}
mqq() {
	in_a tc -s class show dev "$IF_A" | awk '/^class mq/ { split($3, c, ":"); q = c[2] - 1 }
		/Sent/ { print q, $4, $2 }' | sort -n
}
qrows() { # JSON DIR: "N packets bytes" of queues 0..3
	jq -r --arg d "$2" '.[$d][] | select(.queue < 4) | "\(.queue) \(.packets) \(.bytes)"' <<<"$1"
}
sub3() { join <(echo "$1") <(echo "$2") | awk '{ print $1, $4 - $2, $5 - $3 }'; }

e0=$(ethq); m0=$(mqq); s0=$(t_status_json a "$IF_A")
t_check "status: TX queues counted" true "$(jq -r .tx_queues_counted <<<"$s0")"
q0=$(in_a "$NACCT" queues "$IF_A" --json) || { t_fail "queues --json" ; exit 1; }
# B -> A: RX on A; A -> B: TX on A; 32 source ports each, three sizes:
# frames of 62 (0-64), 342 (65-512) and 1042 bytes (513-2K)
n=0
for size in 20 300 1000; do
	r=$(in_b "$UDPSEND" 198.18.0.1 9 320 "$size" 40000 32) && t=$(in_a "$UDPSEND" 198.18.0.2 9 320 "$size" 41000 32) ||
		{ t_fail "udpsend $size"; exit 1; }
	n=$((n + r))
done
t_settle
e1=$(ethq); m1=$(mqq); s1=$(t_status_json a "$IF_A")
q1=$(in_a "$NACCT" queues "$IF_A" --json)

sd() { echo $(($(jq -r ".totals.$1" <<<"$s1") - $(jq -r ".totals.$1" <<<"$s0"))); }
qd() { echo $(($(jq -r "$1" <<<"$q1") - $(jq -r "$1" <<<"$q0"))); }
t_check "RX rows sum to the interface totals (packets)" "$(sd rx_packets)" "$(qd .rx_total.packets)"
t_check "RX rows sum to the interface totals (bytes)" "$(sd rx_bytes)" "$(qd .rx_total.bytes)"
t_check "TX rows sum to the interface totals (packets)" "$(sd tx_packets)" "$(qd .tx_total.packets)"
t_check "TX rows sum to the interface totals (bytes)" "$(sd tx_bytes)" "$(qd .tx_total.bytes)"
t_check "RX = the generator's datagrams" "$n" "$(qd .rx_total.packets)"
for d in rx tx; do
	t_check "$d sizes: 320 of 62, 342 and 1042 bytes in 0-64, 65-512, 513-2K" "320 320 320 0 0" \
		"$(qd ".${d}_total.sizes[0].packets") $(qd ".${d}_total.sizes[1].packets") $(qd ".${d}_total.sizes[2].packets") $(qd ".${d}_total.sizes[3].packets") $(qd ".${d}_total.sizes[4].packets")"
done

nr=$(sub3 "$(qrows "$q0" rx)" "$(qrows "$q1" rx)")
nt=$(sub3 "$(qrows "$q0" tx)" "$(qrows "$q1" tx)")
t_log "RX queue packets bytes (nacct):" $nr
t_log "TX queue packets bytes (nacct):" $nt
used_rx=$(awk '$2 > 0' <<<"$nr" | wc -l)
used_tx=$(awk '$2 > 0' <<<"$nt" | wc -l)
[ "$used_rx" -ge 2 ] && [ "$used_tx" -ge 2 ] &&
	t_ok "flows spread over queues (RX $used_rx, TX $used_tx of 4)" ||
	t_fail "flows spread over queues" "RX $used_rx, TX $used_tx of 4 queues used"
# veth counts an skb's bytes after eth_type_trans took the Ethernet header
ek=$(sub3 "$e0" "$e1" | awk '{ print $1, $2, $3 + 14 * $2 }')
t_check "RX per queue = veth rx_queue_N_xdp_packets/_xdp_bytes (+14 a frame)" "$(echo $ek)" "$(echo $nr)"
t_check "TX per queue = the mq qdisc's classes (Sent pkt/bytes)" "$(echo $(sub3 "$m0" "$m1"))" "$(echo $nt)"

# ---- interval mode: two intervals, numbered --------------------------------
in_a "$NACCT" queues "$IF_A" 0.2 2 --json >"$T_TMP/iv" 2>"$T_TMP/err"
t_check "queues IFACE 0.2 2 --json: intervals 1 and 2" "1 2" "$(jq -r .seq "$T_TMP/iv" | xargs)"
in_a "$NACCT" queues "$IF_A" >"$T_TMP/txt" 2>&1
[ "$(grep -c "^  total" "$T_TMP/txt")" = 2 ] && t_ok "text output: RX and TX tables with totals" ||
	t_fail "text output" "$(cat "$T_TMP/txt")"
[ -n "${NACCT_SHOW:-}" ] && cat "$T_TMP/txt"

# ---- --hook tc: RX rows at TC ingress -----------------------------------------
nacct_a detach "$IF_A" >/dev/null
nacct_a attach "$IF_A" --hook tc >/dev/null || { t_fail "attach --hook tc"; exit 1; }
s0=$(t_status_json a "$IF_A"); q0=$(in_a "$NACCT" queues "$IF_A" --json)
r=$(in_b "$UDPSEND" 198.18.0.1 9 400 100 40000 32)
t_settle
s1=$(t_status_json a "$IF_A"); q1=$(in_a "$NACCT" queues "$IF_A" --json)
t_check "--hook tc: RX rows sum to the totals (packets)" "$(sd rx_packets)" "$(qd .rx_total.packets)"
t_check "--hook tc: RX rows sum to the totals (bytes)" "$(sd rx_bytes)" "$(qd .rx_total.bytes)"
t_check "--hook tc: RX = the generator's datagrams" "$r" "$(qd .rx_total.packets)"
t_log "--hook tc RX rows:" $(sub3 "$(qrows "$q0" rx)" "$(qrows "$q1" rx)") "other $(qd .rx_other.packets)"

# ---- two attachments, one TX queue program for the host ------------------------
# (lib/txq.c: the tracepoint fires for every device; each attachment's
# queue map is reached through the program's map of devices)
txq_progs() { bpftool prog show -j | jq '[.[] | select(.name == "nacct_txq")] | length'; }
nacct_b attach "$IF_B" --mode generic >/dev/null || { t_fail "attach B"; exit 1; }
t_check "two attachments: one nacct_txq program on the host" 1 "$(txq_progs)"
s0=$(t_status_json a "$IF_A"); q0=$(in_a "$NACCT" queues "$IF_A" --json)
b0=$(t_status_json b "$IF_B"); p0=$(in_b "$NACCT" queues "$IF_B" --json)
r=$(in_b "$UDPSEND" 198.18.0.1 9 200 100 42000 8)
t_settle
s1=$(t_status_json a "$IF_A"); q1=$(in_a "$NACCT" queues "$IF_A" --json)
b1=$(t_status_json b "$IF_B"); p1=$(in_b "$NACCT" queues "$IF_B" --json)
bd() { echo $(($(jq -r "$1" <<<"$p1") - $(jq -r "$1" <<<"$p0"))); }
bs() { echo $(($(jq -r ".totals.$1" <<<"$b1") - $(jq -r ".totals.$1" <<<"$b0"))); }
t_check "B's TX rows = B's TX totals = the generator's datagrams" "$r $r" \
	"$(bd .tx_total.packets) $(bs tx_packets)"
t_check "A's TX rows: none of B's packets" "$(sd tx_packets)" "$(qd .tx_total.packets)"
nacct_b detach "$IF_B" >/dev/null
t_check "one detach of two: the program stays" 1 "$(txq_progs)"
nacct_a detach "$IF_A" >/dev/null
# the kernel frees a released link's program after an RCU grace period
# (bpf_link_put defers the free): gone within a moment, not at once
for _ in $(seq 50); do [ "$(txq_progs)" = 0 ] && break; sleep 0.1; done
t_check "the last detach: no TX queue program, no :txq pins" "0 absent" \
	"$(txq_progs) $([ -e /sys/fs/bpf/nacct/:txq ] && echo present || echo absent)"
exit 0
