// SPDX-License-Identifier: MIT
/*
 * Regression tests for bugs found by review and fixed: numa_node "-1" (discover.c), fault "on"
 * out of range (sim-driver.c), util_mkdir_p over a regular file, a SILENT reload fault that
 * reloaded anyway, and util_write_file's temporary name past NAME_MAX for a long file name.
 * Each test states the function, the input and what must happen.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scratch.h"
#include "mipart/host.h"
#include "mipart/journal.h"
#include "journal.h"
#include "mipart/sim.h"
#include "mipart/topology.h"
#include "util.h"
#include "banned.h"

#define GPU0 "0000:05:00.0"

static void put(const char *path, const char *data)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(data, fp);
	assert_int_equal(fclose(fp), 0);
}

static const char *read_rel(const struct scratch_dir *f, const char *rel)
{
	static char buf[UTIL_ATTR_MAX + 1];
	char path[512];

	assert_true(util_pathf(path, sizeof(path), "%s/%s", f->dir, rel) > 0);
	return util_read_file(path, buf, UTIL_ATTR_MAX) >= 0 ? buf : NULL;
}

/*
 * BUG 1 (discover.c: gpu_read_pci, read_u64_attr(..., "numa_node", false, ...)).
 * Input: /sys/bus/pci/devices/<bdf>/numa_node = "-1\n", which the kernel writes for a device
 * with no NUMA affinity (drivers/pci/pci-sysfs.c: numa_node_show, "%d\n" of dev->numa_node,
 * NUMA_NO_NODE = -1; common on single-socket hosts and VMs; docs/discovery.md lists "%d\n").
 * Expected: numa_node -1 (unknown) and no diagnostic: this is a valid kernel value.
 * Got: the unsigned parser refuses the sign and a diagnostic
 * "cannot parse '.../numa_node': not in the format the kernel writes" is added for every GPU.
 */
static void bug_discover_numa_node_minus_one(void **state)
{
	struct scratch_dir *f = *state;
	mipart_sim_options o = {.gpus = 1, .compute = MIPART_COMPUTE_UNKNOWN};
	mipart_topology *t = NULL;
	mipart_host *h = NULL;
	char path[512];

	assert_int_equal(mipart_sim_create(f->dir, &o, NULL), 0);
	util_pathf(path, sizeof(path), "%s/sys/bus/pci/devices/" GPU0 "/numa_node", f->dir);
	put(path, "-1\n");
	assert_int_equal(mipart_host_new(f->dir, &h), 0);
	assert_int_equal(mipart_topology_load(h, &t), 0);
	assert_int_equal(mipart_topology_gpu(t, 0)->numa_node, -1);
	for (size_t i = 0; i < mipart_topology_diag_count(t); i++)
		print_message("diag: %s\n", mipart_topology_diag(t, i));
	assert_int_equal(mipart_topology_diag_count(t), 0);
	mipart_topology_free(t);
	mipart_host_free(h);
}

/*
 * BUG 2 (util.c: util_mkdir_p).
 * Input: a path that exists as a regular file.
 * Expected: -EEXIST or -ENOTDIR (`mkdir -p file` fails with "File exists"); the header says
 * "create a directory", and callers then use the path as a directory.
 * Got: 0, because every EEXIST from mkdir(2) is ignored without checking that the existing
 * path is a directory.
 */
static void bug_mkdir_p_on_regular_file(void **state)
{
	struct scratch_dir *f = *state;
	char path[512];

	util_pathf(path, sizeof(path), "%s/file", f->dir);
	put(path, "x");
	assert_true(util_mkdir_p(path) < 0);
}

/*
 * BUG 3 (sim-driver.c: mipart_sim_add_fault -> sim-state.c: fault_json).
 * Input: a mipart_sim_fault whose `on` is not one of the three mipart_sim_fault_on values
 * (e.g. (mipart_sim_fault_on)3, as from an unchecked cast of user input).
 * Expected: -EINVAL, like the other fields mipart_sim_add_fault validates (times, error, gpu).
 * Got: `on` is not checked; sim_state_save -> fault_json reads fault_on_names[3], one past the
 * end of a 3-element static array (ASan: global-buffer-overflow); without ASan the garbage
 * pointer is handed to json_pack.
 */
static void bug_sim_fault_on_unchecked(void **state)
{
	struct scratch_dir *f = *state;
	mipart_sim_options o = {.gpus = 1, .compute = MIPART_COMPUTE_UNKNOWN};
	mipart_sim_fault fault = {-1, (mipart_sim_fault_on)3, EIO, 1, 0};

	assert_int_equal(mipart_sim_create(f->dir, &o, NULL), 0);
	assert_int_equal(mipart_sim_add_fault(f->dir, &fault), -EINVAL);
}

