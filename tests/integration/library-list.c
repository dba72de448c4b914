// SPDX-License-Identifier: MIT
/*
 * A program outside the tree that uses the installed libmipart: built by t-library.sh with
 * `cc library-list.c $(pkg-config --cflags --libs mipart)` against a `meson install --destdir`
 * tree. It lists the GPUs and partitions of the host under argv[1] (a simulated host), one line
 * each, and fails the way the API says (-errno, mipart_strerror).
 */
#include <stdio.h>

#include <mipart/error.h>
#include <mipart/host.h>
#include <mipart/mode.h>
#include <mipart/topology.h>

int main(int argc, char **argv)
{
	mipart_host *host = NULL;
	mipart_topology *t = NULL;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: library-list ROOT\n");
		return 2;
	}
	r = mipart_host_new(argv[1], &host);
	if (r >= 0)
		r = mipart_topology_load(host, &t);
	if (r < 0) {
		fprintf(stderr, "error: cannot read '%s': %s\n", argv[1], mipart_strerror(r));
		mipart_host_free(host);
		return 1;
	}
	for (size_t g = 0; g < mipart_topology_gpu_count(t); g++) {
		const mipart_gpu_info *gi = mipart_topology_gpu(t, g);

		printf("gpu %u %s %s %s %s %zu\n", gi->index, gi->bdf, gi->product,
		       mipart_compute_mode_name(gi->compute), mipart_memory_mode_name(gi->memory),
		       gi->n_partitions);
		for (size_t j = 0; j < gi->n_partitions; j++) {
			const mipart_partition_info *p = mipart_topology_gpu_partition(t, gi, j);

			printf("partition %u %u.%d %lld\n", p->index, p->gpu, p->xcp,
			       (long long)p->memory_bytes);
		}
	}
	mipart_topology_free(t);
	mipart_host_free(host);
	return 0;
}
