// SPDX-License-Identifier: MIT
/*
 * Readings of GPUs and partitions from the kernel: the binary metrics tables amdgpu exposes
 * (decoded by metrics.c), the VRAM counters, and KFD's per-process VRAM. Every file is read at
 * most once per load. A partition's busy figure comes from its own xcp_metrics when the kernel
 * has them, else from its GPU's gpu_metrics (per-XCP stats in v1.6-v1.8, per-XCC busy in v1.9,
 * the GPU's activity for a GPU in SPX). Sources: the comments and docs/monitoring.md.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mipart/error.h"
#include "mipart/metrics.h"
#include "mipart/readings.h"
#include "discover.h"
#include "util.h"
#include "banned.h"

#define METRICS_FILE_MAX (64 * 1024)
#define DIAG_MAX 64

struct mipart_readings {
	mipart_gpu_reading *gpu;
	size_t n_gpus;
	mipart_partition_reading *part;
	size_t n_parts;
	char *diag[DIAG_MAX];
	size_t n_diag;
};

static void diag(struct mipart_readings *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void diag(struct mipart_readings *r, const char *fmt, ...)
{
	char buf[768];
	va_list ap;

	if (r->n_diag == DIAG_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	r->diag[r->n_diag] = strdup(buf);
	if (r->diag[r->n_diag])
		r->n_diag++;
}

const char *mipart_busy_source_name(mipart_busy_source s)
{
	static const char *const names[] = { "none", "xcp_metrics", "gpu_metrics", "gpu_activity" };

	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "none";
}

/* Read a binary file of the host into buf (METRICS_FILE_MAX + 1 bytes). Length, or -errno. */
static ssize_t read_host_file(const mipart_host *host, const char *abs, char *buf, char *path)
{
	if (mipart_host_path(host, abs, path, MIPART_PATH_MAX) < 0)
		return -ENAMETOOLONG;
	return util_read_file(path, buf, METRICS_FILE_MAX);
}

/* buf holds at least the 4-byte header when the decoder says -EPROTO */
static void parse_error(struct mipart_readings *r, const char *path, int err, const char *what,
			const unsigned char *buf)
{
	if (err == -EPROTO)
		diag(r, "cannot parse '%s': %s v%u.%u not supported", path, what, buf[2], buf[3]);
	else
		diag(r, "cannot parse '%s': %s", path, mipart_strerror(err));
}

/* Position of p in the topology's partition array (mipart_topology_partition order). */
static size_t slot(const mipart_topology *t, const mipart_partition_info *p)
{
	return (size_t)(p - mipart_topology_partition(t, 0));
}

static int mean_valid(const int *v, size_t n)
{
	long sum = 0;
	int k = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i] >= 0) {
			sum += v[i];
			k++;
		}
	return k ? (int)((sum + k / 2) / k) : -1;
}

static int64_t read_u64_file(const mipart_host *host, const char *abs)
{
	char path[MIPART_PATH_MAX], buf[64];
	uint64_t v;
	ssize_t n;

	if (mipart_host_path(host, abs, path, sizeof(path)) < 0)
		return -1;
	n = util_read_file(path, buf, sizeof(buf) - 1);
	if (n <= 0 || util_parse_line_u64(buf, (size_t)n, &v) < 0 || v > (uint64_t)INT64_MAX)
		return -1;
	return (int64_t)v;
}

/* A number from a hwmon file of dir ("temp2_input"), divided by scale; -1 when missing. */
static int hwmon_value(const mipart_host *host, const char *dir, const char *name, uint64_t scale)
{
	char abs[512];
	int64_t v;

	snprintf(abs, sizeof(abs), "%s/%s", dir, name);
	v = read_u64_file(host, abs);
	return v < 0 || (uint64_t)v / scale > INT32_MAX ? -1 : (int)((uint64_t)v / scale);
}

/*
 * hwmon of the GPU, for what gpu_metrics did not give (kernels or products without the table):
 * amdgpu_pm.c, amdgpu_hwmon_attributes, in the hwmon ABI's units. temp2 is the junction
 * (hotspot) and temp3 the HBM temperature, in millidegrees; power1_input (MI300-class) or
 * power1_average (older dGPUs) in microwatts; freq1 (sclk) and freq2 (mclk) in hertz.
 */
