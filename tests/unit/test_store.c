/* SPDX-License-Identifier: MIT */
/*
 * test_store.c - the SQLite store: migrations, statement cache,
 * transactions, city import (one transaction, idempotent, updates in place,
 * nothing half-imported), the busy-time queries of feeds.c including
 * the agency `need` rule, and the live lead count (carried-in base plus
 * open approved leads; migration 9 turns old live counts into bases),
 * the rows the HTTP API reads through store_feeds.h, store_tokens.h
 * and the agency helpers of store.h; the statement helpers (store_stmt
 * and its typed arguments, store_int/store_text/store_exists,
 * store_run_one, store_rows_json, store_col_ids), and the meetings and
 * outbox rows (store_meetings.h, store_outbox.h), each read back through
 * another function, and the audit rows (store_audit.h) with the
 * 要再調整 suggestion times a meeting's history carries (migration 14).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feeds.h"
#include "store.h"
#include "store_audit.h"
#include "store_feeds.h"
#include "store_meetings.h"
#include "store_outbox.h"
#include "store_tokens.h"
#include "store_users.h"
#include "support_proc.h"

#define CITY "tests/data/yamanami"

static const char *small_doc =
    "{\"city\": \"テスト市\", \"timezone\": \"Asia/Tokyo\", \"districts\": [\"北部\"],"
    " \"agencies\": ["
    "  {\"id\": \"a\", \"name\": \"機関A\", \"fields\": [\"高齢\"], \"areas\": [],"
    "   \"email\": \"a@example.org\", \"hours\": {\"mon-fri\": \"09:00-17:00\"},"
    "   \"travel_minutes\": 0, \"max_lead_cases\": 5, \"lead_cases\": 0,"
    "   \"support_meeting_member\": true, \"need\": 2,"
    "   \"calendars\": [{\"id\": \"a1\", \"kind\": \"ics\", \"url\": \"/x/a1.ics\"},"
    "                   {\"id\": \"a2\", \"kind\": \"ics\", \"url\": \"/x/a2.ics\"},"
    "                   {\"id\": \"a3\", \"kind\": \"freebusy\", \"url\": \"/x/a3.ics\"}]},"
    "  {\"id\": \"b\", \"name\": \"機関B\", \"fields\": [\"障害\"], \"areas\": [\"北部\"],"
    "   \"email\": \"b@example.org\", \"hours\": {\"mon-fri\": \"09:00-17:00\"},"
    "   \"travel_minutes\": 10, \"max_lead_cases\": 5, \"lead_cases\": 1,"
    "   \"support_meeting_member\": false,"
    "   \"calendars\": [{\"id\": \"b1\", \"kind\": \"ics\", \"url\": \"https://cal.example/b1.ics\"}]}"
    "]}";

static json_t *doc(void)
{
    json_t *j = json_loads(small_doc, 0, NULL);
    assert_non_null(j);
    return j;
}

static long long count(store_t *st, const char *sql)
{
    sqlite3_stmt *s = store_prepare(st, sql);
    assert_non_null(s);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    long long n = sqlite3_column_int64(s, 0);
    store_done(s);
    return n;
}

static store_t *open_mem(void)
{
    char err[256];
    store_t *st = store_open(":memory:", err, sizeof err);
    if (!st)
        fail_msg("%s", err);
    return st;
}

/* A DATABASE in a folder that does not exist (the sample config's
 * /var/lib/tsunagu before it is made) says which folder to create. */
static void test_missing_folder_is_named(void **state)
{
    char *dir = support_mkdtemp("test-store");
    char *path = support_path(dir, "no-such/t.db");
    char err[512];
    assert_null(store_open(path, err, sizeof err));
    char *want = xasprintf("フォルダ %s/no-such がありません", dir);
    if (!strstr(err, want))
        fail_msg("%s", err);
    /* the daemon locks first: the lock beside the database says the same */
    int fd;
    err[0] = '\0';
    assert_false(store_lock_database(path, &fd, err, sizeof err));
    if (!strstr(err, want) || !strstr(err, "mkdir -p"))
        fail_msg("%s", err);
    free(want);
    free(path);
    support_rmtree(dir);
    free(dir);
}

/* One daemon per database: a second lock on the same file is refused
 * with the holder's pid; closing the first frees it. */
