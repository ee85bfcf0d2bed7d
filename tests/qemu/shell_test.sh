#!/usr/bin/env bash
# shell_test.sh — the object shell of the default app on the bare-metal
# serial console, typed as a terminal types: Enter as CR (raw mode) or LF
# (a pipe), echo of what is typed, backspace editing. A value set in the
# shell survives a power cut (kill -9 of QEMU) and reads back after reboot.
PROG=shell_test
. "$(dirname "$0")/lib.sh"

disk=$TMPD/shell.img
truncate -s 64M "$disk"

# boot OUT: QEMU on $disk with the console on a fifo (fd 3) and OUT.
boot() {
	local fifo=$TMPD/in.$RANDOM
	mkfifo "$fifo"
	exec 3<>"$fifo"
	: >"$1"
	"$QEMU" -M pc -accel "$ACCEL" -m 256 -no-reboot -display none -monitor none \
		-nic none -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=4 \
		-drive "file=$disk,if=none,id=d0,format=raw,cache=writeback" \
		-device virtio-blk-pci,drive=d0,disable-modern=on \
		-kernel "$KERNEL" -append "" <&3 >"$1" 2>&1 &
	QPID=$!
}

# wait_for OUT REGEX: 0 once a line matches (60 s at most).
wait_for() {
	local i
	for ((i = 0; i < 300; i++)); do
		tr -d '\r' <"$1" | grep -qE -- "$2" && return 0
		kill -0 "$QPID" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}

typed() { printf '%b' "$1" >&3; }

cut_power() { kill -KILL "$QPID" 2>/dev/null; wait "$QPID" 2>/dev/null; exec 3>&-; }

out=$TMPD/boot1.out
boot "$out"
if wait_for "$out" '^shell: ready'; then pass shell_ready
else fail shell_ready "no 'shell: ready' on the console"; fi
typed 'set greeting hello from qemu\r'
if wait_for "$out" '^ok: greeting = hello from qemu$'; then pass enter_as_cr
else fail enter_as_cr "no reply to a line ended by CR"; fi
if tr -d '\r' <"$out" | grep -q '^set greeting hello from qemu$'; then pass typed_text_echoed
else fail typed_text_echoed "the typed line was not echoed"; fi
typed 'get greeting\n'
if wait_for "$out" '^greeting = hello from qemu$'; then pass enter_as_lf
else fail enter_as_lf "no reply to a line ended by LF"; fi
typed 'set edited onx\x7f\x7fk\r\n'     # DEL erases; CRLF ends the line
if wait_for "$out" '^ok: edited = ok$'; then pass backspace_edits
else fail backspace_edits "DEL did not erase the typed bytes"; fi
cut_power

out=$TMPD/boot2.out
boot "$out"
wait_for "$out" '^tick [0-9]+$'
typed 'get greeting\r'
if wait_for "$out" '^greeting = hello from qemu$'; then pass value_survives_power_cut
else fail value_survives_power_cut "the value did not read back after the power cut"; fi
cut_power
finish
