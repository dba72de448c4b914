// SPDX-License-Identifier: MIT
/*
 * Unit tests for cdi.c: the CDI device-name rule (api/producer/identifiers.go:
 * ValidateDeviceName), duplicate names refused one by one instead of spoiling the spec, and
 * specs generated from simulated hosts made in mkdtemp: names, device nodes, two GPUs that
 * report one unique_id, a unique_id of 0, no GPU at all, stable output, the atomic write and
 * the locked refresh. The structural check against the CDI schema is in
 * tests/integration/t-cdi.sh.
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
#include <unistd.h>

#include <jansson.h>

#include "scratch.h"
#include "mipart/cdi.h"
#include "mipart/host.h"
#include "mipart/sim.h"
#include "mipart/topology.h"
#include "cdi.h"
#include "util.h"
#include "banned.h"

#define KFD_NODES "sys/class/kfd/kfd/topology/nodes"

struct fixture {
	char dir[128];
	mipart_host *host;
	mipart_topology *topo;
	char *json;
	json_t *spec;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	if (!scratch_mkdtemp(f->dir, sizeof(f->dir), "cdi") ||
	    mipart_host_new(f->dir, &f->host) < 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	json_decref(f->spec);
	free(f->json);
	f->topo = mipart_topology_free(f->topo);
	f->host = mipart_host_free(f->host);
	scratch_remove(f->dir);
	free(f);
	return 0;
}

static void create(struct fixture *f, unsigned gpus, mipart_compute_mode c)
{
	mipart_sim_options o = { .gpus = gpus, .compute = c };
	const char *why = NULL;

	if (mipart_sim_create(f->dir, &o, &why) != 0)
		fail_msg("sim create: %s", why ? why : "");
}

/* Load the topology, generate the spec into f->json and parse it into f->spec. */
static void generate(struct fixture *f)
{
	f->topo = mipart_topology_free(f->topo);
	assert_int_equal(mipart_topology_load(f->host, &f->topo), 0);
	free(f->json);
	f->json = NULL;
	assert_int_equal(mipart_cdi_generate(f->topo, f->host, &f->json), 0);
	assert_non_null(f->json);
	json_decref(f->spec);
	f->spec = json_loads(f->json, 0, NULL);
	assert_non_null(f->spec);
}

/* The device names of f->spec, space separated. */
static const char *names(const struct fixture *f)
{
	static char buf[4096];
	size_t len = 0, i;
	json_t *d;

	buf[0] = '\0';
	json_array_foreach(json_object_get(f->spec, "devices"), i, d)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? " " : "",
					json_string_value(json_object_get(d, "name")));
	assert_true(len < sizeof(buf));
	return buf;
}

static json_t *device(const struct fixture *f, const char *name)
{
	size_t i;
	json_t *d;

	json_array_foreach(json_object_get(f->spec, "devices"), i, d)
		if (!strcmp(json_string_value(json_object_get(d, "name")), name))
			return d;
	return NULL;
}

/* The device node paths of a device, comma separated. */
static const char *nodes(const struct fixture *f, const char *name)
{
	static char buf[1024];
	json_t *d = device(f, name), *list, *n;
	size_t len = 0, i;

	assert_non_null(d);
	list = json_object_get(json_object_get(d, "containerEdits"), "deviceNodes");
	buf[0] = '\0';
	json_array_foreach(list, i, n)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? "," : "",
					json_string_value(json_object_get(n, "path")));
	return buf;
}

