/* SPDX-License-Identifier: MIT */
/*
 * The memory estimator: what a model needs on one GPU (or partition) the way vLLM accounts for
 * it: usable = total x gpu_memory_utilization; KV cache = usable - weights - peak activation -
 * non-torch memory. See docs/estimator.md for every term and its source.
 */
#ifndef MIPART_ESTIMATE_H
#define MIPART_ESTIMATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

typedef enum mipart_precision {
	MIPART_PREC_AUTO = 0,	/* the checkpoint's own (dtype / quantization_config) */
	MIPART_PREC_FP32,
	MIPART_PREC_BF16,
	MIPART_PREC_FP16,
	MIPART_PREC_FP8,
	MIPART_PREC_INT8,
	MIPART_PREC_INT4,
	MIPART_PREC_AWQ,
	MIPART_PREC_GPTQ,
	MIPART_PREC_MXFP4,
	MIPART_PREC_BNB4,	/* bitsandbytes 4-bit: nf4 blocks of 64, double-quantized absmax */
} mipart_precision;

/* vLLM versions are numbered major * 100 + minor: 0.10 is 10, 1.2 is 102. */
#define MIPART_VLLM_VERSION(major, minor) ((major) * 100 + (minor))
/* The newest vLLM whose accounting is modelled (the default), and the oldest. */
#define MIPART_VLLM_NEWEST MIPART_VLLM_VERSION(0, 28)
#define MIPART_VLLM_OLDEST MIPART_VLLM_VERSION(0, 5)

typedef enum mipart_vllm_engine {
	MIPART_ENGINE_AUTO = 0,	/* the version's default: V0 before 0.8, V1 from 0.8 */
	MIPART_ENGINE_V0,	/* VLLM_USE_V1=0 (0.8 to 0.10 still had it) */
	MIPART_ENGINE_V1,
} mipart_vllm_engine;

typedef struct mipart_estimate_options {
	mipart_precision precision;
	bool kv_fp8;			/* --kv-cache-dtype fp8 (else the model dtype, 2 bytes) */
	unsigned tensor_parallel;	/* 0 or 1: one GPU */
	unsigned max_model_len;		/* 0: the model's max_position */
	unsigned max_num_seqs;		/* 0: vLLM's default for the version and device */
	unsigned max_num_batched_tokens; /* 0: vLLM's default for the version and device */
	uint64_t device_bytes;		/* memory of one GPU or partition; 0: not known */
	double gpu_memory_utilization;	/* 0: MIPART_ESTIMATE_UTILIZATION */
	bool cuda;			/* NVIDIA runtime (CUDA) constants; default: ROCm */
	unsigned vllm_version;		/* MIPART_VLLM_VERSION(0, 11); 0: MIPART_VLLM_NEWEST */
	mipart_vllm_engine engine;	/* V0 or V1; AUTO: the version's default */
	const char *device_name;	/* "MI300X", "H100", "A100-80GB", ... or NULL: picks vLLM's
					 * batch defaults (an A100 never gets the large ones) and the
					 * interconnect for tensor parallel; NULL = a partition of an
					 * AMD Instinct GPU (XGMI) */
	bool enforce_eager;		/* --enforce-eager: no CUDA/HIP graphs */
	unsigned block_size;		/* --block-size; 0: 16 */
	uint64_t kv_cache_memory_bytes;	/* --kv-cache-memory-bytes (vLLM >= 0.11): the KV cache's
					 * size, no profiling; 0: from the budget. fits then also
					 * needs the fixed terms and the cache within device_bytes
					 * (when given; utilization is not applied) */
	unsigned max_loras;		/* --max-loras (LoRA slots); with max_lora_rank, 0 and 0:
					 * LoRA off; one of them set: LoRA on, the other vLLM's
					 * default (1 slot, rank 16) */
	unsigned max_lora_rank;		/* --max-lora-rank */
	unsigned compute_units;		/* CUs (AMD) or SMs (NVIDIA) of the device or partition, as
					 * torch reports multi_processor_count: from vLLM 0.17 the V1
					 * Triton sampler runs min(rows, compute_units) programs, each
					 * with a float32 row of the vocabulary. 0: unknown, the device
					 * table's count for device_name (mipart_device_info), else
					 * 132 (an H100 SXM, the GPU of the logs the term is fitted
					 * on). An AMD partition's own count (38 in CPX on an MI300X) is
					 * not the whole GPU's: callers that know the partition pass it */
} mipart_estimate_options;

