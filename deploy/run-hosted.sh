#!/usr/bin/env bash
# deploy/run-hosted.sh IMAGE — starts the hosted Phantom node on IMAGE with the
# console on this terminal, after saying what it is and how to see persistence.
# PHANTOMD_ARGS adds options (e.g. --no-output-commit, --snapshot-ms 20).
# Every stop request (Ctrl-C, SIGTERM/SIGINT to this script or to make) is
# passed to phantomd as one SIGTERM: a final snapshot, then exit.
set -euo pipefail
. "$(dirname "$0")/supervise.sh"
image=${1:-build/phantom.img}
node=${BUILD:-build}/hosted/phantomd
[ -x "$node" ] || { echo "run: $node is not built (run 'make run-hosted')" >&2; exit 1; }
command -v setsid >/dev/null || { echo "run: setsid is not installed" >&2; exit 1; }
cat <<MSG
== Phantom hosted node, image $image
   The default app (a VM thread, vm/apps/ticker.pasm) prints "tick N" once a
   second; each line appears only once the snapshot holding N has committed.
   Stop it with Ctrl-C (or SIGTERM): it takes a final snapshot and exits
   (Ctrl-C again: kill it at once, like a power cut).
   Then 'make run-hosted' again: the ticks continue where they stopped — also
   after kill -9, from the last committed snapshot. IMAGE=path picks another image.
MSG
# Its own session: the stop request reaches phantomd once, from here.
# shellcheck disable=SC2086
setsid -w "$node" --image "$image" ${PHANTOMD_ARGS:-} <&0 &
pid=$!
stop_node() { kill -TERM "$pid" 2>/dev/null || true; }
cut_node() { kill -KILL "$pid" 2>/dev/null || true; }
rc=0
supervise "$pid" stop_node cut_node || rc=$?
exit "$rc"
