#!/bin/bash
# nacct capture, inline mode: sampled packets to pcap, read back by two
# independent readers (tcpdump -r and tshark).
#  - every packet sent (UDP v4 and v6, ping both ways) appears with its
#    length and bytes, identical to what an AF_PACKET tcpdump on the same
#    interface saw; received ones from XDP, sent ones from TC
#  - --sample 1/N: a count within 5 sigma of the binomial expectation while
#    the accounting stays exact (generator count, kernel counters)
#  - a FILTER keeps only matching packets; -c stops at exactly COUNT;
#    -w - streams into tshark -r -; -G rotates files
#  - an interface that is not attached is attached for the capture and
#    detached after; an existing attachment keeps its programs and its
#    nacct_cfg
. "$(dirname "$0")/../lib.sh"
t_need_root
t_setup_pair || { t_fail setup "cannot create netns/veth"; exit 1; }
UDPSEND=$ROOT/.output/udpsend
command -v tcpdump >/dev/null && command -v tshark >/dev/null ||
	{ t_skip capture "tcpdump and tshark are needed (scripts/deps.sh test)"; exit 0; }
export TSHARK_RUN_AS_ROOT=1
# a private copy: others may relink ./nacct while this test runs
cp "$NACCT" "$T_TMP/nacct" && NACCT=$T_TMP/nacct

# no ICMP port unreachable replies: the tests count exactly what they send
ip netns exec "$NS_B" nft 'add table inet nacct_test; add chain inet nacct_test in { type filter hook input priority 0; }; add rule inet nacct_test in udp dport { 9, 7777 } drop' ||
	{ t_fail setup "nft"; exit 1; }

# one line per packet: length + all bytes, no timestamp (for set comparison)
pkt_lines() {
	tcpdump -r "$1" -nn -t -x "${@:2}" 2>/dev/null |
		awk '/^\t0x/ { sub(/^\t0x[0-9a-f]+:/, ""); gsub(/ /, ""); line = line $0; next }
		     { if (line != "") print line; line = $0 " " } END { if (line != "") print line }' |
		sort
}
count_pkts() { tcpdump -r "$1" -nn "${@:2}" 2>/dev/null | wc -l; }

# ---- 1. everything, both directions, bytes identical to tcpdump's view ----
nacct_b attach "$IF_B" >/dev/null || { t_fail attach; exit 1; }
ids0=$(t_status_json b "$IF_B" | jq -c .programs)
# the witness in immediate mode (t_tcpdump_start): without it libpcap hands
# over a ring block only when it is full or its timeout ends, and the last
# frames of a run that stops sooner were lost (seen: the last ping's pair)
t_tcpdump_start "$NS_B" "$IF_B" "$T_TMP/witness.pcap" || { t_fail "tcpdump starts"; exit 1; }
# listeners on port 9: a closed port would answer with rate-limited ICMP
# errors, one or two, which no count below could predict
ip netns exec "$NS_B" ncat -l -u 198.18.0.2 9 >/dev/null &
t_cleanup_add "kill $!"
ip netns exec "$NS_B" ncat -l -u fd00:18::2 9 >/dev/null &
t_cleanup_add "kill $!"
sleep 0.2
cap_start all "$IF_B" -w "$T_TMP/all.pcap" || exit 1
t0=$(date +%s.%N)
s0=$(t_status_json b "$IF_B")
n4=$(in_a "$UDPSEND" 198.18.0.2 9 200 300)
n6=$(in_a "$UDPSEND" fd00:18::2 9 100 500)
in_a ping -c 5 -i 0.1 -q 198.18.0.2 >/dev/null || t_fail "ping through the capture"
sleep 0.3
s1=$(t_status_json b "$IF_B")
cap_stop
t1=$(date +%s.%N)
t_tcpdump_stop "$T_TMP/witness.pcap" 310 "host 198.18.0.1 or host fd00:18::1"
t_check "capture exits 0 on SIGINT" 0 "$CAP_RC"
t_check "generator sent" "200 100" "$n4 $n6"
t_check "tcpdump -r: UDPv4 packets" 200 "$(count_pkts "$T_TMP/all.pcap" ip and udp dst port 9)"
t_check "tcpdump -r: UDPv6 packets" 100 "$(count_pkts "$T_TMP/all.pcap" ip6 and udp dst port 9)"
t_check "tcpdump -r: echo requests (RX, from XDP)" 5 \
	"$(count_pkts "$T_TMP/all.pcap" 'icmp[icmptype] == icmp-echo')"
