/* SPDX-License-Identifier: MIT */
/*
 * itest_accounts.c - personal accounts and browser sessions through a
 * running tsunagud (temp database, free port, fixture city imported,
 * LOGIN_DELAY_MS = 300, SESSION_IDLE = 5, SESSION_MAX = 9).
 *
 * Requests here are made like a browser's: a cookie jar of one cookie
 * (tsunagu_session) and an optional X-CSRF-Token header, so the tests
 * see exactly what the UI sees.  In order:
 *   - admin creates accounts (POST /v1/users, `tsunagu user add/list`);
 *     bad names and roles are field errors; others may not;
 *   - a wrong password and an unknown account get the same answer, both
 *     slowed by LOGIN_DELAY_MS, and repeated failures slow further;
 *   - the cookie is HttpOnly + SameSite=Strict; before the first password
 *     change only /v1/session works; the change needs the CSRF token and
 *     the current password, and the old password stops working;
 *   - every state-changing request without the CSRF token is refused;
 *   - decisions and reviews name the person (api_actor);
 *   - an agency account sees no case; logout, disable and reset end
 *     sessions on the server; idle and absolute expiry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "support_daemon.h"
#include "support_proc.h"
#include "util.h"

#define CITY "tests/data/yamanami"
#define ADMIN "itest-accounts-admin-token-0123456789abcdef"
#define DELAY_MS 300
#define IDLE_S 5
#define MAX_S 9

static struct {
    support_daemon_t d;
    char *coord_pw, *secr_pw, *agency_pw;
} g;

/* ---- a browser-like client ------------------------------------------------- */
typedef struct browser {
    char cookie[160];          /* "tsunagu_session=..." or "" */
    char csrf[80];
} browser_t;

typedef struct reply {
    long     status;
    json_t  *json;
    char     set_cookie[256];
    double   ms;
} reply_t;

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
    strbuf_add(arg, p, sz * n);
    return sz * n;
}

