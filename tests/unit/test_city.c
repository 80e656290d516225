/* SPDX-License-Identifier: MIT */
/*
 * test_city.c - agencies.json parsing, business days and the clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "city.h"
#include "timeutil.h"

static void loads_fixture_city(void **state)
{
    city_t c;
    char err[256];
    assert_true(city_load_file("tests/data/yamanami/agencies.json", &c, err, sizeof err));
    assert_int_equal(c.nagencies, 20);
    assert_string_equal(c.timezone, "Asia/Tokyo");
    const agency_t *k = city_agency(&c, "kikan-shogai");
    assert_non_null(k);
    assert_int_equal(k->ncalendars, 3);
    assert_int_equal(k->calendars[0].kind, FEED_ICS);
    assert_string_equal(k->calendars[0].url, "tests/data/yamanami/calendars/kikan-shogai-a.ics");
    assert_true(k->hours.open[1] && k->hours.open[5] && !k->hours.open[6]);
    assert_int_equal(k->hours.start[1], 8 * 3600 + 30 * 60);
    assert_int_equal(k->hours.end[1], 17 * 3600 + 15 * 60);
    const agency_t *hoken = city_agency(&c, "hoken");
    assert_int_equal(hoken->calendars[0].kind, FEED_FREEBUSY);
    char buf[TU_ISO_LEN];
    assert_string_equal(tu_format_iso8601(c.now, c.tz, buf), "2026-12-01T09:00:00+09:00");
    city_free(&c);
}

static void business_days(void **state)
{
    city_t c;
    char err[256];
    assert_true(city_load_file("tests/data/yamanami/agencies.json", &c, err, sizeof err));
    const agency_t *a = city_agency(&c, "kyodo");
    assert_true(city_is_business_day(&c, a, days_from_civil(2026, 12, 1)));    /* Tue */
    assert_false(city_is_business_day(&c, a, days_from_civil(2026, 12, 5)));   /* Sat */
    assert_false(city_is_business_day(&c, a, days_from_civil(2026, 12, 29)));  /* closed */
    assert_false(city_is_business_day(&c, a, days_from_civil(2027, 1, 11)));   /* 成人の日 */
    assert_true(city_is_business_day(&c, a, days_from_civil(2027, 1, 4)));
    /* the labels the 日程調整 grid shows on days off */
    assert_null(city_day_off_label(&c, a, days_from_civil(2026, 12, 1)));
    assert_null(city_day_off_label(&c, a, days_from_civil(2026, 12, 5)));      /* Sat: no label */
    assert_string_equal(city_day_off_label(&c, a, days_from_civil(2026, 12, 29)), "年末年始");
    assert_string_equal(city_day_off_label(&c, a, days_from_civil(2027, 1, 1)), "元日");
    assert_string_equal(city_day_off_label(&c, a, days_from_civil(2027, 1, 11)), "成人の日");
    city_free(&c);
}

static void default_new_year_closure(void **state)
{
    json_error_t je;
    json_t *doc = json_loads("{\"agencies\":[{\"id\":\"a\",\"name\":\"A\"}]}", 0, &je);
    city_t c;
    char err[256];
    assert_true(city_from_json(doc, NULL, &c, err, sizeof err));
    assert_false(city_is_business_day(&c, &c.agencies[0], days_from_civil(2025, 12, 29)));
    assert_false(city_is_business_day(&c, &c.agencies[0], days_from_civil(2026, 1, 2)));
    assert_true(city_is_business_day(&c, &c.agencies[0], days_from_civil(2025, 12, 26)));
    assert_string_equal(city_day_off_label(&c, &c.agencies[0], days_from_civil(2026, 1, 2)), "年末年始");
    assert_int_equal(c.agencies[0].need, 1);
    city_free(&c);
    json_decref(doc);
}

static void expect_error(const char *doc_text, const char *field)
{
    json_error_t je;
    json_t *doc = json_loads(doc_text, 0, &je);
    assert_non_null(doc);
    city_t c;
    char err[256];
    assert_false(city_from_json(doc, NULL, &c, err, sizeof err));
    if (strncmp(err, field, strlen(field)) != 0) fail_msg("error '%s' does not name %s", err, field);
    json_decref(doc);
}

