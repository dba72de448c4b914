/* SPDX-License-Identifier: MIT */
/*
 * What the kubelet knows about device plugins on this node: the resources they registered and
 * how many devices each offers, from the device manager's checkpoint. Used to pick the resource
 * a pod asks for (k8s-pod) and to check that the plugin enumerated the partitions the host has
 * now (doctor). See docs/kubernetes.md.
 */
#ifndef MIPART_KUBELET_H
#define MIPART_KUBELET_H

#include <stddef.h>

#include "host.h"

/* The kubelet's device manager checkpoint (pkg/kubelet/cm/devicemanager/manager.go:
 * kubeletDeviceManagerCheckpoint "kubelet_internal_checkpoint" in the plugins directory
 * /var/lib/kubelet/device-plugins/), under the host root. */
#define MIPART_KUBELET_CHECKPOINT "/var/lib/kubelet/device-plugins/kubelet_internal_checkpoint"
#define MIPART_KUBELET_CHECKPOINT_MAX (4u << 20)	/* bytes read at most */
#define MIPART_KUBELET_RESOURCES_MAX 64		/* resources kept */

typedef struct mipart_kubelet_resource {
	char name[254];		/* "amd.com/gpu", "amd.com/cpx_nps4" */
	size_t devices;		/* device ids registered */
} mipart_kubelet_resource;

typedef struct mipart_kubelet_registry {
	mipart_kubelet_resource r[MIPART_KUBELET_RESOURCES_MAX];
	size_t n;		/* resources in r */
	size_t amd_devices;	/* devices of every amd.com/ resource, those past r too */
} mipart_kubelet_registry;

/*
 * mipart_kubelet_checkpoint_parse - the registered resources of a checkpoint's text
 * (checkpoint.go Data: {"Data": {"PodDeviceEntries": [...], "RegisteredDevices":
 * {"<resource>": ["<device id>", ...]}}, "Checksum": N}). Returns 0, or -EINVAL (not JSON, or no
 * Data.RegisteredDevices object); *ret is written only on success.
 */
int mipart_kubelet_checkpoint_parse(const char *buf, size_t len, mipart_kubelet_registry *ret);

/*
 * mipart_kubelet_registry_load - the checkpoint of host (MIPART_KUBELET_CHECKPOINT under its
 * root). Returns 0, -ENOENT (no checkpoint: not a Kubernetes node), -EFBIG, -EINVAL, -ENOMEM,
 * or the -errno of the read.
 */
int mipart_kubelet_registry_load(const mipart_host *host, mipart_kubelet_registry *ret);

/*
 * mipart_kubelet_partition_resource - the resource a pod asks for to get partitions in compute
 * and memory mode (names as mipart_compute_mode_name: "CPX", "NPS4"): "amd.com/gpu" when AMD's
 * plugin registered it (resource_naming_strategy single), else "amd.com/<compute>_<memory>" in
 * lower case when registered (strategy mixed: ROCm/k8s-device-plugin, "resource naming
 * strategy"). compute and memory may be NULL (only "amd.com/gpu" is looked for). Returns 1 and
 * the name in buf, 0 when no such resource is registered, -ENAMETOOLONG when buf is too small.
 */
int mipart_kubelet_partition_resource(const mipart_kubelet_registry *reg, const char *compute,
				      const char *memory, char *buf, size_t size);

#endif
