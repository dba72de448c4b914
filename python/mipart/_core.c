// SPDX-License-Identifier: MIT
/*
 * mipart._core: the CPython binding of libmipart.so.1. A thin layer: each function converts
 * its arguments, calls the public API (include/mipart/) and returns plain dicts and lists;
 * every refusal raises mipart._core.Error with the library's message, the same words the
 * mipart tool prints after "error:" (and its hint). No policy here: what to choose, what to
 * refuse and what to report is libmipart's (docs/python.md). The GIL is released around calls
 * that touch the host (file system, the host lock, the driver).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <mipart/allocate.h>
#include <mipart/apply.h>
#include <mipart/backend.h>
#include <mipart/catalog.h>
#include <mipart/change.h>
#include <mipart/config.h>
#include <mipart/error.h>
#include <mipart/estimate.h>
#include <mipart/host.h>
#include <mipart/journal.h>
#include <mipart/launch.h>
#include <mipart/layout.h>
#include <mipart/ledger.h>
#include <mipart/mode.h>
#include <mipart/readings.h>
#include <mipart/sim.h>
#include <mipart/topology.h>

static PyObject *Error;

/* Raise Error(message) with .errno (negative), .usage and .hint; returns NULL. */
static PyObject *raise_error(int err, const char *message, const char *hint, int usage)
{
	const char *text = message && *message ? message : mipart_strerror(err);
	PyObject *exc, *v;

	/* a path or name in the message need not be UTF-8: such bytes become U+FFFD */
	v = PyUnicode_DecodeUTF8(text, (Py_ssize_t)strlen(text), "replace");
	exc = v ? PyObject_CallOneArg(Error, v) : NULL;
	Py_XDECREF(v);
	if (!exc)
		return NULL;
	v = PyLong_FromLong(err);
	PyObject_SetAttrString(exc, "errno", v);
	Py_XDECREF(v);
	v = PyBool_FromLong(usage);
	PyObject_SetAttrString(exc, "usage", v);
	Py_XDECREF(v);
	v = hint && *hint ? PyUnicode_DecodeUTF8(hint, (Py_ssize_t)strlen(hint), "replace") : Py_NewRef(Py_None);
	PyObject_SetAttrString(exc, "hint", v ? v : Py_None);
	Py_XDECREF(v);
	PyErr_SetObject(Error, exc);
	Py_DECREF(exc);
	return NULL;
}

static PyObject *raise_diag(int err, const mipart_diag *d)
{
	return raise_error(err, d->message, d->hint, d->usage);
}

/* A str from bytes that may not be UTF-8 (sysfs, names): undecodable bytes become U+FFFD. */
static PyObject *str(const char *s)
{
	return PyUnicode_DecodeUTF8(s ? s : "", (Py_ssize_t)strlen(s ? s : ""), "replace");
}

static PyObject *int_or_none(long long v)
{
	return v < 0 ? Py_NewRef(Py_None) : PyLong_FromLongLong(v);
}

static PyObject *mode_or_none(const char *name)
{
	return !name || !strcmp(name, "UNKNOWN") ? Py_NewRef(Py_None) : str(name);
}

/* Set d[key] = v and drop the reference; -1 on failure (v NULL included). */
static int put(PyObject *d, const char *key, PyObject *v)
{
	int r;

	if (!v)
		return -1;
	r = PyDict_SetItemString(d, key, v);
	Py_DECREF(v);
	return r;
}

static int append(PyObject *l, PyObject *v)
{
	int r;

	if (!v)
		return -1;
	r = PyList_Append(l, v);
	Py_DECREF(v);
	return r;
}

/* The host at root (None or "": the real host). NULL with an exception set. */
static mipart_host *open_host(const char *root)
{
	mipart_host *h = NULL;
	int r = mipart_host_new(root, &h);

	if (r < 0) {
		char msg[512];

		snprintf(msg, sizeof(msg), "invalid root '%s': %s", root ? root : "", mipart_strerror(r));
		raise_error(r, msg, NULL, 1);
		return NULL;
	}
	return h;
}

static int load_topology(const mipart_host *h, mipart_topology **ret)
{
	int r;

	Py_BEGIN_ALLOW_THREADS
	r = mipart_topology_load(h, ret);
	Py_END_ALLOW_THREADS
	if (r < 0) {
		char msg[512];

		snprintf(msg, sizeof(msg), "cannot read GPUs under '%s/sys': %s", mipart_host_root(h),
			 r == -ENOENT ? "neither the PCI bus nor the KFD topology is readable" : mipart_strerror(r));
		raise_error(r, msg, NULL, 0);
	}
	return r;
}

static PyObject *modes_list(mipart_mode_set set, int compute)
{
	PyObject *l = PyList_New(0);

	for (int m = compute ? 0 : 1; l && m <= 8; m++) {
		if (!(set & MIPART_MODE_BIT(m)))
			continue;
		if (append(l, str(compute ? mipart_compute_mode_name((mipart_compute_mode)m)
					  : mipart_memory_mode_name((mipart_memory_mode)m))) < 0)
			Py_CLEAR(l);
	}
	return l;
}

