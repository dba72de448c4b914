// SPDX-License-Identifier: MIT
/*
 * Unit tests for hfmodel.c: the real config.json files of six published checkpoints
 * (tests/fixtures/hf/), each architecture's sliding-window and MoE rules, quantization_config,
 * and hostile input: oversized, nested, duplicated, mistyped, negative and absurd values, each
 * refused with a message that names the key. Safetensors files are generated here (header and
 * zeros) in a mkdtemp directory: valid ones, sharded directories with and without an index, and
 * broken ones (truncated, lying header lengths, overlapping or missing data, dtype x shape that
 * does not match the offsets, 2^64 overflows).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scratch.h"
#include "mipart/hfmodel.h"
#include "mipart/hub.h"
#include "hfmodel.h"
#include "util.h"
#include "banned.h"

#define S(x) x, sizeof(x) - 1

/* ------------------------------------------------------------------------------------------ */
/* helpers */

/* tests/fixtures/hf, from this file's path as the compiler saw it ("../tests/unit/x.c", run
 * from the build directory by meson test), or $MIPART_HF_FIXTURES. */
static const char *fixtures(void)
{
	static char dir[PATH_MAX];
	const char *env = getenv("MIPART_HF_FIXTURES");
	const char *f = __FILE__, *slash;
	size_t n;

	if (env && *env)
		return env;
	if (dir[0])
		return dir;
	slash = strrchr(f, '/');
	n = slash ? (size_t)(slash - f) : 0;
	while (n > 0 && f[n - 1] != '/')
		n--;
	/* f[0..n) is "../tests/" */
	snprintf(dir, sizeof(dir), "%.*sfixtures/hf", (int)n, f);
	return dir;
}

static char *read_fixture(const char *name, size_t *len)
{
	char path[PATH_MAX];
	char *buf = malloc(MIPART_HF_CONFIG_MAX + 1);
	ssize_t n;

	assert_non_null(buf);
	snprintf(path, sizeof(path), "%s/%s/config.json", fixtures(), name);
	n = util_read_file(path, buf, MIPART_HF_CONFIG_MAX);
	if (n < 0)
		fail_msg("cannot read fixture '%s': %zd", path, n);
	*len = (size_t)n;
	return buf;
}

static void parse_fixture(const char *name, mipart_model *m)
{
	char err[256] = "";
	size_t len;
	char *buf = read_fixture(name, &len);
	int r = mipart_hf_parse_config(buf, len, name, m, err, sizeof(err));

	if (r != 0)
		fail_msg("%s: %d %s", name, r, err);
	free(buf);
}

/* Parse a config given as text; return the result and leave the message in err. */
static int parse(const char *text, mipart_model *m, char *err, size_t size)
{
	return mipart_hf_parse_config(text, strlen(text), "config.json", m, err, size);
}

/* The config must be refused with code, err holding every one of the NULL-ended fragments,
 * and the model untouched. */
static void refused(const char *text, int code, ...)
{
	mipart_model m, poison;
	char err[512] = "";
	const char *frag;
	va_list ap;
	int r;

	memset(&m, 0x5a, sizeof(m));
	poison = m;
	r = parse(text, &m, err, sizeof(err));
	if (r != code)
		fail_msg("expected %d, got %d (%s) for: %.200s", code, r, err, text);
	assert_memory_equal(&m, &poison, sizeof(m));
	assert_true(strncmp(err, "config.json", 11) == 0);
	va_start(ap, code);
	while ((frag = va_arg(ap, const char *)))
		if (!strstr(err, frag))
			fail_msg("message \"%s\" lacks \"%s\"", err, frag);
	va_end(ap);
}

static void accepted(const char *text, mipart_model *m)
{
	char err[512] = "";
	int r = parse(text, m, err, sizeof(err));

	if (r != 0)
		fail_msg("refused (%d): %s\nfor: %.300s", r, err, text);
}

/* The smallest usable llama config, with extra members spliced in. */
#define DIMS                                                                                       \
	"\"hidden_size\": 256, \"num_attention_heads\": 8, \"intermediate_size\": 512, "           \
	"\"vocab_size\": 1000"
#define BASE DIMS ", \"num_hidden_layers\": 4, \"max_position_embeddings\": 4096"
#define LLAMA(extra) "{\"model_type\": \"llama\", " BASE extra "}"
/* a config of a model_type with a layer count and context length */
#define CFG(type, layers, positions, extra)                                                        \
	"{\"model_type\": \"" type "\", " DIMS ", \"num_hidden_layers\": " #layers                 \
	", \"max_position_embeddings\": " #positions extra "}"

/* scratch directories */

static const char *in(const struct scratch_dir *s, const char *name, char *buf, size_t size)
{
	assert_true(util_pathf(buf, size, "%s/%s", s->dir, name) >= 0);
	return buf;
}

static void write_raw(const char *path, const void *data, size_t len)
{
	assert_int_equal(util_write_file(path, data, len, 0644), 0);
}

/* A safetensors file: the 8-byte little-endian length hlen (normally strlen(header)), the
 * header, then data_len zero bytes (a sparse extension). */
static void write_st_len(const char *path, uint64_t hlen, const char *header, uint64_t data_len)
{
	size_t n = strlen(header);
	unsigned char *buf = malloc(8 + n);
	int fd;

	assert_non_null(buf);
	for (int i = 0; i < 8; i++)
		buf[i] = (unsigned char)(hlen >> (8 * i));
	memcpy(buf + 8, header, n);
	write_raw(path, buf, 8 + n);
	free(buf);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)(8 + n + data_len)), 0);
	close(fd);
}

static void write_st(const char *path, const char *header, uint64_t data_len)
{
	write_st_len(path, strlen(header), header, data_len);
}

/* Header text parsed against a file of 8 + strlen(header) + data bytes. */
static int header(const char *text, uint64_t data, uint64_t *bytes, uint64_t *params, char *err,
		  size_t size)
{
	size_t n = strlen(text);

	return hf_safetensors_parse_header(text, n, 8 + n + data, bytes, params, err, size);
}

/* The header must be refused with code, a message holding frag, outputs untouched. */
static void header_refused(const char *text, uint64_t data, int code, const char *frag)
{
	uint64_t bytes = 77, params = 77;
	char err[512] = "";
	int r = header(text, data, &bytes, &params, err, sizeof(err));

	if (r != code)
		fail_msg("expected %d, got %d (%s) for: %.200s", code, r, err, text);
	assert_true(bytes == 77 && params == 77);
	if (!strstr(err, frag))
		fail_msg("message \"%s\" lacks \"%s\"", err, frag);
}

/* ------------------------------------------------------------------------------------------ */
/* real configs */

static void test_llama31_8b(void **state)
{
	mipart_model m;
	uint64_t linear = 0;

	parse_fixture("llama-3.1-8b", &m);
	assert_string_equal(m.arch, "llama");
	assert_int_equal(m.layers, 32);
	assert_int_equal(m.hidden, 4096);
	assert_int_equal(m.heads, 32);
	assert_int_equal(m.kv_heads, 8);
	assert_int_equal(m.head_dim, 128); /* 4096 / 32, no head_dim key */
	assert_int_equal(m.intermediate, 14336);
	assert_int_equal(m.vocab, 128256);
	assert_int_equal(m.max_position, 131072);
	assert_false(m.tied_embeddings);
	assert_int_equal(m.attention, MIPART_ATTN_FULL);
	assert_int_equal(m.experts, 0);
	assert_string_equal(m.dtype, "bfloat16");
	assert_string_equal(m.quant_method, "");
	assert_int_equal(m.params, 0);
	assert_int_equal(m.weight_bytes, 0);
	assert_string_equal(m.id, "");
	/* the published count of Llama 3.1 8B: 8,030,261,248 */
	assert_true(mipart_model_params(&m, &linear) == UINT64_C(8030261248));
}

static void test_mixtral_8x7b(void **state)
{
	mipart_model m;

	parse_fixture("mixtral-8x7b", &m);
	assert_string_equal(m.arch, "mixtral");
	assert_int_equal(m.layers, 32);
	assert_int_equal(m.kv_heads, 8);
	assert_int_equal(m.experts, 8);
	assert_int_equal(m.experts_per_token, 2);
	assert_int_equal(m.moe_intermediate, 14336);
	assert_int_equal(m.shared_experts, 0);
	assert_int_equal(m.dense_layers, 0);
	assert_int_equal(m.vocab, 32000);
	assert_int_equal(m.max_position, 32768);
	/* "sliding_window": null: no window */
	assert_int_equal(m.attention, MIPART_ATTN_FULL);
	assert_int_equal(m.sliding_layers, 0);
	/* 46.7 B */
	assert_true(mipart_model_params(&m, NULL) / 100000000 == 467);
}

static void test_qwen3_30b_a3b(void **state)
{
	mipart_model m;

	parse_fixture("qwen3-30b-a3b", &m);
	assert_string_equal(m.arch, "qwen3_moe");
	assert_int_equal(m.layers, 48);
	assert_int_equal(m.hidden, 2048);
	assert_int_equal(m.heads, 32);
	assert_int_equal(m.kv_heads, 4);
	assert_int_equal(m.head_dim, 128);
	assert_int_equal(m.experts, 128);
	assert_int_equal(m.experts_per_token, 8);
	assert_int_equal(m.moe_intermediate, 768);
	assert_int_equal(m.dense_layers, 0);
	assert_int_equal(m.shared_experts, 0);
	assert_int_equal(m.vocab, 151936);
	assert_int_equal(m.max_position, 40960);
	assert_int_equal(m.attention, MIPART_ATTN_FULL);
	/* 30.5 B */
	assert_true(mipart_model_params(&m, NULL) / 100000000 == 305);
}

