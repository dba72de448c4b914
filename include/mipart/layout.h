/* SPDX-License-Identifier: MIT */
/*
 * Layouts: what a named config of a partition file (config.h) asks of the GPUs of a host. The
 * parser checks the file alone; this checks it against the host: devices that exist, product
 * filters, and that no GPU is selected twice.
 */
#ifndef MIPART_LAYOUT_H
#define MIPART_LAYOUT_H

#include <stddef.h>

#include "change.h"
#include "config.h"
#include "topology.h"

/*
 * mipart_layout_resolve - fill targets (one per GPU of topo, index order) from the entries of
 * set. GPUs no entry selects are left unselected. Returns 0, or -EINVAL with the position of
 * the offending entry or device in *ret_line / *ret_column and a message in msg ("no GPU 9 on
 * this host (it has GPUs 0 to 7)"); -ENOENT likewise for a device that does not exist.
 */
int mipart_layout_resolve(const mipart_config_set *set, const mipart_topology *topo,
			  mipart_target *targets, size_t n, unsigned *ret_line, unsigned *ret_column,
			  char *msg, size_t msg_size);

#endif
