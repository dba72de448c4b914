// SPDX-License-Identifier: MIT
/*
 * Models on partitions: `mipart models` (the catalog), `mipart estimate` (what a model needs),
 * `mipart allocate` / `release` / `allocations` (the ledger). A model is a catalog id or alias,
 * or a directory with a Hugging Face config.json (and safetensors for exact weight bytes).
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mipart/allocate.h"
#include "mipart/apply.h"
#include "mipart/catalog.h"
#include "mipart/error.h"
#include "mipart/estimate.h"
#include "mipart/hfmodel.h"
#include "mipart/hub.h"
#include "mipart/journal.h"
#include "mipart/ledger.h"
#include "mipart/product.h"
#include "cli.h"
#include "banned.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

static double gib(uint64_t b)
{
	return (double)b / GIB;
}

/* Exit code for a Hub error. */
static int hub_exit(int r)
{
	return r == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
}

/* Catalog id or alias, else a model directory, else a Hugging Face repository (the cache, then
 * the Hub): mipart_model_lookup. Returns an exit code. */
static int load_model(const char *name, mipart_model *ret)
{
	mipart_diag d;

	if (mipart_model_lookup(name, ret, &d) == 0)
		return EXIT_OK;
	cli_error("%s", d.message);
	return d.usage ? EXIT_USAGE : EXIT_FAIL;
}

struct est_args {
	mipart_estimate_options o;
	const char *partition;	/* "auto", "N", "G.X"; NULL */
	const char *name;
	bool json, kv_set, platform_set;
	int device_cuda;	/* --device-memory named a device: 1 NVIDIA, 0 AMD; -1 a size */
};

