/* SPDX-License-Identifier: MIT */
/*
 * A model spec as `mipart plan -m` takes it:
 *   MODEL[:COUNT][@PRECISION][,max-model-len=N][,tp=N][,kv-cache-dtype=fp8]
 * Parsing only: the caller looks the model up in the catalog.
 */
#ifndef MIPART_SPEC_H
#define MIPART_SPEC_H

#include <stddef.h>

#include "estimate.h"

#define MIPART_SPEC_MAX 256		/* bytes of a spec, with its NUL */
#define MIPART_SPEC_MAX_COUNT 100000

typedef struct mipart_model_spec {
	char model[MIPART_SPEC_MAX];	/* MODEL: a catalog name or alias */
	char precision[MIPART_SPEC_MAX]; /* the text after '@', "" when none */
	unsigned count;			/* 1 when not given */
	mipart_estimate_options o;	/* precision, max_model_len, tensor_parallel, kv_fp8 */
} mipart_model_spec;

/*
 * mipart_model_spec_parse - parse spec into *ret. Returns 0, or -EINVAL with a message in err
 * (at most err_size bytes, always terminated when err_size > 0; it quotes the spec) and *ret
 * untouched.
 */
int mipart_model_spec_parse(const char *spec, mipart_model_spec *ret, char *err, size_t err_size);

#endif
