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

bool store_attendee_answer(store_t *st, int64_t meeting_id, const char *agency,
                           const char *partstat, int64_t when, const char *replied_by)
{
    return store_run(store_stmt(st,
        "UPDATE meeting_attendees SET partstat = ?, replied_at = ?, replied_by = ?"
        " WHERE meeting_id = ? AND agency = ?",
        STORE_TEXT(partstat), STORE_INT(when), STORE_TEXT(replied_by), STORE_INT(meeting_id),
        STORE_TEXT(agency)));
}

bool store_outbox_exists(store_t *st, int64_t id)
{
    return store_exists(store_stmt(st, "SELECT 1 FROM outbox WHERE id = ?", STORE_INT(id)));
}

int64_t store_outbox_by_message_id(store_t *st, const char *message_id)
{
    if (!message_id || !*message_id) return 0;
    char *mid = message_id[0] == '<' ? xstrdup(message_id) : xasprintf("<%s>", message_id);
    int64_t id = store_int(store_stmt(st, "SELECT id FROM outbox WHERE message_id = ?",
                                      STORE_TEXT(mid)), 0);
    free(mid);
    return id;
}

bool store_outbox_bounce(store_t *st, int64_t id, const char *reason, int64_t when)
{
    sqlite3_stmt *s = store_stmt(st,
        "UPDATE outbox SET state = 'bounced', bounced_at = ?, bounce_reason = ?,"
        " last_error = ? WHERE id = ?",
        STORE_INT(when), STORE_TEXT(reason), STORE_TEXT(reason), STORE_INT(id));
    if (!s) return false;
    if (!store_run(s)) {
        log_error("outbox: cannot mark %lld bounced: %s", (long long)id, store_errmsg(st));
        return false;
    }
    return sqlite3_changes(store_db(st)) == 1;
}

bool store_outbox_set_config_error(store_t *st, int64_t id, bool on)
{
    return store_run(store_stmt(st, "UPDATE outbox SET config_error = ? WHERE id = ?",
                                STORE_INT(on), STORE_INT(id)));
}

int store_outbox_config_errors(store_t *st)
{
    return (int)store_int(store_prepare(st,
        "SELECT COUNT(*) FROM outbox WHERE config_error = 1 AND state IN ('pending', 'sending')"),
        -1);
}

static json_t *int_or_null(sqlite3_stmt *s, int col)
{
    return sqlite3_column_type(s, col) == SQLITE_NULL ? json_null()
                                                      : json_integer(sqlite3_column_int64(s, col));
}

json_t *store_outbox_meeting(store_t *st, int64_t meeting_id)
{
    json_t *arr = json_array();
    sqlite3_stmt *s = store_stmt(st,
        "SELECT id, kind, rcpt, state, attempts, created, next_attempt, last_attempt, sent_at,"
        " last_error, bounced_at, bounce_reason, config_error"
        " FROM outbox WHERE meeting_id = ? ORDER BY id", STORE_INT(meeting_id));
    if (!s) return arr;
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
