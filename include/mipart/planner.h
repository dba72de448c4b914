/* SPDX-License-Identifier: MIT */
/*
 * The layout planner: choose a compute and memory mode for every GPU (one memory mode per XGMI
 * hive, only the pairs the GPU allows) and a placement of model instances on the partitions,
 * maximizing what is served and then minimizing idle memory. It knows partitions and memory
 * needs, not sysfs or models: the caller turns models into needs with the estimator.
 * See docs/planner.md.
 */
#ifndef MIPART_PLANNER_H
#define MIPART_PLANNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mode.h"

#define MIPART_PLAN_MAX_LAYOUTS 16
#define MIPART_PLAN_MAX_PARTITIONS 256	/* per layout; MI300X has at most 8 */

/* One way a GPU can be cut: a valid (compute, memory) pair and what it gives. */
typedef struct mipart_plan_layout {
	mipart_compute_mode compute;
	mipart_memory_mode memory;
	unsigned partitions;
	uint64_t partition_bytes;	/* memory of each partition */
} mipart_plan_layout;

typedef struct mipart_plan_gpu {
	unsigned index;
	uint64_t hive_id;		/* 0: not in a hive */
	size_t n_layouts;
	mipart_plan_layout layouts[MIPART_PLAN_MAX_LAYOUTS];
} mipart_plan_gpu;

/* A model to serve: count instances, each on tp partitions of one GPU, each partition with at
 * least need_bytes (the estimator's min_device_bytes for that model and length). */
typedef struct mipart_plan_item {
	const char *name;		/* for output; owned by the caller */
	unsigned count;
	unsigned tp;			/* 0 or 1: one partition */
	uint64_t need_bytes;
} mipart_plan_item;

/* Where one instance goes. */
typedef struct mipart_plan_place {
	size_t item;			/* index into the items */
	unsigned instance;		/* 0 .. count-1 */
	unsigned gpu;			/* index into the GPUs; UINT32_MAX: not placed */
	unsigned first_partition;	/* its partitions are first_partition .. + tp - 1 */
} mipart_plan_place;

typedef struct mipart_plan_result {
	size_t *layout;			/* per GPU: index into its layouts */
	mipart_plan_place *places;	/* one per instance, items in order */
	size_t n_places;
	size_t placed;			/* instances placed */
	uint64_t served_bytes;		/* sum of need_bytes x tp of placed instances */
	uint64_t idle_bytes;		/* memory of used partitions not needed, plus unused partitions */
	uint64_t bound_idle_bytes;	/* a lower bound on idle_bytes for this number placed */
	double gap;			/* (idle - bound) / total memory */
	bool exhaustive;		/* every layout choice was scored (small inputs); with
					 * every tp <= 1 the plan is then optimal, whatever gap */
} mipart_plan_result;

/*
 * mipart_plan - plan. Returns 0 and *ret (release with mipart_plan_result_release), -EINVAL
 * (an item with count 0 or need 0, a GPU with no layout), -ENOMEM.
 * Also -EINVAL for more than MIPART_PLAN_MAX_LAYOUTS layouts, a layout with 0 bytes or with 0 or
 * more than MIPART_PLAN_MAX_PARTITIONS partitions, UINT32_MAX GPUs or more, a hive whose GPUs
 * have no memory mode in common; -ERANGE when the memory of the GPUs does not fit in 64 bits.
 * *ret is not touched on failure. Deterministic: the same input gives the same plan.
 */
int mipart_plan(const mipart_plan_gpu *gpus, size_t n_gpus, const mipart_plan_item *items,
		size_t n_items, mipart_plan_result *ret);
void mipart_plan_result_release(mipart_plan_result *r);

#endif
