#!/usr/bin/env bash
# paging_test.sh — test=paging: 4 KiB mappings in the arena at
# PLAT_ARENA_BASE, protection changes, the hardware dirty bit, and the fault
# hook seeing reads and writes (is_write) with lazy page-in.
PROG=paging_test
. "$(dirname "$0")/lib.sh"

out=$TMPD/paging.out
qemu_run "$out" "test=paging"
ktest_report "$out" paging
expect hook_saw_write '^KTEST PASS: paging/write_fault_hook_is_write' "$out"
expect hook_saw_read '^KTEST PASS: paging/read_fault_hook_not_write' "$out"
expect_rc exit_status 1
finish
