/* SPDX-License-Identifier: MIT */
/*
 * store_meetings.h - meetings at rest (migration 5, replied_by from 11):
 * meetings(id, uid, case_id, type, start, end, location, online_url, note,
 * sequence, status, monitoring_date, lead, created, updated,
 * monitoring_reminded) and meeting_attendees(meeting_id, agency, email,
 * required, partstat, replied_at, replied_by).
 *
 * Prepared statements only, no rules: booking, replies, consent and
 * follow-ups (daemon/service/meetings*.c) decide what to write and call
 * these, inside their own transaction when one is open.  Rows come back
 * as structs whose strings the struct owns (store_meeting_free).
 * Attendees keep the order they were inserted in (rowid).
 */
#ifndef TSUNAGU_STORE_MEETINGS_H
#define TSUNAGU_STORE_MEETINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "interval.h"
#include "store.h"

/* One attendee row. */
typedef struct store_meeting_att {
    char    *agency, *email;
    bool     required;
    char    *partstat;      /* as stored: "NEEDS-ACTION", "ACCEPTED", ... */
    int64_t  replied_at;    /* 0 when not answered */
    char    *replied_by;    /* address the answer came from, or NULL */
} store_meeting_att_t;

/* One meeting row with its attendees. */
typedef struct store_meeting {
    int64_t              id, start, end, created, updated, reminded;
    int                  sequence;
    char                *uid, *case_id, *type, *location, *url, *note, *status;
    char                *monitoring_date, *lead;
    store_meeting_att_t *att;
    size_t               natt;
} store_meeting_t;

/* Meeting id with its attendees; false when unknown or on SQL error
 * (*out zeroed either way first).  store_meeting_free it. */
bool    store_meeting_get(store_t *st, int64_t id, store_meeting_t *out);
/* The id of the meeting with that UID, or 0. */
int64_t store_meeting_id_by_uid(store_t *st, const char *uid);
void    store_meeting_free(store_meeting_t *g);

/* A new meeting: sequence 0, status 'scheduled', created = updated = now.
 * Borrowed strings; NULL ones are stored as NULL. */
typedef struct store_meeting_new {
    const char *uid, *case_id, *type, *location, *url, *note, *monitoring_date, *lead;
    int64_t     start, end, now;
} store_meeting_new_t;

/* The new row's id, or -1 on SQL error. */
int64_t store_meeting_insert(store_t *st, const store_meeting_new_t *n);
/* Invite agency (partstat NEEDS-ACTION).  false on SQL error. */
bool    store_meeting_add_attendee(store_t *st, int64_t meeting_id, const char *agency,
                                   const char *email, bool required);
/* Delete one attendee row.  false on SQL error. */
bool    store_meeting_remove_attendee(store_t *st, int64_t meeting_id, const char *agency);

/* Set status (scheduled|replan|cancelled) and updated = now. */
bool    store_meeting_set_status(store_t *st, int64_t meeting_id, const char *status, int64_t now);
/* A change every attendee is mailed about: sequence + 1, status, times,
 * updated = now. */
bool    store_meeting_bump(store_t *st, int64_t meeting_id, const char *status, int64_t start,
                           int64_t end, int64_t now);
/* Every attendee back to NEEDS-ACTION, answers forgotten. */
bool    store_meeting_reset_answers(store_t *st, int64_t meeting_id);
/* Record an answer: partstat (e.g. "ACCEPTED"), when, and from whom
 * (replied_by may be NULL: an RSVP link; otherwise the role mailbox or a
 * reply_from member's address).  false on SQL error. */
bool    store_attendee_answer(store_t *st, int64_t meeting_id, const char *agency,
                              const char *partstat, int64_t when, const char *replied_by);
/* New location and/or online URL; NULL keeps the stored one. */
bool    store_meeting_set_place(store_t *st, int64_t meeting_id, const char *location,
                                const char *url);
/* Set monitoring_reminded = now unless already set. */
bool    store_meeting_mark_reminded(store_t *st, int64_t meeting_id, int64_t now);

/* Ids of the case's meetings that are not cancelled and end after
 * `after`, by start (malloc'd, *n set; NULL with *n = 0 when none). */
int64_t *store_meetings_ahead(store_t *st, const char *case_id, int64_t after, size_t *n);
/* Is another meeting of the case than `except`, not cancelled, starting
 * after `after`, booked? */
bool     store_meeting_later_exists(store_t *st, const char *case_id, int64_t except,
                                    int64_t after);
/* Ids (by id) of meetings not cancelled with a monitoring date and no
 * reminder yet; as store_meetings_ahead. */
int64_t *store_meetings_monitoring(store_t *st, size_t *n);
/* Ids of meetings matching every non-NULL filter (case, attendee agency,
 * status), by start, at most 500; as store_meetings_ahead. */
int64_t *store_meetings_find(store_t *st, const char *case_id, const char *agency,
                             const char *status, size_t *n);

/* Append [start, end) of every meeting agency attends (not cancelled, its
 * answer not DECLINED) overlapping [from, to), other than meeting
 * `except`, to out, then normalize out. */
void     store_meetings_agency_busy(store_t *st, const char *agency, int64_t from, int64_t to,
                                    int64_t except, ivset_t *out);

/* A meeting as an agency's calendar feed shows it. */
typedef struct store_meeting_entry {
    char    *uid, *case_id, *type, *status;
    int64_t  start, end, updated;
    int      sequence;
} store_meeting_entry_t;

/* The meetings agency is invited to, by start, at most 1000: *out
 * (malloc'd, *n rows; NULL when none) is for store_meeting_entries_free.
 * false on SQL error. */
bool store_meetings_of_agency(store_t *st, const char *agency, store_meeting_entry_t **out,
                              size_t *n);
void store_meeting_entries_free(store_meeting_entry_t *rows, size_t n);

/* Did agency decline meeting_id?  Then true with the meeting's time in
 * *start, *end (the time it said it cannot attend). */
bool store_meeting_declined_span(store_t *st, int64_t meeting_id, const char *agency,
                                 int64_t *start, int64_t *end);

#endif
