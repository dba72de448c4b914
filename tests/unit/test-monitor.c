// SPDX-License-Identifier: MIT
/*
 * Unit tests for the monitoring snapshot (monitor.c) through its public API (mipart/monitor.h),
 * the one `top`, `serve` and the Python binding share: one row per partition in topology order
 * with the simulated load on it, the status document as JSON text that parses and carries each
 * partition's readings, the exposition with one series per partition, and the selection of
 * series families.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scratch.h"
#include "mipart/host.h"
#include "mipart/monitor.h"
#include "mipart/sim.h"
#include "banned.h"

static mipart_monitor *collect(const struct scratch_dir *f, mipart_host **ret_host)
{
	mipart_monitor *m = NULL;

	assert_int_equal(mipart_host_new(f->dir, ret_host), 0);
	assert_int_equal(mipart_monitor_collect(*ret_host, &m), 0);
	return m;
}

static void create_cpx_with_load(const struct scratch_dir *f)
{
	mipart_sim_options o = { .gpus = 2, .compute = MIPART_COMPUTE_CPX,
				 .memory = MIPART_MEMORY_UNKNOWN, .metrics = 8 };
	mipart_sim_load l = { .gpu = 1, .xcp = 3, .busy = 77, .vram = -1, .power_w = -1,
			      .temp_c = -1, .mem_temp_c = -1, .gfxclk_mhz = -1 };

	assert_int_equal(mipart_sim_create(f->dir, &o, NULL), 0);
	assert_int_equal(mipart_sim_set_load(f->dir, &l), 0);
}

/* One row per partition, by GPU then XCP, each with its own reading. */
static void test_rows(void **state)
{
	struct scratch_dir *f = *state;
	mipart_host *h = NULL;
	mipart_monitor *m;
	char *text = NULL;
	json_t *o;

	create_cpx_with_load(f);
	m = collect(f, &h);
	assert_int_equal(mipart_monitor_row_count(m), 16);
	for (size_t i = 0; i < 16; i++) {
		const mipart_monitor_row *r = mipart_monitor_row_get(m, i);

		assert_non_null(r);
		assert_int_equal(r->gpu->index, i / 8);
		assert_int_equal(r->part->xcp, (int)(i % 8));
		assert_non_null(r->reading);
		assert_int_equal(r->reading->busy_pct, i == 11 ? 77 : 0);
	}
	assert_null(mipart_monitor_row_get(m, 16));
	assert_int_equal(mipart_monitor_row_json(m, 16, &text), -ENOENT);
	assert_int_equal(mipart_monitor_row_json(m, 11, &text), 0);
	o = json_loads(text, 0, NULL);
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "busy_percent")), 77);
	assert_int_equal(json_integer_value(json_object_get(o, "partition")), 3);
	json_decref(o);
	free(text);
	assert_false(mipart_monitor_change_in_progress(m));
	mipart_monitor_free(m);
	mipart_host_free(h);
}

/* The status document parses and puts each partition's readings under its partition. */
static void test_status_json(void **state)
{
	struct scratch_dir *f = *state;
	mipart_host *h = NULL;
	mipart_monitor *m;
	char *text = NULL;
	size_t len = 0;
	json_t *o, *p;

	create_cpx_with_load(f);
	m = collect(f, &h);
	assert_int_equal(mipart_monitor_status_json(m, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	o = json_loads(text, 0, NULL);
	assert_non_null(o);
	assert_int_equal(json_array_size(json_object_get(o, "gpus")), 2);
	p = json_array_get(json_object_get(json_array_get(json_object_get(o, "gpus"), 1),
					   "partitions"), 3);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(p, "readings"),
							    "busy_percent")), 77);
	assert_true(json_is_null(json_object_get(o, "config_in_sync"))); /* no change recorded */
	json_decref(o);
	free(text);
	mipart_monitor_free(m);
	mipart_host_free(h);
}

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *c = strstr(text, needle); c; c = strstr(c + 1, needle))
		n++;
	return n;
}

