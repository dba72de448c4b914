// SPDX-License-Identifier: MIT
/*
 * Unit tests for catalog.c on the real data/models.json: it loads, every model in it is a shape
 * that can exist, the families the estimator is asked about are there with the facts their
 * config.json gives, and the published parameter count agrees with mipart_model_params() within
 * 2% wherever the shape determines it (a cross-check of the data: a wrong layer count or
 * intermediate size shows up here). Then lookups by id and alias in any case, and hostile
 * catalogs: each fails with an error that names the model and the key, and leaves *ret alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mipart/catalog.h"
#include "mipart/model.h"
#include "config.h"
#include "util.h"
#include "../tools/csv-fields.h"
#include "banned.h"

#define REAL_CATALOG MIPART_SOURCE_DATADIR "/models.json"
#define SENTINEL ((mipart_catalog *)(uintptr_t)0x5a5a5a5a)

/* A valid model object; extra is spliced in before the closing brace. */
#define MODEL(id, alias, extra)                                                                    \
	"{\"id\": \"" id "\", \"aliases\": [\"" alias "\"], \"arch\": \"llama\", \"layers\": 2, "  \
	"\"hidden\": 64, \"heads\": 4, \"kv_heads\": 2, \"intermediate\": 128, \"vocab\": 100, "   \
	"\"max_position\": 512, \"dtype\": \"bfloat16\", \"source\": \"test\"" extra "}"
#define CATALOG(models) "{\"version\": 1, \"models\": [" models "]}"
/* A model without aliases and dtype, to give them as the test needs. */
#define BARE(id, extra)                                                                            \
	"{\"id\": \"" id "\", \"arch\": \"llama\", \"layers\": 2, \"hidden\": 64, \"heads\": 4, "  \
	"\"intermediate\": 128, \"vocab\": 100, \"max_position\": 512, \"source\": \"test\"" extra \
	"}"

static mipart_catalog *real;

static int group_setup(void **state)
{
	char err[256] = "";
	int r = mipart_catalog_load(REAL_CATALOG, &real, err, sizeof(err));

	if (r < 0)
		fprintf(stderr, "# cannot load '%s': %s\n", REAL_CATALOG, err);
	return r < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	real = mipart_catalog_free(real);
	return 0;
}

static const mipart_model *must_find(const char *name)
{
	const mipart_model *m = NULL;

	if (mipart_catalog_find(real, name, &m) < 0)
		fail_msg("'%s' is not in the catalog", name);
	return m;
}

static void test_real_catalog_loads(void **state)
{
	assert_true(mipart_catalog_count(real) >= 35);
	assert_null(mipart_catalog_get(real, mipart_catalog_count(real)));
	assert_null(mipart_catalog_aliases(real, mipart_catalog_count(real)));
	assert_null(mipart_catalog_source(real, mipart_catalog_count(real)));
}

