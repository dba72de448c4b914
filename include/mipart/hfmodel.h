/* SPDX-License-Identifier: MIT */
/*
 * Hugging Face model directories: the shape of a model from its config.json, and the exact size of
 * its weights from the safetensors headers (the tensor data is never read). The result is a
 * mipart_model (model.h) for the memory estimator. See docs/hfmodel.md for what is read and why.
 */
#ifndef MIPART_HFMODEL_H
#define MIPART_HFMODEL_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* Largest config.json read. Real ones are a few KiB (Gemma 3 with its vision tower: 1 KiB). */
#define MIPART_HF_CONFIG_MAX (1u << 20)

/* Largest model.safetensors.index.json read (DeepSeek-V3's, 91k tensors, is about 9 MiB). */
#define MIPART_HF_INDEX_MAX (64u << 20)

/* Deepest nesting of arrays and objects accepted in any JSON mipart reads here. */
#define MIPART_HF_JSON_MAX_DEPTH 32

/*
 * Largest safetensors header: safetensors/src/tensor.rs MAX_HEADER_SIZE (100_000_000 bytes;
 * the format's README: "The header is ... limited to 100MB").
 */
#define MIPART_SAFETENSORS_HEADER_MAX 100000000u

/* Most tensors in one safetensors file, and most shard files in one checkpoint. */
#define MIPART_SAFETENSORS_MAX_TENSORS (1u << 20)
#define MIPART_HF_MAX_SHARDS 4096u

/*
 * mipart_hf_parse_config - read a config.json of len bytes (at most MIPART_HF_CONFIG_MAX) into
 * *ret. name names the input in messages ("/models/x/config.json"); NULL means "config.json".
 *
 * Architectures with their own rules: llama, mistral, mixtral, qwen2, qwen2_moe, qwen3, qwen3_moe,
 * gemma2, gemma3 (text fields under "text_config"), gemma3_text, phi3, deepseek_v2, deepseek_v3,
 * gpt_oss. Any other decoder-only model_type is read with the usual keys (num_hidden_layers,
 * hidden_size, num_attention_heads, intermediate_size, vocab_size, max_position_embeddings, and
 * the common MoE and MLA keys when present). Keys mipart does not use are ignored; a key it uses
 * with the wrong type or an absurd value is an error. Absent keys take the defaults of the model's
 * transformers configuration class where the class has one.
 *
 * *ret is filled completely: params and weight_bytes are 0 (unknown: no weights were read), id is
 * "_name_or_path" when that is a valid Hub repository id ("org/name"), else "".
 *
 * On failure *ret is untouched and err (if err_size > 0) holds one line naming the input, the key
 * and the problem: "config.json: 'hidden_size' must be a positive integer below 2^20, not -1".
 * Returns 0, -EINVAL (not JSON, wrong type, missing key, inconsistent values), -ERANGE (a value
 * out of range), -EFBIG (input too large), -ENOMEM.
 */
int mipart_hf_parse_config(const char *buf, size_t len, const char *name, mipart_model *ret,
			   char *err, size_t err_size);

/*
 * mipart_safetensors_bytes - read the header of one .safetensors file (the 8-byte little-endian
 * header length and the JSON header, never the tensor data) and check it as the safetensors
 * library does: known dtypes, shapes of non-negative integers, data_offsets that match
 * dtype x shape and tile the data area exactly, no duplicate names. Sets *ret_bytes to the bytes
 * of tensor data and *ret_params to the number of tensor elements (either pointer may be NULL).
 *
 * On failure neither output is written and err names the file and the problem. Returns 0, -EINVAL
 * (malformed header, Git LFS pointer), -EFBIG (header larger than MIPART_SAFETENSORS_HEADER_MAX),
 * -ERANGE (sizes overflow 64 bits), -ENOMEM, or the -errno of open/read (-ENOENT, -EACCES, ...).
 */
int mipart_safetensors_bytes(const char *path, uint64_t *ret_bytes, uint64_t *ret_params, char *err,
			     size_t err_size);

/*
 * mipart_hf_load_dir - read a model directory: config.json (mipart_hf_parse_config), then the
 * weights: with model.safetensors.index.json, the shards its weight_map names (each must exist),
 * and metadata.total_size / total_parameters when the index has them, else every shard's header;
 * without an index, the headers of all *.safetensors files in the directory (as vLLM loads them).
 * No safetensors at all is not an error: weight_bytes and params stay 0.
 *
 * weight_bytes is the exact size of the checkpoint's tensors (all of them: a DeepSeek-V3
 * checkpoint includes its multi-token-prediction layer, which vLLM loads only for speculative
 * decoding). params is the number of tensor elements (metadata.total_parameters when the index
 * gives total_size), 0 when unknown: an index with total_size but no total_parameters, or a
 * quantization that packs several values into one element (quant_bits below 8: AWQ, GPTQ,
 * MXFP4, ...), where the element count would mislead.
 *
 * id: for a Hugging Face cache snapshot (.../models--org--name/snapshots/<rev>) "org/name"; else
 * "_name_or_path" when it is a valid repository id; else the directory's name.
 *
 * On failure *ret is untouched and err says what is wrong with which file. Returns 0, the errors
 * of mipart_hf_parse_config and mipart_safetensors_bytes, -ENOENT (no config.json, a shard the
 * index lists is missing), -ENOTDIR, -ERANGE (more than 2^64 bytes), -EINVAL (too many shards,
 * a malformed index).
 */
int mipart_hf_load_dir(const char *dir, mipart_model *ret, char *err, size_t err_size);

#endif
