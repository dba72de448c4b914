// SPDX-License-Identifier: MIT
/*
 * Hugging Face model directories: config.json gives the model's shape (layers, heads, experts,
 * sliding windows, MLA ranks, quantization), the safetensors headers give the exact bytes and
 * element count of its weights. Only headers are read, never tensor data, so a 700 GB checkpoint
 * costs a few megabytes of reads. Every input is capped in size and nesting, and checked the way
 * its reference implementation checks it: config keys as transformers' configuration classes
 * define them (src/transformers/models/<arch>/configuration_<arch>.py), safetensors headers as
 * huggingface/safetensors safetensors/src/tensor.rs (Metadata::validate) does.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "mipart/error.h"
#include "mipart/hfmodel.h"
#include "hfmodel.h"
#include "util.h"
#include "banned.h"

#define PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

/* Longest message built internally before it is copied into the caller's err. */
#define MSG_MAX 512

/* ---------------------------------------------------------------------------------------------
 * Messages
 */

static void vset_err(char *err, size_t size, const char *fmt, va_list ap) PRINTF(3, 0);

static void vset_err(char *err, size_t size, const char *fmt, va_list ap)
{
	if (err && size)
		vsnprintf(err, size, fmt, ap);
}

/* Write a message into err and return code. */
static int fail(char *err, size_t size, int code, const char *fmt, ...) PRINTF(4, 5);

static int fail(char *err, size_t size, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset_err(err, size, fmt, ap);
	va_end(ap);
	return code;
}

/*
 * Copy input text for a message: at most 60 bytes (cut at a UTF-8 character boundary, "..."
 * appended), control characters and DEL shown as '?'.
 */
static const char *show(const char *s, size_t len, char *buf, size_t size)
{
	return util_show(s, len, 60, buf, size);
}

/* ---------------------------------------------------------------------------------------------
 * JSON nesting
 */

bool hf_json_depth_ok(const char *buf, size_t len, unsigned max)
{
	unsigned depth = 0;
	bool in_string = false;

	for (size_t i = 0; i < len; i++) {
		char c = buf[i];

		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
			continue;
		}
		if (c == '"') {
			in_string = true;
		} else if (c == '[' || c == '{') {
			if (++depth > max)
				return false;
		} else if ((c == ']' || c == '}') && depth) {
			depth--;
		}
	}
	return true;
}

/*
 * Parse JSON text with jansson after the size and nesting caps: duplicate keys refused
 * (JSON_REJECT_DUPLICATES), the top level must be an object. jansson itself refuses NaN and
 * Infinity (not JSON), integers beyond 64 bits, invalid UTF-8 and NUL in strings.
 */
static int load_json(const char *buf, size_t len, const char *name, json_t **ret, char *err,
		     size_t err_size)
{
	json_error_t jerr;
	json_t *root;

	if (!hf_json_depth_ok(buf, len, MIPART_HF_JSON_MAX_DEPTH))
		return fail(err, err_size, -EINVAL, "%s: nesting deeper than %d", name,
			    MIPART_HF_JSON_MAX_DEPTH);
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (json_error_code(&jerr) == json_error_out_of_memory)
			return fail(err, err_size, -ENOMEM, "%s: out of memory", name);
		return fail(err, err_size, -EINVAL, "%s:%d:%d: invalid JSON: %s", name, jerr.line,
			    jerr.column, jerr.text);
	}
	if (!json_is_object(root)) {
		json_decref(root);
		return fail(err, err_size, -EINVAL, "%s: the top level must be a JSON object",
			    name);
	}
	*ret = root;
	return 0;
}

/* What a JSON value is, for "must be X, not Y" messages. */
static const char *describe(const json_t *v, char *buf, size_t size)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "a list";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		snprintf(buf, size, "%lld", (long long)json_integer_value(v));
		return buf;
	case JSON_REAL:
		snprintf(buf, size, "%g", json_real_value(v));
		return buf;
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	default:
		return "null";
	}
}

/* ---------------------------------------------------------------------------------------------
 * config.json
 */

struct cfg {
	const char *name;	/* the input, for messages */
	const char *prefix;	/* "text_config." when the model's keys are nested there */
	char *err;
	size_t err_size;
};

static int cfg_fail(struct cfg *c, int code, const char *fmt, ...) PRINTF(3, 4);

static int cfg_fail(struct cfg *c, int code, const char *fmt, ...)
{
	char msg[MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fail(c->err, c->err_size, code, "%s: %s", c->name, msg);
}

/* How a key may be absent. */
enum need {
	OPTIONAL, /* absent or null: the default */
	REQUIRED, /* must be there and not null */
	NULLABLE, /* must be there; null means 0 (DeepSeek's q_lora_rank, n_shared_experts) */
};

/*
 * An integer key of obj in [min, 2^max_log2). prefix is "" or "text_config." for messages.
 * Sets *ret (to def when absent or null) and returns 1 if the key had a value, 0 if not.
 */
static int get_uint(struct cfg *c, const json_t *obj, const char *prefix, const char *key,
		    enum need need, unsigned min, unsigned max_log2, unsigned def, unsigned *ret)
{
	const json_t *v = json_object_get(obj, key);
	json_int_t x;
	char d[48];

	if (!v || json_is_null(v)) {
		if (need == REQUIRED || (need == NULLABLE && !v))
			return cfg_fail(c, -EINVAL, "'%s%s' is missing", prefix, key);
		*ret = need == NULLABLE ? 0 : def;
		return 0;
	}
	x = json_is_integer(v) ? json_integer_value(v) : -1;
	if (!json_is_integer(v) || x < (json_int_t)min || x >= (json_int_t)1 << max_log2)
		return cfg_fail(c, json_is_integer(v) ? -ERANGE : -EINVAL,
				"'%s%s' must be a %s integer below 2^%u, not %s", prefix, key,
				min ? "positive" : "non-negative", max_log2,
				describe(v, d, sizeof(d)));
	*ret = (unsigned)x;
	return 1;
}

/* A boolean key; def when absent or null. */
static int get_bool(struct cfg *c, const json_t *obj, const char *prefix, const char *key, bool def,
		    bool *ret)
{
	const json_t *v = json_object_get(obj, key);
	char d[48];

	if (!v || json_is_null(v)) {
		*ret = def;
		return 0;
	}
	if (!json_is_boolean(v))
		return cfg_fail(c, -EINVAL, "'%s%s' must be true or false, not %s", prefix, key,
				describe(v, d, sizeof(d)));
	*ret = json_is_true(v);
	return 0;
}

/* A short identifier: letters, digits, '_', '-', '.'. */
static bool is_ident(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.'))
			return false;
	}
	return true;
}

/*
 * A string key that must be a short identifier fitting in size bytes (model_type, torch_dtype,
 * quant_method). Returns 1 and copies it when present, 0 when absent or null.
 */
static int get_ident(struct cfg *c, const json_t *obj, const char *prefix, const char *key,
		     enum need need, char *out, size_t size)
{
	const json_t *v = json_object_get(obj, key);
	char d[48], s[80];

	if (!v || json_is_null(v)) {
		if (need != OPTIONAL)
			return cfg_fail(c, -EINVAL, "'%s%s' is missing", prefix, key);
		return 0;
	}
	if (!json_is_string(v))
		return cfg_fail(c, -EINVAL, "'%s%s' must be a string, not %s", prefix, key,
				describe(v, d, sizeof(d)));
	if (!is_ident(json_string_value(v), size - 1))
		return cfg_fail(c, -EINVAL,
				"'%s%s' must be a name of at most %zu letters, digits, '_', '-' or "
				"'.', not \"%s\"",
				prefix, key, size - 1,
				show(json_string_value(v), json_string_length(v), s, sizeof(s)));
	util_strlcpy(out, json_string_value(v), size);
	return 1;
}

/*
 * huggingface_hub utils/_validators.py validate_repo_id: "name" or "org/name", each part 1-96
 * of [A-Za-z0-9_.-] starting and ending with [A-Za-z0-9_] (the regex's \b), no "--" or "..",
 * not ending in ".git". ASCII only here.
 */
static bool repo_id_ok(const char *s)
{
	size_t n = strlen(s), part = 0;
	unsigned slashes = 0;

	if (n == 0 || n >= MIPART_MODEL_ID_MAX || strstr(s, "--") || strstr(s, "..") ||
	    (n >= 4 && !strcmp(s + n - 4, ".git")))
		return false;
	for (size_t i = 0; i <= n; i++) {
		char ch = s[i];
		bool word = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			    (ch >= '0' && ch <= '9') || ch == '_';

		if (ch == '/' || ch == '\0') {
			if (part == 0 || part > 96 || (ch == '/' && ++slashes > 1))
				return false;
			/* the part's last character */
			ch = s[i - 1];
			if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			      (ch >= '0' && ch <= '9') || ch == '_'))
				return false;
			part = 0;
			continue;
		}
		if (!word && ch != '-' && ch != '.')
			return false;
		if (part == 0 && !word)
			return false;
		part++;
	}
	return true;
}

/* How an architecture's sliding-window layers follow from its config without "layer_types". */
enum sw_rule {
	SW_NONE,	/* no sliding window (unless "layer_types" says so) */
	SW_ALL,		/* every layer when sliding_window < max_position_embeddings */
	SW_ALTERNATE,	/* layers 0, 2, 4, ...: (i + 1) % 2 != 0 */
	SW_PATTERN,	/* all but every sliding_window_pattern-th layer */
	SW_QWEN,	/* layers >= max_window_layers when use_sliding_window */
};

/* Where an architecture keeps its mixture-of-experts numbers. */
enum moe_rule {
	MOE_NONE,
	MOE_MIXTRAL,  /* num_local_experts; each expert is intermediate_size wide */
	MOE_GPT_OSS,  /* the same, with experts_per_token as well as num_experts_per_tok */
	MOE_QWEN,     /* num_experts, moe_intermediate_size, decoder_sparse_step, ... */
	MOE_DEEPSEEK, /* n_routed_experts, n_shared_experts, first_k_dense_replace, ... */
	MOE_LLAMA4,   /* num_local_experts, a shared expert, interleave_moe_layer_step */
	MOE_GENERIC,  /* whichever of the above keys are present */
};

/*
 * Per-architecture rules. Defaults are those of the transformers configuration class for keys
 * absent from config.json (a key present as null is "none"):
 *   configuration_mistral.py    MistralConfig(sliding_window=4096)
 *   configuration_qwen2.py      Qwen2Config(sliding_window=4096, use_sliding_window=False,
 *                               max_window_layers=28); Qwen2Moe/Qwen3/Qwen3Moe the same
 *   configuration_gemma2.py     Gemma2Config(head_dim=256, num_key_value_heads=4,
 *                               sliding_window=4096, tie_word_embeddings=True); layer_types
 *                               default "sliding_attention" if bool((i + 1) % 2)
 *   configuration_gemma3.py     Gemma3TextConfig(vocab_size=262_208, head_dim=256,
 *                               num_key_value_heads=4, max_position_embeddings=131_072,
 *                               sliding_window=4096, sliding_window_pattern=6,
 *                               tie_word_embeddings=True); layer_types default
 *                               "sliding_attention" if bool((i + 1) % self._sliding_window_pattern)
 *   configuration_gpt_oss.py    GptOssConfig(sliding_window=128); layer_types as Gemma 2
 *   configuration_llama4.py     Llama4TextConfig(num_local_experts=16, num_experts_per_tok=1,
 *                               intermediate_size=8192, intermediate_size_mlp=16384,
 *                               interleave_moe_layer_step=1)
 * Every other class (Llama, Mixtral, Phi3, DeepseekV2/V3) defaults tie_word_embeddings to False
 * and has no sliding window by default.
 */
struct arch {
	const char *model_type;
	enum sw_rule sw;
	enum moe_rule moe;
	bool mla;
	bool tie;
	unsigned vocab, max_position, head_dim, kv_heads; /* defaults; 0: required / derived */
	unsigned window, pattern;
};