static void test_one_daemon_per_database(void **state)
{
    char *dir = support_mkdtemp("test-store");
    char *path = support_path(dir, "t.db");
    char err[512];
    int fd1, fd2;
    assert_true(store_lock_database(path, &fd1, err, sizeof err));
    assert_true(fd1 >= 0);
    assert_false(store_lock_database(path, &fd2, err, sizeof err));
    char *pid = xasprintf("別の tsunagud (pid %ld)", (long)getpid());
    if (!strstr(err, pid))
        fail_msg("%s", err);
    free(pid);
    close(fd1);
    assert_true(store_lock_database(path, &fd2, err, sizeof err));
    close(fd2);
    assert_true(store_lock_database(":memory:", &fd1, err, sizeof err));
    assert_int_equal(fd1, -1);
    free(path);
    support_rmtree(dir);
    free(dir);
}

/* A fresh database has nobody who can act as admin; an admin token or an
 * enabled admin account is one. */
static void test_admin_exists(void **state)
{
    store_t *st = open_mem();
    assert_false(store_admin_exists(st));
    assert_int_equal(store_user_add(st, "tanaka", "coordinator", "x", 1), 1);
    assert_false(store_admin_exists(st));
    assert_true(store_token_insert(st, "h", "admin", "bootstrap", 1) > 0);
    assert_true(store_admin_exists(st));
    store_close(st);
    st = open_mem();
    assert_int_equal(store_user_add(st, "kanri", "admin", "x", 1), 1);
    assert_true(store_admin_exists(st));
    assert_true(store_user_set_disabled(st, "kanri", true, 2));
    assert_false(store_admin_exists(st));
    store_close(st);
}

static void test_migrations_applied_once(void **state)
{
    char *dir = support_mkdtemp("test-store");
    char *path = support_path(dir, "t.db");
    char err[256];
    store_t *st = store_open(path, err, sizeof err);
    assert_non_null(st);
    assert_true(store_has_migration(st, 1));
    assert_true(store_has_migration(st, 2));
    assert_true(store_schema_version(st) >= 2);
    long long n = count(st, "SELECT COUNT(*) FROM schema_migrations");
    store_close(st);
    st = store_open(path, err, sizeof err);
    assert_non_null(st);
    assert_int_equal(count(st, "SELECT COUNT(*) FROM schema_migrations"), n);
    /* WAL and foreign keys are on */
    sqlite3_stmt *s = store_prepare(st, "PRAGMA journal_mode");
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal(store_col_text(s, 0), "wal");
    store_done(s);
    assert_int_equal(count(st, "PRAGMA foreign_keys"), 1);
    store_close(st);
    support_rmtree(dir);
    free(dir);
    free(path);
}

static void test_statement_cache_and_tx(void **state)
{
    store_t *st = open_mem();
    const char *sql = "SELECT COUNT(*) FROM tokens";
    sqlite3_stmt *a = store_prepare(st, sql);
    store_done(a);
    assert_ptr_equal(store_prepare(st, sql), a);
    store_done(a);
    assert_null(store_prepare(st, "SELECT nonsense FROM nowhere"));
    assert_int_equal(store_begin(st), 0);
    assert_true(store_in_tx(st));
    assert_int_equal(store_begin(st), -1);      /* no nesting */
    assert_int_equal(store_exec(st, "INSERT INTO tokens(hash, role, created) VALUES ('h', 'admin', 0)"), 0);
    assert_int_equal(store_rollback(st), 0);
    assert_false(store_in_tx(st));
    assert_int_equal(count(st, sql), 0);
    assert_int_equal(store_begin(st), 0);
    assert_int_equal(store_exec(st, "INSERT INTO tokens(hash, role, created) VALUES ('h', 'admin', 0)"), 0);
    assert_int_equal(store_commit(st), 0);
    assert_int_equal(count(st, sql), 1);
    store_close(st);
}

static void test_import_and_load_city(void **state)
{
    store_t *st = open_mem();
    char err[512];
    city_t c;
    assert_false(store_load_city(st, &c, err, sizeof err));
    json_t *d = doc();
    size_t na = 0, nf = 0;
    assert_true(store_import_city(st, d, NULL, &na, &nf, err, sizeof err));
    assert_int_equal(na, 2);
    assert_int_equal(nf, 4);
    assert_true(store_load_city(st, &c, err, sizeof err));
    assert_string_equal(c.name, "テスト市");
    assert_int_equal(c.nagencies, 2);
    assert_int_equal(c.agencies[0].need, 2);
    assert_int_equal(c.agencies[0].ncalendars, 3);
    assert_string_equal(c.agencies[1].calendars[0].url, "https://cal.example/b1.ics");
    city_free(&c);
    assert_int_equal(count(st, "SELECT COUNT(*) FROM feeds WHERE state = 'pending'"), 4);
    json_decref(d);
    store_close(st);
}

