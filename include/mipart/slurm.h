/* SPDX-License-Identifier: MIT */
/*
 * Slurm: partition modes as node features of the node_features/helpers plugin, partitions as
 * GRES, and the partitions of a job step. See docs/slurm.md.
 *
 * Features are named after modes ("spx_nps1", "cpx_nps4": the node's partitioning GPUs all in
 * that mode pair) or after the named configs of a layout file. gres.conf lists one gpu per
 * partition, in logical index order, so that the index Slurm hands a step (SLURM_STEP_GPUS,
 * ROCR_VISIBLE_DEVICES with Flags=amd_gpu_env) is the partition's logical index.
 */
#ifndef MIPART_SLURM_H
#define MIPART_SLURM_H

#include <stdbool.h>
#include <stddef.h>

#include "change.h"
#include "config.h"
#include "host.h"
#include "topology.h"

/* The settings of the post-change action, under the host root (docs/slurm.md). */
#define MIPART_SLURM_SETTINGS_PATH "/etc/mipart/slurm.conf"
/* Longest feature name mipart makes or takes (Slurm has no limit; a config name has 64). */
#define MIPART_SLURM_FEATURE_MAX 64
/* Most features one node offers: 5 compute x 6 memory modes, or a layout file's configs. */
#define MIPART_SLURM_MAX_FEATURES 256
/* Longest value of a settings key, and of the file itself. */
#define MIPART_SLURM_SETTING_MAX 1024
#define MIPART_SLURM_SETTINGS_MAX_SIZE (64 * 1024)
/* Largest gres.conf mipart writes (64 partitions x ~200 bytes, with room). */
#define MIPART_SLURM_GRES_MAX (256 * 1024)

typedef struct mipart_slurm_features mipart_slurm_features;

/*
 * mipart_slurm_feature_valid - whether Slurm takes name as a changeable feature: a letter, '_'
 * or '=' first, then letters, digits, '_', '.' or '='
 * (node_features_helpers.c: _is_feature_valid, Slurm 22.05).
 */
bool mipart_slurm_feature_valid(const char *name);

/*
 * mipart_slurm_feature_name - "cpx_nps4" for CPX and NPS4 (lower case, '_' between).
 * Returns the length, -EINVAL for an unknown mode, -ENAMETOOLONG when buf is too small.
 */
int mipart_slurm_feature_name(mipart_compute_mode compute, mipart_memory_mode memory, char *buf,
			      size_t size);

/*
 * mipart_slurm_feature_parse - the modes of a mode feature ("CPX_nps4" too). Returns 0 or
 * -EINVAL.
 */
int mipart_slurm_feature_parse(const char *name, mipart_compute_mode *ret_compute,
			       mipart_memory_mode *ret_memory);

/*
 * mipart_slurm_features_new - the features of this node: with layout NULL, every mode pair
 * that each partitioning GPU of topo can take (its supported compute modes, its available
 * memory modes, and the kernel's pairing rule, mode.h); with a layout, its configs in file
 * order. Returns 0 and *ret (free with mipart_slurm_features_free), -ENODEV when no GPU of topo
 * partitions (mode names), -EINVAL with msg when a config name is not a valid Slurm feature,
 * -E2BIG above MIPART_SLURM_MAX_FEATURES, -ENOMEM.
 */
int mipart_slurm_features_new(const mipart_topology *topo, const mipart_config *layout,
			      mipart_slurm_features **ret, char *msg, size_t msg_size);
mipart_slurm_features *mipart_slurm_features_free(mipart_slurm_features *f);

size_t mipart_slurm_features_count(const mipart_slurm_features *f);
/* The i-th feature name, or NULL. Owned by f. */
const char *mipart_slurm_features_name(const mipart_slurm_features *f, size_t i);

/*
 * mipart_slurm_features_active - whether the host in topo is in feature i now: every
 * partitioning GPU in the mode pair, or every GPU the config selects in its modes.
 */
bool mipart_slurm_features_active(const mipart_slurm_features *f, size_t i,
				  const mipart_topology *topo);

/*
 * mipart_slurm_features_targets - the change that brings the host to feature name: targets has
 * one entry per GPU of topo. Returns 0, -ENOENT (not a feature of this node: msg), or the
 * layout's -EINVAL/-ENOENT with msg.
 */
int mipart_slurm_features_targets(const mipart_slurm_features *f, const char *name,
				  const mipart_topology *topo, mipart_target *targets, size_t n,
				  char *msg, size_t msg_size);

/*
 * mipart_slurm_helpers_conf - the helpers.conf(5) lines for f: one "Feature=NAME Helper=PATH"
 * per feature, "MutuallyExclusive=" of them all (one mode at a time) and ExecTime. Returns 0
 * and *ret_text (free()), -EINVAL (helper not an absolute path, or holding a space: Slurm's
 * parser splits there), -ENOMEM.
 */
