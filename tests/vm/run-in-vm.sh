#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/vm/run-in-vm.sh DEB_DIR SCRIPT [ARGS...]
#
# Boots the Debian kernel in DEB_DIR (as left by tests/vm/fetch-kernel.sh)
# under qemu and runs SCRIPT as root in the guest, with the host's / as the
# guest's root (9p, read-only, overlaid with a tmpfs: the guest may write
# anywhere, the writes are lost), in the same working directory.  Powers
# off and exits with the script's status; 125: the VM died without one,
# 124: timeout.  The script's output is the guest console's.
#
# Why it looks like this (measured on the project's machines, see
# ../shared/reference/vm-harness.md): KVM is unusable under the nested
# hypervisor, so qemu runs TCG; the uncompressed ELF is booted through its
# PVH entry (no firmware, no in-guest decompression: 3-6 s to a shell);
# the setup runs in static busybox because every dynamic host binary
# started over 9p costs ~0.5 s under TCG.
#
# Debian does not build netdevsim (CONFIG_NETDEVSIM off): it is built out
# of tree from the linux-source package with the matching headers/kbuild,
# once per kernel, and installed under the cached module tree's extra/.
# Where that fails the guest finds why in /run/vm/netdevsim.err.
#
# Guest: two virtio-net NICs (eth0, eth1, MACs 52:54:00:00:00:1{0,1}) on a
# qemu-internal hub; no host networking at all.  Plus, where the host
# allows it, two multi-queue virtio-net NICs (mq=on, NACCT_VM_MQ queue
# pairs, MACs 52:54:00:00:00:2{0,1}) on multi_queue taps bridged inside a
# private host netns made for the boot and deleted after it (qemu runs in
# it); /run/vm/mq.ok or /run/vm/mq.err in the guest says which.
# bpffs, tracefs, debugfs and cgroup2 are mounted.
# Env: NACCT_VM_CACHE (/var/tmp/nacct-vm)  NACCT_VM_MEM (2048)
#      NACCT_VM_CPUS (2)  NACCT_VM_TIMEOUT (1500 s)  NACCT_VM_ACCEL (tcg|kvm)
#      NACCT_VM_MODULES (modules to load before the script)  NACCT_VM_KEEP=1
#      NACCT_VM_MQ (4: queue pairs of the multi-queue NICs; 0: none)
#      NACCT_VM_NIC_OPTS (more virtio-net-pci properties of eth0/eth1, e.g.
#      iommu_platform=on: the DMA API, which AF_XDP zero-copy needs)
set -euo pipefail

die() { echo "run-in-vm: $*" >&2; exit 125; }
log() { echo "run-in-vm: $*" >&2; }

[ $# -ge 2 ] || die "usage: $0 DEB_DIR SCRIPT [ARGS...]"
DEBDIR=$(realpath "$1"); SCRIPT=$(realpath "$2"); shift 2
[ -f "$SCRIPT" ] && [ -x "$SCRIPT" ] || die "not an executable script: $SCRIPT"
[ "$(id -u)" = 0 ] || die "must run as root (the 9p export of / needs it)"
for t in qemu-system-x86_64 cpio depmod xz zstd; do
	command -v "$t" >/dev/null || die "$t missing: run 'scripts/deps.sh vm'"
done
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 ||
	die "static /bin/busybox missing: run 'scripts/deps.sh vm' (busybox-static)"

# ---- the kernel, unpacked once per package ------------------------------------
IMG=
for f in "$DEBDIR"/linux-image-*.deb; do
	case $f in *-dbg_*) ;; *) [ -f "$f" ] && IMG=$f && break ;; esac
