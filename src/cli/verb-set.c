// SPDX-License-Identifier: MIT
/*
 * `mipart set`, `mipart reset`, `mipart recover`, `mipart history`: imperative partition
 * changes through the apply engine, with a dry-run that shows each GPU's disruption class, the
 * exact writes and the processes in the way.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mipart/apply.h"
#include "mipart/config.h"
#include "mipart/error.h"
#include "mipart/journal.h"
#include "mipart/procs.h"
#include "mipart/run.h"
#include "cli.h"
#include "util.h"
#include "banned.h"

static void on_progress(void *ud, int gpu, const char *step, bool done, int err, long ms)
{
	if (!done)
		return;
	fprintf(stderr, "[%6.1fs] %-45s %s\n", ms / 1000.0, step, err ? mipart_strerror(err) : "ok");
}

/* The writes a GPU gets, in order. After a reload the driver picks the AUTO mode, so the
 * compute write is needed only where the target differs from it. */
static size_t gpu_writes(const mipart_gpu_info *g, const mipart_gpu_change *gc, bool reload,
			 const char *attrs[2], const char *values[2])
{
	size_t n = 0;

	if (gc->write_memory) {
		attrs[n] = "current_memory_partition";
		values[n++] = mipart_memory_mode_name(gc->to_memory);
	}
	if (gc->write_compute) {
		mipart_compute_mode after = reload ? mipart_compute_mode_auto(gc->to_memory,
									      (unsigned)(g->num_xcc > 0 ? g->num_xcc : 0),
									      g->is_apu)
						   : gc->from_compute;

		if (after != gc->to_compute) {
			attrs[n] = "current_compute_partition";
			values[n++] = mipart_compute_mode_name(gc->to_compute);
		}
	}
	return n;
}

static json_t *blockers_json(const mipart_procs *p)
{
	json_t *a = json_array();

	for (size_t i = 0; p && i < mipart_procs_count(p); i++) {
		const mipart_proc_info *pi = mipart_procs_get(p, i);
		json_t *gpus = json_array();

		for (unsigned g = 0; g < 64; g++)
			if ((pi->gpus >> g) & 1)
				json_array_append_new(gpus, json_integer(g));
		json_array_append_new(a, json_pack("{s:i, s:o, s:o?, s:b, s:o, s:o}", "pid", pi->pid,
						   "comm", cli_json_string(pi->comm), "container",
						   pi->container[0] ? cli_json_string(pi->container) : NULL, "kfd",
						   pi->kfd, "gpus", gpus, "vram_bytes",
						   pi->vram_bytes >= 0 ? json_integer(pi->vram_bytes)
								       : json_null()));
	}
	return a;
}

static json_t *plan_json(const mipart_topology *t, const mipart_change *plan)
{
	json_t *gpus = json_array(), *problems = json_array();
	bool reload = mipart_change_needs_reload(plan);

	for (size_t i = 0; i < mipart_change_gpu_count(plan); i++) {
		const mipart_gpu_change *gc = mipart_change_gpu(plan, i);
		const char *attrs[2], *values[2];
		size_t n = gpu_writes(mipart_topology_gpu(t, i), gc, reload, attrs, values);
		json_t *writes = json_array();

		for (size_t k = 0; k < n; k++)
			json_array_append_new(writes, json_pack("{s:s, s:s}", "attribute", attrs[k],
								 "value", values[k]));
		json_array_append_new(
			gpus, json_pack("{s:i, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:i}, s:s, s:o, s:o}", "gpu",
					(int)gc->gpu, "bdf", gc->bdf, "from", "compute",
					mipart_compute_mode_name(gc->from_compute), "memory",
					mipart_memory_mode_name(gc->from_memory), "to", "compute",
					mipart_compute_mode_name(gc->to_compute), "memory",
					mipart_memory_mode_name(gc->to_memory), "partitions",
					(int)gc->to_partitions, "disruption",
					mipart_disruption_name(gc->disruption), "writes", writes,
					"pending_memory",
					gc->pending_memory != MIPART_MEMORY_UNKNOWN
						? json_string(mipart_memory_mode_name(gc->pending_memory))
						: json_null()));
	}
	for (size_t i = 0; i < mipart_change_problem_count(plan); i++) {
		const mipart_change_problem *p = mipart_change_problem_get(plan, i);

		json_array_append_new(problems, json_pack("{s:o, s:s}", "gpu",
							  p->gpu >= 0 ? json_integer(p->gpu) : json_null(),
							  "message", p->message));
	}
	return json_pack("{s:b, s:b, s:o, s:o}", "reload", reload, "flush",
			 mipart_change_needs_flush(plan), "gpus", gpus, "problems", problems);
}

