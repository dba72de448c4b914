// SPDX-License-Identifier: MIT
/*
 * State of the simulated driver: what the hardware and the module hold (modes, pending NPS
 * request, KFD node order, processes, faults), kept as JSON in <root>/mipart-sim.json. The tree
 * is always re-rendered from this state, so the state file is the single source of truth and
 * also the marker that tells mipart a root is simulated.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim.h"
#include "util.h"
#include "banned.h"

static const char *const fault_on_names[] = { "compute-write", "memory-write", "reload" };

int sim_lock(const char *dir)
{
	char path[4096];
	int fd;

	if (util_pathf(path, sizeof(path), "%s/" SIM_LOCK_FILE, dir) < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int r = -errno;

			close(fd);
			return r;
		}
	}
	return fd;
}

/*
 * The last state this process saved, with the identity of the file it wrote: a load that
 * finds the same file (a save renames a new inode in place, so any other writer changes the
 * inode, and an edit in place the times) takes it without reading and parsing the JSON. The
 * threads of one process (the compute writes of a change) load what the others saved.
 */
static struct {
	pthread_mutex_t lock;
	bool valid;
	char path[4096];
	struct stat st;
	struct sim_state s;
} cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* remember s as the content of the file path whose identity is st (NULL: stat it now) */
static void cache_put(const char *path, const struct stat *known, const struct sim_state *s)
{
	struct stat st;

	pthread_mutex_lock(&cache.lock);
	cache.valid = (known ? (st = *known, 0) : stat(path, &st)) == 0 &&
		      strlen(path) < sizeof(cache.path);
	if (cache.valid) {
		util_strlcpy(cache.path, path, sizeof(cache.path));
		cache.st = st;
		cache.s = *s;
		/* what is not saved: the step's fields, and what lies past the counts (a removed
		 * fault or process leaves its bytes behind) */
		cache.s.render = cache.s.render_gpus = cache.s.kfd_from = 0;
		cache.s.defer = cache.s.unchanged = false;
		memset(&cache.s.gpu[s->n_gpus], 0, (SIM_MAX_GPUS - s->n_gpus) * sizeof(s->gpu[0]));
		memset(&cache.s.proc[s->n_procs], 0, (SIM_MAX_PROCS - s->n_procs) * sizeof(s->proc[0]));
		memset(&cache.s.fault[s->n_faults], 0,
		       (SIM_MAX_FAULTS - s->n_faults) * sizeof(s->fault[0]));
	}
	pthread_mutex_unlock(&cache.lock);
}

/* the cached state when path is still the file it came from; *st: path's identity */
static bool cache_get(const char *path, struct stat *st, struct sim_state *ret)
{
	bool hit;

	if (stat(path, st) < 0)
		return false;
	pthread_mutex_lock(&cache.lock);
	hit = cache.valid && !strcmp(cache.path, path) && same_file(&cache.st, st);
	if (hit)
		*ret = cache.s;
	pthread_mutex_unlock(&cache.lock);
	return hit;
}

void sim_state_forget(void)
{
	pthread_mutex_lock(&cache.lock);
	cache.valid = false;
	pthread_mutex_unlock(&cache.lock);
}

static json_t *fault_json(const struct mipart_sim_fault *f)
{
	return json_pack("{s:i, s:s, s:i, s:i, s:i}", "gpu", f->gpu, "on", fault_on_names[f->on],
			 "error", f->error, "times", f->times, "delay_ms", (int)f->delay_ms);
}

