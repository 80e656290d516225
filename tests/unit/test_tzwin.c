/* SPDX-License-Identifier: MIT */
/*
 * test_tzwin.c - Windows zone names map to IANA ids through ICU's copy of
 * CLDR windowsZones: the names Outlook and Exchange publish, and the
 * inputs that must be refused (unknown, non-ASCII, too long, no room).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "tzwin.h"

static void expect_map(const char *windows, const char *iana)
{
    char out[64];
    if (!tzwin_to_iana(windows, out, sizeof out)) fail_msg("%s: not mapped", windows);
    if (strcmp(out, iana) != 0) fail_msg("%s: got %s, want %s", windows, out, iana);
}

static void test_outlook_names_map(void **state)
{
    expect_map("Tokyo Standard Time", "Asia/Tokyo");
    expect_map("GMT Standard Time", "Europe/London");
    expect_map("W. Europe Standard Time", "Europe/Berlin");
    expect_map("Eastern Standard Time", "America/New_York");
    expect_map("Korea Standard Time", "Asia/Seoul");
    expect_map("UTC", "Etc/UTC");
}

static void test_other_names_are_refused(void **state)
{
    char out[64] = "x";
    assert_false(tzwin_to_iana("Asia/Tokyo", out, sizeof out));   /* already IANA */
    assert_string_equal(out, "");
    assert_false(tzwin_to_iana("Customized Time Zone", out, sizeof out));
    assert_false(tzwin_to_iana("", out, sizeof out));
    assert_false(tzwin_to_iana(NULL, out, sizeof out));
    assert_false(tzwin_to_iana("東京 Standard Time", out, sizeof out));
    char longname[300];
    memset(longname, 'A', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_false(tzwin_to_iana(longname, out, sizeof out));
    char small[8];   /* "Asia/Tokyo" does not fit */
    assert_false(tzwin_to_iana("Tokyo Standard Time", small, sizeof small));
    assert_string_equal(small, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outlook_names_map),
        cmocka_unit_test(test_other_names_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
