// SPDX-License-Identifier: MIT
/*
 * Slurm: the policy behind `mipart slurm` (docs/slurm.md). Node features of the
 * node_features/helpers plugin are named after mode pairs or a layout file's configs; the
 * plugin (Slurm 22.05, src/plugins/node_features/helpers/node_features_helpers.c) runs the
 * helper with no argument to learn the active features (_feature_get_state: one per line,
 * filtered to the registered ones, exit 0) and with one argument, the feature, to switch
 * (_feature_set_state: exit 0 is success), each time within ExecTime seconds (run_command's
 * max_wait). gres.conf lists one "gpu" per partition so that jobs get partitions; after each
 * change the post-change action rewrites it (mipart_slurm_after_change).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mipart/layout.h"
#include "mipart/slurm.h"
#include "slurm.h"
#include "subproc.h"
#include "mipart/error.h"
#include "util.h"
#include "banned.h"

/* How long scontrol may take (it talks to slurmctld, whose MessageTimeout is 10 s). */
#define SCONTROL_TIMEOUT_MS 30000
/* Largest slurm.conf mipart edits. */
#define SLURM_CONF_MAX (1024 * 1024)

struct feature {
	char name[MIPART_SLURM_FEATURE_MAX + 1];
	mipart_compute_mode compute;	/* mode features */
	mipart_memory_mode memory;
	const mipart_config_set *set;	/* layout features */
};

struct mipart_slurm_features {
	const mipart_config *layout;
	size_t n;
	struct feature f[MIPART_SLURM_MAX_FEATURES];
};

bool mipart_slurm_feature_valid(const char *k)
{
	if (!k || !k[0] || strlen(k) > MIPART_SLURM_FEATURE_MAX)
		return false;
	if (!isalpha((unsigned char)k[0]) && k[0] != '_' && k[0] != '=')
		return false;
	for (size_t i = 1; k[i]; i++)
		if (!isalnum((unsigned char)k[i]) && k[i] != '_' && k[i] != '.' && k[i] != '=')
			return false;
	return true;
}

int mipart_slurm_feature_name(mipart_compute_mode compute, mipart_memory_mode memory, char *buf,
			      size_t size)
{
	const char *c = mipart_compute_mode_name(compute), *m = mipart_memory_mode_name(memory);
	int n;

	if (!strcmp(c, "UNKNOWN") || !strcmp(m, "UNKNOWN"))
		return -EINVAL;
	n = snprintf(buf, size, "%s_%s", c, m);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	for (int i = 0; i < n; i++)
		buf[i] = (char)tolower((unsigned char)buf[i]);
	return n;
}

int mipart_slurm_feature_parse(const char *name, mipart_compute_mode *ret_compute,
			       mipart_memory_mode *ret_memory)
{
	char c[8];
	const char *us = name ? strchr(name, '_') : NULL;
	mipart_compute_mode cm;
	mipart_memory_mode mm;

	if (!us || (size_t)(us - name) >= sizeof(c))
		return -EINVAL;
	memcpy(c, name, (size_t)(us - name));
	c[us - name] = '\0';
	if (mipart_compute_mode_parse(c, &cm) < 0 || mipart_memory_mode_parse(us + 1, &mm) < 0)
		return -EINVAL;
	*ret_compute = cm;
	*ret_memory = mm;
	return 0;
}

/* The memory modes a GPU can be asked for: available_memory_partition, else the one it has. */
static mipart_mode_set gpu_memory_modes(const mipart_gpu_info *g)
{
	if (g->memory_available)
		return g->memory_available;
	return g->memory != MIPART_MEMORY_UNKNOWN ? MIPART_MODE_BIT(g->memory) : 0;
}

