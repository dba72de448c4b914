#!/bin/sh
# The Debian packages of `make deb` (in DEB_DIR): they are lintian clean, their files work
# from an extracted tree (mipart status on a simulated host, man page, completion, pkg-config,
# Python), and dpkg installs them into a scratch root, `mipart status` runs from there, the unit
# is enabled, and dpkg removes and purges them leaving nothing behind. Nothing touches the real
# system: dpkg --root with its own admindir, maintainer scripts chrootless with DPKG_ROOT
# (debhelper's systemd snippets and deb-systemd-helper honour it), inside a private mount
# namespace with an empty /run when unshare allows (no systemctl can reach a running systemd).
# TAP on stdout.
DEB_DIR=${1:?usage: t-deb.sh DEB_DIR}
DEB_DIR=$(cd "$DEB_DIR" && pwd)
TOP=$(cd "$(dirname "$0")/../.." && pwd)
R1=$(mktemp -d "${TMPDIR:-/tmp}/mipart-deb-x.XXXXXX")
MIPART="$R1/usr/bin/mipart"
export MIPART
. "$TOP/tests/integration/lib.sh"
trap 'rm -rf "$T_TMP" "$R1"; echo "1..$T_COUNT"; [ "$T_FAILED" -eq 0 ]' EXIT

