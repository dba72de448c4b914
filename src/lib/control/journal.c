// SPDX-License-Identifier: MIT
/*
 * The change journal in SQLite: WAL so readers never block the writer, STRICT tables, every
 * write in BEGIN IMMEDIATE so two writers serialise on the database lock (busy timeout 10 s)
 * instead of failing half-way. The database and its schema: db.c.
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mipart/journal.h"
#include "db.h"
#include "journal.h"
#include "util.h"
#include "banned.h"

struct mipart_journal {
	sqlite3 *db;
};


static int exec(mipart_journal *j, const char *sql)
{
	return db_exec(j->db, sql);
}

static int open_with(const char *path, bool reader, mipart_journal **ret)
{
	struct mipart_journal *j = calloc(1, sizeof(*j));
	int r;

	if (!j)
		return -ENOMEM;
	r = reader ? db_open_reader(path, 1000, &j->db) : db_open(path, &j->db);
	if (r < 0) {
		free(j);
		return r;
	}
	*ret = j;
	return 0;
}

int mipart_journal_open(const char *path, mipart_journal **ret)
{
	return open_with(path, false, ret);
}

int mipart_journal_open_reader(const char *path, mipart_journal **ret)
{
	return open_with(path, true, ret);
}

mipart_journal *mipart_journal_free(mipart_journal *j)
{
	if (!j)
		return NULL;
	sqlite3_close(j->db);
	free(j);
	return NULL;
}

/* Run one statement with text/int binds inside BEGIN IMMEDIATE. Binds: 's' text (may be NULL),
 * 'i' int64. */
static int write_stmt(mipart_journal *j, const char *sql, const char *types, int64_t *ret_rowid, ...)
{
	sqlite3_stmt *st = NULL;
	va_list ap;
	int r;

	r = exec(j, "BEGIN IMMEDIATE");
	if (r < 0)
		return r;
	r = db_err(sqlite3_prepare_v2(j->db, sql, -1, &st, NULL));
	if (r < 0)
		goto out;
	va_start(ap, ret_rowid);
	for (int k = 0; types[k] && r == 0; k++) {
		if (types[k] == 's') {
			const char *s = va_arg(ap, const char *);

			r = db_err(s ? sqlite3_bind_text(st, k + 1, s, -1, SQLITE_TRANSIENT)
				      : sqlite3_bind_null(st, k + 1));
		} else {
			r = db_err(sqlite3_bind_int64(st, k + 1, va_arg(ap, int64_t)));
		}
	}
	va_end(ap);
	if (r == 0)
		r = db_err(sqlite3_step(st));
	if (r == 0 && ret_rowid)
		*ret_rowid = sqlite3_last_insert_rowid(j->db);
out:
	sqlite3_finalize(st);
	if (r == 0)
		r = exec(j, "COMMIT");
	if (r < 0)
		exec(j, "ROLLBACK");
	return r;
}

int mipart_journal_begin(mipart_journal *j, int64_t uid, const char *command, const char *before,
			 const char *target, int64_t *ret_id)
{
	char now[32];
	int64_t id = 0;
	int r;

	db_now(now, sizeof(now));
	r = write_stmt(j,
		       "INSERT INTO changes (started_at, uid, command, before, target, state, step) "
		       "VALUES (?1, ?2, ?3, ?4, ?5, 'running', 'start')",
		       "sisss", &id, now, uid, command, before, target);
	if (r == 0)
		*ret_id = id;
	return r;
}

int mipart_journal_step(mipart_journal *j, int64_t id, const char *step)
{
	return write_stmt(j, "UPDATE changes SET step = ?1 WHERE id = ?2", "si", NULL, step, id);
}

int mipart_journal_finish(mipart_journal *j, int64_t id, const char *state, const char *after,
			  const char *message)
{
	char now[32];

	db_now(now, sizeof(now));
	return write_stmt(j,
			  "UPDATE changes SET state = ?1, after = ?2, message = ?3, finished_at = ?4 "
			  "WHERE id = ?5",
			  "ssssi", NULL, state, after, message, now, id);
}

static char *col_dup(sqlite3_stmt *st, int c)
{
	const unsigned char *s = sqlite3_column_text(st, c);

	return s ? strdup((const char *)s) : NULL;
}

static int read_entry(sqlite3_stmt *st, mipart_journal_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->id = sqlite3_column_int64(st, 0);
	e->started_at = col_dup(st, 1);
	e->finished_at = col_dup(st, 2);
	e->uid = sqlite3_column_int64(st, 3);
	e->command = col_dup(st, 4);
	e->before = col_dup(st, 5);
	e->target = col_dup(st, 6);
	e->after = col_dup(st, 7);
	e->state = col_dup(st, 8);
	e->step = col_dup(st, 9);
	e->message = col_dup(st, 10);
	e->hooks = col_dup(st, 11);
	if (!e->started_at || !e->command || !e->before || !e->target || !e->state || !e->step) {
		mipart_journal_entry_release(e);
		return -ENOMEM;
	}
	return 0;
}

