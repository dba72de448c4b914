/* SPDX-License-Identifier: MIT */
#ifndef MIPART_LIB_COMPUTE_WRITES_H
#define MIPART_LIB_COMPUTE_WRITES_H

#include <stdbool.h>

#include "mipart/backend.h"

/* One GPU's compute-mode write. */
struct compute_job {
	unsigned gpu;
	const char *bdf;
	mipart_compute_mode mode;
	int result;		/* 0 or -errno, set by compute_writes_run */
};

/* Called before (done false) and after (done true) each job, never concurrently. */
typedef void (*compute_progress_fn)(void *userdata, const struct compute_job *job, bool done);

/*
 * compute_writes_run - write the compute mode of every job's GPU. The driver takes a lock per
 * device for a switch (amdgpu_xcp.c: amdgpu_xcp_switch_partition_mode holds xcp_mgr->xcp_lock;
 * KFD is locked per device by amdgpu_amdkfd_check_and_lock_kfd), so GPUs are switched
 * concurrently, one thread each, when the backend allows it (mipart_backend_parallel); else one
 * after the other, stopping at the first failure. Every job gets its result. Returns 0, the
 * first failure in job order, or -ENOMEM / -EAGAIN (no thread could be started: nothing was
 * written).
 */
int compute_writes_run(mipart_backend *b, struct compute_job *jobs, size_t n,
		       compute_progress_fn progress, void *userdata);

#endif
