// SPDX-License-Identifier: MIT
/*
 * serve-baseline: the floor for bench/serve.sh. Serves the bytes of one file as a single fixed
 * libmicrohttpd response for every GET, with the daemon flags, thread pool, caps and headers of
 * `mipart serve` (src/cli/verb-serve.c), and nothing else: no routing beyond the path, no cache,
 * no locks, no header counting. What `mipart serve` costs beyond this is its own.
 *
 *   serve-baseline FILE      prints "listening on 127.0.0.1:PORT" on stderr; SIGTERM stops it
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "banned.h"

#define FILE_MAX (64u << 20)

static struct MHD_Response *fixed;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req_cls)
{
	/* as mipart serve: answer on the second call, so that the connection is kept */
	static int marker;

	if (!*req_cls) {
		*req_cls = &marker;
		return MHD_YES;
	}
	return MHD_queue_response(c, MHD_HTTP_OK, fixed);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	struct MHD_Daemon *d;
	char *buf;
	size_t len = 0;
	sigset_t mask;
	FILE *f;
	int fd, one = 1, sig;

	if (argc != 2) {
		fprintf(stderr, "usage: serve-baseline FILE\n");
		return 2;
	}
	buf = malloc(FILE_MAX);
	f = fopen(argv[1], "rb");
	if (!buf || !f) {
		fprintf(stderr, "serve-baseline: cannot read '%s'\n", argv[1]);
		return 1;
	}
	len = fread(buf, 1, FILE_MAX, f);
	fclose(f);
	fixed = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (!fixed ||
	    MHD_add_response_header(fixed, MHD_HTTP_HEADER_CONTENT_TYPE,
				    "text/plain; version=0.0.4; charset=utf-8") != MHD_YES ||
	    MHD_add_response_header(fixed, "X-Mipart-Cache", "hit") != MHD_YES)
		return 1;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 128) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		fprintf(stderr, "serve-baseline: cannot listen: %s\n", strerror(errno));
		return 1;
	}
	/* the flags and options of mipart serve with its defaults (verb-serve.c, run()) */
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0,
			     NULL, NULL, on_request, NULL,
			     MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
			     MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)2,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64,
			     MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)16,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(16 * 1024 + 8192),
			     MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
			     MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "serve-baseline: cannot start the daemon\n");
		return 1;
	}
	fprintf(stderr, "listening on 127.0.0.1:%u\n", ntohs(sa.sin_port));
	sigwait(&mask, &sig);
	MHD_stop_daemon(d);
	MHD_destroy_response(fixed);
	return 0;
}
