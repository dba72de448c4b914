// SPDX-License-Identifier: MIT
/*
 * The "amd-smi" backend: partition writes through AMD's amd-smi CLI instead of sysfs. A write
 * of current_compute_partition runs `amd-smi set -g IDX -C MODE`, one of
 * current_memory_partition `amd-smi set -g IDX -M MODE` with "Y" on stdin, since that command
 * asks "Do you accept these terms? [Y/N]" (amdsmi_helpers.py:
 * confirm_changing_memory_partition_gpu_reload_warning). IDX is amd-smi's index of the GPU's
 * primary partition (BDF function 0, partition_id 0) in `amd-smi list --json`: amd-smi numbers
 * logical devices, so a compute switch moves the index of every later GPU (8 x MI300X in CPX:
 * 64 devices, primaries at 0, 8, 16, ...); the list is therefore read again after every
 * compute write and every reload. amd-smi's exit status alone does not tell success: a
 * refused memory request prints "[AMDSMI_STATUS_...] Unable to set memory partition" and exits
 * 0 (subcommands/set_value.py), so success is the "Successfully set" line and anything else is
 * mapped to an errno from the text. The reload is the sysfs backend's (modprobe), except
 * where amd-smi reloads the driver itself. amd-smi changed here between releases (HARDWARE.md
 * 8.7), so the backend reads `amd-smi version` once and knows three families:
 *  - ROCm <= 6.2: `set -C/-M` and `reset -C/-M` (reset to the boot state: not used); `set -M`
 *    only records the request (amdsmi CHANGELOG, ROCm 6.3 "Removed" names the reset commands);
 *  - ROCm 6.3 and 6.4: `set -M` restarts the driver itself (rocm_smi_lib rocm_smi_device.cc:
 *    Device::restartAMDGpuDriver runs `modprobe -r -v amdgpu && modprobe -v amdgpu`, then
 *    waits for /sys/module/amdgpu/initstate; the CLI shows "40/40 secs remain"), for every GPU
 *    of the hive: mipart then must not reload again;
 *  - ROCm >= 7.0: `set -M` only records the request; the user reloads ("GPU partitioning").
 * Syntax, output and sources: docs/control.md, "amd-smi backend".
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "discover.h"
#include "host.h"
#include "subproc.h"
#include "util.h"
#include "banned.h"

/* Most logical devices read from `amd-smi list` (8 GPUs x 8 partitions is 64). */
#define AMDSMI_LIST_MAX 1024

struct amdsmi_dev {
	int gpu;		/* amd-smi's index */
	int partition;		/* partition_id, -1 when amd-smi does not say */
	char bdf[32];
};

/* Which amd-smi this is (HARDWARE.md 8.7). */
enum amdsmi_family {
	AMDSMI_FAMILY_UNKNOWN,	/* not read yet */
	AMDSMI_FAMILY_LEGACY,	/* ROCm <= 6.2: reset -C/-M exist; set -M records */
	AMDSMI_FAMILY_SELF_RELOAD, /* ROCm 6.3, 6.4: set -M reloads the driver itself */
	AMDSMI_FAMILY_RECORD,	/* ROCm >= 7.0: set -M records the request */
};

struct amdsmi_state {
	const char *path;
	struct amdsmi_dev *devs;
	size_t n;
	bool listed;		/* devs is what amd-smi shows now */
	enum amdsmi_family family;
	char version[128];	/* what `amd-smi version` said (first line), for messages */
	bool self_reloaded;	/* amd-smi reloaded the driver since the last reload() */
};

static bool has(const char *s, const char *needle)
{
	return strcasestr(s, needle) != NULL;
}

/*
 * What a failed command said, as an errno. Texts: amdsmi_cli_exceptions.py
 * (AmdSmiPermissionDeniedException "requires elevation", exit 11;
 * AmdSmiInvalidParameterValueException, exit 5), py-interface/amdsmi_exception.py
 * ("AMDSMI_STATUS_BUSY" and the other status names the set handler prints in brackets). A
 * compute switch the library refuses for another reason reaches the user only as
 * AmdSmiParameterNotSupportedException "Parameter 'set' is not supported on the system"
 * (exit 8: the handler raises ValueError and the cause is lost); that is -EIO, not -EOPNOTSUPP.
 */
