/* SPDX-License-Identifier: MIT */
/*
 * Launch: what a workload needs to start on an allocation or a partition (a "target"): the
 * environment (ROCR_VISIBLE_DEVICES and the MIPART_* / AIM_* variables) and the vllm serve
 * command sized from what the allocation booked. `mipart env`, `docker-args`, `vllm`, `run`,
 * `k8s-pod` and the Python binding print or return what this module computes. See
 * docs/launch.md.
 */
#ifndef MIPART_LAUNCH_H
#define MIPART_LAUNCH_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "host.h"
#include "ledger.h"
#include "topology.h"

typedef struct mipart_launch mipart_launch;

#define MIPART_LAUNCH_MAX_VARS 16
#define MIPART_LAUNCH_VALUE_MAX 512
#define MIPART_LAUNCH_ARG_MAX 600

typedef struct mipart_env_var {
	const char *name;			/* static string */
	char value[MIPART_LAUNCH_VALUE_MAX];
} mipart_env_var;

/* The vllm serve settings for an allocation: --gpu-memory-utilization from what it booked,
 * checked with the estimator (at that share one sequence of max_model_len fits). */
typedef struct mipart_vllm_plan {
	char model_arg[512];		/* the model as vllm serve takes it (id, or its directory) */
	char precision[16];		/* "auto", "bf16", "fp8", ... */
	double util;			/* --gpu-memory-utilization, 4 decimals, rounded down */
	unsigned max_model_len;		/* 0: the model's own */
	unsigned max_num_seqs;
	unsigned tp;			/* --tensor-parallel-size */
	int kv_fp8;			/* --kv-cache-dtype fp8 */
	int enforce_eager;		/* --enforce-eager (the allocation was sized without graphs) */
	uint64_t capacity;		/* bytes of the (first) partition */
	uint64_t needed;		/* bytes vLLM needs for max_model_len; 0 when not estimated */
	uint64_t margin;		/* usable - needed */
	unsigned max_num_batched_tokens; /* the B the booking was sized for; 0: vLLM's default
					  * (allocations made before it was recorded) */
} mipart_vllm_plan;

/* What the caller says about the vLLM that will run, over what the allocation recorded. */
typedef struct mipart_vllm_overrides {
	int version_set;
	unsigned vllm_version;		/* MIPART_VLLM_VERSION(0, 11) */
	int platform_set;
	int cuda;			/* 1: NVIDIA, 0: ROCm */
} mipart_vllm_overrides;

/*
 * mipart_launch_open - the target named by name in topology t (borrowed: it must outlive the
 * launch): an allocation of the ledger under host's root by name or id, else a partition
 * "G.X" (never a bare logical index: it would read as an allocation id). Returns 0 and a new
 * launch in *ret (free with mipart_launch_free); -ENOENT with diag (usage) when there is no
 * such allocation or partition, -ENOENT with diag (not usage) when the allocation books a
 * partition the host does not have now, -ENOMEM.
 */
int mipart_launch_open(const mipart_host *host, const mipart_topology *t, const char *name,
		       mipart_launch **ret, mipart_diag *diag);

/*
 * mipart_launch_open_step - a target of the partitions at positions idx[0..n) of t (borrowed),
 * such as a Slurm step's (mipart_slurm_step_partitions). With model (a catalog id, directory or
 * Hub id), mipart_launch_vllm sizes vllm serve for it as the step's own: vLLM's default share
 * 0.9 of the first partition (vllm/engine/arg_utils.py: gpu_memory_utilization), tensor
 * parallel size n, max_model_len (0: the model's). The target has no allocation. Returns 0 and
 * *ret, -EINVAL (n is 0 or larger than MIPART_LEDGER_MAX_BOOKINGS, a position out of range),
 * -ENOMEM.
 */
int mipart_launch_open_step(const mipart_topology *t, const size_t *idx, size_t n, const char *model,
			    unsigned max_model_len, mipart_launch **ret);

/* mipart_launch_free - accepts NULL, returns NULL. */
mipart_launch *mipart_launch_free(mipart_launch *ln);

/* The partitions of the target (1, or the tensor parallel size); owned by the topology. */
size_t mipart_launch_partition_count(const mipart_launch *ln);
const mipart_partition_info *mipart_launch_partition(const mipart_launch *ln, size_t i);

/* The allocation, or NULL when the target is a bare partition. Owned by the launch. */
const mipart_allocation *mipart_launch_allocation(const mipart_launch *ln);

/*
 * mipart_launch_env - the variables of the target into v (at most max, MIPART_LAUNCH_MAX_VARS
 * is always enough), as the host sees them (container 0) or inside a container that sees only
 * the target's render nodes (container 1: ROCR_VISIBLE_DEVICES counts from 0). Returns how
 * many: ROCR_VISIBLE_DEVICES, AIM_PARTITION_ID, MIPART_PARTITION, MIPART_GPU_BDF,
 * MIPART_PARTITION_MEMORY_BYTES, and for an allocation MIPART_ALLOCATION, MIPART_MODEL,
 * MIPART_BOOKED_BYTES.
 */
size_t mipart_launch_env(const mipart_launch *ln, int container, mipart_env_var *v, size_t max);

/*
 * mipart_launch_vllm - the vllm serve settings of an allocation, checked with the estimator for
 * the vLLM version and platform it was allocated for (over, when not NULL, overrides them; an
 * allocation that recorded none is checked for the newest version modelled). Returns 0 and *ret; -EINVAL
 * with diag (usage) when the target is a partition, not an allocation; -ENOSPC with diag when
 * the booking is too small to start vLLM at its context length, or the partition's memory is
 * unknown.
 */
int mipart_launch_vllm(const mipart_launch *ln, const mipart_vllm_overrides *over,
		       mipart_vllm_plan *ret, mipart_diag *diag);

/*
 * mipart_vllm_args - the words of "vllm serve MODEL --gpu-memory-utilization U ..." for vp
 * into out (at most max). Returns how many.
 */
size_t mipart_vllm_args(const mipart_vllm_plan *vp, char out[][MIPART_LAUNCH_ARG_MAX], size_t max);

#endif
