// SPDX-License-Identifier: MIT
/*
 * AMD Device Config Manager's profiles as a mipart layout: DCM reads config.json from its
 * ConfigMap (ROCm/device-config-manager docs/configuration/configmap.md; constants.go
 * JsonFilePath "/etc/config-manager/config.json"). A profile lists sets of {computePartition,
 * memoryPartition, numGPUsAssigned} and may skip GPU ids; the GPUs that are not skipped take
 * the sets in order, by GPU index (docs: "Sum of numGPUsAssigned + len(skippedGPUs) =
 * TotalGPUCount"). The text is converted to a v1 layout and read by the one layout parser, so
 * every check and every error position of docs/config.md applies to the result.
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mipart/agent.h"
#include "util.h"
#include "banned.h"

#define DCM_MAX_GPUS 64

static int fail(mipart_config_error *e, const char *file, const char *msg, const char *name)
{
	if (e) {
		memset(e, 0, sizeof(*e));
		util_strlcpy(e->file, file ? file : "<input>", sizeof(e->file));
		snprintf(e->message, sizeof(e->message), "DCM config.json: %s%s%.64s%s", msg,
			 name ? " (profile '" : "", name ? name : "", name ? "')" : "");
	}
	return -EINVAL;
}

/* A mode name DCM accepts (globals.ValidComputePartitions / ValidMemoryPartitions): letters
 * and digits only, so it cannot break the YAML it is written into. */
static bool mode_word(const char *s)
{
	if (!s || !*s || strlen(s) > 8)
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

static bool name_word(const char *s)
{
	if (!s || !*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

struct out {
	char *buf;
	size_t len, cap;
	bool full;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len)
		o->full = true;
	else
		o->len += (size_t)n;
}

static int convert(json_t *doc, const char *file, struct out *o, mipart_config_error *e)
{
	json_t *profiles = json_object_get(doc, "gpu-config-profiles"), *p, *svc;
	const char *name;

	if (!json_is_object(profiles) || json_object_size(profiles) == 0)
		return fail(e, file, "\"gpu-config-profiles\" must be a non-empty object", NULL);
	put(o, "version: v1\npartition-configs:\n");
	json_object_foreach(profiles, name, p) {
		json_t *skipped = json_object_get(json_object_get(p, "skippedGPUs"), "ids");
		json_t *sets = json_object_get(p, "profiles"), *set, *id;
		bool skip[DCM_MAX_GPUS] = { false };
		unsigned next = 0;
		size_t i;

		if (!name_word(name))
			return fail(e, file, "a profile name must be 1 to 64 of [A-Za-z0-9_.-]", name);
		if (!json_is_array(sets) || json_array_size(sets) == 0)
			return fail(e, file, "\"profiles\" must be a non-empty array", name);
		json_array_foreach(skipped, i, id) {
			json_int_t v = json_integer_value(id);

			if (!json_is_integer(id) || v < 0 || v >= DCM_MAX_GPUS)
				return fail(e, file, "skippedGPUs ids are GPU indices 0 to 63", name);
			skip[v] = true;
		}
		put(o, "  %s:\n", name);
		json_array_foreach(sets, i, set) {
			const char *cm = json_string_value(json_object_get(set, "computePartition"));
			const char *mm = json_string_value(json_object_get(set, "memoryPartition"));
			json_t *num = json_object_get(set, "numGPUsAssigned");
			json_int_t n = json_integer_value(num);

			if (!mode_word(cm) || !mode_word(mm))
				return fail(e, file, "each set needs \"computePartition\" and \"memoryPartition\"", name);
			if (!json_is_integer(num) || n < 1 || n > DCM_MAX_GPUS)
				return fail(e, file, "\"numGPUsAssigned\" must be 1 to 64", name);
			put(o, "    - devices: [");
			for (json_int_t k = 0; k < n; k++) {
				while (next < DCM_MAX_GPUS && skip[next])
					next++;
				if (next >= DCM_MAX_GPUS)
					return fail(e, file, "more than 64 GPUs assigned", name);
				put(o, "%s%u", k ? ", " : "", next++);
			}
			put(o, "]\n      compute: %s\n      memory: %s\n", cm, mm);
		}
	}
	svc = json_object_get(json_object_get(doc, "gpuClientSystemdServices"), "names");
	if (json_array_size(svc)) {
		json_t *s;
		size_t i;

		put(o, "hooks:\n  units: [");
		json_array_foreach(svc, i, s) {
			const char *u = json_string_value(s);

			/* DCM names services without the suffix ("amd-metrics-exporter") */
			if (!name_word(u))
				return fail(e, file, "gpuClientSystemdServices names are unit names", NULL);
			put(o, "%s%s%s", i ? ", " : "", u, strchr(u, '.') ? "" : ".service");
		}
		put(o, "]\n");
	}
	return o->full ? fail(e, file, "too large", NULL) : 0;
}

int mipart_agent_config_text(const char *buf, size_t len, const char *filename, char **ret,
			     size_t *ret_len, mipart_config_error *ret_err)
{
	size_t i = 0;
	json_t *doc;
	struct out o = { 0 };
	int r;

	if (len > MIPART_CONFIG_MAX_SIZE)
		return -EFBIG;
	/* a JSON object with DCM's key is DCM's; anything else is a layout (YAML) */
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
		i++;
	doc = i < len && buf[i] == '{' ? json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
	if (!doc || !json_object_get(doc, "gpu-config-profiles")) {
		json_decref(doc);
		o.buf = malloc(len + 1);
		if (!o.buf)
			return -ENOMEM;
		memcpy(o.buf, buf, len);
		o.buf[len] = '\0';
		*ret = o.buf;
		*ret_len = len;
		return 0;
	}
	o.cap = len * 4 + 4096;
	o.buf = malloc(o.cap);
	if (!o.buf) {
		json_decref(doc);
		return -ENOMEM;
	}
	r = convert(doc, filename, &o, ret_err);
	json_decref(doc);
	if (r < 0) {
		free(o.buf);
		return r;
	}
	*ret = o.buf;
	*ret_len = o.len;
	return 0;
}

int mipart_agent_config_parse(const char *buf, size_t len, const char *filename,
			      mipart_config **ret, mipart_config_error *ret_err)
{
	char *text = NULL;
	size_t n = 0;
	int r = mipart_agent_config_text(buf, len, filename, &text, &n, ret_err);

	if (r == 0)
		r = mipart_config_parse(text, n, filename, ret, ret_err);
	free(text);
	return r;
}
