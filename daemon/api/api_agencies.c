/* SPDX-License-Identifier: MIT */
/*
 * api_agencies.c - the agency registry: import, listing, combined busy
 * time and the subscribable VFREEBUSY feed.
 *
 *   POST /v1/import                   agencies.json (admin); written in steps
 *   GET  /v1/import                   the running or last import (admin)
 *   GET  /v1/agencies                 summary list (with hours, travel_minutes
 *                                     and support_meeting_member, which the
 *                                     日程調整 grid draws without a GET each)
 *   GET  /v1/agencies/{id}            interchange JSON + feed status
 *   GET  /v1/agencies/{id}/busy       busy under the agency's need rule, plus
 *                                     tsunagu's own holds ("held") and booked
 *                                     meetings ("booked"), times only, and the
 *                                     window's days off ("days_off": holidays,
 *                                     年末年始, closed days, with their label)
 *   GET  /v1/busy?agencies=a,b,c      the same for several agencies at once
 *   GET  /v1/agencies/{id}/freebusy.ics   VFREEBUSY (text/calendar)
 *
 * Import validation and storage are the store's job (store_import_t) and
 * the stepwise write is city_import.c's; this file only turns their
 * result into HTTP.  The JSON parse and city_from_json of an import run
 * on the parse pool when the daemon has one (the request is deferred
 * meanwhile); the loop checks the urls and writes in steps.  Agency tokens may list agencies but see
 * feed status and busy time of their own agency only.
 *
 * An agency account or token learns nothing about other agencies: the
 * list holds its own agency only, and another agency's page, busy time
 * and feeds answer 403 (issue 10: 自分の機関).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "city_import.h"
#include "feed.h"
#include "feeds.h"
#include "parse_pool.h"
#include "log.h"
#include "meetings.h"
#include "slots_store.h"
#include "store_meetings.h"
#include "store_feeds.h"
#include "util.h"

/* The last step committed (200), a url was refused (400) or the store
 * failed part-way (500): answer the request that started it. */
/* One warning per agency the new document dropped while open cases or
 * coming meetings still name it (store_city_orphans). */
static json_t *orphan_warnings(const json_t *orphans)
{
    json_t *out = json_array();
    size_t i;
    json_t *o;
    json_array_foreach(orphans, i, o) {
        strbuf_t b;
        strbuf_init(&b);
        strbuf_printf(&b, "機関 %s は名簿にありませんが、", json_string_value(json_object_get(o, "agency")));
        const char *what[][2] = {{"cases", "対応中の事例"}, {"meetings", "今後の会議"}};
        bool first = true;
        for (size_t w = 0; w < 2; w++) {
            json_t *ids = json_object_get(o, what[w][0]), *id;
            size_t j;
            if (!json_array_size(ids))
                continue;
            strbuf_printf(&b, "%s%s ", first ? "" : " と", what[w][1]);
            json_array_foreach(ids, j, id) {
                if (json_is_string(id))
                    strbuf_printf(&b, "%s%s", j ? "、" : "", json_string_value(id));
                else
                    strbuf_printf(&b, "%s%lld", j ? "、" : "", (long long)json_integer_value(id));
            }
            first = false;
        }
        strbuf_puts(&b, " に残っています。誤って外した場合は名簿に戻して取り込み直してください"
                        " (agency removed but still in use)");
        json_array_append_new(out, json_string(b.s));
        strbuf_free(&b);
    }
    return out;
}

static void on_import_done(const city_import_result_t *res, void *arg)
{
    api_req_t *r = arg;
    if (res->status == 200) {
        const city_t *city = tsunagud_city(r->d);
        json_t *orphans = city ? store_city_orphans(r->d->store, city, tu_now()) : NULL;
        if (orphans && json_array_size(orphans))
            log_warn("import: %zu agencies removed while still in use", json_array_size(orphans));
        json_t *body = json_pack("{s:b, s:s, s:I, s:I}", "imported", 1, "city", res->city,
                                 "agencies", (json_int_t)res->agencies, "feeds", (json_int_t)res->feeds);
        json_t *warnings = orphan_warnings(orphans);
        json_t *changed = json_array();
        size_t nchanged = res->url_changed ? res->url_changed->n : 0;
        if (nchanged) {
            strbuf_t b;
            strbuf_init(&b);
            for (size_t i = 0; i < nchanged && i < 50; i++) {
                json_array_append_new(changed, json_string(res->url_changed->v[i]));
                if (i < 5)
                    strbuf_printf(&b, "%s%s", i ? "、" : "", res->url_changed->v[i]);
            }
            char *w = xasprintf("URL か種類が変わったカレンダーが %zu 件あります (%s%s)。以前の予定は消し、"
                                "新しい URL から取得し直します。取得できるまで、その機関の空き時間は未確認です "
                                "(calendar url changed: its old busy data was dropped)",
                                nchanged, b.s, nchanged > 5 ? "…" : "");
            json_array_append_new(warnings, json_string(w));
            free(w);
            strbuf_free(&b);
        }
        json_object_set_new(body, "warnings", warnings);
        json_object_set_new(body, "removed_in_use", orphans ? orphans : json_array());
        json_object_set_new(body, "url_changed", changed);
        json_object_set_new(body, "url_changed_count", json_integer((json_int_t)nchanged));
        api_reply_json(r, 200, body);
    } else if (res->status == 400)
        api_reply_error(r, 400, "bad-import", "%s", res->error);
    else
        api_reply_error(r, 500, "import-failed", "%s。一部だけ書き込まれた可能性があります。"
                        "同じファイルをもう一度取り込んでください (partly written: import again)",
                        res->error);
}