static PyObject *partition_dict(const mipart_partition_info *p)
{
	PyObject *d = PyDict_New();

	if (!d)
		return NULL;
	if (put(d, "index", PyLong_FromUnsignedLong(p->index)) < 0 ||
	    put(d, "gpu", PyLong_FromUnsignedLong(p->gpu)) < 0 || put(d, "xcp", int_or_none(p->xcp)) < 0 ||
	    put(d, "render_minor", int_or_none(p->render_minor)) < 0 ||
	    put(d, "kfd_node", int_or_none(p->kfd_node)) < 0 || put(d, "num_xcc", int_or_none(p->num_xcc)) < 0 ||
	    put(d, "compute_units", int_or_none(p->compute_units)) < 0 ||
	    put(d, "memory_bytes", int_or_none(p->memory_bytes)) < 0 || put(d, "drm_device", str(p->drm_device)) < 0)
		Py_CLEAR(d);
	return d;
}

static PyObject *topology_dict(const mipart_topology *t)
{
	PyObject *o = PyDict_New(), *gpus = PyList_New(0), *warn = PyList_New(0);

	if (!o || !gpus || !warn)
		goto fail;
	for (size_t g = 0; g < mipart_topology_gpu_count(t); g++) {
		const mipart_gpu_info *gi = mipart_topology_gpu(t, g);
		PyObject *d = PyDict_New(), *parts = PyList_New(0);

		if (!d || !parts || append(gpus, d) < 0) {
			Py_XDECREF(parts);
			goto fail;
		}
		for (size_t j = 0; j < gi->n_partitions; j++)
			if (append(parts, partition_dict(mipart_topology_gpu_partition(t, gi, j))) < 0) {
				Py_DECREF(parts);
				goto fail;
			}
		if (put(d, "index", PyLong_FromUnsignedLong(gi->index)) < 0 || put(d, "bdf", str(gi->bdf)) < 0 ||
		    put(d, "product", str(gi->product)) < 0 ||
		    put(d, "compute", mode_or_none(mipart_compute_mode_name(gi->compute))) < 0 ||
		    put(d, "memory", mode_or_none(mipart_memory_mode_name(gi->memory))) < 0 ||
		    put(d, "compute_available", modes_list(gi->compute_available, 1)) < 0 ||
		    put(d, "memory_available", modes_list(gi->memory_available, 0)) < 0 ||
		    put(d, "partitioning", PyBool_FromLong(gi->partitioning)) < 0 ||
		    put(d, "is_apu", PyBool_FromLong(gi->is_apu)) < 0 ||
		    put(d, "memory_bytes", int_or_none(gi->memory_bytes)) < 0 ||
		    put(d, "num_xcc", int_or_none(gi->num_xcc)) < 0 ||
		    put(d, "compute_units", int_or_none(gi->compute_units)) < 0 ||
		    put(d, "numa_node", int_or_none(gi->numa_node)) < 0 ||
		    put(d, "hive_id", gi->hive_id ? PyLong_FromUnsignedLongLong(gi->hive_id) : Py_NewRef(Py_None)) < 0 ||
		    put(d, "unique_id", gi->unique_id[0] ? str(gi->unique_id) : Py_NewRef(Py_None)) < 0 ||
		    put(d, "partitions", parts) < 0)
			goto fail;
	}
	for (size_t i = 0; i < mipart_topology_diag_count(t); i++)
		if (append(warn, str(mipart_topology_diag(t, i))) < 0)
			goto fail;
	if (put(o, "gpus", gpus) < 0) {
		gpus = NULL;
		goto fail;
	}
	gpus = NULL;
	if (put(o, "warnings", warn) < 0) {
		warn = NULL;
		goto fail;
	}
	return o;
fail:
	Py_XDECREF(o);
	Py_XDECREF(gpus);
	Py_XDECREF(warn);
	return NULL;
}

static PyObject *py_topology(PyObject *self, PyObject *args)
{
	const char *root = NULL;
	mipart_host *h;
	mipart_topology *t = NULL;
	PyObject *o = NULL;

	if (!PyArg_ParseTuple(args, "z", &root) || !(h = open_host(root)))
		return NULL;
	if (load_topology(h, &t) == 0)
		o = topology_dict(t);
	mipart_topology_free(t);
	mipart_host_free(h);
	return o;
}

