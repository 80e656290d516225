/* SPDX-License-Identifier: MIT */
/*
 * store_audit.h - a case's audit trail (migration 8, table `audit`).
 *
 * One append-only row per thing that happened to a case because someone
 * acted: 本人's consent changed, an attendee was removed from a booked
 * meeting because 本人 excluded it, a meeting went to 要再調整 because
 * consent was withdrawn.  Each row names the actor and the time (tu_now()
 * of the caller) and carries a Japanese sentence for people.  Rows are
 * written inside the caller's transaction, so the trail and the change
 * commit or fail together; SQLite triggers refuse UPDATE and DELETE.
 */
#ifndef TSUNAGU_STORE_AUDIT_H
#define TSUNAGU_STORE_AUDIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "store.h"

typedef struct store_audit_row {
    const char *case_id;
    int64_t     meeting_id;   /* 0 = none */
    const char *agency;       /* may be NULL */
    const char *action;       /* consent-changed | attendee-removed | meeting-replan |
                                 meeting-booked | meeting-answered | meeting-declined |
                                 meeting-rescheduled | meeting-cancelled */
    const char *detail;       /* Japanese */
    const char *actor;
    int64_t     at;
    const char *suggestions;  /* meeting-declined: JSON [[start, end], ...] of
                                 the times mailed (migration 14); else NULL */
} store_audit_row_t;

/* Append one row.  false on SQL error. */
bool store_audit_add(store_t *st, const store_audit_row_t *row);

/* The case's rows, oldest first: [{id, meeting, agency, action, detail,
 * actor, at (epoch seconds)}] (new reference; empty array on error). */
json_t *store_audit_case(store_t *st, const char *case_id);

/* One meeting's rows, oldest first, in the same shape plus "suggestions"
 * (the stored JSON text, or null) (the meeting's history: booked,
 * answers, 要再調整, rescheduled, cancelled). */
json_t *store_audit_meeting(store_t *st, int64_t meeting_id);

#endif
