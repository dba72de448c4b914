/* SPDX-License-Identifier: MIT */
#ifndef MIPART_JSONUTIL_H
#define MIPART_JSONUTIL_H

#include <stddef.h>
#include <jansson.h>

/* s as valid UTF-8 in buf (size >= 1): each byte that does not start a valid sequence becomes
 * U+FFFD; cut (on a character) to fit. Returns buf. */
const char *util_utf8(const char *s, char *buf, size_t size);
/* A JSON string of s; bytes that are not UTF-8 become U+FFFD. New reference, NULL on ENOMEM. */
json_t *util_json_string(const char *s);
/* An integer, or null when unknown (< 0). */
json_t *util_json_int_or_null(long long v);
/* A mode name, or null for "UNKNOWN". */
json_t *util_json_mode(const char *name);

#endif
