/* SPDX-License-Identifier: MIT */
/*
 * api_cases.c - cases, lead-agency proposals and the secretariat's review.
 *
 *   POST /v1/cases                      create (staff); 201 {case, warnings}
 *   GET  /v1/cases                      list (staff)
 *   GET  /v1/cases/{id}                 staff; an agency only as lead/supporter
 *                                       and when 本人's consent allows it
 *   PUT  /v1/cases/{id}                 replace (staff); open cases only.  In
 *                                       the same transaction, booked meetings
 *                                       follow 本人's consent (meetings_consent.c);
 *                                       "meetings" lists what changed
 *   GET  /v1/cases/{id}/audit           the case's audit trail (staff)
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
 * Rules: the file named by config RULES (default rules_default_path()) is
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
 * the case's current lead/supporters move in the same transaction.  An
 * agency's lead_cases is derived (store_city.c): the base carried in by
 * agencies.json plus the open cases it leads, so approving, closing and
 * re-importing never lose or double-count a lead.
 *
 * The SQL lives in daemon/store (store_cases.c, store_decisions.c,
 * store_audit.c); what a consent change does to booked meetings lives in
 * daemon/service/meetings_consent.c.  This file validates, applies the
 * read rules and answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "case.h"
#include "ids.h"
#include "log.h"
#include "meetings.h"
#include "outbox.h"
#include "rules.h"
#include "rules_impact.h"
#include "store_audit.h"
#include "store_cases.h"
#include "store_decisions.h"
#include "util.h"

static ruleset_t *active_rules;
static char *default_rules;     /* rules_default_path(), found once */

/* ---- rule set lifecycle ------------------------------------------------ */

static const char *rules_path(tsunagud_t *d)
{
    const char *p = config_get(d->config, "RULES");
    if (p && *p)
        return p;
    if (!default_rules)
        default_rules = rules_default_path(NULL);
    return default_rules;
}

