/* SPDX-License-Identifier: MIT */
#ifndef MIPART_LIB_SIM_H
#define MIPART_LIB_SIM_H

#include <stdint.h>

#include "mipart/sim.h"
#include "product.h"

/* The marker and state of a simulated host, at the top of its root. */
#define SIM_STATE_FILE "mipart-sim.json"
#define SIM_LOCK_FILE "mipart-sim.lock"
#define SIM_MAX_GPUS 16
#define SIM_MAX_PROCS 64
#define SIM_MAX_FAULTS 32
#define SIM_STATE_MAX (256 * 1024)

struct sim_gpu {
	char bdf[16];
	mipart_compute_mode compute;
	mipart_memory_mode memory;
	mipart_memory_mode requested; /* pending NPS request, UNKNOWN if none */
	mipart_compute_mode xcp_config; /* compute_partition_config/xcp_config selection */
	bool alloc_all;		/* compute_partition_mem_alloc_mode reads ALL (else CAPPING) */
	bool alloc_all_kfd;	/* the mode the KFD nodes were created with (next switch) */
	int numa;
	uint64_t unique_id;
	/* scripted readings (mipart sim load): whole GPU, then per XCP slot */
	int power_w, temp_hotspot_c, temp_mem_c, uclk_mhz;
	int gfxclk_mhz;		/* -1: 140 MHz idle, the peak clock on a busy partition */
	uint8_t busy[8];	/* gfx busy % of partition x */
	uint64_t vram[8];	/* VRAM bytes the processes of partition x hold */
};

struct sim_proc {
	int pid;
	char comm[16];
	char container[72];
	unsigned gpus; /* bit per GPU */
	uint8_t parts[SIM_MAX_GPUS]; /* XCPs of each GPU it opened (bit per XCP); 0: all */
};

/* whether process p has partition x of GPU g open */
static inline bool sim_proc_has(const struct sim_proc *p, unsigned g, unsigned x)
{
	return (p->gpus & (1u << g)) && (!p->parts[g] || (p->parts[g] & (1u << x)));
}

/* what a render writes: SIM_RENDER_* bits, the GPUs of SIM_RENDER_MODES and SIM_RENDER_SWITCH,
 * the first KFD node of SIM_RENDER_KFD (0: all) */
struct sim_need {
	unsigned render, gpus, kfd_from;
};

struct sim_state {
	const struct product *product;
	unsigned n_gpus;
	struct sim_gpu gpu[SIM_MAX_GPUS];
	unsigned cpu_nodes;
	uint64_t hive_id; /* 0: no hive */
	bool legacy_names;
	bool device_nodes; /* /dev/dri entries are character devices (mknod) */
	bool loaded; /* amdgpu module loaded */
	unsigned metrics; /* gpu_metrics content revision the driver writes: 0 none, 8, 9 */
	unsigned kfd_order[SIM_MAX_GPUS]; /* GPU indices in KFD node order */
	unsigned generation;
	unsigned reloads;
	int user_partt_mode; /* amdgpu.user_partt_mode: -2 AUTO, 0 SPX .. 4 CPX */
	struct sim_proc proc[SIM_MAX_PROCS];
	unsigned n_procs;
	struct mipart_sim_fault fault[SIM_MAX_FAULTS];
	unsigned n_faults;
	/* what a step changed that the tree shows (not saved): SIM_RENDER_* bits, and for
	 * SIM_RENDER_MODES the GPUs whose mode files changed */
	unsigned render;
	unsigned render_gpus;
	unsigned kfd_from;	/* SIM_RENDER_SWITCH: the first KFD node that changed (0: all) */
	/* what each of the two trees (.sim-a, .sim-b) lacks of the state (saved): a change is
	 * added to both; a render writes the hidden tree and switches it in; the live tree's
	 * need, when not empty, is a render put off (by a compute switch, so that switches ending
	 * together render once) or cut short (a kill): the next step renders it */
	struct sim_need stale[2];
	bool defer;		/* this step's render may be put off (not saved) */
	bool unchanged;		/* this step changed nothing: no save (not saved) */
};

#define SIM_RENDER_ALL 1u	/* everything (create, reload) */
#define SIM_RENDER_MODES 2u	/* partition attribute files of render_gpus */
#define SIM_RENDER_KFD 4u	/* KFD topology (and the process entries inside it) */
#define SIM_RENDER_PROCS 8u	/* /proc entries of simulated processes */
#define SIM_RENDER_METRICS 16u	/* gpu_metrics, xcp_metrics, VRAM usage files */
#define SIM_RENDER_SWITCH 32u	/* a compute switch: readings of render_gpus only, KFD nodes
				 * from kfd_from on */
#define SIM_RENDER_IDLE 64u	/* with SIM_RENDER_SWITCH: the GPUs were idle before, their
				 * hwmon files stay as they are */

/* sim-driver.c: the compute mode a virtual function reads */
mipart_compute_mode sim_vf_mode(const struct product *p);

/* sim-state.c */
int sim_state_load(const char *dir, struct sim_state *ret);
int sim_state_save(const char *dir, const struct sim_state *s);
/* forget the state this process keeps from its last load or save: the next load parses the
 * file (for tests and the fuzzer, which check what a parse gives) */
void sim_state_forget(void);
/* take the simulated driver's lock (serializes writers like the kernel's mutexes); returns an fd */
int sim_lock(const char *dir);

/* sim-render.c: the tree is two full copies under the root, .sim-a and .sim-b; the link
 * .sim-live names the one readers see, and sys, dev and proc of the root are links through it.
 * sim_tree_live: which one is live (0 or 1), -ENOENT when the root has no such trees (a root
 * made by an earlier mipart, or not made yet). sim_tree_init: make both (moving a tree of an
 * earlier layout aside) and the links. sim_tree_switch: make tree t the live one (one
 * rename(2)). sim_render: write into tree t what s->render says changed, from the state. */
int sim_tree_live(const char *dir);
int sim_tree_init(const char *dir);
int sim_tree_switch(const char *dir, unsigned t);
int sim_render(const char *dir, unsigned t, const struct sim_state *s);
/* a |= b: the union of two renders' needs */
void sim_need_merge(struct sim_need *a, const struct sim_need *b);
/* how many partitions GPU i has now, and each one's memory */
unsigned sim_partitions(const struct sim_state *s, unsigned i);
uint64_t sim_partition_memory(const struct sim_state *s, unsigned i, unsigned x);
/* the DRM minors of DRM device d of the host (probe order: GPU g's PCI device is 8g, its
 * amdgpu_xcp devices 8g+1..8g+7) */
unsigned sim_render_minor(unsigned d);
unsigned sim_card_minor(unsigned d);
/* the readings a GPU shows after a load, a mode switch or a driver reload: idle */
void sim_gpu_idle(struct sim_gpu *g);

#endif
