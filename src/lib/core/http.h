/* SPDX-License-Identifier: MIT */
#ifndef MIPART_HTTP_H
#define MIPART_HTTP_H

#include <stddef.h>

/* Cap on collected response headers (all of them, of the last response). */
#define HTTP_HEADERS_MAX (64 * 1024)
/* Default cap on a collected response body. */
#define HTTP_BODY_MAX_DEFAULT (16u * 1024 * 1024)

/* One HTTP(S) request with libcurl. Every request has a whole-request timeout and a body cap. */
struct http_request {
	const char *method;         /* NULL = "GET" */
	const char *url;
	const char *const *headers; /* NULL-terminated "Name: value" list, or NULL */
	const char *body;           /* request body or NULL */
	size_t body_len;
	const char *bearer_token;   /* sent as "Authorization: Bearer ..." when not NULL */
	const char *ca_file;        /* PEM bundle to verify the server; NULL = system CAs */
	long timeout_ms;            /* whole request; 0 = 30000 */
	long connect_timeout_ms;    /* 0 = 5000 */
	long low_speed_time_s;      /* abort when < 1 byte/s for this long; 0 = off */
	size_t max_body;            /* cap on the collected body; 0 = 16 MiB; more = -EFBIG */
	int max_redirects;          /* 0 = do not follow redirects */
	/*
	 * Streaming: when set, body bytes go here (not collected); return < 0 to abort (the request
	 * then returns that value).
	 */
	int (*on_data)(const char *buf, size_t len, void *userdata);
	void *userdata;
};

struct http_response {
	long status;   /* HTTP status of the last response */
	char *body;    /* NUL-terminated, owned; NULL when streamed */
	size_t body_len;
	char *headers; /* raw headers of the last response (after redirects), NUL-terminated */
};

/*
 * http_request - perform req. Returns 0 on any HTTP status (check ret->status), or -errno:
 * -EINVAL bad arguments, -ETIMEDOUT, -ECONNREFUSED, -EHOSTUNREACH (no route, DNS), -EFBIG body
 * over max_body or headers over HTTP_HEADERS_MAX, -EPROTO TLS or protocol error, -ENOMEM,
 * -ENOSYS libcurl.so.4 cannot be loaded, or a negative value returned by on_data. ret is untouched on failure; on success the caller owns it
 * and releases it with http_response_release().
 */
int http_request(const struct http_request *req, struct http_response *ret);

/* http_response_release - free what r holds (NULL is fine) and zero it. */
void http_response_release(struct http_response *r);

/*
 * http_response_header - the value of header name (case-insensitive, first occurrence) of the
 * last response, trimmed, newly allocated (caller frees); NULL if absent or out of memory.
 */
char *http_response_header(const struct http_response *r, const char *name);

/* http_last_error - a short text for the last failure of http_request in this thread. */
const char *http_last_error(void);

#endif