static bool pair_ok(const mipart_gpu_info *g, mipart_compute_mode c, mipart_memory_mode m)
{
	mipart_mode_set cs = g->compute_supported ? g->compute_supported : g->compute_available;

	return (cs & MIPART_MODE_BIT(c)) && (gpu_memory_modes(g) & MIPART_MODE_BIT(m)) &&
	       mipart_mode_pair_valid(c, m, g->num_xcc > 0 ? (unsigned)g->num_xcc : 0,
				      g->gfx_target > 0 ? (unsigned)g->gfx_target : 0);
}

static int mode_features(mipart_slurm_features *f, const mipart_topology *topo)
{
	static const mipart_memory_mode mems[] = { MIPART_MEMORY_NPS1, MIPART_MEMORY_NPS2,
						    MIPART_MEMORY_NPS3, MIPART_MEMORY_NPS4,
						    MIPART_MEMORY_NPS6, MIPART_MEMORY_NPS8 };
	size_t parts = 0;

	/* only the GPUs a job can use (mipart_gpu_usable): a GIM PF or a VF on the bus is none */
	for (size_t i = 0; i < mipart_topology_gpu_count(topo); i++)
		parts += mipart_gpu_usable(mipart_topology_gpu(topo, i)) &&
			 mipart_topology_gpu(topo, i)->partitioning;
	if (!parts)
		return -ENODEV;
	for (int c = MIPART_COMPUTE_SPX; c <= MIPART_COMPUTE_CPX; c++)
		for (size_t k = 0; k < ARRAY_SIZE(mems); k++) {
			bool all = true;

			for (size_t i = 0; i < mipart_topology_gpu_count(topo) && all; i++) {
				const mipart_gpu_info *g = mipart_topology_gpu(topo, i);

				if (mipart_gpu_usable(g) && g->partitioning &&
				    !pair_ok(g, (mipart_compute_mode)c, mems[k]))
					all = false;
			}
			if (!all)
				continue;
			f->f[f->n].compute = (mipart_compute_mode)c;
			f->f[f->n].memory = mems[k];
			mipart_slurm_feature_name((mipart_compute_mode)c, mems[k], f->f[f->n].name,
						  sizeof(f->f[0].name));
			f->n++;
		}
	return 0;
}

int mipart_slurm_features_new(const mipart_topology *topo, const mipart_config *layout,
			      mipart_slurm_features **ret, char *msg, size_t msg_size)
{
	mipart_slurm_features *f = calloc(1, sizeof(*f));
	int r = 0;

	if (!f)
		return -ENOMEM;
	if (msg_size)
		msg[0] = '\0';
	f->layout = layout;
	if (!layout) {
		r = mode_features(f, topo);
		if (r == -ENODEV)
			snprintf(msg, msg_size, "no GPU of this host partitions: no mode features");
	} else if (mipart_config_count(layout) > MIPART_SLURM_MAX_FEATURES) {
		r = -E2BIG;
		snprintf(msg, msg_size, "the layout has %zu configs; Slurm features take at most %d",
			 mipart_config_count(layout), MIPART_SLURM_MAX_FEATURES);
	} else {
		for (size_t i = 0; i < mipart_config_count(layout); i++) {
			const mipart_config_set *s = mipart_config_get(layout, i);
			const char *name = mipart_config_set_name(s);

			if (!mipart_slurm_feature_valid(name)) {
				char shown[80];

				snprintf(msg, msg_size,
					 "config '%s' (line %u) is not a valid Slurm feature name: a letter or '_' first, then letters, digits, '_' or '.'",
					 util_show(name, strlen(name), 64, shown, sizeof(shown)),
					 mipart_config_set_line(s));
				r = -EINVAL;
				break;
			}
			util_strlcpy(f->f[f->n].name, name, sizeof(f->f[0].name));
			f->f[f->n].set = s;
			f->f[f->n].compute = MIPART_COMPUTE_UNKNOWN;
			f->f[f->n].memory = MIPART_MEMORY_UNKNOWN;
			f->n++;
		}
	}
	if (r < 0) {
		free(f);
		return r;
	}
	*ret = f;
	return 0;
}

