#!/bin/sh
# Whole states under faults: a change that ended 'failed' (the driver would not load) and how
# recover finishes it; hook units a change stopped, journalled and started again exactly.
. "$(dirname "$0")/lib.sh"

H="$T_TMP/h"
mipart sim create "$H" --gpus 4 2>/dev/null
modes() {
	mipart --root "$H" list --json | jq -r '[.gpus[] | .compute_partition + "/" + .memory_partition] | join(",")'
}
last() { # last FIELD: a field of the newest journal row
	mipart --root "$H" history --json | jq -r ".changes[0].$1"
}

# --- a failed rollback: the driver will not load ---------------------------------------------
mipart sim fault "$H" --on reload --error EIO
run mipart --root "$H" set -g all --compute CPX --memory NPS4
is "$RC" 1 "a change whose reloads all fail fails"
like "$ERR" "*ROLLBACK FAILED*" "and says the rollback failed"
is "$(last state)" failed "journal: failed"
id=$(last id)
run mipart --root "$H" status
like "$ERR" "*change $id (*) failed*run 'mipart recover'*" "status names the failed change and the command that resolves it"
mipart sim fault "$H" --clear
run mipart --root "$H" set -g all --compute DPX
is "$RC" 1 "a new change is refused while one is failed"
like "$ERR" "*change $id*failed*mipart recover*" "saying which and what to run"
run mipart --root "$H" allocate llama-3.1-8b --max-model-len 4096 --name early
is "$RC" 1 "an allocation is refused while a change is failed"
like "$ERR" "*change $id*failed*mipart recover*" "naming the change"
run mipart --root "$H" recover
is "$RC" 0 "recover finishes the failed change once the driver loads"
like "$OUT" "*change $id: recovered*restored the modes before it*" "back to the modes before it"
is "$(modes)" "SPX/NPS1,SPX/NPS1,SPX/NPS1,SPX/NPS1" "the host is in the old modes"
is "$(last state)" recovered "journal: recovered"
like "$(last message)" "*ROLLBACK FAILED*restored the modes before it*" "journal keeps the failure and adds the recovery"
run mipart --root "$H" status
unlike "$ERR" "*failed*" "status no longer warns"
run mipart --root "$H" recover
like "$OUT" "*nothing to recover*" "a second recover has nothing to do"
run mipart --root "$H" set -g all --compute DPX
is "$RC" 0 "changes are taken again"
mipart --root "$H" reset -g all >/dev/null 2>&1

# the old modes cannot be had (every NPS request fails), the new ones can: finish there
mipart sim fault "$H" --on reload --error EIO
run mipart --root "$H" set -g all --compute CPX --memory NPS4
is "$(last state)" failed "a second failed change"
mipart sim fault "$H" --clear
mipart sim fault "$H" --on memory-write --error EIO
run mipart --root "$H" recover
is "$RC" 0 "recover finishes to the target when the old modes cannot be had"
like "$OUT" "*change *: done*could not be restored*finished to the change's target*" "and says so"
is "$(modes)" "CPX/NPS4,CPX/NPS4,CPX/NPS4,CPX/NPS4" "the host is in the target modes"
is "$(last state)" done "journal: done"
mipart sim fault "$H" --clear
mipart --root "$H" reset -g all >/dev/null 2>&1

# --- hook units: only the running ones are stopped, exactly those started again -------------
# a systemctl that keeps each unit's state in a file and answers as systemctl(1) does:
# `is-active U...` prints one state per unit, exit 0 when one is active, else 3
mkdir -p "$T_TMP/units"
echo active >"$T_TMP/units/vllm-a.service"
echo inactive >"$T_TMP/units/vllm-b.service"
cat >"$T_TMP/systemctl" <<SH
#!/bin/sh
echo "\$*" >>"$T_TMP/hooks.log"
# systemctl [OPTIONS...] COMMAND [UNIT...]: --no-block enqueues the job and returns (systemctl(1))
[ "\$1" = --no-block ] && shift
act=\$1; shift
rc=3
for u in "\$@"; do
	case \$act in
	is-active) s=\$(cat "$T_TMP/units/\$u" 2>/dev/null || echo inactive); echo "\$s"; [ "\$s" = active ] && rc=0 ;;
	stop) echo inactive >"$T_TMP/units/\$u"; rc=0 ;;
	start)
		rc=0
		# a unit that will not start: systemctl's words (systemd bus-wait-for-jobs.c,
		# log_job_error_with_service_result), exit 1
		if [ -e "$T_TMP/units/\$u.nostart" ]; then
			echo "Job for \$u failed because the control process exited with error code." >&2
			fail=1
		else
			echo active >"$T_TMP/units/\$u"
		fi ;;
	esac
