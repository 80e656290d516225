/* SPDX-License-Identifier: MIT */
/*
 * store_stats.c - prepared SQL for statistics, similar cases and rule
 * impact.
 *
 * How it works: each figure is one aggregate query over an indexed range
 * (cases.created, cases.closed_at, decisions.created, meetings.start,
 * meetings.monitoring_date) or over the open cases (cases.status).  The
 * indexes of migration 12 cover every column these queries read, so they
 * never touch the tables' rows (whose case documents are large).  With a
 * district the query joins the case through cases_by_id, which carries the
 * document's district as an indexed expression.
 * Row streams (cases for the similar-case index and for rule impact) go
 * to a callback one row at a time; nothing here holds every case.
 */
#include <stdlib.h>
#include <string.h>

#include "store_cases.h"
#include "store_stats.h"
#include "util.h"

/* Every aggregate comes in two texts: for the whole city (no join to
 * cases unless the case's status is needed) and for one district (?3),
 * which reads the district through the covering indexes of migration 12
 * (cases_by_id, cases_created, ...), never from the table. */
#define DISTRICT " AND json_extract(c.doc, '$.district') = ?3"
/* The range's table stays the outer loop (CROSS JOIN fixes the order) and
 * the case is read from its covering index, never from its row. */
#define CASE_OF(col) " CROSS JOIN cases c INDEXED BY cases_by_id ON c.id = " col

static sqlite3_stmt *prepare_for(store_t *st, const char *district, const char *whole,
                                 const char *one)
{
    return store_prepare(st, district ? one : whole);
}

static void bind_range(sqlite3_stmt *s, int64_t from, int64_t to, const char *district)
{
    sqlite3_bind_int64(s, 1, from);
    sqlite3_bind_int64(s, 2, to);
    if (district)
        store_bind_text(s, 3, district);
}

/* First column of the one row of a range query (0 on error). */
static int64_t range_count(store_t *st, const char *whole, const char *one, int64_t from,
                           int64_t to, const char *district)
{
    sqlite3_stmt *s = prepare_for(st, district, whole, one);
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

static bool range_groups(store_t *st, const char *whole, const char *one, int64_t from,
                         int64_t to, const char *district, store_count_fn fn, void *arg)
{
    sqlite3_stmt *s = prepare_for(st, district, whole, one);
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
    sqlite3_stmt *s = store_stmt(st, "SELECT id, doc, status, updated FROM cases"
                                     " WHERE updated >= ? ORDER BY updated, rowid",
                                 STORE_INT(since));
    return s && each_case(s, fn, arg);
}

long store_stats_cases_page(store_t *st, int64_t since, int64_t after_updated,
                            int64_t after_rowid, long limit, int64_t *rowid_out,
                            store_case_row_fn fn, void *arg)
{
    sqlite3_stmt *s = store_stmt(st, "SELECT id, doc, status, updated, rowid FROM cases"
                                     " WHERE updated >= ?1 AND (updated, rowid) > (?2, ?3)"
                                     " ORDER BY updated, rowid LIMIT ?4",
                                 STORE_INT(since), STORE_INT(after_updated),
                                 STORE_INT(after_rowid), STORE_INT(limit));
    if (!s)
        return -1;
    long n = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        *rowid_out = sqlite3_column_int64(s, 4);
        fn(arg, store_col_text(s, 0), store_col_text(s, 1), store_col_text(s, 2),
           sqlite3_column_int64(s, 3));
        n++;
    }
    store_done(s);
    return rc == SQLITE_DONE ? n : -1;
}

bool store_stats_open_cases(store_t *st, store_case_row_fn fn, void *arg)
{
    sqlite3_stmt *s = store_prepare(st, "SELECT id, doc, status, updated FROM cases"
                                        " WHERE status = 'open' ORDER BY id");
    return s && each_case(s, fn, arg);
}

char *store_stats_case_doc(store_t *st, const char *id)
{
    return store_text(store_stmt(st, "SELECT doc FROM cases WHERE id = ?", STORE_TEXT(id)));
}

static void outcome_review(store_t *st, const char *id, store_case_outcome_t *o)
{
    sqlite3_stmt *s = store_stmt(st,
        "SELECT v.action, v.reason FROM decisions d JOIN decision_reviews v"
        " ON v.decision_id = d.id WHERE d.case_id = ? ORDER BY v.at DESC, d.id DESC LIMIT 1",
        STORE_TEXT(id));
    if (!s)
        return;
    if (sqlite3_step(s) == SQLITE_ROW) {
        o->action = xstrdup(store_col_text(s, 0));
        o->reason = xstrdup(store_col_text(s, 1));
    }
    store_done(s);
}

