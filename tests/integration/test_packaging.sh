#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Help, man page, bash completion, make install/uninstall and the Debian
# package: the .deb is built from a copy of the tree (never the shared
# .output/), installed with dpkg -i, run from /usr/sbin, then purged, and
# every file dpkg listed must be gone.  About a minute, most of it the build.
source "$(dirname "$0")/../lib.sh"
t_need_root
cd "$ROOT" || exit 1

# ---- help and man page, both from the command table -----------------------
cmds=$("$NACCT" --complete-words | grep -v '^-' | grep -vx help)
missing=""
for c in $cmds; do
	"$NACCT" help "$c" | grep -q '^example:' || missing+=" help:$c"
	"$NACCT" --help | grep -q "^  $c " || missing+=" --help:$c"
	"$NACCT" --man | grep -q "^\.SS \"$c[ \"]" || missing+=" man:$c"
done
if [ -z "$missing" ]; then t_ok "every command has help, an example and a man section ($(echo $cmds | wc -w) commands)"
else t_fail "every command documented" "missing:$missing"; fi
if command -v groff >/dev/null; then
	warn=$("$NACCT" --man | groff -man -Tutf8 -ww -z 2>&1)
	if [ -z "$warn" ]; then t_ok "man page: groff -ww finds nothing"; else t_fail "man page: groff warnings" "$warn"; fi
	text=$("$NACCT" --man | groff -man -Tutf8 2>/dev/null | col -bx 2>/dev/null || true)
	for sec in NAME SYNOPSIS COMMANDS "EXIT STATUS" FILES PRIVILEGES EXAMPLES; do
		grep -q "^$sec" <<<"$text" || t_fail "man page: section $sec" "absent"
	done
	grep -q "/sys/fs/bpf/nacct" <<<"$text" && t_ok "man page: sections, FILES names /sys/fs/bpf/nacct" ||
		t_fail "man page: FILES" "no /sys/fs/bpf/nacct"
else
	t_skip "man page: groff" "groff not installed"
fi
# doc/nacct.8 is what make writes: the same as nacct --man
if [ -f doc/nacct.8 ]; then
	t_check "doc/nacct.8 = nacct --man (generated at build)" "" \
		"$(diff <(grep -v '^\.TH' doc/nacct.8) <(SOURCE_DATE_EPOCH=0 "$NACCT" --man | grep -v '^\.TH') | head -3)"
else
	t_fail "doc/nacct.8 exists after make all" "absent"
fi

# ---- bash completion --------------------------------------------------------
comp() { # words... (the last one is completed)
	PATH="$ROOT:$PATH" bash -c 'source completion/nacct.bash || exit 1
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _nacct; echo "${COMPREPLY[*]}"' _ "$@"
}
t_check "completion loads and completes a command (nacct to)" "top" "$(comp nacct to)"
t_check "completion: nacct help fl" "flows" "$(comp nacct help fl)"
t_check "completion: options (nacct top --b)" "--by" "$(comp nacct top --b)"
t_check "completion: enum values (nacct top --by '')" "flows subnets ports protocols tunnel" "$(comp nacct top --by '')"
t_check "completion: short option values (nacct flows -s p)" "packets" "$(comp nacct flows -s p)"
# interface names: in a netns of our own (ip netns exec remounts /sys)
if t_setup_pair; then
	t_check "completion: interface names from /sys/class/net" "$IF_A" \
		"$(ip netns exec "$NS_A" bash -c "cd '$ROOT' && PATH='$ROOT':\$PATH && source completion/nacct.bash &&
			COMP_WORDS=(nacct attach '${T_ID}'); COMP_CWORD=2; _nacct; echo \"\${COMPREPLY[*]}\"")"
else
	t_fail "completion: interface names" "cannot create netns"
fi
t_check "completion: a value option offers no words (nacct top -i '')" "" "$(comp nacct top -i '')"
# every command in the table completes: the script has no list of its own
bad=""
for c in $cmds; do [ "$(comp nacct "$c")" = "$c" ] || bad+=" $c"; done
t_check "completion: every command of the table" "" "$bad"

# ---- make install / uninstall with PREFIX and DESTDIR -----------------------
D="$T_TMP/dest"
if flock /tmp/nacct-build.lock make -s install DESTDIR="$D" PREFIX=/opt/nx >"$T_TMP/inst.log" 2>&1; then
	want="/opt/nx/lib/systemd/system/nacct-all.service
/opt/nx/lib/systemd/system/nacct-export@.service
/opt/nx/lib/systemd/system/nacct@.service
/opt/nx/sbin/nacct
/opt/nx/share/bash-completion/completions/nacct
/opt/nx/share/doc/nacct/examples/nacct-all.default
/opt/nx/share/doc/nacct/examples/nacct-export.default
/opt/nx/share/man/man8/nacct.8"
	t_check "make install DESTDIR PREFIX: files" "$want" "$(cd "$D" && find . -type f | sed 's/^\.//' | sort)"
	t_check "installed unit runs the installed binary" \
		"ExecStart=/opt/nx/sbin/nacct attach %I \$NACCT_ATTACH_ARGS|ExecStop=/opt/nx/sbin/nacct detach %I" \
		"$(grep ^Exec "$D/opt/nx/lib/systemd/system/nacct@.service" | paste -sd'|')"
	t_check "installed binary runs" "nacct" "$("$D/opt/nx/sbin/nacct" --version | cut -d' ' -f1)"
	flock /tmp/nacct-build.lock make -s uninstall DESTDIR="$D" PREFIX=/opt/nx >>"$T_TMP/inst.log" 2>&1
	t_check "make uninstall removes every file" "" "$(find "$D" -type f)"
