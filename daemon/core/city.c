/* SPDX-License-Identifier: MIT */
/*
 * city.c - agencies.json (DESIGN "Interchange formats") into city_t.
 *
 * Parsing is strict about types and lenient about absent optional keys
 * (defaults: timezone Asia/Tokyo, need 1, travel 0, areas = whole city,
 * closed_days absent -> 年末年始 12/29-1/3 of every year).  Every error
 * names the JSON path of the offending field, so an importer can fix the
 * document.  Nothing is returned on error: the caller never sees a
 * half-filled city.
 */
#include "city.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "holidays.h"
#include "ids.h"
#include "strmap.h"

static const char *const feed_kind_names[FEED_KIND_COUNT] = {
    "ics", "freebusy", "caldav", "caldav-freebusy",
};

const char *feed_kind_name(feed_kind_t k)
{
    return k < FEED_KIND_COUNT ? feed_kind_names[k] : "?";
}

bool feed_kind_parse(const char *s, feed_kind_t *out)
{
    for (int k = 0; k < FEED_KIND_COUNT; k++)
        if (strcmp(s, feed_kind_names[k]) == 0) {
            *out = (feed_kind_t)k;
            return true;
        }
    return false;
}

/* ---- small typed getters that report the field path ---------------------- */

typedef struct perr {
    char  *buf;
    size_t len;
} perr_t;

static bool fail(perr_t *e, const char *path, const char *msg)
{
    snprintf(e->buf, e->len, "%s: %s", path, msg);
    return false;
}

static bool get_string(const json_t *obj, const char *key, const char *path, bool required,
                       char **out, perr_t *e)
{
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        if (required) return fail(e, path, "必須項目がありません (required field missing)");
        *out = NULL;
        return true;
    }
    if (!json_is_string(v)) return fail(e, path, "文字列が必要です (expected a string)");
    *out = xstrdup(json_string_value(v));
    return true;
}

static bool get_int(const json_t *obj, const char *key, const char *path, int def, int min,
                    int *out, perr_t *e)
{
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) { *out = def; return true; }
    if (!json_is_integer(v)) return fail(e, path, "整数が必要です (expected an integer)");
    json_int_t i = json_integer_value(v);
    if (i < min || i > 1000000) return fail(e, path, "値が範囲外です (out of range)");
    *out = (int)i;
    return true;
}

static bool get_bool(const json_t *obj, const char *key, const char *path, bool def, bool *out,
                     perr_t *e)
{
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) { *out = def; return true; }
    if (!json_is_boolean(v)) return fail(e, path, "真偽値が必要です (expected true/false)");
    *out = json_is_true(v);
    return true;
}

static bool get_strvec(const json_t *obj, const char *key, const char *path, strvec_t *out,
                       perr_t *e)
{
    strvec_init(out);
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) return true;
    if (!json_is_array(v)) return fail(e, path, "配列が必要です (expected an array)");
    size_t i;
    const json_t *item;
    json_array_foreach(v, i, item) {
        if (!json_is_string(item)) {
            char p[256];
            snprintf(p, sizeof p, "%s[%zu]", path, i);
            return fail(e, p, "文字列が必要です (expected a string)");
        }
        strvec_push(out, json_string_value(item));
    }
    return true;
}

/* ---- closed days -------------------------------------------------------- */

static int day_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

bool daylist_contains(const daylist_t *d, int64_t day)
{
    return d->n && bsearch(&day, d->v, d->n, sizeof *d->v, day_cmp) != NULL;
}

static bool get_daylist(const json_t *obj, const char *path, bool *has, daylist_t *out,
                        perr_t *e)
{
    const json_t *v = json_object_get(obj, "closed_days");
    out->v = NULL;
    out->n = 0;
    *has = v && !json_is_null(v);
    if (!*has) return true;
    if (!json_is_array(v)) return fail(e, path, "配列が必要です (expected an array of dates)");
    out->v = xcalloc(json_array_size(v), sizeof *out->v);
    size_t i;
    const json_t *item;
    json_array_foreach(v, i, item) {
        if (!json_is_string(item) || !parse_date(json_string_value(item), &out->v[i])) {
            char p[256];
            snprintf(p, sizeof p, "%s[%zu]", path, i);
            return fail(e, p, "日付は \"YYYY-MM-DD\" で指定してください (expected YYYY-MM-DD)");
        }
        out->n++;
    }
    qsort(out->v, out->n, sizeof *out->v, day_cmp);
    return true;
}

/* ---- hours ---------------------------------------------------------------- */

