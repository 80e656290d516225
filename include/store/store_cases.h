/* SPDX-License-Identifier: MIT */
/*
 * store_cases.h - the case registry's rows (migration 4, table `cases`):
 * the validated case document, open/closed, and the approved lead and
 * supporters.  Prepared statements only, no policy: validation, consent
 * and who may read live in the callers (daemon/api/api_cases.c,
 * daemon/service/meetings*.c).  Writes run inside the caller's
 * transaction when one is open.
 */
#ifndef TSUNAGU_STORE_CASES_H
#define TSUNAGU_STORE_CASES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "store.h"

typedef struct store_case {
    json_t  *doc;             /* the case document (JSON null if unreadable) */
    char    *status;          /* open | closed */
    char    *lead;            /* approved lead agency id, or NULL */
    json_t  *supports;        /* JSON array of agency ids */
    int64_t  created, updated, closed_at;
} store_case_t;

/* false when the case is unknown (out zeroed; nothing to free). */
bool store_case_load(store_t *st, const char *id, store_case_t *out);
void store_case_free(store_case_t *c);
bool store_case_exists(store_t *st, const char *id);

bool store_case_insert(store_t *st, const char *id, const json_t *doc, const char *actor,
                       int64_t now);
bool store_case_update_doc(store_t *st, const char *id, const json_t *doc, int64_t now);
bool store_case_close(store_t *st, const char *id, int64_t now);
/* The case's current lead and supporters (after a review). */
bool store_case_set_lead(store_t *st, const char *id, const char *lead, const json_t *supports,
                         int64_t now);

/* [{id, status, lead, title}] by creation (new reference); NULL on SQL
 * error. */
json_t *store_cases_list(store_t *st);

#endif
