#!/usr/bin/env bash
# tests/persist/crash_campaign.sh [KILLS] — kill -9 the persist mutator at
# random moments (mid-epoch, mid-snapshot, mid-commit) and check after every
# kill that the image holds exactly one whole step's state (the child verifies
# by replay), that the state never moves backwards, and that no step reported
# committed is lost. Every run must end by our kill (status 137): the child
# never exits by itself but on an error. The child keeps the phase each kill
# hits (E mid-epoch, S mid-snapshot, C mid-commit) in $img.phase.
set -u
child=${BUILD:-build}/tests/persist/crash_child
kills=${1:-200}
dir=$(mktemp -d)
keep=${BUILD:-build}/tests/persist/failed
trap 'rm -rf "$dir"' EXIT
# On failure the image and the last two runs' output are kept for analysis.
save() { mkdir -p "$keep" && cp "$img" "$img.phase" "$dir"/out* "$keep"/ 2>/dev/null; echo "    kept in $keep"; }
img=$dir/crash.img
[ -x "$child" ] || { echo "FAIL: crash_campaign/setup: $child not built"; exit 1; }
RANDOM=$$
# A kill -9 tears no write (the page cache keeps every finished one), so
# any store notice (a fallback, a damaged predecessor) is a bug too, and so
# is a fatal fault ("phantom: fatal ...").
notice='^(ERROR|MISMATCH|persist:|pst_snap:)|phantom:'
last() { [ -s "$dir/out" ] && tail -3 "$dir/out" | tr '\n' '|' || echo "(no output)"; }
prev=0 committed=0 cepoch=0 bad="" progressed=0 early=0 pE=0 pS=0 pC=0
for i in $(seq 1 "$kills"); do
	[ -f "$dir/out" ] && mv "$dir/out" "$dir/out.prev"
	rm -f "$img.phase"
	"$child" "$img" >"$dir/out" 2>&1 &
	pid=$!
	# 20..220 ms: from before the first snapshot to deep in a run.
	sleep "0.$(printf '%03d' $((RANDOM % 200 + 20)))"
	kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; st=$?
	# The child runs until killed: any other end (a crash, an exit, even
	# one just before our kill) is a failure.
	if [ "$st" -ne 137 ]; then
		bad="kill $i: child ended by itself with status $st: $(last)"; break
	fi
	if grep -qE "$notice" "$dir/out"; then
		bad="kill $i: $(grep -E "$notice" "$dir/out" | head -1)"; break
	fi
	state=$(sed -n 's/^state \([0-9]*\).*/\1/p' "$dir/out")
	# Killed while opening or verifying: fine, it was our kill.
	[ -z "$state" ] && early=$((early + 1))
	if [ -n "$state" ]; then
		case $(head -c1 "$img.phase" 2>/dev/null) in
		E) pE=$((pE + 1)) ;;
		S) pS=$((pS + 1)) ;;
		C) pC=$((pC + 1)) ;;
		*) bad="kill $i: no phase in $img.phase: $(last)"; break ;;
		esac
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
# Final check without killing: verify-only exits 0 after its state line.
if [ -z "$bad" ]; then
	[ -f "$dir/out" ] && mv "$dir/out" "$dir/out.prev"
	"$child" "$img" verify >"$dir/out" 2>&1; st=$?
	final=$(sed -n 's/^state \([0-9]*\).*/\1/p' "$dir/out")
	if [ "$st" -ne 0 ] || grep -qE "$notice" "$dir/out" ||
	   [ -z "$final" ] || [ "$final" -lt "$committed" ]; then
		bad="final verify: status $st, last committed $committed: $(last)"
	fi
fi
if [ -n "$bad" ]; then
	echo "FAIL: crash_campaign/kill9_${kills}_times: $bad"; save; exit 1
fi
if [ "$progressed" -lt $((kills / 4)) ]; then
	echo "FAIL: crash_campaign/kill9_${kills}_times: state advanced in only $progressed of $kills runs"; exit 1
fi
# How the kills spread over the phases depends on the disk: on ext4 about
# 10 % E, 25 % S, 65 % C; on tmpfs, where a flush costs nothing, C comes
# down to 1 or 2 in 100. So the counts are printed, and only the long
# campaign (1000 kills or more) must hit all three.
if [ "$kills" -ge 1000 ] && { [ "$pE" -eq 0 ] || [ "$pS" -eq 0 ] || [ "$pC" -eq 0 ]; }; then
	echo "FAIL: crash_campaign/kill9_${kills}_times: a phase was never hit (mid-epoch $pE, mid-snapshot $pS, mid-commit $pC)"; exit 1
fi
echo "PASS: crash_campaign/kill9_${kills}_times (final state $final, last committed $committed, advanced in $progressed runs; kills mid-epoch $pE, mid-snapshot $pS, mid-commit $pC, before the state line $early)"
