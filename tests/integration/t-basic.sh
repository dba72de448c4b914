#!/bin/sh
# The CLI basics over a default simulated host: status/list JSON, exit codes, errors.
. "$(dirname "$0")/lib.sh"

run mipart sim create "$T_TMP/h"
is "$RC" 0 "sim create with defaults succeeds"
run mipart --root "$T_TMP/h" list --json
is "$RC" 0 "list --json exits 0"
is "$(jqo '.gpus | length')" 8 "default host has 8 GPUs"
is "$(jqo '[.gpus[].product] | unique | join(",")')" MI300X "all are MI300X"
is "$(jqo '[.gpus[] | .compute_partition + "/" + .memory_partition] | unique | join(",")')" SPX/NPS1 "all SPX/NPS1"
is "$(jqo '[.gpus[].partitions | length] | add')" 8 "one partition per GPU"
run mipart --root "$T_TMP/nothing" status
is "$RC" 1 "status on an empty root exits 1"
run mipart --root "$T_TMP/h" status --bogus
is "$RC" 2 "unknown option exits 2"
run mipart frobnicate
is "$RC" 2 "unknown verb exits 2"
