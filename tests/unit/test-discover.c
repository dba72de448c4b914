// SPDX-License-Identifier: MIT
/*
 * Unit tests for discover.c: simulated hosts made in mkdtemp with mipart_sim_create are loaded
 * with mipart_topology_load and checked against the kernel facts of ../shared/HARDWARE.md
 * (partition counts 2.3, render minors 2.2, memory per partition 3.4 and 4.3, KFD node order
 * 3.3); then files are damaged and removed to check that discovery degrades as documented in
 * docs/discovery.md: a diagnostic naming the file, fields left unknown, modes inferred from KFD.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scratch.h"
#include "mipart/host.h"
#include "mipart/sim.h"
#include "mipart/topology.h"
#include "mipart/product.h"
#include "mipart/planner.h"
#include "discover.h"
#include "util.h"
#include "banned.h"

/* MI300X: (192 GiB - 16 MiB reserved); MI308X: 192 GiB (docs/simulator.md, HARDWARE.md 3.4) */
#define MI300X_VRAM INT64_C(206141652992)
#define MI308X_VRAM INT64_C(206158430208)
#define MI300X_CPX_PART INT64_C(25767706624)  /* VRAM / 8, page aligned */
#define MI300X_DPX_PART INT64_C(103070826496) /* observed, k8s-gpu-dra-driver #20 */
#define MI300X_QPX_PART INT64_C(51535413248)
#define MI308X_CPX_PART INT64_C(51539607552) /* 48 GiB, observed */

static const char *const bdfs[8] = {
    "0000:05:00.0", "0000:26:00.0", "0000:46:00.0", "0000:65:00.0",
    "0000:85:00.0", "0000:a6:00.0", "0000:c6:00.0", "0000:e5:00.0",
};

