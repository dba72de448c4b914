// SPDX-License-Identifier: MIT
/*
 * The allocation ledger (include/mipart/ledger.h). An allocation is a row of `allocations` and
 * one row of `bookings` per partition it uses; the capacity check and the insert run in one
 * BEGIN IMMEDIATE transaction, which SQLite serialises across processes, so the sum of bookings
 * on a partition never exceeds its capacity however many allocate at once.
 */
#include <errno.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mipart/ledger.h"
#include "db.h"
#include "util.h"
#include "banned.h"

struct mipart_ledger {
	sqlite3 *db;
};

static int open_with(const char *path, bool reader, mipart_ledger **ret)
{
	struct mipart_ledger *l = calloc(1, sizeof(*l));
	int r;

	if (!l)
		return -ENOMEM;
	r = reader ? db_open_reader(path, 1000, &l->db) : db_open(path, &l->db);
	if (r < 0) {
		free(l);
		return r;
	}
	*ret = l;
	return 0;
}

int mipart_ledger_open(const char *path, mipart_ledger **ret)
{
	return open_with(path, false, ret);
}

int mipart_ledger_open_reader(const char *path, mipart_ledger **ret)
{
	return open_with(path, true, ret);
}

mipart_ledger *mipart_ledger_free(mipart_ledger *l)
{
	if (!l)
		return NULL;
	sqlite3_close(l->db);
	free(l);
	return NULL;
}

static int booked_locked(mipart_ledger *l, const char *bdf, unsigned xcp, uint64_t *ret)
{
	sqlite3_stmt *st = NULL;
	int r = db_err(sqlite3_prepare_v2(
		l->db, "SELECT COALESCE(SUM(bytes), 0) FROM bookings WHERE bdf = ?1 AND xcp = ?2", -1,
		&st, NULL));

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, bdf, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, xcp);
	if (sqlite3_step(st) == SQLITE_ROW)
		*ret = (uint64_t)sqlite3_column_int64(st, 0);
	else
		r = db_err(sqlite3_errcode(l->db));
	sqlite3_finalize(st);
	return r;
}

int mipart_ledger_booked(mipart_ledger *l, const char *bdf, unsigned xcp, uint64_t *ret)
{
	return booked_locked(l, bdf, xcp, ret);
}

static int insert(mipart_ledger *l, mipart_allocation *a, int64_t *ret_id)
{
	sqlite3_stmt *st = NULL;
	char now[32];
	int r;

	db_now(now, sizeof(now));
	r = db_err(sqlite3_prepare_v2(l->db,
				      "INSERT INTO allocations (name, model, spec, created_at, uid) "
				      "VALUES (?1, ?2, ?3, ?4, ?5)",
				      -1, &st, NULL));
	if (r < 0)
		return r;
	/* a unique placeholder until the id is known */
	if (a->name[0])
		sqlite3_bind_text(st, 1, a->name, -1, SQLITE_STATIC);
	else
		sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, a->model, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, a->spec ? a->spec : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, a->uid);
	r = db_err(sqlite3_step(st));
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	*ret_id = sqlite3_last_insert_rowid(l->db);
	util_strlcpy(a->created_at, now, sizeof(a->created_at));
	if (!a->name[0]) {
		const char *base = strrchr(a->model, '/');

		/* "<model>-<id>", and "-2", "-3", ... after it if someone took that name */
		for (unsigned k = 1; k <= 100; k++) {
			if (k == 1)
				snprintf(a->name, sizeof(a->name), "%.100s-%lld", base ? base + 1 : a->model,
					 (long long)*ret_id);
			else
				snprintf(a->name, sizeof(a->name), "%.100s-%lld-%u",
					 base ? base + 1 : a->model, (long long)*ret_id, k);
			r = db_err(sqlite3_prepare_v2(l->db, "UPDATE allocations SET name = ?1 WHERE id = ?2",
						      -1, &st, NULL));
			if (r < 0)
				return r;
			sqlite3_bind_text(st, 1, a->name, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, *ret_id);
			r = db_err(sqlite3_step(st));
			sqlite3_finalize(st);
			if (r != -EEXIST)
				break;
		}
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < a->n_bookings && r == 0; i++) {
		r = db_err(sqlite3_prepare_v2(l->db,
					      "INSERT INTO bookings (allocation, bdf, xcp, bytes, capacity) "
					      "VALUES (?1, ?2, ?3, ?4, ?5)",
					      -1, &st, NULL));
		if (r < 0)
			break;
		sqlite3_bind_int64(st, 1, *ret_id);
		sqlite3_bind_text(st, 2, a->bookings[i].bdf, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, a->bookings[i].xcp);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)a->bookings[i].bytes);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)a->bookings[i].capacity);
		r = db_err(sqlite3_step(st));
		sqlite3_finalize(st);
	}
	return r;
}

