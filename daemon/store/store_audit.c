/* SPDX-License-Identifier: MIT */
/*
 * store_audit.c - the case audit trail (store_audit.h): prepared inserts
 * and one ordered read.  No logic: callers decide what to record.
 */
#include "store_audit.h"

bool store_audit_add(store_t *st, const store_audit_row_t *row)
{
    return store_run(store_stmt(st, "INSERT INTO audit(case_id, meeting_id, agency, action,"
                                    " detail, actor, at, suggestions)"
                                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                STORE_TEXT(row->case_id),
                                row->meeting_id > 0 ? STORE_INT(row->meeting_id) : STORE_NULL,
                                STORE_TEXT(row->agency), STORE_TEXT(row->action),
                                STORE_TEXT(row->detail), STORE_TEXT(row->actor),
                                STORE_INT(row->at), STORE_TEXT(row->suggestions)));
}

/* kinds: "iissssi", or "iissssis" with the suggestions column */
static json_t *audit_rows(sqlite3_stmt *s, const char *kinds)
{
    static const char *const names[] = {"id", "meeting", "agency", "action", "detail", "actor",
                                        "at", "suggestions"};
    json_t *arr = store_rows_json(s, kinds, names);
    return arr ? arr : json_array();
}

json_t *store_audit_case(store_t *st, const char *case_id)
{
    return audit_rows(store_stmt(st, "SELECT id, meeting_id, agency, action, detail, actor, at"
                                     " FROM audit WHERE case_id = ? ORDER BY id",
                                 STORE_TEXT(case_id)), "iissssi");
}

json_t *store_audit_meeting(store_t *st, int64_t meeting_id)
{
    return audit_rows(store_stmt(st, "SELECT id, meeting_id, agency, action, detail, actor, at,"
                                     " suggestions FROM audit WHERE meeting_id = ? ORDER BY id",
                                 STORE_INT(meeting_id)), "iissssis");
}
