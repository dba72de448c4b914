/* SPDX-License-Identifier: MIT */
/*
 * Model facts: what the memory estimator needs to know about a model, from the built-in
 * catalog (catalog.h) or from a Hugging Face model directory (config.json, safetensors headers;
 * hfmodel.h). Field names follow Hugging Face config.json where one exists.
 */
#ifndef MIPART_MODEL_H
#define MIPART_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#define MIPART_MODEL_ID_MAX 128

typedef enum mipart_attention {
	MIPART_ATTN_FULL = 0,	/* every layer attends to the whole context (GQA/MHA/MQA) */
	MIPART_ATTN_HYBRID,	/* some layers use a sliding window (Gemma 2/3, GPT-OSS, Mistral v0.1) or
				 * chunked local attention (Llama 4) */
	MIPART_ATTN_MLA,	/* multi-head latent attention (DeepSeek-V2/V3/R1): one latent per token */
} mipart_attention;

typedef struct mipart_model {
	char id[MIPART_MODEL_ID_MAX];	/* "meta-llama/Llama-3.1-8B-Instruct", as vllm serve takes it */
	char arch[48];			/* config.json model_type: "llama", "qwen3_moe", ... */
	unsigned layers;		/* num_hidden_layers */
	unsigned hidden;		/* hidden_size */
	unsigned heads;			/* num_attention_heads */
	unsigned kv_heads;		/* num_key_value_heads (= heads when absent) */
	unsigned head_dim;		/* head_dim (= hidden / heads when absent) */
	unsigned intermediate;		/* intermediate_size of a dense MLP (Llama 4:
					 * intermediate_size_mlp) */
	unsigned mlp_matrices;		/* 3: gated MLP (gate, up, down: Llama, Qwen, ...); 2: fc1/fc2
					 * (phi-2, gpt_bigcode, starcoder2, gpt_neox, falcon); 0 = 3 */
	unsigned vocab;			/* vocab_size */
	bool tied_embeddings;		/* tie_word_embeddings: lm_head shares the embedding */
	unsigned max_position;		/* max_position_embeddings */

	/* mixture of experts (0 when dense) */
	unsigned experts;		/* routed experts per MoE layer */
	unsigned experts_per_token;
	unsigned moe_intermediate;	/* per expert */
	unsigned shared_experts;	/* always-on experts (DeepSeek, Qwen2-MoE) */
	unsigned dense_layers;		/* layers with a dense MLP: leading (first_k_dense_replace)
					 * or interleaved (Llama 4 interleave_moe_layer_step,
					 * decoder_sparse_step); only the count matters */
	unsigned mtp_layers;		/* multi-token-prediction layers in the checkpoint
					 * (num_nextn_predict_layers: DeepSeek-V3/R1); vLLM loads them
					 * only for speculative decoding */

	mipart_attention attention;
	unsigned sliding_window;	/* tokens, for MIPART_ATTN_HYBRID */
	unsigned sliding_layers;	/* how many of the layers use the window */
	unsigned attention_chunk;	/* tokens of a chunk, for chunked local attention (Llama 4
					 * attention_chunk_size); 0 when none */
	unsigned chunked_layers;	/* how many of the layers use chunked attention */

	/* MLA (DeepSeek): latent cache per token and layer = kv_lora_rank + qk_rope_head_dim */
	unsigned q_lora_rank;
	unsigned kv_lora_rank;
	unsigned qk_rope_head_dim;
	unsigned qk_nope_head_dim;
	unsigned v_head_dim;

	uint64_t params;		/* total parameters (catalog, or computed from the shape) */
	char dtype[16];			/* torch_dtype of the checkpoint: "bfloat16", "float16", ... */

	/* quantization_config of the checkpoint, "" when none */
	char quant_method[24];		/* "fp8", "awq", "gptq", "mxfp4", "compressed-tensors", ... */
	unsigned quant_bits;		/* 4, 8 */
	unsigned quant_group;		/* group size (128), 0 per channel */

	/* exact bytes of the checkpoint's tensors from safetensors headers; 0 when unknown */
	uint64_t weight_bytes;

	/* multimodal: the vision tower (vision_config) that vLLM loads and profiles; 0 when none */
	unsigned vision_layers;		/* num_hidden_layers of the vision encoder */
	unsigned vision_hidden;		/* its hidden_size */
	unsigned vision_intermediate;	/* its MLP's intermediate_size */
	unsigned vision_patches;	/* encoder positions of the largest image: (image_size /
					 * patch_size)^2 (0 = vision_tokens) */
	unsigned vision_tokens;		/* language-model tokens that image becomes (after spatial
					 * merging / pixel shuffle / pooling) */
	uint64_t vision_params;		/* parameters of the vision tower and projector, not counted
					 * in params; loaded in 16 bits */
	/* tiled vision towers (mllama, Llama 3.2 Vision: vision_config of MllamaVisionConfig), for
	 * V0's encoder-decoder profile run; 0 when the tower is not tiled */
	unsigned vision_image_size;	/* image_size: a tile's side in pixels (560) */
	unsigned vision_tiles;		/* max_num_tiles: tiles one image is cut into at most (4) */
	unsigned vision_global_layers;	/* num_global_layers: the gated global transformer (8) */
	unsigned vision_kept_layers;	/* len(intermediate_layers_indices): hidden states the local
					 * transformer keeps for the output (5) */
	unsigned vision_output_dim;	/* vision_output_dim: the projector's input (7680) */
} mipart_model;

/*
 * mipart_model_params - parameters computed from the shape (embeddings, attention, MLP or
 * experts, norms, lm_head unless tied). Used when the catalog gives none, and to split the
 * parameters into quantizable linear layers and the rest (embeddings, norms) in *ret_linear.
 */
uint64_t mipart_model_params(const mipart_model *m, uint64_t *ret_linear);

#endif
