/* SPDX-License-Identifier: MIT */
/*
 * Declarative partition configs: a YAML file (format v1, in the spirit of NVIDIA mig-parted)
 * that names sets of per-GPU compute and memory modes, and the systemd units to stop around a
 * disruptive change. This module reads and writes the file; it knows nothing about the
 * hardware: matching entries to the GPUs of a topology is the caller's job. See docs/config.md.
 *
 *   version: v1
 *   partition-configs:
 *     mixed:
 *       - devices: [0, 1, 2, 3]
 *         compute: CPX
 *         memory: NPS4
 *       - devices: all
 *         product: MI300X
 *         compute: SPX
 *   hooks:
 *     units: [vllm-a.service]
 */
#ifndef MIPART_CONFIG_H
#define MIPART_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "mode.h"

/* Limits of the reader; input beyond them is refused, never truncated. */
#define MIPART_CONFIG_MAX_SIZE (1024 * 1024) /* bytes of one file */
#define MIPART_CONFIG_MAX_EVENTS 100000	     /* YAML events (nodes, keys, ends) of one file */
#define MIPART_CONFIG_MAX_DEPTH 16	     /* nested mappings and sequences */
#define MIPART_CONFIG_MAX_CONFIGS 256	     /* entries of partition-configs */
#define MIPART_CONFIG_MAX_ENTRIES 64	     /* entries of one config */
#define MIPART_CONFIG_MAX_DEVICES 64	     /* items of one devices list */
#define MIPART_CONFIG_MAX_GPU_INDEX 63	     /* largest GPU index a devices list takes */
#define MIPART_CONFIG_MAX_BDFS 64	     /* PCI addresses in one config (<= 64 GPUs) */
#define MIPART_CONFIG_MAX_UNITS 64	     /* items of hooks.units */
#define MIPART_CONFIG_NAME_MAX 64	     /* characters of a config name */
#define MIPART_CONFIG_PRODUCT_MAX 64	     /* characters of a product filter */
#define MIPART_CONFIG_UNIT_MAX 255	     /* characters of a unit name (systemd) */

/* The whole file. */
typedef struct mipart_config mipart_config;
/* One named config of partition-configs. Owned by its mipart_config. */
typedef struct mipart_config_set mipart_config_set;

/*
 * Where and why reading a file failed. line and column are 1-based (column counts characters,
 * a tab counts as one); both are 0 when the problem has no place in the file (I/O, size,
 * memory). message is one line in git's style, without the "file:line:column: " prefix:
 *   unknown compute mode 'CPU' (expected SPX, DPX, TPX, QPX or CPX)
 */
typedef struct mipart_config_error {
	char file[256];
	unsigned line, column;
	char message[256];
} mipart_config_error;

/* One item of a devices list: a GPU index (order by PCI address) or a PCI address. */
typedef struct mipart_config_device {
	bool is_bdf;
	unsigned index;	       /* GPU index 0..63 when !is_bdf, else 0 */
	char bdf[16];	       /* "0000:05:00.0" in lower case when is_bdf, else "" */
	unsigned line, column; /* where the item is written */
} mipart_config_device;

/* One entry of a config: which GPUs, and the modes they get. */
typedef struct mipart_config_entry {
	bool all_devices;		     /* "devices: all" */
	size_t n_devices;		     /* 0 when all_devices */
	const mipart_config_device *devices; /* n_devices items, in file order, no duplicates */
	const char *product;		     /* product filter as written ("MI300X"), or NULL */
	mipart_compute_mode compute;	     /* MIPART_COMPUTE_UNKNOWN when not set */
	mipart_memory_mode memory;	     /* MIPART_MEMORY_UNKNOWN when not set */
	unsigned line, column;		     /* where the entry starts */
} mipart_config_entry;

