// SPDX-License-Identifier: MIT
/*
 * CDI specs: turn a topology into the JSON document a CDI-enabled container runtime reads from
 * /etc/cdi, and write it there atomically. A device gives a container /dev/kfd and the render
 * nodes of one partition, one GPU or all of them; ROCr inside sees only the GPU nodes whose
 * render node it can open (libhsakmt topology.c: topology_sysfs_check_node_supported), so a
 * partition device is logical index 0 in the container. The format is CDI 0.6.0
 * (cncf-tags/container-device-interface specs-go/config.go; docs/cdi.md lists the sources).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mipart/cdi.h"
#include "mipart/topology.h"
#include "cdi.h"
#include "lock.h"
#include "util.h"
#include "banned.h"

/* Longest env entry mipart writes: "MIPART_PARTITION=" and 8 "63.7," (one GPU's partitions). */
#define CDI_ENV_MAX 128

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool cdi_name_valid(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || !is_alnum(name[0]) || !is_alnum(name[len - 1]))
		return false;
	for (size_t i = 1; i + 1 < len; i++)
		if (!is_alnum(name[i]) && !strchr("_-.:", name[i]))
			return false;
	return true;
}

int cdi_add_device(json_t *devices, json_t *taken, const char *name, json_t *edits)
{
	json_t *dev;

	if (!cdi_name_valid(name))
		return -EINVAL;
	if (json_object_get(taken, name))
		return -EEXIST;
	/* "O" takes a new reference: edits stays the caller's */
	dev = json_pack("{s:s, s:O}", "name", name, "containerEdits", edits);
	if (!dev)
		return -ENOMEM;
	if (json_object_set_new(taken, name, json_true()) < 0) {
		json_decref(dev);
		return -ENOMEM;
	}
	if (json_array_append_new(devices, dev) < 0) {
		json_object_del(taken, name);
		return -ENOMEM;
	}
	return 0;
}

/* A character device node the container may read and write (no mknod). major and minor are left
 * out: the runtime takes them from the node on the host (pkg/cdi/container-edits_unix.go:
 * fillMissingInfo stats hostPath, which defaults to path); /dev/kfd's major is dynamic
 * (kfd_chardev.c: kfd_chardev_init, register_chrdev(0, ...)). */
static int add_node(json_t *nodes, const char *path)
{
	json_t *node = json_pack("{s:s, s:s, s:s}", "path", path, "type", "c", "permissions", "rw");

	return json_array_append_new(nodes, node) < 0 ? -ENOMEM : 0;
}

/* /dev/dri/renderD<minor>: the name DRM gives render minors (drm_sysfs.c, "renderD%d"). */
static int add_render_node(json_t *nodes, int minor)
{
	char path[32];

	if (util_pathf(path, sizeof(path), "/dev/dri/renderD%d", minor) < 0)
		return -ENAMETOOLONG;
	return add_node(nodes, path);
}

static int add_env(json_t *env, const char *name, const char *value)
{
	char buf[CDI_ENV_MAX];

	if (util_pathf(buf, sizeof(buf), "%s=%s", name, value) < 0)
		return -ENAMETOOLONG;
	return json_array_append_new(env, json_string(buf)) < 0 ? -ENOMEM : 0;
}

/* containerEdits: env (when partition or bdf is not NULL), /dev/kfd and the render nodes of
 * parts[0..n). Keys in the order of specs-go/config.go: ContainerEdits. A NULL return is
 * -ENOMEM (or a name too long for its buffer, which the limits rule out). */
static json_t *edits_new(const mipart_partition_info *const *parts, size_t n, bool rocr_zero,
			 const char *partition, const char *bdf)
{
	json_t *e = json_object(), *env = json_array(), *nodes = json_array();
	int r = 0;

	if (!e || !env || !nodes)
		goto fail;
	if (rocr_zero)
		r = add_env(env, "ROCR_VISIBLE_DEVICES", "0");
	if (r == 0 && partition)
		r = add_env(env, "MIPART_PARTITION", partition);
	if (r == 0 && bdf)
		r = add_env(env, "MIPART_GPU_BDF", bdf);
	if (r == 0)
		r = add_node(nodes, "/dev/kfd");
	for (size_t i = 0; r == 0 && i < n; i++)
		r = add_render_node(nodes, parts[i]->render_minor);
	if (r < 0)
		goto fail;
	if (json_array_size(env) && json_object_set(e, "env", env) < 0)
		goto fail;
	if (json_object_set(e, "deviceNodes", nodes) < 0)
		goto fail;
	json_decref(env);
	json_decref(nodes);
	return e;
fail:
	json_decref(e);
	json_decref(env);
	json_decref(nodes);
	return NULL;
}

/* The devices of one GPU: "<gpu>", "<gpu>.<xcp>" each, "<unique_id>-<xcp>" each. Partitions
 * without a render node are left out; the GPU gets no device when none has one. */
