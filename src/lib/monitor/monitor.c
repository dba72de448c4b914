// SPDX-License-Identifier: MIT
/*
 * Monitoring snapshots (mipart/monitor.h): one snapshot of the host read at once (topology, readings,
 * processes, the ledger's allocations, the journal's last changes), one row per partition, and
 * the two renderings of it: Prometheus text exposition 0.0.4 and the status JSON. Drift is the
 * difference between each GPU's modes now and the target of the last change that finished
 * ("done"): that is what the operator last declared. See docs/monitoring.md.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mipart/apply.h"
#include "mipart/error.h"
#include "mipart/declared.h"
#include "mipart/journal.h"
#include "mipart/layout.h"
#include "mipart/ledger.h"
#include "mipart/procs.h"
#include "mipart/readings.h"
#include "mipart/topology.h"
#include "jsonutil.h"
#include "monitor.h"
#include "util.h"
#include "banned.h"

#define WARN_MAX 64
#define JOURNAL_SCAN 64		/* changes looked at for the last declared state */
#define PROM_MAX (16u << 20)	/* cap of the exposition text */

struct desired {
	bool known;
	bool declared;	/* from the declared state (mipart apply --persist), not the journal */
	mipart_compute_mode compute;
	mipart_memory_mode memory;
	int64_t change;
};

struct mipart_monitor {
	mipart_topology *topo;
	mipart_readings *readings;
	mipart_procs *procs;
	mipart_allocation *allocs;
	size_t n_allocs;
	bool *orphaned;			/* per allocation: books a partition the host lacks */
	size_t n_orphaned;
	struct desired *desired;	/* per GPU */
	mipart_monitor_row *rows;
	size_t n_rows;
	bool have_last;
	mipart_journal_entry last;	/* the newest finished change */
	bool running;			/* a change is in progress (or was left by a crash) */
	char hostname[256];		/* for AMD's hostname label */
	char (*serial)[64];		/* per GPU: the board serial (sysfs serial_number), "" unknown */
	double collected_at;		/* Unix time */
	double collect_seconds;
	char *warn[WARN_MAX];
	size_t n_warn;
};

static void warn(struct mipart_monitor *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct mipart_monitor *s, const char *fmt, ...)
{
	char buf[768];
	va_list ap;

	if (s->n_warn == WARN_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	s->warn[s->n_warn] = strdup(buf);
	if (s->warn[s->n_warn])
		s->n_warn++;
}

static double now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "2026-12-05T19:20:26Z" -> Unix seconds; -1 when it is not that shape. */
static double iso_seconds(const char *iso)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, n = 0;

	if (!iso || sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
	    n == 0 || iso[n])
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return (double)timegm(&tm);
}

/* The target of the newest change that finished "done" names what every GPU should be. */
static void load_journal(struct mipart_monitor *s, const mipart_host *host)
{
	char path[MIPART_PATH_MAX];
	mipart_journal *j = NULL;
	mipart_journal_entry *v = NULL, run = { 0 };
	size_t n = 0, n_gpus = mipart_topology_gpu_count(s->topo);
	int r;

	if (mipart_host_path(host, MIPART_JOURNAL_PATH, path, sizeof(path)) < 0)
		return;
	if (access(path, F_OK) < 0) {
		/* none yet is fine; one this user may not reach is said, never shown as none */
		if (errno != ENOENT)
			warn(s, "cannot open the journal '%s': %s", path, mipart_strerror(-errno));
		return;
	}
	r = mipart_journal_open_reader(path, &j);
	if (r == -ENOENT)
		return; /* not migrated yet: no change recorded by this mipart */
	if (r < 0) {
		warn(s, "cannot open the journal '%s': %s", path, mipart_strerror(r));
		return;
	}
	r = mipart_journal_list(j, JOURNAL_SCAN, &v, &n);
	if (r < 0) {
		warn(s, "cannot read the journal '%s': %s", path, mipart_strerror(r));
		mipart_journal_free(j);
		return;
	}
	if (mipart_journal_running(j, &run) == 0)
		s->running = true;
	mipart_journal_entry_release(&run);
	for (size_t i = 0; i < n && !s->have_last; i++)
		if (v[i].finished_at) {
			/* moved out of the list; its target is read below when it is "done" */
			s->last = v[i];
			memset(&v[i], 0, sizeof(v[i]));
			s->have_last = true;
		}
	/* newest first: the first "done" change decides each GPU it names */
	for (size_t pass = 0; pass < 2; pass++) {
		const mipart_journal_entry *list = pass == 0 ? &s->last : v;
		size_t count = pass == 0 ? (s->have_last ? 1 : 0) : n;

		for (size_t i = 0; i < count; i++) {
			const mipart_journal_entry *c = &list[i];
			json_t *target, *e;
			size_t k;

			if (!c->state || strcmp(c->state, "done") || !c->target)
				continue;
			target = json_loads(c->target, 0, NULL);
			json_array_foreach(target, k, e) {
				const char *bdf = json_string_value(json_object_get(e, "bdf"));
				const char *cm = json_string_value(json_object_get(e, "compute"));
				const char *mm = json_string_value(json_object_get(e, "memory"));

				const mipart_gpu_info *gi = bdf ? mipart_topology_gpu_by_bdf(s->topo, bdf)
								: NULL;
				struct desired *d = gi && gi->index < n_gpus ? &s->desired[gi->index] : NULL;

				if (!d || d->known)
					continue;
				d->known = true;
				d->change = c->id;
				if (!cm || mipart_compute_mode_parse(cm, &d->compute) < 0)
					d->compute = MIPART_COMPUTE_UNKNOWN;
				if (!mm || mipart_memory_mode_parse(mm, &d->memory) < 0)
					d->memory = MIPART_MEMORY_UNKNOWN;
			}
			json_decref(target);
		}
	}
	mipart_journal_entries_free(v, n);
	mipart_journal_free(j);
}

/* The declared state (/etc/mipart/declared.json, `mipart apply --persist`) names what every
 * GPU it selects should be, also on a host whose journal is empty; it outranks the journal. */
static void load_declared(struct mipart_monitor *s, const mipart_host *host)
{
	mipart_config_error err = { 0 };
	mipart_declared *d = NULL;
	mipart_target *t = NULL;
	size_t n = mipart_topology_gpu_count(s->topo);
	unsigned line = 0, col = 0;
	char msg[320];
	int r = mipart_declared_load(host, &d, &err);

	if (r == -ENOENT)
		return;
	if (r < 0) {
		warn(s, "cannot read the declared state: %s", err.message[0] ? err.message : mipart_strerror(r));
		return;
	}
	t = calloc(n + 1, sizeof(*t));
	r = t ? mipart_layout_resolve(mipart_declared_set(d), s->topo, t, n, &line, &col, msg, sizeof(msg))
	      : -ENOMEM;
	if (r < 0)
		warn(s, "the declared config '%s' does not fit this host: %s",
		     mipart_declared_config_name(d), t ? msg : mipart_strerror(r));
	for (size_t g = 0; r == 0 && g < n; g++) {
		if (!t[g].selected)
			continue;
		s->desired[g] = (struct desired){ .known = true, .declared = true,
						  .compute = t[g].compute, .memory = t[g].memory };
	}
	free(t);
	mipart_declared_free(d);
}

static void load_ledger(struct mipart_monitor *s, const mipart_host *host)
{
	char path[MIPART_PATH_MAX];
	mipart_ledger *l = NULL;
	int r;

	if (mipart_host_path(host, MIPART_JOURNAL_PATH, path, sizeof(path)) < 0)
		return;
	if (access(path, F_OK) < 0) {
		/* none yet is fine; one this user may not reach is said, never shown as none */
		if (errno != ENOENT)
			warn(s, "cannot open the allocations in '%s': %s", path, mipart_strerror(-errno));
		return;
	}
	r = mipart_ledger_open_reader(path, &l);
	if (r == 0)
		r = mipart_ledger_list(l, &s->allocs, &s->n_allocs);
	if (r < 0 && r != -ENOENT)
		warn(s, "cannot read the allocations in '%s': %s", path, mipart_strerror(r));
	mipart_ledger_free(l);
}

