/* SPDX-License-Identifier: MIT */
/*
 * api_stats.c - statistics, similar cases and rule impact over HTTP.
 *
 *   GET  /v1/stats?from=YYYY-MM-DD&to=YYYY-MM-DD[&district=][&format=csv&table=]
 *        staff roles.  Dates are local and inclusive (default: the 365 days
 *        up to today).  format=csv gives one table (summary, agencies,
 *        monthly, days) as UTF-8 CSV with BOM and CRLF (stats.h).
 *   GET  /v1/cases/{id}/similar?limit=N      staff roles only (1-50, default 5);
 *        503 similar-warming (Retry-After: 2) while the index is first built
 *   POST /v1/rules/impact[?name=FILE]        secretariat and admin; body = a
 *        candidate rule file (text, at most 1 MB); nothing is stored.
 *
 * JSON shapes (the web UI's 統計, 似ている事例 and ルール変更の影響 screens
 * read exactly these; see README "Statistics, similar cases and rule
 * impact"):
 *   stats:   stats.h (cases, decisions, days_to_first_meeting{count,
 *            median, p90, histogram[]}, meetings, answers, agencies[],
 *            monitoring_overdue, monthly[])
 *   similar: {case, rules[], features[], threshold, limit, results:[{id,
 *            title, sim, shared_rules[], shared_features[], reason, status,
 *            open, lead, supports[], decision, override_reason,
 *            days_to_first_meeting}]}
 *   impact:  rules_impact.h
 * Numbers are written with up to 15 significant digits, so sim 0.667 reads
 * as 0.667.
 *
 * The similar-case index (similar.c) lives here for the life of the
 * process.  A timer builds it after start-up and after SIGHUP, WARM_ROWS
 * cases per loop turn, so a big store never blocks the loop for long;
 * until that first build is complete (or again after the rules changed)
 * the endpoint answers 503 similar-warming with Retry-After.  Afterwards
 * every request brings it up to date (similar_sync), which reads only the
 * cases changed since the last one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "api.h"
#include "rules.h"
#include "rules_impact.h"
#include "similar.h"
#include "stats.h"
#include "store_cases.h"
#include "store_stats.h"
#include "util.h"

#define IMPACT_MAX_BYTES (1024 * 1024)
#define STATS_MAX_YEARS 10

#define WARM_ROWS 1000          /* cases indexed per loop turn while warming */

static similar_t *sim_index;
static struct event *warm_timer;

static int start_warming(tsunagud_t *d, void *arg);

static void reply_json_exact(api_req_t *r, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(body);
    strbuf_t b;
    strbuf_init(&b);
    strbuf_puts(&b, text);
    strbuf_putc(&b, '\n');
    api_reply_text(r, status, "application/json; charset=utf-8", b.s, b.len);
    strbuf_free(&b);
    free(text);
}

static const ruleset_t *rules_or_503(api_req_t *r)
{
    const ruleset_t *rs = api_cases_rules();
    if (!rs)
        api_reply_error(r, 503, "rules-unavailable",
                        "ルールファイルを読み込めていません。設定 RULES を確認して SIGHUP を送ってください (no rules loaded)");
    return rs;
}

/* ---- stats ------------------------------------------------------------------- */

/* ?name=YYYY-MM-DD, or def when absent; replies 400 naming it when bad. */
static bool query_date(api_req_t *r, const char *name, int64_t def, int64_t *out)
{
    const char *v = api_query(r, name);
    if (!v || !*v) {
        *out = def;
        return true;
    }
    if (strlen(v) == 10 && parse_date(v, out))
        return true;
    api_reply_error(r, 400, "bad-date", "%s: 日付は YYYY-MM-DD で指定してください: %s (bad date)",
                    name, v);
    return false;
}

