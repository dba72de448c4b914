// SPDX-License-Identifier: MIT
/*
 * The product table: PCI device id to product, with the sizes the simulator needs and discovery
 * uses to name a GPU. Discovery never trusts this table for modes or sizes of a real GPU (those
 * are read from the kernel); it only supplies the name, and whether the product partitions at
 * all. Sources are in ../shared/HARDWARE.md section 4.1; assumptions are marked.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "mipart/product.h"

#include "product.h"
#include "util.h"
#include "banned.h"

#define GIB (UINT64_C(1) << 30)
#define MIB (UINT64_C(1) << 20)
#define NPS(n) MIPART_MODE_BIT(MIPART_MEMORY_NPS##n)

/* PCI class 0x120000 = processing accelerator: how the driver binds IP-discovery parts
 * (amdgpu_drv.c pciidlist: PCI_CLASS_ACCELERATOR_PROCESSING); 0x038000 = display other. */
static const struct product products[] = {
	/* 74a1, 8 XCC x 38 CU: real KFD topology (simd_count 152 per CPX partition). 16 MiB
	 * reserved: DPX+NPS1 partitions report 103070826496 B = (192 GiB - 16 MiB) / 2
	 * (ROCm/k8s-gpu-dra-driver issue #20). NPS2 not reported by firmware: assumption, see
	 * docs/simulator.md. */
	{ "MI300X", "mi300x", 0x74a1, 0x120000, 90402, 8, 38, 192 * GIB, 16 * MIB, NPS(1) | NPS(4),
	  false, true, 2100 },
	/* 74a9 and 74bd, "Aqua Vanjaram [Instinct MI300X HF]" (pci.ids; HARDWARE.md 8.10): the
	 * MI300X die, taken to have its sizes (UNCONFIRMED). */
	{ "MI300X-HF", "mi300x-hf", 0x74a9, 0x120000, 90402, 8, 38, 192 * GIB, 16 * MIB,
	  NPS(1) | NPS(4), false, true, 2100 },
	{ "MI300X-HF", "mi300x-hf-74bd", 0x74bd, 0x120000, 90402, 8, 38, 192 * GIB, 16 * MIB,
	  NPS(1) | NPS(4), false, true, 2100 },
	/* SR-IOV VFs: 74b5 MI300X VF, 74b9 MI325X VF (pci.ids; AMD MxGPU/GIM release notes;
	 * HARDWARE.md 8.10). On a VF the driver has no switch_partition_mode hook, so
	 * current_compute_partition is 0444 and available_compute_partition absent
	 * (aqua_vanjaram.c: aqua_vanjaram_xcp_mgr_init; amdgpu_gfx_sysfs_xcp_init), and NPS
	 * requests return -EOPNOTSUPP (amdgpu_gmc_request_memory_partition): listed, read-only. */
	{ "MI300X-VF", "mi300x-vf", 0x74b5, 0x120000, 90402, 8, 38, 192 * GIB, 16 * MIB, NPS(1),
	  false, true, 2100, true },
	{ "MI325X-VF", "mi325x-vf", 0x74b9, 0x120000, 90402, 8, 38, 256 * GIB, 16 * MIB, NPS(1),
	  false, true, 2100, true },
	/* One of 8 VFs of an MI300X (GIM: 8 VFs = CPX/NPS4, docs/sriov.md): one XCD and an eighth
	 * of the memory, under the same VF id; the guest reads CPX (aqua_vanjaram.c:
	 * __aqua_vanjaram_calc_xcp_mode returns CPX when num_xcc_per_xcp is 1). The VF's memory
	 * is taken as 24 GiB with no reserve (UNCONFIRMED). */
	{ "MI300X-VF", "mi300x-vf8", 0x74b5, 0x120000, 90402, 1, 38, 24 * GIB, 0, NPS(1), false,
	  true, 2100, true },
	/* 74a2, 4 XCC x 20 CU, 48 GiB exactly per CPX partition: real KFD topology. */
	{ "MI308X", "mi308x", 0x74a2, 0x120000, 90402, 4, 20, 192 * GIB, 0, NPS(1) | NPS(4), false,
	  true, 1420 },
	/* 74a5: same die as MI300X with 256 GB HBM3E (size UNCONFIRMED). */
	{ "MI325X", "mi325x", 0x74a5, 0x120000, 90402, 8, 38, 256 * GIB, 16 * MIB, NPS(1) | NPS(4),
	  false, true, 2100 },
	/* 74a0 UNCONFIRMED; 6 XCC (amd-smi doc); APU: NPS cannot be switched from the OS
	 * (amdgpu_gmc.c: amdgpu_gmc_request_memory_partition returns -EOPNOTSUPP on APUs). */
	{ "MI300A", "mi300a", 0x74a0, 0x120000, 90402, 6, 38, 128 * GIB, 0, 0, true, true, 2100 },
	/* 75a0 / 75a3: AMD "Mapping NIC to GPU NUMA node" doc; gfx950 (kfd_device.c). 8 XCC x 32 CU
	 * and 288 GB are the product specification, not read from a kernel (UNCONFIRMED); NPS1/NPS2
	 * assumed. */
	{ "MI350X", "mi350x", 0x75a0, 0x120000, 90500, 8, 32, 288 * GIB, 16 * MIB, NPS(1) | NPS(2),
	  false, true, 2200 },
	{ "MI355X", "mi355x", 0x75a3, 0x120000, 90500, 8, 32, 288 * GIB, 16 * MIB, NPS(1) | NPS(2),
	  false, true, 2400 },
	/* Older Instinct GPUs: no XCP manager, listed with partitioning "not supported". */
	{ "MI210", "mi210", 0x740f, 0x038000, 90010, 1, 104, 64 * GIB, 0, 0, false, false, 1700 },
	{ "MI250X", "mi250x", 0x7408, 0x038000, 90010, 1, 110, 64 * GIB, 0, 0, false, false, 1700 },
	{ "MI250", "mi250", 0x740c, 0x038000, 90010, 1, 104, 64 * GIB, 0, 0, false, false, 1700 },
	{ "MI100", "mi100", 0x738c, 0x038000, 90008, 1, 120, 32 * GIB, 0, 0, false, false, 1502 },
};