/* Parse the estimator options shared by estimate and allocate. Returns an exit code. */
static int parse_est(struct cli *cli, int argc, char **argv, bool allocate, struct est_args *a)
{
	static const struct option opts[] = {
		{ "precision", required_argument, NULL, 'p' },
		{ "dtype", required_argument, NULL, 'p' },
		{ "quantization", required_argument, NULL, 'p' },
		{ "kv-cache-dtype", required_argument, NULL, 'k' },
		{ "tensor-parallel-size", required_argument, NULL, 't' },
		{ "max-model-len", required_argument, NULL, 'l' },
		{ "max-num-seqs", required_argument, NULL, 's' },
		{ "max-num-batched-tokens", required_argument, NULL, 'b' },
		{ "device-memory", required_argument, NULL, 'd' },
		{ "gpu-memory-utilization", required_argument, NULL, 'u' },
		{ "partition", required_argument, NULL, 'P' },
		{ "name", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "vllm-version", required_argument, NULL, 'V' },
		{ "platform", required_argument, NULL, 'F' },
		{ "enforce-eager", no_argument, NULL, 'E' },
		{ "block-size", required_argument, NULL, 'B' },
		{ "max-loras", required_argument, NULL, 'L' },
		{ "max-lora-rank", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int c;

	memset(a, 0, sizeof(*a));
	a->device_cuda = -1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (mipart_precision_parse(optarg, &a->o.precision) < 0)
				return cli_usage_error(cli->verb,
						       "invalid precision '%s': expected fp32, bf16, fp16, fp8, int8, int4, awq, gptq, mxfp4 or bnb4",
						       optarg);
			break;
		case 'k':
			if (!strcmp(optarg, "fp8") || !strncmp(optarg, "fp8_", 4))
				a->o.kv_fp8 = true;
			else if (strcmp(optarg, "auto"))
				return cli_usage_error(cli->verb, "invalid '--kv-cache-dtype' '%s': expected auto or fp8", optarg);
			break;
		case 't':
			if (cli_parse_uint(cli, "--tensor-parallel-size", optarg, 1, 8, &v) < 0)
				return EXIT_USAGE;
			a->o.tensor_parallel = (unsigned)v;
			break;
		case 'l':
			if (cli_parse_uint(cli, "--max-model-len", optarg, 1, 16777216, &v) < 0)
				return EXIT_USAGE;
			a->o.max_model_len = (unsigned)v;
			break;
		case 's':
			if (cli_parse_uint(cli, "--max-num-seqs", optarg, 1, 65536, &v) < 0)
				return EXIT_USAGE;
			a->o.max_num_seqs = (unsigned)v;
			break;
		case 'b':
			if (cli_parse_uint(cli, "--max-num-batched-tokens", optarg, 1, 16777216, &v) < 0)
				return EXIT_USAGE;
			a->o.max_num_batched_tokens = (unsigned)v;
			break;
		case 'd': {
			const mipart_device_info *dev;

			if (!allocate && mipart_device_lookup(optarg, &dev) == 0) {
				/* a device name: its memory as torch reports it, its platform */
				a->o.device_bytes = dev->total_bytes;
				a->o.device_name = dev->name;
				a->device_cuda = dev->cuda ? 1 : 0;
				break;
			}
			if (allocate || mipart_size_parse(optarg, &a->o.device_bytes) < 0 || !a->o.device_bytes)
				return cli_usage_error(cli->verb,
						       "invalid '--device-memory' '%s': a size such as 24GiB or 192GiB (GiB = 2^30 bytes; 'GB' is ambiguous) or a device (MI300X, MI325X, H100, H200, A100-80GB, A100-40GB, L40S, L4, A10, RTX 3090, RTX 4090)",
						       optarg);
			break;
		}
		case 'V':
			if (cli_parse_vllm_version(cli, optarg, &a->o) != 0)
				return EXIT_USAGE;
			break;
		case 'F':
			if (cli_parse_platform(cli, optarg, &a->o) != 0)
				return EXIT_USAGE;
			a->platform_set = true;
			break;
		case 'E':
			a->o.enforce_eager = true;
			break;
		case 'B':
			if (cli_parse_uint(cli, "--block-size", optarg, 1, 1024, &v) < 0)
				return EXIT_USAGE;
			a->o.block_size = (unsigned)v;
			break;
		case 'L': /* vLLM's --max-loras: LoRA slots held on the GPU */
			if (cli_parse_uint(cli, "--max-loras", optarg, 1, 1024, &v) < 0)
				return EXIT_USAGE;
			a->o.max_loras = (unsigned)v;
			break;
		case 'R': /* vLLM's --max-lora-rank (config/lora.py: at most 512) */
			if (cli_parse_uint(cli, "--max-lora-rank", optarg, 1, 512, &v) < 0)
				return EXIT_USAGE;
			a->o.max_lora_rank = (unsigned)v;
			break;
		case 'u': {
			char *end;
			double u = strtod(optarg, &end);

			if (*end || !(u > 0 && u <= 1))
				return cli_usage_error(cli->verb,
						       "invalid '--gpu-memory-utilization' '%s': a fraction in (0, 1]",
						       optarg);
			a->o.gpu_memory_utilization = u;
			break;
		}
		case 'P':
			a->partition = optarg;
			break;
		case 'n':
			if (allocate && mipart_ledger_name_check(optarg) == -EILSEQ)
				return cli_usage_error(cli->verb,
						       "invalid '--name': it holds a control character or bytes that are not UTF-8");
			if (!allocate || mipart_ledger_name_check(optarg) < 0)
				return cli_usage_error(cli->verb,
						       "invalid '--name': 1 to %d characters, not all digits (a number means an allocation id)",
						       MIPART_LEDGER_NAME_MAX - 1);
			a->name = optarg;
			break;
		case 'j':
			a->json = true;
			break;
		default:
			return cli_usage_error(cli->verb, "unknown option or missing value '%s'",
					       argv[optind - 1]);
		}
	}
	if (a->device_cuda >= 0) {
		if (a->platform_set && a->o.cuda != (a->device_cuda == 1))
			return cli_usage_error(cli->verb, "'--platform %s' contradicts '--device-memory %s'",
					       a->o.cuda ? "cuda" : "rocm", a->o.device_name);
		a->o.cuda = a->device_cuda == 1;
	}
	return cli_check_args(cli, argc - optind);
}

int cli_parse_vllm_version(struct cli *cli, const char *s, mipart_estimate_options *o)
{
	char lo[16], hi[16];
	int r = mipart_vllm_version_parse(s, &o->vllm_version);

	if (r == -ERANGE)
		return cli_usage_error(cli->verb, "'--vllm-version %s' is not modelled: %s to %s are",
				       s, mipart_vllm_version_str(MIPART_VLLM_OLDEST, lo, sizeof(lo)),
				       mipart_vllm_version_str(MIPART_VLLM_NEWEST, hi, sizeof(hi)));
	if (r < 0)
		return cli_usage_error(cli->verb, "invalid '--vllm-version' '%s': expected X.Y such as 0.11", s);
	return 0;
}

