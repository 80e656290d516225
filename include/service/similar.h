/* SPDX-License-Identifier: MIT */
/*
 * similar.h - similar past cases (DESIGN "Statistics, similar cases and
 * rule impact"), served from an inverted index.
 *
 * For a case c, R(c) is the set of rule ids that fire for c under the
 * current rules and F(c) the union of the household's and every member's
 * features.  sim(a,b) = 0.6·J(R(a),R(b)) + 0.4·J(F(a),F(b)) with J the
 * Jaccard index (J of two empty sets is 0).  The results for a are every
 * other case with sim >= 0.25, by sim descending then id ascending, cut
 * at the limit.
 *
 * Index: every rule id and feature is a term; each term keeps the list
 * of cases that have it (postings).  A query walks only the postings of
 * a's own terms, counting per touched case the shared rules and shared
 * features; a case that shares no term has sim 0 and is never touched.
 * Scores are kept as exact fractions (3·|R∩|·|F∪| + 2·|F∩|·|R∪|) /
 * (5·|R∪|·|F∪|), so the threshold and ties are decided exactly;
 * similar_query_scan() computes the same answer by scanning every case
 * (the benchmark's reference).
 *
 * similar_sync() keeps the index in step with the store: a changed rule
 * set (other hash) rebuilds it; otherwise only cases whose `updated` is at
 * or after the newest one already indexed are read again.  A pass walks
 * the cases in (updated, rowid) order by pages, so it can be spread over
 * several calls (similar_sync_some; the daemon warms the index that way).
 */
#ifndef TSUNAGU_SIMILAR_H
#define TSUNAGU_SIMILAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "case.h"
#include "rules.h"
#include "store.h"
#include "util.h"

typedef struct similar similar_t;

typedef struct similar_hit {
    const char *id;            /* owned by the index; valid until it changes */
    int64_t     num, den;      /* sim = num / den exactly */
    double      sim;
    int         shared_rules, shared_features;
} similar_hit_t;

#define SIMILAR_MIN_NUM 1      /* threshold 0.25 = 1/4 */
#define SIMILAR_MIN_DEN 4
#define SIMILAR_MAX_LIMIT 50

similar_t *similar_new(void);
void       similar_free(similar_t *s);
size_t     similar_count(const similar_t *s);

/* R(c) and F(c): rule ids that fire under rs, features (no duplicates). */
void similar_terms(const ruleset_t *rs, const case_t *c, strvec_t *rules, strvec_t *features);

/* Add or replace a case's terms. */
void similar_set(similar_t *s, const char *id, const strvec_t *rules, const strvec_t *features);
/* The case's terms as indexed (NULL when not indexed). */
bool similar_get(const similar_t *s, const char *id, strvec_t *rules, strvec_t *features);

/* Up to limit hits for case id (which must be indexed) into out; returns
 * how many.  -1 when id is not indexed. */
long similar_query(similar_t *s, const char *id, size_t limit, similar_hit_t *out);
/* The same answer by scanning every indexed case (reference/benchmark). */
long similar_query_scan(similar_t *s, const char *id, size_t limit, similar_hit_t *out);

/* Bring the index up to date with the store under rs.  Returns the number
 * of case rows read, or -1 on a store error. */
long similar_sync(similar_t *s, store_t *st, const ruleset_t *rs);
/* true while the index for rs is not complete: never built, built under
 * other rules, or its first pass still under way. */
bool similar_building(const similar_t *s, const ruleset_t *rs);
/* The same in steps of at most max_rows rows (so a daemon can build the
 * index from a timer without blocking its loop): *done is true once the
 * index is up to date.  Returns the rows read, -1 on a store error. */
long similar_sync_some(similar_t *s, store_t *st, const ruleset_t *rs, long max_rows,
                       bool *done);

#endif
