#!/bin/sh
# set / reset / recover / history over simulated hosts: plans, refusals, the busy check, faults
# with rollback, kill -9 at each step followed by recover, and two writers at once.
. "$(dirname "$0")/lib.sh"

H="$T_TMP/h"
run mipart sim create "$H" --gpus 4
is "$RC" 0 "create a 4-GPU MI300X host"

# modes of every GPU as "CPX/NPS4,CPX/NPS4,..."
modes() {
	mipart --root "$H" list --json | jq -r '[.gpus[] | .compute_partition + "/" + .memory_partition] | join(",")'
}
state_of_last() {
	mipart --root "$H" history --json | jq -r '.changes[0].state'
}

# --- dry-run -------------------------------------------------------------------------------
run mipart --root "$H" set -g all --compute CPX --memory NPS4 --dry-run --json
is "$RC" 0 "dry-run exits 0"
is "$(jqo '.reload')" true "an NPS change needs a reload"
is "$(jqo '[.gpus[].disruption] | unique | join(",")')" memory-reload "every GPU is disrupted by the reload"
is "$(jqo '[.gpus[].writes[] | .attribute + "=" + .value] | unique | join(",")')" \
	"current_memory_partition=NPS4" "NPS4 is requested; CPX is what the driver picks after the reload"
is "$(jqo '[.gpus[].to.partitions] | unique | join(",")')" 8 "8 logical devices each afterwards"
is "$(modes)" "SPX/NPS1,SPX/NPS1,SPX/NPS1,SPX/NPS1" "dry-run changed nothing"
run mipart --root "$H" set -g 1 --compute DPX --dry-run --json
is "$(jqo '[.gpus[].disruption] | join(",")')" "none,compute,none,none" "a compute switch disrupts only its GPU"
is "$(jqo '.gpus[1].writes[0].value')" DPX "the write is DPX"

# --- refusals ------------------------------------------------------------------------------
run mipart --root "$H" set -g all --compute SPX --memory NPS4
is "$RC" 1 "SPX with NPS4 is refused"
like "$ERR" "*NPS4 needs compute mode QPX or CPX on 'MI300X 0000:05:00.0'; requested SPX*" "the refusal says what would work"
run mipart --root "$H" set -g 0 --compute CPX --memory NPS4
is "$RC" 1 "an NPS change on part of a hive is refused"
like "$ERR" "*whole XGMI hive*GPUs 1, 2, 3*" "the refusal names the other GPUs of the hive"
run mipart --root "$H" set -g all --compute TPX
is "$RC" 1 "TPX on MI300X is refused"
like "$ERR" "*does not support compute mode TPX*" "with the modes it supports"
run mipart --root "$H" set -g 7 --compute CPX
is "$RC" 2 "an unknown GPU is a usage error"
run mipart --root "$H" set -g all
is "$RC" 2 "set without a mode is a usage error"
is "$(modes)" "SPX/NPS1,SPX/NPS1,SPX/NPS1,SPX/NPS1" "refusals changed nothing"
run mipart --root "$H" history --json
is "$(jqo '.changes | length')" 0 "refusals are not journalled as changes"

# --- busy check ----------------------------------------------------------------------------
mipart sim hold "$H" --gpu 1 --pid 4242 --comm vllm --container c0ffee123456
run mipart --root "$H" set -g 1 --compute CPX
is "$RC" 1 "a switch of a GPU in use is refused"
like "$ERR" "*4242 'vllm' (container c0ffee123456) on GPU 1*" "the blocker is named with its container"
run mipart --root "$H" set -g 2 --compute CPX --json
is "$RC" 0 "another GPU can switch meanwhile"
is "$(jqo '.state')" done "and the change is done"
run mipart --root "$H" set -g all --compute CPX --memory NPS4 --json
is "$RC" 1 "a reload is refused while any GPU is in use"
is "$(jqo '.blockers[0].pid')" 4242 "the JSON names the blocker"
mipart sim release "$H" --pid 4242

# --- apply, verify, journal, idempotence ---------------------------------------------------
run mipart --root "$H" set -g all --compute CPX --memory NPS4
is "$RC" 0 "CPX/NPS4 on every GPU"
is "$(modes)" "CPX/NPS4,CPX/NPS4,CPX/NPS4,CPX/NPS4" "the host is CPX/NPS4"
run mipart --root "$H" list --json
is "$(jqo '[.gpus[].partitions | length] | add')" 32 "32 logical devices"
run mipart --root "$H" history --json
is "$(jqo '.changes[0].state')" done "journal: done"
is "$(jqo '.changes[0].before | map(.compute) | join(",")')" "SPX,SPX,CPX,SPX" "journal: modes before"
is "$(jqo '.changes[0].after | map(.partitions) | join(",")')" "8,8,8,8" "journal: logical devices after"
like "$(jqo '.changes[0].command')" "mipart set -g all --compute CPX --memory NPS4" "journal: the command line"
n_before=$(mipart --root "$H" history --json | jq '.changes | length')
run mipart --root "$H" set -g all --compute CPX --memory NPS4
is "$RC" 0 "applying the same modes again succeeds"
like "$OUT" "*nothing to change*" "and says there is nothing to change"
is "$(mipart --root "$H" history --json | jq '.changes | length')" "$n_before" "a no-op is not journalled"

