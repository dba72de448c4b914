#!/bin/sh
# mipart doctor: each check sees its fault on a simulated host (warn or fail, with the fix),
# and passes where the host is fine; exit 0 without a failure, 1 with one; --json; -g.
. "$(dirname "$0")/lib.sh"

# status CHECK: the status doctor --json gave CHECK in $OUT
st() { jqo ".checks[] | select(.id == \"$1\") | .status"; }
# saw CHECK / fixes CHECK: its lines, joined
saw() { jqo ".checks[] | select(.id == \"$1\") | .saw | join(\" | \")"; }
fixes() { jqo ".checks[] | select(.id == \"$1\") | .fix | join(\" | \")"; }

AMDSMI="$(dirname "$0")/../fixtures/amd-smi/amd-smi"
export MIPART

H="$T_TMP/ok"
mipart sim create "$H" --gpus 2 --user-partt-mode CPX 2>/dev/null
mipart --root "$H" set -g all --compute CPX >/dev/null 2>&1
mipart --root "$H" cdi generate >/dev/null 2>&1
run env MIPART_ROOT="$H" "$MIPART" --root "$H" --amd-smi "$AMDSMI" doctor --json
is "$RC" 0 "a healthy simulated host: exit 0"
is "$(jqo '.summary.fail')" 0 "no check fails"
is "$(jqo '[.checks[].id] | length')" 20 "twenty checks"
for c in driver.loaded driver.bound driver.features driver.user_partt_mode modes.available modes.hive modes.pending journal.changes journal.hook-units consumers identity.allocations cdi.spec cdi.duplicates amdsmi.version declared.drift declared.boot; do
	is "$(st $c)" ok "$c ok on a healthy host"
done
like "$(saw amdsmi.version)" "*ROCm 7.0 family*only records the request*" "amd-smi 7.x: its family"
is "$(st nfd.labels)" skipped "no NFD feature file: nfd.labels skipped"
is "$(st slurm.gres)" skipped "no Slurm settings: slurm.gres skipped"
run env MIPART_ROOT="$H" "$MIPART" --root "$H" --amd-smi "$AMDSMI" doctor
is "$RC" 0 "the table form: exit 0"
like "$OUT" "*skipped nfd.labels*skipped: no NFD feature file*" "a skipped check says why"
like "$OUT" "*20 checks: * 0 fail*" "the table ends with the counts"

# driver.user_partt_mode: CPX now, AUTO at the next load brings SPX back
H="$T_TMP/auto"
mipart sim create "$H" --gpus 2 2>/dev/null
mipart --root "$H" set -g all --compute CPX >/dev/null 2>&1
run mipart --root "$H" doctor --json
is "$(st driver.user_partt_mode)" warn "user_partt_mode AUTO with CPX/NPS1: warn"
like "$(saw driver.user_partt_mode)" "*GPU 0 is CPX/NPS1 now; a driver reload or a reboot brings it up in SPX (AUTO)*" "it says what the reload does"
like "$(saw driver.user_partt_mode)" "*amdgpu.user_partt_mode = -2 (AUTO*" "the parameter as amdgpu prints it (4294967294, a uint) read as AUTO"
like "$(fixes driver.user_partt_mode)" "*options amdgpu user_partt_mode=4*" "the modprobe.d line"
like "$(fixes driver.user_partt_mode)" "*mipart --root * set -g 0,1 --compute CPX*" "or re-applying after a reload"
mipart sim reload "$H" 2>/dev/null
run mipart --root "$H" list --json
is "$(jqo '.gpus[0].compute_partition')" SPX "and the simulated reload does bring SPX back"

# consumers, and -g
mipart sim hold "$H" --partition 1.0 --pid 4242 --comm "$(printf 'exporter\033[2J')" 2>/dev/null
run mipart --root "$H" doctor --json
is "$(st consumers)" warn "a process holding a GPU: warn"
like "$(saw consumers)" "*pid 4242 *holds GPU 1*blocks a compute change and a reload*" "it names the holder and what it blocks"
like "$(fixes consumers)" "*stop pid 4242*" "and who to stop"
run mipart --root "$H" doctor --json -g 0
is "$(st consumers)" ok "-g 0: the holder of GPU 1 does not count"
run mipart --root "$H" doctor -g 1
unlike "$OUT" "*$(printf '\033')*" "the table shows the process name escaped"
run mipart --root "$H" doctor -g 9
is "$RC" 2 "-g with a GPU the host lacks: usage error"
mipart sim release "$H" --pid 4242 2>/dev/null

