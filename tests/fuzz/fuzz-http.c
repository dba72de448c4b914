// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for `mipart serve`'s request handling (serve-parse.c: serve_route). The
 * input is a raw HTTP/1.1 request; a small reader splits it the way libmicrohttpd hands it to
 * the access handler (method, path with %XX decoded up to a NUL, header lines, Content-Length,
 * Transfer-Encoding), and the decision is checked against what docs/serve.md promises: only
 * GET and HEAD of the exact endpoint paths are served, and only without a body, within the
 * header limits, with consistent Content-Length headers, no %00 in the path and the token when
 * one is set; everything else is refused on the first call, before the body is read.
 *
 *   make fuzz        (clang, build-fuzz/, FUZZ_SECONDS per harness)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "serve-parse.h"
#include "fuzz.h"
#include "banned.h"

static int hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* the path without its query, %XX decoded (MHD_http_unescape); a path with %00 becomes
 * "\001", as serve's unescape callback makes it (verb-serve.c: unescape) */
static void unescape(char *s)
{
	char *o = s;

	for (char *q = strchr(s, '?'); q; q = NULL)
		*q = '\0';
	for (const char *p = strchr(s, '%'); p; p = strchr(p + 1, '%'))
		if (p[1] == '0' && p[2] == '0') {
			s[0] = '\001';
			s[1] = '\0';
			return;
		}
	for (; *s; s++) {
		if (s[0] == '%' && hex(s[1]) >= 0 && hex(s[2]) >= 0) {
			*o++ = (char)(hex(s[1]) * 16 + hex(s[2]));
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

static void check(const struct serve_request *rq, unsigned long max_headers,
		  unsigned long max_bytes)
{
	struct serve_request second = *rq;
	bool get = !strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD");
	bool body = rq->transfer_encoding || (rq->content_length && strcmp(rq->content_length, "0"));
	bool over = rq->n_headers > max_headers || rq->header_bytes + strlen(rq->url) > max_bytes;
	int d = serve_route(rq, max_headers, max_bytes);

	CHECK(d >= 0 && d <= SERVE_REFUSE_AUTH);
	/* the first call never serves: it refuses or waits, in this order */
	CHECK(d >= SERVE_CONTINUE && d != SERVE_DISCARD);
	CHECK((d == SERVE_REFUSE_HEADERS) == over);
	CHECK(over || (d == SERVE_REFUSE_BAD) == rq->bad_length);
	CHECK(over || rq->bad_length || (d == SERVE_REFUSE_AUTH) == rq->unauthorized);
	CHECK(over || rq->bad_length || rq->unauthorized || (d == SERVE_CONTINUE) == !body);
	CHECK(d != SERVE_CONTINUE || rq->url[0] != '\001');
	if (d != SERVE_CONTINUE)
		return;
	second.first = false;
	d = serve_route(&second, max_headers, max_bytes);
	if (d < SERVE_N_EP) {
		CHECK(get && !strcmp(rq->url, serve_ep_paths[d]));
	} else {
		CHECK(d == SERVE_REFUSE_METHOD || d == SERVE_REFUSE_NOT_FOUND);
		CHECK((d == SERVE_REFUSE_METHOD) == !get);
	}
	second.upload_size = 1;
	CHECK(serve_route(&second, max_headers, max_bytes) == SERVE_DISCARD);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *req = malloc(size + 1), *line, *next, *sp1, *sp2;
	const char *first_length = NULL, *auth = NULL;
	struct serve_request rq = { .first = true };

	if (!req)
		return 0;
	memcpy(req, data, size);
	req[size] = '\0';
	/* request line: METHOD SP TARGET SP VERSION CRLF */
	line = req;
	next = strstr(line, "\r\n");
	if (next) {
		*next = '\0';
		next += 2;
	}
	sp1 = strchr(line, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2)
		goto out;
	*sp1 = *sp2 = '\0';
	rq.method = line;
	rq.url = sp1 + 1;
	unescape(sp1 + 1);
	/* header lines up to the empty one */
	while (next && *next) {
		char *colon, *v;

		line = next;
		next = strstr(line, "\r\n");
		if (next) {
			*next = '\0';
			next += 2;
		}
		if (!*line)
			break;
		colon = strchr(line, ':');
		if (!colon)
			goto out; /* libmicrohttpd answers 400 itself */
		*colon = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		rq.n_headers++;
		rq.header_bytes += strlen(line) + strlen(v) + 4;
		/* several values that differ, or one that is not digits (verb-serve.c:
		 * tally_header); libmicrohttpd's lookup gives the first */
		if (!strcasecmp(line, "Content-Length")) {
			if (!v[0] || strspn(v, "0123456789") != strlen(v) ||
			    (first_length && strcmp(v, first_length)))
				rq.bad_length = true;
			if (!first_length)
				first_length = rq.content_length = v;
		} else if (!strcasecmp(line, "Authorization") && !auth) {
			auth = v;
		}
		if (!strcasecmp(line, "Transfer-Encoding"))
			rq.transfer_encoding = v;
	}
	rq.bad_length |= rq.url[0] == '\001';
	check(&rq, 64, 16 * 1024);	/* the defaults, no token */
	check(&rq, 1, 1024);		/* the smallest limits */
	/* a token set: only "Bearer <token>" passes */
	rq.unauthorized = !auth || strcmp(auth, "Bearer 0123456789abcdef0123");
	check(&rq, 64, 16 * 1024);
out:
	free(req);
	return 0;
}
