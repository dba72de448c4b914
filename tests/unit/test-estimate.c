// SPDX-License-Identifier: MIT
/*
 * Unit tests for estimate.c and model.c against hand-computed values: dense MHA and GQA KV
 * bytes, tensor parallel (split and replicated KV heads), MLA, sliding windows, MoE and
 * quantized weights, the fit rule at its boundary, and the option parsers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "mipart/estimate.h"

/* meta-llama/Llama-3.1-8B-Instruct config.json */
static mipart_model llama8b(void)
{
	mipart_model m = { .layers = 32, .hidden = 4096, .heads = 32, .kv_heads = 8, .head_dim = 128,
			   .intermediate = 14336, .vocab = 128256, .max_position = 131072 };

	strcpy(m.id, "meta-llama/Llama-3.1-8B-Instruct");
	strcpy(m.dtype, "bfloat16");
	return m;
}

static void test_dense_gqa(void **state)
{
	mipart_model m = llama8b();
	mipart_estimate_options o = { .max_model_len = 8192 };
	mipart_estimate e;
	uint64_t linear = 0;

	/* 32 x (q 4096x4096 + k,v 4096x1024 + o 4096x4096 + mlp 3x4096x14336 + 2 norms)
	 * + embed and lm_head 128256x4096 + final norm = 8,030,261,248 */
	assert_int_equal(mipart_model_params(&m, &linear), 8030261248ull);
	assert_int_equal(linear, 32ull * (4096 * 4096 * 2 + 2 * 4096 * 1024 + 3ull * 4096 * 14336));
	assert_int_equal(mipart_estimate_model(&m, &o, &e), 0);
	/* 2 (K, V) x 32 layers x 8 KV heads x 128 x 2 bytes */
	assert_int_equal(e.kv_bytes_per_token, 131072);
	assert_int_equal(e.weights_bytes, 2 * 8030261248ull);
	assert_string_equal(e.precision_name, "bf16");
	o.kv_fp8 = true;
	assert_int_equal(mipart_estimate_model(&m, &o, &e), 0);
	assert_int_equal(e.kv_bytes_per_token, 65536);
}

static void test_mha_and_tensor_parallel(void **state)
{
	mipart_model m = llama8b();
	mipart_estimate_options o = { .max_model_len = 4096, .tensor_parallel = 4 };
	mipart_estimate e;

	/* TP 4: 8 KV heads split, 2 per GPU; weights split */
	assert_int_equal(mipart_estimate_model(&m, &o, &e), 0);
	assert_int_equal(e.kv_bytes_per_token, 2 * 32 * 2 * 128 * 2);
	assert_int_equal(e.weights_bytes, 2 * 8030261248ull / 4);
	/* TP 16: fewer KV heads than ranks, one replicated per GPU */
	o.tensor_parallel = 16;
	assert_int_equal(mipart_estimate_model(&m, &o, &e), 0);
	assert_int_equal(e.kv_bytes_per_token, 2 * 32 * 1 * 128 * 2);
	/* TP 3 does not divide 32 heads */
	o.tensor_parallel = 3;
	assert_int_equal(mipart_estimate_model(&m, &o, &e), -EINVAL);
	/* MHA (Llama-2-7B): 32 KV heads */
	m.kv_heads = 32;
	m.intermediate = 11008;
	m.vocab = 32000;
	m.max_position = 4096;
	o.tensor_parallel = 1;
	assert_int_equal(mipart_estimate_model(&m, &o, &e), 0);
	assert_int_equal(e.kv_bytes_per_token, 2 * 32 * 32 * 128 * 2);
	/* longer than the model allows */
	o.max_model_len = 4097;
	assert_int_equal(mipart_estimate_model(&m, &o, &e), -E2BIG);
}

static void test_mla(void **state)
{
	/* deepseek-ai/DeepSeek-V3 */
	mipart_model m = { .layers = 61, .hidden = 7168, .heads = 128, .kv_heads = 128, .head_dim = 192,
			   .intermediate = 18432, .vocab = 129280, .max_position = 163840,
			   .experts = 256, .experts_per_token = 8, .moe_intermediate = 2048,
			   .shared_experts = 1, .dense_layers = 3, .attention = MIPART_ATTN_MLA,
			   .q_lora_rank = 1536, .kv_lora_rank = 512, .qk_rope_head_dim = 64,
			   .qk_nope_head_dim = 128, .v_head_dim = 128 };
	mipart_estimate_options o = { .max_model_len = 8192, .precision = MIPART_PREC_FP8 };
	mipart_estimate e;
	uint64_t p = mipart_model_params(&m, NULL);

	/* 671B within 0.1% */
	assert_true(p > 670300000000ull && p < 671700000000ull);
	assert_int_equal(mipart_estimate_model(&m, &o, &e), 0);
	/* one latent of 512 + 64 = 576, padded to 640 elements, x 2 bytes x 61 layers */
	assert_int_equal(e.kv_bytes_per_token, 61 * 640 * 2);
	/* the latent is the same on every tensor-parallel rank */
	o.tensor_parallel = 8;
	assert_int_equal(mipart_estimate_model(&m, &o, &e), 0);
	assert_int_equal(e.kv_bytes_per_token, 61 * 640 * 2);
}