static PyObject *plan_dict(const mipart_change *c)
{
	PyObject *o = PyDict_New(), *gpus = PyList_New(0), *probs = PyList_New(0);

	if (!o || !gpus || !probs)
		goto fail;
	for (size_t i = 0; i < mipart_change_gpu_count(c); i++) {
		const mipart_gpu_change *g = mipart_change_gpu(c, i);
		PyObject *d = PyDict_New();

		if (!d || append(gpus, d) < 0)
			goto fail;
		if (put(d, "gpu", PyLong_FromUnsignedLong(g->gpu)) < 0 || put(d, "bdf", str(g->bdf)) < 0 ||
		    put(d, "from_compute", mode_or_none(mipart_compute_mode_name(g->from_compute))) < 0 ||
		    put(d, "to_compute", mode_or_none(mipart_compute_mode_name(g->to_compute))) < 0 ||
		    put(d, "from_memory", mode_or_none(mipart_memory_mode_name(g->from_memory))) < 0 ||
		    put(d, "to_memory", mode_or_none(mipart_memory_mode_name(g->to_memory))) < 0 ||
		    put(d, "disruption", str(mipart_disruption_name(g->disruption))) < 0 ||
		    put(d, "partitions", PyLong_FromUnsignedLong(g->to_partitions)) < 0)
			goto fail;
	}
	for (size_t i = 0; i < mipart_change_problem_count(c); i++)
		if (append(probs, str(mipart_change_problem_get(c, i)->message)) < 0)
			goto fail;
	if (put(o, "needs_reload", PyBool_FromLong(mipart_change_needs_reload(c))) < 0 ||
	    put(o, "noop", PyBool_FromLong(mipart_change_is_noop(c))) < 0)
		goto fail;
	if (put(o, "gpus", gpus) < 0) {
		gpus = NULL;
		goto fail;
	}
	gpus = NULL;
	if (put(o, "problems", probs) < 0) {
		probs = NULL;
		goto fail;
	}
	return o;
fail:
	Py_XDECREF(o);
	Py_XDECREF(gpus);
	Py_XDECREF(probs);
	return NULL;
}

/* Plan (dry_run) or carry out a change to targets; returns the plan or the result. */
static PyObject *change(const mipart_host *h, const mipart_topology *t, const mipart_target *tg,
			size_t n, int dry_run, const char *command)
{
	mipart_change *c = NULL;
	mipart_apply_result res = { 0 };
	mipart_apply_options ao = { 0 };
	mipart_backend *be = NULL;
	mipart_backend_options bo = { 0 };
	PyObject *o = NULL;
	int r;

	r = mipart_change_plan(t, tg, n, &c);
	if (r < 0)
		return raise_error(r, NULL, NULL, 0);
	if (mipart_change_problem_count(c)) {
		char msg[512] = "";
		size_t len = 0;

		for (size_t i = 0; i < mipart_change_problem_count(c) && len < sizeof(msg); i++)
			len += (size_t)snprintf(msg + len, sizeof(msg) - len, "%s%s", i ? "; " : "",
						mipart_change_problem_get(c, i)->message);
		mipart_change_free(c);
		return raise_error(-EINVAL, msg, NULL, 0);
	}
	if (dry_run) {
		o = plan_dict(c);
		mipart_change_free(c);
		return o;
	}
	mipart_change_free(c);
	r = mipart_backend_open(h, &bo, &be);
	if (r < 0)
		return raise_error(r, "cannot open the partition backend", NULL, 0);
	ao.backend = be;
	ao.command = command;
	ao.uid = (int64_t)getuid();
	ao.lock_timeout_ms = 30000;
	Py_BEGIN_ALLOW_THREADS
	r = mipart_apply(h, tg, n, &ao, &res);
	Py_END_ALLOW_THREADS
	if (r < 0) {
		raise_error(r, res.message, NULL, r == -EINVAL);
	} else {
		o = res.plan ? plan_dict(res.plan) : PyDict_New();
		if (o && (put(o, "state", str(res.state ? res.state : "done")) < 0 ||
			  put(o, "journal_id", PyLong_FromLongLong(res.journal_id)) < 0))
			Py_CLEAR(o);
	}
	mipart_apply_result_release(&res);
	mipart_backend_free(be);
	return o;
}

