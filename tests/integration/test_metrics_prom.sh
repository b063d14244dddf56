#!/bin/bash
# nacct serve: the Prometheus scrape (curl, in the test's namespace)
# passes `promtool check metrics`, and its interface totals equal
# `nacct status --json` and the generator's count exactly.
source "$(dirname "$0")/../lib.sh"
t_need_root
for tool in curl jq promtool; do
	command -v $tool >/dev/null || { t_skip metrics_prom "$tool not installed (scripts/deps.sh test)"; exit 0; }
done
UDPSEND=$ROOT/.output/udpsend
[ -x "$UDPSEND" ] || { t_skip metrics_prom "build .output/udpsend"; exit 0; }
t_setup_pair || { t_fail setup "cannot create netns pair"; exit 1; }
ip netns exec "$NS_A" sysctl -qw net.ipv6.conf."$IF_A".router_solicitations=0
ip netns exec "$NS_B" sysctl -qw net.ipv6.conf."$IF_B".router_solicitations=0
nacct_b attach "$IF_B" --mode generic --subnets 198.18.0.0/24,fd00:18::/64 >/dev/null 2>&1 \
	|| { t_fail attach "nacct attach failed"; exit 1; }
t_drop_udp b 9000 || { t_fail setup "nft"; exit 1; }

nsenter --net=/run/netns/"$NS_B" "$NACCT" serve --metrics 127.0.0.1:9464 2>"$T_TMP/serve.log" &
SRV=$!
t_cleanup_add "kill $SRV"
sent=$(in_a "$UDPSEND" 198.18.0.2 9000 400 100 40000 4)
in_a ping -q -c 7 -i 0.01 198.18.0.2 >/dev/null
sleep 0.3
for i in 1 2 3 4 5 6 7 8 9 10; do
	in_b curl -sf http://127.0.0.1:9464/metrics >"$T_TMP/scrape" && break
	sleep 0.2
done
st=$(t_status_json b "$IF_B")
out=$(promtool check metrics <"$T_TMP/scrape" 2>&1)
if [ $? = 0 ]; then t_ok "promtool check metrics ($(grep -vc '^#' "$T_TMP/scrape") samples)"; else
	t_fail "promtool check metrics" "$out"; fi
metric() { awk -v m="$1" -v l="$2" '$1 == m l { print $2 }' "$T_TMP/scrape"; }
lbl() { echo "{ifname=\"$IF_B\",direction=\"$1\"}"; }
t_check "rx packets = status" "$(jq -r .totals.rx_packets <<<"$st")" "$(metric nacct_packets_total "$(lbl rx)")"
t_check "tx packets = status" "$(jq -r .totals.tx_packets <<<"$st")" "$(metric nacct_packets_total "$(lbl tx)")"
t_check "rx bytes = status" "$(jq -r .totals.rx_bytes <<<"$st")" "$(metric nacct_bytes_total "$(lbl rx)")"
t_check "tx bytes = status" "$(jq -r .totals.tx_bytes <<<"$st")" "$(metric nacct_bytes_total "$(lbl tx)")"
# against the generators through the IPv4 subnet: link-local IPv6 chatter
# (MLD reports after attach) lands in the interface totals but not there
t_check "tx packets to 198.18.0.0/24 = echo replies" 7 \
	"$(metric nacct_subnet_packets_total "{ifname=\"$IF_B\",subnet=\"198.18.0.0/24\",direction=\"tx\"}")"
t_check "flows gauge = status" "$(jq -r .maps.flows <<<"$st")" "$(metric nacct_flows "{ifname=\"$IF_B\"}")"
t_check "rx packets from 198.18.0.0/24 = generator (udp + echo requests)" "$((sent + 7))" \
	"$(metric nacct_subnet_packets_total "{ifname=\"$IF_B\",subnet=\"198.18.0.0/24\",direction=\"rx\"}")"
t_check "overflow counter present and 0" 0 "$(metric nacct_overflow_packets_total "$(lbl rx)")"
grep -q '^nacct_prog_runs_total{ifname="'"$IF_B"'",prog="xdp"}' "$T_TMP/scrape" \
	&& t_ok "program run counts exported" || t_fail "program run counts exported" "$(grep prog_runs "$T_TMP/scrape")"
# every side program's link (whichever program holds it: tracepoint or
# kprobe twin) has its run-count series (tests/vm/suite.sh forces the twins)
links=$(ls /sys/fs/bpf/nacct/:probes/ 2>/dev/null | sed -n 's/^link_nacct_//p' | sort | tr '\n' ' ')
series=$(sed -n 's/^nacct_prog_runs_total{ifname="",prog="\([a-z0-9_]*\)"}.*/\1/p' "$T_TMP/scrape" | sort | tr '\n' ' ')
if [ -z "$links" ]; then t_skip side_prog_metrics "no side programs attached"; else
	t_check "a run-count series for every side program's link pin" "$links" "$series"; fi
kill -TERM $SRV; wait $SRV; t_check "serve exits cleanly on SIGTERM" 0 $?
exit $T_FAILED
