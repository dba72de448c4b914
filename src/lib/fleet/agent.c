// SPDX-License-Identifier: MIT
/*
 * The Kubernetes node agent. It reads its Node, and when the config label (DCM's key unless
 * told otherwise) names a config the host is not in, it:
 *   1. records the change locally (MIPART_AGENT_STATE_PATH) and sets the state label "pending";
 *   2. plans the change (change.c) and finds the GPUs it disrupts: the GPUs whose compute mode
 *      changes, or every GPU of the node for a memory-mode change (a driver reload);
 *   3. cordons the node for a reload (every GPU goes down), and uncordons it after;
 *   4. finds the processes on those GPUs (procs.c), maps their container ids to pods through
 *      the pods' status.containerStatuses[].containerID, and evicts exactly those pods through
 *      the Eviction API, retrying a PodDisruptionBudget's 429 with backoff until the drain
 *      timeout; a process outside any pod cannot be evicted and fails the change, named;
 *   5. applies the config through the apply engine (lock, journal, verify, rollback);
 *   6. restarts the device plugin's pod on this node (evicts it; its DaemonSet makes a new one,
 *      which enumerates the new partitions), rewrites the NFD labels, and reports "success" or
 *      "failed" with an Event per step naming pods, GPUs, the journal change and the reason.
 * The state is kept locally until the API server has it: an agent that loses the API server in
 * the middle of a change finishes the change (the host ends whole: applied or rolled back) and
 * reports when the server is back; an agent restarted in the middle recovers the journal first
 * and redoes the change the label still asks for.
 *
 * The Node is read with GET and followed with a watch from its resourceVersion, with bookmarks
 * (allowWatchBookmarks); 410 Gone (the version is too old) means list again; a closed or broken
 * stream is reopened after a backoff that doubles up to 30 s. Label patches carry the
 * resourceVersion read, so a concurrent writer gives 409 Conflict and the agent reads the Node
 * again rather than overwrite (API conventions: "Concurrency Control and Consistency").
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mipart/agent.h"
#include "mipart/apply.h"
#include "mipart/change.h"
#include "mipart/declared.h"
#include "mipart/error.h"
#include "mipart/journal.h"
#include "mipart/labels.h"
#include "mipart/layout.h"
#include "mipart/procs.h"
#include "mipart/topology.h"
#include "hooks.h"
#include "k8s.h"
#include "util.h"
#include "banned.h"

#define MAX_PODS 256
#define BACKOFF_MAX_MS 30000
#define WATCH_SECONDS 60	/* per stream; SIGTERM is noticed between streams */

struct agent {
	const mipart_host *host;
	const mipart_agent_options *o;
	struct k8s api;
	const char *label_key, *state_key;
	char node_path[700];	/* /api/v1/nodes/<name> */
	char uid[128];
	char rv[64];
	bool unschedulable;	/* spec.unschedulable as last read */
	bool our_cordon;	/* ... with our annotation: this agent (or one before it) cordoned */
	bool events_forbidden;	/* 403 once: not tried again */
	unsigned backoff_ms;
	/* the local record of the last change */
	char config[128], state[16], message[1024];
	long long journal_id;
	bool reported;
	bool units_left;	/* failed only because hook units were left stopped (GPUs in config) */
	char recovered[512];	/* what the recovery at start did, "" when nothing */
	bool recover_failed;	/* it could not be done: the GPUs may not be whole */
};

