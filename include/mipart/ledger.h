/* SPDX-License-Identifier: MIT */
/*
 * The allocation ledger: which model instance holds how much memory on which partitions.
 * SQLite (the same database as the journal), every booking checked against the partition's
 * capacity and the other bookings inside one BEGIN IMMEDIATE transaction, so concurrent
 * allocations can never book more than a partition has.
 */
#ifndef MIPART_LEDGER_H
#define MIPART_LEDGER_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "topology.h"

typedef struct mipart_ledger mipart_ledger;

#define MIPART_LEDGER_MAX_BOOKINGS 8	/* partitions of one allocation (tensor parallel) */
#define MIPART_LEDGER_NAME_MAX 128

/* Memory booked on one partition, named by its GPU's PCI address and XCP index. */
typedef struct mipart_booking {
	char bdf[16];
	unsigned xcp;
	uint64_t bytes;		/* booked */
	uint64_t capacity;	/* the partition's memory when booked */
} mipart_booking;

typedef struct mipart_allocation {
	int64_t id;
	char name[MIPART_LEDGER_NAME_MAX];
	char model[MIPART_LEDGER_NAME_MAX];
	char *spec;		/* JSON of the estimator options and results; owned */
	char created_at[32];
	int64_t uid;
	size_t n_bookings;
	mipart_booking bookings[MIPART_LEDGER_MAX_BOOKINGS];
} mipart_allocation;

/* mipart_ledger_open - open the database at path (":memory:" for tests). 0 or -errno. */
int mipart_ledger_open(const char *path, mipart_ledger **ret);
/* mipart_ledger_open_reader - an existing database, for reading only: never takes the write
 * lock, never waits more than 1 s (monitoring). -ENOENT when missing or not migrated yet. */
int mipart_ledger_open_reader(const char *path, mipart_ledger **ret);
mipart_ledger *mipart_ledger_free(mipart_ledger *l);

/*
 * mipart_ledger_name_check - whether name may name a new allocation: 1 to
 * MIPART_LEDGER_NAME_MAX - 1 bytes, not all digits (a number means an id): else -EINVAL; no
 * control character (C0, DEL, C1) and only UTF-8: else -EILSEQ. Returns 0 when it may.
 */
int mipart_ledger_name_check(const char *name);

/*
 * mipart_ledger_allocate - record a (name, model, spec, uid, bookings) in one transaction after
 * checking, for every booking, that the bytes already booked on that partition plus its bytes
 * stay within its capacity. Returns 0 with the new id in *ret_id (and the name, when a->name is
 * empty, generated as "<model basename>-<id>" into a->name), -ENOSPC (which booking in
 * *ret_bad, what is free there in *ret_free), -EEXIST (the name is taken), -EINVAL (also a
 * name mipart_ledger_name_check refuses), -ETIMEDOUT
 * (the database stayed locked), -EIO.
 */
int mipart_ledger_allocate(mipart_ledger *l, mipart_allocation *a, int64_t *ret_id,
			   size_t *ret_bad, uint64_t *ret_free);

/* mipart_ledger_release - remove an allocation by id (decimal) or name. 0, -ENOENT, -EIO. */
int mipart_ledger_release(mipart_ledger *l, const char *id_or_name, mipart_allocation *ret);

/* mipart_ledger_get - one allocation by its exact name, else by id when key is a number. 0,
 * -ENOENT, -ETIMEDOUT, -EIO. Release with mipart_allocation_release. */
int mipart_ledger_get(mipart_ledger *l, const char *id_or_name, mipart_allocation *ret);

/* mipart_ledger_list - every allocation, oldest first; free with mipart_allocations_free. */
int mipart_ledger_list(mipart_ledger *l, mipart_allocation **ret, size_t *ret_n);

/* mipart_ledger_booked - bytes booked on one partition. */
int mipart_ledger_booked(mipart_ledger *l, const char *bdf, unsigned xcp, uint64_t *ret);

/* mipart_ledger_count_on_gpu - allocations with a booking on any partition of the GPU at bdf. */
int mipart_ledger_count_on_gpu(mipart_ledger *l, const char *bdf, size_t *ret);

void mipart_allocation_release(mipart_allocation *a);
void mipart_allocations_free(mipart_allocation *v, size_t n);

/*
 * mipart_allocation_orphaned - whether a booking of a names a partition t does not have (its
 * GPU is gone, or its modes changed so that the partition index no longer exists). The
 * first such booking's index in *ret_booking when not NULL.
 */
bool mipart_allocation_orphaned(const mipart_allocation *a, const mipart_topology *t,
				size_t *ret_booking);

#endif
