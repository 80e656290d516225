/* SPDX-License-Identifier: MIT */
/*
 * test_slots_store.c - the store side of slots (daemon/service/slots_store.c) on
 * an in-memory SQLite store, so it also runs under ASan and valgrind:
 * holds (create, overlap refused, expiry, delete), busy input assembled
 * from stored feed intervals + holds + booked meetings, the fixture answers
 * through the store, and freshness flags for failing / never-fetched /
 * stale feeds (the staleness rule with time injected).  Feed intervals are written straight into the busy table from
 * the independent oracle (expected/busy), as a successful fetch would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "city.h"
#include "feeds.h"
#include "slots.h"
#include "slots_store.h"
#include "store.h"
#include "support_slots.h"
#include "timeutil.h"

#define CITY_DIR "tests/data/yamanami"

typedef struct fx {
    store_t *st;
    city_t   city;
    int64_t  now;
} fx_t;

static int64_t at(const char *s)
{
    int64_t t;
    if (!tu_parse_iso8601(s, NULL, &t)) fail_msg("bad time %s", s);
    return t;
}

static void exec_ok(store_t *st, const char *sql)
{
    if (store_exec(st, sql) != 0) fail_msg("%s: %s", sql, store_errmsg(st));
}

/* What a successful fetch leaves behind: the oracle's intervals. */
static void store_feed(store_t *st, const char *feed_id, int64_t now)
{
    char path[512];
    snprintf(path, sizeof path, CITY_DIR "/expected/busy/%s.json", feed_id);
    json_t *doc = json_load_file(path, 0, NULL);
    assert_non_null(doc);
    size_t i;
    json_t *p;
    json_array_foreach(doc, i, p) {
        sqlite3_stmt *s = store_prepare(st, "INSERT INTO busy (feed_id, start, end) VALUES (?, ?, ?)");
        assert_non_null(s);
        store_bind_text(s, 1, feed_id);
        sqlite3_bind_int64(s, 2, at(json_string_value(json_array_get(p, 0))));
        sqlite3_bind_int64(s, 3, at(json_string_value(json_array_get(p, 1))));
        assert_int_equal(sqlite3_step(s), SQLITE_DONE);
        store_done(s);
    }
    json_decref(doc);
    sqlite3_stmt *s = store_prepare(st, "UPDATE feeds SET state = 'ok', last_success = ? WHERE id = ?");
    sqlite3_bind_int64(s, 1, now);
    store_bind_text(s, 2, feed_id);
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    store_done(s);
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    char err[256];
    f->st = store_open(":memory:", err, sizeof err);
    if (!f->st) { fprintf(stderr, "%s\n", err); return -1; }
    json_t *doc = json_load_file(CITY_DIR "/agencies.json", 0, NULL);
    if (!doc || !store_import_city(f->st, doc, CITY_DIR, NULL, NULL, err, sizeof err)) {
        fprintf(stderr, "import: %s\n", err);
        return -1;
    }
    json_decref(doc);
    if (!store_load_city(f->st, &f->city, err, sizeof err)) return -1;
    f->now = f->city.now;
    for (size_t i = 0; i < f->city.nagencies; i++)
        for (size_t c = 0; c < f->city.agencies[i].ncalendars; c++)
            store_feed(f->st, f->city.agencies[i].calendars[c].id, f->now);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    city_free(&f->city);
    store_close(f->st);
    free(f);
    return 0;
}

static void load_query(const fx_t *f, const char *name, slot_query_t *q)
{
    slot_error_t e;
    if (!support_load_query(CITY_DIR, name, &f->city, q, &e)) fail_msg("%s", e.message);
}

static void expect_first_slot(const fx_t *f, const char *query, const char *start)
{
    slot_query_t q;
    load_query(f, query, &q);
    slot_result_t r;
    char err[256];
    assert_int_equal(slots_store_find(f->st, &f->city, &q, f->now, 0, &r, err, sizeof err), 0);
    if (start) {
        assert_true(r.nslots > 0);
        assert_int_equal(r.slots[0].start, at(start));
    } else {
        assert_int_equal(r.nslots, 0);
    }
    slot_result_free(&r);
    slot_query_free(&q);
}