static const struct arch archs[] = {
	{ "llama", SW_NONE, MOE_NONE, false, false, 0, 0, 0, 0, 0, 0 },
	{ "mistral", SW_ALL, MOE_NONE, false, false, 0, 0, 0, 0, 4096, 0 },
	{ "mixtral", SW_ALL, MOE_MIXTRAL, false, false, 0, 0, 0, 0, 0, 0 },
	{ "qwen2", SW_QWEN, MOE_NONE, false, false, 0, 0, 0, 0, 4096, 0 },
	{ "qwen2_moe", SW_QWEN, MOE_QWEN, false, false, 0, 0, 0, 0, 4096, 0 },
	{ "qwen3", SW_QWEN, MOE_NONE, false, false, 0, 0, 0, 0, 4096, 0 },
	{ "qwen3_moe", SW_QWEN, MOE_QWEN, false, false, 0, 0, 0, 0, 4096, 0 },
	{ "gemma2", SW_ALTERNATE, MOE_NONE, false, true, 0, 0, 256, 4, 4096, 0 },
	{ "gemma3", SW_PATTERN, MOE_NONE, false, true, 262208, 131072, 256, 4, 4096, 6 },
	{ "gemma3_text", SW_PATTERN, MOE_NONE, false, true, 262208, 131072, 256, 4, 4096, 6 },
	{ "phi3", SW_ALL, MOE_NONE, false, false, 0, 0, 0, 0, 0, 0 },
	{ "deepseek_v2", SW_NONE, MOE_DEEPSEEK, true, false, 0, 0, 0, 0, 0, 0 },
	{ "deepseek_v3", SW_NONE, MOE_DEEPSEEK, true, false, 0, 0, 0, 0, 0, 0 },
	{ "gpt_oss", SW_ALTERNATE, MOE_GPT_OSS, false, false, 0, 0, 0, 0, 128, 0 },
	{ "llama4", SW_NONE, MOE_LLAMA4, false, false, 0, 0, 0, 0, 0, 0 },
	{ "llama4_text", SW_NONE, MOE_LLAMA4, false, false, 0, 0, 0, 0, 0, 0 },
};

static const struct arch generic_arch = { NULL, SW_NONE, MOE_GENERIC, false, false, 0, 0, 0, 0,
					  0, 0 };

static const struct arch *find_arch(const char *model_type)
{
	for (size_t i = 0; i < ARRAY_SIZE(archs); i++)
		if (!strcmp(archs[i].model_type, model_type))
			return &archs[i];
	return NULL;
}

/* Bounds (as powers of two) of the numbers a config may hold; anything larger is absurd. */
#define LOG_LAYERS 12
#define LOG_DIM 20
#define LOG_HEADS 16
#define LOG_VOCAB 24
#define LOG_POSITIONS 30
#define LOG_EXPERTS 16

/*
 * Sliding-window layers: "layer_types" when present (transformers' per-layer list; vLLM reads
 * it too), else the architecture's rule. Sets m->attention, sliding_window, sliding_layers.
 */
static int read_sliding(struct cfg *c, const json_t *t, const char *px, const struct arch *a,
			mipart_model *m)
{
	const json_t *types = json_object_get(t, "layer_types");
	unsigned window = 0, sliding = 0, pattern = 0, max_window = 0;
	bool use_sw = false;
	char d[48];
	int r;

	/* absent: the class default; null: no window */
	if (json_object_get(t, "sliding_window")) {
		r = get_uint(c, t, px, "sliding_window", OPTIONAL, 1, LOG_POSITIONS, 0, &window);
		if (r < 0)
			return r;
	} else {
		window = a->window;
	}

	if (types && !json_is_null(types)) {
		size_t i;
		const json_t *v;

		if (!json_is_array(types))
			return cfg_fail(c, -EINVAL, "'%slayer_types' must be a list, not %s", px,
					describe(types, d, sizeof(d)));
		if (json_array_size(types) != m->layers)
			return cfg_fail(c, -EINVAL,
					"'%slayer_types' has %zu entries but '%snum_hidden_layers' "
					"is %u",
					px, json_array_size(types), px, m->layers);
		json_array_foreach(types, i, v) {
			if (!json_is_string(v))
				return cfg_fail(c, -EINVAL,
						"'%slayer_types' must hold strings, not %s", px,
						describe(v, d, sizeof(d)));
			/* other types (full, chunked, linear attention) count as full */
			sliding += !strcmp(json_string_value(v), "sliding_attention");
		}
		if (sliding && !window)
			return cfg_fail(
			    c, -EINVAL,
			    "'%slayer_types' names sliding layers but '%ssliding_window' "
			    "is not set",
			    px, px);
	} else {
		switch (a->sw) {
		case SW_ALL:
			/* Mistral v0.1 (4096 of 32768), Phi-3-mini-4k (2047 of 4096); Phi-3-128k's
			 * 262144 window never bites */
			if (window && window < m->max_position)
				sliding = m->layers;
			break;
		case SW_ALTERNATE:
			if (window)
				sliding = (m->layers + 1) / 2;
			break;
		case SW_PATTERN:
			r = get_uint(c, t, px, "sliding_window_pattern", OPTIONAL, 1, LOG_LAYERS,
				     a->pattern, &pattern);
			if (r < 0)
				return r;
			if (window)
				sliding = m->layers - m->layers / pattern;
			break;
		case SW_QWEN:
			r = get_bool(c, t, px, "use_sliding_window", false, &use_sw);
			if (r < 0)
				return r;
			r = get_uint(c, t, px, "max_window_layers", OPTIONAL, 0, LOG_LAYERS, 28,
				     &max_window);
			if (r < 0)
				return r;
			if (use_sw && window && max_window < m->layers)
				sliding = m->layers - max_window;
			break;
		case SW_NONE:
			break;
		}
	}
	if (sliding) {
		m->attention = MIPART_ATTN_HYBRID;
		m->sliding_window = window;
		m->sliding_layers = sliding;
	}
	return 0;
}

/*
 * Chunked local attention (Llama 4, configuration_llama4.py Llama4TextConfig): layers that use
 * RoPE attend within chunks of attention_chunk_size tokens; the NoPE layers (every
 * no_rope_layer_interval-th, default 4: no_rope_layers[i] == 0) attend to the whole context
 * (vLLM llama4.py: ChunkedLocalAttention for the RoPE layers).
 */
static int read_chunked(struct cfg *c, const json_t *t, const char *px, mipart_model *m)
{
	const json_t *nr = json_object_get(t, "no_rope_layers");
	unsigned chunk = 0, interval = 4, chunked = 0;
	char d[48];
	int r;

	r = get_uint(c, t, px, "attention_chunk_size", OPTIONAL, 1, LOG_POSITIONS, 0, &chunk);
	if (r < 0 || !chunk)
		return r < 0 ? r : 0;
	if (nr && !json_is_null(nr)) {
		size_t i;
		const json_t *v;

		if (!json_is_array(nr) || json_array_size(nr) != m->layers)
			return cfg_fail(c, -EINVAL, "'%sno_rope_layers' must be a list of %u entries, not %s",
					px, m->layers, describe(nr, d, sizeof(d)));
		json_array_foreach(nr, i, v)
			chunked += json_is_integer(v) && json_integer_value(v) != 0;
	} else {
		r = get_uint(c, t, px, "no_rope_layer_interval", OPTIONAL, 1, LOG_LAYERS, 4, &interval);
		if (r < 0)
			return r;
		chunked = m->layers - m->layers / interval;
	}
	if (chunked > m->layers - m->sliding_layers)
		chunked = m->layers - m->sliding_layers;
	if (chunked) {
		m->attention = MIPART_ATTN_HYBRID;
		m->attention_chunk = chunk;
		m->chunked_layers = chunked;
	}
	return 0;
}

/*
 * Multi-head latent attention (DeepSeek-V2/V3, configuration_deepseek_v3.py): the KV cache holds
 * kv_lora_rank + qk_rope_head_dim per token and layer; q_lora_rank is null in V2-Lite (no query
 * compression).
 */
static int read_mla(struct cfg *c, const json_t *t, const char *px, mipart_model *m)
{
	int r;

	if ((r = get_uint(c, t, px, "kv_lora_rank", REQUIRED, 1, LOG_HEADS, 0,
			  &m->kv_lora_rank)) < 0 ||
	    (r = get_uint(c, t, px, "q_lora_rank", NULLABLE, 1, LOG_HEADS, 0,
			  &m->q_lora_rank)) < 0 ||
	    (r = get_uint(c, t, px, "qk_rope_head_dim", REQUIRED, 1, LOG_HEADS, 0,
			  &m->qk_rope_head_dim)) < 0 ||
	    (r = get_uint(c, t, px, "qk_nope_head_dim", REQUIRED, 0, LOG_HEADS, 0,
			  &m->qk_nope_head_dim)) < 0 ||
	    (r = get_uint(c, t, px, "v_head_dim", REQUIRED, 1, LOG_HEADS, 0, &m->v_head_dim)) < 0)
		return r;
	m->attention = MIPART_ATTN_MLA;
	/* the query/key head: nope + rope (transformers: qk_head_dim) */
	m->head_dim = m->qk_nope_head_dim + m->qk_rope_head_dim;
	return 0;
}

/* "mlp_only_layers": indices of layers with a dense MLP (Qwen2-MoE, Qwen3-MoE). */
static int read_mlp_only(struct cfg *c, const json_t *t, const char *px, unsigned layers,
			 unsigned char *dense)
{
	const json_t *list = json_object_get(t, "mlp_only_layers"), *v;
	char d[48];
	size_t i;

	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return cfg_fail(c, -EINVAL, "'%smlp_only_layers' must be a list, not %s", px,
				describe(list, d, sizeof(d)));
	json_array_foreach(list, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) >= (json_int_t)layers)
			return cfg_fail(c, -EINVAL,
					"'%smlp_only_layers' must hold layer numbers below %u, "
					"not %s",
					px, layers, describe(v, d, sizeof(d)));
		dense[json_integer_value(v)] = 1;
	}
	return 0;
}

/*
 * Mixture of experts. model.h counts dense_layers as leading layers; where an architecture
 * places dense layers elsewhere (decoder_sparse_step, mlp_only_layers, moe_layer_freq) only
 * their number matters for memory, so that is what dense_layers holds.
 */
