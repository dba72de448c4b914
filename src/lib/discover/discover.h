/* SPDX-License-Identifier: MIT */
#ifndef MIPART_DISCOVER_H
#define MIPART_DISCOVER_H

#include "mipart/topology.h"

/* System paths discovery reads, relative to the root prefix. */
#define SYSFS_PCI_DEVICES "/sys/bus/pci/devices"
#define SYSFS_KFD_TOPOLOGY "/sys/class/kfd/kfd/topology"
#define SYSFS_KFD_PROC "/sys/class/kfd/kfd/proc"
#define SYSFS_DRM_CLASS "/sys/class/drm"

/* amdgpu partition attributes on the PCI device (amdgpu_gfx.c, amdgpu_gmc.c) */
#define ATTR_CURRENT_COMPUTE "current_compute_partition"
#define ATTR_AVAILABLE_COMPUTE "available_compute_partition"
#define ATTR_CURRENT_MEMORY "current_memory_partition"
#define ATTR_AVAILABLE_MEMORY "available_memory_partition"
#define ATTR_SUPPORTED_XCP "compute_partition_config/supported_xcp_configs"

/* Most diagnostics one load keeps; the rest are counted in the last one. */
#define DISCOVER_MAX_DIAG 64
/* Most KFD nodes and GPUs one load accepts (64 GPU nodes of 8 GPUs in CPX, plus CPUs). */
#define DISCOVER_MAX_NODES 512
#define DISCOVER_MAX_GPUS 64

/* procs.c: a process name from the len bytes of /proc/PID/comm into out (size bytes, always
 * terminated, cut to fit): the single line without its newline; "" when the file is not one
 * line. Returns the length kept. */
size_t procs_parse_comm(const char *buf, size_t len, char *out, size_t size);

#endif
