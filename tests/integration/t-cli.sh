#!/bin/sh
# The command line: help and version, usage errors (exit 2, 'usage:' on stderr), MIPART_ROOT,
# --json that always parses, warnings on stderr only (../shared/STYLE.md, CLI).

. "$(dirname "$0")/lib.sh"
: "${FIXTURES:=$(dirname "$0")/../fixtures}"

h="$T_TMP/h"
mipart sim create "$h" --gpus 2 2>/dev/null

# help and version
run mipart --help
is "$RC" 0 "--help exits 0"
like "$OUT" "usage: mipart *" "--help prints the usage on stdout"
is "$ERR" "" "--help prints nothing on stderr"
run mipart -h
is "$RC" 0 "-h exits 0"
run mipart --version
is "$RC" 0 "--version exits 0"
like "$OUT" "mipart [0-9]*.[0-9]*" "--version prints 'mipart X.Y...'"
run mipart help
is "$RC" 0 "'help' exits 0"
like "$OUT" "usage: mipart *" "'help' prints the usage"
run mipart help nope
is "$RC" 2 "'help' for an unknown verb exits 2"

# every verb in the generated verb list has --help, and so does every sim verb
# names: the first word of the indented lines of a verb list
names() {
	awk '/^  [a-z]/ { print $1 }'
}
# has_all LIST WORD...: prints the words missing from LIST
has_all() {
	l=" $(echo $1) "
	shift
	for w in "$@"; do
		case "$l" in *" $w "*) ;; *) printf '%s ' "$w" ;; esac
	done
}
verbs=$(mipart --help | sed -n '/^verbs:/,/^$/p' | names)
is "$(has_all "$verbs" status list sim help)" "" "the verb list names status, list, sim, help"
for v in $verbs; do
	run mipart "$v" --help
	is "$RC" 0 "'$v --help' exits 0"
	like "$OUT" "usage: mipart $v*" "'$v --help' prints its usage"
	run mipart help "$v"
	like "$OUT" "usage: mipart $v*" "'help $v' prints its usage"
done
sim_verbs=$(mipart sim bogus 2>&1 | sed -n '/^sim verbs:/,/^$/p' | names)
is "$(has_all "$sim_verbs" create hold release fault write reload)" "" \
	"the sim verb list names create, hold, release, fault, write, reload"
for v in $sim_verbs; do
	run mipart sim "$v" --help
	is "$RC" 0 "'sim $v --help' exits 0"
	is "$ERR" "" "'sim $v --help' prints nothing on stderr"
	# was a bug: main.c cli_run_verb looks for --help in all of argv before dispatching, so
	# 'sim create --help' prints the usage of 'sim', not of 'sim create'
	like "$OUT" "usage: mipart sim $v*" "'sim $v --help' prints the usage of 'sim $v'"
done

