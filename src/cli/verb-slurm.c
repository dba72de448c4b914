// SPDX-License-Identifier: MIT
/*
 * mipart slurm: the node_features/helpers program (`slurm helper`, also installed as
 * mipart-slurm-helper), the helpers.conf lines that register it (`slurm helpers-conf`), and
 * gres.conf for the partitions (`slurm gres`). The policy is in src/lib/fleet/slurm.c; see
 * docs/slurm.md.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mipart/config.h"
#include "mipart/error.h"
#include "mipart/slurm.h"
#include "cli.h"
#include "util.h"
#include "banned.h"

/* Slurm's default ExecTime is 10 s (node_features_helpers.c: exec_time); a memory mode change
 * reloads amdgpu, which takes minutes on a node of eight GPUs: the printed value leaves room. */
#define DEFAULT_EXEC_TIME_S 300
/* How long the helper waits for another change to finish; well inside ExecTime. */
#define HELPER_LOCK_TIMEOUT_S 10

static int slurm_helper(struct cli *cli, int argc, char **argv);
static int slurm_helpers_conf(struct cli *cli, int argc, char **argv);
static int slurm_gres(struct cli *cli, int argc, char **argv);

static const struct verb slurm_verbs[] = {
	{ "helper", 0, 1, slurm_helper,
	  "the node_features/helpers program: print the active features, or switch to FEATURE",
	  "slurm helper [FEATURE] [--layout FILE]" },
	{ "helpers-conf", 0, 0, slurm_helpers_conf, "print the helpers.conf lines for this node",
	  "slurm helpers-conf [--layout FILE] [--helper PATH] [--exec-time S] [--json]" },
	{ "gres", 0, 0, slurm_gres, "print gres.conf for the partitions, and the Gres= value",
	  "slurm gres [--output FILE] [--json]" },
	{ NULL },
};

int verb_slurm(struct cli *cli, int argc, char **argv)
{
	return cli_run_verb(cli, slurm_verbs, "slurm verb", argc - 1, argv + 1);
}

