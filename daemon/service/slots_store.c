/* SPDX-License-Identifier: MIT */
/*
 * slots_store.c - the slot engine fed from the store (see slots_store.h).
 *
 * Holds live in two tables (migration 3, SQL in store_holds.c): holds(id,
 * start, end, expires, created, created_by) and hold_agencies(hold_id,
 * agency).  A hold is
 * busy for each of its agencies while now < expires; creating one that
 * overlaps an active hold of the same agency is refused, so two
 * coordinators cannot both reserve the same slot.
 *
 * A query loads, per attendee, the stored busy set of each staff
 * calendar (feeds_agency_busy, which also says which feeds are failing
 * or were never fetched) and the agency-wide busy time: active holds plus
 * booked meetings (store_meetings_agency_busy).  The load span covers the
 * query window and the 26-week widened search used by the diagnostics,
 * with a day of margin for travel padding.  The engine's data horizon
 * (known_until) is the end of the oldest successful fetch's window, or
 * the end of the range a free/busy calendar declared it covers (VFREEBUSY
 * DTEND, store migration 7) when that comes first, so the widened search
 * never proposes time we hold no data for.
 *
 * The query window itself is cut the same way: time past a horizon is
 * unknown, never free.  The engine runs on a copy of the query whose end
 * is the earliest required attendee's horizon (so no slot ends after it),
 * and an optional attendee is busy from its own horizon on (extra busy,
 * offset by its travel time so that the engine's padding lands exactly
 * on the horizon), so it is never listed for a slot ending later.  The
 * answer's warnings say so, with the date, for each attendee cut.
 *
 * Staff calendars are loaded whole (every stored interval) and carry the
 * agency's data version (feeds_agency_busy, store migration 6), so the
 * engine's per-agency cache (slot_cache_t, used by POST /v1/slots) is
 * valid across queries and misses as soon as a feed's data or the
 * agency's calendar list changes.  Holds and meetings are extra busy,
 * never cached, so they are always current.
 */
#include "slots_store.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "meetings.h"
#include "store_holds.h"
#include "store_meetings.h"
#include "timeutil.h"

/* ---- holds -------------------------------------------------------------- */

holds_rc_t holds_create(store_t *st, const strvec_t *agencies, int64_t start, int64_t end,
                        int64_t expires, int64_t now, const char *by, int64_t *id_out,
                        int64_t *conflict_id)
{
    *conflict_id = 0;
    if (store_begin(st) != 0) return HOLDS_ERROR;
    store_holds_purge(st, now);
    for (size_t i = 0; i < agencies->n && !*conflict_id; i++)
        *conflict_id = store_hold_overlap(st, agencies->v[i], start, end, now);
    if (*conflict_id) {
        store_rollback(st);
        return HOLDS_CONFLICT;
    }
    if (!store_hold_insert(st, agencies, start, end, expires, now, by, id_out) ||
        store_commit(st) != 0) {
        log_error("holds: insert failed: %s", store_errmsg(st));
        store_rollback(st);
        return HOLDS_ERROR;
    }
    return HOLDS_OK;
}

bool holds_delete(store_t *st, int64_t id)
{
    return store_hold_delete(st, id);
}

void holds_agency_busy(store_t *st, const char *agency_id, int64_t from, int64_t to,
                       int64_t now, ivset_t *out)
{
    store_holds_agency_busy(st, agency_id, from, to, now, out);
    ivset_normalize(out);
}

static json_t *iso_json(int64_t t, const tz_t *tz)
{
    char buf[TU_ISO_LEN];
    return json_string(tu_format_iso8601(t, tz, buf));
}

/* A stored hold as {id, start, end, expiry, created_by?, agencies}. */
static json_t *hold_json(const store_hold_t *h, const tz_t *tz)
{
    json_t *o = json_pack("{s:I, s:o, s:o, s:o, s:s?}", "id", (json_int_t)h->id,
                          "start", iso_json(h->start, tz), "end", iso_json(h->end, tz),
                          "expiry", iso_json(h->expires, tz), "created_by", h->created_by);
    json_t *arr = json_array();
    for (size_t i = 0; i < h->agencies.n; i++)
        json_array_append_new(arr, json_string(h->agencies.v[i]));
    json_object_set_new(o, "agencies", arr);
    return o;
}

json_t *holds_list_json(store_t *st, int64_t now, const tz_t *tz)
{
    store_hold_t *rows;
    size_t n;
    if (!store_holds_list(st, now, &rows, &n)) return json_pack("{s:[]}", "holds");
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, hold_json(&rows[i], tz));
    store_holds_free(rows, n);
    return json_pack("{s:o}", "holds", arr);
}

