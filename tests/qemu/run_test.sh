#!/usr/bin/env bash
# run_test.sh — the bare-metal node as `make run` boots it: a blank disk
# becomes an image running the default app (ticks), QEMU is hard-killed mid
# run (a power cut) and booted again: the ticks resume past the last one
# printed (output commit: nothing printed is ever taken back). Then the same
# image format across platforms: phantomd creates an image, the kernel runs
# it, phantomd resumes it where the kernel's last commit left it.
PROG=run_test
. "$(dirname "$0")/lib.sh"
NODE=${PHANTOMD:-build/hosted/phantomd}
QEMU_MEM=256

ticks() { tr -d '\r' <"$1" | sed -n 's/^tick \([0-9]*\)$/\1/p'; }
# consecutive FILE: the ticks of one run count up by one.
consecutive() { ticks "$1" | awk 'NR>1 && $1 != prev+1 {exit 1} {prev=$1}'; }

disk=$TMPD/node.img
truncate -s 64M "$disk"
QEMU_EXTRA=(-drive "file=$disk,if=none,id=d0,format=raw,cache=writeback"
	    -device virtio-blk-pci,drive=d0,disable-modern=on)

out=$TMPD/boot1.out
QEMU_KILL_AFTER=${RUN_KILL_AFTER:-7} qemu_run "$out" "snapshot_ms=50"
expect_rc first_boot_killed 137
expect first_boot_created '^app: vda is blank; creating an image' "$out"
# No network on bare metal yet: the KV service says so, the node runs on.
expect first_boot_kv_says_no_network '^kv: no network' "$out"
last=$(ticks "$out" | tail -n 1)
if [ -n "$last" ] && [ "$last" -ge 2 ] && [ "$(ticks "$out" | head -n 1)" = 1 ] &&
   consecutive "$out"; then pass first_boot_ticks
else fail first_boot_ticks "ticks '$(ticks "$out" | tr '\n' ' ')'"; fi

for boot in 2 3; do
	out=$TMPD/boot$boot.out
	QEMU_KILL_AFTER=${RUN_KILL_AFTER:-7} qemu_run "$out" ""
	expect_rc boot$boot/killed 137
	expect boot$boot/resumed '^app: image epoch [1-9][0-9]*, running the VM' "$out"
	first=$(ticks "$out" | head -n 1)
	if [ -n "$first" ] && [ -n "$last" ] && [ "$first" -gt "$last" ] &&
	   [ "$first" -le $((last + 3)) ] && consecutive "$out"; then
		pass boot$boot/resumes_past_last_printed
	else fail boot$boot/resumes_past_last_printed "first '$first' after last printed '$last'"; fi
	[ -n "$(ticks "$out" | tail -n 1)" ] && last=$(ticks "$out" | tail -n 1)
done

# The command line picks the disk and names the node: the image on vdb.
blank=$TMPD/blank.img
truncate -s 8M "$blank"
QEMU_EXTRA=(-drive "file=$blank,if=none,id=d0,format=raw,cache=writeback"
	    -device virtio-blk-pci,drive=d0,disable-modern=on
	    -drive "file=$disk,if=none,id=d1,format=raw,cache=writeback"
	    -device virtio-blk-pci,drive=d1,disable-modern=on)
out=$TMPD/vdb.out
QEMU_KILL_AFTER=${RUN_KILL_AFTER:-7} qemu_run "$out" "image=vdb node=3"
expect cmdline/node_and_disk '^app: node 3, image on vdb' "$out"
first=$(ticks "$out" | head -n 1)
if [ -n "$first" ] && [ -n "$last" ] && [ "$first" -gt "$last" ] &&
   [ -z "$(od -An -v -tx1 "$blank" | tr -d ' 0\n')" ]; then
	pass cmdline/image_on_vdb_resumes
else fail cmdline/image_on_vdb_resumes "first '$first' after last printed '$last' (or vda was written)"; fi

# Hosted-made image, run by the kernel, resumed by the hosted node.
img=$TMPD/hosted.img
if "$NODE" --image "$img" --create-only --device-size 64M --arena-size 64M \
	--tick-ms 300 >"$TMPD/create.out" 2>&1; then pass hosted_image_created
else fail hosted_image_created "$(cat "$TMPD/create.out")"; fi
QEMU_EXTRA=(-drive "file=$img,if=none,id=d0,format=raw,cache=writeback"
	    -device virtio-blk-pci,drive=d0,disable-modern=on)
out=$TMPD/kernel_on_hosted.out
QEMU_KILL_AFTER=${RUN_KILL_AFTER:-7} qemu_run "$out" ""
klast=$(ticks "$out" | tail -n 1)
if [ "$(ticks "$out" | head -n 1)" = 1 ] && [ -n "$klast" ] && [ "$klast" -ge 3 ]; then
	pass kernel_runs_hosted_image
else fail kernel_runs_hosted_image "ticks '$(ticks "$out" | tr '\n' ' ')'"; fi
"$NODE" --image "$img" --max-ticks 2 >"$TMPD/hosted_again.out" 2>&1
hfirst=$(ticks "$TMPD/hosted_again.out" | head -n 1)
if [ -n "$hfirst" ] && [ -n "$klast" ] && [ "$hfirst" -gt "$klast" ] &&
   [ "$hfirst" -le $((klast + 3)) ]; then pass hosted_resumes_kernel_image
else fail hosted_resumes_kernel_image "hosted first '$hfirst' after kernel's last '$klast'"; fi
finish
