// SPDX-License-Identifier: MIT
/*
 * mipart's SQLite database (/var/lib/mipart/mipart.db): one file for the change journal and the
 * allocation ledger. WAL so readers never block the writer, a busy timeout so writers queue,
 * STRICT tables, and a schema that migrates forward step by step inside one BEGIN IMMEDIATE
 * transaction; a database written by a newer mipart is refused rather than damaged.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "util.h"
#include "banned.h"

/* Step N brings the schema from version N-1 to N. Never edit a step; add one. */
static const char *const migrations[DB_SCHEMA_VERSION] = {
	/* 1: the change journal */
	"CREATE TABLE IF NOT EXISTS changes ("
	" id INTEGER PRIMARY KEY,"
	" started_at TEXT NOT NULL,"
	" finished_at TEXT,"
	" uid INTEGER NOT NULL,"
	" command TEXT NOT NULL,"
	" before TEXT NOT NULL,"
	" target TEXT NOT NULL,"
	" after TEXT,"
	" state TEXT NOT NULL CHECK (state IN ('running', 'done', 'rolled-back', 'failed', 'recovered')),"
	" step TEXT NOT NULL,"
	" message TEXT"
	") STRICT;"
	"CREATE INDEX IF NOT EXISTS changes_state ON changes (state);",
	/* 2: the allocation ledger: an allocation books memory on one or more partitions */
	"CREATE TABLE allocations ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" model TEXT NOT NULL,"
	" spec TEXT NOT NULL,"
	" created_at TEXT NOT NULL,"
	" uid INTEGER NOT NULL"
	") STRICT;"
	"CREATE TABLE bookings ("
	" allocation INTEGER NOT NULL REFERENCES allocations (id) ON DELETE CASCADE,"
	" bdf TEXT NOT NULL,"
	" xcp INTEGER NOT NULL,"
	" bytes INTEGER NOT NULL CHECK (bytes > 0),"
	" capacity INTEGER NOT NULL CHECK (capacity > 0),"
	" PRIMARY KEY (allocation, bdf, xcp)"
	") STRICT;"
	"CREATE INDEX bookings_partition ON bookings (bdf, xcp);",
	/* 3: which hook units a change stopped (JSON), and the NPS requests recorded in the
	 * driver that no reload has applied yet (current_memory_partition_store only records
	 * them; the driver shows the old mode until the next unload) */
	"ALTER TABLE changes ADD COLUMN hooks TEXT;"
	"CREATE TABLE nps_requests ("
	" bdf TEXT PRIMARY KEY,"
	" mode TEXT NOT NULL,"
	" change INTEGER NOT NULL,"
	" requested_at TEXT NOT NULL"
	") STRICT;",
	/* 4: which loaded instance of the driver recorded an NPS request (the inode of
	 * /sys/module/amdgpu: a reload makes a new one), so that a request an unload did not
	 * apply is known to be gone with the driver that held it */
	"ALTER TABLE nps_requests ADD COLUMN driver TEXT;",
};

int db_err(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -ETIMEDOUT;
	case SQLITE_PERM:
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
		return -EACCES;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	default:
		return -EIO;
	}
}

int db_exec(sqlite3 *db, const char *sql)
{
	return db_err(sqlite3_exec(db, sql, NULL, NULL, NULL));
}

void db_now(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int user_version(sqlite3 *db, int *ret)
{
	sqlite3_stmt *st = NULL;
	int rc, r = db_err(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL));

	if (r < 0)
		return r;
	/* a read can fail where the open did not: a WAL database whose -shm file a reader may
	 * not create opens, then cannot be read (SQLITE_CANTOPEN); that is not "version 0" */
	rc = sqlite3_step(st);
	*ret = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	r = rc == SQLITE_ROW ? 0 : db_err(rc);
	sqlite3_finalize(st);
	return r;
}

/* Read-only, for users who may read the database but not write it (the read verbs of a
 * non-root user): no migration, so the schema must be the current one. */
static int open_readonly(const char *path, sqlite3 **ret)
{
	sqlite3 *db = NULL;
	char uri[4096 * 3 + 32];
	size_t o = 0;
	int r, version = 0;

	/* immutable: a reader without write access cannot take WAL locks or create the -shm
	 * file; it reads what the last writer checkpointed (writers checkpoint as they close) */
	o = (size_t)snprintf(uri, sizeof(uri), "file:");
	for (const char *c = path; *c && o + 4 < sizeof(uri) - 16; c++) {
		if (*c == '%' || *c == '?' || *c == '#')
			o += (size_t)snprintf(uri + o, sizeof(uri) - o, "%%%02x", (unsigned char)*c);
		else
			uri[o++] = *c;
	}
	snprintf(uri + o, sizeof(uri) - o, "?immutable=1");
	r = db_err(sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
				   NULL));
	if (r == 0) {
		sqlite3_busy_timeout(db, 10000);
		r = user_version(db, &version);
	}
	if (r == 0 && version != DB_SCHEMA_VERSION)
		r = version > DB_SCHEMA_VERSION ? -EPROTO : -EACCES; /* a root run migrates it */
	if (r < 0) {
		sqlite3_close(db);
		return r;
	}
	*ret = db;
	return 0;
}

/* Copy at most cap bytes of src to dst (created 0600). -ENOENT when src is missing, -EFBIG
 * past the cap. */
static int copy_file(const char *src, const char *dst, off_t cap)
{
	char buf[65536];
	off_t total = 0;
	int in, out, r = 0;

	in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (in < 0)
		return -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0) {
		r = -errno;
		close(in);
		return r;
	}
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf)), w = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		total += n;
		if (total > cap) {
			r = -EFBIG;
			break;
		}
		while (w < n) {
			ssize_t k = write(out, buf + w, (size_t)(n - w));

			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				r = -errno;
				break;
			}
			w += k;
		}
		if (r < 0)
			break;
	}
	close(in);
	if (close(out) < 0 && r == 0)
		r = -errno;
	return r;
}

