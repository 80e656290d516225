/* SPDX-License-Identifier: MIT */
/*
 * test_feeds_version.c - the per-agency data version (store migration 6)
 * that keys the slot engine's cache: it is never 0, stays put while
 * nothing changes, and moves when one of the agency's feeds gets new data
 * (store_feed_data_changed), when a re-import changes a feed's url (its
 * intervals are dropped) or its calendar list - and only for that agency.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds.h"
#include "store.h"

static const char *doc_fmt =
    "{\"city\": \"テスト市\", \"timezone\": \"Asia/Tokyo\", \"districts\": [\"北部\"],"
    " \"agencies\": ["
    "  {\"id\": \"a\", \"name\": \"機関A\", \"fields\": [\"高齢\"], \"areas\": [],"
    "   \"email\": \"a@example.org\", \"hours\": {\"mon-fri\": \"09:00-17:00\"},"
    "   \"travel_minutes\": 0, \"max_lead_cases\": 5, \"lead_cases\": 0,"
    "   \"support_meeting_member\": true,"
    "   \"calendars\": [{\"id\": \"a1\", \"kind\": \"ics\", \"url\": \"%s\"}%s]},"
    "  {\"id\": \"b\", \"name\": \"機関B\", \"fields\": [\"障害\"], \"areas\": [\"北部\"],"
    "   \"email\": \"b@example.org\", \"hours\": {\"mon-fri\": \"09:00-17:00\"},"
    "   \"travel_minutes\": 10, \"max_lead_cases\": 5, \"lead_cases\": 1,"
    "   \"support_meeting_member\": false,"
    "   \"calendars\": [{\"id\": \"b1\", \"kind\": \"ics\", \"url\": \"/x/b1.ics\"}]}"
    "]}";

static void import(store_t *st, const char *a1_url, const char *extra_cal)
{
    char text[4096], err[256];
    snprintf(text, sizeof text, doc_fmt, a1_url, extra_cal);
    json_t *d = json_loads(text, 0, NULL);
    assert_non_null(d);
    if (!store_import_city(st, d, NULL, NULL, NULL, err, sizeof err))
        fail_msg("%s", err);
    json_decref(d);
}

static uint64_t version_of(store_t *st, const char *agency)
{
    agency_busy_t ab;
    assert_true(feeds_agency_busy(st, agency, 0, 1000, &ab));
    uint64_t v = ab.data_version;
    agency_busy_free(&ab);
    assert_true(v != 0);
    return v;
}

static void test_version_moves_with_data_only(void **state)
{
    char err[256];
    store_t *st = store_open(":memory:", err, sizeof err);
    assert_non_null(st);
    assert_true(store_has_migration(st, 6));
    import(st, "/x/a1.ics", "");
    uint64_t a = version_of(st, "a"), b = version_of(st, "b");
    assert_true(a != b);
    assert_true(version_of(st, "a") == a);             /* stable */

    /* new data for a1: a moves, b does not */
    assert_int_equal(store_begin(st), 0);
    assert_true(store_feed_data_changed(st, "a1"));
    assert_int_equal(store_commit(st), 0);
    uint64_t a2 = version_of(st, "a");
    assert_true(a2 != a);
    assert_true(version_of(st, "b") == b);

    /* re-importing the same document changes nothing */
    import(st, "/x/a1.ics", "");
    assert_true(version_of(st, "a") == a2);

    /* a changed url drops a1's intervals: a new version */
    import(st, "/x/a1-new.ics", "");
    uint64_t a3 = version_of(st, "a");
    assert_true(a3 != a2 && a3 != a);

    /* another calendar for a: a new version; b untouched */
    import(st, "/x/a1-new.ics", ", {\"id\": \"a2\", \"kind\": \"ics\", \"url\": \"/x/a2.ics\"}");
    uint64_t a4 = version_of(st, "a");
    assert_true(a4 != a3);
    assert_true(version_of(st, "b") == b);
    /* removing it again is the state of a3 again (same list, same data),
     * so what was cached for a3 is valid again */
    import(st, "/x/a1-new.ics", "");
    assert_true(version_of(st, "a") == a3);
    store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_moves_with_data_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