static void fixture_answers_through_store(void **state)
{
    fx_t *f = *state;
    expect_first_slot(f, "q1-8050", "2026-12-08T12:30:00+09:00");
    expect_first_slot(f, "q2-freebusy-feed", "2026-12-03T09:30:00+09:00");
    expect_first_slot(f, "q3-urgent", "2026-12-01T10:00:00+09:00");
    expect_first_slot(f, "q4-new-year", "2026-12-24T08:30:00+09:00");
    expect_first_slot(f, "q5-impossible", NULL);
}

static void holds_block_and_release(void **state)
{
    fx_t *f = *state;
    strvec_t ag;
    strvec_init(&ag);
    strvec_push(&ag, "dv");
    strvec_push(&ag, "kodomo");
    int64_t id = 0, clash = 0, id2 = 0;
    assert_int_equal(holds_create(f->st, &ag, at("2026-12-01T10:00:00+09:00"),
                                  at("2026-12-01T11:00:00+09:00"), f->now + 3600, f->now, "t",
                                  &id, &clash), HOLDS_OK);
    assert_true(id > 0);
    /* q3's slot is gone while the hold lives */
    slot_query_t q;
    load_query(f, "q3-urgent", &q);
    slot_result_t r;
    char err[256];
    assert_int_equal(slots_store_find(f->st, &f->city, &q, f->now, 0, &r, err, sizeof err), 0);
    for (size_t i = 0; i < r.nslots; i++)
        assert_true(r.slots[i].start != at("2026-12-01T10:00:00+09:00"));
    slot_result_free(&r);
    /* ... and back once it has expired (now moves past expiry) */
    assert_int_equal(slots_store_find(f->st, &f->city, &q, f->now + 3600, 0, &r, err, sizeof err), 0);
    bool back = false;
    for (size_t i = 0; i < r.nslots; i++) back |= r.slots[i].start == at("2026-12-01T10:00:00+09:00");
    /* q3 has notice_days 0: with now at 10:00 the 10:00 start is still allowed */
    assert_true(back);
    slot_result_free(&r);

    /* overlapping hold for kodomo refused; touching one accepted */
    strvec_t k;
    strvec_init(&k);
    strvec_push(&k, "kodomo");
    assert_int_equal(holds_create(f->st, &k, at("2026-12-01T10:59:00+09:00"),
                                  at("2026-12-01T12:00:00+09:00"), f->now + 60, f->now, "t", &id2,
                                  &clash), HOLDS_CONFLICT);
    assert_int_equal(clash, id);
    assert_int_equal(holds_create(f->st, &k, at("2026-12-01T11:00:00+09:00"),
                                  at("2026-12-01T12:00:00+09:00"), f->now + 60, f->now, "t", &id2,
                                  &clash), HOLDS_OK);
    ivset_t b;
    ivset_init(&b);
    holds_agency_busy(f->st, "kodomo", at("2026-12-01T00:00:00+09:00"), at("2026-12-02T00:00:00+09:00"),
                      f->now, &b);
    assert_int_equal(b.n, 1);                                   /* touching holds merge */
    assert_int_equal(b.v[0].start, at("2026-12-01T10:00:00+09:00"));
    assert_int_equal(b.v[0].end, at("2026-12-01T12:00:00+09:00"));
    ivset_free(&b);
    json_t *list = holds_list_json(f->st, f->now, f->city.tz);
    assert_int_equal(json_array_size(json_object_get(list, "holds")), 2);
    json_decref(list);
    /* once the short hold has expired (now + 61) its time can be held
     * again; while it was active the same request clashed */
    int64_t id3 = 0;
    assert_int_equal(holds_create(f->st, &k, at("2026-12-01T11:30:00+09:00"),
                                  at("2026-12-01T12:30:00+09:00"), f->now + 7200, f->now, "t",
                                  &id3, &clash), HOLDS_CONFLICT);
    assert_int_equal(clash, id2);
    assert_int_equal(holds_create(f->st, &k, at("2026-12-01T11:30:00+09:00"),
                                  at("2026-12-01T12:30:00+09:00"), f->now + 7200, f->now + 61, "t",
                                  &id3, &clash), HOLDS_OK);
    assert_null(holds_one_json(f->st, id2, f->city.tz));         /* purged */
    assert_true(holds_delete(f->st, id));
    assert_false(holds_delete(f->st, id));
    assert_null(holds_one_json(f->st, id, f->city.tz));
    assert_true(holds_delete(f->st, id3));
    strvec_free(&k);
    strvec_free(&ag);
    slot_query_free(&q);
}