done
[ -n "\${fail:-}" ] && exit 1
exit \$rc
SH
chmod +x "$T_TMP/systemctl"
export MIPART_SYSTEMCTL="$T_TMP/systemctl"
cat >"$T_TMP/layout.yaml" <<'YAML'
version: v1
partition-configs:
  dpx:
    - devices: all
      compute: DPX
  qpx:
    - devices: all
      compute: QPX
hooks:
  units: [vllm-a.service, vllm-b.service]
YAML
run mipart --root "$H" apply -f "$T_TMP/layout.yaml" -c dpx
is "$RC" 0 "apply with hooks"
is "$(tr '\n' '|' <"$T_TMP/hooks.log")" "is-active vllm-a.service vllm-b.service|stop vllm-a.service|start vllm-a.service|" \
	"only the running unit is stopped, and only it is started again"
is "$(cat "$T_TMP/units/vllm-b.service")" inactive "the unit that was stopped before stays stopped"
is "$(last hooks | jq -c '[.stop, .restarted]')" '[["vllm-a.service"],true]' "journal: which units were stopped, and that they were started"

# kill -9 after the hooks stopped the units: recover starts exactly those
rm -f "$T_TMP/hooks.log"
mipart sim fault "$H" --gpu 1 --on compute-write --delay 8000 --times 1
"$MIPART" --root "$H" apply -f "$T_TMP/layout.yaml" -c qpx >/dev/null 2>&1 &
pid=$!
wait_step "$H" compute-write
sleep 0.3
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
is "$(cat "$T_TMP/units/vllm-a.service")" inactive "kill -9 mid-change leaves the unit stopped"
is "$(last hooks | jq -c '.stop')" '["vllm-a.service"]' "and the journal says which units were stopped"
mipart sim fault "$H" --clear
rm -f "$T_TMP/hooks.log"
run mipart --root "$H" recover
is "$RC" 0 "recover exits 0"
is "$(cat "$T_TMP/units/vllm-a.service")" active "recover started the unit the change stopped"
is "$(cat "$T_TMP/units/vllm-b.service")" inactive "and not the one that was stopped before"
is "$(tr '\n' '|' <"$T_TMP/hooks.log")" "start vllm-a.service|" "exactly one start, of exactly that unit"
is "$(last hooks | jq -c '.restarted')" true "journal: restarted"

# kill -9 after the change, while what follows it runs (a post-change action: Slurm's
# 'scontrol reconfigure', held here): the journal row is closed last, so recover finishes the
# change and starts the units it stopped
mkdir -p "$H/etc/mipart" "$H/etc/slurm"
cat >"$T_TMP/scontrol" <<SH
#!/bin/sh
[ -e "$T_TMP/scontrol.pid" ] && exit 0
echo \$\$ >"$T_TMP/scontrol.pid"
exec sleep 30
SH
chmod +x "$T_TMP/scontrol"
printf 'GresConf=/etc/slurm/gres.conf\nReconfigure=yes\nScontrol=%s\n' "$T_TMP/scontrol" >"$H/etc/mipart/slurm.conf"
"$MIPART" --root "$H" apply -f "$T_TMP/layout.yaml" -c qpx >/dev/null 2>&1 &
pid=$!
T_PIDS="$T_PIDS $pid"
wait_until test -s "$T_TMP/scontrol.pid"
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
kill "$(cat "$T_TMP/scontrol.pid")" 2>/dev/null
is "$(cat "$T_TMP/units/vllm-a.service")" inactive "kill -9 while a post-change action runs: the unit is still stopped"
is "$(last state)" running "and the journal row is still open"
rm -f "$T_TMP/hooks.log"
run mipart --root "$H" recover
is "$RC" 0 "recover exits 0"
like "$OUT" "*done*had reached its target*" "the change had reached its target: done"
is "$(cat "$T_TMP/units/vllm-a.service")" active "recover started the unit the change stopped"
is "$(tr '\n' '|' <"$T_TMP/hooks.log")" "start vllm-a.service|" "exactly one start, of exactly that unit"
is "$(grep -c '^Name=gpu Type=mi300x_qpx ' "$H/etc/slurm/gres.conf")" 16 "and gres.conf follows the change"
rm "$H/etc/mipart/slurm.conf"