const struct product *product_by_device_id(unsigned device_id)
{
	for (size_t i = 0; i < ARRAY_SIZE(products); i++)
		if (products[i].device_id == device_id)
			return &products[i];
	return NULL;
}

const struct product *product_by_key(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(products); i++)
		if (!strcasecmp(products[i].key, key))
			return &products[i];
	return NULL;
}

const struct product *product_at(unsigned i)
{
	return i < ARRAY_SIZE(products) ? &products[i] : NULL;
}

#define PAGE_SIZE 4096u

uint64_t mipart_partition_bytes(uint64_t vram, unsigned xcps, unsigned nmp)
{
	uint64_t per_mp;

	if (!xcps || !nmp)
		return 0;
	if (nmp > xcps)
		nmp = xcps;
	per_mp = vram / nmp / PAGE_SIZE * PAGE_SIZE;
	return per_mp / (xcps / nmp) / PAGE_SIZE * PAGE_SIZE;
}

uint64_t mipart_partition_bytes_at(uint64_t hbm, uint64_t vram, unsigned xcps, unsigned nmp,
				   unsigned xcp, bool alloc_all)
{
	uint64_t range;
	unsigned per_mp, mem_id;

	if (!xcps || xcp >= xcps || !nmp)
		return 0;
	if (nmp > xcps)
		nmp = xcps;
	/* a VRAM larger than the HBM figure (a product variant mipart does not know): no trim */
	if (hbm < vram)
		hbm = vram;
	per_mp = xcps / nmp;
	/* aqua_vanjaram.c: __aqua_vanjaram_get_xcp_mem_id: XCPs fill memory partitions in order */
	mem_id = xcp / per_mp;
	/* amdgpu_gmc.c: amdgpu_gmc_init_sw_mem_ranges: nmp ranges of HBM/nmp each, and "Adjust
	 * the last one" to real_vram_size (HARDWARE.md 8.3) */
	range = nmp == 1 ? vram : hbm / nmp;
	if (nmp > 1 && mem_id == nmp - 1)
		range = vram > (uint64_t)(nmp - 1) * (hbm / nmp) ? vram - (uint64_t)(nmp - 1) * (hbm / nmp)
								  : 0;
	range = range / PAGE_SIZE * PAGE_SIZE;
	/* compute_partition_mem_alloc_mode: CAPPING shares the range among its XCPs, ALL lets
	 * each see the whole range (amdgpu_gfx.c; amdgpu_amdkfd_xcp_memory_size; 8.8) */
	return alloc_all ? range : range / per_mp / PAGE_SIZE * PAGE_SIZE;
}

uint64_t mipart_partition_bytes_min(uint64_t hbm, uint64_t vram, unsigned xcps, unsigned nmp)
{
	uint64_t min = 0;

	/* the last range is the trimmed one, but a VRAM close to HBM can make it the largest:
	 * take the smallest of all */
	for (unsigned x = 0; x < xcps; x++) {
		uint64_t b = mipart_partition_bytes_at(hbm, vram, xcps, nmp, x, false);

		if (x == 0 || b < min)
			min = b;
	}
	return min;
}

