/* SPDX-License-Identifier: MIT */
/*
 * store_feeds.c - the feeds and busy tables (store_feeds.h).  For the
 * HTTP API: one SELECT of FEED_COLUMNS read into a store_feed_t, three
 * page queries (one text per filter shape, for the indexes of migration
 * 13) and a count by state.  For the feed scheduler: SCHED_COLUMNS rows
 * handed to a callback with borrowed strings (no copy per row at 100,000
 * feeds), a fetch's result written back, and the busy reads and writes.
 * No logic beyond copying columns and binding values.
 */
#include <stdlib.h>
#include <string.h>

#include "store_feeds.h"
#include "timeutil.h"
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
    sqlite3_stmt *s = store_stmt(st, "SELECT " FEED_COLUMNS " FROM feeds WHERE id = ?", STORE_TEXT(id));
    bool found = store_step_row(s);
    if (found)
        feed_row(s, out);
    store_done(s);
    return found;
}

/* The page query for the filters given: one text each, so SQLite uses
 * the matching index (migration 13) instead of sorting every feed; the
 * last-success bound (?5, 0 = none) only filters the rows it walks. */
#define SUCCESS_BEFORE " AND (?5 = 0 OR last_success < ?5)"
static const char *feed_page_sql(const char *state, const char *agency)
{
    if (agency)
        return "SELECT " FEED_COLUMNS " FROM feeds WHERE agency = ?2 AND (?1 IS NULL OR state = ?1)"
               SUCCESS_BEFORE " ORDER BY position LIMIT ?3 OFFSET ?4";
    if (state)
        return "SELECT " FEED_COLUMNS " FROM feeds WHERE state = ?1 AND ?2 IS NULL"
               SUCCESS_BEFORE " ORDER BY agency, position LIMIT ?3 OFFSET ?4";
    return "SELECT " FEED_COLUMNS " FROM feeds WHERE ?1 IS NULL AND ?2 IS NULL"
           SUCCESS_BEFORE " ORDER BY agency, position LIMIT ?3 OFFSET ?4";
}

bool store_feed_page(store_t *st, const char *state, const char *agency, int64_t success_before,
                     long limit, long offset, store_feed_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s = store_stmt(st, feed_page_sql(state, agency), STORE_TEXT(state),
                                 STORE_TEXT(agency), STORE_INT(limit), STORE_INT(offset),
                                 STORE_INT(success_before > 0 ? success_before : 0));
    if (!s)
        return false;
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
    sqlite3_stmt *s = store_stmt(st,
        "SELECT SUM(state = 'ok'), SUM(state = 'failing'), SUM(state = 'pending')"
        " FROM feeds WHERE agency = ?", STORE_TEXT(agency));
    bool ok = store_step_row(s);
    if (ok) {
        out->ok = sqlite3_column_int(s, 0);
        out->failing = sqlite3_column_int(s, 1);
        out->pending = sqlite3_column_int(s, 2);
    }
    store_done(s);
    return ok;
}

/* ---- for the scheduler ------------------------------------------------ */
#define SCHED_COLUMNS "id, agency, kind, url, failures, state, next_poll, last_success, intervals"

static void sched_row(sqlite3_stmt *s, store_feed_sched_fn fn, void *arg)
{
    store_feed_sched_t r = {
        .id = store_col_text(s, 0), .agency = store_col_text(s, 1),
        .kind = store_col_text(s, 2), .url = store_col_text(s, 3),
        .failures = sqlite3_column_int(s, 4), .state = store_col_text(s, 5),
        .intervals = sqlite3_column_int64(s, 8),
    };
    r.has_next_poll = col_int(s, 6, &r.next_poll);
    r.has_last_success = col_int(s, 7, &r.last_success);
    fn(&r, arg);
}

bool store_feed_sched_all(store_t *st, store_feed_sched_fn fn, void *arg)
{
    sqlite3_stmt *s = store_prepare(st, "SELECT " SCHED_COLUMNS " FROM feeds ORDER BY agency, position");
    if (!s)
        return false;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        sched_row(s, fn, arg);
    store_done(s);
    return rc == SQLITE_DONE;
}

int store_feed_sched_page(store_t *st, int64_t *after, int limit, store_feed_sched_fn fn, void *arg)
{
    sqlite3_stmt *s = store_stmt(st,
        "SELECT " SCHED_COLUMNS ", rowid FROM feeds WHERE rowid > ? ORDER BY rowid LIMIT ?",
        STORE_INT(*after), STORE_INT(limit));
    if (!s)
        return -1;
    int n = 0, rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        sched_row(s, fn, arg);
        *after = sqlite3_column_int64(s, 9);
        n++;
    }
    store_done(s);
    return rc == SQLITE_DONE ? n : -1;
}

long long store_feed_count(store_t *st)
{
    return store_int(store_prepare(st, "SELECT COUNT(*) FROM feeds"), -1);
}

bool store_feed_exists(store_t *st, const char *id)
{
    return store_row_exists(st, "SELECT 1 FROM feeds WHERE id = ?", id);
}

int store_feed_compare(store_t *st, const char *id, const char *kind, const char *url)
{
    sqlite3_stmt *s = store_stmt(st, "SELECT kind, url FROM feeds WHERE id = ?", STORE_TEXT(id));
    if (!s)
        return -1;
    int r = 0;
    if (sqlite3_step(s) == SQLITE_ROW)
        r = strcmp(store_col_text(s, 0), kind) == 0 && strcmp(store_col_text(s, 1), url) == 0 ? 1 : 2;
    store_done(s);
    return r;
}

bool store_feed_row_matches(store_t *st, const char *id, const char *kind, const char *url)
{
    return store_feed_compare(st, id, kind, url) == 1;
}

