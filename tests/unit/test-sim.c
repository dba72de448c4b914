// SPDX-License-Identifier: MIT
/*
 * Unit tests for the simulated amdgpu driver (sim-driver.c), through the public API of
 * include/mipart/sim.h only: creation refusals, compute and memory writes checked in the
 * kernel's order with the kernel's errno values (HARDWARE.md 1.2, 1.3; docs/simulator.md),
 * busy GPUs, reloads with AUTO mode selection (HARDWARE.md 4.2), injected faults, and the KFD
 * generation counter. What the driver did is read back from the rendered tree, as a tool would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "scratch.h"
#include "mipart/sim.h"
#include "util.h"
#include "banned.h"

#define GPU0 "0000:05:00.0"
#define GPU1 "0000:26:00.0"
#define APU0 "0000:01:00.0"
#define APU1 "0001:01:00.0"
#define COMPUTE "current_compute_partition"
#define MEMORY "current_memory_partition"
#define TOPOLOGY "sys/class/kfd/kfd/topology"

static void create(struct scratch_dir *f, const char *product, unsigned gpus, mipart_compute_mode c,
		   mipart_memory_mode m, bool no_hive)
{
	mipart_sim_options o = {
	    .product = product, .gpus = gpus, .compute = c, .memory = m, .no_hive = no_hive};
	const char *why = "not touched";

	if (mipart_sim_create(f->dir, &o, &why) != 0)
		fail_msg("sim create %s: %s", product, why ? why : "");
	assert_null(why); /* no reason on success */
}

