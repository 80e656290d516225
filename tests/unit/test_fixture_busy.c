/* SPDX-License-Identifier: MIT */
/*
 * test_fixture_busy.c - every feed of the fixture city (tests/data/yamanami)
 * gives exactly the intervals of its expected/busy/<feed>.json.
 *
 * The expected lists were computed independently (python
 * recurring-ical-events for VEVENTs, FREEBUSY periods read directly).
 * Comparing against them pins down the oracle's semantics, which this test
 * reproduces:
 *   - the lists are normal busy sets: sorted, overlapping and touching
 *     intervals merged (e.g. csw 12/03 13:30-14:00 lies inside 13:30-15:00);
 *   - the window is the feeds' published range, [2026-11-30T00:00+09:00,
 *     2027-03-01T00:00+09:00) (the VFREEBUSY DTSTART/DTEND).  It is pinned
 *     by the data: the weekly RRULEs with UNTIL=20270301T000000Z have an
 *     instance on 2027-03-01 09:00 JST that the oracle leaves out, and the
 *     first instances on 2026-11-30 are kept;
 *   - all-day events block whole days and floating times are read in the
 *     agency zone, Asia/Tokyo (agencies.json "timezone").
 * Times are compared as instants: the files mix +09:00 and +00:00.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icalbusy.h"
#include "support_busy.h"

#define CITY "tests/data/yamanami"

static int64_t iso(const char *s)
{
    int64_t t;
    assert_true(tu_parse_iso8601(s, NULL, &t));
    return t;
}

/* The oracle's lists are already normal: as many pairs in the file as
 * intervals after normalizing. */
static void expect_file_is_normal(const char *path, const ivset_t *normalized)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) fail_msg("%s: %s", path, jerr.text);
    assert_int_equal(json_array_size(root), normalized->n);
    json_decref(root);
}

/* The city's zone, from agencies.json ("Asia/Tokyo"). */
static const tz_t *city_zone(void)
{
    json_error_t jerr;
    json_t *root = json_load_file(CITY "/agencies.json", 0, &jerr);
    if (!root) fail_msg("agencies.json: %s", jerr.text);
    const tz_t *tz = tz_get(json_string_value(json_object_get(root, "timezone")));
    json_decref(root);
    assert_non_null(tz);
    assert_string_equal(tz_name(tz), "Asia/Tokyo");
    return tz;
}

static void check_feed(const char *feed)
{
    char path[512];
    snprintf(path, sizeof path, CITY "/calendars/%s.ics", feed);
    size_t len;
    char *text = read_file(path, &len);
    if (!text) fail_msg("cannot read %s", path);

    icalbusy_opts_t opts = {city_zone(), iso("2026-11-30T00:00:00+09:00"),
                            iso("2027-03-01T00:00:00+09:00")};
    ivset_t got, want;
    ivset_init(&got);
    ivset_init(&want);
    strvec_t warnings;
    strvec_init(&warnings);
    char *err = NULL;
    int rc = icalbusy_parse(text, len, &opts, &got, &warnings, &err);
    if (rc != 0) fail_msg("%s: %s", feed, err);
    assert_int_equal(warnings.n, 0);

    snprintf(path, sizeof path, CITY "/expected/busy/%s.json", feed);
    if (!support_load_busy_json(path, &want)) fail_msg("cannot load %s", path);
    expect_file_is_normal(path, &want);
    assert_true(ivset_is_normal(&got));
    char *diff = support_busy_diff(&got, &want);
    if (diff) fail_msg("%s: %s", feed, diff);
    ivset_free(&got);
    ivset_free(&want);
    strvec_free(&warnings);
    free(text);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_every_feed_matches_expected(void **state)
{
    DIR *d = opendir(CITY "/calendars");
    assert_non_null(d);
    strvec_t feeds;
    strvec_init(&feeds);
    for (struct dirent *e; (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (n > 4 && strcmp(e->d_name + n - 4, ".ics") == 0) {
            char *name = xstrndup(e->d_name, n - 4);
            strvec_push(&feeds, name);
            free(name);
        }
    }
    closedir(d);
    qsort(feeds.v, feeds.n, sizeof *feeds.v, name_cmp);
    assert_int_equal(feeds.n, 22);
    for (size_t i = 0; i < feeds.n; i++) check_feed(feeds.v[i]);
    strvec_free(&feeds);
}

/* The same semantics hold feed by feed for the kinds the city mixes:
 * one VFREEBUSY feed and one event feed with every rule in it. */
static void test_freebusy_feed(void **state) { check_feed("dv"); }
static void test_event_feed_with_overrides(void **state) { check_feed("csw"); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_freebusy_feed),
        cmocka_unit_test(test_event_feed_with_overrides),
        cmocka_unit_test(test_every_feed_matches_expected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
