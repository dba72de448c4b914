#!/bin/sh
# mipart agent against tests/tools/fake-kube-api.py (loopback): a label change applied, a busy
# GPU drained by evicting only its pod, a PodDisruptionBudget that blocks (failed, pod named),
# a driver fault rolled back, the API server gone in the middle of a change, the agent killed in
# the middle of one, 401/403/409, the watch (bookmarks, 410 Gone), DCM's config.json.
. "$(dirname "$0")/lib.sh"

FAKE="$(dirname "$0")/../tools/fake-kube-api.py"
export MIPART_AGENT_BACKOFF_MS=100
CID_A=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
CID_B=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
printf 't0ken\n' >"$T_TMP/token"
cat >"$T_TMP/layout.yaml" <<'YAML'
version: v1
partition-configs:
  spx:
    - devices: all
      compute: SPX
      memory: NPS1
  half-cpx:
    - devices: [0, 1, 2, 3]
      compute: CPX
    - devices: [4, 5, 6, 7]
      compute: SPX
  all-cpx-nps4:
    - devices: all
      compute: CPX
      memory: NPS4
YAML

journal_is() { mipart --root "$H" history --json 2>/dev/null | jq -e --arg s "$1" '.changes[0].state == $s' >/dev/null; }
modes() {
	mipart --root "$H" list --json | jq -r '[.gpus[] | .compute_partition + "/" + .memory_partition] | join(",")'
}
# fresh SCENARIO_JSON: a new simulated 8-GPU node and a fake API server for it
fresh() {
	n=$((${n:-0} + 1))
	H="$T_TMP/h$n"
	S="$T_TMP/s$n"
	mkdir -p "$S"
	mipart sim create "$H" --gpus 8 >/dev/null 2>&1
	printf '%s\n' "$1" >"$S/scenario.json"
	start_server
}
start_server() { # start_server [PORT]
	rm -f "$S/port"
	if [ $# -gt 0 ]; then python3 "$FAKE" "$S" --port "$1" & else python3 "$FAKE" "$S" & fi
	SRV=$!
	wait_until test -s "$S/port"
	PORT=$(cat "$S/port")
}
stop_server() { kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; }
agent() {
	mipart --root "$H" agent --api-server "http://127.0.0.1:$PORT" --token-file "$T_TMP/token" \
		--node gpu-node-1 --config "$T_TMP/layout.yaml" --labels-file "$H/nfd/mipart" "$@"
}
# the same, as the process itself (exec): for a background run that is killed by its pid
agent_exec() {
	exec "$MIPART" --root "$H" agent --api-server "http://127.0.0.1:$PORT" --token-file "$T_TMP/token" \
		--node gpu-node-1 --config "$T_TMP/layout.yaml" --labels-file "$H/nfd/mipart" "$@"
}
state_label() { jq -r '.metadata.labels["dcm.amd.com/gpu-config-profile-state"] // ""' "$S/node.json"; }
reasons() { [ -f "$S/events.jsonl" ] && jq -r .reason "$S/events.jsonl" | tr '\n' ' '; }
# a kubelet stand-in: when the pod is evicted, its process ends (in the simulated driver)
kubelet() { # kubelet POD PID
	wait_until grep -qx "$1" "$S/evictions.log" 2>/dev/null
	mipart sim release "$H" --pid "$2" >/dev/null 2>&1
}
PLUGIN='{"namespace": "kube-system", "name": "amdgpu-dp-ds-x7k2p", "labels": {"name": "amdgpu-dp-ds"}, "containerID": "containerd://cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"}'

# 1. a label change -> apply -> success
fresh '{"node": "gpu-node-1", "token": "t0ken", "labels": {"dcm.amd.com/gpu-config-profile": "half-cpx"}, "pods": ['"$PLUGIN"']}'
run agent --once
is "$RC" 0 "--once: the config label is applied"
is "$(modes)" "CPX/NPS1,CPX/NPS1,CPX/NPS1,CPX/NPS1,SPX/NPS1,SPX/NPS1,SPX/NPS1,SPX/NPS1" "the GPUs are in half-cpx"
is "$(state_label)" success "the state label says success"
is "$(grep -c 'gpu-config-profile-state=' "$S/labels.log")" 2 "after pending"
head -1 "$S/labels.log" | grep -qx 'dcm.amd.com/gpu-config-profile-state=pending'; ok $? "pending came first"
like "$(reasons)" "PartitionPending *PartitionApplied *DevicePluginRestarted *PartitionSucceeded*" "an Event per step"
grep -qx kube-system/amdgpu-dp-ds-x7k2p "$S/evictions.log"; ok $? "the device plugin pod is restarted (evicted)"
grep -q 'mipart-config' "$H/nfd/mipart" 2>/dev/null || grep -q 'compute-partitioning-supported=true' "$H/nfd/mipart"; ok $? "the NFD labels are rewritten"
[ -s "$H/etc/cdi/amd.com-gpu.json" ]; ok $? "the CDI spec is regenerated"
jq -e 'select(.reason == "PartitionSucceeded") | .involvedObject.kind == "Node" and .involvedObject.name == "gpu-node-1" and .source.component == "mipart-agent"' "$S/events.jsonl" >/dev/null
ok $? "events are on the Node, from mipart-agent"
run mipart --root "$H" history --json
like "$(jqo '.changes[0].command')" "mipart agent (node gpu-node-1, config half-cpx)" "the change is journaled"
run agent --once
is "$RC" 0 "a second --once"
is "$(grep -c 'gpu-config-profile-state=' "$S/labels.log")" 2 "changes nothing (already reported)"
stop_server
# without --labels-file: NFD's path, under the same rule as labels and serve (labels.h): no
# features.d, nothing written or made; once NFD made it, written there
agent_nfd() {
	mipart --root "$H" agent --api-server "http://127.0.0.1:$PORT" --token-file "$T_TMP/token" \
		--node gpu-node-1 --config "$T_TMP/layout.yaml" --once
}
fresh '{"node": "gpu-node-1", "labels": {"dcm.amd.com/gpu-config-profile": "spx"}}'
NFDF="$H/etc/kubernetes/node-feature-discovery/features.d/mipart"
run agent_nfd
like "$ERR" "*node labels not written to '$NFDF': Node Feature Discovery's features.d is missing*" "the default path without NFD's features.d: says so"
[ ! -e "$H/etc/kubernetes" ]; ok $? "and makes no /etc/kubernetes tree"
stop_server
fresh '{"node": "gpu-node-1", "labels": {"dcm.amd.com/gpu-config-profile": "spx"}}'
NFDF="$H/etc/kubernetes/node-feature-discovery/features.d/mipart"
mkdir -p "$(dirname "$NFDF")"
run agent_nfd
grep -q 'compute-partitioning-supported=true' "$NFDF"; ok $? "with NFD's features.d: written there"
stop_server

# 2. a busy GPU: only the pod holding it is evicted, then the change is applied
fresh '{"node": "gpu-node-1", "labels": {"dcm.amd.com/gpu-config-profile": "half-cpx"}, "pods": [
  {"namespace": "llm", "name": "vllm-a", "containerID": "containerd://'$CID_A'"},
  {"namespace": "llm", "name": "vllm-b", "containerID": "containerd://'$CID_B'"}]}'
