/*
 * api_cases.c - cases, lead-agency proposals and the secretariat's review.
 *
 *   POST /v1/cases                      create (staff); 201 {case, warnings}
 *   GET  /v1/cases                      list (staff)
 *   GET  /v1/cases/{id}                 staff; an agency only as lead/supporter
 *                                       and when 本人's consent allows it
 *   PUT  /v1/cases/{id}                 replace (staff); open cases only
 *   POST /v1/cases/{id}/close           close; releases the lead's count
 *   POST /v1/cases/{id}/proposals       run the rules -> pending decision (201)
 *                                       or 422 {error, message, ...}
 *   GET  /v1/decisions?status=&case=    list (staff)
 *   GET  /v1/decisions/{id}             the explanation as it was + review;
 *                                       ?recompute=1 re-runs the stored rule
 *                                       text on the stored inputs (audit)
 *   POST /v1/decisions/{id}/approve     secretariat/admin
 *   POST /v1/decisions/{id}/override    {lead, reason}; reason required (400;
 *                                       white space only, 全角空白 too, is none)
 *                                       Only a case's newest decision may be
 *                                       reviewed: an older one is 409 superseded.
 *   GET  /v1/rules                      the active rule set (hash, policy, rules,
 *                                       features: the known feature words)
 *
 * Rules: the file named by config RULES (default rules/default.rules) is
 * loaded when the routes are registered and again on SIGHUP (reload hook).
 * A file that does not parse is logged as file:line:col and the previous
 * rule set stays active.
 *
 * Decisions are append-only (SQLite triggers refuse UPDATE/DELETE): each
 * row holds the actor, the time, the rule-set hash (the rule text itself
 * is kept once in rule_sets), a snapshot of the inputs (case, city, now,
 * the free minutes used by tie-break 2) and the result exactly as it was
 * returned, so GET /v1/decisions/{id} explains it as it was even after the
 * rules changed.  A review (approve/override) is a second append-only row;
 * the case's current lead/supporters and the agencies' lead_cases (in the
 * stored city document, so every reader sees the same load) move in the
 * same transaction.  Re-importing agencies.json resets lead_cases to the
 * document's values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "case.h"
#include "feeds.h"
#include "log.h"
#include "rules.h"
#include "util.h"

#define DEFAULT_RULES_PATH "rules/default.rules"

static ruleset_t *active_rules;

/* ---- rule set lifecycle ------------------------------------------------ */

static const char *rules_path(tsunagud_t *d)
{
    const char *p = config_get(d->config, "RULES");
    return p && *p ? p : DEFAULT_RULES_PATH;
}

static int load_rules(tsunagud_t *d, void *arg)
{
    char err[1024];
    ruleset_t *rs = rules_load_file(rules_path(d), err, sizeof err);
    if (!rs) {
        log_error("rules: %s (%s)", err, active_rules ? "keeping the previous rules"
                                                       : "no rules loaded; proposals unavailable");
        return -1;
    }
    if (active_rules && !strcmp(rules_hash(active_rules), rules_hash(rs))) {
        rules_free(rs);
        return 0;
    }
    rules_free(active_rules);
    active_rules = rs;
    log_info("rules: loaded %s (%s, %zu rules, sha256 %.12s)", rules_filename(rs),
             rules_policy(rs), rules_count(rs), rules_hash(rs));
    return 0;
}

static int free_rules(tsunagud_t *d, void *arg)
{
    rules_free(active_rules);
    active_rules = NULL;
    return 0;
}

static bool need_rules(api_req_t *r)
{
    if (active_rules)
        return true;
    api_reply_error(r, 503, "rules-unavailable",
                    "ルールファイルを読み込めていません。%s を確認して SIGHUP を送ってください (no rules loaded)",
                    rules_path(r->d));
    return false;
}

/* ---- small helpers ----------------------------------------------------- */

static char *actor_of(const api_req_t *r) { return api_actor(r); }

static json_t *load_json_col(sqlite3_stmt *s, int col)
{
    const char *t = store_col_text(s, col);
    json_t *j = t ? json_loads(t, 0, NULL) : NULL;
    return j ? j : json_null();
}

static bool exec_bound(sqlite3_stmt *s)
{
    int rc = s ? sqlite3_step(s) : SQLITE_ERROR;
    store_done(s);
    return rc == SQLITE_DONE;
}

static void store_error(api_req_t *r)
{
    store_rollback(r->d->store);
    log_error("cases: store error: %s", store_errmsg(r->d->store));
    api_reply_error(r, 500, "store", "データベースの処理に失敗しました (store error)");
}

/* ---- cases in the store ------------------------------------------------ */

typedef struct case_row {
    json_t *doc;
    char   *status, *lead;
    json_t *supports;
    int64_t created, updated, closed_at;
} case_row_t;

static void case_row_free(case_row_t *c)
{
    json_decref(c->doc);
    json_decref(c->supports);
    free(c->status);
    free(c->lead);
    memset(c, 0, sizeof *c);
}