/* A name typed with 全角空白 around it is kept without them; a name of
 * white space only is no name. */
static void agency_names_are_trimmed(void **state)
{
    json_t *doc = json_loads("{\"agencies\":[{\"id\":\"k\",\"name\":\"\u3000\u3053\u3069\u3082 "
                             "\u30bb\u30f3\u30bf\u30fc\u3000 \"}]}", 0, NULL);
    assert_non_null(doc);
    city_t c;
    char err[256];
    assert_true(city_from_json(doc, NULL, &c, err, sizeof err));
    assert_string_equal(c.agencies[0].name, "こども センター");
    city_free(&c);
    json_decref(doc);
    expect_error("{\"agencies\":[{\"id\":\"a\",\"name\":\"\u3000\u3000\"}]}", "agencies[0].name");
    expect_error("{\"agencies\":[{\"id\":\"a\",\"name\":\"\"}]}", "agencies[0].name");
}

/* An error inside an agency also names it and counts from 1, as a person
 * finds it in the file ("agencies[1]" is the second). */
static void agency_errors_name_the_agency(void **state)
{
    json_t *doc = json_loads("{\"agencies\":[{\"id\":\"a\",\"name\":\"x\"},"
                             "{\"id\":\"houkatsu-nanbu\",\"name\":\"y\",\"email\":\"no at\"}]}", 0, NULL);
    city_t c;
    char err[512];
    assert_false(city_from_json(doc, NULL, &c, err, sizeof err));
    if (strncmp(err, "agencies[1].email: ", 19) || !strstr(err, "[機関 houkatsu-nanbu、2 番目]"))
        fail_msg("%s", err);
    json_decref(doc);
}

/* A webcal:// subscribe link (Outlook, Google, iCloud) is refused with the
 * fix: the same address over https. */
static void webcal_says_https(void **state)
{
    json_t *doc = json_loads("{\"agencies\":[{\"id\":\"a\",\"name\":\"x\",\"calendars\":[{\"id\":\"c\","
                             "\"kind\":\"ics\",\"url\":\"webcal://outlook.office365.com/owa/calendar/x/"
                             "calendar.ics\"}]}]}", 0, NULL);
    assert_non_null(doc);
    city_t c;
    char err[768];
    assert_false(city_from_json(doc, NULL, &c, err, sizeof err));
    if (strncmp(err, "agencies[0].calendars[0].url", 28) || !strstr(err, "https:// に書き換えて"))
        fail_msg("%s", err);
    json_decref(doc);
}

static void bad_documents_name_the_field(void **state)
{
    expect_error("[]", "$");
    expect_error("{}", "agencies");
    expect_error("{\"agencies\":[{\"name\":\"x\"}]}", "agencies[0].id");
    expect_error("{\"agencies\":[{\"id\":\"a\",\"name\":\"x\",\"hours\":{\"mon-fri\":\"9-5\"}}]}",
                 "agencies[0].hours.mon-fri");
    expect_error("{\"agencies\":[{\"id\":\"a\",\"name\":\"x\",\"calendars\":[{\"id\":\"c\",\"kind\":\"webcal\",\"url\":\"u\"}]}]}",
                 "agencies[0].calendars[0].kind");
    expect_error("{\"agencies\":[{\"id\":\"a\",\"name\":\"x\"},{\"id\":\"a\",\"name\":\"y\"}]}",
                 "agencies[1].id");
    expect_error("{\"closed_days\":[\"2026-13-01\"],\"agencies\":[]}", "closed_days[0]");
    expect_error("{\"timezone\":\"Mars/Olympus\",\"agencies\":[]}", "timezone");
    expect_error("{\"agencies\":[{\"id\":\"a\",\"name\":\"x\",\"need\":2,\"calendars\":[{\"id\":\"c\",\"kind\":\"ics\",\"url\":\"u\"}]}]}",
                 "agencies[0].need");
}

