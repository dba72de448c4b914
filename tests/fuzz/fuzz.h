/* SPDX-License-Identifier: MIT */
/*
 * What every libFuzzer harness of tests/fuzz shares: the entry point libFuzzer (or
 * standalone.c, where the compiler has none) calls, and CHECK, which aborts so that libFuzzer
 * (and the corpus replay under `make test`) reports the input that broke an invariant.
 */
#ifndef MIPART_TESTS_FUZZ_H
#define MIPART_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x))                                                                          \
			abort();                                                                   \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
