// SPDX-License-Identifier: MIT
/*
 * Unit tests for SR-IOV discovery (discover/sriov.c) over PCI trees written by hand in mkdtemp,
 * as the kernel lays them out (drivers/pci/iov.c: virtfnN and physfn links, sriov_totalvfs,
 * sriov_numvfs), not by the simulator: a PF with VFs, a non-AMD device with SR-IOV, a broken
 * virtfn link, a VF without an IOMMU group, unreadable count files; the counts GIM offers; PF.N
 * and address selectors; the libvirt XML and QEMU argument.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scratch.h"
#include "mipart/host.h"
#include "mipart/sriov.h"
#include "util.h"
#include "banned.h"

static void put(const char *dir, const char *rel, const char *text)
{
	char path[512], parent[512], *slash;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	util_strlcpy(parent, path, sizeof(parent));
	slash = strrchr(parent, '/');
	*slash = '\0';
	assert_int_equal(util_mkdir_p(parent), 0);
	assert_int_equal(util_write_file(path, text, strlen(text), 0644), 0);
}

static void ln(const char *dir, const char *rel, const char *target)
{
	char path[512], parent[512], *slash;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	util_strlcpy(parent, path, sizeof(parent));
	slash = strrchr(parent, '/');
	*slash = '\0';
	assert_int_equal(util_mkdir_p(parent), 0);
	assert_int_equal(symlink(target, path), 0);
}

#define DEV "sys/bus/pci/devices/"

/* A PF at bdf with n VFs at bus:02.k (IOMMU group 40+k unless no_iommu) */
static void pf(const char *dir, const char *bdf, const char *vendor, const char *device,
	       const char *driver, unsigned n, bool no_iommu)
{
	char rel[256], tgt[256];

	snprintf(rel, sizeof(rel), DEV "%s/vendor", bdf);
	put(dir, rel, vendor);
	snprintf(rel, sizeof(rel), DEV "%s/device", bdf);
	put(dir, rel, device);
	snprintf(rel, sizeof(rel), DEV "%s/sriov_totalvfs", bdf);
	put(dir, rel, "8\n");
	snprintf(rel, sizeof(rel), DEV "%s/sriov_numvfs", bdf);
	snprintf(tgt, sizeof(tgt), "%u\n", n);
	put(dir, rel, tgt);
	if (driver) {
		snprintf(rel, sizeof(rel), DEV "%s/driver", bdf);
		snprintf(tgt, sizeof(tgt), "../../../bus/pci/drivers/%s", driver);
		ln(dir, rel, tgt);
	}
	for (unsigned k = 0; k < n; k++) {
		char vb[16];

		snprintf(vb, sizeof(vb), "%.8s02.%u", bdf, k);
		snprintf(rel, sizeof(rel), DEV "%s/virtfn%u", bdf, k);
		snprintf(tgt, sizeof(tgt), "../%s", vb);
		ln(dir, rel, tgt);
		snprintf(rel, sizeof(rel), DEV "%s/vendor", vb);
		put(dir, rel, vendor);
		snprintf(rel, sizeof(rel), DEV "%s/device", vb);
		put(dir, rel, "0x74b5\n");
		if (!no_iommu) {
			snprintf(rel, sizeof(rel), DEV "%s/iommu_group", vb);
			snprintf(tgt, sizeof(tgt), "../../../kernel/iommu_groups/%u", 40 + k);
			ln(dir, rel, tgt);
		}
	}
}

static mipart_sriov *scan(const char *dir)
{
	mipart_host *h = NULL;
	mipart_sriov *s = NULL;

	assert_int_equal(mipart_host_new(dir, &h), 0);
	assert_int_equal(mipart_sriov_scan(h, &s), 0);
	mipart_host_free(h);
	return s;
}

static void test_scan(void **state)
{
	struct scratch_dir *sd = *state;
	mipart_sriov *s;
	const mipart_pf *p;
	const mipart_vf *v;

	pf(sd->dir, "0000:15:00.0", "0x1002\n", "0x74a1\n", "gim", 8, false);
	pf(sd->dir, "0000:05:00.0", "0x1002\n", "0x74a1\n", "gim", 1, true);
	/* a Mellanox NIC with VFs is not ours */
	pf(sd->dir, "0000:31:00.0", "0x15b3\n", "0x101d\n", "mlx5_core", 2, false);
	s = scan(sd->dir);
	assert_int_equal(mipart_sriov_count(s), 2);
	p = mipart_sriov_get(s, 0);
	assert_string_equal(p->bdf, "0000:05:00.0"); /* address order */
	assert_int_equal(p->gim_index, 0);
	assert_string_equal(p->product, "MI300X");
	assert_int_equal(p->n_vfs, 1);
	assert_int_equal(p->vfs[0].iommu_group, -1);
	assert_int_equal(p->vfs[0].xcds, 8);
	p = mipart_sriov_get(s, 1);
	assert_int_equal(p->gim_index, 1);
	assert_int_equal(p->total_vfs, 8);
	assert_int_equal(p->num_vfs, 8);
	assert_int_equal(p->n_vfs, 8);
	assert_string_equal(p->vfs[7].bdf, "0000:15:02.7");
	assert_int_equal(p->vfs[7].device_id, 0x74b5);
	assert_int_equal(p->vfs[7].iommu_group, 47);
	assert_string_equal(p->vfs[7].driver, "");
	assert_int_equal(p->vfs[7].user.pid, 0);
	assert_int_equal(p->vfs[7].xcds, 1);

	v = mipart_sriov_find_vf(s, "1.7", &p);
	assert_non_null(v);
	assert_string_equal(v->bdf, "0000:15:02.7");
	assert_string_equal(p->bdf, "0000:15:00.0");
	assert_ptr_equal(mipart_sriov_find_vf(s, "0000:15:02.3", NULL), &p->vfs[3]);
	assert_null(mipart_sriov_find_vf(s, "1.8", NULL));
	assert_null(mipart_sriov_find_vf(s, "2.0", NULL));
	assert_null(mipart_sriov_find_vf(s, "1.x", NULL));
	assert_ptr_equal(mipart_sriov_find_pf(s, "1"), p);
	assert_ptr_equal(mipart_sriov_find_pf(s, "0000:15:00.0"), p);
	assert_null(mipart_sriov_find_pf(s, "2"));
	assert_null(mipart_sriov_find_pf(s, "0000:31:00.0"));
	mipart_sriov_free(s);
}