mipart_slurm_features *mipart_slurm_features_free(mipart_slurm_features *f)
{
	free(f);
	return NULL;
}

size_t mipart_slurm_features_count(const mipart_slurm_features *f)
{
	return f ? f->n : 0;
}

const char *mipart_slurm_features_name(const mipart_slurm_features *f, size_t i)
{
	return f && i < f->n ? f->f[i].name : NULL;
}

static int feature_targets(const struct feature *ft, const mipart_topology *topo,
			   mipart_target *targets, size_t n, char *msg, size_t msg_size)
{
	if (n != mipart_topology_gpu_count(topo))
		return -EINVAL;
	if (ft->set) {
		unsigned line = 0, col = 0;

		return mipart_layout_resolve(ft->set, topo, targets, n, &line, &col, msg, msg_size);
	}
	for (size_t i = 0; i < n; i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(topo, i);
		bool p = g->partitioning && mipart_gpu_usable(g);

		targets[i] = (mipart_target){ p, p ? ft->compute : MIPART_COMPUTE_UNKNOWN,
					      p ? ft->memory : MIPART_MEMORY_UNKNOWN };
	}
	return 0;
}

bool mipart_slurm_features_active(const mipart_slurm_features *f, size_t i,
				  const mipart_topology *topo)
{
	size_t n = mipart_topology_gpu_count(topo), selected = 0;
	mipart_target *t;
	bool active = true;
	char msg[320];

	if (!f || i >= f->n || !n)
		return false;
	t = calloc(n, sizeof(*t));
	if (!t || feature_targets(&f->f[i], topo, t, n, msg, sizeof(msg)) < 0) {
		free(t);
		return false;
	}
	for (size_t g = 0; g < n && active; g++) {
		const mipart_gpu_info *gi = mipart_topology_gpu(topo, g);

		if (!t[g].selected || !mipart_gpu_usable(gi))
			continue;
		selected++;
		if (t[g].compute != MIPART_COMPUTE_UNKNOWN && gi->compute != t[g].compute)
			active = false;
		if (t[g].memory != MIPART_MEMORY_UNKNOWN && gi->memory != t[g].memory)
			active = false;
	}
	free(t);
	return active && selected;
}

int mipart_slurm_features_targets(const mipart_slurm_features *f, const char *name,
				  const mipart_topology *topo, mipart_target *targets, size_t n,
				  char *msg, size_t msg_size)
{
	for (size_t i = 0; f && i < f->n; i++)
		if (!strcmp(f->f[i].name, name))
			return feature_targets(&f->f[i], topo, targets, n, msg, msg_size);
	{
		char shown[80];

		snprintf(msg, msg_size, "'%s' is not a feature of this node ('mipart slurm helpers-conf' lists them)",
			 util_show(name, strlen(name), 64, shown, sizeof(shown)));
	}
	return -ENOENT;
}

/* A growing text with a cap (the gres.conf and helpers.conf writers), on util_vappendf. */
struct text {
	char *buf;
	size_t len, cap, max;
	int err;
};

static void addf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(struct text *t, const char *fmt, ...)
{
	va_list ap;

	if (!t->buf && !t->err) {
		t->cap = t->max < 1024 ? t->max : 1024;
		t->buf = malloc(t->cap);
		if (!t->buf) {
			t->err = -ENOMEM;
			return;
		}
		t->buf[0] = '\0';
	}
	va_start(ap, fmt);
	util_vappendf(&t->buf, &t->len, &t->cap, t->max, &t->err, fmt, ap);
	va_end(ap);
}

static int text_done(struct text *t, char **ret)
{
	if (!t->err && !t->buf)
		addf(t, "%s", "");
	if (t->err) {
		free(t->buf);
		return t->err;
	}
	*ret = t->buf;
	return 0;
}