static int read_moe(struct cfg *c, const json_t *t, const char *px, const struct arch *a,
		    mipart_model *m)
{
	enum moe_rule rule = a->moe;
	unsigned step = 1, freq = 1, first_dense = 0, shared_width = 0, ept2 = 0;
	unsigned char dense[1u << LOG_LAYERS] = { 0 };
	bool have_intermediate;
	int r, have_ept2 = 0;

	r = get_uint(c, t, px, "intermediate_size", OPTIONAL, 1, LOG_DIM, 0, &m->intermediate);
	if (r < 0)
		return r;
	have_intermediate = r > 0;

	if (rule == MOE_GENERIC) {
		/* the first of the usual keys that is present names the rule */
		if (json_object_get(t, "n_routed_experts"))
			rule = MOE_DEEPSEEK;
		else if (json_object_get(t, "num_local_experts"))
			rule = MOE_MIXTRAL;
		else if (json_object_get(t, "num_experts"))
			rule = MOE_QWEN;
		else
			rule = MOE_NONE;
	}

	switch (rule) {
	case MOE_NONE:
		break;
	case MOE_MIXTRAL:
	case MOE_GPT_OSS:
		/* configuration_mixtral.py, configuration_gpt_oss.py: each expert is an MLP of
		 * intermediate_size; every layer is MoE */
		r = get_uint(c, t, px, "num_local_experts",
			     a->moe == MOE_GENERIC ? OPTIONAL : REQUIRED, a->moe != MOE_GENERIC,
			     LOG_EXPERTS, 0, &m->experts);
		if (r < 0)
			return r;
		if (!m->experts)
			break;
		if (!have_intermediate)
			return cfg_fail(c, -EINVAL, "'%sintermediate_size' is missing", px);
		m->moe_intermediate = m->intermediate;
		if (rule == MOE_GPT_OSS) {
			/* openai/gpt-oss-20b's config.json has both, from the original checkpoint
			 * ("experts_per_token") and transformers ("num_experts_per_tok") */
			have_ept2 = get_uint(c, t, px, "experts_per_token", OPTIONAL, 1,
					     LOG_EXPERTS, 0, &ept2);
			if (have_ept2 < 0)
				return have_ept2;
		}
		r = get_uint(c, t, px, "num_experts_per_tok", have_ept2 ? OPTIONAL : REQUIRED, 1,
			     LOG_EXPERTS, ept2, &m->experts_per_token);
		if (r < 0)
			return r;
		if (r > 0 && have_ept2 && ept2 != m->experts_per_token)
			return cfg_fail(c, -EINVAL,
					"'%sexperts_per_token' (%u) and '%snum_experts_per_tok' "
					"(%u) disagree",
					px, ept2, px, m->experts_per_token);
		break;
	case MOE_QWEN:
		/* configuration_qwen3_moe.py / modeling: layer i is MoE when i is not in
		 * mlp_only_layers and (i + 1) % decoder_sparse_step == 0 */
		r = get_uint(c, t, px, "num_experts", a->moe == MOE_GENERIC ? OPTIONAL : REQUIRED,
			     a->moe != MOE_GENERIC, LOG_EXPERTS, 0, &m->experts);
		if (r < 0)
			return r;
		if (!m->experts)
			break;
		if ((r = get_uint(c, t, px, "num_experts_per_tok", REQUIRED, 1, LOG_EXPERTS, 0,
				  &m->experts_per_token)) < 0 ||
		    (r = get_uint(c, t, px, "moe_intermediate_size", REQUIRED, 1, LOG_DIM, 0,
				  &m->moe_intermediate)) < 0 ||
		    (r = get_uint(c, t, px, "decoder_sparse_step", OPTIONAL, 1, LOG_LAYERS, 1,
				  &step)) < 0 ||
		    (r = get_uint(c, t, px, "shared_expert_intermediate_size", OPTIONAL, 0, LOG_DIM,
				  0, &shared_width)) < 0)
			return r;
		r = read_mlp_only(c, t, px, m->layers, dense);
		if (r < 0)
			return r;
		for (unsigned i = 0; i < m->layers; i++)
			m->dense_layers += dense[i] || (i + 1) % step != 0;
		/* Qwen2-MoE's one shared expert is shared_expert_intermediate_size wide (5632 =
		 * 4 x 1408 in Qwen1.5-MoE-A2.7B): count it as that many experts of
		 * moe_intermediate_size, rounded up */
		m->shared_experts = (shared_width + m->moe_intermediate - 1) / m->moe_intermediate;
		break;
	case MOE_DEEPSEEK:
		/* configuration_deepseek_v3.py / modeling: layer i is MoE when n_routed_experts is
		 * not null, i >= first_k_dense_replace and i % moe_layer_freq == 0 */
		r = get_uint(c, t, px, "n_routed_experts",
			     a->moe == MOE_GENERIC ? OPTIONAL : NULLABLE, 0, LOG_EXPERTS, 0,
			     &m->experts);
		if (r < 0)
			return r;
		if (!m->experts)
			break;
		if ((r = get_uint(c, t, px, "num_experts_per_tok", REQUIRED, 1, LOG_EXPERTS, 0,
				  &m->experts_per_token)) < 0 ||
		    (r = get_uint(c, t, px, "moe_intermediate_size", REQUIRED, 1, LOG_DIM, 0,
				  &m->moe_intermediate)) < 0 ||
		    (r = get_uint(c, t, px, "n_shared_experts", OPTIONAL, 0, LOG_EXPERTS, 0,
				  &m->shared_experts)) < 0 ||
		    (r = get_uint(c, t, px, "first_k_dense_replace", OPTIONAL, 0, LOG_LAYERS, 0,
				  &first_dense)) < 0 ||
		    (r = get_uint(c, t, px, "moe_layer_freq", OPTIONAL, 1, LOG_LAYERS, 1,
				  &freq)) < 0 ||
		    /* configuration_deepseek_v3.py: num_nextn_predict_layers, the MTP module the
		     * checkpoint stores after the decoder layers */
		    (r = get_uint(c, t, px, "num_nextn_predict_layers", OPTIONAL, 0, LOG_LAYERS, 0,
				  &m->mtp_layers)) < 0)
			return r;
		if (first_dense > m->layers)
			return cfg_fail(c, -EINVAL,
					"'%sfirst_k_dense_replace' (%u) is larger than "
					"'%snum_hidden_layers' (%u)",
					px, first_dense, px, m->layers);
		for (unsigned i = 0; i < m->layers; i++)
			m->dense_layers += i < first_dense || i % freq != 0;
		break;
	case MOE_LLAMA4:
		/* configuration_llama4.py / vLLM llama4.py (Llama4DecoderLayer): layer i is MoE
		 * when interleave_moe_layer_step > 0 and (i + 1) % step == 0 (Scout: 1, every
		 * layer; Maverick: 2, every other), or when i is in "moe_layers"; an MoE layer has
		 * num_local_experts routed experts of intermediate_size and one shared expert of
		 * the same width; a dense layer's MLP is intermediate_size_mlp wide */
		if ((r = get_uint(c, t, px, "num_local_experts", OPTIONAL, 0, LOG_EXPERTS, 16,
				  &m->experts)) < 0 ||
		    (r = get_uint(c, t, px, "num_experts_per_tok", OPTIONAL, 1, LOG_EXPERTS, 1,
				  &m->experts_per_token)) < 0 ||
		    (r = get_uint(c, t, px, "interleave_moe_layer_step", OPTIONAL, 0, LOG_LAYERS, 1,
				  &step)) < 0)
			return r;
		if (!m->experts)
			break;
		m->moe_intermediate = have_intermediate ? m->intermediate : 8192;
		m->shared_experts = 1;
		r = get_uint(c, t, px, "intermediate_size_mlp", OPTIONAL, 1, LOG_DIM, 16384,
			     &m->intermediate);
		if (r < 0)
			return r;
		have_intermediate = true;
		{
			const json_t *list = json_object_get(t, "moe_layers"), *v;
			size_t i;
			char d[48];

			if (list && !json_is_null(list)) {
				if (!json_is_array(list))
					return cfg_fail(c, -EINVAL, "'%smoe_layers' must be a list, not %s",
							px, describe(list, d, sizeof(d)));
				memset(dense, 1, m->layers);
				json_array_foreach(list, i, v) {
					if (!json_is_integer(v) || json_integer_value(v) < 0 ||
					    json_integer_value(v) >= (json_int_t)m->layers)
						return cfg_fail(c, -EINVAL,
								"'%smoe_layers' must hold layer numbers "
								"below %u, not %s",
								px, m->layers, describe(v, d, sizeof(d)));
					dense[json_integer_value(v)] = 0;
				}
			} else {
				for (unsigned l = 0; l < m->layers; l++)
					dense[l] = step == 0 || (l + 1) % step != 0;
			}
			for (unsigned l = 0; l < m->layers; l++)
				m->dense_layers += dense[l];
		}
		if (m->dense_layers == m->layers) {
			/* no MoE layer: a dense model of intermediate_size_mlp */
			m->experts = m->experts_per_token = m->moe_intermediate = 0;
			m->shared_experts = 0;
			m->dense_layers = 0;
		}
		break;
	case MOE_GENERIC:
		break;
	}

	if (m->experts && m->experts_per_token > m->experts)
		return cfg_fail(c, -EINVAL, "%u experts per token but only %u experts",
				m->experts_per_token, m->experts);
	if ((!m->experts || m->dense_layers) && !have_intermediate)
		return cfg_fail(c, -EINVAL, "'%sintermediate_size' is missing", px);
	return 0;
}

/* An integer key of quantization_config that may be -1 for "none" (GPTQ's group_size). */
static int get_group(struct cfg *c, const json_t *q, const char *prefix, const char *key,
		     unsigned *ret)
{
	const json_t *v = json_object_get(q, key);
	char d[48];

	if (!v || json_is_null(v) || (json_is_integer(v) && json_integer_value(v) == -1)) {
		*ret = 0;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) >= (json_int_t)1 << LOG_DIM)
		return cfg_fail(c, -EINVAL,
				"'%s%s' must be -1 or a non-negative integer below 2^%d, not %s",
				prefix, key, LOG_DIM, describe(v, d, sizeof(d)));
	*ret = (unsigned)json_integer_value(v);
	return 1;
}

/*
 * compressed-tensors (llm-compressor): config_groups.<group>.weights.{num_bits, group_size};
 * the widest group's weights are what the estimate takes.
 */
static int read_compressed_tensors(struct cfg *c, const json_t *q, mipart_model *m)
{
	const json_t *groups = json_object_get(q, "config_groups"), *g, *w;
	const char *gname;
	char d[48], px[MSG_MAX];
	int r;

	if (!groups || json_is_null(groups))
		return 0;
	if (!json_is_object(groups))
		return cfg_fail(c, -EINVAL,
				"'quantization_config.config_groups' must be an object, "
				"not %s",
				describe(groups, d, sizeof(d)));
	json_object_foreach((json_t *)groups, gname, g) {
		unsigned bits = 0, group = 0;
		char gs[80];

		show(gname, strlen(gname), gs, sizeof(gs));
		snprintf(px, sizeof(px), "quantization_config.config_groups.%s.", gs);
		if (!json_is_object(g))
			return cfg_fail(c, -EINVAL, "'%.*s' must be an object, not %s",
					(int)strlen(px) - 1, px, describe(g, d, sizeof(d)));
		w = json_object_get(g, "weights");
		if (!w || json_is_null(w))
			continue;
		if (!json_is_object(w))
			return cfg_fail(c, -EINVAL, "'%sweights' must be an object, not %s", px,
					describe(w, d, sizeof(d)));
		snprintf(px, sizeof(px), "quantization_config.config_groups.%s.weights.", gs);
		r = get_uint(c, w, px, "num_bits", REQUIRED, 1, 6, 0, &bits);
		if (r < 0)
			return r;
		r = get_group(c, w, px, "group_size", &group);
		if (r < 0)
			return r;
		if (bits > m->quant_bits) {
			m->quant_bits = bits;
			m->quant_group = group;
		}
	}
	return 0;
}

/*
 * quantization_config: quant_method, and the weight bits and group size where the method has
 * them. fp8: DeepSeek-V3's block-wise weight_block_size [128, 128] gives group 128. awq/gptq:
 * bits, group_size (-1: per channel). mxfp4: 4 bits in blocks of 32 (OCP Microscaling Formats
 * v1.0). bitsandbytes: load_in_4bit (blocks of 64, bitsandbytes quantize_4bit's default) or
 * load_in_8bit (LLM.int8, per row).
 */