done
[ -n "$IMG" ] || die "no linux-image-*.deb in $DEBDIR (tests/vm/fetch-kernel.sh)"
CACHE=${NACCT_VM_CACHE:-/var/tmp/nacct-vm}/kernels/$(basename "$IMG" .deb)
ROOT=$CACHE/root
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
# trixie's packages install to /usr/lib/modules (merged /usr): moved to
# ROOT/lib/modules, where depmod, the guest's 9p share and the rest look
unpack() {
	dpkg-deb -x "$1" "$ROOT"
	if [ -d "$ROOT/usr/lib/modules" ]; then
		mkdir -p "$ROOT/lib/modules"
		cp -a "$ROOT/usr/lib/modules/." "$ROOT/lib/modules/"
		rm -rf "$ROOT/usr/lib/modules"
	fi
}
if [ ! -e "$CACHE/.extracted" ]; then
	log "unpacking $(basename "$IMG")"
	rm -rf "$ROOT"; mkdir -p "$ROOT"
	unpack "$IMG"
	# from 7.x the image is a shell: the kernel, modules and System.map
	# are in its linux-binary/-modules/-base parts of the same ABI
	abi=$(basename "$IMG"); abi=${abi#linux-image-}; abi=${abi%%_*}
	for d in "$DEBDIR"/linux-binary-"$abi"_*.deb "$DEBDIR"/linux-modules-"$abi"_*.deb \
		"$DEBDIR"/linux-base-"$abi"_*.deb; do
		[ -f "$d" ] && unpack "$d"
	done
	touch "$CACHE/.extracted"
fi
KVER=$(ls "$ROOT/lib/modules" | head -n1)
MODDIR=$ROOT/lib/modules/$KVER
VMLINUZ=$ROOT/boot/vmlinuz-$KVER
[ -f "$VMLINUZ" ] || VMLINUZ=$MODDIR/vmlinuz # 7.x (linux-binary-ABI)
[ -f "$VMLINUZ" ] || die "no $VMLINUZ"

# the ELF inside the bzImage: find the compressed payload by its magic
if [ ! -s "$CACHE/vmlinux" ]; then
	for m in 'xz:\xfd7zXZ\x00' 'zstd:\x28\xb5\x2f\xfd' 'gzip:\x1f\x8b\x08'; do
		off=$(LC_ALL=C grep -obUaP "${m#*:}" "$VMLINUZ" | head -n1 | cut -d: -f1 || true)
		[ -n "$off" ] || continue
		tail -c +$((off + 1)) "$VMLINUZ" | "${m%%:*}" -dcq > "$CACHE/vmlinux.tmp" 2>/dev/null || true
		if [ "$(head -c 4 "$CACHE/vmlinux.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
			mv "$CACHE/vmlinux.tmp" "$CACHE/vmlinux"
			break
		fi
	done
	rm -f "$CACHE/vmlinux.tmp"
fi
KERNEL=$VMLINUZ
[ -s "$CACHE/vmlinux" ] && KERNEL=$CACHE/vmlinux

# ---- the kernel's headers, for netdevsim's build and for bcc in the guest --------
# Unpacked into ROOT; the paths that point at /usr/src (the headers'
# /lib/modules/KVER/build and source links, the arch Makefile's include of
# the -common tree) are rewritten to ROOT/usr/src, which the guest sees at
# the same path (the host's / is its root, ROOT/lib/modules its
# /lib/modules): bcc finds the headers through build/source as on an
# installed system.  Without headers debs the guest has no build link.
HDR=$ROOT/usr/src/linux-headers-$KVER
if [ ! -e "$CACHE/.headers" ] && ls "$DEBDIR"/linux-headers-*.deb "$DEBDIR"/linux-kbuild-*.deb >/dev/null 2>&1; then
	log "unpacking the headers of $KVER"
	for d in "$DEBDIR"/linux-headers-*.deb "$DEBDIR"/linux-kbuild-*.deb; do
		unpack "$d"
	done
	[ -f "$HDR/Makefile" ] || die "headers for $KVER not in $DEBDIR"
	# (7.x's also names its own directory in KBUILD_OUTPUT)
	sed -i -E "s#^(include |KBUILD_OUTPUT=)/usr/src/#\1$ROOT/usr/src/#" "$HDR/Makefile"
	touch "$CACHE/.headers"
fi
# the build/source links: absolute (/usr/src/...) up to 6.x, relative
# (../../../src/...) in 7.x's packages; either way the guest would look in
# its own /usr/src, the host's (every time: kernels unpacked before this
# handled the relative ones keep their marker)
for l in build source; do
	t=$(readlink "$MODDIR/$l" 2>/dev/null) || continue
	case $t in
	/usr/src/*) ln -sfn "$ROOT$t" "$MODDIR/$l" ;;
	../../../src/*) ln -sfn "$ROOT/usr/src/${t#../../../src/}" "$MODDIR/$l" ;;
	esac
done

# ---- netdevsim.ko, out of tree ---------------------------------------------------
if ! find "$MODDIR" -name 'netdevsim.ko*' | grep -q .; then
	SRCDEB=$(ls "$DEBDIR"/linux-source-*.deb 2>/dev/null | head -n1 || true)
	if [ -n "$SRCDEB" ] && [ -e "$CACHE/.headers" ]; then
		log "building netdevsim.ko for $KVER"
		B=$CACHE/netdevsim-build
		rm -rf "$B"; mkdir -p "$B"
		dpkg-deb --fsys-tarfile "$SRCDEB" | tar -xO --wildcards './usr/src/linux-source-*.tar.xz' |
			tar -xJ -C "$B" --wildcards --strip-components=4 '*/drivers/net/netdevsim/*'
		# CC=gcc: the headers name the compiler the kernel was built with
		# (gcc-10 for 5.10, gcc-14 for 7.x); the host's gcc builds a module
		# the kernel loads (modules do not check the compiler's version);
		# gcc 12 has no -fmin-function-alignment (gcc 14): -falign-functions
		make -C "$HDR" M="$B" CC=gcc CONFIG_NETDEVSIM=m CONFIG_DEBUG_INFO_BTF_MODULES= \
			CONFIG_CC_HAS_MIN_FUNCTION_ALIGNMENT= \
			-j"$(nproc)" modules > "$CACHE/netdevsim-build.log" 2>&1 || true
		if [ -f "$B/netdevsim.ko" ]; then
			mkdir -p "$MODDIR/extra"
			cp "$B/netdevsim.ko" "$MODDIR/extra/"
			rm -f "$CACHE/.depmod" "$CACHE/netdevsim.err"
		else
			# not fatal: the guest's rows that need it skip with this
			# (7.x: the kbuild tools Debian ships, modpost and objtool,
			# are linked against trixie's glibc 2.38; the host has 2.36)
			{ grep -m1 -iE 'error|not found' "$CACHE/netdevsim-build.log" || tail -n1 "$CACHE/netdevsim-build.log"; } |
				head -c 300 > "$CACHE/netdevsim.err"
			log "netdevsim build failed: $(cat "$CACHE/netdevsim.err")"
		fi
	else
		log "no netdevsim.ko and no linux-source/headers/kbuild debs to build it"
	fi
fi
if [ ! -e "$CACHE/.depmod" ]; then
	depmod -b "$ROOT" "$KVER"
	touch "$CACHE/.depmod"
	rm -f "$CACHE/initrd.gz"
fi

# ---- initramfs: static busybox + the modules for a 9p/overlay root ----------------
INITRD=$CACHE/initrd.gz
if [ ! -f "$INITRD" ]; then
	log "building the initramfs"
	I=$CACHE/initramfs
	rm -rf "$I"; mkdir -p "$I"/{bin,dev,proc,sys,lower,upper,newroot,modules}
	cp /bin/busybox "$I/bin/busybox"
	n=0
	for m in virtio_pci 9pnet_virtio 9p overlay virtio_net; do
		modprobe -d "$ROOT" -S "$KVER" --show-depends "$m" | awk '$1=="insmod"{print $2}'
	done | awk '!seen[$0]++' | while read -r ko; do
		n=$((n + 1)); dst=$(printf '%02d-%s' $n "$(basename "$ko")")
		case "$ko" in
		*.xz) xz -dc "$ko" > "$I/modules/${dst%.xz}" ;;
		*.zst) zstd -qdc "$ko" > "$I/modules/${dst%.zst}" ;;
		*) cp "$ko" "$I/modules/$dst" ;;
		esac
	done
	cat > "$I/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs dev /dev
for m in /modules/*.ko; do insmod "$m" 2>/dev/null || echo "vm: insmod $m failed"; done
O=trans=virtio,version=9p2000.L,msize=262144
mount -t 9p -o $O,ro,cache=loose hostroot /lower || { echo "vm: 9p root mount failed"; poweroff -f; }
mount -t tmpfs -o mode=755 upper /upper && mkdir -p /upper/u /upper/w
mount -t overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w overlay /newroot ||
	{ echo "vm: overlay mount failed"; poweroff -f; }
mount -t tmpfs -o mode=755 tmpfs /newroot/run
mkdir -p /newroot/run/vm /newroot/lib/modules
mount -t 9p -o $O vmrun /newroot/run/vm
mount -t 9p -o $O,ro,cache=loose modules /newroot/lib/modules
for d in proc sys dev; do mount --move /$d /newroot/$d; done
cd /newroot
mkdir -p dev/pts dev/shm
mount -t devpts devpts dev/pts; mount -t tmpfs tmpfs dev/shm
mount -t debugfs debugfs sys/kernel/debug; mount -t tracefs tracefs sys/kernel/tracing
mount -t bpf bpf sys/fs/bpf; mount -t cgroup2 cgroup2 sys/fs/cgroup
hostname nacct-vm; ip link set lo up
exec switch_root /newroot /bin/sh /run/vm/stage2.sh
INIT
	chmod +x "$I/init"
	(cd "$I" && find . | cpio -o -H newc --quiet | gzip -1) > "$INITRD.tmp"
	mv "$INITRD.tmp" "$INITRD"
fi
flock -u 9

# ---- the run directory, shared read-write with the guest ------------------------
RUN=$(mktemp -d /tmp/nacct-vm-run.XXXXXX)
cleanup() { [ "${NACCT_VM_KEEP:-0}" = 1 ] && log "run dir kept: $RUN" || rm -rf "$RUN"; }
trap cleanup EXIT
# why this kernel has no netdevsim.ko, for the guest (/run/vm/netdevsim.err)
[ ! -s "$CACHE/netdevsim.err" ] || cp "$CACHE/netdevsim.err" "$RUN/"
# every NACCT_VM_* variable reaches the guest's script
for v in $(compgen -v | grep '^NACCT_VM_' || true); do printf '%s=%q\n' "$v" "${!v}"; done > "$RUN/env"
{
	printf 'cd %q || exit 125\n' "$PWD"
	printf 'exec %q' "$SCRIPT"; printf ' %q' "$@"; echo
} > "$RUN/cmd.sh"
cat > "$RUN/stage2.sh" <<'STAGE2'
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb
ulimit -l unlimited
# what udev would make: bash's process substitution needs /dev/fd
ln -sf /proc/self/fd /dev/fd; ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout; ln -sf /proc/self/fd/2 /dev/stderr
set -a; . /run/vm/env; set +a
[ -z "${NACCT_VM_MODULES:-}" ] || modprobe -a $NACCT_VM_MODULES
read up _ < /proc/uptime
echo "vm: kernel $(uname -r) up after ${up}s"
sh /run/vm/cmd.sh < /dev/null
rc=$?
echo "vm: script exited with status $rc"
echo $rc > /run/vm/status
echo o > /proc/sysrq-trigger
sleep 30
STAGE2

if [ "${NACCT_VM_ACCEL:-tcg}" = kvm ]; then ACC=(-accel kvm -cpu host); else ACC=(-accel tcg,thread=multi -cpu max); fi
NET=()
for i in 0 1; do
	NET+=(-netdev "hubport,id=n$i,hubid=0"
		-device "virtio-net-pci,netdev=n$i,mac=52:54:00:00:00:1$i${NACCT_VM_NIC_OPTS:+,$NACCT_VM_NIC_OPTS}")
done

# ---- the multi-queue pair: two mq=on NICs on multi-queue taps --------------------
# A hub/socket netdev has one queue; virtio-net's mq needs a multi-queue
# backend.  Two multi_queue taps joined by a bridge, all inside a private
# network namespace that exists for this boot only; qemu runs in it (its
# 9p shares are files, not network).  The host's own namespace is never
# touched.  On any failure the guest gets the error in /run/vm/mq.err and
# the rows that need the pair skip with it.  NACCT_VM_MQ=0: no pair.
MQ=${NACCT_VM_MQ:-4}
MQNS=
NSEXEC=()
mq_fail() { { echo "$*"; cat "$RUN/mq.log" 2>/dev/null; } | tr '\n' ' ' | head -c 600 > "$RUN/mq.err"; log "no multi-queue NICs: $(cat "$RUN/mq.err")"; }
mq_cleanup() {
	[ -n "$MQNS" ] || return 0
	flock /tmp/nacct-test.lock sh -c 'for t in vmqa vmqb vmqbr; do ip -n "$1" link del $t; done; ip netns del "$1"' \
		sh "$MQNS" 2>/dev/null
	MQNS=
}
if [ "$MQ" -gt 1 ] 2>/dev/null; then
	MQNS=nacct-vmq-$$
	# host namespace changes under the shared test lock, held only for them
	if flock /tmp/nacct-test.lock sh -ec '
		ip netns add "$1"
		ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
		ip -n "$1" link set lo up
		ip -n "$1" link add vmqbr type bridge stp_state 0 forward_delay 0
		for t in vmqa vmqb; do
			ip netns exec "$1" ip tuntap add dev $t mode tap multi_queue
			ip -n "$1" link set $t master vmqbr
			ip -n "$1" link set $t up
		done
		ip -n "$1" link set vmqbr up' sh "$MQNS" > "$RUN/mq.log" 2>&1; then
		NSEXEC=(ip netns exec "$MQNS")
		for t in a b; do
			i=$([ $t = a ] && echo 0 || echo 1)
			NET+=(-netdev "tap,id=q$t,ifname=vmq$t,script=no,downscript=no,queues=$MQ"
				-device "virtio-net-pci,netdev=q$t,mq=on,vectors=$((2 * MQ + 2)),mac=52:54:00:00:00:2$i")
		done
		echo "queues=$MQ taps vmqa/vmqb (multi_queue) on a bridge in the host netns $MQNS" > "$RUN/mq.ok"
	else
		mq_fail "host netns $MQNS with multi_queue taps:"
		mq_cleanup
	fi
fi
cleanup() { mq_cleanup; [ "${NACCT_VM_KEEP:-0}" = 1 ] && log "run dir kept: $RUN" || rm -rf "$RUN"; }
trap 'exit 143' TERM INT HUP
log "booting $KVER (${NACCT_VM_ACCEL:-tcg}, ${NACCT_VM_CPUS:-2} cpus, ${NACCT_VM_MEM:-2048}M)"
set +e
timeout "${NACCT_VM_TIMEOUT:-1500}" "${NSEXEC[@]}" qemu-system-x86_64 -nodefaults -no-user-config \
	"${ACC[@]}" -m "${NACCT_VM_MEM:-2048}" -smp "${NACCT_VM_CPUS:-2}" -display none -no-reboot \
	-chardev stdio,id=con,signal=off -serial chardev:con \
	-kernel "$KERNEL" -initrd "$INITRD" \
	-append "console=ttyS0 panic=-1 oops=panic quiet loglevel=4" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs local,path="$RUN",mount_tag=vmrun,security_model=none \
	-virtfs local,path="$ROOT/lib/modules",mount_tag=modules,security_model=none,readonly=on \
	"${NET[@]}" < /dev/null
qrc=$?
set -e
[ "$qrc" = 124 ] && { log "timeout after ${NACCT_VM_TIMEOUT:-1500}s"; exit 124; }
[ -f "$RUN/status" ] || { log "the VM exited (qemu status $qrc) without a test status"; exit 125; }
exit "$(cat "$RUN/status")"