static void read_hwmon(const mipart_host *host, const mipart_gpu_info *g, mipart_gpu_reading *gr)
{
	char rel[128], path[MIPART_PATH_MAX], dir[256];
	DIR *d;
	int v;

	snprintf(rel, sizeof(rel), SYSFS_PCI_DEVICES "/%s/hwmon", g->bdf);
	if (mipart_host_path(host, rel, path, sizeof(path)) < 0 || !(d = opendir(path)))
		return;
	dir[0] = '\0';
	for (struct dirent *de; (de = readdir(d));)
		if (!strncmp(de->d_name, "hwmon", 5) && strlen(de->d_name) < 16) {
			snprintf(dir, sizeof(dir), "%s/%.15s", rel, de->d_name);
			break;
		}
	closedir(d);
	if (!dir[0])
		return;
	if (gr->temp_hotspot_c < 0)
		gr->temp_hotspot_c = hwmon_value(host, dir, "temp2_input", 1000);
	if (gr->temp_mem_c < 0)
		gr->temp_mem_c = hwmon_value(host, dir, "temp3_input", 1000);
	if (gr->power_w < 0) {
		v = hwmon_value(host, dir, "power1_input", 1000000);
		gr->power_w = v >= 0 ? v : hwmon_value(host, dir, "power1_average", 1000000);
	}
	if (gr->gfxclk_mhz < 0)
		gr->gfxclk_mhz = hwmon_value(host, dir, "freq1_input", 1000000);
	if (gr->uclk_mhz < 0)
		gr->uclk_mhz = hwmon_value(host, dir, "freq2_input", 1000000);
}

/* gpu_metrics of one GPU: amdgpu_pm.c, amdgpu_get_gpu_metrics (0444, the whole table). */
static void read_gpu(struct mipart_readings *r, const mipart_host *host,
		     const mipart_topology *t, const mipart_gpu_info *g, char *buf)
{
	mipart_gpu_reading *gr = &r->gpu[g->index];
	char abs[256], path[MIPART_PATH_MAX];
	mipart_gpu_metrics m;
	ssize_t n;
	int e;

	gr->vram_total_bytes = g->memory_bytes;
	/* amdgpu_vram_mgr.c: amdgpu_mem_info_vram_used_show, "%llu\n" */
	snprintf(abs, sizeof(abs), SYSFS_PCI_DEVICES "/%s/mem_info_vram_used", g->bdf);
	gr->vram_used_bytes = read_u64_file(host, abs);
	if (gr->vram_used_bytes < 0 && g->n_partitions) {
		/* KFD used_memory follows the whole device (amdgpu_amdkfd_get_vram_usage) */
		const mipart_partition_info *p = mipart_topology_gpu_partition(t, g, 0);

		if (p && p->kfd_node >= 0) {
			snprintf(abs, sizeof(abs), SYSFS_KFD_TOPOLOGY "/nodes/%d/mem_banks/0/used_memory",
				 p->kfd_node);
			gr->vram_used_bytes = read_u64_file(host, abs);
		}
	}
	snprintf(abs, sizeof(abs), SYSFS_PCI_DEVICES "/%s/gpu_metrics", g->bdf);
	n = read_host_file(host, abs, buf, path);
	if (n < 0) {
		if (n != -ENOENT && n != -ENODATA && n != -EOPNOTSUPP)
			diag(r, "cannot read '%s': %s", path, mipart_strerror((int)n));
		return;
	}
	e = mipart_gpu_metrics_parse(buf, (size_t)n, &m);
	if (e < 0) {
		parse_error(r, path, e, "gpu_metrics", (const unsigned char *)buf);
		return;
	}
	snprintf(gr->metrics, sizeof(gr->metrics), "gpu_metrics v%u.%u", m.format_revision,
		 m.content_revision);
	gr->power_w = m.socket_power_w;
	gr->temp_hotspot_c = m.temperature_hotspot_c;
	gr->temp_mem_c = m.temperature_mem_c;
	gr->gfx_activity_pct = m.gfx_activity_pct;
	gr->umc_activity_pct = m.umc_activity_pct;
	gr->gfxclk_mhz = mean_valid(m.gfxclk_mhz, MIPART_METRICS_XCC_MAX);
	gr->uclk_mhz = m.uclk_mhz;
	for (size_t j = 0; j < g->n_partitions; j++) {
		const mipart_partition_info *p = mipart_topology_gpu_partition(t, g, j);
		mipart_partition_reading *pr;
		int busy;

		if (!p || p->xcp < 0 || p->xcp >= MIPART_METRICS_XCP_MAX)
			continue;
		pr = &r->part[slot(t, p)];
		busy = m.num_partition > 0 ? mipart_gpu_metrics_xcp_busy(&m, (unsigned)p->xcp) : -1;
		if (busy < 0 && p->num_xcc > 0 && g->num_xcc > 0) {
			/* v1.9: busy per XCC of the GPU; partition x has XCCs x*n .. x*n+n-1
			 * (aqua_vanjaram.c: XCP_INST_MASK) */
			int v[MIPART_METRICS_XCC_MAX];
			unsigned per = (unsigned)p->num_xcc, first = (unsigned)p->xcp * per;

			for (unsigned k = 0; k < MIPART_METRICS_XCC_MAX; k++)
				v[k] = k >= first && k < first + per && m.gfx_busy_pct[k] >= 0 ?
					       (m.gfx_busy_pct[k] > 100 ? 100 : m.gfx_busy_pct[k]) : -1;
			busy = mean_valid(v, MIPART_METRICS_XCC_MAX);
		}
		if (busy >= 0) {
			pr->busy_pct = busy;
			pr->busy_source = MIPART_BUSY_GPU_METRICS;
		} else if (g->n_partitions == 1 && m.gfx_activity_pct >= 0) {
			pr->busy_pct = m.gfx_activity_pct > 100 ? 100 : m.gfx_activity_pct;
			pr->busy_source = MIPART_BUSY_GPU_ACTIVITY;
		}
		pr->gfxclk_mhz = gr->gfxclk_mhz;
	}
}

