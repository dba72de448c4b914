#!/bin/sh
# Where real drivers differ from mipart's first model of them (../shared/HARDWARE.md section 8):
# GPU identity across mode changes, both location_id encodings, KFD nodes without gpu_id,
# exact partition sizes, the memory file of a one-NPS product, xcp_config across a switch,
# SDMA counts, more products and hosts with more than 64 logical devices.
. "$(dirname "$0")/lib.sh"
: "${FIXTURES:=$(dirname "$0")/../fixtures}"

sys_warnings() {
	jqo '[.warnings[] | select(test("/sys/"))] | length'
}
cdi_names() {
	mipart --root "$1" cdi generate --stdout | jq -r '[.devices[].name] | join(" ")'
}
gpu_ids() {
	mipart --root "$1" list --json | jq -r '[.gpus[].unique_id] | join(" ")'
}

# --- identity (8.1): the GPU's id is the PCI device's unique_id; KFD's is per partition ------
H="$T_TMP/id"
run mipart sim create "$H" --gpus 2
is "$RC" 0 "create a 2-GPU MI300X host in SPX"
ids0=$(gpu_ids "$H") names0=$(cdi_names "$H")
pci0=$(cat "$H/sys/bus/pci/devices/0000:05:00.0/unique_id")
is "${ids0%% *}" "0x$pci0" "GPU 0's unique_id is /sys/bus/pci/devices/<bdf>/unique_id"
run mipart --root "$H" set -g 0 --compute CPX
is "$RC" 0 "GPU 0 to CPX"
run mipart --root "$H" list --json
is "$(jqo '.gpus[0].unique_id')" "0x$pci0" "in CPX the GPU keeps its unique_id"
is "$(jqo '[.gpus[0].partitions[].unique_id] | unique | length')" 8 \
	"each CPX partition has its own KFD unique_id, as the driver prints xcp->unique_id"
is "$(jqo "[.gpus[0].partitions[].unique_id | select(. == \"0x$pci0\")] | length")" 0 \
	"and none of them is the GPU's"
like "$(cdi_names "$H")" "0 0.0 0.1 * $pci0-0 $pci0-1 *" "CPX: CDI names built from the GPU's id"
run mipart --root "$H" set -g 0 --compute SPX
is "$RC" 0 "and back to SPX"
is "$(gpu_ids "$H")" "$ids0" "GPU ids byte-identical after SPX -> CPX -> SPX"
is "$(cdi_names "$H")" "$names0" "CDI device names byte-identical after SPX -> CPX -> SPX"
run mipart --root "$H" list --json
is "$(jqo '.gpus[0].partitions[0].unique_id')" "0x$pci0" "in SPX the one partition shows the GPU's id"

# --- KFD nodes without gpu_id (trees captured by other tools), or with an unreadable one -----
r="$FIXTURES/kfd-no-gpu-id"
run mipart --root "$r" list --json
is "$RC" 0 "kfd-no-gpu-id: list exits 0"
is "$(jqo '[.gpus[] | "\(.bdf)/\(.compute_partition)/\(.partitions | length)"] | join(",")')" \
	"0000:05:00.0/DPX/2,0000:26:00.0/DPX/2" "kfd-no-gpu-id: both GPUs and their partitions"
is "$(jqo '[.gpus[].partitions[] | "\(.xcp):\(.render_minor):\(.memory_bytes):\(.gpu_id)"] | join(",")')" \
	"0:128:103070826496:null,1:129:103070826496:null,0:136:103070826496:null,1:137:103070826496:null" \
	"kfd-no-gpu-id: XCP, render minor, memory of each partition from the properties; gpu_id unknown"
is "$(jqo '[.warnings[] | select(test("nodes/[2-4]/gpu_id.; taking the node as a GPU"))] | length')" 3 \
	"kfd-no-gpu-id: a warning names each missing gpu_id file"
like "$ERR" "*nodes/5/gpu_id': Is a directory*nodes/5': no usable gpu_id; taking the node as a GPU*" \
	"kfd-no-gpu-id: and the unreadable one"
unlike "$ERR" "*nodes/[01]*" "kfd-no-gpu-id: CPU nodes (simd_count 0) are skipped quietly"
run mipart --root "$r" status --json
is "$RC" 0 "kfd-no-gpu-id: status exits 0"
is "$(jqo '[.gpus[].partitions | length] | add')" 4 "kfd-no-gpu-id: status shows the 4 partitions"

# --- location_id with the partition in bits 31:28 (8.2) --------------------------------------
r="$FIXTURES/location-partition-nibble"
run mipart --root "$r" list --json
is "$RC" 0 "location-partition-nibble: list exits 0"
is "$(sys_warnings)" 0 "location-partition-nibble: no warning"
is "$(jqo '[.gpus[] | "\(.bdf)/\(.partitions | length)"] | join(",")')" \
	"0000:05:00.0/8,0000:26:00.0/8" "location-partition-nibble: two GPUs, not one per partition"
is "$(jqo '[.gpus[].partitions[] | "\(.xcp):\(.render_minor)"] | join(",")')" \
	"0:128,1:129,2:130,3:131,4:132,5:133,6:134,7:135,0:136,1:137,2:138,3:139,4:140,5:141,6:142,7:143" \
	"location-partition-nibble: the XCP from bits 31:28 matches the render minor"
is "$(jqo '[.gpus[].partitions[].memory_bytes] | unique | join(",")')" 25767706624 \
	"location-partition-nibble: memory of each partition"
