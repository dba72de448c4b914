/* SPDX-License-Identifier: MIT */
/*
 * What `mipart serve` reads from outside: its config file and flags (settings), and each HTTP
 * request's method, path and headers, decided on before any work (serve_route). Kept apart
 * from the server so that tests/fuzz/ can feed them anything.
 */
#ifndef MIPART_SERVE_PARSE_H
#define MIPART_SERVE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/*
 * The default port. Not AMD's device-metrics-exporter (5000, its ServerPort default), not
 * NVIDIA's dcgm-exporter (9400), not Prometheus (9090), Alertmanager (9093), Pushgateway (9091),
 * node_exporter (9100) or Grafana (3000), and not the kubelet/kube-proxy/controller ports
 * (10248-10259): a node running those next to mipart must not see a clash. The exporter range
 * 9100-9999 of Prometheus's port registry is fully allocated (wiki "Default port
 * allocations"), so any port there belongs to some other exporter; 10400 is outside it.
 */
#define SERVE_DEFAULT_PORT "10400"
#define CONFIG_MAX_SIZE (64 * 1024)		/* bytes of a config file */
#define CONFIG_MAX_EVENTS 256			/* YAML events of a config file */

enum key {
	K_LISTEN,
	K_ALLOW_REMOTE,
	K_INTERVAL,
	K_MAX_CONNECTIONS,
	K_PER_IP,
	K_TIMEOUT,
	K_MAX_HEADER_BYTES,
	K_MAX_HEADERS,
	K_MAX_CONNECTION_TIME,
	K_SERIES,
	K_TOKEN_FILE,
	K_TLS_CERT,
	K_TLS_KEY,
	K_LABELS_FILE,
	K_LABELS_INTERVAL,
	N_KEYS,
};

struct serve_key {
	const char *name;
	unsigned long min, max; /* whole numbers */
	const char *expect;
};
extern const struct serve_key serve_keys[N_KEYS];

struct settings {
	char listen[80];
	bool allow_remote;
	double interval;
	unsigned series;	   /* MIPART_MONITOR_SERIES_* bits */
	char token_file[256], tls_cert[256], tls_key[256]; /* "" when not set */
	char labels_file[256];	   /* the NFD feature file: "" NFD's path when its directory
				    * exists, "off" never, else this path */
	double labels_interval;	   /* seconds between two looks at the labels */
	unsigned long num[N_KEYS]; /* the whole-number keys */
	unsigned set;		   /* bit per key given (flags, file) */
};

void serve_settings_defaults(struct settings *s);
/* Copy into dst the keys src has set. */
void serve_settings_merge(struct settings *dst, const struct settings *src);
/* "127.0.0.1:10400" or "[::1]:10400" into a socket address (numeric only). 0 or -EINVAL. */
int serve_parse_listen(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len,
		       bool *ret_loopback);
/* Whether addr is 127.0.0.0/8, ::1 or ::ffff:127.x.y.z. */
bool serve_is_loopback(const struct sockaddr *addr);
/* Set key k of s from the text v; on -EINVAL err says what was expected. */
int serve_settings_set(struct settings *s, enum key k, const char *v, char *err, size_t size);
/* A config file's text (at most CONFIG_MAX_SIZE bytes) into ret; 0 or -errno with err set
 * ("FILE:LINE:COL: message"); ret untouched on failure. */
int serve_config_parse(const char *buf, size_t len, const char *path, struct settings *ret,
		       char *err, size_t size);
/* Read and parse the config file at path: same returns, and the read's -errno. */
int serve_config_read(const char *path, struct settings *ret, char *err, size_t size);

/* The endpoints, and what serve_route decides for a request. */
enum { SERVE_EP_METRICS, SERVE_EP_STATUS, SERVE_EP_HEALTH, SERVE_EP_PAGE, SERVE_N_EP };
extern const char *const serve_ep_paths[SERVE_N_EP];

enum serve_decision {
	/* 0 .. SERVE_N_EP - 1: serve that endpoint */
	SERVE_CONTINUE = SERVE_N_EP, /* headers fine: wait for the end of the request */
	SERVE_DISCARD,		      /* body bytes (never, a body is refused): drop them */
	SERVE_REFUSE_NOT_FOUND,
	SERVE_REFUSE_METHOD,
	SERVE_REFUSE_BODY,
	SERVE_REFUSE_HEADERS,
	SERVE_REFUSE_BAD,	      /* Content-Length headers that are not digits or disagree,
				       * %00 in the path: 400 */
	SERVE_REFUSE_AUTH,	      /* a token is set and the request lacks it: 401 */
};

/* A request as libmicrohttpd hands it to the access handler. */
struct serve_request {
	const char *method, *url;	   /* as received (url: the path, decoded) */
	unsigned long n_headers, header_bytes; /* header lines, and their bytes with ": " and CRLF */
	const char *content_length;	   /* the header's value, or NULL */
	const char *transfer_encoding;	   /* the header's value, or NULL */
	bool first;			   /* the first call: headers in, body not read yet */
	bool bad_length;		   /* Content-Length not digits or two that differ, or a
					    * path with %00 (verb-serve.c marks it "\001") */
	bool unauthorized;		   /* a token is set and this request does not carry it */
	size_t upload_size;		   /* body bytes in this call (later calls) */
};

/* serve_route - what to do with a request: an endpoint index or a SERVE_ decision. Only GET
 * and HEAD of the exact paths are served; oversized headers, bad lengths or paths, a missing
 * token and bodies are refused (in that order) on the first call. Pure: no I/O. */
int serve_route(const struct serve_request *rq, unsigned long max_headers,
		unsigned long max_header_bytes);

#endif
