// SPDX-License-Identifier: MIT
/*
 * `mipart top`: one row per partition (GPU, partition, mode, busy, VRAM used/total, processes,
 * model), refreshed on a terminal; `--once` prints one frame, `--json` one document for
 * scripts, `--prometheus` the /metrics text of `mipart serve` (a node_exporter textfile).
 * Sorted by --sort (or the 's' key), filtered by --gpu, --model and --active. The readings come
 * from monitor.c, the same snapshot `mipart serve` exports.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "mipart/error.h"
#include "cli.h"
#include "mipart/monitor.h"
#include "monitor.h"
#include "util.h"
#include "banned.h"

enum sort_key { SORT_INDEX, SORT_BUSY, SORT_VRAM, SORT_PROCS, SORT_MODEL, SORT_COUNT };

static const char *const sort_names[SORT_COUNT] = { "index", "busy", "vram", "procs", "model" };

struct top_opts {
	bool once, json, active, prometheus;
	double interval;
	enum sort_key sort;
	bool gpus[64];
	bool gpu_filter;
	const char *model;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static long long busy_of(const mipart_monitor_row *r)
{
	return r->reading ? r->reading->busy_pct : -1;
}

static long long vram_of(const mipart_monitor_row *r)
{
	return r->reading ? r->reading->vram_used_bytes : -1;
}

static enum sort_key cmp_key;

/* busy, VRAM and processes: most first; model: by name, empty last; ties by index */
static int cmp_rows(const void *a, const void *b)
{
	const mipart_monitor_row *x = *(const mipart_monitor_row *const *)a;
	const mipart_monitor_row *y = *(const mipart_monitor_row *const *)b;
	long long kx = 0, ky = 0;
	int c;

	switch (cmp_key) {
	case SORT_BUSY: kx = busy_of(x); ky = busy_of(y); break;
	case SORT_VRAM: kx = vram_of(x); ky = vram_of(y); break;
	case SORT_PROCS: kx = (long long)x->n_pids; ky = (long long)y->n_pids; break;
	case SORT_MODEL:
		if (!x->models[0] != !y->models[0])
			return x->models[0] ? -1 : 1;
		c = strcmp(x->models, y->models);
		if (c)
			return c;
		break;
	default: break;
	}
	if (kx != ky)
		return kx > ky ? -1 : 1;
	return x->part->index < y->part->index ? -1 : x->part->index > y->part->index;
}

static bool keep(const struct top_opts *o, const mipart_monitor_row *r)
{
	if (o->gpu_filter && (r->gpu->index >= 64 || !o->gpus[r->gpu->index]))
		return false;
	if (o->model && !strstr(r->models, o->model))
		return false;
	if (o->active && !r->n_pids && busy_of(r) <= 0 && vram_of(r) <= 0 && !r->n_allocs)
		return false;
	return true;
}

