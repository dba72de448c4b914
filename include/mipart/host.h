/* SPDX-License-Identifier: MIT */
/*
 * The host mipart works on: a root prefix under which every system path is resolved
 * (/sys, /proc, /dev, /run, /etc/mipart, /var/lib/mipart), like `systemd-tmpfiles --root`.
 * An empty root means the real host.
 */
#ifndef MIPART_HOST_H
#define MIPART_HOST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct mipart_host mipart_host;

/* Longest path mipart builds; longer ones are refused with -ENAMETOOLONG. */
#define MIPART_PATH_MAX 4096

/*
 * mipart_host_new - a host rooted at `root` (NULL or "" or "/" for the real host).
 * The root need not exist yet. Returns 0 and a new host in *ret_host (free with
 * mipart_host_free), -EINVAL for a relative root that cannot be made absolute,
 * -ENAMETOOLONG, -ENOMEM.
 */
int mipart_host_new(const char *root, mipart_host **ret_host);

/* mipart_host_free - frees the host; accepts NULL; returns NULL. */
mipart_host *mipart_host_free(mipart_host *host);

/* The root prefix without a trailing slash ("" for the real host). Owned by host. */
const char *mipart_host_root(const mipart_host *host);

/*
 * mipart_host_path - resolve an absolute system path ("/sys/bus/pci") under the root into buf.
 * Returns the length, or -EINVAL if path is not absolute, -ENAMETOOLONG if it does not fit.
 */
int mipart_host_path(const mipart_host *host, const char *path, char *buf, size_t size);

/*
 * mipart_host_is_simulated - whether the root holds a simulated host (the marker file
 * written by `mipart sim create`); writes to partition attributes then go to the
 * simulated driver.
 */
bool mipart_host_is_simulated(const mipart_host *host);

#endif
