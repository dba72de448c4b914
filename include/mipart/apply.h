/* SPDX-License-Identifier: MIT */
/*
 * The apply engine: carries out a change safely. Under the host lock it re-reads the host,
 * re-plans, refuses while processes use the GPUs the change disrupts (naming them), records
 * the change in the journal, requests NPS modes, reloads the driver, waits for the devices,
 * writes compute modes, verifies by re-reading modes and counting logical devices, and on any
 * failure restores the modes it found. See docs/control.md.
 */
#ifndef MIPART_APPLY_H
#define MIPART_APPLY_H

#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "change.h"
#include "host.h"
#include "procs.h"

/* Progress: gpu is -1 for node-wide steps; done is false when a step starts, true when it ends
 * (err its result). elapsed_ms since the change started. */
typedef void (*mipart_apply_progress)(void *userdata, int gpu, const char *step, bool done,
				      int err, long elapsed_ms);

typedef struct mipart_apply_options {
	mipart_backend *backend;
	const char *command;		/* the command line, for the journal */
	int64_t uid;
	unsigned lock_timeout_ms;	/* how long to wait for another writer; 0: not at all */
	bool lock_held;			/* the caller holds the host lock (mipart_host_lock),
					 * taken before it read the host and planned */
	unsigned settle_timeout_ms;	/* wait for the devices after a reload; 0: 120 s */
	const char *journal_path;	/* NULL: MIPART_JOURNAL_PATH under the root */
	mipart_apply_progress progress;
	void *userdata;
	/* hook units (systemd services that hold the GPUs): under the lock, once the change is
	 * known to be doable and disruptive and before the busy check, the engine asks which of
	 * them run (`systemctl is-active`), journals that, stops those, and starts exactly those
	 * again at the end whatever happened; recover starts them after a crash. A failing stop
	 * cancels the change. */
	const char *const *units;
	size_t n_units;
	const char *systemctl;		/* the program; NULL: "systemctl" from PATH */
	/* called under the lock after a change (or a recovery) left the host in a known state,
	 * before the "start" hook: for what must follow the partitions, such as the CDI spec.
	 * Its failure is the caller's to report. NULL: none. */
	void (*after_change)(void *userdata);
	/* the post-change actions (postchange.h) run before after_change unless no_post_change;
	 * each failure is reported here (NULL: not at all) */
	bool no_post_change;
	void (*post_change_report)(void *userdata, const char *name, int err, const char *msg);
	/* run systemctl chrooted into this directory (in a container: the host's / mounted
	 * there, so the host's systemctl reaches the host's systemd); NULL: no chroot */
	const char *systemctl_root;
	/* instead of after_change when set: the same, with the host as the engine's verification
	 * read it after a change that was done (NULL after a rollback or a recovery: read it), so
	 * that the caller need not read every GPU again */
	void (*after_change_read)(void *userdata, const mipart_topology *after);
	/* mipart boot: hook units earlier changes left stopped are not started (a reboot reset
	 * them: systemd starts the enabled ones, and a start from inside a unit ordered before
	 * them would wait for it to end); they stay recorded until seen running or recovered.
	 * The starts it does make (the units of the change it recovers, of its own change) are
	 * enqueued, not waited for: `systemctl --no-block start` (hooks.h, HOOKS_NO_BLOCK) */
	bool boot;
} mipart_apply_options;

typedef struct mipart_apply_result {
	int64_t journal_id;	/* 0 when nothing was recorded */
	const char *state;	/* "noop", "done", "rolled-back", "failed", "refused"; recover: also
				 * "recovered", "nothing", "units-started" */
	char message[512];	/* what went wrong, for people */
	char warning[256];	/* "" or what went wrong after the change (a hook unit that
				 * would not start again) */
	mipart_change *plan;	/* the plan carried out (owned; mipart_apply_result_release) */
	mipart_procs *blockers;	/* with -EBUSY: the processes in the way (owned) */
	uint64_t blocked_gpus;	/* with -EBUSY: GPUs that had to be idle */
	/* the hook units the engine stopped that did not start again (names as the layout gave
	 * them, owned): also recorded in the journal (mipart_journal_units_stopped) until
	 * mipart_recover, or a later change naming them, starts them. The change's own result
	 * (the return value, state) does not count them; a caller says they are stopped. */
	char **units_stopped;
	size_t n_units_stopped;
} mipart_apply_result;

/*
 * mipart_apply - bring the selected GPUs to their targets. Returns 0 (state "noop" or "done"),
 * -EINVAL (refused by the plan: message), -EBUSY (blockers), -EADDRINUSE (ledger allocations
 * on partitions the change removes: message names them), -ETIMEDOUT (lock held: message
 * names the holder), -EINPROGRESS (an earlier change did not finish or failed: run
 * recover), or the error of the failed step with state "rolled-back" or "failed" (rollback
 * did not restore).
 * Always release *ret with mipart_apply_result_release.
 */
int mipart_apply(const mipart_host *host, const mipart_target *targets, size_t n,
		 const mipart_apply_options *opts, mipart_apply_result *ret);

/*
 * mipart_recover - resolve the change that blocks others (mipart_journal_unresolved): one a
 * crash left 'running', or one that ended 'failed'. Loads the driver when it is out (the
 * backend's load command), then: a running change whose target the host reached is marked
 * done; otherwise the modes before it are restored (state "recovered"), or where they cannot
 * be, the target's (state "done", the message says so). Starts the hook units the change
 * stopped, also when the row does not match the host (-EBADMSG; the row is kept), and the
 * units earlier changes left stopped (mipart_journal_units_stopped; -EIO when they still do
 * not start: ret->units_stopped and the message name them). Returns 0 with state "done"/"recovered", state
 * "units-started" when there was nothing else to do, state "nothing" when nothing is
 * unresolved, or an error (state "failed" when neither state could be reached).
 */
int mipart_recover(const mipart_host *host, const mipart_apply_options *opts,
		   mipart_apply_result *ret);

void mipart_apply_result_release(mipart_apply_result *r);

/*
 * mipart_apply_unresolved - whether an earlier change must be resolved ('mipart recover')
 * before another change or an allocation: -EINPROGRESS with msg naming it and the command,
 * 0 when none (or no journal yet), or -errno when the journal cannot be read (msg says so).
 * journal_path NULL: MIPART_JOURNAL_PATH under the root.
 */
int mipart_apply_unresolved(const mipart_host *host, const char *journal_path, char *msg,
			    size_t size);

/*
 * mipart_host_lock / mipart_host_unlock - the host lock writers take (apply, recover, and the
 * ledger's allocate so that a booking never races a partition change). Returns the lock fd, or
 * -ETIMEDOUT with the holder's line in holder, or -errno.
 */
int mipart_host_lock(const mipart_host *host, unsigned timeout_ms, const char *what, char *holder,
		     size_t holder_size);
void mipart_host_unlock(int fd);

/*
 * mipart_apply_in_progress - whether another mipart holds the host lock now (a change is
 * running). Returns 1 (holder's line in holder when not NULL), 0, or -errno.
 */
int mipart_apply_in_progress(const mipart_host *host, char *holder, size_t holder_size);

#endif
