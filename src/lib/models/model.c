// SPDX-License-Identifier: MIT
/*
 * Parameter count from a model's shape, split into the linear layers of the decoder (what weight
 * quantization shrinks) and the rest (embeddings, lm_head, norms, MoE routers, which AWQ/GPTQ/FP8
 * checkpoints and vLLM keep in 16 bits). Shapes follow the Hugging Face modeling code: LlamaAttention (q, k, v,
 * o projections), LlamaMLP (gate, up, down), MixtralSparseMoeBlock (router + experts),
 * DeepseekV3Attention (MLA: q_a/q_b or q, kv_a_proj_with_mqa, kv_b, o; low-rank norms).
 */
#include <stdbool.h>

#include "mipart/model.h"
#include "banned.h"

static uint64_t attention_params(const mipart_model *m)
{
	uint64_t h = m->hidden, hd = m->head_dim ? m->head_dim : (m->heads ? m->hidden / m->heads : 0);

	if (m->attention == MIPART_ATTN_MLA) {
		uint64_t qk = (uint64_t)m->qk_nope_head_dim + m->qk_rope_head_dim;
		uint64_t q = m->q_lora_rank
				     ? h * m->q_lora_rank + m->q_lora_rank +
					       (uint64_t)m->q_lora_rank * m->heads * qk
				     : h * m->heads * qk;
		/* kv_a_proj_with_mqa: hidden -> kv_lora_rank + rope; kv_b: rank -> heads x (nope + v) */
		uint64_t kv = h * ((uint64_t)m->kv_lora_rank + m->qk_rope_head_dim) + m->kv_lora_rank +
			      (uint64_t)m->kv_lora_rank * m->heads *
				      ((uint64_t)m->qk_nope_head_dim + m->v_head_dim);
		uint64_t o = (uint64_t)m->heads * m->v_head_dim * h;

		return q + kv + o;
	}
	return h * m->heads * hd + 2 * h * m->kv_heads * hd + (uint64_t)m->heads * hd * h;
}

uint64_t mipart_model_params(const mipart_model *m, uint64_t *ret_linear)
{
	uint64_t h = m->hidden, embed = (uint64_t)m->vocab * h;
	uint64_t lm_head = m->tied_embeddings ? 0 : embed;
	/* embeddings, lm_head and the final norm stay in 16 bits under AWQ/GPTQ/FP8 */
	uint64_t linear = 0, other = embed + lm_head + h;
	/* gate, up, down; or fc1, fc2 (PhiMLP, GPTBigCodeMLP) */
	uint64_t mats = m->mlp_matrices ? m->mlp_matrices : 3;

	for (unsigned l = 0; l < m->layers; l++) {
		bool moe = m->experts && l >= m->dense_layers;

		linear += attention_params(m);
		if (moe) {
			linear += (uint64_t)m->experts * 3 * h * m->moe_intermediate;
			linear += (uint64_t)m->shared_experts * 3 * h * m->moe_intermediate;
			other += h * m->experts; /* the router stays in 16 bits */
		} else {
			linear += mats * h * m->intermediate;
		}
		other += 2 * h; /* input and post-attention norms */
	}
	if (ret_linear)
		*ret_linear = linear;
	return linear + other;
}