/*
 * mipart_config_parse - read a config file's text: len bytes of buf (no NUL needed), at most
 * MIPART_CONFIG_MAX_SIZE. filename only goes into error reports (NULL: "<input>").
 * YAML anchors, aliases, custom tags, duplicate keys, unknown keys and more than one document
 * are refused. Two entries of one config that name the same GPU index or PCI address are an
 * error, as are two "devices: all" entries with the same product filter.
 * Returns 0 and a new config in *ret (free with mipart_config_free), or
 *   -EINVAL  the text is not a valid v1 config,
 *   -EFBIG   len exceeds MIPART_CONFIG_MAX_SIZE,
 *   -ENOMEM.
 * On failure *ret is untouched and *ret_err (when ret_err is not NULL) says what is wrong
 * where; on success *ret_err is untouched.
 */
int mipart_config_parse(const char *buf, size_t len, const char *filename, mipart_config **ret,
			mipart_config_error *ret_err);

/*
 * mipart_config_load - mipart_config_parse on the contents of the file at path.
 * Returns 0 and *ret, the returns of mipart_config_parse (-EFBIG also when the file is larger
 * than MIPART_CONFIG_MAX_SIZE), or the -errno of open/read (-ENOENT, -EACCES, -EISDIR, ...).
 * *ret_err is filled on every failure, with line and column 0 when there is no place.
 */
int mipart_config_load(const char *path, mipart_config **ret, mipart_config_error *ret_err);

/* mipart_config_free - frees the config and everything it owns; accepts NULL; returns NULL. */
mipart_config *mipart_config_free(mipart_config *c);

/* Number of configs under partition-configs (at least 1 in a parsed file). */
size_t mipart_config_count(const mipart_config *c);

/* The i-th config in file order, or NULL if out of range. Owned by c. */
const mipart_config_set *mipart_config_get(const mipart_config *c, size_t i);

/*
 * mipart_config_find - the config named name (exact, case-sensitive match).
 * Returns 0 and *ret (owned by c), or -ENOENT.
 */
int mipart_config_find(const mipart_config *c, const char *name, const mipart_config_set **ret);

/* The config's name. Owned by the config. */
const char *mipart_config_set_name(const mipart_config_set *s);

/* Line of the config's name in the file (1-based). */
unsigned mipart_config_set_line(const mipart_config_set *s);

/* Number of entries of the config (at least 1). */
size_t mipart_config_set_entry_count(const mipart_config_set *s);

/* The i-th entry in file order, or NULL if out of range. Owned by the config. */
const mipart_config_entry *mipart_config_set_entry(const mipart_config_set *s, size_t i);

/* Number of systemd units of hooks.units (0 when there are no hooks). */
size_t mipart_config_unit_count(const mipart_config *c);

/* The i-th unit name ("vllm-a.service") in file order, or NULL if out of range. Owned by c. */
const char *mipart_config_unit(const mipart_config *c, size_t i);

/*
 * mipart_config_format - write the modes of n_gpus GPUs as a v1 document holding one config,
 * `name`. GPU i has index gpu_index[i] (gpu_index NULL: index i), product product[i]
 * (product NULL, or product[i] NULL: not known) and modes compute[i], memory[i]; an UNKNOWN
 * mode is left out of the GPU's entry, and a GPU with both modes UNKNOWN is left out of the
 * config. GPUs with the same (product, compute, memory) share one entry; entries are ordered by
 * their lowest GPU index. An entry covering every GPU says "devices: all", the others list GPU
 * indices; "product:" is written when the GPUs are of more than one product.
 * mipart_config_parse() of the text gives back the same modes for every GPU.
 * Returns 0 and *ret_text (NUL-terminated, free with free()), or
 *   -EINVAL  name is not a valid config name, n_gpus is 0 or above 64, an index is above 63
 *            or repeated, a product is not a valid product filter, a mode is out of range,
 *            or no GPU has a known mode,
 *   -ENOMEM.
 */
int mipart_config_format(const char *name, size_t n_gpus, const unsigned *gpu_index,
			 const char *const *product, const mipart_compute_mode *compute,
			 const mipart_memory_mode *memory, char **ret_text);

#endif
