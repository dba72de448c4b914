// SPDX-License-Identifier: MIT
/*
 * A main() for the libFuzzer harnesses when the compiler has no libFuzzer (gcc): runs
 * LLVMFuzzerTestOneInput once on each file named on the command line, and on each file of each
 * directory named, so the seed corpora replay as a regression test in any build. Exits 1 if a
 * file cannot be read; a harness that finds a problem aborts.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "banned.h"

#define STANDALONE_MAX_INPUT (1 << 20)

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (!f) {
		fprintf(stderr, "cannot open '%s'\n", path);
		return -1;
	}
	buf = malloc(STANDALONE_MAX_INPUT);
	if (!buf) {
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, STANDALONE_MAX_INPUT, f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned runs = 0;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		DIR *d;

		if (stat(argv[i], &st) < 0 || !S_ISDIR(st.st_mode)) {
			rc |= run_file(argv[i]) < 0;
			runs++;
			continue;
		}
		d = opendir(argv[i]);
		if (!d) {
			rc = 1;
			continue;
		}
		for (struct dirent *de; (de = readdir(d));) {
			char path[4096];

			if (de->d_name[0] == '.')
				continue;
			if ((size_t)snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name) >=
			    sizeof(path))
				continue;
			rc |= run_file(path) < 0;
			runs++;
		}
		closedir(d);
	}
	printf("%u inputs run\n", runs);
	return rc;
}
