/* SPDX-License-Identifier: MIT */
/*
 * test_store_stats.c - the copies migration 12 keeps by triggers agree
 * with the tables they copy, whatever the writers do: cases.first_meeting
 * (earliest start of the case's meetings that are not cancelled),
 * meeting_attendees.start and the day counts stats_attendance_day.
 * Random bookings, answers, reschedules, cancellations and deletions
 * (attendees, and meetings with their attendees by cascade) are applied
 * with plain SQL (as the meetings module writes), and after each step the
 * copies are compared with the same figures computed directly.  (INSERT OR
 * REPLACE on meeting_attendees is not supported: with recursive_triggers
 * off SQLite runs no delete trigger for the replaced row; no writer uses
 * it.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store.h"
#include "store_stats.h"

static void exec(store_t *st, const char *sql)
{
    if (store_exec(st, sql) != 0)
        fail_msg("%s: %s", sql, store_errmsg(st));
}

static int64_t scalar(store_t *st, const char *sql)
{
    sqlite3_stmt *s = store_prepare(st, sql);
    assert_non_null(s);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(s, 0);
    store_done(s);
    return v;
}

static void check_copies(store_t *st)
{
    /* first_meeting: every case agrees with MIN over its meetings */
    assert_int_equal(scalar(st, "SELECT count(*) FROM cases c WHERE c.first_meeting IS NOT"
                                " (SELECT MIN(m.start) FROM meetings m WHERE m.case_id = c.id"
                                " AND m.status != 'cancelled')"), 0);
    /* attendee start = its meeting's start */
    assert_int_equal(scalar(st, "SELECT count(*) FROM meeting_attendees a JOIN meetings m"
                                " ON m.id = a.meeting_id WHERE a.start IS NOT m.start"), 0);
    /* hourly counts = the attendees grouped the same way (zero rows allowed) */
    assert_int_equal(scalar(st,
        "SELECT count(*) FROM (SELECT (start + 32400) / 86400 AS h, agency, partstat, count(*) AS n"
        " FROM meeting_attendees GROUP BY 1, 2, 3) x FULL OUTER JOIN"
        " (SELECT day, agency, partstat, n FROM stats_attendance_day WHERE n != 0) y"
        " ON x.h = y.day AND x.agency = y.agency AND x.partstat = y.partstat"
        " WHERE x.n IS NOT y.n"), 0);
}