char *store_feed_state_json(store_t *st, const char *id)
{
    return store_text(store_stmt(st, "SELECT state_json FROM feeds WHERE id = ?", STORE_TEXT(id)));
}

bool store_feed_busy_replace(store_t *st, const char *id, const ivset_t *busy)
{
    if (!store_run(store_stmt(st, "DELETE FROM busy WHERE feed_id = ?", STORE_TEXT(id))))
        return false;
    for (size_t i = 0; i < busy->n; i++)
        if (!store_run(store_stmt(st, "INSERT INTO busy(feed_id, start, end) VALUES (?, ?, ?)",
                                  STORE_TEXT(id), STORE_INT(busy->v[i].start),
                                  STORE_INT(busy->v[i].end))))
            return false;
    return true;
}

bool store_feed_busy_equals(store_t *st, const char *id, const ivset_t *busy)
{
    sqlite3_stmt *s = store_stmt(st, "SELECT start, end FROM busy WHERE feed_id = ? ORDER BY start, end",
                                 STORE_TEXT(id));
    if (!s)
        return false;
    size_t i = 0;
    bool same = true;
    while (same && sqlite3_step(s) == SQLITE_ROW) {
        same = i < busy->n && sqlite3_column_int64(s, 0) == busy->v[i].start &&
               sqlite3_column_int64(s, 1) == busy->v[i].end;
        i++;
    }
    store_done(s);
    return same && i == busy->n;
}

bool store_feed_busy_read(store_t *st, const char *id, int64_t from, int64_t to, ivset_t *out)
{
    sqlite3_stmt *s = store_stmt(st,
        "SELECT start, end FROM busy WHERE feed_id = ? AND end > ? AND start < ? ORDER BY start",
        STORE_TEXT(id), STORE_INT(from), STORE_INT(to));
    if (!s)
        return false;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ivset_push(out, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1));
    store_done(s);
    return rc == SQLITE_DONE;
}

/* A fetch's HTTP status, or NULL when there was none (0). */
static store_arg_t http_status_arg(const feed_result_t *res)
{
    return res->http_status ? STORE_INT(res->http_status) : STORE_NULL;
}

static char *join_warnings(const strvec_t *w)
{
    if (w->n == 0)
        return NULL;
    strbuf_t b;
    strbuf_init(&b);
    for (size_t i = 0; i < w->n; i++) {
        if (i)
            strbuf_putc(&b, '\n');
        strbuf_puts(&b, w->v[i]);
    }
    return strbuf_detach(&b);
}

bool store_feed_record_ok(store_t *st, const char *id, const feed_result_t *res,
                          int64_t next_poll, long intervals)
{
    char *warn = join_warnings(&res->warnings);
    /* a new document says anew what it covers; unchanged keeps it */
    bool covers = res->status == FEED_OK && res->has_covers;
    bool ok = store_run(store_stmt(st,
        "UPDATE feeds SET state = 'ok', last_success = ?2, last_attempt = ?2, last_error = NULL,"
        " warnings = ?3, http_status = ?4, failures = 0, state_json = COALESCE(?5, state_json),"
        " next_poll = ?6, fetch_ms = ?7,"
        " covers_from = CASE WHEN ?8 THEN ?9 ELSE covers_from END,"
        " covers_to = CASE WHEN ?8 THEN ?10 ELSE covers_to END,"
        " intervals = COALESCE(?11, intervals) WHERE id = ?1",
        STORE_TEXT(id), STORE_INT(tu_now()), STORE_TEXT(warn), http_status_arg(res),
        STORE_TEXT(res->state_json), STORE_INT(next_poll), STORE_REAL(res->elapsed_ms),
        STORE_INT(res->status == FEED_OK), covers ? STORE_INT(res->covers_from) : STORE_NULL,
        covers ? STORE_INT(res->covers_to) : STORE_NULL,
        intervals >= 0 ? STORE_INT(intervals) : STORE_NULL));
    free(warn);
    return ok;
}

bool store_feed_record_failure(store_t *st, const char *id, const char *url,
                               const feed_result_t *res, int failures, int64_t next_poll)
{
    return store_run(store_stmt(st,
        "UPDATE feeds SET state = 'failing', last_attempt = ?2, last_error = ?3, http_status = ?4,"
        " failures = ?5, next_poll = ?6, fetch_ms = ?7 WHERE id = ?1 AND url = ?8",
        STORE_TEXT(id), STORE_INT(tu_now()), STORE_TEXT(res->error ? res->error : "unknown error"),
        http_status_arg(res), STORE_INT(failures), STORE_INT(next_poll),
        STORE_REAL(res->elapsed_ms), STORE_TEXT(url)));
}

bool store_agency_need(store_t *st, const char *agency, int *need)
{
    sqlite3_stmt *s = store_stmt(st, "SELECT need FROM agencies WHERE id = ?", STORE_TEXT(agency));
    bool ok = store_step_row(s);
    if (ok)
        *need = sqlite3_column_int(s, 0);
    store_done(s);
    return ok;
}

bool store_agency_feed_versions(store_t *st, const char *agency, store_feed_version_fn fn,
                                void *arg)
{
    sqlite3_stmt *s = store_stmt(st,
        "SELECT id, state, last_success, data_version, covers_to FROM feeds WHERE agency = ?"
        " ORDER BY position, id", STORE_TEXT(agency));
    if (!s)
        return false;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        store_feed_version_t v = {.id = store_col_text(s, 0), .state = store_col_text(s, 1),
                                  .data_version = sqlite3_column_int64(s, 3)};
        v.has_last_success = col_int(s, 2, &v.last_success);
        v.has_covers_to = col_int(s, 4, &v.covers_to);
        fn(&v, arg);
    }
    store_done(s);
    return rc == SQLITE_DONE;
}
