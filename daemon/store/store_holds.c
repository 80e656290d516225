/* SPDX-License-Identifier: MIT */
/*
 * store_holds.c - the holds tables (store_holds.h): purge, overlap test,
 * insert, delete, an agency's active busy time, and reading holds back
 * as structs.  A listing reads the hold rows first and each hold's
 * agencies after that statement is done, so no two statements step at
 * once.  No policy here; see daemon/service/slots_store.c.
 */
#include <stdlib.h>
#include <string.h>

#include "store_holds.h"

void store_holds_purge(store_t *st, int64_t now)
{
    store_run(store_stmt(st, "DELETE FROM holds WHERE expires <= ?", STORE_INT(now)));
}

int64_t store_hold_overlap(store_t *st, const char *agency, int64_t start, int64_t end,
                           int64_t now)
{
    return store_int(store_stmt(st,
        "SELECT h.id FROM holds h JOIN hold_agencies a ON a.hold_id = h.id"
        " WHERE a.agency = ? AND h.expires > ? AND h.start < ? AND h.end > ? LIMIT 1",
        STORE_TEXT(agency), STORE_INT(now), STORE_INT(end), STORE_INT(start)), 0);
}

bool store_hold_insert(store_t *st, const strvec_t *agencies, int64_t start, int64_t end,
                       int64_t expires, int64_t now, const char *by, int64_t *id_out)
{
    if (!store_run(store_stmt(st, "INSERT INTO holds (start, end, expires, created, created_by)"
                                  " VALUES (?, ?, ?, ?, ?)", STORE_INT(start), STORE_INT(end),
                              STORE_INT(expires), STORE_INT(now), STORE_TEXT(by))))
        return false;
    *id_out = sqlite3_last_insert_rowid(store_db(st));
    bool ok = true;
    for (size_t i = 0; i < agencies->n && ok; i++)
        ok = store_run(store_stmt(st, "INSERT INTO hold_agencies (hold_id, agency) VALUES (?, ?)",
                                  STORE_INT(*id_out), STORE_TEXT(agencies->v[i])));
    return ok;
}

bool store_hold_delete(store_t *st, int64_t id)
{
    return store_run(store_stmt(st, "DELETE FROM holds WHERE id = ?", STORE_INT(id))) &&
           sqlite3_changes(store_db(st)) > 0;
}

void store_holds_agency_busy(store_t *st, const char *agency, int64_t from, int64_t to,
                             int64_t now, ivset_t *out)
{
    sqlite3_stmt *s = store_stmt(st,
        "SELECT h.start, h.end FROM holds h JOIN hold_agencies a ON a.hold_id = h.id"
        " WHERE a.agency = ? AND h.expires > ? AND h.end > ? AND h.start < ?",
        STORE_TEXT(agency), STORE_INT(now), STORE_INT(from), STORE_INT(to));
    if (!s) return;
    while (sqlite3_step(s) == SQLITE_ROW)
        ivset_push(out, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1));
    store_done(s);
}

static void hold_agencies(store_t *st, store_hold_t *h)
{
    sqlite3_stmt *s = store_stmt(st,
        "SELECT agency FROM hold_agencies WHERE hold_id = ? ORDER BY rowid", STORE_INT(h->id));
    if (!s) return;
    while (sqlite3_step(s) == SQLITE_ROW)
        strvec_push(&h->agencies, store_col_text(s, 0));
    store_done(s);
}

/* Rows of (id, start, end, expires, created_by), at most
 * STORE_HOLDS_LIST_MAX, then each one's agencies. */
static void hold_rows(store_t *st, sqlite3_stmt *s, store_hold_t **out, size_t *n)
{
    store_hold_t *rows = NULL;
    size_t cap = 0;
    while (*n < STORE_HOLDS_LIST_MAX && sqlite3_step(s) == SQLITE_ROW) {
        rows = xgrow(rows, *n, &cap, sizeof *rows);
        store_hold_t *h = &rows[(*n)++];
        memset(h, 0, sizeof *h);
        h->id = sqlite3_column_int64(s, 0);
        h->start = sqlite3_column_int64(s, 1);
        h->end = sqlite3_column_int64(s, 2);
        h->expires = sqlite3_column_int64(s, 3);
        h->created_by = xstrdup(store_col_text(s, 4));
        strvec_init(&h->agencies);
    }
    store_done(s);
    for (size_t i = 0; i < *n; i++)              /* second query after the first ends */
        hold_agencies(st, &rows[i]);
    *out = rows;
}

bool store_holds_list(store_t *st, int64_t now, store_hold_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s = store_stmt(st,
        "SELECT id, start, end, expires, created_by FROM holds WHERE expires > ?"
        " ORDER BY start, id LIMIT 256", STORE_INT(now));
    if (!s) return false;
    hold_rows(st, s, out, n);
    return true;
}

bool store_hold_get(store_t *st, int64_t id, store_hold_t *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = store_stmt(st,
        "SELECT id, start, end, expires, created_by FROM holds WHERE id = ?", STORE_INT(id));
    if (!s) return false;
    store_hold_t *rows;
    size_t n = 0;
    hold_rows(st, s, &rows, &n);
    if (n == 0) {
        free(rows);
        return false;
    }
    *out = rows[0];
    for (size_t i = 1; i < n; i++)
        store_hold_free(&rows[i]);
    free(rows);
    return true;
}

void store_hold_free(store_hold_t *h)
{
    if (!h) return;
    free(h->created_by);
    strvec_free(&h->agencies);
    memset(h, 0, sizeof *h);
}

void store_holds_free(store_hold_t *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        store_hold_free(&rows[i]);
    free(rows);
}
