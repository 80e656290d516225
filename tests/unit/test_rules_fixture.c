/* SPDX-License-Identifier: MIT */
/*
 * test_rules_fixture.c - the default policy against the 14 fixture cases.
 *
 * Every case in tests/data/yamanami/cases must give exactly its
 * expected/lead answer (lead, forced, supports, fired rules, or error).
 * Lists in the expected files are sorted, so both sides are compared as
 * sorted lists.  Each explanation must name every fired rule (in JSON and
 * in the Japanese text) and the tie-break step that decided.  Tie-break 2
 * gets free minutes computed from the fixture busy sets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "case.h"
#include "city.h"
#include "rules.h"
#include "support_busy.h"

#define DATA "tests/data/yamanami/"

static city_t city;
static ruleset_t *rs;

/* ---- free minutes from expected/busy ----------------------------------- */

static void load_busy(const char *cal_id, ivset_t *out)
{
    char path[256];
    snprintf(path, sizeof path, DATA "expected/busy/%s.json", cal_id);
    assert_true(support_load_busy_json(path, out));
}

static int64_t fixture_free_minutes(void *ctx, const agency_t *a, int days)
{
    const city_t *c = ctx;
    ivset_t sets[8];
    const ivset_t *ptrs[8] = { NULL };
    size_t n = a->ncalendars < 8 ? a->ncalendars : 8;
    for (size_t i = 0; i < n; i++) {
        ivset_init(&sets[i]);
        load_busy(a->calendars[i].id, &sets[i]);
        ptrs[i] = &sets[i];
    }
    int64_t m = rules_free_working_minutes(c, a, ptrs, n, c->now, days);
    for (size_t i = 0; i < n; i++)
        ivset_free(&sets[i]);
    return m;
}

