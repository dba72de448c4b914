#!/bin/sh
# mipart labels: the NFD feature file under --root, --output, --json, and that it follows the
# host (a change, a declared state).
. "$(dirname "$0")/lib.sh"

H="$T_TMP/h"
mipart sim create "$H" --gpus 2 --compute CPX --memory NPS4 2>/dev/null
F="$H/etc/kubernetes/node-feature-discovery/features.d/mipart"

# NFD's features.d is NFD's to make: without it nothing is written or made (docs/kubernetes.md)
run mipart --root "$H" labels
is "$RC" 1 "no NFD features.d: labels fails"
like "$ERR" "error: cannot write '$F': Node Feature Discovery's features.d directory is missing*--output FILE*" "saying why and what to do"
[ ! -e "$H/etc/kubernetes" ]; ok $? "and makes no /etc/kubernetes tree"
mkdir -p "$(dirname "$F")"
run mipart --root "$H" labels
is "$RC" 0 "labels writes the feature file"
like "$ERR" "wrote * labels to '$F'" "at NFD's features.d path under --root"
grep -qx 'amd.com/gpu.compute-memory-partition=cpx_nps4' "$F"; ok $? "AMD's key for the homogeneous pair"
grep -qx 'feature.node.kubernetes.io/mipart-partitions.24G=16' "$F"; ok $? "partitions by size in NFD's namespace"
grep -v '^#' "$F" | grep -vqE '^[a-z0-9.-]+/[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?=([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$'
is "$?" 1 "every line is key=value of valid label syntax"

M0="$(stat -c '%y %i' "$F")"
run mipart --root "$H" labels
like "$ERR" "'$F' is current (* labels)" "a second run: the file says it already"
is "$(stat -c '%y %i' "$F")" "$M0" "and is not rewritten (same mtime and inode)"

run mipart --root "$H" labels --json
is "$(jqo '.labels["feature.node.kubernetes.io/mipart-gpus"]')" 2 "--json"
run mipart --root "$H" labels --output "$T_TMP/nfd/mipart"
is "$RC" 0 "--output FILE (its directory is made)"
[ "$RC" = 0 ] || echo "# $ERR"
grep -q 'mipart-product=MI300X' "$T_TMP/nfd/mipart"; ok $? "writes there"
run mipart --root "$H" labels --json --stdout
is "$RC" 2 "two outputs are a usage error"
# a path with an escape sequence and a byte that is not UTF-8 is shown as text
E="$(printf '\033')[31m$(printf '\377')"
run mipart --root "$H" labels --output "$T_TMP/nfd$E/mipart"
is "$RC" 0 "--output under a directory named with ESC and 0xff"
like "$ERR" "wrote * labels to '$T_TMP/nfd?\[31m?/mipart'" "  ... the path said with '?' for ESC and 0xff"
printf '%s' "$ERR" | LC_ALL=C grep -q "$(printf '\033')\|$(printf '\377')"; is "$?" 1 "  ... and neither byte in the message"
run mipart sim create "$T_TMP/sim$E" --gpus 1
like "$ERR" "created a simulated host in '$T_TMP/sim?\[31m?'" "sim create says the path the same way"
printf '%s' "$ERR" | LC_ALL=C grep -q "$(printf '\033')\|$(printf '\377')"; is "$?" 1 "  ... and neither byte in its message"

# the labels follow a change and the declared state
printf 'version: v1\npartition-configs:\n  spx:\n    - devices: all\n      compute: SPX\n      memory: NPS1\n' >"$T_TMP/l.yaml"
mipart --root "$H" apply --persist -f "$T_TMP/l.yaml" -c spx >/dev/null 2>&1
run mipart --root "$H" labels --stdout
like "$OUT" "*amd.com/gpu.compute-memory-partition=spx_nps1*" "after apply: spx_nps1"
like "$OUT" "*mipart-config=spx*" "the declared config"
like "$OUT" "*mipart-config-in-sync=true*" "in sync"
mipart sim write "$H" 1 current_compute_partition DPX >/dev/null 2>&1
run mipart --root "$H" labels --stdout
like "$OUT" "*mipart-config-in-sync=false*" "drift shows"
case "$OUT" in *compute-memory-partition*) ok 1 "no AMD pair when the GPUs differ" ;; *) ok 0 "no AMD pair when the GPUs differ" ;; esac

