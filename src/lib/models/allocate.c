// SPDX-License-Identifier: MIT
/*
 * Allocation policy (include/mipart/allocate.h): look a model up, size its booking with the
 * estimator, choose partitions by best fit, book them in the ledger, and on a refusal say what
 * would fit instead. This used to live in the mipart tool (verb-model.c); the tool, the Python
 * binding and the agent now share it. The library never prints: every message goes to a
 * mipart_diag for the caller to show.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mipart/allocate.h"
#include "mipart/apply.h"
#include "mipart/catalog.h"
#include "mipart/hfmodel.h"
#include "mipart/hub.h"
#include "mipart/journal.h"
#include "mipart/product.h"
#include "banned.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

static double gib(uint64_t b)
{
	return (double)b / GIB;
}

static void diag_reset(mipart_diag *d)
{
	if (d)
		memset(d, 0, sizeof(*d));
}

__attribute__((format(printf, 3, 4))) static int diag_set(mipart_diag *d, int usage, const char *fmt, ...)
{
	va_list ap;

	if (!d)
		return 0;
	d->usage = usage;
	va_start(ap, fmt);
	vsnprintf(d->message, sizeof(d->message), fmt, ap);
	va_end(ap);
	return 0;
}

__attribute__((format(printf, 2, 3))) static void diag_hint(mipart_diag *d, const char *fmt, ...)
{
	va_list ap;

	if (!d)
		return;
	va_start(ap, fmt);
	vsnprintf(d->hint, sizeof(d->hint), fmt, ap);
	va_end(ap);
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int mipart_model_lookup(const char *name, mipart_model *ret, mipart_diag *diag)
{
	char err[512] = "";
	mipart_catalog *cat = NULL;
	const mipart_model *m = NULL;
	const char *path;
	int r;

	diag_reset(diag);
	if (!name || !*name) {
		diag_set(diag, 1, "give a model: a catalog id or alias, or a model directory");
		return -EINVAL;
	}
	if (is_dir(name)) {
		r = mipart_hf_load_dir(name, ret, err, sizeof(err));
		if (r < 0)
			diag_set(diag, 0, "cannot read the model in '%s': %s", name,
				 err[0] ? err : mipart_strerror(r));
		return r < 0 ? r : 0;
	}
	path = mipart_catalog_default_path();
	r = mipart_catalog_load(path, &cat, err, sizeof(err));
	if (r < 0) {
		diag_set(diag, 0, "cannot read the model catalog '%s': %s", path,
			 err[0] ? err : mipart_strerror(r));
		return r;
	}
	r = mipart_catalog_find(cat, name, &m);
	if (r == 0)
		*ret = *m;
	mipart_catalog_free(cat);
	if (r == 0)
		return 0;
	if (!mipart_hub_id_ok(name)) {
		diag_set(diag, 1,
			 "unknown model '%s': not in the catalog ('mipart models' lists it), not a directory with a config.json and not a Hugging Face id (org/name)",
			 name);
		return -ENOENT;
	}
	/* a Hugging Face repository: the cache, then the Hub (hub.h) */
	r = mipart_hub_load(name, NULL, ret, NULL, err, sizeof(err));
	if (r < 0) {
		diag_set(diag, r == -EINVAL, "cannot read '%s' from the Hugging Face Hub: %s", name,
			 err[0] ? err : mipart_strerror(r));
		return r;
	}
	return 0;
}

/* A decimal number of at most 3 digits at *s; advances *s. -1 when there is none. */
static int small_number(const char **s)
{
	int v = 0, n = 0;

	while (**s >= '0' && **s <= '9' && n < 3) {
		v = v * 10 + (**s - '0');
		(*s)++;
		n++;
	}
	return n && !(**s >= '0' && **s <= '9') ? v : -1;
}

int mipart_partition_id_parse(const char *id, unsigned *ret_gpu, unsigned *ret_xcp)
{
	const char *s = id;
	int g, x;

	if (!id)
		return -EINVAL;
	g = small_number(&s);
	if (g < 0 || *s++ != '.')
		return -EINVAL;
	x = small_number(&s);
	/* MAX_XCP = 8 partition slots per GPU (drivers/gpu/drm/amd/amdgpu/amdgpu_xcp.h) */
	if (x < 0 || x > 7 || *s)
		return -EINVAL;
	*ret_gpu = (unsigned)g;
	*ret_xcp = (unsigned)x;
	return 0;
}

