/* SPDX-License-Identifier: MIT */
/*
 * rules_impact.c - propose every open case under the current and a
 * candidate rule set and report the differences (rules_impact.h).
 *
 * The open cases stream from the store one row at a time
 * (store_stats_open_cases); each is parsed, checked against the city and
 * proposed twice.  Per case only the outcome summary (lead or error,
 * supporters, forced, fired rule ids, the Japanese text) is kept, and only
 * for cases that change.  Per-agency gains/losses and per-rule firing
 * counts accumulate in JSON objects keyed by id.
 */
#include <stdlib.h>
#include <string.h>

#include "feeds.h"
#include "rules_impact.h"
#include "store_stats.h"

/* ---- the same free minutes for both runs ---------------------------------- */

int64_t rules_impact_free_minutes(tsunagud_t *d, const agency_t *a, int64_t now, int days)
{
    int64_t m = -1;
    agency_busy_t ab;
    int64_t to = now + (int64_t)(days * 2 + 21) * 86400;
    if (d && feeds_agency_busy(d->store, a->id, now, to, &ab)) {
        if (!ab.any_pending) {
            const ivset_t **sets = xcalloc(ab.ncal + 1, sizeof *sets);
            for (size_t i = 0; i < ab.ncal; i++)
                sets[i] = &ab.busy[i];
            m = rules_free_working_minutes(tsunagud_city(d), a, sets, ab.ncal, now, days);
            free(sets);
        }
        agency_busy_free(&ab);
    }
    return m;
}

static int64_t memo_free_minutes(void *arg, const agency_t *a, int days)
{
    rules_impact_env_t *x = arg;
    json_t *v = json_object_get(x->memo, a->id);
    if (v)
        return json_integer_value(v);
    int64_t m = rules_impact_free_minutes(x->d, a, x->now, days);
    json_object_set_new(x->memo, a->id, json_integer(m));
    return m;
}

void rules_impact_env_init(rules_impact_env_t *x, tsunagud_t *d, int64_t now)
{
    x->d = d;
    x->now = now;
    x->memo = json_object();
    x->env = (rules_env_t){ memo_free_minutes, x };
}

void rules_impact_env_free(rules_impact_env_t *x)
{
    json_decref(x->memo);
    x->memo = NULL;
}

/* ---- one outcome ----------------------------------------------------------- */

static json_t *supports_of(const proposal_t *p)
{
    json_t *a = json_array();
    if (p->status == PROPOSAL_OK)
        for (size_t i = 0; i < p->nsupports; i++)
            if (p->supports[i].reason == 0)
                json_array_append_new(a, json_string(p->cands[p->supports[i].chosen].agency->id));
    return a;
}

static json_t *outcome_json(const proposal_t *p)
{
    json_t *rules = json_array();
    for (size_t i = 0; i < p->nfired; i++)
        json_array_append_new(rules, json_string(rules_rule_id(p->rs, (size_t)p->fired[i])));
    const char *lead = p->status == PROPOSAL_OK ? p->cands[p->lead.chosen].agency->id : NULL;
    char *text = rules_explain_text(p);
    json_t *o = json_pack("{s:s?, s:s?, s:o, s:b, s:o, s:s}", "lead", lead,
                          "error", proposal_error_code(p), "supports", supports_of(p),
                          "forced", p->status == PROPOSAL_OK && p->forced, "rules", rules,
                          "text", text);
    free(text);
    return o;
}

static bool same_set(const json_t *a, const json_t *b)
{
    if (json_array_size(a) != json_array_size(b))
        return false;
    size_t i, j;
    json_t *x, *y;
    json_array_foreach(a, i, x) {
        bool found = false;
        json_array_foreach(b, j, y)
            found |= json_equal(x, y);
        if (!found)
            return false;
    }
    return true;
}

static bool same_str(const json_t *a, const json_t *b, const char *key)
{
    const char *x = json_string_value(json_object_get(a, key));
    const char *y = json_string_value(json_object_get(b, key));
    return x == y || (x && y && !strcmp(x, y));
}

/* ["lead", "supports", "forced"] subset that differs. */
static json_t *changes_between(const json_t *cur, const json_t *cand)
{
    json_t *ch = json_array();
    if (!same_str(cur, cand, "lead") || !same_str(cur, cand, "error"))
        json_array_append_new(ch, json_string("lead"));
    if (!same_set(json_object_get(cur, "supports"), json_object_get(cand, "supports")))
        json_array_append_new(ch, json_string("supports"));
    if (json_is_true(json_object_get(cur, "forced")) != json_is_true(json_object_get(cand, "forced")))
        json_array_append_new(ch, json_string("forced"));
    return ch;
}

/* ---- accumulation ---------------------------------------------------------- */

typedef struct impact {
    const city_t    *city;
    const ruleset_t *cur, *cand;
    const rules_env_t *env;
    long             open;
    json_t          *changed, *skipped;
    json_t          *agencies;      /* {id: [gained, lost]} */
    json_t          *rules;         /* {rule: [cur, cand, [case ids]]} */
} impact_t;

static void bump(json_t *counts, const char *id, size_t slot)
{
    if (!id)
        return;
    json_t *v = json_object_get(counts, id);
    if (!v) {
        v = json_pack("[i, i]", 0, 0);
        json_object_set_new(counts, id, v);
    }
    json_array_set_new(v, slot, json_integer(json_integer_value(json_array_get(v, slot)) + 1));
}

