// SPDX-License-Identifier: MIT
/*
 * Discovery: builds the topology (GPUs and their partitions) from what the kernel exposes.
 *
 *  1. PCI devices of vendor 0x1002 with a display or processing-accelerator class, from
 *     /sys/bus/pci/devices: identity, driver, partition attribute files (amdgpu_gfx.c,
 *     amdgpu_gmc.c), DRM card/render minors.
 *  2. KFD topology nodes (amdkfd/kfd_topology.c): one node per partition; CPU nodes have
 *     gpu_id 0. Each GPU node is matched to its PCI device by domain and location_id, whose
 *     function bits carry the XCP index when the GPU is partitioned (kfd_topology_add_device).
 *  3. Modes come from the attribute files; where those are absent or unreadable they are
 *     inferred from the KFD nodes (mode_source "inferred").
 *
 * A file that cannot be read or parsed does not stop the load: the GPU is still listed, the
 * field stays unknown and a diagnostic names the file. See docs/discovery.md.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mipart/error.h"
#include "attr.h"
#include "discover.h"
#include "host.h"
#include "kfd.h"
#include "product.h"
#include "util.h"
#include "banned.h"

struct kfd_node {
	unsigned node;
	int gpu; /* matched GPU, -1 before matching */
	int xcp;
	struct kfd_props props;
	int64_t mem_bytes;
	int64_t gpu_id;
};

struct mipart_topology {
	struct mipart_gpu_info *gpus;
	size_t n_gpus;
	struct mipart_partition_info *parts;
	size_t n_parts;
	struct kfd_node *nodes;
	size_t n_nodes;
	char *diag[DISCOVER_MAX_DIAG];
	size_t n_diag;
	size_t diag_dropped;
	size_t files_read;
	const mipart_host *host;
	uint64_t gpu_key[DISCOVER_MAX_GPUS]; /* see compute_keys */
};

