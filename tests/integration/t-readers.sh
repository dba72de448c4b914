#!/bin/sh
# Privileges: the host lock cannot be opened (so not share-locked) by another user; readers who
# may not write the database still see the journal and the allocations when the write-ahead log
# holds them and there is no -shm file; a reader who cannot open the database says so.
# Another user is 'nobody' through setpriv when the test runs as root; as another user the
# test drops write access with chmod instead (a file's owner is not refused by its mode bits
# only when root).
. "$(dirname "$0")/lib.sh"

H="$T_TMP/h"
chmod 755 "$T_TMP"
mipart sim create "$H" --gpus 2 2>/dev/null
mipart --root "$H" set -g all --compute DPX >/dev/null 2>&1
DB="$H/var/lib/mipart/mipart.db"
root=no
[ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1 && root=yes
nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"
}

# --- the lock ------------------------------------------------------------------------------
is "$(stat -c %a "$H/run/mipart")" 700 "the lock directory is the writer's alone (0700)"
is "$(stat -c %a "$H/run/mipart/lock")" 600 "the lock file too (0600)"
if [ $root = yes ]; then
	nobody flock -s -n "$H/run/mipart/lock" true 2>/dev/null
	[ $? -ne 0 ]
	ok $? "another user cannot take a shared lock that would block every writer"
	chmod 755 "$H/run/mipart"
	chmod 644 "$H/run/mipart/lock"
	mipart --root "$H" set -g all --compute QPX >/dev/null 2>&1
	is "$(stat -c %a "$H/run/mipart")/$(stat -c %a "$H/run/mipart/lock")" 700/600 \
		"a writer tightens a directory and file an older mipart left open"
else
	echo "# skip: becoming another user needs root (setpriv); the modes above are what keeps them out"
fi

# --- committed rows only in the write-ahead log, no -shm file --------------------------------
n_before=$(mipart --root "$H" history --json | jq '.changes | length')
sqlite3 "$DB" "INSERT INTO changes (started_at, uid, command, before, target, state, step) VALUES ('2026-01-01T00:00:00Z', 0, 'in the log only', '[]', '[]', 'done', 'verify');" \
	"INSERT INTO allocations (name, model, spec, created_at, uid) VALUES ('walonly', 'llama-3.1-8b', '{}', '2026-01-01T00:00:00Z', 0);" \
	"INSERT INTO bookings (allocation, bdf, xcp, bytes, capacity) VALUES (last_insert_rowid(), '0000:05:00.0', 0, 1073741824, 103079215104);" \
	".system sleep 30" </dev/null >/dev/null 2>&1 &
SQL=$!
i=0
# (a generous cap: on a loaded machine the insert can take seconds; nothing asserts on time)
while [ $i -lt 3000 ] && [ "$(sqlite3 "$DB" "SELECT count(*) FROM allocations WHERE name = 'walonly'" 2>/dev/null)" != 1 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -9 $SQL 2>/dev/null
wait $SQL 2>/dev/null
rm -f "$DB-shm"
[ -s "$DB-wal" ]
ok $? "the log holds the rows (a writer killed before its checkpoint)"
if [ $root = yes ]; then
	reader=nobody
else
	chmod 555 "$H/var/lib/mipart"
	reader=
fi
run $reader "$MIPART" --root "$H" history --json
is "$RC" 0 "a reader who may not write beside the database reads it"
is "$(jqo '.changes | length')" $((n_before + 1)) "and sees the change only the log holds"
is "$(jqo '.changes[0].command')" "in the log only" "that change"
run $reader "$MIPART" --root "$H" allocations --json
like "$(jqo '[.. | .name? // empty] | join(",")')" "*walonly*" "and the allocation only the log holds"
[ ! -e "$DB-shm" ]
ok $? "without creating anything beside the database"

# --- a reader who cannot open the database says so ----------------------------------------
chmod 755 "$H/var/lib/mipart"
if [ $root = yes ]; then
	chmod 600 "$DB" "$DB-wal"
else
	chmod 000 "$DB"
fi
run $reader "$MIPART" --root "$H" history --json
is "$RC" 1 "history fails when the database cannot be opened"
like "$ERR" "*cannot read the journal*" "and says so, never 'no changes'"
if [ $root = yes ]; then
	chmod 700 "$H/var/lib/mipart"
	run nobody "$MIPART" --root "$H" history
	is "$RC" 1 "a database in a directory the reader cannot enter is not 'no changes' either"
	chmod 755 "$H/var/lib/mipart"
fi
chmod 644 "$DB" "$DB-wal" 2>/dev/null
