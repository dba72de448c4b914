#!/bin/sh
# SPDX-License-Identifier: MIT
#
# bench/run.sh BUILD_DIR: the `list` benchmark (bench/README.md).
#
# Makes a simulated 8 x MI300X host in CPX mode (64 partitions) in a temporary directory and
# times `mipart --root DIR list --json >/dev/null` against bench/floor, which opens and reads
# the same files in one process and does nothing else. Both run N times (default 200) in
# alternating blocks in the same run, so both see the same machine. Prints median and p90 per
# run of each, the ratio of the medians, mipart's peak RSS, and whether the targets hold
# (ratio <= 1.5, peak RSS < 8 MiB); with valgrind, the instruction counts of one run of each;
# with strace, whether both read the same files and links.
#
# Prints figures only: exits 0 whatever the figures are, 1 only when something could not run.
# Environment: N (runs of each, default 200), BLOCK (runs per block, default 10), WARMUP
# (untimed runs of each first, default 20).
set -eu

die() {
	echo "bench/run.sh: $*" >&2
	exit 1
}

[ $# -eq 1 ] || { echo "usage: bench/run.sh BUILD_DIR" >&2; exit 2; }
build=$1
bench=$(cd "$(dirname "$0")" && pwd)
mipart=$build/src/cli/mipart
floor=$build/bench/floor
peak=$build/bench/peak
N=${N:-200}
BLOCK=${BLOCK:-10}
WARMUP=${WARMUP:-20}
for x in "$mipart" "$floor" "$peak"; do
	[ -x "$x" ] || die "'$x' is not built; run 'ninja -C $build' first"
done
case $N$BLOCK$WARMUP in *[!0-9]*) die "N, BLOCK and WARMUP must be whole numbers" ;; esac
if [ "$N" -eq 0 ] || [ "$BLOCK" -eq 0 ]; then
	die "N and BLOCK must be at least 1"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mipart-bench.XXXXXX") || die "cannot make a temporary directory"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP PIPE
host=$tmp/host

"$mipart" --quiet sim create "$host" --compute CPX >/dev/null ||
	die "cannot create a simulated host with '$mipart sim create'"
"$mipart" --root "$host" list --json >"$tmp/list.json" || die "'mipart list --json' failed"
gpus=$(grep -c '"bdf":' "$tmp/list.json" || true)
parts=$(grep -c '"kfd_node":' "$tmp/list.json" || true)
files=$("$floor" "$host") || die "'$floor' failed"

echo "bench/list: mipart list --json vs floor on a simulated host"
echo "  host          $gpus GPUs, $parts partitions (MI300X, CPX); floor reads $files files and links"
echo "  runs          $N of each, alternating blocks of $BLOCK, after $WARMUP warm-up runs of each"

# warm up: page cache, dentries, the dynamic loader's files
if [ "$WARMUP" -gt 0 ]; then
	"$peak" -n "$WARMUP" -- "$mipart" --root "$host" list --json >/dev/null || die "mipart failed"
	"$peak" -n "$WARMUP" -- "$floor" "$host" >/dev/null || die "floor failed"
fi

: >"$tmp/mipart.txt"
: >"$tmp/floor.txt"
: >"$tmp/start.txt"
mkdir "$tmp/empty"
done_runs=0
block=0
while [ "$done_runs" -lt "$N" ]; do
	k=$BLOCK
	[ $((N - done_runs)) -lt "$k" ] && k=$((N - done_runs))
	# alternate which one goes first, so neither always runs on a machine just woken up
	if [ $((block % 2)) -eq 0 ]; then
		"$peak" -n "$k" -- "$mipart" --root "$host" list --json >>"$tmp/mipart.txt" || die "mipart failed"
		"$peak" -n "$k" -- "$floor" "$host" >>"$tmp/floor.txt" || die "floor failed"
	else
		"$peak" -n "$k" -- "$floor" "$host" >>"$tmp/floor.txt" || die "floor failed"
		"$peak" -n "$k" -- "$mipart" --root "$host" list --json >>"$tmp/mipart.txt" || die "mipart failed"
	fi
	# start-up only: the floor on an empty root (exec, libc, three failed opens)
	"$peak" -n "$k" -- "$floor" "$tmp/empty" >>"$tmp/start.txt" || die "floor failed"
	done_runs=$((done_runs + k))
	block=$((block + 1))
done

# "median p90 max_rss_kib" of a file of "wall_ns rss_kib" lines; times in microseconds
stats() {
	sort -n "$1" | awk '
		{ t[NR] = $1; if ($2 > rss) rss = $2 }
		END {
			m = NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
			p = int(NR * 0.9 + 0.999999); if (p < 1) p = 1
			printf "%.1f %.1f %d\n", m / 1000, t[p] / 1000, rss
		}'
}
read -r m_med m_p90 m_rss <<EOF
$(stats "$tmp/mipart.txt")
EOF
read -r f_med f_p90 f_rss <<EOF
$(stats "$tmp/floor.txt")
EOF
read -r s_med s_p90 _ <<EOF
$(stats "$tmp/start.txt")
EOF

