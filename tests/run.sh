#!/usr/bin/env bash
# tests/run.sh — runs every test command given as an argument, each under a
# time limit, and counts the "PASS:"/"FAIL:" lines they print. A command that
# exits non-zero without reporting a failure (a crash, a missing tool) counts
# as one failure of its own. Ends with the line "N passed, N failed".
set -u
limit=${TEST_TIMEOUT:-600}
logdir=${TEST_LOGDIR:-build/tests/logs}
mkdir -p "$logdir"
passed=0 failed=0
for cmd in "$@"; do
	name=$(basename "${cmd%% *}")
	log="$logdir/$name.log"
	start=$(date +%s%N)
	timeout --kill-after=10 "$limit" bash -c "$cmd" >"$log" 2>&1
	rc=$?
	p=$(grep -c '^PASS: ' "$log")
	f=$(grep -c '^FAIL: ' "$log")
	ms=$((($(date +%s%N) - start) / 1000000))
	grep -E '^(PASS|FAIL): ' "$log"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL: $name: exited with status $rc without reporting a failure (log: $log)"
		tail -n 20 "$log" | sed 's/^/    | /'
		f=1
	elif [ "$f" -gt 0 ]; then
		echo "    (log: $log)"
	fi
	if [ "$rc" -eq 0 ] && [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL: $name: ran no test"
		f=1
	fi
	echo "--- $name: $p passed, $f failed (${ms} ms)"
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