static int add_gpu(json_t *devices, json_t *taken, const mipart_topology *t,
		   const mipart_gpu_info *g, const mipart_partition_info **all, size_t *n_all)
{
	const mipart_partition_info *parts[64];
	json_t *pe[64] = { NULL };
	char name[CDI_NAME_MAX], label[16], list[CDI_ENV_MAX];
	size_t n = 0, len = 0;
	json_t *e = NULL;
	/* KFD's unique_id is adev->unique_id, 0 when the SMU reports none (kfd_topology.c:
	 * kfd_topology_add_device, amdgpu_amdkfd_get_unique_id) */
	bool uid = g->unique_id[0] && strspn(g->unique_id, "0") != strlen(g->unique_id);
	int r = 0;

	for (size_t j = 0; j < g->n_partitions && n < ARRAY_SIZE(parts); j++) {
		const mipart_partition_info *p = mipart_topology_gpu_partition(t, g, j);

		if (p && p->render_minor >= 0 && p->xcp >= 0)
			parts[n++] = p;
	}
	if (n == 0)
		return 0;

	list[0] = '\0';
	for (size_t i = 0; i < n && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%u.%d", i ? "," : "",
					g->index, parts[i]->xcp);
	if (len >= sizeof(list))
		return -ENAMETOOLONG;
	e = edits_new(parts, n, false, list, g->bdf[0] ? g->bdf : NULL);
	if (!e)
		return -ENOMEM;
	util_pathf(name, sizeof(name), "%u", g->index);
	r = cdi_add_device(devices, taken, name, e);
	json_decref(e);
	if (r == -EEXIST)
		r = 0;
	if (r < 0)
		return r;

	for (size_t i = 0; i < n && r == 0; i++) {
		all[(*n_all)++] = parts[i];
		util_pathf(label, sizeof(label), "%u.%d", g->index, parts[i]->xcp);
		pe[i] = edits_new(&parts[i], 1, true, label, g->bdf[0] ? g->bdf : NULL);
		if (!pe[i])
			r = -ENOMEM;
		else
			r = cdi_add_device(devices, taken, label, pe[i]);
		if (r == -EEXIST)
			r = 0;
	}
	/* the same edits under the unique-id names; a duplicate or odd unique_id is skipped */
	for (size_t i = 0; i < n && r == 0 && uid; i++) {
		if (util_pathf(name, sizeof(name), "%s-%d", g->unique_id, parts[i]->xcp) < 0)
			continue;
		if (cdi_add_device(devices, taken, name, pe[i]) == -ENOMEM)
			r = -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		json_decref(pe[i]);
	return r;
}

int mipart_cdi_generate(const mipart_topology *t, const mipart_host *host, char **ret_json)
{
	size_t n_parts = mipart_topology_partition_count(t), n_all = 0;
	const mipart_partition_info **all = NULL;
	json_t *spec = NULL, *devices = json_array(), *taken = json_object(), *e = NULL;
	char *text = NULL, *out = NULL;
	size_t len;
	int r = -ENOMEM;

	(void)host; /* the spec names host paths: /dev/..., never under the root prefix */
	all = calloc(n_parts + 1, sizeof(*all));
	if (!all || !devices || !taken)
		goto out;
	for (size_t i = 0; i < mipart_topology_gpu_count(t); i++) {
		r = add_gpu(devices, taken, t, mipart_topology_gpu(t, i), all, &n_all);
		if (r < 0)
			goto out;
	}
	if (n_all == 0) {
		r = -ENODEV;
		goto out;
	}
	r = -ENOMEM;
	e = edits_new(all, n_all, false, NULL, NULL);
	if (!e)
		goto out;
	r = cdi_add_device(devices, taken, "all", e);
	if (r < 0)
		goto out;
	r = -ENOMEM;
	spec = json_pack("{s:s, s:s, s:O}", "cdiVersion", MIPART_CDI_VERSION, "kind",
			 MIPART_CDI_KIND, "devices", devices);
	text = spec ? json_dumps(spec, JSON_INDENT(2)) : NULL;
	if (!text)
		goto out;
	len = strlen(text);
	out = malloc(len + 2);
	if (!out)
		goto out;
	memcpy(out, text, len);
	out[len] = '\n';
	out[len + 1] = '\0';
	*ret_json = out;
	r = 0;
out:
	free(text);
	json_decref(spec);
	json_decref(e);
	json_decref(taken);
	json_decref(devices);
	free(all);
	return r;
}

int mipart_cdi_write(const mipart_host *host, const char *path_or_null, const char *json)
{
	char path[MIPART_PATH_MAX];
	int r;

	/* the temporary is ".mipart-tmp.<pid>": without ".json" a runtime scanning /etc/cdi skips
	 * it (pkg/cdi/spec-dirs.go: scanSpecDirs reads only .json and .yaml) */
	if (path_or_null)
		return util_write_file_durable(path_or_null, json, strlen(json), 0644);
	/* MIPART_CDI_PATH is in MIPART_CDI_DIR, made when missing */
	r = mipart_host_path(host, MIPART_CDI_PATH, path, sizeof(path));
	if (r < 0)
		return r;
	return util_write_file_durable_mkdir(path, json, strlen(json), 0644);
}

int mipart_cdi_refresh(const mipart_host *host, unsigned lock_timeout_ms)
{
	mipart_topology *t = NULL;
	char holder[256];
	char *json = NULL;
	int fd, r;

	fd = lock_acquire(host, lock_timeout_ms, "mipart cdi generate", holder, sizeof(holder));
	if (fd < 0)
		return fd;
	r = mipart_topology_load(host, &t);
	if (r == 0)
		r = mipart_cdi_generate(t, host, &json);
	if (r == 0)
		r = mipart_cdi_write(host, NULL, json);
	free(json);
	mipart_topology_free(t);
	lock_release(fd);
	return r;
}
