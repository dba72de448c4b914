/* SPDX-License-Identifier: MIT */
/*
 * Post-change actions: what must follow the partitions once a change (or a recovery) has left
 * the host in a known state, such as a scheduler's view of the node (Slurm's gres.conf). The
 * engine (apply.h) runs every action of the list after the change, under the host lock; each
 * action decides from the host's own settings whether it has anything to do.
 */
#ifndef MIPART_POSTCHANGE_H
#define MIPART_POSTCHANGE_H

#include <stddef.h>

#include "host.h"

/* One action: returns 1 when it did its work, 0 when the host is not set up for it, or -errno
 * with a message for people in msg. */
typedef struct mipart_post_change_action {
	const char *name;
	int (*run)(const mipart_host *host, char *msg, size_t msg_size);
} mipart_post_change_action;

/* Called for each action that failed. */
typedef void (*mipart_post_change_report)(void *userdata, const char *name, int err,
					  const char *msg);

/* The built-in actions, ending with { NULL, NULL }. Static. */
const mipart_post_change_action *mipart_post_change_actions(void);

/*
 * mipart_post_change_run - run every action in list order; a failure does not stop the
 * others (it is reported through report, which may be NULL). Returns the number of failures.
 */
int mipart_post_change_run(const mipart_host *host, mipart_post_change_report report,
			   void *userdata);

#endif
