// SPDX-License-Identifier: MIT
/*
 * Unit tests for the readings module (readings.c) over simulated hosts: busy per partition from
 * each metrics layout the simulated driver writes, the fallbacks when a table is missing, VRAM
 * per partition from KFD's per-process files (not from used_memory, which follows the whole
 * device), positions after a mode switch moved a GPU's KFD nodes to the end, and tables that do
 * not parse (a diagnostic, the other readings still there).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "scratch.h"
#include "mipart/host.h"
#include "mipart/readings.h"
#include "mipart/sim.h"
#include "mipart/topology.h"
#include "util.h"
#include "banned.h"

#define GiB (1ull << 30)

struct snap {
	mipart_host *host;
	mipart_topology *topo;
	mipart_readings *r;
};

static void create(struct scratch_dir *f, unsigned gpus, mipart_compute_mode c, int metrics)
{
	mipart_sim_options o = { .gpus = gpus, .compute = c, .memory = MIPART_MEMORY_UNKNOWN,
				 .metrics = metrics };

	assert_int_equal(mipart_sim_create(f->dir, &o, NULL), 0);
}

static void load(const struct scratch_dir *f, unsigned gpu, int xcp, int busy, int64_t vram)
{
	mipart_sim_load l = { .gpu = gpu, .xcp = xcp, .busy = busy, .vram = vram, .power_w = -1,
			      .temp_c = -1, .mem_temp_c = -1, .gfxclk_mhz = -1 };

	assert_int_equal(mipart_sim_set_load(f->dir, &l), 0);
}

static void snap_take(const struct scratch_dir *f, struct snap *s)
{
	assert_int_equal(mipart_host_new(f->dir, &s->host), 0);
	assert_int_equal(mipart_topology_load(s->host, &s->topo), 0);
	assert_int_equal(mipart_readings_load(s->host, s->topo, &s->r), 0);
}

static void snap_drop(struct snap *s)
{
	s->r = mipart_readings_free(s->r);
	s->topo = mipart_topology_free(s->topo);
	s->host = mipart_host_free(s->host);
}

/* The reading of partition xcp of GPU gpu, found by its position in the topology. */
static const mipart_partition_reading *part(const struct snap *s, unsigned gpu, int xcp)
{
	for (size_t i = 0; i < mipart_topology_partition_count(s->topo); i++) {
		const mipart_partition_info *p = mipart_topology_partition(s->topo, i);

		if (p->gpu == gpu && p->xcp == xcp)
			return mipart_readings_partition(s->r, i);
	}
	fail_msg("no partition %u.%d", gpu, xcp);
	return NULL;
}

static void write_file(const struct scratch_dir *f, const char *rel, const char *data, size_t n)
{
	char path[1024];

	assert_true(util_pathf(path, sizeof(path), "%s/%s", f->dir, rel) > 0);
	*strrchr(path, '/') = '\0';
	assert_int_equal(util_mkdir_p(path), 0);
	path[strlen(path)] = '/';
	assert_int_equal(util_write_file(path, data, n, 0444), 0);
}

/* Busy from each layout: v1.8 + partition v1.0, v1.9 + partition v1.1. */
static void check_busy_layout(void **state, int metrics)
{
	struct scratch_dir *f = *state;
	struct snap s = { 0 };

	create(f, 2, MIPART_COMPUTE_QPX, metrics);
	load(f, 1, 2, 64, -1);
	load(f, 1, 3, 9, -1);
	snap_take(f, &s);
	assert_int_equal(part(&s, 1, 2)->busy_pct, 64);
	assert_int_equal(part(&s, 1, 2)->busy_source, MIPART_BUSY_XCP_METRICS);
	assert_int_equal(part(&s, 1, 3)->busy_pct, 9);
	assert_int_equal(part(&s, 0, 2)->busy_pct, 0);
	/* the GPU's activity is the mean of its partitions, (64 + 9) / 4 */
	assert_int_equal(mipart_readings_gpu(s.r, 1)->gfx_activity_pct, 18);
	assert_int_equal(mipart_readings_gpu(s.r, 1)->power_w, 140);
	assert_string_equal(mipart_readings_gpu(s.r, 1)->metrics,
			    metrics == 9 ? "gpu_metrics v1.9" : "gpu_metrics v1.8");
	assert_int_equal(mipart_readings_diag_count(s.r), 0);
	snap_drop(&s);
}