json_t *holds_one_json(store_t *st, int64_t id, const tz_t *tz)
{
    store_hold_t h;
    if (!store_hold_get(st, id, &h)) return NULL;
    json_t *one = hold_json(&h, tz);
    store_hold_free(&h);
    return one;
}

/* ---- busy input ------------------------------------------------------------ */

/* The horizon of an agency with a calendar that was never fetched: its
 * data is complete up to the epoch, so no slot and no optional seat ever
 * counts on it (0 would mean unbounded, i.e. free).  The attendee's own
 * warning already says so; horizon_warning adds none. */
#define HORIZON_NO_DATA 1

/* Where the busy data held for an agency ends: the stored window of its
 * oldest fetch, and no later than the end of any range a calendar
 * declared it covers (a free/busy feed says nothing past its DTEND). */
static int64_t data_horizon(const agency_busy_t *ab)
{
    if (ab->ncal && ab->any_pending)
        return HORIZON_NO_DATA;          /* a calendar never fetched: nothing is known */
    int64_t h = ab->oldest_success > 0 ? ab->oldest_success + FEEDS_WINDOW_AHEAD : 0;
    if (ab->has_covers && (h == 0 || ab->covers_until < h))
        h = ab->covers_until > 0 ? ab->covers_until : 1;   /* 0 would mean unbounded */
    return h;
}

/* An optional attendee is busy from its data horizon on: the engine pads
 * extra busy by the travel time, so push it that much later. */
static void busy_after_horizon(const city_t *city, const char *id, int64_t horizon, ivset_t *extra)
{
    if (!horizon) return;
    const agency_t *a = city_agency(city, id);
    int64_t travel = a ? (int64_t)a->travel_minutes * 60 : 0;
    ivset_push(extra, horizon + travel, INT64_MAX / 4);
    ivset_normalize(extra);
}

void slots_input_load(store_t *st, const city_t *city, const slot_query_t *q, int64_t now,
                      int64_t except_meeting, slots_input_t *in)
{
    size_t n = q->required.n + q->optional.n;
    memset(in, 0, sizeof *in);
    in->n = n;
    in->busy = xcalloc(n ? n : 1, sizeof *in->busy);
    in->ab = xcalloc(n ? n : 1, sizeof *in->ab);
    in->extra = xcalloc(n ? n : 1, sizeof *in->extra);
    int64_t from = q->from < now ? q->from : now;
    int64_t to = q->to > q->from + SLOTS_MAX_WINDOW_SECONDS ? q->to : q->from + SLOTS_MAX_WINDOW_SECONDS;
    from -= 86400;
    to += 86400;
    for (size_t i = 0; i < n; i++) {
        const char *id = i < q->required.n ? q->required.v[i] : q->optional.v[i - q->required.n];
        ivset_init(&in->extra[i]);
        /* every stored interval (the feed window is only a little wider
         * than the span): the engine's cache keys on the data version, so
         * what it caches must not depend on this query's span */
        if (!feeds_agency_busy(st, id, INT64_MIN, INT64_MAX, &in->ab[i]))
            memset(&in->ab[i], 0, sizeof in->ab[i]);
        holds_agency_busy(st, id, from, to, now, &in->extra[i]);
        store_meetings_agency_busy(st, id, from, to, except_meeting, &in->extra[i]);
        in->busy[i] = (slot_agency_busy_t){id, in->ab[i].busy, in->ab[i].ncal, &in->extra[i],
                                           data_horizon(&in->ab[i]), in->ab[i].data_version};
        if (i >= q->required.n) busy_after_horizon(city, id, in->busy[i].known_until, &in->extra[i]);
    }
}

/* q with its end cut at the earliest required attendee's data horizon
 * before it (a shallow copy: never free it); *cut and *who say where and
 * whose, or *cut is 0. */
static slot_query_t query_within_horizons(const slot_query_t *q, const slots_input_t *in,
                                          int64_t *cut, const char **who)
{
    slot_query_t c = *q;
    *cut = 0;
    *who = NULL;
    for (size_t i = 0; i < q->required.n && i < in->n; i++) {
        int64_t h = in->busy[i].known_until;
        if (h && h < c.to) {
            c.to = *cut = h;
            *who = in->busy[i].agency_id;
        }
    }
    return c;
}

