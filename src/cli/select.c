// SPDX-License-Identifier: MIT
/*
 * GPU selection as amd-smi takes it: "-g 0,2", "-g 0000:05:00.0", "-g all", and a partition
 * named "G.X". Shared by every verb that acts on GPUs or partitions.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "banned.h"

int cli_select_gpus(const mipart_topology *t, const char *spec, bool *selected)
{
	size_t n = mipart_topology_gpu_count(t);
	char buf[1024];
	char *save = NULL, *tok;

	if (!spec || !*spec) {
		cli_error("empty GPU selection: give indices, PCI addresses or 'all'");
		return -EINVAL;
	}
	if (strlen(spec) >= sizeof(buf)) {
		cli_error("GPU selection too long");
		return -EINVAL;
	}
	memcpy(buf, spec, strlen(spec) + 1);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		bool found = false;

		if (!strcasecmp(tok, "all")) {
			for (size_t i = 0; i < n; i++)
				selected[i] = true;
			continue;
		}
		if (strchr(tok, ':')) {
			for (size_t i = 0; i < n; i++)
				if (!strcasecmp(mipart_topology_gpu(t, i)->bdf, tok) ||
				    !strcasecmp(mipart_topology_gpu(t, i)->bdf + 5, tok)) {
					selected[i] = true;
					found = true;
				}
		} else {
			char *end;
			unsigned long v;

			errno = 0;
			v = strtoul(tok, &end, 10);
			if (!errno && *end == '\0' && tok[0] >= '0' && tok[0] <= '9' && v < n) {
				selected[v] = true;
				found = true;
			}
		}
		if (!found) {
			cli_error("no GPU '%s' (this host has GPUs 0 to %zu; 'mipart status' lists them)",
				  tok, n ? n - 1 : 0);
			return -ENOENT;
		}
	}
	return 0;
}