int sim_state_save(const char *dir, const struct sim_state *s)
{
	json_t *root = NULL, *gpus, *procs, *faults, *order;
	char path[4096], hive[24];
	char *text = NULL;
	int r = -ENOMEM;

	gpus = json_array();
	procs = json_array();
	faults = json_array();
	order = json_array();
	snprintf(hive, sizeof(hive), "%016llx", (unsigned long long)s->hive_id);
	root = json_pack("{s:i, s:i, s:s, s:i, s:s, s:b, s:b, s:i, s:i, s:i, s:o, s:o, s:o, s:o, s:[[iii][iii]]}",
			 "version", 1, "user_partt_mode", s->user_partt_mode,
			 "product", s->product->key, "cpu_nodes", (int)s->cpu_nodes, "hive_id", hive,
			 "legacy_xcp_names", s->legacy_names, "loaded", s->loaded, "metrics",
			 (int)s->metrics, "generation",
			 (int)s->generation, "reloads", (int)s->reloads, "gpus", gpus, "kfd_order",
			 order, "processes", procs, "faults", faults, "stale_render",
			 (int)s->stale[0].render, (int)s->stale[0].gpus, (int)s->stale[0].kfd_from,
			 (int)s->stale[1].render, (int)s->stale[1].gpus, (int)s->stale[1].kfd_from);
	if (!root)
		goto out;
	if (s->device_nodes && json_object_set_new(root, "device_nodes", json_true()) < 0)
		goto out;
	for (unsigned i = 0; i < s->n_gpus; i++) {
		const struct sim_gpu *g = &s->gpu[i];
		json_t *busy = json_array(), *vram = json_array();
		char uid[24];

		for (unsigned x = 0; x < 8 && busy && vram; x++)
			if (json_array_append_new(busy, json_integer(g->busy[x])) < 0 ||
			    json_array_append_new(vram, json_integer((json_int_t)g->vram[x])) < 0)
				break;
		snprintf(uid, sizeof(uid), "%016llx", (unsigned long long)g->unique_id);
		if (json_array_append_new(
			    gpus, json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:b, s:b, s:{s:i, s:i, s:i, s:i, "
					    "s:i, s:o, s:o}}",
					    "bdf", g->bdf,
					    "compute", mipart_compute_mode_name(g->compute), "memory",
					    mipart_memory_mode_name(g->memory), "requested_memory",
					    mipart_memory_mode_name(g->requested), "xcp_config",
					    mipart_compute_mode_name(g->xcp_config), "numa_node", g->numa,
					    "unique_id", uid, "mem_alloc_all", g->alloc_all,
					    "mem_alloc_all_kfd", g->alloc_all_kfd, "load", "power_w", g->power_w,
					    "temp_c", g->temp_hotspot_c, "mem_temp_c", g->temp_mem_c,
					    "gfxclk_mhz", g->gfxclk_mhz, "uclk_mhz", g->uclk_mhz, "busy",
					    busy, "vram", vram)) < 0)
			goto out;
		if (json_array_append_new(order, json_integer(s->kfd_order[i])) < 0)
			goto out;
	}
	for (unsigned i = 0; i < s->n_procs; i++) {
		const struct sim_proc *p = &s->proc[i];

		json_t *parts = json_array();

		for (unsigned g = 0; g < s->n_gpus && parts; g++)
			json_array_append_new(parts, json_integer(p->parts[g]));
		if (json_array_append_new(procs, json_pack("{s:i, s:s, s:s, s:i, s:o}", "pid", p->pid,
							   "comm", p->comm, "container",
							   p->container, "gpus", (int)p->gpus,
							   "partitions", parts)) < 0)
			goto out;
	}
	for (unsigned i = 0; i < s->n_faults; i++)
		if (json_array_append_new(faults, fault_json(&s->fault[i])) < 0)
			goto out;
	text = json_dumps(root, JSON_INDENT(1));
	if (!text)
		goto out;
	r = util_pathf(path, sizeof(path), "%s/" SIM_STATE_FILE, dir);
	if (r < 0)
		goto out;
	r = util_write_file_durable(path, text, strlen(text), 0644);
	/* saved under the simulator's lock: nobody else writes the file before the stat */
	if (r == 0)
		cache_put(path, NULL, s);
out:
	free(text);
	json_decref(root);
	return r;
}

static int parse_hex(const char *s, uint64_t *ret)
{
	return util_parse_hex_u64(s, strlen(s), ret);
}

