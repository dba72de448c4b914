#!/usr/bin/env bash
# The story `make demo` tells (../shared/DEMO.md), as far as it is built: a cluster operator
# meets a new 8 x MI300X node, simulated in a temporary directory. Exits non-zero if a step fails.
set -euo pipefail
MIPART=${1:-build/src/cli/mipart}
# the simulated node is thousands of small files: tmpfs when there is one
[ -z "${TMPDIR:-}" ] && [ -w /dev/shm ] && TMPDIR=/dev/shm
HOST=$(mktemp -d "${TMPDIR:-/tmp}/mipart-demo.XXXXXX")
trap 'rm -rf "$HOST"' EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "0. A simulated 8 x MI300X node (sysfs, KFD topology, /dev, /proc) in $HOST"
rmdir "$HOST"
show "$MIPART" sim create "$HOST" --gpus 8 --product mi300x

step "1. See the node: every GPU, its modes and the modes it allows"
show "$MIPART" --root "$HOST" status
echo
show "$MIPART" --root "$HOST" list

step "1b. The same as JSON for scripts (sizes in bytes)"
"$MIPART" --root "$HOST" list --json | jq -c '.gpus[0] | {bdf, product, compute_partition, memory_partition, available_compute_partitions, available_memory_partitions, memory_bytes, partitions: (.partitions | length)}'

step "3. Look before changing: GPUs 0-7 to CPX/NPS4 (a driver reload), with vLLM holding GPU 1"
show "$MIPART" sim hold "$HOST" --gpu 1 --pid 4242 --comm vllm --container 3f2a9c1b7e6d
show "$MIPART" --root "$HOST" set -g all --compute CPX --memory NPS4 --dry-run
echo "\$ mipart --root $HOST set -g all --compute CPX --memory NPS4"
if "$MIPART" --root "$HOST" set -g all --compute CPX --memory NPS4; then
	echo "unexpected: the change went through while GPU 1 was busy" >&2
	exit 1
fi
echo "(refused before any write: nothing changed)"

step "4. Change safely: release the blocker, apply, verify, journal"
show "$MIPART" sim release "$HOST" --pid 4242
show "$MIPART" --root "$HOST" set -g all --compute CPX --memory NPS4
show "$MIPART" --root "$HOST" status
show "$MIPART" --root "$HOST" history

step "8. Fault: the driver fails to load during a change; mipart rolls back"
show "$MIPART" sim fault "$HOST" --on reload --error EIO --times 1
echo "\$ mipart --root $HOST set -g all --compute SPX --memory NPS1"
if "$MIPART" --root "$HOST" set -g all --compute SPX --memory NPS1; then
	echo "unexpected: the change succeeded despite the injected fault" >&2
	exit 1
fi
show "$MIPART" --root "$HOST" status
show "$MIPART" --root "$HOST" history --limit 2

printf '\nNot built yet: plan files (apply -f), allocate, launch, watch (issues 4-7).\n'