/* Every model is a shape that can exist; fields of another kind of model stay zero. */
static void test_every_model_is_sane(void **state)
{
	for (size_t i = 0; i < mipart_catalog_count(real); i++) {
		const mipart_model *m = mipart_catalog_get(real, i);
		const char *const *aliases = mipart_catalog_aliases(real, i);
		const char *source = mipart_catalog_source(real, i);
		bool mla = m->attention == MIPART_ATTN_MLA,
		     hybrid = m->attention == MIPART_ATTN_HYBRID;

		print_message("# %s\n", m->id);
		assert_non_null(strchr(m->id, '/')); /* a Hugging Face id: org/name */
		assert_true(m->arch[0]);
		assert_true(m->layers > 0 && m->hidden > 0 && m->heads > 0 && m->vocab > 0);
		assert_true(m->kv_heads > 0 && m->heads % m->kv_heads == 0);
		assert_true(m->head_dim > 0);
		if (mla) {
			/* no head_dim in DeepSeek's config.json: hidden / heads */
			assert_int_equal(m->head_dim, m->hidden / m->heads);
			assert_true(m->kv_lora_rank > 0 && m->qk_rope_head_dim > 0);
			assert_true(m->qk_nope_head_dim > 0 && m->v_head_dim > 0);
		} else {
			/* q projection within a factor of 2 of hidden (Gemma, Qwen3, GPT-OSS
			 * differ) */
			assert_true((uint64_t)m->heads * m->head_dim * 2 >= m->hidden);
			assert_true((uint64_t)m->heads * m->head_dim <= 2 * (uint64_t)m->hidden);
			assert_int_equal(m->q_lora_rank + m->kv_lora_rank + m->qk_rope_head_dim +
					     m->qk_nope_head_dim + m->v_head_dim,
					 0);
		}
		if (hybrid && m->attention_chunk) {
			/* chunked local attention (Llama 4) */
			assert_true(m->attention_chunk < m->max_position);
			assert_true(m->chunked_layers > 0 && m->chunked_layers < m->layers);
		} else if (hybrid) {
			assert_true(m->sliding_window > 0 && m->sliding_window < m->max_position);
			assert_true(m->sliding_layers > 0 && m->sliding_layers <= m->layers);
		} else {
			assert_int_equal(m->sliding_window, 0);
			assert_int_equal(m->sliding_layers, 0);
		}
		if (m->experts) {
			assert_true(m->experts_per_token > 0 && m->experts_per_token <= m->experts);
			assert_true(m->moe_intermediate > 0 && m->dense_layers < m->layers);
		} else {
			assert_true(m->intermediate > 0);
			assert_int_equal(m->experts_per_token + m->moe_intermediate +
					     m->shared_experts + m->dense_layers,
					 0);
		}
		assert_true(m->max_position >= 2048);
		assert_true(!strcmp(m->dtype, "bfloat16") || !strcmp(m->dtype, "float16"));
		assert_true(m->quant_method[0] ? m->quant_bits > 0 : m->quant_bits == 0);
		assert_true(m->params > 0);
		assert_non_null(source);
		assert_true(strlen(source) > 20);
		/* aliases: at least one, lower case, and each finds this model */
		assert_non_null(aliases);
		assert_non_null(aliases[0]);
		for (size_t j = 0; aliases[j]; j++) {
			const mipart_model *hit = NULL;

			for (const char *p = aliases[j]; *p; p++)
				assert_false(isupper((unsigned char)*p));
			assert_int_equal(mipart_catalog_find(real, aliases[j], &hit), 0);
			assert_ptr_equal(hit, m);
		}
	}
}

/*
 * The catalog's published count against mipart_model_params(). Checkpoints whose count covers
 * more than the decoder's shape are named here with the reason; for them the shape must come
 * out smaller, never larger.
 */
static bool count_covers_more_than_shape(const mipart_model *m)
{
	/* Gemma3ForConditionalGeneration: the SigLIP vision tower and projector (~0.42B);
	 * Mistral3ForConditionalGeneration: the Pixtral vision encoder and projector (~0.44B);
	 * MllamaForConditionalGeneration: the vision encoder and projector (~0.9B) */
	return !strcmp(m->arch, "gemma3") || !strcmp(m->arch, "mistral3") ||
	       !strcmp(m->arch, "mllama");
}

static void test_params_agree_with_shape(void **state)
{
	unsigned bad = 0, checked = 0;

	for (size_t i = 0; i < mipart_catalog_count(real); i++) {
		const mipart_model *m = mipart_catalog_get(real, i);
		uint64_t linear = 0, p = mipart_model_params(m, &linear);
		double dev = ((double)p - (double)m->params) / (double)m->params;

		assert_true(linear > 0 && linear < p);
		if (count_covers_more_than_shape(m)) {
			assert_true(p < m->params);
			continue;
		}
		checked++;
		if (dev > 0.02 || dev < -0.02) {
			print_message("# %s: catalog %llu, shape %llu (%+.2f%%)\n", m->id,
				      (unsigned long long)m->params, (unsigned long long)p,
				      dev * 100);
			bad++;
		}
	}
	assert_true(checked >= 30);
	assert_int_equal(bad, 0);
}

/* The formula against totals everybody quotes, on the catalog's own shapes. */
static void test_known_totals(void **state)
{
	uint64_t p;

	assert_int_equal(mipart_model_params(must_find("llama-3.1-8b"), NULL), 8030261248ULL);
	assert_int_equal(mipart_model_params(must_find("mixtral-8x7b"), NULL), 46702792704ULL);
	p = mipart_model_params(must_find("deepseek-v3"), NULL);
	assert_true(p > 670500000000ULL && p < 671500000000ULL); /* 671B */
	p = mipart_model_params(must_find("qwen3-30b-a3b"), NULL);
	assert_true(p > 30450000000ULL && p < 30550000000ULL); /* 30.5B */
}

