// SPDX-License-Identifier: MIT
/*
 * The HTTP client: one request through libcurl's easy interface, with a whole-request timeout,
 * a connect timeout, an optional low-speed abort, a cap on the collected body and on the
 * headers, and streaming of the body to a callback (watch streams). It knows nothing of the
 * services it talks to (the Kubernetes API server, the Hugging Face Hub): callers build URLs and
 * read statuses. Errors are mapped to -errno; the curl message of the last failure is kept per
 * thread for the caller's error text.
 *
 * libcurl is dlopen()ed on the first request, not linked: linking it loads OpenSSL, nghttp2,
 * libssh2, LDAP, Kerberos and about 25 more objects into every mipart command, which took each
 * `mipart --help` from 0.75 ms to 5.5 ms here (the same reason libmicrohttpd is dlopen()ed,
 * docs/serve.md). Only the commands that talk HTTP pay for it.
 */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "http.h"
#include "banned.h"

/* The libcurl functions used, resolved from libcurl.so.4 (its ABI since 2006). */
static struct {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *c);
	CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *c);
	const char *(*easy_strerror)(CURLcode rc);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
} lib;

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_rc = -ENOSYS;
static char global_error[CURL_ERROR_SIZE];
static _Thread_local char last_error[CURL_ERROR_SIZE];

static void global_init(void)
{
	static const struct {
		const char *name;
		size_t off;
	} syms[] = {
#define SYM(f, n) { n, offsetof(__typeof__(lib), f) }
		SYM(global_init, "curl_global_init"),
		SYM(easy_init, "curl_easy_init"),
		SYM(easy_setopt, "curl_easy_setopt"),
		SYM(easy_perform, "curl_easy_perform"),
		SYM(easy_getinfo, "curl_easy_getinfo"),
		SYM(easy_cleanup, "curl_easy_cleanup"),
		SYM(easy_strerror, "curl_easy_strerror"),
		SYM(slist_append, "curl_slist_append"),
		SYM(slist_free_all, "curl_slist_free_all"),
#undef SYM
	};
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(global_error, sizeof(global_error), "cannot load libcurl.so.4: %s", dlerror());
		return;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void *f = dlsym(h, syms[i].name);

		if (!f) {
			snprintf(global_error, sizeof(global_error), "libcurl.so.4 lacks %s",
				 syms[i].name);
			return;
		}
		memcpy((char *)&lib + syms[i].off, &f, sizeof(f));
	}
	/* curl_global_init is not thread-safe before 7.84; run it once. */
	if (lib.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(global_error, sizeof(global_error), "curl_global_init failed");
		global_rc = -ENOMEM;
		return;
	}
	global_rc = 0;
}

const char *http_last_error(void)
{
	return last_error;
}

struct sink {
	const struct http_request *req;
	char *buf;
	size_t len, cap, max;
	int cb_rc;     /* < 0: on_data aborted */
	bool too_big;
	char *hdr;
	size_t hdr_len, hdr_cap;
	bool hdr_too_big;
};

static int grow(char **buf, size_t *cap, size_t need)
{
	size_t ncap = *cap ? *cap : 4096;
	char *n;

	while (ncap < need)
		ncap *= 2;
	if (ncap == *cap)
		return 0;
	n = realloc(*buf, ncap);
	if (!n)
		return -ENOMEM;
	*buf = n;
	*cap = ncap;
	return 0;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct sink *s = userdata;
	size_t n = size * nmemb;

	if (s->req->on_data) {
		int r = s->req->on_data(ptr, n, s->req->userdata);

		if (r < 0) {
			s->cb_rc = r;
			return 0; /* CURLE_WRITE_ERROR */
		}
		return n;
	}
	if (n > s->max - s->len) {
		s->too_big = true;
		return 0;
	}
	if (grow(&s->buf, &s->cap, s->len + n + 1) < 0) {
		s->cb_rc = -ENOMEM;
		return 0;
	}
	memcpy(s->buf + s->len, ptr, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct sink *s = userdata;
	size_t n = size * nmemb;

	/* A status line starts the headers of a new response (after a redirect or a 100): keep
	 * only the last response's headers. */
	if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0)
		s->hdr_len = 0;
	if (n > HTTP_HEADERS_MAX - s->hdr_len) {
		s->hdr_too_big = true;
		return 0;
	}
	if (grow(&s->hdr, &s->hdr_cap, s->hdr_len + n + 1) < 0) {
		s->cb_rc = -ENOMEM;
		return 0;
	}
	memcpy(s->hdr + s->hdr_len, ptr, n);
	s->hdr_len += n;
	s->hdr[s->hdr_len] = '\0';
	return n;
}

static int map_curl_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_OK:
		return 0;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return -EINVAL;
	case CURLE_FILESIZE_EXCEEDED:
		return -EFBIG;
	case CURLE_TOO_MANY_REDIRECTS:
	default:
		return -EPROTO;
	}
}

