/* SPDX-License-Identifier: MIT */
/*
 * Monitoring documents: one snapshot of the host (topology, per-partition readings, processes,
 * allocations from the ledger, drift against the journal's last changes) rendered as the
 * Prometheus text exposition (/metrics), the status JSON (/api/v1/status, `top --json`), and
 * read by `mipart top`. See docs/monitoring.md.
 */
#ifndef MIPART_CLI_MONITOR_H
#define MIPART_CLI_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "mipart/host.h"
#include "mipart/procs.h"
#include "mipart/readings.h"
#include "mipart/topology.h"

typedef struct monitor_snapshot monitor_snapshot;

#define MONITOR_ROW_PIDS 8	/* processes named per partition (all are counted) */

/* One partition with what runs on it; pointers are owned by the snapshot. */
struct monitor_row {
	const mipart_partition_info *part;
	const mipart_gpu_info *gpu;
	const mipart_partition_reading *reading;	/* NULL when unknown */
	const mipart_proc_info *pids[MONITOR_ROW_PIDS];
	size_t n_pids;		/* processes using the partition */
	int64_t booked_bytes;	/* the ledger's bookings on it */
	size_t n_allocs;
	char models[256];	/* models of those allocations, comma-separated, each once */
	char allocations[256];	/* their names */
};

/*
 * monitor_collect - read everything once from the host. Problems with single sources (a
 * metrics file that does not parse, a database that cannot be opened) do not fail the
 * collection: they become warnings inside the snapshot (monitor_warning*). Returns 0 and
 * *ret (free with monitor_free), -ENOMEM, or -ENOENT when the host cannot be read at all.
 */
int monitor_collect(const mipart_host *host, monitor_snapshot **ret);
monitor_snapshot *monitor_free(monitor_snapshot *s);

/* Prometheus text exposition format 0.0.4 of the snapshot: a new NUL-terminated string in
 * *ret_text (free()), its length in *ret_len. 0 or -ENOMEM. */
int monitor_prometheus(const monitor_snapshot *s, char **ret_text, size_t *ret_len);

/* The status document (the `list --json` document plus readings, processes, allocations and
 * drift). New reference; NULL on -ENOMEM. */
json_t *monitor_status_json(const monitor_snapshot *s);

/* Rows in the topology's partition order (by GPU, then XCP). */
size_t monitor_row_count(const monitor_snapshot *s);
const struct monitor_row *monitor_row(const monitor_snapshot *s, size_t i);
/* A row as JSON (top --json): new reference, NULL on -ENOMEM. */
json_t *monitor_row_json(const struct monitor_row *r);

const mipart_topology *monitor_topology(const monitor_snapshot *s);
const mipart_readings *monitor_readings(const monitor_snapshot *s);
double monitor_collected_at(const monitor_snapshot *s);

/* Whether GPU gpu has the modes of the last change that finished ("done"); *ret_known false
 * (and true returned) when no such change names it. */
bool monitor_gpu_in_sync(const monitor_snapshot *s, size_t gpu, bool *ret_known);

size_t monitor_warning_count(const monitor_snapshot *s);
const char *monitor_warning(const monitor_snapshot *s, size_t i);

#endif
