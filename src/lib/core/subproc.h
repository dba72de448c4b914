/* SPDX-License-Identifier: MIT */
#ifndef MIPART_SUBPROC_H
#define MIPART_SUBPROC_H

#include <stdbool.h>
#include <stddef.h>

/* Most output kept from a child (stdout and stderr together). */
#define SPAWN_OUTPUT_MAX (64 * 1024)

struct spawn_result {
	int status;	/* exit status (0..255), or 128 + signal */
	char *output;	/* stdout+stderr, NUL-terminated, at most SPAWN_OUTPUT_MAX bytes; owned */
	size_t len;
	bool truncated;
};

/*
 * spawn_run - run argv[0] (PATH search) with argv, no shell, stdin from /dev/null, and wait at
 * most timeout_ms; past it the child gets SIGTERM, then SIGKILL after 2 s, and -ETIMEDOUT is
 * returned. Returns 0 with *ret filled (free ret->output), or -errno when it could not start.
 */
int spawn_run(char *const argv[], unsigned timeout_ms, struct spawn_result *ret);

/*
 * spawn_run_input - spawn_run with input (at most PIPE_BUF bytes, NULL: /dev/null) on the
 * child's stdin, for tools that ask for a confirmation (amd-smi set -M). Returns as spawn_run,
 * or -E2BIG when input is longer.
 */
int spawn_run_input(char *const argv[], const char *input, unsigned timeout_ms,
		    struct spawn_result *ret);

#endif
