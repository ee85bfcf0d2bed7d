#!/usr/bin/env bash
# tests/node/phantomd_test.sh — the hosted node end to end: kill -9 at random
# moments and restart (every "tick N" it printed is committed, so the count
# resumes past it, never before it); a clean stop; bad options and a foreign
# image give a clear error, a non-zero exit and an untouched file.
# Usage: phantomd_test.sh [KILLS]  (PHANTOMD=path to the binary)
set -u
node=${PHANTOMD:-${BUILD:-build}/hosted/phantomd}
kills=${1:-30}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
img=$dir/node.img
pass() { echo "PASS: phantomd/$1"; }
fail() { echo "FAIL: phantomd/$1: $2"; failed=1; }
failed=0

[ -x "$node" ] || { echo "FAIL: phantomd/setup: $node not built"; exit 1; }

# 1. kill -9 campaign.
last=0 bad=""
RANDOM=$$
for i in $(seq 1 "$kills"); do
	"$node" --image "$img" --tick-ms 20 --snapshot-ms 10 >"$dir/out" 2>"$dir/err" &
	pid=$!
	sleep "0.$((RANDOM % 5 + 2))$((RANDOM % 10))"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	if grep -q 'cannot' "$dir/err"; then bad="run $i: $(head -1 "$dir/err")"; break; fi
	first=$(sed -n 's/^tick \([0-9]*\) .*/\1/p' "$dir/out" | head -1)
	final=$(sed -n 's/^tick \([0-9]*\) .*/\1/p' "$dir/out" | tail -1)
	[ -z "$first" ] && continue            # killed before its first tick
	if [ "$first" -le "$last" ] || [ "$first" -gt $((last + 2)) ]; then
		bad="run $i: first tick $first after last printed $last"; break
	fi
	# Within a run the ticks count up by one.
	if ! sed -n 's/^tick \([0-9]*\) .*/\1/p' "$dir/out" |
	     awk -v f="$first" 'NR>1 && $1 != prev+1 {exit 1} {prev=$1}'; then
		bad="run $i: ticks not consecutive"; break
	fi
	last=$final
done
if [ -n "$bad" ]; then fail kill9_resumes_after_last_output "$bad"
elif [ "$last" -lt 5 ]; then fail kill9_resumes_after_last_output "only $last ticks in $kills runs"
else pass kill9_resumes_after_last_output; fi

# 2. SIGTERM: final snapshot, exit 0, and the next boot continues.
"$node" --image "$img" --tick-ms 20 >"$dir/out" 2>&1 &
pid=$!
sleep 0.5
kill -TERM "$pid"; wait "$pid"; rc=$?
final=$(sed -n 's/^tick \([0-9]*\) .*/\1/p' "$dir/out" | tail -1)
"$node" --image "$img" --tick-ms 20 --max-ticks 1 >"$dir/out2" 2>&1
next=$(sed -n 's/^tick \([0-9]*\) .*/\1/p' "$dir/out2")
if [ "$rc" -eq 0 ] && grep -q 'stopped cleanly' "$dir/out" && [ -n "$final" ] &&
   [ "$next" = $((final + 1)) ]; then pass sigterm_final_snapshot
else fail sigterm_final_snapshot "rc=$rc final=$final next=$next"; fi

# 3. Bad options: exit 1 with a message.
"$node" --image "$img" --snapshot-ms 500 2>"$dir/err"; rc=$?
"$node" 2>>"$dir/err"; rc2=$?
"$node" --image "$img" --arena-size 12x 2>>"$dir/err"; rc3=$?
if [ $rc -eq 1 ] && [ $rc2 -eq 1 ] && [ $rc3 -eq 1 ] && grep -q 'snapshot-ms' "$dir/err" &&
   grep -q 'required' "$dir/err" && grep -q "bad value '12x'" "$dir/err"; then pass bad_options
else fail bad_options "rc=$rc,$rc2,$rc3: $(cat "$dir/err")"; fi

# 4. A foreign file: exit 2, clear error, file unchanged.
head -c 1048576 /dev/urandom >"$dir/foreign"
sum=$(sha256sum <"$dir/foreign")
"$node" --image "$dir/foreign" --max-ticks 1 >"$dir/out" 2>"$dir/err"; rc=$?
if [ $rc -eq 2 ] && grep -q 'cannot open image' "$dir/err" && [ "$(sha256sum <"$dir/foreign")" = "$sum" ]; then
	pass foreign_image_untouched
else fail foreign_image_untouched "rc=$rc: $(cat "$dir/err")"; fi

# 5. --help documents every option.
help=$("$node" --help)
ok=1
for opt in --image --arena-size --device-size --snapshot-ms --tick-ms --max-ticks --help; do
	grep -q -- "$opt" <<<"$help" || ok=0
done
[ $ok = 1 ] && pass help_lists_options || fail help_lists_options "missing an option"
exit $failed
