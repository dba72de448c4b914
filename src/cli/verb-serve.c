// SPDX-License-Identifier: MIT
/*
 * mipart serve: the monitoring daemon. An HTTP server (libmicrohttpd, internal epoll threads)
 * answers /metrics (Prometheus text), /api/v1/status (the status JSON) and /healthz from one
 * cached collection of the host (monitor.h): a collection is rendered once into refcounted
 * libmicrohttpd responses (/metrics and /healthz at once, the status JSON and page when first
 * asked for, since most collections serve only Prometheus), and every request within the cache
 * interval queues those, so a burst of scrapes reads sysfs once and a cached scrape costs what
 * a fixed response costs.
 * Requests that find the cache stale while another is collecting wait for that collection
 * (single flight). Every cap an attacker could push on is set: connections, connections per
 * address, idle time, header bytes, header count; bodies are refused. The main thread only
 * waits on a signalfd: SIGHUP re-reads the config file, SIGTERM/SIGINT stop the server. The
 * service manager hears READY/RELOADING/STOPPING through mipart_notify (notify.h).
 *
 * libmicrohttpd is loaded with dlopen() when `serve` starts, not linked: Debian's library
 * pulls in GnuTLS and eight more shared objects whose loading and constructors cost every
 * other mipart command about 5 ms of start-up (docs/serve.md). See docs/serve.md.
 */
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "mipart/error.h"
#include "mipart/labels.h"
#include "mipart/notify.h"
#include "cli.h"
#include "mipart/monitor.h"
#include "monitor.h"
#include "serve-parse.h"
#include "util.h"
#include "banned.h"

#define MHD_LIBRARY "libmicrohttpd.so.12"	/* Debian: libmicrohttpd12 */
#define THREADS 2				/* libmicrohttpd worker threads */
#define POOL_EXTRA 8192				/* per-connection memory beyond the header cap */
#define LOG_BURST 20				/* libmicrohttpd messages per LOG_WINDOW ... */
#define LOG_WINDOW 60.0				/* ... seconds; the rest are counted */
#define WARNINGS_MAX 64				/* snapshot warnings remembered between collections */

/* --- libmicrohttpd, loaded at run time ---------------------------------------------------- */

static struct {
	void *dl;
	__typeof__(MHD_start_daemon) *start_daemon;
	__typeof__(MHD_stop_daemon) *stop_daemon;
	__typeof__(MHD_create_response_from_buffer) *create_response_from_buffer;
	__typeof__(MHD_add_response_header) *add_response_header;
	__typeof__(MHD_queue_response) *queue_response;
	__typeof__(MHD_destroy_response) *destroy_response;
	__typeof__(MHD_get_connection_values) *get_connection_values;
	__typeof__(MHD_lookup_connection_value) *lookup_connection_value;
	__typeof__(MHD_get_version) *get_version;
	__typeof__(MHD_get_connection_info) *get_connection_info;
	__typeof__(MHD_http_unescape) *http_unescape;
	__typeof__(MHD_is_feature_supported) *is_feature_supported;
} mhd;

