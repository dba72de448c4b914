// SPDX-License-Identifier: MIT
/*
 * Launching a workload on an allocation or a partition: `mipart env` (the environment in sh,
 * dotenv, JSON or systemd form), `mipart docker-args`, `mipart vllm` (the vllm serve command
 * with --gpu-memory-utilization and --max-model-len computed so that it starts), `mipart run`
 * (exec with the environment, no shell) and `mipart k8s-pod`. See docs/launch.md.
 *
 * ROCR_VISIBLE_DEVICES takes the index form: ROCr enumerates GPU agents in KFD node order
 * (docs/discovery.md), which is the partition's logical index; the UUID form ("GPU-<hex>" from
 * unique_id) is ambiguous on kernels where every partition of a GPU shares the GPU's unique_id.
 * HIP_VISIBLE_DEVICES is left alone: HIP numbers what ROCr makes visible from 0, so it would
 * only repeat the filter. Inside a container that sees one render node the index is 0.
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
#include "mipart/estimate.h"
#include "mipart/journal.h"
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
	const mipart_partition_info *parts[MIPART_LEDGER_MAX_BOOKINGS];
	size_t n_parts;
	bool has_alloc;
	mipart_allocation alloc;
	json_t *spec; /* the allocation's spec, or NULL */
};

struct var {
	const char *name;
	char value[512];
};

static void target_release(struct target *tg)
{
	if (tg->has_alloc)
		mipart_allocation_release(&tg->alloc);
	json_decref(tg->spec);
	mipart_topology_free(tg->t);
	memset(tg, 0, sizeof(*tg));
}

static const mipart_partition_info *partition_at(const mipart_topology *t, const char *bdf, unsigned xcp)
{
	for (size_t i = 0; i < mipart_topology_partition_count(t); i++) {
		const mipart_partition_info *p = mipart_topology_partition(t, i);

		if (p->xcp == (int)xcp && !strcmp(mipart_topology_gpu(t, p->gpu)->bdf, bdf))
			return p;
	}
	return NULL;
}

/* TARGET: an allocation name or id, else a partition "G.X" (never a bare logical index: it
 * would read as an allocation id, and it changes when another GPU switches mode). */
