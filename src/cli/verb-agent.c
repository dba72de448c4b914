// SPDX-License-Identifier: MIT
/*
 * `mipart agent`: the Kubernetes node agent (src/lib/fleet/agent.c) from the CLI: options,
 * the backend, the CDI spec after a change, log lines on stderr (the container's log), and
 * SIGTERM/SIGINT to stop after the step in progress. docs/kubernetes.md.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mipart/agent.h"
#include "mipart/error.h"
#include "cli.h"
#include "util.h"
#include "banned.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void agent_log(void *userdata, int level, const char *message)
{
	struct cli *cli = userdata;
	char ts[32], safe[2048];
	struct timespec now;
	struct tm tm;

	if (cli->quiet && level == MIPART_AGENT_INFO)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* what the API server or a pod name says is printed as text, never as terminal codes */
	util_show(message, strlen(message), sizeof(safe) - 1, safe, sizeof(safe));
	fprintf(stderr, "%s %s: %s\n", ts,
		level == MIPART_AGENT_ERROR ? "error" : level == MIPART_AGENT_WARN ? "warning" : "info", safe);
}

static void agent_after_change(void *userdata)
{
	cli_cdi_after_change(userdata, NULL);
}

int verb_agent(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "api-server", required_argument, NULL, 'A' },
		{ "token-file", required_argument, NULL, 'T' },
		{ "ca-file", required_argument, NULL, 'C' },
		{ "node", required_argument, NULL, 'N' },
		{ "config", required_argument, NULL, 'f' },
		{ "label-key", required_argument, NULL, 'K' },
		{ "state-key", required_argument, NULL, 'S' },
		{ "plugin-namespace", required_argument, NULL, 'P' },
		{ "plugin-selector", required_argument, NULL, 'L' },
		{ "labels-file", required_argument, NULL, 'l' },
		{ "drain-timeout", required_argument, NULL, 'D' },
		{ "settle-timeout", required_argument, NULL, 's' },
		{ "once", no_argument, NULL, 'o' },
		{ "systemctl", required_argument, NULL, 'y' },
		{ "host-root", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	mipart_agent_options o = { .log = agent_log, .after_change = agent_after_change,
				   .userdata = cli, .stop = &stop_flag };
	mipart_backend *backend = NULL;
	unsigned long drain = 300, settle = 120;
	const char *ms = getenv("MIPART_AGENT_BACKOFF_MS");
	struct sigaction sa = { .sa_handler = on_signal };
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
		switch (c) {
		case 'A': o.api_server = optarg; break;
		case 'T': o.token_file = optarg; break;
		case 'C': o.ca_file = optarg; break;
		case 'N': o.node = optarg; break;
		case 'f': o.config_file = optarg; break;
		case 'K': o.label_key = optarg; break;
		case 'S': o.state_key = optarg; break;
		case 'P': o.plugin_namespace = optarg; break;
		case 'L': o.plugin_selector = optarg; break;
		case 'l': o.labels_path = optarg; break;
		case 'o': o.once = true; break;
		case 'y': o.systemctl = optarg; break;
		case 'R': o.systemctl_root = optarg; break;
		case 'D':
		case 's':
			if (cli_parse_uint(cli, c == 'D' ? "--drain-timeout" : "--settle-timeout", optarg, 1, 86400,
					   c == 'D' ? &drain : &settle) < 0)
				return EXIT_USAGE;
			break;
		default:
			return cli_usage_error(cli->verb, "unknown option or missing value '%s'", argv[optind - 1]);
		}
	}
	if (cli_check_args(cli, argc - optind) != EXIT_OK)
		return EXIT_USAGE;
	if (!o.systemctl && getenv("MIPART_SYSTEMCTL") && *getenv("MIPART_SYSTEMCTL"))
		o.systemctl = getenv("MIPART_SYSTEMCTL"); /* as apply and set */
	if (o.systemctl_root && o.systemctl_root[0] != '/')
		return cli_usage_error(cli->verb, "'--host-root' takes an absolute path (where the host's / is mounted), not '%s'",
				       o.systemctl_root);
	if (!o.node)
		o.node = getenv("NODE_NAME");
	if (!o.node || !*o.node)
		return cli_usage_error(cli->verb, "which node: '--node NAME' or NODE_NAME (the downward API's spec.nodeName)");
	if (!o.config_file)
		return cli_usage_error(cli->verb, "'--config FILE' is required: a mipart layout file or DCM's config.json");
	if ((o.token_file || o.ca_file) && !o.api_server)
		return cli_usage_error(cli->verb, "'--token-file' and '--ca-file' go with '--api-server'");
	if (ms && *ms) {
		uint64_t v;

		if (util_parse_u64(ms, strlen(ms), &v) < 0 || v < 1 || v > 60000) {
			cli_error("invalid MIPART_AGENT_BACKOFF_MS '%s': expected milliseconds, 1 to 60000", ms);
			return EXIT_USAGE;
		}
		o.backoff_ms = (unsigned)v;
	}
	o.drain_timeout_s = (unsigned)drain;
	o.settle_timeout_s = (unsigned)settle;
	if (cli_open_backend(cli, &backend) < 0)
		return EXIT_FAIL;
	o.backend = backend;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	r = mipart_agent_run(cli->host, &o);
	mipart_backend_free(backend);
	if (r == -EINVAL)
		return cli_usage_error(cli->verb, "invalid node name or label key");
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}