/* Load the library; reports and returns -ENOENT (not installed) or -ENOSYS (a symbol missing). */
static int mhd_load(void)
{
	void *dl = dlopen(MHD_LIBRARY, RTLD_NOW | RTLD_LOCAL);

	if (!dl) {
		cli_error("cannot load '%s': %s (Debian package libmicrohttpd12)", MHD_LIBRARY,
			  dlerror());
		return -ENOENT;
	}
#define SYM(field, name)                                                                          \
	do {                                                                                      \
		*(void **)&mhd.field = dlsym(dl, #name);                                          \
		if (!mhd.field) {                                                                 \
			cli_error("cannot load '%s': no symbol '%s'", MHD_LIBRARY, #name);        \
			dlclose(dl);                                                              \
			return -ENOSYS;                                                           \
		}                                                                                 \
	} while (0)
	SYM(start_daemon, MHD_start_daemon);
	SYM(stop_daemon, MHD_stop_daemon);
	SYM(create_response_from_buffer, MHD_create_response_from_buffer);
	SYM(add_response_header, MHD_add_response_header);
	SYM(queue_response, MHD_queue_response);
	SYM(destroy_response, MHD_destroy_response);
	SYM(get_connection_values, MHD_get_connection_values);
	SYM(lookup_connection_value, MHD_lookup_connection_value);
	SYM(get_version, MHD_get_version);
	SYM(get_connection_info, MHD_get_connection_info);
	SYM(http_unescape, MHD_http_unescape);
	SYM(is_feature_supported, MHD_is_feature_supported);
#undef SYM
	mhd.dl = dl;
	return 0;
}

#define SECRET_FILE_MAX (64 * 1024) /* bytes of a token, certificate or key file */
#define TOKEN_MIN 16		    /* characters of a bearer token */
#define TOKEN_MAX 4096

/* --- secrets: the bearer token, the TLS certificate and key ---------------------------------- */

/*
 * Read the file at path (at most SECRET_FILE_MAX bytes) into a new string *ret (free()). A
 * private one (a token, a key) that group or others may read is refused, as ssh refuses such a
 * key. 0, or -errno with err set.
 */
static int read_secret(const char *path, bool private, char **ret, char *err, size_t size)
{
	struct stat st;
	char *buf;
	ssize_t n;

	if (stat(path, &st) < 0) {
		int r = -errno;

		snprintf(err, size, "cannot read '%s': %s", path, mipart_strerror(r));
		return r;
	}
	if (private && (st.st_mode & 077)) {
		snprintf(err, size, "'%s' may be read by other users (mode %04o); 'chmod 600' it", path,
			 (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	buf = malloc(SECRET_FILE_MAX + 1);
	if (!buf) {
		snprintf(err, size, "cannot read '%s': out of memory", path);
		return -ENOMEM;
	}
	n = util_read_file(path, buf, SECRET_FILE_MAX);
	if (n < 0) {
		snprintf(err, size, n == -EFBIG ? "'%s' is larger than 64 KiB" : "cannot read '%s': %s",
			 path, mipart_strerror((int)n));
		free(buf);
		return (int)n;
	}
	*ret = buf;
	return 0;
}

/*
 * The bearer token of st's token-file into token (TOKEN_MAX + 1 bytes; "" when there is none):
 * the file's text without one final newline, TOKEN_MIN to TOKEN_MAX characters of RFC 6750's
 * b64token (letters, digits, - . _ ~ + /, then = padding). 0, or -errno with err set.
 */
static int load_token(const struct settings *st, char *token, char *err, size_t size)
{
	char *buf = NULL;
	size_t n, body;
	int r;

	if (!st->token_file[0]) {
		token[0] = '\0';
		return 0;
	}
	r = read_secret(st->token_file, true, &buf, err, size);
	if (r < 0)
		return r;
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (n && buf[n - 1] == '\r')
		buf[--n] = '\0';
	body = strspn(buf, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/");
	if (n < TOKEN_MIN || n > TOKEN_MAX || strspn(buf + body, "=") != n - body || !body) {
		snprintf(err, size, "'%s': a token is %d to %d characters: letters, digits, - . _ ~ + / "
			 "and = at the end (RFC 6750), on one line", st->token_file, TOKEN_MIN, TOKEN_MAX);
		free(buf);
		return -EINVAL;
	}
	memcpy(token, buf, n + 1);
	free(buf);
	return 0;
}

/* --- the server ------------------------------------------------------------------------------ */

/* the endpoints: serve-parse.h */
enum endpoint { EP_METRICS = SERVE_EP_METRICS, EP_STATUS = SERVE_EP_STATUS,
		EP_HEALTH = SERVE_EP_HEALTH, EP_PAGE = SERVE_EP_PAGE, N_EP = SERVE_N_EP };
static const char *const ep_types[N_EP] = {
	"text/plain; version=0.0.4; charset=utf-8",
	"application/json",
	"text/plain; charset=utf-8",
	"text/html; charset=utf-8",
};

/* The status page runs only its own inline script and style and talks only to this server;
 * nothing else loads, even if a name slipped through escaping. */
#define PAGE_CSP                                                                                  \
	"default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "            \
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/* One collection rendered: per endpoint, the response for the request that collected it
 * ("X-Mipart-Cache: miss") and the one for every later request ("hit"). /metrics and /healthz
 * are rendered with the collection; the status JSON and the page from snap when first asked
 * for (NULL until then), by a request holding collect_lock, which keeps the entry alive. */
struct entry {
	struct MHD_Response *resp[N_EP][2];
	unsigned status[N_EP];
	double started;	     /* CLOCK_MONOTONIC seconds; -INFINITY once dropped */
	mipart_monitor *snap; /* the collection (NULL after a failure: everything is rendered) */
	unsigned long long gen; /* which collection of the server's (1 the first) */
};

/* A fixed answer to a request that is refused. */
struct refusal {
	unsigned status;
	const char *body;
	struct MHD_Response *resp;
};

enum { R_NOT_FOUND, R_METHOD, R_BODY, R_HEADERS, R_NOMEM, R_BAD, R_AUTH, N_REFUSALS };

struct server {
	struct cli *cli;
	bool verbose;
	const char *config_path;
	struct settings flags;	 /* what the command line set */
	struct settings running; /* defaults < file < flags, as in force */
	unsigned long pool_header_bytes; /* max-header-bytes at start: sizes the MHD pool */
	char where[96];			 /* "127.0.0.1:10400", the address bound */
	struct MHD_Daemon *daemon;
	struct refusal refusals[N_REFUSALS];

	/* read per request, changed by a reload */
	atomic_ulong max_headers, max_header_bytes, max_connection_time;
	atomic_uint series; /* the families /metrics serves */
	unsigned long per_client; /* per-ip-connections, counted by client_of(); 0: no cap */
	pthread_mutex_t token_lock; /* token: set at start, replaced by a reload */
	char token[TOKEN_MAX + 1];  /* "" when no token-file */
	char *tls_cert_pem, *tls_key_pem; /* NULL without TLS */

	/* every open connection, for the watchdog that ends those open too long (a request sent
	 * or read a byte at a time never trips the idle timeout) */
	pthread_mutex_t conns_lock;
	pthread_cond_t conns_wake;
	struct conn *conns;
	bool watchdog_stop;
	pthread_t watchdog;
	bool watchdog_running;

	pthread_mutex_t lock; /* entry, interval */
	struct entry *entry;
	double interval;

	pthread_mutex_t collect_lock; /* one collection at a time; guards what follows */
	unsigned long long collections, failures;
	int last_error; /* 0 after a good collection */
	char *warnings[WARNINGS_MAX];
	size_t n_warnings;

	pthread_mutex_t log_lock; /* libmicrohttpd's messages: a burst, then counted */
	double log_window;
	unsigned log_lines, log_dropped;

	/* the NFD feature file kept current (labels-file, labels-interval) */
	int labels_wake;	     /* eventfd: stop, or look now (a reload) */
	pthread_mutex_t labels_lock; /* guards the three below */
	bool labels_stop;
	char labels_file[256];	     /* the setting in force ("", "off" or a path) */
	double labels_interval;
	pthread_t labels_thread;
	bool labels_running;
	int labels_error;	     /* the last error said (only the labels thread) */
	bool labels_said_missing;    /* NFD's directory is missing: said once */
	bool labels_said_off;	     /* labels-file off: said once */
};

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One line on stderr ("level: ..." in git's style, no prefix when level is NULL), written with
 * one call so that the lines of threads do not mix. What input put in it (a path from the
 * config, a request's method and path, a process or unit name in a monitor warning) is shown as
 * text: each control character, a newline included (one message, one line: no line can be
 * forged into the journal), and each byte that is not UTF-8 as '?' (util_show). */
static void log_line(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void log_line(const char *level, const char *fmt, ...)
{
	char msg[1024], show[1024], line[1100];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n') /* a message that ends its own line */
		n--;
	util_show(msg, n, sizeof(show) - 5, show, sizeof(show));
	snprintf(line, sizeof(line), "%s%s%s\n", level ? level : "", level ? ": " : "", show);
	fputs(line, stderr);
}

/* libmicrohttpd's own messages (refused connections, bad requests, limits reached). */
static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	struct server *s = cls;
	char msg[512], show[600];
	double now = now_mono();
	unsigned dropped = 0;
	bool print;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0'; /* its messages end in a newline */
	pthread_mutex_lock(&s->log_lock);
	if (now - s->log_window >= LOG_WINDOW) {
		dropped = s->log_dropped;
		s->log_window = now;
		s->log_lines = 0;
		s->log_dropped = 0;
	}
	print = s->log_lines++ < LOG_BURST;
	if (!print)
		s->log_dropped++;
	pthread_mutex_unlock(&s->log_lock);
	if (dropped)
		log_line("warning", "http: %u more messages in the last %.0f s were not shown",
			 dropped, LOG_WINDOW);
	if (print && !s->cli->quiet)
		log_line("warning", "http: %s", util_show(msg, strlen(msg), 400, show, sizeof(show)));
}

static struct MHD_Response *response_new(const char *body, size_t len, enum MHD_ResponseMemoryMode mode,
					 const char *type, const char *cache)
{
	struct MHD_Response *r = mhd.create_response_from_buffer(len, (void *)body, mode);

	if (!r)
		return NULL;
	if (mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES ||
	    (cache && mhd.add_response_header(r, "X-Mipart-Cache", cache) != MHD_YES)) {
		mhd.destroy_response(r);
		return NULL;
	}
	return r;
}

static struct entry *entry_free(struct entry *e)
{
	if (!e)
		return NULL;
	for (unsigned i = 0; i < N_EP; i++)
		for (unsigned h = 0; h < 2; h++)
			if (e->resp[i][h])
				mhd.destroy_response(e->resp[i][h]); /* in-flight requests keep theirs */
	mipart_monitor_free(e->snap);
	free(e);
	return NULL;
}

/* Both responses (miss, hit) of body for endpoint ep into e; the page with its headers. Returns
 * 0 or -ENOMEM (e unchanged). */
static int entry_set(struct entry *e, enum endpoint ep, const char *body, size_t len)
{
	struct MHD_Response *r[2] = { NULL, NULL };

	for (unsigned h = 0; h < 2; h++) {
		r[h] = response_new(body, len, MHD_RESPMEM_MUST_COPY, ep_types[ep], h ? "hit" : "miss");
		if (r[h] && ep == EP_PAGE &&
		    (mhd.add_response_header(r[h], "Content-Security-Policy", PAGE_CSP) != MHD_YES ||
		     mhd.add_response_header(r[h], "X-Content-Type-Options", "nosniff") != MHD_YES)) {
			mhd.destroy_response(r[h]);
			r[h] = NULL;
		}
		if (!r[h]) {
			if (h)
				mhd.destroy_response(r[0]);
			return -ENOMEM;
		}
	}
	e->resp[ep][0] = r[0];
	e->resp[ep][1] = r[1];
	return 0;
}

/* Render the status JSON or the page of a good collection (e->snap) into e. 0 or -ENOMEM. */
static int entry_render(struct entry *e, enum endpoint ep, bool verbose)
{
	char *text = NULL;
	size_t len = 0;
	json_t *j = NULL;
	int r = -ENOMEM;

	if (!e->snap)
		return -ENOMEM;
	if (ep == EP_STATUS) {
		j = monitor_status_json(e->snap);
		text = j ? json_dumps(j, JSON_COMPACT) : NULL;
		len = text ? strlen(text) : 0;
		r = text ? 0 : -ENOMEM;
	} else if (ep == EP_PAGE) {
		r = mipart_monitor_html(e->snap, &text, &len);
	}
	if (r == 0)
		r = entry_set(e, ep, text, len);
	if (r == 0 && verbose)
		log_line(NULL, "rendered %s for collection %llu", ep == EP_PAGE ? "/" : "/api/v1/status",
			 e->gen);
	free(text);
	json_decref(j);
	return r;
}

/* Log the snapshot's warnings that the previous collection did not have. */
static void log_new_warnings(struct server *s, const mipart_monitor *snap)
{
	char *now[WARNINGS_MAX];
	size_t n = 0;

	for (size_t i = 0; snap && i < mipart_monitor_warning_count(snap) && n < WARNINGS_MAX; i++) {
		const char *w = mipart_monitor_warning(snap, i);
		bool seen = false;

		if (!w)
			continue;
		for (size_t k = 0; k < s->n_warnings && !seen; k++)
			seen = !strcmp(s->warnings[k], w);
		if (!seen && !s->cli->quiet)
			log_line("warning", "%s", w);
		now[n] = strdup(w);
		if (now[n])
			n++;
	}
	for (size_t k = 0; k < s->n_warnings; k++)
		free(s->warnings[k]);
	memcpy(s->warnings, now, n * sizeof(*now));
	s->n_warnings = n;
}

/* The server's own metrics, appended to the monitor's: about the collection behind them. */
static int exporter_metrics(struct server *s, bool ok, double seconds, double wall, double interval,
			    char *buf, size_t size)
{
	return snprintf(buf, size,
		"# HELP mipart_exporter_collections_total Collections of the host's state since the exporter started.\n"
		"# TYPE mipart_exporter_collections_total counter\n"
		"mipart_exporter_collections_total %llu\n"
		"# HELP mipart_exporter_collection_failures_total Collections that could not read the host.\n"
		"# TYPE mipart_exporter_collection_failures_total counter\n"
		"mipart_exporter_collection_failures_total %llu\n"
		"# HELP mipart_exporter_last_collect_success Whether the collection behind this response worked.\n"
		"# TYPE mipart_exporter_last_collect_success gauge\n"
		"mipart_exporter_last_collect_success %d\n"
		"# HELP mipart_exporter_collect_seconds How long the collection behind this response took.\n"
		"# TYPE mipart_exporter_collect_seconds gauge\n"
		"mipart_exporter_collect_seconds %.6f\n"
		"# HELP mipart_exporter_collected_timestamp_seconds When the collection behind this response started (Unix time).\n"
		"# TYPE mipart_exporter_collected_timestamp_seconds gauge\n"
		"mipart_exporter_collected_timestamp_seconds %.3f\n"
		"# HELP mipart_exporter_cache_interval_seconds How long one collection answers requests (--interval).\n"
		"# TYPE mipart_exporter_cache_interval_seconds gauge\n"
		"mipart_exporter_cache_interval_seconds %g\n",
		s->collections, s->failures, ok, seconds, wall, interval);
}

/*
 * Collect the host once and render /metrics and /healthz, and `want` too when it is the status
 * JSON or the page (the request that collects asked for it); the others are rendered from the
 * snapshot when first asked for (entry_render). After a failure everything is rendered (short
 * texts). Runs under collect_lock. NULL when memory ran out (the caller answers 500).
 */
static struct entry *collect(struct server *s, double interval, enum endpoint want)
{
	struct entry *e = calloc(1, sizeof(*e));
	mipart_monitor *snap = NULL;
	char *text = NULL, *metrics = NULL, health[512], extra[4096];
	size_t len = 0, mlen = 0;
	struct timespec wall;
	double t0, seconds;
	bool complete;
	int r, n;

	if (!e)
		return NULL;
	clock_gettime(CLOCK_REALTIME, &wall);
	t0 = e->started = now_mono();
	r = mipart_monitor_collect(s->cli->host, &snap);
	if (r == 0)
		r = mipart_monitor_prometheus(snap, atomic_load(&s->series), &text, &len);
	seconds = now_mono() - t0;
	e->gen = ++s->collections;
	if (r < 0) {
		s->failures++;
		if (r != s->last_error)
			log_line("error", "cannot collect the state of the host under '%s/': %s",
				 mipart_host_root(s->cli->host), mipart_strerror(r));
		free(text);
		text = NULL;
		len = 0;
	} else if (s->last_error) {
		log_line(NULL, "collecting the state of the host works again");
	}
	s->last_error = r;
	log_new_warnings(s, r == 0 ? snap : NULL);

	/* /metrics: the monitor's text (empty after a failure), then the exporter's */
	n = exporter_metrics(s, r == 0, seconds, (double)wall.tv_sec + (double)wall.tv_nsec / 1e9,
			     interval, extra, sizeof(extra));
	if (n < 0 || (size_t)n >= sizeof(extra))
		n = 0; /* never: the text is fixed but for a few numbers */
	metrics = malloc(len + 1 + (size_t)n + 1);
	if (metrics) {
		mlen = len;
		memcpy(metrics, text ? text : "", len);
		if (mlen && metrics[mlen - 1] != '\n')
			metrics[mlen++] = '\n';
		memcpy(metrics + mlen, extra, (size_t)n + 1);
		mlen += (size_t)n;
	}
	if (r == 0)
		snprintf(health, sizeof(health), "ok\n");
	else
		snprintf(health, sizeof(health), "cannot collect the state of the host: %s\n",
			 mipart_strerror(r));
	e->status[EP_METRICS] = MHD_HTTP_OK;
	e->status[EP_STATUS] = r == 0 ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;
	e->status[EP_HEALTH] = r == 0 ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;
	e->status[EP_PAGE] = r == 0 ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;
	complete = metrics && entry_set(e, EP_METRICS, metrics, mlen) == 0 &&
		   entry_set(e, EP_HEALTH, health, strlen(health)) == 0;
	if (r == 0) {
		e->snap = snap;
		snap = NULL;
		if (complete && (want == EP_STATUS || want == EP_PAGE))
			complete = entry_render(e, want, s->verbose) == 0;
	} else if (complete) {
		/* /api/v1/status and the page: what went wrong */
		json_t *o = json_pack("{s:s, s:s}", "error", "cannot collect the state of the host",
				      "reason", mipart_strerror(r));
		char *json = o ? json_dumps(o, JSON_COMPACT) : NULL, page[1024];
		int n2 = snprintf(page, sizeof(page),
				  "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
				  "<title>mipart</title></head><body><h1>mipart</h1><p role=\"alert\">"
				  "cannot collect the state of the host: %s</p></body></html>\n",
				  mipart_strerror(r));

		complete = json && n2 > 0 && (size_t)n2 < sizeof(page) &&
			   entry_set(e, EP_STATUS, json, strlen(json)) == 0 &&
			   entry_set(e, EP_PAGE, page, (size_t)n2) == 0;
		free(json);
		json_decref(o);
	}
	if (!complete)
		e = entry_free(e);
	free(metrics);
	free(text);
	mipart_monitor_free(snap);
	return e;
}

/* Whether the cached entry answers a request that arrived at `arrival`. Under s->lock. */
static bool entry_usable(const struct server *s, double arrival)
{
	const struct entry *e = s->entry;

	return e && (e->started >= arrival || arrival - e->started < s->interval);
}

static enum MHD_Result reply(struct server *s, struct MHD_Connection *c, const char *method,
			     const char *url, unsigned status, struct MHD_Response *r, const char *how)
{
	char show[128];

	if (s->verbose)
		log_line(NULL, "%s %s %u%s%s", method,
			 util_show(url, strlen(url), 100, show, sizeof(show)), status, how ? " " : "",
			 how ? how : "");
	return mhd.queue_response(c, status, r);
}

static enum MHD_Result refuse(struct server *s, struct MHD_Connection *c, const char *method,
			      const char *url, unsigned which)
{
	const struct refusal *f = &s->refusals[which];

	return reply(s, c, method, url, f->status, f->resp, NULL);
}

/* Answer ep from the cache, collecting first when it is stale (one collector at a time); the
 * status JSON and the page of a cached collection are rendered by their first request. */
static enum MHD_Result serve_cached(struct server *s, struct MHD_Connection *c, enum endpoint ep,
				    const char *method, const char *url)
{
	double arrival = now_mono(), interval;
	struct entry *old = NULL, *e;
	enum MHD_Result r;

	pthread_mutex_lock(&s->lock);
	if (entry_usable(s, arrival) && s->entry->resp[ep][1]) {
		e = s->entry;
		r = reply(s, c, method, url, e->status[ep], e->resp[ep][1], "hit");
		pthread_mutex_unlock(&s->lock);
		return r;
	}
	pthread_mutex_unlock(&s->lock);

	pthread_mutex_lock(&s->collect_lock);
	pthread_mutex_lock(&s->lock);
	if (entry_usable(s, arrival)) { /* collected while this request waited, or not rendered */
		e = s->entry;
		if (!e->resp[ep][1]) {
			/* s->entry is replaced only under collect_lock, which this thread holds:
			 * e stays alive while it is rendered without s->lock (cached scrapes go on) */
			pthread_mutex_unlock(&s->lock);
			struct entry fresh = { .snap = e->snap, .gen = e->gen };
			int rr = entry_render(&fresh, ep, s->verbose);

			pthread_mutex_lock(&s->lock);
			if (rr == 0) {
				e->resp[ep][0] = fresh.resp[ep][0];
				e->resp[ep][1] = fresh.resp[ep][1];
			}
			/* both rendered: the snapshot is not needed any more */
			if (e->resp[EP_STATUS][1] && e->resp[EP_PAGE][1])
				e->snap = mipart_monitor_free(e->snap);
		}
		r = e->resp[ep][1] ? reply(s, c, method, url, e->status[ep], e->resp[ep][1], "hit")
				   : refuse(s, c, method, url, R_NOMEM);
		pthread_mutex_unlock(&s->lock);
		pthread_mutex_unlock(&s->collect_lock);
		return r;
	}
	interval = s->interval;
	pthread_mutex_unlock(&s->lock);

	e = collect(s, interval, ep);

	pthread_mutex_lock(&s->lock);
	if (e) {
		old = s->entry;
		s->entry = e;
		r = reply(s, c, method, url, e->status[ep], e->resp[ep][0], "miss");
	} else {
		r = refuse(s, c, method, url, R_NOMEM);
	}
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_unlock(&s->collect_lock);
	entry_free(old); /* unreachable now; MHD holds its own references while sending */
	return r;
}

struct header_tally {
	unsigned long n, bytes;
	unsigned content_lengths; /* Content-Length headers */
	bool bad_length;	  /* one that is not digits, or two that differ */
	const char *first_length;
};

static enum MHD_Result tally_header(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	struct header_tally *t = cls;

	(void)kind;
	t->n++;
	t->bytes += strlen(key) + (value ? strlen(value) : 0) + 4; /* ": " and CRLF */
	/* RFC 9112 6.3: several Content-Length values that differ, or one that is not a number,
	 * make the message's framing unknowable (request smuggling): 400 */
	if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
		if (!value || !value[0] || strspn(value, "0123456789") != strlen(value) ||
		    (t->content_lengths && strcmp(value, t->first_length)))
			t->bad_length = true;
		if (!t->content_lengths++)
			t->first_length = value;
	}
	return MHD_YES;
}

/* --- connection age ------------------------------------------------------------------------ */

struct conn {
	struct conn *prev, *next;
	int fd;
	double start;
	bool cut;
	char client[64]; /* who it counts against: "uid N" (loopback) or the address */
};

/*
 * The uid that owns the socket at the other end of a loopback TCP connection fd (peer is the
 * address accept() gave): the kernel's socket diagnostics, asked for that one socket by its
 * 4-tuple (net/ipv4/inet_diag.c: inet_diag_find_one_icsk, which looks it up as a packet from
 * idiag_dst:idiag_dport to idiag_src:idiag_sport would be; the answer's inet_diag_msg carries
 * idiag_uid; no privilege needed, as for /proc/net/tcp). -1 when it cannot be told (no
 * netlink in the sandbox, the peer gone): the caller then counts by address.
 */
static long peer_uid(int fd, const struct sockaddr *peer)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req;
	struct sockaddr_storage local;
	socklen_t ll = sizeof(local);
	union {
		struct nlmsghdr h;
		char buf[1024];
	} ans;
	struct timeval tv = { .tv_sec = 1 };
	long uid = -1;
	ssize_t n;
	int nl;

	if (getsockname(fd, (struct sockaddr *)&local, &ll) < 0 || local.ss_family != peer->sa_family)
		return -1;
	memset(&req, 0, sizeof(req));
	req.nlh.nlmsg_len = sizeof(req);
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST;
	req.r.sdiag_family = (__u8)peer->sa_family;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = ~0u;
	req.r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	req.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (peer->sa_family == AF_INET) {
		const struct sockaddr_in *p = (const struct sockaddr_in *)peer;
		const struct sockaddr_in *l = (const struct sockaddr_in *)&local;

		req.r.id.idiag_sport = p->sin_port;
		req.r.id.idiag_dport = l->sin_port;
		memcpy(req.r.id.idiag_src, &p->sin_addr, 4);
		memcpy(req.r.id.idiag_dst, &l->sin_addr, 4);
	} else if (peer->sa_family == AF_INET6) {
		const struct sockaddr_in6 *p = (const struct sockaddr_in6 *)peer;
		const struct sockaddr_in6 *l = (const struct sockaddr_in6 *)&local;

		req.r.id.idiag_sport = p->sin6_port;
		req.r.id.idiag_dport = l->sin6_port;
		memcpy(req.r.id.idiag_src, &p->sin6_addr, 16);
		memcpy(req.r.id.idiag_dst, &l->sin6_addr, 16);
	} else {
		return -1;
	}
	nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		return -1;
	if (setsockopt(nl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0 &&
	    send(nl, &req, sizeof(req), 0) == (ssize_t)sizeof(req)) {
		n = recv(nl, &ans, sizeof(ans), 0);
		if (n > 0 && NLMSG_OK(&ans.h, (size_t)n) && ans.h.nlmsg_type == SOCK_DIAG_BY_FAMILY &&
		    ans.h.nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
			uid = (long)((const struct inet_diag_msg *)NLMSG_DATA(&ans.h))->idiag_uid;
	}
	close(nl);
	return uid;
}

/*
 * Who a connection counts against for per-ip-connections, in client (64 bytes). Every local
 * process connects from 127.0.0.1, so an address would make all local users one client, and one
 * user's idle connections would lock out the node's Prometheus agent: a loopback peer is
 * counted by its uid ("uid 1000"). Any other peer by its address.
 */
static void client_of(int fd, const struct sockaddr *addr, char *client, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";
	long uid = serve_is_loopback(addr) ? peer_uid(fd, addr) : -1;

	if (uid >= 0) {
		snprintf(client, size, "uid %ld", uid);
		return;
	}
	if (addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, host, sizeof(host));
	else if (addr->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)addr)->sin6_addr, host, sizeof(host));
	snprintf(client, size, "%s", host);
}

/* mhd_logger with a format of ours */
static void log_limited(struct server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* MHD_OPTION_NOTIFY_CONNECTION: keep the list of open connections. libmicrohttpd calls CLOSED
 * before it closes the socket (connection.c: MHD_connection_close_), so a socket the watchdog
 * finds in the list under the lock is still this connection's. */
static void log_limited(struct server *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mhd_logger(s, fmt, ap);
	va_end(ap);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct server *s = cls;
	struct conn *k = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *info =
			mhd.get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		const union MHD_ConnectionInfo *addr =
			mhd.get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		unsigned long same = 0;

		k = calloc(1, sizeof(*k));
		if (!k || !info) {
			free(k); /* not watched: the idle timeout and the limits still hold */
			return;
		}
		k->fd = info->connect_fd;
		k->start = now_mono();
		if (addr && addr->client_addr)
			client_of(k->fd, addr->client_addr, k->client, sizeof(k->client));
		pthread_mutex_lock(&s->conns_lock);
		for (const struct conn *o = s->conns; o && k->client[0]; o = o->next)
			same += !o->cut && !strcmp(o->client, k->client);
		/* per-ip-connections: this client has its share open already; closed at once */
		if (s->per_client && same >= s->per_client) {
			shutdown(k->fd, SHUT_RDWR);
			k->cut = true;
		}
		k->next = s->conns;
		if (s->conns)
			s->conns->prev = k;
		s->conns = k;
		pthread_mutex_unlock(&s->conns_lock);
		*socket_context = k;
		if (k->cut)
			log_limited(s, "closed a connection from %s: it has %lu open (per-ip-connections)\n",
				    k->client, same);
		return;
	}
	if (code != MHD_CONNECTION_NOTIFY_CLOSED || !k)
		return;
	pthread_mutex_lock(&s->conns_lock);
	if (k->prev)
		k->prev->next = k->next;
	else
		s->conns = k->next;
	if (k->next)
		k->next->prev = k->prev;
	pthread_mutex_unlock(&s->conns_lock);
	free(k);
	*socket_context = NULL;
}

/* Once a second: shut down the sockets of connections open longer than max-connection-time;
 * libmicrohttpd sees the end of the stream and closes them. A scraper reconnects. */
static void *watchdog(void *arg)
{
	struct server *s = arg;
	unsigned cut = 0;

	pthread_mutex_lock(&s->conns_lock);
	while (!s->watchdog_stop) {
		double now = now_mono(), max = (double)atomic_load(&s->max_connection_time);
		struct timespec until;

		for (struct conn *k = s->conns; k; k = k->next)
			if (!k->cut && now - k->start > max) {
				shutdown(k->fd, SHUT_RDWR);
				k->cut = true;
				cut++;
			}
		if (cut) {
			pthread_mutex_unlock(&s->conns_lock);
			log_line("warning", "closed %u connection%s open longer than %g s (max-connection-time)",
				 cut, cut == 1 ? "" : "s", max);
			pthread_mutex_lock(&s->conns_lock);
			cut = 0;
		}
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&s->conns_wake, &s->conns_lock, &until);
	}
	pthread_mutex_unlock(&s->conns_lock);
	return NULL;
}

/* MHD_OPTION_UNESCAPE_CALLBACK: "%00" would decode to a NUL that cuts the path
 * ("/metrics%00.html" would be served as "/metrics"); such a path becomes "\001", which no
 * decoded path starts with, and is refused with 400. Anything else is decoded as libmicrohttpd
 * does by default (MHD_http_unescape). */
static size_t unescape(void *cls, struct MHD_Connection *c, char *uri)
{
	(void)cls;
	(void)c;
	for (const char *p = strchr(uri, '%'); p; p = strchr(p + 1, '%'))
		if (p[1] == '0' && p[2] == '0') {
			uri[0] = '\001';
			uri[1] = '\0';
			return 1;
		}
	return mhd.http_unescape(uri);
}

/* Whether the request carries the bearer token (or none is required). The comparison takes the
 * same time wherever the first difference is. */
static bool authorized(struct server *s, struct MHD_Connection *c)
{
	const char *h;
	unsigned char diff = 0;
	size_t n, tn;
	bool ok;

	pthread_mutex_lock(&s->token_lock);
	tn = strlen(s->token);
	if (!tn) {
		pthread_mutex_unlock(&s->token_lock);
		return true;
	}
	h = mhd.lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (!h || strncasecmp(h, "Bearer ", 7)) {
		pthread_mutex_unlock(&s->token_lock);
		return false;
	}
	h += 7;
	n = strlen(h);
	for (size_t i = 0; i < tn; i++)
		diff |= (unsigned char)(s->token[i] ^ (i < n ? h[i] : 0));
	ok = diff == 0 && n == tn;
	pthread_mutex_unlock(&s->token_lock);
	return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req_cls)
{
	struct server *s = cls;
	struct header_tally t = { 0 };
	struct serve_request rq = { .method = method, .url = url, .first = !*req_cls,
				    .upload_size = *upload_size };
	int d;

	/*
	 * The first call comes when the headers are in. A response queued now makes libmicrohttpd
	 * skip the body and close the connection afterwards (connection.c, MHD_queue_response:
	 * "response was queued early"): right for what is refused over its headers or body, wrong
	 * for the good requests of a scraper that keeps its connection; those are answered on the
	 * second call, which comes at once when there is no body. serve_route decides
	 * (serve-parse.c).
	 */
	if (rq.first) {
		*req_cls = s;
		mhd.get_connection_values(c, MHD_HEADER_KIND, tally_header, &t);
		rq.n_headers = t.n;
		rq.header_bytes = t.bytes;
		rq.content_length = mhd.lookup_connection_value(c, MHD_HEADER_KIND,
								MHD_HTTP_HEADER_CONTENT_LENGTH);
		rq.transfer_encoding = mhd.lookup_connection_value(c, MHD_HEADER_KIND,
								   MHD_HTTP_HEADER_TRANSFER_ENCODING);
		rq.bad_length = t.bad_length || url[0] == '\001';
		rq.unauthorized = !authorized(s, c);
	}
	d = serve_route(&rq, atomic_load_explicit(&s->max_headers, memory_order_relaxed),
			atomic_load_explicit(&s->max_header_bytes, memory_order_relaxed));
	switch (d) {
	case SERVE_CONTINUE:
		return MHD_YES;
	case SERVE_DISCARD:
		*upload_size = 0;
		return MHD_YES;
	case SERVE_REFUSE_HEADERS:
		return refuse(s, c, method, url, R_HEADERS);
	case SERVE_REFUSE_BODY:
		return refuse(s, c, method, url, R_BODY);
	case SERVE_REFUSE_METHOD:
		return refuse(s, c, method, url, R_METHOD);
	case SERVE_REFUSE_NOT_FOUND:
		return refuse(s, c, method, url, R_NOT_FOUND);
	case SERVE_REFUSE_BAD:
		return refuse(s, c, method, url, R_BAD);
	case SERVE_REFUSE_AUTH:
		return refuse(s, c, method, url, R_AUTH);
	default:
		return serve_cached(s, c, (enum endpoint)d, method, url);
	}
}

static int refusals_init(struct server *s)
{
	static const struct {
		unsigned status;
		const char *body;
	} fixed[N_REFUSALS] = {
		[R_NOT_FOUND] = { MHD_HTTP_NOT_FOUND, "not found: try /, /metrics, /api/v1/status or /healthz\n" },
		[R_METHOD] = { MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed: only GET and HEAD\n" },
		[R_BODY] = { MHD_HTTP_CONTENT_TOO_LARGE, "request bodies are not accepted\n" },
		[R_HEADERS] = { MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE, "too many or too large headers\n" },
		[R_NOMEM] = { MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n" },
		[R_BAD] = { MHD_HTTP_BAD_REQUEST,
			    "bad request: conflicting or malformed Content-Length, or a NUL (%00) in the path\n" },
		[R_AUTH] = { MHD_HTTP_UNAUTHORIZED, "unauthorized: send 'Authorization: Bearer TOKEN'\n" },
	};

	for (unsigned i = 0; i < N_REFUSALS; i++) {
		struct refusal *f = &s->refusals[i];

		f->status = fixed[i].status;
		f->body = fixed[i].body;
		f->resp = response_new(f->body, strlen(f->body), MHD_RESPMEM_PERSISTENT,
				       "text/plain; charset=utf-8", NULL);
		if (!f->resp)
			return -ENOMEM;
		if (i == R_METHOD && mhd.add_response_header(f->resp, MHD_HTTP_HEADER_ALLOW,
							     "GET, HEAD") != MHD_YES)
			return -ENOMEM;
		/* RFC 6750 3: a 401 names the scheme */
		if (i == R_AUTH && mhd.add_response_header(f->resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
							   "Bearer realm=\"mipart serve\"") != MHD_YES)
			return -ENOMEM;
	}
	return 0;
}

/* A listening TCP socket at addr; reports and returns -errno. */
static int listen_on(const struct settings *st, char *where, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	bool lo;
	char host[INET6_ADDRSTRLEN];
	int fd, one = 1, r;

	serve_parse_listen(st->listen, &ss, &sl, &lo); /* checked before */
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 128) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		goto fail;
	if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		snprintf(where, size, "[%s]:%u", host, ntohs(a->sin6_port));
	} else {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		snprintf(where, size, "%s:%u", host, ntohs(a->sin_port));
	}
	return fd;
fail:
	r = -errno;
	/* strerror: mipart_strerror gives EADDRINUSE a ledger meaning (error.h) */
	cli_error("cannot listen on '%s': %s", st->listen, util_strerror(errno));
	if (fd >= 0)
		close(fd);
	return r;
}

static void notify(const char *state)
{
	int r = mipart_notify(state);

	if (r < 0)
		log_line("warning", "cannot notify the service manager at '%s': %s",
			 getenv("NOTIFY_SOCKET"), mipart_strerror(r));
}

/* --- the NFD feature file -------------------------------------------------------------------- */

/*
 * Bring the feature file up to date (labels.h: mipart_labels_sync writes only when what it says
 * changed, so an unchanged host leaves the file and its mtime alone; where the file goes, NFD's
 * features.d or the path of 'labels-file', is the library's rule). Runs under collect_lock: the
 * library reads the host one collection at a time. Returns true when a change was running
 * (nothing read).
 */
static bool labels_refresh(struct server *s, const char *setting)
{
	mipart_labels_options o = { .path = setting[0] ? setting : NULL };
	mipart_labels_result res = { .path = "" };
	int r;

	if (!strcmp(setting, "off")) {
		if (!s->labels_said_off && !s->cli->quiet)
			log_line(NULL, "labels: off (labels-file): the feature file is not written");
		s->labels_said_off = true;
		return false;
	}
	s->labels_said_off = false;
	pthread_mutex_lock(&s->collect_lock);
	r = mipart_labels_sync(s->cli->host, &o, &res);
	pthread_mutex_unlock(&s->collect_lock);
	if (r == -EBUSY) {
		/* a change is running: looked at again soon (labels_loop) */
		if (s->verbose)
			log_line(NULL, "labels: a change is running; looking again at the next look");
		return true;
	}
	if (r < 0 && res.nfd_missing) {
		if (!s->labels_said_missing && !s->cli->quiet)
			log_line(NULL, "labels: '%s' is not written: Node Feature Discovery's features.d "
				 "directory is missing (NFD makes it); 'labels-file' names another", res.path);
		s->labels_said_missing = true;
		return false;
	}
	s->labels_said_missing = false;
	if (r < 0) {
		if (r != s->labels_error)
			log_line("error", "labels: cannot update '%s': %s", res.path[0] ? res.path : setting,
				 mipart_strerror(r));
		s->labels_error = r;
		return false;
	}
	if (s->labels_error)
		log_line(NULL, "labels: updating '%s' works again", res.path);
	s->labels_error = 0;
	if (r == 1 && !s->cli->quiet)
		log_line(NULL, "labels: wrote %zu labels to '%s'", res.count, res.path);
	else if (r == 0 && s->verbose)
		log_line(NULL, "labels: '%s' is current", res.path);
	return false;
}

#define LABELS_BUSY_RETRY 1.0 /* s: the next look while a change runs */
#define LABELS_EVENT_GAP 0.2  /* s: the least time from one look to the next that events ask for */

/* Wake the labels thread (to stop, or to look now). */
static void labels_poke(struct server *s)
{
	uint64_t one = 1;

	(void)!write(s->labels_wake, &one, sizeof(one));
}

/*
 * The labels thread: a look at the host at once, then whenever the ledger, the declared state
 * or the host lock changes (mipart_labels_watcher: an allocation, the end of a change; their
 * directories followed when they are made after serve started), after a
 * reload, and every labels-interval seconds for what no file tells (a mode changed by another
 * tool). Bursts of events (SQLite writes its log in several steps) are read and answered with
 * one look; a look that finds nothing new writes nothing. Each read of the watch handles a
 * bounded number of events (MIPART_LABELS_WATCH_EVENTS_MAX) and the wait goes round, so a
 * steady stream of events (files made in a loop in a watched directory) leaves the stop, a
 * reload and the timed look their turn; the looks events ask for are at least
 * LABELS_EVENT_GAP apart: what comes meanwhile stays queued in the kernel (the watch is not
 * polled) and is answered by one look at the end of the gap.
 */
static void *labels_loop(void *arg)
{
	struct server *s = arg;
	mipart_labels_watcher *watcher = NULL;
	int watch = mipart_labels_watcher_new(s->cli->host, &watcher) < 0 ? -1 : mipart_labels_watcher_fd(watcher);

	for (;;) {
		char setting[sizeof(s->labels_file)];
		struct pollfd pf[2] = { { .fd = s->labels_wake, .events = POLLIN },
					{ .fd = watch, .events = POLLIN } };
		bool pending = false; /* events asked for a look: made at the end of the gap */
		double secs, looked;
		uint64_t v;

		pthread_mutex_lock(&s->labels_lock);
		if (s->labels_stop) {
			pthread_mutex_unlock(&s->labels_lock);
			break;
		}
		memcpy(setting, s->labels_file, sizeof(setting));
		secs = s->labels_interval;
		pthread_mutex_unlock(&s->labels_lock);
		/* a change running: looked at again within LABELS_BUSY_RETRY s (the end of a
		 * change is a close of the lock, which the watch sees; the retry does not depend
		 * on it) */
		if (labels_refresh(s, setting) && secs > LABELS_BUSY_RETRY)
			secs = LABELS_BUSY_RETRY;
		looked = now_mono();
		/* events that tell nothing (the look's own read of the ledger touches SQLite's
		 * shared-memory file) are read and the wait goes on to the same end */
		for (double end = looked + secs;;) {
			double until = pending && looked + LABELS_EVENT_GAP < end ? looked + LABELS_EVENT_GAP : end;
			double left = until - now_mono();

			pf[0].revents = pf[1].revents = 0;
			if (left <= 0 ||
			    poll(pf, watch >= 0 && !pending ? 2 : 1, (int)(left * 1000.0 + 0.5)) <= 0)
				break;
			if (pf[0].revents) {
				(void)!read(s->labels_wake, &v, sizeof(v));
				break;
			}
			if (pf[1].revents && mipart_labels_watcher_read(watcher) > 0)
				pending = true;
			if (pending && now_mono() >= looked + LABELS_EVENT_GAP)
				break;
		}
	}
	mipart_labels_watcher_free(watcher);
	return NULL;
}

static void labels_stop(struct server *s)
{
	if (!s->labels_running)
		return;
	pthread_mutex_lock(&s->labels_lock);
	s->labels_stop = true;
	pthread_mutex_unlock(&s->labels_lock);
	labels_poke(s);
	pthread_join(s->labels_thread, NULL);
	s->labels_running = false;
}

/* SIGHUP: read the config file again; apply what can change live, say what needs a restart. */
static void reload(struct server *s)
{
	struct settings n, file;
	char err[512], state[128];
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(state, sizeof(state), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000);
	notify(state);
	serve_settings_defaults(&n);
	if (s->config_path) {
		if (serve_config_read(s->config_path, &file, err, sizeof(err)) < 0) {
			log_line("error", "cannot reload: %s; the settings in force stay", err);
			goto done;
		}
		serve_settings_merge(&n, &file);
	}
	serve_settings_merge(&n, &s->flags);
	if (strcmp(n.listen, s->running.listen))
		log_line("warning", "'listen' changed to '%s': takes effect after a restart", n.listen);
	if (n.allow_remote != s->running.allow_remote)
		log_line("warning", "'allow-remote' changed: takes effect after a restart");
	if (strcmp(n.tls_cert, s->running.tls_cert) || strcmp(n.tls_key, s->running.tls_key))
		log_line("warning", "'tls-cert' or 'tls-key' changed: takes effect after a restart");
	{
		/* the token file is read again: a rotated token applies at once */
		char *token = malloc(TOKEN_MAX + 1);

		if (!token || load_token(&n, token, err, sizeof(err)) < 0) {
			log_line("error", "cannot reload the token: %s; the token in force stays",
				 token ? err : "out of memory");
		} else {
			pthread_mutex_lock(&s->token_lock);
			memcpy(s->token, token, strlen(token) + 1);
			pthread_mutex_unlock(&s->token_lock);
			memcpy(s->running.token_file, n.token_file, sizeof(n.token_file));
		}
		if (token)
			explicit_bzero(token, TOKEN_MAX + 1);
		free(token);
	}
	for (unsigned k = K_MAX_CONNECTIONS; k <= K_TIMEOUT; k++)
		if (n.num[k] != s->running.num[k])
			log_line("warning", "'%s' changed to %lu: takes effect after a restart",
				 serve_keys[k].name, n.num[k]);
	if (n.num[K_MAX_HEADER_BYTES] > s->pool_header_bytes)
		log_line("warning", "'max-header-bytes' above %lu takes effect after a restart",
			 s->pool_header_bytes);
	/* live: the cache interval and the header caps */
	atomic_store(&s->max_headers, n.num[K_MAX_HEADERS]);
	atomic_store(&s->max_header_bytes, n.num[K_MAX_HEADER_BYTES]);
	atomic_store(&s->max_connection_time, n.num[K_MAX_CONNECTION_TIME]);
	atomic_store(&s->series, n.series);
	pthread_mutex_lock(&s->labels_lock);
	if (strcmp(n.labels_file, s->labels_file))
		log_line(NULL, "'labels-file' is now '%s'", n.labels_file[0] ? n.labels_file : "(NFD's)");
	memcpy(s->labels_file, n.labels_file, sizeof(s->labels_file));
	s->labels_interval = n.labels_interval;
	pthread_mutex_unlock(&s->labels_lock);
	labels_poke(s); /* a look at once: the reload may have been for it */
	s->running.labels_interval = n.labels_interval;
	memcpy(s->running.labels_file, n.labels_file, sizeof(s->running.labels_file));
	pthread_mutex_lock(&s->lock);
	s->interval = n.interval;
	pthread_mutex_unlock(&s->lock);
	/* restart-only keys keep their running values, so the next reload compares to them */
	s->running.interval = n.interval;
	s->running.num[K_MAX_HEADERS] = n.num[K_MAX_HEADERS];
	s->running.num[K_MAX_HEADER_BYTES] = n.num[K_MAX_HEADER_BYTES];
	s->running.num[K_MAX_CONNECTION_TIME] = n.num[K_MAX_CONNECTION_TIME];
	s->running.series = n.series;
	log_line(NULL, "reloaded%s%s: interval %g s, max-headers %lu, max-header-bytes %lu",
		 s->config_path ? " " : "", s->config_path ? s->config_path : "", n.interval,
		 n.num[K_MAX_HEADERS], n.num[K_MAX_HEADER_BYTES]);
done:
	pthread_mutex_lock(&s->lock);
	if (s->entry)
		s->entry->started = -INFINITY; /* the next request collects */
	pthread_mutex_unlock(&s->lock);
	snprintf(state, sizeof(state), "READY=1\nSTATUS=listening on %s", s->where);
	notify(state);
}

/* Wait for signals until SIGTERM or SIGINT. 0, or -errno when the signalfd fails. */
static int signal_loop(struct server *s, int sfd)
{
	for (;;) {
		struct signalfd_siginfo si;
		ssize_t n = read(sfd, &si, sizeof(si));

		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(si))
			return n < 0 ? -errno : -EIO;
		if (si.ssi_signo == SIGHUP) {
			reload(s);
			continue;
		}
		log_line(NULL, "stopping (%s)", si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
		return 0;
	}
}

static int run(struct server *s)
{
	struct MHD_OptionItem tls[3] = { { MHD_OPTION_END, 0, NULL }, { MHD_OPTION_END, 0, NULL },
					 { MHD_OPTION_END, 0, NULL } };
	const struct settings *st = &s->running;
	sigset_t mask, old;
	int fd = -1, sfd = -1, r = EXIT_FAIL;
	char state[160];
	struct entry *e;

	if (mhd_load() < 0)
		return EXIT_FAIL;
	if (s->tls_cert_pem && mhd.is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		cli_error("cannot serve TLS: libmicrohttpd %s was built without it", mhd.get_version());
		return EXIT_FAIL;
	}
	/* the workers inherit the mask: signals reach the signalfd only */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, &old);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		cli_error("cannot create a signalfd: %s", mipart_strerror(-errno));
		goto out;
	}
	if (refusals_init(s) < 0) {
		cli_error("cannot start: out of memory");
		goto out;
	}
	fd = listen_on(st, s->where, sizeof(s->where));
	if (fd < 0)
		goto out;

	/* the first collection: problems with the host show in the log at once */
	e = collect(s, s->interval, EP_METRICS);
	s->entry = e;

	s->pool_header_bytes = st->num[K_MAX_HEADER_BYTES];
	s->per_client = st->num[K_PER_IP];
	if (s->tls_cert_pem) {
		tls[0] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert_pem };
		tls[1] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key_pem };
	}
	s->daemon = mhd.start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			(s->tls_cert_pem ? MHD_USE_TLS : 0),
		0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, s,
		MHD_OPTION_ARRAY, tls, MHD_OPTION_UNESCAPE_CALLBACK, unescape, s,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)THREADS,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)st->num[K_MAX_CONNECTIONS],
		/* per-ip-connections is enforced in on_connection, by uid for local peers */
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)st->num[K_TIMEOUT],
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(st->num[K_MAX_HEADER_BYTES] + POOL_EXTRA),
		MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
		MHD_OPTION_END);
	if (!s->daemon) {
		cli_error("cannot start the HTTP server on '%s' (libmicrohttpd %s)%s", s->where,
			  mhd.get_version(),
			  s->tls_cert_pem ? ": check that 'tls-cert' and 'tls-key' are a PEM certificate "
					    "and its key" : "");
		goto out;
	}
	fd = -1; /* the daemon's now */
	s->watchdog_running = pthread_create(&s->watchdog, NULL, watchdog, s) == 0;
	if (!s->watchdog_running)
		log_line("warning", "cannot start the connection watchdog: max-connection-time is not enforced");
	s->labels_running = s->labels_wake >= 0 &&
			    pthread_create(&s->labels_thread, NULL, labels_loop, s) == 0;
	if (!s->labels_running)
		log_line("warning", "cannot start the labels thread: the NFD feature file is not kept current");
	log_line(NULL, "listening on %s", s->where);
	snprintf(state, sizeof(state), "READY=1\nSTATUS=listening on %s", s->where);
	notify(state);

	r = signal_loop(s, sfd);
	if (r < 0)
		log_line("error", "cannot wait for signals: %s; stopping", mipart_strerror(r));
	notify("STOPPING=1");
	r = r < 0 ? EXIT_FAIL : EXIT_OK;