static void test_fixture_city_with_base_dir(void **state)
{
    store_t *st = open_mem();
    char err[512];
    json_t *d = json_load_file(CITY "/agencies.json", 0, NULL);
    assert_non_null(d);
    size_t na, nf;
    assert_true(store_import_city(st, d, "/srv/city", &na, &nf, err, sizeof err));
    assert_int_equal(nf, 22);
    city_t c;
    assert_true(store_load_city(st, &c, err, sizeof err));
    assert_int_equal(c.nagencies, na);
    assert_true(c.has_now);
    assert_string_equal(c.agencies[0].calendars[0].url, "/srv/city/calendars/kyodo.ics");
    city_free(&c);
    json_decref(d);
    store_close(st);
}

static void test_bad_import_changes_nothing(void **state)
{
    store_t *st = open_mem();
    char err[512];
    json_t *d = doc();
    assert_true(store_import_city(st, d, NULL, NULL, NULL, err, sizeof err));
    /* second document: rename agency a, break agency b */
    json_t *bad = doc();
    json_t *ag = json_object_get(bad, "agencies");
    json_object_set_new(json_array_get(ag, 0), "name", json_string("変更後"));
    json_object_set_new(json_array_get(ag, 1), "hours", json_string("always"));
    assert_false(store_import_city(st, bad, NULL, NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "agencies[1].hours"));
    json_t *a = store_agency_json(st, "a");
    assert_string_equal(json_string_value(json_object_get(a, "name")), "機関A");
    json_decref(a);
    /* duplicate calendar ids across agencies are refused */
    json_decref(bad);
    bad = doc();
    ag = json_object_get(bad, "agencies");
    json_object_set_new(json_array_get(json_object_get(json_array_get(ag, 1), "calendars"), 0),
                        "id", json_string("a1"));
    assert_false(store_import_city(st, bad, NULL, NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "calendars[0]"));
    /* relative urls need a base dir */
    json_decref(bad);
    bad = doc();
    ag = json_object_get(bad, "agencies");
    json_object_set_new(json_array_get(json_object_get(json_array_get(ag, 1), "calendars"), 0),
                        "url", json_string("cal/b1.ics"));
    assert_false(store_import_city(st, bad, NULL, NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "agencies[1].calendars[0].url"));
    assert_int_equal(count(st, "SELECT COUNT(*) FROM feeds"), 4);
    json_decref(bad);
    json_decref(d);
    store_close(st);
}

static void put_busy(store_t *st, const char *feed, int64_t s, int64_t e)
{
    sqlite3_stmt *q = store_prepare(st, "INSERT INTO busy(feed_id, start, end) VALUES (?, ?, ?)");
    store_bind_text(q, 1, feed);
    sqlite3_bind_int64(q, 2, s);
    sqlite3_bind_int64(q, 3, e);
    assert_int_equal(sqlite3_step(q), SQLITE_DONE);
    store_done(q);
}

static void test_reimport_updates_in_place(void **state)
{
    store_t *st = open_mem();
    char err[512];
    json_t *d = doc();
    assert_true(store_import_city(st, d, NULL, NULL, NULL, err, sizeof err));
    put_busy(st, "a1", 100, 200);
    put_busy(st, "a2", 100, 200);
    store_exec(st, "UPDATE feeds SET state = 'ok', last_success = 5");
    /* same document again: nothing changes */
    assert_true(store_import_city(st, d, NULL, NULL, NULL, err, sizeof err));
    assert_int_equal(count(st, "SELECT COUNT(*) FROM busy"), 2);
    assert_int_equal(count(st, "SELECT COUNT(*) FROM feeds WHERE state = 'ok'"), 4);
    /* a2's url changes -> a2 pending and emptied, a1 untouched; b removed */
    json_t *ag = json_object_get(d, "agencies");
    json_object_set_new(json_array_get(json_object_get(json_array_get(ag, 0), "calendars"), 1),
                        "url", json_string("/y/a2.ics"));
    json_array_remove(ag, 1);
    assert_true(store_import_city(st, d, NULL, NULL, NULL, err, sizeof err));
    assert_int_equal(count(st, "SELECT COUNT(*) FROM busy WHERE feed_id = 'a1'"), 1);
    assert_int_equal(count(st, "SELECT COUNT(*) FROM busy WHERE feed_id = 'a2'"), 0);
    assert_int_equal(count(st, "SELECT COUNT(*) FROM feeds WHERE id = 'a2' AND state = 'pending'"), 1);
    assert_int_equal(count(st, "SELECT COUNT(*) FROM feeds WHERE id = 'a1' AND state = 'ok'"), 1);
    assert_int_equal(count(st, "SELECT COUNT(*) FROM agencies"), 1);
    assert_int_equal(count(st, "SELECT COUNT(*) FROM feeds"), 3);
    json_decref(d);
    store_close(st);
}


