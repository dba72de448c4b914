// SPDX-License-Identifier: MIT
/*
 * `mipart sim ...`: create a simulated host and drive its simulated driver (write an
 * attribute, reload the module, start and end processes, inject faults). The directory is the
 * first argument, or --root when it is omitted.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mipart/allocate.h"
#include "mipart/error.h"
#include "mipart/estimate.h"
#include "mipart/sim.h"
#include "cli.h"
#include "banned.h"

static int sim_create(struct cli *cli, int argc, char **argv);
static int sim_hold(struct cli *cli, int argc, char **argv);
static int opt_partition(struct cli *cli, const char *arg, unsigned long *gpu, int *xcp);
static int sim_load(struct cli *cli, int argc, char **argv);
static int sim_release(struct cli *cli, int argc, char **argv);
static int sim_fault(struct cli *cli, int argc, char **argv);
static int sim_write(struct cli *cli, int argc, char **argv);
static int sim_reload(struct cli *cli, int argc, char **argv);

static const struct verb sim_verbs[] = {
	{ "create", 0, 1, sim_create, "write a simulated host (default 8 x MI300X, SPX/NPS1)",
	  "sim create DIR [--gpus N] [--product mi300x|mi308x|mi325x|mi300a|mi350x|mi355x|mi210|mi300x-hf|mi300x-vf|mi325x-vf]\n"
	  "                  [--compute SPX|DPX|TPX|QPX|CPX] [--memory NPS1|NPS2|NPS4] [--no-hive]\n"
	  "                  [--legacy-xcp-names] [--device-nodes] [--cpu-nodes N] [--metrics 1.8|1.9|none]\n"
	  "                  [--user-partt-mode AUTO|SPX|DPX|TPX|QPX|CPX]\n"
	  "       mipart sim create DIR --sriov [--gpus N] [--product P] [--vfs N]   (a GIM host)\n"
	  "       mipart sim create DIR --guest [--product mi300x|mi325x] [--vfs 1|8]   (a VM with a VF)" },
	{ "load", 0, 1, sim_load, "script the readings a GPU or partition shows (busy, VRAM, power)",
	  "sim load DIR (--partition G.X [--busy PCT] [--vram SIZE] | --gpu G) [--power W]\n"
	  "                 [--temp C] [--mem-temp C] [--gfxclk MHZ]" },
	{ "hold", 0, 1, sim_hold, "start a simulated process that uses a GPU",
	  "sim hold DIR (--gpu N | --partition G.X) --pid PID --comm NAME [--container ID]" },
	{ "release", 0, 1, sim_release, "end a simulated process", "sim release DIR --pid PID" },
	{ "fault", 0, 1, sim_fault, "inject a fault into the simulated driver",
	  "sim fault DIR [--gpu N] --on compute-write|memory-write|reload\n"
	  "                 [--error EIO|EBUSY|EINVAL|EPERM|ETIMEDOUT|SILENT] [--times K] [--delay MS]\n"
	  "       mipart sim fault DIR --clear" },
	{ "write", 3, 4, sim_write, "write a partition attribute through the simulated driver",
	  "sim write [DIR] GPU ATTRIBUTE VALUE   (GPU: index or BDF)" },
	{ "reload", 0, 1, sim_reload, "unload and load the simulated amdgpu module",
	  "sim reload DIR" },
	{ "vf-hold", 0, 1, cli_sim_vf_hold, "start a simulated VM process that holds a VF",
	  "sim vf-hold DIR --vf BDF --pid PID [--comm NAME] [--vm NAME]" },
	{ "vf-release", 0, 1, cli_sim_vf_release, "end a simulated VM process",
	  "sim vf-release DIR --pid PID" },
	{ NULL },
};

int verb_sim(struct cli *cli, int argc, char **argv)
{
	return cli_run_verb(cli, sim_verbs, "sim verb", argc - 1, argv + 1);
}

/* The simulated root: the positional argument at argv[optind], else --root. */
static const char *sim_dir(struct cli *cli, int argc, char **argv)
{
	if (optind < argc)
		return argv[optind++];
	if (cli->root)
		return mipart_host_root(cli->host);
	cli_usage_error(cli->verb, "no directory given (and no --root)");
	return NULL;
}

static int unknown_option(struct cli *cli, int argc, char **argv)
{
	return cli_usage_error(cli->verb, "unknown option or missing value '%s'", argv[optind - 1]);
}

static int report(int r, const char *what, const char *dir)
{
	if (r >= 0)
		return EXIT_OK;
	cli_error("cannot %s in '%s': %s", what, dir, mipart_strerror(r));
	return EXIT_FAIL;
}

