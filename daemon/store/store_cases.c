/* SPDX-License-Identifier: MIT */
/*
 * store_cases.c - the case registry's rows (store_cases.h).  Documents
 * are stored as compact JSON text and handed back parsed.
 */
#include "store_cases.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

bool store_case_load(store_t *st, const char *id, store_case_t *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = store_stmt(st, "SELECT doc, status, lead, supports, created, updated,"
                                     " closed_at FROM cases WHERE id = ?", STORE_TEXT(id));
    bool found = store_step_row(s);
    if (found) {
        out->doc = store_col_json(s, 0);
        out->status = xstrdup(store_col_text(s, 1));
        out->lead = xstrdup(store_col_text(s, 2));
        out->supports = store_col_json(s, 3);
        out->created = sqlite3_column_int64(s, 4);
        out->updated = sqlite3_column_int64(s, 5);
        out->closed_at = sqlite3_column_int64(s, 6);
    }
    store_done(s);
    return found;
}

void store_case_free(store_case_t *c)
{
    json_decref(c->doc);
    json_decref(c->supports);
    free(c->status);
    free(c->lead);
    memset(c, 0, sizeof *c);
}

bool store_case_exists(store_t *st, const char *id)
{
    return store_row_exists(st, "SELECT 1 FROM cases WHERE id = ?", id);
}

bool store_case_insert(store_t *st, const char *id, const json_t *doc, const char *actor,
                       int64_t now)
{
    return store_run(store_stmt(st, "INSERT INTO cases(id, doc, created, updated, created_by)"
                                    " VALUES (?, ?, ?, ?, ?)", STORE_TEXT(id), STORE_JSON(doc),
                                STORE_INT(now), STORE_INT(now), STORE_TEXT(actor)));
}

bool store_case_update_doc(store_t *st, const char *id, const json_t *doc, int64_t now)
{
    return store_run(store_stmt(st, "UPDATE cases SET doc = ?, updated = ? WHERE id = ?",
                                STORE_JSON(doc), STORE_INT(now), STORE_TEXT(id)));
}

bool store_case_close(store_t *st, const char *id, int64_t now)
{
    return store_run(store_stmt(st, "UPDATE cases SET status = 'closed', closed_at = ?,"
                                    " updated = ? WHERE id = ?",
                                STORE_INT(now), STORE_INT(now), STORE_TEXT(id)));
}

bool store_case_set_lead(store_t *st, const char *id, const char *lead, const json_t *supports,
                         int64_t now)
{
    return store_run(store_stmt(st, "UPDATE cases SET lead = ?, supports = ?, updated = ?"
                                    " WHERE id = ?", STORE_TEXT(lead), STORE_JSON(supports),
                                STORE_INT(now), STORE_TEXT(id)));
}

json_t *store_cases_list(store_t *st)
{
    sqlite3_stmt *s = store_prepare(st, "SELECT id, status, lead, json_extract(doc, '$.title')"
                                        " FROM cases ORDER BY created, id");
    if (!s)
        return NULL;
    json_t *arr = json_array();
    while (sqlite3_step(s) == SQLITE_ROW)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s?, s:s?}", "id", store_col_text(s, 0),
                              "status", store_col_text(s, 1), "lead", store_col_text(s, 2),
                              "title", store_col_text(s, 3)));
    store_done(s);
    return arr;
}