/* xcp/xcp_metrics of a partition whose busy figure the GPU's table did not give:
 * amdgpu_xcp.c, xcp_metrics_show; under the partition's DRM parent device. */
static void read_xcp(struct mipart_readings *r, const mipart_host *host,
		     const mipart_topology *t, const mipart_partition_info *p, char *buf)
{
	mipart_partition_reading *pr = &r->part[slot(t, p)];
	char abs[256], path[MIPART_PATH_MAX];
	mipart_xcp_metrics m;
	ssize_t n;
	int e;

	if (!p->drm_device[0] || strchr(p->drm_device, '/'))
		return;
	if (!strncmp(p->drm_device, "amdgpu_xcp", 10))
		snprintf(abs, sizeof(abs), "/sys/devices/platform/%s/xcp/xcp_metrics", p->drm_device);
	else
		snprintf(abs, sizeof(abs), SYSFS_PCI_DEVICES "/%s/xcp/xcp_metrics", p->drm_device);
	n = read_host_file(host, abs, buf, path);
	if (n < 0) {
		if (n != -ENOENT && n != -ENODATA && n != -EOPNOTSUPP)
			diag(r, "cannot read '%s': %s", path, mipart_strerror((int)n));
		return;
	}
	e = mipart_xcp_metrics_parse(buf, (size_t)n, &m);
	if (e < 0) {
		parse_error(r, path, e, "xcp_metrics", (const unsigned char *)buf);
		return;
	}
	/* a table without a valid figure leaves the GPU table's one */
	if (mipart_xcp_metrics_busy(&m) >= 0) {
		pr->busy_pct = mipart_xcp_metrics_busy(&m);
		pr->busy_source = MIPART_BUSY_XCP_METRICS;
	}
	if (mean_valid(m.gfxclk_mhz, MIPART_METRICS_XCC_MAX) >= 0)
		pr->gfxclk_mhz = mean_valid(m.gfxclk_mhz, MIPART_METRICS_XCC_MAX);
}

/* KFD's per-process VRAM: /sys/class/kfd/kfd/proc/<pid>/vram_<gpu_id> (kfd_process.c:
 * kfd_procfs_show, pdd->vram_usage, bytes), one file per node the process opened. */
