#!/usr/bin/env bash
# threads_test.sh — test=threads: preemptive kernel threads, mutexes,
# condition variables (with deadlines), sleep, join and slot reuse.
PROG=threads_test
. "$(dirname "$0")/lib.sh"

out=$TMPD/threads.out
qemu_run "$out" "test=threads"
ktest_report "$out" threads
expect preemption '^KTEST PASS: threads/preempts_busy_main' "$out"
expect_rc exit_status 1
finish
