/* SPDX-License-Identifier: MIT */
/*
 * itest_agency_view.c - what an agency account may see of tsunagu (issue
 * 10, 機関 / 自分の機関), through a running tsunagud with the fixture city
 * imported and mail going to a maildir.
 *
 *   - An agency token learns nothing about other agencies: the agency list
 *     holds its own entry only; another agency's page, busy time,
 *     freebusy.ics, feeds, refresh and subscription key answer 403; the
 *     staff-only lists (ホーム, 事例, vocabulary, accounts) answer 403.
 *   - A feed made to fail (its file removed) carries "advice", the plain
 *     Japanese explanation from feed_explain.c, in /v1/feeds, /v1/feeds/{id}
 *     and /v1/agencies/{id}, and `tsunagu feeds --failing` / `tsunagu feed`
 *     print it.
 *   - The calendar subscription key: issued by the agency itself (or
 *     staff), shown once, stored hashed; the public URL serves that
 *     agency's meetings.ics without any other credential; the key opens
 *     nothing else (as a bearer token or a Basic password it is 401);
 *     re-issuing stops the old key, revoking stops the new one; the log
 *     never holds it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support_daemon.h"
#include "support_proc.h"
#include "util.h"

#define CITY "tests/data/yamanami"
#define ADMIN "itest-agency-view-admin-token-0123456789abcdef"

static struct {
    support_daemon_t d;
    char *maildir, *kodomo_copy;
    char *kodomo, *coord;            /* agency:kodomo and coordinator tokens */
} g;

#define http_json(m, p, tok, b, want) support_api_json(&g.d, m, p, tok, b, want)
#define expect_error(m, p, tok, b, st, code) support_api_error(&g.d, m, p, tok, b, st, code, NULL)

static int group_setup(void **state)
{
    if (support_daemon_init(&g.d, "itest-agency-view") != 0)
        return -1;
    g.maildir = support_path(g.d.dir, "maildir");
    g.kodomo_copy = support_path(g.d.dir, "kodomo.ics");
    char *conf = xasprintf("ADMIN_TOKEN = " ADMIN "\nPOLL_INTERVAL = 600\n"
                           "MAIL_TRANSPORT = maildir\nMAIL_PATH = %s\n"
                           "SMTP_FROM = kyodo@yamanami.example\n"
                           "LINK_SECRET = itest-agency-view-link-secret-0123456789\n"
                           "PUBLIC_URL = https://tsunagu.example.jp/\n", g.maildir);
    int rc = support_write_file(g.d.conf, conf, (size_t)-1);
    free(conf);
    if (rc)
        return -1;
    const char *env[] = { "TSUNAGU_NOW=" SUPPORT_FIXTURE_NOW, "TSUNAGU_SECRETS=", NULL };
    unsetenv("TSUNAGU_MAIL_TRANSPORT");
    unsetenv("TSUNAGU_SMTP_URL");
    return support_daemon_start(&g.d, NULL, env, 10000);
}

static int group_teardown(void **state)
{
    support_daemon_free(&g.d);
    free(g.maildir);
    free(g.kodomo_copy);
    free(g.kodomo);
    free(g.coord);
    return 0;
}

static void test_setup_city(void **state)
{
    support_api_import_city(&g.d, ADMIN, CITY, "kodomo", g.kodomo_copy);
    g.kodomo = support_api_token(&g.d, ADMIN, "agency:kodomo", "itest", NULL);
    g.coord = support_api_token(&g.d, ADMIN, "coordinator", "itest", NULL);
}

