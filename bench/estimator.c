// SPDX-License-Identifier: MIT
/*
 * bench/estimator: the estimator against published vLLM start-up logs
 * (tests/fixtures/vllm-reference.csv, sources in vllm-reference.md). Per row with a catalog
 * model: weights (estimate vs "Loading model weights took"), KV cache tokens for the KV cache
 * the log reports (tests the bytes-per-token rule), and the whole budget (the KV cache the
 * estimator leaves on the logged GPU vs the log's). Prints each error, then median and worst.
 * Targets (docs/estimator.md): weights within 3%, KV tokens within 5%. Never fails on them.
 *
 * usage: estimator [CSV [CATALOG]]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mipart/catalog.h"
#include "mipart/estimate.h"

#define GIB (1024.0 * 1024.0 * 1024.0)
#define MAX_FIELDS 32
#define MAX_ROWS 256

/* One CSV line into fields (RFC 4180 quotes); returns the count. Modifies line. */
static int split_csv(char *line, char **f)
{
	int n = 0;
	char *p = line;

	while (n < MAX_FIELDS) {
		char *out = p;

		f[n++] = p;
		if (*p == '"') {
			char *src = p + 1;

			for (;;) {
				if (!*src)
					break;
				if (*src == '"' && src[1] == '"') {
					*out++ = '"';
					src += 2;
				} else if (*src == '"') {
					src++;
					break;
				} else {
					*out++ = *src++;
				}
			}
			p = src;
		} else {
			while (*p && *p != ',' && *p != '\n')
				p++;
			out = p;
		}
		if (*p != ',') {
			*out = '\0';
			break;
		}
		*out = '\0';
		p++;
	}
	return n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void summary(const char *what, double *v, size_t n, double target)
{
	size_t within = 0;

	if (!n) {
		printf("  %-28s no rows\n", what);
		return;
	}
	qsort(v, n, sizeof(*v), cmp_double);
	for (size_t i = 0; i < n; i++)
		within += v[i] <= target;
	printf("  %-28s %2zu rows  median %5.1f%%  worst %6.1f%%", what, n, v[n / 2] * 100,
	       v[n - 1] * 100);
	if (target > 0)
		printf("  target %.0f%%: median %s, %zu of %zu rows within", target * 100,
		       v[n / 2] <= target ? "met" : "NOT met", within, n);
	putchar('\n');
}

int main(int argc, char **argv)
{
	const char *csv = argc > 1 ? argv[1] : "tests/fixtures/vllm-reference.csv";
	const char *catpath = argc > 2 ? argv[2] : mipart_catalog_default_path();
	char line[8192], err[256] = "";
	double werr[MAX_ROWS], terr[MAX_ROWS], kerr[MAX_ROWS];
	size_t nw = 0, nt = 0, nk = 0, row = 0, used = 0;
	mipart_catalog *cat = NULL;
	FILE *f;

	if (mipart_catalog_load(catpath, &cat, err, sizeof(err)) < 0) {
		fprintf(stderr, "estimator: cannot load the catalog '%s': %s\n", catpath, err);
		return 1;
	}
	f = fopen(csv, "r");
	if (!f) {
		fprintf(stderr, "estimator: cannot open '%s'\n", csv);
		mipart_catalog_free(cat);
		return 1;
	}
	printf("bench/estimator: mipart's estimate vs published vLLM logs (%s)\n", csv);
	printf("%-3s %-34s %-6s %3s  %-22s %-26s %-22s\n", "ROW", "MODEL", "PREC", "TP",
	       "WEIGHTS GiB est/log", "KV TOKENS est/log", "KV GiB est/log");
	while (fgets(line, sizeof(line), f)) {
		char *fl[MAX_FIELDS];
		const mipart_model *m;
		mipart_estimate_options o = { 0 };
		mipart_estimate e;
		char wcol[32] = "-", tcol[40] = "-", kcol[32] = "-";
		double wlog, kvlog, toklog, total, util;
		int n;

		if (row++ == 0)
			continue;
		n = split_csv(line, fl);
		if (n < 21 || !fl[20][0] || mipart_catalog_find(cat, fl[20], &m) < 0)
			continue;
		if (strstr(fl[2], "awq"))
			o.precision = MIPART_PREC_AWQ;
		else if (strstr(fl[2], "w4a16") || strstr(fl[2], "bitsandbytes"))
			o.precision = MIPART_PREC_INT4;
		else if (strstr(fl[2], "mxfp4"))
			o.precision = MIPART_PREC_MXFP4;
		else if (strstr(fl[1], "float16") && !strstr(fl[1], "bfloat16"))
			o.precision = MIPART_PREC_FP16;
		o.kv_fp8 = strstr(fl[3], "fp8") != NULL;
		o.tensor_parallel = (unsigned)atof(fl[4]);
		o.max_model_len = (unsigned)atof(fl[8]);
		if (m->max_position && o.max_model_len > m->max_position)
			o.max_model_len = m->max_position;
		o.max_num_seqs = (unsigned)atof(fl[9]);
		o.max_num_batched_tokens = (unsigned)atof(fl[10]);
		/* V0 without chunked prefill profiles max(max_model_len, 2048) tokens */
		if (!o.max_num_batched_tokens && !strcmp(fl[12], "v0") && o.max_model_len)
			o.max_num_batched_tokens = o.max_model_len > 2048 ? o.max_model_len : 2048;
		o.cuda = !strstr(fl[5], "AMD") && !strstr(fl[5], "MI3") && !strstr(fl[5], "ROCm");
		total = atof(fl[6]);
		util = atof(fl[7]);
		if (total > 0 && util > 0 && util <= 1) {
			o.device_bytes = (uint64_t)(total * GIB);
			o.gpu_memory_utilization = util;
		}
		if (mipart_estimate_model(m, &o, &e) < 0)
			continue;
		used++;
		wlog = atof(fl[13]);
		kvlog = atof(fl[16]);
		toklog = atof(fl[17]);
		if (wlog > 0) {
			double est = e.weights_bytes / GIB;

			werr[nw++] = fabs(est - wlog) / wlog;
			snprintf(wcol, sizeof(wcol), "%6.2f/%6.2f %+5.1f%%", est, wlog, (est - wlog) / wlog * 100);
		}
		if (kvlog > 0 && toklog > 0 && e.kv_bytes_per_token) {
			double est = kvlog * GIB / (double)e.kv_bytes_per_token;

			terr[nt++] = fabs(est - toklog) / toklog;
			snprintf(tcol, sizeof(tcol), "%8.0f/%8.0f %+5.1f%%", est, toklog,
				 (est - toklog) / toklog * 100);
		}
		if (o.device_bytes && kvlog > 0) {
			double est = (double)e.kv_cache_bytes / GIB;

			kerr[nk++] = fabs(est - kvlog) / kvlog;
			snprintf(kcol, sizeof(kcol), "%6.2f/%6.2f %+5.1f%%", est, kvlog, (est - kvlog) / kvlog * 100);
		}
		printf("%-3zu %-34.34s %-6s %3u  %-22s %-26s %-22s\n", row - 1, m->id, e.precision_name,
		       o.tensor_parallel ? o.tensor_parallel : 1, wcol, tcol, kcol);
	}
	fclose(f);
	mipart_catalog_free(cat);
	printf("\n%zu rows with a catalog model\n", used);
	summary("weights", werr, nw, 0.03);
	summary("KV tokens (per-token rule)", terr, nt, 0.05);
	summary("KV cache (whole budget)", kerr, nk, 0);
	return 0;
}