/* Content of <dir>/<rel>, or NULL when the file does not exist. Static buffer. */
static const char *readf(const struct scratch_dir *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static const char *readf(const struct scratch_dir *f, const char *fmt, ...)
{
	static char buf[UTIL_ATTR_MAX + 1];
	char rel[512], path[1024];
	va_list ap;
	ssize_t n;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	assert_true(util_pathf(path, sizeof(path), "%s/%s", f->dir, rel) > 0);
	n = util_read_file(path, buf, UTIL_ATTR_MAX);
	if (n == -ENOENT)
		return NULL;
	assert_true(n >= 0);
	return buf;
}

static bool exists(const struct scratch_dir *f, const char *rel)
{
	char path[1024];
	struct stat st;

	assert_true(util_pathf(path, sizeof(path), "%s/%s", f->dir, rel) > 0);
	return lstat(path, &st) == 0;
}

/* current_compute_partition / current_memory_partition of a GPU ("CPX\n"), NULL if absent */
static const char *compute_of(const struct scratch_dir *f, const char *bdf)
{
	return readf(f, "sys/bus/pci/devices/%s/" COMPUTE, bdf);
}

static const char *memory_of(const struct scratch_dir *f, const char *bdf)
{
	return readf(f, "sys/bus/pci/devices/%s/" MEMORY, bdf);
}

static void assert_compute(const struct scratch_dir *f, const char *bdf, const char *mode)
{
	const char *s = compute_of(f, bdf);
	char want[16];

	snprintf(want, sizeof(want), "%s\n", mode);
	if (!s)
		fail_msg("%s: no %s", bdf, COMPUTE);
	assert_string_equal(s, want);
}

static void assert_memory(const struct scratch_dir *f, const char *bdf, const char *mode)
{
	const char *s = memory_of(f, bdf);
	char want[16];

	snprintf(want, sizeof(want), "%s\n", mode);
	if (!s)
		fail_msg("%s: no %s", bdf, MEMORY);
	assert_string_equal(s, want);
}

static unsigned generation(const struct scratch_dir *f)
{
	const char *s = readf(f, TOPOLOGY "/generation_id");
	uint64_t v;

	assert_non_null(s);
	assert_int_equal(util_parse_line_u64(s, strlen(s), &v), 0);
	return (unsigned)v;
}

/* Number of KFD nodes (CPU and GPU) in the rendered topology. */
static unsigned kfd_nodes(const struct scratch_dir *f)
{
	char path[1024];
	unsigned n = 0;
	DIR *d;

	assert_true(util_pathf(path, sizeof(path), "%s/" TOPOLOGY "/nodes", f->dir) > 0);
	d = opendir(path);
	if (!d)
		return 0;
	for (struct dirent *de; (de = readdir(d));)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int64_t ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (int64_t)(t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static int add_fault(const struct scratch_dir *f, int gpu, mipart_sim_fault_on on, int error, int times,
		     unsigned delay_ms)
{
	mipart_sim_fault fault = {gpu, on, error, times, delay_ms};

	return mipart_sim_add_fault(f->dir, &fault);
}

static void test_create_refusals(void **state)
{
	static const struct {
		mipart_sim_options o;
		const char *why;
	} bad[] = {
	    {{.product = "mi999"}, "unknown product"},
	    {{.product = ""}, "unknown product"},
	    {{.gpus = 17}, "at most 16 GPUs"},
	    {{.gpus = 1000}, "at most 16 GPUs"},
	    {{.product = "mi300a", .gpus = 5}, "at most 4 MI300A sockets"},
	    {{.cpu_nodes = 9}, "CPU nodes"},
	    /* SPX needs NPS1 (HARDWARE.md 4.2) */
	    {{.compute = MIPART_COMPUTE_SPX, .memory = MIPART_MEMORY_NPS4}, "not valid"},
	    {{.compute = MIPART_COMPUTE_DPX, .memory = MIPART_MEMORY_NPS4}, "not valid"},
	    /* TPX needs 6 XCC, QPX 8 */
	    {{.compute = MIPART_COMPUTE_TPX}, "not valid"},
	    {{.product = "mi308x", .compute = MIPART_COMPUTE_QPX}, "not valid"},
	    /* MI300X firmware offers NPS1 and NPS4 only */
	    {{.memory = MIPART_MEMORY_NPS2}, "memory mode"},
	    {{.product = "mi300a", .memory = MIPART_MEMORY_NPS4}, "memory mode"},
	    {{.product = "mi210", .compute = MIPART_COMPUTE_SPX}, "no partition modes"},
	};
	struct scratch_dir *f = *state;
	char path[256];
	struct stat st;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		mipart_sim_options o = bad[i].o;
		const char *why = NULL;

		assert_true(util_pathf(path, sizeof(path), "%s/host%zu", f->dir, i) > 0);
		assert_int_equal(mipart_sim_create(path, &o, &why), -EINVAL);
		assert_non_null(why);
		if (!strstr(why, bad[i].why))
			fail_msg("case %zu: reason '%s' lacks '%s'", i, why, bad[i].why);
		/* nothing was created */
		assert_int_equal(lstat(path, &st), -1);
	}
}

static void test_create_nonempty(void **state)
{
	struct scratch_dir *f = *state;
	mipart_sim_options o = {.gpus = 1, .compute = MIPART_COMPUTE_UNKNOWN};
	const char *why = NULL;
	char path[256];
	FILE *fp;

	assert_true(util_pathf(path, sizeof(path), "%s/precious", f->dir) > 0);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("mine\n", fp);
	fclose(fp);
	assert_int_equal(mipart_sim_create(f->dir, &o, &why), -EEXIST);
	assert_non_null(why);
	assert_string_equal(readf(f, "precious"), "mine\n");
	assert_false(exists(f, "mipart-sim.json"));
	assert_false(exists(f, "sys"));

	/* a missing directory is created, with parents */
	assert_true(util_pathf(path, sizeof(path), "%s/a/b", f->dir) > 0);
	assert_int_equal(mipart_sim_create(path, &o, NULL), 0);
	assert_true(exists(f, "a/b/mipart-sim.json"));
	/* and a second create there is refused */
	assert_int_equal(mipart_sim_create(path, &o, NULL), -EEXIST);
}

static void test_create_auto(void **state)
{
	struct scratch_dir *f = *state;

	/* UNKNOWN compute: what AUTO picks for the memory mode; NPS4 -> CPX */
	create(f, "mi300x", 2, MIPART_COMPUTE_UNKNOWN, MIPART_MEMORY_NPS4, false);
	assert_compute(f, GPU0, "CPX");
	assert_memory(f, GPU0, "NPS4");
	assert_string_equal(readf(f, "sys/bus/pci/devices/" GPU0 "/available_compute_partition"),
			    "QPX, CPX\n");
	assert_string_equal(readf(f, "sys/bus/pci/devices/" GPU0 "/available_memory_partition"),
			    "NPS1, NPS4\n");
	/* AUTO (-2) through a uint module parameter, as amdgpu prints it */
	assert_string_equal(readf(f, "sys/module/amdgpu/parameters/user_partt_mode"), "4294967294\n");
	/* 2 CPU nodes + 2 x 8 partitions; the generation counts every node added, plus one
	 * for kfd_topology_init (HARDWARE.md 8.11) */
	assert_int_equal(kfd_nodes(f), 18);
	assert_int_equal(generation(f), 19);
}

static void test_compute_write_refusals(void **state)
{
	struct scratch_dir *f = *state;
	unsigned gen;

	create(f, "mi300x", 1, MIPART_COMPUTE_CPX, MIPART_MEMORY_NPS4, false);
	gen = generation(f);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "garbage"), -EINVAL);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, ""), -EINVAL);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "SP"), -EINVAL);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, " CPX"), -EINVAL);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "NPS4"), -EINVAL);
	/* SPX and DPX are not valid while NPS4 is in force */
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "SPX"), -EINVAL);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "DPX\n"), -EINVAL);
	/* TPX needs 6 XCCs */
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "TPX"), -EINVAL);
	/* no such GPU, attribute, or a read-only one */
	assert_int_equal(mipart_sim_write_attr(f->dir, "0000:99:00.0", COMPUTE, "CPX"), -ENOENT);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, "no_such_attr", "CPX"), -ENOENT);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, "available_compute_partition", "CPX"),
			 -EACCES);
	/* nothing changed */
	assert_compute(f, GPU0, "CPX");
	assert_int_equal(generation(f), gen);
	assert_int_equal(kfd_nodes(f), 2 + 8);

	/* QPX on a 4-XCC MI308X */
	scratch_teardown(state);
	assert_int_equal(scratch_setup(state), 0);
	f = *state;
	create(f, "mi308x", 1, MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS1, false);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "QPX"), -EINVAL);
	assert_compute(f, GPU0, "SPX");
	assert_string_equal(readf(f, "sys/bus/pci/devices/" GPU0 "/available_compute_partition"),
			    "SPX, DPX, CPX\n");
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "CPX"), 0);
	assert_compute(f, GPU0, "CPX");
	assert_int_equal(kfd_nodes(f), 2 + 4);
}

