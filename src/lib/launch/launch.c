// SPDX-License-Identifier: MIT
/*
 * Launch targets (include/mipart/launch.h): resolve an allocation or a partition, give the
 * environment that runs a workload on it and the vllm serve settings that start on what it
 * booked. Moved from the mipart tool (verb-launch.c) so that the tool and the Python binding
 * compute the same variables.
 *
 * ROCR_VISIBLE_DEVICES takes the index form: ROCr enumerates GPU agents in KFD node order
 * (docs/discovery.md), which is the partition's logical index; the UUID form ("GPU-<hex>" from
 * unique_id) is ambiguous on kernels where every partition of a GPU shares the GPU's unique_id.
 * HIP_VISIBLE_DEVICES is left alone: HIP numbers what ROCr makes visible from 0, so it would
 * only repeat the filter. Inside a container that sees one render node the index is 0.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mipart/allocate.h"
#include "mipart/catalog.h"
#include "mipart/estimate.h"
#include "mipart/journal.h"
#include "mipart/launch.h"
#include "banned.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

struct mipart_launch {
	const mipart_topology *t;
	const mipart_partition_info *parts[MIPART_LEDGER_MAX_BOOKINGS];
	size_t n_parts;
	int has_alloc;
	int step_model;	/* mipart_launch_open_step with a model: alloc describes it, not booked */
	mipart_allocation alloc;
	json_t *spec;	/* the allocation's spec, or NULL */
};

__attribute__((format(printf, 3, 4))) static void diag_set(mipart_diag *d, int usage, const char *fmt, ...)
{
	va_list ap;

	if (!d)
		return;
	memset(d, 0, sizeof(*d));
	d->usage = usage;
	va_start(ap, fmt);
	vsnprintf(d->message, sizeof(d->message), fmt, ap);
	va_end(ap);
}

mipart_launch *mipart_launch_free(mipart_launch *ln)
{
	if (!ln)
		return NULL;
	if (ln->has_alloc)
		mipart_allocation_release(&ln->alloc);
	json_decref(ln->spec);
	free(ln);
	return NULL;
}

int mipart_launch_open(const mipart_host *host, const mipart_topology *t, const char *name,
		       mipart_launch **ret, mipart_diag *diag)
{
	char path[MIPART_PATH_MAX];
	mipart_ledger *l = NULL;
	mipart_launch *ln;
	const mipart_partition_info *p;

	if (diag)
		memset(diag, 0, sizeof(*diag));
	if (!host || !t || !name || !ret)
		return -EINVAL;
	ln = calloc(1, sizeof(*ln));
	if (!ln)
		return -ENOMEM;
	ln->t = t;
	if (mipart_host_path(host, MIPART_JOURNAL_PATH, path, sizeof(path)) >= 0 &&
	    access(path, F_OK) == 0 && mipart_ledger_open(path, &l) == 0) {
		int r = mipart_ledger_get(l, name, &ln->alloc);

		mipart_ledger_free(l);
		if (r == 0) {
			ln->has_alloc = 1;
			ln->spec = json_loads(ln->alloc.spec, 0, NULL);
			for (size_t b = 0; b < ln->alloc.n_bookings; b++) {
				p = mipart_topology_partition_at(t, ln->alloc.bookings[b].bdf,
								 ln->alloc.bookings[b].xcp);
				if (!p) {
					diag_set(diag, 0, "allocation '%s' books %s XCP %u, which this host does not have now",
						 ln->alloc.name, ln->alloc.bookings[b].bdf,
						 ln->alloc.bookings[b].xcp);
					mipart_launch_free(ln);
					return -ENOENT;
				}
				ln->parts[ln->n_parts++] = p;
			}
			*ret = ln;
			return 0;
		}
	}
	/* "G.X" only: a bare number is an allocation id */
	p = strchr(name, '.') ? mipart_partition_find(t, name, 0) : NULL;
	if (!p) {
		diag_set(diag, 1, "no allocation or partition '%s' (an allocation name or id, or a partition as GPU.XCP such as 0.3)",
			 name);
		mipart_launch_free(ln);
		return -ENOENT;
	}
	ln->parts[ln->n_parts++] = p;
	*ret = ln;
	return 0;
}

