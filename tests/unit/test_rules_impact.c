/* SPDX-License-Identifier: MIT */
/*
 * test_rules_impact.c - rule impact (DESIGN "Statistics, similar cases and
 * rule impact"): an edited copy of default.rules (hikikomori ひきこもり
 * +30 -> +60) reports exactly the open cases whose lead, supporters (as a
 * set) or forced flag change, and no others.  The reference loads each
 * rule file in turn and proposes every fixture case with it, comparing
 * the API results (rules_explain_json); the report must list the same
 * cases with the same two outcomes, count gains and losses per agency
 * from those cases, list no rule whose firing did not change, and list a
 * rule whose condition changed.  Closed cases are not proposed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rules_impact.h"
#include "store.h"

#define DATA "tests/data/yamanami/"

/* Deterministic stand-in for the calendars: the same for both runs. */
static int64_t fake_minutes(void *ctx, const agency_t *a, int days)
{
    int64_t h = 0;
    for (const char *p = a->id; *p; p++)
        h = h * 31 + (unsigned char)*p;
    return 1000 + h % 997;
}

static const rules_env_t env = { fake_minutes, NULL };

static char *edited_rules(const char *from, const char *to)
{
    char *src = read_file("rules/default.rules", NULL);
    assert_non_null(src);
    char *at = strstr(src, from);
    assert_non_null(at);
    char *out = xasprintf("%.*s%s%s", (int)(at - src), src, to, at + strlen(from));
    free(src);
    return out;
}

static void load_cases(store_t *st)
{
    for (int i = 1; i <= 14; i++) {
        char path[128];
        snprintf(path, sizeof path, DATA "cases/Y-%02d.json", i);
        json_t *j = json_load_file(path, 0, NULL);
        assert_non_null(j);
        char *doc = json_dumps(j, JSON_COMPACT);
        sqlite3_stmt *s = store_prepare(st, "INSERT INTO cases(id, doc, status, created, updated)"
                                            " VALUES (?, ?, ?, 1, 1)");
        store_bind_text(s, 1, json_string_value(json_object_get(j, "id")));
        store_bind_text(s, 2, doc);
        store_bind_text(s, 3, i == 14 ? "closed" : "open");    /* Y-14 closed */
        assert_int_equal(sqlite3_step(s), SQLITE_DONE);
        store_done(s);
        free(doc);
        json_decref(j);
    }
}

static bool same_set(const json_t *a, const json_t *b)
{
    size_t i, j;
    json_t *x, *y;
    if (json_array_size(a) != json_array_size(b))
        return false;
    json_array_foreach(a, i, x) {
        bool f = false;
        json_array_foreach(b, j, y)
            f |= json_equal(x, y);
        if (!f)
            return false;
    }
    return true;
}

static json_t *propose(const ruleset_t *rs, const city_t *city, int n)
{
    char path[128], err[512];
    snprintf(path, sizeof path, DATA "cases/Y-%02d.json", n);
    case_t c;
    assert_true(case_load_file(path, &c, err, sizeof err));
    proposal_t p;
    rules_propose(rs, city, &c, &env, &p);
    json_t *j = rules_explain_json(&p);
    proposal_free(&p);
    case_free(&c);
    return j;
}

static bool str_eq(const json_t *a, const json_t *b, const char *k)
{
    const char *x = json_string_value(json_object_get(a, k)), *y = json_string_value(json_object_get(b, k));
    return x == y || (x && y && !strcmp(x, y));
}

static const json_t *entry_for(const json_t *changed, const char *id)
{
    size_t i;
    json_t *v;
    json_array_foreach(changed, i, v)
        if (!strcmp(json_string_value(json_object_get(v, "case")), id))
            return v;
    return NULL;
}

typedef struct fixture {
    store_t   *st;
    city_t     city;
    ruleset_t *cur;
} fixture_t;

/* The fixture city; hikikomori_load >= 0 replaces that agency's lead_cases
 * (the fixture has it at its cap of 10, so it can never take a lead). */
