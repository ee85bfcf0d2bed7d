#!/usr/bin/env bash
# tests/node/phantomd_test.sh — the hosted node end to end, running the VM's
# default app (vm/apps/ticker.pasm): kill -9 at random moments and restart
# (output commit: every "tick N" it printed is committed, so the count resumes
# past it, never before it); a clean stop; the output-commit switch; bad
# options, a foreign image and an image of an incompatible version give a
# clear error, a non-zero exit and an untouched file.
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
	first=$(sed -n 's/^tick \([0-9]*\)$/\1/p' "$dir/out" | head -1)
	final=$(sed -n 's/^tick \([0-9]*\)$/\1/p' "$dir/out" | tail -1)
	[ -z "$first" ] && continue            # killed before its first tick
	# Past the last printed; a few more may have committed unprinted
	# (the kill fell between a commit and its release).
	if [ "$first" -le "$last" ] || [ "$first" -gt $((last + 4)) ]; then
		bad="run $i: first tick $first after last printed $last"; break
	fi
	# Within a run the ticks count up by one.
	if ! sed -n 's/^tick \([0-9]*\)$/\1/p' "$dir/out" |
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
final=$(sed -n 's/^tick \([0-9]*\)$/\1/p' "$dir/out" | tail -1)
"$node" --image "$img" --tick-ms 20 --max-ticks 1 >"$dir/out2" 2>&1
next=$(sed -n 's/^tick \([0-9]*\)$/\1/p' "$dir/out2" | head -1)
last2=$(sed -n 's/^tick \([0-9]*\)$/\1/p' "$dir/out2" | tail -1)
if [ "$rc" -eq 0 ] && grep -q 'stopped cleanly' "$dir/out" && [ -n "$final" ] &&
   [ "$next" = $((final + 1)) ]; then pass sigterm_final_snapshot
else fail sigterm_final_snapshot "rc=$rc final=$final next=$next"; fi

# 3. Output commit off: ticks are written at once and still persist.
"$node" --image "$img" --no-output-commit --max-ticks 3 >"$dir/out" 2>&1; rc=$?
n=$(sed -n 's/^tick \([0-9]*\)$/\1/p' "$dir/out" | head -1)
if [ $rc -eq 0 ] && grep -q 'output commit off' "$dir/out" && [ "$n" = $((last2 + 1)) ]; then
	pass no_output_commit_runs
else fail no_output_commit_runs "rc=$rc first=$n after $last2: $(head -3 "$dir/out")"; fi

# 4. Bad options: exit 1 with a message.
"$node" --image "$img" --snapshot-ms 500 2>"$dir/err"; rc=$?
"$node" 2>>"$dir/err"; rc2=$?
"$node" --image "$img" --arena-size 12x 2>>"$dir/err"; rc3=$?
if [ $rc -eq 1 ] && [ $rc2 -eq 1 ] && [ $rc3 -eq 1 ] && grep -q 'snapshot-ms' "$dir/err" &&
   grep -q 'required' "$dir/err" && grep -q "bad value '12x'" "$dir/err"; then pass bad_options
else fail bad_options "rc=$rc,$rc2,$rc3: $(cat "$dir/err")"; fi

# 5. A foreign file: exit 2, clear error, file unchanged.
head -c 1048576 /dev/urandom >"$dir/foreign"
sum=$(sha256sum <"$dir/foreign")
"$node" --image "$dir/foreign" --max-ticks 1 >"$dir/out" 2>"$dir/err"; rc=$?
if [ $rc -eq 2 ] && grep -q 'cannot open image' "$dir/err" && [ "$(sha256sum <"$dir/foreign")" = "$sum" ]; then
	pass foreign_image_untouched
else fail foreign_image_untouched "rc=$rc: $(cat "$dir/err")"; fi

# 6. An image of another format version (both superblocks say version 99,
# checksums redone): refused with a clear error, the file unchanged.
cp "$img" "$dir/old.img"
python3 - "$dir/old.img" <<'PY'
import hashlib, struct, sys
with open(sys.argv[1], "r+b") as f:
    for slot in (0, 1):
        f.seek(slot * 4096); b = bytearray(f.read(4096))
        b[8:12] = struct.pack("<I", 99)
        b[4064:4096] = hashlib.blake2b(bytes(b[:4064]), digest_size=32).digest()
        f.seek(slot * 4096); f.write(b)
PY
sum=$(sha256sum <"$dir/old.img")
"$node" --image "$dir/old.img" --max-ticks 1 >"$dir/out" 2>"$dir/err"; rc=$?
if [ $rc -eq 2 ] && grep -q 'version 99' "$dir/err" && [ "$(sha256sum <"$dir/old.img")" = "$sum" ]; then
	pass incompatible_version_untouched
else fail incompatible_version_untouched "rc=$rc: $(cat "$dir/err")"; fi

# 7. --create-only: a committed first boot, no ticks; the next boot resumes.
"$node" --image "$dir/new.img" --create-only --tick-ms 20 >"$dir/out" 2>&1; rc=$?
"$node" --image "$dir/new.img" --max-ticks 1 >"$dir/out2" 2>&1; rc2=$?
if [ $rc -eq 0 ] && ! grep -q '^tick' "$dir/out" && grep -q 'resumed' "$dir/out2" &&
   [ "$(sed -n 's/^tick \([0-9]*\)$/\1/p' "$dir/out2" | head -1)" = 1 ]; then
	pass create_only
else fail create_only "rc=$rc,$rc2: $(cat "$dir/out" "$dir/out2" | head -4)"; fi

# 8. --help documents every option.
help=$("$node" --help)
ok=1
for opt in --image --arena-size --device-size --snapshot-ms --no-output-commit \
	   --tick-ms --max-ticks --create-only --help; do
	grep -q -- "$opt" <<<"$help" || ok=0
done
[ $ok = 1 ] && pass help_lists_options || fail help_lists_options "missing an option"
exit $failed
