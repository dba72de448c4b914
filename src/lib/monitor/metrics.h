/* SPDX-License-Identifier: MIT */
#ifndef MIPART_METRICS_INTERNAL_H
#define MIPART_METRICS_INTERNAL_H

#include <stddef.h>

#include "mipart/metrics.h"

/* Table sizes (kgd_pp_interface.h structs; smu_v13_0_6_ppt.h field lists), in bytes. */
#define METRICS_GPU_V1_6_SIZE 1664
#define METRICS_GPU_V1_7_SIZE 2208
#define METRICS_GPU_V1_8_SIZE 3872
#define METRICS_GPU_V1_9_SIZE 1150
#define METRICS_XCP_V1_0_SIZE 488
#define METRICS_XCP_V1_1_SIZE 594

/*
 * Encoders for the simulator: write the table the kernel would write for m, in the kernel's
 * byte order and field order, into ret_buf (size bytes). Like the kernel, the table is first
 * filled with 0xFF; a value of -1 in m stays all ones ("not available"). format_revision and
 * content_revision of m are ignored (content_revision is the argument).
 *
 * metrics_encode_gpu - content_revision 6, 7 or 8 (gpu_metrics_v1_6 in its 1664-byte layout,
 * v1_7, v1_8) writes the header, temperature_hotspot/mem/vrsoc, curr_socket_power,
 * average_gfx_activity, average_umc_activity, energy_accumulator, system_clock_counter,
 * current_gfxclk[8], current_uclk, num_partition, and xcp_stats[x].gfx_busy_inst[8] and
 * .gfx_busy_acc[8] of the 8 partitions; every other byte is 0xFF. 4 and 5 (v1_4, v1_5, older
 * kernels) write the same without num_partition and xcp_stats, which they do not have.
 * content_revision 9 (the self-describing gpu_metrics v1.9) writes all 47 attributes of
 * SMU_13_0_6_METRICS_FIELDS (smu_v13_0_6_ppt.h) in that order, each "u64 ftype" then its
 * values: the ones above (no NUM_PARTITION: v1.9 has none) with GFX_BUSY_INST / GFX_BUSY_ACC
 * taken from m->gfx_busy_pct / gfx_busy_acc, or, when all 8 of those are -1, from the valid
 * xcp_busy_* entries in partition order (the GPU's XCC order: aqua_vanjaram.c gives partition x
 * the XCCs x*n..x*n+n-1, XCP_INST_MASK); the other attributes are all ones.
 *
 * metrics_encode_xcp - content_revision 0 (amdgpu_partition_metrics_v1_0) writes
 * current_gfxclk[8], current_uclk, gfx_busy_inst[8], gfx_busy_acc[8]; 1 (partition metrics
 * v1.1) writes all 13 attributes of SMU_13_0_6_PARTITION_METRICS_FIELDS in order, those four
 * with values, the rest all ones.
 *
 * Return the length written, -EINVAL for another revision or a value that does not fit its
 * field (negative other than -1, or too large), -ENOSPC when size is too small.
 */
int metrics_encode_gpu(const mipart_gpu_metrics *m, unsigned content_revision, void *ret_buf,
		       size_t size);
int metrics_encode_xcp(const mipart_xcp_metrics *m, unsigned content_revision, void *ret_buf,
		       size_t size);

#endif
