#!/usr/bin/env bash
# deploy/run-qemu.sh [IMAGE] — boots one bare-metal Phantom node in QEMU
# (build/kernel/phantom.elf32) with the serial console on this terminal and
# IMAGE as its disk (virtio-blk). A missing IMAGE is created blank; the
# kernel formats a blank disk as a new image holding the default app.
# Stopping (Ctrl-C, SIGTERM or SIGINT to this script or to make) presses
# the machine's ACPI power button through QEMU's monitor: the kernel stops
# the VM at a safepoint, commits a final snapshot and powers off. A second
# request cuts the power (QEMU's quit).
# ACCEL=kvm on hosts with real KVM (default tcg); KARGS adds kernel
# arguments (snapshot_ms=N, outcommit=0, arena_mb=N); DISK_SIZE for a new
# one; STOP_TIMEOUT (s) before a node that does not stop is cut off.
set -euo pipefail
here=$(dirname "$0")
. "$here/supervise.sh"
image=${1:-${IMAGE:-${BUILD:-build}/phantom-qemu.img}}
kernel=${KERNEL:-${BUILD:-build}/kernel/phantom.elf32}
accel=${ACCEL:-tcg}
[ -f "$kernel" ] || { echo "run: $kernel is not built (run 'make run')" >&2; exit 1; }
for tool in qemu-system-x86_64 setsid; do
	command -v "$tool" >/dev/null || { echo "run: $tool is not installed" >&2; exit 1; }
done
if [ ! -e "$image" ]; then
	mkdir -p "$(dirname "$image")"
	truncate -s "${DISK_SIZE:-256M}" "$image"
	echo "== new blank disk $image: the kernel makes it an image on first boot"
fi
cat <<MSG
== Phantom bare-metal node in QEMU ($accel), disk $image
   The default app prints "tick N" once a second; each line appears once the
   snapshot holding N has committed. Stop with Ctrl-C (or SIGTERM): the node
   commits a final snapshot and powers off (Ctrl-C again: cut the power at
   once). Run 'make run' again and the ticks continue — also after a power
   cut, from the last committed snapshot. IMAGE=path picks another disk.
MSG

# The monitor on a pipe pair is the power button; QEMU runs in its own
# session so that Ctrl-C reaches only this script, which presses it.
ctl=$(mktemp -d "${TMPDIR:-/tmp}/phantom-run.XXXXXX")
trap 'rm -rf "$ctl"' EXIT
mkfifo "$ctl/mon.in" "$ctl/mon.out"
setsid -w qemu-system-x86_64 -M pc -accel "$accel" -m "${QEMU_MEM:-256}" -no-reboot \
	-display none -monitor none -nic none -serial stdio \
	-chardev "pipe,id=mon,path=$ctl/mon" -mon chardev=mon,mode=readline \
	-device isa-debug-exit,iobase=0xf4,iosize=4 \
	-drive "file=$image,if=none,id=d0,format=raw,cache=writeback" \
	-device virtio-blk-pci,drive=d0,disable-modern=on \
	-device virtio-rng-pci,disable-modern=on \
	-kernel "$kernel" -append "${KARGS:-}" <&0 &
qemu=$!
exec 4<>"$ctl/mon.in" 5<>"$ctl/mon.out"   # never block on a dead QEMU

press_power_button() {
	echo "== stopping: pressing the power button (final snapshot, then power off)" >&2
	echo system_powerdown >&4 || true
}
cut_power() {
	echo quit >&4 || true
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 "$qemu" 2>/dev/null || return 0
		sleep 0.2
	done
	kill -KILL "$qemu" 2>/dev/null || true
}

rc=0
supervise "$qemu" press_power_button cut_power || rc=$?
# A QEMU killed outright could not give the terminal back its settings.
[ "$rc" -eq 137 ] && [ -t 0 ] && stty sane 2>/dev/null
# QEMU's exit status: 0 after a power-off, 2*code+1 from the debug exit.
if [ "$SUPERVISE_CUT" = 1 ]; then
	echo "== the node was cut off (QEMU exit status $rc)"
else
	echo "== the node has stopped (QEMU exit status $rc)"
fi
exit "$rc"
