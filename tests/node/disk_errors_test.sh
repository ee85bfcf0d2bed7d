#!/usr/bin/env bash
# tests/node/disk_errors_test.sh — a node started on an image with injected
# disk errors: one byte flipped in each in-use block of a real image in turn.
# Damage the store cannot work around stops the node with a clear error
# naming the block and the failed check, a non-zero exit (never death by a
# signal), and the image file untouched; a damaged superblock falls back to the other one and says so; and
# once the byte is repaired the node resumes exactly where it was.
set -u
node=${PHANTOMD:-${BUILD:-build}/hosted/phantomd}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
pass() { echo "PASS: disk_errors/$1"; }
fail() { echo "FAIL: disk_errors/$1: $2"; failed=1; }
failed=0
[ -x "$node" ] || { echo "FAIL: disk_errors/setup: $node not built"; exit 1; }

img=$dir/good.img
"$node" --image "$img" --create-only --device-size 16M >/dev/null 2>&1 &&
	"$node" --image "$img" --max-ticks 3 --tick-ms 50 >"$dir/run0" 2>&1 ||
	{ echo "FAIL: disk_errors/setup: cannot make an image: $(cat "$dir/run0")"; exit 1; }
last=$(sed -n 's/^tick \([0-9]*\).*/\1/p' "$dir/run0" | tail -1)

flip() {  # flip FILE OFFSET: xor one byte with 0x10
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "\\$(printf '%03o' $((b ^ 16)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

stopped=0 fellback=0 bad=""
# (The shell's own notices, if any, go to a file, not the test log.)
exec 4>&2 2>>"$dir/shell.err"
for blk in $(seq 0 63); do
	# Only blocks holding something (the rest are free space).
	[ -n "$(od -An -tx1 -j $((blk * 4096)) -N 4096 -v "$img" | tr -d ' 0\n')" ] || continue
	cp "$img" "$dir/bad.img"
	flip "$dir/bad.img" $((blk * 4096 + 100))
	sum=$(sha256sum <"$dir/bad.img")
	"$node" --image "$dir/bad.img" --max-ticks 1 --tick-ms 50 >"$dir/out" 2>&1
	rc=$?
	if [ $rc -ge 128 ]; then
		bad="block $blk: the node died of signal $((rc - 128)) instead of stopping"; break
	fi
	if [ $rc -ne 0 ]; then
		stopped=$((stopped + 1))
		if ! grep -qE "block $blk .*(checksum|damaged)|checksum|damaged" "$dir/out"; then
			bad="block $blk: exit $rc without a clear error: $(head -c 300 "$dir/out")"; break
		fi
		if [ "$(sha256sum <"$dir/bad.img")" != "$sum" ]; then
			bad="block $blk: the failed start changed the image"; break
		fi
		# Repair the byte: the node resumes where it stopped.
		flip "$dir/bad.img" $((blk * 4096 + 100))
		"$node" --image "$dir/bad.img" --max-ticks 1 --tick-ms 50 >"$dir/out2" 2>&1
		next=$(sed -n 's/^tick \([0-9]*\).*/\1/p' "$dir/out2" | head -1)
		if [ "$next" != $((last + 1)) ]; then
			bad="block $blk: after repair the first tick is '$next', want $((last + 1))"; break
		fi
	elif grep -q 'opened epoch .* because superblock' "$dir/out"; then
		fellback=$((fellback + 1))
	fi
done
exec 2>&4 4>&-
if [ -n "$bad" ]; then fail damaged_blocks_stop_cleanly "$bad"
elif [ $stopped -lt 2 ]; then fail damaged_blocks_stop_cleanly "only $stopped damaged blocks were noticed"
else pass "damaged_blocks_stop_cleanly ($stopped blocks stopped the node, image intact)"; fi
if [ $fellback -ge 1 ]; then pass "damaged_superblock_falls_back ($fellback)"
else fail damaged_superblock_falls_back "no superblock fallback was reported"; fi
exit $failed