/* Write "unique_id <value>" into the properties of every KFD GPU node of the simulated host. */
static void set_unique_ids(const struct fixture *f, const char *value)
{
	char dir[256], path[512], buf[UTIL_ATTR_MAX + 1], out[UTIL_ATTR_MAX + 64];
	struct dirent *de;
	DIR *d;

	assert_true(util_pathf(dir, sizeof(dir), "%s/%s", f->dir, KFD_NODES) > 0);
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d))) {
		ssize_t n;
		char *line;
		size_t len = 0;

		if (de->d_name[0] == '.')
			continue;
		assert_true(util_pathf(path, sizeof(path), "%s/%s/properties", dir, de->d_name) >
			    0);
		n = util_read_file(path, buf, UTIL_ATTR_MAX);
		assert_true(n > 0);
		if (!strstr(buf, "\nunique_id "))
			continue;
		for (char *save = NULL, *s = buf; (line = strtok_r(s, "\n", &save)); s = NULL) {
			bool uid = !strncmp(line, "unique_id ", 10);

			len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s\n",
						uid ? "unique_id " : line, uid ? value : "");
		}
		assert_true(len < sizeof(out));
		assert_int_equal(util_write_file(path, out, len, 0444), 0);
	}
	closedir(d);
	/* and the GPU's own id, which names the GPU (amdgpu_pm.c: unique_id_show, "%016llx\n") */
	assert_true(util_pathf(dir, sizeof(dir), "%s/sys/bus/pci/devices", f->dir) > 0);
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d))) {
		size_t len;

		if (de->d_name[0] == '.')
			continue;
		assert_true(util_pathf(path, sizeof(path), "%s/%s/unique_id", dir, de->d_name) > 0);
		len = (size_t)snprintf(out, sizeof(out), "%016llx\n", strtoull(value, NULL, 10));
		assert_int_equal(util_write_file(path, out, len, 0444), 0);
	}
	closedir(d);
}

static void test_name_valid(void **state)
{
	static const char *const good[] = {
		"0", "7", "a", "Z", "0.3", "63.7", "all", "745d896f131fe806-3", "a:b", "a_b-c.d:e",
		"A1", "gpu0", "0-0",
	};
	static const char *const bad[] = {
		"", "-0", "0-", ".0", "0.", ":a", "a:", "_a", "a_", "a b", "a/b", "a=b", "a,b",
		"a\nb", "\xc3\xa9", "a\xc3\xa9", "a*", "*",
	};

	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		if (!cdi_name_valid(good[i]))
			fail_msg("'%s' should be a valid CDI device name", good[i]);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (cdi_name_valid(bad[i]))
			fail_msg("'%s' should not be a valid CDI device name", bad[i]);
	assert_false(cdi_name_valid(NULL));
}

static void test_add_device_duplicate(void **state)
{
	json_t *devices = json_array(), *taken = json_object(), *edits = json_object();

	assert_non_null(devices);
	assert_int_equal(cdi_add_device(devices, taken, "0.0", edits), 0);
	assert_int_equal(cdi_add_device(devices, taken, "0.0", edits), -EEXIST);
	assert_int_equal(cdi_add_device(devices, taken, "0.1", edits), 0);
	assert_int_equal(cdi_add_device(devices, taken, "-bad", edits), -EINVAL);
	assert_int_equal(cdi_add_device(devices, taken, "", edits), -EINVAL);
	assert_int_equal(json_array_size(devices), 2);
	assert_int_equal(json_object_size(taken), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(devices, 1), "name")),
			    "0.1");
	/* the devices hold their own references: edits stays the caller's */
	json_decref(devices);
	assert_int_equal(edits->refcount, 1);
	json_decref(edits);
	json_decref(taken);
}

