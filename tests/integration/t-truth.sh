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
like "$ERR" "*nodes/5/gpu_id': is a directory*nodes/5': no usable gpu_id; taking the node as a GPU*" \
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

# --- exact sizes (8.3) and the allocation mode (8.8) ------------------------------------------
H="$T_TMP/sizes"
run mipart sim create "$H" --gpus 2 --compute CPX --memory NPS4
is "$RC" 0 "sim create --compute CPX --memory NPS4"
run mipart --root "$H" list --json
is "$(jqo '[.gpus[0].partitions[].memory_bytes] | join(",")')" \
	"25769803776,25769803776,25769803776,25769803776,25769803776,25769803776,25761415168,25761415168" \
	"MI300X CPX/NPS4: 6 x 25769803776 and 2 x 25761415168 bytes (ranges of HBM/4, only the last trimmed)"
is "$(jqo '.gpus[0].memory_bytes')" 206141652992 "the GPU's VRAM is mem_info_vram_total, 192 GiB - 16 MiB"
is "$(jqo '.gpus[0].memory_alloc_mode')" CAPPING "compute_partition_mem_alloc_mode reads CAPPING by default"
run mipart sim write "$H" 0 compute_partition_mem_alloc_mode all
is "$RC" 0 "the allocation mode takes 'all' (case-insensitive)"
run mipart sim write "$H" 0 compute_partition_mem_alloc_mode most
is "$RC" 1 "and refuses anything else"
run mipart --root "$H" set -g 0 --compute QPX
run mipart --root "$H" set -g 0 --compute CPX
is "$RC" 0 "a switch re-creates the KFD nodes"
run mipart --root "$H" list --json
is "$(jqo '.gpus[0].memory_alloc_mode')" ALL "memory_alloc_mode ALL"
is "$(jqo '[.gpus[0].partitions[].memory_bytes] | join(",")')" \
	"51539607552,51539607552,51539607552,51539607552,51539607552,51539607552,51522830336,51522830336" \
	"ALL: each CPX partition sees its whole memory range, not a share"
is "$(jqo '[.gpus[1].partitions[].memory_bytes] | unique | join(",")')" "25761415168,25769803776" \
	"the other GPU keeps CAPPING"

# --- xcp_config (8.5), UNKNOWN (8.6), SDMA and generation_id (8.11) ---------------------------
H="$T_TMP/modes"
mipart sim create "$H" --gpus 2 >/dev/null 2>&1
cfg="$H/sys/bus/pci/devices/0000:05:00.0/compute_partition_config/xcp_config"
is "$(cat "$cfg")" SPX "xcp_config starts as the mode at load"
mipart --root "$H" set -g 0 --compute CPX >/dev/null 2>&1
is "$(cat "$cfg")" SPX "a compute switch leaves xcp_config alone"
props() { # props NODE KEY
	awk -v k="$2" '$1 == k { print $2 }' "$H/sys/class/kfd/kfd/topology/nodes/$1/properties"
}
is "$(props 2 num_sdma_engines)/$(props 2 num_sdma_xgmi_engines)" 2/14 \
	"SPX in an XGMI hive: 2 PCIe SDMA engines, the other 14 XGMI (kfd_get_num_sdma_engines)"
is "$(props 3 num_sdma_engines)/$(props 3 num_sdma_xgmi_engines)" 2/0 "CPX: 2 and 0, as captured"
mipart sim create "$T_TMP/nohive" --gpus 1 >/dev/null 2>&1
is "$(awk '$1 == "num_sdma_engines" { print $2 }' "$T_TMP/nohive/sys/class/kfd/kfd/topology/nodes/2/properties")" 16 \
	"without XGMI all 16 SDMA engines are PCIe"
is "$(cat "$T_TMP/nohive/sys/class/kfd/kfd/topology/generation_id")" 4 \
	"generation_id: 3 nodes added at load plus kfd_topology_init's bump"
printf 'UNKNOWN\n' >"$H/sys/bus/pci/devices/0000:26:00.0/current_compute_partition"
run mipart --root "$H" list --json
is "$RC" 0 "UNKNOWN in current_compute_partition: list exits 0"
is "$(jqo '.gpus[1].compute_partition')" null "and shows the compute mode as unknown"
is "$(sys_warnings)" 0 "not as a file it cannot parse"

# --- more than 64 logical devices (8.12) ------------------------------------------------------
H="$T_TMP/big"
run mipart sim create "$H" --gpus 16 --compute CPX
is "$RC" 0 "sim create --gpus 16 --compute CPX"
run mipart --root "$H" list --json
is "$RC" 0 "list exits 0"
is "$(jqo '[(.gpus | length), ([.gpus[].partitions[]] | length)] | join(",")')" 16,128 \
	"16 GPUs, 128 logical devices"
is "$(jqo '[.gpus[].partitions[].render_minor] | unique | length')" 128 "every partition has its own render minor"
is "$(jqo '[.gpus[8].partitions[].render_minor] | join(",")')" 192,194,196,198,200,202,204,206 \
	"past 191 the extended range is shared with the card minors (drm_minor_alloc)"
