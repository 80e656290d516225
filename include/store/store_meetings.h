/* SPDX-License-Identifier: MIT */
/*
 * store_meetings.h - meeting rows as the consent re-check needs them
 * (daemon/service/meetings_consent.c): which booked meetings of a case are
 * still ahead, removing one attendee, and changing a meeting's status.
 * Prepared statements only; every call runs inside the caller's
 * transaction when one is open.  The older booking/reply SQL still lives
 * in daemon/service/meetings*.c.
 */
#ifndef TSUNAGU_STORE_MEETINGS_H
#define TSUNAGU_STORE_MEETINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Ids of the case's meetings that are not cancelled and end after
 * `after`, by start (malloc'd, *n set; NULL with *n = 0 when none). */
int64_t *store_meetings_ahead(store_t *st, const char *case_id, int64_t after, size_t *n);

/* Delete one attendee row.  false on SQL error. */
bool store_meeting_remove_attendee(store_t *st, int64_t meeting_id, const char *agency);

/* Set status (scheduled|replan|cancelled) and updated = now. */
bool store_meeting_set_status(store_t *st, int64_t meeting_id, const char *status, int64_t now);

/* Did agency decline meeting_id?  Then true with the meeting's time in
 * *start, *end (the time it said it cannot attend). */
bool store_meeting_declined_span(store_t *st, int64_t meeting_id, const char *agency,
                                 int64_t *start, int64_t *end);

#endif
