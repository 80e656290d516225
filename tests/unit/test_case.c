/* SPDX-License-Identifier: MIT */
/*
 * test_case.c - the case format: every fixture case parses and survives a
 * JSON round trip; each kind of bad input is refused with a message that
 * names the field; unknown features are kept and warned about with the
 * list of known features; registry cross-checks name the bad reference.
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

#define DATA "tests/data/yamanami/"

static const char *valid =
    "{\"id\":\"T-1\",\"title\":\"t\",\"district\":\"中央\",\"meeting_type\":\"重層的支援会議\","
    "\"first_contact\":\"csw\",\"involved\":[\"jiritsu\"],\"urgent\":true,\"features\":[\"8050\"],"
    "\"members\":[{\"relation\":\"本人\",\"age\":80,\"features\":[\"要介護\"],\"consent\":true,"
    "\"consent_excludes\":[\"hikikomori\"]},"
    "{\"relation\":\"長男\",\"age\":null,\"features\":[],\"consent\":false}]}";

static json_t *doc(void)
{
    json_error_t je;
    json_t *j = json_loads(valid, 0, &je);
    assert_non_null(j);
    return j;
}

static void test_fixture_cases_parse_and_round_trip(void **s)
{
    for (int i = 1; i <= 14; i++) {
        char path[128], err[512];
        snprintf(path, sizeof path, DATA "cases/Y-%02d.json", i);
        case_t c, d;
        if (!case_load_file(path, &c, err, sizeof err))
            fail_msg("%s: %s", path, err);
        assert_non_null(case_self(&c));
        json_t *j = case_to_json(&c);
        assert_true(case_from_json(j, &d, err, sizeof err));
        json_t *k = case_to_json(&d);
        assert_true(json_equal(j, k));
        json_decref(j);
        json_decref(k);
        case_free(&c);
        case_free(&d);
    }
}

static void test_valid_document_fields(void **s)
{
    json_t *j = doc();
    case_t c;
    char err[512];
    assert_true(case_from_json(j, &c, err, sizeof err));
    assert_string_equal(c.id, "T-1");
    assert_true(c.urgent);
    assert_int_equal(c.nmembers, 2);
    assert_false(c.members[1].has_age);
    assert_int_equal(c.members[0].age, 80);
    assert_string_equal(case_self(&c)->consent_excludes.v[0], "hikikomori");
    case_free(&c);
    json_decref(j);
}

/* Apply a JSON mutation (set key at path to value) and expect an error
 * starting with the given field prefix. */
static void expect_error(const char *member_or_null, const char *key, json_t *value,
                         const char *field, const char *needle)
{
    json_t *j = doc();
    json_t *target = j;
    if (member_or_null)
        target = json_array_get(json_object_get(j, "members"), (size_t)atoi(member_or_null));
    if (value)
        json_object_set_new(target, key, value);
    else
        json_object_del(target, key);
    case_t c;
    char err[512] = "";
    if (case_from_json(j, &c, err, sizeof err)) {
        case_free(&c);
        fail_msg("accepted bad %s", field);
    }
    if (strncmp(err, field, strlen(field)))
        fail_msg("error does not name %s: %s", field, err);
    if (needle && !strstr(err, needle))
        fail_msg("error lacks \"%s\": %s", needle, err);
    json_decref(j);
}

