/* SPDX-License-Identifier: MIT */
/*
 * api_overview.c - summaries for the web UI (staff roles).
 *
 *   GET /v1/overview/home    what needs doing now, by the caller's role:
 *       secretariat: pending_decisions, replan_meetings, dead_mail (given
 *                    up or bounced, with the reason), mail_config_errors
 *                    (mail held by an SMTP configuration error)
 *       coordinator: cases_without_meeting, week_meetings, overdue_monitoring
 *       admin:       failing_feeds, accounts (must change / disabled), and
 *                    everything above
 *   GET /v1/overview/cases   every case with district, lead, its next
 *                            meeting and its pending decision
 *   GET /v1/overview/vocabulary  what the case form offers: districts,
 *                            agencies {id, name}, relations, meeting types
 *                            (the known features are in GET /v1/rules)
 *
 * "This week" is today (local) and the six days after it.  The SQL lives
 * in store_overview.c; this file picks the lists and formats the times.
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "case.h"
#include "feed_explain.h"
#include "store_overview.h"
#include "store_users.h"

/* Epoch-second fields of o become ISO-8601 (null for 0). */
static void obj_times(api_req_t *r, json_t *o)
{
    static const char *const keys[] = {"created", "start", "end", "last_success", NULL};
    for (const char *const *k = keys; *k; k++) {
        json_t *v = json_object_get(o, *k);
        if (json_is_integer(v))
            json_object_set_new(o, *k, api_time_json(json_integer_value(v), api_zone(r), true));
    }
}

static json_t *with_times(api_req_t *r, json_t *arr)
{
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
        obj_times(r, o);
        json_t *m = json_object_get(o, "next_meeting");
        if (json_is_object(m))
            obj_times(r, m);
    }
    return arr;
}

static void put(api_req_t *r, json_t *o, const char *key, json_t *arr, bool *failed)
{
    if (!arr) {
        *failed = true;
        return;
    }
    json_object_set_new(o, key, with_times(r, arr));
}

/* Each failing feed's last_error explained, as in the feed JSON. */
static void add_feed_advice(json_t *feeds)
{
    size_t i;
    json_t *f;
    json_array_foreach(feeds, i, f) {
        const feed_advice_t *a = feed_explain(json_string_value(json_object_get(f, "last_error")), 0);
        if (a)
            json_object_set_new(f, "advice", json_pack("{s:s, s:s}", "code", a->code, "text", a->text));
    }
}

static json_t *accounts_needing_attention(store_t *st)
{
    json_t *all = store_user_list(st), *out = json_array();
    size_t i;
    json_t *u;
    json_array_foreach(all, i, u)
        if (json_is_true(json_object_get(u, "must_change")) ||
            json_is_true(json_object_get(u, "disabled")))
            json_array_append_new(out, json_pack("{s:O, s:O, s:O, s:O}", "name",
                                                 json_object_get(u, "name"), "role",
                                                 json_object_get(u, "role"), "must_change",
                                                 json_object_get(u, "must_change"), "disabled",
                                                 json_object_get(u, "disabled")));
    json_decref(all);
    return out;
}

static void today(api_req_t *r, int64_t *midnight, char date[11])
{
    const tz_t *z = api_zone(r);
    int sec;
    int64_t day = tz_local_day(z, tu_now(), &sec);
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    snprintf(date, 11, "%04d-%02d-%02d", y, m, d);
    *midnight = tz_local_to_utc(z, day, 0);
}

static void h_home(api_req_t *r)
{
    store_t *st = r->d->store;
    unsigned role = r->auth.role;
    bool all = role == API_ADMIN, failed = false;
    json_t *o = json_object();
    if (all || role == API_SECRETARIAT) {
        put(r, o, "pending_decisions", store_overview_pending_decisions(st), &failed);
        put(r, o, "replan_meetings", store_overview_replan_meetings(st), &failed);
        put(r, o, "dead_mail", store_overview_dead_mail(st), &failed);
        put(r, o, "mail_config_errors", store_overview_mail_config_errors(st), &failed);
    }
    if (all || role == API_COORDINATOR) {
        int64_t midnight;
        char date[11];
        today(r, &midnight, date);
        put(r, o, "cases_without_meeting", store_overview_cases_without_meeting(st), &failed);
        put(r, o, "week_meetings", store_overview_meetings_between(st, midnight,
                                                                   midnight + 7 * 86400), &failed);
        put(r, o, "overdue_monitoring", store_overview_overdue_monitoring(st, date), &failed);
    }
    if (all) {
        put(r, o, "failing_feeds", store_overview_failing_feeds(st), &failed);
        add_feed_advice(json_object_get(o, "failing_feeds"));
        put(r, o, "accounts", accounts_needing_attention(st), &failed);
    }
    if (failed) {
        json_decref(o);
        api_reply_error(r, 500, "store", "データベースの処理に失敗しました (store error)");
        return;
    }
    api_reply_json(r, 200, o);
}

static void h_cases(api_req_t *r)
{
    json_t *arr = store_overview_cases(r->d->store, tu_now());
    if (!arr) {
        api_reply_error(r, 500, "store", "データベースの処理に失敗しました (store error)");
        return;
    }
    api_reply_json(r, 200, json_pack("{s:o}", "cases", with_times(r, arr)));
}

static void h_vocabulary(api_req_t *r)
{
    const city_t *city = tsunagud_city(r->d);
    json_t *districts = json_array(), *agencies = json_array(), *relations = json_array();
    for (size_t i = 0; city && i < city->districts.n; i++)
        json_array_append_new(districts, json_string(city->districts.v[i]));
    for (size_t i = 0; city && i < city->nagencies; i++)
        json_array_append_new(agencies, json_pack("{s:s, s:s}", "id", city->agencies[i].id,
                                                  "name", city->agencies[i].name));
    for (const char *const *rel = case_relations(); *rel; rel++)
        json_array_append_new(relations, json_string(*rel));
    api_reply_json(r, 200, json_pack("{s:o, s:o, s:o, s:[ss]}", "districts", districts,
                                     "agencies", agencies, "relations", relations,
                                     "meeting_types", CASE_MEETING_SUPPORT, CASE_MEETING_JUUSOU));
}

void api_overview_register(api_t *api)
{
    api_route(api, "GET", "/v1/overview/vocabulary", API_STAFF, API_DATA_NONE, h_vocabulary);
    api_route(api, "GET", "/v1/overview/home", API_STAFF, API_DATA_CASE, h_home);
    api_route(api, "GET", "/v1/overview/cases", API_STAFF, API_DATA_CASE, h_cases);
}