static void logf_(struct agent *a, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void logf_(struct agent *a, int level, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	if (!a->o->log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	a->o->log(a->o->userdata, level, buf);
}

static bool stopping(const struct agent *a)
{
	return a->o->stop && *a->o->stop;
}

/* Sleep ms, in slices, returning early when asked to stop. */
static void nap(const struct agent *a, unsigned ms)
{
	while (ms && !stopping(a)) {
		unsigned slice = ms < 100 ? ms : 100;
		struct timespec ts = { 0, (long)slice * 1000000L };

		nanosleep(&ts, NULL);
		ms -= slice;
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the local record ------------------------------------------------------------------ */

static int record_path(const struct agent *a, char *buf, size_t size)
{
	return mipart_host_path(a->host, MIPART_AGENT_STATE_PATH, buf, size);
}

static void record_load(struct agent *a)
{
	char path[MIPART_PATH_MAX], buf[8192];
	json_t *o;
	ssize_t n;

	if (record_path(a, path, sizeof(path)) < 0 || (n = util_read_file(path, buf, sizeof(buf) - 1)) < 0)
		return;
	o = json_loadb(buf, (size_t)n, 0, NULL);
	if (!o)
		return;
	util_strlcpy(a->config, json_string_value(json_object_get(o, "config")) ?: "", sizeof(a->config));
	util_strlcpy(a->state, json_string_value(json_object_get(o, "state")) ?: "", sizeof(a->state));
	util_strlcpy(a->message, json_string_value(json_object_get(o, "message")) ?: "", sizeof(a->message));
	a->journal_id = json_integer_value(json_object_get(o, "journal_id"));
	a->reported = json_is_true(json_object_get(o, "reported"));
	a->units_left = json_is_true(json_object_get(o, "units_left"));
	json_decref(o);
}

static void record_save(struct agent *a)
{
	char path[MIPART_PATH_MAX], *text;
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:b, s:b}", "config", a->config, "state", a->state,
			      "message", a->message, "journal_id", (json_int_t)a->journal_id, "reported",
			      a->reported, "units_left", a->units_left);
	int r = -ENOMEM;

	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (text && record_path(a, path, sizeof(path)) >= 0)
		r = util_write_file_durable_mkdir(path, text, strlen(text), 0600);
	if (r < 0)
		logf_(a, MIPART_AGENT_WARN, "cannot record the agent state in '%s': %s", MIPART_AGENT_STATE_PATH,
		      mipart_strerror(r));
	free(text);
	json_decref(o);
}

/* ---- the API ----------------------------------------------------------------------------- */

/* 401/403 are the operator's to fix; the message says what the agent needed. */
static int access_error(struct agent *a, long status, const char *what, json_t *body)
{
	logf_(a, MIPART_AGENT_ERROR, "%s: HTTP %ld %s: %s (the ServiceAccount needs the RBAC of deploy/kubernetes/rbac.yaml)",
	      what, status, status == 401 ? "Unauthorized" : "Forbidden", k8s_status_message(body));
	return -EACCES;
}

/* The annotation the agent writes with its cordon, in the same patch (so a node an operator
 * cordoned, which has none, is never uncordoned by the agent): its value, or NULL. */
static const char *cordon_mark(json_t *node)
{
	return json_string_value(json_object_get(json_object_get(json_object_get(node, "metadata"), "annotations"),
						 MIPART_AGENT_CORDON_KEY));
}

/* Read the Node: its labels (a new reference in *ret_labels when not NULL), uid, rv. */
static int get_node(struct agent *a, json_t **ret_node)
{
	json_t *body = NULL;
	long status = 0;
	int r = k8s_call(&a->api, "GET", a->node_path, NULL, NULL, &status, &body);

	if (r < 0) {
		logf_(a, MIPART_AGENT_WARN, "cannot read the Node: %s", a->api.error);
		return r;
	}
	if (status == 401 || status == 403) {
		r = access_error(a, status, "get node", body);
	} else if (status != 200 || !json_is_object(body)) {
		logf_(a, MIPART_AGENT_ERROR, "get node '%s': HTTP %ld: %s", a->o->node, status,
		      k8s_status_message(body));
		r = status == 404 ? -ENOENT : -EIO;
	} else {
		json_t *meta = json_object_get(body, "metadata");

		util_strlcpy(a->uid, json_string_value(json_object_get(meta, "uid")) ?: "", sizeof(a->uid));
		util_strlcpy(a->rv, json_string_value(json_object_get(meta, "resourceVersion")) ?: "", sizeof(a->rv));
		a->unschedulable = json_is_true(json_object_get(json_object_get(body, "spec"), "unschedulable"));
		a->our_cordon = a->unschedulable && cordon_mark(body);
		*ret_node = json_incref(body);
	}
	json_decref(body);
	return r;
}

static const char *node_label(json_t *node, const char *key)
{
	return json_string_value(json_object_get(json_object_get(json_object_get(node, "metadata"), "labels"), key));
}

/* A merge patch of the Node with its resourceVersion as a precondition: 409 -> read again and
 * retry (at most 5 times). patch is consumed. */
static int patch_node(struct agent *a, json_t *patch, const char *what)
{
	int r = -EIO;

	for (int attempt = 0; attempt < 5; attempt++) {
		json_t *body = NULL, *meta = json_object_get(patch, "metadata");
		long status = 0;

		if (!meta) {
			meta = json_object();
			json_object_set_new(patch, "metadata", meta);
		}
		json_object_set_new(meta, "resourceVersion", json_string(a->rv));
		r = k8s_call(&a->api, "PATCH", a->node_path, "application/merge-patch+json", patch, &status, &body);
		if (r < 0) {
			logf_(a, MIPART_AGENT_WARN, "cannot %s: %s", what, a->api.error);
			break;
		}
		if (status == 200) {
			const char *rv = json_string_value(json_object_get(json_object_get(body, "metadata"), "resourceVersion"));

			if (rv)
				util_strlcpy(a->rv, rv, sizeof(a->rv));
			json_decref(body);
			r = 0;
			break;
		}
		if (status == 409) {
			json_t *node = NULL;

			logf_(a, MIPART_AGENT_INFO, "%s: the Node changed meanwhile (409 Conflict): reading it again", what);
			json_decref(body);
			r = get_node(a, &node);
			json_decref(node);
			if (r < 0)
				break;
			r = -EAGAIN;
			continue;
		}
		r = status == 401 || status == 403 ? access_error(a, status, what, body) : -EIO;
		if (r == -EIO)
			logf_(a, MIPART_AGENT_ERROR, "%s: HTTP %ld: %s", what, status, k8s_status_message(body));
		json_decref(body);
		break;
	}
	json_decref(patch);
	return r;
}

static int set_state_label(struct agent *a, const char *state)
{
	json_t *labels = json_object();

	json_object_set_new(labels, a->state_key, json_string(state));
	return patch_node(a, json_pack("{s:{s:o}}", "metadata", "labels", labels), "set the state label");
}

/* Cordon (with our annotation, naming the config, in the same merge patch) or uncordon (and
 * remove the annotation: null deletes a key, RFC 7386). */
static int set_unschedulable(struct agent *a, bool on, const char *config)
{
	json_t *ann = json_object();
	int r;

	json_object_set_new(ann, MIPART_AGENT_CORDON_KEY, on ? json_string(config) : json_null());
	r = patch_node(a, json_pack("{s:{s:b}, s:{s:o}}", "spec", "unschedulable", on, "metadata", "annotations", ann),
		       on ? "cordon the node" : "uncordon the node");
	if (r == 0)
		a->unschedulable = a->our_cordon = on;
	return r;
}

/* An Event on the Node (core/v1, namespace "default" as the kubelet's node events). Failures
 * are logged, never fatal: events are for people. */
static void event(struct agent *a, bool warning, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void event(struct agent *a, bool warning, const char *reason, const char *fmt, ...)
{
	char msg[1024], name[320], ts[32];
	struct timespec now;
	json_t *ev, *body = NULL;
	long status = 0;
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	logf_(a, warning ? MIPART_AGENT_WARN : MIPART_AGENT_INFO, "%s: %s", reason, msg);
	if (a->events_forbidden)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	{
		struct tm tm;

		gmtime_r(&now.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	/* the kubelet's recorder names events "<object>.<hex nanoseconds>" */
	snprintf(name, sizeof(name), "%s.%llx", a->o->node,
		 (unsigned long long)now.tv_sec * 1000000000ull + (unsigned long long)now.tv_nsec);
	ev = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s}, s:s, s:s, s:s, s:{s:s, s:s}, s:s, s:s, s:i, s:s, s:s}",
		       "apiVersion", "v1", "kind", "Event", "metadata", "name", name, "namespace", "default",
		       "involvedObject", "apiVersion", "v1", "kind", "Node", "name", a->o->node, "uid", a->uid,
		       "reason", reason, "message", msg, "type", warning ? "Warning" : "Normal", "source",
		       "component", "mipart-agent", "host", a->o->node, "firstTimestamp", ts,
		       "lastTimestamp", ts, "count", 1, "reportingComponent", "mipart-agent",
		       "reportingInstance", a->o->node);
	r = ev ? k8s_call(&a->api, "POST", "/api/v1/namespaces/default/events", NULL, ev, &status, &body) : -ENOMEM;
	if (r < 0)
		logf_(a, MIPART_AGENT_WARN, "cannot post the event: %s", r == -ENOMEM ? "out of memory" : a->api.error);
	else if (status == 401 || status == 403) {
		access_error(a, status, "create events", body);
		a->events_forbidden = true;
	} else if (status != 201 && status != 200)
		logf_(a, MIPART_AGENT_WARN, "cannot post the event: HTTP %ld: %s", status, k8s_status_message(body));
	json_decref(body);
	json_decref(ev);
}

/* Pods on this node (optionally in one namespace, with a label selector). New reference. */
static int list_pods(struct agent *a, const char *ns, const char *selector, json_t **ret)
{
	char path[2048], node[600], sel[1024];
	json_t *body = NULL;
	long status = 0;
	int r;

	if (!k8s_escape("spec.nodeName=", node, sizeof(node)))
		return -EINVAL;
	{
		char esc[600];

		if (!k8s_escape(a->o->node, esc, sizeof(esc)))
			return -EINVAL;
		util_strlcpy(node + strlen(node), esc, sizeof(node) - strlen(node));
	}
	if (ns && *ns)
		snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods?fieldSelector=%s", ns, node);
	else
		snprintf(path, sizeof(path), "/api/v1/pods?fieldSelector=%s", node);
	if (selector && *selector) {
		if (!k8s_escape(selector, sel, sizeof(sel)))
			return -EINVAL;
		util_strlcpy(path + strlen(path), "&labelSelector=", sizeof(path) - strlen(path));
		util_strlcpy(path + strlen(path), sel, sizeof(path) - strlen(path));
	}
	r = k8s_call(&a->api, "GET", path, NULL, NULL, &status, &body);
	if (r < 0) {
		logf_(a, MIPART_AGENT_WARN, "cannot list pods: %s", a->api.error);
		return r;
	}
	if (status == 401 || status == 403)
		r = access_error(a, status, "list pods", body);
	else if (status != 200 || !json_is_array(json_object_get(body, "items")))
		r = -EIO;
	if (r == 0)
		*ret = json_incref(json_object_get(body, "items"));
	json_decref(body);
	return r;
}

/* POST .../pods/NAME/eviction (policy/v1 Eviction). Returns 0 (evicted or already gone),
 * -EBUSY (429: a PodDisruptionBudget does not allow it now), -EACCES, -EIO. */
static int evict(struct agent *a, const char *ns, const char *name, char *why, size_t why_size)
{
	char path[1024];
	json_t *ev = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "policy/v1", "kind", "Eviction",
			       "metadata", "name", name, "namespace", ns);
	json_t *body = NULL;
	long status = 0;
	int r;

	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s/eviction", ns, name);
	r = ev ? k8s_call(&a->api, "POST", path, NULL, ev, &status, &body) : -ENOMEM;
	json_decref(ev);
	if (r < 0) {
		util_strlcpy(why, a->api.error, why_size);
		return r;
	}
	snprintf(why, why_size, "%s", k8s_status_message(body));
	if (status == 200 || status == 201 || status == 404)
		r = 0;
	else if (status == 429)
		r = -EBUSY;
	else if (status == 401 || status == 403)
		r = access_error(a, status, "create pods/eviction", body);
	else
		r = -EIO;
	json_decref(body);
	return r;
}

/* ---- the change -------------------------------------------------------------------------- */

struct victim {
	char ns[254], name[254];
	uint64_t gpus;
	bool evicted;
};

/* "containerd://<id>" (and docker://, cri-o://) against a container id from a cgroup: equal,
 * or one a prefix of the other of at least 12 characters (the short form). */
static bool same_container(const char *status_id, const char *cg)
{
	const char *sep = strstr(status_id, "://");
	const char *id = sep ? sep + 3 : status_id;
	size_t a = strlen(id), b = strlen(cg), n = a < b ? a : b;

	return n >= 12 && !strncmp(id, cg, n);
}

/* The pods whose containers hold the processes of p. Processes outside any pod go to
 * host_procs (as text) and host_pids (room for every process of p). Returns the number of
 * victims, or -errno. */
static int map_pods(struct agent *a, const mipart_procs *p, struct victim *v, size_t max, char *host_procs,
		    size_t hp_size, int *host_pids, size_t *n_host)
{
	json_t *pods = NULL, *pod;
	size_t n = 0, hp = 0, i;
	int r = list_pods(a, NULL, NULL, &pods);

	if (r < 0)
		return r;
	host_procs[0] = '\0';
	for (size_t k = 0; k < mipart_procs_count(p); k++) {
		const mipart_proc_info *pi = mipart_procs_get(p, k);
		bool found = false;

		json_array_foreach(pods, i, pod) {
			json_t *meta = json_object_get(pod, "metadata"), *st = json_object_get(pod, "status");
			const char *lists[] = { "containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses" };

			for (size_t l = 0; l < 3 && !found && pi->container[0]; l++) {
				json_t *cs;
				size_t j;

				json_array_foreach(json_object_get(st, lists[l]), j, cs) {
					const char *id = json_string_value(json_object_get(cs, "containerID"));

					if (id && same_container(id, pi->container)) {
						found = true;
						break;
					}
				}
			}
			if (found) {
				const char *ns = json_string_value(json_object_get(meta, "namespace"));
				const char *name = json_string_value(json_object_get(meta, "name"));
				size_t x;

				for (x = 0; x < n; x++)
					if (!strcmp(v[x].ns, ns ?: "") && !strcmp(v[x].name, name ?: ""))
						break;
				if (x == n && n < max) {
					memset(&v[n], 0, sizeof(v[n]));
					util_strlcpy(v[n].ns, ns ?: "", sizeof(v[n].ns));
					util_strlcpy(v[n].name, name ?: "", sizeof(v[n].name));
					n++;
				}
				if (x < n)
					v[x].gpus |= pi->gpus;
				break;
			}
		}
		if (!found)
			host_pids[(*n_host)++] = pi->pid;
		if (!found && hp < hp_size)
			hp += (size_t)snprintf(host_procs + hp, hp_size - hp, "%spid %d (%s%s%s)", hp ? ", " : "",
					       pi->pid, pi->comm, pi->container[0] ? ", container " : "",
					       pi->container[0] ? pi->container : "");
	}
	json_decref(pods);
	return (int)n;
}

static void gpu_list(uint64_t gpus, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned g = 0; g < 64 && len < size; g++)
		if (gpus & (1ull << g))
			len += (size_t)snprintf(buf + len, size - len, "%s%u", len ? "," : "", g);
}

