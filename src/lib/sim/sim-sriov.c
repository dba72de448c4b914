// SPDX-License-Identifier: MIT
/*
 * The simulated SR-IOV host (GIM). What it models, with sources:
 * - GIM owns the PFs and makes the VFs itself when it loads, vf_num per GPU from its module
 *   parameter or /etc/gim_config (gim_config.c: gim_conf_init, "vf_num=N0,N1,..."; a missing
 *   trailing entry repeats the last one, gim_handle_array_token). GIM's pci_driver has no
 *   sriov_configure (gim_drv.c: gim_driver), so a write to sriov_numvfs fails with ENOENT
 *   (drivers/pci/iov.c: sriov_numvfs_store, "Driver does not support SRIOV configuration via
 *   sysfs").
 * - The VF counts per product are those of GIM's release notes (discover/sriov.c); a count GIM
 *   does not offer leaves that GPU without VFs and without the driver (stricter: the real GIM's
 *   behaviour is not documented).
 * - GIM's module exit waits while any VF is enabled by a user (gim_exit: enable_cnt > 0, msleep
 *   5000 in a loop); the simulator answers EBUSY instead of hanging.
 * - Binding follows the kernel: driver_override, then drivers_probe binds the device to the
 *   named driver (drivers/pci/pci-driver.c, Documentation/ABI/testing/sysfs-bus-pci); vfio-pci
 *   creates /dev/vfio/<iommu group>. Unbinding a VF a process holds is refused with EBUSY
 *   (stricter: vfio waits for the release).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mipart/sim-sriov.h"
#include "mipart/sriov.h"
#include "product.h"
#include "util.h"
#include "banned.h"

#define SS_MAX_GPUS 8
#define SS_MAX_VFS 8
#define SS_MAX_PROCS 32
#define SS_LOCK "mipart-sim-sriov.lock"

struct ss_proc {
	int pid;
	char comm[16];
	char vm[64];
	char vf[16];
};

struct ss {
	const struct product *product;
	unsigned gpus;
	bool loaded;
	unsigned vfs[SS_MAX_GPUS];			/* VFs GIM made for each PF; 0: none */
	char driver[SS_MAX_GPUS][SS_MAX_VFS][16];	/* bound driver, "" none */
	char override[SS_MAX_GPUS][SS_MAX_VFS][16];	/* driver_override, "" none */
	struct ss_proc proc[SS_MAX_PROCS];
	unsigned n_procs;
};

static void pf_bdf(unsigned i, char *buf, size_t size)
{
	snprintf(buf, size, "0000:%02x:00.0", 0x05 + 0x10 * i);
}

static void vf_bdf(unsigned i, unsigned k, char *buf, size_t size)
{
	snprintf(buf, size, "0000:%02x:02.%u", (0x05 + 0x10 * i) & 0xff, k & 7);
}

static unsigned iommu_group(unsigned i, unsigned k)
{
	return 100 + i * SS_MAX_VFS + k;
}

static unsigned vf_device(const struct product *p)
{
	/* the same table discover/sriov.c reads: the VF id of this PF */
	static const unsigned pairs[][2] = { { 0x74a1, 0x74b5 }, { 0x74a5, 0x74b9 },
					     { 0x75a0, 0x75b4 }, { 0x75a3, 0x75b7 } };

	for (size_t i = 0; i < ARRAY_SIZE(pairs); i++)
		if (pairs[i][0] == p->device_id)
			return pairs[i][1];
	return 0;
}

static bool allowed(const struct product *p, unsigned n)
{
	unsigned counts[8];
	size_t k = mipart_sriov_allowed(p->device_id, counts, NULL, ARRAY_SIZE(counts));

	for (size_t i = 0; i < k; i++)
		if (counts[i] == n)
			return true;
	return false;
}

