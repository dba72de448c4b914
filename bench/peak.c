// SPDX-License-Identifier: MIT
/*
 * peak [-n RUNS] [-o FILE] [--] COMMAND [ARG...]: runs COMMAND (posix_spawnp with an argv, no
 * shell) RUNS times, one after the other, and prints one line per run: the wall time from spawn
 * to reap in nanoseconds and the peak resident set of the child in KiB (wait4 rusage ru_maxrss,
 * which Linux reports in kilobytes: getrusage(2)). The child's standard output goes to FILE
 * (default /dev/null); its standard error is inherited. Exits 1 when a run cannot be spawned or
 * does not exit 0, so bench/run.sh can tell "could not run" from a slow run.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "banned.h"

extern char **environ;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void usage(void)
{
	fprintf(stderr, "usage: peak [-n RUNS] [-o FILE] [--] COMMAND [ARG...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	posix_spawn_file_actions_t fa;
	const char *out = "/dev/null";
	unsigned long runs = 1;
	int i = 1, r = 0;

	for (; i < argc && argv[i][0] == '-'; i++) {
		char *end;

		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "-n")) {
			errno = 0;
			runs = strtoul(argv[++i], &end, 10);
			if (errno || *end || runs == 0 || runs > 1000000)
				usage();
		} else if (!strcmp(argv[i], "-o")) {
			out = argv[++i];
		} else {
			usage();
		}
	}
	if (i >= argc)
		usage();
	if (posix_spawn_file_actions_init(&fa) ||
	    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out, O_WRONLY | O_CREAT | O_TRUNC,
					     0644)) {
		fprintf(stderr, "peak: cannot set up the child's output\n");
		return 1;
	}
	for (unsigned long k = 0; k < runs; k++) {
		struct rusage ru;
		long long t0, t1;
		int status;
		pid_t pid;

		t0 = now_ns();
		r = posix_spawnp(&pid, argv[i], &fa, NULL, argv + i, environ);
		if (r) {
			fprintf(stderr, "peak: cannot run '%s': %s\n", argv[i], strerror(r));
			r = 1;
			break;
		}
		while (wait4(pid, &status, 0, &ru) < 0)
			if (errno != EINTR) {
				fprintf(stderr, "peak: wait4: %s\n", strerror(errno));
				return 1;
			}
		t1 = now_ns();
		printf("%lld %ld\n", t1 - t0, ru.ru_maxrss);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "peak: '%s' did not exit 0 (status 0x%x)\n", argv[i],
				status);
			r = 1;
			break;
		}
	}
	posix_spawn_file_actions_destroy(&fa);
	return r;
}