int cli_parse_platform(struct cli *cli, const char *s, mipart_estimate_options *o)
{
	if (!strcmp(s, "rocm"))
		o->cuda = false;
	else if (!strcmp(s, "cuda"))
		o->cuda = true;
	else
		return cli_usage_error(cli->verb, "invalid '--platform' '%s': rocm or cuda", s);
	return 0;
}

static json_t *estimate_json(const mipart_model *m, const mipart_estimate *e,
			     const mipart_estimate_options *o)
{
	bool dev = o->device_bytes || o->kv_cache_memory_bytes;
	char ver[16];
	json_t *j = json_pack("{s:s, s:s, s:I, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:I, s:b}",
			 "model", m->id, "precision", e->precision_name, "params", (json_int_t)e->params,
			 "tensor_parallel_size", (int)(o->tensor_parallel ? o->tensor_parallel : 1),
			 "max_model_len", (int)e->max_model_len,
			 "weights_bytes", (json_int_t)e->weights_bytes,
			 "kv_bytes_per_token", (json_int_t)e->kv_bytes_per_token,
			 "activation_bytes", (json_int_t)e->activation_bytes,
			 "non_torch_bytes", (json_int_t)e->non_torch_bytes,
			 "usable_bytes", (json_int_t)e->usable_bytes,
			 "kv_cache_bytes", dev ? json_integer(e->kv_cache_bytes) : json_null(),
			 "kv_cache_tokens", dev ? json_integer((json_int_t)e->kv_cache_tokens) : json_null(),
			 "max_model_len_fit", dev ? json_integer((json_int_t)e->max_model_len_fit) : json_null(),
			 "device_bytes", o->device_bytes ? json_integer((json_int_t)o->device_bytes) : json_null(),
			 "min_device_bytes", (json_int_t)e->min_device_bytes,
			 "fits", dev ? e->fits : false);

	if (!j)
		return NULL;
	json_object_set_new(j, "vllm_version", json_string(mipart_vllm_version_str(e->vllm_version, ver, sizeof(ver))));
	json_object_set_new(j, "engine", json_string(e->engine == MIPART_ENGINE_V0 ? "v0" : "v1"));
	json_object_set_new(j, "platform", json_string(o->cuda ? "cuda" : "rocm"));
	json_object_set_new(j, "device", o->device_name ? cli_json_string(o->device_name) : json_null());
	json_object_set_new(j, "max_num_seqs", json_integer(e->max_num_seqs));
	json_object_set_new(j, "max_num_batched_tokens", json_integer(e->max_num_batched_tokens));
	json_object_set_new(j, "forward_bytes", json_integer((json_int_t)e->forward_bytes));
	json_object_set_new(j, "sampler_bytes", json_integer((json_int_t)e->sampler_bytes));
	json_object_set_new(j, "compute_units", json_integer(e->compute_units));
	json_object_set_new(j, "encoder_bytes", json_integer((json_int_t)e->encoder_bytes));
	json_object_set_new(j, "cuda_graph_bytes", json_integer((json_int_t)e->cuda_graph_bytes));
	json_object_set_new(j, "lora_bytes", json_integer((json_int_t)e->lora_bytes));
	json_object_set_new(j, "kv_page_bytes", json_integer((json_int_t)e->kv_page_bytes));
	json_object_set_new(j, "kv_groups", json_integer(e->kv_groups));
	json_object_set_new(j, "kv_group_layers", json_integer(e->kv_group_layers));
	json_object_set_new(j, "kv_blocks", dev ? json_integer((json_int_t)e->kv_blocks) : json_null());
	json_object_set_new(j, "kv_cache_tokens_full", dev ? json_integer((json_int_t)e->kv_cache_tokens_full) : json_null());
	json_object_set_new(j, "max_concurrency", dev ? json_real(e->max_concurrency) : json_null());
	return j;
}