static void test_compute_write_prefix(void **state)
{
	struct scratch_dir *f = *state;

	create(f, "mi300x", 2, MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS1, false);
	/* the kernel compares the first three letters, case-insensitively (HARDWARE.md 1.2) */
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "cpx-foo\n"), 0);
	assert_compute(f, GPU0, "CPX");
	assert_int_equal(kfd_nodes(f), 2 + 8 + 1);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "dPx"), 0);
	assert_compute(f, GPU0, "DPX");
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "QPXQPX"), 0);
	assert_compute(f, GPU0, "QPX");
	assert_int_equal(kfd_nodes(f), 2 + 4 + 1);
	/* the other GPU did not move, and the BDF matches case-insensitively */
	assert_compute(f, GPU1, "SPX");
	assert_int_equal(mipart_sim_write_attr(f->dir, "0000:26:00.0", COMPUTE, "SPX"), 0);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "SPX"), 0);
	assert_compute(f, GPU0, "SPX");
}

static void test_compute_same_mode(void **state)
{
	struct scratch_dir *f = *state;
	unsigned gen;
	char *gpu_id;

	create(f, "mi300x", 2, MIPART_COMPUTE_CPX, MIPART_MEMORY_NPS1, false);
	gen = generation(f);
	gpu_id = strdup(readf(f, TOPOLOGY "/nodes/2/gpu_id"));
	assert_non_null(gpu_id);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "CPX\n"), 0);
	/* no KFD re-init: same generation, GPU 0 still first in the node list */
	assert_int_equal(generation(f), gen);
	assert_string_equal(readf(f, TOPOLOGY "/nodes/2/gpu_id"), gpu_id);
	assert_non_null(strstr(readf(f, TOPOLOGY "/nodes/2/properties"), "\nlocation_id 1280\n"));
	free(gpu_id);
	/* a real switch does re-init */
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "SPX"), 0);
	assert_true(generation(f) > gen);
	assert_non_null(strstr(readf(f, TOPOLOGY "/nodes/2/properties"), "\nlocation_id 9728\n"));
}

