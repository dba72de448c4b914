/* SPDX-License-Identifier: MIT */
/* Journal functions for the apply engine only (journal.c); the public ones: mipart/journal.h. */
#ifndef MIPART_CONTROL_JOURNAL_H
#define MIPART_CONTROL_JOURNAL_H

#include <stddef.h>

#include "mipart/journal.h"

/* Note which loaded instance of the driver (apply.c: driver_instance) recorded the pending
 * request of bdf. 0 or -errno. */
int journal_nps_driver(mipart_journal *j, const char *bdf, const char *driver);

/* That instance into buf ("" when not known: a request written before it was noted, or no
 * request). 0 or -errno. */
int journal_nps_driver_get(mipart_journal *j, const char *bdf, char *buf, size_t size);

#endif
