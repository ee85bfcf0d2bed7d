#!/usr/bin/env bash
# deploy/deps.sh — installs what the build needs and fetches the third-party
# sources the kernel builds freestanding. Idempotent: when everything is present
# it does no network access and only reads stamps and one dpkg-query.
# Versions are pinned in deploy/third_party.lock (see deploy/README.md).
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
TP="$BUILD/third_party"
LOCK=${THIRD_PARTY_LOCK:-deploy/third_party.lock} # override: tests of deps.sh

# Debian packages the build, the tests and QEMU runs use.
PACKAGES=(build-essential gcc make binutils dpkg-dev xz-utils
	qemu-system-x86 ipxe-qemu ipxe libsodium-dev libzstd-dev zstd lua5.4
	clang patch)

# The deb-src entries this script adds, one file per suite; trixie is
# deb-src only, so installed binaries never come from it.
SRC_LIST_DIR=/etc/apt/sources.list.d
DEB_MIRROR=http://deb.debian.org/debian

say() { echo "deps: $*"; }
die() { echo "deps: ERROR: $*" >&2; exit 1; }

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || die "not root and no sudo: cannot install packages"
	SUDO=sudo
fi

# Our fixes to a library's source, applied after extraction, in name order:
# deploy/patches/<dir>/*.patch (see deploy/README.md). Their checksum joins
# the library's stamp line, so a changed patch re-extracts the library.
PATCHES=deploy/patches
patches_of() { compgen -G "$PATCHES/$1/*.patch" | sort || true; }
patches_sum() {
	local files
	files=$(patches_of "$1")
	[ -n "$files" ] || return 0
	# shellcheck disable=SC2086
	echo " patches $(cat $files | sha256sum | cut -c1-16)"
}

# ---- read the lock: one entry per library -------------------------------
LIB_DIRS=() LIB_PKGS=() LIB_VERS=() LIB_SUITES=() LIB_SHAS=() LIB_MODES=() LIB_LINES=()
[ -r "$LOCK" ] || die "missing $LOCK"
while read -r dir pkg ver suite sha mode rest; do
	case "$dir" in ''|'#'*) continue ;; esac
	[ -n "$mode" ] && [ -z "$rest" ] || die "$LOCK: malformed line for '$dir'"
	LIB_DIRS+=("$dir") LIB_PKGS+=("$pkg") LIB_VERS+=("$ver")
	LIB_SUITES+=("$suite") LIB_SHAS+=("$sha") LIB_MODES+=("$mode")
	LIB_LINES+=("$dir $pkg $ver $suite $sha $mode$(patches_sum "$dir")")
done <"$LOCK"

