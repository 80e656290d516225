/* SPDX-License-Identifier: MIT */
/*
 * meetings.h - booked meetings: booking with a fresh availability check,
 * consent rules, iMIP invitations through the outbox, replies (signed
 * links and REPLY mail), re-planning after a decline, monitoring
 * reminders and per-agency .ics feeds.
 *
 * The module has one context per daemon (meetings_current()), created by
 * api_meetings_register() from the daemon's config:
 *   MAIL_TRANSPORT smtp|maildir|file (default smtp when SMTP_URL is set,
 *   else file), SMTP_URL, SMTP_USER, SMTP_PASSWORD, SMTP_STARTTLS
 *   (no|try|require), MAIL_PATH (maildir dir / file; default
 *   "<DATABASE>.mail"), SMTP_FROM (the
 *   organizer = secretariat address; default: the 協働 agency's mailbox),
 *   SECRETARIAT_NAME, PUBLIC_URL, LINK_SECRET, RSVP_TTL (seconds after
 *   the meeting's end a link stays valid, default 86400),
 *   OUTBOX_RETRY_SECONDS, OUTBOX_RETRY_MAX, OUTBOX_MAX_AGE (seconds),
 *   MONITOR_INTERVAL (seconds, default 60), CASES_DIR (fallback case
 *   documents <dir>/<id>.json when no case registry answers).
 *
 * Booked meetings are busy time: store_meetings_agency_busy() gives the slot
 * engine an agency's booked, not-declined, not-cancelled meetings.  The
 * booking check itself counts feeds, meetings and active holds; a request
 * may carry "hold": id to consume the caller's own hold atomically.
 */
#ifndef TSUNAGU_MEETINGS_H
#define TSUNAGU_MEETINGS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "case.h"
#include "daemon.h"
#include "imip.h"
#include "interval.h"
#include "outbox.h"
#include "store.h"

#define MEETING_STATUS_SCHEDULED "scheduled"   /* 予定 */
#define MEETING_STATUS_REPLAN    "replan"      /* 要再調整 */
#define MEETING_STATUS_CANCELLED "cancelled"   /* 中止 */

typedef struct meetings meetings_t;

/* What the booking needs to know about a case. */
typedef struct meeting_case {
    bool     has_case;
    bool     closed;          /* the registry says the case is closed */
    case_t   kase;            /* for consent (本人's consent_excludes) */
    bool     has_decision;    /* an approved/overridden lead decision */
    char    *lead;            /* approved lead agency id */
    strvec_t supports;        /* approved supporting agencies */
} meeting_case_t;

void meeting_case_free(meeting_case_t *c);

/* Where a case comes from, in order: the store's case registry (table
 * `cases`, migration 4: document + approved lead/supports), then
 * CASES_DIR/<id>.json (no decision; for demos and tests without the
 * registry). */

/* Result of an operation: HTTP status, error code + message on failure,
 * JSON body (new reference) on success or with extra error detail. */
typedef struct meetings_res {
    int     status;
    char    code[48];
    char    message[512];
    json_t *body;
} meetings_res_t;

meetings_t *meetings_new(tsunagud_t *d, char *err, size_t errlen);
void        meetings_free(meetings_t *m);
meetings_t *meetings_current(void);
outbox_t   *meetings_outbox(meetings_t *m);

/* POST /v1/meetings, /reschedule, /cancel.  actor: who, for the
 * meeting's history in the audit trail (api_actor). */
void meetings_create(meetings_t *m, const json_t *req, const char *actor, meetings_res_t *res);
void meetings_reschedule(meetings_t *m, int64_t id, const json_t *req, const char *actor,
                         meetings_res_t *res);
void meetings_cancel(meetings_t *m, int64_t id, const char *actor, meetings_res_t *res);
/* POST /v1/meetings/{id}/answer: agency answers on screen with partstat
 * "ACCEPTED" | "DECLINED" | "TENTATIVE", recorded like a mailed reply
 * (PARTSTAT, time, replied_by = who, audit row; a required decline puts
 * the meeting in 要再調整 and mails the secretariat suggestions).  404
 * when the agency is not invited or 本人's consent does not share the
 * meeting with it. */
void meetings_answer(meetings_t *m, int64_t id, const char *agency, const char *partstat,
                     const char *who, meetings_res_t *res);
/* A case was updated (PUT /v1/cases/{id}): call INSIDE the transaction
 * that writes the new document.  Records 本人's consent change in the
 * audit trail and re-checks the case's future consent-based meetings
 * (meetings_consent.c): excluded attendees are removed and sent a CANCEL,
 * a withdrawn consent puts the meeting in 要再調整 and tells the
 * secretariat.  Appends {meeting, removed[], status} per meeting changed
 * to `changes`.  false on a store error (roll back).  The caller kicks
 * the outbox after committing. */
bool meetings_case_updated(meetings_t *m, const case_t *before, const case_t *after,
                           const char *actor, json_t *changes);

/* The consent rule on reads: may `agency` learn of a meeting of type on
 * case_id (always under 支援会議; under every other type only when 本人
 * consented and did not exclude it; never when the case is unknown)?
 * meetings_agency_sees adds "and it is invited to meeting id". */
bool meetings_shared_with(meetings_t *m, const char *case_id, const char *type,
                          const char *agency);
bool meetings_agency_sees(meetings_t *m, int64_t id, const char *agency);

/* GET /v1/meetings/{id}: NULL if unknown. */
json_t *meetings_get_json(meetings_t *m, int64_t id);
/* The same for the 会議 screens (meetings_view.c); with staff also
 * "history" (the meeting's audit rows: booked, answers, 要再調整 with the
 * suggestions mailed, SEQUENCE changes), "delivery" (each outbox mail of
 * the meeting with its state and the reason in Japanese) and, while
 * 要再調整, "replan" {declined[], message, suggestions[{start, end,
 * text}]} (start and end null for a decline recorded before their times
 * were stored). */
json_t *meetings_detail_json(meetings_t *m, int64_t id, bool staff);
bool    meetings_has_attendee(meetings_t *m, int64_t id, const char *agency);
/* GET /v1/meetings: {"meetings": [...]} filtered by any of case, agency
 * (attendee, and only meetings 本人's consent shares with it) and status
 * (NULL = any), by start time. */
json_t *meetings_list_json(meetings_t *m, const char *case_id, const char *agency,
                           const char *status);

/* Signed RSVP links. */
char *meetings_rsvp_token(meetings_t *m, int64_t id, const char *agency,
                          imip_partstat_t ps, int sequence, int64_t expires);
/* GET/HEAD /v1/rsvp/{token}: check the link and record nothing; on
 * success res->body = {"page": confirmation html with a POST form, ...}. */
void meetings_rsvp_confirm(meetings_t *m, const char *token, meetings_res_t *res);
/* POST /v1/rsvp/{token}: check the link the same way and record its
 * answer; on success res->body = {"page": html, "replan": bool, ...}. */
void meetings_rsvp(meetings_t *m, const char *token, meetings_res_t *res);
/* POST /v1/imip: a raw REPLY message. */
void meetings_apply_reply(meetings_t *m, const char *raw, size_t len,
                          meetings_res_t *res);

/* Monitoring reminders due now (tu_now()); returns how many were queued. */
int  meetings_check_monitoring(meetings_t *m);

/* GET /v1/agencies/{id}/meetings.ics (malloc'd). */
char *meetings_agency_ics(meetings_t *m, const char *agency_id);

#endif
