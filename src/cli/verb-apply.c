// SPDX-License-Identifier: MIT
/*
 * Declarative layouts: `mipart apply -f FILE -c NAME` (through the same change path as set),
 * `mipart assert` (exit 1 with the differences), `mipart export` (the host as a config apply
 * accepts: the round trip is exact), `mipart validate` (the file alone). Formats: docs/config.md.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mipart/apply.h"
#include "mipart/config.h"
#include "mipart/declared.h"
#include "mipart/error.h"
#include "mipart/layout.h"
#include "cli.h"
#include "util.h"
#include "banned.h"

static void config_error(const char *path, int r, const mipart_config_error *e)
{
	if (r == -EINVAL && e->line)
		cli_error("%s:%u:%u: %s", e->file[0] ? e->file : path, e->line, e->column, e->message);
	else if (r == -EINVAL || r == -EFBIG)
		cli_error("%s: %s", path, e->message[0] ? e->message : mipart_strerror(r));
	else
		cli_error("cannot read '%s': %s", path, mipart_strerror(r));
}

/* Load FILE (or parse text, its contents, when not NULL) and pick config NAME (or the only
 * one). Returns an exit code. */
static int load_set(const char *path, const char *text, size_t len, const char *name,
		    mipart_config **ret_cfg, const mipart_config_set **ret_set)
{
	mipart_config_error err = { 0 };
	mipart_config *cfg = NULL;
	int r = text ? mipart_config_parse(text, len, path, &cfg, &err)
		     : mipart_config_load(path, &cfg, &err);

	if (r < 0) {
		config_error(path, r, &err);
		return EXIT_FAIL;
	}
	if (!name && mipart_config_count(cfg) == 1) {
		*ret_set = mipart_config_get(cfg, 0);
	} else if (!name || mipart_config_find(cfg, name, ret_set) < 0) {
		char names[512];
		size_t nl = 0;

		names[0] = '\0';
		for (size_t i = 0; i < mipart_config_count(cfg) && nl < sizeof(names); i++)
			nl += (size_t)snprintf(names + nl, sizeof(names) - nl, "%s%s", i ? ", " : "",
						mipart_config_set_name(mipart_config_get(cfg, i)));
		if (name)
			cli_error("no config '%s' in '%s' (it has: %s)", name, path, names);
		else
			cli_error("'%s' has several configs (%s): choose one with '-c'", path, names);
		mipart_config_free(cfg);
		return EXIT_USAGE;
	}
	*ret_cfg = cfg;
	return EXIT_OK;
}

/* The targets of a config set on this host. Returns an exit code. */
static int resolve(const char *path, const mipart_config_set *set, const mipart_topology *t,
		   mipart_target *targets, size_t n)
{
	char msg[320];
	unsigned line = 0, col = 0;
	int r = mipart_layout_resolve(set, t, targets, n, &line, &col, msg, sizeof(msg));

	if (r < 0) {
		if (line)
			cli_error("%s:%u:%u: %s", path, line, col, msg);
		else
			cli_error("%s: %s", path, msg);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

struct layout_args {
	const char *file, *name;
	bool dry, json, persist;
	unsigned long lock_s, settle_s;
};

static int parse_layout_args(struct cli *cli, int argc, char **argv, bool changes,
			     struct layout_args *a)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "config", required_argument, NULL, 'c' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "lock-timeout", required_argument, NULL, 'L' },
		{ "settle-timeout", required_argument, NULL, 'S' },
		{ "persist", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*a = (struct layout_args){ .lock_s = 30, .settle_s = 120 };
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f:c:n", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			a->file = optarg;
			break;
		case 'c':
			a->name = optarg;
			break;
		case 'j':
			a->json = true;
			break;
		case 'n':
		case 'L':
		case 'S':
		case 'P':
			if (!changes)
				return cli_usage_error(cli->verb, "unknown option '%s'", argv[optind - 1]);
			if (c == 'n')
				a->dry = true;
			else if (c == 'P')
				a->persist = true;
			else if (cli_parse_uint(cli, c == 'L' ? "--lock-timeout" : "--settle-timeout",
						optarg, c == 'L' ? 0 : 1, 3600,
						c == 'L' ? &a->lock_s : &a->settle_s) < 0)
				return EXIT_USAGE;
			break;
		default:
			return cli_usage_error(cli->verb, "unknown option or missing value '%s'",
					       argv[optind - 1]);
		}
	}
	if (cli_check_args(cli, argc - optind) != EXIT_OK)
		return EXIT_USAGE;
	if (!a->file)
		return cli_usage_error(cli->verb, "'-f FILE' is required");
	if (a->persist && a->dry)
		return cli_usage_error(cli->verb, "'--persist' records what was applied: not with '--dry-run'");
	return EXIT_OK;
}

