#!/usr/bin/env bash
# The story `make demo` tells (../shared/DEMO.md), as far as it is built: a cluster operator
# meets a new 8 x MI300X node, simulated in a temporary directory. Exits non-zero if a step fails.
set -euo pipefail
MIPART=${1:-build/src/cli/mipart}
# the simulated node is thousands of small files: tmpfs when there is one
[ -z "${TMPDIR:-}" ] && [ -w /dev/shm ] && TMPDIR=/dev/shm
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mipart-demo.XXXXXX")
HOST=$WORK/node
SERVE_PID=
trap '[ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null; rm -rf "$WORK"' EXIT

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
# what the model server holds shows in its render node's DRM fdinfo, which status reads
"$MIPART" sim load "$HOST" --partition 1.0 --vram 141GiB
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

step "7. Watch: load where the models run (scripted in the simulated driver), top, a scrape"
# vLLM processes on the partitions of the first six allocations, each busy and holding what it booked
n=0
M allocations --json | jq -r '.allocations[0:6][] | .bookings[0] | "\(.bdf) \(.xcp) \(.bytes)"' >"$WORK/busy"
while read -r bdf xcp bytes; do
	gpu=$(M status --json | jq -r --arg b "$bdf" '.gpus[] | select(.bdf == $b) | .index')
	"$MIPART" sim hold "$HOST" --partition "$gpu.$xcp" --pid $((5001 + n)) --comm vllm 2>/dev/null
	"$MIPART" sim load "$HOST" --partition "$gpu.$xcp" --busy $((35 + 11 * n)) --vram "$bytes"
	n=$((n + 1))
done <"$WORK/busy"
"$MIPART" sim load "$HOST" --gpu 0 --power 612 --temp 74
"$MIPART" sim load "$HOST" --gpu 1 --power 538 --temp 69
show M top --once --gpu 0,1 --sort busy
"$MIPART" --root "$HOST" serve --listen 127.0.0.1:0 2>"$WORK/serve.log" &
SERVE_PID=$!
for _ in $(seq 100); do grep -q 'listening on' "$WORK/serve.log" && break; sleep 0.05; done
ADDR=$(sed -n 's/.*listening on //p' "$WORK/serve.log" | head -n 1)
[ -n "$ADDR" ] || { cat "$WORK/serve.log" >&2; exit 1; }
printf '$ mipart serve --listen 127.0.0.1:0 &   # %s\n' "$(head -n 1 "$WORK/serve.log")"
printf '$ curl -s http://%s/metrics | grep -E ...\n' "$ADDR"
curl -sf "http://$ADDR/metrics" >"$WORK/metrics"
grep -E '^mipart_(partition_busy_percent|partition_vram_used_bytes)\{' "$WORK/metrics" | grep -v ' 0$' | head -n 6
grep -E '^mipart_(gpu_power_watts\{gpu="0"|config_in_sync )' "$WORK/metrics"
echo "($(grep -c '^mipart_' "$WORK/metrics") mipart series; also /api/v1/status and /healthz)"
printf '$ curl -s http://%s/metrics | grep gpu_gfx_busy_instantaneous   # AMD exporter names too\n' "$ADDR"
grep '^gpu_gfx_busy_instantaneous{' "$WORK/metrics" | grep -v ' 0$' | head -n 2
curl -sf "http://$ADDR/" >"$WORK/status.html"
echo "(status page: http://$ADDR/ with $(grep -o 'data-partition=' "$WORK/status.html" | wc -l) partition tiles)"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
SERVE_PID=
for i in $(seq 0 $((n - 1))); do "$MIPART" sim release "$HOST" --pid $((5001 + i)); done

step "8. Fault: the driver fails to load during a change; mipart rolls back"
for a in $(M allocations --json | jq -r '.allocations[].name'); do M release "$a" >/dev/null; done
show "$MIPART" sim fault "$HOST" --on reload --error EIO --times 1
refused M set -g all --compute CPX --memory NPS4
show M status
show M history --limit 2

step "9. Any model: a Hugging Face id that is not in the catalog (a recorded Hub tree served on 127.0.0.1)"
HERE=$(cd "$(dirname "$0")/.." && pwd)
python3 "$HERE/tests/integration/hubserver.py" --root "$HERE/tests/fixtures/hub" \
	--port-file "$WORK/hub.port" --log "$WORK/hub.log" &
HUB_PID=$!
for _ in $(seq 200); do [ -s "$WORK/hub.port" ] && break; sleep 0.05; done
[ -s "$WORK/hub.port" ] || { echo "demo: the local Hub did not start" >&2; exit 1; }
export HF_ENDPOINT="http://127.0.0.1:$(cat "$WORK/hub.port")" HF_HOME="$WORK/hf"
show "$MIPART" estimate Qwen/Qwen2.5-0.5B-Instruct --max-model-len 8192 --device-memory 24GiB |
	sed -n '1,10p;/^ *MI300X  /p'
