#!/usr/bin/env bash
# tests/fuzz/run_fuzz.sh — a bounded libFuzzer run of the VM's class-file
# loader and verifier, seeded with the assembled tests/vm samples.
# Usage: run_fuzz.sh FUZZER PHANTOM-ASM SECONDS. Prints PASS/FAIL lines; a
# fuzzer that was not built (no clang, no runtime) is a FAIL.
set -u
fuzz=$1 asm=$2 secs=${3:-20}
name=vm_fuzz
if [ ! -x "$fuzz" ]; then
	echo "FAIL: $name/build: $fuzz was not built (clang with libFuzzer needed):"
	sed 's/^/    | /' "$fuzz.err" 2>/dev/null | head -n 20
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/corpus"
n=0
for f in tests/vm/*.pasm; do
	case $(basename "$f") in bad_*) continue ;; esac
	"$asm" "$f" -o "$tmp/corpus/$(basename "$f" .pasm).pcl" 2>/dev/null && n=$((n + 1))
done
if [ "$n" -eq 0 ]; then
	echo "FAIL: $name/seed: no sample assembled"
	exit 1
fi
echo "PASS: $name/seed ($n samples)"
"$fuzz" -max_total_time="$secs" -runs=2000000 -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix="$tmp/" "$tmp/corpus" >"$tmp/log" 2>&1
rc=$?
runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$tmp/log" | grep -o '[0-9]*$')
if [ "$rc" -eq 0 ] && grep -q 'Done [0-9]* runs' "$tmp/log"; then
	echo "PASS: $name/run ($(grep -o 'Done [0-9]* runs' "$tmp/log" | head -1) in ${secs}s at most)"
else
	echo "FAIL: $name/run: libFuzzer exited $rc ${runs:+after $runs runs}"
	grep -E 'ERROR|SUMMARY|==[0-9]+==|runtime error' "$tmp/log" | head -n 20 | sed 's/^/    | /'
	for a in "$tmp"/crash-* "$tmp"/leak-* "$tmp"/timeout-*; do
		[ -f "$a" ] && mkdir -p build/fuzz && cp "$a" build/fuzz/ && echo "    | input saved: build/fuzz/$(basename "$a")"
	done
	exit 1
fi