static void reply_import_running(api_req_t *r)
{
    api_reply_error(r, 409, "import-running", "別の取り込みを実行中です。終わってから"
                    "やり直してください (GET /v1/import で進み具合を確認できます) "
                    "(another import is running)");
}

/* JSON parse, validation (city_from_json) and the resolved document
 * (store_import_new), the CPU-heavy part of a big import, run on the
 * parse pool; the loop then writes in steps (city_import.c).  (issue 14) */
typedef struct import_task {
    api_req_t      *r;
    char           *body;
    size_t          len;
    json_t         *doc;
    bool            had_doc;     /* the body was JSON (else "bad-json") */
    store_import_t *imp;
    char            err[1024];
} import_task_t;

static void import_parse(void *arg)        /* on a worker: no store access, no loop */
{
    import_task_t *t = arg;
    json_error_t je;
    city_t city;
    t->doc = json_loadb(t->body, t->len, JSON_REJECT_DUPLICATES, &je);
    if (!t->doc)
        snprintf(t->err, sizeof t->err, "JSONを解析できません: %d行 %d列: %s (invalid JSON)",
                 je.line, je.column, je.text);
    else if (!json_is_object(t->doc))
        snprintf(t->err, sizeof t->err, "(root): JSONオブジェクトが必要です (expected an object)");
    else if (city_from_json(t->doc, NULL, &city, t->err, sizeof t->err))
        t->imp = store_import_new(t->r->d->store, t->doc, &city, true, false);
    t->had_doc = t->doc != NULL;
    json_decref(t->doc);                  /* here: freeing 100,000 calendars takes a while */
    t->doc = NULL;
}

static void import_parsed(void *arg)       /* back on the loop */
{
    import_task_t *t = arg;
    if (!t->imp) {
        log_warn("import refused: %s", t->err);
        api_reply_error(t->r, 400, t->had_doc ? "bad-import" : "bad-json", "%s", t->err);
    } else if (!city_import_start(t->r->d, t->imp, on_import_done, t->r)) {
        store_import_free(t->imp);
        reply_import_running(t->r);
    } else
        api_defer(t->r);
    free(t->body);
    free(t);
}

