/* SPDX-License-Identifier: MIT */
/*
 * The fleet planner: layouts for many Kubernetes nodes at once. The GPUs of every node go to
 * the layout planner (planner.h) as one XGMI hive per node, so each node gets one memory mode;
 * the plan is then read back per node, every distinct node layout becomes one named config of
 * one layout file, and each node is assigned its config (a node label value). See
 * docs/kubernetes.md ("Fleet planner").
 */
#ifndef MIPART_FLEET_H
#define MIPART_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mode.h"
#include "planner.h"

#define MIPART_FLEET_MAX_NODES 10000
#define MIPART_FLEET_MAX_GPUS_PER_NODE 64	/* a layout file names GPUs 0 to 63 */
#define MIPART_FLEET_MAX_GPUS 65536
#define MIPART_FLEET_INVENTORY_MAX (256u << 20)	/* bytes of a `kubectl get nodes -o json` */

typedef struct mipart_fleet_node {
	const char *name;	/* the Node's metadata.name */
	const char *product;	/* "MI300X" (mipart_product_layouts), case-insensitive */
	unsigned gpus;		/* 1 .. MIPART_FLEET_MAX_GPUS_PER_NODE */
} mipart_fleet_node;

/* One distinct node layout: a named config. */
typedef struct mipart_fleet_config {
	char name[64];		/* a valid config name and label value: "mi300x-4cpx-4qpx-nps1" */
	const char *product;	/* as the first node of this layout gave it */
	unsigned gpus;
	size_t n_nodes;
	mipart_plan_layout layout[MIPART_FLEET_MAX_GPUS_PER_NODE]; /* per GPU index */
} mipart_fleet_config;

typedef struct mipart_fleet_place {
	size_t item;		/* index into the items */
	unsigned instance;
	size_t node;		/* SIZE_MAX: not placed */
	unsigned gpu;		/* GPU index on the node (in its config's order) */
	unsigned first_partition;
} mipart_fleet_place;

typedef struct mipart_fleet_plan {
	mipart_fleet_config *configs;
	size_t n_configs;
	size_t *node_config;	/* per node: index into configs */
	mipart_fleet_place *places;
	size_t n_places, placed;
	uint64_t idle_bytes, bound_idle_bytes, total_bytes;
	double gap;
} mipart_fleet_plan;

/*
 * mipart_fleet_plan_make - plan nodes for items. Returns 0 and *ret (release with
 * mipart_fleet_plan_release), -EINVAL (no nodes, too many, a node with 0 or more than 64 GPUs,
 * a name that is not a Kubernetes node name, an item the planner refuses), -ENOENT (an unknown
 * or unpartitionable product: *ret_bad is the node index), -ENOMEM. *ret untouched on failure.
 */
int mipart_fleet_plan_make(const mipart_fleet_node *nodes, size_t n_nodes,
			   const mipart_plan_item *items, size_t n_items, mipart_fleet_plan *ret,
			   size_t *ret_bad);
void mipart_fleet_plan_release(mipart_fleet_plan *p);

/*
 * mipart_fleet_layout_format - the configs as one layout file (docs/config.md) that
 * mipart_config_parse accepts. Returns 0 and a new text in *ret (free()), -ENOMEM.
 */
int mipart_fleet_layout_format(const mipart_fleet_plan *p, char **ret);

/*
 * mipart_fleet_inventory_parse - the nodes of `kubectl get nodes -o json` (a List of Nodes)
 * that carry mipart's labels (feature.node.kubernetes.io/mipart-product and -gpus, written by
 * `mipart labels`). Nodes without them are counted in *ret_skipped. Returns 0 with a new array
 * in *ret_nodes / *ret_n (free with mipart_fleet_nodes_free), -EINVAL (not such a document:
 * msg says why), -EFBIG, -ENOMEM.
 */
int mipart_fleet_inventory_parse(const char *json, size_t len, mipart_fleet_node **ret_nodes,
				 size_t *ret_n, size_t *ret_skipped, char *msg, size_t msg_size);
void mipart_fleet_nodes_free(mipart_fleet_node *nodes, size_t n);

#endif