int mipart_launch_open_step(const mipart_topology *t, const size_t *idx, size_t n, const char *model,
			    unsigned max_model_len, mipart_launch **ret)
{
	mipart_launch *ln;

	if (!t || !idx || !ret || !n || n > MIPART_LEDGER_MAX_BOOKINGS)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!mipart_topology_partition(t, idx[i]))
			return -EINVAL;
	ln = calloc(1, sizeof(*ln));
	if (!ln)
		return -ENOMEM;
	ln->t = t;
	for (size_t i = 0; i < n; i++)
		ln->parts[ln->n_parts++] = mipart_topology_partition(t, idx[i]);
	if (model) {
		ln->step_model = 1;
		snprintf(ln->alloc.name, sizeof(ln->alloc.name), "slurm step");
		snprintf(ln->alloc.model, sizeof(ln->alloc.model), "%s", model);
		ln->alloc.n_bookings = 1;
		/* the step owns its partitions: vLLM's own default share, checked by the estimator */
		ln->alloc.bookings[0].bytes = ln->parts[0]->memory_bytes > 0
						      ? (uint64_t)((double)ln->parts[0]->memory_bytes *
								   MIPART_ESTIMATE_UTILIZATION)
						      : 0;
		ln->spec = json_pack("{s:I, s:I}", "max_model_len", (json_int_t)max_model_len,
				     "tensor_parallel_size", (json_int_t)n);
		if (!ln->spec) {
			free(ln);
			return -ENOMEM;
		}
	}
	*ret = ln;
	return 0;
}

size_t mipart_launch_partition_count(const mipart_launch *ln)
{
	return ln ? ln->n_parts : 0;
}

const mipart_partition_info *mipart_launch_partition(const mipart_launch *ln, size_t i)
{
	return ln && i < ln->n_parts ? ln->parts[i] : NULL;
}

const mipart_allocation *mipart_launch_allocation(const mipart_launch *ln)
{
	return ln && ln->has_alloc ? &ln->alloc : NULL;
}

static void append(char *buf, size_t size, const char *sep, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t size, const char *sep, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len && sep) {
		snprintf(buf + len, size - len, "%s", sep);
		len = strlen(buf);
	}
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

size_t mipart_launch_env(const mipart_launch *ln, int container, mipart_env_var *v, size_t max)
{
	char list[MIPART_LAUNCH_VALUE_MAX] = "", aim[MIPART_LAUNCH_VALUE_MAX] = "";
	char parts[MIPART_LAUNCH_VALUE_MAX] = "", bdfs[MIPART_LAUNCH_VALUE_MAX] = "";
	uint64_t mem = 0;
	size_t n = 0;

	if (!ln || !v)
		return 0;
	for (size_t i = 0; i < ln->n_parts; i++) {
		const mipart_partition_info *p = ln->parts[i];
		const char *bdf = mipart_topology_gpu(ln->t, p->gpu)->bdf;

		append(list, sizeof(list), ",", "%u", container ? (unsigned)i : p->index);
		append(aim, sizeof(aim), ",", "%d", p->xcp);
		append(parts, sizeof(parts), ",", "%u.%d", p->gpu, p->xcp);
		if (!strstr(bdfs, bdf))
			append(bdfs, sizeof(bdfs), ",", "%s", bdf);
		if (p->memory_bytes > 0)
			mem += (uint64_t)p->memory_bytes;
	}
#define VAR(n_, ...)                                                                  \
	do {                                                                          \
		if (n < max) {                                                        \
			v[n].name = n_;                                               \
			snprintf(v[n].value, sizeof(v[n].value), __VA_ARGS__);        \
			n++;                                                          \
		}                                                                     \
	} while (0)
	VAR("ROCR_VISIBLE_DEVICES", "%s", list);
	/* the partition as the ROCmPartitionerReal interface numbers it: its index within its GPU
	 * (the XCP), whatever the GPU (docs/python.md) */
	VAR("AIM_PARTITION_ID", "%s", aim);
	VAR("MIPART_PARTITION", "%s", parts);
	VAR("MIPART_GPU_BDF", "%s", bdfs);
	VAR("MIPART_PARTITION_MEMORY_BYTES", "%llu", (unsigned long long)mem);
	if (ln->has_alloc) {
		VAR("MIPART_ALLOCATION", "%s", ln->alloc.name);
		VAR("MIPART_MODEL", "%s", ln->alloc.model);
		VAR("MIPART_BOOKED_BYTES", "%llu", (unsigned long long)ln->alloc.bookings[0].bytes);
	}
#undef VAR
	return n;
}

