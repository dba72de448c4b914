/* SPDX-License-Identifier: MIT */
/*
 * The layout planner (include/mipart/planner.h; design, bound and figures in docs/planner.md).
 * GPUs with the same layouts form a type, and units (an XGMI hive, or one GPU outside any hive)
 * with the same member types form a unit class. A plan is then a handful of counts: units of
 * each class per memory mode, and GPUs of each (class, mode, type) per layout. Every candidate
 * is scored exactly by the placement rule the final plan uses: instances in order of tp
 * ascending and need descending, each on the smallest partitions that hold it, on the GPU with
 * the fewest free partitions that still take it. Small inputs try every plan; others run a local
 * search over the counts (k GPUs to another layout, k units to another memory mode, k a power of
 * two; pairs of moves when no single one helps) from two starts: the most partitions
 * everywhere, and the rounded layouts of the linear relaxation. With the counts settled, GPUs
 * get their layouts and instances their partitions by that same rule. The lower bound on idle
 * memory is the Lagrangian dual of the relaxation at multipliers from a small dense simplex; any
 * non-negative multipliers give a valid bound, so the simplex's rounding can only weaken the
 * bound, never make it wrong.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mipart/planner.h"
#include "banned.h"

#define GIB 1073741824.0

/* Local search: at most this many committed moves (each one a strict improvement), and at most
 * this many scores computed for pairs of moves in one search (about 0.1 s on the bench host). */
#define SEARCH_MAX_MOVES 100000
#define SEARCH_PAIR_EVALS 500000

/* Exact search when there are at most this many plans (up to interchangeable GPUs). */
#define EXACT_MAX_STATES 20000

/* Simplex: dense tableau of at most this many cells (8 bytes each); a bigger relaxation falls
 * back to the simple bound (docs/planner.md, "The bound"). */
#define LP_MAX_CELLS (4u << 20)
#define LP_EPS 1e-9

/* A slot class: the partitions a layout cuts a GPU into, all of one size. */
struct cls {
	unsigned p;
	uint64_t s;
};

/* GPUs with identical layout lists. */
struct gtype {
	const mipart_plan_gpu *rep;		/* one of them: its layouts are the type's */
	unsigned cls[MIPART_PLAN_MAX_LAYOUTS];	/* slot class of each layout */
	size_t n_gpus;
};

/* Units (hives, lone GPUs) with the same multiset of member types. */
struct ucls {
	size_t first;				/* into planner.uorder */
	size_t n_units;
	size_t n_types;
	size_t *types;				/* member types, ascending */
	size_t *mult;				/* GPUs of each per unit */
	size_t n_modes;
	mipart_memory_mode modes[MIPART_PLAN_MAX_LAYOUTS];	/* shared by every member type */
	size_t in_mode[MIPART_PLAN_MAX_LAYOUTS];		/* units in each mode */
	size_t *hist;				/* [mode][type][layout]: GPUs */
};

/* One change to a plan: k GPUs of one (unit class, mode, type) to another layout when mi == mj,
 * else k units of class u from mode mi to mode mj, taking GPUs from layouts of slot class a
 * first and giving them layouts of slot class b (b == NO_CLS: each keeps its slot class). */
struct move {
	size_t u, mi, mj, ti;
	unsigned a, b;
	size_t k;
};

#define NO_CLS UINT32_MAX

struct change {
	size_t mi, ti;
	unsigned l;
	long long delta;
};

struct score {
	size_t placed;
	uint64_t idle;
};

struct planner {
	const mipart_plan_gpu *gpus;
	size_t n_gpus;
	const mipart_plan_item *items;
	size_t n_items;

	struct cls *cls;		/* ascending size, then partitions */
	size_t n_cls;
	unsigned width;			/* largest partition count + 1 */

	struct gtype *types;
	size_t n_types;
	size_t *type_of;		/* per GPU */

	size_t *order;			/* GPUs grouped by unit */
	size_t *ustart;			/* unit u is order[ustart[u] .. ustart[u + 1]) */
	size_t n_units;
	size_t *usig;			/* per position of order: member types, sorted per unit */
	size_t *uorder;			/* units grouped by class */
	size_t *ucls_of;		/* per unit */
	struct ucls *ucls;
	size_t n_ucls;
	size_t *ucls_store;
	size_t *hist_store;
	size_t n_hist;

	size_t *item_order;		/* tp ascending, need descending */
	bool exhaustive;		/* search() tried every plan */

	/* workspace */
	size_t *g;			/* GPUs per slot class */
	size_t *g2;
	size_t *buckets;		/* [class][free partitions]: GPUs */
	struct change *changes;
	size_t max_changes;
};

static unsigned item_tp(const mipart_plan_item *it)
{
	return it->tp ? it->tp : 1;
}

static bool fits(const struct cls *c, const mipart_plan_item *it)
{
	return c->s >= it->need_bytes && c->p >= item_tp(it);
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return (a > b) - (a < b);
}

static int cmp_layouts(const mipart_plan_gpu *a, const mipart_plan_gpu *b)
{
	int r = cmp_u64(a->n_layouts, b->n_layouts);

	for (size_t i = 0; !r && i < a->n_layouts; i++) {
		const mipart_plan_layout *x = &a->layouts[i], *y = &b->layouts[i];

		r = (x->compute > y->compute) - (x->compute < y->compute);
		if (!r)
			r = (x->memory > y->memory) - (x->memory < y->memory);
		if (!r)
			r = cmp_u64(x->partitions, y->partitions);
		if (!r)
			r = cmp_u64(x->partition_bytes, y->partition_bytes);
	}
	return r;
}

/* GPU pointers by layout list, then position (so the sort is deterministic). */
static int cmp_gpu_type(const void *pa, const void *pb)
{
	const mipart_plan_gpu *a = *(const mipart_plan_gpu *const *)pa;
	const mipart_plan_gpu *b = *(const mipart_plan_gpu *const *)pb;
	int r = cmp_layouts(a, b);

	return r ? r : (a > b) - (a < b);
}

/* GPU pointers by hive, then position. */
static int cmp_gpu_hive(const void *pa, const void *pb)
{
	const mipart_plan_gpu *a = *(const mipart_plan_gpu *const *)pa;
	const mipart_plan_gpu *b = *(const mipart_plan_gpu *const *)pb;
	int r = cmp_u64(a->hive_id, b->hive_id);

	return r ? r : (a > b) - (a < b);
}

static int cmp_cls(const void *pa, const void *pb)
{
	const struct cls *a = pa, *b = pb;
	int r = cmp_u64(a->s, b->s);

	return r ? r : cmp_u64(a->p, b->p);
}

static int cmp_size(const void *pa, const void *pb)
{
	return cmp_u64(*(const size_t *)pa, *(const size_t *)pb);
}

/* Items by tp ascending, then need descending (qsort_r with the planner). */
static int cmp_item_order(const void *pa, const void *pb, void *ctx)
{
	const struct planner *pl = ctx;
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	const mipart_plan_item *x = &pl->items[a], *y = &pl->items[b];
	int r = cmp_u64(item_tp(x), item_tp(y));

	if (!r)
		r = cmp_u64(y->need_bytes, x->need_bytes);
	return r ? r : cmp_u64(a, b);
}

/* Units by member count, then sorted member types, then first GPU (qsort_r with the planner). */
static int cmp_unit(const void *pa, const void *pb, void *ctx)
{
	const struct planner *pl = ctx;
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	size_t na = pl->ustart[a + 1] - pl->ustart[a], nb = pl->ustart[b + 1] - pl->ustart[b];
	int r = cmp_u64(na, nb);

	for (size_t i = 0; !r && i < na; i++)
		r = cmp_u64(pl->usig[pl->ustart[a] + i], pl->usig[pl->ustart[b] + i]);
	return r ? r : cmp_u64(a, b);
}

