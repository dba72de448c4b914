/* SPDX-License-Identifier: MIT */
#ifndef MIPART_CLI_H
#define MIPART_CLI_H

#include <stdbool.h>
#include <jansson.h>
#include <stdio.h>

#include "mipart/host.h"
#include "mipart/change.h"
#include "mipart/topology.h"

/* Exit codes (../shared/STYLE.md): 0 success, 1 the operation failed, 2 usage error. */
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

struct verb;

struct cli {
	const char *root;	/* --root / MIPART_ROOT, NULL for the real host */
	const char *backend;	/* --backend: auto, sysfs, sim, amd-smi; NULL: auto */
	const char *amdsmi;	/* --amd-smi: the amd-smi program; NULL: "amd-smi" from PATH */
	/* --unload-command / --load-command: the driver reload, as words (no shell); NULL-terminated,
	 * unload[0] == NULL for the default (modprobe -r amdgpu, modprobe amdgpu) */
	const char *unload[17];
	const char *load[17];
	bool quiet;
	mipart_host *host;
	const struct verb *verb; /* the verb running */
	/* set by cli_run_change: the change was done but hook units it stopped did not start
	 * again (it exits 1; what was applied is still the host's state) */
	bool units_left_stopped;
};

struct verb {
	const char *name;
	int min_args;
	int max_args;	/* -1: no limit */
	int (*fn)(struct cli *cli, int argc, char **argv);
	const char *summary;
	const char *usage;
	bool group;	/* dispatches to verbs of its own: only "VERB --help" is its help */
};