/* The rows to show, sorted; a new array of pointers into s (free()); NULL on -ENOMEM. */
static const mipart_monitor_row **select_rows(const mipart_monitor *s, const struct top_opts *o,
					      size_t *ret_n)
{
	size_t n = mipart_monitor_row_count(s), k = 0;
	const mipart_monitor_row **v = calloc(n ? n : 1, sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (keep(o, mipart_monitor_row_get(s, i)))
			v[k++] = mipart_monitor_row_get(s, i);
	cmp_key = o->sort;
	qsort(v, k, sizeof(*v), cmp_rows);
	*ret_n = k;
	return v;
}

static void num(char *buf, size_t size, long long v, const char *unit)
{
	if (v < 0)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%lld%s", v, unit);
}

/* s for a terminal: control characters (ESC, CR, ...) as '?' */
static const char *show(const char *s, char *buf, size_t size)
{
	return util_show(s, strlen(s), size - 4, buf, size);
}

static void print_frame(FILE *f, const mipart_monitor *s, const struct top_opts *o)
{
	char line[900];
	const mipart_topology *t = mipart_monitor_topology(s);
	const mipart_monitor_row **rows;
	char when[32], a[32], b[32], c[32], d[32];
	time_t now = (time_t)mipart_monitor_collected_at(s);
	struct tm tm;
	size_t n = 0;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	fprintf(f, "mipart top   %s   %zu GPUs, %zu partitions   sort: %s%s\n", when,
		mipart_topology_gpu_count(t), mipart_topology_partition_count(t),
		sort_names[o->sort], o->once ? "" : "   (q: quit, s: sort)");
	fprintf(f, "%-3s  %-12s  %-8s  %6s  %6s  %6s  %6s  %-22s  %s\n", "GPU", "BDF", "MODES",
		"POWER", "TEMP", "BUSY", "CLOCK", "VRAM USED/TOTAL (GiB)", "IN SYNC");
	for (size_t i = 0; i < mipart_topology_gpu_count(t); i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(t, i);
		const mipart_gpu_reading *r = mipart_readings_gpu(mipart_monitor_readings(s), i);
		char modes[24], vram[48], both[112];
		bool known, in = mipart_monitor_gpu_in_sync(s, i, &known);

		if (o->gpu_filter && (i >= 64 || !o->gpus[i]))
			continue;
		snprintf(modes, sizeof(modes), "%s/%s", mipart_compute_mode_name(g->compute),
			 mipart_memory_mode_name(g->memory));
		num(a, sizeof(a), r->power_w, " W");
		num(b, sizeof(b), r->temp_hotspot_c, " C");
		num(c, sizeof(c), r->gfx_activity_pct, "%");
		num(d, sizeof(d), r->gfxclk_mhz, "");
		cli_gib(vram, sizeof(vram) / 2, r->vram_used_bytes);
		cli_gib(vram + 24, sizeof(vram) / 2, r->vram_total_bytes);
		snprintf(both, sizeof(both), "%s / %s", vram, vram + 24);
		fprintf(f, "%-3u  %-12s  %-8s  %6s  %6s  %6s  %6s  %-22s  %s\n", g->index, g->bdf,
			modes, a, b, c, d, both, known ? (in ? "yes" : "NO (drifted)") : "-");
	}
	/* USERS (name:pid=VRAM, as wide as it gets) last, so the columns before it line up */
	fprintf(f, "\n%-6s  %-5s  %-4s  %5s  %-20s  %-8s  %-5s  %-24s  %s\n", "PART", "INDEX", "MODE",
		"BUSY", "VRAM USED/TOTAL (GiB)", "BOOKED", "PROCS", "MODEL", "USERS");
	rows = select_rows(s, o, &n);
	for (size_t i = 0; rows && i < n; i++) {
		const mipart_monitor_row *r = rows[i];
		char part[16], vram[64], u[24], tot[24], booked[24], procs[320], comm[80], models[300];
		size_t pl;

		snprintf(part, sizeof(part), "%u.%d", r->gpu->index, r->part->xcp);
		num(a, sizeof(a), busy_of(r), "%");
		cli_gib(u, sizeof(u), vram_of(r));
		cli_gib(tot, sizeof(tot), r->part->memory_bytes);
		snprintf(vram, sizeof(vram), "%s / %s", u, tot);
		cli_gib(booked, sizeof(booked), r->n_allocs ? r->booked_bytes : -1);
		pl = 0;
		procs[0] = '\0';
		/* names come from other users' processes and from files: no escape sequence
		 * reaches the terminal */
		/* with the VRAM each holds on the partition where its fdinfo says (name:pid=N.NNGiB) */
		for (size_t k = 0; k < r->n_pids && k < MIPART_MONITOR_ROW_PIDS && pl < sizeof(procs); k++) {
			char num[24], gib[32] = "";

			if (r->pid_vram[k] >= 0) {
				cli_gib(num, sizeof(num), r->pid_vram[k]);
				snprintf(gib, sizeof(gib), "=%sGiB", num);
			}
			pl += (size_t)snprintf(procs + pl, sizeof(procs) - pl, "%s%s:%d%s", k ? "," : "",
					       show(r->pids[k]->comm, comm, sizeof(comm)),
					       r->pids[k]->pid, gib);
		}
		if (r->n_pids > MIPART_MONITOR_ROW_PIDS && pl < sizeof(procs))
			snprintf(procs + pl, sizeof(procs) - pl, ",...");
		fprintf(f, "%-6s  %-5u  %-4s  %5s  %-21s  %-8s  %-5zu  %-24s  %s\n", part,
			r->part->index, mipart_compute_mode_name(r->gpu->compute), a, vram, booked,
			r->n_pids, r->models[0] ? show(r->models, models, sizeof(models)) : "-",
			r->n_pids ? procs : "-");
	}
	free(rows);
	for (size_t i = 0; i < mipart_monitor_warning_count(s); i++)
		fprintf(f, "warning: %s\n", show(mipart_monitor_warning(s, i), line, sizeof(line)));
}

static int print_json(const mipart_monitor *s, const struct top_opts *o)
{
	const mipart_topology *t = mipart_monitor_topology(s);
	json_t *root, *parts = json_array(), *gpus = json_array(), *warn = json_array();
	const mipart_monitor_row **rows;
	size_t n = 0;

	rows = select_rows(s, o, &n);
	if (!rows || !parts || !gpus || !warn) {
		free(rows);
		json_decref(parts);
		json_decref(gpus);
		json_decref(warn);
		cli_error("out of memory");
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < n; i++)
		json_array_append_new(parts, monitor_row_json(rows[i]));
	free(rows);
	for (size_t i = 0; i < mipart_topology_gpu_count(t); i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(t, i);
		const mipart_gpu_reading *r = mipart_readings_gpu(mipart_monitor_readings(s), i);
		bool known, in = mipart_monitor_gpu_in_sync(s, i, &known);

		if (o->gpu_filter && (i >= 64 || !o->gpus[i]))
			continue;
		json_array_append_new(
			gpus, json_pack("{s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "gpu",
					(json_int_t)g->index, "bdf", g->bdf, "compute_partition",
					cli_json_mode(mipart_compute_mode_name(g->compute)),
					"memory_partition",
					cli_json_mode(mipart_memory_mode_name(g->memory)), "power_w",
					cli_json_int_or_null(r->power_w), "temperature_hotspot_c",
					cli_json_int_or_null(r->temp_hotspot_c), "gfx_activity_percent",
					cli_json_int_or_null(r->gfx_activity_pct), "gfx_clock_mhz",
					cli_json_int_or_null(r->gfxclk_mhz), "vram_used_bytes",
					cli_json_int_or_null(r->vram_used_bytes), "vram_total_bytes",
					cli_json_int_or_null(r->vram_total_bytes), "config_in_sync",
					known ? json_boolean(in) : json_null()));
	}
	for (size_t i = 0; i < mipart_monitor_warning_count(s); i++)
		json_array_append_new(warn, json_string(mipart_monitor_warning(s, i)));
	root = json_pack("{s:f, s:s, s:o, s:o, s:o}", "collected_at", mipart_monitor_collected_at(s), "sort",
			 sort_names[o->sort], "gpus", gpus, "partitions", parts, "warnings", warn);
	return cli_print_json(root);
}

/* Wait up to seconds for a key; returns the key, 0 on time out, -1 on end of input. */
static int wait_key(double seconds, bool tty)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	int ms = (int)(seconds * 1000);
	char ch;

	if (!tty) {
		struct timespec ts = { (time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9) };

		nanosleep(&ts, NULL);
		return 0;
	}
	if (poll(&p, 1, ms) <= 0)
		return 0;
	if (read(STDIN_FILENO, &ch, 1) != 1)
		return -1;
	return (unsigned char)ch;
}

