/* SPDX-License-Identifier: MIT */
/*
 * api_session.c - browser sessions for the web UI.
 *
 *   POST   /v1/session           {name, password} -> 200 session + cookie
 *                                (public; JSON only; 401 login-failed for
 *                                any bad name/password, after a delay)
 *   GET    /v1/session           who am I (public): {logged_in: true, name,
 *                                role, agency, must_change, csrf,
 *                                idle_seconds, max_seconds, now, zone}
 *                                (now: the daemon's clock in the city's
 *                                zone, so the UI never uses the browser's
 *                                Date; zone: its tz name), or
 *                                {logged_in: false} without a live session
 *   DELETE /v1/session           logout: the session ends on the server
 *   POST   /v1/session/password  {current, new}: change the own password
 *
 * The cookie is "tsunagu_session" (HttpOnly, SameSite=Strict, Path=/,
 * Secure when PUBLIC_URL is https).  api_session_auth is the router's
 * second way in, used when a request has no Authorization header: the
 * cookie names a session (accounts.c), every method but GET and HEAD
 * must carry the session's CSRF token in X-CSRF-Token, and an account
 * that must change its password may use only /v1/session until it has.
 * The login route is JSON-only so that a cross-site form cannot post it.
 */
#include <event2/http.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "accounts.h"
#include "api.h"
#include "log.h"
#include "util.h"

#define COOKIE_NAME "tsunagu_session"

const char *api_peer(const api_req_t *r)
{
    struct evhttp_connection *c = evhttp_request_get_connection(r->req);
    char *addr = NULL;                  /* owned by the connection */
    ev_uint16_t port;
    if (c)
        evhttp_connection_get_peer(c, &addr, &port);
    return addr ? addr : "";
}

char *api_actor(const api_req_t *r)
{
    char role[160];
    api_role_name(&r->auth, role, sizeof role);
    if (r->auth.user[0])
        return xasprintf("%s (%s)", r->auth.user, role);
    return r->auth.label[0] ? xasprintf("%s (%s)", role, r->auth.label) : xstrdup(role);
}

void api_reply_field_error(api_req_t *r, int status, const char *code, const char *field,
                           const char *message)
{
    api_reply_json(r, status, json_pack("{s:s, s:s, s:s}", "error", code, "message", message,
                                        "field", field));
}

/* The cookie's value (copied into out) or false. */
static bool cookie_value(const api_req_t *r, char *out, size_t n)
{
    const char *h = api_header(r, "Cookie");
    size_t klen = strlen(COOKIE_NAME);
    for (const char *p = h; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > klen && !strncmp(p, COOKIE_NAME, klen) && p[klen] == '=' &&
            len - klen - 1 < n) {
            memcpy(out, p + klen + 1, len - klen - 1);
            out[len - klen - 1] = '\0';
            return true;
        }
        p += len;
    }
    return false;
}

static bool secure_cookies(const api_req_t *r)
{
    const char *u = config_get(r->d->config, "PUBLIC_URL");
    return u && !strncasecmp(u, "https://", 8);
}

static void set_cookie(api_req_t *r, const char *value, bool clear)
{
    char *c = xasprintf("%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", COOKIE_NAME, value,
                        clear ? "; Max-Age=0" : "", secure_cookies(r) ? "; Secure" : "");
    evhttp_add_header(evhttp_request_get_output_headers(r->req), "Set-Cookie", c);
    free(c);
}

static bool is_session_path(const api_req_t *r)
{
    return !strcmp(r->path, "/v1/session") || !strcmp(r->path, "/v1/session/password");
}

static bool csrf_ok(const api_req_t *r, const char *want)
{
    if (r->method == EVHTTP_REQ_GET || r->method == EVHTTP_REQ_HEAD)
        return true;
    const char *got = api_header(r, "X-CSRF-Token");
    return got && strlen(got) == strlen(want) && sodium_memcmp(got, want, strlen(want)) == 0;
}

int api_session_auth(api_req_t *r)
{
    char token[ACCOUNTS_TOKEN_LEN + 2];
    if (!cookie_value(r, token, sizeof token))
        return 0;
    store_session_t s;
    int live = accounts_session(r->d, token, &s);
    if (live < 0) {
        set_cookie(r, "", true);
        api_reply_error(r, 401, "session-expired",
                        "一定時間操作がなかったため、ログインが切れました。もう一度ログインしてください (session expired)");
        return -1;
    }
    if (live == 0 || !api_role_parse(s.user.role, &r->auth))
        return 0;
    snprintf(r->auth.label, sizeof r->auth.label, "%s", s.user.name);
    snprintf(r->auth.user, sizeof r->auth.user, "%s", s.user.name);
    snprintf(r->auth.session, sizeof r->auth.session, "%s", token);
    if (!csrf_ok(r, s.csrf)) {
        api_reply_error(r, 403, "csrf",
                        "CSRFトークンがないか違います。画面を読み込み直してください (missing or wrong X-CSRF-Token)");
        return -1;
    }
    if (s.user.must_change && !is_session_path(r)) {
        api_reply_error(r, 403, "password-change-required",
                        "最初にパスワードを変更してください (password change required)");
        return -1;
    }
    return 1;
}

/* ---- the session as JSON ----------------------------------------------- */