static size_t on_head(char *p, size_t sz, size_t n, void *arg)
{
    reply_t *r = arg;
    size_t len = sz * n;
    if (len > 11 && !strncasecmp(p, "Set-Cookie:", 11))
        snprintf(r->set_cookie, sizeof r->set_cookie, "%.*s", (int)(len - 13), p + 12);
    return len;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* One request; csrf: send b->csrf as X-CSRF-Token.  Keeps the cookie. */
static reply_t req(browser_t *b, const char *method, const char *path, const char *body,
                   bool csrf)
{
    reply_t r = {0};
    strbuf_t out;
    strbuf_init(&out);
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char *url = xasprintf("http://127.0.0.1:%d%s", g.d.port, path);
    char *ck = b && b->cookie[0] ? xasprintf("Cookie: %s", b->cookie) : NULL;
    char *cs = b && csrf ? xasprintf("X-CSRF-Token: %s", b->csrf) : NULL;
    if (ck) h = curl_slist_append(h, ck);
    if (cs) h = curl_slist_append(h, cs);
    if (body) {
        h = curl_slist_append(h, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_head);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    double t0 = now_ms();
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    r.ms = now_ms() - t0;
    r.json = out.s && out.len ? json_loads(out.s, 0, NULL) : NULL;
    if (b && r.set_cookie[0]) {
        const char *semi = strchr(r.set_cookie, ';');
        snprintf(b->cookie, sizeof b->cookie, "%.*s",
                 (int)(semi ? (size_t)(semi - r.set_cookie) : strlen(r.set_cookie)), r.set_cookie);
        if (!strcmp(b->cookie, "tsunagu_session="))
            b->cookie[0] = '\0';
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    strbuf_free(&out);
    free(url); free(ck); free(cs);
    return r;
}

static const char *jstr(const reply_t *r, const char *k)
{
    return json_string_value(json_object_get(r->json, k));
}

/* Status and error code must match; frees the reply. */
#define expect(r, status, code) expect_at(__LINE__, r, status, code)
static void expect_at(int line, reply_t r, long status, const char *code)
{
    if (r.status != status || (code && (!jstr(&r, "error") || strcmp(jstr(&r, "error"), code))))
        fail_msg("line %d: HTTP %ld %s, wanted %ld %s", line, r.status, jstr(&r, "error") ? jstr(&r, "error") : "",
                 status, code ? code : "");
    json_decref(r.json);
}

static reply_t login(browser_t *b, const char *name, const char *pw)
{
    char *body = xasprintf("{\"name\":\"%s\",\"password\":\"%s\"}", name, pw);
    reply_t r = req(b, "POST", "/v1/session", body, false);
    free(body);
    if (r.status == 200)
        snprintf(b->csrf, sizeof b->csrf, "%s", jstr(&r, "csrf"));
    return r;
}

/* Log in and change the initial password to fresh; the browser stays in. */
static void first_login(browser_t *b, const char *name, const char *initial, const char *fresh)
{
    reply_t r = login(b, name, initial);
    assert_int_equal(r.status, 200);
    assert_true(json_is_true(json_object_get(r.json, "must_change")));
    json_decref(r.json);
    char *body = xasprintf("{\"current\":\"%s\",\"new\":\"%s\"}", initial, fresh);
    expect(req(b, "POST", "/v1/session/password", body, true), 200, NULL);
    free(body);
}

static char *add_user(const char *name, const char *role)
{
    char *body = xasprintf("{\"name\":\"%s\",\"role\":\"%s\"}", name, role);
    json_t *j = support_api_json(&g.d, "POST", "/v1/users", ADMIN, body, 201);
    free(body);
    char *pw = xstrdup(json_string_value(json_object_get(j, "password")));
    assert_true(strlen(pw) >= 10);
    json_decref(j);
    return pw;
}

/* ---- tests ----------------------------------------------------------------- */

static void test_admin_creates_accounts(void **state)
{
    support_api_import_city(&g.d, ADMIN, CITY, NULL, NULL);
    g.coord_pw = add_user("tanaka", "coordinator");
    g.secr_pw = add_user("suzuki", "secretariat");
    g.agency_pw = add_user("kodomo1", "agency:kodomo");
    support_api_error(&g.d, "POST", "/v1/users", ADMIN, "{\"name\":\"tanaka\",\"role\":\"admin\"}",
                      409, "exists", NULL);
    support_api_error(&g.d, "POST", "/v1/users", ADMIN, "{\"name\":\"田中\",\"role\":\"admin\"}",
                      400, "bad-name", NULL);
    /* an unknown agency: the answer names the id and where to see the valid ones */
    support_api_error(&g.d, "POST", "/v1/users", ADMIN, "{\"name\":\"x\",\"role\":\"agency:none\"}",
                      400, "bad-role", "機関ID none は登録されていません");
    support_api_error(&g.d, "POST", "/v1/users", ADMIN, "{\"name\":\"x\",\"role\":\"agency:none\"}",
                      400, "bad-role", "tsunagu agencies");
    support_run_t bad = support_daemon_cli(&g.d, NULL, ADMIN, NULL,
                                           (const char *[]){"user", "add", "x", "--role",
                                                            "agency:kodomoo", NULL});
    assert_int_equal(bad.code, 1);
    assert_non_null(strstr(bad.out, "エラー: "));
    assert_non_null(strstr(bad.out, "kodomoo"));
    assert_non_null(strstr(bad.out, "tsunagu agencies"));
    free(bad.out);
    char *tok = support_api_token(&g.d, ADMIN, "coordinator", "prog", NULL);
    support_api_error(&g.d, "GET", "/v1/users", tok, NULL, 403, "forbidden", NULL);
    free(tok);
    /* the CLI: add prints the password once; list shows the state */
    support_run_t r = support_daemon_cli(&g.d, NULL, ADMIN, NULL,
                                         (const char *[]){"user", "add", "yamada", "--role",
                                                          "admin", NULL});
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "初期パスワード: "));
    free(r.out);
    r = support_daemon_cli(&g.d, NULL, ADMIN, NULL, (const char *[]){"user", "list", NULL});
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "yamada"));
    assert_non_null(strstr(r.out, "初回パスワード変更待ち"));
    free(r.out);
}

static void test_failed_logins_look_alike_and_slow_down(void **state)
{
    browser_t a = {0}, b = {0};
    reply_t wrong = login(&a, "yamada", "not-the-password");
    reply_t unknown = login(&b, "nobody-here", "not-the-password");
    assert_int_equal(wrong.status, 401);
    assert_int_equal(unknown.status, 401);
    char *w = json_dumps(wrong.json, JSON_SORT_KEYS), *u = json_dumps(unknown.json, JSON_SORT_KEYS);
    assert_string_equal(w, u);
    assert_string_equal(jstr(&wrong, "error"), "login-failed");
    assert_true(wrong.ms >= DELAY_MS);
    assert_true(unknown.ms >= DELAY_MS);
    assert_string_equal(wrong.set_cookie, "");
    free(w); free(u);
    json_decref(wrong.json);
    json_decref(unknown.json);
    /* yamada has failed once: the next attempt waits 1 x before and 1 x
     * after the check, the one after that 2 x + 1 x */
    reply_t second = login(&a, "yamada", "still-wrong");
    assert_int_equal(second.status, 401);
    assert_true(second.ms >= 2 * DELAY_MS);
    json_decref(second.json);
    reply_t third = login(&a, "yamada", "still-wrong");
    assert_int_equal(third.status, 401);
    assert_true(third.ms >= 3 * DELAY_MS);
    json_decref(third.json);
}

