/* SPDX-License-Identifier: MIT */
/*
 * SR-IOV: the virtual functions (VFs) of AMD Instinct GPUs on a virtualization host, where AMD's
 * host driver GIM (amd/MxGPU-Virtualization) owns the physical functions (PFs) and each VF is
 * handed to a virtual machine through vfio-pci. Listing reads only generic PCI sysfs (virtfnN,
 * physfn, sriov_numvfs, driver, iommu_group) and /proc; changes go through GIM's configuration
 * and a reload of GIM, or through sriov_numvfs where the PF's driver supports it. docs/sriov.md
 * has the facts and their sources.
 */
#ifndef MIPART_SRIOV_H
#define MIPART_SRIOV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host.h"

typedef struct mipart_sriov mipart_sriov;

/* The process that holds a VF's vfio group open: a virtual machine (QEMU, through libvirt). */
typedef struct mipart_vf_user {
	int pid;		/* 0: nobody */
	char comm[32];
	char vm[128];		/* QEMU's -name guest=NAME (libvirt's domain name), or "" */
} mipart_vf_user;

typedef struct mipart_vf {
	char bdf[16];
	unsigned index;		/* N of the PF's virtfnN link */
	unsigned device_id;
	char driver[32];	/* bound driver ("vfio-pci", "amdgpu"), "" when none */
	int iommu_group;	/* -1 when the VF has none (no IOMMU) */
	mipart_vf_user user;
	/* What the VF owns, derived from the VF count and the product (GIM documents the modes
	 * per VF count; no sysfs file says it): XCDs and memory in bytes; 0 when unknown. */
	unsigned xcds;
	uint64_t memory;
} mipart_vf;

typedef struct mipart_pf {
	char bdf[16];
	unsigned device_id;
	const char *product;	/* "MI300X", or NULL for an AMD device mipart does not know */
	char driver[32];	/* "gim", "amdgpu", "" */
	int gim_index;		/* GIM's GPU index (probe order), -1 when not driven by GIM */
	unsigned total_vfs;	/* sriov_totalvfs */
	unsigned num_vfs;	/* sriov_numvfs */
	mipart_vf *vfs;		/* num_vfs entries, by index */
	size_t n_vfs;
} mipart_pf;

/*
 * mipart_sriov_scan - every AMD PF with SR-IOV capability (a sriov_totalvfs file) on the host,
 * in PCI address order, with its VFs and who holds them. Returns 0 and *ret (free with
 * mipart_sriov_free; a host without any gives an empty list), -ENOENT when /sys/bus/pci cannot
 * be listed, -ENOMEM.
 */
int mipart_sriov_scan(const mipart_host *host, mipart_sriov **ret);
mipart_sriov *mipart_sriov_free(mipart_sriov *s);
size_t mipart_sriov_count(const mipart_sriov *s);
const mipart_pf *mipart_sriov_get(const mipart_sriov *s, size_t i);
/* The PF whose index (position) or PCI address is sel ("0", "0000:05:00.0"), or NULL. */
const mipart_pf *mipart_sriov_find_pf(const mipart_sriov *s, const char *sel);
/* The VF with this PCI address (also as PF.N: "0.3" is VF 3 of PF 0), its PF in *ret_pf. */
const mipart_vf *mipart_sriov_find_vf(const mipart_sriov *s, const char *sel,
				      const mipart_pf **ret_pf);

/*
 * mipart_sriov_allowed - the VF counts the host driver offers for a PF of this PCI device id,
 * and the compute/memory mode each count brings ("CPX/NPS4"), up to max of them. Returns how
 * many there are (0: SR-IOV not supported for this product by GIM).
 */
size_t mipart_sriov_allowed(unsigned pf_device_id, unsigned *ret_counts, const char **ret_modes,
			    size_t max);

typedef struct mipart_sriov_options {
	bool dry_run;
	int64_t uid;
	const char *command;		/* for the journal */
	const char *journal_path;	/* NULL: MIPART_JOURNAL_PATH under the root */
	/* GIM reload: words (no shell), NULL-terminated; NULL: modprobe -r gim / modprobe gim */
	const char *const *unload;
	const char *const *load;
	unsigned reload_timeout_ms;	/* 0: 120 s (GIM waits for its GPUs' init) */
	unsigned lock_timeout_ms;
} mipart_sriov_options;

/*
 * mipart_sriov_set_count - give the PF at pf_bdf `count` VFs (0 to remove them where the
 * driver allows). Validated against mipart_sriov_allowed(), refused while a VM holds a VF that
 * the change removes or, for GIM, any VF of the host (a GIM reload recreates them all);
 * journaled; under the host lock. *ret_msg (always set, free it) says what was done or why
 * not. Returns 0, -EINVAL (count not offered; pf not an SR-IOV PF), -EBUSY (VFs in use),
 * -EOPNOTSUPP (the driver can neither take sriov_numvfs nor is GIM), -EPERM, -ETIMEDOUT, or the
 * -errno of the write or reload.
 */
int mipart_sriov_set_count(const mipart_host *host, const char *pf_bdf, unsigned count,
			   const mipart_sriov_options *opts, char **ret_msg);

/*
 * mipart_sriov_bind - bind a VF to driver (e.g. "vfio-pci") the kernel's way: driver_override,
 * unbind from its driver, drivers_probe. Refused (-EBUSY) while a process holds the VF.
 * Returns 0, -ENOENT (no such VF), -EBUSY, or the -errno of a write (-ENODEV: the driver did
 * not take the device; is its module loaded?). *ret_msg as above.
 */
int mipart_sriov_bind(const mipart_host *host, const char *vf_bdf, const char *driver,
		      bool dry_run, char **ret_msg);

/* The libvirt <hostdev> element that hands this VF to a domain (managed='yes'). Caller frees. */
char *mipart_sriov_libvirt_xml(const mipart_vf *vf);
/* QEMU's -device argument for the VF ("vfio-pci,host=0000:05:02.1"). Caller frees. */
char *mipart_sriov_qemu_arg(const mipart_vf *vf);

/*
 * mipart_sriov_pf_vfs - how many VFs the PF at bdf has enabled (its sriov_numvfs), 0 when it
 * has none or no SR-IOV capability. What partition changes check before touching a GPU.
 */
unsigned mipart_sriov_pf_vfs(const mipart_host *host, const char *bdf);

#endif
