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

typedef struct mipart_proc_info {
	int pid;
	char comm[32];		/* /proc/<pid>/comm */
	char container[72];	/* docker/containerd/cri-o/podman id from the cgroup, or "" */
	uint64_t gpus;		/* bit per GPU index the process uses */
	uint64_t partitions;	/* bit per partition it has open (render node or KFD node), by
				 * position i of mipart_topology_partition(topo, i) */
	bool kfd;		/* has /dev/kfd open, or a KFD process entry */
	bool gpus_unknown;	/* uses KFD but which GPUs could not be told: counted on all */
} mipart_proc_info;

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