/* --layout FILE (or the settings' Layout=) into *ret; EXIT_OK with *ret NULL when none. */
static int load_layout(const char *file, mipart_config **ret)
{
	mipart_config_error err = { 0 };
	int r;

	*ret = NULL;
	if (!file || !file[0])
		return EXIT_OK;
	r = mipart_config_load(file, ret, &err);
	if (r < 0) {
		if (err.line)
			cli_error("%s:%u:%u: %s", file, err.line, err.column, err.message);
		else
			cli_error("cannot read '%s': %s", file,
				  err.message[0] ? err.message : mipart_strerror(r));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* The node's features: from the layout, else from the modes of the GPUs of t. */
static int load_features(const mipart_topology *t, const mipart_config *layout,
			 mipart_slurm_features **ret)
{
	char msg[320];
	int r = mipart_slurm_features_new(t, layout, ret, msg, sizeof(msg));

	if (r < 0) {
		cli_error("%s", msg[0] ? msg : mipart_strerror(r));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static int parse_layout_opt(struct cli *cli, int argc, char **argv, const char **layout,
			    const char **helper, unsigned long *exec_time, bool *json,
			    const char **output)
{
	static const struct option opts[] = { { "layout", required_argument, NULL, 'l' },
					      { "helper", required_argument, NULL, 'H' },
					      { "exec-time", required_argument, NULL, 'e' },
					      { "json", no_argument, NULL, 'j' },
					      { "output", required_argument, NULL, 'o' },
					      { NULL, 0, NULL, 0 } };
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'l' && layout)
			*layout = optarg;
		else if (c == 'H' && helper)
			*helper = optarg;
		else if (c == 'e' && exec_time) {
			if (cli_parse_uint(cli, "--exec-time", optarg, 1, 86400, exec_time) < 0)
				return EXIT_USAGE;
		} else if (c == 'j' && json)
			*json = true;
		else if (c == 'o' && output)
			*output = optarg;
		else
			return cli_usage_error(cli->verb, "unknown option or missing value '%s'",
					       argv[optind - 1]);
	}
	return cli_check_args(cli, argc - optind);
}

static int slurm_helper(struct cli *cli, int argc, char **argv)
{
	const char *layout_file = NULL, *feature;
	mipart_slurm_settings s;
	mipart_config *layout = NULL;
	mipart_topology *t = NULL;
	mipart_slurm_features *f = NULL;
	mipart_target *targets = NULL;
	char msg[512];
	int r, rc = parse_layout_opt(cli, argc, argv, &layout_file, NULL, NULL, NULL, NULL);

	if (rc != EXIT_OK)
		return rc;
	feature = optind < argc ? argv[optind] : NULL;
	rc = EXIT_FAIL;
	r = mipart_slurm_settings_load(cli->host, &s, msg, sizeof(msg));
	if (r < 0) {
		cli_error("%s", msg[0] ? msg : mipart_strerror(r));
		return EXIT_FAIL;
	}
	if (load_layout(layout_file ? layout_file : s.layout, &layout) != EXIT_OK)
		return EXIT_FAIL;
	if (cli_load_topology(cli, &t) != EXIT_OK || load_features(t, layout, &f) != EXIT_OK)
		goto out;
	if (!feature) {
		/* get_state: the active features, one per line; Slurm keeps those it registered */
		for (size_t i = 0; i < mipart_slurm_features_count(f); i++)
			if (mipart_slurm_features_active(f, i, t))
				printf("%s\n", mipart_slurm_features_name(f, i));
		rc = EXIT_OK;
		goto out;
	}
	targets = calloc(mipart_topology_gpu_count(t) + 1, sizeof(*targets));
	if (!targets)
		goto out;
	r = mipart_slurm_features_targets(f, feature, t, targets, mipart_topology_gpu_count(t), msg,
					  sizeof(msg));
	if (r < 0) {
		cli_error("%s", msg);
	} else {
		char *jargv[] = { "slurm", "helper", (char *)feature, NULL };
		struct change_opts co = { .lock_s = HELPER_LOCK_TIMEOUT_S, .argc = 3, .argv = jargv,
					  .message = msg, .message_size = sizeof(msg) };

		msg[0] = '\0';
		rc = cli_run_change(cli, t, targets, mipart_topology_gpu_count(t), &co);
		if (rc == EXIT_OK)
			goto out;
	}
	/* Slurm 22.05 ignores the helper's status (slurmd req.c: _rpc_reboot casts
	 * node_features_g_node_set to void): the helper takes the node out of service itself */
	if (s.drain_on_failure) {
		char reason[300], dmsg[512];

		snprintf(reason, sizeof(reason), "mipart: cannot switch to %.64s: %.200s", feature,
			 msg[0] ? msg : "see mipart history");
		for (char *p = reason; *p; p++)
			if (*p == '\n' || *p == '\r' || *p == '\t')
				*p = ' ';
		if (mipart_slurm_drain(&s, reason, dmsg, sizeof(dmsg)) < 0)
			cli_error("cannot drain the node: %s", dmsg);
		else
			cli_note("drained node %s: %s", s.node_name, reason);
	}
	rc = EXIT_FAIL;
out:
	free(targets);
	mipart_slurm_features_free(f);
	mipart_topology_free(t);
	mipart_config_free(layout);
	return rc;
}

/* The helper beside this binary: "<dir of /proc/self/exe>/mipart-slurm-helper". */
static void default_helper(char *buf, size_t size)
{
	char exe[1024];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0) {
		snprintf(buf, size, "/usr/bin/mipart-slurm-helper");
		return;
	}
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	if ((size_t)snprintf(buf, size, "%.1000s/mipart-slurm-helper", exe) >= size)
		snprintf(buf, size, "/usr/bin/mipart-slurm-helper");
}

static int slurm_helpers_conf(struct cli *cli, int argc, char **argv)
{
	const char *layout_file = NULL, *helper = NULL;
	unsigned long exec_time = DEFAULT_EXEC_TIME_S;
	bool json = false;
	mipart_slurm_settings s;
	mipart_config *layout = NULL;
	mipart_topology *t = NULL;
	mipart_slurm_features *f = NULL;
	char def[MIPART_PATH_MAX], msg[512], *text = NULL;
	int r, rc = parse_layout_opt(cli, argc, argv, &layout_file, &helper, &exec_time, &json, NULL);

	if (rc != EXIT_OK)
		return rc;
	rc = EXIT_FAIL;
	r = mipart_slurm_settings_load(cli->host, &s, msg, sizeof(msg));
	if (r < 0) {
		cli_error("%s", msg[0] ? msg : mipart_strerror(r));
		return EXIT_FAIL;
	}
	if (!helper) {
		default_helper(def, sizeof(def));
		helper = def;
	}
	if (load_layout(layout_file ? layout_file : s.layout, &layout) != EXIT_OK)
		return EXIT_FAIL;
	if (cli_load_topology(cli, &t) != EXIT_OK || load_features(t, layout, &f) != EXIT_OK)
		goto out;
	r = mipart_slurm_helpers_conf(f, helper, (unsigned)exec_time, &text);
	if (r == -EINVAL) {
		rc = cli_usage_error(cli->verb, "invalid '--helper' '%s': an absolute path without spaces, quotes or '#'",
				     helper);
		goto out;
	}
	if (r < 0) {
		cli_error("cannot make helpers.conf: %s", mipart_strerror(r));
		goto out;
	}
	if (json) {
		json_t *o = json_object(), *a = json_array();

		for (size_t i = 0; i < mipart_slurm_features_count(f); i++)
			json_array_append_new(a, json_pack("{s:o, s:b}", "name",
							   cli_json_string(mipart_slurm_features_name(f, i)),
							   "active", mipart_slurm_features_active(f, i, t)));
		json_object_set_new(o, "features", a);
		json_object_set_new(o, "helper", cli_json_string(helper));
		json_object_set_new(o, "exec_time", json_integer((json_int_t)exec_time));
		json_object_set_new(o, "helpers_conf", cli_json_string(text));
		rc = cli_print_json(o);
	} else {
		fputs(text, stdout);
		rc = EXIT_OK;
	}
out:
	free(text);
	mipart_slurm_features_free(f);
	mipart_topology_free(t);
	mipart_config_free(layout);
	return rc;
}

static int slurm_gres(struct cli *cli, int argc, char **argv)
{
	const char *output = NULL;
	bool json = false;
	mipart_topology *t = NULL;
	char gres[1024], *text = NULL;
	int r, rc = parse_layout_opt(cli, argc, argv, NULL, NULL, NULL, &json, &output);

	if (rc != EXIT_OK)
		return rc;
	rc = EXIT_FAIL;
	if (cli_load_topology(cli, &t) != EXIT_OK)
		return EXIT_FAIL;
	r = mipart_slurm_gres(t, cli->host, &text, gres, sizeof(gres));
	if (r == -ENODEV) {
		cli_error("no partition with a render node under '%s/sys': nothing to write",
			  mipart_host_root(cli->host));
		goto out;
	}
	if (r == -EINVAL) {
		cli_error("cannot make gres.conf: a render node path under '%s' holds white space or '#', which gres.conf cannot hold",
			  mipart_host_root(cli->host));
		goto out;
	}
	if (r < 0) {
		cli_error("cannot make gres.conf: %s", mipart_strerror(r));
		goto out;
	}
	if (output) {
		r = util_write_file_durable(output, text, strlen(text), 0644);
		if (r < 0) {
			cli_error("cannot write '%s': %s", output, util_strerror(r));
			goto out;
		}
	}
	if (json) {
		json_t *o = json_object();

		json_object_set_new(o, "gres", cli_json_string(gres));
		json_object_set_new(o, "partitions", json_integer((json_int_t)mipart_topology_partition_count(t)));
		json_object_set_new(o, "output", output ? cli_json_string(output) : json_null());
		json_object_set_new(o, "gres_conf", cli_json_string(text));
		rc = cli_print_json(o);
	} else {
		if (output)
			printf("wrote %s; slurm.conf: Gres=%s\n", output, gres);
		else
			fputs(text, stdout);
		rc = EXIT_OK;
	}
out:
	free(text);
	mipart_topology_free(t);
	return rc;
}
