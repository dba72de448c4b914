/* SPDX-License-Identifier: MIT */
/*
 * plan [-s SEED] [-r RUNS] [-i INSTANCES]: the layout planner (src/lib/models/planner.c) on 1,000 MI300X
 * GPUs in XGMI hives of 8 and 10,000 instances of 20 models (needs from about 10 GiB to about
 * 180 GiB, a few with tp 2), drawn with a fixed seed; then the same with 3,000 instances, where
 * demand is close to capacity and the larger layouts come into play. Prints the wall time of
 * mipart_plan() (median of RUNS, default 5; clock_gettime CLOCK_MONOTONIC), the peak RSS of the
 * process (getrusage ru_maxrss), instances placed, idle memory, the lower bound and the gap, the
 * layouts chosen, and the same figures for naive plans made in the same run: every GPU in one
 * fixed mode, instances first fit in item order. Never fails on a figure (bench/README.md).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "mipart/fleet.h"
#include "mipart/planner.h"
#include "banned.h"

#define N_GPUS 1000
#define HIVE 8
#define N_INSTANCES 10000
#define N_INSTANCES_LIGHT 3000
#define GIB 1073741824.0

/*
 * MI300X (192 GB HBM3, 8 XCDs) as the driver reports it: 206141652992 bytes of VRAM, cut into
 * 1, 2, 4 or 8 equal partitions (amdgpu_xcp.c, aqua_vanjaram.c; NPS4 only with QPX and CPX).
 */
static const mipart_plan_layout mi300x[] = {
	{ MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS1, 1, 206141652992ull },
	{ MIPART_COMPUTE_DPX, MIPART_MEMORY_NPS1, 2, 103070826496ull },
	{ MIPART_COMPUTE_QPX, MIPART_MEMORY_NPS1, 4, 51535413248ull },
	{ MIPART_COMPUTE_CPX, MIPART_MEMORY_NPS1, 8, 25767706624ull },
	{ MIPART_COMPUTE_QPX, MIPART_MEMORY_NPS4, 4, 51535413248ull },
	{ MIPART_COMPUTE_CPX, MIPART_MEMORY_NPS4, 8, 25767706624ull },
};
#define N_LAYOUTS (sizeof(mi300x) / sizeof(mi300x[0]))

/* Weights, KV cache and workspace per partition, rounded; the weight is the model's share. */
static const struct model {
	const char *name;
	double gib;
	unsigned tp;
	unsigned weight;
} models[] = {
	{ "llama-3.2-3b-bf16-8k", 9.5, 1, 6 },	  { "mistral-7b-bf16-2k", 10.5, 1, 9 },
	{ "qwen2.5-7b-bf16-8k", 14.0, 1, 8 },	  { "llama-3.1-8b-bf16-8k", 17.0, 1, 9 },
	{ "llama-3.1-8b-bf16-32k", 21.5, 1, 6 },  { "gemma-2-9b-bf16-8k", 22.5, 1, 4 },
	{ "phi-3-medium-bf16-4k", 29.0, 1, 4 },	  { "qwen2.5-14b-bf16-8k", 33.0, 1, 5 },
	{ "mistral-small-24b-fp8-8k", 30.5, 1, 4 }, { "qwen2.5-32b-fp8-8k", 41.0, 1, 5 },
	{ "gemma-2-27b-bf16-8k", 60.0, 1, 4 },	  { "qwen2.5-32b-bf16-8k", 72.0, 1, 4 },
	{ "llama-3.1-70b-fp8-8k", 82.0, 1, 5 },	  { "mixtral-8x7b-bf16-8k", 92.0, 1, 3 },
	{ "llama-3.1-70b-fp8-64k", 120.0, 1, 3 }, { "llama-3.1-70b-bf16-8k", 148.0, 1, 4 },
	{ "qwen2.5-72b-bf16-16k", 160.0, 1, 2 },  { "llama-3.1-70b-fp8-128k", 180.0, 1, 2 },
	{ "llama-3.1-70b-fp8-tp2-32k", 44.0, 2, 2 }, { "llama-3.1-70b-bf16-tp2-8k", 78.0, 2, 3 },
};
#define N_MODELS (sizeof(models) / sizeof(models[0]))

static uint64_t rng_state;

/* xorshift64* (Vigna): fixed seed, same numbers everywhere */
static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

