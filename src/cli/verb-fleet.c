// SPDX-License-Identifier: MIT
/*
 * `mipart plan --nodes N --gpus-per-node G --product P` / `--inventory FILE`: the fleet planner
 * (src/lib/fleet/fleet.c) from the CLI. Prints the configs, the node -> config assignment as
 * `kubectl label` commands, the placement per node and the gap; --json gives the same; -o
 * writes the layout file with one config per distinct node layout.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mipart/error.h"
#include "mipart/fleet.h"
#include "mipart/labels.h"
#include "cli.h"
#include "util.h"
#include "banned.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

static int load_inventory(const char *path, mipart_fleet_node **ret, size_t *ret_n)
{
	char *buf = malloc(MIPART_FLEET_INVENTORY_MAX + 1), msg[256] = "";
	size_t skipped = 0;
	ssize_t n;
	int r;

	if (!buf) {
		cli_error("out of memory");
		return EXIT_FAIL;
	}
	n = util_read_file(path, buf, MIPART_FLEET_INVENTORY_MAX);
	if (n < 0) {
		cli_error("cannot read '%s': %s", path, n == -EFBIG ? "larger than 256 MiB" : mipart_strerror((int)n));
		free(buf);
		return EXIT_FAIL;
	}
	r = mipart_fleet_inventory_parse(buf, (size_t)n, ret, ret_n, &skipped, msg, sizeof(msg));
	free(buf);
	if (r < 0) {
		cli_error("%s: %s", path, msg[0] ? msg : mipart_strerror(r));
		return EXIT_FAIL;
	}
	if (skipped)
		cli_note("warning: %zu node%s in '%s' without mipart's labels (run 'mipart labels' there) left out",
			 skipped, skipped == 1 ? "" : "s", path);
	if (!*ret_n) {
		cli_error("no node in '%s' carries '%smipart-product' and '%smipart-gpus'", path,
			  MIPART_LABELS_NFD_NS, MIPART_LABELS_NFD_NS);
		mipart_fleet_nodes_free(*ret, 0);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int cli_plan_fleet(struct cli *cli, const struct fleet_args *fa, const mipart_plan_item *items,
		   size_t n_items)
{
	mipart_fleet_node *nodes = NULL;
	mipart_fleet_plan p = { 0 };
	size_t n_nodes = 0, bad = 0;
	char (*names)[32] = NULL, *yaml = NULL;
	bool from_file = fa->inventory != NULL;
	int r, rc = EXIT_FAIL;

	(void)cli;
	if (mipart_label_key_valid(fa->label_key) < 0) {
		cli_error("'%s' is not a valid label key ('--label-key')", fa->label_key);
		return EXIT_USAGE;
	}
	if (from_file) {
		rc = load_inventory(fa->inventory, &nodes, &n_nodes);
		if (rc != EXIT_OK)
			return rc;
		rc = EXIT_FAIL;
	} else {
		nodes = calloc(fa->nodes, sizeof(*nodes));
		names = calloc(fa->nodes, sizeof(*names));
		if (!nodes || !names) {
			cli_error("out of memory");
			goto out;
		}
		for (size_t i = 0; i < fa->nodes; i++) {
			snprintf(names[i], sizeof(names[i]), "node-%03zu", i + 1);
			nodes[i] = (mipart_fleet_node){ names[i], fa->product, (unsigned)fa->gpus_per_node };
		}
		n_nodes = fa->nodes;
	}
	r = mipart_fleet_plan_make(nodes, n_nodes, items, n_items, &p, &bad);
	if (r == -ENOENT) {
		cli_error("unknown or unpartitionable product '%s' of node '%s' (mi300x, mi308x, mi325x, mi300a, mi350x, mi355x)",
			  nodes[bad].product, nodes[bad].name);
		goto out;
	}
	if (r < 0) {
		cli_error("cannot plan the fleet: %s", mipart_strerror(r));
		goto out;
	}
	r = mipart_fleet_layout_format(&p, &yaml);
	if (r < 0) {
		cli_error("out of memory");
		goto out;
	}
	if (fa->output && (r = cli_write_file(fa->output, yaml)) < 0) {
		cli_error("cannot write '%s': %s", fa->output, mipart_strerror(r));
		goto out;
	}
	if (fa->json) {
		json_t *o = json_object(), *cfgs = json_array(), *na = json_array(), *cmds = json_array();
		json_t *un = json_array();
		json_t **place_of = calloc(n_nodes, sizeof(*place_of));

		for (size_t c = 0; c < p.n_configs; c++) {
			json_t *gl = json_array();

			for (unsigned g = 0; g < p.configs[c].gpus; g++)
				json_array_append_new(gl, json_pack("{s:i, s:s, s:s, s:i, s:I}", "gpu", (int)g,
								    "compute", mipart_compute_mode_name(p.configs[c].layout[g].compute),
								    "memory", mipart_memory_mode_name(p.configs[c].layout[g].memory),
								    "partitions", (int)p.configs[c].layout[g].partitions,
								    "partition_bytes", (json_int_t)p.configs[c].layout[g].partition_bytes));
			json_array_append_new(cfgs, json_pack("{s:s, s:s, s:i, s:I, s:o}", "name", p.configs[c].name,
							      "product", p.configs[c].product, "gpus",
							      (int)p.configs[c].gpus, "nodes",
							      (json_int_t)p.configs[c].n_nodes, "layout", gl));
		}
		for (size_t i = 0; place_of && i < n_nodes; i++)
			place_of[i] = json_array();
		for (size_t k = 0; place_of && k < p.n_places; k++) {
			const mipart_fleet_place *pl = &p.places[k];

			if (pl->node == SIZE_MAX)
				json_array_append_new(un, json_pack("{s:s, s:i}", "model", items[pl->item].name,
								    "instance", (int)pl->instance));
			else
				json_array_append_new(place_of[pl->node],
						      json_pack("{s:s, s:i, s:i, s:i, s:i}", "model",
								items[pl->item].name, "instance", (int)pl->instance,
								"gpu", (int)pl->gpu, "first_xcp", (int)pl->first_partition,
								"tp", (int)(items[pl->item].tp ? items[pl->item].tp : 1)));
		}
		for (size_t i = 0; place_of && i < n_nodes; i++) {
			char cmd[512];

			snprintf(cmd, sizeof(cmd), "kubectl label node %s %s=%s --overwrite", nodes[i].name,
				 fa->label_key, p.configs[p.node_config[i]].name);
			json_array_append_new(na, json_pack("{s:s, s:s, s:o}", "node", nodes[i].name, "config",
							    p.configs[p.node_config[i]].name, "placements",
							    place_of[i]));
			json_array_append_new(cmds, json_string(cmd));
		}
		free(place_of);
		json_object_set_new(o, "label_key", json_string(fa->label_key));
		json_object_set_new(o, "configs", cfgs);
		json_object_set_new(o, "nodes", na);
		json_object_set_new(o, "kubectl", cmds);
		json_object_set_new(o, "unplaced", un);
		json_object_set_new(o, "placed", json_integer((json_int_t)p.placed));
		json_object_set_new(o, "instances", json_integer((json_int_t)p.n_places));
		json_object_set_new(o, "total_bytes", json_integer((json_int_t)p.total_bytes));
		json_object_set_new(o, "idle_bytes", json_integer((json_int_t)p.idle_bytes));
		json_object_set_new(o, "bound_idle_bytes", json_integer((json_int_t)p.bound_idle_bytes));
		json_object_set_new(o, "gap", json_real(p.gap));
		json_object_set_new(o, "layout", json_string(yaml));
		cli_print_json(o);
	} else {
		size_t *per_node = calloc(n_nodes + 1, sizeof(*per_node));

		printf("%zu node%s, %zu distinct layout%s:\n", n_nodes, n_nodes == 1 ? "" : "s",
		       p.n_configs, p.n_configs == 1 ? "" : "s");
		for (size_t c = 0; c < p.n_configs; c++)
			printf("  %-40s %zu node%s\n", p.configs[c].name, p.configs[c].n_nodes,
			       p.configs[c].n_nodes == 1 ? "" : "s");
		for (size_t k = 0; per_node && k < p.n_places; k++)
			if (p.places[k].node != SIZE_MAX)
				per_node[p.places[k].node]++;
		printf("\nassignment (%s):\n", fa->label_key);
		for (size_t i = 0; i < n_nodes; i++)
			printf("kubectl label node %s %s=%s --overwrite   # %zu instances\n", nodes[i].name,
			       fa->label_key, p.configs[p.node_config[i]].name, per_node ? per_node[i] : 0);
		free(per_node);
		printf("\nplaced %zu of %zu instances; idle memory %.2f GiB of %.2f, lower bound %.2f GiB, gap %.2f%% of the memory\n",
		       p.placed, p.n_places, p.idle_bytes / GIB, p.total_bytes / GIB,
		       p.bound_idle_bytes / GIB, p.gap * 100);
		printf("(placement per node: --json)\n\n%s", yaml);
		if (fa->output)
			printf("(written to %s)\n", fa->output);
	}
	rc = p.placed == p.n_places ? EXIT_OK : EXIT_FAIL;
out:
	free(yaml);
	mipart_fleet_plan_release(&p);
	if (from_file)
		mipart_fleet_nodes_free(nodes, n_nodes);
	else
		free(nodes);
	free(names);
	return rc;
}
