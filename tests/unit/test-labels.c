// SPDX-License-Identifier: MIT
/*
 * Node labels: the Kubernetes syntax of label keys and values (k8s.io/apimachinery
 * pkg/util/validation/validation.go: IsQualifiedName, IsValidLabelValue, IsDNS1123Subdomain),
 * the labels of simulated hosts, and the NFD feature file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "scratch.h"
#include "mipart/host.h"
#include "mipart/labels.h"
#include "mipart/sim.h"
#include "mipart/sim-sriov.h"
#include "mipart/topology.h"
#include "util.h"
#include "banned.h"

static void test_key_syntax(void **state)
{
	char name63[64], name64[65], prefix254[300];

	(void)state;
	memset(name63, 'a', 63);
	name63[63] = '\0';
	memset(name64, 'a', 64);
	name64[64] = '\0';
	/* valid, from validation_test.go TestIsQualifiedName's good cases and AMD's keys */
	assert_int_equal(mipart_label_key_valid("simple"), 0);
	assert_int_equal(mipart_label_key_valid("now-with-dashes"), 0);
	assert_int_equal(mipart_label_key_valid("1-starts-with-num"), 0);
	assert_int_equal(mipart_label_key_valid("1234"), 0);
	assert_int_equal(mipart_label_key_valid("simple/simple"), 0);
	assert_int_equal(mipart_label_key_valid("example.com/Upper-Case_and.dots"), 0);
	assert_int_equal(mipart_label_key_valid("amd.com/gpu.compute-memory-partition"), 0);
	assert_int_equal(mipart_label_key_valid("dcm.amd.com/gpu-config-profile-state"), 0);
	assert_int_equal(mipart_label_key_valid(name63), 0);
	/* invalid: the bad cases */
	assert_int_equal(mipart_label_key_valid(""), -EINVAL);
	assert_int_equal(mipart_label_key_valid(name64), -EINVAL);
	assert_int_equal(mipart_label_key_valid("nospecialchars%^=@"), -EINVAL);
	assert_int_equal(mipart_label_key_valid("cantendwithadash-"), -EINVAL);
	assert_int_equal(mipart_label_key_valid("-cantstartwithadash"), -EINVAL);
	assert_int_equal(mipart_label_key_valid("only/one/slash"), -EINVAL);
	assert_int_equal(mipart_label_key_valid("Example.com/abc"), -EINVAL); /* prefix lower case */
	assert_int_equal(mipart_label_key_valid("/simple"), -EINVAL);
	assert_int_equal(mipart_label_key_valid("example.com/"), -EINVAL);
	assert_int_equal(mipart_label_key_valid("example..com/x"), -EINVAL);
	assert_int_equal(mipart_label_key_valid("-example.com/x"), -EINVAL);
	assert_int_equal(mipart_label_key_valid("example.com-/x"), -EINVAL);
	assert_int_equal(mipart_label_key_valid("a b"), -EINVAL);
	assert_int_equal(mipart_label_key_valid(NULL), -EINVAL);
	/* the prefix may be 253 characters, not 254 */
	memset(prefix254, 'a', 254);
	for (size_t i = 50; i < 254; i += 50)
		prefix254[i] = '.';
	memcpy(prefix254 + 254, "/x", 3);
	assert_int_equal(mipart_label_key_valid(prefix254), -EINVAL);
	assert_int_equal(mipart_label_key_valid(prefix254 + 1), 0);
}

static void test_value_syntax(void **state)
{
	char v63[64], v64[65];

	(void)state;
	memset(v63, 'x', 63);
	v63[63] = '\0';
	memset(v64, 'x', 64);
	v64[64] = '\0';
	assert_int_equal(mipart_label_value_valid(""), 0);
	assert_int_equal(mipart_label_value_valid("cpx_nps4"), 0);
	assert_int_equal(mipart_label_value_valid("MI300X"), 0);
	assert_int_equal(mipart_label_value_valid("1.2.3"), 0);
	assert_int_equal(mipart_label_value_valid(v63), 0);
	assert_int_equal(mipart_label_value_valid(v64), -EINVAL);
	assert_int_equal(mipart_label_value_valid("_leading"), -EINVAL);
	assert_int_equal(mipart_label_value_valid("trailing."), -EINVAL);
	assert_int_equal(mipart_label_value_valid("has space"), -EINVAL);
	assert_int_equal(mipart_label_value_valid("a/b"), -EINVAL);
	assert_int_equal(mipart_label_value_valid("ünicode"), -EINVAL);
}

