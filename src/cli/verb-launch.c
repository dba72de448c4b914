// SPDX-License-Identifier: MIT
/*
 * Launching a workload on an allocation or a partition: `mipart env` (the environment in sh,
 * dotenv, JSON or systemd form), `mipart docker-args`, `mipart vllm` (the vllm serve command
 * with --gpu-memory-utilization and --max-model-len computed so that it starts), `mipart run`
 * (exec with the environment, no shell) and `mipart k8s-pod`. See docs/launch.md. What the
 * variables and the vllm settings are is the library's (src/lib/launch/launch.c); this file
 * parses and prints them in each form.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mipart/catalog.h"
#include "mipart/error.h"
#include "mipart/kubelet.h"
#include "mipart/estimate.h"
#include "mipart/journal.h"
#include "mipart/launch.h"
#include "mipart/labels.h"
#include "mipart/ledger.h"
#include "mipart/slurm.h"
#include "cli.h"
#include "util.h"
#include "banned.h"

#define GIB (1024.0 * 1024.0 * 1024.0)
#define MAX_VARS 16

struct target {
	mipart_topology *t;
	mipart_launch *ln;
	const mipart_partition_info *parts[MIPART_LEDGER_MAX_BOOKINGS];
	size_t n_parts;
	const mipart_allocation *alloc; /* NULL for a bare partition */
};

#define var mipart_env_var

static void target_release(struct target *tg)
{
	mipart_launch_free(tg->ln);
	mipart_topology_free(tg->t);
	memset(tg, 0, sizeof(*tg));
}

/* TARGET: an allocation name or id, else a partition "G.X" (mipart_launch_open). */
static int target_open(struct cli *cli, const char *name, struct target *tg)
{
	mipart_diag d;
	int r;

	memset(tg, 0, sizeof(*tg));
	if (cli_load_topology(cli, &tg->t) != EXIT_OK)
		return EXIT_FAIL;
	r = mipart_launch_open(cli->host, tg->t, name, &tg->ln, &d);
	if (r < 0) {
		cli_error("%s", d.message[0] ? d.message : mipart_strerror(r));
		target_release(tg);
		return d.usage ? EXIT_USAGE : EXIT_FAIL;
	}
	tg->n_parts = mipart_launch_partition_count(tg->ln);
	for (size_t i = 0; i < tg->n_parts; i++)
		tg->parts[i] = mipart_launch_partition(tg->ln, i);
	tg->alloc = mipart_launch_allocation(tg->ln);
	return EXIT_OK;
}

static const char *env_get(const char *name)
{
	return getenv(name);
}

/* The partitions Slurm gave the running step (mipart_slurm_step_partitions, docs/slurm.md);
 * with model, vllm serve of that model on them (mipart_launch_open_step). */
static int target_open_slurm(struct cli *cli, struct target *tg, const char *model,
			     unsigned max_model_len)
{
	size_t idx[MIPART_LEDGER_MAX_BOOKINGS];
	char msg[256];
	int n, r;

	memset(tg, 0, sizeof(*tg));
	if (cli_load_topology(cli, &tg->t) != EXIT_OK)
		return EXIT_FAIL;
	n = mipart_slurm_step_partitions(tg->t, env_get, idx, MIPART_LEDGER_MAX_BOOKINGS, msg,
					 sizeof(msg));
	if (n <= 0) {
		cli_error("%s", n == 0 ? "the Slurm step has no GPU" : msg);
		target_release(tg);
		return n == -ENOENT ? EXIT_USAGE : EXIT_FAIL;
	}
	r = mipart_launch_open_step(tg->t, idx, (size_t)n, model, max_model_len, &tg->ln);
	if (r < 0) {
		cli_error("cannot use the Slurm step's partitions: %s", mipart_strerror(r));
		target_release(tg);
		return EXIT_FAIL;
	}
	tg->n_parts = mipart_launch_partition_count(tg->ln);
	for (size_t i = 0; i < tg->n_parts; i++)
		tg->parts[i] = mipart_launch_partition(tg->ln, i);
	return EXIT_OK;
}