static int validate(const mipart_plan_gpu *gpus, size_t n_gpus, const mipart_plan_item *items,
		    size_t n_items)
{
	uint64_t max_mem = 0;

	if (n_gpus >= UINT32_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n_gpus; i++) {
		const mipart_plan_gpu *g = &gpus[i];

		if (g->n_layouts == 0 || g->n_layouts > MIPART_PLAN_MAX_LAYOUTS)
			return -EINVAL;
		for (size_t l = 0; l < g->n_layouts; l++) {
			const mipart_plan_layout *lay = &g->layouts[l];

			if (lay->partitions == 0 || lay->partitions > MIPART_PLAN_MAX_PARTITIONS ||
			    lay->partition_bytes == 0)
				return -EINVAL;
			if (lay->partition_bytes > UINT64_MAX / lay->partitions)
				return -ERANGE;
			if (lay->partition_bytes * lay->partitions > max_mem)
				max_mem = lay->partition_bytes * lay->partitions;
		}
	}
	if (n_gpus && max_mem > UINT64_MAX / n_gpus)
		return -ERANGE;
	for (size_t j = 0; j < n_items; j++)
		if (items[j].count == 0 || items[j].need_bytes == 0)
			return -EINVAL;
	return 0;
}

static size_t find_cls(const struct planner *pl, unsigned p, uint64_t s)
{
	struct cls key = { p, s };
	const struct cls *c = bsearch(&key, pl->cls, pl->n_cls, sizeof(key), cmp_cls);

	return (size_t)(c - pl->cls);
}

static bool type_has_mode(const struct gtype *t, mipart_memory_mode m)
{
	for (size_t l = 0; l < t->rep->n_layouts; l++)
		if (t->rep->layouts[l].memory == m)
			return true;
	return false;
}

static size_t *hist_at(const struct ucls *u, size_t mi, size_t ti)
{
	return &u->hist[(mi * u->n_types + ti) * MIPART_PLAN_MAX_LAYOUTS];
}

/* The layout of type t in memory mode m with slot class c, else (c == NO_CLS or none) the one
 * with the most partitions, then the largest, then the first. */
static unsigned layout_in_mode(const struct gtype *t, mipart_memory_mode m, unsigned c)
{
	unsigned best = UINT32_MAX;

	for (unsigned l = 0; l < t->rep->n_layouts; l++) {
		const mipart_plan_layout *x = &t->rep->layouts[l];

		if (x->memory != m)
			continue;
		if (c != NO_CLS && t->cls[l] == c)
			return l;
		if (best == UINT32_MAX || x->partitions > t->rep->layouts[best].partitions ||
		    (x->partitions == t->rep->layouts[best].partitions &&
		     x->partition_bytes > t->rep->layouts[best].partition_bytes))
			best = l;
	}
	return best;
}

/* Types, slot classes, units and unit classes; the first plan of each unit class. */
static int setup(struct planner *pl)
{
	const mipart_plan_gpu **ptr = NULL;
	size_t n = pl->n_gpus, n_store = 0, n_hist = 0, nc = 0;
	int r = -ENOMEM;

	ptr = calloc(n ? n : 1, sizeof(*ptr));
	pl->type_of = calloc(n ? n : 1, sizeof(size_t));
	pl->types = calloc(n ? n : 1, sizeof(*pl->types));
	pl->order = calloc(n ? n : 1, sizeof(size_t));
	pl->usig = calloc(n ? n : 1, sizeof(size_t));
	pl->ustart = calloc(n + 1, sizeof(size_t));
	pl->uorder = calloc(n ? n : 1, sizeof(size_t));
	pl->ucls_of = calloc(n ? n : 1, sizeof(size_t));
	pl->ucls = calloc(n ? n : 1, sizeof(*pl->ucls));
	pl->item_order = calloc(pl->n_items ? pl->n_items : 1, sizeof(size_t));
	if (!ptr || !pl->type_of || !pl->types || !pl->order || !pl->usig || !pl->ustart ||
	    !pl->uorder || !pl->ucls_of || !pl->ucls || !pl->item_order)
		goto out;

	/* types */
	for (size_t i = 0; i < n; i++)
		ptr[i] = &pl->gpus[i];
	qsort(ptr, n, sizeof(*ptr), cmp_gpu_type);
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || cmp_layouts(ptr[i - 1], ptr[i]) != 0)
			pl->types[pl->n_types++].rep = ptr[i];
		pl->types[pl->n_types - 1].n_gpus++;
		pl->type_of[ptr[i] - pl->gpus] = pl->n_types - 1;
	}

	/* slot classes, from the types' layouts */
	for (size_t t = 0; t < pl->n_types; t++)
		nc += pl->types[t].rep->n_layouts;
	pl->cls = calloc(nc ? nc : 1, sizeof(*pl->cls));
	if (!pl->cls)
		goto out;
	for (size_t t = 0; t < pl->n_types; t++)
		for (size_t l = 0; l < pl->types[t].rep->n_layouts; l++) {
			const mipart_plan_layout *x = &pl->types[t].rep->layouts[l];

			pl->cls[pl->n_cls++] = (struct cls){ x->partitions, x->partition_bytes };
		}
	qsort(pl->cls, pl->n_cls, sizeof(*pl->cls), cmp_cls);
	nc = 0;
	for (size_t c = 0; c < pl->n_cls; c++)
		if (nc == 0 || cmp_cls(&pl->cls[nc - 1], &pl->cls[c]) != 0)
			pl->cls[nc++] = pl->cls[c];
	pl->n_cls = nc;
	pl->width = 1;
	for (size_t c = 0; c < pl->n_cls; c++)
		if (pl->cls[c].p + 1 > pl->width)
			pl->width = pl->cls[c].p + 1;
	for (size_t t = 0; t < pl->n_types; t++)
		for (size_t l = 0; l < pl->types[t].rep->n_layouts; l++) {
			const mipart_plan_layout *x = &pl->types[t].rep->layouts[l];

			pl->types[t].cls[l] = (unsigned)find_cls(pl, x->partitions,
								 x->partition_bytes);
		}

	/* units: one per hive, one per GPU outside a hive */
	qsort(ptr, n, sizeof(*ptr), cmp_gpu_hive);
	for (size_t i = 0; i < n; i++) {
		pl->order[i] = (size_t)(ptr[i] - pl->gpus);
		pl->usig[i] = pl->type_of[pl->order[i]];
		if (i == 0 || ptr[i]->hive_id == 0 || ptr[i]->hive_id != ptr[i - 1]->hive_id)
			pl->ustart[pl->n_units++] = i;
	}
	pl->ustart[pl->n_units] = n;
	for (size_t u = 0; u < pl->n_units; u++) {
		pl->uorder[u] = u;
		qsort(&pl->usig[pl->ustart[u]], pl->ustart[u + 1] - pl->ustart[u], sizeof(size_t),
		      cmp_size);
	}

	/* unit classes */
	qsort_r(pl->uorder, pl->n_units, sizeof(size_t), cmp_unit, pl);
	for (size_t i = 0; i < pl->n_units; i++) {
		size_t u = pl->uorder[i], v = i ? pl->uorder[i - 1] : 0;
		size_t nu = pl->ustart[u + 1] - pl->ustart[u];
		bool same = i && nu == pl->ustart[v + 1] - pl->ustart[v] &&
			    !memcmp(&pl->usig[pl->ustart[u]], &pl->usig[pl->ustart[v]],
				    nu * sizeof(size_t));

		if (!same)
			pl->ucls[pl->n_ucls++].first = i;
		pl->ucls[pl->n_ucls - 1].n_units++;
		pl->ucls_of[u] = pl->n_ucls - 1;
	}
	for (size_t k = 0; k < pl->n_ucls; k++) {
		struct ucls *uc = &pl->ucls[k];
		size_t u = pl->uorder[uc->first];

		for (size_t i = pl->ustart[u]; i < pl->ustart[u + 1]; i++)
			if (i == pl->ustart[u] || pl->usig[i] != pl->usig[i - 1])
				uc->n_types++;
		n_store += 2 * uc->n_types;
	}
	pl->ucls_store = calloc(n_store ? n_store : 1, sizeof(size_t));
	if (!pl->ucls_store)
		goto out;
	n_store = 0;
	for (size_t k = 0; k < pl->n_ucls; k++) {
		struct ucls *uc = &pl->ucls[k];
		size_t u = pl->uorder[uc->first], ti = 0;
		const struct gtype *t0;

		uc->types = &pl->ucls_store[n_store];
		uc->mult = &pl->ucls_store[n_store + uc->n_types];
		n_store += 2 * uc->n_types;
		for (size_t i = pl->ustart[u]; i < pl->ustart[u + 1]; i++) {
			if (i != pl->ustart[u] && pl->usig[i] != pl->usig[i - 1])
				ti++;
			uc->types[ti] = pl->usig[i];
			uc->mult[ti]++;
		}
		/* memory modes every member type has, ascending */
		t0 = &pl->types[uc->types[0]];
		for (size_t l = 0; l < t0->rep->n_layouts; l++) {
			mipart_memory_mode m = t0->rep->layouts[l].memory;
			bool ok = true;
			size_t at = 0;

			for (size_t i = 1; ok && i < uc->n_types; i++)
				ok = type_has_mode(&pl->types[uc->types[i]], m);
			for (size_t i = 0; ok && i < uc->n_modes; i++)
				ok = uc->modes[i] != m;
			if (!ok)
				continue;
			while (at < uc->n_modes && uc->modes[at] < m)
				at++;
			memmove(&uc->modes[at + 1], &uc->modes[at],
				(uc->n_modes - at) * sizeof(uc->modes[0]));
			uc->modes[at] = m;
			uc->n_modes++;
		}
		if (uc->n_modes == 0) {
			r = -EINVAL; /* a hive whose GPUs have no memory mode in common */
			goto out;
		}
		n_hist += uc->n_modes * uc->n_types * MIPART_PLAN_MAX_LAYOUTS;
		/* a unit move: per type, one removal per layout and one addition per removal */
		if (2 * uc->n_types * MIPART_PLAN_MAX_LAYOUTS + 2 > pl->max_changes)
			pl->max_changes = 2 * uc->n_types * MIPART_PLAN_MAX_LAYOUTS + 2;
	}
	pl->hist_store = calloc(n_hist ? n_hist : 1, sizeof(size_t));
	pl->changes = calloc(2 * (pl->max_changes ? pl->max_changes : 1), sizeof(*pl->changes));
	pl->g = calloc(pl->n_cls ? pl->n_cls : 1, sizeof(size_t));
	pl->g2 = calloc(pl->n_cls ? pl->n_cls : 1, sizeof(size_t));
	pl->buckets = calloc((pl->n_cls ? pl->n_cls : 1) * pl->width, sizeof(size_t));
	if (!pl->hist_store || !pl->changes || !pl->g || !pl->g2 || !pl->buckets)
		goto out;

	n_hist = 0;
	for (size_t k = 0; k < pl->n_ucls; k++) {
		pl->ucls[k].hist = &pl->hist_store[n_hist];
		n_hist += pl->ucls[k].n_modes * pl->ucls[k].n_types * MIPART_PLAN_MAX_LAYOUTS;
	}
	pl->n_hist = n_hist;

	for (size_t j = 0; j < pl->n_items; j++)
		pl->item_order[j] = j;
	qsort_r(pl->item_order, pl->n_items, sizeof(size_t), cmp_item_order, pl);
	r = 0;