bool mipart_monitor_gpu_in_sync(const mipart_monitor *s, size_t gpu, bool *ret_known)
{
	const mipart_gpu_info *g = mipart_topology_gpu(s->topo, gpu);
	const struct desired *d = g ? &s->desired[gpu] : NULL;

	*ret_known = d && d->known;
	if (!*ret_known)
		return true;
	return (d->compute == MIPART_COMPUTE_UNKNOWN || d->compute == g->compute) &&
	       (d->memory == MIPART_MEMORY_UNKNOWN || d->memory == g->memory);
}

/* Whether the comma-separated list has the item. */
static bool list_has(const char *list, const char *item)
{
	size_t n = strlen(item);

	for (const char *c = list; *c;) {
		const char *e = strchr(c, ',');
		size_t len = e ? (size_t)(e - c) : strlen(c);

		if (len == n && !memcmp(c, item, n))
			return true;
		if (!e)
			break;
		c = e + 1;
	}
	return false;
}

/* One row per partition, in the topology's partition order (by GPU), with what the ledger
 * booked on it. */
/* Allocations that book a partition the host does not have now (a layout changed under them,
 * or a driver reload left fewer partitions): their workloads lost their devices. */
static int find_orphans(struct mipart_monitor *s)
{
	s->orphaned = calloc(s->n_allocs ? s->n_allocs : 1, sizeof(*s->orphaned));
	if (!s->orphaned)
		return -ENOMEM;
	for (size_t a = 0; a < s->n_allocs; a++) {
		s->orphaned[a] = mipart_allocation_orphaned(&s->allocs[a], s->topo, NULL);
		s->n_orphaned += s->orphaned[a];
	}
	return 0;
}

static int build_rows(struct mipart_monitor *s)
{
	size_t n = mipart_topology_partition_count(s->topo);

	s->rows = calloc(n ? n : 1, sizeof(*s->rows));
	if (!s->rows)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const mipart_partition_info *p = mipart_topology_partition(s->topo, i);
		const mipart_gpu_info *g = mipart_topology_gpu(s->topo, p->gpu);
		const mipart_partition_reading *pr = mipart_readings_partition(s->readings, i);
		mipart_monitor_row *row = &s->rows[s->n_rows++];
		size_t ml = 0, al = 0;

		row->part = p;
		row->gpu = g;
		row->reading = pr;
		for (size_t k = 0; s->procs && k < mipart_procs_count(s->procs); k++) {
			const mipart_proc_info *pi = mipart_procs_get(s->procs, k);

			if (mipart_proc_uses_partition(pi, i)) {
				if (row->n_pids < MIPART_MONITOR_ROW_PIDS) {
					row->pids[row->n_pids] = pi;
					row->pid_vram[row->n_pids] = pi->partition_vram[i];
				}
				row->n_pids++;
			}
		}
		for (size_t a = 0; a < s->n_allocs; a++) {
			const mipart_allocation *al_ = &s->allocs[a];

			for (size_t b = 0; b < al_->n_bookings; b++) {
				const mipart_booking *bk = &al_->bookings[b];

				if (mipart_topology_partition_at(s->topo, bk->bdf, bk->xcp) != p)
					continue;
				row->booked_bytes += (int64_t)bk->bytes;
				row->n_allocs++;
				/* model names, comma-separated, each once */
				if (!list_has(row->models, al_->model) && ml + strlen(al_->model) + 2 <
									      sizeof(row->models))
					ml += (size_t)snprintf(row->models + ml, sizeof(row->models) - ml,
							       "%s%s", ml ? "," : "", al_->model);
				if (al + strlen(al_->name) + 2 < sizeof(row->allocations))
					al += (size_t)snprintf(row->allocations + al,
							       sizeof(row->allocations) - al, "%s%s",
							       al ? "," : "", al_->name);
			}
		}
	}
	return 0;
}

/* What AMD's exporter labels each series with: the host name, and each board's serial number
 * (device-metrics-exporter pkg/amdgpu/gpuagent: HOSTNAME from os.Hostname(), SERIAL_NUMBER
 * from gpuagent, which reads it with rsmi_dev_serial_number_get, the PCI device's
 * serial_number attribute; amdgpu_fru_eeprom.c: amdgpu_fru_serial_number_show, "%s\n"). */
static int load_identity(struct mipart_monitor *s, const mipart_host *host)
{
	size_t n = mipart_topology_gpu_count(s->topo);

	if (gethostname(s->hostname, sizeof(s->hostname)) < 0)
		s->hostname[0] = '\0';
	s->hostname[sizeof(s->hostname) - 1] = '\0';
	s->serial = calloc(n ? n : 1, sizeof(*s->serial));
	if (!s->serial)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(s->topo, i);
		char abs[96], path[MIPART_PATH_MAX], buf[64];
		ssize_t len;

		snprintf(abs, sizeof(abs), "/sys/bus/pci/devices/%s/serial_number", g->bdf);
		if (mipart_host_path(host, abs, path, sizeof(path)) < 0)
			continue;
		len = util_read_file(path, buf, sizeof(buf) - 1);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		util_strlcpy(s->serial[i], buf, sizeof(s->serial[i]));
	}
	return 0;
}

int mipart_monitor_collect(const mipart_host *host, mipart_monitor **ret)
{
	struct mipart_monitor *s = calloc(1, sizeof(*s));
	double t0 = now_mono();
	int r;

	if (!s)
		return -ENOMEM;
	s->collected_at = now_real();
	r = mipart_topology_load(host, &s->topo);
	if (r < 0) {
		free(s);
		return r;
	}
	for (size_t i = 0; i < mipart_topology_diag_count(s->topo); i++)
		warn(s, "%s", mipart_topology_diag(s->topo, i));
	r = load_identity(s, host);
	if (r < 0)
		goto fail;
	r = mipart_readings_load(host, s->topo, &s->readings);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < mipart_readings_diag_count(s->readings); i++)
		warn(s, "%s", mipart_readings_diag(s->readings, i));
	r = mipart_procs_scan(host, s->topo, &s->procs);
	if (r == -ENOMEM)
		goto fail;
	if (r < 0 && !(r == -ENOENT && mipart_host_root(host)[0]))
		warn(s, "cannot list processes: %s", mipart_strerror(r));
	else if (r == 0 && mipart_procs_hidden(s->procs))
		warn(s, "%zu processes could not be inspected (run as root to see every GPU user)",
		     mipart_procs_hidden(s->procs));
	if (r == 0) {
		int why = 0;
		size_t n = mipart_procs_uncompared(s->procs, &why);

		/* fdinfo without drm-client-id, and neither kcmp nor the pasid could say which
		 * fds are dups */
		if (n)
			warn(s, "DRM fds without a drm-client-id that neither kcmp nor their pasid could "
				"tell apart: %zu (%s); "
				"a dup'd fd among them counts its VRAM twice", n,
			     why == -ENXIO    ? "the /proc read is not this kernel's own"
			     : why == -ENOSYS ? "this kernel has no kcmp"
			     : why == -EPERM  ? "denied: needs CAP_SYS_PTRACE over the process"
			     : why == -EBADF || why == -ESRCH ? "the fd or the process went away meanwhile"
							     : mipart_strerror(why));
	}
	s->desired = calloc(mipart_topology_gpu_count(s->topo) + 1, sizeof(*s->desired));
	if (!s->desired) {
		r = -ENOMEM;
		goto fail;
	}
	load_ledger(s, host);
	load_declared(s, host);
	load_journal(s, host);
	/* the host lock is held: a change runs now (or an allocation is being booked) */
	if (mipart_apply_in_progress(host, NULL, 0) > 0)
		s->running = true;
	if (mipart_topology_partition_count(s->topo) > 64)
		warn(s, "%zu partitions: processes are attributed to the first 64 only",
		     mipart_topology_partition_count(s->topo));
	r = build_rows(s);
	if (r == 0)
		r = find_orphans(s);
	if (r < 0)
		goto fail;
	s->collect_seconds = now_mono() - t0;
	*ret = s;
	return 0;
