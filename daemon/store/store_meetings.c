/* SPDX-License-Identifier: MIT */
/*
 * store_meetings.c - the meetings and meeting_attendees tables
 * (store_meetings.h).  Plain prepared statements, no logic: a read fills
 * a struct that owns its strings, a write binds its arguments
 * (store_stmt) and runs once (store_run).  Lists of ids come back through store_col_ids.
 */
#include "store_meetings.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ---------------------------------------------------------------- rows */

/* The text columns first, in the order of meeting_texts, then the numbers. */
#define MEETING_COLS "uid, case_id, type, location, online_url, note, status, monitoring_date," \
                     " lead, id, start, end, created, updated, monitoring_reminded, sequence"
#define MEETING_NTEXT 9

/* The row's owned strings, in MEETING_COLS order. */
static void meeting_texts(store_meeting_t *g, char **out[MEETING_NTEXT])
{
    char **t[MEETING_NTEXT] = {&g->uid, &g->case_id, &g->type, &g->location, &g->url, &g->note,
                               &g->status, &g->monitoring_date, &g->lead};
    memcpy(out, t, sizeof t);
}

static void meeting_from_row(sqlite3_stmt *s, store_meeting_t *g)
{
    char **text[MEETING_NTEXT];
    meeting_texts(g, text);
    for (int c = 0; c < MEETING_NTEXT; c++)
        *text[c] = xstrdup(store_col_text(s, c));
    int64_t *num[] = {&g->id, &g->start, &g->end, &g->created, &g->updated, &g->reminded};
    for (int c = 0; c < 6; c++)
        *num[c] = sqlite3_column_int64(s, MEETING_NTEXT + c);
    g->sequence = sqlite3_column_int(s, MEETING_NTEXT + 6);
}

static void load_attendees(store_t *st, store_meeting_t *g)
{
    sqlite3_stmt *s = store_stmt(st,
        "SELECT agency, email, required, partstat, replied_at, replied_by FROM meeting_attendees"
        " WHERE meeting_id = ? ORDER BY rowid", STORE_INT(g->id));
    if (!s)
        return;
    while (sqlite3_step(s) == SQLITE_ROW) {
        g->att = xrealloc(g->att, (g->natt + 1) * sizeof *g->att);
        store_meeting_att_t *a = &g->att[g->natt++];
        a->agency = xstrdup(store_col_text(s, 0));
        a->email = xstrdup(store_col_text(s, 1));
        a->required = sqlite3_column_int(s, 2) != 0;
        a->partstat = xstrdup(store_col_text(s, 3));
        a->replied_at = sqlite3_column_int64(s, 4);
        a->replied_by = xstrdup(store_col_text(s, 5));
    }
    store_done(s);
}

bool store_meeting_get(store_t *st, int64_t id, store_meeting_t *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = store_stmt(st, "SELECT " MEETING_COLS " FROM meetings WHERE id = ?",
                                 STORE_INT(id));
    bool found = store_step_row(s);
    if (found)
        meeting_from_row(s, out);
    store_done(s);
    if (found)
        load_attendees(st, out);
    return found;
}

int64_t store_meeting_id_by_uid(store_t *st, const char *uid)
{
    return store_int(store_stmt(st, "SELECT id FROM meetings WHERE uid = ?", STORE_TEXT(uid)), 0);
}

void store_meeting_free(store_meeting_t *g)
{
    char **text[MEETING_NTEXT];
    meeting_texts(g, text);
    for (int c = 0; c < MEETING_NTEXT; c++)
        free(*text[c]);
    for (size_t i = 0; i < g->natt; i++) {
        free(g->att[i].agency);
        free(g->att[i].email);
        free(g->att[i].partstat);
        free(g->att[i].replied_by);
    }
    free(g->att);
    memset(g, 0, sizeof *g);
}

/* -------------------------------------------------------------- writes */