static void test_generation(void **state)
{
	struct scratch_dir *f = *state;

	create(f, "mi300x", 2, MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS1, false);
	assert_int_equal(generation(f), 2 + 2 + 1); /* 2 CPU nodes, 2 GPU nodes added, init */
	/* SPX -> CPX: 1 removed, 8 added */
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "CPX"), 0);
	assert_int_equal(generation(f), 5 + 1 + 8);
	/* CPX -> DPX: 8 removed, 2 added */
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "DPX"), 0);
	assert_int_equal(generation(f), 14 + 8 + 2);
	/* GPU 1 SPX -> QPX: 1 + 4 */
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU1, COMPUTE, "QPX"), 0);
	assert_int_equal(generation(f), 24 + 1 + 4);
	assert_int_equal(kfd_nodes(f), 2 + 2 + 4);
	/* a refused write changes nothing */
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU1, COMPUTE, "TPX"), -EINVAL);
	assert_int_equal(generation(f), 29);
	/* a reload starts afresh: AUTO gives SPX with NPS1 */
	assert_int_equal(mipart_sim_reload(f->dir), 0);
	assert_int_equal(generation(f), 5);
}

static void test_busy(void **state)
{
	struct scratch_dir *f = *state;

	create(f, "mi300x", 2, MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS1, false);
	assert_int_equal(mipart_sim_hold(f->dir, 0, 4242, "python3", "c0ffee"), 0);
	assert_string_equal(readf(f, "proc/4242/comm"), "python3\n");
	assert_non_null(strstr(readf(f, "proc/4242/cgroup"), "docker-c0ffee.scope"));
	assert_true(exists(f, "sys/class/kfd/kfd/proc/4242"));

	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "CPX"), -EBUSY);
	assert_compute(f, GPU0, "SPX");
	/* the busy check comes after the validity and same-mode checks */
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "SPX"), 0);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "TPX"), -EINVAL);
	/* the check is per GPU: GPU 1 switches */
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU1, COMPUTE, "CPX"), 0);
	assert_compute(f, GPU1, "CPX");
	/* a memory write is only a request: allowed while busy */
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, MEMORY, "NPS4"), 0);
	/* the module cannot be unloaded while a process exists */
	assert_int_equal(mipart_sim_reload(f->dir), -EBUSY);
	assert_memory(f, GPU0, "NPS1");
	assert_compute(f, GPU1, "CPX");

	assert_int_equal(mipart_sim_release(f->dir, 4242), 0);
	assert_false(exists(f, "proc/4242"));
	assert_false(exists(f, "sys/class/kfd/kfd/proc/4242"));
	assert_int_equal(mipart_sim_release(f->dir, 4242), -ESRCH);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "CPX"), 0);
	assert_compute(f, GPU0, "CPX");

	/* a process that holds several GPUs, then the reload after it is gone */
	assert_int_equal(mipart_sim_hold(f->dir, 0, 7, "a", NULL), 0);
	assert_int_equal(mipart_sim_hold(f->dir, 1, 7, "a", NULL), 0);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU1, COMPUTE, "DPX"), -EBUSY);
	assert_int_equal(mipart_sim_release(f->dir, 7), 0);
	assert_int_equal(mipart_sim_reload(f->dir), 0);
	assert_memory(f, GPU0, "NPS4");
}

static void test_hold_arguments(void **state)
{
	struct scratch_dir *f = *state;

	create(f, "mi300x", 1, MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS1, false);
	assert_int_equal(mipart_sim_hold(f->dir, 1, 10, "x", NULL), -ENOENT);
	assert_int_equal(mipart_sim_hold(f->dir, 0, 0, "x", NULL), -EINVAL);
	assert_int_equal(mipart_sim_hold(f->dir, 0, -1, "x", NULL), -EINVAL);
	assert_int_equal(mipart_sim_hold(f->dir, 0, 10, "", NULL), -EINVAL);
	assert_int_equal(mipart_sim_hold(f->dir, 0, 10, NULL, NULL), -EINVAL);
	assert_int_equal(mipart_sim_hold(f->dir, 0, 10, "a/b", NULL), -EINVAL);
	assert_int_equal(mipart_sim_hold(f->dir, 0, 10, "a\nb", NULL), -EINVAL);
	assert_int_equal(mipart_sim_hold(f->dir, 0, 10, "x", "../../etc"), -EINVAL);
	assert_false(exists(f, "proc/10"));
	/* nothing is held: a switch goes through */
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "CPX"), 0);
}

