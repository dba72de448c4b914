// SPDX-License-Identifier: MIT
/*
 * Parameter count from a model's shape, split into the linear layers of the decoder (what weight
 * quantization shrinks) and the rest (embeddings, lm_head, norms, MoE routers, which AWQ/GPTQ/FP8
 * checkpoints and vLLM keep in 16 bits). Shapes follow the Hugging Face modeling code: LlamaAttention (q, k, v,
 * o projections), LlamaMLP (gate, up, down), MixtralSparseMoeBlock (router + experts),
 * DeepseekV3Attention (MLA: q_a/q_b or q, kv_a_proj_with_mqa, kv_b, o; low-rank norms).
 */
#include <stdbool.h>
#include <stdint.h>

#include "mipart/model.h"
#include "banned.h"

/*
 * Counted in double, exact for every integer below 2^53 (9e15 parameters, a thousand times the
 * largest model), so that a shape no config reader would pass (the readers bound it: hfmodel.c
 * params_bound) gives a saturated count instead of one that wrapped past 2^64 and looks small.
 */
static double attention_params(const mipart_model *m)
{
	double h = m->hidden, heads = m->heads;
	double hd = m->head_dim ? m->head_dim : (m->heads ? m->hidden / m->heads : 0);

	if (m->attention == MIPART_ATTN_MLA) {
		double qk = (double)m->qk_nope_head_dim + m->qk_rope_head_dim;
		double q = m->q_lora_rank ? h * m->q_lora_rank + m->q_lora_rank +
						    (double)m->q_lora_rank * heads * qk
					  : h * heads * qk;
		/* kv_a_proj_with_mqa: hidden -> kv_lora_rank + rope; kv_b: rank -> heads x (nope + v) */
		double kv = h * ((double)m->kv_lora_rank + m->qk_rope_head_dim) + m->kv_lora_rank +
			    (double)m->kv_lora_rank * heads *
				    ((double)m->qk_nope_head_dim + m->v_head_dim);
		double o = heads * m->v_head_dim * h;

		return q + kv + o;
	}
	return h * heads * hd + 2 * h * m->kv_heads * hd + heads * hd * h;
}

/* A count as uint64_t: UINT64_MAX from 2^64 up (the cast is undefined there, C17 6.3.1.4) */
static uint64_t count_of(double v)
{
	return v >= 0x1p64 ? UINT64_MAX : (uint64_t)v;
}

uint64_t mipart_model_params(const mipart_model *m, uint64_t *ret_linear)
{
	double h = m->hidden, embed = (double)m->vocab * h;
	double lm_head = m->tied_embeddings ? 0 : embed;
	/* embeddings, lm_head and the final norm stay in 16 bits under AWQ/GPTQ/FP8 */
	double linear, other = embed + lm_head + h;
	/* gate, up, down; or fc1, fc2 (PhiMLP, GPTBigCodeMLP) */
	double mats = m->mlp_matrices ? m->mlp_matrices : 3;
	/* the layers from dense_layers on are MoE layers when the model has experts */
	unsigned moe = m->experts && m->layers > m->dense_layers ? m->layers - m->dense_layers : 0;
	unsigned dense = m->layers - moe;

	linear = (double)m->layers * attention_params(m) +
		 (double)moe * ((double)m->experts + m->shared_experts) * 3 * h * m->moe_intermediate +
		 (double)dense * mats * h * m->intermediate;
	/* the router stays in 16 bits; input and post-attention norms */
	other += (double)moe * h * m->experts + (double)m->layers * 2 * h;
	if (ret_linear)
		*ret_linear = count_of(linear);
	return count_of(linear + other);
}