# a unit that does not start again after the change: recorded, reported, started by recover
touch "$T_TMP/units/vllm-a.service.nostart"
run mipart --root "$H" apply -f "$T_TMP/layout.yaml" -c dpx
is "$RC" 1 "a change whose hook unit does not start again exits 1"
like "$ERR" "*hook units left stopped: 'vllm-a.service'*Job for vllm-a.service failed*mipart recover*" \
	"naming the unit, why, and what starts it"
is "$(modes | cut -d, -f1)" "DPX/NPS1" "the GPUs are changed all the same"
id=$(last id)
is "$(last state)" done "journal: the change is done"
is "$(last hooks | jq -c '[.restarted, .left_stopped]')" '[false,["vllm-a.service"]]' \
	"journal: which units were left stopped, after the row is closed"
run mipart --root "$H" doctor --json
is "$(jqo '.checks[] | select(.id == "journal.hook-units") | .status')" fail "doctor reports the unit left stopped"
like "$(jqo '.checks[] | select(.id == "journal.hook-units") | .saw')" "*'vllm-a.service' was stopped by change $id*" \
	"naming it and the change"
run mipart --root "$H" status
like "$ERR" "*hook unit 'vllm-a.service' was stopped by change $id*mipart recover*" "status says so too"
run mipart --root "$H" set -g 0 --compute QPX
is "$RC" 0 "it does not block the next change (the GPUs are whole)"
run mipart --root "$H" recover
is "$RC" 1 "recover while the unit still does not start exits 1"
like "$ERR" "*still do not start*'vllm-a.service'*" "and says so"
is "$(printf '%s\n' "$ERR" | grep -c '^error: ')" 1 "  ... once, in one error"
case "$ERR" in *"'mipart recover' starts them"*) ok 1 "  ... without telling to run the recover that just failed" ;;
*) ok 0 "  ... without telling to run the recover that just failed" ;; esac
rm "$T_TMP/units/vllm-a.service.nostart"
rm -f "$T_TMP/hooks.log"
run mipart --root "$H" recover
is "$RC" 0 "recover starts it once it can"
like "$OUT" "*units-started*started the hook units that change $id left stopped: 'vllm-a.service'*" "and says so"
is "$(cat "$T_TMP/units/vllm-a.service")" active "the unit runs"
is "$(tr '\n' '|' <"$T_TMP/hooks.log")" "is-active vllm-a.service|start vllm-a.service|" \
	"whether it runs (a unit started since is owed nothing), then one start, of that unit"
is "$(mipart --root "$H" history --json | jq -r ".changes[] | select(.id == $id) | .hooks.restarted")" true \
	"journal: restarted"
run mipart --root "$H" doctor --json
is "$(jqo '.checks[] | select(.id == "journal.hook-units") | .status')" ok "doctor is content"
run mipart --root "$H" recover
like "$OUT" "*nothing to recover*" "a second recover has nothing to do"

# --json says so; the next change that names the unit starts it (it is owed a start)
touch "$T_TMP/units/vllm-a.service.nostart"
run mipart --root "$H" apply -f "$T_TMP/layout.yaml" -c qpx --json
is "$RC" 1 "apply --json exits 1 too"
is "$(jqo '[.state, (.units_stopped | join(","))] | join(" ")')" "done vllm-a.service" "the JSON names the units left stopped"
rm "$T_TMP/units/vllm-a.service.nostart"
run mipart --root "$H" apply -f "$T_TMP/layout.yaml" -c dpx
is "$RC" 0 "the next change with the unit"
is "$(cat "$T_TMP/units/vllm-a.service")" active "starts the unit an earlier change left stopped"
is "$(last hooks | jq -r '.units[0].was')" left-stopped "journal: it was left stopped"
run mipart --root "$H" doctor --json
is "$(jqo '.checks[] | select(.id == "journal.hook-units") | .status')" ok "and nothing is left stopped"

