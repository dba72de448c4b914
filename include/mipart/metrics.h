/* SPDX-License-Identifier: MIT */
/*
 * Decoders for the amdgpu metrics tables of MI300-class GPUs (SMU 13.0.6 / 13.0.12 / 13.0.14):
 * the per-GPU /sys/bus/pci/devices/<bdf>/gpu_metrics (amdgpu_pm.c: amdgpu_get_gpu_metrics) and
 * the per-partition .../xcp/xcp_metrics (amdgpu_xcp.c: xcp_metrics_show). Both are little-endian
 * binary tables that start with struct metrics_table_header (kgd_pp_interface.h). Layouts,
 * sources and what is uncertain: docs/metrics.md.
 */
#ifndef MIPART_METRICS_H
#define MIPART_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* NUM_XCP and MAX_XCC of kgd_pp_interface.h */
#define MIPART_METRICS_XCP_MAX 8
#define MIPART_METRICS_XCC_MAX 8

/*
 * One decoded gpu_metrics table. A value the table does not carry, or carries as "not
 * available" (all ones: the kernel fills the table with 0xFF before it writes the fields it
 * knows, smu_cmn.c: smu_cmn_init_soft_gpu_metrics), is -1; so is a value too large for its
 * field here.
 */
typedef struct mipart_gpu_metrics {
	unsigned format_revision, content_revision;
	int temperature_hotspot_c, temperature_mem_c, temperature_vrsoc_c;
	int socket_power_w;			/* curr_socket_power */
	int gfx_activity_pct, umc_activity_pct; /* average_gfx_activity, average_umc_activity */
	int64_t energy_accumulator;		/* raw, 15.259 uJ (2^-16 J) units */
	int64_t system_clock_counter_ns;	/* driver timestamp */
	int gfxclk_mhz[MIPART_METRICS_XCC_MAX]; /* current_gfxclk per XCC */
	int uclk_mhz;				/* current_uclk */
	int num_partition;			/* -1: the table has no partition data */
	/* xcp_stats[xcp].gfx_busy_inst[i] (v1.6-v1.8): i-th XCC of partition xcp, in % */
	int xcp_busy_pct[MIPART_METRICS_XCP_MAX][MIPART_METRICS_XCC_MAX];
	int64_t xcp_busy_acc[MIPART_METRICS_XCP_MAX][MIPART_METRICS_XCC_MAX]; /* gfx_busy_acc */
	/* gfx_busy_inst[i] / gfx_busy_acc[i] of the whole GPU by XCC (v1.9 only: it has no
	 * per-partition data; smu_v13_0_6_ppt.c: smu_v13_0_6_get_gpu_metrics) */
	int gfx_busy_pct[MIPART_METRICS_XCC_MAX];
	int64_t gfx_busy_acc[MIPART_METRICS_XCC_MAX];
} mipart_gpu_metrics;

/* One decoded xcp_metrics table (partition metrics); -1 as above. */
typedef struct mipart_xcp_metrics {
	unsigned format_revision, content_revision;
	int gfxclk_mhz[MIPART_METRICS_XCC_MAX];	  /* current_gfxclk per XCC of the partition */
	int uclk_mhz;				  /* current_uclk */
	int busy_pct[MIPART_METRICS_XCC_MAX];	  /* gfx_busy_inst per XCC of the partition */
	int64_t busy_acc[MIPART_METRICS_XCC_MAX]; /* gfx_busy_acc */
} mipart_xcp_metrics;

/*
 * mipart_gpu_metrics_parse - decode one gpu_metrics table as read from sysfs (buf, len).
 * Accepts format 1, content 4 to 9 (content 6 in its two kernel layouts, by size).
 * mipart_xcp_metrics_parse - the same for xcp_metrics: format 1, content 0 and 1.
 *
 * Returns 0 and fills *ret; -EPROTO for a format/content revision this code does not know (the
 * caller says "gpu_metrics v1.N not supported"); -EBADMSG for a table that is truncated, whose
 * structure_size disagrees with len or with the revision's size, whose attr_count or field runs
 * past the end, with a field type above 7 or a field with 0 values, or with bytes after the
 * last field. Never reads past buf + len; a len above 64 KiB is -EBADMSG (structure_size is 16
 * bits). *ret is not written on failure.
 */
int mipart_gpu_metrics_parse(const void *buf, size_t len, mipart_gpu_metrics *ret);
int mipart_xcp_metrics_parse(const void *buf, size_t len, mipart_xcp_metrics *ret);

/*
 * mipart_gpu_metrics_xcp_busy - average gfx busy % over the valid XCC entries of partition xcp
 * (each clamped to 0..100, rounded); -1 when none is valid, xcp is out of range or m is NULL.
 * mipart_xcp_metrics_busy - the same over a partition table.
 */
int mipart_gpu_metrics_xcp_busy(const mipart_gpu_metrics *m, unsigned xcp);
int mipart_xcp_metrics_busy(const mipart_xcp_metrics *m);

#endif
