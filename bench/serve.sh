#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/serve.sh BUILD_DIR: the `mipart serve` benchmark (bench/README.md, docs/serve.md).
#
# Makes a simulated 8 x MI300X host in CPX mode (64 partitions), starts `mipart serve
# --interval 60` on it, fetches /metrics once into a file, and starts bench/serve-baseline,
# which serves those bytes as one fixed libmicrohttpd response with the same daemon flags,
# thread pool and caps. bench/loadgen (C keep-alive connections on one epoll loop, every latency
# kept) then loads each in alternating rounds in the same run, so both see the same machine.
# Prints scrapes per second, p50/p90/p99 latency of each, and the ratio of the rates (target
# >= 0.8x the baseline): the median of the ratios of the rounds, each taken against the
# baseline's round next to it (robust to a machine that other work slows down for a while),
# and the ratio of the totals.
#
# Then the uncached cost: one collection (bench/collect) against a floor that reads the same
# files, directories and links, listed by strace, in one process (bench/replay); target <= 2x.
#
# Prints figures only: exits 0 whatever the figures are, 1 only when something could not run.
# Environment: ROUNDS (rounds of each, default 6), SECONDS_PER_ROUND (default 2), CONNECTIONS
# (keep-alive connections, default 8).
set -eu

die() {
	echo "bench/serve.sh: $*" >&2
	exit 1
}

[ $# -eq 1 ] || { echo "usage: bench/serve.sh BUILD_DIR" >&2; exit 2; }
build=$1
mipart=$build/src/cli/mipart
baseline=$build/bench/serve-baseline
loadgen=$build/bench/loadgen
collect=$build/bench/collect
replay=$build/bench/replay
here=$(cd "$(dirname "$0")" && pwd)
ROUNDS=${ROUNDS:-6}
SECS=${SECONDS_PER_ROUND:-2}
CONNS=${CONNECTIONS:-8}
for x in "$mipart" "$baseline" "$loadgen" "$collect" "$replay"; do
	[ -x "$x" ] || die "'$x' is not built; run 'ninja -C $build' first"
done
case $ROUNDS$CONNS in *[!0-9]*) die "ROUNDS and CONNECTIONS must be whole numbers" ;; esac
[ "$ROUNDS" -ge 1 ] && [ "$CONNS" -ge 1 ] && [ "$CONNS" -le 16 ] ||
	die "ROUNDS must be at least 1, CONNECTIONS 1 to 16 (the per-address cap of both servers)"

tmp=$(mktemp -d "${TMPDIR:-/dev/shm}/mipart-bench-serve.XXXXXX") || die "cannot make a temporary directory"
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP PIPE

# start NAME COMMAND...: run it in the background, wait for "listening on ADDR"; sets ADDR
start() {
	local name=$1 i
	shift
	"$@" 2>"$tmp/$name.log" &
	pids="$pids $!"
	for i in $(seq 200); do
		ADDR=$(sed -n 's/^listening on \(.*\)$/\1/p' "$tmp/$name.log")
		[ -n "$ADDR" ] && return 0
		sleep 0.05
	done
	cat "$tmp/$name.log" >&2
	die "'$name' did not start"
}

"$mipart" --quiet sim create "$tmp/host" --gpus 8 --compute CPX >/dev/null ||
	die "cannot create a simulated host with '$mipart sim create'"
start serve "$mipart" --root "$tmp/host" serve --listen 127.0.0.1:0 --interval 60
serve_addr=$ADDR
"$loadgen" -o "$tmp/metrics.txt" "$serve_addr" /metrics || die "cannot fetch /metrics"
start baseline "$baseline" "$tmp/metrics.txt"
base_addr=$ADDR
"$loadgen" -o "$tmp/baseline.txt" "$base_addr" /metrics || die "cannot fetch from the baseline"
cmp -s "$tmp/metrics.txt" "$tmp/baseline.txt" || die "the baseline does not serve the same bytes"
parts=$(grep -c '^mipart_partition_info{' "$tmp/metrics.txt" || true)

echo "bench/serve: mipart serve /metrics (cached) vs the same bytes as a fixed libmicrohttpd response"
echo "  host          8 x MI300X in CPX: $parts partitions; /metrics is $(wc -c <"$tmp/metrics.txt") bytes"
echo "  load          $CONNS keep-alive connections (bench/loadgen), $ROUNDS alternating rounds of ${SECS} s each"

# warm up both (page cache, connection set-up, the first collection is done already)
"$loadgen" -c "$CONNS" -d 1 "$serve_addr" /metrics >/dev/null || die "loadgen failed on mipart serve"
"$loadgen" -c "$CONNS" -d 1 "$base_addr" /metrics >/dev/null || die "loadgen failed on the baseline"
: >"$tmp/serve.txt"
: >"$tmp/base.txt"
for r in $(seq "$ROUNDS"); do
	if [ $((r % 2)) -eq 1 ]; then
		"$loadgen" -c "$CONNS" -d "$SECS" "$serve_addr" /metrics >>"$tmp/serve.txt" || die "loadgen failed"
		"$loadgen" -c "$CONNS" -d "$SECS" "$base_addr" /metrics >>"$tmp/base.txt" || die "loadgen failed"
	else
		"$loadgen" -c "$CONNS" -d "$SECS" "$base_addr" /metrics >>"$tmp/base.txt" || die "loadgen failed"
		"$loadgen" -c "$CONNS" -d "$SECS" "$serve_addr" /metrics >>"$tmp/serve.txt" || die "loadgen failed"
	fi
done