static const char *spec_str(json_t *spec, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(spec, key));

	return s ? s : def;
}

static long long spec_int(json_t *spec, const char *key, long long def)
{
	json_t *v = json_object_get(spec, key);

	return json_is_integer(v) ? json_integer_value(v) : def;
}

int mipart_launch_vllm(const mipart_launch *ln, const mipart_vllm_overrides *over,
		       mipart_vllm_plan *ret, mipart_diag *diag)
{
	char err[256] = "";
	mipart_catalog *cat = NULL;
	const mipart_model *m = NULL;
	mipart_estimate_options o = { 0 };
	mipart_estimate e;
	mipart_vllm_plan vp = { 0 };
	uint64_t booked;
	int r;

	if (diag)
		memset(diag, 0, sizeof(*diag));
	if (!ln || !ret)
		return -EINVAL;
	if (!ln->has_alloc && !ln->step_model) {
		diag_set(diag, 1, "partition %u.%d is not an allocation: 'mipart allocate MODEL --partition %u.%d' first",
			 ln->parts[0]->gpu, ln->parts[0]->xcp, ln->parts[0]->gpu, ln->parts[0]->xcp);
		return -EINVAL;
	}
	booked = ln->alloc.bookings[0].bytes;
	vp.capacity = ln->parts[0]->memory_bytes > 0 ? (uint64_t)ln->parts[0]->memory_bytes : 0;
	if (!vp.capacity) {
		diag_set(diag, 0, "the memory of partition %u.%d is unknown", ln->parts[0]->gpu, ln->parts[0]->xcp);
		return -ENOSPC;
	}
	snprintf(vp.model_arg, sizeof(vp.model_arg), "%s", spec_str(ln->spec, "model_source", ln->alloc.model));
	snprintf(vp.precision, sizeof(vp.precision), "%s", spec_str(ln->spec, "precision", "auto"));
	vp.kv_fp8 = json_is_true(json_object_get(ln->spec, "kv_cache_fp8"));
	vp.enforce_eager = json_is_true(json_object_get(ln->spec, "enforce_eager"));
	vp.tp = (unsigned)spec_int(ln->spec, "tensor_parallel_size", 1);
	vp.max_model_len = (unsigned)spec_int(ln->spec, "max_model_len", 0);
	vp.max_num_seqs = (unsigned)spec_int(ln->spec, "max_num_seqs", 256);
	/* the token budget the booking was sized for: vLLM's default depends on the device's
	 * memory (arg_utils.py get_batch_defaults: 2048, 8192 from 70 GiB, 16384 from 160 GiB in
	 * 0.28), which allocate cannot know before it picks the partition; passing it pins the
	 * activation the booking holds */
	vp.max_num_batched_tokens = (unsigned)spec_int(ln->spec, "max_num_batched_tokens", 0);
	/* four decimals (20 MiB of a 192 GiB GPU), rounded down: vLLM never takes more than was
	 * booked, and the 5% booking margin is never eaten by the rounding */
	vp.util = floor((double)booked / (double)vp.capacity * 10000.0) / 10000.0;
	if (vp.util <= 0) {
		diag_set(diag, 0, "allocation '%s' books too little of its partition to run vLLM", ln->alloc.name);
		return -ENOSPC;
	}
	r = mipart_catalog_load(mipart_catalog_default_path(), &cat, err, sizeof(err));
	if (r == 0)
		r = mipart_catalog_find(cat, ln->alloc.model, &m);
	if (r < 0) {
		/* not in the catalog (a model directory): the booking was checked when allocated */
		mipart_catalog_free(cat);
		*ret = vp;
		return 0;
	}
	mipart_precision_parse(vp.precision, &o.precision);
	/* the vLLM the allocation was sized for (older allocations: the newest modelled) */
	if (over && over->version_set)
		o.vllm_version = over->vllm_version;
	else if (mipart_vllm_version_parse(spec_str(ln->spec, "vllm_version", ""), &o.vllm_version) < 0)
		o.vllm_version = 0;
	o.cuda = over && over->platform_set ? over->cuda != 0
					    : !strcmp(spec_str(ln->spec, "platform", "rocm"), "cuda");
	o.enforce_eager = vp.enforce_eager;
	o.kv_fp8 = vp.kv_fp8;
	o.tensor_parallel = vp.tp;
	o.max_model_len = vp.max_model_len;
	o.max_num_seqs = vp.max_num_seqs;
	o.max_num_batched_tokens = vp.max_num_batched_tokens;
	o.device_bytes = vp.capacity;
	o.gpu_memory_utilization = vp.util;
	/* the partitions' own CUs, the Triton sampler's programs (estimate.c
	 * SAMPLER_TRITON_PROGRAMS); the largest, as every rank profiles the sampler */
	for (size_t k = 0; k < ln->n_parts; k++)
		if (ln->parts[k] && ln->parts[k]->compute_units > 0 &&
		    (unsigned)ln->parts[k]->compute_units > o.compute_units)
			o.compute_units = (unsigned)ln->parts[k]->compute_units;
	r = mipart_estimate_model(m, &o, &e);
	mipart_catalog_free(cat);
	if (r < 0 || !e.fits) {
		diag_set(diag, 0, "%s with --max-model-len %u does not fit in %.2f of partition %u.%d (%.2f GiB); allocate it again or shorten the context",
			 ln->alloc.model, vp.max_model_len, vp.util, ln->parts[0]->gpu, ln->parts[0]->xcp,
			 vp.capacity / GIB);
		return -ENOSPC;
	}
	vp.needed = e.weights_bytes + e.activation_bytes + e.non_torch_bytes + e.cuda_graph_bytes +
		    (uint64_t)e.kv_bytes_per_token * e.max_model_len;
	vp.margin = e.usable_bytes > vp.needed ? e.usable_bytes - vp.needed : 0;
	*ret = vp;
	return 0;
}

