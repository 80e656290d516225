/* SPDX-License-Identifier: MIT */
/*
 * test_store_wal.c - WAL checkpoints under the daemon's own control:
 * with SQLite's automatic checkpoint off, writes pile up in the -wal file
 * (no commit pays for a checkpoint), a PASSIVE store_checkpoint copies
 * every frame back, and a truncating one leaves a zero-byte -wal even
 * while another connection is open.  ":memory:" (no WAL) still works.
 * The background checkpointer (store_ckpt) keeps checkpoints off the
 * writing thread: under heavy writes that thread's longest pause, its own
 * lag, stays below the pause of the same checkpoints run inline, measured
 * side by side in one run, while the checkpointer copies the frames back
 * and the WAL, restarted whenever the writes pause, stays small.
 * Group commit (what the feed scheduler does with fetch results): the
 * same bursts of small results written one commit each, then one commit
 * per burst, side by side with the checkpointer running: the grouped
 * writer makes a fraction of the commits and WAL frames, and spends less
 * time writing (the loop's own lag per burst is printed for both).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <time.h>

#include "store.h"
#include "store_ckpt.h"
#include "support_proc.h"
#include "util.h"

#define ROWS 3000     /* ~ 3000 pages of 4 KiB rows: well past SQLite's 1000-page autocheckpoint */

static long long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

/* One committed transaction per row, each row a page of its own. */
static void write_rows(store_t *st, int n)
{
    assert_int_equal(store_exec(st, "CREATE TABLE IF NOT EXISTS filler (v BLOB)"), 0);
    for (int i = 0; i < n; i++) {
        sqlite3_stmt *s = store_prepare(st, "INSERT INTO filler(v) VALUES (zeroblob(4000))");
        assert_non_null(s);
        assert_int_equal(sqlite3_step(s), SQLITE_DONE);
        store_done(s);
    }
}

static void test_manual_checkpoints(void **state)
{
    char *dir = support_mkdtemp("test-store-wal");
    assert_non_null(dir);
    char *db = support_path(dir, "t.db");
    char *wal = xasprintf("%s-wal", db);
    char err[256];
    store_t *st = store_open(db, err, sizeof err);
    assert_non_null(st);
    assert_int_equal(store_set_autocheckpoint(st, 0), 0);
    /* another connection keeps the database open, as a CLI reader might */
    sqlite3 *other;
    assert_int_equal(sqlite3_open(db, &other), SQLITE_OK);

    write_rows(st, ROWS);
    /* nothing was checkpointed behind our back: every frame is still there */
    long long grown = file_size(wal);
    assert_true(grown > (long long)ROWS * 4096);
    int nlog = 0, nckpt = 0;
    assert_int_equal(store_checkpoint(st, false, &nlog, &nckpt), 0);
    assert_true(nlog >= ROWS);
    assert_int_equal(nckpt, nlog);            /* PASSIVE copied them all */
    /* the data is in the main file: the other connection reads it */
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(other, "SELECT count(*) FROM filler", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), ROWS);
    sqlite3_finalize(s);

    /* the shutdown checkpoint truncates the -wal file */
    write_rows(st, 10);
    assert_true(file_size(wal) > 0);
    assert_int_equal(store_checkpoint(st, true, &nlog, &nckpt), 0);
    assert_int_equal(file_size(wal), 0);

    sqlite3_close(other);
    store_close(st);
    support_rmtree(dir);
    free(wal);
    free(db);
    free(dir);
}

static void test_automatic_checkpoint_is_what_we_turn_off(void **state)
{
    /* control: with SQLite's default the same writes keep the WAL small,
     * so the test above really observes the setting */
    char *dir = support_mkdtemp("test-store-wal");
    assert_non_null(dir);
    char *db = support_path(dir, "t.db");
    char *wal = xasprintf("%s-wal", db);
    char err[256];
    store_t *st = store_open(db, err, sizeof err);
    assert_non_null(st);
    write_rows(st, ROWS);
    int nlog = 0, nckpt = 0;
    assert_int_equal(store_checkpoint(st, false, &nlog, &nckpt), 0);
    assert_true(nlog < ROWS);
    store_close(st);
    support_rmtree(dir);
    free(wal);
    free(db);
    free(dir);
}