# "rps p50 p90 p99 errors" over the rounds of a file: rate = all requests / all time; the
# percentiles are the median over the rounds
stats() {
	awk '
		{ req += $2; err += $4; sec += $6; p50[NR] = $10; p90[NR] = $12; p99[NR] = $14 }
		function med(a, n,   i, j, t) {
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		END { printf "%.0f %.1f %.1f %.1f %d\n", req / sec, med(p50, NR), med(p90, NR), med(p99, NR), err }' "$1"
}
read -r s_rps s_p50 s_p90 s_p99 s_err <<EOF
$(stats "$tmp/serve.txt")
EOF
read -r b_rps b_p50 b_p90 b_p99 b_err <<EOF
$(stats "$tmp/base.txt")
EOF
collections=$("$loadgen" -o "$tmp/after.txt" "$serve_addr" /metrics &&
	awk '$1 == "mipart_exporter_collections_total" { print $2 }' "$tmp/after.txt")

echo
printf '  %-26s %12s %10s %10s %10s %8s\n' "" "scrapes/s" "p50 (us)" "p90 (us)" "p99 (us)" "errors"
printf '  %-26s %12s %10s %10s %10s %8s\n' "mipart serve" "$s_rps" "$s_p50" "$s_p90" "$s_p99" "$s_err"
printf '  %-26s %12s %10s %10s %10s %8s\n' "fixed response (baseline)" "$b_rps" "$b_p50" "$b_p90" "$b_p99" "$b_err"
echo
# per round: mipart's rate over the baseline's of the same round
ratio=$(paste -d ' ' "$tmp/serve.txt" "$tmp/base.txt" | awk '
	{ r[NR] = $8 / $(8 + 16) }
	END {
		for (i = 1; i <= NR; i++) for (j = i + 1; j <= NR; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
		printf "%.2f", NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
	}')
total=$(awk -v s="$s_rps" -v b="$b_rps" 'BEGIN { printf "%.2f", s / b }')
met=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.8) ? "met" : "NOT met" }')
echo "  ratio of scrape rates   ${ratio}x (median of $ROUNDS rounds; ${total}x of the totals)   target >= 0.8x: $met"
echo "  p99 latency             $(awk -v s="$s_p99" -v b="$b_p99" 'BEGIN { printf "%.2f", s / b }')x the baseline's"
echo "  collections by mipart   ${collections:-?} for all the scrapes above (--interval 60: one per minute at most)"

# --- uncached: what one collection costs, against the floor of reading the same files ---------
# bench/collect runs N collections (and serve's renderings) in one process; strace lists what one
# collection opens, lists and reads under the host; bench/replay reads exactly that N times in
# one process, nothing else. Alternating blocks, so both see the same machine.
echo
echo "bench/serve (uncached): one collection vs a floor that reads the same files in one process"
if ! command -v strace >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
	echo "  strace or python3 is not installed: skipped"
	exit 0
fi
strace -f -y -o "$tmp/trace" -e trace=openat,readlinkat,readlink,getdents64 "$collect" "$tmp/host" 1 >/dev/null ||
	die "cannot trace bench/collect"
python3 "$here/trace-list.py" "$tmp/trace" "$tmp/host" >"$tmp/list" || die "cannot read the trace"
N=${COLLECTIONS:-100}
: >"$tmp/col.txt"
: >"$tmp/rep.txt"
for b in 1 2 3 4; do
	if [ $((b % 2)) -eq 1 ]; then
		"$collect" "$tmp/host" "$N" >>"$tmp/col.txt" || die "bench/collect failed"
		"$replay" "$tmp/list" "$N" >>"$tmp/rep.txt" || die "bench/replay failed"
	else
		"$replay" "$tmp/list" "$N" >>"$tmp/rep.txt" || die "bench/replay failed"
		"$collect" "$tmp/host" "$N" >>"$tmp/col.txt" || die "bench/collect failed"
	fi
done
# medians over the 4 blocks of each block's median
med() { sort -n | awk '{ a[NR] = $1 } END { printf "%.0f", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
c_all=$(awk '{ print $2 }' "$tmp/col.txt" | med)
c_col=$(awk '{ print $5 }' "$tmp/col.txt" | med)
c_met=$(awk '{ print $8 }' "$tmp/col.txt" | med)
r_med=$(awk '{ print $2 }' "$tmp/rep.txt" | med)
items=$(awk 'NR == 1 { print $4 }' "$tmp/rep.txt")
printf '  %-44s %10s\n' "" "median (us)"
printf '  %-44s %10s\n' "collection (mipart_monitor_collect)" "$c_col"
printf '  %-44s %10s\n' "collection + the exposition (/metrics)" "$c_met"
printf '  %-44s %10s\n' "collection + renderings (/metrics, JSON, /)" "$c_all"
printf '  %-44s %10s\n' "floor: the same $items files, dirs, links" "$r_med"
ratio=$(awk -v c="$c_col" -v r="$r_med" 'BEGIN { printf "%.2f", c / r }')
met=$(awk -v r="$ratio" 'BEGIN { print (r <= 2.0) ? "met" : "NOT met" }')
echo "  uncached collection     ${ratio}x the floor ($N collections x 4 blocks)   target <= 2x: $met"
echo "  an uncached /metrics    $(awk -v c="$c_met" -v r="$r_med" 'BEGIN { printf "%.2f", c / r }')x the floor (collection and exposition: what a scrape with --interval 0 pays)"
echo "  with every rendering    $(awk -v c="$c_all" -v r="$r_med" 'BEGIN { printf "%.2f", c / r }')x the floor (what it paid while serve rendered the JSON and the page for every collection)"
echo "  saved per uncached scrape  $(awk -v a="$c_all" -v m="$c_met" 'BEGIN { printf "%.0f us (%.0f %%)", a - m, 100 * (a - m) / a }'): the status JSON and the page, now rendered only when asked for"
exit 0
