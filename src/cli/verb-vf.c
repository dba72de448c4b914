// SPDX-License-Identifier: MIT
/*
 * mipart vf: SR-IOV virtual functions on a virtualization host (list, enable, disable, bind,
 * libvirt), and the simulator verbs of an SR-IOV host (sim create --sriov, sim vf-hold,
 * sim vf-release). Policy lives in libmipart (control/sriov-control.c); this parses and prints.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mipart/error.h"
#include "mipart/sim-sriov.h"
#include "mipart/sriov.h"
#include "cli.h"
#include "util.h"
#include "banned.h"

static int vf_list(struct cli *cli, int argc, char **argv);
static int vf_enable(struct cli *cli, int argc, char **argv);
static int vf_disable(struct cli *cli, int argc, char **argv);
static int vf_bind(struct cli *cli, int argc, char **argv);
static int vf_libvirt(struct cli *cli, int argc, char **argv);

static const struct verb vf_verbs[] = {
	{ "list", 0, 0, vf_list, "show each SR-IOV physical function and its VFs", "vf list [--json]" },
	{ "enable", 0, 0, vf_enable, "give a GPU a number of VFs (as the host driver offers)",
	  "vf enable -g PF --count N [--dry-run] [--json]   (PF: index or PCI address)" },
	{ "disable", 0, 0, vf_disable, "remove a GPU's VFs where the host driver allows it",
	  "vf disable -g PF [--dry-run] [--json]" },
	{ "bind", 1, 1, vf_bind, "bind a VF to a driver (driver_override + probe)",
	  "vf bind VF [--driver vfio-pci] [--dry-run] [--json]   (VF: PCI address or PF.N)" },
	{ "libvirt", 1, 1, vf_libvirt, "the libvirt <hostdev> XML (or QEMU argument) for a VF",
	  "vf libvirt VF [--format xml|qemu]" },
	{ NULL },
};

int verb_vf(struct cli *cli, int argc, char **argv)
{
	return cli_run_verb(cli, vf_verbs, "vf verb", argc - 1, argv + 1);
}

static int scan(struct cli *cli, mipart_sriov **ret)
{
	int r = mipart_sriov_scan(cli->host, ret);

	if (r < 0) {
		cli_error("cannot list PCI devices: %s", mipart_strerror(r));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static json_t *vf_json(const mipart_vf *vf)
{
	json_t *user = json_null();

	if (vf->user.pid)
		user = json_pack("{s:i,s:o,s:o}", "pid", vf->user.pid, "comm",
				 cli_json_string(vf->user.comm), "vm",
				 vf->user.vm[0] ? cli_json_string(vf->user.vm) : json_null());
	return json_pack("{s:s,s:i,s:s,s:o,s:o,s:o,s:o,s:o}", "bdf", vf->bdf, "index",
			 (int)vf->index, "device_id", "", "driver",
			 vf->driver[0] ? json_string(vf->driver) : json_null(), "iommu_group",
			 cli_json_int_or_null(vf->iommu_group), "xcds",
			 vf->xcds ? json_integer(vf->xcds) : json_null(), "memory_bytes",
			 vf->memory ? json_integer((json_int_t)vf->memory) : json_null(), "user", user);
}

static int vf_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 } };
	mipart_sriov *s = NULL;
	bool json = false;
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'j')
			return cli_usage_error(cli->verb, "unknown option '%s'", argv[optind - 1]);
		json = true;
	}
	if (cli_check_args(cli, argc - optind) != EXIT_OK)
		return EXIT_USAGE;
	r = scan(cli, &s);
	if (r != EXIT_OK)
		return r;
	if (json) {
		json_t *pfs = json_array();

		for (size_t i = 0; i < mipart_sriov_count(s); i++) {
			const mipart_pf *pf = mipart_sriov_get(s, i);
			json_t *vfs = json_array(), *allowed = json_array();
			unsigned counts[8];
			const char *modes[8];
			size_t n = mipart_sriov_allowed(pf->device_id, counts, modes, 8);
			char dev[8];

			for (size_t k = 0; k < n; k++)
				json_array_append_new(allowed, json_pack("{s:i,s:s}", "vfs",
									 (int)counts[k], "modes",
									 modes[k]));
			for (size_t k = 0; k < pf->n_vfs; k++) {
				json_t *v = vf_json(&pf->vfs[k]);

				snprintf(dev, sizeof(dev), "%04x", pf->vfs[k].device_id);
				json_object_set_new(v, "device_id", json_string(dev));
				json_array_append_new(vfs, v);
			}
			snprintf(dev, sizeof(dev), "%04x", pf->device_id);
			json_array_append_new(
				pfs, json_pack("{s:i,s:s,s:s,s:o,s:o,s:o,s:i,s:i,s:o,s:o}", "index", (int)i,
					       "bdf", pf->bdf, "device_id", dev, "product",
					       pf->product ? json_string(pf->product) : json_null(),
					       "driver", pf->driver[0] ? json_string(pf->driver) : json_null(),
					       "gim_index", cli_json_int_or_null(pf->gim_index),
					       "total_vfs", (int)pf->total_vfs, "num_vfs", (int)pf->num_vfs,
					       "allowed", allowed, "vfs", vfs));
		}
		mipart_sriov_free(s);
		return cli_print_json(json_pack("{s:o}", "physical_functions", pfs));
	}
	if (!mipart_sriov_count(s))
		printf("no SR-IOV capable AMD GPU on this host\n");
	for (size_t i = 0; i < mipart_sriov_count(s); i++) {
		const mipart_pf *pf = mipart_sriov_get(s, i);

		printf("PF %zu  %s  %s  driver %s  VFs %u of %u\n", i, pf->bdf,
		       pf->product ? pf->product : "unknown AMD device",
		       pf->driver[0] ? pf->driver : "(none)", pf->num_vfs, pf->total_vfs);
		if (pf->n_vfs)
			printf("  %-4s %-13s %-9s %-6s %-5s %-10s %s\n", "VF", "PCI", "DRIVER",
			       "IOMMU", "XCDS", "MEM GiB", "USED BY");
		for (size_t k = 0; k < pf->n_vfs; k++) {
			const mipart_vf *vf = &pf->vfs[k];
			char grp[16] = "-", xcd[16] = "-", mem[16], who[256] = "-", comm[48], vm[160];

			if (vf->iommu_group >= 0)
				snprintf(grp, sizeof(grp), "%d", vf->iommu_group);
			if (vf->xcds)
				snprintf(xcd, sizeof(xcd), "%u", vf->xcds);
			cli_gib(mem, sizeof(mem), vf->memory ? (long long)vf->memory : -1);
			if (vf->user.pid) {
				util_show(vf->user.comm, strlen(vf->user.comm), 31, comm, sizeof(comm));
				util_show(vf->user.vm, strlen(vf->user.vm), 60, vm, sizeof(vm));
				snprintf(who, sizeof(who), "pid %d %s%s%s", vf->user.pid, comm,
					 vm[0] ? " vm " : "", vm);
			}
			printf("  %zu.%-2u %-13s %-9s %-6s %-5s %-10s %s\n", i, vf->index, vf->bdf,
			       vf->driver[0] ? vf->driver : "-", grp, xcd, mem, who);
		}
	}
	mipart_sriov_free(s);
	return EXIT_OK;
}

/* The reload commands of the global options, as the library takes them. */
static void reload_words(struct cli *cli, mipart_sriov_options *o)
{
	if (cli->unload[0])
		o->unload = cli->unload;
	if (cli->load[0])
		o->load = cli->load;
}

