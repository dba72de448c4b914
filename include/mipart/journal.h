/* SPDX-License-Identifier: MIT */
/*
 * The journal: every partition change with its time, user, command line, the modes before, the
 * target, the modes after, the step it reached and how it ended. SQLite (WAL, STRICT tables,
 * BEGIN IMMEDIATE) at /var/lib/mipart/mipart.db under the root prefix; a row left 'running' by
 * a crash is what `mipart recover` finishes.
 */
#ifndef MIPART_JOURNAL_H
#define MIPART_JOURNAL_H

#include <stdint.h>
#include <stddef.h>

#include "mode.h"
#include "topology.h"

typedef struct mipart_journal mipart_journal;

#define MIPART_JOURNAL_PATH "/var/lib/mipart/mipart.db"

typedef struct mipart_journal_entry {
	int64_t id;
	char *started_at;	/* ISO 8601 UTC */
	char *finished_at;	/* NULL while running */
	int64_t uid;
	char *command;
	char *before;		/* JSON array of {gpu, bdf, compute, memory} */
	char *target;
	char *after;		/* NULL until verified */
	char *state;		/* running, done, rolled-back, failed, recovered */
	char *step;
	char *message;		/* NULL or what went wrong */
	char *hooks;		/* NULL, or JSON {"units": [{"name", "was"}], "stop": [names],
				 * "restarted": bool}: the hook units the change stopped; when
				 * they did not start again also "left_stopped": [names] (those
				 * that were not running afterwards) and "start_error" */
} mipart_journal_entry;

/* A hook unit a change stopped and that did not start again (mipart_journal_units_stopped). */
typedef struct mipart_stopped_unit {
	int64_t change;		/* the change that stopped it */
	char name[256];		/* as the layout file named it (not escaped: escape to print) */
	char error[256];	/* what the failed start said, or "" */
} mipart_stopped_unit;

/* An NPS request recorded in the driver that no reload has applied yet. */
typedef struct mipart_nps_request {
	char bdf[16];
	mipart_memory_mode mode;
	int64_t change;		/* the change that wrote it */
	char requested_at[32];	/* ISO 8601 UTC */
} mipart_nps_request;

/*
 * mipart_journal_open - open (and create, with its directory) the database at path; ":memory:"
 * for tests. Returns 0 and *ret, -EIO (SQLite error, including a file that is not a database),
 * -EACCES, -ENOMEM.
 */
int mipart_journal_open(const char *path, mipart_journal **ret);
/* mipart_journal_open_reader - an existing database, for reading only: never takes the write
 * lock, never waits more than 1 s (monitoring). -ENOENT when missing or not migrated yet. */
int mipart_journal_open_reader(const char *path, mipart_journal **ret);
mipart_journal *mipart_journal_free(mipart_journal *j);

/* mipart_journal_begin - record a change that starts now; *ret_id its id. 0, -ETIMEDOUT (the
 * database stayed locked), -EACCES, -EIO. The same errors for step and finish. */
int mipart_journal_begin(mipart_journal *j, int64_t uid, const char *command, const char *before,
			 const char *target, int64_t *ret_id);

/* mipart_journal_step - the step a running change has reached ("memory-write", "reload", ...). */
int mipart_journal_step(mipart_journal *j, int64_t id, const char *step);

/* mipart_journal_finish - close a change: state done/rolled-back/failed/recovered. */
int mipart_journal_finish(mipart_journal *j, int64_t id, const char *state, const char *after,
			  const char *message);

/* mipart_journal_running - the oldest change still 'running', or -ENOENT. Free with
 * mipart_journal_entry_release. */
int mipart_journal_running(mipart_journal *j, mipart_journal_entry *ret);

/* mipart_journal_unresolved - the change that must be resolved before another may start: the
 * oldest one still 'running', else the newest change when it ended 'failed'. -ENOENT: none. */
int mipart_journal_unresolved(mipart_journal *j, mipart_journal_entry *ret);

/* mipart_journal_set_hooks - record (JSON, see mipart_journal_entry) which hook units change id
 * stopped, before they are stopped. */
int mipart_journal_set_hooks(mipart_journal *j, int64_t id, const char *hooks);

/* mipart_journal_discard - remove a change still 'running' that was refused before it touched
 * the GPUs (refusals are not journalled). */
int mipart_journal_discard(mipart_journal *j, int64_t id);

/* mipart_journal_resolve - close a change recover finished: like finish, but message is added
 * to the one the change ended with. */
int mipart_journal_resolve(mipart_journal *j, int64_t id, const char *state, const char *after,
			   const char *message);

/*
 * NPS requests the driver holds: _request records that change wrote mode to bdf;
 * _applied forgets every request (they are known gone); _pending lists
 * them (at most 64; free *ret). 0 or the errors of mipart_journal_begin.
 */
int mipart_journal_nps_request(mipart_journal *j, const char *bdf, const char *mode,
			       int64_t change);
int mipart_journal_nps_applied(mipart_journal *j);
/* mipart_journal_nps_forget - forget the request of one GPU (seen applied). */
int mipart_journal_nps_forget(mipart_journal *j, const char *bdf);
int mipart_journal_nps_pending(mipart_journal *j, mipart_nps_request **ret, size_t *ret_n);

/*
 * mipart_journal_annotate_pending - mark the GPUs of t that have a pending NPS request
 * (mipart_topology_set_pending): the GPU the request was written to and, since the driver
 * stores it per XGMI hive (hive->requested_nps_mode), every other member of its hive. A
 * request for the mode the GPU already shows is not pending. Returns 0 or -errno.
 */
int mipart_journal_annotate_pending(mipart_journal *j, mipart_topology *t);

/*
 * mipart_journal_units_stopped - the hook units that changes which are no longer running stopped
 * and that did not start again (their row's hooks say "restarted": false): the names in
 * "left_stopped", else in "stop". Each unit once, with the latest change that left it stopped
 * (and that change's start_error). At most 64, those of the latest changes, oldest change
 * first; free *ret. They stay until
 * 'mipart recover' (or a later change naming them) starts them. 0 or -errno.
 */
int mipart_journal_units_stopped(mipart_journal *j, mipart_stopped_unit **ret, size_t *ret_n);

/*
 * mipart_journal_list - the last `limit` changes, newest first, in a new array (*ret, *ret_n;
 * release each entry and free the array with mipart_journal_entries_free).
 */
int mipart_journal_list(mipart_journal *j, size_t limit, mipart_journal_entry **ret, size_t *ret_n);
void mipart_journal_entry_release(mipart_journal_entry *e);
void mipart_journal_entries_free(mipart_journal_entry *v, size_t n);

#endif
