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

#endif
