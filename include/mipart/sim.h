/* SPDX-License-Identifier: MIT */
/*
 * The simulator: a fake host tree (sysfs PCI and DRM devices, amdgpu partition attributes,
 * amdgpu_xcp platform devices, KFD topology, /dev, /proc) shaped like the real driver's, and a
 * simulated driver that answers writes and reloads as amdgpu does, with injectable faults.
 * See docs/simulator.md. All functions take the simulated root directory.
 */
#ifndef MIPART_SIM_H
#define MIPART_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "mode.h"

typedef struct mipart_sim_options {
	const char *product;		/* key: "mi300x" (default), "mi308x", ... */
	unsigned gpus;			/* 1..16 (MI300A: 1..4); 0 means 8 */
	mipart_compute_mode compute;	/* MIPART_COMPUTE_UNKNOWN: what the driver picks at load
					 * (AUTO); SPX is 0, so a zeroed struct asks for SPX */
	mipart_memory_mode memory;	/* UNKNOWN: NPS1 */
	bool no_hive;			/* GPUs not joined in one XGMI hive */
	bool legacy_xcp_names;		/* platform devices named amdgpu_xcp.N (pre-2024 kernels) */
	bool device_nodes;		/* /dev/dri nodes as character devices 226:N, as udev makes
					 * them (needs CAP_MKNOD); else empty files */
	unsigned cpu_nodes;		/* CPU (NUMA) nodes in the KFD topology; 0 means 2 */
	int metrics;			/* gpu_metrics v1.N the driver writes: 8 (with partition
					 * metrics v1.0) or 9 (v1.1); 0 means 8; -1: no metrics
					 * files (kernels before them) */
	bool user_partt_mode_set;	/* user_partt_mode given; else -2 (AUTO), the default */
	int user_partt_mode;		/* amdgpu.user_partt_mode: -2 AUTO, 0 SPX .. 4 CPX */
} mipart_sim_options;

/* Scripted readings (mipart sim load). -1 leaves a value as it is. */
typedef struct mipart_sim_load {
	unsigned gpu;
	int xcp;		/* partition of the GPU for busy/vram; -1: none */
	int busy;		/* gfx busy % of the partition, 0..100 */
	int64_t vram;		/* VRAM bytes the partition's processes hold */
	int power_w;		/* socket power of the GPU */
	int temp_c;		/* hotspot temperature */
	int mem_temp_c;		/* HBM temperature */
	int gfxclk_mhz;
} mipart_sim_load;

/* Where a fault fires. */
typedef enum mipart_sim_fault_on {
	MIPART_SIM_FAULT_COMPUTE_WRITE,
	MIPART_SIM_FAULT_MEMORY_WRITE,
	MIPART_SIM_FAULT_RELOAD,
} mipart_sim_fault_on;

/* "error" value of a fault whose write reports success but changes nothing. */
#define MIPART_SIM_SILENT 1000000

typedef struct mipart_sim_fault {
	int gpu;		/* -1: any GPU */
	mipart_sim_fault_on on;
	int error;		/* positive errno, 0 (only delay) or MIPART_SIM_SILENT: the write
				 * or reload reports success and changes nothing */
	int times;		/* how many times it fires; -1: until cleared */
	unsigned delay_ms;	/* added before the operation answers */
} mipart_sim_fault;

/*
 * mipart_sim_create - write a complete simulated host under dir (created if missing; must be
 * empty or absent). Returns 0, -EEXIST (dir not empty), -EINVAL (unknown product, GPU count
 * out of 1..16, or a mode pair the driver refuses, with the reason in *ret_why when not NULL:
 * a static string), or -errno of the file system.
 */
int mipart_sim_create(const char *dir, const mipart_sim_options *opts, const char **ret_why);

/*
 * mipart_sim_write_attr - what writing value to attribute attr of the GPU at bdf does on the
 * simulated driver (attr: "current_compute_partition", "current_memory_partition",
 * "compute_partition_config/xcp_config"). Returns 0, or the -errno the kernel's store function
 * returns (-EINVAL, -EBUSY, -EOPNOTSUPP, -ENOENT, injected faults).
 */
int mipart_sim_write_attr(const char *dir, const char *bdf, const char *attr, const char *value);

/*
 * mipart_sim_reload - unload and load the simulated amdgpu module: pending NPS requests take
 * effect and every GPU comes back in the compute mode the driver picks at load. -EBUSY while
 * any simulated process uses a GPU (module refcount); an injected fault returns its error.
 */
int mipart_sim_reload(const char *dir);

/*
 * mipart_sim_load_driver - `modprobe amdgpu` on the simulated host: loads the module when it is out
 * (a load that failed earlier), else does nothing. A reload fault other than EBUSY fails it.
 */
int mipart_sim_load_driver(const char *dir);

/*
 * mipart_sim_hold - a simulated process pid (command comm, optional container id) opens
 * /dev/kfd and the render nodes of GPU gpu. Returns 0, -ENOENT (no such GPU), -EINVAL.
 */
int mipart_sim_hold(const char *dir, unsigned gpu, int pid, const char *comm, const char *container);

/*
 * mipart_sim_hold_partition - the same for one partition: the process opens /dev/kfd and the
 * render node of partition xcp of GPU gpu only (more calls add partitions). It still blocks a
 * mode change of the whole GPU, as the kernel's busy check is per device. Returns 0, -ENOENT
 * (no such GPU or partition in the current mode), -EINVAL.
 */
int mipart_sim_hold_partition(const char *dir, unsigned gpu, unsigned xcp, int pid,
			      const char *comm, const char *container);

/* mipart_sim_release - the simulated process pid exits. Returns 0 or -ESRCH. */
int mipart_sim_release(const char *dir, int pid);

/*
 * mipart_sim_set_load - script the readings the simulated driver shows (gpu_metrics,
 * xcp_metrics, KFD per-process VRAM, used_memory). The values hold until changed, a mode switch
 * of that GPU or a driver reload (both leave the GPU idle). Returns 0, -ENOENT (no such GPU, or
 * the partition does not exist in the current mode), -ERANGE (busy above 100, VRAM above the
 * partition's memory, a temperature or power out of range), -EINVAL.
 */
int mipart_sim_set_load(const char *dir, const mipart_sim_load *load);

/* mipart_sim_add_fault / mipart_sim_clear_faults - inject or remove faults. 0 or -errno. */
int mipart_sim_add_fault(const char *dir, const mipart_sim_fault *fault);
int mipart_sim_clear_faults(const char *dir);

/* Parse "EIO", "EBUSY", "EINVAL", "EPERM", "ETIMEDOUT", "SILENT" into *ret. 0 or -EINVAL. */
int mipart_sim_error_parse(const char *s, int *ret);

#endif