int64_t store_meeting_insert(store_t *st, const store_meeting_new_t *n)
{
    sqlite3_stmt *s = store_stmt(st,
        "INSERT INTO meetings (uid, case_id, type, start, end, location, online_url, note,"
        " sequence, status, monitoring_date, lead, created, updated)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 'scheduled', ?, ?, ?, ?)",
        STORE_TEXT(n->uid), STORE_TEXT(n->case_id), STORE_TEXT(n->type), STORE_INT(n->start),
        STORE_INT(n->end), STORE_TEXT(n->location), STORE_TEXT(n->url), STORE_TEXT(n->note),
        STORE_TEXT(n->monitoring_date), STORE_TEXT(n->lead), STORE_INT(n->now),
        STORE_INT(n->now));
    return store_run(s) ? sqlite3_last_insert_rowid(store_db(st)) : -1;
}

bool store_meeting_add_attendee(store_t *st, int64_t meeting_id, const char *agency,
                                const char *email, bool required)
{
    return store_run(store_stmt(st,
        "INSERT INTO meeting_attendees (meeting_id, agency, email, required) VALUES (?, ?, ?, ?)",
        STORE_INT(meeting_id), STORE_TEXT(agency), STORE_TEXT(email), STORE_INT(required)));
}

bool store_meeting_remove_attendee(store_t *st, int64_t meeting_id, const char *agency)
{
    return store_run(store_stmt(st, "DELETE FROM meeting_attendees WHERE meeting_id = ?"
                                    " AND agency = ?", STORE_INT(meeting_id), STORE_TEXT(agency)));
}

bool store_meeting_set_status(store_t *st, int64_t meeting_id, const char *status, int64_t now)
{
    return store_run(store_stmt(st, "UPDATE meetings SET status = ?, updated = ? WHERE id = ?",
                                STORE_TEXT(status), STORE_INT(now), STORE_INT(meeting_id)));
}

bool store_meeting_bump(store_t *st, int64_t meeting_id, const char *status, int64_t start,
                        int64_t end, int64_t now)
{
    return store_run(store_stmt(st,
        "UPDATE meetings SET sequence = sequence + 1, status = ?, start = ?, end = ?,"
        " updated = ? WHERE id = ?",
        STORE_TEXT(status), STORE_INT(start), STORE_INT(end), STORE_INT(now),
        STORE_INT(meeting_id)));
}

bool store_meeting_reset_answers(store_t *st, int64_t meeting_id)
{
    return store_run(store_stmt(st,
        "UPDATE meeting_attendees SET partstat = 'NEEDS-ACTION', replied_at = NULL, replied_by = NULL"
        " WHERE meeting_id = ?", STORE_INT(meeting_id)));
}

bool store_attendee_answer(store_t *st, int64_t meeting_id, const char *agency,
                           const char *partstat, int64_t when, const char *replied_by)
{
    return store_run(store_stmt(st,
        "UPDATE meeting_attendees SET partstat = ?, replied_at = ?, replied_by = ?"
        " WHERE meeting_id = ? AND agency = ?",
        STORE_TEXT(partstat), STORE_INT(when), STORE_TEXT(replied_by), STORE_INT(meeting_id),
        STORE_TEXT(agency)));
}

bool store_meeting_set_place(store_t *st, int64_t meeting_id, const char *location,
                             const char *url)
{
    return store_run(store_stmt(st,
        "UPDATE meetings SET location = COALESCE(?, location), online_url = COALESCE(?, online_url)"
        " WHERE id = ?", STORE_TEXT(location), STORE_TEXT(url), STORE_INT(meeting_id)));
}

bool store_meeting_mark_reminded(store_t *st, int64_t meeting_id, int64_t now)
{
    return store_run(store_stmt(st,
        "UPDATE meetings SET monitoring_reminded = ? WHERE id = ? AND monitoring_reminded IS NULL",
        STORE_INT(now), STORE_INT(meeting_id)));
}

/* --------------------------------------------------------------- lists */

int64_t *store_meetings_ahead(store_t *st, const char *case_id, int64_t after, size_t *n)
{
    return store_col_ids(store_stmt(st, "SELECT id FROM meetings WHERE case_id = ? AND end > ?"
                                        " AND status <> 'cancelled' ORDER BY start, id",
                                    STORE_TEXT(case_id), STORE_INT(after)), n);
}