static void diag(struct mipart_topology *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void diag(struct mipart_topology *t, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (t->n_diag >= DISCOVER_MAX_DIAG - 1) {
		t->diag_dropped++;
		return;
	}
	t->diag[t->n_diag] = strdup(buf);
	if (t->diag[t->n_diag])
		t->n_diag++;
}

/*
 * Read one attribute relative to a directory fd. Returns the length, -ENOENT quietly (absent
 * files are normal: older kernels, other products), other errors with a diagnostic naming
 * dir/name.
 */
static ssize_t read_attr(struct mipart_topology *t, int dirfd, const char *dir, const char *name,
			 char *buf)
{
	ssize_t n = util_read_fileat(dirfd, name, buf, UTIL_ATTR_MAX);

	t->files_read++;
	if (n < 0 && n != -ENOENT)
		diag(t, "cannot read '%s/%s': %s", dir, name, mipart_strerror((int)n));
	return n;
}

static void bad_format(struct mipart_topology *t, const char *dir, const char *name, int r)
{
	diag(t, "cannot parse '%s/%s': %s", dir, name, mipart_strerror(r));
}

/* Read "%llu\n" (or hex "0x%x\n" when hex) into *ret; -1 stays when unknown. */
static int read_u64_attr(struct mipart_topology *t, int dirfd, const char *dir, const char *name,
			 bool hex, uint64_t *ret)
{
	char buf[UTIL_ATTR_MAX + 1];
	ssize_t n = read_attr(t, dirfd, dir, name, buf);
	int r;

	if (n < 0)
		return (int)n;
	r = hex ? util_parse_line_hex(buf, (size_t)n, ret) : util_parse_line_u64(buf, (size_t)n, ret);
	if (r < 0)
		bad_format(t, dir, name, r);
	return r;
}

static bool is_bdf(const char *s)
{
	unsigned dom, bus, dev, fn;
	char tail;

	return strlen(s) == 12 && sscanf(s, "%4x:%2x:%2x.%1x%c", &dom, &bus, &dev, &fn, &tail) == 4;
}

static void bdf_split(const char *bdf, unsigned *dom, unsigned *bus, unsigned *devfn)
{
	unsigned d = 0, b = 0, dev = 0, fn = 0;

	if (sscanf(bdf, "%4x:%2x:%2x.%1x", &d, &b, &dev, &fn) != 4)
		d = b = dev = fn = 0;
	*dom = d;
	*bus = b;
	*devfn = (dev << 3) | fn;
}

/* Minors of the cardN and renderDN children of a DRM parent device (drm/ directory). */
static void read_drm_minors(struct mipart_topology *t, int dirfd, int *ret_card, int *ret_render)
{
	DIR *d = util_opendirat(dirfd, "drm");

	t->files_read++;
	if (!d)
		return;
	for (struct dirent *de; (de = readdir(d));) {
		uint64_t v;

		if (!strncmp(de->d_name, "renderD", 7) &&
		    util_parse_u64(de->d_name + 7, strlen(de->d_name + 7), &v) == 0 && v < 1u << 20)
			*ret_render = (int)v;
		else if (!strncmp(de->d_name, "card", 4) &&
			 util_parse_u64(de->d_name + 4, strlen(de->d_name + 4), &v) == 0 &&
			 v < 1u << 20)
			*ret_card = (int)v;
	}
	closedir(d);
}

static void gpu_init(struct mipart_gpu_info *g, const char *bdf)
{
	memset(g, 0, sizeof(*g));
	util_strlcpy(g->bdf, bdf, sizeof(g->bdf));
	g->vendor_id = g->device_id = -1;
	g->product = "unknown";
	g->gfx_target = -1;
	g->num_xcc = g->compute_units = -1;
	g->memory_bytes = -1;
	g->card_minor = g->render_minor = -1;
	g->numa_node = -1;
	g->compute = MIPART_COMPUTE_UNKNOWN;
	g->memory = MIPART_MEMORY_UNKNOWN;
	g->mem_alloc_all = -1;
}

/* The amdgpu partition attribute files of one GPU (amdgpu_gfx.c, amdgpu_gmc.c, amdgpu_xcp.c). */
static void gpu_read_modes(struct mipart_topology *t, struct mipart_gpu_info *g, int dirfd,
			   const char *dir)
{
	char buf[UTIL_ATTR_MAX + 1];
	struct stat st;
	ssize_t n;
	int r;

	n = read_attr(t, dirfd, dir, ATTR_CURRENT_COMPUTE, buf);
	if (n >= 0) {
		g->partitioning = true;
		r = attr_parse_compute_mode(buf, (size_t)n, &g->compute);
		if (r < 0)
			bad_format(t, dir, ATTR_CURRENT_COMPUTE, r);
		else
			g->mode_source = MIPART_MODE_SOURCE_SYSFS;
		/* 0644, or 0444 without a switch_partition_mode hook (SR-IOV VF):
		 * amdgpu_gfx.c: amdgpu_gfx_sysfs_xcp_init */
		if (fstatat(dirfd, ATTR_CURRENT_COMPUTE, &st, 0) == 0)
			g->compute_writable = st.st_mode & S_IWUSR;
	}
	/* only created when switching is supported (amdgpu_gfx_sysfs_xcp_init) */
	n = read_attr(t, dirfd, dir, ATTR_AVAILABLE_COMPUTE, buf);
	if (n >= 0 && (r = attr_parse_compute_list(buf, (size_t)n, &g->compute_available)) < 0)
		bad_format(t, dir, ATTR_AVAILABLE_COMPUTE, r);
	n = read_attr(t, dirfd, dir, ATTR_SUPPORTED_XCP, buf);
	if (n >= 0 && (r = attr_parse_compute_list(buf, (size_t)n, &g->compute_supported)) < 0)
		bad_format(t, dir, ATTR_SUPPORTED_XCP, r);

	/* DKMS amdgpu_gfx.c: compute_partition_mem_alloc_mode_show, "CAPPING\n" or "ALL\n"
	 * (HARDWARE.md 1.1, 8.8) */
	n = read_attr(t, dirfd, dir, "compute_partition_mem_alloc_mode", buf);
	if (n >= 0) {
		ssize_t len = util_line_len(buf, (size_t)n);

		if (len == 7 && !memcmp(buf, "CAPPING", 7))
			g->mem_alloc_all = 0;
		else if (len == 3 && !memcmp(buf, "ALL", 3))
			g->mem_alloc_all = 1;
		else
			bad_format(t, dir, "compute_partition_mem_alloc_mode", -EBADMSG);
	}
	n = read_attr(t, dirfd, dir, ATTR_CURRENT_MEMORY, buf);
	if (n >= 0) {
		r = attr_parse_memory_mode(buf, (size_t)n, &g->memory);
		if (r < 0)
			bad_format(t, dir, ATTR_CURRENT_MEMORY, r);
		/* 0644 only when more than one NPS mode is supported (amdgpu_gmc_sysfs_init) */
		if (fstatat(dirfd, ATTR_CURRENT_MEMORY, &st, 0) == 0)
			g->memory_writable = st.st_mode & S_IWUSR;
	}
	n = read_attr(t, dirfd, dir, ATTR_AVAILABLE_MEMORY, buf);
	if (n >= 0 && (r = attr_parse_memory_list(buf, (size_t)n, &g->memory_available)) < 0)
		bad_format(t, dir, ATTR_AVAILABLE_MEMORY, r);
	/* available_memory_partition exists only with more than one mode: the current one is
	 * then the only one */
	if (n == -ENOENT && g->memory != MIPART_MEMORY_UNKNOWN)
		g->memory_available = MIPART_MODE_BIT(g->memory);
}

static void gpu_read_pci(struct mipart_topology *t, struct mipart_gpu_info *g, int dirfd,
			 const char *dir)
{
	char link[UTIL_ATTR_MAX + 1];
	uint64_t v;
	ssize_t n;

	if (read_u64_attr(t, dirfd, dir, "device", true, &v) == 0 && v <= 0xffff)
		g->device_id = (int)v;
	/* pci-sysfs.c: numa_node_show, "%d\n"; -1 when the device has no NUMA affinity */
	n = read_attr(t, dirfd, dir, "numa_node", link);
	if (n > 0 && util_line_len(link, (size_t)n) == 2 && !memcmp(link, "-1", 2))
		g->numa_node = -1;
	else if (n >= 0 && util_parse_line_u64(link, (size_t)n, &v) == 0 && v < 4096)
		g->numa_node = (int)v;
	else if (n >= 0)
		bad_format(t, dir, "numa_node", -EBADMSG);
	/* amdgpu_vram_mgr.c: amdgpu_mem_info_vram_total_show, "%llu\n" of the whole device */
	if (read_u64_attr(t, dirfd, dir, "mem_info_vram_total", false, &v) == 0 && v <= INT64_MAX)
		g->memory_bytes = (int64_t)v;
	n = readlinkat(dirfd, "driver", link, sizeof(link) - 1);
	if (n > 0) {
		const char *base;

		link[n] = '\0';
		base = strrchr(link, '/');
		g->driver_bound = !strcmp(base ? base + 1 : link, "amdgpu");
		util_strlcpy(g->driver, base ? base + 1 : link, sizeof(g->driver));
	}
	/* amdgpu_pm.c: unique_id_show, "%016llx\n": the GPU's own id, the same whatever the
	 * compute mode (KFD's unique_id is per partition outside SPX: kfd_topology.c node_show
	 * prints xcp->unique_id, amdgpu_xcp.c __amdgpu_xcp_set_unique_id; HARDWARE.md 8.1) */
	if (read_u64_attr(t, dirfd, dir, "unique_id", true, &v) == 0)
		snprintf(g->unique_id, sizeof(g->unique_id), "%016llx", (unsigned long long)v);
	/* drivers/pci/iov.c: sriov_numvfs exists on every SR-IOV capable PF */
	if (read_u64_attr(t, dirfd, dir, "sriov_numvfs", false, &v) == 0 && v <= 1u << 16)
		g->sriov_vfs = (unsigned)v;
	read_drm_minors(t, dirfd, &g->card_minor, &g->render_minor);
	gpu_read_modes(t, g, dirfd, dir);
}

static int add_gpu(struct mipart_topology *t, const char *bdf, struct mipart_gpu_info **ret)
{
	struct mipart_gpu_info *gpus;

	if (t->n_gpus >= DISCOVER_MAX_GPUS) {
		diag(t, "more than %d GPUs; ignoring '%s'", DISCOVER_MAX_GPUS, bdf);
		return -E2BIG;
	}
	gpus = realloc(t->gpus, (t->n_gpus + 1) * sizeof(*gpus));
	if (!gpus)
		return -ENOMEM;
	t->gpus = gpus;
	gpu_init(&gpus[t->n_gpus], bdf);
	*ret = &gpus[t->n_gpus++];
	return 0;
}

static int cmp_gpu_bdf(const void *a, const void *b)
{
	return strcmp(((const struct mipart_gpu_info *)a)->bdf,
		      ((const struct mipart_gpu_info *)b)->bdf);
}

/* Step 1: AMD GPUs on the PCI bus. Returns 0, or -errno if the bus cannot be listed. */
static int scan_pci(struct mipart_topology *t)
{
	char dir[MIPART_PATH_MAX], sub[MIPART_PATH_MAX];
	DIR *d;
	int r = 0;

	r = mipart_host_path(t->host, SYSFS_PCI_DEVICES, dir, sizeof(dir));
	if (r < 0)
		return r;
	d = opendir(dir);
	if (!d)
		return -errno;
	for (struct dirent *de; (de = readdir(d));) {
		char buf[UTIL_ATTR_MAX + 1];
		struct mipart_gpu_info *g;
		uint64_t vendor, class;
		int fd;

		if (!is_bdf(de->d_name))
			continue;
		if (util_pathf(sub, sizeof(sub), "%s/%s", dir, de->d_name) < 0)
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		/* vendor and class are the PCI core's "0x%04x\n" / "0x%06x\n" (pci-sysfs.c) */
		t->files_read += 2;
		if (util_read_fileat(fd, "vendor", buf, UTIL_ATTR_MAX) < 0 ||
		    util_parse_line_hex(buf, strlen(buf), &vendor) < 0 || vendor != 0x1002 ||
		    util_read_fileat(fd, "class", buf, UTIL_ATTR_MAX) < 0 ||
		    util_parse_line_hex(buf, strlen(buf), &class) < 0 ||
		    ((class >> 16) != 0x03 && (class >> 16) != 0x12)) {
			close(fd);
			continue;
		}
		r = add_gpu(t, de->d_name, &g);
		if (r < 0) {
			close(fd);
			if (r == -E2BIG) {
				r = 0;
				continue;
			}
			break;
		}
		g->vendor_id = 0x1002;
		gpu_read_pci(t, g, fd, sub);
		close(fd);
	}
	closedir(d);
	if (r < 0)
		return r;
	if (t->n_gpus)
		qsort(t->gpus, t->n_gpus, sizeof(*t->gpus), cmp_gpu_bdf);
	return 0;
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

/* VRAM of one KFD node: FB heaps of its mem_banks (kfd_topology.c: mem_show). */
static int64_t node_memory(struct mipart_topology *t, int nodefd, const char *dir, unsigned banks)
{
	int64_t total = -1;

	for (unsigned i = 0; i < banks && i < 16; i++) {
		char name[64], buf[UTIL_ATTR_MAX + 1];
		struct kfd_parse_error err;
		struct kfd_props p;
		ssize_t n;

		snprintf(name, sizeof(name), "mem_banks/%u/properties", i);
		n = read_attr(t, nodefd, dir, name, buf);
		if (n == -ENOENT)
			diag(t, "cannot read '%s/%s': %s", dir, name, mipart_strerror((int)n));
		if (n < 0)
			continue;
		if (kfd_parse_properties(buf, (size_t)n, kfd_mem_keys, KFD_MEM_KEY_COUNT, &p, &err) <
		    0) {
			diag(t, "cannot parse '%s/%s': line %u: %s", dir, name, err.line, err.msg);
			continue;
		}
		if (!kfd_has(&p, KFD_MEM_HEAP_TYPE) || !kfd_has(&p, KFD_MEM_SIZE_IN_BYTES) ||
		    p.v[KFD_MEM_SIZE_IN_BYTES] > INT64_MAX)
			continue;
		if (p.v[KFD_MEM_HEAP_TYPE] != KFD_HEAP_FB_PUBLIC &&
		    p.v[KFD_MEM_HEAP_TYPE] != KFD_HEAP_FB_PRIVATE)
			continue;
		total = (total < 0 ? 0 : total) + (int64_t)p.v[KFD_MEM_SIZE_IN_BYTES];
	}
	return total;
}

/* One KFD node; returns 1 for a GPU node kept, 0 for a CPU or unreadable node. A GPU node whose
 * gpu_id file is missing (trees captured by other tools) or unreadable is still taken from its
 * properties: simd_count > 0 marks a GPU (kfd_topology.c: node_show prints simd_count 0 for
 * CPU nodes), with a warning naming the file. */
static int read_node(struct mipart_topology *t, int topofd, const char *topodir, unsigned node,
		     struct kfd_node *ret)
{
	static const unsigned required[] = { KFD_LOCATION_ID, KFD_DOMAIN };
	char name[32], dir[MIPART_PATH_MAX], buf[UTIL_ATTR_MAX + 1];
	struct kfd_parse_error err;
	uint64_t gpu_id = 0;
	ssize_t n;
	int fd, r = 0, rid;

	snprintf(name, sizeof(name), "nodes/%u", node);
	if (util_pathf(dir, sizeof(dir), "%s/%s", topodir, name) < 0)
		return 0;
	fd = openat(topofd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	memset(ret, 0, sizeof(*ret));
	ret->node = node;
	ret->gpu = -1;
	ret->xcp = -1;
	ret->gpu_id = -1;
	/* kfd_topology.c: gpuid_show, "%u\n"; 0 for CPU nodes */
	rid = read_u64_attr(t, fd, dir, "gpu_id", false, &gpu_id);
	if (rid == 0 && gpu_id == 0)
		goto out;
	if (rid == 0)
		ret->gpu_id = (int64_t)gpu_id;
	n = read_attr(t, fd, dir, "properties", buf);
	if (n < 0)
		goto out;
	if (kfd_parse_properties(buf, (size_t)n, kfd_node_keys, KFD_NODE_KEY_COUNT, &ret->props,
				 &err) < 0) {
		diag(t, "cannot parse '%s/properties': line %u: %s", dir, err.line, err.msg);
		goto out;
	}
	if (rid < 0) {
		if (!kfd_has(&ret->props, KFD_SIMD_COUNT) || ret->props.v[KFD_SIMD_COUNT] == 0)
			goto out; /* a CPU node, or nothing says it is a GPU */
		if (rid == -ENOENT)
			diag(t, "no '%s/gpu_id'; taking the node as a GPU from its properties (simd_count %llu)",
			     dir, (unsigned long long)ret->props.v[KFD_SIMD_COUNT]);
		else
			diag(t, "'%s': no usable gpu_id; taking the node as a GPU from its properties (simd_count %llu)",
			     dir, (unsigned long long)ret->props.v[KFD_SIMD_COUNT]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(required); i++)
		if (!kfd_has(&ret->props, required[i])) {
			diag(t, "cannot use '%s/properties': no '%s'", dir,
			     kfd_node_keys[required[i]].name);
			goto out;
		}
	ret->mem_bytes = node_memory(t, fd, dir, (unsigned)ret->props.v[KFD_MEM_BANKS_COUNT]);
	r = 1;
out:
	close(fd);
	return r;
}

/* Step 2: GPU nodes of the KFD topology, in node order. */
static int scan_kfd(struct mipart_topology *t)
{
	char dir[MIPART_PATH_MAX], sub[MIPART_PATH_MAX];
	unsigned ids[DISCOVER_MAX_NODES];
	size_t n = 0;
	DIR *d;
	int fd, r;

	r = mipart_host_path(t->host, SYSFS_KFD_TOPOLOGY, dir, sizeof(dir));
	if (r < 0)
		return r;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	util_pathf(sub, sizeof(sub), "%s/nodes", dir);
	d = opendir(sub);
	if (!d) {
		r = -errno;
		close(fd);
		return r;
	}
	for (struct dirent *de; (de = readdir(d));) {
		uint64_t v;

		if (util_parse_u64(de->d_name, strlen(de->d_name), &v) < 0 || v > 1u << 20)
			continue;
		if (n == ARRAY_SIZE(ids)) {
			diag(t, "more than %zu KFD nodes in '%s'; ignoring the rest", n, sub);
			break;
		}
		ids[n++] = (unsigned)v;
	}
	closedir(d);
	if (n)
		qsort(ids, n, sizeof(ids[0]), cmp_uint);
	t->nodes = calloc(n ? n : 1, sizeof(*t->nodes));
	if (!t->nodes) {
		close(fd);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		if (read_node(t, fd, dir, ids[i], &t->nodes[t->n_nodes]) > 0)
			t->n_nodes++;
	close(fd);
	return 0;
}

/*
 * kfd_topology.c: kfd_topology_add_device sets location_id = pci_dev_id(pdev) =
 * (bus << 8) | devfn and ORs in the node (XCP) id when the GPU has more than one KFD node.
 * So the device number (bits 7:3) and bus identify the GPU; bits 2:0 may hold the XCP. A
 * patch of Feb 2024 (amd-gfx "Add partition id field to location_id", reverted Apr 2024) put
 * the partition id in bits 31:28 instead, and drivers in the field still report it (amd-smi
 * decodes [31:28] first: rocm-systems amdsmi docs/conceptual/partition.md; HARDWARE.md 8.2):
 * both are masked off before matching.
 */
#define LOC_PART_SHIFT 28
#define LOC_PCI_MASK 0xffffu

static uint64_t node_key(const struct kfd_node *k)
{
	uint64_t loc = k->props.v[KFD_LOCATION_ID] & LOC_PCI_MASK, dom = k->props.v[KFD_DOMAIN];

	return (dom << 13) | (loc >> 3);
}

static struct mipart_gpu_info *gpu_for_node(struct mipart_topology *t, const struct kfd_node *k)
{
	uint64_t key = node_key(k);

	for (size_t i = 0; i < t->n_gpus; i++)
		if (t->gpu_key[i] == key)
			return &t->gpus[i];
	return NULL;
}

/* The matching key of each GPU, (domain << 13) | (bus << 5) | device, parsed once from its BDF
 * (after every change to the GPU array). */
static void compute_keys(struct mipart_topology *t)
{
	for (size_t i = 0; i < t->n_gpus; i++) {
		unsigned dom, bus, devfn;

		bdf_split(t->gpus[i].bdf, &dom, &bus, &devfn);
		t->gpu_key[i] = ((uint64_t)dom << 13) | ((uint64_t)bus << 5) | (devfn >> 3);
	}
}

/* A GPU seen only in the KFD topology (PCI sysfs unreadable): identity from KFD. */
static int gpu_from_node(struct mipart_topology *t, const struct kfd_node *k,
			 struct mipart_gpu_info **ret)
{
	uint64_t loc = k->props.v[KFD_LOCATION_ID];
	char bdf[16];
	int r;

	loc &= LOC_PCI_MASK;
	snprintf(bdf, sizeof(bdf), "%04x:%02x:%02x.0", (unsigned)(k->props.v[KFD_DOMAIN] & 0xffff),
		 (unsigned)((loc >> 8) & 0xff), (unsigned)((loc >> 3) & 0x1f));
	r = add_gpu(t, bdf, ret);
	if (r < 0)
		return r;
	if (kfd_has(&k->props, KFD_VENDOR_ID))
		(*ret)->vendor_id = (int)k->props.v[KFD_VENDOR_ID];
	if (kfd_has(&k->props, KFD_DEVICE_ID))
		(*ret)->device_id = (int)k->props.v[KFD_DEVICE_ID];
	return 0;
}

/* Modes from the KFD nodes when the attribute files do not say (docs/discovery.md). */
static void infer_modes(struct mipart_gpu_info *g, unsigned nodes, unsigned xcc_total,
			bool all_single_xcc)
{
	mipart_compute_mode m = MIPART_COMPUTE_UNKNOWN;

	if (nodes == 1)
		m = MIPART_COMPUTE_SPX;
	else if (nodes > 1 && all_single_xcc)
		m = MIPART_COMPUTE_CPX;
	else if (nodes == 2)
		m = MIPART_COMPUTE_DPX;
	else if (nodes == 3)
		m = MIPART_COMPUTE_TPX;
	else if (nodes == 4)
		m = MIPART_COMPUTE_QPX;
	if (m == MIPART_COMPUTE_UNKNOWN ||
	    (xcc_total && mipart_compute_mode_partitions(m, xcc_total) != nodes))
		return;
	g->compute = m;
	/* SPX is valid only with NPS1 (aqua_vanjaram.c: __aqua_vanjaram_get_px_mode_info);
	 * other modes leave the memory mode unknown */
	if (g->memory == MIPART_MEMORY_UNKNOWN && m == MIPART_COMPUTE_SPX)
		g->memory = MIPART_MEMORY_NPS1;
	g->mode_source = MIPART_MODE_SOURCE_INFERRED;
}

/* Which DRM parent device owns a render minor: /sys/class/drm/renderDN links to
 * .../<parent>/drm/renderDN; the parent is a PCI BDF or amdgpu_xcp_K / amdgpu_xcp.K. */
static void render_owner(struct mipart_topology *t, int minor, char *buf, size_t size)
{
	char path[MIPART_PATH_MAX], rel[64], link[MIPART_PATH_MAX];
	const char *end, *start;
	ssize_t n;

	buf[0] = '\0';
	if (minor < 0)
		return;
	snprintf(rel, sizeof(rel), SYSFS_DRM_CLASS "/renderD%d", minor);
	if (mipart_host_path(t->host, rel, path, sizeof(path)) < 0)
		return;
	t->files_read++;
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return;
	link[n] = '\0';
	end = strstr(link, "/drm/renderD");
	if (!end)
		return;
	for (start = end; start > link && start[-1] != '/'; start--)
		;
	if ((size_t)(end - start) < size) {
		memcpy(buf, start, (size_t)(end - start));
		buf[end - start] = '\0';
	}
}

static int cmp_node_of_gpu(const void *a, const void *b)
{
	const struct kfd_node *x = *(const struct kfd_node *const *)a;
	const struct kfd_node *y = *(const struct kfd_node *const *)b;

	if (x->xcp != y->xcp)
		return x->xcp < y->xcp ? -1 : 1;
	return x->node < y->node ? -1 : x->node > y->node;
}

/* Step 3: partitions of each GPU from its matched KFD nodes. */
static int build_partitions(struct mipart_topology *t)
{
	struct kfd_node **mine = NULL;
	unsigned global = 0;
	int r = 0;

	/* GPUs seen only in KFD first, then all in PCI order, then match by address */
	compute_keys(t);
	for (size_t i = 0; i < t->n_nodes; i++) {
		struct mipart_gpu_info *g = gpu_for_node(t, &t->nodes[i]);

		if (!g) {
			r = gpu_from_node(t, &t->nodes[i], &g);
			if (r < 0 && r != -E2BIG)
				return r;
			compute_keys(t);
		}
	}
	if (t->n_gpus)
		qsort(t->gpus, t->n_gpus, sizeof(*t->gpus), cmp_gpu_bdf);
	compute_keys(t);
	for (size_t i = 0; i < t->n_nodes; i++) {
		struct mipart_gpu_info *g = gpu_for_node(t, &t->nodes[i]);

		t->nodes[i].gpu = g ? (int)(g - t->gpus) : -1;
	}

	t->parts = calloc(t->n_nodes ? t->n_nodes : 1, sizeof(*t->parts));
	mine = calloc(t->n_nodes ? t->n_nodes : 1, sizeof(*mine));
	if (!t->parts || !mine) {
		free(mine);
		return -ENOMEM;
	}

	for (size_t gi = 0; gi < t->n_gpus; gi++) {
		struct mipart_gpu_info *g = &t->gpus[gi];
		unsigned cnt = 0, xcc_total = 0, cu_total = 0;
		bool all_single = true, xcc_known = true, cu_known = true, dup = false;
		int64_t mem_total = -1;
		unsigned seen = 0;

		for (size_t i = 0; i < t->n_nodes; i++)
			if (t->nodes[i].gpu == (int)gi)
				mine[cnt++] = &t->nodes[i];
		/* the partition id: bits 31:28 when any node of the GPU carries them, else the
		 * function bits 2:0 (see gpu_for_node) */
		bool nibble = false;

		for (unsigned k = 0; k < cnt; k++)
			nibble |= (mine[k]->props.v[KFD_LOCATION_ID] >> LOC_PART_SHIFT) != 0;
		for (unsigned k = 0; k < cnt; k++) {
			uint64_t loc = mine[k]->props.v[KFD_LOCATION_ID];
			unsigned x = cnt <= 1 ? 0
				     : nibble ? (unsigned)((loc >> LOC_PART_SHIFT) & 0xf)
					      : (unsigned)(loc & 7);

			if (x > 7)
				dup = true;
			x &= 7;

			if (seen & (1u << x))
				dup = true;
			seen |= 1u << x;
			mine[k]->xcp = (int)x;
		}
		if (dup) {
			diag(t, "GPU %s: KFD location_id does not tell its partitions apart; numbering them in node order",
			     g->bdf);
			for (unsigned k = 0; k < cnt; k++)
				mine[k]->xcp = (int)k;
		}
		qsort(mine, cnt, sizeof(*mine), cmp_node_of_gpu);
		g->first_partition = t->n_parts;
		g->n_partitions = cnt;
		for (unsigned k = 0; k < cnt; k++) {
			const struct kfd_props *p = &mine[k]->props;
			struct mipart_partition_info *pi = &t->parts[t->n_parts++];

			pi->gpu = (unsigned)gi;
			pi->xcp = mine[k]->xcp;
			pi->kfd_node = (int)mine[k]->node;
			pi->gpu_id = mine[k]->gpu_id;
			pi->render_minor = kfd_has(p, KFD_DRM_RENDER_MINOR)
						   ? (int)p->v[KFD_DRM_RENDER_MINOR]
						   : -1;
			pi->num_xcc = kfd_has(p, KFD_NUM_XCC) ? (int)p->v[KFD_NUM_XCC] : -1;
			pi->compute_units = -1;
			if (kfd_has(p, KFD_SIMD_COUNT) && kfd_has(p, KFD_SIMD_PER_CU) &&
			    p->v[KFD_SIMD_PER_CU])
				pi->compute_units =
					(int)(p->v[KFD_SIMD_COUNT] / p->v[KFD_SIMD_PER_CU]);
			pi->memory_bytes = mine[k]->mem_bytes;
			render_owner(t, pi->render_minor, pi->drm_device, sizeof(pi->drm_device));
			if (kfd_has(p, KFD_UNIQUE_ID))
				snprintf(pi->unique_id, sizeof(pi->unique_id), "%016llx",
					 (unsigned long long)p->v[KFD_UNIQUE_ID]);

			if (pi->num_xcc < 0)
				xcc_known = false;
			else
				xcc_total += (unsigned)pi->num_xcc;
			if (pi->num_xcc != 1)
				all_single = false;
			if (pi->compute_units < 0)
				cu_known = false;
			else
				cu_total += (unsigned)pi->compute_units;
			if (pi->memory_bytes >= 0)
				mem_total = (mem_total < 0 ? 0 : mem_total) + pi->memory_bytes;

			if (k == 0) {
				if (kfd_has(p, KFD_GFX_TARGET_VERSION))
					g->gfx_target = (int64_t)p->v[KFD_GFX_TARGET_VERSION];
				if (kfd_has(p, KFD_HIVE_ID))
					g->hive_id = p->v[KFD_HIVE_ID];
			}
		}
		/* no PCI unique_id: KFD's stands for the GPU only when one node has it or all
		 * nodes agree (ROCm 6.x kernels print adev->unique_id on every node; newer ones a
		 * per-partition id that changes with the mode, HARDWARE.md 8.1) */
		if (!g->unique_id[0] && cnt) {
			bool same = true;

			for (unsigned k = 1; k < cnt; k++)
				same &= !strcmp(t->parts[g->first_partition + k].unique_id,
						t->parts[g->first_partition].unique_id);
			if (same)
				util_strlcpy(g->unique_id, t->parts[g->first_partition].unique_id,
					     sizeof(g->unique_id));
		}
		if (cnt) {
			g->num_xcc = xcc_known ? (int)xcc_total : -1;
			g->compute_units = cu_known ? (int)cu_total : -1;
			if (g->memory_bytes < 0)
				g->memory_bytes = mem_total;
		}
		if (g->mode_source != MIPART_MODE_SOURCE_SYSFS && cnt &&
		    (g->partitioning || (g->gfx_target == 90402 || g->gfx_target == MIPART_GFX_950)))
			infer_modes(g, cnt, xcc_known ? xcc_total : 0, all_single);
	}
	free(mine);

	/* global logical index: order of the GPU nodes in the KFD topology */
	for (size_t i = 0; i < t->n_nodes; i++) {
		for (size_t j = 0; j < t->n_parts; j++)
			if (t->parts[j].kfd_node == (int)t->nodes[i].node) {
				t->parts[j].index = global++;
				break;
			}
	}
	return 0;
}

/* Identity and capability fields that depend on the product table. */
static void finish_gpus(struct mipart_topology *t)
{
	for (size_t i = 0; i < t->n_gpus; i++) {
		struct mipart_gpu_info *g = &t->gpus[i];
		const struct product *p = g->device_id >= 0 ? product_by_device_id((unsigned)g->device_id)
							     : NULL;

		g->index = (unsigned)i;
		for (size_t k = 0; k < g->n_partitions; k++)
			t->parts[g->first_partition + k].gpu = (unsigned)i;
		if (p) {
			g->product = p->name;
			g->is_apu = p->apu;
			g->is_vf = p->vf;
			/* a VF cannot switch (HARDWARE.md 6): whatever the file modes say */
			if (p->vf)
				g->compute_writable = g->memory_writable = false;
			if (p->partitioning)
				g->partitioning = true;
		}
		if (g->compute_supported == 0 && g->partitioning && g->num_xcc > 0)
			g->compute_supported = mipart_compute_modes_supported((unsigned)g->num_xcc);
		if (g->compute_supported == 0)
			g->compute_supported = g->compute_available;
		if (!g->partitioning && g->mode_source == MIPART_MODE_SOURCE_NONE)
			g->compute = MIPART_COMPUTE_UNKNOWN;
	}
}

int mipart_topology_load(const mipart_host *host, mipart_topology **ret)
{
	struct mipart_topology *t;
	int rp, rk, r;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->host = host;

	rp = scan_pci(t);
	if (rp == -ENOMEM) {
		r = rp;
		goto fail;
	}
	if (rp < 0)
		diag(t, "cannot list '%s" SYSFS_PCI_DEVICES "': %s", mipart_host_root(host),
		     mipart_strerror(rp));
	rk = scan_kfd(t);
	if (rk == -ENOMEM) {
		r = rk;
		goto fail;
	}
	if (rk < 0 && (rk != -ENOENT || t->n_gpus > 0))
		diag(t, "cannot read KFD topology '%s" SYSFS_KFD_TOPOLOGY "': %s",
		     mipart_host_root(host), mipart_strerror(rk));
	if (rp < 0 && rk < 0) {
		r = -ENOENT;
		goto fail;
	}
	r = build_partitions(t);
	if (r < 0)
		goto fail;
	finish_gpus(t);
	if (t->diag_dropped) {
		char buf[96];

		snprintf(buf, sizeof(buf), "%zu more problems not shown", t->diag_dropped);
		t->diag[t->n_diag] = strdup(buf);
		if (t->diag[t->n_diag])
			t->n_diag++;
	}
	*ret = t;
	return 0;
fail:
	mipart_topology_free(t);
	return r;
}

mipart_topology *mipart_topology_free(mipart_topology *t)
{
	if (!t)
		return NULL;
	for (size_t i = 0; i < t->n_diag; i++)
		free(t->diag[i]);
	free(t->gpus);
	free(t->parts);
	free(t->nodes);
	free(t);
	return NULL;
}

size_t mipart_topology_gpu_count(const mipart_topology *t)
{
	return t->n_gpus;
}

size_t mipart_topology_partition_count(const mipart_topology *t)
{
	return t->n_parts;
}

void mipart_topology_set_pending(mipart_topology *t, size_t i, mipart_memory_mode mode,
				 int64_t change)
{
	if (i >= t->n_gpus)
		return;
	t->gpus[i].pending_memory = mode;
	t->gpus[i].pending_change = mode == MIPART_MEMORY_UNKNOWN ? 0 : change;
}

const mipart_gpu_info *mipart_topology_gpu(const mipart_topology *t, size_t i)
{
	return i < t->n_gpus ? &t->gpus[i] : NULL;
}

const mipart_partition_info *mipart_topology_partition(const mipart_topology *t, size_t i)
{
	return i < t->n_parts ? &t->parts[i] : NULL;
}

const mipart_partition_info *mipart_topology_gpu_partition(const mipart_topology *t,
							    const mipart_gpu_info *g, size_t j)
{
	if (j >= g->n_partitions)
		return NULL;
	return &t->parts[g->first_partition + j];
}

const mipart_gpu_info *mipart_topology_gpu_by_bdf(const mipart_topology *t, const char *bdf)
{
	for (size_t i = 0; i < t->n_gpus; i++)
		if (!strcasecmp(t->gpus[i].bdf, bdf))
			return &t->gpus[i];
	return NULL;
}

const mipart_partition_info *mipart_topology_partition_at(const mipart_topology *t, const char *bdf,
							  unsigned xcp)
{
	const mipart_gpu_info *g = mipart_topology_gpu_by_bdf(t, bdf);

	for (size_t j = 0; g && j < g->n_partitions; j++)
		if (t->parts[g->first_partition + j].xcp == (int)xcp)
			return &t->parts[g->first_partition + j];
	return NULL;
}

size_t mipart_topology_diag_count(const mipart_topology *t)
{
	return t->n_diag;
}

const char *mipart_topology_diag(const mipart_topology *t, size_t i)
{
	return i < t->n_diag ? t->diag[i] : NULL;
}

size_t mipart_topology_files_read(const mipart_topology *t)
{
	return t->files_read;
}