mipart sim hold "$H" --gpu 2 --pid 4242 --comm vllm --container "$CID_A" >/dev/null 2>&1
mipart sim hold "$H" --gpu 6 --pid 4343 --comm vllm --container "$CID_B" >/dev/null 2>&1
kubelet llm/vllm-a 4242 &
KL=$!
run agent --once --drain-timeout 600
wait "$KL"
is "$RC" 0 "busy GPU 2: applied after a targeted eviction"
is "$(cat "$S/evictions.log")" "llm/vllm-a" "only vllm-a (GPU 2) was evicted, not vllm-b (GPU 6)"
is "$(modes | cut -d, -f3)" "CPX/NPS1" "GPU 2 is CPX"
like "$(jq -r 'select(.reason == "Draining") | .message' "$S/events.jsonl")" "*GPU 0,1,2,3*llm/vllm-a*" "the Draining event names the GPUs and the pod"
stop_server

# 3. a PodDisruptionBudget blocks: failed, naming the pod, nothing changed
fresh '{"node": "gpu-node-1", "labels": {"dcm.amd.com/gpu-config-profile": "half-cpx"}, "pods": [
  {"namespace": "llm", "name": "vllm-pdb", "containerID": "containerd://'$CID_A'", "pdb": true}]}'
mipart sim hold "$H" --gpu 0 --pid 4242 --comm vllm --container "$CID_A" >/dev/null 2>&1
run agent --once --drain-timeout 1
is "$RC" 1 "a PodDisruptionBudget that never allows: exit 1"
is "$(state_label)" failed "state failed"
like "$(jq -r 'select(.reason == "PartitionFailed") | .message' "$S/events.jsonl")" "*PodDisruptionBudget*llm/vllm-pdb*" "the event names the pod"
grep -q 'eviction 429' "$S/requests.log"; ok $? "the Eviction API answered 429"
is "$(modes | cut -d, -f1)" "SPX/NPS1" "GPU 0 is unchanged"
stop_server