bool parse_hhmm_range(const char *s, int *start, int *end)
{
    int h1, m1, h2, m2, n = 0;
    if (sscanf(s, "%2d:%2d-%2d:%2d%n", &h1, &m1, &h2, &m2, &n) != 4 || s[n]) return false;
    if (h1 > 24 || h2 > 24 || m1 > 59 || m2 > 59 || h1 < 0 || h2 < 0 || m1 < 0 || m2 < 0)
        return false;
    *start = h1 * 3600 + m1 * 60;
    *end = h2 * 3600 + m2 * 60;
    return *start < *end && *end <= 86400;
}

static int weekday_index(const char *s, size_t n)
{
    static const char *const names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    for (int i = 0; i < 7; i++)
        if (n == 3 && strncmp(s, names[i], 3) == 0) return i;
    return -1;
}

/* Day spec: "mon-fri", "sat", "mon,wed,fri" or combinations. */
static bool apply_day_spec(const char *spec, int start, int end, hours_t *h)
{
    const char *p = spec;
    while (*p) {
        size_t len = strcspn(p, ",");
        const char *dash = memchr(p, '-', len);
        int a, b;
        if (dash) {
            a = weekday_index(p, (size_t)(dash - p));
            b = weekday_index(dash + 1, len - (size_t)(dash - p) - 1);
        } else {
            a = b = weekday_index(p, len);
        }
        if (a < 0 || b < 0) return false;
        for (int d = a;; d = (d + 1) % 7) {
            h->open[d] = true;
            h->start[d] = start;
            h->end[d] = end;
            if (d == b) break;
        }
        p += len;
        if (*p == ',') p++;
    }
    return true;
}

static bool get_hours(const json_t *obj, const char *path, hours_t *h, perr_t *e)
{
    memset(h, 0, sizeof *h);
    json_t *v = json_object_get(obj, "hours");
    if (!v || json_is_null(v)) {
        int start = 8 * 3600 + 30 * 60, end = 17 * 3600 + 15 * 60;
        apply_day_spec("mon-fri", start, end, h);
        return true;
    }
    if (!json_is_object(v)) return fail(e, path, "オブジェクトが必要です (expected {\"mon-fri\": \"HH:MM-HH:MM\"})");
    const char *key;
    const json_t *val;
    json_object_foreach(v, key, val) {
        int start, end;
        char p[256];
        snprintf(p, sizeof p, "%s.%s", path, key);
        if (!json_is_string(val) || !parse_hhmm_range(json_string_value(val), &start, &end))
            return fail(e, p, "\"HH:MM-HH:MM\" の形式で指定してください (expected \"HH:MM-HH:MM\")");
        if (!apply_day_spec(key, start, end, h))
            return fail(e, p, "曜日は mon..sun で指定してください (expected e.g. \"mon-fri\")");
    }
    return true;
}

/* ---- agencies --------------------------------------------------------- */

static char *resolve_url(const char *url, const char *base_dir)
{
    if (!base_dir || strstr(url, "://") || url[0] == '/') return xstrdup(url);
    return xasprintf("%s/%s", base_dir, url);
}

/* http(s) for every kind; file:// and absolute paths for the kinds that
 * read a local file (ics, freebusy).  Anything else (gopher, dict, ftp,
 * caldav over file://) is refused at import, naming the calendar. */
static bool url_scheme_ok(const calendar_ref_t *ref, const char *path, perr_t *e)
{
    const char *u = ref->url;
    if (strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0)
        return true;
    bool local_kind = ref->kind == FEED_ICS || ref->kind == FEED_FREEBUSY;
    bool local = strncasecmp(u, "file://", 7) == 0 || u[0] == '/';
    bool has_scheme = strstr(u, "://") != NULL;
    if ((local && local_kind) || (!local && !has_scheme && local_kind))
        return true;   /* relative paths are refused later without a base */
    char msg[640];
    /* webcal:// is what Outlook, Google and iCloud hand out as a
     * "subscribe" link: the same address over https. */
    bool webcal = strncasecmp(u, "webcal://", 9) == 0 || strncasecmp(u, "webcals://", 10) == 0;
    snprintf(msg, sizeof msg, "カレンダー「%.64s」(%s) の URL には http(s)://%s しか使えません%s "
             "(unsupported url scheme for this calendar)", ref->id, feed_kind_name(ref->kind),
             local_kind ? "、file:// または絶対パス" : "",
             webcal ? "。webcal:// は https:// に書き換えてください (同じ URL で取得できます)" : "");
    return fail(e, path, msg);
}

