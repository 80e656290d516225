/* SPDX-License-Identifier: MIT */
/*
 * test_store_rows.c - the store's statement helpers (store_stmt and its
 * typed arguments, store_int/store_text/store_exists, store_run_one,
 * store_rows_json, store_col_ids) and the two domains whose SQL moved
 * into the store from service/ and mail/: meetings (store_meetings.h) and
 * the outbox (store_outbox.h).  Each test opens a fresh ":memory:" store
 * and checks what a function writes by reading it back with another.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_meetings.h"
#include "store_outbox.h"
#include "util.h"

static store_t *open_mem(void)
{
    char err[256];
    store_t *st = store_open(":memory:", err, sizeof err);
    if (!st)
        fail_msg("%s", err);
    return st;
}

static void test_stmt_helpers(void **state)
{
    store_t *st = open_mem();
    assert_int_equal(store_exec(st, "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER,"
                                    " s TEXT, j TEXT, b BLOB, z TEXT)"), 0);
    json_t *j = json_pack("{s:i}", "k", 1);
    assert_true(store_run(store_stmt(st, "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)",
                                     STORE_INT(1), STORE_INT(1767225600), STORE_TEXT("あ"),
                                     STORE_JSON(j), STORE_BLOB("a\0b", 3), STORE_NULL)));
    assert_true(store_run(store_stmt(st, "INSERT INTO t (id, s, j) VALUES (?, ?, ?)",
                                     STORE_INT(2), STORE_TEXT(NULL), STORE_JSON(NULL))));
    json_decref(j);
    /* one-row readers */
    assert_int_equal(store_int(store_stmt(st, "SELECT n FROM t WHERE id = ?", STORE_INT(1)), -1),
                     1767225600);
    assert_int_equal(store_int(store_stmt(st, "SELECT n FROM t WHERE id = ?", STORE_INT(2)), -1),
                     -1);                                            /* NULL */
    assert_int_equal(store_int(store_stmt(st, "SELECT n FROM t WHERE id = ?", STORE_INT(9)), -7),
                     -7);                                            /* no row */
    assert_int_equal(store_int(store_stmt(st, "SELECT length(b) FROM t WHERE id = ?",
                                          STORE_INT(1)), 0), 3);
    char *s = store_text(store_stmt(st, "SELECT j FROM t WHERE id = ?", STORE_INT(1)));
    assert_string_equal(s, "{\"k\":1}");
    free(s);
    assert_null(store_text(store_stmt(st, "SELECT s FROM t WHERE id = ?", STORE_INT(2))));
    assert_true(store_exists(store_stmt(st, "SELECT 1 FROM t WHERE s = ?", STORE_TEXT("あ"))));
    assert_false(store_exists(store_stmt(st, "SELECT 1 FROM t WHERE s = ?", STORE_TEXT("い"))));
    /* a failed prepare is NULL, and every reader takes it */
    assert_null(store_stmt(st, "SELECT nope FROM t WHERE id = ?", STORE_INT(1)));
    assert_false(store_run(store_stmt(st, "UPDATE nope SET x = ?", STORE_INT(1))));
    assert_int_equal(store_int(store_stmt(st, "SELECT nope FROM t WHERE id = ?", STORE_INT(1)), 5),
                     5);
    assert_false(store_exists(NULL));
    assert_null(store_text(NULL));
    /* exactly one row changed */
    assert_true(store_run_one(st, store_stmt(st, "UPDATE t SET n = 0 WHERE id = ?", STORE_INT(2))));
    assert_false(store_run_one(st, store_stmt(st, "UPDATE t SET z = z WHERE id > ?", STORE_INT(0))));
    assert_false(store_run_one(st, store_stmt(st, "UPDATE t SET n = 1 WHERE id = ?", STORE_INT(9))));
    /* rows as JSON: integer, string, boolean, ISO time, NULL */
    static const char *const names[] = {"id", "s", "b", "t", "z"};
    json_t *rows = store_rows_json(store_prepare(st, "SELECT id, s, n, n, z FROM t ORDER BY id"),
                                   "isbts", names);
    assert_int_equal(json_array_size(rows), 2);
    json_t *r = json_array_get(rows, 0);
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 1);
    assert_string_equal(json_string_value(json_object_get(r, "s")), "あ");
    assert_true(json_is_true(json_object_get(r, "b")));
    assert_string_equal(json_string_value(json_object_get(r, "t")), "2026-01-01T09:00:00+09:00");
    assert_true(json_is_null(json_object_get(r, "z")));
    assert_true(json_is_null(json_object_get(json_array_get(rows, 1), "s")));
    json_decref(rows);
    assert_null(store_rows_json(NULL, "i", names));
    /* ids */
    size_t n;
    int64_t *ids = store_col_ids(store_prepare(st, "SELECT id FROM t ORDER BY id DESC"), &n);
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], 2);
    assert_int_equal(ids[1], 1);
    free(ids);
    assert_null(store_col_ids(NULL, &n));
    assert_int_equal(n, 0);
    store_close(st);
}

