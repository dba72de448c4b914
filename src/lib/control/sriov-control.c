// SPDX-License-Identifier: MIT
/*
 * SR-IOV changes: the VF count of a PF and the driver a VF is bound to. Policy here: which counts
 * are offered (the host driver's table), what blocks a change (a VM holding a VF that the change
 * destroys: for GIM every VF of the host, since a GIM reload recreates them all), the order of
 * the writes, verification by re-reading sysfs, the rollback, the journal and the host lock.
 * The writes go through a small backend (sysfs of a real host, or the simulated GIM host), so
 * nothing above it knows which one it talks to.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mipart/apply.h"
#include "mipart/error.h"
#include "mipart/journal.h"
#include "mipart/sim-sriov.h"
#include "mipart/sriov.h"
#include "sriov-control.h"
#include "apply-state.h"
#include "subproc.h"
#include "util.h"
#include "banned.h"

#define SRIOV_CONFIG "/etc/gim_config"
#define SRIOV_CONFIG_MAX (64 * 1024)
#define SRIOV_LOCK_TIMEOUT_MS 10000

/* The backend: where the writes and the GIM reload go. */
struct sriov_backend {
	unsigned version;
	/* write value to the sysfs file path (absolute, under the host's root) */
	int (*write)(const mipart_host *host, const char *path, const char *value);
	/* modprobe -r gim / modprobe gim (or the configured commands) */
	int (*reload)(const mipart_host *host, const mipart_sriov_options *o, bool load,
		      char *err, size_t errsize);
};

static int sysfs_write(const mipart_host *host, const char *path, const char *value)
{
	char full[MIPART_PATH_MAX];
	int r = mipart_host_path(host, path, full, sizeof(full));

	return r < 0 ? r : util_write_attr(full, value, strlen(value));
}

static int run_words(const char *const *words, unsigned timeout_ms, char *err, size_t errsize)
{
	struct spawn_result res = { 0 };
	int r = spawn_run((char *const *)words, timeout_ms, &res);

	if (r < 0) {
		snprintf(err, errsize, "cannot run '%s': %s", words[0], mipart_strerror(r));
		return r;
	}
	if (res.status != 0) {
		char shown[200];

		snprintf(err, errsize, "'%s' exited with %d: %s", words[0], res.status,
			 util_show(res.output ? res.output : "", res.len, 160, shown, sizeof(shown)));
		r = -EIO;
	}
	free(res.output);
	return r;
}

static int sysfs_reload(const mipart_host *host, const mipart_sriov_options *o, bool load,
			char *err, size_t errsize)
{
	static const char *const unload[] = { "modprobe", "-r", "gim", NULL };
	static const char *const loadw[] = { "modprobe", "gim", NULL };
	const char *const *words = load ? (o->load ? o->load : loadw) : (o->unload ? o->unload : unload);

	/* A captured tree under --root is never reloaded with this machine's modprobe. */
	if (mipart_host_root(host)[0] && !(load ? o->load : o->unload)) {
		snprintf(err, errsize, "no reload command for a host under --root; give "
				       "--unload-command and --load-command");
		return -EOPNOTSUPP;
	}
	return run_words(words, o->reload_timeout_ms ? o->reload_timeout_ms : 120000, err, errsize);
}

static const struct sriov_backend sysfs_backend = { 1, sysfs_write, sysfs_reload };

static int sim_write(const mipart_host *host, const char *path, const char *value)
{
	return mipart_sim_sriov_write(mipart_host_root(host), path + 1, value);
}

static int sim_reload(const mipart_host *host, const mipart_sriov_options *o, bool load,
		      char *err, size_t errsize)
{
	const char *const *words = load ? o->load : o->unload;
	int r;

	/* configured commands run as on a real host (tests inject failures that way) */
	if (words) {
		r = run_words(words, o->reload_timeout_ms ? o->reload_timeout_ms : 120000, err,
			      errsize);
		if (r < 0)
			return r;
	}
	r = load ? mipart_sim_sriov_load(mipart_host_root(host))
		 : mipart_sim_sriov_unload(mipart_host_root(host));
	if (r == -EBUSY)
		snprintf(err, errsize, "gim cannot unload while a VF is in use");
	else if (r < 0)
		snprintf(err, errsize, "%s gim: %s", load ? "loading" : "unloading",
			 mipart_strerror(r));
	return r;
}