static int parse(struct cli *cli, int argc, char **argv, struct top_opts *o, mipart_topology **t)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, '1' },	   { "json", no_argument, NULL, 'j' },
		{ "interval", required_argument, NULL, 'i' }, { "sort", required_argument, NULL, 's' },
		{ "gpu", required_argument, NULL, 'g' },   { "model", required_argument, NULL, 'm' },
		{ "active", no_argument, NULL, 'a' },	   { "prometheus", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	const char *gpu_sel = NULL;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case '1':
			o->once = true;
			break;
		case 'j':
			o->json = o->once = true;
			break;
		case 'i': {
			char *end;

			o->interval = strtod(optarg, &end);
			if (*end || !(o->interval >= 0.1 && o->interval <= 3600))
				return cli_usage_error(cli->verb,
						       "invalid '--interval' '%s': seconds between 0.1 and 3600",
						       optarg);
			break;
		}
		case 's': {
			int k;

			for (k = 0; k < SORT_COUNT; k++)
				if (!strcmp(optarg, sort_names[k]))
					break;
			if (k == SORT_COUNT)
				return cli_usage_error(cli->verb,
						       "invalid '--sort' '%s': expected index, busy, vram, procs or model",
						       optarg);
			o->sort = (enum sort_key)k;
			break;
		}
		case 'g':
			gpu_sel = optarg;
			break;
		case 'm':
			o->model = optarg;
			break;
		case 'a':
			o->active = true;
			break;
		case 'P':
			o->prometheus = o->once = true;
			break;
		default:
			return cli_usage_error(cli->verb, "unknown option or missing value '%s'",
					       argv[optind - 1]);
		}
	}
	if (cli_check_args(cli, argc - optind) != EXIT_OK)
		return EXIT_USAGE;
	if (o->prometheus && (o->json || gpu_sel || o->model || o->active))
		return cli_usage_error(cli->verb, "'--prometheus' prints every series: no '--json' or filters");
	if (gpu_sel) {
		int r = cli_load_topology(cli, t);

		if (r != EXIT_OK)
			return r;
		if (mipart_topology_gpu_count(*t) > 64 ||
		    cli_select_gpus(*t, gpu_sel, o->gpus) < 0)
			return EXIT_USAGE;
		o->gpu_filter = true;
	}
	return EXIT_OK;
}