static json_t *attendee(json_t *resp, const char *id)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(json_object_get(resp, "diagnostics"), "attendees"), i, a)
        if (strcmp(json_string_value(json_object_get(a, "agency")), id) == 0) return a;
    return NULL;
}

static void freshness_flags(void **state)
{
    fx_t *f = *state;
    slot_query_t q;
    load_query(f, "q4-new-year", &q);
    char err[256];
    /* an hour later everything is an hour old, all ok */
    json_t *resp = slots_store_answer(f->st, &f->city, &q, f->now + 3600, err, sizeof err);
    assert_non_null(resp);
    assert_int_equal(json_integer_value(json_object_get(attendee(resp, "ssw"), "data_age_seconds")), 3600);
    assert_int_equal(json_array_size(json_object_get(json_object_get(resp, "diagnostics"), "warnings")), 0);
    json_decref(resp);
    /* ssw's feed starts failing: flagged, data kept */
    exec_ok(f->st, "UPDATE feeds SET state = 'failing' WHERE id = 'ssw'");
    resp = slots_store_answer(f->st, &f->city, &q, f->now + 3600, err, sizeof err);
    json_t *ssw = attendee(resp, "ssw");
    assert_string_equal(json_string_value(json_object_get(ssw, "status")), "failing");
    json_t *w = json_object_get(json_object_get(resp, "diagnostics"), "warnings");
    assert_int_equal(json_array_size(w), 1);
    assert_non_null(strstr(json_string_value(json_array_get(w, 0)), "60分前"));
    assert_int_equal(json_array_size(json_object_get(resp, "slots")), 5);
    json_decref(resp);
    /* one of kikan-shogai's calendars never fetched: pending, age unknown */
    exec_ok(f->st, "UPDATE feeds SET state = 'pending', last_success = NULL WHERE id = 'kikan-shogai-b'");
    resp = slots_store_answer(f->st, &f->city, &q, f->now, err, sizeof err);
    json_t *ks = attendee(resp, "kikan-shogai");
    assert_string_equal(json_string_value(json_object_get(ks, "status")), "pending");
    assert_true(json_is_null(json_object_get(ks, "data_age_seconds")));
    assert_int_equal(json_array_size(json_object_get(ks, "pending_calendars")), 1);
    assert_int_equal(json_array_size(json_object_get(json_object_get(resp, "diagnostics"), "warnings")), 2);
    /* ... and a required agency with no data is never taken as free */
    assert_int_equal(json_array_size(json_object_get(resp, "slots")), 0);
    json_t *dg = json_object_get(resp, "diagnostics");
    assert_string_equal(json_string_value(json_object_get(dg, "reason")), "no-data");
    assert_non_null(strstr(json_string_value(json_object_get(dg, "message")), "一度も取得できていない"));
    json_decref(resp);
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE feeds SET state = 'ok', last_success = %lld"
             " WHERE id IN ('ssw', 'kikan-shogai-b')", (long long)f->now);
    exec_ok(f->st, sql);
    slot_query_free(&q);
}

/* The staleness rule (feeds_is_stale), with time injected: only a
 * calendar in state ok whose last success is more than stale_after old. */