static size_t target_vars(const struct target *tg, bool container, struct var *v)
{
	return mipart_launch_env(tg->ln, container, v, MAX_VARS);
}

/* sh: single quotes hold every byte but the quote itself, written '\'' */
static void print_sh_quoted(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++)
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	fputc('\'', f);
}

/* systemd Environment=: a double-quoted assignment; '%' starts a specifier; no variable
 * expansion happens there, so '$' stays as it is (systemd.exec(5), Environment=) */
static void print_systemd(FILE *f, const struct var *v)
{
	fputs("Environment=\"", f);
	fputs(v->name, f);
	fputc('=', f);
	for (const char *s = v->value; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if (*s == '%')
			fputc('%', f);
		if (*s == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*s, f);
	}
	fputs("\"\n", f);
}

int verb_env(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
					      { "container", no_argument, NULL, 'c' },
					      { NULL, 0, NULL, 0 } };
	const char *format = "sh";
	bool container = false;
	struct target tg;
	struct var v[MAX_VARS];
	size_t n;
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'f')
			format = optarg;
		else if (c == 'c')
			container = true;
		else
			return cli_usage_error(cli->verb, "unknown option or missing value '%s'", argv[optind - 1]);
	}
	if (strcmp(format, "sh") && strcmp(format, "dotenv") && strcmp(format, "json") &&
	    strcmp(format, "systemd"))
		return cli_usage_error(cli->verb, "invalid '--format' '%s': sh, dotenv, json or systemd", format);
	if (argc - optind > 1)
		return cli_usage_error(cli->verb, "give one TARGET (an allocation, or a partition such as 0.3), or none in a Slurm step");
	rc = argc - optind == 1 ? target_open(cli, argv[optind], &tg) : target_open_slurm(cli, &tg, NULL, 0);
	if (rc != EXIT_OK)
		return rc;
	n = target_vars(&tg, container, v);
	if (!strcmp(format, "json")) {
		json_t *o = json_object();

		for (size_t i = 0; i < n; i++)
			json_object_set_new(o, v[i].name, cli_json_string(v[i].value));
		rc = cli_print_json(o);
	} else {
		/* the whole file is built first: a failure prints nothing of it */
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);

		for (size_t i = 0; f && i < n; i++) {
			if (!strcmp(format, "sh")) {
				fprintf(f, "export %s=", v[i].name);
				print_sh_quoted(f, v[i].value);
				fputc('\n', f);
			} else if (!strcmp(format, "systemd")) {
				print_systemd(f, &v[i]);
			} else if (strchr(v[i].value, '\n')) {
				/* docker --env-file takes the rest of the line, unquoted */
				cli_error("the value of %s holds a newline, which a dotenv file cannot carry; use --format json or sh",
					  v[i].name);
				rc = EXIT_FAIL;
				break;
			} else {
				fprintf(f, "%s=%s\n", v[i].name, v[i].value);
			}
		}
		if (!f || fclose(f) != 0) {
			cli_error("cannot build the environment: %s", mipart_strerror(-ENOMEM));
			rc = EXIT_FAIL;
		} else if (rc == EXIT_OK && (fwrite(text, 1, len, stdout) != len || fflush(stdout))) {
			cli_error("cannot write the environment: %s", mipart_strerror(-errno));
			rc = EXIT_FAIL;
		}
		free(text);
	}
	target_release(&tg);
	return rc;
}

/* The container engine's flags: the devices (KFD and exactly the target's render nodes), the
 * groups that own them, and the visibility inside the container. */
