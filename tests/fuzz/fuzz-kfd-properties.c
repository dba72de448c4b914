// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the KFD topology properties parser (kfd.c: kfd_parse_properties), run
 * against both key tables on every input: nodes/N/properties (kfd_node_keys) and
 * mem_banks/M/properties (kfd_mem_keys). Beyond not crashing, it checks what the parser
 * promises: on failure -EBADMSG or -ERANGE, a line number inside the input, a terminated
 * message, and *ret untouched; on success only keys of the table present, 32-bit keys within
 * 32 bits, and a value for each present key that appears in the input as "<key> <value>".
 *
 *   make fuzz        (clang, build-fuzz/, 20 s per harness over tests/fuzz/corpus/)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kfd.h"
#include "fuzz.h"
#include "banned.h"

/* Lines in buf as the parser counts them: a last line without "\n" counts too. */
static unsigned count_lines(const char *buf, size_t len)
{
	unsigned n = 0;

	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\n')
			n++;
	return n + (len && buf[len - 1] != '\n');
}

/* "<name> <value>" is a whole line of buf. */
static bool has_line(const char *buf, size_t len, const char *name, uint64_t value)
{
	char line[96];
	int n = snprintf(line, sizeof(line), "%s %llu", name, (unsigned long long)value);

	for (size_t pos = 0; pos + (size_t)n <= len;) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - (buf + pos)) : len - pos;

		/* the parser takes leading zeros ("007"), so compare numerically past the space */
		if (llen >= strlen(name) + 2 && !memcmp(buf + pos, name, strlen(name)) &&
		    buf[pos + strlen(name)] == ' ') {
			uint64_t v = 0;
			bool digits = true;

			for (size_t i = pos + strlen(name) + 1; i < pos + llen; i++) {
				if (buf[i] < '0' || buf[i] > '9')
					digits = false;
				else
					v = v * 10 + (uint64_t)(buf[i] - '0');
			}
			if (digits && v == value)
				return true;
		}
		if (!nl)
			break;
		pos += llen + 1;
	}
	return false;
}

static void check(const char *buf, size_t len, const struct kfd_key_def *keys, size_t n)
{
	struct kfd_parse_error err;
	struct kfd_props p, pattern;
	int r;

	memset(&p, 0x5a, sizeof(p));
	memset(&pattern, 0x5a, sizeof(pattern));
	memset(&err, 0, sizeof(err));
	r = kfd_parse_properties(buf, len, keys, n, &p, &err);
	if (r < 0) {
		CHECK(r == -EBADMSG || r == -ERANGE);
		CHECK(err.line >= 1 && err.line <= count_lines(buf, len));
		CHECK(memchr(err.msg, '\0', sizeof(err.msg)));
		CHECK(err.msg[0]);
		CHECK(!memcmp(&p, &pattern, sizeof(p)));
		return;
	}
	CHECK(r == 0);
	CHECK(n == 64 || (p.present >> n) == 0);
	for (size_t k = 0; k < n; k++) {
		if (!kfd_has(&p, (unsigned)k)) {
			CHECK(p.v[k] == 0);
			continue;
		}
		CHECK(keys[k].wide || p.v[k] <= UINT32_MAX);
		CHECK(has_line(buf, len, keys[k].name, p.v[k]));
	}
	/* a NULL error pointer gives the same answer */
	CHECK(kfd_parse_properties(buf, len, keys, n, &p, NULL) == r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy, so a read past len is a heap overflow for ASan */
	char *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	check(buf, size, kfd_node_keys, KFD_NODE_KEY_COUNT);
	check(buf, size, kfd_mem_keys, KFD_MEM_KEY_COUNT);
	free(buf);
	return 0;
}
