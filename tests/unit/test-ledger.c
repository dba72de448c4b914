// SPDX-License-Identifier: MIT
/*
 * Unit tests for ledger.c: bookings never exceed a partition's capacity, names are unique or
 * generated, release by id or name, counts per GPU, and the schema migration from a journal-only
 * database (version 1) to the ledger (version 2); and the journal's record of hook units a change
 * left stopped (mipart_journal_units_stopped, journal_units_started).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mipart/journal.h"
#include "mipart/ledger.h"
#include "journal.h" /* src/lib/control: journal_units_started */

#define GIB (UINT64_C(1) << 30)

static mipart_allocation alloc_on(const char *name, const char *bdf, unsigned xcp, uint64_t bytes,
				  uint64_t capacity)
{
	mipart_allocation a = { 0 };

	snprintf(a.name, sizeof(a.name), "%s", name);
	snprintf(a.model, sizeof(a.model), "meta-llama/Llama-3.1-8B-Instruct");
	a.spec = (char *)"{\"max_model_len\": 8192}";
	a.n_bookings = 1;
	snprintf(a.bookings[0].bdf, sizeof(a.bookings[0].bdf), "%s", bdf);
	a.bookings[0].xcp = xcp;
	a.bookings[0].bytes = bytes;
	a.bookings[0].capacity = capacity;
	return a;
}

static void test_capacity(void **state)
{
	mipart_ledger *l = NULL;
	mipart_allocation a;
	int64_t id = 0;
	size_t bad = 99;
	uint64_t free_b = 0, booked = 0;

	assert_int_equal(mipart_ledger_open(":memory:", &l), 0);
	a = alloc_on("a", "0000:05:00.0", 3, 10 * GIB, 24 * GIB);
	assert_int_equal(mipart_ledger_allocate(l, &a, &id, &bad, &free_b), 0);
	assert_true(id > 0);
	a = alloc_on("b", "0000:05:00.0", 3, 14 * GIB, 24 * GIB);
	assert_int_equal(mipart_ledger_allocate(l, &a, &id, &bad, &free_b), 0);
	/* full now: one byte more is refused and says what is free */
	a = alloc_on("c", "0000:05:00.0", 3, 1, 24 * GIB);
	assert_int_equal(mipart_ledger_allocate(l, &a, &id, &bad, &free_b), -ENOSPC);
	assert_int_equal(bad, 0);
	assert_int_equal(free_b, 0);
	/* another partition of the same GPU is separate */
	a = alloc_on("c", "0000:05:00.0", 4, 24 * GIB, 24 * GIB);
	assert_int_equal(mipart_ledger_allocate(l, &a, &id, &bad, &free_b), 0);
	assert_int_equal(mipart_ledger_booked(l, "0000:05:00.0", 3, &booked), 0);
	assert_int_equal(booked, 24 * GIB);
	/* a refused allocation left nothing behind */
	{
		mipart_allocation *v = NULL;
		size_t n = 0;

		assert_int_equal(mipart_ledger_list(l, &v, &n), 0);
		assert_int_equal(n, 3);
		assert_string_equal(v[2].name, "c");
		assert_int_equal(v[2].bookings[0].xcp, 4);
		mipart_allocations_free(v, n);
	}
	mipart_ledger_free(l);
}

/* a name with a control character or a byte that is not UTF-8 is refused: it would reach a
 * terminal (allocations, top) and env files */
static void test_name_controls(void **state)
{
	mipart_ledger *l = NULL;
	mipart_allocation a;
	int64_t id = 0;
	size_t bad = 0;
	uint64_t free_b = 0;

	assert_int_equal(mipart_ledger_name_check("x\033[2J"), -EILSEQ);
	assert_int_equal(mipart_ledger_name_check("x\xc2\x9b"), -EILSEQ);
	assert_int_equal(mipart_ledger_name_check("x\xff"), -EILSEQ);
	assert_int_equal(mipart_ledger_name_check("123"), -EINVAL);
	assert_int_equal(mipart_ledger_name_check(""), -EINVAL);
	assert_int_equal(mipart_ledger_name_check("caf\xc3\xa9-$(x)"), 0);
	assert_int_equal(mipart_ledger_open(":memory:", &l), 0);
	a = alloc_on("evil\r", "0000:05:00.0", 0, GIB, 24 * GIB);
	assert_int_equal(mipart_ledger_allocate(l, &a, &id, &bad, &free_b), -EINVAL);
	a = alloc_on("fine", "0000:05:00.0", 0, GIB, 24 * GIB);
	assert_int_equal(mipart_ledger_allocate(l, &a, &id, &bad, &free_b), 0);
	mipart_ledger_free(l);
}

