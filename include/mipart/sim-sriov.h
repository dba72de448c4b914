/* SPDX-License-Identifier: MIT */
/*
 * The simulated SR-IOV host: physical functions owned by AMD's host driver GIM, its virtual
 * functions, IOMMU groups, vfio-pci binding, and virtual machines (QEMU processes) that hold
 * VFs. State in <root>/mipart-sim-sriov.json; the tree is re-rendered from it after every step.
 * The stricter behaviour is modelled where the sources are unclear (docs/simulator.md).
 */
#ifndef MIPART_SIM_SRIOV_H
#define MIPART_SIM_SRIOV_H

#include <stdbool.h>

#include "host.h"

#define MIPART_SIM_SRIOV_STATE "mipart-sim-sriov.json"

/*
 * mipart_sim_sriov_create - a GIM host under dir (created; must be empty or absent): gpus PFs
 * of product (a key such as "mi300x" that GIM supports), each with vfs VFs (0: the smallest
 * count GIM offers), GIM loaded and its /etc/gim_config written as GIM writes it. Returns 0,
 * -EEXIST, -EINVAL with *ret_why (static text), or -errno.
 */
int mipart_sim_sriov_create(const char *dir, const char *product, unsigned gpus, unsigned vfs,
			    const char **ret_why);

/* Whether host's root is a simulated SR-IOV host. */
bool mipart_sim_sriov_is(const mipart_host *host);

/*
 * mipart_sim_sriov_write - what writing value to a sysfs file does on the simulated host; rel is
 * the path under the root ("sys/bus/pci/devices/<bdf>/sriov_numvfs", ".../driver_override",
 * ".../driver/unbind", "sys/bus/pci/drivers_probe"). Returns 0 or the kernel's -errno.
 */
int mipart_sim_sriov_write(const char *dir, const char *rel, const char *value);

/*
 * mipart_sim_sriov_unload / _load - modprobe -r gim / modprobe gim. Unloading while a process
 * holds a VF returns -EBUSY (the real gim_exit() waits, polling every 5 s, until no VF is in
 * use: the command would hang). Loading reads etc/gim_config (vf_num) and creates the VFs.
 */
int mipart_sim_sriov_unload(const char *dir);
int mipart_sim_sriov_load(const char *dir);

/* A VM (QEMU) process pid that holds VF vf_bdf (which must be bound to vfio-pci): -ENOENT,
 * -EINVAL (not bound to vfio-pci), -EEXIST (pid taken). */
int mipart_sim_sriov_hold(const char *dir, const char *vf_bdf, int pid, const char *comm,
			  const char *vm);
/* The process exits. -ENOENT when there is none. */
int mipart_sim_sriov_release(const char *dir, int pid);

#endif