static int amdsmi_error(const char *out)
{
	if (has(out, "requires elevation") || has(out, "AMDSMI_STATUS_NO_PERM") ||
	    has(out, "permission denied"))
		return -EPERM;
	if (has(out, "AMDSMI_STATUS_BUSY") || has(out, "busy") || has(out, "in use"))
		return -EBUSY;
	if (has(out, "AMDSMI_STATUS_NOT_SUPPORTED") || has(out, "does not support"))
		return -EOPNOTSUPP;
	if (has(out, "AMDSMI_STATUS_INVAL") || has(out, "AMDSMI_STATUS_SETTING_UNAVAILABLE") ||
	    has(out, "invalid"))
		return -EINVAL;
	if (has(out, "AMDSMI_STATUS_TIMEOUT"))
		return -ETIMEDOUT;
	return -EIO;
}

/* Keep out (owned, may be NULL) as the output of the last failure, without the warning that
 * `set -M` prints before its prompt ("[Y/N] " up to ROCm 7.x, "[y/n] " in the newest:
 * amdsmi_helpers.py confirm_changing_memory_partition_gpu_reload_warning). */
static void keep_output(struct mipart_backend *b, char *out)
{
	const char *prompt = "[Y/N] ";
	char *p;

	free(b->output);
	b->output = out;
	if (!out)
		return;
	p = strcasestr(out, prompt);
	if (p) {
		p += strlen(prompt);
		memmove(out, p, strlen(p) + 1);
	}
}

/* Run an amd-smi command. Returns 0 with *ret filled (free ret->output), or -errno when it
 * could not run (-ENOENT, -ETIMEDOUT, ...; then b->output is cleared). */
static int amdsmi_run(struct mipart_backend *b, const char *const *argv, const char *input,
		      struct spawn_result *ret)
{
	int r = spawn_run_input((char *const *)argv, input, b->timeout_ms, ret);

	if (r < 0)
		keep_output(b, NULL);
	return r;
}

static int parse_partition(json_t *v)
{
	uint64_t u;

	if (json_is_integer(v))
		return json_integer_value(v) >= 0 && json_integer_value(v) < 64
			       ? (int)json_integer_value(v)
			       : -1;
	if (json_is_string(v) &&
	    util_parse_u64(json_string_value(v), strlen(json_string_value(v)), &u) == 0 && u < 64)
		return (int)u;
	return -1;
}

/*
 * The devices of `amd-smi list --json`: a JSON array of {"gpu", "bdf", "uuid", "kfd_id",
 * "node_id", "partition_id"} (subcommands/list_devices.py, amdsmi_logger.py
 * _print_json_output); an object with a "gpu_data" array is accepted too. Lines before the
 * JSON (warnings, even ones starting with '[') are skipped.
 */
