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
	/* load the driver when it is out (modprobe amdgpu); NULL: not supported */
	int (*load)(struct mipart_backend *b, char **ret_output);
	void (*release)(struct mipart_backend *b);	/* frees b->priv; NULL: nothing to free */
	bool parallel;	/* write_attr may run for several GPUs at once (different threads) */
};

struct mipart_backend {
	const struct backend_ops *ops;
	const mipart_host *host;
	const char *unload[MIPART_RELOAD_ARGV_MAX + 1];
	const char *load[MIPART_RELOAD_ARGV_MAX + 1];
	unsigned timeout_ms;
	bool default_reload; /* the reload commands are modprobe's, which act on this machine */
	void *priv;			/* the backend's own state (ops->release frees it) */
	char *output;			/* a tool's output on the last failure, or NULL; owned */
};

extern const struct backend_ops backend_amdsmi_ops;

/*
 * backend_reload_modprobe - run the unload command, then the load command (by default
 * `modprobe -r amdgpu`, `modprobe amdgpu`). Returns 0, -EBUSY (module in use), -ENOENT,
 * -ETIMEDOUT, -EIO (a command failed; its output in *ret_output when not NULL, owned by the
 * caller).
 */
int backend_reload_modprobe(struct mipart_backend *b, char **ret_output);
/* backend_load_modprobe - run the load command only. Returns as backend_reload_modprobe. */
int backend_load_modprobe(struct mipart_backend *b, char **ret_output);

/*
 * backend_amdsmi_init - set up the amd-smi backend of b: path is the program (NULL: "amd-smi"
 * from PATH). Returns 0, -ENOENT (no such executable), -ENOMEM.
 */
int backend_amdsmi_init(struct mipart_backend *b, const char *path);

/*
 * backend_amdsmi_parse - what the amd-smi backend makes of a command's output (for
 * tests/fuzz/): the devices of `amd-smi list --json` (0 with their number in *ret_n, -EIO when
 * there is no such list, -ENOMEM), and in *ret_error the errno a failed `set` printing it means.
 */
int backend_amdsmi_parse(const char *out, size_t *ret_n, int *ret_error);

#endif
