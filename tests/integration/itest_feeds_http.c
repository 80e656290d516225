/* SPDX-License-Identifier: MIT */
/*
 * itest_feeds_http.c - feed fetching against a real local HTTP server
 * (tests/support/badhttp.py) that serves good feeds and misbehaves.
 *
 * Every bad-input path of the issue is exercised through feed_refresh on
 * a real libevent loop with libcurl: malformed, non-UTF-8 (Shift_JIS is
 * read, with a warning) and truncated
 * iCalendar, HTTP 404/500, a timeout, a redirect loop, bodies over the
 * size limit, an unknown TZID (warning + fallback), WebDAV XML with
 * entity declarations, ETag/304 and basic auth, CalDAV reports truncated
 * with 507 (RFC 6578 section 3.6), CalDAV discovery leading to another
 * origin with credentials set.  Each must end FEED_ERROR
 * with a clear one-line message (or FEED_OK with a warning), and good
 * fetches before and after must still work.  The fixture city's 22 feeds
 * are fetched concurrently over HTTP and compared with expected/busy.
 * One test proves the loop stays responsive during a slow fetch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>

#include "feed.h"
#include "support_busy.h"
#include "support_feed.h"
#include "support_proc.h"

#define CAL_DIR "tests/data/yamanami/calendars"
#define EXPECTED_DIR "tests/data/yamanami/expected/busy"

typedef support_outcome_t outcome_t;
static support_feed_env_t E;      /* badhttp.py, the loop, the window */

/* ---- harness ------------------------------------------------------------ */

static void on_feed_done(feed_result_t *res, void *arg)
{
    assert_false(((outcome_t *)arg)->done);      /* exactly once */
    support_outcome_record(res, arg);
}

static char *url_for(const char *path)
{
    return xasprintf("http://127.0.0.1:%d%s", E.port, path);
}

/* The origin guard's inputs for the next fetches (NULL: none). */
static const char *G_allow_hosts;
static const struct sockaddr *G_self;

static feed_job_t *start_feed(feed_kind_t kind, const char *url, size_t max_body,
                              long timeout_ms, const char *state, const char *userpwd,
                              outcome_t *o)
{
    feed_request_t req = {
        .kind = kind, .url = url, .userpwd = userpwd, .max_body = max_body,
        .timeout_ms = timeout_ms, .state_json = state,
        .allow_hosts = G_allow_hosts, .self_addr = G_self,
    };
    feed_job_t *job = support_feed_start(&E, req, o, on_feed_done);
    assert_non_null(job);
    assert_false(o->done);                      /* never called back synchronously */
    return job;
}

/* Run the loop until every outcome is done (fails after 60 s). */
static void wait_all(outcome_t *os, size_t n)
{
    assert_int_equal(support_feed_wait(&E, os, n, 60), 0);
}

/* Fetch a full URL (or absolute file path) and wait for the outcome. */
static void fetch_url(feed_kind_t kind, const char *url, size_t max_body, long timeout_ms,
                      const char *state, const char *userpwd, outcome_t *o)
{
    start_feed(kind, url, max_body, timeout_ms, state, userpwd, o);
    wait_all(o, 1);
}

/* Fetch a route of the badhttp server. */
static void fetch(feed_kind_t kind, const char *route, size_t max_body, long timeout_ms,
                  const char *state, const char *userpwd, outcome_t *o)
{
    char *url = url_for(route);
    fetch_url(kind, url, max_body, timeout_ms, state, userpwd, o);
    free(url);
}

static void assert_error_has(const outcome_t *o, const char *needle)
{
    if (o->status != FEED_ERROR)
        fail_msg("expected FEED_ERROR containing \"%s\", got status %d", needle, (int)o->status);
    assert_non_null(o->error);
    print_message("      error: %s\n", o->error);
    if (!strstr(o->error, needle))
        fail_msg("error \"%s\" lacks \"%s\"", o->error, needle);
    assert_null(strchr(o->error, '\n'));
    assert_int_equal(o->busy.n, 0);
}

static int64_t iso(const char *s)
{
    int64_t t = 0;
    assert_true(tu_parse_iso8601(s, NULL, &t));
    return t;
}

/* ---- setup -------------------------------------------------------------- */

