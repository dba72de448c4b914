// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the safetensors header parser (hfmodel.c: hf_safetensors_parse_header).
 * The input's first 8 bytes (little-endian) say how many bytes of tensor data follow the header
 * in the pretend file; the rest is the header. Beyond not crashing, it checks what the parser
 * promises: a refused header returns a documented error with a terminated message and writes
 * no output; an accepted one reports exactly the data area as its bytes, begins with '{' and
 * ends with '}' (then only whitespace), and is JSON that jansson reads too, except for numbers
 * jansson cannot hold (safetensors' serde_json skips unknown values of any size).
 *
 *   make fuzz        (clang, build-fuzz/, FUZZ_SECONDS per harness)
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "hfmodel.h"
#include "fuzz.h"
#include "banned.h"

#define UNTOUCHED UINT64_C(0x5a5a5a5a5a5a5a5a)

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* jansson must read an accepted header, unless a number is past what json_int_t or a double
 * holds, or a key holds \u0000 (jansson keys are C strings; serde_json and Python take it) */
static void check_with_jansson(const char *buf, size_t len)
{
	json_error_t jerr;
	json_t *root = json_loadb(buf, len, JSON_ALLOW_NUL, &jerr);

	if (!root) {
		CHECK(strstr(jerr.text, "too big") || strstr(jerr.text, "overflow") ||
		      strstr(jerr.text, "NUL byte in object key") ||
		      strstr(jerr.text, "maximum parsing depth") ||
		      json_error_code(&jerr) == json_error_out_of_memory);
		return;
	}
	CHECK(json_is_object(root));
	json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t extra = 0, file_size, bytes = UNTOUCHED, params = UNTOUCHED;
	const char *buf = (const char *)data + 8;
	char err[256];
	size_t len, i, j;
	int r;

	if (size < 8)
		return 0;
	for (int k = 7; k >= 0; k--)
		extra = extra << 8 | data[k];
	len = size - 8;
	file_size = extra > UINT64_MAX - 8 - len ? UINT64_MAX : 8 + len + extra;

	r = hf_safetensors_parse_header(buf, len, file_size, &bytes, &params, err, sizeof(err));
	if (r < 0) {
		CHECK(r == -EINVAL || r == -ERANGE || r == -EFBIG || r == -ENOMEM);
		CHECK(bytes == UNTOUCHED && params == UNTOUCHED);
		CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
		return 0;
	}
	CHECK(r == 0);
	CHECK(bytes == file_size - 8 - len);
	/* a tensor has at least one byte per element unless its dtype is narrower (F4, F6) */
	CHECK(params / 2 + params % 2 <= bytes);
	for (i = 0; i < len && is_ws(buf[i]); i++)
		;
	for (j = len; j > i && is_ws(buf[j - 1]); j--)
		;
	CHECK(j - i >= 2 && buf[i] == '{' && buf[j - 1] == '}');
	check_with_jansson(buf, len);

	/* outputs are optional */
	CHECK(hf_safetensors_parse_header(buf, len, file_size, NULL, NULL, NULL, 0) == 0);
	return 0;
}
