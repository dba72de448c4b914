// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the model catalog (models.json, mipart_catalog_parse). A refused file
 * comes with a terminated message and no catalog; an accepted one finds each of its models by
 * id and by each alias, and every model's id and aliases are terminated strings.
 *
 *   make fuzz        (clang, build-fuzz/, FUZZ_SECONDS per harness)
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mipart/catalog.h"
#include "fuzz.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mipart_catalog *c = (mipart_catalog *)&size; /* must stay as it is on failure */
	char err[256];
	int r = mipart_catalog_parse((const char *)data, size, &c, err, sizeof(err));

	if (r < 0) {
		CHECK(r == -EINVAL || r == -EFBIG || r == -ENOMEM || r == -ERANGE);
		CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
		CHECK(c == (mipart_catalog *)&size);
		return 0;
	}
	CHECK(r == 0 && c);
	for (size_t i = 0; i < mipart_catalog_count(c); i++) {
		const mipart_model *m = mipart_catalog_get(c, i), *found = NULL;
		const char *const *aliases = mipart_catalog_aliases(c, i);

		CHECK(m && memchr(m->id, '\0', sizeof(m->id)));
		CHECK(mipart_catalog_find(c, m->id, &found) == 0 && found);
		for (size_t k = 0; aliases && aliases[k]; k++) {
			found = NULL;
			CHECK(mipart_catalog_find(c, aliases[k], &found) == 0 && found);
		}
	}
	CHECK(mipart_catalog_get(c, mipart_catalog_count(c)) == NULL);
	mipart_catalog_free(c);
	return 0;
}
