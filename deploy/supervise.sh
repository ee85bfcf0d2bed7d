# deploy/supervise.sh — sourced by run-qemu.sh and run-hosted.sh: waits for
# the node (a child process) and turns every way of asking `make run` to stop
# into one clean stop request: Ctrl-C, SIGINT/SIGTERM/SIGHUP to this script
# or to its process group, and a signal to make itself (make dies without
# passing it on, so the make that started us — PHANTOM_MAKE_PID, set by the
# top Makefile — is watched). A second request, or a node that has not
# stopped STOP_TIMEOUT seconds (default 60) after the first, cuts it off,
# like a power cut. Sourced, not run.

# supervise PID STOP_FN CUT_FN: returns the node's exit status; sets
# SUPERVISE_CUT=1 when the node was cut off.
SUPERVISE_CUT=0
supervise() {
	local pid=$1 stop_fn=$2 cut_fn=$3 watch=${PHANTOM_MAKE_PID:-}
	local requests=0 state=running waited=0
	local limit=$(( ${STOP_TIMEOUT:-60} * 5 ))
	trap 'requests=$((requests + 1))' INT TERM HUP
	while kill -0 "$pid" 2>/dev/null; do
		if [ -n "$watch" ] && ! kill -0 "$watch" 2>/dev/null; then
			watch=                  # make was signalled and has gone
			[ "$requests" -eq 0 ] && requests=1
		fi
		if [ "$state" = running ] && [ "$requests" -ge 1 ]; then
			state=stopping
			"$stop_fn"
		fi
		if [ "$state" = stopping ]; then
			waited=$((waited + 1))
			if [ "$requests" -ge 2 ]; then
				echo "== a second stop request: cutting the node off (the next boot resumes from the last committed snapshot)" >&2
				state=cut SUPERVISE_CUT=1
				"$cut_fn"
			elif [ "$waited" -gt "$limit" ]; then
				echo "== the node did not stop in ${STOP_TIMEOUT:-60} s: cutting it off (the next boot resumes from the last committed snapshot)" >&2
				state=cut SUPERVISE_CUT=1
				"$cut_fn"
			fi
		fi
		sleep 0.2 &
		wait $! 2>/dev/null || true     # a trapped signal ends the wait early
	done
	trap - INT TERM HUP
	local rc=0
	wait "$pid" 2>/dev/null || rc=$?
	return "$rc"
}
