/* SPDX-License-Identifier: MIT */
/*
 * store_feeds.c - the feeds table's status rows for the HTTP API
 * (store_feeds.h): one SELECT of FEED_COLUMNS read into a store_feed_t,
 * three page queries (one text per filter shape, for the indexes of
 * migration 13) and a count by state.  No logic beyond copying columns.
 */
#include <stdlib.h>
#include <string.h>

#include "store_feeds.h"
#include "util.h"

#define FEED_COLUMNS "id, agency, kind, url, state, last_success, last_error, http_status," \
                     " next_poll, failures, warnings, fetch_ms, last_attempt, covers_from, covers_to," \
                     " intervals"

static char *col_dup(sqlite3_stmt *s, int col)
{
    const char *v = store_col_text(s, col);
    return v ? xstrdup(v) : NULL;
}

static bool col_int(sqlite3_stmt *s, int col, int64_t *out)
{
    if (sqlite3_column_type(s, col) == SQLITE_NULL)
        return false;
    *out = sqlite3_column_int64(s, col);
    return true;
}

/* Row of FEED_COLUMNS -> *f. */
static void feed_row(sqlite3_stmt *s, store_feed_t *f)
{
    memset(f, 0, sizeof *f);
    f->id = col_dup(s, 0);
    f->agency = col_dup(s, 1);
    f->kind = col_dup(s, 2);
    f->url = col_dup(s, 3);
    f->state = col_dup(s, 4);
    f->has_last_success = col_int(s, 5, &f->last_success);
    f->last_error = col_dup(s, 6);
    f->has_http_status = col_int(s, 7, &f->http_status);
    f->has_next_poll = col_int(s, 8, &f->next_poll);
    f->failures = sqlite3_column_int(s, 9);
    f->warnings = col_dup(s, 10);
    if (sqlite3_column_type(s, 11) != SQLITE_NULL) {
        f->has_fetch_ms = true;
        f->fetch_ms = sqlite3_column_double(s, 11);
    }
    f->has_last_attempt = col_int(s, 12, &f->last_attempt);
    bool from = col_int(s, 13, &f->covers_from);
    bool to = col_int(s, 14, &f->covers_to);
    f->has_covers = from && to;
    f->intervals = sqlite3_column_int64(s, 15);
}

void store_feed_free(store_feed_t *f)
{
    if (!f)
        return;
    free(f->id);
    free(f->agency);
    free(f->kind);
    free(f->url);
    free(f->state);
    free(f->last_error);
    free(f->warnings);
    memset(f, 0, sizeof *f);
}

void store_feeds_free(store_feed_t *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        store_feed_free(&rows[i]);
    free(rows);
}

bool store_feed_get(store_t *st, const char *id, store_feed_t *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = store_prepare(st, "SELECT " FEED_COLUMNS " FROM feeds WHERE id = ?");
    if (!s)
        return false;
    store_bind_text(s, 1, id);
    bool found = sqlite3_step(s) == SQLITE_ROW;
    if (found)
        feed_row(s, out);
    store_done(s);
    return found;
}

/* The page query for the filters given: one text each, so SQLite uses
 * the matching index (migration 13) instead of sorting every feed. */
static const char *feed_page_sql(const char *state, const char *agency)
{
    if (agency)
        return "SELECT " FEED_COLUMNS " FROM feeds WHERE agency = ?2 AND (?1 IS NULL OR state = ?1)"
               " ORDER BY position LIMIT ?3 OFFSET ?4";
    if (state)
        return "SELECT " FEED_COLUMNS " FROM feeds WHERE state = ?1 AND ?2 IS NULL"
               " ORDER BY agency, position LIMIT ?3 OFFSET ?4";
    return "SELECT " FEED_COLUMNS " FROM feeds WHERE ?1 IS NULL AND ?2 IS NULL"
           " ORDER BY agency, position LIMIT ?3 OFFSET ?4";
}

bool store_feed_page(store_t *st, const char *state, const char *agency, long limit,
                     long offset, store_feed_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s = store_prepare(st, feed_page_sql(state, agency));
    if (!s)
        return false;
    store_bind_text(s, 1, state);
    store_bind_text(s, 2, agency);
    sqlite3_bind_int64(s, 3, limit);
    sqlite3_bind_int64(s, 4, offset);
    size_t cap = 0;
    store_feed_t *rows = NULL;
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            rows = xrealloc(rows, cap * sizeof *rows);
        }
        feed_row(s, &rows[(*n)++]);
    }
    store_done(s);
    *out = rows;
    return true;
}

bool store_feed_state_counts(store_t *st, const char *agency, store_feed_counts_t *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = store_prepare(st,
        "SELECT SUM(state = 'ok'), SUM(state = 'failing'), SUM(state = 'pending')"
        " FROM feeds WHERE agency = ?");
    if (!s)
        return false;
    store_bind_text(s, 1, agency);
    bool ok = sqlite3_step(s) == SQLITE_ROW;
    if (ok) {
        out->ok = sqlite3_column_int(s, 0);
        out->failing = sqlite3_column_int(s, 1);
        out->pending = sqlite3_column_int(s, 2);
    }
    store_done(s);
    return ok;
}
