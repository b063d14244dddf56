# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/vm/queues-virtio.sh: the queues-virtio row of tests/vm/suite.sh
# (sourced: uses its ok/nok/skip, ROOT, NACCT, UDPSEND, ID, TMP, HOST).
#
# nacct queues on a multi-queue virtio-net NIC: the guest's third and
# fourth NICs (MACs 52:54:00:00:00:20/21, mq=on on multi_queue taps: see
# run-in-vm.sh), each in its own namespace, A 198.18.2.1 <-> B 198.18.2.2,
# `ethtool -L combined NACCT_VM_MQ` on both.  nacct attached (auto) to A;
# 3 x 32 source ports each way (frames of 62, 342 and 1042 bytes).
# Witness, queue by queue, RX and TX: virtio_net's own per-queue counters,
# packets and bytes (whole frames with the Ethernet header, counted before
# the XDP program runs, XDP_PASS or not):
#  - before 6.10: `ethtool -S` rx_queue_N_packets/_bytes, tx_queue_N_...
#  - from 6.10: those left ethtool -S (which keeps rxN_drops, rxN_xdp_*...)
#    for the netdev netlink family's qstats-get, scope queue
#    (tests/tools/qstats.py)
# and each direction's rows sum to `nacct status`'s totals.
# What a qdisc drops never reaches a queue: A's drops between the TC egress
# hook (status's TX) and the driver, B's before the wire (A's RX).  The
# queues get pfifo children (no AQM: fq_codel, the default, drops packets
# that wait 100 ms in a stopped queue, as they do under TCG), and the
# drops that happen still (a full pfifo) are in the equations:
#   TX rows = A's datagrams - A's qdisc drops, status TX = A's datagrams,
#   RX rows = B's datagrams - B's qdisc drops = status RX.
queues_virtio() {
	local nq=${NACCT_VM_MQ:-4} QA=${ID}qa QB=${ID}qb QIA QIB n i rc st wit
	local k0 k1 kp s0 s1 q0 q1 nr nt kr kt sd na nb ch d0a d0b dra drb
	[ -e /run/vm/mq.ok ] || {
		skip queues-virtio "no multi-queue virtio-net NICs: $(cat /run/vm/mq.err 2>/dev/null || echo 'run-in-vm.sh made none (NACCT_VM_MQ=0?)')"
		return
	}
	QIA=$(ip -j link show | jq -r '.[] | select(.address == "52:54:00:00:00:20") | .ifname')
	QIB=$(ip -j link show | jq -r '.[] | select(.address == "52:54:00:00:00:21") | .ifname')
	[ -n "$QIA" ] && [ -n "$QIB" ] || { nok queues-virtio "mq NICs not found (MACs 52:54:00:00:00:20/21): $(ip -br link | tr '\n' ';')"; return; }
	command -v ethtool >/dev/null || { skip queues-virtio "no ethtool"; return; }
	ip netns add "$QA" && ip netns add "$QB" || { nok queues-virtio "cannot create netns"; return; }
	for n in "$QA" "$QB"; do
		nsenter --net=/run/netns/"$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	done
	ip link set "$QIA" netns "$QA" && ip link set "$QIB" netns "$QB" || { nok queues-virtio "cannot move $QIA/$QIB"; return; }
	for n in "$QA:$QIA" "$QB:$QIB"; do
		nsenter --net=/run/netns/"${n%%:*}" ethtool -L "${n#*:}" combined "$nq" 2>"$TMP/ql.err" ||
			{ nok queues-virtio "ethtool -L ${n#*:} combined $nq: $(cat "$TMP/ql.err")"; return; }
		# mq with a pfifo per queue (see above)
		tc -n "${n%%:*}" qdisc replace dev "${n#*:}" root handle 1: mq 2>"$TMP/ql.err" ||
			{ nok queues-virtio "tc qdisc replace dev ${n#*:} root mq: $(cat "$TMP/ql.err")"; return; }
		for ch in $(tc -n "${n%%:*}" -j qdisc show dev "${n#*:}" | jq -r '.[] | select(.parent != null) | .parent'); do
			tc -n "${n%%:*}" qdisc replace dev "${n#*:}" parent "$ch" pfifo limit 10000 2>"$TMP/ql.err" ||
				{ nok queues-virtio "tc qdisc replace dev ${n#*:} parent $ch pfifo: $(cat "$TMP/ql.err")"; return; }
		done
	done
	ip -n "$QA" addr add 198.18.2.1/24 dev "$QIA"; ip -n "$QB" addr add 198.18.2.2/24 dev "$QIB"
	ip -n "$QA" link set "$QIA" up; ip -n "$QB" link set "$QIB" up
	ip -n "$QA" neigh replace 198.18.2.2 lladdr 52:54:00:00:00:21 dev "$QIA" nud permanent
	ip -n "$QB" neigh replace 198.18.2.1 lladdr 52:54:00:00:00:20 dev "$QIB" nud permanent
	# no ICMP port unreachable back (it would be counted on both sides alike,
	# but the sizes stay the generator's)
	for n in "$QA" "$QB"; do
		nsenter --net=/run/netns/"$n" nft -f - 2>/dev/null <<-NFT
		table inet nacct_q { chain in { type filter hook input priority 0; policy accept; udp dport 9 drop; }; }
		NFT
	done
	nsenter --net=/run/netns/"$QA" "$NACCT" attach "$QIA" >"$TMP/qa.out" 2>&1 ||
		{ nok queues-virtio "attach $QIA: $(cat "$TMP/qa.out")"; return; }
	st=$(nsenter --net=/run/netns/"$QA" "$NACCT" status "$QIA" --json)
	echo "# queues-virtio: $QIA $(nsenter --net=/run/netns/"$QA" ethtool -l "$QIA" | awk '/Combined/ { c = c $2 "/" } END { print "combined max/current " c }')," \
		"$(nproc) cpus, attach mode $(jq -r .mode <<<"$st"): $(jq -r .reason <<<"$st")"
	echo "# queues-virtio: kernel: $(dmesg | grep -E 'XDP request|virtio_net.*(XDP|queue)' | tail -n 2 | tr '\n' ' ')"

	# "rx|tx QUEUE packets bytes", queues 0..nq-1, from the kernel
	if nsenter --net=/run/netns/"$QA" ethtool -S "$QIA" | grep -q 'rx_queue_0_packets:'; then
		wit="ethtool -S rx_queue_N_packets/_bytes, tx_queue_N_packets/_bytes"
		kq() { nsenter --net=/run/netns/"$QA" ethtool -S "$QIA" | awk -F'[_: ]+' -v nq="$nq" '
			/^ *(rx|tx)_queue_[0-9]+_(packets|bytes):/ { v[$2, $4, $5] = $NF }
			END { for (d = 0; d < 2; d++) for (q = 0; q < nq; q++) { x = d ? "tx" : "rx"; print x, q, v[x, q, "packets"] + 0, v[x, q, "bytes"] + 0 } }'; }
	else
		wit="netdev netlink qstats-get scope queue (tests/tools/qstats.py; ethtool -S has no per-queue packets/bytes here)"
		kq() { nsenter --net=/run/netns/"$QA" python3 "$ROOT/tests/tools/qstats.py" "$QIA" | awk -v nq="$nq" '$2 < nq' | sort -k1,1 -k2n; }
	fi
	k0=$(kq) || { nok queues-virtio "kernel per-queue counters: $wit: $k0"; return; }
	[ "$(wc -l <<<"$k0")" = $((2 * nq)) ] || { nok queues-virtio "kernel per-queue counters ($wit): want $((2 * nq)) rows, got: $(tr '\n' ';' <<<"$k0")"; return; }
	qn() { nsenter --net=/run/netns/"$QA" "$NACCT" queues "$QIA" --json |
		jq -r --argjson nq "$nq" '(.rx[] | select(.queue < $nq) | "rx \(.queue) \(.packets) \(.bytes)"), (.tx[] | select(.queue < $nq) | "tx \(.queue) \(.packets) \(.bytes)")'; }
	tot() { nsenter --net=/run/netns/"$QA" "$NACCT" status "$QIA" --json | jq -r '.totals | "\(.rx_packets) \(.rx_bytes) \(.tx_packets) \(.tx_bytes)"'; }
	# a device's qdiscs with their statistics (NS DEV), as JSON
	qjs() { tc -n "$1" -s -j qdisc show dev "$2"; }
	# packets a device's qdiscs dropped (the queues', summed)
	qdrops() { qjs "$1" "$2" | jq '[.[] | select(.parent != null) | .drops] | add // 0'; }
	s0=$(tot); q0=$(qn)
	d0a=$(qdrops "$QA" "$QIA"); d0b=$(qdrops "$QB" "$QIB")
	n=0 na=0 nb=0
	for sz in 20 300 1000; do
		rc=$(nsenter --net=/run/netns/"$QB" "$UDPSEND" 198.18.2.1 9 320 "$sz" 40000 32) &&
			i=$(nsenter --net=/run/netns/"$QA" "$UDPSEND" 198.18.2.2 9 320 "$sz" 41000 32) ||
			{ nok queues-virtio "udpsend $sz"; return; }
		n=$((n + rc + i)) nb=$((nb + rc)) na=$((na + i))
	done
	# virtio_net counts a TX packet when its buffer comes back from the
	# device (the TX interrupt or the next xmit), and a TX queue whose ring
	# is full stops: its packets wait in the qdisc (counted by TC egress,
	# not yet by the queue; under TCG with other guests busy, 18 of 960 in
	# one run).  Wait until both ends' qdiscs hold nothing and the
	# kernel's counters hold still for a second (at most 30 s)
	drained() { # (a tc that fails is not "empty")
		local ns q
		for ns in "$QA:$QIA" "$QB:$QIB"; do
			q=$(qjs "${ns%%:*}" "${ns#*:}" | jq '[.[] | .backlog + .qlen] | add') &&
				[ "$q" = 0 ] || return 1
		done
		return 0
	}
	# for a failure's report: each qdisc's sent/dropped/requeues/backlog, the link's counters
	qd() { qjs "$1" "$2" | jq -c '[.[] | {kind, parent, bytes, packets, drops, requeues, backlog, qlen}]'; }
	lk() { ip -n "$1" -s -j link show "$2" | jq -c '.[0].stats64 | {rx: .rx | {packets, dropped, errors, over_errors}, tx: .tx | {packets, dropped, errors, carrier_errors}}'; }
	kp=
	for i in $(seq 30); do
		sleep 1
		k1=$(kq)
		[ "$k1" = "$kp" ] && drained && break
		kp=$k1
	done
	drained || { nok queues-virtio "the qdiscs still hold packets after 30 s: A's $(qd "$QA" "$QIA"); B's $(qd "$QB" "$QIB")"; return; }
	s1=$(tot); q1=$(qn)
	dra=$(( $(qdrops "$QA" "$QIA") - d0a )); drb=$(( $(qdrops "$QB" "$QIB") - d0b ))
	# per queue: "d q packets bytes" deltas
	dl() { join -j1 <(awk '{ print $1 "/" $2, $3, $4 }' <<<"$1" | sort) <(awk '{ print $1 "/" $2, $3, $4 }' <<<"$2" | sort) |
		awk '{ split($1, a, "/"); print a[1], a[2], $4 - $2, $5 - $3 }' | sort -k1,1 -k2n; }
	kr=$(dl "$k0" "$k1"); nr=$(dl "$q0" "$q1")
	read -r a b c d <<<"$s0"; read -r e f g h <<<"$s1"
	sd="$((e - a)) $((f - b)) $((g - c)) $((h - d))"
	local sums used_rx used_tx fmt
	sums=$(awk '{ p[$1] += $3; b[$1] += $4 } END { print p["rx"] + 0, b["rx"] + 0, p["tx"] + 0, b["tx"] + 0 }' <<<"$nr")
	used_rx=$(awk '$1 == "rx" && $3 > 0' <<<"$nr" | wc -l)
	used_tx=$(awk '$1 == "tx" && $3 > 0' <<<"$nr" | wc -l)
	fmt() { awk '{ printf "%s%s%s:%s/%s", (NR > 1 ? " " : ""), $1, $2, $3, $4 }' <<<"$1"; }
	# packets: RX rows = B's datagrams - B's drops = status RX; TX rows = A's
	# datagrams - A's drops, status TX = A's datagrams; bytes: RX rows =
	# status, and TX too where A's qdiscs dropped nothing
	local rxp rxb txp txb srp srb stp stb
	read -r rxp rxb txp txb <<<"$sums"; read -r srp srb stp stb <<<"$sd"
	if [ "$kr" = "$nr" ] && [ "$used_rx" -ge 2 ] && [ "$used_tx" -ge 2 ] &&
		[ "$rxp" = $((nb - drb)) ] && [ "$rxp" = "$srp" ] && [ "$rxb" = "$srb" ] &&
		[ "$txp" = $((na - dra)) ] && [ "$stp" = "$na" ] && { [ "$dra" != 0 ] || [ "$txb" = "$stb" ]; } &&
		[ $((na + nb)) -ge 1920 ]; then
		ok queues-virtio "$QIA $nq queue pairs, $n datagrams sent ($na by A, $nb by B): nacct queues = $wit, queue by queue" \
			"(packets/bytes) $(fmt "$nr"); RX rows $rxp/$rxb = status = B's $nb - B's qdisc drops $drb;" \
			"TX rows $txp/$txb = A's $na - A's qdisc drops $dra, status TX $stp/$stb; queues used RX $used_rx TX $used_tx of $nq"
	else
		nok queues-virtio "nacct queues: $(fmt "$nr")" "kernel ($wit): $(fmt "$kr")" \
			"rows' sums (rx p/b tx p/b) $sums, status totals $sd; queues used RX $used_rx TX $used_tx; sent by A $na, by B $nb; qdisc drops A $dra, B $drb" \
			"tx_queues_counted: $(nsenter --net=/run/netns/"$QA" "$NACCT" status "$QIA" --json | jq -c .tx_queues_counted)" \
			"attach said: $(tr '\n' ' ' <"$TMP/qa.out" | cut -c1-400)" \
			"the TX queue program: $(ls /sys/fs/bpf/nacct/:txq 2>&1 | tr '\n' ' '); links: $(bpftool -j link 2>/dev/null | jq -c '[.[] | select(.prog_id) | {id, type, prog_id}] | length')" \
			"devices registered: $(bpftool map dump pinned /sys/fs/bpf/nacct/:txq/nacct_txq_ifs 2>&1 | grep -c key)" \
			"A's qdiscs: $(qd "$QA" "$QIA"); B's: $(qd "$QB" "$QIB")" \
			"A's link: $(lk "$QA" "$QIA"); B's: $(lk "$QB" "$QIB")"
	fi
	nsenter --net=/run/netns/"$QA" "$NACCT" detach "$QIA" >/dev/null 2>&1
	ip netns del "$QA"; ip netns del "$QB"
}
