#!/bin/sh
# The simulated amdgpu driver driven through the CLI (HARDWARE.md 1.2, 1.3, 3.3, 3.5, 7):
# busy GPUs refuse a compute switch, NPS requests wait for a reload and apply to the whole hive,
# a reload brings the compute mode back to AUTO, injected faults, the KFD node order after a
# switch, and the /proc and KFD files of a simulated process.

. "$(dirname "$0")/lib.sh"

# state H: "compute/memory" of every GPU of host H, comma separated
state() {
	mipart --root "$1" list --json 2>/dev/null |
		jq -r '[.gpus[] | "\(.compute_partition)/\(.memory_partition)"] | join(",")'
}

# list H: run 'list --json' on host H into $OUT
list() {
	run mipart --root "$1" list --json
}

h="$T_TMP/busy"
mipart sim create "$h" --gpus 2 --compute CPX 2>/dev/null

# a process holding GPU 1: /proc/<pid> and KFD's proc/<pid> (kfd_process.c)
run mipart sim hold "$h" --gpu 1 --pid 4242 --comm python3 --container abc123def
is "$RC" 0 "sim hold succeeds"
is "$(readlink "$h/proc/4242/fd/3")" /dev/kfd "the held process has /dev/kfd open"
list "$h"
want=$(jqo '[.gpus[1].partitions[].render_minor | "/dev/dri/renderD\(.)"] | sort | join(",")')
got=$(for f in "$h"/proc/4242/fd/*; do readlink "$f"; done | grep renderD | sort | paste -sd, -)
is "$got" "$want" "its other fds are the render nodes of GPU 1's partitions"
missing=0
for f in "$h"/proc/4242/fd/*; do
	[ -e "$h$(readlink "$f")" ] || missing=1
done
is "$missing" 0 "every fd target exists under the root"
is "$(jqo '[.gpus[] | [.processes[]? | "\(.pid)/\(.container)"] | join(" ")] | join(",")')" \
	",4242/abc123def" "list --json shows the process, with its container, on GPU 1 only"
like "$(cat "$h/proc/4242/cgroup")" "*abc123def*" "the cgroup line names the container id"
is "$(cat "$h/proc/4242/comm")" python3 "comm is the command name"
want=$(jqo '[.gpus[1].partitions[].gpu_id | "vram_\(.)"] | sort | join(",")')
got=$(for f in "$h"/sys/class/kfd/kfd/proc/4242/vram_*; do echo "${f##*/}"; done | sort | paste -sd, -)
is "$got" "$want" "KFD proc/<pid> has vram_<gpu_id> for each partition of GPU 1"
run mipart sim hold "$h" --gpu 7 --pid 4243 --comm x
is "$RC" 1 "sim hold on a GPU that does not exist exits 1"

# EBUSY: amdgpu_amdkfd_check_and_lock_kfd refuses while a KFD process uses the device
run mipart sim write "$h" 1 current_compute_partition SPX
is "$RC" 1 "compute write on the held GPU fails"
like "$ERR" "*in use*" "the error says the GPU is in use"
is "$(state "$h")" CPX/NPS1,CPX/NPS1 "the held GPU keeps its mode"
run mipart sim reload "$h"
is "$RC" 1 "reload fails while a process holds a GPU"
like "$ERR" "*in use*" "the reload error says in use"
run mipart sim write "$h" 0 current_compute_partition QPX
is "$RC" 0 "the GPU nobody holds can still switch"
is "$(state "$h")" QPX/NPS1,CPX/NPS1 "only GPU 0 changed"
run mipart sim write "$h" 1 current_compute_partition CPX
is "$RC" 0 "writing the current mode to a held GPU is a no-op success"

run mipart sim release "$h" --pid 4242
is "$RC" 0 "sim release succeeds"
if [ -e "$h/proc/4242" ]; then ok 1 "/proc/4242 is gone"; else ok 0 "/proc/4242 is gone"; fi
if [ -e "$h/sys/class/kfd/kfd/proc/4242" ]; then ok 1 "KFD proc/4242 is gone"; else ok 0 "KFD proc/4242 is gone"; fi
run mipart sim release "$h" --pid 4242
is "$RC" 1 "releasing it again exits 1"
list "$h"
is "$(jqo '[.gpus[].processes[]?] | length')" 0 "list --json shows no process after the release"
run mipart sim write "$h" 1 current_compute_partition SPX
is "$RC" 0 "after release the switch succeeds"
is "$(state "$h")" QPX/NPS1,SPX/NPS1 "GPU 1 is SPX now"

