// SPDX-License-Identifier: MIT
/*
 * The simulated amdgpu driver: answers a write to a partition attribute and a module reload
 * the way the kernel does (checks in the kernel's order, the kernel's errno values), then
 * re-renders the tree. Faults injected by the user fire before the real checks. Where the
 * kernel's behaviour is uncertain the stricter choice is taken; docs/simulator.md lists them.
 */
#include <dirent.h>
#include <errno.h>
#include <sys/file.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"
#include "util.h"
#include "banned.h"

/* Typical PCI addresses of an 8-GPU MI300X platform (one GPU per root port). */
/* The compute mode a VF's driver reads: CPX when each XCP has one XCC, else from the XCP count,
 * which is one on a VF (aqua_vanjaram.c: __aqua_vanjaram_calc_xcp_mode). */
mipart_compute_mode sim_vf_mode(const struct product *p)
{
	return p->num_xcc == 1 ? MIPART_COMPUTE_CPX : MIPART_COMPUTE_SPX;
}

static const char *const sim_bdfs[8] = {
	"0000:05:00.0", "0000:26:00.0", "0000:46:00.0", "0000:65:00.0",
	"0000:85:00.0", "0000:a6:00.0", "0000:c6:00.0", "0000:e5:00.0",
};

/* A larger host (more than 8 GPUs): two per root port, still in address order. */
static const char *const sim_bdfs_large[SIM_MAX_GPUS] = {
	"0000:05:00.0", "0000:0c:00.0", "0000:26:00.0", "0000:2c:00.0",
	"0000:46:00.0", "0000:4c:00.0", "0000:65:00.0", "0000:6c:00.0",
	"0000:85:00.0", "0000:8c:00.0", "0000:a6:00.0", "0000:ac:00.0",
	"0000:c6:00.0", "0000:cc:00.0", "0000:e5:00.0", "0000:ec:00.0",
};

/* The PCI address of GPU i: an MI300A host puts each socket in its own PCI domain (amd-smi
 * docs: 0000:01:00.0 ... 0003:01:00.0; HARDWARE.md 8.9). */