static int sim_create(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "gpus", required_argument, NULL, 'g' },
		{ "product", required_argument, NULL, 'p' },
		{ "compute", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "no-hive", no_argument, NULL, 'H' },
		{ "legacy-xcp-names", no_argument, NULL, 'L' },
		{ "device-nodes", no_argument, NULL, 'D' },
		{ "cpu-nodes", required_argument, NULL, 'n' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "user-partt-mode", required_argument, NULL, 'U' },
		{ "sriov", no_argument, NULL, 'S' },
		{ "vfs", required_argument, NULL, 'V' },
		{ "guest", no_argument, NULL, 'G' },
		{ NULL, 0, NULL, 0 },
	};
	bool sriov = false, guest = false;
	char vf_key[32];
	unsigned long vfs = 0;
	mipart_sim_options o = { .compute = MIPART_COMPUTE_UNKNOWN, .memory = MIPART_MEMORY_UNKNOWN };
	const char *dir, *why = NULL;
	unsigned long v;
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			if (cli_parse_uint(cli, "--gpus", optarg, 1, 16, &v) < 0)
				return EXIT_USAGE;
			o.gpus = (unsigned)v;
			break;
		case 'p':
			o.product = optarg;
			break;
		case 'c':
			if (mipart_compute_mode_parse(optarg, &o.compute) < 0)
				return cli_usage_error(cli->verb,
						       "invalid value '%s' for '--compute': expected SPX, DPX, TPX, QPX or CPX",
						       optarg);
			break;
		case 'm':
			if (mipart_memory_mode_parse(optarg, &o.memory) < 0)
				return cli_usage_error(cli->verb,
						       "invalid value '%s' for '--memory': expected NPS1, NPS2, NPS4, ...",
						       optarg);
			break;
		case 'H':
			o.no_hive = true;
			break;
		case 'D':
			o.device_nodes = true;
			break;
		case 'L':
			o.legacy_xcp_names = true;
			break;
		case 'n':
			if (cli_parse_uint(cli, "--cpu-nodes", optarg, 1, 8, &v) < 0)
				return EXIT_USAGE;
			o.cpu_nodes = (unsigned)v;
			break;
		case 'U': {
			mipart_compute_mode m;

			/* amdgpu.user_partt_mode: -2 AUTO or a mode number; names for people */
			if (!strcmp(optarg, "-2") || !strcasecmp(optarg, "auto"))
				o.user_partt_mode = -2;
			else if (mipart_compute_mode_parse(optarg, &m) == 0)
				o.user_partt_mode = (int)m;
			else if (strlen(optarg) == 1 && optarg[0] >= '0' && optarg[0] <= '4')
				o.user_partt_mode = optarg[0] - '0';
			else
				return cli_usage_error(cli->verb,
						       "invalid value '%s' for '--user-partt-mode': expected AUTO (-2), SPX (0), DPX (1), TPX (2), QPX (3) or CPX (4)",
						       optarg);
			o.user_partt_mode_set = true;
			break;
		}
		case 'M':
			if (!strcmp(optarg, "1.8") || !strcmp(optarg, "8"))
				o.metrics = 8;
			else if (!strcmp(optarg, "1.9") || !strcmp(optarg, "9"))
				o.metrics = 9;
			else if (!strcmp(optarg, "none"))
				o.metrics = -1;
			else
				return cli_usage_error(cli->verb,
						       "invalid value '%s' for '--metrics': expected 1.8, 1.9 or none",
						       optarg);
			break;
		case 'S':
			sriov = true;
			break;
		case 'G':
			guest = true;
			break;
		case 'V':
			if (cli_parse_uint(cli, "--vfs", optarg, 1, 31, &vfs) < 0)
				return EXIT_USAGE;
			break;
		default:
			return unknown_option(cli, argc, argv);
		}
	}
	dir = sim_dir(cli, argc, argv);
	if (!dir)
		return EXIT_USAGE;
	if (cli_check_args(cli, argc - optind + 1) != EXIT_OK)
		return EXIT_USAGE;
	if (vfs && !sriov && !guest)
		return cli_usage_error(cli->verb, "'--vfs' goes with '--sriov' or '--guest'");
	if (guest && sriov)
		return cli_usage_error(cli->verb, "'--guest' and '--sriov' are two different hosts");
	if (guest) {
		/* a VM's view of one VF: the VF product of the PF for that VF count (docs/sriov.md) */
		snprintf(vf_key, sizeof(vf_key), "%s-vf%s", o.product ? o.product : "mi300x",
			 vfs > 1 ? "8" : "");
		if (vfs > 1 && vfs != 8)
			return cli_usage_error(cli->verb, "a simulated guest has the VF of 1 or 8 VFs per GPU");
		o.product = vf_key;
		if (!o.gpus)
			o.gpus = 1;
	}
	if (sriov)
		return cli_sim_create_sriov(cli, dir, o.product, o.gpus, (unsigned)vfs);
	r = mipart_sim_create(dir, &o, &why);
	if (r == -EINVAL) {
		cli_error("cannot create a simulated %s host (%s/%s): %s", o.product ? o.product : "mi300x",
			  o.compute == MIPART_COMPUTE_UNKNOWN ? "auto" : mipart_compute_mode_name(o.compute),
			  mipart_memory_mode_name(o.memory ? o.memory : MIPART_MEMORY_NPS1),
			  why ? why : "invalid options");
		return EXIT_USAGE;
	}
	if (r < 0) {
		cli_error("cannot create a simulated host in '%s': %s", dir, why ? why : mipart_strerror(r));
		return EXIT_FAIL;
	}
	if (!cli->quiet)
		cli_note("created a simulated host in '%s'", dir);
	return EXIT_OK;
}