printf '$ mipart estimate Qwen/Qwen2.5-0.5B-Instruct --max-model-len 8192 --device-memory 24GiB --json | jq ...\n'
"$MIPART" estimate Qwen/Qwen2.5-0.5B-Instruct --max-model-len 8192 --device-memory 24GiB --json |
	jq -c '{kv_cache_tokens, max_concurrency, max_model_len_fit}'
kill "$HUB_PID" 2>/dev/null
wait "$HUB_PID" 2>/dev/null || true
unset HF_ENDPOINT HF_HOME
echo "(config.json, the safetensors index and headers came over HTTP into \$HF_HOME; a second call is offline)"

step "10-11. Stay right, and the fleet: node labels, one plan for 125 nodes, a layout that survives a reboot"
show M labels --stdout
printf '$ mipart plan -m ... --nodes 125 --gpus-per-node 8 --product mi300x -o fleet.yaml | head\n'
M plan -m meta-llama/Llama-3.1-8B-Instruct:600,max-model-len=16384 -m Qwen/Qwen2.5-7B-Instruct:300,max-model-len=16384 \
	-m meta-llama/Llama-3.1-70B-Instruct:60@fp8,max-model-len=16384 \
	--nodes 125 --gpus-per-node 8 --product mi300x -o "$WORK/fleet.yaml" | sed -n '1,8p'
show M apply --persist -f "$WORK/plan.yaml" -c serve
show "$MIPART" sim reload "$HOST"
echo "(a reboot: the driver comes back in its default modes; mipart-boot.service runs, before the kubelet:)"
show M boot
show M assert -f "$WORK/plan.yaml" -c serve

step "12. Slurm: the modes as node features, the partitions as GRES (docs/slurm.md)"
show M slurm helpers-conf --helper /usr/bin/mipart-slurm-helper | sed -n '1,4p;/MutuallyExclusive/p;/ExecTime/p'
show M slurm gres | sed -n '1,3p;$p'

step "13. From Python: the partitioner interface over libmipart, on this node"
PYDIR=$(cd "$(dirname "$MIPART")/../../python" 2>/dev/null && pwd || true)
if [ -n "$PYDIR" ] && [ -f "$PYDIR/rocm_partitioner_real.py" ]; then
	cat >"$WORK/partitioner.py" <<'PY'
from rocm_partitioner_real import ROCmPartitionerReal, ComputePartitionMode, MemoryPartitionMode
partitioner = ROCmPartitionerReal(gpu_id=0)
partitioner.initialize(gpu_name="MI300X", compute_mode=ComputePartitionMode.CPX,
                       memory_mode=MemoryPartitionMode.NPS4)
devices = partitioner.get_logical_devices()          # 8 logical devices in CPX
success, error = partitioner.allocate_model("meta-llama/Llama-3.1-8B-Instruct",
                                            partition_id=0, precision="fp16")
env_vars = partitioner.get_environment_variables(partition_id=0)
print(len(devices), "devices:", ", ".join(f"{d.memory_gb:.2f} GiB" for d in devices))
print("allocate_model:", (success, error))
print({k: env_vars[k] for k in ("ROCR_VISIBLE_DEVICES", "AIM_PARTITION_ID", "MIPART_MODEL")})
print("vllm:", " ".join(partitioner.get_vllm_command(0)))
PY
	sed 's/^/>>> /' "$WORK/partitioner.py" | head -n 8
	MIPART_ROOT=$HOST PYTHONPATH=$PYDIR PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 "$WORK/partitioner.py"
	echo "(CPX/NPS4 on an MI300X: ~24 GiB per logical device, not 48; docs/python.md)"
else
	echo "(the Python package was not built: python3-dev missing)"
fi



step "14. Look at it: the status page of mipart serve, in headless Chromium"
OUT=$(cd "$(dirname "$MIPART")/../.." && pwd)
"$MIPART" --root "$HOST" serve --listen 127.0.0.1:0 2>"$WORK/serve2.log" &
SERVE_PID=$!
for _ in $(seq 100); do grep -q 'listening on' "$WORK/serve2.log" && break; sleep 0.05; done
ADDR=$(sed -n 's/.*listening on //p' "$WORK/serve2.log" | head -n 1)
if command -v chromium >/dev/null 2>&1 && [ -n "$ADDR" ]; then
	mkdir -p "$WORK/profile"
	timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--disable-dev-shm-usage --user-data-dir="$WORK/profile" --hide-scrollbars \
		--window-size=1280,1400 --screenshot="$OUT/demo-status-page.png" "http://$ADDR/" \
		>/dev/null 2>&1 || true
fi
if [ -s "$OUT/demo-status-page.png" ]; then
	echo "the status page of http://$ADDR/ as a person sees it: $OUT/demo-status-page.png"
else
	echo "(chromium is not installed: open http://$ADDR/ in a browser instead)"
fi
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || true
SERVE_PID=

printf '\nEvery step of the story is built.\n'
