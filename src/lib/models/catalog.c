// SPDX-License-Identifier: MIT
/*
 * The model catalog: a JSON file (format v1, docs/catalog.md) that lists widely served models by
 * their Hugging Face id and short aliases, with the shape fields of mipart_model under the names
 * the struct uses. The reader is strict, because a wrong number here silently becomes a wrong
 * memory estimate: every key must be known and of its type, shapes that cannot exist are
 * refused, no name may be taken twice, and each error names the model and the key. The file is
 * capped at MIPART_CATALOG_MAX_SIZE and parsed whole with jansson, duplicate object keys
 * rejected. Lookups go through one sorted array of every id and alias, compared
 * case-insensitively.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <jansson.h>

#include "mipart/catalog.h"
#include "mipart/error.h"
#include "config.h"
#include "util.h"
#include "banned.h"

#define CATALOG_VERSION 1

struct entry {
	mipart_model model;
	char **aliases; /* n_aliases strings, then NULL */
	size_t n_aliases;
	char *source;
};

/* A name the catalog answers to: the id of entry (alias == 0) or its alias number alias - 1. */
struct name {
	const char *text;
	size_t entry;
	size_t alias;
};

struct mipart_catalog {
	struct entry *entries;
	size_t n;
	struct name *names; /* every id and alias, sorted case-insensitively */
	size_t n_names;
};

enum kind { K_STRING, K_UINT, K_U64, K_BOOL, K_ATTENTION, K_ALIASES, K_SOURCE };

/* One key of a model object: where it goes in mipart_model and whether it must be there. */
struct key {
	const char *name;
	enum kind kind;
	size_t offset; /* in mipart_model; unused for K_ALIASES and K_SOURCE */
	size_t size;   /* K_STRING: the size of the char array */
	bool required;
};

#define OFF(f) offsetof(mipart_model, f)
#define SIZE(f) sizeof(((mipart_model *)0)->f)

/* The names are those of struct mipart_model (model.h), in its order. */
/* clang-format off */
static const struct key keys[] = {
	{ "id",                K_STRING,    OFF(id),                SIZE(id),           true  },
	{ "aliases",           K_ALIASES,   0,                      0,                  true  },
	{ "arch",              K_STRING,    OFF(arch),              SIZE(arch),         true  },
	{ "layers",            K_UINT,      OFF(layers),            0,                  true  },
	{ "hidden",            K_UINT,      OFF(hidden),            0,                  true  },
	{ "heads",             K_UINT,      OFF(heads),             0,                  true  },
	{ "kv_heads",          K_UINT,      OFF(kv_heads),          0,                  false },
	{ "head_dim",          K_UINT,      OFF(head_dim),          0,                  false },
	{ "intermediate",      K_UINT,      OFF(intermediate),      0,                  false },
	{ "vocab",             K_UINT,      OFF(vocab),             0,                  true  },
	{ "tied_embeddings",   K_BOOL,      OFF(tied_embeddings),   0,                  false },
	{ "max_position",      K_UINT,      OFF(max_position),      0,                  true  },
	{ "experts",           K_UINT,      OFF(experts),           0,                  false },
	{ "experts_per_token", K_UINT,      OFF(experts_per_token), 0,                  false },
	{ "moe_intermediate",  K_UINT,      OFF(moe_intermediate),  0,                  false },
	{ "shared_experts",    K_UINT,      OFF(shared_experts),    0,                  false },
	{ "dense_layers",      K_UINT,      OFF(dense_layers),      0,                  false },
	{ "attention",         K_ATTENTION, OFF(attention),         0,                  false },
	{ "sliding_window",    K_UINT,      OFF(sliding_window),    0,                  false },
	{ "sliding_layers",    K_UINT,      OFF(sliding_layers),    0,                  false },
	{ "mtp_layers",        K_UINT,      OFF(mtp_layers),        0,                  false },
	{ "mlp_matrices",      K_UINT,      OFF(mlp_matrices),      0,                  false },
	{ "attention_chunk",   K_UINT,      OFF(attention_chunk),   0,                  false },
	{ "chunked_layers",    K_UINT,      OFF(chunked_layers),    0,                  false },
	{ "q_lora_rank",       K_UINT,      OFF(q_lora_rank),       0,                  false },
	{ "kv_lora_rank",      K_UINT,      OFF(kv_lora_rank),      0,                  false },
	{ "qk_rope_head_dim",  K_UINT,      OFF(qk_rope_head_dim),  0,                  false },
	{ "qk_nope_head_dim",  K_UINT,      OFF(qk_nope_head_dim),  0,                  false },
	{ "v_head_dim",        K_UINT,      OFF(v_head_dim),        0,                  false },
	{ "params",            K_U64,       OFF(params),            0,                  false },
	{ "dtype",             K_STRING,    OFF(dtype),             SIZE(dtype),        true  },
	{ "quant_method",      K_STRING,    OFF(quant_method),      SIZE(quant_method), false },
	{ "quant_bits",        K_UINT,      OFF(quant_bits),        0,                  false },
	{ "quant_group",       K_UINT,      OFF(quant_group),       0,                  false },
	{ "weight_bytes",      K_U64,       OFF(weight_bytes),      0,                  false },
	{ "vision_layers",     K_UINT,      OFF(vision_layers),     0,                  false },
	{ "vision_hidden",     K_UINT,      OFF(vision_hidden),     0,                  false },
	{ "vision_intermediate", K_UINT,    OFF(vision_intermediate), 0,                false },
	{ "vision_patches",    K_UINT,      OFF(vision_patches),    0,                  false },
	{ "vision_tokens",     K_UINT,      OFF(vision_tokens),     0,                  false },
	{ "vision_params",     K_U64,       OFF(vision_params),     0,                  false },
	{ "vision_image_size", K_UINT,      OFF(vision_image_size), 0,                  false },
	{ "vision_tiles",      K_UINT,      OFF(vision_tiles),      0,                  false },
	{ "vision_global_layers", K_UINT,   OFF(vision_global_layers), 0,               false },
	{ "vision_kept_layers", K_UINT,     OFF(vision_kept_layers), 0,                 false },
	{ "vision_output_dim", K_UINT,      OFF(vision_output_dim), 0,                  false },
	{ "source",            K_SOURCE,    0,                      0,                  true  },
};
/* clang-format on */