/* The processes now on the GPUs of mask (all of them for a reload, KFD users otherwise: the
 * engine's busy rule, docs/control.md step 4), found through t: the topology the change was
 * planned from, read once per change. Nothing of ours changes the partitions while we drain;
 * a writer that did would make the plan (mask, targets) stale as well, and the engine re-reads
 * the host, re-plans and checks for busy GPUs itself under the host lock, so a scan through
 * an older topology can end the wait early (the change is then refused, naming the processes)
 * but never lets a change through a busy GPU. */
static int busy_procs(struct agent *a, const mipart_topology *t, uint64_t mask, bool reload,
		      mipart_procs **ret)
{
	int r = mipart_procs_scan(a->host, t, ret);

	if (r == 0)
		mipart_procs_retain(*ret, mask, !reload);
	return r;
}

/* Evict the victims, retrying 429 with backoff until the deadline; then wait until no process
 * holds the GPUs of mask but those in skip (host processes left to the hook units). Returns 0,
 * or -EBUSY with why saying which pods. */
static int drain(struct agent *a, const mipart_topology *t, struct victim *v, size_t n, uint64_t mask,
		 bool reload, double deadline, const int *skip, size_t n_skip, char *why, size_t why_size)
{
	unsigned delay = a->backoff_ms;
	size_t left = n;

	while (left && !stopping(a)) {
		for (size_t i = 0; i < n; i++) {
			char msg[512], gl[200];
			int r;

			if (v[i].evicted)
				continue;
			r = evict(a, v[i].ns, v[i].name, msg, sizeof(msg));
			gpu_list(v[i].gpus, gl, sizeof(gl));
			if (r == 0) {
				v[i].evicted = true;
				left--;
				event(a, false, "Evicted", "evicted pod %s/%s: it holds GPU %s, which the change disrupts",
				      v[i].ns, v[i].name, gl);
			} else if (r == -EBUSY) {
				logf_(a, MIPART_AGENT_INFO, "eviction of %s/%s refused (429): %s; retrying", v[i].ns, v[i].name, msg);
			} else {
				snprintf(why, why_size, "cannot evict pod %s/%s: %s", v[i].ns, v[i].name,
					 r == -EACCES ? "forbidden" : msg);
				return r == -EACCES ? r : -EIO;
			}
		}
		if (!left)
			break;
		if (now_s() + delay / 1000.0 > deadline) {
			size_t len = (size_t)snprintf(why, why_size, "a PodDisruptionBudget does not allow evicting");

			for (size_t i = 0; i < n && len < why_size; i++)
				if (!v[i].evicted)
					len += (size_t)snprintf(why + len, why_size - len, " %s/%s", v[i].ns, v[i].name);
			return -EBUSY;
		}
		nap(a, delay);
		delay = delay * 2 > BACKOFF_MAX_MS / 3 ? BACKOFF_MAX_MS / 3 : delay * 2;
	}
	/* the evicted pods stop (their grace period): wait for the GPUs to be free */
	for (;;) {
		mipart_procs *p = NULL;
		size_t busy;
		int r = busy_procs(a, t, mask, reload, &p);

		busy = 0;
		for (size_t k = 0; r == 0 && k < mipart_procs_count(p); k++) {
			size_t s;

			for (s = 0; s < n_skip && skip[s] != mipart_procs_get(p, k)->pid; s++)
				;
			busy += s == n_skip;
		}
		mipart_procs_free(p);
		if (!busy || stopping(a))
			return 0;
		if (now_s() > deadline) {
			snprintf(why, why_size, "%zu process%s still hold the GPUs after the evictions", busy,
				 busy == 1 ? "" : "es");
			return -EBUSY;
		}
		nap(a, 200);
	}
}

