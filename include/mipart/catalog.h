/* SPDX-License-Identifier: MIT */
/*
 * The built-in model catalog: the shapes of widely served open models (data/models.json,
 * installed as MIPART_DATADIR/models.json), keyed by the Hugging Face id `vllm serve` takes and
 * by short lower-case aliases. Every number carries its source in the file; see docs/catalog.md
 * for the format and how to add a model.
 */
#ifndef MIPART_CATALOG_H
#define MIPART_CATALOG_H

#include <stddef.h>

#include "model.h"

#define MIPART_CATALOG_MAX_SIZE (4u << 20) /* bytes of a catalog file */
#define MIPART_CATALOG_MAX_MODELS 4096	   /* entries of one catalog */
#define MIPART_CATALOG_MAX_ALIASES 32	   /* aliases of one entry */
#define MIPART_CATALOG_NAME_MAX 128	   /* bytes of an id or alias, with the NUL */
#define MIPART_CATALOG_SOURCE_MAX 4096	   /* bytes of a source note */

typedef struct mipart_catalog mipart_catalog;

/*
 * mipart_catalog_parse - read a catalog from len bytes of buf (no NUL needed), at most
 * MIPART_CATALOG_MAX_SIZE. The reading is strict: an unknown key, a value of the wrong type or
 * out of range, a missing required key, a shape that cannot be (kv_heads that do not divide
 * heads, sliding-window fields on a model without "hybrid" attention, MLA fields without "mla",
 * ...) and an id or alias used twice (case-insensitively) are all errors. A model without
 * "params" gets mipart_model_params() of its shape.
 * On success *ret owns the catalog (free with mipart_catalog_free). On failure *ret is left
 * untouched and err (when err_size > 0) holds one line that names the model and the key:
 *   model 'Qwen/Qwen3-8B': key 'kv_heads': 5 does not divide heads (32)
 * Returns 0, -EINVAL (malformed JSON or content), -EFBIG (len over the cap), -ENOMEM.
 */
int mipart_catalog_parse(const char *buf, size_t len, mipart_catalog **ret, char *err,
			 size_t err_size);

/*
 * mipart_catalog_load - mipart_catalog_parse on the contents of the file at path.
 * Returns what mipart_catalog_parse returns, -EFBIG also for a file over
 * MIPART_CATALOG_MAX_SIZE, or the -errno of open/read (-ENOENT, -EACCES, -EISDIR, ...).
 * err is filled on every failure; it does not repeat the path.
 */
int mipart_catalog_load(const char *path, mipart_catalog **ret, char *err, size_t err_size);

/* mipart_catalog_free - frees the catalog and everything it owns; accepts NULL; returns NULL. */
mipart_catalog *mipart_catalog_free(mipart_catalog *c);

/* Number of models, in file order. */
size_t mipart_catalog_count(const mipart_catalog *c);

/* The i-th model in file order, or NULL if i is out of range. Owned by c. */
const mipart_model *mipart_catalog_get(const mipart_catalog *c, size_t i);

/*
 * mipart_catalog_aliases - the aliases of the i-th model as a NULL-terminated array (empty
 * when it has none), or NULL if i is out of range. Owned by c.
 */
const char *const *mipart_catalog_aliases(const mipart_catalog *c, size_t i);

/* The "source" note of the i-th model (where its numbers come from), or NULL. Owned by c. */
const char *mipart_catalog_source(const mipart_catalog *c, size_t i);

/*
 * mipart_catalog_find - the model whose id or one of whose aliases equals name, compared
 * case-insensitively. *ret points into c. Returns 0, or -ENOENT (*ret untouched).
 */
int mipart_catalog_find(const mipart_catalog *c, const char *name, const mipart_model **ret);

/*
 * mipart_catalog_default_path - where the catalog is read from: $MIPART_CATALOG when set and
 * not empty, else MIPART_DATADIR "/models.json" when that file exists (an installed mipart),
 * else the source tree's data/models.json (a build that is not installed). Never NULL; the
 * string is static or from the environment.
 */
const char *mipart_catalog_default_path(void);

#endif