_Static_assert(ARRAY_SIZE(keys) <= 64, "the seen-key mask holds 64 keys");

static const char *const attention_names[] = {
	[MIPART_ATTN_FULL] = "full",
	[MIPART_ATTN_HYBRID] = "hybrid",
	[MIPART_ATTN_MLA] = "mla",
};

/* torch_dtype values of unquantized checkpoints */
static const char *const dtypes[] = { "float32", "float16", "bfloat16" };

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t err_size, int r,
						      const char *fmt, ...)
{
	va_list ap;

	if (err && err_size) {
		va_start(ap, fmt);
		vsnprintf(err, err_size, fmt, ap);
		va_end(ap);
	}
	return r;
}

static const struct key *find_key(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

static size_t key_bit(const struct key *k)
{
	return (size_t)(k - keys);
}

/* An id or alias: printable ASCII without spaces, so it can be typed on a command line. */
static bool name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static int read_aliases(struct entry *e, json_t *v, const char *who, char *err, size_t err_size)
{
	size_t i, n;
	json_t *a;

	if (!json_is_array(v))
		return fail(err, err_size, -EINVAL,
			    "%s: key 'aliases': expected an array of strings", who);
	n = json_array_size(v);
	if (n > MIPART_CATALOG_MAX_ALIASES)
		return fail(err, err_size, -EINVAL, "%s: key 'aliases': more than %d aliases", who,
			    MIPART_CATALOG_MAX_ALIASES);
	e->aliases = calloc(n + 1, sizeof(*e->aliases));
	if (!e->aliases)
		return fail(err, err_size, -ENOMEM, "%s", mipart_strerror(-ENOMEM));
	json_array_foreach(v, i, a) {
		const char *s = json_string_value(a);

		if (!s)
			return fail(err, err_size, -EINVAL,
				    "%s: key 'aliases': item %zu is not a string", who, i + 1);
		if (json_string_length(a) >= MIPART_CATALOG_NAME_MAX)
			return fail(err, err_size, -EINVAL,
				    "%s: key 'aliases': '%.40s...' is longer than %d characters",
				    who, s, MIPART_CATALOG_NAME_MAX - 1);
		if (!name_ok(s))
			return fail(
			    err, err_size, -EINVAL,
			    "%s: key 'aliases': '%s' is empty or has spaces or control characters",
			    who, s);
		e->aliases[i] = strdup(s);
		if (!e->aliases[i])
			return fail(err, err_size, -ENOMEM, "%s", mipart_strerror(-ENOMEM));
		e->n_aliases = i + 1;
	}
	return 0;
}

static int read_value(struct entry *e, const struct key *k, json_t *v, const char *who, char *err,
		      size_t err_size)
{
	char *field = (char *)&e->model + k->offset;
	const char *s;
	json_int_t n;

	switch (k->kind) {
	case K_STRING:
		s = json_string_value(v);
		if (!s)
			return fail(err, err_size, -EINVAL, "%s: key '%s': expected a string", who,
				    k->name);
		if (json_string_length(v) >= k->size)
			return fail(err, err_size, -EINVAL,
				    "%s: key '%s': '%.40s...' is longer than %zu characters", who,
				    k->name, s, k->size - 1);
		util_strlcpy(field, s, k->size);
		return 0;
	case K_UINT:
	case K_U64:
		if (!json_is_integer(v))
			return fail(err, err_size, -EINVAL, "%s: key '%s': expected an integer",
				    who, k->name);
		n = json_integer_value(v);
		if (n < 0 || (k->kind == K_UINT && (unsigned long long)n > UINT_MAX))
			return fail(err, err_size, -EINVAL,
				    "%s: key '%s': %lld is out of range (0 to %s)", who, k->name,
				    (long long)n,
				    k->kind == K_UINT ? "4294967295" : "9223372036854775807");
		if (k->kind == K_UINT)
			*(unsigned *)field = (unsigned)n;
		else
			*(uint64_t *)field = (uint64_t)n;
		return 0;
	case K_BOOL:
		if (!json_is_boolean(v))
			return fail(err, err_size, -EINVAL, "%s: key '%s': expected true or false",
				    who, k->name);
		*(bool *)field = json_is_true(v);
		return 0;
	case K_ATTENTION:
		s = json_string_value(v);
		if (!s)
			return fail(err, err_size, -EINVAL, "%s: key '%s': expected a string", who,
				    k->name);
		for (size_t i = 0; i < ARRAY_SIZE(attention_names); i++)
			if (!strcmp(s, attention_names[i])) {
				*(mipart_attention *)field = (mipart_attention)i;
				return 0;
			}
		return fail(
		    err, err_size, -EINVAL,
		    "%s: key '%s': unknown attention '%.40s' (expected full, hybrid or mla)", who,
		    k->name, s);
	case K_ALIASES:
		return read_aliases(e, v, who, err, err_size);
	case K_SOURCE:
		s = json_string_value(v);
		if (!s)
			return fail(err, err_size, -EINVAL, "%s: key '%s': expected a string", who,
				    k->name);
		if (!*s || json_string_length(v) >= MIPART_CATALOG_SOURCE_MAX)
			return fail(err, err_size, -EINVAL,
				    "%s: key '%s': must say where the numbers come from in 1 to %d "
				    "characters",
				    who, k->name, MIPART_CATALOG_SOURCE_MAX - 1);
		e->source = strdup(s);
		if (!e->source)
			return fail(err, err_size, -ENOMEM, "%s", mipart_strerror(-ENOMEM));
		return 0;
	}
	return fail(err, err_size, -EINVAL, "%s: key '%s': unsupported", who, k->name);
}

#define BAD(key, ...) fail(err, err_size, -EINVAL, "%s: key '" key "': " __VA_ARGS__)

/* Shapes that cannot exist, or fields that belong to another kind of model. */
static int check_model(const mipart_model *m, uint64_t seen, const char *who, char *err,
		       size_t err_size)
{
	bool hybrid = m->attention == MIPART_ATTN_HYBRID, mla = m->attention == MIPART_ATTN_MLA;
	bool dtype_ok = false;

	if (!name_ok(m->id))
		return BAD("id", "'%s' is empty or has spaces or control characters", who, m->id);
	if (!m->arch[0])
		return BAD("arch", "must not be empty", who);
	if (!m->layers)
		return BAD("layers", "must be greater than 0", who);
	if (!m->hidden)
		return BAD("hidden", "must be greater than 0", who);
	if (!m->heads)
		return BAD("heads", "must be greater than 0", who);
	if (!m->kv_heads || m->heads % m->kv_heads)
		return BAD("kv_heads", "%u does not divide heads (%u)", who, m->kv_heads, m->heads);
	if (!m->head_dim)
		return BAD("head_dim", "must be greater than 0 (hidden / heads when absent)", who);
	if (!m->vocab)
		return BAD("vocab", "must be greater than 0", who);
	if (!m->max_position)
		return BAD("max_position", "must be greater than 0", who);

	if (!m->experts) {
		if (m->experts_per_token)
			return BAD("experts_per_token", "set on a model without experts", who);
		if (m->moe_intermediate)
			return BAD("moe_intermediate", "set on a model without experts", who);
		if (m->shared_experts)
			return BAD("shared_experts", "set on a model without experts", who);
		if (m->dense_layers)
			return BAD("dense_layers", "set on a model without experts", who);
		if (!m->intermediate)
			return BAD("intermediate", "must be greater than 0 for a dense model", who);
	} else {
		if (!m->experts_per_token || m->experts_per_token > m->experts)
			return BAD("experts_per_token", "%u is not between 1 and experts (%u)", who,
				   m->experts_per_token, m->experts);
		if (!m->moe_intermediate)
			return BAD("moe_intermediate", "must be greater than 0 with experts", who);
		if (m->dense_layers >= m->layers)
			return BAD("dense_layers", "%u leaves no MoE layer of %u", who,
				   m->dense_layers, m->layers);
		if (m->dense_layers && !m->intermediate)
			return BAD("intermediate", "must be greater than 0 with dense_layers", who);
	}

	if (m->mlp_matrices && m->mlp_matrices != 2 && m->mlp_matrices != 3)
		return BAD("mlp_matrices", "%u is neither 2 (fc1, fc2) nor 3 (gate, up, down)", who,
			   m->mlp_matrices);
	if (hybrid) {
		/* sliding windows (Gemma, GPT-OSS), chunked local attention (Llama 4), or both */
		if (!m->sliding_window && !m->attention_chunk)
			return BAD("sliding_window",
				   "must be greater than 0 with \"hybrid\" attention (or attention_chunk)", who);
		if (m->sliding_window && (!m->sliding_layers || m->sliding_layers > m->layers))
			return BAD("sliding_layers", "%u is not between 1 and layers (%u)", who,
				   m->sliding_layers, m->layers);
		if (!m->sliding_window && m->sliding_layers)
			return BAD("sliding_layers", "set without sliding_window", who);
		if (m->attention_chunk &&
		    (!m->chunked_layers || m->chunked_layers > m->layers - m->sliding_layers))
			return BAD("chunked_layers", "%u is not between 1 and the layers that do not slide (%u)",
				   who, m->chunked_layers, m->layers - m->sliding_layers);
		if (!m->attention_chunk && m->chunked_layers)
			return BAD("chunked_layers", "set without attention_chunk", who);
	} else if (m->sliding_window) {
		return BAD("sliding_window", "only for \"hybrid\" attention", who);
	} else if (m->sliding_layers) {
		return BAD("sliding_layers", "only for \"hybrid\" attention", who);
	} else if (m->attention_chunk) {
		return BAD("attention_chunk", "only for \"hybrid\" attention", who);
	} else if (m->chunked_layers) {
		return BAD("chunked_layers", "only for \"hybrid\" attention", who);
	}

	if (mla) {
		if (!m->kv_lora_rank)
			return BAD("kv_lora_rank", "must be greater than 0 with \"mla\" attention",
				   who);
		if (!m->qk_rope_head_dim)
			return BAD("qk_rope_head_dim",
				   "must be greater than 0 with \"mla\" attention", who);
		if (!m->qk_nope_head_dim)
			return BAD("qk_nope_head_dim",
				   "must be greater than 0 with \"mla\" attention", who);
		if (!m->v_head_dim)
			return BAD("v_head_dim", "must be greater than 0 with \"mla\" attention",
				   who);
	} else if (m->q_lora_rank) {
		return BAD("q_lora_rank", "only for \"mla\" attention", who);
	} else if (m->kv_lora_rank) {
		return BAD("kv_lora_rank", "only for \"mla\" attention", who);
	} else if (m->qk_rope_head_dim) {
		return BAD("qk_rope_head_dim", "only for \"mla\" attention", who);
	} else if (m->qk_nope_head_dim) {
		return BAD("qk_nope_head_dim", "only for \"mla\" attention", who);
	} else if (m->v_head_dim) {
		return BAD("v_head_dim", "only for \"mla\" attention", who);
	}

	for (size_t i = 0; i < ARRAY_SIZE(dtypes); i++)
		dtype_ok |= !strcmp(m->dtype, dtypes[i]);
	if (!dtype_ok)
		return BAD("dtype", "unknown dtype '%s' (expected float32, float16 or bfloat16)",
			   who, m->dtype);
	if (!m->quant_method[0]) {
		if (m->quant_bits)
			return BAD("quant_bits", "set without quant_method", who);
		if (m->quant_group)
			return BAD("quant_group", "set without quant_method", who);
	} else if (!m->quant_bits || m->quant_bits > 16) {
		return BAD("quant_bits", "%u is not between 1 and 16", who, m->quant_bits);
	}
	if ((seen >> key_bit(find_key("params")) & 1) && !m->params)
		return BAD("params", "must be greater than 0 (leave it out to compute it)", who);
	if (m->vision_tokens) {
		if (!m->vision_hidden || !m->vision_intermediate)
			return BAD("vision_tokens", "needs vision_hidden and vision_intermediate", who);
		if (m->vision_patches && m->vision_patches < m->vision_tokens)
			return BAD("vision_patches", "%u is fewer than vision_tokens (%u)", who,
				   m->vision_patches, m->vision_tokens);
	} else if (m->vision_layers || m->vision_hidden || m->vision_intermediate ||
		   m->vision_patches || m->vision_params) {
		return BAD("vision_tokens", "missing: the tokens an image becomes", who);
	}
	/* a tiled tower (mllama): vision_patches holds every tile's positions, class tokens
	 * included, so it divides into the tiles with more than the class token each */
	if (m->vision_tiles) {
		if (!m->vision_tokens || !m->vision_image_size || !m->vision_layers)
			return BAD("vision_tiles", "needs vision_tokens, vision_image_size and vision_layers", who);
		if (!m->vision_patches || m->vision_patches % m->vision_tiles ||
		    m->vision_patches / m->vision_tiles < 2)
			return BAD("vision_patches", "%u is not vision_tiles (%u) x (patches + 1)", who,
				   m->vision_patches, m->vision_tiles);
		if (m->vision_kept_layers > m->vision_layers)
			return BAD("vision_kept_layers", "%u is more than vision_layers (%u)", who,
				   m->vision_kept_layers, m->vision_layers);
	} else if (m->vision_image_size || m->vision_global_layers || m->vision_kept_layers ||
		   m->vision_output_dim) {
		return BAD("vision_tiles", "missing: the tiled tower's fields need it", who);
	}
	return 0;
}

static int read_model(struct entry *e, size_t index, json_t *obj, char *err, size_t err_size)
{
	char who[MIPART_CATALOG_NAME_MAX + 16];
	uint64_t seen = 0;
	const char *k;
	json_t *v, *id;
	int r;

	if (!json_is_object(obj))
		return fail(err, err_size, -EINVAL, "model #%zu: expected an object", index + 1);
	id = json_object_get(obj, "id");
	if (json_is_string(id) && json_string_length(id) < MIPART_CATALOG_NAME_MAX)
		snprintf(who, sizeof(who), "model '%s'", json_string_value(id));
	else
		snprintf(who, sizeof(who), "model #%zu", index + 1);

	json_object_foreach(obj, k, v) {
		const struct key *key = find_key(k);

		if (!key)
			return fail(err, err_size, -EINVAL, "%s: unknown key '%.64s'", who, k);
		r = read_value(e, key, v, who, err, err_size);
		if (r < 0)
			return r;
		seen |= UINT64_C(1) << key_bit(key);
	}
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (keys[i].required && !(seen >> i & 1))
			return fail(err, err_size, -EINVAL, "%s: missing key '%s'", who,
				    keys[i].name);

	/* config.json's own defaults: num_key_value_heads = heads, head_dim = hidden / heads */
	if (!(seen >> key_bit(find_key("kv_heads")) & 1))
		e->model.kv_heads = e->model.heads;
	if (!(seen >> key_bit(find_key("head_dim")) & 1) && e->model.heads)
		e->model.head_dim = e->model.hidden / e->model.heads;
	r = check_model(&e->model, seen, who, err, err_size);
	if (r < 0)
		return r;
	if (!(seen >> key_bit(find_key("params")) & 1))
		e->model.params = mipart_model_params(&e->model, NULL);
	return 0;
}

static int cmp_name_pos(const void *a, const void *b)
{
	const struct name *x = a, *y = b;
	int r = strcasecmp(x->text, y->text);

	if (r)
		return r;
	if (x->entry != y->entry)
		return x->entry < y->entry ? -1 : 1;
	return x->alias < y->alias ? -1 : x->alias > y->alias;
}

static int cmp_name(const void *a, const void *b)
{
	return strcasecmp(((const struct name *)a)->text, ((const struct name *)b)->text);
}

static bool before(const struct name *x, const struct name *y)
{
	return x->entry < y->entry || (x->entry == y->entry && x->alias < y->alias);
}

/* Sort every id and alias; a name taken twice is reported where it is taken the second time. */
static int index_names(struct mipart_catalog *c, char *err, size_t err_size)
{
	const struct name *dup = NULL, *first = NULL;
	size_t n = c->n;

	for (size_t i = 0; i < c->n; i++)
		n += c->entries[i].n_aliases;
	c->names = calloc(n ? n : 1, sizeof(*c->names));
	if (!c->names)
		return fail(err, err_size, -ENOMEM, "%s", mipart_strerror(-ENOMEM));
	for (size_t i = 0; i < c->n; i++) {
		c->names[c->n_names++] = (struct name){ c->entries[i].model.id, i, 0 };
		for (size_t j = 0; j < c->entries[i].n_aliases; j++)
			c->names[c->n_names++] = (struct name){ c->entries[i].aliases[j], i, j + 1 };
	}
	qsort(c->names, c->n_names, sizeof(*c->names), cmp_name_pos);
	for (size_t i = 1; i < c->n_names; i++)
		if (!cmp_name(&c->names[i - 1], &c->names[i]) &&
		    (!dup || before(&c->names[i], dup))) {
			dup = &c->names[i];
			first = &c->names[i - 1];
		}
	if (!dup)
		return 0;
	return fail(err, err_size, -EINVAL,
		    "model '%s': key '%s': '%s' is already %s of model '%s'",
		    c->entries[dup->entry].model.id, dup->alias ? "aliases" : "id", dup->text,
		    first->alias ? "an alias" : "the id", c->entries[first->entry].model.id);
}

static int read_catalog(struct mipart_catalog *c, json_t *root, char *err, size_t err_size)
{
	json_t *version, *models, *v;
	const char *k;
	size_t i;
	int r;

	if (!json_is_object(root))
		return fail(err, err_size, -EINVAL, "the catalog is not a JSON object");
	json_object_foreach(root, k, v) {
		if (strcmp(k, "version") && strcmp(k, "models"))
			return fail(err, err_size, -EINVAL,
				    "unknown top-level key '%.64s' (expected version and models)",
				    k);
	}
	version = json_object_get(root, "version");
	if (!json_is_integer(version) || json_integer_value(version) != CATALOG_VERSION)
		return fail(err, err_size, -EINVAL, "key 'version': expected %d", CATALOG_VERSION);
	models = json_object_get(root, "models");
	if (!json_is_array(models))
		return fail(err, err_size, -EINVAL, "key 'models': expected an array");
	if (json_array_size(models) > MIPART_CATALOG_MAX_MODELS)
		return fail(err, err_size, -EINVAL, "key 'models': more than %d models",
			    MIPART_CATALOG_MAX_MODELS);
	c->entries = calloc(json_array_size(models) + 1, sizeof(*c->entries));
	if (!c->entries)
		return fail(err, err_size, -ENOMEM, "%s", mipart_strerror(-ENOMEM));
	json_array_foreach(models, i, v) {
		c->n = i + 1; /* the entry is zeroed, so freeing it half read is safe */
		r = read_model(&c->entries[i], i, v, err, err_size);
		if (r < 0)
			return r;
	}
	return index_names(c, err, err_size);
}

int mipart_catalog_parse(const char *buf, size_t len, mipart_catalog **ret, char *err,
			 size_t err_size)
{
	struct mipart_catalog *c = NULL;
	json_error_t jerr;
	json_t *root = NULL;
	int r;

	if (err && err_size)
		err[0] = '\0';
	if (len > MIPART_CATALOG_MAX_SIZE)
		return fail(err, err_size, -EFBIG, "the catalog is larger than %u bytes",
			    MIPART_CATALOG_MAX_SIZE);
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return fail(err, err_size, -EINVAL, "line %d, column %d: %s", jerr.line,
			    jerr.column, jerr.text);
	c = calloc(1, sizeof(*c));
	if (!c) {
		r = fail(err, err_size, -ENOMEM, "%s", mipart_strerror(-ENOMEM));
		goto out;
	}
	r = read_catalog(c, root, err, err_size);
	if (r < 0)
		goto out;
	*ret = c;
	c = NULL;
out:
	json_decref(root);
	mipart_catalog_free(c);
	return r;
}

int mipart_catalog_load(const char *path, mipart_catalog **ret, char *err, size_t err_size)
{
	char *buf = NULL;
	ssize_t n;
	int r;

	if (err && err_size)
		err[0] = '\0';
	buf = malloc(MIPART_CATALOG_MAX_SIZE + 1);
	if (!buf)
		return fail(err, err_size, -ENOMEM, "%s", mipart_strerror(-ENOMEM));
	n = util_read_file(path, buf, MIPART_CATALOG_MAX_SIZE);
	if (n == -EFBIG)
		r = fail(err, err_size, -EFBIG, "the catalog is larger than %u bytes",
			 MIPART_CATALOG_MAX_SIZE);
	else if (n < 0)
		r = fail(err, err_size, (int)n, "%s", mipart_strerror((int)n));
	else
		r = mipart_catalog_parse(buf, (size_t)n, ret, err, err_size);
	free(buf);
	return r;
}

mipart_catalog *mipart_catalog_free(mipart_catalog *c)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < c->n; i++) {
		struct entry *e = &c->entries[i];

		for (size_t j = 0; j < e->n_aliases; j++)
			free(e->aliases[j]);
		free(e->aliases);
		free(e->source);
	}
	free(c->entries);
	free(c->names);
	free(c);
	return NULL;
}

