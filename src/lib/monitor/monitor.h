/* SPDX-License-Identifier: MIT */
/*
 * Inside libmipart and for the mipart tool: the monitoring documents as jansson objects (the
 * public API in mipart/monitor.h gives them as text).
 */
#ifndef MIPART_MONITOR_INTERNAL_H
#define MIPART_MONITOR_INTERNAL_H

#include <jansson.h>

#include "mipart/monitor.h"

/* The status document; new reference, NULL on -ENOMEM. */
json_t *monitor_status_json(const mipart_monitor *m);
/* A row as `top --json` prints it; new reference, NULL on -ENOMEM. */
json_t *monitor_row_json(const mipart_monitor_row *r);
/* The `status --json` / `list --json` document: {"gpus": [...], "warnings": [...]}; procs may
 * be NULL. New reference, NULL on -ENOMEM. */
json_t *monitor_topology_json(const mipart_topology *t, const mipart_procs *procs);

/* For the status page (page.c): the host name, the newest finished change (NULL when none;
 * owned by the snapshot), and the modes the last "done" change declared for GPU gpu (false
 * when none names it). */
const char *monitor_hostname(const mipart_monitor *m);
struct mipart_journal_entry;
const struct mipart_journal_entry *monitor_last_change(const mipart_monitor *m);
bool monitor_declared(const mipart_monitor *m, size_t gpu, mipart_compute_mode *ret_compute,
		      mipart_memory_mode *ret_memory);

#endif