int verb_top(struct cli *cli, int argc, char **argv)
{
	struct top_opts o = { .interval = 2 };
	mipart_topology *t = NULL;
	struct termios saved, raw;
	bool tty_in, tty_out;
	int r = parse(cli, argc, argv, &o, &t);

	t = mipart_topology_free(t);
	if (r != EXIT_OK)
		return r;
	tty_out = isatty(STDOUT_FILENO);
	if (!tty_out)
		o.once = true; /* a pipe gets one frame, not a stream of escapes */
	tty_in = !o.once && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	if (tty_in) {
		raw = saved;
		raw.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (;;) {
		mipart_monitor *s = NULL;
		int key;

		r = mipart_monitor_collect(cli->host, &s);
		if (r < 0) {
			cli_error("cannot read the host under '%s': %s", mipart_host_root(cli->host),
				  mipart_strerror(r));
			r = EXIT_FAIL;
			break;
		}
		if (o.json) {
			r = print_json(s, &o);
			mipart_monitor_free(s);
			break;
		}
		if (o.prometheus) {
			char *text = NULL;
			size_t len = 0;

			r = mipart_monitor_prometheus(s, MIPART_MONITOR_SERIES_MIPART, &text, &len);
			if (r == 0 && fwrite(text, 1, len, stdout) == len && fflush(stdout) == 0) {
				r = EXIT_OK;
			} else {
				cli_error("cannot print the metrics: %s", mipart_strerror(r < 0 ? r : -EIO));
				r = EXIT_FAIL;
			}
			free(text);
			mipart_monitor_free(s);
			break;
		}
		if (!o.once)
			fputs("\033[H\033[2J", stdout);
		print_frame(stdout, s, &o);
		fflush(stdout);
		mipart_monitor_free(s);
		r = EXIT_OK;
		if (o.once || stop)
			break;
		key = wait_key(o.interval, tty_in);
		if (key == 'q' || key == -1 || stop)
			break;
		if (key == 's')
			o.sort = (enum sort_key)((o.sort + 1) % SORT_COUNT);
	}
	if (tty_in)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	return r;
}