static PyObject *py_set_modes(PyObject *self, PyObject *args)
{
	const char *root = NULL, *compute = NULL, *memory = NULL;
	PyObject *gpus = Py_None, *o = NULL;
	int dry_run = 0;
	mipart_host *h;
	mipart_topology *t = NULL;
	mipart_target tg[64];
	mipart_compute_mode cm = MIPART_COMPUTE_UNKNOWN;
	mipart_memory_mode mm = MIPART_MEMORY_UNKNOWN;
	size_t n;

	if (!PyArg_ParseTuple(args, "zOzzp", &root, &gpus, &compute, &memory, &dry_run))
		return NULL;
	if (!compute && !memory)
		return raise_error(-EINVAL, "give a compute mode, a memory mode or both", NULL, 1);
	if (compute && mipart_compute_mode_parse(compute, &cm) < 0) {
		char msg[160];

		snprintf(msg, sizeof(msg), "invalid compute mode '%.40s': expected SPX, DPX, TPX, QPX or CPX", compute);
		return raise_error(-EINVAL, msg, NULL, 1);
	}
	if (memory && mipart_memory_mode_parse(memory, &mm) < 0) {
		char msg[160];

		snprintf(msg, sizeof(msg), "invalid memory mode '%.40s': expected NPS1, NPS2 or NPS4", memory);
		return raise_error(-EINVAL, msg, NULL, 1);
	}
	if (!(h = open_host(root)))
		return NULL;
	if (load_topology(h, &t) < 0)
		goto out;
	n = mipart_topology_gpu_count(t);
	if (n > 64)
		n = 64;
	memset(tg, 0, sizeof(tg));
	for (size_t i = 0; i < n; i++) {
		tg[i].compute = cm;
		tg[i].memory = mm;
		tg[i].selected = gpus == Py_None;
	}
	if (gpus != Py_None) {
		PyObject *seq = PySequence_Fast(gpus, "gpus must be a list of GPU indexes or None");
		Py_ssize_t k;

		if (!seq)
			goto out;
		for (k = 0; k < PySequence_Fast_GET_SIZE(seq); k++) {
			long g = PyLong_AsLong(PySequence_Fast_GET_ITEM(seq, k));

			if (g == -1 && PyErr_Occurred())
				break;
			if (g < 0 || (size_t)g >= n) {
				char msg[160];

				snprintf(msg, sizeof(msg), "no GPU %ld on this host (it has %zu)", g, n);
				raise_error(-ENOENT, msg, NULL, 1);
				break;
			}
			tg[g].selected = true;
		}
		Py_DECREF(seq);
		if (PyErr_Occurred())
			goto out;
	}
	o = change(h, t, tg, n, dry_run, "python: mipart.set_modes");
out:
	mipart_topology_free(t);
	mipart_host_free(h);
	return o;
}

static PyObject *py_apply_layout(PyObject *self, PyObject *args)
{
	const char *root = NULL, *path, *name = NULL;
	int dry_run = 0;
	mipart_config_error ce = { 0 };
	mipart_config *cfg = NULL;
	const mipart_config_set *set = NULL;
	mipart_host *h = NULL;
	mipart_topology *t = NULL;
	mipart_target tg[64];
	char msg[600];
	unsigned line = 0, col = 0;
	PyObject *o = NULL;
	int r;

	if (!PyArg_ParseTuple(args, "zszp", &root, &path, &name, &dry_run))
		return NULL;
	r = mipart_config_load(path, &cfg, &ce);
	if (r < 0) {
		if (ce.line)
			snprintf(msg, sizeof(msg), "%s:%u:%u: %s", path, ce.line, ce.column, ce.message);
		else
			snprintf(msg, sizeof(msg), "cannot read '%s': %s", path,
				 ce.message[0] ? ce.message : mipart_strerror(r));
		return raise_error(r, msg, NULL, 0);
	}
	if (!name && mipart_config_count(cfg) == 1)
		set = mipart_config_get(cfg, 0);
	else if (!name || mipart_config_find(cfg, name, &set) < 0) {
		snprintf(msg, sizeof(msg), name ? "no config '%s' in '%s'" : "%s'%s' has several configs: choose one",
			 name ? name : "", path);
		raise_error(-ENOENT, msg, NULL, 1);
		goto out;
	}
	if (!(h = open_host(root)) || load_topology(h, &t) < 0)
		goto out;
	memset(tg, 0, sizeof(tg));
	r = mipart_layout_resolve(set, t, tg, mipart_topology_gpu_count(t) > 64 ? 64 : mipart_topology_gpu_count(t),
				  &line, &col, msg + 300, 300);
	if (r < 0) {
		char m2[300];

		snprintf(m2, sizeof(m2), "%s", msg + 300);
		if (line)
			snprintf(msg, sizeof(msg), "%s:%u:%u: %s", path, line, col, m2);
		else
			snprintf(msg, sizeof(msg), "%s: %s", path, m2);
		raise_error(r, msg, NULL, 0);
		goto out;
	}
	o = change(h, t, tg, mipart_topology_gpu_count(t) > 64 ? 64 : mipart_topology_gpu_count(t), dry_run,
		   "python: mipart.apply_layout");
out:
	mipart_topology_free(t);
	mipart_host_free(h);
	mipart_config_free(cfg);
	return o;
}

/* Estimator options from keyword-style values; -1 with an exception set. */
static int est_options(const char *precision, int kv_fp8, unsigned tp, unsigned max_model_len,
		       unsigned max_num_seqs, double util, mipart_estimate_options *o)
{
	memset(o, 0, sizeof(*o));
	if (precision && *precision && mipart_precision_parse(precision, &o->precision) < 0) {
		char msg[200];

		snprintf(msg, sizeof(msg),
			 "invalid precision '%.40s': expected fp32, bf16, fp16, fp8, int8, int4, awq, gptq, mxfp4 or bnb4",
			 precision);
		raise_error(-EINVAL, msg, NULL, 1);
		return -1;
	}
	if (util < 0 || util > 1) {
		raise_error(-EINVAL, "invalid '--gpu-memory-utilization': a fraction in (0, 1]", NULL, 1);
		return -1;
	}
	o->kv_fp8 = kv_fp8;
	o->tensor_parallel = tp;
	o->max_model_len = max_model_len;
	o->max_num_seqs = max_num_seqs;
	o->gpu_memory_utilization = util;
	return 0;
}

