#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/vm/fetch-kernel.sh SERIES   (SERIES: 5.10 | 6.1 | 6.12 | 7.3)
#
# Downloads Debian's kernel packages for one series into the cache and
# prints the directory that holds them:
#   linux-image-<abi>-amd64        the kernel and its modules (7.x: their
#                                  linux-binary/-modules/-base-<abi> parts)
#   linux-headers-<abi>-amd64, linux-headers-<abi>-common, linux-kbuild-<ver>
#   linux-source-<series>          drivers/net/netdevsim (Debian does not build it)
# 5.10 comes from bullseye(-security), 6.1 from bookworm(-security), 6.12
# from bookworm-backports, 7.3 from trixie-backports.  Every suite but the
# host's own exists only in this script's private apt configuration (own
# sources.list, lists and archive cache under the cache directory); the
# system's apt sources are never changed.
# Env: NACCT_VM_CACHE (/var/tmp/nacct-vm).  Downloads are kept: a second
# run with the package lists younger than a day does no network access.
set -euo pipefail

series=${1:?usage: $0 5.10|6.1|6.12|7.3}
CACHE=${NACCT_VM_CACHE:-/var/tmp/nacct-vm}
APT=$CACHE/apt
DEBS=$CACHE/debs/$series
log() { echo "fetch-kernel: $*" >&2; }

# suite: an extended regex on apt-cache madison's "URL SUITE/main" column
case $series in
5.10) suite=' bullseye(-security)?/' ;;
6.1) suite=' bookworm-security/' ;;
6.12) suite=' bookworm-backports/' ;;
7.3) suite=' trixie-backports/' ;;
*) echo "fetch-kernel: unknown series '$series' (5.10, 6.1, 6.12 or 7.3)" >&2; exit 2 ;;
esac

mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$DEBS"
exec 8>"$CACHE/.fetch.lock"
flock 8

key=/usr/share/keyrings/debian-archive-keyring.gpg
cat > "$APT/sources.list.new" <<SRC
deb [signed-by=$key] http://deb.debian.org/debian bookworm main
deb [signed-by=$key] http://deb.debian.org/debian bookworm-updates main
deb [signed-by=$key] http://deb.debian.org/debian-security bookworm-security main
deb [signed-by=$key] http://deb.debian.org/debian bookworm-backports main
deb [signed-by=$key] http://deb.debian.org/debian bullseye main
deb [signed-by=$key] http://deb.debian.org/debian-security bullseye-security main
deb [signed-by=$key] http://deb.debian.org/debian trixie main
deb [signed-by=$key] http://deb.debian.org/debian trixie-backports main
SRC
cmp -s "$APT/sources.list.new" "$APT/sources.list" || { mv "$APT/sources.list.new" "$APT/sources.list"; rm -f "$APT/.updated"; }
rm -f "$APT/sources.list.new"

opts=(-o "Dir::Etc::SourceList=$APT/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache"
      -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o APT::Get::List-Cleanup=0
      -o Debug::NoLocking=1 -o APT::Sandbox::User=root -q)

# the complete set for this series already here: nothing to do
if [ -e "$DEBS/.complete" ] && [ -n "$(find "$DEBS/.complete" -mtime -7 2>/dev/null)" ]; then
	echo "$DEBS"
	exit 0
fi

if [ ! -e "$APT/.updated" ] || [ -n "$(find "$APT/.updated" -mtime +0)" ]; then
	log "apt-get update (private lists in $APT)"
	apt-get "${opts[@]}" update >&2
	touch "$APT/.updated"
fi

# newest version of the meta package in the wanted suite
ver=$(apt-cache "${opts[@]}" madison linux-image-amd64 | awk -F' [|] ' -v s="$suite" '$3 ~ s {print $2}' \
	| sort -V | tail -n1)
[ -n "$ver" ] || { log "linux-image-amd64 not found in $suite"; exit 1; }
img=$(apt-cache "${opts[@]}" depends "linux-image-amd64=$ver" | awk '/Depends: linux-image-/{print $2; exit}')
abi=${img#linux-image-}; abi=${abi%-amd64}
hdr=linux-headers-$abi-amd64
# the signed image's own version is the one linux-source carries (its
# Source: field names linux-signed-amd64 with a different version)
srcver=$(apt-cache "${opts[@]}" show "$img" | awk '/^Version: /{print $2; exit}')
deps=$(apt-cache "${opts[@]}" depends "$hdr" | awk '/Depends: linux-(headers|kbuild)-/{print $2}')
log "$series: $img (source version $srcver)"
# from 7.x the image package only depends on its parts (the kernel in
# linux-binary-ABI, the modules in linux-modules-ABI, linux-base-ABI)
parts=$(apt-cache "${opts[@]}" depends "$img" |
	awk -v a="$abi" '$1 == "Depends:" && ($2 == "linux-binary-" a "-amd64" ||
		$2 == "linux-modules-" a "-amd64" || $2 == "linux-base-" a "-amd64") {print $2}')
pkgs=("$img" $parts "$hdr" $deps "linux-source-$series=$srcver")

cd "$DEBS"
for p in "${pkgs[@]}"; do
	n=${p%%=*}
	if ls "${n}"_*.deb >/dev/null 2>&1; then
		continue
	fi
	log "downloading $p"
	apt-get "${opts[@]}" download "$p" >&2
done
touch .complete
echo "$DEBS"