static int read_quant(struct cfg *c, const json_t *q, mipart_model *m)
{
	const char *px = "quantization_config.";
	const json_t *bs;
	bool b4 = false, b8 = false;
	char d[48];
	int r;

	if (!json_is_object(q))
		return cfg_fail(c, -EINVAL, "'quantization_config' must be an object, not %s",
				describe(q, d, sizeof(d)));
	r = get_ident(c, q, px, "quant_method", REQUIRED, m->quant_method,
		      sizeof(m->quant_method));
	if (r < 0)
		return r;

	if (!strcmp(m->quant_method, "fp8")) {
		m->quant_bits = 8;
		bs = json_object_get(q, "weight_block_size");
		if (bs && !json_is_null(bs)) {
			const json_t *b1 = json_array_get(bs, 1);

			if (!json_is_array(bs) || json_array_size(bs) != 2 ||
			    !json_is_integer(b1) || !json_is_integer(json_array_get(bs, 0)) ||
			    json_integer_value(json_array_get(bs, 0)) < 1 ||
			    json_integer_value(b1) < 1 || json_integer_value(b1) >= 1 << LOG_DIM ||
			    json_integer_value(json_array_get(bs, 0)) >= 1 << LOG_DIM)
				return cfg_fail(c, -EINVAL,
						"'%sweight_block_size' must be [rows, columns] of "
						"positive integers below 2^%d",
						px, LOG_DIM);
			m->quant_group = (unsigned)json_integer_value(b1);
		}
	} else if (!strcmp(m->quant_method, "mxfp4")) {
		m->quant_bits = 4;
		m->quant_group = 32;
	} else if (!strcmp(m->quant_method, "compressed-tensors")) {
		r = read_compressed_tensors(c, q, m);
	} else if (!strcmp(m->quant_method, "bitsandbytes")) {
		if ((r = get_bool(c, q, px, "load_in_4bit", false, &b4)) < 0 ||
		    (r = get_bool(c, q, px, "load_in_8bit", false, &b8)) < 0)
			return r;
		if (b4 == b8)
			return cfg_fail(c, -EINVAL,
					"'%sload_in_4bit' and '%sload_in_8bit': exactly one must "
					"be true",
					px, px);
		m->quant_bits = b4 ? 4 : 8;
		m->quant_group = b4 ? 64 : 0;
	} else {
		/* awq, gptq and the rest: "bits" and "group_size" (AutoAWQ's older w_bit and
		 * q_group_size too); methods without them leave 0, "unknown" */
		bool awq_gptq = !strcmp(m->quant_method, "awq") || !strcmp(m->quant_method, "gptq");
		const char *bits_key = json_object_get(q, "w_bit") && !json_object_get(q, "bits")
					       ? "w_bit"
					       : "bits";
		const char *group_key =
			json_object_get(q, "q_group_size") && !json_object_get(q, "group_size")
				? "q_group_size"
				: "group_size";

		r = get_uint(c, q, px, bits_key, awq_gptq ? REQUIRED : OPTIONAL, 1, 6, 0,
			     &m->quant_bits);
		if (r < 0)
			return r;
		r = get_group(c, q, px, group_key, &m->quant_group);
	}
	return r < 0 ? r : 0;
}

/*
 * An upper bound of the parameter count, in floating point so that no shape overflows it:
 * mipart_model_params (model.c) computes in 64-bit integers and is only safe below this bound.
 */
static double params_bound(const mipart_model *m)
{
	double h = m->hidden, heads = m->heads, attn, mlp;

	if (m->attention == MIPART_ATTN_MLA) {
		double qk = (double)m->qk_nope_head_dim + m->qk_rope_head_dim;

		attn = h * m->q_lora_rank + (double)m->q_lora_rank * heads * qk + h * heads * qk +
		       h * ((double)m->kv_lora_rank + m->qk_rope_head_dim) +
		       (double)m->kv_lora_rank * heads *
			   ((double)m->qk_nope_head_dim + m->v_head_dim) +
		       heads * m->v_head_dim * h;
	} else {
		attn = 2 * h * heads * m->head_dim + 2 * h * m->kv_heads * m->head_dim;
	}
	mlp = 3 * h * ((double)m->intermediate + ((double)m->experts + m->shared_experts) *
							m->moe_intermediate) +
	      h * m->experts;
	return (double)m->layers * (attn + mlp + 2 * h) + 2 * (double)m->vocab * h + h;
}

/* The model's fields from t (the root, or text_config). */
static int read_shape(struct cfg *c, const json_t *root, const json_t *t, const struct arch *a,
		      mipart_model *m)
{
	const char *px = c->prefix;
	const json_t *q;
	int r;

	if ((r = get_uint(c, t, px, "num_hidden_layers", REQUIRED, 1, LOG_LAYERS, 0,
			  &m->layers)) < 0 ||
	    (r = get_uint(c, t, px, "hidden_size", REQUIRED, 1, LOG_DIM, 0, &m->hidden)) < 0 ||
	    (r = get_uint(c, t, px, "num_attention_heads", REQUIRED, 1, LOG_HEADS, 0,
			  &m->heads)) < 0 ||
	    (r = get_uint(c, t, px, "num_key_value_heads", OPTIONAL, 1, LOG_HEADS,
			  a->kv_heads ? a->kv_heads : m->heads, &m->kv_heads)) < 0 ||
	    (r = get_uint(c, t, px, "head_dim", OPTIONAL, 1, LOG_HEADS,
			  a->head_dim ? a->head_dim : m->hidden / m->heads, &m->head_dim)) < 0 ||
	    (r = get_uint(c, t, px, "vocab_size", a->vocab ? OPTIONAL : REQUIRED, 1, LOG_VOCAB,
			  a->vocab, &m->vocab)) < 0 ||
	    (r = get_uint(c, t, px, "max_position_embeddings",
			  a->max_position ? OPTIONAL : REQUIRED, 1, LOG_POSITIONS, a->max_position,
			  &m->max_position)) < 0 ||
	    (r = get_bool(c, t, px, "tie_word_embeddings", a->tie, &m->tied_embeddings)) < 0)
		return r;
	/* tie_word_embeddings is a top-level key of composite configs (Gemma 3) */
	if (t != root && !json_object_get(t, "tie_word_embeddings") &&
	    (r = get_bool(c, root, "", "tie_word_embeddings", m->tied_embeddings,
			  &m->tied_embeddings)) < 0)
		return r;
	if (m->head_dim == 0)
		return cfg_fail(c, -EINVAL,
				"'%snum_attention_heads' (%u) is larger than '%shidden_size' (%u) "
				"and there is no '%shead_dim'",
				px, m->heads, px, m->hidden, px);
	if (m->kv_heads > m->heads || m->heads % m->kv_heads)
		return cfg_fail(c, -EINVAL,
				"'%snum_attention_heads' (%u) must be a multiple of "
				"'%snum_key_value_heads' (%u)",
				px, m->heads, px, m->kv_heads);

	if (a->mla || (a->moe == MOE_GENERIC && json_object_get(t, "kv_lora_rank") &&
		       !json_is_null(json_object_get(t, "kv_lora_rank")))) {
		r = read_mla(c, t, px, m);
		if (r < 0)
			return r;
	}
	r = read_moe(c, t, px, a, m);
	if (r < 0)
		return r;
	if (m->attention != MIPART_ATTN_MLA) {
		r = read_sliding(c, t, px, a, m);
		if (r < 0)
			return r;
		r = read_chunked(c, t, px, m);
		if (r < 0)
			return r;
	}

	q = json_object_get(root, "quantization_config");
	if (!q || json_is_null(q))
		q = t != root ? json_object_get(t, "quantization_config") : NULL;
	if (q && !json_is_null(q)) {
		r = read_quant(c, q, m);
		if (r < 0)
			return r;
	}

	/* torch_dtype; transformers 5 writes "dtype" */
	r = get_ident(c, root, "", "torch_dtype", OPTIONAL, m->dtype, sizeof(m->dtype));
	if (r == 0)
		r = get_ident(c, root, "", "dtype", OPTIONAL, m->dtype, sizeof(m->dtype));
	if (r == 0 && t != root)
		r = get_ident(c, t, px, "torch_dtype", OPTIONAL, m->dtype, sizeof(m->dtype));
	if (r < 0)
		return r;

	if (params_bound(m) > 1e15)
		return cfg_fail(c, -ERANGE,
				"the shape gives about %.3g parameters; more than 10^15 is not a "
				"model",
				params_bound(m));
	return 0;
}

/*
 * The vision tower of a composite config (vision_config: Gemma 3's SigLIP, Mistral 3's Pixtral,
 * Llama 4's, LLaVA's CLIP): its MLP width and the tokens its largest image becomes, for the
 * encoder's share of vLLM's profile run, and its parameters. Images of image_size square cut in
 * patch_size patches give (image_size / patch_size)^2 encoder positions; the language model sees
 * mm_tokens_per_image of them (Gemma 3: pooled to 256), or a pixel_shuffle_ratio^2 share
 * (Llama 4: 0.5, a quarter), or 1 / spatial_merge_size^2 (Mistral 3, Qwen2.5-VL). Models with
 * no image_size (dynamic resolution: Qwen2-VL) get the parameters but no encoder term.
 * Parameters: layers x (4 h^2 + 2 h I) (attention and MLP) + the patch embedding 3 x p^2 x h +
 * the projector (h x positions per token) x the text hidden size, merged positions being
 * concatenated (pooled ones are not: Gemma 3's mm_input_projection is h x text hidden); biases
 * and norms are left out.
 */
/*
 * A tiled tower (mllama's MllamaVisionConfig: max_num_tiles, num_global_layers,
 * intermediate_layers_indices, vision_output_dim), read for V0's encoder-decoder profile run
 * (estimate.c: mllama_v0_activation). Leaves vision_tiles 0 for other towers.
 */
static int read_vision_tiles(struct cfg *c, const json_t *vc, mipart_model *m)
{
	const char *px = "vision_config.";
	const json_t *kept = json_object_get(vc, "intermediate_layers_indices");
	unsigned tiles = 0, global = 0, out = 0, image = 0;
	int r;

	if ((r = get_uint(c, vc, px, "max_num_tiles", OPTIONAL, 0, LOG_HEADS, 0, &tiles)) < 0 ||
	    (r = get_uint(c, vc, px, "num_global_layers", OPTIONAL, 0, LOG_LAYERS, 0, &global)) < 0 ||
	    (r = get_uint(c, vc, px, "vision_output_dim", OPTIONAL, 0, LOG_DIM, 0, &out)) < 0 ||
	    (r = get_uint(c, vc, px, "image_size", OPTIONAL, 0, LOG_DIM, 0, &image)) < 0)
		return r;
	if (!tiles || !m->vision_patches || !image)
		return 0;
	if (kept && !json_is_array(kept))
		return cfg_fail(c, -EINVAL, "'%sintermediate_layers_indices' must be an array", px);
	if (kept && json_array_size(kept) > m->vision_layers)
		return cfg_fail(c, -ERANGE, "'%sintermediate_layers_indices' has %zu entries for %u layers",
				px, json_array_size(kept), m->vision_layers);
	/* every tile's positions with its class token (read_vision): under the cap on one
	 * image's patches, and within vision_patches' unsigned */
	if ((uint64_t)tiles * (m->vision_patches + 1ull) >= 1u << 30)
		return cfg_fail(c, -ERANGE, "'%smax_num_tiles' %u x %u positions is too many", px,
				tiles, m->vision_patches + 1);
	m->vision_tiles = tiles;
	m->vision_global_layers = global;
	m->vision_kept_layers = kept ? (unsigned)json_array_size(kept) : 0;
	m->vision_output_dim = out ? out : m->vision_hidden * (m->vision_kept_layers + 1);
	m->vision_image_size = image;
	return 0;
}