static void test_gemma3_27b(void **state)
{
	mipart_model m;

	parse_fixture("gemma-3-27b", &m);
	assert_string_equal(m.arch, "gemma3");
	assert_int_equal(m.layers, 62);
	assert_int_equal(m.hidden, 5376);
	assert_int_equal(m.heads, 32);
	assert_int_equal(m.kv_heads, 16);
	assert_int_equal(m.head_dim, 128);
	assert_int_equal(m.intermediate, 21504);
	/* absent from text_config: Gemma3TextConfig's defaults */
	assert_int_equal(m.vocab, 262208);
	assert_int_equal(m.max_position, 131072);
	assert_true(m.tied_embeddings);
	/* sliding_window_pattern 6: layers 5, 11, ..., 59 are global, the other 52 slide */
	assert_int_equal(m.attention, MIPART_ATTN_HYBRID);
	assert_int_equal(m.sliding_window, 1024);
	assert_int_equal(m.sliding_layers, 52);
	assert_string_equal(m.dtype, "bfloat16");
	/* vision_config (SigLIP): 896 / 14 = 64 x 64 patches, pooled to mm_tokens_per_image 256;
	 * 27 x (4 x 1152^2 + 2 x 1152 x 4304) + 3 x 14^2 x 1152 + 1152 x 5376 parameters (the
	 * projector takes the pooled 1152-wide features) */
	assert_int_equal(m.vision_layers, 27);
	assert_int_equal(m.vision_hidden, 1152);
	assert_int_equal(m.vision_intermediate, 4304);
	assert_int_equal(m.vision_patches, 4096);
	assert_int_equal(m.vision_tokens, 256);
	assert_int_equal(m.vision_params, 27ull * (4 * 1152 * 1152 + 2 * 1152 * 4304) +
						  3 * 14 * 14 * 1152 + 1152ull * 5376);
}

/* vision towers of other composite configs: Llama 4's pixel shuffle, Mistral 3's (Pixtral)
 * spatial merge, none without image_size */
static void test_vision_tokens(void **state)
{
	mipart_model m;

	/* Llama-4 vision_config (TensorRT-LLM's copy of Maverick's): 336 / 14 = 24 x 24 patches,
	 * pixel_shuffle_ratio 0.5 keeps a quarter: 144 tokens */
	accepted("{\"model_type\": \"llama4\", \"text_config\": {\"model_type\": \"llama4_text\", "
		 "\"hidden_size\": 5120, \"num_attention_heads\": 40, \"num_key_value_heads\": 8, "
		 "\"head_dim\": 128, \"num_hidden_layers\": 48, \"intermediate_size\": 8192, "
		 "\"vocab_size\": 202048, \"max_position_embeddings\": 1048576}, "
		 "\"vision_config\": {\"hidden_size\": 1408, \"image_size\": 336, "
		 "\"intermediate_size\": 5632, \"num_hidden_layers\": 34, \"patch_size\": 14, "
		 "\"pixel_shuffle_ratio\": 0.5}}", &m);
	assert_int_equal(m.vision_patches, 576);
	assert_int_equal(m.vision_tokens, 144);
	/* mistralai/Mistral-Small-3.1-24B-Instruct-2503: Pixtral 1540 / 14 = 110 x 110 patches,
	 * spatial_merge_size 2 at the top level: 3025 tokens */
	accepted("{\"model_type\": \"mistral3\", \"spatial_merge_size\": 2, "
		 "\"text_config\": {\"model_type\": \"mistral\", \"hidden_size\": 5120, "
		 "\"num_attention_heads\": 32, \"num_key_value_heads\": 8, \"head_dim\": 128, "
		 "\"num_hidden_layers\": 40, \"intermediate_size\": 32768, \"vocab_size\": 131072, "
		 "\"max_position_embeddings\": 131072, \"sliding_window\": null}, "
		 "\"vision_config\": {\"hidden_size\": 1024, \"image_size\": 1540, "
		 "\"intermediate_size\": 4096, \"num_hidden_layers\": 24, \"patch_size\": 14}}", &m);
	assert_int_equal(m.vision_patches, 12100);
	assert_int_equal(m.vision_tokens, 3025);
	/* no image_size (dynamic resolution): the tower's parameters, no encoder term */
	accepted("{\"model_type\": \"llava\", \"text_config\": {\"model_type\": \"llama\", "
		 DIMS ", \"num_hidden_layers\": 4, \"max_position_embeddings\": 4096}, "
		 "\"vision_config\": {\"hidden_size\": 64, \"intermediate_size\": 128, "
		 "\"num_hidden_layers\": 2}}", &m);
	assert_int_equal(m.vision_tokens, 0);
	assert_int_equal(m.vision_params, 2ull * (4 * 64 * 64 + 2 * 64 * 128) + 64 * 256);
	refused("{\"model_type\": \"llava\", \"text_config\": {\"model_type\": \"llama\", "
		DIMS ", \"num_hidden_layers\": 4, \"max_position_embeddings\": 4096}, "
		"\"vision_config\": {\"hidden_size\": 64, \"intermediate_size\": 128, "
		"\"num_hidden_layers\": 2, \"image_size\": -1}}", -ERANGE, "image_size", NULL);
	/* mllama's tiled tower (the vision_config keys of Llama-3.2-11B-Vision, smaller layers):
	 * 4 tiles of 560 / 14 = 40 x 40 patches plus a class token each reach the cross-attention
	 * layers, 4 x 1601; 5 kept states; the projector takes vision_output_dim */
	accepted("{\"model_type\": \"mllama\", \"text_config\": {\"model_type\": \"mllama_text_model\", "
		 DIMS ", \"num_hidden_layers\": 4, \"max_position_embeddings\": 4096}, "
		 "\"vision_config\": {\"hidden_size\": 64, \"intermediate_size\": 128, "
		 "\"num_hidden_layers\": 8, \"num_global_layers\": 2, \"image_size\": 560, "
		 "\"patch_size\": 14, \"max_num_tiles\": 4, \"vision_output_dim\": 384, "
		 "\"intermediate_layers_indices\": [1, 3, 5, 6, 7]}}", &m);
	assert_int_equal(m.vision_tiles, 4);
	assert_int_equal(m.vision_patches, 4 * 1601);
	assert_int_equal(m.vision_tokens, 4 * 1601);
	assert_int_equal(m.vision_image_size, 560);
	assert_int_equal(m.vision_global_layers, 2);
	assert_int_equal(m.vision_kept_layers, 5);
	assert_int_equal(m.vision_output_dim, 384);
	assert_int_equal(m.vision_params, 10ull * (4 * 64 * 64 + 2 * 64 * 128) + 3 * 14 * 14 * 64 +
						  384ull * 256);
	refused("{\"model_type\": \"mllama\", \"text_config\": {\"model_type\": \"mllama_text_model\", "
		DIMS ", \"num_hidden_layers\": 4, \"max_position_embeddings\": 4096}, "
		"\"vision_config\": {\"hidden_size\": 64, \"intermediate_size\": 128, "
		"\"num_hidden_layers\": 2, \"image_size\": 560, \"patch_size\": 14, "
		"\"max_num_tiles\": 4, \"intermediate_layers_indices\": [0, 1, 2]}}", -ERANGE,
		"intermediate_layers_indices", NULL);
	/* tiles x positions past the cap: refused, not wrapped (8 x (32767^2 + 1) is 2^33) */
	refused("{\"model_type\": \"mllama\", \"text_config\": {\"model_type\": \"mllama_text_model\", "
		DIMS ", \"num_hidden_layers\": 4, \"max_position_embeddings\": 4096}, "
		"\"vision_config\": {\"hidden_size\": 64, \"intermediate_size\": 128, "
		"\"num_hidden_layers\": 2, \"image_size\": 32767, \"patch_size\": 1, "
		"\"max_num_tiles\": 8}}", -ERANGE, "max_num_tiles", NULL);
}

static void test_deepseek_v3(void **state)
{
	mipart_model m;

	parse_fixture("deepseek-v3", &m);
	assert_string_equal(m.arch, "deepseek_v3");
	assert_int_equal(m.attention, MIPART_ATTN_MLA);
	assert_int_equal(m.layers, 61);
	assert_int_equal(m.hidden, 7168);
	assert_int_equal(m.heads, 128);
	assert_int_equal(m.kv_lora_rank, 512);
	assert_int_equal(m.q_lora_rank, 1536);
	assert_int_equal(m.qk_rope_head_dim, 64);
	assert_int_equal(m.qk_nope_head_dim, 128);
	assert_int_equal(m.v_head_dim, 128);
	assert_int_equal(m.head_dim, 192);
	assert_int_equal(m.experts, 256);
	assert_int_equal(m.experts_per_token, 8);
	assert_int_equal(m.moe_intermediate, 2048);
	assert_int_equal(m.shared_experts, 1);
	assert_int_equal(m.dense_layers, 3);
	assert_int_equal(m.intermediate, 18432);
	assert_int_equal(m.vocab, 129280);
	assert_int_equal(m.max_position, 163840);
	assert_string_equal(m.quant_method, "fp8");
	assert_int_equal(m.quant_bits, 8);
	assert_int_equal(m.quant_group, 128);
	/* 671 B without the multi-token-prediction layer */
	assert_true(mipart_model_params(&m, NULL) / 1000000000 == 671);
}

static void test_gpt_oss_20b(void **state)
{
	mipart_model m;

	parse_fixture("gpt-oss-20b", &m);
	assert_string_equal(m.arch, "gpt_oss");
	assert_int_equal(m.layers, 24);
	assert_int_equal(m.hidden, 2880);
	assert_int_equal(m.heads, 64);
	assert_int_equal(m.kv_heads, 8);
	assert_int_equal(m.head_dim, 64);
	assert_int_equal(m.experts, 32);
	assert_int_equal(m.experts_per_token, 4);
	assert_int_equal(m.moe_intermediate, 2880);
	assert_int_equal(m.attention, MIPART_ATTN_HYBRID);
	assert_int_equal(m.sliding_window, 128);
	assert_int_equal(m.sliding_layers, 12);
	assert_string_equal(m.quant_method, "mxfp4");
	assert_int_equal(m.quant_bits, 4);
	assert_int_equal(m.quant_group, 32);
	assert_string_equal(m.dtype, "");
}