static int sim_hold(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "gpu", required_argument, NULL, 'g' }, { "partition", required_argument, NULL, 'P' },
		{ "pid", required_argument, NULL, 'p' }, { "comm", required_argument, NULL, 'c' },
		{ "container", required_argument, NULL, 'C' }, { NULL, 0, NULL, 0 },
	};
	unsigned long gpu = 0, pid = 0;
	const char *comm = NULL, *container = NULL, *dir, *part = NULL;
	bool have_gpu = false;
	int c, r, xcp = -1;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			if (cli_parse_uint(cli, "--gpu", optarg, 0, 63, &gpu) < 0)
				return EXIT_USAGE;
			have_gpu = true;
			xcp = -1;
			break;
		case 'P':
			if (opt_partition(cli, optarg, &gpu, &xcp) != EXIT_OK)
				return EXIT_USAGE;
			part = optarg;
			have_gpu = true;
			break;
		case 'p':
			if (cli_parse_uint(cli, "--pid", optarg, 1, 4194304, &pid) < 0)
				return EXIT_USAGE;
			break;
		case 'c':
			comm = optarg;
			break;
		case 'C':
			container = optarg;
			break;
		default:
			return unknown_option(cli, argc, argv);
		}
	}
	if (!have_gpu || !pid || !comm)
		return cli_usage_error(cli->verb, "'--gpu' (or '--partition'), '--pid' and '--comm' are required");
	dir = sim_dir(cli, argc, argv);
	if (!dir || cli_check_args(cli, argc - optind + 1) != EXIT_OK)
		return EXIT_USAGE;
	r = xcp < 0 ? mipart_sim_hold(dir, (unsigned)gpu, (int)pid, comm, container)
		    : mipart_sim_hold_partition(dir, (unsigned)gpu, (unsigned)xcp, (int)pid, comm,
						container);
	if (r == -ENOENT) {
		if (part)
			cli_error("no partition %s in the simulated host '%s'", part, dir);
		else
			cli_error("no GPU %lu in the simulated host '%s'", gpu, dir);
		return EXIT_FAIL;
	}
	if (r == -EINVAL)
		return cli_usage_error(cli->verb, "invalid '--comm' or '--container' (no '/' or newline; container id up to 64 characters)");
	return report(r, "start a simulated process", dir);
}

/* --partition G.X: gpu, xcp, or a usage error */
static int opt_partition(struct cli *cli, const char *arg, unsigned long *gpu, int *xcp)
{
	unsigned g, x;

	if (mipart_partition_id_parse(arg, &g, &x) < 0)
		return cli_usage_error(cli->verb,
				       "invalid '--partition' '%s': expected GPU.PARTITION, such as 0.3",
				       arg);
	*gpu = g;
	*xcp = (int)x;
	return EXIT_OK;
}

