/* SPDX-License-Identifier: MIT */
/*
 * Change planning: from the current topology and the modes wanted per GPU, the exact list of
 * driver writes, whether a driver reload is needed, and what each GPU suffers (its disruption
 * class) — or a refusal that says what is wrong and what would work. Nothing here touches the
 * host; mipart_apply() in apply.h carries a plan out.
 */
#ifndef MIPART_CHANGE_H
#define MIPART_CHANGE_H

#include <stdbool.h>
#include <stddef.h>

#include "mode.h"
#include "topology.h"

typedef struct mipart_change mipart_change;

/* What a GPU wants; UNKNOWN modes mean "keep what it has". */
typedef struct mipart_target {
	bool selected;
	mipart_compute_mode compute;
	mipart_memory_mode memory;
} mipart_target;

/* What a change does to one GPU. */
typedef enum mipart_disruption {
	MIPART_DISRUPT_NONE = 0,	/* untouched */
	MIPART_DISRUPT_COMPUTE,		/* compute switch: this GPU must be idle */
	MIPART_DISRUPT_MEMORY_RELOAD,	/* driver reload: every GPU must be idle, modes re-applied */
} mipart_disruption;

typedef struct mipart_gpu_change {
	unsigned gpu;
	char bdf[16];
	mipart_compute_mode from_compute, to_compute;
	mipart_memory_mode from_memory, to_memory;
	mipart_disruption disruption;
	bool write_memory;	/* request the NPS mode before the reload */
	bool write_compute;	/* write the compute mode (after the reload, if any) */
	unsigned to_partitions;	/* logical devices after the change */
	/* an NPS request the driver holds (mipart_gpu_info.pending_memory), UNKNOWN: none */
	mipart_memory_mode pending_memory;
	int64_t pending_change;
} mipart_gpu_change;

/* A refusal: which GPU (-1: the node) and why, in words a person can act on. */
typedef struct mipart_change_problem {
	int gpu;
	char message[320];
} mipart_change_problem;

/*
 * mipart_change_plan - plan the change that brings every selected GPU to its target.
 * targets has one entry per GPU of topo (index order). Returns 0 and *ret (free with
 * mipart_change_free) also when it is refused: check mipart_change_problem_count(). Returns
 * -EINVAL when n does not match, -ENOMEM.
 */
int mipart_change_plan(const mipart_topology *topo, const mipart_target *targets, size_t n,
		       mipart_change **ret);
mipart_change *mipart_change_free(mipart_change *c);

/* One entry per GPU of the topology, in index order. */
size_t mipart_change_gpu_count(const mipart_change *c);
const mipart_gpu_change *mipart_change_gpu(const mipart_change *c, size_t i);

/* Whether the plan needs a driver reload (some memory mode changes). */
bool mipart_change_needs_reload(const mipart_change *c);
/* Whether the plan must first flush pending NPS requests: a target memory mode equal to the
 * current one cannot replace a pending request (the driver skips writing the current mode,
 * amdgpu_gmc.c current_memory_partition_store; HARDWARE.md 8.13), so the plan reloads once
 * (the request applies), then requests the wanted mode and reloads again. */
bool mipart_change_needs_flush(const mipart_change *c);
/* Whether anything changes at all. */
bool mipart_change_is_noop(const mipart_change *c);

size_t mipart_change_problem_count(const mipart_change *c);
const mipart_change_problem *mipart_change_problem_get(const mipart_change *c, size_t i);

/* "none", "compute", "memory-reload" */
const char *mipart_disruption_name(mipart_disruption d);

#endif
