/* SPDX-License-Identifier: MIT */
/*
 * api_slots.c - HTTP routes for common slots and holds.
 *
 *   POST   /v1/slots          a query (queries/NAME.json format) -> slots +
 *                             diagnostics, with per-attendee data age and
 *                             feed state (slots_store_answer_cached, with
 *                             the engine's per-agency cache, keyed on each
 *                             agency's feed data version); "exclude_meeting":
 *                             id leaves that meeting's own time free
 *                             (rescheduling it from the 会議 screen)
 *   POST   /v1/holds          {agencies, start, end, expiry} -> 201 hold
 *   GET    /v1/holds          active holds
 *   GET    /v1/holds/{id}     one hold
 *   DELETE /v1/holds/{id}     204
 *
 * All routes are for staff (coordinator, secretariat, admin).  Handlers
 * only validate and translate: the search is slots.c, the store side is
 * slots_store.c.  Every bad input gets a 400 naming the problem; a hold
 * that overlaps an active hold of the same agency gets a 409.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "feeds.h"
#include "log.h"
#include "slots.h"
#include "slots_store.h"
#include "timeutil.h"

#define HOLDS_MAX_EXPIRY (90LL * 86400)      /* a hold may live up to 90 days */

/* The engine's per-agency precomputation, shared by every POST /v1/slots
 * (valid per agency data version; holds and meetings are never cached). */
static slot_cache_t *slot_cache;

static const city_t *require_city(api_req_t *r)
{
    const city_t *city = tsunagud_city(r->d);
    if (!city)
        api_reply_error(r, 409, "no-city",
                        "市区町村データ(agencies.json)がまだ取り込まれていません (no city imported)");
    return city;
}

static void h_slots(api_req_t *r)
{
    const city_t *city = require_city(r);
    if (!city) return;
    json_t *body = api_json_body(r, 0);
    if (!body) return;
    json_t *ex = json_object_get(body, "exclude_meeting");
    int64_t except = 0;
    if (ex && !json_is_null(ex)) {
        if (!json_is_integer(ex) || json_integer_value(ex) <= 0) {
            json_decref(body);
            api_reply_field_error(r, 400, "bad-field", "exclude_meeting",
                                  "exclude_meeting は会議の番号（正の整数）です / \"exclude_meeting\" must be a meeting id");
            return;
        }
        except = json_integer_value(ex);
    }
    if (json_is_object(body)) json_object_del(body, "exclude_meeting");
    slot_query_t q;
    slot_error_t e;
    bool ok = slot_query_from_json(body, city, &q, &e);
    json_decref(body);
    if (!ok) {
        api_reply_error(r, 400, e.code, "%s", e.message);
        return;
    }
    char err[256] = "";
    json_t *resp = slots_store_answer_cached(r->d->store, city, &q, tu_now(), slot_cache,
                                             except, feeds_stale_after(r->d->config),
                                             err, sizeof err);
    slot_query_free(&q);
    size_t hits, misses;
    slot_cache_stats(slot_cache, &hits, &misses);
    log_debug("slots: cache %zu hits, %zu misses so far", hits, misses);
    if (!resp) {
        api_reply_error(r, 500, "internal", "空き時間を計算できませんでした: %s", err);
        return;
    }
    api_reply_json(r, 200, resp);
}

/* ---- holds ------------------------------------------------------------------ */

typedef struct hold_req {
    strvec_t agencies;
    int64_t  start, end, expires;
} hold_req_t;

static bool hold_fail(api_req_t *r, const char *code, const char *msg)
{
    api_reply_error(r, 400, code, "%s", msg);
    return false;
}

static bool hold_time(api_req_t *r, const json_t *body, const char *key, const tz_t *tz,
                      int64_t *out)
{
    const json_t *v = json_object_get(body, key);
    if (json_is_string(v) && tu_parse_iso8601(json_string_value(v), tz, out)) return true;
    api_reply_error(r, 400, "bad-field", "%s は ISO-8601 の日時です / \"%s\" must be an ISO-8601 date-time",
                    key, key);
    return false;
}

/* expiry: an ISO-8601 instant, or a number of seconds from now. */
static bool hold_expiry(api_req_t *r, const json_t *body, const tz_t *tz, int64_t now,
                        int64_t *out)
{
    const json_t *v = json_object_get(body, "expiry");
    if (json_is_integer(v)) {
        json_int_t secs = json_integer_value(v);   /* clamped: now + secs must not overflow */
        *out = secs <= 0 ? now : now + (secs > HOLDS_MAX_EXPIRY ? HOLDS_MAX_EXPIRY + 1 : secs);
    } else if (!json_is_string(v) || !tu_parse_iso8601(json_string_value(v), tz, out))
        return hold_fail(r, "bad-field",
                         "expiry は ISO-8601 の日時または秒数です / \"expiry\" must be a date-time or seconds");
    if (*out <= now) return hold_fail(r, "bad-expiry", "expiry が過去です / \"expiry\" is not in the future");
    if (*out - now > HOLDS_MAX_EXPIRY)
        return hold_fail(r, "bad-expiry", "仮押さえの期限は最長90日です / a hold may last at most 90 days");
    return true;
}