out:
	free(ptr);
	return r;
}

/*
 * The first start: each unit class in the mode whose layouts cut its GPUs into the most
 * partitions (then: the mode with the most layouts to choose from), each GPU in that mode's
 * layout with the most partitions.
 */
static void start(struct planner *pl)
{
	memset(pl->hist_store, 0, pl->n_hist * sizeof(size_t));
	for (size_t k = 0; k < pl->n_ucls; k++) {
		struct ucls *uc = &pl->ucls[k];
		size_t best = 0, best_p = 0, best_c = 0;

		for (size_t mi = 0; mi < uc->n_modes; mi++) {
			size_t sp = 0, sc = 0;

			for (size_t ti = 0; ti < uc->n_types; ti++) {
				const struct gtype *t = &pl->types[uc->types[ti]];
				unsigned l = layout_in_mode(t, uc->modes[mi], NO_CLS);

				sp += uc->mult[ti] * t->rep->layouts[l].partitions;
				for (size_t x = 0; x < t->rep->n_layouts; x++)
					sc += t->rep->layouts[x].memory == uc->modes[mi];
			}
			if (mi == 0 || sp > best_p || (sp == best_p && sc > best_c)) {
				best = mi;
				best_p = sp;
				best_c = sc;
			}
		}
		memset(uc->in_mode, 0, sizeof(uc->in_mode));
		uc->in_mode[best] = uc->n_units;
		for (size_t ti = 0; ti < uc->n_types; ti++) {
			const struct gtype *t = &pl->types[uc->types[ti]];

			hist_at(uc, best, ti)[layout_in_mode(t, uc->modes[best], NO_CLS)] =
				uc->n_units * uc->mult[ti];
		}
	}
}

static void planner_release(struct planner *pl)
{
	free(pl->cls);
	free(pl->types);
	free(pl->type_of);
	free(pl->order);
	free(pl->ustart);
	free(pl->usig);
	free(pl->uorder);
	free(pl->ucls_of);
	free(pl->ucls);
	free(pl->ucls_store);
	free(pl->hist_store);
	free(pl->item_order);
	free(pl->g);
	free(pl->g2);
	free(pl->buckets);
	free(pl->changes);
}

/*
 * Score g (GPUs per slot class) by the placement rule: instances by tp ascending then need
 * descending; each into the smallest slot class that fits, on a GPU with the fewest free
 * partitions >= tp. GPUs of one class that have the same number of free partitions are
 * interchangeable, so the state is a histogram per class and the work does not grow with the
 * number of GPUs or instances. place() below does the same GPU by GPU.
 */
static struct score evaluate(struct planner *pl, const size_t *g)
{
	struct score sc = { 0, 0 };
	uint64_t total = 0, served = 0;

	for (size_t c = 0; c < pl->n_cls; c++) {
		size_t *b = &pl->buckets[c * pl->width];

		memset(b, 0, pl->width * sizeof(*b));
		b[pl->cls[c].p] = g[c];
		total += (uint64_t)g[c] * pl->cls[c].p * pl->cls[c].s;
	}
	for (size_t i = 0; i < pl->n_items; i++) {
		const mipart_plan_item *it = &pl->items[pl->item_order[i]];
		unsigned t = item_tp(it);
		size_t rem = it->count;

		for (size_t c = 0; rem && c < pl->n_cls; c++) {
			size_t *b = &pl->buckets[c * pl->width];

			if (!fits(&pl->cls[c], it))
				continue;
			for (unsigned f = t; rem && f <= pl->cls[c].p; f++) {
				size_t h = b[f], q = f / t;

				if (h == 0)
					continue;
				if (rem >= h * q) {
					b[f] = 0;
					b[f - q * t] += h;
					rem -= h * q;
				} else {
					size_t full = rem / q, part = rem % q;

					b[f] -= full;
					b[f - q * t] += full;
					if (part) {
						b[f]--;
						b[f - part * t]++;
					}
					rem = 0;
				}
			}
		}
		sc.placed += it->count - rem;
		served += (uint64_t)(it->count - rem) * it->need_bytes * t;
	}
	sc.idle = total - served;
	return sc;
}

static bool better(struct score a, struct score b)
{
	return a.placed > b.placed || (a.placed == b.placed && a.idle < b.idle);
}