static int setup(void **state)
{
    if (support_feed_env_open(&E, "itest-feeds", "badhttp.log") != 0)
        return -1;
    char port[16];
    snprintf(port, sizeof port, "%d", E.port);
    const char *argv[] = { "/usr/bin/python3", "tests/support/badhttp.py", port, CAL_DIR, NULL };
    if (!support_feed_env_serve(&E, argv, NULL, NULL, 10000)) {
        support_print_log("badhttp did not start:", E.log);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    support_feed_env_close(&E, 3000);
    return 0;
}

/* ---- good feeds ------------------------------------------------------------ */

static const char *const fixture_feeds[] = {
    "csw", "dv", "hellowork", "hikikomori", "hogo", "hoken", "houkatsu-chuo",
    "houkatsu-hokubu", "houkatsu-nanbu", "houkatsu-seibu", "houkatsu-tobu", "jiritsu",
    "jutaku", "kenri", "kikan-shogai-a", "kikan-shogai-b", "kikan-shogai-c", "kodomo",
    "kyodo", "sodan-hikari", "sodan-nozomi", "ssw",
};
#define NFIXTURES (sizeof fixture_feeds / sizeof fixture_feeds[0])

static feed_kind_t fixture_kind(const char *name)
{
    return strcmp(name, "dv") == 0 || strcmp(name, "hoken") == 0 ? FEED_FREEBUSY : FEED_ICS;
}

static void assert_matches_expected(const char *name, const outcome_t *o)
{
    if (o->status != FEED_OK)
        fail_msg("%s: status %d error %s", name, (int)o->status, o->error ? o->error : "-");
    ivset_t want;
    ivset_init(&want);
    char *path = xasprintf("%s/%s.json", EXPECTED_DIR, name);
    assert_true(support_load_busy_json(path, &want));
    assert_true(want.n > 0);
    char *diff = support_busy_diff(&o->busy, &want);
    if (diff)
        fail_msg("%s: %s", name, diff);
    free(path);
    ivset_free(&want);
}

/* All 22 fixture feeds at once over HTTP, each equal to expected/busy. */
static void test_fixture_feeds_concurrently(void **state)
{
    outcome_t os[NFIXTURES];
    for (size_t i = 0; i < NFIXTURES; i++) {
        char *url = xasprintf("http://127.0.0.1:%d/cal/%s.ics", E.port, fixture_feeds[i]);
        start_feed(fixture_kind(fixture_feeds[i]), url, 0, 0, NULL, NULL, &os[i]);
        free(url);
    }
    assert_true(curlev_in_flight(E.cev) > 1);
    wait_all(os, NFIXTURES);
    for (size_t i = 0; i < NFIXTURES; i++) {
        assert_matches_expected(fixture_feeds[i], &os[i]);
        assert_int_equal(os[i].http_status, 200);
        support_outcome_free(&os[i]);
    }
    assert_int_equal(curlev_in_flight(E.cev), 0);
}

/* file:// URL and absolute path; an unchanged file gives FEED_UNCHANGED. */
static void test_local_files(void **state)
{
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    char *path = xasprintf("%s/%s/csw.ics", cwd, CAL_DIR);
    char *furl = xasprintf("file://%s", path);
    outcome_t a, b, c;
    fetch_url(FEED_ICS, furl, 0, 0, NULL, NULL, &a);
    assert_matches_expected("csw", &a);
    assert_non_null(a.state);
    fetch_url(FEED_ICS, path, 0, 0, a.state, NULL, &b);
    assert_int_equal(b.status, FEED_UNCHANGED);
    fetch_url(FEED_ICS, path, 0, 0, NULL, NULL, &c);
    assert_matches_expected("csw", &c);
    support_outcome_free(&a);
    support_outcome_free(&b);
    support_outcome_free(&c);

    char *missing = xasprintf("%s/no-such-feed.ics", E.dir);
    fetch_url(FEED_ICS, missing, 0, 0, NULL, NULL, &a);
    assert_error_has(&a, "ファイルを開けません");
    support_outcome_free(&a);
    fetch_url(FEED_ICS, path, 1024, 0, NULL, NULL, &a);        /* over a tiny limit */
    assert_error_has(&a, "大きすぎます");
    support_outcome_free(&a);
    fetch_url(FEED_ICS, "ftp://127.0.0.1/x.ics", 0, 0, NULL, NULL, &a);
    assert_error_has(&a, "対応していない URL");
    support_outcome_free(&a);
    free(missing);
    free(path);
    free(furl);
}

/* ---- bad input ------------------------------------------------------------ */

static void test_malformed_ical(void **state)
{
    outcome_t o;
    fetch(FEED_ICS, "/malformed.ics", 0, 0, NULL, NULL, &o);
    assert_error_has(&o, "iCalendar");
    assert_int_equal(o.http_status, 200);
    support_outcome_free(&o);
}

static void test_non_utf8(void **state)
{
    outcome_t o;
    fetch(FEED_ICS, "/nonutf8.ics", 0, 0, NULL, NULL, &o);
    assert_error_has(&o, "UTF-8");
    support_outcome_free(&o);
}

static bool warns_about(const outcome_t *o, const char *needle);

/* A Japanese groupware export in Shift_JIS is read (README "messy feeds"):
 * with charset=Shift_JIS and with no charset, the same busy time as its
 * UTF-8 version and a warning; claiming UTF-8, or not decoding, it is
 * refused with the encoding error. */
static void test_shift_jis(void **state)
{
    static const struct { const char *route, *warning; } ok[] = {
        {"/sjis.ics", "Shift_JIS の予定表を UTF-8 に変換して読みました (converted from Shift_JIS)"},
        {"/sjis-nocharset.ics", "(no charset given; converted from Shift_JIS)"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        outcome_t o;
        fetch(FEED_ICS, ok[i].route, 0, 0, NULL, NULL, &o);
        if (o.status != FEED_OK) fail_msg("%s: %s", ok[i].route, o.error ? o.error : "?");
        assert_int_equal(o.http_status, 200);
        assert_int_equal(o.warnings.n, 1);
        if (!strstr(o.warnings.v[0], ok[i].warning))
            fail_msg("%s: warning \"%s\" lacks \"%s\"", ok[i].route, o.warnings.v[0], ok[i].warning);
        assert_int_equal(o.busy.n, 1);
        assert_int_equal(o.busy.v[0].start, iso("2026-12-02T10:00:00+09:00"));
        assert_int_equal(o.busy.v[0].end, iso("2026-12-02T11:30:00+09:00"));
        assert_non_null(o.state);
        assert_non_null(strstr(o.state, "converted from Shift_JIS"));   /* 304 repeats it */
        support_outcome_free(&o);
    }
    /* a file feed has no charset at all: the interop corpus's export */
    char *path = realpath("tests/data/interop/japanese-groupware-sjis.ics", NULL);
    assert_non_null(path);
    outcome_t f;
    fetch_url(FEED_ICS, path, 0, 0, NULL, NULL, &f);
    if (f.status != FEED_OK) fail_msg("%s: %s", path, f.error ? f.error : "?");
    assert_true(warns_about(&f, "(no charset given; converted from Shift_JIS)"));
    support_outcome_free(&f);
    free(path);
    static const char *refused[] = {"/sjis-as-utf8.ics", "/not-sjis.ics"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        outcome_t o;
        fetch(FEED_ICS, refused[i], 0, 0, NULL, NULL, &o);
        assert_error_has(&o, "UTF-8 ではありません");
        support_outcome_free(&o);
    }
}

static void test_truncated(void **state)
{
    outcome_t o;
    fetch(FEED_ICS, "/truncated.ics", 0, 0, NULL, NULL, &o);
    assert_error_has(&o, "iCalendar");
    support_outcome_free(&o);
    fetch(FEED_ICS, "/truncated-transfer.ics", 0, 0, NULL, NULL, &o);
    assert_error_has(&o, "途中で切れました");
    support_outcome_free(&o);
}

static void test_http_errors(void **state)
{
    outcome_t o;
    fetch(FEED_ICS, "/404.ics", 0, 0, NULL, NULL, &o);
    assert_error_has(&o, "HTTP 404");
    assert_int_equal(o.http_status, 404);
    support_outcome_free(&o);
    fetch(FEED_ICS, "/500.ics", 0, 0, NULL, NULL, &o);
    assert_error_has(&o, "HTTP 500");
    assert_int_equal(o.http_status, 500);
    support_outcome_free(&o);
    fetch(FEED_ICS, "/auth.ics", 0, 0, NULL, NULL, &o);
    assert_error_has(&o, "HTTP 401");
    assert_error_has(&o, "認証");
    support_outcome_free(&o);
    fetch(FEED_ICS, "/auth.ics", 0, 0, NULL, "agency:wrong", &o);
    assert_error_has(&o, "HTTP 401");
    support_outcome_free(&o);
    fetch(FEED_ICS, "/auth.ics", 0, 0, NULL, "agency:s3cret", &o);
    assert_int_equal(o.status, FEED_OK);
    assert_int_equal(o.busy.n, 1);
    support_outcome_free(&o);
}

static void test_timeout(void **state)
{
    outcome_t o;
    fetch(FEED_ICS, "/slow.ics?s=4", 0, 700, NULL, NULL, &o);
    assert_error_has(&o, "タイムアウト");
    assert_true(o.elapsed_ms >= 600 && o.elapsed_ms < 3000);
    support_outcome_free(&o);
}

static void test_redirects(void **state)
{
    outcome_t o;
    fetch(FEED_ICS, "/loop", 0, 0, NULL, NULL, &o);
    assert_error_has(&o, "リダイレクトが多すぎます");
    support_outcome_free(&o);
    fetch(FEED_ICS, "/redirect.ics", 0, 0, NULL, NULL, &o);   /* one hop is fine */
    assert_int_equal(o.status, FEED_OK);
    assert_int_equal(o.busy.n, 1);
    support_outcome_free(&o);
    fetch(FEED_ICS, "/redirect-file", 0, 0, NULL, NULL, &o);  /* never to file:// */
    assert_error_has(&o, "対応していない URL");
    support_outcome_free(&o);
}

static void test_size_limit(void **state)
{
    outcome_t o;
    fetch(FEED_ICS, "/huge.ics?mb=11", 0, 0, NULL, NULL, &o);        /* default 10 MB */
    assert_error_has(&o, "大きすぎます");
    assert_non_null(strstr(o.error, "10485760"));
    support_outcome_free(&o);
    fetch(FEED_ICS, "/huge-cl.ics?mb=11", 0, 0, NULL, NULL, &o);     /* announced size */
    assert_error_has(&o, "大きすぎます");
    support_outcome_free(&o);
    fetch(FEED_ICS, "/huge.ics?mb=1", 256 * 1024, 0, NULL, NULL, &o); /* configured */
    assert_error_has(&o, "262144");
    support_outcome_free(&o);
    fetch(FEED_ICS, "/cal/csw.ics", 256 * 1024, 0, NULL, NULL, &o);  /* under it */
    assert_matches_expected("csw", &o);
    support_outcome_free(&o);
}

static void test_unknown_tzid_warns_and_falls_back(void **state)
{
    outcome_t o;
    fetch(FEED_ICS, "/unknown-tzid.ics", 0, 0, NULL, NULL, &o);
    assert_int_equal(o.status, FEED_OK);
    assert_true(o.warnings.n >= 1);
    bool named = false;
    for (size_t i = 0; i < o.warnings.n; i++)
        named |= strstr(o.warnings.v[i], "Mars/Olympus_Mons") != NULL;
    assert_true(named);
    assert_int_equal(o.busy.n, 1);                      /* read in Asia/Tokyo */
    assert_int_equal(o.busy.v[0].start, iso("2026-12-02T10:00:00+09:00"));
    assert_int_equal(o.busy.v[0].end, iso("2026-12-02T11:00:00+09:00"));
    support_outcome_free(&o);
}

static bool warns_about(const outcome_t *o, const char *needle)
{
    for (size_t i = 0; i < o->warnings.n; i++)
        if (strstr(o->warnings.v[i], needle))
            return true;
    return false;
}

/* CalDAV: the warning of an unchanged resource survives incremental syncs. */
static void test_caldav_unknown_tzid_warning_persists(void **state)
{
    outcome_t a, b;
    fetch(FEED_CALDAV, "/dav-tzid/cal/", 0, 0, NULL, NULL, &a);
    if (a.status != FEED_OK)
        fail_msg("caldav tzid: %s", a.error);
    assert_true(warns_about(&a, "Mars/Olympus_Mons"));
    assert_int_equal(a.busy.n, 1);
    assert_int_equal(a.busy.v[0].start, iso("2026-12-02T10:00:00+09:00"));
    fetch(FEED_CALDAV, "/dav-tzid/cal/", 0, 0, a.state, NULL, &b);
    assert_int_equal(b.status, FEED_OK);
    assert_non_null(strstr(b.state, "\"last_mode\":\"sync\""));
    assert_true(warns_about(&b, "Mars/Olympus_Mons"));
    assert_int_equal(b.busy.n, 1);
    assert_int_equal(b.busy.v[0].start, a.busy.v[0].start);
    support_outcome_free(&a);
    support_outcome_free(&b);
}

/* True when o's busy set is exactly one hour from each of the n starts. */
static bool busy_starts_are(const outcome_t *o, const char *const *want, size_t n)
{
    if (o->busy.n != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (o->busy.v[i].start != iso(want[i]) || o->busy.v[i].end != iso(want[i]) + 3600)
            return false;
    return true;
}

/* RFC 6578 section 3.6: a server truncates a sync-collection report (507
 * for the collection, with a token for the changes so far).  The refresh
 * follows the token until the report is whole; a server whose token does
 * not move gets a full calendar-query instead; a truncated calendar-query
 * fails the refresh rather than store part of the calendar. */
static void test_caldav_truncated_sync_is_continued(void **state)
{
    const char *all[] = {"2026-12-02T10:00:00+09:00", "2026-12-03T10:00:00+09:00",
                         "2026-12-04T10:00:00+09:00"};
    outcome_t a, b, c;
    fetch(FEED_CALDAV, "/dav-trunc/cal/", 0, 0, NULL, NULL, &a);
    if (a.status != FEED_OK)
        fail_msg("dav-trunc: %s", a.error);
    assert_true(busy_starts_are(&a, all, 1));                    /* a.ics, token tok-1 */
    fetch(FEED_CALDAV, "/dav-trunc/cal/", 0, 0, a.state, NULL, &b);
    if (b.status != FEED_OK)
        fail_msg("dav-trunc sync: %s", b.error);
    if (!busy_starts_are(&b, all, 3))
        fail_msg("dav-trunc sync: %zu intervals, want a, b and c (state %s)", b.busy.n, b.state);
    assert_non_null(strstr(b.state, "\"last_mode\":\"sync\""));
    assert_non_null(strstr(b.state, "\"sync_token\":\"tok-3\""));
    /* and the next refresh from tok-3 keeps all three */
    fetch(FEED_CALDAV, "/dav-trunc/cal/", 0, 0, b.state, NULL, &c);
    assert_int_equal(c.status, FEED_OK);
    assert_true(busy_starts_are(&c, all, 3));
    support_outcome_free(&a);
    support_outcome_free(&b);
    support_outcome_free(&c);

    fetch(FEED_CALDAV, "/dav-stuck/cal/", 0, 0, NULL, NULL, &a);
    assert_int_equal(a.status, FEED_OK);
    assert_true(busy_starts_are(&a, all, 3));
    fetch(FEED_CALDAV, "/dav-stuck/cal/", 0, 0, a.state, NULL, &b);
    if (b.status != FEED_OK)
        fail_msg("dav-stuck sync: %s", b.error);
    assert_true(busy_starts_are(&b, all, 3));
    assert_non_null(strstr(b.state, "\"last_mode\":\"full\""));
    support_outcome_free(&a);
    support_outcome_free(&b);

    fetch(FEED_CALDAV, "/dav-qtrunc/cal/", 0, 0, NULL, NULL, &a);
    assert_error_has(&a, "507");
    assert_error_has(&a, "calendar-query");
    support_outcome_free(&a);
}

static void test_xml_with_entities(void **state)
{
    outcome_t o;
    fetch(FEED_CALDAV, "/dav-entities/cal/", 0, 0, NULL, NULL, &o);
    assert_error_has(&o, "実体宣言");
    support_outcome_free(&o);
    fetch(FEED_CALDAV, "/dav-malformed/cal/", 0, 0, NULL, NULL, &o);
    assert_error_has(&o, "XML を解析できません");
    support_outcome_free(&o);
    fetch(FEED_CALDAV, "/dav-html/cal/", 0, 0, NULL, NULL, &o);
    assert_error_has(&o, "multistatus");
    support_outcome_free(&o);
    fetch(FEED_CALDAV, "/dav-badical/cal/", 0, 0, NULL, NULL, &o);
    assert_error_has(&o, "/dav-badical/cal/broken.ics");
    assert_error_has(&o, "iCalendar");
    support_outcome_free(&o);
    fetch(FEED_CALDAV_FREEBUSY, "/dav-entities/cal/", 0, 0, NULL, NULL, &o);
    assert_error_has(&o, "VFREEBUSY");
    support_outcome_free(&o);
}

static void test_etag_304(void **state)
{
    outcome_t a, b, c;
    fetch(FEED_ICS, "/etag.ics", 0, 0, NULL, NULL, &a);
    assert_int_equal(a.status, FEED_OK);
    assert_non_null(a.state);
    assert_non_null(strstr(a.state, "v1-badhttp"));
    fetch(FEED_ICS, "/etag.ics", 0, 0, a.state, NULL, &b);
    assert_int_equal(b.status, FEED_UNCHANGED);
    assert_int_equal(b.http_status, 304);
    assert_null(b.error);
    assert_non_null(b.state);
    /* A moved window must not trust the old expansion: full fetch. */
    E.to += 3 * 86400;
    fetch(FEED_ICS, "/etag.ics", 0, 0, a.state, NULL, &c);
    E.to -= 3 * 86400;
    assert_int_equal(c.status, FEED_OK);
    assert_int_equal(c.busy.n, 1);
    support_outcome_free(&a);
    support_outcome_free(&b);
    support_outcome_free(&c);
}

/* A 304 keeps reporting the warnings of the document it stands for. */
static void test_304_repeats_warnings(void **state)
{
    outcome_t a, b;
    fetch(FEED_ICS, "/etag-tzid.ics", 0, 0, NULL, NULL, &a);
    assert_int_equal(a.status, FEED_OK);
    assert_true(warns_about(&a, "Mars/Olympus_Mons"));
    fetch(FEED_ICS, "/etag-tzid.ics", 0, 0, a.state, NULL, &b);
    assert_int_equal(b.status, FEED_UNCHANGED);
    assert_true(warns_about(&b, "Mars/Olympus_Mons"));
    support_outcome_free(&a);
    support_outcome_free(&b);
}

static void test_freebusy_kind(void **state)
{
    outcome_t o;
    fetch(FEED_FREEBUSY, "/freebusy.ics", 0, 0, NULL, NULL, &o);
    assert_int_equal(o.status, FEED_OK);
    assert_int_equal(o.busy.n, 2);                      /* FBTYPE=FREE excluded */
    assert_int_equal(o.busy.v[0].start, iso("2026-12-03T01:00:00Z"));
    assert_int_equal(o.busy.v[1].end, iso("2026-12-04T01:30:00Z"));
    support_outcome_free(&o);
    fetch(FEED_FREEBUSY, "/good.ics", 0, 0, NULL, NULL, &o);
    assert_error_has(&o, "VFREEBUSY");
    support_outcome_free(&o);
}

/* ---- the loop never blocks ------------------------------------------------- */

typedef struct ticker {
    struct event *ev;
    int           ticks;
} ticker_t;

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    ((ticker_t *)arg)->ticks++;
}

static void test_loop_not_blocked_by_slow_fetch(void **state)
{
    ticker_t t = { 0 };
    t.ev = event_new(E.base, -1, EV_PERSIST, on_tick, &t);
    struct timeval every = { 0, 50 * 1000 };
    evtimer_add(t.ev, &every);
    outcome_t slow, quick;
    char *slow_url = url_for("/slow.ics?s=2");
    char *quick_url = url_for("/good.ics");
    start_feed(FEED_ICS, slow_url, 0, 10000, NULL, NULL, &slow);
    start_feed(FEED_ICS, quick_url, 0, 0, NULL, NULL, &quick);
    wait_all(&quick, 1);
    assert_false(slow.done);                 /* the quick one overtook it */
    int ticks_at_quick = t.ticks;
    wait_all(&slow, 1);
    event_free(t.ev);
    assert_int_equal(slow.status, FEED_OK);
    assert_int_equal(quick.status, FEED_OK);
    assert_true(slow.elapsed_ms >= 1900);
    /* ~2 s at 50 ms: the timer kept firing while the fetch was in flight */
    assert_true(t.ticks - ticks_at_quick >= 20);
    free(slow_url);
    free(quick_url);
    support_outcome_free(&slow);
    support_outcome_free(&quick);
}

static void test_cancel_never_calls_back(void **state)
{
    outcome_t o;
    char *url = url_for("/slow.ics?s=1");
    feed_job_t *job = start_feed(FEED_ICS, url, 0, 0, NULL, NULL, &o);
    assert_int_equal(curlev_in_flight(E.cev), 1);
    feed_job_cancel(job);
    assert_int_equal(curlev_in_flight(E.cev), 0);
    for (int i = 0; i < 20; i++)
        event_base_loop(E.base, EVLOOP_NONBLOCK);
    assert_false(o.done);
    free(url);
    support_outcome_free(&o);
    /* and an immediately failing job can be cancelled before its callback */
    job = start_feed(FEED_ICS, "gopher://x", 0, 0, NULL, NULL, &o);
    feed_job_cancel(job);
    event_base_loop(E.base, EVLOOP_NONBLOCK);
    assert_false(o.done);
    support_outcome_free(&o);
}

/* A second badhttp.py on another port: the "other origin" of the
 * /dav-away/ routes.  Its log shows what reached it. */
static pid_t start_other(int *port, char **log)
{
    do *port = support_free_port(); while (*port == E.port);
    char p[16];
    snprintf(p, sizeof p, "%d", *port);
    *log = support_path(E.dir, "other.log");
    const char *argv[] = { "/usr/bin/python3", "tests/support/badhttp.py", p, CAL_DIR, NULL };
    pid_t pid = support_spawn(argv, NULL, NULL, *log);
    if (pid < 0 || !support_wait_port(*port, 10000, pid))
        fail_msg("second badhttp did not start: %s", support_read_log(*log));
    return pid;
}

/* The other server's log so far. */
static char *other_seen(const char *log)
{
    char *text = support_read_log(log);
    assert_non_null(text);
    return text;
}

/* CalDAV discovery that leads to another origin (the principal, the home
 * set, or a calendar listed in a same-origin home): with credentials the
 * feed fails with a clear error and nothing is sent there; a saved state
 * naming a collection there is not used either.  Without credentials the
 * other origin is followed as before. */
static void test_caldav_credentials_stay_on_origin(void **state)
{
    int port;
    char *log;
    pid_t other = start_other(&port, &log);
    char *origin = xasprintf("http://127.0.0.1:%d", port);
    static const char *const kinds[] = { "principal", "home", "coll" };
    outcome_t o;
    for (size_t i = 0; i < 3; i++) {
        char *route = xasprintf("/dav-away/%d/%s/", port, kinds[i]);
        fetch(FEED_CALDAV, route, 0, 0, NULL, "agency:s3cret", &o);
        assert_error_has(&o, "認証情報を別のホストへ送らないため中止しました");
        assert_error_has(&o, origin);
        assert_null(strstr(o.error, "s3cret"));
        support_outcome_free(&o);
        free(route);
    }
    /* caldav-freebusy discovers the same way (its REPORT gets XML, not a
     * VFREEBUSY, so it discovers) */
    char *coll = xasprintf("/dav-away/%d/coll/", port);
    fetch(FEED_CALDAV_FREEBUSY, coll, 0, 0, NULL, "agency:s3cret", &o);
    assert_error_has(&o, "認証情報を別のホストへ送らないため中止しました");
    support_outcome_free(&o);
    char *seen = other_seen(log);
    if (strstr(seen, "PROPFIND") || strstr(seen, "REPORT") || strstr(seen, "AUTHORIZATION"))
        fail_msg("a request reached the other origin:\n%s", seen);
    free(seen);

    /* no credentials to leak: still another origin, refused ... */
    fetch(FEED_CALDAV, coll, 0, 0, NULL, NULL, &o);
    assert_error_has(&o, "別のホストへの転送を拒否しました");
    support_outcome_free(&o);
    seen = other_seen(log);
    if (strstr(seen, "REPORT") || strstr(seen, "PROPFIND"))
        fail_msg("a request reached the other origin:\n%s", seen);
    free(seen);
    /* ... unless FEED_ALLOW_HOSTS lists the host: followed, and it works */
    G_allow_hosts = "cal.example.jp, 127.0.0.1";
    fetch(FEED_CALDAV, coll, 0, 0, NULL, NULL, &o);
    G_allow_hosts = NULL;
    if (o.status != FEED_OK)
        fail_msg("without credentials, host allowed: %s", o.error);
    seen = other_seen(log);
    assert_non_null(strstr(seen, "REPORT /dav-tzid/cal/"));
    assert_null(strstr(seen, "AUTHORIZATION"));
    free(seen);
    /* that state names the collection over there: with credentials it is
     * not used; discovery runs and refuses */
    outcome_t s;
    fetch(FEED_CALDAV, coll, 0, 0, o.state, "agency:s3cret", &s);
    assert_error_has(&s, "認証情報を別のホストへ送らないため中止しました");
    support_outcome_free(&s);
    /* the same for a caldav-freebusy state (the collections it found) */
    char *url = url_for(coll);
    char *fb_state = xasprintf("{\"from\":%lld,\"to\":%lld,\"url\":\"%s\","
                               "\"collections\":[\"%s/dav-tzid/cal/\"]}",
                               (long long)E.from, (long long)E.to, url, origin);
    fetch(FEED_CALDAV_FREEBUSY, coll, 0, 0, fb_state, "agency:s3cret", &s);
    assert_error_has(&s, "認証情報を別のホストへ送らないため中止しました");
    support_outcome_free(&s);
    free(fb_state);
    free(url);
    seen = other_seen(log);
    if (strstr(seen, "AUTHORIZATION"))
        fail_msg("credentials reached the other origin:\n%s", seen);
    free(seen);
    support_outcome_free(&o);

    free(coll);
    free(origin);
    support_stop(other, 3000);
    free(log);
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* Redirects stay on the feed's origin (issue 8 item 4): another port or
 * host name is refused before it is contacted, unless FEED_ALLOW_HOSTS
 * lists the host; the daemon's own listener is never connected to, by
 * redirect or directly, even when its host is allowed. */
static void test_redirect_origin_guard(void **state)
{
    int port;
    char *log;
    pid_t other = start_other(&port, &log);
    char *away = xasprintf("/redirect-away?to=http://127.0.0.1:%d/good.ics", port);
    char *by_name = xasprintf("/redirect-away?to=http://localhost:%d/good.ics", E.port);
    outcome_t o;
    fetch(FEED_ICS, away, 0, 0, NULL, NULL, &o);
    assert_error_has(&o, "別のホストへの転送を拒否しました");
    support_outcome_free(&o);
    fetch(FEED_ICS, by_name, 0, 0, NULL, NULL, &o);            /* same port, other host */
    assert_error_has(&o, "別のホストへの転送を拒否しました");
    support_outcome_free(&o);
    char *seen = other_seen(log);
    assert_int_equal(count_of(seen, "GET /good.ics"), 0);      /* never contacted */
    free(seen);

    G_allow_hosts = "127.0.0.1";
    fetch(FEED_ICS, away, 0, 0, NULL, NULL, &o);
    if (o.status != FEED_OK)
        fail_msg("allowed host refused: %s", o.error);
    assert_int_equal(o.busy.n, 1);
    support_outcome_free(&o);
    seen = other_seen(log);
    assert_int_equal(count_of(seen, "GET /good.ics"), 1);
    free(seen);

    /* the other server plays the daemon's listener: never fetched */
    struct sockaddr_in self = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    self.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct sockaddr_in any = self;
    any.sin_addr.s_addr = htonl(INADDR_ANY);
    char *direct = xasprintf("http://127.0.0.1:%d/good.ics", port);
    const struct sockaddr *selves[] = { (struct sockaddr *)&self, (struct sockaddr *)&any };
    for (size_t i = 0; i < 2; i++) {
        G_self = selves[i];
        fetch(FEED_ICS, away, 0, 0, NULL, NULL, &o);
        assert_error_has(&o, "自身");
        support_outcome_free(&o);
        fetch_url(FEED_ICS, direct, 0, 0, NULL, NULL, &o);
        assert_error_has(&o, "自身");
        support_outcome_free(&o);
    }
    G_self = NULL;
    G_allow_hosts = NULL;
    seen = other_seen(log);
    assert_int_equal(count_of(seen, "GET /good.ics"), 1);      /* still only the allowed one */
    free(seen);
    /* and a redirect on the same origin still works */
    fetch(FEED_ICS, "/redirect.ics", 0, 0, NULL, NULL, &o);
    assert_int_equal(o.status, FEED_OK);
    support_outcome_free(&o);
    free(direct);
    free(away);
    free(by_name);
    support_stop(other, 3000);
    free(log);
}

/* After all the failures, the same curlev still fetches good feeds. */
static void test_good_after_bad(void **state)
{
    outcome_t o;
    fetch(FEED_ICS, "/cal/kyodo.ics", 0, 0, NULL, NULL, &o);
    assert_matches_expected("kyodo", &o);
    support_outcome_free(&o);
    fetch(FEED_FREEBUSY, "/cal/hoken.ics", 0, 0, NULL, NULL, &o);
    assert_matches_expected("hoken", &o);
    support_outcome_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_feeds_concurrently),
        cmocka_unit_test(test_local_files),
        cmocka_unit_test(test_malformed_ical),
        cmocka_unit_test(test_non_utf8),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_http_errors),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_redirects),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_unknown_tzid_warns_and_falls_back),
        cmocka_unit_test(test_shift_jis),
        cmocka_unit_test(test_caldav_unknown_tzid_warning_persists),
        cmocka_unit_test(test_caldav_truncated_sync_is_continued),
        cmocka_unit_test(test_caldav_credentials_stay_on_origin),
        cmocka_unit_test(test_redirect_origin_guard),
        cmocka_unit_test(test_xml_with_entities),
        cmocka_unit_test(test_etag_304),
        cmocka_unit_test(test_304_repeats_warnings),
        cmocka_unit_test(test_freebusy_kind),
        cmocka_unit_test(test_loop_not_blocked_by_slow_fetch),
        cmocka_unit_test(test_cancel_never_calls_back),
        cmocka_unit_test(test_good_after_bad),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
