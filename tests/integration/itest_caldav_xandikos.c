/* SPDX-License-Identifier: MIT */
/*
 * itest_caldav_xandikos.c - the caldav-freebusy feed kind (CalDAV
 * free-busy-query REPORT) against a real Xandikos started by the test,
 * on calendar collections and on URLs that are not (the principal, the
 * server root, the home set), where the collections are discovered.
 *
 * Xandikos 0.2 answers free-busy-query from the stored VEVENTs without
 * expanding recurrences, so the calendar uploaded here is one resource
 * per busy interval of the fixture's expected/busy files, written in the
 * shapes a real calendar uses: UTC DTSTART/DTEND, DTSTART+DURATION,
 * floating local time, all-day VALUE=DATE days, STATUS:TENTATIVE.  Decoy
 * events that must not count (TRANSP:TRANSPARENT, STATUS:CANCELLED) sit
 * in free time.  Xandikos runs with TZ=Asia/Tokyo so floating and all-day
 * times mean the agency's zone.  The VFREEBUSY that comes back, parsed by
 * tsunagu, must equal expected/busy exactly.  The list runs twice:
 * parsing inline, then on a parse pool of two workers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "feed.h"
#include "support_busy.h"
#include "support_dav.h"
#include "support_feed.h"
#include "support_proc.h"
#include "webdav.h"

#define CITY "tests/data/yamanami"

typedef support_outcome_t outcome_t;
static support_feed_env_t E;      /* xandikos, the loop, the window */

static const char *const feeds[] = { "csw", "hogo" };
#define NFEEDS (sizeof feeds / sizeof feeds[0])

static int64_t iso(const char *s)
{
    int64_t t = 0;
    if (!tu_parse_iso8601(s, NULL, &t))
        fail_msg("bad ISO time %s", s);
    return t;
}

/* ---- harness ------------------------------------------------------------ */

static void fetch(feed_kind_t kind, const char *url, outcome_t *o)
{
    feed_request_t req = { .kind = kind, .url = url, .timeout_ms = 30000 };
    support_feed_fetch(&E, req, o);
}

static char *calendar_url(const char *name)
{
    return xasprintf("%s/user/calendars/%s/", E.base_url, name);
}

/* ---- building the uploaded calendar ------------------------------------- */

static void local_stamp(int64_t t, bool date_only, char out[17])
{
    int sod;
    int64_t day = tz_local_day(tz_default(), t, &sod);
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    if (date_only)
        snprintf(out, 17, "%04d%02d%02d", y, m, d);
    else
        snprintf(out, 17, "%04d%02d%02dT%02d%02d%02d", y, m, d, sod / 3600, sod / 60 % 60,
                 sod % 60);
}

static bool whole_local_days(int64_t s, int64_t e)
{
    int ss, es;
    tz_local_day(tz_default(), s, &ss);
    tz_local_day(tz_default(), e, &es);
    return ss == 0 && es == 0;
}

/* One VEVENT for [s,e), in a shape chosen by i. */
static char *event_for(const char *feed, size_t i, int64_t s, int64_t e, const char *extra)
{
    char a[17], b[17];
    strbuf_t v;
    strbuf_init(&v);
    strbuf_printf(&v, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tsunagu itest//EN\r\n"
                      "BEGIN:VEVENT\r\nUID:%s-%zu@itest\r\nDTSTAMP:20261120T000000Z\r\n", feed, i);
    if (whole_local_days(s, e)) {
        local_stamp(s, true, a);
        local_stamp(e, true, b);
        strbuf_printf(&v, "DTSTART;VALUE=DATE:%s\r\nDTEND;VALUE=DATE:%s\r\n", a, b);
    } else if (i % 3 == 0) {
        dav_utc_stamp(s, a);
        dav_utc_stamp(e, b);
        strbuf_printf(&v, "DTSTART:%s\r\nDTEND:%s\r\n", a, b);
    } else if (i % 3 == 1) {
        dav_utc_stamp(s, a);
        strbuf_printf(&v, "DTSTART:%s\r\nDURATION:PT%lldM\r\n", a, (long long)((e - s) / 60));
    } else {
        local_stamp(s, false, a);                       /* floating: agency zone */
        local_stamp(e, false, b);
        strbuf_printf(&v, "DTSTART:%s\r\nDTEND:%s\r\n", a, b);
    }
    strbuf_printf(&v, "%sSUMMARY:予定\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", extra ? extra : "");
    return strbuf_detach(&v);
}

