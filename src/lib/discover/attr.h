/* SPDX-License-Identifier: MIT */
#ifndef MIPART_ATTR_H
#define MIPART_ATTR_H

#include <stddef.h>

#include "mipart/mode.h"

/*
 * Parsers for the amdgpu partition attribute files, exactly as the kernel writes them.
 * Each takes the bytes read (buf, len; buf need not be NUL-terminated at len) and returns 0,
 * or -EBADMSG when the bytes are not what the kernel writes. Outputs are untouched on failure.
 */

/* current_compute_partition: "SPX\n" ... "CPX\n" (amdgpu_gfx.c:
 * amdgpu_gfx_get_current_compute_partition, sysfs_emit(buf, "%s\n", partition_mode)). */
int attr_parse_compute_mode(const char *buf, size_t len, mipart_compute_mode *ret);

/* current_memory_partition: "NPS1\n" ... or "UNKNOWN\n" (amdgpu_gmc.c:
 * current_memory_partition_show). "UNKNOWN" parses to MIPART_MEMORY_UNKNOWN. */
int attr_parse_memory_mode(const char *buf, size_t len, mipart_memory_mode *ret);

/* available_compute_partition / supported_xcp_configs: "SPX, DPX, QPX, CPX\n", or
 * "Not supported\n" for the empty set (amdgpu_gfx.c: amdgpu_gfx_get_available_compute_partition;
 * amdgpu_xcp.c: supported_xcp_configs_show). Names in enum order, no duplicates. */
int attr_parse_compute_list(const char *buf, size_t len, mipart_mode_set *ret);

/* available_memory_partition / supported_nps_configs: "NPS1, NPS4\n" (amdgpu_gmc.c:
 * available_memory_partition_show). */
int attr_parse_memory_list(const char *buf, size_t len, mipart_mode_set *ret);

#endif