static int print_result(int r, char *msg, bool json, bool dry)
{
	if (json) {
		json_t *o = json_pack("{s:b,s:b,s:o}", "ok", r >= 0, "dry_run", dry, "message",
				      cli_json_string(msg ? msg : ""));

		free(msg);
		cli_print_json(o);
		return r >= 0 ? EXIT_OK : r == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
	}
	if (r < 0)
		cli_error("%s", msg ? msg : mipart_strerror(r));
	else
		printf("%s\n", msg ? msg : "done");
	free(msg);
	return r >= 0 ? EXIT_OK : r == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
}

static int change_count(struct cli *cli, int argc, char **argv, bool disable)
{
	static const struct option opts[] = {
		{ "gpu", required_argument, NULL, 'g' },  { "count", required_argument, NULL, 'n' },
		{ "dry-run", no_argument, NULL, 'd' },    { "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	mipart_sriov_options o = { .uid = (int64_t)getuid() };
	const char *gpu = NULL;
	char cmdline[1024], *msg = NULL;
	unsigned long count = 0;
	bool have_count = false, json = false;
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "g:", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			gpu = optarg;
			break;
		case 'n':
			if (disable)
				return cli_usage_error(cli->verb, "'--count' is for 'vf enable'");
			if (cli_parse_uint(cli, "--count", optarg, 1, 64, &count) < 0)
				return EXIT_USAGE;
			have_count = true;
			break;
		case 'd':
			o.dry_run = true;
			break;
		case 'j':
			json = true;
			break;
		default:
			return cli_usage_error(cli->verb, "unknown option or missing value '%s'",
					       argv[optind - 1]);
		}
	}
	if (cli_check_args(cli, argc - optind) != EXIT_OK)
		return EXIT_USAGE;
	if (!gpu)
		return cli_usage_error(cli->verb, "'-g PF' is required");
	if (!disable && !have_count)
		return cli_usage_error(cli->verb, "'--count N' is required");
	{
		/* the journal's command line: "mipart vf enable ..." */
		char **words = calloc((size_t)argc + 1, sizeof(*words));

		if (!words)
			return EXIT_FAIL;
		words[0] = (char *)"vf";
		for (int i = 0; i < argc; i++)
			words[i + 1] = argv[i];
		cli_quote_argv(argc + 1, words, cmdline, sizeof(cmdline));
		free(words);
	}
	o.command = cmdline;
	reload_words(cli, &o);
	r = mipart_sriov_set_count(cli->host, gpu, disable ? 0 : (unsigned)count, &o, &msg);
	return print_result(r, msg, json, o.dry_run);
}

