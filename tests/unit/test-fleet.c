// SPDX-License-Identifier: MIT
/*
 * The fleet planner: one config per distinct node layout, placements that fit their node's
 * config, a layout file the parser takes back, refusals; the `kubectl get nodes -o json` reader
 * (a List of Nodes shaped as kubectl prints it; the Node fields as in the Kubernetes project's
 * fixture staging/src/k8s.io/api/testdata/HEAD/core.v1.Node.json).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mipart/config.h"
#include "mipart/fleet.h"
#include "mipart/labels.h"
#include "banned.h"

#define GIB (1ull << 30)

static const mipart_plan_item mix[] = {
	{ "small", 40, 1, 20 * GIB },
	{ "medium", 12, 1, 40 * GIB },
	{ "large", 3, 1, 150 * GIB },
};

/* every placement fits its node's config, and no partition of a node holds two instances */
static void check_placements(const mipart_fleet_plan *p, const mipart_fleet_node *nodes, size_t n_nodes,
			     const mipart_plan_item *items)
{
	static unsigned char used[64][64][8];
	size_t placed = 0;

	assert_true(n_nodes <= 64);
	memset(used, 0, sizeof(used));
	for (size_t k = 0; k < p->n_places; k++) {
		const mipart_fleet_place *pl = &p->places[k];
		const mipart_fleet_config *c;
		const mipart_plan_layout *l;
		unsigned tp = items[pl->item].tp ? items[pl->item].tp : 1;

		if (pl->node == SIZE_MAX)
			continue;
		placed++;
		assert_true(pl->node < n_nodes);
		c = &p->configs[p->node_config[pl->node]];
		assert_true(pl->gpu < c->gpus && c->gpus == nodes[pl->node].gpus);
		l = &c->layout[pl->gpu];
		assert_true(l->partition_bytes >= items[pl->item].need_bytes);
		assert_true(pl->first_partition + tp <= l->partitions);
		for (unsigned x = pl->first_partition; x < pl->first_partition + tp; x++) {
			assert_int_equal(used[pl->node][pl->gpu][x], 0);
			used[pl->node][pl->gpu][x] = 1;
		}
	}
	assert_int_equal(placed, p->placed);
}

static void test_identical_nodes(void **state)
{
	mipart_fleet_node nodes[6];
	char names[6][16];
	mipart_fleet_plan p = { 0 };
	mipart_config *cfg = NULL;
	mipart_config_error err = { 0 };
	char *yaml = NULL;
	size_t total_nodes = 0;

	(void)state;
	for (size_t i = 0; i < 6; i++) {
		snprintf(names[i], sizeof(names[i]), "gpu-node-%zu", i);
		nodes[i] = (mipart_fleet_node){ names[i], "MI300X", 8 };
	}
	assert_int_equal(mipart_fleet_plan_make(nodes, 6, mix, 3, &p, NULL), 0);
	assert_int_equal(p.placed, 55);
	assert_true(p.gap <= 0.02);
	assert_true(p.n_configs >= 1 && p.n_configs <= 6);
	for (size_t c = 0; c < p.n_configs; c++) {
		total_nodes += p.configs[c].n_nodes;
		assert_int_equal(mipart_label_value_valid(p.configs[c].name), 0);
		/* GPUs sorted by layout: equal layouts are neighbours (a layout seen before
		 * never comes back after another one) */
		for (unsigned g = 2; g < p.configs[c].gpus; g++)
			for (unsigned h = 0; h + 1 < g; h++)
				if (p.configs[c].layout[h].compute == p.configs[c].layout[g].compute)
					assert_int_equal(p.configs[c].layout[g - 1].compute,
							 p.configs[c].layout[g].compute);
		for (size_t d = 0; d < c; d++)
			assert_string_not_equal(p.configs[c].name, p.configs[d].name);
	}
	assert_int_equal(total_nodes, 6);
	check_placements(&p, nodes, 6, mix);
	/* the layout file parses, with one config per distinct node layout */
	assert_int_equal(mipart_fleet_layout_format(&p, &yaml), 0);
	assert_int_equal(mipart_config_parse(yaml, strlen(yaml), "fleet.yaml", &cfg, &err), 0);
	assert_int_equal(mipart_config_count(cfg), p.n_configs);
	for (size_t c = 0; c < p.n_configs; c++) {
		const mipart_config_set *set;

		assert_int_equal(mipart_config_find(cfg, p.configs[c].name, &set), 0);
	}
	mipart_config_free(cfg);
	free(yaml);
	mipart_fleet_plan_release(&p);
}

