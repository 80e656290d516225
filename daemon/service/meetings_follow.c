/* SPDX-License-Identifier: MIT */
/*
 * meetings_follow.c - after the meeting: monitoring reminders, the
 * per-agency meetings feed and the meetings list.
 *
 * Monitoring: a timer (MONITOR_INTERVAL, clock = tu_now()) looks for
 * meetings whose monitoring date has passed, that are not cancelled, not
 * yet reminded, and have no later meeting booked for their case.  The
 * reminder to the lead and the secretariat is queued in the same
 * transaction that sets monitoring_reminded, and its Message-ID derives
 * from the meeting UID, so it goes out once however often the timer runs
 * or the daemon restarts.
 *
 * The .ics feed and the list hold what the API may show; the feed carries
 * only the case id and the meeting type (imip_feed_calendar).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "meetings_int.h"
#include "timeutil.h"
#include "util.h"

/* ------------------------------------------------------------ monitoring */

static bool queue_reminder(meetings_t *m, const city_t *city, const mtg_t *g)
{
    const agency_t *lead = g->lead ? city_agency(city, g->lead) : NULL;
    char *subject = xasprintf("【モニタリング期限】%s", g->case_id);
    char *seed = xasprintf("monitor-%s", g->uid);
    char *body = xasprintf(
        "%s 御中\n\n事例 %s のモニタリング予定日（%s）を過ぎましたが、その後の会議が登録されていません。\n"
        "支援の状況をご確認のうえ、必要に応じて会議の開催をご検討ください。\n\n"
        "（このお知らせは一度だけ送信されます。事例の詳細は事務局にお問い合わせください。）\n",
        lead ? lead->name : "主担当機関", g->case_id, g->monitoring_date);
    if (store_begin(m->st) != 0) { free(subject); free(seed); free(body); return false; }
    bool ok = store_meeting_mark_reminded(m->st, g->id, tu_now());
    if (ok && lead && imip_valid_email(lead->email))
        ok = mtg_enqueue_text(m, g->id, "reminder", lead->email, subject, body, seed);
    if (ok && (!lead || strcasecmp(lead->email, m->secretariat_email) != 0))
        ok = mtg_enqueue_text(m, g->id, "reminder", m->secretariat_email, subject, body, seed);
    if (!ok || store_commit(m->st) != 0) {
        store_rollback(m->st);
        ok = false;
    }
    free(subject); free(seed); free(body);
    return ok;
}

int meetings_check_monitoring(meetings_t *m)
{
    const city_t *city = tsunagud_city(m->d);
    if (!city) return 0;
    mtg_refresh_organizer(m);
    int64_t today = tz_local_day(mtg_city_tz(city), tu_now(), NULL);
    size_t n;
    int64_t *ids = store_meetings_monitoring(m->st, &n);
    int queued = 0;
    for (size_t i = 0; i < n; i++) {
        mtg_t g;
        if (!mtg_load(m, ids[i], &g)) continue;
        int64_t day;
        if (parse_date(g.monitoring_date, &day) && day < today && !store_meeting_later_exists(m->st, g.case_id, g.id, g.start) &&
            queue_reminder(m, city, &g)) {
            log_info("meetings: monitoring reminder for case %s (meeting %lld, date %s)",
                     g.case_id, (long long)g.id, g.monitoring_date);
            queued++;
        }
        mtg_free(&g);
    }
    free(ids);
    if (queued) outbox_kick(m->ob);
    return queued;
}

void mtg_on_monitor_timer(evutil_socket_t fd, short what, void *arg)
{
    meetings_t *m = arg;
    if (!tsunagud_city_warming(m->d))     /* being built off the loop: the next tick */
        meetings_check_monitoring(m);
    struct timeval tv = { m->monitor_interval, 0 };
    evtimer_add(m->monitor_timer, &tv);
}

/* ------------------------------------------------------------ .ics feed */

char *meetings_agency_ics(meetings_t *m, const char *agency_id)
{
    const city_t *city = tsunagud_city(m->d);
    store_meeting_entry_t *rows;
    size_t nrows;
    if (!store_meetings_of_agency(m->st, agency_id, &rows, &nrows)) return NULL;
    imip_meeting_t *ms = xcalloc(nrows + 1, sizeof *ms);     /* borrow rows' strings */
    bool *cancelled = xcalloc(nrows + 1, sizeof *cancelled);
    size_t n = 0;
    for (size_t i = 0; i < nrows; i++) {
        const store_meeting_entry_t *e = &rows[i];
        if (!meetings_shared_with(m, e->case_id, e->type, agency_id))
            continue;                   /* 本人 does not share it with this agency */
        ms[n].uid = e->uid;
        ms[n].case_id = e->case_id;
        ms[n].meeting_type = e->type;
        ms[n].start = e->start;
        ms[n].end = e->end;
        ms[n].sequence = e->sequence;
        cancelled[n] = strcmp(e->status, MEETING_STATUS_CANCELLED) == 0;
        ms[n].dtstamp = e->updated;
        n++;
    }
    char *name = xasprintf("%s 会議", city_agency_name(city, agency_id));
    char *ics = imip_feed_calendar(ms, cancelled, n, name);
    store_meeting_entries_free(rows, nrows);
    free(ms);
    free(cancelled);
    free(name);
    return ics;
}

json_t *meetings_list_json(meetings_t *m, const char *case_id, const char *agency,
                           const char *status)
{
    json_t *arr = json_array();
    size_t n;
    int64_t *ids = store_meetings_find(m->st, case_id, agency, status, &n);
    for (size_t i = 0; i < n; i++) {
        if (agency && !meetings_agency_sees(m, ids[i], agency)) continue;
        json_t *j = meetings_get_json(m, ids[i]);
        if (j) json_array_append_new(arr, j);
    }
    free(ids);
    return json_pack("{s:o}", "meetings", arr);
}