#define COLUMNS \
	"id, started_at, finished_at, uid, command, before, target, after, state, step, message, hooks"

int mipart_journal_running(mipart_journal *j, mipart_journal_entry *ret)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	r = db_err(sqlite3_prepare_v2(j->db,
				       "SELECT " COLUMNS " FROM changes WHERE state = 'running' "
				       "ORDER BY id LIMIT 1",
				       -1, &st, NULL));
	if (r < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = read_entry(st, ret);
	else
		r = rc == SQLITE_DONE ? -ENOENT : db_err(rc);
	sqlite3_finalize(st);
	return r;
}

int mipart_journal_unresolved(mipart_journal *j, mipart_journal_entry *ret)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	r = mipart_journal_running(j, ret);
	if (r != -ENOENT)
		return r;
	/* a failed change stays unresolved until recover finishes it, or a later change
	 * (which recover made possible) follows it */
	r = db_err(sqlite3_prepare_v2(j->db,
				       "SELECT " COLUMNS " FROM changes ORDER BY id DESC LIMIT 1", -1,
				       &st, NULL));
	if (r < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(st, 8), "failed"))
		r = read_entry(st, ret);
	else
		r = rc == SQLITE_ROW || rc == SQLITE_DONE ? -ENOENT : db_err(rc);
	sqlite3_finalize(st);
	return r;
}

int mipart_journal_set_hooks(mipart_journal *j, int64_t id, const char *hooks)
{
	return write_stmt(j, "UPDATE changes SET hooks = ?1 WHERE id = ?2", "si", NULL, hooks, id);
}

int mipart_journal_discard(mipart_journal *j, int64_t id)
{
	return write_stmt(j, "DELETE FROM changes WHERE id = ?1 AND state = 'running'", "i", NULL, id);
}

int mipart_journal_resolve(mipart_journal *j, int64_t id, const char *state, const char *after,
			   const char *message)
{
	char now[32];

	db_now(now, sizeof(now));
	/* keep what the change said when it failed; add how it was resolved */
	return write_stmt(j,
			  "UPDATE changes SET state = ?1, after = ?2, finished_at = ?4, message = "
			  "CASE WHEN message IS NULL THEN ?3 ELSE message || ' | ' || ?3 END "
			  "WHERE id = ?5",
			  "ssssi", NULL, state, after, message, now, id);
}

/* Rows that left hook units stopped: closed (a running row is recover's, or a change under
 * way), hooks recorded, not restarted, and some unit named (units_left_of: a change that found
 * every hook unit stopped stops none and its "restarted" stays false; however many such rows
 * there are, they must not hide the later ones from the LIMIT). JSON false reads as 0 in
 * SQLite's json_extract. */
#define UNITS_LEFT_FROM                                                                           \
	"SELECT id, hooks FROM changes WHERE state != 'running' AND hooks IS NOT NULL AND "       \
	"json_valid(hooks) AND json_extract(hooks, '$.restarted') = 0 AND "                       \
	"json_array_length(hooks, CASE json_type(hooks, '$.left_stopped') WHEN 'array' THEN "     \
	"'$.left_stopped' ELSE '$.stop' END) > 0 "
#define UNITS_LEFT_SQL UNITS_LEFT_FROM "ORDER BY id LIMIT 256"
/* the newest first: a unit that failed to start in hundreds of changes must not keep the rows
 * of a later change out of the LIMIT */
#define UNITS_LEFT_NEWEST_SQL UNITS_LEFT_FROM "ORDER BY id DESC LIMIT 256"
#define UNITS_LEFT_MAX 64

/* The names a row's hooks say were left stopped: "left_stopped", else "stop" (a row written
 * before "left_stopped" existed, or a crash before the start). Borrowed from h. */
static json_t *units_left_of(json_t *h)
{
	json_t *v = json_object_get(h, "left_stopped");

	return json_is_array(v) ? v : json_object_get(h, "stop");
}

