// SPDX-License-Identifier: MIT
/*
 * The root prefix: every system path mipart touches (/sys, /proc, /dev, /run, /etc/mipart,
 * /var/lib/mipart) is resolved under it, so tests and the simulator never need the real host.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mipart/host.h"
#include "host.h"
#include "sim.h"
#include "util.h"
#include "banned.h"

int mipart_host_new(const char *root, mipart_host **ret_host)
{
	struct mipart_host *h;
	char buf[MIPART_PATH_MAX];
	size_t len;

	if (!root || !*root) {
		buf[0] = '\0';
	} else if (root[0] == '/') {
		if (util_strlcpy(buf, root, sizeof(buf)) >= sizeof(buf))
			return -ENAMETOOLONG;
	} else {
		char cwd[PATH_MAX];

		if (!getcwd(cwd, sizeof(cwd)))
			return -errno;
		if (util_pathf(buf, sizeof(buf), "%s/%s", cwd, root) < 0)
			return -ENAMETOOLONG;
	}
	/* "/" and "dir/" mean the same as "" and "dir" */
	len = strlen(buf);
	while (len > 0 && buf[len - 1] == '/')
		buf[--len] = '\0';
	if (len > MIPART_PATH_MAX / 2)
		return -ENAMETOOLONG;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->root = strdup(buf);
	if (!h->root) {
		free(h);
		return -ENOMEM;
	}
	h->root_len = len;
	*ret_host = h;
	return 0;
}

mipart_host *mipart_host_free(mipart_host *host)
{
	if (!host)
		return NULL;
	free(host->root);
	free(host);
	return NULL;
}

const char *mipart_host_root(const mipart_host *host)
{
	return host->root;
}

int mipart_host_path(const mipart_host *host, const char *path, char *buf, size_t size)
{
	if (path[0] != '/')
		return -EINVAL;
	return util_pathf(buf, size, "%s%s", host->root, path);
}

bool mipart_host_is_simulated(const mipart_host *host)
{
	char path[MIPART_PATH_MAX];

	if (!host->root_len)
		return false;
	if (mipart_host_path(host, "/" SIM_STATE_FILE, path, sizeof(path)) < 0)
		return false;
	return access(path, F_OK) == 0;
}
