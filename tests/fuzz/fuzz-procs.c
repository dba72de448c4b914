// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for what the process scan reads from /proc/PID (procs.c): comm
 * (procs_parse_comm: any process sets its own name) and cgroup (mipart_procs_container_id:
 * the container a process runs in). The input is split at its first NUL: before it the comm
 * file, after it the cgroup file (all of it is each when there is none). The name kept is the
 * comm line's start, terminated; the container id is a piece of the cgroup text, without '/',
 * '.' or newline, terminated. (/proc/PID/fdinfo of render-node fds: fuzz-fdinfo.c.)
 *
 *   make fuzz        (clang, build-fuzz/, FUZZ_SECONDS per harness)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mipart/procs.h"
#include "discover.h"
#include "fuzz.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *nul = memchr(s, '\0', size);
	size_t comm_len = nul ? (size_t)(nul - s) : size;
	const char *cg = nul ? nul + 1 : s;
	size_t cg_len = nul ? size - comm_len - 1 : size;
	char comm[16], id[72], small[4];
	size_t n;

	n = procs_parse_comm(s, comm_len, comm, sizeof(comm));
	CHECK(n < sizeof(comm) && strlen(comm) == n);
	CHECK(n == 0 || !memcmp(comm, s, n));
	CHECK(!strchr(comm, '\n'));
	n = procs_parse_comm(s, comm_len, small, sizeof(small));
	CHECK(n < sizeof(small) && strlen(small) == n);

	n = mipart_procs_container_id(cg, cg_len, id, sizeof(id));
	CHECK(n < sizeof(id) && strlen(id) == n);
	if (n) {
		CHECK(!strpbrk(id, "/.\n"));
		CHECK(memmem(cg, cg_len, id, n) != NULL);
	}
	n = mipart_procs_container_id(cg, cg_len, small, sizeof(small));
	CHECK(n < sizeof(small) && strlen(small) == n);
	return 0;
}
