/* SPDX-License-Identifier: MIT */
/*
 * test_rules_lang.c - the semantics of each construct of the rule language
 * on small hand-made rule sets, cities and cases: every atom (household
 * has/lacks, member age/relation/has/lacks, urgent, meeting, district),
 * OR between `when` lines and AND inside one, member atoms met by
 * different members, force precedence, forced fallback, exclude-field,
 * bonuses, eligibility switches and tie-break order.
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

/* A city: a-koreisha (高齢, 北部 only), b-shogai (障害), c-kodomo (子ども,
 * not a 支援会議 member), d-kodomo2 (子ども), e-kyodo (協働). */
static const char *city_json =
    "{\"city\":\"t\",\"timezone\":\"Asia/Tokyo\",\"districts\":[\"北部\",\"南部\"],\"agencies\":["
    "{\"id\":\"a-koreisha\",\"name\":\"A\",\"fields\":[\"高齢\"],\"areas\":[\"北部\"],\"email\":\"a@x\","
    "\"hours\":{\"mon-fri\":\"09:00-17:00\"},\"travel_minutes\":0,\"max_lead_cases\":5,\"lead_cases\":1,"
    "\"support_meeting_member\":true,\"calendars\":[]},"
    "{\"id\":\"b-shogai\",\"name\":\"B\",\"fields\":[\"障害\"],\"areas\":[],\"email\":\"b@x\","
    "\"hours\":{\"mon-fri\":\"09:00-17:00\"},\"travel_minutes\":0,\"max_lead_cases\":5,\"lead_cases\":5,"
    "\"support_meeting_member\":true,\"calendars\":[]},"
    "{\"id\":\"c-kodomo\",\"name\":\"C\",\"fields\":[\"子ども\"],\"areas\":[],\"email\":\"c@x\","
    "\"hours\":{\"mon-fri\":\"09:00-17:00\"},\"travel_minutes\":0,\"max_lead_cases\":5,\"lead_cases\":2,"
    "\"support_meeting_member\":false,\"calendars\":[]},"
    "{\"id\":\"d-kodomo2\",\"name\":\"D\",\"fields\":[\"子ども\"],\"areas\":[],\"email\":\"d@x\","
    "\"hours\":{\"mon-fri\":\"09:00-17:00\"},\"travel_minutes\":0,\"max_lead_cases\":5,\"lead_cases\":2,"
    "\"support_meeting_member\":true,\"calendars\":[]},"
    "{\"id\":\"e-kyodo\",\"name\":\"E\",\"fields\":[\"協働\",\"高齢\"],\"areas\":[],\"email\":\"e@x\","
    "\"hours\":{\"mon-fri\":\"09:00-17:00\"},\"travel_minutes\":0,\"max_lead_cases\":5,\"lead_cases\":0,"
    "\"support_meeting_member\":true,\"calendars\":[]}]}";

static city_t city;

static int setup(void **s)
{
    char err[256];
    json_t *j = json_loads(city_json, 0, NULL);
    bool ok = j && city_from_json(j, NULL, &city, err, sizeof err);
    if (!ok)
        fprintf(stderr, "city: %s\n", err);
    json_decref(j);
    return ok ? 0 : -1;
}

static int teardown(void **s)
{
    city_free(&city);
    return 0;
}

#define HEAD "exclude-field 協働\neligible district\neligible capacity\n"

static ruleset_t *parse(const char *text)
{
    char err[512];
    ruleset_t *rs = rules_parse(text, strlen(text), "t.rules", err, sizeof err);
    if (!rs)
        fail_msg("%s", err);
    return rs;
}