int mipart_slurm_helpers_conf(const mipart_slurm_features *f, const char *helper,
			      unsigned exec_time_s, char **ret_text);

/*
 * mipart_slurm_gres - gres.conf for the partitions of topo, one line per partition in logical
 * index order: "Name=gpu Type=<product>_<compute> File=<render node> [Cores=<cpus>]
 * Flags=amd_gpu_env". File is the render node under the host root (a simulated host's own
 * device files); Cores the CPU list of the GPU's NUMA node when the host states it
 * (/sys/devices/system/node/nodeN/cpulist). gres_value gets the slurm.conf Gres= value
 * ("gpu:mi300x_cpx:64"). Returns 0 and *ret_text (free()), -ENODEV (no partitions), -ENOSPC
 * (gres_value too small), -EINVAL (a file path with white space or '#', which gres.conf cannot
 * hold: a root such as "/tmp/my host"), -ENOMEM.
 */
int mipart_slurm_gres(const mipart_topology *topo, const mipart_host *host, char **ret_text,
		      char *gres_value, size_t gres_value_size);

/* The post-change settings (MIPART_SLURM_SETTINGS_PATH), "key=value" lines like Slurm's. */
typedef struct mipart_slurm_settings {
	char gres_conf[MIPART_SLURM_SETTING_MAX];  /* GresConf: gres.conf to rewrite, under root */
	char slurm_conf[MIPART_SLURM_SETTING_MAX]; /* SlurmConf: rewrite Gres= of NodeName there */
	char node_name[256];			   /* NodeName: this node in slurm.conf */
	char scontrol[MIPART_SLURM_SETTING_MAX];   /* Scontrol: the program; "scontrol" */
	char layout[MIPART_SLURM_SETTING_MAX];	   /* Layout: features from this file */
	bool reconfigure;			   /* Reconfigure=yes: scontrol reconfigure */
	bool drain_on_failure;			   /* DrainOnFailure=yes: the helper drains */
} mipart_slurm_settings;

/*
 * mipart_slurm_settings_load - read the settings of host. Returns 1 and *ret when the file
 * exists, 0 (and defaults) when it does not, -EINVAL with "file:line: message" in msg for a
 * line it cannot take, or the -errno of reading it.
 */
int mipart_slurm_settings_load(const mipart_host *host, mipart_slurm_settings *ret, char *msg,
			       size_t msg_size);

/*
 * mipart_slurm_set_node_gres - in the text of a slurm.conf, give the line of node_name
 * (a "NodeName=" line naming exactly that node) the Gres= value gres (replacing the one it has).
 * Returns 0 and *ret_text (free()), -ENOENT (no such line), -EINVAL (no line of its own, and a
 * line names a host list or range, "NodeName=n[1-4]", that may hold it: mipart does not split
 * lines), -ENOMEM.
 */
int mipart_slurm_set_node_gres(const char *conf, const char *node_name, const char *gres,
			       char **ret_text);

/*
 * mipart_slurm_after_change - the post-change action: when the host has settings with
 * GresConf, write gres.conf (atomically), the node's Gres= in SlurmConf when set, and run
 * "scontrol reconfigure" when Reconfigure=yes (argv, 30 s). Returns 1 when done, 0 when the
 * host has no such settings, -errno with msg on failure.
 */
int mipart_slurm_after_change(const mipart_host *host, char *msg, size_t msg_size);

/*
 * mipart_slurm_drain - "scontrol update NodeName=N State=DRAIN Reason=R" (argv, 30 s).
 * Returns 0, -EINVAL (no node name), or -EIO with the tool's output in msg.
 */
int mipart_slurm_drain(const mipart_slurm_settings *s, const char *reason, char *msg,
		       size_t msg_size);

/*
 * mipart_slurm_step_partitions - the partitions Slurm gave the running step, from its
 * environment: SLURM_STEP_GPUS, else SLURM_JOB_GPUS, else ROCR_VISIBLE_DEVICES, else
 * CUDA_VISIBLE_DEVICES (what gres/gpu sets, gres_common.c: gres_common_gpu_set_env). Each item
 * is a gres index, which is the logical index with mipart's gres.conf, or a render node minor
 * (>= 128) where the Slurm names devices by file number. getenv_fn reads a variable (getenv in
 * the tool, a table in tests). Returns the count (indices into topo's partitions in idx),
 * -ENOENT (no such variable set: not in a Slurm step with GPUs), -EINVAL with msg (an item that
 * is no partition of this host), -E2BIG above max.
 */
int mipart_slurm_step_partitions(const mipart_topology *topo,
				 const char *(*getenv_fn)(const char *name), size_t *idx,
				 size_t max, char *msg, size_t msg_size);

#endif
