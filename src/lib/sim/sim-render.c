// SPDX-License-Identifier: MIT
/*
 * Renders a simulated host from the simulated driver's state: the files and links the real
 * kernel shows, in the kernel's formats and with the kernel's file modes. Formats and sources:
 * ../shared/HARDWARE.md and docs/simulator.md.
 *
 * A render is published atomically: the root holds two whole trees, .sim-a and .sim-b, and
 * the link .sim-live names the one readers see (sys, dev and proc of the root are links
 * through it). A render writes the hidden tree, in place, with what that tree lacks (the
 * state keeps what each tree lacks, sim_state.stale), then switches .sim-live to it with one
 * rename(2). A reader sees the old tree or the new one, whole; a render killed half-way leaves
 * the hidden tree half-written, and the next step writes it again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "mipart/metrics.h"
#include "mipart/product.h"
#include "kfd.h"
#include "metrics.h"
#include "sim.h"
#include "util.h"
#include "banned.h"

#define PAGE_SIZE 4096u
#define ALIGN_DOWN(x, a) ((x) / (a) * (a))

struct render {
	const char *dir;	/* the tree being written: <root>/.sim-a or <root>/.sim-b */
	const struct sim_state *s;
	int err;
	unsigned gpu_id[SIM_MAX_GPUS][8];
	unsigned used_ids[SIM_MAX_GPUS * 8];
};

static const char *const tree_names[2] = { ".sim-a", ".sim-b" };
#define TREE_LIVE ".sim-live"

static void put(struct render *R, unsigned mode, const char *rel, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The process's umask (from /proc/self/status: umask(2) cannot read it without setting it, and
 * other threads create files), or -1 when unknown. */
static int process_umask(void)
{
	static int cached = -2;
	char buf[2048];
	ssize_t n;

	if (cached != -2)
		return cached;
	cached = -1;
	n = util_read_file("/proc/self/status", buf, sizeof(buf) - 1);
	if (n > 0) {
		const char *u;

		buf[n] = '\0';
		u = strstr(buf, "\nUmask:\t");
		if (u) {
			unsigned v = 0;

			for (u += 8; *u >= '0' && *u <= '7'; u++)
				v = v * 8 + (unsigned)(*u - '0');
			cached = (int)(v & 0777);
		}
	}
	return cached;
}

/* Write a file of the hidden tree in place: no reader looks at it until the switch, so no
 * temporary and no rename per file. An existing regular file is truncated and keeps its mode
 * (each path's mode is fixed); anything else in the way is removed first. -ENOENT when the
 * directory is missing. */
