// SPDX-License-Identifier: MIT
/*
 * Process scan: which processes hold which GPUs. A process counts on a GPU when one of its file
 * descriptors is a render node of one of the GPU's partitions (/proc/<pid>/fd/N ->
 * /dev/dri/renderDM), or when KFD lists a device entry for one of the GPU's partitions
 * (/sys/class/kfd/kfd/proc/<pid>/vram_<gpu_id>, kfd_process.c: kfd_procfs_add_sysfs_files).
 * The driver refuses a compute switch with -EBUSY exactly for the KFD users
 * (amdgpu_amdkfd_check_and_lock_kfd); render-only users are listed too, since a driver reload
 * needs them gone. fd links are compared as strings: they name host paths even when mipart
 * reads a tree under a root prefix.
 * For each render-node fd the fdinfo file (/proc/<pid>/fdinfo/N, fdinfo.c) tells the memory of
 * the DRM client behind it. Every partition's render node is a minor of the GPU's one DRM
 * device (amdgpu_xcp.c: amdgpu_xcp_dev_alloc, "Redirect all IOCTLs to the primary device"), so
 * drm-pdev names the GPU, and the partition is the one of the fd's render minor. Several fds
 * can share one DRM client (dup, fork, SCM_RIGHTS): drm-client-id tells them apart
 * (drm-usage-stats.rst: unique globally, or per device with drm-pdev), and each client counts
 * once. amdgpu printed no drm-client-id in its first drm-usage-stats format (2022, until
 * "drm/amdgpu: add drm-client-id to fdinfo"; drm-driver, drm-pdev and pasid only): there, two
 * fds of one process on the same render node are compared with kcmp(2) KCMP_FILE, as Mesa's
 * os_same_file_description does for DRM fds, and one open file description counts once. kcmp
 * needs the process's pid as this kernel sees it, so it is used only when the /proc read is
 * this process's own view (its "self" names getpid()), not a captured or simulated tree; where
 * it cannot answer (no kcmp, EPERM, the fd closed meanwhile) the pasid tells: one per DRM file
 * (amdgpu_kms.c: amdgpu_driver_open_kms gives each open its amdgpu_fpriv, VM and PASID), so
 * one non-zero pasid on one partition is one file; with pasid 0 (none was left) the fd counts as
 * its own client, and mipart_procs_uncompared says how many were. A file held by several
 * processes (an fd inherited over fork) counts once on the host, under the lowest pid
 * (files_once).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/kcmp.h>

#include "mipart/procs.h"
#include "discover.h"
#include "util.h"
#include "banned.h"

#define PROCS_MAX 4096 /* processes using GPUs we keep */
#define FDS_MAX 65536  /* fds of one process we look at */
#define CLIENTS_MAX 256 /* DRM clients of one process whose fdinfo we count */

#define FILES_MAX 16384 /* DRM files of the whole scan remembered to count each once */

/* A DRM file counted for a process, and what it added there: the same file in a process of a
 * higher pid (an fd inherited over fork, or passed) gives it back (files_once). */
struct counted_file {
	char pdev[20];
	uint64_t id;  /* drm-client-id, or the pasid */
	bool pasid;   /* id is a pasid (no drm-client-id), told apart by partition too */
	int part;     /* partition index */
	int pid;
	int64_t vram, evicted, gtt;
	uint64_t engine_ns;
};

struct mipart_procs {
	struct mipart_proc_info *v;
	size_t n;
	size_t hidden;
	size_t uncompared; /* fds without drm-client-id that could not be compared */
	int uncompared_error;
	struct counted_file *files; /* during the scan only */
	size_t n_files;
};