/* Most a reader copies of a database it may not open in place (each file). */
#define DB_SNAPSHOT_MAX ((off_t)256 << 20)

/* A reader that may not write beside the database cannot create the -shm file, and without
 * it SQLite cannot read what the write-ahead log holds (sqlite.org/wal.html, "Read-Only
 * Databases"): transactions committed but not yet checkpointed (a writer that is running, or
 * was killed). Read a private copy instead: the database and its log are copied into a
 * directory of this user's, opened there (SQLite replays the log into the copy), and the
 * copy is unlinked at once (the open descriptor keeps it). */
static int open_snapshot(const char *path, sqlite3 **ret)
{
	const char *tmpdir = getenv("TMPDIR");
	char dir[4096], db_copy[4096 + 16], wal[4096 + 8], wal_copy[4096 + 24];
	sqlite3 *db = NULL;
	int r, version = 0;

	if (!tmpdir || !*tmpdir)
		tmpdir = "/tmp";
	if (util_pathf(dir, sizeof(dir), "%s/mipart-db.XXXXXX", tmpdir) < 0 || !mkdtemp(dir))
		return -errno ? -errno : -ENAMETOOLONG;
	snprintf(db_copy, sizeof(db_copy), "%s/db", dir);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	snprintf(wal_copy, sizeof(wal_copy), "%s/db-wal", dir);
	r = copy_file(path, db_copy, DB_SNAPSHOT_MAX);
	if (r == 0) {
		r = copy_file(wal, wal_copy, DB_SNAPSHOT_MAX);
		if (r == -ENOENT)
			r = 0;
	}
	if (r == 0)
		r = db_err(sqlite3_open_v2(db_copy, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
					   NULL));
	if (r == 0)
		r = user_version(db, &version);
	/* the log goes into the copy; the copy becomes a plain database file */
	if (r == 0)
		r = db_exec(db, "PRAGMA journal_mode=DELETE; PRAGMA query_only=1;");
	if (r == 0 && version != DB_SCHEMA_VERSION)
		r = version > DB_SCHEMA_VERSION ? -EPROTO : -ENOENT;
	unlink(wal_copy);
	snprintf(wal_copy, sizeof(wal_copy), "%s/db-shm", dir);
	unlink(wal_copy);
	snprintf(wal_copy, sizeof(wal_copy), "%s/db-journal", dir);
	unlink(wal_copy);
	unlink(db_copy);
	rmdir(dir);
	if (r < 0) {
		sqlite3_close(db);
		return r;
	}
	*ret = db;
	return 0;
}

/* Whether the database has a write-ahead log with frames in it. */
static bool wal_has_frames(const char *path)
{
	char wal[4096 + 8];
	struct stat st;

	snprintf(wal, sizeof(wal), "%s-wal", path);
	return stat(wal, &st) == 0 && st.st_size > 32; /* more than the WAL header */
}

int db_open_reader(const char *path, unsigned timeout_ms, sqlite3 **ret)
{
	sqlite3 *db = NULL;
	int r, version = 0;

	if (access(path, F_OK) < 0)
		return errno == ENOENT ? -ENOENT : -errno; /* nothing recorded yet */
	/* a WAL reader: no write lock, no migration; never waits on a writer's transaction */
	r = db_err(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL));
	if (r == 0) {
		sqlite3_busy_timeout(db, (int)timeout_ms);
		r = user_version(db, &version);
	}
	if (r == 0 && version != DB_SCHEMA_VERSION)
		r = version > DB_SCHEMA_VERSION ? -EPROTO : -ENOENT; /* nothing current to read */
	if (r == -EACCES) {
		/* no write access to the directory for the -shm file: read a private copy when
		 * the log holds transactions, else what was checkpointed */
		sqlite3_close(db);
		return wal_has_frames(path) ? open_snapshot(path, ret) : open_readonly(path, ret);
	}
	if (r < 0) {
		sqlite3_close(db);
		return r;
	}
	*ret = db;
	return 0;
}

int db_open(const char *path, sqlite3 **ret)
{
	sqlite3 *db = NULL;
	int r, version = 0;

	if (strcmp(path, ":memory:")) {
		r = util_mkdir_parent(path);
		if (r < 0)
			return r;
	}
	r = db_err(sqlite3_open_v2(path, &db,
				   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				   NULL));
	if (r < 0)
		goto fail;
	sqlite3_busy_timeout(db, 10000);
	r = db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
	if (r == 0)
		r = db_exec(db, "BEGIN IMMEDIATE");
	if (r == -EACCES && strcmp(path, ":memory:")) {
		/* readable, not writable: the read verbs still work */
		sqlite3_close(db);
		return wal_has_frames(path) ? open_snapshot(path, ret) : open_readonly(path, ret);
	}
	if (r < 0)
		goto fail;
	r = user_version(db, &version);
	if (r == 0 && version > DB_SCHEMA_VERSION)
		r = -EPROTO; /* written by a newer mipart */
	for (int v = version; r == 0 && v < DB_SCHEMA_VERSION; v++)
		r = db_exec(db, migrations[v]);
	if (r == 0 && version < DB_SCHEMA_VERSION) {
		char sql[64];

		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", DB_SCHEMA_VERSION);
		r = db_exec(db, sql);
	}
	if (r == 0)
		r = db_exec(db, "COMMIT");
	else
		db_exec(db, "ROLLBACK");
	if (r < 0)
		goto fail;
	*ret = db;
	return 0;
fail:
	sqlite3_close(db);
	return r;
}