version=$(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
for p in mipart libmipart1 libmipart-dev python3-mipart; do
	[ -f "$DEB_DIR/${p}_${version}_${arch}.deb" ]
	ok $? "${p}_${version}_${arch}.deb was built"
done
if [ -f "$DEB_DIR/lintian.log" ]; then
	is "$(grep -c '^[EW]: ' "$DEB_DIR/lintian.log")" 0 "lintian: no errors or warnings"
fi

# 1. the files, extracted
for d in "$DEB_DIR"/*.deb; do dpkg-deb -x "$d" "$R1"; done
H="$T_TMP/h"
run "$MIPART" sim create "$H" --gpus 2 --compute CPX --memory NPS4
is "$RC" 0 "the packaged mipart creates a simulated host"
run "$MIPART" --root "$H" status --json
is "$RC" 0 "mipart status runs from the package"
is "$(jqo '[.gpus[].partitions | length] | add')" 16 "and sees 2 GPUs x 8 partitions"
is "$(jqo '.gpus[0].compute_partition')" CPX "in CPX"
[ -f "$R1/usr/share/mipart/models.json" ]
ok $? "the catalog is in /usr/share/mipart"
run env MIPART_CATALOG="$R1/usr/share/mipart/models.json" "$MIPART" --root "$H" allocate \
	meta-llama/Llama-3.1-8B-Instruct --partition 0.0 --max-model-len 8192
is "$RC" 0 "the packaged catalog serves allocate"
if command -v man >/dev/null 2>&1; then
	run env MANWIDTH=100 man -l "$R1/usr/share/man/man1/mipart.1.gz"
	like "$OUT" "*mipart - manage the partitions of AMD Instinct GPUs*" "man mipart renders from the package"
	run env MANWIDTH=100 man -l "$R1/usr/share/man/man5/mipart-layout.5.gz"
	like "$OUT" "*partition-configs*" "man 5 mipart-layout renders"
fi
[ -f "$R1/usr/share/bash-completion/completions/mipart" ]
ok $? "bash completion is in /usr/share/bash-completion/completions"
got=$(bash -c '. "$1"; COMP_WORDS=("$2" "--root" "$3" "set" "-g" ""); COMP_CWORD=5; _mipart; printf "%s " "${COMPREPLY[@]}"' \
	sh "$R1/usr/share/bash-completion/completions/mipart" "$MIPART" "$H")
is "$got" "all 0 0000:05:00.0 1 0000:26:00.0 " "and completes GPU selectors with the packaged mipart"
libdir=$(dirname "$(find "$R1" -name 'libmipart.so.1' | head -n 1)")
PKG_CONFIG_PATH="$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$R1" pkg-config --cflags --libs mipart >"$T_TMP/flags"
ok $? "pkg-config finds mipart.pc in libmipart-dev"
# shellcheck disable=SC2046 # the flags are words
cc -o "$T_TMP/list" "$TOP/tests/integration/library-list.c" $(cat "$T_TMP/flags")
ok $? "a program builds against libmipart-dev"
run env LD_LIBRARY_PATH="$libdir" "$T_TMP/list" "$H"
is "$(printf '%s\n' "$OUT" | grep -c '^partition ')" 16 "and lists the host through libmipart1"
run env LD_LIBRARY_PATH="$libdir" PYTHONPATH="$R1/usr/lib/python3/dist-packages" PYTHONDONTWRITEBYTECODE=1 \
	MIPART_ROOT="$H" /usr/bin/python3 -c '
from rocm_partitioner_real import ROCmPartitionerReal
p = ROCmPartitionerReal(gpu_id=0)
print(len(p.get_logical_devices()), round(p.get_logical_devices()[0].memory_gb))'
is "$OUT" "8 24" "python3-mipart: 8 devices of 24 GiB on GPU 0"

# 2. dpkg: install into a scratch root, run, remove, purge
R2="$T_TMP/root"
mkdir -p "$R2/var/lib/dpkg/info" "$R2/var/lib/dpkg/updates" "$R2/etc" "$R2/usr/bin"
: >"$R2/var/lib/dpkg/status"
: >"$R2/var/lib/dpkg/available"
cat >"$T_TMP/dpkg.sh" <<'SH'
#!/bin/sh
# in a private mount namespace when possible: /run empty, so no systemctl reaches systemd
[ "${MIPART_DEB_NS:-}" = 1 ] && mount -t tmpfs tmpfs /run 2>/dev/null
exec dpkg --root="$R2" --admindir="$R2/var/lib/dpkg" --log=/dev/null --force-script-chrootless \
	--force-depends --force-not-root "$@"
SH
chmod +x "$T_TMP/dpkg.sh"
export R2
dpkg_root() {
	if unshare --mount --map-root-user true 2>/dev/null; then
		MIPART_DEB_NS=1 unshare --mount --map-root-user "$T_TMP/dpkg.sh" "$@"
	elif [ ! -d /run/systemd/system ]; then
		"$T_TMP/dpkg.sh" "$@"
	else
		echo "# no mount namespace and systemd is running: not running maintainer scripts here" >&2
		return 77
	fi
}
run dpkg_root -i "$DEB_DIR"/mipart_"$version"_"$arch".deb "$DEB_DIR"/libmipart1_"$version"_"$arch".deb \
	"$DEB_DIR"/libmipart-dev_"$version"_"$arch".deb "$DEB_DIR"/python3-mipart_"$version"_"$arch".deb
if [ "$RC" -eq 77 ]; then
	ok 0 "dpkg --root install # SKIP systemd runs and no mount namespace"
	exit 0
fi
is "$RC" 0 "dpkg --root -i installs the four packages into a scratch root"
[ "$RC" -eq 0 ] || printf '%s\n' "$ERR" | sed 's/^/# /'
run dpkg-query --admindir="$R2/var/lib/dpkg" -W -f='${Package} ${Status}\n'
is "$(printf '%s\n' "$OUT" | grep -c 'install ok installed')" 4 "dpkg records all four as installed"
run "$R2/usr/bin/mipart" --root "$H" status
is "$RC" 0 "mipart status runs from the installed root"
like "$OUT" "*MI300X*CPX*NPS4*" "and shows the simulated GPUs"
[ -L "$R2/etc/systemd/system/multi-user.target.wants/mipart.service" ]
ok $? "mipart.service is enabled (Debian policy for a daemon: on install)"
run dpkg_root -r mipart libmipart1 libmipart-dev python3-mipart
is "$RC" 0 "dpkg --root -r removes them"
run dpkg_root -P mipart libmipart1 libmipart-dev python3-mipart
is "$RC" 0 "dpkg --root -P purges them"
left=$(cd "$R2" && find . \( -type f -o -type l \) ! -path './var/lib/dpkg/*' | sort | tr '\n' ' ')
is "$left" "" "nothing is left outside dpkg's database"
[ ! -e "$R2/etc/systemd/system/multi-user.target.wants/mipart.service" ]
ok $? "the unit's enablement symlink is gone"