fail:
	mipart_monitor_free(s);
	return r;
}

mipart_monitor *mipart_monitor_free(mipart_monitor *s)
{
	if (!s)
		return NULL;
	mipart_topology_free(s->topo);
	mipart_readings_free(s->readings);
	mipart_procs_free(s->procs);
	mipart_allocations_free(s->allocs, s->n_allocs);
	mipart_journal_entry_release(&s->last);
	for (size_t i = 0; i < s->n_warn; i++)
		free(s->warn[i]);
	free(s->desired);
	free(s->serial);
	free(s->orphaned);
	free(s->rows);
	free(s);
	return NULL;
}

size_t mipart_monitor_warning_count(const mipart_monitor *s)
{
	return s ? s->n_warn : 0;
}

const char *mipart_monitor_warning(const mipart_monitor *s, size_t i)
{
	return s && i < s->n_warn ? s->warn[i] : NULL;
}

size_t mipart_monitor_row_count(const mipart_monitor *s)
{
	return s ? s->n_rows : 0;
}

const mipart_monitor_row *mipart_monitor_row_get(const mipart_monitor *s, size_t i)
{
	return s && i < s->n_rows ? &s->rows[i] : NULL;
}

const mipart_topology *mipart_monitor_topology(const mipart_monitor *s)
{
	return s->topo;
}

const mipart_readings *mipart_monitor_readings(const mipart_monitor *s)
{
	return s->readings;
}

double mipart_monitor_collected_at(const mipart_monitor *s)
{
	return s->collected_at;
}

double mipart_monitor_collect_seconds(const mipart_monitor *s)
{
	return s->collect_seconds;
}

const mipart_procs *mipart_monitor_procs(const mipart_monitor *s)
{
	return s->procs;
}

bool mipart_monitor_change_in_progress(const mipart_monitor *s)
{
	return s->running;
}

size_t mipart_monitor_allocations_orphaned(const mipart_monitor *s)
{
	return s->n_orphaned;
}

const char *monitor_hostname(const mipart_monitor *s)
{
	return s->hostname;
}

const mipart_journal_entry *monitor_last_change(const mipart_monitor *s)
{
	return s->have_last ? &s->last : NULL;
}

bool monitor_declared(const mipart_monitor *s, size_t gpu, mipart_compute_mode *ret_compute,
		      mipart_memory_mode *ret_memory)
{
	if (gpu >= mipart_topology_gpu_count(s->topo) || !s->desired[gpu].known)
		return false;
	*ret_compute = s->desired[gpu].compute;
	*ret_memory = s->desired[gpu].memory;
	return true;
}

/* ---- Prometheus text exposition format 0.0.4 ---- */

struct prom {
	char *buf;
	size_t len, cap;
	int err;
};