int verb_estimate(struct cli *cli, int argc, char **argv)
{
	struct est_args a;
	mipart_model m;
	mipart_estimate e;
	mipart_product_layout lay[64];
	int rc = parse_est(cli, argc, argv, false, &a), r, nl;
	json_t *sizes;

	if (rc != EXIT_OK)
		return rc;
	if (argc - optind != 1)
		return cli_usage_error(cli->verb, "give one MODEL");
	rc = load_model(argv[optind], &m);
	if (rc != EXIT_OK)
		return rc;
	if (a.partition) {
		mipart_topology *t = NULL;
		const mipart_partition_info *p;

		if (cli_load_topology(cli, &t) != EXIT_OK)
			return EXIT_FAIL;
		p = mipart_partition_find(t, a.partition, 1);
		if (!p || p->memory_bytes <= 0) {
			cli_error("no partition '%s' with known memory ('mipart list' shows them)", a.partition);
			mipart_topology_free(t);
			return EXIT_USAGE;
		}
		a.o.device_bytes = (uint64_t)p->memory_bytes;
		/* its own CUs: the Triton sampler's programs (38 in CPX on an MI300X) */
		if (p->compute_units > 0)
			a.o.compute_units = (unsigned)p->compute_units;
		mipart_topology_free(t);
	}
	r = mipart_estimate_model(&m, &a.o, &e);
	if (r == -E2BIG) {
		cli_error("--max-model-len %u is longer than %s allows (%u tokens)", a.o.max_model_len, m.id,
			  m.max_position);
		return EXIT_FAIL;
	}
	if (r == -EOPNOTSUPP) {
		/* estimate.c MLLAMA_FROM / MLLAMA_LAST: vLLM runs mllama on V0 only, 0.6.2 to 0.10.2 */
		cli_error("vLLM has %s (%s) only from 0.6.2 to 0.10.2, on the V0 engine: pass "
			  "--vllm-version 0.6 to 0.10 (and not --engine v1)",
			  m.id, m.arch);
		return EXIT_FAIL;
	}
	if (r < 0) {
		cli_error("cannot estimate %s: %s", m.id,
			  r == -EINVAL ? "the tensor parallel size must divide the attention heads" : mipart_strerror(r));
		return EXIT_FAIL;
	}
	/* which partition sizes of which products and modes can serve it */
	nl = mipart_product_layouts(NULL, lay, 64);
	sizes = json_array();
	for (int i = 0; i < nl && i < 64; i++) {
		mipart_estimate_options o = a.o;
		mipart_estimate pe;

		o.device_bytes = lay[i].partition_bytes;
		o.device_name = lay[i].product; /* an AMD partition: ROCm, XGMI */
		o.compute_units = lay[i].compute_units; /* the partition's, not the product's */
		o.cuda = false;
		if (mipart_estimate_model(&m, &o, &pe) == 0 && pe.fits)
			json_array_append_new(sizes, json_pack("{s:s, s:s, s:s, s:i, s:I, s:I, s:I}",
				"product", lay[i].product, "compute", mipart_compute_mode_name(lay[i].compute),
				"memory", mipart_memory_mode_name(lay[i].memory), "partitions", (int)lay[i].partitions,
				"partition_bytes", (json_int_t)lay[i].partition_bytes,
				"kv_cache_tokens", (json_int_t)pe.kv_cache_tokens,
				"max_model_len_fit", (json_int_t)pe.max_model_len_fit));
	}
	if (a.json) {
		json_t *o = estimate_json(&m, &e, &a.o);

		json_object_set_new(o, "fits_on", sizes);
		return cli_print_json(o);
	}
	{
		char ver[16];

		printf("%s, %s, tensor parallel %u, max-model-len %u, vLLM %s (%s engine) on %s (sizes per GPU, GiB = 2^30 bytes)\n",
		       m.id, e.precision_name, a.o.tensor_parallel ? a.o.tensor_parallel : 1,
		       e.max_model_len, mipart_vllm_version_str(e.vllm_version, ver, sizeof(ver)),
		       e.engine == MIPART_ENGINE_V0 ? "V0" : "V1", a.o.cuda ? "CUDA" : "ROCm");
	}
	printf("  parameters          %.2f B\n", (double)e.params / 1e9);
	printf("  weights             %8.2f GiB", gib(e.weights_bytes));
	if (e.lora_bytes)
		printf(" (LoRA buffers %.2f GiB included)", gib(e.lora_bytes));
	printf("\n");
	printf("  KV cache per token  %8.1f KiB (%s)\n", (double)e.kv_bytes_per_token / 1024.0,
	       a.o.kv_fp8 ? "fp8" : "16-bit");
	printf("  activation peak     %8.2f GiB (max of forward %.2f over %u tokens, sampler %.2f over %u sequences",
	       gib(e.activation_bytes), gib(e.forward_bytes), e.max_num_batched_tokens,
	       gib(e.sampler_bytes), e.max_num_seqs);
	if (e.encoder_bytes)
		printf(", vision encoder %.2f", gib(e.encoder_bytes));
	printf(")\n");
	printf("  runtime (non-torch) %8.2f GiB\n", gib(e.non_torch_bytes));
	if (e.cuda_graph_bytes)
		printf("  graphs (estimate)   %8.2f GiB\n", gib(e.cuda_graph_bytes));
	printf("  smallest device for one %u-token sequence: %.2f GiB\n", e.max_model_len,
	       gib(e.min_device_bytes));
	if (a.o.device_bytes) {
		printf("  on %.2f GiB x %.2f = %.2f GiB usable: ", gib(a.o.device_bytes),
		       mipart_estimate_utilization(&a.o), gib(e.usable_bytes));
		if (e.kv_cache_bytes > 0) {
			printf("KV cache %.2f GiB = %llu tokens as vLLM logs it, %.2fx concurrency at %u tokens, longest context %llu%s\n",
			       e.kv_cache_bytes / GIB, (unsigned long long)e.kv_cache_tokens,
			       e.max_concurrency, e.max_model_len, (unsigned long long)e.max_model_len_fit,
			       e.fits ? "" : " (does not fit)");
			if (e.hybrid_groups)
				printf("  hybrid: vLLM counts %u layer slots in %u groups of %u as full attention for the logged tokens; sliding/chunked layers keep only their window, so %.2f requests of %u tokens fit (%.0f tokens)\n",
				       e.kv_layer_slots, e.kv_groups, e.kv_group_layers, e.max_concurrency,
				       e.max_model_len, e.max_concurrency * e.max_model_len);
		} else
			printf("does not fit: %.2f GiB short before any KV cache\n", -e.kv_cache_bytes / GIB);
	}
	printf("  fits on (partition size: modes, KV cache tokens):\n");
	if (!json_array_size(sizes)) {
		printf("    no partition of any product\n");
	} else {
		struct {
			const char *product;
			uint64_t bytes;
			long long tokens;
			char modes[96];
		} row[64];
		size_t n_rows = 0, i;
		json_t *v;

		/* one line per product and partition size, with every mode that gives it */
		json_array_foreach(sizes, i, v) {
			const char *prod = json_string_value(json_object_get(v, "product"));
			uint64_t bytes = (uint64_t)json_integer_value(json_object_get(v, "partition_bytes"));
			size_t k, len;

			for (k = 0; k < n_rows; k++)
				if (!strcmp(row[k].product, prod) && row[k].bytes == bytes)
					break;
			if (k == n_rows) {
				if (n_rows == 64)
					continue;
				row[k].product = prod;
				row[k].bytes = bytes;
				row[k].tokens = json_integer_value(json_object_get(v, "kv_cache_tokens"));
				row[k].modes[0] = '\0';
				n_rows++;
			}
			len = strlen(row[k].modes);
			snprintf(row[k].modes + len, sizeof(row[k].modes) - len, "%s%s/%s", len ? ", " : "",
				 json_string_value(json_object_get(v, "compute")),
				 json_string_value(json_object_get(v, "memory")));
		}
		for (size_t k = 0; k < n_rows; k++)
			printf("    %-7s %7.2f GiB: %-28s %lld tokens\n", row[k].product, gib(row[k].bytes),
			       row[k].modes, row[k].tokens);
	}
	json_decref(sizes);
	return EXIT_OK;
}

