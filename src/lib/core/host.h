/* SPDX-License-Identifier: MIT */
#ifndef MIPART_LIB_HOST_H
#define MIPART_LIB_HOST_H

#include "mipart/host.h"

struct mipart_host {
	char *root; /* no trailing slash; "" for the real host */
	size_t root_len;
};

#endif
