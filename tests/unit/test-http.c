// SPDX-License-Identifier: MIT
/*
 * Unit tests for the HTTP client (src/lib/core/http.c) against a small server on 127.0.0.1 in a
 * thread of this process: statuses, headers, the body cap, streaming and its abort, redirects,
 * the bearer token, a server that never answers (timeout) and a closed port.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"

static int listen_fd = -1;
static int port;
static pthread_t server;

static void reply(int fd, const char *s)
{
	size_t off = 0, len = strlen(s);

	while (off < len) {
		ssize_t n = write(fd, s + off, len - off);

		if (n <= 0)
			return;
		off += (size_t)n;
	}
}

/* Serves one request per connection; the path picks the answer. */
static void *serve(void *arg)
{
	(void)arg;
	for (;;) {
		char req[8192], path[256] = "", out[16384];
		size_t len = 0;
		int fd = accept(listen_fd, NULL, NULL);

		if (fd < 0)
			return NULL;
		while (len < sizeof(req) - 1) {
			ssize_t n = read(fd, req + len, sizeof(req) - 1 - len);

			if (n <= 0)
				break;
			len += (size_t)n;
			req[len] = '\0';
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		req[len] = '\0';
		sscanf(req, "%*s %255s", path);
		if (strcmp(path, "/ok") == 0) {
			reply(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
				  "X-Repo-Commit:  abc123 \r\nContent-Length: 11\r\nConnection: close\r\n\r\n"
				  "{\"a\": true}");
		} else if (strcmp(path, "/missing") == 0) {
			reply(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\n"
				  "not found");
		} else if (strcmp(path, "/echo") == 0) {
			/* The request's headers come back as the body. */
			snprintf(out, sizeof(out),
				 "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
				 strlen(req), req);
			reply(fd, out);
		} else if (strcmp(path, "/big") == 0) {
			char body[4097];

			memset(body, 'x', 4096);
			body[4096] = '\0';
			snprintf(out, sizeof(out),
				 "HTTP/1.1 200 OK\r\nContent-Length: 4096\r\nConnection: close\r\n\r\n%s",
				 body);
			reply(fd, out);
		} else if (strcmp(path, "/redirect") == 0) {
			reply(fd, "HTTP/1.1 302 Found\r\nLocation: /ok\r\nX-Old: 1\r\nContent-Length: 0\r\n"
				  "Connection: close\r\n\r\n");
		} else if (strcmp(path, "/redirect-file") == 0) {
			reply(fd, "HTTP/1.1 302 Found\r\nLocation: file:///etc/passwd\r\n"
				  "Content-Length: 0\r\nConnection: close\r\n\r\n");
		} else if (strcmp(path, "/silent") == 0) {
			/* Headers, then nothing: the client's timeout ends it. */
			reply(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
			char sink[64];

			while (read(fd, sink, sizeof(sink)) > 0)
				;
		} else if (strcmp(path, "/quit") == 0) {
			reply(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
			close(fd);
			return NULL;
		}
		close(fd);
	}
}

static char *url(const char *path)
{
	static char buf[4][128];
	static int i;
	char *b = buf[i++ % 4];

	snprintf(b, sizeof(buf[0]), "http://127.0.0.1:%d%s", port, path);
	return b;
}

static int setup(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);

	(void)state;
	listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(listen_fd, 16) < 0 || getsockname(listen_fd, (struct sockaddr *)&a, &alen) < 0)
		return -1;
	port = ntohs(a.sin_port);
	return pthread_create(&server, NULL, serve, NULL) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	struct http_request q = { .url = url("/quit"), .timeout_ms = 2000 };
	struct http_response r = { 0 };

	(void)state;
	if (http_request(&q, &r) == 0)
		http_response_release(&r);
	pthread_join(server, NULL);
	close(listen_fd);
	return 0;
}

static void test_get_ok(void **state)
{
	struct http_request q = { .url = url("/ok") };
	struct http_response r = { 0 };
	char *v;

	(void)state;
	assert_int_equal(http_request(&q, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 11);
	assert_string_equal(r.body, "{\"a\": true}");
	v = http_response_header(&r, "x-repo-commit");
	assert_non_null(v);
	assert_string_equal(v, "abc123");
	free(v);
	assert_null(http_response_header(&r, "X-Repo"));
	http_response_release(&r);
	assert_null(r.body);
}

static void test_status_is_not_an_error(void **state)
{
	struct http_request q = { .url = url("/missing") };
	struct http_response r = { 0 };

	(void)state;
	assert_int_equal(http_request(&q, &r), 0);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.body, "not found");
	http_response_release(&r);
}

static void test_headers_and_token_sent(void **state)
{
	const char *h[] = { "Accept: application/json", NULL };
	struct http_request q = { .url = url("/echo"), .headers = h, .bearer_token = "s3cret" };
	struct http_response r = { 0 };

	(void)state;
	assert_int_equal(http_request(&q, &r), 0);
	assert_non_null(strstr(r.body, "Accept: application/json\r\n"));
	assert_non_null(strstr(r.body, "Authorization: Bearer s3cret\r\n"));
	http_response_release(&r);
}

static void test_token_with_newline_refused(void **state)
{
	struct http_request q = { .url = url("/echo"), .bearer_token = "a\r\nX-Evil: 1" };
	struct http_response r = { .status = 7 };

	(void)state;
	assert_int_equal(http_request(&q, &r), -EINVAL);
	assert_int_equal(r.status, 7); /* untouched on failure */
}

static void test_body_cap(void **state)
{
	struct http_request q = { .url = url("/big"), .max_body = 4095 };
	struct http_response r = { .status = 7 };

	(void)state;
	assert_int_equal(http_request(&q, &r), -EFBIG);
	assert_int_equal(r.status, 7);
	q.max_body = 4096;
	assert_int_equal(http_request(&q, &r), 0);
	assert_int_equal(r.body_len, 4096);
	http_response_release(&r);
}

struct counter {
	size_t bytes;
	int abort_with;
};

static int count(const char *buf, size_t len, void *userdata)
{
	struct counter *c = userdata;

	(void)buf;
	c->bytes += len;
	return c->abort_with;
}

static void test_streaming(void **state)
{
	struct counter c = { 0 };
	struct http_request q = { .url = url("/big"), .on_data = count, .userdata = &c,
				  .max_body = 16 };
	struct http_response r = { 0 };

	(void)state;
	/* The cap is on the collected body; a streamed one is the callback's business. */
	assert_int_equal(http_request(&q, &r), 0);
	assert_int_equal(c.bytes, 4096);
	assert_null(r.body);
	http_response_release(&r);

	c = (struct counter){ .abort_with = -ECANCELED };
	assert_int_equal(http_request(&q, &r), -ECANCELED);
}

static void test_redirects(void **state)
{
	struct http_request q = { .url = url("/redirect") };
	struct http_response r = { 0 };
	char *v;

	(void)state;
	assert_int_equal(http_request(&q, &r), 0);
	assert_int_equal(r.status, 302);
	v = http_response_header(&r, "Location");
	assert_string_equal(v, "/ok");
	free(v);
	http_response_release(&r);

	q.max_redirects = 3;
	assert_int_equal(http_request(&q, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"a\": true}");
	/* Only the last response's headers are kept. */
	assert_null(http_response_header(&r, "X-Old"));
	http_response_release(&r);

	/* A redirect to another scheme is refused, not followed. */
	q.url = url("/redirect-file");
	assert_int_not_equal(http_request(&q, &r), 0);
}

static void test_timeout(void **state)
{
	struct http_request q = { .url = url("/silent"), .timeout_ms = 300 };
	struct http_response r = { 0 };

	(void)state;
	assert_int_equal(http_request(&q, &r), -ETIMEDOUT);
	assert_true(http_last_error()[0] != '\0');
}

static void test_refused(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char u[64];
	struct http_request q = { .url = u };
	struct http_response r = { 0 };

	(void)state;
	/* A port bound but not listening refuses connections. */
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/", ntohs(a.sin_port));
	assert_int_equal(http_request(&q, &r), -ECONNREFUSED);
	close(fd);

	q.url = "ftp://127.0.0.1/";
	assert_int_equal(http_request(&q, &r), -EINVAL);
	assert_int_equal(http_request(NULL, &r), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_ok),
		cmocka_unit_test(test_status_is_not_an_error),
		cmocka_unit_test(test_headers_and_token_sent),
		cmocka_unit_test(test_token_with_newline_refused),
		cmocka_unit_test(test_body_cap),
		cmocka_unit_test(test_streaming),
		cmocka_unit_test(test_redirects),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
