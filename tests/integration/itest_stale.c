/* SPDX-License-Identifier: MIT */
/*
 * itest_stale.c - the stale feed marker (issue 10) through a running
 * tsunagud, with the data made old for real rather than written into the
 * store.
 *
 * The fixture city is imported with one calendar (kodomo) served over
 * HTTP by `python3 -m http.server` and the rest as files; the daemon runs
 * at the fixtures' now (09:00) with POLL_INTERVAL 600, so a calendar is
 * stale once its last success is more than 1,800 s old (3 x the
 * interval, feeds_is_stale).  Then the calendar server hangs (SIGSTOP:
 * the kernel still accepts the connection, nothing answers) and the
 * daemon is restarted two hours later (TSUNAGU_NOW 11:00): the file
 * calendars are fetched again at once, kodomo's fetch waits on the
 * silent server (FETCH_TIMEOUT 60), so it is still in state ok with
 * two-hour-old data.  That is what a stale calendar is.  Checked:
 *   - GET /v1/feeds/{id}: stale, its age and the Japanese warning;
 *   - GET /v1/feeds?state=stale lists kodomo alone, and nothing while
 *     every feed is fresh (before the restart, after SIGCONT); an unknown
 *     state is still a 400 naming the allowed ones;
 *   - the client: `tsunagu feeds` shows 正常（古い可能性） and the
 *     stale text as a 対処 line, `tsunagu feed kodomo` a 古い可能性 line,
 *     `tsunagu feeds --stale` kodomo only;
 *   - GET /v1/busy: stale, stale_calendars and the warning on kodomo's
 *     entry only;
 *   - POST /v1/slots: the attendee's stale and age, and the warning line;
 *   - the server answers again (SIGCONT): the same fetch completes and
 *     the mark goes away.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support_daemon.h"
#include "support_proc.h"
#include "util.h"

#define CITY "tests/data/yamanami"
#define ADMIN "itest-stale-admin-token-0123456789abcdef"
#define LATER "2026-12-01T11:00:00+09:00"

static struct {
    support_daemon_t d;
    pid_t            web;        /* python3 -m http.server, serving the calendars */
    int              web_port;
    char            *web_log;
} g;

#define http_json(m, p, b, want) support_api_json(&g.d, m, p, ADMIN, b, want)

static int group_setup(void **state)
{
    if (support_daemon_init(&g.d, "itest-stale") != 0)
        return -1;
    g.web = -1;
    g.web_port = support_free_port();
    g.web_log = support_path(g.d.dir, "web.log");
    char port[16];
    snprintf(port, sizeof port, "%d", g.web_port);
    const char *argv[] = {"python3", "-m", "http.server", port, "--bind", "127.0.0.1",
                          "--directory", CITY "/calendars", NULL};
    g.web = support_spawn(argv, NULL, NULL, g.web_log);
    if (g.web < 0 || !support_wait_port(g.web_port, 10000, g.web))
        return -1;
    const char *conf = "ADMIN_TOKEN = " ADMIN "\nPOLL_INTERVAL = 600\nFETCH_TIMEOUT = 60\n";
    if (support_write_file(g.d.conf, conf, (size_t)-1))
        return -1;
    const char *env[] = {"TSUNAGU_NOW=" SUPPORT_FIXTURE_NOW, "TSUNAGU_SECRETS=", NULL};
    return support_daemon_start(&g.d, NULL, env, 10000);
}

static int group_teardown(void **state)
{
    if (g.web > 0) {
        kill(g.web, SIGCONT);
        support_stop(g.web, 2000);
    }
    support_daemon_free(&g.d);
    free(g.web_log);
    return 0;
}

/* GET /v1/feeds/{id} */
static json_t *feed(const char *id)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/feeds/%s", id);
    return http_json("GET", path, NULL, 200);
}

/* Wait (10 s) until feed id is in state ok with last_success == at. */
static void wait_fetched(const char *id, const char *at)
{
    for (int i = 0; i < 100; i++) {
        json_t *f = feed(id);
        const char *st = json_string_value(json_object_get(f, "state"));
        const char *ls = json_string_value(json_object_get(f, "last_success"));
        bool done = st && strcmp(st, "ok") == 0 && ls && strcmp(ls, at) == 0;
        json_decref(f);
        if (done)
            return;
        support_sleep_ms(100);
    }
    fail_msg("feed %s was not fetched at %s", id, at);
}

/* The busy answer's entry for id. */
static json_t *busy_entry(json_t *busy, const char *id)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(busy, "agencies"), i, a)
        if (strcmp(json_string_value(json_object_get(a, "agency")), id) == 0)
            return a;
    fail_msg("no busy entry for %s", id);
    return NULL;
}