# mipart serve keeps the feature file current: written at start, rewritten when what it says
# changes (a mode change, an allocation), never rewritten when nothing changed
H2="$T_TMP/h2"
mipart sim create "$H2" --gpus 2 >/dev/null 2>&1
F2="$T_TMP/serve-nfd/mipart"
"$MIPART" --root "$H2" serve --listen 127.0.0.1:0 --labels-file "$F2" --labels-interval 0.05 --verbose \
	2>"$T_TMP/serve.log" &
SP=$!
wait_until test -s "$F2"
grep -qx 'amd.com/gpu.compute-memory-partition=spx_nps1' "$F2"; ok $? "serve writes the feature file at start (its directory made)"
like "$(cat "$T_TMP/serve.log")" "*labels: wrote * labels to '$F2'*" "and says so"
looks() { [ "$(grep -c "labels: '$F2' is current" "$T_TMP/serve.log")" -ge "$1" ]; }
M1="$(stat -c '%y %i' "$F2")"
wait_until looks 3
is "$(stat -c '%y %i' "$F2")" "$M1" "an unchanged host: three looks, the file is not rewritten (same mtime and inode)"
is "$(grep -c 'labels: wrote' "$T_TMP/serve.log")" 1 "written once"
printf 'version: v1\npartition-configs:\n  cpx:\n    - devices: all\n      compute: CPX\n' >"$T_TMP/cpx.yaml"
mipart --root "$H2" apply -f "$T_TMP/cpx.yaml" -c cpx >/dev/null 2>&1
says() { grep -qx "$1" "$F2"; }
wait_until says 'amd.com/gpu.compute-memory-partition=cpx_nps1'
says 'amd.com/gpu.compute-memory-partition=cpx_nps1'; ok $? "a mode change: the file follows"
says 'feature.node.kubernetes.io/mipart-free-partitions.24G=16'; ok $? "16 free CPX partitions"
mipart --root "$H2" allocate llama-3.1-8b --max-model-len 8192 --partition 1.2 --name chat >/dev/null 2>&1
wait_until says 'feature.node.kubernetes.io/mipart-free-partitions.24G=15'
says 'feature.node.kubernetes.io/mipart-free-partitions.24G=15'; ok $? "an allocation: one free partition less"
is "$(grep -c 'labels: wrote' "$T_TMP/serve.log")" 3 "written once per change"
kill -TERM "$SP"; wait "$SP"
is "$?" 0 "serve stops on SIGTERM"

# event-driven: with a timed look only every hour, an allocation and the end of a change still
# reach the file (serve watches the ledger, the declared state and the host lock)
"$MIPART" --root "$H2" serve --listen 127.0.0.1:0 --labels-file "$F2" --labels-interval 3600 --verbose \
	2>"$T_TMP/serve4.log" &
SP=$!
first_look() { grep -q "labels: '$F2' is current" "$T_TMP/serve4.log"; }
wait_until first_look
mipart --root "$H2" allocate llama-3.1-8b --max-model-len 8192 --partition 1.3 --name chat2 >/dev/null 2>&1
wait_until says 'feature.node.kubernetes.io/mipart-free-partitions.24G=14'
says 'feature.node.kubernetes.io/mipart-free-partitions.24G=14'; ok $? "an allocation reaches the file without waiting for the timed look"
mipart --root "$H2" release chat2 >/dev/null 2>&1
mipart --root "$H2" release chat >/dev/null 2>&1
printf 'version: v1\npartition-configs:\n  dpx:\n    - devices: all\n      compute: DPX\n' >"$T_TMP/dpx.yaml"
mipart --root "$H2" apply -f "$T_TMP/dpx.yaml" -c dpx >/dev/null 2>&1
wait_until says 'amd.com/gpu.compute-memory-partition=dpx_nps1'
says 'amd.com/gpu.compute-memory-partition=dpx_nps1'; ok $? "and so does a change, once it has ended"
kill -TERM "$SP"; wait "$SP"
# the labels' own read of the ledger must not wake the watcher (it did: a look after a look, a
# core busy): a handful of events, a handful of looks
looks4=$(grep -c "labels: '$F2' is current" "$T_TMP/serve4.log")
[ "$looks4" -lt 50 ]; ok $? "serve looks only when something changed ($looks4 looks)"
printf 'version: v1\npartition-configs:\n  cpx:\n    - devices: all\n      compute: CPX\n' >"$T_TMP/cpx.yaml"
mipart --root "$H2" apply -f "$T_TMP/cpx.yaml" -c cpx >/dev/null 2>&1

