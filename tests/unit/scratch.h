/* SPDX-License-Identifier: MIT */
/* Scratch directories for the unit tests (scratch.c). */
#ifndef MIPART_TEST_SCRATCH_H
#define MIPART_TEST_SCRATCH_H

#include <stddef.h>

/*
 * mkdtemp a scratch directory "mipart-test-<name>.XXXXXX" in /dev/shm when it is writable (a
 * simulated host is a thousand small files: tmpfs keeps the suite fast), else in $TMPDIR or
 * /tmp. Returns buf or NULL.
 */
char *scratch_mkdtemp(char *buf, size_t size, const char *name);

/* Remove a scratch directory and everything in it (never following links). */
void scratch_remove(const char *dir);

/* The state of a cmocka test that needs only a scratch directory. */
struct scratch_dir {
	char dir[128];
};

/* cmocka setup/teardown: a new scratch directory per test (named after the test program),
 * removed after it. */
int scratch_setup(void **state);
int scratch_teardown(void **state);

#endif