static bool in_list(const json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
        if (!strcmp(json_string_value(v), s))
            return true;
    return false;
}

static json_t *rule_entry(impact_t *x, const char *rule)
{
    json_t *e = json_object_get(x->rules, rule);
    if (!e) {
        e = json_pack("[i, i, []]", 0, 0);
        json_object_set_new(x->rules, rule, e);
    }
    return e;
}

/* Count firings of every rule of both sets on one case. */
static void count_rules(impact_t *x, const char *id, const json_t *cur, const json_t *cand)
{
    const json_t *lists[2] = { json_object_get(cur, "rules"), json_object_get(cand, "rules") };
    for (int k = 0; k < 2; k++) {
        size_t i;
        json_t *v;
        json_array_foreach(lists[k], i, v) {
            json_t *e = rule_entry(x, json_string_value(v));
            json_array_set_new(e, k, json_integer(json_integer_value(json_array_get(e, k)) + 1));
            if (!in_list(lists[1 - k], json_string_value(v)))
                json_array_append_new(json_array_get(e, 2), json_string(id));
        }
    }
}

static void compare_case(impact_t *x, const char *id, const case_t *c)
{
    proposal_t p;
    rules_propose(x->cur, x->city, c, x->env, &p);
    json_t *cur = outcome_json(&p);
    proposal_free(&p);
    rules_propose(x->cand, x->city, c, x->env, &p);
    json_t *cand = outcome_json(&p);
    proposal_free(&p);
    count_rules(x, id, cur, cand);
    json_t *ch = changes_between(cur, cand);
    if (json_array_size(ch)) {
        if (!same_str(cur, cand, "lead")) {
            bump(x->agencies, json_string_value(json_object_get(cur, "lead")), 1);
            bump(x->agencies, json_string_value(json_object_get(cand, "lead")), 0);
        }
        json_array_append_new(x->changed, json_pack("{s:s, s:s?, s:o, s:O, s:O}", "case", id,
                              "title", c->title, "changes", ch, "current", cur, "candidate", cand));
    } else {
        json_decref(ch);
    }
    json_decref(cur);
    json_decref(cand);
}

static bool on_open_case(void *arg, const char *id, const char *doc, const char *status,
                         int64_t updated)
{
    impact_t *x = arg;
    char err[512];
    json_t *j = doc ? json_loads(doc, 0, NULL) : NULL;
    case_t c;
    x->open++;
    if (!j || !case_from_json(j, &c, err, sizeof err)) {
        json_array_append_new(x->skipped, json_pack("{s:s, s:s}", "case", id, "message",
                                                    j ? err : "ケースの JSON を読めません"));
    } else {
        if (case_check_city(&c, x->city, err, sizeof err))
            compare_case(x, id, &c);
        else
            json_array_append_new(x->skipped, json_pack("{s:s, s:s}", "case", id, "message", err));
        case_free(&c);
    }
    json_decref(j);
    return true;
}

/* ---- the report ------------------------------------------------------------ */

static json_t *agencies_json(const impact_t *x)
{
    json_t *out = json_array();
    for (size_t i = 0; i < x->city->nagencies; i++) {
        const agency_t *a = &x->city->agencies[i];
        json_t *v = json_object_get(x->agencies, a->id);
        if (v)
            json_array_append_new(out, json_pack("{s:s, s:s, s:O, s:O}", "agency", a->id,
                                  "name", a->name, "gained", json_array_get(v, 0),
                                  "lost", json_array_get(v, 1)));
    }
    return out;
}

static json_t *rules_changed_json(const impact_t *x)
{
    json_t *out = json_array();
    const char *rule;
    json_t *e;
    json_object_foreach(x->rules, rule, e)
        if (json_array_size(json_array_get(e, 2)))
            json_array_append_new(out, json_pack("{s:s, s:O, s:O, s:O}", "rule", rule,
                                  "current", json_array_get(e, 0), "candidate",
                                  json_array_get(e, 1), "cases", json_array_get(e, 2)));
    return out;
}

static json_t *set_json(const ruleset_t *rs)
{
    return json_pack("{s:s, s:s, s:s}", "file", rules_filename(rs), "policy", rules_policy(rs),
                     "hash", rules_hash(rs));
}

json_t *rules_impact(store_t *st, const city_t *city, const ruleset_t *cur,
                     const ruleset_t *cand, const rules_env_t *env)
{
    impact_t x = { city, cur, cand, env, 0, json_array(), json_array(), json_object(),
                   json_object() };
    bool ok = store_stats_open_cases(st, on_open_case, &x);
    json_t *out = NULL;
    if (ok)
        out = json_pack("{s:o, s:o, s:I, s:I, s:O, s:o, s:o, s:O}", "current", set_json(cur),
                        "candidate", set_json(cand), "open_cases", (json_int_t)x.open,
                        "changed_count", (json_int_t)json_array_size(x.changed),
                        "changed", x.changed, "agencies", agencies_json(&x),
                        "rules_changed", rules_changed_json(&x), "skipped", x.skipped);
    json_decref(x.changed);
    json_decref(x.skipped);
    json_decref(x.agencies);
    json_decref(x.rules);
    return out;
}
