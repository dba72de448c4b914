/* SPDX-License-Identifier: MIT */
/*
 * Backends: the lowest layer of control, the only one that differs between a real host and a
 * simulated one. A backend writes a partition attribute of a GPU and reloads the driver.
 * "sysfs" writes /sys (under the root prefix) and runs a reload command; "sim" calls the
 * simulated driver of a root made by `mipart sim create`; "amd-smi" runs `amd-smi set` and
 * the same reload command as "sysfs" (docs/control.md, "amd-smi backend").
 */
#ifndef MIPART_BACKEND_H
#define MIPART_BACKEND_H

#include <stdbool.h>

#include "host.h"
#include "mode.h"

typedef struct mipart_backend mipart_backend;

/* Longest reload command, in words. */
#define MIPART_RELOAD_ARGV_MAX 16

typedef struct mipart_backend_options {
	const char *name;	/* "sysfs", "sim", "amd-smi"; "auto" (NULL): "sim" on a
				 * simulated root, else "sysfs" */
	/* sysfs backend: commands run for a driver reload, each a NULL-terminated argv; NULL
	 * means {"modprobe", "-r", "amdgpu"} then {"modprobe", "amdgpu"} */
	const char *const *unload_argv;
	const char *const *load_argv;
	unsigned timeout_ms;	/* per command; 0 means 300 s */
	const char *amdsmi_path; /* amd-smi backend: the program; NULL: "amd-smi" from PATH */
} mipart_backend_options;

/*
 * mipart_backend_open - a backend for host. Returns 0 and *ret (free with mipart_backend_free),
 * -EINVAL (unknown name, or "sim" on a root that is not simulated), -ENOENT ("amd-smi": the
 * program is not an executable file, or not found in PATH), -ENOMEM.
 */
int mipart_backend_open(const mipart_host *host, const mipart_backend_options *opts,
			mipart_backend **ret);
mipart_backend *mipart_backend_free(mipart_backend *b);

/* "sysfs", "sim" or "amd-smi". Static string. */
const char *mipart_backend_name(const mipart_backend *b);

/*
 * mipart_backend_set_compute / mipart_backend_request_memory - write the attribute of the GPU
 * at bdf. Returns 0 or the driver's answer: -EINVAL, -EBUSY, -EOPNOTSUPP, -EIO, -EPERM (needs
 * root, or the GPU is in reset), -ENOENT (no such attribute; amd-smi: the program vanished);
 * amd-smi also -ETIMEDOUT (no answer within timeout_ms) and -ENODEV (amd-smi does not list
 * the GPU). A failed amd-smi command leaves its output in mipart_backend_last_output().
 */
int mipart_backend_set_compute(mipart_backend *b, const char *bdf, mipart_compute_mode mode);
int mipart_backend_request_memory(mipart_backend *b, const char *bdf, mipart_memory_mode mode);

/*
 * mipart_backend_reload - unload and load the amdgpu driver. Returns 0, -EBUSY (the module is
 * in use), -ETIMEDOUT, -EIO (a command failed; its output in *ret_output when not NULL, owned
 * by the caller), -EPERM.
 */
int mipart_backend_reload(mipart_backend *b, char **ret_output);

/*
 * mipart_backend_load - load the amdgpu driver when it is out (`modprobe amdgpu`, the
 * configured load command; loading a loaded module does nothing). Returns as reload, and
 * -EOPNOTSUPP for a captured tree without a configured load command.
 */
int mipart_backend_load(mipart_backend *b, char **ret_output);

/*
 * mipart_backend_parallel - whether compute writes of different GPUs may run at the same time
 * (sysfs, sim: yes; amd-smi: no, its device list and output are one per backend).
 */
bool mipart_backend_parallel(const mipart_backend *b);

/*
 * mipart_backend_last_output - what the tool behind b printed when its last command failed
 * (amd-smi, at most 64 KiB), or NULL (none failed, or the backend runs no tool). Owned by b;
 * valid until the next call on b.
 */
const char *mipart_backend_last_output(const mipart_backend *b);

#endif