/* The changes to the histograms a move makes; returns their number. */
static size_t move_changes(const struct planner *pl, const struct move *mv, struct change *out)
{
	const struct ucls *uc = &pl->ucls[mv->u];
	size_t n = 0;

	if (mv->mi == mv->mj) {
		out[n++] = (struct change){ mv->mi, mv->ti, mv->a, -(long long)mv->k };
		out[n++] = (struct change){ mv->mi, mv->ti, mv->b, (long long)mv->k };
		return n;
	}
	for (size_t ti = 0; ti < uc->n_types; ti++) {
		const struct gtype *t = &pl->types[uc->types[ti]];
		const size_t *h = hist_at(uc, mv->mi, ti);
		size_t need = mv->k * uc->mult[ti];
		size_t start = n;

		for (int pass = 0; pass < 2 && need; pass++)
			for (unsigned l = 0; need && l < t->rep->n_layouts; l++) {
				size_t take;

				if (!h[l] || (pass == 0) != (t->cls[l] == mv->a))
					continue;
				take = h[l] < need ? h[l] : need;
				out[n++] = (struct change){ mv->mi, ti, l, -(long long)take };
				need -= take;
			}
		if (mv->b != NO_CLS) {
			unsigned to = layout_in_mode(t, uc->modes[mv->mj], mv->b);

			out[n++] = (struct change){ mv->mj, ti, to,
						    (long long)(mv->k * uc->mult[ti]) };
			continue;
		}
		for (size_t i = start, end = n; i < end; i++) {
			unsigned to = layout_in_mode(t, uc->modes[mv->mj], t->cls[out[i].l]);

			out[n++] = (struct change){ mv->mj, ti, to, -out[i].delta };
		}
	}
	return n;
}

/* Apply a move's changes to the counts (sign 1), or take them back (sign -1). */
static void apply_move(struct planner *pl, const struct move *mv, const struct change *ch,
		       size_t n, long long sign)
{
	struct ucls *uc = &pl->ucls[mv->u];

	for (size_t i = 0; i < n; i++) {
		const struct gtype *t = &pl->types[uc->types[ch[i].ti]];

		hist_at(uc, ch[i].mi, ch[i].ti)[ch[i].l] += (size_t)(sign * ch[i].delta);
		pl->g[t->cls[ch[i].l]] += (size_t)(sign * ch[i].delta);
	}
	if (mv->mi != mv->mj) {
		uc->in_mode[mv->mi] -= (size_t)(sign * (long long)mv->k);
		uc->in_mode[mv->mj] += (size_t)(sign * (long long)mv->k);
	}
}

static void commit_move(struct planner *pl, const struct move *mv)
{
	size_t n = move_changes(pl, mv, pl->changes);

	apply_move(pl, mv, pl->changes, n, 1);
}

static struct score try_move(struct planner *pl, const struct move *mv)
{
	const struct ucls *uc = &pl->ucls[mv->u];
	size_t n = move_changes(pl, mv, pl->changes);

	memcpy(pl->g2, pl->g, pl->n_cls * sizeof(size_t));
	for (size_t i = 0; i < n; i++) {
		const struct gtype *t = &pl->types[uc->types[pl->changes[i].ti]];

		pl->g2[t->cls[pl->changes[i].l]] += (size_t)pl->changes[i].delta;
	}
	return evaluate(pl, pl->g2);
}

struct search {
	struct score best_sc;
	struct move best[2];		/* the improving move, or pair of moves */
	size_t n_best;
	const struct move *first;	/* pair phase: the first move, applied for now */
	size_t pair_evals;		/* in this search, all rounds */
};

typedef void (*move_fn)(struct planner *pl, const struct move *mv, struct search *se);

static void each_k(struct planner *pl, struct move mv, size_t max, bool steps, move_fn fn,
		   struct search *se)
{
	for (size_t k = 1;; k *= 2) {
		mv.k = k < max ? k : max;
		fn(pl, &mv, se);
		if (!steps || mv.k == max)
			break;
	}
}

/*
 * Every move from the present counts: k GPUs of one (unit class, mode, type) to another layout
 * of that mode with another slot class; k units of a class to another memory mode, their GPUs
 * taken from layouts of one slot class first and given layouts of one slot class (or each
 * keeping its own). k = 1, 2, 4, ... and the most possible; only 1 when !steps.
 */
static void for_each_move(struct planner *pl, bool steps, move_fn fn, struct search *se)
{
	for (size_t u = 0; u < pl->n_ucls; u++) {
		const struct ucls *uc = &pl->ucls[u];
		const struct gtype *t0 = &pl->types[uc->types[0]];

		for (size_t mi = 0; mi < uc->n_modes; mi++) {
			if (!uc->in_mode[mi])
				continue;
			for (size_t ti = 0; ti < uc->n_types; ti++) {
				const struct gtype *t = &pl->types[uc->types[ti]];
				const size_t *h = hist_at(uc, mi, ti);

				for (unsigned a = 0; a < t->rep->n_layouts; a++) {
					if (!h[a])
						continue;
					for (unsigned b = 0; b < t->rep->n_layouts; b++) {
						struct move mv = { u, mi, mi, ti, a, b, 0 };

						if (t->rep->layouts[b].memory != uc->modes[mi] ||
						    t->cls[b] == t->cls[a])
							continue;
						each_k(pl, mv, h[a], steps, fn, se);
					}
				}
			}
			for (size_t mj = 0; mj < uc->n_modes; mj++) {
				if (mj == mi)
					continue;
				for (unsigned a = 0; a < t0->rep->n_layouts; a++) {
					if (t0->rep->layouts[a].memory != uc->modes[mi])
						continue;
					for (unsigned b = 0; b <= t0->rep->n_layouts; b++) {
						struct move mv = { u, mi, mj, 0, t0->cls[a],
								   NO_CLS, 0 };
						mipart_memory_mode mb;

						if (b < t0->rep->n_layouts) {
							mb = t0->rep->layouts[b].memory;
							if (mb != uc->modes[mj])
								continue;
							mv.b = t0->cls[b];
						}
						each_k(pl, mv, uc->in_mode[mi], steps, fn, se);
					}
				}
			}
		}
	}
}

static void consider(struct planner *pl, const struct move *mv, struct search *se)
{
	struct score sc;

	if (se->first && (se->n_best || se->pair_evals >= SEARCH_PAIR_EVALS))
		return; /* pairs: the first improvement will do */
	sc = try_move(pl, mv);
	se->pair_evals += se->first != NULL;
	if (!better(sc, se->best_sc))
		return;
	se->best_sc = sc;
	se->n_best = 0;
	if (se->first)
		se->best[se->n_best++] = *se->first;
	se->best[se->n_best++] = *mv;
}

/* Pair phase: make mv for now, then try every single move (k = 1) after it. */
static void consider_pair(struct planner *pl, const struct move *mv, struct search *se)
{
	struct change *ch = &pl->changes[pl->max_changes];
	size_t n;

	if (se->n_best || se->pair_evals >= SEARCH_PAIR_EVALS)
		return;
	n = move_changes(pl, mv, ch);
	apply_move(pl, mv, ch, n, 1);
	se->first = mv;
	for_each_move(pl, false, consider, se);
	se->first = NULL;
	apply_move(pl, mv, ch, n, -1);
}

/*
 * Best improvement: make the best single move while one improves the score; when none does, the
 * first improving pair of moves with k = 1, while the budget for pairs lasts.
 */
static struct score descend(struct planner *pl)
{
	struct score cur;
	size_t pair_evals = 0;

	memset(pl->g, 0, pl->n_cls * sizeof(size_t));
	for (size_t k = 0; k < pl->n_ucls; k++) {
		const struct ucls *uc = &pl->ucls[k];

		for (size_t mi = 0; mi < uc->n_modes; mi++)
			for (size_t ti = 0; ti < uc->n_types; ti++)
				for (unsigned l = 0; l < MIPART_PLAN_MAX_LAYOUTS; l++)
					pl->g[pl->types[uc->types[ti]].cls[l]] +=
						hist_at(uc, mi, ti)[l];
	}
	cur = evaluate(pl, pl->g);