static int lead_cases(store_t *st, const char *agency, int *base)
{
    json_t *a = store_agency_json(st, agency);
    assert_non_null(a);
    int n = (int)json_integer_value(json_object_get(a, "lead_cases"));
    if (base)
        *base = (int)json_integer_value(json_object_get(a, "lead_cases_base"));
    json_decref(a);
    city_t c;
    char err[256];
    assert_true(store_load_city(st, &c, err, sizeof err));
    assert_int_equal(city_agency(&c, agency)->lead_cases, n);    /* the rules see the same */
    city_free(&c);
    return n;
}

static void test_lead_cases_are_base_plus_open_leads(void **state)
{
    char *dir = support_mkdtemp("test-store");
    char *path = support_path(dir, "t.db");
    char err[512];
    store_t *st = store_open(path, err, sizeof err);
    assert_non_null(st);
    json_t *d = doc();                                      /* b carries in 1 */
    assert_true(store_import_city(st, d, NULL, NULL, NULL, err, sizeof err));
    assert_int_equal(store_exec(st, "INSERT INTO cases(id, doc, status, lead, created, updated) VALUES"
                                    " ('c1', '{}', 'open', 'b', 0, 0), ('c2', '{}', 'closed', 'b', 0, 0),"
                                    " ('c3', '{}', 'open', 'a', 0, 0), ('c4', '{}', 'open', NULL, 0, 0)"), 0);
    int base;
    assert_int_equal(lead_cases(st, "b", &base), 2);
    assert_int_equal(base, 1);
    assert_int_equal(lead_cases(st, "a", &base), 1);
    assert_int_equal(base, 0);
    /* re-importing replaces the base only */
    assert_true(store_import_city(st, d, NULL, NULL, NULL, err, sizeof err));
    assert_int_equal(lead_cases(st, "b", NULL), 2);
    json_object_set_new(json_array_get(json_object_get(d, "agencies"), 1), "lead_cases", json_integer(3));
    assert_true(store_import_city(st, d, NULL, NULL, NULL, err, sizeof err));
    assert_int_equal(lead_cases(st, "b", &base), 4);
    assert_int_equal(base, 3);
    /* a database from before migration 9 held the live count (4) in the
     * documents: the migration takes the open lead back out */
    assert_int_equal(store_exec(st, "UPDATE agencies SET doc = json_set(doc, '$.lead_cases', 4) WHERE id = 'b';"
                                    "UPDATE city SET doc = json_set(doc, '$.agencies[1].lead_cases', 4);"
                                    "DELETE FROM schema_migrations WHERE version = 9"), 0);
    store_close(st);
    st = store_open(path, err, sizeof err);
    assert_non_null(st);
    assert_int_equal(lead_cases(st, "b", &base), 4);
    assert_int_equal(base, 3);
    assert_int_equal(lead_cases(st, "a", NULL), 1);
    json_decref(d);
    store_close(st);
    support_rmtree(dir);
    free(dir);
    free(path);
}

static void test_busy_queries_and_need(void **state)
{
    store_t *st = open_mem();
    char err[512];
    json_t *d = doc();
    assert_true(store_import_city(st, d, NULL, NULL, NULL, err, sizeof err));
    /* a1 busy [0,100) [200,300); a2 busy [50,250); a3 busy [90,210) [400,500) */
    put_busy(st, "a1", 200, 300);
    put_busy(st, "a1", 0, 100);
    put_busy(st, "a2", 50, 250);
    put_busy(st, "a3", 90, 210);
    put_busy(st, "a3", 400, 500);
    ivset_t s;
    ivset_init(&s);
    assert_true(feeds_feed_busy(st, "a1", 50, 250, &s));
    assert_int_equal(s.n, 2);
    assert_int_equal(s.v[0].start, 50);
    assert_int_equal(s.v[0].end, 100);
    assert_int_equal(s.v[1].start, 200);
    assert_int_equal(s.v[1].end, 250);
    assert_false(feeds_feed_busy(st, "nope", 0, 10, &s));
    agency_busy_t ab;
    assert_false(feeds_agency_busy(st, "nope", 0, 1000, &ab));
    assert_true(feeds_agency_busy(st, "a", 0, 1000, &ab));
    assert_int_equal(ab.ncal, 3);
    assert_int_equal(ab.need, 2);
    assert_true(ab.any_pending);
    /* need 2 of 3: busy where at least 2 calendars are busy */
    agency_busy_combined(&ab, 0, 1000, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.v[0].start, 50);
    assert_int_equal(s.v[0].end, 250);
    /* need 1: busy only where all three are busy */
    ab.need = 1;
    agency_busy_combined(&ab, 0, 1000, &s);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.v[0].start, 90);
    assert_int_equal(s.v[0].end, 100);
    assert_int_equal(s.v[1].start, 200);
    assert_int_equal(s.v[1].end, 210);
    /* need larger than the calendars: never available */
    ab.need = 4;
    agency_busy_combined(&ab, 0, 1000, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.v[0].start, 0);
    assert_int_equal(s.v[0].end, 1000);
    agency_busy_free(&ab);
    ivset_free(&s);
    json_decref(d);
    store_close(st);
}