static void test_busy_v18(void **state)
{
	check_busy_layout(state, 8);
}

static void test_busy_v19(void **state)
{
	check_busy_layout(state, 9);
}

/* Without xcp_metrics (older kernels) the GPU's table still gives each partition's busy. */
static void test_busy_from_gpu_metrics(void **state)
{
	struct scratch_dir *f = *state;
	char path[1024];
	struct snap s = { 0 };

	create(f, 1, MIPART_COMPUTE_CPX, 8);
	load(f, 0, 5, 42, -1);
	for (unsigned k = 0; k < 7; k++) {
		snprintf(path, sizeof(path), "%s/sys/devices/platform/amdgpu_xcp_%u/xcp", f->dir, k);
		scratch_remove(path);
	}
	snap_take(f, &s);
	assert_int_equal(part(&s, 0, 5)->busy_pct, 42);
	assert_int_equal(part(&s, 0, 5)->busy_source, MIPART_BUSY_GPU_METRICS);
	assert_int_equal(part(&s, 0, 4)->busy_pct, 0);
	snap_drop(&s);
}

/* No metrics at all: unknown, and no diagnostic for files the kernel does not have. */
static void test_no_metrics(void **state)
{
	struct scratch_dir *f = *state;
	struct snap s = { 0 };

	create(f, 1, MIPART_COMPUTE_DPX, -1);
	snap_take(f, &s);
	assert_int_equal(part(&s, 0, 1)->busy_pct, -1);
	assert_int_equal(part(&s, 0, 1)->busy_source, MIPART_BUSY_NONE);
	assert_string_equal(mipart_readings_gpu(s.r, 0)->metrics, "");
	/* hwmon still gives the GPU's figures (microwatts, millidegrees, hertz) */
	assert_int_equal(mipart_readings_gpu(s.r, 0)->power_w, 140);
	assert_int_equal(mipart_readings_gpu(s.r, 0)->temp_hotspot_c, 40);
	assert_int_equal(mipart_readings_gpu(s.r, 0)->temp_mem_c, 38);
	assert_int_equal(mipart_readings_gpu(s.r, 0)->gfxclk_mhz, 140);
	assert_int_equal(mipart_readings_gpu(s.r, 0)->uclk_mhz, 900);
	assert_int_equal(mipart_readings_diag_count(s.r), 0);
	snap_drop(&s);
	{
		char path[1024];

		assert_true(util_pathf(path, sizeof(path),
				       "%s/sys/bus/pci/devices/0000:05:00.0/hwmon", f->dir) > 0);
		scratch_remove(path);
	}
	snap_take(f, &s);
	assert_int_equal(mipart_readings_gpu(s.r, 0)->power_w, -1);
	assert_int_equal(mipart_readings_gpu(s.r, 0)->gfxclk_mhz, -1);
	snap_drop(&s);
}