static int put_event(const char *coll, const char *feed, size_t i, const char *ics)
{
    char *url = xasprintf("%s%s-%zu.ics", coll, feed, i);
    long st = support_http("PUT", url, NULL, "text/calendar; charset=utf-8", ics, NULL);
    if (st != 201 && st != 204)
        fprintf(stderr, "PUT %s -> %ld\n%s\n", url, st, ics);
    free(url);
    return st == 201 || st == 204 ? 0 : -1;
}

/* Upload the expected busy set of feed as events, plus decoys in free time. */
static int upload_feed(const char *feed)
{
    char *coll = calendar_url(feed);
    long st = support_http("MKCALENDAR", coll, NULL, NULL, NULL, NULL);
    ivset_t want;
    ivset_init(&want);
    char *path = xasprintf(CITY "/expected/busy/%s.json", feed);
    int rc = (st == 201 && support_load_busy_json(path, &want) && want.n > 2) ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < want.n; i++) {
        const char *extra = i % 5 == 4 ? "STATUS:TENTATIVE\r\n" : NULL;
        char *ics = event_for(feed, i, want.v[i].start, want.v[i].end, extra);
        rc = put_event(coll, feed, i, ics);
        free(ics);
    }
    /* decoys in the gaps after the first two intervals: must stay free */
    static const char *const decoys[] = { "TRANSP:TRANSPARENT\r\n", "STATUS:CANCELLED\r\n" };
    for (size_t k = 0; rc == 0 && k < 2; k++) {
        int64_t s = want.v[k].end + 60, e = want.v[k + 1].start - 60;
        if (e <= s)
            continue;
        char *ics = event_for(feed, 1000 + k, s, e, decoys[k]);
        rc = put_event(coll, feed, 1000 + k, ics);
        free(ics);
    }
    if (rc != 0)
        fprintf(stderr, "upload of %s failed (MKCALENDAR %ld)\n", feed, st);
    ivset_free(&want);
    free(path);
    free(coll);
    return rc;
}

/* ---- setup -------------------------------------------------------------- */

