/* SPDX-License-Identifier: MIT */
/*
 * city_import.c - drives a store_import_t on the event loop, a step at a
 * time, and keeps the status of the running or last import.
 *
 * One step = store_import_step with IMPORT_STEP_MS of budget, then the
 * step event is made active again at EVPRI_BACKGROUND: requests (default
 * priority) are served first and background work (fetches, timers) takes
 * turns with the import.  The longest step is kept in the status, in
 * wall time (max_step_ms) and in the loop thread's CPU time
 * (max_step_cpu_ms, what the step itself cost, whatever else the machine
 * was doing), so a test or an operator sees the bound hold.  When the
 * last step has committed the daemon adopts the imported city (no second
 * parse), the feed scheduler resyncs in its own steps, and the caller's
 * callback answers the request.  The daemon is held (tsunagud_hold)
 * while an import runs, so SIGTERM drains it first.  There is one import
 * per process, so the state is file-static.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "city_import.h"
#include "curlev.h"
#include "feed.h"
#include "feeds.h"
#include "log.h"
#include "parse_pool.h"
#include "timeutil.h"
#include "util.h"

typedef enum { IMP_NONE, IMP_RUNNING, IMP_OK, IMP_REFUSED, IMP_FAILED } imp_state_t;

static struct {
    tsunagud_t         *d;
    store_import_t     *imp;
    struct event       *ev;
    city_import_done_fn done;
    void               *arg;
    imp_state_t         state;
    int64_t             started, finished;     /* epoch s */
    double              t0, seconds, max_step_ms, max_step_cpu_ms;
    int                 steps;
    size_t              done_rows, total_rows, agencies, feeds;
    char                error[1024];
} job;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void free_importer(void *arg) { store_import_free(arg); }
static void nothing(void *arg) { }

static void finish(store_import_rc_t rc)
{
    city_import_result_t res = {0};
    tsunagud_t *d = job.d;
    job.finished = tu_now();
    job.seconds = (now_ms() - job.t0) / 1e3;
    city_t c;
    strvec_t changed;
    store_import_take_changed(job.imp, &changed);
    if (rc == STORE_IMPORT_DONE && store_import_take_city(job.imp, &c)) {
        job.state = IMP_OK;
        job.agencies = c.nagencies;
        job.feeds = city_feed_count(&c);
        tsunagud_city_adopt(d, &c);
        if (d->feeds)
            feeds_resync(d->feeds);          /* in steps, after the answer */
        const city_t *city = tsunagud_city(d);
        res.city = city && city->name ? city->name : "";
        res.status = 200;
        log_info("import: %zu agencies, %zu feeds (%s) in %.2f s, %d steps, longest %.1f ms",
                 job.agencies, job.feeds, res.city, job.seconds, job.steps, job.max_step_ms);
    } else {
        job.state = rc == STORE_IMPORT_REFUSED ? IMP_REFUSED : IMP_FAILED;
        res.status = rc == STORE_IMPORT_REFUSED ? 400 : 500;
        res.error = job.error;
        if (rc == STORE_IMPORT_REFUSED)
            log_warn("import refused: %s", job.error);
        else
            log_error("import failed after %zu of %zu rows: %s", job.done_rows, job.total_rows,
                      job.error);
    }
    res.agencies = job.agencies;
    res.feeds = job.feeds;
    res.seconds = job.seconds;
    res.steps = job.steps;
    res.url_changed = &changed;
    /* the importer holds the resolved document: freed on a worker when
     * there is a pool (tens of ms at 100,000 feeds) */
    parse_pool_t *pool = feed_parse_pool();
    if (!pool || parse_pool_submit(pool, free_importer, nothing, job.imp) != 0)
        store_import_free(job.imp);
    job.imp = NULL;
    event_free(job.ev);
    job.ev = NULL;
    tsunagud_release(d);
    city_import_done_fn done = job.done;
    job.done = NULL;
    if (done)
        done(&res, job.arg);
    strvec_free(&changed);
}

static double thread_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void on_import_step(evutil_socket_t fd, short what, void *arg)
{
    double t0 = now_ms(), c0 = thread_cpu_ms();
    store_import_rc_t rc = store_import_step(job.imp, IMPORT_STEP_MS, job.error, sizeof job.error);
    double ms = now_ms() - t0, cpu = thread_cpu_ms() - c0;
    job.steps++;
    if (ms > job.max_step_ms)
        job.max_step_ms = ms;
    if (cpu > job.max_step_cpu_ms)
        job.max_step_cpu_ms = cpu;
    job.done_rows = store_import_progress(job.imp, &job.total_rows);
    if (rc == STORE_IMPORT_MORE)
        event_active(job.ev, EV_TIMEOUT, 0);
    else
        finish(rc);
}

bool city_import_running(void) { return job.state == IMP_RUNNING; }

void city_import_stop(void)
{
    if (job.state != IMP_RUNNING)
        return;
    snprintf(job.error, sizeof job.error, "停止処理のため取り込みを中断しました (%zu / %zu 行)。"
             "同じファイルをもう一度取り込んでください (import interrupted by shutdown)",
             job.done_rows, job.total_rows);
    finish(STORE_IMPORT_FAILED);
}

bool city_import_start(tsunagud_t *d, store_import_t *imp, city_import_done_fn done, void *arg)
{
    if (job.state == IMP_RUNNING)
        return false;
    memset(&job, 0, sizeof job);
    job.d = d;
    job.imp = imp;
    job.done = done;
    job.arg = arg;
    job.state = IMP_RUNNING;
    job.started = tu_now();
    job.t0 = now_ms();
    job.done_rows = store_import_progress(imp, &job.total_rows);
    job.ev = event_new(d->base, -1, 0, on_import_step, NULL);
    event_priority_set(job.ev, EVPRI_BACKGROUND);
    tsunagud_hold(d);
    event_active(job.ev, EV_TIMEOUT, 0);
    return true;
}

json_t *city_import_status_json(void)
{
    static const char *names[] = {"none", "running", "done", "refused", "failed"};
    json_t *j = json_pack("{s:s}", "state", names[job.state]);
    if (job.state == IMP_NONE)
        return j;
    char iso[TU_ISO_LEN];
    const tz_t *zone = tsunagud_zone(job.d);
    tu_format_iso8601(job.started, zone, iso);
    json_object_set_new(j, "started", json_string(iso));
    json_object_set_new(j, "done_rows", json_integer((json_int_t)job.done_rows));
    json_object_set_new(j, "total_rows", json_integer((json_int_t)job.total_rows));
    json_object_set_new(j, "steps", json_integer(job.steps));
    json_object_set_new(j, "max_step_ms", json_real(job.max_step_ms));
    json_object_set_new(j, "max_step_cpu_ms", json_real(job.max_step_cpu_ms));
    if (job.state == IMP_RUNNING)
        return j;
    tu_format_iso8601(job.finished, zone, iso);
    json_object_set_new(j, "finished", json_string(iso));
    json_object_set_new(j, "seconds", json_real(job.seconds));
    if (job.state == IMP_OK) {
        json_object_set_new(j, "agencies", json_integer((json_int_t)job.agencies));
        json_object_set_new(j, "feeds", json_integer((json_int_t)job.feeds));
    } else
        json_object_set_new(j, "error", json_string(job.error));
    return j;
}
