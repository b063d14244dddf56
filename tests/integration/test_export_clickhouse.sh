#!/bin/bash
# A fleet into ClickHouse, exactly once: Debian's clickhouse-server,
# started here with its own config and data directory on 127.0.0.1 in the
# test's namespace, and two "hosts": two interfaces, each with its own
# nacct attachment and its own `nacct export --clickhouse` (exporter ids
# host1 and host2), fed by their own sender namespaces; host2's exporter
# also writes JSON lines from the same expiry pass (two sinks).  While the traffic
# runs, host1's exporter is killed with -9 at random moments five times
# (and started again), and ClickHouse itself is killed and restarted once.
# Then, per exporter, SQL's sum(packets) equals nacct's totals (IP part:
# totals - overflow - malformed - non-IP, both directions) with and
# without FINAL, no row identity appears twice, and the UDP rows received
# equal the generator's count.
source "$(dirname "$0")/../lib.sh"
t_need_root
for tool in curl jq; do
	command -v $tool >/dev/null || { t_skip export_clickhouse "$tool not installed"; exit 0; }
done
[ -x /usr/sbin/clickhouse-server ] ||
	{ t_skip export_clickhouse "clickhouse-server not installed (scripts/deps.sh test)"; exit 0; }
UDPSEND=$ROOT/.output/udpsend
[ -x "$UDPSEND" ] || { t_skip export_clickhouse "build .output/udpsend"; exit 0; }
CH=$ROOT/tests/tools/clickhouse.sh
t_setup_pair || { t_fail setup "cannot create netns pair"; exit 1; }

# host2: a second link into B, from its own sender namespace C
NS_C="${T_ID}c"
IF_C="${T_ID}c0"
IF_B2="${T_ID}d0"
ip netns add "$NS_C" || { t_fail setup "netns"; exit 1; }
t_cleanup_add "ip netns del $NS_C"
ip netns exec "$NS_C" sysctl -qw net.ipv6.conf.all.router_solicitations=0 \
	net.ipv6.conf.default.router_solicitations=0 2>/dev/null
t_add_link "$NS_C" "$IF_C" 198.18.1.1 "$NS_B" "$IF_B2" 198.18.1.2 || { t_fail setup "veth"; exit 1; }
in_c() { nsenter --net=/run/netns/"$NS_C" "$@"; }
t_cleanup_add "in_b $NACCT detach $IF_B2"
sleep 0.3

nacct_b attach "$IF_B" --mode generic >/dev/null 2>&1 || { t_fail attach "nacct attach $IF_B failed"; exit 1; }
nacct_b attach "$IF_B2" --mode generic >/dev/null 2>&1 || { t_fail attach "nacct attach $IF_B2 failed"; exit 1; }
t_drop_udp b 9000 9001 || { t_fail setup "nft"; exit 1; }

# ---- the server ---------------------------------------------------------------------
P=18123
start_ch() {
	CHP=$(in_b "$CH" start "$T_TMP/ch" $P) || return 1
	t_cleanup_add "kill -9 $CHP"
}
start_ch || { t_fail "clickhouse-server starts" "$(tail -n 5 "$T_TMP/ch/error.log" 2>/dev/null)"; exit 1; }
q() { in_b "$CH" query $P "$1"; }
t_log "clickhouse-server $(q 'SELECT version()')"

# ---- bad input: exit 2, a clear line, nothing started ---------------------------------------
bad() { # what, args...
	local what=$1 out rc
	shift
	out=$(in_b "$NACCT" export "$IF_B" "$@" 2>&1)
	rc=$?
	if [ "$rc" = 2 ] && [ -n "$out" ]; then t_ok "bad input: $what: exit 2 ($(head -n 1 <<<"$out"))"
	else t_fail "bad input: $what: exit 2" "rc $rc: $out"; fi
}
bad "not an http URL" --clickhouse ftp://127.0.0.1:$P
bad "a table name SQL would need to quote" --clickhouse http://127.0.0.1:$P --table 'x;drop'
bad "--database without --clickhouse" --json --database x
bad "a password file that is not there" --clickhouse http://127.0.0.1:$P --user u \
	--password-file "$T_TMP/none"