static const struct sriov_backend sim_backend = { 1, sim_write, sim_reload };

static const struct sriov_backend *backend_for(const mipart_host *host)
{
	return mipart_sim_sriov_is(host) ? &sim_backend : &sysfs_backend;
}

static char *msgf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *msgf(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* "pid 4242 (qemu-system-x86) of VM 'vm1' holds VF 0000:05:02.1" for each user in vfs */
static size_t describe_users(const mipart_pf *pfs, size_t npf, char *buf, size_t size)
{
	size_t len = 0, n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < npf; i++)
		for (size_t k = 0; k < pfs[i].n_vfs; k++) {
			const mipart_vf *vf = &pfs[i].vfs[k];
			char comm[64], vm[160];

			if (!vf->user.pid)
				continue;
			util_show(vf->user.comm, strlen(vf->user.comm), 31, comm, sizeof(comm));
			util_show(vf->user.vm, strlen(vf->user.vm), 60, vm, sizeof(vm));
			if (len < size)
				len += (size_t)snprintf(buf + len, size - len,
							"%spid %d (%s%s%s%s) holds VF %s", n ? "; " : "",
							vf->user.pid, comm, vm[0] ? " of VM '" : "", vm,
							vm[0] ? "'" : "", vf->bdf);
			n++;
		}
	return n;
}

/* Entry idx of GIM's vf_num array in config ("vf_num=8,8"; a missing entry repeats the last
 * one, gim_config.c: gim_handle_array_token), or 0 when the file has none. */
static unsigned config_vf_num(const char *config, size_t idx)
{
	const char *line = config;

	while (line && *line) {
		if (!strncmp(line, "vf_num=", 7)) {
			const char *v = line + 7;
			unsigned last = 0;

			for (size_t i = 0; i <= idx; i++) {
				unsigned long x = 0;
				int digits = 0;

				while (*v >= '0' && *v <= '9' && digits < 3) {
					x = x * 10 + (unsigned long)(*v++ - '0');
					digits++;
				}
				if (digits)
					last = (unsigned)x;
				if (*v != ',')
					break;
				v++;
			}
			return last;
		}
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	return 0;
}

/* The vf_num line of GIM's config with entry idx set to count; every other line kept. */
static char *edit_config(const char *old, size_t gim_gpus, const unsigned *counts)
{
	size_t cap = (old ? strlen(old) : 0) + 32 * (gim_gpus + 1) + 16, len = 0;
	char *out = malloc(cap);
	const char *line = old;
	bool done = false;

	if (!out)
		return NULL;
	out[0] = '\0';
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t l = nl ? (size_t)(nl - line) : strlen(line);

		if (l >= 7 && !strncmp(line, "vf_num=", 7)) {
			if (!done) {
				len += (size_t)snprintf(out + len, cap - len, "vf_num=");
				for (size_t i = 0; i < gim_gpus; i++)
					len += (size_t)snprintf(out + len, cap - len, "%s%u",
								i ? "," : "", counts[i]);
				len += (size_t)snprintf(out + len, cap - len, "\n");
				done = true;
			}
		} else {
			len += (size_t)snprintf(out + len, cap - len, "%.*s\n", (int)l, line);
		}
		line = nl ? nl + 1 : NULL;
	}
	if (!done) {
		len += (size_t)snprintf(out + len, cap - len, "vf_num=");
		for (size_t i = 0; i < gim_gpus; i++)
			len += (size_t)snprintf(out + len, cap - len, "%s%u", i ? "," : "", counts[i]);
		snprintf(out + len, cap - len, "\n");
	}
	return out;
}

static char *state_json(const mipart_sriov *s, const char *pf_bdf, int count)
{
	json_t *a = json_array();
	char *text;

	for (size_t i = 0; i < mipart_sriov_count(s); i++) {
		const mipart_pf *pf = mipart_sriov_get(s, i);

		json_array_append_new(a, json_pack("{s:s,s:i}", "pf", pf->bdf, "vfs",
						   count >= 0 && !strcmp(pf->bdf, pf_bdf)
							   ? count
							   : (int)pf->num_vfs));
	}
	json_t *o = json_pack("{s:o}", "sriov", a);

	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return text;
}

