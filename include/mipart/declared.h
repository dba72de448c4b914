/* SPDX-License-Identifier: MIT */
/*
 * The host's declared state: the layout file and the name of the config the operator wants
 * this host in (`mipart apply --persist`), kept in one file under /etc/mipart so that
 * `mipart boot` (mipart-boot.service) can apply it at boot and drift is measured against it.
 * See docs/control.md ("Declared state").
 */
#ifndef MIPART_DECLARED_H
#define MIPART_DECLARED_H

#include <stddef.h>

#include "config.h"
#include "host.h"

/* Under the host root. One JSON document: {"version": 1, "config": NAME, "source": PATH,
 * "persisted_at": ISO-8601, "layout": the layout file's text}. */
#define MIPART_DECLARED_PATH "/etc/mipart/declared.json"
/* Its size cap: a layout file (1 MiB) escaped into JSON, and a little more. */
#define MIPART_DECLARED_MAX_SIZE (4u << 20)

typedef struct mipart_declared mipart_declared;

/*
 * mipart_declared_write - record layout text (len bytes, a v1 layout file) and config name as
 * the declared state of host, durably (temporary file, fsync, rename, directory fsync);
 * /etc/mipart is created when missing. source is where the layout came from (for people).
 * The text is parsed first and must hold config. Returns 0, -EINVAL (not a valid layout, or no
 * such config: *ret_err says what), -EFBIG, -ENOMEM, or the -errno of the write.
 */
int mipart_declared_write(const mipart_host *host, const char *text, size_t len, const char *config,
			  const char *source, mipart_config_error *ret_err);

/*
 * mipart_declared_load - read the declared state of host. Returns 0 and a new object in *ret,
 * -ENOENT when nothing is declared, -EINVAL when the file or its layout is damaged (*ret_err,
 * when not NULL, says what), -EFBIG, -ENOMEM, or the -errno of reading.
 */
int mipart_declared_load(const mipart_host *host, mipart_declared **ret,
			 mipart_config_error *ret_err);

/* mipart_declared_clear - forget the declared state. Returns 0 (also when there was none) or
 * -errno. */
int mipart_declared_clear(const mipart_host *host);

/* The config name, its set, the whole layout, where it came from, when it was recorded. Owned
 * by d. */
const char *mipart_declared_config_name(const mipart_declared *d);
const mipart_config_set *mipart_declared_set(const mipart_declared *d);
const mipart_config *mipart_declared_layout(const mipart_declared *d);
const char *mipart_declared_source(const mipart_declared *d);
const char *mipart_declared_time(const mipart_declared *d);

/*
 * mipart_declared_in_sync - whether every GPU the declared config selects is in its modes on
 * topo. Returns 1, 0, -EINVAL (the config does not resolve on this host).
 */
struct mipart_topology;
int mipart_declared_in_sync(const mipart_declared *d, const struct mipart_topology *topo);

/* Frees d; accepts NULL; returns NULL. */
mipart_declared *mipart_declared_free(mipart_declared *d);

#endif
