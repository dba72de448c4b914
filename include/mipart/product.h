/* SPDX-License-Identifier: MIT */
/*
 * What the partition modes of each AMD Instinct product give: for tools that plan before the
 * hardware is there (estimate, plan --product). The sizes follow the kernel's rule; a real GPU's
 * own figures (discovery) always win over these.
 */
#ifndef MIPART_PRODUCT_H
#define MIPART_PRODUCT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mode.h"
#include "topology.h"

/*
 * mipart_partition_bytes - memory of each of xcps partitions on a GPU with vram bytes of VRAM
 * split into nmp memory partitions (amdgpu_amdkfd.c: amdgpu_amdkfd_xcp_memory_size: the memory
 * partition's size shared by its XCPs, page aligned). 0 when the numbers do not make sense.
 */
uint64_t mipart_partition_bytes(uint64_t vram, unsigned xcps, unsigned nmp);

/*
 * mipart_partition_bytes_at - memory of partition xcp of xcps as the driver computes it: nmp
 * memory ranges of hbm/nmp bytes each, only the last one trimmed to vram (amdgpu_gmc.c:
 * amdgpu_gmc_init_sw_mem_ranges, "Adjust the last one"; HARDWARE.md 8.3), shared by the XCPs of
 * the range (CAPPING) or whole to each (alloc_all: compute_partition_mem_alloc_mode ALL), page
 * aligned. MI300X CPX/NPS4: 6 x 25769803776 and 2 x 25761415168 bytes. 0 when xcp is out of
 * range.
 */
uint64_t mipart_partition_bytes_at(uint64_t hbm, uint64_t vram, unsigned xcps, unsigned nmp,
				   unsigned xcp, bool alloc_all);

/*
 * mipart_partition_bytes_min - the smallest of the xcps partitions (CAPPING): what every
 * partition of the layout is sure to have. Planning and allocation use it, so that no model is
 * placed on a partition assuming more bytes than the trimmed one has.
 */
uint64_t mipart_partition_bytes_min(uint64_t hbm, uint64_t vram, unsigned xcps, unsigned nmp);

typedef struct mipart_product_layout {
	const char *product;		/* "MI300X"; static */
	mipart_compute_mode compute;
	mipart_memory_mode memory;
	unsigned partitions;
	uint64_t partition_bytes;	/* the smallest partition (mipart_partition_bytes_min) */
	unsigned compute_units;		/* CUs of one partition: its XCCs x CUs per XCC (MI300X
					 * CPX 38, SPX 304) */
} mipart_product_layout;

/*
 * mipart_product_layouts - every valid (compute, memory) pair of the products that partition
 * (or of the one named, case-insensitive, when product is not NULL), in table order. Writes at
 * most max entries; returns how many there are (-ENOENT for an unknown product).
 */
int mipart_product_layouts(const char *product, mipart_product_layout *out, size_t max);

/*
 * mipart_gpu_layouts - the layouts a discovered GPU can take: its product's pairs that the GPU
 * offers (compute_supported, memory_available), each with the smallest partition the GPU's own
 * VRAM gives in it. Writes at most max entries; returns how many there are, -ENOENT for a GPU
 * that does not partition or whose product mipart does not know.
 */
int mipart_gpu_layouts(const mipart_gpu_info *gi, mipart_product_layout *out, size_t max);

/* mipart_product_vram - usable VRAM of one GPU of the named product; 0 when unknown. */
uint64_t mipart_product_vram(const char *product);

#endif