static void prom_put(struct prom *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void prom_put(struct prom *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	util_vappendf(&p->buf, &p->len, &p->cap, PROM_MAX, &p->err, fmt, ap);
	va_end(ap);
}

/* A label value: valid UTF-8 (else U+FFFD), \ " and newline escaped. */
static void prom_label(struct prom *p, const char *name, const char *value, bool first)
{
	char utf8[1024];

	/* the format is UTF-8: a label value that is not (a directory name, say) would make the
	 * whole scrape invalid */
	char esc[2 * sizeof(utf8) + 1];
	size_t o = 0;

	value = util_utf8(value, utf8, sizeof(utf8));
	for (const char *c = value; *c; c++) { /* one put per label, not per byte */
		if (*c == '\\' || *c == '"' || *c == '\n')
			esc[o++] = '\\';
		esc[o++] = *c == '\n' ? 'n' : *c;
	}
	esc[o] = '\0';
	prom_put(p, "%s%s=\"%s\"", first ? "" : ",", name, esc);
}

static void prom_family(struct prom *p, const char *name, const char *type, const char *help)
{
	prom_put(p, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void prom_value(struct prom *p, double v)
{
	if (isnan(v))
		prom_put(p, " NaN\n");
	else if (v == floor(v) && fabs(v) < 1e15)
		prom_put(p, " %.0f\n", v);
	else
		prom_put(p, " %.9g\n", v);
}

static void gpu_labels(struct prom *p, const mipart_gpu_info *g, bool close)
{
	char idx[16];

	snprintf(idx, sizeof(idx), "%u", g->index);
	prom_put(p, "{");
	prom_label(p, "gpu", idx, true);
	prom_label(p, "bdf", g->bdf, false);
	prom_label(p, "compute_partition", mipart_compute_mode_name(g->compute), false);
	prom_label(p, "memory_partition", mipart_memory_mode_name(g->memory), false);
	if (close)
		prom_put(p, "}");
}

static void row_labels_open(struct prom *p, const mipart_monitor_row *r)
{
	char idx[16], xcp[16];

	snprintf(idx, sizeof(idx), "%u", r->gpu->index);
	snprintf(xcp, sizeof(xcp), "%d", r->part->xcp);
	prom_put(p, "{");
	prom_label(p, "gpu", idx, true);
	prom_label(p, "bdf", r->gpu->bdf, false);
	prom_label(p, "partition", xcp, false);
	snprintf(idx, sizeof(idx), "%u", r->part->index);
	prom_label(p, "index", idx, false);
	prom_label(p, "compute_partition", mipart_compute_mode_name(r->gpu->compute), false);
	prom_label(p, "memory_partition", mipart_memory_mode_name(r->gpu->memory), false);
	prom_label(p, "model", r->models, false);
}

static void row_labels(struct prom *p, const mipart_monitor_row *r)
{
	row_labels_open(p, r);
	prom_put(p, "}");
}

/* Per-GPU metric families: the value of each for a GPU, NAN when unknown (no sample). */
enum gpu_field {
	GF_POWER, GF_TEMP_HOTSPOT, GF_TEMP_MEM, GF_GFX_ACT, GF_UMC_ACT, GF_GFXCLK, GF_UCLK,
	GF_VRAM_USED, GF_VRAM_TOTAL, GF_PARTITIONS, GF_IN_SYNC,
};

static const struct {
	enum gpu_field f;
	const char *name, *type, *help;
} gpu_families[] = {
	{ GF_POWER, "mipart_gpu_power_watts", "gauge",
	  "Socket power of the GPU (gpu_metrics curr_socket_power)." },
	{ GF_TEMP_HOTSPOT, "mipart_gpu_temperature_hotspot_celsius", "gauge",
	  "Hotspot (junction) temperature (gpu_metrics temperature_hotspot)." },
	{ GF_TEMP_MEM, "mipart_gpu_temperature_memory_celsius", "gauge",
	  "HBM temperature (gpu_metrics temperature_mem)." },
	{ GF_GFX_ACT, "mipart_gpu_gfx_activity_percent", "gauge",
	  "Graphics/compute engine activity of the whole GPU (gpu_metrics average_gfx_activity)." },
	{ GF_UMC_ACT, "mipart_gpu_memory_activity_percent", "gauge",
	  "Memory controller activity (gpu_metrics average_umc_activity)." },
	{ GF_GFXCLK, "mipart_gpu_gfx_clock_hertz", "gauge",
	  "Mean current gfx clock over the XCCs (gpu_metrics current_gfxclk)." },
	{ GF_UCLK, "mipart_gpu_memory_clock_hertz", "gauge",
	  "Current memory clock (gpu_metrics current_uclk)." },
	{ GF_VRAM_USED, "mipart_gpu_vram_used_bytes", "gauge",
	  "VRAM in use on the whole GPU (mem_info_vram_used)." },
	{ GF_VRAM_TOTAL, "mipart_gpu_vram_total_bytes", "gauge",
	  "VRAM of the whole GPU (mem_info_vram_total, else the sum of the partitions)." },
	{ GF_PARTITIONS, "mipart_gpu_partitions", "gauge",
	  "Logical devices (partitions) the GPU has now (KFD topology nodes)." },
	{ GF_IN_SYNC, "mipart_gpu_config_in_sync", "gauge",
	  "1 when the GPU's modes are those of the declared state (apply --persist), else of the last change that finished; 0 when they drifted." },
};

static double gpu_value(const mipart_monitor *s, const mipart_gpu_info *g, enum gpu_field f)
{
	const mipart_gpu_reading *r = mipart_readings_gpu(s->readings, g->index);
	long long v = -1;
	bool known;

	switch (f) {
	case GF_POWER: v = r->power_w; break;
	case GF_TEMP_HOTSPOT: v = r->temp_hotspot_c; break;
	case GF_TEMP_MEM: v = r->temp_mem_c; break;
	case GF_GFX_ACT: v = r->gfx_activity_pct; break;
	case GF_UMC_ACT: v = r->umc_activity_pct; break;
	case GF_GFXCLK: return r->gfxclk_mhz < 0 ? NAN : r->gfxclk_mhz * 1e6;
	case GF_UCLK: return r->uclk_mhz < 0 ? NAN : r->uclk_mhz * 1e6;
	case GF_VRAM_USED: v = r->vram_used_bytes; break;
	case GF_VRAM_TOTAL: v = r->vram_total_bytes; break;
	case GF_PARTITIONS: v = (long long)g->n_partitions; break;
	case GF_IN_SYNC: {
		bool in = mipart_monitor_gpu_in_sync(s, g->index, &known);

		return known ? (in ? 1 : 0) : NAN;
	}
	}
	return v < 0 ? NAN : (double)v;
}

enum part_field {
	PF_INFO, PF_BUSY, PF_GFXCLK, PF_VRAM_USED, PF_VRAM_TOTAL, PF_BOOKED, PF_PROCS,
	PF_ALLOCS, PF_CUS,
};

static const struct {
	enum part_field f;
	const char *name, *type, *help;
} part_families[] = {
	{ PF_INFO, "mipart_partition_info", "gauge",
	  "A logical device (partition) of a GPU; the labels name it and its model." },
	{ PF_BUSY, "mipart_partition_busy_percent", "gauge",
	  "Gfx busy of the partition's XCCs (xcp_metrics gfx_busy_inst, else gpu_metrics xcp_stats)." },
	{ PF_GFXCLK, "mipart_partition_gfx_clock_hertz", "gauge",
	  "Mean current gfx clock of the partition's XCCs." },
	{ PF_VRAM_USED, "mipart_partition_vram_used_bytes", "gauge",
	  "VRAM the partition's processes hold (KFD per-process vram_<gpu_id>, summed)." },
	{ PF_VRAM_TOTAL, "mipart_partition_vram_total_bytes", "gauge",
	  "VRAM of the partition (KFD mem_banks size_in_bytes)." },
	{ PF_BOOKED, "mipart_partition_vram_booked_bytes", "gauge",
	  "VRAM the ledger's allocations booked on the partition." },
	{ PF_PROCS, "mipart_partition_processes", "gauge",
	  "Processes that use the partition (KFD or render node)." },
	{ PF_ALLOCS, "mipart_partition_allocations", "gauge",
	  "Allocations of the ledger on the partition." },
	{ PF_CUS, "mipart_partition_compute_units", "gauge",
	  "Compute units of the partition." },
};

static double part_value(const mipart_monitor_row *r, enum part_field f)
{
	const mipart_partition_reading *pr = r->reading;
	long long v = -1;

	switch (f) {
	case PF_INFO: return 1;
	case PF_BUSY: v = pr ? pr->busy_pct : -1; break;
	case PF_GFXCLK: return pr && pr->gfxclk_mhz >= 0 ? pr->gfxclk_mhz * 1e6 : NAN;
	case PF_VRAM_USED: v = pr ? pr->vram_used_bytes : -1; break;
	case PF_VRAM_TOTAL: v = r->part->memory_bytes; break;
	case PF_BOOKED: v = r->booked_bytes; break;
	case PF_PROCS: v = (long long)r->n_pids; break;
	case PF_ALLOCS: v = (long long)r->n_allocs; break;
	case PF_CUS: v = r->part->compute_units; break;
	}
	return v < 0 ? NAN : (double)v;
}

/* ---- AMD device-metrics-exporter series ----
 *
 * The names, units and labels of ROCm/device-metrics-exporter (docs/configuration/metricslist.md,
 * pkg/amdgpu/gpuagent/gpu.go: initPrometheusMetrics, populateLabelsFromGPU,
 * updateGPUInfoToMetrics), so its Grafana dashboards (grafana/dashboard_*.json) read mipart's
 * figures unchanged. That exporter sees each partition as a GPU of its own (amd-smi's view):
 * gpu_id is the logical device's index (what ROCR_VISIBLE_DEVICES counts), gpu_partition_id
 * its XCP within the board; the partition types are lower case ("cpx", "nps4", "none" when
 * unknown); serial_number and card_model are the board's. Readings of the whole socket are
 * reported on the primary partition only: temperatures and activity are left out on the
 * others, power is 0 there (its docs: "Partition-Specific Metric Behavior"). VRAM is per
 * partition, in MB (MiB, as amd-smi counts), and so is the gfx busy of the partition's XCCs.
 * Labels are written in sorted order, as client_golang writes them.
 */

static const char *amd_lower(const char *mode, char *buf, size_t size)
{
	size_t i = 0;

	if (!strcmp(mode, "UNKNOWN"))
		mode = "none";
	for (; mode[i] && i + 1 < size; i++)
		buf[i] = (char)(mode[i] >= 'A' && mode[i] <= 'Z' ? mode[i] - 'A' + 'a' : mode[i]);
	buf[i] = '\0';
	return buf;
}

/* {card_model,[clock_index,clock_type,]gpu_compute_partition_type,gpu_id,
 *  gpu_memory_partition_type,gpu_partition_id,gpu_uuid,hostname,serial_number}
 * gpu_uuid is not one of the exporter's mandatory labels, but its dashboards select on it
 * (grafana/dashboard_gpu.json: gpu_uuid="$g_gpu_uuid"). It is shaped like amd-smi's
 * ("..ff<device id>-0000-1000-80..-<12 hex>", one per logical device) from the board's unique
 * id and the XCP; stable, but not byte for byte the one amd-smi prints. */
static void amd_labels(struct prom *p, const mipart_monitor *s, const mipart_monitor_row *r,
		       const char *clock_index, const char *clock_type)
{
	char cm[16], mm[16], id[16], xcp[16], uuid[48];
	const char *serial = s->serial ? s->serial[r->gpu->index] : "";
	uint64_t uid = 0;

	if (util_parse_hex_u64(r->gpu->unique_id, strlen(r->gpu->unique_id), &uid) < 0)
		uid = util_hash64(r->gpu->bdf, 0);
	snprintf(uuid, sizeof(uuid), "%02xff%04x-0000-1000-80%02x-%012llx",
		 (unsigned)(r->part->xcp < 0 ? 0 : r->part->xcp),
		 (unsigned)(r->gpu->device_id < 0 ? 0 : r->gpu->device_id) & 0xffff,
		 (unsigned)(uid >> 48) & 0xff, (unsigned long long)(uid & 0xffffffffffffull));

	snprintf(id, sizeof(id), "%u", r->part->index);
	snprintf(xcp, sizeof(xcp), "%d", r->part->xcp < 0 ? 0 : r->part->xcp);
	prom_put(p, "{");
	prom_label(p, "card_model", r->gpu->product ? r->gpu->product : "", true);
	if (clock_index) {
		prom_label(p, "clock_index", clock_index, false);
		prom_label(p, "clock_type", clock_type, false);
	}
	prom_label(p, "gpu_compute_partition_type",
		   amd_lower(mipart_compute_mode_name(r->gpu->compute), cm, sizeof(cm)), false);
	prom_label(p, "gpu_id", id, false);
	prom_label(p, "gpu_memory_partition_type",
		   amd_lower(mipart_memory_mode_name(r->gpu->memory), mm, sizeof(mm)), false);
	prom_label(p, "gpu_partition_id", xcp, false);
	prom_label(p, "gpu_uuid", uuid, false);
	prom_label(p, "hostname", s->hostname, false);
	prom_label(p, "serial_number", serial, false);
	prom_put(p, "}");
}

enum amd_field {
	AF_PACKAGE_POWER, AF_POWER_USAGE, AF_JUNCTION_TEMP, AF_MEMORY_TEMP, AF_GFX_ACTIVITY,
	AF_UMC_ACTIVITY, AF_GFX_BUSY, AF_TOTAL_VRAM, AF_USED_VRAM, AF_FREE_VRAM, AF_CLOCK_SYSTEM,
	AF_CLOCK_MEMORY,
};

/* name and help as the exporter registers them (gpu.go: initPrometheusMetrics) */
static const struct {
	enum amd_field f;
	const char *name, *help;
} amd_families[] = {
	{ AF_PACKAGE_POWER, "gpu_package_power", "Current socker power in Watts" },
	{ AF_POWER_USAGE, "gpu_power_usage", "GPU Power usage in Watts" },
	{ AF_JUNCTION_TEMP, "gpu_junction_temperature",
	  "Current junction/hotspot temperature in Celsius" },
	{ AF_MEMORY_TEMP, "gpu_memory_temperature", "Current memory temperature in Celsius" },
	{ AF_GFX_ACTIVITY, "gpu_gfx_activity", "Graphics engine usage in Percentage (0-100)" },
	{ AF_UMC_ACTIVITY, "gpu_umc_activity", "Memory engine usage in Percentage (0-100)" },
	{ AF_GFX_BUSY, "gpu_gfx_busy_instantaneous",
	  "Gfx busy instantaneous per accelerated compute processor(xcp) per compute core (xcc), "
	  "as per partitioning of the system" },
	{ AF_TOTAL_VRAM, "gpu_total_vram", "Total VRAM memory of the GPU (in MB)" },
	{ AF_USED_VRAM, "gpu_used_vram", "Used VRAM memory of the GPU (in MB)" },
	{ AF_FREE_VRAM, "gpu_free_vram", "Free VRAM memory of the GPU (in MB)" },
	{ AF_CLOCK_SYSTEM, "gpu_clock", "Clock measure of the GPU in Mhz" },
	{ AF_CLOCK_MEMORY, "gpu_clock", "Clock measure of the GPU in Mhz" },
};

static double amd_value(const mipart_monitor *s, const mipart_monitor_row *r, enum amd_field f)
{
	const mipart_gpu_reading *g = mipart_readings_gpu(s->readings, r->gpu->index);
	const mipart_partition_reading *pr = r->reading;
	bool primary = r->part->xcp <= 0;
	long long v = -1;

	switch (f) {
	case AF_PACKAGE_POWER:
	case AF_POWER_USAGE:
		if (!g || g->power_w < 0)
			return NAN;
		return primary ? g->power_w : 0; /* no per-XCD power sensor: 0 on the others */
	case AF_JUNCTION_TEMP: v = primary && g ? g->temp_hotspot_c : -1; break;
	case AF_MEMORY_TEMP: v = primary && g ? g->temp_mem_c : -1; break;
	case AF_GFX_ACTIVITY: v = primary && g ? g->gfx_activity_pct : -1; break;
	case AF_UMC_ACTIVITY: v = primary && g ? g->umc_activity_pct : -1; break;
	case AF_GFX_BUSY: v = pr ? pr->busy_pct : -1; break;
	case AF_TOTAL_VRAM: return r->part->memory_bytes < 0 ? NAN : (double)(r->part->memory_bytes / (1 << 20));
	case AF_USED_VRAM: return !pr || pr->vram_used_bytes < 0 ? NAN : (double)(pr->vram_used_bytes / (1 << 20));
	case AF_FREE_VRAM:
		if (!pr || pr->vram_used_bytes < 0 || r->part->memory_bytes < 0)
			return NAN;
		return (double)(r->part->memory_bytes / (1 << 20) - pr->vram_used_bytes / (1 << 20));
	case AF_CLOCK_SYSTEM: v = pr ? pr->gfxclk_mhz : -1; break;
	case AF_CLOCK_MEMORY: v = primary && g ? g->uclk_mhz : -1; break;
	}
	return v < 0 ? NAN : (double)v;
}

static void prom_amd(struct prom *p, const mipart_monitor *s)
{
	prom_family(p, "gpu_nodes_total", "gauge", "Number of GPUs in the node");
	prom_put(p, "gpu_nodes_total{");
	prom_label(p, "hostname", s->hostname, true);
	prom_put(p, "}");
	prom_value(p, (double)s->n_rows);
	bool clock_header = false;

	for (size_t f = 0; f < ARRAY_SIZE(amd_families); f++) {
		bool clock = amd_families[f].f == AF_CLOCK_SYSTEM || amd_families[f].f == AF_CLOCK_MEMORY;
		bool header = clock && clock_header; /* one gpu_clock family, two clock types */

		for (size_t i = 0; i < s->n_rows; i++) {
			const mipart_monitor_row *r = &s->rows[i];
			double v = amd_value(s, r, amd_families[f].f);

			if (isnan(v))
				continue;
			if (!header)
				prom_family(p, amd_families[f].name, "gauge", amd_families[f].help);
			header = true;
			clock_header |= clock;
			prom_put(p, "%s", amd_families[f].name);
			if (amd_families[f].f == AF_CLOCK_SYSTEM)
				amd_labels(p, s, r, "0", "GPU_CLOCK_TYPE_SYSTEM");
			else if (amd_families[f].f == AF_CLOCK_MEMORY)
				amd_labels(p, s, r, "8", "GPU_CLOCK_TYPE_MEMORY");
			else
				amd_labels(p, s, r, NULL, NULL);
			prom_value(p, v);
		}
	}
}

/*
 * Per-process VRAM: what each process holds on each partition, from the DRM fdinfo of its
 * render-node fds (procs.h: partition_vram; discover/fdinfo.c). One series per process and
 * partition would let any user who starts processes grow the scrape without end, so the series
 * are capped: the MIPART_MONITOR_PROCESS_SERIES largest (process, partition) pairs of the host
 * get their own series, and on each partition the rest are summed into one series with
 * process_id="other". Summing the family by partition gives every process's VRAM there.
 * process_id is the name AMD's device-metrics-exporter gives a process's PID on its
 * per-process series (gpu_process_cu_occupancy, v1.5.0: docs/releasenotes.md); it has no
 * per-process VRAM series whose name could be followed.
 */
struct proc_vram {
	const mipart_proc_info *proc;
	size_t row;
	int64_t bytes;
};

static int cmp_proc_vram(const void *a, const void *b)
{
	const struct proc_vram *x = a, *y = b;

	if (x->bytes != y->bytes) /* largest first */
		return x->bytes < y->bytes ? 1 : -1;
	if (x->proc->pid != y->proc->pid)
		return x->proc->pid < y->proc->pid ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

static int cmp_proc_vram_row(const void *a, const void *b)
{
	const struct proc_vram *x = a, *y = b;

	if (x->row != y->row)
		return x->row < y->row ? -1 : 1;
	return cmp_proc_vram(a, b);
}

static void process_header(struct prom *p, bool *header)
{
	if (*header)
		return;
	*header = true;
	prom_put(p, "# HELP mipart_process_vram_bytes VRAM a process holds on the partition (DRM fdinfo "
		    "drm-resident-vram of its render-node fds): the %d largest of the host, the rest of "
		    "each partition summed as process_id=\"other\".\n# TYPE mipart_process_vram_bytes gauge\n",
		 MIPART_MONITOR_PROCESS_SERIES);
}

static void prom_processes(struct prom *p, const mipart_monitor *s)
{
	size_t n_procs = s->procs ? mipart_procs_count(s->procs) : 0, n = 0, cap = 0, keep;
	struct proc_vram *v = NULL;
	bool header = false;

	for (size_t k = 0; k < n_procs; k++) {
		const mipart_proc_info *pi = mipart_procs_get(s->procs, k);

		for (size_t i = 0; i < s->n_rows && i < MIPART_PROCS_PARTITIONS; i++) {
			if (pi->partition_vram[i] < 0 || !mipart_proc_uses_partition(pi, i))
				continue;
			if (n == cap) {
				size_t ncap = cap ? 2 * cap : 64;
				struct proc_vram *nv = realloc(v, ncap * sizeof(*v));

				if (!nv) {
					p->err = -ENOMEM;
					free(v);
					return;
				}
				v = nv;
				cap = ncap;
			}
			v[n++] = (struct proc_vram){ .proc = pi, .row = i, .bytes = pi->partition_vram[i] };
		}
	}
	if (!n)
		return;
	/* the largest pairs of the host keep their series; then in partition order */
	qsort(v, n, sizeof(*v), cmp_proc_vram);
	keep = n < MIPART_MONITOR_PROCESS_SERIES ? n : MIPART_MONITOR_PROCESS_SERIES;
	qsort(v, keep, sizeof(*v), cmp_proc_vram_row);
	if (keep < n)
		qsort(v + keep, n - keep, sizeof(*v), cmp_proc_vram_row);
	for (size_t i = 0, o = keep; i < s->n_rows; i++) {
		int64_t other = 0;
		bool any_other = false;

		for (size_t j = 0; j < keep; j++) {
			char pid[16];

			if (v[j].row != i)
				continue;
			process_header(p, &header);
			snprintf(pid, sizeof(pid), "%d", v[j].proc->pid);
			prom_put(p, "mipart_process_vram_bytes");
			row_labels_open(p, &s->rows[i]);
			prom_label(p, "process_id", pid, false);
			prom_label(p, "process_name", v[j].proc->comm, false);
			prom_put(p, "}");
			prom_value(p, (double)v[j].bytes);
		}
		for (; o < n && v[o].row == i; o++) {
			/* each is at most INT64_MAX (fdinfo.c), their sum need not be: saturate */
			other = v[o].bytes > INT64_MAX - other ? INT64_MAX : other + v[o].bytes;
			any_other = true;
		}
		if (any_other) {
			process_header(p, &header);
			prom_put(p, "mipart_process_vram_bytes");
			row_labels_open(p, &s->rows[i]);
			prom_label(p, "process_id", "other", false);
			prom_label(p, "process_name", "", false);
			prom_put(p, "}");
			prom_value(p, (double)other);
		}
	}
	free(v);
}

static void prom_mipart(struct prom *pp, const mipart_monitor *s)
{
	struct prom p = *pp;
	size_t n_gpus = mipart_topology_gpu_count(s->topo);
	bool any_known = false, all_in = true;

	prom_family(&p, "mipart_gpu_info", "gauge",
		    "An AMD GPU workloads on this host can use (bound to amdgpu, with a KFD node); the labels give its modes, product and partition support.");
	for (size_t i = 0; i < n_gpus; i++) {
		const mipart_gpu_info *g = mipart_topology_gpu(s->topo, i);
		const mipart_gpu_reading *r = mipart_readings_gpu(s->readings, i);

		/* a GPU workloads on this host can use: not a GIM PF nor a VF for a VM */
		if (!mipart_gpu_usable(g))
			continue;
		prom_put(&p, "mipart_gpu_info");
		gpu_labels(&p, g, false);
		prom_label(&p, "product", g->product, false);
		prom_label(&p, "metrics", r && r->metrics[0] ? r->metrics : "", false);
		prom_put(&p, "}");
		prom_value(&p, 1);
	}
	for (size_t f = 0; f < ARRAY_SIZE(gpu_families); f++) {
		bool header = false;

		for (size_t i = 0; i < n_gpus; i++) {
			const mipart_gpu_info *g = mipart_topology_gpu(s->topo, i);
			double v = mipart_gpu_usable(g) ? gpu_value(s, g, gpu_families[f].f) : NAN;

			if (isnan(v))
				continue;
			if (!header)
				prom_family(&p, gpu_families[f].name, gpu_families[f].type,
					    gpu_families[f].help);
			header = true;
			prom_put(&p, "%s", gpu_families[f].name);
			gpu_labels(&p, g, true);
			prom_value(&p, v);
		}
	}
	for (size_t f = 0; f < ARRAY_SIZE(part_families); f++) {
		bool header = false;

		for (size_t i = 0; i < s->n_rows; i++) {
			double v = part_value(&s->rows[i], part_families[f].f);

			if (isnan(v))
				continue;
			if (!header)
				prom_family(&p, part_families[f].name, part_families[f].type,
					    part_families[f].help);
			header = true;
			prom_put(&p, "%s", part_families[f].name);
			row_labels(&p, &s->rows[i]);
			prom_value(&p, v);
		}
	}
	prom_processes(&p, s);
	for (size_t i = 0; i < n_gpus; i++) {
		bool known, in = mipart_monitor_gpu_in_sync(s, i, &known);

		any_known |= known;
		all_in &= in;
	}
	prom_family(&p, "mipart_config_in_sync", "gauge",
		    "1 when every GPU has the modes of the declared state (apply --persist), else of the "
		    "last change that finished; 0 when any drifted (NaN: nothing declared or recorded).");
	prom_put(&p, "mipart_config_in_sync");
	prom_value(&p, any_known ? (all_in ? 1 : 0) : NAN);
	prom_family(&p, "mipart_change_in_progress", "gauge",
		    "1 while a partition change runs, or one a crash interrupted waits for 'mipart recover'.");
	prom_put(&p, "mipart_change_in_progress");
	prom_value(&p, s->running ? 1 : 0);
	prom_family(&p, "mipart_allocations_orphaned", "gauge",
		    "Allocations of the ledger that book a partition the host does not have now "
		    "(`mipart allocations` lists them).");
	prom_put(&p, "mipart_allocations_orphaned");
	prom_value(&p, (double)s->n_orphaned);
	if (s->have_last) {
		double t = iso_seconds(s->last.finished_at);

		prom_family(&p, "mipart_last_change_success", "gauge",
			    "1 when the last partition change that finished ended 'done', 0 otherwise; "
			    "the state label says how it ended.");
		prom_put(&p, "mipart_last_change_success{");
		prom_label(&p, "state", s->last.state ? s->last.state : "", true);
		prom_put(&p, "}");
		prom_value(&p, s->last.state && !strcmp(s->last.state, "done") ? 1 : 0);
		if (t >= 0) {
			prom_family(&p, "mipart_last_change_timestamp_seconds", "gauge",
				    "When the last partition change finished (Unix time).");
			prom_put(&p, "mipart_last_change_timestamp_seconds");
			prom_value(&p, t);
		}
	}
	prom_family(&p, "mipart_collect_warnings", "gauge",
		    "Problems met while reading the host (files that did not parse, databases that "
		    "could not be read); /api/v1/status lists them.");
	prom_put(&p, "mipart_collect_warnings");
	prom_value(&p, (double)s->n_warn);
	prom_family(&p, "mipart_collect_duration_seconds", "gauge",
		    "Time the last reading of the host took.");
	prom_put(&p, "mipart_collect_duration_seconds");
	prom_value(&p, s->collect_seconds);
	*pp = p;
}

int mipart_monitor_prometheus(const mipart_monitor *s, unsigned series, char **ret_text,
			      size_t *ret_len)
{
	struct prom p = { .cap = 16384 };

	if (!series)
		series = MIPART_MONITOR_SERIES_MIPART;
	p.buf = malloc(p.cap);
	if (!p.buf)
		return -ENOMEM;
	if (series & MIPART_MONITOR_SERIES_MIPART)
		prom_mipart(&p, s);
	if (series & MIPART_MONITOR_SERIES_AMD)
		prom_amd(&p, s);
	if (p.err) {
		free(p.buf);
		return p.err;
	}
	*ret_text = p.buf;
	*ret_len = p.len;
	return 0;
}

/* ---- JSON ---- */

static const char *const mode_source_names[] = { "none", "sysfs", "inferred" };

static json_t *modes_json(mipart_mode_set set, bool compute)
{
	json_t *a = json_array();

	for (unsigned m = 0; m < 16 && a; m++)
		if (set & MIPART_MODE_BIT(m))
			json_array_append_new(a, json_string(compute ? mipart_compute_mode_name((mipart_compute_mode)m)
								     : mipart_memory_mode_name((mipart_memory_mode)m)));
	return a;
}

static json_t *partition_json(const mipart_partition_info *p)
{
	char uid[32];

	/* the partition's own KFD unique_id (per partition outside SPX, HARDWARE.md 8.1) */
	snprintf(uid, sizeof(uid), "0x%s", p->unique_id);
	return json_pack("{s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s?, s:s?}", "index",
			 (json_int_t)p->index, "gpu", (json_int_t)p->gpu, "xcp", util_json_int_or_null(p->xcp),
			 "render_minor", util_json_int_or_null(p->render_minor), "kfd_node",
			 util_json_int_or_null(p->kfd_node), "gpu_id", util_json_int_or_null(p->gpu_id), "num_xcc",
			 util_json_int_or_null(p->num_xcc), "compute_units", util_json_int_or_null(p->compute_units),
			 "memory_bytes", util_json_int_or_null(p->memory_bytes), "drm_device",
			 p->drm_device[0] ? p->drm_device : NULL, "unique_id",
			 p->unique_id[0] ? uid : NULL);
}

/* What a process's DRM fdinfo says about all of its clients (every GPU), or null */
static json_t *drm_json(const mipart_proc_info *p)
{
	if (!p->drm_clients)
		return json_null();
	return json_pack("{s:I, s:o, s:o, s:o, s:I}", "clients", (json_int_t)p->drm_clients,
			 "vram_bytes", util_json_int_or_null(p->vram_bytes), "evicted_vram_bytes",
			 util_json_int_or_null(p->evicted_vram_bytes), "gtt_bytes",
			 util_json_int_or_null(p->gtt_bytes), "engine_ns",
			 (json_int_t)(p->engine_ns > INT64_MAX ? INT64_MAX : p->engine_ns));
}

static json_t *procs_json(const mipart_topology *t, const mipart_procs *procs, unsigned gpu)
{
	json_t *a = json_array();

	for (size_t i = 0; procs && i < mipart_procs_count(procs); i++) {
		const mipart_proc_info *p = mipart_procs_get(procs, i);
		json_t *parts;

		if (gpu >= 64 || !((p->gpus >> gpu) & 1))
			continue;
		/* the partitions of this GPU it has a render node of, with their VRAM */
		parts = json_array();
		for (size_t k = 0; k < mipart_topology_partition_count(t); k++) {
			const mipart_partition_info *pt = mipart_topology_partition(t, k);

			if (pt->gpu == gpu && mipart_proc_uses_partition(p, k))
				json_array_append_new(parts,
						      json_pack("{s:o, s:o}", "partition",
								util_json_int_or_null(pt->xcp), "vram_bytes",
								util_json_int_or_null(p->partition_vram[k])));
		}
		json_array_append_new(a, json_pack("{s:i, s:o, s:o?, s:b, s:o, s:o, s:o}", "pid",
						   p->pid, "comm", util_json_string(p->comm),
						   "container",
						   p->container[0] ? util_json_string(p->container) : NULL,
						   "kfd", p->kfd, "vram_bytes",
						   util_json_int_or_null(mipart_proc_gpu_vram(p, t, gpu)),
						   "partitions", parts, "drm", drm_json(p)));
	}
	return a;
}

static json_t *gpu_json(const mipart_topology *t, const mipart_procs *procs,
			const mipart_gpu_info *g)
{
	char dev[16], gfx[48], hive[24], uid[32];
	json_t *o, *parts = json_array();

	snprintf(dev, sizeof(dev), "0x%04x", g->device_id < 0 ? 0 : (unsigned)g->device_id);
	/* gfx_target_version = major * 10000 + minor * 100 + stepping; the name prints minor and
	 * stepping in hex (90402 -> gfx942, 90010 -> gfx90a) */
	snprintf(gfx, sizeof(gfx), "gfx%lld%llx%llx", (long long)(g->gfx_target / 10000),
		 (unsigned long long)((g->gfx_target / 100) % 100),
		 (unsigned long long)(g->gfx_target % 100));
	snprintf(hive, sizeof(hive), "0x%016llx", (unsigned long long)g->hive_id);
	snprintf(uid, sizeof(uid), "0x%s", g->unique_id);
	for (size_t j = 0; j < g->n_partitions; j++)
		json_array_append_new(parts, partition_json(mipart_topology_gpu_partition(t, g, j)));
	o = json_pack("{s:I, s:s, s:s, s:s?, s:s?, s:o, s:s?, s:s?, s:b, s:b, s:o, s:o, s:o, s:o, s:o, s:s?, s:b, s:b, "
		      "s:s, s:o, s:o, s:o, s:o, s:o, s:b, s:o}",
		      "index", (json_int_t)g->index, "bdf", g->bdf, "product", g->product,
		      "device_id", g->device_id < 0 ? NULL : dev,
		      "gfx_target", g->gfx_target < 0 ? NULL : gfx,
		      "gfx_target_version", util_json_int_or_null(g->gfx_target),
		      "unique_id", g->unique_id[0] ? uid : NULL,
		      "hive_id", g->hive_id > 0 ? hive : NULL,
		      "partitioning_supported", g->partitioning,
		      "virtual_function", g->is_vf,
		      "compute_partition", util_json_mode(mipart_compute_mode_name(g->compute)),
		      "memory_partition", util_json_mode(mipart_memory_mode_name(g->memory)),
		      "available_compute_partitions", modes_json(g->compute_available, true),
		      "supported_compute_partitions", modes_json(g->compute_supported, true),
		      "available_memory_partitions", modes_json(g->memory_available, false),
		      "memory_alloc_mode", g->mem_alloc_all < 0 ? NULL : g->mem_alloc_all ? "ALL" : "CAPPING",
		      "compute_partition_writable", g->compute_writable,
		      "memory_partition_writable", g->memory_writable,
		      "mode_source", mode_source_names[g->mode_source],
		      "memory_bytes", util_json_int_or_null(g->memory_bytes),
		      "num_xcc", util_json_int_or_null(g->num_xcc),
		      "compute_units", util_json_int_or_null(g->compute_units),
		      "card_minor", util_json_int_or_null(g->card_minor),
		      "numa_node", util_json_int_or_null(g->numa_node),
		      "driver_bound", g->driver_bound,
		      "partitions", parts);
	if (o) {
		json_object_set_new(o, "processes", procs_json(t, procs, g->index));
		/* an NPS request the driver holds, applied at the next reload (the journal's) */
		json_object_set_new(o, "pending_memory_partition",
				    g->pending_memory != MIPART_MEMORY_UNKNOWN
					    ? json_string(mipart_memory_mode_name(g->pending_memory))
					    : json_null());
		json_object_set_new(o, "pending_change", g->pending_memory != MIPART_MEMORY_UNKNOWN
								  ? json_integer(g->pending_change)
								  : json_null());
	}
	return o;
}

json_t *monitor_topology_json(const mipart_topology *t, const mipart_procs *procs)
{
	json_t *gpus = json_array(), *warn = json_array();

	for (size_t i = 0; i < mipart_topology_gpu_count(t); i++)
		json_array_append_new(gpus, gpu_json(t, procs, mipart_topology_gpu(t, i)));
	for (size_t i = 0; i < mipart_topology_diag_count(t); i++)
		json_array_append_new(warn, json_string(mipart_topology_diag(t, i)));
	return json_pack("{s:o, s:o}", "gpus", gpus, "warnings", warn);
}


static json_t *gpu_reading_json(const mipart_monitor *s, size_t i)
{
	const mipart_gpu_reading *r = mipart_readings_gpu(s->readings, i);
	bool known, in = mipart_monitor_gpu_in_sync(s, i, &known);

	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s?, s:o}", "power_w",
			 util_json_int_or_null(r->power_w), "temperature_hotspot_c",
			 util_json_int_or_null(r->temp_hotspot_c), "temperature_memory_c",
			 util_json_int_or_null(r->temp_mem_c), "gfx_activity_percent",
			 util_json_int_or_null(r->gfx_activity_pct), "memory_activity_percent",
			 util_json_int_or_null(r->umc_activity_pct), "gfx_clock_mhz", util_json_int_or_null(r->gfxclk_mhz),
			 "memory_clock_mhz", util_json_int_or_null(r->uclk_mhz), "vram_used_bytes",
			 util_json_int_or_null(r->vram_used_bytes), "vram_total_bytes",
			 util_json_int_or_null(r->vram_total_bytes), "metrics",
			 r->metrics[0] ? r->metrics : NULL, "config_in_sync",
			 known ? json_boolean(in) : json_null());
}

json_t *monitor_row_json(const mipart_monitor_row *r)
{
	const mipart_partition_reading *pr = r->reading;
	json_t *pids = json_array();

	for (size_t k = 0; k < r->n_pids && k < MIPART_MONITOR_ROW_PIDS; k++)
		json_array_append_new(pids, json_pack("{s:i, s:o, s:o}", "pid", r->pids[k]->pid, "comm",
						      util_json_string(r->pids[k]->comm), "vram_bytes",
						      util_json_int_or_null(r->pid_vram[k])));
	return json_pack("{s:I, s:I, s:i, s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:I, s:I, s:o, "
			 "s:o, s:o}",
			 "index", (json_int_t)r->part->index, "gpu", (json_int_t)r->gpu->index,
			 "partition", r->part->xcp, "bdf", r->gpu->bdf, "compute_partition",
			 mipart_compute_mode_name(r->gpu->compute), "memory_partition",
			 mipart_memory_mode_name(r->gpu->memory), "busy_percent",
			 util_json_int_or_null(pr ? pr->busy_pct : -1), "busy_source",
			 mipart_busy_source_name(pr ? pr->busy_source : MIPART_BUSY_NONE),
			 "gfx_clock_mhz", util_json_int_or_null(pr ? pr->gfxclk_mhz : -1), "vram_used_bytes",
			 util_json_int_or_null(pr ? pr->vram_used_bytes : -1), "vram_total_bytes",
			 util_json_int_or_null(r->part->memory_bytes), "vram_booked_bytes",
			 (json_int_t)r->booked_bytes, "processes", (json_int_t)r->n_pids,
			 "process_list", pids, "models", util_json_string(r->models), "allocations",
			 util_json_string(r->allocations));
}

json_t *monitor_status_json(const mipart_monitor *s)
{
	json_t *root = monitor_topology_json(s->topo, s->procs), *gpus, *warn, *allocs = json_array();
	json_t *last = json_null();
	bool any_known = false, all_in = true;

	if (!root || !allocs)
		goto fail;
	gpus = json_object_get(root, "gpus");
	if (json_array_size(gpus) != mipart_topology_gpu_count(s->topo))
		goto fail; /* a GPU object could not be made: readings would land on the wrong one */
	for (size_t i = 0; i < json_array_size(gpus); i++) {
		json_t *g = json_array_get(gpus, i), *parts = json_object_get(g, "partitions");
		const mipart_gpu_info *gi = mipart_topology_gpu(s->topo, i);
		bool known, in = mipart_monitor_gpu_in_sync(s, i, &known);

		any_known |= known;
		all_in &= in;
		json_object_set_new(g, "readings", gpu_reading_json(s, i));
		if (known && s->desired[i].known)
			json_object_set_new(g, "declared",
					    json_pack("{s:s, s:s, s:I, s:s}", "compute_partition",
						      mipart_compute_mode_name(s->desired[i].compute),
						      "memory_partition",
						      mipart_memory_mode_name(s->desired[i].memory),
						      "change", (json_int_t)s->desired[i].change,
						      "source", s->desired[i].declared ? "declared" : "journal"));
		for (size_t j = 0; json_array_size(parts) == gi->n_partitions && j < gi->n_partitions;
		     j++) {
			const mipart_partition_info *p = mipart_topology_gpu_partition(s->topo, gi, j);

			size_t slot = p ? (size_t)(p - mipart_topology_partition(s->topo, 0)) : SIZE_MAX;

			if (slot < s->n_rows)
				json_object_set_new(json_array_get(parts, j), "readings",
						    monitor_row_json(&s->rows[slot]));
		}
	}
	warn = json_object_get(root, "warnings");
	json_array_clear(warn);
	for (size_t i = 0; i < s->n_warn; i++)
		json_array_append_new(warn, json_string(s->warn[i]));
	for (size_t a = 0; a < s->n_allocs; a++) {
		const mipart_allocation *al = &s->allocs[a];
		json_t *b = json_array();

		for (size_t k = 0; k < al->n_bookings; k++)
			json_array_append_new(b, json_pack("{s:s, s:I, s:I}", "bdf", al->bookings[k].bdf,
							   "partition", (json_int_t)al->bookings[k].xcp,
							   "bytes", (json_int_t)al->bookings[k].bytes));
		json_array_append_new(allocs, json_pack("{s:I, s:o, s:o, s:s, s:o, s:b}", "id",
							(json_int_t)al->id, "name",
							util_json_string(al->name), "model",
							util_json_string(al->model), "created_at",
							al->created_at, "bookings", b, "orphaned",
							s->orphaned && s->orphaned[a]));
	}
	if (s->have_last)
		last = json_pack("{s:I, s:s?, s:s?, s:o, s:o}", "id", (json_int_t)s->last.id, "state",
				 s->last.state, "finished_at", s->last.finished_at, "command",
				 s->last.command ? util_json_string(s->last.command) : json_null(),
				 "message",
				 s->last.message ? util_json_string(s->last.message) : json_null());
	json_object_set_new(root, "allocations", allocs);
	json_object_set_new(root, "config_in_sync", any_known ? json_boolean(all_in) : json_null());
	json_object_set_new(root, "change_in_progress", json_boolean(s->running));
	json_object_set_new(root, "allocations_orphaned", json_integer((json_int_t)s->n_orphaned));
	json_object_set_new(root, "last_change", last ? last : json_null());
	json_object_set_new(root, "collected_at", json_real(s->collected_at));
	return root;
fail:
	json_decref(root);
	json_decref(allocs);
	return NULL;
}

/* ---- the public API's text forms ---- */

static int dump(json_t *o, char **ret_text, size_t *ret_len)
{
	char *text;

	if (!o)
		return -ENOMEM;
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!text)
		return -ENOMEM;
	if (ret_len)
		*ret_len = strlen(text);
	*ret_text = text;
	return 0;
}

int mipart_monitor_status_json(const mipart_monitor *s, char **ret_text, size_t *ret_len)
{
	return dump(monitor_status_json(s), ret_text, ret_len);
}

int mipart_monitor_row_json(const mipart_monitor *s, size_t i, char **ret_text)
{
	const mipart_monitor_row *r = mipart_monitor_row_get(s, i);

	if (!r)
		return -ENOENT;
	return dump(monitor_row_json(r), ret_text, NULL);
}