# usage errors: exit 2, 'usage:' on stderr, nothing on stdout
# usage_error DESCRIPTION ARGS...
usage_error() {
	what=$1
	shift
	run mipart "$@"
	is "$RC" 2 "$what: exits 2"
	like "$ERR" "*usage: mipart*" "$what: 'usage:' on stderr"
	is "$OUT" "" "$what: nothing on stdout"
}
# exit2 DESCRIPTION ARGS...: exit 2, an error and 'usage:' on stderr
exit2() {
	what=$1
	shift
	run mipart "$@"
	is "$RC" 2 "$what: exits 2"
	like "$ERR" "error: *" "$what: an error on stderr"
	is "$OUT" "" "$what: nothing on stdout"
	like "$ERR" "*usage: mipart*" "$what: 'usage:' on stderr"
}
usage_error "no verb"
usage_error "unknown global option" --bogus status
usage_error "unknown option of status" --root "$h" status --bogus
usage_error "unknown option of list" --root "$h" list --table
usage_error "too many args for status" --root "$h" status extra
usage_error "too many args for list" --root "$h" list a b
usage_error "too many args for sim reload" sim reload "$h" extra
usage_error "too many args for sim create" sim create "$T_TMP/c1" "$T_TMP/c2"
usage_error "too many args for sim release" sim release "$h" --pid 1 extra
usage_error "sim hold without --pid" sim hold "$h" --gpu 0 --comm x
usage_error "sim hold without --comm" sim hold "$h" --gpu 0 --pid 7
usage_error "sim release without --pid" sim release "$h"
usage_error "sim create without a directory" sim create --gpus 2
usage_error "sim create --compute XPX" sim create "$T_TMP/c3" --compute XPX
usage_error "sim create --memory NPS5" sim create "$T_TMP/c3" --memory NPS5
usage_error "sim create --bogus" sim create "$T_TMP/c3" --bogus
usage_error "sim fault without --on" sim fault "$h" --error EIO
usage_error "sim fault --on nowhere" sim fault "$h" --on nowhere --error EIO
usage_error "sim fault --error EWHAT" sim fault "$h" --on reload --error EWHAT
usage_error "sim fault with neither --error nor --delay" sim fault "$h" --on reload
usage_error "sim write with too few args" sim write "$h" 0 current_compute_partition
# BUG: a bad number (cli_parse_uint in main.c) and an unknown verb (cli_run_verb) exit 2 with
# an error but print no 'usage:' line
exit2 "sim create --gpus 17" sim create "$T_TMP/c4" --gpus 17
exit2 "sim create --gpus 0" sim create "$T_TMP/c4" --gpus 0
exit2 "sim create --gpus abc" sim create "$T_TMP/c4" --gpus abc
exit2 "sim create --gpus -1" sim create "$T_TMP/c4" --gpus -1
exit2 "sim hold --pid 0" sim hold "$h" --gpu 0 --pid 0 --comm x
exit2 "sim fault --times x" sim fault "$h" --on reload --error EIO --times x
exit2 "unknown sim verb" sim bogus "$h"
exit2 "unknown verb" frobnicate
if [ -e "$T_TMP/c3" ] || [ -e "$T_TMP/c4" ]; then
	ok 1 "a usage error creates no host"
else
	ok 0 "a usage error creates no host"
fi

# MIPART_ROOT works like --root; --root wins over it
run mipart --root "$h" list --json
want=$OUT
run env MIPART_ROOT="$h" "$MIPART" list --json
is "$RC" 0 "MIPART_ROOT: list --json exits 0"
is "$OUT" "$want" "MIPART_ROOT: same output as --root"
run env MIPART_ROOT="$T_TMP/nowhere" "$MIPART" --root "$h" list --json
is "$RC" 0 "--root wins over MIPART_ROOT"
is "$OUT" "$want" "--root wins over MIPART_ROOT: same output"
run env MIPART_ROOT="$T_TMP/nowhere" "$MIPART" status
is "$RC" 1 "MIPART_ROOT pointing nowhere: status exits 1"
mipart sim write "$h" 0 current_compute_partition DPX
run env MIPART_ROOT="$h" "$MIPART" sim reload
is "$RC" 0 "MIPART_ROOT: sim reload without a directory uses the root"
run mipart --root "$h" list --json
is "$(jqo '[.gpus[].compute_partition] | join(",")')" SPX,SPX \
	"the reload went to the root (GPU 0 back to SPX from DPX)"
run env MIPART_ROOT="$h" "$MIPART" sim fault --on reload --error EBUSY --times 1
is "$RC" 0 "MIPART_ROOT: sim fault without a directory uses the root"
run mipart --root "$h" sim reload
is "$RC" 1 "--root: sim reload without a directory uses the root (and meets the fault)"
# was a bug: verb-sim.c sim_write: with three arguments it calls sim_dir(), which takes the
# GPU argument as the directory, so 'sim write GPU ATTR VALUE' under --root/MIPART_ROOT
# is a usage error although the verb allows 3 arguments and the usage says DIR is optional
run env MIPART_ROOT="$h" "$MIPART" sim write 0 current_compute_partition DPX
is "$RC" 0 "MIPART_ROOT: sim write without a directory uses the root"
run mipart --root "$h" sim write 1 current_compute_partition CPX
is "$RC" 0 "--root: sim write without a directory uses the root"
run mipart --root "$h" list --json
is "$(jqo '[.gpus[].compute_partition] | join(",")')" DPX,CPX "the writes went to the root"
run sh -c 'cd "$1" && "$2" --root h/ list --json' sh "$T_TMP" "$MIPART"
is "$(jqo '.gpus | length')" 2 "a relative --root with a trailing slash works"