static int vf_enable(struct cli *cli, int argc, char **argv)
{
	return change_count(cli, argc, argv, false);
}

static int vf_disable(struct cli *cli, int argc, char **argv)
{
	return change_count(cli, argc, argv, true);
}

static int vf_bind(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "driver", required_argument, NULL, 'D' }, { "dry-run", no_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },         { NULL, 0, NULL, 0 },
	};
	const char *driver = "vfio-pci";
	bool dry = false, json = false;
	char *msg = NULL;
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'D':
			driver = optarg;
			break;
		case 'd':
			dry = true;
			break;
		case 'j':
			json = true;
			break;
		default:
			return cli_usage_error(cli->verb, "unknown option or missing value '%s'",
					       argv[optind - 1]);
		}
	}
	if (cli_check_args(cli, argc - optind) != EXIT_OK)
		return EXIT_USAGE;
	r = mipart_sriov_bind(cli->host, argv[optind], driver, dry, &msg);
	if (r == -ENOENT && !json) {
		cli_error("%s", msg);
		free(msg);
		return EXIT_USAGE;
	}
	return print_result(r, msg, json, dry);
}

static int vf_libvirt(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
					      { NULL, 0, NULL, 0 } };
	const char *format = "xml";
	const mipart_vf *vf;
	mipart_sriov *s = NULL;
	char *text;
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'f')
			return cli_usage_error(cli->verb, "unknown option or missing value '%s'",
					       argv[optind - 1]);
		format = optarg;
	}
	if (strcmp(format, "xml") && strcmp(format, "qemu"))
		return cli_usage_error(cli->verb, "invalid value '%s' for '--format': expected xml or qemu",
				       format);
	if (cli_check_args(cli, argc - optind) != EXIT_OK)
		return EXIT_USAGE;
	r = scan(cli, &s);
	if (r != EXIT_OK)
		return r;
	vf = mipart_sriov_find_vf(s, argv[optind], NULL);
	if (!vf) {
		char shown[64];

		cli_error("no virtual function '%s' (mipart vf list shows them)",
			  util_show(argv[optind], strlen(argv[optind]), 40, shown, sizeof(shown)));
		mipart_sriov_free(s);
		return EXIT_USAGE;
	}
	if (strcmp(vf->driver, "vfio-pci") && !cli->quiet)
		cli_warn(cli, "VF %s is not bound to vfio-pci; run 'mipart vf bind %s' "
			      "first (libvirt's managed='yes' also binds it when the domain starts)",
			 vf->bdf, vf->bdf);
	text = !strcmp(format, "xml") ? mipart_sriov_libvirt_xml(vf) : mipart_sriov_qemu_arg(vf);
	if (text)
		printf("%s%s", text, strcmp(format, "xml") ? "\n" : "");
	free(text);
	mipart_sriov_free(s);
	return text ? EXIT_OK : EXIT_FAIL;
}