# a change refused after the stop (a GPU in use) whose unit does not start: the row stays
touch "$T_TMP/units/vllm-a.service.nostart"
mipart sim hold "$H" --gpu 1 --pid 4242 --comm vllm
run mipart --root "$H" apply -f "$T_TMP/layout.yaml" -c qpx
is "$RC" 1 "a refused change"
is "$(last state)" rolled-back "is kept in the journal when a unit it stopped did not start"
is "$(last hooks | jq -c '.left_stopped')" '["vllm-a.service"]' "with the unit"
mipart sim release "$H" --pid 4242
rm "$T_TMP/units/vllm-a.service.nostart"
run mipart --root "$H" recover
is "$(cat "$T_TMP/units/vllm-a.service")" active "recover starts it"

# apply --persist records the declaration though the unit did not start; 'mipart boot' does not
# start units left stopped before the reboot (systemd starts the enabled ones after it, and a
# start from inside mipart-boot.service could wait for a unit ordered after it); a unit seen
# running again is owed nothing and forgotten
touch "$T_TMP/units/vllm-a.service.nostart"
run mipart --root "$H" apply --persist -f "$T_TMP/layout.yaml" -c qpx
is "$RC" 1 "apply --persist with a unit that does not start exits 1"
like "$ERR" "*declared: 'qpx'*" "and records the declaration all the same"
rm "$T_TMP/units/vllm-a.service.nostart"
rm -f "$T_TMP/hooks.log"
run mipart --root "$H" boot
is "$RC" 0 "boot: the declared layout is in place"
is "$(cat "$T_TMP/hooks.log" 2>/dev/null | grep -cw start)" 0 "boot starts no unit left stopped"
echo active >"$T_TMP/units/vllm-a.service" # systemd started it at boot
run mipart --root "$H" recover
like "$OUT" "*nothing to recover*" "recover: a unit running again is owed nothing"
is "$(cat "$T_TMP/hooks.log" 2>/dev/null | grep -c '^start')" 0 "and is not started"
run mipart --root "$H" doctor --json
is "$(jqo '.checks[] | select(.id == "journal.hook-units") | .status')" ok "nor reported any more"

# a crash left a change running with the unit stopped; 'mipart boot' recovers it and applies the
# declared layout from inside mipart-boot.service, where a start that waits for a unit ordered
# after it would wait for itself: every start is enqueued (systemctl --no-block start)
mipart sim fault "$H" --gpu 1 --on compute-write --delay 8000 --times 1
"$MIPART" --root "$H" apply -f "$T_TMP/layout.yaml" -c dpx >/dev/null 2>&1 &
pid=$!
wait_step "$H" compute-write
sleep 0.3
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
mipart sim fault "$H" --clear
is "$(cat "$T_TMP/units/vllm-a.service")" inactive "a crash left the unit stopped"
rm -f "$T_TMP/hooks.log"
run mipart --root "$H" boot
is "$RC" 0 "boot recovers the change and applies the declared layout"
like "$OUT$ERR" "*queued the start*'vllm-a.service'*" "recover at boot says the start is queued"
is "$(grep -cw start "$T_TMP/hooks.log")" "$(grep -c '^--no-block start ' "$T_TMP/hooks.log")" \
	"no start at boot waits for its unit"
is "$(grep -c '^--no-block start vllm-a.service$' "$T_TMP/hooks.log")" 1 \
	"the recovery enqueues the unit's start"
is "$(cat "$T_TMP/units/vllm-a.service")" active "the unit runs again"
mipart --root "$H" set -g 0 --compute SPX >/dev/null 2>&1
rm -f "$T_TMP/hooks.log"
run mipart --root "$H" boot
is "$RC" 0 "boot brings a drifted GPU back to the declared layout"
is "$(grep -vw is-active "$T_TMP/hooks.log" | tr '\n' '|')" "stop vllm-a.service|--no-block start vllm-a.service|" \
	"the declared change stops the running unit and enqueues its start"
rm -f "$H/etc/mipart/declared.json"

# a row that does not match the host's GPUs: kept for the operator, but its units start
echo inactive >"$T_TMP/units/vllm-a.service"
sqlite3 "$H/var/lib/mipart/mipart.db" "INSERT INTO changes (started_at, uid, command, before, target, state, step, hooks) VALUES ('2026-01-01T00:00:00Z', 0, 'mipart set -g 0 --compute CPX', '[]', '[]', 'running', 'compute-write', '{\"units\":[{\"name\":\"vllm-a.service\",\"was\":\"running\"}],\"stop\":[\"vllm-a.service\"],\"restarted\":false}')"
rm -f "$T_TMP/hooks.log"
run mipart --root "$H" recover
is "$RC" 1 "recover of a row that does not match the GPUs fails"
like "$ERR" "*does not match this host's GPUs*started the hook units it had stopped: 'vllm-a.service'*" \
	"and says it started its units"