static void outcome_meeting(store_t *st, const char *id, store_case_outcome_t *o)
{
    int64_t first = store_int(store_stmt(st, "SELECT MIN(start) FROM meetings"
                                             " WHERE case_id = ? AND status != 'cancelled'",
                                         STORE_TEXT(id)), INT64_MIN);
    o->has_meeting = first != INT64_MIN;
    if (o->has_meeting)
        o->first_meeting = first;
}

bool store_case_outcome(store_t *st, const char *id, store_case_outcome_t *o)
{
    memset(o, 0, sizeof *o);
    store_case_t c;
    o->found = store_case_load(st, id, &c);
    if (o->found) {
        o->status = c.status;
        o->lead = c.lead;
        o->created = c.created;
        if (!json_is_null(c.supports))
            o->supports = json_incref(c.supports);
        c.status = c.lead = NULL;
        store_case_free(&c);
    }
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

#define Q_CASES(col) "SELECT count(*) FROM cases c WHERE c." col " >= ?1 AND c." col " < ?2"

int64_t store_stats_cases_closed(store_t *st, int64_t from, int64_t to, const char *district)
{
    return range_count(st, Q_CASES("closed_at"), Q_CASES("closed_at") DISTRICT, from, to,
                       district);
}

/* Figures about open cases now take no range: "?1 = ?2" (bound 0, 0) lets
 * them share range_count / range_groups and their ?3 district slot. */
#define Q_OPEN "SELECT count(*) FROM cases c WHERE c.status = 'open' AND ?1 = ?2"

int64_t store_stats_cases_open_now(store_t *st, const char *district)
{
    return range_count(st, Q_OPEN, Q_OPEN DISTRICT, 0, 0, district);
}

#define Q_DECISIONS(join, cond) \
    "SELECT v.action, count(*) FROM decisions d" join \
    " LEFT JOIN decision_reviews v ON v.decision_id = d.id" \
    " WHERE d.created >= ?1 AND d.created < ?2" cond " GROUP BY v.action"

/* Decisions are appended with the clock: their ids in a range of
 * `created` are normally contiguous, and then the reviews are one rowid
 * range of decision_reviews.  When they are not (a clock set back), the
 * join is used. */
static bool decisions_by_id_range(store_t *st, int64_t from, int64_t to, store_count_fn fn,
                                  void *arg)
{
    sqlite3_stmt *s = store_prepare(st, "SELECT min(id), max(id), count(*) FROM decisions"
                                        " WHERE created >= ?1 AND created < ?2");
    if (!s)
        return false;
    bind_range(s, from, to, NULL);
    int64_t lo = 0, hi = -1, n = 0;
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
        lo = sqlite3_column_int64(s, 0);
        hi = sqlite3_column_int64(s, 1);
        n = sqlite3_column_int64(s, 2);
    }
    store_done(s);
    if (n != hi - lo + 1)
        return false;
    s = store_prepare(st, "SELECT action, count(*) FROM decision_reviews"
                          " WHERE decision_id BETWEEN ?1 AND ?2 GROUP BY action");
    if (!s)
        return false;
    bind_range(s, lo, hi, NULL);
    int64_t reviewed = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        reviewed += sqlite3_column_int64(s, 1);
        fn(arg, store_col_text(s, 0), sqlite3_column_int64(s, 1), 0);
    }
    store_done(s);
    if (n - reviewed)
        fn(arg, NULL, n - reviewed, 0);
    return rc == SQLITE_DONE;
}

bool store_stats_decisions(store_t *st, int64_t from, int64_t to, const char *district,
                           store_count_fn fn, void *arg)
{
    if (!district && decisions_by_id_range(st, from, to, fn, arg))
        return true;
    return range_groups(st, Q_DECISIONS("", ""), Q_DECISIONS(CASE_OF("d.case_id"), DISTRICT),
                        from, to, district, fn, arg);
}

#define Q_CREATED(cond) \
    "SELECT c.created, c.first_meeting FROM cases c WHERE c.created >= ?1 AND c.created < ?2" cond