static int read_vision(struct cfg *c, const json_t *root, mipart_model *m)
{
	const json_t *vc = json_object_get(root, "vision_config"), *v;
	unsigned layers = 0, hidden = 0, inter = 0, image = 0, patch = 0, merge = 1, tokens = 0;
	const char *px = "vision_config.";
	double per_token = 1;
	bool pooled = false;
	int r;

	if (!vc || !json_is_object(vc))
		return 0;
	if ((r = get_uint(c, vc, px, "num_hidden_layers", OPTIONAL, 0, LOG_LAYERS, 0, &layers)) < 0 ||
	    (r = get_uint(c, vc, px, "hidden_size", OPTIONAL, 0, LOG_DIM, 0, &hidden)) < 0 ||
	    (r = get_uint(c, vc, px, "intermediate_size", OPTIONAL, 0, LOG_DIM, 0, &inter)) < 0 ||
	    (r = get_uint(c, vc, px, "image_size", OPTIONAL, 0, LOG_DIM, 0, &image)) < 0 ||
	    (r = get_uint(c, vc, px, "patch_size", OPTIONAL, 0, LOG_HEADS, 0, &patch)) < 0)
		return r;
	if (!layers || !hidden || !inter)
		return 0;
	m->vision_layers = layers;
	m->vision_hidden = hidden;
	m->vision_intermediate = inter;
	if (image && patch && image >= patch) {
		uint64_t side = image / patch, pos = side * side;

		if (pos >= 1u << 30)
			return cfg_fail(c, -ERANGE, "'%simage_size' / '%spatch_size' gives %llu patches",
					px, px, (unsigned long long)pos);
		m->vision_patches = (unsigned)pos;
		if ((r = get_uint(c, root, "", "mm_tokens_per_image", OPTIONAL, 0, LOG_DIM, 0,
				  &tokens)) < 0)
			return r;
		pooled = tokens > 0;
		v = json_object_get(vc, "pixel_shuffle_ratio");
		if (!tokens && json_is_number(v) && json_number_value(v) > 0 && json_number_value(v) <= 1) {
			double ratio = json_number_value(v);

			tokens = (unsigned)((double)pos * ratio * ratio);
		}
		if (!tokens) {
			if ((r = get_uint(c, root, "", "spatial_merge_size", OPTIONAL, 1, LOG_HEADS, 1,
					  &merge)) < 0)
				return r;
			if (r == 0 && (r = get_uint(c, vc, px, "spatial_merge_size", OPTIONAL, 1,
						    LOG_HEADS, 1, &merge)) < 0)
				return r;
			tokens = (unsigned)(pos / ((uint64_t)merge * merge));
		}
		m->vision_tokens = tokens ? tokens : 1;
		if (m->vision_tokens > m->vision_patches)
			m->vision_tokens = m->vision_patches;
		/* merged positions are concatenated into the projector's input; pooled ones
		 * (mm_tokens_per_image, Gemma 3: avg-pool, then hidden x text hidden) are not */
		if (!pooled)
			per_token = (double)m->vision_patches / m->vision_tokens;
	}
	if ((r = read_vision_tiles(c, vc, m)) < 0)
		return r;
	if (m->vision_tiles) {
		/* mllama: the tiles' positions, each with its class token, all reach the text
		 * model's cross-attention layers (models/mllama.py: get_max_mllama_image_tokens,
		 * max_num_tiles x ((image_size / 14)^2 + 1)); the projector takes
		 * vision_output_dim; the global transformer's layers are the local ones' size */
		m->vision_patches = m->vision_tiles * (m->vision_patches + 1);
		m->vision_tokens = m->vision_patches;
		m->vision_params = (uint64_t)((double)(layers + m->vision_global_layers) *
						      (4.0 * hidden * hidden + 2.0 * hidden * inter) +
					      3.0 * patch * patch * hidden +
					      (double)m->vision_output_dim * m->hidden);
		return 0;
	}
	m->vision_params = (uint64_t)((double)layers * (4.0 * hidden * hidden + 2.0 * hidden * inter) +
				      3.0 * patch * patch * hidden +
				      (double)hidden * per_token * m->hidden);
	return 0;
}

int mipart_hf_parse_config(const char *buf, size_t len, const char *name, mipart_model *ret,
			   char *err, size_t err_size)
{
	struct cfg c = { .name = name ? name : "config.json", .prefix = "", .err = err,
			 .err_size = err_size };
	mipart_model m = { 0 };
	const struct arch *a;
	json_t *root = NULL;
	const json_t *t, *tc, *v;
	char text_type[48] = "";
	bool encdec = false;
	int r;

	if (len > MIPART_HF_CONFIG_MAX)
		return cfg_fail(&c, -EFBIG, "%zu bytes; a config.json is at most %u", len,
				MIPART_HF_CONFIG_MAX);
	r = load_json(buf, len, c.name, &root, err, err_size);
	if (r < 0)
		return r;

	r = get_ident(&c, root, "", "model_type", REQUIRED, m.arch, sizeof(m.arch));
	if (r < 0)
		goto out;
	r = get_bool(&c, root, "", "is_encoder_decoder", false, &encdec);
	if (r < 0)
		goto out;
	if (encdec) {
		r = cfg_fail(&c, -EINVAL, "'%s' is an encoder-decoder model; vLLM serves "
			     "decoder-only models", m.arch);
		goto out;
	}

	/* composite configs (Gemma 3, Mistral 3, LLaVA) keep the language model under
	 * text_config (configuration_gemma3.py: Gemma3Config.sub_configs) */
	t = root;
	tc = json_object_get(root, "text_config");
	if (tc && !json_is_null(tc) && !json_object_get(root, "num_hidden_layers")) {
		char d[48];

		if (!json_is_object(tc)) {
			r = cfg_fail(&c, -EINVAL, "'text_config' must be an object, not %s",
				     describe(tc, d, sizeof(d)));
			goto out;
		}
		t = tc;
		c.prefix = "text_config.";
		r = get_ident(&c, t, c.prefix, "model_type", OPTIONAL, text_type,
			      sizeof(text_type));
		if (r < 0)
			goto out;
	}
	a = find_arch(m.arch);
	if (!a && text_type[0])
		a = find_arch(text_type);
	if (!a)
		a = &generic_arch;
	/* two-matrix MLPs: modeling_phi.py PhiMLP (fc1, fc2), GPTBigCodeMLP (c_fc, c_proj),
	 * Starcoder2MLP (c_fc, c_proj), GPTNeoXMLP (dense_h_to_4h, dense_4h_to_h), FalconMLP */
	{
		static const char *const two[] = { "phi", "gpt_bigcode", "starcoder2", "gpt_neox",
						   "falcon", "gpt2", "opt" };

		for (size_t i = 0; i < ARRAY_SIZE(two); i++)
			if (!strcmp(m.arch, two[i]))
				m.mlp_matrices = 2;
	}

	r = read_shape(&c, root, t, a, &m);
	if (r < 0)
		goto out;
	c.prefix = "";
	r = read_vision(&c, root, &m);
	if (r < 0)
		goto out;

	v = json_object_get(root, "_name_or_path");
	if (json_is_string(v) && repo_id_ok(json_string_value(v)))
		util_strlcpy(m.id, json_string_value(v), sizeof(m.id));
	*ret = m;
	r = 0;
out:
	json_decref(root);
	return r;
}

/* ---------------------------------------------------------------------------------------------
 * safetensors header
 *
 * The header is parsed here, not by jansson: it may be 100 MB, and a tree of JSON values costs
 * about ten times its text. This parser keeps one 32-byte record per tensor. It accepts what
 * serde_json accepts for safetensors' HashMetadata: an object of tensor objects
 * {"dtype", "shape", "data_offsets", other keys ignored} and an optional "__metadata__" object
 * of strings, in UTF-8, followed only by whitespace (the format pads with spaces).
 */

/* safetensors/src/tensor.rs: enum Dtype and Dtype::bitsize */
static const struct {
	const char *name;
	unsigned bits;
} st_dtypes[] = {
	{ "BOOL", 8 },	  { "F4", 4 },	    { "F6_E2M3", 6 }, { "F6_E3M2", 6 },
	{ "U8", 8 },	  { "I8", 8 },	    { "F8_E5M2", 8 }, { "F8_E4M3", 8 },
	{ "F8_E8M0", 8 }, { "I16", 16 },    { "U16", 16 },    { "F16", 16 },
	{ "BF16", 16 },	  { "I32", 32 },    { "U32", 32 },    { "F32", 32 },
	{ "C64", 64 },	  { "F64", 64 },    { "I64", 64 },    { "U64", 64 },
};

#define ST_MAX_DIMS 64

struct st_entry {
	uint64_t begin, end;
	const char *name;
	size_t name_len;
};

struct st_parser {
	const char *buf, *p, *end;
	char *arena;		/* names that held escapes, decoded; len bytes */
	size_t arena_used;
	struct st_entry *v;
	size_t n, alloc;
	uint64_t data_size, params;
	bool have_metadata;
	const char *tname;	/* the tensor being read, for messages */
	size_t tname_len;
	char *err;
	size_t err_size;
};

static int st_fail(struct st_parser *p, int code, const char *fmt, ...) PRINTF(3, 4);

static int st_fail(struct st_parser *p, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset_err(p->err, p->err_size, fmt, ap);
	va_end(ap);
	return code;
}

/* A JSON syntax error at the current position. */
static int st_syntax(struct st_parser *p, const char *what)
{
	return st_fail(p, -EINVAL, "the header is not valid JSON at byte %zu: %s",
		       (size_t)(p->p - p->buf), what);
}

/* A problem with the tensor being read. */
static int st_tfail(struct st_parser *p, int code, const char *fmt, ...) PRINTF(3, 4);

static int st_tfail(struct st_parser *p, int code, const char *fmt, ...)
{
	char msg[MSG_MAX], s[80];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return st_fail(p, code, "tensor '%s': %s", show(p->tname, p->tname_len, s, sizeof(s)),
		       msg);
}

static void st_ws(struct st_parser *p)
{
	while (p->p < p->end && (*p->p == ' ' || *p->p == '\t' || *p->p == '\n' || *p->p == '\r'))
		p->p++;
}

/* Is the next character c (after whitespace)? Consumes it if so. */
static bool st_eat(struct st_parser *p, char c)
{
	st_ws(p);
	if (p->p < p->end && *p->p == c) {
		p->p++;
		return true;
	}
	return false;
}

/* Length of the UTF-8 sequence at s (RFC 3629: no overlongs, surrogates, or > U+10FFFF); 0 if
 * invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static int hex4(const char *s, uint32_t *ret)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		char ch = s[i];

		v <<= 4;
		if (ch >= '0' && ch <= '9')
			v |= (uint32_t)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			v |= (uint32_t)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			v |= (uint32_t)(ch - 'A' + 10);
		else
			return -1;
	}
	*ret = v;
	return 0;
}

/*
 * The escape at s ('\\'): its code point and length, or -1. \u escapes of UTF-16 surrogates
 * must come as a high-low pair (serde_json refuses lone surrogates).
 */
static int parse_escape(const char *s, const char *end, uint32_t *ret_cp, size_t *ret_n)
{
	static const char simple[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
	uint32_t cp, lo;

	if (end - s < 2)
		return -1;
	for (size_t i = 0; i + 1 < sizeof(simple); i += 2)
		if (s[1] == simple[i]) {
			*ret_cp = (unsigned char)simple[i + 1];
			*ret_n = 2;
			return 0;
		}
	if (s[1] != 'u' || end - s < 6 || hex4(s + 2, &cp) < 0)
		return -1;
	*ret_n = 6;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return -1;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (end - s < 12 || s[6] != '\\' || s[7] != 'u' || hex4(s + 8, &lo) < 0 ||
		    lo < 0xdc00 || lo > 0xdfff)
			return -1;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		*ret_n = 12;
	}
	*ret_cp = cp;
	return 0;
}

