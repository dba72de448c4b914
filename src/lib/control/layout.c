// SPDX-License-Identifier: MIT
/*
 * Resolving a named config against a host (include/mipart/layout.h): each entry selects GPUs
 * by index, PCI address or "all", narrowed by an optional product filter (case-insensitive, as
 * the product names discovery gives); a GPU selected by two entries is an error naming both
 * lines, whichever way each names it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mipart/layout.h"
#include "banned.h"

static int fail(int r, unsigned line, unsigned column, unsigned *ret_line, unsigned *ret_column)
{
	*ret_line = line;
	*ret_column = column;
	return r;
}

int mipart_layout_resolve(const mipart_config_set *set, const mipart_topology *topo,
			  mipart_target *targets, size_t n, unsigned *ret_line, unsigned *ret_column,
			  char *msg, size_t msg_size)
{
	unsigned claimed_by[64] = { 0 }; /* line of the entry that selected each GPU */

	if (n != mipart_topology_gpu_count(topo) || n > 64) {
		snprintf(msg, msg_size, "the host has %zu GPUs; at most 64 are supported", n);
		return fail(-EINVAL, 0, 0, ret_line, ret_column);
	}
	for (size_t i = 0; i < n; i++)
		targets[i] = (mipart_target){ false, MIPART_COMPUTE_UNKNOWN, MIPART_MEMORY_UNKNOWN };

	for (size_t k = 0; k < mipart_config_set_entry_count(set); k++) {
		const mipart_config_entry *e = mipart_config_set_entry(set, k);
		bool sel[64] = { false };

		if (e->all_devices) {
			for (size_t i = 0; i < n; i++)
				sel[i] = !e->product ||
					 !strcasecmp(mipart_topology_gpu(topo, i)->product, e->product);
		}
		for (size_t d = 0; d < e->n_devices; d++) {
			const mipart_config_device *dev = &e->devices[d];
			size_t i = n;

			if (dev->is_bdf) {
				const mipart_gpu_info *g = mipart_topology_gpu_by_bdf(topo, dev->bdf);

				if (!g) {
					snprintf(msg, msg_size,
						 "no GPU at PCI address %s on this host ('mipart status' lists them)",
						 dev->bdf);
					return fail(-ENOENT, dev->line, dev->column, ret_line, ret_column);
				}
				i = g->index;
			} else {
				i = dev->index;
				if (i >= n) {
					snprintf(msg, msg_size, "no GPU %u on this host (it has GPUs 0 to %zu)",
						 dev->index, n ? n - 1 : 0);
					return fail(-ENOENT, dev->line, dev->column, ret_line, ret_column);
				}
			}
			if (e->product && strcasecmp(mipart_topology_gpu(topo, i)->product, e->product)) {
				snprintf(msg, msg_size, "GPU %zu (%s) is an %s, not an %s", i,
					 mipart_topology_gpu(topo, i)->bdf,
					 mipart_topology_gpu(topo, i)->product, e->product);
				return fail(-EINVAL, dev->line, dev->column, ret_line, ret_column);
			}
			sel[i] = true;
		}
		for (size_t i = 0; i < n; i++) {
			if (!sel[i])
				continue;
			if (claimed_by[i]) {
				snprintf(msg, msg_size,
					 "GPU %zu (%s) is selected by the entries at lines %u and %u; a GPU may be in one entry only",
					 i, mipart_topology_gpu(topo, i)->bdf, claimed_by[i], e->line);
				return fail(-EINVAL, e->line, e->column, ret_line, ret_column);
			}
			claimed_by[i] = e->line ? e->line : 1;
			targets[i] = (mipart_target){ true, e->compute, e->memory };
		}
	}
	return 0;
}
