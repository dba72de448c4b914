// SPDX-License-Identifier: MIT
/*
 * Unit tests for kfd.c: the KFD topology properties parser, with the text the simulator writes
 * for an MI300X CPX node (kfd_topology.c: node_show shape, HARDWARE.md 3.2) and hostile input:
 * unknown, duplicate and malformed keys, out-of-range values, CR, NUL, long lines, and the line
 * number each error reports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scratch.h"
#include "mipart/sim.h"
#include "kfd.h"
#include "util.h"
#include "banned.h"

#define S(x) x, sizeof(x) - 1

/* nodes/2/properties of `mipart sim create DIR --compute CPX` (8 x MI300X, GPU0 XCP0) */
static const char mi300x_cpx_node[] = "cpu_cores_count 0\n"
				      "simd_count 152\n"
				      "mem_banks_count 1\n"
				      "caches_count 0\n"
				      "io_links_count 1\n"
				      "p2p_links_count 0\n"
				      "cpu_core_id_base 0\n"
				      "simd_id_base 2147489792\n"
				      "max_waves_per_simd 8\n"
				      "lds_size_in_kb 64\n"
				      "gds_size_in_kb 0\n"
				      "num_gws 64\n"
				      "wave_front_size 64\n"
				      "array_count 4\n"
				      "simd_arrays_per_engine 1\n"
				      "cu_per_simd_array 10\n"
				      "simd_per_cu 4\n"
				      "max_slots_scratch_cu 32\n"
				      "gfx_target_version 90402\n"
				      "vendor_id 4098\n"
				      "device_id 29857\n"
				      "location_id 1280\n"
				      "domain 0\n"
				      "drm_render_minor 128\n"
				      "hive_id 5833307686946602522\n"
				      "num_sdma_engines 2\n"
				      "num_sdma_xgmi_engines 0\n"
				      "num_sdma_queues_per_engine 8\n"
				      "num_cp_queues 24\n"
				      "max_engine_clk_fcompute 2100\n"
				      "local_mem_size 0\n"
				      "fw_version 177\n"
				      "capability 671588992\n"
				      "debug_prop 1495\n"
				      "sdma_fw_version 22\n"
				      "unique_id 8385009191388964870\n"
				      "num_xcc 1\n"
				      "max_engine_clk_ccompute 3700\n";

/* nodes/0/properties: a CPU node prints only the common keys and max_engine_clk_ccompute */
static const char cpu_node[] = "cpu_cores_count 96\nsimd_count 0\nmem_banks_count 1\n"
			       "caches_count 0\nio_links_count 0\np2p_links_count 0\n"
			       "cpu_core_id_base 0\nsimd_id_base 0\nmax_waves_per_simd 0\n"
			       "lds_size_in_kb 0\ngds_size_in_kb 0\nnum_gws 0\nwave_front_size 0\n"
			       "array_count 0\nsimd_arrays_per_engine 0\ncu_per_simd_array 0\n"
			       "simd_per_cu 0\nmax_slots_scratch_cu 0\ngfx_target_version 0\n"
			       "vendor_id 0\ndevice_id 0\nlocation_id 0\ndomain 0\n"
			       "drm_render_minor 0\nhive_id 0\nnum_sdma_engines 0\n"
			       "num_sdma_xgmi_engines 0\nnum_sdma_queues_per_engine 0\n"
			       "num_cp_queues 0\nmax_engine_clk_ccompute 3700\n";

static const char mem_bank[] = "heap_type 1\nsize_in_bytes 25767706624\nflags 0\nwidth 1024\n"
			       "mem_clk_max 1300\n";

/* Parse with the node table; *ret and *err start from a recognisable garbage pattern. */
static int parse_node(const char *buf, size_t len, struct kfd_props *ret,
		      struct kfd_parse_error *err)
{
	memset(ret, 0xa5, sizeof(*ret));
	memset(err, 0, sizeof(*err));
	return kfd_parse_properties(buf, len, kfd_node_keys, KFD_NODE_KEY_COUNT, ret, err);
}

