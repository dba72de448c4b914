/* SPDX-License-Identifier: MIT */
#ifndef MIPART_KFD_H
#define MIPART_KFD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The KFD topology "properties" files: "key value\n" lines with unsigned decimal values
 * (amdkfd/kfd_topology.c: node_show, mem_show). The key tables below are in the order the
 * kernel prints them; the simulator writes them from the same tables.
 */

/* Keys of nodes/N/properties, in node_show order. */
enum kfd_node_key {
	KFD_CPU_CORES_COUNT,
	KFD_SIMD_COUNT,
	KFD_MEM_BANKS_COUNT,
	KFD_CACHES_COUNT,
	KFD_IO_LINKS_COUNT,
	KFD_P2P_LINKS_COUNT,
	KFD_CPU_CORE_ID_BASE,
	KFD_SIMD_ID_BASE,
	KFD_MAX_WAVES_PER_SIMD,
	KFD_LDS_SIZE_IN_KB,
	KFD_GDS_SIZE_IN_KB,
	KFD_NUM_GWS,
	KFD_WAVE_FRONT_SIZE,
	KFD_ARRAY_COUNT,
	KFD_SIMD_ARRAYS_PER_ENGINE,
	KFD_CU_PER_SIMD_ARRAY,
	KFD_SIMD_PER_CU,
	KFD_MAX_SLOTS_SCRATCH_CU,
	KFD_GFX_TARGET_VERSION,
	KFD_VENDOR_ID,
	KFD_DEVICE_ID,
	KFD_LOCATION_ID,
	KFD_DOMAIN,
	KFD_DRM_RENDER_MINOR,
	KFD_HIVE_ID,
	KFD_NUM_SDMA_ENGINES,
	KFD_NUM_SDMA_XGMI_ENGINES,
	KFD_NUM_SDMA_QUEUES_PER_ENGINE,
	KFD_NUM_CP_QUEUES,
	/* printed for GPU nodes only (node_show: "if (dev->gpu)") */
	KFD_MAX_ENGINE_CLK_FCOMPUTE,
	KFD_LOCAL_MEM_SIZE,
	KFD_FW_VERSION,
	KFD_CAPABILITY,
	KFD_CAPABILITY2,
	KFD_DEBUG_PROP,
	KFD_SDMA_FW_VERSION,
	KFD_UNIQUE_ID,
	KFD_NUM_XCC,
	/* printed for every node, last */
	KFD_MAX_ENGINE_CLK_CCOMPUTE,
	KFD_NODE_KEY_COUNT
};

/* Keys of nodes/N/mem_banks/M/properties, in mem_show order. */
enum kfd_mem_key {
	KFD_MEM_HEAP_TYPE,
	KFD_MEM_SIZE_IN_BYTES,
	KFD_MEM_FLAGS,
	KFD_MEM_WIDTH,
	KFD_MEM_MEM_CLK_MAX,
	KFD_MEM_KEY_COUNT
};

/* HSA heap types (kfd_crat.h: HSA_MEM_HEAP_TYPE_*) */
#define KFD_HEAP_SYSTEM 0
#define KFD_HEAP_FB_PUBLIC 1
#define KFD_HEAP_FB_PRIVATE 2

struct kfd_key_def {
	const char *name;
	bool gpu_only;
	bool wide; /* printed with %llu; the others with %u (32 bits) */
};

extern const struct kfd_key_def kfd_node_keys[KFD_NODE_KEY_COUNT];
extern const struct kfd_key_def kfd_mem_keys[KFD_MEM_KEY_COUNT];

/* Values of one properties file; bit k of present says whether key k was in the file. */
struct kfd_props {
	uint64_t v[KFD_NODE_KEY_COUNT];
	uint64_t present;
};

/* Where a parse failed: 1-based line and a message ("value of 'simd_count' is not a number"). */
struct kfd_parse_error {
	unsigned line;
	char msg[128];
};

/*
 * kfd_parse_properties - parse a properties file against a key table (kfd_node_keys or
 * kfd_mem_keys, n keys). Unknown keys are skipped (newer kernels add keys). Returns 0, or
 * -EBADMSG / -ERANGE with *err filled; *ret is then untouched.
 */
int kfd_parse_properties(const char *buf, size_t len, const struct kfd_key_def *keys, size_t n,
			 struct kfd_props *ret, struct kfd_parse_error *err);

static inline bool kfd_has(const struct kfd_props *p, unsigned key)
{
	return (p->present >> key) & 1;
}

#endif
