/* SPDX-License-Identifier: MIT */
/*
 * test_slots_query.c - slot query validation: every 400 the API gives
 * (unknown agencies, impossible windows and durations, the 26-week and
 * 200-attendee limits, malformed fields) with a message that names the
 * problem, and defaults for the optional fields.
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
#include "slots.h"

static city_t city;

static int setup(void **state)
{
    char err[256];
    if (!city_load_file("tests/data/yamanami/agencies.json", &city, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    city_free(&city);
    return 0;
}

/* Parse text; expect failure with code and a message containing needle. */
static void expect_400(const char *text, const char *code, const char *needle)
{
    slot_query_t q;
    slot_error_t e;
    bool ok = slot_query_parse(text, strlen(text), &city, &q, &e);
    if (ok) {
        slot_query_free(&q);
        fail_msg("accepted: %s", text);
    }
    if (strcmp(e.code, code) != 0) fail_msg("code %s (want %s): %s", e.code, code, e.message);
    if (!strstr(e.message, needle)) fail_msg("message lacks \"%s\": %s", needle, e.message);
}

#define BASE_REQ "\"required\":[\"kyodo\",\"jiritsu\"]"
#define BASE_WIN "\"from\":\"2026-12-01T00:00:00+09:00\",\"to\":\"2026-12-15T00:00:00+09:00\""

static void valid_query_and_defaults(void **state)
{
    const char *text = "{" BASE_REQ ",\"optional\":[\"csw\"],\"duration_minutes\":60," BASE_WIN "}";
    slot_query_t q;
    slot_error_t e;
    assert_true(slot_query_parse(text, strlen(text), &city, &q, &e));
    assert_int_equal(q.required.n, 2);
    assert_int_equal(q.optional.n, 1);
    assert_int_equal(q.granularity_minutes, SLOTS_DEFAULT_GRANULARITY);
    assert_int_equal(q.limit, SLOTS_DEFAULT_LIMIT);
    assert_int_equal(q.notice_days, 0);
    assert_int_equal(q.to - q.from, 14 * 86400);
    slot_query_free(&q);
}

static void unknown_agencies_are_named(void **state)
{
    expect_400("{\"required\":[\"kyodo\",\"nope-1\"],\"optional\":[\"nope-2\"],"
               "\"duration_minutes\":60," BASE_WIN "}",
               "unknown-agency", "nope-1, nope-2");
}

static void window_must_be_forward(void **state)
{
    expect_400("{" BASE_REQ ",\"duration_minutes\":60,\"from\":\"2026-12-15T00:00:00+09:00\","
               "\"to\":\"2026-12-01T00:00:00+09:00\"}", "bad-window", "to");
    expect_400("{" BASE_REQ ",\"duration_minutes\":60,\"from\":\"2026-12-15T00:00:00+09:00\","
               "\"to\":\"2026-12-15T00:00:00+09:00\"}", "bad-window", "from");
}

static void duration_must_fit_a_working_day(void **state)
{
    expect_400("{" BASE_REQ ",\"duration_minutes\":0," BASE_WIN "}", "bad-duration", "1分以上");
    expect_400("{" BASE_REQ ",\"duration_minutes\":-30," BASE_WIN "}", "bad-duration", "-30");
    /* kyodo works 08:30-17:15 = 525 minutes */
    expect_400("{" BASE_REQ ",\"duration_minutes\":526," BASE_WIN "}", "bad-duration", "kyodo (525 min)");
    slot_query_t q;
    slot_error_t e;
    const char *ok = "{" BASE_REQ ",\"duration_minutes\":525," BASE_WIN "}";
    assert_true(slot_query_parse(ok, strlen(ok), &city, &q, &e));
    slot_query_free(&q);
}

static void window_limit_is_26_weeks(void **state)
{
    expect_400("{" BASE_REQ ",\"duration_minutes\":60,\"from\":\"2026-12-01T00:00:00+09:00\","
               "\"to\":\"2027-06-01T00:00:01+09:00\"}", "window-too-long", "26");
    slot_query_t q;
    slot_error_t e;
    /* exactly 26 weeks is allowed */
    const char *ok = "{" BASE_REQ ",\"duration_minutes\":60,\"from\":\"2026-12-01T00:00:00+09:00\","
                     "\"to\":\"2027-06-01T00:00:00+09:00\"}";
    assert_true(slot_query_parse(ok, strlen(ok), &city, &q, &e));
    slot_query_free(&q);
}

static void attendee_limit_is_200(void **state)
{
    strbuf_t b;
    strbuf_init(&b);
    strbuf_puts(&b, "{\"required\":[\"kyodo\"],\"optional\":[");
    for (int i = 0; i < 200; i++) strbuf_printf(&b, "%s\"x%d\"", i ? "," : "", i);
    strbuf_puts(&b, "],\"duration_minutes\":60," BASE_WIN "}");
    expect_400(b.s, "too-many-attendees", "200");
    strbuf_free(&b);
}

static void malformed_fields(void **state)
{
    expect_400("{\"required\":", "bad-json", "JSON");
    expect_400("[1,2]", "bad-json", "object");
    expect_400("{\"duration_minutes\":60," BASE_WIN "}", "bad-field", "required");
    expect_400("{\"required\":[],\"duration_minutes\":60," BASE_WIN "}", "bad-field", "required");
    expect_400("{\"required\":\"kyodo\",\"duration_minutes\":60," BASE_WIN "}", "bad-field", "required");
    expect_400("{\"required\":[\"kyodo\",3],\"duration_minutes\":60," BASE_WIN "}", "bad-field", "required[1]");
    expect_400("{" BASE_REQ "," BASE_WIN "}", "bad-field", "duration_minutes");
    expect_400("{" BASE_REQ ",\"duration_minutes\":\"60\"," BASE_WIN "}", "bad-field", "duration_minutes");
    expect_400("{" BASE_REQ ",\"duration_minutes\":60,\"from\":\"yesterday\",\"to\":\"2026-12-15T00:00:00+09:00\"}",
               "bad-field", "from");
    expect_400("{" BASE_REQ ",\"duration_minutes\":60,\"from\":\"2026-12-01T00:00:00+09:00\"}", "bad-field", "to");
    expect_400("{" BASE_REQ ",\"duration_minutes\":60," BASE_WIN ",\"granularity_minutes\":0}", "bad-field",
               "granularity_minutes");
    expect_400("{" BASE_REQ ",\"duration_minutes\":60," BASE_WIN ",\"limit\":0}", "bad-field", "limit");
    expect_400("{" BASE_REQ ",\"duration_minutes\":60," BASE_WIN ",\"notice_days\":-1}", "bad-field",
               "notice_days");
    expect_400("{\"required\":[\"kyodo\",\"kyodo\"],\"duration_minutes\":60," BASE_WIN "}",
               "duplicate-agency", "kyodo");
    expect_400("{" BASE_REQ ",\"optional\":[\"jiritsu\"],\"duration_minutes\":60," BASE_WIN "}",
               "duplicate-agency", "jiritsu");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_query_and_defaults),
        cmocka_unit_test(unknown_agencies_are_named),
        cmocka_unit_test(window_must_be_forward),
        cmocka_unit_test(duration_must_fit_a_working_day),
        cmocka_unit_test(window_limit_is_26_weeks),
        cmocka_unit_test(attendee_limit_is_200),
        cmocka_unit_test(malformed_fields),
    };
    return cmocka_run_group_tests_name("slots_query", tests, setup, teardown);
}