static void test_mixed_products_and_one_memory_mode(void **state)
{
	mipart_fleet_node nodes[] = { { "a", "MI300X", 8 }, { "b", "mi325x", 8 }, { "c", "MI300X", 4 },
				      { "d", "MI300X", 1 } };
	mipart_fleet_plan p = { 0 };

	(void)state;
	assert_int_equal(mipart_fleet_plan_make(nodes, 4, mix, 3, &p, NULL), 0);
	check_placements(&p, nodes, 4, mix);
	/* a config is one product and one GPU count; one memory mode per node (one hive) */
	for (size_t i = 0; i < 4; i++) {
		const mipart_fleet_config *c = &p.configs[p.node_config[i]];

		assert_int_equal(c->gpus, nodes[i].gpus);
		for (unsigned g = 1; g < c->gpus; g++)
			assert_int_equal(c->layout[g].memory, c->layout[0].memory);
	}
	assert_true(p.configs[p.node_config[0]].gpus == 8 && p.node_config[0] != p.node_config[1]);
	mipart_fleet_plan_release(&p);
}

static void test_refusals(void **state)
{
	mipart_fleet_node bad_name[] = { { "Node_1", "MI300X", 8 } };
	mipart_fleet_node bad_product[] = { { "ok", "MI300X", 8 }, { "n2", "MI210", 8 } };
	mipart_fleet_node too_many[] = { { "big", "MI300X", 65 } };
	mipart_fleet_plan p = { 0 };
	size_t bad = 99;

	(void)state;
	assert_int_equal(mipart_fleet_plan_make(bad_name, 1, mix, 3, &p, &bad), -EINVAL);
	assert_int_equal(bad, 0);
	assert_int_equal(mipart_fleet_plan_make(bad_product, 2, mix, 3, &p, &bad), -ENOENT);
	assert_int_equal(bad, 1);
	assert_int_equal(mipart_fleet_plan_make(too_many, 1, mix, 3, &p, &bad), -EINVAL);
	assert_int_equal(mipart_fleet_plan_make(bad_name, 0, mix, 3, &p, &bad), -EINVAL);
	assert_null(p.configs);
}

/* kubectl get nodes -o json prints a v1 List whose items are Nodes */
static const char inventory[] =
	"{\"apiVersion\": \"v1\", \"kind\": \"List\", \"metadata\": {\"resourceVersion\": \"\"},\n"
	" \"items\": [\n"
	"  {\"apiVersion\": \"v1\", \"kind\": \"Node\", \"metadata\": {\"name\": \"gpu-1\", \"resourceVersion\": \"81\",\n"
	"    \"labels\": {\"kubernetes.io/hostname\": \"gpu-1\", \"feature.node.kubernetes.io/mipart-product\": \"MI300X\",\n"
	"               \"feature.node.kubernetes.io/mipart-gpus\": \"8\"}},\n"
	"   \"spec\": {\"podCIDR\": \"10.244.1.0/24\"}, \"status\": {\"capacity\": {\"amd.com/gpu\": \"8\"}}},\n"
	"  {\"apiVersion\": \"v1\", \"kind\": \"Node\", \"metadata\": {\"name\": \"cpu-1\", \"labels\": {\"kubernetes.io/hostname\": \"cpu-1\"}}},\n"
	"  {\"apiVersion\": \"v1\", \"kind\": \"Node\", \"metadata\": {\"name\": \"gpu-2\",\n"
	"    \"labels\": {\"feature.node.kubernetes.io/mipart-product\": \"MI325X\", \"feature.node.kubernetes.io/mipart-gpus\": \"4\"}}}\n"
	" ]}\n";

static void test_inventory(void **state)
{
	mipart_fleet_node *nodes = NULL;
	size_t n = 0, skipped = 0;
	char msg[256] = "";

	(void)state;
	assert_int_equal(mipart_fleet_inventory_parse(inventory, strlen(inventory), &nodes, &n, &skipped,
						      msg, sizeof(msg)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(skipped, 1);
	assert_string_equal(nodes[0].name, "gpu-1");
	assert_string_equal(nodes[0].product, "MI300X");
	assert_int_equal(nodes[0].gpus, 8);
	assert_string_equal(nodes[1].name, "gpu-2");
	assert_int_equal(nodes[1].gpus, 4);
	mipart_fleet_nodes_free(nodes, n);
	nodes = NULL;
	assert_int_equal(mipart_fleet_inventory_parse("{\"kind\": \"Pod\"}", 15, &nodes, &n, &skipped, msg,
						      sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "items"));
	assert_int_equal(mipart_fleet_inventory_parse("{\"items\": [", 11, &nodes, &n, &skipped, msg,
						      sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "not JSON"));
	assert_null(nodes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identical_nodes),
		cmocka_unit_test(test_mixed_products_and_one_memory_mode),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_inventory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