# ---- the exporters ------------------------------------------------------------------------
declare -A EXP
start_exporter() { # host iface [more options]
	local h=$1 i=$2
	shift 2
	nsenter --net=/run/netns/"$NS_B" "$NACCT" export "$i" --clickhouse "http://127.0.0.1:$P" \
		--exporter-id "$h" --idle-timeout 1 --active-timeout 2 --batch 64 "$@" \
		>>"$T_TMP/export-$h.jsonl" 2>>"$T_TMP/export-$h.log" &
	EXP[$h]=$!
	t_cleanup_add "kill -9 ${EXP[$h]}"
}
start_exporter host1 "$IF_B"
start_exporter host2 "$IF_B2" --json
# the table exists once an exporter has reached the server
for _ in $(seq 1 50); do
	[ "$(q "EXISTS TABLE nacct.flows" 2>/dev/null)" = 1 ] && break
	sleep 0.1
done
t_check "export creates the database and table" 1 "$(q "EXISTS TABLE nacct.flows" 2>/dev/null)"
cols=$(q "SELECT name FROM system.columns WHERE database = 'nacct' AND table = 'flows'" | tr '\n' ' ')
for c in exporter observation_domain ifname seq record packets bytes src dst sport dport \
	community_id direction start end; do
	grep -qw "$c" <<<"$cols" || t_fail "column $c in nacct.flows" "columns: $cols"
done
t_ok "the table's columns are the record's fields and the sink's own"

# ---- traffic, kills, a collector restart ----------------------------------------------------
sent1=0 sent2=0 kills=0
for wave in 1 2 3 4 5 6 7 8; do
	n1=$(in_a "$UDPSEND" 198.18.0.2 9000 300 100 $((41000 + wave * 100)) 100)
	n2=$(in_c "$UDPSEND" 198.18.1.2 9001 200 200 $((42000 + wave * 50)) 50)
	sent1=$((sent1 + n1))
	sent2=$((sent2 + n2))
	if [ "$wave" -le 5 ]; then
		# kill -9 host1's exporter at a random moment of its rounds
		sleep "0.$((RANDOM % 9 + 1))"
		kill -9 "${EXP[host1]}"
		wait "${EXP[host1]}" 2>/dev/null
		kills=$((kills + 1))
		start_exporter host1 "$IF_B"
	fi
	if [ "$wave" = 6 ]; then
		# the collector dies (-9) while both exporters run; back 2 s later
		sleep 0.$((RANDOM % 9 + 1))
		kill -9 "$CHP"
		wait "$CHP" 2>/dev/null
		sleep 2
		start_ch || { t_fail "clickhouse-server restarts" "$(tail -n 5 "$T_TMP/ch/error.log")"; exit 1; }
	fi
	sleep 0.7
done
t_log "host1 exporter killed $kills times; clickhouse-server restarted once"
# idle timeouts expire every flow; then a clean stop sends what is left
sleep 3
for h in host1 host2; do
	kill -TERM "${EXP[$h]}"
	wait "${EXP[$h]}" 2>/dev/null
done
grep -h "committed\|asking\|not sent" "$T_TMP"/export-*.log | sort | uniq -c | head -n 8 |
	while read -r l; do t_log "$l"; done

# ---- the sums -------------------------------------------------------------------------------
ip_part() { # iface: packets of both directions in flows (totals - overflow - malformed - non-IP)
	t_status_json b "$1" |
		jq -r '.totals | .packets - .overflow_packets - .malformed_packets - .nonip_packets'
}
for h in host1:"$IF_B":$sent1:9000 host2:"$IF_B2":$sent2:9001; do
	IFS=: read -r name ifc sent port <<<"$h"
	want=$(ip_part "$ifc")
	t_check "$name: SQL sum(packets) = nacct's totals (IP part)" "$want" \
		"$(q "SELECT sum(packets) FROM nacct.flows WHERE exporter = '$name'")"
	t_check "$name: the same with FINAL" "$want" \
		"$(q "SELECT sum(packets) FROM nacct.flows FINAL WHERE exporter = '$name'")"
	t_check "$name: UDP received = the generator's count" "$sent" \
		"$(q "SELECT sum(packets) FROM nacct.flows WHERE exporter = '$name' AND direction = 'rx'
			AND proto = 'udp' AND dport = $port")"
	t_check "$name: bytes too (SQL = totals' IP part)" \
		"$(t_status_json b "$ifc" |
			jq -r '.totals | .bytes - .overflow_bytes - .malformed_bytes - .nonip_bytes')" \
		"$(q "SELECT sum(bytes) FROM nacct.flows WHERE exporter = '$name'")"
