#!/bin/sh
# Every file mipart replaces is written to a temporary file, fsync'd, renamed over the old one,
# and its directory fsync'd: the CDI spec, a layout written by 'plan --output', the simulator's
# state. Checked with strace on the real binary (the system calls, in order).
. "$(dirname "$0")/lib.sh"

if ! command -v strace >/dev/null 2>&1 || ! strace -f -o /dev/null true 2>/dev/null; then
	echo "# skip: strace is missing or may not trace here (ptrace refused)"
	exit 0
fi
H="$T_TMP/h"
mipart sim create "$H" --gpus 2 2>/dev/null

# durable LOG FILE: in LOG, FILE's temporary is fsync'd, renamed to FILE, then a directory is
# fsync'd, in that order
durable() {
	awk -v f="$2" '
	/openat\(.*mipart-tmp/ && /O_CREAT/ { if (match($0, /= [0-9]+$/)) tmpfd = substr($0, RSTART + 2) }
	/fsync\(/ { if (match($0, /fsync\([0-9]+/)) { fd = substr($0, RSTART + 6, RLENGTH - 6); if (fd == tmpfd) synced = 1; if (renamed) dsync = 1 } }
	/rename/ && index($0, "\"" f "\"") && index($0, "mipart-tmp") { if (synced) renamed = 1 }
	/openat\(.*O_DIRECTORY/ { if (renamed) dopen = 1 }
	END { exit !(synced && renamed && dopen && dsync) }' "$1"
}

strace -f -e trace=openat,fsync,rename,renameat,renameat2 -o "$T_TMP/cdi.log" \
	"$MIPART" --root "$H" cdi generate >/dev/null 2>&1
durable "$T_TMP/cdi.log" "$H/etc/cdi/amd.com-gpu.json"
ok $? "the CDI spec: temporary, fsync, rename, directory fsync"

strace -f -e trace=openat,fsync,rename,renameat,renameat2 -o "$T_TMP/plan.log" \
	"$MIPART" plan -m llama-3.1-8b --gpus 1 --product MI300X --output "$T_TMP/layout.yaml" >/dev/null 2>&1
durable "$T_TMP/plan.log" "$T_TMP/layout.yaml"
ok $? "the layout 'plan --output' writes: temporary, fsync, rename, directory fsync"

strace -f -e trace=openat,fsync,rename,renameat,renameat2 -o "$T_TMP/sim.log" \
	"$MIPART" sim fault "$H" --on reload --error EIO --times 1
durable "$T_TMP/sim.log" "$H/mipart-sim.json"
ok $? "the simulator's state: temporary, fsync, rename, directory fsync"