static int target_open(struct cli *cli, const char *name, struct target *tg)
{
	char path[MIPART_PATH_MAX];
	mipart_ledger *l = NULL;
	unsigned g, x;
	int r;

	memset(tg, 0, sizeof(*tg));
	if (cli_load_topology(cli, &tg->t) != EXIT_OK)
		return EXIT_FAIL;
	if (mipart_host_path(cli->host, MIPART_JOURNAL_PATH, path, sizeof(path)) >= 0 &&
	    access(path, F_OK) == 0 && mipart_ledger_open(path, &l) == 0) {
		r = mipart_ledger_get(l, name, &tg->alloc);
		mipart_ledger_free(l);
		if (r == 0) {
			tg->has_alloc = true;
			tg->spec = json_loads(tg->alloc.spec, 0, NULL);
			for (size_t b = 0; b < tg->alloc.n_bookings; b++) {
				const mipart_partition_info *p = partition_at(tg->t, tg->alloc.bookings[b].bdf,
									      tg->alloc.bookings[b].xcp);

				if (!p) {
					cli_error("allocation '%s' books %s XCP %u, which this host does not have now",
						  tg->alloc.name, tg->alloc.bookings[b].bdf, tg->alloc.bookings[b].xcp);
					target_release(tg);
					return EXIT_FAIL;
				}
				tg->parts[tg->n_parts++] = p;
			}
			return EXIT_OK;
		}
	}
	if (cli_parse_gpu_xcp(name, &g, &x) == 0 && cli_find_gpu_xcp(tg->t, g, x))
		tg->parts[tg->n_parts++] = cli_find_gpu_xcp(tg->t, g, x);
	if (!tg->n_parts) {
		cli_error("no allocation or partition '%s' (an allocation name or id, or a partition as GPU.XCP such as 0.3)",
			  name);
		target_release(tg);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static const char *env_get(const char *name)
{
	return getenv(name);
}

/* The partitions Slurm gave the running step (mipart_slurm_step_partitions, docs/slurm.md). */
static int target_open_slurm(struct cli *cli, struct target *tg)
{
	size_t idx[MIPART_LEDGER_MAX_BOOKINGS];
	char msg[256];
	int n;

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
	for (int i = 0; i < n; i++)
		tg->parts[tg->n_parts++] = mipart_topology_partition(tg->t, idx[i]);
	return EXIT_OK;
}

/* The variables, host view (container: false) or inside a container that sees only the
 * target's render nodes (container: true). */
static size_t target_vars(const struct target *tg, bool container, struct var *v)
{
	size_t n = 0, len = 0;
	char list[512] = "", parts[512] = "", bdfs[512] = "";
	uint64_t mem = 0;

	for (size_t i = 0; i < tg->n_parts; i++) {
		const mipart_partition_info *p = tg->parts[i];
		const char *bdf = mipart_topology_gpu(tg->t, p->gpu)->bdf;

		len = strlen(list);
		snprintf(list + len, sizeof(list) - len, "%s%u", i ? "," : "", container ? (unsigned)i : p->index);
		len = strlen(parts);
		snprintf(parts + len, sizeof(parts) - len, "%s%u.%d", i ? "," : "", p->gpu, p->xcp);
		if (!strstr(bdfs, bdf)) {
			len = strlen(bdfs);
			snprintf(bdfs + len, sizeof(bdfs) - len, "%s%s", len ? "," : "", bdf);
		}
		if (p->memory_bytes > 0)
			mem += (uint64_t)p->memory_bytes;
	}
	v[n].name = "ROCR_VISIBLE_DEVICES";
	snprintf(v[n++].value, sizeof(v[0].value), "%s", list);
	v[n].name = "MIPART_PARTITION";
	snprintf(v[n++].value, sizeof(v[0].value), "%s", parts);
	v[n].name = "MIPART_GPU_BDF";
	snprintf(v[n++].value, sizeof(v[0].value), "%s", bdfs);
	v[n].name = "MIPART_PARTITION_MEMORY_BYTES";
	snprintf(v[n++].value, sizeof(v[0].value), "%llu", (unsigned long long)mem);
	if (tg->has_alloc) {
		v[n].name = "MIPART_ALLOCATION";
		snprintf(v[n++].value, sizeof(v[0].value), "%s", tg->alloc.name);
		v[n].name = "MIPART_MODEL";
		snprintf(v[n++].value, sizeof(v[0].value), "%s", tg->alloc.model);
		v[n].name = "MIPART_BOOKED_BYTES";
		snprintf(v[n++].value, sizeof(v[0].value), "%llu",
			 (unsigned long long)tg->alloc.bookings[0].bytes);
	}
	return n;
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
	rc = argc - optind == 1 ? target_open(cli, argv[optind], &tg) : target_open_slurm(cli, &tg);
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

struct vllm_plan {
	char model_arg[512];
	double util;
	unsigned max_model_len, max_num_seqs, tp;
	uint64_t capacity, needed, margin;
	const char *precision;
	bool kv_fp8, enforce_eager;
	mipart_estimate_options over;	/* --vllm-version / --platform given to the verb */
	bool version_set, platform_set;
};

static const char *spec_str(json_t *spec, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(spec, key));

	return s ? s : def;
}

static long long spec_int(json_t *spec, const char *key, long long def)
{
	json_t *v = json_object_get(spec, key);

	return json_is_integer(v) ? json_integer_value(v) : def;
}

/* --gpu-memory-utilization from what the allocation booked on the partition, checked with
 * the estimator: at that share, one sequence of max_model_len must fit. */
static int vllm_compute(const struct target *tg, struct vllm_plan *vp)
{
	char err[256] = "";
	mipart_catalog *cat = NULL;
	const mipart_model *m = NULL;
	mipart_estimate_options o = { 0 };
	mipart_estimate e;
	uint64_t booked = tg->alloc.bookings[0].bytes;
	int r;

	vp->capacity = tg->parts[0]->memory_bytes > 0 ? (uint64_t)tg->parts[0]->memory_bytes : 0;
	if (!vp->capacity) {
		cli_error("the memory of partition %u.%d is unknown", tg->parts[0]->gpu, tg->parts[0]->xcp);
		return EXIT_FAIL;
	}
	snprintf(vp->model_arg, sizeof(vp->model_arg), "%s",
		 spec_str(tg->spec, "model_source", tg->alloc.model));
	vp->precision = spec_str(tg->spec, "precision", "auto");
	vp->kv_fp8 = json_is_true(json_object_get(tg->spec, "kv_cache_fp8"));
	vp->enforce_eager = json_is_true(json_object_get(tg->spec, "enforce_eager"));
	vp->tp = (unsigned)spec_int(tg->spec, "tensor_parallel_size", 1);
	vp->max_model_len = (unsigned)spec_int(tg->spec, "max_model_len", 0);
	vp->max_num_seqs = (unsigned)spec_int(tg->spec, "max_num_seqs", 256);
	/* four decimals (20 MiB of a 192 GiB GPU), rounded down: vLLM never takes more than was
	 * booked, and the 5% booking margin is never eaten by the rounding */
	vp->util = floor((double)booked / (double)vp->capacity * 10000.0) / 10000.0;
	if (vp->util <= 0) {
		cli_error("allocation '%s' books too little of its partition to run vLLM", tg->alloc.name);
		return EXIT_FAIL;
	}
	r = mipart_catalog_load(mipart_catalog_default_path(), &cat, err, sizeof(err));
	if (r == 0)
		r = mipart_catalog_find(cat, tg->alloc.model, &m);
	if (r < 0) {
		/* not in the catalog (a model directory): the booking was checked when allocated */
		mipart_catalog_free(cat);
		return EXIT_OK;
	}
	mipart_precision_parse(vp->precision, &o.precision);
	/* the vLLM the allocation was sized for (older allocations: the newest modelled) */
	if (vp->version_set)
		o.vllm_version = vp->over.vllm_version;
	else if (mipart_vllm_version_parse(spec_str(tg->spec, "vllm_version", ""), &o.vllm_version) < 0)
		o.vllm_version = 0;
	o.cuda = vp->platform_set ? vp->over.cuda : !strcmp(spec_str(tg->spec, "platform", "rocm"), "cuda");
	o.enforce_eager = vp->enforce_eager;
	o.kv_fp8 = vp->kv_fp8;
	o.tensor_parallel = vp->tp;
	o.max_model_len = vp->max_model_len;
	o.max_num_seqs = vp->max_num_seqs;
	o.device_bytes = vp->capacity;
	o.gpu_memory_utilization = vp->util;
	r = mipart_estimate_model(m, &o, &e);
	mipart_catalog_free(cat);
	if (r < 0 || !e.fits) {
		cli_error("%s with --max-model-len %u does not fit in %.2f of partition %u.%d (%.2f GiB); allocate it again or shorten the context",
			  tg->alloc.model, vp->max_model_len, vp->util, tg->parts[0]->gpu, tg->parts[0]->xcp,
			  vp->capacity / GIB);
		return EXIT_FAIL;
	}
	vp->needed = e.weights_bytes + e.activation_bytes + e.non_torch_bytes + e.cuda_graph_bytes +
		     (uint64_t)e.kv_bytes_per_token * e.max_model_len;
	vp->margin = e.usable_bytes > vp->needed ? e.usable_bytes - vp->needed : 0;
	return EXIT_OK;
}

static size_t vllm_argv(const struct vllm_plan *vp, int argc, char **argv, int extra, char out[][600],
			size_t max)
{
	size_t n = 0;

	snprintf(out[n++], 600, "vllm");
	snprintf(out[n++], 600, "serve");
	snprintf(out[n++], 600, "%s", vp->model_arg);
	snprintf(out[n++], 600, "--gpu-memory-utilization");
	snprintf(out[n++], 600, "%.4g", vp->util);
	if (vp->max_model_len) {
		snprintf(out[n++], 600, "--max-model-len");
		snprintf(out[n++], 600, "%u", vp->max_model_len);
	}
	snprintf(out[n++], 600, "--max-num-seqs");
	snprintf(out[n++], 600, "%u", vp->max_num_seqs);
	if (vp->tp > 1) {
		snprintf(out[n++], 600, "--tensor-parallel-size");
		snprintf(out[n++], 600, "%u", vp->tp);
	}
	if (!strcmp(vp->precision, "bf16") || !strcmp(vp->precision, "fp16")) {
		snprintf(out[n++], 600, "--dtype");
		snprintf(out[n++], 600, "%s", !strcmp(vp->precision, "bf16") ? "bfloat16" : "float16");
	} else if (!strcmp(vp->precision, "fp8") || !strcmp(vp->precision, "awq") ||
		   !strcmp(vp->precision, "gptq")) {
		snprintf(out[n++], 600, "--quantization");
		snprintf(out[n++], 600, "%s", vp->precision);
	}
	if (vp->kv_fp8) {
		snprintf(out[n++], 600, "--kv-cache-dtype");
		snprintf(out[n++], 600, "fp8");
	}
	if (vp->enforce_eager)
		snprintf(out[n++], 600, "--enforce-eager");
	for (int i = extra; i > 0 && i < argc && n < max; i++)
		snprintf(out[n++], 600, "%s", argv[i]);
	return n;
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
	char words[64][600], dwords[40][600];
	struct target tg;
	struct vllm_plan vp = { 0 };
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
		else if (c == 'V' && cli_parse_vllm_version(cli, optarg, &vp.over) == 0)
			vp.version_set = true;
		else if (c == 'F' && cli_parse_platform(cli, optarg, &vp.over) == 0)
			vp.platform_set = true;
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
	rc = slurm ? target_open_slurm(cli, &tg) : target_open(cli, argv[optind], &tg);
	if (rc != EXIT_OK)
		return rc;
	if (slurm) {
		/* the step owns its partitions: vLLM's own default share, 0.9
		 * (vllm/engine/arg_utils.py: gpu_memory_utilization), checked by the estimator */
		snprintf(tg.alloc.name, sizeof(tg.alloc.name), "slurm step");
		snprintf(tg.alloc.model, sizeof(tg.alloc.model), "%s", argv[optind]);
		tg.alloc.n_bookings = 1;
		tg.alloc.bookings[0].bytes = tg.parts[0]->memory_bytes > 0 ?
						     (uint64_t)((double)tg.parts[0]->memory_bytes * 0.9) : 0;
		tg.spec = json_pack("{s:I, s:I}", "max_model_len", (json_int_t)max_len,
				    "tensor_parallel_size", (json_int_t)tg.n_parts);
	} else if (!tg.has_alloc) {
		cli_error("'%s' is a partition, not an allocation: 'mipart allocate MODEL --partition %s' first",
			  argv[optind], argv[optind]);
		target_release(&tg);
		return EXIT_USAGE;
	}
	rc = vllm_compute(&tg, &vp);
	if (rc != EXIT_OK) {
		target_release(&tg);
		return rc;
	}
	n = vllm_argv(&vp, all, argv, extra, words, 64);
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

/*
 * The device plugin's resource for the partitions of tg on this node, from the kubelet's device
 * manager checkpoint (pkg/kubelet/cm/devicemanager/checkpoint/checkpoint.go: Data.
 * RegisteredDevices, resource name -> device ids, written by the kubelet for every registered
 * plugin): "amd.com/gpu" (AMD's plugin, resource_naming_strategy single), else the resource of
 * the partitions' modes "amd.com/<compute>_<memory>" (strategy mixed, e.g. amd.com/cpx_nps4:
 * ROCm/k8s-device-plugin docs, "resource naming strategy"). Returns 1 with the name, 0 when no
 * AMD resource is registered (or no checkpoint).
 */
static int plugin_resource(struct cli *cli, const struct target *tg, char *buf, size_t size)
{
	char path[MIPART_PATH_MAX], want[64] = "";
	char *text = malloc((4u << 20) + 1);
	json_t *doc, *reg;
	ssize_t n;
	int found = 0;

	if (!text)
		return 0;
	if (mipart_host_path(cli->host, "/var/lib/kubelet/device-plugins/kubelet_internal_checkpoint", path,
			     sizeof(path)) < 0 ||
	    (n = util_read_file(path, text, 4u << 20)) < 0) {
		free(text);
		return 0;
	}
	doc = json_loadb(text, (size_t)n, 0, NULL);
	free(text);
	reg = json_object_get(json_object_get(doc, "Data"), "RegisteredDevices");
	if (tg->n_parts) {
		const mipart_gpu_info *g = mipart_topology_gpu(tg->t, tg->parts[0]->gpu);

		snprintf(want, sizeof(want), "amd.com/%s_%s", mipart_compute_mode_name(g->compute),
			 mipart_memory_mode_name(g->memory));
		for (char *c = want; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
	}
	if (json_object_get(reg, "amd.com/gpu")) {
		util_strlcpy(buf, "amd.com/gpu", size);
		found = 1;
	} else if (want[0] && json_object_get(reg, want)) {
		util_strlcpy(buf, want, size);
		found = 1;
	}
	json_decref(doc);
	return found;
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
	for (const char *s = tg.has_alloc ? tg.alloc.name : "mipart"; *s && k < 50; s++) {
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
				   !strcmp(v[i].name, "MIPART_GPU_BDF")))
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
