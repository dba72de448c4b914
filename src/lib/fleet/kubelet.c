// SPDX-License-Identifier: MIT
/*
 * The kubelet's device manager checkpoint: which device plugin resources are registered on
 * this node and how many devices each offers. The kubelet writes it whenever a plugin registers
 * or an allocation changes (pkg/kubelet/cm/devicemanager/manager.go: writeCheckpoint), as
 * checkpoint.go's Data: {"Data": {"PodDeviceEntries": [...], "RegisteredDevices": {resource:
 * [device ids]}}, "Checksum": N}. Only RegisteredDevices is read; the checksum is the kubelet's
 * own business (a file it is rewriting is read as whatever JSON it holds, or refused).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mipart/kubelet.h"
#include "util.h"
#include "banned.h"

int mipart_kubelet_checkpoint_parse(const char *buf, size_t len, mipart_kubelet_registry *ret)
{
	mipart_kubelet_registry *reg;
	json_t *doc, *devs, *v;
	const char *key;

	if (!buf || !ret)
		return -EINVAL;
	doc = json_loadb(buf, len, 0, NULL);
	devs = json_object_get(json_object_get(doc, "Data"), "RegisteredDevices");
	if (!json_is_object(devs)) {
		json_decref(doc);
		return -EINVAL;
	}
	reg = calloc(1, sizeof(*reg));
	if (!reg) {
		json_decref(doc);
		return -ENOMEM;
	}
	json_object_foreach(devs, key, v) {
		size_t n = json_is_array(v) ? json_array_size(v) : 0;

		if (!strncmp(key, "amd.com/", 8))
			reg->amd_devices += n;
		if (reg->n < MIPART_KUBELET_RESOURCES_MAX && strlen(key) < sizeof(reg->r[0].name)) {
			util_strlcpy(reg->r[reg->n].name, key, sizeof(reg->r[0].name));
			reg->r[reg->n++].devices = n;
		}
	}
	json_decref(doc);
	*ret = *reg;
	free(reg);
	return 0;
}

int mipart_kubelet_registry_load(const mipart_host *host, mipart_kubelet_registry *ret)
{
	char path[MIPART_PATH_MAX], *buf;
	ssize_t n;
	int r;

	if (!host || !ret)
		return -EINVAL;
	r = mipart_host_path(host, MIPART_KUBELET_CHECKPOINT, path, sizeof(path));
	if (r < 0)
		return r;
	buf = malloc(MIPART_KUBELET_CHECKPOINT_MAX + 1);
	if (!buf)
		return -ENOMEM;
	n = util_read_file(path, buf, MIPART_KUBELET_CHECKPOINT_MAX);
	r = n < 0 ? (int)n : mipart_kubelet_checkpoint_parse(buf, (size_t)n, ret);
	free(buf);
	return r;
}

static const mipart_kubelet_resource *find(const mipart_kubelet_registry *reg, const char *name)
{
	for (size_t i = 0; i < reg->n; i++)
		if (!strcmp(reg->r[i].name, name))
			return &reg->r[i];
	return NULL;
}

int mipart_kubelet_partition_resource(const mipart_kubelet_registry *reg, const char *compute,
				      const char *memory, char *buf, size_t size)
{
	char want[64];

	if (!reg || !buf)
		return -EINVAL;
	if (find(reg, "amd.com/gpu")) {
		if (util_strlcpy(buf, "amd.com/gpu", size) >= size)
			return -ENAMETOOLONG;
		return 1;
	}
	if (!compute || !memory || !*compute || !*memory)
		return 0;
	if ((size_t)snprintf(want, sizeof(want), "amd.com/%s_%s", compute, memory) >= sizeof(want))
		return 0;
	for (char *c = want; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	if (!find(reg, want))
		return 0;
	if (util_strlcpy(buf, want, size) >= size)
		return -ENAMETOOLONG;
	return 1;
}
