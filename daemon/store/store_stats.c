/*
 * store_stats.c - prepared SQL for statistics, similar cases and rule
 * impact.
 *
 * How it works: each figure is one aggregate query over an indexed range
 * (cases.created, cases.closed_at, decisions.created, meetings.start,
 * meetings.monitoring_date; indexes from migration 12) or over the open
 * cases (cases.status).  The district filter is "?3 IS NULL OR the case
 * document's district = ?3", evaluated on the rows the range selected.
 * Row streams (cases for the similar-case index and for rule impact) go
 * to a callback one row at a time; nothing here holds every case.
 */
#include <stdlib.h>
#include <string.h>

#include "store_stats.h"
#include "util.h"

#define DISTRICT_OK "(?3 IS NULL OR json_extract(c.doc, '$.district') = ?3)"

static void bind_range(sqlite3_stmt *s, int64_t from, int64_t to, const char *district)
{
    sqlite3_bind_int64(s, 1, from);
    sqlite3_bind_int64(s, 2, to);
    store_bind_text(s, 3, district);
}

/* First column of the one row of a range query (0 on error). */
static int64_t range_count(store_t *st, const char *sql, int64_t from, int64_t to,
                           const char *district)
{
    sqlite3_stmt *s = store_prepare(st, sql);
    if (!s)
        return 0;
    bind_range(s, from, to, district);
    int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    store_done(s);
    return n;
}

/* Steps a bound GROUP BY (key, n[, n2]) into fn. */
static bool each_count(sqlite3_stmt *s, store_count_fn fn, void *arg)
{
    int rc;
    bool two = sqlite3_column_count(s) > 2;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        fn(arg, store_col_text(s, 0), sqlite3_column_int64(s, 1),
           two ? sqlite3_column_int64(s, 2) : 0);
    store_done(s);
    return rc == SQLITE_DONE;
}

static bool range_groups(store_t *st, const char *sql, int64_t from, int64_t to,
                         const char *district, store_count_fn fn, void *arg)
{
    sqlite3_stmt *s = store_prepare(st, sql);
    if (!s)
        return false;
    bind_range(s, from, to, district);
    return each_count(s, fn, arg);
}

/* ---- case rows --------------------------------------------------------- */

static bool each_case(sqlite3_stmt *s, store_case_row_fn fn, void *arg)
{
    int rc;
    bool go = true;
    while (go && (rc = sqlite3_step(s)) == SQLITE_ROW)
        go = fn(arg, store_col_text(s, 0), store_col_text(s, 1), store_col_text(s, 2),
                sqlite3_column_int64(s, 3));
    store_done(s);
    return go && rc == SQLITE_DONE;
}

bool store_stats_cases_since(store_t *st, int64_t since, store_case_row_fn fn, void *arg)
{
    sqlite3_stmt *s = store_prepare(st, "SELECT id, doc, status, updated FROM cases"
                                        " WHERE updated >= ? ORDER BY updated, rowid");
    if (!s)
        return false;
    sqlite3_bind_int64(s, 1, since);
    return each_case(s, fn, arg);
}

bool store_stats_open_cases(store_t *st, store_case_row_fn fn, void *arg)
{
    sqlite3_stmt *s = store_prepare(st, "SELECT id, doc, status, updated FROM cases"
                                        " WHERE status = 'open' ORDER BY id");
    return s && each_case(s, fn, arg);
}

char *store_stats_case_doc(store_t *st, const char *id)
{
    sqlite3_stmt *s = store_prepare(st, "SELECT doc FROM cases WHERE id = ?");
    char *doc = NULL;
    if (!s)
        return NULL;
    store_bind_text(s, 1, id);
    if (sqlite3_step(s) == SQLITE_ROW)
        doc = xstrdup(store_col_text(s, 0));
    store_done(s);
    return doc;
}