/* A layout file's config resolved on this host. */
struct layout_ctx {
	mipart_config *cfg;
	const mipart_config_set *set;
	mipart_topology *t;
	mipart_target *targets;
	size_t n;
};

static void layout_close(struct layout_ctx *L)
{
	free(L->targets);
	mipart_topology_free(L->t);
	mipart_config_free(L->cfg);
	memset(L, 0, sizeof(*L));
}

/* Read the host and resolve L->set on it. Returns an exit code; on failure everything is
 * released. */
static int layout_resolve(struct cli *cli, const char *file, struct layout_ctx *L)
{
	int rc = cli_load_topology(cli, &L->t);

	if (rc != EXIT_OK)
		goto fail;
	L->n = mipart_topology_gpu_count(L->t);
	rc = EXIT_FAIL;
	if (L->n == 0) {
		cli_error("no AMD GPU found under '%s/sys'", mipart_host_root(cli->host));
		goto fail;
	}
	L->targets = calloc(L->n, sizeof(*L->targets));
	if (!L->targets) {
		cli_error("out of memory");
		goto fail;
	}
	rc = resolve(file, L->set, L->t, L->targets, L->n);
	if (rc == EXIT_OK)
		return EXIT_OK;
fail:
	layout_close(L);
	return rc;
}

/* Load the file (or its text), pick the config, read the host, resolve. Returns an exit code;
 * on failure everything is released. */
static int layout_open(struct cli *cli, const struct layout_args *a, const char *text, size_t len,
		       struct layout_ctx *L)
{
	int rc;

	memset(L, 0, sizeof(*L));
	rc = load_set(a->file, text, len, a->name, &L->cfg, &L->set);
	if (rc != EXIT_OK)
		return rc;
	return layout_resolve(cli, a->file, L);
}

/* Apply L's config through the engine, with the layout's hook units. */
static int layout_apply(struct cli *cli, struct layout_ctx *L, bool dry, bool json,
			unsigned long lock_s, unsigned long settle_s, int argc, char **argv, int lockfd)
{
	const char *units[MIPART_CONFIG_MAX_UNITS];
	size_t n_units = mipart_config_unit_count(L->cfg);
	struct change_opts co = { .dry = dry, .json = json, .lock_s = lock_s, .settle_s = settle_s,
				  .units = units, .argc = argc, .argv = argv, .lock_fd = lockfd };

	for (size_t i = 0; i < n_units && i < MIPART_CONFIG_MAX_UNITS; i++)
		units[co.n_units++] = mipart_config_unit(L->cfg, i);
	return cli_run_change(cli, L->t, L->targets, L->n, &co);
}

/* With --persist the file is read once: the text applied is the text recorded. */
static int read_layout_text(const char *path, char **ret, size_t *ret_len)
{
	char *buf = malloc(MIPART_CONFIG_MAX_SIZE + 1);
	ssize_t n;

	if (!buf) {
		cli_error("out of memory");
		return EXIT_FAIL;
	}
	n = util_read_file(path, buf, MIPART_CONFIG_MAX_SIZE);
	if (n < 0) {
		cli_error("cannot read '%s': %s", path, n == -EFBIG ? "larger than 1 MiB" : mipart_strerror((int)n));
		free(buf);
		return EXIT_FAIL;
	}
	*ret = buf;
	*ret_len = (size_t)n;
	return EXIT_OK;
}