/* VRAM per partition is what the partition's processes hold; the GPU's total is the sum. */
static void test_vram(void **state)
{
	struct scratch_dir *f = *state;
	struct snap s = { 0 };

	create(f, 2, MIPART_COMPUTE_CPX, 8);
	assert_int_equal(mipart_sim_hold_partition(f->dir, 1, 6, 100, "a", NULL), 0);
	assert_int_equal(mipart_sim_hold_partition(f->dir, 1, 6, 101, "b", NULL), 0);
	assert_int_equal(mipart_sim_hold_partition(f->dir, 1, 1, 102, "c", NULL), 0);
	load(f, 1, 6, -1, (int64_t)(5 * GiB + 1));
	load(f, 1, 1, -1, (int64_t)(2 * GiB));
	snap_take(f, &s);
	/* two processes share 5 GiB + 1 byte: the sum is exact */
	assert_int_equal(part(&s, 1, 6)->vram_used_bytes, (int64_t)(5 * GiB + 1));
	assert_int_equal(part(&s, 1, 6)->processes, 2);
	assert_int_equal(part(&s, 1, 1)->vram_used_bytes, (int64_t)(2 * GiB));
	assert_int_equal(part(&s, 1, 1)->processes, 1);
	assert_int_equal(part(&s, 1, 0)->vram_used_bytes, 0);
	assert_int_equal(part(&s, 0, 6)->vram_used_bytes, 0);
	assert_int_equal(mipart_readings_gpu(s.r, 1)->vram_used_bytes, (int64_t)(7 * GiB + 1));
	assert_int_equal(mipart_readings_gpu(s.r, 0)->vram_used_bytes, 0);
	snap_drop(&s);
	assert_int_equal(mipart_sim_release(f->dir, 101), 0);
	snap_take(f, &s);
	/* 100 still holds 6: the partition keeps its memory, now all on 100 */
	assert_int_equal(part(&s, 1, 6)->vram_used_bytes, (int64_t)(5 * GiB + 1));
	assert_int_equal(part(&s, 1, 6)->processes, 1);
	snap_drop(&s);
}

/* After a switch GPU 0's nodes come last in KFD: readings follow positions, not indexes. */
static void test_positions_after_switch(void **state)
{
	struct scratch_dir *f = *state;
	struct snap s = { 0 };

	create(f, 2, MIPART_COMPUTE_CPX, 8);
	assert_int_equal(mipart_sim_write_attr(f->dir, "0000:05:00.0", "current_compute_partition",
					       "DPX"), 0);
	load(f, 0, 1, 77, (int64_t)GiB);
	load(f, 1, 7, 13, -1);
	assert_int_equal(mipart_sim_hold_partition(f->dir, 0, 1, 200, "vllm", NULL), 0);
	snap_take(f, &s);
	/* GPU 0's partitions are logical 8 and 9 now */
	for (size_t i = 0; i < mipart_topology_partition_count(s.topo); i++) {
		const mipart_partition_info *p = mipart_topology_partition(s.topo, i);

		if (p->gpu == 0)
			assert_true(p->index >= 8);
	}
	assert_int_equal(part(&s, 0, 1)->busy_pct, 77);
	assert_int_equal(part(&s, 0, 1)->vram_used_bytes, (int64_t)GiB);
	assert_int_equal(part(&s, 0, 0)->busy_pct, 0);
	assert_int_equal(part(&s, 1, 7)->busy_pct, 13);
	assert_int_equal(part(&s, 1, 6)->busy_pct, 0);
	snap_drop(&s);
}

/* A table that does not parse: a diagnostic naming it; the other GPU and the VRAM still read. */
static void test_bad_tables(void **state)
{
	struct scratch_dir *f = *state;
	static const char future[8] = { 8, 0, 1, 42, 0, 0, 0, 0 }; /* v1.42: unknown revision */
	struct snap s = { 0 };

	create(f, 2, MIPART_COMPUTE_SPX, 8);
	load(f, 1, 0, 50, (int64_t)GiB);
	write_file(f, "sys/bus/pci/devices/0000:05:00.0/gpu_metrics", "garbage!", 8);
	write_file(f, "sys/bus/pci/devices/0000:05:00.0/xcp/xcp_metrics", future, sizeof(future));
	snap_take(f, &s);
	assert_int_equal(mipart_readings_diag_count(s.r), 2);
	assert_non_null(strstr(mipart_readings_diag(s.r, 0), "0000:05:00.0/gpu_metrics"));
	assert_non_null(strstr(mipart_readings_diag(s.r, 1), "xcp_metrics v1.42 not supported"));
	assert_null(mipart_readings_diag(s.r, 2));
	assert_int_equal(part(&s, 0, 0)->busy_pct, -1);
	/* the GPU's power still comes from hwmon */
	assert_int_equal(mipart_readings_gpu(s.r, 0)->power_w, 140);
	assert_int_equal(part(&s, 1, 0)->busy_pct, 50);
	assert_int_equal(mipart_readings_gpu(s.r, 1)->vram_used_bytes, (int64_t)GiB);
	snap_drop(&s);
}

