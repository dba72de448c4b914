#!/bin/sh
# SR-IOV on a simulated GIM host (docs/sriov.md): vf list (JSON and table), counts GIM offers,
# enable through /etc/gim_config and a GIM reload (journaled), refusals while a VM holds a VF,
# bind to vfio-pci (driver_override, drivers_probe), the libvirt XML and QEMU argument, partition
# changes refused on a PF with VFs, a failed GIM load rolled back, hostile VM names escaped; a VF
# change leaves what containers and Slurm can use (CDI spec, gres.conf) as it was.
. "$(dirname "$0")/lib.sh"

H="$T_TMP/h"
run mipart sim create "$H" --sriov --gpus 2 --vfs 8
is "$RC" 0 "create a 2-GPU MI300X GIM host with 8 VFs each"
M() { mipart --root "$H" "$@"; }

run M vf list --json
is "$RC" 0 "vf list --json"
is "$(jqo '.physical_functions | length')" 2 "two PFs"
is "$(jqo '[.physical_functions[].driver] | join(",")')" "gim,gim" "both PFs driven by gim"
is "$(jqo '[.physical_functions[].gim_index] | join(",")')" "0,1" "GIM numbers the PFs in PCI order"
is "$(jqo '.physical_functions[0].num_vfs')" 8 "PF 0 has 8 VFs"
is "$(jqo '.physical_functions[0].vfs | length')" 8 "8 VFs listed through virtfnN"
is "$(jqo '.physical_functions[0].vfs[3].bdf')" "0000:05:02.3" "VF 3's address from its virtfn link"
is "$(jqo '.physical_functions[0].vfs[3].device_id')" "74b5" "a VF has the MI300X VF device id"
is "$(jqo '.physical_functions[0].vfs[3].driver')" "null" "a new VF is unbound"
is "$(jqo '.physical_functions[0].vfs[3].iommu_group')" 103 "the VF's IOMMU group"
is "$(jqo '.physical_functions[0].vfs[3].xcds')" 1 "8 VFs of an MI300X: one XCD each"
is "$(jqo '[.physical_functions[0].allowed[].vfs] | join(",")')" "1,8" "MI300X: GIM offers 1 or 8 VFs"
is "$(jqo '.physical_functions[0].allowed[1].modes')" "CPX/NPS4" "8 VFs means CPX/NPS4"
is "$(cat "$H/etc/gim_config" | head -1)" "vf_num=8,8" "GIM wrote its config"

# --- counts and refusals -------------------------------------------------------------------
run M vf enable -g 0 --count 3
is "$RC" 2 "3 VFs is not offered: usage error"
like "$ERR" "*3 VFs is not offered; counts offered: 1 (SPX/NPS1), 8 (CPX/NPS4)*" "the refusal lists the offered counts"
run M vf disable -g 0
is "$RC" 2 "GIM cannot go below one VF"
like "$ERR" "*GIM keeps at least one VF on every GPU it drives*" "says why and what to do instead"
run M vf enable -g 0000:99:00.0 --count 1
is "$RC" 2 "an unknown PF"
like "$ERR" "*no SR-IOV physical function '0000:99:00.0'*" "names the PF"
run M vf enable -g 0 --count 8
is "$RC" 0 "the count it has: nothing to do"
like "$OUT" "*already has 8 VFs*" "says so"

# --- bind and the VM -----------------------------------------------------------------------
run M vf bind 0.1 --dry-run
is "$RC" 0 "bind dry-run"
like "$OUT" "*would write 'vfio-pci' to driver_override of 0000:05:02.1*" "dry-run shows the write"
is "$(M vf list --json | jq -r '.physical_functions[0].vfs[1].driver')" "null" "dry-run changed nothing"
run M vf bind 0.1
is "$RC" 0 "bind VF 0.1 to vfio-pci"
is "$(M vf list --json | jq -r '.physical_functions[0].vfs[1].driver')" "vfio-pci" "VF 0.1 is bound to vfio-pci"
is "$(cat "$H/sys/bus/pci/devices/0000:05:02.1/driver_override")" "vfio-pci" "through driver_override"
test -e "$H/dev/vfio/101"
ok $? "vfio-pci made /dev/vfio/101"
run M vf bind 0.2 --driver nouveau
is "$RC" 1 "a driver that does not take the VF"
like "$ERR" "*0000:05:02.2*" "names the VF"

