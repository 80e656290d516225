/* SPDX-License-Identifier: MIT */
/*
 * store_holds.h - holds at rest (migration 3): holds(id, start, end,
 * expires, created, created_by) and hold_agencies(hold_id, agency).
 *
 * Prepared statements only.  The rules (a hold spans at most a day, an
 * overlapping active hold of the same agency refuses a new one, all in
 * one transaction) live in daemon/service/slots_store.c (holds_create),
 * which calls these inside its transaction.  "Active" means expires > now.
 */
#ifndef TSUNAGU_STORE_HOLDS_H
#define TSUNAGU_STORE_HOLDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "interval.h"
#include "store.h"
#include "util.h"

#define STORE_HOLDS_LIST_MAX 256      /* store_holds_list returns at most this many */

/* Delete every hold with expires <= now. */
void    store_holds_purge(store_t *st, int64_t now);
/* The id of an active hold of agency overlapping [start, end), or 0
 * (also on SQL error). */
int64_t store_hold_overlap(store_t *st, const char *agency, int64_t start, int64_t end,
                           int64_t now);
/* Insert a hold and its agencies (in that order); *id_out is the new id.
 * false on SQL error (the caller rolls its transaction back). */
bool    store_hold_insert(store_t *st, const strvec_t *agencies, int64_t start, int64_t end,
                          int64_t expires, int64_t now, const char *by, int64_t *id_out);
/* false when no such hold, or on SQL error. */
bool    store_hold_delete(store_t *st, int64_t id);
/* Append [start, end) of each active hold of agency overlapping [from,
 * to) to out (not normalized). */
void    store_holds_agency_busy(store_t *st, const char *agency, int64_t from, int64_t to,
                                int64_t now, ivset_t *out);

/* One hold with its agencies (in the order they were given). */
typedef struct store_hold {
    int64_t   id, start, end, expires;
    char     *created_by;       /* NULL when not recorded */
    strvec_t  agencies;
} store_hold_t;

/* Active holds by start then id, at most STORE_HOLDS_LIST_MAX: *out
 * (malloc'd, *n rows) is for store_holds_free.  false on SQL error (*out
 * NULL, *n 0). */
bool store_holds_list(store_t *st, int64_t now, store_hold_t **out, size_t *n);
/* One hold by id, expired or not; false when unknown or on SQL error
 * (out zeroed).  store_hold_free it. */
bool store_hold_get(store_t *st, int64_t id, store_hold_t *out);
void store_hold_free(store_hold_t *h);
void store_holds_free(store_hold_t *rows, size_t n);

#endif
