/* SPDX-License-Identifier: MIT */
#ifndef MIPART_LIB_BACKEND_H
#define MIPART_LIB_BACKEND_H

#include "mipart/backend.h"

#define BACKEND_OPS_VERSION 1

/* One backend implementation (libgit2 git_odb_backend, sqlite3_vfs). */
struct backend_ops {
	unsigned version;
	const char *name;
	int (*write_attr)(struct mipart_backend *b, const char *bdf, const char *attr,
			  const char *value);
	int (*reload)(struct mipart_backend *b, char **ret_output);
};

struct mipart_backend {
	const struct backend_ops *ops;
	const mipart_host *host;
	const char *unload[MIPART_RELOAD_ARGV_MAX + 1];
	const char *load[MIPART_RELOAD_ARGV_MAX + 1];
	unsigned timeout_ms;
};

#endif