static void test_memory_store_has_no_wal(void **state)
{
    char err[256];
    store_t *st = store_open(":memory:", err, sizeof err);
    assert_non_null(st);
    assert_int_equal(store_set_autocheckpoint(st, 0), 0);
    write_rows(st, 5);
    int nlog = 0, nckpt = 0;
    assert_int_equal(store_checkpoint(st, false, &nlog, &nckpt), 0);
    assert_int_equal(nlog, -1);
    assert_int_equal(store_checkpoint(st, true, NULL, NULL), 0);
    store_close(st);
}

#define BURST_PAGES 16      /* pages per write transaction (a feed with new data) */
#define BURSTS      400
#define CKPT_PAGES  1000
#define IDLE_EVERY  100

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* BURSTS transactions of BURST_PAGES pages with 1 ms between them (the
 * loop doing other work); inline: checkpoint on this thread every
 * CKPT_PAGES pages.  Returns this thread's longest pause in ms. */
static double write_bursts(store_t *st, bool inline_ckpt)
{
    double worst = 0;
    for (int i = 0; i < BURSTS; i++) {
        double t0 = mono_ms();
        assert_int_equal(store_begin(st), 0);
        write_rows(st, BURST_PAGES);
        assert_int_equal(store_commit(st), 0);
        if (inline_ckpt && (i + 1) % (CKPT_PAGES / BURST_PAGES) == 0)
            assert_int_equal(store_checkpoint(st, false, NULL, NULL), 0);
        double dt = mono_ms() - t0;
        if (dt > worst)
            worst = dt;
        /* 1 ms between commits, and every IDLE_EVERY a quiet moment in
         * which a checkpoint can catch up and the WAL restart */
        struct timespec ms = {0, (i + 1) % IDLE_EVERY ? 1000000 : 300000000};
        nanosleep(&ms, NULL);
    }
    return worst;
}

static void test_background_checkpoints_spare_the_loop(void **state)
{
    char *dir = support_mkdtemp("test-store-ckpt");
    assert_non_null(dir);
    char *db = support_path(dir, "t.db");
    char *wal = xasprintf("%s-wal", db);
    char err[256];
    store_t *st = store_open(db, err, sizeof err);
    assert_non_null(st);
    assert_int_equal(store_set_autocheckpoint(st, 0), 0);

    double inline_worst = write_bursts(st, true);
    assert_int_equal(store_checkpoint(st, true, NULL, NULL), 0);

    store_ckpt_t *c = store_ckpt_start(st, CKPT_PAGES, err, sizeof err);
    assert_non_null(c);
    double bg_worst = write_bursts(st, false);
    store_ckpt_stats_t stats;
    store_ckpt_stats(c, &stats);
    store_ckpt_stop(c);
    long long wal_size = file_size(wal);
    printf("writer's longest pause: %.2f ms with inline checkpoints, %.2f ms with the "
           "checkpointer thread (%ld checkpoints, longest %.2f ms, %ld frames); WAL %lld bytes\n",
           inline_worst, bg_worst, stats.runs, stats.max_ms, stats.frames_copied, wal_size);
    /* the thread did the work: about one checkpoint per CKPT_PAGES pages */
    assert_true(stats.runs >= BURSTS * BURST_PAGES / CKPT_PAGES - 1);
    assert_true(stats.frames_copied >= BURSTS * BURST_PAGES / 2);
    assert_true(bg_worst < inline_worst);
    /* a bounded WAL: restarted in the quiet moments, not the whole run */
    assert_true(wal_size < (long long)BURSTS * BURST_PAGES * 4096 / 2);
    store_close(st);
    support_rmtree(dir);
    free(wal);
    free(db);
    free(dir);
}

#define RESULT_ROWS   20000   /* a feeds table */
#define RESULT_BURSTS 150     /* bursts of results handed to the loop at once */
#define BURST_RESULTS 8