/* Restart the device plugin's pod on this node so that it enumerates the new partitions. */
static void restart_plugin(struct agent *a)
{
	const char *sel = a->o->plugin_selector ? a->o->plugin_selector : MIPART_AGENT_PLUGIN_SELECTOR;
	const char *ns = a->o->plugin_namespace ? a->o->plugin_namespace : MIPART_AGENT_PLUGIN_NAMESPACE;
	json_t *pods = NULL, *pod;
	size_t i;

	if (!*sel || list_pods(a, ns, sel, &pods) < 0)
		return;
	json_array_foreach(pods, i, pod) {
		json_t *meta = json_object_get(pod, "metadata");
		const char *pns = json_string_value(json_object_get(meta, "namespace")) ?: ns;
		const char *name = json_string_value(json_object_get(meta, "name")) ?: "";
		char msg[512];

		if (evict(a, pns, name, msg, sizeof(msg)) == 0)
			event(a, false, "DevicePluginRestarted", "restarted the device plugin pod %s/%s (%s): it enumerates the new partitions",
			      pns, name, sel);
		else
			event(a, true, "DevicePluginRestartFailed", "cannot restart the device plugin pod %s/%s: %s", pns, name, msg);
	}
	json_decref(pods);
}

/* The NFD feature file (labels.c), rewritten only when what it says changed, where the
 * library's rule puts it (labels.h: mipart_labels_sync). */
static void write_labels(struct agent *a)
{
	mipart_labels_options o = { .path = a->o->labels_path };
	mipart_labels_result res = { .path = "" };
	int r;

	if (a->o->labels_path && !*a->o->labels_path)
		return;
	r = mipart_labels_sync(a->host, &o, &res);
	if (r < 0 && res.nfd_missing)
		logf_(a, MIPART_AGENT_INFO, "node labels not written to '%s': Node Feature Discovery's features.d is missing (NFD makes it)", res.path);
	else if (r < 0)
		logf_(a, MIPART_AGENT_WARN, "cannot write the node labels to '%s': %s", res.path, mipart_strerror(r));
}

/* Report the local record to the API server: the state label, and an Event. */
static int report(struct agent *a)
{
	int r = set_state_label(a, a->state);

	if (r < 0)
		return r;
	if (!strcmp(a->state, "success"))
		event(a, false, "PartitionSucceeded", "%s", a->message);
	else if (!strcmp(a->state, "failed"))
		event(a, true, "PartitionFailed", "%s", a->message);
	a->reported = true;
	record_save(a);
	return 0;
}

