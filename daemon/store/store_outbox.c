/* SPDX-License-Identifier: MIT */
/*
 * store_outbox.c - the outbox table's statements (store_outbox.h).  Plain
 * prepared statements, no logic: writes bind (store_stmt) and run once, reads copy a
 * row into a struct that owns its strings, and the list is built by
 * store_rows_json.  The queue itself is daemon/mail/outbox.c; bounces
 * (daemon/service/meetings_reply.c) and a meeting's delivery rows
 * (meetings_view.c) are read and written here too.
 */
#include "store_outbox.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

bool store_outbox_insert(store_t *st, const store_outbox_new_t *m, bool *inserted)
{
    sqlite3_stmt *s = store_stmt(st,
        "INSERT OR IGNORE INTO outbox (message_id, meeting_id, kind, mail_from, rcpt,"
        " subject, body, state, attempts, created, next_attempt)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)",
        STORE_TEXT(m->message_id), m->meeting_id > 0 ? STORE_INT(m->meeting_id) : STORE_NULL,
        STORE_TEXT(m->kind), STORE_TEXT(m->from), STORE_TEXT(m->rcpt), STORE_TEXT(m->subject),
        STORE_BLOB(m->body, m->len), STORE_INT(m->now), STORE_INT(m->now));
    bool ok = store_run(s);
    *inserted = ok && sqlite3_changes(store_db(st)) != 0;
    return ok;
}

bool store_outbox_set_state(store_t *st, int64_t id, const char *state, int64_t next_attempt,
                            const char *error, int64_t now)
{
    return store_run(store_stmt(st,
        "UPDATE outbox SET state = ?, next_attempt = ?, last_error = ?,"
        " sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE id = ?",
        STORE_TEXT(state), STORE_INT(next_attempt), STORE_TEXT(error), STORE_TEXT(state),
        STORE_INT(now), STORE_INT(id)));
}

bool store_outbox_mark_sending(store_t *st, int64_t id, int64_t now)
{
    return store_run_one(st, store_stmt(st,
        "UPDATE outbox SET state = 'sending', attempts = attempts + 1,"
        " last_attempt = ? WHERE id = ? AND state = 'pending'", STORE_INT(now), STORE_INT(id)));
}

bool store_outbox_mark_handed(store_t *st, int64_t id)
{
    return store_run(store_stmt(st,
        "UPDATE outbox SET state = 'handed' WHERE id = ? AND state = 'sending'", STORE_INT(id)));
}

int store_outbox_attempts(store_t *st, int64_t id)
{
    return (int)store_int(store_stmt(st, "SELECT attempts FROM outbox WHERE id = ?",
                                     STORE_INT(id)), 1);
}

bool store_outbox_next_due(store_t *st, int64_t now, store_outbox_due_t *m)
{
    memset(m, 0, sizeof *m);
    sqlite3_stmt *s = store_stmt(st,
        "SELECT id, created, attempts, message_id, mail_from, rcpt, body, config_error FROM outbox"
        " WHERE state = 'pending' AND next_attempt <= ? ORDER BY next_attempt, id LIMIT 1",
        STORE_INT(now));
    bool found = store_step_row(s);
    if (found) {
        m->id = sqlite3_column_int64(s, 0);
        m->created = sqlite3_column_int64(s, 1);
        m->attempts = sqlite3_column_int(s, 2);
        m->message_id = xstrdup(store_col_text(s, 3));
        m->from = xstrdup(store_col_text(s, 4));
        m->rcpt = xstrdup(store_col_text(s, 5));
        m->len = (size_t)sqlite3_column_bytes(s, 6);
        m->body = xmalloc(m->len + 1);
        memcpy(m->body, sqlite3_column_blob(s, 6), m->len);
        m->body[m->len] = '\0';
        m->config_error = sqlite3_column_int(s, 7) != 0;
    }
    store_done(s);
    return found;
}

void store_outbox_due_free(store_outbox_due_t *m)
{
    free(m->message_id);
    free(m->from);
    free(m->rcpt);
    free(m->body);
    memset(m, 0, sizeof *m);
}

bool store_outbox_earliest(store_t *st, int64_t *when)
{
    *when = store_int(store_prepare(st,
        "SELECT MIN(next_attempt) FROM outbox WHERE state = 'pending'"), INT64_MIN);
    return *when != INT64_MIN;
}

bool store_outbox_in_doubt(store_t *st, store_outbox_doubt_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s = store_prepare(st,
        "SELECT id, message_id, state FROM outbox WHERE state IN ('sending', 'handed') ORDER BY id");
    if (!s)
        return false;
    while (sqlite3_step(s) == SQLITE_ROW) {
        *out = xrealloc(*out, (*n + 1) * sizeof **out);
        store_outbox_doubt_t *r = &(*out)[(*n)++];
        r->id = sqlite3_column_int64(s, 0);
        r->message_id = xstrdup(store_col_text(s, 1));
        r->handed = strcmp(store_col_text(s, 2), "handed") == 0;
    }
    store_done(s);
    return true;
}

void store_outbox_doubts_free(store_outbox_doubt_t *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(rows[i].message_id);
    free(rows);
}

int store_outbox_count(store_t *st, const char *state)
{
    return (int)store_int(store_stmt(st, "SELECT COUNT(*) FROM outbox WHERE state = ?",
                                     STORE_TEXT(state)), -1);
}

json_t *store_outbox_list(store_t *st, const char *state, int limit)
{
    static const char *const names[] = {
        "id", "message_id", "meeting_id", "kind", "rcpt", "subject", "state", "attempts",
        "created", "next_attempt", "last_attempt", "sent_at", "last_error", "bounced_at",
        "config_error"};
    sqlite3_stmt *s = store_stmt(st,
        "SELECT id, message_id, meeting_id, kind, rcpt, subject, state, attempts,"
        " created, next_attempt, last_attempt, sent_at, last_error, bounced_at, config_error"
        " FROM outbox WHERE (?1 IS NULL OR state = ?1) ORDER BY id DESC LIMIT ?2",
        STORE_TEXT(state), STORE_INT(limit > 0 ? limit : 200));
    json_t *list = store_rows_json(s, "isissssittttstb", names);
    return list ? list : json_array();
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