# 4. a driver fault: rolled back, failed with the journal change
fresh '{"node": "gpu-node-1", "labels": {"dcm.amd.com/gpu-config-profile": "half-cpx"}}'
mipart sim fault "$H" --gpu 2 --on compute-write --error EIO >/dev/null 2>&1
run agent --once
is "$RC" 1 "a fault in the driver: exit 1"
is "$(state_label)" failed "state failed"
like "$(jq -r 'select(.reason == "PartitionFailed") | .message' "$S/events.jsonl")" "*journal change 1, rolled-back*" "rolled back, with the journal change"
is "$(modes)" "SPX/NPS1,SPX/NPS1,SPX/NPS1,SPX/NPS1,SPX/NPS1,SPX/NPS1,SPX/NPS1,SPX/NPS1" "every GPU is back in SPX"
stop_server

# 5. the API server goes away after 'pending': the node ends whole, the state is reported later
fresh '{"node": "gpu-node-1", "labels": {"dcm.amd.com/gpu-config-profile": "all-cpx-nps4"}, "exit_after_state": "pending"}'
agent_exec --once >"$T_TMP/a5.out" 2>"$T_TMP/a5.err" &
AG=$!
wait "$SRV"
is "$?" 0 "the API server went away after the pending label"
wait_until journal_is done
is "$(modes | cut -d, -f1,8)" "CPX/NPS4,CPX/NPS4" "the change is done meanwhile (a reload, without the API server)"
jq '.scenario = 1' "$S/scenario.json" | jq 'del(.exit_after_state)' >"$S/scenario.new" && mv "$S/scenario.new" "$S/scenario.json"
start_server "$PORT"
wait "$AG"
is "$?" 0 "the agent reports once the API server is back, exit 0"
is "$(state_label)" success "state success on the new server"
grep -q 'cannot read the Node\|not have the state\|set the state label' "$T_TMP/a5.err"; ok $? "it said the API server was unreachable"
stop_server

# 6. the agent killed in the middle of a change: the next one recovers and finishes
fresh '{"node": "gpu-node-1", "labels": {"dcm.amd.com/gpu-config-profile": "half-cpx"}}'
mipart sim fault "$H" --gpu 1 --on compute-write --delay 600000 --times 1 >/dev/null 2>&1
agent_exec --once >/dev/null 2>&1 &
AG=$!
wait_until journal_is running
kill -9 "$AG"; wait "$AG" 2>/dev/null
mipart sim fault "$H" --clear >/dev/null 2>&1
is "$(jq -r .state "$H/var/lib/mipart/agent.json")" pending "killed mid-change: the agent's record says pending"
is "$(state_label)" pending "and so does the Node"
run agent --once
is "$RC" 0 "restarted, the agent recovers the journal and finishes the change"
is "$(modes | cut -d, -f1-2)" "CPX/NPS1,CPX/NPS1" "GPU 0 and 1 in CPX"
like "$ERR" "*left unfinished: journal change 1 *" "it said what it recovered"
is "$(state_label)" success "state success"
stop_server