static void stale_rule(void **state)
{
    (void)state;
    int64_t t = 1800000000;
    assert_int_equal(feeds_stale_after(NULL), 3 * 300);       /* 3 x the default POLL_INTERVAL */
    assert_false(feeds_is_stale(true, true, t, t + 900, 900));        /* exactly 3 intervals: not yet */
    assert_true(feeds_is_stale(true, true, t, t + 901, 900));
    assert_false(feeds_is_stale(false, true, t, t + 9000, 900));      /* failing has its own mark */
    assert_false(feeds_is_stale(true, false, 0, t, 900));             /* never fetched: pending */
    assert_false(feeds_is_stale(true, true, t, t + 9000, 0));         /* 0: never stale */
    char *w = feeds_stale_text(t - 3 * 3600, t, tz_default());
    assert_non_null(strstr(w, "予定が古い可能性があります（最終取得："));
    assert_non_null(strstr(w, "3時間前）"));
    free(w);
}

/* A feed in state ok that was not fetched again for over 3 poll intervals
 * is flagged stale on its attendee, with its age and a warning; its data
 * still counts (as a failing feed's does), and the others stay fresh. */
static void stale_feed_flagged(void **state)
{
    fx_t *f = *state;
    slot_query_t q;
    load_query(f, "q4-new-year", &q);
    char err[256], sql[200];
    int64_t later = f->now + 2 * 3600, stale_after = 900;
    /* every feed fetched again 10 minutes ago, except ssw */
    snprintf(sql, sizeof sql, "UPDATE feeds SET last_success = %lld WHERE id != 'ssw'",
             (long long)(later - 600));
    exec_ok(f->st, sql);
    json_t *resp = slots_store_answer_cached(f->st, &f->city, &q, later, NULL, 0, stale_after,
                                             err, sizeof err);
    assert_non_null(resp);
    json_t *ssw = attendee(resp, "ssw");
    assert_string_equal(json_string_value(json_object_get(ssw, "status")), "ok");
    assert_true(json_is_true(json_object_get(ssw, "stale")));
    assert_int_equal(json_integer_value(json_object_get(ssw, "stale_age_seconds")), 2 * 3600);
    assert_string_equal(json_string_value(json_array_get(json_object_get(ssw, "stale_calendars"), 0)), "ssw");
    assert_true(json_is_false(json_object_get(attendee(resp, "kikan-shogai"), "stale")));
    json_t *w = json_object_get(json_object_get(resp, "diagnostics"), "warnings");
    assert_int_equal(json_array_size(w), 1);
    assert_non_null(strstr(json_string_value(json_array_get(w, 0)), "ssw: 予定が古い可能性があります"));
    assert_non_null(strstr(json_string_value(json_array_get(w, 0)), "2時間前"));
    assert_int_equal(json_array_size(json_object_get(resp, "slots")), 5);     /* data still used */
    json_decref(resp);
    /* the same data with a longer threshold (a slower POLL_INTERVAL): fresh */
    resp = slots_store_answer_cached(f->st, &f->city, &q, later, NULL, 0, 3 * 3600, err, sizeof err);
    assert_true(json_is_false(json_object_get(attendee(resp, "ssw"), "stale")));
    assert_int_equal(json_array_size(json_object_get(json_object_get(resp, "diagnostics"), "warnings")), 0);
    json_decref(resp);
    /* failing wins: the feed is marked failing, not stale */
    exec_ok(f->st, "UPDATE feeds SET state = 'failing' WHERE id = 'ssw'");
    resp = slots_store_answer_cached(f->st, &f->city, &q, later, NULL, 0, stale_after, err, sizeof err);
    ssw = attendee(resp, "ssw");
    assert_string_equal(json_string_value(json_object_get(ssw, "status")), "failing");
    assert_true(json_is_false(json_object_get(ssw, "stale")));
    json_decref(resp);
    /* one agency, one failing calendar and another stale one: both lines */
    exec_ok(f->st, "UPDATE feeds SET state = 'ok' WHERE id = 'ssw'");
    snprintf(sql, sizeof sql, "UPDATE feeds SET last_success = %lld", (long long)(later - 600));
    exec_ok(f->st, sql);
    exec_ok(f->st, "UPDATE feeds SET state = 'failing' WHERE id = 'kikan-shogai-a'");
    snprintf(sql, sizeof sql, "UPDATE feeds SET last_success = %lld WHERE id = 'kikan-shogai-b'",
             (long long)(later - 2 * 3600));
    exec_ok(f->st, sql);
    resp = slots_store_answer_cached(f->st, &f->city, &q, later, NULL, 0, stale_after, err, sizeof err);
    json_t *ks = attendee(resp, "kikan-shogai");
    assert_string_equal(json_string_value(json_object_get(ks, "status")), "failing");
    assert_true(json_is_true(json_object_get(ks, "stale")));
    w = json_object_get(json_object_get(resp, "diagnostics"), "warnings");
    assert_int_equal(json_array_size(w), 2);
    assert_non_null(strstr(json_string_value(json_array_get(w, 0)), "kikan-shogai: 予定の取得に失敗しています"));
    assert_non_null(strstr(json_string_value(json_array_get(w, 1)), "kikan-shogai: 予定が古い可能性があります"));
    assert_non_null(strstr(json_string_value(json_array_get(w, 1)), "2時間前"));
    json_decref(resp);
    snprintf(sql, sizeof sql, "UPDATE feeds SET state = 'ok', last_success = %lld", (long long)f->now);
    exec_ok(f->st, sql);
    slot_query_free(&q);
}