# a fresh host (no /run/mipart yet, as after a boot: the lock's directory is not watched): the
# end of its first change still reaches the file, since a look that finds a change running
# looks again soon
H3="$T_TMP/h3"
mipart sim create "$H3" --gpus 2 >/dev/null 2>&1
rm -rf "$H3/run/mipart"
F3="$T_TMP/serve-nfd3/mipart"
"$MIPART" --root "$H3" serve --listen 127.0.0.1:0 --labels-file "$F3" --labels-interval 3600 \
	2>"$T_TMP/serve5.log" &
SP=$!
wait_until test -s "$F3"
mipart --root "$H3" apply -f "$T_TMP/dpx.yaml" -c dpx >/dev/null 2>&1
says3() { grep -qx "$1" "$F3"; }
wait_until says3 'amd.com/gpu.compute-memory-partition=dpx_nps1'
says3 'amd.com/gpu.compute-memory-partition=dpx_nps1'; ok $? "the first change of a fresh host reaches the file"
kill -TERM "$SP"; wait "$SP"

# a host where none of the watched directories exists yet (no /var/lib/mipart, /etc/mipart or
# /run/mipart: a fresh install after a boot): serve watches their nearest ancestors and follows
# the directories down as they are made, so the first allocation reaches the file with the timed
# look an hour away; and again after /var/lib is removed and made anew
H4="$T_TMP/h4"
mipart sim create "$H4" --gpus 2 --compute CPX >/dev/null 2>&1
rm -rf "$H4/var/lib" "$H4/etc/mipart" "$H4/run/mipart"
F4="$T_TMP/serve-nfd4/mipart"
"$MIPART" --root "$H4" serve --listen 127.0.0.1:0 --labels-file "$F4" --labels-interval 3600 --verbose \
	2>"$T_TMP/serve6.log" &
SP=$!
first_look4() { grep -q "labels: wrote .* labels to '$F4'" "$T_TMP/serve6.log"; }
wait_until first_look4
says4() { grep -qx "$1" "$F4"; }
says4 'feature.node.kubernetes.io/mipart-free-partitions.24G=16'; ok $? "no ledger directory at start: 16 free partitions"
mipart --root "$H4" allocate llama-3.1-8b --max-model-len 8192 --partition 0.1 --name a4 >/dev/null 2>&1
is "$?" 0 "the first allocation makes the ledger's directories"
wait_until says4 'feature.node.kubernetes.io/mipart-free-partitions.24G=15'
says4 'feature.node.kubernetes.io/mipart-free-partitions.24G=15'; ok $? "it reaches the file without the timed look (directories made after serve started are watched)"
rm -rf "$H4/var/lib" "$H4/run/mipart"
mipart --root "$H4" allocate llama-3.1-8b --max-model-len 8192 --partition 0.2 --name b4 >/dev/null 2>&1
mipart --root "$H4" allocate llama-3.1-8b --max-model-len 8192 --partition 0.3 --name c4 >/dev/null 2>&1
wait_until says4 'feature.node.kubernetes.io/mipart-free-partitions.24G=14'
says4 'feature.node.kubernetes.io/mipart-free-partitions.24G=14'; ok $? "and after its directories were removed and made again"
kill -TERM "$SP"; wait "$SP"

# a flood of events (a loop making files in the watched /run/mipart, and in /var/lib while
# /var/lib/mipart is missing): serve still answers /metrics, an allocation still reaches the file
# with the timed look an hour away, and SIGTERM still stops it (each read of the watch handles a
# bounded number of events; the looks they ask for are spaced and coalesced)
H6="$T_TMP/h6"
mipart sim create "$H6" --gpus 2 --compute CPX >/dev/null 2>&1
rm -rf "$H6/var/lib/mipart"
mkdir -p "$H6/run/mipart" "$H6/var/lib"
F6="$T_TMP/serve-nfd6/mipart"
"$MIPART" --root "$H6" serve --listen 127.0.0.1:0 --labels-file "$F6" --labels-interval 3600 --verbose \
	2>"$T_TMP/serve7.log" &
