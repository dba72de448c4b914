// SPDX-License-Identifier: MIT
/*
 * The fleet planner: a layout for every node of a cluster from one run of the layout planner
 * (src/lib/models/planner.c). Each node's GPUs are one XGMI hive for the planner, so a node
 * gets one memory mode, as the hive rule asks on an 8-GPU platform and as AMD's Device Config
 * Manager asks of a profile ("Combination of any two memory types cannot be used in a single
 * profile", ROCm/device-config-manager docs/configuration/configmap.md). Within a node the GPUs
 * are interchangeable to the planner, so each node's GPUs are sorted by layout (placements
 * follow): equal node layouts then compare equal and share one named config. Also the reader of
 * `kubectl get nodes -o json`.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mipart/config.h"
#include "mipart/fleet.h"
#include "mipart/labels.h"
#include "mipart/product.h"
#include "util.h"
#include "banned.h"

/* per node: its product's layouts (the index a GPU's plan layout is read back with) */
struct node_layouts {
	size_t n;
	mipart_plan_layout l[MIPART_PLAN_MAX_LAYOUTS];
};

static int cmp_u_by_layout(const void *a, const void *b, void *ctx)
{
	const size_t *lay = ctx;
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	if (lay[x] != lay[y])
		return lay[x] < lay[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* a tiny insertion sort with a context (qsort_r is a GNU extension; n <= 64) */
static void sort_gpus(unsigned *v, size_t n, const size_t *lay)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && cmp_u_by_layout(&v[j - 1], &v[j], (void *)lay) > 0; j--) {
			unsigned t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* "mi300x-4cpx-4qpx-nps1": the product, each compute mode with its GPU count in GPU order,
 * the memory mode; "fleet-<k>" when that is no valid label value. */
static void config_name(mipart_fleet_config *c, size_t k)
{
	size_t len = (size_t)snprintf(c->name, sizeof(c->name), "%s", c->product);
	mipart_memory_mode mem = c->layout[0].memory;
	bool one_memory = true;

	for (unsigned i = 0; i < c->gpus && len < sizeof(c->name);) {
		unsigned j = i;

		while (j < c->gpus && c->layout[j].compute == c->layout[i].compute)
			j++;
		len += (size_t)snprintf(c->name + len, sizeof(c->name) - len, "-%u%s", j - i,
					mipart_compute_mode_name(c->layout[i].compute));
		i = j;
	}
	for (unsigned i = 0; i < c->gpus; i++)
		one_memory &= c->layout[i].memory == mem;
	if (len < sizeof(c->name) && one_memory)
		len += (size_t)snprintf(c->name + len, sizeof(c->name) - len, "-%s", mipart_memory_mode_name(mem));
	lower(c->name);
	for (char *s = c->name; *s; s++)
		if (*s == ' ' || *s == '_')
			*s = '-';
	if (len >= sizeof(c->name) || strlen(c->name) > MIPART_CONFIG_NAME_MAX - 1 ||
	    mipart_label_value_valid(c->name) < 0)
		snprintf(c->name, sizeof(c->name), "fleet-%zu", k + 1);
}

static bool same_layout(const mipart_fleet_config *c, const char *product, unsigned gpus,
			const mipart_plan_layout *l)
{
	if (c->gpus != gpus || strcasecmp(c->product, product))
		return false;
	for (unsigned i = 0; i < gpus; i++)
		if (c->layout[i].compute != l[i].compute || c->layout[i].memory != l[i].memory)
			return false;
	return true;
}

int mipart_fleet_plan_make(const mipart_fleet_node *nodes, size_t n_nodes,
			   const mipart_plan_item *items, size_t n_items, mipart_fleet_plan *ret,
			   size_t *ret_bad)
{
	mipart_fleet_plan p = { 0 };
	mipart_plan_result res = { 0 };
	mipart_plan_gpu *gpus = NULL;
	size_t *first = NULL, n_gpus = 0;
	unsigned *order = NULL, *pos = NULL;
	int r;

	if (!nodes || !n_nodes || n_nodes > MIPART_FLEET_MAX_NODES || !ret)
		return -EINVAL;
	first = calloc(n_nodes + 1, sizeof(*first));
	if (!first)
		return -ENOMEM;
	for (size_t i = 0; i < n_nodes; i++) {
		if (!nodes[i].gpus || nodes[i].gpus > MIPART_FLEET_MAX_GPUS_PER_NODE ||
		    mipart_k8s_name_valid(nodes[i].name) < 0 || !nodes[i].product) {
			if (ret_bad)
				*ret_bad = i;
			free(first);
			return -EINVAL;
		}
		first[i] = n_gpus;
		n_gpus += nodes[i].gpus;
	}
	first[n_nodes] = n_gpus;
	r = -EINVAL;
	if (n_gpus > MIPART_FLEET_MAX_GPUS)
		goto out;
	r = -ENOMEM;
	gpus = calloc(n_gpus, sizeof(*gpus));
	p.node_config = calloc(n_nodes, sizeof(*p.node_config));
	p.configs = calloc(n_nodes, sizeof(*p.configs));
	order = calloc(n_gpus, sizeof(*order));
	pos = calloc(n_gpus, sizeof(*pos));
	if (!gpus || !p.node_config || !p.configs || !order || !pos)
		goto out;
	for (size_t i = 0; i < n_nodes; i++) {
		mipart_product_layout lay[MIPART_PLAN_MAX_LAYOUTS];
		int nl = mipart_product_layouts(nodes[i].product, lay, MIPART_PLAN_MAX_LAYOUTS);

		if (nl <= 0) {
			if (ret_bad)
				*ret_bad = i;
			r = -ENOENT;
			goto out;
		}
		for (size_t g = first[i]; g < first[i + 1]; g++) {
			gpus[g].index = (unsigned)g;
			/* one hive per node (a node of one GPU has none) */
			gpus[g].hive_id = nodes[i].gpus > 1 ? i + 1 : 0;
			gpus[g].n_layouts = (size_t)nl;
			for (int k = 0; k < nl; k++)
				gpus[g].layouts[k] = (mipart_plan_layout){ lay[k].compute, lay[k].memory,
									   lay[k].partitions,
									   lay[k].partition_bytes };
		}
	}
	r = mipart_plan(gpus, n_gpus, items, n_items, &res);
	if (r < 0)
		goto out;
	r = -ENOMEM;
	/* per node: its GPUs sorted by chosen layout; pos[] maps a planner GPU to its place */
	for (size_t i = 0; i < n_nodes; i++) {
		size_t n = nodes[i].gpus, c;
		mipart_plan_layout l[MIPART_FLEET_MAX_GPUS_PER_NODE];

		for (size_t k = 0; k < n; k++)
			order[first[i] + k] = (unsigned)k;
		sort_gpus(&order[first[i]], n, &res.layout[first[i]]);
		for (size_t k = 0; k < n; k++) {
			size_t g = first[i] + order[first[i] + k];

			pos[g] = (unsigned)k;
			l[k] = gpus[g].layouts[res.layout[g]];
			p.total_bytes += (uint64_t)l[k].partitions * l[k].partition_bytes;
		}
		for (c = 0; c < p.n_configs; c++)
			if (same_layout(&p.configs[c], nodes[i].product, nodes[i].gpus, l))
				break;
		if (c == p.n_configs) {
			mipart_fleet_config *cf = &p.configs[p.n_configs++];

			cf->product = nodes[i].product;
			cf->gpus = nodes[i].gpus;
			memcpy(cf->layout, l, n * sizeof(l[0]));
		}
		p.configs[c].n_nodes++;
		p.node_config[i] = c;
	}
	for (size_t c = 0; c < p.n_configs; c++) {
		config_name(&p.configs[c], c);
		/* two layouts could print the same name (several memory modes on one node cannot
		 * happen: one hive); keep names unique */
		for (size_t d = 0; d < c; d++)
			if (!strcmp(p.configs[d].name, p.configs[c].name))
				snprintf(p.configs[c].name, sizeof(p.configs[c].name), "fleet-%zu", c + 1);
	}
	p.places = calloc(res.n_places + 1, sizeof(*p.places));
	if (!p.places)
		goto out;
	for (size_t k = 0; k < res.n_places; k++) {
		const mipart_plan_place *src = &res.places[k];
		mipart_fleet_place *dst = &p.places[k];

		dst->item = src->item;
		dst->instance = src->instance;
		dst->node = SIZE_MAX;
		if (src->gpu == UINT32_MAX)
			continue;
		/* the node of a GPU: binary search over first[] */
		{
			size_t lo = 0, hi = n_nodes;

			while (hi - lo > 1) {
				size_t mid = (lo + hi) / 2;

				if (first[mid] <= src->gpu)
					lo = mid;
				else
					hi = mid;
			}
			dst->node = lo;
		}
		dst->gpu = pos[src->gpu];
		dst->first_partition = src->first_partition;
	}
	p.n_places = res.n_places;
	p.placed = res.placed;
	p.idle_bytes = res.idle_bytes;
	p.bound_idle_bytes = res.bound_idle_bytes;
	p.gap = res.gap;
	*ret = p;
	memset(&p, 0, sizeof(p));
	r = 0;
out:
	mipart_fleet_plan_release(&p);
	mipart_plan_result_release(&res);
	free(gpus);
	free(first);
	free(order);
	free(pos);
	return r;
}

void mipart_fleet_plan_release(mipart_fleet_plan *p)
{
	if (!p)
		return;
	free(p->configs);
	free(p->node_config);
	free(p->places);
	memset(p, 0, sizeof(*p));
}

int mipart_fleet_layout_format(const mipart_fleet_plan *p, char **ret)
{
	size_t cap = 128 + p->n_configs * (96 + MIPART_FLEET_MAX_GPUS_PER_NODE * 96), len;
	char *t = malloc(cap);

	if (!t)
		return -ENOMEM;
	len = (size_t)snprintf(t, cap, "# mipart plan: one config per distinct node layout\n"
				       "version: v1\npartition-configs:\n");
	for (size_t c = 0; c < p->n_configs; c++) {
		const mipart_fleet_config *cf = &p->configs[c];

		len += (size_t)snprintf(t + len, cap - len, "  %s:   # %zu node%s\n", cf->name,
					cf->n_nodes, cf->n_nodes == 1 ? "" : "s");
		for (unsigned i = 0; i < cf->gpus;) {
			unsigned j = i;

			while (j < cf->gpus && cf->layout[j].compute == cf->layout[i].compute &&
			       cf->layout[j].memory == cf->layout[i].memory)
				j++;
			if (i == 0 && j == cf->gpus) {
				len += (size_t)snprintf(t + len, cap - len, "    - devices: all\n");
			} else {
				len += (size_t)snprintf(t + len, cap - len, "    - devices: [");
				for (unsigned k = i; k < j; k++)
					len += (size_t)snprintf(t + len, cap - len, "%s%u", k > i ? ", " : "", k);
				len += (size_t)snprintf(t + len, cap - len, "]\n");
			}
			len += (size_t)snprintf(t + len, cap - len, "      compute: %s\n      memory: %s\n",
						mipart_compute_mode_name(cf->layout[i].compute),
						mipart_memory_mode_name(cf->layout[i].memory));
			i = j;
		}
	}
	*ret = t;
	return 0;
}

static const char *label(json_t *labels, const char *key)
{
	return json_string_value(json_object_get(labels, key));
}

int mipart_fleet_inventory_parse(const char *json, size_t len, mipart_fleet_node **ret_nodes,
				 size_t *ret_n, size_t *ret_skipped, char *msg, size_t msg_size)
{
	mipart_fleet_node *nodes = NULL;
	json_error_t je;
	json_t *doc, *list, *item;
	size_t n = 0, skipped = 0, i;
	int r = -EINVAL;

	if (len > MIPART_FLEET_INVENTORY_MAX)
		return -EFBIG;
	doc = json_loadb(json, len, 0, &je);
	if (!doc) {
		snprintf(msg, msg_size, "%d:%d: not JSON: %s", je.line, je.column, je.text);
		return -EINVAL;
	}
	/* kubectl get nodes -o json: {"apiVersion": "v1", "kind": "List", "items": [Node...]};
	 * a single Node (kubectl get node NAME -o json) is taken too */
	list = json_object_get(doc, "items");
	if (!json_is_array(list)) {
		if (json_is_string(json_object_get(doc, "kind")) &&
		    !strcmp(json_string_value(json_object_get(doc, "kind")), "Node")) {
			list = json_array();
			json_array_append(list, doc);
		} else {
			snprintf(msg, msg_size, "not a list of Nodes ('kubectl get nodes -o json'): no \"items\" array");
			goto out;
		}
	} else {
		json_incref(list);
	}
	if (json_array_size(list) > MIPART_FLEET_MAX_NODES) {
		snprintf(msg, msg_size, "more than %d nodes", MIPART_FLEET_MAX_NODES);
		goto out_list;
	}
	nodes = calloc(json_array_size(list) + 1, sizeof(*nodes));
	if (!nodes) {
		r = -ENOMEM;
		goto out_list;
	}
	json_array_foreach(list, i, item) {
		json_t *meta = json_object_get(item, "metadata"), *labels = json_object_get(meta, "labels");
		const char *name = json_string_value(json_object_get(meta, "name"));
		const char *product = label(labels, MIPART_LABELS_NFD_NS "mipart-product");
		const char *gpus = label(labels, MIPART_LABELS_NFD_NS "mipart-gpus");
		uint64_t g;

		if (!name || mipart_k8s_name_valid(name) < 0) {
			snprintf(msg, msg_size, "items[%zu]: no valid metadata.name", i);
			goto out_nodes;
		}
		if (!product || !gpus || !strcmp(product, "mixed") ||
		    util_parse_u64(gpus, strlen(gpus), &g) < 0 || g == 0 ||
		    g > MIPART_FLEET_MAX_GPUS_PER_NODE) {
			skipped++;
			continue;
		}
		nodes[n].name = strdup(name);
		nodes[n].product = strdup(product);
		nodes[n].gpus = (unsigned)g;
		n++;
		if (!nodes[n - 1].name || !nodes[n - 1].product) {
			r = -ENOMEM;
			goto out_nodes;
		}
	}
	*ret_nodes = nodes;
	*ret_n = n;
	if (ret_skipped)
		*ret_skipped = skipped;
	nodes = NULL;
	r = 0;
out_nodes:
	mipart_fleet_nodes_free(nodes, n);
out_list:
	json_decref(list);
out:
	json_decref(doc);
	return r;
}

void mipart_fleet_nodes_free(mipart_fleet_node *nodes, size_t n)
{
	if (!nodes)
		return;
	for (size_t i = 0; i < n; i++) {
		free((char *)nodes[i].name);
		free((char *)nodes[i].product);
	}
	free(nodes);
}