/* A partition table whose busy figures are "not available" keeps the GPU table's figure. */
static void test_xcp_table_without_busy(void **state)
{
	struct scratch_dir *f = *state;
	const char *rel = "sys/bus/pci/devices/0000:05:00.0/xcp/xcp_metrics";
	char path[1024], buf[1024];
	struct snap s = { 0 };
	ssize_t n;

	create(f, 1, MIPART_COMPUTE_DPX, 8);
	load(f, 0, 0, 60, -1);
	assert_true(util_pathf(path, sizeof(path), "%s/%s", f->dir, rel) > 0);
	n = util_read_file(path, buf, sizeof(buf) - 1);
	assert_int_equal(n, 488); /* amdgpu_partition_metrics_v1_0 */
	/* gfx_busy_inst[8] at 48: header 4, current_gfxclk[8], socclk, vclk0, dclk0 [4], uclk,
	 * padding (kgd_pp_interface.h) */
	memset(buf + 48, 0xff, 32);
	write_file(f, rel, buf, (size_t)n);
	snap_take(f, &s);
	assert_int_equal(part(&s, 0, 0)->busy_pct, 60);
	assert_int_equal(part(&s, 0, 0)->busy_source, MIPART_BUSY_GPU_METRICS);
	assert_int_equal(mipart_readings_diag_count(s.r), 0);
	snap_drop(&s);
}

/* Per-process VRAM that adds up past 64 bits saturates instead of overflowing. */
static void test_vram_saturates(void **state)
{
	struct scratch_dir *f = *state;
	char rel[256];
	struct snap s = { 0 };
	uint64_t id;

	create(f, 1, MIPART_COMPUTE_SPX, 8);
	snap_take(f, &s);
	id = (uint64_t)mipart_topology_partition(s.topo, 0)->gpu_id;
	snap_drop(&s);
	for (int pid = 1; pid <= 3; pid++) {
		snprintf(rel, sizeof(rel), "sys/devices/virtual/kfd/kfd/proc/%d/vram_%llu", pid,
			 (unsigned long long)id);
		write_file(f, rel, "4000000000000000000\n", 20);
	}
	snap_take(f, &s);
	assert_int_equal(part(&s, 0, 0)->vram_used_bytes, INT64_MAX);
	assert_int_equal(part(&s, 0, 0)->processes, 3);
	snap_drop(&s);
}

/* Out of range lookups, NULL handling, names. */
static void test_api_edges(void **state)
{
	struct scratch_dir *f = *state;
	struct snap s = { 0 };

	create(f, 1, MIPART_COMPUTE_SPX, 8);
	snap_take(f, &s);
	assert_non_null(mipart_readings_gpu(s.r, 0));
	assert_null(mipart_readings_gpu(s.r, 1));
	assert_null(mipart_readings_partition(s.r, 1));
	assert_null(mipart_readings_gpu(NULL, 0));
	assert_int_equal(mipart_readings_diag_count(NULL), 0);
	assert_string_equal(mipart_busy_source_name(MIPART_BUSY_XCP_METRICS), "xcp_metrics");
	assert_string_equal(mipart_busy_source_name((mipart_busy_source)99), "none");
	assert_null(mipart_readings_free(NULL));
	snap_drop(&s);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, scratch_setup, scratch_teardown)
	const struct CMUnitTest tests[] = {
		T(test_busy_v18),    T(test_busy_v19),		     T(test_busy_from_gpu_metrics),
		T(test_no_metrics),  T(test_vram),		     T(test_positions_after_switch),
		T(test_bad_tables),  T(test_api_edges),	     T(test_xcp_table_without_busy),
		T(test_vram_saturates),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
