#!/bin/sh
# make deb: build the Debian packages (debian/, dh with the meson buildsystem) from a copy of
# the tree in OUT/src, so that dpkg-buildpackage writes nothing beside the repository, then
# check them with lintian (default level: errors and warnings fail). Leaves in OUT:
# mipart_<version>_<arch>.deb, libmipart1_, libmipart-dev_, python3-mipart_ ..., the .changes,
# .buildinfo, build.log and lintian.log.
set -eu
out=${1:?usage: make-deb.sh OUT}
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
rm -rf "$out/src" "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
mkdir -p "$out/src/mipart-$version"
# the tree as it is now (committed or not), without build directories and ignored files
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) |
		tar -xf - -C "$out/src/mipart-$version"
else
	(cd "$top" && tar --exclude='./build*' --exclude=./.git -cf - .) | tar -xf - -C "$out/src/mipart-$version"
fi
echo "building mipart $version for $arch (log: $out/build.log)"
if ! (cd "$out/src/mipart-$version" && DEB_BUILD_OPTIONS="parallel=2 nocheck noautodbgsym" \
	dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
	tail -n 30 "$out/build.log"
	echo "make deb: dpkg-buildpackage failed (log: $out/build.log)" >&2
	exit 1
fi
mv "$out/src/"*.deb "$out/src/"*.changes "$out/src/"*.buildinfo "$out/"
ls "$out"/*.deb
if command -v lintian >/dev/null 2>&1; then
	if lintian --fail-on error,warning "$out/mipart_${version}_${arch}.changes" >"$out/lintian.log" 2>&1; then
		echo "lintian: clean ($(grep -c . "$out/lintian.log") lines of info/pedantic, log: $out/lintian.log)"
	else
		cat "$out/lintian.log"
		echo "make deb: lintian found errors or warnings" >&2
		exit 1
	fi
else
	echo "make deb: lintian is not installed; the packages were not checked" >&2
fi