is "$(jqo '[.gpus[15].partitions[] | .drm_device] | .[1]')" amdgpu_xcp_105 \
	"the partitions of GPU 15 are its amdgpu_xcp devices"
is "$(jqo '[.gpus[].partitions[].index] | sort | join(",")')" "$(seq -s, 0 127)" "global indices 0..127"
# a process on a partition past the 64th is seen on that partition (its busy mark, its VRAM)
mipart sim hold "$H" --partition 15.7 --pid 5555 --comm vllm 2>/dev/null
run mipart --root "$H" status --json
is "$(jqo '[.gpus[15].processes[] | select(.pid == 5555) | .partitions[].partition] | join(",")')" 7 \
	"a process on partition 15.7 (the 128th) is listed on that partition"
is "$(jqo '[.gpus[15].processes[] | select(.pid == 5555) | .vram_bytes | type] | join(",")')" number \
	"with the VRAM its fdinfo says"
run mipart --root "$H" top --json
is "$(jqo '[.. | objects | select(.pid? == 5555)] | length > 0')" true "top lists it too"
run mipart --root "$H" set -g 15 --compute SPX
is "$RC" 1 "a switch of GPU 15 under that process is refused"
mipart sim release "$H" --pid 5555 2>/dev/null
run mipart --root "$H" set -g 15 --compute SPX
is "$RC" 0 "a switch on GPU 15 works"
is "$(mipart --root "$H" list --json | jq '[.gpus[].partitions[]] | length')" 121 "121 logical devices after"

# --- MI300A: one PCI domain per socket (8.9) --------------------------------------------------
H="$T_TMP/apu"
run mipart sim create "$H" --product mi300a
is "$RC" 0 "an MI300A node"
run mipart --root "$H" list --json
is "$(jqo '[.gpus[].bdf] | join(",")')" 0000:01:00.0,0001:01:00.0,0002:01:00.0,0003:01:00.0 \
	"four sockets, each in its own PCI domain"
is "$(jqo '[.gpus[].partitions[].memory_bytes] | unique | join(",")')" 68719476736 \
	"each socket's partition gets the TTM limit over the NUMA nodes: 512 GiB / 2 / 4"

# --- more PCI ids (8.10): MI300X HF, and VFs listed read-only ---------------------------------
H="$T_TMP/hf"
run mipart sim create "$H" --gpus 1 --product mi300x-hf --compute DPX
is "$RC" 0 "an MI300X HF (74a9)"
run mipart --root "$H" list --json
is "$(jqo '.gpus[0] | "\(.product) \(.device_id) \(.virtual_function) \(.partitions | length)"')" \
	"MI300X-HF 0x74a9 false 2" "named from its PCI id, partitions as an MI300X"
for vf in mi300x-vf:0x74b5 mi325x-vf:0x74b9; do
	H="$T_TMP/${vf%%:*}"
	run mipart sim create "$H" --gpus 2 --product "${vf%%:*}" --compute CPX
	is "$RC" 0 "${vf%%:*}: sim create"
	run mipart --root "$H" list --json
	is "$RC" 0 "${vf%%:*}: listed"
	is "$(jqo '[.gpus[] | "\(.device_id) \(.virtual_function) \(.compute_partition_writable) \(.memory_partition_writable) \(.partitions | length)"] | unique | join(",")')" \
		"${vf#*:} true false false 8" "${vf%%:*}: a VF, read-only, its partitions listed"
	run mipart --root "$H" set -g 0 --compute SPX
	is "$RC" 1 "${vf%%:*}: a change is refused"
	like "$ERR" "*read-only (an SR-IOV VF*" "${vf%%:*}: saying why"
done
run mipart sim write "$H" 0 current_compute_partition SPX
like "$ERR" "*permission denied*" "the VF's own file refuses a write (0444)"

# --- compute writes of several GPUs run side by side, each with its own error -----------------
H="$T_TMP/par"
mipart sim create "$H" --gpus 4 >/dev/null 2>&1
mipart sim fault "$H" --gpu 1 --on compute-write --error EIO >/dev/null 2>&1
mipart sim fault "$H" --gpu 3 --on compute-write --error EBUSY >/dev/null 2>&1
run mipart --root "$H" set -g all --compute CPX
is "$RC" 1 "two GPUs refuse their compute write: the change fails"
like "$ERR" "*on GPU 1 (0000:26:00.0): input/output error*on GPU 3 (0000:65:00.0): *" \
	"every GPU's error is named (all four were written, not stopped at the first failure)"
like "$ERR" "*rolled back*" "and the change is rolled back"
is "$(mipart --root "$H" list --json | jq -r '[.gpus[].compute_partition] | unique | join(",")')" SPX \
	"every GPU is SPX again"
is "$(mipart --root "$H" history --json | jq -r '.changes[0].state')" rolled-back "journal: rolled-back"
mipart sim fault "$H" --clear >/dev/null 2>&1
run mipart --root "$H" set -g all --compute QPX --json
is "$RC" 0 "without faults the 4-GPU change goes through"
is "$(sqlite3 "$H/var/lib/mipart/mipart.db" "SELECT step FROM changes ORDER BY id DESC LIMIT 1")" verify \
	"journal: the last step is verify"