size_t mipart_procs_container_id(const char *cg, size_t len, char *buf, size_t size)
{
	static const char *const prefixes[] = { "docker-", "cri-containerd-", "crio-", "libpod-",
						"/docker/", "/libpod-" };
	size_t best_len = 0;
	const char *best = NULL;

	if (size)
		buf[0] = '\0';
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t plen = strlen(prefixes[i]);

		for (const char *s = cg; s + plen <= cg + len; s++) {
			const char *id, *e;

			if (memcmp(s, prefixes[i], plen))
				continue;
			id = s + plen;
			/* a NUL ends it too: the id is a C string (fuzz-procs) */
			for (e = id; e < cg + len && *e && *e != '.' && *e != '/' && *e != '\n'; e++)
				;
			if (e > id) {
				best = id;
				best_len = (size_t)(e - id);
			}
		}
	}
	if (!best) {
		/* kubepods paths end in the 64-hex container id */
		const char *k = NULL;

		for (const char *s = cg; s + 9 <= cg + len; s++)
			if (!memcmp(s, "/kubepods", 9))
				k = s;
		if (k) {
			const char *e = memchr(k, '\n', (size_t)(cg + len - k));
			const char *end = e ? e : cg + len, *slash = end, *h;

			while (slash > k && slash[-1] != '/')
				slash--;
			h = slash;
			/* only the hex id: a unit name ("x.scope") or odd bytes are not one */
			while (h < end && ((*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'f')))
				h++;
			if (end - slash >= 12 && h == end) {
				best = slash;
				best_len = (size_t)(end - slash);
			}
		}
	}
	if (!best || best_len >= size)
		return 0;
	memcpy(buf, best, best_len);
	buf[best_len] = '\0';
	return best_len;
}

size_t procs_parse_comm(const char *buf, size_t len, char *out, size_t size)
{
	ssize_t l = util_line_len(buf, len);

	if (size)
		out[0] = '\0';
	if (l <= 0 || !size)
		return 0;
	/* the kernel writes task->comm and "\n" (fs/proc/base.c: comm_show, "%s\n"): 15 bytes
	 * at most (TASK_COMM_LEN 16), any byte but NUL, set by the process (prctl PR_SET_NAME) */
	if ((size_t)l >= size)
		l = (ssize_t)size - 1;
	memcpy(out, buf, (size_t)l);
	out[l] = '\0';
	return strlen(out);
}

/* Position (mipart_topology_partition order) of the partition with a render minor / a KFD
 * gpu_id, or -1 */
static int part_of_minor(const mipart_topology *t, long minor)
{
	for (size_t i = 0; i < mipart_topology_partition_count(t); i++) {
		const mipart_partition_info *p = mipart_topology_partition(t, i);

		if (p->render_minor == minor)
			return (int)i;
	}
	return -1;
}

static int part_of_gpu_id(const mipart_topology *t, long long id)
{
	for (size_t i = 0; i < mipart_topology_partition_count(t); i++) {
		const mipart_partition_info *p = mipart_topology_partition(t, i);

		if (p->gpu_id == id)
			return (int)i;
	}
	return -1;
}

/* Mark partition i (and its GPU) as used by pi. */
static void mark_part(const mipart_topology *t, int i, struct mipart_proc_info *pi)
{
	const mipart_partition_info *p = i >= 0 ? mipart_topology_partition(t, (size_t)i) : NULL;

	if (!p)
		return;
	if (i < 64)
		pi->partitions |= UINT64_C(1) << i;
	if (i < MIPART_PROCS_PARTITIONS)
		pi->partition_bits[i / 64] |= UINT64_C(1) << (i % 64);
	if (p->gpu < 64)
		pi->gpus |= UINT64_C(1) << p->gpu;
}

/* the DRM clients of one process already counted: drm-pdev and drm-client-id; the fds counted
 * without a drm-client-id, by partition; where kcmp may be asked */
struct clients {
	struct {
		char pdev[20];
		uint64_t id;
	} v[CLIENTS_MAX];
	size_t n;
	struct {
		int fd, part;
		uint32_t pasid;
	} anon[CLIENTS_MAX];
	size_t n_anon;
	int pid;
	bool live;		/* pid is a process of this kernel's pid namespace */
	size_t *uncompared;
	int *uncompared_error;
	struct mipart_procs *procs; /* the scan: its files */
};

