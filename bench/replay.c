// SPDX-License-Identifier: MIT
/*
 * replay LIST N: the floor of a collection (bench/serve.sh). LIST names what one collection of
 * `mipart serve` read, in its order, one per line as strace saw it: "f PATH" (a file: open,
 * read to the end, close), "d PATH" (a directory: open, read every entry, close), "l PATH" (a
 * link: readlink). replay does exactly that N times in one process, with nothing else: no
 * parsing, no database library, no rendering. Prints the median and p90 of the N times in
 * microseconds: "replay MEDIAN P90 FILES".
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "banned.h"

#define MAX_ITEMS 65536

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
	static char *items[MAX_ITEMS];
	static char buf[1 << 16];
	size_t n_items = 0;
	uint64_t n = 0;
	double *t;
	FILE *f;
	char line[4200];

	if (argc != 3 || util_parse_u64(argv[2], strlen(argv[2]), &n) < 0 || n < 1 || n > 100000) {
		fprintf(stderr, "usage: replay LIST N (1 to 100000)\n");
		return 2;
	}
	f = fopen(argv[1], "r");
	if (!f)
		return 1;
	while (n_items < MAX_ITEMS && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strlen(line) > 2 && (line[0] == 'f' || line[0] == 'd' || line[0] == 'l') &&
		    line[1] == ' ')
			items[n_items++] = strdup(line);
	}
	fclose(f);
	t = calloc(n, sizeof(*t));
	if (!t)
		return 1;
	for (uint64_t i = 0; i < n; i++) {
		double t0 = now_us();

		for (size_t k = 0; k < n_items; k++) {
			const char *path = items[k] + 2;

			if (items[k][0] == 'f') {
				int fd = open(path, O_RDONLY | O_CLOEXEC);

				if (fd >= 0) {
					while (read(fd, buf, sizeof(buf)) > 0)
						;
					close(fd);
				}
			} else if (items[k][0] == 'd') {
				DIR *d = opendir(path);

				if (d) {
					while (readdir(d))
						;
					closedir(d);
				}
			} else {
				(void)!readlink(path, buf, sizeof(buf));
			}
		}
		t[i] = now_us() - t0;
	}
	qsort(t, n, sizeof(*t), cmp);
	printf("replay %.0f %.0f %zu\n", t[n / 2], t[n * 9 / 10], n_items);
	free(t);
	return 0;
}