	for (unsigned round = 0; round < SEARCH_MAX_MOVES; round++) {
		struct search se = { .best_sc = cur, .pair_evals = pair_evals };

		for_each_move(pl, true, consider, &se);
		if (!se.n_best)
			for_each_move(pl, false, consider_pair, &se);
		pair_evals = se.pair_evals;
		if (!se.n_best)
			break;
		for (size_t i = 0; i < se.n_best; i++)
			commit_move(pl, &se.best[i]);
		cur = se.best_sc;
	}
	return cur;
}

/*
 * The linear relaxation (docs/planner.md), in GiB: maximize
 *     sum (need_j tp_j + mu) y[j][c] - sum (p_c s_c - m0_T) x[T][c]
 * over x[T][c] (GPUs of type T in slot class c) and y[j][c] (instances of item j on partitions
 * of class c), with rows
 *     sum_c x[T][c] <= GPUs of T                      (one layout per GPU)
 *     sum_j tp_j y[j][c] - p_c sum_T x[T][c] <= 0      (partitions of class c)
 *     sum_c y[j][c] <= count_j                         (instances of j)
 * m0_T is the least memory of a layout of T: a GPU costs at least that whatever it does, so
 * "<=" in the first row loses nothing. Hives are left out. A dense tableau from the slack basis.
 */
struct lp {
	size_t m, n, w;		/* rows, structural columns, row width (n + m + 1) */
	size_t n_x;		/* columns 0 .. n_x - 1 are x, the rest y */
	double *t;		/* (m + 1) x w; row m is the objective, as z_j - c_j */
	size_t *basis;
	size_t *x_type;		/* per x column: its type ... */
	unsigned *x_layout;	/* ... and the first layout of that type with its class */
};

static void lp_release(struct lp *lp)
{
	free(lp->t);
	free(lp->basis);
	free(lp->x_type);
	free(lp->x_layout);
	*lp = (struct lp){ 0 };
}

/* Size and allocate. Returns 0, -E2BIG (more than LP_MAX_CELLS), -ENOMEM. */
static int lp_init(const struct planner *pl, struct lp *lp)
{
	size_t n_x = 0, n_y = 0;

	for (size_t t = 0; t < pl->n_types; t++)
		for (size_t l = 0; l < pl->types[t].rep->n_layouts; l++) {
			bool dup = false;

			for (size_t e = 0; e < l; e++)
				dup = dup || pl->types[t].cls[e] == pl->types[t].cls[l];
			n_x += !dup;
		}
	for (size_t j = 0; j < pl->n_items; j++)
		for (size_t c = 0; c < pl->n_cls; c++)
			n_y += fits(&pl->cls[c], &pl->items[j]);
	*lp = (struct lp){ 0 };
	lp->m = pl->n_types + pl->n_cls + pl->n_items;
	lp->n = n_x + n_y;
	lp->n_x = n_x;
	lp->w = lp->n + lp->m + 1;
	if ((double)(lp->m + 1) * (double)lp->w > LP_MAX_CELLS)
		return -E2BIG;
	lp->t = malloc((lp->m + 1) * lp->w * sizeof(double));
	lp->basis = malloc((lp->m ? lp->m : 1) * sizeof(size_t));
	lp->x_type = malloc((n_x ? n_x : 1) * sizeof(size_t));
	lp->x_layout = malloc((n_x ? n_x : 1) * sizeof(unsigned));
	if (!lp->t || !lp->basis || !lp->x_type || !lp->x_layout) {
		lp_release(lp);
		return -ENOMEM;
	}
	return 0;
}

static void lp_pivot(struct lp *lp, size_t pr, size_t pc)
{
	double *prow = &lp->t[pr * lp->w];
	double pv = prow[pc];

	for (size_t c = 0; c < lp->w; c++)
		prow[c] /= pv;
	prow[pc] = 1.0;
	for (size_t r = 0; r <= lp->m; r++) {
		double *row = &lp->t[r * lp->w];
		double f = row[pc];

		if (r == pr || f == 0.0)
			continue;
		for (size_t c = 0; c < lp->w; c++)
			row[c] -= f * prow[c];
		row[pc] = 0.0;
	}
	lp->basis[pr] = pc;
}

/* Maximize from the slack basis (all right-hand sides >= 0). Dantzig's rule, Bland's after a
 * run of degenerate pivots so it cannot cycle. Returns true at an optimum. */
static bool lp_solve(struct lp *lp)
{
	size_t limit = 50 * (lp->m + lp->n) + 1000, degenerate = 0;
	const double *obj = &lp->t[lp->m * lp->w];

	for (size_t it = 0; it < limit; it++) {
		size_t pc = SIZE_MAX, pr = SIZE_MAX;
		double most = -LP_EPS, ratio = 0;

		for (size_t c = 0; c + 1 < lp->w; c++)
			if (obj[c] < most) {
				pc = c;
				if (degenerate > 50)
					break; /* Bland: the first improving column */
				most = obj[c];
			}
		if (pc == SIZE_MAX)
			return true;
		for (size_t r = 0; r < lp->m; r++) {
			double a = lp->t[r * lp->w + pc], q;

			if (a <= LP_EPS)
				continue;
			q = lp->t[r * lp->w + lp->w - 1] / a;
			if (pr == SIZE_MAX || q < ratio - 1e-12 ||
			    (q <= ratio + 1e-12 && lp->basis[r] < lp->basis[pr])) {
				pr = r;
				ratio = q;
			}
		}
		if (pr == SIZE_MAX)
			return false;
		degenerate = ratio < LP_EPS ? degenerate + 1 : 0;
		lp_pivot(lp, pr, pc);
	}
	return false;
}

/* Build and solve at instance price mu (GiB). Leaves the slot prices (duals of the class rows,
 * >= 0) in rho and the instances the relaxation places in *ret_count. */
static void lp_run(const struct planner *pl, struct lp *lp, double mu, double *rho,
		   double *ret_count)
{
	size_t col = 0, rows_t = pl->n_types, rows_c = pl->n_cls;
	double *obj = &lp->t[lp->m * lp->w], count = 0;

	memset(lp->t, 0, (lp->m + 1) * lp->w * sizeof(double));
	for (size_t r = 0; r < lp->m; r++) {
		lp->t[r * lp->w + lp->n + r] = 1.0;
		lp->basis[r] = lp->n + r;
	}
	for (size_t t = 0; t < pl->n_types; t++) {
		const struct gtype *ty = &pl->types[t];
		double m0 = 0;

		for (size_t l = 0; l < ty->rep->n_layouts; l++) {
			const struct cls *c = &pl->cls[ty->cls[l]];
			double mem = (double)c->p * (double)c->s / GIB;

			if (l == 0 || mem < m0)
				m0 = mem;
		}
		lp->t[t * lp->w + lp->w - 1] = (double)ty->n_gpus;
		for (size_t l = 0; l < ty->rep->n_layouts; l++) {
			const struct cls *c = &pl->cls[ty->cls[l]];
			bool dup = false;

			for (size_t e = 0; e < l; e++)
				dup = dup || ty->cls[e] == ty->cls[l];
			if (dup)
				continue;
			lp->x_type[col] = t;
			lp->x_layout[col] = (unsigned)l;
			lp->t[t * lp->w + col] = 1.0;
			lp->t[(rows_t + ty->cls[l]) * lp->w + col] = -(double)c->p;
			obj[col] = (double)c->p * (double)c->s / GIB - m0;
			col++;
		}
	}
	for (size_t j = 0; j < pl->n_items; j++) {
		const mipart_plan_item *it = &pl->items[j];

		lp->t[(rows_t + rows_c + j) * lp->w + lp->w - 1] = (double)it->count;
		for (size_t c = 0; c < pl->n_cls; c++) {
			if (!fits(&pl->cls[c], it))
				continue;
			lp->t[(rows_t + c) * lp->w + col] = (double)item_tp(it);
			lp->t[(rows_t + rows_c + j) * lp->w + col] = 1.0;
			obj[col] = -((double)it->need_bytes * item_tp(it) / GIB + mu);
			col++;
		}
	}
	lp_solve(lp); /* a stop short of the optimum still gives valid (weaker) prices */
	for (size_t c = 0; rho && c < pl->n_cls; c++) {
		double v = obj[lp->n + rows_t + c];

		rho[c] = v > 0 ? v : 0;
	}
	for (size_t r = 0; r < lp->m; r++)
		if (lp->basis[r] >= lp->n_x && lp->basis[r] < lp->n)
			count += lp->t[r * lp->w + lp->w - 1];
	*ret_count = count;
}

