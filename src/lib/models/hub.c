// SPDX-License-Identifier: MIT
/*
 * The Hugging Face Hub client (include/mipart/hub.h): reads what the estimator needs about a
 * model repository without its weights, through core/http.c (libcurl):
 *
 *   GET {endpoint}/api/models/{id}[/revision/{rev}]      sha, siblings, safetensors.total
 *   GET {endpoint}/{id}/resolve/{sha}/config.json         the shape
 *   GET {endpoint}/{id}/resolve/{sha}/model.safetensors.index.json   metadata.total_size
 *   GET ... /{file}.safetensors with Range bytes=0-7, then bytes=8-(7+n)   the header only
 *
 * The URL layout, the environment (HF_ENDPOINT, HF_TOKEN, HF_TOKEN_PATH, HF_HOME, HF_HUB_CACHE,
 * HF_HUB_OFFLINE) and the cache layout (models--{org}--{name}/refs/{rev} holding the commit,
 * snapshots/{commit}/{file}) are huggingface_hub's (constants.py, file_download.py:
 * hf_hub_url, try_to_load_from_cache); error kinds come from the X-Error-Code header the Hub sets
 * (utils/_http.py: hf_raise_for_status: RepoNotFound, GatedRepo, RevisionNotFound,
 * EntryNotFound). Files are written whole to a temporary name, fsync'd and renamed. The weight
 * size read from safetensors headers is not a repository file, so it is kept in mipart's own
 * state directory, never in the snapshot.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mipart/error.h"
#include "mipart/hfmodel.h"
#include "mipart/hub.h"
#include "hfmodel.h"
#include "http.h"
#include "util.h"
#include "banned.h"

#define DEFAULT_ENDPOINT "https://huggingface.co"
#define DEFAULT_TIMEOUT_MS 30000
#define TOKEN_MAX 4096
#define SHA_LEN 40
#define REDIRECTS 5

struct hub {
	const char *id;
	char rev[256];
	char endpoint[512];
	char cache[PATH_MAX];	/* the hub cache: .../hub */
	char state[PATH_MAX];	/* mipart's records */
	char token[TOKEN_MAX];
	bool offline;
	long timeout_ms;
	char *err;
	size_t err_size;
};

