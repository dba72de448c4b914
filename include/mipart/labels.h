/* SPDX-License-Identifier: MIT */
/*
 * Node labels: a host's partition facts as Kubernetes node labels, written in Node Feature
 * Discovery's local feature-file format (features.d). AMD's label keys where AMD's node
 * labeller defines them, NFD's namespace for the rest. See docs/kubernetes.md.
 */
#ifndef MIPART_LABELS_H
#define MIPART_LABELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger.h"
#include "topology.h"

/* Where NFD's worker reads local feature files (nfd-worker, source "local":
 * /etc/kubernetes/node-feature-discovery/features.d/), under the host root. */
#define MIPART_LABELS_PATH "/etc/kubernetes/node-feature-discovery/features.d/mipart"
/* NFD's own namespace for labels of feature files that give none. */
#define MIPART_LABELS_NFD_NS "feature.node.kubernetes.io/"
#define MIPART_LABELS_MAX 96

/* Kubernetes limits (k8s.io/apimachinery/pkg/util/validation/validation.go): a qualified
 * name is an optional DNS-subdomain prefix (<= 253) and '/', then a name of <= 63 characters;
 * a label value is <= 63 characters. */
#define MIPART_LABEL_NAME_MAX 63
#define MIPART_LABEL_PREFIX_MAX 253
#define MIPART_LABEL_VALUE_MAX 63

typedef struct mipart_label {
	char key[MIPART_LABEL_PREFIX_MAX + 1 + MIPART_LABEL_NAME_MAX + 1];
	char value[MIPART_LABEL_VALUE_MAX + 1];
} mipart_label;

/* mipart_label_key_valid - 0 when key is a valid label key (qualified name), else -EINVAL. */
int mipart_label_key_valid(const char *key);
/* mipart_label_value_valid - 0 when value is a valid label value (may be empty), else -EINVAL. */
int mipart_label_value_valid(const char *value);

/* mipart_k8s_name_valid - 0 when name is a DNS-1123 subdomain (how Kubernetes names a Node,
 * validation.go IsDNS1123Subdomain), else -EINVAL. */
int mipart_k8s_name_valid(const char *name);

typedef struct mipart_labels_input {
	const mipart_topology *topo;
	mipart_ledger *ledger;		/* bookings, for free memory; NULL: nothing booked */
	const char *config;		/* the declared config name, or NULL */
	int in_sync;			/* 1/0 against the declared state, -1 unknown */
} mipart_labels_input;

/*
 * mipart_labels_build - the labels of a host, sorted by key, each valid. A declared config name
 * that is not a valid label value is left out (it is still in the declared state). A host read
 * whole with no GPU a pod can use (every AMD function driven by GIM, bound to vfio-pci or to no
 * driver: mipart_gpu_usable) has one label, MIPART_LABELS_NFD_NS "mipart-gpus" = "0", so that no
 * label of GPUs it had before outlives them (docs/kubernetes.md).
 * Returns the count (<= max) written to labels, -ENODEV (no AMD PCI function at all: nothing
 * was read), -EAGAIN (no usable GPU, and amdgpu drives one whose partitions KFD does not list:
 * the driver is still probing; look again), -ENOSPC (more than max), or -errno of the ledger.
 */
int mipart_labels_build(const mipart_labels_input *in, mipart_label *labels, size_t max);

/*
 * mipart_labels_for_host - mipart_labels_build with the host's ledger (read only; none is
 * fine) and declared state (none is fine). Returns as mipart_labels_build, or -EINVAL when the
 * declared state cannot be read.
 */
int mipart_labels_for_host(const mipart_host *host, const mipart_topology *topo,
			   mipart_label *labels, size_t max);

/*
 * mipart_labels_format_nfd - labels as an NFD feature file ("key=value" lines after a comment
 * header). Returns 0 and a new NUL-terminated text in *ret (free()), -EINVAL (a label is not
 * valid), -ENOMEM.
 */
int mipart_labels_format_nfd(const mipart_label *labels, size_t n, char **ret);

/*
 * mipart_labels_write - the NFD feature file of labels at path (as given), durably; its
 * directory is created. Returns 0, -EINVAL (a label is not valid), -ENOMEM, or -errno.
 */
int mipart_labels_write(const mipart_label *labels, size_t n, const char *path);

/*
 * mipart_labels_update - keep the NFD feature file at path current (mipart_labels_sync applies
 * mipart's rule for where it goes; this writes where it is told): the labels of host now
 * (mipart_labels_for_host), written durably and atomically only when the file does not say
 * exactly that already; a file with the same text is not touched (nor its mtime), so NFD and
 * whatever watches the file see a change only when there is one. With make_dir the file's
 * directory is created, else a missing directory is -ENOENT. The count of labels goes to
 * *ret_count (may be NULL). A host in the middle of a change (another process holds the host
 * lock: mipart_apply_in_progress) is not read: -EBUSY, try later. A host whose GPUs were read
 * and none is usable gets the file of that (mipart_labels_build: mipart-gpus=0); a host that
 * could not be read keeps its file as it was, since a read that failed says nothing new.
 * Returns 1 (written), 0 (the file said it already), -EBUSY, -ENODEV (no AMD GPU), -EAGAIN
 * (amdgpu still probing, as mipart_labels_build), -ENOENT, -EINVAL (the declared state cannot
 * be read), -ENOMEM, or -errno of the write; on any error the file is left as it was.
 */
int mipart_labels_update(const mipart_host *host, const char *path, bool make_dir,
			 size_t *ret_count);