/* messages in git's style: "error: cannot read '...': reason" */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_usage_error(const struct verb *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* a line on stderr with no prefix (what was written, where a simulated host was made), escaped
 * as cli_error's: control characters but the newlines, and bytes that are not UTF-8, as '?' */
void cli_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Check the number of positional arguments against the running verb's bounds: EXIT_OK or
 * EXIT_USAGE after printing the usage. */
int cli_check_args(struct cli *cli, int n);

/* Parse an unsigned integer option value in [min, max]; reports and returns -EINVAL. */
int cli_parse_uint(struct cli *cli, const char *flag, const char *s, unsigned long min,
		   unsigned long max, unsigned long *ret);

/* Load the topology, print its diagnostics as warnings; returns 0 or an exit code. */
int cli_load_topology(struct cli *cli, mipart_topology **ret);

/* Verb dispatch for a table; argv[0] is the verb name. */
int cli_run_verb(struct cli *cli, const struct verb *verbs, const char *group, int argc, char **argv);
void cli_print_verbs(FILE *f, const struct verb *verbs);

/* Mark the GPUs a selection names ("0,2", a PCI address, "all") in selected[] (one per GPU).
 * Reports and returns -EINVAL / -ENOENT. */
int cli_select_gpus(const mipart_topology *t, const char *spec, bool *selected);

/* A command line for people and the journal: "mipart" and each word, quoted where needed. */
void cli_quote_argv(int argc, char **argv, char *buf, size_t size);

/* s as valid UTF-8 in buf (size >= 1): each byte that does not start a valid sequence becomes
 * U+FFFD; cut (on a character) to fit. Returns buf. */
const char *cli_utf8(const char *s, char *buf, size_t size);

/* s for a terminal (a process or allocation name, a journal line): control characters and
 * bytes that are not UTF-8 as '?', cut (with "...") to fit size (>= 5). Returns buf. */
const char *cli_show(const char *s, char *buf, size_t size);

/* A JSON string of s; bytes that are not UTF-8 become U+FFFD (JSON cannot carry them). */
json_t *cli_json_string(const char *s);

/* The `status --json` / `list --json` document: {"gpus": [...], "warnings": [...]}; procs may
 * be NULL. New reference, NULL on -ENOMEM. (verb-status.c) */
struct mipart_procs;
json_t *cli_topology_json(const mipart_topology *t, const struct mipart_procs *procs);

/* An integer, or null when unknown (< 0). */
json_t *cli_json_int_or_null(long long v);
/* A mode name, or null for "UNKNOWN". */
json_t *cli_json_mode(const char *name);
/* bytes in GiB (2^30) with two decimals, no unit, for a table column; "-" when unknown (< 0). */
void cli_gib(char *buf, size_t size, long long bytes);

/* Print a JSON document on stdout (2-space indent) and release it. EXIT_OK or EXIT_FAIL. */
int cli_print_json(json_t *o);

/* Write text to path atomically (a temporary beside it, then rename). 0 or -errno. */
int cli_write_file(const char *path, const char *text);

/* How a change runs: from set/reset (-g) or apply (-f -c). */
struct change_opts {
	bool dry, json;
	unsigned long lock_s, settle_s;
	const char *const *units; /* systemd units stopped before, started after */
	size_t n_units;
	int argc; /* the verb's command line, for the journal */
	char **argv;
	int lock_fd; /* the host lock taken by cli_change_lock, or -1 (a dry-run without it) */
	char *message; /* when not NULL: what went wrong, for the caller (slurm helper) */
	size_t message_size;
};

/* Take the host lock before reading the host for a change, so that discovery and planning
 * never see another writer's reload half-way: waits lock_s seconds. A dry-run goes on without
 * it when it may not take it (a user who is not root). Returns the fd, -1 for a dry-run
 * without the lock, or -2 after reporting why it could not be taken. */
int cli_change_lock(struct cli *cli, bool dry, unsigned long lock_s, int argc, char **argv);

/* After a partition change: rewrite the CDI spec when the host has one (or is simulated); a
 * failure is a warning (verb-cdi.c, docs/cdi.md). */
void cli_cdi_after_change(struct cli *cli, const mipart_topology *after);

/* Plan, show (dry-run) or apply a change of the GPUs of t to targets; returns an exit code. */
int cli_run_change(struct cli *cli, const mipart_topology *t, const mipart_target *targets,
		   size_t n, const struct change_opts *co);

/* The partition backend of --backend/--amd-smi/--unload-command (verb-set.c); reports and
 * returns -errno. */
struct mipart_backend;
int cli_open_backend(struct cli *cli, struct mipart_backend **ret);

/* Finish or roll back a change a crash left running (as 'mipart recover'); quiet when there is
 * none. Returns an exit code. (verb-set.c) */
int cli_recover_if_needed(struct cli *cli);

/* The node labels of this host (verb-labels.c); reports and returns an exit code. */
struct mipart_label;
int cli_labels(struct cli *cli, const mipart_topology *t, struct mipart_label *labels, size_t *ret_n);

/* The fleet planner's options (verb-plan.c parses, verb-fleet.c runs). */
struct fleet_args {
	size_t nodes;
	unsigned long gpus_per_node;
	const char *product, *inventory, *output, *label_key;
	bool json;
};
struct mipart_plan_item;
int cli_plan_fleet(struct cli *cli, const struct fleet_args *fa, const struct mipart_plan_item *items,
		   size_t n_items);

/* --vllm-version X.Y and --platform rocm|cuda into the estimator's options (verb-model.c);
 * 0, or an exit code after a usage message. */
struct mipart_estimate_options;
int cli_parse_vllm_version(struct cli *cli, const char *s, struct mipart_estimate_options *o);
int cli_parse_platform(struct cli *cli, const char *s, struct mipart_estimate_options *o);

int verb_status(struct cli *cli, int argc, char **argv);
int verb_list(struct cli *cli, int argc, char **argv);
int verb_sim(struct cli *cli, int argc, char **argv);
int verb_set(struct cli *cli, int argc, char **argv);
int verb_reset(struct cli *cli, int argc, char **argv);
int verb_recover(struct cli *cli, int argc, char **argv);
int verb_history(struct cli *cli, int argc, char **argv);
int verb_apply(struct cli *cli, int argc, char **argv);
int verb_boot(struct cli *cli, int argc, char **argv);
int verb_labels(struct cli *cli, int argc, char **argv);
int verb_agent(struct cli *cli, int argc, char **argv);
int verb_assert(struct cli *cli, int argc, char **argv);
int verb_export(struct cli *cli, int argc, char **argv);
int verb_validate(struct cli *cli, int argc, char **argv);
int verb_models(struct cli *cli, int argc, char **argv);
int verb_estimate(struct cli *cli, int argc, char **argv);
int verb_allocate(struct cli *cli, int argc, char **argv);
int verb_release(struct cli *cli, int argc, char **argv);
int verb_allocations(struct cli *cli, int argc, char **argv);
int verb_plan(struct cli *cli, int argc, char **argv);
int verb_cdi(struct cli *cli, int argc, char **argv);
int verb_env(struct cli *cli, int argc, char **argv);
int verb_docker_args(struct cli *cli, int argc, char **argv);
int verb_vllm(struct cli *cli, int argc, char **argv);
int verb_run(struct cli *cli, int argc, char **argv);
int verb_k8s_pod(struct cli *cli, int argc, char **argv);
int verb_slurm(struct cli *cli, int argc, char **argv);
int verb_top(struct cli *cli, int argc, char **argv);
int verb_serve(struct cli *cli, int argc, char **argv);
int verb_doctor(struct cli *cli, int argc, char **argv);
int verb_vf(struct cli *cli, int argc, char **argv);
/* verb-vf.c: the simulator's SR-IOV host */
int cli_sim_create_sriov(struct cli *cli, const char *dir, const char *product, unsigned gpus,
			 unsigned vfs);
int cli_sim_vf_hold(struct cli *cli, int argc, char **argv);
int cli_sim_vf_release(struct cli *cli, int argc, char **argv);

#endif
