// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the config reader (mipart_config_parse). Input that is refused must come
 * with a terminated message; input that is accepted must hold what the format promises (at
 * least one config, entries with devices and a mode, indices in range, no GPU twice), and, when
 * every GPU index gets its modes from at most one entry, mipart_config_format() of those modes
 * must parse back to the same modes.
 *
 *   clang -fsanitize=fuzzer,address -Iinclude -Isrc/lib -Ibuild tests/fuzz/fuzz-config.c \
 *	src/lib/control/config.c src/lib/core/util.c src/lib/discover/mode.c -lyaml
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mipart/config.h"
#include "fuzz.h"
#include "banned.h"

#define N_GPUS (MIPART_CONFIG_MAX_GPU_INDEX + 1)

/*
 * Modes of GPUs 0..63 (product unknown: entries with a product filter are skipped) from a
 * config. Returns false when some GPU is selected by more than one entry.
 */
static bool resolve(const mipart_config_set *s, mipart_compute_mode *cm, mipart_memory_mode *mm)
{
	unsigned hits[N_GPUS] = {0};

	for (unsigned g = 0; g < N_GPUS; g++) {
		cm[g] = MIPART_COMPUTE_UNKNOWN;
		mm[g] = MIPART_MEMORY_UNKNOWN;
	}
	for (size_t i = 0; i < mipart_config_set_entry_count(s); i++) {
		const mipart_config_entry *e = mipart_config_set_entry(s, i);

		if (e->product)
			continue;
		for (unsigned g = 0; g < N_GPUS; g++) {
			bool sel = e->all_devices;

			for (size_t j = 0; j < e->n_devices; j++)
				sel |= !e->devices[j].is_bdf && e->devices[j].index == g;
			if (!sel)
				continue;
			hits[g]++;
			cm[g] = e->compute;
			mm[g] = e->memory;
		}
	}
	for (unsigned g = 0; g < N_GPUS; g++)
		if (hits[g] > 1)
			return false;
	return true;
}

static void check_set(const mipart_config_set *s)
{
	mipart_compute_mode cm[N_GPUS], cm2[N_GPUS];
	mipart_memory_mode mm[N_GPUS], mm2[N_GPUS];
	const mipart_config_set *s2 = NULL;
	mipart_config *c2 = NULL;
	mipart_config_error err;
	char *text = NULL;
	int r;

	CHECK(mipart_config_set_name(s)[0]);
	CHECK(mipart_config_set_entry_count(s) >= 1);
	for (size_t i = 0; i < mipart_config_set_entry_count(s); i++) {
		const mipart_config_entry *e = mipart_config_set_entry(s, i);

		CHECK(e->compute != MIPART_COMPUTE_UNKNOWN || e->memory != MIPART_MEMORY_UNKNOWN);
		CHECK(e->all_devices == (e->n_devices == 0));
		CHECK(e->n_devices <= MIPART_CONFIG_MAX_DEVICES);
		CHECK(e->line >= 1 && e->column >= 1);
		for (size_t j = 0; j < e->n_devices; j++) {
			const mipart_config_device *d = &e->devices[j];

			CHECK(d->is_bdf ? strlen(d->bdf) == 12 : d->index <= 63);
		}
	}
	CHECK(!mipart_config_set_entry(s, mipart_config_set_entry_count(s)));

	if (!resolve(s, cm, mm))
		return;
	r = mipart_config_format(mipart_config_set_name(s), N_GPUS, NULL, NULL, cm, mm, &text);
	if (r == -EINVAL) /* every GPU unknown: all entries filter on a product */
		return;
	CHECK(r == 0);
	CHECK(mipart_config_parse(text, strlen(text), "format", &c2, &err) == 0);
	CHECK(mipart_config_find(c2, mipart_config_set_name(s), &s2) == 0);
	CHECK(resolve(s2, cm2, mm2));
	CHECK(!memcmp(cm, cm2, sizeof(cm)) && !memcmp(mm, mm2, sizeof(mm)));
	mipart_config_free(c2);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mipart_config *c = NULL;
	mipart_config_error err;
	const mipart_config_set *s = NULL;

	if (mipart_config_parse((const char *)data, size, "fuzz.yaml", &c, &err) < 0) {
		CHECK(!c);
		CHECK(memchr(err.message, '\0', sizeof(err.message)) && err.message[0]);
		CHECK(!strcmp(err.file, "fuzz.yaml"));
		return 0;
	}
	CHECK(mipart_config_count(c) >= 1);
	for (size_t i = 0; i < mipart_config_count(c); i++) {
		check_set(mipart_config_get(c, i));
		CHECK(mipart_config_find(c, mipart_config_set_name(mipart_config_get(c, i)), &s) ==
		      0);
		CHECK(s == mipart_config_get(c, i));
	}
	for (size_t i = 0; i < mipart_config_unit_count(c); i++)
		CHECK(strlen(mipart_config_unit(c, i)) > 6);
	mipart_config_free(c);
	return 0;
}
