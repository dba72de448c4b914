// SPDX-License-Identifier: MIT
/*
 * The Kubernetes API client of the node agent: the in-cluster configuration (the service
 * account token and CA the kubelet mounts, the API server's address from the environment the
 * kubelet sets: client-go rest.InClusterConfig), JSON requests over http.c, and watch streams
 * (one JSON object per line: k8s.io/apimachinery pkg/apis/meta/v1 WatchEvent, "type" and
 * "object"). Caps: a response body of 8 MiB (a PodList of one node), a watch line of 1 MiB.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "k8s.h"
#include "util.h"
#include "banned.h"

#define K8S_BODY_MAX (8u << 20)
#define K8S_LINE_MAX (1u << 20)
#define K8S_TOKEN_MAX 16384

static int read_token(struct k8s *c, const char *path)
{
	char *buf = malloc(K8S_TOKEN_MAX + 1);
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	n = util_read_file(path, buf, K8S_TOKEN_MAX);
	if (n < 0) {
		snprintf(c->error, sizeof(c->error), "cannot read the token '%.200s': %s", path, util_strerror((int)n));
		free(buf);
		return (int)n;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	if (n == 0 || strpbrk(buf, "\r\n")) {
		snprintf(c->error, sizeof(c->error), "the token '%.200s' is empty or has a line break", path);
		free(buf);
		return -EINVAL;
	}
	c->token = buf;
	return 0;
}

int k8s_init(struct k8s *c, const char *server, const char *token_file, const char *ca_file,
	     const char *sa_dir)
{
	char path[4096], url[512];
	int r;

	memset(c, 0, sizeof(*c));
	c->timeout_ms = 30000;
	if (!server) {
		/* rest.InClusterConfig: KUBERNETES_SERVICE_HOST and _PORT, an IPv6 host in [] */
		const char *host = getenv("KUBERNETES_SERVICE_HOST");
		const char *port = getenv("KUBERNETES_SERVICE_PORT");

		if (!host || !*host || !port || !*port) {
			snprintf(c->error, sizeof(c->error),
				 "not in a cluster (KUBERNETES_SERVICE_HOST/PORT unset): give '--api-server'");
			return -ENOENT;
		}
		snprintf(url, sizeof(url), strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host, port);
		server = url;
		if (!sa_dir)
			sa_dir = K8S_SA_DIR;
		snprintf(path, sizeof(path), "%s/token", sa_dir);
		token_file = token_file ? token_file : path;
		if (!ca_file) {
			static char ca[4096];

			snprintf(ca, sizeof(ca), "%s/ca.crt", sa_dir);
			ca_file = ca;
		}
	}
	if (strncmp(server, "https://", 8) && strncmp(server, "http://", 7)) {
		snprintf(c->error, sizeof(c->error), "'%.200s' is not an http(s) URL", server);
		return -EINVAL;
	}
	c->server = strdup(server);
	if (!c->server)
		return -ENOMEM;
	{
		size_t len = strlen(c->server);

		while (len > 0 && c->server[len - 1] == '/')
			c->server[--len] = '\0';
	}
	if (ca_file && !(c->ca_file = strdup(ca_file))) {
		k8s_release(c);
		return -ENOMEM;
	}
	if (token_file && (r = read_token(c, token_file)) < 0) {
		char keep[sizeof(c->error)];

		memcpy(keep, c->error, sizeof(keep));
		k8s_release(c);
		memcpy(c->error, keep, sizeof(keep));
		return r;
	}
	return 0;
}

void k8s_release(struct k8s *c)
{
	free(c->server);
	free(c->token);
	free(c->ca_file);
	memset(c, 0, sizeof(*c));
}

char *k8s_escape(const char *s, char *buf, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = 0;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
			     ch == '-' || ch == '_' || ch == '.' || ch == '~';

		if (len + (plain ? 1 : 3) + 1 > size)
			return NULL;
		if (plain) {
			buf[len++] = (char)ch;
		} else {
			buf[len++] = '%';
			buf[len++] = hex[ch >> 4];
			buf[len++] = hex[ch & 15];
		}
	}
	buf[len] = '\0';
	return buf;
}

