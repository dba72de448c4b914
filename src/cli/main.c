// SPDX-License-Identifier: MIT
/*
 * mipart: the command-line tool. Global options, then the verb table that dispatches to one
 * file per verb and generates the usage text (wireguard-tools wg.c, systemd verbs.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sys/auxv.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "mipart/error.h"
#include "mipart/journal.h"
#include "cli.h"
#include "jsonutil.h"
#include "util.h"
#include "banned.h"

static int verb_help(struct cli *cli, int argc, char **argv);

static const struct verb verbs[] = {
	{ "status", 0, 0, verb_status, "show each GPU: modes, allowed modes, partitions, hive",
	  "status [--json]" },
	{ "list", 0, 0, verb_list, "show each logical device (partition)", "list [--json]" },
	{ "set", 0, 0, verb_set, "set compute and/or memory modes of GPUs, safely",
	  "set -g GPUS [--compute SPX|DPX|TPX|QPX|CPX] [--memory NPS1|NPS2|NPS4] [--dry-run] [--json]\n"
	  "                  [--lock-timeout S] [--settle-timeout S]   (GPUS: 0,2 | 0000:05:00.0 | all)" },
	{ "reset", 0, 0, verb_reset, "put GPUs back to the driver default (SPX/NPS1)",
	  "reset -g GPUS [--dry-run] [--json]" },
	{ "apply", 0, 0, verb_apply, "bring the GPUs to a named config of a layout file",
	  "apply -f FILE [-c NAME] [--dry-run] [--json] [--lock-timeout S] [--settle-timeout S]\n"
	  "                  [--persist]   (--persist: the host's declared state, applied at boot)" },
	{ "boot", 0, 0, verb_boot, "apply the declared state (mipart-boot.service), journaled",
	  "boot [--dry-run] [--json] [--settle-timeout S]" },
	{ "assert", 0, 0, verb_assert, "exit 0 when the GPUs match a named config, 1 with the differences",
	  "assert -f FILE [-c NAME] [--json]" },
	{ "export", 0, 0, verb_export, "print the GPUs' modes as a layout file that apply accepts",
	  "export [--name NAME]" },
	{ "validate", 0, 0, verb_validate, "check a layout file (schema, names, values)",
	  "validate -f FILE [-c NAME] [--json]" },
	{ "models", 0, -1, verb_models, "list the built-in model catalog, or read models from the Hub again",
	  "models [--json] | models --refresh ORG/NAME... [--json]" },
	{ "estimate", 0, 1, verb_estimate, "what a model needs in memory, and which partitions serve it",
	  "estimate MODEL [--precision P] [--kv-cache-dtype auto|fp8] [--tensor-parallel-size N]\n"
	  "                  [--max-model-len N] [--max-num-seqs S] [--max-num-batched-tokens T]\n"
	  "                  [--device-memory 24GiB|DEVICE | --partition ID] [--gpu-memory-utilization U]\n"
	  "                  [--vllm-version X.Y] [--platform rocm|cuda] [--enforce-eager] [--block-size N]\n"
	  "                  [--max-loras N] [--max-lora-rank R] [--json]\n"
	  "       MODEL: a catalog id or alias ('mipart models'), a directory with config.json, or a\n"
	  "       Hugging Face id (org/name: the cache, then the Hub; HF_TOKEN, HF_ENDPOINT, HF_HUB_OFFLINE)" },
	{ "plan", 0, 0, verb_plan, "choose modes per GPU and a placement for a mix of models",
	  "plan -m MODEL[:COUNT][@PRECISION][,max-model-len=N][,tp=N][,kv-cache-dtype=fp8] ...\n"
	  "                  [--gpus N --product P] [--output FILE] [--name NAME] [--vllm-version X.Y]\n"
	  "                  [--platform rocm|cuda] [--json]\n"
	  "       plan -m ... --nodes N --gpus-per-node G --product P | --inventory NODES.json\n"
	  "                  [--label-key KEY] [--output FILE] [--json]   (a fleet: docs/kubernetes.md)" },
	{ "allocate", 0, 1, verb_allocate, "book memory for a model instance on a partition",
	  "allocate MODEL [--partition ID|auto] [--name NAME] [estimate options] [--json]\n"
	  "       ID: a logical index ('mipart list') or GPU.XCP such as 0.3" },
	{ "release", 1, 1, verb_release, "release an allocation", "release ID|NAME" },
	{ "allocations", 0, 0, verb_allocations, "list the allocations", "allocations [--json]" },
	{ "env", 0, 1, verb_env, "the environment that runs a workload on an allocation or partition",
	  "env [TARGET] [--format sh|dotenv|json|systemd] [--container]   (TARGET: allocation, or 0.3;\n"
	  "           none in a Slurm step: the step's partitions)" },
	{ "docker-args", 0, 1, verb_docker_args, "container flags for an allocation or partition",
	  "docker-args TARGET [--engine docker|podman] [--json]" },
	{ "vllm", 0, -1, verb_vllm, "the vllm serve command for an allocation, sized so that it starts",
	  "vllm ALLOCATION [--format cmd|docker|podman|json] [--image IMAGE] [--vllm-version X.Y]\n"
	  "                  [--platform rocm|cuda] [-- VLLM ARGS...]\n"
	  "       vllm --slurm MODEL [--max-model-len N] [...]   (in a Slurm step)" },
	{ "run", 0, -1, verb_run, "run a command with an allocation's environment (no shell)",
	  "run TARGET -- COMMAND [ARGS...]" },
	{ "k8s-pod", 0, 1, verb_k8s_pod, "a Kubernetes pod pinned to this node, on the partition",
	  "k8s-pod TARGET [--image IMAGE] [--node NAME] [--via auto|cdi|device-plugin]" },
	{ "agent", 0, 0, verb_agent, "the Kubernetes node agent: apply the config a node label names",
	  "agent --config FILE [--node NAME] [--once] [--api-server URL --token-file F [--ca-file F]]\n"
	  "                  [--label-key K] [--state-key K] [--plugin-namespace NS] [--plugin-selector SEL]\n"
	  "                  [--labels-file FILE] [--drain-timeout S] [--settle-timeout S]\n"
	  "                  [--systemctl PROG] [--host-root DIR]   (docs/kubernetes.md)" },
	{ "labels", 0, 0, verb_labels, "the node's partition facts as Kubernetes labels (NFD feature file)",
	  "labels [--output FILE | --stdout | --json]\n"
	  "       default FILE: /etc/kubernetes/node-feature-discovery/features.d/mipart,\n"
	  "       written only where NFD made features.d/" },
	{ "top", 0, 0, verb_top, "show each partition: busy, VRAM, processes, model (refreshing)",
	  "top [--once] [--json] [--interval S] [--sort index|busy|vram|procs|model]\n"
	  "           [--gpu SEL] [--model NAME] [--active] | top --prometheus" },
	{ "history", 0, 0, verb_history, "show the journal of partition changes",
	  "history [--json] [--limit N]" },
	{ "recover", 0, 0, verb_recover, "finish or roll back a change a crash interrupted",
	  "recover" },
	{ "cdi", 1, -1, verb_cdi, "write the CDI spec that gives containers partitions",
	  "cdi generate [--output FILE] [--stdout]", true },
	{ "serve", 0, 0, verb_serve, "serve Prometheus metrics and the status over HTTP",
	  "serve [--listen ADDR:PORT] [--allow-remote] [--interval S] [--config FILE] [--verbose]\n"
	  "                  [--max-connections N] [--per-ip-connections N] [--timeout S]\n"
	  "                  [--max-header-bytes N] [--max-headers N] [--max-connection-time S]\n"
	  "                  [--series mipart|amd|both] [--token-file FILE]\n"
	  "                  [--tls-cert FILE --tls-key FILE]\n"
	  "                  [--labels-file PATH|off] [--labels-interval S]\n"
	  "                  (docs/serve.md)" },
	{ "doctor", 0, 0, verb_doctor, "check everything known to go wrong on a partitioned node, with the fix",
	  "doctor [--json] [-g SEL]   (docs/troubleshooting.md)" },
	{ "slurm", 1, -1, verb_slurm, "Slurm: modes as node features, partitions as GRES",
	  "slurm helper|helpers-conf|gres ... (docs/slurm.md)", true },
	{ "vf", 1, -1, verb_vf, "SR-IOV virtual functions: list, enable, bind, libvirt XML",
	  "vf <verb> ...", true },
	{ "sim", 1, -1, verb_sim, "create and drive a simulated host", "sim <verb> ...", true },
	{ "help", 0, 1, verb_help, "show this help, or a verb's", "help [verb]" },
	{ NULL },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: mipart [--root DIR] [--backend NAME] [--quiet] <verb> [options] [args]\n\n"
		   "Manage the partitions of AMD Instinct GPUs.\n\nverbs:\n");
	cli_print_verbs(f, verbs);
	fprintf(f, "\nglobal options:\n"
		   "  --root DIR   resolve /sys, /proc, /dev, /run, /etc/mipart, /var/lib/mipart under DIR\n"
		   "               (also MIPART_ROOT); a simulated host made by 'mipart sim create'\n"
		   "  --backend NAME\n"
		   "               how modes are changed: auto (sim on a simulated root, else sysfs),\n"
		   "               sysfs, sim or amd-smi; MIPART_BACKEND_TIMEOUT_MS bounds each\n"
		   "               command a backend runs (default 300000)\n"
		   "  --amd-smi PATH\n"
		   "               the program '--backend amd-smi' runs (default: amd-smi from PATH)\n"
		   "  --unload-command 'CMD ARGS', --load-command 'CMD ARGS'\n"
		   "               the driver reload (default 'modprobe -r amdgpu', 'modprobe amdgpu');\n"
		   "               words split on spaces, run without a shell\n"
		   "  --quiet      no progress or warnings on stderr\n"
		   "  --version    print the version\n"
		   "  --help       this text; 'mipart <verb> --help' for a verb\n");
}

void cli_print_verbs(FILE *f, const struct verb *vs)
{
	int w = 0;

	for (const struct verb *v = vs; v->name; v++)
		if ((int)strlen(v->name) > w)
			w = (int)strlen(v->name);
	for (const struct verb *v = vs; v->name; v++)
		fprintf(f, "  %-*s  %s\n", w, v->name, v->summary);
}

static int verb_help(struct cli *cli, int argc, char **argv)
{
	if (argc > 1) {
		for (const struct verb *v = verbs; v->name; v++)
			if (!strcmp(v->name, argv[1])) {
				printf("usage: mipart %s\n\n%s\n", v->usage, v->summary);
				return EXIT_OK;
			}
		cli_error("unknown verb '%s'", argv[1]);
		return EXIT_USAGE;
	}
	usage(stdout);
	return EXIT_OK;
}

/* A message on stderr: what a library or a user put in it (process and allocation names,
 * file contents) may hold escape sequences, so each control character but the newlines
 * between lines is shown as '?' (util_show). */