/* The API's reads and writes: feed rows and pages, counts by state, the
 * agencies' documents, tokens. */
static void test_api_rows(void **state)
{
    store_t *st = open_mem();
    char err[512];
    json_t *d = doc();
    assert_int_equal(store_agency_count(st), 0);
    assert_true(store_import_city(st, d, NULL, NULL, NULL, err, sizeof err));
    assert_int_equal(store_agency_count(st), 2);
    assert_true(store_agency_exists(st, "a"));
    assert_false(store_agency_exists(st, "zz"));
    json_t *docs = store_agency_docs(st);
    assert_int_equal(json_array_size(docs), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(docs, 0), "id")), "a");
    json_decref(docs);

    assert_int_equal(store_exec(st, "UPDATE feeds SET state = 'failing', http_status = 503,"
                                    " last_error = 'down', warnings = 'w1\nw2', fetch_ms = 12.5,"
                                    " covers_from = 10, covers_to = 20 WHERE id = 'a2'"), 0);
    store_feed_t f;
    assert_false(store_feed_get(st, "nope", &f));
    assert_true(store_feed_get(st, "a1", &f));
    assert_string_equal(f.agency, "a");
    assert_string_equal(f.state, "pending");
    assert_null(f.last_error);
    assert_false(f.has_http_status);
    assert_false(f.has_fetch_ms);
    assert_false(f.has_covers);
    store_feed_free(&f);
    assert_true(store_feed_get(st, "a2", &f));
    assert_string_equal(f.state, "failing");
    assert_string_equal(f.last_error, "down");
    assert_string_equal(f.warnings, "w1\nw2");
    assert_true(f.has_http_status);
    assert_int_equal(f.http_status, 503);
    assert_true(f.has_fetch_ms);
    assert_true(f.has_covers);
    assert_int_equal(f.covers_to, 20);
    store_feed_free(&f);

    store_feed_t *rows;
    size_t n;
    assert_true(store_feed_page(st, NULL, NULL, 0, 10, 0, &rows, &n));
    assert_int_equal(n, 4);
    assert_string_equal(rows[0].id, "a1");
    assert_string_equal(rows[3].id, "b1");
    store_feeds_free(rows, n);
    assert_true(store_feed_page(st, NULL, NULL, 0, 2, 1, &rows, &n));
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].id, "a2");
    store_feeds_free(rows, n);
    assert_true(store_feed_page(st, "failing", NULL, 0, 10, 0, &rows, &n));
    assert_int_equal(n, 1);
    store_feeds_free(rows, n);
    assert_true(store_feed_page(st, "pending", "b", 0, 10, 0, &rows, &n));
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].id, "b1");
    store_feeds_free(rows, n);
    store_feed_counts_t c;
    assert_true(store_feed_state_counts(st, "a", &c));
    assert_int_equal(c.ok, 0);
    assert_int_equal(c.failing, 1);
    assert_int_equal(c.pending, 2);
    /* a last-success bound: with state ok, the stale feeds; a feed never
     * fetched has no last success to be old */
    assert_int_equal(store_exec(st, "UPDATE feeds SET state = 'ok', last_success = 100 WHERE id = 'a3';"
                                    "UPDATE feeds SET state = 'ok', last_success = 500 WHERE id = 'b1';"
                                    "UPDATE feeds SET last_success = NULL WHERE id = 'a2'"), 0);
    assert_true(store_feed_page(st, "ok", NULL, 200, 10, 0, &rows, &n));
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].id, "a3");
    store_feeds_free(rows, n);
    assert_true(store_feed_page(st, "ok", NULL, 600, 10, 0, &rows, &n));
    assert_int_equal(n, 2);
    assert_string_equal(rows[1].id, "b1");
    store_feeds_free(rows, n);
    assert_true(store_feed_page(st, "ok", "b", 500, 10, 0, &rows, &n));    /* not older than 500 */
    assert_int_equal(n, 0);
    store_feeds_free(rows, n);
    assert_true(store_feed_page(st, NULL, NULL, 600, 10, 0, &rows, &n));
    assert_int_equal(n, 2);
    store_feeds_free(rows, n);

    char *role, *label;
    assert_false(store_token_find(st, "h1", &role, &label));
    int64_t id = store_token_insert(st, "h1", "agency:a", NULL, 100);
    assert_true(id > 0);
    assert_true(store_token_insert(st, "h2", "admin", "ops", 200) > id);
    assert_true(store_token_find(st, "h1", &role, &label));
    assert_string_equal(role, "agency:a");
    assert_string_equal(label, "");
    free(role);
    free(label);
    store_token_t *toks;
    assert_true(store_tokens_list(st, &toks, &n));
    assert_int_equal(n, 2);
    assert_string_equal(toks[1].label, "ops");
    assert_int_equal(toks[1].created, 200);
    store_tokens_free(toks, n);
    assert_int_equal(store_token_delete(st, id), 1);
    assert_int_equal(store_token_delete(st, id), 0);
    assert_false(store_token_find(st, "h1", &role, &label));
    json_decref(d);
    store_close(st);
}

