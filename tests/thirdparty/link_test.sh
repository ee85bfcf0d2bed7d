#!/usr/bin/env bash
# tests/thirdparty/link_test.sh — links each kernel-built third-party library
# with the kernel libc into a static freestanding ELF (an executable link, so
# any undefined symbol is an error), reports the undefined symbols if any, then
# runs the ELF, whose fs_main() prints its own PASS/FAIL lines.
# Usage: link_test.sh BUILD_DIR
set -u
B=${1:-build}
K=$B/kernel
O=$B/tests/thirdparty
# Linked programs go to a private directory: concurrent runs never share them.
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
CC=${KERNEL_CC:-gcc}
LDFLAGS="-nostdlib -static -no-pie -Wl,--no-undefined -Wl,-z,noexecstack"
fail=0

# Everything in libklibc.a must resolve inside it: its hooks are function
# pointers the kernel installs (klibc_set_hooks), never undefined symbols.
undef=$(ld -r -o "$T/klibc_all.o" --whole-archive "$K/libklibc.a" 2>&1 && nm -u "$T/klibc_all.o")
if [ -z "$undef" ]; then
	echo "PASS: link_test/klibc_self_contained"
else
	echo "FAIL: link_test/klibc_self_contained: undefined: $(echo $undef)"
	fail=1
fi

link_and_run() { # name objects-and-archives...
	local name=$1 out=$T/fs_$1.elf log=$T/fs_$1.link.log
	shift
	if ! $CC $LDFLAGS -o "$out" "$@" >"$log" 2>&1; then
		local syms
		syms=$(grep -o "undefined reference to \`[^']*'" "$log" | sed "s/.*\`//; s/'//" | sort -u | tr '\n' ' ')
		echo "FAIL: link_test/link_$name: ${syms:+undefined: }${syms:-$(tail -n 3 "$log" | tr '\n' ' ')}"
		fail=1
		return
	fi
	echo "PASS: link_test/link_$name"
	local res rc
	res=$(timeout 60 "$out" 2>&1)
	rc=$?
	echo "$res"
	if [ "$rc" -ne 0 ] && ! grep -q '^FAIL: ' <<<"$res"; then
		echo "FAIL: link_test/run_$name: exited with status $rc"
		fail=1
	fi
	[ "$rc" -ne 0 ] && fail=1
}

START="$O/fs_start.o"
link_and_run klibc "$O/fs_klibc.o" "$START" -Wl,--whole-archive "$K/libklibc.a" -Wl,--no-whole-archive
link_and_run zstd "$O/fs_zstd.o" "$START" "$K/libzstd.a" "$K/libklibc.a"
link_and_run sodium "$O/fs_sodium.o" "$START" "$K/libsodium.a" "$K/libklibc.a"
link_and_run raft "$O/fs_raft.o" "$START" "$K/libraft.a" "$K/libklibc.a"
link_and_run lwip "$O/fs_lwip.o" "$O/fs_plat_stub.o" "$START" \
	"$K/core/kernel/common/plat.o" "$K/liblwip.a" "$K/libklibc.a"
exit $fail
