// SPDX-License-Identifier: MIT
/*
 * floor ROOT: the lower bound for the filesystem work of `mipart list --json`: discovery
 * (src/lib/discover/discover.c: mipart_topology_load) and the process scan (src/lib/discover/procs.c:
 * mipart_procs_scan, with the DRM fdinfo of render-node fds). It lists and reads the same
 * directories, files and links under ROOT in the simplest way: one read() per file, no
 * diagnostics, no topology, no output document. It parses only what it needs to know what to
 * read next (vendor and class of a PCI device; gpu_id, mem_banks_count and drm_render_minor of a
 * KFD node; where a process's fds point) and prints one number: how many files and links it
 * read. bench/run.sh times it next to `mipart list --json`
 * and checks with strace that both read the same files and links (bench/README.md).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banned.h"

#define ATTR_MAX 4096

static unsigned long files;
static long minors[256]; /* render minors of the GPU nodes, for the process scan */
static size_t n_minors;

/*
 * One read() of up to ATTR_MAX bytes. A sysfs attribute is at most a page and is returned whole
 * by the first read (fs/sysfs/file.c: sysfs_kf_seq_show), so a short read is the end of it.
 * Returns the length, or -1 when the file cannot be opened or read. With ret_st, also stat the
 * open file (discovery stats current_*_partition to learn whether it is writable).
 */
static ssize_t slurp(int dirfd, const char *name, char *buf, struct stat *ret_st)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	files++;
	if (fd < 0)
		return -1;
	n = read(fd, buf, ATTR_MAX);
	if (n >= 0 && ret_st && fstat(fd, ret_st) < 0)
		n = -1;
	close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return n;
}

/* readdir() every entry of dirfd/name, as discovery does; -1 when it cannot be opened. */
static int list_dir(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);

	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (readdir(d))
		;
	closedir(d);
	return 0;
}

/* The value of "key <number>" in a KFD properties file, or -1. */
static long prop(const char *buf, const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, klen) && p[klen] == ' ')
			return strtol(p + klen + 1, NULL, 10);
	return -1;
}

/* /sys/bus/pci/devices: every device's vendor and class; the rest for AMD GPUs only. */
static void scan_pci(const char *root)
{
	static const char *const attrs[] = { "device", "numa_node", "mem_info_vram_total" };
	static const char *const modes[] = {
		"current_compute_partition", "available_compute_partition",
		"compute_partition_config/supported_xcp_configs", "current_memory_partition",
		"available_memory_partition",
	};
	char path[4096], buf[ATTR_MAX + 1], link[256];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices", root);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		unsigned long class;
		struct stat st;
		int fd;

		if (strlen(de->d_name) != 12)
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (slurp(fd, "vendor", buf, NULL) < 0 || strtoul(buf, NULL, 16) != 0x1002 ||
		    slurp(fd, "class", buf, NULL) < 0 ||
		    ((class = strtoul(buf, NULL, 16) >> 16) != 0x03 && class != 0x12)) {
			close(fd);
			continue;
		}
		for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
			slurp(fd, attrs[i], buf, NULL);
		files++;
		if (readlinkat(fd, "driver", link, sizeof(link)) < 0)
			link[0] = '\0';
		list_dir(fd, "drm");
		for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
			slurp(fd, modes[i], buf, i == 0 || i == 3 ? &st : NULL);
		close(fd);
	}
	closedir(d);
}

/* The KFD topology: every node's gpu_id; properties and memory banks of GPU nodes; the
 * /sys/class/drm/renderDN link of each GPU node's render minor. */