static void test_memory_write(void **state)
{
	struct scratch_dir *f = *state;

	create(f, "mi300x", 2, MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS1, false);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, MEMORY, "NPS2"),
			 -EINVAL); /* unsupported */
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, MEMORY, "NPS"), -EINVAL);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, MEMORY, "garbage"), -EINVAL);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, MEMORY, "nps4\n"), 0);
	/* only recorded: both files and the KFD topology show the old state */
	assert_memory(f, GPU0, "NPS1");
	assert_memory(f, GPU1, "NPS1");
	assert_compute(f, GPU0, "SPX");
	assert_int_equal(kfd_nodes(f), 4);
	/* XGMI hive: the request applies to every member at the reload; AUTO picks CPX */
	assert_int_equal(mipart_sim_reload(f->dir), 0);
	assert_memory(f, GPU0, "NPS4");
	assert_memory(f, GPU1, "NPS4");
	assert_compute(f, GPU0, "CPX");
	assert_compute(f, GPU1, "CPX");
	assert_int_equal(kfd_nodes(f), 2 + 16);
	assert_string_equal(readf(f, "sys/bus/pci/devices/" GPU1 "/available_compute_partition"),
			    "QPX, CPX\n");
	/* a reload with nothing pending keeps NPS4 and comes back in CPX */
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "QPX"), 0);
	assert_compute(f, GPU0, "QPX");
	assert_int_equal(mipart_sim_reload(f->dir), 0);
	assert_compute(f, GPU0, "CPX");
	assert_memory(f, GPU0, "NPS4");
	/* and back: NPS1 -> SPX */
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU1, MEMORY, "NPS1"), 0);
	assert_int_equal(mipart_sim_reload(f->dir), 0);
	assert_memory(f, GPU0, "NPS1");
	assert_compute(f, GPU0, "SPX");
	assert_compute(f, GPU1, "SPX");
}

static void test_memory_write_no_hive(void **state)
{
	struct scratch_dir *f = *state;

	create(f, "mi300x", 2, MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS1, true);
	assert_false(exists(f, "sys/bus/pci/devices/" GPU0 "/xgmi_hive_info"));
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, MEMORY, "NPS4"), 0);
	assert_int_equal(mipart_sim_reload(f->dir), 0);
	assert_memory(f, GPU0, "NPS4");
	assert_compute(f, GPU0, "CPX");
	assert_memory(f, GPU1, "NPS1"); /* not a hive member: its own request only */
	assert_compute(f, GPU1, "SPX");
}

static void test_memory_write_unsupported(void **state)
{
	struct scratch_dir *f = *state;

	/* an APU cannot switch NPS from the OS: its memory file is 0444, so opening it for
	 * writing fails with EACCES (amdgpu_gmc_sysfs_init; kernfs_fop_open; HARDWARE.md 8.4); each
	 * MI300A socket is in its own PCI domain (8.9) */
	create(f, "mi300a", 2, MIPART_COMPUTE_UNKNOWN, MIPART_MEMORY_UNKNOWN, false);
	assert_compute(f, APU0, "SPX");
	assert_compute(f, APU1, "SPX");
	assert_int_equal(mipart_sim_write_attr(f->dir, APU0, MEMORY, "NPS1"), -EACCES);
	assert_int_equal(mipart_sim_write_attr(f->dir, APU0, COMPUTE, "DPX"), -EINVAL); /* 6 XCC */
	assert_int_equal(mipart_sim_write_attr(f->dir, APU0, COMPUTE, "TPX"), 0);
	assert_compute(f, APU0, "TPX");
	assert_non_null(strstr(readf(f, TOPOLOGY "/nodes/2/properties"), "\ndomain 1\n"));
	assert_int_equal(kfd_nodes(f), 2 + 1 + 3);
	scratch_teardown(state);
	assert_int_equal(scratch_setup(state), 0);
	f = *state;
	create(f, "mi300a", 1, MIPART_COMPUTE_UNKNOWN, MIPART_MEMORY_UNKNOWN, false);
	assert_int_equal(mipart_sim_write_attr(f->dir, APU0, COMPUTE, "TPX"), 0);
	assert_int_equal(kfd_nodes(f), 1 + 3); /* one socket, one NUMA node */
	/* a product without partitioning has no attribute to write */
	scratch_teardown(state);
	assert_int_equal(scratch_setup(state), 0);
	f = *state;
	create(f, "mi210", 1, MIPART_COMPUTE_UNKNOWN, MIPART_MEMORY_UNKNOWN, false);
	assert_null(compute_of(f, GPU0));
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "SPX"), -ENOENT);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, MEMORY, "NPS1"), -ENOENT);
}

