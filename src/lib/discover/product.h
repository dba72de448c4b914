/* SPDX-License-Identifier: MIT */
#ifndef MIPART_LIB_PRODUCT_H
#define MIPART_LIB_PRODUCT_H

#include <stdbool.h>
#include <stdint.h>

#include "mipart/mode.h"

/* What mipart knows about an AMD Instinct product. See docs/discovery.md for the sources. */
struct product {
	const char *name;	/* "MI300X" */
	const char *key;	/* "mi300x", as `sim create --product` takes it */
	uint16_t device_id;	/* PCI device id (vendor 0x1002) */
	uint32_t pci_class;	/* PCI class code as the sysfs "class" file shows it */
	unsigned gfx_target;	/* KFD gfx_target_version */
	unsigned num_xcc;
	unsigned cu_per_xcc;
	uint64_t hbm_bytes;	/* nominal HBM */
	uint64_t reserved_bytes; /* VRAM the driver keeps back (observed, see product.c) */
	mipart_mode_set memory_modes; /* NPS modes the firmware reports; 0 = not switchable */
	bool apu;
	bool partitioning;	/* has the XCP manager (GC 9.4.3, 9.5.0) */
	unsigned clk_fcompute;	/* MHz, KFD max_engine_clk_fcompute */
	bool vf;		/* an SR-IOV virtual function: partition modes read-only */
};

/* The product with this PCI device id, or NULL. */
const struct product *product_by_device_id(unsigned device_id);

/* The product with this key ("mi300x", case-insensitive), or NULL. */
const struct product *product_by_key(const char *key);

/* Usable VRAM of one GPU (HBM less what the driver keeps; an APU's TTM limit). */
uint64_t product_vram(const struct product *p);

/*
 * Memory of partition xcp of xcps on this product with nmp memory partitions, as the driver
 * computes it: ranges of HBM/nmp with only the last trimmed to the usable VRAM, shared by the
 * XCPs of the range (CAPPING) or whole to each (alloc_all, mem_alloc_mode ALL). 0 if xcp is out
 * of range.
 */
uint64_t product_partition_bytes(const struct product *p, unsigned xcps, unsigned nmp,
				 unsigned xcp, bool alloc_all);

/* Products in table order; NULL past the end. */
const struct product *product_at(unsigned i);

#endif
