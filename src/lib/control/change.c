// SPDX-License-Identifier: MIT
/*
 * Change planning. Checks a request against what the hardware says (available and supported
 * modes, writability), against the kernel's rules (a compute mode must be valid for the memory
 * mode in force after the change: aqua_vanjaram.c __aqua_vanjaram_is_valid_mode), and against
 * the hive rule (an NPS request is stored per XGMI hive and applied to every member at reload:
 * amdgpu_gmc.c current_memory_partition_store, amdgpu_xgmi_request_nps_change). The order of a
 * combined change is the amd-smi doc's: NPS request, reload, then compute. A reload resets every
 * GPU of the node to the mode AUTO picks (gfx_v9_4_3.c: gfx_v9_4_3_cp_resume), so after one,
 * every GPU's compute mode is written again.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mipart/change.h"
#include "util.h"
#include "banned.h"

#define CHANGE_MAX_PROBLEMS 64

struct mipart_change {
	mipart_gpu_change *gpus;
	size_t n;
	mipart_change_problem problems[CHANGE_MAX_PROBLEMS];
	size_t n_problems;
	bool reload;
	bool flush; /* reload first to apply pending NPS requests the target drops */
};

static void problem(struct mipart_change *c, int gpu, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct mipart_change *c, int gpu, const char *fmt, ...)
{
	va_list ap;

	if (c->n_problems == CHANGE_MAX_PROBLEMS)
		return;
	c->problems[c->n_problems].gpu = gpu;
	va_start(ap, fmt);
	vsnprintf(c->problems[c->n_problems].message, sizeof(c->problems[0].message), fmt, ap);
	va_end(ap);
	c->n_problems++;
}

const char *mipart_disruption_name(mipart_disruption d)
{
	switch (d) {
	case MIPART_DISRUPT_COMPUTE:
		return "compute";
	case MIPART_DISRUPT_MEMORY_RELOAD:
		return "memory-reload";
	default:
		return "none";
	}
}

/* "CPX or QPX", "SPX, DPX or CPX" */
static void or_list(mipart_mode_set set, bool compute, char *buf, size_t size)
{
	char tmp[128];
	char *last;

	if (compute)
		mipart_compute_modes_format(set, tmp, sizeof(tmp));
	else
		mipart_memory_modes_format(set, tmp, sizeof(tmp));
	last = strrchr(tmp, ',');
	if (last)
		snprintf(buf, size, "%.*s or%s", (int)(last - tmp), tmp, last + 1);
	else
		snprintf(buf, size, "%s", tmp[0] ? tmp : "none");
}