static bool get_calendars(const json_t *obj, const char *path, const char *base_dir,
                          agency_t *a, perr_t *e)
{
    const json_t *v = json_object_get(obj, "calendars");
    if (!v || json_is_null(v)) return true;
    if (!json_is_array(v)) return fail(e, path, "配列が必要です (expected an array)");
    a->calendars = xcalloc(json_array_size(v), sizeof *a->calendars);
    size_t i;
    const json_t *c;
    json_array_foreach(v, i, c) {
        char p[256], kp[300];
        snprintf(p, sizeof p, "%s[%zu]", path, i);
        if (!json_is_object(c)) return fail(e, p, "オブジェクトが必要です (expected an object)");
        calendar_ref_t *ref = &a->calendars[a->ncalendars];
        char *kind = NULL, *url = NULL;
        snprintf(kp, sizeof kp, "%s.id", p);
        if (!get_string(c, "id", kp, true, &ref->id, e)) return false;
        a->ncalendars++;
        if (!ids_valid(ref->id)) return fail(e, kp, IDS_RULE_TEXT);
        snprintf(kp, sizeof kp, "%s.kind", p);
        if (!get_string(c, "kind", kp, true, &kind, e)) return false;
        bool known = feed_kind_parse(kind, &ref->kind);
        free(kind);
        if (!known)
            return fail(e, kp, "ics / freebusy / caldav / caldav-freebusy のいずれかです (unknown kind)");
        snprintf(kp, sizeof kp, "%s.url", p);
        if (!get_string(c, "url", kp, true, &url, e)) return false;
        ref->url = resolve_url(url, base_dir);
        free(url);
        if (!url_scheme_ok(ref, kp, e)) return false;
    }
    return true;
}

/* "reply_from": ["person@example.jp", "@example.jp", ...] (optional). */
static bool get_reply_from(const json_t *o, const char *path, strvec_t *out, perr_t *e)
{
    if (!get_strvec(o, "reply_from", path, out, e)) return false;
    for (size_t i = 0; i < out->n; i++) {
        char *v = out->v[i];
        const char *at = strchr(v, '@');
        if (!at || strchr(at + 1, '@') || !at[1] || strchr(at + 1, '.') == NULL ||
            strpbrk(v, " \t\r\n<>,;\"()"))
            return fail(e, path, "アドレスか「@ドメイン」を並べてください (addresses or @domain)");
        for (char *c = v; *c; c++) *c = (char)tolower((unsigned char)*c);
    }
    return true;
}

bool agency_reply_from_allowed(const agency_t *a, const char *addr)
{
    const char *at = addr ? strrchr(addr, '@') : NULL;
    if (!a || !at) return false;
    if (a->email && strcasecmp(a->email, addr) == 0) return true;
    for (size_t i = 0; i < a->reply_from.n; i++) {
        const char *r = a->reply_from.v[i];
        if (r[0] == '@' ? strcasecmp(r, at) == 0 : strcasecmp(r, addr) == 0) return true;
    }
    return false;
}

static bool parse_agency(const json_t *o, const char *p, const char *base_dir, agency_t *a,
                         perr_t *e)
{
    char k[300];
#define PATH(key) (snprintf(k, sizeof k, "%s.%s", p, key), k)
    if (!json_is_object(o)) return fail(e, p, "オブジェクトが必要です (expected an object)");
    if (!get_string(o, "id", PATH("id"), true, &a->id, e)) return false;
    if (!ids_valid(a->id)) return fail(e, PATH("id"), IDS_RULE_TEXT);
    if (!get_string(o, "name", PATH("name"), true, &a->name, e)) return false;
    /* control characters (U+2028 too) are refused wherever they are, then
     * spaces around the name go: 「　こども家庭センター」 */
    if (ids_has_control(a->name, strlen(a->name)))
        return fail(e, PATH("name"), "機関名に制御文字は使えません (control character in name)");
    char *trimmed = utf8_trim_space(a->name);
    free(a->name);
    a->name = trimmed;
    if (!*a->name)
        return fail(e, PATH("name"), "機関名が空です (empty name)");
    if (!get_string(o, "email", PATH("email"), false, &a->email, e)) return false;
    if (a->email && (!strchr(a->email, '@') || strpbrk(a->email, " \t\r\n<>,")))
        return fail(e, PATH("email"), "メールアドレスの形式が不正です (invalid email address)");
    if (!get_strvec(o, "fields", PATH("fields"), &a->fields, e)) return false;
    if (!get_strvec(o, "areas", PATH("areas"), &a->areas, e)) return false;
    if (!get_reply_from(o, PATH("reply_from"), &a->reply_from, e)) return false;
    if (!get_hours(o, PATH("hours"), &a->hours, e)) return false;
    if (!get_int(o, "travel_minutes", PATH("travel_minutes"), 0, 0, &a->travel_minutes, e))
        return false;
    if (!get_int(o, "max_lead_cases", PATH("max_lead_cases"), 10, 0, &a->max_lead_cases, e))
        return false;
    if (!get_int(o, "lead_cases", PATH("lead_cases"), 0, 0, &a->lead_cases, e)) return false;
    if (!get_bool(o, "support_meeting_member", PATH("support_meeting_member"), false,
                  &a->support_meeting_member, e))
        return false;
    if (!get_int(o, "need", PATH("need"), 1, 1, &a->need, e)) return false;
    if (!get_calendars(o, PATH("calendars"), base_dir, a, e)) return false;
    if (a->ncalendars && (size_t)a->need > a->ncalendars)
        return fail(e, PATH("need"), "カレンダー数より大きい値です (need exceeds number of calendars)");
    return get_daylist(o, PATH("closed_days"), &a->has_closed_days, &a->closed_days, e);
#undef PATH
}