int procs_same_file(int pid, int a, int b)
{
#ifdef SYS_kcmp
	/* kernel/kcmp.c: KCMP_FILE compares the struct file behind fd a and fd b of the two tasks
	 * (0: equal; 1, 2: ordered; 3: not comparable); both need ptrace_may_access(
	 * PTRACE_MODE_READ_REALCREDS), about what reading their fdinfo takes
	 * (fs/proc/fd.c: proc_fdinfo_access_allowed, PTRACE_MODE_READ_FSCREDS). -ENOSYS on a
	 * kernel built without CONFIG_KCMP (before 5.12 only with CHECKPOINT_RESTORE; DRM selects
	 * it since, for Mesa). */
	long r = syscall(SYS_kcmp, (pid_t)pid, (pid_t)pid, KCMP_FILE, (unsigned long)a,
			 (unsigned long)b);

	if (r < 0)
		return -errno;
	return r == 0;
#else
	(void)pid, (void)a, (void)b;
	return -ENOSYS;
#endif
}

/* Whether fd of partition i, printed without a drm-client-id, is an open file description
 * already counted (a dup of an earlier fd); else it is remembered for the next ones. kcmp
 * answers first; where it cannot, the pasid does: one per DRM file (discover.h), so two fds
 * of a partition with one non-zero pasid are one file, and two different pasids two files. */
static bool anon_seen(struct clients *seen, const char *fd, int i, uint32_t pasid)
{
	uint64_t n;
	int err = 0;
	bool candidates = false;

	if (util_parse_u64(fd, strlen(fd), &n) < 0 || n > INT32_MAX)
		return false;
	for (size_t k = 0; k < seen->n_anon; k++) {
		int r;

		if (seen->anon[k].part != i) /* a dup is on the same render node */
			continue;
		candidates = true;
		r = seen->live ? procs_same_file(seen->pid, seen->anon[k].fd, (int)n) : -ENXIO;
		if (r == 1)
			return true;
		if (r == 0)
			continue;
		if (pasid && seen->anon[k].pasid == pasid)
			return true;
		if (!pasid || !seen->anon[k].pasid)
			err = r; /* neither kcmp nor the pasid could tell */
	}
	if (candidates && err) {
		(*seen->uncompared)++;
		*seen->uncompared_error = err;
	}
	if (seen->n_anon < CLIENTS_MAX) {
		seen->anon[seen->n_anon].fd = (int)n;
		seen->anon[seen->n_anon].part = i;
		seen->anon[seen->n_anon].pasid = pasid;
		seen->n_anon++;
	}
	return false;
}

static void add_size(int64_t *sum, int64_t v)
{
	if (v < 0)
		return;
	if (*sum < 0)
		*sum = 0;
	*sum = v > INT64_MAX - *sum ? INT64_MAX : *sum + v;
}

/* Room for one more counted file in p->files (grown 64 at a time, up to FILES_MAX); beyond, a
 * file counts in each process that holds it, as drm-client-id alone would. */
static bool files_room(struct mipart_procs *p)
{
	struct counted_file *v;

	if (p->n_files >= FILES_MAX)
		return false;
	if (p->n_files % 64)
		return true;
	v = realloc(p->files, (p->n_files + 64) * sizeof(*v));
	if (!v)
		return false;
	p->files = v;
	return true;
}

/* fdinfo of render-node fd `fd`, open on partition i: count its DRM client once */
static void count_fdinfo(int pidfd, const char *fd, int i, struct clients *seen,
			 struct mipart_proc_info *pi)
{
	char name[300], buf[FDINFO_MAX_BYTES + 1];
	struct procs_fdinfo f;
	ssize_t n;