static int parse_mem(const char *buf, size_t len, struct kfd_props *ret,
		     struct kfd_parse_error *err)
{
	memset(ret, 0xa5, sizeof(*ret));
	memset(err, 0, sizeof(*err));
	return kfd_parse_properties(buf, len, kfd_mem_keys, KFD_MEM_KEY_COUNT, ret, err);
}

/* *p still holds the 0xa5 pattern parse_node() put there: untouched on failure */
static void assert_untouched(const struct kfd_props *p)
{
	struct kfd_props pattern;

	memset(&pattern, 0xa5, sizeof(pattern));
	assert_memory_equal(p, &pattern, sizeof(pattern));
}

/* err->msg is a terminated string that names what it says */
static void assert_msg(const struct kfd_parse_error *err, unsigned line, const char *needle)
{
	assert_non_null(memchr(err->msg, '\0', sizeof(err->msg)));
	assert_int_equal(err->line, line);
	if (!strstr(err->msg, needle))
		fail_msg("message '%s' does not contain '%s'", err->msg, needle);
}

static void test_key_tables(void **state)
{
	/* every key has a name, names are unique, and the wide (%llu) ones are those of node_show
	 */
	for (unsigned i = 0; i < KFD_NODE_KEY_COUNT; i++) {
		assert_non_null(kfd_node_keys[i].name);
		for (unsigned j = 0; j < i; j++)
			assert_string_not_equal(kfd_node_keys[i].name, kfd_node_keys[j].name);
		assert_int_equal(kfd_node_keys[i].wide,
				 i == KFD_HIVE_ID || i == KFD_LOCAL_MEM_SIZE ||
				     i == KFD_DEBUG_PROP || i == KFD_UNIQUE_ID);
	}
	for (unsigned i = 0; i < KFD_MEM_KEY_COUNT; i++) {
		assert_non_null(kfd_mem_keys[i].name);
		assert_int_equal(kfd_mem_keys[i].wide, i == KFD_MEM_SIZE_IN_BYTES);
	}
	assert_string_equal(kfd_node_keys[KFD_LOCATION_ID].name, "location_id");
	assert_string_equal(kfd_node_keys[KFD_MAX_ENGINE_CLK_CCOMPUTE].name,
			    "max_engine_clk_ccompute");
	assert_string_equal(kfd_mem_keys[KFD_MEM_SIZE_IN_BYTES].name, "size_in_bytes");
	/* every key fits in the 64-bit present mask */
	assert_true(KFD_NODE_KEY_COUNT <= 64);
}

static void test_real_gpu_node(void **state)
{
	struct kfd_parse_error err;
	struct kfd_props p;

	assert_int_equal(parse_node(S(mi300x_cpx_node), &p, &err), 0);
	/* every key but capability2 (newer than the captures) */
	for (unsigned k = 0; k < KFD_NODE_KEY_COUNT; k++)
		assert_int_equal(kfd_has(&p, k), k != KFD_CAPABILITY2);
	assert_int_equal(p.v[KFD_CAPABILITY2], 0);
	assert_int_equal(p.v[KFD_SIMD_COUNT], 152);
	assert_int_equal(p.v[KFD_SIMD_PER_CU], 4);
	assert_int_equal(p.v[KFD_GFX_TARGET_VERSION], 90402);
	assert_int_equal(p.v[KFD_VENDOR_ID], 0x1002);
	assert_int_equal(p.v[KFD_DEVICE_ID], 0x74a1);
	assert_int_equal(p.v[KFD_LOCATION_ID], 0x500);
	assert_int_equal(p.v[KFD_DRM_RENDER_MINOR], 128);
	assert_true(p.v[KFD_HIVE_ID] == UINT64_C(5833307686946602522));
	assert_true(p.v[KFD_UNIQUE_ID] == UINT64_C(8385009191388964870));
	assert_int_equal(p.v[KFD_SIMD_ID_BASE], 2147489792u);
	assert_int_equal(p.v[KFD_NUM_XCC], 1);
	assert_int_equal(p.v[KFD_MAX_ENGINE_CLK_FCOMPUTE], 2100);
	assert_int_equal(p.v[KFD_MAX_ENGINE_CLK_CCOMPUTE], 3700);
}