static size_t utf8_put(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * The string at the current position (after whitespace). With ret, its decoded text: a pointer
 * into the header when it holds no escapes, else into the arena (decoding never lengthens).
 */
static int st_string(struct st_parser *p, const char **ret, size_t *ret_len)
{
	const char *start;
	bool escaped = false;
	uint32_t cp;
	size_t n;

	st_ws(p);
	if (p->p >= p->end || *p->p != '"')
		return st_syntax(p, "expected a string");
	start = ++p->p;
	for (;;) {
		unsigned char ch;

		if (p->p >= p->end)
			return st_syntax(p, "unterminated string");
		ch = (unsigned char)*p->p;
		if (ch == '"')
			break;
		if (ch < 0x20)
			return st_syntax(p, "control character in a string");
		if (ch == '\\') {
			if (parse_escape(p->p, p->end, &cp, &n) < 0)
				return st_syntax(p, "invalid escape in a string");
			escaped = true;
		} else {
			n = utf8_seq((const unsigned char *)p->p, (size_t)(p->end - p->p));
			if (!n)
				return st_syntax(p, "invalid UTF-8");
		}
		p->p += n;
	}
	n = (size_t)(p->p - start);
	p->p++;
	if (!ret)
		return 0;
	if (!escaped) {
		*ret = start;
		*ret_len = n;
		return 0;
	}
	if (!p->arena) {
		p->arena = malloc((size_t)(p->end - p->buf));
		if (!p->arena)
			return st_fail(p, -ENOMEM, "out of memory");
	}
	*ret = p->arena + p->arena_used;
	for (const char *s = start; s < start + n;) {
		size_t k = 1;

		if (*s == '\\') {
			parse_escape(s, start + n, &cp, &k);
			p->arena_used += utf8_put(p->arena + p->arena_used, cp);
		} else {
			p->arena[p->arena_used++] = *s;
		}
		s += k;
	}
	*ret_len = (size_t)(p->arena + p->arena_used - *ret);
	return 0;
}

/* Skip a JSON number (RFC 8259 grammar). */
static int st_number(struct st_parser *p)
{
	const char *s = p->p;

	if (s < p->end && *s == '-')
		s++;
	if (s >= p->end || *s < '0' || *s > '9')
		return st_syntax(p, "invalid number");
	if (*s == '0')
		s++;
	else
		while (s < p->end && *s >= '0' && *s <= '9')
			s++;
	if (s < p->end && *s == '.') {
		if (++s >= p->end || *s < '0' || *s > '9')
			return st_syntax(p, "invalid number");
		while (s < p->end && *s >= '0' && *s <= '9')
			s++;
	}
	if (s < p->end && (*s == 'e' || *s == 'E')) {
		s++;
		if (s < p->end && (*s == '+' || *s == '-'))
			s++;
		if (s >= p->end || *s < '0' || *s > '9')
			return st_syntax(p, "invalid number");
		while (s < p->end && *s >= '0' && *s <= '9')
			s++;
	}
	p->p = s;
	return 0;
}

static int st_literal(struct st_parser *p, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(p->end - p->p) < n || memcmp(p->p, word, n))
		return st_syntax(p, "unexpected character");
	p->p += n;
	return 0;
}