const mipart_partition_info *mipart_partition_find(const mipart_topology *t, const char *id,
						   int allow_index)
{
	const char *s = id;
	unsigned g, x;

	if (!t || !id)
		return NULL;
	if (small_number(&s) >= 0 && *s == '.') {
		const mipart_gpu_info *gi;

		if (mipart_partition_id_parse(id, &g, &x) < 0 || !(gi = mipart_topology_gpu(t, g)))
			return NULL;
		return mipart_topology_partition_at(t, gi->bdf, x);
	}
	if (allow_index && *id && strspn(id, "0123456789") == strlen(id) && strlen(id) <= 6) {
		unsigned long n = strtoul(id, NULL, 10);

		for (size_t i = 0; i < mipart_topology_partition_count(t); i++)
			if (mipart_topology_partition(t, i)->index == n)
				return mipart_topology_partition(t, i);
	}
	return NULL;
}

/* The most CUs of any partition of the host (0 when none is known): a booking sized for it
 * holds the Triton sampler's buffer (estimate.c SAMPLER_TRITON_PROGRAMS, one vocabulary row per
 * CU) on whichever partition the allocation lands */
static unsigned largest_compute_units(const mipart_topology *t)
{
	unsigned most = 0;

	for (size_t i = 0; i < mipart_topology_partition_count(t); i++) {
		const mipart_partition_info *p = mipart_topology_partition(t, i);

		if (p->compute_units > 0 && (unsigned)p->compute_units > most)
			most = (unsigned)p->compute_units;
	}
	return most;
}

/* Partitions with room for need bytes each, tp of them on one GPU: best fit (least left over). */
static bool pick_partitions(mipart_ledger *l, const mipart_topology *t, unsigned tp, uint64_t need,
			    const mipart_partition_info **ret)
{
	uint64_t best = UINT64_MAX;
	bool found = false;

	for (size_t g = 0; g < mipart_topology_gpu_count(t); g++) {
		const mipart_gpu_info *gi = mipart_topology_gpu(t, g);
		const mipart_partition_info *pick[MIPART_LEDGER_MAX_BOOKINGS];
		uint64_t left[MIPART_LEDGER_MAX_BOOKINGS], total = 0;
		unsigned n = 0;

		/* the tp partitions of this GPU with the least room left that still fit */
		for (size_t j = 0; j < gi->n_partitions; j++) {
			const mipart_partition_info *p = mipart_topology_gpu_partition(t, gi, j);
			uint64_t booked = 0, room;
			unsigned k;

			if (p->memory_bytes <= 0 ||
			    mipart_ledger_booked(l, gi->bdf, (unsigned)p->xcp, &booked) < 0)
				continue;
			room = (uint64_t)p->memory_bytes > booked ? (uint64_t)p->memory_bytes - booked : 0;
			if (room < need)
				continue;
			/* insertion by leftover, keep the tp smallest */
			k = n < tp ? n++ : tp;
			while (k > 0 && left[k - 1] > room - need) {
				if (k < tp) {
					left[k] = left[k - 1];
					pick[k] = pick[k - 1];
				}
				k--;
			}
			if (k < tp) {
				left[k] = room - need;
				pick[k] = p;
			}
		}
		if (n < tp)
			continue;
		for (unsigned k = 0; k < tp; k++)
			total += left[k];
		if (total < best) {
			best = total;
			for (unsigned k = 0; k < tp; k++)
				ret[k] = pick[k];
			found = true;
		}
	}
	return found;
}

/* After a refusal: a partition with room now, else a mode of some GPU whose partitions would
 * be large enough, else what to change in the request. */
