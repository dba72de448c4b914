/* SPDX-License-Identifier: MIT */
/*
 * The Kubernetes API, the few paths the node agent uses: get, watch and patch its Node, list
 * pods on the node, evict a pod, post an Event. JSON in and out (jansson); every request has a
 * timeout and a body cap (http.c). Statuses are returned to the caller, who decides.
 */
#ifndef MIPART_K8S_H
#define MIPART_K8S_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct k8s {
	char *server;		/* "https://10.96.0.1:443", no trailing slash */
	char *token;		/* bearer token, or NULL */
	char *ca_file;		/* PEM file, or NULL for the system CAs */
	long timeout_ms;	/* each request but watches */
	char error[1024];	/* the last failure, for people */
};

/* Where the in-cluster credentials are (the kubelet mounts the service account's token and CA
 * here: k8s.io/client-go/rest/config.go InClusterConfig, tokenFile and rootCAFile). */
#define K8S_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/*
 * k8s_init - server and token: explicit (server not NULL; token_file and ca_file optional), or
 * in-cluster: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT with the token and CA
 * under sa_dir (K8S_SA_DIR when NULL). Returns 0, -ENOENT (not in a cluster and no server),
 * -EINVAL, -ENOMEM, or the error of reading the token. c->error says what.
 */
int k8s_init(struct k8s *c, const char *server, const char *token_file, const char *ca_file,
	     const char *sa_dir);
void k8s_release(struct k8s *c);

/*
 * k8s_call - METHOD path (starting with "/api/") with an optional JSON body and content type.
 * Returns 0 with the HTTP status in *ret_status and the parsed body (or NULL when it is not
 * JSON) in *ret_body, or -errno of the transport (c->error says what).
 */
int k8s_call(struct k8s *c, const char *method, const char *path, const char *content_type,
	     json_t *body, long *ret_status, json_t **ret_body);

/* Called with each watch event (a JSON object {"type": ..., "object": ...}); return < 0 to
 * stop the watch (that value is returned). */
typedef int (*k8s_watch_fn)(json_t *event, void *userdata);

/*
 * k8s_watch - GET path (a watch URL with timeoutSeconds) and feed each line of the stream to fn.
 * timeout_ms bounds the whole stream. Returns 0 when the server closed the stream, the HTTP
 * status as a positive number when it is not 200 (410: Gone), or -errno / fn's value.
 */
int k8s_watch(struct k8s *c, const char *path, long timeout_ms, k8s_watch_fn fn, void *userdata);

/* The message of a Status body ({"kind": "Status", "message": ...}), or "". */
const char *k8s_status_message(json_t *body);

/* Percent-encode s for a URL query or path segment into buf. Returns buf, or NULL when it does
 * not fit. */
char *k8s_escape(const char *s, char *buf, size_t size);

#endif