struct fixture {
	char dir[128];
	mipart_host *host;
	mipart_topology *topo;
	mipart_label labels[MIPART_LABELS_MAX];
	int n;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || !scratch_mkdtemp(f->dir, sizeof(f->dir), "labels") ||
	    mipart_host_new(f->dir, &f->host) < 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static pid_t flood_child; /* test_watcher_flood's, killed here when the test failed */

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (flood_child > 0) {
		(void)kill(flood_child, SIGKILL);
		(void)waitpid(flood_child, NULL, 0);
		flood_child = 0;
	}

	mipart_topology_free(f->topo);
	mipart_host_free(f->host);
	scratch_remove(f->dir);
	free(f);
	return 0;
}

static void build(struct fixture *f, unsigned gpus, mipart_compute_mode c, mipart_memory_mode m,
		  const char *config, int in_sync)
{
	mipart_sim_options o = { .gpus = gpus, .compute = c, .memory = m };
	mipart_labels_input in = { .config = config, .in_sync = in_sync };
	const char *why = NULL;

	assert_int_equal(mipart_sim_create(f->dir, &o, &why), 0);
	f->topo = mipart_topology_free(f->topo);
	assert_int_equal(mipart_topology_load(f->host, &f->topo), 0);
	in.topo = f->topo;
	f->n = mipart_labels_build(&in, f->labels, MIPART_LABELS_MAX);
	assert_true(f->n > 0);
}

static const char *get(const struct fixture *f, const char *key)
{
	for (int i = 0; i < f->n; i++)
		if (!strcmp(f->labels[i].key, key))
			return f->labels[i].value;
	return NULL;
}

static void test_homogeneous(void **state)
{
	struct fixture *f = *state;

	build(f, 8, MIPART_COMPUTE_CPX, MIPART_MEMORY_NPS4, "all-cpx", 1);
	/* AMD's labeller: lower-case compute_memory, only when every GPU agrees */
	assert_string_equal(get(f, "amd.com/gpu.compute-memory-partition"), "cpx_nps4");
	assert_string_equal(get(f, "amd.com/gpu.compute-partitioning-supported"), "true");
	assert_string_equal(get(f, "amd.com/gpu.memory-partitioning-supported"), "true");
	assert_string_equal(get(f, "amd.com/gpu.device-id"), "74a1");
	assert_string_equal(get(f, "feature.node.kubernetes.io/mipart-product"), "MI300X");
	assert_string_equal(get(f, "feature.node.kubernetes.io/mipart-gpus"), "8");
	assert_string_equal(get(f, "feature.node.kubernetes.io/mipart-compute"), "CPX");
	assert_string_equal(get(f, "feature.node.kubernetes.io/mipart-memory"), "NPS4");
	assert_string_equal(get(f, "feature.node.kubernetes.io/mipart-partitions"), "64");
	assert_string_equal(get(f, "feature.node.kubernetes.io/mipart-partitions.24G"), "64");
	assert_string_equal(get(f, "feature.node.kubernetes.io/mipart-free-partitions.24G"), "64");
	assert_string_equal(get(f, "feature.node.kubernetes.io/mipart-config"), "all-cpx");
	assert_string_equal(get(f, "feature.node.kubernetes.io/mipart-config-in-sync"), "true");
	/* sorted, each valid */
	for (int i = 0; i < f->n; i++) {
		assert_int_equal(mipart_label_key_valid(f->labels[i].key), 0);
		assert_int_equal(mipart_label_value_valid(f->labels[i].value), 0);
		if (i)
			assert_true(strcmp(f->labels[i - 1].key, f->labels[i].key) < 0);
	}
}

