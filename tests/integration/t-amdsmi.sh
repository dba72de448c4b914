#!/bin/sh
# The amd-smi backend (src/lib/control/backend-amdsmi.c) end to end over a simulated host, with
# tests/fixtures/amd-smi/amd-smi standing in for amd-smi and .../modprobe for modprobe: the
# commands it runs (amd-smi numbers logical devices, so a GPU's index moves with the modes of
# the GPUs before it), changes with and without a driver reload, amd-smi's refusals as errors
# with rollback, a hung amd-smi, a missing one.
. "$(dirname "$0")/lib.sh"
: "${FIXTURES:=$(dirname "$0")/../fixtures}"

FAKE=$(cd "$FIXTURES/amd-smi" && pwd)
MIPART=$(cd "$(dirname "$MIPART")" && pwd)/$(basename "$MIPART")
H="$T_TMP/h"
LOG="$T_TMP/amd-smi.log"
run mipart sim create "$H" --gpus 4
is "$RC" 0 "create a 4-GPU MI300X host"
# the stand-ins find the host and mipart here; the fake modprobe comes first in PATH, so no
# test can reach the real one
MIPART_ROOT="$H" FAKE_AMDSMI_LOG="$LOG" PATH="$FAKE:$PATH"
export MIPART MIPART_ROOT FAKE_AMDSMI_LOG PATH

# mipart through the stand-in; FAIL, TMO and PRE, when set, become FAKE_AMDSMI_FAIL,
# MIPART_BACKEND_TIMEOUT_MS and FAKE_AMDSMI_PREAMBLE in its environment
FAIL='' TMO='' PRE=''
amdsmi() {
	env ${FAIL:+"FAKE_AMDSMI_FAIL=$FAIL"} ${TMO:+"MIPART_BACKEND_TIMEOUT_MS=$TMO"} \
		${PRE:+"FAKE_AMDSMI_PREAMBLE=$PRE"} \
		"$MIPART" --root "$H" --backend amd-smi --amd-smi "$FAKE/amd-smi" "$@"
}
modes() {
	mipart --root "$H" list --json | jq -r '[.gpus[] | .compute_partition + "/" + .memory_partition] | join(",")'
}
state_of_last() {
	mipart --root "$H" history --json | jq -r '.changes[0].state'
}
# the amd-smi set commands (or the modprobe commands) run since the log was emptied
sets() {
	grep "^amd-smi set" "$LOG" | sed 's/^amd-smi //' | paste -sd, -
}

# --- the stand-in itself ---------------------------------------------------------------------
run "$FAKE/amd-smi" list --json
is "$(jqo '[.[] | "\(.gpu)=\(.bdf)/\(.partition_id)"] | join(",")')" \
	"0=0000:05:00.0/0,1=0000:26:00.0/0,2=0000:46:00.0/0,3=0000:65:00.0/0" \
	"the stand-in lists one device per GPU in SPX"
run "$FAKE/amd-smi" set -g 0 -M NPS4
is "$RC" 1 "like amd-smi, 'set -M' with nothing on stdin fails at the confirmation"

# --- usage -----------------------------------------------------------------------------------
run mipart --root "$H" --backend nope status
is "$RC" 2 "an unknown backend is a usage error"
like "$ERR" "*invalid value 'nope' for '--backend'*" "naming the value"

run amdsmi set -g all --compute CPX --memory NPS4 --dry-run
like "$OUT" "*driver reload: 'modprobe' '-r' 'amdgpu', then 'modprobe' 'amdgpu'*" \
	"a dry-run names the reload the amd-smi backend runs"

# --- compute switches: amd-smi's index of each GPU -------------------------------------------
: >"$LOG"
run amdsmi set -g all --compute CPX
is "$RC" 0 "CPX on every GPU through amd-smi"
is "$(modes)" "CPX/NPS1,CPX/NPS1,CPX/NPS1,CPX/NPS1" "the host is CPX/NPS1"
is "$(sets)" "set -g 0 -C CPX,set -g 8 -C CPX,set -g 16 -C CPX,set -g 24 -C CPX" \
	"each GPU by the index of its primary partition, read again after every switch"
is "$(grep -c '^amd-smi list --json$' "$LOG")" 4 "amd-smi list --json before each switch"
is "$(state_of_last)" done "journal: done"

: >"$LOG"
run amdsmi set -g 2 --compute DPX
is "$RC" 0 "DPX on GPU 2"
is "$(sets)" "set -g 16 -C DPX" "GPU 2 is amd-smi's 16 behind two CPX GPUs"
is "$(modes)" "CPX/NPS1,CPX/NPS1,DPX/NPS1,CPX/NPS1" "only GPU 2 changed"

: >"$LOG"
PRE="[WARNING] Permission needed to access required GPU device node(s):"
run amdsmi set -g 3 --compute QPX
PRE=''
is "$RC" 0 "text before amd-smi's JSON list, even a line starting with '[', is skipped"
is "$(sets)" "set -g 18 -C QPX" "GPU 3 is 18 behind CPX, CPX and DPX"
run amdsmi set -g 3 --compute CPX
is "$RC" 0 "and back to CPX"

