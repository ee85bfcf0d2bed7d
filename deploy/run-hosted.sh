#!/usr/bin/env bash
# deploy/run-hosted.sh IMAGE — starts the hosted Phantom node on IMAGE with the
# console on this terminal, after saying what it is and how to see persistence.
set -euo pipefail
image=${1:-build/phantom.img}
node=${BUILD:-build}/hosted/phantomd
[ -x "$node" ] || { echo "run: $node is not built (run 'make run')" >&2; exit 1; }
cat <<MSG
== Phantom hosted node, image $image
   Stop it with Ctrl-C (or SIGTERM): it takes a final snapshot and exits.
   Then 'make run' again: the ticks continue where they stopped — also after kill -9,
   from the last committed snapshot. IMAGE=path picks another image.
MSG
exec "$node" --image "$image"
