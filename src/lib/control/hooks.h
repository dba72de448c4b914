/* SPDX-License-Identifier: MIT */
#ifndef MIPART_LIB_HOOKS_H
#define MIPART_LIB_HOOKS_H

#include <stdbool.h>
#include <stddef.h>

/* Most hook units a change names (config.h MIPART_CONFIG_MAX_UNITS is smaller). */
#define HOOKS_MAX_UNITS 64

/*
 * The hooks run systemctl (argv, 120 s timeout, output capped), chrooted into root when root is
 * not NULL or "" (hooks_argv).
 *
 * hooks_query - whether each unit runs now: `systemctl is-active U...` prints one state per
 * unit in order (systemctl(1), "is-active PATTERN..."); active, activating, reloading and
 * refreshing count as running, and a unit whose line is missing counts as running (it is
 * stopped and started as before). ret_running has n entries. Returns 0, or -errno when the
 * program cannot run (message in err).
 */
int hooks_query(const char *root, const char *systemctl, const char *const *units, size_t n,
		bool *ret_running, char *err, size_t err_size);

/*
 * hooks_run - `systemctl [OPTION] ACTION U...` (argv, 120 s timeout, output capped); option
 * NULL for none, HOOKS_NO_BLOCK to enqueue the jobs without waiting for them. Returns 0, -EIO
 * (non-zero exit) or -errno; err says what failed, with the program's own words.
 */
int hooks_run(const char *root, const char *systemctl, const char *option, const char *action,
	      const char *const *units, size_t n, char *err, size_t err_size);

/*
 * systemctl(1), --no-block: "Do not synchronously wait for the requested operation to finish";
 * without it "the job will be verified, enqueued and systemctl will wait until the unit's
 * start-up is completed". From inside mipart-boot.service a start must not wait: a unit ordered
 * After=mipart-boot.service (systemd.unit(5), After=: its start-up "is delayed until" the
 * other "has finished starting") cannot start before mipart boot ends, so a waiting start
 * would wait for itself until a timeout. Enqueued, the job runs once mipart boot has ended
 * (for a unit the boot transaction starts anyway, the two start jobs are merged).
 */
#define HOOKS_NO_BLOCK "--no-block"

/*
 * hooks_argv - the command of hooks_query and hooks_run: [chroot ROOT] SYSTEMCTL [OPTION]
 * ACTION U..., NULL-terminated in argv (room for HOOKS_MAX_UNITS + 6). With a root, systemctl runs chrooted
 * into it: in a container with the host's / mounted there, the host's own systemctl talks to
 * the host's systemd through the host's /run (NVIDIA mig-manager does the same:
 * deployments/container/reconfigure-mig.sh, host_stop_systemd_services, `chroot
 * ${HOST_ROOT_MOUNT} systemctl stop`). systemctl NULL or "": "systemctl". Returns the count of
 * words, or -E2BIG.
 */
int hooks_argv(const char *root, const char *systemctl, const char *option, const char *action,
	       const char *const *units, size_t n, const char **argv);

/*
 * hooks_prog_name - the program of hooks_argv as messages name it: "systemctl", or
 * "chroot /host systemctl" (in buf when there is a root; cut to size).
 */
const char *hooks_prog_name(const char *root, const char *systemctl, char *buf, size_t size);

#endif