/*
 * Where the feature file goes, one rule for every caller (mipart labels, serve, the agent):
 * - a path the caller names is written there, its directory made;
 * - no path: NFD's own, MIPART_LABELS_PATH under the host root, written only where NFD's
 *   features.d directory exists. mipart never makes it: the directory is NFD's (its worker's
 *   DaemonSet mounts it from the host, and the worker reads it), so a host without it has no NFD
 *   to read the file; making /etc/kubernetes/... there would leave a file nobody reads. NVIDIA's
 *   gpu-feature-discovery does the same (internal/lm/output.go: renameio.WriteFile, which needs
 *   the directory). Such a host is -ENOENT.
 */
typedef struct mipart_labels_options {
	const char *path; /* the feature file; NULL: NFD's (above) */
} mipart_labels_options;

typedef struct mipart_labels_result {
	char path[MIPART_PATH_MAX]; /* the file looked at (NFD's resolved under the root) */
	size_t count;		    /* labels in it, when 0 or 1 is returned */
	bool nfd_missing;	    /* NFD's path, and its features.d is not there (-ENOENT or
				     * -ENOTDIR); false for any other failure, such as a host whose
				     * GPUs cannot be read (also -ENOENT) */
} mipart_labels_result;

/*
 * mipart_labels_sync - mipart_labels_update of the feature file the rule above chooses for
 * options (NULL: all defaults); ret (may be NULL) is filled on success and on failure whenever
 * the path could be resolved. Returns as mipart_labels_update; -ENOENT or -ENOTDIR with
 * ret->nfd_missing when NFD's features.d does not exist (nothing was written or made): tell it
 * by that flag, since reading the host may fail with -ENOENT too.
 */
int mipart_labels_sync(const mipart_host *host, const mipart_labels_options *options,
		       mipart_labels_result *ret);

/*
 * mipart_labels_watch - an inotify descriptor (non-blocking, close-on-exec; the caller closes
 * it) that becomes readable when something the labels read besides sysfs may have changed:
 * the ledger (an allocation), the declared state, the end of a change (the host lock). Only the
 * directories that exist now are watched: prefer mipart_labels_watcher_new, which also follows
 * directories made later. Mode changes made without mipart (a sysfs write, another tool) are
 * not seen: look at the labels on a timer too. Returns the descriptor, -ENOENT when none of
 * those directories exists, or -errno of inotify.
 */
int mipart_labels_watch(const mipart_host *host);

/*
 * mipart_labels_watch_drain - read what is pending on a mipart_labels_watch descriptor (at most
 * MIPART_LABELS_WATCH_EVENTS_MAX events; the rest stays queued). Returns how many of the events
 * may mean a change (0: only what SQLite readers do too, the labels' own read included: the
 * -shm file written, the -wal closed; nothing to look at).
 */
int mipart_labels_watch_drain(int fd);

/*
 * mipart_labels_watcher - what mipart_labels_watch watches, also when a directory does not
 * exist yet (no /run/mipart after a boot, no /var/lib/mipart before the first allocation): then
 * its nearest existing ancestor (at most 4 levels up, never above the host root) is watched for
 * the next directory on the way, and the watch moves down as the directories appear (made or
 * renamed into place), or back up when one is removed.
 *
 * mipart_labels_watcher_new - a new watcher in *ret (mipart_labels_watcher_free). Returns 0,
 * -EINVAL, -ENOMEM, -ENOENT (nothing could be watched), or -errno of inotify.
 * mipart_labels_watcher_fd - its descriptor (non-blocking, close-on-exec; owned by the watcher),
 * readable when events are pending: poll it.
 * mipart_labels_watcher_read - read what is pending and follow directories that appeared or
 * went. Returns how many events may mean a change (as mipart_labels_watch_drain; a directory
 * on the way that appeared counts: it may hold the files already), -EINVAL. One call reads at
 * most MIPART_LABELS_WATCH_EVENTS_MAX events (4 reads of 4 KiB) and moves each watch at most
 * once; what is left stays queued and the descriptor readable: the caller answers whatever
 * number of changes with one look, and a steady stream of events never keeps it in the call.
 * An ancestor wakes the descriptor for every entry made or moved into it (inotify filters
 * neither by name nor by the kind of the new entry); those events are read and dropped by
 * name, without a system call.
 * mipart_labels_watcher_stats - what the watcher has read so far in *ret. 0, -EINVAL.
 */
#define MIPART_LABELS_WATCH_EVENTS_MAX 1024
typedef struct mipart_labels_watcher mipart_labels_watcher;
typedef struct mipart_labels_watch_stats {
	uint64_t events;  /* read from inotify */
	uint64_t changes; /* that may mean a change (the sum of what the reads returned) */
	uint64_t ignored; /* read and dropped: a SQLite reader's files, an ancestor's other entries */
	uint64_t capped;  /* reads that stopped at the cap with more queued */
	uint64_t rearms;  /* watches moved (a directory on the way made, removed, renamed) */
} mipart_labels_watch_stats;
int mipart_labels_watcher_new(const mipart_host *host, mipart_labels_watcher **ret);
int mipart_labels_watcher_fd(const mipart_labels_watcher *w);
int mipart_labels_watcher_read(mipart_labels_watcher *w);
int mipart_labels_watcher_stats(const mipart_labels_watcher *w, mipart_labels_watch_stats *ret);
mipart_labels_watcher *mipart_labels_watcher_free(mipart_labels_watcher *w);

#endif
