// SPDX-License-Identifier: MIT
/*
 * `mipart plan -m MODEL[:COUNT][@PRECISION][,max-model-len=N][,tp=N] ...`: the modes per GPU
 * and the placement that serve a mix of models, from this host's GPUs or from `--gpus N
 * --product P`, printed as a layout file `mipart apply` accepts, a placement table and the gap
 * to the lower bound. The estimator turns each model into a memory need; the planner
 * (planner.c) knows only partitions and needs.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mipart/allocate.h"
#include "mipart/catalog.h"
#include "mipart/config.h"
#include "mipart/error.h"
#include "mipart/estimate.h"
#include "mipart/planner.h"
#include "mipart/spec.h"
#include "mipart/fleet.h"
#include "mipart/product.h"
#include "cli.h"
#include "banned.h"

#define GIB (1024.0 * 1024.0 * 1024.0)
#define PLAN_MAX_MODELS 64
#define PLAN_MAX_GPUS 4096

struct plan_model {
	char spec[256];
	mipart_model m;
	mipart_estimate_options o;
	mipart_estimate e;
	unsigned count;
	char label[MIPART_MODEL_ID_MAX + 16];
};

/* MODEL[:COUNT][@PRECISION][,max-model-len=N][,tp=N][,kv-cache-dtype=fp8] (mipart/spec.h) */
static int parse_model_spec(struct cli *cli, const mipart_catalog *cat, const char *arg,
			    struct plan_model *pm)
{
	mipart_model_spec sp;
	const mipart_model *m;
	char err[400], show[80];

	if (mipart_model_spec_parse(arg, &sp, err, sizeof(err)) < 0)
		return cli_usage_error(cli->verb, "%s", err);
	memset(pm, 0, sizeof(*pm));
	snprintf(pm->spec, sizeof(pm->spec), "%s", arg);
	pm->count = sp.count;
	pm->o = sp.o;
	if (mipart_catalog_find(cat, sp.model, &m) < 0) {
		cli_error("unknown model '%s' in '%s' ('mipart models' lists the catalog)",
			  cli_show(sp.model, show, sizeof(show)), arg);
		return EXIT_USAGE;
	}
	pm->m = *m;
	/* "id@precision": the precision names are short words (mipart_precision_parse) */
	if ((size_t)snprintf(pm->label, sizeof(pm->label), "%s", m->id) + 1 + strlen(sp.precision) <
		    sizeof(pm->label) && sp.precision[0]) {
		strncat(pm->label, "@", 2);
		strncat(pm->label, sp.precision, sizeof(pm->label) - strlen(pm->label) - 1);
	}
	return EXIT_OK;
}

/* The most CUs a partition of these layouts has (the whole GPU's, in SPX); 0 if none known */
static unsigned largest_compute_units(const mipart_product_layout *lay, int nl, unsigned most)
{
	for (int k = 0; k < nl && k < MIPART_PLAN_MAX_LAYOUTS; k++)
		most = lay[k].compute_units > most ? lay[k].compute_units : most;
	return most;
}

/*
 * Size the instances for partitions of up to cus CUs: from vLLM 0.17 the sampler's profile run
 * holds one float32 vocabulary row per CU (estimate.c SAMPLER_TRITON_PROGRAMS). One booking size
 * per model serves every layout, so it is the largest partition's: enough wherever the planner
 * puts it. Returns an exit code.
 */
static int size_for_compute_units(struct plan_model *pm, mipart_plan_item *items, size_t n,
				  unsigned cus)
{
	for (size_t i = 0; cus && i < n; i++) {
		pm[i].o.compute_units = cus;
		if (mipart_estimate_model(&pm[i].m, &pm[i].o, &pm[i].e) < 0) {
			cli_error("cannot estimate '%s' for %u compute units", pm[i].spec, cus);
			return EXIT_FAIL;
		}
		items[i].need_bytes = mipart_alloc_booking_bytes(&pm[i].e, &pm[i].o);
	}
	return EXIT_OK;
}

static int gpus_from_product(struct cli *cli, const char *product, unsigned n, mipart_plan_gpu *g)
{
	mipart_product_layout lay[MIPART_PLAN_MAX_LAYOUTS];
	int nl = mipart_product_layouts(product, lay, MIPART_PLAN_MAX_LAYOUTS);

	if (nl <= 0) {
		cli_error("unknown or unpartitionable product '%s' (mi300x, mi308x, mi325x, mi300a, mi350x, mi355x)",
			  product);
		return EXIT_USAGE;
	}
	for (unsigned i = 0; i < n; i++) {
		g[i].index = i;
		/* one XGMI hive per 8 GPUs, as on an 8-GPU platform */
		g[i].hive_id = 1 + i / 8;
		g[i].n_layouts = (size_t)nl;
		for (int k = 0; k < nl; k++)
			g[i].layouts[k] = (mipart_plan_layout){ lay[k].compute, lay[k].memory,
								lay[k].partitions, lay[k].partition_bytes };
	}
	return EXIT_OK;
}

