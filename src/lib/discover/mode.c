// SPDX-License-Identifier: MIT
/*
 * Compute (XCP) and memory (NPS) partition modes: names, parsing, and the kernel's rules for
 * how many partitions a mode makes and which compute/memory pairs the driver accepts. The rules
 * are those of drivers/gpu/drm/amd/amdgpu/aqua_vanjaram.c and amdgpu_xcp.c (GC 9.4.3); see
 * ../shared/HARDWARE.md sections 2.3 and 4.2.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mipart/mode.h"
#include "util.h"
#include "banned.h"

/* amdgpu_xcp.c: xcp_desc[] order = enum amdgpu_gfx_partition */
static const char *const compute_names[MIPART_COMPUTE_MODE_COUNT] = { "SPX", "DPX", "TPX", "QPX",
								       "CPX" };

/* amdgpu_gmc.c: nps_desc[] indexed by enum amdgpu_memory_partition */
static const char *const memory_names[9] = {
	[MIPART_MEMORY_UNKNOWN] = "UNKNOWN", [MIPART_MEMORY_NPS1] = "NPS1",
	[MIPART_MEMORY_NPS2] = "NPS2",	     [MIPART_MEMORY_NPS3] = "NPS3",
	[MIPART_MEMORY_NPS4] = "NPS4",	     [MIPART_MEMORY_NPS6] = "NPS6",
	[MIPART_MEMORY_NPS8] = "NPS8",
};

const char *mipart_compute_mode_name(mipart_compute_mode mode)
{
	if (mode < 0 || mode >= MIPART_COMPUTE_MODE_COUNT)
		return "UNKNOWN";
	return compute_names[mode];
}

const char *mipart_memory_mode_name(mipart_memory_mode mode)
{
	if ((unsigned)mode >= ARRAY_SIZE(memory_names) || !memory_names[mode])
		return "UNKNOWN";
	return memory_names[mode];
}

int mipart_compute_mode_parse(const char *s, mipart_compute_mode *ret_mode)
{
	for (int m = 0; m < MIPART_COMPUTE_MODE_COUNT; m++)
		if (!strcasecmp(s, compute_names[m])) {
			*ret_mode = (mipart_compute_mode)m;
			return 0;
		}
	return -EINVAL;
}

int mipart_memory_mode_parse(const char *s, mipart_memory_mode *ret_mode)
{
	for (unsigned m = 1; m < ARRAY_SIZE(memory_names); m++)
		if (memory_names[m] && !strcasecmp(s, memory_names[m])) {
			*ret_mode = (mipart_memory_mode)m;
			return 0;
		}
	return -EINVAL;
}

/* aqua_vanjaram.c: __aqua_vanjaram_get_xcc_per_xcp */
unsigned mipart_compute_mode_partitions(mipart_compute_mode mode, unsigned num_xcc)
{
	unsigned per;

	switch (mode) {
	case MIPART_COMPUTE_SPX:
		return num_xcc ? 1 : 0;
	case MIPART_COMPUTE_DPX:
		per = num_xcc / 2;
		break;
	case MIPART_COMPUTE_TPX:
		per = num_xcc / 3;
		break;
	case MIPART_COMPUTE_QPX:
		per = num_xcc / 4;
		break;
	case MIPART_COMPUTE_CPX:
		per = 1;
		break;
	default:
		return 0;
	}
	if (!(mipart_compute_modes_supported(num_xcc) & MIPART_MODE_BIT(mode)) || per == 0)
		return 0;
	return num_xcc / per;
}

/*
 * amdgpu_gmc.c: amdgpu_gmc_init_sw_mem_ranges - on an APU NPS4 yields 3 ranges
 * ("if (adev->flags & AMD_IS_APU) num_mem_partitions = 3").
 */
unsigned mipart_memory_mode_partitions(mipart_memory_mode mode, bool is_apu)
{
	if (mode == MIPART_MEMORY_NPS4 && is_apu)
		return 3;
	if (mode == MIPART_MEMORY_UNKNOWN || (unsigned)mode > MIPART_MEMORY_NPS8)
		return 0;
	return (unsigned)mode;
}

/* amdgpu_xcp.c: amdgpu_xcp_update_supported_modes */
mipart_mode_set mipart_compute_modes_supported(unsigned num_xcc)
{
	const mipart_mode_set spx = MIPART_MODE_BIT(MIPART_COMPUTE_SPX);
	const mipart_mode_set dpx = MIPART_MODE_BIT(MIPART_COMPUTE_DPX);
	const mipart_mode_set tpx = MIPART_MODE_BIT(MIPART_COMPUTE_TPX);
	const mipart_mode_set qpx = MIPART_MODE_BIT(MIPART_COMPUTE_QPX);
	const mipart_mode_set cpx = MIPART_MODE_BIT(MIPART_COMPUTE_CPX);

	switch (num_xcc) {
	case 8:
		return spx | dpx | qpx | cpx;
	case 6:
		return spx | tpx | cpx;
	case 4:
		return spx | dpx | cpx;
	case 2:
	case 1:
		return spx | cpx;
	default:
		return 0;
	}
}

