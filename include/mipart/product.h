/* SPDX-License-Identifier: MIT */
/*
 * What the partition modes of each AMD Instinct product give: for tools that plan before the
 * hardware is there (estimate, plan --product). The sizes follow the kernel's rule; a real GPU's
 * own figures (discovery) always win over these.
 */
#ifndef MIPART_PRODUCT_H
#define MIPART_PRODUCT_H

#include <stddef.h>
#include <stdint.h>

#include "mode.h"

/*
 * mipart_partition_bytes - memory of each of xcps partitions on a GPU with vram bytes of VRAM
 * split into nmp memory partitions (amdgpu_amdkfd.c: amdgpu_amdkfd_xcp_memory_size: the memory
 * partition's size shared by its XCPs, page aligned). 0 when the numbers do not make sense.
 */
uint64_t mipart_partition_bytes(uint64_t vram, unsigned xcps, unsigned nmp);

typedef struct mipart_product_layout {
	const char *product;		/* "MI300X"; static */
	mipart_compute_mode compute;
	mipart_memory_mode memory;
	unsigned partitions;
	uint64_t partition_bytes;
} mipart_product_layout;

/*
 * mipart_product_layouts - every valid (compute, memory) pair of the products that partition
 * (or of the one named, case-insensitive, when product is not NULL), in table order. Writes at
 * most max entries; returns how many there are (-ENOENT for an unknown product).
 */
int mipart_product_layouts(const char *product, mipart_product_layout *out, size_t max);

/* mipart_product_vram - usable VRAM of one GPU of the named product; 0 when unknown. */
uint64_t mipart_product_vram(const char *product);

#endif
