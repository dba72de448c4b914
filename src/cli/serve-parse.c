// SPDX-License-Identifier: MIT
/*
 * `mipart serve`'s input: settings from defaults, a YAML config file and flags, and the decision
 * over each HTTP request's method, path and headers (serve-parse.h). No I/O but reading the
 * config file; the server is verb-serve.c. See docs/serve.md.
 */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "mipart/error.h"
#include "mipart/monitor.h"
#include "serve-parse.h"
#include "util.h"
#include "banned.h"

const struct serve_key serve_keys[N_KEYS] = {
	[K_LISTEN] = { "listen", 0, 0, "ADDRESS:PORT with a numeric address, such as 127.0.0.1:" SERVE_DEFAULT_PORT " or [::1]:" SERVE_DEFAULT_PORT "" },
	[K_ALLOW_REMOTE] = { "allow-remote", 0, 0, "true or false" },
	[K_INTERVAL] = { "interval", 0, 86400, "seconds from 0 to 86400, such as 2 or 0.5" },
	[K_MAX_CONNECTIONS] = { "max-connections", 2, 10000, NULL },
	[K_PER_IP] = { "per-ip-connections", 0, 10000, NULL },
	[K_TIMEOUT] = { "timeout", 1, 3600, NULL },
	[K_MAX_HEADER_BYTES] = { "max-header-bytes", 1024, 1024 * 1024, NULL },
	[K_MAX_HEADERS] = { "max-headers", 1, 1000, NULL },
	[K_MAX_CONNECTION_TIME] = { "max-connection-time", 1, 86400, NULL },
	[K_SERIES] = { "series", 0, 0, "mipart, amd or both" },
	[K_TOKEN_FILE] = { "token-file", 0, 0, "the path of a file" },
	[K_TLS_CERT] = { "tls-cert", 0, 0, "the path of a PEM file" },
	[K_TLS_KEY] = { "tls-key", 0, 0, "the path of a PEM file" },
	[K_LABELS_FILE] = { "labels-file", 0, 0, "the path of the NFD feature file, or off" },
	[K_LABELS_INTERVAL] = { "labels-interval", 0, 86400, "seconds from 0.01 to 86400, such as 10 or 0.5" },
};

void serve_settings_defaults(struct settings *s)
{
	*s = (struct settings){ .listen = "127.0.0.1:" SERVE_DEFAULT_PORT, .interval = 2,
				.labels_interval = 10,
				.series = MIPART_MONITOR_SERIES_MIPART | MIPART_MONITOR_SERIES_AMD };
	s->num[K_MAX_CONNECTIONS] = 64;
	s->num[K_PER_IP] = 16;
	s->num[K_TIMEOUT] = 10;
	s->num[K_MAX_HEADER_BYTES] = 16 * 1024;
	s->num[K_MAX_HEADERS] = 64;
	s->num[K_MAX_CONNECTION_TIME] = 30;
}

/* Copy into dst the keys src has set. */
void serve_settings_merge(struct settings *dst, const struct settings *src)
{
	for (unsigned k = 0; k < N_KEYS; k++) {
		if (!(src->set & (1u << k)))
			continue;
		if (k == K_LISTEN)
			memcpy(dst->listen, src->listen, sizeof(dst->listen));
		else if (k == K_ALLOW_REMOTE)
			dst->allow_remote = src->allow_remote;
		else if (k == K_INTERVAL)
			dst->interval = src->interval;
		else if (k == K_SERIES)
			dst->series = src->series;
		else if (k == K_TOKEN_FILE)
			memcpy(dst->token_file, src->token_file, sizeof(dst->token_file));
		else if (k == K_TLS_CERT)
			memcpy(dst->tls_cert, src->tls_cert, sizeof(dst->tls_cert));
		else if (k == K_TLS_KEY)
			memcpy(dst->tls_key, src->tls_key, sizeof(dst->tls_key));
		else if (k == K_LABELS_FILE)
			memcpy(dst->labels_file, src->labels_file, sizeof(dst->labels_file));
		else if (k == K_LABELS_INTERVAL)
			dst->labels_interval = src->labels_interval;
		else
			dst->num[k] = src->num[k];
		dst->set |= 1u << k;
	}
}

/*
 * "127.0.0.1:10400" or "[::1]:10400" into a socket address; port 0 lets the kernel choose.
 * Numeric addresses only: a name would need the resolver at start and could change under us.
 * 0 or -EINVAL.
 */