static bool stats_range(api_req_t *r, int64_t *from, int64_t *to)
{
    int64_t today = tz_local_day(api_zone(r), tu_now(), NULL);
    if (!query_date(r, "to", today, to) || !query_date(r, "from", *to - 364, from))
        return false;
    if (*to < *from) {
        api_reply_error(r, 400, "bad-range", "to: 終了日が開始日より前です (to is before from)");
        return false;
    }
    int y, m, d;
    civil_from_days(*from, &y, &m, &d);
    if (*to >= days_from_civil(y + STATS_MAX_YEARS, m, d)) {
        api_reply_error(r, 400, "bad-range", "to: 期間は%d年以内にしてください (range over %d years)",
                        STATS_MAX_YEARS, STATS_MAX_YEARS);
        return false;
    }
    return true;
}

static bool stats_district(api_req_t *r, const char **district)
{
    *district = api_query(r, "district");
    if (!*district || !**district) {
        *district = NULL;
        return true;
    }
    const city_t *city = tsunagud_city(r->d);
    if (!city || strvec_contains(&city->districts, *district))
        return true;
    api_reply_error(r, 400, "bad-district", "district: 未知の地区「%s」です (unknown district)",
                    *district);
    return false;
}

static void reply_csv(api_req_t *r, const json_t *stats)
{
    const char *table = api_query(r, "table");
    char *csv = stats_csv(stats, table ? table : "summary");
    if (!csv) {
        api_reply_error(r, 400, "bad-table",
                        "table: summary / agencies / monthly / days のいずれかです (got \"%s\")", table);
        return;
    }
    char *disp = xasprintf("attachment; filename=\"tsunagu-stats-%s-%s-%s.csv\"",
                           table ? table : "summary",
                           json_string_value(json_object_get(stats, "from")),
                           json_string_value(json_object_get(stats, "to")));
    evhttp_add_header(evhttp_request_get_output_headers(r->req), "Content-Disposition", disp);
    api_reply_text(r, 200, "text/csv; charset=utf-8", csv, strlen(csv));
    free(disp);
    free(csv);
}

static void h_stats(api_req_t *r)
{
    int64_t from, to;
    const char *district, *format = api_query(r, "format");
    if (!stats_range(r, &from, &to) || !stats_district(r, &district))
        return;
    if (format && strcmp(format, "json") && strcmp(format, "csv")) {
        api_reply_error(r, 400, "bad-format", "format: json または csv です (got \"%s\")", format);
        return;
    }
    json_t *s = stats_compute(r->d->store, tsunagud_city(r->d), api_zone(r), from, to,
                              district, tu_now());
    if (format && !strcmp(format, "csv")) {
        reply_csv(r, s);
        json_decref(s);
    } else {
        reply_json_exact(r, 200, s);
    }
}

/* ---- similar cases ------------------------------------------------------------- */

static bool similar_limit(api_req_t *r, size_t *limit)
{
    const char *v = api_query(r, "limit");
    char *end;
    long n = v ? strtol(v, &end, 10) : 5;
    if (!v || (*v && !*end && n >= 1 && n <= SIMILAR_MAX_LIMIT)) {
        *limit = (size_t)n;
        return true;
    }
    api_reply_error(r, 400, "bad-limit", "limit: 1〜%d の整数で指定してください (got \"%s\")",
                    SIMILAR_MAX_LIMIT, v);
    return false;
}

static json_t *names_json(const strvec_t *v)
{
    json_t *a = json_array();
    for (size_t i = 0; i < v->n; i++)
        json_array_append_new(a, json_string(v->v[i]));
    return a;
}

/* Names of mine that theirs also has, in my order. */
static json_t *shared_json(const strvec_t *mine, const strvec_t *theirs)
{
    json_t *a = json_array();
    for (size_t i = 0; i < mine->n; i++)
        if (strvec_contains(theirs, mine->v[i]))
            json_array_append_new(a, json_string(mine->v[i]));
    return a;
}

static void join_names(strbuf_t *b, const json_t *names)
{
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v)
        strbuf_printf(b, "%s%s", i ? "・" : "", json_string_value(v));
}

