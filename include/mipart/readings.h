/* SPDX-License-Identifier: MIT */
/*
 * Readings: what each GPU and each partition is doing now, read from the kernel. Per GPU the
 * gpu_metrics table (power, temperatures, activity, clocks) and the VRAM counters; per partition
 * the gfx busy % of its XCCs (xcp/xcp_metrics, else the gpu_metrics XCP stats), and the VRAM
 * its processes hold (KFD's per-process vram_<gpu_id> files, summed). See docs/monitoring.md.
 */
#ifndef MIPART_READINGS_H
#define MIPART_READINGS_H

#include <stddef.h>
#include <stdint.h>

#include "host.h"
#include "topology.h"

typedef struct mipart_readings mipart_readings;

/* Where a partition's busy figure came from. */
typedef enum mipart_busy_source {
	MIPART_BUSY_NONE = 0,		/* no metrics: unknown */
	MIPART_BUSY_XCP_METRICS,	/* the partition's xcp/xcp_metrics, gfx_busy_inst */
	MIPART_BUSY_GPU_METRICS,	/* the GPU's gpu_metrics, xcp_stats[xcp].gfx_busy_inst */
	MIPART_BUSY_GPU_ACTIVITY,	/* one partition (SPX): the GPU's average_gfx_activity */
} mipart_busy_source;

/* Unknown numbers are -1. */
typedef struct mipart_gpu_reading {
	int power_w;		/* curr_socket_power */
	int temp_hotspot_c;
	int temp_mem_c;
	int gfx_activity_pct;	/* average_gfx_activity */
	int umc_activity_pct;	/* average_umc_activity (memory controller) */
	int gfxclk_mhz;		/* mean current_gfxclk over the XCCs that report one */
	int uclk_mhz;		/* memory clock */
	int64_t vram_used_bytes;	/* mem_info_vram_used, else KFD used_memory */
	int64_t vram_total_bytes;	/* from discovery */
	char metrics[24];	/* "gpu_metrics v1.8", or "" when there is no table */
} mipart_gpu_reading;

typedef struct mipart_partition_reading {
	int busy_pct;
	mipart_busy_source busy_source;
	int gfxclk_mhz;
	int64_t vram_used_bytes;	/* sum of KFD per-process VRAM on this partition's node;
					 * -1 when KFD's process directory cannot be read */
	unsigned processes;		/* KFD processes with memory on this node */
} mipart_partition_reading;

/*
 * mipart_readings_load - read the metrics of every GPU and partition of topo. A file that is
 * missing leaves its values unknown; one that does not parse is also a diagnostic. Returns 0
 * and *ret (free with mipart_readings_free), or -ENOMEM.
 */
int mipart_readings_load(const mipart_host *host, const mipart_topology *topo,
			 mipart_readings **ret);
mipart_readings *mipart_readings_free(mipart_readings *r);

/* By GPU index, and by partition position i of mipart_topology_partition(topo, i) (not the
 * logical index); NULL when out of range. */
const mipart_gpu_reading *mipart_readings_gpu(const mipart_readings *r, size_t gpu);
const mipart_partition_reading *mipart_readings_partition(const mipart_readings *r, size_t i);

size_t mipart_readings_diag_count(const mipart_readings *r);
const char *mipart_readings_diag(const mipart_readings *r, size_t i);

/* "xcp_metrics", "gpu_metrics", "gpu_activity", "none" */
const char *mipart_busy_source_name(mipart_busy_source s);

#endif
