/* SPDX-License-Identifier: MIT */
/*
 * store_mail.c - prepared SQL for mail interop (see store_mail.h): the
 * address an answer came from, and bounces recorded on outbox rows.
 * Every statement is prepared through store_prepare's cache.
 */
#include "store_mail.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

static int run_once(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    store_done(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

int store_attendee_answer(store_t *st, int64_t meeting_id, const char *agency,
                          const char *partstat, int64_t when, const char *replied_by)
{
    sqlite3_stmt *s = store_prepare(st,
        "UPDATE meeting_attendees SET partstat = ?, replied_at = ?, replied_by = ?"
        " WHERE meeting_id = ? AND agency = ?");
    if (!s) return -1;
    store_bind_text(s, 1, partstat);
    sqlite3_bind_int64(s, 2, when);
    store_bind_text(s, 3, replied_by);
    sqlite3_bind_int64(s, 4, meeting_id);
    store_bind_text(s, 5, agency);
    return run_once(s);
}

bool store_outbox_exists(store_t *st, int64_t id)
{
    sqlite3_stmt *s = store_prepare(st, "SELECT 1 FROM outbox WHERE id = ?");
    if (!s) return false;
    sqlite3_bind_int64(s, 1, id);
    bool found = sqlite3_step(s) == SQLITE_ROW;
    store_done(s);
    return found;
}

int64_t store_outbox_by_message_id(store_t *st, const char *message_id)
{
    if (!message_id || !*message_id) return 0;
    char *mid = message_id[0] == '<' ? xstrdup(message_id) : xasprintf("<%s>", message_id);
    sqlite3_stmt *s = store_prepare(st, "SELECT id FROM outbox WHERE message_id = ?");
    int64_t id = 0;
    if (s) {
        store_bind_text(s, 1, mid);
        if (sqlite3_step(s) == SQLITE_ROW) id = sqlite3_column_int64(s, 0);
        store_done(s);
    }
    free(mid);
    return id;
}

int store_outbox_bounce(store_t *st, int64_t id, const char *reason, int64_t when)
{
    sqlite3_stmt *s = store_prepare(st,
        "UPDATE outbox SET state = 'bounced', bounced_at = ?, bounce_reason = ?,"
        " last_error = ? WHERE id = ?");
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, when);
    store_bind_text(s, 2, reason);
    store_bind_text(s, 3, reason);
    sqlite3_bind_int64(s, 4, id);
    if (run_once(s) != 0) {
        log_error("outbox: cannot mark %lld bounced: %s", (long long)id, store_errmsg(st));
        return -1;
    }
    return sqlite3_changes(store_db(st)) == 1 ? 0 : -1;
}

int store_outbox_set_config_error(store_t *st, int64_t id, bool on)
{
    sqlite3_stmt *s = store_prepare(st, "UPDATE outbox SET config_error = ? WHERE id = ?");
    if (!s) return -1;
    sqlite3_bind_int(s, 1, on ? 1 : 0);
    sqlite3_bind_int64(s, 2, id);
    return run_once(s);
}

int store_outbox_config_errors(store_t *st)
{
    sqlite3_stmt *s = store_prepare(st,
        "SELECT COUNT(*) FROM outbox WHERE config_error = 1 AND state IN ('pending', 'sending')");
    if (!s) return -1;
    int n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
    store_done(s);
    return n;
}

static json_t *int_or_null(sqlite3_stmt *s, int col)
{
    return sqlite3_column_type(s, col) == SQLITE_NULL ? json_null()
                                                      : json_integer(sqlite3_column_int64(s, col));
}

json_t *store_outbox_meeting(store_t *st, int64_t meeting_id)
{
    json_t *arr = json_array();
    sqlite3_stmt *s = store_prepare(st,
        "SELECT id, kind, rcpt, state, attempts, created, next_attempt, last_attempt, sent_at,"
        " last_error, bounced_at, bounce_reason, config_error"
        " FROM outbox WHERE meeting_id = ? ORDER BY id");
    if (!s) return arr;
    sqlite3_bind_int64(s, 1, meeting_id);
    static const char *const names[] = { "id", "kind", "rcpt", "state", "attempts", "created",
        "next_attempt", "last_attempt", "sent_at", "last_error", "bounced_at", "bounce_reason",
        "config_error" };
    while (sqlite3_step(s) == SQLITE_ROW) {
        json_t *o = json_object();
        for (int c = 0; c < 13; c++)
            json_object_set_new(o, names[c], sqlite3_column_type(s, c) == SQLITE_TEXT
                                ? store_col_string(s, c) : int_or_null(s, c));
        json_array_append_new(arr, o);
    }
    store_done(s);
    return arr;
}
