// SPDX-License-Identifier: MIT
/*
 * The status page (mipart_monitor_html): one self-contained HTML document of the snapshot, what
 * `mipart serve` answers on GET /. Each GPU with its modes and whether they are the declared
 * ones; each partition a tile (data-partition="G.X") with busy %, VRAM used/booked/total, models
 * and processes; the last change; a banner while a change runs or after one failed; the
 * warnings. Everything a process or a user named (process names, models, allocation names,
 * commands, messages) is shown with control characters as '?' (util_show) and HTML-escaped. No
 * external assets; a short script refreshes the figures from /api/v1/status with textContent
 * (never markup), marks <html data-refreshed="1"> when it did, and reloads the page when the
 * partitions changed. Without JavaScript the page
 * is complete as served. See docs/serve.md.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mipart/journal.h"
#include "mipart/monitor.h"
#include "monitor.h"
#include "util.h"
#include "banned.h"

#define PAGE_MAX (4u << 20) /* cap of the document */

struct page {
	char *buf;
	size_t len, cap;
	int err;
};

static void put(struct page *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct page *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	util_vappendf(&p->buf, &p->len, &p->cap, PAGE_MAX, &p->err, fmt, ap);
	va_end(ap);
}

/* Text a person reads: control characters and bytes that are not UTF-8 as '?', at most max
 * bytes, then & < > " ' as entities (safe in text and in quoted attributes). */
static void text(struct page *p, const char *s, size_t max)
{
	char shown[1024];

	util_show(s ? s : "", s ? strlen(s) : 0, max < sizeof(shown) - 8 ? max : sizeof(shown) - 8,
		  shown, sizeof(shown));
	char esc[6 * sizeof(shown)];
	size_t o = 0;

	for (const char *c = shown; *c; c++) { /* one put per text, not per byte */
		const char *e = *c == '&' ? "&amp;" : *c == '<' ? "&lt;" : *c == '>' ? "&gt;" :
				*c == '"' ? "&quot;" : *c == '\'' ? "&#39;" : NULL;

		if (e) {
			memcpy(esc + o, e, strlen(e));
			o += strlen(e);
		} else {
			esc[o++] = *c;
		}
	}
	esc[o] = '\0';
	put(p, "%s", esc);
}

static void gib(struct page *p, long long bytes)
{
	if (bytes < 0)
		put(p, "-");
	else
		put(p, "%.2f", (double)bytes / (double)(1ull << 30));
}