static size_t gpus_from_host(const mipart_topology *t, mipart_plan_gpu *g, unsigned *ret_cus)
{
	size_t n = 0;

	*ret_cus = 0;
	for (size_t i = 0; i < mipart_topology_gpu_count(t) && n < PLAN_MAX_GPUS; i++) {
		const mipart_gpu_info *gi = mipart_topology_gpu(t, i);
		mipart_product_layout lay[MIPART_PLAN_MAX_LAYOUTS];
		int nl = mipart_gpu_layouts(gi, lay, MIPART_PLAN_MAX_LAYOUTS);

		if (nl <= 0)
			continue;
		*ret_cus = largest_compute_units(lay, nl, *ret_cus);
		g[n].index = gi->index;
		g[n].hive_id = gi->hive_id;
		g[n].n_layouts = 0;
		for (int k = 0; k < nl && k < MIPART_PLAN_MAX_LAYOUTS; k++)
			g[n].layouts[g[n].n_layouts++] = (mipart_plan_layout){
				lay[k].compute, lay[k].memory, lay[k].partitions, lay[k].partition_bytes
			};
		if (g[n].n_layouts)
			n++;
	}
	return n;
}

/* Why an instance is not placed: too large for any partition these GPUs can have, or no room
 * left once the others are placed. */
static const char *unplaced_reason(const mipart_plan_gpu *gpus, size_t n, const mipart_plan_item *it,
				   char *buf, size_t size)
{
	uint64_t largest = 0;
	bool possible = false;

	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < gpus[i].n_layouts; k++) {
			const mipart_plan_layout *l = &gpus[i].layouts[k];

			if (l->partition_bytes > largest)
				largest = l->partition_bytes;
			if (l->partition_bytes >= it->need_bytes && l->partitions >= (it->tp ? it->tp : 1))
				possible = true;
		}
	if (possible)
		snprintf(buf, size, "no room left once the other instances are placed");
	else
		snprintf(buf, size, "larger than any partition these GPUs can have (largest %.2f GiB%s)",
			 largest / GIB, it->tp > 1 ? ", with enough partitions on one GPU" : "");
	return buf;
}

