/* SPDX-License-Identifier: MIT */
/*
 * test_ids.c - the one identifier rule (ids.h) and its use at import:
 * ids_valid's characters and length, ids_parse_int64 refusing overflow
 * instead of saturating, ids_has_control finding NUL, C0/C1 controls,
 * U+0085 and U+2028; and agencies.json refusing bad agency and calendar
 * ids, control characters in agency names and feed URL schemes other than
 * http(s) (and file:// or a path for the kinds that read files), naming
 * the calendar.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "city.h"
#include "ids.h"

static void test_id_rule(void **state)
{
    assert_true(ids_valid("Y-01"));
    assert_true(ids_valid("houkatsu-chuo"));
    assert_true(ids_valid("a.b_c-9"));
    char id[66];
    memset(id, 'x', 65);
    id[64] = '\0';
    assert_true(ids_valid(id));            /* 64 is the limit */
    id[64] = 'x';
    id[65] = '\0';
    assert_false(ids_valid(id));
    const char *bad[] = { "", "-a", ".a", "_a", "a/b", "a b", "a%00", "a\x01", "a\xc2\x85",
                          "a\xe2\x80\xa8", "あ", "a?b", "a#b" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ids_valid(bad[i]))
            fail_msg("accepted \"%s\"", bad[i]);
    assert_false(ids_valid(NULL));
}

static void test_numeric_ids(void **state)
{
    int64_t v = 0;
    assert_true(ids_parse_int64("42", &v));
    assert_int_equal(v, 42);
    assert_true(ids_parse_int64("9223372036854775807", &v));
    assert_true(v == INT64_MAX);
    const char *bad[] = { "", "0", "-1", "+1", " 1", "1 ", "1a", "0x10",
                          "9223372036854775808", "99999999999999999999999" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ids_parse_int64(bad[i], &v))
            fail_msg("accepted \"%s\" as %lld", bad[i], (long long)v);
}

static void test_control_characters(void **state)
{
    assert_false(ids_has_control("Y-01", 4));
    assert_false(ids_has_control("あいう", strlen("あいう")));
    assert_true(ids_has_control("Y-01\0junk", 9));
    assert_true(ids_has_control("a\nb", 3));
    assert_true(ids_has_control("a\x7f", 2));
    assert_true(ids_has_control("a\xc2\x85", 3));
    assert_true(ids_has_control("a\xe2\x80\xa8", 4));
    assert_true(ids_has_control("a\xe2\x80\xa9", 4));
}

/* A one-agency city whose fields are patched by the caller; the error. */
static char *import_error(const char *id, const char *name, const char *cal_id,
                          const char *kind, const char *url)
{
    json_t *doc = json_pack("{s:s, s:[{s:s, s:s, s:[{s:s, s:s, s:s}]}]}", "city", "t",
                            "agencies", "id", id, "name", name, "calendars", "id", cal_id,
                            "kind", kind, "url", url);
    city_t c;
    char err[1024] = "";
    bool ok = city_from_json(doc, NULL, &c, err, sizeof err);
    json_decref(doc);
    if (ok) {
        city_free(&c);
        return NULL;
    }
    return strdup(err);
}

static void expect_import_ok(const char *kind, const char *url)
{
    char *e = import_error("a1", "機関", "cal-1", kind, url);
    if (e)
        fail_msg("%s %s refused: %s", kind, url, e);
}

static void expect_import_error(const char *id, const char *name, const char *cal_id,
                                const char *kind, const char *url, const char *needle)
{
    char *e = import_error(id, name, cal_id, kind, url);
    if (!e)
        fail_msg("accepted %s / %s / %s / %s", id, cal_id, kind, url);
    if (!strstr(e, needle))
        fail_msg("error lacks \"%s\": %s", needle, e);
    free(e);
}

static void test_import_refuses(void **state)
{
    expect_import_ok("ics", "https://cal.example/a.ics");
    expect_import_ok("ics", "http://cal.example/a.ics");
    expect_import_ok("ics", "file:///srv/a.ics");
    expect_import_ok("freebusy", "/srv/a.ifb");
    expect_import_ok("caldav", "https://dav.example/cal/");
    const char *schemes[] = { "gopher://x/", "dict://127.0.0.1:6379/info", "ftp://x/a.ics",
                              "ldap://x/", "smb://x/a" };
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
        expect_import_error("a1", "機関", "cal-1", "ics", schemes[i], "「cal-1」");
    expect_import_error("a1", "機関", "cal-2", "caldav", "file:///srv/a.ics", "「cal-2」");
    expect_import_error("a1", "機関", "cal-3", "caldav-freebusy", "/srv/a", "「cal-3」");
    expect_import_error("a1", "機関\n偽", "cal-1", "ics", "https://x/", "制御文字");
    expect_import_error("a1", "機関\xe2\x80\xa8", "cal-1", "ics", "https://x/", "制御文字");
    expect_import_error("a1", "機関\xc2\x85", "cal-1", "ics", "https://x/", "制御文字");
    expect_import_error("a 1", "機関", "cal-1", "ics", "https://x/", "agencies[0].id");
    char long_id[80];
    memset(long_id, 'a', 79);
    long_id[79] = '\0';
    expect_import_error(long_id, "機関", "cal-1", "ics", "https://x/", "64");
    expect_import_error("a1", "機関", long_id, "ics", "https://x/", "calendars[0].id");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_rule),
        cmocka_unit_test(test_numeric_ids),
        cmocka_unit_test(test_control_characters),
        cmocka_unit_test(test_import_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
