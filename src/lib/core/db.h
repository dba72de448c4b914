/* SPDX-License-Identifier: MIT */
#ifndef MIPART_DB_H
#define MIPART_DB_H

#include <sqlite3.h>
#include <stdint.h>

/* The current schema version (PRAGMA user_version); db.c lists each step. */
#define DB_SCHEMA_VERSION 4

/*
 * db_open - open (creating it and its directory) mipart's database at path, ":memory:" for
 * tests: WAL, busy timeout 10 s, foreign keys on, schema migrated to DB_SCHEMA_VERSION in one
 * BEGIN IMMEDIATE transaction. -EPROTO when a newer mipart wrote it, -EIO, -EACCES, -ENOMEM.
 */
int db_open(const char *path, sqlite3 **ret);

/*
 * db_open_reader - open an existing database for reading only: a WAL reader that takes no write
 * lock and does not migrate, with a busy timeout of timeout_ms (readers wait only while a
 * checkpoint or recovery runs); when the directory is not writable, the immutable read of
 * what was checkpointed. -ENOENT when the file is missing or its schema is older than this
 * mipart's (a writer migrates it), -EPROTO when newer, -EACCES, -EIO.
 */
int db_open_reader(const char *path, unsigned timeout_ms, sqlite3 **ret);

/* sqlite result code -> -errno (BUSY/LOCKED -> -ETIMEDOUT, CONSTRAINT -> -EEXIST). */
int db_err(int rc);

/* Run SQL with no result rows. */
int db_exec(sqlite3 *db, const char *sql);

/* "2026-11-25T16:07:43Z" */
void db_now(char *buf, size_t size);

#endif
