// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the amdgpu partition attribute parsers (attr.c): every input goes
 * through all four of attr_parse_compute_mode, attr_parse_memory_mode, attr_parse_compute_list
 * and attr_parse_memory_list. The files are written by the kernel with sysfs_emit in one fixed
 * shape, and the parsers promise to accept exactly that shape; so an accepted input must be
 * byte for byte what the kernel prints for the parsed value (mode.c formats it the kernel's
 * way), with or without the trailing newline. A refused input must return -EBADMSG and leave
 * the output untouched.
 *
 *   make fuzz        (clang, build-fuzz/, 20 s per harness over tests/fuzz/corpus/)
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "fuzz.h"
#include "banned.h"

#define POISON 0x7777

/* buf is text, or text + "\n" */
static bool is_line(const char *buf, size_t len, const char *text)
{
	size_t n = strlen(text);

	return (len == n || (len == n + 1 && buf[n] == '\n')) && !memcmp(buf, text, n);
}

static void check_compute_mode(const char *buf, size_t len)
{
	mipart_compute_mode m = (mipart_compute_mode)POISON;
	int r = attr_parse_compute_mode(buf, len, &m);

	if (r < 0) {
		CHECK(r == -EBADMSG);
		CHECK(m == (mipart_compute_mode)POISON);
		return;
	}
	CHECK(r == 0);
	/* "UNKNOWN" is a mode the kernel prints (HARDWARE.md 8.6) */
	CHECK((m >= MIPART_COMPUTE_SPX && m <= MIPART_COMPUTE_CPX) || m == MIPART_COMPUTE_UNKNOWN);
	CHECK(is_line(buf, len, m == MIPART_COMPUTE_UNKNOWN ? "UNKNOWN" : mipart_compute_mode_name(m)));
}

static void check_memory_mode(const char *buf, size_t len)
{
	mipart_memory_mode m = (mipart_memory_mode)POISON;
	int r = attr_parse_memory_mode(buf, len, &m);

	if (r < 0) {
		CHECK(r == -EBADMSG);
		CHECK(m == (mipart_memory_mode)POISON);
		return;
	}
	CHECK(r == 0);
	CHECK(m == MIPART_MEMORY_UNKNOWN || m == MIPART_MEMORY_NPS1 || m == MIPART_MEMORY_NPS2 ||
	      m == MIPART_MEMORY_NPS3 || m == MIPART_MEMORY_NPS4 || m == MIPART_MEMORY_NPS6 ||
	      m == MIPART_MEMORY_NPS8);
	CHECK(is_line(buf, len, mipart_memory_mode_name(m)));
}

static void check_list(const char *buf, size_t len, bool compute)
{
	const mipart_mode_set valid = compute ? 0x1f : 0x15e; /* SPX..CPX; NPS1,2,3,4,6,8 */
	mipart_mode_set s = POISON;
	char text[128];
	int r;

	r = compute ? attr_parse_compute_list(buf, len, &s) : attr_parse_memory_list(buf, len, &s);
	if (r < 0) {
		CHECK(r == -EBADMSG);
		CHECK(s == POISON);
		return;
	}
	CHECK(r == 0);
	CHECK((s & ~valid) == 0);
	if (compute)
		CHECK(mipart_compute_modes_format(s, text, sizeof(text)) < sizeof(text));
	else
		CHECK(mipart_memory_modes_format(s, text, sizeof(text)) < sizeof(text));
	/* amdgpu_gfx_get_available_compute_partition: "Not supported" for the empty set */
	CHECK(is_line(buf, len, s ? text : "Not supported"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy, so a read past len is a heap overflow for ASan */
	char *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	check_compute_mode(buf, size);
	check_memory_mode(buf, size);
	check_list(buf, size, true);
	check_list(buf, size, false);
	free(buf);
	return 0;
}
