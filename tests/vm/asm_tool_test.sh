#!/usr/bin/env bash
# tests/vm/asm_tool_test.sh — the phantom-asm tool end to end: assembles a
# sample, disassembles it, and reports a broken file as "file:line: ..." on
# stderr with exit status 1. Usage: asm_tool_test.sh PATH/TO/phantom-asm
set -u
asm=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { echo "PASS: asm_tool_test/$1"; }
ko() { echo "FAIL: asm_tool_test/$1: $2"; }

if "$asm" tests/vm/fib.pasm -o "$tmp/fib.pcl" && [ -s "$tmp/fib.pcl" ] &&
   [ "$(head -c 4 "$tmp/fib.pcl")" = "PHCL" ]; then ok assemble; else ko assemble "no class file"; fi

if "$asm" -d "$tmp/fib.pcl" >"$tmp/list" && grep -q 'invokestatic Main.fib 1 1' "$tmp/list"; then
	ok disassemble
else
	ko disassemble "listing lacks the call"
fi

"$asm" tests/vm/bad_operand.pasm -o "$tmp/bad.pcl" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 1 ] && [ "$(cat "$tmp/err")" = "$(head -n1 tests/vm/bad_operand.err)" ] &&
   [ ! -e "$tmp/bad.pcl" ]; then
	ok error_names_file_and_line
else
	ko error_names_file_and_line "status $rc, stderr: $(cat "$tmp/err")"
fi

printf 'XXXX' >"$tmp/junk.pcl"
if ! "$asm" -d "$tmp/junk.pcl" >/dev/null 2>"$tmp/err" && grep -q 'bad magic' "$tmp/err"; then
	ok disassembler_refuses_junk
else
	ko disassembler_refuses_junk "$(cat "$tmp/err")"
fi