# --- faults and rollback -------------------------------------------------------------------
mipart sim fault "$H" --gpu 3 --on compute-write --error EIO --times 1
run mipart --root "$H" set -g all --compute QPX
is "$RC" 1 "an EIO on GPU 3's compute write fails the change"
like "$ERR" "*GPU 3*input/output error*rolled back*" "the message names the GPU, the error and the rollback"
is "$(modes)" "CPX/NPS4,CPX/NPS4,CPX/NPS4,CPX/NPS4" "rollback restored every GPU"
is "$(state_of_last)" rolled-back "journal: rolled-back"

mipart sim fault "$H" --gpu 2 --on compute-write --error EBUSY --times 1
run mipart --root "$H" set -g 1,2 --compute QPX
is "$RC" 1 "an EBUSY from the driver (a process that appeared after the check) fails the change"
like "$ERR" "*GPU 2*in use by a process*rolled back*" "and says so"
is "$(modes)" "CPX/NPS4,CPX/NPS4,CPX/NPS4,CPX/NPS4" "GPU 1, already switched, is switched back"

mipart sim fault "$H" --on compute-write --gpu 0 --error SILENT --times 1
run mipart --root "$H" set -g 0 --compute QPX
is "$RC" 1 "a write the driver ignores is caught by verification"
like "$ERR" "*verification failed: GPU 0*CPX/NPS4, expected QPX/NPS4*" "verification says what it found"
is "$(state_of_last)" rolled-back "journal: rolled-back after a failed verification"

mipart sim fault "$H" --on reload --error EIO --times 1
run mipart --root "$H" set -g all --compute SPX --memory NPS1
is "$RC" 1 "a failed driver load fails the change"
like "$ERR" "*driver reload failed*rolled back*" "and the rollback is reported"
is "$(modes)" "CPX/NPS4,CPX/NPS4,CPX/NPS4,CPX/NPS4" "the node is as it was (NPS4 restored by two reloads)"
is "$(state_of_last)" rolled-back "journal: rolled-back after the failed reload"

mipart sim fault "$H" --on reload --error EBUSY --times 1
run mipart --root "$H" set -g all --compute SPX --memory NPS1
is "$RC" 1 "a refused unload fails the change"
is "$(modes)" "CPX/NPS4,CPX/NPS4,CPX/NPS4,CPX/NPS4" "and the node is as it was"

mipart sim fault "$H" --on reload --delay 1500 --times 1
run mipart --root "$H" set -g all --compute SPX --memory NPS1
is "$RC" 0 "a slow reload still completes"
is "$(modes)" "SPX/NPS1,SPX/NPS1,SPX/NPS1,SPX/NPS1" "SPX/NPS1 after the slow reload"

# --- kill -9 at each step, then recover ----------------------------------------------------
for step in memory-write reload compute-write; do
	mipart --root "$H" reset -g all >/dev/null 2>&1
	mipart sim fault "$H" --clear
	case $step in
	memory-write) mipart sim fault "$H" --gpu 2 --on memory-write --delay 3000 --times 1 ;;
	reload) mipart sim fault "$H" --on reload --delay 3000 --times 1 ;;
	compute-write) mipart sim fault "$H" --gpu 1 --on compute-write --delay 3000 --times 1 ;;
	esac
	if [ $step = compute-write ]; then
		"$MIPART" --root "$H" set -g all --compute DPX >/dev/null 2>&1 &
	else
		"$MIPART" --root "$H" set -g all --compute CPX --memory NPS4 >/dev/null 2>&1 &
	fi
	pid=$!
	wait_step "$H" "$step"
	ok $? "kill -9 at $step: the change reached the step"
	sleep 0.3
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	is "$(state_of_last)" running "kill -9 at $step: the journal shows it unfinished"
	run mipart --root "$H" status
	like "$ERR" "*change * did not finish (step '$step*'); run 'mipart recover'*" "kill -9 at $step: status warns about it"
	run mipart --root "$H" set -g all --compute SPX
	is "$RC" 1 "kill -9 at $step: a new change is refused until recover"
	like "$ERR" "*mipart recover*" "kill -9 at $step: and says to run recover"
	mipart sim fault "$H" --clear
	run mipart --root "$H" recover
	is "$RC" 0 "kill -9 at $step: recover exits 0"
	st=$(state_of_last)
	m=$(modes)
	case "$st:$m" in
	recovered:SPX/NPS1,SPX/NPS1,SPX/NPS1,SPX/NPS1 | done:CPX/NPS4,CPX/NPS4,CPX/NPS4,CPX/NPS4 | done:DPX/NPS1,DPX/NPS1,DPX/NPS1,DPX/NPS1)
		ok 0 "kill -9 at $step: host in the old or the new state, as the journal says ($st, $m)" ;;
	*) ok 1 "kill -9 at $step: host in the old or the new state, as the journal says ($st, $m)" ;;
	esac
