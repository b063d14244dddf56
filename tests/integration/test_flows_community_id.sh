#!/bin/bash
# community_id (Community ID v1) of nacct's flows against tshark's own
# Community ID on the same packets (tcpdump on the same interface):
# TCP, UDP, ICMP echo, ICMPv6 echo, an ICMP port unreachable (one-way)
# and whatever ND/MLD the namespaces send, IPv4 and IPv6, seeds 0 and 1.
# Every flow's ID is one tshark computed for its packets, and every ID
# tshark computed is a flow's: the two sets are equal.  Then the same ID
# in flows --csv and export --json.
source "$(dirname "$0")/../lib.sh"
t_need_root
for tool in tshark tcpdump jq ncat; do
	command -v $tool >/dev/null || { t_skip community_id "$tool not installed (scripts/deps.sh test)"; exit 0; }
done
UDPSEND=$ROOT/.output/udpsend
[ -x "$UDPSEND" ] || { t_skip community_id "build .output/udpsend"; exit 0; }
t_setup_pair || { t_fail setup "cannot create netns pair"; exit 1; }
nacct_b attach "$IF_B" --mode generic >/dev/null 2>&1 || { t_fail attach "nacct attach failed"; exit 1; }
t_tcpdump_start "$NS_B" "$IF_B" "$T_TMP/b.pcap" || { t_fail tcpdump "$(cat "$T_TMP/b.pcap.err")"; exit 1; }

ip netns exec "$NS_B" ncat -l 198.18.0.2 5003 >/dev/null &
t_cleanup_add "kill $! 2>/dev/null"
sleep 0.3
echo hello | in_a ncat --send-only 198.18.0.2 5003
in_a "$UDPSEND" 198.18.0.2 9000 5 100 40000 >/dev/null   # nobody listens: port unreachables back
in_a "$UDPSEND" fd00:18::2 9001 5 100 40001 >/dev/null
in_a ping -q -c 3 -i 0.05 198.18.0.2 >/dev/null
in_a ping -q -c 3 -i 0.05 fd00:18::2 >/dev/null
t_settle 0.5
t_tcpdump_stop

# every distinct ID tshark gives the packets, with the seed; both sides
# without the links' own IPv6 chatter (link-local / multicast: MLD reports
# and DAD come when they come, and nacct counts from before tcpdump starts
# until after it stops)
NOISE_Y='ipv6.addr == fe80::/10 or ipv6.addr == ff00::/8'
tshark_ids() { # SEED
	tshark -r "$T_TMP/b.pcap" -o "communityid.seed:$1" --enable-protocol communityid \
		-Y "not ($NOISE_Y)" -T fields -e communityid 2>/dev/null | grep . | sort -u
}
nacct_ids() { # SEED
	in_b "$NACCT" flows "$IF_B" --json --community-id-seed "$1" |
		jq -r 'select(((.src + " " + .dst) | test("(^| )(fe[89ab]|ff)[0-9a-f]*:")) | not) | .community_id // empty' |
		sort -u
}
for seed in 0 1; do
	t=$(tshark_ids $seed)
	n=$(nacct_ids $seed)
	nt=$(grep -c . <<<"$t")
	nn=$(grep -c . <<<"$n")
	if [ "$t" = "$n" ] && [ "$nt" -ge 6 ]; then
		t_ok "seed $seed: the flows' community_id = tshark's Community IDs of the packets ($nn IDs)"
	else
		t_fail "seed $seed: flows' community_id = tshark's" "tshark $nt, nacct $nn" \
			"only tshark: $(comm -23 <(echo "$t") <(echo "$n") | tr '\n' ' ')" \
			"only nacct: $(comm -13 <(echo "$t") <(echo "$n") | tr '\n' ' ')" \
			"$(in_b "$NACCT" flows "$IF_B" --json --community-id-seed "$seed" |
				jq -rc '[.proto, .src, .sport, .dst, .dport, .community_id] | join(" ")')"
	fi
done
# the kinds of flow that were in it
kinds=$(in_b "$NACCT" flows "$IF_B" --json | jq -r '"\(.proto)/\(.family)"' | sort -u | tr '\n' ' ')
t_log "flows: $kinds"
for k in tcp/4 udp/4 udp/6 icmp/4 icmp6/6; do
	grep -qw "$k" <<<"$kinds" || t_fail "flow kinds" "no $k flow in: $kinds"
done

# the same IDs in --csv and export --json
csv=$(in_b "$NACCT" flows "$IF_B" --csv)
colof() { head -1 <<<"$csv" | tr ',' '\n' | grep -nx "$1" | cut -d: -f1; }
col=$(colof community_id) scol=$(colof src) dcol=$(colof dst)
# (without the links' own IPv6 chatter, as nacct_ids)
c=$(tail -n +2 <<<"$csv" | awk -F, -v c="${col:-999}" -v s="${scol:-999}" -v d="${dcol:-999}" '
	$s !~ /^(fe[89ab]|ff)[0-9a-f]*:/ && $d !~ /^(fe[89ab]|ff)[0-9a-f]*:/ { print $c }' | grep . | sort -u)
t_check "flows --csv: the same community_id column" "$(nacct_ids 0 | tr '\n' ' ')" "$(tr '\n' ' ' <<<"$c")"
ids0=$(nacct_ids 0)
ex=$(in_b timeout 5 "$NACCT" export "$IF_B" --json --idle-timeout 1 --active-timeout 1 |
	jq -r 'select(.type == "flow") | .community_id' | sort -u)
# (a neighbour probe may start a flow meanwhile: export may have more)
t_check "export --json: every flow's community_id in its records" "" \
	"$(comm -23 <(echo "$ids0") <(echo "$ex") | tr '\n' ' ')"
exit 0
