/* SPDX-License-Identifier: MIT */
/*
 * outbox.h - the durable mail outbox (SQLite table `outbox`, migration 5).
 *
 * Every outgoing mail is stored BEFORE any attempt to send it, normally in
 * the same transaction as the meeting change that caused it, so a crash
 * can never lose a mail nor leave a meeting change without its mail.
 *
 * States: pending -> sending -> handed -> sent (-> bounced when a delivery
 * status notification reports failure, meetings_apply_reply), or back to pending with exponential
 * backoff (OUTBOX_RETRY_SECONDS doubling, capped at OUTBOX_RETRY_MAX)
 * until the message is older than OUTBOX_MAX_AGE (48 h), then dead.  A
 * permanent SMTP failure (5xx) is dead at once.  A failure on our own
 * configuration (MAIL_CONFIG: EHLO/HELO, TLS or AUTH refused) sets the
 * row's config_error flag: it is retried with backoff and never
 * dead-lettered, not even for age, until the configuration is fixed.  Dead mail is logged and
 * listed by GET /v1/outbox.
 *
 * Exactly-once, and what happens after SIGKILL.  Each transition is its
 * own committed statement:
 *   pending -> sending   before the transport is called;
 *   sending -> handed    at the point of no return (mailer_handed_cb): the
 *                        whole message is with the server, only its final
 *                        reply is outstanding (SMTP: just before "." is
 *                        written; a server cannot accept a message earlier);
 *   -> sent              right after the server's 250 to the end of DATA.
 * A row found after a restart in
 *   'sending' was never complete at the server, so it cannot have been
 *            accepted: it goes back to 'pending' and is sent again (no loss,
 *            no duplicate);
 *   'handed' may have been accepted.  maildir and file transports answer
 *            exactly (mailer_delivered).  SMTP cannot be asked, and the
 *            server had the complete message, so the row is marked 'sent'
 *            and NOT re-sent: a Message-ID the server may already have
 *            accepted is never sent again.  last_error records "受理確認前に
 *            停止" so the secretariat can see the one case where delivery
 *            was assumed rather than confirmed.  The window for that is
 *            the server's processing of the final "." (milliseconds).
 * The same holds while running: a transfer that handed the message over
 * but then timed out or lost the connection without a 4xx/5xx verdict
 * (MAIL_UNKNOWN) is marked 'sent' with that note, not retried.
 * A row in 'sent' is never handed to a transport again, and Message-ID is
 * UNIQUE, so re-queuing the same change cannot duplicate it.
 *
 * Time.  Timestamps come from tu_now().  When the clock is pinned
 * (TSUNAGU_NOW), real elapsed seconds since outbox_new are added, so
 * retries still come due in tests that freeze the calendar date.
 */
#ifndef TSUNAGU_OUTBOX_H
#define TSUNAGU_OUTBOX_H

#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "imip.h"
#include "mailer.h"
#include "store.h"

typedef struct outbox_config {
    int64_t retry_initial;   /* seconds; default 30 */
    int64_t retry_max;       /* seconds; default 3600 */
    int64_t max_age;         /* seconds; default 48 h */
    const char *bounce_address;  /* "local@domain": each message goes out
                                    with envelope sender local+<id>@domain
                                    (VERP), so a bounce names its row;
                                    NULL = the row's mail_from (copied) */
} outbox_config_t;

typedef struct outbox outbox_t;

outbox_t *outbox_new(store_t *st, mailer_t *mailer, struct event_base *base,
                     const outbox_config_t *cfg);
void      outbox_free(outbox_t *ob);

/* Store one built mail (inside the caller's transaction if one is open).
 * A Message-ID already in the outbox is not stored again (*duplicate set
 * when non-NULL; that is still success).  false on SQL error (logged). */
bool outbox_enqueue(store_t *st, const imip_mail_t *mail, int64_t meeting_id,
                    const char *kind, int64_t now, bool *duplicate);

/* Resolve rows left in 'sending' by a crash (see above).  Call once at
 * start-up, before the first kick.  Returns how many were in doubt. */
int  outbox_recover(outbox_t *ob);
/* Stop starting new sends (SIGTERM drain); the one in flight finishes. */
void outbox_pause(outbox_t *ob);
/* Look for due mail soon (from the loop, never re-entrantly). */
void outbox_kick(outbox_t *ob);
/* The outbox clock (tu_now(), advancing even when pinned). */
int64_t outbox_now(const outbox_t *ob);
/* Delay before attempt number `attempts` + 1 (exposed for tests). */
int64_t outbox_backoff(const outbox_config_t *cfg, int attempts);
/* The dead-letter note for a message older than max_age seconds, in
 * the unit the value was configured in: "48時間以内に送信できません
 * でした (...)".  Malloc'd (exposed for tests). */
char   *outbox_max_age_note(int64_t max_age);

/* {"counts": {...}, "messages": [...]}; state NULL = all (newest first,
 * at most limit rows).  No bodies. */
json_t *outbox_json(store_t *st, const char *state, int limit);
/* Optional: called when a send starts and when its outcome is recorded
 * (the daemon uses them as drain holds so SIGTERM waits for it). */
typedef void (*outbox_activity_fn)(void *arg, bool started);
void outbox_set_activity_hook(outbox_t *ob, outbox_activity_fn fn, void *arg);

/* Outbox of the running daemon (set by meetings_init), or NULL. */
outbox_t *outbox_current(void);
void      outbox_set_current(outbox_t *ob);

#endif
