// SPDX-License-Identifier: MIT
/*
 * The model spec of `mipart plan -m` (include/mipart/spec.h): a model name, then an optional
 * ":COUNT", "@PRECISION" and comma-separated options. Text only; the catalog lookup and the
 * estimate are the caller's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mipart/spec.h"
#include "util.h"
#include "banned.h"

/* a whole decimal number in [min, max], as the CLI's flags take them */
static int number(const char *s, unsigned long min, unsigned long max, unsigned *ret)
{
	uint64_t v;

	if (util_parse_u64(s, strlen(s), &v) < 0 || v < min || v > max)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

static int bad_number(char *err, size_t size, const char *what, const char *value,
		      unsigned long min, unsigned long max)
{
	char show[64];

	snprintf(err, size, "invalid value '%s' for '%s': expected a whole number from %lu to %lu",
		 util_show(value, strlen(value), 40, show, sizeof(show)), what, min, max);
	return -EINVAL;
}

int mipart_model_spec_parse(const char *spec, mipart_model_spec *ret, char *err, size_t err_size)
{
	mipart_model_spec *m = calloc(1, sizeof(*m));
	char buf[MIPART_SPEC_MAX], show[80], tshow[64];
	char *opts, *at, *colon, *tok, *next;
	size_t len = strlen(spec);
	int r = -EINVAL;

	if (err_size)
		err[0] = '\0';
	if (!m) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	util_show(spec, len, 60, show, sizeof(show));
	if (len >= sizeof(buf)) {
		snprintf(err, err_size, "model spec too long: '%.40s...'", show);
		goto out;
	}
	memcpy(buf, spec, len + 1);
	m->count = 1;
	opts = strchr(buf, ',');
	if (opts)
		*opts++ = '\0';
	at = strchr(buf, '@');
	if (at) {
		*at++ = '\0';
		if (mipart_precision_parse(at, &m->o.precision) < 0) {
			snprintf(err, err_size, "'%s': unknown precision '%s'", show,
				 util_show(at, strlen(at), 40, tshow, sizeof(tshow)));
			goto out;
		}
		util_strlcpy(m->precision, at, sizeof(m->precision));
	}
	colon = strrchr(buf, ':');
	if (colon) {
		*colon++ = '\0';
		if (number(colon, 1, MIPART_SPEC_MAX_COUNT, &m->count) < 0) {
			r = bad_number(err, err_size, "COUNT", colon, 1, MIPART_SPEC_MAX_COUNT);
			goto out;
		}
	}
	/* empty options (",,") are skipped, as strtok did */
	for (tok = opts; tok; tok = next) {
		next = strchr(tok, ',');
		if (next)
			*next++ = '\0';
		if (!*tok)
			continue;
		if (!strncmp(tok, "max-model-len=", 14)) {
			if (number(tok + 14, 1, 16777216, &m->o.max_model_len) < 0) {
				r = bad_number(err, err_size, "max-model-len", tok + 14, 1, 16777216);
				goto out;
			}
		} else if (!strncmp(tok, "tp=", 3)) {
			if (number(tok + 3, 1, 8, &m->o.tensor_parallel) < 0) {
				r = bad_number(err, err_size, "tp", tok + 3, 1, 8);
				goto out;
			}
		} else if (!strcmp(tok, "kv-cache-dtype=fp8")) {
			m->o.kv_fp8 = true;
		} else {
			snprintf(err, err_size,
				 "'%s': unknown option '%s' (max-model-len=N, tp=N, kv-cache-dtype=fp8)",
				 show, util_show(tok, strlen(tok), 40, tshow, sizeof(tshow)));
			goto out;
		}
	}
	util_strlcpy(m->model, buf, sizeof(m->model));
	*ret = *m;
	r = 0;
out:
	free(m);
	return r;
}
