#!/bin/sh
# mipart labels: the NFD feature file under --root, --output, --json, and that it follows the
# host (a change, a declared state).
. "$(dirname "$0")/lib.sh"

H="$T_TMP/h"
mipart sim create "$H" --gpus 2 --compute CPX --memory NPS4 2>/dev/null
F="$H/etc/kubernetes/node-feature-discovery/features.d/mipart"

run mipart --root "$H" labels
is "$RC" 0 "labels writes the feature file"
like "$ERR" "wrote * labels to '$F'" "at NFD's features.d path under --root"
grep -qx 'amd.com/gpu.compute-memory-partition=cpx_nps4' "$F"; ok $? "AMD's key for the homogeneous pair"
grep -qx 'feature.node.kubernetes.io/mipart-partitions.24G=16' "$F"; ok $? "partitions by size in NFD's namespace"
grep -v '^#' "$F" | grep -vqE '^[a-z0-9.-]+/[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?=([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$'
is "$?" 1 "every line is key=value of valid label syntax"

run mipart --root "$H" labels --json
is "$(jqo '.labels["feature.node.kubernetes.io/mipart-gpus"]')" 2 "--json"
run mipart --root "$H" labels --output "$T_TMP/nfd/mipart"
is "$RC" 0 "--output FILE (its directory is made)"
[ "$RC" = 0 ] || echo "# $ERR"
grep -q 'mipart-product=MI300X' "$T_TMP/nfd/mipart"; ok $? "writes there"
run mipart --root "$H" labels --json --stdout
is "$RC" 2 "two outputs are a usage error"

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
