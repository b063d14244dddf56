#!/bin/bash
# nacct serve scraped by real servers: Debian's prometheus, then
# victoria-metrics (the scale-out store, its own Prometheus-compatible
# scraper), each started here with a private config and data directory,
# listening on 127.0.0.1 inside the test's namespace (where nacct serve
# listens too), and stopped after.  Through each server's HTTP query API:
# nacct_packets_total / nacct_bytes_total equal `nacct status --json`
# (and the generator's count), rate() is positive over the traffic and 0
# once it has stopped, and no series carries a per-flow label.
source "$(dirname "$0")/../lib.sh"
t_need_root
for tool in curl jq; do
	command -v $tool >/dev/null || { t_skip metrics_server "$tool not installed (scripts/deps.sh test)"; exit 0; }
done
UDPSEND=$ROOT/.output/udpsend
[ -x "$UDPSEND" ] || { t_skip metrics_server "build .output/udpsend"; exit 0; }
t_setup_pair || { t_fail setup "cannot create netns pair"; exit 1; }
ip netns exec "$NS_A" sysctl -qw net.ipv6.conf."$IF_A".router_solicitations=0
ip netns exec "$NS_B" sysctl -qw net.ipv6.conf."$IF_B".router_solicitations=0
ip -n "$NS_B" link set lo up
nacct_b attach "$IF_B" --mode generic >/dev/null 2>&1 || { t_fail attach "nacct attach failed"; exit 1; }
t_drop_udp b 9000 || { t_fail setup "nft"; exit 1; }
SERVE=127.0.0.1:19464
nsenter --net=/run/netns/"$NS_B" "$NACCT" serve --metrics $SERVE 2>"$T_TMP/serve.log" &
SRV=$!
t_cleanup_add "kill $SRV 2>/dev/null"

# the query API: the value of the single series of QUERY ("" if none)
q() { # PORT QUERY
	in_b curl -sfG "http://127.0.0.1:$1/api/v1/query" --data-urlencode "query=$2" |
		jq -r 'if .data.result | length == 1 then .data.result[0].value[1] else "" end'
}
# wait until QUERY gives a value that is not "" (and, with WANT, equals it)
waitq() { # PORT QUERY [WANT]
	local v i
	for i in $(seq 1 150); do
		v=$(q "$1" "$2")
		if [ -n "$v" ] && { [ -z "${3:-}" ] || [ "$v" = "$3" ]; }; then echo "$v"; return 0; fi
		sleep 0.2
	done
	echo "$v"
	return 1
}
lbl() { echo "{ifname=\"$IF_B\",direction=\"$1\"}"; }

scrape_config() { # FILE
	cat >"$1" <<-EOF
	global:
	  scrape_interval: 1s
	  scrape_timeout: 1s
	scrape_configs:
	  - job_name: nacct
	    static_configs:
	      - targets: ['$SERVE']
	EOF
}

# one server: PORT NAME, the server already started in $NS_B
check_server() {
	local port=$1 name=$2 st st0 sent v up
	up=$(waitq "$port" "up{job=\"nacct\"}" 1) ||
		{ t_fail "$name: scrapes nacct serve" "up = '$up'" "$(tail -n 5 "$T_TMP/$name.log")"; return; }
	# two scrapes at least before the traffic
	waitq "$port" "count_over_time(up{job=\"nacct\"}[1m]) >= 2" >/dev/null
	st0=$(t_status_json b "$IF_B")
	sent=$(in_a "$UDPSEND" 198.18.0.2 9000 500 100 40000 4)
	t_settle
	st=$(t_status_json b "$IF_B")
	t_check "$name: status rx packets over the traffic = the generator's" "$sent" \
		"$(($(jq -r .totals.rx_packets <<<"$st") - $(jq -r .totals.rx_packets <<<"$st0")))"
	for d in rx tx; do
		for u in packets bytes; do
			v=$(waitq "$port" "nacct_${u}_total$(lbl $d)" "$(jq -r ".totals.${d}_$u" <<<"$st")")
			t_check "$name: nacct_${u}_total $d = status" "$(jq -r ".totals.${d}_$u" <<<"$st")" "$v"
		done
	done
	v=$(q "$port" "rate(nacct_packets_total$(lbl rx)[1m])")
	awk -v v="${v:-x}" 'BEGIN { exit !(v + 0 > 0) }' && t_ok "$name: rate() over the traffic > 0 ($v/s)" ||
		t_fail "$name: rate() over the traffic > 0" "'$v'"
	# idle: a few scrapes without traffic make the short-window rate 0
	v=$(waitq "$port" "rate(nacct_packets_total$(lbl rx)[4s])" 0)
	t_check "$name: rate() once the traffic stopped" 0 "$v"
	# bounded labels: interface level only, never a flow's addresses or ports
	v=$(in_b curl -sfG "http://127.0.0.1:$port/api/v1/labels" | jq -r '.data | join(" ")')
	if [ -n "$v" ] && ! grep -qwE 'src|dst|sport|dport|saddr|daddr|flow|proto' <<<"$v"; then
		t_ok "$name: labels bounded ($v)"
	else
		t_fail "$name: labels bounded" "labels: '$v'"
	fi
}

# ---- prometheus ------------------------------------------------------------------
if command -v prometheus >/dev/null; then
	P=19090
	mkdir -p "$T_TMP/prom"
	scrape_config "$T_TMP/prom.yml"
	nsenter --net=/run/netns/"$NS_B" prometheus --config.file="$T_TMP/prom.yml" \
		--storage.tsdb.path="$T_TMP/prom" --web.listen-address=127.0.0.1:$P \
		>"$T_TMP/prometheus.log" 2>&1 &
	PP=$!
	t_cleanup_add "kill $PP 2>/dev/null; wait $PP 2>/dev/null"
	t_log "prometheus $(prometheus --version 2>&1 | head -1 | awk '{print $3}')"
	check_server $P prometheus
	kill $PP; wait $PP 2>/dev/null
else
	t_skip "prometheus: not installed (scripts/deps.sh test)"
fi

# ---- victoria-metrics ------------------------------------------------------------
if command -v victoria-metrics >/dev/null; then
	V=18428
	mkdir -p "$T_TMP/vm"
	scrape_config "$T_TMP/vm.yml"
	nsenter --net=/run/netns/"$NS_B" victoria-metrics -httpListenAddr=127.0.0.1:$V \
		-storageDataPath="$T_TMP/vm" -promscrape.config="$T_TMP/vm.yml" \
		-search.latencyOffset=0s -search.disableCache -dedup.minScrapeInterval=0 \
		>"$T_TMP/victoria-metrics.log" 2>&1 &
	VP=$!
	t_cleanup_add "kill $VP 2>/dev/null; wait $VP 2>/dev/null"
	t_log "victoria-metrics $(dpkg-query -W -f '${Version}' victoria-metrics 2>/dev/null)"
	check_server $V victoria-metrics
	kill $VP; wait $VP 2>/dev/null
else
	t_skip "victoria-metrics: not installed (scripts/deps.sh test)"
fi
exit 0