static void test_broken_entries(void **state)
{
	struct scratch_dir *sd = *state;
	mipart_sriov *s;
	char rel[512];

	pf(sd->dir, "0000:05:00.0", "0x1002\n", "0x74a1\n", NULL, 2, false);
	/* virtfn1 points at something that is not a PCI address; sriov_numvfs says 2 */
	snprintf(rel, sizeof(rel), "%s/" DEV "0000:05:00.0/virtfn1", sd->dir);
	assert_int_equal(unlink(rel), 0);
	assert_int_equal(symlink("../../../../etc/passwd", rel), 0);
	/* a PF whose count file is garbage is listed with no VFs */
	pf(sd->dir, "0000:25:00.0", "0x1002\n", "0x74a5\n", "gim", 0, false);
	put(sd->dir, DEV "0000:25:00.0/sriov_numvfs", "many\n");
	/* an AMD device whose totalvfs is garbage is not an SR-IOV PF */
	pf(sd->dir, "0000:35:00.0", "0x1002\n", "0x74a1\n", NULL, 0, false);
	put(sd->dir, DEV "0000:35:00.0/sriov_totalvfs", "-1\n");
	s = scan(sd->dir);
	assert_int_equal(mipart_sriov_count(s), 2);
	assert_int_equal(mipart_sriov_get(s, 0)->num_vfs, 2);
	assert_int_equal(mipart_sriov_get(s, 0)->n_vfs, 1);
	assert_int_equal(mipart_sriov_get(s, 0)->gim_index, -1);
	assert_string_equal(mipart_sriov_get(s, 0)->driver, "");
	assert_int_equal(mipart_sriov_get(s, 1)->num_vfs, 0);
	assert_string_equal(mipart_sriov_get(s, 1)->product, "MI325X");
	mipart_sriov_free(s);
}

static void test_empty_host(void **state)
{
	struct scratch_dir *sd = *state;
	mipart_host *h = NULL;
	mipart_sriov *s = NULL;

	assert_int_equal(mipart_host_new(sd->dir, &h), 0);
	assert_int_equal(mipart_sriov_scan(h, &s), -ENOENT);
	put(sd->dir, DEV ".keep", "");
	assert_int_equal(mipart_sriov_scan(h, &s), 0);
	assert_int_equal(mipart_sriov_count(s), 0);
	assert_null(mipart_sriov_get(s, 0));
	assert_int_equal(mipart_sriov_pf_vfs(h, "0000:05:00.0"), 0);
	assert_int_equal(mipart_sriov_pf_vfs(h, "../../etc"), 0);
	mipart_sriov_free(s);
	mipart_host_free(h);
}

static void test_allowed(void **state)
{
	unsigned counts[8];
	const char *modes[8];

	(void)state;
	assert_int_equal(mipart_sriov_allowed(0x74a1, counts, modes, 8), 2);
	assert_int_equal(counts[0], 1);
	assert_string_equal(modes[0], "SPX/NPS1");
	assert_int_equal(counts[1], 8);
	assert_string_equal(modes[1], "CPX/NPS4");
	assert_int_equal(mipart_sriov_allowed(0x74a5, counts, modes, 8), 1);
	assert_int_equal(mipart_sriov_allowed(0x75a3, counts, modes, 8), 3);
	assert_int_equal(counts[1], 2);
	assert_string_equal(modes[2], "CPX/NPS2");
	assert_int_equal(mipart_sriov_allowed(0x740f, counts, modes, 8), 0); /* MI210 */
	/* max bounds what is written, not what is counted */
	counts[1] = 99;
	assert_int_equal(mipart_sriov_allowed(0x74a1, counts, NULL, 1), 2);
	assert_int_equal(counts[1], 99);
}

static void test_libvirt(void **state)
{
	mipart_vf vf = { .bdf = "0000:c5:02.7" };
	char *x = mipart_sriov_libvirt_xml(&vf), *q = mipart_sriov_qemu_arg(&vf);

	(void)state;
	assert_non_null(x);
	assert_non_null(strstr(x, "<address domain='0x0000' bus='0xc5' slot='0x02' function='0x7'/>"));
	assert_non_null(strstr(x, "<driver name='vfio'/>"));
	assert_string_equal(q, "vfio-pci,host=0000:c5:02.7");
	free(x);
	free(q);
	util_strlcpy(vf.bdf, "junk", sizeof(vf.bdf));
	assert_null(mipart_sriov_libvirt_xml(&vf));
	assert_null(mipart_sriov_libvirt_xml(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scan, scratch_setup, scratch_teardown),
		cmocka_unit_test_setup_teardown(test_broken_entries, scratch_setup, scratch_teardown),
		cmocka_unit_test_setup_teardown(test_empty_host, scratch_setup, scratch_teardown),
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_libvirt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
