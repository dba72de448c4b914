// SPDX-License-Identifier: MIT
/*
 * collect ROOT N: the cost of one uncached collection of `mipart serve` (bench/serve.sh): N
 * times mipart_monitor_collect() on the host under ROOT and the renderings of it (the
 * exposition with both series sets, the status JSON, the status page), in one process as serve
 * does them. Prints the median and the p90 of the N times in microseconds: with every rendering
 * (what serve did for each collection until it rendered the JSON and the page only when asked
 * for), of the collection alone, and of the collection and the exposition (what an uncached
 * /metrics scrape costs now): "collect+render MEDIAN P90 collect MEDIAN P90 metrics MEDIAN P90".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mipart/host.h"
#include "mipart/monitor.h"
#include "util.h"
#include "banned.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	mipart_host *host = NULL;
	uint64_t n = 0;
	double *all, *col, *met;

	if (argc != 3 || util_parse_u64(argv[2], strlen(argv[2]), &n) < 0 || n < 1 || n > 100000) {
		fprintf(stderr, "usage: collect ROOT N (1 to 100000)\n");
		return 2;
	}
	if (mipart_host_new(argv[1], &host) < 0) {
		fprintf(stderr, "collect: cannot use '%s'\n", argv[1]);
		return 1;
	}
	all = calloc(n, sizeof(*all));
	col = calloc(n, sizeof(*col));
	met = calloc(n, sizeof(*met));
	if (!all || !col || !met)
		return 1;
	for (uint64_t i = 0; i < n; i++) {
		mipart_monitor *m = NULL;
		char *text = NULL, *json = NULL, *html = NULL;
		size_t len;
		double t0 = now_us(), t1, t2;

		if (mipart_monitor_collect(host, &m) < 0) {
			fprintf(stderr, "collect: cannot collect '%s'\n", argv[1]);
			return 1;
		}
		t1 = now_us();
		if (mipart_monitor_prometheus(m, MIPART_MONITOR_SERIES_MIPART | MIPART_MONITOR_SERIES_AMD,
					      &text, &len) < 0)
			return 1;
		t2 = now_us();
		if (mipart_monitor_status_json(m, &json, &len) < 0 ||
		    mipart_monitor_html(m, &html, &len) < 0)
			return 1;
		all[i] = now_us() - t0;
		col[i] = t1 - t0;
		met[i] = t2 - t0;
		free(text);
		free(json);
		free(html);
		mipart_monitor_free(m);
	}
	qsort(all, n, sizeof(*all), cmp);
	qsort(col, n, sizeof(*col), cmp);
	qsort(met, n, sizeof(*met), cmp);
	printf("collect+render %.0f %.0f collect %.0f %.0f metrics %.0f %.0f\n", all[n / 2],
	       all[n * 9 / 10], col[n / 2], col[n * 9 / 10], met[n / 2], met[n * 9 / 10]);
	free(all);
	free(col);
	free(met);
	mipart_host_free(host);
	return 0;
}