struct vfchange {
	const mipart_host *host;
	const mipart_sriov_options *o;
	const struct sriov_backend *be;
	mipart_journal *j;
	int64_t id;
};

/* Whether GIM is loaded: its module directory (kernel/module/sysfs.c). */
static bool gim_loaded(const mipart_host *host)
{
	char path[MIPART_PATH_MAX];

	return mipart_host_path(host, "/sys/module/gim", path, sizeof(path)) >= 0 &&
	       access(path, F_OK) == 0;
}

/* A PF that GIM drives, or would drive once loaded (its config exists, no driver bound). */
static bool uses_gim(const mipart_host *host, const mipart_pf *pf)
{
	char path[MIPART_PATH_MAX];

	if (!strcmp(pf->driver, "gim"))
		return true;
	return !pf->driver[0] && mipart_host_path(host, SRIOV_CONFIG, path, sizeof(path)) >= 0 &&
	       access(path, F_OK) == 0;
}

static int gim_apply(struct vfchange *c, const char *config, char *err, size_t errsize)
{
	char path[MIPART_PATH_MAX];
	int r;

	r = mipart_host_path(c->host, SRIOV_CONFIG, path, sizeof(path));
	if (r < 0)
		return r;
	if (c->j)
		mipart_journal_step(c->j, c->id, "config-write");
	r = util_write_file_durable(path, config, strlen(config), 0644);
	if (r < 0) {
		snprintf(err, errsize, "cannot write '%s': %s", SRIOV_CONFIG, mipart_strerror(r));
		return r;
	}
	if (c->j)
		mipart_journal_step(c->j, c->id, "reload");
	/* modprobe -r of a module that is not loaded fails: unload only a loaded GIM */
	if (gim_loaded(c->host)) {
		r = c->be->reload(c->host, c->o, false, err, errsize);
		if (r < 0)
			return r;
	}
	return c->be->reload(c->host, c->o, true, err, errsize);
}

