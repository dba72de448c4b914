// SPDX-License-Identifier: MIT
/*
 * JSON helpers shared by every document libmipart and the tool write: strings that are always
 * valid UTF-8 (JSON cannot carry other bytes), unknown numbers and modes as null.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "jsonutil.h"
#include "banned.h"

const char *util_utf8(const char *s, char *buf, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	/* each byte that does not start a valid sequence becomes U+FFFD */
	while (*p && o + 4 < size) {
		size_t n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;
		bool ok = n > 0;

		for (size_t k = 1; ok && k < n; k++)
			ok = (p[k] & 0xc0) == 0x80;
		if (ok && n > 1) {
			char one[5] = { 0 };
			json_t *t;

			memcpy(one, p, n);
			t = json_string(one); /* refuses overlong forms and surrogates */
			ok = t != NULL;
			json_decref(t);
		}
		if (ok) {
			memcpy(buf + o, p, n);
			o += n;
			p += n;
		} else {
			memcpy(buf + o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
		}
	}
	if (size)
		buf[o] = '\0';
	return buf;
}

json_t *util_json_string(const char *s)
{
	char buf[4096];
	json_t *j = json_string(s);

	return j ? j : json_string(util_utf8(s, buf, sizeof(buf)));
}

json_t *util_json_int_or_null(long long v)
{
	return v < 0 ? json_null() : json_integer(v);
}

json_t *util_json_mode(const char *name)
{
	return strcmp(name, "UNKNOWN") ? json_string(name) : json_null();
}