static void print_blockers(FILE *f, const mipart_procs *blockers)
{
	for (size_t i = 0; blockers && i < mipart_procs_count(blockers); i++) {
		const mipart_proc_info *p = mipart_procs_get(blockers, i);
		char gpus[128], comm[64], container[160], vram[64];
		size_t len = 0;

		gpus[0] = '\0';
		for (unsigned g = 0; g < 64 && len < sizeof(gpus); g++)
			if ((p->gpus >> g) & 1)
				len += (size_t)snprintf(gpus + len, sizeof(gpus) - len, "%s%u",
							len ? "," : "", g);
		vram[0] = '\0';
		if (p->vram_bytes >= 0) {
			char num[24];

			cli_gib(num, sizeof(num), p->vram_bytes);
			snprintf(vram, sizeof(vram), ", holding %s GiB of VRAM", num);
		}
		fprintf(f, "  pid %d '%s'%s%s%s on GPU %s%s%s\n", p->pid,
			cli_show(p->comm, comm, sizeof(comm)), p->container[0] ? " (container " : "",
			cli_show(p->container, container, sizeof(container)), p->container[0] ? ")" : "",
			gpus, vram, p->gpus_unknown ? " (which GPUs is unknown: counted on all)" : "");
	}
}

static void print_plan(struct cli *cli, const mipart_topology *t, const mipart_change *plan,
		       const mipart_procs *blockers)
{
	bool reload = mipart_change_needs_reload(plan);

	printf("%-3s  %-12s  %-9s  %-9s  %-5s  %-13s  %s\n", "GPU", "BDF", "FROM", "TO", "LDEVS",
	       "DISRUPTION", "WRITES");
	for (size_t i = 0; i < mipart_change_gpu_count(plan); i++) {
		const mipart_gpu_change *gc = mipart_change_gpu(plan, i);
		const char *attrs[2], *values[2];
		size_t n = gpu_writes(mipart_topology_gpu(t, i), gc, reload, attrs, values);
		char from[24], to[24], writes[160];
		size_t len = 0;

		snprintf(from, sizeof(from), "%s/%s", mipart_compute_mode_name(gc->from_compute),
			 mipart_memory_mode_name(gc->from_memory));
		snprintf(to, sizeof(to), "%s/%s", mipart_compute_mode_name(gc->to_compute),
			 mipart_memory_mode_name(gc->to_memory));
		writes[0] = '\0';
		for (size_t k = 0; k < n; k++)
			len += (size_t)snprintf(writes + len, sizeof(writes) - len, "%s%s=%s",
						k ? ", " : "", attrs[k], values[k]);
		if (!n)
			snprintf(writes, sizeof(writes), "%s",
				 gc->disruption == MIPART_DISRUPT_MEMORY_RELOAD ? "(reloaded; AUTO mode is the target)" : "-");
		printf("%-3u  %-12s  %-9s  %-9s  %-5u  %-13s  %s\n", gc->gpu, gc->bdf, from, to,
		       gc->to_partitions, mipart_disruption_name(gc->disruption), writes);
	}
	if (reload) {
		static const char *const def_unload[] = { "modprobe", "-r", "amdgpu", NULL };
		static const char *const def_load[] = { "modprobe", "amdgpu", NULL };
		const char *const *cmd[2] = { cli->unload[0] ? cli->unload : def_unload,
					      cli->load[0] ? cli->load : def_load };

		printf("driver reload: ");
		if (mipart_host_is_simulated(cli->host) &&
		    (!cli->backend || !strcmp(cli->backend, "auto") || !strcmp(cli->backend, "sim"))) {
			printf("simulated amdgpu reload");
		} else {
			/* the commands as they will run, each word quoted for a reader */
			for (int k = 0; k < 2; k++) {
				printf("%s", k ? ", then " : "");
				for (size_t w = 0; cmd[k][w]; w++)
					printf("%s'%s'", w ? " " : "", cmd[k][w]);
			}
		}
		printf(" (every GPU of the node restarts; NPS requests apply to whole XGMI hives)\n");
		if (mipart_change_needs_flush(plan))
			printf("the driver holds a pending NPS request the target drops: reload once to apply it, then request the target and reload again\n");
	}
	if (mipart_change_is_noop(plan))
		printf("nothing to change: the GPUs are in the requested modes\n");
	if (blockers && mipart_procs_count(blockers)) {
		printf("blocked by:\n");
		print_blockers(stdout, blockers);
	}
}

