// SPDX-License-Identifier: MIT
/*
 * `mipart labels`: the node's partition facts as Kubernetes node labels, in Node Feature
 * Discovery's local feature file (src/lib/fleet/labels.c, docs/kubernetes.md).
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mipart/error.h"
#include "mipart/labels.h"
#include "cli.h"
#include "util.h"
#include "banned.h"

/* The labels of this host; reports and returns an exit code. */
int cli_labels(struct cli *cli, const mipart_topology *t, mipart_label *labels, size_t *ret_n)
{
	int r = mipart_labels_for_host(cli->host, t, labels, MIPART_LABELS_MAX);

	if (r == -ENODEV)
		cli_error("no AMD GPU found under '%s/sys'", mipart_host_root(cli->host));
	else if (r == -EAGAIN)
		cli_error("amdgpu drives a GPU whose partitions KFD does not list under '%s/sys' "
			  "(the driver is still loading?): try again", mipart_host_root(cli->host));
	else if (r < 0)
		cli_error("cannot make the node labels: %s", r == -EINVAL ? "the declared state cannot be read ('mipart boot --dry-run' says why)"
								       : mipart_strerror(r));
	if (r < 0)
		return EXIT_FAIL;
	/* read whole, no GPU for pods: the labels say so (mipart-gpus=0), not an error */
	if (!cli->quiet && r == 1 && !strcmp(labels[0].key, MIPART_LABELS_NFD_NS "mipart-gpus"))
		cli_note("no GPU driven by amdgpu under '%s/sys' (a GIM PF or a VF for a VM is none): "
			 "the labels say 0 GPUs", mipart_host_root(cli->host));
	*ret_n = (size_t)r;
	return EXIT_OK;
}

int verb_labels(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "stdout", no_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	mipart_label labels[MIPART_LABELS_MAX];
	mipart_topology *t = NULL;
	const char *output = NULL;
	bool to_stdout = false, json = false;
	size_t n = 0;
	int c, r, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 's':
			to_stdout = true;
			break;
		case 'j':
			json = true;
			break;
		default:
			return cli_usage_error(cli->verb, "unknown option or missing value '%s'",
					       argv[optind - 1]);
		}
	}
	if (cli_check_args(cli, argc - optind) != EXIT_OK)
		return EXIT_USAGE;
	if ((output ? 1 : 0) + to_stdout + json > 1)
		return cli_usage_error(cli->verb, "choose one of '--output', '--stdout' and '--json'");
	rc = cli_load_topology(cli, &t);
	if (rc != EXIT_OK)
		return rc;
	rc = cli_labels(cli, t, labels, &n);
	if (rc != EXIT_OK)
		goto out;
	if (json) {
		json_t *o = json_object();

		for (size_t i = 0; i < n && o; i++)
			json_object_set_new(o, labels[i].key, json_string(labels[i].value));
		rc = cli_print_json(json_pack("{s:o}", "labels", o));
	} else if (to_stdout) {
		for (size_t i = 0; i < n; i++)
			printf("%s=%s\n", labels[i].key, labels[i].value);
	} else {
		mipart_labels_options o = { .path = output };
		mipart_labels_result res = { .path = "" };

		/* written only when it says something else: NFD and watchers see real changes;
		 * where: the library's rule (labels.h) */
		r = mipart_labels_sync(cli->host, &o, &res);
		if (r < 0 && res.nfd_missing) {
			cli_error("cannot write '%s': Node Feature Discovery's features.d directory is missing; "
				  "NFD makes it where it runs ('--output FILE' writes elsewhere, '--stdout' prints)",
				  res.path);
			rc = EXIT_FAIL;
		} else if (r < 0) {
			cli_error("cannot write '%s': %s", res.path[0] ? res.path : output ? output : "the feature file",
				  r == -EBUSY ? "a partition change is running; try again when it is done"
					      : mipart_strerror(r));
			rc = EXIT_FAIL;
		} else if (!cli->quiet) {
			if (r)
				cli_note("wrote %zu labels to '%s'", res.count, res.path);
			else
				cli_note("'%s' is current (%zu labels)", res.path, res.count);
		}
	}
out:
	mipart_topology_free(t);
	return rc;
}