static void test_xcp_config(void **state)
{
	struct scratch_dir *f = *state;

	create(f, "mi300x", 1, MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS1, false);
	assert_string_equal(
	    readf(f, "sys/bus/pci/devices/" GPU0 "/compute_partition_config/xcp_config"), "SPX\n");
	assert_int_equal(
	    mipart_sim_write_attr(f->dir, GPU0, "compute_partition_config/xcp_config", "cpx"), 0);
	/* selects the profile shown, does not switch */
	assert_string_equal(
	    readf(f, "sys/bus/pci/devices/" GPU0 "/compute_partition_config/xcp_config"), "CPX\n");
	assert_string_equal(
	    readf(f, "sys/bus/pci/devices/" GPU0 "/compute_partition_config/supported_nps_configs"),
	    "NPS1, NPS4\n");
	assert_string_equal(
	    readf(f, "sys/bus/pci/devices/" GPU0 "/compute_partition_config/dma/num_inst"), "2\n");
	assert_compute(f, GPU0, "SPX");
	assert_int_equal(kfd_nodes(f), 3);
	assert_int_equal(
	    mipart_sim_write_attr(f->dir, GPU0, "compute_partition_config/xcp_config", "TPX"),
	    -EINVAL);
}

static void test_reload_auto(void **state)
{
	struct scratch_dir *f = *state;

	/* after every reload the compute mode is what AUTO picks, even with no NPS change */
	create(f, "mi300x", 1, MIPART_COMPUTE_CPX, MIPART_MEMORY_NPS1, false);
	assert_int_equal(mipart_sim_reload(f->dir), 0);
	assert_compute(f, GPU0, "SPX");
	assert_int_equal(kfd_nodes(f), 3);

	scratch_teardown(state);
	assert_int_equal(scratch_setup(state), 0);
	f = *state;
	create(f, "mi308x", 1, MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS1, false);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, MEMORY, "NPS4"), 0);
	assert_int_equal(mipart_sim_reload(f->dir), 0);
	assert_compute(f, GPU0, "CPX"); /* 4 memory partitions = 4 XCCs */
	assert_int_equal(kfd_nodes(f), 2 + 4);
}

static void test_fault_eio_times(void **state)
{
	struct scratch_dir *f = *state;
	unsigned gen;

	create(f, "mi300x", 2, MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS1, false);
	gen = generation(f);
	assert_int_equal(add_fault(f, -1, MIPART_SIM_FAULT_COMPUTE_WRITE, EIO, 2, 0), 0);
	/* a write refused by the parse comes first and does not use the fault */
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "XYZ"), -EINVAL);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "CPX"), -EIO);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU1, COMPUTE, "CPX"), -EIO);
	assert_compute(f, GPU0, "SPX");
	assert_compute(f, GPU1, "SPX");
	assert_int_equal(generation(f), gen);
	/* used up */
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "CPX"), 0);
	assert_compute(f, GPU0, "CPX");
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "SPX"), 0);

	/* -1: until cleared; only for its GPU */
	assert_int_equal(add_fault(f, 1, MIPART_SIM_FAULT_COMPUTE_WRITE, EPERM, -1, 0), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(mipart_sim_write_attr(f->dir, GPU1, COMPUTE, "CPX"), -EPERM);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "DPX"), 0);
	/* a compute fault does not touch memory writes */
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU1, MEMORY, "NPS1"), 0);
	assert_int_equal(mipart_sim_clear_faults(f->dir), 0);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU1, COMPUTE, "CPX"), 0);
	assert_compute(f, GPU1, "CPX");
}

