#!/bin/sh
# A real Slurm (Debian's slurmctld, slurmd, munge) on this machine, one node whose GPUs are a
# simulated host: node features from modes, a --constraint job that makes Slurm call
# mipart-slurm-helper, partitions as GRES, the step's view, a busy GPU and an injected fault.
# Every daemon runs from a scratch directory on 127.0.0.1 with unusual ports, is bounded in
# time and is stopped on exit. Needs root (slurmd runs jobs as their user; munged's key).
. "$(dirname "$0")/lib.sh"

skip_all() {
	trap - EXIT
	rm -rf "$T_TMP"
	echo "1..0 # SKIP $1"
	exit 0
}
[ "$(id -u)" = 0 ] || skip_all "not root: slurmd and munged run as root here (CI runs as root)"
for p in slurmctld slurmd munged mungekey; do
	[ -x "/usr/sbin/$p" ] || skip_all "/usr/sbin/$p missing (make deps installs slurmctld slurmd munge)"
done
for p in sbatch sinfo scontrol squeue scancel timeout setsid; do
	command -v "$p" >/dev/null || skip_all "$p missing (slurm-client, coreutils)"
done

D=$T_TMP/slurm
R=$D/root
mkdir -p "$D/run" "$D/log" "$D/state" "$D/spool" "$D/bin" "$D/out"
chmod 755 "$T_TMP" "$D" "$D/out"
# two ports the kernel says are free now (not 6817/6818 of a system's Slurm), so that runs at
# the same time on this machine do not meet
PORTS=$(python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))') || skip_all "python3 cannot find free ports"
PORT=${PORTS% *}
PORT2=${PORTS#* }

cleanup() {
	for f in "$D/run/restarter.pid" "$D/run/slurmd.pid" "$D/run/slurmctld.pid" "$D/run/munged.pid"; do
		[ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	i=0
	while [ $i -lt 50 ]; do
		alive=0
		for f in "$D/run/slurmd.pid" "$D/run/slurmctld.pid" "$D/run/munged.pid"; do
			[ -s "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && alive=1
		done
		[ $alive = 0 ] && break
		sleep 0.1
		i=$((i + 1))
	done
	for f in "$D/run/slurmd.pid" "$D/run/slurmctld.pid" "$D/run/munged.pid"; do
		[ -s "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
	done
}
# a timeout (meson sends SIGTERM) must stop the daemons too: the EXIT trap runs on exit
trap 'exit 143' TERM INT HUP
trap 'cleanup; [ -n "${T_SLURM_KEEP:-}" ] && cp -r "$D/log" "$T_SLURM_KEEP"; t_exit' EXIT

T0=$(date +%s)
mark() { echo "# $(($(date +%s) - T0)) s: $1"; }

# wait_for N CMD...: run CMD every 0.2 s until it succeeds, at most N seconds; 0 or 1
wait_for() {
	n=$(($1 * 5))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.2
		n=$((n - 1))
	done
	return 1
}

# the simulated host: two MI300X, /dev/dri as real character devices (slurmd stats File=)
mipart sim create "$R" --gpus 2 --device-nodes >/dev/null
ok $? "a simulated host with device nodes"
is "$(stat -c %F "$R/dev/dri/renderD128")" "character special file" "render nodes are character devices"

export SLURM_CONF="$R/etc/slurm/slurm.conf" MIPART_ROOT="$R"
mkdir -p "$R/etc/slurm"
ln -s "$MIPART" "$D/bin/mipart-slurm-helper"

# the post-change settings: gres.conf and the node's Gres= follow every change; the helper
# drains the node when it cannot switch (Slurm 22.05 ignores its exit status)
cat >"$R/etc/mipart/slurm.conf" <<EOF
GresConf=/etc/slurm/gres.conf
SlurmConf=/etc/slurm/slurm.conf
NodeName=sim1
Scontrol=$(command -v scontrol)
DrainOnFailure=yes
EOF

# RebootProgram: what a reboot means here. Slurm 22.05 calls the helper only on a reboot
# request, then this program; the node "comes back" when slurmd starts again with -b. The
# controller starts again too: it takes a node's GRES count only when it starts (measured,
# 22.05.8: scontrol reconfigure keeps the old count, docs/slurm.md).
cat >"$D/bin/reboot" <<EOF
#!/bin/sh
setsid sh -c '
	echo \$\$ >"$D/run/restarter.pid"
	for d in slurmd slurmctld; do
		p=\$(cat "$D/run/\$d.pid")
		kill "\$p"
		i=0; while kill -0 "\$p" 2>/dev/null && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
	done
	/usr/sbin/slurmctld
	/usr/sbin/slurmd -b -N sim1
	rm -f "$D/run/restarter.pid"
' </dev/null >>"$D/log/reboot.log" 2>&1 &
EOF
chmod 755 "$D/bin/reboot"

run mipart slurm gres --output "$R/etc/slurm/gres.conf" --json
is "$RC" 0 "slurm gres --output"
GRES=$(jqo .gres)
is "$GRES" "gpu:mi300x_spx:2" "the Gres= value of two GPUs in SPX"
run mipart slurm helpers-conf --helper "$D/bin/mipart-slurm-helper" --exec-time 60
is "$RC" 0 "slurm helpers-conf"
printf '%s\n' "$OUT" >"$R/etc/slurm/helpers.conf"
like "$OUT" "*Feature=cpx_nps4 Helper=$D/bin/mipart-slurm-helper*MutuallyExclusive=*" "helpers.conf registers cpx_nps4 with the helper"

cat >"$R/etc/slurm/slurm.conf" <<EOF
ClusterName=mipart-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$PORT2
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$D/run/munge.sock
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/run/slurmctld.pid
SlurmdPidFile=$D/run/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
GresTypes=gpu
NodeFeaturesPlugins=node_features/helpers
RebootProgram=$D/bin/reboot
ResumeTimeout=60
ReturnToService=2
MinJobAge=600
KillWait=2
SchedulerParameters=sched_interval=1,bf_interval=1
NodeName=sim1 NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN Gres=$GRES
PartitionName=debug Nodes=sim1 Default=YES MaxTime=10 State=UP
EOF

mungekey -c -k "$D/munge.key" >/dev/null 2>&1 && chmod 400 "$D/munge.key"
timeout 10 munged -f --socket="$D/run/munge.sock" --key-file="$D/munge.key" \
	--pid-file="$D/run/munged.pid" --log-file="$D/log/munged.log" --seed-file="$D/run/munge.seed"
ok $? "munged started"
timeout 20 /usr/sbin/slurmctld -i
ok $? "slurmctld started"
timeout 20 /usr/sbin/slurmd -N sim1
ok $? "slurmd started"

# in service: idle, or "mix" (22.05 shows a node with the CPUs of a finished job not yet
# returned by the periodic clean-up that way for a while)
node_idle() { sinfo -h -N -n sim1 -o %t 2>/dev/null | grep -qxE 'idle|mix'; }
if ! wait_for 30 node_idle; then
	ok 1 "the node is in service"
	tail -n 5 "$D/log/slurmctld.log" "$D/log/slurmd.log" | sed 's/^/# /'
	echo "Bail out! the Slurm node did not come up"
	exit 1
fi
ok 0 "the node is in service"
sinfo_f() { timeout 10 sinfo -h -N -n sim1 -o "$1"; }
like ",$(sinfo_f %f)," "*,cpx_nps4,*" "sinfo: cpx_nps4 is an available feature"
like ",$(sinfo_f %f)," "*,spx_nps1,*" "sinfo: spx_nps1 is an available feature"
is "$(sinfo_f %b)" "spx_nps1" "sinfo: the active feature is the node's mode pair"
is "$(sinfo_f %G)" "gpu:mi300x_spx:2" "sinfo: the partitions are the node's GRES"

job_state() { timeout 10 scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }
job_done() { case "$(job_state "$1")" in COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL) return 0 ;; esac; return 1; }
modes() { mipart status --json | jq -r '[.gpus[] | .compute_partition + "/" + .memory_partition] | unique | join(",")'; }

# on 22.05 the node's GRES are those of its mode now: a typed request for another mode's
# partitions is refused when submitted (docs/slurm.md, walk-through)
run timeout 20 sbatch --parsable -o /dev/null --constraint=cpx_nps4 --gres=gpu:mi300x_cpx:1 --wrap true
unlike "$RC" 0 "a request for CPX partitions is refused while the node is in SPX"
like "$ERR" "*Requested node configuration is not available*" "sbatch says why ($ERR)"
run mipart slurm helpers-conf --json
is "$(jqo '[.features[] | select(.active) | .name] | join(",")')" "spx_nps1" "helpers-conf --json: spx_nps1 is active"

mark "1. a job ask"
# 1. a job asks for CPX/NPS4: Slurm reboots the node with the feature, which runs the helper
J=$(timeout 20 sbatch --parsable -o "$D/out/mode.out" --constraint=cpx_nps4 --wrap true)
ok $? "sbatch --constraint=cpx_nps4"
wait_for 90 job_done "$J"
is "$(job_state "$J")" "COMPLETED" "the cpx_nps4 job ran"
is "$(modes)" "CPX/NPS4" "the helper switched the simulated node to CPX/NPS4"
wait_for 30 node_idle
is "$(sinfo_f %b)" "cpx_nps4" "sinfo: cpx_nps4 is active"
is "$(sinfo_f %G)" "gpu:mi300x_cpx:16" "sinfo: GRES follows the change (16 partitions)"
like "$(cat "$R/etc/slurm/slurm.conf")" "*NodeName=sim1 *Gres=gpu:mi300x_cpx:16*" "the node's Gres= in slurm.conf was rewritten"
is "$(grep -c '^Name=gpu Type=mi300x_cpx ' "$R/etc/slurm/gres.conf")" "16" "gres.conf was rewritten"

mark "2. a step ge"
# 2. a step gets two partitions and sees exactly them
cat >"$D/bin/step" <<EOF
#!/bin/sh
echo "SLURM_STEP_GPUS=\$SLURM_STEP_GPUS" >"$D/out/step.env"
"$MIPART" env --format json >"$D/out/step.json"
"$MIPART" vllm --slurm meta-llama/Meta-Llama-3-8B-Instruct --max-model-len 4096 >"$D/out/step.vllm"
EOF
chmod 755 "$D/bin/step"
J=$(timeout 20 sbatch --parsable -o "$D/out/gres.out" --constraint=cpx_nps4 --gres=gpu:mi300x_cpx:2 \
	--wrap "srun --gres=gpu:mi300x_cpx:2 $D/bin/step")
wait_for 60 job_done "$J"
is "$(job_state "$J")" "COMPLETED" "a job with --gres=gpu:mi300x_cpx:2 ran"
STEP=$(sed -n 's/^SLURM_STEP_GPUS=//p' "$D/out/step.env")
like "$STEP" "*,*" "Slurm gave the step two GPUs ($STEP)"
is "$(jq -r .ROCR_VISIBLE_DEVICES "$D/out/step.json")" "$STEP" "mipart env in the step: ROCR_VISIBLE_DEVICES is exactly the step's partitions"
is "$(jq -r '.MIPART_PARTITION | split(",") | length' "$D/out/step.json")" "2" "mipart env in the step: two partitions"
like "$(cat "$D/out/step.vllm")" "*vllm*serve*meta-llama/Meta-Llama-3-8B-Instruct*--tensor-parallel-size*2*" \
	"mipart vllm --slurm: sized to the step's two partitions"

mark "3. busy:"
# 3. busy: a running job holds GPUs; a job asking for another mode waits, nothing switches
B=$(timeout 20 sbatch --parsable -o /dev/null --gres=gpu:mi300x_cpx:1 --wrap "sleep 60")
running() { [ "$(job_state "$1")" = RUNNING ]; }
wait_for 30 running "$B"
ok $? "a job holds a partition"
W=$(timeout 20 sbatch --parsable -o /dev/null --constraint=spx_nps1 --wrap true)
sleep 3
is "$(job_state "$W")" "PENDING" "a job asking for spx_nps1 waits while the node is busy"
is "$(modes)" "CPX/NPS4" "nothing switched under the running job"
timeout 10 scancel "$W" "$B"
wait_for 30 job_done "$B"
wait_for 30 node_idle || echo "# node state: $(sinfo_f '%t %E')"

mark "4. a process"
# 4. a process outside Slurm uses GPU 0: the helper refuses, the node is drained with a reason
mipart sim hold "$R" --gpu 0 --pid 4242 --comm vllm
drained() { sinfo -h -N -n sim1 -o %t 2>/dev/null | grep -q '^drain'; }
J=$(timeout 20 sbatch --parsable -o /dev/null --constraint=spx_nps1 --wrap true)
wait_for 60 drained
ok $? "the node is drained when the helper cannot switch a busy GPU"
like "$(sinfo_f %E)" "*mipart*spx_nps1*" "the drain reason says why ($(sinfo_f %E))"
is "$(modes)" "CPX/NPS4" "mipart did not switch the busy GPU"
timeout 10 scancel "$J"
mipart sim release "$R" --pid 4242
timeout 10 scontrol update NodeName=sim1 State=RESUME Reason=
wait_for 60 node_idle
ok $? "the node is back in service"

mark "5. an inject"
# 5. an injected driver fault: the change rolls back, the node stays whole and is drained
mipart sim fault "$R" --on reload --error EIO --times 1
J=$(timeout 20 sbatch --parsable -o /dev/null --constraint=spx_nps1 --wrap true)
wait_for 60 drained
ok $? "the node is drained after a failed switch"
like "$(sinfo_f %E)" "*mipart*spx_nps1*" "the drain reason names the failed switch ($(sinfo_f %E))"
is "$(modes)" "CPX/NPS4" "the failed switch rolled back to CPX/NPS4"
is "$(mipart list --json | jq '.gpus | map(.partitions | length) | add')" "16" "the node is whole: 16 partitions"
is "$(mipart history --json | jq -r '.changes[0].state')" "rolled-back" "the journal says rolled-back"
timeout 10 scancel "$J"
mark "end"