static json_t *session_json(api_req_t *r, const store_session_t *s)
{
    api_auth_t a;
    api_role_parse(s->user.role, &a);
    long idle = config_int(r->d->config, "SESSION_IDLE", 1800, NULL);
    long max = config_int(r->d->config, "SESSION_MAX", 28800, NULL);
    const tz_t *zone = api_zone(r);
    return json_pack("{s:s, s:s, s:s?, s:b, s:s, s:i, s:i, s:I, s:o, s:s}", "name", s->user.name,
                     "role", s->user.role, "agency", a.role == API_AGENCY ? a.agency : NULL,
                     "must_change", s->user.must_change, "csrf", s->csrf, "idle_seconds",
                     (int)idle, "max_seconds", (int)max, "created", (json_int_t)s->created,
                     "now", api_time_json(tu_now(), zone, false), "zone", tz_name(zone));
}

static void on_login(void *arg, const accounts_login_result_t *res)
{
    api_req_t *r = arg;
    switch (res->status) {
    case ACCOUNTS_OK:
        set_cookie(r, res->token, false);
        api_reply_json(r, 200, session_json(r, &res->session));
        break;
    case ACCOUNTS_DENIED:
        api_reply_error(r, 401, "login-failed",
                        "アカウント名またはパスワードが違います (wrong name or password)");
        break;
    case ACCOUNTS_BUSY:
        api_reply_error(r, 503, "busy", "混み合っています。少し待ってからもう一度お試しください (busy)");
        break;
    default:
        api_reply_error(r, 500, "store", "ログインの処理に失敗しました (store error)");
    }
}

static bool is_json_request(const api_req_t *r)
{
    const char *ct = api_header(r, "Content-Type");
    return ct && !strncasecmp(ct, "application/json", 16);
}

static void h_login(api_req_t *r)
{
    if (!is_json_request(r)) {
        api_reply_error(r, 415, "bad-content-type",
                        "Content-Type: application/json で送ってください (JSON only)");
        return;
    }
    json_t *body = api_json_body(r, 8192);
    if (!body)
        return;
    const char *name = json_string_value(json_object_get(body, "name"));
    const char *pw = json_string_value(json_object_get(body, "password"));
    if (!name || !*name)
        api_reply_field_error(r, 400, "bad-request", "name", "アカウント名を入力してください");
    else if (!pw || !*pw)
        api_reply_field_error(r, 400, "bad-request", "password", "パスワードを入力してください");
    else {
        accounts_login(r->d, name, pw, api_peer(r), on_login, r);
        if (!r->replied)            /* answered later, from the loop */
            api_defer(r);
    }
    json_decref(body);
}

/* Public, so that a page opened before login learns so without a 401:
 * {"logged_in": false} when the request carries no live session. */
static void h_session_get(api_req_t *r)
{
    store_session_t s;
    int live = api_session_auth(r);
    if (live < 0)
        return;                     /* answered: expired */
    if (live == 0 || accounts_session(r->d, r->auth.session, &s) <= 0) {
        api_reply_json(r, 200, json_pack("{s:b}", "logged_in", 0));
        return;
    }
    json_t *o = session_json(r, &s);
    json_object_set_new(o, "logged_in", json_true());
    api_reply_json(r, 200, o);
}

static void h_logout(api_req_t *r)
{
    if (r->auth.user[0]) {
        accounts_logout(r->d, r->auth.session);
        log_info("accounts: %s logged out", r->auth.user);
    }
    set_cookie(r, "", true);
    api_reply_no_content(r);
}

static void on_password_changed(void *arg, accounts_status_t st, const char *secret)
{
    api_req_t *r = arg;
    if (st == ACCOUNTS_OK)
        api_reply_json(r, 200, json_pack("{s:b}", "changed", 1));
    else if (st == ACCOUNTS_DENIED)
        api_reply_field_error(r, 400, "wrong-password", "current",
                              "現在のパスワードが違います");
    else if (st == ACCOUNTS_BUSY)
        api_reply_error(r, 503, "busy", "混み合っています。少し待ってからもう一度お試しください (busy)");
    else
        api_reply_error(r, 500, "store", "パスワードを保存できませんでした (store error)");
}

static void h_password(api_req_t *r)
{
    if (!r->auth.user[0]) {
        api_reply_error(r, 400, "no-session", "ログインしたアカウントでのみ使えます (session only)");
        return;
    }
    json_t *body = api_json_body(r, 8192);
    if (!body)
        return;
    const char *cur = json_string_value(json_object_get(body, "current"));
    const char *fresh = json_string_value(json_object_get(body, "new"));
    const char *problem = accounts_password_problem(r->auth.user, fresh);
    if (!cur || !*cur)
        api_reply_field_error(r, 400, "bad-request", "current", "現在のパスワードを入力してください");
    else if (problem)
        api_reply_field_error(r, 400, "weak-password", "new", problem);
    else if (!strcmp(cur, fresh))
        api_reply_field_error(r, 400, "weak-password", "new",
                              "新しいパスワードは現在のものと違うものにしてください");
    else {
        accounts_change_password(r->d, r->auth.user, r->auth.session, cur, fresh,
                                 on_password_changed, r);
        if (!r->replied)            /* answered later, from the loop */
            api_defer(r);
    }
    json_decref(body);
}

void api_session_register(api_t *api)
{
    accounts_init(api_daemon(api));
    api_route(api, "POST", "/v1/session", API_PUBLIC, API_DATA_NONE, h_login);
    api_route(api, "GET", "/v1/session", API_PUBLIC, API_DATA_NONE, h_session_get);
    api_route(api, "DELETE", "/v1/session", API_ANY, API_DATA_NONE, h_logout);
    api_route(api, "POST", "/v1/session/password", API_ANY, API_DATA_NONE, h_password);
}