/* The widened search stops where stored data ends (fetch + 180 days). */
static void widened_search_respects_data_horizon(void **state)
{
    fx_t *f = *state;
    slot_query_t q;
    load_query(f, "q5-impossible", &q);
    char err[256];
    slot_result_t r;
    /* pretend the data was fetched long ago: horizon before the window ends */
    assert_int_equal(slots_store_find(f->st, &f->city, &q, f->now, 0, &r, err, sizeof err), 0);
    assert_true(r.has_next);
    slot_result_free(&r);
    exec_ok(f->st, "UPDATE feeds SET last_success = last_success - 175 * 86400");
    assert_int_equal(slots_store_find(f->st, &f->city, &q, f->now, 0, &r, err, sizeof err), 0);
    assert_false(r.has_next);
    slot_result_free(&r);
    exec_ok(f->st, "UPDATE feeds SET last_success = last_success + 175 * 86400");
    slot_query_free(&q);
}

/* A free/busy calendar that declared the range it covers (feeds.covers_to,
 * migration 7) holds no data past it: hoken's feed ends 2027-03-01 00:00,
 * so q5's widened slot (1 March, found while that time counted as free)
 * is not proposed; without a declared range it is. */
static void widened_search_stops_at_declared_coverage(void **state)
{
    fx_t *f = *state;
    slot_query_t q;
    load_query(f, "q5-impossible", &q);
    char err[256], sql[160];
    slot_result_t r;
    int64_t covered_to = at("2027-03-01T00:00:00+09:00");
    exec_ok(f->st, "UPDATE feeds SET covers_from = NULL, covers_to = NULL");
    assert_int_equal(slots_store_find(f->st, &f->city, &q, f->now, 0, &r, err, sizeof err), 0);
    assert_true(r.has_next);
    assert_true(r.next.start >= covered_to);        /* the unknown time was taken as free */
    slot_result_free(&r);
    snprintf(sql, sizeof sql, "UPDATE feeds SET covers_from = %lld, covers_to = %lld WHERE id = 'hoken'",
             (long long)at("2026-11-30T00:00:00+09:00"), (long long)covered_to);
    exec_ok(f->st, sql);
    assert_int_equal(slots_store_find(f->st, &f->city, &q, f->now, 0, &r, err, sizeof err), 0);
    assert_false(r.has_next);
    assert_int_equal(r.nslots, 0);
    slot_result_free(&r);
    /* a range ending later than the stored window changes nothing */
    snprintf(sql, sizeof sql, "UPDATE feeds SET covers_to = %lld WHERE id = 'hoken'",
             (long long)at("2028-01-01T00:00:00+09:00"));
    exec_ok(f->st, sql);
    assert_int_equal(slots_store_find(f->st, &f->city, &q, f->now, 0, &r, err, sizeof err), 0);
    assert_true(r.has_next);
    slot_result_free(&r);
    exec_ok(f->st, "UPDATE feeds SET covers_from = NULL, covers_to = NULL");
    slot_query_free(&q);
}