static bool hold_agencies(api_req_t *r, const json_t *body, const city_t *city, strvec_t *out)
{
    const json_t *v = json_object_get(body, "agencies");
    if (!json_is_array(v) || json_array_size(v) == 0)
        return hold_fail(r, "bad-field", "agencies に1機関以上を指定してください / \"agencies\" must list agency ids");
    if (json_array_size(v) > SLOTS_MAX_ATTENDEES)
        return hold_fail(r, "too-many-attendees", "機関は最大200です / at most 200 agencies");
    size_t i;
    const json_t *item;
    json_array_foreach(v, i, item) {
        const char *id = json_string_value(item);
        if (!id) return hold_fail(r, "bad-field", "agencies は機関IDの配列です / \"agencies\" must be strings");
        if (!city_agency(city, id)) {
            api_reply_error(r, 400, "unknown-agency", "未登録の機関IDです: %s / unknown agency id: %s", id, id);
            return false;
        }
        if (strvec_contains(out, id)) {
            api_reply_error(r, 400, "duplicate-agency", "機関IDが重複しています: %s / agency listed twice", id);
            return false;
        }
        strvec_push(out, id);
    }
    return true;
}

static bool parse_hold(api_req_t *r, const json_t *body, const city_t *city, int64_t now,
                       hold_req_t *h)
{
    const tz_t *tz = city->tz ? city->tz : tz_default();
    if (!json_is_object(body))
        return hold_fail(r, "bad-json", "JSONオブジェクトを送ってください / expected a JSON object");
    if (!hold_agencies(r, body, city, &h->agencies) || !hold_time(r, body, "start", tz, &h->start) ||
        !hold_time(r, body, "end", tz, &h->end) || !hold_expiry(r, body, tz, now, &h->expires))
        return false;
    if (h->end <= h->start)
        return hold_fail(r, "bad-window", "end は start より後です / \"end\" must be after \"start\"");
    if (h->end - h->start > HOLDS_MAX_SECONDS)
        return hold_fail(r, "bad-window", "仮押さえは1日以内です / a hold may span at most one day");
    return true;
}

static void on_hold_create(api_req_t *r)
{
    const city_t *city = require_city(r);
    if (!city) return;
    json_t *body = api_json_body(r, 64 * 1024);
    if (!body) return;
    int64_t now = tu_now();
    hold_req_t h;
    strvec_init(&h.agencies);
    bool ok = parse_hold(r, body, city, now, &h);
    json_decref(body);
    if (!ok) {
        strvec_free(&h.agencies);
        return;
    }
    int64_t id = 0, conflict = 0;
    holds_rc_t rc = holds_create(r->d->store, &h.agencies, h.start, h.end, h.expires, now,
                                 r->auth.label, &id, &conflict);
    strvec_free(&h.agencies);
    const tz_t *tz = city->tz ? city->tz : tz_default();
    if (rc == HOLDS_CONFLICT) {
        json_t *err = json_pack("{s:s, s:s, s:o}", "error", "hold-conflict", "message",
                                "同じ機関の仮押さえと時間が重なっています / overlaps an active hold",
                                "conflict", holds_one_json(r->d->store, conflict, tz));
        api_reply_json(r, 409, err);
        return;
    }
    if (rc != HOLDS_OK) {
        api_reply_error(r, 500, "internal", "仮押さえを保存できませんでした (store error)");
        return;
    }
    api_reply_json(r, 201, holds_one_json(r->d->store, id, tz));
}

static bool hold_id(api_req_t *r, int64_t *id)
{
    return api_param_int64(r, "id", id);
}

static void on_hold_get(api_req_t *r)
{
    int64_t id;
    if (!hold_id(r, &id)) return;
    json_t *h = holds_one_json(r->d->store, id, api_zone(r));
    if (!h) {
        api_404(r, "仮押さえ", api_param(r, "id"));
        return;
    }
    api_reply_json(r, 200, h);
}

static void on_hold_delete(api_req_t *r)
{
    int64_t id;
    if (!hold_id(r, &id)) return;
    if (!holds_delete(r->d->store, id)) {
        api_404(r, "仮押さえ", api_param(r, "id"));
        return;
    }
    api_reply_no_content(r);
}

static void on_hold_list(api_req_t *r)
{
    api_reply_json(r, 200, holds_list_json(r->d->store, tu_now(), api_zone(r)));
}

static int free_slot_cache(tsunagud_t *d, void *arg)
{
    slot_cache_free(slot_cache);
    slot_cache = NULL;
    return 0;
}

void api_slots_register(api_t *api)
{
    if (!slot_cache) {
        slot_cache = slot_cache_new();
        tsunagud_on_shutdown(free_slot_cache, NULL);
    }
    api_route(api, "POST", "/v1/slots", API_STAFF, API_DATA_NONE, h_slots);
    api_route(api, "POST", "/v1/holds", API_STAFF, API_DATA_NONE, on_hold_create);
    api_route(api, "GET", "/v1/holds", API_STAFF, API_DATA_NONE, on_hold_list);
    api_route(api, "GET", "/v1/holds/{id}", API_STAFF, API_DATA_NONE, on_hold_get);
    api_route(api, "DELETE", "/v1/holds/{id}", API_STAFF, API_DATA_NONE, on_hold_delete);
}
