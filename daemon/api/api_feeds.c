/* SPDX-License-Identifier: MIT */
/*
 * api_feeds.c - feed status, manual refresh and per-feed busy time.
 *
 *   GET  /v1/feeds                 list, paginated (?state= ?limit= ?offset=;
 *                                  agency tokens: own feeds only)
 *   GET  /v1/feeds/{id}            status; credentials in the url redacted
 *   POST /v1/feeds/{id}/refresh    poll now (202)
 *   GET  /v1/feeds/{id}/busy       merged busy intervals in [from, to)
 *
 * Status comes straight from the feeds table; busy time from the busy
 * table through feeds_feed_busy.  "covers" is [start, end] of the range a
 * free/busy document declared (VFREEBUSY DTSTART/DTEND), else null.  An agency token asking for another
 * agency's feed gets 403.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "feeds.h"
#include "log.h"
#include "util.h"

/* Hide the userinfo part of a URL (user:pw@ becomes ***@). */
char *api_redact_url(const char *url)
{
    const char *scheme = strstr(url, "://");
    if (!scheme)
        return xstrdup(url);
    const char *host = scheme + 3;
    const char *slash = strchr(host, '/');
    const char *at = strchr(host, '@');
    if (!at || (slash && at > slash))
        return xstrdup(url);
    return xasprintf("%.*s***%s", (int)(host - url), url, at);
}

#define FEED_COLUMNS "id, agency, kind, url, state, last_success, last_error, http_status," \
                     " next_poll, failures, warnings, fetch_ms, last_attempt, covers_from, covers_to," \
                     " intervals"
#define FEEDS_PAGE_DEFAULT 500     /* ~40 ms of loop time per page at 100,000 feeds */
#define FEEDS_PAGE_MAX     5000

static json_t *warnings_json(const char *w)
{
    json_t *arr = json_array();
    if (!w)
        return arr;
    char *copy = xstrdup(w), *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        json_array_append_new(arr, json_string(line));
    free(copy);
    return arr;
}

static json_t *int_or_null(sqlite3_stmt *s, int col)
{
    return sqlite3_column_type(s, col) == SQLITE_NULL ? json_null()
                                                       : json_integer(sqlite3_column_int64(s, col));
}

static json_t *time_or_null(sqlite3_stmt *s, int col, const tz_t *zone)
{
    return sqlite3_column_type(s, col) == SQLITE_NULL
               ? json_null() : api_time_json(sqlite3_column_int64(s, col), zone, false);
}

static json_t *str_or_null(sqlite3_stmt *s, int col)
{
    const char *v = store_col_text(s, col);
    return v ? json_string(v) : json_null();
}

/* [start, end] of the range the feed's document declared it covers
 * (VFREEBUSY DTSTART/DTEND), or null when it declared none. */
static json_t *covers_json(sqlite3_stmt *s, int col, const tz_t *zone)
{
    if (sqlite3_column_type(s, col) == SQLITE_NULL || sqlite3_column_type(s, col + 1) == SQLITE_NULL)
        return json_null();
    return json_pack("[o, o]", api_time_json(sqlite3_column_int64(s, col), zone, false),
                     api_time_json(sqlite3_column_int64(s, col + 1), zone, false));
}

/* Row of FEED_COLUMNS -> JSON (interval count looked up separately). */
static json_t *feed_row_json(sqlite3_stmt *s, const tz_t *zone)
{
    char *url = api_redact_url(store_col_text(s, 3));
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:i, s:o, s:o}",
        "id", store_col_text(s, 0), "agency", store_col_text(s, 1), "kind", store_col_text(s, 2),
        "url", url, "state", store_col_text(s, 4),
        "last_success", time_or_null(s, 5, zone), "last_error", str_or_null(s, 6),
        "http_status", int_or_null(s, 7), "next_poll", time_or_null(s, 8, zone),
        "failures", sqlite3_column_int(s, 9), "warnings", warnings_json(store_col_text(s, 10)),
        "last_attempt", time_or_null(s, 12, zone));
    if (sqlite3_column_type(s, 11) != SQLITE_NULL)
        json_object_set_new(j, "fetch_ms", json_real(sqlite3_column_double(s, 11)));
    json_object_set_new(j, "covers", covers_json(s, 13, zone));
    json_object_set_new(j, "intervals", json_integer(sqlite3_column_int64(s, 15)));
    free(url);
    return j;
}