static void test_fault_silent(void **state)
{
	struct scratch_dir *f = *state;
	unsigned gen;

	create(f, "mi300x", 1, MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS1, false);
	gen = generation(f);
	assert_int_equal(add_fault(f, 0, MIPART_SIM_FAULT_COMPUTE_WRITE, MIPART_SIM_SILENT, 1, 0),
			 0);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "CPX"), 0);
	assert_compute(f, GPU0, "SPX");
	assert_int_equal(generation(f), gen);
	assert_int_equal(kfd_nodes(f), 3);

	assert_int_equal(add_fault(f, -1, MIPART_SIM_FAULT_MEMORY_WRITE, MIPART_SIM_SILENT, 1, 0),
			 0);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, MEMORY, "NPS4"), 0);
	assert_int_equal(mipart_sim_reload(f->dir), 0);
	assert_memory(f, GPU0, "NPS1"); /* the request was never recorded */
	assert_compute(f, GPU0, "SPX");
}

static void test_fault_reload_eio(void **state)
{
	struct scratch_dir *f = *state;

	create(f, "mi300x", 1, MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS1, false);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, MEMORY, "NPS4"), 0);
	assert_int_equal(add_fault(f, -1, MIPART_SIM_FAULT_RELOAD, EIO, 1, 0), 0);
	assert_int_equal(mipart_sim_reload(f->dir), -EIO);
	/* unloaded: no partition files, no KFD topology, no /dev/kfd; the PCI device remains */
	assert_null(compute_of(f, GPU0));
	assert_null(memory_of(f, GPU0));
	assert_false(exists(f, TOPOLOGY));
	assert_false(exists(f, "dev/kfd"));
	assert_false(exists(f, "sys/bus/pci/devices/" GPU0 "/driver"));
	assert_non_null(readf(f, "sys/bus/pci/devices/" GPU0 "/vendor"));
	/* writes find no attribute */
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "CPX"), -ENOENT);
	/* the next reload loads it, with the NPS request applied at the unload */
	assert_int_equal(mipart_sim_reload(f->dir), 0);
	assert_memory(f, GPU0, "NPS4");
	assert_compute(f, GPU0, "CPX");
	assert_int_equal(kfd_nodes(f), 2 + 8);
	assert_true(exists(f, "dev/kfd"));
}

static void test_fault_reload_ebusy(void **state)
{
	struct scratch_dir *f = *state;

	create(f, "mi300x", 1, MIPART_COMPUTE_CPX, MIPART_MEMORY_NPS1, false);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, MEMORY, "NPS4"), 0);
	assert_int_equal(add_fault(f, -1, MIPART_SIM_FAULT_RELOAD, EBUSY, 1, 0), 0);
	assert_int_equal(mipart_sim_reload(f->dir), -EBUSY);
	/* unload refused: CPX stays (a reload would give AUTO's choice), NPS4 still pending */
	assert_compute(f, GPU0, "CPX");
	assert_memory(f, GPU0, "NPS1");
	assert_int_equal(kfd_nodes(f), 2 + 8);
	assert_int_equal(mipart_sim_reload(f->dir), 0);
	assert_memory(f, GPU0, "NPS4");
	assert_compute(f, GPU0, "CPX");
}

static void test_fault_delay(void **state)
{
	struct scratch_dir *f = *state;
	struct timespec t0;

	create(f, "mi300x", 1, MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS1, false);
	/* delay only: the write still succeeds, after at least the delay */
	assert_int_equal(add_fault(f, 0, MIPART_SIM_FAULT_COMPUTE_WRITE, 0, 1, 300), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "CPX"), 0);
	assert_true(ms_since(&t0) >= 300);
	assert_compute(f, GPU0, "CPX");

	/* delay with an error */
	assert_int_equal(add_fault(f, -1, MIPART_SIM_FAULT_MEMORY_WRITE, ETIMEDOUT, 1, 200), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, MEMORY, "NPS4"), -ETIMEDOUT);
	assert_true(ms_since(&t0) >= 200);

	/* delay on reload */
	assert_int_equal(add_fault(f, -1, MIPART_SIM_FAULT_RELOAD, 0, 1, 250), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(mipart_sim_reload(f->dir), 0);
	assert_true(ms_since(&t0) >= 250);
	assert_compute(f, GPU0, "SPX");
}

