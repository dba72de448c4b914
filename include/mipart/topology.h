/* SPDX-License-Identifier: MIT */
/*
 * Discovery: every AMD GPU of a host and its partitions (logical devices), read from amdgpu
 * sysfs and the KFD topology exactly as the kernel writes them. See docs/discovery.md.
 *
 * A topology is a snapshot: load it, read it, free it. Problems with single files do not fail
 * the load; they are recorded as diagnostics ("cannot parse '...': ...") for the caller to
 * show, and the affected fields are left unknown.
 */
#ifndef MIPART_TOPOLOGY_H
#define MIPART_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host.h"
#include "mode.h"

typedef struct mipart_topology mipart_topology;

/* Where the modes of a GPU came from. */
typedef enum mipart_mode_source {
	MIPART_MODE_SOURCE_NONE = 0,	/* nothing says (no partition files, no KFD nodes) */
	MIPART_MODE_SOURCE_SYSFS,	/* the amdgpu partition attribute files */
	MIPART_MODE_SOURCE_INFERRED,	/* derived from the KFD nodes of the GPU */
} mipart_mode_source;

/* One logical device (partition, XCP) of a GPU. Unknown numbers are -1. */
typedef struct mipart_partition_info {
	unsigned index;		/* global logical index: order of GPU nodes in the KFD topology */
	unsigned gpu;		/* index of the parent GPU */
	int xcp;		/* XCP index within the parent (0..7) */
	int render_minor;	/* N of /dev/dri/renderDN */
	int kfd_node;		/* N of .../kfd/topology/nodes/N */
	int64_t gpu_id;		/* KFD gpu_id */
	int num_xcc;
	int compute_units;
	int64_t memory_bytes;	/* KFD mem_banks size_in_bytes (VRAM of this partition) */
	char drm_device[64];	/* "0000:05:00.0" for XCP 0, "amdgpu_xcp_3" for a secondary one */
	char unique_id[24];	/* KFD unique_id of this node, hex; per partition outside SPX on
				 * current drivers, so it changes with the compute mode; "" if unknown */
} mipart_partition_info;

/* One physical GPU. Unknown numbers are -1, unknown strings "". */
typedef struct mipart_gpu_info {
	unsigned index;		/* order by PCI address */
	char bdf[16];		/* "0000:05:00.0" */
	int vendor_id;
	int device_id;
	const char *product;	/* "MI300X", ..., or "unknown"; static string */
	bool partitioning;	/* the product (or driver) supports partition modes */
	bool is_apu;
	bool is_vf;		/* an SR-IOV virtual function (PCI id): modes are read-only */
	int64_t gfx_target;	/* KFD gfx_target_version, e.g. 90402 */
	char unique_id[24];	/* hex, the PCI device's unique_id attribute (stable across mode
				 * changes); KFD's only when that is absent and all nodes agree */
	uint64_t hive_id;	/* XGMI hive id; 0 when not in a hive or unknown */
	int num_xcc;		/* XCCs of the whole GPU */
	int compute_units;	/* CUs of the whole GPU */
	int64_t memory_bytes;	/* total VRAM (mem_info_vram_total, else sum of partitions) */
	int card_minor;		/* N of /dev/dri/cardN of the PCI device */
	int render_minor;	/* N of /dev/dri/renderDN of the PCI device */
	int numa_node;

	mipart_compute_mode compute;
	mipart_memory_mode memory;
	mipart_mode_set compute_available; /* valid now (available_compute_partition) */
	mipart_mode_set compute_supported; /* all modes of the chip (supported_xcp_configs) */
	mipart_mode_set memory_available;  /* available_memory_partition */
	bool compute_writable;
	bool memory_writable;
	int mem_alloc_all;	/* compute_partition_mem_alloc_mode: 1 ALL (each partition sees its
				 * whole memory range), 0 CAPPING (a share), -1 unknown/absent */
	mipart_mode_source mode_source;
	bool driver_bound;	/* bound to amdgpu */
	char driver[16];	/* the bound driver ("amdgpu", "gim" on an SR-IOV host), "" if none */
	unsigned sriov_vfs;	/* SR-IOV virtual functions enabled (sriov_numvfs), 0 if none */

	size_t first_partition;	/* index into the topology's partition array */
	size_t n_partitions;

	/* An NPS request the driver holds and no reload has applied yet (the driver shows the
	 * old mode until the next unload; current_memory_partition_store), as mipart's journal
	 * knows it (mipart_journal_annotate_pending); UNKNOWN: none known. */
	mipart_memory_mode pending_memory;
	int64_t pending_change;	/* the change that wrote it */
} mipart_gpu_info;