/* agencies.json reply_from (issue 11 item 10): addresses or "@domain",
 * lower-cased; the agency's own mailbox always answers for it; "@domain"
 * is that exact domain, not a suffix; anything else is not allowed. */
static void reply_from_list(void **state)
{
    json_t *doc = json_loads("{\"agencies\":[{\"id\":\"h\",\"name\":\"x\","
                             "\"email\":\"role@city.example\",\"reply_from\":"
                             "[\"Sato@List.Example\",\"@staff.city.example\"]},"
                             "{\"id\":\"j\",\"name\":\"y\",\"email\":\"j@city.example\"}]}",
                             0, NULL);
    city_t c;
    char err[256];
    assert_true(city_from_json(doc, NULL, &c, err, sizeof err));
    const agency_t *h = city_agency(&c, "h"), *j = city_agency(&c, "j");
    assert_string_equal(h->reply_from.v[0], "sato@list.example");
    assert_true(agency_reply_from_allowed(h, "ROLE@city.example"));
    assert_true(agency_reply_from_allowed(h, "sato@list.example"));
    assert_true(agency_reply_from_allowed(h, "tanaka@STAFF.city.example"));
    assert_false(agency_reply_from_allowed(h, "tanaka@evil.staff.city.example"));
    assert_false(agency_reply_from_allowed(h, "other@list.example"));
    assert_false(agency_reply_from_allowed(h, "mallory@attacker.example"));
    assert_false(agency_reply_from_allowed(j, "sato@list.example"));
    json_t *back = agency_to_json(h);
    assert_int_equal(json_array_size(json_object_get(back, "reply_from")), 2);
    json_decref(back);
    city_free(&c);
    json_decref(doc);
    expect_error("{\"agencies\":[{\"id\":\"a\",\"name\":\"x\",\"reply_from\":[\"no-at\"]}]}",
                 "agencies[0].reply_from");
    expect_error("{\"agencies\":[{\"id\":\"a\",\"name\":\"x\",\"reply_from\":[\"a <b@c.d>\"]}]}",
                 "agencies[0].reply_from");
}

static void iso8601_round_trip(void **state)
{
    int64_t t;
    const tz_t *tokyo = tz_default();
    char buf[TU_ISO_LEN];
    assert_true(tu_parse_iso8601("2026-12-01T00:30:00Z", NULL, &t));
    assert_string_equal(tu_format_iso8601(t, tokyo, buf), "2026-12-01T09:30:00+09:00");
    assert_true(tu_parse_iso8601("2026-12-01T09:30:00+09:00", NULL, &t));
    assert_true(tu_parse_iso8601("2026-12-01T09:30", tokyo, &t));
    assert_string_equal(tu_format_iso8601(t, NULL, buf), "2026-12-01T00:30:00+00:00");
    assert_false(tu_parse_iso8601("2026-12-01T09:30", NULL, &t));
    assert_false(tu_parse_iso8601("2026-02-30T09:30:00Z", NULL, &t));
    assert_false(tu_parse_iso8601("tomorrow", tokyo, &t));
    const tz_t *ny = tz_get("America/New_York");
    assert_non_null(ny);
    assert_true(tu_parse_iso8601("2026-07-01T12:00:00", ny, &t));
    assert_string_equal(tu_format_iso8601(t, ny, buf), "2026-07-01T12:00:00-04:00");
    assert_null(tz_get("Nowhere/Nothing"));
    tu_set_now_override(42);
    assert_int_equal(tu_now(), 42);
    tu_clear_now_override();
    assert_true(tu_now() > 1700000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loads_fixture_city),
        cmocka_unit_test(business_days),
        cmocka_unit_test(default_new_year_closure),
        cmocka_unit_test(bad_documents_name_the_field),
        cmocka_unit_test(agency_names_are_trimmed),
        cmocka_unit_test(webcal_says_https),
        cmocka_unit_test(agency_errors_name_the_agency),
        cmocka_unit_test(iso8601_round_trip),
        cmocka_unit_test(reply_from_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