static void outcome_review(store_t *st, const char *id, store_case_outcome_t *o)
{
    sqlite3_stmt *s = store_prepare(st,
        "SELECT v.action, v.reason FROM decisions d JOIN decision_reviews v"
        " ON v.decision_id = d.id WHERE d.case_id = ? ORDER BY v.at DESC, d.id DESC LIMIT 1");
    if (!s)
        return;
    store_bind_text(s, 1, id);
    if (sqlite3_step(s) == SQLITE_ROW) {
        o->action = xstrdup(store_col_text(s, 0));
        o->reason = xstrdup(store_col_text(s, 1));
    }
    store_done(s);
}

static void outcome_meeting(store_t *st, const char *id, store_case_outcome_t *o)
{
    sqlite3_stmt *s = store_prepare(st, "SELECT MIN(start) FROM meetings"
                                        " WHERE case_id = ? AND status != 'cancelled'");
    if (!s)
        return;
    store_bind_text(s, 1, id);
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
        o->has_meeting = true;
        o->first_meeting = sqlite3_column_int64(s, 0);
    }
    store_done(s);
}

bool store_case_outcome(store_t *st, const char *id, store_case_outcome_t *o)
{
    memset(o, 0, sizeof *o);
    sqlite3_stmt *s = store_prepare(st, "SELECT status, lead, supports, created FROM cases"
                                        " WHERE id = ?");
    if (!s)
        return false;
    store_bind_text(s, 1, id);
    if (sqlite3_step(s) == SQLITE_ROW) {
        o->found = true;
        o->status = xstrdup(store_col_text(s, 0));
        o->lead = xstrdup(store_col_text(s, 1));
        const char *sup = store_col_text(s, 2);
        o->supports = sup ? json_loads(sup, 0, NULL) : NULL;
        o->created = sqlite3_column_int64(s, 3);
    }
    store_done(s);
    if (!o->supports)
        o->supports = json_array();
    if (o->found) {
        outcome_review(st, id, o);
        outcome_meeting(st, id, o);
    }
    return o->found;
}

void store_case_outcome_free(store_case_outcome_t *o)
{
    free(o->status);
    free(o->lead);
    free(o->action);
    free(o->reason);
    json_decref(o->supports);
    memset(o, 0, sizeof *o);
}

/* ---- statistics -------------------------------------------------------- */

int64_t store_stats_cases_opened(store_t *st, int64_t from, int64_t to, const char *district)
{
    return range_count(st, "SELECT count(*) FROM cases c WHERE c.created >= ?1"
                           " AND c.created < ?2 AND " DISTRICT_OK, from, to, district);
}

int64_t store_stats_cases_closed(store_t *st, int64_t from, int64_t to, const char *district)
{
    return range_count(st, "SELECT count(*) FROM cases c WHERE c.closed_at >= ?1"
                           " AND c.closed_at < ?2 AND " DISTRICT_OK, from, to, district);
}

int64_t store_stats_cases_open_now(store_t *st, const char *district)
{
    return range_count(st, "SELECT count(*) FROM cases c WHERE c.status = 'open'"
                           " AND ?1 IS NOT NULL AND ?2 IS NOT NULL AND " DISTRICT_OK,
                       0, 0, district);
}

bool store_stats_decisions(store_t *st, int64_t from, int64_t to, const char *district,
                           store_count_fn fn, void *arg)
{
    return range_groups(st,
        "SELECT v.action, count(*) FROM decisions d JOIN cases c ON c.id = d.case_id"
        " LEFT JOIN decision_reviews v ON v.decision_id = d.id"
        " WHERE d.created >= ?1 AND d.created < ?2 AND " DISTRICT_OK " GROUP BY v.action",
        from, to, district, fn, arg);
}

int64_t *store_stats_first_meeting_delays(store_t *st, int64_t from, int64_t to,
                                          const char *district, size_t *n)
{
    *n = 0;
    sqlite3_stmt *s = store_prepare(st,
        "SELECT (SELECT MIN(m.start) FROM meetings m WHERE m.case_id = c.id"
        " AND m.status != 'cancelled') - c.created FROM cases c"
        " WHERE c.created >= ?1 AND c.created < ?2 AND " DISTRICT_OK);
    if (!s)
        return NULL;
    bind_range(s, from, to, district);
    int64_t *v = NULL;
    size_t cap = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (sqlite3_column_type(s, 0) == SQLITE_NULL)
            continue;
        if (*n == cap)
            v = xrealloc(v, (cap = cap ? cap * 2 : 64) * sizeof *v);
        v[(*n)++] = sqlite3_column_int64(s, 0);
    }
    store_done(s);
    return v;
}

