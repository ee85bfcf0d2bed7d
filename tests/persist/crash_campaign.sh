#!/usr/bin/env bash
# tests/persist/crash_campaign.sh [KILLS] — kill -9 the persist mutator at
# random moments (mid-epoch, mid-snapshot, mid-commit) and check after every
# kill that the image holds exactly one whole step's state (the child verifies
# by replay), that the state never moves backwards, and that no step reported
# committed is lost.
set -u
child=${BUILD:-build}/tests/persist/crash_child
kills=${1:-200}
dir=$(mktemp -d)
keep=${BUILD:-build}/tests/persist/failed
trap 'rm -rf "$dir"' EXIT
# On failure the image and the last two runs' output are kept for analysis.
save() { mkdir -p "$keep" && cp "$img" "$dir"/out* "$keep"/ 2>/dev/null; echo "    kept in $keep"; }
img=$dir/crash.img
[ -x "$child" ] || { echo "FAIL: crash_campaign/setup: $child not built"; exit 1; }
RANDOM=$$
prev=0 committed=0 cepoch=0 bad="" progressed=0
for i in $(seq 1 "$kills"); do
	[ -f "$dir/out" ] && mv "$dir/out" "$dir/out.prev"
	"$child" "$img" >"$dir/out" 2>&1 &
	pid=$!
	# 20..220 ms: from before the first snapshot to deep in a run.
	sleep "0.$(printf '%03d' $((RANDOM % 200 + 20)))"
	kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	# A kill -9 tears no write (the page cache keeps every finished one),
	# so any store notice (a fallback, a damaged predecessor) is a bug too.
	if grep -qE '^(ERROR|MISMATCH|persist:|pst_snap:)' "$dir/out"; then
		bad="kill $i: $(grep -E '^(ERROR|MISMATCH|persist:|pst_snap:)' "$dir/out" | head -1)"; break
	fi
	state=$(sed -n 's/^state \([0-9]*\).*/\1/p' "$dir/out")
	if [ -n "$state" ]; then
		if [ "$state" -lt "$prev" ]; then bad="kill $i: state $state < previous $prev"; break; fi
		if [ "$state" -lt "$committed" ]; then
			bad="kill $i: state $state (store at epoch $(sed -n 's/^state [0-9]* epoch //p' "$dir/out")) lost committed step $committed (epoch $cepoch)"
			break
		fi
		[ "$state" -gt "$prev" ] && progressed=$((progressed + 1))
		prev=$state
	fi
	c=$(sed -n 's/^committed \([0-9]*\).*/\1/p' "$dir/out" | tail -1)
	[ -n "$c" ] && committed=$c && cepoch=$(sed -n 's/^committed [0-9]* epoch //p' "$dir/out" | tail -1)
done
# Final check without killing.
"$child" "$img" verify >"$dir/out" 2>&1
final=$(sed -n 's/^state \([0-9]*\).*/\1/p' "$dir/out")
if [ -z "$bad" ] && { [ -z "$final" ] || [ "$final" -lt "$committed" ]; }; then
	bad="final verify: $(head -2 "$dir/out")"
fi
if [ -n "$bad" ]; then
	echo "FAIL: crash_campaign/kill9_${kills}_times: $bad"; save; exit 1
fi
if [ "$progressed" -lt $((kills / 4)) ]; then
	echo "FAIL: crash_campaign/kill9_${kills}_times: state advanced in only $progressed of $kills runs"; exit 1
fi
echo "PASS: crash_campaign/kill9_${kills}_times (final state $final, last committed $committed, advanced in $progressed runs)"
