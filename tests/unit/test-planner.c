/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for planner.c: small cases checked by hand (small models that only fit CPX next to
 * ones that need SPX, a hive held to one memory mode, items that fit nowhere, tp 2, needs exactly
 * at a partition's size), the errors, and random cases with a fixed seed: the plan's invariants
 * (no partition used twice or given more need than it has, the hive rule, the reported figures
 * match the places, the bound not above the idle memory) and, on cases small enough to try every
 * layout, that the plan is the optimum and the bound is not above the optimum's idle memory.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "mipart/allocate.h"
#include "mipart/planner.h"
#include "banned.h"

#define G (1ull << 30)

#define SPX1(s) { MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS1, 1, (s) }
#define DPX1(s) { MIPART_COMPUTE_DPX, MIPART_MEMORY_NPS1, 2, (s) }
#define QPX1(s) { MIPART_COMPUTE_QPX, MIPART_MEMORY_NPS1, 4, (s) }
#define CPX1(s) { MIPART_COMPUTE_CPX, MIPART_MEMORY_NPS1, 8, (s) }
#define QPX4(s) { MIPART_COMPUTE_QPX, MIPART_MEMORY_NPS4, 4, (s) }
#define CPX4(s) { MIPART_COMPUTE_CPX, MIPART_MEMORY_NPS4, 8, (s) }

/* MI300X in whole GiB, so the figures below can be checked by hand */
static const mipart_plan_layout mi300x[] = {
	SPX1(192 * G), DPX1(96 * G), QPX1(48 * G), CPX1(24 * G), QPX4(48 * G), CPX4(24 * G),
};

static void set_gpu(mipart_plan_gpu *g, unsigned index, uint64_t hive,
		    const mipart_plan_layout *layouts, size_t n)
{
	memset(g, 0, sizeof(*g));
	g->index = index;
	g->hive_id = hive;
	g->n_layouts = n;
	memcpy(g->layouts, layouts, n * sizeof(*layouts));
}

static const mipart_plan_layout *chosen(const mipart_plan_gpu *gpus, const mipart_plan_result *r,
					size_t i)
{
	return &gpus[i].layouts[r->layout[i]];
}

static size_t count_compute(const mipart_plan_gpu *gpus, size_t n, const mipart_plan_result *r,
			    mipart_compute_mode c)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += chosen(gpus, r, i)->compute == c;
	return k;
}

static size_t placed_of(const mipart_plan_result *r, size_t item)
{
	size_t k = 0;

	for (size_t i = 0; i < r->n_places; i++)
		k += r->places[i].item == item && r->places[i].gpu != UINT32_MAX;
	return k;
}

/*
 * What every plan must satisfy: one place per instance, items in order; a placed instance on tp
 * partitions of its GPU's layout, each at least its need, none used twice; GPUs of a hive in one
 * memory mode; placed, served, idle as the places say; the bound not above the idle memory.
 */
