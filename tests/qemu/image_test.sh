#!/usr/bin/env bash
# image_test.sh — image portability: a persist/ image written by the kernel
# in QEMU (virtio-blk) is read and extended by the hosted build, and back,
# and an image the hosted build formats boots in the kernel. The contents are
# tests/qemu/image_pattern.h's generations; even ones declare pages unused
# (22 by the hosted build, 54 by the kernel) and the other side reads zeros.
PROG=image_test
. "$(dirname "$0")/lib.sh"

TOOL=${IMAGE_TOOL:-build/tests/qemu/image_tool}
img=$TMPD/a.img
truncate -s $((64 * 1024 * 1024)) "$img"
use_disk() {
	QEMU_EXTRA=(-drive "file=$1,if=none,id=d0,format=raw,cache=writeback"
		    -device virtio-blk-pci,drive=d0,disable-modern=on)
}
hosted() { # NAME ARGS...: runs the hosted tool as one check
	local name=$1 msg
	shift
	if msg=$("$TOOL" "$@" 2>&1); then pass "$name"; else fail "$name" "$msg"; fi
}

use_disk "$img"
out=$TMPD/create.out
qemu_run "$out" "test=image image=create gen=11"
ktest_report "$out" image kernel_create
expect_rc kernel_create_status 1

hosted hosted_reads_kernel_image "$img" check 11 22

out=$TMPD/check.out
qemu_run "$out" "test=image image=check gen=22 write=33"
ktest_report "$out" image kernel_check
expect_rc kernel_check_status 1

hosted hosted_reads_kernel_commit "$img" check 33 43

# Generation 54 is even: the kernel declares the pages of 43 unused.
out=$TMPD/drop.out
qemu_run "$out" "test=image image=check gen=43 write=54"
ktest_report "$out" image kernel_drops_pages
expect_rc kernel_drops_status 1

hosted hosted_reads_kernel_drop "$img" check 54

img2=$TMPD/b.img
hosted hosted_create "$img2" create 44
use_disk "$img2"
out=$TMPD/hostedimg.out
qemu_run "$out" "test=image image=check gen=44"
ktest_report "$out" image kernel_reads_hosted_image
expect_rc kernel_reads_hosted_status 1

# The check can fail: a wrong generation is reported.
out=$TMPD/wrong.out
qemu_run "$out" "test=image image=check gen=45"
expect wrong_generation_detected '^KTEST FAIL: image/contents_match' "$out"
finish
