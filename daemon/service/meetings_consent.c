/* SPDX-License-Identifier: MIT */
/*
 * meetings_consent.c - what a change of 本人's consent does to meetings
 * already booked (DESIGN "Meetings and consent").
 *
 * The case update (PUT /v1/cases/{id}) calls meetings_case_updated()
 * inside its own transaction, so the new case document, every meeting
 * change, the mail and the audit rows commit or fail together.  For each
 * meeting of the case that is not cancelled and not over:
 *   - 支援会議 is statutory: nothing changes (an excluded member may stay;
 *     booking warned about it);
 *   - every other type is consent-based.  An attendee 本人 now excludes is
 *     removed: its row goes, it is queued a METHOD:CANCEL for its copy
 *     that gives no reason, and from then on its links answer 410 and the
 *     meeting leaves its list and meetings.ics;
 *   - when 本人's consent is withdrawn entirely, the meeting goes to
 *     要再調整 and the secretariat is mailed why and that a 支援会議 may be
 *     the way forward.
 * Every change is an audit row (store_audit.h) with the actor and time.
 *
 * Reads hold the same rule on their own (meetings_shared_with): an
 * agency's list, meetings.ics, GET /v1/meetings/{id}, its RSVP links and
 * its REPLY mail all ask whether 本人 (as the case says now) shares a
 * consent-based meeting with that agency, so even a row that somehow
 * survived (a case file edited under CASES_DIR) shows nothing.  An
 * unknown case shares nothing.
 * SQL is in daemon/store (store_meetings.c, store_audit.c); mail goes
 * through the outbox like every other meeting mail.
 */
#include "meetings_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_audit.h"
#include "store_meetings.h"
#include "timeutil.h"
#include "util.h"

typedef struct recheck {
    meetings_t   *m;
    const city_t *city;
    const case_t *kase;
    const char   *actor;
    int64_t       now;
} recheck_t;

static bool audit(const recheck_t *rc, int64_t meeting, const char *agency, const char *action,
                  const char *detail)
{
    store_audit_row_t row = { rc->kase->id, meeting, agency, action, detail, rc->actor, rc->now,
                              NULL };
    return store_audit_add(rc->m->st, &row);
}

/* Attendee i of g is excluded now: CANCEL to it, row removed, audited. */
static bool remove_attendee(const recheck_t *rc, const mtg_t *g, size_t i)
{
    const char *id = g->att[i].agency;
    char *when = mtg_ja_range(rc->city, g->start, g->end);
    char *detail = xasprintf("本人の同意により「%s」を%s（%s、会議 %lld）の出席者から外し、"
                             "取り消しの案内を送りました", city_agency_name(rc->city, id), g->type,
                             when, (long long)g->id);
    bool ok = mtg_enqueue_cancel_to(rc->m, g, rc->city, i) &&
              store_meeting_remove_attendee(rc->m->st, g->id, id) &&
              audit(rc, g->id, id, "attendee-removed", detail);
    if (ok)
        log_info("meetings: meeting %lld: %s removed (本人's consent)", (long long)g->id, id);
    free(detail);
    free(when);
    return ok;
}

/* The notice to the secretariat: why, and what to do instead. */
static bool mail_withdrawn(const recheck_t *rc, const mtg_t *g, const char *when)
{
    meetings_t *m = rc->m;
    char *body = xasprintf(
        "%s 御中\n\n事例 %s の%s（%s）について、本人の同意が取り消されました。\n"
        "同意に基づく会議としては開催できないため、この会議は「要再調整」になっています。\n\n"
        "情報共有が必要な場合は、本人の同意を要しない支援会議（社会福祉法106条の6、守秘義務あり）"
        "として、構成員の機関で予約し直すことをご検討ください。\n"
        "この会議を中止するには POST /v1/meetings/%lld/cancel をご利用ください。\n",
        m->organizer_name, g->case_id, g->type, when, (long long)g->id);
    char *subject = xasprintf("【要再調整】%s %s（本人の同意の取り消し）", g->case_id, g->type);
    char *seed = xasprintf("consent-withdrawn-%s-s%d-%lld", g->uid, g->sequence,
                           (long long)rc->now);
    bool ok = mtg_enqueue_text(m, g->id, "replan", m->organizer_email, subject, body, seed);
    free(body);
    free(subject);
    free(seed);
    return ok;
}