static void test_tensor_parallel_all_or_nothing(void **state)
{
	mipart_ledger *l = NULL;
	mipart_allocation a = alloc_on("tp", "0000:05:00.0", 0, 20 * GIB, 24 * GIB);
	int64_t id = 0;
	size_t bad = 99, n = 0;
	uint64_t free_b = 0;
	mipart_allocation *v = NULL;

	assert_int_equal(mipart_ledger_open(":memory:", &l), 0);
	{
		mipart_allocation b = alloc_on("x", "0000:05:00.0", 1, 10 * GIB, 24 * GIB);

		assert_int_equal(mipart_ledger_allocate(l, &b, &id, &bad, &free_b), 0);
	}
	a.n_bookings = 2;
	a.bookings[1] = a.bookings[0];
	a.bookings[1].xcp = 1;
	assert_int_equal(mipart_ledger_allocate(l, &a, &id, &bad, &free_b), -ENOSPC);
	assert_int_equal(bad, 1);
	assert_int_equal(free_b, 14 * GIB);
	assert_int_equal(mipart_ledger_list(l, &v, &n), 0);
	assert_int_equal(n, 1); /* the first booking of the refused one was not kept */
	mipart_allocations_free(v, n);
	mipart_ledger_free(l);
}

static void test_names(void **state)
{
	mipart_ledger *l = NULL;
	mipart_allocation a = alloc_on("", "0000:05:00.0", 0, GIB, 24 * GIB), got;
	int64_t id = 0;
	size_t bad, count = 0;
	uint64_t free_b;
	char key[32];

	assert_int_equal(mipart_ledger_open(":memory:", &l), 0);
	assert_int_equal(mipart_ledger_allocate(l, &a, &id, &bad, &free_b), 0);
	snprintf(key, sizeof(key), "Llama-3.1-8B-Instruct-%lld", (long long)id);
	assert_string_equal(a.name, key); /* generated from the model's base name and the id */
	a = alloc_on(key, "0000:05:00.0", 0, GIB, 24 * GIB);
	assert_int_equal(mipart_ledger_allocate(l, &a, &id, &bad, &free_b), -EEXIST);
	a = alloc_on("chat", "0000:26:00.0", 0, GIB, 24 * GIB);
	assert_int_equal(mipart_ledger_allocate(l, &a, &id, &bad, &free_b), 0);
	assert_int_equal(mipart_ledger_count_on_gpu(l, "0000:05:00.0", &count), 0);
	assert_int_equal(count, 1);
	snprintf(key, sizeof(key), "%lld", (long long)id);
	assert_int_equal(mipart_ledger_get(l, key, &got), 0);
	assert_string_equal(got.name, "chat");
	assert_string_equal(got.spec, "{\"max_model_len\": 8192}");
	mipart_allocation_release(&got);
	assert_int_equal(mipart_ledger_release(l, "chat", NULL), 0);
	assert_int_equal(mipart_ledger_release(l, "chat", NULL), -ENOENT);
	assert_int_equal(mipart_ledger_get(l, key, &got), -ENOENT);
	assert_int_equal(mipart_ledger_count_on_gpu(l, "0000:26:00.0", &count), 0);
	assert_int_equal(count, 0);
	mipart_ledger_free(l);
}

