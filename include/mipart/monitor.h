/* SPDX-License-Identifier: MIT */
/*
 * Monitoring snapshots: one reading of the whole host at once (topology, per-GPU and
 * per-partition readings, processes, the ledger's allocations, drift against the journal's last
 * finished change), one row per partition, and its renderings: the Prometheus text exposition
 * (`mipart serve` /metrics, `top --prometheus`) and the status JSON (/api/v1/status). The same
 * snapshot serves `mipart top`, `mipart serve`, the Python binding and any agent, so they agree.
 * See docs/monitoring.md.
 */
#ifndef MIPART_MONITOR_H
#define MIPART_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host.h"
#include "procs.h"
#include "readings.h"
#include "topology.h"

typedef struct mipart_monitor mipart_monitor;

#define MIPART_MONITOR_ROW_PIDS 8	/* processes named per partition (all are counted) */
/* process series in the exposition (mipart_process_vram_bytes): the largest (process,
 * partition) pairs of the host; the rest go into one process_id="other" series per partition */
#define MIPART_MONITOR_PROCESS_SERIES 32

/* One partition with what runs on it. Every pointer is owned by the snapshot and lives as long
 * as it does. */
typedef struct mipart_monitor_row {
	const mipart_partition_info *part;
	const mipart_gpu_info *gpu;
	const mipart_partition_reading *reading;	/* NULL when unknown */
	const mipart_proc_info *pids[MIPART_MONITOR_ROW_PIDS];
	size_t n_pids;		/* processes using the partition (only the first 8 in pids) */
	int64_t booked_bytes;	/* the ledger's bookings on it */
	size_t n_allocs;
	char models[256];	/* models of those allocations, comma-separated, each once */
	char allocations[256];	/* their names */
	/* added in 0.2 (rows are the library's; fields are only added at the end): the resident
	 * VRAM each of pids holds on this partition (DRM fdinfo, procs.h), -1 when unknown */
	int64_t pid_vram[MIPART_MONITOR_ROW_PIDS];
} mipart_monitor_row;

/*
 * mipart_monitor_collect - read everything once from the host. Problems with single sources (a
 * metrics file that does not parse, a database that cannot be opened) do not fail the
 * collection: they become warnings of the snapshot (mipart_monitor_warning). Returns 0 and *ret
 * (free with mipart_monitor_free), -ENOMEM, or the error of mipart_topology_load when the host
 * cannot be read at all (-ENOENT ...). *ret is untouched on failure.
 */
int mipart_monitor_collect(const mipart_host *host, mipart_monitor **ret);
/* Frees the snapshot and everything it owns; accepts NULL; returns NULL. */
mipart_monitor *mipart_monitor_free(mipart_monitor *m);

/* Which series mipart_monitor_prometheus writes (a bit set; 0 means MIPART). */
#define MIPART_MONITOR_SERIES_MIPART 0x1u	/* the mipart_* families */
#define MIPART_MONITOR_SERIES_AMD 0x2u		/* AMD device-metrics-exporter's gpu_* families */

/*
 * mipart_monitor_prometheus - the Prometheus text exposition format 0.0.4 of the snapshot, the
 * families series selects. A new NUL-terminated string in *ret_text (the caller free()s it),
 * its length in *ret_len. Returns 0, -ENOMEM, or -E2BIG past 16 MiB.
 */
int mipart_monitor_prometheus(const mipart_monitor *m, unsigned series, char **ret_text,
			      size_t *ret_len);

/*
 * mipart_monitor_status_json - the status document (the `list --json` document plus readings,
 * processes, allocations, drift and the last change) as compact JSON text in *ret_text (the
 * caller free()s it), its length in *ret_len. 0 or -ENOMEM.
 */
int mipart_monitor_status_json(const mipart_monitor *m, char **ret_text, size_t *ret_len);

/*
 * mipart_monitor_html - the status page of the snapshot: one self-contained HTML document (no
 * external assets; a short script refreshes it from /api/v1/status), every name escaped. A new
 * NUL-terminated string in *ret_text (the caller free()s it), its length in *ret_len. Returns
 * 0, -ENOMEM, or -E2BIG past 4 MiB.
 */
int mipart_monitor_html(const mipart_monitor *m, char **ret_text, size_t *ret_len);

/* Rows in the topology's partition order (by GPU, then XCP); NULL out of range. */
size_t mipart_monitor_row_count(const mipart_monitor *m);
const mipart_monitor_row *mipart_monitor_row_get(const mipart_monitor *m, size_t i);

/* Row i as the JSON object `top --json` prints, compact text in *ret_text (free()). 0, -ENOENT
 * (no such row) or -ENOMEM. */
int mipart_monitor_row_json(const mipart_monitor *m, size_t i, char **ret_text);

/* The snapshot's parts (owned by it). */
const mipart_topology *mipart_monitor_topology(const mipart_monitor *m);
const mipart_readings *mipart_monitor_readings(const mipart_monitor *m);
const mipart_procs *mipart_monitor_procs(const mipart_monitor *m);	/* NULL: not listed */
double mipart_monitor_collected_at(const mipart_monitor *m);	/* Unix time */
double mipart_monitor_collect_seconds(const mipart_monitor *m);	/* how long it took */

/* Whether GPU gpu has the modes of the last change that finished "done"; *ret_known false (and
 * true returned) when no such change names it. */
bool mipart_monitor_gpu_in_sync(const mipart_monitor *m, size_t gpu, bool *ret_known);
/* 1 while a change runs or one a crash left waits for `mipart recover`, else 0. */
bool mipart_monitor_change_in_progress(const mipart_monitor *m);

/* Allocations of the ledger that book a partition the host does not have now. */
size_t mipart_monitor_allocations_orphaned(const mipart_monitor *m);

/* Problems met while reading (owned by the snapshot; NULL out of range). */
size_t mipart_monitor_warning_count(const mipart_monitor *m);
const char *mipart_monitor_warning(const mipart_monitor *m, size_t i);

#endif
