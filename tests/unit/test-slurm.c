// SPDX-License-Identifier: MIT
/*
 * Unit tests for fleet/slurm.c: feature names and Slurm's feature rule
 * (node_features_helpers.c: _is_feature_valid), the features of simulated hosts from modes and
 * from a layout file, active features, helpers.conf, gres.conf (order, types, files, Cores= from
 * the NUMA node's cpulist, the Gres= value), the settings file, the node's Gres= in slurm.conf,
 * the post-change action, and the step's partitions from the variables Slurm sets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scratch.h"
#include "mipart/config.h"
#include "mipart/host.h"
#include "mipart/postchange.h"
#include "mipart/sim.h"
#include "mipart/slurm.h"
#include "mipart/topology.h"
#include "slurm.h"
#include "util.h"
#include "banned.h"

struct fixture {
	char dir[128];
	mipart_host *host;
	mipart_topology *topo;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || !scratch_mkdtemp(f->dir, sizeof(f->dir), "slurm") ||
	    mipart_host_new(f->dir, &f->host) < 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	mipart_topology_free(f->topo);
	mipart_host_free(f->host);
	scratch_remove(f->dir);
	free(f);
	return 0;
}

static void create(struct fixture *f, unsigned gpus, mipart_compute_mode c, mipart_memory_mode m)
{
	mipart_sim_options o = { .gpus = gpus, .compute = c, .memory = m };
	const char *why = NULL;

	/* a host made again from scratch */
	assert_int_equal(util_rm_rf(f->dir), 0);
	assert_int_equal(util_mkdir_p(f->dir), 0);
	if (mipart_sim_create(f->dir, &o, &why) != 0)
		fail_msg("sim create: %s", why ? why : "");
	f->topo = mipart_topology_free(f->topo);
	assert_int_equal(mipart_topology_load(f->host, &f->topo), 0);
}

