// SPDX-License-Identifier: MIT
/*
 * The kubelet's device manager checkpoint (kubelet.h): the registered resources, the amd.com
 * device count, and the resource a pod asks for (AMD's plugin, single or mixed naming).
 * Texts follow pkg/kubelet/cm/devicemanager/checkpoint/checkpoint.go Data (PodDeviceEntries
 * with DeviceIDs per NUMA node, RegisteredDevices, Checksum).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scratch.h"
#include "mipart/host.h"
#include "mipart/kubelet.h"
#include "util.h"
#include "banned.h"

static const char single[] =
	"{\"Data\":{\"PodDeviceEntries\":[{\"PodUID\":\"5c3e1a42-0000-4000-8000-000000000001\","
	"\"ContainerName\":\"vllm\",\"ResourceName\":\"amd.com/gpu\",\"DeviceIDs\":{\"0\":"
	"[\"0000:05:00.0\"]},\"AllocResp\":\"\"}],\"RegisteredDevices\":{\"amd.com/gpu\":"
	"[\"0000:05:00.0\",\"0000:26:00.0\",\"0000:46:00.0\"],\"example.com/nic\":[\"a\"]}},"
	"\"Checksum\":2812475212}";
static const char mixed[] =
	"{\"Data\":{\"PodDeviceEntries\":null,\"RegisteredDevices\":{\"amd.com/cpx_nps4\":"
	"[\"0\",\"1\",\"2\",\"3\"],\"amd.com/spx_nps1\":[\"4\"]}},\"Checksum\":1}";

static void test_parse(void **state)
{
	mipart_kubelet_registry *reg = malloc(sizeof(*reg));

	(void)state;
	assert_non_null(reg);
	assert_int_equal(mipart_kubelet_checkpoint_parse(single, strlen(single), reg), 0);
	assert_int_equal(reg->n, 2);
	assert_int_equal(reg->amd_devices, 3); /* example.com/nic is not AMD's */
	assert_int_equal(mipart_kubelet_checkpoint_parse(mixed, strlen(mixed), reg), 0);
	assert_int_equal(reg->amd_devices, 5);
	/* not a checkpoint: refused, *ret untouched */
	reg->n = 77;
	assert_int_equal(mipart_kubelet_checkpoint_parse("{\"Data\":{}}", 11, reg), -EINVAL);
	assert_int_equal(mipart_kubelet_checkpoint_parse("{\"Data\":{\"RegisteredDevices\":[]}}", 34, reg), -EINVAL);
	assert_int_equal(mipart_kubelet_checkpoint_parse("not json", 8, reg), -EINVAL);
	assert_int_equal(mipart_kubelet_checkpoint_parse(single, 40, reg), -EINVAL); /* cut short */
	assert_int_equal(reg->n, 77);
	free(reg);
}

static void test_resource(void **state)
{
	mipart_kubelet_registry *reg = malloc(sizeof(*reg));
	char buf[64], tiny[8];

	(void)state;
	assert_non_null(reg);
	/* single naming: amd.com/gpu, whatever the modes */
	assert_int_equal(mipart_kubelet_checkpoint_parse(single, strlen(single), reg), 0);
	assert_int_equal(mipart_kubelet_partition_resource(reg, "CPX", "NPS4", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "amd.com/gpu");
	assert_int_equal(mipart_kubelet_partition_resource(reg, NULL, NULL, buf, sizeof(buf)), 1);
	assert_int_equal(mipart_kubelet_partition_resource(reg, "CPX", "NPS4", tiny, sizeof(tiny)), -ENAMETOOLONG);
	/* mixed naming: the resource of the partitions' modes, lower case */
	assert_int_equal(mipart_kubelet_checkpoint_parse(mixed, strlen(mixed), reg), 0);
	assert_int_equal(mipart_kubelet_partition_resource(reg, "CPX", "NPS4", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "amd.com/cpx_nps4");
	assert_int_equal(mipart_kubelet_partition_resource(reg, "SPX", "NPS1", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "amd.com/spx_nps1");
	/* modes nobody registered, or none given */
	assert_int_equal(mipart_kubelet_partition_resource(reg, "DPX", "NPS2", buf, sizeof(buf)), 0);
	assert_int_equal(mipart_kubelet_partition_resource(reg, NULL, NULL, buf, sizeof(buf)), 0);
	free(reg);
}

static void test_load(void **state)
{
	struct scratch_dir *s = *state;
	mipart_kubelet_registry *reg = malloc(sizeof(*reg));
	char path[512];
	mipart_host *h = NULL;
	FILE *f;

	assert_non_null(reg);
	assert_int_equal(mipart_host_new(s->dir, &h), 0);
	assert_int_equal(mipart_kubelet_registry_load(h, reg), -ENOENT); /* not a Kubernetes node */
	snprintf(path, sizeof(path), "%s/var/lib/kubelet/device-plugins", s->dir);
	assert_int_equal(util_mkdir_p(path), 0);
	snprintf(path, sizeof(path), "%s%s", s->dir, MIPART_KUBELET_CHECKPOINT);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(mixed, f);
	fclose(f);
	assert_int_equal(mipart_kubelet_registry_load(h, reg), 0);
	assert_int_equal(reg->amd_devices, 5);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"Checksum\":1}", f);
	fclose(f);
	assert_int_equal(mipart_kubelet_registry_load(h, reg), -EINVAL);
	mipart_host_free(h);
	free(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_resource),
		cmocka_unit_test_setup_teardown(test_load, scratch_setup, scratch_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