static void h_import(api_req_t *r)
{
    if (city_import_running()) {
        reply_import_running(r);
        return;
    }
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

/* The running or last import: a client that stopped waiting learns here
 * whether it committed. */
static void h_import_status(api_req_t *r)
{
    api_reply_json(r, 200, city_import_status_json());
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
        json_array_append_new(arr, json_pack("{s:O, s:O?, s:O?, s:O?, s:O?, s:I, s:o, s:O?, s:O?, s:O?}",
            "id", json_object_get(doc, "id"), "name", json_object_get(doc, "name"),
            "fields", json_object_get(doc, "fields"), "areas", json_object_get(doc, "areas"),
            "email", json_object_get(doc, "email"),
            "need", need ? json_integer_value(need) : (json_int_t)1, "calendars", cals,
            "hours", json_object_get(doc, "hours"), "travel_minutes", json_object_get(doc, "travel_minutes"),
            "support_meeting_member", json_object_get(doc, "support_meeting_member")));
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

#define BUSY_MANY_MAX 200                 /* agencies per GET /v1/busy */

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

/* [{date, label}] for each day of [from, to) (the city's wall clock) that
 * is a holiday or closed day for the agency (city_day_off_label). */
static json_t *days_off_json(const city_t *city, const char *id, int64_t from, int64_t to,
                             const tz_t *zone)
{
    json_t *arr = json_array();
    if (!city || to <= from)
        return arr;
    const agency_t *a = city_agency(city, id);
    int64_t last = tz_local_day(zone, to - 1, NULL);
    for (int64_t day = tz_local_day(zone, from, NULL); day <= last; day++) {
        const char *label = city_day_off_label(city, a, day);
        if (!label)
            continue;
        int y, m, d;
        civil_from_days(day, &y, &m, &d);
        char date[16];
        snprintf(date, sizeof date, "%04d-%02d-%02d", y, m, d);
        json_array_append_new(arr, json_pack("{s:s, s:s}", "date", date, "label", label));
    }
    return arr;
}

/* The busy answer of one agency the caller may see, over [from, to);
 * NULL for an unknown agency.  The caller owns the result. */
static json_t *agency_busy_json(api_req_t *r, const char *id, int64_t from, int64_t to)
{
    agency_window_t w = {.id = id, .from = from, .to = to};
    if (!feeds_agency_busy(r->d->store, id, from, to, &w.ab))
        return NULL;
    ivset_init(&w.busy);
    agency_busy_combined(&w.ab, from, to, &w.busy);
    const tz_t *zone = api_zone(r);
    ivset_t held, booked;
    ivset_init(&held);
    ivset_init(&booked);
    holds_agency_busy(r->d->store, id, from, to, tu_now(), &held);
    store_meetings_agency_busy(r->d->store, id, from, to, 0, &booked);
    json_t *j = json_pack("{s:s, s:i, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
        "agency", id, "need", w.ab.need, "calendars", (json_int_t)w.ab.ncal,
        "from", api_time_json(from, zone, false), "to", api_time_json(to, zone, false),
        "busy", api_ivset_json(&w.busy, zone),
        "held", api_ivset_json(&held, zone), "booked", api_ivset_json(&booked, zone),
        "days_off", days_off_json(tsunagud_city(r->d), id, from, to, zone),
        "failing", ids_where(&w.ab, w.ab.failing), "pending", ids_where(&w.ab, w.ab.pending),
        "data_as_of", api_time_json(w.ab.oldest_success, zone, true));
    /* calendars in state ok not fetched again for too long */
    int64_t now = tu_now();
    agency_busy_mark_stale(&w.ab, now, feeds_stale_after(r->d->config));
    json_object_set_new(j, "stale", json_boolean(w.ab.any_stale));
    if (w.ab.any_stale) {
        json_object_set_new(j, "stale_calendars", ids_where(&w.ab, w.ab.stale));
        char *t = feeds_stale_text(w.ab.stale_success, now, zone);
        json_object_set_new(j, "stale_age_seconds", json_integer((json_int_t)(now - w.ab.stale_success)));
        json_object_set_new(j, "stale_text", json_string(t));
        free(t);
    }
    ivset_free(&held);
    ivset_free(&booked);
    agency_window_free(&w);
    return j;
}

static void h_agency_busy(api_req_t *r)
{
    const char *id = api_param(r, "id");
    int64_t from, to;
    if (!visible_agency(r, id) || !api_busy_window(r, &from, &to))
        return;
    json_t *j = agency_busy_json(r, id, from, to);
    if (!j) {
        api_404(r, "機関", id);
        return;
    }
    api_reply_json(r, 200, j);
}

/* GET /v1/busy?agencies=a,b,c: the same answer for each, in one request
 * (the 日程調整 grid asks for 20 at once).  Every id must be visible. */
static void h_busy_many(api_req_t *r)
{
    const char *list = api_query(r, "agencies");
    if (!list || !*list) {
        api_reply_error(r, 400, "bad-field", "agencies に機関IDをカンマ区切りで指定してください (agencies=a,b,c)");
        return;
    }
    strvec_t ids;
    strvec_init(&ids);
    for (const char *p = list; *p;) {          /* a,b,c (api_query has decoded it) */
        size_t n = strcspn(p, ",");
        char *one = xstrndup(p, n);
        if (*one)
            strvec_push(&ids, one);
        free(one);
        p += n + (p[n] == ',');
    }
    int64_t from, to;
    bool ok = ids.n <= BUSY_MANY_MAX;
    if (!ok)
        api_reply_error(r, 400, "too-many-agencies", "機関は最大%dです (at most %d agencies)",
                        BUSY_MANY_MAX, BUSY_MANY_MAX);
    for (size_t i = 0; ok && i < ids.n; i++)
        ok = visible_agency(r, ids.v[i]);
    if (ok && api_busy_window(r, &from, &to)) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < ids.n; i++) {
            json_t *j = agency_busy_json(r, ids.v[i], from, to);
            if (!j) {
                api_404(r, "機関", ids.v[i]);
                json_decref(arr);
                arr = NULL;
            } else
                json_array_append_new(arr, j);
        }
        if (arr)
            api_reply_json(r, 200, json_pack("{s:o}", "agencies", arr));
    }
    strvec_free(&ids);
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
    api_route(api, "GET", "/v1/import", API_ADMIN, API_DATA_NONE, h_import_status);
    api_route(api, "GET", "/v1/agencies", API_ANY, API_DATA_NONE, h_agency_list);
    api_route(api, "GET", "/v1/agencies/{id}", API_ANY, API_DATA_NONE, h_agency_get);
    api_route(api, "GET", "/v1/agencies/{id}/busy", API_ANY, API_DATA_NONE, h_agency_busy);
    api_route(api, "GET", "/v1/busy", API_ANY, API_DATA_NONE, h_busy_many);
    api_route(api, "GET", "/v1/agencies/{id}/freebusy.ics", API_ANY, API_DATA_NONE, h_agency_freebusy);
}