static bool case_row_load(store_t *st, const char *id, case_row_t *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = store_prepare(st, "SELECT doc, status, lead, supports, created, updated,"
                                        " closed_at FROM cases WHERE id = ?");
    if (!s)
        return false;
    store_bind_text(s, 1, id);
    bool found = sqlite3_step(s) == SQLITE_ROW;
    if (found) {
        out->doc = load_json_col(s, 0);
        out->status = xstrdup(store_col_text(s, 1));
        out->lead = xstrdup(store_col_text(s, 2));
        out->supports = load_json_col(s, 3);
        out->created = sqlite3_column_int64(s, 4);
        out->updated = sqlite3_column_int64(s, 5);
        out->closed_at = sqlite3_column_int64(s, 6);
    }
    store_done(s);
    return found;
}

static json_t *case_row_json(api_req_t *r, const char *id, const case_row_t *c)
{
    const tz_t *z = api_zone(r);
    return json_pack("{s:s, s:O, s:s, s:O?, s:O, s:o, s:o, s:o}", "id", id, "case", c->doc,
                     "status", c->status, "lead", json_null(), "supports", c->supports,
                     "created", api_time_json(c->created, z, false),
                     "updated", api_time_json(c->updated, z, false),
                     "closed_at", api_time_json(c->closed_at, z, true));
}

static void set_lead_field(json_t *o, const char *lead)
{
    json_object_set_new(o, "lead", lead ? json_string(lead) : json_null());
}

/* Replies 404 / 409 itself; true when the case exists (and is open when
 * must_be_open). */
static bool case_for_write(api_req_t *r, const char *id, case_row_t *row, bool must_be_open)
{
    if (!case_row_load(r->d->store, id, row)) {
        api_404(r, "ケース", id);
        return false;
    }
    if (must_be_open && strcmp(row->status, "open") != 0) {
        api_reply_error(r, 409, "case-closed", "ケース %s は終結しています (case is closed)", id);
        case_row_free(row);
        return false;
    }
    return true;
}

/* Validate a request body as a case: structure, references into the city,
 * feature warnings.  Replies 400 itself on error. */
static bool validate_case(api_req_t *r, const json_t *body, case_t *c, json_t **warnings)
{
    char err[1024];
    if (!case_from_json(body, c, err, sizeof err)) {
        api_reply_error(r, 400, "bad-case", "%s", err);
        return false;
    }
    const city_t *city = tsunagud_city(r->d);
    if (city && !case_check_city(c, city, err, sizeof err)) {
        api_reply_error(r, 400, "bad-case", "%s", err);
        case_free(c);
        return false;
    }
    strvec_t known, w;
    strvec_init(&known);
    strvec_init(&w);
    if (active_rules)
        rules_known_features(active_rules, &known);
    else
        for (const char *const *f = case_base_features(); *f; f++)
            strvec_push(&known, *f);
    case_feature_warnings(c, &known, &w);
    *warnings = json_array();
    for (size_t i = 0; i < w.n; i++)
        json_array_append_new(*warnings, json_string(w.v[i]));
    strvec_free(&known);
    strvec_free(&w);
    return true;
}

static json_t *body_with_id(api_req_t *r, const char *id)
{
    json_t *body = api_json_body(r, 0);
    if (!body)
        return NULL;
    if (!json_is_object(body)) {
        api_reply_error(r, 400, "bad-case", "case: JSON オブジェクトが必要です (expected an object)");
        json_decref(body);
        return NULL;
    }
    const char *bid = json_string_value(json_object_get(body, "id"));
    if (id && bid && strcmp(bid, id)) {
        api_reply_error(r, 400, "bad-case", "id: URL のケースID (%s) と本文の id (%s) が違います", id, bid);
        json_decref(body);
        return NULL;
    }
    if (id && !bid)
        json_object_set_new(body, "id", json_string(id));
    return body;
}

static void reply_case_saved(api_req_t *r, int status, const case_t *c, json_t *warnings)
{
    case_row_t row;
    if (!case_row_load(r->d->store, c->id, &row)) {
        json_decref(warnings);
        store_error(r);
        return;
    }
    json_t *o = case_row_json(r, c->id, &row);
    set_lead_field(o, row.lead);
    json_object_set_new(o, "warnings", warnings);
    case_row_free(&row);
    api_reply_json(r, status, o);
}

/* The end of a case write: the saved case with status when ok, else the
 * store error; takes warnings and frees c either way. */
/* The request body as a validated case (id from the path when given);
 * false after replying 400. */
static bool read_case_body(api_req_t *r, const char *id, case_t *c, json_t **warnings)
{
    json_t *body = body_with_id(r, id);
    if (!body)
        return false;
    bool ok = validate_case(r, body, c, warnings);
    json_decref(body);
    return ok;
}

static void finish_case_write(api_req_t *r, bool ok, int status, case_t *c, json_t *warnings)
{
    if (ok)
        reply_case_saved(r, status, c, warnings);
    else {
        json_decref(warnings);
        store_error(r);
    }
    case_free(c);
}