# KFD order: a switched GPU's nodes are removed and re-added at the tail (kfd_topology.c)
h="$T_TMP/order"
mipart sim create "$h" --gpus 3 2>/dev/null
run mipart sim write "$h" 0 current_compute_partition CPX
is "$RC" 0 "GPU 0 switches to CPX"
list "$h"
is "$(jqo '[.gpus[0].partitions[].index] | join(",")')" 2,3,4,5,6,7,8,9 \
	"GPU 0's partitions now have the highest global indices"
is "$(jqo '[.gpus[1,2].partitions[].index] | join(",")')" 0,1 "GPUs 1 and 2 moved to the front"
is "$(jqo '[.gpus[0].partitions[].kfd_node] | join(",")')" 4,5,6,7,8,9,10,11 \
	"GPU 0's KFD nodes come after the other GPUs' (2 CPU nodes first)"
is "$(jqo '[.gpus[0].partitions[].xcp] | join(",")')" 0,1,2,3,4,5,6,7 "its XCPs are still 0..7"
is "$(cat "$h/sys/class/kfd/kfd/topology/generation_id")" 15 \
	"generation_id counts 5 adds at load, kfd_topology_init's bump, 1 remove and 8 adds for the switch"

# NPS: the write only records the request; a reload applies it to the whole hive
h="$T_TMP/hive"
mipart sim create "$h" --gpus 2 2>/dev/null
run mipart sim write "$h" 0 current_memory_partition NPS4
is "$RC" 0 "NPS4 request is accepted"
is "$(state "$h")" SPX/NPS1,SPX/NPS1 "nothing changes before the reload"
bdf0=$(mipart --root "$h" list --json | jq -r '.gpus[0].bdf')
is "$(cat "$h/sys/bus/pci/devices/$bdf0/current_memory_partition")" NPS1 \
	"current_memory_partition still reads NPS1"
run mipart sim reload "$h"
is "$RC" 0 "reload succeeds"
is "$(state "$h")" CPX/NPS4,CPX/NPS4 "both hive members are NPS4, and AUTO picked CPX"
list "$h"
is "$(jqo '[.gpus[].partitions | length] | join(",")')" 8,8 "8 partitions on each GPU"
run mipart sim write "$h" 0 current_memory_partition nps1
is "$RC" 0 "the NPS request is case-insensitive"
run mipart sim write "$h" 0 current_memory_partition NPS2
is "$RC" 1 "an NPS mode the GPU does not support is refused"
run mipart sim reload "$h"
is "$(state "$h")" SPX/NPS1,SPX/NPS1 "back to NPS1 on both; AUTO picked SPX"

h="$T_TMP/nohive"
mipart sim create "$h" --gpus 2 --no-hive 2>/dev/null
list "$h"
is "$(jqo '[.gpus[].hive_id] | map(tostring) | join(",")')" null,null "--no-hive: no hive id"
mipart sim write "$h" 0 current_memory_partition NPS4
mipart sim reload "$h"
is "$(state "$h")" CPX/NPS4,SPX/NPS1 "without a hive only the GPU written changes"

# compute mode returns to AUTO after a reload (user_partt_mode -2, gfx_v9_4_3_cp_resume)
h="$T_TMP/auto"
mipart sim create "$h" --gpus 2 2>/dev/null
mipart sim write "$h" 0 current_compute_partition DPX
mipart sim write "$h" 1 current_compute_partition CPX
is "$(state "$h")" DPX/NPS1,CPX/NPS1 "GPUs switched to DPX and CPX"
run mipart sim reload "$h"
is "$RC" 0 "reload succeeds"
is "$(state "$h")" SPX/NPS1,SPX/NPS1 "after the reload both are SPX again (AUTO in NPS1)"

# the kernel's refusals
run mipart sim write "$h" 0 current_compute_partition TPX
is "$RC" 1 "TPX on an 8-XCC GPU is refused"
run mipart sim write "$h" 0 current_compute_partition bogus
is "$RC" 1 "an unknown word is refused"
run mipart sim write "$h" 0 current_compute_partition cpx-foo
is "$RC" 0 "the compute write is a case-insensitive 3-letter prefix match"
is "$(state "$h")" CPX/NPS1,SPX/NPS1 "'cpx-foo' selected CPX"
mipart sim write "$h" 0 current_memory_partition NPS4
mipart sim reload "$h"
run mipart sim write "$h" 0 current_compute_partition SPX
is "$RC" 1 "SPX is refused in NPS4"
run mipart sim write "$h" 0 available_compute_partition SPX
is "$RC" 1 "available_compute_partition is read-only"