/* Run the engine on q cut at the required horizons; out records the cut. */
int slots_store_find_input(const city_t *city, const slot_query_t *q, int64_t now,
                           const slots_input_t *in, slot_cache_t *cache, slot_result_t *out,
                           char *err, size_t errlen)
{
    int64_t cut;
    const char *who;
    slot_query_t c = query_within_horizons(q, in, &cut, &who);
    int rc = slots_find_cached(city, &c, now, in->busy, in->n, cache, out, err, errlen);
    const agency_t *a = who ? city_agency(city, who) : NULL;
    out->window_until = cut;
    out->window_until_agency = a ? a->id : NULL;
    return rc;
}

void slots_input_free(slots_input_t *in)
{
    for (size_t i = 0; i < in->n; i++) {
        agency_busy_free(&in->ab[i]);
        ivset_free(&in->extra[i]);
    }
    free(in->busy);
    free(in->ab);
    free(in->extra);
    memset(in, 0, sizeof *in);
}

int slots_store_find(store_t *st, const city_t *city, const slot_query_t *q, int64_t now,
                     int64_t except_meeting, slot_result_t *out, char *err, size_t errlen)
{
    slots_input_t in;
    slots_input_load(st, city, q, now, except_meeting, &in);
    int rc = slots_store_find_input(city, q, now, &in, NULL, out, err, errlen);
    slots_input_free(&in);
    return rc;
}

/* ---- freshness ------------------------------------------------------------- */

static json_t *calendar_list(const agency_busy_t *ab, const bool *flags)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < ab->ncal; i++)
        if (flags[i]) json_array_append_new(arr, json_string(ab->calendar_ids[i]));
    return arr;
}

/* One attendee's freshness object; appends a warning line when its data
 * cannot be trusted as is. */
static json_t *attendee_json(const city_t *city, const char *id, bool required,
                             agency_busy_t *ab, int64_t now, int64_t stale_after,
                             json_t *warnings)
{
    const tz_t *tz = city->tz ? city->tz : tz_default();
    const char *status = ab->ncal == 0 ? "no-calendars"
                         : ab->any_failing ? "failing"
                         : ab->any_pending ? "pending" : "ok";
    json_t *o = json_pack("{s:s, s:s, s:b, s:s}", "agency", id, "name", city_agency_name(city, id),
                          "required", required, "status", status);
    bool known = ab->oldest_success > 0;
    json_object_set_new(o, "data_age_seconds",
                        known ? json_integer((json_int_t)(now - ab->oldest_success)) : json_null());
    json_object_set_new(o, "last_success", known ? iso_json(ab->oldest_success, tz) : json_null());
    if (ab->ncal) {
        json_object_set_new(o, "failing_calendars", calendar_list(ab, ab->failing));
        json_object_set_new(o, "pending_calendars", calendar_list(ab, ab->pending));
    }
    /* ok, but not fetched again for too long (feeds_is_stale) */
    agency_busy_mark_stale(ab, now, stale_after);
    json_object_set_new(o, "stale", json_boolean(ab->any_stale));
    if (ab->any_stale) {
        json_object_set_new(o, "stale_calendars", calendar_list(ab, ab->stale));
        json_object_set_new(o, "stale_age_seconds",
                            json_integer((json_int_t)(now - ab->stale_success)));
        json_object_set_new(o, "stale_last_success", iso_json(ab->stale_success, tz));
    }
    char *w = NULL;
    if (ab->ncal == 0)
        w = xasprintf("%s: カレンダーが登録されていないため参加可否を判断できません (no calendars)", id);
    else if (ab->any_failing && known)
        w = xasprintf("%s: 予定の取得に失敗しています。%lld分前に取得できたデータで判断しています "
                      "(feed failing; using data %lld min old)", id,
                      (long long)((now - ab->oldest_success) / 60),
                      (long long)((now - ab->oldest_success) / 60));
    else if (ab->any_failing || ab->any_pending)
        w = xasprintf("%s: 予定をまだ一度も取得できていません。空き時間は未確認です "
                      "(no busy data fetched yet: availability unknown)", id);
    if (w) {
        json_array_append_new(warnings, json_string(w));
        free(w);
    }
    /* a stale calendar has its own line, also beside another calendar's
     * failing or pending one (the JSON says stale either way) */
    if (ab->ncal && ab->any_stale) {
        char *t = feeds_stale_text(ab->stale_success, now, tz);
        w = xasprintf("%s: %s。その後の予定の変更は反映されていません "
                      "(feed not fetched for %lld min: data may be stale)", id, t,
                      (long long)((now - ab->stale_success) / 60));
        free(t);
        json_array_append_new(warnings, json_string(w));
        free(w);
    }
    return o;
}