static void test_required_families(void **state)
{
	static const char *const ids[] = {
		"meta-llama/Llama-2-7b-chat-hf",
		"meta-llama/Llama-2-13b-chat-hf",
		"meta-llama/Llama-2-70b-chat-hf",
		"meta-llama/Meta-Llama-3-8B-Instruct",
		"meta-llama/Llama-3.1-8B-Instruct",
		"meta-llama/Llama-3.1-70B-Instruct",
		"meta-llama/Llama-3.1-405B-Instruct",
		"meta-llama/Llama-3.2-1B-Instruct",
		"meta-llama/Llama-3.2-3B-Instruct",
		"meta-llama/Llama-3.3-70B-Instruct",
		"mistralai/Mistral-7B-Instruct-v0.1",
		"mistralai/Mistral-7B-Instruct-v0.3",
		"mistralai/Mixtral-8x7B-Instruct-v0.1",
		"mistralai/Mixtral-8x22B-Instruct-v0.1",
		"Qwen/Qwen2.5-0.5B-Instruct",
		"Qwen/Qwen2.5-7B-Instruct",
		"Qwen/Qwen2.5-72B-Instruct",
		"Qwen/Qwen3-8B",
		"Qwen/Qwen3-32B",
		"Qwen/Qwen3-30B-A3B",
		"Qwen/Qwen3-235B-A22B",
		"google/gemma-2-2b-it",
		"google/gemma-2-9b-it",
		"google/gemma-2-27b-it",
		"google/gemma-3-4b-it",
		"google/gemma-3-12b-it",
		"google/gemma-3-27b-it",
		"microsoft/Phi-3-mini-4k-instruct",
		"microsoft/Phi-3-medium-4k-instruct",
		"microsoft/phi-4",
		"deepseek-ai/DeepSeek-V3",
		"deepseek-ai/DeepSeek-R1",
		"deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
		"deepseek-ai/DeepSeek-R1-Distill-Llama-8B",
		"deepseek-ai/DeepSeek-R1-Distill-Qwen-14B",
		"deepseek-ai/DeepSeek-R1-Distill-Qwen-32B",
		"deepseek-ai/DeepSeek-R1-Distill-Llama-70B",
		"openai/gpt-oss-20b",
		"openai/gpt-oss-120b",
	};
	const mipart_model *m;

	for (size_t i = 0; i < ARRAY_SIZE(ids); i++)
		assert_string_equal(must_find(ids[i])->id, ids[i]);

	/* DeepSeek-V3 and R1: MLA, one latent of 512 + 64 per token and layer */
	for (int i = 0; i < 2; i++) {
		m = must_find(i ? "deepseek-r1" : "deepseek-v3");
		assert_int_equal(m->attention, MIPART_ATTN_MLA);
		assert_int_equal(m->layers, 61);
		assert_int_equal(m->kv_lora_rank, 512);
		assert_int_equal(m->qk_rope_head_dim, 64);
		assert_int_equal(m->q_lora_rank, 1536);
		assert_int_equal(m->experts, 256);
		assert_int_equal(m->experts_per_token, 8);
		assert_int_equal(m->shared_experts, 1);
		assert_int_equal(m->moe_intermediate, 2048);
		assert_int_equal(m->dense_layers, 3);
		assert_string_equal(m->quant_method, "fp8");
	}
	/* Gemma 2: every other layer local, window 4096; Gemma 3: 5 of 6 local, window 1024 */
	m = must_find("gemma-2-9b");
	assert_int_equal(m->attention, MIPART_ATTN_HYBRID);
	assert_int_equal(m->sliding_window, 4096);
	assert_int_equal(m->sliding_layers, m->layers / 2);
	m = must_find("gemma-3-27b");
	assert_int_equal(m->attention, MIPART_ATTN_HYBRID);
	assert_int_equal(m->sliding_window, 1024);
	assert_int_equal(m->sliding_layers, m->layers - m->layers / 6);
	/* Mistral 7B v0.1: a 4096-token window on every layer; v0.3 has none */
	m = must_find("mistral-7b-v0.1");
	assert_int_equal(m->attention, MIPART_ATTN_HYBRID);
	assert_int_equal(m->sliding_window, 4096);
	assert_int_equal(m->sliding_layers, m->layers);
	assert_int_equal(must_find("mistral-7b-v0.3")->attention, MIPART_ATTN_FULL);
	/* GPT-OSS: sliding 128 on alternating layers, MXFP4 experts */
	m = must_find("gpt-oss-120b");
	assert_int_equal(m->attention, MIPART_ATTN_HYBRID);
	assert_int_equal(m->sliding_window, 128);
	assert_int_equal(m->sliding_layers * 2, m->layers);
	assert_int_equal(m->experts, 128);
	assert_string_equal(m->quant_method, "mxfp4");
	assert_int_equal(m->quant_bits, 4);
}