/* GPUs of a unit of class uc that get a wanted slot class in mode mi. */
static size_t wanted_in_mode(const struct planner *pl, const struct ucls *uc, size_t mi,
			     const size_t *want)
{
	size_t v = 0;

	for (size_t ti = 0; ti < uc->n_types; ti++) {
		const struct gtype *t = &pl->types[uc->types[ti]];
		const size_t *w = &want[uc->types[ti] * MIPART_PLAN_MAX_LAYOUTS];

		for (unsigned l = 0; l < t->rep->n_layouts; l++)
			if (w[l] && t->rep->layouts[l].memory == uc->modes[mi])
				v += w[l] < uc->mult[ti] ? w[l] : uc->mult[ti];
	}
	return v;
}

/* want[type][layout]: GPUs wanted in that layout's slot class. Unit by unit, the mode with the
 * most wanted GPUs; each GPU a wanted slot class of that mode, else the most partitions. */
static void hand_out(struct planner *pl, size_t *want)
{
	memset(pl->hist_store, 0, pl->n_hist * sizeof(size_t));
	for (size_t k = 0; k < pl->n_ucls; k++) {
		struct ucls *uc = &pl->ucls[k];

		memset(uc->in_mode, 0, sizeof(uc->in_mode));
		for (size_t i = 0; i < uc->n_units; i++) {
			size_t best = 0, best_v = 0;

			for (size_t mi = 0; mi < uc->n_modes; mi++) {
				size_t v = wanted_in_mode(pl, uc, mi, want);

				if (mi == 0 || v > best_v) {
					best = mi;
					best_v = v;
				}
			}
			uc->in_mode[best]++;
			for (size_t ti = 0; ti < uc->n_types; ti++) {
				const struct gtype *t = &pl->types[uc->types[ti]];
				size_t *w = &want[uc->types[ti] * MIPART_PLAN_MAX_LAYOUTS];
				mipart_memory_mode m = uc->modes[best];

				for (size_t x = 0; x < uc->mult[ti]; x++) {
					unsigned to = layout_in_mode(t, m, NO_CLS);

					for (unsigned l = 0; l < t->rep->n_layouts; l++)
						if (w[l] && t->rep->layouts[l].memory == m) {
							w[l]--;
							to = layout_in_mode(t, m, t->cls[l]);
							break;
						}
					hist_at(uc, best, ti)[to]++;
				}
			}
		}
	}
}

/*
 * Second start: the relaxation's layouts. Solve it with a price per instance above any GPU's
 * memory (so it places as many as it can first), round its GPUs per (type, slot class) to whole
 * GPUs (largest remainders), and hand them out unit by unit: each unit takes the memory mode in
 * which most of its GPUs get a slot class still wanted. Returns 0, -E2BIG, -ENOMEM.
 */
static int start_lp(struct planner *pl)
{
	struct lp lp;
	double mu = 0, cnt;
	size_t *want = NULL;
	double *frac = NULL;
	int r = lp_init(pl, &lp);

	if (r < 0)
		return r;
	r = -ENOMEM;
	want = calloc(pl->n_types * MIPART_PLAN_MAX_LAYOUTS, sizeof(*want));
	frac = calloc(pl->n_types * MIPART_PLAN_MAX_LAYOUTS, sizeof(*frac));
	if (!want || !frac)
		goto out;
	for (size_t c = 0; c < pl->n_cls; c++)
		if ((double)pl->cls[c].p * (double)pl->cls[c].s / GIB > mu)
			mu = (double)pl->cls[c].p * (double)pl->cls[c].s / GIB;
	lp_run(pl, &lp, 4 * mu + 1, NULL, &cnt);
	for (size_t r2 = 0; r2 < lp.m; r2++)
		if (lp.basis[r2] < lp.n_x)
			frac[lp.x_type[lp.basis[r2]] * MIPART_PLAN_MAX_LAYOUTS +
			     lp.x_layout[lp.basis[r2]]] = lp.t[r2 * lp.w + lp.w - 1];
	for (size_t t = 0; t < pl->n_types; t++) {
		size_t *w = &want[t * MIPART_PLAN_MAX_LAYOUTS], sum = 0;
		double *f = &frac[t * MIPART_PLAN_MAX_LAYOUTS];

		for (unsigned l = 0; l < MIPART_PLAN_MAX_LAYOUTS; l++) {
			double v = f[l] > 0 ? f[l] + 1e-6 : 0;

			w[l] = (size_t)v;
			f[l] = v - (double)w[l];
			sum += w[l];
		}
		while (sum < pl->types[t].n_gpus) {
			unsigned best = 0;

			for (unsigned l = 1; l < MIPART_PLAN_MAX_LAYOUTS; l++)
				if (f[l] > f[best])
					best = l;
			w[best]++;
			f[best] = -1;
			sum++;
		}
	}

	hand_out(pl, want);
	r = 0;
out:
	lp_release(&lp);
	free(want);
	free(frac);
	return r;
}

/*
 * Exact search for small inputs: every plan, up to GPUs that are interchangeable. A unit class
 * splits its units over its memory modes; then the GPUs of each (mode, type) split over the slot
 * classes that type has in that mode (layouts with the same partitions are the same to the
 * score). When there are at most EXACT_MAX_STATES such plans, all are scored.
 */
struct exact {
	struct score best;
	bool found;
	size_t *keep;			/* best hist_store, then every class's in_mode */
	double states;
};

/* The layouts of type t in mode m, one per slot class; returns how many. */
static size_t reps(const struct gtype *t, mipart_memory_mode m, unsigned *out)
{
	size_t n = 0;

	for (unsigned l = 0; l < t->rep->n_layouts; l++) {
		bool dup = false;

		if (t->rep->layouts[l].memory != m)
			continue;
		for (size_t i = 0; i < n; i++)
			dup = dup || t->cls[out[i]] == t->cls[l];
		if (!dup)
			out[n++] = l;
	}
	return n;
}

/* Ways to split n things over k kinds: C(n + k - 1, k - 1), as a double (it only gets
 * compared with a small cap). */
static double compositions(size_t n, size_t k)
{
	double v = 1;

	for (size_t i = 1; i < k; i++)
		v = v * (double)(n + i) / (double)i;
	return v;
}

static void save(struct planner *pl, size_t *keep)
{
	memcpy(keep, pl->hist_store, pl->n_hist * sizeof(size_t));
	for (size_t k = 0; k < pl->n_ucls; k++)
		memcpy(&keep[pl->n_hist + k * MIPART_PLAN_MAX_LAYOUTS], pl->ucls[k].in_mode,
		       sizeof(pl->ucls[k].in_mode));
}

static void restore(struct planner *pl, const size_t *keep)
{
	memcpy(pl->hist_store, keep, pl->n_hist * sizeof(size_t));
	for (size_t k = 0; k < pl->n_ucls; k++)
		memcpy(pl->ucls[k].in_mode, &keep[pl->n_hist + k * MIPART_PLAN_MAX_LAYOUTS],
		       sizeof(pl->ucls[k].in_mode));
}

/* Plans of unit class k for the split of its units in in_mode[0 .. n_modes). */
static double layout_states(const struct planner *pl, const struct ucls *uc)
{
	unsigned rp[MIPART_PLAN_MAX_LAYOUTS];
	double v = 1;

	for (size_t mi = 0; mi < uc->n_modes; mi++)
		for (size_t ti = 0; ti < uc->n_types; ti++)
			v *= compositions(uc->in_mode[mi] * uc->mult[ti],
					  reps(&pl->types[uc->types[ti]], uc->modes[mi], rp));
	return v;
}