static void test_bad_input(void **state)
{
	mipart_ledger *l = NULL;
	mipart_allocation a = alloc_on("z", "0000:05:00.0", 0, 0, 24 * GIB);
	int64_t id = 0;

	assert_int_equal(mipart_ledger_open(":memory:", &l), 0);
	assert_int_equal(mipart_ledger_allocate(l, &a, &id, NULL, NULL), -EINVAL); /* 0 bytes */
	a = alloc_on("z", "0000:05:00.0", 0, GIB, 24 * GIB);
	a.n_bookings = 0;
	assert_int_equal(mipart_ledger_allocate(l, &a, &id, NULL, NULL), -EINVAL);
	a = alloc_on("z", "0000:05:00.0", 0, 25 * GIB, 24 * GIB);
	assert_int_equal(mipart_ledger_allocate(l, &a, &id, NULL, NULL), -ENOSPC);
	mipart_ledger_free(l);
}

/* A database the journal created at schema 1 gains the ledger's tables and keeps its rows. */
static void test_migration(void **state)
{
	char dir[] = "/tmp/mipart-ledger-XXXXXX", path[64];
	sqlite3 *db = NULL;
	mipart_journal *j = NULL;
	mipart_journal_entry *v = NULL;
	mipart_ledger *l = NULL;
	mipart_allocation a = alloc_on("m", "0000:05:00.0", 0, GIB, 24 * GIB);
	int64_t id;
	size_t n = 0;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/mipart.db", dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
				      "CREATE TABLE changes (id INTEGER PRIMARY KEY, started_at TEXT NOT NULL,"
				      " finished_at TEXT, uid INTEGER NOT NULL, command TEXT NOT NULL,"
				      " before TEXT NOT NULL, target TEXT NOT NULL, after TEXT,"
				      " state TEXT NOT NULL, step TEXT NOT NULL, message TEXT) STRICT;"
				      "INSERT INTO changes VALUES (1, 'x', NULL, 0, 'mipart set', '[]', '[]',"
				      " NULL, 'done', 'verify', NULL); PRAGMA user_version = 1;",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(mipart_ledger_open(path, &l), 0);
	assert_int_equal(mipart_ledger_allocate(l, &a, &id, NULL, NULL), 0);
	mipart_ledger_free(l);
	assert_int_equal(mipart_journal_open(path, &j), 0);
	assert_int_equal(mipart_journal_list(j, 10, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].command, "mipart set");
	mipart_journal_entries_free(v, n);
	mipart_journal_free(j);
	/* a database from a newer mipart is refused, not changed */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(mipart_ledger_open(path, &l), -EPROTO);
	unlink(path);
	snprintf(path, sizeof(path), "%s/mipart.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/mipart.db-shm", dir);
	unlink(path);
	rmdir(dir);
}

/* Units stay recorded after the row is closed, until they are started; running rows and rows
 * whose units restarted are not listed; "left_stopped" wins over "stop". */