int mipart_slurm_helpers_conf(const mipart_slurm_features *f, const char *helper,
			      unsigned exec_time_s, char **ret_text)
{
	struct text t = { .max = 1024 * 1024 };

	/* s_p_parse_file (parse_config.c) splits values at white space; '#' starts a comment */
	if (!helper || helper[0] != '/' || strpbrk(helper, " \t\r\n#\"'") || !f)
		return -EINVAL;
	addf(&t, "# helpers.conf(5) for node_features/helpers: one feature per %s\n",
	     f->layout ? "config of the layout file" : "mode pair, written by mipart slurm helpers-conf");
	for (size_t i = 0; i < f->n; i++)
		addf(&t, "Feature=%s Helper=%s\n", f->f[i].name, helper);
	if (f->n > 1) {
		addf(&t, "MutuallyExclusive=");
		for (size_t i = 0; i < f->n; i++)
			addf(&t, "%s%s", i ? "," : "", f->f[i].name);
		addf(&t, "\n");
	}
	addf(&t, "ExecTime=%u\n", exec_time_s);
	return text_done(&t, ret_text);
}

/* "mi300x_cpx": the product in lower case (other characters as '_'), then the compute mode. */
static void gres_type(const mipart_gpu_info *g, char *buf, size_t size)
{
	size_t n = 0;

	for (const char *p = g->product ? g->product : "gpu"; *p && n + 1 < size; p++)
		buf[n++] = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '_';
	buf[n] = '\0';
	if (g->partitioning && g->compute != MIPART_COMPUTE_UNKNOWN) {
		const char *c = mipart_compute_mode_name(g->compute);

		if (n + 1 < size)
			buf[n++] = '_';
		for (; *c && n + 1 < size; c++)
			buf[n++] = (char)tolower((unsigned char)*c);
		buf[n] = '\0';
	}
}

/* The CPUs of NUMA node `node` (drivers/base/node.c: cpulist_show), or "" when not stated. */
static void numa_cpus(const mipart_host *host, int node, char *buf, size_t size)
{
	char rel[96], path[MIPART_PATH_MAX], data[UTIL_ATTR_MAX + 1];
	ssize_t n;

	buf[0] = '\0';
	if (node < 0)
		return;
	snprintf(rel, sizeof(rel), "/sys/devices/system/node/node%d/cpulist", node);
	if (mipart_host_path(host, rel, path, sizeof(path)) < 0)
		return;
	n = util_read_file(path, data, UTIL_ATTR_MAX);
	if (n <= 0)
		return;
	while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == ' '))
		data[--n] = '\0';
	if (!n || (size_t)n >= size || strspn(data, "0123456789,-") != (size_t)n)
		return;
	memcpy(buf, data, (size_t)n + 1);
}

static int cmp_index(const void *a, const void *b)
{
	const mipart_partition_info *x = *(const mipart_partition_info *const *)a;
	const mipart_partition_info *y = *(const mipart_partition_info *const *)b;

	return (x->index > y->index) - (x->index < y->index);
}