static int setup(void **state)
{
    char err[512];
    if (!city_load_file(DATA "agencies.json", &city, err, sizeof err)) {
        fprintf(stderr, "city: %s\n", err);
        return -1;
    }
    rs = rules_load_file("rules/default.rules", err, sizeof err);
    if (!rs) {
        fprintf(stderr, "rules: %s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    rules_free(rs);
    city_free(&city);
    return 0;
}

/* ---- helpers ----------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted, comma-joined copy of a JSON string array. */
static char *joined_sorted(const json_t *arr)
{
    size_t n = json_array_size(arr);
    const char **v = calloc(n + 1, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = json_string_value(json_array_get(arr, i));
    qsort(v, n, sizeof *v, cmp_str);
    strbuf_t b;
    strbuf_init(&b);
    strbuf_puts(&b, "");
    for (size_t i = 0; i < n; i++)
        strbuf_printf(&b, "%s%s", i ? "," : "", v[i]);
    free(v);
    return strbuf_detach(&b);
}

static void assert_same_list(const json_t *got, const json_t *want, const char *what,
                             const char *id)
{
    char *g = joined_sorted(got), *w = joined_sorted(want);
    if (strcmp(g, w))
        fail_msg("%s %s: got [%s], expected [%s]", id, what, g, w);
    free(g);
    free(w);
}

static json_t *propose(const char *id, proposal_t *p, case_t *c)
{
    char path[256], err[512];
    snprintf(path, sizeof path, DATA "cases/%s.json", id);
    if (!case_load_file(path, c, err, sizeof err))
        fail_msg("%s: %s", id, err);
    assert_true(case_check_city(c, &city, err, sizeof err));
    rules_env_t env = { fixture_free_minutes, &city };
    rules_propose(rs, &city, c, &env, p);
    return rules_explain_json(p);
}

static void check_explanation_names_rules(const json_t *res, const char *id)
{
    const char *text = json_string_value(json_object_get(res, "text"));
    const json_t *fired = json_object_get(json_object_get(res, "explanation"), "fired");
    const json_t *rules = json_object_get(res, "rules");
    assert_non_null(text);
    assert_int_equal(json_array_size(fired), json_array_size(rules));
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r) {
        char needle[128];
        snprintf(needle, sizeof needle, "ルール「%s」", json_string_value(r));
        if (!strstr(text, needle))
            fail_msg("%s: text does not name rule %s: %s", id, json_string_value(r), text);
        json_t *f = json_array_get(fired, i);
        const char *reason = json_string_value(json_object_get(f, "reason"));
        assert_non_null(reason);
        assert_true(strlen(reason) > 0);
        assert_non_null(strstr(text, reason));
        assert_true(json_array_size(json_object_get(f, "scores")) > 0 ||
                    json_object_get(f, "force"));
    }
}

static void check_tie_break_stated(const json_t *res, const char *id)
{
    const json_t *tb = json_object_get(json_object_get(res, "explanation"), "tie_break");
    const char *step = json_string_value(json_object_get(tb, "step"));
    const char *text = json_string_value(json_object_get(res, "text"));
    assert_non_null(step);
    static const struct { const char *step, *phrase; } phrases[] = {
        { "only", "この1機関だけ" }, { "total", "合計点が高いため" },
        { "lead-cases", "同点の決め方1: 主担当件数" },
        { "free-minutes", "同点の決め方2: 空き時間" }, { "id", "同点の決め方3: 機関ID" },
    };
    for (size_t i = 0; i < sizeof phrases / sizeof *phrases; i++)
        if (!strcmp(step, phrases[i].step)) {
            if (!strstr(text, phrases[i].phrase))
                fail_msg("%s: tie-break %s not stated in: %s", id, step, text);
            return;
        }
    fail_msg("%s: unknown tie-break step %s", id, step);
}

static void check_case(const char *id)
{
    char path[256];
    snprintf(path, sizeof path, DATA "expected/lead/%s.json", id);
    json_error_t je;
    json_t *want = json_load_file(path, 0, &je);
    assert_non_null(want);
    proposal_t p;
    case_t c;
    json_t *got = propose(id, &p, &c);
    const char *werr = json_string_value(json_object_get(want, "error"));
    if (werr) {
        const char *gerr = json_string_value(json_object_get(got, "error"));
        if (!gerr || strcmp(gerr, werr))
            fail_msg("%s: expected error %s, got %s (lead %s)", id, werr, gerr ? gerr : "none",
                     json_string_value(json_object_get(got, "lead")));
        assert_true(strlen(json_string_value(json_object_get(got, "message"))) > 20);
    } else {
        const char *lead = json_string_value(json_object_get(got, "lead"));
        if (!lead || strcmp(lead, json_string_value(json_object_get(want, "lead"))))
            fail_msg("%s: lead %s, expected %s (error %s)", id, lead ? lead : "none",
                     json_string_value(json_object_get(want, "lead")),
                     json_string_value(json_object_get(got, "error")));
        assert_int_equal(json_is_true(json_object_get(got, "forced")),
                         json_is_true(json_object_get(want, "forced")));
        assert_same_list(json_object_get(got, "supports"), json_object_get(want, "supports"),
                         "supports", id);
        assert_same_list(json_object_get(got, "rules"), json_object_get(want, "rules"),
                         "rules", id);
        check_explanation_names_rules(got, id);
        check_tie_break_stated(got, id);
        /* the lead appears among the candidates with no failures */
        const json_t *cands = json_object_get(got, "candidates");
        size_t i;
        json_t *cd;
        bool seen = false;
        json_array_foreach(cands, i, cd)
            if (!strcmp(json_string_value(json_object_get(cd, "agency")), lead)) {
                seen = true;
                assert_int_equal(json_array_size(json_object_get(cd, "failures")), 0);
            }
        assert_true(seen);
    }
    json_decref(got);
    json_decref(want);
    proposal_free(&p);
    case_free(&c);
}

#define CASE_TEST(n) static void test_Y##n(void **s) { check_case("Y-" #n); }
CASE_TEST(01) CASE_TEST(02) CASE_TEST(03) CASE_TEST(04) CASE_TEST(05)
CASE_TEST(06) CASE_TEST(07) CASE_TEST(08) CASE_TEST(09) CASE_TEST(10)
CASE_TEST(11) CASE_TEST(12) CASE_TEST(13) CASE_TEST(14)

/* Y-08: two 障害 agencies tie at 35; fewer lead_cases decides, and both
 * the JSON and the text say so. */
static void test_tie_break_lead_cases_named(void **s)
{
    proposal_t p;
    case_t c;
    json_t *got = propose("Y-08", &p, &c);
    json_t *tb = json_object_get(json_object_get(got, "explanation"), "tie_break");
    assert_string_equal(json_string_value(json_object_get(tb, "step")), "lead-cases");
    assert_string_equal(json_string_value(json_object_get(tb, "runner_up")), "kikan-shogai");
    assert_non_null(strstr(json_string_value(json_object_get(got, "text")), "4件 対 9件"));
    json_decref(got);
    proposal_free(&p);
    case_free(&c);
}

/* Y-06: the agency 本人 excluded is listed with 本人の同意により除外. */
static void test_consent_exclusion_listed(void **s)
{
    proposal_t p;
    case_t c;
    json_t *got = propose("Y-06", &p, &c);
    size_t i;
    json_t *cd;
    bool found = false;
    json_array_foreach(json_object_get(got, "candidates"), i, cd)
        if (!strcmp(json_string_value(json_object_get(cd, "agency")), "hikikomori")) {
            found = true;
            json_t *f = json_object_get(cd, "failures");
            bool has = false;
            for (size_t k = 0; k < json_array_size(f); k++)
                has |= !strcmp(json_string_value(json_array_get(f, k)), "本人の同意により除外");
            assert_true(has);
        }
    assert_true(found);
    assert_non_null(strstr(json_string_value(json_object_get(got, "text")), "本人の同意により除外"));
    json_decref(got);
    proposal_free(&p);
    case_free(&c);
}

/* Y-13: the failure 支援会議の構成員でない is stated for the only candidate. */
static void test_no_eligible_lead_explains(void **s)
{
    proposal_t p;
    case_t c;
    json_t *got = propose("Y-13", &p, &c);
    const char *text = json_string_value(json_object_get(got, "text"));
    assert_non_null(strstr(text, "支援会議の構成員でない"));
    assert_non_null(strstr(text, "ハローワーク") ? text : strstr(text, "hellowork") ? text : NULL);
    json_decref(got);
    proposal_free(&p);
    case_free(&c);
}

/* Y-11: consent-required suggests 支援会議. */
static void test_consent_required_suggests_shien_kaigi(void **s)
{
    proposal_t p;
    case_t c;
    json_t *got = propose("Y-11", &p, &c);
    assert_non_null(strstr(json_string_value(json_object_get(got, "message")), "支援会議"));
    json_decref(got);
    proposal_free(&p);
    case_free(&c);
}

/* Tie-break 2 decides when totals and lead_cases tie: make two whole-city
 * 障害 agencies equal on lead_cases and check the calendar data decides. */
static void test_tie_break_free_minutes(void **s)
{
    agency_t *k = NULL;
    for (size_t i = 0; i < city.nagencies; i++)
        if (!strcmp(city.agencies[i].id, "kikan-shogai"))
            k = &city.agencies[i];
    assert_non_null(k);
    const agency_t *a = city_agency(&city, "sodan-hikari");
    int saved = k->lead_cases;
    k->lead_cases = a->lead_cases;
    proposal_t p;
    case_t c;
    json_t *got = propose("Y-08", &p, &c);
    json_t *tb = json_object_get(json_object_get(got, "explanation"), "tie_break");
    assert_string_equal(json_string_value(json_object_get(tb, "step")), "free-minutes");
    int64_t fk = fixture_free_minutes(&city, k, 10), fs = fixture_free_minutes(&city, a, 10);
    assert_true(fk != fs);
    assert_string_equal(json_string_value(json_object_get(got, "lead")),
                        fk > fs ? "kikan-shogai" : "sodan-hikari");
    assert_int_equal(json_integer_value(json_object_get(tb, "winner_free_minutes")),
                     fk > fs ? fk : fs);
    assert_non_null(strstr(json_string_value(json_object_get(got, "text")), "同点の決め方2: 空き時間"));
    json_decref(got);
    proposal_free(&p);
    case_free(&c);
    /* without calendar data the step ties and the id decides */
    rules_env_t none = { NULL, NULL };
    assert_true(case_load_file(DATA "cases/Y-08.json", &c, (char[256]){0}, 256));
    rules_propose(rs, &city, &c, &none, &p);
    assert_int_equal(p.lead.decided_by, TB_ID);
    assert_string_equal(p.cands[p.lead.chosen].agency->id, "kikan-shogai");
    proposal_free(&p);
    case_free(&c);
    k->lead_cases = saved;
}

/* Free minutes: with no busy time, 10 business days of 08:30-17:15. */
static void test_free_minutes_empty_calendar(void **s)
{
    const agency_t *a = city_agency(&city, "kodomo");
    ivset_t empty;
    ivset_init(&empty);
    const ivset_t *ptr = &empty;
    assert_int_equal(rules_free_working_minutes(&city, a, &ptr, 1, city.now, 10), 10 * 525);
    /* kikan-shogai has 3 calendars, need 1: never less than any single one */
    ivset_free(&empty);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_Y01), cmocka_unit_test(test_Y02), cmocka_unit_test(test_Y03),
        cmocka_unit_test(test_Y04), cmocka_unit_test(test_Y05), cmocka_unit_test(test_Y06),
        cmocka_unit_test(test_Y07), cmocka_unit_test(test_Y08), cmocka_unit_test(test_Y09),
        cmocka_unit_test(test_Y10), cmocka_unit_test(test_Y11), cmocka_unit_test(test_Y12),
        cmocka_unit_test(test_Y13), cmocka_unit_test(test_Y14),
        cmocka_unit_test(test_tie_break_lead_cases_named),
        cmocka_unit_test(test_consent_exclusion_listed),
        cmocka_unit_test(test_no_eligible_lead_explains),
        cmocka_unit_test(test_consent_required_suggests_shien_kaigi),
        cmocka_unit_test(test_tie_break_free_minutes),
        cmocka_unit_test(test_free_minutes_empty_calendar),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
