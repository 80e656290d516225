/* SPDX-License-Identifier: MIT */
/*
 * api_agencies.c - the agency registry: import, listing, combined busy
 * time and the subscribable VFREEBUSY feed.
 *
 *   POST /v1/import                   agencies.json (admin); one transaction
 *   GET  /v1/agencies                 summary list
 *   GET  /v1/agencies/{id}            interchange JSON + feed status
 *   GET  /v1/agencies/{id}/busy       busy under the agency's need rule
 *   GET  /v1/agencies/{id}/freebusy.ics   VFREEBUSY (text/calendar)
 *
 * Import validation and storage are store_import_city's job; this file
 * only turns its result into HTTP and tells the daemon the city changed
 * (city cache + feed scheduler).  The JSON parse and city_from_json of
 * an import run on the parse pool when the daemon has one (the request
 * is deferred meanwhile); the loop only checks the urls and writes.
 *
 * An agency account or token learns nothing about other agencies: the
 * list holds its own agency only, and another agency's page, busy time
 * and feeds answer 403 (issue 10: 自分の機関).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "feed.h"
#include "feeds.h"
#include "parse_pool.h"
#include "log.h"
#include "store_feeds.h"
#include "util.h"

/* The import once parsed: write it (store_import_city_checked), hand the
 * city to the daemon, resync the scheduler, answer. */
static void import_write(api_req_t *r, const json_t *doc, city_t *parsed)
{
    char err[1024];
    city_t c;
    if (!store_import_city_checked(r->d->store, doc, parsed, true, &c, err, sizeof err)) {
        log_warn("import refused: %s", err);
        api_reply_error(r, 400, "bad-import", "%s", err);
        return;
    }
    size_t na = c.nagencies, nf = city_feed_count(&c);
    tsunagud_city_adopt(r->d, &c);
    const city_t *city = tsunagud_city(r->d);
    if (r->d->feeds)
        feeds_resync(r->d->feeds);           /* in steps, after the answer */
    log_info("import: %zu agencies, %zu feeds (%s)", na, nf, city && city->name ? city->name : "?");
    api_reply_json(r, 200, json_pack("{s:b, s:s, s:I, s:I}", "imported", 1,
                                     "city", city && city->name ? city->name : "",
                                     "agencies", (json_int_t)na, "feeds", (json_int_t)nf));
}

/* JSON parse and validation (city_from_json), the CPU-heavy part of a big
 * import, run on the parse pool; the loop only writes.  (issue 14) */
typedef struct import_task {
    api_req_t *r;
    char      *body;
    size_t     len;
    json_t    *doc;
    city_t     city;
    bool       valid;
    char       err[1024];
} import_task_t;

static void import_parse(void *arg)        /* on a worker: no store, no loop */
{
    import_task_t *t = arg;
    json_error_t je;
    t->doc = json_loadb(t->body, t->len, JSON_REJECT_DUPLICATES, &je);
    if (!t->doc)
        snprintf(t->err, sizeof t->err, "JSONを解析できません: %d行 %d列: %s (invalid JSON)",
                 je.line, je.column, je.text);
    else if (!json_is_object(t->doc))
        snprintf(t->err, sizeof t->err, "(root): JSONオブジェクトが必要です (expected an object)");
    else
        t->valid = city_from_json(t->doc, NULL, &t->city, t->err, sizeof t->err);
}

static void import_parsed(void *arg)       /* back on the loop */
{
    import_task_t *t = arg;
    if (!t->valid) {
        log_warn("import refused: %s", t->err);
        api_reply_error(t->r, 400, t->doc ? "bad-import" : "bad-json", "%s", t->err);
    } else
        import_write(t->r, t->doc, &t->city);
    json_decref(t->doc);
    free(t->body);
    free(t);
}

static void h_import(api_req_t *r)
{
    size_t max = (size_t)config_size(r->d->config, "MAX_BODY_BYTES", 8LL * 1024 * 1024);
    import_task_t *t = xcalloc(1, sizeof *t);
    t->r = r;
    t->body = api_body_copy(r, max, &t->len);
    if (!t->body) {
        free(t);
        return;
    }
    parse_pool_t *pool = feed_parse_pool();
    if (pool && parse_pool_submit(pool, import_parse, import_parsed, t) == 0) {
        api_defer(r);
        return;
    }
    import_parse(t);
    import_parsed(t);
}

/* {"ok": n, "failing": n, "pending": n} for one agency's feeds. */
static json_t *feed_state_counts(store_t *st, const char *agency)
{
    store_feed_counts_t n;
    if (!store_feed_state_counts(st, agency, &n))
        return json_null();
    return json_pack("{s:i, s:i, s:i}", "ok", n.ok, "failing", n.failing, "pending", n.pending);
}

