/* SPDX-License-Identifier: MIT */
/*
 * support_feed.h - the harness shared by the feed itests
 * (itest_feeds_http, itest_caldav_radicale, itest_caldav_xandikos): one
 * test server on a free loopback port with its temp dir and log, a
 * libevent loop with a curlev on it, the fixtures' published window, and
 * outcomes that record what feed_refresh called back with.
 *
 * As in support_daemon.h, the functions declared first never abort
 * (tests/support is linked into the benchmarks, which have no cmocka);
 * the static inline helpers at the end fail the current cmocka test.
 */
#ifndef TSUNAGU_SUPPORT_FEED_H
#define TSUNAGU_SUPPORT_FEED_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/event.h>
#include <sys/types.h>

#include "feed.h"

typedef struct support_feed_env {
    pid_t              server;    /* the test server, -1 until started */
    int                port;      /* its port */
    char              *dir, *log; /* temp dir (removed on close), server log in it */
    char              *base_url;  /* "http://127.0.0.1:<port>" */
    struct event_base *base;
    curlev_t          *cev;
    int64_t            from, to;  /* window; opened as the fixtures' published range */
} support_feed_env_t;

/* Free port, temp dir prefix-XXXXXX with log_name in it, base_url, the
 * loop with its curlev, and the window 2026-11-30..2027-03-01 (+09:00),
 * which expected/busy was computed for.  0 on success. */
int support_feed_env_open(support_feed_env_t *e, const char *prefix, const char *log_name);

/* Spawn the server (argv, env and cwd as for support_spawn; output to
 * e->log) and wait up to wait_ms for its port.  true when it listens. */
bool support_feed_env_serve(support_feed_env_t *e, const char *const argv[],
                            const char *const env[], const char *cwd, int wait_ms);

/* Free the loop, stop the server (SIGKILL after stop_ms), remove the dir. */
void support_feed_env_close(support_feed_env_t *e, int stop_ms);

/* What one refresh called back with (copied; the result is freed after
 * the callback). */
typedef struct support_outcome {
    bool          done;
    feed_status_t status;
    long          http_status;
    char         *error;
    ivset_t       busy;
    strvec_t      warnings;
    char         *state;
    double        elapsed_ms;
} support_outcome_t;

void support_outcome_init(support_outcome_t *o);
void support_outcome_free(support_outcome_t *o);   /* and zero it */
/* A feed_done_cb: arg is the support_outcome_t to fill. */
void support_outcome_record(feed_result_t *res, void *arg);

/* Start req on e's loop with e's window (and tz_default() when req.tz is
 * NULL); o is initialised first and filled by done (NULL:
 * support_outcome_record).  The job, or NULL when feed_refresh refused. */
feed_job_t *support_feed_start(support_feed_env_t *e, feed_request_t req,
                               support_outcome_t *o, feed_done_cb done);

/* Run e's loop until all n outcomes are done: 0.  -1 when timeout_s
 * (> 0) passed first; -2 when the loop ran out of events first. */
int support_feed_wait(support_feed_env_t *e, support_outcome_t *os, size_t n, int timeout_s);

/* A parse pool of `workers` threads on e's loop, set as the feed code's
 * (feed_set_parse_pool), so refreshes parse as in the daemon; 0 or -1.
 * support_feed_pool_stop unsets and frees it (before env close). */
int  support_feed_pool_start(support_feed_env_t *e, int workers);
void support_feed_pool_stop(void);

/* ---- cmocka layer ------------------------------------------------------------ */

/* One refresh run to completion; fails the test if the job cannot start
 * or stalls with no pending events. */
static inline void support_feed_fetch(support_feed_env_t *e, feed_request_t req,
                                      support_outcome_t *o)
{
    assert_non_null(support_feed_start(e, req, o, NULL));
    if (support_feed_wait(e, o, 1, 0) != 0)
        fail_msg("%s: job stalled with no pending events", req.url);
}

#endif