static void sqlf(store_t *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sqlf(store_t *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    strbuf_t b;
    strbuf_init(&b);
    strbuf_vprintf(&b, fmt, ap);
    va_end(ap);
    exec(st, b.s);
    strbuf_free(&b);
}

static void test_trigger_copies_follow_writes(void **state)
{
    char err[256];
    store_t *st = store_open(":memory:", err, sizeof err);
    assert_non_null(st);
    static const char *agencies[] = { "csw", "jiritsu", "hoken", "kodomo" };
    static const char *ps[] = { "NEEDS-ACTION", "ACCEPTED", "DECLINED", "TENTATIVE" };
    static const char *status[] = { "scheduled", "replan", "cancelled" };
    for (int c = 0; c < 6; c++)
        sqlf(st, "INSERT INTO cases(id, doc, created, updated) VALUES ('C-%d', '{}', 0, 0)", c);
    srand(12);
    int meetings = 0;
    for (int step = 0; step < 400; step++) {
        int what = rand() % 6, m = meetings ? 1 + rand() % meetings : 0;
        if (what == 0 || !meetings) {
            meetings++;
            sqlf(st, "INSERT INTO meetings(uid, case_id, type, start, end, created, updated)"
                     " VALUES ('u%d', 'C-%d', '支援会議', %d, %d, 0, 0)", meetings, rand() % 6,
                 (rand() % 500) * 3600, (rand() % 500) * 3600 + 3600);
            long long id = (long long)sqlite3_last_insert_rowid(store_db(st));
            for (int a = 0; a < 1 + rand() % 3; a++)
                sqlf(st, "INSERT OR IGNORE INTO meeting_attendees(meeting_id, agency, email)"
                         " VALUES (%lld, '%s', 'x@example')", id, agencies[a]);
        } else if (what == 1) {
            sqlf(st, "UPDATE meeting_attendees SET partstat = '%s' WHERE meeting_id = %d"
                     " AND agency = '%s'", ps[rand() % 4], m, agencies[rand() % 4]);
        } else if (what == 2) {
            sqlf(st, "UPDATE meetings SET start = %d, sequence = sequence + 1 WHERE id = %d",
                 (rand() % 500) * 3600, m);
        } else if (what == 3) {
            sqlf(st, "UPDATE meetings SET status = '%s' WHERE id = %d", status[rand() % 3], m);
        } else if (what == 4) {
            sqlf(st, "DELETE FROM meeting_attendees WHERE meeting_id = %d AND agency = '%s'", m,
                 agencies[rand() % 4]);
        } else if (rand() % 4 == 0) {
            /* attendees go with their meeting (ON DELETE CASCADE) */
            sqlf(st, "DELETE FROM meetings WHERE id = %d", m);
        } else {
            sqlf(st, "INSERT OR IGNORE INTO meeting_attendees(meeting_id, agency, email, partstat)"
                     " SELECT %d, '%s', 'y@example', '%s' WHERE EXISTS (SELECT 1 FROM meetings"
                     " WHERE id = %d)", m, agencies[rand() % 4], ps[rand() % 4], m);
        }
        check_copies(st);
    }
    assert_true(scalar(st, "SELECT count(*) FROM stats_attendance_day WHERE n > 0") > 10);
    assert_true(scalar(st, "SELECT count(*) FROM cases WHERE first_meeting IS NOT NULL") > 0);
    store_close(st);
}

typedef struct tally {
    int64_t n[8];
} tally_t;

static void tally(void *arg, const char *agency, const char *partstat, int64_t n)
{
    tally_t *t = arg;
    t->n[0] += n;
    if (!strcmp(partstat, "DECLINED"))
        t->n[1] += n;
    if (!strcmp(agency, "csw"))
        t->n[2] += n;
}

/* The day counts answer exactly what reading the attendees answers, at
 * the stored offset and after a rebuild for another zone's offset. */
static void test_day_counts_match_attendees(void **state)
{
    char err[256];
    store_t *st = store_open(":memory:", err, sizeof err);
    exec(st, "INSERT INTO cases(id, doc, created, updated) VALUES ('C', '{}', 0, 0)");
    static const char *ag[] = { "csw", "hoken", "kodomo" };
    static const char *ps[] = { "ACCEPTED", "DECLINED", "NEEDS-ACTION" };
    for (int m = 1; m <= 60; m++) {
        sqlf(st, "INSERT INTO meetings(uid, case_id, type, start, end, created, updated)"
                 " VALUES ('u%d', 'C', '支援会議', %d, %d, 0, 0)", m, m * 7 * 3600, m * 7 * 3600 + 3600);
        for (int a = 0; a < 3; a++)
            sqlf(st, "INSERT INTO meeting_attendees(meeting_id, agency, email, partstat)"
                     " VALUES (%d, '%s', 'x@example', '%s')", m, ag[a], ps[(m + a) % 3]);
    }
    int offs[] = { 32400, 0, -18000, 32400 };
    for (size_t k = 0; k < 4; k++) {
        int off = offs[k];
        int64_t from = 2 * 86400 - off, to = 10 * 86400 - off;     /* local midnights */
        tally_t a = { { 0 } }, b = { { 0 } };
        assert_true(store_stats_attendance(st, from, to, NULL, off, tally, &a));
        assert_true(store_stats_attendance(st, from, to, NULL, STORE_NO_DAY_OFFSET, tally, &b));
        assert_true(a.n[0] > 0);
        assert_memory_equal(&a, &b, sizeof a);
        assert_int_equal(scalar(st, "SELECT offset FROM stats_zone"), off);
        /* later writes follow the new offset */
        sqlf(st, "UPDATE meeting_attendees SET partstat = 'DECLINED' WHERE meeting_id = %zu", 5 + k);
    }
    store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trigger_copies_follow_writes),
        cmocka_unit_test(test_day_counts_match_attendees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