/* Llama 4 Maverick: MoE on every other layer (interleave_moe_layer_step 2) with dense layers of
 * intermediate_size_mlp between them, chunked attention on the RoPE layers */
static void test_llama4_maverick(void **state)
{
	const mipart_model *m = NULL;

	assert_int_equal(mipart_catalog_find(real, "llama-4-maverick", &m), 0);
	assert_string_equal(m->id, "meta-llama/Llama-4-Maverick-17B-128E-Instruct");
	assert_int_equal(m->experts, 128);
	assert_int_equal(m->dense_layers, 24);
	assert_int_equal(m->intermediate, 16384);
	assert_int_equal(m->moe_intermediate, 8192);
	assert_int_equal(m->attention, MIPART_ATTN_HYBRID);
	assert_int_equal(m->attention_chunk, 8192);
	assert_int_equal(m->chunked_layers, 36);
}

static void test_find(void **state)
{
	const mipart_model *m = NULL, *keep = (const mipart_model *)(uintptr_t)0x1234;

	assert_int_equal(mipart_catalog_find(real, "meta-llama/Llama-3.1-8B-Instruct", &m), 0);
	assert_string_equal(m->id, "meta-llama/Llama-3.1-8B-Instruct");
	assert_int_equal(m->layers, 32);
	m = NULL;
	assert_int_equal(mipart_catalog_find(real, "META-LLAMA/llama-3.1-8b-INSTRUCT", &m), 0);
	assert_string_equal(m->id, "meta-llama/Llama-3.1-8B-Instruct");
	m = NULL;
	assert_int_equal(mipart_catalog_find(real, "llama-3.1-8b", &m), 0);
	assert_string_equal(m->id, "meta-llama/Llama-3.1-8B-Instruct");
	m = NULL;
	assert_int_equal(mipart_catalog_find(real, "Qwen2.5-7B", &m), 0);
	assert_string_equal(m->id, "Qwen/Qwen2.5-7B-Instruct");

	assert_int_equal(mipart_catalog_find(real, "llama-3.1-8", &keep), -ENOENT);
	assert_int_equal(mipart_catalog_find(real, "", &keep), -ENOENT);
	assert_int_equal(mipart_catalog_find(real, NULL, &keep), -ENOENT);
	assert_int_equal(mipart_catalog_find(NULL, "llama-3.1-8b", &keep), -ENOENT);
	assert_ptr_equal(keep, (const mipart_model *)(uintptr_t)0x1234);
}

/* params left out: mipart_model_params() of the shape; kv_heads and head_dim default. */
static void test_defaults(void **state)
{
	static const char text[] =
		CATALOG("{\"id\": \"org/Small\", \"aliases\": [], \"arch\": \"llama\", \"layers\": 2, "
		    "\"hidden\": 64, \"heads\": 4, \"intermediate\": 128, \"vocab\": 100, "
		    "\"max_position\": 512, \"dtype\": \"float16\", \"source\": \"test\"}");
	mipart_catalog *c = NULL;
	const mipart_model *m;
	char err[256];

	assert_int_equal(mipart_catalog_parse(text, sizeof(text) - 1, &c, err, sizeof(err)), 0);
	assert_int_equal(mipart_catalog_count(c), 1);
	m = mipart_catalog_get(c, 0);
	assert_int_equal(m->kv_heads, 4);
	assert_int_equal(m->head_dim, 16);
	assert_int_equal(m->attention, MIPART_ATTN_FULL);
	assert_false(m->tied_embeddings);
	assert_int_equal(m->params, mipart_model_params(m, NULL));
	assert_non_null(mipart_catalog_aliases(c, 0));
	assert_null(mipart_catalog_aliases(c, 0)[0]);
	assert_string_equal(mipart_catalog_source(c, 0), "test");
	assert_null(mipart_catalog_free(c));
	assert_null(mipart_catalog_free(NULL));
}

/* Parse text that must fail with code; *ret stays as it was and err holds every needle. */
static void expect_error(const char *text, int code, const char *n1, const char *n2, const char *n3)
{
	mipart_catalog *c = SENTINEL;
	char err[256] = "";
	int r = mipart_catalog_parse(text, strlen(text), &c, err, sizeof(err));

	print_message("# %s\n", err);
	assert_int_equal(r, code);
	assert_ptr_equal(c, SENTINEL);
	assert_true(err[0]);
	if (n1)
		assert_non_null(strstr(err, n1));
	if (n2)
		assert_non_null(strstr(err, n2));
	if (n3)
		assert_non_null(strstr(err, n3));
}

