// SPDX-License-Identifier: MIT
/*
 * Subprocesses: posix_spawnp with an argv (never a shell string), stdin from /dev/null, output
 * captured up to a cap, and a timeout after which the child is terminated. Used for the driver
 * reload command and external tools such as amd-smi (which may be handed a line on stdin).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mipart/run.h"
#include "subproc.h"
#include "banned.h"

extern char **environ;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int spawn_run_input(char *const argv[], const char *input, unsigned timeout_ms,
		    struct spawn_result *ret)
{
	posix_spawn_file_actions_t fa;
	struct spawn_result res = { 0 };
	int pipefd[2] = { -1, -1 }, infd[2] = { -1, -1 }, r, wstatus = 0;
	long long deadline = now_ms() + timeout_ms, killed_at = 0;
	bool timed_out = false, eof = false;
	pid_t pid;

	if (input && strlen(input) > PIPE_BUF)
		return -E2BIG;
	res.output = malloc(SPAWN_OUTPUT_MAX + 1);
	if (!res.output)
		return -ENOMEM;
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		r = -errno;
		free(res.output);
		return r;
	}
	/* the whole input fits in the pipe buffer (<= PIPE_BUF): written before the child
	 * starts, so neither side waits on the other */
	if (input) {
		ssize_t w = -1;

		r = pipe2(infd, O_CLOEXEC) < 0 ? -errno : 0;
		if (r == 0) {
			w = write(infd[1], input, strlen(input));
			r = w < 0 ? -errno : (size_t)w != strlen(input) ? -EIO : 0;
			close(infd[1]);
		}
		if (r < 0) {
			if (infd[0] >= 0)
				close(infd[0]);
			close(pipefd[0]);
			close(pipefd[1]);
			free(res.output);
			return r;
		}
	}
	posix_spawn_file_actions_init(&fa);
	if (input)
		posix_spawn_file_actions_adddup2(&fa, infd[0], 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (input)
		close(infd[0]);
	if (r != 0) {
		close(pipefd[0]);
		free(res.output);
		return -r;
	}
	while (!eof) {
		struct pollfd p = { pipefd[0], POLLIN, 0 };
		long long left = (killed_at ? killed_at + 2000 : deadline) - now_ms();
		char buf[4096];
		ssize_t n;

		if (left <= 0) {
			if (killed_at) {
				kill(pid, SIGKILL);
				break;
			}
			kill(pid, SIGTERM);
			timed_out = true;
			killed_at = now_ms();
			continue;
		}
		if (poll(&p, 1, (int)(left > 1000 ? 1000 : left)) <= 0)
			continue;
		n = read(pipefd[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			eof = true;
			break;
		}
		if (res.len < SPAWN_OUTPUT_MAX) {
			size_t take = (size_t)n < SPAWN_OUTPUT_MAX - res.len ? (size_t)n
									  : SPAWN_OUTPUT_MAX - res.len;

			memcpy(res.output + res.len, buf, take);
			res.len += take;
			if (take < (size_t)n)
				res.truncated = true;
		} else {
			res.truncated = true;
		}
	}
	close(pipefd[0]);
	/* the pipe closed; the child may still run (it closed its fds): bound the wait too */
	for (;;) {
		pid_t w = waitpid(pid, &wstatus, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			break;
		if (now_ms() > (killed_at ? killed_at + 2000 : deadline)) {
			if (!killed_at) {
				kill(pid, SIGTERM);
				timed_out = true;
				killed_at = now_ms();
			} else {
				kill(pid, SIGKILL);
			}
		}
		usleep(10000);
	}
	res.output[res.len] = '\0';
	res.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
	if (timed_out) {
		free(res.output);
		return -ETIMEDOUT;
	}
	*ret = res;
	return 0;
}

int spawn_run(char *const argv[], unsigned timeout_ms, struct spawn_result *ret)
{
	return spawn_run_input(argv, NULL, timeout_ms, ret);
}

int mipart_run(const char *const argv[], unsigned timeout_ms, int *ret_status, char **ret_output)
{
	struct spawn_result res;
	int r = spawn_run((char *const *)argv, timeout_ms, &res);

	if (r < 0)
		return r;
	*ret_status = res.status;
	if (ret_output)
		*ret_output = res.output;
	else
		free(res.output);
	return 0;
}
