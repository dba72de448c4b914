// SPDX-License-Identifier: MIT
/*
 * bench/estimator: the estimator against published vLLM start-up logs
 * (tests/fixtures/vllm-reference.csv, sources in vllm-reference.md), each row modelled with the
 * vLLM version, engine, platform and device of its log. Per row with a catalog model:
 *   weights    the estimate vs "Model loading took"
 *   KV rule    "GPU KV cache size" (or "# GPU blocks" x 16) computed from the log's own
 *              "Available KV cache memory": pages, groups and the version's logging rule
 *   KV budget  the same line predicted from the device's total and the utilization alone:
 *              the total the log prints, else (the device as a user names it to `mipart
 *              estimate --device-memory`) the total of the estimator's device table
 *              (mipart_device_lookup); column TOTAL says which ("log" or "table"). Only rows
 *              whose utilization is recorded (logged, or vLLM's default where the source shows
 *              the full argument set: vllm-reference.md) are measured.
 *   conc.      "Maximum concurrency" from the log's KV memory
 * Rows are split (column "split") into calibration rows, which the constants in estimate.c may
 * be fitted on, and validation rows, which they are not. Mean and median absolute errors are
 * printed per split, per family (model_type) and for ROCm rows apart. Targets on validation
 * rows: weights mean <= 1%, KV tokens mean <= 3%. A benchmark prints; it never fails on them.
 *
 * usage: estimator [CSV [CATALOG]]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mipart/catalog.h"
#include "mipart/estimate.h"
#include "../tests/tools/csv-fields.h"

#define GIB (1024.0 * 1024.0 * 1024.0)
#define MAX_FIELDS 32
#define MAX_ROWS 512

enum { F_MODEL, F_DTYPE, F_QUANT, F_KVDTYPE, F_TP, F_GPU, F_TOTAL, F_UTIL, F_LEN, F_SEQS, F_BATCHED,
       F_VERSION, F_ENGINE, F_WEIGHTS, F_NONTORCH, F_ACT, F_KVGIB, F_TOKENS, F_BLOCK, F_SOURCE,
       F_CATALOG, F_PLATFORM, F_SPLIT, F_CONC, F_LORAS, F_LORA_RANK, N_FIELDS };

enum { M_WEIGHTS, M_RULE, M_BUDGET, M_KVGIB, M_CONC, N_METRICS };
static const char *const metric_names[N_METRICS] = { "weights", "KV tokens (rule)",
						      "KV tokens (budget)", "KV GiB (budget)",
						      "concurrency" };

struct sample {
	double err[N_METRICS];	/* signed relative error, NAN when not measured */
	char family[48];
	bool validation, rocm;
	char total_src;		/* 'l' logged total, 't' the device table's, 0 none */
	/* the budget's terms where the log prints them (GiB; NAN when not printed) */
	double act_est, act_log, nt_est, nt_log;
	char what[96];		/* row, model, engine, version, TP, device for that table */
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Mean and median absolute error of metric k over the samples that pass the filter. */
static void summary(const char *label, const struct sample *s, size_t n, int split,
		    const char *family, int rocm, char total_src)
{
	static const double target[N_METRICS] = { 0.01, 0.03, 0, 0, 0 };

	printf("  %-12.12s", label);
	for (int k = 0; k < N_METRICS; k++) {
		double v[MAX_ROWS], sum = 0;
		size_t m = 0;

		for (size_t i = 0; i < n; i++) {
			if ((split >= 0 && s[i].validation != split) || (family && strcmp(family, s[i].family)) ||
			    (rocm >= 0 && s[i].rocm != rocm) || (total_src && s[i].total_src != total_src) ||
			    isnan(s[i].err[k]))
				continue;
			v[m++] = fabs(s[i].err[k]);
			sum += fabs(s[i].err[k]);
		}
		if (!m) {
			printf(" | %-18s %17s", metric_names[k], "-");
			continue;
		}
		qsort(v, m, sizeof(*v), cmp_double);
		printf(" | %-18s %2zu: %5.2f%%/%5.2f%%%s", metric_names[k], m, sum / m * 100,
		       (m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2) * 100,
		       split == 1 && !family && rocm < 0 && !total_src && target[k] > 0
			       ? (sum / m <= target[k] ? " (met)" : " (NOT met)") : "");
	}
	putchar('\n');
}

