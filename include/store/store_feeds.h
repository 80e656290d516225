/* SPDX-License-Identifier: MIT */
/*
 * store_feeds.h - the feeds and busy tables (migrations 1, 6, 7, 13).
 * For the HTTP API: one feed's status row, a page of rows in document
 * order, and an agency's counts by state.  For the feed scheduler
 * (service/feeds.c): its view of every row, a fetch's result written
 * back, and the busy-time reads the slot engine builds on.
 *
 * Rows come back as plain structs with owned strings; the caller turns
 * them into JSON (times in its zone, credentials redacted).  Each
 * page filter has its own SQL text so SQLite uses the matching index
 * (migration 13) instead of sorting every feed.  Prepared statements
 * only, no policy: who may see which feed is the caller's business.
 */
#ifndef TSUNAGU_STORE_FEEDS_H
#define TSUNAGU_STORE_FEEDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feed.h"
#include "interval.h"
#include "store.h"

typedef struct store_feed {
    char    *id, *agency, *kind, *url, *state;   /* never NULL on a loaded row */
    char    *last_error;        /* NULL = none */
    char    *warnings;          /* newline-separated; NULL = none */
    bool     has_last_success, has_http_status, has_next_poll, has_fetch_ms;
    bool     has_last_attempt, has_covers;       /* covers: both ends set */
    int64_t  last_success, http_status, next_poll, last_attempt;
    int64_t  covers_from, covers_to;
    double   fetch_ms;
    int      failures;
    int64_t  intervals;
} store_feed_t;

/* false when the feed is unknown or on SQL error (out zeroed). */
bool store_feed_get(store_t *st, const char *id, store_feed_t *out);
void store_feed_free(store_feed_t *f);

/* Up to limit rows from offset, in document order: by position within
 * agency when agency is non-NULL (that agency only), else by agency then
 * position.  state NULL = any.  success_before > 0: only rows whose last
 * success is older than it (none yet: left out), which with state "ok"
 * are the stale feeds (feeds_is_stale).  *out (malloc'd, *n rows) is for
 * store_feeds_free.  false on SQL error (*out NULL, *n 0). */
bool store_feed_page(store_t *st, const char *state, const char *agency, int64_t success_before,
                     long limit, long offset, store_feed_t **out, size_t *n);
void store_feeds_free(store_feed_t *rows, size_t n);

/* An agency's feeds counted by state; false on SQL error. */
typedef struct store_feed_counts {
    int ok, failing, pending;
} store_feed_counts_t;
bool store_feed_state_counts(store_t *st, const char *agency, store_feed_counts_t *out);

/* ---- for the scheduler ---------------------------------------------- */
/* What the scheduler mirrors of a row.  Strings are borrowed: valid only
 * during the callback, which must not use the store. */
typedef struct store_feed_sched {
    const char *id, *agency, *kind, *url, *state;
    int         failures;
    bool        has_next_poll, has_last_success;
    int64_t     next_poll, last_success, intervals;
} store_feed_sched_t;
typedef void (*store_feed_sched_fn)(const store_feed_sched_t *row, void *arg);

/* Every feed in document order (agency, position).  false on SQL error. */
bool store_feed_sched_all(store_t *st, store_feed_sched_fn fn, void *arg);
/* Up to limit feeds in rowid order after *after (0 = from the start),
 * which is moved to the last row's rowid: the steps of a startup load.
 * Rows visited, -1 on SQL error. */
int  store_feed_sched_page(store_t *st, int64_t *after, int limit, store_feed_sched_fn fn,
                           void *arg);
/* Feeds in the table; -1 on SQL error. */
long long store_feed_count(store_t *st);
bool store_feed_exists(store_t *st, const char *id);
/* Is feed id stored with this kind and url?  0 = no such feed, 1 = the
 * same kind and url, 2 = changed; -1 on SQL error.  The import uses it to
 * decide insert, keep or reset. */
int  store_feed_compare(store_t *st, const char *id, const char *kind, const char *url);
/* Whether the row still has this kind and url (an import may have changed
 * it while a fetch ran): store_feed_compare == 1. */
bool store_feed_row_matches(store_t *st, const char *id, const char *kind, const char *url);
/* The feed's conditional-request state (ETag, CalDAV sync token), as
 * stored; malloc'd, NULL when none. */
char *store_feed_state_json(store_t *st, const char *id);

/* Replace the feed's busy rows with busy; inside the caller's transaction. */
bool store_feed_busy_replace(store_t *st, const char *id, const ivset_t *busy);
/* true when the stored rows are exactly busy (normalized). */
bool store_feed_busy_equals(store_t *st, const char *id, const ivset_t *busy);
/* The stored rows overlapping [from, to), in start order, appended to out. */
bool store_feed_busy_read(store_t *st, const char *id, int64_t from, int64_t to, ivset_t *out);

/* A fetch that succeeded: state ok, counters reset, res's status, state,
 * warnings and coverage; intervals >= 0 replaces the stored count. */
bool store_feed_record_ok(store_t *st, const char *id, const feed_result_t *res,
                          int64_t next_poll, long intervals);
/* A fetch that failed, recorded only while the row still has url. */
bool store_feed_record_failure(store_t *st, const char *id, const char *url,
                               const feed_result_t *res, int failures, int64_t next_poll);

/* An agency's need (必要人数); false when the agency is unknown. */
bool store_agency_need(store_t *st, const char *agency, int *need);
/* An agency's feeds in document order, for the slot engine's cache key
 * and its failing/pending flags.  Borrowed strings, as above. */
typedef struct store_feed_version {
    const char *id, *state;
    bool        has_last_success, has_covers_to;
    int64_t     last_success, data_version, covers_to;
} store_feed_version_t;
typedef void (*store_feed_version_fn)(const store_feed_version_t *row, void *arg);
bool store_agency_feed_versions(store_t *st, const char *agency, store_feed_version_fn fn,
                                void *arg);

#endif
