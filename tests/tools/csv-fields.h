/* SPDX-License-Identifier: MIT */
/*
 * One line of tests/fixtures/vllm-reference.csv into its fields, for bench/estimator and the
 * unit test that checks the file (test-catalog): RFC 4180 quoting ("" inside quotes is one "),
 * no line breaks inside a field, the line's own \r\n dropped. Modifies line; f gets pointers
 * into it. Returns the number of fields, at most max.
 */
#ifndef MIPART_TESTS_CSV_FIELDS_H
#define MIPART_TESTS_CSV_FIELDS_H

#include <string.h>

static inline int csv_fields_split(char *line, char **f, int max)
{
	int n = 0;
	char *p = line;

	line[strcspn(line, "\r\n")] = '\0';
	while (n < max) {
		char *out = p;

		f[n++] = p;
		if (*p == '"') {
			char *src = p + 1;

			for (;;) {
				if (!*src)
					break;
				if (*src == '"' && src[1] == '"') {
					*out++ = '"';
					src += 2;
				} else if (*src == '"') {
					src++;
					break;
				} else {
					*out++ = *src++;
				}
			}
			p = src;
		} else {
			while (*p && *p != ',')
				p++;
			out = p;
		}
		if (*p != ',') {
			*out = '\0';
			break;
		}
		*out = '\0';
		p++;
	}
	return n;
}

#endif
