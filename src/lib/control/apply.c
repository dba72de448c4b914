// SPDX-License-Identifier: MIT
/*
 * The apply engine (include/mipart/apply.h). Order of a change (amd-smi "GPU partitioning"
 * doc): request NPS modes -> reload the driver -> wait for the devices -> write compute modes
 * -> verify. Every step is written to the journal before it runs, so a crash leaves a row that
 * `mipart recover` finishes. A failed step restores the modes found at the start:
 *  - an NPS request that was written but not applied by a reload cannot be withdrawn (writing
 *    the current mode is skipped by current_memory_partition_store), so a restore after one
 *    reloads first, then requests the old modes and reloads again;
 *  - every reload brings each GPU back in the AUTO mode (gfx_v9_4_3.c:
 *    gfx_v9_4_3_cp_resume), so compute modes are written after every reload.
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mipart/apply.h"
#include "mipart/error.h"
#include "mipart/journal.h"
#include "mipart/ledger.h"
#include "mipart/postchange.h"
#include "hooks.h"
#include "journal.h"
#include "compute-writes.h"
#include "lock.h"
#include "sriov-control.h"
#include "util.h"
#include "apply-state.h"
#include "banned.h"

struct ctx {
	const mipart_host *host;
	const mipart_apply_options *o;
	mipart_apply_result *res;
	mipart_journal *j;
	int64_t id;
	struct timespec start;
	bool pending; /* an NPS request was written and no reload has applied it yet */
	bool still_pending; /* a reload meant to flush it was refused (EBUSY): it stays */
	json_t *hooks; /* what the journal says about the hook units (owned) */
	const char *stop[HOOKS_MAX_UNITS]; /* the units this run stopped, to start again */
	size_t n_stop;
	bool start_failed;	/* a start of hook units failed in this run (not tried again) */
	char started[512];	/* the units this run started again, quoted, for recover's message */
	mipart_topology *after; /* the host as the last verify read it (owned) */
};

static long elapsed_ms(const struct ctx *c)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - c->start.tv_sec) * 1000 + (now.tv_nsec - c->start.tv_nsec) / 1000000;
}

static void progress(struct ctx *c, int gpu, const char *step, bool done, int err)
{
	if (c->o->progress)
		c->o->progress(c->o->userdata, gpu, step, done, err, elapsed_ms(c));
}

static void say(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->res->message, sizeof(c->res->message), fmt, ap);
	va_end(ap);
}