# faults: --times, --gpu, SILENT, --delay, --clear
h="$T_TMP/fault"
mipart sim create "$h" --gpus 2 2>/dev/null
run mipart sim fault "$h" --gpu 0 --on compute-write --error EIO --times 2
is "$RC" 0 "an EIO fault for two compute writes on GPU 0 is added"
run mipart sim write "$h" 0 current_compute_partition DPX
is "$RC" 1 "first write fails"
like "$ERR" "*nput/output*" "with an I/O error"
run mipart sim write "$h" 0 current_compute_partition DPX
is "$RC" 1 "second write fails"
run mipart sim write "$h" 1 current_compute_partition DPX
is "$RC" 0 "GPU 1 is not affected by a GPU 0 fault"
is "$(state "$h")" SPX/NPS1,DPX/NPS1 "the failed writes changed nothing"
run mipart sim write "$h" 0 current_compute_partition DPX
is "$RC" 0 "third write succeeds: the fault is used up"
is "$(state "$h")" DPX/NPS1,DPX/NPS1 "GPU 0 is DPX"

mipart sim fault "$h" --on compute-write --error SILENT --times 1
run mipart sim write "$h" 0 current_compute_partition CPX
is "$RC" 0 "a SILENT fault reports success"
is "$(state "$h")" DPX/NPS1,DPX/NPS1 "but nothing changed"

mipart sim fault "$h" --on compute-write --error EPERM
for _ in 1 2 3; do
	run mipart sim write "$h" 1 current_compute_partition CPX
	[ "$RC" = 1 ] || break
done
is "$RC" 1 "a fault without --times keeps firing"
like "$ERR" "*not permitted*" "EPERM reads as not permitted"
run mipart sim fault "$h" --clear
is "$RC" 0 "--clear succeeds"
run mipart sim write "$h" 1 current_compute_partition CPX
is "$RC" 0 "after --clear the write succeeds"

mipart sim fault "$h" --on compute-write --delay 300 --times 1
run mipart sim write "$h" 1 current_compute_partition SPX
is "$RC" 0 "a delayed write still succeeds"
is "$(state "$h")" DPX/NPS1,SPX/NPS1 "and takes effect"

mipart sim fault "$h" --on memory-write --error EBUSY --times 1
run mipart sim write "$h" 0 current_memory_partition NPS4
is "$RC" 1 "a memory-write fault fails the NPS request"
like "$ERR" "*in use*" "with EBUSY"
mipart sim reload "$h"
is "$(state "$h")" SPX/NPS1,SPX/NPS1 "the failed NPS request was not recorded"

# a reload whose load fails: the module is out, no GPU bound, no KFD nodes; the next reload
# restores, and an NPS request recorded before is applied at the unload
mipart sim write "$h" 0 current_memory_partition NPS4
run mipart sim fault "$h" --on reload --error EIO --times 1
is "$RC" 0 "an EIO reload fault is added"
run mipart sim reload "$h"
is "$RC" 1 "the reload fails"
like "$ERR" "*nput/output*" "with an I/O error"
list "$h"
is "$RC" 0 "list still works with the driver out"
is "$(jqo '.gpus | length')" 2 "both GPUs are still listed from PCI"
is "$(jqo '[.gpus[] | "\(.driver_bound)/\(.partitions | length)"] | unique | join(",")')" false/0 \
	"no GPU is bound and none has partitions"
if [ -e "$h/sys/class/kfd/kfd/topology" ]; then ok 1 "no KFD topology"; else ok 0 "no KFD topology"; fi
run mipart sim write "$h" 0 current_compute_partition CPX
is "$RC" 1 "no partition file to write while the driver is out"
run mipart sim reload "$h"
is "$RC" 0 "the next reload succeeds"
list "$h"
is "$(jqo '[.gpus[] | "\(.driver_bound)/\(.compute_partition)/\(.memory_partition)/\(.partitions | length)"] | join(",")')" \
	true/CPX/NPS4/8,true/CPX/NPS4/8 "GPUs are back, with the NPS4 request applied to the hive"

mipart sim fault "$h" --on reload --error EBUSY --times 1
run mipart sim reload "$h"
is "$RC" 1 "an EBUSY reload fault fails the reload"
list "$h"
is "$(jqo '[.gpus[] | .driver_bound] | unique | join(",")')" true "an unload refused leaves the driver bound"

# fault arguments the driver refuses
run mipart sim fault "$h" --gpu 5 --on compute-write --error EIO
is "$RC" 1 "a fault on a GPU that does not exist exits 1"
run mipart sim fault "$h" --gpu 0 --on reload --error EIO
is "$RC" 2 "a reload fault for one GPU is a usage error"

# the GPU argument of 'sim write' may be a PCI address
h="$T_TMP/bdf"
mipart sim create "$h" --gpus 2 2>/dev/null
run mipart sim write "$h" 0000:26:00.0 current_compute_partition QPX
is "$RC" 0 "sim write takes a BDF for the GPU"
is "$(state "$h")" SPX/NPS1,QPX/NPS1 "the BDF picked GPU 1"
run mipart sim write "$h" 0000:99:00.0 current_compute_partition QPX
is "$RC" 1 "a BDF that is no GPU exits 1"

