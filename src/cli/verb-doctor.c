// SPDX-License-Identifier: MIT
/*
 * `mipart doctor [--json] [-g SEL]`: run the checks of libmipart's doctor (mipart/doctor.h) and
 * print each with what it saw and its fix. Exit 0 when no check fails, 1 otherwise. See
 * docs/troubleshooting.md.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mipart/doctor.h"
#include "mipart/error.h"
#include "mipart/topology.h"
#include "cli.h"
#include "banned.h"

/* the lines of a text as a JSON array */
static json_t *lines_json(const char *s)
{
	json_t *a = json_array();

	while (a && *s) {
		size_t n = strcspn(s, "\n");
		char *line = strndup(s, n);

		if (line)
			json_array_append_new(a, cli_json_string(line));
		free(line);
		s += n;
		if (*s == '\n')
			s++;
	}
	return a;
}

/* each line of s, indented, with a prefix on the first; control bytes escaped */
static void print_lines(const char *prefix, const char *s)
{
	bool first = true;

	while (*s) {
		size_t n = strcspn(s, "\n");
		char *line = strndup(s, n), show[1100];

		if (line)
			printf("        %s%*s%s\n", first ? prefix : "", first ? 0 : (int)strlen(prefix),
			       "", cli_show(line, show, sizeof(show)));
		free(line);
		first = false;
		s += n;
		if (*s == '\n')
			s++;
	}
}

int verb_doctor(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      { "gpus", required_argument, NULL, 'g' },
					      { NULL, 0, NULL, 0 } };
	mipart_doctor_options o = { .amdsmi = cli->amdsmi };
	mipart_doctor_check *v = NULL;
	size_t n = 0, count[4] = { 0 };
	const char *sel = NULL;
	char self[MIPART_PATH_MAX + 32];
	bool json = false;
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "g:", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 'g')
			sel = optarg;
		else
			return cli_usage_error(cli->verb, "unknown option or missing value '%s'",
					       argv[optind - 1]);
	}
	if (cli_check_args(cli, argc - optind) != EXIT_OK)
		return EXIT_USAGE;
	if (sel) {
		mipart_topology *t = NULL;
		bool picked[64] = { false };

		if (mipart_topology_load(cli->host, &t) < 0 || mipart_topology_gpu_count(t) == 0) {
			mipart_topology_free(t);
			cli_error("'-g %s': no AMD GPU found under '%s/sys'", sel,
				  mipart_host_root(cli->host));
			return EXIT_FAIL;
		}
		r = cli_select_gpus(t, sel, picked);
		for (size_t i = 0; r == 0 && i < mipart_topology_gpu_count(t) && i < 64; i++)
			if (picked[i])
				o.gpus |= UINT64_C(1) << i;
		mipart_topology_free(t);
		if (r < 0)
			return EXIT_USAGE;
	}
	/* the fixes name mipart as it was run here: with --root for a simulated host */
	if (cli->root) {
		char *words[] = { (char *)"--root", (char *)cli->root };

		cli_quote_argv(2, words, self, sizeof(self));
		o.self = self;
	}
	r = mipart_doctor_run(cli->host, &o, &v, &n);
	if (r < 0) {
		cli_error("cannot run the checks: %s", mipart_strerror(r));
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < n; i++)
		count[v[i].status]++;
	if (json) {
		json_t *a = json_array();

		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:o, s:o}", "id", v[i].id,
							   "title", v[i].title, "status",
							   mipart_doctor_status_name(v[i].status),
							   "saw", lines_json(v[i].saw), "fix",
							   lines_json(v[i].fix)));
		cli_print_json(json_pack("{s:o, s:{s:I, s:I, s:I, s:I}}", "checks", a, "summary",
					 "ok", (json_int_t)count[MIPART_DOCTOR_OK], "warn",
					 (json_int_t)count[MIPART_DOCTOR_WARN], "fail",
					 (json_int_t)count[MIPART_DOCTOR_FAIL], "skipped",
					 (json_int_t)count[MIPART_DOCTOR_SKIPPED]));
	} else {
		for (size_t i = 0; i < n; i++) {
			printf("%-7s %-24s %s\n", mipart_doctor_status_name(v[i].status), v[i].id,
			       v[i].title);
			print_lines(v[i].status == MIPART_DOCTOR_SKIPPED ? "skipped: " : "", v[i].saw);
			if (v[i].status != MIPART_DOCTOR_OK && v[i].fix[0])
				print_lines("fix: ", v[i].fix);
		}
		printf("\n%zu checks: %zu ok, %zu warn, %zu fail, %zu skipped\n", n,
		       count[MIPART_DOCTOR_OK], count[MIPART_DOCTOR_WARN],
		       count[MIPART_DOCTOR_FAIL], count[MIPART_DOCTOR_SKIPPED]);
	}
	mipart_doctor_free(v, n);
	return count[MIPART_DOCTOR_FAIL] ? EXIT_FAIL : EXIT_OK;
}
