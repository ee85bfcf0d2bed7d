#!/usr/bin/env bash
# persist_test.sh — test=persist: persist/'s arena (the hosted node's code)
# on the bare-metal page-fault path: lazy page-in, dirty tracking, the epoch
# instant and copy-on-write.
PROG=persist_test
. "$(dirname "$0")/lib.sh"

out=$TMPD/persist.out
qemu_run "$out" "test=persist"
ktest_report "$out" persist
expect cow '^KTEST PASS: persist/cow_on_pending_write' "$out"
expect_rc exit_status 1
finish
