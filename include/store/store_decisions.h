/* SPDX-License-Identifier: MIT */
/*
 * store_decisions.h - lead-agency decisions (migration 4): the rule sets
 * they were made under (kept once per SHA-256), the append-only decisions
 * with their input snapshot and result, and the secretariat's reviews.
 * Prepared statements only; SQLite triggers keep decisions and reviews
 * append-only.  Times come back as epoch seconds (the caller formats them).
 */
#ifndef TSUNAGU_STORE_DECISIONS_H
#define TSUNAGU_STORE_DECISIONS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/* Keep a rule set's text (no-op when its hash is already stored). */
bool  store_rule_set_save(store_t *st, const char *hash, const char *filename,
                          const char *policy, const char *source, int64_t now);
char *store_rule_source(store_t *st, const char *hash);   /* malloc'd or NULL */

typedef struct store_decision_new {
    const char   *case_id, *actor, *rules_hash, *proposed_lead;
    const json_t *inputs, *result;
    int64_t       now;
} store_decision_new_t;

/* The new decision's id, or -1. */
int64_t store_decision_insert(store_t *st, const store_decision_new_t *d);

/* {id, case, created, actor, rules_hash, policy, proposed_lead, status
 * (pending|approved|overridden), review: null | {action, lead, supports,
 * reason, actor, at}} plus result and inputs when full; NULL when unknown. */
json_t *store_decision_get(store_t *st, int64_t id, bool full);
/* The same rows (not full) filtered by case and status (NULL = any);
 * NULL on SQL error. */
json_t *store_decisions_list(store_t *st, const char *case_id, const char *status);
/* The id of a newer decision on the same case, else 0. */
int64_t store_decision_newer(store_t *st, const char *case_id, int64_t id);

bool store_decision_review(store_t *st, int64_t id, const char *action, const char *lead,
                           const json_t *supports, const char *reason, const char *actor,
                           int64_t now);

#endif