# identity.allocations: an index that moved, then a partition that is gone
H="$T_TMP/ids"
# created in CPX: the KFD order is GPU 0's nodes, then GPU 1's (a set of both GPUs switches them
# side by side, and which one KFD re-adds last varies)
mipart sim create "$H" --gpus 2 --compute CPX --user-partt-mode CPX 2>/dev/null
mipart --root "$H" allocate llama-3.1-8b --max-model-len 4096 --partition 1.2 --name on-gpu1 >/dev/null 2>&1
mipart --root "$H" allocate llama-3.1-8b --max-model-len 4096 --partition 0.5 --name on-gpu0 >/dev/null 2>&1
run mipart --root "$H" doctor --json
is "$(st identity.allocations)" ok "allocations on the partitions they were made on: ok"
# GPU 0 switches outside mipart (amd-smi, a script): KFD re-adds its nodes at the tail, GPU 1's
# indices shift, and its XCP 5 is gone
mipart sim write "$H" 0 current_compute_partition DPX >/dev/null 2>&1
run mipart --root "$H" doctor --json
is "$RC" 1 "an allocation on a partition the host no longer has: exit 1"
is "$(st identity.allocations)" fail "identity.allocations fails"
like "$(saw identity.allocations)" "*allocation 'on-gpu0' books XCP 5 of 0000:05:00.0, which the host no longer has*" "it names the lost partition"
like "$(saw identity.allocations)" "*allocation 'on-gpu1' was made on ROCR_VISIBLE_DEVICES=10; its partition is * now*" "and the shifted index"
like "$(fixes identity.allocations)" "*mipart --root * release 'on-gpu0'*" "the fix releases the lost one"
like "$(fixes identity.allocations)" "*env 'on-gpu1'*" "and restarts the shifted one with its environment"

# cdi.spec stale and missing, cdi.duplicates
H="$T_TMP/cdi"
mipart sim create "$H" --gpus 2 2>/dev/null
run mipart --root "$H" doctor --json
is "$(st cdi.spec)" warn "no CDI spec: warn"
like "$(fixes cdi.spec)" "*cdi generate*" "fix: cdi generate"
mipart --root "$H" cdi generate >/dev/null 2>&1
mipart sim write "$H" 0 current_compute_partition CPX >/dev/null 2>&1
run mipart --root "$H" doctor --json
is "$(st cdi.spec)" fail "a spec from before a change made outside mipart: fail"
like "$(saw cdi.spec)" "*stale*" "it says stale"
mipart --root "$H" cdi generate >/dev/null 2>&1
mkdir -p "$H/var/run/cdi"
cp "$H/etc/cdi/amd.com-gpu.json" "$H/var/run/cdi/vendor-amd.json"
run mipart --root "$H" doctor --json
is "$(st cdi.duplicates)" fail "the same device names in /etc/cdi and /var/run/cdi: fail"
like "$(fixes cdi.duplicates)" "*rm */var/run/cdi/vendor-amd.json*" "fix: remove the other spec"

# permissions: the lock open to others
mkdir -p "$H/run/mipart" && : >"$H/run/mipart/lock" && chmod 0666 "$H/run/mipart/lock"
run mipart --root "$H" doctor --json
is "$(st permissions)" warn "a lock file others can open: warn"
like "$(fixes permissions)" "*chmod 0600 */run/mipart/lock*" "fix: chmod 0600"

# modes.hive: one GPU of the hive in another NPS mode (what a GPU left behind by a partial
# reload shows; the simulated driver applies NPS per hive, so the tree is edited here)
printf 'NPS4\n' >"$H/sys/bus/pci/devices/0000:26:00.0/current_memory_partition"
run mipart --root "$H" doctor --json
is "$(st modes.hive)" fail "a hive with two memory modes: fail"
like "$(saw modes.hive)" "*mixes memory modes: GPU 0 NPS1, GPU 1 NPS4*" "it lists each GPU's mode"
like "$(fixes modes.hive)" "*set -g 0,1 --memory NPS1*" "fix: one mode for the hive"

# modes.available: user_partt_mode SPX with NPS4: the load-time switch is refused
H="$T_TMP/unknown"
mipart sim create "$H" --gpus 1 --memory NPS4 --user-partt-mode SPX 2>/dev/null
run mipart --root "$H" doctor --json
is "$(st driver.user_partt_mode)" warn "user_partt_mode SPX with NPS4: the next load is refused (warn)"
mipart sim reload "$H" 2>/dev/null
run mipart --root "$H" doctor --json
is "$(st modes.available)" fail "after the reload the compute mode is not one NPS4 allows: fail"
like "$(fixes modes.available)" "*set -g 0 --compute CPX*" "fix: the mode AUTO would pick"

# driver.features: partition devices with the names of kernels before mid-2024
H="$T_TMP/legacy"
mipart sim create "$H" --gpus 1 --legacy-xcp-names 2>/dev/null
mipart --root "$H" set -g all --compute CPX >/dev/null 2>&1
run mipart --root "$H" doctor --json
is "$(st driver.features)" warn "amdgpu_xcp.N names: warn"
like "$(fixes driver.features)" "*update the amdgpu driver*" "fix: a newer driver"