static int write_inplace(const char *path, const void *data, size_t len, unsigned mode)
{
	/* O_NOFOLLOW: a link in the way fails (ELOOP); a directory fails with EISDIR */
	int fd = open(path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	bool created = false;
	ssize_t w;
	int r = 0;

	if (fd < 0) {
		/* not there, or not a writable regular file (a reader's 0444 file when not
		 * root, a directory or link left by hand): make it anew */
		if (errno != ENOENT && (r = util_rm_rf(path)) < 0)
			return r;
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd < 0)
			return -errno;
		created = true;
	}
	w = write(fd, data, len);
	if (w < 0)
		r = -errno;
	else if ((size_t)w != len)
		r = -EIO;
	/* the mode whatever the umask */
	if (r == 0 && created && (process_umask() < 0 || (mode & (unsigned)process_umask())) &&
	    fchmod(fd, mode) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Write <dir>/<rel> (and its directory) with len bytes; remembers the first error. */
static void put_bytes(struct render *R, unsigned mode, const char *rel, const void *data,
		      size_t len)
{
	char path[4096];
	int r;

	if (R->err)
		return;
	if (util_pathf(path, sizeof(path), "%s/%s", R->dir, rel) < 0) {
		R->err = -ENAMETOOLONG;
		return;
	}
	r = write_inplace(path, data, len, mode);
	if (r == -ENOENT) {
		char *slash = strrchr(path, '/');

		*slash = '\0';
		r = util_mkdir_p(path);
		*slash = '/';
		if (r == 0)
			r = write_inplace(path, data, len, mode);
	}
	if (r < 0)
		R->err = r;
}

/* Write <dir>/<rel> with printf content; remembers the first error. */
static void put(struct render *R, unsigned mode, const char *rel, const char *fmt, ...)
{
	char data[8192];
	va_list ap;
	int n;

	if (R->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(data, sizeof(data), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(data)) {
		R->err = -ENAMETOOLONG;
		return;
	}
	put_bytes(R, mode, rel, data, (size_t)n);
}

static void mkdirs(struct render *R, const char *rel)
{
	char path[4096];
	int r;

	if (R->err)
		return;
	if (util_pathf(path, sizeof(path), "%s/%s", R->dir, rel) < 0) {
		R->err = -ENAMETOOLONG;
		return;
	}
	r = util_mkdir_p(path);
	if (r < 0)
		R->err = r;
}

/* Symlink <dir>/<rel> -> target (relative, so the tree can move); left alone when it is
 * that link already. */
static void link_to(struct render *R, const char *rel, const char *target)
{
	char path[4096], cur[512];
	size_t len = strlen(target);
	ssize_t n;

	if (R->err)
		return;
	if (util_pathf(path, sizeof(path), "%s/%s", R->dir, rel) < 0) {
		R->err = -ENAMETOOLONG;
		return;
	}
	n = readlink(path, cur, sizeof(cur));
	if (n >= 0 && (size_t)n == len && !memcmp(cur, target, len))
		return;
	if (n >= 0 || errno != ENOENT)
		util_rm_rf(path);
	if (symlink(target, path) == 0)
		return;
	if (errno == ENOENT) {
		char *slash = strrchr(path, '/');

		*slash = '\0';
		util_mkdir_p(path);
		*slash = '/';
		if (symlink(target, path) == 0)
			return;
	}
	R->err = -errno;
}

static void rm(struct render *R, const char *rel)
{
	char path[4096];
	int r;

	if (R->err || util_pathf(path, sizeof(path), "%s/%s", R->dir, rel) < 0)
		return;
	r = util_rm_rf(path);
	if (r < 0)
		R->err = r;
}

static void relf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void relf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

static unsigned bus_of(const char *bdf)
{
	unsigned d, b, dev, fn;

	return sscanf(bdf, "%x:%x:%x.%x", &d, &b, &dev, &fn) == 4 ? b : 0;
}

static unsigned domain_of(const char *bdf)
{
	unsigned d, b, dev, fn;

	return sscanf(bdf, "%x:%x:%x.%x", &d, &b, &dev, &fn) == 4 ? d : 0;
}

/* sysfs directory of a GPU's PCI device, relative to the root */
static void pci_dir(char *buf, size_t size, const struct sim_gpu *g)
{
	unsigned bus = bus_of(g->bdf), rb = bus & ~0x1fu, dom = domain_of(g->bdf);

	relf(buf, size, "sys/devices/pci%04x:%02x/%04x:%02x:01.1/%s", dom, rb, dom, rb, g->bdf);
}

unsigned sim_partitions(const struct sim_state *s, unsigned i)
{
	unsigned n;

	if (!s->product->partitioning)
		return 1;
	n = mipart_compute_mode_partitions(s->gpu[i].compute, s->product->num_xcc);
	return n ? n : 1;
}

/*
 * amdgpu_amdkfd.c: amdgpu_amdkfd_xcp_memory_size: a partition gets its memory partition's size
 * divided by the XCPs that share it, aligned down to a page. An APU in NPS1 uses the TTM page
 * limit (half of system memory by default) instead of the HBM size.
 */
uint64_t sim_partition_memory(const struct sim_state *s, unsigned i, unsigned x)
{
	const struct product *p = s->product;
	unsigned nmp = p->apu ? 1 : mipart_memory_mode_partitions(s->gpu[i].memory, false);

	return product_partition_bytes(p, sim_partitions(s, i), nmp ? nmp : 1, x,
				       s->gpu[i].alloc_all_kfd);
}

/*
 * drm_drv.c: drm_minor_alloc: the legacy ranges first (primary 0..63, render 128..191), then,
 * once a range is full, the extended range from DRM_EXTENDED_MINOR_LIMIT (192) shared by all
 * minor types, handed out in allocation order (render before primary in drm_dev_init), so
 * hosts with more than 64 DRM devices get render minors past 191 (HARDWARE.md 8.12).
 */
unsigned sim_render_minor(unsigned d)
{
	return d < 64 ? 128 + d : 192 + 2 * (d - 64);
}

unsigned sim_card_minor(unsigned d)
{
	return d < 64 ? d : 192 + 2 * (d - 64) + 1;
}

/* Render minor numbering: DRM minors are handed out in probe order, the PCI device first, then
 * its seven amdgpu_xcp devices (amdgpu_xcp.c: amdgpu_xcp_dev_alloc). Products without an XCP
 * manager get one minor each. */
static unsigned minors_per_gpu(const struct sim_state *s)
{
	return s->product->partitioning ? 8 : 1;
}

static unsigned render_minor(const struct sim_state *s, unsigned gpu, unsigned xcp)
{
	return sim_render_minor(gpu * minors_per_gpu(s) + xcp);
}

static unsigned card_minor(const struct sim_state *s, unsigned gpu, unsigned xcp)
{
	return sim_card_minor(gpu * minors_per_gpu(s) + xcp);
}

static void xcp_name(char *buf, size_t size, const struct sim_state *s, unsigned gpu, unsigned xcp)
{
	/* module-global slot table: GPU0 -> 0..6, GPU1 -> 7..13 (amdgpu_xcp_drv.c) */
	relf(buf, size, s->legacy_names ? "amdgpu_xcp.%u" : "amdgpu_xcp_%u", gpu * 7 + xcp - 1);
}

/* KFD gpu_id: a hash of the node's properties (kfd_topology.c: kfd_generate_gpu_id), 16 bits
 * here as in the captures; never 0 (0 marks a CPU node); unique on the host. */
static void assign_gpu_ids(struct render *R)
{
	const struct sim_state *s = R->s;
	unsigned n = 0;

	for (unsigned g = 0; g < s->n_gpus; g++)
		for (unsigned x = 0; x < sim_partitions(s, g); x++) {
			uint64_t h = util_hash64(s->gpu[g].bdf, (uint64_t)x * 31 + (uint64_t)s->gpu[g].compute + 7);
			unsigned id = (unsigned)(h % 65521) + 1;

			for (bool clash = true; clash;) {
				clash = false;
				for (unsigned k = 0; k < n; k++)
					if (R->used_ids[k] == id) {
						id = id % 65535 + 1;
						clash = true;
					}
			}
			R->gpu_id[g][x] = id;
			R->used_ids[n++] = id;
		}
}

static void render_pci_static(struct render *R, unsigned i)
{
	const struct sim_gpu *g = &R->s->gpu[i];
	const struct product *p = R->s->product;
	char dir[256], rel[512], target[512];

	pci_dir(dir, sizeof(dir), g);
	/* pci-sysfs.c formats */
	relf(rel, sizeof(rel), "%s/vendor", dir);
	put(R, 0444, rel, "0x%04x\n", 0x1002);
	relf(rel, sizeof(rel), "%s/device", dir);
	put(R, 0444, rel, "0x%04x\n", p->device_id);
	relf(rel, sizeof(rel), "%s/subsystem_vendor", dir);
	put(R, 0444, rel, "0x%04x\n", 0x1002);
	relf(rel, sizeof(rel), "%s/subsystem_device", dir);
	put(R, 0444, rel, "0x%04x\n", 0x0c34);
	relf(rel, sizeof(rel), "%s/class", dir);
	put(R, 0444, rel, "0x%06x\n", p->pci_class);
	relf(rel, sizeof(rel), "%s/revision", dir);
	put(R, 0444, rel, "0x%02x\n", 0);
	relf(rel, sizeof(rel), "%s/numa_node", dir);
	put(R, 0444, rel, "%d\n", g->numa);
	relf(rel, sizeof(rel), "sys/bus/pci/devices/%s", g->bdf);
	relf(target, sizeof(target), "../../../%s", dir + 4);
	link_to(R, rel, target);
}

static const char *const driver_files[] = {
	"driver", "drm", "current_compute_partition", "available_compute_partition",
	"current_memory_partition", "available_memory_partition", "compute_partition_config",
	"compute_partition_mem_alloc_mode",
	"mem_info_vram_total", "mem_info_vram_used", "unique_id", "xgmi_hive_info", "xcp",
	"gpu_metrics", "hwmon", "serial_number",
};

/* compute_partition_config/ for the selected xcp_config (amdgpu_xcp.c:
 * amdgpu_xcp_cfg_sysfs_init; aqua_vanjaram.c: aqua_vanjaram_get_xcp_res_info) */
static void render_xcp_config(struct render *R, unsigned i, const char *dir)
{
	const struct sim_state *s = R->s;
	const struct product *p = s->product;
	mipart_compute_mode sel = s->gpu[i].xcp_config;
	unsigned nxcp = mipart_compute_mode_partitions(sel, p->num_xcc);
	static const char *const res[] = { "xcc", "dma", "dec", "jpeg" };
	const unsigned max[] = { p->num_xcc, 2 * p->num_xcc, 4, 4 };
	mipart_mode_set nps = mipart_memory_modes_for_compute(sel, p->gfx_target) & p->memory_modes;
	char rel[512], list[128];

	mipart_compute_modes_format(mipart_compute_modes_supported(p->num_xcc), list, sizeof(list));
	relf(rel, sizeof(rel), "%s/compute_partition_config/supported_xcp_configs", dir);
	put(R, 0444, rel, "%s\n", list);
	if (p->memory_modes) {
		mipart_memory_modes_format(nps, list, sizeof(list));
		relf(rel, sizeof(rel), "%s/compute_partition_config/supported_nps_configs", dir);
		put(R, 0444, rel, "%s\n", nps ? list : "Not supported");
	}
	relf(rel, sizeof(rel), "%s/compute_partition_config/xcp_config", dir);
	put(R, 0644, rel, "%s\n", mipart_compute_mode_name(sel));
	for (unsigned k = 0; k < ARRAY_SIZE(res) && nxcp; k++) {
		unsigned inst = max[k] < nxcp ? 1 : max[k] / nxcp;
		unsigned shared = max[k] < nxcp ? nxcp / max[k] : 1;

		if (k == 3)
			inst *= 8; /* adev->jpeg.num_jpeg_rings */
		relf(rel, sizeof(rel), "%s/compute_partition_config/%s/num_inst", dir, res[k]);
		put(R, 0400, rel, "%u\n", inst);
		relf(rel, sizeof(rel), "%s/compute_partition_config/%s/num_shared", dir, res[k]);
		put(R, 0400, rel, "%u\n", shared);
	}
}

static void render_drm_node(struct render *R, const char *parent_rel, const char *kind,
			    unsigned minor)
{
	char rel[512], target[512];

	relf(rel, sizeof(rel), "%s/drm/%s%u/dev", parent_rel, kind, minor);
	put(R, 0444, rel, "226:%u\n", minor);
	relf(rel, sizeof(rel), "sys/class/drm/%s%u", kind, minor);
	relf(target, sizeof(target), "../../%s/drm/%s%u", parent_rel + 4, kind, minor);
	link_to(R, rel, target);
	relf(rel, sizeof(rel), "dev/dri/%s%u", kind, minor);
	if (R->s->device_nodes) {
		/* drm_drv.c: DRM_MAJOR 226, minor as in sysfs; what udev creates, so that tools that
		 * need a device (Slurm's gres.conf File=) take the simulated node */
		char path[4096];

		if (R->err || util_pathf(path, sizeof(path), "%s/%s", R->dir, rel) < 0)
			return;
		if (unlink(path) < 0 && errno != ENOENT)
			R->err = -errno;
		else if (mknod(path, S_IFCHR | 0666, makedev(226, minor)) < 0)
			R->err = -errno;
		else if (chmod(path, 0666) < 0) /* past the umask */
			R->err = -errno;
		return;
	}
	put(R, 0666, rel, "%s", "");
}

/* The partition attribute files of one GPU: what a mode switch changes. */
static void render_pci_modes(struct render *R, unsigned i)
{
	const struct sim_state *s = R->s;
	const struct sim_gpu *g = &s->gpu[i];
	const struct product *p = s->product;
	char dir[256], rel[512], list[128];

	pci_dir(dir, sizeof(dir), g);
	if (!s->loaded || !p->partitioning)
		return;
	/* the files are written over in place: which ones exist depends on the product only */
	/* amdgpu_gfx.c: amdgpu_gfx_get_current_compute_partition, "%s\n" */
	relf(rel, sizeof(rel), "%s/current_compute_partition", dir);
	/* a VF has no switch_partition_mode hook: 0444 and no available_compute_partition
	 * (amdgpu_gfx.c: amdgpu_gfx_sysfs_xcp_init) */
	put(R, p->vf ? 0444 : 0644, rel, "%s\n", mipart_compute_mode_name(g->compute));
	/* a compute switch changes nothing else here: not the memory mode, the modes it allows,
	 * the allocation mode, nor xcp_config (HARDWARE.md 8.5) */
	if ((s->render & SIM_RENDER_SWITCH) && !(s->render & SIM_RENDER_ALL))
		return;
	/* amdgpu_gfx.c (DKMS): compute_partition_mem_alloc_mode_show, "CAPPING\n" or "ALL\n" */
	relf(rel, sizeof(rel), "%s/compute_partition_mem_alloc_mode", dir);
	put(R, 0644, rel, "%s\n", g->alloc_all ? "ALL" : "CAPPING");
	{
		mipart_mode_set avail = 0;

		for (int m = 0; m < MIPART_COMPUTE_MODE_COUNT; m++)
			if (mipart_mode_pair_valid((mipart_compute_mode)m, g->memory, p->num_xcc,
						   p->gfx_target))
				avail |= MIPART_MODE_BIT(m);
		mipart_compute_modes_format(avail, list, sizeof(list));
		/* amdgpu_gfx_get_available_compute_partition: "Not supported" when empty */
		relf(rel, sizeof(rel), "%s/available_compute_partition", dir);
		if (!p->vf)
			put(R, 0444, rel, "%s\n", avail ? list : "Not supported");
	}
	/* amdgpu_gmc.c: current_memory_partition_show; 0644 only with more than one NPS mode,
	 * available_memory_partition only then (amdgpu_gmc_sysfs_init) */
	relf(rel, sizeof(rel), "%s/current_memory_partition", dir);
	put(R, __builtin_popcount(p->memory_modes) > 1 ? 0644 : 0444, rel, "%s\n",
	    mipart_memory_mode_name(g->memory));
	if (__builtin_popcount(p->memory_modes) > 1) {
		mipart_memory_modes_format(p->memory_modes, list, sizeof(list));
		relf(rel, sizeof(rel), "%s/available_memory_partition", dir);
		put(R, 0444, rel, "%s\n", list);
	}
	render_xcp_config(R, i, dir);
}

static uint64_t gpu_vram_used(const struct sim_state *s, unsigned gpu)
{
	uint64_t sum = 0;

	for (unsigned x = 0; x < sim_partitions(s, gpu); x++)
		sum += s->gpu[gpu].vram[x];
	return sum;
}

static void render_pci_driver(struct render *R, unsigned i)
{
	const struct sim_state *s = R->s;
	const struct sim_gpu *g = &s->gpu[i];

	char dir[256], rel[512];
	uint64_t vram = 0;

	pci_dir(dir, sizeof(dir), g);
	for (size_t k = 0; k < ARRAY_SIZE(driver_files); k++) {
		relf(rel, sizeof(rel), "%s/%s", dir, driver_files[k]);
		rm(R, rel);
	}
	if (!s->loaded)
		return;
	relf(rel, sizeof(rel), "%s/driver", dir);
	link_to(R, rel, "../../../../bus/pci/drivers/amdgpu");
	relf(rel, sizeof(rel), "sys/bus/pci/drivers/amdgpu/%s", g->bdf);
	{
		char target[512];

		relf(target, sizeof(target), "../../../../%s", dir + 4);
		link_to(R, rel, target);
	}
	render_drm_node(R, dir, "card", card_minor(s, i, 0));
	render_drm_node(R, dir, "renderD", render_minor(s, i, 0));

	/* amdgpu_vram_mgr.c: amdgpu_mem_info_vram_total_show: real_vram_size; an APU's
	 * partitions share the TTM limit (their sum here: unconfirmed, HARDWARE.md 8) */
	if (s->product->apu)
		for (unsigned x = 0; x < sim_partitions(s, i); x++)
			vram += sim_partition_memory(s, i, x);
	else
		vram = product_vram(s->product);
	relf(rel, sizeof(rel), "%s/mem_info_vram_total", dir);
	put(R, 0444, rel, "%llu\n", (unsigned long long)vram);
	relf(rel, sizeof(rel), "%s/mem_info_vram_used", dir);
	put(R, 0444, rel, "%llu\n", (unsigned long long)gpu_vram_used(s, i));
	/* amdgpu_pm.c: unique_id_show, "%016llx\n" */
	relf(rel, sizeof(rel), "%s/unique_id", dir);
	put(R, 0444, rel, "%016llx\n", (unsigned long long)g->unique_id);
	/* amdgpu_fru_eeprom.c: amdgpu_fru_serial_number_show, "%s\n" of the board's FRU serial;
	 * the simulator makes one from the unique id (docs/simulator.md) */
	relf(rel, sizeof(rel), "%s/serial_number", dir);
	put(R, 0444, rel, "SIM%013llX\n", (unsigned long long)(g->unique_id & 0xfffffffffffffull));
	if (s->hive_id) {
		/* amdgpu_xgmi.c: amdgpu_xgmi_show_hive_id, "%llu\n" */
		relf(rel, sizeof(rel), "%s/xgmi_hive_info/xgmi_hive_id", dir);
		put(R, 0444, rel, "%llu\n", (unsigned long long)s->hive_id);
	}
	render_pci_modes(R, i);
}

/* amdgpu_xcp platform devices: seven per GPU, whatever the mode (amdgpu_xcp_dev_alloc) */
static void render_platform(struct render *R)
{
	const struct sim_state *s = R->s;
	char rel[512], target[512], name[64];

	rm(R, "sys/devices/platform");
	rm(R, "sys/bus/platform/devices");
	mkdirs(R, "sys/devices/platform");
	mkdirs(R, "sys/bus/platform/devices");
	if (!s->loaded || !s->product->partitioning)
		return;
	for (unsigned i = 0; i < s->n_gpus; i++)
		for (unsigned x = 1; x < 8; x++) {
			xcp_name(name, sizeof(name), s, i, x);
			relf(rel, sizeof(rel), "sys/devices/platform/%s", name);
			render_drm_node(R, rel, "card", card_minor(s, i, x));
			render_drm_node(R, rel, "renderD", render_minor(s, i, x));
			relf(rel, sizeof(rel), "sys/devices/platform/%s/uevent", name);
			put(R, 0644, rel, "DRIVER=amdgpu_xcp_drv\nMODALIAS=platform:%s\n", name);
			relf(rel, sizeof(rel), "sys/bus/platform/devices/%s", name);
			relf(target, sizeof(target), "../../../devices/platform/%s", name);
			link_to(R, rel, target);
		}
}

/* The value of each KFD node key for a GPU partition; kfd_topology.c: node_show. */
static void gpu_node_values(const struct sim_state *s, unsigned gpu, unsigned xcp, unsigned node,
			    uint64_t *v)
{
	const struct product *p = s->product;
	const struct sim_gpu *g = &s->gpu[gpu];
	unsigned nparts = sim_partitions(s, gpu);
	unsigned xcc = p->partitioning ? p->num_xcc / nparts : 1;
	unsigned bus = bus_of(g->bdf), devfn = 0;

	memset(v, 0, KFD_NODE_KEY_COUNT * sizeof(*v));
	v[KFD_SIMD_COUNT] = (uint64_t)p->cu_per_xcc * xcc * 4;
	v[KFD_MEM_BANKS_COUNT] = 1;
	v[KFD_IO_LINKS_COUNT] = 1;
	v[KFD_SIMD_ID_BASE] = 2147487744u + node * 1024u;
	v[KFD_MAX_WAVES_PER_SIMD] = 8;
	v[KFD_LDS_SIZE_IN_KB] = 64;
	v[KFD_NUM_GWS] = 64;
	v[KFD_WAVE_FRONT_SIZE] = 64;
	v[KFD_ARRAY_COUNT] = 4u * xcc;
	v[KFD_SIMD_ARRAYS_PER_ENGINE] = 1;
	v[KFD_CU_PER_SIMD_ARRAY] = 10;
	v[KFD_SIMD_PER_CU] = 4;
	v[KFD_MAX_SLOTS_SCRATCH_CU] = 32;
	v[KFD_GFX_TARGET_VERSION] = p->gfx_target;
	v[KFD_VENDOR_ID] = 0x1002;
	v[KFD_DEVICE_ID] = p->device_id;
	/* kfd_topology_add_device: pci_dev_id(pdev), | node_id when the GPU has several nodes */
	v[KFD_LOCATION_ID] = (bus << 8) | devfn | (nparts > 1 ? xcp : 0);
	v[KFD_DOMAIN] = domain_of(g->bdf);
	v[KFD_DRM_RENDER_MINOR] = render_minor(s, gpu, xcp);
	v[KFD_HIVE_ID] = s->hive_id;
	/* kfd_topology.c: kfd_get_num_sdma_engines: with XGMI at most 2 engines are PCIe, the
	 * rest XGMI (kfd_get_num_xgmi_sdma_engines); 16 SDMA on MI300X shared by the partitions
	 * (HARDWARE.md 8.11; the CPX captures show 2 / 0) */
	{
		unsigned sdma = p->partitioning ? 2u * p->num_xcc / nparts : 2;

		v[KFD_NUM_SDMA_ENGINES] = s->hive_id && sdma > 2 ? 2 : sdma;
		v[KFD_NUM_SDMA_XGMI_ENGINES] = sdma - v[KFD_NUM_SDMA_ENGINES];
	}
	v[KFD_NUM_SDMA_QUEUES_PER_ENGINE] = 8;
	v[KFD_NUM_CP_QUEUES] = 24u * xcc;
	v[KFD_MAX_ENGINE_CLK_FCOMPUTE] = p->clk_fcompute;
	v[KFD_FW_VERSION] = 177;
	v[KFD_CAPABILITY] = 671588992;
	v[KFD_DEBUG_PROP] = 1495;
	v[KFD_SDMA_FW_VERSION] = 22;
	/* kfd_topology.c: node_show prints xcp->unique_id, which amdgpu_xcp.c:
	 * __amdgpu_xcp_set_unique_id takes from the XCD id table outside SPX (HARDWARE.md 8.1):
	 * the id of the partition's first XCD here; in SPX the GPU's own id */
	v[KFD_UNIQUE_ID] = nparts > 1 ? util_hash64(g->bdf, g->unique_id ^ (uint64_t)(xcp * xcc + 1))
				      : g->unique_id;
	v[KFD_NUM_XCC] = xcc;
	v[KFD_MAX_ENGINE_CLK_CCOMPUTE] = 3700;
}

static void put_props(struct render *R, const char *rel, const struct kfd_key_def *keys, size_t n,
		      const uint64_t *v, bool gpu)
{
	char buf[4096];
	size_t len = 0;

	for (size_t k = 0; k < n; k++) {
		/* capability2 is newer than the kernels captured (../shared/HARDWARE.md 3.2) */
		if ((keys[k].gpu_only && !gpu) || (keys == kfd_node_keys && k == KFD_CAPABILITY2))
			continue;
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s %llu\n", keys[k].name,
					(unsigned long long)v[k]);
	}
	put(R, 0444, rel, "%s", buf);
}

static void render_kfd(struct render *R)
{
	const struct sim_state *s = R->s;
	char rel[512];
	unsigned node = 0, from = 0, total = 0;
	char nd[32];
	uint64_t v[KFD_NODE_KEY_COUNT];

	/* the hidden tree is written in place: the nodes the state has are written over, the
	 * ones it no longer has removed, and the switch makes the whole topology visible at
	 * once (a real KFD removes and re-adds the nodes one by one) */

	/* after a compute switch only the nodes from the switched GPU's old place on change
	 * (the others keep their numbers and contents): those are written over; a reload writes
	 * them all (kfd_from 0) */
	if (!s->loaded || (s->render & SIM_RENDER_ALL)) {
		rm(R, "sys/devices/virtual/kfd");
		rm(R, "sys/class/kfd");
	} else {
		char dir[4096];
		DIR *d;

		from = s->kfd_from;
		total = s->cpu_nodes;
		for (unsigned i = 0; i < s->n_gpus; i++)
			total += sim_partitions(s, i);
		if (util_pathf(dir, sizeof(dir), "%s/sys/devices/virtual/kfd/kfd/topology/nodes", R->dir) >= 0 &&
		    (d = opendir(dir))) {
			for (struct dirent *de; (de = readdir(d));) {
				uint64_t n;

				/* nodes the new list does not reach; the others are written over */
				if (util_parse_u64(de->d_name, strlen(de->d_name), &n) == 0 && n >= total) {
					relf(rel, sizeof(rel), "sys/devices/virtual/kfd/kfd/topology/nodes/%s",
					     de->d_name);
					rm(R, rel);
				}
			}
			closedir(d);
		}
	}
	if (!s->loaded)
		return;
	mkdirs(R, "sys/class/kfd");
	link_to(R, "sys/class/kfd/kfd", "../../devices/virtual/kfd/kfd");
	put(R, 0444, "sys/devices/virtual/kfd/kfd/topology/generation_id", "%u\n", s->generation);
	put(R, 0444, "sys/devices/virtual/kfd/kfd/topology/system_properties",
	    "platform_oem %llu\nplatform_id %llu\nplatform_rev %llu\n", 0ull, 0ull, 0ull);
	mkdirs(R, "sys/devices/virtual/kfd/kfd/proc");

	for (unsigned c = 0; c < s->cpu_nodes; c++, node++) {
		uint64_t m[KFD_MEM_KEY_COUNT] = { KFD_HEAP_SYSTEM, 1024ull << 30, 0, 72, 4800 };

		if (node < from)
			continue;
		relf(nd, sizeof(nd), "%u", node);
		memset(v, 0, sizeof(v));
		v[KFD_CPU_CORES_COUNT] = 96;
		v[KFD_MEM_BANKS_COUNT] = 1;
		v[KFD_CPU_CORE_ID_BASE] = 96u * c;
		v[KFD_MAX_ENGINE_CLK_CCOMPUTE] = 3700;
		relf(rel, sizeof(rel), "sys/devices/virtual/kfd/kfd/topology/nodes/%s/gpu_id", nd);
		put(R, 0444, rel, "0\n");
		relf(rel, sizeof(rel), "sys/devices/virtual/kfd/kfd/topology/nodes/%s/name", nd);
		put(R, 0444, rel, "\n");
		relf(rel, sizeof(rel), "sys/devices/virtual/kfd/kfd/topology/nodes/%s/properties", nd);
		put_props(R, rel, kfd_node_keys, KFD_NODE_KEY_COUNT, v, false);
		relf(rel, sizeof(rel),
		     "sys/devices/virtual/kfd/kfd/topology/nodes/%s/mem_banks/0/properties", nd);
		put_props(R, rel, kfd_mem_keys, KFD_MEM_KEY_COUNT, m, false);
	}
	for (unsigned o = 0; o < s->n_gpus; o++) {
		unsigned gpu = s->kfd_order[o];

		for (unsigned x = 0; x < sim_partitions(s, gpu); x++, node++) {
			const char *base = "sys/devices/virtual/kfd/kfd/topology/nodes";
			uint64_t m[KFD_MEM_KEY_COUNT] = { KFD_HEAP_FB_PUBLIC,
							  sim_partition_memory(s, gpu, x), 0,
							  8192 / sim_partitions(s, gpu), 1300 };
			uint64_t l[13] = { 2, 0, 0, node, (unsigned)s->gpu[gpu].numa % s->cpu_nodes,
					   20, 0, 0, 312, 64000, 0, 0, 1 };
			static const char *const lk[13] = {
				"type", "version_major", "version_minor", "node_from", "node_to",
				"weight", "min_latency", "max_latency", "min_bandwidth",
				"max_bandwidth", "recommended_transfer_size",
				"recommended_sdma_engine_id_mask", "flags"
			};
			char links[1024];
			size_t len = 0;

			if (node < from)
				continue;
			relf(nd, sizeof(nd), "%u", node);
			gpu_node_values(s, gpu, x, node, v);
			relf(rel, sizeof(rel), "%s/%s/gpu_id", base, nd);
			put(R, 0444, rel, "%u\n", R->gpu_id[gpu][x]);
			/* lowercased amdgpu_asic_name: "ip discovery" on MI300-class */
			relf(rel, sizeof(rel), "%s/%s/name", base, nd);
			put(R, 0444, rel, "%s\n",
			    s->product->partitioning ? "ip discovery" : "aldebaran");
			relf(rel, sizeof(rel), "%s/%s/properties", base, nd);
			put_props(R, rel, kfd_node_keys, KFD_NODE_KEY_COUNT, v, true);
			relf(rel, sizeof(rel), "%s/%s/mem_banks/0/properties", base, nd);
			put_props(R, rel, kfd_mem_keys, KFD_MEM_KEY_COUNT, m, true);
			/* amdgpu_amdkfd_get_vram_usage: the whole device's VRAM manager, so
			 * every partition node of a GPU shows the GPU's usage */
			relf(rel, sizeof(rel), "%s/%s/mem_banks/0/used_memory", base, nd);
			put(R, 0444, rel, "%llu\n", (unsigned long long)gpu_vram_used(s, gpu));
			for (unsigned k = 0; k < 13; k++)
				len += (size_t)snprintf(links + len, sizeof(links) - len, "%s %llu\n",
							lk[k], (unsigned long long)l[k]);
			relf(rel, sizeof(rel), "%s/%s/io_links/0/properties", base, nd);
			put(R, 0444, rel, "%s", links);
		}
	}
}

/* processes with partition x of GPU gpu open (at least 1, a divisor) */
static unsigned holders(const struct sim_state *s, unsigned gpu, unsigned x)
{
	unsigned n = 0;

	for (unsigned i = 0; i < s->n_procs; i++)
		n += sim_proc_has(&s->proc[i], gpu, x);
	return n ? n : 1;
}

static unsigned first_holder(const struct sim_state *s, unsigned gpu, unsigned x)
{
	for (unsigned i = 0; i < s->n_procs; i++)
		if (sim_proc_has(&s->proc[i], gpu, x))
			return i;
	return 0;
}

/* Remove the <dir>/<pid> entries of the tree whose process the state no longer has. */
static void prune_pids(struct render *R, const char *rel)
{
	char path[4096], sub[512];
	DIR *d;

	if (R->err || util_pathf(path, sizeof(path), "%s/%s", R->dir, rel) < 0)
		return;
	d = opendir(path);
	if (!d)
		return;
	for (struct dirent *de; (de = readdir(d));) {
		uint64_t pid;
		bool keep = false;

		if (util_parse_u64(de->d_name, strlen(de->d_name), &pid) < 0)
			continue;
		for (unsigned i = 0; i < R->s->n_procs && !keep; i++)
			keep = (uint64_t)R->s->proc[i].pid == pid;
		if (!keep) {
			relf(sub, sizeof(sub), "%s/%s", rel, de->d_name);
			rm(R, sub);
		}
	}
	closedir(d);
}

/* One size as drm_file.c: drm_fdinfo_print_size prints it: divided by 1024 while it is a
 * multiple of 1024 (at most twice), with " KiB" or " MiB" */
static int fdinfo_size(char *buf, size_t size, const char *stat, const char *region, uint64_t sz)
{
	static const char *const units[] = { "", " KiB", " MiB" };
	unsigned u = 0;

	while (u < 2 && sz && sz % 1024 == 0) {
		sz /= 1024;
		u++;
	}
	return snprintf(buf, size, "drm-%s-%s:\t%llu%s\n", stat, region, (unsigned long long)sz,
			units[u]);
}

/* /proc/<pid>/fdinfo/<fd> of a render node as amdgpu prints it for a compute client: fs/proc/
 * fd.c: seq_show (pos, flags, mnt_id, ino), drm_file.c: drm_show_fdinfo (drm-driver,
 * drm-client-id, drm-pdev), amdgpu_fdinfo.c: amdgpu_show_fdinfo (pasid, drm_print_memory_stats
 * with resident and purgeable for each placement cpu, gtt, vram, gds, gws, oa, doorbell, the
 * legacy drm-memory-* keys, amd-evicted-vram, amd-requested-*; no drm-engine-* line: the
 * simulated client has not run work, and the driver skips engines with no time). All of the
 * process's VRAM on the partition is private and resident. */
static void fdinfo(struct render *R, const char *rel, unsigned client, const char *bdf,
		   unsigned pasid, uint64_t vram)
{
	static const char *const regions[] = { "cpu", "gtt", "vram", "gds", "gws", "oa", "doorbell" };
	char text[2048];
	size_t len;

	len = (size_t)snprintf(text, sizeof(text),
			       "pos:\t0\nflags:\t02100002\nmnt_id:\t25\nino:\t1043\n"
			       "drm-driver:\tamdgpu\ndrm-client-id:\t%u\ndrm-pdev:\t%s\npasid:\t%u\n",
			       client, bdf, pasid);
	for (unsigned k = 0; k < 7 && len < sizeof(text); k++) {
		uint64_t v = k == 2 ? vram : 0;

		len += (size_t)fdinfo_size(text + len, sizeof(text) - len, "total", regions[k], v);
		if (len < sizeof(text))
			len += (size_t)fdinfo_size(text + len, sizeof(text) - len, "shared",
						   regions[k], 0);
		if (len < sizeof(text))
			len += (size_t)fdinfo_size(text + len, sizeof(text) - len, "resident",
						   regions[k], v);
		if (len < sizeof(text))
			len += (size_t)fdinfo_size(text + len, sizeof(text) - len, "purgeable",
						   regions[k], 0);
	}
	if (len < sizeof(text))
		snprintf(text + len, sizeof(text) - len,
			 "drm-memory-vram:\t%llu KiB\ndrm-memory-gtt: \t0 KiB\ndrm-memory-cpu: \t0 KiB\n"
			 "amd-evicted-vram:\t0 KiB\namd-requested-vram:\t%llu KiB\n"
			 "amd-requested-gtt:\t0 KiB\n",
			 (unsigned long long)(vram / 1024), (unsigned long long)(vram / 1024));
	put(R, 0444, rel, "%s", text);
}

/* Simulated processes: /proc/<pid> with fds on /dev/kfd and the render nodes of the GPUs they
 * use, and KFD's per-process directory (kfd_process.c: kfd_procfs_add_sysfs_files). */
static void render_procs(struct render *R)
{
	const struct sim_state *s = R->s;
	char rel[512], target[64];
	uint64_t vram;

	mkdirs(R, "proc");
	/* processes that have gone (sim release) */
	prune_pids(R, "proc");
	prune_pids(R, "sys/devices/virtual/kfd/kfd/proc");
	for (unsigned i = 0; i < s->n_procs; i++) {
		const struct sim_proc *p = &s->proc[i];
		unsigned fd = 3;

		relf(rel, sizeof(rel), "proc/%d", p->pid);
		rm(R, rel);
		relf(rel, sizeof(rel), "proc/%d/comm", p->pid);
		put(R, 0444, rel, "%s\n", p->comm);
		relf(rel, sizeof(rel), "proc/%d/cmdline", p->pid);
		put(R, 0444, rel, "%s%c", p->comm, '\0');
		relf(rel, sizeof(rel), "proc/%d/cgroup", p->pid);
		if (p->container[0])
			put(R, 0444, rel, "0::/system.slice/docker-%s.scope\n", p->container);
		else
			put(R, 0444, rel, "0::/user.slice/user-1000.slice/session-1.scope\n");
		relf(rel, sizeof(rel), "proc/%d/fd/%u", p->pid, fd++);
		link_to(R, rel, "/dev/kfd");
		if (!s->loaded)
			continue;
		for (unsigned g = 0; g < s->n_gpus; g++) {
			if (!(p->gpus & (1u << g)))
				continue;
			for (unsigned x = 0; x < sim_partitions(s, g); x++, fd++) {
				if (!sim_proc_has(p, g, x))
					continue;
				relf(rel, sizeof(rel), "proc/%d/fd/%u", p->pid, fd);
				relf(target, sizeof(target), "/dev/dri/renderD%u",
				     render_minor(s, g, x));
				link_to(R, rel, target);
				/* kfd_process.c: kfd_procfs_show, pdd->vram_usage: what this
				 * process holds on this node; the partition's scripted VRAM is
				 * shared by the processes that use the GPU */
				vram = s->gpu[g].vram[x] / holders(s, g, x) +
				       (first_holder(s, g, x) == i ? s->gpu[g].vram[x] % holders(s, g, x)
								   : 0);
				/* the DRM client of this fd: KFD allocates in the VM of the render
				 * node ROCr opened (kfd_ioctl_acquire_vm), so its fdinfo counts the
				 * same VRAM; client ids are unique on the host (drm_file.c) */
				relf(rel, sizeof(rel), "proc/%d/fdinfo/%u", p->pid, fd);
				fdinfo(R, rel, (i + 1) * 256 + fd, s->gpu[g].bdf, 32768u + i, vram);
				relf(rel, sizeof(rel), "sys/devices/virtual/kfd/kfd/proc/%d/vram_%u",
				     p->pid, R->gpu_id[g][x]);
				put(R, 0444, rel, "%llu\n", (unsigned long long)vram);
				relf(rel, sizeof(rel), "sys/devices/virtual/kfd/kfd/proc/%d/sdma_%u",
				     p->pid, R->gpu_id[g][x]);
				put(R, 0444, rel, "%llu\n", 0ull);
			}
		}
		relf(rel, sizeof(rel), "sys/devices/virtual/kfd/kfd/proc/%d/pasid", p->pid);
		put(R, 0444, rel, "%u\n", 32768u + i);
	}
}

/* The directory holding partition x's `xcp` kobject: the PCI device for XCP 0, the
 * amdgpu_xcp platform device otherwise (amdgpu_xcp.c: amdgpu_xcp_sysfs_entries_init). */
static void xcp_kobj_dir(char *buf, size_t size, const struct sim_state *s, unsigned gpu, unsigned x)
{
	char name[64];

	if (x == 0) {
		pci_dir(buf, size, &s->gpu[gpu]);
		return;
	}
	xcp_name(name, sizeof(name), s, gpu, x);
	relf(buf, size, "sys/devices/platform/%s", name);
}

/* the gfx clock of partition x: scripted, else idle (140 MHz) or the peak clock when busy */
static int sim_gfxclk(const struct sim_state *s, const struct sim_gpu *g, unsigned x)
{
	if (g->gfxclk_mhz >= 0)
		return g->gfxclk_mhz;
	return g->busy[x] ? (int)s->product->clk_fcompute : 140;
}

/*
 * hwmon of a GPU (amdgpu_pm.c: amdgpu_hwmon_attributes, hwmon_attributes_visible), in the
 * hwmon ABI's units: millidegrees, microwatts, hertz. MI300-class parts (GC 9.4.3/9.4.4/9.5.0,
 * several AIDs) hide temp1 (edge) and show temp2 (junction) and temp3 (mem), and report the
 * socket power as power1_input; older dGPUs (MI210) have all three temperatures and
 * power1_average. One hwmon device per GPU, numbered in GPU order here.
 */
static void render_hwmon(struct render *R, unsigned i, const char *dir)
{
	const struct sim_state *s = R->s;
	const struct sim_gpu *g = &s->gpu[i];
	bool multi_aid = s->product->partitioning;
	unsigned n = sim_partitions(s, i), clk = 0;
	char rel[512], target[512];

	/* the files of a loaded driver are written over in place (the set is fixed per
	 * product); without the driver there is no hwmon device */
	if (!s->loaded) {
		relf(rel, sizeof(rel), "sys/class/hwmon/hwmon%u", i);
		rm(R, rel);
		relf(rel, sizeof(rel), "%s/hwmon", dir);
		rm(R, rel);
		return;
	}
	for (unsigned x = 0; x < n; x++)
		clk += (unsigned)sim_gfxclk(s, g, x);
	relf(rel, sizeof(rel), "%s/hwmon/hwmon%u/name", dir, i);
	put(R, 0444, rel, "amdgpu\n");
	if (!multi_aid) {
		relf(rel, sizeof(rel), "%s/hwmon/hwmon%u/temp1_input", dir, i);
		put(R, 0444, rel, "%d\n", (g->temp_hotspot_c - 5) * 1000);
		relf(rel, sizeof(rel), "%s/hwmon/hwmon%u/temp1_label", dir, i);
		put(R, 0444, rel, "edge\n");
	}
	relf(rel, sizeof(rel), "%s/hwmon/hwmon%u/temp2_input", dir, i);
	put(R, 0444, rel, "%d\n", g->temp_hotspot_c * 1000);
	relf(rel, sizeof(rel), "%s/hwmon/hwmon%u/temp2_label", dir, i);
	put(R, 0444, rel, "junction\n");
	relf(rel, sizeof(rel), "%s/hwmon/hwmon%u/temp3_input", dir, i);
	put(R, 0444, rel, "%d\n", g->temp_mem_c * 1000);
	relf(rel, sizeof(rel), "%s/hwmon/hwmon%u/temp3_label", dir, i);
	put(R, 0444, rel, "mem\n");
	relf(rel, sizeof(rel), "%s/hwmon/hwmon%u/%s", dir, i,
	     multi_aid ? "power1_input" : "power1_average");
	put(R, 0444, rel, "%llu\n", (unsigned long long)g->power_w * 1000000ull);
	relf(rel, sizeof(rel), "%s/hwmon/hwmon%u/freq1_input", dir, i);
	put(R, 0444, rel, "%llu\n", (unsigned long long)(n ? clk / n : 140) * 1000000ull);
	relf(rel, sizeof(rel), "%s/hwmon/hwmon%u/freq1_label", dir, i);
	put(R, 0444, rel, "sclk\n");
	relf(rel, sizeof(rel), "%s/hwmon/hwmon%u/freq2_input", dir, i);
	put(R, 0444, rel, "%llu\n", (unsigned long long)g->uclk_mhz * 1000000ull);
	relf(rel, sizeof(rel), "%s/hwmon/hwmon%u/freq2_label", dir, i);
	put(R, 0444, rel, "mclk\n");
	relf(rel, sizeof(rel), "sys/class/hwmon/hwmon%u", i);
	relf(target, sizeof(target), "../../%s/hwmon/hwmon%u", dir + 4, i);
	link_to(R, rel, target);
}

/*
 * gpu_metrics of each GPU (amdgpu_pm.c: amdgpu_get_gpu_metrics; smu_v13_0_6_ppt.c:
 * smu_v13_0_6_get_gpu_metrics) and xcp/xcp_metrics of each valid partition (amdgpu_xcp.c:
 * xcp_metrics_show, visible only while the XCP is valid: amdgpu_xcp_attrs_is_visible), plus the
 * KFD used_memory of every node, which follows the device's VRAM usage.
 */
static void render_metrics(struct render *R)
{
	const struct sim_state *s = R->s;
	char dir[256], rel[512];
	unsigned char buf[8192];

	for (unsigned i = 0; i < s->n_gpus; i++) {
		const struct sim_gpu *g = &s->gpu[i];
		unsigned nparts = sim_partitions(s, i);
		unsigned xcc = s->product->num_xcc / (nparts ? nparts : 1);
		mipart_gpu_metrics m;
		unsigned sum = 0;
		ssize_t n;

		/* a compute switch changes the readings of that GPU only */
		if ((s->render & SIM_RENDER_SWITCH) && !(s->render & SIM_RENDER_ALL) &&
		    !(s->render_gpus & (1u << i)))
			continue;
		pci_dir(dir, sizeof(dir), g);
		/* a switch of an idle GPU leaves it idle: its hwmon files say the same */
		if ((s->render & (SIM_RENDER_ALL | SIM_RENDER_SWITCH | SIM_RENDER_IDLE)) !=
		    (SIM_RENDER_SWITCH | SIM_RENDER_IDLE))
			render_hwmon(R, i, dir);
		/* xcp_metrics only for the partitions that exist (amdgpu_xcp_attrs_is_visible);
		 * the files that stay are written over below */
		for (unsigned x = 0; x < 8; x++) {
			if (x < nparts && s->loaded && s->product->partitioning && s->metrics)
				continue;
			xcp_kobj_dir(dir, sizeof(dir), s, i, x);
			relf(rel, sizeof(rel), "%s/xcp", dir);
			rm(R, rel);
		}
		if (!s->loaded || !s->product->partitioning || !s->metrics) {
			pci_dir(dir, sizeof(dir), g);
			relf(rel, sizeof(rel), "%s/gpu_metrics", dir);
			rm(R, rel);
			continue;
		}
		memset(&m, 0xff, sizeof(m));
		m.format_revision = 1;
		m.content_revision = s->metrics;
		m.temperature_hotspot_c = g->temp_hotspot_c;
		m.temperature_mem_c = g->temp_mem_c;
		m.temperature_vrsoc_c = g->temp_hotspot_c - 5;
		m.socket_power_w = g->power_w;
		m.energy_accumulator = -1;
		m.system_clock_counter_ns = -1;
		m.uclk_mhz = g->uclk_mhz;
		m.num_partition = (int)nparts;
		for (unsigned k = 0; k < MIPART_METRICS_XCC_MAX; k++)
			m.gfxclk_mhz[k] = k < s->product->num_xcc ? sim_gfxclk(s, g, k / xcc) : -1;
		for (unsigned x = 0; x < MIPART_METRICS_XCP_MAX; x++)
			for (unsigned k = 0; k < MIPART_METRICS_XCC_MAX; k++) {
				m.xcp_busy_pct[x][k] = x < nparts && k < xcc ? g->busy[x] : -1;
				m.xcp_busy_acc[x][k] = -1;
			}
		for (unsigned x = 0; x < nparts; x++)
			sum += g->busy[x];
		m.gfx_activity_pct = nparts ? (int)(sum / nparts) : 0;
		/* not scripted: memory-controller activity follows the compute load */
		m.umc_activity_pct = m.gfx_activity_pct * 3 / 5;
		n = metrics_encode_gpu(&m, s->metrics, buf, sizeof(buf));
		if (n < 0) {
			R->err = (int)n;
			return;
		}
		pci_dir(dir, sizeof(dir), g);
		relf(rel, sizeof(rel), "%s/gpu_metrics", dir);
		put_bytes(R, 0444, rel, buf, (size_t)n);
		for (unsigned x = 0; x < nparts; x++) {
			mipart_xcp_metrics pm;

			memset(&pm, 0xff, sizeof(pm));
			pm.format_revision = 1;
			pm.content_revision = s->metrics == 9 ? 1 : 0;
			pm.uclk_mhz = g->uclk_mhz;
			for (unsigned k = 0; k < MIPART_METRICS_XCC_MAX; k++) {
				pm.gfxclk_mhz[k] = k < xcc ? sim_gfxclk(s, g, x) : -1;
				pm.busy_pct[k] = k < xcc ? g->busy[x] : -1;
				pm.busy_acc[k] = -1;
			}
			n = metrics_encode_xcp(&pm, pm.content_revision, buf, sizeof(buf));
			if (n < 0) {
				R->err = (int)n;
				return;
			}
			xcp_kobj_dir(dir, sizeof(dir), s, i, x);
			relf(rel, sizeof(rel), "%s/xcp/xcp_metrics", dir);
			put_bytes(R, 0444, rel, buf, (size_t)n);
		}
	}
	/* the device-wide usage files: KFD's used_memory (render_kfd writes it with the nodes),
	 * mem_info_vram_used (render_pci_driver writes it with the device) */
	if (!(s->render & (SIM_RENDER_ALL | SIM_RENDER_KFD)) && s->loaded) {
		unsigned node = s->cpu_nodes;

		for (unsigned o = 0; o < s->n_gpus; o++) {
			unsigned gpu = s->kfd_order[o];

			for (unsigned x = 0; x < sim_partitions(s, gpu); x++, node++) {
				relf(rel, sizeof(rel),
				     "sys/devices/virtual/kfd/kfd/topology/nodes/%u/mem_banks/0/used_memory",
				     node);
				put(R, 0444, rel, "%llu\n", (unsigned long long)gpu_vram_used(s, gpu));
			}
		}
	}
	if (!(s->render & SIM_RENDER_ALL) && s->loaded)
		for (unsigned i = 0; i < s->n_gpus; i++) {
			if ((s->render & SIM_RENDER_SWITCH) && !(s->render_gpus & (1u << i)))
				continue;
			pci_dir(dir, sizeof(dir), &s->gpu[i]);
			relf(rel, sizeof(rel), "%s/mem_info_vram_used", dir);
			put(R, 0444, rel, "%llu\n", (unsigned long long)gpu_vram_used(s, i));
		}
}

/*
 * /sys/module/amdgpu, while the module is loaded (kernel/module/sysfs.c: mod_sysfs_setup,
 * mod_sysfs_teardown), with parameters/user_partt_mode (amdgpu_drv.c: default -2, AUTO). A new
 * load makes a new directory, which sysfs numbers afresh (fs/kernfs/dir.c: __kernfs_new_node,
 * cyclic ids); mipart tells driver instances apart by its inode (control/apply.c:
 * driver_instance). So the directory of load N is <root>/.sim-module-N, outside the two trees,
 * and each tree's sys/module/amdgpu links to it: switching trees keeps the inode, a reload
 * changes it in the same switch as the rest. The one of the load before stays for the other
 * tree until its next render; older ones go.
 */
static void render_module(struct render *R, const char *root)
{
	const struct sim_state *s = R->s;
	char path[4096], name[64], target[80];
	DIR *d;

	if (R->err)
		return;
	if (!s->loaded) {
		rm(R, "sys/module/amdgpu");
		return;
	}
	relf(name, sizeof(name), ".sim-module-%u", s->reloads);
	if (util_pathf(path, sizeof(path), "%s/%s/parameters/user_partt_mode", root, name) < 0) {
		R->err = -ENAMETOOLONG;
		return;
	}
	if (access(path, F_OK) < 0) {
		char *slash = strrchr(path, '/');
		int r;

		*slash = '\0';
		r = util_mkdir_p(path);
		*slash = '/';
		if (r == 0) {
			char v[16];
			/* a uint parameter (amdgpu_drv.c: module_param_named(user_partt_mode,
			 * amdgpu_user_partt_mode, uint, 0444)) prints "%u" (kernel/params.c:
			 * param_get_uint): AUTO, -2, reads 4294967294 */
			int n = snprintf(v, sizeof(v), "%u\n", (unsigned)s->user_partt_mode);

			r = write_inplace(path, v, (size_t)n, 0444);
		}
		if (r < 0) {
			R->err = r;
			return;
		}
		/* a new load: the loads before the one before go */
		d = opendir(root);
		for (struct dirent *de; d && (de = readdir(d));) {
			uint64_t k;

			if (strncmp(de->d_name, ".sim-module-", 12) ||
			    util_parse_u64(de->d_name + 12, strlen(de->d_name + 12), &k) < 0 ||
			    k + 1 >= s->reloads)
				continue;
			if (util_pathf(path, sizeof(path), "%s/%s", root, de->d_name) >= 0)
				util_rm_rf(path);
		}
		if (d)
			closedir(d);
	}
	relf(target, sizeof(target), "../../../%s", name);
	link_to(R, "sys/module/amdgpu", target);
}

int sim_tree_live(const char *dir)
{
	char path[4096], cur[64];
	ssize_t n;

	if (util_pathf(path, sizeof(path), "%s/" TREE_LIVE, dir) < 0)
		return -ENAMETOOLONG;
	n = readlink(path, cur, sizeof(cur) - 1);
	if (n < 0)
		return errno == EINVAL ? -ENOENT : -errno;
	cur[n] = '\0';
	for (unsigned t = 0; t < 2; t++)
		if (!strcmp(cur, tree_names[t]))
			return (int)t;
	return -ENOENT;
}

int sim_tree_switch(const char *dir, unsigned t)
{
	char tmp[4096], live[4096];

	if (t > 1 || util_pathf(tmp, sizeof(tmp), "%s/" TREE_LIVE ".new", dir) < 0 ||
	    util_pathf(live, sizeof(live), "%s/" TREE_LIVE, dir) < 0)
		return -EINVAL;
	/* a new link beside the old one, renamed over it: rename(2) replaces it atomically, so a
	 * path looked up through .sim-live resolves in the old tree or in the new one (the
	 * "..data" link of Kubernetes' AtomicWriter, pkg/volume/util/atomic_writer.go) */
	if (unlink(tmp) < 0 && errno != ENOENT)
		return -errno;
	if (symlink(tree_names[t], tmp) < 0 || rename(tmp, live) < 0)
		return -errno;
	return 0;
}

int sim_tree_init(const char *dir)
{
	static const char *const top[] = { "sys", "dev", "proc" };
	char path[4096], target[64];
	int r;

	for (unsigned t = 0; t < 2; t++)
		for (size_t k = 0; k < ARRAY_SIZE(top); k++) {
			if (util_pathf(path, sizeof(path), "%s/%s/%s", dir, tree_names[t], top[k]) < 0)
				return -ENAMETOOLONG;
			r = util_mkdir_p(path);
			if (r < 0)
				return r;
		}
	for (size_t k = 0; k < ARRAY_SIZE(top); k++) {
		struct stat st;

		if (util_pathf(path, sizeof(path), "%s/%s", dir, top[k]) < 0)
			return -ENAMETOOLONG;
		relf(target, sizeof(target), TREE_LIVE "/%s", top[k]);
		if (lstat(path, &st) == 0) {
			if (S_ISLNK(st.st_mode))
				continue;
			/* a tree an earlier mipart rendered in place: replaced by the link */
			r = util_rm_rf(path);
			if (r < 0)
				return r;
		}
		if (symlink(target, path) < 0 && errno != EEXIST)
			return -errno;
	}
	return 0;
}

int sim_render(const char *root, unsigned t, const struct sim_state *s)
{
	char dir[4096];
	struct render R = { .dir = dir, .s = s };

	if (t > 1 || util_pathf(dir, sizeof(dir), "%s/%s", root, tree_names[t]) < 0)
		return -EINVAL;

	assign_gpu_ids(&R);
	if (s->render & SIM_RENDER_ALL) {
		for (unsigned i = 0; i < s->n_gpus; i++)
			render_pci_static(&R, i);
		rm(&R, "sys/class/drm");
		rm(&R, "sys/bus/pci/drivers/amdgpu");
		rm(&R, "dev/dri");
		rm(&R, "dev/kfd");
		mkdirs(&R, "sys/class/drm");
		mkdirs(&R, "sys/bus/pci/drivers/amdgpu");
		mkdirs(&R, "dev/dri");
		for (unsigned i = 0; i < s->n_gpus; i++)
			render_pci_driver(&R, i);
		render_platform(&R);
		if (s->loaded)
			put(&R, 0666, "dev/kfd", "%s", "");
	}
	render_module(&R, root);
	if (s->render & SIM_RENDER_MODES)
		for (unsigned i = 0; i < s->n_gpus; i++)
			if (s->render_gpus & (1u << i))
				render_pci_modes(&R, i);
	if (s->render & (SIM_RENDER_ALL | SIM_RENDER_KFD))
		render_kfd(&R);
	if (s->render & (SIM_RENDER_ALL | SIM_RENDER_KFD | SIM_RENDER_PROCS | SIM_RENDER_METRICS))
		render_procs(&R);
	if (s->render & (SIM_RENDER_ALL | SIM_RENDER_MODES | SIM_RENDER_METRICS))
		render_metrics(&R);
	return R.err;
}

void sim_need_merge(struct sim_need *a, const struct sim_need *b)
{
	unsigned ar = a->render, br = b->render;

	if (!br)
		return;
	if (br & SIM_RENDER_KFD)
		a->kfd_from = (ar & SIM_RENDER_KFD) && a->kfd_from < b->kfd_from ? a->kfd_from
										   : b->kfd_from;
	/* a switch-only render writes the readings of its GPUs only (and no hwmon files of GPUs
	 * that were idle): it stays one when both are */
	if (ar && !((ar & SIM_RENDER_SWITCH) && (br & SIM_RENDER_SWITCH)))
		ar &= ~SIM_RENDER_SWITCH, br &= ~SIM_RENDER_SWITCH;
	if (ar && !((ar & SIM_RENDER_IDLE) && (br & SIM_RENDER_IDLE)))
		ar &= ~SIM_RENDER_IDLE, br &= ~SIM_RENDER_IDLE;
	a->render = ar | br;
	a->gpus |= b->gpus;
}
