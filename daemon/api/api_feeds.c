/* SPDX-License-Identifier: MIT */
/*
 * api_feeds.c - feed status, manual refresh and per-feed busy time.
 *
 *   GET  /v1/feeds                 list, paginated (?state= ?limit= ?offset=;
 *                                  ?state=stale: the stale ones below;
 *                                  agency tokens: own feeds only)
 *   GET  /v1/feeds/{id}            status; credentials in the url redacted
 *   POST /v1/feeds/{id}/refresh    poll now (202)
 *   GET  /v1/feeds/{id}/busy       merged busy intervals in [from, to)
 *
 * Status comes from the feeds table (store_feeds.h); busy time from the busy
 * table through feeds_feed_busy.  "covers" is [start, end] of the range a
 * free/busy document declared (VFREEBUSY DTSTART/DTEND), else null.  An agency token asking for another
 * agency's feed gets 403.  "advice" is last_error explained in plain
 * Japanese with what to fix (feed_explain.h), null while there is none.
 * "stale" is true for a feed in state ok whose last success is older
 * than 3 poll intervals (feeds_is_stale), with stale_age_seconds and
 * stale_text, the Japanese warning.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "feed_explain.h"
#include "feeds.h"
#include "log.h"
#include "store_feeds.h"
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

static json_t *int_or_null(bool has, int64_t v)
{
    return has ? json_integer(v) : json_null();
}

static json_t *time_or_null(bool has, int64_t t, const tz_t *zone)
{
    return has ? api_time_json(t, zone, false) : json_null();
}

static json_t *str_or_null(const char *v)
{
    return v ? json_string(v) : json_null();
}

/* [start, end] of the range the feed's document declared it covers
 * (VFREEBUSY DTSTART/DTEND), or null when it declared none. */
static json_t *covers_json(const store_feed_t *f, const tz_t *zone)
{
    if (!f->has_covers)
        return json_null();
    return json_pack("[o, o]", api_time_json(f->covers_from, zone, false),
                     api_time_json(f->covers_to, zone, false));
}

/* {"code", "text"}: last_error explained in plain Japanese with what to
 * fix (feed_explain.c, the one table), or null when there is no error. */
static json_t *advice_json(const store_feed_t *f)
{
    const feed_advice_t *a = feed_explain(f->last_error, f->has_http_status ? f->http_status : 0);
    return a ? json_pack("{s:s, s:s}", "code", a->code, "text", a->text) : json_null();
}

/* stale (feeds_is_stale): true with its age in seconds and a Japanese
 * warning, or false. */
static void stale_json(json_t *j, const store_feed_t *f, const tz_t *zone, int64_t now,
                       int64_t stale_after)
{
    bool stale = feeds_is_stale(strcmp(f->state, "ok") == 0, f->has_last_success,
                                f->last_success, now, stale_after);
    json_object_set_new(j, "stale", json_boolean(stale));
    if (!stale)
        return;
    char *t = feeds_stale_text(f->last_success, now, zone);
    json_object_set_new(j, "stale_age_seconds", json_integer((json_int_t)(now - f->last_success)));
    json_object_set_new(j, "stale_text", json_string(t));
    free(t);
}

/* A feeds row -> JSON, at now with the staleness threshold stale_after. */
static json_t *feed_row_json(const store_feed_t *f, const tz_t *zone, int64_t now,
                             int64_t stale_after)
{
    char *url = api_redact_url(f->url);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:i, s:o, s:o}",
        "id", f->id, "agency", f->agency, "kind", f->kind,
        "url", url, "state", f->state,
        "last_success", time_or_null(f->has_last_success, f->last_success, zone),
        "last_error", str_or_null(f->last_error),
        "http_status", int_or_null(f->has_http_status, f->http_status),
        "next_poll", time_or_null(f->has_next_poll, f->next_poll, zone),
        "failures", f->failures, "warnings", warnings_json(f->warnings),
        "last_attempt", time_or_null(f->has_last_attempt, f->last_attempt, zone));
    if (f->has_fetch_ms)
        json_object_set_new(j, "fetch_ms", json_real(f->fetch_ms));
    json_object_set_new(j, "covers", covers_json(f, zone));
    json_object_set_new(j, "intervals", json_integer(f->intervals));
    json_object_set_new(j, "advice", advice_json(f));
    stale_json(j, f, zone, now, stale_after);
    free(url);
    return j;
}

json_t *api_feed_json(api_req_t *r, const char *id)
{
    store_feed_t f;
    if (!store_feed_get(r->d->store, id, &f))
        return NULL;
    json_t *j = feed_row_json(&f, api_zone(r), tu_now(), feeds_stale_after(r->d->config));
    store_feed_free(&f);
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

/* The same check for a handler that does not reply with the feed. */
static bool feed_visible(api_req_t *r)
{
    json_t *j = visible_feed(r);
    json_decref(j);
    return j != NULL;
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

/* One page in document order: ?state=ok|failing|pending|stale (stale: ok
 * but the last success older than feeds_stale_after, as "stale" in each
 * row), ?limit= (default FEEDS_PAGE_DEFAULT, at most FEEDS_PAGE_MAX),
 * ?offset=; "next_offset" is null on the last page.  Agency tokens see
 * their own feeds only. */
static void h_feed_list(api_req_t *r)
{
    long limit, offset;
    static const char *const states[] = {"ok", "failing", "pending", "stale", NULL};
    const char *state;
    if (!api_query_enum(r, "state", states, "bad-query", &state))
        return;
    int64_t now = tu_now(), stale_after = feeds_stale_after(r->d->config), before = 0;
    if (state && strcmp(state, "stale") == 0) {
        state = "ok";
        before = now - stale_after;
    }
    if (!query_count(r, "limit", FEEDS_PAGE_DEFAULT, FEEDS_PAGE_MAX, &limit) ||
        !query_count(r, "offset", 0, 1L << 30, &offset))
        return;
    const char *agency = r->auth.role == API_AGENCY ? r->auth.agency : NULL;
    store_feed_t *rows;
    size_t n;
    /* one more than asked for: is there a next page? */
    if (!store_feed_page(r->d->store, state, agency, before, limit + 1, offset, &rows, &n)) {
        api_reply_error(r, 500, "store", "一覧を取得できません (store error)");
        return;
    }
    json_t *arr = json_array();
    const tz_t *zone = api_zone(r);
    bool more = (long)n > limit;
    for (size_t i = 0; i < n && (long)i < limit; i++)
        json_array_append_new(arr, feed_row_json(&rows[i], zone, now, stale_after));
    store_feeds_free(rows, n);
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
    if (!feed_visible(r))
        return;
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
    if (!feed_visible(r))
        return;
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
