// SPDX-License-Identifier: MIT
/*
 * SR-IOV discovery: AMD physical functions with an SR-IOV capability and their virtual
 * functions, from generic PCI sysfs only (the files drivers/pci/iov.c and pci-sysfs.c create
 * for every SR-IOV device: sriov_totalvfs, sriov_numvfs, virtfnN, physfn), the bound driver, the
 * IOMMU group, and the process (a VM's QEMU) that holds the VF's /dev/vfio/<group> open. It
 * knows nothing of how VFs are made; control/sriov-control.c changes them.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mipart/sriov.h"
#include "product.h"
#include "util.h"
#include "banned.h"

#define SRIOV_MAX_PFS 64
#define SRIOV_MAX_VFS 64	/* GIM: VF_NUMBER__MAX 31 (gim_config.h); PCI allows more */
#define SRIOV_PROCS_MAX 65536	/* /proc entries looked at */
#define SRIOV_FDS_MAX 4096	/* fds looked at per process */

struct mipart_sriov {
	mipart_pf *pfs;
	size_t n;
};

/*
 * VF counts GIM offers per product, and the partition modes each count brings. Sources: the GIM
 * release notes (amd/MxGPU-Virtualization releases 9.1.0.K, 9.2.0.K, 9.4.0.K, table "VF per
 * GPU - Compute Mode - Memory Mode"): MI300X 1 - SPX - NPS1 or 8 - CPX - NPS4; MI325X 1 - SPX -
 * NPS1; MI350X/MI355X 1 - SPX - NPS1, 2 - DPX - NPS2, 8 - CPX - NPS2. VF device ids: 74b5
 * (MI300X VF) and 74b9 (MI325X VF) from pci.ids and guests' reports (HARDWARE.md §8.10); the
 * MI350-series VF ids follow the same +0x14 step and are UNCONFIRMED.
 */
static const struct {
	unsigned pf, vf;
	unsigned n;
	unsigned counts[3];
	const char *modes[3];
} sriov_table[] = {
	{ 0x74a1, 0x74b5, 2, { 1, 8 }, { "SPX/NPS1", "CPX/NPS4" } },
	{ 0x74a5, 0x74b9, 1, { 1 }, { "SPX/NPS1" } },
	{ 0x75a0, 0x75b4, 3, { 1, 2, 8 }, { "SPX/NPS1", "DPX/NPS2", "CPX/NPS2" } },
	{ 0x75a3, 0x75b7, 3, { 1, 2, 8 }, { "SPX/NPS1", "DPX/NPS2", "CPX/NPS2" } },
};

size_t mipart_sriov_allowed(unsigned pf_device_id, unsigned *ret_counts, const char **ret_modes,
			    size_t max)
{
	for (size_t i = 0; i < ARRAY_SIZE(sriov_table); i++) {
		if (sriov_table[i].pf != pf_device_id)
			continue;
		for (size_t k = 0; k < sriov_table[i].n && k < max; k++) {
			if (ret_counts)
				ret_counts[k] = sriov_table[i].counts[k];
			if (ret_modes)
				ret_modes[k] = sriov_table[i].modes[k];
		}
		return sriov_table[i].n;
	}
	return 0;
}


static int read_hex(int dirfd, const char *name, unsigned *ret)
{
	char buf[64];
	uint64_t v;
	ssize_t n = util_read_fileat(dirfd, name, buf, sizeof(buf) - 1);

	if (n < 0)
		return (int)n;
	if (util_parse_line_hex(buf, (size_t)n, &v) < 0 || v > 0xffffffffu)
		return -EBADMSG;
	*ret = (unsigned)v;
	return 0;
}

static int read_uint(int dirfd, const char *name, unsigned *ret)
{
	char buf[64];
	uint64_t v;
	ssize_t n = util_read_fileat(dirfd, name, buf, sizeof(buf) - 1);

	if (n < 0)
		return (int)n;
	if (util_parse_line_u64(buf, (size_t)n, &v) < 0 || v > 1u << 20)
		return -EBADMSG;
	*ret = (unsigned)v;
	return 0;
}