/* members: "rel:age:f1/f2;rel:age:" ; household features "f1/f2" */
static void make_case(case_t *c, const char *meeting, const char *district, bool urgent,
                      const char *hh, const char *members)
{
    json_t *feats = json_array(), *ms = json_array();
    char buf[512];
    snprintf(buf, sizeof buf, "%s", hh);
    for (char *t = strtok(buf, "/"); t; t = strtok(NULL, "/"))
        json_array_append_new(feats, json_string(t));
    char mbuf[512];
    snprintf(mbuf, sizeof mbuf, "%s", members);
    char *save = NULL;
    for (char *m = strtok_r(mbuf, ";", &save); m; m = strtok_r(NULL, ";", &save)) {
        char *rel = m, *age = strchr(rel, ':');
        *age++ = 0;
        char *fs = strchr(age, ':');
        *fs++ = 0;
        json_t *mf = json_array();
        char *save2 = NULL;
        for (char *f = strtok_r(fs, "/", &save2); f; f = strtok_r(NULL, "/", &save2))
            json_array_append_new(mf, json_string(f));
        json_array_append_new(ms, json_pack("{s:s, s:i, s:o, s:b}", "relation", rel, "age", atoi(age),
                                            "features", mf, "consent", 1));
    }
    json_t *j = json_pack("{s:s, s:s, s:s, s:b, s:o, s:o}", "id", "T", "district", district,
                          "meeting_type", meeting, "urgent", urgent, "features", feats, "members", ms);
    char err[256];
    if (!case_from_json(j, c, err, sizeof err))
        fail_msg("case: %s", err);
    json_decref(j);
}

static bool fires(const char *rules, const char *meeting, const char *district, bool urgent,
                  const char *hh, const char *members)
{
    ruleset_t *rs = parse(rules);
    case_t c;
    make_case(&c, meeting, district, urgent, hh, members);
    proposal_t p;
    rules_propose(rs, &city, &c, NULL, &p);
    bool fired = p.nfired == 1;
    proposal_free(&p);
    case_free(&c);
    rules_free(rs);
    return fired;
}

#define RULE(cond) HEAD "rule r\n  when " cond "\n  score 障害 +10\n  reason \"x\"\n"
#define J "重層的支援会議"
#define S "支援会議"

static void test_atoms(void **s)
{
    assert_true(fires(RULE("household has A, B"), J, "北部", false, "B", "本人:30:"));
    assert_false(fires(RULE("household has A, B"), J, "北部", false, "C", "本人:30:A"));
    assert_true(fires(RULE("household lacks A"), J, "北部", false, "B", "本人:30:"));
    assert_false(fires(RULE("household lacks A, B"), J, "北部", false, "B", "本人:30:"));
    assert_true(fires(RULE("member has A"), J, "北部", false, "", "本人:30:;子:3:A"));
    assert_false(fires(RULE("member has A"), J, "北部", false, "A", "本人:30:"));
    assert_true(fires(RULE("member lacks A"), J, "北部", false, "", "本人:30:A;子:3:"));
    assert_false(fires(RULE("member lacks A"), J, "北部", false, "", "本人:30:A"));
    assert_true(fires(RULE("urgent"), J, "北部", true, "", "本人:30:"));
    assert_false(fires(RULE("urgent"), J, "北部", false, "", "本人:30:"));
    assert_true(fires(RULE("meeting 支援会議"), S, "北部", false, "", "本人:30:"));
    assert_false(fires(RULE("meeting 支援会議"), J, "北部", false, "", "本人:30:"));
    assert_true(fires(RULE("district 南部, 北部"), J, "北部", false, "", "本人:30:"));
    assert_false(fires(RULE("district 南部"), J, "北部", false, "", "本人:30:"));
}

static void test_member_filters(void **s)
{
    /* age boundaries: < 18 means 17 yes, 18 no */
    assert_true(fires(RULE("member age < 18"), J, "北部", false, "", "本人:17:"));
    assert_false(fires(RULE("member age < 18"), J, "北部", false, "", "本人:18:"));
    assert_true(fires(RULE("member age >= 65"), J, "北部", false, "", "本人:65:"));
    assert_false(fires(RULE("member age > 65"), J, "北部", false, "", "本人:65:"));
    assert_true(fires(RULE("member age <= 64"), J, "北部", false, "", "本人:64:"));
    assert_true(fires(RULE("member age = 40"), J, "北部", false, "", "本人:40:"));
    assert_true(fires(RULE("member age 40-64"), J, "北部", false, "", "本人:40:"));
    assert_true(fires(RULE("member age 40-64"), J, "北部", false, "", "本人:64:"));
    assert_false(fires(RULE("member age 40-64"), J, "北部", false, "", "本人:65:"));
    /* all filters of one member atom must hold for the SAME member */
    assert_false(fires(RULE("member age < 18 has A"), J, "北部", false, "", "本人:40:A;子:5:"));
    assert_true(fires(RULE("member age < 18 has A"), J, "北部", false, "", "本人:40:;子:5:A"));
    assert_true(fires(RULE("member relation 子, 孫 has A"), J, "北部", false, "", "本人:80:A;孫:15:A"));
    assert_false(fires(RULE("member relation 子 has A"), J, "北部", false, "", "本人:80:A;孫:15:A"));
    /* two member atoms may be different members */
    assert_true(fires(RULE("member age >= 75 and member age 40-64 has H"), J, "北部", false, "",
                      "本人:80:;子:50:H"));
    assert_false(fires(RULE("member age >= 75 and member age 40-64 has H"), J, "北部", false, "",
                       "本人:70:;子:50:H"));
}

