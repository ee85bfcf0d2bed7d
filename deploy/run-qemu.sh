#!/usr/bin/env bash
# deploy/run-qemu.sh [IMAGE] — boots one bare-metal Phantom node in QEMU
# (build/kernel/phantom.elf32) with the serial console on this terminal and
# IMAGE as its disk (virtio-blk). A missing IMAGE is created blank; the
# kernel formats a blank disk as a new image holding the default app.
# ACCEL=kvm on hosts with real KVM (default tcg); KARGS adds kernel
# arguments (snapshot_ms=N, outcommit=0, arena_mb=N); DISK_SIZE for a new one.
set -euo pipefail
image=${1:-${IMAGE:-${BUILD:-build}/phantom-qemu.img}}
kernel=${KERNEL:-${BUILD:-build}/kernel/phantom.elf32}
accel=${ACCEL:-tcg}
[ -f "$kernel" ] || { echo "run: $kernel is not built (run 'make run')" >&2; exit 1; }
command -v qemu-system-x86_64 >/dev/null || { echo "run: qemu-system-x86_64 is not installed" >&2; exit 1; }
if [ ! -e "$image" ]; then
	mkdir -p "$(dirname "$image")"
	truncate -s "${DISK_SIZE:-256M}" "$image"
	echo "== new blank disk $image: the kernel makes it an image on first boot"
fi
cat <<MSG
== Phantom bare-metal node in QEMU ($accel), disk $image
   The default app prints "tick N" once a second. Stop QEMU with Ctrl-C (or
   kill it): like a power cut, the next boot resumes from the last committed
   snapshot — run 'make run' again and the ticks continue. IMAGE=path picks
   another disk.
MSG
exec qemu-system-x86_64 -M pc -accel "$accel" -m "${QEMU_MEM:-256}" -no-reboot \
	-display none -monitor none -nic none -serial stdio \
	-device isa-debug-exit,iobase=0xf4,iosize=4 \
	-drive "file=$image,if=none,id=d0,format=raw,cache=writeback" \
	-device virtio-blk-pci,drive=d0,disable-modern=on \
	-device virtio-rng-pci,disable-modern=on \
	-kernel "$kernel" -append "${KARGS:-}"