/*
 * BUG 4, or a gap in the spec (sim-driver.c: step_reload).
 * Input: a reload fault with error MIPART_SIM_SILENT.
 * Expected (include/mipart/sim.h: "a fault whose write reports success but changes nothing";
 * docs/simulator.md: "SILENT (the write reports success and changes nothing)"): the reload
 * returns 0 and nothing changes: the pending NPS request stays pending, the compute mode stays.
 * Got: the fault is treated as "no error": the module is unloaded and loaded for real, the
 * pending NPS mode is applied and the compute mode is reset to AUTO's choice. Either implement
 * SILENT for reloads or refuse it in mipart_sim_add_fault and document that.
 */
static void bug_sim_silent_reload_changes_state(void **state)
{
	struct scratch_dir *f = *state;
	mipart_sim_options o = {.gpus = 1, .compute = MIPART_COMPUTE_CPX};
	mipart_sim_fault fault = {-1, MIPART_SIM_FAULT_RELOAD, MIPART_SIM_SILENT, 1, 0};

	assert_int_equal(mipart_sim_create(f->dir, &o, NULL), 0);
	assert_int_equal(mipart_sim_write_attr(f->dir, GPU0, "current_memory_partition", "NPS4"),
			 0);
	assert_int_equal(mipart_sim_add_fault(f->dir, &fault), 0);
	assert_int_equal(mipart_sim_reload(f->dir), 0);
	assert_string_equal(read_rel(f, "sys/bus/pci/devices/" GPU0 "/current_memory_partition"),
			    "NPS1\n");
}

/*
 * BUG 5, minor (util.c: util_write_file).
 * Input: a target whose last component is 250 bytes long: a valid name (NAME_MAX is 255).
 * Expected: 0 and the file written, as open(2)/fopen do for that name.
 * Got: -ENAMETOOLONG, because the temporary file is "<name>.tmp<pid>" in the same directory,
 * which is over NAME_MAX. A shorter temporary name (".tmp<pid>-<hash>", or mkstemp on
 * "<dir>/.mipart-XXXXXX") avoids it. No caller in mipart writes such names today.
 */
static void bug_write_file_long_name(void **state)
{
	struct scratch_dir *f = *state;
	char name[251], path[512];
	FILE *fp;

	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_true(util_pathf(path, sizeof(path), "%s/%s", f->dir, name) > 0);
	fp = fopen(path, "w"); /* the name itself is fine */
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(util_write_file(path, "x", 1, 0644), 0);
}

/*
 * Review of the NPS driver note (journal.c: journal_nps_request).
 * Input: a pending request recorded by one loaded driver, then a new request of the same GPU
 * (by the public mipart_journal_nps_request, which knows no driver, or by another driver).
 * Expected: the row names the driver of the new request, or none: never the replaced one.
 * Got (before): the request and its driver were two statements, and the upsert kept the old
 * driver, so a change killed between them left a request that the next reconcile forgot as
 * "gone with its driver" although the loaded driver held it.
 */
static void bug_nps_request_keeps_old_driver(void **state)
{
	mipart_journal *j = NULL;
	char d[64];

	(void)state;
	assert_int_equal(mipart_journal_open(":memory:", &j), 0);
	assert_int_equal(journal_nps_request(j, "0000:05:00.0", "NPS4", 1, "0:41"), 0);
	assert_int_equal(journal_nps_driver_get(j, "0000:05:00.0", d, sizeof(d)), 0);
	assert_string_equal(d, "0:41");
	assert_int_equal(journal_nps_request(j, "0000:05:00.0", "NPS2", 2, "0:97"), 0);
	assert_int_equal(journal_nps_driver_get(j, "0000:05:00.0", d, sizeof(d)), 0);
	assert_string_equal(d, "0:97");
	assert_int_equal(mipart_journal_nps_request(j, "0000:05:00.0", "NPS4", 3), 0);
	assert_int_equal(journal_nps_driver_get(j, "0000:05:00.0", d, sizeof(d)), 0);
	assert_string_equal(d, "");
	mipart_journal_free(j);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, scratch_setup, scratch_teardown)
	const struct CMUnitTest tests[] = {
	    T(bug_discover_numa_node_minus_one), T(bug_mkdir_p_on_regular_file),
	    T(bug_sim_fault_on_unchecked),	 T(bug_sim_silent_reload_changes_state),
	    T(bug_write_file_long_name),	 T(bug_nps_request_keeps_old_driver),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