SP=$!
first_look6() { grep -q "labels: wrote .* labels to '$F6'" "$T_TMP/serve7.log"; }
wait_until first_look6
flood() { # flood DIR: make and remove files there until $T_TMP/stop-flood exists
	_i=0
	while [ ! -e "$T_TMP/stop-flood" ]; do
		: >"$1/flood$_i"
		rm -f "$1/flood$_i"
		_i=$(((_i + 1) % 50))
	done
}
flood "$H6/run/mipart" &
FP1=$!
flood "$H6/var/lib" &
FP2=$!
T_PIDS="$T_PIDS $FP1 $FP2"
looks6() { grep -c "labels: '$F6' is current" "$T_TMP/serve7.log"; }
L0=$(looks6)
more_looks() { [ "$(looks6)" -ge $((L0 + 3)) ]; }
wait_until more_looks
more_looks; ok $? "a flood of events in the watched directories: the labels thread keeps looking"
ADDR6=$(sed -n 's/^listening on \(.*\)$/\1/p' "$T_TMP/serve7.log")
is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 "http://$ADDR6/metrics")" 200 "  ... and /metrics answers"
mipart --root "$H6" allocate llama-3.1-8b --max-model-len 8192 --partition 0.1 --name f6 >/dev/null 2>&1
says6() { grep -qx "$1" "$F6"; }
wait_until says6 'feature.node.kubernetes.io/mipart-free-partitions.24G=15'
says6 'feature.node.kubernetes.io/mipart-free-partitions.24G=15'; ok $? "  ... and an allocation made meanwhile reaches the file"
kill -TERM "$SP"; wait "$SP"
is "$?" 0 "  ... and SIGTERM stops serve while the flood goes on"
: >"$T_TMP/stop-flood"
wait "$FP1" "$FP2"

# NFD's own path (no labels-file): written only where NFD's features.d exists; 'off' in the config
NFD="$H2/etc/kubernetes/node-feature-discovery/features.d"
"$MIPART" --root "$H2" serve --listen 127.0.0.1:0 --labels-interval 0.05 2>"$T_TMP/serve2.log" &
SP=$!
said_missing() { grep -q "labels: '$NFD/mipart' is not written: Node Feature Discovery's features.d directory is missing" "$T_TMP/serve2.log"; }
wait_until said_missing
[ ! -e "$NFD" ]; ok $? "no features.d: serve says so and makes no /etc/kubernetes tree"
kill -TERM "$SP"; wait "$SP"
# features.d there, but the host's GPUs cannot be read (no /sys: also ENOENT): said as such,
# not as a missing features.d
H5="$T_TMP/h5"
mipart sim create "$H5" --gpus 1 >/dev/null 2>&1
NFD5="$H5/etc/kubernetes/node-feature-discovery/features.d"
mkdir -p "$NFD5"
rm -rf "$H5/sys"
"$MIPART" --root "$H5" serve --listen 127.0.0.1:0 --labels-interval 0.05 2>"$T_TMP/serve5.log" &
SP=$!
said_error5() { grep -q "^error: labels: cannot update '$NFD5/mipart': " "$T_TMP/serve5.log"; }
said_any5() { said_error5 || grep -q "labels: '$NFD5/mipart' is not written" "$T_TMP/serve5.log"; }
wait_until said_any5
said_error5; ok $? "features.d there, the host unreadable: serve says it cannot update the file"
! grep -q "features.d directory is missing" "$T_TMP/serve5.log"; ok $? "  ... and not that features.d is missing"
kill -TERM "$SP"; wait "$SP"
mkdir -p "$NFD"
printf 'labels-file: off\nlabels-interval: 0.05\n' >"$T_TMP/serve.yaml"
"$MIPART" --root "$H2" serve --listen 127.0.0.1:0 --config "$T_TMP/serve.yaml" 2>"$T_TMP/serve3.log" &
SP=$!
said_off() { grep -q "labels: off" "$T_TMP/serve3.log"; }
wait_until said_off
[ ! -e "$NFD/mipart" ]; ok $? "labels-file: off in the config: no feature file"
printf 'labels-interval: 0.05\n' >"$T_TMP/serve.yaml"
kill -HUP "$SP"
wait_until test -s "$NFD/mipart"
says_nfd() { grep -qx 'amd.com/gpu.compute-memory-partition=cpx_nps1' "$NFD/mipart"; }
says_nfd; ok $? "after a reload without 'off': written to NFD's features.d under --root"
kill -TERM "$SP"; wait "$SP"
run mipart --root "$H2" serve --labels-interval 0
is "$RC" 2 "labels-interval 0 is a usage error"
run mipart --root "$H2" serve --labels-file ''
is "$RC" 2 "an empty labels-file is a usage error"
like "$ERR" "*labels-file*the path of the NFD feature file, or off*" "saying what it takes"
printf 'labels-interval: fast\n' >"$T_TMP/bad.yaml"
run mipart --root "$H2" serve --config "$T_TMP/bad.yaml"
is "$RC" 1 "a bad labels-interval in the config: exit 1"
like "$ERR" "*bad.yaml:1:18: invalid value 'fast' for 'labels-interval'*" "at its line and column"