# an APU cannot change its NPS mode from the OS: its current_memory_partition is 0444 and opening
# it for writing fails with EACCES (amdgpu_gmc_sysfs_init, kernfs_fop_open; HARDWARE.md 8.4)
h="$T_TMP/apu"
mipart sim create "$h" --gpus 1 --product mi300a 2>/dev/null
run mipart sim write "$h" 0 current_memory_partition NPS4
is "$RC" 1 "MI300A: an NPS write is refused"
like "$ERR" "*current_memory_partition*permission denied*" "MI300A: permission denied (EACCES)"
run mipart sim write "$h" 0 current_compute_partition TPX
is "$RC" 0 "MI300A: TPX is accepted"
is "$(state "$h")" TPX/NPS1 "MI300A: now TPX"

# --- a render killed half-way never leaves a torn tree (docs/simulator.md, "Atomic renders") ---
# strace injects SIGKILL at the Nth openat(2) of the simulated driver: inside its render (the
# modes, KFD topology and readings of every GPU after a reload; the KFD topology after a compute
# switch), at the same point every run. A reader then sees the old tree, whole; the next
# operation renders the new one.
if command -v strace >/dev/null 2>&1 && strace -f -o /dev/null true 2>/dev/null; then
	# whole H: every GPU has the partitions its mode gives, with one size per mode, and the
	# list has no complaints: prints "GPUS PARTITIONS MODES SIZES"
	whole() {
		"$MIPART" --root "$1" list --json 2>"$T_TMP/whole.err" | jq -r '
			def n: if . == "SPX" then 1 elif . == "DPX" then 2 elif . == "QPX" then 4
				elif . == "CPX" then 8 else -1 end;
			[(.gpus | length),
			 ([.gpus[] | .partitions | length] | add),
			 ([.gpus[] | select((.partitions | length) != (.compute_partition | n))] | length),
			 ([.gpus[].compute_partition] | unique | join(",")),
			 ([.gpus[] | [.compute_partition, (.partitions[].memory_bytes)] | unique | length] | max)]
			| "\(.[0]) gpus, \(.[1]) partitions, \(.[2]) torn, \(.[3]), \(.[4] - 1) sizes"'
		[ -s "$T_TMP/whole.err" ] && echo "complaints: $(cat "$T_TMP/whole.err")"
	}
	killed_at() { # killed_at N CMD...: run CMD, killed at its Nth openat
		n=$1
		shift
		strace -f -o /dev/null -e trace=openat -e inject=openat:signal=KILL:when="$n" "$@" \
			>/dev/null 2>&1
	}
	h="$T_TMP/killed"
	mipart sim create "$h" --compute CPX 2>/dev/null
	is "$(whole "$h")" "8 gpus, 64 partitions, 0 torn, CPX, 1 sizes" "killed renders: a CPX host to start with"
	killed_at 300 "$MIPART" sim reload "$h"
	is "$?" 137 "a reload killed mid-render (SIGKILL at its 300th openat)"
	is "$(whole "$h")" "8 gpus, 64 partitions, 0 torn, CPX, 1 sizes" \
		"a reader sees the tree before the reload, whole"
	run mipart sim fault "$h" --clear
	is "$RC" 0 "the next operation succeeds"
	is "$(whole "$h")" "8 gpus, 8 partitions, 0 torn, SPX, 1 sizes" \
		"and renders the reload's tree (AUTO: SPX), whole"
	is "$(find "$h" -name '*mipart-tmp*' -o -name '.sim-live.new' | wc -l)" 0 \
		"nothing of the killed render is left"
	run mipart sim write "$h" 3 current_compute_partition CPX
	is "$(whole "$h")" "8 gpus, 15 partitions, 0 torn, CPX,SPX, 1 sizes" "a switch after it"

	# a compute switch killed while the KFD topology is written (GPU 0's nodes go to the tail,
	# so every GPU node is written again)
	h="$T_TMP/killed-switch"
	mipart sim create "$h" --compute CPX 2>/dev/null
	killed_at 600 "$MIPART" sim write "$h" 0 current_compute_partition SPX
	is "$?" 137 "a compute switch killed mid-render"
	is "$(whole "$h")" "8 gpus, 64 partitions, 0 torn, CPX, 1 sizes" \
		"a reader sees the tree before the switch, whole"
	run mipart sim hold "$h" --gpu 7 --pid 4100 --comm python3
	is "$(whole "$h")" "8 gpus, 57 partitions, 0 torn, CPX,SPX, 1 sizes" \
		"the next operation renders the switch"
	is "$(cat "$h/proc/4100/comm")" python3 "and its own change"
else
	echo "# skip: strace is missing or may not trace here (ptrace refused): killed renders"
fi