int mipart_journal_units_stopped(mipart_journal *j, mipart_stopped_unit **ret, size_t *ret_n)
{
	sqlite3_stmt *st = NULL;
	mipart_stopped_unit *v = NULL;
	size_t n = 0;
	int r, rc;

	r = db_err(sqlite3_prepare_v2(j->db, UNITS_LEFT_NEWEST_SQL, -1, &st, NULL));
	if (r < 0)
		return r;
	/* newest row first, each row's names from its last: reversed at the end */
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(st, 1);
		json_t *h = json_loads(text ? text : "", 0, NULL), *a = units_left_of(h), *u;
		const char *err = json_string_value(json_object_get(h, "start_error"));

		for (size_t i = json_array_size(a); i-- > 0;) {
			mipart_stopped_unit *nv;
			size_t k = 0;

			u = json_array_get(a, i);
			if (!json_is_string(u) || n >= UNITS_LEFT_MAX)
				continue;
			/* a unit every failed start left stopped again is listed once, as the
			 * latest change that left it (the first row that names it here) */
			while (k < n && strcmp(v[k].name, json_string_value(u)))
				k++;
			if (k < n)
				continue;
			nv = realloc(v, (n + 1) * sizeof(*v));
			if (!nv) {
				r = -ENOMEM;
				break;
			}
			v = nv;
			memset(&v[n], 0, sizeof(v[n]));
			v[n].change = sqlite3_column_int64(st, 0);
			util_strlcpy(v[n].name, json_string_value(u), sizeof(v[n].name));
			util_strlcpy(v[n].error, err ? err : "", sizeof(v[n].error));
			n++;
		}
		json_decref(h);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_err(rc);
	sqlite3_finalize(st);
	if (r < 0) {
		free(v);
		return r;
	}
	for (size_t k = 0; k < n / 2; k++) { /* oldest change first */
		mipart_stopped_unit t = v[k];

		v[k] = v[n - 1 - k];
		v[n - 1 - k] = t;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* One pass of journal_units_started over at most UNITS_LEFT_MAX rows it changes (*ret_rows). */
static int units_started_pass(mipart_journal *j, const char *const *names, size_t n,
			      size_t *ret_rows)
{
	sqlite3_stmt *st = NULL;
	int64_t ids[UNITS_LEFT_MAX];
	char *texts[UNITS_LEFT_MAX];
	size_t rows = 0;
	int r, rc;

	*ret_rows = 0;
	r = db_err(sqlite3_prepare_v2(j->db, UNITS_LEFT_SQL, -1, &st, NULL));
	if (r < 0)
		return r;
	/* read first, write after: a write inside the read's statement would see its own rows */
	while (rows < UNITS_LEFT_MAX && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *h = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
		json_t *a = units_left_of(h), *left = json_array(), *u;
		bool changed = false;
		size_t i;

		json_array_foreach(a, i, u) {
			bool started = false;

			for (size_t k = 0; k < n && json_is_string(u); k++)
				started |= !strcmp(json_string_value(u), names[k]);
			if (started)
				changed = true;
			else
				json_array_append(left, u);
		}
		if (changed) {
			if (json_array_size(left)) {
				json_object_set(h, "left_stopped", left);
			} else {
				json_object_del(h, "left_stopped");
				json_object_set_new(h, "restarted", json_true());
			}
			texts[rows] = json_dumps(h, JSON_COMPACT);
			if (texts[rows])
				ids[rows++] = sqlite3_column_int64(st, 0);
		}
		json_decref(left);
		json_decref(h);
	}
	sqlite3_finalize(st);
	for (size_t k = 0; k < rows; k++) {
		int w = mipart_journal_set_hooks(j, ids[k], texts[k]);

		if (w < 0 && r == 0)
			r = w;
		free(texts[k]);
	}
	*ret_rows = rows;
	return r;
}

/* Passes until one changes fewer rows than it may: a unit whose start failed change after
 * change is in as many rows, all of which it leaves (16 passes: four times the rows
 * UNITS_LEFT_SQL reads) */
int journal_units_started(mipart_journal *j, const char *const *names, size_t n)
{
	size_t rows = UNITS_LEFT_MAX;
	int r = 0;

	for (int pass = 0; n && r == 0 && rows == UNITS_LEFT_MAX && pass < 16; pass++)
		r = units_started_pass(j, names, n, &rows);
	return r;
}

int journal_nps_request(mipart_journal *j, const char *bdf, const char *mode, int64_t change,
			const char *driver)
{
	char now[32];

	db_now(now, sizeof(now));
	/* one statement: a request and the driver that holds it are never apart (a new request
	 * of a GPU must not keep the driver of the one it replaces) */
	return write_stmt(j,
			  "INSERT INTO nps_requests (bdf, mode, change, requested_at, driver) "
			  "VALUES (?1, ?2, ?3, ?4, ?5) "
			  "ON CONFLICT (bdf) DO UPDATE SET mode = ?2, change = ?3, requested_at = ?4, "
			  "driver = ?5",
			  "ssiss", NULL, bdf, mode, change, now, driver && *driver ? driver : NULL);
}

int mipart_journal_nps_request(mipart_journal *j, const char *bdf, const char *mode, int64_t change)
{
	return journal_nps_request(j, bdf, mode, change, NULL);
}

int journal_nps_driver_get(mipart_journal *j, const char *bdf, char *buf, size_t size)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	if (size)
		buf[0] = '\0';
	r = db_err(sqlite3_prepare_v2(j->db,
				       "SELECT driver FROM nps_requests WHERE bdf = ?1 COLLATE NOCASE",
				       -1, &st, NULL));
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, bdf, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(st, 0);

		if (d)
			util_strlcpy(buf, d, size);
	} else if (rc != SQLITE_DONE) {
		r = db_err(rc);
	}
	sqlite3_finalize(st);
	return r;
}