int verb_plan(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "gpus", required_argument, NULL, 'g' },
		{ "product", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "name", required_argument, NULL, 'N' },
		{ "json", no_argument, NULL, 'j' },
		{ "nodes", required_argument, NULL, 'n' },
		{ "gpus-per-node", required_argument, NULL, 'G' },
		{ "inventory", required_argument, NULL, 'I' },
		{ "label-key", required_argument, NULL, 'K' },
		{ "vllm-version", required_argument, NULL, 'V' },
		{ "platform", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	struct fleet_args fa = { .label_key = "dcm.amd.com/gpu-config-profile" };
	unsigned long fleet_nodes = 0;
	mipart_estimate_options vo = { 0 };
	const char *specs[PLAN_MAX_MODELS], *product = NULL, *output = NULL, *name = "plan";
	struct plan_model *pm = NULL;
	mipart_plan_gpu *gpus = NULL;
	mipart_plan_item items[PLAN_MAX_MODELS];
	mipart_plan_result res = { 0 };
	mipart_catalog *cat = NULL;
	mipart_topology *t = NULL;
	size_t n_specs = 0, n_gpus = 0;
	unsigned long want_gpus = 0;
	unsigned cus = 0;
	bool json = false;
	char err[256] = "", *yaml = NULL;
	int c, r, rc = EXIT_FAIL;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "m:o:", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (n_specs == PLAN_MAX_MODELS)
				return cli_usage_error(cli->verb, "at most %d '-m'", PLAN_MAX_MODELS);
			specs[n_specs++] = optarg;
			break;
		case 'g':
			if (cli_parse_uint(cli, "--gpus", optarg, 1, PLAN_MAX_GPUS, &want_gpus) < 0)
				return EXIT_USAGE;
			break;
		case 'p':
			product = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'N':
			name = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'n':
			if (cli_parse_uint(cli, "--nodes", optarg, 1, MIPART_FLEET_MAX_NODES, &fleet_nodes) < 0)
				return EXIT_USAGE;
			break;
		case 'G':
			if (cli_parse_uint(cli, "--gpus-per-node", optarg, 1, MIPART_FLEET_MAX_GPUS_PER_NODE,
					   &fa.gpus_per_node) < 0)
				return EXIT_USAGE;
			break;
		case 'I':
			fa.inventory = optarg;
			break;
		case 'K':
			fa.label_key = optarg;
			break;
		case 'V':
			if (cli_parse_vllm_version(cli, optarg, &vo) != 0)
				return EXIT_USAGE;
			break;
		case 'F':
			if (cli_parse_platform(cli, optarg, &vo) != 0)
				return EXIT_USAGE;
			break;
		default:
			return cli_usage_error(cli->verb, "unknown option or missing value '%s'",
					       argv[optind - 1]);
		}
	}
	if (cli_check_args(cli, argc - optind) != EXIT_OK)
		return EXIT_USAGE;
	if (!n_specs)
		return cli_usage_error(cli->verb, "give at least one '-m MODEL[:COUNT][@PRECISION]'");
	if (fleet_nodes || fa.gpus_per_node || fa.inventory) {
		if (fa.inventory ? (fleet_nodes || fa.gpus_per_node || product)
				 : (!fleet_nodes || !fa.gpus_per_node || !product))
			return cli_usage_error(cli->verb, "a fleet is '--nodes N --gpus-per-node G --product P' or '--inventory FILE'");
		if (want_gpus)
			return cli_usage_error(cli->verb, "'--gpus' plans one host; a fleet takes '--gpus-per-node'");
		if (strcmp(name, "plan"))
			return cli_usage_error(cli->verb, "a fleet plan names its configs after their layouts: no '--name'");
		fa.nodes = fleet_nodes;
		fa.product = product;
		fa.output = output;
		fa.json = json;
		product = NULL;
	} else if (fa.label_key && strcmp(fa.label_key, "dcm.amd.com/gpu-config-profile")) {
		return cli_usage_error(cli->verb, "'--label-key' goes with a fleet ('--nodes' or '--inventory')");
	}
	if (!fa.nodes && !fa.inventory && !want_gpus != !product)
		return cli_usage_error(cli->verb, "'--gpus' and '--product' go together (or neither: this host)");

	r = mipart_catalog_load(mipart_catalog_default_path(), &cat, err, sizeof(err));
	if (r < 0) {
		cli_error("cannot read the model catalog: %s", err[0] ? err : mipart_strerror(r));
		return EXIT_FAIL;
	}
	pm = calloc(n_specs, sizeof(*pm));
	gpus = calloc(PLAN_MAX_GPUS, sizeof(*gpus));
	if (!pm || !gpus) {
		cli_error("out of memory");
		goto out;
	}
	for (size_t i = 0; i < n_specs; i++) {
		rc = parse_model_spec(cli, cat, specs[i], &pm[i]);
		if (rc != EXIT_OK)
			goto out;
		rc = EXIT_FAIL;
		pm[i].o.vllm_version = vo.vllm_version;
		pm[i].o.cuda = vo.cuda;
		r = mipart_estimate_model(&pm[i].m, &pm[i].o, &pm[i].e);
		if (r < 0) {
			cli_error("cannot estimate '%s': %s", specs[i],
				  r == -E2BIG ? "max-model-len is longer than the model allows"
				  : r == -EOPNOTSUPP ? "that vLLM version or engine does not run it (mllama: "
						       "--vllm-version 0.6 to 0.10, V0)"
						     : mipart_strerror(r));
			goto out;
		}
		items[i] = (mipart_plan_item){
			pm[i].label, pm[i].count, pm[i].o.tensor_parallel ? pm[i].o.tensor_parallel : 1,
			mipart_alloc_booking_bytes(&pm[i].e, &pm[i].o),
		};
	}
	if (fa.nodes || fa.inventory || product) {
		/* a named product's largest partition (an inventory's products: not known here,
		 * the estimator's default) */
		mipart_product_layout lay[MIPART_PLAN_MAX_LAYOUTS];
		const char *prod = product ? product : fa.product;
		int nl = prod ? mipart_product_layouts(prod, lay, MIPART_PLAN_MAX_LAYOUTS) : 0;

		cus = largest_compute_units(lay, nl, 0);
		if (size_for_compute_units(pm, items, n_specs, cus) != EXIT_OK)
			goto out;
	}
	if (fa.nodes || fa.inventory) {
		rc = cli_plan_fleet(cli, &fa, items, n_specs);
		goto out;
	}
	if (product) {
		rc = gpus_from_product(cli, product, (unsigned)want_gpus, gpus);
		if (rc != EXIT_OK)
			goto out;
		rc = EXIT_FAIL;
		n_gpus = want_gpus;
	} else {
		if (cli_load_topology(cli, &t) != EXIT_OK)
			goto out;
		n_gpus = gpus_from_host(t, gpus, &cus);
		if (size_for_compute_units(pm, items, n_specs, cus) != EXIT_OK)
			goto out;
		if (!n_gpus) {
			cli_error("no GPU that partitions on this host; plan for one with '--gpus N --product P'");
			goto out;
		}
	}
	r = mipart_plan(gpus, n_gpus, items, n_specs, &res);
	if (r < 0) {
		cli_error("cannot plan: %s", mipart_strerror(r));
		goto out;
	}
	/* a GPU the plan leaves idle keeps the layout it has, when that keeps its hive's memory
	 * mode: no disruption for nothing */
	for (size_t i = 0; t && i < n_gpus; i++) {
		const mipart_gpu_info *gi = mipart_topology_gpu(t, gpus[i].index);
		const mipart_plan_layout *chosen = &gpus[i].layouts[res.layout[i]];
		bool used = false;

		for (size_t k = 0; k < res.n_places && !used; k++)
			used = res.places[k].gpu == i;
		for (size_t k = 0; !used && k < gpus[i].n_layouts; k++)
			if (gpus[i].layouts[k].compute == gi->compute &&
			    gpus[i].layouts[k].memory == gi->memory && gi->memory == chosen->memory)
				res.layout[i] = k;
	}
	{
		/* the layout names every GPU of the host (planned ones with their modes, the others
		 * left out), or the planned ones of a hypothetical host */
		size_t n_all = t ? mipart_topology_gpu_count(t) : n_gpus;
		unsigned *idx = calloc(n_all + 1, sizeof(*idx));
		mipart_compute_mode *cm = calloc(n_all + 1, sizeof(*cm));
		mipart_memory_mode *mm = calloc(n_all + 1, sizeof(*mm));
		const char **prod = calloc(n_all + 1, sizeof(*prod));

		if (idx && cm && mm && prod) {
			for (size_t i = 0; i < n_all; i++) {
				idx[i] = (unsigned)i;
				cm[i] = MIPART_COMPUTE_UNKNOWN;
				mm[i] = MIPART_MEMORY_UNKNOWN;
				prod[i] = t ? mipart_topology_gpu(t, i)->product : NULL;
			}
			for (size_t i = 0; i < n_gpus; i++) {
				const mipart_plan_layout *l = &gpus[i].layouts[res.layout[i]];

				cm[gpus[i].index] = l->compute;
				mm[gpus[i].index] = l->memory;
			}
			/* a layout file names GPU indices 0 to 63 of one host */
			r = n_all > MIPART_CONFIG_MAX_GPU_INDEX + 1
				    ? -E2BIG
				    : mipart_config_format(name, n_all, idx, prod, cm, mm, &yaml);
		} else {
			r = -ENOMEM;
		}
		free(idx);
		free(cm);
		free(mm);
		free(prod);
		if (r == -E2BIG && !output) {
			yaml = strdup("# more than 64 GPUs: a layout file names the GPUs of one host (0 to 63)\n");
			r = yaml ? 0 : -ENOMEM;
		}
		if (r < 0) {
			cli_error("cannot write the layout '%s': %s", name,
				  r == -E2BIG ? "a layout file names at most 64 GPUs of one host"
				  : r == -EINVAL ? "invalid config name" : mipart_strerror(r));
			goto out;
		}
	}
	if (output) {
		r = cli_write_file(output, yaml);
		if (r < 0) {
			cli_error("cannot write '%s': %s", output, mipart_strerror(r));
			goto out;
		}
	}
	if (json) {
		json_t *o = json_object(), *ga = json_array(), *pa = json_array(), *un = json_array();

		for (size_t i = 0; i < n_gpus; i++) {
			const mipart_plan_layout *l = &gpus[i].layouts[res.layout[i]];

			json_array_append_new(ga, json_pack("{s:i, s:s, s:s, s:i, s:I}", "gpu", (int)gpus[i].index,
							    "compute", mipart_compute_mode_name(l->compute),
							    "memory", mipart_memory_mode_name(l->memory),
							    "partitions", (int)l->partitions, "partition_bytes",
							    (json_int_t)l->partition_bytes));
		}
		for (size_t k = 0; k < res.n_places; k++) {
			const mipart_plan_place *p = &res.places[k];

			if (p->gpu == UINT32_MAX) {
				char why[160];

				json_array_append_new(un, json_pack("{s:s, s:i, s:I, s:s}", "model", pm[p->item].label,
								    "instance", (int)p->instance, "need_bytes",
								    (json_int_t)items[p->item].need_bytes, "reason",
								    unplaced_reason(gpus, n_gpus, &items[p->item], why, sizeof(why))));
			}
			else
				json_array_append_new(pa, json_pack("{s:s, s:i, s:i, s:i, s:i, s:I}", "model",
								    pm[p->item].label, "instance", (int)p->instance,
								    "gpu", (int)gpus[p->gpu].index, "first_xcp",
								    (int)p->first_partition, "tp",
								    (int)items[p->item].tp, "need_bytes",
								    (json_int_t)items[p->item].need_bytes));
		}
		json_object_set_new(o, "gpus", ga);
		json_object_set_new(o, "placements", pa);
		json_object_set_new(o, "unplaced", un);
		json_object_set_new(o, "placed", json_integer((json_int_t)res.placed));
		json_object_set_new(o, "instances", json_integer((json_int_t)res.n_places));
		json_object_set_new(o, "idle_bytes", json_integer((json_int_t)res.idle_bytes));
		json_object_set_new(o, "bound_idle_bytes", json_integer((json_int_t)res.bound_idle_bytes));
		json_object_set_new(o, "gap", json_real(res.gap));
		json_object_set_new(o, "layout", json_string(yaml));
		cli_print_json(o);
	} else {
		char show[MIPART_MODEL_ID_MAX + 8];

		printf("models (memory each instance needs per partition, GiB = 2^30 bytes):\n");
		for (size_t i = 0; i < n_specs; i++)
			printf("  %-48s x%-4u %s, max-model-len %u%s: %.2f GiB\n",
			       cli_show(pm[i].m.id, show, sizeof(show)), pm[i].count,
			       pm[i].e.precision_name, pm[i].e.max_model_len,
			       items[i].tp > 1 ? ", tp>1" : "", items[i].need_bytes / GIB);
		printf("\nlayout per GPU:\n");
		for (size_t i = 0; i < n_gpus && i < 64; i++) {
			const mipart_plan_layout *l = &gpus[i].layouts[res.layout[i]];
			char used[512];
			size_t len = 0;

			used[0] = '\0';
			for (size_t k = 0; k < res.n_places && len < sizeof(used); k++)
				if (res.places[k].gpu == i)
					len += (size_t)snprintf(used + len, sizeof(used) - len, "%s%u:%s",
								len ? " " : "", res.places[k].first_partition,
								cli_show(pm[res.places[k].item].m.id, show, sizeof(show)));
			printf("  GPU %-3u %s/%s %u x %6.2f GiB  %s\n", gpus[i].index,
			       mipart_compute_mode_name(l->compute), mipart_memory_mode_name(l->memory),
			       l->partitions, l->partition_bytes / GIB, used[0] ? used : "(idle)");
		}
		if (n_gpus > 64)
			printf("  ... %zu more GPUs (--json lists all)\n", n_gpus - 64);
		for (size_t k = 0; k < res.n_places; k++)
			if (res.places[k].gpu == UINT32_MAX) {
				char why[160];

				printf("not placed: %s instance %u (needs %.2f GiB on %u partition%s): %s\n",
				       cli_show(pm[res.places[k].item].label, show, sizeof(show)), res.places[k].instance,
				       items[res.places[k].item].need_bytes / GIB, items[res.places[k].item].tp,
				       items[res.places[k].item].tp > 1 ? "s of one GPU" : "",
				       unplaced_reason(gpus, n_gpus, &items[res.places[k].item], why, sizeof(why)));
			}
		printf("\nplaced %zu of %zu instances; idle memory %.2f GiB, lower bound %.2f GiB, gap %.2f%% of the memory\n",
		       res.placed, res.n_places, res.idle_bytes / GIB, res.bound_idle_bytes / GIB, res.gap * 100);
		printf("\n%s", yaml);
		if (output)
			printf("(written to %s: mipart apply -f %s -c %s --dry-run)\n", output, output, name);
	}
	rc = res.placed == res.n_places ? EXIT_OK : EXIT_FAIL;
out:
	free(yaml);
	mipart_plan_result_release(&res);
	mipart_topology_free(t);
	mipart_catalog_free(cat);
	free(gpus);
	free(pm);
	return rc;
}