done
t_check "no row identity twice (exporter, domain, ifname, attachment, seq, record)" 0 \
	"$(q "SELECT count() - uniqExact(exporter, observation_domain, ifname, attachment, seq, record)
		FROM nacct.flows")"
t_check "flows of host1 (UDP to 9000): one per source port" 800 \
	"$(q "SELECT uniqExact(sport) FROM nacct.flows WHERE exporter = 'host1' AND dport = 9000")"
# host2's second sink: the JSON lines of the same pass sum to the same
# totals, although ClickHouse was down for a while (that sink went on)
t_check "host2's JSON lines (the second sink) = totals (IP part)" "$(ip_part "$IF_B2")" \
	"$(jq -s 'map(select(.type == "flow") | .packets) | add // 0' "$T_TMP/export-host2.jsonl")"
grep -q "clickhouse http://127.0.0.1:$P: " "$T_TMP/export-host2.log" &&
	t_ok "host2's log names the sink that was down" ||
	t_fail "host2's log names the sink that was down" "$(tail -n 5 "$T_TMP/export-host2.log")"
# a later run with the default --batch: ClickHouse's journal (64 records)
# grows to 65536 with the exported state kept: nothing is sent twice
nsenter --net=/run/netns/"$NS_B" timeout -s TERM 3 "$NACCT" export "$IF_B2" \
	--clickhouse "http://127.0.0.1:$P" --exporter-id host2 >/dev/null 2>"$T_TMP/after.log"
grep -q "clickhouse: the journal now holds 65536 records" "$T_TMP/after.log" &&
	t_ok "a larger journal for a larger --batch: grown in place" ||
	t_fail "a larger journal: grown in place" "$(cat "$T_TMP/after.log")"
t_check "after the growth: still SQL = totals (IP part)" "$(ip_part "$IF_B2")" \
	"$(q "SELECT sum(packets) FROM nacct.flows WHERE exporter = 'host2'")"
# --ttl-days on a server without table TTL (18.16): the exporter drops the
# days older than N itself; a row of 2020 goes, this run's rows stay
if [ "$(q 'SELECT version()' | cut -d. -f1)" -lt 19 ]; then
	q "INSERT INTO nacct.flows (exporter, exported, ifname, seq, record, packets)
		VALUES ('old', '2020-01-01 00:00:00', 'x', 0, 0, 7)"
	n=$(q "SELECT count() FROM nacct.flows WHERE exporter = 'old'")
	in_c "$UDPSEND" 198.18.1.2 9001 5 200 43000 1 >/dev/null
	nsenter --net=/run/netns/"$NS_B" timeout -s TERM 4 "$NACCT" export "$IF_B2" \
		--clickhouse "http://127.0.0.1:$P" --exporter-id host2 --ttl-days 30 --active-timeout 1 \
		>/dev/null 2>"$T_TMP/ttl.log"
	t_check "--ttl-days 30 on 18.16: the day 2020-01-01 is dropped (its row was there: $n)" 0 \
		"$(q "SELECT count() FROM nacct.flows WHERE exporter = 'old'")"
	grep -q "day 20200101 dropped" "$T_TMP/ttl.log" && t_ok "--ttl-days: the exporter says so" ||
		t_fail "--ttl-days: the exporter says so" "$(cat "$T_TMP/ttl.log")"
	t_check "--ttl-days: this run's rows stay (SQL = totals, IP part)" "$(ip_part "$IF_B2")" \
		"$(q "SELECT sum(packets) FROM nacct.flows WHERE exporter = 'host2'")"
fi
# the README's three queries ("Many hosts") run on these rows
sqls=$(awk '/^## Many hosts/ {m = 1} m && /^```sql/ {s = 1; next} s && /^```/ {exit} s' "$ROOT/README.md" |
	grep -v '^--' | tr '\n' ' ' | tr ';' '\n')
nq=0
while read -r sql; do
	[ -n "$sql" ] || continue
	nq=$((nq + 1))
	if out=$(q "$sql" 2>&1); then
		t_ok "README query $nq runs ($(wc -l <<<"$out") rows: $(head -n 1 <<<"$out" | tr '\t' ' '))"
	else
		t_fail "README query $nq runs" "$sql" "$out"
	fi
done <<<"$sqls"
t_check "the README has three queries" 3 "$nq"
n=$(q "SELECT count() FROM nacct.flows WHERE community_id LIKE '1:%'")
[ "${n:-0}" -gt 0 ] && t_ok "rows carry community_id ($n)" || t_fail "rows carry community_id" "$n"
exit 0