int mipart_slurm_gres(const mipart_topology *topo, const mipart_host *host, char **ret_text,
		      char *gres_value, size_t gres_value_size)
{
	size_t np = mipart_topology_partition_count(topo), nt = 0;
	const mipart_partition_info **p = NULL;
	struct text t = { .max = MIPART_SLURM_GRES_MAX };
	struct {
		char type[64];
		unsigned count;
	} types[64];
	int r = 0;
	size_t len = 0;

	if (!np)
		return -ENODEV;
	p = calloc(np, sizeof(*p));
	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < np; i++)
		p[i] = mipart_topology_partition(topo, i);
	qsort(p, np, sizeof(*p), cmp_index);
	addf(&t, "# gres.conf(5) written by mipart slurm gres: one gpu per partition, in logical index order\n");
	for (size_t i = 0; i < np; i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(topo, p[i]->gpu);
		char type[64], rel[64], file[MIPART_PATH_MAX], cores[1024];
		size_t k;

		if (p[i]->render_minor < 0) {
			r = -ENODEV;
			goto out;
		}
		gres_type(g, type, sizeof(type));
		snprintf(rel, sizeof(rel), "/dev/dri/renderD%d", p[i]->render_minor);
		r = mipart_host_path(host, rel, file, sizeof(file));
		if (r < 0)
			goto out;
		/* gres.conf words end at white space; '#' starts a comment (parse_config.c) */
		if (strpbrk(file, " \t\r\n#")) {
			r = -EINVAL;
			goto out;
		}
		numa_cpus(host, g->numa_node, cores, sizeof(cores));
		/* Flags=amd_gpu_env: only ROCR_VISIBLE_DEVICES, not also CUDA_VISIBLE_DEVICES,
		 * which ROCm would apply a second time (gres.conf(5), Slurm 22.05) */
		addf(&t, "Name=gpu Type=%s File=%s%s%s Flags=amd_gpu_env\n", type, file,
		     cores[0] ? " Cores=" : "", cores);
		for (k = 0; k < nt; k++)
			if (!strcmp(types[k].type, type))
				break;
		if (k == nt) {
			if (nt == ARRAY_SIZE(types)) {
				r = -E2BIG;
				goto out;
			}
			util_strlcpy(types[nt].type, type, sizeof(types[0].type));
			types[nt++].count = 0;
		}
		types[k].count++;
	}
	if (gres_value_size)
		gres_value[0] = '\0';
	for (size_t k = 0; k < nt; k++) {
		int n = snprintf(gres_value + len, gres_value_size - len, "%sgpu:%s:%u", k ? "," : "",
				 types[k].type, types[k].count);

		if (n < 0 || (size_t)n >= gres_value_size - len) {
			r = -ENOSPC;
			goto out;
		}
		len += (size_t)n;
	}
	addf(&t, "# slurm.conf: NodeName=... Gres=%s\n", gres_value);
out:
	free(p);
	if (r < 0) {
		free(t.buf);
		return r;
	}
	return text_done(&t, ret_text);
}

static int parse_bool(const char *v, bool *ret)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1")) {
		*ret = true;
		return 0;
	}
	if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0")) {
		*ret = false;
		return 0;
	}
	return -EINVAL;
}

