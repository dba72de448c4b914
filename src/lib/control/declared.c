// SPDX-License-Identifier: MIT
/*
 * The declared state of a host: which config of which layout file the operator wants it in.
 * `mipart apply --persist` records it, `mipart boot` applies it at boot, and the monitor
 * measures drift against it. One JSON file holds the config name and the layout's text, so that
 * a crash can never pair a new name with an old layout: it is replaced whole (temporary file,
 * fsync, rename, directory fsync), and read back through the same layout parser as any file.
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mipart/declared.h"
#include "mipart/layout.h"
#include "db.h"
#include "util.h"
#include "banned.h"

struct mipart_declared {
	mipart_config *layout;
	const mipart_config_set *set;
	char *config, *source, *time;
};

static void set_err(mipart_config_error *e, const char *file, const char *msg)
{
	if (!e)
		return;
	memset(e, 0, sizeof(*e));
	util_strlcpy(e->file, file, sizeof(e->file));
	util_strlcpy(e->message, msg, sizeof(e->message));
}

int mipart_declared_write(const mipart_host *host, const char *text, size_t len, const char *config,
			  const char *source, mipart_config_error *ret_err)
{
	char path[MIPART_PATH_MAX], now[32];
	mipart_config *cfg = NULL;
	const mipart_config_set *set;
	json_t *o = NULL;
	char *doc = NULL;
	int r;

	if (!host || !text || !config)
		return -EINVAL;
	r = mipart_config_parse(text, len, source, &cfg, ret_err);
	if (r < 0)
		return r;
	if (mipart_config_find(cfg, config, &set) < 0) {
		char msg[160];

		snprintf(msg, sizeof(msg), "no config '%.64s' in the layout", config);
		set_err(ret_err, source ? source : "<input>", msg);
		r = -EINVAL;
		goto out;
	}
	r = mipart_host_path(host, MIPART_DECLARED_PATH, path, sizeof(path));
	if (r < 0)
		goto out;
	db_now(now, sizeof(now));
	/* json_stringn carries the text byte for byte (the parser accepted it, so it is UTF-8) */
	o = json_pack("{s:i, s:s, s:s?, s:s, s:s%}", "version", 1, "config", config, "source",
		      source, "persisted_at", now, "layout", text, len);
	doc = o ? json_dumps(o, JSON_INDENT(2) | JSON_ENSURE_ASCII) : NULL;
	if (!doc) {
		r = -ENOMEM;
		goto out;
	}
	r = util_write_file_durable_mkdir(path, doc, strlen(doc), 0644);
out:
	free(doc);
	json_decref(o);
	mipart_config_free(cfg);
	return r;
}

int mipart_declared_load(const mipart_host *host, mipart_declared **ret,
			 mipart_config_error *ret_err)
{
	char path[MIPART_PATH_MAX], name[MIPART_PATH_MAX + 32], msg[256];
	mipart_declared *d = NULL;
	json_error_t je;
	json_t *o = NULL, *layout;
	const char *config, *source, *when;
	char *buf = NULL;
	ssize_t n;
	int r;

	r = mipart_host_path(host, MIPART_DECLARED_PATH, path, sizeof(path));
	if (r < 0)
		return r;
	buf = malloc(MIPART_DECLARED_MAX_SIZE + 1);
	if (!buf)
		return -ENOMEM;
	n = util_read_file(path, buf, MIPART_DECLARED_MAX_SIZE);
	if (n < 0) {
		r = (int)n;
		if (r != -ENOENT)
			set_err(ret_err, path, r == -EFBIG ? "larger than 4 MiB" : "cannot read it");
		goto out;
	}
	r = -EINVAL;
	o = json_loadb(buf, (size_t)n, JSON_REJECT_DUPLICATES, &je);
	if (!o) {
		snprintf(msg, sizeof(msg), "not JSON: %s", je.text);
		if (ret_err) {
			set_err(ret_err, path, msg);
			ret_err->line = (unsigned)(je.line > 0 ? je.line : 0);
			ret_err->column = (unsigned)(je.column > 0 ? je.column : 0);
		}
		goto out;
	}
	config = json_string_value(json_object_get(o, "config"));
	source = json_string_value(json_object_get(o, "source"));
	when = json_string_value(json_object_get(o, "persisted_at"));
	layout = json_object_get(o, "layout");
	if (json_integer_value(json_object_get(o, "version")) != 1 || !config || !json_is_string(layout)) {
		set_err(ret_err, path,
			"expected {\"version\": 1, \"config\": NAME, \"layout\": TEXT}: write it again with 'mipart apply --persist'");
		goto out;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		r = -ENOMEM;
		goto out;
	}
	/* errors in the layout name the declared file and the layout's own line and column */
	snprintf(name, sizeof(name), "%s (layout)", path);
	r = mipart_config_parse(json_string_value(layout), json_string_length(layout), name,
				&d->layout, ret_err);
	if (r < 0)
		goto out;
	if (mipart_config_find(d->layout, config, &d->set) < 0) {
		snprintf(msg, sizeof(msg), "the layout has no config '%.64s'", config);
		set_err(ret_err, path, msg);
		r = -EINVAL;
		goto out;
	}
	d->config = strdup(config);
	d->source = strdup(source ? source : "");
	d->time = strdup(when ? when : "");
	if (!d->config || !d->source || !d->time) {
		r = -ENOMEM;
		goto out;
	}
	*ret = d;
	d = NULL;
	r = 0;
out:
	mipart_declared_free(d);
	json_decref(o);
	free(buf);
	return r;
}

int mipart_declared_clear(const mipart_host *host)
{
	char path[MIPART_PATH_MAX];
	int r = mipart_host_path(host, MIPART_DECLARED_PATH, path, sizeof(path));

	if (r < 0)
		return r;
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

const char *mipart_declared_config_name(const mipart_declared *d)
{
	return d->config;
}

const mipart_config_set *mipart_declared_set(const mipart_declared *d)
{
	return d->set;
}

const mipart_config *mipart_declared_layout(const mipart_declared *d)
{
	return d->layout;
}

const char *mipart_declared_source(const mipart_declared *d)
{
	return d->source;
}

const char *mipart_declared_time(const mipart_declared *d)
{
	return d->time;
}

int mipart_declared_in_sync(const mipart_declared *d, const mipart_topology *topo)
{
	size_t n = mipart_topology_gpu_count(topo);
	mipart_target *t = calloc(n + 1, sizeof(*t));
	unsigned line, col;
	char msg[256];
	int r;

	if (!t)
		return -ENOMEM;
	r = mipart_layout_resolve(d->set, topo, t, n, &line, &col, msg, sizeof(msg));
	for (size_t i = 0; r == 0 && i < n; i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(topo, i);

		if (!t[i].selected)
			continue;
		if ((t[i].compute != MIPART_COMPUTE_UNKNOWN && t[i].compute != g->compute) ||
		    (t[i].memory != MIPART_MEMORY_UNKNOWN && t[i].memory != g->memory)) {
			free(t);
			return 0;
		}
	}
	free(t);
	return r < 0 ? -EINVAL : 1;
}

mipart_declared *mipart_declared_free(mipart_declared *d)
{
	if (!d)
		return NULL;
	mipart_config_free(d->layout);
	free(d->config);
	free(d->source);
	free(d->time);
	free(d);
	return NULL;
}