json_t *api_feed_json(api_req_t *r, const char *id)
{
    store_t *st = r->d->store;
    sqlite3_stmt *s = store_prepare(st, "SELECT " FEED_COLUMNS " FROM feeds WHERE id = ?");
    if (!s)
        return NULL;
    store_bind_text(s, 1, id);
    json_t *j = sqlite3_step(s) == SQLITE_ROW ? feed_row_json(s, api_zone(r)) : NULL;
    store_done(s);
    return j;
}

/* Looks the feed up and checks the caller may see it; replies on failure. */
static json_t *visible_feed(api_req_t *r)
{
    const char *id = api_param(r, "id");
    json_t *j = api_feed_json(r, id);
    if (!j) {
        api_404(r, "フィード", id);
        return NULL;
    }
    if (!api_may_see_agency(r, json_string_value(json_object_get(j, "agency")))) {
        json_decref(j);
        api_reply_error(r, 403, "forbidden",
                        "他の機関のフィードは見られません: %s (feed belongs to another agency)", id);
        return NULL;
    }
    return j;
}

static void h_feed_get(api_req_t *r)
{
    json_t *j = visible_feed(r);
    if (j)
        api_reply_json(r, 200, j);
}

/* ?name= as a count in [0, max]; def when absent; replies 400 if bad. */
static bool query_count(api_req_t *r, const char *name, long def, long max, long *out)
{
    const char *v = api_query(r, name);
    char *end = NULL;
    *out = v ? strtol(v, &end, 10) : def;
    if (v && (!*v || *end || *out < 0 || *out > max)) {
        api_reply_error(r, 400, "bad-query", "%s は 0 から %ld までの整数です (%s: integer 0..%ld)",
                        name, max, name, max);
        return false;
    }
    return true;
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

/* One page in document order: ?state=ok|failing|pending, ?limit= (default
 * FEEDS_PAGE_DEFAULT, at most FEEDS_PAGE_MAX), ?offset=; "next_offset" is
 * null on the last page.  Agency tokens see their own feeds only. */
static void h_feed_list(api_req_t *r)
{
    long limit, offset;
    const char *state = api_query(r, "state");
    if (state && strcmp(state, "ok") != 0 && strcmp(state, "failing") != 0 &&
        strcmp(state, "pending") != 0) {
        api_reply_error(r, 400, "bad-query", "state は ok / failing / pending のいずれかです (bad state)");
        return;
    }
    if (!query_count(r, "limit", FEEDS_PAGE_DEFAULT, FEEDS_PAGE_MAX, &limit) ||
        !query_count(r, "offset", 0, 1L << 30, &offset))
        return;
    const char *agency = r->auth.role == API_AGENCY ? r->auth.agency : NULL;
    sqlite3_stmt *s = store_prepare(r->d->store, feed_page_sql(state, agency));
    if (!s) {
        api_reply_error(r, 500, "store", "一覧を取得できません (store error)");
        return;
    }
    store_bind_text(s, 1, state);
    store_bind_text(s, 2, agency);
    sqlite3_bind_int64(s, 3, limit + 1);          /* one more: is there a next page? */
    sqlite3_bind_int64(s, 4, offset);
    json_t *arr = json_array();
    const tz_t *zone = api_zone(r);
    bool more = false;
    while (sqlite3_step(s) == SQLITE_ROW) {
        if ((long)json_array_size(arr) == limit) {
            more = true;
            break;
        }
        json_array_append_new(arr, feed_row_json(s, zone));
    }
    store_done(s);
    api_reply_json(r, 200, json_pack("{s:o, s:o}", "feeds", arr, "next_offset",
                                     more ? json_integer(offset + limit) : json_null()));
}

/* ?force=1: staff only; agencies also wait out a failing feed's backoff. */
static bool refresh_flags(api_req_t *r, unsigned *flags)
{
    const char *force = api_query(r, "force");
    bool want_force = force && (strcmp(force, "1") == 0 || strcmp(force, "true") == 0);
    *flags = api_is_staff(r) ? 0 : FEEDS_REFRESH_BACKOFF;
    if (!want_force)
        return true;
    if (!api_is_staff(r)) {
        api_reply_error(r, 403, "forbidden",
                        "強制取得 (force) は事務局・コーディネーターだけが使えます (force is staff-only)");
        return false;
    }
    *flags |= FEEDS_REFRESH_FORCE;
    return true;
}

static void h_feed_refresh(api_req_t *r)
{
    json_t *j = visible_feed(r);
    if (!j)
        return;
    json_decref(j);
    unsigned flags;
    if (!refresh_flags(r, &flags))
        return;
    const char *id = api_param(r, "id");
    long wait = 0;
    switch (feeds_refresh_request(r->d->feeds, id, flags, &wait)) {
    case FEEDS_REFRESH_UNKNOWN:
        api_404(r, "フィード", id);
        return;
    case FEEDS_REFRESH_TOO_SOON: {
        char ra[32];
        snprintf(ra, sizeof ra, "%ld", wait);
        evhttp_add_header(evhttp_request_get_output_headers(r->req), "Retry-After", ra);
        api_reply_error(r, 429, "too-soon",
                        "フィード %s は取得したばかりです。%ld 秒後に再度お試しください "
                        "(refresh too soon; retry after %ld s)", id, wait, wait);
        return;
    }
    case FEEDS_REFRESH_RUNNING:
        api_reply_json(r, 202, json_pack("{s:s, s:s}", "feed", id, "status", "already-refreshing"));
        return;
    case FEEDS_REFRESH_STARTED:
        break;
    }
    log_info("feed %s: refresh requested%s", id, flags & FEEDS_REFRESH_FORCE ? " (forced)" : "");
    api_reply_json(r, 202, json_pack("{s:s, s:s}", "feed", id, "status", "refreshing"));
}

/* from/to from the query (defaults: the whole stored window); replies 400. */
bool api_busy_window(api_req_t *r, int64_t *from, int64_t *to)
{
    int64_t now = tu_now();
    const tz_t *zone = api_zone(r);
    if (!api_query_time(r, "from", zone, now - FEEDS_WINDOW_BACK, from) ||
        !api_query_time(r, "to", zone, now + FEEDS_WINDOW_AHEAD, to))
        return false;
    if (*to <= *from) {
        api_reply_error(r, 400, "bad-time", "to は from より後にしてください (to must be after from)");
        return false;
    }
    if (*to - *from > 400LL * 86400) {
        api_reply_error(r, 400, "bad-time", "期間が長すぎます (最大400日) (window too long)");
        return false;
    }
    return true;
}

static void h_feed_busy(api_req_t *r)
{
    json_t *j = visible_feed(r);
    if (!j)
        return;
    json_decref(j);
    int64_t from, to;
    if (!api_busy_window(r, &from, &to))
        return;
    const char *id = api_param(r, "id");
    ivset_t busy;
    ivset_init(&busy);
    feeds_feed_busy(r->d->store, id, from, to, &busy);
    const tz_t *zone = api_zone(r);
    api_reply_json(r, 200, json_pack("{s:s, s:o, s:o, s:o}", "feed", id,
                                     "from", api_time_json(from, zone, false),
                                     "to", api_time_json(to, zone, false),
                                     "busy", api_ivset_json(&busy, zone)));
    ivset_free(&busy);
}

void api_feeds_register(api_t *api)
{
    api_route(api, "GET", "/v1/feeds", API_ANY, API_DATA_NONE, h_feed_list);
    api_route(api, "GET", "/v1/feeds/{id}", API_ANY, API_DATA_NONE, h_feed_get);
    api_route(api, "POST", "/v1/feeds/{id}/refresh", API_ANY, API_DATA_NONE, h_feed_refresh);
    api_route(api, "GET", "/v1/feeds/{id}/busy", API_ANY, API_DATA_NONE, h_feed_busy);
}