# 6b. the agent killed in the middle of a driver reload, with the node cordoned: the next one
# recovers the journal, uncordons the node it cordoned (its annotation says so), reports
fresh '{"node": "gpu-node-1", "labels": {"dcm.amd.com/gpu-config-profile": "all-cpx-nps4"}}'
mipart sim fault "$H" --on reload --delay 600000 --times 1 >/dev/null 2>&1
agent_exec --once >/dev/null 2>&1 &
AG=$!
wait_until journal_is running
kill -9 "$AG"; wait "$AG" 2>/dev/null
mipart sim fault "$H" --clear >/dev/null 2>&1
is "$(jq -r '.spec.unschedulable' "$S/node.json")" true "killed mid-reload: the node is left cordoned"
is "$(jq -r '.metadata.annotations["mipart/agent-cordoned"]' "$S/node.json")" all-cpx-nps4 "with the agent's annotation, in the same patch"
run agent --once
is "$RC" 0 "restarted: recovered, uncordoned, and the change done"
is "$(modes | cut -d, -f1,8)" "CPX/NPS4,CPX/NPS4" "the node ends whole, in the config"
is "$(jq -r '.spec.unschedulable // false' "$S/node.json")" false "uncordoned"
is "$(jq -r '.metadata.annotations["mipart/agent-cordoned"] // "none"' "$S/node.json")" none "the annotation is gone"
is "$(state_label)" success "the state is reported"
like "$(jq -r 'select(.reason == "Uncordoned") | .message' "$S/events.jsonl" | head -1)" "*stopped before it finished*journal change 1 was recovered*" \
	"an Event says why it was uncordoned and what was recovered"
stop_server

# 6d. killed in the middle, and the label removed meanwhile: the interrupted config is reported failed
fresh '{"node": "gpu-node-1", "labels": {"dcm.amd.com/gpu-config-profile": "half-cpx"}}'
mipart sim fault "$H" --gpu 1 --on compute-write --delay 600000 --times 1 >/dev/null 2>&1
agent_exec --once >/dev/null 2>&1 &
AG=$!
wait_until journal_is running
kill -9 "$AG"; wait "$AG" 2>/dev/null
mipart sim fault "$H" --clear >/dev/null 2>&1
printf '{"dcm.amd.com/gpu-config-profile": null}\n' >"$S/set-labels.json"
no_config() { [ "$(jq -r '.metadata.labels["dcm.amd.com/gpu-config-profile"] // "none"' "$S/node.json")" = none ]; }
wait_until no_config
run agent --once
is "$RC" 1 "restarted with no config label: exit 1"
is "$(state_label)" failed "the interrupted config is reported failed"
like "$(jq -r 'select(.reason == "PartitionFailed") | .message' "$S/events.jsonl")" "*'half-cpx' was interrupted*journal change 1 was recovered*" \
	"saying it was interrupted and what was recovered"
stop_server

# 6c. a node an operator cordoned (no annotation) stays cordoned through a reload
fresh '{"node": "gpu-node-1", "unschedulable": true, "labels": {"dcm.amd.com/gpu-config-profile": "all-cpx-nps4"}}'
run agent --once
is "$RC" 0 "an operator's cordoned node: the reload is applied"
is "$(jq -r '.spec.unschedulable' "$S/node.json")" true "and the node stays cordoned"
grep -q '^unschedulable=' "$S/labels.log"; is "$?" 1 "the agent never patched spec.unschedulable"
stop_server

# 7. 401, 403 on events, 409 on a stale resourceVersion
fresh '{"node": "gpu-node-1", "token": "other", "labels": {"dcm.amd.com/gpu-config-profile": "half-cpx"}}'
run agent --once
is "$RC" 1 "a token the API server refuses: exit 1"
like "$ERR" "*HTTP 401 Unauthorized*RBAC*" "saying 401"
is "$(modes | cut -d, -f1)" "SPX/NPS1" "and nothing changed"
stop_server
fresh '{"node": "gpu-node-1", "labels": {"dcm.amd.com/gpu-config-profile": "half-cpx"}, "forbid": ["events"], "conflict_once": true}'
run agent --once
is "$RC" 0 "events forbidden (403) and a conflict (409): still applied"
like "$ERR" "*HTTP 403 Forbidden*" "the 403 is said once"
grep -q 'PATCH /api/v1/nodes/gpu-node-1 409' "$S/requests.log"; ok $? "the 409 came"
is "$(state_label)" success "and the state was written after reading the Node again"
is "$(jq -r '.metadata.labels["example.com/touched-by"]' "$S/node.json")" someone-else "without losing the other writer's label"
stop_server

# a token file over its cap (16 KiB): said in mipart's words (mipart_strerror), before any request
head -c 20000 /dev/zero | tr '\0' a >"$T_TMP/big-token"
run mipart --root "$H" agent --api-server "http://127.0.0.1:1" --token-file "$T_TMP/big-token" \
	--node gpu-node-1 --config "$T_TMP/layout.yaml" --once