static void read_kfd_procs(struct mipart_readings *r, const mipart_host *host,
			   const mipart_topology *t)
{
	char path[MIPART_PATH_MAX];
	DIR *d;

	if (mipart_host_path(host, SYSFS_KFD_PROC, path, sizeof(path)) < 0)
		return;
	d = opendir(path);
	if (!d)
		return;
	for (size_t i = 0; i < r->n_parts; i++)
		r->part[i].vram_used_bytes = 0;
	for (struct dirent *de; (de = readdir(d));) {
		DIR *pd;

		if (!(de->d_name[0] >= '0' && de->d_name[0] <= '9'))
			continue;
		pd = util_opendirat(dirfd(d), de->d_name);
		if (!pd)
			continue;
		for (struct dirent *fe; (fe = readdir(pd));) {
			char val[64];
			uint64_t id, bytes;
			ssize_t n;

			if (strncmp(fe->d_name, "vram_", 5) ||
			    util_parse_u64(fe->d_name + 5, strlen(fe->d_name + 5), &id) < 0)
				continue;
			n = util_read_fileat(dirfd(pd), fe->d_name, val, sizeof(val) - 1);
			if (n <= 0 || util_parse_line_u64(val, (size_t)n, &bytes) < 0)
				continue;
			for (size_t i = 0; i < r->n_parts; i++) {
				const mipart_partition_info *p = mipart_topology_partition(t, i);

				if (p && p->gpu_id >= 0 && (uint64_t)p->gpu_id == id) {
					int64_t *sum = &r->part[i].vram_used_bytes;

					/* saturate: the kernel's counter is 64 bits */
					*sum = bytes > (uint64_t)(INT64_MAX - *sum) ? INT64_MAX
										     : *sum + (int64_t)bytes;
					r->part[i].processes++;
					break;
				}
			}
		}
		closedir(pd);
	}
	closedir(d);
}

int mipart_readings_load(const mipart_host *host, const mipart_topology *t, mipart_readings **ret)
{
	struct mipart_readings *r = calloc(1, sizeof(*r));
	char *buf = NULL;

	if (!r)
		return -ENOMEM;
	r->n_gpus = mipart_topology_gpu_count(t);
	r->n_parts = mipart_topology_partition_count(t);
	r->gpu = calloc(r->n_gpus ? r->n_gpus : 1, sizeof(*r->gpu));
	r->part = calloc(r->n_parts ? r->n_parts : 1, sizeof(*r->part));
	buf = malloc(METRICS_FILE_MAX + 1);
	if (!r->gpu || !r->part || !buf) {
		free(buf);
		mipart_readings_free(r);
		return -ENOMEM;
	}
	for (size_t i = 0; i < r->n_gpus; i++) {
		mipart_gpu_reading *g = &r->gpu[i];

		g->power_w = g->temp_hotspot_c = g->temp_mem_c = -1;
		g->gfx_activity_pct = g->umc_activity_pct = g->gfxclk_mhz = g->uclk_mhz = -1;
		g->vram_used_bytes = g->vram_total_bytes = -1;
	}
	for (size_t i = 0; i < r->n_parts; i++) {
		r->part[i].busy_pct = -1;
		r->part[i].gfxclk_mhz = -1;
		r->part[i].vram_used_bytes = -1;
	}
	for (size_t i = 0; i < r->n_gpus; i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(t, i);

		if (!g || g->vendor_id != 0x1002 || !g->driver_bound)
			continue;
		read_gpu(r, host, t, g, buf);
		read_hwmon(host, g, &r->gpu[g->index]);
		for (size_t j = 0; j < g->n_partitions; j++) {
			const mipart_partition_info *p = mipart_topology_gpu_partition(t, g, j);

			/* the partition's own table first; the GPU's figures stay when it has
			 * none (kernels before xcp_metrics) */
			if (p && g->partitioning)
				read_xcp(r, host, t, p, buf);
		}
	}
	read_kfd_procs(r, host, t);
	free(buf);
	*ret = r;
	return 0;
}

mipart_readings *mipart_readings_free(mipart_readings *r)
{
	if (!r)
		return NULL;
	for (size_t i = 0; i < r->n_diag; i++)
		free(r->diag[i]);
	free(r->gpu);
	free(r->part);
	free(r);
	return NULL;
}

const mipart_gpu_reading *mipart_readings_gpu(const mipart_readings *r, size_t gpu)
{
	return r && gpu < r->n_gpus ? &r->gpu[gpu] : NULL;
}

const mipart_partition_reading *mipart_readings_partition(const mipart_readings *r, size_t index)
{
	return r && index < r->n_parts ? &r->part[index] : NULL;
}

size_t mipart_readings_diag_count(const mipart_readings *r)
{
	return r ? r->n_diag : 0;
}

const char *mipart_readings_diag(const mipart_readings *r, size_t i)
{
	return r && i < r->n_diag ? r->diag[i] : NULL;
}