/* A fixture directory: config.json and no weights. */

/* microsoft/phi-2 config.json (PhiForCausalLM): fc1/fc2 MLP */
static void test_phi2(void **state)
{
	mipart_model m;
	uint64_t linear = 0, p;

	accepted("{\"model_type\": \"phi\", \"hidden_size\": 2560, \"intermediate_size\": 10240, "
		 "\"num_attention_heads\": 32, \"num_hidden_layers\": 32, \"num_key_value_heads\": 32, "
		 "\"vocab_size\": 51200, \"max_position_embeddings\": 2048, "
		 "\"tie_word_embeddings\": false, \"torch_dtype\": \"float16\"}", &m);
	assert_int_equal(m.mlp_matrices, 2);
	/* 2.78B on the Hub (2,779,683,840 with biases and layer-norm biases the shape leaves out) */
	p = mipart_model_params(&m, &linear);
	assert_true(p > 2760000000ull && p < 2780000000ull);
	assert_int_equal(linear, 32ull * (4 * 2560 * 2560 + 2 * 2560 * 10240));
}

/* meta-llama/Llama-4-Scout-17B-16E-Instruct text_config: RoPE layers chunked over 8192 tokens,
 * every 4th layer (NoPE) global */
static void test_llama4_chunked(void **state)
{
	mipart_model m;

	accepted("{\"model_type\": \"llama4\", \"text_config\": {\"model_type\": \"llama4_text\", "
		 "\"hidden_size\": 5120, \"num_attention_heads\": 40, \"num_key_value_heads\": 8, "
		 "\"head_dim\": 128, \"num_hidden_layers\": 48, \"intermediate_size\": 8192, "
		 "\"vocab_size\": 202048, \"max_position_embeddings\": 10485760, "
		 "\"attention_chunk_size\": 8192}}", &m);
	assert_int_equal(m.attention, MIPART_ATTN_HYBRID);
	assert_int_equal(m.attention_chunk, 8192);
	assert_int_equal(m.chunked_layers, 36);
	accepted("{\"model_type\": \"llama4\", \"text_config\": {\"model_type\": \"llama4_text\", "
		 "\"hidden_size\": 256, \"num_attention_heads\": 8, \"num_hidden_layers\": 4, "
		 "\"intermediate_size\": 512, \"vocab_size\": 1000, \"max_position_embeddings\": 4096, "
		 "\"attention_chunk_size\": 1024, \"no_rope_layers\": [1, 0, 1, 0]}}", &m);
	assert_int_equal(m.chunked_layers, 2);
	refused("{\"model_type\": \"llama\", " BASE ", \"attention_chunk_size\": 1024, "
		"\"no_rope_layers\": [1, 0]}", -EINVAL, "no_rope_layers", NULL);
}

/* meta-llama/Llama-4-Maverick-17B-128E-Instruct text_config (as NVIDIA/TensorRT-LLM's
 * test_modeling_llama_min_latency.py copies it, 48 layers): MoE every other layer
 * (interleave_moe_layer_step 2), 128 experts of 8192 plus a shared one, dense layers of
 * intermediate_size_mlp 16384 */
static void test_llama4_maverick(void **state)
{
	mipart_model m;
	uint64_t p, linear = 0;

	accepted("{\"model_type\": \"llama4\", \"text_config\": {\"model_type\": \"llama4_text\", "
		 "\"hidden_size\": 5120, \"num_attention_heads\": 40, \"num_key_value_heads\": 8, "
		 "\"head_dim\": 128, \"num_hidden_layers\": 48, \"intermediate_size\": 8192, "
		 "\"intermediate_size_mlp\": 16384, \"num_local_experts\": 128, "
		 "\"num_experts_per_tok\": 1, \"interleave_moe_layer_step\": 2, "
		 "\"vocab_size\": 202048, \"max_position_embeddings\": 1048576, "
		 "\"attention_chunk_size\": 8192, \"tie_word_embeddings\": false}, "
		 "\"torch_dtype\": \"bfloat16\"}", &m);
	assert_int_equal(m.experts, 128);
	assert_int_equal(m.experts_per_token, 1);
	assert_int_equal(m.moe_intermediate, 8192);
	assert_int_equal(m.shared_experts, 1);
	assert_int_equal(m.intermediate, 16384);
	/* layers 1, 3, ..., 47 are MoE: 24 dense */
	assert_int_equal(m.dense_layers, 24);
	assert_int_equal(m.chunked_layers, 36);
	/* 48 x attention (2 x 5120 x 5120 + 2 x 5120 x 1024) + 24 x 3 x 5120 x 16384
	 * + 24 x (129 x 3 x 5120 x 8192 + router 5120 x 128) + norms + 2 x 202048 x 5120:
	 * about 400.7B (the Hub's 402B add the vision tower) */
	p = mipart_model_params(&m, &linear);
	assert_true(p > 400500000000ull && p < 400900000000ull);
	/* Scout: every layer MoE */
	accepted("{\"model_type\": \"llama4\", \"text_config\": {\"model_type\": \"llama4_text\", "
		 "\"hidden_size\": 5120, \"num_attention_heads\": 40, \"num_key_value_heads\": 8, "
		 "\"head_dim\": 128, \"num_hidden_layers\": 48, \"intermediate_size\": 8192, "
		 "\"intermediate_size_mlp\": 16384, \"num_local_experts\": 16, "
		 "\"interleave_moe_layer_step\": 1, \"vocab_size\": 202048, "
		 "\"max_position_embeddings\": 10485760}}", &m);
	assert_int_equal(m.experts, 16);
	assert_int_equal(m.dense_layers, 0);
	/* "moe_layers" names them when present */
	accepted("{\"model_type\": \"llama4\", \"text_config\": {\"model_type\": \"llama4_text\", "
		 "\"hidden_size\": 256, \"num_attention_heads\": 8, \"num_hidden_layers\": 4, "
		 "\"intermediate_size\": 128, \"intermediate_size_mlp\": 512, \"num_local_experts\": 4, "
		 "\"moe_layers\": [3], \"vocab_size\": 1000, \"max_position_embeddings\": 4096}}", &m);
	assert_int_equal(m.dense_layers, 3);
	refused("{\"model_type\": \"llama4\", \"text_config\": {\"model_type\": \"llama4_text\", "
		"\"hidden_size\": 256, \"num_attention_heads\": 8, \"num_hidden_layers\": 4, "
		"\"vocab_size\": 1000, \"max_position_embeddings\": 4096, \"moe_layers\": [4]}}",
		-EINVAL, "moe_layers", NULL);
}

/* Hub ids: what may go into a URL and a cache path */
static void test_hub_ids(void **state)
{
	char long_part[120];

	assert_true(mipart_hub_id_ok("Qwen/Qwen2.5-0.5B-Instruct"));
	assert_true(mipart_hub_id_ok("RedHatAI/Meta-Llama-3.1-8B-Instruct-quantized.w4a16"));
	assert_false(mipart_hub_id_ok("llama-3.1-8b"));
	assert_false(mipart_hub_id_ok("../../etc/passwd"));
	assert_false(mipart_hub_id_ok("org/../x"));
	assert_false(mipart_hub_id_ok("org/na me"));
	assert_false(mipart_hub_id_ok("org/name/extra"));
	assert_false(mipart_hub_id_ok("org/.hidden"));
	assert_false(mipart_hub_id_ok("-org/name"));
	assert_false(mipart_hub_id_ok("org/name?x=1"));
	assert_false(mipart_hub_id_ok("/name"));
	assert_false(mipart_hub_id_ok(NULL));
	memset(long_part, 'a', 97);
	memcpy(long_part + 97, "/b", 3);
	assert_false(mipart_hub_id_ok(long_part));
}

static void test_fixture_dir(void **state)
{
	char dir[PATH_MAX], err[256] = "";
	mipart_model m;

	snprintf(dir, sizeof(dir), "%s/deepseek-v3/", fixtures());
	assert_int_equal(mipart_hf_load_dir(dir, &m, err, sizeof(err)), 0);
	assert_string_equal(m.id, "deepseek-v3");
	assert_int_equal(m.weight_bytes, 0);
	assert_int_equal(m.params, 0);
	assert_int_equal(m.experts, 256);
}

/* ------------------------------------------------------------------------------------------ */
/* architecture rules */