static void agency_free(agency_t *a)
{
    free(a->id);
    free(a->name);
    free(a->email);
    strvec_free(&a->fields);
    strvec_free(&a->areas);
    strvec_free(&a->reply_from);
    for (size_t i = 0; i < a->ncalendars; i++) {
        free(a->calendars[i].id);
        free(a->calendars[i].url);
    }
    free(a->calendars);
    free(a->closed_days.v);
}

void city_free(city_t *c)
{
    free(c->name);
    free(c->timezone);
    strvec_free(&c->districts);
    free(c->closed_days.v);
    for (size_t i = 0; i < c->nagencies; i++) agency_free(&c->agencies[i]);
    free(c->agencies);
    memset(c, 0, sizeof *c);
}

/* Hash sets, so 100,000 calendars are checked in linear time. */
static bool check_unique_ids(const city_t *c, perr_t *e)
{
    strmap_t agency_ids, cal_ids;
    strmap_init(&agency_ids);
    strmap_init(&cal_ids);
    strmap_reserve(&agency_ids, c->nagencies);
    bool ok = true;
    for (size_t i = 0; i < c->nagencies && ok; i++) {
        char p[256];
        if (!strmap_put(&agency_ids, c->agencies[i].id, NULL)) {
            snprintf(p, sizeof p, "agencies[%zu].id", i);
            ok = fail(e, p, "ID が重複しています (duplicate agency id)");
        }
        for (size_t k = 0; k < c->agencies[i].ncalendars && ok; k++)
            if (!strmap_put(&cal_ids, c->agencies[i].calendars[k].id, NULL)) {
                snprintf(p, sizeof p, "agencies[%zu].calendars[%zu].id", i, k);
                ok = fail(e, p, "カレンダー ID が重複しています (duplicate calendar id)");
            }
    }
    strmap_free(&agency_ids);
    strmap_free(&cal_ids);
    return ok;
}

static bool parse_city(const json_t *root, const char *base_dir, city_t *c, perr_t *e)
{
    if (!json_is_object(root)) return fail(e, "$", "オブジェクトが必要です (expected a JSON object)");
    if (!get_string(root, "city", "city", false, &c->name, e)) return false;
    if (!get_string(root, "timezone", "timezone", false, &c->timezone, e)) return false;
    if (!c->timezone) c->timezone = xstrdup("Asia/Tokyo");
    c->tz = tz_get(c->timezone);
    if (!c->tz) return fail(e, "timezone", "不明なタイムゾーンです (unknown time zone)");
    const json_t *now = json_object_get(root, "now");
    if (now && !json_is_null(now)) {
        if (!json_is_string(now) || !tu_parse_iso8601(json_string_value(now), c->tz, &c->now))
            return fail(e, "now", "ISO-8601 の日時が必要です (expected ISO-8601)");
        c->has_now = true;
    }
    if (!get_strvec(root, "districts", "districts", &c->districts, e)) return false;
    if (!get_daylist(root, "closed_days", &c->has_closed_days, &c->closed_days, e)) return false;
    const json_t *list = json_object_get(root, "agencies");
    if (!json_is_array(list)) return fail(e, "agencies", "配列が必要です (expected an array)");
    c->agencies = xcalloc(json_array_size(list), sizeof *c->agencies);
    size_t i;
    const json_t *o;
    json_array_foreach(list, i, o) {
        char p[64];
        snprintf(p, sizeof p, "agencies[%zu]", i);
        c->nagencies++;
        if (!parse_agency(o, p, base_dir, &c->agencies[i], e)) {
            /* "agencies[13]" counts from 0: also say which agency, as a
             * person finds it in the file */
            const char *id = json_string_value(json_object_get(o, "id"));
            size_t used = strlen(e->buf);
            if (id && ids_valid(id) && used + 96 < e->len)
                snprintf(e->buf + used, e->len - used, " [機関 %s、%zu 番目]", id, i + 1);
            return false;
        }
    }
    return check_unique_ids(c, e);
}

