// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for `mipart serve --config FILE` (serve-parse.c: serve_config_parse). A
 * refused file comes with a terminated "FILE:LINE:COL: message" (or the size message) and
 * leaves the settings untouched; an accepted one sets only known keys, each within its range
 * (the listen address parses, the whole numbers within their bounds), and merging it onto the
 * defaults keeps every other default.
 *
 *   make fuzz        (clang, build-fuzz/, FUZZ_SECONDS per harness)
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serve-parse.h"
#include "fuzz.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct settings s, untouched, merged, defaults;
	struct sockaddr_storage ss;
	socklen_t sl;
	bool lo;
	char err[512];
	int r;

	memset(&s, 0x5a, sizeof(s));
	untouched = s;
	r = serve_config_parse((const char *)data, size, "serve.yaml", &s, err, sizeof(err));
	if (r < 0) {
		CHECK(r == -EINVAL || r == -EFBIG || r == -ENOMEM);
		CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
		CHECK(r == -EFBIG || r == -ENOMEM || !strncmp(err, "serve.yaml:", 11));
		CHECK(!memcmp(&s, &untouched, sizeof(s)));
		return 0;
	}
	CHECK(r == 0);
	CHECK(!(s.set & ~((1u << N_KEYS) - 1)));
	if (s.set & (1u << K_LISTEN))
		CHECK(memchr(s.listen, '\0', sizeof(s.listen)) &&
		      serve_parse_listen(s.listen, &ss, &sl, &lo) == 0);
	if (s.set & (1u << K_INTERVAL))
		CHECK(s.interval >= 0 && s.interval <= 86400);
	for (unsigned k = K_MAX_CONNECTIONS; k <= K_MAX_CONNECTION_TIME; k++)
		if (s.set & (1u << k))
			CHECK(s.num[k] >= serve_keys[k].min && s.num[k] <= serve_keys[k].max);
	serve_settings_defaults(&defaults);
	merged = defaults;
	serve_settings_merge(&merged, &s);
	for (unsigned k = K_MAX_CONNECTIONS; k <= K_MAX_CONNECTION_TIME; k++)
		CHECK(merged.num[k] == ((s.set & (1u << k)) ? s.num[k] : defaults.num[k]));
	return 0;
}