static void transport_error(struct k8s *c, const char *method, const char *path, int r)
{
	snprintf(c->error, sizeof(c->error), "%s %s%s: %s (%s)", method, c->server, path, util_strerror(r),
		 http_last_error());
}

int k8s_call(struct k8s *c, const char *method, const char *path, const char *content_type,
	     json_t *body, long *ret_status, json_t **ret_body)
{
	char url[8192], ctype[128];
	const char *headers[3] = { "Accept: application/json", NULL, NULL };
	struct http_request req = { 0 };
	struct http_response res = { 0 };
	char *text = NULL;
	int r;

	if ((size_t)snprintf(url, sizeof(url), "%s%s", c->server, path) >= sizeof(url))
		return -ENAMETOOLONG;
	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		if (!text)
			return -ENOMEM;
		snprintf(ctype, sizeof(ctype), "Content-Type: %s", content_type ? content_type : "application/json");
		headers[1] = ctype;
	}
	req.method = method;
	req.url = url;
	req.headers = headers;
	req.body = text;
	req.body_len = text ? strlen(text) : 0;
	req.bearer_token = c->token;
	req.ca_file = c->ca_file;
	req.timeout_ms = c->timeout_ms;
	req.max_body = K8S_BODY_MAX;
	r = http_request(&req, &res);
	free(text);
	if (r < 0) {
		transport_error(c, method, path, r);
		return r;
	}
	*ret_status = res.status;
	*ret_body = res.body ? json_loadb(res.body, res.body_len, 0, NULL) : NULL;
	http_response_release(&res);
	return 0;
}

const char *k8s_status_message(json_t *body)
{
	const char *m = json_string_value(json_object_get(body, "message"));

	return m ? m : "";
}

struct watch_ctx {
	char *line;
	size_t len;
	bool overflow;
	k8s_watch_fn fn;
	void *userdata;
	json_t *status_body;	/* a non-event body (a Status) */
};

static int feed_line(struct watch_ctx *w)
{
	json_t *ev;
	int r = 0;

	if (w->overflow || w->len == 0)
		return 0;
	ev = json_loadb(w->line, w->len, 0, NULL);
	if (!ev)
		return 0; /* not JSON: skipped (a proxy's keep-alive, a broken line) */
	if (json_is_string(json_object_get(ev, "type")))
		r = w->fn(ev, w->userdata);
	else if (!w->status_body)
		w->status_body = json_incref(ev);
	json_decref(ev);
	return r;
}

static int on_watch_data(const char *buf, size_t len, void *userdata)
{
	struct watch_ctx *w = userdata;

	for (size_t i = 0; i < len; i++) {
		int r;

		if (buf[i] != '\n') {
			if (w->len < K8S_LINE_MAX)
				w->line[w->len++] = buf[i];
			else
				w->overflow = true;
			continue;
		}
		r = feed_line(w);
		w->len = 0;
		w->overflow = false;
		if (r < 0)
			return r;
	}
	return 0;
}

int k8s_watch(struct k8s *c, const char *path, long timeout_ms, k8s_watch_fn fn, void *userdata)
{
	char url[8192];
	const char *headers[] = { "Accept: application/json", NULL };
	struct watch_ctx w = { .fn = fn, .userdata = userdata };
	struct http_request req = { 0 };
	struct http_response res = { 0 };
	int r;

	if ((size_t)snprintf(url, sizeof(url), "%s%s", c->server, path) >= sizeof(url))
		return -ENAMETOOLONG;
	w.line = malloc(K8S_LINE_MAX);
	if (!w.line)
		return -ENOMEM;
	req.url = url;
	req.headers = headers;
	req.bearer_token = c->token;
	req.ca_file = c->ca_file;
	req.timeout_ms = timeout_ms;
	req.on_data = on_watch_data;
	req.userdata = &w;
	r = http_request(&req, &res);
	if (r == 0) {
		r = feed_line(&w); /* a last line without '\n' */
		if (r == 0 && res.status != 200) {
			r = (int)res.status;
			snprintf(c->error, sizeof(c->error), "watch: HTTP %ld: %s", res.status,
				 k8s_status_message(w.status_body));
		}
	} else if (r != -ECANCELED && r > -4096) {
		transport_error(c, "GET", path, r);
	}
	http_response_release(&res);
	json_decref(w.status_body);
	free(w.line);
	return r;
}