/* vLLM's default share of a device's memory it may take (--gpu-memory-utilization; vllm/config.py
 * CacheConfig.gpu_memory_utilization, vllm/engine/arg_utils.py EngineArgs: 0.9) */
#define MIPART_ESTIMATE_UTILIZATION 0.9

/* mipart_estimate_utilization - the share of the device vLLM may take under o: its
 * gpu_memory_utilization, or MIPART_ESTIMATE_UTILIZATION when that is not above 0. */
static inline double mipart_estimate_utilization(const mipart_estimate_options *o)
{
	return o->gpu_memory_utilization > 0 ? o->gpu_memory_utilization : MIPART_ESTIMATE_UTILIZATION;
}

typedef struct mipart_estimate {
	uint64_t params;		/* parameters of the whole model */
	uint64_t weights_bytes;		/* per GPU: vLLM's "Model loading took" (LoRA buffers
					 * included: lora_bytes) */
	uint64_t lora_bytes;		/* per GPU: the stacked LoRA buffers vLLM allocates while
					 * loading (0 without LoRA) */
	uint64_t kv_bytes_per_token;	/* per GPU: KV bytes one sequence of max_model_len needs,
					 * divided by max_model_len (sliding windows, chunks and
					 * vLLM's group padding included) */
	uint64_t kv_page_bytes;		/* one block of one layer: block x per-layer-token bytes */
	uint64_t activation_bytes;	/* peak activation of the profile run, per GPU: the max
					 * of forward_bytes and sampler_bytes */
	uint64_t forward_bytes;		/* the dummy forward of max_num_batched_tokens */
	uint64_t sampler_bytes;		/* the dummy sampler run over max_num_seqs x vocab */
	uint64_t non_torch_bytes;	/* runtime, allocator, communication buffers, per GPU */
	uint64_t cuda_graph_bytes;	/* graph memory subtracted before the KV cache (vLLM >= 0.21
					 * without --enforce-eager), else 0 */
	uint64_t usable_bytes;		/* device_bytes x utilization */
	int64_t kv_cache_bytes;		/* usable - weights - activation - non_torch - graphs;
					 * < 0: no fit. vLLM's "Available KV cache memory" */
	uint64_t kv_blocks;		/* blocks of the KV cache (num_gpu_blocks) */
	uint64_t kv_cache_tokens;	/* "GPU KV cache size: N tokens" exactly as this vLLM
					 * version logs it (see docs/estimator.md) */
	uint64_t kv_cache_tokens_full; /* tokens if every layer kept the whole context */
	double max_concurrency;		/* "Maximum concurrency for L tokens per request": requests
					 * of max_model_len tokens that fit at once (windows and
					 * chunks counted) */
	unsigned kv_groups;		/* KV cache groups of vLLM's hybrid manager (1: uniform) */
	unsigned kv_group_layers;	/* layers per group, padding included */
	unsigned kv_layer_slots;	/* kv_groups x kv_group_layers (>= layers when padded) */
	uint64_t max_model_len_fit;	/* longest context one sequence can have */
	uint64_t min_device_bytes;	/* smallest device that serves max_model_len once */
	bool fits;			/* the KV cache holds one sequence of max_model_len */
	unsigned max_model_len;		/* the length used */
	unsigned max_num_seqs;		/* the S used (given or the version's default) */
	unsigned max_num_batched_tokens; /* the B used */
	unsigned vllm_version;		/* the version modelled */
	mipart_vllm_engine engine;	/* V0 or V1 */
	bool hybrid_groups;		/* vLLM groups the layers by attention type (V1 >= 0.10) */
	const char *precision_name;	/* "bf16", "fp8", ... */
	uint64_t encoder_bytes;		/* the multimodal encoder's dummy run over the most images
					 * the encoder budget holds (V1; 0 for text-only models):
					 * the third term of activation_bytes' max */
	uint64_t encoder_cache_bytes;	/* its outputs, alive during the forward and sampler runs
					 * (added to both) */
	int64_t other_rank_kv_cache_bytes; /* V0 with tensor parallel: the "Available KV cache"
					 * the ranks other than the driver profile (they do not
					 * sample); the cache takes the driver's smaller figure,
					 * kv_cache_bytes. Else kv_cache_bytes */
	unsigned compute_units;		/* the CUs/SMs the sampler term was sized for (the options',
					 * the device table's, or 132) */
} mipart_estimate;