static int sim_load(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "partition", required_argument, NULL, 'P' }, { "gpu", required_argument, NULL, 'g' },
		{ "busy", required_argument, NULL, 'b' },      { "vram", required_argument, NULL, 'v' },
		{ "power", required_argument, NULL, 'w' },     { "temp", required_argument, NULL, 't' },
		{ "mem-temp", required_argument, NULL, 'm' },  { "gfxclk", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	mipart_sim_load l = { .xcp = -1, .busy = -1, .vram = -1, .power_w = -1, .temp_c = -1,
			      .mem_temp_c = -1, .gfxclk_mhz = -1 };
	unsigned long gpu = 0, v;
	bool have_gpu = false;
	const char *dir, *part = NULL, *vram_arg = NULL;
	uint64_t bytes;
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'P':
			if (opt_partition(cli, optarg, &gpu, &l.xcp) != EXIT_OK)
				return EXIT_USAGE;
			part = optarg;
			have_gpu = true;
			break;
		case 'g':
			if (cli_parse_uint(cli, "--gpu", optarg, 0, 63, &gpu) < 0)
				return EXIT_USAGE;
			have_gpu = true;
			break;
		case 'b':
			if (cli_parse_uint(cli, "--busy", optarg, 0, 100, &v) < 0)
				return EXIT_USAGE;
			l.busy = (int)v;
			break;
		case 'v':
			if (mipart_size_parse(optarg, &bytes) < 0 || bytes > (uint64_t)INT64_MAX)
				return cli_usage_error(cli->verb,
						       "invalid '--vram' '%s': a size such as 12GiB or 512MiB (GiB = 2^30 bytes)",
						       optarg);
			l.vram = (int64_t)bytes;
			vram_arg = optarg;
			break;
		case 'w':
			if (cli_parse_uint(cli, "--power", optarg, 0, 2000, &v) < 0)
				return EXIT_USAGE;
			l.power_w = (int)v;
			break;
		case 't':
		case 'm':
			if (cli_parse_uint(cli, c == 't' ? "--temp" : "--mem-temp", optarg, 0, 200, &v) < 0)
				return EXIT_USAGE;
			*(c == 't' ? &l.temp_c : &l.mem_temp_c) = (int)v;
			break;
		case 'c':
			if (cli_parse_uint(cli, "--gfxclk", optarg, 0, 10000, &v) < 0)
				return EXIT_USAGE;
			l.gfxclk_mhz = (int)v;
			break;
		default:
			return unknown_option(cli, argc, argv);
		}
	}
	if (!have_gpu)
		return cli_usage_error(cli->verb, "'--partition G.X' or '--gpu G' is required");
	if (!part && (l.busy >= 0 || l.vram >= 0))
		return cli_usage_error(cli->verb, "'--busy' and '--vram' are per partition: give '--partition G.X'");
	dir = sim_dir(cli, argc, argv);
	if (!dir || cli_check_args(cli, argc - optind + 1) != EXIT_OK)
		return EXIT_USAGE;
	l.gpu = (unsigned)gpu;
	r = mipart_sim_set_load(dir, &l);
	if (r == -ENOENT) {
		if (part)
			cli_error("no partition %s in the simulated host '%s' (GPU %lu has fewer partitions in its current mode, or no such GPU)",
				  part, dir, gpu);
		else
			cli_error("no GPU %lu in the simulated host '%s'", gpu, dir);
		return EXIT_FAIL;
	}
	if (r == -ERANGE) {
		cli_error("'--vram' %s is more memory than partition %s has", vram_arg ? vram_arg : "",
			  part ? part : "");
		return EXIT_FAIL;
	}
	return report(r, "script the readings", dir);
}

static int sim_release(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "pid", required_argument, NULL, 'p' },
					      { NULL, 0, NULL, 0 } };
	unsigned long pid = 0;
	const char *dir;
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'p')
			return unknown_option(cli, argc, argv);
		if (cli_parse_uint(cli, "--pid", optarg, 1, 4194304, &pid) < 0)
			return EXIT_USAGE;
	}
	if (!pid)
		return cli_usage_error(cli->verb, "'--pid' is required");
	dir = sim_dir(cli, argc, argv);
	if (!dir || cli_check_args(cli, argc - optind + 1) != EXIT_OK)
		return EXIT_USAGE;
	r = mipart_sim_release(dir, (int)pid);
	if (r == -ESRCH) {
		cli_error("no simulated process %lu in '%s'", pid, dir);
		return EXIT_FAIL;
	}
	return report(r, "end a simulated process", dir);
}