/* Skip any JSON value; depth is the nesting of the value's container. */
static int st_skip(struct st_parser *p, unsigned depth)
{
	int r;

	st_ws(p);
	if (p->p >= p->end)
		return st_syntax(p, "unexpected end");
	switch (*p->p) {
	case '"':
		return st_string(p, NULL, NULL);
	case 't':
		return st_literal(p, "true");
	case 'f':
		return st_literal(p, "false");
	case 'n':
		return st_literal(p, "null");
	case '{':
	case '[': {
		char close = *p->p == '{' ? '}' : ']';
		bool object = close == '}';

		if (depth + 1 > MIPART_HF_JSON_MAX_DEPTH)
			return st_fail(p, -EINVAL, "the header nests deeper than %d",
				       MIPART_HF_JSON_MAX_DEPTH);
		p->p++;
		if (st_eat(p, close))
			return 0;
		do {
			if (object) {
				r = st_string(p, NULL, NULL);
				if (r < 0)
					return r;
				if (!st_eat(p, ':'))
					return st_syntax(p, "expected ':'");
			}
			r = st_skip(p, depth + 1);
			if (r < 0)
				return r;
		} while (st_eat(p, ','));
		if (!st_eat(p, close))
			return st_syntax(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
		return 0;
	}
	default:
		return st_number(p);
	}
}

/* What the value at the current position is, for messages. */
static const char *st_describe(struct st_parser *p)
{
	st_ws(p);
	if (p->p >= p->end)
		return "nothing";
	switch (*p->p) {
	case '"':
		return "a string";
	case '{':
		return "an object";
	case '[':
		return "a list";
	case 't':
	case 'f':
		return "a boolean";
	case 'n':
		return "null";
	case '-':
		return "a negative number";
	default:
		return "a number";
	}
}

/*
 * A non-negative integer (serde's usize): digits only; a sign, fraction or exponent is
 * refused, and so is a value past 64 bits.
 */
static int st_uint(struct st_parser *p, const char *what, uint64_t *ret)
{
	const char *s;
	uint64_t v = 0;

	st_ws(p);
	s = p->p;
	if (s >= p->end || *s < '0' || *s > '9')
		return st_tfail(p, -EINVAL, "%s must hold non-negative integers, not %s", what,
				st_describe(p));
	if (*s == '0' && s + 1 < p->end && s[1] >= '0' && s[1] <= '9')
		return st_syntax(p, "number with a leading zero");
	for (; s < p->end && *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return st_tfail(p, -ERANGE, "%s holds a number past 2^64", what);
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (s < p->end && (*s == '.' || *s == 'e' || *s == 'E'))
		return st_tfail(p, -EINVAL, "%s must hold integers, not fractions", what);
	p->p = s;
	*ret = v;
	return 0;
}

/* "__metadata__": null or an object of strings (safetensors: Option<HashMap<String, String>>). */
static int st_metadata(struct st_parser *p)
{
	int r;

	if (p->have_metadata)
		return st_fail(p, -EINVAL, "'__metadata__' appears twice");
	p->have_metadata = true;
	st_ws(p);
	if (p->p < p->end && *p->p == 'n')
		return st_literal(p, "null");
	if (!st_eat(p, '{'))
		return st_fail(p, -EINVAL, "'__metadata__' must be an object of strings, not %s",
			       st_describe(p));
	if (st_eat(p, '}'))
		return 0;
	do {
		r = st_string(p, NULL, NULL);
		if (r < 0)
			return r;
		if (!st_eat(p, ':'))
			return st_syntax(p, "expected ':'");
		st_ws(p);
		if (p->p >= p->end || *p->p != '"')
			return st_fail(p, -EINVAL,
				       "'__metadata__' must hold only strings, not %s",
				       st_describe(p));
		r = st_string(p, NULL, NULL);
		if (r < 0)
			return r;
	} while (st_eat(p, ','));
	if (!st_eat(p, '}'))
		return st_syntax(p, "expected ',' or '}'");
	return 0;
}

static bool key_is(const char *k, size_t n, const char *word)
{
	return n == strlen(word) && !memcmp(k, word, n);
}

/* "[2, 3]" for messages. */
static const char *format_shape(const uint64_t *dims, unsigned n, char *buf, size_t size)
{
	size_t o = 0;

	o += (size_t)snprintf(buf, size, "[");
	for (unsigned i = 0; i < n && o < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%llu", i ? ", " : "",
				      (unsigned long long)dims[i]);
	if (o < size)
		snprintf(buf + o, size - o, "]");
	return buf;
}

/* One tensor's object; its name is p->tname. */
static int st_tensor(struct st_parser *p)
{
	uint64_t dims[ST_MAX_DIMS], off[2] = { 0, 0 }, nelem = 1, nbits, nbytes;
	unsigned ndims = 0, bits = 0, noff = 0;
	bool have_dtype = false, have_shape = false, have_offsets = false;
	const char *dtype_name = "";
	char sh[96];
	int r;

	if (!st_eat(p, '{'))
		return st_tfail(p, -EINVAL, "must be an object, not %s", st_describe(p));
	if (!st_eat(p, '}')) {
		do {
			const char *k;
			size_t kn;

			r = st_string(p, &k, &kn);
			if (r < 0)
				return r;
			if (!st_eat(p, ':'))
				return st_syntax(p, "expected ':'");
			if (key_is(k, kn, "dtype")) {
				const char *s;
				size_t sn;
				char d[80];

				if (have_dtype)
					return st_tfail(p, -EINVAL, "'dtype' appears twice");
				have_dtype = true;
				st_ws(p);
				if (p->p >= p->end || *p->p != '"')
					return st_tfail(p, -EINVAL,
							"'dtype' must be a string, not %s",
							st_describe(p));
				r = st_string(p, &s, &sn);
				if (r < 0)
					return r;
				for (size_t i = 0; i < ARRAY_SIZE(st_dtypes); i++)
					if (key_is(s, sn, st_dtypes[i].name)) {
						bits = st_dtypes[i].bits;
						dtype_name = st_dtypes[i].name;
					}
				if (!bits)
					return st_tfail(p, -EINVAL, "unknown dtype '%s'",
							show(s, sn, d, sizeof(d)));
			} else if (key_is(k, kn, "shape")) {
				if (have_shape)
					return st_tfail(p, -EINVAL, "'shape' appears twice");
				have_shape = true;
				if (!st_eat(p, '['))
					return st_tfail(p, -EINVAL,
							"'shape' must be a list, not %s",
							st_describe(p));
				if (!st_eat(p, ']')) {
					do {
						if (ndims == ST_MAX_DIMS)
							return st_tfail(p, -EINVAL,
									"more than %d dimensions",
									ST_MAX_DIMS);
						r = st_uint(p, "'shape'", &dims[ndims]);
						if (r < 0)
							return r;
						ndims++;
					} while (st_eat(p, ','));
					if (!st_eat(p, ']'))
						return st_syntax(p, "expected ',' or ']'");
				}
			} else if (key_is(k, kn, "data_offsets")) {
				if (have_offsets)
					return st_tfail(p, -EINVAL, "'data_offsets' appears twice");
				have_offsets = true;
				if (!st_eat(p, '['))
					return st_tfail(
					    p, -EINVAL,
					    "'data_offsets' must be a list [begin, end], "
					    "not %s",
					    st_describe(p));
				if (!st_eat(p, ']')) {
					do {
						uint64_t x;

						r = st_uint(p, "'data_offsets'", &x);
						if (r < 0)
							return r;
						if (noff < 2)
							off[noff] = x;
						noff++;
					} while (st_eat(p, ','));
					if (!st_eat(p, ']'))
						return st_syntax(p, "expected ',' or ']'");
				}
				if (noff != 2)
					return st_tfail(
					    p, -EINVAL,
					    "'data_offsets' must be [begin, end], not %u "
					    "numbers",
					    noff);
			} else {
				r = st_skip(p, 2);
				if (r < 0)
					return r;
			}
		} while (st_eat(p, ','));
		if (!st_eat(p, '}'))
			return st_syntax(p, "expected ',' or '}'");
	}
	if (!have_dtype || !have_shape || !have_offsets)
		return st_tfail(p, -EINVAL, "no '%s'",
				!have_dtype ? "dtype" : !have_shape ? "shape" : "data_offsets");

	/* safetensors tensor.rs Metadata::validate: elements x bits, in whole bytes */
	for (unsigned i = 0; i < ndims; i++)
		if (__builtin_mul_overflow(nelem, dims[i], &nelem))
			return st_tfail(p, -ERANGE, "shape %s has more than 2^64 elements",
					format_shape(dims, ndims, sh, sizeof(sh)));
	if (__builtin_mul_overflow(nelem, (uint64_t)bits, &nbits))
		return st_tfail(p, -ERANGE, "shape %s of %s is more than 2^64 bits",
				format_shape(dims, ndims, sh, sizeof(sh)), dtype_name);
	if (nbits % 8)
		return st_tfail(p, -EINVAL, "%s %s is %llu bits, not a whole number of bytes",
				dtype_name, format_shape(dims, ndims, sh, sizeof(sh)),
				(unsigned long long)nbits);
	nbytes = nbits / 8;
	if (off[1] < off[0])
		return st_tfail(p, -EINVAL, "'data_offsets' [%llu, %llu] end before they begin",
				(unsigned long long)off[0], (unsigned long long)off[1]);
	if (off[1] > p->data_size)
		return st_tfail(p, -EINVAL,
				"'data_offsets' [%llu, %llu] run past the end of the file (%llu "
				"bytes of tensor data)",
				(unsigned long long)off[0], (unsigned long long)off[1],
				(unsigned long long)p->data_size);
	if (off[1] - off[0] != nbytes)
		return st_tfail(p, -EINVAL,
				"%s %s is %llu bytes but 'data_offsets' [%llu, %llu] hold %llu",
				dtype_name, format_shape(dims, ndims, sh, sizeof(sh)),
				(unsigned long long)nbytes, (unsigned long long)off[0],
				(unsigned long long)off[1], (unsigned long long)(off[1] - off[0]));
	if (__builtin_add_overflow(p->params, nelem, &p->params))
		return st_tfail(p, -ERANGE, "the file holds more than 2^64 elements");

	if (p->n == p->alloc) {
		size_t want = p->alloc ? p->alloc * 2 : 64;
		struct st_entry *nv;

		if (p->n >= MIPART_SAFETENSORS_MAX_TENSORS)
			return st_fail(p, -EINVAL, "more than %u tensors in one file",
				       MIPART_SAFETENSORS_MAX_TENSORS);
		if (want > MIPART_SAFETENSORS_MAX_TENSORS)
			want = MIPART_SAFETENSORS_MAX_TENSORS;
		nv = realloc(p->v, want * sizeof(*nv));
		if (!nv)
			return st_fail(p, -ENOMEM, "out of memory");
		p->v = nv;
		p->alloc = want;
	}
	p->v[p->n++] = (struct st_entry){ off[0], off[1], p->tname, p->tname_len };
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	const struct st_entry *x = a, *y = b;
	size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int c = memcmp(x->name, y->name, n);

	if (c)
		return c;
	return x->name_len < y->name_len ? -1 : x->name_len > y->name_len;
}

static int cmp_offsets(const void *a, const void *b)
{
	const struct st_entry *x = a, *y = b;

	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return cmp_name(a, b);
}

/* No two tensors share a name, and the tensors tile [0, data_size) in offset order. */
static int st_check_layout(struct st_parser *p)
{
	char s1[80], s2[80];
	uint64_t at = 0;

	if (p->n == 0)
		return p->data_size ? st_fail(p, -EINVAL,
					      "the tensors cover 0 bytes but the file holds %llu "
					      "bytes of tensor data",
					      (unsigned long long)p->data_size)
				    : 0;
	qsort(p->v, p->n, sizeof(*p->v), cmp_name);
	for (size_t i = 1; i < p->n; i++)
		if (!cmp_name(&p->v[i - 1], &p->v[i]))
			return st_fail(p, -EINVAL, "tensor '%s' appears twice",
				       show(p->v[i].name, p->v[i].name_len, s1, sizeof(s1)));

	/* safetensors tensor.rs Metadata::validate: sorted by offsets, each tensor starts where
	 * the previous ended; read_metadata: the last ends at the end of the file */
	qsort(p->v, p->n, sizeof(*p->v), cmp_offsets);
	for (size_t i = 0; i < p->n; i++) {
		const struct st_entry *e = &p->v[i];

		if (e->begin < at)
			return st_fail(p, -EINVAL,
				       "tensors '%s' and '%s' overlap (bytes %llu to %llu)",
				       show(p->v[i - 1].name, p->v[i - 1].name_len, s1, sizeof(s1)),
				       show(e->name, e->name_len, s2, sizeof(s2)),
				       (unsigned long long)e->begin, (unsigned long long)at);
		if (e->begin > at)
			return st_fail(p, -EINVAL,
				       "bytes %llu to %llu of the tensor data belong to no tensor "
				       "(before '%s')",
				       (unsigned long long)at, (unsigned long long)e->begin,
				       show(e->name, e->name_len, s1, sizeof(s1)));
		at = e->end;
	}
	if (at != p->data_size)
		return st_fail(p, -EINVAL,
			       "the tensors cover %llu bytes but the file holds %llu bytes of "
			       "tensor data",
			       (unsigned long long)at, (unsigned long long)p->data_size);
	return 0;
}

int hf_safetensors_parse_header(const char *buf, size_t len, uint64_t file_size,
				uint64_t *ret_bytes, uint64_t *ret_params, char *err,
				size_t err_size)
{
	struct st_parser p = { .buf = buf, .p = buf, .end = buf + len, .err = err,
			       .err_size = err_size };
	int r;

	if (len > MIPART_SAFETENSORS_HEADER_MAX)
		return fail(err, err_size, -EFBIG,
			    "header length %zu is larger than the format's limit of %u bytes", len,
			    MIPART_SAFETENSORS_HEADER_MAX);
	if (file_size < 8 || file_size - 8 < len)
		return fail(err, err_size, -EINVAL,
			    "header length %zu runs past the end of the file (%llu bytes)", len,
			    (unsigned long long)file_size);
	p.data_size = file_size - 8 - len;

	if (!st_eat(&p, '{')) {
		r = st_fail(&p, -EINVAL, "the header is not a JSON object");
		goto out;
	}
	if (!st_eat(&p, '}')) {
		do {
			r = st_string(&p, &p.tname, &p.tname_len);
			if (r < 0)
				goto out;
			if (!st_eat(&p, ':')) {
				r = st_syntax(&p, "expected ':'");
				goto out;
			}
			if (key_is(p.tname, p.tname_len, "__metadata__"))
				r = st_metadata(&p);
			else
				r = st_tensor(&p);
			if (r < 0)
				goto out;
		} while (st_eat(&p, ','));
		if (!st_eat(&p, '}')) {
			r = st_syntax(&p, "expected ',' or '}'");
			goto out;
		}
	}
	st_ws(&p);
	if (p.p != p.end) {
		r = st_syntax(&p, "bytes after the header's JSON object");
		goto out;
	}
	r = st_check_layout(&p);
	if (r < 0)
		goto out;
	if (ret_bytes)
		*ret_bytes = p.data_size;
	if (ret_params)
		*ret_params = p.params;
out:
	free(p.v);
	free(p.arena);
	return r;
}

/* ---------------------------------------------------------------------------------------------
 * Files
 */

static ssize_t pread_full(int fd, void *buf, size_t n, off_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = pread(fd, (char *)buf + got, n - got, off + (off_t)got);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

/* Open name under dirfd as a regular file (following symlinks: the Hugging Face cache links
 * snapshots to blobs). display names it in messages. */
static int open_regular(int dirfd, const char *name, const char *display, struct stat *st,
			char *err, size_t err_size)
{
	/* O_NONBLOCK: a FIFO planted in a model directory must not hang the read */
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), r;

	if (fd < 0) {
		r = -errno;
		return fail(err, err_size, r, "cannot open '%s': %s", display, mipart_strerror(r));
	}
	if (fstat(fd, st) < 0) {
		r = -errno;

		close(fd);
		return fail(err, err_size, r, "cannot read '%s': %s", display, mipart_strerror(r));
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return fail(err, err_size, -EINVAL, "'%s' is not a regular file", display);
	}
	return fd;
}

/* A whole JSON file of at most cap bytes, NUL-terminated. */
static int read_capped(int dirfd, const char *name, const char *display, size_t cap,
		       char **ret_buf, size_t *ret_len, char *err, size_t err_size)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	int fd, r;

	fd = open_regular(dirfd, name, display, &st, err, err_size);
	if (fd < 0)
		return fd;
	if (st.st_size < 0 || (uint64_t)st.st_size > cap) {
		r = fail(err, err_size, -EFBIG, "'%s' is %lld bytes; mipart reads at most %zu",
			 display, (long long)st.st_size, cap);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 2);
	if (!buf) {
		r = fail(err, err_size, -ENOMEM, "out of memory");
		goto out;
	}
	/* one byte more than fstat said: a file that grew is too large, not cut short */
	n = pread_full(fd, buf, (size_t)st.st_size + 1, 0);
	if (n < 0) {
		r = fail(err, err_size, (int)n, "cannot read '%s': %s", display,
			 mipart_strerror((int)n));
		goto out;
	}
	if ((size_t)n > cap) {
		r = fail(err, err_size, -EFBIG, "'%s' is more than %zu bytes", display, cap);
		goto out;
	}
	buf[n] = '\0';
	*ret_buf = buf;
	*ret_len = (size_t)n;
	buf = NULL;
	r = 0;
out:
	free(buf);
	close(fd);
	return r;
}

/* One safetensors file: the 8-byte length, then the header, never the data. */
static int st_file(int dirfd, const char *name, const char *display, uint64_t *ret_bytes,
		   uint64_t *ret_params, char *err, size_t err_size)
{
	unsigned char head[8];
	char msg[MSG_MAX];
	struct stat st;
	uint64_t hlen = 0, size;
	char *buf = NULL;
	ssize_t n;
	int fd, r;

	fd = open_regular(dirfd, name, display, &st, err, err_size);
	if (fd < 0)
		return fd;
	size = (uint64_t)st.st_size;
	n = pread_full(fd, head, sizeof(head), 0);
	if (n < 0) {
		r = fail(err, err_size, (int)n, "cannot read '%s': %s", display,
			 mipart_strerror((int)n));
		goto out;
	}
	if (n < 8) {
		r = fail(err, err_size, -EINVAL,
			 "%s: truncated: %zd bytes, and a safetensors file starts with an 8-byte "
			 "header length",
			 display, n);
		goto out;
	}
	/* a checkout without git-lfs holds the pointer text ("version https://git-lfs...") */
	if (!memcmp(head, "version ", 8)) {
		r = fail(err, err_size, -EINVAL,
			 "%s: a Git LFS pointer, not the weights; fetch them (git lfs pull)",
			 display);
		goto out;
	}
	for (int i = 7; i >= 0; i--)
		hlen = hlen << 8 | head[i];
	if (hlen > MIPART_SAFETENSORS_HEADER_MAX) {
		r = fail(err, err_size, -EFBIG,
			 "%s: header length %llu is larger than the format's limit of %u bytes",
			 display, (unsigned long long)hlen, MIPART_SAFETENSORS_HEADER_MAX);
		goto out;
	}
	if (hlen > size - 8) {
		r = fail(err, err_size, -EINVAL,
			 "%s: header length %llu runs past the end of the file (%llu bytes)",
			 display, (unsigned long long)hlen, (unsigned long long)size);
		goto out;
	}
	buf = malloc(hlen ? (size_t)hlen : 1);
	if (!buf) {
		r = fail(err, err_size, -ENOMEM, "out of memory");
		goto out;
	}
	n = pread_full(fd, buf, (size_t)hlen, 8);
	if (n < 0) {
		r = fail(err, err_size, (int)n, "cannot read '%s': %s", display,
			 mipart_strerror((int)n));
		goto out;
	}
	if ((uint64_t)n != hlen) {
		r = fail(err, err_size, -EIO, "%s: the file shrank while it was read", display);
		goto out;
	}
	r = hf_safetensors_parse_header(buf, (size_t)hlen, size, ret_bytes, ret_params, msg,
					sizeof(msg));
	if (r < 0)
		fail(err, err_size, r, "%s: %s", display, msg);
out:
	free(buf);
	close(fd);
	return r;
}

int mipart_safetensors_bytes(const char *path, uint64_t *ret_bytes, uint64_t *ret_params, char *err,
			     size_t err_size)
{
	return st_file(AT_FDCWD, path, path, ret_bytes, ret_params, err, err_size);
}

/* ---------------------------------------------------------------------------------------------
 * Model directories
 */

#define INDEX_NAME "model.safetensors.index.json"

/* "<dir>/<name>" for messages (just name if it does not fit). */
static const char *join(const char *dir, const char *name, char *buf, size_t size)
{
	if (util_pathf(buf, size, "%s/%s", dir, name) < 0)
		util_strlcpy(buf, name, size);
	return buf;
}

struct weights {
	uint64_t bytes, params;
};

/* Add one file's header to w. */
static int add_file(int dirfd, const char *dir, const char *name, struct weights *w, char *err,
		    size_t err_size)
{
	char path[PATH_MAX];
	uint64_t bytes = 0, params = 0;
	int r;

	join(dir, name, path, sizeof(path));
	r = st_file(dirfd, name, path, &bytes, &params, err, err_size);
	if (r < 0)
		return r;
	if (__builtin_add_overflow(w->bytes, bytes, &w->bytes) ||
	    __builtin_add_overflow(w->params, params, &w->params))
		return fail(err, err_size, -ERANGE, "%s: the checkpoint holds more than 2^64 bytes",
			    dir);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A shard file named by the index: a plain name in the directory (no '/', not hidden). */
static bool shard_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= NAME_MAX && s[0] != '.' && !strchr(s, '/');
}

/*
 * model.safetensors.index.json (transformers modeling_utils.py save_pretrained):
 * {"metadata": {"total_size": bytes, "total_parameters": n}, "weight_map": {tensor: shard}}.
 */
static int load_index(int dirfd, const char *dir, struct weights *w, bool *ret_params_known,
		      char *err, size_t err_size)
{
	char path[PATH_MAX], shard_path[PATH_MAX], d[48], s[80];
	const json_t *map, *meta, *v;
	const char **names = NULL, *key;
	size_t len, n = 0, unique = 0;
	json_t *root = NULL;
	char *buf = NULL;
	uint64_t files = 0, total_size = 0, total_params = 0;
	struct cfg c;
	int r;

	join(dir, INDEX_NAME, path, sizeof(path));
	c = (struct cfg){ .name = path, .prefix = "", .err = err, .err_size = err_size };
	r = read_capped(dirfd, INDEX_NAME, path, MIPART_HF_INDEX_MAX, &buf, &len, err, err_size);
	if (r < 0)
		return r;
	r = load_json(buf, len, path, &root, err, err_size);
	free(buf);
	if (r < 0)
		return r;

	map = json_object_get(root, "weight_map");
	if (!map || !json_is_object(map)) {
		r = cfg_fail(&c, -EINVAL, "'weight_map' must be an object, not %s",
			     map ? describe(map, d, sizeof(d)) : "missing");
		goto out;
	}
	if (json_object_size(map) > MIPART_SAFETENSORS_MAX_TENSORS) {
		r = cfg_fail(&c, -EINVAL, "'weight_map' lists more than %u tensors",
			     MIPART_SAFETENSORS_MAX_TENSORS);
		goto out;
	}
	names = calloc(json_object_size(map) + 1, sizeof(*names));
	if (!names) {
		r = cfg_fail(&c, -ENOMEM, "out of memory");
		goto out;
	}
	json_object_foreach((json_t *)map, key, v) {
		if (!json_is_string(v) || !shard_name_ok(json_string_value(v))) {
			r = cfg_fail(&c, -EINVAL,
				     "'weight_map' entry '%s' must name a file in the directory, "
				     "not %s",
				     show(key, strlen(key), s, sizeof(s)),
				     json_is_string(v) ? "a path" : describe(v, d, sizeof(d)));
			goto out;
		}
		names[n++] = json_string_value(v);
	}
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		struct stat st;

		if (i && !strcmp(names[i], names[unique - 1]))
			continue;
		if (unique == MIPART_HF_MAX_SHARDS) {
			r = cfg_fail(&c, -EINVAL, "more than %u shard files", MIPART_HF_MAX_SHARDS);
			goto out;
		}
		names[unique++] = names[i];
		/* a partial download is the common failure: say which shard is missing */
		join(dir, names[i], shard_path, sizeof(shard_path));
		if (fstatat(dirfd, names[i], &st, 0) < 0) {
			r = -errno;
			fail(err, err_size, r, "%s lists '%s', but %s", path, names[i],
			     r == -ENOENT ? "it is missing" : mipart_strerror(r));
			goto out;
		}
		if (!S_ISREG(st.st_mode)) {
			r = fail(err, err_size, -EINVAL, "'%s' is not a regular file", shard_path);
			goto out;
		}
		if (__builtin_add_overflow(files, (uint64_t)st.st_size, &files)) {
			r = cfg_fail(&c, -ERANGE, "the shards hold more than 2^64 bytes");
			goto out;
		}
	}

	meta = json_object_get(root, "metadata");
	if (meta && !json_is_null(meta)) {
		if (!json_is_object(meta)) {
			r = cfg_fail(&c, -EINVAL, "'metadata' must be an object, not %s",
				     describe(meta, d, sizeof(d)));
			goto out;
		}
		/* json_int_t holds 63 bits: plenty for bytes and parameters */
		v = json_object_get(meta, "total_size");
		if (v && !json_is_null(v)) {
			if (!json_is_integer(v) || json_integer_value(v) < 0) {
				r = cfg_fail(
				    &c, -EINVAL,
				    "'metadata.total_size' must be a non-negative integer, "
				    "not %s",
				    describe(v, d, sizeof(d)));
				goto out;
			}
			total_size = (uint64_t)json_integer_value(v);
		}
		v = json_object_get(meta, "total_parameters");
		if (v && !json_is_null(v)) {
			if (!json_is_integer(v) || json_integer_value(v) < 0) {
				r = cfg_fail(&c, -EINVAL,
					     "'metadata.total_parameters' must be a non-negative "
					     "integer, not %s",
					     describe(v, d, sizeof(d)));
				goto out;
			}
			total_params = (uint64_t)json_integer_value(v);
		}
	}

	if (total_size) {
		/* the shards hold the tensors plus their headers */
		if (total_size > files) {
			r = cfg_fail(&c, -EINVAL,
				     "'metadata.total_size' is %llu bytes but the %zu shards hold "
				     "only %llu",
				     (unsigned long long)total_size, unique,
				     (unsigned long long)files);
			goto out;
		}
		w->bytes = total_size;
		w->params = total_params;
		*ret_params_known = total_params > 0;
	} else {
		for (size_t i = 0; i < unique; i++) {
			r = add_file(dirfd, dir, names[i], w, err, err_size);
			if (r < 0)
				goto out;
		}
		*ret_params_known = true;
	}
	r = 0;
out:
	free(names);
	json_decref(root);
	return r;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n > k && !strcmp(s + n - k, suffix);
}