run mipart sim vf-hold "$H" --vf 0000:05:02.1 --pid 4242 --vm "$(printf 'web\0331')"
is "$RC" 0 "a VM holds VF 0.1"
run M vf list --json
is "$(jqo '.physical_functions[0].vfs[1].user.pid')" 4242 "the VM's QEMU holds the VF's vfio group"
is "$(jqo '.physical_functions[0].vfs[1].user.vm')" "$(printf 'web\0331')" "the VM name from QEMU's -name guest="
run M vf list
unlike "$OUT" "*$(printf '\033')*" "no escape byte of a VM name reaches the terminal"
like "$OUT" "*web?1*" "the VM name shown with the control byte escaped"
run M vf enable -g 1 --count 1
is "$RC" 1 "a GIM reload while a VM holds a VF of another GPU is refused"
like "$ERR" "*a GIM reload destroys every VF of the host and pid 4242*holds VF 0000:05:02.1*" "names the VM and the VF"
is "$(M vf list --json | jq -r '.physical_functions[1].num_vfs')" 8 "nothing changed"
run M vf bind 0.1 --driver amdgpu
is "$RC" 1 "rebinding a VF in use is refused"

run M vf libvirt 0.1
is "$RC" 0 "libvirt XML"
like "$OUT" "*<address domain='0x0000' bus='0x05' slot='0x02' function='0x1'/>*" "the VF's address"
like "$OUT" "<hostdev mode='subsystem' type='pci' managed='yes'>*" "a managed PCI hostdev"
if command -v xmllint >/dev/null 2>&1; then
	printf '%s\n' "$OUT" | xmllint --noout - 2>/dev/null
	ok $? "the XML is well formed"
fi
run M vf libvirt 0000:05:02.1 --format qemu
is "$OUT" "vfio-pci,host=0000:05:02.1" "QEMU's -device argument"
run M vf libvirt 0.2
like "$ERR" "*not bound to vfio-pci*" "warns about an unbound VF"
run M vf libvirt 7.7
is "$RC" 2 "an unknown VF"

# --- partition changes are refused while VFs exist ------------------------------------------
run M set -g 0000:15:00.0 --compute SPX --dry-run
is "$RC" 1 "set on a PF with VFs is refused"
like "$ERR" "*has 8 SR-IOV virtual functions (driver gim); partition changes are refused while VFs exist*" "says why"

# --- a change: config + reload, journaled ---------------------------------------------------
run mipart sim vf-release "$H" --pid 4242
is "$RC" 0 "the VM stops"
run M vf enable -g 1 --count 1 --dry-run --json
is "$RC" 0 "enable dry-run"
like "$(jqo .message)" "*vf_num for GIM GPU 1 = 1 (SPX/NPS1)*" "the dry-run names GIM's GPU and the mode"
is "$(head -1 "$H/etc/gim_config")" "vf_num=8,8" "the dry-run wrote nothing"
run M vf enable -g 1 --count 1
is "$RC" 0 "PF 1 to one VF"
is "$(head -1 "$H/etc/gim_config")" "vf_num=8,1" "only GPU 1's entry changed"
run M vf list --json
is "$(jqo '[.physical_functions[].num_vfs] | join(",")')" "8,1" "PF 1 has one VF, PF 0 still 8"
is "$(jqo '.physical_functions[0].vfs[1].driver')" "null" "the reload recreated PF 0's VFs unbound"
is "$(jqo '.physical_functions[1].vfs[0].xcds')" 8 "one VF owns all 8 XCDs"
run M history --json
is "$(jqo '.changes[0].state')" "done" "journaled as done"
is "$(jqo '.changes[0].command')" "mipart vf enable -g 1 --count 1" "with its command"
is "$(jqo '.changes[0].after.sriov[1].vfs')" 1 "and the VF counts after"

# --- a GIM that does not come back: rolled back -----------------------------------------------
run mipart --root "$H" --load-command false vf enable -g 1 --count 8
is "$RC" 1 "a failing GIM load fails the change"
like "$ERR" "*'false' exited with 1*" "says which command failed"
is "$(head -1 "$H/etc/gim_config")" "vf_num=8,1" "the config is back to what it was"
run M history --json
is "$(jqo '.changes[0].state')" "failed" "journaled as failed (the rollback's load failed too)"
run M vf list --json
is "$(jqo '[.physical_functions[].num_vfs] | join(",")')" "0,0" "GIM is not loaded: no VFs"
run M vf enable -g 1 --count 8
is "$RC" 1 "no new change while the failed one is unresolved"
like "$ERR" "*change * (mipart vf enable*) failed and left the host in neither its old nor its new state; run 'mipart recover' first*" \
	"names the change and points at recover, as a partition change does"