static void h_case_create(api_req_t *r)
{
    json_t *warnings;
    case_t c;
    if (!read_case_body(r, NULL, &c, &warnings))
        return;
    case_row_t existing;
    if (case_row_load(r->d->store, c.id, &existing)) {
        case_row_free(&existing);
        api_reply_error(r, 409, "exists", "ケース %s はすでに登録されています。更新は PUT を使ってください (exists)", c.id);
        json_decref(warnings);
        case_free(&c);
        return;
    }
    sqlite3_stmt *s = store_prepare(r->d->store,
        "INSERT INTO cases(id, doc, created, updated, created_by) VALUES (?, ?, ?, ?, ?)");
    json_t *doc = case_to_json(&c);
    char *text = json_dumps(doc, JSON_COMPACT), *actor = actor_of(r);
    int64_t now = tu_now();
    if (s) {
        store_bind_text(s, 1, c.id);
        store_bind_text(s, 2, text);
        sqlite3_bind_int64(s, 3, now);
        sqlite3_bind_int64(s, 4, now);
        store_bind_text(s, 5, actor);
    }
    bool ok = exec_bound(s);
    free(text);
    free(actor);
    json_decref(doc);
    finish_case_write(r, ok, 201, &c, warnings);
}

static void h_case_put(api_req_t *r)
{
    const char *id = api_param(r, "id");
    case_row_t row;
    if (!case_for_write(r, id, &row, true))
        return;
    case_row_free(&row);
    json_t *warnings;
    case_t c;
    if (!read_case_body(r, id, &c, &warnings))
        return;
    sqlite3_stmt *s = store_prepare(r->d->store, "UPDATE cases SET doc = ?, updated = ? WHERE id = ?");
    json_t *doc = case_to_json(&c);
    char *text = json_dumps(doc, JSON_COMPACT);
    if (s) {
        store_bind_text(s, 1, text);
        sqlite3_bind_int64(s, 2, tu_now());
        store_bind_text(s, 3, id);
    }
    bool ok = exec_bound(s);
    free(text);
    json_decref(doc);
    finish_case_write(r, ok, 200, &c, warnings);
}

/* Agency tokens: the approved lead or a supporter, and 本人's consent must
 * allow sharing with that agency (重層的支援会議: consent given and the
 * agency not excluded; 支援会議 shares under the confidentiality duty). */
static bool agency_may_read(const api_req_t *r, const case_row_t *row)
{
    const char *me = r->auth.agency;
    bool involved = row->lead && !strcmp(row->lead, me);
    size_t i;
    json_t *v;
    json_array_foreach(row->supports, i, v)
        involved |= json_is_string(v) && !strcmp(json_string_value(v), me);
    if (!involved)
        return false;
    case_t c;
    char err[256];
    if (!case_from_json(row->doc, &c, err, sizeof err))
        return false;
    const case_member_t *self = case_self(&c);
    bool ok = true;
    if (!strcmp(c.meeting_type, CASE_MEETING_JUUSOU))
        ok = self && self->consent && !strvec_contains(&self->consent_excludes, me);
    case_free(&c);
    return ok;
}

static void h_case_get(api_req_t *r)
{
    const char *id = api_param(r, "id");
    case_row_t row;
    if (!case_row_load(r->d->store, id, &row)) {
        /* agencies get the same answer for unknown and forbidden cases */
        if (api_is_staff(r))
            api_404(r, "ケース", id);
        else
            api_reply_error(r, 403, "forbidden", "このケースは閲覧できません (forbidden)");
        return;
    }
    if (!api_is_staff(r) && !agency_may_read(r, &row)) {
        case_row_free(&row);
        api_reply_error(r, 403, "forbidden",
                        "このケースは閲覧できません。主担当・支援機関で、本人の同意がある場合のみ閲覧できます (forbidden)");
        return;
    }
    json_t *o = case_row_json(r, id, &row);
    set_lead_field(o, row.lead);
    case_row_free(&row);
    api_reply_json(r, 200, o);
}

static void h_case_list(api_req_t *r)
{
    sqlite3_stmt *s = store_prepare(r->d->store,
        "SELECT id, status, lead, json_extract(doc, '$.title') FROM cases ORDER BY created, id");
    if (!s) {
        store_error(r);
        return;
    }
    json_t *arr = json_array();
    while (sqlite3_step(s) == SQLITE_ROW)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s?, s:s?}", "id", store_col_text(s, 0),
                              "status", store_col_text(s, 1), "lead", store_col_text(s, 2),
                              "title", store_col_text(s, 3)));
    store_done(s);
    api_reply_json(r, 200, json_pack("{s:o}", "cases", arr));
}

/* ---- lead counts ------------------------------------------------------- */

/* Move an agency's lead_cases by delta (never below 0) in both the city
 * document and the agency row.  Unknown agencies (removed by a re-import)
 * are skipped. */
static bool adjust_lead_cases(store_t *st, const char *agency, int delta)
{
    json_t *city = store_city_json(st);
    if (!city)
        return true;
    json_t *a = NULL, *v;
    size_t i;
    json_array_foreach(json_object_get(city, "agencies"), i, v)
        if (json_is_string(json_object_get(v, "id")) &&
            !strcmp(json_string_value(json_object_get(v, "id")), agency))
            a = v;
    bool ok = true;
    if (a) {
        json_int_t n = json_integer_value(json_object_get(a, "lead_cases")) + delta;
        json_object_set_new(a, "lead_cases", json_integer(n < 0 ? 0 : n));
        char *text = json_dumps(city, JSON_COMPACT);
        sqlite3_stmt *s = store_prepare(st, "UPDATE city SET doc = ? WHERE id = 1");
        if (s)
            store_bind_text(s, 1, text);
        ok = exec_bound(s);
        free(text);
        s = store_prepare(st, "UPDATE agencies SET doc = json_set(doc, '$.lead_cases', ?) WHERE id = ?");
        if (s) {
            sqlite3_bind_int64(s, 1, n < 0 ? 0 : n);
            store_bind_text(s, 2, agency);
        }
        ok = ok && exec_bound(s);
    }
    json_decref(city);
    return ok;
}

