// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for what the amd-smi backend reads from amd-smi's output
 * (backend_amdsmi_parse: `amd-smi list --json` with any lines before it, and the error text of
 * a failed `set`). The devices kept are at most the cap; the error is one the backend
 * documents.
 *
 *   make fuzz        (clang, build-fuzz/, FUZZ_SECONDS per harness)
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "fuzz.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = malloc(size + 1);
	size_t n = 12345;
	int err = 1, r;

	if (!out)
		return 0;
	memcpy(out, data, size);
	out[size] = '\0';
	r = backend_amdsmi_parse(out, &n, &err);
	CHECK(r == 0 || r == -EIO || r == -ENOMEM);
	CHECK(r == 0 ? n <= 1024 : n == 12345);
	CHECK(err == -EPERM || err == -EBUSY || err == -EOPNOTSUPP || err == -EINVAL ||
	      err == -ETIMEDOUT || err == -EIO);
	free(out);
	return 0;
}