/* ---- the scheduler's functions (store_feeds.h) ----------------------- */
static void count_row(const store_feed_sched_t *r, void *arg)
{
    strvec_push(arg, r->id);
}

static void version_row(const store_feed_version_t *v, void *arg)
{
    strvec_push(arg, v->id);
    if (strcmp(v->id, "a1") == 0) {
        assert_string_equal(v->state, "ok");
        assert_true(v->has_last_success);
        assert_true(v->has_covers_to);
        assert_int_equal(v->covers_to, 900);
    }
}

static void test_scheduler_rows_and_results(void **state)
{
    store_t *st = open_mem();
    char err[512];
    json_t *d = doc();
    assert_true(store_import_city(st, d, NULL, NULL, NULL, err, sizeof err));
    json_decref(d);
    assert_int_equal(store_feed_count(st), 4);
    strvec_t ids;
    strvec_init(&ids);
    assert_true(store_feed_sched_all(st, count_row, &ids));
    assert_int_equal(ids.n, 4);
    assert_string_equal(ids.v[0], "a1");
    strvec_free(&ids);
    strvec_init(&ids);
    int64_t after = 0;
    assert_int_equal(store_feed_sched_page(st, &after, 3, count_row, &ids), 3);
    assert_int_equal(store_feed_sched_page(st, &after, 3, count_row, &ids), 1);
    assert_int_equal(store_feed_sched_page(st, &after, 3, count_row, &ids), 0);
    assert_int_equal(ids.n, 4);
    strvec_free(&ids);

    assert_true(store_feed_exists(st, "a1"));
    assert_false(store_feed_exists(st, "zz"));
    assert_true(store_feed_row_matches(st, "a1", "ics", "/x/a1.ics"));
    assert_false(store_feed_row_matches(st, "a1", "ics", "/x/other.ics"));
    assert_false(store_feed_row_matches(st, "a3", "ics", "/x/a3.ics"));

    ivset_t busy, got;
    ivset_init(&busy);
    ivset_init(&got);
    ivset_push(&busy, 100, 200);
    ivset_push(&busy, 300, 400);
    assert_false(store_feed_busy_equals(st, "a1", &busy));
    assert_int_equal(store_begin(st), 0);
    assert_true(store_feed_busy_replace(st, "a1", &busy));
    assert_int_equal(store_commit(st), 0);
    assert_true(store_feed_busy_equals(st, "a1", &busy));
    assert_true(store_feed_busy_read(st, "a1", 150, 350, &got));
    assert_int_equal(got.n, 2);
    assert_int_equal(got.v[1].start, 300);

    feed_result_t res;
    memset(&res, 0, sizeof res);
    strvec_init(&res.warnings);
    strvec_push(&res.warnings, "w");
    res.status = FEED_OK;
    res.http_status = 200;
    res.state_json = (char *)"{\"etag\": \"x\"}";
    res.has_covers = true;
    res.covers_from = 0;
    res.covers_to = 900;
    assert_true(store_feed_record_ok(st, "a1", &res, 5000, 2));
    char *sj = store_feed_state_json(st, "a1");
    assert_string_equal(sj, "{\"etag\": \"x\"}");
    free(sj);
    assert_null(store_feed_state_json(st, "a2"));
    res.status = FEED_ERROR;
    res.error = (char *)"down";
    res.http_status = 503;
    assert_true(store_feed_record_failure(st, "a2", "/x/other.ics", &res, 1, 6000));
    store_feed_t f;
    assert_true(store_feed_get(st, "a2", &f));
    assert_string_equal(f.state, "pending");     /* another url: not recorded */
    store_feed_free(&f);
    assert_true(store_feed_record_failure(st, "a2", "/x/a2.ics", &res, 1, 6000));
    assert_true(store_feed_get(st, "a2", &f));
    assert_string_equal(f.state, "failing");
    assert_string_equal(f.last_error, "down");
    assert_int_equal(f.failures, 1);
    store_feed_free(&f);
    assert_true(store_feed_get(st, "a1", &f));
    assert_string_equal(f.state, "ok");
    assert_string_equal(f.warnings, "w");
    assert_int_equal(f.intervals, 2);
    store_feed_free(&f);
    strvec_free(&res.warnings);

    int need = 0;
    assert_true(store_agency_need(st, "a", &need));
    assert_int_equal(need, 2);
    assert_false(store_agency_need(st, "zz", &need));
    strvec_init(&ids);
    assert_true(store_agency_feed_versions(st, "a", version_row, &ids));
    assert_int_equal(ids.n, 3);
    strvec_free(&ids);
    ivset_free(&busy);
    ivset_free(&got);
    store_close(st);
}