struct fixture {
	char dir[128];
	mipart_host *host;
	mipart_topology *topo;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	if (!scratch_mkdtemp(f->dir, sizeof(f->dir), "discover") ||
	    mipart_host_new(f->dir, &f->host) < 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	f->topo = mipart_topology_free(f->topo);
	f->host = mipart_host_free(f->host);
	scratch_remove(f->dir);
	free(f);
	return 0;
}

/* A simulated host in the fixture's directory. */
static void create(struct fixture *f, const char *product, unsigned gpus, mipart_compute_mode c,
		   mipart_memory_mode m)
{
	mipart_sim_options o = {.product = product, .gpus = gpus, .compute = c, .memory = m};
	const char *why = NULL;
	int r = mipart_sim_create(f->dir, &o, &why);

	if (r != 0)
		fail_msg("sim create %s: %d (%s)", product, r, why ? why : "");
}

/* (Re)load the topology of the fixture's host. */
static const mipart_topology *load(struct fixture *f)
{
	f->topo = mipart_topology_free(f->topo);
	assert_int_equal(mipart_topology_load(f->host, &f->topo), 0);
	assert_non_null(f->topo);
	return f->topo;
}

static void pathf(char *buf, size_t size, const struct fixture *f, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void pathf(char *buf, size_t size, const struct fixture *f, const char *fmt, ...)
{
	char rel[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	assert_true(util_pathf(buf, size, "%s/%s", f->dir, rel) > 0);
}

static void put(const char *path, const char *data)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(data, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* Some diagnostic contains every needle. */
static bool has_diag(const mipart_topology *t, const char *n1, const char *n2)
{
	for (size_t i = 0; i < mipart_topology_diag_count(t); i++) {
		const char *d = mipart_topology_diag(t, i);

		if (strstr(d, n1) && (!n2 || strstr(d, n2)))
			return true;
	}
	return false;
}

static void print_diags(const mipart_topology *t)
{
	for (size_t i = 0; i < mipart_topology_diag_count(t); i++)
		print_message("diag: %s\n", mipart_topology_diag(t, i));
}

static void assert_no_diag(const mipart_topology *t)
{
	if (mipart_topology_diag_count(t)) {
		print_diags(t);
		fail_msg("%zu unexpected diagnostics", mipart_topology_diag_count(t));
	}
}

static void assert_diag(const mipart_topology *t, const char *n1, const char *n2)
{
	if (!has_diag(t, n1, n2)) {
		print_diags(t);
		fail_msg("no diagnostic with '%s' and '%s'", n1, n2 ? n2 : "");
	}
}

/* Every global index 0..n-1 appears exactly once. */
static void assert_index_permutation(const mipart_topology *t)
{
	size_t n = mipart_topology_partition_count(t);
	bool *seen = calloc(n ? n : 1, sizeof(*seen));

	assert_non_null(seen);
	for (size_t i = 0; i < n; i++) {
		const mipart_partition_info *p = mipart_topology_partition(t, i);

		assert_true(p->index < n);
		assert_false(seen[p->index]);
		seen[p->index] = true;
	}
	free(seen);
}

static void test_mi300x_cpx(void **state)
{
	struct fixture *f = *state;
	const mipart_topology *t;
	uint64_t hive = 0;

	create(f, "mi300x", 8, MIPART_COMPUTE_CPX, MIPART_MEMORY_NPS1);
	t = load(f);
	assert_no_diag(t);
	assert_int_equal(mipart_topology_gpu_count(t), 8);
	assert_int_equal(mipart_topology_partition_count(t), 64);
	assert_true(mipart_topology_files_read(t) > 64);
	for (unsigned i = 0; i < 8; i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(t, i);

		assert_int_equal(g->index, i);
		assert_string_equal(g->bdf, bdfs[i]); /* PCI order */
		assert_string_equal(g->product, "MI300X");
		assert_int_equal(g->vendor_id, 0x1002);
		assert_int_equal(g->device_id, 0x74a1);
		assert_true(g->partitioning);
		assert_false(g->is_apu);
		assert_true(g->driver_bound);
		assert_int_equal(g->gfx_target, 90402);
		assert_int_equal(g->num_xcc, 8);
		assert_int_equal(g->compute_units, 304);
		assert_int_equal(g->memory_bytes, MI300X_VRAM);
		assert_int_equal(g->card_minor, 8 * i);
		assert_int_equal(g->render_minor, 128 + 8 * i);
		assert_int_equal(g->numa_node, i / 4);
		assert_int_equal(g->compute, MIPART_COMPUTE_CPX);
		assert_int_equal(g->memory, MIPART_MEMORY_NPS1);
		assert_int_equal(g->mode_source, MIPART_MODE_SOURCE_SYSFS);
		assert_int_equal(g->compute_available, 0x1b); /* SPX DPX QPX CPX */
		assert_int_equal(g->compute_supported, 0x1b);
		assert_int_equal(g->memory_available, (1u << 1) | (1u << 4));
		assert_true(g->compute_writable);
		assert_true(g->memory_writable);
		assert_int_equal(strlen(g->unique_id), 16);
		/* one hive for all */
		assert_true(g->hive_id != 0);
		if (i == 0)
			hive = g->hive_id;
		assert_true(g->hive_id == hive);
		if (i > 0)
			assert_string_not_equal(g->unique_id,
						mipart_topology_gpu(t, i - 1)->unique_id);

		assert_int_equal(g->first_partition, 8 * i);
		assert_int_equal(g->n_partitions, 8);
		for (unsigned j = 0; j < 8; j++) {
			const mipart_partition_info *p = mipart_topology_gpu_partition(t, g, j);
			char drm[64];

			assert_non_null(p);
			assert_ptr_equal(p, mipart_topology_partition(t, 8 * i + j));
			assert_int_equal(p->gpu, i);
			assert_int_equal(p->xcp, j);
			assert_int_equal(p->index, 8 * i + j); /* fresh KFD order = PCI order */
			assert_int_equal(p->kfd_node, 2 + 8 * i + j); /* after 2 CPU nodes */
			assert_int_equal(p->render_minor, 128 + 8 * i + j);
			assert_int_equal(p->num_xcc, 1);
			assert_int_equal(p->compute_units, 38);
			assert_int_equal(p->memory_bytes, MI300X_CPX_PART);
			assert_true(p->gpu_id > 0 && p->gpu_id <= 65535);
			if (j == 0)
				snprintf(drm, sizeof(drm), "%s", bdfs[i]);
			else
				snprintf(drm, sizeof(drm), "amdgpu_xcp_%u", 7 * i + j - 1);
			assert_string_equal(p->drm_device, drm);
		}
		assert_null(mipart_topology_gpu_partition(t, g, 8));
	}
	assert_null(mipart_topology_gpu(t, 8));
	assert_null(mipart_topology_partition(t, 64));
	assert_null(mipart_topology_diag(t, 0));
	assert_index_permutation(t);
	/* gpu_ids are unique on the host */
	for (size_t a = 0; a < 64; a++)
		for (size_t b = 0; b < a; b++)
			assert_true(mipart_topology_partition(t, a)->gpu_id !=
				    mipart_topology_partition(t, b)->gpu_id);
}

/* Partitions and memory of each compute x memory combination (HARDWARE.md 4.3). */
/* the GPU and the partition a booking names (PCI address, XCP), in any case of the address */
static void test_lookup_by_bdf(void **state)
{
	struct fixture *f = *state;
	const mipart_topology *t;
	const mipart_partition_info *p;

	create(f, "mi300x", 8, MIPART_COMPUTE_DPX, MIPART_MEMORY_NPS1);
	t = load(f);
	assert_ptr_equal(mipart_topology_gpu_by_bdf(t, bdfs[1]), mipart_topology_gpu(t, 1));
	/* upper case, as a person or a layout file may write it */
	assert_ptr_equal(mipart_topology_gpu_by_bdf(t, "0000:A6:00.0"), mipart_topology_gpu(t, 5));
	assert_null(mipart_topology_gpu_by_bdf(t, "0000:a7:00.0")); /* not on this host */
	p = mipart_topology_partition_at(t, "0000:26:00.0", 1);
	assert_non_null(p);
	assert_int_equal(p->gpu, 1);
	assert_int_equal(p->xcp, 1);
	assert_ptr_equal(mipart_topology_partition_at(t, "0000:05:00.0", 0),
			 mipart_topology_gpu_partition(t, mipart_topology_gpu(t, 0), 0));
	assert_non_null(mipart_topology_partition_at(t, "0000:A6:00.0", 1));
	assert_null(mipart_topology_partition_at(t, "0000:05:00.0", 2)); /* DPX: XCPs 0 and 1 */
	assert_null(mipart_topology_partition_at(t, "0000:a7:00.0", 0));
}

static void test_modes_and_memory(void **state)
{
	static const struct {
		const char *product;
		mipart_compute_mode c;
		mipart_memory_mode m;
		unsigned parts, xcc, cu;
		int64_t part_bytes, gpu_bytes;
		/* NPS4: ranges of HBM/4, only the last trimmed to the VRAM (amdgpu_gmc.c:
		 * amdgpu_gmc_init_sw_mem_ranges; HARDWARE.md 8.3): partitions from last_from on
		 * have last_bytes */
		unsigned last_from;
		int64_t last_bytes;
	} cases[] = {
	    {"mi300x", MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS1, 1, 8, 304, MI300X_VRAM, MI300X_VRAM, 1, 0},
	    {"mi300x", MIPART_COMPUTE_DPX, MIPART_MEMORY_NPS1, 2, 4, 152, MI300X_DPX_PART,
	     MI300X_VRAM, 2, 0},
	    {"mi300x", MIPART_COMPUTE_QPX, MIPART_MEMORY_NPS1, 4, 2, 76, MI300X_QPX_PART,
	     MI300X_VRAM, 4, 0},
	    {"mi300x", MIPART_COMPUTE_QPX, MIPART_MEMORY_NPS4, 4, 2, 76, INT64_C(51539607552),
	     MI300X_VRAM, 3, INT64_C(51522830336)},
	    {"mi300x", MIPART_COMPUTE_CPX, MIPART_MEMORY_NPS4, 8, 1, 38, INT64_C(25769803776),
	     MI300X_VRAM, 6, INT64_C(25761415168)},
	    {"mi308x", MIPART_COMPUTE_CPX, MIPART_MEMORY_NPS1, 4, 1, 20, MI308X_CPX_PART,
	     MI308X_VRAM, 4, 0},
	    {"mi308x", MIPART_COMPUTE_DPX, MIPART_MEMORY_NPS1, 2, 2, 40, MI308X_VRAM / 2,
	     MI308X_VRAM, 2, 0},
	};

	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		struct fixture *f;
		const mipart_topology *t;

		assert_int_equal(setup((void **)&f), 0);
		create(f, cases[c].product, 2, cases[c].c, cases[c].m);
		t = load(f);
		assert_no_diag(t);
		assert_int_equal(mipart_topology_gpu_count(t), 2);
		assert_int_equal(mipart_topology_partition_count(t), 2 * cases[c].parts);
		for (unsigned i = 0; i < 2; i++) {
			const mipart_gpu_info *g = mipart_topology_gpu(t, i);

			assert_int_equal(g->compute, cases[c].c);
			assert_int_equal(g->memory, cases[c].m);
			assert_int_equal(g->n_partitions, cases[c].parts);
			assert_int_equal(g->memory_bytes, cases[c].gpu_bytes);
			assert_int_equal(g->compute_units, cases[c].parts * cases[c].cu);
			for (unsigned j = 0; j < cases[c].parts; j++) {
				const mipart_partition_info *p =
				    mipart_topology_gpu_partition(t, g, j);

				assert_int_equal(p->xcp, j);
				assert_int_equal(p->num_xcc, cases[c].xcc);
				assert_int_equal(p->compute_units, cases[c].cu);
				assert_int_equal(p->memory_bytes, j < cases[c].last_from
								      ? cases[c].part_bytes
								      : cases[c].last_bytes);
				/* render minors do not depend on the mode: 8 per GPU
				 * (HARDWARE.md 2.2) */
				assert_int_equal(p->render_minor, 128 + 8 * i + j);
				assert_int_equal(p->index, cases[c].parts * i + j);
			}
		}
		if (cases[c].m == MIPART_MEMORY_NPS4)
			assert_int_equal(mipart_topology_gpu(t, 0)->compute_available,
					 (1u << MIPART_COMPUTE_QPX) | (1u << MIPART_COMPUTE_CPX));
		teardown((void **)&f);
	}
}

static void test_legacy_xcp_names(void **state)
{
	struct fixture *f = *state;
	mipart_sim_options o = {.gpus = 2, .compute = MIPART_COMPUTE_CPX, .legacy_xcp_names = true};
	const mipart_topology *t;

	assert_int_equal(mipart_sim_create(f->dir, &o, NULL), 0);
	t = load(f);
	assert_no_diag(t);
	assert_string_equal(mipart_topology_partition(t, 0)->drm_device, "0000:05:00.0");
	assert_string_equal(mipart_topology_partition(t, 1)->drm_device, "amdgpu_xcp.0");
	assert_string_equal(mipart_topology_partition(t, 7)->drm_device, "amdgpu_xcp.6");
	assert_string_equal(mipart_topology_partition(t, 9)->drm_device, "amdgpu_xcp.7");
}

static void test_non_partitioning_product(void **state)
{
	struct fixture *f = *state;
	const mipart_topology *t;
	const mipart_gpu_info *g;

	create(f, "mi210", 2, MIPART_COMPUTE_UNKNOWN, MIPART_MEMORY_UNKNOWN);
	t = load(f);
	assert_no_diag(t);
	assert_int_equal(mipart_topology_gpu_count(t), 2);
	assert_int_equal(mipart_topology_partition_count(t), 2);
	g = mipart_topology_gpu(t, 1);
	assert_string_equal(g->product, "MI210");
	assert_false(g->partitioning);
	assert_int_equal(g->compute, MIPART_COMPUTE_UNKNOWN);
	assert_int_equal(g->mode_source, MIPART_MODE_SOURCE_NONE);
	assert_int_equal(g->render_minor, 129); /* one minor per GPU without an XCP manager */
	assert_int_equal(mipart_topology_gpu_partition(t, g, 0)->render_minor, 129);
}

/*
 * After a compute switch the GPU's KFD nodes are at the tail: its partitions number last
 * (docs/discovery.md: 7..14 on an 8-GPU host; 3..10 on the 4 GPUs here).
 */
static void test_index_after_switch(void **state)
{
	struct fixture *f = *state;
	const mipart_topology *t;
	const mipart_gpu_info *g;

	create(f, "mi300x", 4, MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS1);
	t = load(f);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(
		    mipart_topology_gpu_partition(t, mipart_topology_gpu(t, i), 0)->index, i);

	assert_int_equal(mipart_sim_write_attr(f->dir, bdfs[0], "current_compute_partition", "CPX"),
			 0);
	t = load(f);
	assert_no_diag(t);
	assert_int_equal(mipart_topology_partition_count(t), 11);
	g = mipart_topology_gpu(t, 0);
	assert_string_equal(g->bdf, bdfs[0]); /* GPU order stays PCI order */
	assert_int_equal(g->compute, MIPART_COMPUTE_CPX);
	assert_int_equal(g->n_partitions, 8);
	for (unsigned j = 0; j < 8; j++) {
		const mipart_partition_info *p = mipart_topology_gpu_partition(t, g, j);

		assert_int_equal(p->xcp, j);
		assert_int_equal(p->index, 3 + j);
		assert_int_equal(p->kfd_node, 2 + 3 + j);
		assert_int_equal(p->render_minor, 128 + j);
	}
	for (unsigned i = 1; i < 4; i++) {
		const mipart_partition_info *p =
		    mipart_topology_gpu_partition(t, mipart_topology_gpu(t, i), 0);

		assert_int_equal(p->index, i - 1);
		assert_int_equal(p->kfd_node, 2 + i - 1);
	}
	assert_index_permutation(t);

	/* a second switch, of GPU 1 to DPX: it moves behind GPU 0 */
	assert_int_equal(mipart_sim_write_attr(f->dir, bdfs[1], "current_compute_partition", "DPX"),
			 0);
	t = load(f);
	assert_int_equal(mipart_topology_partition_count(t), 12);
	g = mipart_topology_gpu(t, 1);
	assert_int_equal(g->n_partitions, 2);
	assert_int_equal(mipart_topology_gpu_partition(t, g, 0)->index, 10);
	assert_int_equal(mipart_topology_gpu_partition(t, g, 1)->index, 11);
	assert_int_equal(mipart_topology_gpu_partition(t, mipart_topology_gpu(t, 0), 0)->index, 2);
	assert_int_equal(mipart_topology_gpu_partition(t, mipart_topology_gpu(t, 2), 0)->index, 0);
	assert_int_equal(mipart_topology_gpu_partition(t, mipart_topology_gpu(t, 3), 0)->index, 1);
	assert_index_permutation(t);

	/* a reload starts the order afresh (and AUTO puts every GPU back to SPX) */
	assert_int_equal(mipart_sim_reload(f->dir), 0);
	t = load(f);
	assert_int_equal(mipart_topology_partition_count(t), 4);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(
		    mipart_topology_gpu_partition(t, mipart_topology_gpu(t, i), 0)->index, i);
}

static void test_garbage_compute_file(void **state)
{
	struct fixture *f = *state;
	const mipart_topology *t;
	const mipart_gpu_info *g;
	char path[512];

	create(f, "mi300x", 2, MIPART_COMPUTE_CPX, MIPART_MEMORY_NPS1);
	pathf(path, sizeof(path), f, "sys/bus/pci/devices/%s/current_compute_partition", bdfs[1]);
	put(path, "garbage\n");
	t = load(f);
	assert_diag(t, "cannot parse", "0000:26:00.0/current_compute_partition");
	assert_int_equal(mipart_topology_diag_count(t), 1);
	g = mipart_topology_gpu(t, 1);
	assert_int_equal(g->mode_source, MIPART_MODE_SOURCE_INFERRED);
	assert_int_equal(g->compute, MIPART_COMPUTE_CPX);
	assert_int_equal(g->memory, MIPART_MEMORY_NPS1); /* its own file is fine */
	assert_int_equal(g->n_partitions, 8);
	assert_int_equal(mipart_topology_gpu(t, 0)->mode_source, MIPART_MODE_SOURCE_SYSFS);

	/* a CR is refused as well */
	put(path, "CPX\r\n");
	t = load(f);
	assert_diag(t, "cannot parse", "current_compute_partition");
	assert_int_equal(mipart_topology_gpu(t, 1)->compute, MIPART_COMPUTE_CPX);

	/* a known word that contradicts the KFD nodes is still what sysfs says */
	put(path, "DPX\n");
	t = load(f);
	assert_no_diag(t);
	assert_int_equal(mipart_topology_gpu(t, 1)->compute, MIPART_COMPUTE_DPX);
	assert_int_equal(mipart_topology_gpu(t, 1)->mode_source, MIPART_MODE_SOURCE_SYSFS);
}

static void test_garbage_other_attrs(void **state)
{
	struct fixture *f = *state;
	const mipart_topology *t;
	const mipart_gpu_info *g;
	char path[512];

	create(f, "mi300x", 1, MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS1);
	pathf(path, sizeof(path), f, "sys/bus/pci/devices/%s/current_memory_partition", bdfs[0]);
	put(path, "NPS5\n");
	pathf(path, sizeof(path), f, "sys/bus/pci/devices/%s/available_compute_partition", bdfs[0]);
	put(path, "CPX, SPX\n");
	pathf(path, sizeof(path), f, "sys/bus/pci/devices/%s/mem_info_vram_total", bdfs[0]);
	put(path, "-1\n");
	t = load(f);
	assert_diag(t, "cannot parse", "/current_memory_partition");
	assert_diag(t, "cannot parse", "/available_compute_partition");
	assert_diag(t, "cannot parse", "/mem_info_vram_total");
	g = mipart_topology_gpu(t, 0);
	assert_int_equal(g->compute, MIPART_COMPUTE_SPX);
	assert_int_equal(g->mode_source, MIPART_MODE_SOURCE_SYSFS);
	assert_int_equal(g->memory, MIPART_MEMORY_UNKNOWN);
	assert_int_equal(g->compute_available, 0);
	/* VRAM total from the partitions instead */
	assert_int_equal(g->memory_bytes, MI300X_VRAM);
}

static void test_properties_is_directory(void **state)
{
	struct fixture *f = *state;
	const mipart_topology *t;
	const mipart_gpu_info *g;
	char path[512];

	create(f, "mi300x", 2, MIPART_COMPUTE_CPX, MIPART_MEMORY_NPS1);
	/* node 2 is GPU 0, XCP 0 */
	pathf(path, sizeof(path), f, "sys/class/kfd/kfd/topology/nodes/2/properties");
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	t = load(f);
	assert_diag(t, "nodes/2/properties", NULL);
	assert_int_equal(mipart_topology_gpu_count(t), 2);
	assert_int_equal(mipart_topology_partition_count(t), 15);
	g = mipart_topology_gpu(t, 0);
	assert_int_equal(g->n_partitions, 7);
	/* the others keep their XCP numbers from location_id */
	for (unsigned j = 0; j < 7; j++) {
		assert_int_equal(mipart_topology_gpu_partition(t, g, j)->xcp, j + 1);
		assert_int_equal(mipart_topology_gpu_partition(t, g, j)->render_minor, 129 + j);
	}
	assert_int_equal(g->compute, MIPART_COMPUTE_CPX); /* from sysfs */
	assert_int_equal(mipart_topology_gpu(t, 1)->n_partitions, 8);
	assert_index_permutation(t);
}

static void test_properties_damaged(void **state)
{
	struct fixture *f = *state;
	const mipart_topology *t;
	char path[512];
	char *big;

	create(f, "mi300x", 1, MIPART_COMPUTE_DPX, MIPART_MEMORY_NPS1);
	/* a 32-bit value out of range on node 2 */
	pathf(path, sizeof(path), f, "sys/class/kfd/kfd/topology/nodes/2/properties");
	put(path, "simd_count 4294967296\nlocation_id 1280\ndomain 0\n");
	/* node 3: larger than a page */
	big = malloc(UTIL_ATTR_MAX + 64);
	assert_non_null(big);
	memset(big, 'x', UTIL_ATTR_MAX + 63);
	big[UTIL_ATTR_MAX + 63] = '\0';
	memcpy(big, "location_id 1281\ndomain 0\n", 26);
	pathf(path, sizeof(path), f, "sys/class/kfd/kfd/topology/nodes/3/properties");
	put(path, big);
	free(big);
	t = load(f);
	assert_diag(t, "nodes/2/properties", "line 1");
	assert_diag(t, "nodes/2/properties", "simd_count");
	assert_diag(t, "nodes/3/properties", "too large");
	assert_int_equal(mipart_topology_gpu_count(t), 1);
	assert_int_equal(mipart_topology_partition_count(t), 0);
	assert_int_equal(mipart_topology_gpu(t, 0)->compute, MIPART_COMPUTE_DPX);
}

static void test_mem_bank_damaged(void **state)
{
	struct fixture *f = *state;
	const mipart_topology *t;
	const mipart_gpu_info *g;
	char path[512];

	create(f, "mi300x", 1, MIPART_COMPUTE_DPX, MIPART_MEMORY_NPS1);
	pathf(path, sizeof(path), f, "sys/class/kfd/kfd/topology/nodes/3/mem_banks/0/properties");
	put(path, "heap_type 1\nsize_in_bytes 12x\n");
	t = load(f);
	assert_diag(t, "nodes/3/mem_banks/0/properties", "line 2");
	g = mipart_topology_gpu(t, 0);
	assert_int_equal(g->n_partitions, 2); /* the partition stays, its memory is unknown */
	assert_int_equal(mipart_topology_gpu_partition(t, g, 0)->memory_bytes, MI300X_DPX_PART);
	assert_int_equal(mipart_topology_gpu_partition(t, g, 1)->memory_bytes, -1);

	/* a system-memory heap is not VRAM */
	put(path, "heap_type 0\nsize_in_bytes 1024\n");
	t = load(f);
	assert_no_diag(t);
	g = mipart_topology_gpu(t, 0);
	assert_int_equal(mipart_topology_gpu_partition(t, g, 1)->memory_bytes, -1);
}

static void test_no_kfd(void **state)
{
	struct fixture *f = *state;
	const mipart_topology *t;
	char path[512];

	create(f, "mi300x", 2, MIPART_COMPUTE_CPX, MIPART_MEMORY_NPS1);
	pathf(path, sizeof(path), f, "sys/devices/virtual/kfd");
	assert_int_equal(util_rm_rf(path), 0);
	pathf(path, sizeof(path), f, "sys/class/kfd");
	assert_int_equal(util_rm_rf(path), 0);
	t = load(f);
	assert_diag(t, "KFD topology", NULL);
	assert_int_equal(mipart_topology_gpu_count(t), 2);
	assert_int_equal(mipart_topology_partition_count(t), 0);
	for (unsigned i = 0; i < 2; i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(t, i);

		assert_string_equal(g->bdf, bdfs[i]);
		assert_int_equal(g->n_partitions, 0);
		assert_int_equal(g->compute, MIPART_COMPUTE_CPX); /* sysfs still says */
		assert_int_equal(g->mode_source, MIPART_MODE_SOURCE_SYSFS);
		assert_int_equal(g->memory_bytes, MI300X_VRAM);
		assert_int_equal(g->gfx_target, -1);
		assert_string_equal(g->product, "MI300X");
	}
}

static void test_no_pci(void **state)
{
	struct fixture *f = *state;
	const mipart_topology *t;
	char path[512];

	create(f, "mi300x", 2, MIPART_COMPUTE_CPX, MIPART_MEMORY_NPS1);
	pathf(path, sizeof(path), f, "sys/bus/pci/devices");
	assert_int_equal(util_rm_rf(path), 0);
	t = load(f);
	assert_diag(t, "sys/bus/pci/devices", NULL);
	assert_int_equal(mipart_topology_gpu_count(t), 2);
	assert_int_equal(mipart_topology_partition_count(t), 16);
	for (unsigned i = 0; i < 2; i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(t, i);

		assert_string_equal(g->bdf, bdfs[i]); /* from domain and location_id */
		assert_int_equal(g->vendor_id, 0x1002);
		assert_int_equal(g->device_id, 0x74a1);
		assert_string_equal(g->product, "MI300X");
		assert_int_equal(g->n_partitions, 8);
		assert_int_equal(g->compute, MIPART_COMPUTE_CPX);
		assert_int_equal(g->mode_source, MIPART_MODE_SOURCE_INFERRED);
		assert_int_equal(g->memory, MIPART_MEMORY_UNKNOWN);
		assert_int_equal(g->memory_bytes, MI300X_VRAM); /* sum of the partitions */
		assert_int_equal(g->card_minor, -1);
		assert_false(g->driver_bound);
		assert_int_equal(mipart_topology_gpu_partition(t, g, 3)->xcp, 3);
		assert_int_equal(mipart_topology_gpu_partition(t, g, 3)->index, 8 * i + 3);
	}
}

static void test_empty_root(void **state)
{
	struct fixture *f = *state;
	mipart_topology *t = (mipart_topology *)f; /* must stay as it is on failure */
	mipart_host *h;

	assert_int_equal(mipart_topology_load(f->host, &t), -ENOENT);
	assert_ptr_equal(t, (mipart_topology *)f);
	assert_int_equal(mipart_host_new("/nonexistent/mipart-test-root", &h), 0);
	assert_int_equal(mipart_topology_load(h, &t), -ENOENT);
	mipart_host_free(h);
}

/*
 * A host whose PCI bus holds no AMD GPU and no KFD topology: loads, zero GPUs, and no
 * undefined behaviour on the empty arrays (UBSan caught qsort(NULL, 0) here once).
 */
static void test_no_gpus(void **state)
{
	struct fixture *f = *state;
	char path[512];
	const mipart_topology *t;

	pathf(path, sizeof(path), f, "sys/bus/pci/devices/0000:00:14.0");
	assert_int_equal(util_mkdir_p(path), 0);
	pathf(path, sizeof(path), f, "sys/bus/pci/devices/0000:00:14.0/vendor");
	put(path, "0x8086\n");
	pathf(path, sizeof(path), f, "sys/bus/pci/devices/0000:00:14.0/class");
	put(path, "0x030000\n");
	/* an AMD device that is not a GPU (a USB controller) */
	pathf(path, sizeof(path), f, "sys/bus/pci/devices/0000:00:15.0");
	assert_int_equal(util_mkdir_p(path), 0);
	pathf(path, sizeof(path), f, "sys/bus/pci/devices/0000:00:15.0/vendor");
	put(path, "0x1002\n");
	pathf(path, sizeof(path), f, "sys/bus/pci/devices/0000:00:15.0/class");
	put(path, "0x0c0330\n");
	t = load(f);
	assert_no_diag(t);
	assert_int_equal(mipart_topology_gpu_count(t), 0);
	assert_int_equal(mipart_topology_partition_count(t), 0);
	assert_null(mipart_topology_gpu(t, 0));
}

/* Every partition attribute file gone: modes come from the KFD nodes. */
static void test_inferred_modes(void **state)
{
	static const char *const attrs[] = {
	    "current_compute_partition",  "available_compute_partition", "current_memory_partition",
	    "available_memory_partition", "compute_partition_config",
	};
	static const struct {
		const char *product;
		mipart_compute_mode c;
		mipart_memory_mode m;
		unsigned parts;
	} cases[] = {
	    {"mi300x", MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS1, 1},
	    {"mi300x", MIPART_COMPUTE_DPX, MIPART_MEMORY_NPS1, 2},
	    {"mi300x", MIPART_COMPUTE_QPX, MIPART_MEMORY_NPS1, 4},
	    {"mi300x", MIPART_COMPUTE_QPX, MIPART_MEMORY_NPS4, 4},
	    {"mi300x", MIPART_COMPUTE_CPX, MIPART_MEMORY_NPS1, 8},
	    {"mi300x", MIPART_COMPUTE_CPX, MIPART_MEMORY_NPS4, 8},
	    {"mi308x", MIPART_COMPUTE_CPX, MIPART_MEMORY_NPS1, 4},
	    {"mi308x", MIPART_COMPUTE_DPX, MIPART_MEMORY_NPS1, 2},
	};

	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		unsigned xcc = !strcmp(cases[c].product, "mi300x") ? 8 : 4;
		const mipart_gpu_info *g;
		const mipart_topology *t;
		struct fixture *f;

		assert_int_equal(setup((void **)&f), 0);
		create(f, cases[c].product, 1, cases[c].c, cases[c].m);
		for (size_t a = 0; a < ARRAY_SIZE(attrs); a++) {
			char path[512];

			pathf(path, sizeof(path), f, "sys/bus/pci/devices/%s/%s", bdfs[0],
			      attrs[a]);
			assert_int_equal(util_rm_rf(path), 0);
		}
		t = load(f);
		assert_no_diag(t); /* absent files are silent */
		g = mipart_topology_gpu(t, 0);
		if (g->compute != cases[c].c)
			fail_msg("case %zu: inferred %s, expected %s", c,
				 mipart_compute_mode_name(g->compute),
				 mipart_compute_mode_name(cases[c].c));
		assert_int_equal(g->mode_source, MIPART_MODE_SOURCE_INFERRED);
		assert_int_equal(g->n_partitions, cases[c].parts);
		assert_true(g->partitioning);
		assert_false(g->compute_writable);
		/* only SPX tells the memory mode (SPX needs NPS1) */
		assert_int_equal(g->memory, cases[c].c == MIPART_COMPUTE_SPX
						? MIPART_MEMORY_NPS1
						: MIPART_MEMORY_UNKNOWN);
		/* supported modes from the XCC count */
		assert_int_equal(g->num_xcc, xcc);
		assert_int_equal(g->compute_supported, mipart_compute_modes_supported(xcc));
		teardown((void **)&f);
	}
}

/* Two nodes of one GPU with the same location_id: numbered in node order, with a warning. */
static void test_duplicate_location(void **state)
{
	struct fixture *f = *state;
	const mipart_topology *t;
	const mipart_gpu_info *g;
	char path[512], buf[UTIL_ATTR_MAX + 1], *loc;
	ssize_t n;

	create(f, "mi300x", 1, MIPART_COMPUTE_QPX, MIPART_MEMORY_NPS1);
	pathf(path, sizeof(path), f, "sys/class/kfd/kfd/topology/nodes/3/properties");
	n = util_read_file(path, buf, UTIL_ATTR_MAX);
	assert_true(n > 0);
	loc = strstr(buf, "location_id 1281\n");
	assert_non_null(loc);
	loc[15] = '0';
	put(path, buf);
	t = load(f);
	assert_diag(t, "0000:05:00.0", "location_id");
	g = mipart_topology_gpu(t, 0);
	assert_int_equal(g->n_partitions, 4);
	for (unsigned j = 0; j < 4; j++) {
		assert_int_equal(mipart_topology_gpu_partition(t, g, j)->xcp, j);
		assert_int_equal(mipart_topology_gpu_partition(t, g, j)->kfd_node, 2 + j);
	}
}

/* More problems than DISCOVER_MAX_DIAG: the last diagnostic counts the rest. */
static void test_diag_cap(void **state)
{
	struct fixture *f = *state;
	const mipart_topology *t;
	char path[512];

	create(f, "mi300x", 1, MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS1);
	pathf(path, sizeof(path), f, "sys/bus/pci/devices/%s/current_memory_partition", bdfs[0]);
	put(path, "bad\n");
	/* 70 more KFD nodes whose gpu_id is not a number */
	for (unsigned node = 100; node < 170; node++) {
		pathf(path, sizeof(path), f, "sys/class/kfd/kfd/topology/nodes/%u", node);
		assert_int_equal(mkdir(path, 0755), 0);
		pathf(path, sizeof(path), f, "sys/class/kfd/kfd/topology/nodes/%u/gpu_id", node);
		put(path, "bad\n");
	}
	t = load(f);
	/* 71 problems: 63 kept and one that counts the other 8 */
	assert_int_equal(mipart_topology_diag_count(t), DISCOVER_MAX_DIAG);
	assert_string_equal(mipart_topology_diag(t, DISCOVER_MAX_DIAG - 1),
			    "8 more problems not shown");
	assert_diag(t, "current_memory_partition", NULL); /* the first one is kept */
	assert_diag(t, "nodes/100/gpu_id", NULL);
	assert_false(has_diag(t, "nodes/169/gpu_id", NULL));
	/* the good node still counts */
	assert_int_equal(mipart_topology_partition_count(t), 1);
	assert_int_equal(mipart_topology_gpu_count(t), 1);
}

/*
 * Planning sizes are the driver's exact sizes: in NPS4 the last memory range is trimmed
 * (HARDWARE.md 8.3), so the layouts planning and allocation use carry the smallest partition,
 * never more than a discovered partition has, and a plan of models that fit the six larger
 * partitions but not the trimmed two does not put them on CPX/NPS4.
 */
static void test_layout_bytes_exact(void **state)
{
	struct fixture *f = *state;
	mipart_product_layout lay[16];
	const mipart_topology *t;
	int n;

	/* the product table, as `plan --product` uses it */
	n = mipart_product_layouts("mi300x", lay, ARRAY_SIZE(lay));
	assert_true(n > 0);
	for (int k = 0; k < n; k++)
		if (lay[k].compute == MIPART_COMPUTE_CPX && lay[k].memory == MIPART_MEMORY_NPS4)
			assert_int_equal(lay[k].partition_bytes, INT64_C(25761415168));
	assert_int_equal(mipart_partition_bytes_at(192ull << 30, (uint64_t)MI300X_VRAM, 8, 4, 0, false),
			 INT64_C(25769803776));
	assert_int_equal(mipart_partition_bytes_at(192ull << 30, (uint64_t)MI300X_VRAM, 8, 4, 7, false),
			 INT64_C(25761415168));

	/* a discovered host, as `plan` and `allocate` use it */
	create(f, "mi300x", 2, MIPART_COMPUTE_CPX, MIPART_MEMORY_NPS4);
	t = load(f);
	for (size_t i = 0; i < mipart_topology_gpu_count(t); i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(t, i);
		mipart_plan_gpu pg = { .index = (unsigned)i, .hive_id = g->hive_id };
		mipart_plan_item item = { "between", 8, 1, 0 };
		mipart_plan_result r;
		bool seen = false;

		n = mipart_gpu_layouts(g, lay, ARRAY_SIZE(lay));
		assert_true(n > 0 && n <= MIPART_PLAN_MAX_LAYOUTS);
		for (int k = 0; k < n; k++) {
			if (lay[k].compute != g->compute || lay[k].memory != g->memory)
				continue;
			seen = true;
			for (unsigned j = 0; j < g->n_partitions; j++)
				assert_true(lay[k].partition_bytes <=
					    (uint64_t)mipart_topology_gpu_partition(t, g, j)->memory_bytes);
			assert_int_equal(lay[k].partition_bytes, INT64_C(25761415168));
		}
		assert_true(seen);
		/* 8 models of a size between the trimmed and the full partitions: they fit the
		 * six full partitions of CPX/NPS4, not the two trimmed ones */
		item.need_bytes = UINT64_C(25765000000);
		pg.n_layouts = (size_t)n;
		for (int k = 0; k < n; k++)
			pg.layouts[k] = (mipart_plan_layout){ lay[k].compute, lay[k].memory,
							     lay[k].partitions, lay[k].partition_bytes };
		assert_int_equal(mipart_plan(&pg, 1, &item, 1, &r), 0);
		for (size_t k = 0; k < r.n_places; k++) {
			const mipart_plan_layout *l = &pg.layouts[r.layout[0]];
			unsigned nmp = mipart_memory_mode_partitions(l->memory, false);

			if (r.places[k].gpu == UINT32_MAX)
				continue;
			assert_true(mipart_partition_bytes_at(192ull << 30, (uint64_t)g->memory_bytes,
							      l->partitions, nmp,
							      r.places[k].first_partition,
							      false) >= item.need_bytes);
		}
		mipart_plan_result_release(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_mi300x_cpx, setup, teardown),
	    cmocka_unit_test(test_modes_and_memory),
	    cmocka_unit_test_setup_teardown(test_lookup_by_bdf, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_legacy_xcp_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_non_partitioning_product, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_index_after_switch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_garbage_compute_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_garbage_other_attrs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_properties_is_directory, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_properties_damaged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mem_bank_damaged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_kfd, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_pci, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_empty_root, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_gpus, setup, teardown),
	    cmocka_unit_test(test_inferred_modes),
	    cmocka_unit_test_setup_teardown(test_duplicate_location, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_diag_cap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_layout_bytes_exact, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
