/* SPDX-License-Identifier: MIT */
/*
 * CDI (Container Device Interface): a spec of kind "amd.com/gpu" that names every partition,
 * every whole GPU and "all", so that a CDI-enabled runtime (`docker run --device
 * amd.com/gpu=0.3`, Kubernetes `cdi.k8s.io/` annotations) gives a container exactly /dev/kfd
 * and the render nodes of what it asked for. See docs/cdi.md for the names, the edits and when
 * the spec is rewritten.
 */
#ifndef MIPART_CDI_H
#define MIPART_CDI_H

#include <stdbool.h>

#include "host.h"
#include "topology.h"

/* The spec's version and kind (CDI SPEC.md; specs-go/config.go: Spec.Version, Spec.Kind). */
#define MIPART_CDI_VERSION "0.6.0"
#define MIPART_CDI_KIND "amd.com/gpu"

/* Where the spec lives, under the root: /etc/cdi is CDI's static spec directory
 * (pkg/cdi/spec-dirs.go: DefaultStaticDir); "<vendor>-<class>.json" is the name CDI's own
 * producer gives a spec (api/producer/spec-names.go: GenerateSpecName). */
#define MIPART_CDI_DIR "/etc/cdi"
#define MIPART_CDI_PATH "/etc/cdi/amd.com-gpu.json"

/*
 * mipart_cdi_generate - the CDI spec of the partitions of t, as JSON text (2-space indent,
 * ending in a newline). Devices, in order, for each GPU by index: "<gpu>" (all its render
 * nodes), "<gpu>.<xcp>" for each partition by XCP, then "<unique_id>-<xcp>" for each partition
 * when the GPU has a unique_id; last "all". A partition whose render node is unknown gets no
 * device; a name already taken (two GPUs with one unique_id) or not a valid CDI device name is
 * skipped, so the spec stays valid. Device node paths are the paths on host ("/dev/kfd",
 * "/dev/dri/renderD<minor>"), never under its root prefix: a container runtime reads them on
 * the machine itself. The output depends only on the topology (not on KFD node order).
 * Returns 0 and a string in *ret_json that the caller frees with free(); -ENODEV when no
 * partition has a render node (a spec needs one device); -EINVAL if a required name is not a
 * valid CDI name; -ENOMEM. *ret_json is untouched on failure.
 */
int mipart_cdi_generate(const mipart_topology *t, const mipart_host *host, char **ret_json);

/*
 * mipart_cdi_write - write json atomically (a temporary beside the file, then rename) to
 * path_or_null, a path as given (not under the root), or when NULL to MIPART_CDI_PATH under the
 * root of host, creating MIPART_CDI_DIR. The file is 0644. Returns 0, -ENAMETOOLONG, or the
 * -errno of mkdir, open, write or rename (-EACCES without root on a real host).
 */
int mipart_cdi_write(const mipart_host *host, const char *path_or_null, const char *json);

/*
 * mipart_cdi_refresh - rewrite MIPART_CDI_PATH under the root from a topology loaded now, under
 * the host-wide writer lock that partition changes hold (waiting at most lock_timeout_ms), so
 * that a change running meanwhile cannot leave the spec of the partitions before it. Returns 0,
 * -ETIMEDOUT (the lock is held), the errors of mipart_topology_load, mipart_cdi_generate and
 * mipart_cdi_write.
 */
int mipart_cdi_refresh(const mipart_host *host, unsigned lock_timeout_ms);

#endif