static json_t *slots_attendee(json_t *resp, const char *id)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(json_object_get(resp, "diagnostics"), "attendees"), i, a)
        if (strcmp(json_string_value(json_object_get(a, "agency")), id) == 0)
            return a;
    fail_msg("no attendee %s", id);
    return NULL;
}

/* The ids GET /v1/feeds?state=stale lists (every page), comma-joined;
 * each row must say "stale": true. */
static char *stale_ids(void)
{
    strbuf_t ids;
    strbuf_init(&ids);
    long long offset = 0;
    for (;;) {
        char path[96];
        snprintf(path, sizeof path, "/v1/feeds?state=stale&limit=5&offset=%lld", offset);
        json_t *page = http_json("GET", path, NULL, 200);
        size_t i;
        json_t *f;
        json_array_foreach(json_object_get(page, "feeds"), i, f) {
            assert_true(json_is_true(json_object_get(f, "stale")));
            assert_string_equal(json_string_value(json_object_get(f, "state")), "ok");
            strbuf_printf(&ids, "%s%s", ids.len ? "," : "", json_string_value(json_object_get(f, "id")));
        }
        json_t *next = json_object_get(page, "next_offset");
        bool more = json_is_integer(next);
        offset = more ? json_integer_value(next) : 0;
        json_decref(page);
        if (!more)
            break;
    }
    return ids.s ? strbuf_detach(&ids) : xstrdup("");
}

/* Wait (10 s) until the stale list is want: after the restart the file
 * calendars are stale too until their fetch at the new now lands. */
static void assert_stale_ids(const char *want)
{
    char *ids = NULL;
    for (int i = 0; i < 100; i++) {
        free(ids);
        ids = stale_ids();
        if (strcmp(ids, want) == 0)
            break;
        support_sleep_ms(100);
    }
    if (strcmp(ids, want) != 0)
        fail_msg("GET /v1/feeds?state=stale lists \"%s\", wanted \"%s\"", ids, want);
    free(ids);
}

#define BUSY_PATH "/v1/busy?agencies=kodomo,kyodo&from=2026-12-01T00:00:00&to=2026-12-08T00:00:00"
#define SLOTS_BODY "{\"required\": [\"kyodo\", \"kodomo\"], \"duration_minutes\": 60," \
                   " \"from\": \"2026-12-02T00:00:00\", \"to\": \"2026-12-16T00:00:00\"}"