/* Sum of layout_states over every split of `left` units over modes mi ..; stops past cap. */
static double mode_states(const struct planner *pl, struct ucls *uc, size_t mi, size_t left,
			  double cap)
{
	double sum = 0;

	if (mi + 1 == uc->n_modes) {
		uc->in_mode[mi] = left;
		return layout_states(pl, uc);
	}
	for (size_t x = 0; x <= left && sum <= cap; x++) {
		uc->in_mode[mi] = x;
		sum += mode_states(pl, uc, mi + 1, left - x, cap);
	}
	return sum;
}

static void exact_class(struct planner *pl, size_t k, struct exact *ex);

/* Split the GPUs of pair `idx` (= mode * n_types + type) of class k from representative `at`
 * on, `left` of them still to place. */
static void exact_split(struct planner *pl, size_t k, size_t idx, size_t at, size_t left,
			struct exact *ex)
{
	struct ucls *uc = &pl->ucls[k];
	unsigned rp[MIPART_PLAN_MAX_LAYOUTS];
	size_t mi, ti, n;
	size_t *h;

	if (idx == uc->n_modes * uc->n_types) {
		exact_class(pl, k + 1, ex);
		return;
	}
	mi = idx / uc->n_types;
	ti = idx % uc->n_types;
	n = reps(&pl->types[uc->types[ti]], uc->modes[mi], rp);
	h = hist_at(uc, mi, ti);
	if (at == 0)
		left = uc->in_mode[mi] * uc->mult[ti];
	if (n == 0 || at + 1 >= n) {
		if (n)
			h[rp[n - 1]] = left;
		exact_split(pl, k, idx + 1, 0, 0, ex);
		if (n)
			h[rp[n - 1]] = 0;
		return;
	}
	for (size_t x = 0; x <= left; x++) {
		h[rp[at]] = x;
		exact_split(pl, k, idx, at + 1, left - x, ex);
	}
	h[rp[at]] = 0;
}

static void exact_modes(struct planner *pl, size_t k, size_t mi, size_t left, struct exact *ex)
{
	struct ucls *uc = &pl->ucls[k];

	if (mi + 1 == uc->n_modes) {
		uc->in_mode[mi] = left;
		exact_split(pl, k, 0, 0, 0, ex);
		return;
	}
	for (size_t x = 0; x <= left; x++) {
		uc->in_mode[mi] = x;
		exact_modes(pl, k, mi + 1, left - x, ex);
	}
}

static void exact_class(struct planner *pl, size_t k, struct exact *ex)
{
	struct score sc;

	if (k < pl->n_ucls) {
		exact_modes(pl, k, 0, pl->ucls[k].n_units, ex);
		return;
	}
	memset(pl->g, 0, pl->n_cls * sizeof(size_t));
	for (size_t u = 0; u < pl->n_ucls; u++) {
		const struct ucls *uc = &pl->ucls[u];

		for (size_t mi = 0; mi < uc->n_modes; mi++)
			for (size_t ti = 0; ti < uc->n_types; ti++)
				for (unsigned l = 0; l < MIPART_PLAN_MAX_LAYOUTS; l++)
					pl->g[pl->types[uc->types[ti]].cls[l]] +=
						hist_at(uc, mi, ti)[l];
	}
	sc = evaluate(pl, pl->g);
	if (!ex->found || better(sc, ex->best)) {
		ex->best = sc;
		ex->found = true;
		save(pl, ex->keep);
	}
}

/* Whether there are at most EXACT_MAX_STATES plans. */
static bool exact_small(struct planner *pl)
{
	double total = 1;

	for (size_t k = 0; k < pl->n_ucls && total <= EXACT_MAX_STATES; k++) {
		struct ucls *uc = &pl->ucls[k];

		if (compositions(uc->n_units, uc->n_modes) > EXACT_MAX_STATES)
			return false;
		total *= mode_states(pl, uc, 0, uc->n_units, EXACT_MAX_STATES);
	}
	return total <= EXACT_MAX_STATES;
}

/*
 * Small inputs: try every plan. Others: descend from the first start, then from the relaxation's
 * (when it is small enough to solve); keep the better plan, the first on a tie.
 */
static int search(struct planner *pl)
{
	size_t *keep = malloc((pl->n_hist + pl->n_ucls * MIPART_PLAN_MAX_LAYOUTS + 1) *
			      sizeof(size_t));
	struct score first, second;
	int r = 0;

	if (!keep)
		return -ENOMEM;
	if (exact_small(pl)) {
		struct exact ex = { .keep = keep };

		memset(pl->hist_store, 0, pl->n_hist * sizeof(size_t));
		exact_class(pl, 0, &ex);
		restore(pl, keep);
		pl->exhaustive = true;
		goto out;
	}
	start(pl);
	first = descend(pl);
	save(pl, keep);
	r = start_lp(pl);
	if (r == 0) {
		second = descend(pl);
		if (!better(second, first))
			restore(pl, keep);
	} else if (r == -E2BIG) {
		restore(pl, keep);
		r = 0;
	}
out:
	free(keep);
	return r;
}

/* Layouts from the counts: units of a class take modes in order, GPUs of a (class, mode,
 * type) take layouts in order. */
static void assign_layouts(struct planner *pl, size_t *layout)
{
	for (size_t k = 0; k < pl->n_ucls; k++) {
		struct ucls *uc = &pl->ucls[k];
		size_t mi = 0, left = uc->in_mode[0];

		for (size_t i = 0; i < uc->n_units; i++) {
			size_t u = pl->uorder[uc->first + i];

			while (left == 0)
				left = uc->in_mode[++mi];
			left--;
			for (size_t x = pl->ustart[u]; x < pl->ustart[u + 1]; x++) {
				size_t gpu = pl->order[x], ti = 0;
				size_t *h;
				unsigned l = 0;

				while (uc->types[ti] != pl->type_of[gpu])
					ti++;
				h = hist_at(uc, mi, ti);
				while (h[l] == 0)
					l++;
				h[l]--; /* the counts are spent here; nothing reads them after */
				layout[gpu] = l;
			}
		}
	}
}

/* The placement rule of evaluate(), GPU by GPU: per slot class, a stack of GPUs for each
 * number of free partitions; GPUs go in so that the lowest index comes out first. */
static int place(struct planner *pl, const size_t *layout, mipart_plan_result *res)
{
	size_t *head = pl->buckets, *next = NULL, *off = NULL;
	unsigned *used = NULL, *gcls = NULL;
	int r = -ENOMEM;

	next = calloc(pl->n_gpus ? pl->n_gpus : 1, sizeof(*next));
	used = calloc(pl->n_gpus ? pl->n_gpus : 1, sizeof(*used));
	gcls = calloc(pl->n_gpus ? pl->n_gpus : 1, sizeof(*gcls));
	off = calloc(pl->n_items + 1, sizeof(*off));
	if (!next || !used || !gcls || !off)
		goto out;
	for (size_t i = 0; i < pl->n_cls * pl->width; i++)
		head[i] = SIZE_MAX;
	for (size_t i = pl->n_gpus; i-- > 0;) {
		unsigned c = pl->types[pl->type_of[i]].cls[layout[i]];
		size_t *h = &head[c * pl->width + pl->cls[c].p];

		gcls[i] = c;
		next[i] = *h;
		*h = i;
	}
	for (size_t j = 0; j < pl->n_items; j++)
		off[j + 1] = off[j] + pl->items[j].count;
	for (size_t j = 0; j < pl->n_items; j++)
		for (unsigned x = 0; x < pl->items[j].count; x++)
			res->places[off[j] + x] = (mipart_plan_place){ j, x, UINT32_MAX, 0 };

	for (size_t i = 0; i < pl->n_items; i++) {
		size_t j = pl->item_order[i];
		const mipart_plan_item *it = &pl->items[j];
		unsigned t = item_tp(it);

		for (unsigned x = 0; x < it->count; x++) {
			size_t *h = NULL, gpu;
			unsigned f = 0;

			for (size_t c = 0; !h && c < pl->n_cls; c++) {
				if (!fits(&pl->cls[c], it))
					continue;
				for (f = t; f <= pl->cls[c].p; f++)
					if (head[c * pl->width + f] != SIZE_MAX) {
						h = &head[c * pl->width + f];
						break;
					}
			}
			if (!h)
				break; /* capacity only shrinks: no later instance fits either */
			gpu = *h;
			*h = next[gpu];
			res->places[off[j] + x].gpu = (unsigned)gpu;
			res->places[off[j] + x].first_partition = used[gpu];
			used[gpu] += t;
			h = &head[gcls[gpu] * pl->width + (f - t)];
			next[gpu] = *h;
			*h = gpu;
			res->placed++;
			res->served_bytes += it->need_bytes * t;
		}
	}
	r = 0;
out:
	free(next);
	free(used);
	free(gcls);
	free(off);
	return r;
}