static void h_case_close(api_req_t *r)
{
    const char *id = api_param(r, "id");
    case_row_t row;
    if (!case_for_write(r, id, &row, true))
        return;
    store_t *st = r->d->store;
    bool ok = store_begin(st) == 0;
    sqlite3_stmt *s = ok ? store_prepare(st, "UPDATE cases SET status = 'closed', closed_at = ?,"
                                             " updated = ? WHERE id = ?") : NULL;
    if (s) {
        sqlite3_bind_int64(s, 1, tu_now());
        sqlite3_bind_int64(s, 2, tu_now());
        store_bind_text(s, 3, id);
    }
    ok = ok && exec_bound(s) && (!row.lead || adjust_lead_cases(st, row.lead, -1)) &&
         store_commit(st) == 0;
    if (!ok) {
        case_row_free(&row);
        store_error(r);
        return;
    }
    tsunagud_city_changed(r->d);
    log_info("cases: %s closed%s%s", id, row.lead ? ", released lead " : "", row.lead ? row.lead : "");
    json_t *o = json_pack("{s:s, s:s}", "id", id, "status", "closed");
    json_object_set_new(o, "released", row.lead ? json_string(row.lead) : json_null());
    case_row_free(&row);
    api_reply_json(r, 200, o);
}

/* ---- proposals --------------------------------------------------------- */

typedef struct free_ctx {
    tsunagud_t *d;
    int64_t     now;
    json_t     *used;      /* {agency: minutes | null}, for the snapshot */
} free_ctx_t;

/* Tie-break 2 from the ingested calendars.  Unknown (-1) while any of the
 * agency's feeds has never been fetched: an empty busy set would read as
 * "completely free" and win ties unfairly. */
static int64_t daemon_free_minutes(void *arg, const agency_t *a, int days)
{
    free_ctx_t *fc = arg;
    agency_busy_t ab;
    int64_t to = fc->now + (int64_t)(days * 2 + 21) * 86400;
    int64_t m = -1;
    if (feeds_agency_busy(fc->d->store, a->id, fc->now, to, &ab)) {
        if (!ab.any_pending) {
            const ivset_t **sets = xcalloc(ab.ncal + 1, sizeof *sets);
            for (size_t i = 0; i < ab.ncal; i++)
                sets[i] = &ab.busy[i];
            m = rules_free_working_minutes(tsunagud_city(fc->d), a, sets, ab.ncal, fc->now, days);
            free(sets);
        }
        agency_busy_free(&ab);
    }
    json_object_set_new(fc->used, a->id, m < 0 ? json_null() : json_integer(m));
    return m;
}

static bool save_rule_set(store_t *st, const ruleset_t *rs)
{
    sqlite3_stmt *s = store_prepare(st, "INSERT OR IGNORE INTO rule_sets(hash, filename, policy,"
                                        " source, first_used) VALUES (?, ?, ?, ?, ?)");
    if (s) {
        store_bind_text(s, 1, rules_hash(rs));
        store_bind_text(s, 2, rules_filename(rs));
        store_bind_text(s, 3, rules_policy(rs));
        store_bind_text(s, 4, rules_source(rs));
        sqlite3_bind_int64(s, 5, tu_now());
    }
    return exec_bound(s);
}

static int64_t save_decision(api_req_t *r, const char *case_id, const char *lead,
                             json_t *inputs, json_t *result)
{
    store_t *st = r->d->store;
    char *in = json_dumps(inputs, JSON_COMPACT), *out = json_dumps(result, JSON_COMPACT);
    char *actor = actor_of(r);
    int64_t id = -1;
    if (store_begin(st) == 0 && save_rule_set(st, active_rules)) {
        sqlite3_stmt *s = store_prepare(st, "INSERT INTO decisions(case_id, created, actor,"
                                            " rules_hash, proposed_lead, inputs, result)"
                                            " VALUES (?, ?, ?, ?, ?, ?, ?)");
        if (s) {
            store_bind_text(s, 1, case_id);
            sqlite3_bind_int64(s, 2, tu_now());
            store_bind_text(s, 3, actor);
            store_bind_text(s, 4, rules_hash(active_rules));
            store_bind_text(s, 5, lead);
            store_bind_text(s, 6, in);
            store_bind_text(s, 7, out);
        }
        if (exec_bound(s) && store_commit(st) == 0)
            id = sqlite3_last_insert_rowid(store_db(st));
    }
    if (id < 0)
        store_rollback(st);
    free(in);
    free(out);
    free(actor);
    return id;
}

