#!/usr/bin/env bash
# The story `make demo` tells (../shared/DEMO.md), as far as it is built: a cluster operator
# meets a new 8 x MI300X node, simulated in a temporary directory. Exits non-zero if a step fails.
set -euo pipefail
MIPART=${1:-build/src/cli/mipart}
HOST=$(mktemp -d "${TMPDIR:-/tmp}/mipart-demo.XXXXXX")
trap 'rm -rf "$HOST"' EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "0. A simulated 8 x MI300X node (sysfs, KFD topology, /dev, /proc) in $HOST"
show "$MIPART" sim create "$HOST" --gpus 8 --product mi300x

step "1. See the node: every GPU, its modes and the modes it allows"
show "$MIPART" --root "$HOST" status
echo
show "$MIPART" --root "$HOST" list

step "1b. The same as JSON for scripts (sizes in bytes)"
"$MIPART" --root "$HOST" list --json | jq -c '.gpus[0] | {bdf, product, compute_partition, memory_partition, available_compute_partitions, available_memory_partitions, memory_bytes, partitions: (.partitions | length)}'

step "1c. What the driver does when GPU 0 is switched to CPX (simulated amdgpu write)"
show "$MIPART" sim write "$HOST" 0 current_compute_partition CPX
show "$MIPART" --root "$HOST" list
echo "(GPU 0 now has 8 partitions of about 24 GiB; its KFD nodes were re-added last, so ROCm numbers them last)"

step "1d. A process holding GPU 1 makes the driver refuse a switch"
show "$MIPART" sim hold "$HOST" --gpu 1 --pid 4242 --comm vllm
if "$MIPART" sim write "$HOST" 1 current_compute_partition DPX; then
	echo "unexpected: the switch went through while GPU 1 was busy" >&2
	exit 1
fi
show "$MIPART" sim release "$HOST" --pid 4242

printf '\nNot built yet: plan, apply, allocate, launch, watch (issues 4-7).\n'