static void fixture_open(fixture_t *f, int hikikomori_load)
{
    char err[512];
    f->st = store_open(":memory:", err, sizeof err);
    assert_non_null(f->st);
    json_t *doc = json_load_file(DATA "agencies.json", 0, NULL);
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(doc, "agencies"), i, a)
        if (hikikomori_load >= 0 && !strcmp(json_string_value(json_object_get(a, "id")), "hikikomori"))
            json_object_set_new(a, "lead_cases", json_integer(hikikomori_load));
    assert_true(city_from_json(doc, DATA, &f->city, err, sizeof err));
    json_decref(doc);
    f->cur = rules_load_file("rules/default.rules", err, sizeof err);
    assert_non_null(f->cur);
    load_cases(f->st);
}

static void fixture_close(fixture_t *f)
{
    rules_free(f->cur);
    city_free(&f->city);
    store_close(f->st);
}

/* The report against proposals made with each file in turn. */
static int check_against_reference(fixture_t *f, const ruleset_t *cand, json_t *report)
{
    const json_t *changed = json_object_get(report, "changed");
    int nchanged = 0;
    json_t *gained = json_object(), *lost = json_object();
    for (int n = 1; n <= 13; n++) {          /* Y-14 is closed */
        char id[8];
        snprintf(id, sizeof id, "Y-%02d", n);
        json_t *a = propose(f->cur, &f->city, n), *b = propose(cand, &f->city, n);
        bool differs = !str_eq(a, b, "lead") || !str_eq(a, b, "error") ||
                       !same_set(json_object_get(a, "supports"), json_object_get(b, "supports")) ||
                       json_is_true(json_object_get(a, "forced")) != json_is_true(json_object_get(b, "forced"));
        const json_t *e = entry_for(changed, id);
        if (differs != (e != NULL))
            fail_msg("%s: reference says %s, report says %s", id, differs ? "changed" : "same",
                     e ? "changed" : "same");
        if (e) {
            nchanged++;
            const json_t *ec = json_object_get(e, "current"), *en = json_object_get(e, "candidate");
            assert_true(str_eq(ec, a, "lead") && str_eq(en, b, "lead"));
            assert_true(same_set(json_object_get(en, "supports"), json_object_get(b, "supports")));
            assert_string_equal(json_string_value(json_object_get(ec, "text")),
                                json_string_value(json_object_get(a, "text")));
            assert_string_equal(json_string_value(json_object_get(en, "text")),
                                json_string_value(json_object_get(b, "text")));
            if (!str_eq(a, b, "lead")) {
                const char *la = json_string_value(json_object_get(a, "lead"));
                const char *lb = json_string_value(json_object_get(b, "lead"));
                if (la)
                    json_object_set_new(lost, la, json_integer(json_integer_value(json_object_get(lost, la)) + 1));
                if (lb)
                    json_object_set_new(gained, lb, json_integer(json_integer_value(json_object_get(gained, lb)) + 1));
            }
        }
        json_decref(a);
        json_decref(b);
    }
    assert_int_equal(json_array_size(changed), nchanged);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(report, "agencies"), i, v) {
        const char *ag = json_string_value(json_object_get(v, "agency"));
        assert_int_equal(json_integer_value(json_object_get(v, "gained")),
                         json_integer_value(json_object_get(gained, ag)));
        assert_int_equal(json_integer_value(json_object_get(v, "lost")),
                         json_integer_value(json_object_get(lost, ag)));
        json_object_del(gained, ag);
        json_object_del(lost, ag);
    }
    assert_int_equal(json_object_size(gained), 0);      /* every mover is listed */
    assert_int_equal(json_object_size(lost), 0);
    json_decref(gained);
    json_decref(lost);
    return nchanged;
}

