#!/bin/sh
# deploy/kubernetes: every file parses as YAML (python3-yaml), the kustomization lists them, the
# RBAC is exactly the least the agent needs, and every hostPath of the DaemonSet is justified
# by a comment right above it.
. "$(dirname "$0")/lib.sh"

D="$(dirname "$0")/../../deploy/kubernetes"
run python3 - "$D" <<'PY'
import os, sys, yaml
d = sys.argv[1]
docs = {}
for f in sorted(os.listdir(d)):
    if f.endswith(".yaml"):
        with open(os.path.join(d, f)) as fh:
            docs[f] = [x for x in yaml.safe_load_all(fh) if x]
print("files", " ".join(sorted(docs)))
kust = docs["kustomization.yaml"][0]
print("kustomization", " ".join(kust["resources"]))
kinds = sorted("%s/%s" % (x["kind"], x["metadata"]["name"]) for f, xs in docs.items() if f != "kustomization.yaml" for x in xs)
print("kinds", " ".join(kinds))
role = next(x for x in docs["rbac.yaml"] if x["kind"] == "ClusterRole")
print("rules", ";".join("%s:%s" % (",".join(r["resources"]), ",".join(r["verbs"])) for r in role["rules"]))
ds = docs["daemonset.yaml"][0]
spec = ds["spec"]["template"]["spec"]
c = spec["containers"][0]
print("sa", spec["serviceAccountName"], "node_env", c["env"][0]["valueFrom"]["fieldRef"]["fieldPath"])
print("hostpaths", " ".join(v["hostPath"]["path"] for v in spec["volumes"] if "hostPath" in v))
mounted = set(m["name"] for m in c["volumeMounts"])
print("unmounted", " ".join(v["name"] for v in spec["volumes"] if v["name"] not in mounted) or "none")
cm = docs["configmap.yaml"][0]
print("layout", "version: v1" in cm["data"]["layout.yaml"])
with open(os.path.join(d, "layout-from-configmap.yaml.tmp"), "w") as fh:
    fh.write(cm["data"]["layout.yaml"])
PY
is "$RC" 0 "every manifest parses"
like "$OUT" "*kustomization namespace.yaml rbac.yaml configmap.yaml daemonset.yaml*" "the kustomization lists them"
like "$OUT" "*kinds ClusterRole/mipart-agent ClusterRoleBinding/mipart-agent ConfigMap/mipart-layouts DaemonSet/mipart-agent Namespace/mipart ServiceAccount/mipart-agent*" "namespace, RBAC, ConfigMap, DaemonSet"
like "$OUT" "*rules nodes:get,watch,patch;pods:list;pods/eviction:create;events:create
*" "RBAC: nodes get/watch/patch, pods list, pods/eviction create, events create, nothing more"
like "$OUT" "*sa mipart-agent node_env spec.nodeName*" "the DaemonSet runs as mipart-agent with NODE_NAME from the downward API"
like "$OUT" "*unmounted none*" "every volume is mounted"
mv "$D/layout-from-configmap.yaml.tmp" "$T_TMP/layout.yaml"
run mipart validate -f "$T_TMP/layout.yaml"
is "$RC" 0 "the ConfigMap's layout is valid"
# each hostPath volume has a comment on the line(s) right above its "- name:"
awk '/^ *#/ {c=1; next} /- name: .*/ {n=$0; getline; if ($0 ~ /hostPath/) { if (!c) { print "unjustified: " n; bad=1 } } c=0; next} {c=0} END {exit bad}' "$D/daemonset.yaml"
ok $? "each hostPath is justified in a comment"

# mipart k8s-pod: pinned to its node; CDI, or the device plugin's resource when the kubelet has
# one registered (its device manager checkpoint, the shape of
# pkg/kubelet/cm/devicemanager/checkpoint/checkpoint.go: {"Data": {"PodDeviceEntries", "RegisteredDevices"}, "Checksum"})
H="$T_TMP/h"
mipart sim create "$H" --gpus 2 --compute CPX >/dev/null 2>&1
run mipart --root "$H" k8s-pod 1.3 --node gpu-node-1
is "$RC" 0 "k8s-pod with --node"
cp "$T_TMP/out" "$T_TMP/pod1.yaml"
run python3 -c 'import sys, yaml; p = yaml.safe_load(sys.stdin); print(p["spec"]["nodeName"], p["metadata"]["annotations"]["cdi.k8s.io/mipart"], "resources" in p["spec"]["containers"][0])' <"$T_TMP/pod1.yaml"
is "$OUT" "gpu-node-1 amd.com/gpu=1.3 False" "nodeName, and the partition by CDI (no device plugin here)"
NODE_NAME=gpu-node-2 mipart --root "$H" k8s-pod 0.0 >"$T_TMP/pod.yaml" 2>/dev/null
grep -q '^  nodeName: gpu-node-2$' "$T_TMP/pod.yaml"; ok $? "NODE_NAME names the node"
mkdir -p "$H/var/lib/kubelet/device-plugins"
printf '{"Data": {"PodDeviceEntries": null, "RegisteredDevices": {"amd.com/cpx_nps1": ["0", "1"]}}, "Checksum": 1}' \
	>"$H/var/lib/kubelet/device-plugins/kubelet_internal_checkpoint"
mipart --root "$H" k8s-pod 1.3 --node gpu-node-1 >"$T_TMP/pod2.yaml" 2>/dev/null
run python3 -c 'import sys, yaml; p = yaml.safe_load(sys.stdin); c = p["spec"]["containers"][0]; print(c["resources"]["limits"], "annotations" in p["metadata"], [e["name"] for e in c["env"]])' <"$T_TMP/pod2.yaml"
is "$OUT" "{'amd.com/cpx_nps1': 1} False ['MIPART_PARTITION_MEMORY_BYTES']" "with the plugin (mixed naming): its resource, no CDI, no partition variables"
run mipart --root "$H" k8s-pod 1.3 --node gpu-node-1 --via cdi
like "$OUT" "*cdi.k8s.io/mipart*" "--via cdi still names the partition"
run mipart --root "$H" k8s-pod 1.3 --node Bad_Name
is "$RC" 2 "a node name that is no DNS name is refused"
