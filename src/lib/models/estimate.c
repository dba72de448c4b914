// SPDX-License-Identifier: MIT
/*
 * The memory estimator (include/mipart/estimate.h), after vLLM's own accounting
 * (vllm/v1/worker/gpu_worker.py: determine_available_memory; vllm/utils: memory_profiling):
 *
 *   usable    = device memory x gpu_memory_utilization
 *   kv_cache  = usable - weights - peak activation (profile run) - non-torch memory
 *   tokens    = kv_cache / KV bytes per token
 *
 * Weights come from the checkpoint's exact tensor bytes when known (safetensors), else from the
 * parameter count split into quantizable linear layers and 16-bit rest (model.c). KV bytes per
 * token: 2 (K and V) x layers x KV heads on this GPU x head_dim x element size; MLA caches one
 * latent of kv_lora_rank + qk_rope_head_dim per layer, the same on every TP rank; layers with a
 * sliding window hold at most the window. Every constant and its source: docs/estimator.md.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mipart/estimate.h"
#include "util.h"
#include "banned.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

/* vLLM defaults (vllm/config.py, vllm/engine/arg_utils.py): */
#define DEFAULT_UTILIZATION 0.9
#define DEFAULT_MAX_NUM_SEQS 256
#define DEFAULT_BATCHED_TOKENS 8192 /* V1 engine, `vllm serve` with chunked prefill */

/*
 * Calibrated against tests/fixtures/vllm-reference.csv (bench/estimator): vLLM's
 * "non_torch_memory" does not grow with the model: 0.03-0.16 GiB on one NVIDIA GPU, 0.20-0.35
 * with TP > 1 (NCCL buffers, custom all-reduce), 0.53 GiB on the ROCm row.
 */
#define NON_TORCH_CUDA (0.15 * GIB)
#define NON_TORCH_ROCM (0.55 * GIB)
#define NON_TORCH_TP (0.25 * GIB) /* added when TP > 1 */
/* The profile run's activation peak per token is about 1.8 x the MLP's gate/up product
 * (reference rows: Llama-3.1-8B 2.07 GiB at 20k tokens, 2.99 at 29k; Qwen2.5-32B TP 2) */
#define ACTIVATION_FACTOR 1.8
/* MLA caches are padded: the reference MLA rows store 1280 bytes per layer and token for
 * kv_lora_rank 512 + rope 64 = 576 elements in 16 bits, i.e. 640 elements */
#define MLA_ALIGN 128

static const char *const prec_names[] = {
	[MIPART_PREC_AUTO] = "auto", [MIPART_PREC_FP32] = "fp32", [MIPART_PREC_BF16] = "bf16",
	[MIPART_PREC_FP16] = "fp16", [MIPART_PREC_FP8] = "fp8",	  [MIPART_PREC_INT8] = "int8",
	[MIPART_PREC_INT4] = "int4", [MIPART_PREC_AWQ] = "awq",	  [MIPART_PREC_GPTQ] = "gptq",
	[MIPART_PREC_MXFP4] = "mxfp4",
};

int mipart_precision_parse(const char *s, mipart_precision *ret)
{
	for (size_t i = 0; i < ARRAY_SIZE(prec_names); i++)
		if (!strcasecmp(s, prec_names[i])) {
			*ret = (mipart_precision)i;
			return 0;
		}
	if (!strcasecmp(s, "bfloat16"))
		*ret = MIPART_PREC_BF16;
	else if (!strcasecmp(s, "float16") || !strcasecmp(s, "half"))
		*ret = MIPART_PREC_FP16;
	else if (!strcasecmp(s, "float32") || !strcasecmp(s, "float"))
		*ret = MIPART_PREC_FP32;
	else
		return -EINVAL;
	return 0;
}

const char *mipart_precision_name(mipart_precision p)
{
	return (unsigned)p < ARRAY_SIZE(prec_names) ? prec_names[p] : "unknown";
}

