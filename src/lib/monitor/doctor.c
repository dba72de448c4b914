// SPDX-License-Identifier: MIT
/*
 * mipart doctor (include/mipart/doctor.h): the questions operators ask about a partitioned node,
 * each answered from what mipart already reads: the driver (module, binding, partition files,
 * user_partt_mode), permissions, the modes against what the driver allows, XGMI hives, the
 * journal, the processes holding GPUs, the allocations against the partitions, the CDI specs,
 * and amd-smi. Every check says what it saw and, when something is wrong, the exact command or
 * change that fixes it. Nothing here changes the host. See docs/troubleshooting.md.
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mipart/cdi.h"
#include "mipart/declared.h"
#include "mipart/doctor.h"
#include "mipart/kubelet.h"
#include "mipart/error.h"
#include "mipart/journal.h"
#include "mipart/labels.h"
#include "mipart/ledger.h"
#include "mipart/mode.h"
#include "mipart/procs.h"
#include "mipart/slurm.h"
#include "mipart/topology.h"
#include "discover.h"
#include "lock.h"
#include "subproc.h"
#include "util.h"
#include "banned.h"

#define DOCTOR_MAX_CHECKS 24
#define CDI_SPEC_MAX (1024 * 1024) /* bytes of a CDI spec we read */
#define CDI_FILES_MAX 256	   /* spec files per directory we look at */

struct doc {
	const mipart_host *host;
	const mipart_doctor_options *o;
	const char *self; /* "mipart", or with its global options */
	mipart_topology *t;
	int topo_err;
	bool module_loaded;
	mipart_doctor_check *v;
	size_t n;
};

const char *mipart_doctor_status_name(mipart_doctor_status s)
{
	static const char *const names[] = { "ok", "warn", "fail", "skipped" };

	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "unknown";
}

static mipart_doctor_check *begin(struct doc *d, const char *id, const char *title)
{
	mipart_doctor_check *c = &d->v[d->n++];

	memset(c, 0, sizeof(*c));
	c->id = id;
	c->title = title;
	c->status = MIPART_DOCTOR_OK;
	return c;
}

static void vappend(char *buf, size_t size, const char *fmt, va_list ap)
{
	size_t len = strlen(buf);

	if (len && len + 1 < size)
		buf[len++] = '\n', buf[len] = '\0';
	if (len + 1 < size)
		vsnprintf(buf + len, size - len, fmt, ap);
}