is "$RC" 1 "a token file over its cap: exit 1"
like "$ERR" "*error: cannot read the token '$T_TMP/big-token': file too large" "  ... saying so in mipart's words"

# 8. the watch: 410 Gone -> list again; bookmarks; a label change while watching
fresh '{"node": "gpu-node-1", "labels": {}, "gone_first_watch": true}'
agent_exec >"$T_TMP/a8.out" 2>"$T_TMP/a8.err" &
AG=$!
watches() { [ "$(grep -c 'watch=1' "$S/requests.log" 2>/dev/null)" -ge 2 ]; }
wait_until watches
printf '{"dcm.amd.com/gpu-config-profile": "half-cpx"}\n' >"$S/set-labels.json"
state_is() { [ "$(state_label)" = "$1" ]; }
wait_until state_is success
kill "$AG"; wait "$AG"
is "$?" 0 "the agent stops on SIGTERM, exit 0"
is "$(state_label)" success "a label set while watching is applied"
is "$(modes | cut -d, -f1)" "CPX/NPS1" "GPU 0 is CPX"
grep -q 'allowWatchBookmarks=true' "$S/requests.log"; ok $? "the watch asks for bookmarks"
grep 'watch=1' "$S/requests.log" | head -1 | grep -q 'watch=1&resourceVersion=1000&'; ok $? "from the resourceVersion it read"
like "$(cat "$T_TMP/a8.err")" "*too old resource version*listing again*" "410 Gone: it lists again"
is "$(awk '/watch=1/ {w = 1; next} w && /^GET \/api\/v1\/nodes\/gpu-node-1 200/ {print "relisted"; exit}' "$S/requests.log")" relisted "the Node is read again (GET) after the 410 watch"
stop_server

# 9. DCM's config.json, recognised by content
cat >"$T_TMP/config.json" <<'JSON'
{
  "gpu-config-profiles": {
    "default": {"skippedGPUs": {"ids": []},
                "profiles": [{"computePartition": "CPX", "memoryPartition": "NPS1", "numGPUsAssigned": 6},
                             {"computePartition": "SPX", "memoryPartition": "NPS1", "numGPUsAssigned": 2}]},
    "profile-1": {"skippedGPUs": {"ids": [0, 1, 2]},
                  "profiles": [{"computePartition": "CPX", "memoryPartition": "NPS1", "numGPUsAssigned": 5}]}
  },
  "gpuClientSystemdServices": {"names": ["amd-metrics-exporter", "gpuagent"]}
}
JSON
fresh '{"node": "gpu-node-1", "labels": {"dcm.amd.com/gpu-config-profile": "profile-1"}}'
run agent --once --config "$T_TMP/config.json"
is "$RC" 0 "DCM's config.json profile-1"
is "$(modes)" "SPX/NPS1,SPX/NPS1,SPX/NPS1,CPX/NPS1,CPX/NPS1,CPX/NPS1,CPX/NPS1,CPX/NPS1" "skips GPUs 0-2, CPX on the other 5"
stop_server
fresh '{"node": "gpu-node-1", "labels": {"dcm.amd.com/gpu-config-profile": "no-such"}}'
run agent --once
is "$RC" 1 "a config the file does not have"
like "$(jq -r 'select(.reason == "PartitionFailed") | .message' "$S/events.jsonl")" "*no config 'no-such'*" "fails, saying so"
stop_server

# 10. hook units: a host service (no pod) holds GPU 0; the layout names its unit. The engine asks
# which run, journals them, stops those, applies, starts them again. The fake systemctl prints
# what systemctl(1) prints for is-active (one state per unit, in order) and, like the real one,
# returns from "stop" only once the unit's processes are gone (a service-manager stand-in
# ends the process in the simulated driver). It logs its argv and GPU 0's compute mode.
cat >"$T_TMP/hooks.yaml" <<'YAML'
version: v1
partition-configs:
  half-cpx:
    - devices: [0, 1, 2, 3]
      compute: CPX
    - devices: [4, 5, 6, 7]
      compute: SPX
hooks:
  units: [vllm-a.service, vllm-b.service]