static void test_bad_fields_named(void **s)
{
    expect_error(NULL, "id", NULL, "id:", "必須");
    expect_error(NULL, "id", json_string(""), "id:", NULL);
    expect_error(NULL, "id", json_string("a/b"), "id:", NULL);
    /* the one id rule (ids.h): length, control characters, U+0085, U+2028 */
    char long_id[5001];
    memset(long_id, 'A', sizeof long_id - 1);
    long_id[5000] = '\0';
    expect_error(NULL, "id", json_string(long_id), "id:", "64");
    long_id[65] = '\0';
    expect_error(NULL, "id", json_string(long_id), "id:", "64");
    expect_error(NULL, "id", json_string("Y-01\x01"), "id:", NULL);
    expect_error(NULL, "id", json_string("Y-01\xc2\x85"), "id:", NULL);
    expect_error(NULL, "id", json_string("Y-01\xe2\x80\xa8"), "id:", NULL);
    expect_error(NULL, "id", json_string(".hidden"), "id:", NULL);
    expect_error(NULL, "id", json_integer(3), "id:", NULL);
    expect_error(NULL, "district", NULL, "district:", NULL);
    expect_error(NULL, "meeting_type", json_string("ケース会議"), "meeting_type:", "支援会議");
    expect_error(NULL, "involved", json_string("jiritsu"), "involved:", NULL);
    expect_error(NULL, "involved", json_pack("[i]", 1), "involved[0]:", NULL);
    expect_error(NULL, "urgent", json_string("yes"), "urgent:", NULL);
    expect_error(NULL, "features", json_pack("[s,n]", "DV"), "features[1]:", NULL);
    expect_error(NULL, "members", json_array(), "members:", NULL);
    expect_error(NULL, "members", NULL, "members:", NULL);
    expect_error(NULL, "first_contact", json_integer(1), "first_contact:", NULL);
    expect_error("1", "relation", json_string("従兄"), "members[1].relation:", "従兄");
    expect_error("1", "relation", json_string("本人"), "members[1].relation:", "本人は1人");
    expect_error("0", "relation", json_string("父"), "members:", "本人");
    expect_error("1", "relation", NULL, "members[1].relation:", NULL);
    expect_error("0", "age", json_integer(-1), "members[0].age:", NULL);
    expect_error("0", "age", json_integer(200), "members[0].age:", NULL);
    expect_error("0", "age", json_string("80"), "members[0].age:", NULL);
    expect_error("0", "age", json_real(80.5), "members[0].age:", NULL);
    expect_error("1", "consent", NULL, "members[1].consent:", NULL);
    expect_error("1", "consent", json_integer(1), "members[1].consent:", NULL);
    expect_error("0", "consent_excludes", json_pack("[i]", 3), "members[0].consent_excludes[0]:", NULL);
    expect_error("0", "features", json_object(), "members[0].features:", NULL);
}

static void test_not_an_object(void **s)
{
    json_t *arr = json_array();
    case_t c;
    char err[256];
    assert_false(case_from_json(arr, &c, err, sizeof err));
    assert_non_null(strstr(err, "case:"));
    json_t *m = doc();
    json_array_set_new(json_object_get(m, "members"), 0, json_string("本人"));
    assert_false(case_from_json(m, &c, err, sizeof err));
    assert_non_null(strstr(err, "members[0]:"));
    json_decref(arr);
    json_decref(m);
}

static void test_bad_json_file(void **s)
{
    case_t c;
    char err[256];
    assert_false(case_load_file("tests/data/yamanami/agencies.json", &c, err, sizeof err));
    assert_false(case_load_file("tests/data/no-such-case.json", &c, err, sizeof err));
    assert_non_null(strstr(err, "no-such-case.json"));
}

static void test_relation_vocabulary(void **s)
{
    const char *must[] = { "本人", "妻", "夫", "配偶者", "父", "母", "子", "長男", "長女",
                           "祖父", "祖母", "孫", "兄", "姉", "弟", "妹", "きょうだい",
                           "同居人", "その他" };
    for (size_t i = 0; i < sizeof must / sizeof *must; i++)
        assert_true(case_relation_known(must[i]));
    assert_false(case_relation_known("友人"));
    assert_false(case_relation_known(""));
}

static void test_unknown_feature_warned_and_kept(void **s)
{
    json_t *j = doc();
    json_array_append_new(json_object_get(json_array_get(json_object_get(j, "members"), 0),
                                          "features"), json_string("認知賞"));
    json_array_append_new(json_object_get(j, "features"), json_string("ゴミ問題"));
    case_t c;
    char err[256];
    assert_true(case_from_json(j, &c, err, sizeof err));
    assert_true(strvec_contains(&c.members[0].features, "認知賞"));
    ruleset_t *rs = rules_load_file("rules/default.rules", err, sizeof err);
    assert_non_null(rs);
    strvec_t known, warnings;
    strvec_init(&known);
    strvec_init(&warnings);
    rules_known_features(rs, &known);
    assert_true(strvec_contains(&known, "認知症"));
    assert_true(strvec_contains(&known, "ヤングケアラー"));
    assert_int_equal(case_feature_warnings(&c, &known, &warnings), 2);
    assert_non_null(strstr(warnings.v[0], "features[1]"));
    assert_non_null(strstr(warnings.v[0], "ゴミ問題"));
    assert_non_null(strstr(warnings.v[1], "members[0].features[1]"));
    assert_non_null(strstr(warnings.v[1], "認知賞"));
    assert_non_null(strstr(warnings.v[1], "認知症"));      /* the list of known features */
    strvec_free(&known);
    strvec_free(&warnings);
    rules_free(rs);
    case_free(&c);
    json_decref(j);
}