static json_t *snapshot(api_req_t *r, const json_t *case_doc, int64_t now, json_t *free_used)
{
    json_t *city = store_city_json(r->d->store);
    char iso[TU_ISO_LEN];
    return json_pack("{s:O, s:o, s:s, s:O}", "case", case_doc, "city", city ? city : json_null(),
                     "now", tu_format_iso8601(now, api_zone(r), iso), "free_minutes", free_used);
}

static void h_proposal(api_req_t *r)
{
    const char *id = api_param(r, "id");
    case_row_t row;
    const city_t *city = tsunagud_city(r->d);
    if (!need_rules(r) || !case_for_write(r, id, &row, true))
        return;
    case_t c;
    char err[1024];
    if (!city) {
        case_row_free(&row);
        api_reply_error(r, 409, "no-city", "機関の一覧(agencies.json)がまだ取り込まれていません (import the city first)");
        return;
    }
    if (!case_from_json(row.doc, &c, err, sizeof err) || !case_check_city(&c, city, err, sizeof err)) {
        case_row_free(&row);
        api_reply_error(r, 409, "stale-case", "%s。ケースを PUT で直してください", err);
        return;
    }
    free_ctx_t fc = { r->d, tu_now(), json_object() };
    rules_env_t env = { daemon_free_minutes, &fc };
    proposal_t p;
    rules_propose(active_rules, city, &c, &env, &p);
    json_t *result = rules_explain_json(&p);
    if (p.status != PROPOSAL_OK) {
        api_reply_json(r, 422, result);
    } else {
        json_t *inputs = snapshot(r, row.doc, fc.now, fc.used);
        const char *lead = p.cands[p.lead.chosen].agency->id;
        int64_t did = save_decision(r, id, lead, inputs, result);
        json_decref(inputs);
        if (did < 0) {
            json_decref(result);
            store_error(r);
        } else {
            json_object_set_new(result, "decision", json_integer(did));
            json_object_set_new(result, "status", json_string("pending"));
            log_info("cases: proposal for %s -> decision %lld, lead %s", id, (long long)did, lead);
            api_reply_json(r, 201, result);
        }
    }
    json_decref(fc.used);
    proposal_free(&p);
    case_free(&c);
    case_row_free(&row);
}

/* ---- decisions --------------------------------------------------------- */

#define DECISION_SELECT \
    "SELECT d.id, d.case_id, d.created, d.actor, d.rules_hash, d.proposed_lead, d.result," \
    " v.action, v.lead, v.supports, v.reason, v.actor, v.at, d.inputs, rs.policy" \
    " FROM decisions d LEFT JOIN decision_reviews v ON v.decision_id = d.id" \
    " LEFT JOIN rule_sets rs ON rs.hash = d.rules_hash"

static const char *status_of(const char *action)
{
    return !action ? "pending" : !strcmp(action, "approve") ? "approved" : "overridden";
}

static json_t *decision_row_json(api_req_t *r, sqlite3_stmt *s, bool full)
{
    const tz_t *z = api_zone(r);
    const char *action = store_col_text(s, 7);
    json_t *o = json_pack("{s:I, s:s, s:o, s:s, s:s, s:s?, s:s, s:s, s:b}",
        "id", (json_int_t)sqlite3_column_int64(s, 0), "case", store_col_text(s, 1),
        "created", api_time_json(sqlite3_column_int64(s, 2), z, false),
        "actor", store_col_text(s, 3), "rules_hash", store_col_text(s, 4),
        "policy", store_col_text(s, 14), "proposed_lead", store_col_text(s, 5),
        "status", status_of(action),
        "rules_current", active_rules && !strcmp(rules_hash(active_rules), store_col_text(s, 4)));
    if (action)
        json_object_set_new(o, "review", json_pack("{s:s, s:s, s:o, s:s?, s:s, s:o}",
            "action", action, "lead", store_col_text(s, 8), "supports", load_json_col(s, 9),
            "reason", store_col_text(s, 10), "actor", store_col_text(s, 11),
            "at", api_time_json(sqlite3_column_int64(s, 12), z, false)));
    else
        json_object_set_new(o, "review", json_null());
    if (full) {
        json_object_set_new(o, "result", load_json_col(s, 6));
        json_object_set_new(o, "inputs", load_json_col(s, 13));
    }
    return o;
}

static bool parse_decision_id(const char *s, int64_t *out)
{
    char *end;
    long long v = s ? strtoll(s, &end, 10) : 0;
    if (!s || !*s || *end || v <= 0)
        return false;
    *out = v;
    return true;
}

/* The decision as JSON (full) or NULL when unknown; replies 404 itself. */
static json_t *decision_json(api_req_t *r, const char *sid, bool full)
{
    int64_t id;
    json_t *o = NULL;
    sqlite3_stmt *s = NULL;
    if (parse_decision_id(sid, &id) &&
        (s = store_prepare(r->d->store, DECISION_SELECT " WHERE d.id = ?"))) {
        sqlite3_bind_int64(s, 1, id);
        if (sqlite3_step(s) == SQLITE_ROW)
            o = decision_row_json(r, s, full);
        store_done(s);
    }
    if (!o)
        api_404(r, "決定", sid ? sid : "");
    return o;
}

/* ---- re-explaining a stored decision ------------------------------------ */