static int open_ledger(struct cli *cli, mipart_ledger **ret)
{
	char path[MIPART_PATH_MAX];
	int r;

	if (mipart_host_path(cli->host, MIPART_JOURNAL_PATH, path, sizeof(path)) < 0)
		return EXIT_FAIL;
	r = mipart_ledger_open(path, ret);
	if (r < 0) {
		cli_error("cannot open the ledger '%s': %s", path, mipart_strerror(r));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* The choice of partitions and the refusal hints are the library's (src/lib/models/allocate.c);
 * this verb parses, takes the host lock, loads the topology (printing its warnings) and prints. */
int verb_allocate(struct cli *cli, int argc, char **argv)
{
	struct est_args a;
	mipart_topology *t = NULL;
	mipart_ledger *l = NULL;
	mipart_alloc_request req = { 0 };
	mipart_alloc_result res;
	mipart_diag d;
	int rc = parse_est(cli, argc, argv, true, &a), r, lockfd = -1;

	if (rc != EXIT_OK)
		return rc;
	if (argc - optind != 1)
		return cli_usage_error(cli->verb, "give one MODEL");
	req.model = argv[optind];
	req.options = a.o;
	req.partition = a.partition;
	req.name = a.name;
	/* under the host lock: a booking never races a partition change (apply checks the
	 * ledger under the same lock) */
	{
		char holder[256] = "";

		lockfd = mipart_host_lock(cli->host, 30000, "mipart allocate", holder, sizeof(holder));
		if (lockfd < 0) {
			cli_error(lockfd == -ETIMEDOUT ? "a partition change is running (%s); try again when it is done"
						       : "cannot take the host lock: %s",
				  lockfd == -ETIMEDOUT ? holder : mipart_strerror(lockfd));
			return EXIT_FAIL;
		}
	}
	{
		/* a booking on a host in no whole state would name partitions that go away */
		char msg[512];

		if (mipart_apply_unresolved(cli->host, NULL, msg, sizeof(msg)) < 0) {
			cli_error("%s", msg);
			rc = EXIT_FAIL;
			goto out;
		}
	}
	rc = cli_load_topology(cli, &t);
	if (rc != EXIT_OK)
		goto out;
	rc = open_ledger(cli, &l);
	if (rc != EXIT_OK)
		goto out;
	r = mipart_alloc_place(l, t, &req, &res, &d);
	if (r < 0) {
		cli_error("%s", d.message);
		if (d.hint[0])
			fprintf(stderr, "hint: %s\n", d.hint);
		rc = d.usage ? EXIT_USAGE : EXIT_FAIL;
		goto out;
	}
	if (a.json) {
		json_t *o = json_pack("{s:I, s:o, s:o, s:I, s:o}", "id", (json_int_t)res.id, "name",
				      cli_json_string(res.name), "model", cli_json_string(res.model),
				      "booked_bytes_per_partition", (json_int_t)res.booked_bytes,
				      "partitions", json_array());
		json_t *ps = json_object_get(o, "partitions");

		for (size_t k = 0; k < res.n_partitions; k++)
			json_array_append_new(ps, json_pack("{s:i, s:i, s:i, s:s, s:I}", "index",
							    (int)res.partitions[k].index, "gpu",
							    (int)res.partitions[k].gpu, "xcp",
							    (int)res.partitions[k].xcp, "bdf", res.partitions[k].bdf,
							    "capacity_bytes",
							    (json_int_t)res.partitions[k].capacity_bytes));
		cli_print_json(o);
	} else {
		char name[sizeof(res.name) + 4], mid[sizeof(res.model) + 4];

		printf("allocation %lld '%s': %s on partition", (long long)res.id,
		       cli_show(res.name, name, sizeof(name)), cli_show(res.model, mid, sizeof(mid)));
		for (size_t k = 0; k < res.n_partitions; k++)
			printf("%s %u.%u", k ? "," : "", res.partitions[k].gpu, res.partitions[k].xcp);
		printf(" (%.2f GiB booked of %.2f GiB%s)\n", gib(res.booked_bytes),
		       gib(res.partitions[0].capacity_bytes), res.n_partitions > 1 ? " on each" : "");
	}
	rc = EXIT_OK;
out:
	mipart_ledger_free(l);
	mipart_topology_free(t);
	mipart_host_unlock(lockfd);
	return rc;
}

int verb_release(struct cli *cli, int argc, char **argv)
{
	mipart_ledger *l = NULL;
	mipart_allocation a;
	int r;

	optind = 1;
	if (cli_check_args(cli, argc - 1) != EXIT_OK)
		return EXIT_USAGE;
	if (open_ledger(cli, &l) != EXIT_OK)
		return EXIT_FAIL;
	r = mipart_ledger_release(l, argv[1], &a);
	if (r == -ENOENT)
		cli_error("no allocation '%s' ('mipart allocations' lists them)", argv[1]);
	else if (r < 0)
		cli_error("cannot release '%s': %s", argv[1], mipart_strerror(r));
	else {
		char name[sizeof(a.name) + 4], model[sizeof(a.model) + 4];

		printf("released allocation %lld '%s' (%s)\n", (long long)a.id,
		       cli_show(a.name, name, sizeof(name)), cli_show(a.model, model, sizeof(model)));
		mipart_allocation_release(&a);
	}
	mipart_ledger_free(l);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}

int verb_allocations(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 } };
	mipart_topology *topo = NULL;
	mipart_ledger *l = NULL;
	mipart_allocation *v = NULL;
	bool json = false;
	size_t n = 0;
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'j')
			return cli_usage_error(cli->verb, "unknown option '%s'", argv[optind - 1]);
		json = true;
	}
	if (cli_check_args(cli, argc - optind) != EXIT_OK)
		return EXIT_USAGE;
	if (open_ledger(cli, &l) != EXIT_OK)
		return EXIT_FAIL;
	r = mipart_ledger_list(l, &v, &n);
	if (r < 0) {
		cli_error("cannot read the ledger: %s", mipart_strerror(r));
		mipart_ledger_free(l);
		return EXIT_FAIL;
	}
	/* an allocation whose partition the host does not have (a change or a recovery took it
	 * away) is shown as orphaned, never silently */
	if (mipart_topology_load(cli->host, &topo) < 0)
		topo = NULL;
	if (json) {
		json_t *arr = json_array(), *o;

		for (size_t i = 0; i < n; i++) {
			json_t *bk = json_array(), *spec = json_loads(v[i].spec, 0, NULL);

			for (size_t b = 0; b < v[i].n_bookings; b++)
				json_array_append_new(bk, json_pack("{s:s, s:i, s:I, s:I}", "bdf",
								    v[i].bookings[b].bdf, "xcp",
								    (int)v[i].bookings[b].xcp, "bytes",
								    (json_int_t)v[i].bookings[b].bytes,
								    "capacity_bytes",
								    (json_int_t)v[i].bookings[b].capacity));
			json_array_append_new(arr, json_pack("{s:I, s:o, s:o, s:s, s:I, s:o, s:o, s:o}", "id",
							     (json_int_t)v[i].id, "name", cli_json_string(v[i].name),
							     "model", cli_json_string(v[i].model), "created_at",
							     v[i].created_at, "uid", (json_int_t)v[i].uid,
							     "bookings", bk, "spec",
							     spec ? spec : json_object(), "orphaned",
							     topo ? json_boolean(mipart_allocation_orphaned(&v[i], topo, NULL))
								  : json_null()));
		}
		o = json_pack("{s:o}", "allocations", arr);
		cli_print_json(o);
	} else if (!n) {
		printf("no allocations\n");
	} else {
		printf("%-4s  %-24s  %-40s  %-20s  %s\n", "ID", "NAME", "MODEL", "PARTITIONS",
		       "BOOKED (GiB)");
		for (size_t i = 0; i < n; i++) {
			char where[128];
			size_t len = 0;

			where[0] = '\0';
			for (size_t b = 0; b < v[i].n_bookings && len < sizeof(where); b++)
				len += (size_t)snprintf(where + len, sizeof(where) - len, "%s%s/%u",
							b ? "," : "", v[i].bookings[b].bdf,
							v[i].bookings[b].xcp);
			char name[sizeof(v[i].name) + 4], model[sizeof(v[i].model) + 4];

			printf("%-4lld  %-24s  %-40s  %-20s  %.2f of %.2f\n", (long long)v[i].id,
			       cli_show(v[i].name, name, sizeof(name)),
			       cli_show(v[i].model, model, sizeof(model)), where, gib(v[i].bookings[0].bytes),
			       gib(v[i].bookings[0].capacity));
			{
				size_t b = 0;

				if (topo && mipart_allocation_orphaned(&v[i], topo, &b))
					printf("      orphaned: this host has no partition %s/%u (its GPU changed modes); 'mipart release %lld'\n",
					       v[i].bookings[b].bdf, v[i].bookings[b].xcp,
					       (long long)v[i].id);
			}
		}
	}
	mipart_allocations_free(v, n);
	mipart_ledger_free(l);
	mipart_topology_free(topo);
	return EXIT_OK;
}