static void test_hikikomori_60(void **state)
{
    fixture_t f;
    fixture_open(&f, 3);
    char *text = edited_rules("score ひきこもり +30", "score ひきこもり +60"), err[512];
    ruleset_t *cand = rules_parse(text, strlen(text), "edited.rules", err, sizeof err);
    assert_non_null(cand);
    json_t *report = rules_impact(f.st, &f.city, f.cur, cand, &env);
    assert_non_null(report);
    assert_int_equal(json_integer_value(json_object_get(report, "open_cases")), 13);
    int n = check_against_reference(&f, cand, report);
    assert_true(n >= 1);
    assert_int_equal(json_integer_value(json_object_get(report, "changed_count")), n);
    /* Y-01 (8050): ひきこもり 60+15 now beats 高齢 40+15, so the lead moves */
    const json_t *y01 = entry_for(json_object_get(report, "changed"), "Y-01");
    assert_non_null(y01);
    assert_string_equal(json_string_value(json_array_get(json_object_get(y01, "changes"), 0)), "lead");
    assert_string_equal(json_string_value(json_object_get(json_object_get(y01, "candidate"), "lead")),
                        "hikikomori");
    /* points changed, conditions did not: no rule's firing changed */
    assert_int_equal(json_array_size(json_object_get(report, "rules_changed")), 0);
    json_decref(report);
    rules_free(cand);
    free(text);
    fixture_close(&f);
}

/* In the fixture city the hikikomori agency is at its cap: the same edit
 * moves no lead, and supporters are compared as sets (their order follows
 * field scores and does change), so nothing is reported. */
static void test_hikikomori_60_at_cap(void **state)
{
    fixture_t f;
    fixture_open(&f, -1);
    char *text = edited_rules("score ひきこもり +30", "score ひきこもり +60"), err[512];
    ruleset_t *cand = rules_parse(text, strlen(text), "edited.rules", err, sizeof err);
    json_t *report = rules_impact(f.st, &f.city, f.cur, cand, &env);
    assert_int_equal(check_against_reference(&f, cand, report), 0);
    assert_int_equal(json_array_size(json_object_get(report, "changed")), 0);
    json_decref(report);
    rules_free(cand);
    free(text);
    fixture_close(&f);
}

static void test_same_rules_change_nothing(void **state)
{
    fixture_t f;
    fixture_open(&f, 3);
    json_t *report = rules_impact(f.st, &f.city, f.cur, f.cur, &env);
    assert_int_equal(json_array_size(json_object_get(report, "changed")), 0);
    assert_int_equal(json_array_size(json_object_get(report, "agencies")), 0);
    json_decref(report);
    fixture_close(&f);
}

static void test_condition_change_lists_rule(void **state)
{
    fixture_t f;
    fixture_open(&f, -1);
    /* work now needs 就労困難 instead of 失業: it stops firing on Y-04, Y-10, Y-13 */
    char *text = edited_rules("when member has 失業", "when member has 就労困難"), err[512];
    ruleset_t *cand = rules_parse(text, strlen(text), "edited.rules", err, sizeof err);
    if (!cand)
        fail_msg("%s", err);
    json_t *report = rules_impact(f.st, &f.city, f.cur, cand, &env);
    check_against_reference(&f, cand, report);
    const json_t *rc = json_object_get(report, "rules_changed");
    assert_int_equal(json_array_size(rc), 1);
    const json_t *w = json_array_get(rc, 0);
    assert_string_equal(json_string_value(json_object_get(w, "rule")), "work");
    assert_int_equal(json_integer_value(json_object_get(w, "candidate")), 0);
    assert_int_equal(json_array_size(json_object_get(w, "cases")),
                     json_integer_value(json_object_get(w, "current")));
    assert_true(json_integer_value(json_object_get(w, "current")) >= 2);
    json_decref(report);
    rules_free(cand);
    free(text);
    fixture_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hikikomori_60),
        cmocka_unit_test(test_hikikomori_60_at_cap),
        cmocka_unit_test(test_same_rules_change_nothing),
        cmocka_unit_test(test_condition_change_lists_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
