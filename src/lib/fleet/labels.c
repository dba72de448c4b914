// SPDX-License-Identifier: MIT
/*
 * Node labels: what Kubernetes schedulers and operators need to know about a host's partitions
 * (product, modes, partitions and their memory, free memory per partition size, the declared
 * config and whether the host is in it), as label keys and values that the API server accepts,
 * and the Node Feature Discovery local feature file that carries them to the Node.
 *
 * AMD's keys are used where AMD's node labeller defines the same fact, with the same value
 * (ROCm/k8s-device-plugin cmd/k8s-node-labeller/main.go: createLabelPrefix "amd.com/gpu.<name>",
 * the generators "compute-memory-partition", "compute-partitioning-supported",
 * "memory-partitioning-supported", "device-id"; internal/pkg/amdgpu/amdgpu.go:
 * UniquePartitionConfigCount, IsHomogeneous). The rest go in NFD's namespace
 * feature.node.kubernetes.io/ with a "mipart-" name.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mipart/apply.h"
#include "mipart/declared.h"
#include "mipart/journal.h"
#include "mipart/labels.h"
#include "lock.h"
#include "util.h"
#include "banned.h"

#define GIB (1ull << 30)

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* validation.go: qualifiedNameFmt "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]", <= 63; also the
 * label value format (labelValueFmt is the same expression, optional as a whole). */
static int check_name(const char *s, size_t len, size_t max)
{
	if (len == 0 || len > max || !is_alnum(s[0]) || !is_alnum(s[len - 1]))
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return -EINVAL;
	return 0;
}

/* validation.go IsDNS1123Subdomain: lower-case alphanumerics, '-' and '.', each dot-separated
 * label starting and ending alphanumeric, <= 253 characters in all. */
static int check_prefix(const char *s, size_t len)
{
	size_t start = 0;

	if (len == 0 || len > MIPART_LABEL_PREFIX_MAX)
		return -EINVAL;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
				return -EINVAL;
			continue;
		}
		/* one label: s[start..i) */
		if (i == start || s[start] == '-' || s[i - 1] == '-' || i - start > 63)
			return -EINVAL;
		start = i + 1;
	}
	return 0;
}

int mipart_label_key_valid(const char *key)
{
	const char *slash;

	if (!key)
		return -EINVAL;
	slash = strchr(key, '/');
	if (!slash)
		return check_name(key, strlen(key), MIPART_LABEL_NAME_MAX);
	if (strchr(slash + 1, '/') || check_prefix(key, (size_t)(slash - key)) < 0)
		return -EINVAL;
	return check_name(slash + 1, strlen(slash + 1), MIPART_LABEL_NAME_MAX);
}

int mipart_k8s_name_valid(const char *name)
{
	return name ? check_prefix(name, strlen(name)) : -EINVAL;
}

int mipart_label_value_valid(const char *value)
{
	if (!value)
		return -EINVAL;
	return value[0] ? check_name(value, strlen(value), MIPART_LABEL_VALUE_MAX) : 0;
}

struct acc {
	mipart_label *l;
	size_t n, max;
	int err;
};

