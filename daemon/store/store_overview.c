/* SPDX-License-Identifier: MIT */
/*
 * store_overview.c - SQL for the web UI's summaries (store_overview.h).
 * Read-only; each query builds its JSON rows straight from the columns.
 * Columns are read by a small per-query spec so that every function is
 * one statement plus the spec (store_rows_json: "s" text, "i" integer).
 */
#include <string.h>

#include "store_overview.h"

json_t *store_overview_pending_decisions(store_t *st)
{
    static const char *const n[] = {"id", "case_id", "proposed_lead", "created", "actor"};
    return store_rows_json(store_prepare(st, "SELECT d.id, d.case_id, d.proposed_lead, d.created, d.actor"
                                  " FROM decisions d JOIN cases c ON c.id = d.case_id"
                                  " WHERE c.status = 'open' AND NOT EXISTS (SELECT 1 FROM"
                                  " decision_reviews v WHERE v.decision_id = d.id)"
                                  " AND d.id = (SELECT MAX(id) FROM decisions x"
                                  " WHERE x.case_id = d.case_id) ORDER BY d.created, d.id"),
                "issis", n);
}

static const char *const meeting_names[] = {"id", "case_id", "type", "start", "end"};

json_t *store_overview_replan_meetings(store_t *st)
{
    return store_rows_json(store_prepare(st, "SELECT id, case_id, type, start, end FROM meetings"
                                  " WHERE status = 'replan' ORDER BY start, id"),
                "issii", meeting_names);
}

json_t *store_overview_dead_mail(store_t *st)
{
    static const char *const n[] = {"id", "meeting_id", "kind", "rcpt", "state", "last_error"};
    return store_rows_json(store_prepare(st, "SELECT id, meeting_id, kind, rcpt, state,"
                                  " COALESCE(bounce_reason, last_error) FROM outbox"
                                  " WHERE state IN ('dead', 'bounced') ORDER BY id DESC LIMIT 50"),
                "iissss", n);
}

json_t *store_overview_mail_config_errors(store_t *st)
{
    static const char *const n[] = {"id", "kind", "rcpt", "last_error"};
    return store_rows_json(store_prepare(st, "SELECT id, kind, rcpt, last_error FROM outbox"
                                  " WHERE config_error = 1 AND state IN ('pending', 'sending')"
                                  " ORDER BY id DESC LIMIT 50"),
                "isss", n);
}

json_t *store_overview_cases_without_meeting(store_t *st)
{
    static const char *const n[] = {"id", "title", "district"};
    return store_rows_json(store_prepare(st, "SELECT c.id, json_extract(c.doc, '$.title'),"
                                  " json_extract(c.doc, '$.district') FROM cases c"
                                  " WHERE c.status = 'open' AND NOT EXISTS (SELECT 1 FROM"
                                  " meetings m WHERE m.case_id = c.id AND m.status <> 'cancelled')"
                                  " ORDER BY c.created, c.id"),
                "sss", n);
}

json_t *store_overview_meetings_between(store_t *st, int64_t from, int64_t to)
{
    sqlite3_stmt *s = store_prepare(st, "SELECT id, case_id, type, start, end FROM meetings"
                                        " WHERE status = 'scheduled' AND start >= ? AND start < ?"
                                        " ORDER BY start, id");
    if (s) {
        sqlite3_bind_int64(s, 1, from);
        sqlite3_bind_int64(s, 2, to);
    }
    return store_rows_json(s, "issii", meeting_names);
}

json_t *store_overview_overdue_monitoring(store_t *st, const char *today)
{
    static const char *const n[] = {"meeting_id", "case_id", "monitoring_date"};
    sqlite3_stmt *s = store_prepare(st,
        "SELECT m.id, m.case_id, m.monitoring_date FROM meetings m JOIN cases c"
        " ON c.id = m.case_id WHERE c.status = 'open' AND m.status <> 'cancelled'"
        " AND m.monitoring_date IS NOT NULL AND m.monitoring_date < ?"
        " AND NOT EXISTS (SELECT 1 FROM meetings l WHERE l.case_id = m.case_id"
        " AND l.status <> 'cancelled' AND l.start > m.start)"
        " ORDER BY m.monitoring_date, m.id");
    if (s)
        store_bind_text(s, 1, today);
    return store_rows_json(s, "iss", n);
}

json_t *store_overview_failing_feeds(store_t *st)
{
    static const char *const n[] = {"id", "agency", "last_error", "last_success"};
    return store_rows_json(store_prepare(st, "SELECT id, agency, last_error, last_success FROM feeds"
                                  " WHERE state = 'failing' ORDER BY agency, id"),
                "sssi", n);
}

json_t *store_overview_cases(store_t *st, int64_t now)
{
    static const char *const n[] = {"id", "title", "status", "district", "lead",
                                    "pending_decision", "m_id", "m_start", "m_end", "m_status"};
    sqlite3_stmt *s = store_prepare(st,
        "SELECT c.id, json_extract(c.doc, '$.title'), c.status, json_extract(c.doc, '$.district'),"
        " c.lead, (SELECT d.id FROM decisions d WHERE d.case_id = c.id AND NOT EXISTS"
        " (SELECT 1 FROM decision_reviews v WHERE v.decision_id = d.id)"
        " AND d.id = (SELECT MAX(id) FROM decisions x WHERE x.case_id = c.id)),"
        " m.id, m.start, m.end, m.status FROM cases c LEFT JOIN meetings m ON m.id ="
        " (SELECT id FROM meetings y WHERE y.case_id = c.id AND y.status <> 'cancelled'"
        " AND y.end > ? ORDER BY y.start, y.id LIMIT 1) ORDER BY c.created, c.id");
    if (s)
        sqlite3_bind_int64(s, 1, now);
    json_t *arr = store_rows_json(s, "sssssiiiis", n);
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
        json_t *id = json_object_get(o, "m_id");
        json_object_set_new(o, "next_meeting", json_is_null(id) ? json_null() :
            json_pack("{s:O, s:O, s:O, s:O}", "id", id, "start", json_object_get(o, "m_start"),
                      "end", json_object_get(o, "m_end"), "status",
                      json_object_get(o, "m_status")));
        for (const char *const *k = (const char *const[]){"m_id", "m_start", "m_end", "m_status",
                                                          NULL}; *k; k++)
            json_object_del(o, *k);
    }
    return arr;
}
