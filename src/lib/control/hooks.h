/* SPDX-License-Identifier: MIT */
#ifndef MIPART_LIB_HOOKS_H
#define MIPART_LIB_HOOKS_H

#include <stdbool.h>
#include <stddef.h>

/* Most hook units a change names (config.h MIPART_CONFIG_MAX_UNITS is smaller). */
#define HOOKS_MAX_UNITS 64

/*
 * hooks_query - whether each unit runs now: `systemctl is-active U...` prints one state per
 * unit in order (systemctl(1), "is-active PATTERN..."); active, activating, reloading and
 * refreshing count as running, and a unit whose line is missing counts as running (it is
 * stopped and started as before). ret_running has n entries. Returns 0, or -errno when the
 * program cannot run (message in err).
 */
int hooks_query(const char *systemctl, const char *const *units, size_t n, bool *ret_running,
		char *err, size_t err_size);

/*
 * hooks_run - `systemctl ACTION U...` (argv, 120 s timeout, output capped). Returns 0, -EIO
 * (non-zero exit) or -errno; err says what failed, with the program's own words.
 */
int hooks_run(const char *systemctl, const char *action, const char *const *units, size_t n,
	      char *err, size_t err_size);

#endif