static void test_hostile_keys_and_types(void **state)
{
	expect_error(CATALOG(MODEL("org/M", "m", ", \"layer\": 3")), -EINVAL, "model 'org/M'",
		     "unknown key 'layer'", NULL);
	expect_error(CATALOG(MODEL("org/M", "m", ", \"sliding\": 4096")), -EINVAL, "model 'org/M'",
		     "'sliding'", NULL);
	expect_error(CATALOG(MODEL("org/M", "m", ", \"experts\": \"8\"")), -EINVAL, "model 'org/M'",
		     "key 'experts'", "expected an integer");
	expect_error(CATALOG(MODEL("org/M", "m", ", \"sliding_window\": 2.5")), -EINVAL,
		     "model 'org/M'", "key 'sliding_window'", "integer");
	expect_error(CATALOG(MODEL("org/M", "m", ", \"shared_experts\": -1")), -EINVAL,
		     "model 'org/M'", "key 'shared_experts'", "out of range");
	expect_error(CATALOG(MODEL("org/M", "m", ", \"v_head_dim\": 4294967296")), -EINVAL,
		     "model 'org/M'", "key 'v_head_dim'", "out of range");
	expect_error(CATALOG(MODEL("org/M", "m", ", \"tied_embeddings\": 1")), -EINVAL,
		     "model 'org/M'", "key 'tied_embeddings'", "true or false");
	expect_error(CATALOG(MODEL("org/M", "m", ", \"attention\": \"sliding\"")), -EINVAL,
		     "model 'org/M'", "key 'attention'", "unknown attention 'sliding'");
	expect_error(CATALOG(MODEL("org/M", "m", ", \"params\": 0")), -EINVAL, "model 'org/M'",
		     "key 'params'", NULL);
	expect_error(CATALOG(MODEL("org/M", "m", ", \"quant_bits\": 4")), -EINVAL, "model 'org/M'",
		     "key 'quant_bits'", "without quant_method");
	/* a key missing, an alias that is not a name, a dtype that is not one */
	expect_error(
		CATALOG("{\"id\": \"org/M\", \"aliases\": [], \"arch\": \"llama\", \"layers\": 2, "
		    "\"hidden\": 64, \"heads\": 4, \"intermediate\": 128, \"vocab\": 100, "
		    "\"max_position\": 512, \"source\": \"test\"}"),
		-EINVAL, "model 'org/M'", "missing key 'dtype'", NULL);
	expect_error(CATALOG(MODEL("org/M", "two words", "")), -EINVAL, "model 'org/M'",
		     "key 'aliases'", "'two words'");
	expect_error(CATALOG(BARE("org/M", ", \"aliases\": [1], \"dtype\": \"bfloat16\"")), -EINVAL,
		     "model 'org/M'", "key 'aliases'", "item 1 is not a string");
	expect_error(CATALOG(BARE("org/M", ", \"aliases\": [], \"dtype\": \"int4\"")), -EINVAL,
		     "model 'org/M'", "key 'dtype'", "unknown dtype 'int4'");
	/* jansson refuses a key given twice in one object, with its line and column */
	expect_error(CATALOG(MODEL("org/M", "m", ", \"layers\": 3")), -EINVAL, "line 1, column",
		     "duplicate", NULL);
	expect_error(CATALOG(MODEL("org M", "m", "")), -EINVAL, "model 'org M'", "key 'id'", NULL);
	expect_error(CATALOG("{\"aliases\": [], \"arch\": 7}"), -EINVAL, "model #1", "key 'arch'",
		     "expected a string");
	expect_error(CATALOG(MODEL("org/M", "m", "") ", []"), -EINVAL, "model #2",
		     "expected an object", NULL);
	/* the file around the models */
	expect_error("{\"version\": 2, \"models\": []}", -EINVAL, "key 'version'", NULL, NULL);
	expect_error("{\"version\": 1, \"models\": {}}", -EINVAL, "key 'models'", NULL, NULL);
	expect_error("{\"version\": 1, \"models\": [], \"extra\": true}", -EINVAL,
		     "unknown top-level key 'extra'", NULL, NULL);
	expect_error("[]", -EINVAL, "not a JSON object", NULL, NULL);
}

