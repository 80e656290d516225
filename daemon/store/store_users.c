/* SPDX-License-Identifier: MIT */
/*
 * store_users.c - SQL for personal accounts and browser sessions
 * (migration 10).  Every statement is prepared through store_prepare and
 * released with store_done; no policy here (service/accounts.c decides
 * who may log in and when a session has expired).
 */
#include <stdio.h>
#include <string.h>

#include "store_users.h"

static void copy_col(char *dst, size_t n, sqlite3_stmt *s, int col)
{
    const char *v = store_col_text(s, col);
    snprintf(dst, n, "%s", v ? v : "");
}

#define USER_COLS "u.id, u.name, u.role, u.hash, u.must_change, u.disabled, u.created," \
                  " COALESCE(u.last_login, 0)"

static void user_from_row(sqlite3_stmt *s, int c, store_user_t *u)
{
    memset(u, 0, sizeof *u);
    u->id = sqlite3_column_int64(s, c);
    copy_col(u->name, sizeof u->name, s, c + 1);
    copy_col(u->role, sizeof u->role, s, c + 2);
    copy_col(u->hash, sizeof u->hash, s, c + 3);
    u->must_change = sqlite3_column_int(s, c + 4) != 0;
    u->disabled = sqlite3_column_int(s, c + 5) != 0;
    u->created = sqlite3_column_int64(s, c + 6);
    u->last_login = sqlite3_column_int64(s, c + 7);
}

int store_user_add(store_t *st, const char *name, const char *role, const char *hash,
                   int64_t now)
{
    if (store_row_exists(st, "SELECT 1 FROM users WHERE name = ?", name))
        return 0;
    sqlite3_stmt *s = store_stmt(st, "INSERT INTO users(name, role, hash, must_change,"
                                     " disabled, created, updated) VALUES (?, ?, ?, 1, 0, ?, ?)",
                                 STORE_TEXT(name), STORE_TEXT(role), STORE_TEXT(hash),
                                 STORE_INT(now), STORE_INT(now));
    if (!s)
        return -1;
    return store_run(s) ? 1 : -1;
}

bool store_user_get(store_t *st, const char *name, store_user_t *out)
{
    sqlite3_stmt *s = store_stmt(st, "SELECT " USER_COLS " FROM users u WHERE u.name = ?",
                                 STORE_TEXT(name));
    bool found = store_step_row(s);
    if (found)
        user_from_row(s, 0, out);
    store_done(s);
    return found;
}

json_t *store_user_list(store_t *st)
{
    sqlite3_stmt *s = store_prepare(st, "SELECT " USER_COLS " FROM users u ORDER BY u.name");
    if (!s)
        return NULL;
    json_t *arr = json_array();
    while (sqlite3_step(s) == SQLITE_ROW) {
        store_user_t u;
        user_from_row(s, 0, &u);
        json_array_append_new(arr, json_pack("{s:s, s:s, s:b, s:b, s:I, s:I}", "name", u.name,
                                             "role", u.role, "must_change", u.must_change,
                                             "disabled", u.disabled, "created",
                                             (json_int_t)u.created, "last_login",
                                             (json_int_t)u.last_login));
    }
    store_done(s);
    return arr;
}

bool store_user_set_hash(store_t *st, const char *name, const char *hash, bool must_change,
                         int64_t now)
{
    return store_run_one(st, store_stmt(st, "UPDATE users SET hash = ?, must_change = ?,"
                                            " updated = ? WHERE name = ?",
                                        STORE_TEXT(hash), STORE_INT(must_change), STORE_INT(now),
                                        STORE_TEXT(name)));
}

bool store_user_set_disabled(store_t *st, const char *name, bool disabled, int64_t now)
{
    return store_run_one(st, store_stmt(st, "UPDATE users SET disabled = ?, updated = ?"
                                            " WHERE name = ?",
                                        STORE_INT(disabled), STORE_INT(now), STORE_TEXT(name)));
}

bool store_user_logged_in(store_t *st, int64_t user_id, int64_t now)
{
    return store_run(store_stmt(st, "UPDATE users SET last_login = ? WHERE id = ?",
                                STORE_INT(now), STORE_INT(user_id)));
}

bool store_session_add(store_t *st, const char *hash, int64_t user_id, const char *csrf,
                       int64_t now)
{
    return store_run(store_stmt(st, "INSERT INTO sessions(hash, user_id, csrf, created,"
                                    " last_seen) VALUES (?, ?, ?, ?, ?)",
                                STORE_TEXT(hash), STORE_INT(user_id), STORE_TEXT(csrf),
                                STORE_INT(now), STORE_INT(now)));
}

bool store_session_get(store_t *st, const char *hash, store_session_t *out)
{
    sqlite3_stmt *s = store_stmt(st, "SELECT " USER_COLS ", x.csrf, x.created, x.last_seen"
                                     " FROM sessions x JOIN users u ON u.id = x.user_id"
                                     " WHERE x.hash = ?", STORE_TEXT(hash));
    bool found = store_step_row(s);
    if (found) {
        user_from_row(s, 0, &out->user);
        copy_col(out->csrf, sizeof out->csrf, s, 8);
        out->created = sqlite3_column_int64(s, 9);
        out->last_seen = sqlite3_column_int64(s, 10);
    }
    store_done(s);
    return found;
}

bool store_session_touch(store_t *st, const char *hash, int64_t now)
{
    return store_run(store_stmt(st, "UPDATE sessions SET last_seen = ? WHERE hash = ?",
                                STORE_INT(now), STORE_TEXT(hash)));
}

bool store_session_delete(store_t *st, const char *hash)
{
    return store_run(store_stmt(st, "DELETE FROM sessions WHERE hash = ?", STORE_TEXT(hash)));
}

bool store_sessions_end_user(store_t *st, int64_t user_id, const char *keep_hash)
{
    return store_run(store_stmt(st, "DELETE FROM sessions WHERE user_id = ? AND hash <> ?",
                                STORE_INT(user_id), STORE_TEXT(keep_hash ? keep_hash : "")));
}

int store_sessions_expire(store_t *st, int64_t idle_before, int64_t created_before)
{
    sqlite3_stmt *s = store_stmt(st, "DELETE FROM sessions WHERE last_seen < ? OR created < ?",
                                 STORE_INT(idle_before), STORE_INT(created_before));
    if (!s)
        return -1;
    return store_run(s) ? sqlite3_changes(store_db(st)) : -1;
}

bool store_admin_exists(store_t *st)
{
    return store_exists(store_prepare(st, "SELECT 1 FROM users WHERE role = 'admin' AND disabled = 0"
                                          " UNION ALL SELECT 1 FROM tokens WHERE role = 'admin'"));
}
