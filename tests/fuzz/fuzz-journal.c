// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the journal's JSON columns as recover reads them ("before" and
 * "target": apply_parse_state). The first input byte (mod 17) is the number of GPUs the host
 * has, the rest the column's text. Whatever the text, every GPU gets a mode that exists or
 * UNKNOWN, and nothing is written past the n GPUs; when the text is accepted, writing those modes back as the engine does parses to
 * the same modes.
 *
 *   make fuzz        (clang, build-fuzz/, FUZZ_SECONDS per harness)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mipart/mode.h"
#include "apply-state.h"
#include "fuzz.h"
#include "banned.h"

#define MAX_GPUS 16

static bool compute_ok(mipart_compute_mode c)
{
	return c == MIPART_COMPUTE_UNKNOWN || (c >= 0 && c < MIPART_COMPUTE_MODE_COUNT);
}

static bool memory_ok(mipart_memory_mode m)
{
	return m == MIPART_MEMORY_UNKNOWN || m == MIPART_MEMORY_NPS1 || m == MIPART_MEMORY_NPS2 ||
	       m == MIPART_MEMORY_NPS3 || m == MIPART_MEMORY_NPS4 || m == MIPART_MEMORY_NPS6 ||
	       m == MIPART_MEMORY_NPS8;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mipart_compute_mode cm[MAX_GPUS + 1], cm2[MAX_GPUS + 1];
	mipart_memory_mode mm[MAX_GPUS + 1], mm2[MAX_GPUS + 1];
	int parts[MAX_GPUS + 1], parts2[MAX_GPUS + 1];
	char *text, again[MAX_GPUS * 96 + 8];
	size_t n, len = 0;
	int r;

	if (size < 1)
		return 0;
	n = data[0] % (MAX_GPUS + 1);
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	for (size_t i = 0; i <= MAX_GPUS; i++) {
		cm[i] = MIPART_COMPUTE_UNKNOWN;
		mm[i] = MIPART_MEMORY_UNKNOWN;
		parts[i] = -7;
	}
	r = apply_parse_state(text, n, cm, mm, parts);
	free(text);
	CHECK(r == 0 || r == -EBADMSG);
	for (size_t i = 0; i <= MAX_GPUS; i++)
		CHECK(compute_ok(cm[i]) && memory_ok(mm[i]));
	/* nothing written past the n GPUs */
	CHECK(cm[n] == MIPART_COMPUTE_UNKNOWN && mm[n] == MIPART_MEMORY_UNKNOWN && parts[n] == -7);
	if (r < 0)
		return 0;
	len += (size_t)snprintf(again + len, sizeof(again) - len, "[");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(again + len, sizeof(again) - len,
					"%s{\"bdf\": \"0000:%02zx:00.0\", \"compute\": \"%s\", \"memory\": \"%s\", \"partitions\": %d}",
					i ? ", " : "", i, mipart_compute_mode_name(cm[i]),
					mipart_memory_mode_name(mm[i]), parts[i]);
	snprintf(again + len, sizeof(again) - len, "]");
	CHECK(apply_parse_state(again, n, cm2, mm2, parts2) == 0);
	for (size_t i = 0; i < n; i++)
		CHECK(cm2[i] == cm[i] && mm2[i] == mm[i] && parts2[i] == parts[i]);
	return 0;
}