/*
 * The bound (docs/planner.md). For slot prices rho[c] >= 0 (bytes per partition of class c)
 * and a price mu >= 0 per placed instance, every plan placing at least `placed` instances has
 *
 *   idle >= sum over units of min over its memory modes m of
 *             sum over its GPUs of min over layouts l in m of (p_l s_l - p_l rho[c(l)])
 *           - sum over items j of count_j * max(0, max over classes c fitting j of
 *                                                   (need_j tp_j + mu - tp_j rho[c]))
 *           + mu * placed
 *
 * (Lagrangian relaxation of the partition capacities and of the count). Computed in long
 * double, less a margin for rounding.
 */
static long double dual_value(const struct planner *pl, const double *rho, double mu,
			      size_t placed)
{
	long double a = 0, b = 0, mag = 0, muv = (long double)mu * GIB;

	for (size_t u = 0; u < pl->n_units; u++) {
		const struct ucls *uc = &pl->ucls[pl->ucls_of[u]];
		long double best = 0;

		for (size_t mi = 0; mi < uc->n_modes; mi++) {
			long double sum = 0;

			for (size_t x = pl->ustart[u]; x < pl->ustart[u + 1]; x++) {
				const struct gtype *t = &pl->types[pl->type_of[pl->order[x]]];
				long double lo = 0;
				bool any = false;

				for (size_t l = 0; l < t->rep->n_layouts; l++) {
					const mipart_plan_layout *y = &t->rep->layouts[l];
					long double v = (long double)y->partitions *
							(long double)y->partition_bytes;

					if (y->memory != uc->modes[mi])
						continue;
					if (rho)
						v -= (long double)y->partitions * rho[t->cls[l]] *
						     GIB;
					if (!any || v < lo)
						lo = v;
					any = true;
				}
				sum += lo;
			}
			if (mi == 0 || sum < best)
				best = sum;
		}
		a += best;
	}
	for (size_t j = 0; j < pl->n_items; j++) {
		const mipart_plan_item *it = &pl->items[j];
		long double val = (long double)it->need_bytes * item_tp(it) + muv, hi = 0;
		bool any = false;

		for (size_t c = 0; c < pl->n_cls; c++) {
			long double v;

			if (!fits(&pl->cls[c], it))
				continue;
			v = val - (rho ? (long double)item_tp(it) * rho[c] * GIB : 0);
			if (!any || v > hi)
				hi = v;
			any = true;
		}
		if (any && hi > 0)
			b += (long double)it->count * hi;
	}
	mag = (a < 0 ? -a : a) + b + muv * placed;
	return a - b + muv * placed - (mag * 1e-9L + 4096);
}

static uint64_t to_bytes(long double v)
{
	if (!(v > 0))
		return 0;
	if (v >= 18446744073709551615.0L)
		return UINT64_MAX;
	return (uint64_t)v;
}

/* Solve the relaxation at mu, raise *best to the bound its prices give; returns the count. */
static double try_mu(const struct planner *pl, struct lp *lp, double mu, double *rho,
		     size_t placed, long double *best)
{
	double cnt;
	long double v;

	lp_run(pl, lp, mu, rho, &cnt);
	v = dual_value(pl, rho, mu, placed);
	if (v > *best)
		*best = v;
	return cnt;
}

/*
 * A lower bound on the idle memory of any plan placing at least `placed` instances. The bound is
 * concave in mu, with slope placed - (instances the relaxation places at mu): its maximum is
 * where that count reaches `placed`. Found by doubling, then bisection; every mu tried gives a
 * valid bound, the best is kept. Without the relaxation (too big, no memory): rho = mu = 0.
 */
static uint64_t bound(const struct planner *pl, size_t placed)
{
	struct lp lp;
	double *rho = NULL, lo = 0, hi = 1.0 / 64, want = (double)placed - 1e-6;
	long double best = dual_value(pl, NULL, 0, placed);

	if (lp_init(pl, &lp) < 0)
		return to_bytes(best);
	rho = malloc((pl->n_cls ? pl->n_cls : 1) * sizeof(double));
	if (!rho)
		goto out;
	if (try_mu(pl, &lp, 0, rho, placed, &best) >= want)
		goto out;
	while (try_mu(pl, &lp, hi, rho, placed, &best) < want) {
		lo = hi;
		hi *= 2;
		if (hi > 1e12)
			goto out;
	}
	for (int i = 0; i < 40 && hi - lo > 1e-9 * hi; i++) {
		double mid = (lo + hi) / 2;

		if (try_mu(pl, &lp, mid, rho, placed, &best) >= want)
			hi = mid;
		else
			lo = mid;
	}
out:
	lp_release(&lp);
	free(rho);
	return to_bytes(best);
}

void mipart_plan_result_release(mipart_plan_result *r)
{
	if (!r)
		return;
	free(r->layout);
	free(r->places);
	*r = (mipart_plan_result){ 0 };
}

int mipart_plan(const mipart_plan_gpu *gpus, size_t n_gpus, const mipart_plan_item *items,
		size_t n_items, mipart_plan_result *ret)
{
	struct planner pl = { 0 };
	mipart_plan_result res = { 0 };
	uint64_t total = 0;
	size_t n_places = 0;
	int r;

	if ((!gpus && n_gpus) || (!items && n_items) || !ret)
		return -EINVAL;
	r = validate(gpus, n_gpus, items, n_items);
	if (r < 0)
		return r;
	for (size_t j = 0; j < n_items; j++) {
		if (n_places > SIZE_MAX - items[j].count)
			return -ENOMEM;
		n_places += items[j].count;
	}
	pl.gpus = gpus;
	pl.n_gpus = n_gpus;
	pl.items = items;
	pl.n_items = n_items;
	r = setup(&pl);
	if (r < 0)
		goto out;
	r = -ENOMEM;
	res.layout = calloc(n_gpus ? n_gpus : 1, sizeof(*res.layout));
	res.places = calloc(n_places ? n_places : 1, sizeof(*res.places));
	if (!res.layout || !res.places)
		goto out;
	res.n_places = n_places;

	r = search(&pl);
	if (r < 0)
		goto out;
	assign_layouts(&pl, res.layout);
	r = place(&pl, res.layout, &res);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < n_gpus; i++) {
		const mipart_plan_layout *l = &gpus[i].layouts[res.layout[i]];

		total += l->partition_bytes * l->partitions;
	}
	res.idle_bytes = total - res.served_bytes;
	res.bound_idle_bytes = bound(&pl, res.placed);
	res.exhaustive = pl.exhaustive;
	res.gap = total ? ((double)res.idle_bytes - (double)res.bound_idle_bytes) / (double)total
			: 0.0;
	*ret = res;
	res = (mipart_plan_result){ 0 };
out:
	mipart_plan_result_release(&res);
	planner_release(&pl);
	return r;
}