static int64_t book(store_t *st, const char *uid, const char *case_id, int64_t start,
                    const char *agency)
{
    store_meeting_new_t m = {
        .uid = uid, .case_id = case_id, .type = "個別ケース会議", .location = "本庁舎",
        .monitoring_date = "2026-02-01", .lead = agency, .start = start, .end = start + 3600,
        .now = 100,
    };
    int64_t id = store_meeting_insert(st, &m);
    assert_true(id > 0);
    assert_true(store_meeting_add_attendee(st, id, agency, "x@example.org", true));
    return id;
}

static void test_meeting_rows(void **state)
{
    store_t *st = open_mem();
    int64_t a = book(st, "u-a", "Y-01", 10000, "kaigo");
    int64_t b = book(st, "u-b", "Y-01", 20000, "kaigo");
    assert_true(store_meeting_add_attendee(st, a, "shogai", "y@example.org", false));
    assert_int_equal(store_meeting_insert(st, &(store_meeting_new_t){
                         .uid = "u-a", .case_id = "Y-02", .type = "t", .now = 1}), -1);
    store_meeting_t g;
    assert_true(store_meeting_get(st, a, &g));
    assert_string_equal(g.uid, "u-a");
    assert_string_equal(g.status, "scheduled");
    assert_string_equal(g.location, "本庁舎");
    assert_null(g.url);
    assert_int_equal(g.sequence, 0);
    assert_int_equal(g.natt, 2);
    assert_string_equal(g.att[0].agency, "kaigo");          /* insertion order */
    assert_true(g.att[0].required);
    assert_false(g.att[1].required);
    assert_string_equal(g.att[1].partstat, "NEEDS-ACTION");
    store_meeting_free(&g);
    assert_false(store_meeting_get(st, 999, &g));
    assert_int_equal(store_meeting_id_by_uid(st, "u-b"), b);
    assert_int_equal(store_meeting_id_by_uid(st, "none"), 0);

    /* a change: sequence + 1, new time, answers forgotten, place kept or set */
    assert_true(store_exec(st, "UPDATE meeting_attendees SET partstat = 'DECLINED',"
                               " replied_at = 5 WHERE agency = 'shogai'") == 0);
    assert_true(store_meeting_bump(st, a, "replan", 11000, 12000, 200));
    assert_true(store_meeting_set_place(st, a, NULL, "https://meet.example/x"));
    assert_true(store_meeting_get(st, a, &g));
    assert_int_equal(g.sequence, 1);
    assert_string_equal(g.status, "replan");
    assert_int_equal(g.start, 11000);
    assert_int_equal(g.updated, 200);
    assert_string_equal(g.location, "本庁舎");
    assert_string_equal(g.url, "https://meet.example/x");
    assert_string_equal(g.att[1].partstat, "DECLINED");
    store_meeting_free(&g);
    /* a declined attendee is not busy; the other one is */
    ivset_t busy;
    ivset_init(&busy);
    store_meetings_agency_busy(st, "shogai", 0, 100000, 0, &busy);
    assert_int_equal(busy.n, 0);
    store_meetings_agency_busy(st, "kaigo", 0, 100000, b, &busy);
    assert_int_equal(busy.n, 1);                            /* b excepted */
    assert_int_equal(busy.v[0].start, 11000);
    ivset_free(&busy);
    assert_true(store_meeting_reset_answers(st, a));
    assert_true(store_meeting_get(st, a, &g));
    assert_string_equal(g.att[1].partstat, "NEEDS-ACTION");
    assert_int_equal(g.att[1].replied_at, 0);
    store_meeting_free(&g);

    /* lists */
    size_t n;
    int64_t *ids = store_meetings_find(st, "Y-01", "shogai", NULL, &n);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], a);
    free(ids);
    ids = store_meetings_find(st, NULL, NULL, "scheduled", &n);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], b);
    free(ids);
    assert_true(store_meeting_later_exists(st, "Y-01", a, 11000));
    assert_false(store_meeting_later_exists(st, "Y-01", b, 20000));
    ids = store_meetings_monitoring(st, &n);
    assert_int_equal(n, 2);
    free(ids);
    assert_true(store_meeting_mark_reminded(st, a, 300));
    ids = store_meetings_monitoring(st, &n);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], b);
    free(ids);
    assert_true(store_meeting_set_status(st, b, "cancelled", 400));
    ids = store_meetings_ahead(st, "Y-01", 0, &n);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], a);
    free(ids);
    store_meeting_entry_t *rows;
    assert_true(store_meetings_of_agency(st, "kaigo", &rows, &n));
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].uid, "u-a");
    assert_string_equal(rows[1].status, "cancelled");
    assert_int_equal(rows[1].updated, 400);
    store_meeting_entries_free(rows, n);
    assert_true(store_meeting_remove_attendee(st, a, "shogai"));
    assert_true(store_meetings_of_agency(st, "shogai", &rows, &n));
    assert_int_equal(n, 0);
    store_meeting_entries_free(rows, n);
    store_close(st);
}