# --- memory change and reload ----------------------------------------------------------------
: >"$LOG"
run amdsmi set -g all --compute CPX --memory NPS4
is "$RC" 0 "CPX/NPS4 through amd-smi and a reload"
is "$(modes)" "CPX/NPS4,CPX/NPS4,CPX/NPS4,CPX/NPS4" "the host is CPX/NPS4"
is "$(sets)" "set -g 0 -M NPS4,set -g 8 -M NPS4,set -g 16 -M NPS4,set -g 18 -M NPS4" \
	"NPS4 requested on each GPU, the confirmation answered (GPU 3 is 18 after DPX)"
is "$(grep '^modprobe' "$LOG" | paste -sd, -)" "modprobe -r amdgpu,modprobe amdgpu" \
	"the reload is modprobe -r amdgpu, then modprobe amdgpu"
is "$(state_of_last)" done "journal: done"
like "$OUT" "*done: change * verified (driver reloaded)*" "and says the driver was reloaded"

# --- refusals ----------------------------------------------------------------------------------
: >"$LOG"
FAIL=busy
run amdsmi set -g 1 --compute QPX
is "$RC" 1 "a compute switch amd-smi refuses fails the change"
like "$ERR" "*cannot set compute mode QPX on GPU 1 (0000:26:00.0): input/output error*rolled back*" \
	"amd-smi hides the cause of a refused switch: an I/O error, rolled back"
like "$ERR" "*amd-smi said:*Parameter 'set' is not supported on the system*Error code: -8*" \
	"with what amd-smi printed"
is "$(modes)" "CPX/NPS4,CPX/NPS4,CPX/NPS4,CPX/NPS4" "nothing changed"
is "$(state_of_last)" rolled-back "journal: rolled-back"

run amdsmi set -g all --compute SPX --memory NPS1
is "$RC" 1 "a memory request amd-smi finds busy fails the change"
like "$ERR" "*cannot request memory mode NPS1 on GPU 0 (0000:05:00.0): in use by a process*rolled back*" \
	"AMDSMI_STATUS_BUSY is 'in use by a process'"
like "$ERR" "*amd-smi said:*\[AMDSMI_STATUS_BUSY\] Unable to set memory partition to NPS1*" \
	"with amd-smi's line"
unlike "$ERR" "*WARNING*" "without the warning amd-smi prints before its prompt"
unlike "$ERR" "*stop them first*" "and not as a list of blocking processes"
is "$(modes)" "CPX/NPS4,CPX/NPS4,CPX/NPS4,CPX/NPS4" "nothing changed"
is "$(state_of_last)" rolled-back "journal: rolled-back"
is "$(grep -c '^modprobe' "$LOG")" 0 "and the driver was not reloaded"

FAIL=perm
run amdsmi set -g 0 --compute QPX
is "$RC" 1 "amd-smi without root fails the change"
like "$ERR" "*cannot set compute mode QPX on GPU 0*needs root*" "the message says it needs root"
like "$ERR" "*requires elevation (sudo privileges required)*" "with amd-smi's words"
is "$(state_of_last)" rolled-back "journal: rolled-back"

run amdsmi set -g all --compute SPX --memory NPS1
is "$RC" 1 "a memory request without root fails"
like "$ERR" "*cannot request memory mode NPS1 on GPU 0*needs root*" "the message says it needs root"
is "$(modes)" "CPX/NPS4,CPX/NPS4,CPX/NPS4,CPX/NPS4" "nothing changed"

# --- a hung amd-smi --------------------------------------------------------------------------
FAIL=hang TMO=500
run amdsmi set -g 3 --compute QPX
is "$RC" 1 "an amd-smi that does not answer fails the change"
like "$ERR" "*cannot set compute mode QPX on GPU 3*timed out*rolled back*" "as timed out (the backend's 500 ms, not amd-smi's 30 s), rolled back"
is "$(modes)" "CPX/NPS4,CPX/NPS4,CPX/NPS4,CPX/NPS4" "nothing changed"
is "$(state_of_last)" rolled-back "journal: rolled-back"
FAIL='' TMO=soon
run amdsmi set -g 3 --compute QPX
TMO=''
is "$RC" 1 "a malformed MIPART_BACKEND_TIMEOUT_MS fails"
like "$ERR" "*invalid MIPART_BACKEND_TIMEOUT_MS 'soon'*" "and says so"

# --- a missing amd-smi -------------------------------------------------------------------------
n_before=$(mipart --root "$H" history --json | jq '.changes | length')
run mipart --root "$H" --backend amd-smi --amd-smi "$T_TMP/nowhere/amd-smi" set -g 0 --compute QPX
is "$RC" 1 "an amd-smi path that does not exist fails"
like "$ERR" "*cannot run '$T_TMP/nowhere/amd-smi': no such program*" "naming the path"
is "$(mipart --root "$H" history --json | jq '.changes | length')" "$n_before" "before anything is journalled"
run env PATH=/nonexistent "$MIPART" --root "$H" --backend amd-smi set -g 0 --compute QPX
is "$RC" 1 "no amd-smi in PATH fails"
like "$ERR" "*cannot run 'amd-smi': no such program*" "and says so"
run mipart --root "$H" --backend amd-smi --amd-smi "$T_TMP/nowhere/amd-smi" recover
is "$RC" 1 "recover with a missing amd-smi fails"
like "$ERR" "*cannot run '$T_TMP/nowhere/amd-smi'*" "with the same message"
: >"$LOG"
run mipart --root "$H" --backend amd-smi set -g 0 --compute QPX
is "$RC" 0 "without --amd-smi, amd-smi is found in PATH"
is "$(sets)" "set -g 0 -C QPX" "and runs"