static void check_gpu(struct mipart_change *c, const mipart_gpu_info *g, const mipart_target *t,
		      mipart_memory_mode final_memory)
{
	mipart_gpu_change *gc = &c->gpus[g->index];
	unsigned xcc = g->num_xcc > 0 ? (unsigned)g->num_xcc : 0;
	unsigned gfx = g->gfx_target > 0 ? (unsigned)g->gfx_target : 0;
	char list[160];

	if (!g->partitioning) {
		problem(c, (int)g->index, "'%s %s' does not support partitioning", g->product, g->bdf);
		return;
	}
	if (g->sriov_vfs) {
		/* The host driver (GIM) sets the partition modes per VF count, and the VFs' memory
		 * and XCDs are handed to guests: no partition write while VFs exist (docs/sriov.md). */
		problem(c, (int)g->index,
			"'%s %s' has %u SR-IOV virtual functions (driver %s); partition changes are "
			"refused while VFs exist: change them with 'mipart vf enable -g %s --count N'",
			g->product, g->bdf, g->sriov_vfs, g->driver[0] ? g->driver : "none", g->bdf);
		return;
	}
	if (!g->driver_bound || g->n_partitions == 0) {
		problem(c, (int)g->index,
			"'%s %s' is not bound to amdgpu or has no KFD nodes; load the driver first",
			g->product, g->bdf);
		return;
	}
	if (t->compute != MIPART_COMPUTE_UNKNOWN) {
		mipart_mode_set sup = g->compute_supported ? g->compute_supported : g->compute_available;

		if (!(sup & MIPART_MODE_BIT(t->compute))) {
			or_list(sup, true, list, sizeof(list));
			problem(c, (int)g->index, "'%s %s' does not support compute mode %s (it supports %s)",
				g->product, g->bdf, mipart_compute_mode_name(t->compute), list);
			return;
		}
		if (!g->compute_writable && t->compute != g->compute) {
			problem(c, (int)g->index,
				"the compute mode of '%s %s' is read-only (an SR-IOV VF, or no switch support)",
				g->product, g->bdf);
			return;
		}
	}
	if (t->memory != MIPART_MEMORY_UNKNOWN && t->memory != g->memory) {
		if (!(g->memory_available & MIPART_MODE_BIT(t->memory))) {
			or_list(g->memory_available, false, list, sizeof(list));
			problem(c, (int)g->index, "'%s %s' does not support memory mode %s (it supports %s)",
				g->product, g->bdf, mipart_memory_mode_name(t->memory), list);
			return;
		}
		if (!g->memory_writable) {
			problem(c, (int)g->index, "the memory mode of '%s %s' cannot be changed from the OS",
				g->product, g->bdf);
			return;
		}
	}
	if (final_memory == MIPART_MEMORY_UNKNOWN) {
		problem(c, (int)g->index,
			"the memory mode of '%s %s' is unknown (mode source: %s); give --memory",
			g->product, g->bdf, g->mode_source == MIPART_MODE_SOURCE_INFERRED ? "inferred" : "none");
		return;
	}
	if (gc->to_compute == MIPART_COMPUTE_UNKNOWN) {
		problem(c, (int)g->index, "the compute mode of '%s %s' is unknown; give --compute",
			g->product, g->bdf);
		return;
	}
	if (!mipart_mode_pair_valid(gc->to_compute, final_memory, xcc, gfx)) {
		mipart_mode_set ok = 0;

		for (int m = 0; m < MIPART_COMPUTE_MODE_COUNT; m++)
			if (mipart_mode_pair_valid((mipart_compute_mode)m, final_memory, xcc, gfx) &&
			    (g->compute_supported & MIPART_MODE_BIT(m)))
				ok |= MIPART_MODE_BIT(m);
		or_list(ok, true, list, sizeof(list));
		problem(c, (int)g->index, "%s needs compute mode %s on '%s %s'; %s %s",
			mipart_memory_mode_name(final_memory), list, g->product, g->bdf,
			t->compute != MIPART_COMPUTE_UNKNOWN ? "requested" : "it would keep",
			mipart_compute_mode_name(gc->to_compute));
	}
}

/* The hive rule: an NPS request is applied to every GPU of the hive at reload. */
static void check_hives(struct mipart_change *c, const mipart_topology *topo)
{
	size_t n = mipart_topology_gpu_count(topo);

	for (size_t i = 0; i < n; i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(topo, i);
		char others[256];
		size_t len = 0, count = 0;

		if (!g->hive_id || c->gpus[i].to_memory == c->gpus[i].from_memory)
			continue;
		/* report once per hive: at its first changing member */
		bool first = true;

		for (size_t j = 0; j < i; j++) {
			const mipart_gpu_info *h = mipart_topology_gpu(topo, j);

			if (h->hive_id == g->hive_id && c->gpus[j].to_memory != c->gpus[j].from_memory)
				first = false;
		}
		if (!first)
			continue;
		others[0] = '\0';
		for (size_t j = 0; j < n; j++) {
			const mipart_gpu_info *h = mipart_topology_gpu(topo, j);

			if (h->hive_id != g->hive_id || c->gpus[j].to_memory == c->gpus[i].to_memory)
				continue;
			count++;
			if (len < sizeof(others))
				len += (size_t)snprintf(others + len, sizeof(others) - len, "%s%zu",
							len ? ", " : "", j);
		}
		if (count)
			problem(c, -1,
				"a memory mode applies to the whole XGMI hive 0x%016llx: GPU%s %s would be left in another mode than %s; select every GPU of the hive (-g all)",
				(unsigned long long)g->hive_id, count > 1 ? "s" : "", others,
				mipart_memory_mode_name(c->gpus[i].to_memory));
	}
}