/* ---- the simulator's SR-IOV verbs ---- */

int cli_sim_create_sriov(struct cli *cli, const char *dir, const char *product, unsigned gpus,
			 unsigned vfs)
{
	const char *why = NULL;
	int r = mipart_sim_sriov_create(dir, product, gpus, vfs, &why);

	if (r == -EINVAL) {
		cli_error("cannot create a simulated SR-IOV host: %s", why ? why : "invalid options");
		return EXIT_USAGE;
	}
	if (r < 0) {
		cli_error("cannot create a simulated SR-IOV host in '%s': %s", dir, mipart_strerror(r));
		return EXIT_FAIL;
	}
	if (!cli->quiet)
		cli_note("created a simulated SR-IOV (GIM) host in '%s'", dir);
	return EXIT_OK;
}

int cli_sim_vf_hold(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vf", required_argument, NULL, 'v' },   { "pid", required_argument, NULL, 'p' },
		{ "comm", required_argument, NULL, 'c' }, { "vm", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	const char *vf = NULL, *comm = "qemu-system-x86", *vm = "";
	const char *dir;
	unsigned long pid = 0;
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			vf = optarg;
			break;
		case 'p':
			if (cli_parse_uint(cli, "--pid", optarg, 1, 4194304, &pid) < 0)
				return EXIT_USAGE;
			break;
		case 'c':
			comm = optarg;
			break;
		case 'm':
			vm = optarg;
			break;
		default:
			return cli_usage_error(cli->verb, "unknown option or missing value '%s'",
					       argv[optind - 1]);
		}
	}
	dir = optind < argc ? argv[optind] : cli->root ? mipart_host_root(cli->host) : NULL;
	if (!dir || !vf || !pid)
		return cli_usage_error(cli->verb, "DIR, '--vf' and '--pid' are required");
	r = mipart_sim_sriov_hold(dir, vf, (int)pid, comm, vm);
	if (r < 0) {
		cli_error("cannot start a VM process on VF '%s': %s%s", vf, mipart_strerror(r),
			  r == -EINVAL ? " (bind it to vfio-pci first)" : "");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int cli_sim_vf_release(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "pid", required_argument, NULL, 'p' },
					      { NULL, 0, NULL, 0 } };
	unsigned long pid = 0;
	const char *dir;
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'p' || cli_parse_uint(cli, "--pid", optarg, 1, 4194304, &pid) < 0)
			return cli_usage_error(cli->verb, "unknown option or missing value '%s'",
					       argv[optind - 1]);
	}
	dir = optind < argc ? argv[optind] : cli->root ? mipart_host_root(cli->host) : NULL;
	if (!dir || !pid)
		return cli_usage_error(cli->verb, "DIR and '--pid' are required");
	r = mipart_sim_sriov_release(dir, (int)pid);
	if (r < 0) {
		cli_error("cannot end process %lu: %s", pid, mipart_strerror(r));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
