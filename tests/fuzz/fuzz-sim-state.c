// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the simulator's state file (mipart-sim.json, sim-state.c:
 * sim_state_load). Each input is written as the state file of a scratch directory and loaded.
 * A refused file leaves the output untouched; an accepted one holds only what the simulator
 * can render (GPU, process and fault counts within their caps, KFD order within the GPUs,
 * terminated names), and saves and loads back to the same state.
 *
 *   make fuzz        (clang, build-fuzz/, FUZZ_SECONDS per harness)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "util.h"
#include "fuzz.h"
#include "banned.h"

static char dir[256], dir2[300];
static struct sim_state *a, *b;

static void cleanup(void)
{
	if (dir[0])
		util_rm_rf(dir);
	free(a);
	free(b);
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/mipart-fuzz-sim.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	CHECK(mkdtemp(dir));
	atexit(cleanup);
	snprintf(dir2, sizeof(dir2), "%s/again", dir);
	CHECK(util_mkdir_p(dir2) == 0);
	a = malloc(sizeof(*a));
	b = malloc(sizeof(*b));
	CHECK(a && b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[512];
	int r;

	if (!dir[0])
		setup();
	snprintf(path, sizeof(path), "%s/" SIM_STATE_FILE, dir);
	CHECK(util_write_file(path, (const char *)data, size, 0644) == 0);
	memset(a, 0x5a, sizeof(*a));
	r = sim_state_load(dir, a);
	if (r < 0) {
		CHECK(r == -EBADMSG || r == -EFBIG || r == -ENOMEM);
		CHECK(((unsigned char *)a)[0] == 0x5a);
		return 0;
	}
	CHECK(r == 0 && a->product);
	CHECK(a->n_gpus <= SIM_MAX_GPUS && a->n_procs <= SIM_MAX_PROCS &&
	      a->n_faults <= SIM_MAX_FAULTS);
	for (unsigned i = 0; i < a->n_gpus; i++)
		CHECK(a->kfd_order[i] < a->n_gpus && strlen(a->gpu[i].bdf) == 12);
	for (unsigned i = 0; i < a->n_procs; i++)
		CHECK(memchr(a->proc[i].comm, '\0', sizeof(a->proc[i].comm)) &&
		      memchr(a->proc[i].container, '\0', sizeof(a->proc[i].container)) &&
		      !strchr(a->proc[i].comm, '/'));
	/* what was accepted saves, and loads back the same */
	CHECK(sim_state_save(dir2, a) == 0);
	memset(b, 0, sizeof(*b));
	sim_state_forget(); /* parse what was saved, not the copy the save kept */
	CHECK(sim_state_load(dir2, b) == 0);
	CHECK(!memcmp(a, b, sizeof(*a)));
	return 0;
}
