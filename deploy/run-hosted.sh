#!/usr/bin/env bash
# deploy/run-hosted.sh IMAGE — starts the hosted Phantom node on IMAGE with the
# console on this terminal, after saying what it is and how to see persistence.
# PHANTOMD_ARGS adds options (e.g. --no-output-commit, --snapshot-ms 20).
set -euo pipefail
image=${1:-build/phantom.img}
node=${BUILD:-build}/hosted/phantomd
[ -x "$node" ] || { echo "run: $node is not built (run 'make run-hosted')" >&2; exit 1; }
cat <<MSG
== Phantom hosted node, image $image
   The default app (a VM thread, vm/apps/ticker.pasm) prints "tick N" once a
   second; each line appears only once the snapshot holding N has committed.
   Stop it with Ctrl-C (or SIGTERM): it takes a final snapshot and exits.
   Then 'make run-hosted' again: the ticks continue where they stopped — also
   after kill -9, from the last committed snapshot. IMAGE=path picks another image.
MSG
# shellcheck disable=SC2086
exec "$node" --image "$image" ${PHANTOMD_ARGS:-}