static int parse_ul(const char *s, unsigned long *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* Every GPU in layout `fixed`; each instance, in item order, on the first GPU that has tp free
 * partitions big enough. */
static void naive(const mipart_plan_item *items, size_t n_items, size_t fixed, size_t *ret_placed,
		  uint64_t *ret_idle)
{
	const mipart_plan_layout *l = &mi300x[fixed];
	unsigned used[N_GPUS] = { 0 };
	size_t placed = 0, first_free = 0;
	uint64_t served = 0;

	for (size_t j = 0; j < n_items; j++) {
		unsigned tp = items[j].tp ? items[j].tp : 1;

		if (items[j].need_bytes > l->partition_bytes || tp > l->partitions)
			continue;
		for (unsigned x = 0; x < items[j].count; x++) {
			size_t g = first_free;

			while (g < N_GPUS && used[g] + tp > l->partitions)
				g++;
			if (g == N_GPUS)
				break;
			used[g] += tp;
			placed++;
			served += items[j].need_bytes * tp;
			while (first_free < N_GPUS && used[first_free] == l->partitions)
				first_free++;
		}
	}
	*ret_placed = placed;
	*ret_idle = (uint64_t)N_GPUS * l->partitions * l->partition_bytes - served;
}

/* Plan n_instances instances drawn with `seed`; print the figures. Returns 0 or -errno. */
/*
 * The fleet planner (src/lib/fleet/fleet.c) on the same GPUs as 125 Kubernetes nodes of 8
 * MI300X (one hive each) and the same items: the time of mipart_fleet_plan_make() (the planner,
 * the per-node read-back, the configs) against mipart_plan() alone measured above, the gap and
 * the number of distinct node layouts (named configs).
 */
static int fleet(const mipart_plan_item *items, unsigned long runs, const mipart_plan_result *ref)
{
	static mipart_fleet_node nodes[N_GPUS / HIVE];
	static char names[N_GPUS / HIVE][16];
	mipart_fleet_plan p = { 0 };
	long long *ns = calloc(runs, sizeof(*ns));
	int r = 0;

	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < N_GPUS / HIVE; i++) {
		snprintf(names[i], sizeof(names[i]), "node-%03zu", i + 1);
		nodes[i] = (mipart_fleet_node){ names[i], "mi300x", HIVE };
	}
	for (unsigned long i = 0; i < runs; i++) {
		long long t0 = now_ns();

		mipart_fleet_plan_release(&p);
		r = mipart_fleet_plan_make(nodes, N_GPUS / HIVE, items, N_MODELS, &p, NULL);
		ns[i] = now_ns() - t0;
		if (r < 0)
			goto out;
	}
	qsort(ns, runs, sizeof(*ns), cmp_ll);
	printf("  fleet: %d nodes of %d MI300X (mipart_fleet_plan_make, the catalog's MI300X sizes)\n",
	       N_GPUS / HIVE, HIVE);
	printf("    time       median %.2f ms  (min %.2f, max %.2f; %lu runs)\n",
	       (double)ns[runs / 2] / 1e6, (double)ns[0] / 1e6, (double)ns[runs - 1] / 1e6, runs);
	printf("    placed     %zu of %zu (mipart_plan above: %zu)\n", p.placed, p.n_places, ref->placed);
	printf("    gap        %.4f%% of total memory (mipart_plan above: %.4f%%)\n", 100.0 * p.gap,
	       100.0 * ref->gap);
	printf("    configs    %zu distinct node layouts:", p.n_configs);
	for (size_t c = 0; c < p.n_configs; c++)
		printf(" %s x%zu", p.configs[c].name, p.configs[c].n_nodes);
	printf("\n\n");
out:
	mipart_fleet_plan_release(&p);
	free(ns);
	return r;
}

