/* SPDX-License-Identifier: MIT */
#ifndef MIPART_LOCK_H
#define MIPART_LOCK_H

#include <stddef.h>

#include "mipart/host.h"

#define LOCK_PATH "/run/mipart/lock"

/*
 * lock_acquire - take the host-wide writer lock (flock on /run/mipart/lock under the root),
 * waiting at most timeout_ms, and write our pid and what into it for the next one to see.
 * Returns the lock fd, or -ETIMEDOUT with the holder's line in holder (pid and command), or
 * another -errno.
 */
int lock_acquire(const mipart_host *host, unsigned timeout_ms, const char *what, char *holder,
		 size_t holder_size);

/* lock_probe - 1 when a writer holds the lock (its line in holder), 0 when not, -errno. Creates
 * nothing. */
int lock_probe(const mipart_host *host, char *holder, size_t holder_size);

/* lock_release - clear the holder line and drop the lock. Accepts -1. */
void lock_release(int fd);

#endif
