// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the DRM fdinfo parser (discover/fdinfo.c: procs_parse_fdinfo), which
 * reads /proc/PID/fdinfo/FD of every render-node fd a process has open (procs.c). The input is
 * one fdinfo file. Checks: the result is one of the documented errors or 0; on 0 the driver is
 * a non-empty terminated string found in the input, drm-pdev is "" or a whole BDF, every size
 * is -1 or a byte count, the line count is within the cap; on an error the output is
 * untouched; a file past the byte cap is refused; the same input parses the same way twice.
 *
 *   make fuzz        (clang, build-fuzz/, FUZZ_SECONDS per harness)
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "discover.h"
#include "fuzz.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct procs_fdinfo f, g, untouched;
	int r, r2;

	memset(&f, 0x5a, sizeof(f));
	memset(&g, 0x5a, sizeof(g));
	untouched = f;
	r = procs_parse_fdinfo(s, size, &f);
	CHECK(r == 0 || r == -ENOENT || r == -E2BIG || r == -ERANGE || r == -EBADMSG);
	if (size > FDINFO_MAX_BYTES)
		CHECK(r == -E2BIG);
	if (r < 0) {
		CHECK(!memcmp(&f, &untouched, sizeof(f)));
	} else {
		size_t dl = strnlen(f.driver, sizeof(f.driver)), pl = strnlen(f.pdev, sizeof(f.pdev));

		CHECK(dl > 0 && dl < sizeof(f.driver));
		CHECK(memmem(s, size, f.driver, dl) != NULL);
		CHECK(pl == 0 || (pl >= 12 && pl <= 16 && f.pdev[pl - 2] == '.'));
		CHECK(pl == 0 || memmem(s, size, f.pdev, pl) != NULL);
		CHECK(f.vram >= -1 && f.vram_total >= -1 && f.vram_evicted >= -1 && f.gtt >= -1);
		CHECK(f.lines >= 1 && f.lines <= FDINFO_MAX_LINES);
		CHECK(f.has_client_id || f.client_id == 0);
	}
	r2 = procs_parse_fdinfo(s, size, &g);
	CHECK(r2 == r);
	CHECK(r < 0 || !memcmp(&f, &g, sizeof(f)));
	return 0;
}
