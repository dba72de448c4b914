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
#include <time.h>
#include <unistd.h>

#include "mipart/apply.h"
#include "mipart/error.h"
#include "mipart/journal.h"
#include "mipart/ledger.h"
#include "lock.h"
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

/* Carry out a plan: NPS requests, reload, compute writes. */
static int execute(struct ctx *c, const mipart_change *plan)
{
	mipart_topology *t = NULL;
	char step[64];
	int r;

	if (mipart_change_needs_reload(plan)) {
		char *out = NULL;

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
		}
		jstep(c, "reload");
		progress(c, -1, "driver reload", false, 0);
		r = mipart_backend_reload(c->o->backend, &out);
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
		c->pending = false;
		jstep(c, "settle");
		progress(c, -1, "waiting for the devices", false, 0);
		r = settle(c, plan, &t);
		progress(c, -1, "waiting for the devices", true, r);
		if (r < 0) {
			say(c, "the GPUs did not come back within the settle timeout after the reload");
			return r;
		}
	} else {
		r = mipart_topology_load(c->host, &t);
		if (r < 0) {
			say(c, "cannot read the GPUs: %s", mipart_strerror(r));
			return r;
		}
	}
	for (size_t i = 0; i < mipart_change_gpu_count(plan); i++) {
		const mipart_gpu_change *gc = mipart_change_gpu(plan, i);
		const mipart_gpu_info *g = mipart_topology_gpu(t, i);

		if (!gc->write_compute || (g && g->compute == gc->to_compute))
			continue;
		snprintf(step, sizeof(step), "compute-write %s %s", gc->bdf,
			 mipart_compute_mode_name(gc->to_compute));
		jstep(c, step);
		progress(c, (int)gc->gpu, step, false, 0);
		r = mipart_backend_set_compute(c->o->backend, gc->bdf, gc->to_compute);
		progress(c, (int)gc->gpu, step, true, r);
		if (r < 0) {
			say(c, "cannot set compute mode %s on GPU %u (%s): %s",
			    mipart_compute_mode_name(gc->to_compute), gc->gpu, gc->bdf, mipart_strerror(r));
			mipart_topology_free(t);
			return r;
		}
	}
	mipart_topology_free(t);
	return 0;
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
	mipart_topology_free(t);
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
		r = mipart_backend_reload(c->o->backend, &out);
		if (r < 0) /* a load that failed once may work the second time */
			r = mipart_backend_reload(c->o->backend, NULL);
		free(out);
		progress(c, -1, "rollback: driver reload", true, r);
		if (r < 0)
			goto out;
		c->pending = false;
	}
	r = mipart_topology_load(c->host, &t);
	if (r < 0)
		goto out;
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
	r = execute(c, plan);
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
	snprintf(c->res->message, sizeof(c->res->message), "%s; %s", saved,
		 r == 0 ? "rolled back to the modes before the change"
			: "ROLLBACK FAILED: the host is in neither the old nor the new state");
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
	r = take_lock(c, ret_lockfd);
	if (r < 0)
		return r;
	return open_journal(c);
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