/* A booked meeting is busy for its attendees unless they declined or it
 * was cancelled (store_meetings_agency_busy), and except_meeting ignores it. */
static void booked_meetings_are_busy(void **state)
{
    fx_t *f = *state;
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO meetings (id, uid, case_id, type, start, end, created, updated)"
             " VALUES (77, 'uid-77', 'Y-01', '支援会議', %lld, %lld, 0, 0);"
             "INSERT INTO meeting_attendees (meeting_id, agency, email) VALUES (77, 'jiritsu', 'j@x');",
             (long long)at("2026-12-01T10:00:00+09:00"), (long long)at("2026-12-01T11:00:00+09:00"));
    exec_ok(f->st, sql);
    expect_first_slot(f, "q3-urgent", NULL);                       /* its only slot is taken */
    slot_query_t q;
    load_query(f, "q3-urgent", &q);
    slot_result_t r;
    char err[256];
    assert_int_equal(slots_store_find(f->st, &f->city, &q, f->now, 77, &r, err, sizeof err), 0);
    assert_int_equal(r.nslots, 1);                                 /* re-planning meeting 77 itself */
    slot_result_free(&r);
    slot_query_free(&q);
    exec_ok(f->st, "UPDATE meeting_attendees SET partstat = 'DECLINED' WHERE meeting_id = 77");
    expect_first_slot(f, "q3-urgent", "2026-12-01T10:00:00+09:00");
    exec_ok(f->st, "UPDATE meeting_attendees SET partstat = 'ACCEPTED' WHERE meeting_id = 77;"
                   "UPDATE meetings SET status = 'cancelled' WHERE id = 77");
    expect_first_slot(f, "q3-urgent", "2026-12-01T10:00:00+09:00");
    exec_ok(f->st, "DELETE FROM meetings WHERE id = 77");
}

/* ---- query windows past a data horizon ----------------------------------- */

#define HOKEN_COVERED_TO "2027-03-01T00:00:00+09:00"   /* hoken.ics DTEND */

static void set_hoken_coverage(fx_t *f, bool declared)
{
    char sql[200];
    if (!declared) {
        exec_ok(f->st, "UPDATE feeds SET covers_from = NULL, covers_to = NULL");
        return;
    }
    snprintf(sql, sizeof sql, "UPDATE feeds SET covers_from = %lld, covers_to = %lld WHERE id = 'hoken'",
             (long long)at("2026-11-30T00:00:00+09:00"), (long long)at(HOKEN_COVERED_TO));
    exec_ok(f->st, sql);
}

/* A query from late February into March 2027 (past hoken's coverage). */
static void past_coverage_query(const fx_t *f, const char *required, const char *optional,
                                slot_query_t *q)
{
    char doc[512];
    snprintf(doc, sizeof doc,
             "{\"id\": \"past-coverage\", \"required\": [%s], \"optional\": [%s],"
             " \"duration_minutes\": 60, \"from\": \"2027-02-22T00:00:00+09:00\","
             " \"to\": \"2027-03-13T00:00:00+09:00\", \"limit\": 100}", required, optional);
    slot_error_t e;
    if (!slot_query_parse(doc, strlen(doc), &f->city, q, &e)) fail_msg("%s", e.message);
}

static size_t slots_ending_after(json_t *resp, int64_t t, const char *with_optional)
{
    size_t i, n = 0;
    json_t *s;
    json_array_foreach(json_object_get(resp, "slots"), i, s) {
        if (at(json_string_value(json_object_get(s, "end"))) <= t) continue;
        if (!with_optional) { n++; continue; }
        size_t k;
        json_t *o;
        json_array_foreach(json_object_get(s, "optional"), k, o)
            if (strcmp(json_string_value(o), with_optional) == 0) n++;
    }
    return n;
}