static int parse_list(struct amdsmi_state *st, const char *out)
{
	json_t *root = NULL, *arr;
	json_error_t err;
	size_t i, n = 0;
	struct amdsmi_dev *devs;

	/* the first line that starts a JSON value which parses */
	for (const char *p = out; p && !root; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (*p == '[' || *p == '{')
			root = json_loads(p, JSON_DISABLE_EOF_CHECK, &err);
	if (!root)
		return -EIO;
	arr = json_is_object(root) ? json_object_get(root, "gpu_data") : root;
	if (!json_is_array(arr) || json_array_size(arr) > AMDSMI_LIST_MAX) {
		json_decref(root);
		return -EIO;
	}
	devs = calloc(json_array_size(arr) + 1, sizeof(*devs));
	if (!devs) {
		json_decref(root);
		return -ENOMEM;
	}
	for (i = 0; i < json_array_size(arr); i++) {
		json_t *e = json_array_get(arr, i), *gpu = json_object_get(e, "gpu");
		const char *bdf = json_string_value(json_object_get(e, "bdf"));

		if (!json_is_integer(gpu) || json_integer_value(gpu) < 0 ||
		    json_integer_value(gpu) > AMDSMI_LIST_MAX || !bdf ||
		    strlen(bdf) >= sizeof(devs[n].bdf))
			continue;
		devs[n].gpu = (int)json_integer_value(gpu);
		devs[n].partition = parse_partition(json_object_get(e, "partition_id"));
		util_strlcpy(devs[n].bdf, bdf, sizeof(devs[n].bdf));
		n++;
	}
	json_decref(root);
	free(st->devs);
	st->devs = devs;
	st->n = n;
	st->listed = true;
	return 0;
}

/* "X.Y" at s: returns X * 100 + Y, or -1. */
static int parse_major_minor(const char *s)
{
	unsigned long x = 0, y = 0;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	x = strtoul(s, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9' || x > 1000)
		return -1;
	y = strtoul(end + 1, &end, 10);
	return y > 99 ? -1 : (int)(x * 100 + y);
}

/*
 * The family from `amd-smi version`: "AMDSMI Tool: 26.0.2+39589fda | AMDSMI Library version:
 * 26.0.2 | ROCm version: 7.0.2 | amdgpu version: 6.14.14 | amd_hsmp version: N/A" (real
 * output quoted in tests/fixtures/amd-smi/README.md). The ROCm version decides; when it reads
 * N/A (amd-smi outside a ROCm install, amdsmi CHANGELOG 6.3: "ROCm version: N/A") the tool's
 * version does, which follows the release: 24.6 shipped with ROCm 6.2, 24.7 with 6.3, 25.x
 * with 6.4, 26.x with 7.0 (the version lines quoted in the README).
 */
static enum amdsmi_family family_from_version(const char *out)
{
	const char *p = strstr(out, "ROCm version: ");
	int v;

	if (p && (v = parse_major_minor(p + 14)) >= 0)
		return v <= 602 ? AMDSMI_FAMILY_LEGACY
		       : v <= 604 ? AMDSMI_FAMILY_SELF_RELOAD
				  : AMDSMI_FAMILY_RECORD;
	p = strstr(out, "AMDSMI Tool: ");
	if (p && (v = parse_major_minor(p + 13)) >= 0)
		return v <= 2406 ? AMDSMI_FAMILY_LEGACY
		       : v < 2600 ? AMDSMI_FAMILY_SELF_RELOAD
				  : AMDSMI_FAMILY_RECORD;
	return AMDSMI_FAMILY_UNKNOWN;
}

/* Read `amd-smi version` once. A version that cannot be read or told is taken as the newest
 * family: mipart then reloads itself, and verification shows whether the modes arrived. */
static void amdsmi_read_version(struct mipart_backend *b)
{
	struct amdsmi_state *st = b->priv;
	const char *argv[] = { st->path, "version", NULL };
	struct spawn_result res;

	if (st->family != AMDSMI_FAMILY_UNKNOWN)
		return;
	st->family = AMDSMI_FAMILY_RECORD;
	if (spawn_run((char *const *)argv, b->timeout_ms, &res) < 0)
		return;
	if (res.status == 0) {
		enum amdsmi_family f = family_from_version(res.output);
		size_t len = strcspn(res.output, "\n");

		if (f != AMDSMI_FAMILY_UNKNOWN)
			st->family = f;
		snprintf(st->version, sizeof(st->version), "%.*s",
			 (int)(len < sizeof(st->version) ? len : sizeof(st->version) - 1), res.output);
	}
	free(res.output);
}

static int amdsmi_list(struct mipart_backend *b)
{
	struct amdsmi_state *st = b->priv;
	const char *argv[] = { st->path, "list", "--json", NULL };
	struct spawn_result res;
	int r = amdsmi_run(b, argv, NULL, &res);

	if (r < 0)
		return r;
	r = res.status == 0 ? parse_list(st, res.output) : amdsmi_error(res.output);
	if (r < 0)
		keep_output(b, res.output);
	else
		free(res.output);
	return r;
}

/*
 * amd-smi's index of the primary partition of the GPU at bdf: the device listed with that BDF
 * (case-insensitive; partitions 1-7 show functions .1-.7) and partition_id 0, else the lowest
 * index with that BDF (drivers that put the partition only in BDFID bits [31:28]).
 */
static int primary_index(struct mipart_backend *b, const char *bdf, int *ret)
{
	struct amdsmi_state *st = b->priv;
	int best = -1, r;

	if (!st->listed) {
		r = amdsmi_list(b);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < st->n; i++) {
		const struct amdsmi_dev *d = &st->devs[i];

		if (strcasecmp(d->bdf, bdf))
			continue;
		if (d->partition == 0) {
			best = d->gpu;
			break;
		}
		if (best < 0 || d->gpu < best)
			best = d->gpu;
	}
	if (best < 0) {
		keep_output(b, NULL);
		return -ENODEV;
	}
	*ret = best;
	return 0;
}

/* Whether the GPU at bdf shows memory mode value now (its current_memory_partition). */
static bool current_memory_is(struct mipart_backend *b, const char *bdf, const char *value)
{
	char rel[256], path[MIPART_PATH_MAX], buf[64];
	ssize_t n;

	if (util_pathf(rel, sizeof(rel), SYSFS_PCI_DEVICES "/%s/current_memory_partition", bdf) < 0 ||
	    mipart_host_path(b->host, rel, path, sizeof(path)) < 0)
		return false;
	n = util_read_file(path, buf, sizeof(buf) - 1);
	return n > 0 && (size_t)util_line_len(buf, (size_t)n) == strlen(value) &&
	       !strncasecmp(buf, value, strlen(value));
}

static int amdsmi_write_attr(struct mipart_backend *b, const char *bdf, const char *attr,
			     const char *value)
{
	struct amdsmi_state *st = b->priv;
	bool compute = !strcmp(attr, "current_compute_partition");
	struct spawn_result res;
	char idx[16];
	const char *argv[] = { NULL, "set", "-g", idx, NULL, NULL, NULL };
	int gpu, r;

	if (!compute && strcmp(attr, "current_memory_partition"))
		return -EOPNOTSUPP;
	amdsmi_read_version(b);
	/* ROCm 6.3/6.4: an earlier `set -M` reloaded the driver, which applied the request to
	 * every GPU of the hive; asking again would reload once more (rocm_smi_lib:
	 * rsmi_dev_memory_partition_set restarts the driver on every successful set) */
	if (!compute && st->family == AMDSMI_FAMILY_SELF_RELOAD && st->self_reloaded &&
	    current_memory_is(b, bdf, value))
		return 0;
	r = primary_index(b, bdf, &gpu);
	if (r < 0)
		return r;
	snprintf(idx, sizeof(idx), "%d", gpu);
	argv[0] = st->path;
	argv[4] = compute ? "-C" : "-M";
	argv[5] = value;
	/* "Y" answers the prompt, [Y/N] or [y/n] alike (both accept 'Y') */
	r = amdsmi_run(b, argv, compute ? NULL : "Y\n", &res);
	if (compute || st->family == AMDSMI_FAMILY_SELF_RELOAD)
		st->listed = false; /* the logical devices may have changed */
	if (r < 0)
		return r;
	r = res.status == 0 && has(res.output, "Successfully set") ? 0 : amdsmi_error(res.output);
	if (r == 0 && !compute && st->family == AMDSMI_FAMILY_SELF_RELOAD)
		st->self_reloaded = true;
	if (r < 0)
		keep_output(b, res.output);
	else
		free(res.output);
	return r;
}

static int amdsmi_reload(struct mipart_backend *b, char **ret_output)
{
	struct amdsmi_state *st = b->priv;

	st->listed = false;
	/* amd-smi 6.3/6.4 reloaded the driver after its `set -M`: never reload twice */
	if (st->self_reloaded) {
		st->self_reloaded = false;
		return 0;
	}
	return backend_reload_modprobe(b, ret_output);
}

static int amdsmi_load(struct mipart_backend *b, char **ret_output)
{
	struct amdsmi_state *st = b->priv;

	st->listed = false;
	return backend_load_modprobe(b, ret_output);
}

static void amdsmi_release(struct mipart_backend *b)
{
	struct amdsmi_state *st = b->priv;

	if (st)
		free(st->devs);
	free(st);
	b->priv = NULL;
}

const struct backend_ops backend_amdsmi_ops = {
	.version = BACKEND_OPS_VERSION,
	.name = "amd-smi",
	.write_attr = amdsmi_write_attr,
	.reload = amdsmi_reload,
	.load = amdsmi_load,
	.release = amdsmi_release,
};

static bool is_executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Whether path names an executable: as given when it holds a '/', else searched in PATH as
 * posix_spawnp will (glibc's default path when PATH is unset). */
static bool find_program(const char *path)
{
	const char *dirs = getenv("PATH");
	char full[4096];

	if (strchr(path, '/'))
		return is_executable(path);
	if (!dirs)
		dirs = "/bin:/usr/bin";
	while (*dirs) {
		size_t len = strcspn(dirs, ":");

		/* an empty entry is the current directory */
		if (snprintf(full, sizeof(full), "%.*s%s%s", (int)len, dirs, len ? "/" : "",
			     path) < (int)sizeof(full) &&
		    is_executable(full))
			return true;
		dirs += len;
		if (*dirs == ':')
			dirs++;
	}
	return false;
}

int backend_amdsmi_init(struct mipart_backend *b, const char *path)
{
	struct amdsmi_state *st;

	if (!path)
		path = "amd-smi";
	if (!*path || !find_program(path))
		return -ENOENT;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->path = path;
	b->priv = st;
	return 0;
}

int backend_amdsmi_parse(const char *out, size_t *ret_n, int *ret_error)
{
	struct amdsmi_state st = { 0 };
	int r = parse_list(&st, out);

	if (r == 0)
		*ret_n = st.n;
	free(st.devs);
	*ret_error = amdsmi_error(out);
	return r;
}