/*
 * aqua_vanjaram.c: __aqua_vanjaram_get_px_mode_info (bare metal). Newest code (commit
 * "Update supported modes for GC v9.5.0"): QPX and CPX also take NPS2 on GC 9.5.0 only.
 */
mipart_mode_set mipart_memory_modes_for_compute(mipart_compute_mode mode, unsigned gfx_target)
{
	const mipart_mode_set nps1 = MIPART_MODE_BIT(MIPART_MEMORY_NPS1);
	const mipart_mode_set nps2 = MIPART_MODE_BIT(MIPART_MEMORY_NPS2);
	const mipart_mode_set nps4 = MIPART_MODE_BIT(MIPART_MEMORY_NPS4);

	switch (mode) {
	case MIPART_COMPUTE_SPX:
		return nps1;
	case MIPART_COMPUTE_DPX:
		return nps1 | nps2;
	case MIPART_COMPUTE_TPX:
		return nps1 | nps4;
	case MIPART_COMPUTE_QPX:
	case MIPART_COMPUTE_CPX:
		return nps1 | nps4 | (gfx_target == MIPART_GFX_950 ? nps2 : 0);
	default:
		return 0;
	}
}

/* aqua_vanjaram.c: __aqua_vanjaram_is_valid_mode */
bool mipart_mode_pair_valid(mipart_compute_mode mode, mipart_memory_mode nps, unsigned num_xcc,
			    unsigned gfx_target)
{
	if (!(mipart_memory_modes_for_compute(mode, gfx_target) & MIPART_MODE_BIT(nps)))
		return false;
	if (!(mipart_compute_modes_supported(num_xcc) & MIPART_MODE_BIT(mode)))
		return false;
	switch (mode) {
	case MIPART_COMPUTE_SPX:
		return num_xcc > 0;
	case MIPART_COMPUTE_DPX:
		return num_xcc % 4 == 0;
	case MIPART_COMPUTE_TPX:
		return num_xcc % 3 == 0;
	case MIPART_COMPUTE_QPX:
		return num_xcc / 4 >= 2;
	case MIPART_COMPUTE_CPX:
		return num_xcc > 1;
	default:
		return false;
	}
}

/*
 * aqua_vanjaram.c: __aqua_vanjaram_get_auto_mode: one memory partition -> SPX; as many memory
 * partitions as XCCs -> CPX; half as many -> TPX on an APU, CPX on a dGPU; two on a dGPU -> DPX.
 */
mipart_compute_mode mipart_compute_mode_auto(mipart_memory_mode nps, unsigned num_xcc, bool is_apu)
{
	unsigned nmp = mipart_memory_mode_partitions(nps, is_apu);

	if (nmp == 1)
		return MIPART_COMPUTE_SPX;
	if (nmp == 0 || num_xcc == 0)
		return MIPART_COMPUTE_UNKNOWN;
	if (nmp == num_xcc)
		return MIPART_COMPUTE_CPX;
	if (nmp == num_xcc / 2)
		return is_apu ? MIPART_COMPUTE_TPX : MIPART_COMPUTE_CPX;
	if (nmp == 2 && !is_apu)
		return MIPART_COMPUTE_DPX;
	return MIPART_COMPUTE_UNKNOWN;
}

mipart_compute_mode mipart_compute_mode_at_load(int partt, mipart_memory_mode nps, unsigned num_xcc,
						unsigned gfx_target, bool is_apu)
{
	if (partt == MIPART_USER_PARTT_AUTO)
		return mipart_compute_mode_auto(nps, num_xcc, is_apu);
	if (partt < MIPART_COMPUTE_SPX || partt > MIPART_COMPUTE_CPX)
		return MIPART_COMPUTE_UNKNOWN;
	return mipart_mode_pair_valid((mipart_compute_mode)partt, nps, num_xcc, gfx_target)
		       ? (mipart_compute_mode)partt
		       : MIPART_COMPUTE_UNKNOWN;
}

static size_t format_set(mipart_mode_set set, const char *(*name)(int), unsigned max, char *buf,
			 size_t size)
{
	char tmp[128]; /* at most 9 names of 7 characters with separators */
	size_t len = 0;

	tmp[0] = '\0';
	for (unsigned m = 0; m <= max; m++) {
		if (!(set & MIPART_MODE_BIT(m)))
			continue;
		len += (size_t)snprintf(tmp + len, sizeof(tmp) - len, "%s%s", len ? ", " : "",
					name((int)m));
	}
	util_strlcpy(buf, tmp, size);
	return len;
}

static const char *compute_name_int(int m)
{
	return mipart_compute_mode_name((mipart_compute_mode)m);
}

static const char *memory_name_int(int m)
{
	return mipart_memory_mode_name((mipart_memory_mode)m);
}

size_t mipart_compute_modes_format(mipart_mode_set set, char *buf, size_t size)
{
	return format_set(set, compute_name_int, MIPART_COMPUTE_CPX, buf, size);
}

size_t mipart_memory_modes_format(mipart_mode_set set, char *buf, size_t size)
{
	return format_set(set, memory_name_int, MIPART_MEMORY_NPS8, buf, size);
}
