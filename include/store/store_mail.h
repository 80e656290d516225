/* SPDX-License-Identifier: MIT */
/*
 * store_mail.h - the SQL behind mail interop: who answered an invitation
 * (a distribution-list member answers for its agency's role mailbox), and
 * delivery status notifications (bounces) matched to outbox rows.
 *
 * Columns come from migration 11 (mail_interop):
 *   meeting_attendees.replied_by   the address the answer came from (the
 *                                  role mailbox, a reply_from member, or
 *                                  NULL for an RSVP link);
 *   outbox.bounced_at, .bounce_reason   set with state 'bounced' when an
 *                                  RFC 3464 report says delivery failed;
 *   outbox.config_error            1 while the last attempt failed on our
 *                                  own configuration (MAIL_CONFIG).
 */
#ifndef TSUNAGU_STORE_MAIL_H
#define TSUNAGU_STORE_MAIL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "store.h"

/* Record an answer: partstat (e.g. "ACCEPTED"), when, and from whom
 * (replied_by may be NULL).  false on SQL error. */
bool store_attendee_answer(store_t *st, int64_t meeting_id, const char *agency,
                           const char *partstat, int64_t when, const char *replied_by);

/* Does outbox row id exist?  And the row whose Message-ID is message_id
 * (with or without <>); 0 when none. */
bool    store_outbox_exists(store_t *st, int64_t id);
int64_t store_outbox_by_message_id(store_t *st, const char *message_id);

/* Mark outbox row id 'bounced' with the report's reason.  false on SQL
 * error (logged) or when there is no such row. */
bool store_outbox_bounce(store_t *st, int64_t id, const char *reason, int64_t when);

/* Set or clear outbox row id's configuration-error flag.  false on SQL
 * error. */
bool store_outbox_set_config_error(store_t *st, int64_t id, bool on);
/* Rows waiting on a configuration error (pending, flag set). */
int  store_outbox_config_errors(store_t *st);

/* Every outbox row of one meeting, oldest first, without bodies:
 * [{id, kind, rcpt, state, attempts, created, next_attempt, last_attempt,
 * sent_at, last_error, bounced_at, bounce_reason, config_error}], times
 * as epoch seconds (null when unset).  New reference; [] on error. */
json_t *store_outbox_meeting(store_t *st, int64_t meeting_id);

#endif
