// SPDX-License-Identifier: MIT
/*
 * The backends behind include/mipart/backend.h. sysfs: open the attribute under the root with
 * O_WRONLY and write the mode name, as `echo CPX > .../current_compute_partition` does (the
 * kernel's store functions: amdgpu_gfx.c amdgpu_gfx_set_compute_partition, amdgpu_gmc.c
 * current_memory_partition_store); reload by running `modprobe -r amdgpu` and `modprobe amdgpu`
 * (the order the amd-smi "GPU partitioning" doc gives). sim: the simulated driver. amd-smi:
 * backend-amdsmi.c, with the same reload.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mipart/sim.h"
#include "backend.h"
#include "discover.h"
#include "host.h"
#include "subproc.h"
#include "util.h"
#include "banned.h"

static int sysfs_write_attr(struct mipart_backend *b, const char *bdf, const char *attr,
			    const char *value)
{
	char rel[256], path[MIPART_PATH_MAX], data[32];
	int n;

	if (util_pathf(rel, sizeof(rel), SYSFS_PCI_DEVICES "/%s/%s", bdf, attr) < 0 ||
	    mipart_host_path(b->host, rel, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	n = snprintf(data, sizeof(data), "%s\n", value);
	if (n < 0 || (size_t)n >= sizeof(data))
		return -EINVAL;
	/* sysfs takes the whole value in one write; a short write is a failure */
	return util_write_attr(path, data, (size_t)n);
}

static int run_reload_cmd(struct mipart_backend *b, const char *const *argv, char **ret_output)
{
	struct spawn_result res;
	int r = spawn_run((char *const *)argv, b->timeout_ms, &res);

	if (r < 0)
		return r == -ENOENT ? -ENOENT : r;
	if (res.status != 0) {
		/* modprobe: "Module amdgpu is in use" */
		r = strstr(res.output, "in use") ? -EBUSY : -EIO;
		if (ret_output)
			*ret_output = res.output;
		else
			free(res.output);
		return r;
	}
	free(res.output);
	return 0;
}

int backend_reload_modprobe(struct mipart_backend *b, char **ret_output)
{
	int r;

	/* a captured tree under a root prefix has no driver: modprobe would reload this
	 * machine's amdgpu (the caller must name the commands for such a tree). A simulated root
	 * with a tool backend (amd-smi) reloads with the tools it is given, fakes in tests. */
	if (b->default_reload && mipart_host_root(b->host)[0] && !mipart_host_is_simulated(b->host))
		return -EOPNOTSUPP;
	r = run_reload_cmd(b, b->unload, ret_output);

	if (r < 0)
		return r;
	return run_reload_cmd(b, b->load, ret_output);
}

int backend_load_modprobe(struct mipart_backend *b, char **ret_output)
{
	if (b->default_reload && mipart_host_root(b->host)[0] && !mipart_host_is_simulated(b->host))
		return -EOPNOTSUPP;
	return run_reload_cmd(b, b->load, ret_output);
}

static const struct backend_ops sysfs_ops = {
	.version = BACKEND_OPS_VERSION,
	.name = "sysfs",
	.write_attr = sysfs_write_attr,
	.reload = backend_reload_modprobe,
	.load = backend_load_modprobe,
	/* one open/write/close per call: the kernel serialises per device */
	.parallel = true,
};

static int sim_write(struct mipart_backend *b, const char *bdf, const char *attr, const char *value)
{
	return mipart_sim_write_attr(mipart_host_root(b->host), bdf, attr, value);
}

static int sim_reload(struct mipart_backend *b, char **ret_output)
{
	return mipart_sim_reload(mipart_host_root(b->host));
}

static int sim_load(struct mipart_backend *b, char **ret_output)
{
	return mipart_sim_load_driver(mipart_host_root(b->host));
}

static const struct backend_ops sim_ops = {
	.version = BACKEND_OPS_VERSION,
	.name = "sim",
	.write_attr = sim_write,
	.reload = sim_reload,
	.load = sim_load,
	/* the simulated driver locks per device for the switch itself (sim-driver.c) */
	.parallel = true,
};

static int copy_argv(const char **dst, const char *const *src, const char *const *def)
{
	size_t i;

	if (!src)
		src = def;
	for (i = 0; src[i]; i++) {
		if (i == MIPART_RELOAD_ARGV_MAX)
			return -E2BIG;
		dst[i] = src[i];
	}
	if (i == 0)
		return -EINVAL;
	dst[i] = NULL;
	return 0;
}

int mipart_backend_open(const mipart_host *host, const mipart_backend_options *o,
			mipart_backend **ret)
{
	static const char *const def_unload[] = { "modprobe", "-r", "amdgpu", NULL };
	static const char *const def_load[] = { "modprobe", "amdgpu", NULL };
	static const mipart_backend_options none = { 0 };
	const char *name;
	struct mipart_backend *b;
	int r;

	if (!o)
		o = &none;
	name = o->name && strcmp(o->name, "auto") ? o->name
		   : mipart_host_is_simulated(host) ? "sim"
						     : "sysfs";
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->host = host;
	b->timeout_ms = o->timeout_ms ? o->timeout_ms : 300000;
	if (!strcmp(name, "sysfs")) {
		b->ops = &sysfs_ops;
	} else if (!strcmp(name, "sim") && mipart_host_is_simulated(host)) {
		b->ops = &sim_ops;
	} else if (!strcmp(name, "amd-smi")) {
		b->ops = &backend_amdsmi_ops;
	} else {
		free(b);
		return -EINVAL;
	}
	b->default_reload = !o->unload_argv && !o->load_argv;
	r = copy_argv(b->unload, o->unload_argv, def_unload);
	if (r == 0)
		r = copy_argv(b->load, o->load_argv, def_load);
	if (r == 0 && b->ops == &backend_amdsmi_ops)
		r = backend_amdsmi_init(b, o->amdsmi_path);
	if (r < 0) {
		free(b);
		return r;
	}
	*ret = b;
	return 0;
}

mipart_backend *mipart_backend_free(mipart_backend *b)
{
	if (!b)
		return NULL;
	if (b->ops->release)
		b->ops->release(b);
	free(b->output);
	free(b);
	return NULL;
}

const char *mipart_backend_name(const mipart_backend *b)
{
	return b->ops->name;
}

int mipart_backend_set_compute(mipart_backend *b, const char *bdf, mipart_compute_mode mode)
{
	if (mode < 0 || mode >= MIPART_COMPUTE_MODE_COUNT)
		return -EINVAL;
	return b->ops->write_attr(b, bdf, "current_compute_partition", mipart_compute_mode_name(mode));
}

int mipart_backend_request_memory(mipart_backend *b, const char *bdf, mipart_memory_mode mode)
{
	if (mode == MIPART_MEMORY_UNKNOWN)
		return -EINVAL;
	return b->ops->write_attr(b, bdf, "current_memory_partition", mipart_memory_mode_name(mode));
}

int mipart_backend_reload(mipart_backend *b, char **ret_output)
{
	return b->ops->reload(b, ret_output);
}

int mipart_backend_load(mipart_backend *b, char **ret_output)
{
	return b->ops->load ? b->ops->load(b, ret_output) : -EOPNOTSUPP;
}

bool mipart_backend_parallel(const mipart_backend *b)
{
	return b->ops->parallel;
}

const char *mipart_backend_last_output(const mipart_backend *b)
{
	return b->output;
}