int mipart_sriov_set_count(const mipart_host *host, const char *pf_bdf, unsigned count,
			   const mipart_sriov_options *opts, char **ret_msg)
{
	static const mipart_sriov_options defaults = { 0 };
	const mipart_sriov_options *o = opts ? opts : &defaults;
	struct vfchange c = { .host = host, .o = o, .be = backend_for(host) };
	mipart_sriov *s = NULL, *after = NULL;
	char users[1024], err[512] = "", holder[256] = "", path[MIPART_PATH_MAX];
	char *before = NULL, *target = NULL, *old_config = NULL, *new_config = NULL, *msg = NULL;
	unsigned counts[8], gim_counts[64];
	const char *modes[8];
	const mipart_pf *pf;
	size_t n, gim_gpus = 0;
	bool offered = false, gim = false;
	int lockfd = -1, r;

	*ret_msg = NULL;
	if (!o->dry_run) {
		lockfd = mipart_host_lock(host, o->lock_timeout_ms ? o->lock_timeout_ms
								   : SRIOV_LOCK_TIMEOUT_MS,
					  o->command ? o->command : "mipart vf", holder,
					  sizeof(holder));
		if (lockfd < 0) {
			msg = lockfd == -ETIMEDOUT
				      ? msgf("another mipart is changing the host (%s); try again "
					     "when it is done", holder)
				      : msgf("cannot take the host lock: %s", mipart_strerror(lockfd));
			r = lockfd;
			goto out;
		}
	}
	r = mipart_sriov_scan(host, &s);
	if (r < 0) {
		msg = msgf("cannot list PCI devices: %s", mipart_strerror(r));
		goto out;
	}
	pf = mipart_sriov_find_pf(s, pf_bdf);
	if (!pf) {
		msg = msgf("no SR-IOV physical function '%s' (mipart vf list shows them)", pf_bdf);
		r = -EINVAL;
		goto out;
	}
	n = mipart_sriov_allowed(pf->device_id, counts, modes, ARRAY_SIZE(counts));
	for (size_t i = 0; i < n; i++)
		offered |= counts[i] == count;
	if (!offered) {
		char list[128] = "";
		size_t len = 0;

		for (size_t i = 0; i < n; i++)
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%u (%s)",
						i ? ", " : "", counts[i], modes[i]);
		if (!n)
			msg = msgf("PF %s (%s, device 0x%04x): GIM offers no SR-IOV on it", pf->bdf,
				   pf->product ? pf->product : "unknown", pf->device_id);
		else if (count == 0 && uses_gim(host, pf))
			msg = msgf("GIM keeps at least one VF on every GPU it drives (gim_config.h: "
				   "VF_NUMBER__START 1); counts offered on PF %s: %s. To give the "
				   "GPU back to amdgpu, leave it out of GIM's enabled_devices and "
				   "reload GIM",
				   pf->bdf, list);
		else
			msg = msgf("PF %s (%s): %u VFs is not offered; counts offered: %s", pf->bdf,
				   pf->product ? pf->product : "unknown", count, list);
		r = -EINVAL;
		goto out;
	}
	if (pf->num_vfs == count) {
		msg = msgf("PF %s already has %u VFs; nothing to change", pf->bdf, count);
		r = 0;
		goto out;
	}
	/* GIM recreates every VF of the host on reload; sriov_numvfs only this PF's */
	gim = uses_gim(host, pf);
	if (gim) {
		const mipart_pf *all = mipart_sriov_get(s, 0);

		if (describe_users(all, mipart_sriov_count(s), users, sizeof(users))) {
			msg = msgf("refused: a GIM reload destroys every VF of the host and %s; stop "
				   "those virtual machines first",
				   users);
			r = -EBUSY;
			goto out;
		}
		for (size_t i = 0; i < mipart_sriov_count(s) && gim_gpus < ARRAY_SIZE(gim_counts); i++) {
			const mipart_pf *p = mipart_sriov_get(s, i);

			if (p->gim_index < 0 && !(p == pf || (!p->driver[0] &&
						       mipart_sriov_allowed(p->device_id, NULL, NULL, 0))))
				continue;
			gim_counts[gim_gpus] = p == pf ? count : p->num_vfs;
			gim_gpus++;
		}
		r = mipart_host_path(host, SRIOV_CONFIG, path, sizeof(path));
		if (r >= 0) {
			old_config = malloc(SRIOV_CONFIG_MAX + 1);
			if (!old_config) {
				r = -ENOMEM;
				goto out;
			}
			r = (int)util_read_file(path, old_config, SRIOV_CONFIG_MAX);
			if (r == -ENOENT) {
				old_config[0] = '\0';
				r = 0;
			}
		}
		if (r < 0) {
			msg = msgf("cannot read '%s': %s", SRIOV_CONFIG, mipart_strerror(r));
			goto out;
		}
		/* a GPU without VFs now (GIM not loaded) keeps what the config asks for it */
		for (size_t i = 0; i < gim_gpus; i++)
			if (!gim_counts[i]) {
				unsigned want = config_vf_num(old_config, i);

				gim_counts[i] = want ? want : 1;
			}
		new_config = edit_config(old_config, gim_gpus, gim_counts);
		if (!new_config) {
			r = -ENOMEM;
			goto out;
		}
		if (o->dry_run) {
			msg = msgf("would write '%s' with vf_num for GIM GPU %d = %u (%s), then reload "
				   "GIM (every VF of the host is recreated, unbound)",
				   SRIOV_CONFIG, pf->gim_index, count,
				   modes[0] ? modes[0] : "");
			for (size_t i = 0; i < n; i++)
				if (counts[i] == count) {
					free(msg);
					msg = msgf("would write '%s' with vf_num for GIM GPU %d = %u "
						   "(%s), then reload GIM (every VF of the host is "
						   "recreated, unbound)",
						   SRIOV_CONFIG, pf->gim_index, count, modes[i]);
				}
			r = 0;
			goto out;
		}
	} else {
		for (size_t k = 0; k < pf->n_vfs; k++)
			if (pf->vfs[k].user.pid) {
				describe_users(pf, 1, users, sizeof(users));
				msg = msgf("refused: %s; stop those virtual machines first", users);
				r = -EBUSY;
				goto out;
			}
		if (o->dry_run) {
			msg = msgf("would write 0 then %u to /sys/bus/pci/devices/%s/sriov_numvfs",
				   count, pf->bdf);
			r = 0;
			goto out;
		}
	}

	/* the change, journaled */
	before = state_json(s, pf->bdf, -1);
	target = state_json(s, pf->bdf, (int)count);
	{
		char jpath[MIPART_PATH_MAX];

		if (o->journal_path)
			util_strlcpy(jpath, o->journal_path, sizeof(jpath));
		else if (mipart_host_path(host, MIPART_JOURNAL_PATH, jpath, sizeof(jpath)) < 0)
			jpath[0] = '\0';
		if (!jpath[0] || mipart_journal_open(jpath, &c.j) < 0) {
			msg = msgf("cannot open the journal; nothing was changed");
			r = -EIO;
			goto out;
		}
		/* like every change: none while an earlier one is unresolved */
		r = apply_unresolved(c.j, err, sizeof(err));
		if (r < 0) {
			msg = msgf("%s", err);
			goto out;
		}
		if (mipart_journal_begin(c.j, o->uid, o->command ? o->command : "mipart vf", before,
					 target, &c.id) < 0) {
			msg = msgf("cannot write the journal; nothing was changed");
			r = -EIO;
			goto out;
		}
	}
	if (gim) {
		r = gim_apply(&c, new_config, err, sizeof(err));
	} else {
		char rel[96], val[16];

		snprintf(rel, sizeof(rel), "/sys/bus/pci/devices/%s/sriov_numvfs", pf->bdf);
		mipart_journal_step(c.j, c.id, "numvfs-write");
		/* the count can only change from 0 (drivers/pci/iov.c: sriov_numvfs_store) */
		r = pf->num_vfs ? c.be->write(host, rel, "0") : 0;
		snprintf(val, sizeof(val), "%u", count);
		if (r == 0 && count)
			r = c.be->write(host, rel, val);
		if (r == -ENOENT) {
			snprintf(err, sizeof(err), "driver '%s' does not create VFs through "
						   "sriov_numvfs", pf->driver[0] ? pf->driver : "(none)");
			r = -EOPNOTSUPP;
		} else if (r < 0) {
			snprintf(err, sizeof(err), "writing sriov_numvfs: %s", mipart_strerror(r));
		}
		if (r < 0 && mipart_sriov_pf_vfs(host, pf->bdf) == pf->num_vfs) {
			/* the write was refused before anything changed */
			mipart_journal_finish(c.j, c.id, "rolled-back", NULL, err);
			msg = msgf("%s; nothing was changed (journal change %lld)", err,
				   (long long)c.id);
			goto out;
		}
	}
	if (r == 0) {
		const mipart_pf *np;

		mipart_journal_step(c.j, c.id, "verify");
		r = mipart_sriov_scan(host, &after);
		np = r == 0 ? mipart_sriov_find_pf(after, pf->bdf) : NULL;
		if (!np || np->num_vfs != count || np->n_vfs != count) {
			snprintf(err, sizeof(err), "PF %s shows %u VFs after the change, not %u",
				 pf->bdf, np ? np->num_vfs : 0, count);
			r = -EIO;
		}
	}
	if (r == 0) {
		char *a = state_json(after, pf->bdf, -1);

		mipart_journal_finish(c.j, c.id, "done", a, NULL);
		free(a);
		msg = msgf("PF %s now has %u VFs (journal change %lld)", pf->bdf, count,
			   (long long)c.id);
		goto out;
	}
	/* roll back: the old config and another reload (GIM), or the old count */
	{
		char rb[512] = "";
		int r2;

		if (gim) {
			r2 = gim_apply(&c, old_config, rb, sizeof(rb));
		} else {
			char rel[96], val[16];

			snprintf(rel, sizeof(rel), "/sys/bus/pci/devices/%s/sriov_numvfs", pf->bdf);
			snprintf(val, sizeof(val), "%u", pf->num_vfs);
			r2 = c.be->write(host, rel, "0");
			if (r2 == 0 && pf->num_vfs)
				r2 = c.be->write(host, rel, val);
		}
		if (r2 < 0 && !rb[0])
			snprintf(rb, sizeof(rb), "%s", mipart_strerror(r2));
		mipart_journal_finish(c.j, c.id, r2 == 0 ? "rolled-back" : "failed", NULL, err);
		msg = r2 == 0 ? msgf("%s; rolled back to %u VFs (journal change %lld)", err,
				     pf->num_vfs, (long long)c.id)
			      : msgf("%s; ROLLBACK FAILED: %s (journal change %lld)", err, rb,
				     (long long)c.id);
	}
