/* SPDX-License-Identifier: MIT */
/* Journal functions for the apply engine only (journal.c); the public ones: mipart/journal.h. */
#ifndef MIPART_CONTROL_JOURNAL_H
#define MIPART_CONTROL_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mipart/journal.h"

/* mipart_journal_nps_request, noting in the same statement which loaded instance of the driver
 * (apply.c: driver_instance; NULL or "": not known) holds the request. 0 or -errno. */
int journal_nps_request(mipart_journal *j, const char *bdf, const char *mode, int64_t change,
			const char *driver);

/* That instance into buf ("" when not known: a request written before it was noted, or no
 * request). 0 or -errno. */
int journal_nps_driver_get(mipart_journal *j, const char *bdf, char *buf, size_t size);

/* journal_units_started - the units names[0..n) run again: take them out of every row that
 * left them stopped (mipart_journal_units_stopped), and mark a row whose units all run again
 * "restarted": true. 0 or -errno. */
int journal_units_started(mipart_journal *j, const char *const *names, size_t n);

#endif
