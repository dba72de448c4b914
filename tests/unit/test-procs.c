// SPDX-License-Identifier: MIT
/*
 * The process scan's DRM fdinfo (discover/fdinfo.c, discover/procs.c). The texts are written
 * from the kernel's format strings:
 *  - drm_file.c: drm_show_fdinfo prints "drm-driver:\t%s\n", "drm-client-id:\t%llu\n",
 *    "drm-pdev:\t%04x:%02x:%02x.%d\n" (and "drm-client-name:\t%s\n" when a client set one),
 *    then the driver's show_fdinfo; fs/proc/fd.c: seq_show prints pos, flags, mnt_id, ino first;
 *  - amdgpu_fdinfo.c: amdgpu_show_fdinfo since its drm_print_memory_stats rework: "pasid:\t%u",
 *    then per placement (cpu, gtt, vram, gds, gws, oa, doorbell) drm-total-, drm-shared-,
 *    drm-resident-, drm-purgeable-<region> through drm_fdinfo_print_size (bytes, " KiB" or
 *    " MiB" while the size divides by 1024), the legacy "drm-memory-vram:\t%llu KiB",
 *    "drm-memory-gtt: \t%llu KiB" (space before the tab), "drm-memory-cpu: \t%llu KiB",
 *    "amd-evicted-vram:\t%llu KiB", "amd-requested-vram", "amd-requested-gtt", and
 *    "drm-engine-%s:\t%lld ns" for each engine with time;
 *  - the older amdgpu_show_fdinfo (Linux 6.1 to 6.12): pasid, drm-driver, drm-pdev,
 *    drm-client-id printed by amdgpu itself, then drm-memory-vram/gtt/cpu,
 *    amd-memory-visible-vram, amd-evicted-vram, amd-evicted-visible-vram, amd-requested-vram,
 *    amd-requested-visible-vram, amd-requested-gtt, drm-engine-*;
 *  - Documentation/gpu/drm-usage-stats.rst: "drm-engine-capacity-<keystr>: <uint>" has no unit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scratch.h"
#include "mipart/host.h"
#include "mipart/procs.h"
#include "mipart/sim.h"
#include "mipart/topology.h"
#include "discover.h"
#include "util.h"
#include "banned.h"

/* an MI300X compute client on a kernel with the drm_print_memory_stats rework */
static const char new_format[] =
	"pos:\t0\n"
	"flags:\t02100002\n"
	"mnt_id:\t26\n"
	"ino:\t1187\n"
	"drm-driver:\tamdgpu\n"
	"drm-client-id:\t4117\n"
	"drm-pdev:\t0000:05:00.0\n"
	"pasid:\t32790\n"
	"drm-total-cpu:\t0\n"
	"drm-shared-cpu:\t0\n"
	"drm-resident-cpu:\t0\n"
	"drm-purgeable-cpu:\t0\n"
	"drm-total-gtt:\t6144 KiB\n"
	"drm-shared-gtt:\t0\n"
	"drm-resident-gtt:\t6144 KiB\n"
	"drm-purgeable-gtt:\t0\n"
	"drm-total-vram:\t40960 MiB\n"
	"drm-shared-vram:\t2 MiB\n"
	"drm-resident-vram:\t40958 MiB\n"
	"drm-purgeable-vram:\t0\n"
	"drm-total-gds:\t0\n"
	"drm-shared-gds:\t0\n"
	"drm-resident-gds:\t0\n"
	"drm-purgeable-gds:\t0\n"
	"drm-total-gws:\t0\n"
	"drm-shared-gws:\t0\n"
	"drm-resident-gws:\t0\n"
	"drm-purgeable-gws:\t0\n"
	"drm-total-oa:\t0\n"
	"drm-shared-oa:\t0\n"
	"drm-resident-oa:\t0\n"
	"drm-purgeable-oa:\t0\n"
	"drm-total-doorbell:\t8192\n"
	"drm-shared-doorbell:\t0\n"
	"drm-resident-doorbell:\t8 KiB\n"
	"drm-purgeable-doorbell:\t0\n"
	"drm-memory-vram:\t41940992 KiB\n"
	"drm-memory-gtt: \t6144 KiB\n"
	"drm-memory-cpu: \t0 KiB\n"
	"amd-evicted-vram:\t2048 KiB\n"
	"amd-requested-vram:\t41943040 KiB\n"
	"amd-requested-gtt:\t6144 KiB\n"
	"drm-engine-compute:\t73841920311 ns\n"
	"drm-engine-dma:\t1250000 ns\n";

