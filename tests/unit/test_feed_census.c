/* SPDX-License-Identifier: MIT */
/*
 * test_feed_census.c - /metrics stays the same size as the number of
 * feeds grows (issue 14).  The census is fed 2,000, 20,000 and 100,000
 * synthetic feeds (60 per agency, some failing in every agency, every
 * kind, ages spread over a week) and rendered as Prometheus text: the
 * number of series is the same for every N and the text stays under
 * 8 KB, while the counts are right (states, kinds, intervals, the age
 * histogram, the agencies with failing feeds and the top list's order).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed_census.h"

#define NOW 1800000000LL

static size_t series_lines(const char *text)
{
    size_t n = 0;
    for (const char *p = text; *p; p = strchr(p, '\n') + 1) {
        if (*p != '#')
            n++;
        if (!strchr(p, '\n'))
            break;
    }
    return n;
}

/* agency a (60 feeds) has a % 5 + 1 failing feeds; feeds[i] succeeded i
 * minutes ago unless pending (every 10th) */
static void census_of(size_t n, feed_census_t *c, strbuf_t *text, strvec_t *keys)
{
    feed_census_init(c, NOW);
    char id[32], agency[32];
    for (size_t i = 0; i < n; i++) {
        size_t a = i / 60, k = i % 60;
        snprintf(id, sizeof id, "f%zu", i);
        snprintf(agency, sizeof agency, "ag%05zu", a);
        feed_view_t v = {id, agency, (feed_kind_t)(i % FEED_KIND_COUNT), FEED_STATE_OK,
                         NOW - (int64_t)(i % 10080) * 60, 3};
        if (k < a % 5 + 1)
            v.state = FEED_STATE_FAILING;
        else if (i % 10 == 9) {
            v.state = FEED_STATE_PENDING;
            v.last_success = 0;
        }
        /* the census keeps the agency string of an agency's first failing
         * feed (k == 0) as its key: that one must stay alive (keys owns it) */
        if (k == 0) {
            strvec_push(keys, agency);
            v.agency = keys->v[keys->n - 1];
        }
        feed_census_add(c, &v);
    }
    feed_census_finish(c);
    strbuf_init(text);
    feed_census_prometheus(c, text);
}

static void test_series_do_not_grow_with_feeds(void **state)
{
    size_t sizes[] = {2000, 20000, 100000}, lines[3];
    for (size_t t = 0; t < 3; t++) {
        feed_census_t c;
        strbuf_t text;
        strvec_t keys;
        strvec_init(&keys);
        census_of(sizes[t], &c, &text, &keys);
        lines[t] = series_lines(text.s);
        printf("%zu feeds: %zu series, %zu bytes\n", sizes[t], lines[t], text.len);
        assert_true(text.len < 8192);
        assert_int_equal(c.total, sizes[t]);
        assert_int_equal(c.intervals, 3 * (long long)sizes[t]);
        size_t nag = sizes[t] / 60 + (sizes[t] % 60 != 0);
        assert_int_equal(c.agencies_failing, nag);
        assert_int_equal(c.ntop, FEED_CENSUS_TOP);
        assert_int_equal(c.top[0].failing, 5);           /* a % 5 == 4 */
        assert_string_equal(c.top[0].agency, "ag00004");  /* ties: smallest id */
        for (size_t i = 1; i < c.ntop; i++)
            assert_true(c.top[i - 1].failing > c.top[i].failing ||
                        (c.top[i - 1].failing == c.top[i].failing &&
                         strcmp(c.top[i - 1].agency, c.top[i].agency) < 0));
        size_t kinds = 0;
        for (int k = 0; k < FEED_KIND_COUNT; k++)
            kinds += c.by_kind[k][FEED_STATE_OK] + c.by_kind[k][FEED_STATE_FAILING] +
                     c.by_kind[k][FEED_STATE_PENDING];
        assert_int_equal(kinds, sizes[t]);
        assert_int_equal(c.age_count, c.total - c.by_state[FEED_STATE_PENDING]);
        char want[80];
        snprintf(want, sizeof want, "tsunagu_feeds{state=\"failing\"} %zu\n",
                 c.by_state[FEED_STATE_FAILING]);
        assert_non_null(strstr(text.s, want));
        assert_non_null(strstr(text.s, "tsunagu_agency_failing_feeds{agency=\"ag00004\"} 5\n"));
        snprintf(want, sizeof want, "tsunagu_feed_success_age_seconds_count %zu\n", c.age_count);
        assert_non_null(strstr(text.s, want));
        feed_census_free(&c);
        strvec_free(&keys);
        strbuf_free(&text);
    }
    assert_int_equal(lines[0], lines[1]);
    assert_int_equal(lines[1], lines[2]);
}

/* Failing feeds are counted a run of one agency at a time; agencies that
 * alternate (a census in no particular order) still add up. */
static void test_failing_counts_when_agencies_alternate(void **state)
{
    feed_census_t c;
    feed_census_init(&c, NOW);
    const char *ag[] = {"b", "a", "b", "b", "a", "c", "b"};
    for (size_t i = 0; i < sizeof ag / sizeof ag[0]; i++) {
        feed_view_t v = {"f", ag[i], FEED_ICS, FEED_STATE_FAILING, 0, 0};
        feed_census_add(&c, &v);
    }
    feed_view_t ok = {"g", "d", FEED_ICS, FEED_STATE_OK, NOW, 0};
    feed_census_add(&c, &ok);
    feed_census_finish(&c);
    assert_int_equal(c.agencies_failing, 3);
    assert_int_equal(c.ntop, 3);
    assert_string_equal(c.top[0].agency, "b");
    assert_int_equal(c.top[0].failing, 4);
    assert_string_equal(c.top[1].agency, "a");
    assert_int_equal(c.top[1].failing, 2);
    assert_int_equal(c.top[2].failing, 1);
    feed_census_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_series_do_not_grow_with_feeds),
        cmocka_unit_test(test_failing_counts_when_agencies_alternate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