static void h_agency_list(api_req_t *r)
{
    store_t *st = r->d->store;
    json_t *docs = store_agency_docs(st);
    if (!docs) {
        api_reply_error(r, 500, "store", "一覧を取得できません (store error)");
        return;
    }
    json_t *arr = json_array();
    json_t *doc;
    size_t di;
    json_array_foreach(docs, di, doc) {
        if (!api_may_see_agency(r, json_string_value(json_object_get(doc, "id"))))
            continue;                        /* an agency: its own only */
        json_t *cals = json_array();
        json_t *c;
        size_t i;
        json_array_foreach(json_object_get(doc, "calendars"), i, c)
            json_array_append(cals, json_object_get(c, "id"));
        json_t *need = json_object_get(doc, "need");
        json_array_append_new(arr, json_pack("{s:O, s:O?, s:O?, s:O?, s:O?, s:I, s:o}",
            "id", json_object_get(doc, "id"), "name", json_object_get(doc, "name"),
            "fields", json_object_get(doc, "fields"), "areas", json_object_get(doc, "areas"),
            "email", json_object_get(doc, "email"),
            "need", need ? json_integer_value(need) : (json_int_t)1, "calendars", cals));
    }
    json_decref(docs);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *a = json_array_get(arr, i);
        const char *id = json_string_value(json_object_get(a, "id"));
        json_object_set_new(a, "feeds", feed_state_counts(st, id));
    }
    const city_t *city = tsunagud_city(r->d);
    api_reply_json(r, 200, json_pack("{s:s, s:o}", "city", city && city->name ? city->name : "",
                                     "agencies", arr));
}

/* Checks the agency exists and is visible; replies on failure. */
static bool visible_agency(api_req_t *r, const char *id)
{
    json_t *doc = store_agency_json(r->d->store, id);
    if (!doc) {
        api_404(r, "機関", id);
        return false;
    }
    json_decref(doc);
    if (!api_may_see_agency(r, id)) {
        api_reply_error(r, 403, "forbidden",
                        "他の機関の情報は見られません: %s (another agency)", id);
        return false;
    }
    return true;
}

static void h_agency_get(api_req_t *r)
{
    const char *id = api_param(r, "id");
    if (!visible_agency(r, id))
        return;
    json_t *doc = store_agency_json(r->d->store, id);
    if (!doc) {
        api_404(r, "機関", id);
        return;
    }
    /* calendar urls can be capability urls (private .ics links): nobody
     * sees their userinfo */
    json_t *cal;
    size_t k;
    json_array_foreach(json_object_get(doc, "calendars"), k, cal) {
        const char *u = json_string_value(json_object_get(cal, "url"));
        if (!u)
            continue;
        char *red = api_redact_url(u);
        json_object_set_new(cal, "url", json_string(red));
        free(red);
    }
    json_t *feeds = json_array();
    json_t *c;
    size_t i;
    json_array_foreach(json_object_get(doc, "calendars"), i, c) {
        json_t *f = api_feed_json(r, json_string_value(json_object_get(c, "id")));
        if (f)
            json_array_append_new(feeds, f);
    }
    json_object_set_new(doc, "feeds", feeds);
    api_reply_json(r, 200, doc);
}

static json_t *ids_where(const agency_busy_t *ab, const bool *flags)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < ab->ncal; i++)
        if (flags[i])
            json_array_append_new(arr, json_string(ab->calendar_ids[i]));
    return arr;
}

/* The {id} agency's busy time over the request's window (from/to). */
typedef struct agency_window {
    const char   *id;
    int64_t       from, to;
    agency_busy_t ab;        /* per calendar: need, failing, pending, ... */
    ivset_t       busy;      /* combined by the need rule */
} agency_window_t;

/* Loads w for a visible agency.  On failure it has replied (403, 404,
 * 400) and w owns nothing; on success free with agency_window_free. */
static bool agency_window_load(api_req_t *r, agency_window_t *w)
{
    w->id = api_param(r, "id");
    if (!visible_agency(r, w->id) || !api_busy_window(r, &w->from, &w->to))
        return false;
    if (!feeds_agency_busy(r->d->store, w->id, w->from, w->to, &w->ab)) {
        api_404(r, "機関", w->id);
        return false;
    }
    ivset_init(&w->busy);
    agency_busy_combined(&w->ab, w->from, w->to, &w->busy);
    return true;
}

static void agency_window_free(agency_window_t *w)
{
    ivset_free(&w->busy);
    agency_busy_free(&w->ab);
}