out:
	labels_stop(s);
	if (s->watchdog_running) {
		pthread_mutex_lock(&s->conns_lock);
		s->watchdog_stop = true;
		pthread_cond_signal(&s->conns_wake);
		pthread_mutex_unlock(&s->conns_lock);
		pthread_join(s->watchdog, NULL);
		s->watchdog_running = false;
	}
	if (s->daemon)
		mhd.stop_daemon(s->daemon); /* waits for the requests in flight */
	s->daemon = NULL;
	if (fd >= 0)
		close(fd);
	if (sfd >= 0)
		close(sfd);
	s->entry = entry_free(s->entry);
	for (unsigned i = 0; i < N_REFUSALS; i++)
		if (s->refusals[i].resp)
			mhd.destroy_response(s->refusals[i].resp);
	for (size_t k = 0; k < s->n_warnings; k++)
		free(s->warnings[k]);
	{
		/* a second Ctrl-C or SIGTERM during shutdown is taken here, not delivered with
		 * its default action when the mask is restored: the exit code stays ours */
		struct timespec zero = { 0, 0 };

		while (sigtimedwait(&mask, NULL, &zero) > 0)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (mhd.dl)
		dlclose(mhd.dl);
	mhd.dl = NULL;
	return r;
}

int verb_serve(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "allow-remote", no_argument, NULL, 'A' },
		{ "interval", required_argument, NULL, 'i' },
		{ "config", required_argument, NULL, 'c' },
		{ "max-connections", required_argument, NULL, 'M' },
		{ "per-ip-connections", required_argument, NULL, 'P' },
		{ "timeout", required_argument, NULL, 't' },
		{ "max-header-bytes", required_argument, NULL, 'B' },
		{ "max-headers", required_argument, NULL, 'H' },
		{ "max-connection-time", required_argument, NULL, 'T' },
		{ "series", required_argument, NULL, 'S' },
		{ "token-file", required_argument, NULL, 'K' },
		{ "tls-cert", required_argument, NULL, 'C' },
		{ "tls-key", required_argument, NULL, 'Y' },
		{ "labels-file", required_argument, NULL, 'F' },
		{ "labels-interval", required_argument, NULL, 'R' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct {
		int opt;
		enum key key;
	} flag_keys[] = {
		{ 'l', K_LISTEN }, { 'i', K_INTERVAL }, { 'M', K_MAX_CONNECTIONS }, { 'P', K_PER_IP },
		{ 't', K_TIMEOUT }, { 'B', K_MAX_HEADER_BYTES }, { 'H', K_MAX_HEADERS },
		{ 'T', K_MAX_CONNECTION_TIME }, { 'S', K_SERIES }, { 'K', K_TOKEN_FILE },
		{ 'C', K_TLS_CERT }, { 'Y', K_TLS_KEY }, { 'F', K_LABELS_FILE }, { 'R', K_LABELS_INTERVAL },
	};
	struct server s = { .cli = cli };
	struct sockaddr_storage ss;
	socklen_t sl;
	bool loopback;
	char err[512];
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		bool known = false;

		for (size_t i = 0; i < ARRAY_SIZE(flag_keys); i++) {
			if (flag_keys[i].opt != c)
				continue;
			known = true;
			if (serve_settings_set(&s.flags, flag_keys[i].key, optarg, err, sizeof(err)) < 0)
				return cli_usage_error(cli->verb, "invalid value '%s' for '--%s': %s",
						       optarg, serve_keys[flag_keys[i].key].name, err);
		}
		if (known)
			continue;
		switch (c) {
		case 'A':
			s.flags.allow_remote = true;
			s.flags.set |= 1u << K_ALLOW_REMOTE;
			break;
		case 'c':
			s.config_path = optarg;
			break;
		case 'v':
			s.verbose = true;
			break;
		default:
			return cli_usage_error(cli->verb, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (cli_check_args(cli, argc - optind) != EXIT_OK)
		return EXIT_USAGE;

	serve_settings_defaults(&s.running);
	if (s.config_path) {
		struct settings file;

		r = serve_config_read(s.config_path, &file, err, sizeof(err));
		if (r < 0) {
			cli_error("%s", err);
			return EXIT_FAIL;
		}
		serve_settings_merge(&s.running, &file);
	}
	serve_settings_merge(&s.running, &s.flags);
	serve_parse_listen(s.running.listen, &ss, &sl, &loopback);
	if (!loopback && !s.running.allow_remote) {
		cli_error("refusing to listen on '%s': not a loopback address, and the metrics show "
			  "every process on the GPUs; pass --allow-remote (or 'allow-remote: true' in "
			  "the config) to serve other hosts", s.running.listen);
		return EXIT_USAGE;
	}
	if (load_token(&s.running, s.token, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		return EXIT_FAIL;
	}
	if (!s.running.tls_cert[0] != !s.running.tls_key[0]) {
		cli_error("'tls-cert' and 'tls-key' go together: give both, or neither");
		return EXIT_USAGE;
	}
	if (s.running.tls_cert[0] &&
	    (read_secret(s.running.tls_cert, false, &s.tls_cert_pem, err, sizeof(err)) < 0 ||
	     read_secret(s.running.tls_key, true, &s.tls_key_pem, err, sizeof(err)) < 0)) {
		cli_error("%s", err);
		free(s.tls_cert_pem);
		return EXIT_FAIL;
	}
	pthread_mutex_init(&s.token_lock, NULL);
	s.interval = s.running.interval;
	atomic_init(&s.max_headers, s.running.num[K_MAX_HEADERS]);
	atomic_init(&s.max_header_bytes, s.running.num[K_MAX_HEADER_BYTES]);
	atomic_init(&s.max_connection_time, s.running.num[K_MAX_CONNECTION_TIME]);
	atomic_init(&s.series, s.running.series);
	pthread_mutex_init(&s.conns_lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&s.conns_wake, &ca);
		pthread_condattr_destroy(&ca);
	}
	pthread_mutex_init(&s.lock, NULL);
	pthread_mutex_init(&s.collect_lock, NULL);
	pthread_mutex_init(&s.log_lock, NULL);
	pthread_mutex_init(&s.labels_lock, NULL);
	s.labels_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	memcpy(s.labels_file, s.running.labels_file, sizeof(s.labels_file));
	s.labels_interval = s.running.labels_interval;
	s.log_window = now_mono();
	r = run(&s);
	pthread_mutex_destroy(&s.lock);
	pthread_mutex_destroy(&s.collect_lock);
	pthread_mutex_destroy(&s.log_lock);
	pthread_mutex_destroy(&s.labels_lock);
	if (s.labels_wake >= 0)
		close(s.labels_wake);
	pthread_mutex_destroy(&s.conns_lock);
	pthread_cond_destroy(&s.conns_wake);
	pthread_mutex_destroy(&s.token_lock);
	explicit_bzero(s.token, sizeof(s.token));
	if (s.tls_key_pem)
		explicit_bzero(s.tls_key_pem, strlen(s.tls_key_pem));
	free(s.tls_key_pem);
	free(s.tls_cert_pem);
	return r;
}