static void test_sliding_rules(void **state)
{
	mipart_model m;

	/* Gemma 2: every other layer, starting with layer 0 */
	accepted(CFG("gemma2", 3, 4096, ", \"sliding_window\": 4096"), &m);
	assert_int_equal(m.attention, MIPART_ATTN_HYBRID);
	assert_int_equal(m.sliding_layers, 2);
	assert_true(m.tied_embeddings);
	/* Gemma 3: 5 of 6 by default, the pattern when given */
	accepted(CFG("gemma3_text", 26, 4096, ""), &m);
	assert_int_equal(m.sliding_layers, 26 - 4);
	assert_int_equal(m.sliding_window, 4096);
	accepted(CFG("gemma3_text", 26, 4096,
		     ", \"sliding_window_pattern\": 2, \"sliding_window\": 512"),
		 &m);
	assert_int_equal(m.sliding_layers, 13);
	assert_int_equal(m.sliding_window, 512);
	/* layer_types wins over the pattern */
	accepted("{\"model_type\": \"gemma3_text\", " BASE
		 ", \"layer_types\": [\"full_attention\", "
		 "\"sliding_attention\", \"full_attention\", \"full_attention\"]}",
		 &m);
	assert_int_equal(m.sliding_layers, 1);
	accepted("{\"model_type\": \"gemma3_text\", " BASE
		 ", \"layer_types\": [\"full_attention\", "
		 "\"full_attention\", \"full_attention\", \"full_attention\"]}",
		 &m);
	assert_int_equal(m.attention, MIPART_ATTN_FULL);
	assert_int_equal(m.sliding_window, 0);

	/* Mistral v0.1: all layers when the window is shorter than the context */
	accepted("{\"model_type\": \"mistral\", " BASE ", \"sliding_window\": 1024}", &m);
	assert_int_equal(m.attention, MIPART_ATTN_HYBRID);
	assert_int_equal(m.sliding_layers, 4);
	assert_int_equal(m.sliding_window, 1024);
	accepted("{\"model_type\": \"mistral\", " BASE ", \"sliding_window\": 4096}", &m);
	assert_int_equal(m.attention, MIPART_ATTN_FULL);
	accepted("{\"model_type\": \"mistral\", " BASE ", \"sliding_window\": null}", &m);
	assert_int_equal(m.attention, MIPART_ATTN_FULL);
	/* absent: MistralConfig's default 4096, equal to max_position here: no effect */
	accepted(CFG("mistral", 4, 32768, ""), &m);
	assert_int_equal(m.attention, MIPART_ATTN_HYBRID);
	assert_int_equal(m.sliding_window, 4096);
	/* Phi-3-mini-128k: a 262144 window over 131072 positions never slides */
	accepted(CFG("phi3", 4, 131072, ", \"sliding_window\": 262144"), &m);
	assert_int_equal(m.attention, MIPART_ATTN_FULL);
	accepted("{\"model_type\": \"phi3\", " BASE ", \"sliding_window\": 2047}", &m);
	assert_int_equal(m.sliding_layers, 4);

	/* Qwen 2: only with use_sliding_window, from max_window_layers on */
	accepted("{\"model_type\": \"qwen2\", " BASE ", \"sliding_window\": 1024, "
		 "\"use_sliding_window\": false, \"max_window_layers\": 1}",
		 &m);
	assert_int_equal(m.attention, MIPART_ATTN_FULL);
	accepted("{\"model_type\": \"qwen2\", " BASE ", \"sliding_window\": 1024, "
		 "\"use_sliding_window\": true, \"max_window_layers\": 1}",
		 &m);
	assert_int_equal(m.attention, MIPART_ATTN_HYBRID);
	assert_int_equal(m.sliding_layers, 3);
	/* Llama has no window, even with a stray key */
	accepted(LLAMA(", \"sliding_window\": 16"), &m);
	assert_int_equal(m.attention, MIPART_ATTN_FULL);
}

static void test_moe_rules(void **state)
{
	mipart_model m;

	/* Qwen1.5-MoE-A2.7B: the shared expert is 4 experts wide */
	accepted("{\"model_type\": \"qwen2_moe\", " BASE ", \"num_experts\": 60, "
		 "\"num_experts_per_tok\": 4, \"moe_intermediate_size\": 1408, "
		 "\"shared_expert_intermediate_size\": 5632}",
		 &m);
	assert_int_equal(m.experts, 60);
	assert_int_equal(m.shared_experts, 4);
	/* dense layers from mlp_only_layers and decoder_sparse_step */
	accepted("{\"model_type\": \"qwen3_moe\", " BASE ", \"num_experts\": 8, "
		 "\"num_experts_per_tok\": 2, \"moe_intermediate_size\": 64, "
		 "\"mlp_only_layers\": [0], \"decoder_sparse_step\": 2}",
		 &m);
	/* layers 0 (listed), 0 and 2 ((i + 1) % 2 != 0): 2 dense */
	assert_int_equal(m.dense_layers, 2);
	/* DeepSeek-V2-Lite: q_lora_rank null, two shared experts */
	accepted("{\"model_type\": \"deepseek_v2\", " BASE ", \"kv_lora_rank\": 512, "
		 "\"q_lora_rank\": null, \"qk_rope_head_dim\": 64, \"qk_nope_head_dim\": 128, "
		 "\"v_head_dim\": 128, \"n_routed_experts\": 64, \"num_experts_per_tok\": 6, "
		 "\"moe_intermediate_size\": 1408, \"n_shared_experts\": 2, "
		 "\"first_k_dense_replace\": 1}",
		 &m);
	assert_int_equal(m.attention, MIPART_ATTN_MLA);
	assert_int_equal(m.q_lora_rank, 0);
	assert_int_equal(m.shared_experts, 2);
	assert_int_equal(m.dense_layers, 1);
	/* gpt-oss with only the original key */
	accepted("{\"model_type\": \"gpt_oss\", " BASE ", \"num_local_experts\": 4, "
		 "\"experts_per_token\": 2}",
		 &m);
	assert_int_equal(m.experts_per_token, 2);
	assert_int_equal(m.sliding_layers, 2); /* GptOssConfig: alternate, window 128 */
	refused("{\"model_type\": \"gpt_oss\", " BASE ", \"num_local_experts\": 4, "
		"\"experts_per_token\": 2, \"num_experts_per_tok\": 3}",
		-EINVAL, "disagree", NULL);
	/* a model_type mipart does not know, with the usual MoE keys */
	accepted("{\"model_type\": \"olmoe\", " BASE ", \"num_experts\": 64, "
		 "\"num_experts_per_tok\": 8, \"moe_intermediate_size\": 1024}",
		 &m);
	assert_string_equal(m.arch, "olmoe");
	assert_int_equal(m.experts, 64);
	accepted("{\"model_type\": \"kimi_k2\", " BASE ", \"kv_lora_rank\": 512, "
		 "\"q_lora_rank\": 1536, \"qk_rope_head_dim\": 64, \"qk_nope_head_dim\": 128, "
		 "\"v_head_dim\": 128, \"n_routed_experts\": 384, \"num_experts_per_tok\": 8, "
		 "\"moe_intermediate_size\": 2048, \"n_shared_experts\": 1}",
		 &m);
	assert_int_equal(m.attention, MIPART_ATTN_MLA);
	assert_int_equal(m.experts, 384);
	/* generic dense, head_dim and kv heads derived */
	accepted("{\"model_type\": \"olmo2\", " BASE "}", &m);
	assert_int_equal(m.kv_heads, 8);
	assert_int_equal(m.head_dim, 32);
	assert_false(m.tied_embeddings);
}

static void test_quantization(void **state)
{
	mipart_model m;

	accepted(LLAMA(", \"quantization_config\": {\"bits\": 4, \"group_size\": 128, "
		       "\"quant_method\": \"awq\", \"version\": \"gemm\", \"zero_point\": true}"),
		 &m);
	assert_string_equal(m.quant_method, "awq");
	assert_int_equal(m.quant_bits, 4);
	assert_int_equal(m.quant_group, 128);
	accepted(LLAMA(", \"quantization_config\": {\"bits\": 8, \"group_size\": -1, "
		       "\"desc_act\": false, \"quant_method\": \"gptq\"}"),
		 &m);
	assert_int_equal(m.quant_bits, 8);
	assert_int_equal(m.quant_group, 0);
	accepted(LLAMA(", \"quantization_config\": {\"quant_method\": \"compressed-tensors\", "
		       "\"format\": \"pack-quantized\", \"config_groups\": {\"group_0\": "
		       "{\"targets\": [\"Linear\"], \"input_activations\": null, \"weights\": "
		       "{\"num_bits\": 4, \"type\": \"int\", \"group_size\": 128, "
		       "\"strategy\": \"group\", \"symmetric\": true}}}}"),
		 &m);
	assert_string_equal(m.quant_method, "compressed-tensors");
	assert_int_equal(m.quant_bits, 4);
	assert_int_equal(m.quant_group, 128);
	accepted(LLAMA(", \"quantization_config\": {\"quant_method\": \"compressed-tensors\", "
		       "\"config_groups\": {\"group_0\": {\"weights\": {\"num_bits\": 8, "
		       "\"type\": \"float\", \"strategy\": \"channel\", \"group_size\": null}}}}"),
		 &m);
	assert_int_equal(m.quant_bits, 8);
	assert_int_equal(m.quant_group, 0);
	accepted(LLAMA(", \"quantization_config\": {\"quant_method\": \"bitsandbytes\", "
		       "\"load_in_4bit\": true, \"load_in_8bit\": false, "
		       "\"bnb_4bit_quant_type\": \"nf4\"}"),
		 &m);
	assert_int_equal(m.quant_bits, 4);
	assert_int_equal(m.quant_group, 64);
	accepted(LLAMA(", \"quantization_config\": {\"quant_method\": \"fp8\", "
		       "\"activation_scheme\": \"dynamic\"}"),
		 &m);
	assert_int_equal(m.quant_bits, 8);
	assert_int_equal(m.quant_group, 0);
	/* a method mipart does not know keeps its name */
	accepted(LLAMA(", \"quantization_config\": {\"quant_method\": \"modelopt\"}"), &m);
	assert_string_equal(m.quant_method, "modelopt");
	assert_int_equal(m.quant_bits, 0);

	refused(LLAMA(", \"quantization_config\": {\"quant_method\": \"gptq\"}"), -EINVAL,
		"'quantization_config.bits' is missing", NULL);
	refused(LLAMA(", \"quantization_config\": {\"quant_method\": \"awq\", \"bits\": \"4\"}"),
		-EINVAL, "'quantization_config.bits' must be a positive integer", "not a string",
		NULL);
	refused(LLAMA(", \"quantization_config\": {\"quant_method\": \"gptq\", \"bits\": 4, "
		      "\"group_size\": -2}"),
		-EINVAL, "'quantization_config.group_size' must be -1 or", NULL);
	refused(LLAMA(", \"quantization_config\": {\"quant_method\": \"bitsandbytes\"}"), -EINVAL,
		"exactly one must be true", NULL);
	refused(LLAMA(", \"quantization_config\": {\"quant_method\": \"fp8\", "
		      "\"weight_block_size\": [128]}"),
		-EINVAL, "'quantization_config.weight_block_size'", NULL);
	refused(LLAMA(", \"quantization_config\": {\"bits\": 4}"), -EINVAL,
		"'quantization_config.quant_method' is missing", NULL);
	refused(LLAMA(", \"quantization_config\": [\"awq\"]"), -EINVAL,
		"'quantization_config' must be an object, not a list", NULL);
}