static void finish(struct agent *a, const char *state, long long journal_id, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void finish(struct agent *a, const char *state, long long journal_id, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->message, sizeof(a->message), fmt, ap);
	va_end(ap);
	util_strlcpy(a->state, state, sizeof(a->state));
	a->journal_id = journal_id;
	a->reported = false;
	record_save(a);
	if (report(a) < 0)
		logf_(a, MIPART_AGENT_WARN, "the API server does not have the state '%s' yet: reporting it when it is back",
		      state);
}

/* The config source read now: its layout text in *ret_text (free()), parsed into *ret. */
static int load_config(struct agent *a, mipart_config **ret, char **ret_text, size_t *ret_len)
{
	char *buf = malloc(MIPART_CONFIG_MAX_SIZE + 1);
	mipart_config_error err = { 0 };
	ssize_t n;
	int r;

	if (!buf)
		return -ENOMEM;
	n = util_read_file(a->o->config_file, buf, MIPART_CONFIG_MAX_SIZE);
	if (n < 0) {
		free(buf);
		snprintf(a->message, sizeof(a->message), "cannot read the config source '%s': %s",
			 a->o->config_file, mipart_strerror((int)n));
		return (int)n;
	}
	r = mipart_agent_config_text(buf, (size_t)n, a->o->config_file, ret_text, ret_len, &err);
	free(buf);
	if (r == 0) {
		r = mipart_config_parse(*ret_text, *ret_len, a->o->config_file, ret, &err);
		if (r < 0) {
			free(*ret_text);
			*ret_text = NULL;
		}
	}
	if (r < 0)
		snprintf(a->message, sizeof(a->message), "%s:%u:%u: %s", err.file[0] ? err.file : a->o->config_file,
			 err.line, err.column, err.message[0] ? err.message : mipart_strerror(r));
	return r;
}

/* The config applied is the host's declared state: mipart-boot.service applies it again at boot,
 * before the kubelet, and drift is measured against it (docs/control.md). */
static void declare(struct agent *a, const char *text, size_t len, const char *name)
{
	mipart_config_error err = { 0 };
	int r = mipart_declared_write(a->host, text, len, name, a->o->config_file, &err);

	if (r < 0)
		logf_(a, MIPART_AGENT_WARN, "cannot record '%s' as the declared state: %s", name,
		      err.message[0] ? err.message : mipart_strerror(r));
}