t_check "tcpdump -r: echo replies (TX, from TC)" 5 \
	"$(count_pkts "$T_TMP/all.pcap" 'icmp[icmptype] == icmp-echoreply')"
t_check "tshark: frame lengths (UDPv4 14+20+8+300, UDPv6 14+40+8+500)" "200x342 100x562" \
	"$(tshark -r "$T_TMP/all.pcap" -Y 'udp.dstport == 9' -T fields -e frame.len 2>/dev/null |
	   sort -n | uniq -c | awk '{ printf "%s%sx%s", (NR > 1 ? " " : ""), $1, $2 }')"
t_check "tshark: no truncated frame" 0 \
	"$(tshark -r "$T_TMP/all.pcap" -T fields -e frame.len -e frame.cap_len 2>/dev/null |
	   awk '$1 != $2' | wc -l)"
pcap_n=$(count_pkts "$T_TMP/all.pcap")
# the summary's split against the file: link-local IPv6 chatter (MLD
# reports after the XDP attach resets the veth) may add a frame or two
read -r s_rx s_tx <<<"$(sed -n 's/.*captured (\([0-9]*\) received, \([0-9]*\) sent)/\1 \2/p' "$CAP_ERR")"
mac_b=$(ip -n "$NS_B" -br link show "$IF_B" | awk '{print $3}')
# MLDv2 reports: a hop-by-hop header (8 bytes), then ICMPv6 type 143
mld_tx=$(count_pkts "$T_TMP/all.pcap" "ether src $mac_b and ip6[6] == 0 and ip6[48] == 143")
mld_rx=$(count_pkts "$T_TMP/all.pcap" "not ether src $mac_b and ip6[6] == 0 and ip6[48] == 143")
t_check "summary: received + sent = packets in the file" "$pcap_n" "$((s_rx + s_tx))"
t_check "summary: received / sent, less MLD reports" "305 5" "$((s_rx - mld_rx)) $((s_tx - mld_tx))"
samples=$(($(jq .totals.samples <<<"$s1") - $(jq .totals.samples <<<"$s0")))
t_check "packets in the file = samples counted by the data path" "$samples" "$pcap_n"
t_check "summary: no ring-buffer drops" 1 "$(grep -c '^0 packets dropped by ring buffer' "$CAP_ERR")"
sel='host 198.18.0.1 or host fd00:18::1'
pkt_lines "$T_TMP/all.pcap" "$sel" >"$T_TMP/all.lines"
pkt_lines "$T_TMP/witness.pcap" "$sel" >"$T_TMP/witness.lines"
if [ "$(wc -l <"$T_TMP/all.lines")" = 310 ] && cmp -s "$T_TMP/all.lines" "$T_TMP/witness.lines"; then
	t_ok "every frame byte for byte as an AF_PACKET tcpdump saw it (310 frames)"
else
	t_fail "frames equal tcpdump's" "nacct $(wc -l <"$T_TMP/all.lines"), tcpdump $(wc -l <"$T_TMP/witness.lines")" \
		"$(diff "$T_TMP/all.lines" "$T_TMP/witness.lines" | head -4 | cut -c1-120)"
fi
read -r first last nano <<<"$(tshark -r "$T_TMP/all.pcap" -T fields -e frame.time_epoch 2>/dev/null |
	awk 'NR == 1 { f = $1 } { l = $1; if ($1 !~ /000$/) n++ } END { print f, l, n + 0 }')"
if awk -v a="$t0" -v b="$t1" -v f="$first" -v l="$last" 'BEGIN { exit !(f >= a && l <= b && f <= l) }'; then
	t_ok "timestamps are wall clock within the run ($first .. $last)"
else
	t_fail "timestamps within the run" "run $t0 .. $t1" "file $first .. $last"