static void test_hostile_shapes(void **state)
{
	expect_error(
		CATALOG("{\"id\": \"org/M\", \"aliases\": [], \"arch\": \"llama\", \"layers\": 0, "
		    "\"hidden\": 64, \"heads\": 4, \"intermediate\": 128, \"vocab\": 100, "
		    "\"max_position\": 512, \"dtype\": \"bfloat16\", \"source\": \"t\"}"),
		-EINVAL, "model 'org/M'", "key 'layers'", "greater than 0");
	expect_error(
		CATALOG("{\"id\": \"org/M\", \"aliases\": [], \"arch\": \"llama\", \"layers\": 2, "
		    "\"hidden\": 64, \"heads\": 4, \"kv_heads\": 3, \"intermediate\": 128, "
		    "\"vocab\": 100, \"max_position\": 512, \"dtype\": \"bfloat16\", "
		    "\"source\": \"t\"}"),
		-EINVAL, "model 'org/M'", "key 'kv_heads'", "does not divide heads (4)");
	expect_error(CATALOG(MODEL("org/M", "m", ", \"sliding_window\": 4096")), -EINVAL,
		     "model 'org/M'", "key 'sliding_window'", "only for \"hybrid\"");
	expect_error(CATALOG(MODEL("org/M", "m", ", \"sliding_layers\": 1")), -EINVAL,
		     "model 'org/M'", "key 'sliding_layers'", "only for \"hybrid\"");
	expect_error(CATALOG(MODEL("org/M", "m", ", \"attention\": \"hybrid\"")), -EINVAL,
		     "model 'org/M'", "key 'sliding_window'", NULL);
	expect_error(CATALOG(MODEL("org/M", "m",
				   ", \"attention\": \"hybrid\", \"sliding_window\": 64, "
				   "\"sliding_layers\": 3")),
		     -EINVAL, "model 'org/M'", "key 'sliding_layers'", "between 1 and layers (2)");
	expect_error(CATALOG(MODEL("org/M", "m", ", \"kv_lora_rank\": 512")), -EINVAL,
		     "model 'org/M'", "key 'kv_lora_rank'", "only for \"mla\"");
	expect_error(CATALOG(MODEL("org/M", "m", ", \"q_lora_rank\": 1536")), -EINVAL,
		     "model 'org/M'", "key 'q_lora_rank'", "only for \"mla\"");
	expect_error(
		CATALOG(MODEL("org/M", "m", ", \"attention\": \"mla\", \"kv_lora_rank\": 512")),
		-EINVAL, "model 'org/M'", "key 'qk_rope_head_dim'", NULL);
	expect_error(CATALOG(MODEL("org/M", "m", ", \"moe_intermediate\": 64")), -EINVAL,
		     "model 'org/M'", "key 'moe_intermediate'", "without experts");
	expect_error(CATALOG(MODEL("org/M", "m",
				   ", \"experts\": 8, \"experts_per_token\": 9, "
				   "\"moe_intermediate\": 64")),
		     -EINVAL, "model 'org/M'", "key 'experts_per_token'",
		     "between 1 and experts (8)");
	expect_error(CATALOG(MODEL("org/M", "m",
				   ", \"experts\": 8, \"experts_per_token\": 2, "
				   "\"moe_intermediate\": 64, \"dense_layers\": 2")),
		     -EINVAL, "model 'org/M'", "key 'dense_layers'", NULL);
}

static void test_hostile_duplicates(void **state)
{
	/* an alias taken twice: reported at its second use, naming both models */
	expect_error(CATALOG(MODEL("org/A", "shared", "") "," MODEL("org/B", "shared", "")),
		     -EINVAL, "model 'org/B': key 'aliases': 'shared'", "an alias of model 'org/A'",
		     NULL);
	/* names compare case-insensitively */
	expect_error(CATALOG(MODEL("org/A", "a", "") "," MODEL("org/B", "A", "")), -EINVAL,
		     "model 'org/B'", "key 'aliases'", "model 'org/A'");
	expect_error(CATALOG(MODEL("org/A", "a", "") "," MODEL("ORG/a", "b", "")), -EINVAL,
		     "model 'ORG/a': key 'id'", "the id of model 'org/A'", NULL);
	expect_error(CATALOG(MODEL("org/A", "org/b", "") "," MODEL("org/B", "b", "")), -EINVAL,
		     "model 'org/B': key 'id'", "an alias of model 'org/A'", NULL);
	expect_error(
		CATALOG(BARE("org/A", ", \"aliases\": [\"x\", \"X\"], \"dtype\": \"float16\"")),
		-EINVAL, "model 'org/A': key 'aliases': 'X'", "an alias of model 'org/A'", NULL);
	expect_error(CATALOG(MODEL("org/A", "a", "") "," MODEL("org/B", "b",
							       "") "," MODEL("org/C", "a", "")),
		     -EINVAL, "model 'org/C'", "'a'", "model 'org/A'");
}

