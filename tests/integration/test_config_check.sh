#!/bin/bash
# nacct check-config: the per-interface files the systemd units read
# (nacct@IFACE: /etc/default/nacct-IFACE, NACCT_ATTACH_ARGS; nacct-export@IFACE:
# /etc/default/nacct-export-IFACE, NACCT_EXPORT_ARGS; nacct-all:
# /etc/default/nacct-all, NACCT_ALL_ARGS), checked with the
# commands' own option parser and export's own checks.  Good files: exit 0
# and one "ok" line each; every kind of bad line: exit 2 and FILE:LINE in
# the message.  The units and the shipped example name what it checks.
source "$(dirname "$0")/../lib.sh"
D=$T_TMP/default
mkdir -p "$D"

good() { # what file
	local out rc
	out=$("$NACCT" check-config "$2" 2>&1)
	rc=$?
	if [ "$rc" = 0 ] && grep -q ": ok: nacct" <<<"$out"; then t_ok "good: $1 ($out)"
	else t_fail "good: $1" "rc $rc: $out"; fi
}
bad() { # what file want-in-message
	local out rc
	out=$("$NACCT" check-config "$2" 2>&1)
	rc=$?
	if [ "$rc" = 2 ] && grep -qF -- "$3" <<<"$out"; then t_ok "bad: $1: exit 2 ($out)"
	else t_fail "bad: $1: exit 2 with '$3'" "rc $rc: $out"; fi
}

printf '# the uplink\n\nNACCT_ATTACH_ARGS="--subnets 10.0.0.0/8,2001:db8::/32 --max-flows 1048576"\n' >"$D/nacct-eth0"
good "attach options" "$D/nacct-eth0"
printf 'NACCT_EXPORT_ARGS="--clickhouse http://192.0.2.10:8123 --exporter-id edge1 --idle-timeout 30"\n' \
	>"$D/nacct-export-eth0"
good "a ClickHouse exporter" "$D/nacct-export-eth0"
printf "NACCT_EXPORT_ARGS='--ipfix 192.0.2.10:4739 --transport tcp --clickhouse http://db1:8123'\n" \
	>"$D/nacct-export-eth1"
good "IPFIX and ClickHouse (single quotes)" "$D/nacct-export-eth1"
: >"$D/nacct-eth1"
good "an empty attach file (no options)" "$D/nacct-eth1"
cp "$ROOT/systemd/nacct-export.default" "$D/nacct-export-eth9"
good "the shipped example" "$D/nacct-export-eth9"
cp "$ROOT/systemd/nacct-all.default" "$D/nacct-all"
good "nacct-all.service's file: the shipped example" "$D/nacct-all"
out=$("$NACCT" check-config "$D/nacct-all" 2>&1)
t_check "nacct-all: checked as the unit runs it" 1 \
	"$(grep -c 'ok: nacct attach --all --follow --detach-on-exit --match' <<<"$out")"
# the unit's own options before $NACCT_ALL_ARGS are the ones check-config puts there
mkdir -p "$D/e" && : >"$D/e/nacct-all"
t_check "nacct-all: the unit's options = check-config's" \
	"$(sed -n 's|^ExecStart=@SBINDIR@/nacct attach \(.*\) \$NACCT_ALL_ARGS$|\1|p' "$ROOT/systemd/nacct-all.service.in")" \
	"$("$NACCT" check-config "$D/e/nacct-all" | sed -n 's|.*ok: nacct attach \(.*\) (no options)$|\1|p')"

printf 'NACCT_ATTACH_ARGS="--subnets 10.0.0.0/33"\n' >"$D/nacct-eth2"
bad "a bad CIDR" "$D/nacct-eth2" "nacct-eth2:1: --subnets: invalid CIDR"
printf '# x\nNACCT_ATTACH_ARGS="--mode turbo"\n' >"$D/nacct-eth3"
bad "a bad enum value, on line 2" "$D/nacct-eth3" "nacct-eth3:2: --mode: invalid value 'turbo'"
printf 'NACCT_ATTACH_ARGS="--no-such-option"\n' >"$D/nacct-eth4"
bad "an unknown option" "$D/nacct-eth4" "unknown option '--no-such-option'"
printf 'NACCT_EXPORT_ARG="--json"\n' >"$D/nacct-export-eth2"
bad "a misspelt variable" "$D/nacct-export-eth2" "unknown variable NACCT_EXPORT_ARG"
printf 'NACCT_EXPORT_ARGS="--ipfix 192.0.2.10 --json"\n' >"$D/nacct-export-eth3"
bad "a collector without a port (export's own check)" "$D/nacct-export-eth3" "expected HOST:PORT"
printf 'NACCT_EXPORT_ARGS="--clickhouse http://x:8123 --table a-b"\n' >"$D/nacct-export-eth4"
bad "a ClickHouse table name" "$D/nacct-export-eth4" "--table a-b: letters, digits and _ only"
printf '# nothing\n' >"$D/nacct-export-eth5"
bad "an exporter without a destination" "$D/nacct-export-eth5" "no NACCT_EXPORT_ARGS"
printf 'NACCT_ATTACH_ARGS="--mode generic\n' >"$D/nacct-eth5"
bad "an unterminated quote" "$D/nacct-eth5" "nacct-eth5:1: unterminated quote"
printf 'NACCT_ATTACH_ARGS="eth7"\n' >"$D/nacct-eth6"
bad "an interface in the options" "$D/nacct-eth6" "takes the interface from the file name"
bad "a file the units do not read" /etc/hostname "not a file the units read"
mkdir -p "$D/all"
printf 'NACCT_ALL_ARGS="--match veth* eth0"\n' >"$D/all/nacct-all"
bad "nacct-all: an interface in the options" "$D/all/nacct-all" "attaches every interface"
printf 'NACCT_ATTACH_ARGS="--mode generic"\n' >"$D/all/nacct-all"
bad "nacct-all: another unit's variable" "$D/all/nacct-all" "this file's unit reads NACCT_ALL_ARGS"
printf 'NACCT_ALL_ARGS="--max-flows 3"\n' >"$D/all/nacct-all"
bad "nacct-all: a bad value" "$D/all/nacct-all" "nacct-all:1:"
bad "a missing file" "$D/nacct-eth8" "No such file or directory"
# the first bad file stops the check, with its status
out=$("$NACCT" check-config "$D/nacct-eth0" "$D/nacct-eth2" "$D/nacct-export-eth0" 2>&1)
t_check "several files: the exit status of the first bad one" 2 "$?"

# the units read exactly these files and variables
for u in nacct@.service.in:nacct-%i:NACCT_ATTACH_ARGS nacct-export@.service.in:nacct-export-%i:NACCT_EXPORT_ARGS \
	nacct-all.service.in:nacct-all:NACCT_ALL_ARGS; do
	IFS=: read -r unit file var <<<"$u"
	grep -q "EnvironmentFile=-\?/etc/default/$file\$" "$ROOT/systemd/$unit" && grep -q "\$$var" "$ROOT/systemd/$unit" &&
		t_ok "$unit reads /etc/default/$file and \$$var" ||
		t_fail "$unit reads /etc/default/$file and \$$var" "$(grep -E 'Environment|Exec' "$ROOT/systemd/$unit")"
done
exit 0