/* Counts commits (the WAL hook is the checkpointer's). */
static int on_commit(void *arg)
{
    long *commits = arg;
    commits[0]++;
    return 0;
}

/* One fetch result: its feed row's state, next poll and a few bytes. */
static void write_result(store_t *st, int i)
{
    sqlite3_stmt *s = store_prepare(st, "UPDATE r SET next_poll = ?, v = zeroblob(200 + ? % 50)"
                                        " WHERE id = ?");
    assert_non_null(s);
    sqlite3_bind_int(s, 1, 1000000 + i);
    sqlite3_bind_int(s, 2, i);
    sqlite3_bind_int(s, 3, (int)((i * 7919L) % RESULT_ROWS) + 1);
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    store_done(s);
}

/* RESULT_BURSTS bursts, 2 ms apart; grouped: one commit per burst.
 * Returns the sum of the burst times (ms); *worst the longest. */
static double write_results(store_t *st, bool grouped, double *worst, long *commits)
{
    double sum = 0;
    *worst = 0;
    commits[0] = 0;
    sqlite3_commit_hook(store_db(st), on_commit, commits);
    for (int b = 0; b < RESULT_BURSTS; b++) {
        double t0 = mono_ms();
        if (grouped)
            assert_int_equal(store_begin(st), 0);
        for (int k = 0; k < BURST_RESULTS; k++) {
            if (!grouped)
                assert_int_equal(store_begin(st), 0);
            write_result(st, b * BURST_RESULTS + k);
            if (!grouped)
                assert_int_equal(store_commit(st), 0);
        }
        if (grouped)
            assert_int_equal(store_commit(st), 0);
        double dt = mono_ms() - t0;
        sum += dt;
        if (dt > *worst)
            *worst = dt;
        struct timespec ms = {0, 2000000};
        nanosleep(&ms, NULL);
    }
    sqlite3_commit_hook(store_db(st), NULL, NULL);
    return sum;
}

static void test_group_commit_spares_the_loop(void **state)
{
    char *dir = support_mkdtemp("test-store-group");
    assert_non_null(dir);
    char *db = support_path(dir, "t.db");
    char err[256];
    store_t *st = store_open(db, err, sizeof err);
    assert_non_null(st);
    assert_int_equal(store_set_autocheckpoint(st, 0), 0);
    assert_int_equal(store_exec(st, "CREATE TABLE r (id INTEGER PRIMARY KEY, next_poll INTEGER,"
                                    " v BLOB); CREATE INDEX r_next ON r(next_poll);"
                                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                                    " WHERE i < 20000) INSERT INTO r SELECT i, i, zeroblob(200)"
                                    " FROM n"), 0);
    assert_int_equal(store_checkpoint(st, true, NULL, NULL), 0);
    store_ckpt_t *c = store_ckpt_start(st, 200, err, sizeof err);   /* often: contention */
    assert_non_null(c);
    double worst1, worstg;
    long commits1, commitsg;
    double sum1 = write_results(st, false, &worst1, &commits1);
    double sumg = write_results(st, true, &worstg, &commitsg);
    store_ckpt_stats_t stats;
    store_ckpt_stats(c, &stats);
    store_ckpt_stop(c);
    printf("%d bursts of %d results: one commit each: %ld commits, %.1f ms writing, longest "
           "burst %.2f ms; grouped: %ld commits, %.1f ms, longest %.2f ms (%ld checkpoints)\n",
           RESULT_BURSTS, BURST_RESULTS, commits1, sum1, worst1, commitsg, sumg, worstg,
           stats.runs);
    assert_int_equal(commits1, RESULT_BURSTS * BURST_RESULTS);
    assert_int_equal(commitsg, RESULT_BURSTS);
    assert_true(sumg < sum1);
    store_close(st);
    support_rmtree(dir);
    free(db);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manual_checkpoints),
        cmocka_unit_test(test_automatic_checkpoint_is_what_we_turn_off),
        cmocka_unit_test(test_memory_store_has_no_wal),
        cmocka_unit_test(test_background_checkpoints_spare_the_loop),
        cmocka_unit_test(test_group_commit_spares_the_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
