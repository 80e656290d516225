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
        cmocka_unit_test(test_text_width),
        cmocka_unit_test(test_demo_shift),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
