/* SPDX-License-Identifier: MIT */
/*
 * support_feed.c - the non-aborting half of support_feed.h.
 *
 * The env owns a test server (spawned with support_spawn, so it dies
 * with the test), a temp dir, and a libevent base with a curlev.
 * support_feed_wait drives the loop one iteration at a time until every
 * outcome is done; with a timeout it arms a timer so a hung job ends
 * the wait instead of the test run.
 */
#include "support_feed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_pool.h"
#include "support_proc.h"

int support_feed_env_open(support_feed_env_t *e, const char *prefix, const char *log_name)
{
    memset(e, 0, sizeof *e);
    e->server = -1;
    e->port = support_free_port();
    e->dir = support_mkdtemp(prefix);
    if (e->port < 0 || !e->dir)
        return -1;
    e->log = support_path(e->dir, log_name);
    e->base_url = xasprintf("http://127.0.0.1:%d", e->port);
    e->base = event_base_new();
    e->cev = e->base ? curlev_new(e->base) : NULL;
    if (!tu_parse_iso8601("2026-11-30T00:00:00+09:00", NULL, &e->from) ||
        !tu_parse_iso8601("2027-03-01T00:00:00+09:00", NULL, &e->to))
        return -1;
    return e->cev ? 0 : -1;
}

bool support_feed_env_serve(support_feed_env_t *e, const char *const argv[],
                            const char *const env[], const char *cwd, int wait_ms)
{
    e->server = support_spawn(argv, env, cwd, e->log);
    return e->server > 0 && support_wait_port(e->port, wait_ms, e->server);
}

void support_feed_env_close(support_feed_env_t *e, int stop_ms)
{
    if (e->cev)
        curlev_free(e->cev);
    if (e->base)
        event_base_free(e->base);
    support_stop(e->server, stop_ms);
    if (e->dir)
        support_rmtree(e->dir);
    free(e->dir);
    free(e->log);
    free(e->base_url);
    memset(e, 0, sizeof *e);
    e->server = -1;
}

void support_outcome_init(support_outcome_t *o)
{
    memset(o, 0, sizeof *o);
    ivset_init(&o->busy);
    strvec_init(&o->warnings);
}

void support_outcome_free(support_outcome_t *o)
{
    free(o->error);
    free(o->state);
    ivset_free(&o->busy);
    strvec_free(&o->warnings);
    memset(o, 0, sizeof *o);
}

void support_outcome_record(feed_result_t *res, void *arg)
{
    support_outcome_t *o = arg;
    o->done = true;
    o->status = res->status;
    o->http_status = res->http_status;
    o->error = xstrdup(res->error);
    ivset_copy(&o->busy, &res->busy);
    for (size_t i = 0; i < res->warnings.n; i++)
        strvec_push(&o->warnings, res->warnings.v[i]);
    o->state = xstrdup(res->state_json);
    o->elapsed_ms = res->elapsed_ms;
}

feed_job_t *support_feed_start(support_feed_env_t *e, feed_request_t req,
                               support_outcome_t *o, feed_done_cb done)
{
    support_outcome_init(o);
    if (!req.tz)
        req.tz = tz_default();
    req.window_from = e->from;
    req.window_to = e->to;
    return feed_refresh(e->cev, &req, done ? done : support_outcome_record, o);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    *(bool *)arg = true;
}

static bool all_done(const support_outcome_t *os, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!os[i].done)
            return false;
    return true;
}

int support_feed_wait(support_feed_env_t *e, support_outcome_t *os, size_t n, int timeout_s)
{
    bool expired = false;
    struct event *deadline = NULL;
    if (timeout_s > 0) {
        deadline = evtimer_new(e->base, on_deadline, &expired);
        struct timeval tv = { timeout_s, 0 };
        evtimer_add(deadline, &tv);
    }
    int rc = 0;
    while (!all_done(os, n)) {
        if (expired) {
            rc = -1;
            break;
        }
        if (event_base_loop(e->base, EVLOOP_ONCE) == 1 && !all_done(os, n)) {
            rc = -2;
            break;
        }
    }
    if (deadline)
        event_free(deadline);
    return rc;
}

static parse_pool_t *support_pool;

int support_feed_pool_start(support_feed_env_t *e, int workers)
{
    char err[256];
    support_pool = parse_pool_new(e->base, workers, err, sizeof err);
    if (!support_pool)
        return -1;
    feed_set_parse_pool(support_pool);
    return 0;
}

void support_feed_pool_stop(void)
{
    feed_set_parse_pool(NULL);
    parse_pool_free(support_pool);
    support_pool = NULL;
}