size_t mipart_catalog_count(const mipart_catalog *c)
{
	return c ? c->n : 0;
}

const mipart_model *mipart_catalog_get(const mipart_catalog *c, size_t i)
{
	return c && i < c->n ? &c->entries[i].model : NULL;
}

const char *const *mipart_catalog_aliases(const mipart_catalog *c, size_t i)
{
	static const char *const none[] = { NULL };

	if (!c || i >= c->n)
		return NULL;
	return c->entries[i].aliases ? (const char *const *)c->entries[i].aliases : none;
}

const char *mipart_catalog_source(const mipart_catalog *c, size_t i)
{
	return c && i < c->n ? c->entries[i].source : NULL;
}

int mipart_catalog_find(const mipart_catalog *c, const char *name, const mipart_model **ret)
{
	const struct name key = { name, 0, 0 }, *hit;

	if (!c || !name || !c->n_names)
		return -ENOENT;
	hit = bsearch(&key, c->names, c->n_names, sizeof(*c->names), cmp_name);
	if (!hit)
		return -ENOENT;
	*ret = &c->entries[hit->entry].model;
	return 0;
}

const char *mipart_catalog_default_path(void)
{
	/* data/models.json is installed into get_option('datadir') / 'mipart' (meson.build) */
	static const char installed[] = MIPART_DATADIR "/models.json";
	const char *env = getenv("MIPART_CATALOG");

	if (env && *env)
		return env;
	if (access(installed, F_OK) == 0)
		return installed;
	return MIPART_SOURCE_DATADIR "/models.json";
}
