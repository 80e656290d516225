/* SPDX-License-Identifier: MIT */
/*
 * store_outbox.h - the outbox table at rest (migration 5): insert, state
 * changes, the next due row, rows left mid-send by a crash, counts and the
 * list GET /v1/outbox shows; and, from migration 11 (mail_interop), a row
 * found by id or Message-ID, bounces (outbox.bounced_at, .bounce_reason,
 * state 'bounced' when an RFC 3464 report says delivery failed), the
 * configuration-error flag (outbox.config_error, 1 while the last attempt
 * failed on our own configuration: MAIL_CONFIG) and a meeting's rows.
 *
 * Prepared statements only, no rules: the queue's states, backoff and
 * crash-safety argument live in daemon/mail/outbox.c (include/mail/
 * outbox.h), which calls these.  Each write is one autocommit statement
 * unless the caller has a transaction open.
 */
#ifndef TSUNAGU_STORE_OUTBOX_H
#define TSUNAGU_STORE_OUTBOX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* A built mail to store (borrowed). */
typedef struct store_outbox_new {
    const char *message_id, *from, *rcpt, *subject, *kind;
    const char *body;
    size_t      len;
    int64_t     meeting_id;     /* <= 0: none (NULL) */
    int64_t     now;            /* created and first due */
} store_outbox_new_t;

/* Insert a pending row unless its Message-ID is already there (*inserted
 * says which).  false on SQL error. */
bool store_outbox_insert(store_t *st, const store_outbox_new_t *m, bool *inserted);

/* state, next_attempt and last_error (NULL clears it); sent_at = now
 * when state is 'sent'.  false on SQL error. */
bool store_outbox_set_state(store_t *st, int64_t id, const char *state, int64_t next_attempt,
                            const char *error, int64_t now);
/* pending -> sending, attempts + 1, last_attempt = now; false unless the
 * row was pending. */
bool store_outbox_mark_sending(store_t *st, int64_t id, int64_t now);
/* sending -> handed (false only on SQL error). */
bool store_outbox_mark_handed(store_t *st, int64_t id);
/* attempts of row id; 1 when unknown. */
int  store_outbox_attempts(store_t *st, int64_t id);

/* A row to send. */
typedef struct store_outbox_due {
    int64_t id, created;
    int     attempts;
    bool    config_error;
    char   *message_id, *from, *rcpt;
    char   *body;               /* NUL-terminated copy of len bytes */
    size_t  len;
} store_outbox_due_t;

/* The pending row due first at now (by next_attempt, then id); false when
 * none or on SQL error.  store_outbox_due_free it. */
bool store_outbox_next_due(store_t *st, int64_t now, store_outbox_due_t *out);
void store_outbox_due_free(store_outbox_due_t *m);
/* The earliest next_attempt of a pending row; false when there is none. */
bool store_outbox_earliest(store_t *st, int64_t *when);

/* A row left 'sending' or 'handed' by a stop. */
typedef struct store_outbox_doubt {
    int64_t id;
    char   *message_id;
    bool    handed;
} store_outbox_doubt_t;

/* Those rows by id: *out (malloc'd, *n rows, NULL when none) is for
 * store_outbox_doubts_free.  false on SQL error. */
bool store_outbox_in_doubt(store_t *st, store_outbox_doubt_t **out, size_t *n);
void store_outbox_doubts_free(store_outbox_doubt_t *rows, size_t n);

/* Rows in a state; -1 on SQL error. */
int     store_outbox_count(store_t *st, const char *state);
/* The newest rows (state NULL = all), at most limit (<= 0: 200), no
 * bodies, times as ISO 8601 in the default zone:
 * [{id, message_id, meeting_id, kind, rcpt, subject, state, attempts,
 * created, next_attempt, last_attempt, sent_at, last_error, bounced_at,
 * config_error}].  New reference. */
json_t *store_outbox_list(store_t *st, const char *state, int limit);

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
