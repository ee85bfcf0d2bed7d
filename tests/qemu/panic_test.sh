#!/usr/bin/env bash
# panic_test.sh — a deliberate page fault (test=pagefault) must produce the
# readable panic dump: vector name, error code decoded, CR2, the registers,
# and a backtrace whose frames resolve to the faulting call chain. A kernel
# thread overflowing its stack hits the guard page and the double fault
# (on its own IST stack) still dumps.
PROG=panic_test
. "$(dirname "$0")/lib.sh"

out=$TMPD/panic.out
qemu_run "$out" "test=pagefault"
expect vector_name 'PANIC: page fault \(#PF\), vector 14, error code 0x2' "$out"
expect cr2 'CR2=ffff900000000ff8 \(write, page not present, kernel\)' "$out"
expect rip '^RIP=ffffffff8[0-9a-f]{7} CS=0008' "$out"
expect registers '^R13=[0-9a-f]{16} R14=[0-9a-f]{16} R15=[0-9a-f]{16}' "$out"
expect control_regs '^CR0=[0-9a-f]{16} CR2=ffff900000000ff8 CR3=' "$out"
expect dump_end '^\*\*\* end of panic dump' "$out"
expect_rc exit_status 7

# The backtrace must name the real call chain (resolved with the ELF64's
# debug information): the faulting function, its caller, the test runner.
frames=$(tr -d '\r' <"$out" | sed -n 's/^  #[0-9]* *\([0-9a-f]*\)\( ?\)\{0,1\}$/\1/p')
if [ -z "$frames" ]; then
	fail backtrace "no backtrace frames in the dump"
else
	funcs=$(addr2line -f -e "$KERNEL_ELF" $frames | sed -n '1~2p' | tr '\n' ' ')
	case "$funcs" in
	"ktest_fault_here ktest_pagefault ktest_run kmain "*) pass backtrace ;;
	*) fail backtrace "frames resolve to: $funcs" ;;
	esac
fi

out=$TMPD/overflow.out
qemu_run "$out" "test=stackoverflow"
expect overflow_vector 'PANIC: double fault \(#DF\), vector 8' "$out"
expect overflow_thread '^thread overflower' "$out"
expect overflow_guard 'guard page of thread stack slot [0-9]+: stack overflow' "$out"
expect overflow_recursion_folded 'the frame above repeats [0-9]+ more times' "$out"
expect_rc overflow_exit_status 7
finish