static void test_fault_arguments(void **state)
{
	struct scratch_dir *f = *state;
	int e = 0;

	create(f, "mi300x", 1, MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS1, false);
	assert_int_equal(add_fault(f, -1, MIPART_SIM_FAULT_COMPUTE_WRITE, EIO, 0, 0), -EINVAL);
	assert_int_equal(add_fault(f, -1, MIPART_SIM_FAULT_COMPUTE_WRITE, EIO, -2, 0), -EINVAL);
	assert_int_equal(add_fault(f, -1, MIPART_SIM_FAULT_COMPUTE_WRITE, -EIO, 1, 0), -EINVAL);
	assert_int_equal(add_fault(f, 0, MIPART_SIM_FAULT_RELOAD, EIO, 1, 0), -EINVAL);
	assert_int_equal(add_fault(f, 1, MIPART_SIM_FAULT_COMPUTE_WRITE, EIO, 1, 0), -ENOENT);
	/* none of them was recorded */
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, COMPUTE, "CPX"), 0);
	assert_int_equal(mipart_sim_reload(f->dir), 0);

	assert_int_equal(mipart_sim_error_parse("EIO", &e), 0);
	assert_int_equal(e, EIO);
	assert_int_equal(mipart_sim_error_parse("ebusy", &e), 0);
	assert_int_equal(e, EBUSY);
	assert_int_equal(mipart_sim_error_parse("SILENT", &e), 0);
	assert_int_equal(e, MIPART_SIM_SILENT);
	e = 77;
	assert_int_equal(mipart_sim_error_parse("EFOO", &e), -EINVAL);
	assert_int_equal(mipart_sim_error_parse("", &e), -EINVAL);
	assert_int_equal(mipart_sim_error_parse("EIO ", &e), -EINVAL);
	assert_int_equal(e, 77);
}

static void test_not_simulated(void **state)
{
	struct scratch_dir *f = *state;
	char path[256];

	/* an empty directory and a missing one hold no simulated driver */
	assert_true(util_pathf(path, sizeof(path), "%s/empty", f->dir) > 0);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(mipart_sim_write_attr(path, GPU0, COMPUTE, "CPX"), -ENOENT);
	assert_int_equal(mipart_sim_reload(path), -ENOENT);
	assert_true(util_pathf(path, sizeof(path), "%s/missing", f->dir) > 0);
	assert_int_equal(mipart_sim_reload(path), -ENOENT);
	/* a corrupt state file */
	assert_true(util_pathf(path, sizeof(path), "%s/host", f->dir) > 0);
	assert_int_equal(mipart_sim_create(path, &(mipart_sim_options){.gpus = 1}, NULL), 0);
	assert_int_equal(mipart_sim_write_attr(path, GPU0, COMPUTE, "CPX"), 0);
	assert_true(util_pathf(path, sizeof(path), "%s/host/mipart-sim.json", f->dir) > 0);
	assert_int_equal(util_write_file(path, "{\"version\": 1,", 14, 0644), 0);
	assert_true(util_pathf(path, sizeof(path), "%s/host", f->dir) > 0);
	assert_int_equal(mipart_sim_write_attr(path, GPU0, COMPUTE, "SPX"), -EBADMSG);
	assert_int_equal(mipart_sim_reload(path), -EBADMSG);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, scratch_setup, scratch_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_create_refusals),	  T(test_create_nonempty),
	    T(test_create_auto),	  T(test_compute_write_refusals),
	    T(test_compute_write_prefix), T(test_compute_same_mode),
	    T(test_generation),		  T(test_busy),
	    T(test_hold_arguments),	  T(test_memory_write),
	    T(test_memory_write_no_hive), T(test_memory_write_unsupported),
	    T(test_xcp_config),		  T(test_reload_auto),
	    T(test_fault_eio_times),	  T(test_fault_silent),
	    T(test_fault_reload_eio),	  T(test_fault_reload_ebusy),
	    T(test_fault_delay),	  T(test_fault_arguments),
	    T(test_not_simulated),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