int mipart_ledger_name_check(const char *name)
{
	size_t len = strlen(name);

	/* a name reaches terminals (allocations, top), env files and manifests: no control
	 * characters, no bytes that are not UTF-8; all digits would read as an id */
	if (!len || len >= MIPART_LEDGER_NAME_MAX || strspn(name, "0123456789") == len)
		return -EINVAL;
	return util_has_control(name) ? -EILSEQ : 0;
}

int mipart_ledger_allocate(mipart_ledger *l, mipart_allocation *a, int64_t *ret_id,
			   size_t *ret_bad, uint64_t *ret_free)
{
	int64_t id = 0;
	int r;

	if (a->name[0] && mipart_ledger_name_check(a->name) < 0)
		return -EINVAL;
	if (!a->model[0] || a->n_bookings == 0 || a->n_bookings > MIPART_LEDGER_MAX_BOOKINGS)
		return -EINVAL;
	for (size_t i = 0; i < a->n_bookings; i++)
		if (!a->bookings[i].bytes || a->bookings[i].bytes > INT64_MAX ||
		    a->bookings[i].capacity > INT64_MAX)
			return -EINVAL;
	r = db_exec(l->db, "BEGIN IMMEDIATE");
	if (r < 0)
		return r;
	for (size_t i = 0; i < a->n_bookings; i++) {
		uint64_t used = 0;

		r = booked_locked(l, a->bookings[i].bdf, a->bookings[i].xcp, &used);
		if (r < 0)
			goto out;
		if (used > a->bookings[i].capacity ||
		    a->bookings[i].bytes > a->bookings[i].capacity - used) {
			if (ret_bad)
				*ret_bad = i;
			if (ret_free)
				*ret_free = used < a->bookings[i].capacity ? a->bookings[i].capacity - used
									   : 0;
			r = -ENOSPC;
			goto out;
		}
	}
	r = insert(l, a, &id);
out:
	if (r == 0)
		r = db_exec(l->db, "COMMIT");
	if (r < 0) {
		db_exec(l->db, "ROLLBACK");
		return r;
	}
	a->id = id;
	*ret_id = id;
	return 0;
}

static int read_bookings(mipart_ledger *l, mipart_allocation *a)
{
	sqlite3_stmt *st = NULL;
	int r = db_err(sqlite3_prepare_v2(l->db,
					  "SELECT bdf, xcp, bytes, capacity FROM bookings "
					  "WHERE allocation = ?1 ORDER BY bdf, xcp",
					  -1, &st, NULL));

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, a->id);
	a->n_bookings = 0;
	while (sqlite3_step(st) == SQLITE_ROW && a->n_bookings < MIPART_LEDGER_MAX_BOOKINGS) {
		mipart_booking *b = &a->bookings[a->n_bookings++];
		const unsigned char *bdf = sqlite3_column_text(st, 0);

		util_strlcpy(b->bdf, bdf ? (const char *)bdf : "", sizeof(b->bdf));
		b->xcp = (unsigned)sqlite3_column_int64(st, 1);
		b->bytes = (uint64_t)sqlite3_column_int64(st, 2);
		b->capacity = (uint64_t)sqlite3_column_int64(st, 3);
	}
	sqlite3_finalize(st);
	return 0;
}

static int read_row(mipart_ledger *l, sqlite3_stmt *st, mipart_allocation *a)
{
	const unsigned char *s;

	memset(a, 0, sizeof(*a));
	a->id = sqlite3_column_int64(st, 0);
	s = sqlite3_column_text(st, 1);
	util_strlcpy(a->name, s ? (const char *)s : "", sizeof(a->name));
	s = sqlite3_column_text(st, 2);
	util_strlcpy(a->model, s ? (const char *)s : "", sizeof(a->model));
	s = sqlite3_column_text(st, 3);
	a->spec = strdup(s ? (const char *)s : "{}");
	s = sqlite3_column_text(st, 4);
	util_strlcpy(a->created_at, s ? (const char *)s : "", sizeof(a->created_at));
	a->uid = sqlite3_column_int64(st, 5);
	if (!a->spec)
		return -ENOMEM;
	return read_bookings(l, a);
}

