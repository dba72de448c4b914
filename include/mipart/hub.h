/* SPDX-License-Identifier: MIT */
/*
 * The Hugging Face Hub client: a model's shape and weight size from its repository without
 * downloading the weights: config.json, the safetensors index's total_size or, for unsharded
 * checkpoints, the safetensors headers by HTTP Range, and /api/models/{id} for the parameter
 * count. What it fetches is written to the standard Hugging Face cache (models--org--name/
 * {refs,snapshots}/...), so a second call needs no network and huggingface_hub and vLLM reuse it.
 * See docs/hub.md.
 */
#ifndef MIPART_HUB_H
#define MIPART_HUB_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"

/* Longest repository id ("org/name") accepted; the Hub allows 96 characters per part. */
#define MIPART_HUB_ID_MAX 96
/* Caps on what one request may return. */
#define MIPART_HUB_API_MAX (8u << 20)		/* /api/models/{id} (siblings of big repos) */
#define MIPART_HUB_MAX_SAFETENSORS 64		/* unsharded files whose headers are read */

typedef struct mipart_hub_options {
	const char *endpoint;	/* NULL: $HF_ENDPOINT, else https://huggingface.co */
	const char *cache_dir;	/* NULL: $HF_HUB_CACHE, else $HF_HOME/hub, HF_HOME defaulting to
				 * $XDG_CACHE_HOME/huggingface or ~/.cache/huggingface */
	const char *state_dir;	/* mipart's own records (weight sizes read from headers); NULL:
				 * $XDG_CACHE_HOME/mipart/hub or ~/.cache/mipart/hub */
	const char *token;	/* NULL: $HF_TOKEN, else the file $HF_TOKEN_PATH or $HF_HOME/token */
	const char *revision;	/* NULL: "main"; a branch, tag or 40-hex commit */
	bool offline;		/* the cache only (also when HF_HUB_OFFLINE is 1/ON/YES/TRUE) */
	bool refresh;		/* fetch again even when the cache has the revision */
	long timeout_ms;	/* per request; 0: 30000 */
} mipart_hub_options;

/* mipart_hub_id_ok - whether s is a repository id the client accepts: "org/name", each part
 * 1 to 96 of [A-Za-z0-9._-], not starting with '.' or '-', no "..". */
bool mipart_hub_id_ok(const char *s);

/*
 * mipart_hub_load - the model repo_id on the Hub (or in the cache). *ret is filled as
 * mipart_hf_parse_config does, with id = repo_id, weight_bytes = the checkpoint's tensor bytes
 * (index total_size, or the sum over the safetensors headers; 0 when the repo has no
 * safetensors) and params = the Hub's safetensors total (0 when unknown or packed).
 * ret_cached (may be NULL) says whether no network was used.
 *
 * On failure *ret is untouched and err holds one line that names the repository and says what
 * to do. Returns 0, or -EINVAL (a malformed id or revision, or a file that is not what it
 * should be), -ENOENT (no such repository, revision or file; or not in the cache when
 * offline), -EACCES (a gated or private repository: no token, or the token was refused),
 * -EAGAIN (rate limited, 429), -EIO (a server error), -ETIMEDOUT, -ECONNREFUSED, -EHOSTUNREACH
 * (no network), -EFBIG (an answer over its cap), -ENOMEM, or the -errno of writing the cache.
 */
int mipart_hub_load(const char *repo_id, const mipart_hub_options *opts, mipart_model *ret,
		    bool *ret_cached, char *err, size_t err_size);

#endif
