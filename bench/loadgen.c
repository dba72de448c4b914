// SPDX-License-Identifier: MIT
/*
 * loadgen: a small closed-loop HTTP/1.1 load generator for bench/serve.sh. C keep-alive
 * connections on one epoll loop each send "GET PATH" as soon as the previous response is in,
 * for a fixed time; every response's latency (request written to last body byte read) is
 * kept, so the percentiles are exact, not bucketed. Responses must carry Content-Length
 * (libmicrohttpd's buffer responses do); anything but 200 counts as an error. Loopback only by
 * intent: it takes a numeric IPv4 address and is run against servers the bench starts.
 *
 *   loadgen [-c CONNECTIONS] [-d SECONDS] ADDR:PORT PATH
 *       prints "requests N errors N seconds S rps R p50_us X p90_us X p99_us X max_us X"
 *   loadgen -o FILE ADDR:PORT PATH
 *       fetches PATH once and writes the body to FILE
 *
 * Exits 0, 1 when the server could not be reached or answered nothing, 2 on usage errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "banned.h"

#define CONN_MAX 1024
#define RESP_MAX (64u << 20)	  /* bytes of one response */
#define SAMPLES_MAX (50u << 20) /* latencies kept */

struct conn {
	int fd;
	char *buf;
	size_t len, cap;
	size_t need; /* header + body bytes of the response, 0 while the header is incomplete */
	int status;
	uint64_t sent;
};

static struct sockaddr_in addr;
static char request[512];
static size_t request_len;
static uint64_t *samples;
static size_t n_samples;
static unsigned long errors;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int conn_open(struct conn *c)
{
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int r = -errno;

		close(c->fd);
		c->fd = -1;
		return r;
	}
	return 0;
}