/* Add to the message (truncated at its size). */
static void say_more(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say_more(struct ctx *c, const char *fmt, ...)
{
	size_t len = strlen(c->res->message);
	va_list ap;

	if (len + 1 >= sizeof(c->res->message))
		return;
	va_start(ap, fmt);
	vsnprintf(c->res->message + len, sizeof(c->res->message) - len, fmt, ap);
	va_end(ap);
}

/* Journal the step about to run. A journal that cannot be written is not a reason to stop a
 * change half-way; the row keeps its last step. */
static void jstep(struct ctx *c, const char *step)
{
	if (c->j && c->id)
		mipart_journal_step(c->j, c->id, step);
}

static json_t *gpu_state_json(unsigned gpu, const char *bdf, mipart_compute_mode cm,
			      mipart_memory_mode mm, unsigned partitions)
{
	return json_pack("{s:i, s:s, s:s, s:s, s:i}", "gpu", (int)gpu, "bdf", bdf, "compute",
			 mipart_compute_mode_name(cm), "memory", mipart_memory_mode_name(mm),
			 "partitions", (int)partitions);
}

static char *topology_state(const mipart_topology *t)
{
	json_t *a = json_array();
	char *s;

	for (size_t i = 0; i < mipart_topology_gpu_count(t); i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(t, i);

		json_array_append_new(a, gpu_state_json(g->index, g->bdf, g->compute, g->memory,
							 (unsigned)g->n_partitions));
	}
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

static char *plan_target(const mipart_change *p)
{
	json_t *a = json_array();
	char *s;

	for (size_t i = 0; i < mipart_change_gpu_count(p); i++) {
		const mipart_gpu_change *g = mipart_change_gpu(p, i);

		json_array_append_new(a, gpu_state_json(g->gpu, g->bdf, g->to_compute, g->to_memory,
							 g->to_partitions));
	}
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

/* A driver reload. An unload sends every recorded NPS request to the firmware
 * (amdgpu_gmc_prepare_nps_mode_change); a refused unload (EBUSY, the module is in use) changes
 * nothing. The journal forgets a request only when a GPU is seen in the requested mode after
 * a reload (reconcile): a reload command that reported success without unloading, or a
 * firmware that did not take the request, must not leave the driver holding a request
 * mipart has forgotten (a later reload would switch the hive unasked). */
static int do_reload(struct ctx *c, char **ret_output)
{
	int r = mipart_backend_reload(c->o->backend, ret_output);

	/* after a failed load the driver is out: the rollback's reload must still run */
	if (r == 0)
		c->pending = false;
	return r;
}

/* Which loaded instance of the driver this is: the inode number of /sys/module/amdgpu as
 * text, "" when the module is not loaded (or the tree has no such directory). The directory
 * exists while the module is loaded (kernel/module/sysfs.c: mod_sysfs_setup,
 * mod_sysfs_teardown), and sysfs numbers every new node afresh (fs/kernfs/dir.c:
 * __kernfs_new_node, idr_alloc_cyclic / xa_alloc_cyclic), so an unload and load give it a new
 * number and a reload that never unloaded leaves it as it was. */
static void driver_instance(const mipart_host *host, char *buf, size_t size)
{
	char path[MIPART_PATH_MAX];
	struct stat st;

	buf[0] = '\0';
	if (mipart_host_path(host, "/sys/module/amdgpu", path, sizeof(path)) >= 0 &&
	    stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		snprintf(buf, size, "%llu:%llu", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino);
}

/* Forget the requests t shows applied, and the ones the driver that recorded them took away
 * when it unloaded without applying them (the request lives in the driver's hive or device
 * (amdgpu_gmc.c: current_memory_partition_store), which an unload frees after sending it to
 * the firmware: a write that reported success without recording, or a firmware that did not
 * take it, leaves nothing behind once that driver is gone); a request the loaded driver may
 * still hold stays pending. */
static void reconcile(struct ctx *c, const mipart_topology *t)
{
	mipart_nps_request *v = NULL;
	char now[64];
	size_t n = 0;

	if (!c->j || mipart_journal_nps_pending(c->j, &v, &n) < 0)
		return;
	driver_instance(c->host, now, sizeof(now));
	for (size_t k = 0; k < n; k++) {
		char then[64];
		const mipart_gpu_info *g = mipart_topology_gpu_by_bdf(t, v[k].bdf);

		if (g && g->driver_bound && g->memory == v[k].mode) {
			mipart_journal_nps_forget(c->j, v[k].bdf);
			continue;
		}
		if (now[0] && journal_nps_driver_get(c->j, v[k].bdf, then, sizeof(then)) == 0 &&
		    then[0] && strcmp(then, now)) {
			mipart_journal_nps_forget(c->j, v[k].bdf);
			snprintf(c->res->warning, sizeof(c->res->warning),
				 "the driver reload did not apply the NPS request %s on %s (change %lld): the driver that held it is gone, so it is forgotten",
				 mipart_memory_mode_name(v[k].mode), v[k].bdf, (long long)v[k].change);
			continue;
		}
		c->pending = true;
	}
	free(v);
}

/* Wait until every GPU that the change touches is back: bound, with KFD nodes and readable
 * modes. Returns 0 and the fresh topology, or -ETIMEDOUT. */
static int settle(struct ctx *c, const mipart_change *plan, mipart_topology **ret)
{
	unsigned timeout = c->o->settle_timeout_ms ? c->o->settle_timeout_ms : 120000;
	long deadline = elapsed_ms(c) + (long)timeout;

	for (;;) {
		mipart_topology *t = NULL;
		bool ready = true;

		if (mipart_topology_load(c->host, &t) == 0) {
			for (size_t i = 0; i < mipart_change_gpu_count(plan); i++) {
				const mipart_gpu_change *gc = mipart_change_gpu(plan, i);
				const mipart_gpu_info *g = mipart_topology_gpu(t, i);

				if (gc->disruption == MIPART_DISRUPT_NONE)
					continue;
				if (!g || strcmp(g->bdf, gc->bdf) || !g->driver_bound ||
				    g->n_partitions == 0 || g->mode_source != MIPART_MODE_SOURCE_SYSFS)
					ready = false;
			}
			if (ready) {
				reconcile(c, t);
				*ret = t;
				return 0;
			}
		}
		mipart_topology_free(t);
		if (elapsed_ms(c) > deadline)
			return -ETIMEDOUT;
		usleep(100000);
	}
}

static void compute_progress(void *ud, const struct compute_job *j, bool done)
{
	struct ctx *c = ud;
	char step[64];

	snprintf(step, sizeof(step), "compute-write %s %s", j->bdf, mipart_compute_mode_name(j->mode));
	progress(c, (int)j->gpu, step, done, done ? j->result : 0);
}

/* The compute writes of a plan, for the GPUs not in their target mode yet (t): all at once
 * where the backend allows (compute-writes.c), journalled as one step; every GPU's error in
 * the message. */
static int write_computes(struct ctx *c, const mipart_change *plan, const mipart_topology *t)
{
	struct compute_job *jobs = calloc(mipart_change_gpu_count(plan) + 1, sizeof(*jobs));
	size_t n = 0, len;
	bool first = true;
	char step[1024];
	int r;

	if (!jobs)
		return -ENOMEM;
	len = (size_t)snprintf(step, sizeof(step), "compute-write");
	for (size_t i = 0; i < mipart_change_gpu_count(plan); i++) {
		const mipart_gpu_change *gc = mipart_change_gpu(plan, i);
		const mipart_gpu_info *g = mipart_topology_gpu(t, i);

		if (!gc->write_compute || (g && g->compute == gc->to_compute))
			continue;
		jobs[n++] = (struct compute_job){ .gpu = gc->gpu, .bdf = gc->bdf, .mode = gc->to_compute };
		if (len < sizeof(step))
			len += (size_t)snprintf(step + len, sizeof(step) - len, "%s %s %s",
						n > 1 ? "," : "", gc->bdf,
						mipart_compute_mode_name(gc->to_compute));
	}
	if (n)
		jstep(c, step);
	r = compute_writes_run(c->o->backend, jobs, n, compute_progress, c);
	if (r < 0)
		say(c, "cannot set the compute modes: %s", mipart_strerror(r));
	for (size_t i = 0; i < n && r < 0; i++) {
		const struct compute_job *j = &jobs[i];

		if (j->result >= 0 || j->result == -EAGAIN)
			continue;
		len = first ? 0 : strlen(c->res->message);
		if (len + 1 < sizeof(c->res->message))
			snprintf(c->res->message + len, sizeof(c->res->message) - len,
				 "%s compute mode %s on GPU %u (%s): %s", first ? "cannot set" : ";",
				 mipart_compute_mode_name(j->mode), j->gpu, j->bdf,
				 mipart_strerror(j->result));
		first = false;
	}
	free(jobs);
	return r;
}

/* Carry out a plan: NPS requests, reload, compute writes. now: the host as read under the lock
 * this change holds, before anything was written (NULL: read it). */
static int execute(struct ctx *c, const mipart_change *plan, const mipart_topology *now)
{
	mipart_topology *t = NULL;
	char step[64];
	int r;

	if (mipart_change_needs_flush(plan)) {
		char *out = NULL;

		/* a pending request the target drops: apply it first (the driver skips a write of
		 * the current mode, so it cannot be replaced by one), then request the target */
		c->pending = true;
		jstep(c, "flush-reload");
		progress(c, -1, "driver reload (applies the pending NPS request)", false, 0);
		r = do_reload(c, &out);
		progress(c, -1, "driver reload (applies the pending NPS request)", true, r);
		free(out);
		if (r < 0) {
			say(c, "driver reload to apply the pending NPS request failed: %s",
			    mipart_strerror(r));
			return r;
		}
		jstep(c, "settle");
		r = settle(c, plan, &t);
		if (r < 0) {
			say(c, "the GPUs did not come back within the settle timeout after the reload");
			return r;
		}
		mipart_topology_free(t);
		t = NULL;
	}
	if (mipart_change_needs_reload(plan)) {
		char *out = NULL, driver[64];

		/* the driver instance the requests go to (reconcile) */
		driver_instance(c->host, driver, sizeof(driver));
		for (size_t i = 0; i < mipart_change_gpu_count(plan); i++) {
			const mipart_gpu_change *gc = mipart_change_gpu(plan, i);

			if (!gc->write_memory)
				continue;
			snprintf(step, sizeof(step), "memory-write %s %s", gc->bdf,
				 mipart_memory_mode_name(gc->to_memory));
			jstep(c, step);
			progress(c, (int)gc->gpu, step, false, 0);
			r = mipart_backend_request_memory(c->o->backend, gc->bdf, gc->to_memory);
			progress(c, (int)gc->gpu, step, true, r);
			if (r < 0) {
				say(c, "cannot request memory mode %s on GPU %u (%s): %s",
				    mipart_memory_mode_name(gc->to_memory), gc->gpu, gc->bdf,
				    mipart_strerror(r));
				return r;
			}
			c->pending = true;
			if (c->j && c->id)
				journal_nps_request(c->j, gc->bdf, mipart_memory_mode_name(gc->to_memory),
						    c->id, driver);
		}
		jstep(c, "reload");
		progress(c, -1, "driver reload", false, 0);
		r = do_reload(c, &out);
		progress(c, -1, "driver reload", true, r);
		if (r < 0) {
			size_t len = out ? strlen(out) : 0;

			while (len && (out[len - 1] == '\n' || out[len - 1] == ' '))
				out[--len] = '\0';
			say(c, "driver reload failed: %s%s%s", mipart_strerror(r), len ? ": " : "",
			    len ? out : "");
			free(out);
			return r;
		}
		jstep(c, "settle");
		progress(c, -1, "waiting for the devices", false, 0);
		r = settle(c, plan, &t);
		progress(c, -1, "waiting for the devices", true, r);
		if (r < 0) {
			say(c, "the GPUs did not come back within the settle timeout after the reload");
			return r;
		}
	} else if (now) {
		/* nothing was written yet, and the lock keeps other writers out: no need to read
		 * the GPUs again */
		return write_computes(c, plan, now);
	} else {
		r = mipart_topology_load(c->host, &t);
		if (r < 0) {
			say(c, "cannot read the GPUs: %s", mipart_strerror(r));
			return r;
		}
	}
	r = write_computes(c, plan, t);
	mipart_topology_free(t);
	return r;
}

/* Re-read the host and compare with the plan's targets: modes and the number of logical
 * devices. Returns 0, or -EIO with the first difference in the message. */
static int verify(struct ctx *c, const mipart_change *plan, char **ret_after)
{
	mipart_topology *t = NULL;
	int r;

	jstep(c, "verify");
	progress(c, -1, "verify", false, 0);
	r = mipart_topology_load(c->host, &t);
	if (r < 0) {
		say(c, "cannot read the GPUs to verify: %s", mipart_strerror(r));
		progress(c, -1, "verify", true, r);
		return r;
	}
	for (size_t i = 0; i < mipart_change_gpu_count(plan) && r == 0; i++) {
		const mipart_gpu_change *gc = mipart_change_gpu(plan, i);
		const mipart_gpu_info *g = mipart_topology_gpu(t, i);

		if (gc->disruption == MIPART_DISRUPT_NONE)
			continue;
		if (!g || strcmp(g->bdf, gc->bdf)) {
			say(c, "verification failed: GPU %u (%s) is gone", gc->gpu, gc->bdf);
			r = -EIO;
		} else if (g->compute != gc->to_compute || g->memory != gc->to_memory) {
			say(c, "verification failed: GPU %u (%s) is %s/%s, expected %s/%s", gc->gpu,
			    gc->bdf, mipart_compute_mode_name(g->compute),
			    mipart_memory_mode_name(g->memory), mipart_compute_mode_name(gc->to_compute),
			    mipart_memory_mode_name(gc->to_memory));
			r = -EIO;
		} else if (g->n_partitions != gc->to_partitions) {
			say(c, "verification failed: GPU %u (%s) has %zu logical devices, expected %u",
			    gc->gpu, gc->bdf, g->n_partitions, gc->to_partitions);
			r = -EIO;
		}
	}
	if (ret_after)
		*ret_after = topology_state(t);
	/* the host as the change left it: for after_change_read */
	mipart_topology_free(c->after);
	c->after = t;
	progress(c, -1, "verify", true, r);
	return r;
}

/* Bring the host back to the per-GPU modes in before (index order). */
static int restore(struct ctx *c, const mipart_compute_mode *bc, const mipart_memory_mode *bm,
		   size_t n, char **ret_after)
{
	mipart_topology *t = NULL;
	mipart_target *targets = NULL;
	mipart_change *plan = NULL;
	char saved[400];
	int r;

	util_strlcpy(saved, c->res->message, sizeof(saved));
	jstep(c, "rollback");
	if (c->pending) {
		char *out = NULL;

		/* flush the request that cannot be withdrawn, then undo it below */
		progress(c, -1, "rollback: driver reload", false, 0);
		r = do_reload(c, &out);
		if (r < 0 && r != -EBUSY) /* a load that failed once may work the second time */
			r = do_reload(c, NULL);
		free(out);
		progress(c, -1, "rollback: driver reload", true, r);
		if (r == -EBUSY) {
			/* the unload was refused: nothing was applied, the GPUs keep the modes
			 * before, and the request stays recorded in the driver (journalled) */
			c->still_pending = true;
			r = 0;
		}
		if (r < 0)
			goto out;
	}
	r = mipart_topology_load(c->host, &t);
	if (r < 0)
		goto out;
	reconcile(c, t);
	c->pending = false; /* restore() has done what it could about them above */
	if (mipart_topology_gpu_count(t) != n) {
		r = -EIO;
		goto out;
	}
	targets = calloc(n ? n : 1, sizeof(*targets));
	if (!targets) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		targets[i] = (mipart_target){ bc[i] != MIPART_COMPUTE_UNKNOWN ||
						      bm[i] != MIPART_MEMORY_UNKNOWN,
					      bc[i], bm[i] };
	r = mipart_change_plan(t, targets, n, &plan);
	if (r < 0)
		goto out;
	if (mipart_change_problem_count(plan)) {
		r = -EINVAL;
		goto out;
	}
	r = execute(c, plan, NULL);
	if (r == 0)
		r = verify(c, plan, ret_after);
out:
	if (r < 0 && ret_after && !*ret_after) {
		mipart_topology *now = NULL;

		if (mipart_topology_load(c->host, &now) == 0)
			*ret_after = topology_state(now);
		mipart_topology_free(now);
	}
	/* keep the first failure as the message; add whether the rollback worked */
	say(c, "%s", saved);
	say_more(c, "; %s%s",
		 r == 0 ? "rolled back to the modes before the change"
			: "ROLLBACK FAILED: the host is in neither the old nor the new state",
		 r == 0 && c->still_pending
			 ? "; the NPS request stays recorded in the driver (the unload was refused) and would apply at the next driver reload: 'mipart recover' resolves it"
			 : "");
	mipart_change_free(plan);
	free(targets);
	mipart_topology_free(t);
	return r;
}

static int open_journal(struct ctx *c)
{
	char path[MIPART_PATH_MAX];
	int r;

	if (c->o->journal_path)
		util_strlcpy(path, c->o->journal_path, sizeof(path));
	else if (mipart_host_path(c->host, MIPART_JOURNAL_PATH, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	r = mipart_journal_open(path, &c->j);
	if (r < 0)
		say(c, "cannot open the journal '%s': %s", path, mipart_strerror(r));
	return r;
}

static int take_lock(struct ctx *c, int *ret_fd)
{
	char holder[256] = "";
	int fd = lock_acquire(c->host, c->o->lock_timeout_ms, c->o->command, holder, sizeof(holder));

	if (fd == -ETIMEDOUT)
		say(c, "another mipart is changing partitions (%s); try again when it is done", holder);
	else if (fd < 0)
		say(c, "cannot take the lock '%s%s': %s", mipart_host_root(c->host), LOCK_PATH,
		    mipart_strerror(fd));
	if (fd < 0)
		return fd;
	*ret_fd = fd;
	return 0;
}

/* A GPU whose layout changes loses its partitions: refuse while the ledger books memory on it
 * (the same database as the journal). */
static int check_allocations(struct ctx *c, const mipart_change *plan)
{
	char path[MIPART_PATH_MAX], names[256];
	mipart_ledger *l = NULL;
	mipart_allocation *v = NULL;
	size_t n = 0, len = 0, count = 0;
	int r;

	if (c->o->journal_path)
		util_strlcpy(path, c->o->journal_path, sizeof(path));
	else if (mipart_host_path(c->host, MIPART_JOURNAL_PATH, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	r = mipart_ledger_open(path, &l);
	if (r == 0)
		r = mipart_ledger_list(l, &v, &n);
	if (r < 0) {
		say(c, "cannot read the allocation ledger '%s': %s", path, mipart_strerror(r));
		mipart_ledger_free(l);
		return r;
	}
	names[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		bool hit = false;

		for (size_t b = 0; b < v[i].n_bookings && !hit; b++)
			for (size_t g = 0; g < mipart_change_gpu_count(plan) && !hit; g++) {
				const mipart_gpu_change *gc = mipart_change_gpu(plan, g);

				hit = !strcmp(gc->bdf, v[i].bookings[b].bdf) &&
				      (gc->to_compute != gc->from_compute ||
				       gc->to_memory != gc->from_memory);
			}
		if (!hit)
			continue;
		count++;
		if (len < sizeof(names))
			len += (size_t)snprintf(names + len, sizeof(names) - len, "%s'%s'",
						len ? ", " : "", v[i].name);
	}
	mipart_allocations_free(v, n);
	mipart_ledger_free(l);
	if (!count)
		return 0;
	say(c, "%zu allocation%s on the partitions this change removes: %s; release %s first ('mipart release NAME')",
	    count, count > 1 ? "s" : "", names, count > 1 ? "them" : "it");
	return -EADDRINUSE;
}

/* What every writer does first: a clean result, the clock, the host lock, the journal. */
static int begin(struct ctx *c, int *ret_lockfd)
{
	int r;

	memset(c->res, 0, sizeof(*c->res));
	c->res->state = "refused";
	clock_gettime(CLOCK_MONOTONIC, &c->start);
	if (!c->o->lock_held) {
		r = take_lock(c, ret_lockfd);
		if (r < 0)
			return r;
	}
	return open_journal(c);
}

/* Record in the journal which hook units run now and which will be stopped, then stop those
 * (only the running ones: a unit an operator stopped stays stopped). A crash after this leaves
 * the list for `mipart recover`. */
static int hooks_stop(struct ctx *c)
{
	const mipart_apply_options *o = c->o;
	bool running[HOOKS_MAX_UNITS];
	mipart_stopped_unit *left = NULL;
	size_t n_left = 0;
	json_t *units, *stop;
	char *text;
	int r;

	if (!o->n_units)
		return 0;
	if (o->n_units > HOOKS_MAX_UNITS) {
		say(c, "too many hook units (%zu, at most %d)", o->n_units, HOOKS_MAX_UNITS);
		return -E2BIG;
	}
	r = hooks_query(o->systemctl_root, o->systemctl, o->units, o->n_units, running, c->res->message,
			sizeof(c->res->message));
	if (r < 0)
		return r;
	/* a unit an earlier change stopped and could not start again is owed a start: it is
	 * stopped (a no-op) and started with the others (NVIDIA mig-manager restarts units it
	 * finds failed the same way: deployments/container/reconfigure-mig.sh,
	 * host_stop_systemd_services, "is-failed, will-restart") */
	if (mipart_journal_units_stopped(c->j, &left, &n_left) < 0)
		n_left = 0;
	for (size_t i = 0; i < o->n_units; i++)
		for (size_t k = 0; k < n_left && running[i]; k++)
			if (!strcmp(left[k].name, o->units[i])) /* started since: owed nothing */
				journal_units_started(c->j, &o->units[i], 1);
	units = json_array();
	stop = json_array();
	for (size_t i = 0; i < o->n_units; i++) {
		bool owed = false;

		for (size_t k = 0; k < n_left && !running[i] && !o->boot; k++)
			owed |= !strcmp(left[k].name, o->units[i]);
		json_array_append_new(units, json_pack("{s:s, s:s}", "name", o->units[i], "was",
						       running[i] ? "running"
						       : owed	  ? "left-stopped"
								  : "stopped"));
		if (running[i] || owed) {
			json_array_append_new(stop, json_string(o->units[i]));
			c->stop[c->n_stop++] = o->units[i];
		}
	}
	free(left);
	c->hooks = json_pack("{s:o, s:o, s:b}", "units", units, "stop", stop, "restarted", false);
	text = c->hooks ? json_dumps(c->hooks, JSON_COMPACT) : NULL;
	r = text ? mipart_journal_set_hooks(c->j, c->id, text) : -ENOMEM;
	free(text);
	if (r < 0) {
		c->n_stop = 0;
		say(c, "cannot journal the hook units: %s; nothing was changed", mipart_strerror(r));
		return r;
	}
	r = hooks_run(o->systemctl_root, o->systemctl, NULL, "stop", c->stop, c->n_stop, c->res->message,
		      sizeof(c->res->message));
	if (r < 0) {
		size_t len = strlen(c->res->message);

		snprintf(c->res->message + len, sizeof(c->res->message) - len, "; nothing was changed");
	}
	return r;
}

/* The units names[0..n) that a start left stopped ('systemctl is-active' says which; all of
 * them when it cannot tell), in the result (the CLI exits 1 and names them) and, for a
 * journalled change, in its hooks: "restarted" stays false, "left_stopped" names them and
 * "start_error" says why, so that they outlive the change: doctor and status report them,
 * 'mipart recover' (or the next change naming them) starts them. */
static size_t units_left(struct ctx *c, const char *const *names, size_t n, const char *err,
			 bool journal)
{
	size_t count = 0;
	bool running[HOOKS_MAX_UNITS];
	char qerr[256];
	json_t *left = json_array();
	char *text;

	if (hooks_query(c->o->systemctl_root, c->o->systemctl, names, n, running, qerr,
			sizeof(qerr)) < 0)
		for (size_t i = 0; i < n; i++)
			running[i] = false;
	for (size_t i = 0; i < n; i++) {
		char **nv;

		if (running[i])
			continue;
		json_array_append_new(left, json_string(names[i]));
		count++;
		nv = realloc(c->res->units_stopped, (c->res->n_units_stopped + 1) * sizeof(*nv));
		if (!nv || !(nv[c->res->n_units_stopped] = strdup(names[i]))) {
			if (nv)
				c->res->units_stopped = nv;
			continue;
		}
		c->res->units_stopped = nv;
		c->res->n_units_stopped++;
	}
	util_strlcpy(c->res->warning, err, sizeof(c->res->warning));
	if (!count) { /* the start said it failed, but they all run: started */
		json_decref(left);
		return 0;
	}
	c->start_failed = true;
	if (journal && c->hooks && c->id) {
		json_object_set_new(c->hooks, "restarted", json_false());
		json_object_set(c->hooks, "left_stopped", left);
		json_object_set_new(c->hooks, "start_error", json_string(err));
		text = json_dumps(c->hooks, JSON_COMPACT);
		if (text)
			mipart_journal_set_hooks(c->j, c->id, text);
		free(text);
	}
	json_decref(left);
	return count;
}

/* Of names[0..n), those the start left running (not in res->units_stopped): older rows that
 * left them stopped are told (journal_units_started). */
static void units_started_some(struct ctx *c, const char *const *names, size_t n)
{
	const char *ok[HOOKS_MAX_UNITS];
	size_t k = 0;

	for (size_t i = 0; i < n && k < HOOKS_MAX_UNITS; i++) {
		bool left = false;

		for (size_t u = 0; u < c->res->n_units_stopped; u++)
			left |= !strcmp(c->res->units_stopped[u], names[i]);
		if (!left)
			ok[k++] = names[i];
	}
	if (c->j)
		journal_units_started(c->j, ok, k);
}

/* "'a', 'b'" (escaped: unit names come from a layout file or the journal) into buf. */
static void quote_units(const char *const *names, size_t n, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && len < size; i++) {
		char shown[128];

		util_show(names[i], strlen(names[i]), 100, shown, sizeof(shown));
		len += (size_t)snprintf(buf + len, size - len, "%s'%s'", i ? ", " : "", shown);
	}
}

/* How a start runs: from mipart boot (inside mipart-boot.service) the start jobs are enqueued,
 * not waited for (hooks.h, HOOKS_NO_BLOCK: a unit ordered after mipart-boot.service would wait
 * for it); systemd runs them once mipart boot has ended. Elsewhere the start is waited for and
 * its failure known. */
static const char *start_option(const struct ctx *c)
{
	return c->o->boot ? HOOKS_NO_BLOCK : NULL;
}

/* Start exactly the units hooks_stop stopped (also after a stop that failed part-way), and
 * journal that they were; older changes that had left the same units stopped are told too.
 * One attempt: the units that did not start are recorded (units_left). */
static void hooks_start(struct ctx *c)
{
	char err[256] = "";
	char *text;
	size_t n = c->n_stop;
	int r;

	if (!n)
		return;
	c->n_stop = 0;
	r = hooks_run(c->o->systemctl_root, c->o->systemctl, start_option(c), "start", c->stop, n, err,
		      sizeof(err));
	if (r < 0 && units_left(c, c->stop, n, err, true)) {
		units_started_some(c, c->stop, n);
		return;
	}
	quote_units(c->stop, n, c->started, sizeof(c->started));
	if (c->j)
		journal_units_started(c->j, c->stop, n);
	if (!c->hooks || !c->id)
		return;
	json_object_set_new(c->hooks, "restarted", json_true());
	json_object_del(c->hooks, "left_stopped");
	text = json_dumps(c->hooks, JSON_COMPACT);
	if (text)
		mipart_journal_set_hooks(c->j, c->id, text);
	free(text);
}

/* Recover: the units a change stopped and never started again, as if this run had stopped
 * them: finish() (or, where recover ends without one, hooks_start) starts them. The names
 * point into c->hooks, which lives until the end of the recovery. */
static void hooks_load(struct ctx *c, const char *hooks)
{
	json_t *h = hooks ? json_loads(hooks, 0, NULL) : NULL;
	json_t *stop = json_object_get(h, "left_stopped"), *v;
	size_t i;

	if (!json_is_array(stop))
		stop = json_object_get(h, "stop");
	if (!h || json_is_true(json_object_get(h, "restarted")) || !json_is_array(stop)) {
		json_decref(h);
		return;
	}
	json_array_foreach(stop, i, v) {
		if (json_is_string(v) && c->n_stop < HOOKS_MAX_UNITS)
			c->stop[c->n_stop++] = json_string_value(v);
	}
	c->hooks = h;
}

/* Which GPUs must be idle, and who is in the way. */
static int check_busy(struct ctx *c, const mipart_topology *t, const mipart_change *plan)
{
	uint64_t mask = 0;
	bool reload = mipart_change_needs_reload(plan);
	size_t n;
	int r;

	for (size_t i = 0; i < mipart_change_gpu_count(plan) && i < 64; i++)
		if (mipart_change_gpu(plan, i)->disruption != MIPART_DISRUPT_NONE)
			mask |= UINT64_C(1) << i;
	r = mipart_procs_scan(c->host, t, &c->res->blockers);
	if (r < 0) {
		say(c, "cannot list the processes using the GPUs: %s", mipart_strerror(r));
		return r;
	}
	/* a compute switch is refused by the driver for KFD users of that GPU only
	 * (amdgpu_amdkfd_check_and_lock_kfd); unloading the module needs every user gone */
	n = mipart_procs_retain(c->res->blockers, reload ? ~UINT64_C(0) : mask, !reload);
	c->res->blocked_gpus = reload ? ~UINT64_C(0) : mask;
	if (n) {
		say(c, "%zu process%s use%s %s", n, n > 1 ? "es" : "", n > 1 ? "" : "s",
		    reload ? "an AMD GPU and the change reloads the driver (every GPU must be idle)"
			   : "GPUs the change switches (they must be idle)");
		return -EBUSY;
	}
	c->res->blockers = mipart_procs_free(c->res->blockers);
	return 0;
}

/* How every change and every recovery that may have touched the GPUs ends, whichever exit it
 * takes: what follows the partitions (the post-change actions of postchange.h, then the
 * caller's own, such as the CDI spec), then the hook units the change stopped start again
 * (they read what was just rewritten; those that do not are written into the row's hooks,
 * units_left, so that the closed row keeps them for recover and doctor), and last the journal
 * row is closed with its state
 * (resolve: recover closes a row that had ended 'failed', and adds its message to the one
 * kept). Closed last, so that a crash in any of these leaves the row open and recover runs
 * them again (the units would otherwise stay stopped with nothing left to say so). One step
 * for all exits, so that none leaves a part out (a recovery of pending NPS requests once
 * skipped the post-change actions). read: the host as last read and found at the target, or
 * NULL. */
static void finish(struct ctx *c, const char *state, const char *after, const char *message,
		   bool resolve, const mipart_topology *read)
{
	c->res->state = state;
	if (!c->o->no_post_change)
		mipart_post_change_run(c->host, c->o->post_change_report, c->o->userdata);
	if (c->o->after_change_read)
		c->o->after_change_read(c->o->userdata, read);
	else if (c->o->after_change)
		c->o->after_change(c->o->userdata);
	hooks_start(c);
	if (resolve)
		mipart_journal_resolve(c->j, c->id, state, after, message);
	else
		mipart_journal_finish(c->j, c->id, state, after, message);
}

int apply_unresolved(mipart_journal *j, char *msg, size_t size)
{
	mipart_journal_entry e = { 0 };
	int r = mipart_journal_unresolved(j, &e);

	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		snprintf(msg, size, "cannot read the journal: %s", mipart_strerror(r));
		return r;
	}
	if (!strcmp(e.state, "running"))
		snprintf(msg, size, "change %lld (%s) did not finish (step '%s'); run 'mipart recover' first",
			 (long long)e.id, e.command, e.step);
	else
		snprintf(msg, size,
			 "change %lld (%s) failed and left the host in neither its old nor its new state; run 'mipart recover' first",
			 (long long)e.id, e.command);
	mipart_journal_entry_release(&e);
	return -EINPROGRESS;
}

/* An earlier change that must be resolved first: say which and how. */
static int check_unresolved(struct ctx *c)
{
	return apply_unresolved(c->j, c->res->message, sizeof(c->res->message));
}

int mipart_apply_unresolved(const mipart_host *host, const char *journal_path, char *msg,
			    size_t size)
{
	char path[MIPART_PATH_MAX];
	mipart_journal *j = NULL;
	int r;

	if (journal_path)
		util_strlcpy(path, journal_path, sizeof(path));
	else if (mipart_host_path(host, MIPART_JOURNAL_PATH, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	r = mipart_journal_open_reader(path, &j);
	if (r == -ENOENT)
		return 0; /* no journal yet, nothing recorded */
	if (r < 0) {
		snprintf(msg, size, "cannot read the journal '%s': %s", path, mipart_strerror(r));
		return r;
	}
	r = apply_unresolved(j, msg, size);
	mipart_journal_free(j);
	return r;
}

int mipart_apply(const mipart_host *host, const mipart_target *targets, size_t n,
		 const mipart_apply_options *o, mipart_apply_result *res)
{
	struct ctx c = { .host = host, .o = o, .res = res };
	mipart_topology *t = NULL;
	mipart_compute_mode *bc = NULL;
	mipart_memory_mode *bm = NULL;
	char *before = NULL, *target = NULL, *after = NULL;
	const char *state;
	int lockfd = -1, r;

	r = begin(&c, &lockfd);
	if (r < 0)
		goto out;
	r = check_unresolved(&c);
	if (r < 0)
		goto out;
	r = mipart_topology_load(host, &t);
	if (r < 0) {
		say(&c, "cannot read the GPUs: %s", mipart_strerror(r));
		goto out;
	}
	/* NPS requests the driver holds: every plan accounts for them */
	mipart_journal_annotate_pending(c.j, t);
	if (n != mipart_topology_gpu_count(t)) {
		say(&c, "the GPUs changed while planning (%zu now, %zu planned)",
		    mipart_topology_gpu_count(t), n);
		r = -EAGAIN;
		goto out;
	}
	r = mipart_change_plan(t, targets, n, &res->plan);
	if (r < 0)
		goto out;
	if (mipart_change_problem_count(res->plan)) {
		say(&c, "%s", mipart_change_problem_get(res->plan, 0)->message);
		r = -EINVAL;
		goto out;
	}
	if (mipart_change_is_noop(res->plan)) {
		res->state = "noop";
		goto out;
	}
	r = check_allocations(&c, res->plan);
	if (r < 0)
		goto out;

	bc = calloc(n, sizeof(*bc));
	bm = calloc(n, sizeof(*bm));
	before = topology_state(t);
	target = plan_target(res->plan);
	if (!bc || !bm || !before || !target) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		bc[i] = mipart_topology_gpu(t, i)->compute;
		bm[i] = mipart_topology_gpu(t, i)->memory;
	}
	/* journalled before the hooks stop anything, so a crash from here on leaves a row
	 * that recover finishes; a refusal below removes it again */
	r = mipart_journal_begin(c.j, o->uid, o->command ? o->command : "mipart", before, target,
				 &c.id);
	if (r < 0) {
		say(&c, "cannot write the journal: %s", mipart_strerror(r));
		goto out;
	}
	/* the services named as hooks are what holds the GPUs: stop them under the lock, after the
	 * plan is known to be doable, and start them again whatever happens next */
	r = hooks_stop(&c);
	if (r == 0)
		r = check_busy(&c, t, res->plan);
	if (r < 0) {
		hooks_start(&c);
		if (res->n_units_stopped) {
			/* nothing was changed, but units it stopped are down: the row stays, so
			 * that they are not forgotten */
			res->journal_id = c.id;
			mipart_journal_finish(c.j, c.id, "rolled-back", before, res->message);
		} else {
			mipart_journal_discard(c.j, c.id);
		}
		c.id = 0;
		goto out;
	}
	res->journal_id = c.id;
	r = execute(&c, res->plan, t);
	if (r == 0)
		r = verify(&c, res->plan, &after);
	if (r == 0) {
		finish(&c, "done", after, NULL, false, c.after);
		goto out;
	}
	free(after);
	after = NULL;
	state = restore(&c, bc, bm, n, &after) == 0 ? "rolled-back" : "failed";
	/* a reload may have happened even when rolled back: the partitions are new objects */
	finish(&c, state, after, res->message, false, NULL);
out:
	hooks_start(&c);
	json_decref(c.hooks);
	mipart_topology_free(c.after);
	free(bc);
	free(bm);
	free(before);
	free(target);
	free(after);
	mipart_topology_free(t);
	mipart_journal_free(c.j);
	lock_release(lockfd);
	return r;
}

/* The per-GPU modes (and logical devices, -1 when not recorded) of a journalled state. */
static int parse_state(const char *json, size_t n, mipart_compute_mode *cm, mipart_memory_mode *mm,
		       int *parts)
{
	json_t *a = json_loads(json, 0, NULL);
	size_t i;
	json_t *v;
	int r = 0;

	if (!json_is_array(a) || json_array_size(a) != n) {
		json_decref(a);
		return -EBADMSG;
	}
	json_array_foreach(a, i, v) {
		const char *c = NULL, *m = NULL;
		json_t *p = json_object_get(v, "partitions");

		if (json_unpack(v, "{s:s, s:s}", "compute", &c, "memory", &m) < 0) {
			r = -EBADMSG;
			continue;
		}
		parts[i] = json_is_integer(p) ? (int)json_integer_value(p) : -1;
		/* a GPU whose modes were unknown (unbound, no partitioning) was not touched */
		if (mipart_compute_mode_parse(c, &cm[i]) < 0)
			cm[i] = MIPART_COMPUTE_UNKNOWN;
		if (mipart_memory_mode_parse(m, &mm[i]) < 0)
			mm[i] = MIPART_MEMORY_UNKNOWN;
		if ((cm[i] == MIPART_COMPUTE_UNKNOWN && strcmp(c, "UNKNOWN")) ||
		    (mm[i] == MIPART_MEMORY_UNKNOWN && strcmp(m, "UNKNOWN")))
			r = -EBADMSG;
	}
	json_decref(a);
	return r;
}

/* Whether the host is in the journalled state: modes, and logical devices counted as verify
 * counts them (a GPU in the right modes whose partitions did not appear is not there yet). */
static bool host_at(const mipart_topology *t, const mipart_compute_mode *cm,
		    const mipart_memory_mode *mm, const int *parts, const bool *touched, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(t, i);

		if (!touched[i])
			continue;
		if (!g || !g->driver_bound || (cm[i] != MIPART_COMPUTE_UNKNOWN && g->compute != cm[i]) ||
		    (mm[i] != MIPART_MEMORY_UNKNOWN && g->memory != mm[i]) ||
		    (parts[i] >= 0 && g->n_partitions != (size_t)parts[i]))
			return false;
	}
	return true;
}

/* Load the driver when a GPU the change touched is not bound (a load that failed), then wait
 * for the GPUs. Returns 0 (also when nothing was needed), or the load's error. */
static int load_driver(struct ctx *c, mipart_topology **t, const bool *touched, size_t n)
{
	unsigned timeout = c->o->settle_timeout_ms ? c->o->settle_timeout_ms : 120000;
	long deadline;
	bool need = false;
	char *out = NULL;
	int r;

	for (size_t i = 0; i < n; i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(*t, i);

		if (touched[i] && (!g->driver_bound || g->n_partitions == 0))
			need = true;
	}
	if (!need)
		return 0;
	jstep(c, "load");
	progress(c, -1, "driver load", false, 0);
	r = mipart_backend_load(c->o->backend, &out);
	progress(c, -1, "driver load", true, r);
	if (r < 0) {
		size_t len = out ? strlen(out) : 0;

		while (len && (out[len - 1] == '\n' || out[len - 1] == ' '))
			out[--len] = '\0';
		say(c, "cannot load the driver: %s%s%s", mipart_strerror(r), len ? ": " : "",
		    len ? out : "");
		free(out);
		return r;
	}
	free(out);
	/* a load applies what an unload sent to the firmware (reconciled below) */
	c->pending = false;
	deadline = elapsed_ms(c) + (long)timeout;
	for (;;) {
		mipart_topology *nt = NULL;
		bool ready = true;

		if (mipart_topology_load(c->host, &nt) == 0 && mipart_topology_gpu_count(nt) == n) {
			for (size_t i = 0; i < n; i++) {
				const mipart_gpu_info *g = mipart_topology_gpu(nt, i);

				if (touched[i] && (!g->driver_bound || g->n_partitions == 0 ||
						   g->mode_source != MIPART_MODE_SOURCE_SYSFS))
					ready = false;
			}
			if (ready) {
				reconcile(c, nt);
				mipart_topology_free(*t);
				*t = nt;
				return 0;
			}
		}
		mipart_topology_free(nt);
		if (elapsed_ms(c) > deadline) {
			say(c, "the GPUs did not come back within the settle timeout after the driver load");
			return -ETIMEDOUT;
		}
		usleep(100000);
	}
}

/* After a recovery: allocations whose partitions the host no longer has are named (and
 * `mipart allocations` shows them orphaned); they were booked before the change or while it
 * ran, and the recovery may not keep them. */
static void orphans_say(struct ctx *c)
{
	char path[MIPART_PATH_MAX];
	mipart_ledger *l = NULL;
	mipart_allocation *v = NULL;
	mipart_topology *t = NULL;
	size_t n = 0, count = 0;

	if (c->o->journal_path)
		util_strlcpy(path, c->o->journal_path, sizeof(path));
	else if (mipart_host_path(c->host, MIPART_JOURNAL_PATH, path, sizeof(path)) < 0)
		return;
	if (mipart_ledger_open(path, &l) < 0 || mipart_ledger_list(l, &v, &n) < 0 ||
	    mipart_topology_load(c->host, &t) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (!mipart_allocation_orphaned(&v[i], t, NULL))
			continue;
		say_more(c, "%s'%s'", count ? ", " : "; allocations on partitions the host no longer has (shown orphaned by 'mipart allocations'; release them): ",
			 v[i].name);
		count++;
	}
out:
	mipart_allocations_free(v, n);
	mipart_ledger_free(l);
	mipart_topology_free(t);
}

/* Drop the NPS requests the driver holds and no change is waiting for: reload (they apply),
 * then request the modes the GPUs have now and reload again, as a journalled change. */
static int resolve_pending(struct ctx *c)
{
	mipart_topology *t = NULL;
	mipart_compute_mode *bc = NULL;
	mipart_memory_mode *bm = NULL;
	mipart_target *targets = NULL;
	char *before = NULL, *after = NULL;
	size_t n;
	int r;

	r = mipart_topology_load(c->host, &t);
	if (r < 0) {
		say(c, "cannot read the GPUs: %s", mipart_strerror(r));
		return r;
	}
	n = mipart_topology_gpu_count(t);
	bc = calloc(n + 1, sizeof(*bc));
	bm = calloc(n + 1, sizeof(*bm));
	targets = calloc(n + 1, sizeof(*targets));
	before = topology_state(t);
	if (!bc || !bm || !targets || !before) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(t, i);

		bc[i] = g->compute;
		bm[i] = g->memory;
		targets[i] = (mipart_target){ true, g->compute, g->memory };
	}
	/* the reload needs every GPU idle */
	mipart_journal_annotate_pending(c->j, t);
	r = mipart_change_plan(t, targets, n, &c->res->plan);
	if (r == 0)
		r = check_busy(c, t, c->res->plan);
	if (r < 0)
		goto out;
	r = mipart_journal_begin(c->j, c->o->uid, c->o->command ? c->o->command : "mipart recover",
				 before, before, &c->id);
	if (r < 0) {
		say(c, "cannot write the journal: %s", mipart_strerror(r));
		goto out;
	}
	c->res->journal_id = c->id;
	c->pending = true;
	say(c, "pending NPS requests in the driver");
	r = restore(c, bc, bm, n, &after);
	if (r == 0 && c->still_pending) {
		/* nothing changed: the unload was refused */
		say(c, "the pending NPS requests stay: the driver unload was refused (the module is in use)");
		mipart_journal_discard(c->j, c->id);
		c->res->journal_id = 0;
		r = -EBUSY;
		goto out;
	}
	if (r == 0) {
		mipart_nps_request *left = NULL;
		size_t n_left = 0;

		/* a request no GPU was seen to take (the reload reported success without
		 * unloading) is still the driver's: say so, keep it, change nothing */
		if (mipart_journal_nps_pending(c->j, &left, &n_left) == 0 && n_left) {
			free(left);
			say(c, "the reload did not apply the pending NPS request (the driver did not unload?); it stays pending: run 'mipart recover' again");
			mipart_journal_discard(c->j, c->id);
			c->res->journal_id = 0;
			r = -EAGAIN;
			goto out;
		}
		free(left);
	}
	if (r == 0)
		say(c, "dropped the pending NPS requests: the GPUs keep the modes they had");
	finish(c, r == 0 ? "recovered" : "failed", after, c->res->message, false, NULL);
out:
	free(bc);
	free(bm);
	free(targets);
	free(before);
	free(after);
	mipart_topology_free(t);
	return r;
}

/* Start the hook units earlier changes stopped and could not start again (journalled in their
 * rows, mipart_journal_units_stopped), and say so: after recover resolved what it had to, or
 * when there was nothing else. With nothing else to do the state is "units-started". 0 (also
 * when there were none), -EIO when they still do not start (they stay recorded; message and
 * res->units_stopped say which), or the journal's error. */
static int start_units_left(struct ctx *c)
{
	mipart_stopped_unit *v = NULL;
	const char *names[HOOKS_MAX_UNITS];
	bool running[HOOKS_MAX_UNITS];
	char list[512], err[256] = "", which[128] = "";
	size_t n = 0, nv = 0;
	bool alone = !strcmp(c->res->state, "nothing"), multi;
	int r;

	if (c->o->boot)
		return 0;
	r = mipart_journal_units_stopped(c->j, &v, &nv);
	if (r < 0 || !nv) {
		free(v);
		return r;
	}
	for (size_t i = 0; i < nv && n < HOOKS_MAX_UNITS; i++) {
		bool seen = false;

		for (size_t k = 0; k < n; k++)
			seen |= !strcmp(names[k], v[i].name);
		if (!seen)
			names[n++] = v[i].name;
	}
	/* those that run now (started by hand, or at boot) are owed nothing: forgotten */
	if (hooks_query(c->o->systemctl_root, c->o->systemctl, names, n, running, err,
			sizeof(err)) == 0) {
		const char *up[HOOKS_MAX_UNITS];
		size_t k = 0, m = 0;

		for (size_t i = 0; i < n; i++) {
			if (running[i])
				up[k++] = names[i];
			else
				names[m++] = names[i];
		}
		journal_units_started(c->j, up, k);
		n = m;
	}
	err[0] = '\0';
	if (!n) {
		free(v);
		return 0;
	}
	quote_units(names, n, list, sizeof(list));
	/* which changes: "change 5", "changes 3, 5" */
	for (size_t i = 0, len = 0; i < nv && len < sizeof(which); i++) {
		if (i && v[i].change == v[i - 1].change)
			continue;
		len += (size_t)snprintf(which + len, sizeof(which) - len, "%s%lld", len ? ", " : "",
					(long long)v[i].change);
	}
	multi = v[0].change != v[nv - 1].change;
	if (alone) {
		c->res->journal_id = v[nv - 1].change;
		c->res->message[0] = '\0';
	}
	r = hooks_run(c->o->systemctl_root, c->o->systemctl, NULL, "start", names, n, err, sizeof(err));
	if (r < 0) {
		/* their rows keep them */
		r = units_left(c, names, n, err, false) ? -EIO : 0;
		if (r < 0)
			units_started_some(c, names, n);
	}
	if (r < 0) {
		say_more(c, "%sthe hook units change%s %s left stopped still do not start: %s: %s",
			 alone ? "" : "; ", multi ? "s" : "", which, list, err);
		r = -EIO;
	} else {
		journal_units_started(c->j, names, n);
		say_more(c, "%sstarted the hook units that change%s %s left stopped: %s",
			 alone ? "" : "; ", multi ? "s" : "", which, list);
		if (alone)
			c->res->state = "units-started";
	}
	free(v);
	return r;
}

int mipart_recover(const mipart_host *host, const mipart_apply_options *o, mipart_apply_result *res)
{
	struct ctx c = { .host = host, .o = o, .res = res };
	mipart_journal_entry e = { 0 };
	mipart_topology *t = NULL;
	mipart_compute_mode *bc = NULL, *tc = NULL;
	mipart_memory_mode *bm = NULL, *tm = NULL;
	mipart_nps_request *pend = NULL;
	size_t n_pend = 0;
	int *bp = NULL, *tp = NULL;
	bool *touched = NULL;
	char *after = NULL, first[512];
	bool failed;
	size_t n;
	int lockfd = -1, r;

	r = begin(&c, &lockfd);
	if (r < 0)
		goto out;
	r = mipart_journal_unresolved(c.j, &e);
	if (r == -ENOENT && mipart_journal_nps_pending(c.j, &pend, &n_pend) == 0 && n_pend) {
		r = resolve_pending(&c);
		if (start_units_left(&c) < 0 && r == 0)
			r = -EIO;
		goto out;
	}
	if (r == -ENOENT) {
		res->state = "nothing";
		say(&c, "no unfinished change in the journal");
		r = start_units_left(&c);
		goto out;
	}
	if (r < 0) {
		say(&c, "cannot read the journal: %s", mipart_strerror(r));
		goto out;
	}
	failed = !strcmp(e.state, "failed");
	c.id = res->journal_id = e.id;
	if (sriov_is_change(e.before)) {
		/* a change of SR-IOV VF counts (control/sriov-control.c) */
		r = sriov_recover(host, c.j, &e, res->message, sizeof(res->message), &res->state);
		goto out;
	}
	/* the units the change stopped and never started again: started by finish(), or below
	 * where recover ends without one; they do not depend on the GPUs, so also when the GPUs
	 * cannot be read or the row does not match them */
	hooks_load(&c, e.hooks);
	r = mipart_topology_load(host, &t);
	if (r < 0) {
		say(&c, "cannot read the GPUs: %s", mipart_strerror(r));
		goto hooks;
	}
	n = mipart_topology_gpu_count(t);
	bc = calloc(n + 1, sizeof(*bc));
	tc = calloc(n + 1, sizeof(*tc));
	bm = calloc(n + 1, sizeof(*bm));
	tm = calloc(n + 1, sizeof(*tm));
	bp = calloc(n + 1, sizeof(*bp));
	tp = calloc(n + 1, sizeof(*tp));
	touched = calloc(n + 1, sizeof(*touched));
	if (!bc || !tc || !bm || !tm || !bp || !tp || !touched) {
		r = -ENOMEM;
		goto out;
	}
	if (parse_state(e.before, n, bc, bm, bp) < 0 || parse_state(e.target, n, tc, tm, tp) < 0) {
		say(&c, "change %lld does not match this host's GPUs; resolve by hand (the journal keeps it)",
		    (long long)e.id);
		r = -EBADMSG;
		goto hooks;
	}
	/* the GPUs the change meant to alter */
	for (size_t i = 0; i < n; i++)
		touched[i] = (tc[i] != MIPART_COMPUTE_UNKNOWN || tm[i] != MIPART_MEMORY_UNKNOWN) &&
			     (tc[i] != bc[i] || tm[i] != bm[i]);
	/* a driver that stayed out after a failed load: load it with its configured command */
	r = load_driver(&c, &t, touched, n);
	if (r < 0)
		goto hooks;
	if (!failed && host_at(t, tc, tm, tp, touched, n)) {
		after = topology_state(t);
		say(&c, "change %lld had reached its target before it was interrupted (step '%s')",
		    (long long)e.id, e.step);
		/* the crash may have come before the change's own finish: run it now */
		finish(&c, "done", after, res->message, false, t);
		goto hooks;
	}
	/* an NPS request the journal knows the driver holds (written, no unload since) */
	if (mipart_journal_nps_pending(c.j, &pend, &n_pend) == 0 && n_pend)
		c.pending = true;
	/* from the memory-write step on, an NPS request may be pending */
	if (!failed)
		c.pending |= strncmp(e.step, "start", 5) != 0 &&
			     strncmp(e.step, "compute-write", 13) != 0 && strcmp(e.step, "verify") != 0 &&
			     strcmp(e.step, "settle") != 0 && strncmp(e.step, "hooks", 5) != 0;
	if (failed)
		say(&c, "change %lld had failed (%s)", (long long)e.id, e.step);
	else
		say(&c, "change %lld was interrupted at step '%s'", (long long)e.id, e.step);
	util_strlcpy(first, res->message, sizeof(first));
	r = restore(&c, bc, bm, n, &after);
	if (r == 0) {
		res->state = "recovered";
		say(&c, "%s", first);
		say_more(&c, "; restored the modes before it%s",
			 c.still_pending ? "; an NPS request stays recorded in the driver (the unload was refused): stop what uses the GPUs and run 'mipart recover' again" : "");
	} else {
		char why[128];

		/* the old modes cannot be had: finish to the new ones, and say so */
		util_strlcpy(why, mipart_strerror(r), sizeof(why));
		free(after);
		after = NULL;
		c.still_pending = false;
		r = restore(&c, tc, tm, n, &after);
		res->state = r == 0 ? "done" : "failed";
		say(&c, "%s", first);
		say_more(&c, "; the modes before it could not be restored (%s); %s", why,
			 r == 0 ? "finished to the change's target modes instead"
				: "the target modes could not be reached either: resolve by hand");
	}
	orphans_say(&c);
	finish(&c, res->state, after, res->message, failed, NULL);
hooks:
	/* where no finish() ran (the driver would not load, the GPUs cannot be read or do not
	 * match the row): the units still start */
	hooks_start(&c);
	if (c.started[0])
		say_more(&c, "; %s the hook units it had stopped: %s",
			 o->boot ? "queued the start (systemd runs it once mipart boot ends) of"
				 : "started",
			 c.started);
	else if (res->n_units_stopped) {
		char list[512];

		quote_units((const char *const *)res->units_stopped, res->n_units_stopped, list,
			    sizeof(list));
		say_more(&c, "; the hook units it had stopped did not start: %s: %s", list,
			 res->warning);
	}
	/* units earlier changes left stopped */
	if (!c.start_failed && start_units_left(&c) < 0 && r == 0)
		r = -EIO;
out:
	mipart_journal_entry_release(&e);
	json_decref(c.hooks);
	mipart_topology_free(c.after);
	free(pend);
	free(bc);
	free(tc);
	free(bm);
	free(tm);
	free(bp);
	free(tp);
	free(touched);
	free(after);
	mipart_topology_free(t);
	mipart_journal_free(c.j);
	lock_release(lockfd);
	return r;
}

void mipart_apply_result_release(mipart_apply_result *r)
{
	if (!r)
		return;
	r->plan = mipart_change_free(r->plan);
	r->blockers = mipart_procs_free(r->blockers);
	for (size_t i = 0; i < r->n_units_stopped; i++)
		free(r->units_stopped[i]);
	free(r->units_stopped);
	r->units_stopped = NULL;
	r->n_units_stopped = 0;
}

int mipart_apply_in_progress(const mipart_host *host, char *holder, size_t holder_size)
{
	return lock_probe(host, holder, holder_size);
}

int mipart_host_lock(const mipart_host *host, unsigned timeout_ms, const char *what, char *holder,
		     size_t holder_size)
{
	return lock_acquire(host, timeout_ms, what, holder, holder_size);
}

void mipart_host_unlock(int fd)
{
	lock_release(fd);
}

int apply_parse_state(const char *json, size_t n, mipart_compute_mode *cm, mipart_memory_mode *mm,
		      int *parts)
{
	return parse_state(json, n, cm, mm, parts);
}
