/* SPDX-License-Identifier: MIT */
/*
 * mipart doctor: every known way a partitioned node goes wrong, checked, each with what was
 * seen and the exact command or change that fixes it. The checks read what the other modules
 * read (sysfs, KFD, /proc, the journal and ledger, the CDI directories, amd-smi); they never
 * change anything. See docs/troubleshooting.md.
 */
#ifndef MIPART_DOCTOR_H
#define MIPART_DOCTOR_H

#include <stddef.h>
#include <stdint.h>

#include "host.h"

typedef enum mipart_doctor_status {
	MIPART_DOCTOR_OK = 0,
	MIPART_DOCTOR_WARN,
	MIPART_DOCTOR_FAIL,
	MIPART_DOCTOR_SKIPPED,	/* could not be checked here; saw says why */
} mipart_doctor_status;

typedef struct mipart_doctor_check {
	const char *id;		/* "driver.loaded", ...: static, stable (docs/troubleshooting.md) */
	const char *title;	/* what is checked, for people: static */
	mipart_doctor_status status;
	char saw[2048];		/* what the check saw, one line per finding (may hold names a
				 * process or a user chose: escape before printing) */
	char fix[1024];		/* the command or change that fixes it; "" when nothing to fix */
} mipart_doctor_check;

typedef struct mipart_doctor_options {
	uint64_t gpus;		/* GPUs to look at, bit per index; 0: all */
	const char *amdsmi;	/* the amd-smi program; NULL: "amd-smi" from PATH */
	unsigned timeout_ms;	/* for amd-smi; 0: 10000 */
	const char *self;	/* how a fix names mipart with its global options, such as
				 * "mipart --root /srv/sim"; NULL: "mipart" */
} mipart_doctor_options;

/*
 * mipart_doctor_run - run every check on host. Returns 0 with an array of *ret_n checks in
 * *ret (free with mipart_doctor_free), or -ENOMEM. A check that cannot read what it needs says
 * so in its own result (fail or skipped); it never fails the run.
 */
int mipart_doctor_run(const mipart_host *host, const mipart_doctor_options *o,
		      mipart_doctor_check **ret, size_t *ret_n);
mipart_doctor_check *mipart_doctor_free(mipart_doctor_check *v, size_t n);

/* "ok", "warn", "fail", "skipped" */
const char *mipart_doctor_status_name(mipart_doctor_status s);

#endif
