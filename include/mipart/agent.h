/* SPDX-License-Identifier: MIT */
/*
 * The Kubernetes node agent: watches its Node's config label and brings the GPUs to the named
 * config through the apply engine (apply.h), draining only the pods that hold the GPUs the
 * change disrupts, reporting a state label and an Event per step. See docs/kubernetes.md.
 */
#ifndef MIPART_AGENT_H
#define MIPART_AGENT_H

#include <signal.h>
#include <stdbool.h>

#include "backend.h"
#include "config.h"
#include "host.h"

/* DCM's label keys (ROCm/device-config-manager pkg/config_manager/globals/constants.go:
 * LabelKey, StateLabelKey). */
#define MIPART_AGENT_LABEL_KEY "dcm.amd.com/gpu-config-profile"
#define MIPART_AGENT_STATE_KEY "dcm.amd.com/gpu-config-profile-state"
/* AMD's device plugin DaemonSet (ROCm/k8s-device-plugin k8s-ds-amdgpu-dp.yaml): namespace
 * kube-system, pods labelled name=amdgpu-dp-ds. */
#define MIPART_AGENT_PLUGIN_NAMESPACE "kube-system"
#define MIPART_AGENT_PLUGIN_SELECTOR "name=amdgpu-dp-ds"
/* The annotation the agent puts on the Node with its cordon (value: the config it cordoned
 * for), so that it uncordons only a node it cordoned itself, also after a restart. */
#define MIPART_AGENT_CORDON_KEY "mipart/agent-cordoned"
/* What the agent remembers across restarts, under the root. */
#define MIPART_AGENT_STATE_PATH "/var/lib/mipart/agent.json"

enum { MIPART_AGENT_INFO, MIPART_AGENT_WARN, MIPART_AGENT_ERROR };

typedef struct mipart_agent_options {
	const char *api_server;		/* NULL: in-cluster */
	const char *token_file, *ca_file;
	const char *sa_dir;		/* in-cluster credentials; NULL: the kubelet's mount */
	const char *node;		/* the Node's name (required) */
	const char *config_file;	/* a mipart layout file or DCM's config.json (required) */
	const char *label_key, *state_key;	/* NULL: DCM's */
	const char *plugin_namespace, *plugin_selector; /* NULL: AMD's; "" selector: none */
	const char *labels_path;	/* NFD feature file; NULL: MIPART_LABELS_PATH under the root,
					 * "": not written */
	unsigned drain_timeout_s;	/* evictions and pods stopping; 0: 300 */
	unsigned settle_timeout_s;	/* after a reload; 0: 120 */
	unsigned backoff_ms;		/* first retry delay; 0: 1000 (doubles up to 30 s) */
	unsigned report_timeout_s;	/* --once: how long to retry reporting; 0: 60 */
	bool once;			/* one reconcile, then exit */
	mipart_backend *backend;
	/* the CDI spec and other things that follow the partitions (the engine's after_change) */
	void (*after_change)(void *userdata);
	void (*log)(void *userdata, int level, const char *message);
	void *userdata;
	volatile sig_atomic_t *stop;	/* set from a signal handler: finish the step, exit */
	/* the layout's hook units (hooks.units, DCM's gpuClientSystemdServices) are stopped and
	 * started by the engine with this systemctl (NULL: "systemctl" from PATH), chrooted into
	 * systemctl_root when set (the host's / mounted in the agent's container) */
	const char *systemctl, *systemctl_root;
} mipart_agent_options;

/*
 * mipart_agent_run - run the agent. With once: reconcile the Node's current config label and
 * return 0 (state success, or nothing to do) or -EIO (state failed; the log says why). Without:
 * run until *stop, then 0. Either way -EINVAL (options), -ENOENT (no credentials, no config
 * file), -EACCES (401/403 from the API server), or the transport error when the API server
 * stays unreachable past the retries of --once.
 */
int mipart_agent_run(const mipart_host *host, const mipart_agent_options *opts);

/*
 * mipart_agent_config_parse - a config source: a mipart layout file (docs/config.md) or AMD
 * Device Config Manager's config.json ({"gpu-config-profiles": {NAME: {"skippedGPUs": {"ids":
 * [...]}, "profiles": [{"computePartition", "memoryPartition", "numGPUsAssigned"}]}},
 * "gpuClientSystemdServices": {"names": [...]}}), told apart by content. A DCM profile becomes a
 * config whose entries give the GPUs that are not skipped, in index order, numGPUsAssigned at
 * a time; the services become hook units. Returns as mipart_config_parse.
 */
int mipart_agent_config_parse(const char *buf, size_t len, const char *filename,
			      mipart_config **ret, mipart_config_error *ret_err);

/*
 * mipart_agent_config_text - the layout text of a config source: the text itself for a layout
 * file, the converted layout for DCM's config.json (what mipart_agent_config_parse parses).
 * Returns 0 and a new NUL-terminated text in *ret (free()) and its length, -EINVAL (DCM's file
 * is not valid: *ret_err), -EFBIG, -ENOMEM.
 */
int mipart_agent_config_text(const char *buf, size_t len, const char *filename, char **ret,
			     size_t *ret_len, mipart_config_error *ret_err);

#endif
