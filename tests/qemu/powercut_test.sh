#!/usr/bin/env bash
# powercut_test.sh — hard-kill QEMU (SIGKILL) while the kernel commits to
# virtio-blk, boot again, and check the disk holds what was reported
# committed. First the driver alone (record, flush, super, flush), then a
# whole persist/ image committing a counter kept in two pages each epoch:
# after the cut, both pages agree and the counter is at least the last
# one reported committed.
PROG=powercut_test
. "$(dirname "$0")/lib.sh"

disk=$TMPD/disk.img
truncate -s $((1024 * 1024)) "$disk"
QEMU_EXTRA=(-drive "file=$disk,if=none,id=d0,format=raw,cache=writeback"
	    -device virtio-blk-pci,drive=d0,disable-modern=on)

out=$TMPD/commit.out
QEMU_KILL_AFTER=${POWERCUT_AFTER:-1.5} qemu_run "$out" "test=powercut commit"
expect_rc killed_mid_run 137
last=$(tr -d '\r' <"$out" | sed -n 's/^COMMITTED gen \([0-9]*\)$/\1/p' | tail -n 1)
if [ -n "$last" ] && [ "$last" -ge 3 ]; then pass committed_before_kill
else fail committed_before_kill "only '${last}' generations committed before the kill"; fi

out=$TMPD/recover.out
qemu_run "$out" "test=powercut"
ktest_report "$out" powercut
got=$(tr -d '\r' <"$out" | sed -n 's/^RECOVERED gen \([0-9]*\)$/\1/p')
if [ -n "$got" ] && [ -n "$last" ] && [ "$got" -ge "$last" ]; then pass recovered_last_commit
else fail recovered_last_commit "recovered gen '${got}', last committed '${last}'"; fi
expect_rc recover_exit_status 1

img=$TMPD/image.img
truncate -s $((64 * 1024 * 1024)) "$img"
QEMU_EXTRA=(-drive "file=$img,if=none,id=d0,format=raw,cache=writeback"
	    -device virtio-blk-pci,drive=d0,disable-modern=on)
out=$TMPD/image_run.out
QEMU_KILL_AFTER=${POWERCUT_IMAGE_AFTER:-2.5} qemu_run "$out" "test=image image=run"
expect_rc image_killed_mid_run 137
last=$(tr -d '\r' <"$out" | sed -n 's/^IMAGE committed counter \([0-9]*\) .*/\1/p' | tail -n 1)
if [ -n "$last" ] && [ "$last" -ge 3 ]; then pass image_committed_before_kill
else fail image_committed_before_kill "only '${last}' epochs committed before the kill"; fi

out=$TMPD/image_recover.out
qemu_run "$out" "test=image image=recover"
ktest_report "$out" image image_recover
got=$(tr -d '\r' <"$out" | sed -n 's/^IMAGE recovered counter \([0-9]*\)$/\1/p')
if [ -n "$got" ] && [ -n "$last" ] && [ "$got" -ge "$last" ]; then pass image_recovered_last_commit
else fail image_recovered_last_commit "recovered counter '${got}', last committed '${last}'"; fi
expect_rc image_recover_status 1
finish