static void sim_bdf(const struct sim_state *s, unsigned i, char *buf, size_t size)
{
	if (s->product->apu)
		snprintf(buf, size, "%04x:01:00.0", i);
	else
		util_strlcpy(buf, s->n_gpus > 8 ? sim_bdfs_large[i] : sim_bdfs[i], size);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (ms && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void state_loaded_fresh(struct sim_state *s)
{
	unsigned nodes = s->cpu_nodes;

	for (unsigned i = 0; i < s->n_gpus; i++) {
		s->kfd_order[i] = i;
		nodes += sim_partitions(s, i);
	}
	/* kfd_topology.c: the generation counts node adds since the module loaded, and
	 * kfd_topology_init bumps it once more (HARDWARE.md 8.11) */
	s->generation = nodes + 1;
}

int mipart_sim_create(const char *dir, const mipart_sim_options *o, const char **ret_why)
{
	struct sim_state s = { 0 };
	const char *why = NULL;
	mipart_memory_mode nps = o->memory == MIPART_MEMORY_UNKNOWN ? MIPART_MEMORY_NPS1 : o->memory;
	mipart_compute_mode mode;
	int r;

	s.product = product_by_key(o->product ? o->product : "mi300x");
	s.n_gpus = o->gpus ? o->gpus : 8;
	s.cpu_nodes = o->cpu_nodes ? o->cpu_nodes : 2;
	if (!s.product) {
		why = "unknown product";
		r = -EINVAL;
		goto out;
	}
	if (!o->gpus && s.product->apu)
		s.n_gpus = 4; /* a 4-socket MI300A node */
	/* an APU socket is a NUMA node: the TTM limit it shares is system memory / 2 /
	 * num_online_nodes (amdgpu_amdkfd_xcp_memory_size; HARDWARE.md 8.9) */
	if (!o->cpu_nodes && s.product->apu)
		s.cpu_nodes = s.n_gpus;
	if (s.n_gpus > SIM_MAX_GPUS) {
		why = "at most 16 GPUs";
		r = -EINVAL;
		goto out;
	}
	if (s.product->apu && s.n_gpus > 4) {
		why = "at most 4 MI300A sockets";
		r = -EINVAL;
		goto out;
	}
	if (s.cpu_nodes > 8) {
		why = "at most 8 CPU nodes";
		r = -EINVAL;
		goto out;
	}
	mode = o->compute;
	if (!s.product->partitioning) {
		if (o->compute != MIPART_COMPUTE_UNKNOWN || o->memory != MIPART_MEMORY_UNKNOWN) {
			why = "this product has no partition modes";
			r = -EINVAL;
			goto out;
		}
		nps = MIPART_MEMORY_UNKNOWN;
	} else {
		mipart_mode_set nps_ok = s.product->memory_modes ? s.product->memory_modes
								 : MIPART_MODE_BIT(MIPART_MEMORY_NPS1);

		if (!(nps_ok & MIPART_MODE_BIT(nps))) {
			why = "memory mode not supported by this product";
			r = -EINVAL;
			goto out;
		}
		if (s.product->vf && (mode == MIPART_COMPUTE_UNKNOWN || s.product->num_xcc == 1)) {
			/* the host set a VF's XCPs; by default one XCP of all its XCCs (GIM's
			 * modes per VF count), read as the driver derives it (sim_vf_mode) */
			if (mode != MIPART_COMPUTE_UNKNOWN && mode != sim_vf_mode(s.product)) {
				why = "a one-XCD virtual function reads CPX";
				r = -EINVAL;
				goto out;
			}
			mode = sim_vf_mode(s.product);
		} else if (mode == MIPART_COMPUTE_UNKNOWN) {
			mode = mipart_compute_mode_auto(nps, s.product->num_xcc, s.product->apu);
		}
		if (!(s.product->vf && s.product->num_xcc == 1) &&
		    !mipart_mode_pair_valid(mode, nps, s.product->num_xcc, s.product->gfx_target)) {
			why = "compute mode not valid with this memory mode on this product";
			r = -EINVAL;
			goto out;
		}
	}
	if (!util_dir_empty(dir)) {
		why = "directory is not empty";
		r = -EEXIST;
		goto out;
	}
	r = util_mkdir_p(dir);
	if (r < 0)
		goto out;

	s.hive_id = o->no_hive || s.n_gpus < 2 ? 0 : util_hash64("xgmi-hive", s.n_gpus) >> 1;
	s.legacy_names = o->legacy_xcp_names;
	s.device_nodes = o->device_nodes;
	s.loaded = true;
	s.user_partt_mode = o->user_partt_mode_set ? o->user_partt_mode : -2;
	if (s.user_partt_mode < -2 || s.user_partt_mode == -1 || s.user_partt_mode > 4) {
		why = "user_partt_mode is -2 (AUTO) or 0 (SPX) to 4 (CPX)";
		r = -EINVAL;
		goto out;
	}
	for (unsigned i = 0; i < s.n_gpus; i++) {
		struct sim_gpu *g = &s.gpu[i];

		sim_bdf(&s, i, g->bdf, sizeof(g->bdf));
		g->compute = s.product->partitioning ? mode : MIPART_COMPUTE_UNKNOWN;
		g->memory = nps;
		g->requested = MIPART_MEMORY_UNKNOWN;
		g->xcp_config = s.product->partitioning ? mode : MIPART_COMPUTE_SPX;
		g->numa = (int)(i * s.cpu_nodes / s.n_gpus);
		g->unique_id = util_hash64(g->bdf, 0x6d69706172ull);
		sim_gpu_idle(g);
	}
	if (o->metrics != 0 && o->metrics != -1 && o->metrics != 8 && o->metrics != 9) {
		why = "gpu_metrics revision must be 8 or 9 (or none)";
		r = -EINVAL;
		goto out;
	}
	s.metrics = o->metrics == -1 ? 0 : o->metrics ? (unsigned)o->metrics : 8;
	state_loaded_fresh(&s);
	/* mipart's own directories (not the driver's: outside the two trees) */
	{
		static const char *const own[] = { "run", "etc/mipart", "var/lib/mipart" };
		char path[4096];

		for (size_t k = 0; k < ARRAY_SIZE(own) && r == 0; k++)
			r = util_pathf(path, sizeof(path), "%s/%s", dir, own[k]) < 0 ? -ENAMETOOLONG
										 : util_mkdir_p(path);
	}
	/* both trees whole from the start, so the first change writes only what it changes */
	if (r == 0)
		r = sim_tree_init(dir);
	s.render = SIM_RENDER_ALL;
	for (unsigned t = 0; t < 2 && r == 0; t++) {
		r = sim_render(dir, t, &s);
		if (r == 0 && t == 0)
			r = sim_tree_switch(dir, 0);
	}
	if (r == 0)
		r = sim_state_save(dir, &s);
out:
	if (ret_why)
		*ret_why = why;
	return r;
}

/*
 * After a step: add what it changed to what both trees lack, and unless the render is put off,
 * write the hidden tree and switch it in (sim-render.c). The state is saved first, so a kill
 * mid-render leaves the live tree whole and the need recorded: the next step (any sim
 * operation, a `modprobe` of the loaded module included) renders it before anything else.
 */
static int commit(const char *dir, struct sim_state *s)
{
	struct sim_need n = { s->render, s->render_gpus, s->kfd_from };
	int live, r;
	unsigned t;

	if (n.render) {
		sim_need_merge(&s->stale[0], &n);
		sim_need_merge(&s->stale[1], &n);
		s->unchanged = false;
	}
	live = sim_tree_live(dir);
	if (live == -ENOENT) {
		/* a root an earlier mipart rendered in place: both trees from scratch */
		r = sim_tree_init(dir);
		if (r < 0)
			return r;
		s->stale[0] = s->stale[1] = (struct sim_need){ SIM_RENDER_ALL, 0, 0 };
		s->unchanged = false;
		live = 1;
	} else if (live < 0) {
		return live;
	}
	if (s->defer || !s->stale[live].render)
		return s->unchanged ? 0 : sim_state_save(dir, s);
	r = sim_state_save(dir, s);
	if (r < 0)
		return r;
	t = (unsigned)!live;
	s->render = s->stale[t].render;
	s->render_gpus = s->stale[t].gpus;
	s->kfd_from = s->stale[t].kfd_from;
	r = sim_render(dir, t, s);
	if (r == 0)
		r = sim_tree_switch(dir, t);
	if (r < 0)
		return r;
	s->stale[t] = (struct sim_need){ 0, 0, 0 };
	return sim_state_save(dir, s);
}

/* Run a locked read-modify-render-save step on the state. */
typedef int (*sim_step)(struct sim_state *s, void *arg);

static int with_state(const char *dir, sim_step step, void *arg)
{
	struct sim_state *s;
	int lock, r, w;

	char marker[4096];

	/* not a simulated root: answer before leaving a lock file behind */
	if (util_pathf(marker, sizeof(marker), "%s/" SIM_STATE_FILE, dir) < 0)
		return -ENAMETOOLONG;
	if (access(marker, F_OK) < 0)
		return -errno;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	lock = sim_lock(dir);
	if (lock < 0) {
		free(s);
		return lock;
	}
	r = sim_state_load(dir, s);
	if (r == 0) {
		r = step(s, arg);
		/* a step that fails may still have changed state (a fault used up, a module left
		 * unloaded): save in every case, and render what the step says the tree shows */
		w = commit(dir, s);
		if (r >= 0 && w < 0)
			r = w;
	}
	close(lock);
	free(s);
	return r;
}

/* CLOCK_MONOTONIC in ms: one clock for every process of the host */
static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int gpu_lock_fd(const char *dir, const char *bdf, int how);

/* whether a writer holds GPU bdf's lock (its compute write is still under way) */
static bool gpu_lock_held(const char *dir, const char *bdf)
{
	int fd = gpu_lock_fd(dir, bdf, LOCK_SH | LOCK_NB);

	if (fd == -EWOULDBLOCK)
		return true;
	if (fd >= 0)
		close(fd);
	return false;
}

/* Switches that end together render once: a switch's flush waits for the switches of other
 * GPUs whose wait ends within this many ms (their writers still hold their device's lock),
 * and the last of them renders them all. At most SIM_BATCH_WAIT_MS of waiting. */
#define SIM_BATCH_MS 20
#define SIM_BATCH_WAIT_MS 200

/* The lock file of GPU bdf, opened (not created), or -errno. */
static int gpu_lock_open(const char *dir, const char *bdf)
{
	char path[4096];
	int fd;

	if (util_pathf(path, sizeof(path), "%s/mipart-sim-%s.lock", dir, bdf) < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* The GPUs (bits) other than self whose switch ends within SIM_BATCH_MS: their writer holds
 * the device's lock and wrote into its lock file when its wait ends (mipart_sim_write_attr).
 * A writer that is gone (killed during its wait) holds no lock. Kept out of the state file,
 * so that checking a switch saves nothing. */
static unsigned switches_due(const struct sim_state *s, const char *dir, int self)
{
	uint64_t now = now_ms();
	unsigned due = 0;

	for (unsigned j = 0; j < s->n_gpus; j++) {
		char buf[32];
		uint64_t when;
		ssize_t n;
		int fd;

		if ((int)j == self || (fd = gpu_lock_open(dir, s->gpu[j].bdf)) < 0)
			continue;
		if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
			close(fd); /* no writer */
			continue;
		}
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		close(fd);
		while (n > 0 && buf[n - 1] == '\n')
			n--;
		if (n > 0 && util_parse_u64(buf, (size_t)n, &when) == 0 && when &&
		    when <= now + SIM_BATCH_MS)
			due |= 1u << j;
	}
	return due;
}

struct flush_req {
	const char *dir;
	bool no_wait;		/* waited long enough: render now */
	unsigned wait;		/* out: GPUs (bits) whose switch ends soon */
	char bdf[SIM_MAX_GPUS][16]; /* out: their addresses */
};

static int step_flush(struct sim_state *s, void *arg)
{
	struct flush_req *f = arg;

	s->unchanged = true;
	f->wait = switches_due(s, f->dir, -1);
	if (f->no_wait)
		f->wait = 0;
	for (unsigned j = 0; j < s->n_gpus; j++)
		util_strlcpy(f->bdf[j], s->gpu[j].bdf, sizeof(f->bdf[j]));
	/* the others render this one with theirs */
	if (f->wait)
		s->defer = true;
	return 0;
}

/* Wait until the live tree changes (the last of the switches rendered them all), or the
 * writers of the GPUs in mask have all finished, at most until deadline (ms). The render
 * holds the simulator's lock: waiting for the lock, not polling, while someone has it. */
static void wait_render(const char *dir, unsigned mask, const char (*bdf)[16], uint64_t deadline)
{
	int live = sim_tree_live(dir), fd = -1;
	char path[4096];

	if (util_pathf(path, sizeof(path), "%s/" SIM_LOCK_FILE, dir) >= 0)
		fd = open(path, O_RDWR | O_CLOEXEC);
	for (unsigned k = 0; mask && now_ms() < deadline; k++) {
		if (fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
			/* a step runs: its end is when the tree may have changed */
			while (flock(fd, LOCK_SH) < 0 && errno == EINTR)
				;
		} else {
			struct timespec ts = { 0, 1000000L };

			if (fd >= 0)
				flock(fd, LOCK_UN);
			nanosleep(&ts, NULL);
		}
		if (fd >= 0)
			flock(fd, LOCK_UN);
		if (sim_tree_live(dir) != live)
			break;
		/* now and then: a writer may have failed without rendering */
		if (k % 4 == 3)
			for (unsigned j = 0; j < SIM_MAX_GPUS; j++)
				if ((mask & (1u << j)) && !gpu_lock_held(dir, bdf[j]))
					mask &= ~(1u << j);
	}
	if (fd >= 0)
		close(fd);
}

/* The first matching fault sleeps its delay (or, with ret_delay, hands it to the caller to
 * sleep outside the state lock) and uses one of its times; returns its error (positive errno
 * or MIPART_SIM_SILENT), 0 if it only delays, -1 if none matched. */
static int fire_fault_at(struct sim_state *s, mipart_sim_fault_on on, int gpu, unsigned *ret_delay)
{
	for (unsigned i = 0; i < s->n_faults; i++) {
		struct mipart_sim_fault *f = &s->fault[i];

		if (f->on != on || (f->gpu >= 0 && f->gpu != gpu))
			continue;
		if (ret_delay)
			*ret_delay = f->delay_ms;
		else
			sleep_ms(f->delay_ms);
		if (f->times > 0 && --f->times == 0) {
			int e = f->error;

			memmove(f, f + 1, (s->n_faults - i - 1) * sizeof(*f));
			s->n_faults--;
			return e;
		}
		return f->error;
	}
	return -1;
}

static int fire_fault(struct sim_state *s, mipart_sim_fault_on on, int gpu)
{
	return fire_fault_at(s, on, gpu, NULL);
}

static int gpu_index(const struct sim_state *s, const char *bdf)
{
	for (unsigned i = 0; i < s->n_gpus; i++)
		if (!strcasecmp(s->gpu[i].bdf, bdf))
			return (int)i;
	return -1;
}

static bool gpu_busy(const struct sim_state *s, unsigned gpu)
{
	for (unsigned i = 0; i < s->n_procs; i++)
		if (s->proc[i].gpus & (1u << gpu))
			return true;
	return false;
}

struct write_req {
	const char *bdf, *attr, *value;
	/* compute writes run in two steps (mipart_sim_write_attr): 1 checks and takes the fault,
	 * 2 checks again and switches */
	int phase;
	const char *dir;	/* phase 2: the root, to look at the other switches */
	bool rendered;		/* phase 2: out: rendered with the switch (none was due) */
	bool will_switch;	/* phase 1: out: the checks passed, the switch follows the wait */
	int lock_fd;		/* the device's lock file, which says when the wait ends */
	unsigned delay_ms;	/* phase 1: the fault's delay, slept between the steps */
	int fault;		/* phase 1: the fault's error, as fire_fault returns it */
};

/* amdgpu_gfx.c: amdgpu_gfx_set_compute_partition - strncasecmp on the first 3 letters */
static int parse_compute_prefix(const char *v, mipart_compute_mode *ret)
{
	for (int m = 0; m < MIPART_COMPUTE_MODE_COUNT; m++)
		if (!strncasecmp(v, mipart_compute_mode_name((mipart_compute_mode)m), 3)) {
			*ret = (mipart_compute_mode)m;
			return 0;
		}
	return -EINVAL;
}

static int write_compute(struct sim_state *s, unsigned i, struct write_req *w)
{
	const char *value = w->value;
	const struct product *p = s->product;
	struct sim_gpu *g = &s->gpu[i];
	unsigned before = sim_partitions(s, i);
	mipart_compute_mode mode;
	int f;

	if (parse_compute_prefix(value, &mode) < 0)
		return -EINVAL;
	/* store-function XCC checks */
	if (p->num_xcc % 2 && p->num_xcc != 1)
		return -EINVAL;
	if ((mode == MIPART_COMPUTE_DPX && p->num_xcc % 4) ||
	    (mode == MIPART_COMPUTE_TPX && p->num_xcc != 6) ||
	    (mode == MIPART_COMPUTE_QPX && p->num_xcc != 8))
		return -EINVAL;
	if (w->phase == 1) {
		w->fault = f = fire_fault_at(s, MIPART_SIM_FAULT_COMPUTE_WRITE, (int)i, &w->delay_ms);
		if (f > 0)
			return 0; /* answered after the delay */
	}
	/* amdgpu_xcp.c: amdgpu_xcp_switch_partition_mode: same mode -> nothing happens */
	if (g->compute == mode)
		return 0;
	/* aqua_vanjaram.c: aqua_vanjaram_switch_partition_mode: validity before the KFD lock */
	if (!mipart_mode_pair_valid(mode, g->memory, p->num_xcc, p->gfx_target))
		return -EINVAL;
	/* amdgpu_amdkfd_check_and_lock_kfd: -EBUSY while a KFD process uses the device */
	if (gpu_busy(s, i))
		return -EBUSY;
	if (w->phase == 1) {
		/* checked; the switch itself follows the delay */
		w->will_switch = true;
		return 0;
	}
	/* switches that end together render once: when others end about now, the last of them
	 * renders (flush_switch); else this one renders now */
	s->defer = switches_due(s, w->dir, (int)i) != 0;
	w->rendered = !s->defer;
	g->compute = mode;
	/* xcp_config is left alone: only sysfs init and a write of it set it (amdgpu_xcp.c:
	 * amdgpu_xcp_cfg_sysfs_init, __amdgpu_xcp_switch_partition_mode; HARDWARE.md 8.5) */
	/* the new KFD nodes take their size with the memory allocation mode in force now */
	g->alloc_all_kfd = g->alloc_all;
	/* no KFD process was left on the GPU, and the partitions are new: idle */
	{
		struct sim_gpu was = *g;

		sim_gpu_idle(g);
		if (!memcmp(&was, g, sizeof(was)))
			s->render |= SIM_RENDER_IDLE;
	}
	s->render |= SIM_RENDER_MODES | SIM_RENDER_KFD | SIM_RENDER_METRICS | SIM_RENDER_SWITCH;
	s->render_gpus |= 1u << i;
	/* the nodes before the GPU's place in the KFD list keep their numbers */
	s->kfd_from = s->cpu_nodes;
	for (unsigned o = 0; o < s->n_gpus && s->kfd_order[o] != i; o++)
		s->kfd_from += sim_partitions(s, s->kfd_order[o]);
	/* KFD fini/init: the GPU's nodes are removed, then added at the tail of the topology
	 * list (kfd_topology.c: kfd_topology_add_device, list_move_tail); each add and each
	 * remove bumps the generation */
	for (unsigned o = 0, k = 0; o < s->n_gpus; o++)
		if (s->kfd_order[o] != i)
			s->kfd_order[k++] = s->kfd_order[o];
	s->kfd_order[s->n_gpus - 1] = i;
	s->generation += before + sim_partitions(s, i);
	return 0;
}

static int write_memory(struct sim_state *s, unsigned i, const char *value)
{
	const struct product *p = s->product;
	mipart_memory_mode mode = MIPART_MEMORY_UNKNOWN;
	int f;

	/* one NPS mode or an APU (which reports none): the file is 0444 and opening it for
	 * writing fails with EACCES before any store function runs (amdgpu_gmc.c:
	 * amdgpu_gmc_sysfs_init; fs/kernfs/file.c: kernfs_fop_open; HARDWARE.md 8.4) */
	if (p->apu || __builtin_popcount(p->memory_modes) < 2)
		return -EACCES;
	/* current_memory_partition_store: prefix match against the supported modes only */
	for (int m = MIPART_MEMORY_NPS1; m <= MIPART_MEMORY_NPS8; m++) {
		const char *name = mipart_memory_mode_name((mipart_memory_mode)m);

		if ((p->memory_modes & MIPART_MODE_BIT(m)) && !strncasecmp(name, value, strlen(name)))
			mode = (mipart_memory_mode)m;
	}
	if (mode == MIPART_MEMORY_UNKNOWN)
		return -EINVAL;
	f = fire_fault(s, MIPART_SIM_FAULT_MEMORY_WRITE, (int)i);
	if (f > 0)
		return f == MIPART_SIM_SILENT ? 0 : -f;
	/* "requested NPS mode is same as current NPS mode, skipping" */
	if (mode == s->gpu[i].memory)
		return 0;
	/* "NPS mode change requested, please remove and reload the driver": recorded in the
	 * hive when there is one (hive->requested_nps_mode), else on the device */
	for (unsigned k = 0; k < s->n_gpus; k++)
		if (k == i || s->hive_id)
			s->gpu[k].requested = mode;
	return 0;
}

static int write_xcp_config(struct sim_state *s, unsigned i, const char *value)
{
	mipart_compute_mode mode;

	/* amdgpu_xcp.c: xcp_config_store: selects a profile, does not switch */
	if (parse_compute_prefix(value, &mode) < 0 ||
	    !(mipart_compute_modes_supported(s->product->num_xcc) & MIPART_MODE_BIT(mode)))
		return -EINVAL;
	s->gpu[i].xcp_config = mode;
	s->render |= SIM_RENDER_MODES;
	s->render_gpus |= 1u << i;
	return 0;
}

/* amdgpu_gfx.c (DKMS): compute_partition_mem_alloc_mode_store: "CAPPING" or "ALL",
 * case-insensitive prefix, else -EINVAL. KFD reports sizes when it adds the nodes, so the
 * partitions show the new mode from the next switch (modelled; the stricter reading). */
static int write_alloc_mode(struct sim_state *s, unsigned i, const char *value)
{
	if (!strncasecmp(value, "CAPPING", 7))
		s->gpu[i].alloc_all = false;
	else if (!strncasecmp(value, "ALL", 3))
		s->gpu[i].alloc_all = true;
	else
		return -EINVAL;
	s->render |= SIM_RENDER_MODES;
	s->render_gpus |= 1u << i;
	return 0;
}

static int step_write_attr(struct sim_state *s, const struct write_req *w);

static int step_write(struct sim_state *s, void *arg)
{
	struct write_req *w = arg;
	struct mipart_sim_fault before[SIM_MAX_FAULTS];
	unsigned n_before = s->n_faults;
	int r;

	if (w->phase == 2) {
		/* the wait is over: under the simulator's lock, so that a switch that sees this
		 * one due (switches_due) also sees it switched afterwards */
		if (ftruncate(w->lock_fd, 0) < 0)
			return -errno;
		return step_write_attr(s, w);
	}
	if (w->phase != 1)
		return step_write_attr(s, w);
	/* the checks before a compute switch's wait change nothing but a fault's count */
	memcpy(before, s->fault, sizeof(before));
	r = step_write_attr(s, w);
	s->unchanged = n_before == s->n_faults && !memcmp(before, s->fault, sizeof(before));
	return r;
}

static int step_write_attr(struct sim_state *s, const struct write_req *w)
{
	int i = gpu_index(s, w->bdf);

	if (i < 0 || !s->loaded || !s->product->partitioning)
		return -ENOENT; /* no such attribute file */
	/* a VF's partition files are 0444: opening them for writing fails (kernfs_fop_open) */
	if (s->product->vf && (!strcmp(w->attr, "current_compute_partition") ||
			       !strcmp(w->attr, "current_memory_partition")))
		return -EACCES;
	if (!strcmp(w->attr, "current_compute_partition"))
		return write_compute(s, (unsigned)i, (struct write_req *)w);
	if (!strcmp(w->attr, "current_memory_partition"))
		return write_memory(s, (unsigned)i, w->value);
	if (!strcmp(w->attr, "compute_partition_config/xcp_config"))
		return write_xcp_config(s, (unsigned)i, w->value);
	if (!strcmp(w->attr, "compute_partition_mem_alloc_mode"))
		return write_alloc_mode(s, (unsigned)i, w->value);
	if (!strcmp(w->attr, "available_compute_partition") ||
	    !strcmp(w->attr, "available_memory_partition"))
		return -EACCES; /* 0444 */
	return -ENOENT;
}

/* The lock of one simulated device: what amdgpu holds for a compute switch of that GPU only
 * (xcp_mgr->xcp_lock in amdgpu_xcp_switch_partition_mode; KFD per device). Returns an fd. */
static int gpu_lock_fd(const char *dir, const char *bdf, int how)
{
	char name[64], path[4096];
	int fd;

	if (strspn(bdf, "0123456789abcdefABCDEF:.") != strlen(bdf) || strlen(bdf) > 16)
		return -ENOENT;
	snprintf(name, sizeof(name), "mipart-sim-%s.lock", bdf);
	if (util_pathf(path, sizeof(path), "%s/%s", dir, name) < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	while (flock(fd, how) < 0)
		if (errno != EINTR) {
			int r = -errno;

			close(fd);
			return r;
		}
	return fd;
}

static int gpu_lock(const char *dir, const char *bdf)
{
	return gpu_lock_fd(dir, bdf, LOCK_EX);
}

/* the flush of a compute switch: render it, with the switches of other GPUs that end about
 * now (step_flush) */
static int flush_switch(const char *dir)
{
	struct flush_req f = { .dir = dir };
	uint64_t deadline = now_ms() + SIM_BATCH_WAIT_MS;
	int r;

	for (;;) {
		r = with_state(dir, step_flush, &f);
		if (r < 0 || !f.wait)
			return r;
		/* the others' switches end about now: the last of them renders them all */
		wait_render(dir, f.wait, (const char (*)[16])f.bdf, deadline);
		if (now_ms() >= deadline)
			f.no_wait = true;
	}
}

int mipart_sim_write_attr(const char *dir, const char *bdf, const char *attr, const char *value)
{
	struct write_req w = { .bdf = bdf, .attr = attr, .value = value, .dir = dir, .fault = -1 };
	int lock, r;

	if (strcmp(attr, "current_compute_partition"))
		return with_state(dir, step_write, &w);
	/* A compute switch takes the device's lock for all of its time, the host-wide state only
	 * to check and to switch: switches of different GPUs overlap, as on amdgpu, and a delay
	 * injected for one GPU does not hold up the others. */
	lock = gpu_lock(dir, bdf);
	if (lock < 0)
		return lock;
	w.phase = 1;
	w.lock_fd = lock;
	r = with_state(dir, step_write, &w);
	if (r == 0 && w.will_switch) {
		/* when this switch's wait ends, for the others (switches_due) */
		char due[32];
		int n = snprintf(due, sizeof(due), "%llu\n",
				 (unsigned long long)(now_ms() + w.delay_ms));

		if (pwrite(lock, due, (size_t)n, 0) != n || ftruncate(lock, n) < 0)
			r = -errno;
	}
	if (r == 0 && (w.delay_ms || w.fault > 0)) {
		sleep_ms(w.delay_ms);
		if (w.fault > 0)
			r = w.fault == MIPART_SIM_SILENT ? 0 : -w.fault;
	}
	if (r == 0 && w.fault <= 0) {
		/* switch, then render: switches that end together render once (the first flush
		 * renders them all; the write returns once its switch is in the tree) */
		w.phase = 2;
		r = with_state(dir, step_write, &w);
		if (r == 0 && !w.rendered)
			r = flush_switch(dir);
	}
	close(lock);
	return r;
}

static int sim_load_module(struct sim_state *s);

static int step_reload(struct sim_state *s, void *arg)
{
	bool was_loaded = s->loaded;
	int f;

	/* modprobe -r fails while anything holds the module */
	if (s->loaded && s->n_procs)
		return -EBUSY;
	f = fire_fault(s, MIPART_SIM_FAULT_RELOAD, -1);
	if (f == EBUSY)
		return -EBUSY; /* unload refused: nothing changed */
	if (f == MIPART_SIM_SILENT)
		return 0; /* the command said it worked; the driver never went away */
	if (s->loaded) {
		/* unload: amdgpu_gmc_prepare_nps_mode_change sends pending requests to the PSP */
		for (unsigned i = 0; i < s->n_gpus; i++)
			if (s->gpu[i].requested != MIPART_MEMORY_UNKNOWN) {
				s->gpu[i].memory = s->gpu[i].requested;
				s->gpu[i].requested = MIPART_MEMORY_UNKNOWN;
			}
		s->loaded = false;
		s->render = SIM_RENDER_ALL;
	}
	if (f > 0 && f != MIPART_SIM_SILENT)
		return -f; /* unloaded, but the load failed: the driver stays out */
	{
		int r = sim_load_module(s);

		/* out and in again: the tree shows what the reload changed, the modes and the
		 * readings of every GPU, all of KFD and no process; the devices, links and
		 * module files are the same objects again (written over in place) */
		if (r == 0 && was_loaded) {
			s->render = SIM_RENDER_MODES | SIM_RENDER_KFD | SIM_RENDER_METRICS |
				    SIM_RENDER_PROCS;
			s->render_gpus = (1u << s->n_gpus) - 1;
			s->kfd_from = 0;
		}
		return r;
	}
}

int mipart_sim_reload(const char *dir)
{
	return with_state(dir, step_reload, NULL);
}

static int step_load_only(struct sim_state *s, void *arg)
{
	int f;

	/* modprobe of a loaded module does nothing and succeeds */
	if (s->loaded)
		return 0;
	/* the load half of a reload: a reload fault other than EBUSY (which refuses the
	 * unload) fails the load too */
	f = fire_fault(s, MIPART_SIM_FAULT_RELOAD, -1);
	if (f > 0 && f != MIPART_SIM_SILENT && f != EBUSY)
		return -f;
	return sim_load_module(s);
}

int mipart_sim_load_driver(const char *dir)
{
	return with_state(dir, step_load_only, NULL);
}

static int sim_load_module(struct sim_state *s)
{
	/* load: the cached mode starts UNKNOWN, so user_partt_mode (AUTO by default) decides the
	 * compute mode (gfx_v9_4_3.c: gfx_v9_4_3_cp_resume; mipart_compute_mode_at_load) */
	for (unsigned i = 0; i < s->n_gpus; i++) {
		struct sim_gpu *g = &s->gpu[i];

		if (!s->product->partitioning)
			continue;
		/* a VF's XCPs are the host's (GIM's) business: a guest's reload keeps them */
		if (!s->product->vf)
			g->compute = mipart_compute_mode_at_load(s->user_partt_mode, g->memory,
								 s->product->num_xcc,
								 s->product->gfx_target, s->product->apu);
		g->xcp_config = g->compute == MIPART_COMPUTE_UNKNOWN ? MIPART_COMPUTE_SPX : g->compute;
		/* the attribute lives in the driver: back to the default, CAPPING */
		g->alloc_all = g->alloc_all_kfd = false;
	}
	for (unsigned i = 0; i < s->n_gpus; i++)
		sim_gpu_idle(&s->gpu[i]);
	s->loaded = true;
	s->reloads++;
	state_loaded_fresh(s);
	s->render = SIM_RENDER_ALL;
	return 0;
}

struct hold_req {
	unsigned gpu;
	int xcp; /* -1: every partition */
	int pid;
	const char *comm, *container;
};

static int step_hold(struct sim_state *s, void *arg)
{
	const struct hold_req *h = arg;
	struct sim_proc *p = NULL;

	if (h->gpu >= s->n_gpus || (h->xcp >= 0 && (!s->loaded ||
						      (unsigned)h->xcp >= sim_partitions(s, h->gpu))))
		return -ENOENT;
	for (unsigned i = 0; i < s->n_procs; i++)
		if (s->proc[i].pid == h->pid)
			p = &s->proc[i];
	if (!p) {
		if (s->n_procs == SIM_MAX_PROCS)
			return -ENOSPC;
		p = &s->proc[s->n_procs++];
		memset(p, 0, sizeof(*p));
		p->pid = h->pid;
	}
	util_strlcpy(p->comm, h->comm, sizeof(p->comm));
	util_strlcpy(p->container, h->container ? h->container : "", sizeof(p->container));
	if (h->xcp < 0)
		p->parts[h->gpu] = 0; /* the whole GPU */
	else if (!(p->gpus & (1u << h->gpu)) || p->parts[h->gpu])
		p->parts[h->gpu] |= (uint8_t)(1u << h->xcp);
	p->gpus |= 1u << h->gpu;
	s->render |= SIM_RENDER_PROCS;
	return 0;
}

int mipart_sim_hold(const char *dir, unsigned gpu, int pid, const char *comm, const char *container)
{
	return mipart_sim_hold_partition(dir, gpu, UINT_MAX, pid, comm, container);
}

int mipart_sim_hold_partition(const char *dir, unsigned gpu, unsigned xcp, int pid,
			      const char *comm, const char *container)
{
	struct hold_req h = { gpu, xcp == UINT_MAX ? -1 : (int)xcp, pid, comm, container };

	if (pid <= 0 || !comm || !*comm || strchr(comm, '/') || strchr(comm, '\n') ||
	    (container && (strlen(container) > 64 || strchr(container, '/'))))
		return -EINVAL;
	return with_state(dir, step_hold, &h);
}

static int step_release(struct sim_state *s, void *arg)
{
	int pid = *(int *)arg;

	for (unsigned i = 0; i < s->n_procs; i++)
		if (s->proc[i].pid == pid) {
			struct sim_proc gone = s->proc[i];

			memmove(&s->proc[i], &s->proc[i + 1], (s->n_procs - i - 1) * sizeof(s->proc[0]));
			s->n_procs--;
			/* the process's buffers are freed when it exits: a partition no process
			 * uses any more holds no VRAM and runs nothing */
			for (unsigned g = 0; g < s->n_gpus; g++)
				for (unsigned x = 0; x < 8; x++) {
					bool used = false;

					if (!sim_proc_has(&gone, g, x))
						continue;
					for (unsigned k = 0; k < s->n_procs; k++)
						used |= sim_proc_has(&s->proc[k], g, x);
					if (!used)
						s->gpu[g].busy[x] = 0, s->gpu[g].vram[x] = 0;
				}
			s->render |= SIM_RENDER_PROCS | SIM_RENDER_METRICS;
			return 0;
		}
	return -ESRCH;
}

int mipart_sim_release(const char *dir, int pid)
{
	/* the render removes its /proc and KFD proc entries */
	return with_state(dir, step_release, &pid);
}

void sim_gpu_idle(struct sim_gpu *g)
{
	/* an idle MI300X: ~140 W, hotspot ~40 C, HBM ~38 C, clocks at their idle levels */
	g->power_w = 140;
	g->temp_hotspot_c = 40;
	g->temp_mem_c = 38;
	g->gfxclk_mhz = -1; /* not scripted: idle clock, the peak clock under load */
	g->uclk_mhz = 900;
	memset(g->busy, 0, sizeof(g->busy));
	memset(g->vram, 0, sizeof(g->vram));
}

static int step_load(struct sim_state *s, void *arg)
{
	const mipart_sim_load *l = arg;
	struct sim_gpu *g;

	if (l->gpu >= s->n_gpus || !s->loaded)
		return -ENOENT;
	g = &s->gpu[l->gpu];
	if (l->xcp >= 0 && (unsigned)l->xcp >= sim_partitions(s, l->gpu))
		return -ENOENT;
	if ((l->busy >= 0 && (l->xcp < 0 || l->busy > 100)) ||
	    (l->vram >= 0 && (l->xcp < 0 || (uint64_t)l->vram > sim_partition_memory(s, l->gpu, (unsigned)l->xcp))) ||
	    l->power_w > 2000 || l->temp_c > 200 || l->mem_temp_c > 200 || l->gfxclk_mhz > 10000)
		return -ERANGE;
	if (l->busy >= 0)
		g->busy[l->xcp] = (uint8_t)l->busy;
	if (l->vram >= 0)
		g->vram[l->xcp] = (uint64_t)l->vram;
	if (l->power_w >= 0)
		g->power_w = l->power_w;
	if (l->temp_c >= 0)
		g->temp_hotspot_c = l->temp_c;
	if (l->mem_temp_c >= 0)
		g->temp_mem_c = l->mem_temp_c;
	if (l->gfxclk_mhz >= 0)
		g->gfxclk_mhz = l->gfxclk_mhz;
	s->render |= SIM_RENDER_METRICS | SIM_RENDER_PROCS;
	return 0;
}

int mipart_sim_set_load(const char *dir, const mipart_sim_load *load)
{
	return with_state(dir, step_load, (void *)load);
}

static int step_fault(struct sim_state *s, void *arg)
{
	const struct mipart_sim_fault *f = arg;

	if (f->gpu >= (int)s->n_gpus)
		return -ENOENT;
	if (s->n_faults == SIM_MAX_FAULTS)
		return -ENOSPC;
	s->fault[s->n_faults++] = *f;
	return 0;
}

int mipart_sim_add_fault(const char *dir, const mipart_sim_fault *f)
{
	if (f->times == 0 || f->times < -1 || f->error < 0 || f->gpu < -1 ||
	    f->delay_ms > 600000 || (unsigned)f->on > MIPART_SIM_FAULT_RELOAD ||
	    (f->on == MIPART_SIM_FAULT_RELOAD && f->gpu >= 0))
		return -EINVAL;
	return with_state(dir, step_fault, (void *)f);
}

static int step_clear(struct sim_state *s, void *arg)
{
	s->n_faults = 0;
	return 0;
}

int mipart_sim_clear_faults(const char *dir)
{
	return with_state(dir, step_clear, NULL);
}

int mipart_sim_error_parse(const char *s, int *ret)
{
	static const struct {
		const char *name;
		int err;
	} t[] = { { "EIO", EIO },	    { "EBUSY", EBUSY },	    { "EINVAL", EINVAL },
		  { "EPERM", EPERM },	    { "ETIMEDOUT", ETIMEDOUT }, { "ENODEV", ENODEV },
		  { "SILENT", MIPART_SIM_SILENT } };

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if (!strcasecmp(s, t[i].name)) {
			*ret = t[i].err;
			return 0;
		}
	return -EINVAL;
}