run M set -g 0000:15:00.0 --compute SPX
is "$RC" 1 "nor a partition change"
run M recover
is "$RC" 0 "recover resolves the failed VF change"
like "$OUT$ERR" "*the host shows the VF counts from before it*" "GIM loaded again with the old config"
run M vf list --json
is "$(jqo '[.physical_functions[].num_vfs] | join(",")')" "8,1" "the counts from before the failed change"
is "$(M history --json | jq -r '.changes[0].state')" "recovered" "journaled as recovered"
run M recover
like "$OUT$ERR" "*no unfinished change*" "nothing left to recover"
run M vf enable -g 1 --count 8
is "$RC" 0 "the change goes through now"
run M vf list --json
is "$(jqo '[.physical_functions[].num_vfs] | join(",")')" "8,8" "both PFs have 8 VFs"

# --- a PF whose driver is not GIM: sriov_numvfs, which GIM's kernel answers with ENOENT -------
run mipart sim create "$T_TMP/plain" --sriov --gpus 1 --vfs 1
rm "$T_TMP/plain/etc/gim_config" "$T_TMP/plain/sys/devices/pci0000:00/0000:05:00.0/driver"
run mipart --root "$T_TMP/plain" vf enable -g 0 --count 8
is "$RC" 1 "no GIM: the sriov_numvfs write is refused"
like "$ERR" "*does not create VFs through sriov_numvfs; nothing was changed*" "says the driver cannot and that nothing changed"
is "$(mipart --root "$T_TMP/plain" history --json | jq -r '.changes[0].state')" "rolled-back" "journaled: nothing left half done"
run mipart sim create "$T_TMP/h2" --sriov --product mi210
is "$RC" 2 "GIM offers no SR-IOV simulation of an MI210"
run mipart sim create "$T_TMP/h3" --sriov --product mi325x --vfs 8
is "$RC" 2 "MI325X: GIM offers one VF only"
run mipart sim create "$T_TMP/h4" --sriov --product mi355x --vfs 2 --gpus 1
is "$RC" 0 "MI355X with 2 VFs (DPX/NPS2)"
is "$(mipart --root "$T_TMP/h4" vf list --json | jq -r '.physical_functions[0].vfs[0].xcds')" 4 "each VF of 2 owns 4 XCDs"

# --- what containers and Slurm jobs can use is not changed by a VF change (docs/sriov.md) -----
# a GIM PF has no render or KFD node, and new VFs are unbound: the CDI spec and gres.conf mipart
# generates are the same before and after, and the VF change leaves the files on disk alone
D="$T_TMP/devs"
mipart sim create "$D" --sriov --gpus 2 --vfs 1 >/dev/null 2>&1
mkdir -p "$D/etc/cdi" "$D/etc/slurm" "$D/etc/mipart"
echo '{"kind": "amd.com/gpu"}' >"$D/etc/cdi/amd.com-gpu.json"
echo 'Name=gpu File=/dev/dri/renderD128' >"$D/etc/slurm/gres.conf"
printf 'GresConf=/etc/slurm/gres.conf\n' >"$D/etc/mipart/slurm.conf"
cp "$D/etc/cdi/amd.com-gpu.json" "$D/etc/slurm/gres.conf" "$T_TMP/"
generated() {
	mipart --root "$D" cdi generate --stdout 2>&1
	echo "cdi exit $?"
	mipart --root "$D" slurm gres 2>&1
	echo "gres exit $?"
}
before=$(generated)
like "$before" "*no partition with a render node*cdi exit 1*gres exit 1*" \
	"a GIM host gives containers and Slurm no device (no render node)"
run mipart --root "$D" vf enable -g 0 --count 8
is "$RC" 0 "8 VFs on PF 0"
is "$(mipart --root "$D" vf list --json | jq -r '.physical_functions[0].vfs | length')" 8 "the VFs are there"
is "$(generated)" "$before" "the CDI spec and gres.conf mipart generates are the same after the VF change"
cmp -s "$D/etc/cdi/amd.com-gpu.json" "$T_TMP/amd.com-gpu.json"
ok $? "the CDI spec on disk is left alone"
cmp -s "$D/etc/slurm/gres.conf" "$T_TMP/gres.conf"
ok $? "gres.conf on disk is left alone"
run mipart --root "$D" vf enable -g 0 --count 1
is "$(generated)" "$before" "and the same after the VFs are destroyed again"