static void suggest(mipart_ledger *l, const mipart_topology *t, uint64_t need, mipart_diag *diag)
{
	mipart_product_layout lay[64];

	for (size_t i = 0; i < mipart_topology_partition_count(t); i++) {
		const mipart_partition_info *p = mipart_topology_partition(t, i);
		const mipart_gpu_info *gi = mipart_topology_gpu(t, p->gpu);
		uint64_t booked = 0;

		if (p->memory_bytes <= 0 || mipart_ledger_booked(l, gi->bdf, (unsigned)p->xcp, &booked) < 0)
			continue;
		if ((uint64_t)p->memory_bytes >= booked + need) {
			diag_hint(diag, "partition %u.%d has %.2f GiB free: '--partition %u.%d' (or '--partition auto')",
				  p->gpu, p->xcp, gib((uint64_t)p->memory_bytes - booked), p->gpu, p->xcp);
			return;
		}
	}
	/* a GPU without allocations, a layout that keeps its memory mode first (a compute switch),
	 * then one that changes it (a reload of the whole hive: '-g all') */
	for (int pass = 0; pass < 2; pass++)
		for (size_t g = 0; g < mipart_topology_gpu_count(t); g++) {
			const mipart_gpu_info *gi = mipart_topology_gpu(t, g);
			int n = mipart_gpu_layouts(gi, lay, 64);
			size_t held = 0;

			if (mipart_ledger_count_on_gpu(l, gi->bdf, &held) < 0 || held)
				continue;
			/* the layout with the most partitions that are still large enough */
			for (int i = n < 64 ? n - 1 : 63; i >= 0; i--) {
				/* the smallest partition of the layout, from this GPU's VRAM */
				uint64_t bytes = lay[i].partition_bytes;
				bool same_memory = lay[i].memory == gi->memory;
				char gsel[24];

				if (bytes < need || (pass == 0) != same_memory ||
				    (lay[i].compute == gi->compute && same_memory))
					continue;
				if (same_memory || !gi->hive_id)
					snprintf(gsel, sizeof(gsel), "%zu", g);
				else
					snprintf(gsel, sizeof(gsel), "all");
				diag_hint(diag, "GPU %zu in %s/%s has %u partition%s of %.2f GiB: 'mipart set -g %s --compute %s%s%s'",
					  g, mipart_compute_mode_name(lay[i].compute),
					  mipart_memory_mode_name(lay[i].memory), lay[i].partitions,
					  lay[i].partitions > 1 ? "s" : "", gib(bytes), gsel,
					  mipart_compute_mode_name(lay[i].compute), same_memory ? "" : " --memory ",
					  same_memory ? "" : mipart_memory_mode_name(lay[i].memory));
				return;
			}
		}
	diag_hint(diag, "no layout of this host gives a partition of %.2f GiB; try a lower precision, --kv-cache-dtype fp8, a shorter --max-model-len or --tensor-parallel-size",
		  gib(need));
}

uint64_t mipart_alloc_booking_bytes(const mipart_estimate *e, const mipart_estimate_options *o)
{
	double b = ceil((double)e->min_device_bytes * mipart_estimate_utilization(o) *
			(1 + MIPART_ALLOC_MARGIN));

	/* a saturated estimate (UINT64_MAX: fits nowhere) stays UINT64_MAX: the cast of a double
	 * of 2^64 or more is undefined (C17 6.3.1.4) */
	return b >= 0x1p64 ? UINT64_MAX : (uint64_t)b;
}