static void test_generate_spx(void **state)
{
	struct fixture *f = *state;
	char *again = NULL;

	create(f, 2, MIPART_COMPUTE_SPX);
	generate(f);
	assert_string_equal(json_string_value(json_object_get(f->spec, "cdiVersion")), "0.6.0");
	assert_string_equal(json_string_value(json_object_get(f->spec, "kind")), "amd.com/gpu");
	assert_null(json_object_get(f->spec, "containerEdits"));
	{
		const mipart_gpu_info *g0 = mipart_topology_gpu(f->topo, 0);
		const mipart_gpu_info *g1 = mipart_topology_gpu(f->topo, 1);
		char want[256];

		assert_int_equal(strlen(g0->unique_id), 16);
		snprintf(want, sizeof(want), "0 0.0 %s-0 1 1.0 %s-0 all", g0->unique_id,
			 g1->unique_id);
		assert_string_equal(names(f), want);
	}
	assert_string_equal(nodes(f, "0.0"), "/dev/kfd,/dev/dri/renderD128");
	assert_string_equal(nodes(f, "1.0"), "/dev/kfd,/dev/dri/renderD136");
	assert_string_equal(nodes(f, "all"), "/dev/kfd,/dev/dri/renderD128,/dev/dri/renderD136");
	/* host paths: nothing under the root prefix */
	assert_null(strstr(f->json, f->dir));
	/* the same topology gives the same bytes */
	assert_int_equal(mipart_cdi_generate(f->topo, f->host, &again), 0);
	assert_string_equal(again, f->json);
	free(again);
	assert_int_equal(f->json[strlen(f->json) - 1], '\n');
}

static void test_generate_cpx(void **state)
{
	struct fixture *f = *state;
	const char *uid;
	char name[64], want[64];
	json_t *env;

	create(f, 1, MIPART_COMPUTE_CPX);
	generate(f);
	uid = mipart_topology_gpu(f->topo, 0)->unique_id;
	assert_int_equal(json_array_size(json_object_get(f->spec, "devices")), 1 + 8 + 8 + 1);
	for (int x = 0; x < 8; x++) {
		snprintf(name, sizeof(name), "0.%d", x);
		snprintf(want, sizeof(want), "/dev/kfd,/dev/dri/renderD%d", 128 + x);
		assert_string_equal(nodes(f, name), want);
		snprintf(name, sizeof(name), "%s-%d", uid, x);
		assert_string_equal(nodes(f, name), want);
	}
	assert_string_equal(nodes(f, "0"),
			    "/dev/kfd,/dev/dri/renderD128,/dev/dri/renderD129,/dev/dri/renderD130,"
			    "/dev/dri/renderD131,/dev/dri/renderD132,/dev/dri/renderD133,"
			    "/dev/dri/renderD134,/dev/dri/renderD135");
	env = json_object_get(json_object_get(device(f, "0.6"), "containerEdits"), "env");
	assert_int_equal(json_array_size(env), 3);
	assert_string_equal(json_string_value(json_array_get(env, 0)), "ROCR_VISIBLE_DEVICES=0");
	assert_string_equal(json_string_value(json_array_get(env, 1)), "MIPART_PARTITION=0.6");
	assert_string_equal(json_string_value(json_array_get(env, 2)),
			    "MIPART_GPU_BDF=0000:05:00.0");
	env = json_object_get(json_object_get(device(f, "0"), "containerEdits"), "env");
	assert_string_equal(json_string_value(json_array_get(env, 0)),
			    "MIPART_PARTITION=0.0,0.1,0.2,0.3,0.4,0.5,0.6,0.7");
}

/* Two GPUs that report one unique_id: the second GPU's unique-id names are skipped, its index
 * names stay, and the spec has no name twice. */
static void test_generate_duplicate_unique_id(void **state)
{
	struct fixture *f = *state;
	size_t i, j;
	json_t *devices, *a, *b;

	create(f, 2, MIPART_COMPUTE_SPX);
	set_unique_ids(f, "12345");
	generate(f);
	assert_string_equal(mipart_topology_gpu(f->topo, 0)->unique_id, "0000000000003039");
	assert_string_equal(mipart_topology_gpu(f->topo, 1)->unique_id, "0000000000003039");
	assert_string_equal(names(f), "0 0.0 0000000000003039-0 1 1.0 all");
	/* the name goes with GPU 0's partition, not GPU 1's */
	assert_string_equal(nodes(f, "0000000000003039-0"), "/dev/kfd,/dev/dri/renderD128");
	devices = json_object_get(f->spec, "devices");
	json_array_foreach(devices, i, a) {
		const char *name = json_string_value(json_object_get(a, "name"));

		json_array_foreach(devices, j, b)
			if (i != j)
				assert_string_not_equal(name,
							json_string_value(json_object_get(b, "name")));
	}
}