int mipart_apply(const mipart_host *host, const mipart_target *targets, size_t n,
		 const mipart_apply_options *o, mipart_apply_result *res)
{
	struct ctx c = { .host = host, .o = o, .res = res };
	mipart_topology *t = NULL;
	mipart_journal_entry running = { 0 };
	mipart_compute_mode *bc = NULL;
	mipart_memory_mode *bm = NULL;
	char *before = NULL, *target = NULL, *after = NULL;
	bool hooks_stopped = false;
	int lockfd = -1, r;

	r = begin(&c, &lockfd);
	if (r < 0)
		goto out;
	if (mipart_journal_running(c.j, &running) == 0) {
		say(&c, "change %lld (%s) did not finish (step '%s'); run 'mipart recover' first",
		    (long long)running.id, running.command, running.step);
		r = -EINPROGRESS;
		goto out;
	}
	r = mipart_topology_load(host, &t);
	if (r < 0) {
		say(&c, "cannot read the GPUs: %s", mipart_strerror(r));
		goto out;
	}
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
	/* the services named as hooks are what holds the GPUs: stop them under the lock, after the
	 * plan is known to be doable, and start them again whatever happens next */
	if (o->hook) {
		hooks_stopped = true;
		r = o->hook(o->userdata, "stop");
		if (r < 0) {
			say(&c, "the hook that stops the services failed; nothing was changed");
			goto out;
		}
	}
	r = check_busy(&c, t, res->plan);
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
	r = mipart_journal_begin(c.j, o->uid, o->command ? o->command : "mipart", before, target,
				 &c.id);
	if (r < 0) {
		say(&c, "cannot write the journal: %s", mipart_strerror(r));
		goto out;
	}
	res->journal_id = c.id;
	r = execute(&c, res->plan);
	if (r == 0)
		r = verify(&c, res->plan, &after);
	if (r == 0) {
		res->state = "done";
		mipart_journal_finish(c.j, c.id, "done", after, NULL);
		if (o->after_change)
			o->after_change(o->userdata);
		goto out;
	}
	free(after);
	after = NULL;
	res->state = restore(&c, bc, bm, n, &after) == 0 ? "rolled-back" : "failed";
	mipart_journal_finish(c.j, c.id, res->state, after, res->message);
	/* a reload may have happened even when rolled back: the partitions are new objects */
	if (o->after_change)
		o->after_change(o->userdata);
out:
	if (hooks_stopped)
		o->hook(o->userdata, "start");
	mipart_journal_entry_release(&running);
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

static int parse_state(const char *json, size_t n, mipart_compute_mode *cm, mipart_memory_mode *mm)
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

		if (json_unpack(v, "{s:s, s:s}", "compute", &c, "memory", &m) < 0) {
			r = -EBADMSG;
			continue;
		}
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

int mipart_recover(const mipart_host *host, const mipart_apply_options *o, mipart_apply_result *res)
{
	struct ctx c = { .host = host, .o = o, .res = res };
	mipart_journal_entry e = { 0 };
	mipart_topology *t = NULL;
	mipart_compute_mode *bc = NULL, *tc = NULL;
	mipart_memory_mode *bm = NULL, *tm = NULL;
	char *after = NULL;
	bool at_target = true;
	size_t n;
	int lockfd = -1, r;

	r = begin(&c, &lockfd);
	if (r < 0)
		goto out;
	r = mipart_journal_running(c.j, &e);
	if (r == -ENOENT) {
		res->state = "nothing";
		say(&c, "no unfinished change in the journal");
		r = 0;
		goto out;
	}
	if (r < 0)
		goto out;
	c.id = res->journal_id = e.id;
	r = mipart_topology_load(host, &t);
	if (r < 0)
		goto out;
	n = mipart_topology_gpu_count(t);
	bc = calloc(n + 1, sizeof(*bc));
	tc = calloc(n + 1, sizeof(*tc));
	bm = calloc(n + 1, sizeof(*bm));
	tm = calloc(n + 1, sizeof(*tm));
	if (!bc || !tc || !bm || !tm) {
		r = -ENOMEM;
		goto out;
	}
	if (parse_state(e.before, n, bc, bm) < 0 || parse_state(e.target, n, tc, tm) < 0) {
		say(&c, "change %lld does not match this host's GPUs; resolve by hand", (long long)e.id);
		r = -EBADMSG;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(t, i);

		if ((tc[i] != MIPART_COMPUTE_UNKNOWN && g->compute != tc[i]) ||
		    (tm[i] != MIPART_MEMORY_UNKNOWN && g->memory != tm[i]) ||
		    ((tc[i] != MIPART_COMPUTE_UNKNOWN || tm[i] != MIPART_MEMORY_UNKNOWN) &&
		     !g->driver_bound))
			at_target = false;
	}
	if (at_target) {
		after = topology_state(t);
		res->state = "done";
		say(&c, "change %lld had reached its target before it was interrupted (step '%s')",
		    (long long)e.id, e.step);
		mipart_journal_finish(c.j, c.id, "done", after, res->message);
		goto out;
	}
	/* from the memory-write step on, an NPS request may be pending */
	c.pending = strncmp(e.step, "start", 5) != 0 && strncmp(e.step, "compute-write", 13) != 0 &&
		    strcmp(e.step, "verify") != 0 && strcmp(e.step, "settle") != 0;
	say(&c, "change %lld was interrupted at step '%s'", (long long)e.id, e.step);
	r = restore(&c, bc, bm, n, &after);
	res->state = r == 0 ? "recovered" : "failed";
	mipart_journal_finish(c.j, c.id, res->state, after, res->message);
	if (o->after_change)
		o->after_change(o->userdata);
out:
	mipart_journal_entry_release(&e);
	free(bc);
	free(tc);
	free(bm);
	free(tm);
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

int apply_parse_state(const char *json, size_t n, mipart_compute_mode *cm, mipart_memory_mode *mm)
{
	return parse_state(json, n, cm, mm);
}
