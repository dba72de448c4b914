/* SPDX-License-Identifier: MIT */
/*
 * Allocation policy: which partition a model instance goes to, and what to say when it fits
 * nowhere. The estimator (estimate.h) says how much memory the instance needs, the ledger
 * (ledger.h) books it; this module chooses the partitions (best fit: the ones left with the
 * least free memory that still hold it, all on one GPU for tensor parallelism) and, on a
 * refusal, names a partition with room, a mode of a GPU whose partitions would be large enough,
 * or what to change in the request. `mipart allocate`, the Python binding and the agent all
 * call it. See docs/planner.md (allocations) and docs/library.md.
 */
#ifndef MIPART_ALLOCATE_H
#define MIPART_ALLOCATE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "estimate.h"
#include "host.h"
#include "ledger.h"
#include "model.h"
#include "topology.h"

/* booked = what vLLM needs for one sequence of max_model_len x gpu_memory_utilization, plus
 * this share for the allocator's fragmentation and kernels' workspaces (docs/estimator.md) */
#define MIPART_ALLOC_MARGIN 0.05

/*
 * mipart_alloc_booking_bytes - what an instance of the model estimated in e (under the options
 * o it was estimated with) books on each of its partitions: what vLLM must be allowed to use
 * for weights, activations, runtime and one full sequence (e->min_device_bytes x
 * mipart_estimate_utilization(o)), plus MIPART_ALLOC_MARGIN, rounded up to a byte. The one rule
 * for mipart_alloc_place and the planner's sizes (mipart plan).
 */
uint64_t mipart_alloc_booking_bytes(const mipart_estimate *e, const mipart_estimate_options *o);

typedef struct mipart_alloc_request {
	const char *model;		/* catalog id or alias, or a Hugging Face model directory */
	mipart_estimate_options options; /* device_bytes is ignored: the partition decides */
	const char *partition;		/* NULL or "auto": best fit; "N" (logical index) or "G.X" */
	const char *name;		/* NULL: "<model basename>-<id>" */
	int fit_context;		/* with a named partition and max_model_len 0: the longest
					 * context that fits the partition's free memory (at most the
					 * model's own) instead of the model's maximum */
} mipart_alloc_request;

typedef struct mipart_alloc_partition {
	unsigned index;			/* global logical index (ROCR_VISIBLE_DEVICES on the host) */
	unsigned gpu;			/* GPU index */
	unsigned xcp;			/* XCP within the GPU */
	char bdf[16];			/* the GPU's PCI address */
	uint64_t capacity_bytes;	/* the partition's memory */
} mipart_alloc_partition;

typedef struct mipart_alloc_result {
	int64_t id;
	char name[MIPART_LEDGER_NAME_MAX];
	char model[MIPART_LEDGER_NAME_MAX];
	char precision[16];		/* the estimator's precision name: "bf16", "fp8", ... */
	unsigned max_model_len;
	uint64_t booked_bytes;		/* on each partition */
	size_t n_partitions;		/* the tensor parallel size */
	mipart_alloc_partition partitions[MIPART_LEDGER_MAX_BOOKINGS];
} mipart_alloc_result;

/*
 * mipart_model_lookup - a model by catalog id or alias (mipart_catalog_default_path()), or,
 * when name is a directory, from its config.json and safetensors headers, else, for a Hugging
 * Face id (org/name), from the Hub cache or the Hub (hub.h). Returns 0 and the model in *ret;
 * on failure a negative errno with diag filled: -ENOENT with diag->usage set (none of these),
 * or the errors of mipart_catalog_load, mipart_hf_load_dir and mipart_hub_load.
 */
int mipart_model_lookup(const char *name, mipart_model *ret, mipart_diag *diag);

/*
 * mipart_partition_id_parse - the GPU index and XCP of a partition named "G.X" (decimal, at most
 * three digits each, XCP 0..7: MAX_XCP, amdgpu_xcp.h). 0, or -EINVAL (nothing written).
 */
int mipart_partition_id_parse(const char *id, unsigned *ret_gpu, unsigned *ret_xcp);

/*
 * mipart_partition_find - the partition named id: "G.X" (GPU index, XCP 0..7), or a decimal
 * logical index when allow_index. NULL when t has no such partition now.
 */
const mipart_partition_info *mipart_partition_find(const mipart_topology *t, const char *id,
						   int allow_index);

/*
 * mipart_alloc_place - estimate req->model, choose its partitions in t and book them in l
 * (one transaction). The caller holds the host lock (mipart_host_lock), so that a booking never
 * races a partition change. Returns 0 and the allocation in *ret; on failure a negative errno
 * with diag's message (and hint) filled: -ENOSPC (no partition has room; hint: a partition, a
 * mode or a request that fits), -EEXIST (the name is taken), -EINVAL / -E2BIG (the request;
 * diag->usage), -ENOENT (no such model or partition; diag->usage), -EIO, -ETIMEDOUT, -ENOMEM.
 */
int mipart_alloc_place(mipart_ledger *l, const mipart_topology *t, const mipart_alloc_request *req,
		       mipart_alloc_result *ret, mipart_diag *diag);

/*
 * mipart_allocate - mipart_alloc_place on host: takes the host lock (30 s at most), loads the
 * topology, opens the ledger at MIPART_JOURNAL_PATH under the root. Returns what
 * mipart_alloc_place returns, and -ETIMEDOUT when a partition change holds the lock, the error
 * of mipart_apply_unresolved when an earlier change awaits 'mipart recover', -ENOENT when no
 * GPU can be read.
 */
int mipart_allocate(const mipart_host *host, const mipart_alloc_request *req,
		    mipart_alloc_result *ret, mipart_diag *diag);

#endif
