// SPDX-License-Identifier: MIT
/*
 * Parsers for the amdgpu partition attribute files (current/available compute and memory
 * partition, compute_partition_config/). The kernel writes them with sysfs_emit in a fixed
 * shape; anything else (CR, missing separator, unknown word, duplicate, NUL, trailing junk) is
 * refused with -EBADMSG rather than guessed at, so a corrupt file is reported, not trusted.
 */
#include <errno.h>
#include <string.h>

#include "attr.h"
#include "util.h"
#include "banned.h"

typedef int (*word_parser)(const char *word, size_t len, int *ret);

static int compute_word(const char *w, size_t len, int *ret)
{
	for (int m = 0; m < MIPART_COMPUTE_MODE_COUNT; m++) {
		const char *name = mipart_compute_mode_name((mipart_compute_mode)m);

		if (strlen(name) == len && !memcmp(w, name, len)) {
			*ret = m;
			return 0;
		}
	}
	return -EBADMSG;
}

static int memory_word(const char *w, size_t len, int *ret)
{
	for (int m = MIPART_MEMORY_NPS1; m <= MIPART_MEMORY_NPS8; m++) {
		const char *name = mipart_memory_mode_name((mipart_memory_mode)m);

		if (!strcmp(name, "UNKNOWN"))
			continue;
		if (strlen(name) == len && !memcmp(w, name, len)) {
			*ret = m;
			return 0;
		}
	}
	return -EBADMSG;
}

int attr_parse_compute_mode(const char *buf, size_t len, mipart_compute_mode *ret)
{
	ssize_t n = util_line_len(buf, len);
	int m;

	if (n < 0)
		return -EBADMSG;
	/* amdgpu_gfx.c: amdgpu_gfx_get_current_compute_partition prints "UNKNOWN" for
	 * AMDGPU_UNKNOWN_COMPUTE_PARTITION_MODE (a VF, or after a failed switch; HARDWARE.md 8.6) */
	if (n == 7 && !memcmp(buf, "UNKNOWN", 7)) {
		*ret = MIPART_COMPUTE_UNKNOWN;
		return 0;
	}
	if (compute_word(buf, (size_t)n, &m) < 0)
		return -EBADMSG;
	*ret = (mipart_compute_mode)m;
	return 0;
}

int attr_parse_memory_mode(const char *buf, size_t len, mipart_memory_mode *ret)
{
	ssize_t n = util_line_len(buf, len);
	int m;

	if (n < 0)
		return -EBADMSG;
	if (n == 7 && !memcmp(buf, "UNKNOWN", 7)) {
		*ret = MIPART_MEMORY_UNKNOWN;
		return 0;
	}
	if (memory_word(buf, (size_t)n, &m) < 0)
		return -EBADMSG;
	*ret = (mipart_memory_mode)m;
	return 0;
}

static int parse_list(const char *buf, size_t len, word_parser word, mipart_mode_set *ret)
{
	mipart_mode_set set = 0;
	ssize_t n = util_line_len(buf, len);
	size_t pos = 0;
	int last = -1;

	if (n <= 0)
		return -EBADMSG;
	if (n == 13 && !memcmp(buf, "Not supported", 13)) {
		*ret = 0;
		return 0;
	}
	for (;;) {
		const char *sep = memchr(buf + pos, ',', (size_t)n - pos);
		size_t wlen = sep ? (size_t)(sep - (buf + pos)) : (size_t)n - pos;
		int m;

		if (word(buf + pos, wlen, &m) < 0)
			return -EBADMSG;
		/* the kernel walks the modes in enum order: out of order or repeated is corrupt */
		if (m <= last)
			return -EBADMSG;
		last = m;
		set |= MIPART_MODE_BIT(m);
		if (!sep)
			break;
		pos += wlen + 1;
		if (pos >= (size_t)n || buf[pos] != ' ')
			return -EBADMSG;
		pos++;
	}
	*ret = set;
	return 0;
}

int attr_parse_compute_list(const char *buf, size_t len, mipart_mode_set *ret)
{
	return parse_list(buf, len, compute_word, ret);
}

int attr_parse_memory_list(const char *buf, size_t len, mipart_mode_set *ret)
{
	return parse_list(buf, len, memory_word, ret);
}