/* Processes that would block the plan (the same rule as the engine's check). */
static mipart_procs *plan_blockers(struct cli *cli, const mipart_topology *t,
				   const mipart_change *plan)
{
	mipart_procs *p = NULL;
	uint64_t mask = 0;
	bool reload = mipart_change_needs_reload(plan);

	for (size_t i = 0; i < mipart_change_gpu_count(plan) && i < 64; i++)
		if (mipart_change_gpu(plan, i)->disruption != MIPART_DISRUPT_NONE)
			mask |= UINT64_C(1) << i;
	if (!mask || mipart_procs_scan(cli->host, t, &p) < 0)
		return NULL;
	mipart_procs_retain(p, reload ? ~UINT64_C(0) : mask, !reload);
	return p;
}

#define SET_USAGE_COMPUTE "invalid value '%s' for '--compute': expected SPX, DPX, TPX, QPX or CPX"

static int do_set(struct cli *cli, int argc, char **argv, bool reset)
{
	static const struct option opts[] = {
		{ "gpus", required_argument, NULL, 'g' },
		{ "compute", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "lock-timeout", required_argument, NULL, 'L' },
		{ "settle-timeout", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	mipart_compute_mode compute = reset ? MIPART_COMPUTE_SPX : MIPART_COMPUTE_UNKNOWN;
	mipart_memory_mode memory = reset ? MIPART_MEMORY_NPS1 : MIPART_MEMORY_UNKNOWN;
	const char *spec = NULL;
	bool dry = false, json = false;
	unsigned long lock_s = 30, settle_s = 120;
	mipart_topology *t = NULL;
	mipart_target *targets = NULL;
	bool *sel = NULL;
	size_t n;
	int c, rc = EXIT_FAIL, lockfd;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "g:c:m:n", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			spec = optarg;
			break;
		case 'c':
			if (reset)
				return cli_usage_error(cli->verb, "'reset' takes no '--compute'");
			if (mipart_compute_mode_parse(optarg, &compute) < 0)
				return cli_usage_error(cli->verb, SET_USAGE_COMPUTE, optarg);
			break;
		case 'm':
			if (reset)
				return cli_usage_error(cli->verb, "'reset' takes no '--memory'");
			if (mipart_memory_mode_parse(optarg, &memory) < 0)
				return cli_usage_error(cli->verb,
						       "invalid value '%s' for '--memory': expected NPS1, NPS2 or NPS4",
						       optarg);
			break;
		case 'n':
			dry = true;
			break;
		case 'j':
			json = true;
			break;
		case 'L':
			if (cli_parse_uint(cli, "--lock-timeout", optarg, 0, 3600, &lock_s) < 0)
				return EXIT_USAGE;
			break;
		case 'S':
			if (cli_parse_uint(cli, "--settle-timeout", optarg, 1, 3600, &settle_s) < 0)
				return EXIT_USAGE;
			break;
		default:
			return cli_usage_error(cli->verb, "unknown option or missing value '%s'",
					       argv[optind - 1]);
		}
	}
	if (cli_check_args(cli, argc - optind) != EXIT_OK)
		return EXIT_USAGE;
	if (!spec)
		return cli_usage_error(cli->verb, "'-g' is required (GPU indices, PCI addresses or 'all')");
	if (compute == MIPART_COMPUTE_UNKNOWN && memory == MIPART_MEMORY_UNKNOWN)
		return cli_usage_error(cli->verb, "give '--compute', '--memory' or both");

	lockfd = cli_change_lock(cli, dry, lock_s, argc, argv);
	if (lockfd == -2)
		return EXIT_FAIL;
	if (cli_load_topology(cli, &t) != EXIT_OK)
		goto out;
	n = mipart_topology_gpu_count(t);
	sel = calloc(n + 1, sizeof(*sel));
	targets = calloc(n + 1, sizeof(*targets));
	if (!sel || !targets) {
		cli_error("out of memory");
		goto out;
	}
	if (n == 0) {
		cli_error("no AMD GPU found under '%s/sys'", mipart_host_root(cli->host));
		goto out;
	}
	if (cli_select_gpus(t, spec, sel) < 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		targets[i] = (mipart_target){ sel[i], sel[i] ? compute : MIPART_COMPUTE_UNKNOWN,
					      sel[i] ? memory : MIPART_MEMORY_UNKNOWN };
	{
		struct change_opts co = { .dry = dry, .json = json, .lock_s = lock_s,
					  .settle_s = settle_s, .argc = argc, .argv = argv,
					  .lock_fd = lockfd };

		rc = cli_run_change(cli, t, targets, n, &co);
	}
out:
	free(targets);
	free(sel);
	mipart_topology_free(t);
	mipart_host_unlock(lockfd);
	return rc;
}

static int run_change(struct cli *cli, const mipart_topology *t, const mipart_target *targets,
		      size_t n, const struct change_opts *co);

static const char *systemctl_path(void)
{
	const char *s = getenv("MIPART_SYSTEMCTL");

	return s && *s ? s : "systemctl";
}

static void print_hooks(const struct change_opts *co)
{
	printf("hooks: '%s' 'stop'", systemctl_path());
	for (size_t i = 0; i < co->n_units; i++)
		printf(" '%s'", co->units[i]);
	printf(" before the change, 'start' after it\n");
}

/* The backend of --backend and --amd-smi; $MIPART_BACKEND_TIMEOUT_MS (tests) bounds each
 * command it runs. Reports and returns -errno. */
static int open_backend(struct cli *cli, mipart_backend **ret)
{
	mipart_backend_options bo = { .name = cli->backend, .amdsmi_path = cli->amdsmi,
				      .unload_argv = cli->unload[0] ? cli->unload : NULL,
				      .load_argv = cli->load[0] ? cli->load : NULL };
	const char *ms = getenv("MIPART_BACKEND_TIMEOUT_MS");
	uint64_t v;
	int r;

	if (ms && *ms) {
		if (util_parse_u64(ms, strlen(ms), &v) < 0 || v < 1 || v > 86400000) {
			cli_error("invalid MIPART_BACKEND_TIMEOUT_MS '%s': expected milliseconds, 1 to 86400000",
				  ms);
			return -EINVAL;
		}
		bo.timeout_ms = (unsigned)v;
	}
	r = mipart_backend_open(cli->host, &bo, ret);
	if (r == -ENOENT)
		cli_error("cannot run '%s': no such program (see '--amd-smi')",
			  cli->amdsmi ? cli->amdsmi : "amd-smi");
	else if (r == -EINVAL)
		cli_error("cannot use the partition backend '%s': '%s' is not a simulated host",
			  cli->backend ? cli->backend : "auto",
			  mipart_host_root(cli->host)[0] ? mipart_host_root(cli->host) : "/");
	else if (r < 0)
		cli_error("cannot open the partition backend: %s", mipart_strerror(r));
	return r;
}

int cli_open_backend(struct cli *cli, mipart_backend **ret)
{
	return open_backend(cli, ret);
}

/* What the tool behind the backend (amd-smi) printed when it last failed, indented. */
static void print_backend_output(const mipart_backend *b)
{
	const char *out = b ? mipart_backend_last_output(b) : NULL;

	if (!out || !out[strspn(out, " \t\r\n")])
		return;
	cli_note("%s said:", mipart_backend_name(b));
	while (*out) {
		size_t len = strcspn(out, "\n"), blank = strspn(out, " \t\r");

		if (blank < len) /* not an empty line */
			cli_note("  %.*s", (int)len, out);
		out += len;
		if (*out)
			out++;
	}
}

struct hook_ctx {
	struct cli *cli;
	const struct change_opts *co;
};

/* A post-change action (postchange.h) that failed: the change itself stands. */
static void engine_post_change_report(void *userdata, const char *name, int err, const char *msg)
{
	const struct hook_ctx *hc = userdata;

	cli_warn(hc->cli, "after the change, %s: %s", name, msg[0] ? msg : mipart_strerror(err));
}

static void engine_after_change(void *userdata)
{
	const struct hook_ctx *hc = userdata;

	cli_cdi_after_change(hc->cli, NULL);
}

static void engine_after_change_read(void *userdata, const mipart_topology *after)
{
	const struct hook_ctx *hc = userdata;

	cli_cdi_after_change(hc->cli, after);
}

int cli_change_lock(struct cli *cli, bool dry, unsigned long lock_s, int argc, char **argv)
{
	char cmdline[1024], holder[256] = "";
	int fd;

	cli_quote_argv(argc, argv, cmdline, sizeof(cmdline));
	fd = mipart_host_lock(cli->host, (unsigned)lock_s * 1000, cmdline, holder, sizeof(holder));
	if (fd >= 0)
		return fd;
	if (dry && (fd == -EPERM || fd == -EACCES))
		return -1; /* reading is allowed; changing is not, and is refused later */
	if (fd == -ETIMEDOUT)
		cli_error("another mipart is changing partitions (%s); try again when it is done", holder);
	else if (fd == -EPERM || fd == -EACCES)
		cli_error("cannot take the lock '%s/run/mipart/lock': %s (changing partition modes needs root)",
			  mipart_host_root(cli->host), mipart_strerror(fd));
	else
		cli_error("cannot take the lock '%s/run/mipart/lock': %s", mipart_host_root(cli->host),
			  mipart_strerror(fd));
	return -2;
}

int cli_run_change(struct cli *cli, const mipart_topology *t, const mipart_target *targets,
		   size_t n, const struct change_opts *co)
{
	char unresolved[512];

	/* an earlier change left the host in no whole state: recover first */
	if (mipart_apply_unresolved(cli->host, NULL, unresolved, sizeof(unresolved)) == -EINPROGRESS) {
		if (!co->dry) {
			cli_error("%s", unresolved);
			return EXIT_FAIL;
		}
		cli_warn(cli, "%s", unresolved);
	}
	return run_change(cli, t, targets, n, co);
}

/* The hook units a change or a recovery stopped and could not start again: an error naming
 * them (escaped), since they stay down until 'mipart recover' starts them. Returns whether
 * there were any. */
static bool report_units_stopped(const mipart_apply_result *res)
{
	char list[600], shown[140], why[300];
	size_t len = 0;

	if (!res->n_units_stopped)
		return false;
	list[0] = '\0';
	for (size_t i = 0; i < res->n_units_stopped && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s'%s'", i ? ", " : "",
					cli_show(res->units_stopped[i], shown, sizeof(shown)));
	cli_error("hook units left stopped: %s: %s; 'mipart recover' starts them ('mipart doctor' and 'mipart status' report them until then)",
		  list, cli_show(res->warning, why, sizeof(why)));
	return true;
}

/* The same for --json: "units_stopped": [names] */
static json_t *units_stopped_json(const mipart_apply_result *res)
{
	json_t *a = json_array();

	for (size_t i = 0; i < res->n_units_stopped; i++)
		json_array_append_new(a, json_string(res->units_stopped[i]));
	return a;
}

static int run_change(struct cli *cli, const mipart_topology *t, const mipart_target *targets,
		      size_t n, const struct change_opts *co)
{
	mipart_change *plan = NULL;
	mipart_procs *blockers = NULL;
	mipart_backend *backend = NULL;
	mipart_apply_result res = { 0 };
	int r, rc = EXIT_FAIL;

	r = mipart_change_plan(t, targets, n, &plan);
	if (r < 0) {
		cli_error("cannot plan the change: %s", mipart_strerror(r));
		goto out;
	}
	blockers = plan_blockers(cli, t, plan);
	if (co->dry || mipart_change_problem_count(plan)) {
		if (co->json) {
			json_t *o = plan_json(t, plan);

			json_object_set_new(o, "dry_run", json_boolean(co->dry));
			json_object_set_new(o, "blockers", blockers_json(blockers));
			cli_print_json(o);
		} else if (!mipart_change_problem_count(plan)) {
			print_plan(cli, t, plan, blockers);
			if (co->n_units && !mipart_change_is_noop(plan))
				print_hooks(co);
		}
		for (size_t i = 0; i < mipart_change_problem_count(plan); i++)
			cli_error("%s", mipart_change_problem_get(plan, i)->message);
		if (co->message && mipart_change_problem_count(plan))
			snprintf(co->message, co->message_size, "%s",
				 mipart_change_problem_get(plan, 0)->message);
		rc = mipart_change_problem_count(plan) ? EXIT_FAIL : EXIT_OK;
		goto out;
	}
	if (mipart_change_needs_reload(plan) && mipart_host_root(cli->host)[0] &&
	    !mipart_host_is_simulated(cli->host) && !cli->unload[0] && !cli->load[0] &&
	    (!cli->backend || strcmp(cli->backend, "sim"))) {
		cli_error("'%s' is a tree, not a host with a driver: a reload would act on this machine's amdgpu; give '--unload-command' and '--load-command' for it",
			  mipart_host_root(cli->host));
		goto out;
	}
	if (!mipart_host_root(cli->host)[0] && geteuid() != 0) {
		cli_error("changing partition modes needs root (writes to /sys and reloads amdgpu)");
		goto out;
	}

	{
		char cmdline[1024];
		struct hook_ctx hc = { cli, co };
		mipart_apply_options o = {
			.uid = (int64_t)getuid(),
			.command = cmdline,
			.lock_timeout_ms = (unsigned)co->lock_s * 1000,
			.lock_held = co->lock_fd >= 0,
			.settle_timeout_ms = (unsigned)co->settle_s * 1000,
			.progress = (!cli->quiet && isatty(2)) ? on_progress : NULL,
			.units = co->units,
			.n_units = co->n_units,
			.systemctl = systemctl_path(),
			.after_change = engine_after_change,
			.after_change_read = engine_after_change_read,
			.post_change_report = engine_post_change_report,
			.userdata = &hc,
			.boot = co->boot,
		};

		cli_quote_argv(co->argc, co->argv, cmdline, sizeof(cmdline));
		if (open_backend(cli, &backend) < 0)
			goto out;
		o.backend = backend;
		r = mipart_apply(cli->host, targets, n, &o, &res);
	}
	if (co->json) {
		json_t *o = res.plan ? plan_json(t, res.plan) : json_object();

		json_object_set_new(o, "dry_run", json_false());
		json_object_set_new(o, "state", json_string(res.state));
		json_object_set_new(o, "journal_id", res.journal_id ? json_integer(res.journal_id) : json_null());
		json_object_set_new(o, "message", res.message[0] ? json_string(res.message) : json_null());
		json_object_set_new(o, "blockers", blockers_json(res.blockers));
		json_object_set_new(o, "units_stopped", units_stopped_json(&res));
		cli_print_json(o);
	}
	if (r < 0 && co->message)
		snprintf(co->message, co->message_size, "%s",
			 res.message[0] ? res.message : mipart_strerror(r));
	if (r == -EBUSY && res.blockers && mipart_procs_count(res.blockers)) {
		cli_error("%s; stop them first:", res.message);
		print_blockers(stderr, res.blockers);
	} else if (r < 0) {
		cli_error("%s", res.message[0] ? res.message : mipart_strerror(r));
		print_backend_output(backend);
		if (res.journal_id)
			cli_note("journal: change %lld, state %s ('mipart history')",
				 (long long)res.journal_id, res.state);
	} else if (!co->json) {
		if (res.warning[0] && !res.n_units_stopped)
			cli_warn(cli, "%s", res.warning);
		if (!strcmp(res.state, "noop"))
			printf("nothing to change: the GPUs are in the requested modes\n");
		else
			printf("done: change %lld verified (%s)\n", (long long)res.journal_id,
			       mipart_change_needs_reload(res.plan) ? "driver reloaded" : "no reload");
	}
	if (r < 0 && res.warning[0] && !res.n_units_stopped)
		cli_warn(cli, "%s", res.warning);
	/* the GPUs may be done, but services are down: not a success */
	if (report_units_stopped(&res) && r == 0) {
		cli->units_left_stopped = true;
		if (co->message)
			snprintf(co->message, co->message_size, "hook units left stopped: %s",
				 res.warning);
	}
	rc = r < 0 || res.n_units_stopped ? EXIT_FAIL : EXIT_OK;
out:
	mipart_apply_result_release(&res);
	mipart_backend_free(backend);
	mipart_procs_free(blockers);
	mipart_change_free(plan);
	return rc;
}

int verb_set(struct cli *cli, int argc, char **argv)
{
	return do_set(cli, argc, argv, false);
}

int verb_reset(struct cli *cli, int argc, char **argv)
{
	return do_set(cli, argc, argv, true);
}

/* mipart_recover with the CLI's backend and reports; quiet_nothing: say nothing when there
 * was nothing to recover. Returns an exit code. */
static int run_recover(struct cli *cli, const char *command, bool quiet_nothing, bool boot)
{
	mipart_backend *backend = NULL;
	mipart_apply_result res = { 0 };
	struct hook_ctx hc = { cli, NULL };
	mipart_apply_options o = { .uid = (int64_t)getuid(), .command = command,
				   .lock_timeout_ms = 30000, .after_change = engine_after_change,
				   .post_change_report = engine_post_change_report,
				   .userdata = &hc, .systemctl = systemctl_path(), .boot = boot };
	int r;

	if (open_backend(cli, &backend) < 0)
		return EXIT_FAIL;
	o.backend = backend;
	o.progress = (!cli->quiet && isatty(2)) ? on_progress : NULL;
	r = mipart_recover(cli->host, &o, &res);
	if (r == 0 && !strcmp(res.state, "nothing")) {
		if (!quiet_nothing)
			printf("nothing to recover: no unfinished change in the journal\n");
	} else if (r < 0) {
		cli_error("%s", res.message[0] ? res.message : mipart_strerror(r));
	} else {
		printf("change %lld: %s (%s)\n", (long long)res.journal_id, res.state, res.message);
	}
	if (res.warning[0] && !res.n_units_stopped)
		cli_warn(cli, "%s", res.warning);
	/* hook units that still do not start: a failed recovery's error above names them (and
	 * telling to run 'mipart recover' again would be no help); after one that otherwise went
	 * through they are said here, and it is not a success */
	if (res.n_units_stopped) {
		if (r == 0)
			report_units_stopped(&res);
		r = r < 0 ? r : -EIO;
	}
	mipart_apply_result_release(&res);
	mipart_backend_free(backend);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}

int cli_recover_if_needed(struct cli *cli)
{
	return run_recover(cli, "mipart boot (recover)", true, true);
}

int verb_recover(struct cli *cli, int argc, char **argv)
{
	optind = 1;
	if (cli_check_args(cli, argc - 1) != EXIT_OK)
		return EXIT_USAGE;
	return run_recover(cli, "mipart recover", false, false);
}

int verb_history(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      { "limit", required_argument, NULL, 'n' },
					      { NULL, 0, NULL, 0 } };
	char path[MIPART_PATH_MAX];
	mipart_journal *j = NULL;
	mipart_journal_entry *v = NULL;
	unsigned long limit = 20;
	bool json = false;
	size_t n = 0;
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 'n') {
			if (cli_parse_uint(cli, "--limit", optarg, 1, 100000, &limit) < 0)
				return EXIT_USAGE;
		} else
			return cli_usage_error(cli->verb, "unknown option '%s'", argv[optind - 1]);
	}
	if (cli_check_args(cli, argc - optind) != EXIT_OK)
		return EXIT_USAGE;
	if (mipart_host_path(cli->host, MIPART_JOURNAL_PATH, path, sizeof(path)) < 0)
		return EXIT_FAIL;
	if (access(path, F_OK) != 0 && errno == ENOENT) {
		if (json)
			printf("{\"changes\": []}\n");
		else
			printf("no changes recorded yet\n");
		return EXIT_OK;
	}
	r = mipart_journal_open_reader(path, &j);
	if (r == -ENOENT) { /* not migrated yet */
		printf(json ? "{\"changes\": []}\n" : "no changes recorded yet\n");
		return EXIT_OK;
	}
	if (r == 0)
		r = mipart_journal_list(j, limit, &v, &n);
	if (r < 0) {
		cli_error("cannot read the journal '%s': %s", path, mipart_strerror(r));
		mipart_journal_free(j);
		return EXIT_FAIL;
	}
	if (json) {
		json_t *a = json_array();

		for (size_t i = 0; i < n; i++) {
			json_t *before = json_loads(v[i].before, 0, NULL);
			json_t *target = json_loads(v[i].target, 0, NULL);
			json_t *after = v[i].after ? json_loads(v[i].after, 0, NULL) : NULL;

			json_t *hooks = v[i].hooks ? json_loads(v[i].hooks, 0, NULL) : NULL;

			json_array_append_new(
				a, json_pack("{s:I, s:s, s:s?, s:I, s:o, s:s, s:o, s:o?, s:o, s:o, s:o, s:o}",
					     "id", (json_int_t)v[i].id, "started_at", v[i].started_at,
					     "finished_at", v[i].finished_at, "uid", (json_int_t)v[i].uid,
					     "command", cli_json_string(v[i].command), "state", v[i].state,
					     "step", cli_json_string(v[i].step),
					     "message", v[i].message ? cli_json_string(v[i].message) : NULL, "before", before ? before : json_null(),
					     "target", target ? target : json_null(), "after",
					     after ? after : json_null(), "hooks",
					     hooks ? hooks : json_null()));
		}
		cli_print_json(json_pack("{s:o}", "changes", a));
	} else {
		printf("%-4s  %-20s  %-11s  %-5s  %s\n", "ID", "STARTED (UTC)", "STATE", "UID", "COMMAND");
		for (size_t i = 0; i < n; i++) {
			char cmd[1024], started[32], state[32], msg[1024];

			printf("%-4lld  %-20s  %-11s  %-5lld  %s\n", (long long)v[i].id,
			       cli_show(v[i].started_at, started, sizeof(started)),
			       cli_show(v[i].state, state, sizeof(state)), (long long)v[i].uid,
			       cli_show(v[i].command, cmd, sizeof(cmd)));
			if (v[i].message)
				printf("      %s\n", cli_show(v[i].message, msg, sizeof(msg)));
		}
		if (!n)
			printf("no changes recorded yet\n");
	}
	mipart_journal_entries_free(v, n);
	mipart_journal_free(j);
	return EXIT_OK;
}