static PyObject *py_estimate(PyObject *self, PyObject *args)
{
	const char *model, *precision = NULL;
	int kv_fp8 = 0;
	unsigned tp = 0, len = 0, seqs = 0, cus = 0;
	unsigned long long device = 0;
	double util = 0;
	mipart_estimate_options o;
	mipart_estimate e;
	mipart_model m;
	mipart_diag d;
	PyObject *res;
	int r;

	if (!PyArg_ParseTuple(args, "szpIIIdKI", &model, &precision, &kv_fp8, &tp, &len, &seqs, &util, &device,
			      &cus))
		return NULL;
	if (est_options(precision, kv_fp8, tp, len, seqs, util, &o) < 0)
		return NULL;
	o.device_bytes = device;
	o.compute_units = cus; /* 0: the estimator's default (estimate.h) */
	r = mipart_model_lookup(model, &m, &d);
	if (r < 0)
		return raise_diag(r, &d);
	r = mipart_estimate_model(&m, &o, &e);
	if (r < 0) {
		char msg[300];

		if (r == -E2BIG)
			snprintf(msg, sizeof(msg), "--max-model-len %u is longer than %s allows (%u tokens)",
				 o.max_model_len, m.id, m.max_position);
		else
			snprintf(msg, sizeof(msg), "cannot estimate %s: %s", m.id,
				 r == -EINVAL ? "the tensor parallel size must divide the attention heads" : mipart_strerror(r));
		return raise_error(r, msg, NULL, 0);
	}
	res = Py_BuildValue("{s:s, s:s, s:K, s:I, s:K, s:K, s:K, s:K, s:K, s:K}", "model", m.id, "precision",
			    e.precision_name, "params", (unsigned long long)e.params, "max_model_len",
			    e.max_model_len, "weights_bytes", (unsigned long long)e.weights_bytes,
			    "kv_bytes_per_token", (unsigned long long)e.kv_bytes_per_token, "activation_bytes",
			    (unsigned long long)e.activation_bytes, "non_torch_bytes",
			    (unsigned long long)e.non_torch_bytes, "usable_bytes", (unsigned long long)e.usable_bytes,
			    "min_device_bytes", (unsigned long long)e.min_device_bytes);
	if (res && (put(res, "sampler_bytes", PyLong_FromUnsignedLongLong(e.sampler_bytes)) < 0 ||
		    put(res, "compute_units", PyLong_FromUnsignedLong(e.compute_units)) < 0))
		Py_CLEAR(res);
	if (res && device &&
	    (put(res, "kv_cache_bytes", PyLong_FromLongLong(e.kv_cache_bytes)) < 0 ||
	     put(res, "kv_cache_tokens", PyLong_FromUnsignedLongLong(e.kv_cache_tokens)) < 0 ||
	     put(res, "max_model_len_fit", PyLong_FromUnsignedLongLong(e.max_model_len_fit)) < 0 ||
	     put(res, "device_bytes", PyLong_FromUnsignedLongLong(device)) < 0 ||
	     put(res, "fits", PyBool_FromLong(e.fits)) < 0))
		Py_CLEAR(res);
	return res;
}

static PyObject *py_allocate(PyObject *self, PyObject *args)
{
	const char *root = NULL, *model, *partition = NULL, *name = NULL, *precision = NULL;
	int kv_fp8 = 0, fit = 0;
	unsigned tp = 0, len = 0, seqs = 0;
	double util = 0;
	mipart_alloc_request req = { 0 };
	mipart_alloc_result res;
	mipart_diag d;
	mipart_host *h;
	PyObject *o, *parts;
	int r;

	if (!PyArg_ParseTuple(args, "zszzzpIIIdp", &root, &model, &partition, &name, &precision, &kv_fp8, &tp,
			      &len, &seqs, &util, &fit))
		return NULL;
	if (est_options(precision, kv_fp8, tp, len, seqs, util, &req.options) < 0)
		return NULL;
	req.model = model;
	req.partition = partition;
	req.name = name;
	req.fit_context = fit;
	if (!(h = open_host(root)))
		return NULL;
	Py_BEGIN_ALLOW_THREADS
	r = mipart_allocate(h, &req, &res, &d);
	Py_END_ALLOW_THREADS
	mipart_host_free(h);
	if (r < 0)
		return raise_diag(r, &d);
	parts = PyList_New(0);
	for (size_t k = 0; parts && k < res.n_partitions; k++)
		if (append(parts, Py_BuildValue("{s:I, s:I, s:I, s:s, s:K}", "index", res.partitions[k].index, "gpu",
						res.partitions[k].gpu, "xcp", res.partitions[k].xcp, "bdf",
						res.partitions[k].bdf, "capacity_bytes",
						(unsigned long long)res.partitions[k].capacity_bytes)) < 0)
			Py_CLEAR(parts);
	if (!parts)
		return NULL;
	o = Py_BuildValue("{s:L, s:N, s:N, s:s, s:I, s:K, s:N}", "id", (long long)res.id, "name", str(res.name),
			  "model", str(res.model), "precision", res.precision, "max_model_len", res.max_model_len,
			  "booked_bytes", (unsigned long long)res.booked_bytes, "partitions", parts);
	return o;
}

