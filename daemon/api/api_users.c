/* SPDX-License-Identifier: MIT */
/*
 * api_users.c - personal accounts, for admin (tsunagu user ...).
 *
 *   GET  /v1/users                   {users: [{name, role, must_change,
 *                                    disabled, created, last_login}]}
 *   POST /v1/users                   {name, role} -> 201 {name, role, password}
 *                                    (the initial password, shown once; the
 *                                    person must change it at first login)
 *   POST /v1/users/{name}/reset      -> {name, password}; sessions end
 *   POST /v1/users/{name}/disable    sessions end; logins refused
 *   POST /v1/users/{name}/enable
 *
 * Roles are the tokens' ("admin", "coordinator", "secretariat",
 * "agency:<id>"); an agency id must be in the imported city.  Hashing
 * runs on accounts.c's worker, so add and reset reply from a callback.
 */
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "api.h"
#include "store_users.h"
#include "util.h"

static json_t *user_json(api_req_t *r, json_t *u)
{
    const tz_t *z = api_zone(r);
    json_int_t created = json_integer_value(json_object_get(u, "created"));
    json_int_t last = json_integer_value(json_object_get(u, "last_login"));
    json_object_set_new(u, "created", api_time_json(created, z, true));
    json_object_set_new(u, "last_login", api_time_json(last, z, true));
    return u;
}

static void h_user_list(api_req_t *r)
{
    json_t *arr = store_user_list(r->d->store);
    if (!arr) {
        api_reply_error(r, 500, "store", "データベースの処理に失敗しました (store error)");
        return;
    }
    size_t i;
    json_t *u;
    json_array_foreach(arr, i, u)
        user_json(r, u);
    api_reply_json(r, 200, json_pack("{s:o}", "users", arr));
}

static bool role_ok(api_req_t *r, const char *role)
{
    api_auth_t a;
    if (!role || !api_role_parse(role, &a)) {
        api_reply_field_error(r, 400, "bad-role", "role",
                              "役割は admin, coordinator, secretariat, agency:<機関ID> のどれかです");
        return false;
    }
    const city_t *city = tsunagud_city(r->d);
    if (a.role == API_AGENCY && (!city || !city_agency(city, a.agency))) {
        char *msg = xasprintf("機関ID %s は登録されていません。登録済みの機関IDは tsunagu agencies "
                              "で確認できます (unknown agency: %s)", a.agency, a.agency);
        api_reply_field_error(r, 400, "bad-role", "role", msg);
        free(msg);
        return false;
    }
    return true;
}

typedef struct add_ctx {
    api_req_t *r;
    char      *name, *role;
} add_ctx_t;

static void on_secret(void *arg, accounts_status_t st, const char *secret)
{
    add_ctx_t *c = arg;
    api_req_t *r = c->r;
    if (st == ACCOUNTS_OK)
        api_reply_json(r, c->role ? 201 : 200,
                       json_pack("{s:s, s:s?, s:s}", "name", c->name, "role", c->role,
                                 "password", secret));
    else if (st == ACCOUNTS_EXISTS)
        api_reply_field_error(r, 409, "exists", "name", "そのアカウント名はすでに使われています");
    else if (st == ACCOUNTS_UNKNOWN)
        api_404(r, "アカウント", c->name);
    else if (st == ACCOUNTS_BUSY)
        api_reply_error(r, 503, "busy", "混み合っています。少し待ってからもう一度お試しください (busy)");
    else
        api_reply_error(r, 500, "store", "アカウントを保存できませんでした (store error)");
    free(c->name);
    free(c->role);
    free(c);
}

static add_ctx_t *ctx_new(api_req_t *r, const char *name, const char *role)
{
    add_ctx_t *c = xcalloc(1, sizeof *c);
    c->r = r;
    c->name = xstrdup(name);
    c->role = xstrdup(role);
    return c;
}

/* After starting async work: wait for its callback unless it already
 * answered (a refusal can come back at once, before any hashing). */
static void defer_unless_replied(api_req_t *r)
{
    if (!r->replied)
        api_defer(r);
}

static void h_user_add(api_req_t *r)
{
    json_t *body = api_json_body(r, 8192);
    if (!body)
        return;
    const char *name = json_string_value(json_object_get(body, "name"));
    const char *role = json_string_value(json_object_get(body, "role"));
    if (!accounts_name_ok(name))
        api_reply_field_error(r, 400, "bad-name", "name",
                              "アカウント名は半角英数字と . _ - で63文字までにしてください");
    else if (role_ok(r, role)) {
        add_ctx_t *c = ctx_new(r, name, role);
        accounts_add(r->d, name, role, on_secret, c);
        defer_unless_replied(r);
    }
    json_decref(body);
}

static void h_user_reset(api_req_t *r)
{
    add_ctx_t *c = ctx_new(r, api_param(r, "name"), NULL);
    accounts_reset(r->d, c->name, on_secret, c);
    defer_unless_replied(r);
}

static void set_disabled(api_req_t *r, bool disabled)
{
    const char *name = api_param(r, "name");
    if (!accounts_set_disabled(r->d, name, disabled)) {
        api_404(r, "アカウント", name);
        return;
    }
    api_reply_json(r, 200, json_pack("{s:s, s:b}", "name", name, "disabled", disabled));
}

static void h_user_disable(api_req_t *r) { set_disabled(r, true); }
static void h_user_enable(api_req_t *r) { set_disabled(r, false); }

void api_users_register(api_t *api)
{
    api_route(api, "GET", "/v1/users", API_ADMIN, API_DATA_NONE, h_user_list);
    api_route(api, "POST", "/v1/users", API_ADMIN, API_DATA_NONE, h_user_add);
    api_route(api, "POST", "/v1/users/{name}/reset", API_ADMIN, API_DATA_NONE, h_user_reset);
    api_route(api, "POST", "/v1/users/{name}/disable", API_ADMIN, API_DATA_NONE, h_user_disable);
    api_route(api, "POST", "/v1/users/{name}/enable", API_ADMIN, API_DATA_NONE, h_user_enable);
}
