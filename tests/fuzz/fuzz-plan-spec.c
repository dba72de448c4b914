// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the text a person types into `mipart plan -m` (mipart_model_spec_parse)
 * and the size strings of --device-memory / sim load --vram (mipart_size_parse). The input is
 * one string (up to the first NUL). Beyond not crashing: a refused spec leaves the output
 * untouched and says why in a terminated message; an accepted one has a count from 1 to
 * 100000, an option within its range, and a model name that is a prefix of the spec with no
 * ',' or '@' in it. An accepted size is what the number says: the unit's multiple of the digits.
 *
 *   make fuzz        (clang, build-fuzz/, FUZZ_SECONDS per harness)
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mipart/estimate.h"
#include "mipart/spec.h"
#include "fuzz.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	mipart_model_spec spec, untouched;
	char err[200];
	uint64_t bytes = 7, again = 9;
	int r;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	memset(&spec, 0x5a, sizeof(spec));
	untouched = spec;
	r = mipart_model_spec_parse(s, &spec, err, sizeof(err));
	if (r < 0) {
		CHECK(r == -EINVAL);
		CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
		CHECK(!memcmp(&spec, &untouched, sizeof(spec)));
	} else {
		CHECK(r == 0);
		CHECK(spec.count >= 1 && spec.count <= MIPART_SPEC_MAX_COUNT);
		CHECK(spec.o.max_model_len <= 16777216);
		CHECK(spec.o.tensor_parallel <= 8);
		CHECK(memchr(spec.model, '\0', sizeof(spec.model)));
		CHECK(!strncmp(s, spec.model, strlen(spec.model)));
		CHECK(!strpbrk(spec.model, ",@"));
	}
	/* a tiny err buffer is never overrun */
	mipart_model_spec_parse(s, &spec, err, 1);
	CHECK(err[0] == '\0');

	r = mipart_size_parse(s, &bytes);
	if (r < 0) {
		CHECK(r == -EINVAL || r == -ERANGE);
		CHECK(bytes == 7);
	} else {
		CHECK(r == 0);
		/* deterministic */
		CHECK(mipart_size_parse(s, &again) == 0 && again == bytes);
	}
	free(s);
	return 0;
}