bool store_meeting_later_exists(store_t *st, const char *case_id, int64_t except, int64_t after)
{
    return store_exists(store_stmt(st,
        "SELECT 1 FROM meetings WHERE case_id = ? AND id != ? AND status != 'cancelled'"
        " AND start > ? LIMIT 1", STORE_TEXT(case_id), STORE_INT(except), STORE_INT(after)));
}

int64_t *store_meetings_monitoring(store_t *st, size_t *n)
{
    return store_col_ids(store_prepare(st,
        "SELECT id FROM meetings WHERE monitoring_date IS NOT NULL"
        " AND monitoring_reminded IS NULL AND status != 'cancelled' ORDER BY id"), n);
}

int64_t *store_meetings_find(store_t *st, const char *case_id, const char *agency,
                             const char *status, size_t *n)
{
    return store_col_ids(store_stmt(st,
        "SELECT DISTINCT m.id FROM meetings m LEFT JOIN meeting_attendees a ON a.meeting_id = m.id"
        " WHERE (?1 IS NULL OR m.case_id = ?1) AND (?2 IS NULL OR a.agency = ?2)"
        " AND (?3 IS NULL OR m.status = ?3) ORDER BY m.start LIMIT 500",
        STORE_TEXT(case_id), STORE_TEXT(agency), STORE_TEXT(status)), n);
}

void store_meetings_agency_busy(store_t *st, const char *agency, int64_t from, int64_t to,
                                int64_t except, ivset_t *out)
{
    sqlite3_stmt *s = store_stmt(st,
        "SELECT m.start, m.end FROM meetings m JOIN meeting_attendees a ON a.meeting_id = m.id"
        " WHERE a.agency = ? AND m.status != 'cancelled' AND a.partstat != 'DECLINED'"
        " AND m.end > ? AND m.start < ? AND m.id != ?",
        STORE_TEXT(agency), STORE_INT(from), STORE_INT(to), STORE_INT(except));
    if (!s)
        return;
    while (sqlite3_step(s) == SQLITE_ROW)
        ivset_push(out, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1));
    store_done(s);
    ivset_normalize(out);
}

bool store_meetings_of_agency(store_t *st, const char *agency, store_meeting_entry_t **out,
                              size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s = store_stmt(st,
        "SELECT m.uid, m.case_id, m.type, m.start, m.end, m.sequence, m.status, m.updated"
        " FROM meetings m JOIN meeting_attendees a ON a.meeting_id = m.id"
        " WHERE a.agency = ? ORDER BY m.start LIMIT 1000", STORE_TEXT(agency));
    if (!s)
        return false;
    size_t cap = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        *out = xgrow(*out, *n, &cap, sizeof **out);
        store_meeting_entry_t *e = &(*out)[(*n)++];
        e->uid = xstrdup(store_col_text(s, 0));
        e->case_id = xstrdup(store_col_text(s, 1));
        e->type = xstrdup(store_col_text(s, 2));
        e->start = sqlite3_column_int64(s, 3);
        e->end = sqlite3_column_int64(s, 4);
        e->sequence = sqlite3_column_int(s, 5);
        e->status = xstrdup(store_col_text(s, 6));
        e->updated = sqlite3_column_int64(s, 7);
    }
    store_done(s);
    return true;
}

void store_meeting_entries_free(store_meeting_entry_t *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].uid);
        free(rows[i].case_id);
        free(rows[i].type);
        free(rows[i].status);
    }
    free(rows);
}

bool store_meeting_declined_span(store_t *st, int64_t meeting_id, const char *agency,
                                 int64_t *start, int64_t *end)
{
    sqlite3_stmt *s = store_stmt(st, "SELECT m.start, m.end FROM meetings m JOIN meeting_attendees a"
                                     " ON a.meeting_id = m.id WHERE m.id = ? AND a.agency = ?"
                                     " AND a.partstat = 'DECLINED'",
                                 STORE_INT(meeting_id), STORE_TEXT(agency));
    bool found = store_step_row(s);
    if (found) {
        *start = sqlite3_column_int64(s, 0);
        *end = sqlite3_column_int64(s, 1);
    }
    store_done(s);
    return found;
}