is "$(cat "$T_TMP/units/vllm-a.service")" active "the unit runs again"
is "$(last state)" running "the row stays for the operator"
is "$(last hooks | jq -c '.restarted')" true "journal: restarted"
sqlite3 "$H/var/lib/mipart/mipart.db" "DELETE FROM changes WHERE state = 'running'"

# --- pending NPS requests: the unload is refused, the request stays in the driver ------------
P="$T_TMP/pending"
mipart sim create "$P" --gpus 4 2>/dev/null
pmodes() {
	mipart --root "$P" list --json | jq -r '[.gpus[] | .compute_partition + "/" + .memory_partition] | join(",")'
}
pending() {
	mipart --root "$P" list --json | jq -r '[.gpus[] | .pending_memory_partition // "-"] | join(",")'
}
# the change's reload and the rollback's are both refused (module in use)
mipart sim fault "$P" --on reload --error EBUSY --times 2
run mipart --root "$P" set -g all --compute CPX --memory NPS4
is "$RC" 1 "a change whose driver unload is refused fails"
like "$ERR" "*rolled back*NPS request stays recorded in the driver*mipart recover*" "and says the NPS request stays in the driver"
is "$(pmodes)" "SPX/NPS1,SPX/NPS1,SPX/NPS1,SPX/NPS1" "the GPUs show the old modes"
is "$(pending)" "NPS4,NPS4,NPS4,NPS4" "list --json shows the pending request on every GPU of the hive"
run mipart --root "$P" status
like "$OUT" "*GPU 0: NPS4 requested (change *), applied at the next driver reload*" "status names it"
run mipart --root "$P" reset -g all --dry-run --json
is "$(jqo '[.gpus[].disruption] | unique | join(",")')" memory-reload "reset is not 'nothing to change': it must drop the request"
is "$(jqo '.flush')" true "the plan flushes the request first"
is "$(jqo '.gpus[0].pending_memory')" NPS4 "and shows it"
run mipart --root "$P" set -g 1 --compute DPX --json
is "$RC" 0 "a compute switch (no reload) goes on"
is "$(pending)" "NPS4,NPS4,NPS4,NPS4" "and leaves the request pending"
run mipart --root "$P" reset -g 0,1 --dry-run
is "$RC" 1 "a plan whose reload would apply the request to GPUs it does not set is refused"
like "$ERR" "*0000:46:00.0*pending NPS request for NPS4*would apply*" "naming the GPU and the request"
run mipart --root "$P" reset -g all
is "$RC" 0 "reset drops the request"
is "$(pmodes)" "SPX/NPS1,SPX/NPS1,SPX/NPS1,SPX/NPS1" "the GPUs are SPX/NPS1"
is "$(pending)" "-,-,-,-" "nothing pending"
mipart sim reload "$P"
is "$(pmodes)" "SPX/NPS1,SPX/NPS1,SPX/NPS1,SPX/NPS1" "a later unrelated reload switches nothing"

# recover drops a pending request too
mipart sim fault "$P" --on reload --error EBUSY --times 2
mipart --root "$P" set -g all --compute CPX --memory NPS4 >/dev/null 2>&1
is "$(pending)" "NPS4,NPS4,NPS4,NPS4" "pending again"
run mipart --root "$P" recover
is "$RC" 0 "recover resolves the pending request"
like "$OUT" "*dropped the pending NPS requests*" "and says so"
is "$(pending)" "-,-,-,-" "nothing pending after recover"
mipart sim reload "$P"
is "$(pmodes)" "SPX/NPS1,SPX/NPS1,SPX/NPS1,SPX/NPS1" "and a later reload switches nothing"

# a recovery ends like every change: the post-change actions (here Slurm's gres.conf) follow it
mkdir -p "$P/etc/mipart" "$P/etc/slurm"
printf 'GresConf=/etc/slurm/gres.conf\n' >"$P/etc/mipart/slurm.conf"
mipart sim fault "$P" --on reload --error EBUSY --times 2
mipart --root "$P" set -g all --compute CPX --memory NPS4 >/dev/null 2>&1
is "$(pending)" "NPS4,NPS4,NPS4,NPS4" "pending again, with Slurm settings"
echo stale >"$P/etc/slurm/gres.conf"
run mipart --root "$P" recover
is "$RC" 0 "recover resolves the pending request"
is "$(grep -c '^Name=gpu Type=mi300x_spx ' "$P/etc/slurm/gres.conf")" 4 \
	"and rewrites gres.conf, as every change does (the post-change actions)"