# --json always parses: stdout is one JSON document with gpus and warnings, or nothing
mkdir -p "$T_TMP/other/sys/bus/pci/devices/0000:c1:00.0"
printf '0x1a03\n' >"$T_TMP/other/sys/bus/pci/devices/0000:c1:00.0/vendor"
printf '0x030000\n' >"$T_TMP/other/sys/bus/pci/devices/0000:c1:00.0/class"
mkdir "$T_TMP/empty"
mipart sim create "$T_TMP/drvout" --gpus 2 --compute CPX 2>/dev/null
mipart sim fault "$T_TMP/drvout" --on reload --error EIO --times 1
mipart sim reload "$T_TMP/drvout" 2>/dev/null
for r in "$h" "$T_TMP/drvout" "$T_TMP/other" "$T_TMP/empty" "$FIXTURES"/*/; do
	[ -d "$r" ] || continue
	name=${r%/}
	name=${name##*/}
	for v in status list; do
		run mipart --root "$r" "$v" --json
		if [ "$RC" -gt 1 ]; then
			ok 1 "$name: $v --json exits 0 or 1, not $RC"
		elif [ -z "$OUT" ] && [ "$RC" -eq 1 ]; then
			ok 0 "$name: $v --json: no output on failure"
		else
			printf '%s' "$OUT" | jq -e '(.gpus | type) == "array" and (.warnings | type) == "array"' >/dev/null
			ok $? "$name: $v --json parses, with gpus and warnings arrays (exit $RC)"
		fi
	done
done
run mipart --root "$T_TMP/other" list --json
is "$RC" 1 "no AMD GPU: list --json exits 1"
is "$(jqo '.gpus | length')" 0 "no AMD GPU: the JSON says no GPUs"
run mipart --root "$T_TMP/drvout" list --json
is "$(jqo '[.gpus[].driver_bound] | join(",")')" false,false "driver out: JSON shows the GPUs unbound"

# warnings go to stderr, never stdout; --quiet silences them but the JSON keeps them
m="$FIXTURES/malformed"
run mipart --root "$m" status
is "$RC" 0 "malformed: status exits 0"
like "$ERR" "*warning: *current_compute_partition*" "malformed: status warns on stderr"
unlike "$OUT" "*warning*" "malformed: no warning on stdout (table)"
run mipart --root "$m" list --json
like "$ERR" "*warning: *available_compute_partition*" "malformed: list --json warns on stderr"
printf '%s' "$OUT" | jq -e . >/dev/null
ok $? "malformed: stdout is only the JSON document"
run mipart --quiet --root "$m" list --json
is "$RC" 0 "--quiet: exits 0"
is "$ERR" "" "--quiet: nothing on stderr"
is "$(jqo '.warnings | length')" 2 "--quiet: the JSON still carries the warnings"
run mipart --quiet --root "$T_TMP/empty" status
like "$ERR" "error: *" "--quiet does not silence errors"

# sim verbs print progress on stderr only, and --quiet silences it
run mipart sim create "$T_TMP/s1" --gpus 1
is "$OUT" "" "sim create prints nothing on stdout"
like "$ERR" "*created*" "sim create says what it did on stderr"
run mipart --quiet sim create "$T_TMP/s2" --gpus 1
is "$ERR" "" "sim create --quiet prints nothing on stderr"
run mipart sim create "$T_TMP/s1" --gpus 1
is "$RC" 1 "sim create into a non-empty directory exits 1"