/* basename of the target of link name in dirfd, or "" */
static void link_base(int dirfd, const char *name, char *buf, size_t size)
{
	char link[512];
	ssize_t n = readlinkat(dirfd, name, link, sizeof(link) - 1);
	const char *b;

	buf[0] = '\0';
	if (n <= 0)
		return;
	link[n] = '\0';
	b = strrchr(link, '/');
	util_strlcpy(buf, b ? b + 1 : link, size);
}

static bool is_bdf(const char *s)
{
	unsigned d, b, dev, f;
	char tail;

	return strlen(s) == 12 && sscanf(s, "%4x:%2x:%2x.%1x%c", &d, &b, &dev, &f, &tail) == 4;
}

static int cmp_pf(const void *a, const void *b)
{
	return strcmp(((const mipart_pf *)a)->bdf, ((const mipart_pf *)b)->bdf);
}

/* QEMU's -name: "guest=NAME,debug-threads=on" (libvirt) or "NAME". */
static void vm_name(const char *cmdline, size_t len, char *buf, size_t size)
{
	buf[0] = '\0';
	for (size_t i = 0; i < len;) {
		const char *arg = cmdline + i;
		size_t alen = strnlen(arg, len - i);

		i += alen + 1;
		if (strcmp(arg, "-name") || i >= len)
			continue;
		const char *v = cmdline + i;
		size_t vlen = strnlen(v, len - i), k = 0;

		if (vlen > 6 && !strncmp(v, "guest=", 6)) {
			v += 6;
			vlen -= 6;
		}
		/* the value ends at a comma; ",," is an escaped comma in QEMU's option syntax */
		for (size_t j = 0; j < vlen && k + 1 < size; j++) {
			if (v[j] == ',') {
				if (j + 1 < vlen && v[j + 1] == ',')
					j++;
				else
					break;
			}
			buf[k++] = v[j];
		}
		buf[k] = '\0';
		return;
	}
}

/* Who holds /dev/vfio/<group> of each VF: one pass over /proc. */
static void scan_users(const mipart_host *host, mipart_pf *pfs, size_t n)
{
	char path[MIPART_PATH_MAX];
	size_t seen = 0;
	DIR *d;

	if (mipart_host_path(host, "/proc", path, sizeof(path)) < 0 || !(d = opendir(path)))
		return;
	for (struct dirent *de; (de = readdir(d)) && seen < SRIOV_PROCS_MAX;) {
		uint64_t pid;
		int pfd;
		DIR *fds;
		size_t nfd = 0;

		if (util_parse_u64(de->d_name, strlen(de->d_name), &pid) < 0 || pid == 0 ||
		    pid > 1u << 22)
			continue;
		seen++;
		pfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pfd < 0)
			continue;
		fds = util_opendirat(pfd, "fd");
		for (struct dirent *fe; fds && (fe = readdir(fds)) && nfd < SRIOV_FDS_MAX;) {
			char name[300], link[256];
			uint64_t group;
			ssize_t l;

			if (fe->d_name[0] == '.')
				continue;
			nfd++;
			snprintf(name, sizeof(name), "fd/%s", fe->d_name);
			l = readlinkat(pfd, name, link, sizeof(link) - 1);
			if (l <= 11)
				continue;
			link[l] = '\0';
			if (strncmp(link, "/dev/vfio/", 10) ||
			    util_parse_u64(link + 10, (size_t)l - 10, &group) < 0)
				continue;
			for (size_t i = 0; i < n; i++)
				for (size_t k = 0; k < pfs[i].n_vfs; k++) {
					mipart_vf *vf = &pfs[i].vfs[k];
					char buf[UTIL_ATTR_MAX + 1];
					ssize_t cl;

					if (vf->iommu_group < 0 || (uint64_t)vf->iommu_group != group ||
					    vf->user.pid)
						continue;
					vf->user.pid = (int)pid;
					cl = util_read_fileat(pfd, "comm", buf, sizeof(buf) - 1);
					if (cl > 0)
						util_strlcpy(vf->user.comm, buf,
							     (size_t)cl < sizeof(vf->user.comm)
								     ? (size_t)cl
								     : sizeof(vf->user.comm));
					/* the whole cmdline may be longer than a page: the first page
					 * holds QEMU's -name, which libvirt puts near the front */
					cl = util_read_fileat(pfd, "cmdline", buf, UTIL_ATTR_MAX);
					if (cl == -EFBIG) {
						int cfd = openat(pfd, "cmdline", O_RDONLY | O_CLOEXEC);

						cl = cfd < 0 ? -1 : read(cfd, buf, UTIL_ATTR_MAX);
						if (cfd >= 0)
							close(cfd);
					}
					if (cl > 0)
						vm_name(buf, (size_t)cl, vf->user.vm, sizeof(vf->user.vm));
				}
		}
		if (fds)
			closedir(fds);
		close(pfd);
	}
	closedir(d);
}

