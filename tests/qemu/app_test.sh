#!/usr/bin/env bash
# app_test.sh — boot to the application: the hosted build formats an image
# whose arena is a VM with a sample program (tests/vm/NAME.pasm) started; the
# kernel boots from it, runs the VM (the same vm/ code as the hosted node;
# snapshots only at the end: the samples test the VM, not snapshotting)
# and must print exactly NAME.out, then commits. A second boot finds the
# program finished and nothing left to run.
PROG=app_test
. "$(dirname "$0")/lib.sh"

TOOL=${IMAGE_TOOL:-build/tests/qemu/image_tool}
for pasm in tests/vm/*.pasm; do
	name=$(basename "$pasm" .pasm)
	case "$name" in bad_*) continue ;; esac
	img=$TMPD/$name.img
	if ! msg=$("$TOOL" "$img" app "$pasm" 2>&1); then
		fail "$name/image" "$msg"
		continue
	fi
	QEMU_EXTRA=(-drive "file=$img,if=none,id=d0,format=raw,cache=writeback"
		    -device virtio-blk-pci,drive=d0,disable-modern=on)
	out=$TMPD/$name.out
	qemu_run "$out" "snapshot_ms=600000" halt
	# The app's output: between the two app: lines, plus "!error" for a
	# thread that failed (the samples' .out files end that way).
	tr -d '\r' <"$out" | sed -n '/^app: image epoch/,/^app: finished/p' |
		sed '1d;$d' >"$TMPD/$name.got"
	tr -d '\r' <"$out" | sed -n 's/^app: finished, [1-9][0-9]* thread(s) failed: \(.*\)$/!\1/p' \
		>>"$TMPD/$name.got"
	if cmp -s "$TMPD/$name.got" "tests/vm/$name.out"; then pass "$name/output"
	else fail "$name/output" "$(diff "tests/vm/$name.out" "$TMPD/$name.got" | head -5 | tr '\n' ' ')"; fi
	expect "$name/committed" '^app: committed epoch [0-9]+' "$out"
	expect_rc "$name/exit_status" 1
done

# Boot the last image again: its program already ran to the end.
out=$TMPD/again.out
qemu_run "$out" "snapshot_ms=600000" halt
if tr -d '\r' <"$out" | sed -n '/^app: image epoch/,/^app: finished/p' | sed '1d;$d' | grep -q .; then
	fail second_boot_runs_nothing "the finished program printed again"
else
	pass second_boot_runs_nothing
fi
expect second_boot_attached '^app: image epoch [2-9]' "$out"
finish