	if (seen->n == CLIENTS_MAX)
		return;
	snprintf(name, sizeof(name), "fdinfo/%s", fd);
	n = util_read_fileat(pidfd, name, buf, FDINFO_MAX_BYTES);
	if (n < 0 || procs_parse_fdinfo(buf, (size_t)n, &f) < 0 || strcmp(f.driver, "amdgpu"))
		return;
	if (f.has_client_id) {
		for (size_t k = 0; k < seen->n; k++)
			if (seen->v[k].id == f.client_id && !strcmp(seen->v[k].pdev, f.pdev))
				return;
		seen->v[seen->n].id = f.client_id;
		util_strlcpy(seen->v[seen->n].pdev, f.pdev, sizeof(seen->v[seen->n].pdev));
		seen->n++;
	} else if (anon_seen(seen, fd, i, f.pasid)) {
		return;
	}
	if ((f.has_client_id || f.pasid) && files_room(seen->procs)) {
		struct counted_file *c = &seen->procs->files[seen->procs->n_files++];

		util_strlcpy(c->pdev, f.pdev, sizeof(c->pdev));
		c->pasid = !f.has_client_id;
		c->id = f.has_client_id ? f.client_id : f.pasid;
		c->part = i;
		c->pid = pi->pid;
		c->vram = f.vram;
		c->evicted = f.vram_evicted;
		c->gtt = f.gtt;
		c->engine_ns = f.engine_ns;
	}
	pi->drm_clients++;
	add_size(&pi->vram_bytes, f.vram);
	add_size(&pi->evicted_vram_bytes, f.vram_evicted);
	add_size(&pi->gtt_bytes, f.gtt);
	pi->engine_ns = f.engine_ns > UINT64_MAX - pi->engine_ns ? UINT64_MAX
								  : pi->engine_ns + f.engine_ns;
	if (i >= 0 && i < MIPART_PROCS_PARTITIONS)
		add_size(&pi->partition_vram[i], f.vram);
}

/* Every partition's VRAM of pi as "not told" (-1), once per process: only for the processes
 * that hold a GPU, not for every /proc entry. */
static void vram_unknown(struct mipart_proc_info *pi, bool *done)
{
	if (*done)
		return;
	for (size_t k = 0; k < MIPART_PROCS_PARTITIONS; k++)
		pi->partition_vram[k] = -1;
	*done = true;
}

/* fds of one process; returns 0, or -EACCES when they cannot be read. *vram_init: whether
 * pi's partition_vram was set to -1 (vram_unknown) */
