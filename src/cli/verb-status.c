// SPDX-License-Identifier: MIT
/*
 * `mipart status` (one row per GPU) and `mipart list` (one row per logical device), and the
 * JSON document both print with --json: {"gpus": [ {..., "partitions": [...]} ], "warnings": []}.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "mipart/apply.h"
#include "mipart/error.h"
#include "mipart/journal.h"
#include "mipart/procs.h"
#include "cli.h"
#include "monitor.h"
#include "banned.h"

json_t *cli_topology_json(const mipart_topology *t, const mipart_procs *procs)
{
	return monitor_topology_json(t, procs);
}

static int print_json(const mipart_topology *t, const mipart_procs *procs)
{
	return cli_print_json(cli_topology_json(t, procs));
}

static int parse_json_flag(struct cli *cli, int argc, char **argv, bool *json)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 } };
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'j')
			return cli_usage_error(cli->verb, "unknown option '%s'", argv[optind - 1]);
		*json = true;
	}
	return cli_check_args(cli, argc - optind);
}

/* A change a crash left running: say so wherever the host is looked at. */
static void warn_unfinished(struct cli *cli)
{
	char path[MIPART_PATH_MAX];
	mipart_journal *j = NULL;
	mipart_journal_entry e = { 0 };

	if (mipart_host_path(cli->host, MIPART_JOURNAL_PATH, path, sizeof(path)) < 0 ||
	    access(path, F_OK) < 0 || mipart_journal_open(path, &j) < 0)
		return;
	if (mipart_journal_unresolved(j, &e) == 0 && !strcmp(e.state, "failed"))
		cli_warn(cli, "change %lld ('%s') failed and left the host in neither its old nor its new state; run 'mipart recover'",
			 (long long)e.id, e.command);
	else if (e.state && mipart_apply_in_progress(cli->host, NULL, 0) == 0)
		cli_warn(cli, "change %lld ('%s') did not finish (step '%s'); run 'mipart recover'",
			 (long long)e.id, e.command, e.step);
	mipart_journal_entry_release(&e);
	/* hook units a change stopped and could not start again (names escaped) */
	{
		mipart_stopped_unit *v = NULL;
		size_t n = 0;

		if (mipart_journal_units_stopped(j, &v, &n) == 0)
			for (size_t i = 0; i < n; i++) {
				char name[140];

				cli_warn(cli, "hook unit '%s' was stopped by change %lld and did not start again; run 'mipart recover'",
					 cli_show(v[i].name, name, sizeof(name)), (long long)v[i].change);
			}
		free(v);
	}
	mipart_journal_free(j);
}