static int load_rules(tsunagud_t *d, void *arg)
{
    char err[1024];
    ruleset_t *rs = rules_load_file(rules_path(d), err, sizeof err);
    if (!rs) {
        const char *set = config_get(d->config, "RULES");
        log_error("rules: %s (%s)%s", err,
                  active_rules ? "keeping the previous rules" : "no rules loaded; proposals unavailable",
                  set && *set ? "" : ": RULES にルールファイルのパスを設定してください (set RULES)");
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
    free(default_rules);
    default_rules = NULL;
    return 0;
}

const ruleset_t *api_cases_rules(void) { return active_rules; }

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

static void store_error(api_req_t *r)
{
    store_rollback(r->d->store);
    log_error("cases: store error: %s", store_errmsg(r->d->store));
    api_reply_error(r, 500, "store", "データベースの処理に失敗しました (store error)");
}

/* ---- cases in the store (store_cases.h) --------------------------------- */

static json_t *case_row_json(api_req_t *r, const char *id, const store_case_t *c)
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
static bool case_for_write(api_req_t *r, const char *id, store_case_t *row, bool must_be_open)
{
    if (!store_case_load(r->d->store, id, row)) {
        api_404(r, "ケース", id);
        return false;
    }
    if (must_be_open && strcmp(row->status, "open") != 0) {
        api_reply_error(r, 409, "case-closed", "ケース %s は終結しています (case is closed)", id);
        store_case_free(row);
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
    store_case_t row;
    if (!store_case_load(r->d->store, c->id, &row)) {
        json_decref(warnings);
        store_error(r);
        return;
    }
    json_t *o = case_row_json(r, c->id, &row);
    set_lead_field(o, row.lead);
    json_object_set_new(o, "warnings", warnings);
    store_case_free(&row);
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
    store_case_t existing;
    if (store_case_load(r->d->store, c.id, &existing)) {
        store_case_free(&existing);
        api_reply_error(r, 409, "exists", "ケース %s はすでに登録されています。更新は PUT を使ってください (exists)", c.id);
        json_decref(warnings);
        case_free(&c);
        return;
    }
    json_t *doc = case_to_json(&c);
    char *actor = api_actor(r);
    bool ok = store_case_insert(r->d->store, c.id, doc, actor, tu_now());
    free(actor);
    json_decref(doc);
    finish_case_write(r, ok, 201, &c, warnings);
}

/* The new document and what 本人's consent change does to booked
 * meetings (meetings_case_updated), in one transaction. */
static bool update_case(api_req_t *r, const case_t *before, const case_t *c, json_t *changes)
{
    store_t *st = r->d->store;
    meetings_t *m = meetings_current();
    json_t *doc = case_to_json(c);
    char *actor = api_actor(r);
    bool ok = store_begin(st) == 0 && store_case_update_doc(st, c->id, doc, tu_now()) &&
              (!m || meetings_case_updated(m, before, c, actor, changes)) &&
              store_commit(st) == 0;
    if (!ok)
        store_rollback(st);
    else if (m && json_array_size(changes))
        outbox_kick(meetings_outbox(m));
    if (!m)
        log_warn("cases: %s updated while meetings are unavailable; booked meetings not re-checked", c->id);
    free(actor);
    json_decref(doc);
    return ok;
}

static void h_case_put(api_req_t *r)
{
    const char *id = api_param(r, "id");
    store_case_t row;
    if (!case_for_write(r, id, &row, true))
        return;
    json_t *warnings;
    case_t c, before;
    char err[256];
    bool had = case_from_json(row.doc, &before, err, sizeof err);
    store_case_free(&row);
    if (!read_case_body(r, id, &c, &warnings)) {
        if (had)
            case_free(&before);
        return;
    }
    json_t *changes = json_array();
    bool ok = update_case(r, had ? &before : NULL, &c, changes);
    if (had)
        case_free(&before);
    if (ok && json_array_size(changes))
        json_array_append_new(warnings, json_sprintf(
            "本人の同意の変更により、予約済みの会議 %zu 件を見直しました (meetings)", json_array_size(changes)));
    if (ok)
        log_info("cases: %s updated, %zu meeting(s) re-checked for consent", id, json_array_size(changes));
    if (ok) {
        store_case_t saved;
        if (store_case_load(r->d->store, c.id, &saved)) {
            json_t *o = case_row_json(r, c.id, &saved);
            set_lead_field(o, saved.lead);
            json_object_set_new(o, "warnings", warnings);
            json_object_set_new(o, "meetings", changes);
            store_case_free(&saved);
            case_free(&c);
            api_reply_json(r, 200, o);
            return;
        }
    }
    json_decref(changes);
    finish_case_write(r, false, 200, &c, warnings);
}

static void h_case_audit(api_req_t *r)
{
    const char *id = api_param(r, "id");
    if (!store_case_exists(r->d->store, id)) {
        api_404(r, "ケース", id);
        return;
    }
    json_t *rows = store_audit_case(r->d->store, id), *v;
    size_t i;
    json_array_foreach(rows, i, v)
        json_object_set_new(v, "at", api_time_json(json_integer_value(json_object_get(v, "at")),
                                                   api_zone(r), false));
    api_reply_json(r, 200, json_pack("{s:s, s:o}", "case", id, "audit", rows));
}

/* Agency tokens: the approved lead or a supporter, and 本人's consent must
 * allow sharing with that agency (consent-based types: consent given and
 * the agency not excluded; 支援会議 shares under the confidentiality duty). */
static bool agency_may_read(const api_req_t *r, const store_case_t *row)
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
    bool ok = case_shares_with(&c, c.meeting_type, me);
    case_free(&c);
    return ok;
}

static void agency_case_forbidden(api_req_t *r)
{
    api_reply_error(r, 403, "forbidden",
                    "このケースは閲覧できません。主担当・支援機関で、本人の同意がある場合のみ閲覧できます (forbidden)");
}

/* DESIGN: consent is per member.  An agency reading a consent-based case
 * sees only the members who consented (支援会議 shares everyone). */
static void only_consenting_members(json_t *doc)
{
    const char *type = json_string_value(json_object_get(doc, "meeting_type"));
    json_t *members = json_object_get(doc, "members");
    if (!case_type_needs_consent(type) || !json_is_array(members))
        return;
    for (size_t i = json_array_size(members); i-- > 0; )
        if (!json_is_true(json_object_get(json_array_get(members, i), "consent")))
            json_array_remove(members, i);
}

static void h_case_get(api_req_t *r)
{
    const char *id = api_param(r, "id");
    store_case_t row;
    bool found = store_case_load(r->d->store, id, &row);
    if (!found && api_is_staff(r)) {
        api_404(r, "ケース", id);
        return;
    }
    if (!api_is_staff(r) && (!found || !agency_may_read(r, &row))) {
        /* one answer for unknown and forbidden: an agency must not learn
         * which case ids exist */
        if (found)
            store_case_free(&row);
        agency_case_forbidden(r);
        return;
    }
    json_t *o = case_row_json(r, id, &row);
    set_lead_field(o, row.lead);
    store_case_free(&row);
    if (!api_is_staff(r))
        only_consenting_members(json_object_get(o, "case"));
    api_reply_json(r, 200, o);
}

static void h_case_list(api_req_t *r)
{
    json_t *arr = store_cases_list(r->d->store);
    if (!arr) {
        store_error(r);
        return;
    }
    api_reply_json(r, 200, json_pack("{s:o}", "cases", arr));
}

static void h_case_close(api_req_t *r)
{
    const char *id = api_param(r, "id");
    store_case_t row;
    if (!case_for_write(r, id, &row, true))
        return;
    store_t *st = r->d->store;
    bool ok = store_begin(st) == 0 && store_case_close(st, id, tu_now()) && store_commit(st) == 0;
    if (!ok) {
        store_case_free(&row);
        store_error(r);
        return;
    }
    tsunagud_city_changed(r->d);
    log_info("cases: %s closed%s%s", id, row.lead ? ", released lead " : "", row.lead ? row.lead : "");
    json_t *o = json_pack("{s:s, s:s}", "id", id, "status", "closed");
    json_object_set_new(o, "released", row.lead ? json_string(row.lead) : json_null());
    store_case_free(&row);
    api_reply_json(r, 200, o);
}

/* ---- proposals --------------------------------------------------------- */

typedef struct free_ctx {
    tsunagud_t *d;
    int64_t     now;
    json_t     *used;      /* {agency: minutes | null}, for the snapshot */
} free_ctx_t;

/* Tie-break 2 from the ingested calendars (rules_impact_free_minutes),
 * recorded for the decision's snapshot. */
static int64_t daemon_free_minutes(void *arg, const agency_t *a, int days)
{
    free_ctx_t *fc = arg;
    int64_t m = rules_impact_free_minutes(fc->d, a, fc->now, days);
    json_object_set_new(fc->used, a->id, m < 0 ? json_null() : json_integer(m));
    return m;
}

static int64_t save_decision(api_req_t *r, const char *case_id, const char *lead,
                             json_t *inputs, json_t *result)
{
    store_t *st = r->d->store;
    char *actor = api_actor(r);
    const ruleset_t *rs = active_rules;
    store_decision_new_t d = { case_id, actor, rules_hash(rs), lead, inputs, result, tu_now() };
    int64_t id = -1;
    if (store_begin(st) == 0 &&
        store_rule_set_save(st, rules_hash(rs), rules_filename(rs), rules_policy(rs),
                            rules_source(rs), d.now) &&
        (id = store_decision_insert(st, &d)) > 0 && store_commit(st) != 0)
        id = -1;
    if (id < 0)
        store_rollback(st);
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
    store_case_t row;
    const city_t *city = tsunagud_city(r->d);
    if (!need_rules(r) || !case_for_write(r, id, &row, true))
        return;
    case_t c;
    char err[1024];
    if (!city) {
        store_case_free(&row);
        api_reply_error(r, 409, "no-city", "機関の一覧(agencies.json)がまだ取り込まれていません (import the city first)");
        return;
    }
    if (!case_from_json(row.doc, &c, err, sizeof err) || !case_check_city(&c, city, err, sizeof err)) {
        store_case_free(&row);
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
    store_case_free(&row);
}

/* ---- decisions --------------------------------------------------------- */

/* A stored decision as the API shows it: times in the city's zone, and
 * whether its rule set is the active one. */
static json_t *decision_out(api_req_t *r, json_t *o)
{
    const tz_t *z = api_zone(r);
    const char *hash = json_string_value(json_object_get(o, "rules_hash"));
    json_object_set_new(o, "created", api_time_json(json_integer_value(json_object_get(o, "created")), z, false));
    json_object_set_new(o, "rules_current", json_boolean(active_rules && hash &&
                                                         !strcmp(rules_hash(active_rules), hash)));
    json_t *v = json_object_get(o, "review");
    if (json_is_object(v))
        json_object_set_new(v, "at", api_time_json(json_integer_value(json_object_get(v, "at")), z, false));
    return o;
}

static bool parse_decision_id(const char *s, int64_t *out)
{
    return ids_parse_int64(s, out);
}

/* The decision as JSON (full), or NULL after replying 400 (not an id) or 404. */
static json_t *decision_json(api_req_t *r, const char *sid, bool full)
{
    int64_t id;
    if (!parse_decision_id(sid, &id)) {
        api_reply_error(r, 400, "bad-id", "IDは1以上の整数です: %.80s (expected a positive integer id)",
                        sid ? sid : "");
        return NULL;
    }
    json_t *o = store_decision_get(r->d->store, id, full);
    if (!o)
        api_404(r, "決定", sid ? sid : "");
    return o ? decision_out(r, o) : NULL;
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

/* Run the stored rule text on the stored inputs again.  Returns the new
 * result, or NULL with err. */
static json_t *recompute(api_req_t *r, const json_t *d, char *err, size_t errlen)
{
    const json_t *in = json_object_get(d, "inputs");
    char *src = store_rule_source(r->d->store, json_string_value(json_object_get(d, "rules_hash")));
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
    static const char *const statuses[] = {"pending", "approved", "overridden", NULL};
    const char *status, *case_id = api_query(r, "case");
    if (!api_query_enum(r, "status", statuses, "bad-status", &status))
        return;
    json_t *arr = store_decisions_list(r->d->store, case_id, status), *v;
    if (!arr) {
        store_error(r);
        return;
    }
    size_t i;
    json_array_foreach(arr, i, v)
        decision_out(r, v);
    api_reply_json(r, 200, json_pack("{s:o}", "decisions", arr));
}

/* Record a review and move the case's lead/supporters (the lead counts
 * follow from the cases table, store_city.c). */
static bool record_review(api_req_t *r, int64_t did, const char *case_id, const char *action,
                          const char *lead, json_t *supports, const char *reason)
{
    store_t *st = r->d->store;
    char *actor = api_actor(r);
    int64_t now = tu_now();
    bool ok = store_begin(st) == 0 &&
              store_decision_review(st, did, action, lead, supports, reason, actor, now) &&
              store_case_set_lead(st, case_id, lead, supports, now) && store_commit(st) == 0;
    if (!ok)
        store_rollback(st);
    free(actor);
    return ok;
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
    int64_t newer = store_decision_newer(r->d->store, json_string_value(json_object_get(d, "case")),
                                         json_integer_value(json_object_get(d, "id")));
    if (newer) {
        api_reply_error(r, 409, "superseded",
                        "決定 %s より新しい提案(決定 %lld)があるため、古い提案は審査できません。新しい提案を審査してください (superseded by a newer proposal)",
                        api_param(r, "id"), (long long)newer);
        json_decref(d);
        return NULL;
    }
    store_case_t row;
    const char *case_id = json_string_value(json_object_get(d, "case"));
    if (!case_for_write(r, case_id, &row, true)) {
        json_decref(d);
        return NULL;
    }
    store_case_free(&row);
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

static void h_decision_override(api_req_t *r)
{
    json_t *body = api_json_body(r, 64 * 1024);
    if (!body)
        return;
    const char *lead = json_string_value(json_object_get(body, "lead"));
    const char *given = json_string_value(json_object_get(body, "reason"));
    char *reason = given && utf8_valid(given, strlen(given)) ? utf8_trim_space(given) : NULL;
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
    api_route(api, "POST", "/v1/cases", API_STAFF, API_DATA_CASE, h_case_create);
    api_route(api, "GET", "/v1/cases", API_STAFF, API_DATA_CASE, h_case_list);
    api_route(api, "GET", "/v1/cases/{id}", API_ANY, API_DATA_CASE, h_case_get);
    api_route(api, "PUT", "/v1/cases/{id}", API_STAFF, API_DATA_CASE, h_case_put);
    api_route(api, "POST", "/v1/cases/{id}/close", API_STAFF, API_DATA_CASE, h_case_close);
    api_route(api, "GET", "/v1/cases/{id}/audit", API_STAFF, API_DATA_CASE, h_case_audit);
    api_route(api, "POST", "/v1/cases/{id}/proposals", API_STAFF, API_DATA_DECISION, h_proposal);
    api_route(api, "GET", "/v1/decisions", API_STAFF, API_DATA_DECISION, h_decision_list);
    api_route(api, "GET", "/v1/decisions/{id}", API_STAFF, API_DATA_DECISION, h_decision_get);
    api_route(api, "POST", "/v1/decisions/{id}/approve", review, API_DATA_DECISION, h_decision_approve);
    api_route(api, "POST", "/v1/decisions/{id}/override", review, API_DATA_DECISION, h_decision_override);
    api_route(api, "GET", "/v1/rules", API_STAFF, API_DATA_NONE, h_rules_get);
}
