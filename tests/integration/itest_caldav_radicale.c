/* SPDX-License-Identifier: MIT */
/*
 * itest_caldav_radicale.c - the caldav feed kind against a real Radicale
 * (Debian's radicale, htpasswd auth, filesystem storage in a temp dir,
 * loopback port), started by the test.
 *
 * Setup uploads fixture calendars one resource per UID into calendar
 * collections made with MKCALENDAR.  The tests then ingest them over
 * CalDAV and compare with expected/busy: straight from a collection URL,
 * and by discovery from the server root (current-user-principal ->
 * calendar-home-set -> collections).  One event is then changed and one
 * deleted on the server; a refresh with the saved state must take the
 * sync-collection path (state "last_mode":"sync") and see both.  A bad
 * sync-token falls back to a full query; a wrong password is a clear
 * error.  The whole list runs twice: parsing inline, then on a parse
 * pool of two workers (as in the daemon), with the same expectations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>
#include <jansson.h>

#include "feed.h"
#include "support_busy.h"
#include "support_dav.h"
#include "support_feed.h"
#include "support_proc.h"

#define CITY "tests/data/yamanami"
#define USERPWD "alice:yamanami-pw"

static const char *const uploaded[] = { "csw", "hogo", "kyodo" };
#define NUPLOADED (sizeof uploaded / sizeof uploaded[0])

typedef support_outcome_t outcome_t;
static support_feed_env_t E;      /* radicale, the loop, the window */

/* ---- harness ------------------------------------------------------------ */

static int64_t iso(const char *s)
{
    int64_t t = 0;
    assert_true(tu_parse_iso8601(s, NULL, &t));
    return t;
}

static void fetch(feed_kind_t kind, const char *url, const char *userpwd, const char *state,
                  outcome_t *o)
{
    feed_request_t req = { .kind = kind, .url = url, .userpwd = userpwd, .timeout_ms = 30000,
                           .state_json = state };
    support_feed_fetch(&E, req, o);
}

static char *collection_url(const char *name)
{
    return xasprintf("%s/alice/%s/", E.base_url, name);
}

static void load_expected(const char *name, ivset_t *out)
{
    char *path = xasprintf(CITY "/expected/busy/%s.json", name);
    assert_true(support_load_busy_json(path, out));
    free(path);
}

static void assert_busy_equal(const char *what, const ivset_t *got, const ivset_t *want)
{
    char *diff = support_busy_diff(got, want);
    if (diff)
        fail_msg("%s: %s", what, diff);
}

static const char *last_mode(const char *state)
{
    static char mode[16];
    json_error_t err;
    json_t *st = json_loads(state, 0, &err);
    const char *m = json_string_value(json_object_get(st, "last_mode"));
    snprintf(mode, sizeof mode, "%s", m ? m : "?");
    json_decref(st);
    return mode;
}

/* ---- server -------------------------------------------------------------- */

static int write_config(void)
{
    char *users = support_path(E.dir, "users");
    char *cfg = support_path(E.dir, "config");
    char *store = support_path(E.dir, "collections");
    char *text = xasprintf("[server]\nhosts = 127.0.0.1:%d\n"
                           "[auth]\ntype = htpasswd\nhtpasswd_filename = %s\n"
                           "htpasswd_encryption = plain\ndelay = 0\n"
                           "[storage]\nfilesystem_folder = %s\n"
                           "[rights]\ntype = owner_only\n"
                           "[web]\ntype = none\n"
                           "[logging]\nlevel = info\n", E.port, users, store);
    int rc = support_write_file(users, USERPWD "\n", (size_t)-1) |
             support_write_file(cfg, text, (size_t)-1);
    free(text);
    free(users);
    free(cfg);
    free(store);
    return rc;
}

