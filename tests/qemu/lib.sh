# tests/qemu/lib.sh — shared by tests/qemu/*_test.sh: boots the kernel image
# in QEMU (TCG unless ACCEL says otherwise) with the serial console captured,
# optionally typing lines into it, and turns checks into PASS:/FAIL: lines.
# Sourced, not run. Every test sets PROG first.

KERNEL=${KERNEL:-build/kernel/phantom.elf32}
KERNEL_ELF=${KERNEL_ELF:-build/kernel/phantom.elf}
ACCEL=${ACCEL:-tcg}
QEMU=${QEMU:-qemu-system-x86_64}
QEMU_TIMEOUT=${QEMU_TIMEOUT:-20}
QEMU_MEM=${QEMU_MEM:-128}
FAILED=0
QEMU_EXTRA=()     # more QEMU arguments (devices)
QEMU_BOOT=()      # replaces "-kernel KERNEL -append CMDLINE" when set
QEMU_KILL_AFTER=  # seconds: SIGKILL QEMU then (a power cut), no clean exit
TMPD=$(mktemp -d)
trap 'rm -rf "$TMPD"' EXIT

pass() { echo "PASS: $PROG/$1"; }
fail() { echo "FAIL: $PROG/$1: $2"; FAILED=1; }

# qemu_run OUT "CMDLINE" [LINE...]: boots with CMDLINE; each LINE is typed
# after the console prompt "> " appears (at most 10 s each). Sets QEMU_RC
# (isa-debug-exit: 2*code+1; 124 = timed out; 137 = killed by
# QEMU_KILL_AFTER).
qemu_run() {
	local out=$1 append=$2
	shift 2
	local fifo=$TMPD/in.$$.$RANDOM
	mkfifo "$fifo"
	exec 3<>"$fifo"
	: >"$out"
	local boot=(-kernel "$KERNEL" -append "$append")
	[ "${#QEMU_BOOT[@]}" -gt 0 ] && boot=("${QEMU_BOOT[@]}")
	local limit=(--kill-after=2 "$QEMU_TIMEOUT")
	[ -n "$QEMU_KILL_AFTER" ] && limit=(-s KILL "$QEMU_KILL_AFTER")
	timeout "${limit[@]}" "$QEMU" -M pc -accel "$ACCEL" \
		-m "$QEMU_MEM" -no-reboot -display none -monitor none -nic none \
		-serial stdio -device isa-debug-exit,iobase=0xf4,iosize=4 \
		"${boot[@]}" "${QEMU_EXTRA[@]}" <&3 >"$out" 2>&1 &
	local pid=$! prompts=0
	for line in "$@"; do
		prompts=$((prompts + 1))
		for _ in $(seq 100); do
			[ "$(grep -o '> ' "$out" | wc -l)" -ge "$prompts" ] && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		printf '%s\r' "$line" >&3
	done
	{ wait "$pid"; } 2>/dev/null      # no "Killed" notice for power cuts
	QEMU_RC=$?
	exec 3>&-
	rm -f "$fifo"
}

# expect NAME REGEX FILE
expect() {
	if grep -qE -- "$2" "$3"; then pass "$1"; else fail "$1" "no output line matches '$2'"; fi
}

# expect_rc NAME WANT: QEMU's exit status (2*kexit code+1).
expect_rc() {
	if [ "$QEMU_RC" -eq "$2" ]; then pass "$1"
	else fail "$1" "QEMU exit status $QEMU_RC, want $2"; fi
}

# ktest_report FILE TEST [LABEL]: forwards the kernel's KTEST lines (under
# LABEL/ when given, to tell several boots apart) and checks the kernel
# reported completion with no failure.
ktest_report() {
	local pre="$PROG/${3:+$3/}"
	sed -n "s|^KTEST PASS: |PASS: $pre|p; s|^KTEST FAIL: |FAIL: $pre|p" "$1" | tr -d '\r'
	grep -q '^KTEST FAIL: ' "$1" && FAILED=1
	expect "${3:+$3/}$2/completed" "^KTEST DONE: $2: 0 failed" "$1"
}

# Shows the serial log when something failed, and sets the exit status.
finish() {
	if [ "$FAILED" -ne 0 ]; then
		for f in "$TMPD"/*.out; do
			[ -e "$f" ] && { echo "--- $f"; tr -d "\r" <"$f" | tail -n 40 | sed "s/^/    | /"; }
		done
	fi
	exit "$FAILED"
}