static size_t docker_words(const struct target *tg, const char *engine, char words[][600], size_t max)
{
	struct var v[MAX_VARS];
	size_t n = 0, nv = target_vars(tg, true, v);

	snprintf(words[n++], 600, "--device=/dev/kfd");
	for (size_t i = 0; i < tg->n_parts && n < max; i++)
		snprintf(words[n++], 600, "--device=/dev/dri/renderD%d", tg->parts[i]->render_minor);
	if (!strcmp(engine, "podman")) {
		snprintf(words[n++], 600, "--group-add=keep-groups");
	} else {
		snprintf(words[n++], 600, "--group-add=video");
		snprintf(words[n++], 600, "--group-add=render");
	}
	for (size_t i = 0; i < nv && n < max; i++)
		snprintf(words[n++], 600, "--env=%s=%s", v[i].name, v[i].value);
	return n;
}

int verb_docker_args(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "engine", required_argument, NULL, 'e' },
					      { "json", no_argument, NULL, 'j' },
					      { NULL, 0, NULL, 0 } };
	const char *engine = "docker";
	char words[40][600];
	bool json = false;
	struct target tg;
	size_t n;
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'e')
			engine = optarg;
		else if (c == 'j')
			json = true;
		else
			return cli_usage_error(cli->verb, "unknown option or missing value '%s'", argv[optind - 1]);
	}
	if (strcmp(engine, "docker") && strcmp(engine, "podman"))
		return cli_usage_error(cli->verb, "invalid '--engine' '%s': docker or podman", engine);
	if (argc - optind != 1)
		return cli_usage_error(cli->verb, "give one TARGET");
	rc = target_open(cli, argv[optind], &tg);
	if (rc != EXIT_OK)
		return rc;
	n = docker_words(&tg, engine, words, 40);
	if (json) {
		json_t *a = json_array();

		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, cli_json_string(words[i]));
		rc = cli_print_json(a);
	} else {
		for (size_t i = 0; i < n; i++) {
			if (i)
				putchar(' ');
			print_sh_quoted(stdout, words[i]);
		}
		putchar('\n');
	}
	target_release(&tg);
	return rc;
}

int verb_run(struct cli *cli, int argc, char **argv)
{
	struct target tg;
	struct var v[MAX_VARS];
	size_t n;
	int rc, dash;

	for (dash = 1; dash < argc && strcmp(argv[dash], "--"); dash++)
		;
	if (dash != 2 || dash + 1 >= argc)
		return cli_usage_error(cli->verb, "expected TARGET -- COMMAND [ARGS...]");
	rc = target_open(cli, argv[1], &tg);
	if (rc != EXIT_OK)
		return rc;
	n = target_vars(&tg, false, v);
	for (size_t i = 0; i < n; i++)
		if (setenv(v[i].name, v[i].value, 1) < 0) {
			cli_error("cannot set %s: %s", v[i].name, mipart_strerror(-errno));
			target_release(&tg);
			return EXIT_FAIL;
		}
	target_release(&tg);
	fflush(NULL);
	execvp(argv[dash + 1], argv + dash + 1);
	cli_error("cannot run '%s': %s", argv[dash + 1], mipart_strerror(-errno));
	return errno == ENOENT ? 127 : 126;
}

/* A YAML double-quoted scalar: every byte kept, quotes, backslashes and controls escaped. */
/* A YAML double-quoted scalar (YAML 1.2 §7.3.1): '"' and '\\' escaped, control characters
 * (C0, DEL, C1) as \xNN, a byte that is not UTF-8 as \xNN of itself (the nearest YAML can say).
 * dollars: each '$' as "$$", for Kubernetes env values, where "$(VAR)" expands and "$$" is a
 * '$' (Kubernetes api/core/v1 EnvVar.value; third_party/forked/golang/expansion/expand.go). */
static void print_yaml_quoted_env(FILE *f, const char *s, bool dollars)
{
	size_t len = strlen(s), k;

	fputc('"', f);
	for (size_t i = 0; i < len; i += k) {
		unsigned char ch = (unsigned char)s[i];

		if (util_is_control(s + i, len - i, &k))
			fprintf(f, "\\x%02x", k == 2 ? (unsigned char)s[i + 1] : ch);
		else if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch == '$' && dollars)
			fputs("$$", f);
		else
			fwrite(s + i, 1, k, f);
	}
	fputc('"', f);
}