static void test_first_login_and_password_change(void **state)
{
    browser_t b = {0};
    reply_t r = login(&b, "tanaka", g.coord_pw);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.set_cookie, "HttpOnly"));
    assert_non_null(strstr(r.set_cookie, "SameSite=Strict"));
    assert_null(strstr(r.set_cookie, "Secure"));        /* PUBLIC_URL is http */
    assert_int_equal(strlen(b.csrf), 64);
    json_decref(r.json);
    expect(req(&b, "GET", "/v1/cases", NULL, false), 403, "password-change-required");
    char *body = xasprintf("{\"current\":\"%s\",\"new\":\"coord-lantern-42\"}", g.coord_pw);
    expect(req(&b, "POST", "/v1/session/password", body, false), 403, "csrf");
    expect(req(&b, "POST", "/v1/session/password", "{\"current\":\"x\",\"new\":\"short\"}", true),
           400, "weak-password");
    expect(req(&b, "POST", "/v1/session/password",
               "{\"current\":\"wrong-current\",\"new\":\"coord-lantern-42\"}", true),
           400, "wrong-password");
    expect(req(&b, "POST", "/v1/session/password", body, true), 200, NULL);
    free(body);
    expect(req(&b, "GET", "/v1/cases", NULL, false), 200, NULL);
    browser_t old = {0};
    expect(login(&old, "tanaka", g.coord_pw), 401, "login-failed");
    browser_t fresh = {0};
    expect(login(&fresh, "tanaka", "coord-lantern-42"), 200, NULL);
    reply_t me = req(&fresh, "GET", "/v1/session", NULL, false);
    assert_string_equal(jstr(&me, "name"), "tanaka");
    assert_false(json_is_true(json_object_get(me.json, "must_change")));
    json_decref(me.json);
}

static char *case_body(void)
{
    char *t = read_file(CITY "/cases/Y-01.json", NULL);
    assert_non_null(t);
    return t;
}

static void test_csrf_and_actor(void **state)
{
    browser_t co = {0}, se = {0};
    expect(login(&co, "tanaka", "coord-lantern-42"), 200, NULL);
    char *body = case_body();
    expect(req(&co, "POST", "/v1/cases", body, false), 403, "csrf");
    char saved[80];
    snprintf(saved, sizeof saved, "%s", co.csrf);
    snprintf(co.csrf, sizeof co.csrf, "%064d", 0);
    expect(req(&co, "POST", "/v1/cases", body, true), 403, "csrf");
    snprintf(co.csrf, sizeof co.csrf, "%s", saved);
    expect(req(&co, "POST", "/v1/cases", body, true), 201, NULL);
    free(body);
    reply_t p = req(&co, "POST", "/v1/cases/Y-01/proposals", NULL, true);
    assert_int_equal(p.status, 201);
    long long did = json_integer_value(json_object_get(p.json, "decision"));
    json_decref(p.json);
    char path[96];
    snprintf(path, sizeof path, "/v1/decisions/%lld/approve", did);
    expect(req(&co, "POST", path, "{}", true), 403, "forbidden");   /* coordinator */
    first_login(&se, "suzuki", g.secr_pw, "secr-lantern-42");
    expect(req(&se, "POST", path, "{}", false), 403, "csrf");
    expect(req(&se, "POST", path, "{}", true), 200, NULL);
    snprintf(path, sizeof path, "/v1/decisions/%lld", did);
    reply_t d = req(&se, "GET", path, NULL, false);
    assert_int_equal(d.status, 200);
    assert_string_equal(jstr(&d, "actor"), "tanaka (coordinator)");
    json_t *review = json_object_get(d.json, "review");
    assert_string_equal(json_string_value(json_object_get(review, "actor")),
                        "suzuki (secretariat)");
    json_decref(d.json);
}

static void test_agency_account_sees_no_case(void **state)
{
    browser_t b = {0};
    first_login(&b, "kodomo1", g.agency_pw, "agency-lantern-42");
    expect(req(&b, "GET", "/v1/cases", NULL, false), 403, "forbidden");
    expect(req(&b, "GET", "/v1/cases/Y-01", NULL, false), 403, "forbidden");
    expect(req(&b, "GET", "/v1/overview/cases", NULL, false), 403, "forbidden");
}