static void h_agency_busy(api_req_t *r)
{
    agency_window_t w;
    if (!agency_window_load(r, &w))
        return;
    const tz_t *zone = api_zone(r);
    api_reply_json(r, 200, json_pack("{s:s, s:i, s:I, s:o, s:o, s:o, s:o, s:o, s:o}",
        "agency", w.id, "need", w.ab.need, "calendars", (json_int_t)w.ab.ncal,
        "from", api_time_json(w.from, zone, false), "to", api_time_json(w.to, zone, false),
        "busy", api_ivset_json(&w.busy, zone),
        "failing", ids_where(&w.ab, w.ab.failing), "pending", ids_where(&w.ab, w.ab.pending),
        "data_as_of", api_time_json(w.ab.oldest_success, zone, true)));
    agency_window_free(&w);
}

static void ical_utc(strbuf_t *b, const char *prop, int64_t t)
{
    char iso[TU_ISO_LEN];
    tu_format_iso8601(t, NULL, iso);       /* YYYY-MM-DDTHH:MM:SS+00:00 */
    strbuf_printf(b, "%s:%.4s%.2s%.2sT%.2s%.2s%.2sZ\r\n", prop, iso, iso + 5, iso + 8,
                  iso + 11, iso + 14, iso + 17);
}

static void ical_period(strbuf_t *b, int64_t s, int64_t e)
{
    char a[TU_ISO_LEN], z[TU_ISO_LEN];
    tu_format_iso8601(s, NULL, a);
    tu_format_iso8601(e, NULL, z);
    strbuf_printf(b, "FREEBUSY;FBTYPE=BUSY:%.4s%.2s%.2sT%.2s%.2s%.2sZ/%.4s%.2s%.2sT%.2s%.2s%.2sZ\r\n",
                  a, a + 5, a + 8, a + 11, a + 14, a + 17, z, z + 5, z + 8, z + 11, z + 14, z + 17);
}

static void append_vfreebusy(strbuf_t *b, const char *id, int64_t from, int64_t to,
                             const ivset_t *busy)
{
    strbuf_printf(b, "BEGIN:VFREEBUSY\r\nUID:tsunagu-freebusy-%s\r\n", id);
    ical_utc(b, "DTSTAMP", tu_now());
    ical_utc(b, "DTSTART", from);
    ical_utc(b, "DTEND", to);
    for (size_t i = 0; i < busy->n; i++)
        ical_period(b, busy->v[i].start, busy->v[i].end);
    strbuf_puts(b, "END:VFREEBUSY\r\n");
}

/* The same busy time as opaque VEVENTs, for calendar clients that do not
 * display subscribed VFREEBUSY.  UIDs are stable per interval. */
static void append_busy_events(strbuf_t *b, const char *id, const ivset_t *busy)
{
    strbuf_printf(b, "X-WR-CALNAME:%s 予定あり\r\n", id);
    for (size_t i = 0; i < busy->n; i++) {
        strbuf_printf(b, "BEGIN:VEVENT\r\nUID:tsunagu-busy-%s-%lld-%lld\r\n", id,
                      (long long)busy->v[i].start, (long long)busy->v[i].end);
        ical_utc(b, "DTSTAMP", tu_now());
        ical_utc(b, "DTSTART", busy->v[i].start);
        ical_utc(b, "DTEND", busy->v[i].end);
        strbuf_puts(b, "SUMMARY:予定あり (busy)\r\nTRANSP:OPAQUE\r\nEND:VEVENT\r\n");
    }
}

static void h_agency_freebusy(api_req_t *r)
{
    agency_window_t w;
    if (!agency_window_load(r, &w))
        return;
    const char *as = api_query(r, "as");
    bool as_events = as && strcmp(as, "events") == 0;
    if (as && !as_events) {
        api_reply_error(r, 400, "bad-request", "as: events のみ指定できます (only as=events)");
        agency_window_free(&w);
        return;
    }
    strbuf_t b;
    strbuf_init(&b);
    strbuf_puts(&b, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tsunagu//freebusy//JA\r\n"
                    "METHOD:PUBLISH\r\n");
    if (as_events)
        append_busy_events(&b, w.id, &w.busy);
    else
        append_vfreebusy(&b, w.id, w.from, w.to, &w.busy);
    strbuf_puts(&b, "END:VCALENDAR\r\n");
    api_reply_text(r, 200, "text/calendar; charset=utf-8", b.s, b.len);
    strbuf_free(&b);
    agency_window_free(&w);
}

void api_agencies_register(api_t *api)
{
    api_route(api, "POST", "/v1/import", API_ADMIN, API_DATA_NONE, h_import);
    api_route(api, "GET", "/v1/agencies", API_ANY, API_DATA_NONE, h_agency_list);
    api_route(api, "GET", "/v1/agencies/{id}", API_ANY, API_DATA_NONE, h_agency_get);
    api_route(api, "GET", "/v1/agencies/{id}/busy", API_ANY, API_DATA_NONE, h_agency_busy);
    api_route(api, "GET", "/v1/agencies/{id}/freebusy.ics", API_ANY, API_DATA_NONE, h_agency_freebusy);
}