/* the same client on an older kernel: amdgpu prints the generic keys itself, after pasid */
static const char old_format[] =
	"pos:\t0\n"
	"flags:\t02100002\n"
	"mnt_id:\t26\n"
	"ino:\t1187\n"
	"drm-driver:\tamdgpu\n"
	"pasid:\t32790\n"
	"drm-driver:\tamdgpu\n";

static const char old_format_ok[] =
	"pos:\t0\n"
	"flags:\t02100002\n"
	"mnt_id:\t26\n"
	"ino:\t1187\n"
	"pasid:\t32790\n"
	"drm-driver:\tamdgpu\n"
	"drm-pdev:\t0000:26:00.0\n"
	"drm-client-id:\t97\n"
	"drm-memory-vram:\t1048576 KiB\n"
	"drm-memory-gtt: \t4096 KiB\n"
	"drm-memory-cpu: \t0 KiB\n"
	"amd-memory-visible-vram:\t0 KiB\n"
	"amd-evicted-vram:\t0 KiB\n"
	"amd-evicted-visible-vram:\t0 KiB\n"
	"amd-requested-vram:\t1048576 KiB\n"
	"amd-requested-visible-vram:\t0 KiB\n"
	"amd-requested-gtt:\t4096 KiB\n"
	"drm-engine-gfx:\t1000 ns\n"
	"drm-engine-compute:\t2000 ns\n";

#define KiB 1024LL
#define MiB (1024LL * 1024)

static void parses_the_reworked_format(void **state)
{
	struct procs_fdinfo f;

	(void)state;
	assert_int_equal(procs_parse_fdinfo(new_format, strlen(new_format), &f), 0);
	assert_string_equal(f.driver, "amdgpu");
	assert_string_equal(f.pdev, "0000:05:00.0");
	assert_true(f.has_client_id);
	assert_int_equal(f.client_id, 4117);
	assert_int_equal(f.pasid, 32790);
	/* drm-resident-vram wins over the legacy alias; MiB and KiB are 2^20 and 2^10 */
	assert_int_equal(f.vram, 40958 * MiB);
	assert_int_equal(f.vram_total, 40960 * MiB);
	assert_int_equal(f.vram_evicted, 2048 * KiB);
	assert_int_equal(f.gtt, 6144 * KiB);
	assert_int_equal(f.engine_ns, 73841920311ULL + 1250000ULL);
	assert_int_equal(f.lines, 44);
}

static void parses_the_older_format(void **state)
{
	struct procs_fdinfo f;

	(void)state;
	assert_int_equal(procs_parse_fdinfo(old_format_ok, strlen(old_format_ok), &f), 0);
	assert_string_equal(f.pdev, "0000:26:00.0");
	assert_int_equal(f.client_id, 97);
	/* only the legacy keys: drm-memory-vram is the resident VRAM, amd-requested-vram the
	 * total asked for */
	assert_int_equal(f.vram, 1048576 * KiB);
	assert_int_equal(f.vram_total, 1048576 * KiB);
	assert_int_equal(f.vram_evicted, 0);
	assert_int_equal(f.gtt, 4096 * KiB);
	assert_int_equal(f.engine_ns, 3000);
	/* a key printed twice is not the kernel's output */
	assert_int_equal(procs_parse_fdinfo(old_format, strlen(old_format), &f), -EBADMSG);
}