static void test_mixed_and_names(void **state)
{
	struct fixture *f = *state;
	char *text = NULL;

	/* a config name that is no label value (64 characters) is left out, not cut */
	build(f, 2, MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS1,
	      "a123456789012345678901234567890123456789012345678901234567890123", -1);
	assert_null(get(f, "feature.node.kubernetes.io/mipart-config"));
	assert_null(get(f, "feature.node.kubernetes.io/mipart-config-in-sync"));
	assert_string_equal(get(f, "amd.com/gpu.compute-memory-partition"), "spx_nps1");
	assert_string_equal(get(f, "feature.node.kubernetes.io/mipart-partitions.192G"), "2");
	assert_int_equal(mipart_labels_format_nfd(f->labels, (size_t)f->n, &text), 0);
	assert_non_null(strstr(text, "\namd.com/gpu.compute-memory-partition=spx_nps1\n"));
	assert_non_null(strstr(text, "\nfeature.node.kubernetes.io/mipart-gpus=2\n"));
	assert_int_equal(text[0], '#');
	free(text);
	/* a label that is not valid is refused by the writer, not written */
	util_strlcpy(f->labels[0].value, "no spaces", sizeof(f->labels[0].value));
	assert_int_equal(mipart_labels_format_nfd(f->labels, (size_t)f->n, &text), -EINVAL);
}

static void test_heterogeneous(void **state)
{
	struct fixture *f = *state;
	mipart_labels_input in = { .in_sync = 0 };
	mipart_sim_options o = { .gpus = 2, .compute = MIPART_COMPUTE_SPX };
	const char *why = NULL;

	assert_int_equal(mipart_sim_create(f->dir, &o, &why), 0);
	assert_int_equal(mipart_sim_write_attr(f->dir, "0000:05:00.0", "current_compute_partition", "CPX"), 0);
	assert_int_equal(mipart_topology_load(f->host, &f->topo), 0);
	in.topo = f->topo;
	f->n = mipart_labels_build(&in, f->labels, MIPART_LABELS_MAX);
	assert_true(f->n > 0);
	/* AMD's labeller writes no pair when the GPUs differ */
	assert_null(get(f, "amd.com/gpu.compute-memory-partition"));
	assert_string_equal(get(f, "feature.node.kubernetes.io/mipart-compute"), "mixed");
	assert_string_equal(get(f, "feature.node.kubernetes.io/mipart-partitions.24G"), "8");
	assert_string_equal(get(f, "feature.node.kubernetes.io/mipart-partitions.192G"), "1");
	assert_string_equal(get(f, "feature.node.kubernetes.io/mipart-config-in-sync"), "false");
	/* too small a buffer: refused, not truncated */
	assert_int_equal(mipart_labels_build(&in, f->labels, 3), -ENOSPC);
}

/* A host read whole with no GPU a pod can use (GIM drives both PFs, the VFs are for VMs): one
 * label, 0 GPUs, so that nothing of GPUs the node had survives in its feature file; a GPU amdgpu
 * drives whose partitions KFD does not list is no such truth (-EAGAIN: the caller keeps its
 * file). */
static void test_no_usable_gpu(void **state)
{
	struct fixture *f = *state;
	mipart_labels_input in = { .in_sync = 1, .config = "all-spx" };
	const char *why = NULL;
	mipart_topology *t = NULL;

	assert_int_equal(mipart_sim_sriov_create(f->dir, "mi300x", 2, 1, &why), 0);
	assert_int_equal(mipart_topology_load(f->host, &f->topo), 0);
	assert_true(mipart_topology_gpu_count(f->topo) >= 2);
	in.topo = f->topo;
	f->n = mipart_labels_build(&in, f->labels, MIPART_LABELS_MAX);
	assert_int_equal(f->n, 1);
	assert_string_equal(f->labels[0].key, "feature.node.kubernetes.io/mipart-gpus");
	assert_string_equal(f->labels[0].value, "0");
	assert_int_equal(mipart_labels_build(&in, f->labels, 0), -ENOSPC);
	scratch_remove(f->dir);

	/* amdgpu's GPUs with the KFD topology emptied: not read, not zero */
	{
		mipart_sim_options o = { .gpus = 2, .compute = MIPART_COMPUTE_SPX };
		char nodes[256];

		assert_int_equal(mipart_sim_create(f->dir, &o, &why), 0);
		assert_true(util_pathf(nodes, sizeof(nodes), "%s/sys/class/kfd/kfd/topology/nodes", f->dir) >= 0);
		scratch_remove(nodes);
		assert_int_equal(mkdir(nodes, 0755), 0);
		assert_int_equal(mipart_topology_load(f->host, &t), 0);
		in.topo = t;
		assert_int_equal(mipart_labels_build(&in, f->labels, MIPART_LABELS_MAX), -EAGAIN);
		mipart_topology_free(t);
	}
}

