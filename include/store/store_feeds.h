/* SPDX-License-Identifier: MIT */
/*
 * store_feeds.h - reading the feeds table (migrations 1, 6, 7, 13) for
 * the HTTP API: one feed's status row, a page of rows in document order,
 * and an agency's counts by state.
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
 * position.  state NULL = any.  *out (malloc'd, *n rows) is for
 * store_feeds_free.  false on SQL error (*out NULL, *n 0). */
bool store_feed_page(store_t *st, const char *state, const char *agency, long limit,
                     long offset, store_feed_t **out, size_t *n);
void store_feeds_free(store_feed_t *rows, size_t n);

/* An agency's feeds counted by state; false on SQL error. */
typedef struct store_feed_counts {
    int ok, failing, pending;
} store_feed_counts_t;
bool store_feed_state_counts(store_t *st, const char *agency, store_feed_counts_t *out);

#endif
