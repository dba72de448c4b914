// SPDX-License-Identifier: MIT
/*
 * Parser for the KFD topology properties files (/sys/class/kfd/kfd/topology/nodes/N/properties
 * and mem_banks/M/properties). The kernel prints one "name value" pair per line with
 * sysfs_show_32bit_prop / sysfs_show_64bit_prop ("%s %u\n", "%s %llu\n") in a fixed order
 * (amdkfd/kfd_topology.c: node_show, mem_show). Parsing is by key, so a kernel that adds or
 * drops keys still parses; a value that is not an unsigned decimal, a 32-bit key above
 * UINT32_MAX, or a key given twice is refused with the line number.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kfd.h"
#include "util.h"
#include "banned.h"

const struct kfd_key_def kfd_node_keys[KFD_NODE_KEY_COUNT] = {
	[KFD_CPU_CORES_COUNT] = { "cpu_cores_count", false, false },
	[KFD_SIMD_COUNT] = { "simd_count", false, false },
	[KFD_MEM_BANKS_COUNT] = { "mem_banks_count", false, false },
	[KFD_CACHES_COUNT] = { "caches_count", false, false },
	[KFD_IO_LINKS_COUNT] = { "io_links_count", false, false },
	[KFD_P2P_LINKS_COUNT] = { "p2p_links_count", false, false },
	[KFD_CPU_CORE_ID_BASE] = { "cpu_core_id_base", false, false },
	[KFD_SIMD_ID_BASE] = { "simd_id_base", false, false },
	[KFD_MAX_WAVES_PER_SIMD] = { "max_waves_per_simd", false, false },
	[KFD_LDS_SIZE_IN_KB] = { "lds_size_in_kb", false, false },
	[KFD_GDS_SIZE_IN_KB] = { "gds_size_in_kb", false, false },
	[KFD_NUM_GWS] = { "num_gws", false, false },
	[KFD_WAVE_FRONT_SIZE] = { "wave_front_size", false, false },
	[KFD_ARRAY_COUNT] = { "array_count", false, false },
	[KFD_SIMD_ARRAYS_PER_ENGINE] = { "simd_arrays_per_engine", false, false },
	[KFD_CU_PER_SIMD_ARRAY] = { "cu_per_simd_array", false, false },
	[KFD_SIMD_PER_CU] = { "simd_per_cu", false, false },
	[KFD_MAX_SLOTS_SCRATCH_CU] = { "max_slots_scratch_cu", false, false },
	[KFD_GFX_TARGET_VERSION] = { "gfx_target_version", false, false },
	[KFD_VENDOR_ID] = { "vendor_id", false, false },
	[KFD_DEVICE_ID] = { "device_id", false, false },
	[KFD_LOCATION_ID] = { "location_id", false, false },
	[KFD_DOMAIN] = { "domain", false, false },
	[KFD_DRM_RENDER_MINOR] = { "drm_render_minor", false, false },
	[KFD_HIVE_ID] = { "hive_id", false, true },
	[KFD_NUM_SDMA_ENGINES] = { "num_sdma_engines", false, false },
	[KFD_NUM_SDMA_XGMI_ENGINES] = { "num_sdma_xgmi_engines", false, false },
	[KFD_NUM_SDMA_QUEUES_PER_ENGINE] = { "num_sdma_queues_per_engine", false, false },
	[KFD_NUM_CP_QUEUES] = { "num_cp_queues", false, false },
	[KFD_MAX_ENGINE_CLK_FCOMPUTE] = { "max_engine_clk_fcompute", true, false },
	[KFD_LOCAL_MEM_SIZE] = { "local_mem_size", true, true },
	[KFD_FW_VERSION] = { "fw_version", true, false },
	[KFD_CAPABILITY] = { "capability", true, false },
	[KFD_CAPABILITY2] = { "capability2", true, false },
	[KFD_DEBUG_PROP] = { "debug_prop", true, true },
	[KFD_SDMA_FW_VERSION] = { "sdma_fw_version", true, false },
	[KFD_UNIQUE_ID] = { "unique_id", true, true },
	[KFD_NUM_XCC] = { "num_xcc", true, false },
	[KFD_MAX_ENGINE_CLK_CCOMPUTE] = { "max_engine_clk_ccompute", false, false },
};

const struct kfd_key_def kfd_mem_keys[KFD_MEM_KEY_COUNT] = {
	[KFD_MEM_HEAP_TYPE] = { "heap_type", false, false },
	[KFD_MEM_SIZE_IN_BYTES] = { "size_in_bytes", false, true },
	[KFD_MEM_FLAGS] = { "flags", false, false },
	[KFD_MEM_WIDTH] = { "width", false, false },
	[KFD_MEM_MEM_CLK_MAX] = { "mem_clk_max", false, false },
};

/* Fill *err with "<pre> '<key>'<post>" (key cut at 40 bytes) and return r. */
static int fail(struct kfd_parse_error *err, unsigned line, int r, const char *pre, const char *key,
		size_t keylen, const char *post)
{
	if (err) {
		err->line = line;
		snprintf(err->msg, sizeof(err->msg), "%s '%.*s'%s", pre,
			 (int)(keylen > 40 ? 40 : keylen), key, post);
	}
	return r;
}

int kfd_parse_properties(const char *buf, size_t len, const struct kfd_key_def *keys, size_t n,
			 struct kfd_props *ret, struct kfd_parse_error *err)
{
	struct kfd_props p = { 0 };
	unsigned line = 0;
	size_t pos = 0;
	size_t hint = 0; /* the kernel prints keys in table order: try the next one first */

	while (pos < len) {
		const char *s = buf + pos, *nl = memchr(s, '\n', len - pos), *sp;
		size_t llen = nl ? (size_t)(nl - s) : len - pos;
		size_t klen, vlen, k;
		uint64_t v;
		int r;

		line++;
		pos += llen + (nl ? 1 : 0);
		/* the name: [a-z0-9_]+ up to the first space */
		sp = memchr(s, ' ', llen);
		if (!sp || sp == s)
			return fail(err, line, -EBADMSG, "line is not 'name value':", s, llen, "");
		klen = (size_t)(sp - s);
		for (size_t i = 0; i < klen; i++) {
			char c = s[i];

			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
				return fail(err, line, -EBADMSG, "bad property name", s, klen, "");
		}
		vlen = llen - klen - 1;
		k = hint < n && !strncmp(keys[hint].name, s, klen) && keys[hint].name[klen] == '\0'
			    ? hint
			    : n;
		for (size_t i = 0; k == n && i < n; i++)
			if (!strncmp(keys[i].name, s, klen) && keys[i].name[klen] == '\0')
				k = i;
		if (k == n)
			continue; /* a key this version does not know */
		hint = k + 1;
		if ((p.present >> k) & 1)
			return fail(err, line, -EBADMSG, "property", s, klen, " given twice");
		r = util_parse_u64(s + klen + 1, vlen, &v);
		if (r == -EINVAL)
			return fail(err, line, -EBADMSG, "value of", s, klen,
				    " is not an unsigned number");
		if (r < 0 || (!keys[k].wide && v > UINT32_MAX))
			return fail(err, line, -ERANGE, "value of", s, klen, " is out of range");
		p.v[k] = v;
		p.present |= UINT64_C(1) << k;
	}
	*ret = p;
	return 0;
}