/* Find VF bdf: its PF i and index k. */
static bool find_vf(const struct ss *s, const char *bdf, unsigned *ri, unsigned *rk)
{
	char b[16];

	for (unsigned i = 0; i < s->gpus; i++)
		for (unsigned k = 0; k < s->vfs[i]; k++) {
			vf_bdf(i, k, b, sizeof(b));
			if (!strcmp(b, bdf)) {
				*ri = i;
				*rk = k;
				return true;
			}
		}
	return false;
}

static bool vf_held(const struct ss *s, const char *bdf)
{
	for (unsigned p = 0; p < s->n_procs; p++)
		if (!strcmp(s->proc[p].vf, bdf))
			return true;
	return false;
}

/* ---- state file ---- */

static int ss_save(const char *dir, const struct ss *s)
{
	json_t *o = json_object(), *pfs = json_array(), *procs = json_array();
	char path[MIPART_PATH_MAX], *text = NULL;
	int r = -ENOMEM;

	if (!o || !pfs || !procs)
		goto out;
	json_object_set_new(o, "product", json_string(s->product->key));
	json_object_set_new(o, "loaded", json_boolean(s->loaded));
	for (unsigned i = 0; i < s->gpus; i++) {
		json_t *pf = json_object(), *vfs = json_array();

		json_object_set_new(pf, "vfs", json_integer(s->vfs[i]));
		for (unsigned k = 0; k < SS_MAX_VFS; k++)
			json_array_append_new(vfs, json_pack("{s:s,s:s}", "driver", s->driver[i][k],
							     "override", s->override[i][k]));
		json_object_set_new(pf, "vf", vfs);
		json_array_append_new(pfs, pf);
	}
	for (unsigned p = 0; p < s->n_procs; p++)
		json_array_append_new(procs, json_pack("{s:i,s:s,s:s,s:s}", "pid", s->proc[p].pid,
						       "comm", s->proc[p].comm, "vm", s->proc[p].vm,
						       "vf", s->proc[p].vf));
	json_object_set(o, "pfs", pfs);
	json_object_set(o, "procs", procs);
	text = json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (!text)
		goto out;
	r = util_pathf(path, sizeof(path), "%s/" MIPART_SIM_SRIOV_STATE, dir);
	if (r >= 0)
		r = util_write_file_durable(path, text, strlen(text), 0644);
out:
	free(text);
	json_decref(pfs);
	json_decref(procs);
	json_decref(o);
	return r < 0 ? r : 0;
}

static void copy_str(json_t *o, const char *key, char *buf, size_t size)
{
	const char *v = json_string_value(json_object_get(o, key));

	util_strlcpy(buf, v ? v : "", size);
}

static int ss_load(const char *dir, struct ss *s)
{
	char path[MIPART_PATH_MAX];
	json_t *o, *pfs, *procs;
	json_error_t e;
	size_t i;
	int r;

	memset(s, 0, sizeof(*s));
	r = util_pathf(path, sizeof(path), "%s/" MIPART_SIM_SRIOV_STATE, dir);
	if (r < 0)
		return r;
	o = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
	if (!o)
		return access(path, F_OK) == 0 ? -EBADMSG : -ENOENT;
	s->product = product_by_key(json_string_value(json_object_get(o, "product")) ?: "");
	pfs = json_object_get(o, "pfs");
	procs = json_object_get(o, "procs");
	if (!s->product || !json_is_array(pfs) || json_array_size(pfs) > SS_MAX_GPUS ||
	    json_array_size(pfs) == 0 || !json_is_array(procs) ||
	    json_array_size(procs) > SS_MAX_PROCS) {
		json_decref(o);
		return -EBADMSG;
	}
	s->loaded = json_is_true(json_object_get(o, "loaded"));
	s->gpus = (unsigned)json_array_size(pfs);
	for (i = 0; i < s->gpus; i++) {
		json_t *pf = json_array_get(pfs, i), *vfs = json_object_get(pf, "vf");
		json_int_t n = json_integer_value(json_object_get(pf, "vfs"));

		if (n < 0 || n > SS_MAX_VFS || !json_is_array(vfs) ||
		    json_array_size(vfs) != SS_MAX_VFS) {
			json_decref(o);
			return -EBADMSG;
		}
		s->vfs[i] = (unsigned)n;
		for (unsigned k = 0; k < SS_MAX_VFS; k++) {
			copy_str(json_array_get(vfs, k), "driver", s->driver[i][k], 16);
			copy_str(json_array_get(vfs, k), "override", s->override[i][k], 16);
		}
	}
	s->n_procs = (unsigned)json_array_size(procs);
	for (i = 0; i < s->n_procs; i++) {
		json_t *p = json_array_get(procs, i);

		s->proc[i].pid = (int)json_integer_value(json_object_get(p, "pid"));
		copy_str(p, "comm", s->proc[i].comm, sizeof(s->proc[i].comm));
		copy_str(p, "vm", s->proc[i].vm, sizeof(s->proc[i].vm));
		copy_str(p, "vf", s->proc[i].vf, sizeof(s->proc[i].vf));
		if (s->proc[i].pid <= 0) {
			json_decref(o);
			return -EBADMSG;
		}
	}
	json_decref(o);
	return 0;
}

