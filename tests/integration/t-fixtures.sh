#!/bin/sh
# Discovery over the hand-written sysfs trees in tests/fixtures (see tests/fixtures/README.md):
# each tree shows one situation, written by hand in the kernel's formats, independent of the
# simulator.
. "$(dirname "$0")/lib.sh"
: "${FIXTURES:=$(dirname "$0")/../fixtures}"

# discovery problems: warnings that name a file under sys/ (a tree without proc/ also gets a
# warning about processes; that one is not about discovery)
sys_warnings() {
	jqo '[.warnings[] | select(test("/sys/"))] | length'
}

# (a) CPU nodes interleaved with GPU nodes (0 CPU, 1 GPU, 2 CPU, 3 GPU), a non-AMD VGA device
r="$FIXTURES/cpu-gpu-mixed"
run mipart --root "$r" list --json
is "$RC" 0 "cpu-gpu-mixed: list --json exits 0"
is "$(sys_warnings)" 0 "cpu-gpu-mixed: no discovery warning"
is "$(jqo '[.gpus[].bdf] | join(",")')" 0000:05:00.0,0000:26:00.0 \
	"cpu-gpu-mixed: the two AMD GPUs are found, the ASPEED VGA device is not"
is "$(jqo '[.gpus[].partitions[] | "\(.gpu):\(.kfd_node):\(.index)"] | join(",")')" 0:1:0,1:3:1 \
	"cpu-gpu-mixed: GPU nodes 1 and 3 are the partitions, indices 0 and 1; CPU nodes 0 and 2 ignored"
is "$(jqo '[.gpus[].partitions[].gpu_id] | join(",")')" 52302,41657 "cpu-gpu-mixed: gpu_id from each GPU node"
is "$(jqo '[.gpus[] | "\(.compute_partition)/\(.memory_partition)/\(.mode_source)"] | unique | join(",")')" \
	SPX/NPS1/sysfs "cpu-gpu-mixed: SPX/NPS1 from the attribute files"
is "$(jqo '[.gpus[].partitions[] | "\(.render_minor)/\(.num_xcc)/\(.compute_units)/\(.memory_bytes)"] | join(",")')" \
	128/8/304/206141652992,136/8/304/206141652992 "cpu-gpu-mixed: minor, XCC, CU, memory of each"
is "$(jqo '[.gpus[].numa_node] | join(",")')" 0,1 "cpu-gpu-mixed: numa_node from PCI sysfs"
run mipart --root "$r" status --json
is "$RC" 0 "cpu-gpu-mixed: status --json exits 0"
is "$(jqo '.gpus | length')" 2 "cpu-gpu-mixed: status shows 2 GPUs"

# (b) one MI300X in CPX whose 8 KFD nodes are not in XCP order: the XCP is the function bits
#     of location_id (kfd_topology_add_device), 0x500..0x507
r="$FIXTURES/location-function-bits"
run mipart --root "$r" list --json
is "$RC" 0 "location-function-bits: list --json exits 0"
is "$(sys_warnings)" 0 "location-function-bits: no warning (the partitions are told apart)"
is "$(jqo '.gpus | length')" 1 "location-function-bits: one GPU"
is "$(jqo '[.gpus[0].partitions[].xcp] | join(",")')" 0,1,2,3,4,5,6,7 \
	"location-function-bits: xcp 0..7"
is "$(jqo '[.gpus[0].partitions[].kfd_node] | join(",")')" 2,4,6,1,8,7,3,5 \
	"location-function-bits: XCP k is the node whose location_id is 0x500+k"
is "$(jqo '[.gpus[0].partitions[] | .render_minor - 128 == .xcp] | all')" true \
	"location-function-bits: each XCP has its own render minor (128 + xcp)"
is "$(jqo '[.gpus[0].partitions[] | .index == .kfd_node - 1] | all')" true \
	"location-function-bits: global index follows the KFD node order"
is "$(jqo '[.gpus[0].partitions[].index] | sort | join(",")')" 0,1,2,3,4,5,6,7 \
	"location-function-bits: global indices 0..7"
is "$(jqo '.gpus[0] | "\(.compute_partition)/\(.num_xcc)/\(.compute_units)"')" CPX/8/304 \
	"location-function-bits: CPX, 8 XCC and 304 CU in all"
is "$(jqo '.gpus[0].partitions[0].drm_device')" 0000:05:00.0 \
	"location-function-bits: XCP 0 is the PCI device's render node"

# (c) secondary partitions on platform devices named amdgpu_xcp.N (pre-2024 kernels)
r="$FIXTURES/legacy-xcp-names"
run mipart --root "$r" list --json
is "$RC" 0 "legacy-xcp-names: list --json exits 0"
is "$(sys_warnings)" 0 "legacy-xcp-names: no discovery warning"
is "$(jqo '[.gpus[0].partitions[].drm_device] | join(",")')" \
	0000:05:00.0,amdgpu_xcp.0,amdgpu_xcp.1,amdgpu_xcp.2 \
	"legacy-xcp-names: drm_device from the /sys/class/drm/renderD* links"
