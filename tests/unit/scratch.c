// SPDX-License-Identifier: MIT
/* Scratch directories shared by the unit tests: made on tmpfs when there is one, removed whole. */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "scratch.h"

char *scratch_mkdtemp(char *buf, size_t size, const char *name)
{
	const char *base = getenv("TMPDIR");
	int n;

	if (access("/dev/shm", W_OK | X_OK) == 0)
		base = "/dev/shm";
	else if (!base || !*base)
		base = "/tmp";
	n = snprintf(buf, size, "%s/mipart-test-%s.XXXXXX", base, name);
	if (n < 0 || (size_t)n >= size)
		return NULL;
	return mkdtemp(buf);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

void scratch_remove(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int scratch_setup(void **state)
{
	struct scratch_dir *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	if (!scratch_mkdtemp(s->dir, sizeof(s->dir), program_invocation_short_name)) {
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

int scratch_teardown(void **state)
{
	struct scratch_dir *s = *state;

	scratch_remove(s->dir);
	free(s);
	return 0;
}