static int open_ledger(const mipart_host *h, mipart_ledger **ret)
{
	char path[MIPART_PATH_MAX] = "", msg[MIPART_PATH_MAX + 100];
	int r = mipart_host_path(h, MIPART_JOURNAL_PATH, path, sizeof(path));

	if (r >= 0) {
		Py_BEGIN_ALLOW_THREADS
		r = mipart_ledger_open(path, ret);
		Py_END_ALLOW_THREADS
	}
	if (r < 0) {
		snprintf(msg, sizeof(msg), "cannot open the ledger '%s': %s", path, mipart_strerror(r));
		raise_error(r, msg, NULL, 0);
	}
	return r;
}

static PyObject *allocation_dict(const mipart_allocation *a)
{
	PyObject *b = PyList_New(0);

	for (size_t k = 0; b && k < a->n_bookings; k++)
		if (append(b, Py_BuildValue("{s:s, s:I, s:K, s:K}", "bdf", a->bookings[k].bdf, "xcp", a->bookings[k].xcp,
					    "bytes", (unsigned long long)a->bookings[k].bytes, "capacity_bytes",
					    (unsigned long long)a->bookings[k].capacity)) < 0)
			Py_CLEAR(b);
	if (!b)
		return NULL;
	return Py_BuildValue("{s:L, s:N, s:N, s:s, s:L, s:N}", "id", (long long)a->id, "name", str(a->name), "model",
			     str(a->model), "created_at", a->created_at, "uid", (long long)a->uid, "bookings", b);
}

static PyObject *py_release(PyObject *self, PyObject *args)
{
	const char *root = NULL, *key;
	mipart_host *h;
	mipart_ledger *l = NULL;
	mipart_allocation a = { 0 };
	PyObject *o = NULL;
	int r;

	if (!PyArg_ParseTuple(args, "zs", &root, &key) || !(h = open_host(root)))
		return NULL;
	if (open_ledger(h, &l) == 0) {
		Py_BEGIN_ALLOW_THREADS
		r = mipart_ledger_release(l, key, &a);
		Py_END_ALLOW_THREADS
		if (r == -ENOENT) {
			char msg[300];

			snprintf(msg, sizeof(msg), "no allocation '%.200s' ('mipart allocations' lists them)", key);
			raise_error(r, msg, NULL, 1);
		} else if (r < 0) {
			raise_error(r, "cannot release the allocation", NULL, 0);
		} else {
			o = allocation_dict(&a);
			mipart_allocation_release(&a);
		}
	}
	mipart_ledger_free(l);
	mipart_host_free(h);
	return o;
}

static PyObject *py_allocations(PyObject *self, PyObject *args)
{
	const char *root = NULL;
	mipart_host *h;
	mipart_ledger *l = NULL;
	mipart_allocation *v = NULL;
	size_t n = 0;
	PyObject *o = NULL;
	int r;

	if (!PyArg_ParseTuple(args, "z", &root) || !(h = open_host(root)))
		return NULL;
	if (open_ledger(h, &l) == 0) {
		r = mipart_ledger_list(l, &v, &n);
		if (r < 0) {
			raise_error(r, "cannot list the allocations", NULL, 0);
		} else {
			o = PyList_New(0);
			for (size_t i = 0; o && i < n; i++)
				if (append(o, allocation_dict(&v[i])) < 0)
					Py_CLEAR(o);
			mipart_allocations_free(v, n);
		}
	}
	mipart_ledger_free(l);
	mipart_host_free(h);
	return o;
}

/* Open a launch target; on success *ret_t and *ret_ln must be freed by the caller. */
static int open_target(const char *root, const char *target, mipart_host **ret_h, mipart_topology **ret_t,
		       mipart_launch **ret_ln)
{
	mipart_diag d;
	int r;

	*ret_t = NULL;
	*ret_ln = NULL;
	if (!(*ret_h = open_host(root)))
		return -1;
	if (load_topology(*ret_h, ret_t) < 0)
		return -1;
	r = mipart_launch_open(*ret_h, *ret_t, target, ret_ln, &d);
	if (r < 0) {
		raise_diag(r, &d);
		return -1;
	}
	return 0;
}