/* One mipart_partition_info series per partition; the default selection is mipart's. */
static void test_prometheus(void **state)
{
	struct scratch_dir *f = *state;
	mipart_host *h = NULL;
	mipart_monitor *m;
	char *text = NULL;
	size_t len = 0;

	create_cpx_with_load(f);
	m = collect(f, &h);
	assert_int_equal(mipart_monitor_prometheus(m, 0, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	assert_int_equal(count(text, "\nmipart_partition_info{"), 16);
	assert_int_equal(count(text, "\nmipart_gpu_info{"), 2);
	assert_int_equal(count(text, "\ngpu_gfx_activity{"), 0);
	free(text);
	mipart_monitor_free(m);
	mipart_host_free(h);

	/* a function amdgpu does not drive (here GPU 1 bound to vfio-pci, as a VF or a GIM PF
	 * would be: docs/sriov.md) is no GPU of the host's series (mipart_gpu_usable) */
	{
		char link[600];

		snprintf(link, sizeof(link), "%s/sys/devices/pci0000:20/0000:20:01.1/0000:26:00.0/driver", f->dir);
		assert_int_equal(unlink(link), 0);
		assert_int_equal(symlink("../../../../bus/pci/drivers/vfio-pci", link), 0);
	}
	m = collect(f, &h);
	assert_int_equal(mipart_monitor_prometheus(m, 0, &text, &len), 0);
	assert_int_equal(count(text, "\nmipart_gpu_info{"), 1);
	{
		const char *line = strstr(text, "\nmipart_gpu_info{");
		const char *end = line ? strchr(line + 1, '\n') : NULL;
		const char *at = line ? strstr(line, "0000:05:00.0") : NULL;

		assert_non_null(end);
		assert_true(at && at < end); /* the one left is GPU 0 */
	}
	free(text);
	mipart_monitor_free(m);
	mipart_host_free(h);
}

/* AMD device-metrics-exporter's series: one per logical device with its labels, socket-wide
 * readings on the primary partition only (power 0 on the others), VRAM per partition in MiB. */
static void test_prometheus_amd(void **state)
{
	struct scratch_dir *f = *state;
	mipart_host *h = NULL;
	mipart_monitor *m;
	char *text = NULL, want[512];
	size_t len = 0;

	create_cpx_with_load(f);
	m = collect(f, &h);
	assert_int_equal(mipart_monitor_prometheus(m, MIPART_MONITOR_SERIES_AMD, &text, &len), 0);
	assert_int_equal(count(text, "\nmipart_"), 0);
	assert_int_equal(count(text, "\ngpu_total_vram{"), 16);
	assert_int_equal(count(text, "\ngpu_used_vram{"), 16);
	assert_int_equal(count(text, "\ngpu_gfx_busy_instantaneous{"), 16);
	assert_int_equal(count(text, "\ngpu_junction_temperature{"), 2);
	assert_int_equal(count(text, "\ngpu_package_power{"), 16);
	assert_int_equal(count(text, "# TYPE gpu_clock gauge"), 1);
	assert_non_null(strstr(text, "\ngpu_nodes_total{hostname=\""));
	/* partition 3 of GPU 1 is logical device 11, busy 77 */
	assert_non_null(strstr(text, "gpu_gfx_busy_instantaneous{card_model=\"MI300X\","
				     "gpu_compute_partition_type=\"cpx\",gpu_id=\"11\","
				     "gpu_memory_partition_type=\"nps1\",gpu_partition_id=\"3\","));
	/* the primary partition carries the socket's power, the others 0 */
	snprintf(want, sizeof(want), "gpu_id=\"9\",gpu_memory_partition_type=\"nps1\","
		 "gpu_partition_id=\"1\"");
	{
		const char *c = strstr(text, "\ngpu_package_power{");

		assert_non_null(c);
		c = strstr(c, want);
		assert_non_null(c);
		c = strchr(c, '}');
		assert_int_equal(strncmp(c, "} 0\n", 4), 0);
	}
	assert_non_null(strstr(text, "serial_number=\"SIM"));
	free(text);
	assert_int_equal(mipart_monitor_prometheus(m, MIPART_MONITOR_SERIES_AMD |
						       MIPART_MONITOR_SERIES_MIPART, &text, &len), 0);
	assert_int_equal(count(text, "\nmipart_partition_info{"), 16);
	assert_int_equal(count(text, "\ngpu_total_vram{"), 16);
	free(text);
	mipart_monitor_free(m);
	mipart_host_free(h);
}

/* The status page: a tile per partition, and a process name that is markup shown as text. */
static void test_html(void **state)
{
	struct scratch_dir *f = *state;
	mipart_sim_options o = { .gpus = 1, .compute = MIPART_COMPUTE_QPX,
				 .memory = MIPART_MEMORY_UNKNOWN, .metrics = 8 };
	mipart_host *h = NULL;
	mipart_monitor *m;
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(mipart_sim_create(f->dir, &o, NULL), 0);
	assert_int_equal(mipart_sim_hold_partition(f->dir, 0, 2, 77, "<b onclick=x>'", NULL), 0);
	m = collect(f, &h);
	assert_int_equal(mipart_monitor_html(m, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	assert_int_equal(count(text, "class=\"tile\" data-partition=\"0."), 4);
	assert_non_null(strstr(text, "data-partition=\"0.3\""));
	assert_non_null(strstr(text, "&lt;b onclick=x&gt;&#39;:77"));
	assert_null(strstr(text, "<b onclick"));
	assert_non_null(strstr(text, "<div id=\"running\" class=\"banner run\" role=\"alert\" hidden>"));
	free(text);
	mipart_monitor_free(m);
	mipart_host_free(h);
}

static void test_free_null(void **state)
{
	(void)state;
	assert_null(mipart_monitor_free(NULL));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, scratch_setup, scratch_teardown)
	const struct CMUnitTest tests[] = {
		T(test_rows),
		T(test_status_json),
		T(test_prometheus),
		T(test_prometheus_amd),
		T(test_html),
		cmocka_unit_test(test_free_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