static void test_stale_after_restart(void **state)
{
    /* kodomo over HTTP, the others as files */
    json_t *doc = support_city_doc(CITY, NULL, NULL);
    assert_non_null(doc);
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(doc, "agencies"), i, a)
        if (strcmp(json_string_value(json_object_get(a, "id")), "kodomo") == 0) {
            char *url = xasprintf("http://127.0.0.1:%d/kodomo.ics", g.web_port);
            json_object_set_new(json_array_get(json_object_get(a, "calendars"), 0), "url",
                                json_string(url));
            free(url);
        }
    json_decref(support_api_post_doc(&g.d, "/v1/import", ADMIN, doc, 200));
    json_decref(doc);
    wait_fetched("kodomo", SUPPORT_FIXTURE_NOW);
    wait_fetched("kyodo", SUPPORT_FIXTURE_NOW);
    json_t *f = feed("kodomo");
    assert_true(json_is_false(json_object_get(f, "stale")));          /* just fetched */
    assert_null(json_object_get(f, "stale_text"));
    json_decref(f);
    assert_stale_ids("");
    support_api_error(&g.d, "GET", "/v1/feeds?state=old", ADMIN, NULL, 400, "bad-query",
                      "ok / failing / pending / stale");

    /* the calendar server hangs; the daemon comes back two hours later */
    assert_int_equal(kill(g.web, SIGSTOP), 0);
    assert_true(WIFEXITED(support_daemon_stop(&g.d, 5000)));
    const char *env[] = {"TSUNAGU_NOW=" LATER, "TSUNAGU_SECRETS=", NULL};
    assert_int_equal(support_daemon_start(&g.d, NULL, env, 10000), 0);
    wait_fetched("kyodo", LATER);                                  /* the files: fresh again */

    f = feed("kodomo");
    assert_string_equal(json_string_value(json_object_get(f, "state")), "ok");
    assert_true(json_is_true(json_object_get(f, "stale")));
    assert_int_equal(json_integer_value(json_object_get(f, "stale_age_seconds")), 7200);
    const char *text = json_string_value(json_object_get(f, "stale_text"));
    assert_non_null(text);
    assert_non_null(strstr(text, "予定が古い可能性があります（最終取得：12月1日(火) 09:00、2時間前）"));
    json_decref(f);
    f = feed("kyodo");
    assert_true(json_is_false(json_object_get(f, "stale")));
    json_decref(f);
    assert_stale_ids("kodomo");
    json_t *ok = http_json("GET", "/v1/feeds?state=ok", NULL, 200);     /* still ok, too */
    assert_true(json_array_size(json_object_get(ok, "feeds")) > 1);
    json_decref(ok);

    /* the client: the table's state column and a 対処 line; `feed ID` too */
    support_run_t r = support_daemon_cli(&g.d, NULL, ADMIN, NULL, (const char *const[]){"feeds", NULL});
    if (r.code != 0 || !strstr(r.out, "正常（古い可能性）")
        || !strstr(r.out, "対処 kodomo: 予定が古い可能性があります（最終取得：12月1日(火) 09:00、2時間前）")
        || strstr(r.out, "対処 kyodo"))
        fail_msg("tsunagu feeds (exit %d):\n%s", r.code, r.out);
    free(r.out);
    r = support_daemon_cli(&g.d, NULL, ADMIN, NULL,
                           (const char *const[]){"feeds", "--stale", NULL});
    if (r.code != 0 || !strstr(r.out, "kodomo") || !strstr(r.out, "正常（古い可能性）")
        || strstr(r.out, "kyodo"))
        fail_msg("tsunagu feeds --stale (exit %d):\n%s", r.code, r.out);
    free(r.out);
    r = support_daemon_cli(&g.d, NULL, ADMIN, NULL,
                           (const char *const[]){"feeds", "--stale", "--failing", NULL});
    assert_int_equal(r.code, 2);
    free(r.out);
    r = support_daemon_cli(&g.d, NULL, ADMIN, NULL, (const char *const[]){"feed", "kodomo", NULL});
    if (r.code != 0 || !strstr(r.out, "古い可能性 stale") || !strstr(r.out, "2時間前"))
        fail_msg("tsunagu feed kodomo (exit %d):\n%s", r.code, r.out);
    free(r.out);
    r = support_daemon_cli(&g.d, NULL, ADMIN, NULL, (const char *const[]){"feed", "kyodo", NULL});
    if (r.code != 0 || strstr(r.out, "古い可能性"))
        fail_msg("tsunagu feed kyodo (exit %d):\n%s", r.code, r.out);
    free(r.out);

    json_t *busy = http_json("GET", BUSY_PATH, NULL, 200);
    json_t *k = busy_entry(busy, "kodomo");
    assert_true(json_is_true(json_object_get(k, "stale")));
    assert_string_equal(json_string_value(json_array_get(json_object_get(k, "stale_calendars"), 0)), "kodomo");
    assert_int_equal(json_integer_value(json_object_get(k, "stale_age_seconds")), 7200);
    assert_non_null(strstr(json_string_value(json_object_get(k, "stale_text")), "予定が古い可能性があります"));
    assert_true(json_array_size(json_object_get(k, "busy")) > 0);     /* the old data is still shown */
    assert_true(json_is_false(json_object_get(busy_entry(busy, "kyodo"), "stale")));
    json_decref(busy);

    json_t *slots = http_json("POST", "/v1/slots", SLOTS_BODY, 200);
    json_t *att = slots_attendee(slots, "kodomo");
    assert_string_equal(json_string_value(json_object_get(att, "status")), "ok");
    assert_true(json_is_true(json_object_get(att, "stale")));
    assert_int_equal(json_integer_value(json_object_get(att, "stale_age_seconds")), 7200);
    assert_true(json_is_false(json_object_get(slots_attendee(slots, "kyodo"), "stale")));
    json_t *w = json_object_get(json_object_get(slots, "diagnostics"), "warnings");
    bool warned = false;
    json_array_foreach(w, i, a)
        warned |= strstr(json_string_value(a), "kodomo: 予定が古い可能性があります") != NULL;
    assert_true(warned);
    json_decref(slots);

    /* the server answers again: the waiting fetch completes, the mark goes */
    assert_int_equal(kill(g.web, SIGCONT), 0);
    wait_fetched("kodomo", LATER);
    f = feed("kodomo");
    assert_true(json_is_false(json_object_get(f, "stale")));
    json_decref(f);
    assert_stale_ids("");
    r = support_daemon_cli(&g.d, NULL, ADMIN, NULL,
                           (const char *const[]){"feeds", "--stale", NULL});
    if (r.code != 0 || strstr(r.out, "kodomo"))
        fail_msg("tsunagu feeds --stale, all fresh (exit %d):\n%s", r.code, r.out);
    free(r.out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stale_after_restart),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