int serve_parse_listen(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len,
			bool *ret_loopback)
{
	char host[64];
	const char *colon, *port_s;
	uint64_t port;
	size_t hl;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		hl = (size_t)(close - s - 1);
		memcpy(host, s + 1, hl < sizeof(host) ? hl : 0);
		port_s = close + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -EINVAL; /* IPv6 without brackets */
		hl = (size_t)(colon - s);
		memcpy(host, s, hl < sizeof(host) ? hl : 0);
		port_s = colon + 1;
	}
	if (hl == 0 || hl >= sizeof(host) || util_parse_u64(port_s, strlen(port_s), &port) < 0 ||
	    port > 65535)
		return -EINVAL;
	host[hl] = '\0';
	memset(ret, 0, sizeof(*ret));
	if (s[0] == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ret;

		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return -EINVAL;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*ret_len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ret;

		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -EINVAL;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		*ret_len = sizeof(*a);
	}
	*ret_loopback = serve_is_loopback((const struct sockaddr *)ret);
	return 0;
}

bool serve_is_loopback(const struct sockaddr *addr)
{
	if (addr->sa_family == AF_INET) /* 127.0.0.0/8 */
		return (ntohl(((const struct sockaddr_in *)addr)->sin_addr.s_addr) >> 24) == 127;
	if (addr->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)addr)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

/* Seconds with an optional fraction: "2", "0.5". No sign, exponent, hex, inf or nan. */
static int parse_seconds(const char *v, double max, double *ret)
{
	size_t digits = 0, dots = 0;
	char *end;
	double d;

	for (const char *p = v; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digits++;
		else if (*p == '.' && !dots++)
			continue;
		else
			return -EINVAL;
	}
	if (!digits)
		return -EINVAL;
	errno = 0;
	d = strtod(v, &end);
	if (errno || *end || d > max)
		return -EINVAL;
	*ret = d;
	return 0;
}

/*
 * Set key k of s from the text v (a flag's argument or a config value). On -EINVAL, err says
 * what was expected: "expected a whole number from 1 to 3600".
 */
int serve_settings_set(struct settings *s, enum key k, const char *v, char *err, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	bool lo;
	uint64_t n;

	switch (k) {
	case K_LISTEN:
		if (strlen(v) >= sizeof(s->listen) || serve_parse_listen(v, &ss, &sl, &lo) < 0)
			goto bad;
		util_strlcpy(s->listen, v, sizeof(s->listen));
		break;
	case K_ALLOW_REMOTE:
		if (strcmp(v, "true") && strcmp(v, "false"))
			goto bad;
		s->allow_remote = !strcmp(v, "true");
		break;
	case K_INTERVAL:
		if (parse_seconds(v, (double)serve_keys[k].max, &s->interval) < 0)
			goto bad;
		break;
	case K_LABELS_INTERVAL: {
		double d;

		if (parse_seconds(v, (double)serve_keys[k].max, &d) < 0 || d < 0.01)
			goto bad;
		s->labels_interval = d;
		break;
	}
	case K_LABELS_FILE:
		if (!v[0] || strlen(v) >= sizeof(s->labels_file))
			goto bad;
		util_strlcpy(s->labels_file, v, sizeof(s->labels_file));
		break;
	case K_SERIES:
		if (!strcmp(v, "mipart"))
			s->series = MIPART_MONITOR_SERIES_MIPART;
		else if (!strcmp(v, "amd"))
			s->series = MIPART_MONITOR_SERIES_AMD;
		else if (!strcmp(v, "both"))
			s->series = MIPART_MONITOR_SERIES_MIPART | MIPART_MONITOR_SERIES_AMD;
		else
			goto bad;
		break;
	case K_TOKEN_FILE:
	case K_TLS_CERT:
	case K_TLS_KEY: {
		char *dst = k == K_TOKEN_FILE ? s->token_file : k == K_TLS_CERT ? s->tls_cert : s->tls_key;

		if (!v[0] || strlen(v) >= sizeof(s->token_file))
			goto bad;
		util_strlcpy(dst, v, sizeof(s->token_file));
		break;
	}
	default:
		if (util_parse_u64(v, strlen(v), &n) < 0 || n < serve_keys[k].min || n > serve_keys[k].max)
			goto bad;
		s->num[k] = (unsigned long)n;
		break;
	}
	s->set |= 1u << k;
	return 0;
bad:
	if (serve_keys[k].expect)
		snprintf(err, size, "expected %s", serve_keys[k].expect);
	else
		snprintf(err, size, "expected a whole number from %lu to %lu", serve_keys[k].min,
			 serve_keys[k].max);
	return -EINVAL;
}