typedef struct snap_free {
    const json_t *minutes;     /* {agency: minutes | null} as recorded */
} snap_free_t;

static int64_t snapshot_free_minutes(void *arg, const agency_t *a, int days)
{
    const json_t *v = json_object_get(((snap_free_t *)arg)->minutes, a->id);
    return json_is_integer(v) ? json_integer_value(v) : -1;
}

static char *rule_source(store_t *st, const char *hash)
{
    sqlite3_stmt *s = store_prepare(st, "SELECT source FROM rule_sets WHERE hash = ?");
    char *src = NULL;
    if (s) {
        store_bind_text(s, 1, hash);
        if (sqlite3_step(s) == SQLITE_ROW)
            src = xstrdup(store_col_text(s, 0));
        store_done(s);
    }
    return src;
}

/* Run the stored rule text on the stored inputs again.  Returns the new
 * result, or NULL with err. */
static json_t *recompute(api_req_t *r, const json_t *d, char *err, size_t errlen)
{
    const json_t *in = json_object_get(d, "inputs");
    char *src = rule_source(r->d->store, json_string_value(json_object_get(d, "rules_hash")));
    ruleset_t *rs = src ? rules_parse(src, strlen(src), "stored", err, errlen) : NULL;
    city_t city;
    case_t c;
    json_t *out = NULL;
    if (!src)
        snprintf(err, errlen, "rule set not stored");
    else if (rs && city_from_json(json_object_get(in, "city"), NULL, &city, err, errlen)) {
        if (case_from_json(json_object_get(in, "case"), &c, err, errlen)) {
            snap_free_t sf = { json_object_get(in, "free_minutes") };
            rules_env_t env = { snapshot_free_minutes, &sf };
            proposal_t p;
            rules_propose(rs, &city, &c, &env, &p);
            out = rules_explain_json(&p);
            proposal_free(&p);
            case_free(&c);
        }
        city_free(&city);
    }
    rules_free(rs);
    free(src);
    return out;
}

static void h_decision_get(api_req_t *r)
{
    json_t *o = decision_json(r, api_param(r, "id"), true);
    if (!o)
        return;
    const char *q = api_query(r, "recompute");
    if (q && strcmp(q, "0")) {
        char err[512] = "";
        json_t *again = recompute(r, o, err, sizeof err);
        json_object_set_new(o, "recomputed", again ? again : json_null());
        json_object_set_new(o, "reproducible",
                            json_boolean(again && json_equal(again, json_object_get(o, "result"))));
        if (!again)
            json_object_set_new(o, "recompute_error", json_string(err));
    }
    api_reply_json(r, 200, o);
}

static void h_decision_list(api_req_t *r)
{
    const char *status = api_query(r, "status"), *case_id = api_query(r, "case");
    if (status && strcmp(status, "pending") && strcmp(status, "approved") && strcmp(status, "overridden")) {
        api_reply_error(r, 400, "bad-status", "status は pending / approved / overridden のいずれかです (got \"%s\")", status);
        return;
    }
    strbuf_t sql;
    strbuf_init(&sql);
    strbuf_printf(&sql, "%s WHERE (?1 IS NULL OR d.case_id = ?1) AND (?2 IS NULL OR"
                  " (?2 = 'pending' AND v.action IS NULL) OR (?2 = 'approved' AND v.action = 'approve')"
                  " OR (?2 = 'overridden' AND v.action = 'override')) ORDER BY d.id", DECISION_SELECT);
    sqlite3_stmt *s = store_prepare(r->d->store, sql.s);
    strbuf_free(&sql);
    if (!s) {
        store_error(r);
        return;
    }
    store_bind_text(s, 1, case_id);
    store_bind_text(s, 2, status);
    json_t *arr = json_array();
    while (sqlite3_step(s) == SQLITE_ROW)
        json_array_append_new(arr, decision_row_json(r, s, false));
    store_done(s);
    api_reply_json(r, 200, json_pack("{s:o}", "decisions", arr));
}

/* Record a review and move the case's lead/supporters and the counts. */
static bool record_review(api_req_t *r, int64_t did, const char *case_id, const char *action,
                          const char *lead, json_t *supports, const char *reason)
{
    store_t *st = r->d->store;
    case_row_t row;
    if (!case_row_load(st, case_id, &row))
        return false;
    char *sup = json_dumps(supports, JSON_COMPACT), *actor = actor_of(r);
    bool ok = store_begin(st) == 0;
    sqlite3_stmt *s = ok ? store_prepare(st, "INSERT INTO decision_reviews(decision_id, action,"
                                             " lead, supports, reason, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?)") : NULL;
    if (s) {
        sqlite3_bind_int64(s, 1, did);
        store_bind_text(s, 2, action);
        store_bind_text(s, 3, lead);
        store_bind_text(s, 4, sup);
        store_bind_text(s, 5, reason);
        store_bind_text(s, 6, actor);
        sqlite3_bind_int64(s, 7, tu_now());
    }
    ok = ok && exec_bound(s);
    s = ok ? store_prepare(st, "UPDATE cases SET lead = ?, supports = ?, updated = ? WHERE id = ?") : NULL;
    if (s) {
        store_bind_text(s, 1, lead);
        store_bind_text(s, 2, sup);
        sqlite3_bind_int64(s, 3, tu_now());
        store_bind_text(s, 4, case_id);
    }
    ok = ok && exec_bound(s) && (!row.lead || adjust_lead_cases(st, row.lead, -1)) &&
         adjust_lead_cases(st, lead, +1) && store_commit(st) == 0;
    if (!ok)
        store_rollback(st);
    free(sup);
    free(actor);
    case_row_free(&row);
    return ok;
}