static PyObject *env_dict(const mipart_launch *ln, int container)
{
	mipart_env_var v[MIPART_LAUNCH_MAX_VARS];
	size_t n = mipart_launch_env(ln, container, v, MIPART_LAUNCH_MAX_VARS);
	PyObject *o = PyDict_New();

	for (size_t i = 0; o && i < n; i++)
		if (put(o, v[i].name, str(v[i].value)) < 0)
			Py_CLEAR(o);
	return o;
}

static PyObject *py_env(PyObject *self, PyObject *args)
{
	const char *root = NULL, *target;
	int container = 0;
	mipart_host *h = NULL;
	mipart_topology *t = NULL;
	mipart_launch *ln = NULL;
	PyObject *o = NULL;

	if (!PyArg_ParseTuple(args, "zsp", &root, &target, &container))
		return NULL;
	if (open_target(root, target, &h, &t, &ln) == 0)
		o = env_dict(ln, container);
	mipart_launch_free(ln);
	mipart_topology_free(t);
	mipart_host_free(h);
	return o;
}

static PyObject *py_vllm(PyObject *self, PyObject *args)
{
	const char *root = NULL, *target;
	char words[64][MIPART_LAUNCH_ARG_MAX];
	mipart_host *h = NULL;
	mipart_topology *t = NULL;
	mipart_launch *ln = NULL;
	mipart_vllm_plan vp;
	mipart_diag d;
	PyObject *o = NULL, *argv = NULL;
	size_t n;
	int r;

	if (!PyArg_ParseTuple(args, "zs", &root, &target))
		return NULL;
	if (open_target(root, target, &h, &t, &ln) < 0)
		goto out;
	r = mipart_launch_vllm(ln, NULL, &vp, &d);
	if (r < 0) {
		raise_diag(r, &d);
		goto out;
	}
	n = mipart_vllm_args(&vp, words, 64);
	argv = PyList_New(0);
	for (size_t i = 0; argv && i < n; i++)
		if (append(argv, str(words[i])) < 0)
			Py_CLEAR(argv);
	if (!argv)
		goto out;
	o = Py_BuildValue("{s:N, s:N, s:d, s:I, s:K, s:K, s:K}", "argv", argv, "env", env_dict(ln, 0),
			  "gpu_memory_utilization", vp.util, "max_model_len", vp.max_model_len, "partition_bytes",
			  (unsigned long long)vp.capacity, "needed_bytes", (unsigned long long)vp.needed,
			  "margin_bytes", (unsigned long long)vp.margin);
out:
	mipart_launch_free(ln);
	mipart_topology_free(t);
	mipart_host_free(h);
	return o;
}

static PyObject *py_readings(PyObject *self, PyObject *args)
{
	const char *root = NULL;
	mipart_host *h;
	mipart_topology *t = NULL;
	mipart_readings *rd = NULL;
	PyObject *o = NULL, *gpus = NULL, *parts = NULL, *warn = NULL;
	int r;

	if (!PyArg_ParseTuple(args, "z", &root) || !(h = open_host(root)))
		return NULL;
	if (load_topology(h, &t) < 0)
		goto out;
	Py_BEGIN_ALLOW_THREADS
	r = mipart_readings_load(h, t, &rd);
	Py_END_ALLOW_THREADS
	if (r < 0) {
		raise_error(r, "cannot read the metrics", NULL, 0);
		goto out;
	}
	gpus = PyList_New(0);
	parts = PyList_New(0);
	warn = PyList_New(0);
	for (size_t g = 0; gpus && g < mipart_topology_gpu_count(t); g++) {
		const mipart_gpu_reading *gr = mipart_readings_gpu(rd, g);

		if (append(gpus, Py_BuildValue("{s:I, s:N, s:N, s:N, s:N, s:N, s:N, s:N, s:N, s:N, s:N}", "gpu", (unsigned)g,
					       "power_w", int_or_none(gr->power_w), "temp_hotspot_c",
					       int_or_none(gr->temp_hotspot_c), "temp_mem_c", int_or_none(gr->temp_mem_c),
					       "gfx_activity_pct", int_or_none(gr->gfx_activity_pct), "umc_activity_pct",
					       int_or_none(gr->umc_activity_pct), "gfxclk_mhz", int_or_none(gr->gfxclk_mhz),
					       "uclk_mhz", int_or_none(gr->uclk_mhz), "vram_used_bytes",
					       int_or_none(gr->vram_used_bytes), "vram_total_bytes",
					       int_or_none(gr->vram_total_bytes), "metrics",
					       gr->metrics[0] ? str(gr->metrics) : Py_NewRef(Py_None))) < 0)
			Py_CLEAR(gpus);
	}
	for (size_t i = 0; parts && i < mipart_topology_partition_count(t); i++) {
		const mipart_partition_info *p = mipart_topology_partition(t, i);
		const mipart_partition_reading *pr = mipart_readings_partition(rd, i);

		if (append(parts, Py_BuildValue("{s:I, s:I, s:i, s:N, s:s, s:N, s:N, s:I}", "index", p->index, "gpu",
						p->gpu, "xcp", p->xcp, "busy_pct", int_or_none(pr->busy_pct),
						"busy_source", mipart_busy_source_name(pr->busy_source), "gfxclk_mhz",
						int_or_none(pr->gfxclk_mhz), "vram_used_bytes",
						int_or_none(pr->vram_used_bytes), "processes", pr->processes)) < 0)
			Py_CLEAR(parts);
	}
	for (size_t i = 0; warn && i < mipart_readings_diag_count(rd); i++)
		if (append(warn, str(mipart_readings_diag(rd, i))) < 0)
			Py_CLEAR(warn);
	if (gpus && parts && warn)
		o = Py_BuildValue("{s:O, s:O, s:O}", "gpus", gpus, "partitions", parts, "warnings", warn);
out:
	Py_XDECREF(gpus);
	Py_XDECREF(parts);
	Py_XDECREF(warn);
	mipart_readings_free(rd);
	mipart_topology_free(t);
	mipart_host_free(h);
	return o;
}