done
run mipart --root "$H" recover
is "$RC" 0 "recover with nothing to do exits 0"
like "$OUT" "*nothing to recover*" "and says so"

# --- two writers ---------------------------------------------------------------------------
mipart --root "$H" reset -g all >/dev/null 2>&1
mipart sim fault "$H" --on reload --delay 2000 --times 1
"$MIPART" --root "$H" set -g all --compute CPX --memory NPS4 >"$T_TMP/w1" 2>&1 &
p1=$!
wait_step "$H" reload
run mipart --root "$H" status
unlike "$ERR" "*did not finish*" "a change that is running is not reported as unfinished"
run mipart --root "$H" set -g all --compute QPX --memory NPS4 --lock-timeout 0
is "$RC" 1 "a second writer with no patience fails cleanly"
like "$ERR" "*another mipart is changing partitions (pid $p1: mipart set -g all --compute CPX --memory NPS4)*" "naming the holder"
run mipart --root "$H" set -g all --compute QPX --memory NPS4 --lock-timeout 20
is "$RC" 0 "a patient second writer waits for the lock, then applies"
wait $p1
is "$?" 0 "the first writer finished"
is "$(modes)" "QPX/NPS4,QPX/NPS4,QPX/NPS4,QPX/NPS4" "the second change came last"
run mipart --root "$H" history --json
is "$(jqo '[.changes[0,1].state] | join(",")')" "done,done" "both journalled, neither interleaved"

# --- reset ---------------------------------------------------------------------------------
run mipart --root "$H" reset -g all
is "$RC" 0 "reset exits 0"
is "$(modes)" "SPX/NPS1,SPX/NPS1,SPX/NPS1,SPX/NPS1" "reset brings SPX/NPS1"

# --- sysfs backend on a tree without a driver: verification catches it ----------------------
P="$T_TMP/plain"
mkdir -p "$P/proc"
cp -aH "$H/sys" "$P/"
run mipart --root "$P" set -g 0 --compute CPX
is "$RC" 1 "writing a tree nobody reacts to fails verification"
like "$ERR" "*verification failed: GPU 0 (0000:05:00.0) has 1 logical devices, expected 8*" "because the logical devices did not appear"
is "$(cat "$P/sys/bus/pci/devices/0000:05:00.0/current_compute_partition")" SPX "and the attribute is written back"

# --- the reload commands are configurable and run without a shell ---------------------------
R="$T_TMP/plain-reload"
mkdir -p "$R/proc"
cp -aH "$H/sys" "$R/"
run mipart --root "$R" --unload-command "/bin/true -r amdgpu" --load-command "/bin/echo loaded" \
	set -g all --compute CPX --memory NPS4 --dry-run
like "$OUT" "*driver reload: '/bin/true' '-r' 'amdgpu', then '/bin/echo' 'loaded'*" "the dry-run shows the configured reload commands"
run mipart --root "$R" --unload-command "/bin/sh -c 'exit 1'" set -g all --compute CPX --memory NPS4
is "$RC" 1 "a failing unload command fails the change"
like "$ERR" "*driver reload failed*" "and says the reload failed"
run mipart --root "$R" --history-not-an-option status
is "$RC" 2 "unknown global options stay usage errors"

# --- a tree that is not simulated has no driver: a reload is refused, not run on this machine --
R2="$T_TMP/plain-tree"
mkdir -p "$R2/proc"
mipart sim create "$T_TMP/src2" --gpus 2 2>/dev/null
cp -aH "$T_TMP/src2/sys" "$R2/"
run mipart --root "$R2" set -g all --compute CPX --memory NPS4
is "$RC" 1 "a reload under --root of a captured tree is refused"
like "$ERR" "*is a tree, not a host with a driver*--unload-command*" "saying why and what to give"

# --- recover on a host where one GPU is not bound to the driver ------------------------------
U="$T_TMP/unbound"
mipart sim create "$U" --gpus 2 2>/dev/null
rm "$U/sys/devices/pci0000:20/0000:20:01.1/0000:26:00.0/driver"
mipart sim fault "$U" --gpu 0 --on compute-write --delay 3000 --times 1
"$MIPART" --root "$U" set -g 0 --compute CPX >/dev/null 2>&1 &
pid=$!
wait_step "$U" compute-write
sleep 0.3
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
mipart sim fault "$U" --clear
run mipart --root "$U" recover
is "$RC" 0 "recover finishes although a GPU's modes are unknown"
run mipart --root "$U" set -g 0 --compute DPX
is "$RC" 0 "and the host takes changes again"