static void test_real_cpu_and_mem(void **state)
{
	struct kfd_parse_error err;
	struct kfd_props p;

	assert_int_equal(parse_node(S(cpu_node), &p, &err), 0);
	assert_int_equal(p.v[KFD_CPU_CORES_COUNT], 96);
	assert_int_equal(p.v[KFD_MAX_ENGINE_CLK_CCOMPUTE], 3700);
	for (unsigned k = 0; k < KFD_NODE_KEY_COUNT; k++)
		assert_int_equal(kfd_has(&p, k), !kfd_node_keys[k].gpu_only);

	assert_int_equal(parse_mem(S(mem_bank), &p, &err), 0);
	assert_int_equal(p.present, (UINT64_C(1) << KFD_MEM_KEY_COUNT) - 1);
	assert_int_equal(p.v[KFD_MEM_HEAP_TYPE], KFD_HEAP_FB_PUBLIC);
	assert_true(p.v[KFD_MEM_SIZE_IN_BYTES] == UINT64_C(25767706624));
	assert_int_equal(p.v[KFD_MEM_WIDTH], 1024);

	/* the node text against the mem table: all keys unknown, nothing present, success */
	assert_int_equal(parse_mem(S(mi300x_cpx_node), &p, &err), 0);
	assert_int_equal(p.present, 0);
}

/* Every properties file of a freshly simulated host parses (both tables, all node kinds). */
static void test_simulated_tree(void **state)
{
	const char *products[] = {"mi300x", "mi308x", "mi300a", "mi210"};

	for (size_t i = 0; i < ARRAY_SIZE(products); i++) {
		mipart_sim_options o = {.product = products[i], .gpus = 2, .compute = -1};
		char dir[128], path[256], buf[UTIL_ATTR_MAX + 1];
		unsigned gpu_nodes = 0;

		assert_non_null(scratch_mkdtemp(dir, sizeof(dir), "kfd"));
		assert_int_equal(mipart_sim_create(dir, &o, NULL), 0);
		for (unsigned node = 0;; node++) {
			struct kfd_parse_error err;
			struct kfd_props p;
			ssize_t n;

			util_pathf(path, sizeof(path),
				   "%s/sys/class/kfd/kfd/topology/nodes/%u/properties", dir, node);
			n = util_read_file(path, buf, UTIL_ATTR_MAX);
			if (n == -ENOENT)
				break;
			assert_true(n > 0);
			if (parse_node(buf, (size_t)n, &p, &err) != 0)
				fail_msg("%s: line %u: %s", path, err.line, err.msg);
			assert_true(kfd_has(&p, KFD_LOCATION_ID) && kfd_has(&p, KFD_DOMAIN));
			if (kfd_has(&p, KFD_NUM_XCC))
				gpu_nodes++;
			util_pathf(path, sizeof(path),
				   "%s/sys/class/kfd/kfd/topology/nodes/%u/mem_banks/0/properties",
				   dir, node);
			n = util_read_file(path, buf, UTIL_ATTR_MAX);
			assert_true(n > 0);
			assert_int_equal(parse_mem(buf, (size_t)n, &p, &err), 0);
			assert_true(kfd_has(&p, KFD_MEM_SIZE_IN_BYTES));
		}
		/* two GPUs in AUTO mode: one node each (SPX) */
		assert_int_equal(gpu_nodes, 2);
		assert_int_equal(util_rm_rf(dir), 0);
	}
}

static void test_unknown_keys(void **state)
{
	static const char text[] =
	    "future_key 123\nsimd_count 4\nanother_new_key 99999999999999999999999\n"
	    "weird_but_lowercase_9 not-a-number\nnum_xcc 2\n";
	struct kfd_parse_error err;
	struct kfd_props p;

	assert_int_equal(parse_node(S(text), &p, &err), 0);
	assert_int_equal(p.present, (UINT64_C(1) << KFD_SIMD_COUNT) | (UINT64_C(1) << KFD_NUM_XCC));
	assert_int_equal(p.v[KFD_SIMD_COUNT], 4);
	assert_int_equal(p.v[KFD_NUM_XCC], 2);
	/* values of keys not given are zero, not left over */
	assert_int_equal(p.v[KFD_HIVE_ID], 0);
	/* a prefix or an extension of a known key is a different key */
	assert_int_equal(parse_node(S("simd_coun 1\nsimd_count_ 2\n"), &p, &err), 0);
	assert_int_equal(p.present, 0);
}