static void test_or_and(void **s)
{
    const char *r = HEAD "rule r\n  when household has A and urgent\n  when member has B\n"
                    "  score 障害 +10\n  reason \"x\"\n";
    assert_true(fires(r, J, "北部", true, "A", "本人:30:"));
    assert_false(fires(r, J, "北部", false, "A", "本人:30:"));
    assert_true(fires(r, J, "北部", false, "", "本人:30:B"));
}

static proposal_t run(ruleset_t *rs, case_t *c, const char *meeting, const char *hh,
                      const char *members)
{
    make_case(c, meeting, "北部", false, hh, members);
    proposal_t p;
    rules_propose(rs, &city, c, NULL, &p);
    return p;
}

static const char *lead(const proposal_t *p)
{
    return p->status == PROPOSAL_OK ? p->cands[p->lead.chosen].agency->id : proposal_error_code(p);
}

static void test_force_precedence_and_fallback(void **s)
{
    ruleset_t *rs = parse(HEAD
        "rule k\n  when household has K\n  score 子ども +10\n  force 子ども precedence 2\n  reason \"k\"\n"
        "rule e\n  when household has E\n  score 高齢 +50\n  force 高齢 precedence 1\n  reason \"e\"\n"
        "rule d\n  when household has D\n  score 障害 +90\n  reason \"d\"\n");
    case_t c;
    proposal_t p = run(rs, &c, J, "K/D", "本人:30:");
    /* forced 子ども beats the 90-point 障害; c and d tie on 10 + 2 lead cases -> id */
    assert_string_equal(lead(&p), "c-kodomo");
    assert_true(p.forced);
    assert_int_equal(p.lead.decided_by, TB_ID);
    proposal_free(&p);
    case_free(&c);
    /* both forced: precedence 1 (高齢) wins although 子ども fired first */
    p = run(rs, &c, J, "K/E", "本人:30:");
    assert_string_equal(lead(&p), "a-koreisha");
    assert_string_equal(rules_rule_id(rs, (size_t)p.forced_rule), "e");
    proposal_free(&p);
    case_free(&c);
    /* under 支援会議 c-kodomo is not a member: d-kodomo2 is the forced lead */
    p = run(rs, &c, S, "K", "本人:30:");
    assert_string_equal(lead(&p), "d-kodomo2");
    assert_true(p.forced);
    assert_int_equal(p.lead.decided_by, TB_ONLY);
    proposal_free(&p);
    case_free(&c);
    rules_free(rs);
    /* forced field with no eligible agency: fall back to the best score */
    rs = parse(HEAD
        "rule k\n  when household has K\n  force 障害 precedence 1\n  reason \"k\"\n"
        "rule e\n  when household has E\n  score 高齢 +5\n  reason \"e\"\n");
    p = run(rs, &c, J, "K/E", "本人:30:");
    assert_string_equal(lead(&p), "a-koreisha");   /* b-shogai is at capacity */
    assert_false(p.forced);
    assert_true(p.forced_fallback);
    char *text = rules_explain_text(&p);
    assert_non_null(strstr(text, "主担当になれる障害分野の機関がないため"));
    free(text);
    proposal_free(&p);
    case_free(&c);
    rules_free(rs);
}