/* No index: every *.safetensors in the directory, as vLLM's loader globs them
 * (model_executor/model_loader/default_loader.py: allow_patterns ["*.safetensors"]). */
static int load_files(int dirfd, const char *dir, struct weights *w, char *err, size_t err_size)
{
	char **names = NULL;
	size_t n = 0;
	DIR *d;
	int r = 0;

	d = util_opendirat(dirfd, ".");
	if (!d) {
		r = -errno;
		return fail(err, err_size, r, "cannot list '%s': %s", dir, mipart_strerror(r));
	}
	names = calloc(MIPART_HF_MAX_SHARDS, sizeof(*names));
	if (!names) {
		r = fail(err, err_size, -ENOMEM, "out of memory");
		goto out;
	}
	for (struct dirent *de; (de = readdir(d));) {
		if (de->d_name[0] == '.' || !has_suffix(de->d_name, ".safetensors"))
			continue;
		if (n == MIPART_HF_MAX_SHARDS) {
			r = fail(err, err_size, -EINVAL, "%s: more than %u *.safetensors files",
				 dir, MIPART_HF_MAX_SHARDS);
			goto out;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			r = fail(err, err_size, -ENOMEM, "out of memory");
			goto out;
		}
		n++;
	}
	/* the same order every time, so that the same file is reported */
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		r = add_file(dirfd, dir, names[i], w, err, err_size);
		if (r < 0)
			goto out;
	}
out:
	if (names)
		for (size_t i = 0; i < n; i++)
			free(names[i]);
	free(names);
	closedir(d);
	return r;
}

/*
 * The model's id from where it lives. huggingface_hub's cache keeps a repository's files as
 * <cache>/models--<org>--<name>/snapshots/<revision>/ (file_download.py repo_folder_name:
 * "--".join(["models", *repo_id.split("/")])); repository names cannot hold "--", so the
 * folder name gives "org/name" back. Returns false if dir is not such a snapshot.
 */
static bool cache_repo_id(const char *real, char *out, size_t size)
{
	char buf[PATH_MAX], id[MIPART_MODEL_ID_MAX];
	char *rev, *snap, *repo;
	size_t o = 0;

	if (util_strlcpy(buf, real, sizeof(buf)) >= sizeof(buf))
		return false;
	rev = strrchr(buf, '/');
	if (!rev || rev == buf)
		return false;
	*rev = '\0';
	snap = strrchr(buf, '/');
	if (!snap || strcmp(snap + 1, "snapshots"))
		return false;
	*snap = '\0';
	repo = strrchr(buf, '/');
	repo = repo ? repo + 1 : buf;
	if (strncmp(repo, "models--", 8))
		return false;
	for (const char *s = repo + 8; *s && o + 1 < sizeof(id); s++) {
		if (s[0] == '-' && s[1] == '-') {
			id[o++] = '/';
			s++;
		} else {
			id[o++] = *s;
		}
	}
	id[o] = '\0';
	if (!repo_id_ok(id))
		return false;
	util_strlcpy(out, id, size);
	return true;
}

/*
 * The directory's own name, trailing slashes dropped, control characters shown as '?', cut at a
 * UTF-8 character boundary to fit size.
 */
static void dir_basename(const char *dir, const char *real, char *out, size_t size)
{
	const char *src = real ? real : dir, *base, *end;
	size_t o = 0;

	end = src + strlen(src);
	while (end - src > 1 && end[-1] == '/')
		end--;
	for (base = end; base > src && base[-1] != '/'; base--)
		;
	if (base == end) /* "/" */
		base = src;
	for (const char *s = base; s < end && o + 1 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c & 0xc0) == 0x80 || c < 0x80 || o + 4 < size) {
			out[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
			continue;
		}
		break; /* a multibyte character that might not fit */
	}
	out[o] = '\0';
}

int mipart_hf_load_dir(const char *dir, mipart_model *ret, char *err, size_t err_size)
{
	char path[PATH_MAX], *buf = NULL, *real = NULL;
	struct weights w = { 0, 0 };
	bool params_known = false;
	mipart_model m;
	struct stat st;
	size_t len;
	int dirfd, r;

	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		r = -errno;
		return fail(err, err_size, r, "cannot open '%s': %s", dir, mipart_strerror(r));
	}
	join(dir, "config.json", path, sizeof(path));
	r = read_capped(dirfd, "config.json", path, MIPART_HF_CONFIG_MAX, &buf, &len, err,
			err_size);
	if (r < 0)
		goto out;
	r = mipart_hf_parse_config(buf, len, path, &m, err, err_size);
	if (r < 0)
		goto out;

	if (fstatat(dirfd, INDEX_NAME, &st, 0) == 0) {
		r = load_index(dirfd, dir, &w, &params_known, err, err_size);
	} else if (errno == ENOENT) {
		r = load_files(dirfd, dir, &w, err, err_size);
		params_known = true;
	} else {
		r = -errno;
		fail(err, err_size, r, "cannot read '%s': %s",
		     join(dir, INDEX_NAME, path, sizeof(path)), mipart_strerror(r));
	}
	if (r < 0)
		goto out;
	m.weight_bytes = w.bytes;
	/* packed formats store several values per element (AWQ: 8 per I32, MXFP4: 2 per U8): the
	 * element count is not a parameter count */
	m.params = params_known && !(m.quant_bits && m.quant_bits < 8) ? w.params : 0;

	real = realpath(dir, NULL);
	if (!(real && cache_repo_id(real, m.id, sizeof(m.id))) && !m.id[0])
		dir_basename(dir, real, m.id, sizeof(m.id));
	*ret = m;
	r = 0;
out:
	free(real);
	free(buf);
	close(dirfd);
	return r;
}