# --- back to the default ---------------------------------------------------------------------
run amdsmi reset -g all
is "$RC" 0 "reset through amd-smi"
is "$(modes)" "SPX/NPS1,SPX/NPS1,SPX/NPS1,SPX/NPS1" "SPX/NPS1 again"
run amdsmi recover
is "$RC" 0 "recover with nothing to do"
like "$OUT" "*nothing to recover*" "says so"

# --- amd-smi release families (HARDWARE.md 8.7): one stand-in per family ---------------------
# amd-smi (ROCm >= 7.0) records an NPS request and mipart reloads; amd-smi-6.4 (ROCm 6.3/6.4)
# restarts the driver itself after `set -M`; amd-smi-6.2 records the request and has reset -C/-M
fam() { # fam STAND-IN ARGS...: mipart through that stand-in
	s=$1
	shift
	env ${VER:+"FAKE_AMDSMI_VERSION=$VER"} ${PROMPT:+"FAKE_AMDSMI_PROMPT=$PROMPT"} ${FAIL:+"FAKE_AMDSMI_FAIL=$FAIL"} \
		"$MIPART" --root "$H" --backend amd-smi --amd-smi "$FAKE/$s" "$@"
}
VER='' PROMPT='' FAIL=''
for s in amd-smi amd-smi-6.4 amd-smi-6.2; do
	rm -rf "$H"
	mipart sim create "$H" --gpus 4 >/dev/null 2>&1
	: >"$LOG"
	run fam "$s" set -g all --compute CPX --memory NPS4
	is "$RC" 0 "$s: CPX/NPS4"
	is "$(modes)" "CPX/NPS4,CPX/NPS4,CPX/NPS4,CPX/NPS4" "$s: the host is CPX/NPS4"
	is "$(grep -c '^amd-smi version$' "$LOG")" 1 "$s: mipart reads 'amd-smi version' once"
	is "$(state_of_last)" done "$s: journal: done"
	unlike "$(cat "$LOG")" "*amd-smi reset*" "$s: never 'amd-smi reset' (it resets to the boot state)"
	case $s in
	amd-smi-6.4)
		is "$(grep -e '^modprobe' -e '-M' "$LOG" | paste -sd, -)" \
			"amd-smi set -g 0 -M NPS4,modprobe -r -v amdgpu,modprobe -v amdgpu" \
			"$s: one 'set -M', whose driver restart applies NPS4 to the hive; the others already show it"
		is "$(grep -c '^modprobe -r amdgpu$' "$LOG")" 0 "$s: and mipart does not reload a second time"
		;;
	*)
		is "$(grep -e '^modprobe' "$LOG" | paste -sd, -)" "modprobe -r amdgpu,modprobe amdgpu" \
			"$s: amd-smi only records the requests; mipart reloads once"
		is "$(grep -c -- '-M NPS4' "$LOG")" 4 "$s: NPS4 requested on each GPU"
		;;
	esac
done

# the family from the tool version when amd-smi runs outside a ROCm install ("ROCm version: N/A",
# recorded in amdsmi's CHANGELOG for 24.7.1, which shipped with ROCm 6.3)
VER="AMDSMI Tool: 24.7.1+b446d6c-dirty | AMDSMI Library version: 24.7.2.0 | ROCm version: N/A | amdgpu version: 6.10.10 | amd_hsmp version: 2.2"
: >"$LOG"
run fam amd-smi-6.4 set -g all --compute SPX --memory NPS1
VER=''
is "$RC" 0 "ROCm version N/A: the tool version 24.7 tells the 6.3 family"
is "$(grep -c '^modprobe -r' "$LOG")" 1 "one reload, amd-smi's own"
is "$(modes)" "SPX/NPS1,SPX/NPS1,SPX/NPS1,SPX/NPS1" "the host is SPX/NPS1"

# the newest prompt reads [y/n]: answered the same, and left out of the error shown
PROMPT='Do you accept these terms? [y/n] ' FAIL=busy
run fam amd-smi set -g all --compute CPX --memory NPS4
is "$RC" 1 "a refused request with the [y/n] prompt fails"
like "$ERR" "*amd-smi said:*\[AMDSMI_STATUS_BUSY\]*" "with amd-smi's line"
unlike "$ERR" "*WARNING*" "without the warning before the [y/n] prompt"
PROMPT='' FAIL=''
PROMPT='Do you accept these terms? [y/n] '
run fam amd-smi set -g all --compute CPX --memory NPS4
PROMPT=''
is "$RC" 0 "and a request through the [y/n] prompt goes through"
