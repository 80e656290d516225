/* SPDX-License-Identifier: MIT */
/*
 * store_ckpt.c - the WAL checkpointer thread (see store_ckpt.h).
 *
 * The loop side only counts: the WAL hook (called by SQLite after each
 * commit on the loop's connection, with the number of frames now in the
 * WAL) signals a condition variable once `pages` new frames have come
 * since the last signal.  The thread waits on it, then runs
 * sqlite3_wal_checkpoint_v2(PASSIVE) on its own connection and records
 * how long that took.  A kick that arrives during a checkpoint is kept
 * (pending flag), so the next one follows right after; a checkpoint left
 * behind by new commits is retried every RETRY_MS until it catches up.
 */
#include "store_ckpt.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"

#define CHASE_ROUNDS 3
#define RETRY_MS     100

struct store_ckpt {
    store_t        *st;
    sqlite3        *db;               /* the thread's own connection */
    pthread_t       thread;
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    bool            pending, stop;
    int             pages;            /* loop thread only */
    int             last_frames;      /* loop thread only: frames at the last kick */
    store_ckpt_stats_t stats;         /* under mu */
};

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One checkpoint of the given mode; *nlog = frames in the WAL, and the
 * result is true when it copied them all. */
static bool run_one(store_ckpt_t *c, int mode, int *nlog)
{
    int nckpt = 0;
    double t0 = mono_ms();
    int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, mode, nlog, &nckpt);
    double ms = mono_ms() - t0;
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        log_warn("store: background WAL checkpoint: %s", sqlite3_errmsg(c->db));
    else if (*nlog > 0)                   /* log_msg is one write(): fine from a thread */
        log_debug("store: WAL checkpoint, %d of %d frames copied (%.1f ms)", nckpt, *nlog, ms);
    pthread_mutex_lock(&c->mu);
    c->stats.runs++;
    c->stats.frames_copied += nckpt > 0 ? nckpt : 0;
    c->stats.sum_ms += ms;
    if (ms > c->stats.max_ms)
        c->stats.max_ms = ms;
    pthread_mutex_unlock(&c->mu);
    return rc == SQLITE_OK && nckpt >= *nlog;
}

/* The WAL only restarts (and shrinks to journal_size_limit) when a writer
 * begins after a checkpoint has copied every frame, and commits made
 * during a checkpoint leave frames behind it: chase the tail while new
 * frames keep coming, a few rounds at most.  (A RESTART checkpoint would
 * force it, but it holds the write lock through a sync: measured, that
 * paused the writing loop longer than an inline checkpoint.)  Under
 * writes without a pause as long as one sync the WAL therefore grows
 * until there is one. */
static bool run_chasing(store_ckpt_t *c)
{
    int nlog = 0, prev = -1;
    for (int i = 0; i < CHASE_ROUNDS; i++) {
        if (run_one(c, SQLITE_CHECKPOINT_PASSIVE, &nlog) && nlog == prev)
            return true;
        prev = nlog;
    }
    return false;
}

/* Wait for a kick, or RETRY_MS when the last chase was left behind (so
 * the first quiet moment is used even if no new kick comes). */
static void wait_for_work(store_ckpt_t *c, bool behind)
{
    if (!behind) {
        while (!c->pending && !c->stop)
            pthread_cond_wait(&c->cv, &c->mu);
        return;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += RETRY_MS * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    while (!c->pending && !c->stop)
        if (pthread_cond_timedwait(&c->cv, &c->mu, &until) != 0)
            break;
}

static void *ckpt_main(void *arg)
{
    store_ckpt_t *c = arg;
    bool behind = false;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        wait_for_work(c, behind);
        if (c->stop)
            break;
        c->pending = false;
        pthread_mutex_unlock(&c->mu);
        behind = !run_chasing(c);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

void store_ckpt_kick(store_ckpt_t *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->pending = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/* After every commit on the loop's connection. */
static int on_wal(void *arg, sqlite3 *db, const char *name, int frames)
{
    store_ckpt_t *c = arg;
    if (frames < c->last_frames)
        c->last_frames = 0;           /* the WAL was restarted */
    if (frames - c->last_frames >= c->pages) {
        c->last_frames = frames;
        store_ckpt_kick(c);
    }
    return SQLITE_OK;
}

static bool open_own(store_ckpt_t *c, const char *path, char *err, size_t errlen)
{
    if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
        sqlite3_exec(c->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: チェックポイント用の接続を開けません (checkpointer): %s", path,
                 c->db ? sqlite3_errmsg(c->db) : "out of memory");
        return false;
    }
    sqlite3_busy_timeout(c->db, 0);   /* PASSIVE never waits anyway */
    return true;
}

/* The thread takes no signals (thread_create_quiet). */
static int start_thread(store_ckpt_t *c)
{
    return thread_create_quiet(&c->thread, ckpt_main, c);
}

store_ckpt_t *store_ckpt_start(store_t *st, int pages, char *err, size_t errlen)
{
    const char *path = sqlite3_db_filename(store_db(st), "main");
    if (err && errlen)
        err[0] = '\0';
    if (!path || !*path)
        return NULL;                  /* in memory: no WAL */
    store_ckpt_t *c = xcalloc(1, sizeof *c);
    c->st = st;
    c->pages = pages > 0 ? pages : 1;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (!open_own(c, path, err, errlen) || start_thread(c) != 0) {
        if (!*err)
            snprintf(err, errlen, "チェックポイント用のスレッドを起動できません (cannot start the checkpointer)");
        sqlite3_close(c->db);
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->cv);
        free(c);
        return NULL;
    }
    sqlite3_wal_hook(store_db(st), on_wal, c);
    return c;
}

void store_ckpt_set_pages(store_ckpt_t *c, int pages)
{
    if (c)
        c->pages = pages > 0 ? pages : 1;
}

void store_ckpt_stats(store_ckpt_t *c, store_ckpt_stats_t *out)
{
    memset(out, 0, sizeof *out);
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    *out = c->stats;
    pthread_mutex_unlock(&c->mu);
}

void store_ckpt_stop(store_ckpt_t *c)
{
    if (!c)
        return;
    sqlite3_wal_hook(store_db(c->st), NULL, NULL);
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    sqlite3_close(c->db);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}
