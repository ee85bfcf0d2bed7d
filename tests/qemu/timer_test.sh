#!/usr/bin/env bash
# timer_test.sh — test=timer: PIT interrupts advance the tick count, the
# monotonic clock agrees with it and never goes back, and the RTC wall clock
# matches the host's (passed as now=).
PROG=timer_test
. "$(dirname "$0")/lib.sh"

out=$TMPD/timer.out
qemu_run "$out" "test=timer now=$(date -u +%s)"
ktest_report "$out" timer
expect wall_checked '^KTEST PASS: timer/wall_clock_matches_host' "$out"
expect_rc exit_status 1
finish
