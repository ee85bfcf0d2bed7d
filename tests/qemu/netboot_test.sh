#!/usr/bin/env bash
# netboot_test.sh — the same image netboots: QEMU's e1000 iPXE ROM fetches
# an iPXE script and the kernel over QEMU's user-network TFTP, and the
# kernel runs with the script's command line (iPXE puts the kernel's URI
# first).
PROG=netboot_test
. "$(dirname "$0")/lib.sh"

tftp=$TMPD/tftp
mkdir -p "$tftp"
cp "$KERNEL" "$tftp/phantom.elf32"
now=$(date -u +%s)
printf '#!ipxe\nkernel phantom.elf32 test=timer now=%s\nboot\n' "$now" >"$tftp/boot.ipxe"

out=$TMPD/netboot.out
QEMU_TIMEOUT=${QEMU_TIMEOUT_NETBOOT:-60}
QEMU_BOOT=(-boot n)
QEMU_EXTRA=(-netdev "user,id=n0,tftp=$tftp,bootfile=boot.ipxe" -device e1000,netdev=n0)
qemu_run "$out" ""
expect ipxe_cmdline 'command line "[^ ]*phantom\.elf32 test=timer now=' "$out"
ktest_report "$out" timer
expect_rc exit_status 1
finish
