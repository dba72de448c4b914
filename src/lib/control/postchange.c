// SPDX-License-Identifier: MIT
/*
 * Post-change actions: the list the engine runs after a change left the host in a known state
 * (mipart_apply, mipart_recover). An integration that must follow the partitions adds one
 * entry here; it reads its own settings and returns 0 when the host does not use it.
 */
#include <stdio.h>

#include "mipart/postchange.h"
#include "mipart/slurm.h"
#include "banned.h"

static const mipart_post_change_action actions[] = {
	{ "slurm-gres", mipart_slurm_after_change },
	{ NULL, NULL },
};

const mipart_post_change_action *mipart_post_change_actions(void)
{
	return actions;
}

int mipart_post_change_run(const mipart_host *host, mipart_post_change_report report,
			   void *userdata)
{
	int failed = 0;

	for (const mipart_post_change_action *a = actions; a->name; a++) {
		char msg[512] = "";
		int r = a->run(host, msg, sizeof(msg));

		if (r < 0) {
			failed++;
			if (report)
				report(userdata, a->name, r, msg);
		}
	}
	return failed;
}