static void add(struct acc *a, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add(struct acc *a, const char *key, const char *fmt, ...)
{
	va_list ap;
	mipart_label *l;

	if (a->err)
		return;
	if (a->n == a->max) {
		a->err = -ENOSPC;
		return;
	}
	l = &a->l[a->n];
	if ((size_t)snprintf(l->key, sizeof(l->key), "%s", key) >= sizeof(l->key)) {
		a->err = -EINVAL;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(l->value, sizeof(l->value), fmt, ap);
	va_end(ap);
	if (mipart_label_key_valid(l->key) < 0 || mipart_label_value_valid(l->value) < 0) {
		a->err = -EINVAL;
		return;
	}
	a->n++;
}

static int cmp_label(const void *x, const void *y)
{
	return strcmp(((const mipart_label *)x)->key, ((const mipart_label *)y)->key);
}

/* A partition size class: partitions whose memory rounds to the same GiB. */
struct size_class {
	unsigned gib;
	size_t count, free_count;
	uint64_t free_bytes;
};

static void lower(char *dst, size_t size, const char *src)
{
	size_t i = 0;

	for (; src[i] && i + 1 < size; i++)
		dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (char)(src[i] - 'A' + 'a') : src[i];
	dst[i] = '\0';
}

int mipart_labels_build(const mipart_labels_input *in, mipart_label *labels, size_t max)
{
	struct acc a = { labels, 0, max, 0 };
	struct size_class cls[32];
	size_t n_cls = 0, n_gpus, n_parts = 0, n_unlisted = 0;
	const mipart_gpu_info *first = NULL;
	const char *product = NULL, *compute = NULL, *memory = NULL;
	bool mixed_product = false, mixed_compute = false, mixed_memory = false;
	int device_ids[64];
	size_t device_counts[64], n_dev = 0;
	char key[160], buf[64], buf2[64];

	if (!in || !in->topo || !labels)
		return -EINVAL;
	/* the GPUs a pod can use: a GIM-driven PF or a VF bound to vfio-pci is no GPU of the node's
	 * (mipart_gpu_usable; AMD's labeller reads only amdgpu's devices the same way) */
	n_gpus = 0;
	for (size_t i = 0; i < mipart_topology_gpu_count(in->topo); i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(in->topo, i);
		const char *cm, *mm;
		size_t d;

		if (!mipart_gpu_usable(g)) {
			/* amdgpu drives it and KFD lists none of its partitions: a driver that is
			 * still probing (or a KFD that could not be read), not a GPU given away */
			n_unlisted += g && g->driver_bound;
			continue;
		}
		n_gpus++;
		cm = mipart_compute_mode_name(g->compute);
		mm = mipart_memory_mode_name(g->memory);
		if (!first)
			first = g;
		if (!product)
			product = g->product;
		else if (strcmp(product, g->product))
			mixed_product = true;
		if (!compute)
			compute = cm;
		else if (strcmp(compute, cm))
			mixed_compute = true;
		if (!memory)
			memory = mm;
		else if (strcmp(memory, mm))
			mixed_memory = true;
		for (d = 0; d < n_dev && device_ids[d] != g->device_id; d++)
			;
		if (d == n_dev && n_dev < ARRAY_SIZE(device_ids)) {
			device_ids[n_dev] = g->device_id;
			device_counts[n_dev++] = 0;
		}
		if (d < n_dev)
			device_counts[d]++;
		for (size_t j = 0; j < g->n_partitions; j++) {
			const mipart_partition_info *p = mipart_topology_gpu_partition(in->topo, g, j);
			uint64_t booked = 0, cap;
			unsigned gib;
			size_t c;

			if (!p || p->memory_bytes <= 0)
				continue;
			cap = (uint64_t)p->memory_bytes;
			gib = (unsigned)((cap + GIB / 2) / GIB);
			if (in->ledger && p->xcp >= 0) {
				int r = mipart_ledger_booked(in->ledger, g->bdf, (unsigned)p->xcp, &booked);

				if (r < 0)
					return r;
			}
			for (c = 0; c < n_cls && cls[c].gib != gib; c++)
				;
			if (c == n_cls) {
				if (n_cls == ARRAY_SIZE(cls))
					continue;
				cls[n_cls++] = (struct size_class){ .gib = gib };
			}
			cls[c].count++;
			cls[c].free_bytes += booked < cap ? cap - booked : 0;
			cls[c].free_count += booked == 0;
			n_parts++;
		}
	}

	if (n_gpus == 0) {
		/*
		 * No GPU a pod can use. When the host was read and its GPUs are all driven by GIM,
		 * bound to vfio-pci for VMs or bound to no driver, that is the truth, and the labels
		 * say it: mipart-gpus=0 and nothing else, so that no label of the GPUs the node had
		 * (modes, partitions, amd.com/ keys) outlives them. NFD's master drops from the
		 * Node the labels a feature file no longer gives (nfd-master.go: updateNodeObject,
		 * by its nfd.node.kubernetes.io/feature-labels annotation). AMD's node labeller
		 * ends the same way, with none of its keys: each generator returns nothing for no
		 * GPU and its reconciler first deletes every amd.com/ and beta.amd.com/ label of
		 * the Node (ROCm/k8s-device-plugin cmd/k8s-node-labeller/main.go: generateLabels;
		 * controller.go: Reconcile). NVIDIA's gpu-feature-discovery writes its file with
		 * whatever it found, none included ("no labels generated from any source" is a
		 * warning), and removes it when it exits (cmd/gpu-feature-discovery/main.go: run,
		 * removeOutputFile).
		 * What was not read is no such truth: no AMD function at all (-ENODEV: a wrong root,
		 * a /sys not mounted), or a GPU amdgpu drives with no KFD partition (-EAGAIN: the
		 * driver still probing): the caller keeps what it had.
		 */
		if (mipart_topology_gpu_count(in->topo) == 0)
			return -ENODEV;
		if (n_unlisted)
			return -EAGAIN;
		add(&a, MIPART_LABELS_NFD_NS "mipart-gpus", "0");
		return a.err ? a.err : (int)a.n;
	}
	/* AMD's node labeller: the pair only when every GPU is in the same one (IsHomogeneous),
	 * lower case, compute "_" memory (UniquePartitionConfigCount) */
	if (!mixed_compute && !mixed_memory && strcmp(compute, "UNKNOWN") && strcmp(memory, "UNKNOWN")) {
		lower(buf, sizeof(buf), compute);
		lower(buf2, sizeof(buf2), memory);
		add(&a, "amd.com/gpu.compute-memory-partition", "%s_%s", buf, buf2);
	}
	/* IsComputePartitionSupported / IsMemoryPartitionSupported: the first GPU's
	 * available_compute_partition / available_memory_partition file exists */
	add(&a, "amd.com/gpu.compute-partitioning-supported", "%s",
	    first->partitioning && first->compute_available ? "true" : "false");
	add(&a, "amd.com/gpu.memory-partitioning-supported", "%s",
	    first->partitioning && first->memory_available ? "true" : "false");
	/* createLabels: one value -> the key holds it; several -> key.<value> holds the count.
	 * The value is the sysfs device file without "0x". */
	for (size_t d = 0; d < n_dev; d++) {
		if (n_dev == 1) {
			add(&a, "amd.com/gpu.device-id", "%x", (unsigned)device_ids[d]);
		} else {
			snprintf(key, sizeof(key), "amd.com/gpu.device-id.%x", (unsigned)device_ids[d]);
			add(&a, key, "%zu", device_counts[d]);
		}
	}

	add(&a, MIPART_LABELS_NFD_NS "mipart-product", "%s", mixed_product ? "mixed" : product);
	add(&a, MIPART_LABELS_NFD_NS "mipart-gpus", "%zu", n_gpus);
	add(&a, MIPART_LABELS_NFD_NS "mipart-compute", "%s", mixed_compute ? "mixed" : compute);
	add(&a, MIPART_LABELS_NFD_NS "mipart-memory", "%s", mixed_memory ? "mixed" : memory);
	add(&a, MIPART_LABELS_NFD_NS "mipart-partitions", "%zu", n_parts);
	for (size_t c = 0; c < n_cls; c++) {
		snprintf(key, sizeof(key), MIPART_LABELS_NFD_NS "mipart-partitions.%uG", cls[c].gib);
		add(&a, key, "%zu", cls[c].count);
		snprintf(key, sizeof(key), MIPART_LABELS_NFD_NS "mipart-free-partitions.%uG", cls[c].gib);
		add(&a, key, "%zu", cls[c].free_count);
		/* GiB, rounded down: a scheduler must not count on memory that is not there */
		snprintf(key, sizeof(key), MIPART_LABELS_NFD_NS "mipart-free-memory.%uG", cls[c].gib);
		add(&a, key, "%llu", (unsigned long long)(cls[c].free_bytes / GIB));
	}
	if (in->config && mipart_label_value_valid(in->config) == 0 && in->config[0])
		add(&a, MIPART_LABELS_NFD_NS "mipart-config", "%s", in->config);
	if (in->in_sync >= 0)
		add(&a, MIPART_LABELS_NFD_NS "mipart-config-in-sync", "%s", in->in_sync ? "true" : "false");
	if (a.err)
		return a.err;
	qsort(labels, a.n, sizeof(*labels), cmp_label);
	return (int)a.n;
}

int mipart_labels_for_host(const mipart_host *host, const mipart_topology *topo,
			   mipart_label *labels, size_t max)
{
	char path[MIPART_PATH_MAX];
	mipart_declared *d = NULL;
	mipart_ledger *l = NULL;
	mipart_labels_input in = { .topo = topo, .in_sync = -1 };
	int r;

	r = mipart_declared_load(host, &d, NULL);
	if (r < 0 && r != -ENOENT)
		return r;
	if (d) {
		in.config = mipart_declared_config_name(d);
		r = mipart_declared_in_sync(d, topo);
		in.in_sync = r < 0 ? -1 : r;
	}
	if (mipart_host_path(host, MIPART_JOURNAL_PATH, path, sizeof(path)) >= 0 &&
	    mipart_ledger_open_reader(path, &l) == 0)
		in.ledger = l;
	r = mipart_labels_build(&in, labels, max);
	mipart_ledger_free(l);
	mipart_declared_free(d);
	return r;
}

int mipart_labels_format_nfd(const mipart_label *labels, size_t n, char **ret)
{
	/* feature files: one "name=value" per line; '#' starts a comment, "# +" a directive
	 * (NFD docs, usage/customization-guide.md "Feature files", "Input format") */
	static const char header[] = "# written by mipart labels: the AMD Instinct GPU partitions of this node\n"
				     "# (docs/kubernetes.md); rewritten whole, do not edit\n";
	size_t cap = sizeof(header) + n * (sizeof(labels->key) + sizeof(labels->value) + 2), len;
	char *text = malloc(cap);

	if (!text)
		return -ENOMEM;
	len = util_strlcpy(text, header, cap);
	for (size_t i = 0; i < n; i++) {
		if (mipart_label_key_valid(labels[i].key) < 0 ||
		    mipart_label_value_valid(labels[i].value) < 0) {
			free(text);
			return -EINVAL;
		}
		len += (size_t)snprintf(text + len, cap - len, "%s=%s\n", labels[i].key, labels[i].value);
	}
	*ret = text;
	return 0;
}

int mipart_labels_write(const mipart_label *labels, size_t n, const char *path)
{
	char *text = NULL;
	int r = mipart_labels_format_nfd(labels, n, &text);

	if (r < 0)
		return r;
	r = util_write_file_durable_mkdir(path, text, strlen(text), 0644);
	free(text);
	return r;
}

/* The feature file as it is on disk, compared with text: 1 when equal. A file that cannot be
 * read, or is larger than the text, is not equal. */
static int same_as_file(const char *path, const char *text, size_t len)
{
	char *buf = malloc(len + 1);
	ssize_t n;
	int same;

	if (!buf)
		return -ENOMEM;
	n = util_read_file(path, buf, len);
	same = n == (ssize_t)len && !memcmp(buf, text, len);
	free(buf);
	return same;
}

int mipart_labels_update(const mipart_host *host, const char *path, bool make_dir,
			 size_t *ret_count)
{
	mipart_label *labels = NULL;
	mipart_topology *t = NULL;
	char *text = NULL;
	int n, r;

	if (!host || !path || !*path)
		return -EINVAL;
	if (strlen(path) >= MIPART_PATH_MAX)
		return -ENAMETOOLONG;
	/* a host in the middle of a change (a writer holds the host lock) is read when it is done:
	 * labels of half a change would tell NFD about partitions that come and go */
	if (mipart_apply_in_progress(host, NULL, 0) == 1)
		return -EBUSY;
	labels = calloc(MIPART_LABELS_MAX, sizeof(*labels));
	if (!labels)
		return -ENOMEM;
	r = mipart_topology_load(host, &t);
	if (r < 0)
		goto out;
	n = mipart_labels_for_host(host, t, labels, MIPART_LABELS_MAX);
	if (n < 0) {
		r = n;
		goto out;
	}
	r = mipart_labels_format_nfd(labels, (size_t)n, &text);
	if (r < 0)
		goto out;
	r = same_as_file(path, text, strlen(text));
	if (r != 0) /* 1: the file says it already, left alone (its mtime too) */
		goto done;
	if (mipart_apply_in_progress(host, NULL, 0) == 1) { /* a change began while we read */
		r = -EBUSY;
		goto out;
	}
	r = make_dir ? util_write_file_durable_mkdir(path, text, strlen(text), 0644)
		     : util_write_file_durable(path, text, strlen(text), 0644);
	if (r < 0)
		goto out;
	r = 1;
	if (ret_count)
		*ret_count = (size_t)n;
	goto out;
done:
	if (r == 1) {
		r = 0;
		if (ret_count)
			*ret_count = (size_t)n;
	}
out:
	free(text);
	free(labels);
	mipart_topology_free(t);
	return r;
}

int mipart_labels_sync(const mipart_host *host, const mipart_labels_options *options,
		       mipart_labels_result *ret)
{
	static const mipart_labels_options defaults;
	const mipart_labels_options *o = options ? options : &defaults;
	char path[MIPART_PATH_MAX], dir[MIPART_PATH_MAX], *slash;
	size_t n = 0;
	struct stat st;
	int r;

	if (!host || (o->path && !*o->path))
		return -EINVAL;
	if (o->path) {
		if (util_strlcpy(path, o->path, sizeof(path)) >= sizeof(path))
			return -ENAMETOOLONG;
	} else {
		r = mipart_host_path(host, MIPART_LABELS_PATH, path, sizeof(path));
		if (r < 0)
			return r;
	}
	if (ret) {
		util_strlcpy(ret->path, path, sizeof(ret->path));
		ret->count = 0;
		ret->nfd_missing = false;
	}
	if (!o->path) {
		/* NFD's features.d: NFD's to make (see labels.h), so a host without it is left
		 * alone; a path the caller named gets its directory */
		util_strlcpy(dir, path, sizeof(dir));
		slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		r = stat(dir, &st) < 0 ? -errno : !S_ISDIR(st.st_mode) ? -ENOTDIR : 0;
		if (r < 0) {
			if (ret)
				ret->nfd_missing = r == -ENOENT || r == -ENOTDIR;
			return r;
		}
	}
	r = mipart_labels_update(host, path, o->path != NULL, &n);
	if (r >= 0 && ret)
		ret->count = n;
	return r;
}

/* What the labels read besides sysfs: the ledger (the journal database, its log), the declared
 * state, and the host lock, whose holder truncates and closes it at the end of a change (lock.c
 * lock_release): their directories are watched, since SQLite and the durable writes replace and
 * create files in them. IN_CLOSE_WRITE for the lock: its holder truncates it (IN_MODIFY) before
 * it closes it and so lets go of the flock; a look between the two finds the change still
 * running, and only the close says it ended. IN_MOVE_SELF: the directory renamed away (the
 * watch would follow it). */
static const char *const watched_files[] = { MIPART_JOURNAL_PATH, MIPART_DECLARED_PATH, LOCK_PATH };
#define WATCH_DIR_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MODIFY | IN_MOVE_SELF)
/* a directory that does not exist yet (no /run/mipart after a boot, no /var/lib/mipart before the
 * first allocation): its nearest existing ancestor is watched for the next directory on the way
 * (made, or renamed into place), at most WATCH_CLIMB_MAX levels up and never above the host root;
 * the files above have three levels */
#define WATCH_ANCESTOR_MASK (IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#define WATCH_CLIMB_MAX 4
/* What one read handles: at most WATCH_READS_MAX reads of WATCH_BUF bytes (an event is at least
 * sizeof(struct inotify_event), 16 bytes, so at most 1024 events); what is left stays queued
 * and keeps the descriptor readable for the next call. A steady stream of events (files made in
 * a loop in a watched directory) would otherwise keep the caller in the read for as long as it
 * lasts (inotify(7): read returns what is queued, and the queue refills as fast as it drains). */
#define WATCH_BUF 4096
#define WATCH_READS_MAX 4
_Static_assert(WATCH_READS_MAX * WATCH_BUF / sizeof(struct inotify_event) == MIPART_LABELS_WATCH_EVENTS_MAX,
	       "the cap the header states");

/* 1 when an event in a watched directory may mean a change. A read-only SQLite connection, the
 * labels' own included, opens the -wal and -shm files read-write (os_unix.c: unixOpen,
 * unixOpenSharedMemory) and writes a byte to each page of the -shm it maps (unixShmMap): those
 * events say nothing about the ledger. A writer modifies the -wal (IN_MODIFY) or creates a
 * -journal, which count. */
static bool event_counts(const struct inotify_event *ev)
{
	size_t len = ev->len ? strnlen(ev->name, ev->len) : 0;
	bool shm = len >= 4 && !memcmp(ev->name + len - 4, "-shm", 4);
	bool wal_closed = ev->mask & IN_CLOSE_WRITE && len >= 4 && !memcmp(ev->name + len - 4, "-wal", 4);

	return ev->mask & IN_Q_OVERFLOW || !(shm || wal_closed);
}

int mipart_labels_watch(const mipart_host *host)
{
	int fd, watched = 0;

	if (!host)
		return -EINVAL;
	fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < ARRAY_SIZE(watched_files); i++) {
		char path[MIPART_PATH_MAX], *slash;

		if (mipart_host_path(host, watched_files[i], path, sizeof(path)) < 0)
			continue;
		slash = strrchr(path, '/');
		if (slash && slash != path)
			*slash = '\0';
		if (inotify_add_watch(fd, path, WATCH_DIR_MASK) >= 0)
			watched++;
	}
	if (!watched) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

int mipart_labels_watch_drain(int fd)
{
	char buf[WATCH_BUF] __attribute__((aligned(__alignof__(struct inotify_event))));
	int changes = 0;
	ssize_t n;

	/* non-blocking: read until empty (EAGAIN), an overflow included, or WATCH_READS_MAX reads */
	for (int reads = 0; fd >= 0 && reads < WATCH_READS_MAX && (n = read(fd, buf, sizeof(buf))) > 0;
	     reads++) {
		for (ssize_t off = 0; off + (ssize_t)sizeof(struct inotify_event) <= n;) {
			const struct inotify_event *ev = (const struct inotify_event *)(buf + off);

			changes += event_counts(ev);
			off += (ssize_t)sizeof(*ev) + ev->len;
		}
	}
	return changes;
}

struct watch_target {
	char dir[MIPART_PATH_MAX]; /* the directory the labels read, under the root */
	int wd;			   /* the watch on it, or on its ancestor; -1: none */
	char next[256];		   /* "": dir itself is watched; else the child of the watched
				    * ancestor on the way to dir */
};

struct mipart_labels_watcher {
	int fd;
	size_t root_len; /* dir[0..root_len) is the host root: never watched above */
	struct watch_target t[ARRAY_SIZE(watched_files)];
	mipart_labels_watch_stats stats;
};

/* Whether a watch is used by a target other than i. */
static bool watch_used(const struct mipart_labels_watcher *w, size_t i, int wd)
{
	for (size_t k = 0; k < ARRAY_SIZE(w->t); k++)
		if (k != i && w->t[k].wd == wd)
			return true;
	return false;
}

/* One try at target t: a watch on its directory, else on its nearest existing ancestor, with
 * t->next the child on the way (path: the directory watched). Returns the watch or -1. */
static int watcher_arm_once(struct mipart_labels_watcher *w, struct watch_target *t,
			    char *path, size_t size)
{
	int wd;

	util_strlcpy(path, t->dir, size);
	t->next[0] = '\0';
	wd = inotify_add_watch(w->fd, path, WATCH_DIR_MASK | IN_ONLYDIR | IN_MASK_ADD);
	for (int up = 0; wd < 0 && (errno == ENOENT || errno == ENOTDIR) && up < WATCH_CLIMB_MAX; up++) {
		char *slash = strrchr(path, '/');
		size_t cut;

		if (!slash || (slash == path && !path[1])) /* "/" has no parent */
			break;
		cut = slash == path ? 1 : (size_t)(slash - path); /* "/var" -> "/" */
		if (cut < w->root_len) /* never above the root */
			break;
		util_strlcpy(t->next, slash + 1, sizeof(t->next));
		path[cut] = '\0';
		wd = inotify_add_watch(w->fd, path, WATCH_ANCESTOR_MASK | IN_MASK_ADD);
	}
	if (wd < 0)
		t->next[0] = '\0';
	return wd < 0 ? -1 : wd;
}

/* Watch target i: its directory when it exists, else its nearest existing ancestor (at most
 * WATCH_CLIMB_MAX levels up, not above the root). IN_MASK_ADD: two targets may share a
 * directory, and one's mask must not replace the other's. A directory on the way made after its
 * own watch failed and before the ancestor's began sends that watch no event (inotify(7): events
 * are of watched objects only, from the watch on): it is looked for once the ancestor is
 * watched, and the arm goes again, so a watch never stays above a directory that exists. A
 * watch no target uses any more is removed. */
static void watcher_arm(struct mipart_labels_watcher *w, size_t i)
{
	struct watch_target *t = &w->t[i];
	char path[MIPART_PATH_MAX], child[MIPART_PATH_MAX];
	int old = t->wd, wd = -1;
	struct stat st;

	for (int tries = 0;; tries++) {
		wd = watcher_arm_once(w, t, path, sizeof(path));
		if (wd < 0 || !t->next[0] || tries == WATCH_CLIMB_MAX ||
		    util_pathf(child, sizeof(child), "%s%s%s", path, path[1] ? "/" : "", t->next) < 0 ||
		    stat(child, &st) < 0 || !S_ISDIR(st.st_mode))
			break;
		/* made meanwhile: the ancestor's watch came too late to see it */
		if (wd != old && !watch_used(w, i, wd))
			(void)inotify_rm_watch(w->fd, wd);
	}
	t->wd = wd;
	if (old >= 0 && old != t->wd && !watch_used(w, i, old))
		(void)inotify_rm_watch(w->fd, old); /* EINVAL when the kernel dropped it */
}

int mipart_labels_watcher_new(const mipart_host *host, mipart_labels_watcher **ret)
{
	mipart_labels_watcher *w;
	const char *root;
	int watched = 0;

	if (!host || !ret)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	root = mipart_host_root(host);
	w->root_len = root ? strlen(root) : 0;
	w->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (w->fd < 0) {
		int r = -errno;

		free(w);
		return r;
	}
	for (size_t i = 0; i < ARRAY_SIZE(watched_files); i++) {
		char *slash;

		w->t[i].wd = -1;
		if (mipart_host_path(host, watched_files[i], w->t[i].dir, sizeof(w->t[i].dir)) < 0) {
			w->t[i].dir[0] = '\0';
			continue;
		}
		slash = strrchr(w->t[i].dir, '/');
		if (slash && slash != w->t[i].dir)
			*slash = '\0';
		watcher_arm(w, i);
		watched += w->t[i].wd >= 0;
	}
	if (!watched) {
		mipart_labels_watcher_free(w);
		return -ENOENT;
	}
	*ret = w;
	return 0;
}

int mipart_labels_watcher_fd(const mipart_labels_watcher *w)
{
	return w ? w->fd : -EINVAL;
}

/* Whether an event of target t's watch may mean a change; *rearm set when the target's watch
 * must move. Only names and flags are looked at: no system call. */
static bool watcher_event(const struct watch_target *t, const struct inotify_event *ev, bool *rearm)
{
	size_t len = ev->len ? strnlen(ev->name, ev->len) : 0;

	if (ev->mask & (IN_IGNORED | IN_MOVE_SELF | IN_DELETE_SELF)) {
		/* the directory (or the ancestor) went away or moved: watch what is there now;
		 * what it held is read by the next look */
		*rearm = true;
		return true;
	}
	if (t->next[0]) {
		/* an ancestor: only the next directory on the way matters (inotify has no filter
		 * by name: every entry made in it is read, and dropped here); it may hold the
		 * files already, so the look counts */
		if (ev->mask & IN_ISDIR && len && !strcmp(ev->name, t->next)) {
			*rearm = true;
			return true;
		}
		return false;
	}
	return event_counts(ev);
}

int mipart_labels_watcher_read(mipart_labels_watcher *w)
{
	char buf[WATCH_BUF] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool rearm[ARRAY_SIZE(w->t)] = { false }, overflow = false;
	int changes = 0, reads = 0;
	ssize_t n = 0;

	if (!w)
		return -EINVAL;
	/* non-blocking: read until empty (EAGAIN) or WATCH_READS_MAX reads; the watches move
	 * once at the end, however many events asked for it */
	for (; reads < WATCH_READS_MAX && (n = read(w->fd, buf, sizeof(buf))) > 0; reads++) {
		for (ssize_t off = 0; off + (ssize_t)sizeof(struct inotify_event) <= n;) {
			const struct inotify_event *ev = (const struct inotify_event *)(buf + off);
			bool counts = false;

			off += (ssize_t)sizeof(*ev) + ev->len;
			w->stats.events++;
			if (ev->mask & IN_Q_OVERFLOW) { /* events lost: watch everything afresh */
				overflow = true;
				counts = true;
			}
			for (size_t i = 0; !overflow && ev->wd >= 0 && i < ARRAY_SIZE(w->t); i++)
				if (w->t[i].wd >= 0 && w->t[i].wd == ev->wd)
					counts |= watcher_event(&w->t[i], ev, &rearm[i]);
			changes += counts;
			w->stats.changes += counts;
			w->stats.ignored += !counts;
		}
	}
	if (reads == WATCH_READS_MAX) {
		int pending = 0;

		/* FIONREAD on inotify: the bytes queued (fs/notify/inotify/inotify_user.c:
		 * inotify_ioctl) */
		if (ioctl(w->fd, FIONREAD, &pending) == 0 && pending > 0)
			w->stats.capped++;
	}
	for (size_t i = 0; i < ARRAY_SIZE(w->t); i++) {
		if (w->t[i].dir[0] && (overflow || rearm[i])) {
			watcher_arm(w, i);
			w->stats.rearms++;
		}
	}
	return changes;
}

int mipart_labels_watcher_stats(const mipart_labels_watcher *w, mipart_labels_watch_stats *ret)
{
	if (!w || !ret)
		return -EINVAL;
	*ret = w->stats;
	return 0;
}

mipart_labels_watcher *mipart_labels_watcher_free(mipart_labels_watcher *w)
{
	if (w) {
		if (w->fd >= 0)
			close(w->fd);
		free(w);
	}
	return NULL;
}