/*
 * mipart_estimate_model - estimate model m under opts. Every byte and token figure saturates
 * at UINT64_MAX (kv_cache_bytes at INT64_MAX) instead of wrapping; a saturated term leaves the
 * model fitting nowhere (min_device_bytes UINT64_MAX, fits false). Returns 0, or -EINVAL (bad
 * options: tensor parallel size that does not divide the heads, utilization outside (0, 1], a
 * model with no layers or no KV bytes), -E2BIG (max_model_len longer than the model's max_position), -EOPNOTSUPP
 * (the vLLM version or engine does not run the model: mllama, a tiled vision tower, runs on V0
 * in 0.6 to 0.10 only).
 */
int mipart_estimate_model(const mipart_model *m, const mipart_estimate_options *opts,
			  mipart_estimate *ret);

/* Parse "bf16", "fp8", "awq", ... (case-insensitive). 0 or -EINVAL. */
int mipart_precision_parse(const char *s, mipart_precision *ret);
const char *mipart_precision_name(mipart_precision p);

/* Parse a size: "24GiB", "24 GiB", "1.5TiB", "25769803776" (bytes); "GB" is refused as
 * ambiguous. 0 or -EINVAL / -ERANGE. */
int mipart_size_parse(const char *s, uint64_t *ret);

/* Parse a vLLM version "0.11", "0.8.5", "v0.10.1rc1" into MIPART_VLLM_VERSION(major, minor).
 * 0, -EINVAL (not a version), -ERANGE (older than MIPART_VLLM_OLDEST or newer than
 * MIPART_VLLM_NEWEST: not modelled). */
int mipart_vllm_version_parse(const char *s, unsigned *ret);

/* A device as vLLM sees it: the memory torch reports as the total, the platform, whether
 * tensor parallel ranks talk over NVLink/XGMI. */
typedef struct mipart_device_info {
	const char *name;		/* canonical name, "H100-80GB" */
	uint64_t total_bytes;		/* torch.cuda.mem_get_info()[1] */
	bool cuda;			/* NVIDIA (else AMD, ROCm) */
	bool fast_link;			/* NVLink / XGMI between GPUs of one node */
	const char *source;		/* where total_bytes comes from */
	unsigned compute_capability;	/* NVIDIA: major x 10 + minor (H100 90, A100 80, GB10
					 * 121); 0 for AMD. Picks vLLM's MXFP4 MoE backend */
	bool unified;			/* memory shared with the CPU, which NVML does not report
					 * (GB10): vLLM then takes its small batch defaults */
	unsigned compute_units;		/* SMs (NVIDIA) or CUs (AMD) of the whole device, what torch
					 * reports as multi_processor_count; 0 when not known */
} mipart_device_info;

/* mipart_device_lookup - a device by name ("H100", "h100-80gb", "MI300X", "RTX 3090", "L40S"),
 * case-insensitive, spaces and dashes ignored. *ret points to static data. 0 or -ENOENT. */
int mipart_device_lookup(const char *name, const mipart_device_info **ret);

/* The version as "0.11". buf of at least 16 bytes; returns buf. */
const char *mipart_vllm_version_str(unsigned v, char *buf, size_t size);

#endif