/* The newest decision on the same case when it is newer than d, else 0:
 * only the latest proposal of a case may be reviewed. */
static int64_t newer_decision(store_t *st, const json_t *d)
{
    sqlite3_stmt *s = store_prepare(st, "SELECT MAX(id) FROM decisions WHERE case_id = ? AND id > ?");
    int64_t newer = 0;
    if (s) {
        store_bind_text(s, 1, json_string_value(json_object_get(d, "case")));
        sqlite3_bind_int64(s, 2, json_integer_value(json_object_get(d, "id")));
        if (sqlite3_step(s) == SQLITE_ROW)
            newer = sqlite3_column_int64(s, 0);
        store_done(s);
    }
    return newer;
}

/* Loads the pending decision for a review; replies itself on failure. */
static json_t *pending_decision(api_req_t *r)
{
    json_t *d = decision_json(r, api_param(r, "id"), true);
    if (!d)
        return NULL;
    if (strcmp(json_string_value(json_object_get(d, "status")), "pending")) {
        api_reply_error(r, 409, "already-reviewed", "決定 %s はすでに%sされています (already reviewed)",
                        api_param(r, "id"),
                        !strcmp(json_string_value(json_object_get(d, "status")), "approved") ? "承認" : "変更");
        json_decref(d);
        return NULL;
    }
    int64_t newer = newer_decision(r->d->store, d);
    if (newer) {
        api_reply_error(r, 409, "superseded",
                        "決定 %s より新しい提案(決定 %lld)があるため、古い提案は審査できません。新しい提案を審査してください (superseded by a newer proposal)",
                        api_param(r, "id"), (long long)newer);
        json_decref(d);
        return NULL;
    }
    case_row_t row;
    const char *case_id = json_string_value(json_object_get(d, "case"));
    if (!case_for_write(r, case_id, &row, true)) {
        json_decref(d);
        return NULL;
    }
    case_row_free(&row);
    return d;
}

static void finish_review(api_req_t *r, json_t *d, const char *action, const char *lead,
                          json_t *supports, const char *reason)
{
    int64_t did = json_integer_value(json_object_get(d, "id"));
    const char *case_id = json_string_value(json_object_get(d, "case"));
    if (!record_review(r, did, case_id, action, lead, supports, reason)) {
        json_decref(d);
        json_decref(supports);
        store_error(r);
        return;
    }
    tsunagud_city_changed(r->d);
    log_info("cases: decision %lld %s, case %s lead %s", (long long)did, action, case_id, lead);
    json_decref(d);
    json_decref(supports);
    char sid[32];
    snprintf(sid, sizeof sid, "%lld", (long long)did);
    json_t *o = decision_json(r, sid, true);
    if (o)
        api_reply_json(r, 200, o);
}

static void h_decision_approve(api_req_t *r)
{
    json_t *d = pending_decision(r);
    if (!d)
        return;
    json_t *result = json_object_get(d, "result");
    char *lead = xstrdup(json_string_value(json_object_get(result, "lead")));
    json_t *supports = json_deep_copy(json_object_get(result, "supports"));
    finish_review(r, d, "approve", lead, supports ? supports : json_array(), NULL);
    free(lead);
}

/* The secretariat may choose any agency, but never one 本人 excluded
 * under 重層的支援会議, nor a non-member under 支援会議. */
static bool override_lead_ok(api_req_t *r, const json_t *d, const char *lead)
{
    const city_t *city = tsunagud_city(r->d);
    if (!city || !city_agency(city, lead)) {
        api_reply_error(r, 400, "bad-lead", "lead: 未登録の機関「%s」です (unknown agency)", lead);
        return false;
    }
    case_t c;
    char err[256];
    const json_t *doc = json_object_get(json_object_get(d, "inputs"), "case");
    if (case_from_json(doc, &c, err, sizeof err)) {
        const case_member_t *self = case_self(&c);
        bool excluded = !strcmp(c.meeting_type, CASE_MEETING_JUUSOU) && self &&
                        strvec_contains(&self->consent_excludes, lead);
        bool outsider = !strcmp(c.meeting_type, CASE_MEETING_SUPPORT) &&
                        !city_agency(city, lead)->support_meeting_member;
        case_free(&c);
        if (outsider) {
            api_reply_error(r, 422, "not-member",
                            "「%s」は支援会議の構成員ではないため、守秘義務のある支援会議の主担当にできません。構成員の機関を選んでください (not a support-meeting member)",
                            lead);
            return false;
        }
        if (excluded) {
            api_reply_error(r, 422, "consent-excluded",
                            "本人が「%s」への情報提供に同意していないため、主担当にできません。別の機関を選ぶか、支援会議で検討してください (excluded by consent)",
                            lead);
            return false;
        }
    }
    return true;
}