int slurm_settings_parse(const char *buf, const char *file, mipart_slurm_settings *s, char *msg,
			 size_t msg_size)
{
	static const struct {
		const char *key;
		size_t off, size;
	} keys[] = {
		{ "GresConf", offsetof(mipart_slurm_settings, gres_conf), MIPART_SLURM_SETTING_MAX },
		{ "SlurmConf", offsetof(mipart_slurm_settings, slurm_conf), MIPART_SLURM_SETTING_MAX },
		{ "NodeName", offsetof(mipart_slurm_settings, node_name), 256 },
		{ "Scontrol", offsetof(mipart_slurm_settings, scontrol), MIPART_SLURM_SETTING_MAX },
		{ "Layout", offsetof(mipart_slurm_settings, layout), MIPART_SLURM_SETTING_MAX },
	};
	unsigned line = 0;

	memset(s, 0, sizeof(*s));
	util_strlcpy(s->scontrol, "scontrol", sizeof(s->scontrol));
	while (*buf) {
		size_t len = strcspn(buf, "\n"), klen;
		char l[MIPART_SLURM_SETTING_MAX + 64], *k, *v, *e;
		bool done = false;

		line++;
		if (len >= sizeof(l)) {
			snprintf(msg, msg_size, "%s:%u: line too long", file, line);
			return -EINVAL;
		}
		memcpy(l, buf, len);
		l[len] = '\0';
		buf += len + (buf[len] == '\n');
		if ((e = strchr(l, '#')))
			*e = '\0';
		for (k = l; *k == ' ' || *k == '\t'; k++)
			;
		e = k + strlen(k);
		while (e > k && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (!*k)
			continue;
		v = strchr(k, '=');
		if (!v || v == k) {
			snprintf(msg, msg_size, "%s:%u: expected Key=Value", file, line);
			return -EINVAL;
		}
		klen = (size_t)(v - k);
		v++;
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
			if (strlen(keys[i].key) == klen && !strncasecmp(k, keys[i].key, klen)) {
				if (strlen(v) >= keys[i].size) {
					snprintf(msg, msg_size, "%s:%u: value too long", file, line);
					return -EINVAL;
				}
				util_strlcpy((char *)s + keys[i].off, v, keys[i].size);
				done = true;
			}
		if (!done && klen == 11 && !strncasecmp(k, "Reconfigure", klen))
			done = parse_bool(v, &s->reconfigure) == 0 ||
			       (snprintf(msg, msg_size, "%s:%u: Reconfigure takes yes or no", file, line), false);
		else if (!done && klen == 14 && !strncasecmp(k, "DrainOnFailure", klen))
			done = parse_bool(v, &s->drain_on_failure) == 0 ||
			       (snprintf(msg, msg_size, "%s:%u: DrainOnFailure takes yes or no", file, line), false);
		else if (!done) {
			char shown[80];

			snprintf(msg, msg_size,
				 "%s:%u: unknown key '%s' (GresConf, SlurmConf, NodeName, Scontrol, Layout, Reconfigure, DrainOnFailure)",
				 file, line, util_show(k, klen, 32, shown, sizeof(shown)));
			return -EINVAL;
		}
		if (!done)
			return -EINVAL;
	}
	if (s->node_name[0] && strpbrk(s->node_name, " \t,[]")) {
		snprintf(msg, msg_size, "%s: NodeName names one node", file);
		return -EINVAL;
	}
	return 0;
}

int mipart_slurm_settings_load(const mipart_host *host, mipart_slurm_settings *ret, char *msg,
			       size_t msg_size)
{
	char path[MIPART_PATH_MAX], *buf;
	ssize_t n;
	int r;

	if (msg_size)
		msg[0] = '\0';
	memset(ret, 0, sizeof(*ret));
	util_strlcpy(ret->scontrol, "scontrol", sizeof(ret->scontrol));
	r = mipart_host_path(host, MIPART_SLURM_SETTINGS_PATH, path, sizeof(path));
	if (r < 0)
		return r;
	buf = malloc(MIPART_SLURM_SETTINGS_MAX_SIZE + 1);
	if (!buf)
		return -ENOMEM;
	n = util_read_file(path, buf, MIPART_SLURM_SETTINGS_MAX_SIZE);
	if (n == -ENOENT) {
		free(buf);
		return 0;
	}
	if (n < 0) {
		snprintf(msg, msg_size, "cannot read '%s': %s", path, util_strerror((int)n));
		free(buf);
		return (int)n;
	}
	if (memchr(buf, '\0', (size_t)n)) {
		snprintf(msg, msg_size, "%s: holds a NUL byte", path);
		free(buf);
		return -EINVAL;
	}
	r = slurm_settings_parse(buf, path, ret, msg, msg_size);
	free(buf);
	return r < 0 ? r : 1;
}

/* The value of the first "NodeName=" word of a line, or NULL: [ret, ret + *len). */
static const char *line_node_name(const char *l, size_t llen, size_t *len)
{
	size_t i = 0;

	while (i < llen && (l[i] == ' ' || l[i] == '\t'))
		i++;
	if (llen - i < 9 || strncasecmp(l + i, "NodeName=", 9))
		return NULL;
	i += 9;
	*len = 0;
	while (i + *len < llen && !isspace((unsigned char)l[i + *len]))
		(*len)++;
	return l + i;
}

int mipart_slurm_set_node_gres(const char *conf, const char *node_name, const char *gres,
			       char **ret_text)
{
	struct text t = { .max = SLURM_CONF_MAX + 4096 };
	const char *p = conf;
	bool found = false, listed = false;
	size_t nlen = strlen(node_name);

	while (*p) {
		size_t llen = strcspn(p, "\n"), vlen = 0;
		const char *v = line_node_name(p, llen, &vlen);

		if (v && vlen == nlen && !strncmp(v, node_name, nlen) && !found) {
			/* the line without its Gres= word(s), then the new one */
			size_t i = 0;

			while (i < llen) {
				size_t ws = i, wl;

				while (i < llen && (p[i] == ' ' || p[i] == '\t'))
					i++;
				wl = i;
				while (i < llen && !isspace((unsigned char)p[i]))
					i++;
				if (i - wl >= 5 && !strncasecmp(p + wl, "Gres=", 5))
					continue;
				addf(&t, "%.*s", (int)(i - ws), p + ws);
			}
			addf(&t, " Gres=%s", gres);
			found = true;
		} else {
			/* a host list or range may hold the node (mipart does not expand them) */
			if (v && (memchr(v, ',', vlen) || memchr(v, '[', vlen)))
				listed = true;
			addf(&t, "%.*s", (int)llen, p);
		}
		p += llen;
		if (*p == '\n') {
			addf(&t, "\n");
			p++;
		}
	}
	if (!found) {
		free(t.buf);
		return listed ? -EINVAL : -ENOENT;
	}
	return text_done(&t, ret_text);
}

static int scontrol_run(const mipart_slurm_settings *s, const char *const *args, char *msg,
			size_t msg_size)
{
	const char *argv[8] = { s->scontrol[0] ? s->scontrol : "scontrol" };
	struct spawn_result res = { 0 };
	size_t n = 1;
	int r;

	for (; args[n - 1] && n + 1 < ARRAY_SIZE(argv); n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	r = spawn_run((char *const *)argv, SCONTROL_TIMEOUT_MS, &res);
	if (r < 0) {
		snprintf(msg, msg_size, "cannot run '%s': %s", argv[0], util_strerror(r));
		return r;
	}
	if (res.status != 0) {
		char shown[256];
		size_t l = res.len;

		while (l && (res.output[l - 1] == '\n' || res.output[l - 1] == ' '))
			l--;
		snprintf(msg, msg_size, "'%s %s' failed (status %d): %s", argv[0], argv[1], res.status,
			 util_show(res.output, l, 200, shown, sizeof(shown)));
		r = -EIO;
	}
	free(res.output);
	return r;
}

int mipart_slurm_drain(const mipart_slurm_settings *s, const char *reason, char *msg,
		       size_t msg_size)
{
	char node[300], why[512];
	const char *args[5] = { "update", node, "State=DRAIN", why, NULL };

	if (!s->node_name[0]) {
		snprintf(msg, msg_size, "no NodeName in " MIPART_SLURM_SETTINGS_PATH ": cannot drain");
		return -EINVAL;
	}
	snprintf(node, sizeof(node), "NodeName=%s", s->node_name);
	snprintf(why, sizeof(why), "Reason=%s", reason);
	return scontrol_run(s, args, msg, msg_size);
}

static int rewrite_slurm_conf(const char *path, const char *node, const char *gres, char *msg,
			      size_t msg_size)
{
	char *buf = malloc(SLURM_CONF_MAX + 1), *out = NULL;
	ssize_t n;
	int r;

	if (!buf)
		return -ENOMEM;
	n = util_read_file(path, buf, SLURM_CONF_MAX);
	if (n < 0) {
		snprintf(msg, msg_size, "cannot read '%s': %s", path, util_strerror((int)n));
		free(buf);
		return (int)n;
	}
	r = mipart_slurm_set_node_gres(buf, node, gres, &out);
	if (r == -ENOENT)
		snprintf(msg, msg_size, "no 'NodeName=%s' line in '%s'", node, path);
	else if (r == -EINVAL)
		snprintf(msg, msg_size,
			 "'%s' lists node '%s' with others on one NodeName line: give it a line of its own",
			 path, node);
	else if (r == 0 && strcmp(out, buf) && (r = util_write_file_durable(path, out, strlen(out), 0644)) < 0)
		snprintf(msg, msg_size, "cannot write '%s': %s", path, util_strerror(r));
	free(out);
	free(buf);
	return r;
}

int mipart_slurm_after_change(const mipart_host *host, char *msg, size_t msg_size)
{
	mipart_slurm_settings s;
	mipart_topology *t = NULL;
	char path[MIPART_PATH_MAX], gres[1024], *text = NULL;
	int r = mipart_slurm_settings_load(host, &s, msg, msg_size);

	if (r <= 0 || !s.gres_conf[0])
		return r;
	r = mipart_topology_load(host, &t);
	if (r == 0)
		r = mipart_slurm_gres(t, host, &text, gres, sizeof(gres));
	if (r < 0) {
		snprintf(msg, msg_size, "cannot make gres.conf: %s", mipart_strerror(r));
		goto out;
	}
	r = mipart_host_path(host, s.gres_conf, path, sizeof(path));
	if (r >= 0 && (r = util_write_file_durable(path, text, strlen(text), 0644)) < 0)
		snprintf(msg, msg_size, "cannot write '%s': %s", path, util_strerror(r));
	if (r >= 0 && s.slurm_conf[0] && s.node_name[0]) {
		r = mipart_host_path(host, s.slurm_conf, path, sizeof(path));
		if (r >= 0)
			r = rewrite_slurm_conf(path, s.node_name, gres, msg, msg_size);
	}
	if (r >= 0 && s.reconfigure) {
		static const char *const args[] = { "reconfigure", NULL };

		r = scontrol_run(&s, args, msg, msg_size);
	}
out:
	free(text);
	mipart_topology_free(t);
	return r < 0 ? r : 1;
}

static const mipart_partition_info *find_item(const mipart_topology *topo, unsigned long v)
{
	for (size_t i = 0; i < mipart_topology_partition_count(topo); i++) {
		const mipart_partition_info *p = mipart_topology_partition(topo, i);

		/* render minors start at 128 (drm_minor_alloc: DRM_MINOR_RENDER * 64 and up);
		 * logical indices stay below 64 */
		if (v >= 128 ? p->render_minor == (int)v : p->index == v)
			return p;
	}
	return NULL;
}

int mipart_slurm_step_partitions(const mipart_topology *topo,
				 const char *(*getenv_fn)(const char *name), size_t *idx,
				 size_t max, char *msg, size_t msg_size)
{
	static const char *const vars[] = { "SLURM_STEP_GPUS", "SLURM_JOB_GPUS",
					    "ROCR_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES" };
	const char *val = NULL, *var = NULL;
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(vars) && !val; i++) {
		const char *v = getenv_fn(vars[i]);

		if (v && v[0]) {
			val = v;
			var = vars[i];
		}
	}
	if (!val) {
		snprintf(msg, msg_size,
			 "no SLURM_STEP_GPUS, SLURM_JOB_GPUS or ROCR_VISIBLE_DEVICES: not in a Slurm step with GPUs (--gres=gpu:N)");
		return -ENOENT;
	}
	while (*val) {
		size_t len = strcspn(val, ",");
		uint64_t v = 0;
		const mipart_partition_info *p;
		char shown[80];

		if (util_parse_u64(val, len, &v) < 0 || v > 1u << 20 ||
		    !(p = find_item(topo, (unsigned long)v))) {
			snprintf(msg, msg_size, "%s holds '%s', which is no partition of this host",
				 var, util_show(val, len, 32, shown, sizeof(shown)));
			return -EINVAL;
		}
		if (n == max) {
			snprintf(msg, msg_size, "%s names more than %zu partitions", var, max);
			return -E2BIG;
		}
		for (size_t i = 0; i < mipart_topology_partition_count(topo); i++)
			if (mipart_topology_partition(topo, i) == p)
				idx[n++] = i;
		val += len + (val[len] == ',');
	}
	return (int)n;
}