static void check_invariants(const mipart_plan_gpu *gpus, size_t n_gpus,
			     const mipart_plan_item *items, size_t n_items,
			     const mipart_plan_result *r)
{
	unsigned char *used = calloc(n_gpus ? n_gpus : 1, MIPART_PLAN_MAX_PARTITIONS);
	size_t at = 0, placed = 0;
	uint64_t served = 0, total = 0;

	assert_non_null(used);
	for (size_t j = 0; j < n_items; j++)
		for (unsigned x = 0; x < items[j].count; x++, at++) {
			const mipart_plan_place *p = &r->places[at];
			unsigned tp = items[j].tp ? items[j].tp : 1;
			const mipart_plan_layout *l;

			assert_true(at < r->n_places);
			assert_int_equal(p->item, j);
			assert_int_equal(p->instance, x);
			if (p->gpu == UINT32_MAX)
				continue;
			assert_true(p->gpu < n_gpus);
			l = chosen(gpus, r, p->gpu);
			assert_true(l->partition_bytes >= items[j].need_bytes);
			assert_true(p->first_partition + tp <= l->partitions);
			for (unsigned k = 0; k < tp; k++) {
				unsigned char *u = &used[p->gpu * MIPART_PLAN_MAX_PARTITIONS +
							 p->first_partition + k];

				assert_int_equal(*u, 0);
				*u = 1;
			}
			placed++;
			served += items[j].need_bytes * tp;
		}
	assert_int_equal(at, r->n_places);
	for (size_t i = 0; i < n_gpus; i++) {
		const mipart_plan_layout *l;

		assert_true(r->layout[i] < gpus[i].n_layouts);
		l = chosen(gpus, r, i);
		total += l->partitions * l->partition_bytes;
		for (size_t k = 0; k < n_gpus; k++)
			if (gpus[i].hive_id && gpus[k].hive_id == gpus[i].hive_id)
				assert_int_equal(l->memory, chosen(gpus, r, k)->memory);
	}
	assert_int_equal(r->placed, placed);
	assert_int_equal(r->served_bytes, served);
	assert_int_equal(r->idle_bytes, total - served);
	assert_true(r->bound_idle_bytes <= r->idle_bytes);
	assert_true(r->gap >= 0.0 && r->gap <= 1.0);
	free(used);
}

/* 8 GPUs; 40 instances of a 20 GiB model (CPX) and 3 of a 180 GiB one (SPX only). */
static void test_small_and_big(void **state)
{
	mipart_plan_gpu gpus[8];
	mipart_plan_item items[] = { { "big", 3, 1, 180 * G }, { "small", 40, 1, 20 * G } };
	mipart_plan_result r;

	for (unsigned i = 0; i < 8; i++)
		set_gpu(&gpus[i], i, 0, mi300x, 6);
	assert_int_equal(mipart_plan(gpus, 8, items, 2, &r), 0);
	check_invariants(gpus, 8, items, 2, &r);
	/* 5 x 8 CPX partitions for the small ones, 3 SPX for the big ones: everything placed */
	assert_int_equal(r.placed, 43);
	assert_int_equal(count_compute(gpus, 8, &r, MIPART_COMPUTE_SPX), 3);
	assert_int_equal(count_compute(gpus, 8, &r, MIPART_COMPUTE_CPX), 5);
	assert_int_equal(r.idle_bytes, (8 * 192 - 40 * 20 - 3 * 180) * G);
	/* with everything placed the idle memory cannot be lower: the bound is all but exact */
	assert_true(r.idle_bytes - r.bound_idle_bytes < (1 << 20));
	mipart_plan_result_release(&r);

	/* 60 small ones: placing them all (8 CPX GPUs, 64 partitions) beats 57 + 1 big */
	items[1].count = 60;
	assert_int_equal(mipart_plan(gpus, 8, items, 2, &r), 0);
	check_invariants(gpus, 8, items, 2, &r);
	assert_int_equal(r.placed, 60);
	assert_int_equal(count_compute(gpus, 8, &r, MIPART_COMPUTE_CPX), 8);
	assert_int_equal(placed_of(&r, 0), 0);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(r.places[i].gpu, UINT32_MAX);
	assert_int_equal(r.idle_bytes, (8 * 192 - 60 * 20) * G);
	mipart_plan_result_release(&r);
	mipart_plan_result_release(NULL);
}