static int setup(void **state)
{
    if (support_feed_env_open(&E, "itest-xandikos", "xandikos.log") != 0)
        return -1;
    char *data = support_path(E.dir, "data");
    char port[16];
    snprintf(port, sizeof port, "%d", E.port);
    const char *argv[] = { "/usr/bin/python3", "-m", "xandikos.web", "-d", data, "--defaults",
                           "-l", "127.0.0.1", "-p", port, NULL };
    const char *env[] = { "TZ=Asia/Tokyo", NULL };
    bool ok = support_feed_env_serve(&E, argv, env, E.dir, 20000);
    free(data);
    for (size_t i = 0; ok && i < NFEEDS; i++)
        ok = upload_feed(feeds[i]) == 0;
    if (!ok) {
        support_print_log("xandikos setup failed:", E.log);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    support_feed_env_close(&E, 5000);
    return 0;
}

/* The same again with a parse pool of two workers: the VFREEBUSY answers
 * are then parsed off the loop (feed_job_offload), with the same result. */
static int setup_pool(void **state)
{
    return setup(state) == 0 ? support_feed_pool_start(&E, 2) : -1;
}

static int teardown_pool(void **state)
{
    support_feed_pool_stop();
    return teardown(state);
}

/* ---- tests ----------------------------------------------------------------- */

static void test_free_busy_query_matches_expected(void **state)
{
    for (size_t i = 0; i < NFEEDS; i++) {
        char *url = calendar_url(feeds[i]);
        outcome_t o;
        fetch(FEED_CALDAV_FREEBUSY, url, &o);
        if (o.status != FEED_OK)
            fail_msg("%s: %s", feeds[i], o.error);
        assert_int_equal(o.http_status, 200);
        ivset_t want;
        ivset_init(&want);
        char *path = xasprintf(CITY "/expected/busy/%s.json", feeds[i]);
        assert_true(support_load_busy_json(path, &want));
        char *diff = support_busy_diff(&o.busy, &want);
        if (diff)
            fail_msg("%s: %s", feeds[i], diff);
        free(path);
        ivset_free(&want);
        support_outcome_free(&o);
        free(url);
    }
}

/* The window bounds the answer: a narrower window gives a subset. */
static void test_window_is_sent_as_time_range(void **state)
{
    char *url = calendar_url("csw");
    int64_t from = E.from, to = E.to;
    E.from = iso("2026-12-07T00:00:00+09:00");
    E.to = iso("2026-12-12T00:00:00+09:00");
    outcome_t o;
    fetch(FEED_CALDAV_FREEBUSY, url, &o);
    E.from = from;
    E.to = to;
    assert_int_equal(o.status, FEED_OK);
    assert_true(o.busy.n > 0);
    for (size_t i = 0; i < o.busy.n; i++) {
        assert_true(o.busy.v[i].end > iso("2026-12-07T00:00:00+09:00"));
        assert_true(o.busy.v[i].start < iso("2026-12-12T00:00:00+09:00"));
    }
    support_outcome_free(&o);
    free(url);
}

static void test_missing_calendar_is_clear_error(void **state)
{
    char *url = calendar_url("no-such-calendar");
    outcome_t o;
    fetch(FEED_CALDAV_FREEBUSY, url, &o);
    assert_int_equal(o.status, FEED_ERROR);
    assert_non_null(o.error);
    assert_non_null(strstr(o.error, "free-busy-query"));
    assert_non_null(strstr(o.error, "HTTP 404"));
    assert_int_equal(o.busy.n, 0);
    support_outcome_free(&o);
    free(url);
}

/* ---- URLs that are not calendar collections ----------------------------- */

static struct {
    bool    has_covers;
    int64_t covers_from, covers_to;
} last_cov;

static void record_with_coverage(feed_result_t *res, void *arg)
{
    last_cov.has_covers = res->has_covers;
    last_cov.covers_from = res->covers_from;
    last_cov.covers_to = res->covers_to;
    support_outcome_record(res, arg);
}

/* A caldav-freebusy fetch of url that must succeed. */
static void fetch_fb_ok(const char *url, const char *state, outcome_t *o)
{
    feed_request_t req = { .kind = FEED_CALDAV_FREEBUSY, .url = url, .timeout_ms = 30000,
                           .state_json = state };
    memset(&last_cov, 0, sizeof last_cov);
    assert_non_null(support_feed_start(&E, req, o, record_with_coverage));
    if (support_feed_wait(&E, o, 1, 0) != 0)
        fail_msg("%s: job stalled", url);
    if (o->status != FEED_OK)
        fail_msg("%s: %s", url, o->error ? o->error : "?");
}

/* Every uploaded calendar's expected busy time, merged. */
static void expected_union(ivset_t *out)
{
    ivset_init(out);
    for (size_t i = 0; i < NFEEDS; i++) {
        ivset_t one, u;
        ivset_init(&one);
        ivset_init(&u);
        char *path = xasprintf(CITY "/expected/busy/%s.json", feeds[i]);
        assert_true(support_load_busy_json(path, &one));
        ivset_union(&u, out, &one);
        ivset_free(out);
        *out = u;
        ivset_free(&one);
        free(path);
    }
}

/* The principal (/user/, which has calendar-home-set) and the server root
 * (which has only current-user-principal) are not calendar collections:
 * Xandikos answers free-busy-query there with a 403 multistatus.  The feed
 * discovers the home's calendars as the caldav kind does, asks each, and
 * reports their union; the state keeps the collections found, and a
 * refresh from it gives the same answer. */
static void test_principal_and_root_urls_are_discovered(void **state)
{
    ivset_t want;
    expected_union(&want);
    const char *paths[] = { "/user/", "/" };
    for (size_t i = 0; i < 2; i++) {
        char *url = xasprintf("%s%s", E.base_url, paths[i]);
        outcome_t a, b;
        fetch_fb_ok(url, NULL, &a);
        char *diff = support_busy_diff(&a.busy, &want);
        if (diff)
            fail_msg("%s: %s", paths[i], diff);
        assert_true(last_cov.has_covers);               /* Xandikos echoes the window */
        assert_true(last_cov.covers_from <= E.from && last_cov.covers_to >= E.to - 86400);
        for (size_t k = 0; k < NFEEDS; k++) {
            char *coll = calendar_url(feeds[k]);
            if (!strstr(a.state, coll))
                fail_msg("%s: state lacks %s: %s", paths[i], coll, a.state);
            free(coll);
        }
        fetch_fb_ok(url, a.state, &b);
        diff = support_busy_diff(&b.busy, &want);
        if (diff)
            fail_msg("%s from state: %s", paths[i], diff);
        support_outcome_free(&a);
        support_outcome_free(&b);
        free(url);
    }
    ivset_free(&want);
}

/* A collection saved in the state that has gone is rediscovered from the
 * feed's URL; a URL that is neither a calendar nor leads to one fails
 * with the free-busy-query error and says why discovery did not help. */
static void test_stale_state_and_dead_ends(void **state)
{
    char *url = xasprintf("%s/user/", E.base_url);
    char *stale = xasprintf("{\"from\":0,\"to\":0,\"url\":\"%s\",\"collections\":"
                            "[\"%s/user/calendars/gone/\"]}", url, E.base_url);
    outcome_t o;
    fetch_fb_ok(url, stale, &o);
    ivset_t want;
    expected_union(&want);
    char *diff = support_busy_diff(&o.busy, &want);
    if (diff)
        fail_msg("stale state: %s", diff);
    assert_null(strstr(o.state, "/gone/"));
    support_outcome_free(&o);
    ivset_free(&want);
    free(stale);
    free(url);

    url = xasprintf("%s/user/calendars/", E.base_url);   /* the home set itself */
    fetch_fb_ok(url, NULL, &o);
    assert_true(o.busy.n > 0);
    support_outcome_free(&o);
    free(url);

    url = xasprintf("%s/nobody/here/", E.base_url);
    feed_request_t req = { .kind = FEED_CALDAV_FREEBUSY, .url = url, .timeout_ms = 30000 };
    support_feed_fetch(&E, req, &o);
    assert_int_equal(o.status, FEED_ERROR);
    assert_int_equal(o.http_status, 404);
    assert_non_null(strstr(o.error, "free-busy-query: HTTP 404"));
    print_message("      error: %s\n", o.error);
    assert_non_null(strstr(o.error, "カレンダーも見つかりません"));  /* why discovery did not help */
    assert_null(strchr(o.error, '\n'));
    assert_int_equal(o.busy.n, 0);
    support_outcome_free(&o);
    free(url);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_free_busy_query_matches_expected),
        cmocka_unit_test(test_window_is_sent_as_time_range),
        cmocka_unit_test(test_missing_calendar_is_clear_error),
        cmocka_unit_test(test_principal_and_root_urls_are_discovered),
        cmocka_unit_test(test_stale_state_and_dead_ends),
    };
    int failed = cmocka_run_group_tests_name("inline", tests, setup, teardown);
    return failed + cmocka_run_group_tests_name("parse pool", tests, setup_pool, teardown_pool);
}