int verb_apply(struct cli *cli, int argc, char **argv)
{
	struct layout_args a;
	struct layout_ctx L;
	char *text = NULL, abs[PATH_MAX];
	size_t len = 0;
	int rc = parse_layout_args(cli, argc, argv, true, &a), lockfd = -1;

	if (rc != EXIT_OK)
		return rc;
	if (a.persist && (rc = read_layout_text(a.file, &text, &len)) != EXIT_OK)
		return rc;
	lockfd = cli_change_lock(cli, a.dry, a.lock_s, argc, argv);
	if (lockfd == -2) {
		rc = EXIT_FAIL;
		lockfd = -1;
		goto out;
	}
	rc = layout_open(cli, &a, text, len, &L);
	if (rc != EXIT_OK)
		goto out;
	rc = layout_apply(cli, &L, a.dry, a.json, a.lock_s, a.settle_s, argc, argv, lockfd);
	/* applied, also when hook units did not start again (an error of its own) */
	if ((rc == EXIT_OK || cli->units_left_stopped) && a.persist) {
		mipart_config_error err = { 0 };
		const char *name = mipart_config_set_name(L.set);
		int r = mipart_declared_write(cli->host, text, len, name,
					      realpath(a.file, abs) ? abs : a.file, &err);

		if (r < 0) {
			cli_error("applied, but cannot record '%s' as the declared state in '%s%s': %s",
				  name, mipart_host_root(cli->host), MIPART_DECLARED_PATH,
				  err.message[0] ? err.message : mipart_strerror(r));
			rc = EXIT_FAIL;
		} else if (!a.json && !cli->quiet) {
			cli_note("declared: '%s' of '%s' is applied at boot (mipart-boot.service) and drift is measured against it",
				 name, a.file);
		}
	}
	layout_close(&L);
out:
	mipart_host_unlock(lockfd);
	free(text);
	return rc;
}

int verb_boot(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "settle-timeout", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	mipart_config_error err = { 0 };
	mipart_declared *d = NULL;
	struct layout_ctx L = { 0 };
	unsigned long settle_s = 300;
	bool dry = false, json = false;
	char path[MIPART_PATH_MAX];
	int c, r, rc, lockfd = -1;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "n", opts, NULL)) != -1) {
		if (c == 'n')
			dry = true;
		else if (c == 'j')
			json = true;
		else if (c == 'S') {
			if (cli_parse_uint(cli, "--settle-timeout", optarg, 1, 3600, &settle_s) < 0)
				return EXIT_USAGE;
		} else
			return cli_usage_error(cli->verb, "unknown option or missing value '%s'",
					       argv[optind - 1]);
	}
	if (cli_check_args(cli, argc - optind) != EXIT_OK)
		return EXIT_USAGE;
	if (mipart_host_path(cli->host, MIPART_DECLARED_PATH, path, sizeof(path)) < 0)
		path[0] = '\0';
	r = mipart_declared_load(cli->host, &d, &err);
	if (r == -ENOENT) {
		if (json)
			return cli_print_json(json_pack("{s:n, s:s}", "declared", "state", "nothing-declared"));
		printf("nothing declared in '%s' ('mipart apply --persist -f FILE -c NAME'): nothing to do\n",
		       path);
		return EXIT_OK;
	}
	if (r < 0) {
		if (err.line)
			cli_error("%s:%u:%u: %s", err.file, err.line, err.column, err.message);
		else
			cli_error("cannot read the declared state '%s': %s", path,
				  err.message[0] ? err.message : mipart_strerror(r));
		return EXIT_FAIL;
	}
	if (!json && !cli->quiet)
		cli_note("declared: '%s' (from '%s', recorded %s)", mipart_declared_config_name(d),
			 mipart_declared_source(d), mipart_declared_time(d));
	/* a change a crash (or the power cut) left running is finished or rolled back first,
	 * so the declared change starts from a host in a known state */
	if (!dry && (rc = cli_recover_if_needed(cli)) != EXIT_OK)
		goto out;
	lockfd = cli_change_lock(cli, dry, 120, argc, argv);
	if (lockfd == -2) {
		rc = EXIT_FAIL;
		lockfd = -1;
		goto out;
	}
	L.set = mipart_declared_set(d);
	rc = layout_resolve(cli, path, &L);
	if (rc != EXIT_OK)
		goto out;
	{
		/* layout_apply takes the hook units from L.cfg; the declared layout owns them */
		const char *units[MIPART_CONFIG_MAX_UNITS];
		const mipart_config *cfg = mipart_declared_layout(d);
		struct change_opts co = { .dry = dry, .json = json, .lock_s = 120,
					  .settle_s = settle_s, .units = units, .argc = argc,
					  .argv = argv, .lock_fd = lockfd };

		for (size_t i = 0; i < mipart_config_unit_count(cfg) && i < MIPART_CONFIG_MAX_UNITS; i++)
			units[co.n_units++] = mipart_config_unit(cfg, i);
		rc = cli_run_change(cli, L.t, L.targets, L.n, &co);
	}
	layout_close(&L);
