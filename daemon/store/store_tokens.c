/* SPDX-License-Identifier: MIT */
/*
 * store_tokens.c - the tokens table (store_tokens.h): lookup by hash,
 * insert, list and delete, each one prepared statement; and the per-agency
 * calendar subscription keys kept in it by role ("ics:<agency>").  Column text is
 * copied out before store_done, so callers own what they get.
 */
#include <stdlib.h>
#include <string.h>

#include "store_tokens.h"
#include "util.h"

bool store_token_find(store_t *st, const char *hash, char **role, char **label)
{
    *role = NULL;
    *label = NULL;
    sqlite3_stmt *s = store_stmt(st, "SELECT role, label FROM tokens WHERE hash = ?",
                                 STORE_TEXT(hash));
    bool found = store_step_row(s);
    if (found) {
        const char *r = store_col_text(s, 0), *l = store_col_text(s, 1);
        *role = xstrdup(r ? r : "");
        *label = xstrdup(l ? l : "");
    }
    store_done(s);
    return found;
}

int64_t store_token_insert(store_t *st, const char *hash, const char *role, const char *label,
                           int64_t created)
{
    sqlite3_stmt *s = store_stmt(st,
        "INSERT INTO tokens(hash, role, label, created) VALUES (?, ?, ?, ?)",
        STORE_TEXT(hash), STORE_TEXT(role), STORE_TEXT(label ? label : ""), STORE_INT(created));
    return store_run(s) ? (int64_t)sqlite3_last_insert_rowid(store_db(st)) : 0;
}

bool store_tokens_list(store_t *st, store_token_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s = store_prepare(st, "SELECT id, role, label, created FROM tokens ORDER BY id");
    if (!s)
        return false;
    size_t cap = 0;
    store_token_t *rows = NULL;
    while (sqlite3_step(s) == SQLITE_ROW) {
        rows = xgrow(rows, *n, &cap, sizeof *rows);
        const char *label = store_col_text(s, 2);
        store_token_t *t = &rows[(*n)++];
        t->id = sqlite3_column_int64(s, 0);
        t->role = xstrdup(store_col_text(s, 1));
        t->label = xstrdup(label ? label : "");
        t->created = sqlite3_column_int64(s, 3);
    }
    store_done(s);
    *out = rows;
    return true;
}

void store_tokens_free(store_token_t *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].role);
        free(rows[i].label);
    }
    free(rows);
}

int store_token_delete(store_t *st, int64_t id)
{
    if (!store_run(store_stmt(st, "DELETE FROM tokens WHERE id = ?", STORE_INT(id))))
        return -1;
    return sqlite3_changes(store_db(st)) > 0 ? 1 : 0;
}

int store_token_delete_role(store_t *st, const char *role)
{
    if (!store_run(store_stmt(st, "DELETE FROM tokens WHERE role = ?", STORE_TEXT(role))))
        return -1;
    return sqlite3_changes(store_db(st));
}

int64_t store_token_replace_role(store_t *st, const char *hash, const char *role,
                                 const char *label, int64_t created)
{
    if (store_begin(st) != 0)
        return 0;
    int64_t id = 0;
    if (store_token_delete_role(st, role) >= 0)
        id = store_token_insert(st, hash, role, label, created);
    if (id > 0 && store_commit(st) == 0)
        return id;
    store_rollback(st);
    return 0;
}

int store_token_role_created(store_t *st, const char *role, int64_t *created)
{
    sqlite3_stmt *s = store_stmt(st, "SELECT created FROM tokens WHERE role = ? "
                                     "ORDER BY id DESC LIMIT 1", STORE_TEXT(role));
    if (!s)
        return -1;
    int rc = sqlite3_step(s), found = 0;
    if (rc == SQLITE_ROW) {
        *created = sqlite3_column_int64(s, 0);
        found = 1;
    } else if (rc != SQLITE_DONE)
        found = -1;
    store_done(s);
    return found;
}