/* The importer in steps (as the daemon runs it, one commit per step) with
 * a budget so small that every row is its own step: the same rows as the
 * one-transaction import, a re-import that drops a feed sweeps it, and a
 * refused url writes nothing. */
static void test_import_in_steps(void **state)
{
    store_t *st = open_mem();
    char err[512];
    json_t *d = doc();
    city_t c;
    assert_true(city_from_json(d, NULL, &c, err, sizeof err));
    store_import_t *imp = store_import_new(st, d, &c, false, false);
    size_t total = 0;
    assert_int_equal(store_import_progress(imp, &total), 0);
    assert_int_equal(total, 6);                      /* 2 agencies + 4 feeds */
    int steps = 0;
    store_import_rc_t rc;
    while ((rc = store_import_step(imp, 1e-6, err, sizeof err)) == STORE_IMPORT_MORE)
        steps++;
    assert_int_equal(rc, STORE_IMPORT_DONE);
    assert_true(steps >= 6);
    assert_false(store_in_tx(st));
    city_t out;
    assert_true(store_import_take_city(imp, &out));
    assert_int_equal(out.nagencies, 2);
    city_free(&out);
    store_import_free(imp);
    assert_int_equal(count(st, "SELECT COUNT(*) FROM feeds"), 4);
    assert_true(store_city_exists(st));

    /* b loses b1 and a loses a3 */
    json_array_remove(json_object_get(json_array_get(json_object_get(d, "agencies"), 1),
                                      "calendars"), 0);
    json_array_remove(json_object_get(json_array_get(json_object_get(d, "agencies"), 0),
                                      "calendars"), 2);
    assert_true(city_from_json(d, NULL, &c, err, sizeof err));
    imp = store_import_new(st, d, &c, false, false);
    while ((rc = store_import_step(imp, 1e-6, err, sizeof err)) == STORE_IMPORT_MORE)
        ;
    assert_int_equal(rc, STORE_IMPORT_DONE);
    store_import_free(imp);
    assert_int_equal(count(st, "SELECT COUNT(*) FROM feeds"), 2);

    /* a relative url with need_absolute: refused before any write */
    json_object_set_new(json_array_get(json_object_get(json_array_get(json_object_get(d, "agencies"), 0),
                                                       "calendars"), 0), "url", json_string("rel.ics"));
    json_object_set_new(d, "city", json_string("別の市"));
    assert_true(city_from_json(d, NULL, &c, err, sizeof err));
    imp = store_import_new(st, d, &c, true, false);
    while ((rc = store_import_step(imp, 1e-6, err, sizeof err)) == STORE_IMPORT_MORE)
        ;
    assert_int_equal(rc, STORE_IMPORT_REFUSED);
    assert_non_null(strstr(err, "calendars[0].url"));
    store_import_free(imp);
    assert_int_equal(count(st, "SELECT COUNT(*) FROM city WHERE name = 'テスト市'"), 1);
    json_decref(d);
    store_close(st);
}

/* The city row (the whole document: 7.6 MB at 100,000 feeds) is written
 * in a step of its own, never after a step's worth of rows: with any
 * budget the import ends with that step.  The city handed back carries
 * the live lead counts (base + open approved cases, one grouped query). */