# journal.changes: a rolled-back change, then one whose rollback failed (the driver would not
# load again), and driver.loaded / driver.bound with the module gone
H="$T_TMP/journal"
mipart sim create "$H" --gpus 2 2>/dev/null
mipart sim fault "$H" --on reload --error EIO --times 1 2>/dev/null
mipart --root "$H" set -g all --compute CPX --memory NPS4 >/dev/null 2>&1
run mipart --root "$H" doctor --json
is "$(st journal.changes)" warn "a rolled-back change: warn"
like "$(saw journal.changes)" "*was rolled back*" "it says so"
mipart sim fault "$H" --on reload --error EIO --times 5 2>/dev/null
mipart --root "$H" set -g all --compute CPX --memory NPS4 >/dev/null 2>&1
run mipart --root "$H" doctor --json
is "$RC" 1 "a failed change: exit 1"
is "$(st journal.changes)" fail "a change whose rollback failed: fail"
like "$(fixes journal.changes)" "*mipart --root * recover*" "fix: recover"
is "$(st driver.loaded)" fail "the driver that did not load again: driver.loaded fails"
like "$(fixes driver.loaded)" "*modprobe amdgpu*" "fix: load it"
is "$(st driver.bound)" fail "and no GPU is bound"

# amdsmi.version: other families, an unreadable answer, none at all
H="$T_TMP/ok"
run env MIPART_ROOT="$H" FAKE_AMDSMI_VERSION='AMDSMI Tool: 24.7.1+0012a68 | AMDSMI Library version: 24.7.1.0 | ROCm version: 6.3.1' "$MIPART" --root "$H" --amd-smi "$AMDSMI" doctor --json
like "$(saw amdsmi.version)" "*ROCm 6.3 family*reloads the driver itself*" "ROCm 6.3: set -M reloads by itself"
run env MIPART_ROOT="$H" FAKE_AMDSMI_VERSION='AMDSMI Tool: 24.6.2+2b02a07 | AMDSMI Library version: 24.6.2 | ROCm version: N/A' "$MIPART" --root "$H" --amd-smi "$AMDSMI" doctor --json
like "$(saw amdsmi.version)" "*ROCm 6.2 family*reset --compute-partition*" "no ROCm version: the tool's number says 6.2"
run env MIPART_ROOT="$H" FAKE_AMDSMI_VERSION='something else' "$MIPART" --root "$H" --amd-smi "$AMDSMI" doctor --json
is "$(st amdsmi.version)" warn "an answer without a version: warn"
run mipart --root "$H" --amd-smi /nonexistent/amd-smi doctor --json
is "$(st amdsmi.version)" warn "no amd-smi: warn"
like "$(fixes amdsmi.version)" "*amd-smi-lib*" "fix: install it"

# status on a host with no AMD GPU points at doctor and the simulator
mkdir -p "$T_TMP/empty/sys/bus/pci/devices"
run mipart --root "$T_TMP/empty" status
is "$RC" 1 "status without an AMD GPU fails"
like "$ERR" "*no AMD GPU found*mipart doctor*mipart sim create*" "and points at doctor and sim create"
run mipart --root "$T_TMP/empty" doctor --json
is "$(st driver.loaded)" fail "doctor: no AMD GPU is a failure of driver.loaded"
like "$(fixes driver.loaded)" "*mipart sim create*" "with the simulator as the way to try mipart"

# declared.drift, declared.boot, nfd.labels: a declared layout, the boot unit, the NFD file
H="$T_TMP/declared"
mipart sim create "$H" --gpus 2 2>/dev/null
printf 'version: v1\npartition-configs:\n  all-cpx:\n    - devices: all\n      compute: CPX\n' >"$T_TMP/cpx.yaml"
mipart --root "$H" apply --persist -f "$T_TMP/cpx.yaml" -c all-cpx >/dev/null 2>&1
mkdir -p "$H/etc/kubernetes/node-feature-discovery/features.d" # NFD's, as its worker makes it
mipart --root "$H" labels >/dev/null 2>&1
run mipart --root "$H" doctor --json
is "$(st declared.drift)" ok "the GPUs in the declared config: ok"
is "$(st nfd.labels)" ok "the NFD file written now: ok"
is "$(st declared.boot)" warn "declared, but the boot unit not enabled: warn"
like "$(fixes declared.boot)" "*systemctl enable mipart-boot*" "fix: enable it"
mkdir -p "$H/etc/systemd/system/multi-user.target.wants"
ln -s /etc/systemd/system/mipart-boot.service "$H/etc/systemd/system/multi-user.target.wants/mipart-boot.service"
run mipart --root "$H" doctor --json
is "$(st declared.boot)" ok "the unit enabled: ok"
mipart sim write "$H" 0 current_compute_partition DPX >/dev/null 2>&1
run mipart --root "$H" doctor --json
is "$(st declared.drift)" warn "a GPU switched by hand: drift warns"
like "$(fixes declared.drift)" "*mipart --root * boot*" "fix: mipart boot"
is "$(st nfd.labels)" warn "and the NFD file is stale"
like "$(fixes nfd.labels)" "*mipart --root * labels*" "fix: mipart labels"