static size_t slots_with_optional(json_t *resp, const char *id)
{
    return slots_ending_after(resp, INT64_MIN, id);
}

static bool has_warning(json_t *resp, const char *needle)
{
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(json_object_get(resp, "diagnostics"), "warnings"), i, w)
        if (strstr(json_string_value(w), needle)) return true;
    return false;
}

/* A required attendee: no slot ends after its declared coverage (without
 * the declared range the unknown time was proposed), slots before it
 * remain, and the warning names the date. */
static void window_past_required_horizon_is_cut(void **state)
{
    fx_t *f = *state;
    slot_query_t q;
    past_coverage_query(f, "\"hoken\", \"jiritsu\"", "", &q);
    char err[256];
    int64_t covered_to = at(HOKEN_COVERED_TO);
    set_hoken_coverage(f, false);
    json_t *resp = slots_store_answer(f->st, &f->city, &q, f->now, err, sizeof err);
    assert_non_null(resp);
    assert_true(slots_ending_after(resp, covered_to, NULL) > 0);     /* unknown taken as free */
    assert_false(has_warning(resp, "までの予定しかない"));
    json_decref(resp);

    set_hoken_coverage(f, true);
    resp = slots_store_answer(f->st, &f->city, &q, f->now, err, sizeof err);
    assert_non_null(resp);
    assert_int_equal(slots_ending_after(resp, covered_to, NULL), 0);
    assert_true(json_array_size(json_object_get(resp, "slots")) > 0);
    assert_true(has_warning(resp, "hoken のカレンダーは 2027-02-28 までの予定しかないため、"
                                  "それ以降の候補は出していません"));
    assert_false(has_warning(resp, "jiritsu のカレンダーは"));
    json_t *cut = json_object_get(json_object_get(resp, "diagnostics"), "window_cut");
    assert_string_equal(json_string_value(json_object_get(cut, "agency")), "hoken");
    assert_int_equal(at(json_string_value(json_object_get(cut, "data_until"))), covered_to);
    json_decref(resp);

    /* the engine result says the same to other callers (meetings) */
    slot_result_t r;
    assert_int_equal(slots_store_find(f->st, &f->city, &q, f->now, 0, &r, err, sizeof err), 0);
    assert_int_equal(r.window_until, covered_to);
    for (size_t i = 0; i < r.nslots; i++) assert_true(r.slots[i].end <= covered_to);
    slot_result_free(&r);
    set_hoken_coverage(f, false);
    slot_query_free(&q);
}

/* A window entirely past the horizon proposes nothing. */
static void window_wholly_past_required_horizon_is_empty(void **state)
{
    fx_t *f = *state;
    slot_query_t q;
    past_coverage_query(f, "\"hoken\", \"jiritsu\"", "", &q);
    q.from = at("2027-03-02T00:00:00+09:00");
    char err[256];
    set_hoken_coverage(f, true);
    json_t *resp = slots_store_answer(f->st, &f->city, &q, f->now, err, sizeof err);
    assert_non_null(resp);
    assert_int_equal(json_array_size(json_object_get(resp, "slots")), 0);
    assert_true(has_warning(resp, "2027-02-28 までの予定しかない"));
    json_decref(resp);
    set_hoken_coverage(f, false);
    slot_query_free(&q);
}

/* An optional attendee is not listed for slots past its coverage, still
 * is before it, and the slots themselves are not cut. */