/* Bring the host to config name; ends with the state recorded (and reported when possible). */
static void change(struct agent *a, const char *name)
{
	mipart_config *cfg = NULL;
	const mipart_config_set *set = NULL;
	mipart_topology *t = NULL;
	mipart_target *targets = NULL;
	mipart_change *plan = NULL;
	mipart_procs *procs = NULL;
	mipart_apply_result res = { 0 };
	struct victim *v = NULL;
	char why[1024], msg[320], host_procs[512], unit_list[512] = "", sysctl[300];
	const char *units[MIPART_CONFIG_MAX_UNITS];
	size_t n_units = 0, len_units = 0, n_host = 0;
	int *host_pids = NULL;
	unsigned line, col;
	uint64_t mask = 0;
	bool reload, cordoned = false;
	double deadline;
	size_t n = 0, text_len = 0;
	char *text = NULL;
	int r, nv = 0;

	util_strlcpy(a->config, name, sizeof(a->config));
	util_strlcpy(a->state, "pending", sizeof(a->state));
	a->message[0] = '\0';
	a->journal_id = 0;
	a->reported = false;
	a->units_left = false;
	record_save(a);
	if (set_state_label(a, "pending") == 0)
		event(a, false, "PartitionPending", "bringing the GPUs to config '%s' of '%s'", name, a->o->config_file);

	if (load_config(a, &cfg, &text, &text_len) < 0) {
		finish(a, "failed", 0, "%s", a->message);
		goto out;
	}
	if (mipart_config_find(cfg, name, &set) < 0) {
		finish(a, "failed", 0, "no config '%s' in '%s'", name, a->o->config_file);
		goto out;
	}
	n_units = mipart_config_unit_count(cfg);
	for (size_t i = 0; i < n_units && i < MIPART_CONFIG_MAX_UNITS; i++) {
		units[i] = mipart_config_unit(cfg, i);
		if (len_units < sizeof(unit_list))
			len_units += (size_t)snprintf(unit_list + len_units, sizeof(unit_list) - len_units, "%s%s",
						      i ? ", " : "", units[i]);
	}
	if (n_units > MIPART_CONFIG_MAX_UNITS)
		n_units = MIPART_CONFIG_MAX_UNITS;
	r = mipart_topology_load(a->host, &t);
	n = r == 0 ? mipart_topology_gpu_count(t) : 0;
	if (r < 0 || n == 0) {
		finish(a, "failed", 0, "no AMD GPU found on this node");
		goto out;
	}
	targets = calloc(n, sizeof(*targets));
	if (!targets || mipart_layout_resolve(set, t, targets, n, &line, &col, msg, sizeof(msg)) < 0) {
		finish(a, "failed", 0, "config '%s' does not fit this node: %s", name, targets ? msg : "out of memory");
		goto out;
	}
	r = mipart_change_plan(t, targets, n, &plan);
	if (r < 0 || mipart_change_problem_count(plan)) {
		finish(a, "failed", 0, "config '%s' is refused: %s", name,
		       r < 0 ? mipart_strerror(r) : mipart_change_problem_get(plan, 0)->message);
		goto out;
	}
	if (mipart_change_is_noop(plan)) {
		declare(a, text, text_len, name);
		write_labels(a);
		finish(a, "success", 0, "the GPUs are in config '%s' already", name);
		goto out;
	}
	reload = mipart_change_needs_reload(plan);
	for (size_t i = 0; i < mipart_change_gpu_count(plan); i++) {
		const mipart_gpu_change *gc = mipart_change_gpu(plan, i);

		if (gc->disruption != MIPART_DISRUPT_NONE && gc->gpu < 64)
			mask |= 1ull << gc->gpu;
	}
	if (reload)
		mask = n >= 64 ? UINT64_MAX : (1ull << n) - 1;
	gpu_list(mask, msg, sizeof(msg));
	deadline = now_s() + (a->o->drain_timeout_s ? a->o->drain_timeout_s : 300);

	/* a driver reload takes every GPU down: no new pod should land here meanwhile. A node
	 * cordoned with our annotation is ours (an agent stopped in the middle): uncordoned after */
	if (reload && a->unschedulable && a->our_cordon) {
		cordoned = true;
	} else if (reload && !a->unschedulable) {
		if (set_unschedulable(a, true, name) == 0) {
			cordoned = true;
			event(a, false, "Cordoned", "cordoned: config '%s' changes the memory mode (a driver reload of GPU %s)",
			      name, msg);
		}
	}
	r = busy_procs(a, t, mask, reload, &procs);
	if (r == 0 && mipart_procs_count(procs)) {
		v = calloc(MAX_PODS, sizeof(*v));
		host_pids = calloc(mipart_procs_count(procs), sizeof(*host_pids));
		nv = v && host_pids ? map_pods(a, procs, v, MAX_PODS, host_procs, sizeof(host_procs), host_pids, &n_host)
				    : -ENOMEM;
		if (nv < 0) {
			finish(a, "failed", 0, "cannot find the pods on GPU %s: %s", msg, mipart_strerror(nv));
			goto uncordon;
		}
		if (host_procs[0] && !n_units) {
			finish(a, "failed", 0, "GPU %s is used by processes outside any pod, which cannot be evicted: %s "
			       "(a host service: name its systemd unit in the layout's hooks.units)", msg, host_procs);
			goto uncordon;
		}
		if (host_procs[0])
			event(a, false, "HostProcesses", "GPU %s is used by processes outside any pod (%s): the hook units (%s) are stopped before the change; a process still there then blocks it",
			      msg, host_procs, unit_list);
	}
	if (nv > 0) {
		{
			char names[700];
			size_t len = 0;

			names[0] = '\0';
			for (int i = 0; i < nv && len < sizeof(names); i++)
				len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s/%s", i ? ", " : "",
							v[i].ns, v[i].name);
			event(a, false, "Draining", "config '%s' disrupts GPU %s: evicting only the pods on them: %s",
			      name, msg, names);
		}
		r = drain(a, t, v, (size_t)nv, mask, reload, deadline, host_pids, n_host, why,
			  sizeof(why));
		if (r < 0) {
			finish(a, "failed", 0, "config '%s' not applied: %s", name, why);
			goto uncordon;
		}
	}

	{
		char cmd[256];
		mipart_apply_options ao = {
			.backend = a->o->backend,
			.command = cmd,
			.uid = (int64_t)getuid(),
			.lock_timeout_ms = 30000,
			.settle_timeout_ms = (a->o->settle_timeout_s ? a->o->settle_timeout_s : 120) * 1000u,
			.after_change = a->o->after_change,
			.userdata = a->o->userdata,
			.units = units,
			.n_units = n_units,
			.systemctl = a->o->systemctl,
			.systemctl_root = a->o->systemctl_root,
		};

		snprintf(cmd, sizeof(cmd), "mipart agent (node %s, config %s)", a->o->node, name);
		if (n_units)
			event(a, false, "HookUnits", "config '%s': the hook units that run (%s) are stopped before the change and started after it, through '%s'",
			      name, unit_list, hooks_prog_name(a->o->systemctl_root, a->o->systemctl, sysctl, sizeof(sysctl)));
		r = mipart_apply(a->host, targets, n, &ao, &res);
	}
	if (res.warning[0])
		event(a, true, "HookUnitsNotStarted", "config '%s': %s", name, res.warning);
	if (r == 0) {
		event(a, false, "PartitionApplied", "config '%s' applied to GPU %s: journal change %lld %s", name, msg,
		      (long long)res.journal_id, res.state);
		declare(a, text, text_len, name);
		restart_plugin(a);
		write_labels(a);
		if (res.n_units_stopped) {
			/* the GPUs are at the target, but services that used them are down: not a
			 * success. NVIDIA's mig-manager sets its state label to "failed" when it
			 * cannot restart the GPU clients it stopped after a successful apply
			 * (mig-parted deployments/container/reconfigure-mig.sh: "Unable to restart
			 * GPU clients on host by restarting their systemd services", exit_failed);
			 * the CLI exits 1 the same way and 'mipart recover' starts them
			 * (docs/control.md). The change is not made again: the next reconcile starts
			 * the units as recover does and reports success once they run (heal()). */
			char list[256];
			size_t len = 0;

			list[0] = '\0';
			for (size_t i = 0; i < res.n_units_stopped && len < sizeof(list); i++) {
				char shown[128]; /* names come from the layout: escaped */

				util_show(res.units_stopped[i], strlen(res.units_stopped[i]), 100, shown,
					  sizeof(shown));
				len += (size_t)snprintf(list + len, sizeof(list) - len, "%s'%s'", i ? ", " : "",
							shown);
			}
			a->units_left = true;
			finish(a, "failed", res.journal_id,
			       "config '%s' applied to the GPUs (journal change %lld, %s) but hook units left stopped: %s; "
			       "the agent starts them at its next reconcile, as 'mipart recover' on the node does",
			       name, (long long)res.journal_id, reload ? "driver reloaded" : "no reload", list);
		} else {
			finish(a, "success", res.journal_id, "config '%s' applied: journal change %lld (%s)", name,
			       (long long)res.journal_id, reload ? "driver reloaded" : "no reload");
		}
	} else {
		write_labels(a);
		finish(a, "failed", res.journal_id, "config '%s' not applied: %s%s%s (journal change %lld, %s)", name,
		       res.message[0] ? res.message : mipart_strerror(r),
		       r == -EBUSY ? "; blocked on GPU " : "", r == -EBUSY ? msg : "", (long long)res.journal_id,
		       res.state ? res.state : "refused");
	}
uncordon:
	if (cordoned && set_unschedulable(a, false, name) == 0)
		event(a, false, "Uncordoned", "uncordoned after config '%s'", name);
	else if (cordoned)
		logf_(a, MIPART_AGENT_WARN, "the node is still cordoned: 'kubectl uncordon %s'", a->o->node);
out:
	mipart_apply_result_release(&res);
	mipart_procs_free(procs);
	mipart_change_free(plan);
	free(targets);
	free(v);
	free(host_pids);
	free(text);
	mipart_topology_free(t);
	mipart_config_free(cfg);
}

/* A cordon of ours outside a change: an agent stopped (killed, evicted, OOM) between its cordon
 * and its uncordon. The change it was making has been recovered (recover_journal): the GPUs are
 * whole, so the node is uncordoned. node may be a stale watch object: the Node is read again
 * before anything is done. A node cordoned without our annotation is left as it is. */
