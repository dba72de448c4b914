#!/bin/sh
# mipart plan for a fleet: --nodes/--gpus-per-node/--product and --inventory (kubectl get nodes
# -o json, the shape kubectl prints: a v1 List of Nodes), the layout file, the assignment.
. "$(dirname "$0")/lib.sh"

M="-m meta-llama/Llama-3.1-8B-Instruct:40,max-model-len=8192 -m Qwen/Qwen2.5-7B-Instruct:20"
# shellcheck disable=SC2086 # M is words on purpose
run mipart plan $M --nodes 6 --gpus-per-node 8 --product mi300x -o "$T_TMP/fleet.yaml" --json
is "$RC" 0 "a fleet plan places everything"
is "$(jqo '.nodes | length')" 6 "one entry per node"
is "$(jqo '[.configs[].nodes] | add')" 6 "every node has a config"
is "$(jqo '.kubectl | length')" 6 "one kubectl label command per node"
like "$(jqo '.kubectl[0]')" "kubectl label node node-001 dcm.amd.com/gpu-config-profile=mi300x-* --overwrite" "with DCM's key by default"
is "$(jqo '[.nodes[].placements | length] | add')" 60 "the placements per node add up"
is "$(jqo '.gap <= 0.02')" true "gap within 2%"
run mipart validate -f "$T_TMP/fleet.yaml" --json
is "$RC" 0 "the layout file is valid"
is "$(jqo '.configs | length')" "$(mipart plan $M --nodes 6 --gpus-per-node 8 --product mi300x --json | jq '.configs | length')" "one config per distinct node layout"

# a node of the fleet applies its config like any layout file
H="$T_TMP/h"
mipart sim create "$H" --gpus 8 2>/dev/null
run mipart plan $M --nodes 6 --gpus-per-node 8 --product mi300x --json
CFG=$(jqo '.nodes[0].config')
run mipart --root "$H" apply -f "$T_TMP/fleet.yaml" -c "$CFG"
is "$RC" 0 "a simulated node applies its config '$CFG'"

cat >"$T_TMP/nodes.json" <<'JSON'
{"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": [
 {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "gpu-a", "labels": {"feature.node.kubernetes.io/mipart-product": "MI300X", "feature.node.kubernetes.io/mipart-gpus": "8"}}},
 {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "gpu-b", "labels": {"feature.node.kubernetes.io/mipart-product": "MI300X", "feature.node.kubernetes.io/mipart-gpus": "8"}}},
 {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "cpu-a", "labels": {"kubernetes.io/hostname": "cpu-a"}}}
]}
JSON
run mipart plan $M --inventory "$T_TMP/nodes.json" --label-key example.com/layout --json
is "$RC" 0 "--inventory plans the labelled nodes"
is "$(jqo '[.nodes[].node] | join(",")')" "gpu-a,gpu-b" "and only those"
like "$ERR" "*1 node in*without mipart's labels*" "saying which it left out"
like "$(jqo '.kubectl[1]')" "kubectl label node gpu-b example.com/layout=*" "--label-key"

run mipart plan $M --nodes 2 --product mi300x
is "$RC" 2 "--nodes without --gpus-per-node is a usage error"
run mipart plan $M --inventory "$T_TMP/nodes.json" --nodes 2
is "$RC" 2 "--inventory with --nodes is a usage error"
run mipart plan $M --nodes 2 --gpus-per-node 8 --product mi300x --label-key 'bad key'
is "$RC" 2 "an invalid label key is refused"