/* unique_id 0 is KFD's "none": no unique-id names (all of them would be "0000000000000000-0") */
static void test_generate_zero_unique_id(void **state)
{
	struct fixture *f = *state;

	create(f, 2, MIPART_COMPUTE_SPX);
	set_unique_ids(f, "0");
	generate(f);
	assert_string_equal(names(f), "0 0.0 1 1.0 all");
}

static void test_generate_no_gpu(void **state)
{
	struct fixture *f = *state;
	char path[256], *json = (char *)"untouched";

	assert_true(util_pathf(path, sizeof(path), "%s/sys/bus/pci/devices", f->dir) > 0);
	assert_int_equal(util_mkdir_p(path), 0);
	assert_true(util_pathf(path, sizeof(path), "%s/%s", f->dir, KFD_NODES) > 0);
	assert_int_equal(util_mkdir_p(path), 0);
	assert_int_equal(mipart_topology_load(f->host, &f->topo), 0);
	assert_int_equal(mipart_cdi_generate(f->topo, f->host, &json), -ENODEV);
	assert_string_equal(json, "untouched");
	assert_int_equal(mipart_cdi_refresh(f->host, 1000), -ENODEV);
	assert_true(util_pathf(path, sizeof(path), "%s" MIPART_CDI_PATH, f->dir) > 0);
	assert_int_not_equal(access(path, F_OK), 0);
}

static void test_write(void **state)
{
	struct fixture *f = *state;
	char path[256], buf[64], other[256];
	DIR *d;
	struct dirent *de;
	unsigned n = 0;

	assert_int_equal(mipart_cdi_write(f->host, NULL, "{\"a\": 1}\n"), 0);
	assert_true(util_pathf(path, sizeof(path), "%s/etc/cdi/amd.com-gpu.json", f->dir) > 0);
	assert_int_equal(util_read_file(path, buf, sizeof(buf) - 1), 9);
	assert_string_equal(buf, "{\"a\": 1}\n");
	assert_int_equal(mipart_cdi_write(f->host, NULL, "{}\n"), 0);
	assert_int_equal(util_read_file(path, buf, sizeof(buf) - 1), 3);
	/* nothing but the spec in /etc/cdi: no temporary left */
	assert_true(util_pathf(other, sizeof(other), "%s/etc/cdi", f->dir) > 0);
	d = opendir(other);
	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	assert_int_equal(n, 1);
	/* an explicit path is taken as given, not under the root */
	assert_true(util_pathf(other, sizeof(other), "%s/spec.json", f->dir) > 0);
	assert_int_equal(mipart_cdi_write(f->host, other, "{}\n"), 0);
	assert_int_equal(util_read_file(other, buf, sizeof(buf) - 1), 3);
	assert_true(util_pathf(other, sizeof(other), "%s/missing/spec.json", f->dir) > 0);
	assert_int_equal(mipart_cdi_write(f->host, other, "{}\n"), -ENOENT);
}

static void test_refresh(void **state)
{
	struct fixture *f = *state;
	char path[256], buf[16384];

	create(f, 2, MIPART_COMPUTE_SPX);
	assert_int_equal(mipart_cdi_refresh(f->host, 1000), 0);
	generate(f);
	assert_true(util_pathf(path, sizeof(path), "%s" MIPART_CDI_PATH, f->dir) > 0);
	assert_true(util_read_file(path, buf, sizeof(buf) - 1) > 0);
	assert_string_equal(buf, f->json);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_valid),
		cmocka_unit_test(test_add_device_duplicate),
		cmocka_unit_test_setup_teardown(test_generate_spx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generate_cpx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generate_duplicate_unique_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generate_zero_unique_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generate_no_gpu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
