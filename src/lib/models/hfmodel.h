/* SPDX-License-Identifier: MIT */
/* Internal parts of hfmodel.c, exposed for the unit tests and the fuzz harnesses. */
#ifndef MIPART_HFMODEL_INTERNAL_H
#define MIPART_HFMODEL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mipart/hfmodel.h"

/*
 * hf_safetensors_parse_header - check the JSON header of a safetensors file whose total size is
 * file_size bytes: buf holds the len bytes that follow the 8-byte length prefix (len is that
 * prefix). Sets *ret_bytes to the size of the data area (file_size - 8 - len, which the tensors
 * must cover exactly) and *ret_params to the total number of elements; either may be NULL.
 * Messages in err carry no file name. Returns 0, -EINVAL, -ERANGE, -EFBIG, -ENOMEM; the outputs
 * are written only on success.
 */
int hf_safetensors_parse_header(const char *buf, size_t len, uint64_t file_size,
				uint64_t *ret_bytes, uint64_t *ret_params, char *err,
				size_t err_size);

/*
 * hf_json_depth_ok - whether no array or object in the JSON text buf nests deeper than max
 * (strings are skipped; text that is not JSON may pass, the parser refuses it afterwards).
 */
bool hf_json_depth_ok(const char *buf, size_t len, unsigned max);

#endif