static void optional_past_horizon_not_listed(void **state)
{
    fx_t *f = *state;
    slot_query_t q;
    past_coverage_query(f, "\"jiritsu\"", "\"hoken\"", &q);
    char err[256];
    int64_t covered_to = at(HOKEN_COVERED_TO);
    set_hoken_coverage(f, false);
    json_t *resp = slots_store_answer(f->st, &f->city, &q, f->now, err, sizeof err);
    assert_true(slots_ending_after(resp, covered_to, "hoken") > 0);  /* unknown taken as free */
    json_decref(resp);

    set_hoken_coverage(f, true);
    resp = slots_store_answer(f->st, &f->city, &q, f->now, err, sizeof err);
    assert_non_null(resp);
    assert_int_equal(slots_ending_after(resp, covered_to, "hoken"), 0);
    assert_true(slots_with_optional(resp, "hoken") > 0);
    assert_true(slots_ending_after(resp, covered_to, NULL) > 0);    /* jiritsu alone decides */
    assert_true(has_warning(resp, "hoken のカレンダーは 2027-02-28 までの予定しかないため、"
                                  "それ以降の候補では参加可能に数えていません"));
    assert_null(json_object_get(json_object_get(resp, "diagnostics"), "window_cut"));
    json_decref(resp);
    set_hoken_coverage(f, false);
    slot_query_free(&q);
}

/* The stored busy window (fetch + 180 days) cuts a query window too. */
static void window_past_stored_window_is_cut(void **state)
{
    fx_t *f = *state;
    slot_query_t q;
    past_coverage_query(f, "\"jiritsu\"", "", &q);
    char err[256];
    /* jiritsu's data fetched 180 days before 2027-03-01 09:00 JST */
    char sql[200];
    int64_t horizon = at("2027-03-01T09:00:00+09:00");
    snprintf(sql, sizeof sql, "UPDATE feeds SET last_success = %lld WHERE id = 'jiritsu'",
             (long long)(horizon - FEEDS_WINDOW_AHEAD));
    exec_ok(f->st, sql);
    json_t *resp = slots_store_answer(f->st, &f->city, &q, f->now, err, sizeof err);
    assert_non_null(resp);
    assert_int_equal(slots_ending_after(resp, horizon, NULL), 0);
    assert_true(json_array_size(json_object_get(resp, "slots")) > 0);
    assert_true(has_warning(resp, "jiritsu のカレンダーは 2027-03-01 までの予定しかない"));
    json_decref(resp);
    snprintf(sql, sizeof sql, "UPDATE feeds SET last_success = %lld WHERE id = 'jiritsu'",
             (long long)f->now);
    exec_ok(f->st, sql);
    slot_query_free(&q);
}

/* When the widened search stopped at a horizon, the message says where. */
static void empty_message_names_horizon(void **state)
{
    fx_t *f = *state;
    slot_query_t q;
    load_query(f, "q5-impossible", &q);
    char err[256];
    set_hoken_coverage(f, true);
    json_t *resp = slots_store_answer(f->st, &f->city, &q, f->now, err, sizeof err);
    assert_non_null(resp);
    json_t *diag = json_object_get(resp, "diagnostics");
    const char *msg = json_string_value(json_object_get(diag, "message"));
    assert_non_null(strstr(msg, "2027-02-28までに全員が参加できる枠は見つかりませんでした"));
    assert_null(strstr(msg, "26週間以内に全員"));
    assert_int_equal(at(json_string_value(json_object_get(diag, "next_search_until"))),
                     at(HOKEN_COVERED_TO));
    json_decref(resp);
    set_hoken_coverage(f, false);
    slot_query_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fixture_answers_through_store),
        cmocka_unit_test(holds_block_and_release),
        cmocka_unit_test(freshness_flags),
        cmocka_unit_test(stale_rule),
        cmocka_unit_test(stale_feed_flagged),
        cmocka_unit_test(widened_search_respects_data_horizon),
        cmocka_unit_test(widened_search_stops_at_declared_coverage),
        cmocka_unit_test(booked_meetings_are_busy),
        cmocka_unit_test(window_past_required_horizon_is_cut),
        cmocka_unit_test(window_wholly_past_required_horizon_is_empty),
        cmocka_unit_test(optional_past_horizon_not_listed),
        cmocka_unit_test(window_past_stored_window_is_cut),
        cmocka_unit_test(empty_message_names_horizon),
    };
    return cmocka_run_group_tests_name("slots_store", tests, setup, teardown);
}