static bool to_replan(const recheck_t *rc, const mtg_t *g)
{
    char *when = mtg_ja_range(rc->city, g->start, g->end);
    char *detail = xasprintf("本人の同意が取り消されたため、%s（%s、会議 %lld）を要再調整にし、"
                             "事務局に支援会議の検討を案内しました", g->type, when, (long long)g->id);
    bool ok = store_meeting_set_status(rc->m->st, g->id, MEETING_STATUS_REPLAN, rc->now) &&
              mail_withdrawn(rc, g, when) &&
              audit(rc, g->id, NULL, "meeting-replan", detail);
    if (ok)
        log_info("meetings: meeting %lld -> 要再調整 (本人's consent withdrawn)", (long long)g->id);
    free(detail);
    free(when);
    return ok;
}

static bool recheck_one(const recheck_t *rc, int64_t id, json_t *changes)
{
    mtg_t g;
    if (!mtg_load(rc->m, id, &g))
        return false;
    bool ok = true;
    if (case_type_needs_consent(g.type)) {
        json_t *removed = json_array();
        for (size_t i = 0; ok && i < g.natt; i++)
            if (case_excludes(rc->kase, g.att[i].agency)) {
                ok = remove_attendee(rc, &g, i);
                json_array_append_new(removed, json_string(g.att[i].agency));
            }
        const case_member_t *self = case_self(rc->kase);
        bool replan = ok && (!self || !self->consent) &&
                      strcmp(g.status, MEETING_STATUS_REPLAN) != 0;
        if (replan)
            ok = to_replan(rc, &g);
        if (json_array_size(removed) || replan)
            json_array_append_new(changes, json_pack("{s:I, s:O, s:s}", "meeting", (json_int_t)id,
                                  "removed", removed, "status",
                                  replan ? MEETING_STATUS_REPLAN : g.status));
        json_decref(removed);
    }
    mtg_free(&g);
    return ok;
}

static char *consent_text(const case_t *c)
{
    const case_member_t *self = case_self(c);
    strbuf_t b;
    strbuf_init(&b);
    strbuf_printf(&b, "同意 %s、除外 [", self && self->consent ? "あり" : "なし");
    for (size_t i = 0; self && i < self->consent_excludes.n; i++)
        strbuf_printf(&b, "%s%s", i ? ", " : "", self->consent_excludes.v[i]);
    strbuf_puts(&b, "]");
    return b.s;
}

/* A consent-changed row when 本人's consent or exclusions differ. */
static bool audit_consent_change(const recheck_t *rc, const case_t *before)
{
    char *was = before ? consent_text(before) : xstrdup("（なし）");
    char *now = consent_text(rc->kase);
    bool ok = true;
    if (strcmp(was, now) != 0) {
        char *detail = xasprintf("本人の同意を変更しました: %s → %s", was, now);
        ok = audit(rc, 0, NULL, "consent-changed", detail);
        free(detail);
    }
    free(was);
    free(now);
    return ok;
}

bool meetings_case_updated(meetings_t *m, const case_t *before, const case_t *after,
                           const char *actor, json_t *changes)
{
    recheck_t rc = { m, tsunagud_city(m->d), after, actor, tu_now() };
    mtg_refresh_organizer(m);
    if (!audit_consent_change(&rc, before))
        return false;
    size_t n;
    int64_t *ids = store_meetings_ahead(m->st, after->id, rc.now, &n);
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++)
        ok = recheck_one(&rc, ids[i], changes);
    free(ids);
    return ok;
}

bool meetings_shared_with(meetings_t *m, const char *case_id, const char *type,
                          const char *agency)
{
    if (!case_type_needs_consent(type))
        return true;
    meeting_case_t mc;
    bool ok = mtg_lookup_case(m, case_id, &mc) && mc.has_case &&
              case_shares_with(&mc.kase, type, agency);
    meeting_case_free(&mc);
    return ok;
}

bool meetings_agency_sees(meetings_t *m, int64_t id, const char *agency)
{
    mtg_t g;
    if (!mtg_load(m, id, &g))
        return false;
    bool ok = mtg_attendee(&g, agency) && meetings_shared_with(m, g.case_id, g.type, agency);
    mtg_free(&g);
    return ok;
}
