/* SPDX-License-Identifier: MIT */
#ifndef MIPART_DB_H
#define MIPART_DB_H

#include <sqlite3.h>
#include <stdint.h>

/* The current schema version (PRAGMA user_version); db.c lists each step. */
#define DB_SCHEMA_VERSION 2

/*
 * db_open - open (creating it and its directory) mipart's database at path, ":memory:" for
 * tests: WAL, busy timeout 10 s, foreign keys on, schema migrated to DB_SCHEMA_VERSION in one
 * BEGIN IMMEDIATE transaction. -EPROTO when a newer mipart wrote it, -EIO, -EACCES, -ENOMEM.
 */
int db_open(const char *path, sqlite3 **ret);

/* sqlite result code -> -errno (BUSY/LOCKED -> -ETIMEDOUT, CONSTRAINT -> -EEXIST). */
int db_err(int rc);

/* Run SQL with no result rows. */
int db_exec(sqlite3 *db, const char *sql);

/* "2026-11-25T16:07:43Z" */
void db_now(char *buf, size_t size);

#endif