# --- what the node offers to pods and jobs counts only amdgpu's GPUs (mipart_gpu_usable) -------
# a GIM PF or a VF for a VM is no GPU of the node: the labels, the Slurm features and /metrics
# stay at the GPUs amdgpu drives across a VF change (here none: the labels say so both times)
L="$T_TMP/lab"
mipart sim create "$L" --sriov --gpus 2 --vfs 1 >/dev/null 2>&1
run mipart --root "$L" labels --stdout
is "$RC" 0 "a GIM host has no GPU for pods: its labels say so"
is "$OUT" "feature.node.kubernetes.io/mipart-gpus=0" "  ... 0 GPUs, and no other label"
like "$ERR" "*no GPU driven by amdgpu*a GIM PF or a VF for a VM is none*" "  ... and why, on stderr"
mipart --root "$L" vf enable -g 0 --count 8 >/dev/null 2>&1
run mipart --root "$L" labels --json
is "$RC" 0 "and after 8 VFs more"
is "$(jqo '.labels | to_entries | map("\(.key)=\(.value)") | join(",")')" \
	"feature.node.kubernetes.io/mipart-gpus=0" "  ... the 9 VFs are no GPUs either"

# --- a node whose GPUs go to GIM keeps no label of them (mipart_labels_sync) ------------------
# an amdgpu host writes its feature file; then it boots into GIM (its sysfs now the GIM host's):
# the file must say 0 GPUs, not the 2 GPUs and the modes it had, or the scheduler keeps sending
# GPU pods to a node that cannot run them
G="$T_TMP/togim"
mipart sim create "$G" --gpus 2 >/dev/null 2>&1
GF="$G/etc/kubernetes/node-feature-discovery/features.d/mipart"
mkdir -p "${GF%/*}"
run mipart --root "$G" labels
is "$RC" 0 "labels on the amdgpu host"
grep -qx 'feature.node.kubernetes.io/mipart-gpus=2' "$GF"; ok $? "  ... the file says 2 GPUs"
keep_sys() { rm -rf "$G/sys.amdgpu"; cp -a "$G/sys" "$G/sys.amdgpu"; }
keep_sys
rm -rf "$G/sys"; cp -a "$L/sys" "$G/sys"
run mipart --root "$G" labels
is "$RC" 0 "labels after the move to GIM"
like "$ERR" "*wrote 1 labels*" "  ... the file rewritten"
is "$(grep -v '^#' "$GF")" "feature.node.kubernetes.io/mipart-gpus=0" "  ... it says 0 GPUs and nothing else"
unlike "$(cat "$GF")" "*amd.com/*" "  ... no amd.com label of the GPUs gone"
# the same through serve's sync (the library's rule: labels, serve and the agent alike)
rm -rf "$G/sys"; cp -a "$G/sys.amdgpu" "$G/sys"
mipart --root "$G" labels >/dev/null 2>&1
grep -qx 'feature.node.kubernetes.io/mipart-gpus=2' "$GF"; ok $? "back on amdgpu: 2 GPUs again"
rm -rf "$G/sys"; cp -a "$L/sys" "$G/sys"
"$MIPART" --root "$G" serve --listen 127.0.0.1:0 --labels-interval 3600 2>"$T_TMP/gserve.log" &
GSP=$!
serve_looked() { grep -q "labels: \(wrote\|cannot\)" "$T_TMP/gserve.log"; }
wait_until serve_looked
grep -qx 'feature.node.kubernetes.io/mipart-gpus=0' "$GF"; ok $? "serve on the GIM host: the file says 0 GPUs"
like "$(cat "$T_TMP/gserve.log")" "*labels: wrote 1 labels to '$GF'*" "  ... and serve says it wrote it"
kill -TERM "$GSP"; wait "$GSP"
# a host that could not be read says nothing new: the last file stays, and the failure is said
rm -rf "$G/sys"; cp -a "$G/sys.amdgpu" "$G/sys"
mipart --root "$G" labels >/dev/null 2>&1
before="$(cat "$GF")"
rm -rf "$G/sys/class/kfd/kfd/topology/nodes"
mkdir "$G/sys/class/kfd/kfd/topology/nodes"
run mipart --root "$G" labels
is "$RC" 1 "amdgpu drives the GPUs and KFD lists none (the driver still probing): labels fails"
like "$ERR" "*amdgpu drives a GPU whose partitions KFD does not list*try again*" "  ... and says why"
is "$(cat "$GF")" "$before" "  ... the last file is kept"
rm -rf "$G/sys"
run mipart --root "$G" labels
is "$RC" 1 "no sysfs at all: labels fails"
is "$(cat "$GF")" "$before" "  ... the last file is kept"
# a host with two amdgpu GPUs and, beside them, a GPU GIM drives and a VF bound to vfio-pci
# (the functions of the GIM host above, copied in)
N="$T_TMP/mixed"
mipart sim create "$N" --gpus 2 >/dev/null 2>&1
mkdir -p "$N/sys/bus/pci/drivers/gim" "$N/sys/bus/pci/drivers/vfio-pci" "$N/sys/devices/pci0000:70"
for f in 0000:15:00.0 0000:15:02.0; do
	mkdir "$N/sys/devices/pci0000:70/$f"
	cp "$L/sys/devices/pci0000:00/$f/vendor" "$L/sys/devices/pci0000:00/$f/class" \
		"$L/sys/devices/pci0000:00/$f/device" "$N/sys/devices/pci0000:70/$f/"
	ln -s "../../../devices/pci0000:70/$f" "$N/sys/bus/pci/devices/$f"