static void print_yaml_quoted(FILE *f, const char *s)
{
	print_yaml_quoted_env(f, s, false);
}

int verb_vllm(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
					      { "image", required_argument, NULL, 'i' },
					      { "vllm-version", required_argument, NULL, 'V' },
					      { "platform", required_argument, NULL, 'F' },
					      { "slurm", no_argument, NULL, 's' },
					      { "max-model-len", required_argument, NULL, 'm' },
					      { NULL, 0, NULL, 0 } };
	const char *format = "cmd", *image = "rocm/vllm:latest";
	bool slurm = false;
	unsigned long max_len = 0;
	char words[64][MIPART_LAUNCH_ARG_MAX], dwords[40][600];
	struct target tg;
	mipart_vllm_plan vp;
	mipart_vllm_overrides over = { 0 };
	mipart_estimate_options eo = { 0 };
	mipart_diag dg;
	struct var v[MAX_VARS];
	size_t n, nd, nv;
	int c, rc, extra = 0, all = argc;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			extra = i + 1;
			argc = i; /* getopt stops here; the rest goes to vllm */
			break;
		}
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'f')
			format = optarg;
		else if (c == 'i')
			image = optarg;
		else if (c == 'V' && cli_parse_vllm_version(cli, optarg, &eo) == 0)
			over.version_set = 1, over.vllm_version = eo.vllm_version;
		else if (c == 'F' && cli_parse_platform(cli, optarg, &eo) == 0)
			over.platform_set = 1, over.cuda = eo.cuda;
		else if (c == 'V' || c == 'F')
			return EXIT_USAGE;
		else if (c == 's')
			slurm = true;
		else if (c == 'm') {
			if (cli_parse_uint(cli, "--max-model-len", optarg, 1, 1u << 24, &max_len) < 0)
				return EXIT_USAGE;
		} else
			return cli_usage_error(cli->verb, "unknown option or missing value '%s'", argv[optind - 1]);
	}
	if (strcmp(format, "cmd") && strcmp(format, "docker") && strcmp(format, "podman") &&
	    strcmp(format, "json"))
		return cli_usage_error(cli->verb, "invalid '--format' '%s': cmd, docker, podman or json", format);
	if (argc - optind != 1)
		return cli_usage_error(cli->verb, slurm ? "give one MODEL (with --slurm)"
						       : "give one allocation (mipart allocate makes one)");
	if (max_len && !slurm)
		return cli_usage_error(cli->verb, "'--max-model-len' goes with '--slurm' (an allocation has its own)");
	rc = slurm ? target_open_slurm(cli, &tg, argv[optind], (unsigned)max_len)
		   : target_open(cli, argv[optind], &tg);
	if (rc != EXIT_OK)
		return rc;
	if (mipart_launch_vllm(tg.ln, &over, &vp, &dg) < 0) {
		cli_error("%s", dg.message);
		target_release(&tg);
		return dg.usage ? EXIT_USAGE : EXIT_FAIL;
	}
	n = mipart_vllm_args(&vp, words, 64);
	for (int i = extra; i > 0 && i < all && n < 64; i++)
		snprintf(words[n++], sizeof(words[0]), "%s", argv[i]);
	if (!strcmp(format, "json")) {
		json_t *o = json_object(), *a = json_array(), *env = json_object(), *d = json_array();

		nv = target_vars(&tg, false, v);
		for (size_t i = 0; i < nv; i++)
			json_object_set_new(env, v[i].name, cli_json_string(v[i].value));
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, cli_json_string(words[i]));
		nd = docker_words(&tg, "docker", dwords, 40);
		for (size_t i = 0; i < nd; i++)
			json_array_append_new(d, cli_json_string(dwords[i]));
		json_object_set_new(o, "env", env);
		json_object_set_new(o, "argv", a);
		json_object_set_new(o, "docker_args", d);
		json_object_set_new(o, "gpu_memory_utilization", json_real(vp.util));
		json_object_set_new(o, "max_model_len", json_integer(vp.max_model_len));
		json_object_set_new(o, "partition_bytes", json_integer((json_int_t)vp.capacity));
		json_object_set_new(o, "margin_bytes", json_integer((json_int_t)vp.margin));
		rc = cli_print_json(o);
	} else {
		if (vp.needed)
			printf("# %.4g of %.2f GiB: vLLM needs %.2f GiB for %u tokens; margin %.2f GiB for allocator fragmentation\n",
			       vp.util, vp.capacity / GIB, vp.needed / GIB, vp.max_model_len, vp.margin / GIB);
		if (!strcmp(format, "cmd")) {
			nv = target_vars(&tg, false, v);
			printf("env");
			for (size_t i = 0; i < nv; i++) {
				char kv[600];

				snprintf(kv, sizeof(kv), "%s=%s", v[i].name, v[i].value);
				putchar(' ');
				print_sh_quoted(stdout, kv);
			}
		} else {
			nd = docker_words(&tg, format, dwords, 40);
			printf("%s run --rm --ipc=host", format);
			for (size_t i = 0; i < nd; i++) {
				putchar(' ');
				print_sh_quoted(stdout, dwords[i]);
			}
			putchar(' ');
			print_sh_quoted(stdout, image);
		}
		for (size_t i = 0; i < n; i++) {
			putchar(' ');
			print_sh_quoted(stdout, words[i]);
		}
		putchar('\n');
	}
	target_release(&tg);
	return rc;
}