static void test_duplicate_key(void **state)
{
	struct kfd_parse_error err;
	struct kfd_props p;

	assert_int_equal(parse_node(S("simd_count 1\nnum_xcc 1\nsimd_count 1\n"), &p, &err),
			 -EBADMSG);
	assert_msg(&err, 3, "'simd_count'");
	assert_msg(&err, 3, "twice");
	assert_untouched(&p);
	/* a duplicate unknown key is not an error */
	assert_int_equal(parse_node(S("foo 1\nfoo 2\n"), &p, &err), 0);
	/* duplicates in the mem table */
	assert_int_equal(parse_mem(S("heap_type 1\nsize_in_bytes 1\nheap_type 2\n"), &p, &err),
			 -EBADMSG);
	assert_msg(&err, 3, "heap_type");
}

static void test_missing_value(void **state)
{
	struct kfd_parse_error err;
	struct kfd_props p;

	assert_int_equal(parse_node(S("simd_count\n"), &p, &err), -EBADMSG);
	assert_msg(&err, 1, "simd_count");
	assert_untouched(&p);
	assert_int_equal(parse_node(S("num_xcc 1\nsimd_count \n"), &p, &err), -EBADMSG);
	assert_msg(&err, 2, "'simd_count'");
	assert_untouched(&p);
	/* no key */
	assert_int_equal(parse_node(S(" 5\n"), &p, &err), -EBADMSG);
	assert_int_equal(err.line, 1);
	assert_int_equal(parse_node(S("\n"), &p, &err), -EBADMSG);
	assert_int_equal(err.line, 1);
	/* an empty line between two good ones, and a blank line at the end */
	assert_int_equal(parse_node(S("num_xcc 1\n\nsimd_count 4\n"), &p, &err), -EBADMSG);
	assert_int_equal(err.line, 2);
	assert_int_equal(parse_node(S("num_xcc 1\nsimd_count 4\n\n"), &p, &err), -EBADMSG);
	assert_int_equal(err.line, 3);
	assert_untouched(&p);
}

static void test_bad_values(void **state)
{
	static const char *const bad[] = {
	    "simd_count abc\n",	 "simd_count 12a\n", "simd_count -1\n", "simd_count +1\n",
	    "simd_count 0x10\n", "simd_count  1\n",  "simd_count 1 \n", "simd_count 1 2\n",
	    "simd_count 1.5\n",	 "simd_count\t1\n",
	};
	struct kfd_parse_error err;
	struct kfd_props p;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (parse_node(bad[i], strlen(bad[i]), &p, &err) != -EBADMSG)
			fail_msg("'%s' was accepted", bad[i]);
		assert_int_equal(err.line, 1);
		assert_untouched(&p);
	}
	assert_int_equal(parse_node(S("simd_count -1\n"), &p, &err), -EBADMSG);
	assert_msg(&err, 1, "'simd_count' is not an unsigned number");
	/* names are lower case letters, digits and '_' */
	assert_int_equal(parse_node(S("SIMD_COUNT 1\n"), &p, &err), -EBADMSG);
	assert_msg(&err, 1, "bad property name");
	assert_int_equal(parse_node(S("simd-count 1\n"), &p, &err), -EBADMSG);
	assert_int_equal(parse_node(S("simd.count 1\n"), &p, &err), -EBADMSG);
}

