/* SPDX-License-Identifier: MIT */
/*
 * store_audit.c - the case audit trail (store_audit.h): prepared inserts
 * and one ordered read.  No logic: callers decide what to record.
 */
#include "store_audit.h"

bool store_audit_add(store_t *st, const store_audit_row_t *row)
{
    sqlite3_stmt *s = store_prepare(st, "INSERT INTO audit(case_id, meeting_id, agency, action,"
                                        " detail, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?)");
    if (!s)
        return false;
    store_bind_text(s, 1, row->case_id);
    if (row->meeting_id > 0)
        sqlite3_bind_int64(s, 2, row->meeting_id);
    store_bind_text(s, 3, row->agency);
    store_bind_text(s, 4, row->action);
    store_bind_text(s, 5, row->detail);
    store_bind_text(s, 6, row->actor);
    sqlite3_bind_int64(s, 7, row->at);
    bool ok = sqlite3_step(s) == SQLITE_DONE;
    store_done(s);
    return ok;
}

static json_t *audit_rows(sqlite3_stmt *s)
{
    json_t *arr = json_array();
    while (sqlite3_step(s) == SQLITE_ROW) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(sqlite3_column_int64(s, 0)));
        json_object_set_new(o, "meeting", sqlite3_column_type(s, 1) == SQLITE_NULL
                            ? json_null() : json_integer(sqlite3_column_int64(s, 1)));
        json_object_set_new(o, "agency", store_col_string(s, 2));
        json_object_set_new(o, "action", store_col_string(s, 3));
        json_object_set_new(o, "detail", store_col_string(s, 4));
        json_object_set_new(o, "actor", store_col_string(s, 5));
        json_object_set_new(o, "at", json_integer(sqlite3_column_int64(s, 6)));
        json_array_append_new(arr, o);
    }
    store_done(s);
    return arr;
}

json_t *store_audit_case(store_t *st, const char *case_id)
{
    sqlite3_stmt *s = store_prepare(st, "SELECT id, meeting_id, agency, action, detail, actor, at"
                                        " FROM audit WHERE case_id = ? ORDER BY id");
    if (!s)
        return json_array();
    store_bind_text(s, 1, case_id);
    return audit_rows(s);
}

json_t *store_audit_meeting(store_t *st, int64_t meeting_id)
{
    sqlite3_stmt *s = store_prepare(st, "SELECT id, meeting_id, agency, action, detail, actor, at"
                                        " FROM audit WHERE meeting_id = ? ORDER BY id");
    if (!s)
        return json_array();
    sqlite3_bind_int64(s, 1, meeting_id);
    return audit_rows(s);
}