YAML
mk_systemctl() { # mk_systemctl PATH
	mkdir -p "$(dirname "$1")"
	cat >"$1" <<SH
#!/bin/sh
echo "\$* \$(cat "\$HOOKS_H/sys/bus/pci/devices/0000:05:00.0/current_compute_partition")" >>"\$HOOKS_LOG"
case "\$1" in
is-active) shift; for u; do if [ "\$u" = vllm-a.service ] && ! [ -e "\$HOOKS_LOG.down" ]; then echo active; else echo inactive; fi; done ;;
stop) : >"\$HOOKS_LOG.stop"; while [ ! -e "\$HOOKS_LOG.gone" ]; do sleep 0.05; done
	[ -n "\${HOOKS_NOSTART:-}" ] && : >"\$HOOKS_LOG.down" ;;
start) # a unit that will not start: systemctl's words (systemd bus-wait-for-jobs.c), exit 1
	if [ -n "\${HOOKS_NOSTART:-}" ] || [ -e "\$HOOKS_LOG.nostart" ]; then echo "Job for \$2 failed because the control process exited with error code." >&2; exit 1; fi
	rm -f "\$HOOKS_LOG.down" ;;
esac
exit 0
SH
	chmod +x "$1"
}
# the host's service manager: when vllm-a is stopped, its process (PID) ends
service_manager() { # service_manager PID
	wait_until test -e "$HOOKS_LOG.stop"
	mipart sim release "$H" --pid "$1" >/dev/null 2>&1
	: >"$HOOKS_LOG.gone"
}
export HOOKS_LOG="$T_TMP/hooks.log" HOOKS_H
mk_systemctl "$T_TMP/bin/systemctl"
fresh '{"node": "gpu-node-1", "labels": {"dcm.amd.com/gpu-config-profile": "half-cpx"}}'
HOOKS_H=$H
mipart sim hold "$H" --gpu 0 --pid 5151 --comm vllm >/dev/null 2>&1
service_manager 5151 &
SM=$!
run agent --once --config "$T_TMP/hooks.yaml" --systemctl "$T_TMP/bin/systemctl"
wait "$SM"
is "$RC" 0 "a host service on GPU 0, named in hooks.units: applied"
is "$(modes | cut -d, -f1)" "CPX/NPS1" "GPU 0 is CPX"
is "$(tr '\n' '|' <"$HOOKS_LOG")" "is-active vllm-a.service vllm-b.service SPX|stop vllm-a.service SPX|start vllm-a.service CPX|" \
	"the running unit was stopped before the change and started after it; the stopped one left alone"
run mipart --root "$H" history --json
is "$(jqo '.changes[0].hooks.stop | join(",")'):$(jqo '.changes[0].hooks.restarted')" "vllm-a.service:true" "journaled: what was stopped, and that it was started again"
like "$(reasons)" "*HostProcesses*HookUnits*PartitionApplied*PartitionSucceeded*" "Events name the host process and the hook units"
like "$(jq -r 'select(.reason == "HookUnits") | .message' "$S/events.jsonl")" "*vllm-a.service, vllm-b.service*$T_TMP/bin/systemctl*" \
	"the HookUnits event names the units and the systemctl"
stop_server

# the same through --host-root: systemctl runs as `chroot DIR systemctl` (a chroot stand-in on
# PATH logs its arguments and runs DIR/usr/bin/PROG, as chroot(8) would find it in DIR)
rm -f "$HOOKS_LOG" "$HOOKS_LOG.stop" "$HOOKS_LOG.gone"
mk_systemctl "$T_TMP/hostroot/usr/bin/systemctl"
cat >"$T_TMP/bin/chroot" <<'SH'
#!/bin/sh
echo "chroot $1 $2" >>"$HOOKS_LOG.chroot"
r=$1; p=$2; shift 2
exec "$r/usr/bin/$p" "$@"
SH
chmod +x "$T_TMP/bin/chroot"
fresh '{"node": "gpu-node-1", "labels": {"dcm.amd.com/gpu-config-profile": "half-cpx"}}'
HOOKS_H=$H
mipart sim hold "$H" --gpu 0 --pid 5252 --comm vllm >/dev/null 2>&1
service_manager 5252 &
SM=$!
PATH="$T_TMP/bin:$PATH" run agent --once --config "$T_TMP/hooks.yaml" --host-root "$T_TMP/hostroot"
wait "$SM"
is "$RC" 0 "--host-root: applied"
is "$(sort -u "$HOOKS_LOG.chroot")" "chroot $T_TMP/hostroot systemctl" "systemctl ran chrooted into the host root"
is "$(tr '\n' '|' <"$HOOKS_LOG")" "is-active vllm-a.service vllm-b.service SPX|stop vllm-a.service SPX|start vllm-a.service CPX|" "stopped and started as before"
stop_server