static const char STYLE[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:1em 2em;color:#111;background:#fafafa}"
	"h1{font-size:1.4em;margin:.2em 0}h2{font-size:1.1em;margin:1.2em 0 .4em}"
	".banner{padding:.6em 1em;margin:.6em 0;border-radius:4px;font-weight:600}"
	".banner.run{background:#fff3cd;border:1px solid #e0b000}"
	".banner.fail{background:#f8d7da;border:1px solid #c00}"
	".sync{padding:0 .4em;border-radius:3px;font-size:.9em}"
	".sync.yes{background:#d4edda}.sync.no{background:#f8d7da}.sync.unknown{background:#eee}"
	".tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(13em,1fr));gap:.6em}"
	".tile{background:#fff;border:1px solid #ccc;border-radius:4px;padding:.5em .7em}"
	".tile h3{margin:0 0 .3em;font-size:1em}.tile .idx{color:#666;font-weight:400}"
	".bar{height:.5em;background:#eee;border-radius:2px;overflow:hidden;margin:.2em 0}"
	".bar span{display:block;height:100%;background:#2a7ae2}"
	".k{color:#555}.procs,.models{word-break:break-all}.meta{color:#555}"
	"table{border-collapse:collapse}td,th{padding:.1em .6em;text-align:left}";

/* Refreshes the figures of the tiles and GPUs in place from /api/v1/status (textContent only);
 * a different set of partitions (a layout change) reloads the page. */
static const char SCRIPT[] =
	"(function(){'use strict';"
	"function gib(b){return b==null?'-':(b/1073741824).toFixed(2);}"
	"function set(el,sel,t){var e=el.querySelector(sel);if(e)e.textContent=t;}"
	"function tick(){fetch('/api/v1/status',{cache:'no-store'}).then(function(r){"
	"if(!r.ok)throw new Error(r.status);return r.json();}).then(function(s){"
	"var seen=0,tiles=document.querySelectorAll('[data-partition]');"
	"(s.gpus||[]).forEach(function(g){(g.partitions||[]).forEach(function(p){"
	"var r=p.readings||{},el=document.querySelector('[data-partition=\"'+g.index+'.'+p.xcp+'\"]');"
	"if(!el)return;seen++;"
	"set(el,'.busy',r.busy_percent==null?'-':r.busy_percent+' %');"
	"var b=el.querySelector('.bar span');if(b)b.style.width=(r.busy_percent||0)+'%';"
	"set(el,'.used',gib(r.vram_used_bytes));set(el,'.booked',gib(r.vram_booked_bytes));"
	"set(el,'.total',gib(r.vram_total_bytes));set(el,'.models',r.models||'-');"
	"set(el,'.procs',(r.process_list||[]).map(function(x){return x.comm+':'+x.pid;}).join(' ')||'-');"
	"});});"
	"if(seen!==tiles.length){location.reload();return;}"
	"var bn=document.getElementById('running');if(bn)bn.hidden=!s.change_in_progress;"
	"set(document,'#collected',new Date(s.collected_at*1000).toISOString().replace(/\\.\\d+Z$/,'Z'));"
	"document.documentElement.dataset.refreshed='1';"
	"}).catch(function(){set(document,'#collected','(cannot reach the server)');});}"
	"tick();setInterval(tick,5000);})();";

static void gpu_section(struct page *p, const mipart_monitor *m, size_t gi)
{
	const mipart_topology *t = mipart_monitor_topology(m);
	const mipart_gpu_info *g = mipart_topology_gpu(t, gi);
	const mipart_gpu_reading *r = mipart_readings_gpu(mipart_monitor_readings(m), gi);
	mipart_compute_mode dc;
	mipart_memory_mode dm;
	bool known, in = mipart_monitor_gpu_in_sync(m, gi, &known);

	put(p, "<section class=\"gpu\" data-gpu=\"%zu\"><h2>GPU %zu · ", gi, gi);
	text(p, g->bdf, 32);
	put(p, " · ");
	text(p, g->product ? g->product : "unknown", 32);
	put(p, " · <span class=\"modes\">%s / %s</span> ", mipart_compute_mode_name(g->compute),
	    mipart_memory_mode_name(g->memory));
	if (!known)
		put(p, "<span class=\"sync unknown\">no change recorded</span>");
	else if (in)
		put(p, "<span class=\"sync yes\">in sync</span>");
	else if (monitor_declared(m, gi, &dc, &dm))
		put(p, "<span class=\"sync no\">DRIFTED: declared %s / %s</span>",
		    mipart_compute_mode_name(dc), mipart_memory_mode_name(dm));
	else
		put(p, "<span class=\"sync no\">DRIFTED</span>");
	put(p, "</h2><p class=\"meta\">");
	if (r && r->power_w >= 0)
		put(p, "%d W · ", r->power_w);
	if (r && r->temp_hotspot_c >= 0)
		put(p, "hotspot %d °C · ", r->temp_hotspot_c);
	put(p, "VRAM used ");
	gib(p, r ? r->vram_used_bytes : -1);
	put(p, " of ");
	gib(p, r ? r->vram_total_bytes : -1);
	put(p, " GiB · %zu partitions</p><div class=\"tiles\">", g->n_partitions);
	for (size_t i = 0; i < mipart_monitor_row_count(m); i++) {
		const mipart_monitor_row *row = mipart_monitor_row_get(m, i);
		const mipart_partition_reading *pr = row->reading;
		int busy = pr ? pr->busy_pct : -1;

		if (row->gpu != g)
			continue;
		put(p, "<div class=\"tile\" data-partition=\"%u.%d\"><h3>%u.%d <span class=\"idx\">"
		       "logical %u</span></h3>",
		    g->index, row->part->xcp, g->index, row->part->xcp, row->part->index);
		put(p, "<div><span class=\"k\">busy</span> <span class=\"busy\">");
		if (busy < 0)
			put(p, "-");
		else
			put(p, "%d %%", busy);
		put(p, "</span></div><div class=\"bar\"><span style=\"width:%d%%\"></span></div>",
		    busy < 0 ? 0 : busy > 100 ? 100 : busy);
		put(p, "<div><span class=\"k\">VRAM GiB</span> <span class=\"used\">");
		gib(p, pr ? pr->vram_used_bytes : -1);
		put(p, "</span> used · <span class=\"booked\">");
		gib(p, row->booked_bytes);
		put(p, "</span> booked · <span class=\"total\">");
		gib(p, row->part->memory_bytes);
		put(p, "</span> total</div><div><span class=\"k\">model</span> <span class=\"models\">");
		text(p, row->models[0] ? row->models : "-", sizeof(row->models));
		put(p, "</span></div><div><span class=\"k\">processes</span> <span class=\"procs\">");
		for (size_t k = 0; k < row->n_pids && k < MIPART_MONITOR_ROW_PIDS; k++) {
			put(p, "%s", k ? " " : "");
			text(p, row->pids[k]->comm, sizeof(row->pids[k]->comm));
			put(p, ":%d", row->pids[k]->pid);
		}
		if (row->n_pids > MIPART_MONITOR_ROW_PIDS)
			put(p, " +%zu", row->n_pids - MIPART_MONITOR_ROW_PIDS);
		if (!row->n_pids)
			put(p, "-");
		put(p, "</span></div></div>");
	}
	put(p, "</div></section>");
}

int mipart_monitor_html(const mipart_monitor *m, char **ret_text, size_t *ret_len)
{
	struct page p = { .cap = 65536 };
	const mipart_topology *t = mipart_monitor_topology(m);
	const mipart_journal_entry *last = monitor_last_change(m);
	bool failed = last && last->state && strcmp(last->state, "done");
	char when[32];
	time_t at = (time_t)mipart_monitor_collected_at(m);
	struct tm tm;

	p.buf = malloc(p.cap);
	if (!p.buf)
		return -ENOMEM;
	if (gmtime_r(&at, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	else
		util_strlcpy(when, "?", sizeof(when));
	put(&p, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<meta name=\"viewport\" content=\"width=device-width\">"
		"<title>mipart · ");
	text(&p, monitor_hostname(m), 64);
	put(&p, "</title><style>%s</style></head><body>\n<h1>mipart · ", STYLE);
	text(&p, monitor_hostname(m), 64);
	put(&p, "</h1><p class=\"meta\">%zu GPUs, %zu partitions · read at <span id=\"collected\">%s"
		"</span> · <a href=\"/metrics\">/metrics</a> · <a href=\"/api/v1/status\">"
		"/api/v1/status</a></p>\n",
	    mipart_topology_gpu_count(t), mipart_monitor_row_count(m), when);
	put(&p, "<div id=\"running\" class=\"banner run\" role=\"alert\"%s>A partition change is in "
		"progress, or one was interrupted: <code>mipart status</code> shows it, "
		"<code>mipart recover</code> finishes an interrupted one.</div>\n",
	    mipart_monitor_change_in_progress(m) ? "" : " hidden");
	if (failed) {
		put(&p, "<div id=\"failed\" class=\"banner fail\" role=\"alert\">The last partition "
			"change (#%lld) ended <b>", (long long)last->id);
		text(&p, last->state, 32);
		put(&p, "</b>");
		if (last->message) {
			put(&p, ": ");
			text(&p, last->message, 300);
		}
		put(&p, ". <code>mipart history</code> shows it.</div>\n");
	}
	if (mipart_monitor_allocations_orphaned(m))
		put(&p, "<div id=\"orphaned\" class=\"banner fail\" role=\"alert\">%zu allocations "
			"book partitions the host no longer has: <code>mipart allocations</code>."
			"</div>\n",
		    mipart_monitor_allocations_orphaned(m));
	put(&p, "<main>");
	for (size_t i = 0; i < mipart_topology_gpu_count(t); i++)
		gpu_section(&p, m, i);
	put(&p, "</main>\n<h2>Last change</h2><p id=\"last-change\">");
	if (!last) {
		put(&p, "none recorded");
	} else {
		put(&p, "#%lld ", (long long)last->id);
		text(&p, last->state ? last->state : "?", 32);
		put(&p, " at ");
		text(&p, last->finished_at ? last->finished_at : "?", 32);
		put(&p, ": <code>");
		text(&p, last->command ? last->command : "", 300);
		put(&p, "</code>");
	}
	put(&p, "</p>\n");
	if (mipart_monitor_warning_count(m)) {
		put(&p, "<h2>Warnings</h2><ul id=\"warnings\">");
		for (size_t i = 0; i < mipart_monitor_warning_count(m); i++) {
			put(&p, "<li>");
			text(&p, mipart_monitor_warning(m, i), 300);
			put(&p, "</li>");
		}
		put(&p, "</ul>\n");
	}
	put(&p, "<script>%s</script>\n</body></html>\n", SCRIPT);
	if (p.err) {
		free(p.buf);
		return p.err;
	}
	*ret_text = p.buf;
	*ret_len = p.len;
	return 0;
}