/* A hive of 4 GPUs that can be SPX/NPS1 or CPX/NPS4, and 2 GPUs outside any hive. */
static void test_hive(void **state)
{
	static const mipart_plan_layout two[] = { SPX1(192 * G), CPX4(24 * G) };
	mipart_plan_gpu gpus[6];
	mipart_plan_item items[] = { { "big", 2, 1, 180 * G }, { "small", 20, 1, 20 * G } };
	mipart_plan_result r;

	/* hive members interleaved with the lone GPUs: grouping is by hive_id, not position */
	for (unsigned i = 0; i < 6; i++)
		set_gpu(&gpus[i], i, i == 1 || i == 4 ? 0 : 7, two, 2);
	assert_int_equal(mipart_plan(gpus, 6, items, 2, &r), 0);
	check_invariants(gpus, 6, items, 2, &r);
	/* the hive all CPX/NPS4 for the small ones, the two lone GPUs SPX for the big ones (22);
	 * the hive in SPX/NPS1 would take the big ones and 2 small, the lone GPUs 16 small (20) */
	assert_int_equal(r.placed, 22);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(chosen(gpus, &r, i)->memory,
				 i == 1 || i == 4 ? MIPART_MEMORY_NPS1 : MIPART_MEMORY_NPS4);
	assert_int_equal(r.idle_bytes, (6 * 192 - 2 * 180 - 20 * 20) * G);
	mipart_plan_result_release(&r);

	/* 4 big, 1 small: the hive goes NPS1 for 4 big ones (NPS4 would serve 1 small one) */
	items[0].count = 4;
	items[1].count = 1;
	assert_int_equal(mipart_plan(gpus, 6, items, 2, &r), 0);
	check_invariants(gpus, 6, items, 2, &r);
	assert_int_equal(r.placed, 5);
	assert_int_equal(placed_of(&r, 0), 4);
	for (unsigned i = 0; i < 6; i++)
		if (i != 1 && i != 4)
			assert_int_equal(chosen(gpus, &r, i)->memory, MIPART_MEMORY_NPS1);
	mipart_plan_result_release(&r);

	/* without the hive the same GPUs would mix modes: 2 SPX for the big ones, 4 CPX */
	items[0].count = 2;
	items[1].count = 30;
	for (unsigned i = 0; i < 6; i++)
		gpus[i].hive_id = 0;
	assert_int_equal(mipart_plan(gpus, 6, items, 2, &r), 0);
	check_invariants(gpus, 6, items, 2, &r);
	assert_int_equal(r.placed, 32);
	assert_int_equal(count_compute(gpus, 6, &r, MIPART_COMPUTE_SPX), 2);
	mipart_plan_result_release(&r);
	/* in one hive they cannot: all CPX (30 small) beats all SPX (2 big + 4 small) */
	for (unsigned i = 0; i < 6; i++)
		gpus[i].hive_id = 3;
	assert_int_equal(mipart_plan(gpus, 6, items, 2, &r), 0);
	check_invariants(gpus, 6, items, 2, &r);
	assert_int_equal(r.placed, 30);
	assert_int_equal(count_compute(gpus, 6, &r, MIPART_COMPUTE_CPX), 6);
	mipart_plan_result_release(&r);
}

/* Instances that fit no partition, and a tp larger than any layout, stay unplaced. */
static void test_unplaceable(void **state)
{
	mipart_plan_gpu gpus[2];
	mipart_plan_item items[] = {
		{ "huge", 2, 1, 193 * G },
		{ "ok", 1, 0, 100 * G },
		{ "wide", 3, 16, 1 * G },
	};
	mipart_plan_result r;

	set_gpu(&gpus[0], 0, 0, mi300x, 6);
	set_gpu(&gpus[1], 1, 0, mi300x, 6);
	assert_int_equal(mipart_plan(gpus, 2, items, 3, &r), 0);
	check_invariants(gpus, 2, items, 3, &r);
	assert_int_equal(r.n_places, 6);
	assert_int_equal(r.placed, 1);
	for (size_t i = 0; i < 6; i++)
		if (r.places[i].item != 1)
			assert_int_equal(r.places[i].gpu, UINT32_MAX);
	assert_int_equal(chosen(gpus, &r, r.places[2].gpu)->compute, MIPART_COMPUTE_SPX);
	mipart_plan_result_release(&r);

	/* no GPUs at all: nothing placed, no memory, no gap */
	assert_int_equal(mipart_plan(NULL, 0, items, 3, &r), 0);
	assert_int_equal(r.placed, 0);
	assert_int_equal(r.idle_bytes, 0);
	assert_int_equal(r.bound_idle_bytes, 0);
	assert_int_equal(r.places[5].gpu, UINT32_MAX);
	mipart_plan_result_release(&r);
}

