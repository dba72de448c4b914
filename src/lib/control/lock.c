// SPDX-License-Identifier: MIT
/*
 * The host lock: one writer at a time changes partitions. flock() on /run/mipart/lock (under the
 * root prefix) is released by the kernel when the holder dies, so a crash never leaves a stale
 * lock; the file's content only names the holder for the message the next writer prints. The
 * directory (0700) and the file (0600) belong to the writer: a user who could open the file
 * could take a shared lock and block every writer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "util.h"
#include "banned.h"

int lock_acquire(const mipart_host *host, unsigned timeout_ms, const char *what, char *holder,
		 size_t holder_size)
{
	char path[MIPART_PATH_MAX], dir[MIPART_PATH_MAX], line[512];
	struct timespec start, now;
	int fd, n, r, tries = 0;

	if (mipart_host_path(host, LOCK_PATH, path, sizeof(path)) < 0 ||
	    mipart_host_path(host, "/run/mipart", dir, sizeof(dir)) < 0)
		return -ENAMETOOLONG;
	r = util_mkdir_p(dir);
	if (r < 0)
		return r == -EACCES ? -EPERM : r;
	/* only the writer's user may open the lock: a shared flock by anyone who can open it
	 * would hold every writer off (flock(2) needs only a read-only descriptor), so the
	 * directory is 0700 and the file 0600, also when an older mipart made them 0755/0644 */
	if (chmod(dir, 0700) < 0 && errno != EPERM)
		return -errno;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return errno == EACCES ? -EPERM : -errno;
	if (fchmod(fd, 0600) < 0 && errno != EPERM) {
		r = -errno;
		close(fd);
		return r;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		long elapsed;

		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			r = -errno;

			close(fd);
			return r;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		/* three tries at least: a reader's probe (lock_probe) holds the lock for a moment */
		if (elapsed >= (long)timeout_ms && ++tries >= 3) {
			ssize_t k = pread(fd, line, sizeof(line) - 1, 0);

			line[k > 0 ? k : 0] = '\0';
			line[strcspn(line, "\n")] = '\0';
			if (holder && holder_size)
				util_strlcpy(holder, line[0] ? line : "unknown holder", holder_size);
			close(fd);
			return -ETIMEDOUT;
		}
		usleep(timeout_ms ? 50000 : 20000);
	}
	n = snprintf(line, sizeof(line), "pid %ld: %s\n", (long)getpid(), what ? what : "mipart");
	if (ftruncate(fd, 0) == 0 && n > 0)
		(void)!pwrite(fd, line, (size_t)(n < (int)sizeof(line) ? n : (int)sizeof(line) - 1), 0);
	return fd;
}

void lock_release(int fd)
{
	if (fd < 0)
		return;
	(void)!ftruncate(fd, 0);
	close(fd);
}

int lock_probe(const mipart_host *host, char *holder, size_t holder_size)
{
	char path[MIPART_PATH_MAX], line[512];
	int fd, r = 0;

	if (mipart_host_path(host, LOCK_PATH, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	/* a shared lock is refused while a writer holds the exclusive one */
	if (flock(fd, LOCK_SH | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			r = -errno;
		} else {
			ssize_t k = pread(fd, line, sizeof(line) - 1, 0);

			line[k > 0 ? k : 0] = '\0';
			line[strcspn(line, "\n")] = '\0';
			if (holder && holder_size)
				util_strlcpy(holder, line, holder_size);
			r = 1;
		}
	}
	close(fd);
	return r;
}