static void test_hostile_files(void **state)
{
	char dir[] = "/tmp/mipart-test-catalog.XXXXXX", path[256], err[256];
	mipart_catalog *c = SENTINEL;
	size_t big = MIPART_CATALOG_MAX_SIZE + 1, half;
	char *buf;
	ssize_t n;

	assert_non_null(mkdtemp(dir));

	/* truncated: the first half of the real catalog */
	buf = malloc(MIPART_CATALOG_MAX_SIZE + 1);
	assert_non_null(buf);
	n = util_read_file(REAL_CATALOG, buf, MIPART_CATALOG_MAX_SIZE);
	assert_true(n > 1000);
	half = (size_t)n / 2;
	assert_true(util_pathf(path, sizeof(path), "%s/truncated.json", dir) > 0);
	assert_int_equal(util_write_file(path, buf, half, 0644), 0);
	assert_int_equal(mipart_catalog_load(path, &c, err, sizeof(err)), -EINVAL);
	assert_ptr_equal(c, SENTINEL);
	assert_non_null(strstr(err, "line "));
	print_message("# %s\n", err);
	assert_int_equal(mipart_catalog_parse(buf, 0, &c, err, sizeof(err)), -EINVAL);
	assert_ptr_equal(c, SENTINEL);
	free(buf);

	/* over the cap: refused before parsing, by load and by parse */
	buf = malloc(big);
	assert_non_null(buf);
	memset(buf, ' ', big);
	assert_true(util_pathf(path, sizeof(path), "%s/huge.json", dir) > 0);
	assert_int_equal(util_write_file(path, buf, big, 0644), 0);
	assert_int_equal(mipart_catalog_load(path, &c, err, sizeof(err)), -EFBIG);
	assert_ptr_equal(c, SENTINEL);
	assert_non_null(strstr(err, "larger than"));
	assert_int_equal(mipart_catalog_parse(buf, big, &c, err, sizeof(err)), -EFBIG);
	assert_ptr_equal(c, SENTINEL);
	free(buf);

	/* missing, and a directory */
	assert_true(util_pathf(path, sizeof(path), "%s/none.json", dir) > 0);
	assert_int_equal(mipart_catalog_load(path, &c, err, sizeof(err)), -ENOENT);
	assert_true(err[0]);
	assert_true(mipart_catalog_load(dir, &c, err, sizeof(err)) < 0);
	assert_ptr_equal(c, SENTINEL);
	/* err may be NULL */
	assert_int_equal(mipart_catalog_parse("{", 1, &c, NULL, 0), -EINVAL);
	assert_ptr_equal(c, SENTINEL);

	assert_int_equal(util_rm_rf(dir), 0);
}

static void test_default_path(void **state)
{
	const char *saved = getenv("MIPART_CATALOG");
	char *copy = saved ? strdup(saved) : NULL;
	const char *p;

	assert_int_equal(setenv("MIPART_CATALOG", "/somewhere/models.json", 1), 0);
	assert_string_equal(mipart_catalog_default_path(), "/somewhere/models.json");
	assert_int_equal(setenv("MIPART_CATALOG", "", 1), 0);
	p = mipart_catalog_default_path();
	assert_true(p[0] == '/');
	assert_int_equal(unsetenv("MIPART_CATALOG"), 0);
	p = mipart_catalog_default_path();
	assert_true(strlen(p) > strlen("/models.json"));
	assert_string_equal(p + strlen(p) - strlen("/models.json"), "/models.json");
	/* installed or not, the path it falls back to exists in a built tree */
	assert_int_equal(access(p, R_OK), 0);
	if (copy)
		setenv("MIPART_CATALOG", copy, 1);
	free(copy);
}

/*
 * The estimator's reference set (tests/fixtures/vllm-reference.csv, read by bench/estimator):
 * every row names a model that resolves, in this catalog or as a recorded Hub tree under
 * tests/fixtures/hub (org--name), carries a split and a platform, and no two rows repeat one
 * configuration (the same model, precision, parallelism, device, limits and vLLM build).
 */
#define REFERENCE_CSV MIPART_SOURCE_DATADIR "/../tests/fixtures/vllm-reference.csv"
#define HUB_FIXTURES MIPART_SOURCE_DATADIR "/../tests/fixtures/hub"
#define CSV_FIELDS 32