static int scenario(unsigned n_instances, unsigned long seed, unsigned long runs)
{
	static mipart_plan_gpu gpus[N_GPUS];
	mipart_plan_item items[N_MODELS];
	mipart_plan_result res = { 0 };
	long long *ns;
	struct rusage ru;
	size_t per_layout[N_LAYOUTS] = { 0 }, best_fixed = 0, best_placed = 0;
	uint64_t total = 0, best_idle = 0;
	unsigned weight_sum = 0;
	int r = 0;

	rng_state = seed ? seed : 1;
	for (size_t i = 0; i < N_GPUS; i++) {
		gpus[i].index = (unsigned)i;
		gpus[i].hive_id = i / HIVE + 1;
		gpus[i].n_layouts = N_LAYOUTS;
		memcpy(gpus[i].layouts, mi300x, sizeof(mi300x));
	}
	/* each model's need varies by up to +-2% with the seed (context, batch); then each
	 * instance picks a model by weight */
	for (size_t j = 0; j < N_MODELS; j++) {
		double jitter = 1.0 + ((double)(rng() % 4001) - 2000.0) / 100000.0;

		items[j] = (mipart_plan_item){ models[j].name, 0, models[j].tp,
					       (uint64_t)(models[j].gib * jitter * GIB) };
		weight_sum += models[j].weight;
	}
	for (unsigned x = 0; x < n_instances; x++) {
		unsigned w = (unsigned)(rng() % weight_sum);
		size_t j = 0;

		while (w >= models[j].weight)
			w -= models[j++].weight;
		items[j].count++;
	}
	for (size_t j = 0; j < N_MODELS; j++)
		if (items[j].count == 0)
			items[j].count = 1; /* the planner refuses count 0 */

	ns = calloc(runs, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (unsigned long i = 0; i < runs; i++) {
		long long t0 = now_ns();

		mipart_plan_result_release(&res);
		r = mipart_plan(gpus, N_GPUS, items, N_MODELS, &res);
		ns[i] = now_ns() - t0;
		if (r < 0)
			goto out;
	}
	getrusage(RUSAGE_SELF, &ru);
	qsort(ns, runs, sizeof(*ns), cmp_ll);
	for (size_t i = 0; i < N_GPUS; i++) {
		per_layout[res.layout[i]]++;
		total += mi300x[res.layout[i]].partitions * mi300x[res.layout[i]].partition_bytes;
	}

	printf("plan: %d MI300X GPUs in hives of %d, %zu instances of %zu models, seed %lu\n",
	       N_GPUS, HIVE, res.n_places, (size_t)N_MODELS, seed);
	printf("  time       median %.2f ms  (min %.2f, max %.2f; %lu runs)\n",
	       (double)ns[runs / 2] / 1e6, (double)ns[0] / 1e6, (double)ns[runs - 1] / 1e6, runs);
	printf("  peak RSS   %ld KiB (whole process so far)\n", ru.ru_maxrss);
	printf("  placed     %zu of %zu\n", res.placed, res.n_places);
	printf("  idle       %llu B = %.2f TiB  (%.3f%% of %.2f TiB)\n",
	       (unsigned long long)res.idle_bytes, (double)res.idle_bytes / GIB / 1024,
	       100.0 * (double)res.idle_bytes / (double)total, (double)total / GIB / 1024);
	printf("  bound      %llu B = %.2f TiB\n", (unsigned long long)res.bound_idle_bytes,
	       (double)res.bound_idle_bytes / GIB / 1024);
	printf("  gap        %.4f%% of total memory (%.1f GiB)\n", 100.0 * res.gap,
	       ((double)res.idle_bytes - (double)res.bound_idle_bytes) / GIB);
	printf("  layouts   ");
	for (size_t l = 0; l < N_LAYOUTS; l++)
		printf(" %s/%s %zu", mipart_compute_mode_name(mi300x[l].compute),
		       mipart_memory_mode_name(mi300x[l].memory), per_layout[l]);
	printf("\n  per model (need GiB, tp: placed/count):\n");
	for (size_t j = 0; j < N_MODELS; j++) {
		size_t placed = 0;
		char pc[32];

		for (size_t x = 0; x < res.n_places; x++)
			placed += res.places[x].item == j && res.places[x].gpu != UINT32_MAX;
		snprintf(pc, sizeof(pc), "%zu/%u", placed, items[j].count);
		printf(j % 2 ? "    %-26s %5.1f %u: %s\n" : "    %-26s %5.1f %u: %-9s", items[j].name,
		       (double)items[j].need_bytes / GIB, items[j].tp ? items[j].tp : 1, pc);
	}

	printf("  naive: every GPU in one mode, first fit in item order\n");
	for (size_t l = 0; l < 4; l++) {
		size_t placed;
		uint64_t idle;

		naive(items, N_MODELS, l, &placed, &idle);
		printf("    %s/%s  placed %5zu  idle %6.2f TiB (%.2f%%)\n",
		       mipart_compute_mode_name(mi300x[l].compute),
		       mipart_memory_mode_name(mi300x[l].memory), placed, (double)idle / GIB / 1024,
		       100.0 * (double)idle / (double)total);
		if (l == 0 || placed > best_placed || (placed == best_placed && idle < best_idle)) {
			best_fixed = l;
			best_placed = placed;
			best_idle = idle;
		}
	}
	printf("    best naive (%s): placed %zu, idle %.2f TiB; planner: %+zd placed, "
	       "%.2f TiB less idle\n\n",
	       mipart_compute_mode_name(mi300x[best_fixed].compute), best_placed,
	       (double)best_idle / GIB / 1024, (ssize_t)res.placed - (ssize_t)best_placed,
	       ((double)best_idle - (double)res.idle_bytes) / GIB / 1024);
	r = fleet(items, runs, &res);
out:
	mipart_plan_result_release(&res);
	free(ns);
	return r;
}

int main(int argc, char **argv)
{
	unsigned long seed = 20240601, runs = 5, n = 0;
	int opt, r;

	while ((opt = getopt(argc, argv, "s:r:i:")) != -1) {
		unsigned long v;

		if ((opt != 's' && opt != 'r' && opt != 'i') || parse_ul(optarg, &v) < 0 ||
		    (opt == 'r' && (v == 0 || v > 1000)) ||
		    (opt == 'i' && (v == 0 || v > 10000000))) {
			fprintf(stderr, "usage: plan [-s SEED] [-r RUNS] [-i INSTANCES]\n");
			return 2;
		}
		if (opt == 's')
			seed = v;
		else if (opt == 'r')
			runs = v;
		else
			n = v;
	}
	/* the target mix, then (unless -i) one where demand is close to capacity */
	r = scenario(n ? (unsigned)n : N_INSTANCES, seed, runs);
	if (r == 0 && !n)
		r = scenario(N_INSTANCES_LIGHT, seed, runs);
	if (r < 0) {
		fprintf(stderr, "plan: mipart_plan failed: %s\n", strerror(-r));
		return 1;
	}
	return 0;
}
