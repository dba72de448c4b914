/* SPDX-License-Identifier: MIT */
#ifndef MIPART_LIB_SRIOV_CONTROL_H
#define MIPART_LIB_SRIOV_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include "mipart/host.h"
#include "mipart/journal.h"

/* Whether a journal row's before-state is that of a VF change ({"sriov": [...]}). */
bool sriov_is_change(const char *before);

/*
 * sriov_recover - resolve a VF change a crash interrupted or that failed: load GIM when it is
 * not loaded (its VFs are gone), re-read the VF counts, and close the row: "recovered" when the
 * host shows the target or the counts before, "failed" when neither (the message says what it
 * shows). Runs under the host lock the caller holds. Writes what happened to msg and the new
 * state to *ret_state (a static string). Returns 0, or -errno when the host cannot be read.
 */
int sriov_recover(const mipart_host *host, mipart_journal *j, const mipart_journal_entry *e,
		  char *msg, size_t msgsize, const char **ret_state);

#endif
