#!/bin/bash
# A real Prometheus (Debian's prometheus, on loopback, temporary storage, 1 s scrapes) scrapes
# `mipart serve` on a simulated 2 x MI300X host in CPX, and the test asks Prometheus's query API:
# the target is up with no scrape errors, every partition has its series (mipart's and AMD's),
# the values follow `sim load`, and drift flips after an out-of-band `sim write`. Bounded: every
# wait is a loop with a cap; both servers are stopped on exit. bash for $RANDOM-free port picks.
. "$(dirname "$0")/lib.sh"
: "${PROMETHEUS:=prometheus}"
if ! command -v "$PROMETHEUS" >/dev/null 2>&1; then
	ok 1 "prometheus is installed (Debian package prometheus; make deps)"
	exit 1
fi


H="$T_TMP/h"
mipart sim create "$H" --gpus 2 >/dev/null 2>&1
mipart --root "$H" set -g all --compute CPX >/dev/null 2>&1
is "$?" 0 "a simulated 2 x MI300X host in CPX (16 partitions), set by mipart (a change recorded)"
# the logical index of partition 1.3: KFD re-adds a switched GPU's nodes at the tail in the
# order the switches finish, and mipart switches the GPUs side by side (HARDWARE.md 8.14)
L=$(mipart --root "$H" list --json | jq '.gpus[1].partitions[3].index')
mipart sim hold "$H" --gpu 1 --pid 4242 --comm vllm >/dev/null 2>&1
mipart sim load "$H" --partition 1.3 --busy 40 --vram 3GiB >/dev/null

# mipart serve on a port the kernel picks, no cache: each scrape is a fresh collection
"$MIPART" --root "$H" serve --listen 127.0.0.1:0 --interval 0 2>"$T_TMP/serve.log" &
T_PIDS="$T_PIDS $!"
ADDR=
for _ in $(seq 200); do
	ADDR=$(sed -n 's/^listening on \(.*\)$/\1/p' "$T_TMP/serve.log")
	[ -n "$ADDR" ] && break
	sleep 0.05
done
like "$ADDR" "127.0.0.1:[1-9]*" "mipart serve listens on $ADDR"

# a free loopback port for Prometheus: the kernel picks one, python3 reports it and closes it
PPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$T_TMP/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: mipart
    static_configs:
      - targets: ['$ADDR']
  - job_name: prometheus # itself: its counters of rejected samples
    static_configs:
      - targets: ['127.0.0.1:$PPORT']
YAML
"$PROMETHEUS" --config.file="$T_TMP/prometheus.yml" --storage.tsdb.path="$T_TMP/tsdb" \
	--storage.tsdb.retention.time=1h --web.listen-address="127.0.0.1:$PPORT" \
	--log.level=warn 2>"$T_TMP/prometheus.log" &
T_PIDS="$T_PIDS $!"

# q EXPR: the value of an instant query with one result ("" when it has none)
q() {
	curl -s --max-time 5 -G "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1" |
		jq -r 'if .status == "success" and (.data.result | length) == 1 then .data.result[0].value[1] else "" end'
}
# wait_for EXPR WANT: poll (every 0.25 s, at most 30 s) until EXPR is WANT; GOT has the last
wait_for() {
	GOT=
	for _ in $(seq 120); do
		GOT=$(q "$1")
		[ "$GOT" = "$2" ] && return 0
		sleep 0.25
	done
	return 1
}

wait_for 'up{job="mipart"}' 1
is "$GOT" 1 "Prometheus scrapes mipart: up is 1"
wait_for 'count(mipart_partition_info)' 16
is "$GOT" 16 "every partition has its mipart_partition_info series (16)"
is "$(q 'count(count by (gpu, partition) (mipart_partition_busy_percent))')" 16 "  ... and a busy series each"
is "$(q 'count(gpu_total_vram)')" 16 "AMD's gpu_total_vram for every partition (16)"
is "$(q 'count(count by (gpu_id) (gpu_used_vram))')" 16 "  ... gpu_used_vram under 16 gpu_id values"
is "$(q 'mipart_partition_busy_percent{gpu="1",partition="3"}')" 40 "partition 1.3 is 40% busy, as sim load said"
is "$(q 'mipart_partition_vram_used_bytes{gpu="1",partition="3"}')" 3221225472 "  ... with 3 GiB of VRAM in use"
is "$(q "gpu_gfx_busy_instantaneous{gpu_id=\"$L\"}")" 40 "  ... and AMD's series for logical device $L say the same"
is "$(q "gpu_used_vram{gpu_id=\"$L\"}")" 3072 "  ... 3072 MB used"
is "$(q 'mipart_config_in_sync')" 1 "the node is in sync with the last change"

