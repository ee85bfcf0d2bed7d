#!/usr/bin/env bash
# tests/thirdparty/deps_test.sh — deploy/deps.sh's promises: with everything
# present it calls neither apt-get nor apt-cache (a failing stand-in is first
# in PATH) and needs no network (run in an empty network namespace); a .dsc whose sha256 differs from the
# lock stops it with a clear error (offline: the files are already in dl/).
# Usage: deps_test.sh BUILD_DIR
set -u
B=${1:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/bin"
for t in apt-get apt-cache apt; do
	printf '#!/bin/sh\necho "called $0 $*" >>%s/calls\nexit 1\n' "$tmp" >"$tmp/bin/$t"
	chmod +x "$tmp/bin/$t"
done

start=$(date +%s%N)
out=$(PATH="$tmp/bin:$PATH" BUILD="$B" deploy/deps.sh 2>&1)
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
if [ "$rc" -eq 0 ] && [ ! -e "$tmp/calls" ] && grep -q 'all packages and third-party sources present' <<<"$out"; then
	echo "PASS: deps_test/fast_path_no_apt"
else
	echo "FAIL: deps_test/fast_path_no_apt: rc=$rc calls: $(cat "$tmp/calls" 2>/dev/null) out: $out"
fi
# Offline: in a network namespace with no interfaces, the fast path still
# succeeds (speed is reported, not asserted: see make bench).
ns=(unshare -n)
[ "$(id -u)" -ne 0 ] && ns=(unshare -rn)
out=$("${ns[@]}" env BUILD="$B" deploy/deps.sh 2>&1)
rc=$?
if [ "$rc" -eq 0 ] && grep -q 'all packages and third-party sources present' <<<"$out"; then
	echo "PASS: deps_test/fast_path_offline (first run took ${ms} ms)"
else
	echo "FAIL: deps_test/fast_path_offline: rc=$rc (cannot run without the network, or unshare failed): $out"
fi

# A lock whose zstd sha256 is wrong; the download is already in dl/.
mkdir -p "$tmp/build/third_party/dl"
cp "$B"/third_party/dl/libzstd_* "$tmp/build/third_party/dl/"
grep '^zstd ' deploy/third_party.lock | sed -E 's/ [0-9a-f]{64} / 0000000000000000000000000000000000000000000000000000000000000000 /' >"$tmp/bad.lock"
out=$(BUILD="$tmp/build" THIRD_PARTY_LOCK="$tmp/bad.lock" deploy/deps.sh 2>&1)
rc=$?
if [ "$rc" -ne 0 ] && grep -q 'sha256 mismatch' <<<"$out" && [ ! -e "$tmp/build/third_party/zstd" ]; then
	echo "PASS: deps_test/dsc_sha256_mismatch_fails"
else
	echo "FAIL: deps_test/dsc_sha256_mismatch_fails: rc=$rc out: $out"
fi
