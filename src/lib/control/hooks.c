// SPDX-License-Identifier: MIT
/*
 * Hook units: the services that hold the GPUs (vLLM servers and the like) are stopped under the
 * host lock before a disruptive change and started after it. Only the units that were running
 * are stopped, and exactly those are started again, so a unit an operator had stopped stays
 * stopped. The engine journals the list before stopping anything, so `mipart recover` can start
 * them after a crash.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hooks.h"
#include "subproc.h"
#include "util.h"
#include "banned.h"

#define HOOKS_TIMEOUT_MS 120000

int hooks_argv(const char *root, const char *systemctl, const char *option, const char *action,
	       const char *const *units, size_t n, const char **argv)
{
	size_t k = 0;

	if (n > HOOKS_MAX_UNITS)
		return -E2BIG;
	if (root && *root) {
		argv[k++] = "chroot";
		argv[k++] = root;
	}
	argv[k++] = systemctl && *systemctl ? systemctl : "systemctl";
	/* systemctl [OPTIONS...] COMMAND [UNIT...] (systemctl(1), synopsis) */
	if (option && *option)
		argv[k++] = option;
	argv[k++] = action;
	for (size_t i = 0; i < n; i++)
		argv[k++] = units[i];
	argv[k] = NULL;
	return (int)k;
}

static int run(const char *root, const char *systemctl, const char *option, const char *action,
	       const char *const *units, size_t n, struct spawn_result *res)
{
	const char *argv[HOOKS_MAX_UNITS + 6];
	int r = hooks_argv(root, systemctl, option, action, units, n, argv);

	if (r < 0)
		return r;
	return spawn_run((char *const *)argv, HOOKS_TIMEOUT_MS, res);
}

const char *hooks_prog_name(const char *root, const char *systemctl, char *buf, size_t size)
{
	const char *prog = systemctl && *systemctl ? systemctl : "systemctl";

	if (!root || !*root)
		return prog;
	snprintf(buf, size, "chroot %s %s", root, prog);
	return buf;
}

static void trim(char *s)
{
	size_t len = strlen(s);

	while (len && (s[len - 1] == '\n' || s[len - 1] == ' ' || s[len - 1] == '\r'))
		s[--len] = '\0';
}

int hooks_query(const char *root, const char *systemctl, const char *const *units, size_t n,
		bool *ret_running, char *err, size_t err_size)
{
	struct spawn_result res = { 0 };
	char name[300];
	const char *p;
	size_t i = 0;
	int r;

	for (size_t k = 0; k < n; k++)
		ret_running[k] = true;
	if (!n)
		return 0;
	r = run(root, systemctl, NULL, "is-active", units, n, &res);
	if (r < 0) {
		snprintf(err, err_size, "hook '%s is-active' failed: %s",
			 hooks_prog_name(root, systemctl, name, sizeof(name)), util_strerror(r));
		return r;
	}
	/* exit 0: at least one is active; 3: none is (systemctl(1)); the lines say which */
	p = res.output ? res.output : "";
	while (*p && i < n) {
		size_t len = strcspn(p, "\n");

		if (len) {
			ret_running[i] = (len == 6 && !strncmp(p, "active", 6)) ||
					 (len == 10 && !strncmp(p, "activating", 10)) ||
					 (len == 9 && !strncmp(p, "reloading", 9)) ||
					 (len == 10 && !strncmp(p, "refreshing", 10));
			i++;
		}
		p += len;
		if (*p)
			p++;
	}
	free(res.output);
	return 0;
}

int hooks_run(const char *root, const char *systemctl, const char *option, const char *action,
	      const char *const *units, size_t n, char *err, size_t err_size)
{
	struct spawn_result res = { 0 };
	char name[300];
	const char *prog = hooks_prog_name(root, systemctl, name, sizeof(name));
	int r;

	if (!n)
		return 0;
	r = run(root, systemctl, option, action, units, n, &res);
	if (r < 0) {
		snprintf(err, err_size, "hook '%s %s' failed: %s", prog, action, util_strerror(r));
		return r;
	}
	if (res.status != 0) {
		trim(res.output);
		snprintf(err, err_size, "hook '%s %s' failed: exit status %d: %s", prog, action,
			 res.status, res.output ? res.output : "");
		free(res.output);
		return -EIO;
	}
	free(res.output);
	return 0;
}