static int csv_column(char **f, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(f[i], name))
			return i;
	fail_msg("vllm-reference.csv has no column '%s'", name);
	return -1;
}

static bool hub_fixture_exists(const char *id)
{
	char dir[512];
	const char *slash = strchr(id, '/');

	if (!slash || strchr(slash + 1, '/') || strstr(id, ".."))
		return false;
	snprintf(dir, sizeof(dir), "%s/%.*s--%s/config.json", HUB_FIXTURES, (int)(slash - id), id,
		 slash + 1);
	return access(dir, R_OK) == 0;
}

static void test_reference_rows_resolve(void **state)
{
	static const char *const config_cols[] = {
		"catalog_id", "dtype", "quantization", "kv_cache_dtype", "tensor_parallel",
		"gpu", "gpu_total_gib", "gpu_memory_utilization", "max_model_len", "max_num_seqs",
		"max_num_batched_tokens", "vllm_version", "engine", "block_size",
	};
	enum { N_CONFIG = sizeof(config_cols) / sizeof(config_cols[0]) };
	char line[8192], *f[CSV_FIELDS], (*keys)[1024] = calloc(1024, sizeof(*keys));
	int n, col_id, col_split, col_platform, col[N_CONFIG];
	unsigned rows = 0, bad = 0, validation = 0;
	FILE *fp = fopen(REFERENCE_CSV, "r");

	assert_non_null(keys);
	assert_non_null(fp);
	assert_non_null(fgets(line, sizeof(line), fp));
	n = csv_fields_split(line, f, CSV_FIELDS);
	col_id = csv_column(f, n, "catalog_id");
	col_split = csv_column(f, n, "split");
	col_platform = csv_column(f, n, "platform");
	for (int k = 0; k < N_CONFIG; k++)
		col[k] = csv_column(f, n, config_cols[k]);
	while (fgets(line, sizeof(line), fp)) {
		const mipart_model *m = NULL;
		size_t used = 0;

		assert_true(rows < 1024);
		if (csv_fields_split(line, f, CSV_FIELDS) != n) {
			print_message("# vllm-reference.csv row %u: not %d fields\n", rows + 1, n);
			bad++;
			rows++;
			continue;
		}
		rows++;
		if (mipart_catalog_find(real, f[col_id], &m) < 0 && !hub_fixture_exists(f[col_id])) {
			print_message("# vllm-reference.csv row %u: model '%s' is neither in the "
				      "catalog nor a Hub fixture\n",
				      rows, f[col_id]);
			bad++;
		}
		if (strcmp(f[col_split], "calibration") && strcmp(f[col_split], "validation")) {
			print_message("# vllm-reference.csv row %u: split '%s'\n", rows,
				      f[col_split]);
			bad++;
		}
		validation += !strcmp(f[col_split], "validation");
		if (strcmp(f[col_platform], "cuda") && strcmp(f[col_platform], "rocm")) {
			print_message("# vllm-reference.csv row %u: platform '%s'\n", rows,
				      f[col_platform]);
			bad++;
		}
		/* the configuration, with the catalog's id for the model when it resolves */
		for (int k = 0; k < N_CONFIG; k++)
			used += (size_t)snprintf(keys[rows - 1] + used, sizeof(keys[0]) - used,
						 "%s|", k == 0 && m ? m->id : f[col[k]]);
		assert_true(used < sizeof(keys[0]));
		for (unsigned j = 0; j + 1 < rows; j++)
			if (!strcmp(keys[j], keys[rows - 1])) {
				print_message("# vllm-reference.csv rows %u and %u: the same "
					      "configuration\n", j + 1, rows);
				bad++;
			}
	}
	fclose(fp);
	free(keys);
	assert_true(rows >= 83);
	assert_true(validation > 0 && validation < rows);
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_catalog_loads),
		cmocka_unit_test(test_every_model_is_sane),
		cmocka_unit_test(test_params_agree_with_shape),
		cmocka_unit_test(test_known_totals),
		cmocka_unit_test(test_required_families),
		cmocka_unit_test(test_find), cmocka_unit_test(test_llama4_maverick),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_hostile_keys_and_types),
		cmocka_unit_test(test_hostile_shapes),
		cmocka_unit_test(test_hostile_duplicates),
		cmocka_unit_test(test_hostile_files),
		cmocka_unit_test(test_default_path),
		cmocka_unit_test(test_reference_rows_resolve),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