static PyObject *py_sim_create(PyObject *self, PyObject *args)
{
	const char *dir, *product = NULL, *compute = NULL, *memory = NULL, *why = NULL;
	unsigned gpus = 0;
	mipart_sim_options so = { 0 };
	char msg[600];
	int r;

	if (!PyArg_ParseTuple(args, "sIzzz", &dir, &gpus, &product, &compute, &memory))
		return NULL;
	so.product = product;
	so.gpus = gpus;
	so.compute = MIPART_COMPUTE_UNKNOWN;
	if ((compute && mipart_compute_mode_parse(compute, &so.compute) < 0) ||
	    (memory && mipart_memory_mode_parse(memory, &so.memory) < 0)) {
		snprintf(msg, sizeof(msg), "invalid mode '%.40s'", compute ? compute : memory);
		return raise_error(-EINVAL, msg, NULL, 1);
	}
	Py_BEGIN_ALLOW_THREADS
	r = mipart_sim_create(dir, &so, &why);
	Py_END_ALLOW_THREADS
	if (r < 0) {
		snprintf(msg, sizeof(msg), "cannot create a simulated host in '%.400s': %s", dir,
			 why ? why : mipart_strerror(r));
		return raise_error(r, msg, NULL, r == -EINVAL);
	}
	Py_RETURN_NONE;
}

static PyObject *py_strerror(PyObject *self, PyObject *args)
{
	int err;

	if (!PyArg_ParseTuple(args, "i", &err))
		return NULL;
	return str(mipart_strerror(err));
}

static PyMethodDef methods[] = {
	{ "topology", py_topology, METH_VARARGS, "topology(root) -> dict: GPUs and partitions" },
	{ "set_modes", py_set_modes, METH_VARARGS,
	  "set_modes(root, gpus, compute, memory, dry_run) -> dict: the plan, or the change done" },
	{ "apply_layout", py_apply_layout, METH_VARARGS,
	  "apply_layout(root, path, config, dry_run) -> dict: a named config of a layout file" },
	{ "estimate", py_estimate, METH_VARARGS,
	  "estimate(model, precision, kv_fp8, tp, max_model_len, max_num_seqs, util, device_bytes) -> dict" },
	{ "allocate", py_allocate, METH_VARARGS,
	  "allocate(root, model, partition, name, precision, kv_fp8, tp, max_model_len, max_num_seqs, util, fit_context) -> dict" },
	{ "release", py_release, METH_VARARGS, "release(root, id_or_name) -> dict: the allocation released" },
	{ "allocations", py_allocations, METH_VARARGS, "allocations(root) -> list of dict" },
	{ "env", py_env, METH_VARARGS, "env(root, target, container) -> dict of str" },
	{ "vllm", py_vllm, METH_VARARGS, "vllm(root, allocation) -> dict: argv, env, settings" },
	{ "readings", py_readings, METH_VARARGS, "readings(root) -> dict: per GPU and partition" },
	{ "sim_create", py_sim_create, METH_VARARGS, "sim_create(dir, gpus, product, compute, memory)" },
	{ "strerror", py_strerror, METH_VARARGS, "strerror(errno) -> str" },
	{ NULL, NULL, 0, NULL },
};

static struct PyModuleDef module = {
	PyModuleDef_HEAD_INIT, "mipart._core", "the binding of libmipart.so.1 (see the mipart package)", -1, methods,
};

PyMODINIT_FUNC PyInit__core(void);
PyMODINIT_FUNC PyInit__core(void)
{
	PyObject *m = PyModule_Create(&module);

	if (!m)
		return NULL;
	Error = PyErr_NewExceptionWithDoc("mipart._core.Error",
					  "a refusal or failure of libmipart, with the mipart tool's message", NULL, NULL);
	if (!Error || PyModule_AddObjectRef(m, "Error", Error) < 0 ||
	    PyModule_AddStringConstant(m, "__libmipart_version__", "0") < 0) {
		Py_DECREF(m);
		return NULL;
	}
	return m;
}