int sim_state_load(const char *dir, struct sim_state *ret)
{
	struct sim_state s = { 0 };
	json_t *root = NULL, *gpus, *procs, *faults, *order, *v;
	const char *product, *hive;
	json_error_t jerr;
	char path[4096];
	char *buf = NULL;
	ssize_t n;
	size_t i;
	int r = -EBADMSG, cpu_nodes, generation, reloads, legacy, loaded, metrics = 8, partt = -2;
	int pend[3] = { 0, 0, 0 }, stl[6] = { 0, 0, 0, 0, 0, 0 };
	struct stat st = { 0 };
	bool have_st;

	if (util_pathf(path, sizeof(path), "%s/" SIM_STATE_FILE, dir) < 0)
		return -ENAMETOOLONG;
	if (cache_get(path, &st, ret))
		return 0;
	have_st = st.st_ino != 0;
	buf = malloc(SIM_STATE_MAX + 1);
	if (!buf)
		return -ENOMEM;
	n = util_read_file(path, buf, SIM_STATE_MAX);
	if (n < 0) {
		free(buf);
		return (int)n;
	}
	root = json_loadb(buf, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (!root)
		return -EBADMSG;
	if (json_unpack(root, "{s:s, s:i, s:s, s:b, s:b, s?i, s:i, s:i, s?i, s:o, s:o, s:o, s:o, s?[iii], s?[[iii][iii]]}",
			"product", &product, "cpu_nodes", &cpu_nodes, "hive_id", &hive,
			"legacy_xcp_names", &legacy, "loaded", &loaded, "metrics", &metrics,
			"generation", &generation, "reloads", &reloads, "user_partt_mode", &partt,
			"gpus", &gpus, "kfd_order", &order, "processes", &procs, "faults", &faults,
			"pending_render", &pend[0], &pend[1], &pend[2], "stale_render", &stl[0], &stl[1],
			&stl[2], &stl[3], &stl[4], &stl[5]) < 0 ||
	    (metrics != 0 && metrics != 8 && metrics != 9) || partt < -2 || partt > 4 ||
	    partt == -1)
		goto out;
	s.user_partt_mode = partt;
	s.metrics = (unsigned)metrics;
	for (unsigned t = 0; t < 2; t++) {
		s.stale[t] = (struct sim_need){ (unsigned)stl[3 * t], (unsigned)stl[3 * t + 1],
						(unsigned)stl[3 * t + 2] };
		/* an earlier mipart's pending render: both trees lack it */
		s.stale[t].render |= (unsigned)pend[0];
		s.stale[t].gpus |= (unsigned)pend[1];
		if (pend[0] && (!s.stale[t].kfd_from || (unsigned)pend[2] < s.stale[t].kfd_from))
			s.stale[t].kfd_from = (unsigned)pend[2];
	}
	s.product = product_by_key(product);
	if (!s.product || parse_hex(hive, &s.hive_id) < 0 || cpu_nodes < 1 || cpu_nodes > 8 ||
	    !json_is_array(gpus) || json_array_size(gpus) > SIM_MAX_GPUS ||
	    json_array_size(order) != json_array_size(gpus) ||
	    json_array_size(procs) > SIM_MAX_PROCS || json_array_size(faults) > SIM_MAX_FAULTS)
		goto out;
	s.cpu_nodes = (unsigned)cpu_nodes;
	s.legacy_names = legacy;
	s.device_nodes = json_is_true(json_object_get(root, "device_nodes"));
	s.loaded = loaded;
	s.generation = (unsigned)generation;
	s.reloads = (unsigned)reloads;
	s.n_gpus = (unsigned)json_array_size(gpus);
	json_array_foreach(gpus, i, v) {
		struct sim_gpu *g = &s.gpu[i];
		const char *bdf, *compute, *memory, *req, *xcp, *uid;
		json_t *load = NULL, *busy = NULL, *vram = NULL;
		int numa, all = 0, all_kfd = 0;

		if (json_unpack(v, "{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s?b, s?b, s?o}", "bdf", &bdf,
				"compute", &compute, "memory", &memory, "requested_memory", &req,
				"xcp_config", &xcp, "numa_node", &numa, "unique_id", &uid,
				"mem_alloc_all", &all, "mem_alloc_all_kfd", &all_kfd, "load", &load) < 0)
			goto out;
		g->alloc_all = all;
		g->alloc_all_kfd = all_kfd;
		sim_gpu_idle(g);
		if (load) {
			if (json_unpack(load, "{s:i, s:i, s:i, s:i, s:i, s:o, s:o}", "power_w",
					&g->power_w, "temp_c", &g->temp_hotspot_c, "mem_temp_c",
					&g->temp_mem_c, "gfxclk_mhz", &g->gfxclk_mhz, "uclk_mhz",
					&g->uclk_mhz, "busy", &busy, "vram", &vram) < 0 ||
			    json_array_size(busy) != 8 || json_array_size(vram) != 8)
				goto out;
			for (unsigned x = 0; x < 8; x++) {
				json_int_t b = json_integer_value(json_array_get(busy, x));
				json_int_t m = json_integer_value(json_array_get(vram, x));

				if (b < 0 || b > 100 || m < 0)
					goto out;
				g->busy[x] = (uint8_t)b;
				g->vram[x] = (uint64_t)m;
			}
		}
		/* the BDF becomes part of paths: exactly DDDD:BB:DD.F in hex */
		if (strlen(bdf) != 12 || strspn(bdf, "0123456789abcdef:.") != 12 || bdf[4] != ':' ||
		    bdf[7] != ':' || bdf[10] != '.' || parse_hex(uid, &g->unique_id) < 0)
			goto out;
		util_strlcpy(g->bdf, bdf, sizeof(g->bdf));
		if (mipart_compute_mode_parse(compute, &g->compute) < 0)
			g->compute = MIPART_COMPUTE_UNKNOWN;
		if (mipart_memory_mode_parse(memory, &g->memory) < 0)
			g->memory = MIPART_MEMORY_UNKNOWN;
		if (mipart_memory_mode_parse(req, &g->requested) < 0)
			g->requested = MIPART_MEMORY_UNKNOWN;
		if (mipart_compute_mode_parse(xcp, &g->xcp_config) < 0)
			g->xcp_config = MIPART_COMPUTE_SPX;
		g->numa = numa;
	}
	json_array_foreach(order, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) >= (json_int_t)s.n_gpus)
			goto out;
		s.kfd_order[i] = (unsigned)json_integer_value(v);
	}
	json_array_foreach(procs, i, v) {
		struct sim_proc *p = &s.proc[i];
		const char *comm, *container;
		json_t *parts = NULL;
		int gpumask;

		if (json_unpack(v, "{s:i, s:s, s:s, s:i, s?o}", "pid", &p->pid, "comm", &comm,
				"container", &container, "gpus", &gpumask, "partitions", &parts) < 0 ||
		    p->pid <= 0 || strchr(comm, '/') || strchr(container, '/') ||
		    json_array_size(parts) > SIM_MAX_GPUS)
			goto out;
		for (size_t g = 0; g < json_array_size(parts); g++) {
			json_int_t m = json_integer_value(json_array_get(parts, g));

			if (m < 0 || m > 255)
				goto out;
			p->parts[g] = (uint8_t)m;
		}
		util_strlcpy(p->comm, comm, sizeof(p->comm));
		util_strlcpy(p->container, container, sizeof(p->container));
		p->gpus = (unsigned)gpumask;
		s.n_procs++;
	}
	json_array_foreach(faults, i, v) {
		struct mipart_sim_fault *f = &s.fault[i];
		const char *on;
		int delay;
		size_t k;

		if (json_unpack(v, "{s:i, s:s, s:i, s:i, s:i}", "gpu", &f->gpu, "on", &on, "error",
				&f->error, "times", &f->times, "delay_ms", &delay) < 0)
			goto out;
		for (k = 0; k < ARRAY_SIZE(fault_on_names); k++)
			if (!strcmp(on, fault_on_names[k]))
				break;
		if (k == ARRAY_SIZE(fault_on_names) || delay < 0)
			goto out;
		f->on = (mipart_sim_fault_on)k;
		f->delay_ms = (unsigned)delay;
		s.n_faults++;
	}
	/* the file read is the one stat saw, or a newer one (a new inode: a later stat will not
	 * match the identity kept) */
	if (have_st)
		cache_put(path, &st, &s);
	*ret = s;
	r = 0;
out:
	json_decref(root);
	return r;
}