static void test_name_or_path(void **state)
{
	mipart_model m;

	accepted(LLAMA(", \"_name_or_path\": \"meta-llama/Llama-3.1-8B\""), &m);
	assert_string_equal(m.id, "meta-llama/Llama-3.1-8B");
	/* local paths and odd strings are not ids */
	accepted(LLAMA(", \"_name_or_path\": \"/data/models/llama\""), &m);
	assert_string_equal(m.id, "");
	accepted(LLAMA(", \"_name_or_path\": \"a/b/c\""), &m);
	assert_string_equal(m.id, "");
	accepted(LLAMA(", \"_name_or_path\": \"org/../x\""), &m);
	assert_string_equal(m.id, "");
	accepted(LLAMA(", \"_name_or_path\": \"org/x\\n\""), &m);
	assert_string_equal(m.id, "");
	accepted(LLAMA(", \"_name_or_path\": 5"), &m);
	assert_string_equal(m.id, "");
}

/* ------------------------------------------------------------------------------------------ */
/* hostile configs */

static void test_config_refused(void **state)
{
	refused("{\"model_type\": \"llama\", \"hidden_size\": 256}", -EINVAL,
		"'num_hidden_layers' is missing", NULL);
	refused(LLAMA(", \"hidden_size\": 1048576"), -EINVAL, "duplicate", NULL);
	refused("{\"model_type\": \"llama\", \"hidden_size\": \"4096\", \"num_hidden_layers\": 4}",
		-EINVAL, "'hidden_size' must be a positive integer below 2^20, not a string", NULL);
	refused("{\"model_type\": \"llama\", \"hidden_size\": -4096, \"num_hidden_layers\": 4}",
		-ERANGE, "'hidden_size' must be a positive integer below 2^20, not -4096", NULL);
	refused("{\"model_type\": \"llama\", \"hidden_size\": 1048576, \"num_hidden_layers\": 4}",
		-ERANGE, "'hidden_size' must be a positive integer below 2^20, not 1048576", NULL);
	refused("{\"model_type\": \"llama\", \"hidden_size\": 4096.5, \"num_hidden_layers\": 4}",
		-EINVAL, "not 4096.5", NULL);
	refused("{\"model_type\": \"llama\", \"hidden_size\": 0, \"num_hidden_layers\": 4}",
		-ERANGE, "not 0", NULL);
	refused("{\"model_type\": \"llama\", \"num_hidden_layers\": null}", -EINVAL,
		"'num_hidden_layers' is missing", NULL);
	refused("{\"hidden_size\": 4096}", -EINVAL, "'model_type' is missing", NULL);
	refused("{\"model_type\": 7}", -EINVAL, "'model_type' must be a string, not 7", NULL);
	refused("{\"model_type\": \"llama; rm -rf /\"}", -EINVAL, "'model_type' must be a name",
		NULL);
	refused(LLAMA(", \"num_key_value_heads\": 3"), -EINVAL,
		"'num_attention_heads' (8) must be a multiple of 'num_key_value_heads' (3)", NULL);
	refused(LLAMA(", \"num_key_value_heads\": 16"), -EINVAL, "must be a multiple", NULL);
	refused(LLAMA(", \"tie_word_embeddings\": \"yes\""), -EINVAL,
		"'tie_word_embeddings' must be true or false, not a string", NULL);
	refused(LLAMA(", \"torch_dtype\": [\"bfloat16\"]"), -EINVAL,
		"'torch_dtype' must be a string, not a list", NULL);
	refused(LLAMA(", \"is_encoder_decoder\": true"), -EINVAL, "encoder-decoder", NULL);
	refused("{\"model_type\": \"llama\", \"hidden_size\": 8, \"num_hidden_layers\": 4, "
		"\"num_attention_heads\": 16, \"intermediate_size\": 8, \"vocab_size\": 8, "
		"\"max_position_embeddings\": 8}",
		-EINVAL, "'num_attention_heads' (16) is larger than 'hidden_size' (8)", NULL);
	/* no intermediate_size in a dense model */
	refused(
	    "{\"model_type\": \"llama\", \"hidden_size\": 256, \"num_hidden_layers\": 4, "
	    "\"num_attention_heads\": 8, \"vocab_size\": 1000, \"max_position_embeddings\": 64}",
	    -EINVAL, "'intermediate_size' is missing", NULL);
	/* experts */
	refused("{\"model_type\": \"mixtral\", " BASE ", \"num_local_experts\": 2, "
		"\"num_experts_per_tok\": 4}",
		-EINVAL, "4 experts per token but only 2 experts", NULL);
	refused("{\"model_type\": \"mixtral\", " BASE ", \"num_experts_per_tok\": 2}", -EINVAL,
		"'num_local_experts' is missing", NULL);
	refused("{\"model_type\": \"deepseek_v3\", " BASE ", \"kv_lora_rank\": 512, "
		"\"qk_rope_head_dim\": 64, \"qk_nope_head_dim\": 128, \"v_head_dim\": 128}",
		-EINVAL, "'q_lora_rank' is missing", NULL);
	refused("{\"model_type\": \"deepseek_v3\", " BASE ", \"kv_lora_rank\": 512, "
		"\"q_lora_rank\": 1536, \"qk_rope_head_dim\": 64, \"qk_nope_head_dim\": 128, "
		"\"v_head_dim\": 128, \"n_routed_experts\": 8, \"num_experts_per_tok\": 2, "
		"\"moe_intermediate_size\": 64, \"first_k_dense_replace\": 9}",
		-EINVAL, "'first_k_dense_replace' (9) is larger than 'num_hidden_layers' (4)",
		NULL);
	refused("{\"model_type\": \"qwen3_moe\", " BASE ", \"num_experts\": 8, "
		"\"num_experts_per_tok\": 2, \"moe_intermediate_size\": 64, "
		"\"mlp_only_layers\": [4]}",
		-EINVAL, "'mlp_only_layers' must hold layer numbers below 4, not 4", NULL);
	/* layer_types */
	refused(LLAMA(", \"sliding_window\": 8, \"layer_types\": [\"sliding_attention\"]"), -EINVAL,
		"'layer_types' has 1 entries but 'num_hidden_layers' is 4", NULL);
	refused(LLAMA(", \"sliding_window\": 8, \"layer_types\": [1, 2, 3, 4]"), -EINVAL,
		"'layer_types' must hold strings, not 1", NULL);
	refused(LLAMA(", \"layer_types\": [\"sliding_attention\", \"full_attention\", "
		      "\"full_attention\", \"full_attention\"]"),
		-EINVAL, "'sliding_window' is not set", NULL);
	/* the nested config names its keys with their path */
	refused("{\"model_type\": \"gemma3\", \"text_config\": {\"num_hidden_layers\": 4}}",
		-EINVAL, "'text_config.hidden_size' is missing", NULL);
	refused("{\"model_type\": \"gemma3\", \"text_config\": [1]}", -EINVAL,
		"'text_config' must be an object, not a list", NULL);
	/* shapes whose parameter count would overflow the estimator's 64-bit arithmetic */
	refused(
	    "{\"model_type\": \"mixtral\", \"hidden_size\": 1048575, \"num_hidden_layers\": 4095, "
	    "\"num_attention_heads\": 65535, \"intermediate_size\": 1048575, "
	    "\"vocab_size\": 16777215, \"max_position_embeddings\": 8, "
	    "\"num_local_experts\": 65535, \"num_experts_per_tok\": 1}",
	    -ERANGE, "more than 10^15", NULL);
}

static void test_config_not_json(void **state)
{
	mipart_model m;
	char *big, *bomb;
	size_t n;

	refused("", -EINVAL, "invalid JSON", NULL);
	refused("[1, 2]", -EINVAL, "the top level must be a JSON object", NULL);
	refused("{\"model_type\": \"llama\",}", -EINVAL, "config.json:1:", "invalid JSON", NULL);
	refused(LLAMA("} trailing"), -EINVAL, "invalid JSON", NULL);
	refused(LLAMA(", \"rope_theta\": NaN"), -EINVAL, "invalid JSON", NULL);
	refused(LLAMA(", \"rope_theta\": Infinity"), -EINVAL, "invalid JSON", NULL);
	refused(LLAMA(", \"rope_theta\": -Infinity"), -EINVAL, "invalid JSON", NULL);
	/* 2^64: past json_int_t */
	refused(LLAMA(", \"bos_token_id\": 18446744073709551616"), -EINVAL, "invalid JSON", NULL);
	refused("{\"model_type\": \"llama\", \"hidden_size\": 18446744073709551615}", -EINVAL,
		"invalid JSON", NULL);
	refused(LLAMA(", \"x\": \"\\u0000\""), -EINVAL, "invalid JSON", NULL);
	refused(LLAMA(", \"x\": \"\xff\xfe\""), -EINVAL, "invalid JSON", NULL);
	/* duplicate keys, also nested */
	refused("{\"model_type\": \"llama\", \"model_type\": \"mistral\"}", -EINVAL, "duplicate",
		NULL);
	refused(LLAMA(", \"rope_scaling\": {\"factor\": 8, \"factor\": 2}"), -EINVAL, "duplicate",
		NULL);
	/* nesting bombs: 33 levels, and 100000 */
	refused(LLAMA(", \"x\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"),
		-EINVAL, "nesting deeper than 32", NULL);
	n = 100000;
	bomb = malloc(2 * n + 16);
	assert_non_null(bomb);
	memset(bomb, '[', n);
	memset(bomb + n, ']', n);
	bomb[2 * n] = '\0';
	refused(bomb, -EINVAL, "nesting deeper than 32", NULL);
	free(bomb);
	/* brackets inside strings do not count; 32 levels (the object and 31 lists) is fine */
	accepted(LLAMA(", \"x\": \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"\""), &m);
	accepted(LLAMA(", \"x\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"),
		 &m);
	/* size cap */
	n = MIPART_HF_CONFIG_MAX + 1;
	big = malloc(n + 1);
	assert_non_null(big);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	big[n] = '\0';
	refused(big, -EFBIG, "1048576", NULL);
	free(big);
}