int http_request(const struct http_request *req, struct http_response *ret)
{
	struct sink s = { .req = req };
	struct curl_slist *hl = NULL, *n;
	char *auth = NULL;
	CURL *c = NULL;
	CURLcode rc;
	long status = 0;
	int r;

	last_error[0] = '\0';
	if (!req || !req->url || !ret)
		return -EINVAL;
	pthread_once(&global_once, global_init);
	if (global_rc < 0) {
		snprintf(last_error, sizeof(last_error), "%s", global_error);
		return global_rc;
	}
	s.max = req->max_body ? req->max_body : HTTP_BODY_MAX_DEFAULT;

	c = lib.easy_init();
	if (!c) {
		r = -ENOMEM;
		goto out;
	}
	for (const char *const *h = req->headers; h && *h; h++) {
		n = lib.slist_append(hl, *h);
		if (!n) {
			r = -ENOMEM;
			goto out;
		}
		hl = n;
	}
	if (req->bearer_token) {
		size_t len = strlen(req->bearer_token) + sizeof("Authorization: Bearer ");

		/* A token with a line break would inject headers. */
		if (strpbrk(req->bearer_token, "\r\n")) {
			r = -EINVAL;
			goto out;
		}
		auth = malloc(len);
		if (!auth) {
			r = -ENOMEM;
			goto out;
		}
		snprintf(auth, len, "Authorization: Bearer %s", req->bearer_token);
		n = lib.slist_append(hl, auth);
		if (!n) {
			r = -ENOMEM;
			goto out;
		}
		hl = n;
	}

	lib.easy_setopt(c, CURLOPT_URL, req->url);
	lib.easy_setopt(c, CURLOPT_ERRORBUFFER, last_error);
	lib.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* Only http and https, also after a redirect (never file:// or others from a Location). */
	lib.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	lib.easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	lib.easy_setopt(c, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 30000L);
	lib.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 req->connect_timeout_ms > 0 ? req->connect_timeout_ms : 5000L);
	if (req->low_speed_time_s > 0) {
		lib.easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
		lib.easy_setopt(c, CURLOPT_LOW_SPEED_TIME, req->low_speed_time_s);
	}
	if (req->max_redirects > 0) {
		lib.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
		lib.easy_setopt(c, CURLOPT_MAXREDIRS, (long)req->max_redirects);
	}
	if (req->ca_file)
		lib.easy_setopt(c, CURLOPT_CAINFO, req->ca_file);
	if (hl)
		lib.easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	if (req->method)
		lib.easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	if (req->body) {
		lib.easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
		lib.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	} else if (req->method && strcasecmp(req->method, "HEAD") == 0) {
		lib.easy_setopt(c, CURLOPT_NOBODY, 1L);
	}
	lib.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	lib.easy_setopt(c, CURLOPT_WRITEDATA, &s);
	lib.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	lib.easy_setopt(c, CURLOPT_HEADERDATA, &s);

	rc = lib.easy_perform(c);
	if (s.cb_rc < 0) {
		r = s.cb_rc;
		goto out;
	}
	if (s.too_big || s.hdr_too_big) {
		snprintf(last_error, sizeof(last_error), "response larger than %zu bytes",
			 s.too_big ? s.max : (size_t)HTTP_HEADERS_MAX);
		r = -EFBIG;
		goto out;
	}
	if (rc != CURLE_OK) {
		if (!last_error[0])
			snprintf(last_error, sizeof(last_error), "%s", lib.easy_strerror(rc));
		r = map_curl_error(rc);
		goto out;
	}
	lib.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (!req->on_data && !s.buf) {
		s.buf = calloc(1, 1);
		if (!s.buf) {
			r = -ENOMEM;
			goto out;
		}
	}
	if (!s.hdr) {
		s.hdr = calloc(1, 1);
		if (!s.hdr) {
			r = -ENOMEM;
			goto out;
		}
	}
	ret->status = status;
	ret->body = s.buf;
	ret->body_len = s.len;
	ret->headers = s.hdr;
	s.buf = NULL;
	s.hdr = NULL;
	r = 0;
out:
	free(s.buf);
	free(s.hdr);
	free(auth);
	lib.slist_free_all(hl);
	if (c)
		lib.easy_cleanup(c);
	return r;
}

void http_response_release(struct http_response *r)
{
	if (!r)
		return;
	free(r->body);
	free(r->headers);
	memset(r, 0, sizeof(*r));
}

char *http_response_header(const struct http_response *r, const char *name)
{
	size_t nlen;
	const char *p;

	if (!r || !r->headers || !name)
		return NULL;
	nlen = strlen(name);
	for (p = r->headers; *p;) {
		const char *eol = strchr(p, '\n');
		const char *end = eol ? eol : p + strlen(p);

		if ((size_t)(end - p) > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
			const char *v = p + nlen + 1;

			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			while (end > v && isspace((unsigned char)end[-1]))
				end--;
			return strndup(v, (size_t)(end - v));
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	return NULL;
}