# A library is present when its stamp's first line is its current lock line.
# A fallback version (second line) is reported on every run until pinned.
stamp_ok() {
	local i=$1 first= second= stamp="$TP/.stamp-${LIB_DIRS[$i]}"
	[ -d "$TP/${LIB_DIRS[$i]}" ] || return 1
	[ -r "$stamp" ] || return 1
	{ read -r first; read -r second; } <"$stamp" || true
	[ "$first" = "${LIB_LINES[$i]}" ] || return 1
	second=${second#fetched }
	second=${second%% *}
	[ "$second" = "${LIB_VERS[$i]}" ] ||
		echo "deps: WARNING: using ${LIB_PKGS[$i]} $second, not the pinned ${LIB_VERS[$i]} (see $LOCK)"
	return 0
}

# ---- Debian packages ------------------------------------------------------
missing_packages() {
	local status
	status=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${PACKAGES[@]}" 2>/dev/null || true)
	for p in "${PACKAGES[@]}"; do
		grep -q "^$p ii" <<<"$status" || echo "$p"
	done
}

APT_UPDATED=0
apt_update() {
	[ "$APT_UPDATED" -eq 1 ] && return 0
	say "apt-get update"
	$SUDO apt-get update -qq >"$TP/.apt-update.log" 2>&1 ||
		{ cat "$TP/.apt-update.log" >&2; die "apt-get update failed"; }
	APT_UPDATED=1
}

mkdir -p "$TP"
mapfile -t MISSING < <(missing_packages)
if [ "${#MISSING[@]}" -gt 0 ]; then
	apt_update
	say "installing ${MISSING[*]}"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
		--no-install-recommends "${MISSING[@]}" >"$TP/.apt-install.log" 2>&1 ||
		{ tail -n 30 "$TP/.apt-install.log" >&2; die "apt-get install failed"; }
fi

# ---- third-party sources --------------------------------------------------
TODO=()
for i in "${!LIB_DIRS[@]}"; do
	stamp_ok "$i" || TODO+=("$i")
done
if [ "${#TODO[@]}" -eq 0 ]; then
	[ "${#MISSING[@]}" -eq 0 ] && say "all packages and third-party sources present"
	exit 0
fi

# True when some apt source (one-line or deb822) has deb-src for $1.
have_deb_src() {
	local suite=$1 f
	for f in /etc/apt/sources.list "$SRC_LIST_DIR"/*.list; do
		[ -r "$f" ] && grep -Eq "^[[:space:]]*deb-src[[:space:]].*[[:space:]]$suite([[:space:]]|$)" "$f" && return 0
	done
	for f in "$SRC_LIST_DIR"/*.sources; do
		[ -r "$f" ] || continue
		# Stanzas are separated by blank lines; match Types and Suites in one.
		awk -v s="$suite" 'BEGIN { RS = ""; found = 0 }
			{ t = 0; u = 0; off = 0
			  n = split($0, L, "\n")
			  for (i = 1; i <= n; i++) {
				if (L[i] ~ /^Types:.*deb-src/) t = 1
				if (L[i] ~ /^Suites:/ && (" " L[i] " ") ~ (" " s " ")) u = 1
				if (L[i] ~ /^Enabled:[[:space:]]*no/) off = 1
			  }
			  if (t && u && !off) found = 1 }
			END { exit !found }' "$f" && return 0
	done
	return 1
}

add_deb_src() {
	local suite=$1 suites=$1 file="$SRC_LIST_DIR/phantom-src-$1.sources"
	[ "$suite" = bookworm ] && suites="bookworm bookworm-updates"
	say "adding deb-src for $suites ($file)"
	$SUDO tee "$file" >/dev/null <<-EOF
	# Added by Phantom deploy/deps.sh: Debian source packages for the kernel's
	# freestanding third-party builds. deb-src only: no binary comes from here.
	Types: deb-src
	URIs: $DEB_MIRROR
	Suites: $suites
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	APT_UPDATED=0
}

need_update=0
for i in "${TODO[@]}"; do
	s=${LIB_SUITES[$i]}
	if ! have_deb_src "$s"; then
		add_deb_src "$s"
		need_update=1
	elif ! ls /var/lib/apt/lists/*_dists_"${s}"_*_source_Sources* >/dev/null 2>&1; then
		need_update=1
	fi
done
[ "$need_update" -eq 1 ] && apt_update

DL="$TP/dl"
mkdir -p "$DL"
apt_source() { # pkg-spec: download only, into $DL
	(cd "$DL" && apt-get -o APT::Sandbox::User=root source --download-only -qq "$1") \
		>"$TP/.apt-source.log" 2>&1
}

for i in "${TODO[@]}"; do
	dir=${LIB_DIRS[$i]} pkg=${LIB_PKGS[$i]} ver=${LIB_VERS[$i]}
	suite=${LIB_SUITES[$i]} sha=${LIB_SHAS[$i]} mode=${LIB_MODES[$i]}
	say "fetching $pkg $ver ($suite)"
	got=$ver
	if ! apt_source "$pkg=$ver"; then
		# The pinned revision is gone: take what the suite serves now.
		apt_update
		apt_source "$pkg=$ver" || {
			apt_source "$pkg/$suite" ||
				{ cat "$TP/.apt-source.log" >&2; die "apt-get source $pkg failed"; }
			got=$(sed -n 's/^Version: //p' "$(ls -t "$DL/${pkg}_"*.dsc | head -n 1)")
			echo "deps: WARNING: $pkg $ver is no longer on the mirror; using $got from $suite." \
			     "Pin it in $LOCK once tested."
		}
	fi
	# Debian file names drop the epoch.
	dsc="$DL/${pkg}_${got#*:}.dsc"
	[ -r "$dsc" ] || die "$pkg: expected $dsc after download"
	actual=$(sha256sum "$dsc" | cut -d' ' -f1)
	if [ "$got" = "$ver" ] && [ "$actual" != "$sha" ]; then
		die "$pkg $ver: .dsc sha256 mismatch: lock says $sha, mirror gave $actual"
	fi
	[ "$got" != "$ver" ] && echo "deps: WARNING: $pkg $got .dsc sha256 is $actual (unpinned)"

	rm -rf "${TP:?}/$dir" "$TP/$dir.tmp"
	xopt=()
	[ "$mode" = pristine ] && xopt=(--skip-patches)
	dpkg-source -x "${xopt[@]}" "$dsc" "$TP/$dir.tmp" >"$TP/.dpkg-source.log" 2>&1 ||
		{ cat "$TP/.dpkg-source.log" >&2; die "dpkg-source -x $dsc failed"; }
	for p in $(patches_of "$dir"); do
		patch -s -p1 -d "$TP/$dir.tmp" <"$p" ||
			die "$p does not apply to $pkg $got"
		say "applied $p"
	done
	mv "$TP/$dir.tmp" "$TP/$dir"
	rm -f "$TP/${pkg}_"*.orig.tar.* # dpkg-source's copy; dl/ keeps the original
	printf '%s\nfetched %s sha256 %s\n' "${LIB_LINES[$i]}" "$got" "$actual" >"$TP/.stamp-$dir"
	say "extracted $pkg $got to $TP/$dir${xopt:+ (pristine, no Debian patches)}"
done
say "done"