static int hfail(struct hub *h, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int hfail(struct hub *h, int code, const char *fmt, ...)
{
	va_list ap;

	if (h->err && h->err_size) {
		va_start(ap, fmt);
		vsnprintf(h->err, h->err_size, fmt, ap);
		va_end(ap);
	}
	return code;
}

static bool part_ok(const char *s, size_t n)
{
	if (!n || n > MIPART_HUB_ID_MAX || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
		if (c == '.' && i + 1 < n && s[i + 1] == '.')
			return false;
	}
	return true;
}

bool mipart_hub_id_ok(const char *s)
{
	const char *slash = s ? strchr(s, '/') : NULL;

	return slash && part_ok(s, (size_t)(slash - s)) && part_ok(slash + 1, strlen(slash + 1));
}

/* A branch, tag or commit: a path part the cache can hold as a file name. */
static bool rev_ok(const char *s)
{
	return part_ok(s, strlen(s)) && strlen(s) < 256;
}

static bool is_sha(const char *s)
{
	if (strlen(s) != SHA_LEN)
		return false;
	for (size_t i = 0; i < SHA_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* huggingface_hub constants.py _is_true */
static bool env_true(const char *name)
{
	const char *v = getenv(name);

	return v && (!strcasecmp(v, "1") || !strcasecmp(v, "on") || !strcasecmp(v, "yes") ||
		     !strcasecmp(v, "true"));
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* util_pathf as 0 or -errno (it returns the length). */
#define PATHF(...) (util_pathf(__VA_ARGS__) < 0 ? -ENAMETOOLONG : 0)

/* $XDG_CACHE_HOME or ~/.cache into buf; -ENOENT when neither is known. */
static int cache_home(char *buf, size_t size)
{
	if (env("XDG_CACHE_HOME"))
		return PATHF(buf, size, "%s", env("XDG_CACHE_HOME"));
	if (env("HOME"))
		return PATHF(buf, size, "%s/.cache", env("HOME"));
	return -ENOENT;
}

static int setup(struct hub *h, const char *id, const mipart_hub_options *o)
{
	char home[PATH_MAX] = "", base[PATH_MAX];
	const char *ep = o->endpoint ? o->endpoint : env("HF_ENDPOINT");
	int r;

	h->id = id;
	h->offline = o->offline || env_true("HF_HUB_OFFLINE");
	h->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	if (!mipart_hub_id_ok(id))
		return hfail(h, -EINVAL, "'%s' is not a Hugging Face repository id (org/name)", id);
	util_strlcpy(h->rev, o->revision ? o->revision : "main", sizeof(h->rev));
	if (!rev_ok(h->rev))
		return hfail(h, -EINVAL, "invalid revision '%s'", h->rev);
	util_strlcpy(h->endpoint, ep ? ep : DEFAULT_ENDPOINT, sizeof(h->endpoint));
	while (h->endpoint[0] && h->endpoint[strlen(h->endpoint) - 1] == '/')
		h->endpoint[strlen(h->endpoint) - 1] = '\0';
	if (strncmp(h->endpoint, "https://", 8) && strncmp(h->endpoint, "http://", 7))
		return hfail(h, -EINVAL, "HF_ENDPOINT '%s' is not an http(s) URL", h->endpoint);

	/* HF_HOME (default $XDG_CACHE_HOME/huggingface), HF_HUB_CACHE (default HF_HOME/hub) */
	if (env("HF_HOME"))
		r = PATHF(home, sizeof(home), "%s", env("HF_HOME"));
	else if ((r = cache_home(base, sizeof(base))) == 0)
		r = PATHF(home, sizeof(home), "%s/huggingface", base);
	if (o->cache_dir)
		r = PATHF(h->cache, sizeof(h->cache), "%s", o->cache_dir);
	else if (env("HF_HUB_CACHE"))
		r = PATHF(h->cache, sizeof(h->cache), "%s", env("HF_HUB_CACHE"));
	else if (r == 0)
		r = PATHF(h->cache, sizeof(h->cache), "%s/hub", home);
	if (r < 0)
		return hfail(h, r, "no Hugging Face cache: set HF_HOME or HF_HUB_CACHE");
	if (o->state_dir)
		r = PATHF(h->state, sizeof(h->state), "%s", o->state_dir);
	else if ((r = cache_home(base, sizeof(base))) == 0)
		r = PATHF(h->state, sizeof(h->state), "%s/mipart/hub", base);
	if (r < 0)
		return hfail(h, r, "no cache directory for mipart: set XDG_CACHE_HOME or HOME");
	if (h->cache[0] != '/' || h->state[0] != '/')
		return hfail(h, -EINVAL, "the cache directories must be absolute paths ('%s', '%s')",
			     h->cache, h->state);

	/* the token: HF_TOKEN, else the file HF_TOKEN_PATH (default HF_HOME/token) */
	h->token[0] = '\0';
	if (o->token) {
		util_strlcpy(h->token, o->token, sizeof(h->token));
	} else if (env("HF_TOKEN")) {
		util_strlcpy(h->token, env("HF_TOKEN"), sizeof(h->token));
	} else {
		char path[PATH_MAX];
		ssize_t n;

		path[0] = '\0';
		if (env("HF_TOKEN_PATH") && PATHF(path, sizeof(path), "%s", env("HF_TOKEN_PATH")) < 0)
			path[0] = '\0';
		else if (!env("HF_TOKEN_PATH") && home[0] && PATHF(path, sizeof(path), "%s/token", home) < 0)
			path[0] = '\0';
		n = path[0] ? util_read_file(path, h->token, sizeof(h->token) - 1) : -ENOENT;
		h->token[n > 0 ? n : 0] = '\0';
	}
	/* one line, no control characters or spaces: it goes into a header */
	h->token[strcspn(h->token, "\r\n")] = '\0';
	for (char *p = h->token; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return hfail(h, -EINVAL, "the Hugging Face token has a space or control character");
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * the cache
 */

/* .../models--org--name */
static int repo_dir(const struct hub *h, char *buf, size_t size)
{
	const char *slash = strchr(h->id, '/');

	return PATHF(buf, size, "%s/models--%.*s--%s", h->cache, (int)(slash - h->id), h->id,
		     slash + 1);
}

/* Read a cached file of at most cap bytes into a new buffer. */
static int read_alloc(const char *path, size_t cap, char **ret, size_t *ret_len)
{
	char *buf = malloc(cap + 1);
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	n = util_read_file(path, buf, cap + 1);
	if (n < 0) {
		free(buf);
		return (int)n;
	}
	if ((size_t)n > cap) {
		free(buf);
		return -EFBIG;
	}
	buf[n] = '\0';
	*ret = buf;
	*ret_len = (size_t)n;
	return 0;
}

/* mipart's record of a snapshot: what the headers said (not a repository file). */
static int record_path(const struct hub *h, const char *sha, char *buf, size_t size)
{
	const char *slash = strchr(h->id, '/');

	return PATHF(buf, size, "%s/%.*s--%s--%s.json", h->state, (int)(slash - h->id), h->id,
		     slash + 1, sha);
}

/* ---------------------------------------------------------------------------------------------
 * requests
 */

/* Turn an answer that is not 2xx into an error that says what to do. */
static int status_error(struct hub *h, const struct http_response *rs, const char *what)
{
	char *code = http_response_header(rs, "X-Error-Code");
	char *retry = http_response_header(rs, "Retry-After");
	bool token = h->token[0] != '\0';
	int r;

	if (code && !strcmp(code, "GatedRepo"))
		r = hfail(h, -EACCES,
			  token ? "'%s' is gated and the token has no access: accept its license on %s/%s"
				: "'%s' is gated: accept its license on %s/%s and set HF_TOKEN (or write the token to $HF_HOME/token)",
			  h->id, h->endpoint, h->id);
	else if ((code && !strcmp(code, "RepoNotFound")) || (rs->status == 401 && !code && !token))
		r = hfail(h, -ENOENT, "no model '%s' on %s%s", h->id, h->endpoint,
			  token ? "" : " (a private one needs HF_TOKEN)");
	else if (code && !strcmp(code, "RevisionNotFound"))
		r = hfail(h, -ENOENT, "'%s' has no revision '%s'", h->id, h->rev);
	else if ((code && !strcmp(code, "EntryNotFound")) || rs->status == 404)
		r = hfail(h, -ENOENT, "'%s' has no file '%s'", h->id, what);
	else if (rs->status == 401 || rs->status == 403)
		r = hfail(h, -EACCES, "%s refused the token for '%s' (HTTP %ld)", h->endpoint, h->id,
			  rs->status);
	else if (rs->status == 429)
		r = hfail(h, -EAGAIN, "%s is rate limiting requests (HTTP 429)%s%s%s; try again later%s",
			  h->endpoint, retry ? ": retry after " : "", retry ? retry : "",
			  retry ? " s" : "", token ? "" : " or set HF_TOKEN for a higher limit");
	else if (rs->status >= 500)
		r = hfail(h, -EIO, "%s failed on '%s' of '%s' (HTTP %ld)", h->endpoint, what, h->id,
			  rs->status);
	else
		r = hfail(h, -EPROTO, "unexpected HTTP %ld from %s for '%s' of '%s'", rs->status,
			  h->endpoint, what, h->id);
	free(code);
	free(retry);
	return r;
}

/* GET url with the token, following redirects; range "bytes=a-b" or NULL. The answer must be
 * 2xx (206 with a range). */
static int get(struct hub *h, const char *url, const char *what, const char *range, size_t cap,
	       struct http_response *ret)
{
	char rh[64];
	const char *headers[2] = { NULL, NULL };
	struct http_request rq = { 0 };
	struct http_response rs = { 0 };
	int r;

	if (range) {
		snprintf(rh, sizeof(rh), "Range: %s", range);
		headers[0] = rh;
	}
	rq.url = url;
	rq.headers = headers;
	rq.bearer_token = h->token[0] ? h->token : NULL;
	rq.timeout_ms = h->timeout_ms;
	rq.max_body = cap;
	rq.max_redirects = REDIRECTS;
	r = http_request(&rq, &rs);
	if (r == -EFBIG)
		return hfail(h, r, "'%s' of '%s' is larger than %zu bytes", what, h->id, cap);
	if (r < 0)
		return hfail(h, r, "cannot reach %s for '%s': %s (HF_HUB_OFFLINE=1 uses the cache only)",
			     h->endpoint, h->id, http_last_error());
	if (rs.status < 200 || rs.status > 299 || (range && rs.status != 206)) {
		r = rs.status >= 200 && rs.status <= 299
			    ? hfail(h, -EPROTO, "%s ignored the Range request for '%s' of '%s'",
				    h->endpoint, what, h->id)
			    : status_error(h, &rs, what);
		http_response_release(&rs);
		return r;
	}
	*ret = rs;
	return 0;
}

static int resolve_url(const struct hub *h, const char *sha, const char *file, char *buf,
		       size_t size)
{
	int n = snprintf(buf, size, "%s/%s/resolve/%s/%s", h->endpoint, h->id, sha, file);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* A safetensors file's tensor bytes and elements, from its header only. */
static int read_header(struct hub *h, const char *sha, const char *file, uint64_t *ret_bytes,
		       uint64_t *ret_params)
{
	char url[2048], range[64], msg[256] = "";
	struct http_response a = { 0 }, b = { 0 };
	char *cr = NULL, *slash;
	uint64_t n = 0, total = 0;
	int r;

	if ((r = resolve_url(h, sha, file, url, sizeof(url))) < 0)
		return hfail(h, r, "URL of '%s' too long", file);
	r = get(h, url, file, "bytes=0-7", 64, &a);
	if (r < 0)
		return r;
	cr = http_response_header(&a, "Content-Range");
	slash = cr ? strrchr(cr, '/') : NULL;
	if (a.body_len != 8 || !slash || util_parse_u64(slash + 1, strlen(slash + 1), &total) < 0) {
		r = hfail(h, -EPROTO, "'%s' of '%s': no 8-byte header length and Content-Range total",
			  file, h->id);
		goto out;
	}
	for (int i = 7; i >= 0; i--)
		n = n << 8 | (unsigned char)a.body[i];
	if (!n || n > MIPART_SAFETENSORS_HEADER_MAX || n > total - 8 || total < 8) {
		r = hfail(h, -EINVAL, "'%s' of '%s': header length %llu does not fit the file (%llu bytes)",
			  file, h->id, (unsigned long long)n, (unsigned long long)total);
		goto out;
	}
	snprintf(range, sizeof(range), "bytes=8-%llu", (unsigned long long)(7 + n));
	r = get(h, url, file, range, (size_t)n, &b);
	if (r < 0)
		goto out;
	if (b.body_len != n) {
		r = hfail(h, -EPROTO, "'%s' of '%s': %zu header bytes, not %llu", file, h->id,
			  b.body_len, (unsigned long long)n);
		goto out;
	}
	r = hf_safetensors_parse_header(b.body, b.body_len, total, ret_bytes, ret_params, msg,
					sizeof(msg));
	if (r < 0)
		hfail(h, r, "'%s' of '%s': %s", file, h->id, msg);
out:
	free(cr);
	http_response_release(&a);
	http_response_release(&b);
	return r;
}

/* metadata.total_size of an index. */
static int index_total(struct hub *h, const char *buf, size_t len, uint64_t *ret)
{
	json_error_t je;
	json_t *root, *ts;
	int r = 0;

	if (!hf_json_depth_ok(buf, len, MIPART_HF_JSON_MAX_DEPTH))
		return hfail(h, -EINVAL, "model.safetensors.index.json of '%s' nests too deep", h->id);
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	ts = json_object_get(json_object_get(root, "metadata"), "total_size");
	if (!root)
		r = hfail(h, -EINVAL, "model.safetensors.index.json of '%s': %s", h->id, je.text);
	else if (!json_is_integer(ts) || json_integer_value(ts) <= 0)
		r = hfail(h, -EINVAL, "model.safetensors.index.json of '%s' has no metadata.total_size",
			  h->id);
	else
		*ret = (uint64_t)json_integer_value(ts);
	json_decref(root);
	return r;
}

static int parse_config(struct hub *h, const char *buf, size_t len, mipart_model *m)
{
	char name[256], msg[512] = "";
	int r;

	snprintf(name, sizeof(name), "%s/config.json", h->id);
	r = mipart_hf_parse_config(buf, len, name, m, msg, sizeof(msg));
	if (r < 0)
		return hfail(h, r, "%s", msg);
	return 0;
}

/* The revision from the cache. 0, or -ENOENT. */
static int load_cached(struct hub *h, mipart_model *ret)
{
	char dir[PATH_MAX], path[PATH_MAX], sha[64] = "", *buf = NULL;
	size_t len = 0;
	mipart_model m;
	json_t *rec;
	int r;

	if ((r = repo_dir(h, dir, sizeof(dir))) < 0)
		return r;
	if (is_sha(h->rev)) {
		util_strlcpy(sha, h->rev, sizeof(sha));
	} else {
		ssize_t n;

		if (PATHF(path, sizeof(path), "%s/refs/%s", dir, h->rev) < 0)
			return -ENOENT;
		n = util_read_file(path, sha, sizeof(sha) - 1);
		sha[n > 0 ? n : 0] = '\0';
		sha[strcspn(sha, "\r\n")] = '\0';
		if (!is_sha(sha))
			return -ENOENT;
	}
	if (PATHF(path, sizeof(path), "%s/snapshots/%s/config.json", dir, sha) < 0 ||
	    read_alloc(path, MIPART_HF_CONFIG_MAX, &buf, &len) < 0)
		return -ENOENT;
	r = parse_config(h, buf, len, &m);
	free(buf);
	if (r < 0)
		return r;
	if (record_path(h, sha, path, sizeof(path)) < 0)
		return -ENOENT;
	rec = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(rec)) {
		char snap[PATH_MAX], msg[256];

		/* a snapshot huggingface_hub downloaded whole: read it as a model directory */
		json_decref(rec);
		if (PATHF(snap, sizeof(snap), "%s/snapshots/%s", dir, sha) < 0 ||
		    mipart_hf_load_dir(snap, &m, msg, sizeof(msg)) < 0)
			return -ENOENT;
		util_strlcpy(m.id, h->id, sizeof(m.id));
		*ret = m;
		return 0;
	}
	m.weight_bytes = (uint64_t)json_integer_value(json_object_get(rec, "weight_bytes"));
	m.params = (uint64_t)json_integer_value(json_object_get(rec, "params"));
	json_decref(rec);
	util_strlcpy(m.id, h->id, sizeof(m.id));
	*ret = m;
	return 0;
}

/* Whether the API's siblings list file. */
static bool has_sibling(const json_t *siblings, const char *file)
{
	size_t i;
	json_t *s;

	json_array_foreach(siblings, i, s)
		if (json_is_string(json_object_get(s, "rfilename")) &&
		    !strcmp(json_string_value(json_object_get(s, "rfilename")), file))
			return true;
	return false;
}

static int load_online(struct hub *h, mipart_model *ret)
{
	char url[2048], dir[PATH_MAX], path[PATH_MAX], sha[64];
	struct http_response api = { 0 }, cfg = { 0 }, idx = { 0 };
	json_t *info = NULL, *siblings, *st;
	json_error_t je;
	uint64_t bytes = 0, params = 0, api_params = 0;
	const char *from = "none";
	mipart_model m;
	int r;

	if ((r = repo_dir(h, dir, sizeof(dir))) < 0)
		return hfail(h, r, "the cache path is too long");
	/* the commit, the files and the parameter count (huggingface_hub hf_api.py model_info) */
	if (!strcmp(h->rev, "main"))
		snprintf(url, sizeof(url), "%s/api/models/%s", h->endpoint, h->id);
	else
		snprintf(url, sizeof(url), "%s/api/models/%s/revision/%s", h->endpoint, h->id, h->rev);
	r = get(h, url, "api/models", NULL, MIPART_HUB_API_MAX, &api);
	if (r < 0)
		goto out;
	info = json_loadb(api.body, api.body_len, JSON_REJECT_DUPLICATES, &je);
	siblings = json_object_get(info, "siblings");
	if (!json_is_object(info) || !json_is_string(json_object_get(info, "sha")) ||
	    !is_sha(json_string_value(json_object_get(info, "sha"))) || !json_is_array(siblings)) {
		r = hfail(h, -EPROTO, "%s/api/models/%s: no commit sha and siblings in the answer",
			  h->endpoint, h->id);
		goto out;
	}
	util_strlcpy(sha, json_string_value(json_object_get(info, "sha")), sizeof(sha));
	st = json_object_get(json_object_get(info, "safetensors"), "total");
	if (json_is_integer(st) && json_integer_value(st) > 0)
		api_params = (uint64_t)json_integer_value(st);
	if (!has_sibling(siblings, "config.json")) {
		r = hfail(h, -ENOENT, "'%s' has no config.json: not a transformers model", h->id);
		goto out;
	}

	resolve_url(h, sha, "config.json", url, sizeof(url));
	r = get(h, url, "config.json", NULL, MIPART_HF_CONFIG_MAX, &cfg);
	if (r < 0)
		goto out;
	r = parse_config(h, cfg.body, cfg.body_len, &m);
	if (r < 0)
		goto out;

	if (has_sibling(siblings, "model.safetensors.index.json")) {
		resolve_url(h, sha, "model.safetensors.index.json", url, sizeof(url));
		r = get(h, url, "model.safetensors.index.json", NULL, MIPART_HF_INDEX_MAX, &idx);
		if (r == 0)
			r = index_total(h, idx.body, idx.body_len, &bytes);
		if (r < 0)
			goto out;
		from = "index";
	} else {
		size_t i, n = 0;
		json_t *s;

		/* every top-level *.safetensors, as vLLM globs them */
		json_array_foreach(siblings, i, s) {
			const char *f = json_string_value(json_object_get(s, "rfilename"));
			size_t fl = f ? strlen(f) : 0;
			uint64_t b = 0, p = 0;

			if (!f || fl < 12 || strcmp(f + fl - 12, ".safetensors") || strchr(f, '/') ||
			    f[0] == '.' || !part_ok(f, fl))
				continue;
			if (++n > MIPART_HUB_MAX_SAFETENSORS) {
				r = hfail(h, -EFBIG, "'%s' has more than %d unindexed safetensors files",
					  h->id, MIPART_HUB_MAX_SAFETENSORS);
				goto out;
			}
			r = read_header(h, sha, f, &b, &p);
			if (r < 0)
				goto out;
			bytes += b;
			params += p;
			from = "safetensors headers";
		}
	}

	/* into the cache: the files as the Hub has them, the ref, and mipart's record */
	r = PATHF(path, sizeof(path), "%s/snapshots/%s/config.json", dir, sha);
	if (r == 0)
		r = util_write_file_durable_mkdir(path, cfg.body, cfg.body_len, 0644);
	if (r == 0 && idx.body &&
	    (r = PATHF(path, sizeof(path), "%s/snapshots/%s/model.safetensors.index.json", dir, sha)) == 0)
		r = util_write_file_durable_mkdir(path, idx.body, idx.body_len, 0644);
	if (r == 0 && !is_sha(h->rev) && (r = PATHF(path, sizeof(path), "%s/refs/%s", dir, h->rev)) == 0)
		r = util_write_file_durable_mkdir(path, sha, strlen(sha), 0644);
	if (r == 0) {
		json_t *rec;
		char *text;

		m.weight_bytes = bytes;
		/* packed formats store several values per element: the count is not parameters */
		m.params = api_params ? api_params : (m.quant_bits && m.quant_bits < 8 ? 0 : params);
		rec = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "repo", h->id, "sha", sha, "endpoint",
				h->endpoint, "weight_bytes", (json_int_t)m.weight_bytes, "params",
				(json_int_t)m.params, "weights_from", from);
		text = rec ? json_dumps(rec, JSON_SORT_KEYS | JSON_INDENT(1)) : NULL;
		json_decref(rec);
		r = text ? 0 : -ENOMEM;
		if (r == 0 && (r = record_path(h, sha, path, sizeof(path))) == 0)
			r = util_write_file_durable_mkdir(path, text, strlen(text), 0644);
		free(text);
	}
	if (r < 0) {
		hfail(h, r, "cannot write the cache for '%s' under '%s': %s", h->id, h->cache,
		      mipart_strerror(r));
		goto out;
	}
	util_strlcpy(m.id, h->id, sizeof(m.id));
	*ret = m;
out:
	json_decref(info);
	http_response_release(&api);
	http_response_release(&cfg);
	http_response_release(&idx);
	return r;
}

int mipart_hub_load(const char *repo_id, const mipart_hub_options *opts, mipart_model *ret,
		    bool *ret_cached, char *err, size_t err_size)
{
	static const mipart_hub_options none = { 0 };
	struct hub *h = calloc(1, sizeof(*h));
	mipart_model m;
	bool cached = false;
	int r;

	if (!h)
		return -ENOMEM;
	h->err = err;
	h->err_size = err_size;
	r = setup(h, repo_id ? repo_id : "", opts ? opts : &none);
	if (r < 0)
		goto out;
	if (!(opts && opts->refresh) || h->offline) {
		r = load_cached(h, &m);
		if (r == 0) {
			cached = true;
			goto done;
		}
		if (r != -ENOENT)
			goto out;
		if (h->offline) {
			r = hfail(h, -ENOENT,
				  "'%s' (revision %s) is not in the Hugging Face cache '%s' and HF_HUB_OFFLINE is set",
				  h->id, h->rev, h->cache);
			goto out;
		}
	}
	r = load_online(h, &m);
	if (r < 0)
		goto out;
done:
	*ret = m;
	if (ret_cached)
		*ret_cached = cached;
out:
	free(h);
	return r;
}
