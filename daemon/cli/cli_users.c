/* SPDX-License-Identifier: MIT */
/*
 * cli_users.c - `tsunagu user ...`: personal accounts for the web UI
 * (admin token).  Thin: each verb is one call to /v1/users.
 *
 *   user add NAME --role ROLE   prints the initial password once
 *   user list
 *   user disable NAME | user enable NAME
 *   user reset NAME             a new initial password; sessions end
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "util.h"

static void print_secret(const json_t *resp, const char *what)
{
    printf("%s: %s\n\n  初期パスワード: %s\n\n", what, cli_jstr(resp, "name"),
           cli_jstr(resp, "password"));
    printf("この初期パスワードは二度と表示されません。本人に安全な方法で渡してください。\n"
           "最初のログインでパスワードの変更を求められます。\n"
           "(shown once; the person must change it at first login)\n");
}

static void show_added(const json_t *resp) { print_secret(resp, "アカウントを作成しました"); }
static void show_reset(const json_t *resp) { print_secret(resp, "パスワードを再設定しました"); }

static int v_user_add(cli_t *c, int argc, char **argv)
{
    const char *name = cli_arg(argc, argv, 0), *role = cli_opt(argc, argv, "--role");
    if (!name || !role)
        return cli_usage("user add", "NAME --role admin|coordinator|secretariat|agency:ID");
    return cli_call_show(c, "POST", "/v1/users",
                         json_pack("{s:s, s:s}", "name", name, "role", role), 201, show_added);
}

static void show_users(const json_t *resp)
{
    cli_table_t *t = cli_table_new(4, (const char *[]){"アカウント", "役割 (role)", "状態",
                                                       "最終ログイン"});
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(resp, "users"), i, u) {
        const char *state = json_is_true(json_object_get(u, "disabled")) ? "無効"
                            : json_is_true(json_object_get(u, "must_change"))
                                ? "初回パスワード変更待ち" : "有効";
        const char *last = cli_jstr(u, "last_login");
        cli_table_row(t, (const char *[]){cli_jstr(u, "name"), cli_jstr(u, "role"), state,
                                          *last ? last : "-"});
    }
    cli_table_print(t);
}

static int v_user_list(cli_t *c, int argc, char **argv)
{
    return cli_call_show(c, "GET", "/v1/users", NULL, 200, show_users);
}

static void show_disabled(const json_t *resp)
{
    printf("%s: %s\n", cli_jstr(resp, "name"),
           json_is_true(json_object_get(resp, "disabled")) ? "無効にしました (disabled)"
                                                           : "有効にしました (enabled)");
}

static int v_user_disable(cli_t *c, int argc, char **argv)
{
    static const cli_id_call_t k = {"user disable", "NAME", "POST", "/v1/users", "/disable",
                                    200, show_disabled};
    return cli_run_id_call(c, argc, argv, &k);
}

static int v_user_enable(cli_t *c, int argc, char **argv)
{
    static const cli_id_call_t k = {"user enable", "NAME", "POST", "/v1/users", "/enable",
                                    200, show_disabled};
    return cli_run_id_call(c, argc, argv, &k);
}

static int v_user_reset(cli_t *c, int argc, char **argv)
{
    static const cli_id_call_t k = {"user reset", "NAME", "POST", "/v1/users", "/reset", 200,
                                    show_reset};
    return cli_run_id_call(c, argc, argv, &k);
}

const cli_verb_t cli_users_verbs[] = {
    {"user add", "NAME --role ROLE", "ウェブ画面のアカウントを作る (admin)", v_user_add},
    {"user list", "", "ウェブ画面のアカウントの一覧 (admin)", v_user_list},
    {"user disable", "NAME", "アカウントを無効にする; ログイン中のセッションも終わる (admin)",
     v_user_disable},
    {"user enable", "NAME", "無効にしたアカウントを戻す (admin)", v_user_enable},
    {"user reset", "NAME", "初期パスワードを発行し直す (admin)", v_user_reset},
    {NULL, NULL, NULL, NULL}
};