size_t mipart_vllm_args(const mipart_vllm_plan *vp, char out[][MIPART_LAUNCH_ARG_MAX], size_t max)
{
	size_t n = 0;

#define ARG(...)                                                                   \
	do {                                                                       \
		if (n < max)                                                       \
			snprintf(out[n++], MIPART_LAUNCH_ARG_MAX, __VA_ARGS__);    \
	} while (0)
	ARG("vllm");
	ARG("serve");
	ARG("%s", vp->model_arg);
	ARG("--gpu-memory-utilization");
	ARG("%.4g", vp->util);
	if (vp->max_model_len) {
		ARG("--max-model-len");
		ARG("%u", vp->max_model_len);
	}
	ARG("--max-num-seqs");
	ARG("%u", vp->max_num_seqs);
	if (vp->max_num_batched_tokens) {
		ARG("--max-num-batched-tokens");
		ARG("%u", vp->max_num_batched_tokens);
	}
	if (vp->tp > 1) {
		ARG("--tensor-parallel-size");
		ARG("%u", vp->tp);
	}
	if (!strcmp(vp->precision, "bf16") || !strcmp(vp->precision, "fp16")) {
		ARG("--dtype");
		ARG("%s", !strcmp(vp->precision, "bf16") ? "bfloat16" : "float16");
	} else if (!strcmp(vp->precision, "fp8") || !strcmp(vp->precision, "awq") ||
		   !strcmp(vp->precision, "gptq")) {
		ARG("--quantization");
		ARG("%s", vp->precision);
	}
	if (vp->kv_fp8) {
		ARG("--kv-cache-dtype");
		ARG("fp8");
	}
	if (vp->enforce_eager)
		ARG("--enforce-eager");
#undef ARG
	return n;
}