static void release_cordon(struct agent *a, json_t *node)
{
	json_t *fresh = NULL;
	char config[128];

	if (!cordon_mark(node) || get_node(a, &fresh) < 0) {
		json_decref(fresh);
		return;
	}
	util_strlcpy(config, cordon_mark(fresh) ?: "", sizeof(config));
	json_decref(fresh);
	if (!config[0])
		return;
	if (a->recover_failed) {
		logf_(a, MIPART_AGENT_WARN, "the node stays cordoned: the unfinished change could not be recovered ('mipart recover' on the node)");
		return;
	}
	if (set_unschedulable(a, false, config) < 0) {
		logf_(a, MIPART_AGENT_WARN, "the node is still cordoned for config '%s': retrying when the API server answers",
		      config);
		return;
	}
	event(a, false, "Uncordoned", "uncordoned: the agent that cordoned the node for config '%s' stopped before it finished; %s",
	      config, a->recovered[0] ? a->recovered : "the GPUs are whole");
}

/* The options of the agent's recoveries: the hook units are started with the same systemctl
 * as the change used. */
static void recover_options(const struct agent *a, mipart_apply_options *ao, const char *command)
{
	*ao = (mipart_apply_options){ .backend = a->o->backend, .command = command,
				      .uid = (int64_t)getuid(), .lock_timeout_ms = 30000,
				      .after_change = a->o->after_change, .userdata = a->o->userdata,
				      .systemctl = a->o->systemctl, .systemctl_root = a->o->systemctl_root };
}

/* The config was applied but hook units were left stopped, so it was reported "failed"
 * (change()). At the next reconcile, with the label still asking for it: do what 'mipart
 * recover' does for units left stopped (mipart_recover itself: a unit seen running, started by
 * hand or by systemd, is forgotten; the others are started, and stay recorded when they still
 * fail), then, once the journal records none left stopped (mipart_journal_units_stopped) and
 * the GPUs are in the declared config, report "success" without applying anything. NVIDIA's
 * mig-manager heals the same way on its next run (mig-parted deployments/container/
 * reconfigure-mig.sh: "nvidia-mig-parted assert" passing goes to exit_success, whose
 * __set_state_and_exit first runs host_start_systemd_services, which starts the services it
 * finds failed or inactive, then labels "success"); but its next run only comes with a new
 * config label value or a restart of its pod (cmd/nvidia-mig-manager/main.go: the informer's
 * UpdateFunc sets the config only when the label's value changes, ResyncPeriod 0, and
 * SyncableMigConfig.Get waits while the value is the one last read), and it labels "success"
 * even when that restart failed. Here the units must run first, and the agent looks again at
 * every reconcile (watch events, and each watch stream's end while in this state). */
static void heal(struct agent *a)
{
	mipart_apply_result res = { 0 };
	mipart_apply_options ao;
	mipart_stopped_unit *left = NULL;
	mipart_declared *d = NULL;
	mipart_topology *t = NULL;
	mipart_journal *j = NULL;
	char path[MIPART_PATH_MAX], how[560];
	size_t n_left = 0;
	int r, sync = -1;

	recover_options(a, &ao, "mipart agent (hook units left stopped)");
	r = mipart_recover(a->host, &ao, &res);
	if (r < 0) {
		logf_(a, MIPART_AGENT_INFO, "config '%s' stays failed: %s", a->config,
		      res.message[0] ? res.message : mipart_strerror(r));
		goto out;
	}
	/* "units-started": recover started them; "nothing": they were seen running (or gone
	 * from the journal already); another state: recover resolved another change as well */
	if (!strcmp(res.state, "nothing"))
		util_strlcpy(how, "they run (the journal records none left stopped)", sizeof(how));
	else
		snprintf(how, sizeof(how), "%.500s", res.message);
	r = mipart_host_path(a->host, MIPART_JOURNAL_PATH, path, sizeof(path));
	if (r >= 0)
		r = mipart_journal_open_reader(path, &j);
	if (r >= 0)
		r = mipart_journal_units_stopped(j, &left, &n_left);
	if (r < 0 || n_left) {
		logf_(a, MIPART_AGENT_INFO, "config '%s' stays failed: %s", a->config,
		      r < 0 ? mipart_strerror(r) : "the journal still records hook units left stopped");
		goto out;
	}
	if (mipart_declared_load(a->host, &d, NULL) == 0 && !strcmp(mipart_declared_config_name(d), a->config) &&
	    mipart_topology_load(a->host, &t) == 0)
		sync = mipart_declared_in_sync(d, t);
	if (sync != 1) {
		logf_(a, MIPART_AGENT_WARN, "config '%s' stays failed: the hook units run again but the GPUs are not in it "
		      "(remove the state label to apply it again)", a->config);
		goto out;
	}
	a->units_left = false;
	finish(a, "success", a->journal_id, "config '%s' in place (journal change %lld) and hook units running again: %s",
	       a->config, a->journal_id, how);
out:
	mipart_apply_result_release(&res);
	mipart_topology_free(t);
	mipart_declared_free(d);
	free(left);
	mipart_journal_free(j);
}

/* What the Node asks; change when it differs from what was last done. */
static void reconcile(struct agent *a, json_t *node)
{
	const char *want = node_label(node, a->label_key);
	const char *state = node_label(node, a->state_key);

	release_cordon(a, node);
	if (!strcmp(a->state, "pending") && (!want || strcmp(want, a->config))) {
		/* a change an agent left in the middle, which the label no longer asks for */
		finish(a, "failed", a->journal_id, "config '%s' was interrupted: the agent stopped in the middle; %s",
		       a->config, a->recovered[0] ? a->recovered : "nothing had been changed");
	}
	if (!a->reported && a->state[0] && strcmp(a->state, "pending")) {
		/* a result the API server has not seen yet */
		if (report(a) < 0)
			return;
	}
	if (!want || !*want)
		return;
	if (a->units_left && !strcmp(a->state, "failed") && a->reported && !strcmp(want, a->config) && state &&
	    !strcmp(state, "failed")) {
		heal(a);
		return;
	}
	if (!strcmp(want, a->config) && (!strcmp(a->state, "success") || !strcmp(a->state, "failed")) &&
	    a->reported && state && !strcmp(state, a->state))
		return;
	change(a, want);
}

/* ---- the loop ---------------------------------------------------------------------------- */