/*
 * mipart_gpu_usable - whether a container or a job on this host can use the GPU: amdgpu drives
 * it and KFD lists it (a KFD node and render node per partition). Discovery lists every AMD
 * display/accelerator PCI function, bound or not (docs/discovery.md); what the host offers to
 * workloads (node labels, the NFD feature file, Slurm features, /metrics GPU series) counts only
 * these. A PF driven by GIM has no render or KFD node (gim_drv.c: gim_probe), and a VF bound to
 * vfio-pci is a /dev/vfio group for a VM (docs/sriov.md). AMD's node labeller and device plugin
 * do the same: their GPUs are the devices under /sys/module/amdgpu/drivers/pci:amdgpu
 * (ROCm/k8s-device-plugin internal/pkg/amdgpu/amdgpu.go: GetAMDGPUs); vfio-bound functions are
 * another resource for VMs (amdgpu_pf.go: GetPFMapping).
 */
static inline bool mipart_gpu_usable(const mipart_gpu_info *g)
{
	return g && g->driver_bound && g->n_partitions > 0;
}

/*
 * mipart_topology_load - read every AMD GPU of the host and its partitions.
 * Returns 0 and a new topology in *ret (free with mipart_topology_free); the topology may hold
 * zero GPUs and diagnostics. Returns -ENOMEM, or -ENOENT when neither the PCI bus nor the
 * KFD topology can be read at all.
 */
int mipart_topology_load(const mipart_host *host, mipart_topology **ret);

/* mipart_topology_set_pending - record that GPU i has an NPS request for mode pending (see
 * mipart_gpu_info.pending_memory); UNKNOWN clears it. */
void mipart_topology_set_pending(mipart_topology *topo, size_t i, mipart_memory_mode mode,
				 int64_t change);

/* mipart_topology_free - accepts NULL, returns NULL. */
mipart_topology *mipart_topology_free(mipart_topology *topo);

size_t mipart_topology_gpu_count(const mipart_topology *topo);
size_t mipart_topology_partition_count(const mipart_topology *topo);

/* The i-th GPU / partition, or NULL if out of range. Owned by the topology. */
const mipart_gpu_info *mipart_topology_gpu(const mipart_topology *topo, size_t i);
const mipart_partition_info *mipart_topology_partition(const mipart_topology *topo, size_t i);

/* The j-th partition of a GPU (ordered by XCP index), or NULL. */
const mipart_partition_info *mipart_topology_gpu_partition(const mipart_topology *topo,
							    const mipart_gpu_info *gpu, size_t j);

/* The GPU at PCI address bdf ("0000:05:00.0"; any case: sysfs prints lower case, a person or a
 * layout file may not), or NULL. Owned by the topology. */
const mipart_gpu_info *mipart_topology_gpu_by_bdf(const mipart_topology *topo, const char *bdf);

/* The partition with XCP index xcp of the GPU at bdf (as above): what a booking names. NULL
 * when the host has no such GPU, or that GPU no such partition now. Owned by the topology. */
const mipart_partition_info *mipart_topology_partition_at(const mipart_topology *topo,
							  const char *bdf, unsigned xcp);

/* Diagnostics collected during the load: messages in git style, owned by the topology. */
size_t mipart_topology_diag_count(const mipart_topology *topo);
const char *mipart_topology_diag(const mipart_topology *topo, size_t i);

/* Counters of files read; used by the benchmark and by tests. */
size_t mipart_topology_files_read(const mipart_topology *topo);

#endif