# AMD's dashboards (ROCm/device-metrics-exporter grafana/dashboard_gpu.json, dashboard_overview.json),
# their queries with ${g_metrics_prefix} empty and the variables filled in for logical device $L
UUID=$(curl -s --max-time 5 -G "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=gpu_total_vram{gpu_id=\"$L\"}" |
	jq -r '.data.result[0].metric.gpu_uuid')
HOST=$(curl -s --max-time 5 -G "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode 'query=gpu_nodes_total' |
	jq -r '.data.result[0].metric.hostname')
like "$UUID" "03ff74a1-0000-1000-80*" "AMD's gpu_uuid label: one per logical device, amd-smi's shape"
is "$(q "sum(gpu_used_vram{gpu_uuid=\"$UUID\"})")" 3072 "AMD dashboard 'VRAM Usage' (used): 3072 MB"
is "$(q "sum(gpu_total_vram{gpu_uuid=\"$UUID\"})")" 24574 "  ... (total): 24574 MB, a CPX partition"
is "$(q "avg(gpu_gfx_busy_instantaneous{gpu_uuid=\"$UUID\", card_model!~\"102-D65208-0C|102-D67305-00|102-D65209-0C\", gpu_id=\"$L\"})")" 40 \
	"AMD dashboard 'GPU Usage' on a partitioned GPU: 40"
is "$(q "gpu_package_power{hostname=\"$HOST\", gpu_id=\"8\"}")" 140 "AMD dashboard 'GPU Power Usage' (primary partition of GPU 1): 140 W"
is "$(q 'sum(gpu_nodes_total{cluster_name=""})')" 16 "AMD overview 'GPUs': 16"
is "$(q 'sum(gpu_package_power{cluster_name=""}) or vector(0)')" 280 "AMD overview 'Total Power Usage': 280 W (2 sockets, not 16)"
is "$(q 'count(gpu_junction_temperature)')" 2 "AMD's junction temperature once per socket"

# the values follow the simulated driver
mipart sim load "$H" --partition 1.3 --busy 85 >/dev/null
wait_for 'mipart_partition_busy_percent{gpu="1",partition="3"}' 85
is "$GOT" 85 "after sim load --busy 85, Prometheus reads 85"

# drift: someone switches GPU 0 behind mipart's back
mipart sim write "$H" 0 current_compute_partition SPX >/dev/null 2>&1
wait_for 'mipart_config_in_sync' 0
is "$GOT" 0 "after an out-of-band sim write, mipart_config_in_sync flips to 0"
is "$(q 'mipart_gpu_config_in_sync{gpu="0"}')" 0 "  ... GPU 0 drifted"
is "$(q 'mipart_gpu_config_in_sync{gpu="1"}')" 1 "  ... GPU 1 did not"
wait_for 'count(mipart_partition_info)' 9
is "$GOT" 9 "  ... and the series follow the new layout (1 + 8 partitions)"

# no scrape failed, and every sample was accepted
is "$(q 'count_over_time(up{job="mipart"}[1h]) - sum_over_time(up{job="mipart"}[1h])')" 0 "no scrape failed"
T=$(curl -s --max-time 5 "http://127.0.0.1:$PPORT/api/v1/targets" | jq -r '.data.activeTargets[0] | "\(.health) [\(.lastError)]"')
is "$T" "up []" "the target is healthy with no last error"
wait_for 'up{job="prometheus"}' 1
is "$(q 'sum(prometheus_target_scrapes_sample_duplicate_timestamp_total) + sum(prometheus_target_scrapes_sample_out_of_order_total) + sum(prometheus_target_scrapes_exceeded_sample_limit_total)')" 0 \
	"Prometheus rejected no sample (duplicates, out of order, limits)"
is "$(grep -ci 'level=error' "$T_TMP/prometheus.log")" 0 "Prometheus logged no error"