static void test_logout_disable_reset_end_sessions(void **state)
{
    browser_t a = {0}, keep = {0};
    expect(login(&a, "tanaka", "coord-lantern-42"), 200, NULL);
    browser_t stolen = a;                 /* the same cookie elsewhere */
    expect(req(&a, "DELETE", "/v1/session", NULL, true), 204, NULL);
    assert_string_equal(a.cookie, "");
    expect(req(&stolen, "GET", "/v1/cases", NULL, false), 401, "unauthorized");
    expect(login(&keep, "tanaka", "coord-lantern-42"), 200, NULL);
    json_decref(support_api_json(&g.d, "POST", "/v1/users/tanaka/disable", ADMIN, "{}", 200));
    expect(req(&keep, "GET", "/v1/cases", NULL, false), 401, "unauthorized");
    expect(login(&keep, "tanaka", "coord-lantern-42"), 401, "login-failed");
    json_decref(support_api_json(&g.d, "POST", "/v1/users/tanaka/enable", ADMIN, "{}", 200));
    expect(login(&keep, "tanaka", "coord-lantern-42"), 200, NULL);
    json_t *j = support_api_json(&g.d, "POST", "/v1/users/tanaka/reset", ADMIN, "{}", 200);
    const char *pw = json_string_value(json_object_get(j, "password"));
    expect(req(&keep, "GET", "/v1/cases", NULL, false), 401, "unauthorized");
    browser_t again = {0};
    reply_t r = login(&again, "tanaka", pw);
    assert_int_equal(r.status, 200);
    assert_true(json_is_true(json_object_get(r.json, "must_change")));
    json_decref(r.json);
    json_decref(j);
    support_api_error(&g.d, "POST", "/v1/users/nobody/reset", ADMIN, "{}", 404, "not-found", NULL);
}

static void sleep_ms(double ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)((ms - (time_t)(ms / 1000) * 1000) * 1e6) };
    nanosleep(&ts, NULL);
}

static void test_sessions_expire(void **state)
{
    browser_t idle = {0}, busy = {0};
    expect(login(&idle, "suzuki", "secr-lantern-42"), 200, NULL);
    expect(login(&busy, "suzuki", "secr-lantern-42"), 200, NULL);
    double t0 = now_ms();
    /* busy keeps using its session; idle does not */
    while (now_ms() - t0 < (IDLE_S + 1) * 1000.0) {
        sleep_ms(1000);
        expect(req(&busy, "GET", "/v1/session", NULL, false), 200, NULL);
    }
    expect(req(&idle, "GET", "/v1/cases", NULL, false), 401, "session-expired");
    assert_string_equal(idle.cookie, "");        /* the cookie is cleared */
    /* in use all along, it still ends MAX_S after login */
    while (now_ms() - t0 < (MAX_S - 1.5) * 1000.0) {
        sleep_ms(1000);
        expect(req(&busy, "GET", "/v1/session", NULL, false), 200, NULL);
    }
    sleep_ms((MAX_S + 0.5) * 1000.0 - (now_ms() - t0));
    expect(req(&busy, "GET", "/v1/session", NULL, false), 401, "session-expired");
}

static int group_setup(void **state)
{
    if (support_daemon_init(&g.d, "itest-accounts") != 0)
        return -1;
    char *conf = xasprintf("ADMIN_TOKEN = " ADMIN "\nPOLL_INTERVAL = 600\nLOGIN_DELAY_MS = %d\n"
                           "SESSION_IDLE = %d\nSESSION_MAX = %d\n", DELAY_MS, IDLE_S, MAX_S);
    int rc = support_write_file(g.d.conf, conf, (size_t)-1);
    free(conf);
    if (rc)
        return -1;
    const char *env[] = { "TSUNAGU_NOW=" SUPPORT_FIXTURE_NOW, "TSUNAGU_SECRETS=", NULL };
    return support_daemon_start(&g.d, NULL, env, 10000);
}

static int group_teardown(void **state)
{
    support_daemon_free(&g.d);
    free(g.coord_pw); free(g.secr_pw); free(g.agency_pw);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_admin_creates_accounts),
        cmocka_unit_test(test_failed_logins_look_alike_and_slow_down),
        cmocka_unit_test(test_first_login_and_password_change),
        cmocka_unit_test(test_csrf_and_actor),
        cmocka_unit_test(test_agency_account_sees_no_case),
        cmocka_unit_test(test_logout_disable_reset_end_sessions),
        cmocka_unit_test(test_sessions_expire),
    };
    return cmocka_run_group_tests_name("itest_accounts", tests, group_setup, group_teardown);
}