/* one more line of what the check saw */
static void saw(mipart_doctor_check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void saw(mipart_doctor_check *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vappend(c->saw, sizeof(c->saw), fmt, ap);
	va_end(ap);
}

/* one more line of the fix; a line already there is not repeated */
static void fix(mipart_doctor_check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fix(mipart_doctor_check *c, const char *fmt, ...)
{
	char line[sizeof(c->fix)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (const char *p = c->fix; (p = strstr(p, line)); p++)
		if ((p == c->fix || p[-1] == '\n') && (p[strlen(line)] == '\0' || p[strlen(line)] == '\n'))
			return;
	if (c->fix[0])
		util_strlcpy(c->fix + strlen(c->fix), "\n", sizeof(c->fix) - strlen(c->fix));
	util_strlcpy(c->fix + strlen(c->fix), line, sizeof(c->fix) - strlen(c->fix));
}

static void worsen(mipart_doctor_check *c, mipart_doctor_status s)
{
	static const int rank[] = { [MIPART_DOCTOR_OK] = 0, [MIPART_DOCTOR_SKIPPED] = 1,
				    [MIPART_DOCTOR_WARN] = 2, [MIPART_DOCTOR_FAIL] = 3 };

	if (rank[s] > rank[c->status])
		c->status = s;
}

static void skip(mipart_doctor_check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void skip(mipart_doctor_check *c, const char *fmt, ...)
{
	va_list ap;

	c->status = MIPART_DOCTOR_SKIPPED;
	va_start(ap, fmt);
	vappend(c->saw, sizeof(c->saw), fmt, ap);
	va_end(ap);
}

static bool selected(const struct doc *d, unsigned gpu)
{
	return !d->o->gpus || (gpu < 64 && ((d->o->gpus >> gpu) & 1));
}

/* a host path (under --root), or "" when too long */
static const char *hpath(const struct doc *d, const char *rel, char *buf, size_t size)
{
	if (mipart_host_path(d->host, rel, buf, size) < 0)
		buf[0] = '\0';
	return buf;
}

/* GPU indices of a mask as "0,2,3" */
static void gpu_list(uint64_t mask, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned g = 0; g < 64 && len < size; g++)
		if ((mask >> g) & 1)
			len += (size_t)snprintf(buf + len, size - len, "%s%u", len ? "," : "", g);
}

/* s in single quotes for a shell command line (a name someone chose) */
static const char *shell_quote(const char *s, char *buf, size_t size)
{
	size_t o = 0;

	if (size < 3) {
		if (size)
			buf[0] = '\0';
		return buf;
	}
	buf[o++] = '\'';
	for (; *s && o + 6 < size; s++) {
		if (*s == '\'') {
			memcpy(buf + o, "'\\''", 4);
			o += 4;
		} else {
			buf[o++] = *s;
		}
	}
	buf[o++] = '\'';
	buf[o] = '\0';
	return buf;
}

/* --- the driver ------------------------------------------------------------------------------ */

static void check_loaded(struct doc *d)
{
	mipart_doctor_check *c = begin(d, "driver.loaded", "amdgpu is loaded and sees AMD GPUs");
	char path[MIPART_PATH_MAX];
	struct stat st;

	d->module_loaded = stat(hpath(d, "/sys/module/amdgpu", path, sizeof(path)), &st) == 0;
	if (d->topo_err < 0) {
		worsen(c, MIPART_DOCTOR_FAIL);
		saw(c, "cannot read the GPUs under '%s/sys': %s", mipart_host_root(d->host),
		    mipart_strerror(d->topo_err));
	} else if (mipart_topology_gpu_count(d->t) == 0) {
		worsen(c, MIPART_DOCTOR_FAIL);
		saw(c, "no AMD GPU under '%s/sys/bus/pci/devices'", mipart_host_root(d->host));
		fix(c, "on a machine without one, try mipart on a simulated host: mipart sim create /tmp/node && mipart --root /tmp/node status");
	} else {
		saw(c, "%zu AMD GPU%s on the PCI bus", mipart_topology_gpu_count(d->t),
		    mipart_topology_gpu_count(d->t) == 1 ? "" : "s");
	}
	/* /sys/module/NAME exists while a module is loaded, and for a built-in one with
	 * parameters (kernel/params.c: param_sysfs_builtin; kernel/module/sysfs.c) */
	if (d->module_loaded) {
		saw(c, "amdgpu is loaded (%s)", path);
	} else {
		worsen(c, MIPART_DOCTOR_FAIL);
		saw(c, "amdgpu is not loaded: no %s", path);
		fix(c, "modprobe amdgpu (then: dmesg | grep -i amdgpu, if it does not load)");
	}
}

static void check_bound(struct doc *d)
{
	mipart_doctor_check *c = begin(d, "driver.bound", "amdgpu is bound to every AMD GPU");
	size_t bound = 0, n = 0;

	if (d->topo_err < 0 || !mipart_topology_gpu_count(d->t)) {
		skip(c, "no AMD GPU to look at");
		return;
	}
	for (size_t i = 0; i < mipart_topology_gpu_count(d->t); i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(d->t, i);

		if (!selected(d, g->index))
			continue;
		n++;
		if (g->driver_bound) {
			bound++;
			continue;
		}
		worsen(c, MIPART_DOCTOR_FAIL);
		saw(c, "GPU %u (%s, %s) is not bound to amdgpu", g->index, g->bdf, g->product);
		if (d->module_loaded)
			fix(c, "echo %s > /sys/bus/pci/drivers/amdgpu/bind (dmesg says why it did not bind)",
			    g->bdf);
		else
			fix(c, "modprobe amdgpu");
	}
	if (bound == n)
		saw(c, "%zu of %zu GPUs bound to amdgpu", bound, n);
}

/* whether the partition devices carry the names of kernels before mid-2024 */
static bool legacy_xcp_names(const mipart_topology *t, const mipart_gpu_info *g)
{
	for (size_t j = 0; j < g->n_partitions; j++)
		if (!strncmp(mipart_topology_gpu_partition(t, g, j)->drm_device, "amdgpu_xcp.", 11))
			return true;
	return false;
}

static void check_features(struct doc *d)
{
	mipart_doctor_check *c = begin(d, "driver.features",
				       "the kernel and driver have the partition files mipart uses");
	char path[MIPART_PATH_MAX], rel[128], buf[256];
	ssize_t n;

	n = util_read_file(hpath(d, "/proc/sys/kernel/osrelease", path, sizeof(path)), buf, 200);
	if (n > 0 && util_line_len(buf, (size_t)n) > 0) {
		char show[80];

		buf[util_line_len(buf, (size_t)n)] = '\0';
		saw(c, "kernel %s", util_show(buf, strlen(buf), 60, show, sizeof(show)));
	} else {
		saw(c, "kernel release unknown (cannot read %s)", path);
	}
	if (d->topo_err < 0 || !mipart_topology_gpu_count(d->t)) {
		skip(c, "no AMD GPU to look at");
		return;
	}
	for (size_t i = 0; i < mipart_topology_gpu_count(d->t); i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(d->t, i);
		struct stat st;
		bool config;

		if (!selected(d, g->index) || !g->driver_bound)
			continue;
		if (!g->partitioning) {
			saw(c, "GPU %u (%s): no partition modes", g->index, g->product);
			continue;
		}
		snprintf(rel, sizeof(rel), "%s/%s/%s", SYSFS_PCI_DEVICES, g->bdf, ATTR_SUPPORTED_XCP);
		config = stat(hpath(d, rel, path, sizeof(path)), &st) == 0;
		/* amdgpu_gfx.c: amdgpu_gfx_sysfs_xcp_init; amdgpu_gmc.c: amdgpu_gmc_sysfs_init;
		 * amdgpu_xcp.c: amdgpu_xcp_cfg_sysfs_init (HARDWARE.md §1) */
		saw(c, "GPU %u (%s): compute switching %s, memory (NPS) switching %s, compute_partition_config %s, partition devices %s",
		    g->index, g->product,
		    g->mode_source != MIPART_MODE_SOURCE_SYSFS ? "absent (modes inferred from KFD)"
		    : g->compute_writable			? "yes"
								: "read-only",
		    g->memory_writable ? "yes" : "no", config ? "yes" : "no",
		    legacy_xcp_names(d->t, g) ? "amdgpu_xcp.N" : "amdgpu_xcp_N");
		if (g->mode_source != MIPART_MODE_SOURCE_SYSFS) {
			worsen(c, MIPART_DOCTOR_WARN);
			fix(c, "use a kernel with the amdgpu partition files (Linux 6.5 or later, or ROCm's amdgpu-dkms)");
		} else if (!g->compute_writable) {
			/* the write bit is cleared without a switch hook, as on an SR-IOV VF */
			worsen(c, MIPART_DOCTOR_WARN);
			fix(c, "change GPU %u's modes where the driver can switch them (on an SR-IOV VF: on the host)",
			    g->index);
		}
		/* the rename to amdgpu_xcp_N (amd-gfx, 2024-04-30, ~Linux 6.10): tools that look
		 * for amdgpu_xcp_N (device plugins, libdrm) miss the partitions (HARDWARE.md §1.6) */
		if (legacy_xcp_names(d->t, g)) {
			worsen(c, MIPART_DOCTOR_WARN);
			fix(c, "update the amdgpu driver (Linux 6.10 or later, or a 2024 or later amdgpu-dkms): its partition devices are named amdgpu_xcp.N, and device plugins count amdgpu_xcp_N");
		}
	}
}

/* The compute mode g comes up in at the next driver load (mipart_compute_mode_at_load), and
 * how the driver picks it, for people. */
static const char *mode_at_load(int partt, const mipart_gpu_info *g, mipart_compute_mode *ret)
{
	*ret = mipart_compute_mode_at_load(partt, g->memory, (unsigned)g->num_xcc,
					   (unsigned)g->gfx_target, g->is_apu);
	return partt == MIPART_USER_PARTT_AUTO ? "AUTO"
					       : mipart_compute_mode_name((mipart_compute_mode)partt);
}

static void check_partt_mode(struct doc *d)
{
	mipart_doctor_check *c = begin(d, "driver.user_partt_mode",
				       "the compute mode the driver picks at load matches the current one");
	char path[MIPART_PATH_MAX], buf[64], gpus[200];
	mipart_compute_mode want = MIPART_COMPUTE_UNKNOWN;
	uint64_t differ = 0;
	bool same_want = true;
	ssize_t n;
	int64_t v;
	uint64_t u;

	hpath(d, "/sys/module/amdgpu/parameters/user_partt_mode", path, sizeof(path));
	n = util_read_file(path, buf, 32);
	if (n < 0) {
		skip(c, d->module_loaded ? "cannot read %s: %s" : "amdgpu is not loaded (%s: %s)", path,
		     mipart_strerror((int)n));
		return;
	}
	/* amdgpu_drv.c declares the int variable as a uint parameter
	 * (module_param_named(user_partt_mode, amdgpu_user_partt_mode, uint, 0444)), which
	 * prints "%u\n" (kernel/params.c: param_get_uint): AUTO (-2) reads 4294967294. "-2" is
	 * taken too (a build that declares it int). */
	if (util_line_len(buf, (size_t)n) <= 0) {
		skip(c, "%s is not a number", path);
		return;
	}
	buf[util_line_len(buf, (size_t)n)] = '\0';
	if (buf[0] == '-' && util_parse_u64(buf + 1, strlen(buf + 1), &u) == 0 && u <= 2)
		v = -(int64_t)u;
	else if (util_parse_u64(buf, strlen(buf), &u) == 0 && (u <= 4 || (u >= UINT32_MAX - 1 && u <= UINT32_MAX)))
		v = u <= 4 ? (int64_t)u : (int64_t)u - ((int64_t)UINT32_MAX + 1);
	else {
		skip(c, "%s holds '%s', not -2 to 4", path, buf);
		return;
	}
	saw(c, "amdgpu.user_partt_mode = %lld (%s)", (long long)v,
	    v == -2 ? "AUTO: the mode follows the NPS mode" : mipart_compute_mode_name((mipart_compute_mode)v));
	if (d->topo_err < 0)
		return;
	for (size_t i = 0; i < mipart_topology_gpu_count(d->t); i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(d->t, i);
		mipart_compute_mode at;
		const char *how;

		if (!selected(d, g->index) || !g->partitioning || !g->driver_bound ||
		    g->memory == MIPART_MEMORY_UNKNOWN)
			continue;
		how = mode_at_load((int)v, g, &at);
		if (at == g->compute)
			continue;
		worsen(c, MIPART_DOCTOR_WARN);
		if (at == MIPART_COMPUTE_UNKNOWN)
			saw(c, "GPU %u is %s/%s now; at the next driver load %s is not valid in %s and the switch is refused",
			    g->index, mipart_compute_mode_name(g->compute),
			    mipart_memory_mode_name(g->memory), how, mipart_memory_mode_name(g->memory));
		else
			saw(c, "GPU %u is %s/%s now; a driver reload or a reboot brings it up in %s (%s)",
			    g->index, mipart_compute_mode_name(g->compute),
			    mipart_memory_mode_name(g->memory), mipart_compute_mode_name(at), how);
		if (g->index < 64)
			differ |= UINT64_C(1) << g->index;
		if (want != MIPART_COMPUTE_UNKNOWN && want != g->compute)
			same_want = false;
		want = g->compute;
	}
	if (!differ) {
		saw(c, "every GPU comes back in its current compute mode after a reload");
		return;
	}
	gpu_list(differ, gpus, sizeof(gpus));
	if (same_want && want != MIPART_COMPUTE_UNKNOWN)
		fix(c, "echo 'options amdgpu user_partt_mode=%d' > /etc/modprobe.d/amdgpu-partition.conf (every GPU then loads in %s)",
		    (int)want, mipart_compute_mode_name(want));
	fix(c, "after each reload or reboot: %s set -g %s --compute %s", d->self, gpus,
	    mipart_compute_mode_name(want));
}

/* --- permissions ----------------------------------------------------------------------------- */

static void check_permissions(struct doc *d)
{
	mipart_doctor_check *c = begin(d, "permissions",
				       "root for changes, the database readable, the lock closed to others");
	char path[MIPART_PATH_MAX];
	struct stat st;

	if (geteuid() == 0) {
		saw(c, "running as root: changes are possible");
	} else {
		worsen(c, MIPART_DOCTOR_WARN);
		saw(c, "running as uid %u: set, reset, apply and recover need root", (unsigned)geteuid());
		fix(c, "sudo %s set ... (reading needs no root)", d->self);
	}
	hpath(d, MIPART_JOURNAL_PATH, path, sizeof(path));
	if (stat(path, &st) < 0) {
		saw(c, "no database yet (%s): no change or allocation recorded", path);
	} else if (access(path, R_OK) < 0) {
		worsen(c, MIPART_DOCTOR_FAIL);
		saw(c, "cannot read %s: %s; allocations and the journal look empty to this user", path,
		    mipart_strerror(-errno));
		fix(c, "run as root, or: chmod 0644 %s", path);
	} else {
		saw(c, "the database %s is readable", path);
	}
	/* an unprivileged flock() on the lock blocks every writer (docs/control.md) */
	hpath(d, LOCK_PATH, path, sizeof(path));
	if (stat(path, &st) == 0) {
		if (st.st_mode & 0066) {
			worsen(c, MIPART_DOCTOR_WARN);
			saw(c, "the lock %s has mode %04o: other users can open it, and holding it blocks every change",
			    path, (unsigned)(st.st_mode & 07777));
			fix(c, "chmod 0600 %s", path);
		} else {
			saw(c, "the lock %s is closed to other users (mode %04o)", path,
			    (unsigned)(st.st_mode & 07777));
		}
	}
}

/* --- modes ----------------------------------------------------------------------------------- */

static void check_modes(struct doc *d)
{
	mipart_doctor_check *c = begin(d, "modes.available",
				       "each GPU's modes are ones its driver allows now");
	size_t ok = 0;

	if (d->topo_err < 0 || !mipart_topology_gpu_count(d->t)) {
		skip(c, "no AMD GPU to look at");
		return;
	}
	for (size_t i = 0; i < mipart_topology_gpu_count(d->t); i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(d->t, i);
		mipart_compute_mode aut = mipart_compute_mode_auto(g->memory, (unsigned)g->num_xcc,
								   g->is_apu);
		char avail[64], mavail[64];
		bool bad = false;

		if (!selected(d, g->index) || !g->partitioning || !g->driver_bound)
			continue;
		mipart_compute_modes_format(g->compute_available, avail, sizeof(avail));
		mipart_memory_modes_format(g->memory_available, mavail, sizeof(mavail));
		/* UNKNOWN: a switch that failed, or a load that refused user_partt_mode
		 * (amdgpu_gfx.c: amdgpu_gfx_get_current_compute_partition, HARDWARE.md 8.6) */
		if (g->compute == MIPART_COMPUTE_UNKNOWN) {
			saw(c, "GPU %u: compute mode UNKNOWN (a failed switch, or a mode the driver refused at load)",
			    g->index);
			bad = true;
		} else if (g->compute_available &&
			   !(g->compute_available & MIPART_MODE_BIT(g->compute))) {
			saw(c, "GPU %u: compute mode %s is not among the ones %s allows now (%s)",
			    g->index, mipart_compute_mode_name(g->compute),
			    mipart_memory_mode_name(g->memory), avail);
			bad = true;
		}
		if (g->memory_available && g->memory != MIPART_MEMORY_UNKNOWN &&
		    !(g->memory_available & MIPART_MODE_BIT(g->memory))) {
			saw(c, "GPU %u: memory mode %s is not among the available ones (%s)", g->index,
			    mipart_memory_mode_name(g->memory), mavail);
			bad = true;
		}
		if (bad) {
			worsen(c, MIPART_DOCTOR_FAIL);
			if (aut != MIPART_COMPUTE_UNKNOWN && g->memory != MIPART_MEMORY_UNKNOWN)
				fix(c, "%s set -g %u --compute %s", d->self, g->index,
				    mipart_compute_mode_name(aut));
			else
				fix(c, "%s reset -g %u", d->self, g->index);
			continue;
		}
		if (g->mode_source == MIPART_MODE_SOURCE_INFERRED) {
			worsen(c, MIPART_DOCTOR_WARN);
			saw(c, "GPU %u: modes inferred from the KFD topology (%s/%s): the partition files are absent or unreadable",
			    g->index, mipart_compute_mode_name(g->compute),
			    mipart_memory_mode_name(g->memory));
			fix(c, "%s status (its warnings name the file that could not be read)", d->self);
			continue;
		}
		ok++;
	}
	if (ok)
		saw(c, "%zu GPU%s in modes the driver allows", ok, ok == 1 ? "" : "s");
}

static void check_hive(struct doc *d)
{
	mipart_doctor_check *c = begin(d, "modes.hive",
				       "the GPUs of each XGMI hive share one memory (NPS) mode");
	uint64_t hives[64];
	size_t n_hives = 0;

	if (d->topo_err < 0 || !mipart_topology_gpu_count(d->t)) {
		skip(c, "no AMD GPU to look at");
		return;
	}
	for (size_t i = 0; i < mipart_topology_gpu_count(d->t); i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(d->t, i);
		size_t h;

		if (!g->hive_id || !selected(d, g->index))
			continue;
		for (h = 0; h < n_hives && hives[h] != g->hive_id; h++)
			;
		if (h == n_hives && n_hives < ARRAY_SIZE(hives))
			hives[n_hives++] = g->hive_id;
	}
	if (!n_hives) {
		saw(c, "no XGMI hive: each GPU's NPS mode is its own");
		return;
	}
	/* NPS requests are per hive and a reload applies them to every GPU of the hive
	 * (amdgpu_xgmi.c: amdgpu_xgmi_request_nps_change; HARDWARE.md §7) */
	for (size_t h = 0; h < n_hives; h++) {
		unsigned counts[16] = { 0 };
		uint64_t members = 0;
		mipart_memory_mode most = MIPART_MEMORY_UNKNOWN;
		char list[200], modes[400] = "";
		size_t len = 0;

		for (size_t i = 0; i < mipart_topology_gpu_count(d->t); i++) {
			const mipart_gpu_info *g = mipart_topology_gpu(d->t, i);

			if (g->hive_id != hives[h])
				continue;
			if (g->index < 64)
				members |= UINT64_C(1) << g->index;
			if ((unsigned)g->memory < ARRAY_SIZE(counts))
				counts[g->memory]++;
			if (len < sizeof(modes))
				len += (size_t)snprintf(modes + len, sizeof(modes) - len, "%sGPU %u %s",
							len ? ", " : "", g->index,
							mipart_memory_mode_name(g->memory));
		}
		for (unsigned m = 1; m < ARRAY_SIZE(counts); m++)
			if (counts[m] > (most == MIPART_MEMORY_UNKNOWN ? 0 : counts[most]))
				most = (mipart_memory_mode)m;
		gpu_list(members, list, sizeof(list));
		for (unsigned m = 0; m < ARRAY_SIZE(counts); m++)
			if (counts[m] && (mipart_memory_mode)m != most) {
				worsen(c, MIPART_DOCTOR_FAIL);
				saw(c, "hive 0x%016llx mixes memory modes: %s", (unsigned long long)hives[h],
				    modes);
				if (most != MIPART_MEMORY_UNKNOWN)
					fix(c, "%s set -g %s --memory %s (one reload switches the whole hive)",
					    d->self, list, mipart_memory_mode_name(most));
				break;
			}
		if (c->status == MIPART_DOCTOR_OK)
			saw(c, "hive 0x%016llx: GPUs %s all in %s", (unsigned long long)hives[h], list,
			    mipart_memory_mode_name(most));
	}
}

/* An NPS request the driver holds stays until an unload applies it, to every GPU of the hive
 * (amdgpu_gmc.c: current_memory_partition_store, amdgpu_xgmi_request_nps_change; HARDWARE.md
 * 8.13); the journal knows which were written (mipart_journal_annotate_pending). */
static void check_pending(struct doc *d)
{
	mipart_doctor_check *c = begin(d, "modes.pending",
				       "no NPS request waits in the driver for a reload");
	char path[MIPART_PATH_MAX], list[200];
	mipart_journal *j = NULL;
	uint64_t gpus = 0;
	mipart_memory_mode want = MIPART_MEMORY_UNKNOWN;
	struct stat st;
	int r;

	if (d->topo_err < 0 || !mipart_topology_gpu_count(d->t)) {
		skip(c, "no AMD GPU to look at");
		return;
	}
	hpath(d, MIPART_JOURNAL_PATH, path, sizeof(path));
	if (stat(path, &st) < 0) {
		saw(c, "no journal yet: no NPS request written by mipart");
		return;
	}
	r = mipart_journal_open_reader(path, &j);
	if (r == 0)
		r = mipart_journal_annotate_pending(j, d->t);
	mipart_journal_free(j);
	if (r < 0 && r != -ENOENT) {
		skip(c, "cannot read the journal %s: %s", path, mipart_strerror(r));
		return;
	}
	for (size_t i = 0; i < mipart_topology_gpu_count(d->t); i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(d->t, i);

		if (!selected(d, g->index) || g->pending_memory == MIPART_MEMORY_UNKNOWN)
			continue;
		worsen(c, MIPART_DOCTOR_WARN);
		saw(c, "GPU %u shows %s, but %s is requested (change %lld): the next driver reload, whatever causes it, switches it",
		    g->index, mipart_memory_mode_name(g->memory),
		    mipart_memory_mode_name(g->pending_memory), (long long)g->pending_change);
		if (g->index < 64)
			gpus |= UINT64_C(1) << g->index;
		want = g->pending_memory;
	}
	if (!gpus) {
		saw(c, "no pending NPS request");
		return;
	}
	gpu_list(gpus, list, sizeof(list));
	fix(c, "drop it: %s recover; or take it now: %s set -g %s --memory %s", d->self, d->self, list,
	    mipart_memory_mode_name(want));
}

/* --- the journal ------------------------------------------------------------------------------ */

static void check_journal(struct doc *d)
{
	mipart_doctor_check *c = begin(d, "journal.changes",
				       "no partition change is unfinished or failed");
	char path[MIPART_PATH_MAX], cmd[300], show[300];
	mipart_journal *j = NULL;
	mipart_journal_entry *v = NULL;
	mipart_journal_entry running = { 0 };
	size_t n = 0;
	struct stat st;
	int r;

	hpath(d, MIPART_JOURNAL_PATH, path, sizeof(path));
	if (stat(path, &st) < 0) {
		saw(c, "no changes recorded yet (%s does not exist)", path);
		return;
	}
	r = mipart_journal_open_reader(path, &j);
	if (r == -ENOENT) {
		saw(c, "no changes recorded yet");
		return;
	}
	if (r < 0) {
		worsen(c, MIPART_DOCTOR_FAIL);
		saw(c, "cannot read the journal %s: %s", path, mipart_strerror(r));
		fix(c, "run as root, or make %s readable", path);
		return;
	}
	if (mipart_journal_running(j, &running) == 0) {
		worsen(c, MIPART_DOCTOR_FAIL);
		saw(c, "change %lld ('%s') did not finish: it stopped at step '%s'",
		    (long long)running.id,
		    util_show(running.command, strlen(running.command), 200, show, sizeof(show)),
		    running.step);
		fix(c, "%s recover", d->self);
	}
	mipart_journal_entry_release(&running);
	if (mipart_journal_list(j, 1, &v, &n) == 0 && n == 1 && v[0].state &&
	    strcmp(v[0].state, "running")) {
		util_show(v[0].command, strlen(v[0].command), 200, cmd, sizeof(cmd));
		if (!strcmp(v[0].state, "failed")) {
			worsen(c, MIPART_DOCTOR_FAIL);
			saw(c, "the last change %lld ('%s') failed and its rollback did not finish: %s",
			    (long long)v[0].id, cmd,
			    v[0].message ? util_show(v[0].message, strlen(v[0].message), 200, show,
						     sizeof(show))
					 : "no message");
			fix(c, "%s recover (once the cause is gone: %s history shows it)", d->self,
			    d->self);
		} else if (!strcmp(v[0].state, "rolled-back")) {
			worsen(c, MIPART_DOCTOR_WARN);
			saw(c, "the last change %lld ('%s') was rolled back: %s", (long long)v[0].id,
			    cmd,
			    v[0].message ? util_show(v[0].message, strlen(v[0].message), 200, show,
						     sizeof(show))
					 : "no message");
			fix(c, "remove the cause (%s history), then run it again: %s", d->self, cmd);
		} else {
			saw(c, "the last change %lld ('%s') ended %s", (long long)v[0].id, cmd,
			    v[0].state);
		}
	} else if (n == 0 && c->status == MIPART_DOCTOR_OK) {
		saw(c, "no changes recorded yet");
	}
	mipart_journal_entries_free(v, n);
	mipart_journal_free(j);
}

/* Hook units a change stopped and could not start again: the journal keeps them (apply.c:
 * units_left) until 'mipart recover', or a later change naming them, starts them. The names
 * come from a layout file: escaped. */
static void check_units_left(struct doc *d)
{
	mipart_doctor_check *c = begin(d, "journal.hook-units",
				       "no hook unit a change stopped is left stopped");
	char path[MIPART_PATH_MAX], name[140], err[200];
	mipart_journal *j = NULL;
	mipart_stopped_unit *v = NULL;
	size_t n = 0;
	struct stat st;
	int r;

	hpath(d, MIPART_JOURNAL_PATH, path, sizeof(path));
	if (stat(path, &st) < 0) {
		saw(c, "no changes recorded yet");
		return;
	}
	r = mipart_journal_open_reader(path, &j);
	if (r == 0)
		r = mipart_journal_units_stopped(j, &v, &n);
	mipart_journal_free(j);
	if (r < 0) {
		skip(c, "cannot read the journal %s: %s", path, mipart_strerror(r));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		worsen(c, MIPART_DOCTOR_FAIL);
		saw(c, "'%s' was stopped by change %lld and did not start again%s%s",
		    util_show(v[i].name, strlen(v[i].name), 100, name, sizeof(name)),
		    (long long)v[i].change, v[i].error[0] ? ": " : "",
		    v[i].error[0] ? util_show(v[i].error, strlen(v[i].error), 150, err, sizeof(err))
				  : "");
	}
	if (n)
		fix(c, "%s recover (starts them; 'systemctl status UNIT' says why one does not start)",
		    d->self);
	else
		saw(c, "every hook unit a change stopped was started again");
	free(v);
}

/* --- consumers -------------------------------------------------------------------------------- */

static void check_consumers(struct doc *d)
{
	mipart_doctor_check *c = begin(d, "consumers",
				       "no process holds a GPU that a change or a reload needs idle");
	mipart_procs *procs = NULL;
	size_t shown = 0;
	int r;

	if (d->topo_err < 0 || !mipart_topology_gpu_count(d->t)) {
		skip(c, "no AMD GPU to look at");
		return;
	}
	r = mipart_procs_scan(d->host, d->t, &procs);
	if (r < 0) {
		skip(c, "cannot list the processes under '%s/proc': %s", mipart_host_root(d->host),
		     mipart_strerror(r));
		return;
	}
	for (size_t i = 0; i < mipart_procs_count(procs); i++) {
		const mipart_proc_info *p = mipart_procs_get(procs, i);
		uint64_t gpus = p->gpus & (d->o->gpus ? d->o->gpus : ~UINT64_C(0));
		char list[200];

		if (!gpus)
			continue;
		gpu_list(gpus, list, sizeof(list));
		worsen(c, MIPART_DOCTOR_WARN);
		/* KFD users make a compute switch fail with EBUSY
		 * (amdgpu_amdkfd_check_and_lock_kfd); any open render node keeps the module in
		 * use, so a reload (an NPS change) waits for every holder (HARDWARE.md §7) */
		if (shown++ < 16)
			saw(c, "pid %d '%s'%s%s%s holds GPU %s%s: blocks %s", p->pid, p->comm,
			    p->container[0] ? " (container " : "", p->container,
			    p->container[0] ? ")" : "", list,
			    p->gpus_unknown ? " (which GPUs is unknown: counted on all)" : "",
			    p->kfd ? "a compute change and a reload" : "a reload (NPS change)");
		if (p->container[0])
			fix(c, "stop container %s (docker stop %.12s, or crictl stop %.12s) before the change",
			    p->container, p->container, p->container);
		else
			fix(c, "stop pid %d (its service, or kill %d) before the change", p->pid, p->pid);
	}
	if (shown > 16)
		saw(c, "... %zu more", shown - 16);
	if (mipart_procs_hidden(procs)) {
		worsen(c, MIPART_DOCTOR_WARN);
		saw(c, "%zu processes could not be inspected", mipart_procs_hidden(procs));
		fix(c, "run as root to see every GPU user: sudo %s doctor", d->self);
	}
	if (!shown && !mipart_procs_hidden(procs))
		saw(c, "no process holds a selected GPU");
	mipart_procs_free(procs);
}

/* --- identity --------------------------------------------------------------------------------- */

static void check_allocations(struct doc *d)
{
	mipart_doctor_check *c = begin(d, "identity.allocations",
				       "allocations point at partitions the host has, at the same index");
	char path[MIPART_PATH_MAX], name[200], q[300];
	mipart_ledger *l = NULL;
	mipart_allocation *v = NULL;
	size_t n = 0, fine = 0;
	struct stat st;
	int r;

	hpath(d, MIPART_JOURNAL_PATH, path, sizeof(path));
	if (stat(path, &st) < 0) {
		saw(c, "no allocations (no database yet)");
		return;
	}
	if (d->topo_err < 0) {
		skip(c, "the GPUs cannot be read");
		return;
	}
	r = mipart_ledger_open_reader(path, &l);
	if (r == 0)
		r = mipart_ledger_list(l, &v, &n);
	if (r == -ENOENT) {
		saw(c, "no allocations");
		mipart_ledger_free(l);
		return;
	}
	if (r < 0) {
		worsen(c, MIPART_DOCTOR_FAIL);
		saw(c, "cannot read the allocations in %s: %s", path, mipart_strerror(r));
		fix(c, "run as root, or make %s readable", path);
		mipart_ledger_free(l);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const mipart_allocation *a = &v[i];
		json_t *spec = a->spec ? json_loads(a->spec, 0, NULL) : NULL;
		const char *was = json_string_value(json_object_get(spec, "rocr_visible_devices"));
		char now[128] = "";
		size_t len = 0;
		bool missing = false, mine = false;

		util_show(a->name, strlen(a->name), 120, name, sizeof(name));
		shell_quote(a->name, q, sizeof(q));
		for (size_t b = 0; b < a->n_bookings; b++) {
			const mipart_gpu_info *g = mipart_topology_gpu_by_bdf(d->t, a->bookings[b].bdf);
			const mipart_partition_info *p =
				mipart_topology_partition_at(d->t, a->bookings[b].bdf, a->bookings[b].xcp);

			if (!g || selected(d, g->index))
				mine = true;
			if (!p) {
				missing = true;
				if (g)
					saw(c, "allocation '%s' books XCP %u of %s, which the host no longer has (GPU %u is in %s now, with %zu partition%s)",
					    name, a->bookings[b].xcp, a->bookings[b].bdf, g->index,
					    mipart_compute_mode_name(g->compute), g->n_partitions,
					    g->n_partitions == 1 ? "" : "s");
				else
					saw(c, "allocation '%s' books XCP %u of %s, which the host no longer has (no such GPU)",
					    name, a->bookings[b].xcp, a->bookings[b].bdf);
				continue;
			}
			if (len < sizeof(now))
				len += (size_t)snprintf(now + len, sizeof(now) - len, "%s%u",
							len ? "," : "", p->index);
		}
		if (!mine) {
			json_decref(spec);
			continue;
		}
		if (missing) {
			worsen(c, MIPART_DOCTOR_FAIL);
			fix(c, "%s release %s (then allocate again on a partition the host has)", d->self,
			    q);
		} else if (was && strcmp(was, now)) {
			/* KFD re-adds a switched GPU's nodes at the tail: other GPUs' logical
			 * indices shift (kfd_topology.c, HARDWARE.md 8.14) */
			char wshow[64];

			worsen(c, MIPART_DOCTOR_WARN);
			saw(c, "allocation '%s' was made on ROCR_VISIBLE_DEVICES=%s; its partition is %s now: a workload started with the old value runs on another partition",
			    name, util_show(was, strlen(was), 40, wshow, sizeof(wshow)), now);
			fix(c, "restart the workload of %s with its current environment: %s env %s",
			    q, d->self, q);
		} else {
			fine++;
		}
		json_decref(spec);
	}
	if (fine || !n)
		saw(c, "%zu allocation%s on partitions the host has%s", fine, fine == 1 ? "" : "s",
		    n ? ", at the index they were made on" : "");
	mipart_allocations_free(v, n);
	mipart_ledger_free(l);
}

/* --- CDI -------------------------------------------------------------------------------------- */

/* The device names of a CDI spec of kind amd.com/gpu in a JSON file; NULL when it is not one. */
static json_t *cdi_devices(const char *path)
{
	char *buf = malloc(CDI_SPEC_MAX + 1);
	json_t *root = NULL, *names = NULL, *dev;
	ssize_t n;
	size_t i;

	if (!buf)
		return NULL;
	n = util_read_file(path, buf, CDI_SPEC_MAX);
	if (n > 0)
		root = json_loadb(buf, (size_t)n, 0, NULL);
	free(buf);
	if (!root)
		return NULL;
	if (json_is_string(json_object_get(root, "kind")) &&
	    !strcmp(json_string_value(json_object_get(root, "kind")), MIPART_CDI_KIND)) {
		names = json_array();
		json_array_foreach(json_object_get(root, "devices"), i, dev)
			if (json_is_string(json_object_get(dev, "name")))
				json_array_append(names, json_object_get(dev, "name"));
	}
	json_decref(root);
	return names;
}

static void check_cdi(struct doc *d)
{
	mipart_doctor_check *c = begin(d, "cdi.spec",
				       "the CDI spec is there and names the partitions the host has");
	char path[MIPART_PATH_MAX], *want = NULL, *buf = NULL;
	json_t *have = NULL, *now = NULL;
	ssize_t n;
	int r;

	hpath(d, MIPART_CDI_PATH, path, sizeof(path));
	if (d->topo_err < 0 || !mipart_topology_gpu_count(d->t)) {
		skip(c, "no AMD GPU to look at");
		return;
	}
	r = mipart_cdi_generate(d->t, d->host, &want);
	if (r < 0) {
		skip(c, "no CDI spec can be made for this host: %s", mipart_strerror(r));
		return;
	}
	buf = malloc(CDI_SPEC_MAX + 1);
	n = buf ? util_read_file(path, buf, CDI_SPEC_MAX) : -ENOMEM;
	if (n == -ENOENT) {
		worsen(c, MIPART_DOCTOR_WARN);
		saw(c, "no CDI spec at %s: containers cannot ask for a partition by name (amd.com/gpu=0.3)",
		    path);
		fix(c, "%s cdi generate", d->self);
	} else if (n < 0) {
		worsen(c, MIPART_DOCTOR_FAIL);
		saw(c, "cannot read %s: %s", path, mipart_strerror((int)n));
		fix(c, "%s cdi generate", d->self);
	} else {
		have = json_loadb(buf, (size_t)n, 0, NULL);
		now = json_loads(want, 0, NULL);
		if (!have || !now || !json_equal(have, now)) {
			worsen(c, MIPART_DOCTOR_FAIL);
			saw(c, "%s is %s: it does not name the partitions the host has now", path,
			    have ? "stale" : "not JSON");
			fix(c, "%s cdi generate", d->self);
		} else {
			saw(c, "%s names every partition the host has", path);
		}
	}
	json_decref(have);
	json_decref(now);
	free(buf);
	free(want);
}

/* CDI spec directories: the static one and the dynamic one (container-device-interface
 * pkg/cdi/spec-dirs.go: DefaultStaticDir /etc/cdi, DefaultDynamicDir /var/run/cdi) */
static void check_cdi_duplicates(struct doc *d)
{
	static const char *const dirs[] = { "/etc/cdi", "/var/run/cdi" };
	mipart_doctor_check *c = begin(d, "cdi.duplicates",
				       "no two CDI specs name the same amd.com/gpu device");
	json_t *seen = json_object(); /* device name -> file */
	size_t files = 0;

	for (size_t k = 0; seen && k < ARRAY_SIZE(dirs); k++) {
		char dir[MIPART_PATH_MAX], path[MIPART_PATH_MAX + 256];
		struct dirent **ents = NULL;
		int ne;

		hpath(d, dirs[k], dir, sizeof(dir));
		ne = scandir(dir, &ents, NULL, alphasort);
		for (int e = 0; e < ne; e++) {
			const char *nm = ents[e]->d_name;
			size_t len = strlen(nm);
			json_t *names = NULL, *v;
			size_t i;

			if (nm[0] == '.' || files >= CDI_FILES_MAX || len < 6 ||
			    strcmp(nm + len - 5, ".json")) {
				free(ents[e]);
				continue;
			}
			snprintf(path, sizeof(path), "%s/%s", dir, nm);
			names = cdi_devices(path);
			if (names)
				files++;
			json_array_foreach(names, i, v) {
				const char *other = json_string_value(json_object_get(seen, json_string_value(v)));

				if (other && strcmp(other, path)) {
					worsen(c, MIPART_DOCTOR_FAIL);
					saw(c, "amd.com/gpu=%s is in %s and in %s: the runtime refuses both (or picks one)",
					    json_string_value(v), other, path);
					fix(c, "rm %s (keep one spec of kind amd.com/gpu; mipart writes %s)",
					    strcmp(nm, "amd.com-gpu.json") ? path : other,
					    MIPART_CDI_PATH);
				} else if (!other) {
					json_object_set_new(seen, json_string_value(v), json_string(path));
				}
			}
			json_decref(names);
			free(ents[e]);
		}
		free(ents);
	}
	if (c->status == MIPART_DOCTOR_OK)
		saw(c, "%zu CDI spec%s of kind amd.com/gpu in /etc/cdi and /var/run/cdi, no name twice",
		    files, files == 1 ? "" : "s");
	json_decref(seen);
}

/* --- amd-smi ---------------------------------------------------------------------------------- */

/*
 * The ROCm release an `amd-smi version` line names: "AMDSMI Tool: 26.0.2+39589fda | AMDSMI
 * Library version: 26.0.2 | ROCm version: 7.0.2 | amdgpu version: 6.14.14 | ..." (amdsmi
 * CHANGELOG for ROCm 6.3, "amd-smi version"; amdsmi_cli/amdsmi_commands.py: version). "ROCm
 * version: N/A" happens (no /opt/rocm/.info/version): then the tool's own number, 24.6 in
 * ROCm 6.2, 24.7 in 6.3, 25 in 6.4, 26 in 7.0 and later.
 */
static int rocm_release(const char *out, unsigned *ret_major, unsigned *ret_minor)
{
	const char *p = strstr(out, "ROCm version: ");
	unsigned a = 0, b = 0;

	if (p && sscanf(p + 14, "%u.%u", &a, &b) == 2) {
		*ret_major = a;
		*ret_minor = b;
		return 0;
	}
	p = strstr(out, "AMDSMI Tool: ");
	if (!p || sscanf(p + 13, "%u.%u", &a, &b) != 2)
		return -EINVAL;
	if (a == 24 && b <= 6)
		*ret_major = 6, *ret_minor = 2;
	else if (a == 24)
		*ret_major = 6, *ret_minor = 3;
	else if (a == 25)
		*ret_major = 6, *ret_minor = 4;
	else if (a >= 26)
		*ret_major = 7, *ret_minor = 0;
	else
		return -EINVAL;
	return 0;
}

static void check_amdsmi(struct doc *d)
{
	mipart_doctor_check *c = begin(d, "amdsmi.version", "amd-smi is there, of a known family");
	const char *prog = d->o->amdsmi ? d->o->amdsmi : "amd-smi";
	char *argv[] = { (char *)prog, (char *)"version", NULL };
	struct spawn_result res = { 0 };
	unsigned major = 0, minor = 0;
	char show[200];
	int r;

	r = spawn_run(argv, d->o->timeout_ms ? d->o->timeout_ms : 10000, &res);
	if (r == -ENOENT) {
		worsen(c, MIPART_DOCTOR_WARN);
		saw(c, "no amd-smi ('%s' is not installed or not in PATH); mipart itself does not need it",
		    prog);
		fix(c, "install ROCm's amd-smi (package amd-smi-lib), or give its path with --amd-smi");
		return;
	}
	if (r < 0) {
		worsen(c, MIPART_DOCTOR_WARN);
		saw(c, "cannot run '%s version': %s", prog, mipart_strerror(r));
		fix(c, "run '%s version' by hand: it must answer within %u s", prog,
		    (d->o->timeout_ms ? d->o->timeout_ms : 10000) / 1000);
		return;
	}
	/* the first line, shown */
	util_show(res.output, strcspn(res.output, "\n"), 150, show, sizeof(show));
	if (res.status != 0 || rocm_release(res.output, &major, &minor) < 0) {
		worsen(c, MIPART_DOCTOR_WARN);
		saw(c, "'%s version' exited %d and said: %s", prog, res.status, show);
		fix(c, "use an amd-smi of ROCm 6.2 or later (its 'version' names the ROCm release)");
		free(res.output);
		return;
	}
	saw(c, "%s", show);
	/* HARDWARE.md 8.7: the partition commands differ by release (rocm_smi_lib CHANGELOG 6.3,
	 * amdsmi CHANGELOG) */
	if (major < 6 || (major == 6 && minor <= 2))
		saw(c, "ROCm %u.%u family: partitions are reset with 'amd-smi reset --compute-partition/--memory-partition'; 'set -M' records a request",
		    major, minor);
	else if (major == 6)
		saw(c, "ROCm %u.%u family: 'amd-smi set -M' reloads the driver itself (about 40 s); do not reload again after it",
		    major, minor);
	else
		saw(c, "ROCm %u.%u family: 'amd-smi set -M' only records the request; a driver reload applies it",
		    major, minor);
	free(res.output);
}

/* --- declared state, boot, NFD ----------------------------------------------------------------- */

static void check_declared(struct doc *d)
{
	mipart_doctor_check *c = begin(d, "declared.drift",
				       "the GPUs are in the declared layout (mipart apply --persist)");
	mipart_doctor_check *b = begin(d, "declared.boot",
				       "the declared layout is applied at boot (mipart-boot.service enabled)");
	char path[MIPART_PATH_MAX], show[200];
	mipart_config_error err = { 0 };
	mipart_declared *dl = NULL;
	struct stat st;
	int r = mipart_declared_load(d->host, &dl, &err);

	if (r == -ENOENT) {
		saw(c, "nothing declared: drift is not measured (mipart apply --persist -f FILE -c NAME declares a layout)");
		saw(b, "nothing declared: nothing to apply at boot");
		return;
	}
	if (r < 0) {
		worsen(c, MIPART_DOCTOR_FAIL);
		saw(c, "cannot read the declared state %s%s: %s", mipart_host_root(d->host),
		    MIPART_DECLARED_PATH, mipart_strerror(r));
		fix(c, "declare it again: %s apply --persist -f FILE -c NAME", d->self);
		skip(b, "the declared state cannot be read");
		return;
	}
	util_show(mipart_declared_config_name(dl), strlen(mipart_declared_config_name(dl)), 100, show,
		  sizeof(show));
	r = d->topo_err < 0 ? d->topo_err : mipart_declared_in_sync(dl, d->t);
	if (r == 1) {
		saw(c, "every GPU is in the declared config '%s'", show);
	} else if (r == 0) {
		worsen(c, MIPART_DOCTOR_WARN);
		saw(c, "the GPUs have drifted from the declared config '%s' (a change by hand, or a reload that brought AUTO modes)",
		    show);
		fix(c, "%s boot (applies the declared state, journaled)", d->self);
	} else {
		worsen(c, MIPART_DOCTOR_FAIL);
		saw(c, "the declared config '%s' does not resolve on this host: %s", show,
		    mipart_strerror(r));
		fix(c, "declare a config this host has: %s apply --persist -f FILE -c NAME", d->self);
	}
	/* `systemctl enable` links the unit into the target its [Install] WantedBy= names
	 * (deploy/mipart-boot.service: multi-user.target; systemd.unit(5), [Install]) */
	hpath(d, "/etc/systemd/system/multi-user.target.wants/mipart-boot.service", path,
	      sizeof(path));
	if (lstat(path, &st) == 0) {
		saw(b, "mipart-boot.service is enabled (%s)", path);
	} else {
		worsen(b, MIPART_DOCTOR_WARN);
		saw(b, "the config '%s' is declared, but mipart-boot.service is not enabled (no %s): the layout is lost at the next reboot",
		    show, path);
		fix(b, "install deploy/mipart-boot.service as /etc/systemd/system/mipart-boot.service, then: systemctl daemon-reload && systemctl enable mipart-boot");
	}
	mipart_declared_free(dl);
}

/* the lines of a feature file that are not comments */
static bool same_labels(const char *a, const char *b)
{
	for (;;) {
		while (*a == '#')
			a += strcspn(a, "\n") + (a[strcspn(a, "\n")] == '\n');
		while (*b == '#')
			b += strcspn(b, "\n") + (b[strcspn(b, "\n")] == '\n');
		if (!*a || !*b)
			return !*a && !*b;
		if (strcspn(a, "\n") != strcspn(b, "\n") || strncmp(a, b, strcspn(a, "\n")))
			return false;
		a += strcspn(a, "\n");
		b += strcspn(b, "\n");
		if (*a)
			a++;
		if (*b)
			b++;
	}
}

static void check_nfd(struct doc *d)
{
	mipart_doctor_check *c = begin(d, "nfd.labels",
				       "the NFD feature file says what the host has now");
	mipart_label *labels = NULL;
	char path[MIPART_PATH_MAX], *want = NULL, *buf = NULL;
	ssize_t n;
	int r;

	hpath(d, MIPART_LABELS_PATH, path, sizeof(path));
	buf = malloc(64 * 1024 + 1);
	n = buf ? util_read_file(path, buf, 64 * 1024) : -ENOMEM;
	if (n == -ENOENT) {
		skip(c, "no NFD feature file at %s (not a Kubernetes node, or 'mipart labels' not run)",
		     path);
		free(buf);
		return;
	}
	labels = calloc(MIPART_LABELS_MAX, sizeof(*labels));
	r = n < 0 ? (int)n : !labels ? -ENOMEM : d->topo_err < 0 ? d->topo_err : 0;
	if (r == 0)
		r = mipart_labels_for_host(d->host, d->t, labels, MIPART_LABELS_MAX);
	if (r >= 0)
		r = mipart_labels_format_nfd(labels, (size_t)r, &want);
	if (r < 0) {
		worsen(c, MIPART_DOCTOR_FAIL);
		saw(c, "cannot compare %s with the host: %s", path, mipart_strerror(r));
		fix(c, "%s labels", d->self);
	} else if (!same_labels(buf, want)) {
		/* NFD's worker re-reads features.d on its interval; labels lag until then */
		worsen(c, MIPART_DOCTOR_WARN);
		saw(c, "%s is stale: the node's labels do not say what the GPUs are now", path);
		fix(c, "%s labels", d->self);
	} else {
		saw(c, "%s matches the host", path);
	}
	free(want);
	free(labels);
	free(buf);
}

static void check_slurm_gres(struct doc *d)
{
	mipart_doctor_check *c = begin(d, "slurm.gres",
				       "Slurm's gres.conf lists the partitions the host has now");
	mipart_slurm_settings st;
	char msg[256] = "", path[MIPART_PATH_MAX], gres[1024], *want = NULL, *buf = NULL;
	ssize_t n;
	int r = mipart_slurm_settings_load(d->host, &st, msg, sizeof(msg));

	if (r < 0) {
		worsen(c, MIPART_DOCTOR_FAIL);
		saw(c, "cannot read %s: %s", MIPART_SLURM_SETTINGS_PATH,
		    msg[0] ? msg : mipart_strerror(r));
		fix(c, "correct %s (docs/slurm.md)", MIPART_SLURM_SETTINGS_PATH);
		return;
	}
	if (r == 0 || !st.gres_conf[0]) {
		skip(c, "no GresConf in %s (not a Slurm node mipart keeps current)",
		     MIPART_SLURM_SETTINGS_PATH);
		return;
	}
	hpath(d, st.gres_conf, path, sizeof(path));
	buf = malloc(256 * 1024 + 1);
	n = buf ? util_read_file(path, buf, 256 * 1024) : -ENOMEM;
	r = n < 0 ? (int)n : d->topo_err < 0 ? d->topo_err : 0;
	if (r == 0)
		r = mipart_slurm_gres(d->t, d->host, &want, gres, sizeof(gres));
	if (n == -ENOENT) {
		worsen(c, MIPART_DOCTOR_FAIL);
		saw(c, "%s (GresConf) does not exist: slurmd has no GPUs for this node", path);
		fix(c, "%s slurm gres --output %s", d->self, path);
	} else if (r < 0) {
		worsen(c, MIPART_DOCTOR_FAIL);
		saw(c, "cannot compare %s with the host: %s", path, mipart_strerror(r));
		fix(c, "%s slurm gres --output %s", d->self, path);
	} else if (strcmp(buf, want)) {
		/* slurmd reads gres.conf at start and on reconfigure: a stale file hands jobs
		 * render nodes that are not the partitions they asked for */
		worsen(c, MIPART_DOCTOR_WARN);
		saw(c, "%s does not list the partitions the host has now (Gres=%s)", path, gres);
		fix(c, "%s slurm gres --output %s && scontrol reconfigure", d->self, path);
	} else {
		saw(c, "%s matches the host (Gres=%s)", path, gres);
	}
	free(want);
	free(buf);
}

/* What the device plugins registered with the kubelet (kubelet.h): the amd.com devices
 * against the partitions the host has now. */
static void check_device_plugin(struct doc *d)
{
	mipart_doctor_check *c = begin(d, "k8s.device_plugin",
				       "the device plugin advertises one device per partition");
	mipart_kubelet_registry *reg = malloc(sizeof(*reg));
	char path[MIPART_PATH_MAX];
	size_t advertised, partitions;
	int r;

	hpath(d, MIPART_KUBELET_CHECKPOINT, path, sizeof(path));
	r = reg ? mipart_kubelet_registry_load(d->host, reg) : -ENOMEM;
	if (r == -ENOENT) {
		skip(c, "no kubelet device-plugin checkpoint at %s (not a Kubernetes node)", path);
		free(reg);
		return;
	}
	if (r < 0) {
		worsen(c, MIPART_DOCTOR_WARN);
		saw(c, "cannot read %s: %s", path,
		    r == -EINVAL ? "no Data.RegisteredDevices object" : mipart_strerror(r));
		free(reg);
		return;
	}
	advertised = reg->amd_devices;
	free(reg);
	if (!advertised) {
		skip(c, "no amd.com/ resource registered in %s (no AMD device plugin)", path);
		return;
	}
	if (d->topo_err < 0) {
		skip(c, "the GPUs could not be read: %s", mipart_strerror(d->topo_err));
		return;
	}
	partitions = mipart_topology_partition_count(d->t);
	if (advertised != partitions) {
		/* the plugin enumerates at start: one that ran before a change still offers the
		 * old logical devices (ROCm/k8s-device-plugin) */
		worsen(c, MIPART_DOCTOR_WARN);
		saw(c, "the kubelet has %zu amd.com devices registered; the host has %zu partitions now",
		    advertised, partitions);
		fix(c, "restart the device plugin: kubectl -n kube-system delete pod -l name=amdgpu-dp-ds "
		       "(the agent does this after a change)");
	} else {
		saw(c, "%zu amd.com devices registered, one per partition", advertised);
	}
}

/* --- run -------------------------------------------------------------------------------------- */

int mipart_doctor_run(const mipart_host *host, const mipart_doctor_options *o,
		      mipart_doctor_check **ret, size_t *ret_n)
{
	struct doc d = { .host = host, .o = o, .self = o->self ? o->self : "mipart" };

	d.v = calloc(DOCTOR_MAX_CHECKS, sizeof(*d.v));
	if (!d.v)
		return -ENOMEM;
	d.topo_err = mipart_topology_load(host, &d.t);
	check_loaded(&d);
	check_bound(&d);
	check_features(&d);
	check_partt_mode(&d);
	check_permissions(&d);
	check_modes(&d);
	check_hive(&d);
	check_pending(&d);
	check_journal(&d);
	check_units_left(&d);
	check_consumers(&d);
	check_allocations(&d);
	check_cdi(&d);
	check_cdi_duplicates(&d);
	check_amdsmi(&d);
	check_declared(&d);
	check_nfd(&d);
	check_slurm_gres(&d);
	check_device_plugin(&d);
	mipart_topology_free(d.t);
	*ret = d.v;
	*ret_n = d.n;
	return 0;
}

mipart_doctor_check *mipart_doctor_free(mipart_doctor_check *v, size_t n)
{
	(void)n;
	free(v);
	return NULL;
}