int mipart_size_parse(const char *s, uint64_t *ret)
{
	static const struct {
		const char *unit;
		double mult;
	} units[] = { { "", 1 },	     { "B", 1 },	       { "KiB", 1024.0 },
		      { "MiB", 1048576.0 }, { "GiB", GIB },	       { "TiB", GIB * 1024.0 } };
	char *end;
	double v;

	while (*s == ' ')
		s++;
	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	v = strtod(s, &end);
	if (end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	while (*end == ' ')
		end++;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (!strcasecmp(end, units[i].unit) && (i == 0 || strcmp(end, "b"))) {
			double bytes = v * units[i].mult;

			if (bytes >= 18446744073709551615.0)
				return -ERANGE;
			if (i <= 1 && v != floor(v))
				return -EINVAL;
			*ret = (uint64_t)bytes;
			return 0;
		}
	return -EINVAL; /* "GB", "G", "24GiB/s": say what is meant */
}

/* The precision vLLM runs the checkpoint in when the user does not say. */
static mipart_precision auto_precision(const mipart_model *m)
{
	const char *q = m->quant_method;

	if (!strcasecmp(q, "fp8"))
		return MIPART_PREC_FP8;
	if (!strcasecmp(q, "awq"))
		return MIPART_PREC_AWQ;
	if (!strcasecmp(q, "gptq"))
		return m->quant_bits == 8 ? MIPART_PREC_INT8 : MIPART_PREC_GPTQ;
	if (!strcasecmp(q, "mxfp4"))
		return MIPART_PREC_MXFP4;
	if (!strcasecmp(q, "compressed-tensors") || !strcasecmp(q, "bitsandbytes"))
		return m->quant_bits && m->quant_bits <= 4 ? MIPART_PREC_INT4 : MIPART_PREC_INT8;
	/* vLLM's dtype "auto": the checkpoint's dtype, with float32 run in 16 bits */
	if (!strcasecmp(m->dtype, "float16"))
		return MIPART_PREC_FP16;
	return MIPART_PREC_BF16;
}

/* Bytes per parameter of the linear layers; the rest stays in 16 bits (fp32: 4 bytes). AWQ and
 * GPTQ add a 16-bit scale and a 4-bit zero point per group of 128 (autoawq, auto-gptq). MXFP4
 * is 4 bits plus an 8-bit shared exponent per 32 (OCP MX spec). */
static double linear_bytes(mipart_precision p, unsigned group)
{
	double g = group ? group : 128;

	switch (p) {
	case MIPART_PREC_FP32:
		return 4;
	case MIPART_PREC_FP8:
	case MIPART_PREC_INT8:
		return 1;
	case MIPART_PREC_INT4:
	case MIPART_PREC_AWQ:
	case MIPART_PREC_GPTQ:
		return 0.5 + (2.0 + 0.5) / g;
	case MIPART_PREC_MXFP4:
		return 0.5 + 1.0 / 32;
	default:
		return 2;
	}
}

static uint64_t expert_params(const mipart_model *m)
{
	unsigned moe_layers = m->layers > m->dense_layers ? m->layers - m->dense_layers : 0;

	return (uint64_t)moe_layers * m->experts * 3 * m->hidden * m->moe_intermediate;
}

/* Bytes of KV cache one sequence of len tokens needs on one GPU. */
static double kv_bytes_for(const mipart_model *m, unsigned tp, double elem, double len)
{
	if (m->attention == MIPART_ATTN_MLA) {
		unsigned latent = m->kv_lora_rank + m->qk_rope_head_dim;

		latent = (latent + MLA_ALIGN - 1) / MLA_ALIGN * MLA_ALIGN;
		return len * m->layers * (double)latent * elem;
	}
	{
		unsigned kvh = m->kv_heads ? m->kv_heads : m->heads;
		double per_gpu = kvh >= tp ? (double)kvh / tp : 1; /* fewer KV heads than ranks: replicated */
		unsigned hd = m->head_dim ? m->head_dim : m->hidden / (m->heads ? m->heads : 1);
		double per_layer_token = 2.0 * per_gpu * hd * elem;
		unsigned sliding = m->attention == MIPART_ATTN_HYBRID ? m->sliding_layers : 0;
		double window = m->sliding_window && m->sliding_window < len ? m->sliding_window : len;

		if (sliding > m->layers)
			sliding = m->layers;
		return per_layer_token * ((double)(m->layers - sliding) * len + (double)sliding * window);
	}
}

/* Peak activation of vLLM's profile run: a forward pass over max_num_batched_tokens tokens,
 * dominated by the MLP's gate/up product (or the fused-MoE intermediate of the routed tokens),
 * plus the sampler's fp32 logits for max_num_seqs sequences. */
static double activation_bytes(const mipart_model *m, unsigned tp, double tokens, double seqs,
			       double elem)
{
	double ffn;

	if (m->experts && m->layers > m->dense_layers)
		ffn = (double)m->experts_per_token * 2.0 * m->moe_intermediate / tp;
	else
		ffn = 2.0 * m->intermediate / tp;
	return tokens * ffn * elem * ACTIVATION_FACTOR + seqs * (double)m->vocab * 4.0 / tp;
}

int mipart_estimate_model(const mipart_model *m, const mipart_estimate_options *o,
			  mipart_estimate *ret)
{
	mipart_estimate e = { 0 };
	mipart_precision p = o->precision == MIPART_PREC_AUTO ? auto_precision(m) : o->precision;
	unsigned tp = o->tensor_parallel ? o->tensor_parallel : 1;
	double util = o->gpu_memory_utilization > 0 ? o->gpu_memory_utilization : DEFAULT_UTILIZATION;
	double seqs = o->max_num_seqs ? o->max_num_seqs : DEFAULT_MAX_NUM_SEQS;
	double batched = o->max_num_batched_tokens ? o->max_num_batched_tokens
						   : DEFAULT_BATCHED_TOKENS;
	double kv_elem = o->kv_fp8 ? 1 : (p == MIPART_PREC_FP32 ? 4 : 2);
	double act_elem = p == MIPART_PREC_FP32 ? 4 : 2;
	uint64_t linear = 0, params;
	double weights, need_len, kv_avail, fixed;
	unsigned len;

	if (!m->layers || !m->hidden || !m->heads || !m->vocab)
		return -EINVAL;
	if (util <= 0 || util > 1 || tp > 64 || (m->attention != MIPART_ATTN_MLA && m->heads % tp))
		return -EINVAL;
	len = o->max_model_len ? o->max_model_len : m->max_position;
	if (!len || (m->max_position && len > m->max_position))
		return -E2BIG;

	params = mipart_model_params(m, &linear);
	e.params = m->params ? m->params : params;
	if (o->precision == MIPART_PREC_AUTO && m->weight_bytes) {
		weights = (double)m->weight_bytes;
	} else {
		/* scale the shape's split to the published total; MXFP4 checkpoints quantize the
		 * experts only (gpt-oss: attention stays bf16) */
		double scale = params ? (double)e.params / params : 1;
		double lin = linear * scale, rest = (double)e.params - lin;
		double rest_elem = p == MIPART_PREC_FP32 ? 4 : 2;

		if (p == MIPART_PREC_MXFP4) {
			double ex = expert_params(m) * scale;

			weights = ex * linear_bytes(p, 0) + (lin - ex) * 2 + rest * rest_elem;
		} else {
			weights = lin * linear_bytes(p, m->quant_group) + rest * rest_elem;
		}
	}
	weights /= tp;

	e.precision_name = mipart_precision_name(p);
	e.max_model_len = len;
	e.weights_bytes = (uint64_t)weights;
	e.activation_bytes = (uint64_t)activation_bytes(m, tp, batched, seqs, act_elem);
	e.non_torch_bytes = (uint64_t)((o->cuda ? NON_TORCH_CUDA : NON_TORCH_ROCM) +
				       (tp > 1 ? NON_TORCH_TP : 0));
	need_len = kv_bytes_for(m, tp, kv_elem, len);
	e.kv_bytes_per_token = (uint64_t)ceil(need_len / len);
	fixed = weights + (double)e.activation_bytes + (double)e.non_torch_bytes;
	e.min_device_bytes = (uint64_t)ceil((fixed + need_len) / util);
	if (o->device_bytes) {
		e.usable_bytes = (uint64_t)((double)o->device_bytes * util);
		kv_avail = (double)e.usable_bytes - fixed;
		e.kv_cache_bytes = (int64_t)kv_avail;
		if (kv_avail > 0) {
			double lo = 0, hi = m->max_position ? m->max_position : 1e9;

			e.kv_cache_tokens = (uint64_t)(kv_avail / (need_len / len));
			/* longest context one sequence can have: bisect kv_bytes_for(L) <= avail */
			for (int i = 0; i < 64 && hi - lo > 0.5; i++) {
				double mid = (lo + hi) / 2;

				if (kv_bytes_for(m, tp, kv_elem, mid) <= kv_avail)
					lo = mid;
				else
					hi = mid;
			}
			e.max_model_len_fit = (uint64_t)lo;
		}
		e.fits = kv_avail >= need_len;
	}
	*ret = e;
	return 0;
}
