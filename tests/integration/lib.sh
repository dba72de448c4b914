# Shared helpers for the integration tests: TAP output, a scratch directory removed on exit,
# and assertions over the JSON mipart prints (jq). Source it; $MIPART is the binary under test.
set -u
: "${MIPART:?MIPART must name the mipart binary}"
T_COUNT=0
T_FAILED=0
# simulated hosts are thousands of small files: tmpfs makes them fast where /tmp is a disk
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
	TMPDIR=/dev/shm
	export TMPDIR
fi
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/mipart-test.XXXXXX")
# Background processes a test starts (T_PIDS="$T_PIDS $!") are stopped on exit with
# T_STOP_SIGNAL (TERM unless the test sets another) and reaped, before the scratch directory goes.
T_PIDS=""
T_STOP_SIGNAL=TERM
# t_exit: the EXIT handler; a test with more to stop runs that first, then t_exit
t_exit() {
	for p in $T_PIDS; do
		kill -"$T_STOP_SIGNAL" "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$T_TMP"
	echo "1..$T_COUNT"
	[ "$T_FAILED" -eq 0 ]
}
trap t_exit EXIT

ok() { # ok STATUS DESCRIPTION: STATUS 0 passes
	T_COUNT=$((T_COUNT + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $T_COUNT - $2"
	else
		echo "not ok $T_COUNT - $2"
		T_FAILED=$((T_FAILED + 1))
	fi
}

is() { # is GOT WANT DESCRIPTION
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		echo "#   got:  '$1'"
		echo "#   want: '$2'"
	fi
}

# run CMD...: runs it, keeps stdout in $OUT, stderr in $ERR, exit code in $RC
run() {
	"$@" >"$T_TMP/out" 2>"$T_TMP/err"
	RC=$?
	OUT=$(cat "$T_TMP/out")
	ERR=$(cat "$T_TMP/err")
}

# jqo FILTER: apply a jq filter to the last $OUT
jqo() {
	printf '%s' "$OUT" | jq -r "$1"
}

mipart() {
	"$MIPART" "$@"
}

# wait_until CMD...: run CMD every 50 ms until it succeeds. The cap (10 min) only ends a test
# whose program is broken; nothing asserts on how long it took, and the assertion after the
# wait says what was expected.
wait_until() {
	_w=0
	while ! "$@" && [ $_w -lt 12000 ]; do sleep 0.05; _w=$((_w + 1)); done
}

# wait_step ROOT STEP: until the change running on host ROOT has journalled a step starting with
# STEP (polled every 0.1 s, at most 10 s); 1 if it never did. Tests use it to kill -9 a change
# at that step, or to act while it is there.
wait_step() {
	_i=0
	while [ $_i -lt 100 ]; do
		_s=$("$MIPART" --root "$1" history --json 2>/dev/null | jq -r '.changes[0] | select(.state == "running") | .step')
		case "$_s" in "$2"*) return 0 ;; esac
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

like() { # like GOT GLOB DESCRIPTION: GOT matches the shell pattern GLOB
	# shellcheck disable=SC2254 # GLOB is a pattern on purpose
	case "$1" in
	$2) ok 0 "$3" ;;
	*)
		ok 1 "$3"
		echo "#   got:  '$1'"
		echo "#   want match: '$2'"
		;;
	esac
}

unlike() { # unlike GOT GLOB DESCRIPTION: GOT does not match the shell pattern GLOB
	# shellcheck disable=SC2254 # GLOB is a pattern on purpose
	case "$1" in
	$2)
		ok 1 "$3"
		echo "#   got:  '$1'"
		echo "#   want no match: '$2'"
		;;
	*) ok 0 "$3" ;;
	esac
}


# hexof STRING: the bytes of STRING as hex digits (for SQL X'' literals)
hexof() {
	printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'
}

# legacy_alloc_name HOST OLD NEW: rename an allocation in the database directly, as a mipart
# that accepted any name would have left it (new names with control characters are refused)
legacy_alloc_name() {
	sqlite3 "$1/var/lib/mipart/mipart.db" \
		"UPDATE allocations SET name = CAST(X'$(hexof "$3")' AS TEXT) WHERE name = '$2'"
}