bool city_from_json(const json_t *root, const char *base_dir, city_t *out, char *err,
                    size_t errlen)
{
    perr_t e = {err, errlen};
    memset(out, 0, sizeof *out);
    if (parse_city(root, base_dir, out, &e)) return true;
    city_free(out);
    return false;
}

bool city_load_file(const char *path, city_t *out, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        snprintf(err, errlen, "%s:%d:%d: JSON の構文エラー: %s", path, jerr.line, jerr.column,
                 jerr.text);
        return false;
    }
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else strcpy(dir, ".");
    bool ok = city_from_json(root, dir, out, err, errlen);
    free(dir);
    json_decref(root);
    return ok;
}

size_t city_feed_count(const city_t *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->nagencies; i++)
        n += c->agencies[i].ncalendars;
    return n;
}

const agency_t *city_agency(const city_t *c, const char *id)
{
    for (size_t i = 0; i < c->nagencies; i++)
        if (strcmp(c->agencies[i].id, id) == 0) return &c->agencies[i];
    return NULL;
}

const char *city_agency_name(const city_t *c, const char *id)
{
    const agency_t *a = c ? city_agency(c, id) : NULL;
    return a && a->name ? a->name : id;
}

static bool is_nenmatsu_nenshi(int64_t day)
{
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    return (m == 12 && d >= 29) || (m == 1 && d <= 3);
}

bool city_is_closed_day(const city_t *c, const agency_t *a, int64_t day)
{
    if (a && a->has_closed_days) return daylist_contains(&a->closed_days, day);
    if (c->has_closed_days) return daylist_contains(&c->closed_days, day);
    return is_nenmatsu_nenshi(day);
}

bool city_is_business_day(const city_t *c, const agency_t *a, int64_t day)
{
    int wd = weekday_of_day(day);
    if (wd == 0 || wd == 6) return false;
    if (jp_holiday(day, NULL)) return false;
    return !city_is_closed_day(c, a, day);
}

const char *city_day_off_label(const city_t *c, const agency_t *a, int64_t day)
{
    const char *name = NULL;
    if (jp_holiday(day, &name)) return name;
    if (!city_is_closed_day(c, a, day)) return NULL;
    return is_nenmatsu_nenshi(day) ? "年末年始" : "閉庁日";
}

static json_t *strvec_to_json(const strvec_t *sv)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < sv->n; i++) json_array_append_new(arr, json_string(sv->v[i]));
    return arr;
}

static json_t *hours_to_json(const hours_t *h)
{
    static const char *const names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    json_t *o = json_object();
    for (int d = 0; d < 7; d++) {
        if (!h->open[d]) continue;
        char v[16];
        snprintf(v, sizeof v, "%02d:%02d-%02d:%02d", h->start[d] / 3600, h->start[d] / 60 % 60,
                 h->end[d] / 3600, h->end[d] / 60 % 60);
        json_object_set_new(o, names[d], json_string(v));
    }
    return o;
}

json_t *agency_to_json(const agency_t *a)
{
    json_t *cals = json_array();
    for (size_t i = 0; i < a->ncalendars; i++)
        json_array_append_new(cals, json_pack("{s:s, s:s}", "id", a->calendars[i].id, "kind",
                                              feed_kind_name(a->calendars[i].kind)));
    json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:o, s:i, s:i, s:i, s:b, s:i, s:o}",
                          "id", a->id, "name", a->name, "fields", strvec_to_json(&a->fields),
                          "areas", strvec_to_json(&a->areas), "hours", hours_to_json(&a->hours),
                          "travel_minutes", a->travel_minutes, "max_lead_cases",
                          a->max_lead_cases, "lead_cases", a->lead_cases,
                          "support_meeting_member", a->support_meeting_member, "need", a->need,
                          "calendars", cals);
    if (a->email) json_object_set_new(o, "email", json_string(a->email));
    if (a->reply_from.n) json_object_set_new(o, "reply_from", strvec_to_json(&a->reply_from));
    return o;
}