uint64_t product_partition_bytes(const struct product *p, unsigned xcps, unsigned nmp,
				 unsigned xcp, bool alloc_all)
{
	/* an APU has one range, the TTM limit (amdgpu_amdkfd_xcp_memory_size) */
	return mipart_partition_bytes_at(p->hbm_bytes, product_vram(p), xcps,
					 p->apu || nmp <= 1 ? 1 : nmp, xcp, alloc_all);
}

/* the smallest partition of a layout: the planner gives every partition of a layout one size,
 * and it must not be more than any of them has */
static uint64_t product_partition_bytes_min(const struct product *p, unsigned xcps, unsigned nmp)
{
	return mipart_partition_bytes_min(p->hbm_bytes, product_vram(p), xcps,
					  p->apu || nmp <= 1 ? 1 : nmp);
}

uint64_t product_vram(const struct product *p)
{
	/* an APU's partitions share the TTM limit, half of system memory by default
	 * (amdgpu_amdkfd_xcp_memory_size) */
	return p->apu ? p->hbm_bytes / 2 : p->hbm_bytes - p->reserved_bytes;
}

uint64_t mipart_product_vram(const char *name)
{
	const struct product *p = product_by_key(name);

	return p ? product_vram(p) : 0;
}

int mipart_product_layouts(const char *name, mipart_product_layout *out, size_t max)
{
	size_t n = 0;
	bool found = !name;

	for (size_t i = 0; i < ARRAY_SIZE(products); i++) {
		const struct product *p = &products[i];
		mipart_mode_set nps = p->memory_modes ? p->memory_modes
						      : MIPART_MODE_BIT(MIPART_MEMORY_NPS1);

		if (name && strcasecmp(name, p->key) && strcasecmp(name, p->name))
			continue;
		found = true;
		/* a VF cannot change its modes; a second PCI id of one product adds nothing */
		if (!p->partitioning || p->vf || (i && !strcmp(products[i - 1].name, p->name)))
			continue;
		for (int m = MIPART_MEMORY_NPS1; m <= MIPART_MEMORY_NPS8; m++) {
			if (!(nps & MIPART_MODE_BIT(m)))
				continue;
			for (int c = 0; c < MIPART_COMPUTE_MODE_COUNT; c++) {
				unsigned xcps;

				if (!mipart_mode_pair_valid((mipart_compute_mode)c, (mipart_memory_mode)m,
							    p->num_xcc, p->gfx_target))
					continue;
				xcps = mipart_compute_mode_partitions((mipart_compute_mode)c, p->num_xcc);
				if (n < max)
					out[n] = (mipart_product_layout){
						p->name, (mipart_compute_mode)c, (mipart_memory_mode)m,
						xcps,
						product_partition_bytes_min(
							p, xcps,
							mipart_memory_mode_partitions((mipart_memory_mode)m, p->apu)),
						xcps ? p->num_xcc / xcps * p->cu_per_xcc : 0,
					};
				n++;
			}
		}
	}
	return found ? (int)n : -ENOENT;
}

static const struct product *product_by_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(products); i++)
		if (!strcasecmp(products[i].name, name) || !strcasecmp(products[i].key, name))
			return &products[i];
	return NULL;
}

int mipart_gpu_layouts(const mipart_gpu_info *gi, mipart_product_layout *out, size_t max)
{
	mipart_product_layout lay[64];
	const struct product *p;
	size_t n = 0;
	int nl;

	if (!gi->partitioning || !gi->product || !(p = product_by_name(gi->product)))
		return -ENOENT;
	nl = mipart_product_layouts(gi->product, lay, ARRAY_SIZE(lay));
	if (nl < 0)
		return nl;
	for (int k = 0; k < nl && (size_t)k < ARRAY_SIZE(lay); k++) {
		mipart_product_layout l = lay[k];

		/* the modes this GPU offers, as the hardware says */
		if (gi->compute_supported && !(gi->compute_supported & MIPART_MODE_BIT(l.compute)))
			continue;
		if (gi->memory_available && !(gi->memory_available & MIPART_MODE_BIT(l.memory)))
			continue;
		/* the GPU's own VRAM, cut as the driver cuts it: ranges of HBM/N, the last trimmed
		 * (HARDWARE.md 8.3), and the smallest partition for the whole layout */
		if (gi->memory_bytes > 0)
			l.partition_bytes = mipart_partition_bytes_min(
				p->hbm_bytes, (uint64_t)gi->memory_bytes, l.partitions,
				gi->is_apu ? 1 : mipart_memory_mode_partitions(l.memory, false));
		if (n < max)
			out[n] = l;
		n++;
	}
	return (int)n;
}