# a unit that does not start again: the GPUs are at the target, but the service is down. As
# mig-manager does when it cannot restart the GPU clients, the state is "failed", naming the
# units and saying the GPUs are in the config; the journal keeps them for 'mipart recover'
rm -f "$HOOKS_LOG" "$HOOKS_LOG.stop" "$HOOKS_LOG.gone" "$HOOKS_LOG.down"
fresh '{"node": "gpu-node-1", "labels": {"dcm.amd.com/gpu-config-profile": "half-cpx"}}'
HOOKS_H=$H
mipart sim hold "$H" --gpu 0 --pid 5353 --comm vllm >/dev/null 2>&1
service_manager 5353 &
SM=$!
HOOKS_NOSTART=1 run agent --once --config "$T_TMP/hooks.yaml" --systemctl "$T_TMP/bin/systemctl"
wait "$SM"
is "$RC" 1 "a hook unit that does not start again: exit 1"
is "$(modes | cut -d, -f1)" "CPX/NPS1" "the GPUs are in the config all the same"
is "$(state_label)" failed "the state label says failed"
like "$(jq -r 'select(.reason == "PartitionFailed") | .message' "$S/events.jsonl")" \
	"*config 'half-cpx' applied to the GPUs*hook units left stopped: 'vllm-a.service'*mipart recover*" \
	"the reason says the GPUs are in the config and names the unit"
unlike "$(reasons)" "*PartitionSucceeded*" "no success reported"
run mipart --root "$H" doctor --json
is "$(jqo '.checks[] | select(.id == "journal.hook-units") | .status')" fail "doctor agrees: the unit is left stopped"
changes() { mipart --root "$H" history --json | jq '.changes | length'; }
CHANGES=$(changes)
# the next pass while the unit still does not start: it tries (as recover does), stays failed
: >"$HOOKS_LOG"
HOOKS_NOSTART=1 run agent --once --config "$T_TMP/hooks.yaml" --systemctl "$T_TMP/bin/systemctl"
is "$RC" 1 "the next pass, the unit still down: exit 1"
is "$(state_label)" failed "  ... still failed"
like "$(tr '\n' '|' <"$HOOKS_LOG")" "*start vllm-a.service*" "  ... it tried to start the unit"
unlike "$(reasons)" "*PartitionSucceeded*" "  ... no success reported"
MIPART_SYSTEMCTL="$T_TMP/bin/systemctl" run mipart --root "$H" recover
is "$RC" 0 "recover on the node"
is "$(tail -1 "$HOOKS_LOG" | cut -d' ' -f1,2)" "start vllm-a.service" "starts the unit"
# the agent's next pass: the GPUs are in the config and no unit is left stopped: success, with
# the reason, and nothing applied again
run agent --once --config "$T_TMP/hooks.yaml" --systemctl "$T_TMP/bin/systemctl"
is "$RC" 0 "the next pass after recover: exit 0"
is "$(state_label)" success "  ... the state label says success again"
like "$(jq -r 'select(.reason == "PartitionSucceeded") | .message' "$S/events.jsonl")" \
	"*config 'half-cpx' in place*hook units running again*" "  ... the Event says why"
is "$(changes)" "$CHANGES" "  ... no change journaled: nothing applied again"
unlike "$(reasons)" "*PartitionPending*PartitionPending*" "  ... no new change begun"
stop_server