static void test_ranges(void **state)
{
	struct kfd_parse_error err;
	struct kfd_props p;

	/* 32-bit keys (%u) take up to UINT32_MAX */
	assert_int_equal(parse_node(S("simd_count 4294967295\n"), &p, &err), 0);
	assert_int_equal(p.v[KFD_SIMD_COUNT], UINT32_MAX);
	assert_int_equal(parse_node(S("simd_count 4294967296\n"), &p, &err), -ERANGE);
	assert_msg(&err, 1, "'simd_count' is out of range");
	assert_untouched(&p);
	assert_int_equal(parse_node(S("num_xcc 1\nlocation_id 99999999999\n"), &p, &err), -ERANGE);
	assert_msg(&err, 2, "location_id");

	/* 64-bit keys (%llu): hive_id, unique_id, debug_prop, local_mem_size */
	assert_int_equal(parse_node(S("hive_id 18446744073709551615\n"), &p, &err), 0);
	assert_true(p.v[KFD_HIVE_ID] == UINT64_MAX);
	assert_int_equal(parse_node(S("hive_id 4294967296\nunique_id 8385009191388964870\n"
				      "debug_prop 4294967296\nlocal_mem_size 206141652992\n"),
				    &p, &err),
			 0);
	assert_true(p.v[KFD_HIVE_ID] == UINT64_C(4294967296));
	assert_true(p.v[KFD_LOCAL_MEM_SIZE] == UINT64_C(206141652992));
	assert_int_equal(parse_node(S("hive_id 18446744073709551616\n"), &p, &err), -ERANGE);
	assert_msg(&err, 1, "hive_id");
	assert_untouched(&p);

	/* mem table: size_in_bytes is 64-bit, heap_type 32-bit */
	assert_int_equal(parse_mem(S("size_in_bytes 1099511627776\n"), &p, &err), 0);
	assert_true(p.v[KFD_MEM_SIZE_IN_BYTES] == UINT64_C(1099511627776));
	assert_int_equal(parse_mem(S("heap_type 4294967296\n"), &p, &err), -ERANGE);
}

static void test_line_endings(void **state)
{
	struct kfd_parse_error err;
	struct kfd_props p;

	/* CRLF: the CR is part of the value, which is then not a number */
	assert_int_equal(parse_node(S("simd_count 152\r\n"), &p, &err), -EBADMSG);
	assert_int_equal(err.line, 1);
	assert_int_equal(parse_node(S("cpu_cores_count 0\r\nsimd_count 152\r\n"), &p, &err),
			 -EBADMSG);
	assert_int_equal(err.line, 1);
	assert_int_equal(parse_node(S("cpu_cores_count 0\nsimd_count 152\r\n"), &p, &err),
			 -EBADMSG);
	assert_int_equal(err.line, 2);
	assert_untouched(&p);
	/* a CR-only file is one line */
	assert_int_equal(parse_node(S("cpu_cores_count 0\rsimd_count 152\r"), &p, &err), -EBADMSG);
	assert_int_equal(err.line, 1);

	/* no trailing newline */
	assert_int_equal(parse_node(S("cpu_cores_count 3\nsimd_count 152"), &p, &err), 0);
	assert_int_equal(p.v[KFD_SIMD_COUNT], 152);
	assert_int_equal(p.v[KFD_CPU_CORES_COUNT], 3);
	assert_int_equal(parse_node(mi300x_cpx_node, sizeof(mi300x_cpx_node) - 2, &p, &err), 0);
	assert_int_equal(p.v[KFD_MAX_ENGINE_CLK_CCOMPUTE], 3700);
	/* cut in the middle of the last value: parses what is there */
	assert_int_equal(parse_node(mi300x_cpx_node, sizeof(mi300x_cpx_node) - 3, &p, &err), 0);
	assert_int_equal(p.v[KFD_MAX_ENGINE_CLK_CCOMPUTE], 370);
	/* cut in the last key: the partial name is an unknown key with a value, or no value */
	assert_int_equal(parse_node(mi300x_cpx_node, sizeof(mi300x_cpx_node) - 7, &p, &err),
			 -EBADMSG);
	assert_int_equal(err.line, 38);
}

static void test_empty(void **state)
{
	struct kfd_parse_error err;
	struct kfd_props p;

	assert_int_equal(parse_node("", 0, &p, &err), 0);
	assert_int_equal(p.present, 0);
	for (unsigned k = 0; k < KFD_NODE_KEY_COUNT; k++)
		assert_int_equal(p.v[k], 0);
	/* a NULL buffer of length 0 is fine too */
	assert_int_equal(kfd_parse_properties(NULL, 0, kfd_node_keys, KFD_NODE_KEY_COUNT, &p, &err),
			 0);
	/* a NULL error is allowed */
	assert_int_equal(
	    kfd_parse_properties(S("simd_count x\n"), kfd_node_keys, KFD_NODE_KEY_COUNT, &p, NULL),
	    -EBADMSG);
}

