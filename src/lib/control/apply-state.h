/* SPDX-License-Identifier: MIT */
#ifndef MIPART_APPLY_STATE_H
#define MIPART_APPLY_STATE_H

#include <stddef.h>

#include "mipart/journal.h"
#include "mipart/mode.h"

/*
 * apply_parse_state - the modes of a journal entry's "before" or "target" column (a JSON array
 * of n {"bdf", "compute", "memory", "partitions"} objects, as the engine writes them) into
 * cm[0..n-1], mm[0..n-1] and parts[0..n-1] (logical devices, -1 when not recorded); "UNKNOWN"
 * for a GPU that was not touched. 0, or -EBADMSG when the text is not
 * such an array of n entries (entries that parse are still filled in). apply.c; for recover
 * and tests/fuzz/.
 */
int apply_parse_state(const char *json, size_t n, mipart_compute_mode *cm, mipart_memory_mode *mm,
		      int *parts);

/*
 * apply_unresolved - whether an earlier change (a partition change or a VF change) must be
 * resolved before another may start: 0 when none, -EINPROGRESS with msg saying which and to run
 * 'mipart recover', or the journal's error with msg saying so. apply.c; every writer asks it.
 */
int apply_unresolved(mipart_journal *j, char *msg, size_t size);

#endif