/* err may be NULL or empty; nothing is written then */
static void test_config_no_err(void **state)
{
	mipart_model m;
	char err[4] = "xyz";

	assert_int_equal(mipart_hf_parse_config(S("{}"), NULL, &m, NULL, 0), -EINVAL);
	assert_int_equal(mipart_hf_parse_config(S("{}"), NULL, &m, err, 0), -EINVAL);
	assert_string_equal(err, "xyz");
	/* a short buffer holds a terminated prefix */
	assert_int_equal(mipart_hf_parse_config(S("{}"), NULL, &m, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "con");
}

/* ------------------------------------------------------------------------------------------ */
/* safetensors headers */

#define T(name, dtype, shape, b, e)                                                                \
	"\"" name "\": {\"dtype\": \"" dtype "\", \"shape\": " shape ", \"data_offsets\": [" #b    \
	", " #e "]}"

static void test_header_valid(void **state)
{
	/* two tensors out of offset order, metadata, padding spaces as the format writes */
	static const char two[] = "{\"__metadata__\": {\"format\": \"pt\"}, "
		T("b", "BF16", "[4]", 12, 20) ", "
		T("a", "F16", "[2, 3]", 0, 12) "}    ";
	/* a scalar, an empty tensor, unknown keys, an escaped name */
	static const char odd[] = "{"
		T("s", "F32", "[]", 0, 4) ", "
		T("e", "I64", "[0, 7]", 4, 4) ", "
		"\"\\u00e9t\\n\": {\"dtype\": \"U8\", \"extra\": [{\"k\": null}], \"shape\": [1], "
		"\"data_offsets\": [4, 5]}}";
	/* the 4- and 6-bit types: bits x elements in whole bytes */
	static const char mx[] = "{"
		T("f4", "F4", "[4, 2]", 0, 4) ", "
		T("f6", "F6_E2M3", "[4]", 4, 7) ", "
		T("sc", "F8_E8M0", "[2]", 7, 9) "}";
	/* every other dtype of safetensors' Dtype */
	static const char all[] = "{"
		T("a", "BOOL", "[1]", 0, 1) ", "
		T("b", "U8", "[1]", 1, 2) ", "
		T("c", "I8", "[1]", 2, 3) ", "
		T("d", "F8_E5M2", "[1]", 3, 4) ", "
		T("e", "F8_E4M3", "[1]", 4, 5) ", "
		T("f", "I16", "[1]", 5, 7) ", "
		T("g", "U16", "[1]", 7, 9) ", "
		T("h", "F16", "[1]", 9, 11) ", "
		T("i", "BF16", "[1]", 11, 13) ", "
		T("j", "I32", "[1]", 13, 17) ", "
		T("k", "U32", "[1]", 17, 21) ", "
		T("l", "F32", "[1]", 21, 25) ", "
		T("m", "C64", "[1]", 25, 33) ", "
		T("n", "F64", "[1]", 33, 41) ", "
		T("o", "I64", "[1]", 41, 49) ", "
		T("p", "U64", "[1]", 49, 57) ", "
		T("q", "F6_E3M2", "[4]", 57, 60) "}";
	uint64_t bytes = 0, params = 0;
	char err[256] = "";

	assert_int_equal(header(two, 20, &bytes, &params, err, sizeof(err)), 0);
	assert_int_equal(bytes, 20);
	assert_int_equal(params, 10);
	assert_int_equal(header(odd, 5, &bytes, &params, err, sizeof(err)), 0);
	assert_int_equal(bytes, 5);
	assert_int_equal(params, 2);
	assert_int_equal(header(mx, 9, &bytes, &params, err, sizeof(err)), 0);
	assert_int_equal(bytes, 9);
	assert_int_equal(params, 14);
	assert_int_equal(header(all, 60, &bytes, &params, err, sizeof(err)), 0);
	assert_int_equal(bytes, 60);
	assert_int_equal(params, 20);
	/* no tensors, no data */
	assert_int_equal(header("{}", 0, &bytes, &params, err, sizeof(err)), 0);
	assert_int_equal(bytes, 0);
	assert_int_equal(params, 0);
	assert_int_equal(header("{\"__metadata__\": null}", 0, NULL, NULL, err, sizeof(err)), 0);
}

static void test_header_refused(void **state)
{
	header_refused("", 0, -EINVAL, "not a JSON object");
	header_refused("[]", 0, -EINVAL, "not a JSON object");
	header_refused("not json", 0, -EINVAL, "not a JSON object");
	header_refused("{\"a\": {\"dtype\": \"F16\"", 0, -EINVAL, "not valid JSON");
	header_refused("{" T("a", "F16", "[1]", 0, 2) "} x", 2, -EINVAL, "bytes after the header");
	header_refused("{" T("a", "F16", "[1]", 0, 2) ",}", 2, -EINVAL, "expected a string");
	/* wrong types */
	header_refused("{\"a\": {\"dtype\": 5, \"shape\": [1], \"data_offsets\": [0, 2]}}", 2,
		       -EINVAL, "tensor 'a': 'dtype' must be a string, not a number");
	header_refused("{\"a\": {\"dtype\": \"F16\", \"shape\": \"x\", \"data_offsets\": [0, 2]}}",
		       2, -EINVAL, "tensor 'a': 'shape' must be a list, not a string");
	header_refused("{\"a\": {\"dtype\": \"F16\", \"shape\": [1], \"data_offsets\": [0]}}", 2,
		       -EINVAL, "'data_offsets' must be [begin, end], not 1 numbers");
	header_refused("{\"a\": {\"dtype\": \"F16\", \"shape\": [1], \"data_offsets\": [0, 1, 2]}}",
		       2, -EINVAL, "not 3 numbers");
	header_refused("{\"a\": {\"dtype\": \"F16\", \"shape\": [-1], \"data_offsets\": [0, 2]}}",
		       2, -EINVAL,
		       "'shape' must hold non-negative integers, not a negative number");
	header_refused("{\"a\": {\"dtype\": \"F16\", \"shape\": [1.0], \"data_offsets\": [0, 2]}}",
		       2, -EINVAL, "'shape' must hold integers, not fractions");
	header_refused("{\"a\": {\"dtype\": \"F16\", \"shape\": [1e3], \"data_offsets\": [0, 2]}}",
		       2, -EINVAL, "not fractions");
	header_refused("{\"a\": {\"dtype\": \"F16\", \"shape\": [01], \"data_offsets\": [0, 2]}}",
		       2, -EINVAL, "leading zero");
	header_refused("{\"a\": {\"dtype\": \"F16\", \"shape\": [1], \"data_offsets\": [-2, 0]}}",
		       2, -EINVAL, "'data_offsets' must hold non-negative integers");
	header_refused("{\"a\": [1, 2]}", 0, -EINVAL, "tensor 'a': must be an object, not a list");
	header_refused("{\"a\": {\"shape\": [1], \"data_offsets\": [0, 2]}}", 2, -EINVAL,
		       "tensor 'a': no 'dtype'");
	header_refused("{\"a\": {\"dtype\": \"F16\", \"dtype\": \"F16\", \"shape\": [1], "
		       "\"data_offsets\": [0, 2]}}",
		       2, -EINVAL, "'dtype' appears twice");
	header_refused("{" T("a", "F128", "[1]", 0, 16) "}", 16, -EINVAL, "unknown dtype 'F128'");
	header_refused("{" T("a", "f16", "[1]", 0, 2) "}", 2, -EINVAL, "unknown dtype 'f16'");
	header_refused("{\"__metadata__\": {\"format\": 1}}", 0, -EINVAL,
		       "'__metadata__' must hold only strings, not a number");
	header_refused("{\"__metadata__\": [], \"__metadata__\": {}}", 0, -EINVAL,
		       "'__metadata__' must be an object of strings, not a list");
	header_refused("{\"__metadata__\": {}, \"__metadata__\": {}}", 0, -EINVAL,
		       "'__metadata__' appears twice");
	/* duplicate names, also when spelled with an escape */
	header_refused("{" T("a", "U8", "[1]", 0, 1) ", " T("a", "U8", "[1]", 1, 2) "}", 2, -EINVAL,
		       "tensor 'a' appears twice");
	header_refused("{" T("a", "U8", "[1]", 0, 1) ", " T("\\u0061", "U8", "[1]", 1, 2) "}", 2,
		       -EINVAL, "tensor 'a' appears twice");
	/* strings: control characters, lone surrogates, invalid UTF-8 */
	header_refused("{\"a\tb\": {}}", 0, -EINVAL, "control character");
	header_refused("{\"\\ud800\": {}}", 0, -EINVAL, "invalid escape");
	header_refused("{\"\\udc00x\": {}}", 0, -EINVAL, "invalid escape");
	header_refused("{\"\\x\": {}}", 0, -EINVAL, "invalid escape");
	header_refused("{\"\xc0\xaf\": {}}", 0, -EINVAL, "invalid UTF-8");
	header_refused("{\"\xed\xa0\x80\": {}}", 0, -EINVAL, "invalid UTF-8");
	header_refused("{\"\xff\": {}}", 0, -EINVAL, "invalid UTF-8");
	/* NaN and Infinity are not JSON, wherever they are */
	header_refused("{\"a\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1], "
		       "\"x\": NaN}}",
		       1, -EINVAL, "not valid JSON");
	header_refused(
	    "{\"a\": {\"dtype\": \"U8\", \"shape\": [Infinity], \"data_offsets\": [0, 1]}}", 1,
	    -EINVAL, "must hold non-negative integers");
}

static void test_header_layout(void **state)
{
	char *bomb;
	size_t n;

	/* offsets past the end of the data */
	header_refused("{" T("a", "U8", "[100]", 0, 100) "}", 8, -EINVAL,
		       "'data_offsets' [0, 100] run past the end of the file (8 bytes of tensor "
		       "data)");
	/* end before begin */
	header_refused("{" T("a", "U8", "[0]", 4, 2) "}", 8, -EINVAL, "end before they begin");
	/* dtype x shape does not match the offsets */
	header_refused("{" T("a", "F16", "[2, 3]", 0, 10) "}", 10, -EINVAL,
		       "tensor 'a': F16 [2, 3] is 12 bytes but 'data_offsets' [0, 10] hold 10");
	header_refused("{" T("a", "F4", "[3]", 0, 2) "}", 2, -EINVAL,
		       "F4 [3] is 12 bits, not a whole number of bytes");
	/* overlap, gap, data not covered at the end or the start */
	header_refused("{" T("a", "U8", "[8]", 0, 8) ", " T("b", "U8", "[8]", 4, 12) "}", 12,
		       -EINVAL, "tensors 'a' and 'b' overlap (bytes 4 to 8)");
	header_refused("{" T("a", "U8", "[4]", 0, 4) ", " T("b", "U8", "[4]", 8, 12) "}", 12,
		       -EINVAL, "bytes 4 to 8 of the tensor data belong to no tensor (before 'b')");
	header_refused("{" T("a", "U8", "[4]", 4, 8) "}", 8, -EINVAL,
		       "bytes 0 to 4 of the tensor data belong to no tensor");
	header_refused("{" T("a", "U8", "[4]", 0, 4) "}", 8, -EINVAL,
		       "the tensors cover 4 bytes but the file holds 8 bytes of tensor data");
	header_refused("{}", 1, -EINVAL, "the tensors cover 0 bytes but the file holds 1");
	/* 2^64 overflows: of the number, of the elements, of the bits */
	header_refused("{\"a\": {\"dtype\": \"U8\", \"shape\": [18446744073709551616], "
		       "\"data_offsets\": [0, 0]}}",
		       0, -ERANGE, "'shape' holds a number past 2^64");
	header_refused("{\"a\": {\"dtype\": \"U8\", \"shape\": [4294967296, 4294967296], "
		       "\"data_offsets\": [0, 0]}}",
		       0, -ERANGE, "shape [4294967296, 4294967296] has more than 2^64 elements");
	header_refused("{\"a\": {\"dtype\": \"F64\", \"shape\": [4294967296, 536870912], "
		       "\"data_offsets\": [0, 0]}}",
		       0, -ERANGE, "is more than 2^64 bits");
	header_refused("{\"a\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, "
		       "18446744073709551616]}}",
		       0, -ERANGE, "past 2^64");
	/* nesting bombs in ignored values */
	header_refused(
	    "{\"a\": {\"x\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}",
	    0, -EINVAL, "the header nests deeper than 32");
	n = 1000000;
	bomb = malloc(n + 64);
	assert_non_null(bomb);
	memcpy(bomb, "{\"a\": {\"x\": ", 12);
	memset(bomb + 12, '[', n - 12);
	bomb[n] = '\0';
	header_refused(bomb, 0, -EINVAL, "nests deeper than 32");
	free(bomb);
	/* 100 MB cap, checked before anything is read */
	{
		char err[256] = "";
		uint64_t bytes = 1;

		assert_int_equal(
		    hf_safetensors_parse_header("{}", MIPART_SAFETENSORS_HEADER_MAX + 1, UINT64_MAX,
						&bytes, NULL, err, sizeof(err)),
		    -EFBIG);
		assert_int_equal(bytes, 1);
		assert_int_equal(hf_safetensors_parse_header("{}", 2, 9, &bytes, NULL, err,
							     sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "runs past the end of the file"));
	}
}

/* ------------------------------------------------------------------------------------------ */
/* safetensors files */

static void file_refused(const char *path, int code, const char *frag)
{
	uint64_t bytes = 77, params = 77;
	char err[512] = "";
	int r = mipart_safetensors_bytes(path, &bytes, &params, err, sizeof(err));

	if (r != code)
		fail_msg("expected %d, got %d (%s) for %s", code, r, err, path);
	assert_true(bytes == 77 && params == 77);
	if (!strstr(err, frag))
		fail_msg("message \"%s\" lacks \"%s\"", err, frag);
	assert_non_null(strstr(err, path));
}

static void test_file(void **state)
{
	struct scratch_dir *s = *state;
	char p[PATH_MAX], err[256] = "";
	uint64_t bytes = 0, params = 0;

	in(s, "ok.safetensors", p, sizeof(p));
	write_st(p, "{" T("w", "BF16", "[4, 8]", 0, 64) ", " T("b", "F32", "[8]", 64, 96) "}  ",
		 96);
	assert_int_equal(mipart_safetensors_bytes(p, &bytes, &params, err, sizeof(err)), 0);
	assert_int_equal(bytes, 96);
	assert_int_equal(params, 40);
	assert_int_equal(mipart_safetensors_bytes(p, NULL, NULL, NULL, 0), 0);

	in(s, "short.safetensors", p, sizeof(p));
	write_raw(p, "\x02\0\0\0\0", 5);
	file_refused(p, -EINVAL, "truncated: 5 bytes");
	in(s, "empty.safetensors", p, sizeof(p));
	write_raw(p, "", 0);
	file_refused(p, -EINVAL, "truncated: 0 bytes");
	/* header length larger than the file */
	in(s, "long.safetensors", p, sizeof(p));
	write_st_len(p, 1000, "{}", 0);
	file_refused(p, -EINVAL, "header length 1000 runs past the end of the file (10 bytes)");
	/* larger than the format's limit, and 2^64 - 1 */
	in(s, "huge.safetensors", p, sizeof(p));
	write_st_len(p, (uint64_t)MIPART_SAFETENSORS_HEADER_MAX + 1, "{}", 0);
	file_refused(p, -EFBIG, "larger than the format's limit of 100000000 bytes");
	write_st_len(p, UINT64_MAX, "{}", 0);
	file_refused(p, -EFBIG, "header length 18446744073709551615");
	/* not JSON */
	in(s, "garbage.safetensors", p, sizeof(p));
	write_st(p, "PK\3\4 not json", 0);
	file_refused(p, -EINVAL, "not a JSON object");
	/* the tensor runs past the end of the file */
	in(s, "cut.safetensors", p, sizeof(p));
	write_st(p, "{" T("w", "BF16", "[4, 8]", 0, 64) "}", 32);
	file_refused(p, -EINVAL, "run past the end of the file (32 bytes of tensor data)");
	/* a Git LFS pointer */
	in(s, "lfs.safetensors", p, sizeof(p));
	write_raw(p, S("version https://git-lfs.github.com/spec/v1\noid sha256:0123\nsize 42\n"));
	file_refused(p, -EINVAL, "Git LFS pointer");
	/* not a file */
	in(s, "dir.safetensors", p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
	file_refused(p, -EINVAL, "not a regular file");
	in(s, "fifo.safetensors", p, sizeof(p));
	assert_int_equal(mkfifo(p, 0644), 0);
	file_refused(p, -EINVAL, "not a regular file");
	in(s, "missing.safetensors", p, sizeof(p));
	file_refused(p, -ENOENT, "cannot open");
}

/* A 64 GiB sparse file: only its header is read, so this takes no time and no memory. */
static void test_file_never_reads_data(void **state)
{
	struct scratch_dir *s = *state;
	char p[PATH_MAX], err[256] = "";
	uint64_t bytes = 0, params = 0, big = UINT64_C(1) << 36;
	char hdr[256];
	int fd;

	snprintf(hdr, sizeof(hdr),
		 "{\"w\": {\"dtype\": \"BF16\", \"shape\": [%llu], \"data_offsets\": [0, %llu]}}",
		 (unsigned long long)(big / 2), (unsigned long long)big);
	in(s, "big.safetensors", p, sizeof(p));
	write_st(p, hdr, 0);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	if (ftruncate(fd, (off_t)(8 + strlen(hdr) + big)) < 0) {
		close(fd);
		skip();
	}
	close(fd);
	assert_int_equal(mipart_safetensors_bytes(p, &bytes, &params, err, sizeof(err)), 0);
	assert_true(bytes == big);
	assert_true(params == big / 2);
}

/* ------------------------------------------------------------------------------------------ */
/* model directories */

#define TINY_CONFIG LLAMA("")
#define INDEX_NAME_FOR_TEST "model.safetensors.index.json"

static void make_dir(const struct scratch_dir *s, const char *name, char *buf, size_t size)
{
	in(s, name, buf, size);
	assert_int_equal(util_mkdir_p(buf), 0);
}

static void put(const char *dir, const char *name, const char *text)
{
	char p[PATH_MAX];

	assert_true(util_pathf(p, sizeof(p), "%s/%s", dir, name) >= 0);
	write_raw(p, text, strlen(text));
}

static void put_st(const char *dir, const char *name, const char *header_text, uint64_t data)
{
	char p[PATH_MAX];

	assert_true(util_pathf(p, sizeof(p), "%s/%s", dir, name) >= 0);
	write_st(p, header_text, data);
}

static void dir_refused(const char *dir, int code, const char *frag)
{
	mipart_model m, poison;
	char err[512] = "";
	int r;

	memset(&m, 0x5a, sizeof(m));
	poison = m;
	r = mipart_hf_load_dir(dir, &m, err, sizeof(err));
	if (r != code)
		fail_msg("expected %d, got %d (%s) for %s", code, r, err, dir);
	assert_memory_equal(&m, &poison, sizeof(m));
	if (!strstr(err, frag))
		fail_msg("message \"%s\" lacks \"%s\"", err, frag);
}

static void load(const char *dir, mipart_model *m)
{
	char err[512] = "";
	int r = mipart_hf_load_dir(dir, m, err, sizeof(err));

	if (r != 0)
		fail_msg("%s: %d %s", dir, r, err);
}

#define SHARD1 "{" T("model.embed_tokens.weight", "BF16", "[1000, 256]", 0, 512000) "}"
#define SHARD2                                                                                     \
	"{\"__metadata__\": {\"format\": \"pt\"}, " T("lm_head.weight", "BF16", "[1000, 256]", 0,  \
						      512000) ", " T("model.norm.weight", "BF16",  \
								     "[256]", 512000, 512512) "}"
#define WEIGHT_MAP                                                                                 \
	"\"weight_map\": {\"model.embed_tokens.weight\": \"model-00001-of-00002.safetensors\", "   \
	"\"lm_head.weight\": \"model-00002-of-00002.safetensors\", "                               \
	"\"model.norm.weight\": \"model-00002-of-00002.safetensors\"}"

static void test_dir_index(void **state)
{
	struct scratch_dir *s = *state;
	char d[PATH_MAX];
	mipart_model m;

	make_dir(s, "Llama-Tiny", d, sizeof(d));
	put(d, "config.json", TINY_CONFIG);
	put_st(d, "model-00001-of-00002.safetensors", SHARD1, 512000);
	put_st(d, "model-00002-of-00002.safetensors", SHARD2, 512512);
	/* a stray file the index does not list (Mistral repositories ship consolidated.*) */
	put_st(d, "consolidated.safetensors", "{" T("x", "U8", "[1]", 0, 1) "}", 1);

	/* no total_size: every listed shard's header, once each */
	put(d, INDEX_NAME_FOR_TEST, "{\"metadata\": {}, " WEIGHT_MAP "}");
	load(d, &m);
	assert_true(m.weight_bytes == 1024512);
	assert_true(m.params == 512256);
	assert_string_equal(m.id, "Llama-Tiny");
	assert_int_equal(m.layers, 4);

	/* total_size and total_parameters when the index has them */
	put(d, INDEX_NAME_FOR_TEST,
	    "{\"metadata\": {\"total_size\": 1024512, \"total_parameters\": 512256}, " WEIGHT_MAP
	    "}");
	load(d, &m);
	assert_true(m.weight_bytes == 1024512);
	assert_true(m.params == 512256);
	put(d, INDEX_NAME_FOR_TEST, "{\"metadata\": {\"total_size\": 1024512}, " WEIGHT_MAP "}");
	load(d, &m);
	assert_true(m.weight_bytes == 1024512);
	assert_true(m.params == 0);

	/* an index that claims more than the shards hold */
	put(d, INDEX_NAME_FOR_TEST, "{\"metadata\": {\"total_size\": 99999999}, " WEIGHT_MAP "}");
	dir_refused(d, -EINVAL, "'metadata.total_size' is 99999999 bytes but the 2 shards hold");
	put(d, INDEX_NAME_FOR_TEST, "{\"metadata\": {\"total_size\": -1}, " WEIGHT_MAP "}");
	dir_refused(d, -EINVAL, "'metadata.total_size' must be a non-negative integer, not -1");
	put(d, INDEX_NAME_FOR_TEST, "{\"metadata\": {\"total_size\": 1.5e9}, " WEIGHT_MAP "}");
	dir_refused(d, -EINVAL, "not 1.5e+09");
	/* a shard that is missing (partial download) */
	put(d, INDEX_NAME_FOR_TEST,
	    "{\"weight_map\": {\"a\": \"model-00001-of-00002.safetensors\", \"b\": "
	    "\"model-00003-of-00003.safetensors\"}}");
	dir_refused(d, -ENOENT, "lists 'model-00003-of-00003.safetensors', but it is missing");
	/* names that leave the directory */
	put(d, INDEX_NAME_FOR_TEST, "{\"weight_map\": {\"a\": \"../x.safetensors\"}}");
	dir_refused(d, -EINVAL,
		    "'weight_map' entry 'a' must name a file in the directory, not a path");
	put(d, INDEX_NAME_FOR_TEST, "{\"weight_map\": {\"a\": \"/etc/passwd\"}}");
	dir_refused(d, -EINVAL, "must name a file in the directory");
	put(d, INDEX_NAME_FOR_TEST, "{\"weight_map\": {\"a\": 3}}");
	dir_refused(d, -EINVAL, "not 3");
	put(d, INDEX_NAME_FOR_TEST, "{\"weight_map\": [\"x\"]}");
	dir_refused(d, -EINVAL, "'weight_map' must be an object, not a list");
	put(d, INDEX_NAME_FOR_TEST, "{\"metadata\": {}}");
	dir_refused(d, -EINVAL, "'weight_map' must be an object, not missing");
	put(d, INDEX_NAME_FOR_TEST, "{\"weight_map\": {\"a\": \"x\", \"a\": \"y\"}}");
	dir_refused(d, -EINVAL, "duplicate");
	put(d, INDEX_NAME_FOR_TEST,
	    "{\"weight_map\": {\"a\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]"
	    "]]]]]]]]]]]]]]]]]]]]]]]]]]]}}");
	dir_refused(d, -EINVAL, "nesting deeper than 32");
	/* a listed shard that is broken: the shard is named */
	put(d, INDEX_NAME_FOR_TEST, "{" WEIGHT_MAP "}");
	put_st(d, "model-00002-of-00002.safetensors", SHARD2, 512000);
	dir_refused(d, -EINVAL, "model-00002-of-00002.safetensors: tensor 'model.norm.weight'");
}

static void test_dir_files(void **state)
{
	struct scratch_dir *s = *state;
	char d[PATH_MAX], p[PATH_MAX];
	mipart_model m;

	make_dir(s, "plain", d, sizeof(d));
	put(d, "config.json", TINY_CONFIG);
	/* no weights: the shape alone */
	load(d, &m);
	assert_int_equal(m.weight_bytes, 0);
	assert_int_equal(m.params, 0);
	assert_string_equal(m.id, "plain");

	put_st(d, "a.safetensors", SHARD1, 512000);
	put_st(d, "b.safetensors", SHARD2, 512512);
	put_st(d, ".hidden.safetensors", "garbage", 0);
	put(d, "pytorch_model.bin", "not read");
	load(d, &m);
	assert_true(m.weight_bytes == 1024512);
	assert_true(m.params == 512256);

	/* a broken file is named */
	put_st(d, "c.safetensors", "{" T("x", "U8", "[2]", 0, 2) "}", 1);
	util_pathf(p, sizeof(p), "%s/c.safetensors", d);
	dir_refused(d, -EINVAL, p);

	/* packed quantization: the element count is not a parameter count */
	unlink(p);
	put(d, "config.json", LLAMA(", \"quantization_config\": {\"quant_method\": \"awq\", "
				    "\"bits\": 4, \"group_size\": 128}"));
	load(d, &m);
	assert_true(m.weight_bytes == 1024512);
	assert_int_equal(m.params, 0);

	/* config problems name the file */
	put(d, "config.json", "{\"model_type\": \"llama\"}");
	util_pathf(p, sizeof(p), "%s/config.json: 'num_hidden_layers' is missing", d);
	dir_refused(d, -EINVAL, p);
	util_pathf(p, sizeof(p), "%s/config.json", d);
	assert_int_equal(unlink(p), 0);
	dir_refused(d, -ENOENT, "cannot open");
	util_pathf(p, sizeof(p), "%s/nothing-here", s->dir);
	dir_refused(p, -ENOENT, "cannot open");
	put(d, "config.json", TINY_CONFIG);
	util_pathf(p, sizeof(p), "%s/config.json", d);
	dir_refused(p, -ENOTDIR, "cannot open");
}

static void test_dir_ids(void **state)
{
	struct scratch_dir *s = *state;
	char d[PATH_MAX], link[PATH_MAX];
	mipart_model m;

	/* the Hugging Face cache layout gives the repository id */
	make_dir(s, "hub/models--meta-llama--Llama-3.1-8B/snapshots/0123abcd", d, sizeof(d));
	put(d, "config.json", LLAMA(", \"_name_or_path\": \"someone/base-model\""));
	load(d, &m);
	assert_string_equal(m.id, "meta-llama/Llama-3.1-8B");
	/* through a symlink too */
	in(s, "link", link, sizeof(link));
	assert_int_equal(symlink(d, link), 0);
	load(link, &m);
	assert_string_equal(m.id, "meta-llama/Llama-3.1-8B");
	/* else _name_or_path when it is an id */
	make_dir(s, "local-copy", d, sizeof(d));
	put(d, "config.json", LLAMA(", \"_name_or_path\": \"Qwen/Qwen3-8B\""));
	load(d, &m);
	assert_string_equal(m.id, "Qwen/Qwen3-8B");
	/* else the directory's name, with a trailing slash */
	put(d, "config.json", LLAMA(", \"_name_or_path\": \"/tmp/x\""));
	assert_true(util_pathf(link, sizeof(link), "%s/", d) >= 0);
	load(link, &m);
	assert_string_equal(m.id, "local-copy");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_llama31_8b),
		cmocka_unit_test(test_mixtral_8x7b),
		cmocka_unit_test(test_qwen3_30b_a3b),
		cmocka_unit_test(test_gemma3_27b),
		cmocka_unit_test(test_deepseek_v3),
		cmocka_unit_test(test_gpt_oss_20b),
		cmocka_unit_test(test_phi2),
		cmocka_unit_test(test_llama4_chunked),
		cmocka_unit_test(test_llama4_maverick),
		cmocka_unit_test(test_vision_tokens),
		cmocka_unit_test(test_hub_ids),
		cmocka_unit_test(test_fixture_dir),
		cmocka_unit_test(test_sliding_rules),
		cmocka_unit_test(test_moe_rules),
		cmocka_unit_test(test_quantization),
		cmocka_unit_test(test_name_or_path),
		cmocka_unit_test(test_config_refused),
		cmocka_unit_test(test_config_not_json),
		cmocka_unit_test(test_config_no_err),
		cmocka_unit_test(test_header_valid),
		cmocka_unit_test(test_header_refused),
		cmocka_unit_test(test_header_layout),
		cmocka_unit_test_setup_teardown(test_file, scratch_setup, scratch_teardown),
		cmocka_unit_test_setup_teardown(test_file_never_reads_data, scratch_setup,
						scratch_teardown),
		cmocka_unit_test_setup_teardown(test_dir_index, scratch_setup, scratch_teardown),
		cmocka_unit_test_setup_teardown(test_dir_files, scratch_setup, scratch_teardown),
		cmocka_unit_test_setup_teardown(test_dir_ids, scratch_setup, scratch_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