/* 「共通: ルール 8050・hikikomori、特徴 ひきこもり・要介護」 */
static char *reason_text(const json_t *rules, const json_t *feats)
{
    strbuf_t b;
    strbuf_init(&b);
    strbuf_puts(&b, "共通: ");
    if (json_array_size(rules)) {
        strbuf_puts(&b, "ルール ");
        join_names(&b, rules);
    }
    if (json_array_size(feats)) {
        strbuf_puts(&b, json_array_size(rules) ? "、特徴 " : "特徴 ");
        join_names(&b, feats);
    }
    return strbuf_detach(&b);
}

static void add_outcome(api_req_t *r, json_t *o, const char *id)
{
    store_case_outcome_t oc;
    store_case_outcome(r->d->store, id, &oc);
    const char *decision = !oc.action ? NULL : !strcmp(oc.action, "override") ? "overridden"
                                                                               : "approved";
    double days = (double)(oc.first_meeting - oc.created) / 86400.0;
    json_object_set_new(o, "status", oc.status ? json_string(oc.status) : json_null());
    json_object_set_new(o, "open", json_boolean(oc.status && !strcmp(oc.status, "open")));
    json_object_set_new(o, "lead", oc.lead ? json_string(oc.lead) : json_null());
    json_object_set_new(o, "supports", json_incref(oc.supports));
    json_object_set_new(o, "decision", decision ? json_string(decision) : json_null());
    json_object_set_new(o, "override_reason",
                        decision && oc.reason && !strcmp(decision, "overridden")
                            ? json_string(oc.reason) : json_null());
    json_object_set_new(o, "days_to_first_meeting",
                        oc.has_meeting ? json_real((double)(long long)(days * 10 + (days < 0 ? -0.5 : 0.5)) / 10.0)
                                       : json_null());
    store_case_outcome_free(&oc);
}

static json_t *hit_json(api_req_t *r, const similar_hit_t *h, const strvec_t *rr,
                        const strvec_t *ff)
{
    strvec_t br, bf;
    strvec_init(&br);
    strvec_init(&bf);
    similar_get(sim_index, h->id, &br, &bf);
    json_t *sr = shared_json(rr, &br), *sf = shared_json(ff, &bf);
    char *reason = reason_text(sr, sf);
    char *doc = store_stats_case_doc(r->d->store, h->id);
    json_t *dj = doc ? json_loads(doc, 0, NULL) : NULL;
    json_t *o = json_pack("{s:s, s:O?, s:f, s:o, s:o, s:s}", "id", h->id,
                          "title", json_object_get(dj, "title"),
                          "sim", (double)(long long)(h->sim * 1000 + 0.5) / 1000.0,
                          "shared_rules", sr, "shared_features", sf, "reason", reason);
    add_outcome(r, o, h->id);
    json_decref(dj);
    free(doc);
    free(reason);
    strvec_free(&br);
    strvec_free(&bf);
    return o;
}

static void h_similar(api_req_t *r)
{
    const char *id = api_param(r, "id");
    size_t limit;
    const ruleset_t *rs;
    if (!similar_limit(r, &limit) || !(rs = rules_or_503(r)))
        return;
    if (!store_case_exists(r->d->store, id)) {
        api_404(r, "ケース", id);
        return;
    }
    if (similar_building(sim_index, rs)) {
        /* building the index for a big store takes seconds: the warm-up
         * timer does it in small steps rather than this request */
        start_warming(r->d, NULL);
        evhttp_add_header(evhttp_request_get_output_headers(r->req), "Retry-After", "2");
        api_reply_error(r, 503, "similar-warming",
                        "似ている事例の索引を準備しています。数秒後にもう一度お試しください (index is being built)");
        return;
    }
    if (similar_sync(sim_index, r->d->store, rs) < 0) {
        api_reply_error(r, 500, "store", "データベースの処理に失敗しました (store error)");
        return;
    }
    similar_hit_t *hits = xcalloc(limit, sizeof *hits);
    long n = similar_query(sim_index, id, limit, hits);
    strvec_t rr, ff;
    strvec_init(&rr);
    strvec_init(&ff);
    similar_get(sim_index, id, &rr, &ff);
    json_t *results = json_array();
    for (long i = 0; i < n; i++)
        json_array_append_new(results, hit_json(r, &hits[i], &rr, &ff));
    json_t *o = json_pack("{s:s, s:o, s:o, s:f, s:i, s:o}", "case", id, "rules", names_json(&rr),
                          "features", names_json(&ff), "threshold", 0.25, "limit", (int)limit,
                          "results", results);
    strvec_free(&rr);
    strvec_free(&ff);
    free(hits);
    reply_json_exact(r, 200, o);
}