out:
	if (!msg)
		msg = msgf("%s", mipart_strerror(r));
	*ret_msg = msg;
	free(before);
	free(target);
	free(old_config);
	free(new_config);
	mipart_sriov_free(s);
	mipart_sriov_free(after);
	mipart_journal_free(c.j);
	if (lockfd >= 0)
		mipart_host_unlock(lockfd);
	return r;
}

int mipart_sriov_bind(const mipart_host *host, const char *vf_bdf, const char *driver,
		      bool dry_run, char **ret_msg)
{
	const struct sriov_backend *be = backend_for(host);
	mipart_sriov *s = NULL, *after = NULL;
	const mipart_vf *vf, *nv;
	const mipart_pf *pf = NULL;
	char rel[128], *msg = NULL;
	int r;

	*ret_msg = NULL;
	if (!driver || !driver[0] || strlen(driver) > 31 || strpbrk(driver, "/\n ")) {
		*ret_msg = msgf("invalid driver name");
		return -EINVAL;
	}
	r = mipart_sriov_scan(host, &s);
	if (r < 0) {
		msg = msgf("cannot list PCI devices: %s", mipart_strerror(r));
		goto out;
	}
	vf = mipart_sriov_find_vf(s, vf_bdf, &pf);
	if (!vf) {
		msg = msgf("no virtual function '%s' (mipart vf list shows them)", vf_bdf);
		r = -ENOENT;
		goto out;
	}
	if (!strcmp(vf->driver, driver)) {
		msg = msgf("VF %s is already bound to %s", vf->bdf, driver);
		r = 0;
		goto out;
	}
	if (vf->user.pid) {
		char users[512];

		describe_users(pf, 1, users, sizeof(users));
		msg = msgf("refused: %s", users);
		r = -EBUSY;
		goto out;
	}
	if (dry_run) {
		msg = msgf("would write '%s' to driver_override of %s%s%s, then probe it", driver,
			   vf->bdf, vf->driver[0] ? ", unbind it from " : "", vf->driver);
		r = 0;
		goto out;
	}
	/* Documentation/ABI/testing/sysfs-bus-pci: driver_override, then drivers_probe */
	snprintf(rel, sizeof(rel), "/sys/bus/pci/devices/%s/driver_override", vf->bdf);
	r = be->write(host, rel, driver);
	if (r == 0 && vf->driver[0]) {
		snprintf(rel, sizeof(rel), "/sys/bus/pci/devices/%s/driver/unbind", vf->bdf);
		r = be->write(host, rel, vf->bdf);
	}
	if (r == 0)
		r = be->write(host, "/sys/bus/pci/drivers_probe", vf->bdf);
	if (r < 0) {
		msg = msgf("binding %s to %s: %s", vf->bdf, driver, mipart_strerror(r));
		goto out;
	}
	r = mipart_sriov_scan(host, &after);
	nv = r == 0 ? mipart_sriov_find_vf(after, vf->bdf, NULL) : NULL;
	if (!nv || strcmp(nv->driver, driver)) {
		msg = msgf("VF %s is not bound to %s after the probe (is the %s module loaded?)",
			   vf->bdf, driver, driver);
		r = -ENODEV;
		goto out;
	}
	msg = msgf("VF %s bound to %s%s", vf->bdf, driver,
		   nv->iommu_group >= 0 ? "" : " (no IOMMU group: a VM cannot use it)");
out:
	if (!msg)
		msg = msgf("%s", mipart_strerror(r));
	*ret_msg = msg;
	mipart_sriov_free(s);
	mipart_sriov_free(after);
	return r;
}