static void test_units_left(void **state)
{
	mipart_journal *j = NULL;
	mipart_stopped_unit *v = NULL;
	mipart_journal_entry *e = NULL;
	const char *a[] = { "a.service" };
	int64_t id1 = 0, id2 = 0, id3 = 0;
	size_t n = 0;

	(void)state;
	assert_int_equal(mipart_journal_open(":memory:", &j), 0);
	assert_int_equal(mipart_journal_begin(j, 0, "one", "[]", "[]", &id1), 0);
	assert_int_equal(mipart_journal_set_hooks(j, id1, "{\"stop\":[\"a.service\",\"b.service\"],\"restarted\":false,\"left_stopped\":[\"a.service\",\"b.service\"],\"start_error\":\"boom\"}"), 0);
	assert_int_equal(mipart_journal_begin(j, 0, "two", "[]", "[]", &id2), 0);
	assert_int_equal(mipart_journal_set_hooks(j, id2, "{\"stop\":[\"a.service\"],\"restarted\":false}"), 0);
	/* a change under way (running) is recover's, not a unit left stopped */
	assert_int_equal(mipart_journal_units_stopped(j, &v, &n), 0);
	assert_int_equal(n, 0);
	free(v);
	assert_int_equal(mipart_journal_finish(j, id1, "done", "[]", NULL), 0);
	assert_int_equal(mipart_journal_finish(j, id2, "rolled-back", "[]", "refused"), 0);
	assert_int_equal(mipart_journal_begin(j, 0, "three", "[]", "[]", &id3), 0);
	assert_int_equal(mipart_journal_set_hooks(j, id3, "{\"stop\":[\"c.service\"],\"restarted\":true}"), 0);
	assert_int_equal(mipart_journal_finish(j, id3, "done", "[]", NULL), 0);
	assert_int_equal(mipart_journal_units_stopped(j, &v, &n), 0);
	/* a.service, left stopped by both, once: as the latest change that left it */
	assert_int_equal(n, 2);
	assert_true(v[0].change == id1 && !strcmp(v[0].name, "b.service") && !strcmp(v[0].error, "boom"));
	assert_true(v[1].change == id2 && !strcmp(v[1].name, "a.service") && !v[1].error[0]);
	free(v);
	/* a.service runs again: row 2 is restarted, row 1 keeps b.service */
	assert_int_equal(journal_units_started(j, a, 1), 0);
	assert_int_equal(mipart_journal_units_stopped(j, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_true(v[0].change == id1 && !strcmp(v[0].name, "b.service"));
	free(v);
	assert_int_equal(mipart_journal_list(j, 3, &e, &n), 0);
	assert_non_null(strstr(e[1].hooks, "\"restarted\":true"));
	assert_non_null(strstr(e[2].hooks, "\"left_stopped\":[\"b.service\"]"));
	mipart_journal_entries_free(e, n);
	mipart_journal_free(j);
}

/* Rows whose hooks stopped nothing (every hook unit was already stopped: "stop" empty,
 * "restarted" never set) are not rows that left units stopped: however many there are, a later
 * change's units left stopped are still listed, and journal_units_started still clears them. */
static void test_units_left_after_empty_rows(void **state)
{
	mipart_journal *j = NULL;
	mipart_stopped_unit *v = NULL;
	const char *a[] = { "a.service" };
	int64_t id = 0;
	size_t n = 0;

	(void)state;
	assert_int_equal(mipart_journal_open(":memory:", &j), 0);
	for (int i = 0; i < 300; i++) {
		assert_int_equal(mipart_journal_begin(j, 0, "empty", "[]", "[]", &id), 0);
		assert_int_equal(mipart_journal_set_hooks(j, id, "{\"units\":[{\"name\":\"a.service\",\"was\":\"stopped\"}],\"stop\":[],\"restarted\":false}"), 0);
		assert_int_equal(mipart_journal_finish(j, id, "done", "[]", NULL), 0);
	}
	assert_int_equal(mipart_journal_begin(j, 0, "left", "[]", "[]", &id), 0);
	assert_int_equal(mipart_journal_set_hooks(j, id, "{\"stop\":[\"a.service\"],\"restarted\":false,\"left_stopped\":[\"a.service\"]}"), 0);
	assert_int_equal(mipart_journal_finish(j, id, "done", "[]", NULL), 0);
	assert_int_equal(mipart_journal_units_stopped(j, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_true(v[0].change == id && !strcmp(v[0].name, "a.service"));
	free(v);
	assert_int_equal(journal_units_started(j, a, 1), 0);
	assert_int_equal(mipart_journal_units_stopped(j, &v, &n), 0);
	assert_int_equal(n, 0);
	free(v);
	mipart_journal_free(j);
}

/* A unit whose start fails change after change is listed once (the latest change, its error),
 * so that it neither fills the list's cap, hiding a unit a later change left stopped, nor is
 * reported once a change. */
static void test_units_left_once(void **state)
{
	mipart_journal *j = NULL;
	mipart_stopped_unit *v = NULL;
	const char *a[] = { "a.service" };
	int64_t id = 0, last_a = 0;
	size_t n = 0;

	(void)state;
	assert_int_equal(mipart_journal_open(":memory:", &j), 0);
	for (int i = 0; i < 70; i++) {
		assert_int_equal(mipart_journal_begin(j, 0, "again", "[]", "[]", &id), 0);
		assert_int_equal(mipart_journal_set_hooks(j, id, i == 69 ? "{\"stop\":[\"a.service\"],\"restarted\":false,\"left_stopped\":[\"a.service\"],\"start_error\":\"last\"}"
									 : "{\"stop\":[\"a.service\"],\"restarted\":false,\"left_stopped\":[\"a.service\"],\"start_error\":\"earlier\"}"), 0);
		assert_int_equal(mipart_journal_finish(j, id, "done", "[]", NULL), 0);
		last_a = id;
	}
	assert_int_equal(mipart_journal_begin(j, 0, "other", "[]", "[]", &id), 0);
	assert_int_equal(mipart_journal_set_hooks(j, id, "{\"stop\":[\"b.service\"],\"restarted\":false,\"left_stopped\":[\"b.service\"]}"), 0);
	assert_int_equal(mipart_journal_finish(j, id, "done", "[]", NULL), 0);
	assert_int_equal(mipart_journal_units_stopped(j, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_true(v[0].change == last_a && !strcmp(v[0].name, "a.service") && !strcmp(v[0].error, "last"));
	assert_true(v[1].change == id && !strcmp(v[1].name, "b.service"));
	free(v);
	/* a.service runs again: every one of its 70 rows lets it go */
	assert_int_equal(journal_units_started(j, a, 1), 0);
	assert_int_equal(mipart_journal_units_stopped(j, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_true(v[0].change == id && !strcmp(v[0].name, "b.service"));
	free(v);
	mipart_journal_free(j);
}

/* However many rows one flapping unit fills (more than the 256 a look reads), a unit a later
 * change left stopped is listed; the cap keeps the latest changes' units. */
static void test_units_left_newest(void **state)
{
	mipart_journal *j = NULL;
	mipart_stopped_unit *v = NULL;
	int64_t id = 0, last_x = 0;
	size_t n = 0;
	char hooks[200];

	(void)state;
	assert_int_equal(mipart_journal_open(":memory:", &j), 0);
	for (int i = 0; i < 300; i++) {
		assert_int_equal(mipart_journal_begin(j, 0, "again", "[]", "[]", &id), 0);
		assert_int_equal(mipart_journal_set_hooks(j, id, "{\"stop\":[\"x.service\"],\"restarted\":false,\"left_stopped\":[\"x.service\"]}"), 0);
		assert_int_equal(mipart_journal_finish(j, id, "done", "[]", NULL), 0);
		last_x = id;
	}
	assert_int_equal(mipart_journal_begin(j, 0, "later", "[]", "[]", &id), 0);
	assert_int_equal(mipart_journal_set_hooks(j, id, "{\"stop\":[\"y.service\",\"z.service\"],\"restarted\":false,\"left_stopped\":[\"y.service\",\"z.service\"]}"), 0);
	assert_int_equal(mipart_journal_finish(j, id, "done", "[]", NULL), 0);
	assert_int_equal(mipart_journal_units_stopped(j, &v, &n), 0);
	assert_int_equal(n, 3);
	assert_true(v[0].change == last_x && !strcmp(v[0].name, "x.service"));
	assert_true(v[1].change == id && !strcmp(v[1].name, "y.service")); /* the row's order */
	assert_true(v[2].change == id && !strcmp(v[2].name, "z.service"));
	free(v);
	/* 70 more changes, each leaving a unit of its own: the 64 latest are listed */
	for (int i = 0; i < 70; i++) {
		assert_int_equal(mipart_journal_begin(j, 0, "many", "[]", "[]", &id), 0);
		snprintf(hooks, sizeof(hooks), "{\"stop\":[\"u%d.service\"],\"restarted\":false,\"left_stopped\":[\"u%d.service\"]}", i, i);
		assert_int_equal(mipart_journal_set_hooks(j, id, hooks), 0);
		assert_int_equal(mipart_journal_finish(j, id, "done", "[]", NULL), 0);
	}
	assert_int_equal(mipart_journal_units_stopped(j, &v, &n), 0);
	assert_int_equal(n, 64);
	assert_string_equal(v[0].name, "u6.service");
	assert_true(v[63].change == id && !strcmp(v[63].name, "u69.service"));
	free(v);
	mipart_journal_free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capacity), cmocka_unit_test(test_tensor_parallel_all_or_nothing),
		cmocka_unit_test(test_names), cmocka_unit_test(test_name_controls),	 cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_migration), cmocka_unit_test(test_units_left),
		cmocka_unit_test(test_units_left_after_empty_rows),
		cmocka_unit_test(test_units_left_once),
		cmocka_unit_test(test_units_left_newest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
