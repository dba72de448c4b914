#!/bin/sh
# libmipart as a product: `meson install` into a scratch DESTDIR, then a program compiled with
# `pkg-config --cflags --libs mipart` against that tree lists a simulated host; the shared
# library exports exactly the public API (every symbol mipart_* and declared in
# include/mipart/); headers, pkg-config file, soname and the rest of the install are in place.
# Needs $BUILD_ROOT (the build directory), $SOURCE_ROOT and $CC; $SANITIZE mirrors b_sanitize.
. "$(dirname "$0")/lib.sh"
: "${BUILD_ROOT:?}" "${SOURCE_ROOT:?}"
CC=${CC:-cc}

D="$T_TMP/destdir"
run meson install -C "$BUILD_ROOT" --no-rebuild --quiet --destdir "$D"
is "$RC" 0 "meson install --destdir succeeds"
[ "$RC" -eq 0 ] || echo "$ERR" | sed 's/^/# /'

pc=$(find "$D" -name mipart.pc | head -n 1)
[ -n "$pc" ]
ok $? "mipart.pc is installed"
so=$(find "$D" -name 'libmipart.so.1' | head -n 1)
[ -n "$so" ]
ok $? "libmipart.so.1 is installed"
run objdump -p "$so"
like "$OUT" "*SONAME*libmipart.so.1*" "its soname is libmipart.so.1"

# pkg-config against the scratch tree: the sysroot prefixes -I and -L with DESTDIR
PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR="$D" pkg-config --cflags --libs mipart >"$T_TMP/flags"
ok $? "pkg-config --cflags --libs mipart"
flags=$(cat "$T_TMP/flags")
san=
[ -n "${SANITIZE:-}" ] && [ "$SANITIZE" != none ] && san="-fsanitize=$SANITIZE"
# shellcheck disable=SC2086 # the flags are words
$CC -std=gnu17 -Wall -Werror $san -o "$T_TMP/library-list" "$SOURCE_ROOT/tests/integration/library-list.c" $flags 2>"$T_TMP/cc.err"
ok $? "a program outside the tree compiles and links with those flags"
sed 's/^/# /' "$T_TMP/cc.err"

H="$T_TMP/h"
mipart sim create "$H" --gpus 2 --compute CPX --memory NPS4 >/dev/null 2>&1
run env LD_LIBRARY_PATH="$(dirname "$so")" "$T_TMP/library-list" "$H"
is "$RC" 0 "it runs against the installed libmipart.so.1"
is "$(printf '%s\n' "$OUT" | grep -c '^gpu ')" 2 "and lists the 2 GPUs of the simulated host"
is "$(printf '%s\n' "$OUT" | grep -c '^partition ')" 16 "and their 16 partitions (CPX)"
like "$(printf '%s\n' "$OUT" | grep '^gpu 0')" "gpu 0 * MI300X CPX NPS4 8" "GPU 0 is an MI300X in CPX/NPS4 with 8 partitions"
mem=$(printf '%s\n' "$OUT" | awk '$1 == "partition" && $3 == "0.0" { print $4 }')
# 192 GiB / 8 partitions, less what the simulated driver reserves: about 24 GiB, never 48
[ -n "$mem" ] && [ "$mem" -gt $((22 * 1073741824)) ] && [ "$mem" -le $((24 * 1073741824)) ]
ok $? "partition 0.0 has about 24 GiB ($mem bytes)"
run env LD_LIBRARY_PATH="$(dirname "$so")" "$T_TMP/library-list" "$T_TMP/missing"
is "$RC" 1 "a host that is not there fails"
like "$ERR" "error: cannot read '*missing': *" "with the library's message"

# exactly the public API is exported
nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVW]$/ { sub(/@.*/, "", $3); print $3 }' | sort >"$T_TMP/syms"
[ -s "$T_TMP/syms" ]
ok $? "the library exports symbols"
bad=$(grep -v '^mipart_' "$T_TMP/syms" | tr '\n' ' ')
is "$bad" "" "every exported symbol is named mipart_*"
undeclared=
for s in $(cat "$T_TMP/syms"); do
	grep -qw "$s" "$SOURCE_ROOT"/include/mipart/*.h || undeclared="$undeclared $s"
done
is "$undeclared" "" "every exported symbol is declared in include/mipart/"
nm -D --defined-only "$so" | grep -q 'util_read_file'
is $? 1 "internal functions (util_read_file) are not exported"

# the rest of `meson install`: the tool, catalog, man pages, completion, units, Python module
for f in bin/mipart share/mipart/models.json share/man/man1/mipart.1 share/man/man5/mipart-layout.5 \
	share/bash-completion/completions/mipart include/mipart/topology.h; do
	[ -n "$(find "$D" -path "*/$f" | head -n 1)" ]
	ok $? "installed: $f"
done
for u in "$SOURCE_ROOT"/deploy/*.service "$SOURCE_ROOT"/deploy/*.timer "$SOURCE_ROOT"/deploy/*.socket; do
	[ -e "$u" ] || continue
	[ -n "$(find "$D" -path "*/systemd/system/$(basename "$u")" | head -n 1)" ]
	ok $? "installed: the systemd unit $(basename "$u") of deploy/"
done
if command -v man >/dev/null 2>&1; then
	page=$(find "$D" -path '*/man1/mipart.1' | head -n 1)
	run env MANWIDTH=100 man -l "$page"
	like "$OUT" "*mipart - manage the partitions of AMD Instinct GPUs*" "man mipart renders from the installed tree"
fi
pyinit=$(find "$D" -path '*/mipart/__init__.py' | head -n 1)
if [ -n "$pyinit" ] && { [ -z "${SANITIZE:-}" ] || [ "$SANITIZE" = none ]; }; then
	pydir=$(dirname "$(dirname "$pyinit")")
	run env PYTHONPATH="$pydir" PYTHONDONTWRITEBYTECODE=1 LD_LIBRARY_PATH="$(dirname "$so")" MIPART_ROOT="$H" \
		/usr/bin/python3 -c 'import mipart, rocm_partitioner_real; print(len(mipart.topology().partitions))'
	is "$OUT" 16 "the installed Python module reads the simulated host"
fi