#define ALLOC_COLUMNS "id, name, model, spec, created_at, uid"

int mipart_ledger_get(mipart_ledger *l, const char *key, mipart_allocation *ret)
{
	/* the exact name first; a number is an id only when no allocation has it as its name */
	static const char *const sql[2] = {
		"SELECT " ALLOC_COLUMNS " FROM allocations WHERE name = ?1",
		"SELECT " ALLOC_COLUMNS " FROM allocations WHERE id = ?1",
	};
	uint64_t id = 0;
	bool by_id = util_parse_u64(key, strlen(key), &id) == 0 && id <= INT64_MAX;
	int r = -ENOENT;

	for (int k = 0; k < (by_id ? 2 : 1) && r == -ENOENT; k++) {
		sqlite3_stmt *st = NULL;
		mipart_allocation a;

		r = db_err(sqlite3_prepare_v2(l->db, sql[k], -1, &st, NULL));
		if (r < 0)
			return r;
		if (k == 0)
			sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		else
			sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
		r = -ENOENT;
		if (sqlite3_step(st) == SQLITE_ROW) {
			r = read_row(l, st, &a);
			if (r < 0)
				mipart_allocation_release(&a);
			else
				*ret = a;
		}
		sqlite3_finalize(st);
	}
	return r;
}

int mipart_ledger_release(mipart_ledger *l, const char *key, mipart_allocation *ret)
{
	mipart_allocation a = { 0 };
	sqlite3_stmt *st = NULL;
	int r = db_exec(l->db, "BEGIN IMMEDIATE");

	if (r < 0)
		return r;
	r = mipart_ledger_get(l, key, &a);
	if (r == 0) {
		r = db_err(sqlite3_prepare_v2(l->db, "DELETE FROM allocations WHERE id = ?1", -1, &st,
					      NULL));
		if (r == 0) {
			sqlite3_bind_int64(st, 1, a.id);
			r = db_err(sqlite3_step(st));
			sqlite3_finalize(st);
		}
	}
	if (r == 0)
		r = db_exec(l->db, "COMMIT");
	if (r < 0) {
		db_exec(l->db, "ROLLBACK");
		if (r != -ENOENT)
			mipart_allocation_release(&a);
		return r;
	}
	if (ret)
		*ret = a;
	else
		mipart_allocation_release(&a);
	return 0;
}

int mipart_ledger_list(mipart_ledger *l, mipart_allocation **ret, size_t *ret_n)
{
	sqlite3_stmt *st = NULL;
	mipart_allocation *v = NULL;
	size_t n = 0;
	int r = db_err(sqlite3_prepare_v2(l->db, "SELECT " ALLOC_COLUMNS " FROM allocations ORDER BY id",
					  -1, &st, NULL));

	if (r < 0)
		return r;
	while (sqlite3_step(st) == SQLITE_ROW) {
		mipart_allocation *nv = realloc(v, (n + 1) * sizeof(*v));

		if (!nv) {
			r = -ENOMEM;
			break;
		}
		v = nv;
		r = read_row(l, st, &v[n]);
		n++;
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
	if (r < 0) {
		mipart_allocations_free(v, n);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int mipart_ledger_count_on_gpu(mipart_ledger *l, const char *bdf, size_t *ret)
{
	sqlite3_stmt *st = NULL;
	int r = db_err(sqlite3_prepare_v2(
		l->db, "SELECT COUNT(DISTINCT allocation) FROM bookings WHERE bdf = ?1", -1, &st,
		NULL));

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, bdf, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		*ret = (size_t)sqlite3_column_int64(st, 0);
	else
		r = -EIO;
	sqlite3_finalize(st);
	return r;
}

void mipart_allocation_release(mipart_allocation *a)
{
	if (!a)
		return;
	free(a->spec);
	a->spec = NULL;
}

void mipart_allocations_free(mipart_allocation *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		mipart_allocation_release(&v[i]);
	free(v);
}

bool mipart_allocation_orphaned(const mipart_allocation *a, const mipart_topology *t,
				size_t *ret_booking)
{
	for (size_t b = 0; b < a->n_bookings; b++) {
		if (!mipart_topology_partition_at(t, a->bookings[b].bdf, a->bookings[b].xcp)) {
			if (ret_booking)
				*ret_booking = b;
			return true;
		}
	}
	return false;
}
