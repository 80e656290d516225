/* SPDX-License-Identifier: MIT */
/*
 * slots_json.c - the JSON face of the slot engine: parse and validate a
 * query document (DESIGN "Interchange formats", queries/NAME.json) and
 * render the response {"slots":[...],"diagnostics":{...}}.
 *
 * Validation happens in one pass in a fixed order (shape, attendee
 * limits, unknown agencies, window, duration) so that a bad query always
 * gets the same 400 with a machine code and a message naming the problem,
 * Japanese first with an English gloss.  Times are rendered ISO-8601 with
 * the city's UTC offset.
 */
#include "slots.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

static bool fail(slot_error_t *e, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(slot_error_t *e, const char *code, const char *fmt, ...)
{
    va_list ap;
    snprintf(e->code, sizeof e->code, "%s", code);
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return false;
}

static const tz_t *city_tz(const city_t *c) { return c->tz ? c->tz : tz_default(); }

/* ---- parsing --------------------------------------------------------------- */

/* doc's member key in *v, NULL when absent or null; false (bad-field)
 * when it is absent and required. */
static bool member(const json_t *doc, const char *key, bool required_key, const json_t **v,
                   slot_error_t *e)
{
    *v = json_object_get(doc, key);
    if (json_is_null(*v))
        *v = NULL;
    if (!*v && required_key)
        return fail(e, "bad-field", "%s が必要です / \"%s\" is required", key, key);
    return true;
}

static bool get_ids(const json_t *doc, const char *key, bool required_key,
                    strvec_t *out, slot_error_t *e)
{
    const json_t *v;
    if (!member(doc, key, required_key, &v, e))
        return false;
    if (!v)
        return true;
    if (!json_is_array(v))
        return fail(e, "bad-field", "%s は機関IDの配列です / \"%s\" must be an array of agency ids",
                    key, key);
    size_t i;
    const json_t *item;
    json_array_foreach(v, i, item) {
        if (!json_is_string(item) || !json_string_length(item))
            return fail(e, "bad-field", "%s[%zu] は機関IDの文字列です / \"%s[%zu]\" must be an agency id",
                        key, i, key, i);
        strvec_push(out, json_string_value(item));
    }
    return true;
}

static bool get_int(const json_t *doc, const char *key, bool required_key, int dflt,
                    long lo, long hi, int *out, slot_error_t *e)
{
    const json_t *v;
    if (!member(doc, key, required_key, &v, e))
        return false;
    if (!v) {
        *out = dflt;
        return true;
    }
    if (!json_is_integer(v))
        return fail(e, "bad-field", "%s は整数です / \"%s\" must be an integer", key, key);
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        return fail(e, "bad-field", "%s は %ld〜%ld の範囲です / \"%s\" must be in %ld..%ld",
                    key, lo, hi, key, lo, hi);
    *out = (int)x;
    return true;
}

static bool get_time(const json_t *doc, const char *key, const tz_t *tz, int64_t *out,
                     slot_error_t *e)
{
    const json_t *v;
    if (!member(doc, key, true, &v, e))
        return false;
    if (!json_is_string(v) || !tu_parse_iso8601(json_string_value(v), tz, out))
        return fail(e, "bad-field",
                    "%s は ISO-8601 の日時です (例 2026-12-01T09:00:00+09:00) / "
                    "\"%s\" must be an ISO-8601 date-time", key, key);
    return true;
}

static bool check_attendees(const slot_query_t *q, const city_t *c, slot_error_t *e)
{
    size_t total = q->required.n + q->optional.n;
    if (q->required.n == 0)
        return fail(e, "bad-field", "required に1機関以上が必要です / \"required\" must name at least one agency");
    if (total > SLOTS_MAX_ATTENDEES)
        return fail(e, "too-many-attendees",
                    "参加機関は最大%d機関です (指定: %zu) / at most %d attendees (got %zu)",
                    SLOTS_MAX_ATTENDEES, total, SLOTS_MAX_ATTENDEES, total);
    strbuf_t unknown;
    strbuf_init(&unknown);
    const strvec_t *lists[2] = {&q->required, &q->optional};
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < lists[l]->n; i++)
            if (!city_agency(c, lists[l]->v[i]))
                strbuf_printf(&unknown, "%s%s", unknown.len ? ", " : "", lists[l]->v[i]);
    if (unknown.len) {
        fail(e, "unknown-agency", "未登録の機関IDです: %s / unknown agency ids: %s",
             unknown.s, unknown.s);
        strbuf_free(&unknown);
        return false;
    }
    strbuf_free(&unknown);
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < lists[l]->n; i++) {
            const char *id = lists[l]->v[i];
            ptrdiff_t r = strvec_index(&q->required, id), o = strvec_index(&q->optional, id);
            bool dup = (l == 0) ? (r != (ptrdiff_t)i || o >= 0) : (o != (ptrdiff_t)i);
            if (dup)
                return fail(e, "duplicate-agency", "機関IDが重複しています: %s / agency listed twice: %s",
                            id, id);
        }
    return true;
}