static void test_nothing_about_other_agencies(void **state)
{
    const char *ag = g.kodomo;
    json_t *j = http_json("GET", "/v1/agencies", ag, NULL, 200);
    json_t *list = json_object_get(j, "agencies");
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "id")), "kodomo");
    json_decref(j);
    j = http_json("GET", "/v1/agencies", g.coord, NULL, 200);
    assert_true(json_array_size(json_object_get(j, "agencies")) > 5);
    json_decref(j);
    static const char *const refused[][2] = {
        {"GET", "/v1/agencies/houkatsu-hokubu"},
        {"GET", "/v1/agencies/houkatsu-hokubu/busy"},
        {"GET", "/v1/agencies/houkatsu-hokubu/freebusy.ics"},
        {"GET", "/v1/agencies/houkatsu-hokubu/ics-key"},
        {"POST", "/v1/agencies/houkatsu-hokubu/ics-key"},
        {"DELETE", "/v1/agencies/houkatsu-hokubu/ics-key"},
        {"GET", "/v1/feeds/houkatsu-hokubu"},
        {"POST", "/v1/feeds/houkatsu-hokubu/refresh"},
        {"GET", "/v1/overview/home"},
        {"GET", "/v1/overview/cases"},
        {"GET", "/v1/overview/vocabulary"},
        {"GET", "/v1/users"},
        {"GET", "/v1/cases"},
        {"GET", "/v1/tokens"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        expect_error(refused[i][0], refused[i][1], ag,
                     strcmp(refused[i][0], "POST") == 0 ? "{}" : NULL, 403, "forbidden");
    /* another agency's page does not even say what it is called */
    support_resp_t r = support_daemon_http(&g.d, "GET", "/v1/agencies/houkatsu-hokubu", ag, NULL);
    assert_null(strstr(r.body.s, "地域包括支援センター"));
    strbuf_free(&r.body);
    /* its own: the page, feeds and busy time */
    j = http_json("GET", "/v1/agencies/kodomo", ag, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "feeds")), 1);
    assert_non_null(json_object_get(json_array_get(json_object_get(j, "feeds"), 0), "advice"));
    json_decref(j);
    json_decref(http_json("GET", "/v1/agencies/kodomo/busy", ag, NULL, 200));
    j = http_json("GET", "/v1/feeds", ag, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "feeds")), 1);
    json_decref(j);
}

static json_t *wait_failing(const char *path, int timeout_ms)
{
    for (int waited = 0;; waited += 100) {
        json_t *j = http_json("GET", path, ADMIN, NULL, 200);
        if (strcmp(json_string_value(json_object_get(j, "state")), "failing") == 0)
            return j;
        if (waited >= timeout_ms)
            fail_msg("%s never failed: %s", path, json_dumps(j, 0));
        json_decref(j);
        support_sleep_ms(100);
    }
}

static void test_failing_feed_is_explained(void **state)
{
    assert_int_equal(unlink(g.kodomo_copy), 0);
    json_decref(http_json("POST", "/v1/feeds/kodomo/refresh?force=1", ADMIN, NULL, 202));
    json_t *f = wait_failing("/v1/feeds/kodomo", 10000);
    json_t *advice = json_object_get(f, "advice");
    assert_string_equal(json_string_value(json_object_get(advice, "code")), "file");
    assert_non_null(strstr(json_string_value(json_object_get(advice, "text")), "ファイルを読み込めません"));
    json_decref(f);
    /* the same advice where the agency reads it, and for staff lists */
    json_t *a = http_json("GET", "/v1/agencies/kodomo", g.kodomo, NULL, 200);
    json_t *feed = json_array_get(json_object_get(a, "feeds"), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(feed, "advice"), "code")), "file");
    json_decref(a);
    json_t *l = http_json("GET", "/v1/feeds?state=failing", g.coord, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(l, "feeds")), 1);
    assert_string_equal(json_string_value(json_object_get(
        json_object_get(json_array_get(json_object_get(l, "feeds"), 0), "advice"), "code")), "file");
    json_decref(l);
    /* the CLI prints the same advice under its table */
    const char *args[] = { "feeds", "--failing", NULL };
    support_run_t run = support_daemon_cli(&g.d, NULL, g.coord, NULL, args);
    assert_int_equal(run.code, 0);
    if (!strstr(run.out, "対処 kodomo: ファイルを読み込めません"))
        fail_msg("tsunagu feeds --failing: %s", run.out);
    free(run.out);
    const char *one[] = { "feed", "kodomo", NULL };
    run = support_daemon_cli(&g.d, NULL, g.kodomo, NULL, one);
    assert_int_equal(run.code, 0);
    if (!strstr(run.out, "ファイルを読み込めません。ファイルの場所と読み取り権限を確認してください"))
        fail_msg("tsunagu feed kodomo: %s", run.out);
    free(run.out);
    /* a healthy feed has none */
    json_t *ok = http_json("GET", "/v1/feeds/kyodo", ADMIN, NULL, 200);
    assert_true(json_is_null(json_object_get(ok, "advice")));
    json_decref(ok);
}

