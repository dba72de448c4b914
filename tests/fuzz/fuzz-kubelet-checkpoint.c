// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the kubelet's device manager checkpoint as mipart reads it
 * (kubelet.h: mipart_kubelet_checkpoint_parse, then mipart_kubelet_partition_resource). Whatever
 * the text: at most MIPART_KUBELET_RESOURCES_MAX resources, each name NUL-terminated, the
 * amd.com/ device count at least that of the kept amd.com/ resources, and a chosen resource
 * is one that was registered, "amd.com/gpu" or "amd.com/<compute>_<memory>".
 *
 *   make fuzz        (clang, build-fuzz/, FUZZ_SECONDS per harness)
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mipart/kubelet.h"
#include "fuzz.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static mipart_kubelet_registry reg;
	char buf[64];
	size_t amd = 0;
	int r;

	if (mipart_kubelet_checkpoint_parse((const char *)data, size, &reg) < 0)
		return 0;
	CHECK(reg.n <= MIPART_KUBELET_RESOURCES_MAX);
	for (size_t i = 0; i < reg.n; i++) {
		CHECK(memchr(reg.r[i].name, '\0', sizeof(reg.r[i].name)));
		if (!strncmp(reg.r[i].name, "amd.com/", 8))
			amd += reg.r[i].devices;
	}
	CHECK(reg.amd_devices >= amd);
	r = mipart_kubelet_partition_resource(&reg, "CPX", "NPS4", buf, sizeof(buf));
	CHECK(r == 0 || r == 1 || r == -ENAMETOOLONG);
	if (r == 1) {
		bool found = false;

		CHECK(!strcmp(buf, "amd.com/gpu") || !strcmp(buf, "amd.com/cpx_nps4"));
		for (size_t i = 0; i < reg.n; i++)
			found |= !strcmp(reg.r[i].name, buf);
		CHECK(found);
	}
	return 0;
}