/* ---- the tree ---- */

struct out {
	const char *dir;
	int err;
};

static void w(struct out *O, const char *rel, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void w(struct out *O, const char *rel, const char *fmt, ...)
{
	char path[MIPART_PATH_MAX], data[512];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(data, sizeof(data), fmt, ap);
	va_end(ap);
	if (util_pathf(path, sizeof(path), "%s/%s", O->dir, rel) < 0) {
		O->err = -ENAMETOOLONG;
		return;
	}
	util_mkdir_parent(path); /* an error shows in what follows */
	r = util_write_file(path, data, strlen(data), 0644);
	if (r < 0 && !O->err)
		O->err = r;
}

static void ln(struct out *O, const char *rel, const char *target)
{
	char path[MIPART_PATH_MAX];

	if (util_pathf(path, sizeof(path), "%s/%s", O->dir, rel) < 0) {
		O->err = -ENAMETOOLONG;
		return;
	}
	util_mkdir_parent(path); /* an error shows in what follows */
	unlink(path);
	if (symlink(target, path) < 0 && !O->err)
		O->err = -errno;
}

static void rm(struct out *O, const char *rel)
{
	char path[MIPART_PATH_MAX];

	if (util_pathf(path, sizeof(path), "%s/%s", O->dir, rel) >= 0)
		util_rm_rf(path);
}

static int ss_render(const char *dir, const struct ss *s)
{
	struct out O = { .dir = dir };
	unsigned vfd = vf_device(s->product);
	char rel[256], tgt[256], b[16], vb[16];

	rm(&O, "sys");
	rm(&O, "proc");
	rm(&O, "dev/vfio");
	w(&O, "sys/bus/pci/drivers_probe", "%s", "");
	w(&O, "sys/bus/pci/drivers/vfio-pci/new_id", "%s", "");
	if (s->loaded)
		w(&O, "sys/module/gim/version", "%s\n", "8.4.0.K");
	for (unsigned i = 0; i < s->gpus; i++) {
		unsigned total = 0, counts[8];
		size_t n = mipart_sriov_allowed(s->product->device_id, counts, NULL, 8);

		for (size_t k = 0; k < n; k++)
			total = counts[k] > total ? counts[k] : total;
		pf_bdf(i, b, sizeof(b));
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s", b);
		snprintf(tgt, sizeof(tgt), "../../../devices/pci0000:00/%s", b);
		ln(&O, rel, tgt);
		snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/vendor", b);
		w(&O, rel, "0x1002\n");
		snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/device", b);
		w(&O, rel, "0x%04x\n", s->product->device_id);
		snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/class", b);
		w(&O, rel, "0x%06x\n", s->product->pci_class);
		snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/numa_node", b);
		w(&O, rel, "%u\n", i < s->gpus / 2 ? 0 : 1);
		snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/sriov_totalvfs", b);
		w(&O, rel, "%u\n", total);
		snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/sriov_numvfs", b);
		w(&O, rel, "%u\n", s->loaded ? s->vfs[i] : 0);
		if (!s->loaded || !s->vfs[i])
			continue;
		snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/driver", b);
		ln(&O, rel, "../../../bus/pci/drivers/gim");
		snprintf(rel, sizeof(rel), "sys/bus/pci/drivers/gim/%s", b);
		snprintf(tgt, sizeof(tgt), "../../../../devices/pci0000:00/%s", b);
		ln(&O, rel, tgt);
		for (unsigned k = 0; k < s->vfs[i]; k++) {
			unsigned g = iommu_group(i, k);

			vf_bdf(i, k, vb, sizeof(vb));
			snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/virtfn%u", b, k);
			snprintf(tgt, sizeof(tgt), "../%s", vb);
			ln(&O, rel, tgt);
			snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s", vb);
			snprintf(tgt, sizeof(tgt), "../../../devices/pci0000:00/%s", vb);
			ln(&O, rel, tgt);
			snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/vendor", vb);
			w(&O, rel, "0x1002\n");
			snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/device", vb);
			w(&O, rel, "0x%04x\n", vfd);
			snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/class", vb);
			w(&O, rel, "0x%06x\n", s->product->pci_class);
			snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/physfn", vb);
			snprintf(tgt, sizeof(tgt), "../%s", b);
			ln(&O, rel, tgt);
			snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/driver_override", vb);
			w(&O, rel, "%s\n", s->override[i][k][0] ? s->override[i][k] : "(null)");
			snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/iommu_group", vb);
			snprintf(tgt, sizeof(tgt), "../../../kernel/iommu_groups/%u", g);
			ln(&O, rel, tgt);
			snprintf(rel, sizeof(rel), "sys/kernel/iommu_groups/%u/devices/%s", g, vb);
			snprintf(tgt, sizeof(tgt), "../../../../devices/pci0000:00/%s", vb);
			ln(&O, rel, tgt);
			if (s->driver[i][k][0]) {
				snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/driver", vb);
				snprintf(tgt, sizeof(tgt), "../../../bus/pci/drivers/%s",
					 s->driver[i][k]);
				ln(&O, rel, tgt);
				snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/driver/unbind", vb);
				snprintf(rel, sizeof(rel), "sys/bus/pci/drivers/%s/unbind",
					 s->driver[i][k]);
				w(&O, rel, "%s", "");
			}
			if (!strcmp(s->driver[i][k], "vfio-pci")) {
				snprintf(rel, sizeof(rel), "dev/vfio/%u", g);
				w(&O, rel, "%s", "");
			}
		}
	}
	w(&O, "dev/vfio/vfio", "%s", "");
	for (unsigned p = 0; p < s->n_procs; p++) {
		const struct ss_proc *pr = &s->proc[p];
		char cmd[256];
		unsigned i, k;
		int len;

		snprintf(rel, sizeof(rel), "proc/%d/comm", pr->pid);
		w(&O, rel, "%s\n", pr->comm);
		/* libvirt's QEMU command line starts "-name guest=NAME,debug-threads=on" */
		len = snprintf(cmd, sizeof(cmd), "/usr/bin/qemu-system-x86_64%c-name%cguest=%s,debug-threads=on%c",
			       0, 0, pr->vm, 0);
		snprintf(rel, sizeof(rel), "%s/proc/%d/cmdline", dir, pr->pid);
		if (len > 0)
			util_write_file(rel, cmd, (size_t)len < sizeof(cmd) ? (size_t)len : sizeof(cmd),
					0444);
		if (find_vf(s, pr->vf, &i, &k)) {
			snprintf(rel, sizeof(rel), "proc/%d/fd/20", pr->pid);
			snprintf(tgt, sizeof(tgt), "/dev/vfio/%u", iommu_group(i, k));
			ln(&O, rel, tgt);
		}
	}
	return O.err;
}

/* ---- GIM's config file ---- */

/* GIM's vf_num array: "vf_num=8,8,1"; entries past the end repeat the last one. */
static void read_vf_num(const char *dir, unsigned gpus, unsigned *ret)
{
	char path[MIPART_PATH_MAX], buf[4097];
	const char *line;
	ssize_t n;

	for (unsigned i = 0; i < gpus; i++)
		ret[i] = 1; /* VF_NUMBER__DEFAULT */
	if (util_pathf(path, sizeof(path), "%s/etc/gim_config", dir) < 0 ||
	    (n = util_read_file(path, buf, sizeof(buf) - 1)) < 0)
		return;
	for (line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		const char *v;
		unsigned i = 0, last = 1;

		if (strncmp(line, "vf_num=", 7))
			continue;
		v = line + 7;
		while (i < gpus && *v && *v != '\n') {
			unsigned long x = 0;
			int digits = 0;

			while (*v >= '0' && *v <= '9' && digits < 4) {
				x = x * 10 + (unsigned long)(*v++ - '0');
				digits++;
			}
			/* an invalid token takes the default (gim_handle_array_token) */
			last = digits && x >= 1 && x <= 31 ? (unsigned)x : 1;
			ret[i++] = last;
			while (*v && *v != ',' && *v != '\n')
				v++;
			if (*v == ',')
				v++;
		}
		for (; i < gpus; i++)
			ret[i] = last;
	}
}

static int write_config(const char *dir, const struct ss *s)
{
	char path[MIPART_PATH_MAX], text[512];
	size_t len = 0;

	len += (size_t)snprintf(text + len, sizeof(text) - len, "vf_num=");
	for (unsigned i = 0; i < s->gpus; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%u", i ? "," : "",
					s->vfs[i] ? s->vfs[i] : 1);
	/* accelerator_partition_mode holds the partition count (gim_drv.c:
	 * gim_set_dynamic_partition_mode compares it with profiles[i].num_partitions) */
	len += (size_t)snprintf(text + len, sizeof(text) - len, "\naccelerator_partition_mode=%u\n",
				s->vfs[0] ? s->vfs[0] : 1);
	if (util_pathf(path, sizeof(path), "%s/etc/gim_config", dir) < 0)
		return -ENAMETOOLONG;
	return util_write_file_durable_mkdir(path, text, len, 0644);
}

static int ss_lock(const char *dir)
{
	char path[MIPART_PATH_MAX];
	int fd;

	if (util_pathf(path, sizeof(path), "%s/" SS_LOCK, dir) < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			close(fd);
			return -EIO;
		}
	return fd;
}

static void gim_probe(const char *dir, struct ss *s)
{
	unsigned want[SS_MAX_GPUS];

	read_vf_num(dir, s->gpus, want);
	for (unsigned i = 0; i < s->gpus; i++) {
		s->vfs[i] = allowed(s->product, want[i]) && want[i] <= SS_MAX_VFS ? want[i] : 0;
		/* VFs come back unbound, without overrides (new devices) */
		memset(s->driver[i], 0, sizeof(s->driver[i]));
		memset(s->override[i], 0, sizeof(s->override[i]));
	}
	s->loaded = true;
}

int mipart_sim_sriov_create(const char *dir, const char *product, unsigned gpus, unsigned vfs,
			    const char **ret_why)
{
	struct ss s = { 0 };
	unsigned counts[8];
	size_t n;
	int r;

	s.product = product_by_key(product ? product : "mi300x");
	n = s.product ? mipart_sriov_allowed(s.product->device_id, counts, NULL, 8) : 0;
	if (!n) {
		if (ret_why)
			*ret_why = "GIM offers SR-IOV on mi300x, mi325x, mi350x and mi355x";
		return -EINVAL;
	}
	if (gpus == 0)
		gpus = 8;
	if (gpus > SS_MAX_GPUS) {
		if (ret_why)
			*ret_why = "the simulated SR-IOV host has 1 to 8 GPUs";
		return -EINVAL;
	}
	if (!vfs)
		vfs = counts[0];
	if (!allowed(s.product, vfs) || vfs > SS_MAX_VFS) {
		if (ret_why)
			*ret_why = "GIM does not offer that VF count for this product "
				   "(mipart vf list shows the counts)";
		return -EINVAL;
	}
	if (!util_dir_empty(dir))
		return -EEXIST;
	r = util_mkdir_p(dir);
	if (r < 0)
		return r;
	s.gpus = gpus;
	for (unsigned i = 0; i < gpus; i++)
		s.vfs[i] = vfs;
	r = write_config(dir, &s);
	if (r < 0)
		return r;
	gim_probe(dir, &s);
	r = ss_save(dir, &s);
	return r < 0 ? r : ss_render(dir, &s);
}

bool mipart_sim_sriov_is(const mipart_host *host)
{
	char path[MIPART_PATH_MAX];

	return mipart_host_root(host)[0] &&
	       mipart_host_path(host, "/" MIPART_SIM_SRIOV_STATE, path, sizeof(path)) >= 0 &&
	       access(path, F_OK) == 0;
}

/* the bdf in "sys/bus/pci/devices/<bdf>/<file>", and file */
static bool split_rel(const char *rel, char *bdf, const char **file)
{
	const char *p = "sys/bus/pci/devices/", *slash;

	if (strncmp(rel, p, strlen(p)))
		return false;
	rel += strlen(p);
	slash = strchr(rel, '/');
	if (!slash || (size_t)(slash - rel) >= 16)
		return false;
	memcpy(bdf, rel, (size_t)(slash - rel));
	bdf[slash - rel] = '\0';
	*file = slash + 1;
	return true;
}

static int do_write(const char *dir, struct ss *s, const char *rel, const char *value)
{
	char bdf[16], v[64];
	const char *file;
	unsigned i, k;
	size_t len = strcspn(value, "\n");

	if (len >= sizeof(v))
		return -EINVAL;
	memcpy(v, value, len);
	v[len] = '\0';
	if (!strcmp(rel, "sys/bus/pci/drivers_probe")) {
		if (!find_vf(s, v, &i, &k))
			return -ENODEV;
		if (s->driver[i][k][0])
			return 0; /* already bound: nothing to probe */
		/* with an override only that driver may bind (pci-driver.c: pci_match_device) */
		if (!s->override[i][k][0])
			return 0; /* no host driver takes a VF here (amdgpu is not used on a GIM host) */
		if (strcmp(s->override[i][k], "vfio-pci"))
			return -ENODEV; /* only vfio-pci is loaded in the simulated host */
		util_strlcpy(s->driver[i][k], "vfio-pci", 16);
		return 0;
	}
	if (!split_rel(rel, bdf, &file))
		return -ENOENT;
	if (!strcmp(file, "sriov_numvfs")) {
		char pb[16];

		for (i = 0; i < s->gpus; i++) {
			pf_bdf(i, pb, sizeof(pb));
			if (!strcmp(pb, bdf))
				return -ENOENT; /* GIM has no sriov_configure */
		}
		return -ENOENT;
	}
	if (!find_vf(s, bdf, &i, &k))
		return -ENOENT;
	if (!strcmp(file, "driver_override")) {
		/* an empty write clears it (drivers/base/driver.c: driver_set_override) */
		if (len >= 16)
			return -EINVAL;
		util_strlcpy(s->override[i][k], v, 16);
		return 0;
	}
	if (!strcmp(file, "driver/unbind")) {
		if (!s->driver[i][k][0])
			return -ENOENT;
		if (strcmp(v, bdf))
			return -ENODEV;
		if (vf_held(s, bdf))
			return -EBUSY;
		s->driver[i][k][0] = '\0';
		return 0;
	}
	return -EACCES;
}

/* One step of the simulated host: under its lock, load the state, apply fn, save, re-render. */
static int with_ss(const char *dir, int (*fn)(const char *dir, struct ss *s, const void *arg),
		   const void *arg)
{
	struct ss s;
	int fd = ss_lock(dir), r;

	if (fd < 0)
		return fd;
	r = ss_load(dir, &s);
	if (r == 0)
		r = fn(dir, &s, arg);
	if (r == 0)
		r = ss_save(dir, &s);
	if (r == 0)
		r = ss_render(dir, &s);
	close(fd);
	return r;
}

struct write_arg {
	const char *rel, *value;
};

static int step_write(const char *dir, struct ss *s, const void *arg)
{
	const struct write_arg *w = arg;

	return do_write(dir, s, w->rel, w->value);
}

int mipart_sim_sriov_write(const char *dir, const char *rel, const char *value)
{
	const struct write_arg w = { rel, value };

	return with_ss(dir, step_write, &w);
}

static int step_unload(const char *dir, struct ss *s, const void *arg)
{
	(void)dir;
	(void)arg;
	if (s->n_procs)
		return -EBUSY;
	s->loaded = false;
	memset(s->vfs, 0, sizeof(s->vfs));
	memset(s->driver, 0, sizeof(s->driver));
	return 0;
}

int mipart_sim_sriov_unload(const char *dir)
{
	return with_ss(dir, step_unload, NULL);
}

static int step_load(const char *dir, struct ss *s, const void *arg)
{
	(void)arg;
	if (s->loaded)
		return 0; /* modprobe of a loaded module does nothing */
	gim_probe(dir, s);
	return write_config(dir, s);
}

int mipart_sim_sriov_load(const char *dir)
{
	return with_ss(dir, step_load, NULL);
}

struct hold_arg {
	const char *vf, *comm, *vm;
	int pid;
};

static int step_hold(const char *dir, struct ss *s, const void *arg)
{
	const struct hold_arg *h = arg;
	struct ss_proc *p;
	unsigned i, k;

	(void)dir;
	if (!find_vf(s, h->vf, &i, &k))
		return -ENOENT;
	if (strcmp(s->driver[i][k], "vfio-pci"))
		return -EINVAL;
	for (unsigned n = 0; n < s->n_procs; n++)
		if (s->proc[n].pid == h->pid)
			return -EEXIST;
	if (s->n_procs >= SS_MAX_PROCS || h->pid <= 0)
		return -ENOSPC;
	p = &s->proc[s->n_procs++];
	p->pid = h->pid;
	util_strlcpy(p->comm, h->comm ? h->comm : "qemu-system-x86", sizeof(p->comm));
	util_strlcpy(p->vm, h->vm ? h->vm : "", sizeof(p->vm));
	util_strlcpy(p->vf, h->vf, sizeof(p->vf));
	return 0;
}

int mipart_sim_sriov_hold(const char *dir, const char *vf_bdf, int pid, const char *comm,
			  const char *vm)
{
	const struct hold_arg h = { vf_bdf, comm, vm, pid };

	return with_ss(dir, step_hold, &h);
}

static int step_release(const char *dir, struct ss *s, const void *arg)
{
	int pid = *(const int *)arg;

	(void)dir;
	for (unsigned p = 0; p < s->n_procs; p++)
		if (s->proc[p].pid == pid) {
			s->proc[p] = s->proc[--s->n_procs];
			return 0;
		}
	return -ENOENT;
}

int mipart_sim_sriov_release(const char *dir, int pid)
{
	return with_ss(dir, step_release, &pid);
}