static void test_sliding_window(void **state)
{
	/* google/gemma-2-9b-it: 42 layers, every other one sliding over 4096 */
	mipart_model m = { .layers = 42, .hidden = 3584, .heads = 16, .kv_heads = 8, .head_dim = 256,
			   .intermediate = 14336, .vocab = 256000, .max_position = 8192,
			   .tied_embeddings = true, .attention = MIPART_ATTN_HYBRID,
			   .sliding_window = 4096, .sliding_layers = 21 };
	mipart_estimate_options o = { .max_model_len = 8192 };
	mipart_estimate e;
	uint64_t per_layer_token = 2 * 8 * 256 * 2;

	assert_int_equal(mipart_estimate_model(&m, &o, &e), 0);
	/* (21 x 8192 + 21 x 4096) x 8192 bytes / 8192 tokens */
	assert_int_equal(e.kv_bytes_per_token, per_layer_token * (21 * 8192 + 21 * 4096) / 8192);
	/* within the window every layer holds every token */
	o.max_model_len = 4096;
	assert_int_equal(mipart_estimate_model(&m, &o, &e), 0);
	assert_int_equal(e.kv_bytes_per_token, per_layer_token * 42);
}

static void test_moe_and_quantized_weights(void **state)
{
	/* mistralai/Mixtral-8x7B-Instruct-v0.1 */
	mipart_model m = { .layers = 32, .hidden = 4096, .heads = 32, .kv_heads = 8, .head_dim = 128,
			   .intermediate = 14336, .vocab = 32000, .max_position = 32768,
			   .experts = 8, .experts_per_token = 2, .moe_intermediate = 14336 };
	mipart_estimate_options o = { .max_model_len = 4096 };
	mipart_estimate bf, f8, awq;
	uint64_t linear = 0, total = mipart_model_params(&m, &linear), rest = total - linear;

	assert_int_equal(total, 46702792704ull);
	assert_int_equal(mipart_estimate_model(&m, &o, &bf), 0);
	o.precision = MIPART_PREC_FP8;
	assert_int_equal(mipart_estimate_model(&m, &o, &f8), 0);
	o.precision = MIPART_PREC_AWQ;
	assert_int_equal(mipart_estimate_model(&m, &o, &awq), 0);
	assert_int_equal(bf.weights_bytes, 2 * total);
	/* fp8: linear layers 1 byte, embeddings, lm_head, norms and routers 2 */
	assert_int_equal(f8.weights_bytes, linear + 2 * rest);
	/* AWQ group 128: 0.5 + 2.5 / 128 bytes per linear parameter */
	assert_true(awq.weights_bytes >= (uint64_t)(linear * (0.5 + 2.5 / 128) + 2 * rest) - 1 &&
		    awq.weights_bytes <= (uint64_t)(linear * (0.5 + 2.5 / 128) + 2 * rest) + 1);
}

static void test_fit_boundary(void **state)
{
	mipart_model m = llama8b();
	mipart_estimate_options o = { .max_model_len = 8192 };
	mipart_estimate e, at;

	assert_int_equal(mipart_estimate_model(&m, &o, &e), 0);
	o.device_bytes = e.min_device_bytes;
	assert_int_equal(mipart_estimate_model(&m, &o, &at), 0);
	assert_true(at.fits);
	assert_true(at.kv_cache_tokens >= 8192);
	assert_true(at.max_model_len_fit >= 8192);
	o.device_bytes = e.min_device_bytes - 64 * 1024;
	assert_int_equal(mipart_estimate_model(&m, &o, &at), 0);
	assert_false(at.fits);
	assert_true(at.max_model_len_fit < 8192);
	/* the budget adds up: usable = weights + activation + runtime + KV cache */
	o.device_bytes = 24ull << 30;
	assert_int_equal(mipart_estimate_model(&m, &o, &at), 0);
	assert_true((uint64_t)at.kv_cache_bytes + at.weights_bytes + at.activation_bytes +
			    at.non_torch_bytes <= at.usable_bytes + 2);
	assert_true((uint64_t)at.kv_cache_bytes + at.weights_bytes + at.activation_bytes +
			    at.non_torch_bytes + 2 >= at.usable_bytes);
}

static void test_parsers(void **state)
{
	uint64_t b = 0;
	mipart_precision p = MIPART_PREC_AUTO;

	assert_int_equal(mipart_size_parse("24GiB", &b), 0);
	assert_int_equal(b, 24ull << 30);
	assert_int_equal(mipart_size_parse("1.5 TiB", &b), 0);
	assert_int_equal(b, 3ull << 39);
	assert_int_equal(mipart_size_parse("25769803776", &b), 0);
	assert_int_equal(b, 25769803776ull);
	assert_int_equal(mipart_size_parse("24GB", &b), -EINVAL);
	assert_int_equal(mipart_size_parse("24G", &b), -EINVAL);
	assert_int_equal(mipart_size_parse("-1GiB", &b), -EINVAL);
	assert_int_equal(mipart_size_parse("1.5", &b), -EINVAL);
	assert_int_equal(mipart_size_parse("99999999999TiB", &b), -ERANGE);
	assert_int_equal(mipart_precision_parse("FP8", &p), 0);
	assert_int_equal(p, MIPART_PREC_FP8);
	assert_int_equal(mipart_precision_parse("bfloat16", &p), 0);
	assert_int_equal(p, MIPART_PREC_BF16);
	assert_int_equal(mipart_precision_parse("fp4", &p), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dense_gqa),	  cmocka_unit_test(test_mha_and_tensor_parallel),
		cmocka_unit_test(test_mla),		  cmocka_unit_test(test_sliding_window),
		cmocka_unit_test(test_moe_and_quantized_weights), cmocka_unit_test(test_fit_boundary),
		cmocka_unit_test(test_parsers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