# modes.pending: an NPS request the driver holds after a refused unload
H="$T_TMP/pending"
mipart sim create "$H" --gpus 2 2>/dev/null
mipart sim fault "$H" --on reload --error EBUSY --times 2 2>/dev/null
mipart --root "$H" set -g all --compute CPX --memory NPS4 >/dev/null 2>&1
run mipart --root "$H" doctor --json
is "$(st modes.pending)" warn "a pending NPS request: warn"
like "$(saw modes.pending)" "*GPU 0 shows NPS1, but NPS4 is requested*" "it says what the next reload does"
like "$(fixes modes.pending)" "*recover*set -g 0,1 --memory NPS4*" "fix: drop it or take it"

# slurm.gres: the gres.conf mipart keeps for slurmd (docs/slurm.md)
H="$T_TMP/slurm"
mipart sim create "$H" --gpus 2 2>/dev/null
mkdir -p "$H/etc/mipart" "$H/etc/slurm"
printf 'GresConf=/etc/slurm/gres.conf\n' >"$H/etc/mipart/slurm.conf"
run mipart --root "$H" doctor --json
is "$(st slurm.gres)" fail "GresConf named but missing: fail"
like "$(fixes slurm.gres)" "*slurm gres --output $H/etc/slurm/gres.conf*" "fix: write it, the path under the root"
mipart --root "$H" slurm gres --output "$H/etc/slurm/gres.conf" >/dev/null 2>&1
run mipart --root "$H" doctor --json
is "$(st slurm.gres)" ok "gres.conf written now: ok"
like "$(saw slurm.gres)" "*Gres=gpu:mi300x_spx:2*" "it names the Gres= value"
mipart --root "$H" set -g all --compute CPX >/dev/null 2>&1
run mipart --root "$H" doctor --json
is "$(st slurm.gres)" ok "a change rewrites gres.conf itself (post-change action): still ok"
printf 'Name=gpu Type=mi300x_spx File=/dev/dri/renderD128\n' >"$H/etc/slurm/gres.conf"
run mipart --root "$H" doctor --json
is "$(st slurm.gres)" warn "a gres.conf that lists other partitions: warn"
like "$(saw slurm.gres)" "*does not list the partitions the host has now (Gres=gpu:mi300x_cpx:16)*" "says what it should list"
like "$(fixes slurm.gres)" "*scontrol reconfigure*" "fix: rewrite it and reconfigure slurmd"
printf 'GresConf\n' >"$H/etc/mipart/slurm.conf"
run mipart --root "$H" doctor --json
is "$(st slurm.gres)" fail "an unreadable settings file: fail"

# k8s.device_plugin: the kubelet's checkpoint of registered devices against the partitions
# (the checkpoint's shape: kubernetes pkg/kubelet/cm/devicemanager/checkpoint)
H="$T_TMP/plugin"
mipart sim create "$H" --gpus 2 2>/dev/null
run mipart --root "$H" doctor --json
is "$(st k8s.device_plugin)" skipped "no kubelet checkpoint: skipped"
mkdir -p "$H/var/lib/kubelet/device-plugins"
CK="$H/var/lib/kubelet/device-plugins/kubelet_internal_checkpoint"
printf '{"Data":{"PodDeviceEntries":null,"RegisteredDevices":{"amd.com/gpu":["0000:05:00.0","0000:26:00.0"]}},"Checksum":1}' >"$CK"
run mipart --root "$H" doctor --json
is "$(st k8s.device_plugin)" ok "two devices for two partitions: ok"
mipart --root "$H" set -g all --compute CPX >/dev/null 2>&1
run mipart --root "$H" doctor --json
is "$(st k8s.device_plugin)" warn "the plugin still offers 2 after the switch to CPX: warn"
like "$(saw k8s.device_plugin)" "*2 amd.com devices registered; the host has 16 partitions now*" "says both counts"
like "$(fixes k8s.device_plugin)" "*delete pod -l name=amdgpu-dp-ds*" "fix: restart the plugin"
printf 'not json' >"$CK"
run mipart --root "$H" doctor --json
is "$(st k8s.device_plugin)" warn "an unreadable checkpoint: warn"