int main(int argc, char **argv)
{
	const char *csv = argc > 1 ? argv[1] : "tests/fixtures/vllm-reference.csv";
	const char *catpath = argc > 2 ? argv[2] : mipart_catalog_default_path();
	char line[8192], err[256] = "";
	static struct sample smp[MAX_ROWS];
	size_t row = 0, n = 0, unresolved = 0;
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
	printf("errors: estimate vs log; C = calibration row, V = validation row, R = ROCm, L = LoRA on\n"
	       "(the row's max_loras / max_lora_rank modelled: the buffers are in the logged weights)\n");
	printf("TOTAL: the device total the budget columns use, as the log prints it (log) or from the\n"
	       "estimator's device table for the GPU the row names (table); '-': no budget\n");
	printf("%-3s %-2s %-32s %-6s %2s %-6s %-21s %-24s %-12s %-16s %-21s %-16s\n", "ROW", "", "MODEL",
	       "PREC", "TP", "VLLM", "WEIGHTS GiB est/log", "KV TOKENS rule est/log", "TOTAL GiB",
	       "KV TOKENS budget", "KV GiB budget", "CONCURRENCY");
	while (fgets(line, sizeof(line), f) && n < MAX_ROWS) {
		char *fl[MAX_FIELDS];
		const mipart_model *m;
		mipart_estimate_options o = { 0 };
		mipart_estimate e;
		struct sample *sp = &smp[n];
		char wcol[32] = "-", tcol[40] = "-", bcol[40] = "-", ccol[32] = "-", kcol[32] = "-", ver[16];
		char dcol[24] = "-";
		const mipart_device_info *dev;
		double wlog, kvlog, toklog, conclog, total, util, actlog;
		bool other_rank;
		unsigned version = 0;

		if (row++ == 0)
			continue;
		if (csv_fields_split(line, fl, MAX_FIELDS) < N_FIELDS)
			continue;
		if (!fl[F_CATALOG][0] || mipart_catalog_find(cat, fl[F_CATALOG], &m) < 0) {
			unresolved++;
			continue;
		}
		/* the row's checkpoint when the catalog entry is its base model */
		if (strstr(fl[F_QUANT], "awq"))
			o.precision = MIPART_PREC_AWQ;
		else if (strstr(fl[F_QUANT], "gptq") && !m->quant_method[0])
			o.precision = MIPART_PREC_GPTQ;
		else if (strstr(fl[F_QUANT], "bitsandbytes"))
			o.precision = MIPART_PREC_BNB4;
		else if (strstr(fl[F_QUANT], "w4a16"))
			o.precision = MIPART_PREC_INT4;
		else if (strstr(fl[F_QUANT], "w8a8") && !m->quant_method[0])
			o.precision = MIPART_PREC_INT8;
		else if (strstr(fl[F_QUANT], "fp8") && !m->quant_method[0])
			o.precision = MIPART_PREC_FP8;
		else if (strstr(fl[F_DTYPE], "float16") && !strstr(fl[F_DTYPE], "bfloat16"))
			o.precision = MIPART_PREC_FP16;
		else if (strstr(fl[F_DTYPE], "float32"))
			o.precision = MIPART_PREC_FP32;
		o.kv_fp8 = strstr(fl[F_KVDTYPE], "fp8") != NULL;
		o.tensor_parallel = (unsigned)atof(fl[F_TP]);
		o.max_model_len = (unsigned)atof(fl[F_LEN]);
		if (m->max_position && o.max_model_len > m->max_position)
			o.max_model_len = m->max_position;
		o.max_num_seqs = (unsigned)atof(fl[F_SEQS]);
		o.max_num_batched_tokens = (unsigned)atof(fl[F_BATCHED]);
		o.block_size = (unsigned)atof(fl[F_BLOCK]);
		/* a run with LoRA enabled: its buffers are in the logged weights */
		o.max_loras = (unsigned)atof(fl[F_LORAS]);
		o.max_lora_rank = (unsigned)atof(fl[F_LORA_RANK]);
		o.cuda = strcmp(fl[F_PLATFORM], "rocm") != 0;
		/* the device as torch names it: "NVIDIA GB10 (DGX Spark)" is a GB10 */
		{
			char *paren = strstr(fl[F_GPU], " (");

			if (paren)
				*paren = '\0';
		}
		o.device_name = fl[F_GPU][0] ? fl[F_GPU] : NULL;
		o.engine = !strcmp(fl[F_ENGINE], "v0") ? MIPART_ENGINE_V0 : MIPART_ENGINE_V1;
		/* a dev build or an unknown version: the release line of its engine */
		if (mipart_vllm_version_parse(fl[F_VERSION], &version) < 0 ||
		    /* a fork's own numbering (rocm/vllm-dev "0.11.2" with the V0 engine) */
		    (o.engine == MIPART_ENGINE_V0 && version >= MIPART_VLLM_VERSION(0, 11)))
			version = o.engine == MIPART_ENGINE_V0 ? MIPART_VLLM_VERSION(0, 7)
							       : MIPART_VLLM_VERSION(0, 9);
		o.vllm_version = version;
		total = atof(fl[F_TOTAL]);
		util = atof(fl[F_UTIL]);
		o.gpu_memory_utilization = util > 0 && util <= 1 ? util : 0;
		sp->total_src = 0;
		if (total > 0) {
			o.device_bytes = (uint64_t)(total * GIB);
			sp->total_src = 'l';
		} else if (o.device_name && mipart_device_lookup(o.device_name, &dev) == 0) {
			/* what `mipart estimate --device-memory NAME` uses: the table's total and
			 * its canonical name (src/cli/verb-model.c) */
			o.device_bytes = dev->total_bytes;
			o.device_name = dev->name;
			sp->total_src = 't';
		}
		if (sp->total_src)
			snprintf(dcol, sizeof(dcol), "%6.2f %s", (double)o.device_bytes / GIB,
				 sp->total_src == 'l' ? "log" : "table");
		for (int k = 0; k < N_METRICS; k++)
			sp->err[k] = NAN;
		snprintf(sp->family, sizeof(sp->family), "%s", m->arch);
		sp->validation = !strcmp(fl[F_SPLIT], "validation");
		sp->rocm = !o.cuda;
		wlog = atof(fl[F_WEIGHTS]);
		kvlog = atof(fl[F_KVGIB]);
		toklog = atof(fl[F_TOKENS]);
		conclog = atof(fl[F_CONC]);
		actlog = fl[F_ACT][0] ? atof(fl[F_ACT]) : -1;
		if (mipart_estimate_model(m, &o, &e) < 0)
			continue;
		sp->act_log = fl[F_ACT][0] ? atof(fl[F_ACT]) : NAN;
		sp->nt_log = fl[F_NONTORCH][0] ? atof(fl[F_NONTORCH]) : NAN;
		sp->act_est = (double)e.activation_bytes / GIB;
		sp->nt_est = (double)e.non_torch_bytes / GIB;
		snprintf(sp->what, sizeof(sp->what), "%-3zu %c %-24.24s %s %-5s TP %-2u %-14.14s", row - 1,
			 sp->validation ? 'V' : 'C', m->id, e.engine == MIPART_ENGINE_V0 ? "V0" : "V1",
			 mipart_vllm_version_str(version, ver, sizeof(ver)),
			 o.tensor_parallel ? o.tensor_parallel : 1, fl[F_GPU][0] ? fl[F_GPU] : fl[F_PLATFORM]);
		if (wlog > 0) {
			double est = e.weights_bytes / GIB;

			sp->err[M_WEIGHTS] = (est - wlog) / wlog;
			snprintf(wcol, sizeof(wcol), "%6.2f/%6.2f %+5.1f%%", est, wlog, sp->err[M_WEIGHTS] * 100);
		}
		/* V0 with tensor parallel: only the driver rank samples, and the cache takes its
		 * (smallest) block count, but the printed "Memory profiling" line may be another
		 * rank's. A logged activation below half the estimated sampler run says it is: the
		 * KV memory is then compared with the other ranks' estimate, and the driver's KV
		 * memory (for the token rule) is the logged one less the sampler's excess. */
		other_rank = o.engine == MIPART_ENGINE_V0 && o.tensor_parallel > 1 && actlog >= 0 &&
			     e.sampler_bytes > e.forward_bytes &&
			     actlog < 0.5 * (double)e.sampler_bytes / GIB;
		/* the whole budget: the KV memory the device leaves (the row's own weights, so
		 * that a checkpoint the log does not name is not counted twice) */
		if (o.device_bytes && o.gpu_memory_utilization > 0 && kvlog != 0) {
			double est = (double)(other_rank ? e.other_rank_kv_cache_bytes : e.kv_cache_bytes) / GIB;

			if (wlog > 0)
				est += (double)e.weights_bytes / GIB - wlog;
			sp->err[M_KVGIB] = (est - kvlog) / fabs(kvlog);
			snprintf(kcol, sizeof(kcol), "%6.2f/%6.2f %+5.1f%%", est, kvlog,
				 sp->err[M_KVGIB] * 100);
		}
		/* an estimate that leaves no KV memory predicts 0 tokens (-100%): the row stays
		 * in the mean rather than dropping out of it */
		if (toklog > 0 && o.device_bytes && o.gpu_memory_utilization > 0) {
			sp->err[M_BUDGET] = ((double)e.kv_cache_tokens - toklog) / toklog;
			snprintf(bcol, sizeof(bcol), "%8llu %+6.1f%%", (unsigned long long)e.kv_cache_tokens,
				 sp->err[M_BUDGET] * 100);
		}
		if (kvlog > 0) {
			mipart_estimate r;

			/* the log's own KV memory, rounded as it prints it (2 decimals); the driver's
			 * when the line is another rank's (other_rank) */
			double driver_kv = kvlog;

			if (other_rank)
				driver_kv -= (double)e.activation_bytes / GIB - actlog;
			o.kv_cache_memory_bytes = driver_kv > 0 ? (uint64_t)(driver_kv * GIB) : 1;
			if (mipart_estimate_model(m, &o, &r) == 0) {
				if (toklog > 0) {
					sp->err[M_RULE] = ((double)r.kv_cache_tokens - toklog) / toklog;
					snprintf(tcol, sizeof(tcol), "%8llu/%8.0f %+5.1f%%",
						 (unsigned long long)r.kv_cache_tokens, toklog,
						 sp->err[M_RULE] * 100);
				}
				if (conclog > 0) {
					sp->err[M_CONC] = (r.max_concurrency - conclog) / conclog;
					snprintf(ccol, sizeof(ccol), "%7.2f %+5.1f%%", r.max_concurrency,
						 sp->err[M_CONC] * 100);
				}
			}
		}
		printf("%-3zu %c%c %-32.32s %-6s %2u %-6s %-21s %-24s %-12s %-16s %-21s %-16s\n", row - 1,
		       sp->validation ? 'V' : 'C', sp->rocm ? 'R' : e.lora_bytes ? 'L' : ' ', m->id,
		       e.precision_name,
		       o.tensor_parallel ? o.tensor_parallel : 1,
		       mipart_vllm_version_str(version, ver, sizeof(ver)), wcol, tcol, dcol, bcol, kcol, ccol);
		n++;
	}
	fclose(f);
	printf("\n%zu rows modelled, %zu without a catalog model\n", n, unresolved);
	printf("mean / median absolute error (rows: mean / median)\n");
	summary("calibration", smp, n, 0, NULL, -1, 0);
	summary("validation", smp, n, 1, NULL, -1, 0);
	summary("ROCm rows", smp, n, -1, NULL, 1, 0);
	printf("validation rows by the device total of the budget columns (log / table):\n");
	summary("total logged", smp, n, 1, NULL, -1, 'l');
	summary("total table", smp, n, 1, NULL, -1, 't');
	printf("validation rows per family:\n");
	for (size_t i = 0; i < n; i++) {
		bool seen = !smp[i].validation;

		for (size_t j = 0; j < i; j++)
			seen |= smp[j].validation && !strcmp(smp[j].family, smp[i].family);
		if (!seen)
			summary(smp[i].family, smp, n, 1, smp[i].family, -1, 0);
	}
	/* each term of the budget against the logs that print it (V0 and V1 print the peak
	 * activation and the non-torch memory in their "Memory profiling" lines) */
	printf("budget terms where the log prints them (GiB, estimate/log):\n");
	printf("    %-64s %-22s %-22s\n", "ROW, MODEL, ENGINE, VERSION, TP, DEVICE", "activation",
	       "non-torch");
	for (size_t i = 0; i < n; i++) {
		char act[32] = "-", nt[32] = "-";

		if (isnan(smp[i].act_log) && isnan(smp[i].nt_log))
			continue;
		if (!isnan(smp[i].act_log))
			snprintf(act, sizeof(act), "%6.2f/%6.2f", smp[i].act_est, smp[i].act_log);
		if (!isnan(smp[i].nt_log))
			snprintf(nt, sizeof(nt), "%5.2f/%5.2f", smp[i].nt_est, smp[i].nt_log);
		printf("    %-64s %-22s %-22s\n", smp[i].what, act, nt);
	}
	mipart_catalog_free(cat);
	return 0;
}