static char *issue_key(const char *auth, char **path)
{
    json_t *j = http_json("POST", "/v1/agencies/kodomo/ics-key", auth, "{}", 201);
    const char *key = json_string_value(json_object_get(j, "key"));
    const char *p = json_string_value(json_object_get(j, "path"));
    const char *url = json_string_value(json_object_get(j, "url"));
    assert_non_null(key);
    assert_int_equal(strlen(key), 68);
    assert_int_equal(strncmp(key, "ics_", 4), 0);
    char *want = xasprintf("/v1/ics/%s/meetings.ics", key);
    assert_string_equal(p, want);
    char *want_url = xasprintf("https://tsunagu.example.jp%s", want);
    assert_string_equal(url, want_url);
    free(want_url);
    *path = want;
    char *out = xstrdup(key);
    json_decref(j);
    return out;
}

static long ics_status(const char *path, const char *auth)
{
    support_resp_t r = support_daemon_http(&g.d, "GET", path, auth, NULL);
    if (r.status == 200) {
        assert_non_null(strstr(r.body.s, "BEGIN:VCALENDAR"));
        assert_non_null(strstr(r.ctype, "text/calendar"));
    }
    strbuf_free(&r.body);
    return r.status;
}

static void test_subscription_key(void **state)
{
    json_t *j = http_json("GET", "/v1/agencies/kodomo/ics-key", g.kodomo, NULL, 200);
    assert_false(json_is_true(json_object_get(j, "issued")));
    json_decref(j);
    expect_error("GET", "/v1/agencies/nosuch/ics-key", g.kodomo, NULL, 404, "not-found");

    char *path1, *key1 = issue_key(g.kodomo, &path1);
    assert_int_equal(ics_status(path1, NULL), 200);             /* no other credential */
    j = http_json("GET", "/v1/agencies/kodomo/ics-key", g.kodomo, NULL, 200);
    assert_true(json_is_true(json_object_get(j, "issued")));
    assert_true(json_is_string(json_object_get(j, "created")));
    assert_null(json_object_get(j, "key"));                     /* shown once */
    json_decref(j);
    /* read-only and for that one feed: not a bearer token, not a password */
    expect_error("GET", "/v1/agencies/kodomo", key1, NULL, 401, "unauthorized");
    char *basic = xasprintf("Basic:%s", key1);
    assert_int_equal(support_daemon_status(&g.d, "GET", "/v1/agencies/kodomo/meetings.ics", basic, NULL),
                     401);
    free(basic);
    /* stored hashed */
    char *db = read_file(g.d.db, NULL);
    if (db)
        assert_null(strstr(db, key1));
    free(db);
    /* the admin sees it among the tokens, by role */
    j = http_json("GET", "/v1/tokens", ADMIN, NULL, 200);
    size_t i, n = 0;
    json_t *t;
    json_array_foreach(json_object_get(j, "tokens"), i, t)
        n += strcmp(json_string_value(json_object_get(t, "role")), "ics:kodomo") == 0;
    assert_int_equal(n, 1);
    json_decref(j);

    /* staff may re-issue: the old key stops working */
    char *path2, *key2 = issue_key(g.coord, &path2);
    assert_int_equal(ics_status(path1, NULL), 404);
    assert_int_equal(ics_status(path2, NULL), 200);
    /* a made-up key, and a bearer token in its place, are not keys */
    assert_int_equal(ics_status("/v1/ics/ics_0000/meetings.ics", NULL), 404);
    char *tok_path = xasprintf("/v1/ics/%s/meetings.ics", g.kodomo);
    assert_int_equal(ics_status(tok_path, NULL), 404);
    free(tok_path);

    /* revoke */
    support_resp_t r = support_daemon_http(&g.d, "DELETE", "/v1/agencies/kodomo/ics-key", g.kodomo, NULL);
    assert_int_equal(r.status, 204);
    strbuf_free(&r.body);
    assert_int_equal(ics_status(path2, NULL), 404);
    j = http_json("GET", "/v1/agencies/kodomo/ics-key", g.kodomo, NULL, 200);
    assert_false(json_is_true(json_object_get(j, "issued")));
    json_decref(j);

    /* the log never holds a key */
    char *log = support_read_log(g.d.log);
    assert_non_null(log);
    assert_non_null(strstr(log, "GET /v1/ics/… 200"));         /* logged, redacted */
    assert_null(strstr(log, key1));
    assert_null(strstr(log, key2));
    free(log);
    free(key1);
    free(key2);
    free(path1);
    free(path2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_setup_city),
        cmocka_unit_test(test_nothing_about_other_agencies),
        cmocka_unit_test(test_failing_feed_is_explained),
        cmocka_unit_test(test_subscription_key),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