/* `mipart models --refresh ID...`: read each id from the Hub again into the cache, and say how
 * it compares with the catalog's entry. */
static int refresh_models(struct cli *cli, int argc, char **argv, bool json)
{
	mipart_hub_options ho = { .refresh = true };
	mipart_catalog *cat = NULL;
	json_t *arr = json_array();
	char err[512] = "";
	int rc = EXIT_OK;

	if (argc <= 0) {
		json_decref(arr);
		return cli_usage_error(cli->verb, "'--refresh' takes Hugging Face ids (org/name)");
	}
	mipart_catalog_load(mipart_catalog_default_path(), &cat, err, sizeof(err));
	for (int i = 0; i < argc; i++) {
		const mipart_model *c = NULL;
		mipart_model m;
		int r;

		if (cat && mipart_catalog_find(cat, argv[i], &c) == 0 && !mipart_hub_id_ok(argv[i]))
			argv[i] = (char *)c->id; /* an alias: refresh the id it names */
		r = mipart_hub_load(argv[i], &ho, &m, NULL, err, sizeof(err));
		if (r < 0) {
			cli_error("cannot refresh '%s': %s", argv[i], err[0] ? err : mipart_strerror(r));
			rc = hub_exit(r) > rc ? hub_exit(r) : rc;
			continue;
		}
		c = NULL;
		if (cat)
			mipart_catalog_find(cat, m.id, &c);
		if (json) {
			json_array_append_new(arr, json_pack("{s:s, s:s, s:i, s:I, s:I, s:s, s:b}", "id", m.id,
							     "arch", m.arch, "layers", (int)m.layers,
							     "params", (json_int_t)m.params, "weight_bytes",
							     (json_int_t)m.weight_bytes, "quant_method",
							     m.quant_method, "in_catalog", c != NULL));
		} else {
			printf("%-48s  %-12s  %3u layers  %8.1fB  %8.2f GiB%s%s\n", m.id, m.arch, m.layers,
			       (double)m.params / 1e9, gib(m.weight_bytes),
			       m.quant_method[0] ? "  " : "", m.quant_method);
			if (c && (c->layers != m.layers || c->hidden != m.hidden || c->vocab != m.vocab ||
				  c->kv_heads != m.kv_heads))
				printf("  differs from the catalog's entry (layers %u, hidden %u, KV heads %u, vocab %u)\n",
				       c->layers, c->hidden, c->kv_heads, c->vocab);
		}
	}
	mipart_catalog_free(cat);
	if (json)
		cli_print_json(json_pack("{s:o}", "refreshed", arr));
	else
		json_decref(arr);
	return rc;
}