static int load(struct cli *cli, int argc, char **argv, bool *json, mipart_topology **t,
		mipart_procs **procs)
{
	int r = parse_json_flag(cli, argc, argv, json);

	if (r != EXIT_OK)
		return r;
	r = cli_load_topology(cli, t);
	if (r != EXIT_OK)
		return r;
	warn_unfinished(cli);
	r = mipart_procs_scan(cli->host, *t, procs);
	/* a captured tree without proc/ under --root: nothing to say about processes */
	if (r < 0 && !(r == -ENOENT && mipart_host_root(cli->host)[0]))
		cli_warn(cli, "cannot list processes under '%s/proc': %s", mipart_host_root(cli->host),
			 mipart_strerror(r));
	else if (r == 0 && mipart_procs_hidden(*procs))
		cli_warn(cli, "%zu processes could not be inspected (run as root to see every GPU user)",
			 mipart_procs_hidden(*procs));
	if (mipart_topology_gpu_count(*t) == 0 && !*json) {
		cli_error("no AMD GPU found under '%s/sys'", mipart_host_root(cli->host));
		fprintf(stderr, "hint: 'mipart doctor' says what is missing (driver, devices); to try mipart without\n"
				"hint: a GPU: 'mipart sim create /tmp/node', then 'mipart --root /tmp/node status'\n");
		*t = mipart_topology_free(*t);
		*procs = mipart_procs_free(*procs);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* --json, or an error exit: print and free */
static int finish_json(int r, bool json, mipart_topology *t, mipart_procs *procs)
{
	if (r == EXIT_OK && json) {
		r = print_json(t, procs);
		if (mipart_topology_gpu_count(t) == 0)
			r = EXIT_FAIL;
	}
	mipart_topology_free(t);
	mipart_procs_free(procs);
	return r;
}

/* the first two users of a GPU: pid, name, and the VRAM its DRM clients hold there (fdinfo) */
static void used_by(const mipart_topology *t, const mipart_procs *procs, unsigned gpu, char *buf,
		    size_t size)
{
	size_t n = 0, len = 0;

	buf[0] = '\0';
	for (size_t i = 0; procs && i < mipart_procs_count(procs); i++) {
		const mipart_proc_info *p = mipart_procs_get(procs, i);

		if (gpu >= 64 || !((p->gpus >> gpu) & 1))
			continue;
		if (n++ < 2 && len < size) {
			int64_t vram = mipart_proc_gpu_vram(p, t, gpu);
			char comm[64], num[24], gib[32] = "";

			if (vram >= 0) {
				cli_gib(num, sizeof(num), vram);
				snprintf(gib, sizeof(gib), " %s GiB", num);
			}
			len += (size_t)snprintf(buf + len, size - len, "%s%d %s%s", len ? ", " : "",
						p->pid, cli_show(p->comm, comm, sizeof(comm)), gib);
		}
	}
	if (n > 2 && len < size)
		snprintf(buf + len, size - len, " +%zu", n - 2);
	if (!n)
		snprintf(buf, size, "-");
}

int verb_status(struct cli *cli, int argc, char **argv)
{
	mipart_topology *t = NULL;
	mipart_procs *procs = NULL;
	uint64_t hives[64];
	size_t n_hives = 0;
	bool json = false, inferred = false;
	int r = load(cli, argc, argv, &json, &t, &procs);

	if (r != EXIT_OK || json)
		return finish_json(r, json, t, procs);
	printf("%-3s  %-12s  %-7s  %-8s  %-7s  %-18s  %-11s  %-17s  %-4s  %s\n", "GPU", "BDF",
	       "PRODUCT", "COMPUTE", "MEMORY", "COMPUTE ALLOWED", "MEM ALLOWED", "PARTITIONS",
	       "HIVE", "USED BY");
	for (size_t i = 0; i < mipart_topology_gpu_count(t); i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(t, i);
		const mipart_partition_info *p0 = mipart_topology_gpu_partition(t, g, 0);
		char cm[16], mm[16], ca[64], ma[64], parts[80], hive[16], size[32], users[160];
		bool same = g->n_partitions > 0;
		size_t h;

		for (size_t j = 1; j < g->n_partitions; j++)
			if (mipart_topology_gpu_partition(t, g, j)->memory_bytes != p0->memory_bytes)
				same = false;
		snprintf(cm, sizeof(cm), "%s%s", mipart_compute_mode_name(g->compute),
			 g->mode_source == MIPART_MODE_SOURCE_INFERRED ? "*" : "");
		snprintf(mm, sizeof(mm), "%s%s", mipart_memory_mode_name(g->memory),
			 g->mode_source == MIPART_MODE_SOURCE_INFERRED ? "*" : "");
		inferred |= g->mode_source == MIPART_MODE_SOURCE_INFERRED;
		if (!g->partitioning) {
			snprintf(cm, sizeof(cm), "-");
			snprintf(mm, sizeof(mm), "-");
			snprintf(ca, sizeof(ca), "not supported");
			snprintf(ma, sizeof(ma), "-");
		} else {
			mipart_compute_modes_format(g->compute_available, ca, sizeof(ca));
			mipart_memory_modes_format(g->memory_available, ma, sizeof(ma));
			if (!ca[0])
				snprintf(ca, sizeof(ca), g->compute_writable ? "none" : "read-only");
			if (!ma[0])
				snprintf(ma, sizeof(ma), "-");
		}
		cli_gib(size, sizeof(size), same ? p0->memory_bytes : -1);
		if (g->n_partitions == 0)
			snprintf(parts, sizeof(parts), "-");
		else if (same)
			snprintf(parts, sizeof(parts), "%zu x %s GiB", g->n_partitions, size);
		else
			snprintf(parts, sizeof(parts), "%zu (sizes differ)", g->n_partitions);
		/* hives are numbered in order of appearance; the ids are listed below */
		for (h = 0; g->hive_id && h < n_hives && hives[h] != g->hive_id; h++)
			;
		if (g->hive_id && h == n_hives && n_hives < 64)
			hives[n_hives++] = g->hive_id;
		if (g->hive_id)
			snprintf(hive, sizeof(hive), "%zu", h + 1);
		else
			snprintf(hive, sizeof(hive), "-");
		used_by(t, procs, g->index, users, sizeof(users));
		printf("%-3u  %-12s  %-7s  %-8s  %-7s  %-18s  %-11s  %-17s  %-4s  %s\n", g->index,
		       g->bdf, g->product, cm, mm, ca, ma, parts, hive, users);
	}
	for (size_t h = 0; h < n_hives; h++)
		printf("hive %zu: XGMI hive id 0x%016llx\n", h + 1, (unsigned long long)hives[h]);
	for (size_t i = 0; i < mipart_topology_gpu_count(t); i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(t, i);

		if (g->pending_memory != MIPART_MEMORY_UNKNOWN)
			printf("GPU %u: %s requested (change %lld), applied at the next driver reload; 'mipart recover' drops it, 'mipart set --memory %s' takes it\n",
			       g->index, mipart_memory_mode_name(g->pending_memory),
			       (long long)g->pending_change, mipart_memory_mode_name(g->pending_memory));
	}
	if (inferred)
		printf("* inferred from the KFD topology: the amdgpu partition files are absent or unreadable\n");
	for (size_t i = 0; i < mipart_topology_gpu_count(t); i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(t, i);

		if (g->is_vf)
			printf("GPU %u is an SR-IOV virtual function (a guest's view): its modes are set "
			       "on the host and cannot be changed here\n",
			       g->index);
		if (g->sriov_vfs || !strcmp(g->driver, "gim")) {
			printf("SR-IOV host: GPU %u is driven by %s with %u virtual functions; its "
			       "partitions are VFs ('mipart vf list')\n",
			       g->index, g->driver[0] ? g->driver : "no driver", g->sriov_vfs);
		}
	}
	mipart_topology_free(t);
	mipart_procs_free(procs);
	return EXIT_OK;
}

int verb_list(struct cli *cli, int argc, char **argv)
{
	mipart_topology *t = NULL;
	mipart_procs *procs = NULL;
	bool json = false;
	int r = load(cli, argc, argv, &json, &t, &procs);

	if (r != EXIT_OK || json)
		return finish_json(r, json, t, procs);
	procs = mipart_procs_free(procs);
	printf("%-5s  %-3s  %-3s  %-12s  %-14s  %-11s  %-4s  %-6s  %-3s  %-4s  %s\n", "INDEX", "GPU",
	       "XCP", "BDF", "DRM DEVICE", "RENDER", "KFD", "GPU_ID", "XCC", "CU", "MEMORY (GiB)");
	for (size_t i = 0; i < mipart_topology_gpu_count(t); i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(t, i);

		for (size_t j = 0; j < g->n_partitions; j++) {
			const mipart_partition_info *p = mipart_topology_gpu_partition(t, g, j);
			char render[24], mem[32];

			if (p->render_minor >= 0)
				snprintf(render, sizeof(render), "renderD%d", p->render_minor);
			else
				snprintf(render, sizeof(render), "-");
			cli_gib(mem, sizeof(mem), p->memory_bytes);
			printf("%-5u  %-3u  %-3d  %-12s  %-14s  %-11s  %-4d  %-6lld  %-3d  %-4d  %s\n",
			       p->index, p->gpu, p->xcp, g->bdf, p->drm_device[0] ? p->drm_device : "-",
			       render, p->kfd_node, (long long)p->gpu_id, p->num_xcc, p->compute_units,
			       mem);
		}
		if (g->n_partitions == 0)
			printf("%-5s  %-3u  %-3s  %-12s  (no KFD node: %s)\n", "-", g->index, "-", g->bdf,
			       g->driver_bound ? "the KFD topology does not list this GPU"
					       : "not bound to amdgpu");
	}
	mipart_topology_free(t);
	return EXIT_OK;
}
