#!/usr/bin/env bash
# arena_test.sh — test=arena: the bare-metal plat_ops arena (reserve at
# PLAT_ARENA_BASE, protect, zero pages, page_fill, discard, release) and its
# fault handler, including handlers that block on several threads.
PROG=arena_test
. "$(dirname "$0")/lib.sh"

out=$TMPD/arena.out
qemu_run "$out" "test=arena"
ktest_report "$out" arena
expect write_fault_is_write '^KTEST PASS: arena/write_fault_seen_as_write' "$out"
expect_rc exit_status 1
finish