static void test_feature_names(void **state)
{
	char buf[32];
	mipart_compute_mode c;
	mipart_memory_mode m;

	(void)state;
	assert_int_equal(mipart_slurm_feature_name(MIPART_COMPUTE_CPX, MIPART_MEMORY_NPS4, buf, sizeof(buf)), 8);
	assert_string_equal(buf, "cpx_nps4");
	assert_int_equal(mipart_slurm_feature_name(MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS1, buf, sizeof(buf)), 8);
	assert_string_equal(buf, "spx_nps1");
	assert_int_equal(mipart_slurm_feature_name(MIPART_COMPUTE_UNKNOWN, MIPART_MEMORY_NPS1, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(mipart_slurm_feature_name(MIPART_COMPUTE_CPX, MIPART_MEMORY_NPS4, buf, 4), -ENAMETOOLONG);
	assert_int_equal(mipart_slurm_feature_parse("cpx_nps4", &c, &m), 0);
	assert_int_equal(c, MIPART_COMPUTE_CPX);
	assert_int_equal(m, MIPART_MEMORY_NPS4);
	assert_int_equal(mipart_slurm_feature_parse("QPX_NPS1", &c, &m), 0);
	assert_int_equal(c, MIPART_COMPUTE_QPX);
	assert_int_equal(mipart_slurm_feature_parse("cpx", &c, &m), -EINVAL);
	assert_int_equal(mipart_slurm_feature_parse("cpx_nps4x", &c, &m), -EINVAL);
	assert_int_equal(mipart_slurm_feature_parse("cpxx_nps4", &c, &m), -EINVAL);
	/* _is_feature_valid: letter, '_' or '=' first; then alnum, '_', '.', '=' */
	assert_true(mipart_slurm_feature_valid("cpx_nps4"));
	assert_true(mipart_slurm_feature_valid("_a.b=c"));
	assert_false(mipart_slurm_feature_valid("4cpx"));
	assert_false(mipart_slurm_feature_valid("cpx-nps4"));
	assert_false(mipart_slurm_feature_valid("a b"));
	assert_false(mipart_slurm_feature_valid(""));
	assert_false(mipart_slurm_feature_valid(NULL));
}

static bool has(const mipart_slurm_features *fs, const char *name)
{
	for (size_t i = 0; i < mipart_slurm_features_count(fs); i++)
		if (!strcmp(mipart_slurm_features_name(fs, i), name))
			return true;
	return false;
}

static size_t index_of(const mipart_slurm_features *fs, const char *name)
{
	for (size_t i = 0; i < mipart_slurm_features_count(fs); i++)
		if (!strcmp(mipart_slurm_features_name(fs, i), name))
			return i;
	fail_msg("no feature %s", name);
	return 0;
}

static void test_mode_features(void **state)
{
	struct fixture *f = *state;
	mipart_slurm_features *fs = NULL;
	mipart_target t[2];
	char msg[320];

	create(f, 2, MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS1);
	assert_int_equal(mipart_slurm_features_new(f->topo, NULL, &fs, msg, sizeof(msg)), 0);
	/* MI300X: NPS1 and NPS4; CPX/QPX take NPS4, SPX/DPX do not (aqua_vanjaram.c) */
	assert_true(has(fs, "spx_nps1"));
	assert_true(has(fs, "cpx_nps4"));
	assert_true(has(fs, "cpx_nps1"));
	assert_false(has(fs, "spx_nps4"));
	assert_false(has(fs, "dpx_nps4"));
	assert_true(mipart_slurm_features_active(fs, index_of(fs, "spx_nps1"), f->topo));
	assert_false(mipart_slurm_features_active(fs, index_of(fs, "cpx_nps4"), f->topo));
	assert_int_equal(mipart_slurm_features_targets(fs, "cpx_nps4", f->topo, t, 2, msg, sizeof(msg)), 0);
	assert_true(t[0].selected && t[1].selected);
	assert_int_equal(t[1].compute, MIPART_COMPUTE_CPX);
	assert_int_equal(t[1].memory, MIPART_MEMORY_NPS4);
	assert_int_equal(mipart_slurm_features_targets(fs, "spx_nps4", f->topo, t, 2, msg, sizeof(msg)), -ENOENT);
	assert_non_null(strstr(msg, "'spx_nps4' is not a feature"));
	mipart_slurm_features_free(fs);

	create(f, 2, MIPART_COMPUTE_CPX, MIPART_MEMORY_NPS4);
	assert_int_equal(mipart_slurm_features_new(f->topo, NULL, &fs, msg, sizeof(msg)), 0);
	assert_true(mipart_slurm_features_active(fs, index_of(fs, "cpx_nps4"), f->topo));
	assert_false(mipart_slurm_features_active(fs, index_of(fs, "spx_nps1"), f->topo));
	mipart_slurm_features_free(fs);
}

static void test_no_partitioning(void **state)
{
	struct fixture *f = *state;
	mipart_sim_options o = { .gpus = 1, .product = "mi210", .compute = MIPART_COMPUTE_UNKNOWN };
	mipart_slurm_features *fs = NULL;
	const char *why = NULL;
	char msg[320], gres[256], *text = NULL;

	assert_int_equal(mipart_sim_create(f->dir, &o, &why), 0);
	assert_int_equal(mipart_topology_load(f->host, &f->topo), 0);
	assert_int_equal(mipart_slurm_features_new(f->topo, NULL, &fs, msg, sizeof(msg)), -ENODEV);
	assert_null(fs);
	/* still a GRES: the product without a mode */
	assert_int_equal(mipart_slurm_gres(f->topo, f->host, &text, gres, sizeof(gres)), 0);
	assert_string_equal(gres, "gpu:mi210:1");
	free(text);
}

static const char layout_yaml[] = "version: v1\n"
				  "partition-configs:\n"
				  "  serving:\n"
				  "    - devices: all\n"
				  "      compute: CPX\n"
				  "      memory: NPS4\n"
				  "  mixed:\n"
				  "    - devices: [0]\n"
				  "      compute: SPX\n"
				  "      memory: NPS1\n";

static void test_layout_features(void **state)
{
	struct fixture *f = *state;
	mipart_config *cfg = NULL;
	mipart_config_error err = { 0 };
	mipart_slurm_features *fs = NULL;
	mipart_target t[2];
	char msg[320];

	create(f, 2, MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS1);
	assert_int_equal(mipart_config_parse(layout_yaml, strlen(layout_yaml), "l.yaml", &cfg, &err), 0);
	assert_int_equal(mipart_slurm_features_new(f->topo, cfg, &fs, msg, sizeof(msg)), 0);
	assert_int_equal(mipart_slurm_features_count(fs), 2);
	assert_string_equal(mipart_slurm_features_name(fs, 0), "serving");
	assert_false(mipart_slurm_features_active(fs, 0, f->topo));
	/* "mixed" asks GPU 0 for SPX/NPS1, which it has; GPU 1 is not its business */
	assert_true(mipart_slurm_features_active(fs, 1, f->topo));
	assert_int_equal(mipart_slurm_features_targets(fs, "mixed", f->topo, t, 2, msg, sizeof(msg)), 0);
	assert_true(t[0].selected);
	assert_false(t[1].selected);
	mipart_slurm_features_free(fs);
	mipart_config_free(cfg);

	/* a config name Slurm would refuse */
	{
		static const char bad[] = "version: v1\npartition-configs:\n  9lives:\n    - devices: all\n      compute: SPX\n";

		cfg = NULL;
		assert_int_equal(mipart_config_parse(bad, strlen(bad), "b.yaml", &cfg, &err), 0);
		assert_int_equal(mipart_slurm_features_new(f->topo, cfg, &fs, msg, sizeof(msg)), -EINVAL);
		assert_non_null(strstr(msg, "'9lives'"));
		assert_non_null(strstr(msg, "line 3"));
		mipart_config_free(cfg);
	}
}

static void test_helpers_conf(void **state)
{
	struct fixture *f = *state;
	mipart_slurm_features *fs = NULL;
	char msg[320], *text = NULL;

	create(f, 1, MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS1);
	assert_int_equal(mipart_slurm_features_new(f->topo, NULL, &fs, msg, sizeof(msg)), 0);
	assert_int_equal(mipart_slurm_helpers_conf(fs, "/usr/bin/mipart-slurm-helper", 300, &text), 0);
	assert_non_null(strstr(text, "\nFeature=spx_nps1 Helper=/usr/bin/mipart-slurm-helper\n"));
	assert_non_null(strstr(text, "\nFeature=cpx_nps4 Helper=/usr/bin/mipart-slurm-helper\n"));
	assert_non_null(strstr(text, "\nMutuallyExclusive=spx_nps1,"));
	assert_non_null(strstr(text, "\nExecTime=300\n"));
	free(text);
	text = NULL;
	assert_int_equal(mipart_slurm_helpers_conf(fs, "relative/helper", 10, &text), -EINVAL);
	assert_int_equal(mipart_slurm_helpers_conf(fs, "/a b/helper", 10, &text), -EINVAL);
	assert_int_equal(mipart_slurm_helpers_conf(fs, "/a#b", 10, &text), -EINVAL);
	assert_null(text);
	mipart_slurm_features_free(fs);
}

static size_t count_lines(const char *text, const char *prefix)
{
	size_t n = 0;

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		n += !strncmp(p, prefix, strlen(prefix));
	return n;
}

static void test_gres(void **state)
{
	struct fixture *f = *state;
	char gres[256], *text = NULL, want[512], path[512];

	create(f, 2, MIPART_COMPUTE_CPX, MIPART_MEMORY_NPS4);
	assert_int_equal(mipart_slurm_gres(f->topo, f->host, &text, gres, sizeof(gres)), 0);
	assert_string_equal(gres, "gpu:mi300x_cpx:16");
	assert_int_equal(count_lines(text, "Name=gpu Type=mi300x_cpx File="), 16);
	/* logical index order: the first line is partition 0's render node, files under the root */
	snprintf(want, sizeof(want), "\nName=gpu Type=mi300x_cpx File=%s/dev/dri/renderD%d Flags=amd_gpu_env\n",
		 f->dir, mipart_topology_partition(f->topo, 0)->render_minor);
	assert_non_null(strstr(text, want));
	assert_null(strstr(text, "Cores="));
	{
		const char *first = strstr(text, "\nName=gpu");
		char first_want[64];

		snprintf(first_want, sizeof(first_want), "/dev/dri/renderD%d ",
			 mipart_topology_partition(f->topo, 0)->render_minor);
		assert_non_null(first);
		assert_true(strstr(first, first_want) < strstr(first + 1, "\nName=gpu"));
	}
	free(text);
	text = NULL;
	assert_int_equal(mipart_slurm_gres(f->topo, f->host, &text, gres, 8), -ENOSPC);
	assert_null(text);

	/* Cores= from the NUMA node's cpulist, when the host states it */
	snprintf(path, sizeof(path), "%s/sys/devices/system/node/node%d", f->dir,
		 mipart_topology_gpu(f->topo, 0)->numa_node);
	assert_int_equal(util_mkdir_p(path), 0);
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "/cpulist");
	assert_int_equal(util_write_file(path, "0-47,96-143\n", 12, 0644), 0);
	assert_int_equal(mipart_slurm_gres(f->topo, f->host, &text, gres, sizeof(gres)), 0);
	assert_non_null(strstr(text, " Cores=0-47,96-143 Flags=amd_gpu_env\n"));
	free(text);

	/* mixed modes: one Gres= entry per type, in the order of the partitions */
	create(f, 1, MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS1);
	assert_int_equal(mipart_slurm_gres(f->topo, f->host, &text, gres, sizeof(gres)), 0);
	assert_string_equal(gres, "gpu:mi300x_spx:1");
	free(text);
}

static void test_settings(void **state)
{
	mipart_slurm_settings s;
	char msg[256];

	(void)state;
	assert_int_equal(slurm_settings_parse("# mipart\n GresConf = x\n", "f", &s, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(slurm_settings_parse("gresconf=/etc/slurm/gres.conf  # the file\n"
					      "NodeName=n1\nReconfigure=yes\n\nDrainOnFailure=no\n",
					      "f", &s, msg, sizeof(msg)), 0);
	assert_string_equal(s.gres_conf, "/etc/slurm/gres.conf");
	assert_string_equal(s.node_name, "n1");
	assert_string_equal(s.scontrol, "scontrol");
	assert_true(s.reconfigure);
	assert_false(s.drain_on_failure);
	assert_int_equal(slurm_settings_parse("Gres=1\n", "f", &s, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "f:1: unknown key 'Gres' (GresConf, SlurmConf, NodeName, Scontrol, Layout, Reconfigure, DrainOnFailure)");
	assert_int_equal(slurm_settings_parse("NodeName=a\nReconfigure=maybe\n", "f", &s, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "f:2: Reconfigure takes yes or no");
	assert_int_equal(slurm_settings_parse("NodeName=n[1-4]\n", "f", &s, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(slurm_settings_parse("novalue\n", "f", &s, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "f:1: expected Key=Value");
}

static void test_set_node_gres(void **state)
{
	char *out = NULL;

	(void)state;
	assert_int_equal(mipart_slurm_set_node_gres("ClusterName=c\nNodeName=n1 CPUs=2 Gres=gpu:mi300x_spx:8 State=UNKNOWN\n"
						    "NodeName=n10 Gres=gpu:1\n", "n1", "gpu:mi300x_cpx:64", &out), 0);
	assert_string_equal(out, "ClusterName=c\nNodeName=n1 CPUs=2 State=UNKNOWN Gres=gpu:mi300x_cpx:64\n"
				 "NodeName=n10 Gres=gpu:1\n");
	free(out);
	out = NULL;
	assert_int_equal(mipart_slurm_set_node_gres("NodeName=n1 CPUs=2", "n1", "gpu:x:1", &out), 0);
	assert_string_equal(out, "NodeName=n1 CPUs=2 Gres=gpu:x:1");
	free(out);
	out = NULL;
	assert_int_equal(mipart_slurm_set_node_gres("NodeName=n[1-4] CPUs=2\n", "n1", "gpu:x:1", &out), -EINVAL);
	assert_int_equal(mipart_slurm_set_node_gres("NodeName=n2 CPUs=2\n", "n1", "gpu:x:1", &out), -ENOENT);
	assert_null(out);
}

static void test_after_change(void **state)
{
	struct fixture *f = *state;
	char path[512], msg[512], buf[8192];

	create(f, 2, MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS1);
	/* no settings: nothing to do */
	assert_int_equal(mipart_slurm_after_change(f->host, msg, sizeof(msg)), 0);
	assert_int_equal(mipart_post_change_run(f->host, NULL, NULL), 0);
	snprintf(path, sizeof(path), "%s/etc/slurm", f->dir);
	assert_int_equal(util_mkdir_p(path), 0);
	snprintf(path, sizeof(path), "%s/etc/slurm/slurm.conf", f->dir);
	assert_int_equal(util_write_filef(path, 0644, "NodeName=sim1 CPUs=2 Gres=gpu:old:1\n"), 0);
	snprintf(path, sizeof(path), "%s" MIPART_SLURM_SETTINGS_PATH, f->dir);
	assert_int_equal(util_write_filef(path, 0644, "GresConf=/etc/slurm/gres.conf\nSlurmConf=/etc/slurm/slurm.conf\nNodeName=sim1\n"), 0);
	assert_int_equal(mipart_slurm_after_change(f->host, msg, sizeof(msg)), 1);
	snprintf(path, sizeof(path), "%s/etc/slurm/slurm.conf", f->dir);
	assert_true(util_read_file(path, buf, sizeof(buf) - 1) > 0);
	assert_string_equal(buf, "NodeName=sim1 CPUs=2 Gres=gpu:mi300x_spx:2\n");
	snprintf(path, sizeof(path), "%s/etc/slurm/gres.conf", f->dir);
	assert_true(util_read_file(path, buf, sizeof(buf) - 1) > 0);
	assert_int_equal(count_lines(buf, "Name=gpu Type=mi300x_spx "), 2);

	/* a failing reconfigure is reported, the files stay written */
	snprintf(path, sizeof(path), "%s" MIPART_SLURM_SETTINGS_PATH, f->dir);
	assert_int_equal(util_write_filef(path, 0644, "GresConf=/etc/slurm/gres.conf\nReconfigure=yes\nScontrol=/bin/false\n"), 0);
	assert_int_equal(mipart_slurm_after_change(f->host, msg, sizeof(msg)), -EIO);
	assert_non_null(strstr(msg, "'/bin/false reconfigure' failed (status 1)"));
	assert_int_equal(mipart_post_change_run(f->host, NULL, NULL), 1);

	/* errors in mipart's words (mipart_strerror, not the C library's "File too large"):
	 * settings over their cap, a slurm.conf that is a directory */
	{
		char *big = malloc(MIPART_SLURM_SETTINGS_MAX_SIZE + 2);

		assert_non_null(big);
		memset(big, '#', MIPART_SLURM_SETTINGS_MAX_SIZE + 1);
		big[MIPART_SLURM_SETTINGS_MAX_SIZE + 1] = '\0';
		assert_int_equal(util_write_file(path, big, MIPART_SLURM_SETTINGS_MAX_SIZE + 1, 0644), 0);
		free(big);
	}
	assert_int_equal(mipart_slurm_after_change(f->host, msg, sizeof(msg)), -EFBIG);
	assert_non_null(strstr(msg, "': file too large"));
}

static const char *env_table[8][2];

static const char *fake_env(const char *name)
{
	for (size_t i = 0; i < 8 && env_table[i][0]; i++)
		if (!strcmp(env_table[i][0], name))
			return env_table[i][1];
	return NULL;
}

static void test_step_partitions(void **state)
{
	struct fixture *f = *state;
	size_t idx[8];
	char msg[256];

	create(f, 2, MIPART_COMPUTE_CPX, MIPART_MEMORY_NPS4);
	memset(env_table, 0, sizeof(env_table));
	assert_int_equal(mipart_slurm_step_partitions(f->topo, fake_env, idx, 8, msg, sizeof(msg)), -ENOENT);
	/* gres indices (mipart's gres.conf is in logical index order) */
	env_table[0][0] = "SLURM_STEP_GPUS";
	env_table[0][1] = "3,9";
	env_table[1][0] = "ROCR_VISIBLE_DEVICES";
	env_table[1][1] = "0";
	assert_int_equal(mipart_slurm_step_partitions(f->topo, fake_env, idx, 8, msg, sizeof(msg)), 2);
	assert_int_equal(mipart_topology_partition(f->topo, idx[0])->index, 3);
	assert_int_equal(mipart_topology_partition(f->topo, idx[1])->index, 9);
	/* without SLURM_*_GPUS: ROCR_VISIBLE_DEVICES */
	env_table[0][0] = "OTHER";
	assert_int_equal(mipart_slurm_step_partitions(f->topo, fake_env, idx, 8, msg, sizeof(msg)), 1);
	assert_int_equal(mipart_topology_partition(f->topo, idx[0])->index, 0);
	/* a render node minor, as Slurm versions that number devices by file name give */
	{
		char minor[16];

		snprintf(minor, sizeof(minor), "%d", mipart_topology_partition(f->topo, 5)->render_minor);
		env_table[0][0] = "SLURM_JOB_GPUS";
		env_table[0][1] = minor;
		assert_int_equal(mipart_slurm_step_partitions(f->topo, fake_env, idx, 8, msg, sizeof(msg)), 1);
		assert_ptr_equal(mipart_topology_partition(f->topo, idx[0]), mipart_topology_partition(f->topo, 5));
	}
	env_table[0][1] = "99";
	assert_int_equal(mipart_slurm_step_partitions(f->topo, fake_env, idx, 8, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "SLURM_JOB_GPUS holds '99', which is no partition of this host");
	env_table[0][1] = "1,x";
	assert_int_equal(mipart_slurm_step_partitions(f->topo, fake_env, idx, 8, msg, sizeof(msg)), -EINVAL);
	env_table[0][1] = "0,1,2";
	assert_int_equal(mipart_slurm_step_partitions(f->topo, fake_env, idx, 2, msg, sizeof(msg)), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_feature_names),
		cmocka_unit_test_setup_teardown(test_mode_features, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_partitioning, setup, teardown),
		cmocka_unit_test_setup_teardown(test_layout_features, setup, teardown),
		cmocka_unit_test_setup_teardown(test_helpers_conf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gres, setup, teardown),
		cmocka_unit_test(test_settings),
		cmocka_unit_test(test_set_node_gres),
		cmocka_unit_test_setup_teardown(test_after_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_step_partitions, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