static void vmessage(const char *prefix, const char *fmt, va_list ap)
{
	char msg[8192];
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t len = n < 0 ? 0 : (size_t)n >= sizeof(msg) ? sizeof(msg) - 1 : (size_t)n, k;

	fputs(prefix, stderr);
	for (size_t i = 0; i < len; i += k) {
		if (msg[i] != '\n' && util_is_control(msg + i, len - i, &k))
			fputc('?', stderr);
		else {
			k = msg[i] == '\n' ? 1 : k;
			fwrite(msg + i, 1, k, stderr);
		}
	}
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("error: ", fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_warn(struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	if (cli->quiet)
		return;
	va_start(ap, fmt);
	vmessage("warning: ", fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("", fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage_error(const struct verb *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("error: ", fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: mipart %s\n", v->usage);
	return EXIT_USAGE;
}

const char *cli_show(const char *s, char *buf, size_t size)
{
	return util_show(s ? s : "", s ? strlen(s) : 0, size - 4, buf, size);
}

int cli_parse_uint(struct cli *cli, const char *flag, const char *s, unsigned long min,
		   unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	if (!s || !*s || *s == '-' || *s == '+')
		goto bad;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		goto bad;
	*ret = v;
	return 0;
bad:
	cli_error("invalid value '%s' for '%s': expected a whole number from %lu to %lu", s ? s : "",
		  flag, min, max);
	if (cli->verb)
		fprintf(stderr, "usage: mipart %s\n", cli->verb->usage);
	return -EINVAL;
}

int cli_load_topology(struct cli *cli, mipart_topology **ret)
{
	mipart_topology *t = NULL;
	int r = mipart_topology_load(cli->host, &t);

	if (r < 0) {
		cli_error("cannot read GPUs under '%s/sys': %s", mipart_host_root(cli->host),
			  r == -ENOENT ? "neither the PCI bus nor the KFD topology is readable"
				       : mipart_strerror(r));
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < mipart_topology_diag_count(t); i++)
		cli_warn(cli, "%s", mipart_topology_diag(t, i));
	{
		/* NPS requests the driver holds, as the journal knows them */
		char path[MIPART_PATH_MAX];
		mipart_journal *j = NULL;

		if (mipart_host_path(cli->host, MIPART_JOURNAL_PATH, path, sizeof(path)) >= 0 &&
		    mipart_journal_open_reader(path, &j) == 0)
			mipart_journal_annotate_pending(j, t);
		mipart_journal_free(j);
	}
	*ret = t;
	return EXIT_OK;
}

int cli_run_verb(struct cli *cli, const struct verb *vs, const char *group, int argc, char **argv)
{
	for (const struct verb *v = vs; argc > 0 && v->name; v++) {
		if (strcmp(v->name, argv[0]))
			continue;
		for (int i = 1; i < argc && strcmp(argv[i], "--") && (!v->group || i == 1); i++)
			if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
				printf("usage: mipart %s\n\n%s\n", v->usage, v->summary);
				return EXIT_OK;
			}
		cli->verb = v;
		optind = 0; /* glibc: full reset for the verb's own getopt */
		return v->fn(cli, argc, argv);
	}
	if (argc > 0)
		cli_error("unknown %s '%s'", group, argv[0]);
	else
		cli_error("no %s given", group); /* "mipart sim" alone */
	/* "sim verb" -> "mipart sim <verb>" */
	fprintf(stderr, "usage: mipart %.*s<verb> [options] [args]\n\n%ss:\n",
		(int)(strlen(group) - strlen("verb")), group, group);
	cli_print_verbs(stderr, vs);
	return EXIT_USAGE;
}

int cli_check_args(struct cli *cli, int n)
{
	const struct verb *v = cli->verb;

	if (n < v->min_args)
		return cli_usage_error(v, "'%s' needs %d argument%s", v->name, v->min_args,
				       v->min_args == 1 ? "" : "s");
	if (v->max_args >= 0 && n > v->max_args)
		return cli_usage_error(v, "too many arguments for '%s'", v->name);
	return EXIT_OK;
}

void cli_quote_argv(int argc, char **argv, char *buf, size_t size)
{
	size_t len = util_strlcpy(buf, "mipart", size);

	for (int i = 0; i < argc && len + 1 < size; i++) {
		bool plain = argv[i][0] != '\0';

		for (const char *s = argv[i]; *s; s++)
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,:/=@+%", *s))
				plain = false;
		if (plain) {
			len += (size_t)snprintf(buf + len, size - len, " %s", argv[i]);
			continue;
		}
		len += (size_t)snprintf(buf + len, size - len, " '");
		for (const char *s = argv[i]; *s && len + 1 < size; s++)
			len += (size_t)snprintf(buf + len, size - len, *s == '\'' ? "'\\''" : "%c", *s);
		if (len + 1 < size)
			len += (size_t)snprintf(buf + len, size - len, "'");
	}
}

/* Split s in place on spaces and tabs into at most max words (no quoting, no shell), followed by
 * NULL. Returns the number of words, or -E2BIG. */
static int split_words(char *s, const char **words, size_t max)
{
	size_t n = 0;
	char *save = NULL;

	for (char *w = strtok_r(s, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (n == max)
			return -E2BIG;
		words[n++] = w;
	}
	words[n] = NULL;
	return (int)n;
}

const char *cli_utf8(const char *s, char *buf, size_t size)
{
	return util_utf8(s, buf, size);
}

json_t *cli_json_string(const char *s)
{
	return util_json_string(s);
}

json_t *cli_json_int_or_null(long long v)
{
	return util_json_int_or_null(v);
}

json_t *cli_json_mode(const char *name)
{
	return util_json_mode(name);
}

void cli_gib(char *buf, size_t size, long long bytes)
{
	if (bytes < 0)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.2f", (double)bytes / (double)(1ull << 30));
}

int cli_print_json(json_t *o)
{
	char *text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
	int r = text && puts(text) >= 0 ? EXIT_OK : EXIT_FAIL;

	free(text);
	json_decref(o);
	return r;
}

int cli_write_file(const char *path, const char *text)
{
	/* temp file, fsync, rename, fsync of the directory */
	return util_write_file_durable(path, text, strlen(text), 0644);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "backend", required_argument, NULL, 'b' },
		{ "amd-smi", required_argument, NULL, 'a' },
		{ "unload-command", required_argument, NULL, 'U' },
		{ "load-command", required_argument, NULL, 'O' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = { .root = getenv("MIPART_ROOT") };
	int c, r, first;
	/* Slurm 22.05 runs the helper for its state with no argv at all (run_command with
	 * script_argv NULL): Linux then passes one empty argument (fs/exec.c: do_execveat_common,
	 * since 5.18) or none; the name is the path the kernel executed (AT_EXECFN) */
	const char *name = argc > 0 && argv[0] && argv[0][0] ? argv[0]
							  : (const char *)getauxval(AT_EXECFN);
	const char *base = name ? strrchr(name, '/') : NULL;
	char *hargv[8] = { "slurm", "helper" };

	/* installed as mipart-slurm-helper, it is the program helpers.conf names: Slurm runs it
	 * with no argument or with the feature (node_features_helpers.c), nothing else */
	base = base ? base + 1 : name ? name : "";
	if (argc < 1)
		argc = 1;
	if (!strcmp(base, "mipart-slurm-helper")) {
		if (argc > 6) {
			cli_error("mipart-slurm-helper takes at most a feature and options");
			return EXIT_USAGE;
		}
		for (int i = 1; i < argc; i++)
			hargv[i + 1] = argv[i];
		if (cli.root && !*cli.root)
			cli.root = NULL;
		r = mipart_host_new(cli.root, &cli.host);
		if (r < 0) {
			cli_error("invalid root '%s': %s", cli.root, mipart_strerror(r));
			return EXIT_USAGE;
		}
		r = cli_run_verb(&cli, verbs, "verb", argc + 1, hargv);
		mipart_host_free(cli.host);
		return r;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+qhV", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			cli.root = optarg;
			break;
		case 'b':
			if (strcmp(optarg, "auto") && strcmp(optarg, "sysfs") && strcmp(optarg, "sim") &&
			    strcmp(optarg, "amd-smi")) {
				cli_error("invalid value '%s' for '--backend': expected auto, sysfs, sim or amd-smi",
					  optarg);
				usage(stderr);
				return EXIT_USAGE;
			}
			cli.backend = optarg;
			break;
		case 'a':
			cli.amdsmi = optarg;
			break;
		case 'U':
		case 'O':
			if (split_words(optarg, c == 'U' ? cli.unload : cli.load, 16) <= 0) {
				cli_error("invalid value for '--%s': 1 to 16 words, split on spaces (no shell)",
					  c == 'U' ? "unload-command" : "load-command");
				return EXIT_USAGE;
			}
			break;
		case 'q':
			cli.quiet = true;
			break;
		case 'V':
			printf("mipart %s\n", MIPART_VERSION);
			return EXIT_OK;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			cli_error("unknown global option '%s'", argv[optind - 1]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (cli.root && !*cli.root)
		cli.root = NULL;
	r = mipart_host_new(cli.root, &cli.host);
	if (r < 0) {
		cli_error("invalid root '%s': %s", cli.root, mipart_strerror(r));
		return EXIT_USAGE;
	}
	first = optind;
	r = cli_run_verb(&cli, verbs, "verb", argc - first, argv + first);
	mipart_host_free(cli.host);
	return r;
}