bool store_stats_cases_created(store_t *st, int64_t from, int64_t to, const char *district,
                               store_case_time_fn fn, void *arg)
{
    sqlite3_stmt *s = prepare_for(st, district, Q_CREATED(""), Q_CREATED(DISTRICT));
    if (!s)
        return false;
    bind_range(s, from, to, district);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        fn(arg, sqlite3_column_int64(s, 0), sqlite3_column_type(s, 1) != SQLITE_NULL,
           sqlite3_column_int64(s, 1));
    store_done(s);
    return rc == SQLITE_DONE;
}

#define Q_STARTED(join, cond) \
    "SELECT m.start, m.status FROM meetings m" join " WHERE m.start >= ?1 AND m.start < ?2" cond

bool store_stats_meetings_started(store_t *st, int64_t from, int64_t to, const char *district,
                                  store_meeting_time_fn fn, void *arg)
{
    sqlite3_stmt *s = prepare_for(st, district, Q_STARTED("", ""),
                                  Q_STARTED(CASE_OF("m.case_id"), DISTRICT));
    if (!s)
        return false;
    bind_range(s, from, to, district);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        fn(arg, sqlite3_column_int64(s, 0), store_col_text(s, 1));
    store_done(s);
    return rc == SQLITE_DONE;
}

/* Grouping 10^5 rows by two text columns costs SQLite a sort; the few
 * (agency, PARTSTAT) pairs are counted here in a small hash table instead
 * while the rows stream from the covering index. */
#define Q_ATTENDANCE(join, cond) \
    "SELECT a.agency, a.partstat FROM meeting_attendees a" join \
    " WHERE a.start >= ?1 AND a.start < ?2" cond

#define PAIR_SLOTS 1024

typedef struct pair_count {
    char   *agency, *partstat;
    int64_t n;
} pair_count_t;

static uint64_t pair_hash(const char *a, const char *b)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *s = a; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    h = (h ^ 0x1f) * 1099511628211ULL;
    for (const char *s = b; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Adds one row; false when the table is full (more pairs than slots). */
static bool pair_add(pair_count_t *t, const char *agency, const char *partstat, int64_t n)
{
    for (size_t i = pair_hash(agency, partstat) % PAIR_SLOTS, k = 0; k < PAIR_SLOTS;
         i = (i + 1) % PAIR_SLOTS, k++) {
        if (!t[i].agency) {
            t[i] = (pair_count_t){ xstrdup(agency), xstrdup(partstat), n };
            return true;
        }
        if (!strcmp(t[i].agency, agency) && !strcmp(t[i].partstat, partstat)) {
            t[i].n += n;
            return true;
        }
    }
    return false;
}

/* Hands every pair to fn (when ok) and frees the table; returns ok. */
static bool pairs_emit(pair_count_t *t, bool ok, store_attendance_fn fn, void *arg)
{
    for (size_t i = 0; i < PAIR_SLOTS; i++) {
        if (ok && t[i].agency && t[i].n)
            fn(arg, t[i].agency, t[i].partstat, t[i].n);
        free(t[i].agency);
        free(t[i].partstat);
    }
    free(t);
    return ok;
}

/* The zone offset the day counts use; rebuilds them with off when it
 * differs (a city outside Asia/Tokyo's offset).  false on SQL error. */
static bool zone_offset_is(store_t *st, int off)
{
    sqlite3_stmt *s = store_prepare(st, "SELECT offset FROM stats_zone WHERE id = 1");
    if (!s)
        return false;
    bool same = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) == off;
    store_done(s);
    if (same || store_in_tx(st) || store_begin(st) != 0)
        return same;
    s = store_prepare(st, "UPDATE stats_zone SET offset = ? WHERE id = 1");
    bool ok = s && (sqlite3_bind_int(s, 1, off), sqlite3_step(s) == SQLITE_DONE);
    store_done(s);
    ok = ok && store_exec(st, "DELETE FROM stats_attendance_day") == 0;
    s = ok ? store_prepare(st, "INSERT INTO stats_attendance_day SELECT (start + ?) / 86400,"
                               " agency, partstat, count(*) FROM meeting_attendees"
                               " WHERE start IS NOT NULL GROUP BY 1, 2, 3") : NULL;
    ok = s && (sqlite3_bind_int(s, 1, off), sqlite3_step(s) == SQLITE_DONE);
    store_done(s);
    if (ok && store_commit(st) == 0)
        return true;
    store_rollback(st);
    return false;
}