static int longest_day(const agency_t *a)
{
    int best = 0;
    for (int wd = 0; wd < 7; wd++)
        if (a->hours.open[wd] && a->hours.end[wd] - a->hours.start[wd] > best)
            best = a->hours.end[wd] - a->hours.start[wd];
    return best;
}

static bool check_duration(const slot_query_t *q, const city_t *c, slot_error_t *e)
{
    if (q->duration_minutes <= 0)
        return fail(e, "bad-duration", "所要時間は1分以上です (指定: %d分) / duration_minutes must be positive",
                    q->duration_minutes);
    for (size_t i = 0; i < q->required.n; i++) {
        const agency_t *a = city_agency(c, q->required.v[i]);
        int day = longest_day(a);
        if ((long)q->duration_minutes * 60 > day)
            return fail(e, "bad-duration",
                        "所要時間 %d分 が %s の1日の勤務時間 (%d分) より長いです / "
                        "duration_minutes %d is longer than the working day of %s (%d min)",
                        q->duration_minutes, a->id, day / 60, q->duration_minutes, a->id, day / 60);
    }
    return true;
}

static bool check_window(const slot_query_t *q, const tz_t *tz, slot_error_t *e)
{
    char f[TU_ISO_LEN], t[TU_ISO_LEN];
    tu_format_iso8601(q->from, tz, f);
    tu_format_iso8601(q->to, tz, t);
    if (q->to <= q->from)
        return fail(e, "bad-window", "to (%s) は from (%s) より後です / \"to\" must be after \"from\"",
                    t, f);
    if (q->to - q->from > SLOTS_MAX_WINDOW_SECONDS)
        return fail(e, "window-too-long",
                    "検索期間は最大26週間です (%s〜%s) / the window may span at most 26 weeks", f, t);
    return true;
}

bool slot_query_from_json(const json_t *doc, const city_t *city, slot_query_t *q,
                          slot_error_t *e)
{
    slot_query_init(q);
    memset(e, 0, sizeof *e);
    const tz_t *tz = city_tz(city);
    bool ok = json_is_object(doc) ||
              fail(e, "bad-json", "クエリはJSONオブジェクトです / the query must be a JSON object");
    if (ok) {
        const json_t *id = json_object_get(doc, "id");
        if (json_is_string(id)) q->id = xstrdup(json_string_value(id));
    }
    ok = ok && get_ids(doc, "required", true, &q->required, e) &&
         get_ids(doc, "optional", false, &q->optional, e) &&
         check_attendees(q, city, e) &&
         get_int(doc, "duration_minutes", true, 0, -100000, 100000, &q->duration_minutes, e) &&
         get_time(doc, "from", tz, &q->from, e) && get_time(doc, "to", tz, &q->to, e) &&
         check_window(q, tz, e) && check_duration(q, city, e) &&
         get_int(doc, "granularity_minutes", false, SLOTS_DEFAULT_GRANULARITY, 1, 1440,
                 &q->granularity_minutes, e) &&
         get_int(doc, "notice_days", false, 0, 0, 365, &q->notice_days, e) &&
         get_int(doc, "limit", false, SLOTS_DEFAULT_LIMIT, 1, SLOTS_MAX_LIMIT, &q->limit, e);
    if (!ok) slot_query_free(q);
    return ok;
}

bool slot_query_parse(const char *text, size_t len, const city_t *city,
                      slot_query_t *out, slot_error_t *e)
{
    json_error_t je;
    memset(e, 0, sizeof *e);
    slot_query_init(out);
    json_t *doc = json_loadb(text, len, 0, &je);
    if (!doc)
        return fail(e, "bad-json", "JSONとして読めません (%d行目: %s) / invalid JSON at line %d: %s",
                    je.line, je.text, je.line, je.text);
    bool ok = slot_query_from_json(doc, city, out, e);
    json_decref(doc);
    return ok;
}

/* ---- rendering ------------------------------------------------------------- */

char *slots_jp_date(int64_t t, const tz_t *tz, char out[SLOTS_JP_LEN])
{
    static const char *const wd[] = {"日", "月", "火", "水", "木", "金", "土"};
    int64_t day = tz_local_day(tz, t, NULL);
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    snprintf(out, SLOTS_JP_LEN, "%d月%d日(%s)", m, d, wd[weekday_of_day(day)]);
    return out;
}

char *slots_hhmm(int64_t t, const tz_t *tz, char out[SLOTS_JP_LEN])
{
    int sod;
    tz_local_day(tz, t, &sod);
    snprintf(out, SLOTS_JP_LEN, "%02d:%02d", sod / 3600, sod / 60 % 60);
    return out;
}

char *slots_until_date(int64_t horizon, const tz_t *tz, char out[SLOTS_JP_LEN])
{
    int y, m, d;
    civil_from_days(tz_local_day(tz, horizon - 1, NULL), &y, &m, &d);
    snprintf(out, SLOTS_JP_LEN, "%04d-%02d-%02d", y, m, d);
    return out;
}

static json_t *iso(int64_t t, const tz_t *tz)
{
    char buf[TU_ISO_LEN];
    return json_string(tu_format_iso8601(t, tz, buf));
}