else
	t_fail "make install" "$(tail -5 "$T_TMP/inst.log")"
fi

# ---- Debian package -----------------------------------------------------------
# Build-Depends must carry the build list of scripts/deps.sh
deps=$(bash -c 'source <(sed -n "/^build_pkgs=/,/)/p" scripts/deps.sh); echo "${build_pkgs[@]}"')
bd=$(sed -n '/^Build-Depends:/,/^[A-Z]/p' debian/control)
miss=""
for p in $deps; do grep -qE "(^|[ ,])$p([ ,(]|$)" <<<"$bd" || miss+=" $p"; done
t_check "debian/control Build-Depends has scripts/deps.sh's build list" "" "$miss"

for tool in dpkg-buildpackage dh; do
	command -v $tool >/dev/null || { t_skip deb "$tool not installed (scripts/deps.sh test)"; exit $T_FAILED; }
done
if dpkg-query -W -f='${Status}' nacct 2>/dev/null | grep -q installed; then
	t_skip deb "a nacct package is installed on this machine already; not touching it"
	exit $T_FAILED
fi
B="$T_TMP/deb"
mkdir -p "$B/nacct"
# the tracked files and the new ones, never .output/ or the built binary
{ git ls-files; git ls-files --others --exclude-standard; } | sort -u |
	while read -r f; do [ -f "$f" ] && printf '%s\n' "$f"; done >"$B/files"
tar -cf - -T "$B/files" | tar -xf - -C "$B/nacct"
start=$(date +%s)
if (cd "$B/nacct" && timeout 300 dpkg-buildpackage -us -uc -b >"$B/build.log" 2>&1); then
	t_ok "dpkg-buildpackage -us -uc -b ($(( $(date +%s) - start ))s)"
else
	t_fail "dpkg-buildpackage -us -uc -b" "$(tail -15 "$B/build.log")"
	exit 1
fi
deb=$(ls "$B"/nacct_*_*.deb 2>/dev/null | head -1)
ver=$(dpkg-deb -f "$deb" Version)
t_check "package version = nacct --version" "nacct ${ver%%-*}" "$("$NACCT" --version)"
contents=$(dpkg-deb -c "$deb" | awk '{ print $6 }')
for f in ./usr/sbin/nacct ./usr/share/man/man8/nacct.8.gz ./usr/share/bash-completion/completions/nacct \
	./lib/systemd/system/nacct@.service ./lib/systemd/system/nacct-export@.service \
	./lib/systemd/system/nacct-all.service; do
	grep -qx -- "$f" <<<"$contents" || t_fail "package contains $f" "absent"
done
t_ok "package holds binary, man page, completion, units ($(grep -c '[^/]$' <<<"$contents") files)"

# dpkg may be busy with an apt run of someone else: retry for a while
dpkg_retry() {
	local i
	for i in $(seq 30); do
		"$@" >"$B/dpkg.log" 2>&1 && return 0
		grep -q "lock" "$B/dpkg.log" || return 1
		sleep 2
	done
	return 1
}
t_cleanup_add "dpkg -P nacct"
if dpkg_retry dpkg -i "$deb"; then t_ok "dpkg -i"; else t_fail "dpkg -i" "$(tail -5 "$B/dpkg.log")"; exit 1; fi
t_check "nacct --version from /usr/sbin" "nacct ${ver%%-*}" "$(/usr/sbin/nacct --version)"
if command -v man >/dev/null; then
	t_check "man -w nacct" "/usr/share/man/man8/nacct.8.gz" "$(man -w nacct 2>/dev/null)"
fi
if command -v systemd-analyze >/dev/null; then
	# instances of the templates, checked offline
	mkdir -p "$B/units"
	cp /lib/systemd/system/nacct@.service "$B/units/nacct@lo.service"
	cp /lib/systemd/system/nacct-export@.service "$B/units/nacct-export@lo.service"
	cp /lib/systemd/system/nacct-all.service "$B/units/nacct-all.service"
	out=$(systemd-analyze verify --man=no "$B/units/nacct@lo.service" "$B/units/nacct-export@lo.service" \
		"$B/units/nacct-all.service" 2>&1)
	if [ -z "$out" ]; then t_ok "systemd-analyze verify: the three units"; else t_fail "systemd-analyze verify" "$out"; fi
fi
dpkg -L nacct >"$B/list"
if dpkg_retry dpkg -P nacct; then t_ok "dpkg -P"; else t_fail "dpkg -P" "$(tail -5 "$B/dpkg.log")"; fi
left=""
while read -r f; do
	[ -e "$f" ] || continue
	# shared directories (/usr, /usr/share/man ...) stay; nothing of ours does
	if [ -d "$f" ]; then
		case $f in */nacct|*/nacct/*) left+=" $f" ;; esac
	else
		left+=" $f"
	fi
done <"$B/list"
t_check "dpkg -P leaves nothing of the $(wc -l <"$B/list") listed paths" "" "$left"
t_check "package no longer known to dpkg" "" "$(dpkg-query -W -f='${Status}' nacct 2>/dev/null | grep installed)"
exit $T_FAILED
