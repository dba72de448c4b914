/* SPDX-License-Identifier: MIT */
/*
 * The memory estimator: what a model needs on one GPU (or partition) the way vLLM accounts for
 * it: usable = total x gpu_memory_utilization; KV cache = usable - weights - peak activation -
 * non-torch memory. See docs/estimator.md for every term and its source.
 */
#ifndef MIPART_ESTIMATE_H
#define MIPART_ESTIMATE_H

#include <stdbool.h>
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
} mipart_precision;

typedef struct mipart_estimate_options {
	mipart_precision precision;
	bool kv_fp8;			/* --kv-cache-dtype fp8 (else the model dtype, 2 bytes) */
	unsigned tensor_parallel;	/* 0 or 1: one GPU */
	unsigned max_model_len;		/* 0: the model's max_position */
	unsigned max_num_seqs;		/* 0: vLLM's default, 256 */
	unsigned max_num_batched_tokens; /* 0: vLLM's default for the engine (see docs) */
	uint64_t device_bytes;		/* memory of one GPU or partition; 0: not known */
	double gpu_memory_utilization;	/* 0: 0.9 */
	bool cuda;			/* NVIDIA runtime constants (for comparing with CUDA logs);
					 * default: ROCm */
} mipart_estimate_options;

typedef struct mipart_estimate {
	uint64_t params;		/* parameters of the whole model */
	uint64_t weights_bytes;		/* per GPU */
	uint64_t kv_bytes_per_token;	/* per GPU, averaged over the layers at max_model_len */
	uint64_t activation_bytes;	/* peak activation of the profile run, per GPU */
	uint64_t non_torch_bytes;	/* runtime, graphs, communication buffers, per GPU */
	uint64_t usable_bytes;		/* device_bytes x utilization */
	int64_t kv_cache_bytes;		/* usable - weights - activation - non_torch; < 0: no fit */
	uint64_t kv_cache_tokens;	/* tokens the KV cache holds */
	uint64_t max_model_len_fit;	/* longest context one sequence can have */
	uint64_t min_device_bytes;	/* smallest device that serves max_model_len once */
	bool fits;			/* the KV cache holds one sequence of max_model_len */
	unsigned max_model_len;		/* the length used */
	const char *precision_name;	/* "bf16", "fp8", ... */
} mipart_estimate;

/*
 * mipart_estimate_model - estimate model m under opts. Returns 0, or -EINVAL (bad options:
 * tensor parallel size that does not divide the heads, utilization outside (0, 1], a model
 * with no layers), -E2BIG (max_model_len longer than the model's max_position).
 */
int mipart_estimate_model(const mipart_model *m, const mipart_estimate_options *opts,
			  mipart_estimate *ret);

/* Parse "bf16", "fp8", "awq", ... (case-insensitive). 0 or -EINVAL. */
int mipart_precision_parse(const char *s, mipart_precision *ret);
const char *mipart_precision_name(mipart_precision p);

/* Parse a size: "24GiB", "24 GiB", "1.5TiB", "25769803776" (bytes); "GB" is refused as
 * ambiguous. 0 or -EINVAL / -ERANGE. */
int mipart_size_parse(const char *s, uint64_t *ret);

#endif