static void test_binary(void **state)
{
	struct kfd_parse_error err;
	struct kfd_props p;

	assert_int_equal(parse_node(S("simd_count 1\0\n"), &p, &err), -EBADMSG);
	assert_int_equal(parse_node(S("simd_count \x01\x02\n"), &p, &err), -EBADMSG);
	assert_int_equal(parse_node(S("simd\0count 1\n"), &p, &err), -EBADMSG);
	assert_int_equal(parse_node(S("\xff\xfe 1\n"), &p, &err), -EBADMSG);
	assert_int_equal(err.line, 1);
	assert_int_equal(parse_node(S("num_xcc 1\n\x7f\x45\x4c\x46\x02\x01\x01\n"), &p, &err),
			 -EBADMSG);
	assert_int_equal(err.line, 2);
	/* the message is a terminated string of bounded length even with binary in it */
	assert_non_null(memchr(err.msg, '\0', sizeof(err.msg)));
	assert_untouched(&p);
}

static void test_long_lines(void **state)
{
	size_t big = 1 << 20;
	char *buf = malloc(big + 64);
	struct kfd_parse_error err;
	struct kfd_props p;
	size_t n;

	assert_non_null(buf);
	/* a 1 MiB unknown key is skipped */
	memset(buf, 'k', big);
	n = big;
	n += (size_t)snprintf(buf + n, 64, " 1\nsimd_count 7\n");
	assert_int_equal(parse_node(buf, n, &p, &err), 0);
	assert_int_equal(p.v[KFD_SIMD_COUNT], 7);
	assert_int_equal(p.present, UINT64_C(1) << KFD_SIMD_COUNT);

	/* a 1 MiB value of digits overflows */
	n = (size_t)snprintf(buf, 64, "num_xcc 1\nsimd_count ");
	memset(buf + n, '9', big);
	n += big;
	assert_int_equal(parse_node(buf, n, &p, &err), -ERANGE);
	assert_int_equal(err.line, 2);

	/* a 1 MiB line without a space: the message quotes at most 40 bytes of it */
	memset(buf, 'z', big);
	assert_int_equal(parse_node(buf, big, &p, &err), -EBADMSG);
	assert_int_equal(err.line, 1);
	assert_true(strlen(err.msg) < sizeof(err.msg));
	assert_non_null(strstr(err.msg, "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz'"));
	assert_null(strstr(err.msg, "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"));
	free(buf);
}

/* Break each line of the real text in turn: the error names that line. */
static void test_error_line_numbers(void **state)
{
	char buf[sizeof(mi300x_cpx_node)];
	unsigned line = 1;

	for (size_t i = 0; i < sizeof(mi300x_cpx_node) - 1; i++) {
		struct kfd_parse_error err;
		struct kfd_props p;
		const char *sp;

		if (i > 0 && mi300x_cpx_node[i - 1] != '\n')
			continue;
		/* replace the first digit of this line's value with 'x' */
		memcpy(buf, mi300x_cpx_node, sizeof(buf));
		sp = strchr(buf + i, ' ');
		assert_non_null(sp);
		buf[sp - buf + 1] = 'x';
		if (parse_node(buf, sizeof(buf) - 1, &p, &err) != -EBADMSG)
			fail_msg("line %u accepted", line);
		assert_int_equal(err.line, line);
		assert_untouched(&p);
		line++;
	}
	assert_int_equal(line, 39); /* 38 lines in a GPU node */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_key_tables),
	    cmocka_unit_test(test_real_gpu_node),
	    cmocka_unit_test(test_real_cpu_and_mem),
	    cmocka_unit_test(test_simulated_tree),
	    cmocka_unit_test(test_unknown_keys),
	    cmocka_unit_test(test_duplicate_key),
	    cmocka_unit_test(test_missing_value),
	    cmocka_unit_test(test_bad_values),
	    cmocka_unit_test(test_ranges),
	    cmocka_unit_test(test_line_endings),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_binary),
	    cmocka_unit_test(test_long_lines),
	    cmocka_unit_test(test_error_line_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