fi
if [ "$nano" -gt 0 ]; then t_ok "nanosecond timestamps ($nano not whole microseconds)"
else t_fail "nanosecond timestamps" "all timestamps are whole microseconds"; fi
t_check "existing attachment untouched (program ids)" "$ids0" "$(t_status_json b "$IF_B" | jq -c .programs)"

# ---- 2. --sample 1/20: binomial bounds, exact accounting -------------------
N=20000 R=20
cap_start sample "$IF_B" -w "$T_TMP/sample.pcap" --sample 1/$R || exit 1
s0=$(t_status_json b "$IF_B")
k0=$(t_ifstat "$NS_B" "$IF_B" rx_packets)
sent=$(in_a "$UDPSEND" 198.18.0.2 9 $N 64 40000)
sleep 0.3
k1=$(t_ifstat "$NS_B" "$IF_B" rx_packets)
s1=$(t_status_json b "$IF_B")
cap_stop
got=$(count_pkts "$T_TMP/sample.pcap" udp dst port 9)
read -r lo hi <<<"$(awk -v n=$N -v r=$R 'BEGIN { m = n / r; s = sqrt(n / r * (1 - 1 / r)); printf "%d %d", m - 5 * s, m + 5 * s + 1 }')"
if [ "$got" -ge "$lo" ] && [ "$got" -le "$hi" ]; then
	t_ok "--sample 1/$R of $N: $got packets, within 5 sigma [$lo, $hi]"
else
	t_fail "--sample 1/$R within 5 sigma" "expected $lo..$hi, got $got"
fi
d() { echo $(($(jq -r ".totals.$1" <<<"$s1") - $(jq -r ".totals.$1" <<<"$s0"))); }
t_check "sampling: generator sent" $N "$sent"
t_check "sampling: rx packets = kernel rx_packets" $((k1 - k0)) "$(d rx_packets)"
t_check "sampling: the flow counts every packet" $N \
	"$(nacct_b flows "$IF_B" --json | jq -s 'map(select(.sport == 40000 or .dport == 40000)) | .[0].packets')"
t_check "sampling: file = data-path samples" "$(d samples)" "$(count_pkts "$T_TMP/sample.pcap")"

# ---- 3. FILTER keeps only matching packets ---------------------------------
cap_start filter "$IF_B" -w "$T_TMP/filter.pcap" udp and dst port 7777 || exit 1
in_a "$UDPSEND" 198.18.0.2 9 100 64 >/dev/null
in_a "$UDPSEND" 198.18.0.2 7777 50 80 >/dev/null
in_a "$UDPSEND" fd00:18::2 7777 20 80 >/dev/null
in_a ping -c 3 -i 0.1 -q 198.18.0.2 >/dev/null
cap_stop
t_check "filter: all packets in the file" 70 "$(count_pkts "$T_TMP/filter.pcap")"
t_check "filter: all of them match" 70 "$(count_pkts "$T_TMP/filter.pcap" udp dst port 7777)"
# 106 of ours were rejected; the host may add a stray IPv6 frame or two
read -r smp rej <<<"$(awk '/packets sampled/ { s = $1 } /rejected by the filter/ { r = $1 } END { print s, r }' "$CAP_ERR")"
t_check "filter: summary: sampled = written + rejected" "$smp" "$((70 + rej))"
if [ "$rej" -ge 106 ]; then t_ok "filter: $rej packets rejected"; else t_fail "filter: rejected" "$rej < 106"; fi

# ---- 4. -c stops at exactly COUNT, by itself -------------------------------
cap_start count "$IF_B" -w "$T_TMP/count.pcap" -c 37 || exit 1
in_a "$UDPSEND" 198.18.0.2 9 100 64 >/dev/null
for ((i = 0; i < 50; i++)); do kill -0 "$CAP_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$CAP_PID" 2>/dev/null; then t_fail "-c: capture exits by itself"; kill -INT "$CAP_PID"; fi
wait "$CAP_PID"
t_check "-c 37: exit status" 0 "$?"
t_check "-c 37: packets in the file (tshark)" 37 \
	"$(tshark -r "$T_TMP/count.pcap" -T fields -e frame.number 2>/dev/null | wc -l)"

