#!/usr/bin/env bash
# make_run_test.sh — `make run` and `make run-hosted` as a user runs them
# (the real make, deps check included, stdin not a terminal) and stopped the
# ways a user stops them: SIGTERM to make alone (make does not pass it on)
# and SIGINT to make's whole process group (Ctrl-C); a second request cuts
# the power at once. Each single stop must be clean: the node commits a final snapshot and powers off (QEMU exits 0),
# no node process is left behind, and the next boot resumes at exactly that
# epoch with the tick right after the last one printed — nothing lost,
# nothing repeated.
PROG=make_run_test
. "$(dirname "$0")/lib.sh"

ticks() { tr -d '\r' <"$1" | sed -n 's/^tick \([0-9]*\)$/\1/p'; }

# wait_for FILE REGEX SECONDS: 0 once a line of FILE matches.
wait_for() {
	local i
	for ((i = 0; i < $3 * 5; i++)); do
		tr -d '\r' <"$1" | grep -qE -- "$2" && return 0
		sleep 0.2
	done
	return 1
}

# start_make OUT GOAL IMAGE: a fresh make (none of this test's make's
# variables), in its own session like a terminal's job, signals at their
# defaults (a background job of a script has SIGINT ignored). Sets MAKE_PID.
start_make() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u PHANTOM_INNER -u PHANTOM_MAKE_PID \
		--default-signal=INT,TERM setsid make --no-print-directory "$2" IMAGE="$3" \
		</dev/null >"$1" 2>&1 &
	MAKE_PID=$!
}

# node_gone PATTERN SECONDS: 0 once no process's command line has PATTERN.
node_gone() {
	local i
	for ((i = 0; i < $2 * 5; i++)); do
		pgrep -f -- "$1" >/dev/null || return 0
		sleep 0.2
	done
	pkill -KILL -f -- "$1"
	return 1
}

# check_stop LABEL OUT DONE-REGEX NODE-PATTERN: the run script reports the
# end within 60 s and no node process is left.
check_stop() {
	if wait_for "$2" "$3" 60; then pass "$1/stopped"
	else fail "$1/stopped" "no line matching '$3' within 60 s of the stop"; fi
	if node_gone "$4" 10; then pass "$1/no_node_left"
	else fail "$1/no_node_left" "a node process still ran after the stop"; fi
}

# --- bare metal in QEMU --------------------------------------------------
img=$TMPD/run.img
out=$TMPD/run1.out
start_make "$out" run "$img"
if wait_for "$out" '^tick 3$' 120; then pass qemu/boots_and_ticks
else fail qemu/boots_and_ticks "no 'tick 3' within 120 s"; fi
kill -TERM "$MAKE_PID"
check_stop qemu/sigterm_to_make "$out" "^== the node has stopped" "file=$img,"
expect qemu/sigterm_to_make/presses_power_button '^== stopping: pressing the power button' "$out"
expect qemu/sigterm_to_make/final_snapshot '^app: committed epoch [0-9]+' "$out"
expect qemu/sigterm_to_make/powered_off '^== the node has stopped \(QEMU exit status 0\)' "$out"
epoch1=$(tr -d '\r' <"$out" | sed -n 's/^app: committed epoch \([0-9]*\)$/\1/p' | tail -n 1)
last1=$(ticks "$out" | tail -n 1)

out=$TMPD/run2.out
start_make "$out" run "$img"
wait_for "$out" '^tick [0-9]+$' 120
sleep 1
kill -INT -- "-$MAKE_PID"                 # Ctrl-C: the whole process group
check_stop qemu/sigint_to_group "$out" "^== the node has stopped" "file=$img,"
expect qemu/sigint_to_group/final_snapshot '^app: committed epoch [0-9]+' "$out"
expect qemu/sigint_to_group/powered_off '^== the node has stopped \(QEMU exit status 0\)' "$out"
if [ -n "$epoch1" ] && tr -d '\r' <"$out" | grep -q "^app: image epoch $epoch1, running the VM"; then
	pass qemu/resumes_at_the_final_snapshot
else fail qemu/resumes_at_the_final_snapshot "did not boot at the stop's epoch '$epoch1'"; fi
first2=$(ticks "$out" | head -n 1)
if [ -n "$last1" ] && [ "$first2" = $((last1 + 1)) ]; then pass qemu/next_tick_follows_last_printed
else fail qemu/next_tick_follows_last_printed "first tick '$first2' after last printed '$last1'"; fi

# A second request while stopping cuts the power at once: two SIGTERMs to
# the run script (the bash process, not make's sh -c wrapper).
out=$TMPD/run3.out
start_make "$out" run "$img"
wait_for "$out" '^tick [0-9]+$' 120
script=$(pgrep -f "^bash deploy/run-qemu.sh $img" | head -n 1)
if [ -n "$script" ]; then
	kill -TERM "$script"
	# The second once the first is being acted on (two at once merge into
	# one pending signal); the kernel looks at its button every 100 ms.
	for _ in $(seq 500); do grep -q '^== stopping' "$out" && break; sleep 0.01; done
	kill -TERM "$script"
else
	fail qemu/second_request/script "no run-qemu.sh process found"; kill -TERM "$MAKE_PID"
fi
check_stop qemu/second_request "$out" "^== the node (has stopped|was cut off)" "file=$img,"
expect qemu/second_request/cuts_the_power '^== the node was cut off' "$out"

# --- hosted ----------------------------------------------------------------
himg=$TMPD/hosted.img
out=$TMPD/hosted1.out
start_make "$out" run-hosted "$himg"
if wait_for "$out" '^tick 2$' 60; then pass hosted/boots_and_ticks
else fail hosted/boots_and_ticks "no 'tick 2' within 60 s"; fi
kill -TERM "$MAKE_PID"
check_stop hosted/sigterm_to_make "$out" "^phantomd: stopped" "--image $himg"
expect hosted/sigterm_to_make/stopped_cleanly '^phantomd: stopped cleanly after a final snapshot' "$out"
hlast=$(ticks "$out" | tail -n 1)
hepoch=$(sed -n 's/^phantomd: stopped cleanly after a final snapshot (epoch \([0-9]*\))$/\1/p' "$out")
out=$TMPD/hosted2.out
start_make "$out" run-hosted "$himg"
wait_for "$out" '^tick [0-9]+$' 60
kill -INT -- "-$MAKE_PID"
check_stop hosted/sigint_to_group "$out" "^phantomd: stopped" "--image $himg"
expect hosted/sigint_to_group/stopped_cleanly '^phantomd: stopped cleanly after a final snapshot' "$out"
if [ -n "$hepoch" ] && grep -q "^phantomd: resumed image .* at epoch $hepoch " "$out"; then
	pass hosted/resumes_at_the_final_snapshot
else fail hosted/resumes_at_the_final_snapshot "did not resume at the stop's epoch '$hepoch'"; fi
hfirst=$(ticks "$out" | head -n 1)
if [ -n "$hlast" ] && [ "$hfirst" = $((hlast + 1)) ]; then pass hosted/next_tick_follows_last_printed
else fail hosted/next_tick_follows_last_printed "first tick '$hfirst' after last printed '$hlast'"; fi
finish