/* tp 2 takes two partitions of one GPU. */
static void test_tp2(void **state)
{
	static const mipart_plan_layout sd[] = { SPX1(192 * G), DPX1(96 * G) };
	static const mipart_plan_layout cq[] = { CPX1(24 * G), QPX1(48 * G) };
	mipart_plan_gpu gpus[2];
	mipart_plan_item one[] = { { "70b-tp2", 1, 2, 90 * G } };
	mipart_plan_item mix[] = { { "small", 8, 1, 20 * G }, { "tp2", 3, 2, 40 * G } };
	mipart_plan_result r;

	set_gpu(&gpus[0], 0, 0, sd, 2);
	assert_int_equal(mipart_plan(gpus, 1, one, 1, &r), 0);
	check_invariants(gpus, 1, one, 1, &r);
	assert_int_equal(r.placed, 1);
	assert_int_equal(chosen(gpus, &r, 0)->compute, MIPART_COMPUTE_DPX);
	assert_int_equal(r.places[0].gpu, 0);
	assert_int_equal(r.places[0].first_partition, 0);
	assert_int_equal(r.served_bytes, 180 * G);
	assert_int_equal(r.idle_bytes, 12 * G);
	mipart_plan_result_release(&r);

	/* one CPX GPU for the 8 small ones and one QPX for 2 of the 3 tp-2 ones (10 placed)
	 * beats two QPX GPUs (3 tp-2 + 2 small) */
	set_gpu(&gpus[0], 0, 0, cq, 2);
	set_gpu(&gpus[1], 1, 0, cq, 2);
	assert_int_equal(mipart_plan(gpus, 2, mix, 2, &r), 0);
	check_invariants(gpus, 2, mix, 2, &r);
	assert_int_equal(r.placed, 10);
	assert_int_equal(placed_of(&r, 1), 2);
	assert_int_equal(count_compute(gpus, 2, &r, MIPART_COMPUTE_QPX), 1);
	for (size_t i = 8; i < 11; i++)
		if (r.places[i].gpu != UINT32_MAX)
			assert_int_equal(chosen(gpus, &r, r.places[i].gpu)->compute,
					 MIPART_COMPUTE_QPX);
	mipart_plan_result_release(&r);
}

/* A need equal to the partition size fits; one byte more does not. */
static void test_boundary(void **state)
{
	static const mipart_plan_layout cq[] = { CPX1(24 * G), QPX1(48 * G) };
	mipart_plan_gpu gpus[1];
	mipart_plan_item items[] = { { "exact", 8, 1, 24 * G } };
	mipart_plan_result r;

	set_gpu(&gpus[0], 0, 0, cq, 2);
	assert_int_equal(mipart_plan(gpus, 1, items, 1, &r), 0);
	check_invariants(gpus, 1, items, 1, &r);
	assert_int_equal(r.placed, 8);
	assert_int_equal(chosen(gpus, &r, 0)->compute, MIPART_COMPUTE_CPX);
	assert_int_equal(r.idle_bytes, 0);
	assert_int_equal(r.bound_idle_bytes, 0);
	mipart_plan_result_release(&r);

	items[0].need_bytes = 24 * G + 1;
	assert_int_equal(mipart_plan(gpus, 1, items, 1, &r), 0);
	check_invariants(gpus, 1, items, 1, &r);
	assert_int_equal(r.placed, 4);
	assert_int_equal(chosen(gpus, &r, 0)->compute, MIPART_COMPUTE_QPX);
	assert_int_equal(r.idle_bytes, 4 * (24 * G - 1));
	mipart_plan_result_release(&r);
}