# a change a kill -9 interrupted after it reached its target (the row a kill after 'verify'
# leaves): recover finishes it as done, and the post-change actions it never ran run now
mipart --root "$P" set -g 0,1,2,3 --compute DPX >/dev/null 2>&1
echo stale >"$P/etc/slurm/gres.conf"
sqlite3 "$P/var/lib/mipart/mipart.db" \
	"UPDATE changes SET state = 'running', step = 'verify', after = NULL, finished_at = NULL WHERE id = (SELECT max(id) FROM changes)"
run mipart --root "$P" recover
like "$OUT" "*done*had reached its target*" "recover of a change interrupted at its target: done"
is "$(grep -c '^Name=gpu Type=mi300x_dpx ' "$P/etc/slurm/gres.conf")" 8 \
	"and rewrites gres.conf, which the interrupted change never did"
# gres.conf on a full file system (a 4 KiB tmpfs, in a mount namespace of its own): the error is
# the file system's, in libc's words, not mipart's meaning of ENOSPC for partitions ("does not
# fit"); the same for 'slurm gres --output'
full_fs() { # full_fs DIR CMD...: run CMD with a full tmpfs mounted on DIR
	unshare -rm sh -c 'd=$1; shift; mount -t tmpfs -o size=4k tmpfs "$d" || exit 125
		head -c 65536 /dev/zero >"$d/fill" 2>/dev/null; exec "$@"' sh "$@"
}
if unshare -rm true 2>/dev/null; then
	run full_fs "$P/etc/slurm" "$MIPART" --root "$P" set -g 0 --compute CPX
	is "$RC" 0 "a change whose gres.conf cannot be written is done"
	like "$ERR" "*cannot write '$P/etc/slurm/gres.conf': no space left on device*" \
		"  ... and the warning says the file system is full"
	run full_fs "$P/etc/slurm" "$MIPART" --root "$P" slurm gres --output "$P/etc/slurm/gres.conf"
	is "$RC:$ERR" "1:error: cannot write '$P/etc/slurm/gres.conf': no space left on device" \
		"slurm gres --output on a full file system: exit 1, saying so"
else
	ok 0 "# SKIP gres.conf on a full file system (no mount namespace: unshare -rm)"
fi
mipart --root "$P" reset -g all >/dev/null 2>&1
rm "$P/etc/mipart/slurm.conf"

# a reload that reports success without unloading leaves the request with the driver: kept
mipart sim fault "$P" --on reload --error EBUSY --times 2
mipart --root "$P" set -g all --compute CPX --memory NPS4 >/dev/null 2>&1
mipart sim fault "$P" --on reload --error SILENT --times 1
run mipart --root "$P" recover
is "$RC" 1 "recover whose reload did not unload fails"
like "$ERR" "*did not apply the pending NPS request*stays pending*" "and keeps the request"
is "$(pending)" "NPS4,NPS4,NPS4,NPS4" "still pending: the loaded driver holds it"
run mipart --root "$P" recover
is "$RC" 0 "the next recover resolves it"
is "$(pending)" "-,-,-,-" "nothing pending"

# NPS writes that reported success and recorded nothing (found by the soak, seed 101): the
# change's reload unloads the driver and nothing switches; the journal must not keep requests
# no driver holds (before: every recover reloaded and failed with "run 'mipart recover' again")
mipart sim fault "$P" --on memory-write --error SILENT --times 4
run mipart --root "$P" set -g all --compute CPX --memory NPS4
is "$RC" 1 "a change whose NPS writes the driver did not record fails"
like "$ERR" "*reload did not apply the NPS request NPS4 on 0000:*the driver that held it is gone*forgotten*" \
	"and says the request went with the driver that was unloaded"
is "$(pending)" "-,-,-,-" "nothing pending afterwards"
is "$(sqlite3 "$P/var/lib/mipart/mipart.db" 'SELECT count(*) FROM nps_requests')" 0 "the journal keeps no request"
run mipart --root "$P" recover
is "$RC" 0 "recover is not stuck"
like "$OUT" "*nothing to recover*" "it has nothing to resolve"
is "$(pmodes)" "SPX/NPS1,SPX/NPS1,SPX/NPS1,SPX/NPS1" "the GPUs keep their modes"