/* The device plugin's resource for the partitions of tg on this node (kubelet.h). Returns 1
 * with the name, 0 when no AMD resource is registered (or no checkpoint). */
static int plugin_resource(struct cli *cli, const struct target *tg, char *buf, size_t size)
{
	mipart_kubelet_registry *reg = malloc(sizeof(*reg));
	const char *compute = NULL, *memory = NULL;
	int r;

	if (!reg)
		return 0;
	r = mipart_kubelet_registry_load(cli->host, reg);
	if (r == 0 && tg->n_parts) {
		const mipart_gpu_info *g = mipart_topology_gpu(tg->t, tg->parts[0]->gpu);

		compute = mipart_compute_mode_name(g->compute);
		memory = mipart_memory_mode_name(g->memory);
	}
	if (r == 0)
		r = mipart_kubelet_partition_resource(reg, compute, memory, buf, size);
	free(reg);
	return r > 0;
}

int verb_k8s_pod(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "image", required_argument, NULL, 'i' },
					      { "node", required_argument, NULL, 'n' },
					      { "via", required_argument, NULL, 'v' },
					      { NULL, 0, NULL, 0 } };
	const char *image = "rocm/vllm:latest", *node = NULL, *via = "auto";
	struct target tg;
	struct var v[MAX_VARS];
	char pod[64], *text = NULL, resource[128] = "", host[256] = "";
	size_t text_len = 0;
	FILE *out = NULL;
	size_t nv, k = 0;
	bool use_plugin;
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'i')
			image = optarg;
		else if (c == 'n')
			node = optarg;
		else if (c == 'v')
			via = optarg;
		else
			return cli_usage_error(cli->verb, "unknown option or missing value '%s'", argv[optind - 1]);
	}
	if (argc - optind != 1)
		return cli_usage_error(cli->verb, "give one TARGET");
	if (strcmp(via, "auto") && strcmp(via, "cdi") && strcmp(via, "device-plugin"))
		return cli_usage_error(cli->verb, "'--via' takes auto, cdi or device-plugin");
	/* the pod stays on this node: its name (--node, NODE_NAME) as nodeName, else the host name
	 * as the kubernetes.io/hostname label the kubelet sets by default */
	if (!node && getenv("NODE_NAME") && *getenv("NODE_NAME"))
		node = getenv("NODE_NAME");
	if (node && mipart_k8s_name_valid(node) < 0)
		return cli_usage_error(cli->verb, "'%s' is not a Kubernetes node name", node);
	if (!node && (gethostname(host, sizeof(host) - 1) < 0 || mipart_label_value_valid(host) < 0 || !host[0]))
		return cli_usage_error(cli->verb, "the host name is no label value: give '--node NAME'");
	rc = target_open(cli, argv[optind], &tg);
	if (rc != EXIT_OK)
		return rc;
	use_plugin = !strcmp(via, "device-plugin") ||
		     (!strcmp(via, "auto") && plugin_resource(cli, &tg, resource, sizeof(resource)));
	if (use_plugin && !resource[0] && !plugin_resource(cli, &tg, resource, sizeof(resource)))
		util_strlcpy(resource, "amd.com/gpu", sizeof(resource));
	/* a DNS-1123 name from the allocation name */
	for (const char *s = tg.alloc ? tg.alloc->name : "mipart"; *s && k < 50; s++) {
		char ch = *s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
			pod[k++] = ch;
		else if (k && pod[k - 1] != '-')
			pod[k++] = '-';
	}
	while (k && pod[k - 1] == '-')
		k--;
	snprintf(pod + k, sizeof(pod) - k, "%s", k ? "" : "mipart");
	nv = target_vars(&tg, true, v);
	/* the whole pod is built first, then written */
	out = open_memstream(&text, &text_len);
	if (!out) {
		cli_error("cannot build the pod: %s", mipart_strerror(-ENOMEM));
		target_release(&tg);
		return EXIT_FAIL;
	}
	if (use_plugin)
		fprintf(out, "# the device plugin's resource %s: the plugin chooses which partition (of the\n"
			     "# node's current layout) the pod gets; '--via cdi' names this one\n", resource);
	else
		fprintf(out, "# the CDI device selects the partition: needs a container runtime with CDI enabled and\n"
			     "# the spec from 'mipart cdi generate' in /etc/cdi\n");
	fprintf(out, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n", pod);
	if (!use_plugin) {
		char devs[256];
		size_t len = 0;

		fprintf(out, "  annotations:\n    cdi.k8s.io/mipart: ");
		devs[0] = '\0';
		for (size_t i = 0; i < tg.n_parts && len < sizeof(devs); i++)
			len += (size_t)snprintf(devs + len, sizeof(devs) - len, "%samd.com/gpu=%u.%d",
						i ? "," : "", tg.parts[i]->gpu, tg.parts[i]->xcp);
		print_yaml_quoted(out, devs);
		fputc('\n', out);
	}
	fprintf(out, "spec:\n");
	if (node)
		fprintf(out, "  nodeName: %s\n", node);
	else
		fprintf(out, "  nodeSelector:\n    kubernetes.io/hostname: %s\n", host);
	fprintf(out, "  containers:\n    - name: server\n      image: ");
	print_yaml_quoted(out, image);
	if (use_plugin)
		fprintf(out, "\n      resources:\n        limits:\n          %s: %zu", resource, tg.n_parts ? tg.n_parts : 1);
	fprintf(out, "\n      env:\n");
	for (size_t i = 0; i < nv; i++) {
		/* with the plugin, which partitions the container sees is the plugin's choice: the
		 * partition-specific variables would name others */
		if (use_plugin && (!strcmp(v[i].name, "ROCR_VISIBLE_DEVICES") || !strcmp(v[i].name, "MIPART_PARTITION") ||
				   !strcmp(v[i].name, "MIPART_GPU_BDF") || !strcmp(v[i].name, "AIM_PARTITION_ID")))
			continue;
		fprintf(out, "        - name: %s\n          value: ", v[i].name);
		print_yaml_quoted_env(out, v[i].value, true);
		fputc('\n', out);
	}
	rc = EXIT_OK;
	if (fclose(out) != 0) {
		cli_error("cannot build the pod: %s", mipart_strerror(-ENOMEM));
		rc = EXIT_FAIL;
	} else if (fwrite(text, 1, text_len, stdout) != text_len || fflush(stdout)) {
		cli_error("cannot write the pod: %s", mipart_strerror(-errno));
		rc = EXIT_FAIL;
	}
	free(text);
	target_release(&tg);
	return rc;
}
