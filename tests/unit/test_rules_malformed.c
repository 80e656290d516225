/* SPDX-License-Identifier: MIT */
/*
 * test_rules_malformed.c - every kind of malformed rule file gives a
 * "file:line:col: message" error at the right place, and none crashes.
 *
 * Each entry is a small rule file with one mistake, the exact line and
 * column (characters, not bytes) the error must point at, and a word the
 * message must contain so that the error is the intended one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rules.h"

#define OK_RULE "rule r1\n  when member has 要介護\n  score 高齢 +40\n  reason \"理由\"\n"

typedef struct bad {
    const char *kind;
    const char *text;
    size_t      len;        /* 0 = strlen */
    int         line, col;
    const char *needle;     /* part of the message */
} bad_t;

static const bad_t bad_files[] = {
    { "unknown keyword", OK_RULE "polcy \"x\"\n", 0, 5, 1, "未知のキーワード「polcy」" },
    { "statement outside rule", "when member has 要介護\n" OK_RULE, 0, 1, 1, "rule 行の後" },
    { "unterminated string", "rule r1\n  when member has 要介護\n  score 高齢 +40\n  reason \"理由\n", 0, 4, 10, "unterminated string" },
    { "missing rule id", "rule\n", 0, 1, 5, "ルールID" },
    { "bad rule id", "rule 高齢/虐待\n", 0, 1, 6, "bad rule id" },
    { "duplicate rule id", OK_RULE OK_RULE, 0, 5, 6, "duplicate rule id" },
    { "rule without condition", "rule r1\n  score 高齢 +40\n  reason \"x\"\n", 0, 1, 1, "when 行" },
    { "rule without effect", "rule r1\n  when member has 要介護\n  reason \"x\"\n", 0, 1, 1, "score 行も force 行も" },
    { "rule without reason", "rule r1\n  when member has 要介護\n  score 高齢 +40\n", 0, 1, 1, "reason 行" },
    { "duplicate reason", OK_RULE "  reason \"また\"\n", 0, 5, 3, "duplicate reason" },
    { "unknown field", "rule r1\n  when member has 要介護\n  score 高令 +40\n", 0, 3, 9, "未知の分野「高令」" },
    { "points not a number", "rule r1\n  when member has 要介護\n  score 高齢 たくさん\n", 0, 3, 12, "points must be an integer" },
    { "points out of range", "rule r1\n  when member has 要介護\n  score 高齢 +99999\n", 0, 3, 12, "points must be an integer" },
    { "force without precedence", "rule r1\n  when member has DV\n  force DV\n", 0, 3, 11, "precedence" },
    { "bad precedence", "rule r1\n  when member has DV\n  force DV precedence 0\n", 0, 3, 23, "bad precedence" },
    { "duplicate precedence", "rule a\n  when member has DV\n  force DV precedence 1\n  reason \"x\"\n"
      "rule b\n  when member has 虐待\n  force 子ども precedence 1\n  reason \"y\"\n", 0, 7, 24, "duplicate precedence" },
    { "unknown condition subject", "rule r1\n  when person has 要介護\n", 0, 2, 8, "未知の条件「person」" },
    { "unknown member filter", "rule r1\n  when member height > 3\n", 0, 2, 15, "unknown member condition" },
    { "bad age value", "rule r1\n  when member age < 十八\n", 0, 2, 21, "bad age" },
    { "empty age range", "rule r1\n  when member age 64-40 has ひきこもり\n", 0, 2, 19, "empty age range" },
    { "age without condition", "rule r1\n  when member age\n", 0, 2, 18, "age の後" },
    { "empty feature list", "rule r1\n  when household has\n", 0, 2, 21, "課題" },
    { "dangling comma", "rule r1\n  when member has 要介護,\n", 0, 2, 23, "課題" },
    { "unknown relation", "rule r1\n  when member relation 従兄弟\n", 0, 2, 24, "未知の続柄「従兄弟」" },
    { "dangling and", "rule r1\n  when member age >= 75 and\n", 0, 2, 28, "dangling" },
    { "trailing text", "rule r1\n  when member has 要介護\n  score 高齢 +40\n  reason \"理由\" です\n", 0, 4, 15, "余分な記述" },
    { "reason not quoted", "rule r1\n  when member has 要介護\n  score 高齢 +40\n  reason 理由\n", 0, 4, 10, "quoted string" },
    { "empty reason", "rule r1\n  when member has 要介護\n  score 高齢 +40\n  reason \"\"\n", 0, 4, 10, "empty string" },
    { "unknown bonus", OK_RULE "bonus neighbour +5\n", 0, 5, 7, "unknown bonus" },
    { "unknown eligibility", OK_RULE "eligible age\n", 0, 5, 10, "unknown eligibility" },
    { "unknown tie-break step", OK_RULE "tiebreak lead-cases, coin, id\n", 0, 5, 22, "unknown tie-break step" },
    { "tie-break not ending with id", OK_RULE "tiebreak lead-cases, free-minutes\n", 0, 5, 22, "id" },
    { "duplicate tie-break step", OK_RULE "tiebreak lead-cases, lead-cases, id\n", 0, 5, 22, "duplicate tie-break" },
    { "bad free-minutes days", OK_RULE "tiebreak free-minutes 0, id\n", 0, 5, 23, "bad number of business days" },
    { "duplicate policy", "policy \"a\"\npolicy \"b\"\n" OK_RULE, 0, 2, 1, "duplicate policy" },
    { "unknown meeting type", "rule r1\n  when meeting 会議\n", 0, 2, 16, "unknown meeting type" },
    { "no rules", "# only a comment\npolicy \"x\"\n", 0, 2, 1, "no rules" },
    { "empty file", "", 0, 1, 1, "no rules" },
    { "invalid UTF-8", "rule r1\n  when member has \xff\xfe\n", 0, 2, 19, "invalid UTF-8" },
    { "NUL byte", "rule r1\n  when member has a\0b\n", 30, 2, 20, "NUL" },
    { "control character", "rule r1\n  when member has a\x01\n", 0, 2, 20, "control character" },
    { "duplicate force", "rule r1\n  when member has DV\n  force DV precedence 1\n  force DV precedence 2\n", 0, 4, 3, "duplicate force" },
    { "line starts with a string", OK_RULE "\"x\"\n", 0, 5, 1, "expected a keyword" },
    { "exclude unknown field", "exclude-field 事務局\n" OK_RULE, 0, 1, 15, "未知の分野「事務局」" },
};