static void test_import_city_row_has_its_own_step(void **state)
{
    store_t *st = open_mem();
    char err[512];
    assert_int_equal(store_exec(st, "INSERT INTO cases(id, doc, status, lead, created, updated)"
                                    " VALUES ('c1', '{}', 'open', 'b', 0, 0),"
                                    " ('c2', '{}', 'open', 'b', 0, 0),"
                                    " ('c3', '{}', 'closed', 'a', 0, 0),"
                                    " ('c4', '{}', 'open', 'gone', 0, 0),"
                                    " ('c5', '{}', 'open', NULL, 0, 0)"), 0);
    json_t *d = doc();
    city_t c;
    assert_true(city_from_json(d, NULL, &c, err, sizeof err));
    store_import_t *imp = store_import_new(st, d, &c, false, false);
    /* a budget that everything fits in: the checks (nothing written), the
     * rows, then the city row */
    assert_int_equal(store_import_step(imp, 60000, err, sizeof err), STORE_IMPORT_MORE);
    assert_int_equal(count(st, "SELECT COUNT(*) FROM feeds"), 0);
    assert_int_equal(store_import_step(imp, 60000, err, sizeof err), STORE_IMPORT_MORE);
    assert_int_equal(count(st, "SELECT COUNT(*) FROM feeds"), 4);
    assert_false(store_city_exists(st));
    assert_int_equal(store_import_step(imp, 60000, err, sizeof err), STORE_IMPORT_DONE);
    assert_true(store_city_exists(st));
    city_t out;
    assert_true(store_import_take_city(imp, &out));
    assert_string_equal(out.agencies[0].id, "a");
    assert_int_equal(out.agencies[0].lead_cases, 0);       /* c3 is closed */
    assert_int_equal(out.agencies[1].lead_cases, 1 + 2);   /* base 1, c1 and c2 */
    city_free(&out);
    store_import_free(imp);
    /* without a budget (store_import_city) it is all one step, as before */
    size_t na = 0, nf = 0;
    assert_true(store_import_city(st, d, NULL, &na, &nf, err, sizeof err));
    assert_int_equal(nf, 4);
    json_decref(d);
    store_close(st);
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

/* A 要再調整 row keeps the times it mailed; the meeting's history reads
 * them back, other rows give null, and the case's trail leaves them out. */
static void test_audit_rows_keep_suggestion_times(void **state)
{
    store_t *st = open_mem();
    assert_true(store_has_migration(st, 14));
    store_audit_row_t answered = { "C-1", 7, "a", "meeting-answered", "欠席", "a@example.org",
                                   100, NULL };
    store_audit_row_t declined = { "C-1", 7, "a", "meeting-declined", "要再調整\n1. 候補",
                                   "a@example.org", 100, "[[1767225600,1767229200]]" };
    assert_true(store_audit_add(st, &answered));
    assert_true(store_audit_add(st, &declined));
    json_t *rows = store_audit_meeting(st, 7);
    assert_int_equal(json_array_size(rows), 2);
    assert_true(json_is_null(json_object_get(json_array_get(rows, 0), "suggestions")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 1), "suggestions")),
                        "[[1767225600,1767229200]]");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 1), "action")),
                        "meeting-declined");
    json_decref(rows);
    rows = store_audit_case(st, "C-1");
    assert_int_equal(json_array_size(rows), 2);
    assert_null(json_object_get(json_array_get(rows, 1), "suggestions"));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 1), "meeting")), 7);
    json_decref(rows);
    store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migrations_applied_once),
        cmocka_unit_test(test_missing_folder_is_named),
        cmocka_unit_test(test_one_daemon_per_database),
        cmocka_unit_test(test_admin_exists),
        cmocka_unit_test(test_statement_cache_and_tx),
        cmocka_unit_test(test_import_and_load_city),
        cmocka_unit_test(test_fixture_city_with_base_dir),
        cmocka_unit_test(test_bad_import_changes_nothing),
        cmocka_unit_test(test_reimport_updates_in_place),
        cmocka_unit_test(test_busy_queries_and_need),
        cmocka_unit_test(test_lead_cases_are_base_plus_open_leads),
        cmocka_unit_test(test_api_rows),
        cmocka_unit_test(test_scheduler_rows_and_results),
        cmocka_unit_test(test_import_in_steps),
        cmocka_unit_test(test_import_city_row_has_its_own_step),
        cmocka_unit_test(test_stmt_helpers),
        cmocka_unit_test(test_meeting_rows),
        cmocka_unit_test(test_outbox_rows),
        cmocka_unit_test(test_audit_rows_keep_suggestion_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