int mipart_journal_nps_forget(mipart_journal *j, const char *bdf)
{
	return write_stmt(j, "DELETE FROM nps_requests WHERE bdf = ?1 COLLATE NOCASE", "s", NULL, bdf);
}

int mipart_journal_nps_applied(mipart_journal *j)
{
	return write_stmt(j, "DELETE FROM nps_requests", "", NULL);
}

int mipart_journal_nps_pending(mipart_journal *j, mipart_nps_request **ret, size_t *ret_n)
{
	sqlite3_stmt *st = NULL;
	mipart_nps_request *v = NULL;
	size_t n = 0;
	int r, rc;

	r = db_err(sqlite3_prepare_v2(j->db,
				       "SELECT bdf, mode, change, requested_at FROM nps_requests "
				       "ORDER BY bdf LIMIT 64",
				       -1, &st, NULL));
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		mipart_nps_request *nv = realloc(v, (n + 1) * sizeof(*v));
		const char *bdf = (const char *)sqlite3_column_text(st, 0);
		const char *mode = (const char *)sqlite3_column_text(st, 1);
		const char *at = (const char *)sqlite3_column_text(st, 3);

		if (!nv) {
			r = -ENOMEM;
			break;
		}
		v = nv;
		memset(&v[n], 0, sizeof(v[n]));
		util_strlcpy(v[n].bdf, bdf ? bdf : "", sizeof(v[n].bdf));
		if (!mode || mipart_memory_mode_parse(mode, &v[n].mode) < 0)
			continue; /* not a mode this mipart knows: skip the row */
		v[n].change = sqlite3_column_int64(st, 2);
		util_strlcpy(v[n].requested_at, at ? at : "", sizeof(v[n].requested_at));
		n++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_err(rc);
	sqlite3_finalize(st);
	if (r < 0) {
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int mipart_journal_annotate_pending(mipart_journal *j, mipart_topology *t)
{
	mipart_nps_request *v = NULL;
	size_t n = 0, ng = mipart_topology_gpu_count(t);
	int r = mipart_journal_nps_pending(j, &v, &n);

	if (r < 0)
		return r;
	for (size_t k = 0; k < n; k++) {
		const mipart_gpu_info *w = mipart_topology_gpu_by_bdf(t, v[k].bdf);

		if (!w)
			continue;
		for (size_t i = 0; i < ng; i++) {
			const mipart_gpu_info *g = mipart_topology_gpu(t, i);

			if (g != w && (!w->hive_id || g->hive_id != w->hive_id))
				continue;
			if (g->memory == v[k].mode)
				continue; /* nothing would change */
			if (g != w && g->pending_memory != MIPART_MEMORY_UNKNOWN)
				continue; /* its own row says */
			mipart_topology_set_pending(t, i, v[k].mode, v[k].change);
		}
	}
	free(v);
	return 0;
}

int mipart_journal_list(mipart_journal *j, size_t limit, mipart_journal_entry **ret, size_t *ret_n)
{
	sqlite3_stmt *st = NULL;
	mipart_journal_entry *v = NULL;
	size_t n = 0;
	int r, rc;

	r = db_err(sqlite3_prepare_v2(j->db,
				       "SELECT " COLUMNS " FROM changes ORDER BY id DESC LIMIT ?1", -1,
				       &st, NULL));
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)(limit > INT32_MAX ? INT32_MAX : limit));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		mipart_journal_entry *nv = realloc(v, (n + 1) * sizeof(*v));

		if (!nv) {
			r = -ENOMEM;
			break;
		}
		v = nv;
		r = read_entry(st, &v[n]);
		if (r < 0)
			break;
		n++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_err(rc);
	sqlite3_finalize(st);
	if (r < 0) {
		mipart_journal_entries_free(v, n);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

void mipart_journal_entry_release(mipart_journal_entry *e)
{
	if (!e)
		return;
	free(e->started_at);
	free(e->finished_at);
	free(e->command);
	free(e->before);
	free(e->target);
	free(e->after);
	free(e->state);
	free(e->step);
	free(e->message);
	free(e->hooks);
	memset(e, 0, sizeof(*e));
}

void mipart_journal_entries_free(mipart_journal_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		mipart_journal_entry_release(&v[i]);
	free(v);
}