char *mipart_sriov_libvirt_xml(const mipart_vf *vf)
{
	unsigned d, b, s, f;

	if (!vf || sscanf(vf->bdf, "%4x:%2x:%2x.%1x", &d, &b, &s, &f) != 4)
		return NULL;
	/* libvirt's domain XML (formatdomain: "hostdev", PCI) */
	return msgf("<hostdev mode='subsystem' type='pci' managed='yes'>\n"
		    "  <driver name='vfio'/>\n"
		    "  <source>\n"
		    "    <address domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/>\n"
		    "  </source>\n"
		    "</hostdev>\n",
		    d, b, s, f);
}

char *mipart_sriov_qemu_arg(const mipart_vf *vf)
{
	return vf ? msgf("vfio-pci,host=%s", vf->bdf) : NULL;
}

bool sriov_is_change(const char *before)
{
	return before && !strncmp(before, "{\"sriov\":", 9);
}

/* 1 when the host's counts equal those of state (the journal's {"sriov": [{pf, vfs}]}) */
static int counts_match(const mipart_sriov *s, const char *state)
{
	json_t *o = json_loads(state ? state : "", 0, NULL), *a = json_object_get(o, "sriov");
	size_t i;
	json_t *v;
	int match = json_is_array(a) ? 1 : -1;

	json_array_foreach(a, i, v) {
		const char *bdf = json_string_value(json_object_get(v, "pf"));
		const mipart_pf *pf = bdf ? mipart_sriov_find_pf(s, bdf) : NULL;

		if (!pf || (json_int_t)pf->num_vfs != json_integer_value(json_object_get(v, "vfs")))
			match = 0;
	}
	json_decref(o);
	return match;
}