/* ---- rule impact ------------------------------------------------------------------ */

static char *impact_body(api_req_t *r, size_t *len)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
    *len = evbuffer_get_length(in);
    if (*len > IMPACT_MAX_BYTES) {
        api_reply_error(r, 413, "too-large", "ルールファイルが大きすぎます: %zu バイト (limit %d)",
                        *len, IMPACT_MAX_BYTES);
        return NULL;
    }
    if (*len == 0) {
        api_reply_error(r, 400, "bad-rules", "本文が空です。候補のルールファイルを送ってください (empty body)");
        return NULL;
    }
    char *buf = xmalloc(*len + 1);
    evbuffer_copyout(in, buf, *len);
    buf[*len] = '\0';
    return buf;
}

static void h_impact(api_req_t *r)
{
    const ruleset_t *cur = rules_or_503(r);
    const city_t *city = cur ? tsunagud_city(r->d) : NULL;
    if (!cur)
        return;
    if (!city) {
        api_reply_error(r, 409, "no-city", "機関の一覧(agencies.json)がまだ取り込まれていません (import the city first)");
        return;
    }
    size_t len;
    char *text = impact_body(r, &len), err[1024];
    if (!text)
        return;
    const char *name = api_query(r, "name");
    ruleset_t *cand = rules_parse(text, len, name && *name ? name : "candidate.rules", err, sizeof err);
    free(text);
    if (!cand) {
        api_reply_error(r, 400, "bad-rules", "%s", err);
        return;
    }
    rules_impact_env_t env;
    rules_impact_env_init(&env, r->d, tu_now());
    json_t *report = rules_impact(r->d->store, city, cur, cand, &env.env);
    rules_impact_env_free(&env);
    rules_free(cand);
    if (report)
        reply_json_exact(r, 200, report);
    else
        api_reply_error(r, 500, "store", "データベースの処理に失敗しました (store error)");
}

static void on_warm_timer(evutil_socket_t fd, short what, void *arg)
{
    tsunagud_t *d = arg;
    const ruleset_t *rs = api_cases_rules();
    bool done = true;
    if (rs && !d->stopping) {
        if (!sim_index)
            sim_index = similar_new();
        if (similar_sync_some(sim_index, d->store, rs, WARM_ROWS, &done) < 0)
            done = true;       /* the next request retries */
    }
    if (!done) {
        struct timeval next = { 0, 1000 };
        evtimer_add(warm_timer, &next);
    }
}

static int start_warming(tsunagud_t *d, void *arg)
{
    if (!d->base)
        return 0;
    if (!warm_timer)
        warm_timer = evtimer_new(d->base, on_warm_timer, d);
    if (!warm_timer)
        return -1;
    if (evtimer_pending(warm_timer, NULL))
        return 0;
    struct timeval soon = { 0, 100000 };
    return evtimer_add(warm_timer, &soon) == 0 ? 0 : -1;
}

static int free_index(tsunagud_t *d, void *arg)
{
    if (warm_timer)
        event_free(warm_timer);
    warm_timer = NULL;
    similar_free(sim_index);
    sim_index = NULL;
    return 0;
}

void api_stats_register(api_t *api)
{
    tsunagud_on_shutdown(free_index, NULL);
    tsunagud_on_reload(start_warming, NULL);      /* the rules may have changed */
    start_warming(api_daemon(api), NULL);
    api_route(api, "GET", "/v1/stats", API_STAFF, API_DATA_CASE, h_stats);
    api_route(api, "GET", "/v1/cases/{id}/similar", API_STAFF, API_DATA_CASE, h_similar);
    api_route(api, "POST", "/v1/rules/impact", API_ADMIN | API_SECRETARIAT, API_DATA_CASE, h_impact);
}