static int scan_fds(int pidfd, const mipart_topology *t, struct mipart_proc_info *pi,
		    bool *vram_init, struct mipart_procs *p, bool live)
{
	DIR *d = util_opendirat(pidfd, "fd");
	struct clients *seen = calloc(1, sizeof(*seen));
	size_t seen_fds = 0;

	if (!d) {
		int r = -errno;

		free(seen);
		return r;
	}
	if (seen) {
		seen->pid = pi->pid;
		seen->live = live;
		seen->uncompared = &p->uncompared;
		seen->uncompared_error = &p->uncompared_error;
		seen->procs = p;
	}
	for (struct dirent *de; (de = readdir(d)) && seen_fds < FDS_MAX;) {
		char link[256], name[300];
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		seen_fds++;
		snprintf(name, sizeof(name), "fd/%s", de->d_name);
		n = readlinkat(pidfd, name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (!strcmp(link, "/dev/kfd")) {
			pi->kfd = true;
		} else if (!strncmp(link, "/dev/dri/renderD", 16)) {
			uint64_t minor;

			if (util_parse_u64(link + 16, strlen(link + 16), &minor) == 0 &&
			    minor < 1u << 20) {
				int i = part_of_minor(t, (long)minor);

				mark_part(t, i, pi);
				if (i >= 0 && seen) {
					vram_unknown(pi, vram_init);
					count_fdinfo(pidfd, de->d_name, i, seen, pi);
				}
			}
		}
	}
	closedir(d);
	free(seen);
	return 0;
}

bool mipart_proc_uses_partition(const mipart_proc_info *p, size_t i)
{
	return p && i < MIPART_PROCS_PARTITIONS && (p->partition_bits[i / 64] >> (i % 64)) & 1;
}

int64_t mipart_proc_gpu_vram(const mipart_proc_info *p, const mipart_topology *t, unsigned gpu)
{
	int64_t sum = -1;

	for (size_t i = 0; i < mipart_topology_partition_count(t) && i < MIPART_PROCS_PARTITIONS;
	     i++)
		if (mipart_topology_partition(t, i)->gpu == gpu)
			add_size(&sum, p->partition_vram[i]);
	return sum;
}

/* KFD's per-process directory: vram_<gpu_id> per device the process has */
static void scan_kfd_proc(const mipart_host *host, int pid, const mipart_topology *t,
			  struct mipart_proc_info *pi)
{
	char rel[64], path[MIPART_PATH_MAX];
	DIR *d;

	snprintf(rel, sizeof(rel), SYSFS_KFD_PROC "/%d", pid);
	if (mipart_host_path(host, rel, path, sizeof(path)) < 0)
		return;
	d = opendir(path);
	if (!d)
		return;
	pi->kfd = true;
	for (struct dirent *de; (de = readdir(d));) {
		uint64_t id;

		if (strncmp(de->d_name, "vram_", 5) ||
		    util_parse_u64(de->d_name + 5, strlen(de->d_name + 5), &id) < 0 ||
		    id > INT64_MAX)
			continue;
		mark_part(t, part_of_gpu_id(t, (long long)id), pi);
	}
	closedir(d);
}

static int cmp_pid(const void *a, const void *b)
{
	int x = ((const struct mipart_proc_info *)a)->pid, y = ((const struct mipart_proc_info *)b)->pid;

	return x < y ? -1 : x > y;
}

/* counted files by identity, then pid */
static int cmp_file(const void *a, const void *b)
{
	const struct counted_file *x = a, *y = b;
	int c = (int)x->pasid - (int)y->pasid;

	if (!c)
		c = strcmp(x->pdev, y->pdev);
	if (!c && x->pasid)
		c = (x->part > y->part) - (x->part < y->part);
	if (!c)
		c = (x->id > y->id) - (x->id < y->id);
	if (!c)
		c = (x->pid > y->pid) - (x->pid < y->pid);
	return c;
}

static void sub_size(int64_t *sum, int64_t v)
{
	if (v >= 0 && *sum >= 0)
		*sum = *sum > v ? *sum - v : 0;
}

/*
 * One DRM file held by several processes (an fd inherited over fork, or passed over a socket)
 * counts once on the host: under the lowest pid that holds it; the others keep the partition
 * (they hold its fd) without its memory. The file is told by its drm-client-id (unique on the
 * host, drm-usage-stats.rst; with drm-pdev), or without one by its pasid on the same partition
 * (one per DRM file: discover.h). p->v is sorted by pid.
 */
static void files_once(struct mipart_procs *p)
{
	if (p->n_files > 1)
		qsort(p->files, p->n_files, sizeof(*p->files), cmp_file);
	for (size_t k = 1, first = 0; k < p->n_files; k++) {
		const struct counted_file *c = &p->files[k], *f = &p->files[first];
		struct mipart_proc_info key = { .pid = c->pid }, *pi;

		if (c->pasid != f->pasid || strcmp(c->pdev, f->pdev) || c->id != f->id ||
		    (c->pasid && c->part != f->part)) {
			first = k;
			continue;
		}
		/* one process: kcmp told its fds apart (anon_seen), which the kernel knows best */
		if (c->pid == f->pid)
			continue;
		pi = bsearch(&key, p->v, p->n, sizeof(*p->v), cmp_pid);
		if (!pi)
			continue;
		if (pi->drm_clients)
			pi->drm_clients--;
		sub_size(&pi->vram_bytes, c->vram);
		sub_size(&pi->evicted_vram_bytes, c->evicted);
		sub_size(&pi->gtt_bytes, c->gtt);
		if (c->part >= 0 && c->part < MIPART_PROCS_PARTITIONS)
			sub_size(&pi->partition_vram[c->part], c->vram);
		pi->engine_ns = pi->engine_ns > c->engine_ns ? pi->engine_ns - c->engine_ns : 0;
	}
}

/* Whether the /proc under the host root is this process's own view of the kernel (its "self"
 * names our pid), so that the pids it lists can be given to kcmp. A captured or simulated tree,
 * or the /proc of another pid namespace, is not. */
static bool live_proc(const char *proc)
{
	char path[MIPART_PATH_MAX], link[32], self[32];
	ssize_t n;

	if (util_pathf(path, sizeof(path), "%s/self", proc) < 0)
		return false;
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = '\0';
	snprintf(self, sizeof(self), "%d", (int)getpid());
	return !strcmp(link, self);
}

int mipart_procs_scan(const mipart_host *host, const mipart_topology *t, mipart_procs **ret)
{
	char path[MIPART_PATH_MAX];
	struct mipart_procs *p;
	DIR *d;
	int r = 0;
	bool live;

	if (mipart_host_path(host, "/proc", path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	live = live_proc(path);
	d = opendir(path);
	if (!d)
		return -ENOENT;
	p = calloc(1, sizeof(*p));
	if (!p) {
		closedir(d);
		return -ENOMEM;
	}
	for (struct dirent *de; (de = readdir(d));) {
		struct mipart_proc_info pi = { .vram_bytes = -1, .evicted_vram_bytes = -1,
					       .gtt_bytes = -1 };
		char buf[UTIL_ATTR_MAX + 1];
		uint64_t pid;
		ssize_t n;
		int pidfd;

		if (util_parse_u64(de->d_name, strlen(de->d_name), &pid) < 0 || pid == 0 ||
		    pid > 4194304)
			continue;
		pidfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pidfd < 0)
			continue;
		bool vram_init = false;

		pi.pid = (int)pid;
		if (scan_fds(pidfd, t, &pi, &vram_init, p, live) == -EACCES)
			p->hidden++;
		scan_kfd_proc(host, pi.pid, t, &pi);
		if (!pi.kfd && !pi.gpus) {
			close(pidfd);
			continue;
		}
		vram_unknown(&pi, &vram_init);
		/* a KFD user whose devices are unknown blocks every GPU: safe side */
		if (pi.kfd && !pi.gpus) {
			pi.gpus_unknown = true;
			for (size_t g = 0; g < mipart_topology_gpu_count(t) && g < 64; g++)
				pi.gpus |= UINT64_C(1) << g;
		}
		n = util_read_fileat(pidfd, "comm", buf, UTIL_ATTR_MAX);
		if (n > 0)
			procs_parse_comm(buf, (size_t)n, pi.comm, sizeof(pi.comm));
		n = util_read_fileat(pidfd, "cgroup", buf, UTIL_ATTR_MAX);
		if (n > 0)
			mipart_procs_container_id(buf, (size_t)n, pi.container, sizeof(pi.container));
		close(pidfd);
		if (p->n == PROCS_MAX)
			break;
		if (p->n % 16 == 0) {
			struct mipart_proc_info *v = realloc(p->v, (p->n + 16) * sizeof(*v));

			if (!v) {
				r = -ENOMEM;
				break;
			}
			p->v = v;
		}
		p->v[p->n++] = pi;
	}
	closedir(d);
	if (r < 0) {
		free(p->files);
		mipart_procs_free(p);
		return r;
	}
	if (p->n)
		qsort(p->v, p->n, sizeof(*p->v), cmp_pid);
	files_once(p);
	free(p->files);
	p->files = NULL;
	p->n_files = 0;
	*ret = p;
	return 0;
}

mipart_procs *mipart_procs_free(mipart_procs *p)
{
	if (!p)
		return NULL;
	free(p->v);
	free(p);
	return NULL;
}

size_t mipart_procs_count(const mipart_procs *p)
{
	return p->n;
}

const mipart_proc_info *mipart_procs_get(const mipart_procs *p, size_t i)
{
	return i < p->n ? &p->v[i] : NULL;
}

size_t mipart_procs_hidden(const mipart_procs *p)
{
	return p->hidden;
}

size_t mipart_procs_uncompared(const mipart_procs *p, int *ret_error)
{
	if (ret_error)
		*ret_error = p->uncompared ? p->uncompared_error : 0;
	return p->uncompared;
}

size_t mipart_procs_retain(mipart_procs *p, uint64_t gpus, bool kfd_only)
{
	size_t k = 0;

	for (size_t i = 0; i < p->n; i++)
		if ((p->v[i].gpus & gpus) && (!kfd_only || p->v[i].kfd))
			p->v[k++] = p->v[i];
	p->n = k;
	return k;
}