struct watch_state {
	struct agent *a;
	bool relist;
};

static int on_event(json_t *ev, void *userdata)
{
	struct watch_state *w = userdata;
	struct agent *a = w->a;
	const char *type = json_string_value(json_object_get(ev, "type"));
	json_t *obj = json_object_get(ev, "object");
	const char *rv = json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));

	if (!strcmp(type, "ERROR")) {
		/* a Status: 410 Gone when the resourceVersion is too old */
		logf_(a, MIPART_AGENT_INFO, "watch: %s (code %lld): listing again", k8s_status_message(obj),
		      (long long)json_integer_value(json_object_get(obj, "code")));
		w->relist = true;
		return -ECANCELED;
	}
	if (rv)
		util_strlcpy(a->rv, rv, sizeof(a->rv));
	if (!strcmp(type, "BOOKMARK"))
		return 0;
	if (!strcmp(type, "DELETED")) {
		logf_(a, MIPART_AGENT_WARN, "the Node was deleted");
		return 0;
	}
	a->unschedulable = json_is_true(json_object_get(json_object_get(obj, "spec"), "unschedulable"));
	a->our_cordon = a->unschedulable && cordon_mark(obj);
	reconcile(a, obj);
	return stopping(a) ? -ECANCELED : 0;
}

static void backoff(struct agent *a)
{
	nap(a, a->backoff_ms);
	a->backoff_ms = a->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : a->backoff_ms * 2;
}

static int recover_journal(struct agent *a)
{
	mipart_apply_result res = { 0 };
	mipart_apply_options ao;
	int r;

	/* the hook units a change stopped are started again with the same systemctl */
	recover_options(a, &ao, "mipart agent (recover)");
	r = mipart_recover(a->host, &ao, &res);

	if (r == 0 && strcmp(res.state, "nothing")) {
		logf_(a, MIPART_AGENT_WARN, "a change was left unfinished: journal change %lld %s (%s)",
		      (long long)res.journal_id, res.state, res.message);
		snprintf(a->recovered, sizeof(a->recovered), "journal change %lld was recovered: %s (%.400s)",
			 (long long)res.journal_id, res.state, res.message);
	} else if (r < 0) {
		a->recover_failed = true;
		logf_(a, MIPART_AGENT_ERROR, "cannot recover the unfinished change: %s",
		      res.message[0] ? res.message : mipart_strerror(r));
	}
	mipart_apply_result_release(&res);
	return r;
}

int mipart_agent_run(const mipart_host *host, const mipart_agent_options *o)
{
	struct agent a = { .host = host, .o = o };
	char esc[600];
	unsigned first_backoff;
	int r;

	if (!host || !o || !o->node || !o->config_file || !o->backend || mipart_k8s_name_valid(o->node) < 0)
		return -EINVAL;
	a.label_key = o->label_key ? o->label_key : MIPART_AGENT_LABEL_KEY;
	a.state_key = o->state_key ? o->state_key : MIPART_AGENT_STATE_KEY;
	if (mipart_label_key_valid(a.label_key) < 0 || mipart_label_key_valid(a.state_key) < 0)
		return -EINVAL;
	first_backoff = o->backoff_ms ? o->backoff_ms : 1000;
	a.backoff_ms = first_backoff;
	k8s_escape(o->node, esc, sizeof(esc));
	snprintf(a.node_path, sizeof(a.node_path), "/api/v1/nodes/%s", esc);
	r = k8s_init(&a.api, o->api_server, o->token_file, o->ca_file, o->sa_dir);
	if (r < 0) {
		logf_(&a, MIPART_AGENT_ERROR, "%s", a.api.error);
		return r;
	}
	record_load(&a);
	/* a change a crash (or a restart of this pod) left running is finished or rolled back first */
	recover_journal(&a);

	if (o->once) {
		double wait_s = o->report_timeout_s ? o->report_timeout_s : 60;
		double until = now_s() + wait_s;
		bool done = false;

		for (;;) {
			json_t *node = NULL;

			r = get_node(&a, &node);
			if (r == 0 && !done) {
				reconcile(&a, node);
				done = true;
				until = now_s() + wait_s; /* from the end of the change, however long it took */
			} else if (r == 0 && !a.reported && a.state[0]) {
				reconcile(&a, node); /* reports what the API server missed */
			}
			json_decref(node);
			if (r == -EACCES || r == -ENOENT)
				break;
			if (done && (a.reported || !a.state[0]))
				break;
			if (now_s() > until || stopping(&a)) {
				logf_(&a, MIPART_AGENT_ERROR, "the API server did not take the state in time");
				r = r < 0 ? r : -ETIMEDOUT;
				break;
			}
			backoff(&a);
		}
		if (r == 0 && !strcmp(a.state, "failed"))
			r = -EIO;
		k8s_release(&a.api);
		return r;
	}

	while (!stopping(&a)) {
		struct watch_state w = { &a, false };
		json_t *node = NULL;
		char path[1024], rv[200];

		r = get_node(&a, &node);
		if (r < 0) {
			json_decref(node);
			backoff(&a);
			continue;
		}
		reconcile(&a, node);
		json_decref(node);
		while (!stopping(&a) && !w.relist) {
			k8s_escape(a.rv, rv, sizeof(rv));
			snprintf(path, sizeof(path),
				 "/api/v1/nodes?fieldSelector=metadata.name%%3D%s&watch=1&resourceVersion=%s&allowWatchBookmarks=true&timeoutSeconds=%d",
				 esc, rv, WATCH_SECONDS);
			r = k8s_watch(&a.api, path, (WATCH_SECONDS + 30) * 1000L, on_event, &w);
			if (r == 410) {
				logf_(&a, MIPART_AGENT_INFO, "watch: 410 Gone: listing again");
				w.relist = true;
			} else if (r == 0) {
				a.backoff_ms = first_backoff; /* a clean end of the stream: reopen */
			} else if (r != -ECANCELED) {
				logf_(&a, MIPART_AGENT_WARN, "watch ended: %s", a.api.error);
				backoff(&a);
				w.relist = true;
			}
			if (!a.reported && a.state[0] && strcmp(a.state, "pending"))
				w.relist = true; /* report through the list path */
			if (a.units_left && !strcmp(a.state, "failed"))
				w.relist = true; /* look at the hook units again (heal) */
		}
	}
	k8s_release(&a.api);
	return 0;
}
