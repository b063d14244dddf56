#!/bin/bash
# Install every Debian package nacct's build, tests and demo need.
# Idempotent: installs only what is missing; safe to run on a fresh
# Debian 12 machine as root.  Usage: scripts/deps.sh [build|test|all|bench|vm]
set -euo pipefail

build_pkgs=(make gcc clang llvm pkg-config libbpf-dev libxdp-dev libelf-dev zlib1g-dev
	    libpcap-dev linux-libc-dev bpftool iproute2 libfixbuf-dev libmicrohttpd-dev
	    libnl-genl-3-dev libncurses-dev libssl-dev libcurl4-openssl-dev)
test_pkgs=(iputils-ping tcpdump tshark iperf3 ncat nftables jq ethtool procps kmod util-linux
	   tmux groff-base dpkg-dev debhelper fakeroot
	   nfdump pmacct prometheus victoria-metrics clickhouse-server clickhouse-client curl libbpf-tools
	   libclang-rt-14-dev man-db xdp-tools bc python3)
bench_pkgs=(gnuplot-nox pmacct softflowd nfdump)
# make test-kernels: Debian kernels under qemu (tests/vm/), netdevsim built out of tree;
# bpfcc-tools: bcc's tcpretrans/tcpdrop (not in libbpf-tools 0.26) beside nacct in the guests
vm_pkgs=(qemu-system-x86 busybox-static cpio xz-utils zstd kmod make gcc libc6-dev bpfcc-tools)

want=("${build_pkgs[@]}")
case "${1:-all}" in
build) ;;
test|all) want+=("${test_pkgs[@]}") ;;
bench) want+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
vm) want+=("${test_pkgs[@]}" "${vm_pkgs[@]}") ;;
*) echo "usage: $0 [build|test|all|bench|vm]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$s" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages: ${missing[*]} (run as root to install them)" >&2
	exit 2
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# servers among them (prometheus, victoria-metrics, clickhouse-server, pmacct's
# nfacctd) are started by the
# tests, on 127.0.0.1 in their namespaces: never by the package on
# install, listening on every address (policy-rc.d, for this install only)
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
# tshark asks whether non-root users may capture: answer no, non-interactively
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/nacct-deps.log 2>&1; then
	apt-get update -q >>/tmp/nacct-deps.log 2>&1
	apt-get install -y -q --no-install-recommends "${missing[@]}" >>/tmp/nacct-deps.log 2>&1 || {
		tail -n 20 /tmp/nacct-deps.log >&2
		echo "deps: apt-get install failed" >&2
		exit 1
	}
fi
# and not at the next boot either
for s in prometheus victoria-metrics clickhouse-server; do
	[[ " ${missing[*]} " == *" $s "* ]] && systemctl disable "$s" >/dev/null 2>&1 || true
done
if [[ " ${missing[*]} " == *" pmacct "* ]]; then
	systemctl disable nfacctd pmacctd sfacctd uacctd >/dev/null 2>&1 || true
fi