verdict() {
	if [ "$1" -eq 1 ]; then echo "met"; else echo "NOT met"; fi
}
ratio=$(awk -v m="$m_med" -v f="$f_med" 'BEGIN { printf "%.2f", m / f }')
ratio_ok=$(awk -v r="$ratio" 'BEGIN { print (r <= 1.5) }')
rss_ok=$(awk -v k="$m_rss" 'BEGIN { print (k < 8 * 1024) }')

echo
printf '  %-22s %12s %12s %14s\n' "" "median (us)" "p90 (us)" "peak RSS (KiB)"
printf '  %-22s %12s %12s %14s\n' "mipart list --json" "$m_med" "$m_p90" "$m_rss"
printf '  %-22s %12s %12s %14s\n' "floor" "$f_med" "$f_p90" "$f_rss"
printf '  %-22s %12s %12s\n' "start-up only" "$s_med" "$s_p90"
echo
echo "  ratio of medians      ${ratio}x   target <= 1.5x: $(verdict "$ratio_ok")"
awk -v m="$m_med" -v f="$f_med" -v s="$s_med" 'BEGIN {
	printf "  beyond start-up       mipart %.0f us, floor %.0f us: %.2fx (floor start-up taken from both; not the target)\n",
		m - s, f - s, (f > s ? (m - s) / (f - s) : 0) }'
echo "  mipart peak RSS       $m_rss KiB = $(awk -v k="$m_rss" 'BEGIN { printf "%.2f", k / 1024 }') MiB" \
	"  target < 8 MiB: $(verdict "$rss_ok")"

# Instruction counts are repeatable where wall time is not. "in main" leaves out the dynamic
# loader and libc start-up (callgrind --toggle-collect=main).
if command -v valgrind >/dev/null 2>&1; then
	irs() { # irs NAME [--toggle-collect=main] -- COMMAND...: Ir of one run
		name=$1
		shift
		opt=
		if [ "$1" != "--" ]; then
			opt=$1
			shift
		fi
		shift
		valgrind --tool=callgrind ${opt:+"$opt"} --callgrind-out-file="$tmp/cg.$name" "$@" \
			>/dev/null 2>"$tmp/cg.$name.log" || return 1
		sed -n 's/^summary: *//p' "$tmp/cg.$name"
	}
	if m_ir=$(irs m -- "$mipart" --root "$host" list --json) &&
		m_main=$(irs mm --toggle-collect=main -- "$mipart" --root "$host" list --json) &&
		f_ir=$(irs f -- "$floor" "$host") &&
		f_main=$(irs fm --toggle-collect=main -- "$floor" "$host"); then
		echo
		echo "  instructions (callgrind, one run)      whole process        in main()"
		printf '  %-36s %16s %16s\n' "mipart list --json" "$m_ir" "$m_main"
		printf '  %-36s %16s %16s\n' "floor" "$f_ir" "$f_main"
		printf '  %-36s %15.2fx %15.2fx\n' "ratio" \
			"$(awk -v a="$m_ir" -v b="$f_ir" 'BEGIN { print a / b }')" \
			"$(awk -v a="$m_main" -v b="$f_main" 'BEGIN { print a / b }')"
		echo "  (callgrind_annotate on a profile of mipart: see bench/README.md)"
	else
		echo
		echo "  instructions: valgrind failed; see its log:"
		cat "$tmp"/cg.*.log >&2
	fi
else
	echo
	echo "  instructions: valgrind is not installed; skipped"
fi

# The floor is only a floor if it does the same filesystem work: same files read, same links.
if command -v strace >/dev/null 2>&1; then
	"$bench/paths.sh" "$host" "$mipart" --root "$host" list --json >"$tmp/paths.mipart" ||
		die "bench/paths.sh failed on mipart"
	"$bench/paths.sh" "$host" "$floor" "$host" >"$tmp/paths.floor" ||
		die "bench/paths.sh failed on the floor"
	grep -E '^(file|link) ' "$tmp/paths.mipart" >"$tmp/read.mipart" || true
	grep -E '^(file|link) ' "$tmp/paths.floor" >"$tmp/read.floor" || true
	echo
	echo "  directories opened    mipart $(grep -c '^dir' "$tmp/paths.mipart"), floor" \
		"$(grep -c '^dir' "$tmp/paths.floor") (the floor opens /sys/class/drm once for readlinkat)"
	if cmp -s "$tmp/read.mipart" "$tmp/read.floor"; then
		echo "  file access (strace)  same $(grep -c '^file' "$tmp/read.mipart") files read and" \
			"$(grep -c '^link' "$tmp/read.mipart") links read by both"
	else
		echo "  file access (strace)  DIFFERENT: '<' only mipart, '>' only floor:"
		diff "$tmp/read.mipart" "$tmp/read.floor" | grep '^[<>]' | sed 's/^/    /'
	fi
else
	echo
	echo "  file access: strace is not installed; comparison skipped"
fi

# mipart serve: scrapes per second against a fixed libmicrohttpd response (bench/serve.sh)
echo
"$bench/serve.sh" "$build" || die "bench/serve.sh failed"

# mipart set: an 8-GPU compute change against one GPU's, with simulated driver delays
echo
"$bench/apply.sh" "$build" || die "bench/apply.sh failed"
exit 0