int mipart_alloc_place(mipart_ledger *l, const mipart_topology *t, const mipart_alloc_request *req,
		       mipart_alloc_result *ret, mipart_diag *diag)
{
	const mipart_partition_info *parts[MIPART_LEDGER_MAX_BOOKINGS] = { NULL };
	mipart_estimate_options o;
	mipart_allocation al = { 0 };
	mipart_alloc_result res = { 0 };
	mipart_estimate e;
	mipart_model m;
	uint64_t need, free_b = 0;
	size_t bad = 0;
	int64_t id = 0;
	unsigned tp;
	int r;

	diag_reset(diag);
	if (!l || !t || !req || !ret)
		return -EINVAL;
	if (req->name && (r = mipart_ledger_name_check(req->name)) < 0) {
		if (r == -EILSEQ)
			diag_set(diag, 1, "invalid '--name': it holds a control character or bytes that are not UTF-8");
		else
			diag_set(diag, 1, "invalid '--name': 1 to %d characters, not all digits (a number means an allocation id)",
				 MIPART_LEDGER_NAME_MAX - 1);
		return -EINVAL;
	}
	r = mipart_model_lookup(req->model, &m, diag);
	if (r < 0)
		return r;
	o = req->options;
	o.device_bytes = 0;
	if (o.tensor_parallel > MIPART_LEDGER_MAX_BOOKINGS) {
		diag_set(diag, 1, "invalid '--tensor-parallel-size' %u: 1 to %d", o.tensor_parallel,
			 MIPART_LEDGER_MAX_BOOKINGS);
		return -EINVAL;
	}
	tp = o.tensor_parallel ? o.tensor_parallel : 1;
	if (req->partition && strcmp(req->partition, "auto")) {
		if (tp > 1) {
			diag_set(diag, 1, "--partition takes one partition; with --tensor-parallel-size use 'auto'");
			return -EINVAL;
		}
		parts[0] = mipart_partition_find(t, req->partition, 1);
		if (!parts[0]) {
			diag_set(diag, 1, "no partition '%s' ('mipart list' shows them)", req->partition);
			return -ENOENT;
		}
		/* this partition's CUs run the sampler's programs */
		if (!o.compute_units && parts[0]->compute_units > 0)
			o.compute_units = (unsigned)parts[0]->compute_units;
		if (req->fit_context && !o.max_model_len && parts[0]->memory_bytes > 0) {
			/* the longest sequence the free memory holds at this utilization: its booking
			 * (needed x 1.05) stays below free x utilization x 1.05 < free */
			uint64_t booked = 0, cap = (uint64_t)parts[0]->memory_bytes;
			mipart_estimate_options fo = o;

			if (mipart_ledger_booked(l, mipart_topology_gpu(t, parts[0]->gpu)->bdf,
						 (unsigned)parts[0]->xcp, &booked) == 0 && booked < cap) {
				fo.device_bytes = cap - booked;
				if (mipart_estimate_model(&m, &fo, &e) == 0 && e.max_model_len_fit > 0 &&
				    e.max_model_len_fit < e.max_model_len)
					o.max_model_len = (unsigned)e.max_model_len_fit;
			}
		}
	}
	if (!o.compute_units) /* 'auto': sized for the largest partition it may land on */
		o.compute_units = largest_compute_units(t);
	r = mipart_estimate_model(&m, &o, &e);
	if (r < 0) {
		diag_set(diag, 0, "cannot estimate %s: %s", m.id,
			 r == -E2BIG ? "--max-model-len is longer than the model allows"
			 : r == -EOPNOTSUPP ? "that vLLM version or engine does not run it (mllama: "
					      "--vllm-version 0.6 to 0.10, V0)"
					    : mipart_strerror(r));
		return r;
	}
	need = mipart_alloc_booking_bytes(&e, &o);
	if (!req->partition || !strcmp(req->partition, "auto")) {
		if (!pick_partitions(l, t, tp, need, parts)) {
			diag_set(diag, 0, "no partition has %.2f GiB free for %s (%s, max-model-len %u%s)",
				 gib(need), m.id, e.precision_name, e.max_model_len,
				 tp > 1 ? ", on each of its partitions" : "");
			suggest(l, t, need, diag);
			return -ENOSPC;
		}
	}
	snprintf(al.model, sizeof(al.model), "%s", m.id);
	if (req->name)
		snprintf(al.name, sizeof(al.name), "%s", req->name);
	al.uid = (int64_t)getuid();
	al.n_bookings = tp;
	for (unsigned k = 0; k < tp; k++) {
		const mipart_gpu_info *gi = mipart_topology_gpu(t, parts[k]->gpu);

		snprintf(al.bookings[k].bdf, sizeof(al.bookings[k].bdf), "%s", gi->bdf);
		al.bookings[k].xcp = (unsigned)parts[k]->xcp;
		al.bookings[k].bytes = need;
		al.bookings[k].capacity = parts[k]->memory_bytes > 0 ? (uint64_t)parts[k]->memory_bytes : 0;
	}
	{
		/* a model directory is what vllm serve must be given; a catalog model goes by its id */
		json_t *src = is_dir(req->model) ? json_string(req->model) : NULL;
		json_t *spec = json_pack("{s:o?, s:s, s:b, s:i, s:i, s:i, s:f, s:I, s:I, s:I}",
					 "model_source", src, "precision", e.precision_name,
					 "kv_cache_fp8", o.kv_fp8, "tensor_parallel_size", (int)tp,
					 "max_model_len", (int)e.max_model_len, "max_num_seqs",
					 (int)(o.max_num_seqs ? o.max_num_seqs : 256),
					 "gpu_memory_utilization",
					 mipart_estimate_utilization(&o),
					 "weights_bytes", (json_int_t)e.weights_bytes, "kv_bytes_per_token",
					 (json_int_t)e.kv_bytes_per_token, "booked_bytes", (json_int_t)need);

		if (spec) {
			char ver[16];

			/* the vLLM and platform the booking was sized for (mipart vllm reads them) */
			json_object_set_new(spec, "vllm_version",
					    json_string(mipart_vllm_version_str(e.vllm_version, ver, sizeof(ver))));
			json_object_set_new(spec, "platform", json_string(o.cuda ? "cuda" : "rocm"));
			json_object_set_new(spec, "max_num_batched_tokens",
					    json_integer(e.max_num_batched_tokens));
			/* the logical indices now, so that doctor can tell when they shift (KFD
			 * re-adds a switched GPU's nodes at the tail: HARDWARE.md 8.14) */
			{
				char visible[128] = "";
				size_t vlen = 0;

				for (unsigned k = 0; k < tp && vlen < sizeof(visible); k++)
					vlen += (size_t)snprintf(visible + vlen, sizeof(visible) - vlen,
								 "%s%u", k ? "," : "", parts[k]->index);
				json_object_set_new(spec, "rocr_visible_devices", json_string(visible));
			}
			if (o.enforce_eager)
				json_object_set_new(spec, "enforce_eager", json_true());
		}
		al.spec = spec ? json_dumps(spec, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		json_decref(spec);
		if (!al.spec) {
			diag_set(diag, 0, "cannot record the allocation's settings");
			return -ENOMEM;
		}
	}
	r = mipart_ledger_allocate(l, &al, &id, &bad, &free_b);
	if (r == -ENOSPC) {
		diag_set(diag, 0, "%s needs %.2f GiB on partition %u.%u (%s XCP %u, %.2f GiB); %.2f GiB are free",
			 m.id, gib(need), parts[bad]->gpu, (unsigned)parts[bad]->xcp, al.bookings[bad].bdf,
			 al.bookings[bad].xcp, gib(al.bookings[bad].capacity), gib(free_b));
		suggest(l, t, need, diag);
	} else if (r == -EEXIST) {
		diag_set(diag, 1, "an allocation named '%s' exists; choose another '--name'", al.name);
	} else if (r < 0) {
		diag_set(diag, 0, "cannot record the allocation: %s", mipart_strerror(r));
	}
	if (r < 0) {
		free(al.spec);
		return r;
	}
	res.id = id;
	snprintf(res.name, sizeof(res.name), "%s", al.name);
	snprintf(res.model, sizeof(res.model), "%s", al.model);
	snprintf(res.precision, sizeof(res.precision), "%s", e.precision_name);
	res.max_model_len = e.max_model_len;
	res.booked_bytes = need;
	res.n_partitions = tp;
	for (unsigned k = 0; k < tp; k++) {
		res.partitions[k].index = parts[k]->index;
		res.partitions[k].gpu = parts[k]->gpu;
		res.partitions[k].xcp = (unsigned)parts[k]->xcp;
		snprintf(res.partitions[k].bdf, sizeof(res.partitions[k].bdf), "%s", al.bookings[k].bdf);
		res.partitions[k].capacity_bytes = al.bookings[k].capacity;
	}
	free(al.spec);
	*ret = res;
	return 0;
}

int mipart_allocate(const mipart_host *host, const mipart_alloc_request *req,
		    mipart_alloc_result *ret, mipart_diag *diag)
{
	char holder[256] = "", path[MIPART_PATH_MAX] = "";
	mipart_topology *t = NULL;
	mipart_ledger *l = NULL;
	int r, lockfd;

	diag_reset(diag);
	if (!host || !req || !ret)
		return -EINVAL;
	lockfd = mipart_host_lock(host, 30000, "mipart allocate", holder, sizeof(holder));
	if (lockfd < 0) {
		if (lockfd == -ETIMEDOUT)
			diag_set(diag, 0, "a partition change is running (%s); try again when it is done", holder);
		else
			diag_set(diag, 0, "cannot take the host lock: %s", mipart_strerror(lockfd));
		return lockfd;
	}
	/* a booking on a host in no whole state would name partitions that go away */
	r = mipart_apply_unresolved(host, NULL, diag ? diag->message : holder,
				    diag ? sizeof(diag->message) : sizeof(holder));
	if (r < 0)
		goto out;
	r = mipart_topology_load(host, &t);
	if (r < 0) {
		diag_set(diag, 0, "cannot read GPUs under '%s/sys': %s", mipart_host_root(host),
			 r == -ENOENT ? "neither the PCI bus nor the KFD topology is readable" : mipart_strerror(r));
		goto out;
	}
	r = mipart_host_path(host, MIPART_JOURNAL_PATH, path, sizeof(path));
	if (r >= 0)
		r = mipart_ledger_open(path, &l);
	if (r < 0) {
		diag_set(diag, 0, "cannot open the ledger '%s': %s", path, mipart_strerror(r));
		goto out;
	}
	r = mipart_alloc_place(l, t, req, ret, diag);
out:
	mipart_ledger_free(l);
	mipart_topology_free(t);
	mipart_host_unlock(lockfd);
	return r;
}