json_t *slot_to_json(const city_t *city, const slot_t *s)
{
    json_t *o = json_object(), *opt = json_array();
    json_object_set_new(o, "start", iso(s->start, city_tz(city)));
    json_object_set_new(o, "end", iso(s->end, city_tz(city)));
    for (size_t i = 0; i < s->optional.n; i++)
        json_array_append_new(opt, json_string(s->optional.v[i]));
    json_object_set_new(o, "optional", opt);
    return o;
}

static json_t *blockers_json(const city_t *c, const slot_result_t *r)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < r->nblockers; i++) {
        const slot_blocker_t *b = &r->blockers[i];
        json_int_t pct = r->candidates ? (json_int_t)((200 * b->blocked + r->candidates) /
                                                      (2 * r->candidates)) : 0;
        json_array_append_new(arr, json_pack("{s:s, s:s, s:I, s:I, s:I}", "agency", b->agency_id,
                                             "name", city_agency_name(c, b->agency_id),
                                             "blocked_candidates", (json_int_t)b->blocked,
                                             "candidates", (json_int_t)r->candidates,
                                             "blocked_percent", pct));
    }
    return arr;
}

static json_t *drops_json(const city_t *c, const slot_result_t *r)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < r->ndrops; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:o}", "agency", r->drops[i].agency_id,
                                             "name", city_agency_name(c, r->drops[i].agency_id),
                                             "earliest", iso(r->drops[i].earliest, city_tz(c))));
    return arr;
}

/* A sentence the secretariat can read out when nothing fits. */
static char *empty_message(const city_t *c, const slot_result_t *r)
{
    strbuf_t b;
    strbuf_init(&b);
    const tz_t *tz = city_tz(c);
    char d[SLOTS_JP_LEN], h[SLOTS_JP_LEN];
    if (r->candidates == 0)
        strbuf_puts(&b, "指定期間には全必須機関の勤務時間内の候補がありません(予告日数・休日を考慮)。");
    else
        strbuf_puts(&b, "指定期間内に必須機関全員が参加できる枠はありません。");
    if (r->nblockers)
        strbuf_printf(&b, "最も支障となっている機関は%s(候補%zu件中%zu件が不可)です。",
                      city_agency_name(c, r->blockers[0].agency_id), r->candidates,
                      r->blockers[0].blocked);
    if (r->ndrops)
        strbuf_printf(&b, "%sを除けば%s %sから可能です。", city_agency_name(c, r->drops[0].agency_id),
                      slots_jp_date(r->drops[0].earliest, tz, d),
                      slots_hhmm(r->drops[0].earliest, tz, h));
    if (r->has_next)
        strbuf_printf(&b, "期間を広げると最短で%s %sから可能です。", slots_jp_date(r->next.start, tz, d),
                      slots_hhmm(r->next.start, tz, h));
    else if (r->next_until)
        strbuf_printf(&b, "%1$sまでに全員が参加できる枠は見つかりませんでした"
                      "(%2$sの予定が%1$sまでしかないため、26週間より手前で検索を打ち切りました)。",
                      slots_until_date(r->next_until, tz, d), city_agency_name(c, r->next_until_agency));
    else
        strbuf_puts(&b, "26週間以内に全員が参加できる枠は見つかりませんでした。");
    return strbuf_detach(&b);
}

json_t *slot_result_to_json(const city_t *city, const slot_query_t *q, const slot_result_t *r)
{
    const tz_t *tz = city_tz(city);
    json_t *root = json_object(), *slots = json_array(), *diag = json_object();
    for (size_t i = 0; i < r->nslots; i++) json_array_append_new(slots, slot_to_json(city, &r->slots[i]));
    json_object_set_new(root, "slots", slots);
    if (q && q->id) json_object_set_new(diag, "query", json_string(q->id));
    json_object_set_new(diag, "earliest_start", iso(r->earliest, tz));
    json_object_set_new(diag, "candidates", json_integer((json_int_t)r->candidates));
    json_object_set_new(diag, "feasible_candidates", json_integer((json_int_t)r->feasible));
    if (r->window_until && r->window_until_agency)
        json_object_set_new(diag, "window_cut", json_pack("{s:s, s:o}", "agency",
                                                          r->window_until_agency, "data_until",
                                                          iso(r->window_until, tz)));
    if (r->nslots == 0) {
        json_object_set_new(diag, "reason",
                            json_string(r->candidates ? "all-blocked" : "no-working-time"));
        json_object_set_new(diag, "blocking", blockers_json(city, r));
        json_object_set_new(diag, "next_available",
                            r->has_next ? slot_to_json(city, &r->next) : json_null());
        json_object_set_new(diag, "drop_one", drops_json(city, r));
        if (r->next_until)
            json_object_set_new(diag, "next_search_until", iso(r->next_until, tz));
        char *msg = empty_message(city, r);
        json_object_set_new(diag, "message", json_string(msg));
        free(msg);
    }
    json_object_set_new(root, "diagnostics", diag);
    return root;
}