# the same, the running agent (watch) starting the unit itself at its next reconcile, as
# recover does: the unit does not start at the agent's start; once it can, a Node event (here
# a label an operator sets) makes the agent start it and report success
rm -f "$HOOKS_LOG" "$HOOKS_LOG.stop" "$HOOKS_LOG.gone" "$HOOKS_LOG.down"
fresh '{"node": "gpu-node-1", "labels": {"dcm.amd.com/gpu-config-profile": "half-cpx"}}'
HOOKS_H=$H
mipart sim hold "$H" --gpu 0 --pid 5454 --comm vllm >/dev/null 2>&1
service_manager 5454 &
SM=$!
HOOKS_NOSTART=1 run agent --once --config "$T_TMP/hooks.yaml" --systemctl "$T_TMP/bin/systemctl"
wait "$SM"
is "$(state_label)" failed "a unit left stopped: failed"
CHANGES=$(changes)
: >"$HOOKS_LOG.nostart"
agent_exec --config "$T_TMP/hooks.yaml" --systemctl "$T_TMP/bin/systemctl" >"$T_TMP/a10.out" 2>"$T_TMP/a10.err" &
AG=$!
watching() { grep -q 'watch=1' "$S/requests.log" 2>/dev/null; }
wait_until watching
is "$(state_label)" failed "the watching agent, the unit still down: failed"
rm -f "$HOOKS_LOG.nostart"
printf '{"example.com/rack": "r7"}\n' >"$S/set-labels.json"
# (at most 60 s rather than wait_until's 600: an agent that never heals fails here, not by the
# suite's timeout; the reconcile is one systemctl start, a label patch and an Event)
_w=0
while ! state_is success && [ $_w -lt 1200 ]; do sleep 0.05; _w=$((_w + 1)); done
kill "$AG"; wait "$AG"
is "$(state_label)" success "the unit can start: the agent's next reconcile reports success"
like "$(jq -r 'select(.reason == "PartitionSucceeded") | .message' "$S/events.jsonl")" \
	"*hook units running again*started the hook units*'vllm-a.service'*" "  ... having started the unit itself"
is "$(tail -1 "$HOOKS_LOG" | cut -d' ' -f1,2)" "start vllm-a.service" "  ... through its systemctl"
is "$(changes)" "$CHANGES" "  ... nothing applied again"
stop_server

# killed after the units were stopped: the restarted agent's recovery starts them again
rm -f "$HOOKS_LOG" "$HOOKS_LOG.stop" "$HOOKS_LOG.gone" "$HOOKS_LOG.down" "$HOOKS_LOG.nostart"
: >"$HOOKS_LOG.gone"
fresh '{"node": "gpu-node-1", "labels": {"dcm.amd.com/gpu-config-profile": "half-cpx"}}'
HOOKS_H=$H
mipart sim fault "$H" --gpu 1 --on compute-write --delay 600000 --times 1 >/dev/null 2>&1
agent_exec --once --config "$T_TMP/hooks.yaml" --systemctl "$T_TMP/bin/systemctl" >/dev/null 2>&1 &
AG=$!
# the row is begun before the units stop (apply.c): wait for the stop too, or the kill may come
# between the two
wait_until journal_is running
wait_until grep -q '^stop vllm-a.service' "$HOOKS_LOG"
kill -9 "$AG"; wait "$AG" 2>/dev/null
mipart sim fault "$H" --clear >/dev/null 2>&1
stopped_only() { [ "$(tr '\n' '|' <"$HOOKS_LOG")" = "is-active vllm-a.service vllm-b.service SPX|stop vllm-a.service SPX|" ]; }
stopped_only; ok $? "killed mid-change: vllm-a was stopped and not started"
run agent --once --config "$T_TMP/hooks.yaml" --systemctl "$T_TMP/bin/systemctl"
is "$RC" 0 "restarted: recovered and applied"
like "$(tr '\n' '|' <"$HOOKS_LOG")" "is-active vllm-a.service vllm-b.service SPX|stop vllm-a.service SPX|start vllm-a.service *|is-active*" \
	"the recovery started vllm-a again before anything else"
is "$(tail -1 "$HOOKS_LOG")" "start vllm-a.service CPX" "and the redone change ended with it running"
stop_server

# no hook units: a host process on a disrupted GPU fails the change, naming it
fresh '{"node": "gpu-node-1", "labels": {"dcm.amd.com/gpu-config-profile": "half-cpx"}}'
mipart sim hold "$H" --gpu 0 --pid 5353 --comm vllm >/dev/null 2>&1
run agent --once
is "$RC" 1 "a host process and no hook units: exit 1"
like "$(jq -r 'select(.reason == "PartitionFailed") | .message' "$S/events.jsonl")" "*outside any pod*pid 5353 (vllm)*hooks.units*" "naming it, and what to do"
stop_server

run mipart agent --config "$T_TMP/layout.yaml" --node n --host-root relative/dir
is "$RC" 2 "--host-root must be absolute"

run mipart agent --config "$T_TMP/layout.yaml"
is "$RC" 2 "no node name: usage error"