static void sizes_and_units(void **state)
{
	static const struct {
		const char *line;
		long long bytes;
		int r;
	} cases[] = {
		{ "drm-resident-vram:\t0\n", 0, 0 },
		{ "drm-resident-vram:\t1536\n", 1536, 0 },	  /* not a multiple of 1024: bytes */
		{ "drm-resident-vram:\t3 KiB\n", 3 * KiB, 0 },
		{ "drm-resident-vram:\t16 MiB\n", 16 * MiB, 0 },
		{ "drm-resident-vram:  \t 7 KiB\n", 7 * KiB, 0 }, /* whitespace after the colon */
		{ "drm-resident-vram:\t16 GiB\n", -1, -EBADMSG }, /* not a unit of the spec */
		{ "drm-resident-vram:\t16 KiB \n", -1, -EBADMSG },
		{ "drm-resident-vram:\t-1\n", -1, -EBADMSG },
		{ "drm-resident-vram:\t\n", -1, -EBADMSG },
		{ "drm-resident-vram:\t9223372036854775807\n", 9223372036854775807LL, 0 },
		{ "drm-resident-vram:\t9007199254740992 KiB\n", -1, -ERANGE },
		{ "drm-resident-vram:\t99999999999999999999\n", -1, -ERANGE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[256];
		struct procs_fdinfo f;
		int n = snprintf(text, sizeof(text), "drm-driver:\tamdgpu\n%s", cases[i].line);

		assert_int_equal(procs_parse_fdinfo(text, (size_t)n, &f), cases[i].r);
		if (cases[i].r == 0)
			assert_int_equal(f.vram, cases[i].bytes);
	}
}

static void not_a_drm_file(void **state)
{
	static const char eventfd[] = "pos:\t0\nflags:\t02\nmnt_id:\t15\nino:\t1057\neventfd-count:\t0\n";
	struct procs_fdinfo f = { .lines = 77 };

	(void)state;
	assert_int_equal(procs_parse_fdinfo(eventfd, strlen(eventfd), &f), -ENOENT);
	assert_int_equal(f.lines, 77); /* untouched on failure */
	assert_int_equal(procs_parse_fdinfo("", 0, &f), -ENOENT);
	/* another driver parses; the scan counts amdgpu only */
	{
		static const char i915[] = "drm-driver:\ti915\ndrm-pdev:\t0000:00:02.0\n";

		assert_int_equal(procs_parse_fdinfo(i915, strlen(i915), &f), 0);
	}
	assert_string_equal(f.driver, "i915");
	assert_int_equal(f.vram, -1);
	assert_false(f.has_client_id);
}

static void refuses_what_the_kernel_never_prints(void **state)
{
	static const char *const bad[] = {
		"drm-driver:\tamdgpu\nno colon here\n",
		"drm-driver:\tamdgpu\n: no key\n",
		"drm-driver:\tamdgpu\nkey with space:\t1\n",
		"drm-driver:\tamdgpu\ndrm-pdev:\t05:00.0\n",	  /* no domain */
		"drm-driver:\tamdgpu\ndrm-pdev:\t0000:05:00.8\n", /* function 0..7 */
		"drm-driver:\tamdgpu\ndrm-pdev:\t0000:05:00.0 \n",
		"drm-driver:\tamdgpu\ndrm-client-id:\tx\n",
		"drm-driver:\tamdgpu\ndrm-client-id:\t1\ndrm-client-id:\t2\n",
		"drm-driver:\tamdgpu\npasid:\tx\n",
		"drm-driver:\tamdgpu\npasid:\t4294967296\n", /* a u32 */
		"drm-driver:\tamdgpu\npasid:\t1\npasid:\t2\n",
		"drm-driver:\tamdgpu\ndrm-engine-gfx:\t12\n", /* no unit */
		"drm-driver:\tamdgpu\ndrm-engine-gfx:\t12 us\n",
		"drm-driver:\t\n",
		"drm-driver:\tamdgpu\ndrm-driver:\tamdgpu\n",
		"drm-driver:\ta-driver-name-of-more-than-thirty-one-bytes\n",
	};
	struct procs_fdinfo f;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(procs_parse_fdinfo(bad[i], strlen(bad[i]), &f), -EBADMSG);
	/* a NUL inside */
	assert_int_equal(procs_parse_fdinfo("drm-driver:\tamd\0gpu\n", 20, &f), -EBADMSG);
	/* capacity has no unit and is no busy time */
	{
		static const char cap[] =
			"drm-driver:\tamdgpu\ndrm-engine-capacity-gfx:\t2\ndrm-engine-gfx:\t5 ns\n";

		assert_int_equal(procs_parse_fdinfo(cap, strlen(cap), &f), 0);
	}
	assert_int_equal(f.engine_ns, 5);
}

static void caps(void **state)
{
	char *big = malloc(FDINFO_MAX_BYTES + 2);
	size_t n = 0;

	(void)state;
	assert_non_null(big);
	/* FDINFO_MAX_LINES lines are fine, one more is not */
	n = (size_t)snprintf(big, FDINFO_MAX_BYTES, "drm-driver:\tamdgpu\n");
	for (size_t i = 1; i < FDINFO_MAX_LINES; i++)
		n += (size_t)snprintf(big + n, FDINFO_MAX_BYTES + 2 - n, "k%zu:\t1\n", i % 10);
	{
		struct procs_fdinfo f;

		assert_int_equal(procs_parse_fdinfo(big, n, &f), 0);
		assert_int_equal(f.lines, FDINFO_MAX_LINES);
		memcpy(big + n, "x:\t1\n", 5);
		assert_int_equal(procs_parse_fdinfo(big, n + 5, &f), -E2BIG);
		/* a line of FDINFO_MAX_LINE bytes is fine, one byte more is not */
		memset(big, 'a', FDINFO_MAX_LINE + 1);
		memcpy(big, "drm-client-name:", 16);
		assert_int_equal(procs_parse_fdinfo(big, FDINFO_MAX_LINE, &f), -ENOENT);
		assert_int_equal(procs_parse_fdinfo(big, FDINFO_MAX_LINE + 1, &f), -E2BIG);
		memset(big, 'a', FDINFO_MAX_BYTES + 1);
		assert_int_equal(procs_parse_fdinfo(big, FDINFO_MAX_BYTES + 1, &f), -E2BIG);
	}
	free(big);
}

/* ---- the scan over a simulated host ---- */

static void write_at(const char *dir, const char *rel, const char *data)
{
	char path[512];
	FILE *fp;

	assert_true(util_pathf(path, sizeof(path), "%s/%s", dir, rel) > 0);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(data, fp);
	assert_int_equal(fclose(fp), 0);
}

static const mipart_proc_info *find_pid(const mipart_procs *p, int pid)
{
	for (size_t i = 0; i < mipart_procs_count(p); i++)
		if (mipart_procs_get(p, i)->pid == pid)
			return mipart_procs_get(p, i);
	return NULL;
}

/* a fd of pid on render minor `minor` whose fdinfo is `text` */
static void add_fd(const char *dir, int pid, int fd, int minor, const char *text)
{
	char rel[128], path[512], target[64];

	snprintf(rel, sizeof(rel), "proc/%d/fd/%d", pid, fd);
	assert_true(util_pathf(path, sizeof(path), "%s/%s", dir, rel) > 0);
	snprintf(target, sizeof(target), "/dev/dri/renderD%d", minor);
	assert_int_equal(symlink(target, path), 0);
	snprintf(rel, sizeof(rel), "proc/%d/fdinfo/%d", pid, fd);
	write_at(dir, rel, text);
}

static void scan_counts_each_client_once(void **state)
{
	struct scratch_dir *s = *state;
	mipart_sim_options o = { .gpus = 2, .compute = MIPART_COMPUTE_CPX };
	mipart_sim_load l = { .gpu = 1, .xcp = 2, .busy = -1, .vram = 5LL << 30, .power_w = -1,
			      .temp_c = -1, .mem_temp_c = -1, .gfxclk_mhz = -1 };
	mipart_host *h = NULL;
	mipart_topology *t = NULL;
	mipart_procs *p = NULL;
	const mipart_proc_info *pi;
	const mipart_partition_info *part = NULL;
	size_t slot = 0;
	char text[512];

	assert_int_equal(mipart_sim_create(s->dir, &o, NULL), 0);
	assert_int_equal(mipart_sim_hold_partition(s->dir, 1, 2, 4242, "vllm", NULL), 0);
	assert_int_equal(mipart_sim_set_load(s->dir, &l), 0);
	assert_int_equal(mipart_host_new(s->dir, &h), 0);
	assert_int_equal(mipart_topology_load(h, &t), 0);
	for (size_t i = 0; i < mipart_topology_partition_count(t); i++)
		if (mipart_topology_partition(t, i)->gpu == 1 && mipart_topology_partition(t, i)->xcp == 2)
			part = mipart_topology_partition(t, slot = i);
	assert_non_null(part);

	/* the simulator's fdinfo, in the kernel's format: the process's VRAM on 1.2 */
	assert_int_equal(mipart_procs_scan(h, t, &p), 0);
	pi = find_pid(p, 4242);
	assert_non_null(pi);
	assert_int_equal(pi->drm_clients, 1);
	assert_int_equal(pi->vram_bytes, 5LL << 30);
	assert_int_equal(pi->partition_vram[slot], 5LL << 30);
	assert_int_equal(mipart_proc_gpu_vram(pi, t, 1), 5LL << 30);
	assert_int_equal(mipart_proc_gpu_vram(pi, t, 0), -1); /* it has no fd on GPU 0 */
	p = mipart_procs_free(p);

	/* a dup of the same DRM file (same drm-client-id) counts once; a second client on the
	 * same partition adds its own; a client of another driver is no GPU memory of ours */
	snprintf(text, sizeof(text),
		 "pos:\t0\nflags:\t02100002\nmnt_id:\t25\nino:\t1043\ndrm-driver:\tamdgpu\n"
		 "drm-client-id:\t%u\ndrm-pdev:\t0000:26:00.0\npasid:\t32768\n"
		 "drm-resident-vram:\t1 MiB\namd-evicted-vram:\t4 KiB\n",
		 9001u);
	add_fd(s->dir, 4242, 90, part->render_minor, text);
	add_fd(s->dir, 4242, 91, part->render_minor, text);
	add_fd(s->dir, 4242, 92, part->render_minor,
	       "drm-driver:\ti915\ndrm-client-id:\t9002\ndrm-resident-vram:\t7 MiB\n");
	/* an fdinfo that breaks the format is not counted, the fd still marks the partition */
	add_fd(s->dir, 4242, 93, part->render_minor, "drm-driver:\tamdgpu\ngarbage\n");
	assert_int_equal(mipart_procs_scan(h, t, &p), 0);
	pi = find_pid(p, 4242);
	assert_non_null(pi);
	assert_int_equal(pi->drm_clients, 2);
	assert_int_equal(pi->vram_bytes, (5LL << 30) + (1LL << 20));
	assert_int_equal(pi->partition_vram[slot], (5LL << 30) + (1LL << 20));
	assert_int_equal(pi->evicted_vram_bytes, 4096);
	assert_int_equal(mipart_proc_gpu_vram(pi, t, 1), (5LL << 30) + (1LL << 20));
	p = mipart_procs_free(p);
	mipart_topology_free(t);
	mipart_host_free(h);
}

/* amdgpu's first drm-usage-stats format (2022, before "drm/amdgpu: add drm-client-id to
 * fdinfo"): drm-driver, drm-pdev and pasid, no drm-client-id */
static const char no_client_id[] =
	"pos:\t0\nflags:\t02100002\nmnt_id:\t25\nino:\t1043\n"
	"drm-driver:\tamdgpu\ndrm-pdev:\t0000:26:00.0\npasid:\t32770\n"
	"drm-memory-vram:\t1024 KiB\ndrm-memory-gtt:\t0 KiB\ndrm-memory-cpu:\t0 KiB\n";

/* the same format for another DRM file (each open has its own pasid: amdgpu_kms.c:
 * amdgpu_driver_open_kms), and for one opened when no PASID was left (pasid 0) */
static const char no_client_id_other[] =
	"pos:\t0\nflags:\t02100002\nmnt_id:\t25\nino:\t1044\n"
	"drm-driver:\tamdgpu\ndrm-pdev:\t0000:26:00.0\npasid:\t32771\n"
	"drm-memory-vram:\t1024 KiB\ndrm-memory-gtt:\t0 KiB\ndrm-memory-cpu:\t0 KiB\n";
static const char no_pasid[] =
	"pos:\t0\nflags:\t02100002\nmnt_id:\t25\nino:\t1045\n"
	"drm-driver:\tamdgpu\ndrm-pdev:\t0000:26:00.0\npasid:\t0\n"
	"drm-memory-vram:\t1024 KiB\ndrm-memory-gtt:\t0 KiB\ndrm-memory-cpu:\t0 KiB\n";

/* Fds printed without a drm-client-id are compared with kcmp(2): real fds of this test process
 * (a file opened, dup()ed, and opened again) behind a scratch /proc whose "self" names this
 * process, as the live /proc does. */
static void scan_compares_fds_without_client_id(void **state)
{
	struct scratch_dir *s = *state;
	mipart_sim_options o = { .gpus = 2, .compute = MIPART_COMPUTE_CPX };
	mipart_host *h = NULL;
	mipart_topology *t = NULL;
	mipart_procs *p = NULL;
	const mipart_proc_info *pi;
	const mipart_partition_info *part = NULL;
	char file[256], self[32], link[300];
	int pid = (int)getpid(), a, why = -1;
	const int A = 700, B = 701, C = 702, GONE = 703; /* clear of what the simulator makes */

	assert_int_equal(mipart_sim_create(s->dir, &o, NULL), 0);
	/* kcmp there and allowed on us (a file of our own, not fd 0, which a runner may close):
	 * skipped where a seccomp filter denies it (container runtimes' default profiles allow
	 * kcmp only with CAP_SYS_PTRACE) or the kernel lacks it */
	write_at(s->dir, "probe", "x");
	snprintf(file, sizeof(file), "%s/probe", s->dir);
	a = open(file, O_RDONLY | O_CLOEXEC);
	assert_true(a >= 0);
	why = procs_same_file(pid, a, a);
	close(a);
	if (why == -ENOSYS || why == -EPERM)
		skip();
	assert_int_equal(why, 1);
	why = -1;
	assert_int_equal(mipart_sim_hold_partition(s->dir, 1, 2, pid, "test", NULL), 0);
	assert_int_equal(mipart_host_new(s->dir, &h), 0);
	assert_int_equal(mipart_topology_load(h, &t), 0);
	for (size_t i = 0; i < mipart_topology_partition_count(t); i++)
		if (mipart_topology_partition(t, i)->gpu == 1 && mipart_topology_partition(t, i)->xcp == 2)
			part = mipart_topology_partition(t, i);
	assert_non_null(part);

	/* A and B: one open file description (dup); C: the same file opened again */
	snprintf(file, sizeof(file), "%s/drm-file", s->dir);
	write_at(s->dir, "drm-file", "x");
	a = open(file, O_RDONLY | O_CLOEXEC);
	assert_true(a >= 0);
	assert_int_equal(dup2(a, A), A);
	assert_int_equal(dup2(A, B), B);
	close(a);
	a = open(file, O_RDONLY | O_CLOEXEC);
	assert_true(a >= 0);
	assert_int_equal(dup2(a, C), C);
	close(a);
	assert_int_equal(procs_same_file(pid, A, B), 1);
	assert_int_equal(procs_same_file(pid, A, C), 0);
	add_fd(s->dir, pid, A, part->render_minor, no_client_id);
	add_fd(s->dir, pid, B, part->render_minor, no_client_id);
	add_fd(s->dir, pid, C, part->render_minor, no_client_id_other);
	snprintf(self, sizeof(self), "%d", pid);
	snprintf(link, sizeof(link), "%s/proc/self", s->dir);
	assert_int_equal(symlink(self, link), 0);

	/* the live view: A and B are one client, C another */
	assert_int_equal(mipart_procs_scan(h, t, &p), 0);
	pi = find_pid(p, pid);
	assert_non_null(pi);
	assert_int_equal(pi->drm_clients, 1 + 2); /* the simulator's own fd, A/B, C */
	assert_int_equal(mipart_procs_uncompared(p, &why), 0);
	assert_int_equal(why, 0);
	{
		int64_t sim_vram = pi->vram_bytes - (2LL << 20);

		p = mipart_procs_free(p);
		/* not this kernel's /proc (no "self" naming us): kcmp cannot be asked, the
		 * pasid tells: A and B one file, C another */
		assert_int_equal(unlink(link), 0);
		assert_int_equal(mipart_procs_scan(h, t, &p), 0);
		pi = find_pid(p, pid);
		assert_int_equal(pi->drm_clients, 1 + 2);
		assert_int_equal(pi->vram_bytes, sim_vram + (2LL << 20));
		assert_int_equal(mipart_procs_uncompared(p, &why), 0);
		p = mipart_procs_free(p);
	}
	/* kcmp cannot answer for an fd closed meanwhile (EBADF): counted, and said */
	assert_int_equal(symlink(self, link), 0);
	add_fd(s->dir, pid, GONE, part->render_minor, no_pasid); /* the pasid cannot tell */
	assert_int_equal(procs_same_file(pid, A, GONE), -EBADF);
	assert_int_equal(mipart_procs_scan(h, t, &p), 0);
	pi = find_pid(p, pid);
	assert_int_equal(pi->drm_clients, 1 + 3);
	assert_true(mipart_procs_uncompared(p, &why) >= 1);
	assert_int_equal(why, -EBADF);
	p = mipart_procs_free(p);
	close(A);
	close(B);
	close(C);
	mipart_topology_free(t);
	mipart_host_free(h);
}

/*
 * Without drm-client-id (amdgpu's first drm-usage-stats format) the pasid tells DRM files apart
 * where kcmp cannot be asked (a simulated /proc): one pasid on one partition is one file, in
 * one process (a dup) or in two (an fd inherited over fork), counted once, under the lower
 * pid; the other keeps the partition. A file with drm-client-id held by two processes, the
 * same. pasid 0 (none was left) tells nothing: that file counts where it is, and is said.
 */
static void scan_counts_a_shared_file_once(void **state)
{
	struct scratch_dir *s = *state;
	mipart_sim_options o = { .gpus = 2, .compute = MIPART_COMPUTE_CPX };
	mipart_host *h = NULL;
	mipart_topology *t = NULL;
	mipart_procs *p = NULL;
	const mipart_proc_info *pi;
	const mipart_partition_info *part = NULL;
	int64_t vram0[3], part0[3];
	unsigned clients0[3];
	const int pids[3] = { 800, 801, 802 };
	size_t slot = 0;
	int why = 0;
	static const char shared_id[] =
		"drm-driver:\tamdgpu\ndrm-client-id:\t777777\ndrm-pdev:\t0000:26:00.0\npasid:\t32800\n"
		"drm-resident-vram:\t2 MiB\n";
	static const char own_pasid[] =
		"drm-driver:\tamdgpu\ndrm-pdev:\t0000:26:00.0\npasid:\t40001\n"
		"drm-memory-vram:\t1024 KiB\n";

	assert_int_equal(mipart_sim_create(s->dir, &o, NULL), 0);
	for (int k = 0; k < 3; k++)
		assert_int_equal(mipart_sim_hold_partition(s->dir, 1, 2, pids[k], "vllm", NULL), 0);
	assert_int_equal(mipart_host_new(s->dir, &h), 0);
	assert_int_equal(mipart_topology_load(h, &t), 0);
	for (size_t i = 0; i < mipart_topology_partition_count(t); i++)
		if (mipart_topology_partition(t, i)->gpu == 1 && mipart_topology_partition(t, i)->xcp == 2)
			part = mipart_topology_partition(t, slot = i);
	assert_non_null(part);
	/* what the simulator's own fds give each */
	assert_int_equal(mipart_procs_scan(h, t, &p), 0);
	for (int k = 0; k < 3; k++) {
		pi = find_pid(p, pids[k]);
		assert_non_null(pi);
		vram0[k] = pi->vram_bytes < 0 ? 0 : pi->vram_bytes;
		part0[k] = pi->partition_vram[slot] < 0 ? 0 : pi->partition_vram[slot];
		clients0[k] = pi->drm_clients;
	}
	p = mipart_procs_free(p);

	add_fd(s->dir, 800, 700, part->render_minor, no_client_id); /* pasid 32770 */
	add_fd(s->dir, 800, 701, part->render_minor, no_client_id); /* its dup */
	add_fd(s->dir, 801, 700, part->render_minor, no_client_id); /* inherited over fork */
	add_fd(s->dir, 802, 700, part->render_minor, own_pasid);    /* a file of its own */
	add_fd(s->dir, 801, 702, part->render_minor, no_pasid);     /* no PASID was left */
	add_fd(s->dir, 801, 703, part->render_minor, shared_id);    /* one drm-client-id ... */
	add_fd(s->dir, 802, 703, part->render_minor, shared_id);    /* ... in two processes */
	assert_int_equal(mipart_procs_scan(h, t, &p), 0);
	pi = find_pid(p, 800);
	assert_int_equal(pi->drm_clients, clients0[0] + 1);
	assert_int_equal(pi->vram_bytes, vram0[0] + (1LL << 20));
	assert_int_equal(pi->partition_vram[slot], part0[0] + (1LL << 20));
	pi = find_pid(p, 801); /* the pasid-0 file and the shared client, not 800's file */
	assert_int_equal(pi->drm_clients, clients0[1] + 2);
	assert_int_equal(pi->vram_bytes, vram0[1] + (3LL << 20));
	assert_int_equal(pi->partition_vram[slot], part0[1] + (3LL << 20));
	assert_true(mipart_proc_uses_partition(pi, slot));
	pi = find_pid(p, 802); /* its own file; the shared client counts under 801 */
	assert_int_equal(pi->drm_clients, clients0[2] + 1);
	assert_int_equal(pi->vram_bytes, vram0[2] + (1LL << 20));
	assert_int_equal(pi->partition_vram[slot], part0[2] + (1LL << 20));
	assert_true(mipart_proc_uses_partition(pi, slot));
	/* 801's pasid-0 file next to its pasid-32770 one: neither kcmp nor the pasid could tell */
	assert_int_equal(mipart_procs_uncompared(p, &why), 1);
	assert_int_equal(why, -ENXIO);
	p = mipart_procs_free(p);
	mipart_topology_free(t);
	mipart_host_free(h);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, scratch_setup, scratch_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_the_reworked_format),
		cmocka_unit_test(parses_the_older_format),
		cmocka_unit_test(sizes_and_units),
		cmocka_unit_test(not_a_drm_file),
		cmocka_unit_test(refuses_what_the_kernel_never_prints),
		cmocka_unit_test(caps),
		T(scan_counts_each_client_once),
		T(scan_compares_fds_without_client_id),
		T(scan_counts_a_shared_file_once),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
