/* SPDX-License-Identifier: MIT */
/*
 * Partition modes: the compute (XCP) modes and memory (NPS) modes of the amdgpu driver, with the
 * kernel's rules for which combinations are valid.
 */
#ifndef MIPART_MODE_H
#define MIPART_MODE_H

#include <stdbool.h>
#include <stddef.h>

/* Values of the kernel's enum amdgpu_gfx_partition (amdgpu/amdgpu_gfx.h). */
typedef enum mipart_compute_mode {
	MIPART_COMPUTE_UNKNOWN = -1,
	MIPART_COMPUTE_SPX = 0,
	MIPART_COMPUTE_DPX = 1,
	MIPART_COMPUTE_TPX = 2,
	MIPART_COMPUTE_QPX = 3,
	MIPART_COMPUTE_CPX = 4,
} mipart_compute_mode;

#define MIPART_COMPUTE_MODE_COUNT 5

/* Values of the kernel's enum amdgpu_memory_partition (amdgpu/amdgpu_gmc.h). */
typedef enum mipart_memory_mode {
	MIPART_MEMORY_UNKNOWN = 0,
	MIPART_MEMORY_NPS1 = 1,
	MIPART_MEMORY_NPS2 = 2,
	MIPART_MEMORY_NPS3 = 3,
	MIPART_MEMORY_NPS4 = 4,
	MIPART_MEMORY_NPS6 = 6,
	MIPART_MEMORY_NPS8 = 8,
} mipart_memory_mode;

/* A set of modes: bit (1 << mode) for each mode in the set. */
typedef unsigned mipart_mode_set;

#define MIPART_MODE_BIT(m) (1u << (unsigned)(m))

/* Name of a mode ("SPX", "NPS4"); "UNKNOWN" for anything else. Static string. */
const char *mipart_compute_mode_name(mipart_compute_mode mode);
const char *mipart_memory_mode_name(mipart_memory_mode mode);

/*
 * Parse a mode name as a person types it: exact word, case-insensitive ("cpx", "NPS4").
 * Unlike the kernel's prefix match, trailing characters are refused.
 * Returns 0 and sets *ret_mode, or -EINVAL.
 */
int mipart_compute_mode_parse(const char *s, mipart_compute_mode *ret_mode);
int mipart_memory_mode_parse(const char *s, mipart_memory_mode *ret_mode);

/* Number of partitions (XCPs) a compute mode makes on a GPU with num_xcc XCCs; 0 if invalid. */
unsigned mipart_compute_mode_partitions(mipart_compute_mode mode, unsigned num_xcc);

/* Number of memory partitions (NUMA ranges) of an NPS mode; is_apu selects the APU rule. */
unsigned mipart_memory_mode_partitions(mipart_memory_mode mode, bool is_apu);

/*
 * Compute modes the hardware supports for an XCC count, regardless of the memory mode
 * (amdgpu_xcp.c: amdgpu_xcp_update_supported_modes).
 */
mipart_mode_set mipart_compute_modes_supported(unsigned num_xcc);

/* gfx_target_version of GC 9.5.0 (MI350X, MI355X); amdkfd/kfd_device.c: kgd2kfd_probe */
#define MIPART_GFX_950 90500

/*
 * Memory modes a compute mode tolerates on bare metal for a chip with the given KFD
 * gfx_target_version (aqua_vanjaram.c: __aqua_vanjaram_get_px_mode_info; GC 9.5.0 also
 * takes NPS2 with QPX and CPX).
 */
mipart_mode_set mipart_memory_modes_for_compute(mipart_compute_mode mode, unsigned gfx_target);

/*
 * Whether the kernel accepts compute mode `mode` while memory mode `nps` is in force on a GPU
 * with num_xcc XCCs (aqua_vanjaram.c: __aqua_vanjaram_is_valid_mode).
 */
bool mipart_mode_pair_valid(mipart_compute_mode mode, mipart_memory_mode nps, unsigned num_xcc,
			    unsigned gfx_target);

/*
 * The compute mode the driver picks at load for a memory mode when amdgpu.user_partt_mode is
 * AUTO, its default (aqua_vanjaram.c: __aqua_vanjaram_get_auto_mode). UNKNOWN if none.
 */
mipart_compute_mode mipart_compute_mode_auto(mipart_memory_mode nps, unsigned num_xcc, bool is_apu);

/* amdgpu.user_partt_mode's AUTO, its default (amdgpu_drv.c: AMDGPU_AUTO_COMPUTE_PARTITION_MODE) */
#define MIPART_USER_PARTT_AUTO (-2)

/*
 * The compute mode a GPU comes up in when the driver loads with amdgpu.user_partt_mode = partt
 * while memory mode nps is in force. The cached mode starts UNKNOWN after every load, so
 * gfx_v9_4_3.c: gfx_v9_4_3_cp_resume switches to user_partt_mode (HARDWARE.md 1.5, 8.13):
 * AUTO picks from the NPS mode (mipart_compute_mode_auto); a mode goes through the switch's
 * check (aqua_vanjaram.c: __aqua_vanjaram_switch_partition_mode), and one the NPS mode does not
 * allow is refused: UNKNOWN (what the GPU then shows is not documented; this takes the stricter
 * reading, HARDWARE.md 8.6, docs/simulator.md). Any other value: UNKNOWN.
 */
mipart_compute_mode mipart_compute_mode_at_load(int partt, mipart_memory_mode nps, unsigned num_xcc,
						unsigned gfx_target, bool is_apu);

/*
 * Format a mode set as the kernel does for available_compute_partition /
 * available_memory_partition: names joined by ", " in enum order. Writes at most size bytes
 * including the NUL; returns the length it needed (like snprintf).
 */
size_t mipart_compute_modes_format(mipart_mode_set set, char *buf, size_t size);
size_t mipart_memory_modes_format(mipart_mode_set set, char *buf, size_t size);

#endif