static int upload_calendars(void)
{
    for (size_t i = 0; i < NUPLOADED; i++) {
        char *url = collection_url(uploaded[i]);
        long st = support_http("MKCALENDAR", url, USERPWD, NULL, NULL, NULL);
        char *path = xasprintf(CITY "/calendars/%s.ics", uploaded[i]);
        int n = st == 201 ? support_dav_upload_split(url, USERPWD, path) : -1;
        free(path);
        free(url);
        if (n <= 0) {
            fprintf(stderr, "upload of %s failed (MKCALENDAR %ld)\n", uploaded[i], st);
            return -1;
        }
    }
    return 0;
}

static int setup(void **state)
{
    if (support_feed_env_open(&E, "itest-radicale", "radicale.log") != 0 || write_config() != 0)
        return -1;
    char *cfg = support_path(E.dir, "config");
    const char *argv[] = { "/usr/bin/python3", "-m", "radicale", "--config", cfg, NULL };
    bool ok = support_feed_env_serve(&E, argv, NULL, E.dir, 20000) && upload_calendars() == 0;
    free(cfg);
    if (!ok) {
        support_print_log("radicale setup failed:", E.log);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    support_feed_env_close(&E, 5000);
    return 0;
}

/* The same again with a parse pool of two workers: calendar-query and
 * multiget answers are then parsed off the loop (feed_job_offload), and
 * every result must be the same as inline. */
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

/* Each collection URL ingests to exactly its expected busy set. */
static void test_collection_urls_match_expected(void **state)
{
    for (size_t i = 0; i < NUPLOADED; i++) {
        char *url = collection_url(uploaded[i]);
        outcome_t o;
        fetch(FEED_CALDAV, url, USERPWD, NULL, &o);
        if (o.status != FEED_OK)
            fail_msg("%s: %s", uploaded[i], o.error);
        ivset_t want;
        ivset_init(&want);
        load_expected(uploaded[i], &want);
        assert_busy_equal(uploaded[i], &o.busy, &want);
        assert_string_equal(last_mode(o.state), "full");
        ivset_free(&want);
        support_outcome_free(&o);
        free(url);
    }
}

/* From the server root: principal -> home set -> all three collections. */
static void test_discovery_from_root(void **state)
{
    char *url = xasprintf("%s/", E.base_url);
    outcome_t o;
    fetch(FEED_CALDAV, url, USERPWD, NULL, &o);
    if (o.status != FEED_OK)
        fail_msg("discovery: %s", o.error);
    ivset_t want, one, tmp;
    ivset_init(&want);
    for (size_t i = 0; i < NUPLOADED; i++) {
        ivset_init(&one);
        ivset_init(&tmp);
        load_expected(uploaded[i], &one);
        ivset_union(&tmp, &want, &one);
        ivset_free(&want);
        want = tmp;
        ivset_free(&one);
    }
    assert_busy_equal("union of collections", &o.busy, &want);
    json_error_t err;
    json_t *st = json_loads(o.state, 0, &err);
    assert_int_equal(json_array_size(json_object_get(st, "collections")), NUPLOADED);
    json_decref(st);
    ivset_free(&want);
    support_outcome_free(&o);
    free(url);
}

/* csw-7 is 2026-11-30 10:30-11:30 JST (floating, DURATION) and csw-8 is
 * 14:00-15:00 the same day; both stand alone in expected/busy/csw. */
static const char *moved_csw7 =
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tsunagu itest//EN\r\n"
    "BEGIN:VEVENT\r\nUID:csw-7@tsunagu.test\r\nDTSTAMP:20261125T000000Z\r\n"
    "DTSTART;TZID=Asia/Tokyo:20270120T160000\r\nDTEND;TZID=Asia/Tokyo:20270120T170000\r\n"
    "SUMMARY:同行支援（変更）\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

static void test_incremental_sync_picks_up_changes(void **state)
{
    char *url = collection_url("csw");
    outcome_t first, same, after;
    fetch(FEED_CALDAV, url, USERPWD, NULL, &first);
    assert_int_equal(first.status, FEED_OK);

    /* nothing changed: the sync path still yields the complete set */
    fetch(FEED_CALDAV, url, USERPWD, first.state, &same);
    assert_int_equal(same.status, FEED_OK);
    assert_string_equal(last_mode(same.state), "sync");
    assert_busy_equal("unchanged sync", &same.busy, &first.busy);

    /* move csw-7, delete csw-8 on the server */
    char *r7 = xasprintf("%s%s", url, "csw-7_tsunagu.test.ics");
    char *r8 = xasprintf("%s%s", url, "csw-8_tsunagu.test.ics");
    long st = support_http("PUT", r7, USERPWD, "text/calendar; charset=utf-8", moved_csw7, NULL);
    assert_true(st == 201 || st == 204);
    st = support_http("DELETE", r8, USERPWD, NULL, NULL, NULL);
    assert_true(st == 200 || st == 204);

    fetch(FEED_CALDAV, url, USERPWD, same.state, &after);
    if (after.status != FEED_OK)
        fail_msg("sync refresh: %s", after.error);
    assert_string_equal(last_mode(after.state), "sync");

    ivset_t gone, added, tmp, want;
    ivset_init(&gone);
    ivset_init(&added);
    ivset_init(&tmp);
    ivset_init(&want);
    ivset_push(&gone, iso("2026-11-30T10:30:00+09:00"), iso("2026-11-30T11:30:00+09:00"));
    ivset_push(&gone, iso("2026-11-30T14:00:00+09:00"), iso("2026-11-30T15:00:00+09:00"));
    ivset_push(&added, iso("2027-01-20T16:00:00+09:00"), iso("2027-01-20T17:00:00+09:00"));
    assert_true(ivset_overlaps(&first.busy, gone.v[0].start, gone.v[0].end));
    assert_false(ivset_overlaps(&after.busy, gone.v[0].start, gone.v[0].end));
    assert_false(ivset_overlaps(&after.busy, gone.v[1].start, gone.v[1].end));
    ivset_subtract(&tmp, &first.busy, &gone);
    ivset_union(&want, &tmp, &added);
    assert_busy_equal("after change", &after.busy, &want);

    ivset_free(&gone);
    ivset_free(&added);
    ivset_free(&tmp);
    ivset_free(&want);
    support_outcome_free(&first);
    support_outcome_free(&same);
    support_outcome_free(&after);
    free(r7);
    free(r8);
    free(url);
}

/* A sync-token the server does not know: fall back to a full query. */
static void test_bad_sync_token_falls_back_to_full(void **state)
{
    char *url = collection_url("hogo");
    outcome_t first, again;
    fetch(FEED_CALDAV, url, USERPWD, NULL, &first);
    assert_int_equal(first.status, FEED_OK);
    json_error_t err;
    json_t *st = json_loads(first.state, 0, &err);
    json_t *coll = json_array_get(json_object_get(st, "collections"), 0);
    assert_non_null(json_object_get(coll, "sync_token"));
    json_object_set_new(coll, "sync_token",
                        json_string("http://radicale.org/ns/sync/0000000000000000"));
    json_object_set_new(coll, "resources", json_object());     /* stale state */
    char *forged = json_dumps(st, JSON_COMPACT);
    json_decref(st);
    fetch(FEED_CALDAV, url, USERPWD, forged, &again);
    if (again.status != FEED_OK)
        fail_msg("fallback: %s", again.error);
    assert_string_equal(last_mode(again.state), "full");
    assert_busy_equal("after fallback", &again.busy, &first.busy);
    free(forged);
    support_outcome_free(&first);
    support_outcome_free(&again);
    free(url);
}

/* A window moved by days: no discovery, but a fresh calendar-query (the
 * saved per-resource sets were expanded for the old window). */
static void test_moved_window_requeries(void **state)
{
    char *url = collection_url("kyodo");
    outcome_t first, moved, fresh;
    fetch(FEED_CALDAV, url, USERPWD, NULL, &first);
    assert_int_equal(first.status, FEED_OK);
    int64_t to = E.to;
    E.to += 3 * 86400;       /* now covers the 2027-03-01 09:00 JST instances */
    fetch(FEED_CALDAV, url, USERPWD, first.state, &moved);
    fetch(FEED_CALDAV, url, USERPWD, NULL, &fresh);
    E.to = to;
    if (moved.status != FEED_OK)
        fail_msg("moved window: %s", moved.error);
    assert_string_equal(last_mode(moved.state), "full");
    assert_busy_equal("moved window vs fresh", &moved.busy, &fresh.busy);
    assert_true(moved.busy.n > first.busy.n);
    support_outcome_free(&first);
    support_outcome_free(&moved);
    support_outcome_free(&fresh);
    free(url);
}

/* A saved collection that was deleted: rediscovery from the URL. */
static void test_vanished_collection_rediscovers(void **state)
{
    char *root = xasprintf("%s/", E.base_url);
    char *tmp = collection_url("temporary");
    assert_int_equal(support_http("MKCALENDAR", tmp, USERPWD, NULL, NULL, NULL), 201);
    outcome_t first, after;
    fetch(FEED_CALDAV, root, USERPWD, NULL, &first);
    assert_int_equal(first.status, FEED_OK);
    assert_non_null(strstr(first.state, "/alice/temporary/"));
    long st = support_http("DELETE", tmp, USERPWD, NULL, NULL, NULL);
    assert_true(st == 200 || st == 204);
    fetch(FEED_CALDAV, root, USERPWD, first.state, &after);
    if (after.status != FEED_OK)
        fail_msg("after delete: %s", after.error);
    assert_null(strstr(after.state, "/alice/temporary/"));
    assert_string_equal(last_mode(after.state), "full");
    assert_busy_equal("after rediscovery", &after.busy, &first.busy);
    support_outcome_free(&first);
    support_outcome_free(&after);
    free(tmp);
    free(root);
}

static void test_wrong_password_is_clear_error(void **state)
{
    char *url = collection_url("csw");
    outcome_t o;
    fetch(FEED_CALDAV, url, "alice:wrong", NULL, &o);
    assert_int_equal(o.status, FEED_ERROR);
    assert_int_equal(o.http_status, 401);
    assert_non_null(strstr(o.error, "HTTP 401"));
    assert_non_null(strstr(o.error, "認証"));
    assert_int_equal(o.busy.n, 0);
    support_outcome_free(&o);
    fetch(FEED_CALDAV, url, NULL, NULL, &o);
    assert_int_equal(o.status, FEED_ERROR);
    assert_non_null(strstr(o.error, "HTTP 401"));
    support_outcome_free(&o);
    free(url);
}

static void test_missing_collection_is_clear_error(void **state)
{
    char *url = collection_url("no-such-calendar");
    outcome_t o;
    fetch(FEED_CALDAV, url, USERPWD, NULL, &o);
    assert_int_equal(o.status, FEED_ERROR);
    assert_non_null(strstr(o.error, "PROPFIND"));
    assert_non_null(strstr(o.error, "404"));
    support_outcome_free(&o);
    free(url);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collection_urls_match_expected),
        cmocka_unit_test(test_discovery_from_root),
        cmocka_unit_test(test_incremental_sync_picks_up_changes),
        cmocka_unit_test(test_bad_sync_token_falls_back_to_full),
        cmocka_unit_test(test_moved_window_requeries),
        cmocka_unit_test(test_vanished_collection_rediscovers),
        cmocka_unit_test(test_wrong_password_is_clear_error),
        cmocka_unit_test(test_missing_collection_is_clear_error),
    };
    int failed = cmocka_run_group_tests_name("inline", tests, setup, teardown);
    return failed + cmocka_run_group_tests_name("parse pool", tests, setup_pool, teardown_pool);
}