static int sim_fault(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "gpu", required_argument, NULL, 'g' },   { "on", required_argument, NULL, 'o' },
		{ "error", required_argument, NULL, 'e' }, { "times", required_argument, NULL, 't' },
		{ "delay", required_argument, NULL, 'd' }, { "clear", no_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const ons[] = { "compute-write", "memory-write", "reload" };
	mipart_sim_fault f = { .gpu = -1, .times = -1 };
	bool have_on = false, clear = false, have_error = false;
	const char *dir;
	unsigned long v;
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			if (cli_parse_uint(cli, "--gpu", optarg, 0, 63, &v) < 0)
				return EXIT_USAGE;
			f.gpu = (int)v;
			break;
		case 'o':
			for (unsigned i = 0; i < 3; i++)
				if (!strcmp(optarg, ons[i])) {
					f.on = (mipart_sim_fault_on)i;
					have_on = true;
				}
			if (!have_on)
				return cli_usage_error(cli->verb,
						       "invalid value '%s' for '--on': expected compute-write, memory-write or reload",
						       optarg);
			break;
		case 'e':
			if (mipart_sim_error_parse(optarg, &f.error) < 0)
				return cli_usage_error(cli->verb,
						       "invalid value '%s' for '--error': expected EIO, EBUSY, EINVAL, EPERM, ETIMEDOUT or SILENT",
						       optarg);
			have_error = true;
			break;
		case 't':
			if (cli_parse_uint(cli, "--times", optarg, 1, 1000000, &v) < 0)
				return EXIT_USAGE;
			f.times = (int)v;
			break;
		case 'd':
			if (cli_parse_uint(cli, "--delay", optarg, 0, 600000, &v) < 0)
				return EXIT_USAGE;
			f.delay_ms = (unsigned)v;
			break;
		case 'c':
			clear = true;
			break;
		default:
			return unknown_option(cli, argc, argv);
		}
	}
	dir = sim_dir(cli, argc, argv);
	if (!dir || cli_check_args(cli, argc - optind + 1) != EXIT_OK)
		return EXIT_USAGE;
	if (clear)
		return report(mipart_sim_clear_faults(dir), "clear faults", dir);
	if (!have_on)
		return cli_usage_error(cli->verb, "'--on' is required");
	if (!have_error && !f.delay_ms)
		return cli_usage_error(cli->verb, "a fault needs '--error' or '--delay'");
	if (f.on == MIPART_SIM_FAULT_RELOAD && f.gpu >= 0)
		return cli_usage_error(cli->verb, "a reload fault is for the whole module: drop '--gpu'");
	r = mipart_sim_add_fault(dir, &f);
	if (r == -ENOENT) {
		cli_error("no GPU %d in the simulated host '%s'", f.gpu, dir);
		return EXIT_FAIL;
	}
	return report(r, "add a fault", dir);
}

static int sim_write(struct cli *cli, int argc, char **argv)
{
	const char *dir, *gpu, *attr, *value;
	mipart_topology *t = NULL;
	char bdf[16];
	int r;

	optind = 1;
	if (argc - optind == 4) {
		dir = argv[optind++];
	} else if (argc - optind == 3 && cli->root) {
		dir = mipart_host_root(cli->host);
	} else {
		return cli_usage_error(cli->verb, argc - optind == 3 ? "no directory given (and no --root)"
								     : "expected [DIR] GPU ATTRIBUTE VALUE");
	}
	gpu = argv[optind];
	attr = argv[optind + 1];
	value = argv[optind + 2];
	bdf[0] = '\0';
	if (strchr(gpu, ':')) {
		snprintf(bdf, sizeof(bdf), "%s", gpu);
	} else {
		mipart_host *h = NULL;
		unsigned long idx;

		if (cli_parse_uint(cli, "GPU", gpu, 0, 63, &idx) < 0)
			return EXIT_USAGE;
		if (mipart_host_new(dir, &h) < 0 || mipart_topology_load(h, &t) < 0 ||
		    !mipart_topology_gpu(t, idx)) {
			cli_error("no GPU %lu in the simulated host '%s'", idx, dir);
			mipart_topology_free(t);
			mipart_host_free(h);
			return EXIT_FAIL;
		}
		snprintf(bdf, sizeof(bdf), "%s", mipart_topology_gpu(t, idx)->bdf);
		mipart_topology_free(t);
		mipart_host_free(h);
	}
	r = mipart_sim_write_attr(dir, bdf, attr, value);
	if (r < 0) {
		cli_error("cannot write '%s' to '%s' of GPU %s: %s", value, attr, bdf, mipart_strerror(r));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static int sim_reload(struct cli *cli, int argc, char **argv)
{
	const char *dir;
	int r;

	optind = 1;
	dir = sim_dir(cli, argc, argv);
	if (!dir || cli_check_args(cli, argc - optind + 1) != EXIT_OK)
		return EXIT_USAGE;
	r = mipart_sim_reload(dir);
	if (r < 0) {
		cli_error("cannot reload the simulated amdgpu driver in '%s': %s", dir,
			  mipart_strerror(r));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
