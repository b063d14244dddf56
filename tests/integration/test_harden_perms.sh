#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Permissions and leaks of information:
# - every pin is 0600 and every directory 0700 (the attachment's, with the
#   exporter's state in it, the side programs' :probes, the root)
# - a user without privileges gets one clear line and exit 2 from every
#   command that touches BPF
# - nacct serve listens on 127.0.0.1 unless told otherwise
# - no kernel address in any output (text, --json, --csv, -v, -vv)
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/harden_lib.sh"
t_need_root
t_setup_pair || { t_fail setup "cannot create netns/veth"; exit 1; }
UDPSEND=$ROOT/.output/udpsend
OUT=$T_TMP/all-output.txt
: >"$OUT"
run() { "$@" >>"$OUT" 2>&1; }  # everything a command prints, for the address check

run nacct_b -v attach "$IF_B" --subnets 198.18.0.0/24,fd00:18::/64
in_a "$UDPSEND" 198.18.0.2 9 100 64 51000 10 >/dev/null
in_a ping -q -c 3 -i 0.05 fd00:18::2 >/dev/null
# the exporter's and the capture's files come into being
in_b timeout -s INT 2 "$NACCT" -v export "$IF_B" --json --idle-timeout 1 >>"$OUT" 2>&1
if nacct_b help capture >/dev/null 2>&1; then
	in_b timeout -s INT 1.5 "$NACCT" -v capture "$IF_B" -w "$T_TMP/p.pcap" >>"$OUT" 2>&1
	# an output file the user named: made with the user's umask, like tcpdump -w
	t_log "capture file mode (umask $(umask)): $(stat -c %a "$T_TMP/p.pcap" 2>/dev/null)"
fi

# ---- pins and directories -------------------------------------------------
DIR=$(ls -d /sys/fs/bpf/nacct/"$IF_B":ns*)
t_log "pins: $(ls "$DIR" | tr '\n' ' ')"
t_check "every pin of the attachment is 0600 root" "" "$(find "$DIR" -type f \( ! -perm 0600 -o ! -user root \) -printf '%p %m %u\n')"
t_check "the attachment directory is 0700 root" "700 root" "$(stat -c '%a %U' "$DIR")"
t_check "the exporter's state is pinned there" 1 "$(ls "$DIR" | grep -c '^nacct_export$')"
t_check "/sys/fs/bpf/nacct is 0700" 700 "$(stat -c %a /sys/fs/bpf/nacct)"
if [ -d /sys/fs/bpf/nacct/:probes ]; then
	t_check ":probes: pins 0600, directory 0700" "700" \
		"$(find /sys/fs/bpf/nacct/:probes -type f ! -perm 0600 -printf '%p %m\n')$(stat -c %a /sys/fs/bpf/nacct/:probes)"
else
	t_skip ":probes permissions" "no side programs attached"
fi

# ---- no privileges ------------------------------------------------------------
if command -v setpriv >/dev/null; then
	for c in "attach $IF_B" "detach $IF_B" "status" "status $IF_B" "flows $IF_B" "subnets $IF_B" \
		"top $IF_B -n 1" "capture $IF_B -c 1 -w $T_TMP/x.pcap" "events" "caps $IF_B" \
		"export $IF_B --json" "serve"; do
		# shellcheck disable=SC2086
		err=$(in_b setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all timeout 10 "$NACCT" $c 2>&1 >/dev/null)
		rc=$?
		if [ "$rc" = 2 ] && [ "$(grep -c . <<<"$err")" = 1 ] && [[ "$err" == nacct:* ]] &&
			[[ "$err" == *ermission* || "$err" == *root* || "$err" == *CAP_* ]]; then
			t_ok "unprivileged '$c': exit 2 ($err)"
		elif [ "${c%% *}" = caps ] && [ "$rc" = 0 ]; then
			t_ok "unprivileged 'caps' works read-only (exit 0)"
		else
			t_fail "unprivileged '$c'" "rc=$rc" "stderr: $err"
		fi
	done
	t_check "the attachment is intact after all that" "$H_FULL" "$(h_state)"
else
	t_skip "unprivileged user" "setpriv missing"
fi

# ---- nacct serve: loopback by default ---------------------------------------------
if nacct_b help serve >/dev/null 2>&1; then
	h_bg_b "$NACCT" serve >"$T_TMP/serve.out" 2>&1
	sp=$!
	t_cleanup_add "kill $sp"
	for _ in $(seq 50); do in_b ss -ltnH | grep -q ':9464' && break; sleep 0.1; done
	t_check "serve listens on 127.0.0.1:9464 only" "127.0.0.1:9464" "$(in_b ss -ltnH | awk '{print $4}' | grep ':9464' | tr '\n' ' ' | sed 's/ $//')"
	in_b curl -s http://127.0.0.1:9464/metrics >>"$OUT"
	kill "$sp"
	wait "$sp" 2>/dev/null
	cat "$T_TMP/serve.out" >>"$OUT"
fi

# ---- no kernel addresses in any output ----------------------------------------------
for j in "" --json; do
	run nacct_b status $j
	run nacct_b -v status "$IF_B" $j
	run nacct_b flows "$IF_B" $j
	run nacct_b subnets "$IF_B" $j
	run nacct_b caps "$IF_B" $j
	run nacct_b top "$IF_B" -n 1 --rows 50 $j
done
run nacct_b flows "$IF_B" --csv
run nacct_b -v -v status "$IF_B"
run in_b timeout -s INT 1 "$NACCT" -v events --drops --retrans --states
run in_b timeout -s INT 1 "$NACCT" -v events --json
run nacct_b -v detach "$IF_B"
run nacct_b -v -v attach "$IF_B" --hook tc
run nacct_b -v status "$IF_B" --json
run nacct_b -v detach "$IF_B"
run nacct_b --help
run nacct_b --man
lines=$(wc -l <"$OUT")
addr=$(grep -aEo '0x[fF]{4}[0-9a-fA-F]{8,12}|\b[fF]{4}[89a-fA-F][0-9a-fA-F]{11}\b' "$OUT" | sort -u | head -5)
t_check "no kernel address in $lines lines of output" "" "$addr"
exit $T_FAILED