/* A warning when the query window runs past where an attendee's busy
 * data ends: time after that is unknown, never taken as free. */
static void horizon_warning(const city_t *city, const char *id, bool required,
                            int64_t known_until, const slot_query_t *q, json_t *o,
                            json_t *warnings)
{
    if (!known_until || known_until == HORIZON_NO_DATA) return;
    json_object_set_new(o, "data_until", iso_json(known_until, city->tz ? city->tz : tz_default()));
    if (known_until >= q->to) return;
    char day[SLOTS_JP_LEN];
    slots_until_date(known_until, city->tz ? city->tz : tz_default(), day);
    char *w = required
        ? xasprintf("%s のカレンダーは %s までの予定しかないため、それ以降の候補は出していません "
                    "(busy data ends %s: no slots proposed after it)", id, day, day)
        : xasprintf("%s のカレンダーは %s までの予定しかないため、それ以降の候補では参加可能に"
                    "数えていません (busy data ends %s: not counted as attending after it)",
                    id, day, day);
    json_array_append_new(warnings, json_string(w));
    free(w);
}

/* The search was cut before it began: a required attendee has a
 * calendar that was never fetched.  Say that, instead of the engine's
 * "data ends 1970-01-01". */
static void no_data_message(const city_t *city, const char *id, json_t *diag)
{
    char *m = xasprintf("%sの予定をまだ一度も取得できていないため、候補を出せません。"
                        "機関のカレンダーの取得状況を確認するか、この機関を任意にして探してください。",
                        city_agency_name(city, id));
    json_object_set_new(diag, "message", json_string(m));
    json_object_set_new(diag, "reason", json_string("no-data"));
    json_object_set_new(diag, "next_search_until", json_null());
    json_object_set_new(diag, "window_cut", json_pack("{s:s, s:n}", "agency", id, "data_until"));
    free(m);
}

json_t *slots_store_answer(store_t *st, const city_t *city, const slot_query_t *q,
                           int64_t now, char *err, size_t errlen)
{
    return slots_store_answer_cached(st, city, q, now, NULL, 0, 0, err, errlen);
}

/* Rescheduling meeting `except`: its time is free again, but not for an
 * attendee that declined it (it said it cannot come then), as in the
 * 要再調整 suggestions (meetings_reply.c). */
static void keep_declined_busy(store_t *st, int64_t except, slots_input_t *in)
{
    int64_t s, e;
    for (size_t i = 0; except > 0 && i < in->n; i++)
        if (store_meeting_declined_span(st, except, in->busy[i].agency_id, &s, &e)) {
            ivset_push(&in->extra[i], s, e);
            ivset_normalize(&in->extra[i]);
        }
}

json_t *slots_store_answer_cached(store_t *st, const city_t *city, const slot_query_t *q,
                                  int64_t now, slot_cache_t *cache, int64_t except_meeting,
                                  int64_t stale_after, char *err, size_t errlen)
{
    slots_input_t in;
    slots_input_load(st, city, q, now, except_meeting, &in);
    keep_declined_busy(st, except_meeting, &in);
    slot_result_t r;
    if (slots_store_find_input(city, q, now, &in, cache, &r, err, errlen) != 0) {
        slot_result_free(&r);
        slots_input_free(&in);
        return NULL;
    }
    json_t *resp = slot_result_to_json(city, q, &r);
    json_t *diag = json_object_get(resp, "diagnostics");
    if (r.window_until == HORIZON_NO_DATA && r.window_until_agency)
        no_data_message(city, r.window_until_agency, diag);
    json_t *att = json_array(), *warnings = json_array();
    for (size_t i = 0; i < in.n; i++) {
        bool required = i < q->required.n;
        json_t *o = attendee_json(city, in.busy[i].agency_id, required, &in.ab[i], now,
                                  stale_after, warnings);
        horizon_warning(city, in.busy[i].agency_id, required, in.busy[i].known_until, q, o,
                        warnings);
        json_array_append_new(att, o);
    }
    json_object_set_new(diag, "attendees", att);
    json_object_set_new(diag, "warnings", warnings);
    json_object_set_new(diag, "now", iso_json(now, city->tz ? city->tz : tz_default()));
    slot_result_free(&r);
    slots_input_free(&in);
    return resp;
}