out:
	mipart_host_unlock(lockfd);
	mipart_declared_free(d);
	return rc;
}

int verb_assert(struct cli *cli, int argc, char **argv)
{
	struct layout_args a;
	struct layout_ctx L;
	json_t *diffs;
	size_t n_diff = 0;
	int rc = parse_layout_args(cli, argc, argv, false, &a);

	if (rc != EXIT_OK)
		return rc;
	rc = layout_open(cli, &a, NULL, 0, &L);
	if (rc != EXIT_OK)
		return rc;
	diffs = json_array();
	for (size_t i = 0; i < L.n && diffs; i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(L.t, i);
		const mipart_target *w = &L.targets[i];
		struct {
			const char *field, *have, *want;
		} d[2];
		size_t k = 0;

		if (!w->selected)
			continue;
		if (w->compute != MIPART_COMPUTE_UNKNOWN && w->compute != g->compute)
			d[k++] = (typeof(d[0])){ "compute", mipart_compute_mode_name(g->compute),
						 mipart_compute_mode_name(w->compute) };
		if (w->memory != MIPART_MEMORY_UNKNOWN && w->memory != g->memory)
			d[k++] = (typeof(d[0])){ "memory", mipart_memory_mode_name(g->memory),
						 mipart_memory_mode_name(w->memory) };
		for (size_t j = 0; j < k; j++) {
			n_diff++;
			json_array_append_new(diffs, json_pack("{s:i, s:s, s:s, s:s, s:s}", "gpu",
							       (int)i, "bdf", g->bdf, "field",
							       d[j].field, "current", d[j].have,
							       "wanted", d[j].want));
			if (!a.json)
				printf("GPU %zu (%s): %s mode is %s, '%s' wants %s\n", i, g->bdf,
				       d[j].field, d[j].have, mipart_config_set_name(L.set), d[j].want);
		}
	}
	if (!diffs) {
		cli_error("out of memory");
		rc = EXIT_FAIL;
	} else if (a.json) {
		json_t *o = json_pack("{s:s, s:b, s:O}", "config", mipart_config_set_name(L.set),
				      "match", n_diff == 0, "differences", diffs);
		cli_print_json(o);
	} else if (n_diff == 0) {
		printf("the host matches '%s'\n", mipart_config_set_name(L.set));
	}
	if (diffs)
		rc = n_diff ? EXIT_FAIL : EXIT_OK;
	json_decref(diffs);
	layout_close(&L);
	return rc;
}