int verb_models(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      { "refresh", no_argument, NULL, 'r' },
					      { NULL, 0, NULL, 0 } };
	char err[256] = "";
	mipart_catalog *cat = NULL;
	const char *path = mipart_catalog_default_path();
	bool json = false, refresh = false;
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 'r')
			refresh = true;
		else
			return cli_usage_error(cli->verb, "unknown option '%s'", argv[optind - 1]);
	}
	if (refresh)
		return refresh_models(cli, argc - optind, argv + optind, json);
	if (cli_check_args(cli, argc - optind) != EXIT_OK)
		return EXIT_USAGE;
	r = mipart_catalog_load(path, &cat, err, sizeof(err));
	if (r < 0) {
		cli_error("cannot read the model catalog '%s': %s", path, err[0] ? err : mipart_strerror(r));
		return EXIT_FAIL;
	}
	if (json) {
		json_t *arr = json_array(), *o;

		for (size_t i = 0; i < mipart_catalog_count(cat); i++) {
			const mipart_model *m = mipart_catalog_get(cat, i);

			json_array_append_new(arr, json_pack("{s:s, s:s, s:I, s:i, s:i}", "id", m->id, "arch",
							     m->arch, "params", (json_int_t)m->params,
							     "layers", (int)m->layers, "max_position",
							     (int)m->max_position));
		}
		o = json_pack("{s:s, s:o}", "catalog", path, "models", arr);
		cli_print_json(o);
	} else {
		printf("%-48s  %-12s  %9s  %s\n", "MODEL", "ARCH", "PARAMS", "CONTEXT");
		for (size_t i = 0; i < mipart_catalog_count(cat); i++) {
			const mipart_model *m = mipart_catalog_get(cat, i);

			printf("%-48s  %-12s  %8.1fB  %u\n", m->id, m->arch, (double)m->params / 1e9,
			       m->max_position);
		}
	}
	mipart_catalog_free(cat);
	return EXIT_OK;
}
