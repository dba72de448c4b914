#!/usr/bin/env bash
# The story `make demo` tells (../shared/DEMO.md), as far as it is built: a cluster operator
# meets a new 8 x MI300X node, simulated in a temporary directory. Exits non-zero if a step fails.
set -euo pipefail
MIPART=${1:-build/src/cli/mipart}
# the simulated node is thousands of small files: tmpfs when there is one
[ -z "${TMPDIR:-}" ] && [ -w /dev/shm ] && TMPDIR=/dev/shm
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mipart-demo.XXXXXX")
HOST=$WORK/node
trap 'rm -rf "$WORK"' EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ mipart %s\n' "${*:2}"; "$@"; }
refused() { # refused CMD...: the command must fail (exit 1)
	printf '$ mipart %s\n' "${*:2}"
	if "$@"; then
		echo "demo: expected a refusal" >&2
		exit 1
	fi
}
M() { "$MIPART" --root "$HOST" "$@"; }

step "0. A simulated 8 x MI300X node (sysfs, KFD topology, /dev, /proc) in $HOST"
show "$MIPART" sim create "$HOST" --gpus 8 --product mi300x

step "1. See the node: every GPU, its modes and the modes it allows, every logical device"
show M status
echo
show M list

step "2. Ask what layout serves the models (memory from each model's architecture)"
show M plan -m meta-llama/Llama-3.1-8B-Instruct:12,max-model-len=16384 \
	-m meta-llama/Llama-3.1-70B-Instruct:2@fp8,max-model-len=16384 \
	-m Qwen/Qwen2.5-7B-Instruct:8,max-model-len=16384 -o "$WORK/plan.yaml" --name serve

step "3. Look before changing, while vLLM holds GPU 1"
show "$MIPART" sim hold "$HOST" --gpu 1 --pid 4242 --comm vllm --container 3f2a9c1b7e6d
show M apply -f "$WORK/plan.yaml" -c serve --dry-run
refused M apply -f "$WORK/plan.yaml" -c serve
echo "(refused before any write: nothing changed)"

step "4. Change safely: release the blocker, apply, verify, journal, assert"
show "$MIPART" sim release "$HOST" --pid 4242
show M apply -f "$WORK/plan.yaml" -c serve
show M history
show M assert -f "$WORK/plan.yaml" -c serve

step "5. Place the models: one allocation per instance"
for i in 1 2; do show M allocate meta-llama/Llama-3.1-70B-Instruct --precision fp8 --max-model-len 16384 --name "llama70b-$i"; done
for i in $(seq 1 12); do M allocate meta-llama/Llama-3.1-8B-Instruct --max-model-len 16384 --name "llama8b-$i" >/dev/null; done
for i in $(seq 1 8); do M allocate Qwen/Qwen2.5-7B-Instruct --max-model-len 16384 --name "qwen7b-$i" >/dev/null; done
echo "(and 12 x Llama-3.1-8B, 8 x Qwen2.5-7B the same way)"
show M allocations
refused M allocate meta-llama/Llama-3.1-405B-Instruct --precision fp8 --max-model-len 16384
echo "(a request that does not fit is refused with the figures)"

step "6. Launch one allocation: environment, container flags, the vLLM command sized to start"
show M env llama8b-3
show M docker-args llama8b-3
show M vllm llama70b-1 -- --port 8001
show M vllm llama8b-3 --format docker
show M cdi generate
jq -r '"CDI spec: kind \(.kind), \(.devices | length) devices, e.g. " + ([.devices[].name] | .[0:4] | join(", "))' "$HOST/etc/cdi/amd.com-gpu.json"

step "8. Fault: the driver fails to load during a change; mipart rolls back"
for a in $(M allocations --json | jq -r '.allocations[].name'); do M release "$a" >/dev/null; done
show "$MIPART" sim fault "$HOST" --on reload --error EIO --times 1
refused M set -g all --compute CPX --memory NPS4
show M status
show M history --limit 2

printf '\nNot built yet: watch (top, serve: issue 7).\n'