int verb_export(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "name", required_argument, NULL, 'N' },
					      { NULL, 0, NULL, 0 } };
	const char *name = "current";
	mipart_topology *t = NULL;
	unsigned *idx = NULL;
	const char **prod = NULL;
	mipart_compute_mode *cm = NULL;
	mipart_memory_mode *mm = NULL;
	char *text = NULL;
	size_t n, k = 0;
	int c, r, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'N')
			return cli_usage_error(cli->verb, "unknown option or missing value '%s'",
					       argv[optind - 1]);
		name = optarg;
	}
	if (cli_check_args(cli, argc - optind) != EXIT_OK)
		return EXIT_USAGE;
	rc = cli_load_topology(cli, &t);
	if (rc != EXIT_OK)
		return rc;
	rc = EXIT_FAIL;
	n = mipart_topology_gpu_count(t);
	idx = calloc(n + 1, sizeof(*idx));
	prod = calloc(n + 1, sizeof(*prod));
	cm = calloc(n + 1, sizeof(*cm));
	mm = calloc(n + 1, sizeof(*mm));
	if (!idx || !prod || !cm || !mm)
		goto out;
	/* GPUs that partition and whose modes the kernel states; the others go in with unknown
	 * modes, which leaves them out of the config and keeps it from saying "devices: all" */
	for (size_t i = 0; i < n; i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(t, i);
		bool known = g->partitioning && g->mode_source == MIPART_MODE_SOURCE_SYSFS;

		idx[i] = g->index;
		prod[i] = g->product;
		cm[i] = known ? g->compute : MIPART_COMPUTE_UNKNOWN;
		mm[i] = known ? g->memory : MIPART_MEMORY_UNKNOWN;
		k += known;
	}
	r = k ? mipart_config_format(name, n, idx, prod, cm, mm, &text) : -ENODEV;
	if (r == -ENODEV)
		cli_error("no GPU whose partition modes the driver reports");
	else if (r < 0)
		cli_error("cannot export as '%s': %s", name, r == -EINVAL ? "invalid config name" : mipart_strerror(r));
	else if (fputs(text, stdout) >= 0)
		rc = EXIT_OK;
out:
	free(text);
	free(idx);
	free(prod);
	free(cm);
	free(mm);
	mipart_topology_free(t);
	return rc;
}

int verb_validate(struct cli *cli, int argc, char **argv)
{
	struct layout_args a;
	mipart_config_error err = { 0 };
	mipart_config *cfg = NULL;
	const mipart_config_set *set;
	int rc = parse_layout_args(cli, argc, argv, false, &a);
	int r;

	if (rc != EXIT_OK)
		return rc;
	r = mipart_config_load(a.file, &cfg, &err);
	if (r < 0) {
		if (a.json) {
			json_t *o = json_pack("{s:b, s:s, s:i, s:i, s:s}", "valid", 0, "file", a.file,
					      "line", (int)err.line, "column", (int)err.column, "message",
					      err.message[0] ? err.message : mipart_strerror(r));
			cli_print_json(o);
		}
		config_error(a.file, r, &err);
		return EXIT_FAIL;
	}
	if (a.name && mipart_config_find(cfg, a.name, &set) < 0) {
		if (a.json)
			cli_print_json(json_pack("{s:b, s:s, s:s}", "valid", 0, "file", a.file, "message",
						 "no such config"));
		cli_error("no config '%s' in '%s'", a.name, a.file);
		mipart_config_free(cfg);
		return EXIT_USAGE;
	}
	if (a.json) {
		json_t *names = json_array(), *o;

		for (size_t i = 0; i < mipart_config_count(cfg); i++)
			json_array_append_new(names, json_string(mipart_config_set_name(mipart_config_get(cfg, i))));
		o = json_pack("{s:b, s:s, s:o}", "valid", 1, "file", a.file, "configs", names);
		cli_print_json(o);
	} else {
		printf("%s: valid, %zu config%s:", a.file, mipart_config_count(cfg),
		       mipart_config_count(cfg) == 1 ? "" : "s");
		for (size_t i = 0; i < mipart_config_count(cfg); i++)
			printf(" %s", mipart_config_set_name(mipart_config_get(cfg, i)));
		putchar('\n');
	}
	mipart_config_free(cfg);
	return EXIT_OK;
}