is "$(jqo '.gpus[0] | "\(.compute_partition)/\(.partitions | length)"')" QPX/4 "legacy-xcp-names: QPX, 4 partitions"
is "$(jqo '[.gpus[0].partitions[] | "\(.num_xcc)/\(.memory_bytes)"] | unique | join(",")')" \
	2/51535413248 "legacy-xcp-names: 2 XCC and a quarter of the memory each"

# (d) no partition attribute files: modes inferred from the KFD nodes (two 4-XCC nodes = DPX)
r="$FIXTURES/kfd-only"
run mipart --root "$r" list --json
is "$RC" 0 "kfd-only: list --json exits 0"
is "$(sys_warnings)" 0 "kfd-only: absent attribute files are no warning"
is "$(jqo '.gpus[0] | "\(.product)/\(.compute_partition)/\(.mode_source)"')" MI300X/DPX/inferred \
	"kfd-only: MI300X, compute DPX, mode_source inferred"
is "$(jqo '.gpus[0].memory_partition')" null "kfd-only: the memory mode is not guessed for DPX"
is "$(jqo '.gpus[0] | "\(.compute_partition_writable)/\(.memory_partition_writable)"')" false/false \
	"kfd-only: nothing writable"
is "$(jqo '[.gpus[0].partitions[] | "\(.xcp)/\(.num_xcc)"] | join(",")')" 0/4,1/4 "kfd-only: two partitions of 4 XCC"
is "$(jqo '.gpus[0].memory_bytes')" 206141652992 "kfd-only: GPU memory is the sum of its partitions"
run mipart --root "$r" status
is "$RC" 0 "kfd-only: status exits 0"
like "$OUT" "*DPX\**" "kfd-only: the status table marks the inferred mode"

# (e) garbage in current_compute_partition, available_compute_partition a directory
r="$FIXTURES/malformed"
dev="$r/sys/bus/pci/devices/0000:05:00.0"
run mipart --root "$r" list --json
is "$RC" 0 "malformed: list --json exits 0"
is "$(jqo '[.gpus[].bdf] | join(",")')" 0000:05:00.0 "malformed: the GPU is still listed"
like "$ERR" "*warning: cannot parse '$dev/current_compute_partition'*" \
	"malformed: a warning names current_compute_partition"
like "$ERR" "*warning: cannot read '$dev/available_compute_partition'*" \
	"malformed: a warning names available_compute_partition"
is "$(jqo '[.warnings[] | select(test("current_compute_partition|available_compute_partition"))] | length')" 2 \
	"malformed: both problems are in the JSON warnings"
is "$(jqo '.gpus[0] | "\(.compute_partition)/\(.memory_partition)/\(.mode_source)"')" SPX/NPS1/inferred \
	"malformed: compute inferred from the single KFD node; memory still read from sysfs"
is "$(jqo '.gpus[0].partitions | length')" 1 "malformed: its partition is listed"
run mipart --root "$r" status
is "$RC" 0 "malformed: status exits 0"
like "$ERR" "*current_compute_partition*" "malformed: status warns too"
unlike "$OUT" "*current_compute_partition*" "malformed: no warning on stdout"

# (f) MI210: an older Instinct GPU without an XCP manager
r="$FIXTURES/mi210"
run mipart --root "$r" list --json
is "$RC" 0 "mi210: list --json exits 0"
is "$(sys_warnings)" 0 "mi210: no partition files is no warning"
is "$(jqo '.gpus[0] | "\(.product)/\(.gfx_target)/\(.partitioning_supported)"')" MI210/gfx90a/false \
	"mi210: MI210, gfx90a, partitioning not supported"
is "$(jqo '.gpus[0] | "\(.compute_partition)/\(.memory_partition)/\(.mode_source)"')" null/null/none \
	"mi210: no modes"
is "$(jqo '.gpus[0].partitions | map("\(.xcp)/\(.render_minor)/\(.compute_units)/\(.memory_bytes)") | join(",")')" \
	0/128/104/68702699520 "mi210: one partition: the whole GPU"
run mipart --root "$r" status
is "$RC" 0 "mi210: status exits 0"
like "$OUT" "*not supported*" "mi210: the status table says partitioning is not supported"

# (g) nothing readable
mkdir "$T_TMP/empty"
run mipart --root "$T_TMP/empty" list --json
is "$RC" 1 "empty root: list --json exits 1"
like "$ERR" "error: *" "empty root: an error on stderr"
run mipart --root "$T_TMP/empty" status
is "$RC" 1 "empty root: status exits 1"
run mipart --root "$T_TMP/does-not-exist" status
is "$RC" 1 "missing root: status exits 1"

# the trees keep their symlinks relative and inside the tree (a checkout anywhere works)
bad=$(find "$FIXTURES" -type l | while read -r l; do
	case "$(readlink "$l")" in /*) echo "$l" ;; esac
	[ -e "$l" ] || echo "$l"
done)
is "$bad" "" "fixtures: every symlink is relative and resolves"