static int conn_send(struct conn *c)
{
	size_t off = 0;

	c->len = 0;
	c->need = 0;
	c->sent = now_ns();
	while (off < request_len) {
		ssize_t n = write(c->fd, request + off, request_len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		off += (size_t)n;
	}
	return 0;
}

/* Once the header is in: the status and the whole response's length. -EBADMSG when malformed. */
static int parse_header(struct conn *c)
{
	char *end = memmem(c->buf, c->len, "\r\n\r\n", 4), *p;
	unsigned long long clen = 0;
	bool have_len = false;

	if (!end)
		return c->len > 65536 ? -EBADMSG : 0;
	if (c->len < 12 || memcmp(c->buf, "HTTP/1.", 7))
		return -EBADMSG;
	c->status = (c->buf[9] - '0') * 100 + (c->buf[10] - '0') * 10 + (c->buf[11] - '0');
	for (p = memchr(c->buf, '\n', (size_t)(end - c->buf)); p && p < end;
	     p = memchr(p + 1, '\n', (size_t)(end - p))) {
		if ((size_t)(end - p) > 16 && !strncasecmp(p + 1, "Content-Length:", 15)) {
			clen = strtoull(p + 16, NULL, 10);
			have_len = true;
		}
	}
	if (!have_len || clen > RESP_MAX)
		return -EBADMSG;
	c->need = (size_t)(end + 4 - c->buf) + (size_t)clen;
	return 0;
}

/* Read what is there; 1 when the response is complete, 0 for more, -errno on failure/close. */
static int conn_read(struct conn *c)
{
	for (;;) {
		ssize_t n;

		if (c->len == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 65536;
			char *b = cap > RESP_MAX + 65536 ? NULL : realloc(c->buf, cap);

			if (!b)
				return -ENOMEM;
			c->buf = b;
			c->cap = cap;
		}
		n = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		c->len += (size_t)n;
		if (!c->need) {
			int r = parse_header(c);

			if (r < 0)
				return r;
		}
		if (c->need && c->len >= c->need)
			return c->len == c->need ? 1 : -EBADMSG; /* nothing was pipelined */
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static double pct(double p)
{
	size_t i = (size_t)(p * (double)n_samples);

	if (i >= n_samples)
		i = n_samples - 1;
	return (double)samples[i] / 1000.0;
}

static int fetch_once(const char *out)
{
	struct conn c = { .fd = -1 };
	char *body;
	size_t blen;
	FILE *f;
	int r = conn_open(&c);

	if (r == 0)
		r = conn_send(&c);
	while (r == 0)
		r = conn_read(&c);
	if (r < 0) {
		fprintf(stderr, "loadgen: cannot fetch: %s\n", strerror(-r));
		return 1;
	}
	if (c.status != 200) {
		fprintf(stderr, "loadgen: status %d\n", c.status);
		return 1;
	}
	body = (char *)memmem(c.buf, c.len, "\r\n\r\n", 4) + 4;
	blen = c.need - (size_t)(body - c.buf);
	f = fopen(out, "wb");
	if (!f) {
		fprintf(stderr, "loadgen: cannot write '%s': %s\n", out, strerror(errno));
		return 1;
	}
	r = fwrite(body, 1, blen, f) == blen ? 0 : -EIO;
	if (fclose(f) != 0 || r < 0) {
		fprintf(stderr, "loadgen: cannot write '%s'\n", out);
		return 1;
	}
	free(c.buf);
	close(c.fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct conn conns[CONN_MAX];
	struct epoll_event evs[64];
	unsigned long conc = 8;
	double seconds = 5;
	const char *out = NULL;
	char host[64], *colon;
	uint64_t start, deadline, end;
	int opt, ep;

	while ((opt = getopt(argc, argv, "c:d:o:")) != -1) {
		switch (opt) {
		case 'c':
			conc = strtoul(optarg, NULL, 10);
			break;
		case 'd':
			seconds = strtod(optarg, NULL);
			break;
		case 'o':
			out = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2 || conc < 1 || conc > CONN_MAX || !(seconds > 0 && seconds <= 3600))
		goto usage;
	colon = strrchr(argv[optind], ':');
	if (!colon || (size_t)(colon - argv[optind]) >= sizeof(host))
		goto usage;
	memcpy(host, argv[optind], (size_t)(colon - argv[optind]));
	host[colon - argv[optind]] = '\0';
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)strtoul(colon + 1, NULL, 10));
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
		goto usage;
	request_len = (size_t)snprintf(request, sizeof(request),
				       "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: mipart-loadgen\r\n\r\n",
				       argv[optind + 1], argv[optind]);
	if (request_len >= sizeof(request))
		goto usage;
	if (out)
		return fetch_once(out);

	samples = malloc(SAMPLES_MAX * sizeof(*samples));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!samples || ep < 0)
		return 1;
	for (unsigned long i = 0; i < conc; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = i };
		int r;

		conns[i] = (struct conn){ .fd = -1 };
		r = conn_open(&conns[i]);
		if (r == 0)
			r = conn_send(&conns[i]);
		if (r < 0) {
			fprintf(stderr, "loadgen: cannot connect to %s: %s\n", argv[optind], strerror(-r));
			return 1;
		}
		fcntl(conns[i].fd, F_SETFL, O_NONBLOCK);
		epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
	}
	start = now_ns();
	deadline = start + (uint64_t)(seconds * 1e9);
	while (now_ns() < deadline) {
		int n = epoll_wait(ep, evs, 64, 100);

		for (int k = 0; k < n; k++) {
			struct conn *c = &conns[evs[k].data.u64];
			int r = conn_read(c);
			struct epoll_event ev = { .events = EPOLLIN, .data.u64 = evs[k].data.u64 };

			if (r == 0)
				continue;
			if (r == 1) {
				if (n_samples < SAMPLES_MAX)
					samples[n_samples++] = now_ns() - c->sent;
				if (c->status != 200)
					errors++;
				if (conn_send(c) == 0)
					continue;
			}
			/* closed or broken: count it, open another */
			errors++;
			epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
			close(c->fd);
			if (conn_open(c) < 0 || conn_send(c) < 0) {
				fprintf(stderr, "loadgen: cannot reconnect to %s\n", argv[optind]);
				return 1;
			}
			fcntl(c->fd, F_SETFL, O_NONBLOCK);
			epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
		}
	}
	end = now_ns();
	if (!n_samples) {
		fprintf(stderr, "loadgen: no response from %s\n", argv[optind]);
		return 1;
	}
	qsort(samples, n_samples, sizeof(*samples), cmp_u64);
	printf("requests %zu errors %lu seconds %.3f rps %.0f p50_us %.1f p90_us %.1f p99_us %.1f max_us %.1f\n",
	       n_samples, errors, (double)(end - start) / 1e9,
	       (double)n_samples / ((double)(end - start) / 1e9), pct(0.50), pct(0.90), pct(0.99),
	       (double)samples[n_samples - 1] / 1000.0);
	for (unsigned long i = 0; i < conc; i++) {
		close(conns[i].fd);
		free(conns[i].buf);
	}
	close(ep);
	free(samples);
	return 0;
usage:
	fprintf(stderr, "usage: loadgen [-c CONNECTIONS] [-d SECONDS] [-o FILE] IPV4:PORT PATH\n");
	return 2;
}
