/* SPDX-License-Identifier: MIT */
#ifndef MIPART_LIB_SLURM_H
#define MIPART_LIB_SLURM_H

#include <stddef.h>

#include "mipart/slurm.h"

/*
 * slurm_settings_parse - the settings file's text (NUL-terminated) into *s; file names it in
 * messages. Returns 0, or -EINVAL with "file:line: message" in msg.
 */
int slurm_settings_parse(const char *buf, const char *file, mipart_slurm_settings *s, char *msg,
			 size_t msg_size);

#endif
