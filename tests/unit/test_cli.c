/* SPDX-License-Identifier: MIT */
/*
 * test_cli.c - pure helpers of the tsunagu client: argument parsing,
 * display width of Japanese text, and the demo city's date shifting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void test_args(void **state)
{
    char *argv[] = {"kodomo", "--from", "2026-12-01", "--feed", "--to=2026-12-03", "extra", "--json"};
    int argc = 7;
    assert_string_equal(cli_arg(argc, argv, 0), "kodomo");
    assert_string_equal(cli_arg(argc, argv, 1), "extra");   /* --feed takes no value */
    assert_null(cli_arg(argc, argv, 2));
    assert_string_equal(cli_opt(argc, argv, "--from"), "2026-12-01");
    assert_string_equal(cli_opt(argc, argv, "--to"), "2026-12-03");
    assert_null(cli_opt(argc, argv, "--label"));
    assert_true(cli_flag(argc, argv, "--feed"));
    assert_true(cli_flag(argc, argv, "--json"));
    assert_false(cli_flag(argc, argv, "--all"));
}

/* An option a verb does not take is refused instead of ignored. */
static void test_unknown_options(void **state)
{
    const cli_verb_t feeds = {"feeds", "[--failing]", "", NULL};
    const cli_verb_t book = {"meeting book", "--case ID --type T [--location L|--url U] [--monitoring DATE]", "", NULL};
    const cli_verb_t stats = {"stats", "[--from D] [--csv [--table summary|agencies]]", "", NULL};
    const cli_verb_t show = {"case show", "ID", "", NULL};
    char *ok1[] = {"--failing", "--json"};
    assert_null(cli_unknown_option(&feeds, 2, ok1));
    char *typo[] = {"--faling"};
    assert_string_equal(cli_unknown_option(&feeds, 1, typo), "--faling");
    char *prefix[] = {"--fail"};                  /* a prefix of a known option is not it */
    assert_string_equal(cli_unknown_option(&feeds, 1, prefix), "--fail");
    char *ok2[] = {"--case", "Y-01", "--type=支援会議", "--url", "--x", "--location", "本庁舎"};
    assert_null(cli_unknown_option(&book, 7, ok2));   /* "--x" is --url's value */
    char *bad2[] = {"--case", "Y-01", "--note", "n"};
    assert_string_equal(cli_unknown_option(&book, 4, bad2), "--note");
    char *ok3[] = {"--csv", "--table", "agencies", "--from=2026-04-01"};
    assert_null(cli_unknown_option(&stats, 4, ok3));
    char *bad3[] = {"--csv", "--tabel", "agencies"};
    assert_string_equal(cli_unknown_option(&stats, 3, bad3), "--tabel");
    char *ok4[] = {"Y-01", "-", "--"};             /* not options */
    assert_null(cli_unknown_option(&show, 3, ok4));
    char *bad4[] = {"Y-01", "--token", "t"};
    assert_string_equal(cli_unknown_option(&show, 3, bad4), "--token");
}

/* A verb's own usage words pass the check above.  That every option a
 * verb's code reads is in its usage text is tests/check-cli-options'
 * job (make check), which reads the sources. */
static void test_verbs_accept_their_usage(void **state)
{
    const cli_verb_t *const tables[] = {cli_core_verbs, cli_rules_verbs, cli_meetings_verbs, cli_demo_verbs,
                                        cli_slots_verbs, cli_cases_verbs, cli_stats_verbs, cli_users_verbs};
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
        for (const cli_verb_t *v = tables[t]; v->name; v++) {
            char *copy = strdup(v->args), *words[32];
            int n = 0;
            for (char *w = strtok(copy, " []|"); w && n < 32; w = strtok(NULL, " []|"))
                words[n++] = w;
            const char *bad = cli_unknown_option(v, n, words);
            if (bad)
                fail_msg("%s: its own usage \"%s\" has %s refused", v->name, v->args, bad);
            free(copy);
        }
}

/* `tsunagu import` resolves a url without "://" as a file next to
 * agencies.json; a misspelt URL must not become a file that is never
 * there. */
static void test_url_typos(void **state)
{
    assert_true(cli_url_typo("http//127.0.0.1:8000/ssw.ics"));
    assert_true(cli_url_typo("https:/cal.city.example.jp/kodomo.ics"));
    assert_true(cli_url_typo("htps//cal.city.example.jp/kodomo.ics"));
    assert_true(cli_url_typo("www.city.example.jp/cal.ics"));
    assert_false(cli_url_typo("calendars//kodomo.ics"));   /* a harmless double slash */
    assert_false(cli_url_typo("calendars/kodomo.ics"));
    assert_false(cli_url_typo("kodomo.ics"));
    assert_false(cli_url_typo("../shared/https-export/kodomo.ics"));
    assert_false(cli_url_typo("予定表/こども家庭センター.ics"));
}

static void test_text_width(void **state)
{
    assert_int_equal(cli_text_width(""), 0);
    assert_int_equal(cli_text_width("abc"), 3);
    assert_int_equal(cli_text_width("機関A"), 5);
    assert_int_equal(cli_text_width("（自立）"), 8);       /* fullwidth parentheses */
    assert_int_equal(cli_text_width("ｶﾅ"), 2);            /* halfwidth katakana */
}

static void test_demo_shift(void **state)
{
    const char *ics =
        "BEGIN:VCALENDAR\r\n"
        "BEGIN:VTIMEZONE\r\nTZID:Asia/Tokyo\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
        "END:STANDARD\r\nEND:VTIMEZONE\r\n"
        "BEGIN:VEVENT\r\nDTSTART;TZID=Asia/Tokyo:20261201T090000\r\n"
        "RRULE:FREQ=WEEKLY;UNTIL=20270301T000000Z\r\n"
        "EXDATE;TZID=Asia/Tokyo:20261208T090000,202612\r\n 15T090000\r\n"
        "END:VEVENT\r\n"
        "BEGIN:VFREEBUSY\r\nFREEBUSY:20261231T230000Z/20270101T010000Z\r\nEND:VFREEBUSY\r\n"
        "END:VCALENDAR\r\n";
    char *out = cli_demo_shift_ics(ics, -14);
    assert_non_null(strstr(out, "DTSTART:19700101T000000"));          /* zone rules untouched */
    assert_non_null(strstr(out, "DTSTART;TZID=Asia/Tokyo:20261117T090000"));
    assert_non_null(strstr(out, "UNTIL=20270215T000000Z"));
    assert_non_null(strstr(out, "20261124T090000,20261201T090000"));  /* folded date found */
    assert_non_null(strstr(out, "FREEBUSY:20261217T230000Z/20261218T010000Z"));
    free(out);
    out = cli_demo_shift_ics(ics, 0);
    assert_non_null(strstr(out, "20261208T090000,20261215T090000"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_args),
        cmocka_unit_test(test_unknown_options),
        cmocka_unit_test(test_verbs_accept_their_usage),
        cmocka_unit_test(test_url_typos),
        cmocka_unit_test(test_text_width),
        cmocka_unit_test(test_demo_shift),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