static void check_one(const bad_t *b)
{
    char err[1024] = "";
    size_t len = b->len ? b->len : strlen(b->text);
    ruleset_t *rs = rules_parse(b->text, len, "bad.rules", err, sizeof err);
    if (rs) {
        rules_free(rs);
        fail_msg("%s: accepted", b->kind);
    }
    char want[64];
    snprintf(want, sizeof want, "bad.rules:%d:%d: ", b->line, b->col);
    if (strncmp(err, want, strlen(want)) != 0)
        fail_msg("%s: expected position %s got \"%s\"", b->kind, want, err);
    if (!strstr(err, b->needle))
        fail_msg("%s: message lacks \"%s\": %s", b->kind, b->needle, err);
}

static void test_each_malformed_kind(void **state)
{
    size_t n = sizeof bad_files / sizeof *bad_files;
    assert_true(n >= 15);
    for (size_t i = 0; i < n; i++)
        check_one(&bad_files[i]);
}

/* Every prefix of the default rules parses or fails cleanly (no crash,
 * no leak under ASan), and every error carries a position. */
static void test_truncations_never_crash(void **state)
{
    size_t len;
    char *text = read_file("rules/default.rules", &len);
    assert_non_null(text);
    for (size_t cut = 0; cut < len; cut += 7) {
        char err[1024] = "";
        ruleset_t *rs = rules_parse(text, cut, "cut.rules", err, sizeof err);
        if (rs)
            rules_free(rs);
        else
            assert_true(strncmp(err, "cut.rules:", 10) == 0);
    }
    free(text);
}

/* Byte-flips in the default rules: never a crash, always a clean result. */
static void test_mutations_never_crash(void **state)
{
    size_t len;
    char *text = read_file("rules/default.rules", &len);
    assert_non_null(text);
    unsigned seed = 12345;
    const char noise[] = "\"#,<>=-+ \n\xe3\x80\x81x0";
    for (int round = 0; round < 400; round++) {
        char *copy = xmalloc(len + 1);
        memcpy(copy, text, len + 1);
        for (int k = 0; k < 3; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % len;
            seed = seed * 1103515245u + 12345u;
            copy[at] = noise[(seed >> 8) % (sizeof noise - 1)];
        }
        char err[1024] = "";
        ruleset_t *rs = rules_parse(copy, len, "m.rules", err, sizeof err);
        if (rs)
            rules_free(rs);
        else
            assert_true(strncmp(err, "m.rules:", 8) == 0);
        free(copy);
    }
    free(text);
}

static void test_missing_file(void **state)
{
    char err[512];
    assert_null(rules_load_file("tests/data/does-not-exist.rules", err, sizeof err));
    assert_non_null(strstr(err, "does-not-exist.rules:0:0:"));
}

/* Good syntax variants parse: full-width space, 、 as comma, CRLF, BOM. */
static void test_accepts_friendly_variants(void **state)
{
    const char *text = "\xEF\xBB\xBFpolicy \"テスト\"\r\n"
                       "rule r1\r\n"
                       "\xE3\x80\x80when member has 要介護、認知症 age >= 65 # コメント\r\n"
                       "  score 高齢 40\r\n"
                       "  reason \"理由 \\\"引用\\\"\"\r\n";
    char err[512] = "";
    ruleset_t *rs = rules_parse(text, strlen(text), "ok.rules", err, sizeof err);
    if (!rs)
        fail_msg("%s", err);
    assert_int_equal(rules_count(rs), 1);
    assert_string_equal(rules_policy(rs), "テスト");
    assert_string_equal(rules_rule_reason(rs, 0), "理由 \"引用\"");
    assert_int_equal(strlen(rules_hash(rs)), 64);
    rules_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_malformed_kind),
        cmocka_unit_test(test_truncations_never_crash),
        cmocka_unit_test(test_mutations_never_crash),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_accepts_friendly_variants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
