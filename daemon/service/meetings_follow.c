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

static bool later_meeting_exists(meetings_t *m, const mtg_t *g)
{
    sqlite3_stmt *s = store_prepare(m->st,
        "SELECT 1 FROM meetings WHERE case_id = ? AND id != ? AND status != 'cancelled'"
        " AND start > ? LIMIT 1");
    if (!s) return false;
    store_bind_text(s, 1, g->case_id);
    sqlite3_bind_int64(s, 2, g->id);
    sqlite3_bind_int64(s, 3, g->start);
    bool yes = sqlite3_step(s) == SQLITE_ROW;
    store_done(s);
    return yes;
}

static int mark_reminded(meetings_t *m, int64_t id)
{
    sqlite3_stmt *s = store_prepare(m->st,
        "UPDATE meetings SET monitoring_reminded = ? WHERE id = ? AND monitoring_reminded IS NULL");
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, tu_now());
    sqlite3_bind_int64(s, 2, id);
    return mtg_run(s);
}

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
    bool ok = mark_reminded(m, g->id) == 0;
    if (ok && lead && imip_valid_email(lead->email))
        ok = mtg_enqueue_text(m, g->id, "reminder", lead->email, subject, body, seed) == 0;
    if (ok && (!lead || strcasecmp(lead->email, m->secretariat_email) != 0))
        ok = mtg_enqueue_text(m, g->id, "reminder", m->secretariat_email, subject, body, seed) == 0;
    if (!ok || store_commit(m->st) != 0) {
        store_rollback(m->st);
        ok = false;
    }
    free(subject); free(seed); free(body);
    return ok;
}

/* The int64 first column of every row of s (malloc'd, *n of them);
 * finishes s. */
static int64_t *collect_ids(sqlite3_stmt *s, size_t *n)
{
    int64_t *ids = NULL;
    *n = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        ids = xrealloc(ids, (*n + 1) * sizeof *ids);
        ids[(*n)++] = sqlite3_column_int64(s, 0);
    }
    store_done(s);
    return ids;
}

int meetings_check_monitoring(meetings_t *m)
{
    const city_t *city = tsunagud_city(m->d);
    if (!city) return 0;
    mtg_refresh_organizer(m);
    int64_t today = tz_local_day(mtg_city_tz(city), tu_now(), NULL);
    sqlite3_stmt *s = store_prepare(m->st,
        "SELECT id FROM meetings WHERE monitoring_date IS NOT NULL"
        " AND monitoring_reminded IS NULL AND status != 'cancelled' ORDER BY id");
    if (!s) return 0;
    size_t n;
    int64_t *ids = collect_ids(s, &n);
    int queued = 0;
    for (size_t i = 0; i < n; i++) {
        mtg_t g;
        if (!mtg_load(m, ids[i], &g)) continue;
        int64_t day;
        if (parse_date(g.monitoring_date, &day) && day < today && !later_meeting_exists(m, &g) &&
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
    sqlite3_stmt *s = store_prepare(m->st,
        "SELECT m.uid, m.case_id, m.type, m.start, m.end, m.sequence, m.status, m.updated"
        " FROM meetings m JOIN meeting_attendees a ON a.meeting_id = m.id"
        " WHERE a.agency = ? ORDER BY m.start LIMIT 1000");
    if (!s) return NULL;
    store_bind_text(s, 1, agency_id);
    imip_meeting_t *ms = NULL;
    bool *cancelled = NULL;
    strvec_t owned;                     /* the strings ms[] points into */
    strvec_init(&owned);
    size_t n = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (!meetings_shared_with(m, store_col_text(s, 1), store_col_text(s, 2), agency_id))
            continue;                   /* 本人 does not share it with this agency */
        ms = xrealloc(ms, (n + 1) * sizeof *ms);
        cancelled = xrealloc(cancelled, (n + 1) * sizeof *cancelled);
        memset(&ms[n], 0, sizeof *ms);
        for (int col = 0; col < 3; col++)
            strvec_push(&owned, store_col_text(s, col));
        ms[n].uid = owned.v[owned.n - 3];
        ms[n].case_id = owned.v[owned.n - 2];
        ms[n].meeting_type = owned.v[owned.n - 1];
        ms[n].start = sqlite3_column_int64(s, 3);
        ms[n].end = sqlite3_column_int64(s, 4);
        ms[n].sequence = sqlite3_column_int(s, 5);
        cancelled[n] = strcmp(store_col_text(s, 6), MEETING_STATUS_CANCELLED) == 0;
        ms[n].dtstamp = sqlite3_column_int64(s, 7);
        n++;
    }
    store_done(s);
    char *name = xasprintf("%s 会議", mtg_agency_name(city, agency_id));
    char *ics = imip_feed_calendar(ms, cancelled, n, name);
    strvec_free(&owned);
    free(ms);
    free(cancelled);
    free(name);
    return ics;
}

json_t *meetings_list_json(meetings_t *m, const char *case_id, const char *agency,
                           const char *status)
{
    sqlite3_stmt *s = store_prepare(m->st,
        "SELECT DISTINCT m.id FROM meetings m LEFT JOIN meeting_attendees a ON a.meeting_id = m.id"
        " WHERE (?1 IS NULL OR m.case_id = ?1) AND (?2 IS NULL OR a.agency = ?2)"
        " AND (?3 IS NULL OR m.status = ?3) ORDER BY m.start LIMIT 500");
    json_t *arr = json_array();
    if (!s) return json_pack("{s:o}", "meetings", arr);
    store_bind_text(s, 1, case_id);
    store_bind_text(s, 2, agency);
    store_bind_text(s, 3, status);
    size_t n;
    int64_t *ids = collect_ids(s, &n);
    for (size_t i = 0; i < n; i++) {
        if (agency && !meetings_agency_sees(m, ids[i], agency)) continue;
        json_t *j = meetings_get_json(m, ids[i]);
        if (j) json_array_append_new(arr, j);
    }
    free(ids);
    return json_pack("{s:o}", "meetings", arr);
}