/* mipart_labels_update: written when the text differs, left alone (same inode, same mtime)
 * when it does not, a missing directory made only when asked */
static void test_update(void **state)
{
	struct fixture *f = *state;
	mipart_sim_options o = { .gpus = 2, .compute = MIPART_COMPUTE_SPX };
	const char *why = NULL;
	char path[256], buf[8192];
	struct stat a, b;
	size_t n = 0;

	assert_int_equal(mipart_sim_create(f->dir, &o, &why), 0);
	snprintf(path, sizeof(path), "%s/nfd/features.d/mipart", f->dir);
	assert_int_equal(mipart_labels_update(f->host, path, false, &n), -ENOENT); /* no directory */
	assert_int_equal(mipart_labels_update(f->host, path, true, &n), 1);
	assert_true(n > 5);
	assert_true(util_read_file(path, buf, sizeof(buf) - 1) > 0);
	assert_non_null(strstr(buf, "\namd.com/gpu.compute-memory-partition=spx_nps1\n"));
	assert_int_equal(stat(path, &a), 0);
	assert_int_equal(mipart_labels_update(f->host, path, true, &n), 0); /* the same: untouched */
	assert_int_equal(stat(path, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_equal(a.st_mtim.tv_sec, b.st_mtim.tv_sec);
	assert_int_equal(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec);
	/* a change of the host: rewritten (a new file renamed over the old one) */
	assert_int_equal(mipart_sim_write_attr(f->dir, "0000:05:00.0", "current_compute_partition", "CPX"), 0);
	assert_int_equal(mipart_labels_update(f->host, path, false, NULL), 1);
	assert_int_equal(stat(path, &b), 0);
	assert_true(a.st_ino != b.st_ino);
	assert_true(util_read_file(path, buf, sizeof(buf) - 1) > 0);
	assert_non_null(strstr(buf, "\nfeature.node.kubernetes.io/mipart-compute=mixed\n"));
	/* a file someone edited is put right */
	assert_int_equal(util_write_file_durable(path, "x=y\n", 4, 0644), 0);
	assert_int_equal(mipart_labels_update(f->host, path, false, NULL), 1);
	assert_int_equal(mipart_labels_update(f->host, path, false, NULL), 0);
	assert_int_equal(mipart_labels_update(f->host, "", false, NULL), -EINVAL);
}

/* One rule for where the file goes: NFD's features.d only where it exists (never made), a named
 * path with its directory made. */
static void test_sync_rule(void **state)
{
	struct fixture *f = *state;
	mipart_sim_options o = { .gpus = 1, .compute = MIPART_COMPUTE_SPX };
	mipart_labels_options named = { .path = NULL };
	mipart_labels_result res;
	const char *why = NULL;
	char nfd[512], dir[512], mine[512];
	struct stat st;

	assert_int_equal(mipart_sim_create(f->dir, &o, &why), 0);
	snprintf(nfd, sizeof(nfd), "%s" MIPART_LABELS_PATH, f->dir);
	snprintf(dir, sizeof(dir), "%s/etc/kubernetes", f->dir);
	assert_int_equal(mipart_labels_sync(f->host, NULL, &res), -ENOENT);
	assert_true(res.nfd_missing);
	assert_string_equal(res.path, nfd);
	assert_int_equal(stat(dir, &st), -1); /* nothing made */
	snprintf(mine, sizeof(mine), "%s/elsewhere/deep/mipart", f->dir);
	named.path = mine;
	assert_int_equal(mipart_labels_sync(f->host, &named, &res), 1);
	assert_string_equal(res.path, mine);
	assert_true(res.count > 5);
	assert_int_equal(stat(dir, &st), -1);
	snprintf(mine, sizeof(mine), "%s/etc/kubernetes/node-feature-discovery/features.d", f->dir);
	assert_int_equal(util_mkdir_p(mine), 0); /* what NFD does */
	assert_int_equal(mipart_labels_sync(f->host, NULL, &res), 1);
	assert_int_equal(stat(nfd, &st), 0);
	assert_int_equal(mipart_labels_sync(f->host, NULL, NULL), 0); /* current */
	assert_false(res.nfd_missing);
	named.path = "";
	assert_int_equal(mipart_labels_sync(f->host, &named, &res), -EINVAL);
}

/* The watcher on a root where none of the directories exists: it follows /run/mipart down as
 * it is made and back up when it is removed, and counts only what concerns it. */
static void touch(const char *dir, const char *name)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("x", fp);
	fclose(fp);
}

static void test_watcher(void **state)
{
	struct fixture *f = *state;
	mipart_labels_watcher *w = NULL;
	char run[300], dir[320], other[320];

	snprintf(run, sizeof(run), "%s/run", f->dir);
	snprintf(dir, sizeof(dir), "%s/mipart", run);
	assert_int_equal(mipart_labels_watcher_new(f->host, &w), 0);
	assert_true(mipart_labels_watcher_fd(w) >= 0);
	assert_int_equal(mipart_labels_watcher_read(w), 0); /* nothing pending */
	touch(f->dir, "unrelated");			     /* a file in an ancestor */
	snprintf(other, sizeof(other), "%s/opt", f->dir);
	assert_int_equal(mkdir(other, 0755), 0);
	assert_int_equal(mipart_labels_watcher_read(w), 0); /* and a directory off the way */
	assert_int_equal(mkdir(run, 0755), 0);
	assert_int_equal(mipart_labels_watcher_read(w), 1); /* /run: one step down */
	touch(run, "other");
	assert_int_equal(mipart_labels_watcher_read(w), 0);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(mipart_labels_watcher_read(w), 1); /* /run/mipart: watched itself now */
	touch(dir, "lock");
	assert_true(mipart_labels_watcher_read(w) > 0);
	touch(dir, "x-shm"); /* what a reader of SQLite does */
	assert_int_equal(mipart_labels_watcher_read(w), 0);
	/* removed: back to its ancestor, and down again when it is made again */
	assert_int_equal(util_rm_rf(run), 0);
	assert_true(mipart_labels_watcher_read(w) > 0);
	assert_int_equal(util_mkdir_p(dir), 0);
	assert_true(mipart_labels_watcher_read(w) > 0);
	touch(dir, "lock");
	assert_true(mipart_labels_watcher_read(w) > 0);
	w = mipart_labels_watcher_free(w);
	assert_null(w);
	assert_int_equal(mipart_labels_watcher_read(NULL), -EINVAL);
}

/*
 * The race of a directory made while the watcher climbs: inotify_add_watch of it fails (ENOENT),
 * then it is made, then its parent is watched, which sees no event of it. race_dir, when set, is
 * made right after the first failed watch of it (this executable's inotify_add_watch comes
 * before libc's, for the library's calls too).
 */
static char race_dir[400];

int inotify_add_watch(int fd, const char *path, uint32_t mask)
{
	long r = syscall(SYS_inotify_add_watch, fd, path, mask);
	int e = errno;

	if (r < 0 && race_dir[0] && !strcmp(path, race_dir)) {
		assert_int_equal(mkdir(race_dir, 0755), 0);
		race_dir[0] = '\0';
	}
	errno = e;
	return (int)r;
}

static void test_watcher_race(void **state)
{
	struct fixture *f = *state;
	mipart_labels_watcher *w = NULL;
	char run[300];

	snprintf(run, sizeof(run), "%s/run", f->dir);
	assert_int_equal(mkdir(run, 0755), 0);
	snprintf(race_dir, sizeof(race_dir), "%s/mipart", run);
	assert_int_equal(mipart_labels_watcher_new(f->host, &w), 0);
	assert_int_equal(race_dir[0], '\0'); /* made during the climb */
	assert_int_equal(mipart_labels_watcher_read(w), 0);
	/* the end of a change: its lock closed in /run/mipart, which must be watched itself */
	touch(run, "mipart/lock");
	assert_true(mipart_labels_watcher_read(w) > 0);
	mipart_labels_watcher_free(w);
}

/* Make n empty files named <prefix><i> in dir: two events each (IN_CREATE, IN_CLOSE_WRITE). */
static void make_files(const char *dir, const char *prefix, unsigned n)
{
	char path[512];

	for (unsigned i = 0; i < n; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/%s%u", dir, prefix, i);
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		assert_true(fd >= 0);
		close(fd);
	}
}

static bool readable(int fd)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN };

	return poll(&pf, 1, 0) == 1 && pf.revents & POLLIN;
}