static void test_exclude_bonus_and_eligibility(void **s)
{
    /* e-kyodo covers 高齢 too, but 協働 is excluded; a-koreisha is 北部 only */
    ruleset_t *rs = parse(HEAD "rule e\n  when household has E\n  score 高齢 +5\n  reason \"e\"\n");
    case_t c;
    proposal_t p = run(rs, &c, J, "E", "本人:30:");
    assert_string_equal(lead(&p), "a-koreisha");
    for (size_t i = 0; i < p.ncands; i++)
        assert_string_not_equal(p.cands[i].agency->id, "e-kyodo");
    proposal_free(&p);
    case_free(&c);
    rules_free(rs);
    /* without `eligible capacity` the capped agency may lead */
    rs = parse("rule d\n  when household has D\n  score 障害 +5\n  reason \"d\"\n");
    p = run(rs, &c, J, "D", "本人:30:");
    assert_string_equal(lead(&p), "b-shogai");
    proposal_free(&p);
    case_free(&c);
    rules_free(rs);
    /* with it: no eligible lead, and the failure label is the file's */
    rs = parse("eligible capacity \"上限です\"\nrule d\n  when household has D\n  score 障害 +5\n  reason \"d\"\n");
    p = run(rs, &c, J, "D", "本人:30:");
    assert_string_equal(lead(&p), "no-eligible-lead");
    char *text = rules_explain_text(&p);
    assert_non_null(strstr(text, "上限です"));
    free(text);
    proposal_free(&p);
    case_free(&c);
    rules_free(rs);
    /* bonus: first contact lifts d-kodomo2 over c-kodomo */
    rs = parse(HEAD "bonus first-contact +3 \"端緒\"\n"
                    "rule k\n  when household has K\n  score 子ども +10\n  reason \"k\"\n");
    make_case(&c, J, "北部", false, "K", "本人:30:");
    free(c.first_contact);
    c.first_contact = xstrdup("d-kodomo2");
    rules_propose(rs, &city, &c, NULL, &p);
    assert_string_equal(lead(&p), "d-kodomo2");
    assert_int_equal(p.lead.decided_by, TB_TOTAL);
    assert_int_equal(p.cands[p.lead.chosen].total, 13);
    proposal_free(&p);
    case_free(&c);
    rules_free(rs);
}

static int64_t fake_free(void *ctx, const agency_t *a, int days)
{
    assert_int_equal(days, 7);
    return !strcmp(a->id, "d-kodomo2") ? 600 : 300;
}

static void test_tiebreak_order(void **s)
{
    /* free-minutes first (7 days): d-kodomo2 has more free time */
    ruleset_t *rs = parse(HEAD "tiebreak free-minutes 7, lead-cases, id\n"
                          "rule k\n  when household has K\n  score 子ども +10\n  reason \"k\"\n");
    case_t c;
    make_case(&c, J, "北部", false, "K", "本人:30:");
    rules_env_t env = { fake_free, NULL };
    proposal_t p;
    rules_propose(rs, &city, &c, &env, &p);
    assert_string_equal(lead(&p), "d-kodomo2");
    assert_int_equal(p.lead.decided_by, TB_FREE_MINUTES);
    json_t *j = rules_explain_json(&p);
    json_t *tb = json_object_get(json_object_get(j, "explanation"), "tie_break");
    assert_int_equal(json_integer_value(json_object_get(tb, "step_number")), 1);
    assert_int_equal(json_integer_value(json_object_get(tb, "winner_free_minutes")), 600);
    assert_non_null(strstr(json_string_value(json_object_get(j, "text")), "今後7営業日"));
    json_decref(j);
    proposal_free(&p);
    case_free(&c);
    rules_free(rs);
}

static void test_supports_dedup(void **s)
{
    /* two fields whose best agency is the same: the second adds no one */
    ruleset_t *rs = parse(HEAD "field 子育て\n"
        "rule k\n  when household has K\n  score 高齢 +50\n  score 子ども +20\n  reason \"k\"\n");
    case_t c;
    proposal_t p = run(rs, &c, J, "K", "本人:30:");
    assert_string_equal(lead(&p), "a-koreisha");
    assert_int_equal(p.nsupports, 1);
    assert_int_equal(p.supports[0].reason, 0);
    assert_string_equal(p.cands[p.supports[0].chosen].agency->id, "c-kodomo");
    proposal_free(&p);
    case_free(&c);
    rules_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_atoms),
        cmocka_unit_test(test_member_filters),
        cmocka_unit_test(test_or_and),
        cmocka_unit_test(test_force_precedence_and_fallback),
        cmocka_unit_test(test_exclude_bonus_and_eligibility),
        cmocka_unit_test(test_tiebreak_order),
        cmocka_unit_test(test_supports_dedup),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
