/* SPDX-License-Identifier: MIT */
/*
 * store_meetings.c - the meeting rows the consent re-check touches
 * (store_meetings.h).  Plain prepared statements, no logic.
 */
#include "store_meetings.h"

#include "util.h"

int64_t *store_meetings_ahead(store_t *st, const char *case_id, int64_t after, size_t *n)
{
    *n = 0;
    sqlite3_stmt *s = store_prepare(st, "SELECT id FROM meetings WHERE case_id = ? AND end > ?"
                                        " AND status <> 'cancelled' ORDER BY start, id");
    if (!s)
        return NULL;
    store_bind_text(s, 1, case_id);
    sqlite3_bind_int64(s, 2, after);
    int64_t *ids = NULL;
    while (sqlite3_step(s) == SQLITE_ROW) {
        ids = xrealloc(ids, (*n + 1) * sizeof *ids);
        ids[(*n)++] = sqlite3_column_int64(s, 0);
    }
    store_done(s);
    return ids;
}

bool store_meeting_remove_attendee(store_t *st, int64_t meeting_id, const char *agency)
{
    sqlite3_stmt *s = store_prepare(st, "DELETE FROM meeting_attendees WHERE meeting_id = ?"
                                        " AND agency = ?");
    if (!s)
        return false;
    sqlite3_bind_int64(s, 1, meeting_id);
    store_bind_text(s, 2, agency);
    bool ok = sqlite3_step(s) == SQLITE_DONE;
    store_done(s);
    return ok;
}

bool store_meeting_set_status(store_t *st, int64_t meeting_id, const char *status, int64_t now)
{
    sqlite3_stmt *s = store_prepare(st, "UPDATE meetings SET status = ?, updated = ? WHERE id = ?");
    if (!s)
        return false;
    store_bind_text(s, 1, status);
    sqlite3_bind_int64(s, 2, now);
    sqlite3_bind_int64(s, 3, meeting_id);
    bool ok = sqlite3_step(s) == SQLITE_DONE;
    store_done(s);
    return ok;
}

bool store_meeting_declined_span(store_t *st, int64_t meeting_id, const char *agency,
                                 int64_t *start, int64_t *end)
{
    sqlite3_stmt *s = store_prepare(st, "SELECT m.start, m.end FROM meetings m JOIN meeting_attendees a"
                                        " ON a.meeting_id = m.id WHERE m.id = ? AND a.agency = ?"
                                        " AND a.partstat = 'DECLINED'");
    if (!s)
        return false;
    sqlite3_bind_int64(s, 1, meeting_id);
    store_bind_text(s, 2, agency);
    bool found = sqlite3_step(s) == SQLITE_ROW;
    if (found) {
        *start = sqlite3_column_int64(s, 0);
        *end = sqlite3_column_int64(s, 1);
    }
    store_done(s);
    return found;
}