bool store_stats_meetings(store_t *st, int64_t from, int64_t to, const char *district,
                          store_count_fn fn, void *arg)
{
    return range_groups(st,
        "SELECT m.status, count(*) FROM meetings m LEFT JOIN cases c ON c.id = m.case_id"
        " WHERE m.start >= ?1 AND m.start < ?2 AND " DISTRICT_OK " GROUP BY m.status",
        from, to, district, fn, arg);
}

int64_t store_stats_meetings_held(store_t *st, int64_t from, int64_t to, const char *district)
{
    return range_count(st, "SELECT count(*) FROM meetings m LEFT JOIN cases c ON c.id = m.case_id"
                           " WHERE m.start >= ?1 AND m.start < ?2 AND m.status != 'cancelled'"
                           " AND " DISTRICT_OK, from, to, district);
}

bool store_stats_answers(store_t *st, int64_t from, int64_t to, const char *district,
                         store_count_fn fn, void *arg)
{
    return range_groups(st,
        "SELECT a.partstat, count(*) FROM meetings m"
        " JOIN meeting_attendees a ON a.meeting_id = m.id LEFT JOIN cases c ON c.id = m.case_id"
        " WHERE m.start >= ?1 AND m.start < ?2 AND " DISTRICT_OK " GROUP BY a.partstat",
        from, to, district, fn, arg);
}

bool store_stats_open_leads(store_t *st, const char *district, store_count_fn fn, void *arg)
{
    return range_groups(st,
        "SELECT c.lead, count(*) FROM cases c WHERE c.status = 'open' AND c.lead IS NOT NULL"
        " AND ?1 IS NOT NULL AND ?2 IS NOT NULL AND " DISTRICT_OK " GROUP BY c.lead",
        0, 0, district, fn, arg);
}

bool store_stats_open_supports(store_t *st, const char *district, store_count_fn fn, void *arg)
{
    return range_groups(st,
        "SELECT j.value, count(*) FROM cases c, json_each(c.supports) j"
        " WHERE c.status = 'open' AND ?1 IS NOT NULL AND ?2 IS NOT NULL AND " DISTRICT_OK
        " GROUP BY j.value", 0, 0, district, fn, arg);
}

bool store_stats_invites(store_t *st, int64_t from, int64_t to, const char *district,
                         store_count_fn fn, void *arg)
{
    return range_groups(st,
        "SELECT a.agency, count(*), sum(a.partstat = 'DECLINED') FROM meetings m"
        " JOIN meeting_attendees a ON a.meeting_id = m.id LEFT JOIN cases c ON c.id = m.case_id"
        " WHERE m.start >= ?1 AND m.start < ?2 AND " DISTRICT_OK " GROUP BY a.agency",
        from, to, district, fn, arg);
}

int64_t store_stats_monitoring_overdue(store_t *st, const char *from_date, const char *to_date,
                                       const char *today_date, const char *district)
{
    sqlite3_stmt *s = store_prepare(st,
        "SELECT count(*) FROM meetings m LEFT JOIN cases c ON c.id = m.case_id"
        " WHERE m.monitoring_date >= ?1 AND m.monitoring_date <= ?2 AND m.monitoring_date < ?4"
        " AND m.status != 'cancelled' AND (c.status IS NULL OR c.status = 'open')"
        " AND NOT EXISTS (SELECT 1 FROM meetings l WHERE l.case_id = m.case_id AND l.id != m.id"
        " AND l.status != 'cancelled' AND l.start > m.start) AND " DISTRICT_OK);
    if (!s)
        return 0;
    store_bind_text(s, 1, from_date);
    store_bind_text(s, 2, to_date);
    store_bind_text(s, 3, district);
    store_bind_text(s, 4, today_date);
    int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    store_done(s);
    return n;
}
