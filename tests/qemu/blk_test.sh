#!/usr/bin/env bash
# blk_test.sh — virtio-blk (legacy PCI) from the kernel: PCI enumeration
# finds it, a written and flushed pattern reads back, lands in the host image
# file, survives a reboot (a second boot verifies it without writing), and
# bad offsets are refused.
PROG=blk_test
. "$(dirname "$0")/lib.sh"

disk=$TMPD/disk.img
size=$((4 * 1024 * 1024))
truncate -s "$size" "$disk"
drive=(-drive "file=$disk,if=none,id=d0,format=raw,cache=writeback"
       -device virtio-blk-pci,drive=d0,disable-modern=on)
QEMU_EXTRA=("${drive[@]}")

out=$TMPD/write.out
qemu_run "$out" "test=blk write gen=7 size=$size"
expect pci_found '^pci 00:0[0-9a-f]\.0 1af4:1001 class 01\.00' "$out"
ktest_report "$out" blk first_boot
expect_rc write_exit_status 1

# The host sees the flushed pattern at sectors 24 and 323 (first and last).
for s in 24 323; do
	want=$(printf 'PHANTOM-BLK gen 7 sector %08u' "$s")
	line=$(dd if="$disk" bs=512 skip="$s" count=1 status=none | head -c "${#want}")
	if [ "$line" = "$want" ]; then pass "host_sees_sector_$s"
	else fail "host_sees_sector_$s" "sector $s holds '$line', want '$want'"; fi
done

out=$TMPD/verify.out
qemu_run "$out" "test=blk gen=7 size=$size"
ktest_report "$out" blk second_boot
expect reboot_persisted '^KTEST PASS: blk/persisted' "$out"
expect_rc verify_exit_status 1

# A different generation must not verify: the check can fail.
out=$TMPD/wronggen.out
qemu_run "$out" "test=blk gen=8 size=$size"
expect wrong_generation_detected '^KTEST FAIL: blk/persisted' "$out"
expect_rc wrong_generation_status 3
finish