# --- discovery and planning under the host lock ---------------------------------------------
R="$T_TMP/race"
mipart sim create "$R" --gpus 2 2>/dev/null
mipart sim fault "$R" --on reload --delay 2000 --times 1
"$MIPART" --root "$R" set -g all --compute CPX --memory NPS4 >/dev/null 2>&1 &
w=$!
wait_step "$R" reload
run mipart --root "$R" set -g all --compute QPX --dry-run --json
is "$RC" 0 "a plan asked for during another writer's reload waits for the lock"
is "$(jqo '[.gpus[].from | .compute + "/" + .memory] | join(",")')" "CPX/NPS4,CPX/NPS4" \
	"and is made from the host that writer left, not the one before it"
wait $w

# --- recover counts logical devices as verify does ------------------------------------------
Q="$T_TMP/plain"
mkdir -p "$Q/proc"
mipart sim create "$T_TMP/src" --gpus 2 2>/dev/null
cp -aH "$T_TMP/src/sys" "$Q/"
mipart --root "$Q" set -g 0 --compute CPX >/dev/null 2>&1 # a tree nobody reacts to: rolled back
before=$(mipart --root "$Q" history --json | jq -c '.changes[0].before')
target=$(mipart --root "$Q" history --json | jq -c '.changes[0].target')
sqlite3 "$Q/var/lib/mipart/mipart.db" "INSERT INTO changes (started_at, uid, command, before, target, state, step) VALUES ('2026-01-01T00:00:00Z', 0, 'mipart set -g 0 --compute CPX', '$before', '$target', 'running', 'compute-write 0000:05:00.0 CPX')"
echo CPX >"$Q/sys/bus/pci/devices/0000:05:00.0/current_compute_partition"
run mipart --root "$Q" recover
is "$RC" 0 "recover of a change whose modes read as the target but whose partitions never appeared"
like "$OUT" "*recovered*" "is not taken as done: the logical devices are counted"
is "$(cat "$Q/sys/bus/pci/devices/0000:05:00.0/current_compute_partition")" SPX "the mode before is written back"

# --- allocations and a recovery that takes their partitions away ----------------------------
# a change to CPX on both GPUs was interrupted once GPU 0 had switched (the row is what a
# kill -9 leaves); an older mipart booked partition 0.5 meanwhile
A="$T_TMP/alloc"
mipart sim create "$A" --gpus 2 2>/dev/null
mipart --root "$A" set -g 0 --compute CPX >/dev/null 2>&1
before='[{"gpu":0,"bdf":"0000:05:00.0","compute":"SPX","memory":"NPS1","partitions":1},{"gpu":1,"bdf":"0000:26:00.0","compute":"SPX","memory":"NPS1","partitions":1}]'
target='[{"gpu":0,"bdf":"0000:05:00.0","compute":"CPX","memory":"NPS1","partitions":8},{"gpu":1,"bdf":"0000:26:00.0","compute":"CPX","memory":"NPS1","partitions":8}]'
sqlite3 "$A/var/lib/mipart/mipart.db" "INSERT INTO changes (started_at, uid, command, before, target, state, step) VALUES ('2026-01-01T00:00:00Z', 0, 'mipart set -g all --compute CPX', '$before', '$target', 'running', 'compute-write 0000:26:00.0 CPX');" \
	"INSERT INTO allocations (name, model, spec, created_at, uid) VALUES ('mid', 'llama-3.1-8b', '{}', '2026-01-01T00:00:00Z', 0); INSERT INTO bookings (allocation, bdf, xcp, bytes, capacity) VALUES (last_insert_rowid(), '0000:05:00.0', 5, 1073741824, 25767706624);"
run mipart --root "$A" allocate llama-3.1-8b --max-model-len 4096 --partition 0.5 --name mid2
is "$RC" 1 "allocate during an unfinished change is refused"
like "$ERR" "*did not finish*mipart recover*" "saying why"
run mipart --root "$A" recover
is "$RC" 0 "recover restores the modes before the change"
like "$OUT" "*recovered*orphaned*'mid'*" "and names the allocation whose partition it took away"
run mipart --root "$A" allocations --json
is "$(jqo '.allocations[0].orphaned')" true "allocations shows it orphaned"
run mipart --root "$A" allocations
like "$OUT" "*orphaned: this host has no partition 0000:05:00.0/5*" "also for people"