/*
 * A queue longer than one read handles: each read takes at most MIPART_LABELS_WATCH_EVENTS_MAX
 * events and returns with the rest queued (the descriptor stays readable), so a caller that
 * polls gets its turn between reads; the reads together see every event.
 */
static void test_watcher_cap(void **state)
{
	struct fixture *f = *state;
	mipart_labels_watcher *w = NULL;
	mipart_labels_watch_stats st, prev = { 0 };
	char dir[320];
	unsigned calls = 0;

	snprintf(dir, sizeof(dir), "%s/run/mipart", f->dir);
	assert_int_equal(util_mkdir_p(dir), 0);
	assert_int_equal(mipart_labels_watcher_new(f->host, &w), 0);
	make_files(dir, "f", 1500); /* 3000 events, below the kernel's 16384 a queue */
	assert_true(mipart_labels_watcher_read(w) > 0);
	assert_int_equal(mipart_labels_watcher_stats(w, &st), 0);
	assert_true(st.events > 0 && st.events <= MIPART_LABELS_WATCH_EVENTS_MAX);
	assert_int_equal(st.capped, 1);
	assert_true(readable(mipart_labels_watcher_fd(w))); /* the rest is left for the next turn */
	for (calls = 1; readable(mipart_labels_watcher_fd(w)); calls++) {
		prev = st;
		assert_true(mipart_labels_watcher_read(w) >= 0);
		assert_int_equal(mipart_labels_watcher_stats(w, &st), 0);
		assert_true(st.events > prev.events && st.events - prev.events <= MIPART_LABELS_WATCH_EVENTS_MAX);
		assert_true(calls < 100);
	}
	assert_int_equal(st.events, 3000);
	assert_true(calls >= 3000 / MIPART_LABELS_WATCH_EVENTS_MAX);
	assert_int_equal(st.changes + st.ignored, st.events);
	assert_int_equal(st.rearms, 0);
	assert_int_equal(mipart_labels_watcher_stats(NULL, &st), -EINVAL);
	mipart_labels_watcher_free(w);
}