static void test_errors(void **state)
{
	static const mipart_plan_layout n1[] = { SPX1(192 * G) };
	static const mipart_plan_layout n4[] = { CPX4(24 * G) };
	mipart_plan_gpu gpus[2];
	mipart_plan_item items[] = { { "a", 1, 1, 10 * G } };
	mipart_plan_result r, before;

	memset(&r, 0xa5, sizeof(r));
	before = r;
	set_gpu(&gpus[0], 0, 0, mi300x, 6);
	set_gpu(&gpus[1], 1, 0, mi300x, 6);
	items[0].count = 0;
	assert_int_equal(mipart_plan(gpus, 2, items, 1, &r), -EINVAL);
	items[0].count = 1;
	items[0].need_bytes = 0;
	assert_int_equal(mipart_plan(gpus, 2, items, 1, &r), -EINVAL);
	items[0].need_bytes = 10 * G;
	gpus[1].n_layouts = 0;
	assert_int_equal(mipart_plan(gpus, 2, items, 1, &r), -EINVAL);
	gpus[1].n_layouts = MIPART_PLAN_MAX_LAYOUTS + 1;
	assert_int_equal(mipart_plan(gpus, 2, items, 1, &r), -EINVAL);
	set_gpu(&gpus[1], 1, 0, mi300x, 6);
	gpus[1].layouts[2].partitions = 0;
	assert_int_equal(mipart_plan(gpus, 2, items, 1, &r), -EINVAL);
	gpus[1].layouts[2].partitions = 4;
	gpus[1].layouts[2].partition_bytes = UINT64_MAX / 2;
	assert_int_equal(mipart_plan(gpus, 2, items, 1, &r), -ERANGE);
	/* a hive whose GPUs share no memory mode */
	set_gpu(&gpus[0], 0, 5, n1, 1);
	set_gpu(&gpus[1], 1, 5, n4, 1);
	assert_int_equal(mipart_plan(gpus, 2, items, 1, &r), -EINVAL);
	assert_memory_equal(&r, &before, sizeof(r));
	/* the same GPUs outside a hive are fine */
	gpus[0].hive_id = gpus[1].hive_id = 0;
	assert_int_equal(mipart_plan(gpus, 2, items, 1, &r), 0);
	assert_int_equal(r.placed, 1);
	mipart_plan_result_release(&r);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static unsigned pick(unsigned n)
{
	return (unsigned)(rng() % n);
}

/* A random product: 1 to 4 layouts over NPS1 (always) and NPS2/NPS4, sizes 4 to 200 GiB. */
static void random_product(mipart_plan_layout *l, size_t *ret_n)
{
	static const unsigned parts[] = { 1, 2, 3, 4, 6, 8 };
	static const mipart_memory_mode mem[] = { MIPART_MEMORY_NPS1, MIPART_MEMORY_NPS2,
						  MIPART_MEMORY_NPS4 };
	size_t n = 1 + pick(4);

	for (size_t i = 0; i < n; i++) {
		l[i].compute = (mipart_compute_mode)pick(5);
		l[i].memory = i == 0 ? MIPART_MEMORY_NPS1 : mem[pick(3)];
		l[i].partitions = parts[pick(6)];
		l[i].partition_bytes = (4 + pick(197)) * G + pick(1000);
	}
	*ret_n = n;
}

static void random_case(mipart_plan_gpu *gpus, size_t *ret_gpus, mipart_plan_item *items,
			size_t *ret_items, size_t max_gpus, bool tp1, unsigned max_count)
{
	mipart_plan_layout prod[3][MIPART_PLAN_MAX_LAYOUTS];
	size_t np[3], n = 1 + pick((unsigned)max_gpus), ni = 1 + pick(6);

	for (size_t k = 0; k < 3; k++)
		random_product(prod[k], &np[k]);
	for (size_t i = 0; i < n; i++) {
		size_t k = pick(3);

		set_gpu(&gpus[i], (unsigned)i, pick(2) ? 0 : 1 + pick(3), prod[k], np[k]);
	}
	for (size_t j = 0; j < ni; j++) {
		items[j].name = "x";
		items[j].count = 1 + pick(max_count);
		items[j].tp = tp1 ? pick(2) : pick(4);
		items[j].need_bytes = (1 + pick(210)) * G + pick(1u << 20);
	}
	*ret_gpus = n;
	*ret_items = ni;
}

/* Random cases: invariants, and the same plan twice. */
static void test_random_invariants(void **state)
{
	static mipart_plan_gpu gpus[40];
	mipart_plan_item items[8];

	for (unsigned round = 0; round < 300; round++) {
		mipart_plan_result a, b;
		size_t n, ni;

		random_case(gpus, &n, items, &ni, 40, false, 30);
		assert_int_equal(mipart_plan(gpus, n, items, ni, &a), 0);
		check_invariants(gpus, n, items, ni, &a);
		assert_int_equal(mipart_plan(gpus, n, items, ni, &b), 0);
		assert_memory_equal(a.layout, b.layout, n * sizeof(*a.layout));
		assert_memory_equal(a.places, b.places, a.n_places * sizeof(*a.places));
		assert_int_equal(a.bound_idle_bytes, b.bound_idle_bytes);
		mipart_plan_result_release(&a);
		mipart_plan_result_release(&b);
	}
}

/*
 * With tp 1 and layouts fixed, placing instances by need descending, each wherever a partition
 * is free and big enough, serves the most instances and then the most bytes (the sets that can be
 * placed form a matroid: docs/planner.md). So trying every layout choice gives the optimum.
 */
static void brute_force(const mipart_plan_gpu *gpus, size_t n, const mipart_plan_item *items,
			size_t ni, size_t *ret_placed, uint64_t *ret_idle)
{
	size_t choice[8] = { 0 }, best_placed = 0;
	uint64_t best_idle = UINT64_MAX;

	for (;;) {
		bool ok = true;
		size_t placed = 0, slots = 0;
		uint64_t total = 0, served = 0;
		uint64_t sizes[8 * 8];
		bool done[8] = { false };

		for (size_t i = 0; ok && i < n; i++)
			for (size_t k = 0; k < n; k++)
				if (gpus[i].hive_id && gpus[i].hive_id == gpus[k].hive_id)
					ok = ok && gpus[i].layouts[choice[i]].memory ==
							   gpus[k].layouts[choice[k]].memory;
		for (size_t i = 0; ok && i < n; i++) {
			const mipart_plan_layout *l = &gpus[i].layouts[choice[i]];

			total += l->partitions * l->partition_bytes;
			for (unsigned p = 0; p < l->partitions; p++)
				sizes[slots++] = l->partition_bytes;
		}
		for (size_t step = 0; ok && step < ni; step++) {
			size_t j = SIZE_MAX, fit = 0;

			for (size_t x = 0; x < ni; x++)
				if (!done[x] && (j == SIZE_MAX ||
						 items[x].need_bytes > items[j].need_bytes))
					j = x;
			done[j] = true;
			for (size_t s = 0; s < slots; s++)
				fit += sizes[s] >= items[j].need_bytes;
			/* every instance placed so far needs at least as much: it sits in one of
			 * the `fit` partitions */
			for (unsigned c = 0; c < items[j].count && placed < fit; c++) {
				placed++;
				served += items[j].need_bytes;
			}
		}
		if (ok && (placed > best_placed ||
			   (placed == best_placed && total - served < best_idle))) {
			best_placed = placed;
			best_idle = total - served;
		}
		for (size_t i = 0;; i++) {
			if (i == n)
				goto done;
			if (++choice[i] < gpus[i].n_layouts)
				break;
			choice[i] = 0;
		}
	}
done:
	*ret_placed = best_placed;
	*ret_idle = best_idle;
}

/* Small random cases with tp 1: the plan is optimal and the bound below the optimum. */
static void test_random_optimal(void **state)
{
	static mipart_plan_gpu gpus[4];
	mipart_plan_item items[8];

	for (unsigned round = 0; round < 500; round++) {
		mipart_plan_result r;
		size_t n, ni, opt_placed;
		uint64_t opt_idle;

		random_case(gpus, &n, items, &ni, 4, true, 12);
		assert_int_equal(mipart_plan(gpus, n, items, ni, &r), 0);
		check_invariants(gpus, n, items, ni, &r);
		brute_force(gpus, n, items, ni, &opt_placed, &opt_idle);
		assert_true(r.bound_idle_bytes <= opt_idle);
		assert_int_equal(r.placed, opt_placed);
		assert_int_equal(r.idle_bytes, opt_idle);
		mipart_plan_result_release(&r);
	}
}

/* the booking size mipart_alloc_place books and mipart plan sizes by: one sequence's device
 * memory x vLLM's utilization (0.9 unless given) x (1 + MIPART_ALLOC_MARGIN), rounded up */
static void test_booking_bytes(void **state)
{
	mipart_estimate e = { .min_device_bytes = UINT64_C(1) << 30 };
	mipart_estimate_options o = { 0 };

	(void)state;
	/* 2^30 x 0.9 x 1.05 = 1014686023.68 */
	assert_int_equal(mipart_alloc_booking_bytes(&e, &o), 1014686024);
	o.gpu_memory_utilization = -1; /* not above 0: the default */
	assert_int_equal(mipart_alloc_booking_bytes(&e, &o), 1014686024);
	o.gpu_memory_utilization = 0.5; /* 2^30 x 0.5 x 1.05 = 563714457.6 */
	assert_int_equal(mipart_alloc_booking_bytes(&e, &o), 563714458);
	e.min_device_bytes = 0;
	assert_int_equal(mipart_alloc_booking_bytes(&e, &o), 0);
	/* a saturated estimate (fits nowhere) at utilization 1: 1.05 x 2^64 stays UINT64_MAX,
	 * not a cast of a double past 2^64 (0 on x86-64: a booking of nothing) */
	e.min_device_bytes = UINT64_MAX;
	o.gpu_memory_utilization = 1;
	assert_int_equal(mipart_alloc_booking_bytes(&e, &o), UINT64_MAX);
}

/* "G.X", as allocate --partition, env and sim hold name a partition */
static void test_partition_id_parse(void **state)
{
	unsigned g = 99, x = 99;

	(void)state;
	assert_int_equal(mipart_partition_id_parse("0.3", &g, &x), 0);
	assert_int_equal(g, 0);
	assert_int_equal(x, 3);
	assert_int_equal(mipart_partition_id_parse("12.7", &g, &x), 0);
	assert_int_equal(g, 12);
	assert_int_equal(x, 7);
	g = x = 99;
	assert_int_equal(mipart_partition_id_parse("1.8", &g, &x), -EINVAL); /* MAX_XCP 8 */
	assert_int_equal(mipart_partition_id_parse("1", &g, &x), -EINVAL);
	assert_int_equal(mipart_partition_id_parse("1.", &g, &x), -EINVAL);
	assert_int_equal(mipart_partition_id_parse(".1", &g, &x), -EINVAL);
	assert_int_equal(mipart_partition_id_parse("1.2x", &g, &x), -EINVAL);
	assert_int_equal(mipart_partition_id_parse("1234.0", &g, &x), -EINVAL);
	assert_int_equal(mipart_partition_id_parse("-1.0", &g, &x), -EINVAL);
	assert_int_equal(g, 99); /* nothing written on failure */
	assert_int_equal(x, 99);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_and_big),	  cmocka_unit_test(test_hive),
		cmocka_unit_test(test_unplaceable),	  cmocka_unit_test(test_tp2),
		cmocka_unit_test(test_boundary),	  cmocka_unit_test(test_errors),
		cmocka_unit_test(test_random_invariants), cmocka_unit_test(test_random_optimal),
		cmocka_unit_test(test_booking_bytes),	  cmocka_unit_test(test_partition_id_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