int mipart_change_plan(const mipart_topology *topo, const mipart_target *targets, size_t n,
		       mipart_change **ret)
{
	struct mipart_change *c;

	if (n != mipart_topology_gpu_count(topo))
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->gpus = calloc(n ? n : 1, sizeof(*c->gpus));
	if (!c->gpus) {
		free(c);
		return -ENOMEM;
	}
	c->n = n;
	for (size_t i = 0; i < n; i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(topo, i);
		const mipart_target *t = &targets[i];
		mipart_gpu_change *gc = &c->gpus[i];

		gc->gpu = (unsigned)i;
		util_strlcpy(gc->bdf, g->bdf, sizeof(gc->bdf));
		gc->from_compute = gc->to_compute = g->compute;
		gc->from_memory = gc->to_memory = g->memory;
		if (g->pending_memory != MIPART_MEMORY_UNKNOWN && g->pending_memory != g->memory) {
			gc->pending_memory = g->pending_memory;
			gc->pending_change = g->pending_change;
		}
		if (!t->selected)
			continue;
		if (t->compute != MIPART_COMPUTE_UNKNOWN)
			gc->to_compute = t->compute;
		if (t->memory != MIPART_MEMORY_UNKNOWN)
			gc->to_memory = t->memory;
		if (gc->to_memory != gc->from_memory)
			c->reload = true;
		/* a pending request is replaced or taken by a memory target, never kept silently;
		 * the current mode cannot replace it (the driver skips that write): flush first */
		if (gc->pending_memory != MIPART_MEMORY_UNKNOWN && t->memory != MIPART_MEMORY_UNKNOWN &&
		    t->memory == g->memory)
			c->flush = c->reload = true;
	}
	/* a reload applies every pending request: one on a GPU the change does not give a memory
	 * mode would switch it unasked */
	for (size_t i = 0; i < n && c->reload; i++) {
		const mipart_gpu_change *gc = &c->gpus[i];

		if (gc->pending_memory == MIPART_MEMORY_UNKNOWN ||
		    (targets[i].selected && targets[i].memory != MIPART_MEMORY_UNKNOWN))
			continue;
		problem(c, (int)i,
			"'%s %s' has a pending NPS request for %s (written by change %lld, not applied yet) that this change's driver reload would apply; give it a memory mode (--memory %s keeps it, --memory %s drops it) or run 'mipart recover'",
			mipart_topology_gpu(topo, i)->product, gc->bdf,
			mipart_memory_mode_name(gc->pending_memory), (long long)gc->pending_change,
			mipart_memory_mode_name(gc->pending_memory),
			mipart_memory_mode_name(gc->from_memory));
	}
	for (size_t i = 0; i < n; i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(topo, i);
		mipart_gpu_change *gc = &c->gpus[i];

		if (targets[i].selected && (gc->to_compute != gc->from_compute ||
					    gc->to_memory != gc->from_memory || c->reload))
			check_gpu(c, g, &targets[i], gc->to_memory);
	}
	check_hives(c, topo);
	for (size_t i = 0; i < n; i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(topo, i);
		mipart_gpu_change *gc = &c->gpus[i];
		unsigned xcc = g->num_xcc > 0 ? (unsigned)g->num_xcc : 0;

		gc->to_partitions = g->partitioning ? mipart_compute_mode_partitions(gc->to_compute, xcc)
						    : (unsigned)g->n_partitions;
		if (!g->partitioning || !g->driver_bound)
			continue;
		/* after a flush the GPU is in the mode it had requested */
		gc->write_memory = gc->to_memory != (c->flush && gc->pending_memory != MIPART_MEMORY_UNKNOWN
							     ? gc->pending_memory
							     : gc->from_memory);
		if (c->reload) {
			/* the reload hits every GPU of the node and brings each back in the AUTO
			 * mode: every partitioned GPU gets its compute mode written again */
			gc->disruption = MIPART_DISRUPT_MEMORY_RELOAD;
			gc->write_compute = gc->to_compute != MIPART_COMPUTE_UNKNOWN;
		} else if (gc->to_compute != gc->from_compute) {
			gc->disruption = MIPART_DISRUPT_COMPUTE;
			gc->write_compute = true;
		}
	}
	*ret = c;
	return 0;
}

mipart_change *mipart_change_free(mipart_change *c)
{
	if (!c)
		return NULL;
	free(c->gpus);
	free(c);
	return NULL;
}

size_t mipart_change_gpu_count(const mipart_change *c)
{
	return c->n;
}

const mipart_gpu_change *mipart_change_gpu(const mipart_change *c, size_t i)
{
	return i < c->n ? &c->gpus[i] : NULL;
}

bool mipart_change_needs_reload(const mipart_change *c)
{
	return c->reload;
}

bool mipart_change_needs_flush(const mipart_change *c)
{
	return c->flush;
}

bool mipart_change_is_noop(const mipart_change *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->gpus[i].disruption != MIPART_DISRUPT_NONE)
			return false;
	return true;
}

size_t mipart_change_problem_count(const mipart_change *c)
{
	return c->n_problems;
}

const mipart_change_problem *mipart_change_problem_get(const mipart_change *c, size_t i)
{
	return i < c->n_problems ? &c->problems[i] : NULL;
}
