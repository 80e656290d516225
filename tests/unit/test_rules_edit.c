/* SPDX-License-Identifier: MIT */
/*
 * test_rules_edit.c - the policy is data: editing a copy of default.rules
 * (a weight, a bonus, the tie-break order, a new rule) changes the outcome
 * without recompiling, and the content hash changes with it.
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
#include "support_proc.h"

#define DATA "tests/data/yamanami/"

static city_t city;
static char *dir;
static char *default_text;

static int setup(void **state)
{
    char err[512];
    size_t len;
    if (!city_load_file(DATA "agencies.json", &city, err, sizeof err))
        return -1;
    default_text = read_file("rules/default.rules", &len);
    dir = support_mkdtemp("rules-edit");
    return default_text && dir ? 0 : -1;
}

static int teardown(void **state)
{
    city_free(&city);
    free(default_text);
    support_rmtree(dir);
    free(dir);
    return 0;
}

/* Copy of default.rules with `from` replaced by `to` (must occur once),
 * written to a file and loaded from it. */
static ruleset_t *edited(const char *from, const char *to)
{
    const char *at = strstr(default_text, from);
    assert_non_null(at);
    assert_null(strstr(at + 1, from));
    strbuf_t b;
    strbuf_init(&b);
    strbuf_add(&b, default_text, (size_t)(at - default_text));
    strbuf_puts(&b, to);
    strbuf_puts(&b, at + strlen(from));
    char *path = support_path(dir, "edited.rules");
    assert_int_equal(support_write_file(path, b.s, b.len), 0);
    char err[512];
    ruleset_t *rs = rules_load_file(path, err, sizeof err);
    if (!rs)
        fail_msg("%s", err);
    free(path);
    strbuf_free(&b);
    return rs;
}

static char *lead_of(const ruleset_t *rs, const char *case_id)
{
    char path[256], err[512];
    snprintf(path, sizeof path, DATA "cases/%s.json", case_id);
    case_t c;
    assert_true(case_load_file(path, &c, err, sizeof err));
    proposal_t p;
    rules_env_t env = { NULL, NULL };
    rules_propose(rs, &city, &c, &env, &p);
    char *lead = p.status == PROPOSAL_OK ? xstrdup(p.cands[p.lead.chosen].agency->id)
                                         : xasprintf("error:%s", proposal_error_code(&p));
    proposal_free(&p);
    case_free(&c);
    return lead;
}

static ruleset_t *original(void)
{
    char err[512];
    ruleset_t *rs = rules_load_file("rules/default.rules", err, sizeof err);
    assert_non_null(rs);
    return rs;
}

static void expect_change(const char *case_id, const char *from, const char *to,
                          const char *before, const char *after)
{
    ruleset_t *a = original(), *b = edited(from, to);
    char *la = lead_of(a, case_id), *lb = lead_of(b, case_id);
    assert_string_equal(la, before);
    assert_string_equal(lb, after);
    assert_string_not_equal(rules_hash(a), rules_hash(b));
    free(la);
    free(lb);
    rules_free(a);
    rules_free(b);
}

/* Y-05: 精神保健 35 beats 教育 25 + 端緒 5; lowering the weight to 20
 * hands the lead to the school social worker (ssw, 30). */
static void test_weight_edit_changes_lead(void **s)
{
    expect_change("Y-05", "score 精神保健 +35", "score 精神保健 +20", "hoken", "ssw");
}

/* Y-09: raising the first-contact bonus does not matter (hogo is already
 * first contact) but lowering 保護 below 障害 hands the lead over. */
static void test_field_weight_edit_welfare(void **s)
{
    expect_change("Y-09", "score 保護 +50", "score 保護 +10", "hogo", "sodan-nozomi");
}

/* Y-08: with the id as the only tie-break, kikan-shogai wins the tie. */
static void test_tiebreak_order_edit(void **s)
{
    expect_change("Y-08", "tiebreak lead-cases, free-minutes 10, id", "tiebreak id",
                  "sodan-hikari", "kikan-shogai");
}

/* Y-01: a large first-contact bonus makes the first agency (jiritsu) lead:
 * exactly the 抱え込み the small default bonus prevents. */
static void test_bonus_edit(void **s)
{
    expect_change("Y-01", "bonus first-contact  +5", "bonus first-contact +80",
                  "houkatsu-chuo", "jiritsu");
}

/* Y-12 has no features: a new rule on age alone creates a candidate. */
static void test_new_rule(void **s)
{
    expect_change("Y-12", "rule guardianship",
                  "rule adult\n  when member relation 本人 age 18-64\n  score 就労 +5\n"
                  "  reason \"稼働年齢の本人\"\n\nrule guardianship",
                  "error:no-candidate", "hellowork");
}

/* Dropping the forced rule for elder abuse: Y-04 is then decided on
 * points, which still gives houkatsu-seibu, but not forced. */
static void test_remove_force(void **s)
{
    ruleset_t *b = edited("  force 高齢 precedence 3\n", "");
    char path[256], err[512];
    snprintf(path, sizeof path, DATA "cases/%s.json", "Y-04");
    case_t c;
    assert_true(case_load_file(path, &c, err, sizeof err));
    proposal_t p;
    rules_env_t env = { NULL, NULL };
    rules_propose(b, &city, &c, &env, &p);
    assert_int_equal(p.status, PROPOSAL_OK);
    assert_false(p.forced);
    assert_string_equal(p.cands[p.lead.chosen].agency->id, "houkatsu-seibu");
    proposal_free(&p);
    case_free(&c);
    rules_free(b);
}

/* The hash is the SHA-256 of the file bytes: same text, same hash. */
static void test_hash_is_content_hash(void **s)
{
    ruleset_t *a = original(), *b = edited("# やまなみ市既定方針 v1", "# やまなみ市既定方針 v1");
    assert_string_equal(rules_hash(a), rules_hash(b));
    rules_free(a);
    rules_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weight_edit_changes_lead),
        cmocka_unit_test(test_field_weight_edit_welfare),
        cmocka_unit_test(test_tiebreak_order_edit),
        cmocka_unit_test(test_bonus_edit),
        cmocka_unit_test(test_new_rule),
        cmocka_unit_test(test_remove_force),
        cmocka_unit_test(test_hash_is_content_hash),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
