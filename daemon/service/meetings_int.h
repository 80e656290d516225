/* SPDX-License-Identifier: MIT */
/*
 * meetings_int.h - what the meetings module's files share: the module
 * context, the meeting row (store_meetings.h), and the helpers used by
 * booking (meetings.c), replies (meetings_reply.c) and follow-ups
 * (meetings_follow.c).  Internal to daemon/; the public API is
 * include/service/meetings.h.
 */
#ifndef TSUNAGU_MEETINGS_INT_H
#define TSUNAGU_MEETINGS_INT_H

#include <event2/event.h>
#include <jansson.h>

#include "city.h"
#include "mailer.h"
#include "meetings.h"
#include "store_meetings.h"


/* The module context: one per daemon (meetings_current()). */
struct meetings {
    tsunagud_t   *d;
    store_t      *st;
    mailer_t     *mailer;
    outbox_t     *ob;
    char         *organizer_email, *organizer_name;
    char         *secretariat_email;  /* where notices for people go: the
                                         協働 agency's mailbox, never the
                                         reply pipe */
    char         *public_url, *cases_dir;
    char         *secret;
    size_t        secret_len;
    int64_t       rsvp_ttl;
    int           monitor_interval;
    struct event *monitor_timer;
};

/* A meeting row and its attendees, as the store loads it
 * (store_meetings.h); mtg_att_ps reads an attendee's answer. */
typedef store_meeting_att_t mtg_att_t;
typedef store_meeting_t     mtg_t;

/* rows */
bool  mtg_load(meetings_t *m, int64_t id, mtg_t *g);
bool  mtg_load_uid(meetings_t *m, const char *uid, mtg_t *g);
void  mtg_free(mtg_t *g);
const mtg_att_t *mtg_attendee(const mtg_t *g, const char *agency);
void  mtg_required_ids(const mtg_t *g, strvec_t *out);
/* The attendee's answer; NEEDS-ACTION when the stored text is unknown. */
imip_partstat_t mtg_att_ps(const mtg_att_t *a);

/* results */
void mtg_res_error(meetings_res_t *res, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void mtg_res_ok(meetings_res_t *res, int status, json_t *body);

/* text and time */
void        mtg_refresh_organizer(meetings_t *m);
const tz_t *mtg_city_tz(const city_t *city);
char       *mtg_ja_range(const city_t *city, int64_t s, int64_t e);

/* slots and mail */
/* [start, end) is busy for `agencies` alone: the time decliners said they
 * cannot attend, while `except` frees the meeting for everyone else. */
typedef struct mtg_block {
    const strvec_t *agencies;
    int64_t         start, end;
} mtg_block_t;
json_t *mtg_suggestions(meetings_t *m, const city_t *city, const strvec_t *ids,
                        int minutes, int64_t from, int64_t except,
                        const mtg_block_t *block, int limit);
/* A plain-text mail into the outbox; false when it cannot be built or
 * stored (logged). */
bool    mtg_enqueue_text(meetings_t *m, int64_t meeting_id, const char *kind,
                         const char *to, const char *subject, const char *body,
                         const char *seed);

/* The meeting's history (meetings_view.c), inside the caller's
 * transaction: one audit row about g; times (may be NULL): the 要再調整
 * suggestions mailed, [[start, end], ...] epoch seconds, stored with the
 * row.  mtg_audit_change writes the booked / rescheduled / cancelled row
 * with g's SEQUENCE and time. */
bool mtg_audit(meetings_t *m, const mtg_t *g, const char *action, const char *agency,
               const char *actor, const char *detail, const json_t *times);
bool mtg_audit_change(meetings_t *m, const city_t *city, const mtg_t *g, const char *action,
                      const char *actor);

/* The case behind a meeting (hook, registry, CASES_DIR); false when
 * unknown.  Free with meeting_case_free either way. */
bool    mtg_lookup_case(meetings_t *m, const char *case_id, meeting_case_t *out);
/* METHOD:CANCEL to attendee i only (consent withdrawn for it); false as
 * mtg_enqueue_text. */
bool    mtg_enqueue_cancel_to(meetings_t *m, const mtg_t *g, const city_t *city, size_t i);
/* the follow-up timer (meetings_follow.c) */
void mtg_on_monitor_timer(evutil_socket_t fd, short what, void *arg);

#endif