# ---- 5. -w - into tshark -r - ----------------------------------------------
nsenter --net=/run/netns/"$NS_B" "$NACCT" capture "$IF_B" -w - -c 25 udp 2>"$T_TMP/pipe.err" |
	tshark -r - -T fields -e frame.len -e udp.dstport >"$T_TMP/pipe.out" 2>/dev/null &
PPID_=$!
for ((i = 0; i < 600; i++)); do grep -qs ': capturing' "$T_TMP/pipe.err" && break; sleep 0.1; done
in_a "$UDPSEND" 198.18.0.2 9 40 100 >/dev/null
wait $PPID_
t_check "-w - | tshark -r -: frames" "25 142 9" \
	"$(sort "$T_TMP/pipe.out" | uniq -c | awk '{print $1, $2, $3}')"
grep -q "^25 packets captured" "$T_TMP/pipe.err" && t_ok "-w -: summary on stderr, not in the stream" ||
	t_fail "-w - summary" "$(cat "$T_TMP/pipe.err")"

# ---- 6. -G rotates ----------------------------------------------------------
cap_start rotate "$IF_B" -w "$T_TMP/rot-%s.pcap" -G 1 icmp || exit 1
in_a ping -c 12 -i 0.2 -q 198.18.0.2 >/dev/null
cap_stop
files=$(ls "$T_TMP"/rot-*.pcap | wc -l)
total=0
for f in "$T_TMP"/rot-*.pcap; do total=$((total + $(count_pkts "$f"))); done
if [ "$files" -ge 2 ]; then t_ok "-G 1: $files files"; else t_fail "-G 1 rotates" "$files file(s)"; fi
t_check "-G 1: every packet in exactly one file" 24 "$total"

# ---- 7. nacct_cfg restored; attachment still counts ------------------------
cfg_hex() { in_b bpftool -j map lookup pinned "$(ls -d /sys/fs/bpf/nacct/"$IF_B"* | head -1)/nacct_cfg" \
	key 0 0 0 0 | jq -r '.value | join(" ")'; }
cfg_before=$(cfg_hex)
cap_start cfg "$IF_B" -w "$T_TMP/cfg.pcap" --sample 1/3 --snaplen 100 || exit 1
cfg_during=$(cfg_hex)
cap_stop
t_check "nacct_cfg restored after the capture" "$cfg_before" "$(cfg_hex)"
[ "$cfg_during" != "$cfg_before" ] && t_ok "nacct_cfg set during the capture" ||
	t_fail "nacct_cfg set during the capture" "$cfg_during"
nacct_b detach "$IF_B" >/dev/null

# ---- 8. not attached: attached for the capture, detached after -------------
cap_start temp "$IF_B" -w "$T_TMP/temp.pcap" -c 6 icmp || exit 1
in_a ping -c 3 -i 0.1 -q 198.18.0.2 >/dev/null
wait "$CAP_PID"
t_check "temporary attach: exit status" 0 "$?"
t_check "temporary attach: 3 requests + 3 replies" 6 "$(count_pkts "$T_TMP/temp.pcap" icmp)"
grep -q 'detached' "$CAP_ERR" && t_ok "temporary attach: detached on exit" ||
	t_fail "temporary attach: detached on exit" "$(cat "$CAP_ERR")"
in_b "$NACCT" status "$IF_B" >/dev/null 2>&1
t_check "temporary attach: status says not attached (exit 2)" 2 "$?"
t_check "temporary attach: no XDP program left" "" "$(ip -n "$NS_B" link show "$IF_B" | grep -o 'prog/xdp')"

# ---- 9. bad input: exit 2, one line ----------------------------------------
nacct_b capture "$IF_B" -w "$T_TMP/x.pcap" --sample 1/0 2>/dev/null
t_check "--sample 1/0: exit 2" 2 "$?"
nacct_b capture "$IF_B" -w "$T_TMP/x.pcap" udp and port 2>/dev/null
t_check "bad filter: exit 2" 2 "$?"
nacct_b capture "$IF_B" 2>/dev/null
t_check "no -w: exit 2" 2 "$?"
nacct_b capture "$IF_B" -w - -G 5 2>/dev/null
t_check "-G with -w -: exit 2" 2 "$?"
exit 0
