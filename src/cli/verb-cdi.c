// SPDX-License-Identifier: MIT
/*
 * `mipart cdi generate`: the CDI spec of the partitions (kind amd.com/gpu) to
 * /etc/cdi/amd.com-gpu.json under the root, to a file, or to stdout; and the refresh of that
 * spec after a partition change (cli_cdi_after_change). See docs/cdi.md.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mipart/cdi.h"
#include "mipart/error.h"
#include "cli.h"
#include "banned.h"

/* How long a refresh waits for a partition change that holds the writer lock. */
#define CDI_LOCK_TIMEOUT_MS 30000

static int cdi_generate(struct cli *cli, int argc, char **argv);

static const struct verb cdi_verbs[] = {
	{ "generate", 0, 0, cdi_generate, "write the CDI spec of the partitions (kind amd.com/gpu)",
	  "cdi generate [--output FILE] [--stdout]\n"
	  "       default: " MIPART_CDI_PATH " under --root" },
	{ NULL },
};

int verb_cdi(struct cli *cli, int argc, char **argv)
{
	return cli_run_verb(cli, cdi_verbs, "cdi verb", argc - 1, argv + 1);
}

static int cdi_generate(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "stdout", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *output = NULL;
	bool to_stdout = false;
	mipart_topology *t = NULL;
	char *json = NULL;
	char path[MIPART_PATH_MAX];
	int c, r, rc = EXIT_FAIL;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 's':
			to_stdout = true;
			break;
		default:
			return cli_usage_error(cli->verb, "unknown option or missing value '%s'",
					       argv[optind - 1]);
		}
	}
	if (cli_check_args(cli, argc - optind) != EXIT_OK)
		return EXIT_USAGE;
	if (output && to_stdout)
		return cli_usage_error(cli->verb, "give '--output' or '--stdout', not both");
	if (mipart_host_path(cli->host, MIPART_CDI_PATH, path, sizeof(path)) < 0) {
		cli_error("cannot write under '%s': path too long", mipart_host_root(cli->host));
		return EXIT_FAIL;
	}

	if (!output && !to_stdout) {
		/* the shared spec: under the writer lock, from a topology read under it */
		r = mipart_cdi_refresh(cli->host, CDI_LOCK_TIMEOUT_MS);
		if (r == -ENODEV)
			cli_error("no partition with a render node under '%s/sys': nothing to "
				  "write", mipart_host_root(cli->host));
		else if (r == -ETIMEDOUT)
			cli_error("cannot write '%s': another mipart is changing partitions", path);
		else if (r < 0)
			cli_error("cannot write '%s': %s", path, mipart_strerror(r));
		else
			printf("wrote '%s'\n", path);
		return r < 0 ? EXIT_FAIL : EXIT_OK;
	}

	if (cli_load_topology(cli, &t) != EXIT_OK)
		return EXIT_FAIL;
	r = mipart_cdi_generate(t, cli->host, &json);
	if (r == -ENODEV) {
		cli_error("no partition with a render node under '%s/sys': nothing to write",
			  mipart_host_root(cli->host));
		goto out;
	} else if (r < 0) {
		cli_error("cannot generate the CDI spec: %s", mipart_strerror(r));
		goto out;
	}
	if (to_stdout) {
		rc = fputs(json, stdout) < 0 ? EXIT_FAIL : EXIT_OK;
		goto out;
	}
	r = mipart_cdi_write(cli->host, output, json);
	if (r < 0) {
		cli_error("cannot write '%s': %s", output, mipart_strerror(r));
		goto out;
	}
	printf("wrote '%s'\n", output);
	rc = EXIT_OK;
out:
	free(json);
	mipart_topology_free(t);
	return rc;
}

void cli_cdi_after_change(struct cli *cli, const mipart_topology *after)
{
	char path[MIPART_PATH_MAX];
	mipart_topology *t = NULL;
	char *json = NULL;
	int r;

	if (mipart_host_path(cli->host, MIPART_CDI_PATH, path, sizeof(path)) < 0)
		return;
	/* a host that uses mipart's spec has the file; a simulated host always gets one */
	if (access(path, F_OK) != 0 && !mipart_host_is_simulated(cli->host))
		return;
	/* called by the engine under the writer lock, before the hooks start the services that
	 * may ask for the new devices: no lock here */
	/* the host as the engine verified it, else read it now */
	r = after ? 0 : mipart_topology_load(cli->host, &t);
	if (r == 0)
		r = mipart_cdi_generate(after ? after : t, cli->host, &json);
	if (r == 0)
		r = mipart_cdi_write(cli->host, NULL, json);
	free(json);
	mipart_topology_free(t);
	if (r < 0)
		cli_warn(cli, "cannot update the CDI spec '%s': %s; run 'mipart cdi generate'",
			 path, r == -ETIMEDOUT ? "another mipart is changing partitions"
					 : mipart_strerror(r));
}