static int read_vf(int devices, const char *bdf, unsigned index, mipart_vf *vf)
{
	char group[32];
	uint64_t g;
	int fd = openat(devices, bdf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	memset(vf, 0, sizeof(*vf));
	util_strlcpy(vf->bdf, bdf, sizeof(vf->bdf));
	vf->index = index;
	vf->iommu_group = -1;
	if (fd < 0)
		return -errno;
	if (read_hex(fd, "device", &vf->device_id) < 0)
		vf->device_id = 0;
	link_base(fd, "driver", vf->driver, sizeof(vf->driver));
	link_base(fd, "iommu_group", group, sizeof(group));
	if (group[0] && util_parse_u64(group, strlen(group), &g) == 0 && g < 1u << 20)
		vf->iommu_group = (int)g;
	close(fd);
	return 0;
}

static int read_pf(int devices, const char *bdf, mipart_pf *pf)
{
	int fd = openat(devices, bdf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	const struct product *p;
	unsigned vendor = 0;
	int r = 0;

	if (fd < 0)
		return -errno;
	if (read_hex(fd, "vendor", &vendor) < 0 || vendor != 0x1002 ||
	    read_uint(fd, "sriov_totalvfs", &pf->total_vfs) < 0) {
		close(fd);
		return -ENOENT;
	}
	util_strlcpy(pf->bdf, bdf, sizeof(pf->bdf));
	if (read_hex(fd, "device", &pf->device_id) < 0)
		pf->device_id = 0;
	p = product_by_device_id(pf->device_id);
	pf->product = p ? p->name : NULL;
	link_base(fd, "driver", pf->driver, sizeof(pf->driver));
	pf->gim_index = -1;
	if (read_uint(fd, "sriov_numvfs", &pf->num_vfs) < 0)
		pf->num_vfs = 0;
	if (pf->num_vfs > SRIOV_MAX_VFS)
		pf->num_vfs = SRIOV_MAX_VFS;
	if (pf->num_vfs) {
		pf->vfs = calloc(pf->num_vfs, sizeof(*pf->vfs));
		if (!pf->vfs) {
			close(fd);
			return -ENOMEM;
		}
	}
	for (unsigned i = 0; i < pf->num_vfs; i++) {
		char name[32], vbdf[64];

		snprintf(name, sizeof(name), "virtfn%u", i);
		link_base(fd, name, vbdf, sizeof(vbdf));
		if (!is_bdf(vbdf))
			continue;
		if (read_vf(devices, vbdf, i, &pf->vfs[pf->n_vfs]) == 0)
			pf->n_vfs++;
	}
	close(fd);
	return r;
}

/* XCDs and memory per VF: the product's split for the VF count (GIM's mode for that count). */
static void derive_shares(mipart_pf *pf)
{
	const struct product *p = product_by_device_id(pf->device_id);

	if (!p || !pf->num_vfs || !mipart_sriov_allowed(pf->device_id, NULL, NULL, 0))
		return;
	for (size_t k = 0; k < pf->n_vfs; k++) {
		pf->vfs[k].xcds = p->num_xcc / pf->num_vfs;
		pf->vfs[k].memory = product_vram(p) / pf->num_vfs;
	}
}

int mipart_sriov_scan(const mipart_host *host, mipart_sriov **ret)
{
	char path[MIPART_PATH_MAX];
	mipart_sriov *s = NULL;
	int devices = -1, r, gim = 0;
	DIR *d = NULL;

	r = mipart_host_path(host, "/sys/bus/pci/devices", path, sizeof(path));
	if (r < 0)
		return r;
	d = opendir(path);
	if (!d)
		return -ENOENT;
	devices = dirfd(d);
	s = calloc(1, sizeof(*s));
	if (!s) {
		r = -ENOMEM;
		goto out;
	}
	for (struct dirent *de; (de = readdir(d));) {
		mipart_pf pf = { 0 }, *n;

		if (!is_bdf(de->d_name) || s->n >= SRIOV_MAX_PFS)
			continue;
		r = read_pf(devices, de->d_name, &pf);
		if (r == -ENOMEM)
			goto out;
		if (r < 0)
			continue;
		n = realloc(s->pfs, (s->n + 1) * sizeof(*s->pfs));
		if (!n) {
			free(pf.vfs);
			r = -ENOMEM;
			goto out;
		}
		s->pfs = n;
		s->pfs[s->n++] = pf;
	}
	if (s->n)
		qsort(s->pfs, s->n, sizeof(*s->pfs), cmp_pf);
	/* GIM numbers the GPUs it drives in probe order (gim_drv.c: gim_probe, gim_gpu_id++),
	 * which follows PCI enumeration: address order here. */
	for (size_t i = 0; i < s->n; i++) {
		if (!strcmp(s->pfs[i].driver, "gim"))
			s->pfs[i].gim_index = gim++;
		derive_shares(&s->pfs[i]);
	}
	scan_users(host, s->pfs, s->n);
	*ret = s;
	s = NULL;
	r = 0;
out:
	mipart_sriov_free(s);
	closedir(d);
	return r;
}

mipart_sriov *mipart_sriov_free(mipart_sriov *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		free(s->pfs[i].vfs);
	free(s->pfs);
	free(s);
	return NULL;
}

size_t mipart_sriov_count(const mipart_sriov *s)
{
	return s ? s->n : 0;
}

const mipart_pf *mipart_sriov_get(const mipart_sriov *s, size_t i)
{
	return s && i < s->n ? &s->pfs[i] : NULL;
}

static bool parse_index(const char *s, size_t len, unsigned *ret)
{
	uint64_t v;

	if (util_parse_u64(s, len, &v) < 0 || v > 1024)
		return false;
	*ret = (unsigned)v;
	return true;
}

const mipart_pf *mipart_sriov_find_pf(const mipart_sriov *s, const char *sel)
{
	unsigned i;

	if (!s || !sel)
		return NULL;
	if (parse_index(sel, strlen(sel), &i))
		return i < s->n ? &s->pfs[i] : NULL;
	for (size_t k = 0; k < s->n; k++)
		if (!strcasecmp(s->pfs[k].bdf, sel))
			return &s->pfs[k];
	return NULL;
}

const mipart_vf *mipart_sriov_find_vf(const mipart_sriov *s, const char *sel,
				      const mipart_pf **ret_pf)
{
	const char *dot;
	unsigned p, v;

	if (!s || !sel)
		return NULL;
	dot = strchr(sel, '.');
	if (dot && !strchr(sel, ':') && parse_index(sel, (size_t)(dot - sel), &p) &&
	    parse_index(dot + 1, strlen(dot + 1), &v)) {
		if (p >= s->n)
			return NULL;
		for (size_t k = 0; k < s->pfs[p].n_vfs; k++)
			if (s->pfs[p].vfs[k].index == v) {
				if (ret_pf)
					*ret_pf = &s->pfs[p];
				return &s->pfs[p].vfs[k];
			}
		return NULL;
	}
	for (size_t i = 0; i < s->n; i++)
		for (size_t k = 0; k < s->pfs[i].n_vfs; k++)
			if (!strcasecmp(s->pfs[i].vfs[k].bdf, sel)) {
				if (ret_pf)
					*ret_pf = &s->pfs[i];
				return &s->pfs[i].vfs[k];
			}
	return NULL;
}

unsigned mipart_sriov_pf_vfs(const mipart_host *host, const char *bdf)
{
	char rel[64], path[MIPART_PATH_MAX], buf[64];
	uint64_t v;
	ssize_t n;

	if (!bdf || !is_bdf(bdf) ||
	    util_pathf(rel, sizeof(rel), "/sys/bus/pci/devices/%s/sriov_numvfs", bdf) < 0 ||
	    mipart_host_path(host, rel, path, sizeof(path)) < 0)
		return 0;
	n = util_read_file(path, buf, sizeof(buf) - 1);
	if (n < 0 || util_parse_line_u64(buf, (size_t)n, &v) < 0 || v > 1u << 20)
		return 0;
	return (unsigned)v;
}