int sriov_recover(const mipart_host *host, mipart_journal *j, const mipart_journal_entry *e,
		  char *msg, size_t msgsize, const char **ret_state)
{
	static const mipart_sriov_options defaults = { 0 };
	const struct sriov_backend *be = backend_for(host);
	mipart_sriov *s = NULL;
	char err[512] = "", *after = NULL;
	int r, at_target, at_before;

	/* GIM unloaded by the change and never loaded again: load it, so the VFs exist */
	if (!gim_loaded(host)) {
		char path[MIPART_PATH_MAX];

		if (mipart_host_path(host, SRIOV_CONFIG, path, sizeof(path)) >= 0 &&
		    access(path, F_OK) == 0 && be->reload(host, &defaults, true, err, sizeof(err)) < 0) {
			snprintf(msg, msgsize, "change %lld: GIM does not load: %s; load it by hand, then "
					       "run 'mipart recover' again",
				 (long long)e->id, err);
			*ret_state = "failed";
			return -EIO;
		}
	}
	r = mipart_sriov_scan(host, &s);
	if (r < 0) {
		snprintf(msg, msgsize, "cannot list PCI devices: %s", mipart_strerror(r));
		*ret_state = "failed";
		return r;
	}
	at_target = counts_match(s, e->target);
	at_before = counts_match(s, e->before);
	after = state_json(s, "", -1);
	if (at_target == 1 || at_before == 1) {
		snprintf(msg, msgsize, "VF change %lld %s: the host shows the VF counts %s", (long long)e->id,
			 !strcmp(e->state, "failed") ? "failed" : "was interrupted",
			 at_target == 1 ? "it aimed for" : "from before it");
		mipart_journal_finish(j, e->id, "recovered", after, msg);
		*ret_state = "recovered";
	} else {
		snprintf(msg, msgsize, "VF change %lld: the host shows neither the VF counts before it nor "
				       "its target; set them with 'mipart vf enable'",
			 (long long)e->id);
		mipart_journal_finish(j, e->id, "failed", after, msg);
		*ret_state = "failed";
		r = -EIO;
	}
	free(after);
	mipart_sriov_free(s);
	return r;
}