/* Length of the white-space character at s (ASCII, NBSP, U+1680,
 * U+2000-U+200A, U+2028/2029, U+202F, U+205F, U+3000 全角空白, BOM), or 0. */
static size_t space_len(const unsigned char *s)
{
    if (*s == ' ' || (*s >= '\t' && *s <= '\r'))
        return 1;
    if (s[0] == 0xC2 && s[1] == 0xA0)
        return 2;
    if (s[0] == 0xE1 && s[1] == 0x9A && s[2] == 0x80)
        return 3;
    if (s[0] == 0xE2 && s[1] == 0x80 && (s[2] <= 0x8A || s[2] == 0xA8 || s[2] == 0xA9 || s[2] == 0xAF))
        return 3;
    if (s[0] == 0xE2 && s[1] == 0x81 && s[2] == 0x9F)
        return 3;
    if ((s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80) || (s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF))
        return 3;
    return 0;
}

/* A copy of valid UTF-8 text without leading/trailing white space. */
static char *trim_space(const char *text)
{
    const unsigned char *s = (const unsigned char *)text, *last = s;
    size_t n;
    while ((n = space_len(s)))
        s += n;
    for (const unsigned char *p = s; *p; ) {
        if ((n = space_len(p))) {
            p += n;
        } else {
            p += (*p < 0x80) ? 1 : (*p >= 0xF0) ? 4 : (*p >= 0xE0) ? 3 : 2;
            last = p;
        }
    }
    return xstrndup((const char *)s, last > s ? (size_t)(last - s) : 0);
}

static void h_decision_override(api_req_t *r)
{
    json_t *body = api_json_body(r, 64 * 1024);
    if (!body)
        return;
    const char *lead = json_string_value(json_object_get(body, "lead"));
    const char *given = json_string_value(json_object_get(body, "reason"));
    char *reason = given && utf8_valid(given, strlen(given)) ? trim_space(given) : NULL;
    if (!reason || !*reason) {
        free(reason);
        api_reply_error(r, 400, "reason-required",
                        "reason: 提案と違う主担当にする理由を書いてください(監査のため必須です) (a reason is required)");
        json_decref(body);
        return;
    }
    if (!lead || !*lead) {
        api_reply_error(r, 400, "bad-lead", "lead: 主担当にする機関IDが必要です (lead is required)");
        free(reason);
        json_decref(body);
        return;
    }
    json_t *d = pending_decision(r);
    if (d && override_lead_ok(r, d, lead)) {
        json_t *supports = json_array(), *v;
        size_t i;
        json_array_foreach(json_object_get(json_object_get(d, "result"), "supports"), i, v)
            if (strcmp(json_string_value(v), lead))
                json_array_append(supports, v);
        finish_review(r, d, "override", lead, supports, reason);
    } else {
        json_decref(d);
    }
    free(reason);
    json_decref(body);
}

static void h_rules_get(api_req_t *r)
{
    if (!need_rules(r))
        return;
    json_t *arr = json_array();
    for (size_t i = 0; i < rules_count(active_rules); i++)
        json_array_append_new(arr, json_pack("{s:s, s:s}", "id", rules_rule_id(active_rules, i),
                                             "reason", rules_rule_reason(active_rules, i)));
    strvec_t known;                 /* the feature words these rules know (UI vocabulary) */
    strvec_init(&known);
    rules_known_features(active_rules, &known);
    json_t *features = json_array();
    for (size_t i = 0; i < known.n; i++)
        json_array_append_new(features, json_string(known.v[i]));
    strvec_free(&known);
    api_reply_json(r, 200, json_pack("{s:s, s:s, s:s, s:o, s:o}", "file", rules_filename(active_rules),
                                     "policy", rules_policy(active_rules), "hash",
                                     rules_hash(active_rules), "rules", arr, "features", features));
}

void api_cases_register(api_t *api)
{
    tsunagud_t *d = api_daemon(api);
    load_rules(d, NULL);
    tsunagud_on_reload(load_rules, NULL);
    tsunagud_on_shutdown(free_rules, NULL);
    unsigned review = API_ADMIN | API_SECRETARIAT;
    api_route(api, "POST", "/v1/cases", API_STAFF, h_case_create);
    api_route(api, "GET", "/v1/cases", API_STAFF, h_case_list);
    api_route(api, "GET", "/v1/cases/{id}", API_ANY, h_case_get);
    api_route(api, "PUT", "/v1/cases/{id}", API_STAFF, h_case_put);
    api_route(api, "POST", "/v1/cases/{id}/close", API_STAFF, h_case_close);
    api_route(api, "POST", "/v1/cases/{id}/proposals", API_STAFF, h_proposal);
    api_route(api, "GET", "/v1/decisions", API_STAFF, h_decision_list);
    api_route(api, "GET", "/v1/decisions/{id}", API_STAFF, h_decision_get);
    api_route(api, "POST", "/v1/decisions/{id}/approve", review, h_decision_approve);
    api_route(api, "POST", "/v1/decisions/{id}/override", review, h_decision_override);
    api_route(api, "GET", "/v1/rules", API_STAFF, h_rules_get);
}