/* Whole city, [from, to) = local days at a constant offset: the day
 * counts (stats_attendance_day) answer without reading attendees.  Rows
 * are summed here per (agency, PARTSTAT). */
static bool attendance_by_day(store_t *st, int64_t from, int64_t to, int off,
                              store_attendance_fn fn, void *arg)
{
    sqlite3_stmt *s = store_prepare(st, "SELECT agency, partstat, n FROM stats_attendance_day"
                                        " WHERE day >= ?1 AND day < ?2 AND n != 0");
    if (!s)
        return false;
    bind_range(s, (from + off) / 86400, (to + off) / 86400, NULL);
    pair_count_t *t = xcalloc(PAIR_SLOTS, sizeof *t);
    bool ok = true;
    int rc;
    while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *ag = store_col_text(s, 0), *ps = store_col_text(s, 1);
        ok = pair_add(t, ag ? ag : "", ps ? ps : "", sqlite3_column_int64(s, 2));
    }
    store_done(s);
    return pairs_emit(t, ok, fn, arg) && rc == SQLITE_DONE;
}

bool store_stats_attendance(store_t *st, int64_t from, int64_t to, const char *district,
                            int day_offset, store_attendance_fn fn, void *arg)
{
    if (!district && day_offset != STORE_NO_DAY_OFFSET && (from + day_offset) % 86400 == 0 &&
        (to + day_offset) % 86400 == 0 && zone_offset_is(st, day_offset))
        return attendance_by_day(st, from, to, day_offset, fn, arg);
    sqlite3_stmt *s = prepare_for(st, district, Q_ATTENDANCE("", ""),
        Q_ATTENDANCE(" CROSS JOIN meetings m ON m.id = a.meeting_id" CASE_OF("m.case_id"), DISTRICT));
    if (!s)
        return false;
    bind_range(s, from, to, district);
    pair_count_t *t = xcalloc(PAIR_SLOTS, sizeof *t);
    bool ok = true;
    int rc;
    while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *ag = store_col_text(s, 0), *ps = store_col_text(s, 1);
        ok = pair_add(t, ag ? ag : "", ps ? ps : "", 1);
    }
    store_done(s);
    return pairs_emit(t, ok, fn, arg) && rc == SQLITE_DONE;
}

#define Q_LEADS "SELECT c.lead, count(*) FROM cases c WHERE c.status = 'open'" \
    " AND c.lead IS NOT NULL AND ?1 = ?2"

bool store_stats_open_leads(store_t *st, const char *district, store_count_fn fn, void *arg)
{
    return range_groups(st, Q_LEADS " GROUP BY c.lead", Q_LEADS DISTRICT " GROUP BY c.lead",
                        0, 0, district, fn, arg);
}

#define Q_SUPPORTS "SELECT j.value, count(*) FROM cases c, json_each(c.supports) j" \
    " WHERE c.status = 'open' AND ?1 = ?2"

bool store_stats_open_supports(store_t *st, const char *district, store_count_fn fn, void *arg)
{
    return range_groups(st, Q_SUPPORTS " GROUP BY j.value", Q_SUPPORTS DISTRICT " GROUP BY j.value",
                        0, 0, district, fn, arg);
}

/* Per open case, its latest meeting that is not cancelled ("no later
 * meeting booked"): overdue when that meeting's monitoring date is in
 * [?1, ?2] and before today (?4). */
#define Q_OVERDUE(cond) \
    "SELECT count(*) FROM (SELECT (SELECT m.monitoring_date FROM meetings m" \
    " WHERE m.case_id = c.id AND m.status != 'cancelled' ORDER BY m.start DESC LIMIT 1) AS md" \
    " FROM cases c INDEXED BY cases_open WHERE c.status = 'open'" cond ")" \
    " WHERE md >= ?1 AND md <= ?2 AND md < ?4"

int64_t store_stats_monitoring_overdue(store_t *st, const char *from_date, const char *to_date,
                                       const char *today_date, const char *district)
{
    sqlite3_stmt *s = prepare_for(st, district, Q_OVERDUE(""), Q_OVERDUE(DISTRICT));
    if (!s)
        return 0;
    store_bind_text(s, 1, from_date);
    store_bind_text(s, 2, to_date);
    if (district)
        store_bind_text(s, 3, district);
    store_bind_text(s, 4, today_date);
    int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    store_done(s);
    return n;
}
