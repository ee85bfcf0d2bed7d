#!/usr/bin/env bash
# boot_test.sh — the kernel boots from QEMU's multiboot loader, prints its
# banner with the command line and the memory size from the boot memory map,
# answers console commands typed on the serial line, and exits on "halt".
PROG=boot_test
. "$(dirname "$0")/lib.sh"

out=$TMPD/boot.out
QEMU_MEM=192 qemu_run "$out" "node=1 peers=a,b key=v=w" "time" "nosuchcmd" "halt"
expect banner '^Phantom x86_64 kernel' "$out"
expect cmdline 'command line ".*node=1 peers=a,b key=v=w"' "$out"
mib=$(sed -n 's/.*phantom: memory \([0-9]*\) MiB.*/\1/p' "$out")
if [ -n "$mib" ] && [ "$mib" -ge 185 ] && [ "$mib" -le 192 ]; then pass memory_size_192
else fail memory_size_192 "memory reported '${mib}' MiB for -m 192"; fi
expect heap 'heap [1-9][0-9]* MiB' "$out"
expect console_time '^monotonic [0-9]+ ns, wall [0-9]+ s' "$out"
expect console_unknown "unknown command 'nosuchcmd'" "$out"
expect console_halt '^phantom: halting' "$out"
expect_rc exit_status 1

# The memory size follows -m: a second size rules out a hard-coded answer.
out=$TMPD/boot64.out
QEMU_MEM=64 qemu_run "$out" "test=nosuch"
mib=$(sed -n 's/.*phantom: memory \([0-9]*\) MiB.*/\1/p' "$out")
if [ -n "$mib" ] && [ "$mib" -ge 60 ] && [ "$mib" -le 64 ]; then pass memory_size_64
else fail memory_size_64 "memory reported '${mib}' MiB for -m 64"; fi
expect unknown_test_reported 'KTEST FAIL: nosuch: no such test' "$out"
expect_rc unknown_test_status 3
finish