static void scan_kfd(const char *root)
{
	char path[4096], name[300], buf[ATTR_MAX + 1], link[4096];
	struct dirent *de;
	int topo, drm, nodes;
	DIR *d = NULL;

	snprintf(path, sizeof(path), "%s/sys/class/drm", root);
	drm = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/sys/class/kfd/kfd/topology", root);
	topo = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	nodes = topo < 0 ? -1 : openat(topo, "nodes", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (nodes >= 0 && !(d = fdopendir(nodes)))
		close(nodes);
	while (d && (de = readdir(d))) {
		long banks, minor;
		int fd;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(name, sizeof(name), "nodes/%s", de->d_name);
		fd = openat(topo, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (slurp(fd, "gpu_id", buf, NULL) <= 0 || !strcmp(buf, "0\n") ||
		    slurp(fd, "properties", buf, NULL) < 0) {
			close(fd);
			continue;
		}
		banks = prop(buf, "mem_banks_count");
		minor = prop(buf, "drm_render_minor");
		for (long i = 0; i < banks && i < 16; i++) {
			char bank[64], mem[ATTR_MAX + 1];

			snprintf(bank, sizeof(bank), "mem_banks/%ld/properties", i);
			slurp(fd, bank, mem, NULL);
		}
		close(fd);
		if (minor >= 0 && n_minors < sizeof(minors) / sizeof(minors[0]))
			minors[n_minors++] = minor;
		if (minor >= 0 && drm >= 0) {
			snprintf(name, sizeof(name), "renderD%ld", minor);
			files++;
			if (readlinkat(drm, name, link, sizeof(link)) < 0)
				link[0] = '\0';
		}
	}
	if (d)
		closedir(d);
	if (topo >= 0)
		close(topo);
	if (drm >= 0)
		close(drm);
}

/* Whether a process's fd link makes it a GPU user: 1 for /dev/kfd, 2 for one of our render
 * nodes (whose fdinfo the scan reads too), 0 otherwise. */
static int gpu_link(const char *link)
{
	long minor;

	if (!strcmp(link, "/dev/kfd"))
		return 1;
	if (strncmp(link, "/dev/dri/renderD", 16))
		return 0;
	minor = strtol(link + 16, NULL, 10);
	for (size_t i = 0; i < n_minors; i++)
		if (minors[i] == minor)
			return 2;
	return 0;
}

/* /proc: every process's fd links and KFD process directory; comm and cgroup of GPU users. */
static void scan_procs(const char *root)
{
	char path[4096], name[300], link[256], buf[ATTR_MAX + 1];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/proc", root);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		int pidfd, fdfd, user = 0;
		struct dirent *fe;
		DIR *fds, *kfd;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		pidfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pidfd < 0)
			continue;
		fdfd = openat(pidfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		fds = fdfd < 0 ? NULL : fdopendir(fdfd);
		if (!fds && fdfd >= 0)
			close(fdfd);
		while (fds && (fe = readdir(fds))) {
			ssize_t n;

			if (fe->d_name[0] == '.')
				continue;
			snprintf(name, sizeof(name), "fd/%s", fe->d_name);
			files++;
			n = readlinkat(pidfd, name, link, sizeof(link) - 1);
			if (n > 0) {
				int g;

				link[n] = '\0';
				g = gpu_link(link);
				user |= g != 0;
				if (g == 2) {
					/* the DRM fdinfo of a render node (procs.c: count_fdinfo) */
					snprintf(name, sizeof(name), "fdinfo/%s", fe->d_name);
					files++;
					slurp(pidfd, name, buf, NULL);
				}
			}
		}
		if (fds)
			closedir(fds);
		snprintf(path, sizeof(path), "%s/sys/class/kfd/kfd/proc/%s", root, de->d_name);
		kfd = opendir(path);
		if (kfd) {
			user = 1;
			while (readdir(kfd))
				;
			closedir(kfd);
		}
		if (user) {
			slurp(pidfd, "comm", buf, NULL);
			slurp(pidfd, "cgroup", buf, NULL);
		}
		close(pidfd);
	}
	if (d)
		closedir(d);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: floor ROOT\n");
		return 2;
	}
	scan_pci(argv[1]);
	scan_kfd(argv[1]);
	scan_procs(argv[1]);
	printf("%lu\n", files);
	return 0;
}