static void enqueue(store_t *st, const char *mid, int64_t now, bool want_inserted)
{
    store_outbox_new_t m = {
        .message_id = mid, .from = "org@example.org", .rcpt = "a@example.org",
        .subject = "件名", .kind = "request", .body = "raw\r\n", .len = 5, .now = now,
    };
    bool inserted;
    assert_true(store_outbox_insert(st, &m, &inserted));
    assert_int_equal(inserted, want_inserted);
}

static void test_outbox_rows(void **state)
{
    store_t *st = open_mem();
    enqueue(st, "<1@x>", 100, true);
    enqueue(st, "<2@x>", 50, true);
    enqueue(st, "<1@x>", 100, false);                      /* same Message-ID */
    assert_int_equal(store_outbox_count(st, "pending"), 2);
    int64_t when;
    assert_true(store_outbox_earliest(st, &when));
    assert_int_equal(when, 50);
    store_outbox_due_t d;
    assert_false(store_outbox_next_due(st, 10, &d));
    assert_true(store_outbox_next_due(st, 100, &d));
    assert_string_equal(d.message_id, "<2@x>");
    assert_int_equal(d.len, 5);
    assert_memory_equal(d.body, "raw\r\n", 5);
    int64_t id = d.id;
    store_outbox_due_free(&d);
    assert_true(store_outbox_mark_sending(st, id, 120));
    assert_false(store_outbox_mark_sending(st, id, 121));     /* no longer pending */
    assert_int_equal(store_outbox_attempts(st, id), 1);
    assert_int_equal(store_outbox_attempts(st, 999), 1);
    assert_true(store_outbox_mark_handed(st, id));
    store_outbox_doubt_t *doubt;
    size_t n;
    assert_true(store_outbox_in_doubt(st, &doubt, &n));
    assert_int_equal(n, 1);
    assert_true(doubt[0].handed);
    assert_string_equal(doubt[0].message_id, "<2@x>");
    store_outbox_doubts_free(doubt, n);
    assert_true(store_outbox_set_state(st, id, "sent", 130, NULL, 130));
    assert_int_equal(store_outbox_count(st, "sent"), 1);
    json_t *list = store_outbox_list(st, NULL, 0);
    assert_int_equal(json_array_size(list), 2);
    json_t *sent = json_array_get(list, 0);                 /* newest (id 2) first */
    assert_string_equal(json_string_value(json_object_get(sent, "state")), "sent");
    assert_true(json_is_string(json_object_get(sent, "sent_at")));
    assert_true(json_is_null(json_object_get(sent, "meeting_id")));
    assert_true(json_is_false(json_object_get(sent, "config_error")));
    json_decref(list);
    list = store_outbox_list(st, "pending", 1);
    assert_int_equal(json_array_size(list), 1);
    json_decref(list);
    store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stmt_helpers),
        cmocka_unit_test(test_meeting_rows),
        cmocka_unit_test(test_outbox_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