/*
 * A process that makes and removes files in the watched directory without end: every read
 * still returns, with a bounded number of events, while the flood runs, and the queue is empty
 * in a bounded number of reads once it stops.
 */
static void test_watcher_flood(void **state)
{
	struct fixture *f = *state;
	mipart_labels_watcher *w = NULL;
	mipart_labels_watch_stats st, prev;
	char dir[320], path[400];
	int status, go[2];
	pid_t child;
	char c;

	snprintf(dir, sizeof(dir), "%s/run/mipart", f->dir);
	assert_int_equal(util_mkdir_p(dir), 0);
	assert_int_equal(mipart_labels_watcher_new(f->host, &w), 0);
	assert_int_equal(pipe(go), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		/* never outlives the test: killed with it, and ends by itself after a while */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(go[0]);
		snprintf(path, sizeof(path), "%s/flood", dir);
		for (unsigned long i = 0; i < 20000000; i++) {
			int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

			if (fd >= 0)
				close(fd);
			(void)unlink(path);
			if (i == 1000)
				(void)!write(go[1], "x", 1); /* flooding */
		}
		_exit(0);
	}
	flood_child = child;
	close(go[1]);
	assert_int_equal(read(go[0], &c, 1), 1);
	close(go[0]);
	assert_int_equal(mipart_labels_watcher_stats(w, &st), 0);
	for (int i = 0; i < 50; i++) {
		prev = st;
		assert_true(mipart_labels_watcher_read(w) >= 0);
		assert_int_equal(mipart_labels_watcher_stats(w, &st), 0);
		assert_true(st.events - prev.events <= MIPART_LABELS_WATCH_EVENTS_MAX);
	}
	assert_true(st.events > 0);
	assert_int_equal(kill(child, SIGKILL), 0);
	assert_int_equal(waitpid(child, &status, 0), child);
	flood_child = 0;
	/* at most the kernel's queue (16384 events, one overflow) is left */
	for (int i = 0; readable(mipart_labels_watcher_fd(w)); i++) {
		assert_true(i < 64);
		assert_true(mipart_labels_watcher_read(w) >= 0);
	}
	mipart_labels_watcher_free(w);
}

