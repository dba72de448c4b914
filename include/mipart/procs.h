/* SPDX-License-Identifier: MIT */
/*
 * Which processes use which GPUs: file descriptors on /dev/kfd and on render nodes
 * (/proc/<pid>/fd), and KFD's per-process entries (/sys/class/kfd/kfd/proc/<pid>/vram_<gpu_id>),
 * with the container id when the process's cgroup shows one. See docs/discovery.md.
 */
#ifndef MIPART_PROCS_H
#define MIPART_PROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host.h"
#include "topology.h"

typedef struct mipart_procs mipart_procs;

/* partitions (by position in mipart_topology_partition order) a process entry can mark and
 * carry a VRAM figure for: every partition of the largest host discovery lists (64 GPUs, each
 * in CPX: 8 partitions) */
#define MIPART_PROCS_PARTITIONS 512

/* The library allocates these (mipart_procs_get); new fields are only added at the end. */
typedef struct mipart_proc_info {
	int pid;
	char comm[32];		/* /proc/<pid>/comm */
	char container[72];	/* docker/containerd/cri-o/podman id from the cgroup, or "" */
	uint64_t gpus;		/* bit per GPU index the process uses */
	uint64_t partitions;	/* the first 64 bits of partition_bits (positions 0..63) only;
				 * use mipart_proc_uses_partition */
	bool kfd;		/* has /dev/kfd open, or a KFD process entry */
	bool gpus_unknown;	/* uses KFD but which GPUs could not be told: counted on all */
	/* What the DRM fdinfo of its render-node fds says (/proc/<pid>/fdinfo/N, amdgpu's
	 * drm-usage-stats keys), each DRM client (drm-client-id) counted once however many fds
	 * share it. Bytes; -1 where no fdinfo could be read (no render node open, another user's
	 * process, a kernel that prints none). */
	int64_t vram_bytes;		/* resident VRAM of all its DRM clients (a DRM file several
					 * processes hold counts under the lowest pid only) */
	int64_t evicted_vram_bytes;	/* amd-evicted-vram: VRAM buffers that are elsewhere now */
	int64_t gtt_bytes;		/* resident GTT (system memory the GPU maps) */
	uint64_t engine_ns;		/* busy time of its clients' engines (drm-engine-*) */
	unsigned drm_clients;		/* distinct DRM clients on the GPUs' render nodes */
	int64_t partition_vram[MIPART_PROCS_PARTITIONS]; /* resident VRAM per partition, -1 */
	/* bit per partition it has open (render node or KFD node), by position i of
	 * mipart_topology_partition(topo, i), all MIPART_PROCS_PARTITIONS of them */
	uint64_t partition_bits[MIPART_PROCS_PARTITIONS / 64];
} mipart_proc_info;

/* mipart_proc_uses_partition - whether p has partition i (mipart_topology_partition order)
 * open; false for i past MIPART_PROCS_PARTITIONS */
bool mipart_proc_uses_partition(const mipart_proc_info *p, size_t i);

/*
 * mipart_proc_gpu_vram - the resident VRAM process p holds on GPU gpu of topo (the sum over
 * the GPU's partitions, from fdinfo): bytes, or -1 when no fdinfo told it for that GPU.
 */
int64_t mipart_proc_gpu_vram(const mipart_proc_info *p, const mipart_topology *topo, unsigned gpu);

/*
 * mipart_procs_scan - every process of the host that uses an AMD GPU of topo.
 * Processes whose fds cannot be read (other users' when not root) are counted in
 * mipart_procs_hidden(). Returns 0 and *ret (free with mipart_procs_free), -ENOMEM, or -ENOENT
 * when /proc cannot be listed.
 */
int mipart_procs_scan(const mipart_host *host, const mipart_topology *topo, mipart_procs **ret);
mipart_procs *mipart_procs_free(mipart_procs *p);

size_t mipart_procs_count(const mipart_procs *p);
const mipart_proc_info *mipart_procs_get(const mipart_procs *p, size_t i);
/* processes whose file descriptors could not be read */
size_t mipart_procs_hidden(const mipart_procs *p);

/*
 * mipart_procs_uncompared - render-node fds printed without a drm-client-id (amdgpu's first
 * drm-usage-stats format) that could not be compared with the process's earlier fds on the same
 * node, neither by kcmp KCMP_FILE nor by their pasid (0: none), so each was counted as a DRM
 * client of its own: a dup'd fd among them counts its VRAM twice. *ret_error (may be NULL): why
 * kcmp could not, -ENOSYS (no kcmp in this kernel),
 * -EPERM (denied), -EBADF or -ESRCH (closed or gone meanwhile), -ENXIO (the /proc read is not
 * this kernel's own view: a captured or simulated tree, another pid namespace); 0 when none.
 */
size_t mipart_procs_uncompared(const mipart_procs *p, int *ret_error);

/* mipart_procs_retain - keep only the processes that use a GPU in gpus (bit per GPU index), and
 * only KFD users when kfd_only. Returns how many are left. */
size_t mipart_procs_retain(mipart_procs *p, uint64_t gpus, bool kfd_only);

/*
 * mipart_procs_container_id - the container id in one /proc/<pid>/cgroup file's text
 * ("0::/system.slice/docker-<id>.scope", ".../cri-containerd-<id>.scope", "crio-", "libpod-",
 * "/docker/<id>", "/kubepods/.../<id>"). Writes "" when there is none. Returns the length.
 */
size_t mipart_procs_container_id(const char *cgroup, size_t len, char *buf, size_t size);

#endif