/* The YAML reader's state; err gets "FILE:LINE:COL: message". */
struct config_parser {
	yaml_parser_t yaml;
	yaml_event_t ev;
	bool have_ev;
	unsigned n_events;
	const char *path;
	char *err;
	size_t err_size;
};

static int config_fail(struct config_parser *p, yaml_mark_t m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int config_fail(struct config_parser *p, yaml_mark_t m, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(p->err, p->err_size, "%s:%zu:%zu: ", p->path, m.line + 1, m.column + 1);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < p->err_size)
		vsnprintf(p->err + n, p->err_size - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Next event; refuses aliases, anchors and tags (a small file must not cost much). */
static int config_next(struct config_parser *p)
{
	const char *anchor = NULL, *tag = NULL;

	if (p->have_ev)
		yaml_event_delete(&p->ev);
	p->have_ev = false;
	if (!yaml_parser_parse(&p->yaml, &p->ev)) {
		if (p->yaml.error == YAML_MEMORY_ERROR)
			return -ENOMEM;
		return config_fail(p, p->yaml.problem_mark, "invalid YAML: %s",
				   p->yaml.problem ? p->yaml.problem : "cannot be parsed");
	}
	p->have_ev = true;
	if (++p->n_events > CONFIG_MAX_EVENTS)
		return config_fail(p, p->ev.start_mark, "more than %d YAML nodes",
				   CONFIG_MAX_EVENTS);
	switch (p->ev.type) {
	case YAML_ALIAS_EVENT:
		return config_fail(p, p->ev.start_mark,
				   "YAML aliases are not supported; write the value out");
	case YAML_SCALAR_EVENT:
		anchor = (const char *)p->ev.data.scalar.anchor;
		tag = (const char *)p->ev.data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = (const char *)p->ev.data.sequence_start.anchor;
		tag = (const char *)p->ev.data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = (const char *)p->ev.data.mapping_start.anchor;
		tag = (const char *)p->ev.data.mapping_start.tag;
		break;
	default:
		break;
	}
	if (anchor)
		return config_fail(p, p->ev.start_mark,
				   "YAML anchors are not supported; write the value out");
	if (tag)
		return config_fail(p, p->ev.start_mark, "YAML tags are not supported");
	return 0;
}

static const char *event_what(const yaml_event_t *ev)
{
	return ev->type == YAML_MAPPING_START_EVENT    ? "a mapping"
	       : ev->type == YAML_SEQUENCE_START_EVENT ? "a list"
						       : "nothing";
}

/*
 * Parse a config file's text (len bytes at buf, read from path, for messages) into ret (only
 * the keys it names are set in ret->set). Returns 0, or -errno with err set: a message naming
 * the file, and line and column for what is wrong inside it.
 */
int serve_config_parse(const char *buf, size_t len, const char *path, struct settings *ret,
		       char *err, size_t size)
{
	struct config_parser p = { .path = path, .err = err, .err_size = size };
	struct settings s = { 0 };
	char show[64], why[160];
	int r;

	if (len > CONFIG_MAX_SIZE) {
		snprintf(err, size, "'%s' is larger than %d KiB; a config is far smaller", path,
			 CONFIG_MAX_SIZE / 1024);
		return -EFBIG;
	}
	if (!yaml_parser_initialize(&p.yaml))
		return -ENOMEM;
	yaml_parser_set_input_string(&p.yaml, (const unsigned char *)buf, len);

	r = config_next(&p); /* stream start */
	if (r == 0)
		r = config_next(&p);
	if (r < 0 || p.ev.type == YAML_STREAM_END_EVENT)
		goto out; /* an empty file: no settings */
	r = config_next(&p); /* document start -> its node */
	if (r == 0 && p.ev.type != YAML_MAPPING_START_EVENT)
		r = config_fail(&p, p.ev.start_mark,
				"the file must be a mapping of settings (listen: ..., interval: ...)");
	while (r == 0) {
		enum key k;
		yaml_mark_t at;

		r = config_next(&p);
		if (r < 0 || p.ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (p.ev.type != YAML_SCALAR_EVENT) {
			r = config_fail(&p, p.ev.start_mark, "a key must be a word, not %s",
					event_what(&p.ev));
			break;
		}
		for (k = 0; k < N_KEYS; k++)
			if (!strcmp((const char *)p.ev.data.scalar.value, serve_keys[k].name))
				break;
		util_show((const char *)p.ev.data.scalar.value, p.ev.data.scalar.length, 40, show,
			  sizeof(show));
		if (k == N_KEYS) {
			r = config_fail(&p, p.ev.start_mark,
					"unknown key '%s' (listen, allow-remote, interval, max-connections, "
					"per-ip-connections, timeout, max-header-bytes, max-headers, "
					"max-connection-time, series, token-file, tls-cert, tls-key, "
					"labels-file, labels-interval)",
					show);
			break;
		}
		if (s.set & (1u << k)) {
			r = config_fail(&p, p.ev.start_mark, "'%s' is given twice", serve_keys[k].name);
			break;
		}
		r = config_next(&p);
		if (r < 0)
			break;
		if (p.ev.type != YAML_SCALAR_EVENT) {
			r = config_fail(&p, p.ev.start_mark, "'%s' takes one value, not %s%s",
					serve_keys[k].name, event_what(&p.ev),
					k == K_LISTEN ? " (quote an IPv6 address: \"[::1]:" SERVE_DEFAULT_PORT "\")" : "");
			break;
		}
		at = p.ev.start_mark;
		util_show((const char *)p.ev.data.scalar.value, p.ev.data.scalar.length, 40, show,
			  sizeof(show));
		if (strlen((const char *)p.ev.data.scalar.value) != p.ev.data.scalar.length ||
		    serve_settings_set(&s, k, (const char *)p.ev.data.scalar.value, why, sizeof(why)) < 0) {
			if (strlen((const char *)p.ev.data.scalar.value) != p.ev.data.scalar.length)
				util_strlcpy(why, "a NUL character", sizeof(why));
			r = config_fail(&p, at, "invalid value '%s' for '%s': %s", show, serve_keys[k].name,
					why);
		}
	}
	if (r == 0)
		r = config_next(&p); /* document end */
	if (r == 0)
		r = config_next(&p);
	if (r == 0 && p.ev.type != YAML_STREAM_END_EVENT)
		r = config_fail(&p, p.ev.start_mark, "more than one YAML document");
out:
	if (p.have_ev)
		yaml_event_delete(&p.ev);
	yaml_parser_delete(&p.yaml);
	if (r == -ENOMEM)
		snprintf(err, size, "cannot read '%s': out of memory", path);
	if (r == 0)
		*ret = s;
	return r;
}


int serve_config_read(const char *path, struct settings *ret, char *err, size_t size)
{
	char *buf = malloc(CONFIG_MAX_SIZE + 1);
	ssize_t len;
	int r;

	if (!buf)
		return -ENOMEM;
	len = util_read_file(path, buf, CONFIG_MAX_SIZE);
	if (len < 0) {
		if (len == -EFBIG)
			snprintf(err, size, "'%s' is larger than %d KiB; a config is far smaller", path,
				 CONFIG_MAX_SIZE / 1024);
		else
			snprintf(err, size, "cannot read '%s': %s", path, mipart_strerror((int)len));
		free(buf);
		return (int)len;
	}
	r = serve_config_parse(buf, (size_t)len, path, ret, err, size);
	free(buf);
	return r;
}

/* --- requests -------------------------------------------------------------------------------- */

const char *const serve_ep_paths[SERVE_N_EP] = { "/metrics", "/api/v1/status", "/healthz", "/" };

int serve_route(const struct serve_request *rq, unsigned long max_headers,
		unsigned long max_header_bytes)
{
	bool get = !strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD");

	if (rq->first) {
		/* refused over its headers: answered at once, before any body */
		if (rq->n_headers > max_headers ||
		    rq->header_bytes + strlen(rq->url) > max_header_bytes)
			return SERVE_REFUSE_HEADERS;
		if (rq->bad_length)
			return SERVE_REFUSE_BAD;
		if (rq->unauthorized)
			return SERVE_REFUSE_AUTH;
		if (rq->transfer_encoding || (rq->content_length && strcmp(rq->content_length, "0")))
			return get ? SERVE_REFUSE_BODY : SERVE_REFUSE_METHOD;
		return SERVE_CONTINUE;
	}
	if (rq->upload_size) /* never: a body was refused above */
		return SERVE_DISCARD;
	if (!get)
		return SERVE_REFUSE_METHOD;
	for (unsigned ep = 0; ep < SERVE_N_EP; ep++)
		if (!strcmp(rq->url, serve_ep_paths[ep]))
			return (int)ep;
	return SERVE_REFUSE_NOT_FOUND;
}