/*
 * While /run/mipart is missing, /run is watched only for the next directory on the way: what
 * else is made there (files, other directories, a flood of them) is read and dropped by name
 * and moves no watch. A directory renamed into place is seen; and /run itself renamed away
 * (IN_MOVE_SELF: the watch would follow it) sends the watch up to the root, so a new /run and
 * its /run/mipart are followed.
 */
static void test_watcher_ancestor(void **state)
{
	struct fixture *f = *state;
	mipart_labels_watcher *w = NULL;
	mipart_labels_watch_stats st;
	char run[300], dir[320], path[400], old[320];

	snprintf(run, sizeof(run), "%s/run", f->dir);
	snprintf(dir, sizeof(dir), "%s/mipart", run);
	assert_int_equal(mkdir(run, 0755), 0);
	assert_int_equal(mipart_labels_watcher_new(f->host, &w), 0);
	make_files(run, "pid", 100);
	for (unsigned i = 0; i < 100; i++) {
		snprintf(path, sizeof(path), "%s/unit%u", run, i);
		assert_int_equal(mkdir(path, 0755), 0);
	}
	make_files(run, "mipart", 1); /* a file of the name: not the directory */
	while (readable(mipart_labels_watcher_fd(w)))
		assert_int_equal(mipart_labels_watcher_read(w), 0);
	assert_int_equal(mipart_labels_watcher_stats(w, &st), 0);
	assert_int_equal(st.events, 201);
	assert_int_equal(st.ignored, 201);
	assert_int_equal(st.rearms, 0);
	/* made elsewhere and renamed into place (IN_MOVED_TO) */
	snprintf(path, sizeof(path), "%s/mipart0", run);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/unit0", run);
	assert_int_equal(rename(path, dir), 0);
	assert_int_equal(mipart_labels_watcher_read(w), 1);
	touch(dir, "lock");
	assert_true(mipart_labels_watcher_read(w) > 0);
	/* /run/mipart removed: the watch goes back to /run; then /run renamed away */
	assert_int_equal(util_rm_rf(dir), 0);
	assert_true(mipart_labels_watcher_read(w) > 0);
	snprintf(old, sizeof(old), "%s/run.old", f->dir);
	assert_int_equal(rename(run, old), 0);
	assert_true(mipart_labels_watcher_read(w) > 0);
	snprintf(path, sizeof(path), "%s/mipart", old);
	assert_int_equal(mkdir(path, 0755), 0); /* not on the way any more */
	assert_int_equal(mipart_labels_watcher_read(w), 0);
	assert_int_equal(mkdir(run, 0755), 0);
	assert_int_equal(mipart_labels_watcher_read(w), 1);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(mipart_labels_watcher_read(w), 1);
	touch(dir, "lock");
	assert_true(mipart_labels_watcher_read(w) > 0);
	mipart_labels_watcher_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_syntax),
		cmocka_unit_test(test_value_syntax),
		cmocka_unit_test_setup_teardown(test_homogeneous, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mixed_and_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heterogeneous, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_usable_gpu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watcher, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watcher_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watcher_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watcher_flood, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watcher_ancestor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_rule, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