done
ln -s ../../../bus/pci/drivers/gim "$N/sys/devices/pci0000:70/0000:15:00.0/driver"
ln -s ../../../bus/pci/drivers/vfio-pci "$N/sys/devices/pci0000:70/0000:15:02.0/driver"
is "$(mipart --root "$N" list --json 2>/dev/null | jq '.gpus | length')" 4 "discovery lists every AMD function"
run mipart --root "$N" labels --stdout
is "$RC" 0 "labels of the mixed host"
like "$OUT" "*feature.node.kubernetes.io/mipart-gpus=2*" "two GPUs: the ones amdgpu drives"
like "$OUT" "*amd.com/gpu.device-id=74a1*" "  ... one device id: no VF or GIM PF counted"
like "$OUT" "*amd.com/gpu.compute-memory-partition=spx_nps1*" "  ... and their modes, not 'mixed' with a GIM PF's unknown ones"
run mipart --root "$N" slurm helper
is "$OUT" "spx_nps1" "the Slurm feature of the amdgpu GPUs is active"

# --- status on the host says what it is -------------------------------------------------------
run mipart --root "$H" status
is "$RC" 0 "status on a GIM host"
like "$OUT" "*SR-IOV host: GPU * is driven by gim with 8 virtual functions*" "status points at the VFs"

# --- a guest: a VM that was handed one VF -------------------------------------------------------
G="$T_TMP/guest"
run mipart sim create "$G" --guest --vfs 8
is "$RC" 0 "a guest with one of 8 MI300X VFs"
run mipart --root "$G" list --json
is "$(jqo '.gpus[0].product')" "MI300X-VF" "product from the VF's PCI id"
is "$(jqo '.gpus[0].virtual_function')" "true" "marked as a virtual function"
is "$(jqo '.gpus[0].compute_partition')" "CPX" "a one-XCD VF reads CPX (the driver derives it)"
is "$(jqo '.gpus[0].compute_partition_writable')" "false" "its mode is read-only"
is "$(jqo '.gpus[0].partitions | length')" 1 "one logical device"
is "$(jqo '.gpus[0].partitions[0].memory_bytes')" 25769803776 "24 GiB, in bytes"
run mipart --root "$G" status
like "$OUT" "*GPU 0 is an SR-IOV virtual function*cannot be changed here*" "status says it is a VF"
run mipart --root "$G" set -g 0 --compute SPX
is "$RC" 1 "a mode change in a guest is refused"
like "$ERR" "*read-only*" "as read-only"
run mipart --root "$G" allocate llama-3.1-8b --partition 0.0 --max-model-len 4096 --name a
is "$RC" 0 "a model is allocated on the VF"
run mipart --root "$G" env a --format json
is "$(jqo .ROCR_VISIBLE_DEVICES)" 0 "its environment"
run mipart --root "$G" top --once --json
is "$RC" 0 "top reads the VF"
run mipart sim create "$T_TMP/guest1" --guest --product mi300x --vfs 1
is "$(mipart --root "$T_TMP/guest1" list --json | jq -r '.gpus[0].compute_partition')" "SPX" "the VF of a whole GPU reads SPX"
run mipart sim create "$T_TMP/guest3" --guest --vfs 3
is "$RC" 2 "no guest of a VF count GIM does not offer"
