#!/usr/bin/env bash
# Builds the Debian package from this tree: build/deb/freezr_<version>_<arch>.deb, checked with
# lintian (an error fails the build; the warnings kept are listed in debian/freezr.lintian-overrides
# with their reasons).
#   scripts/make-deb.sh [OUTDIR]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$(realpath -m "${1:-$here/build/deb}")
version=$(dpkg-parsechangelog -l "$here/debian/changelog" -S Version)
stage="$out/freezr-$version"
rm -rf "$stage"
mkdir -p "$stage"
# The sources as git sees them (tracked and new files, not what .gitignore leaves out), so no
# build directory of this tree is packaged.
(cd "$here" && git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done |
  xargs -0 cp --parents -t "$stage")
cd "$stage"
DEB_BUILD_OPTIONS="parallel=${JOBS:-2} nocheck" dpkg-buildpackage -us -uc -b >"$out/build.log" 2>&1 || {
  tail -50 "$out/build.log" >&2
  exit 1
}
deb="$out/freezr_${version}_$(dpkg-architecture -qDEB_HOST_ARCH).deb"
test -f "$deb"
lintian --fail-on error --suppress-tags-from-file /dev/null "$deb" | tee "$out/lintian.log"
echo "built $deb"
