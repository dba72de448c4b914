/* SPDX-License-Identifier: MIT */
#ifndef MIPART_DISCOVER_H
#define MIPART_DISCOVER_H

#include <stdbool.h>
#include <stdint.h>

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

/* procs.c: whether fds a and b of process pid are one open file description (kcmp(2)
 * KCMP_FILE): 1 yes, 0 no, -errno when kcmp cannot tell (-ENOSYS, -EPERM, -EBADF, -ESRCH). */
int procs_same_file(int pid, int a, int b);

/* procs.c: a process name from the len bytes of /proc/PID/comm into out (size bytes, always
 * terminated, cut to fit): the single line without its newline; "" when the file is not one
 * line. Returns the length kept. */
size_t procs_parse_comm(const char *buf, size_t len, char *out, size_t size);

/* fdinfo.c: caps on one /proc/PID/fdinfo/FD file (amdgpu prints about 40 lines of about 40
 * bytes: drm_show_fdinfo, amdgpu_show_fdinfo) */
#define FDINFO_MAX_BYTES 8192
#define FDINFO_MAX_LINES 256
#define FDINFO_MAX_LINE 256

/* What one DRM fdinfo file says (Documentation/gpu/drm-usage-stats.rst). Sizes in bytes, -1
 * where the file does not say. */
struct procs_fdinfo {
	char driver[32];	/* drm-driver */
	char pdev[20];		/* drm-pdev, "0000:05:00.0", or "" */
	uint64_t client_id;	/* drm-client-id: one per DRM file; several fds can share one */
	bool has_client_id;
	/* pasid: the PASID of the DRM file's GPU VM, one per open of the render node
	 * (amdgpu_kms.c: amdgpu_driver_open_kms allocates an amdgpu_fpriv and a PASID for its
	 * VM each time; 0 when none was left, "No more PASIDs available!"); printed by every
	 * amdgpu_show_fdinfo, before drm-client-id existed too. 0: not printed, or none. */
	uint32_t pasid;
	int64_t vram;		/* resident VRAM: drm-resident-vram, else drm-memory-vram */
	int64_t vram_total;	/* VRAM asked for: drm-total-vram, else amd-requested-vram */
	int64_t vram_evicted;	/* amd-evicted-vram: buffers meant for VRAM that are not there */
	int64_t gtt;		/* drm-resident-gtt, else drm-memory-gtt */
	uint64_t engine_ns;	/* the sum of every drm-engine-<name> (ns busy), saturating */
	unsigned lines;
};

/* Empty: no driver, every size -1. */
void procs_fdinfo_init(struct procs_fdinfo *f);

/*
 * procs_parse_fdinfo - parse the len bytes of one /proc/PID/fdinfo/FD file. Returns 0 and *ret
 * for a DRM file, -ENOENT when the file is well formed but names no DRM driver (not a DRM fd),
 * -E2BIG past FDINFO_MAX_BYTES, FDINFO_MAX_LINES or a line of FDINFO_MAX_LINE bytes, -ERANGE
 * for a size past INT64_MAX bytes, -EBADMSG for a line that is not "key: value" (a NUL, no
 * colon, whitespace in the key), a value of a known key that is not of its type, or a known
 * key given twice. *ret is untouched on failure.
 */
int procs_parse_fdinfo(const char *buf, size_t len, struct procs_fdinfo *ret);

#endif