static void test_rules_extend_vocabulary(void **s)
{
    const char *text = "feature ゴミ問題\nrule r\n  when member has 孤独死リスク\n"
                       "  score 地域 +10\n  reason \"x\"\n";
    char err[256];
    ruleset_t *rs = rules_parse(text, strlen(text), "v.rules", err, sizeof err);
    assert_non_null(rs);
    strvec_t known;
    strvec_init(&known);
    rules_known_features(rs, &known);
    assert_true(strvec_contains(&known, "ゴミ問題"));
    assert_true(strvec_contains(&known, "孤独死リスク"));
    assert_true(strvec_contains(&known, "DV"));
    strvec_free(&known);
    rules_free(rs);
}

static void test_city_cross_check(void **s)
{
    city_t city;
    char err[512];
    assert_true(city_load_file(DATA "agencies.json", &city, err, sizeof err));
    struct { const char *key; json_t *value; int member; const char *field; } bad[] = {
        { "district", json_string("月面"), -1, "district:" },
        { "first_contact", json_string("nobody"), -1, "first_contact:" },
        { "involved", json_pack("[s,s]", "jiritsu", "ghost"), -1, "involved[1]:" },
        { "consent_excludes", json_pack("[s]", "ghost"), 0, "members[0].consent_excludes[0]:" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *j = doc();
        json_t *t = bad[i].member < 0 ? j :
                    json_array_get(json_object_get(j, "members"), (size_t)bad[i].member);
        json_object_set_new(t, bad[i].key, bad[i].value);
        case_t c;
        assert_true(case_from_json(j, &c, err, sizeof err));
        assert_false(case_check_city(&c, &city, err, sizeof err));
        if (strncmp(err, bad[i].field, strlen(bad[i].field)))
            fail_msg("expected %s: %s", bad[i].field, err);
        case_free(&c);
        json_decref(j);
    }
    json_t *j = doc();
    case_t c;
    assert_true(case_from_json(j, &c, err, sizeof err));
    assert_true(case_check_city(&c, &city, err, sizeof err));
    case_free(&c);
    json_decref(j);
    city_free(&city);
}

/* DESIGN "Meetings and consent": every type but 支援会議 needs consent. */
static void test_consent_by_meeting_type(void **s)
{
    case_t c;
    char err[256];
    assert_true(case_load_file("tests/data/yamanami/cases/Y-06.json", &c, err, sizeof err));
    assert_false(case_type_needs_consent("支援会議"));
    const char *types[] = { "重層的支援会議", "個別ケース会議", "定例会議", NULL };
    for (const char **t = types; *t; t++) {
        assert_true(case_type_needs_consent(*t));
        assert_false(case_shares_with(&c, *t, "hikikomori"));     /* excluded */
        assert_true(case_shares_with(&c, *t, "jiritsu"));
    }
    assert_true(case_shares_with(&c, "支援会議", "hikikomori"));  /* statutory */
    assert_true(case_excludes(&c, "hikikomori"));
    assert_false(case_excludes(&c, "jiritsu"));
    case_free(&c);
    assert_true(case_load_file("tests/data/yamanami/cases/Y-11.json", &c, err, sizeof err));
    assert_false(case_shares_with(&c, "個別ケース会議", "jiritsu"));  /* no consent */
    assert_true(case_shares_with(&c, "支援会議", "jiritsu"));
    case_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_cases_parse_and_round_trip),
        cmocka_unit_test(test_valid_document_fields),
        cmocka_unit_test(test_bad_fields_named),
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_bad_json_file),
        cmocka_unit_test(test_relation_vocabulary),
        cmocka_unit_test(test_unknown_feature_warned_and_kept),
        cmocka_unit_test(test_rules_extend_vocabulary),
        cmocka_unit_test(test_city_cross_check),
        cmocka_unit_test(test_consent_by_meeting_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
