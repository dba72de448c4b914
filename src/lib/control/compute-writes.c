// SPDX-License-Identifier: MIT
/*
 * Compute-mode writes of several GPUs at once. A compute switch runs for seconds per GPU (KFD
 * teardown, XCC reprogramming, KFD re-probe: aqua_vanjaram.c:
 * aqua_vanjaram_switch_partition_mode), under a lock of that device only (xcp_mgr->xcp_lock,
 * amdgpu_amdkfd_check_and_lock_kfd), so an N-GPU change takes about as long as one when the
 * writes run side by side: one thread per GPU, each doing the backend's write. Progress is
 * reported per GPU under a mutex; each job keeps its own error. The caller (apply.c) rolls
 * back the same way whichever GPUs failed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "compute-writes.h"
#include "util.h"
#include "banned.h"

struct shared {
	mipart_backend *b;
	compute_progress_fn progress;
	void *userdata;
	pthread_mutex_t lock;
};

struct worker {
	struct shared *sh;
	struct compute_job *job;
};

static void report(struct shared *sh, const struct compute_job *job, bool done)
{
	if (!sh->progress)
		return;
	pthread_mutex_lock(&sh->lock);
	sh->progress(sh->userdata, job, done);
	pthread_mutex_unlock(&sh->lock);
}

static void run_one(struct shared *sh, struct compute_job *job)
{
	report(sh, job, false);
	job->result = mipart_backend_set_compute(sh->b, job->bdf, job->mode);
	report(sh, job, true);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	run_one(w->sh, w->job);
	return NULL;
}

int compute_writes_run(mipart_backend *b, struct compute_job *jobs, size_t n,
		       compute_progress_fn progress, void *userdata)
{
	struct shared sh = { .b = b, .progress = progress, .userdata = userdata };
	struct worker *w = NULL;
	pthread_t *tid = NULL;
	size_t started = 0;
	int r = 0;

	for (size_t i = 0; i < n; i++)
		jobs[i].result = -EAGAIN;
	if (pthread_mutex_init(&sh.lock, NULL) != 0)
		return -ENOMEM;
	if (n < 2 || !mipart_backend_parallel(b)) {
		for (size_t i = 0; i < n && r == 0; i++) {
			run_one(&sh, &jobs[i]);
			r = jobs[i].result;
		}
		goto out;
	}
	w = calloc(n, sizeof(*w));
	tid = calloc(n, sizeof(*tid));
	if (!w || !tid) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		w[i] = (struct worker){ &sh, &jobs[i] };
		if (pthread_create(&tid[i], NULL, worker_main, &w[i]) != 0)
			break;
		started++;
	}
	/* a thread that could not start: that GPU (and any after it) is done here, in turn */
	for (size_t i = started; i < n; i++)
		run_one(&sh, &jobs[i]);
	for (size_t i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	for (size_t i = 0; i < n && r == 0; i++)
		r = jobs[i].result;
out:
	free(w);
	free(tid);
	pthread_mutex_destroy(&sh.lock);
	return r;
}
