/* SPDX-License-Identifier: MIT */
/*
 * test_parse_pool.c - parsing on the worker pool gives exactly what the
 * inline parse gives (issue 14).  Every fixture calendar of the demo city
 * and of the iCalendar fuzz corpus is refreshed as a file:// feed twice:
 * inline (no pool), then all at once through a pool of 3 workers; status,
 * error, busy intervals, coverage and warnings must be identical.  The
 * pool itself runs every done on the loop thread, in any order, for many
 * small tasks, and its free drains what is still queued.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <event2/event.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feed.h"
#include "parse_pool.h"
#include "util.h"

#define MAXF 64

typedef struct outcome {
    bool          done;
    feed_status_t status;
    char         *error, *busy;      /* busy and coverage and warnings as text */
} outcome_t;

static void on_done(feed_result_t *res, void *arg)
{
    outcome_t *o = arg;
    strbuf_t b;
    strbuf_init(&b);
    for (size_t i = 0; i < res->busy.n; i++)
        strbuf_printf(&b, "%lld-%lld,", (long long)res->busy.v[i].start, (long long)res->busy.v[i].end);
    strbuf_printf(&b, "|covers %d %lld %lld|", res->has_covers, (long long)res->covers_from,
                  (long long)res->covers_to);
    for (size_t i = 0; i < res->warnings.n; i++)
        strbuf_printf(&b, "%s\n", res->warnings.v[i]);
    o->busy = strbuf_detach(&b);
    o->error = xstrdup(res->error);
    o->status = res->status;
    o->done = true;
}

static size_t list_fixtures(char **paths)
{
    const char *dirs[] = {"tests/data/yamanami/calendars", "tests/fuzz/corpus/icalbusy"};
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    size_t n = 0;
    for (size_t d = 0; d < 2; d++) {
        DIR *dir = opendir(dirs[d]);
        assert_non_null(dir);
        struct dirent *de;
        while ((de = readdir(dir)) && n < MAXF)
            if (de->d_name[0] != '.')
                paths[n++] = xasprintf("file://%s/%s/%s", cwd, dirs[d], de->d_name);
        closedir(dir);
    }
    return n;
}

/* Refresh every url at once; run the loop until all are done. */
static void refresh_all(struct event_base *base, curlev_t *cev, char **urls, size_t n,
                        outcome_t *out)
{
    for (size_t i = 0; i < n; i++) {
        feed_request_t req = { .kind = FEED_ICS, .url = urls[i], .tz = tz_default(),
                               .window_from = 1795964400LL,
                               .window_to = 1795964400LL + 180 * 86400 };
        memset(&out[i], 0, sizeof out[i]);
        assert_non_null(feed_refresh(cev, &req, on_done, &out[i]));
    }
    for (size_t i = 0; i < n; i++)
        while (!out[i].done)
            event_base_loop(base, EVLOOP_ONCE);
}

static void test_pool_parse_is_identical(void **state)
{
    struct event_base *base = event_base_new();
    curlev_t *cev = curlev_new(base);
    char *urls[MAXF];
    size_t n = list_fixtures(urls);
    assert_true(n >= 20);
    outcome_t inline_out[MAXF], pool_out[MAXF];
    refresh_all(base, cev, urls, n, inline_out);
    char err[128];
    parse_pool_t *pool = parse_pool_new(base, 3, err, sizeof err);
    assert_non_null(pool);
    assert_int_equal(parse_pool_size(pool), 3);
    feed_set_parse_pool(pool);
    refresh_all(base, cev, urls, n, pool_out);
    feed_set_parse_pool(NULL);
    parse_pool_free(pool);
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(pool_out[i].status, inline_out[i].status);
        assert_string_equal(pool_out[i].busy, inline_out[i].busy);
        if (inline_out[i].error)
            assert_string_equal(pool_out[i].error, inline_out[i].error);
        else
            assert_null(pool_out[i].error);
        ok += inline_out[i].status == FEED_OK && strlen(inline_out[i].busy) > 40;
        free(inline_out[i].busy);
        free(inline_out[i].error);
        free(pool_out[i].busy);
        free(pool_out[i].error);
        free(urls[i]);
    }
    assert_true(ok >= 20);                /* the comparison covered real busy sets */
    curlev_free(cev);
    event_base_free(base);
}

static pthread_t loop_thread;
static int works, dones;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void count_work(void *arg)
{
    pthread_mutex_lock(&mu);
    works++;
    pthread_mutex_unlock(&mu);
    usleep(100);
}

static void count_done(void *arg)
{
    assert_true(pthread_equal(pthread_self(), loop_thread));
    dones++;
    (*(int *)arg)++;
}

static void test_pool_runs_done_on_the_loop_and_drains(void **state)
{
    struct event_base *base = event_base_new();
    loop_thread = pthread_self();
    char err[128];
    parse_pool_t *pool = parse_pool_new(base, 2, err, sizeof err);
    assert_non_null(pool);
    int hits[500] = {0};
    for (int i = 0; i < 500; i++)
        assert_int_equal(parse_pool_submit(pool, count_work, count_done, &hits[i]), 0);
    while (dones < 250)
        event_base_loop(base, EVLOOP_ONCE);
    parse_pool_free(pool);                   /* the other half: finished and delivered */
    assert_int_equal(works, 500);
    assert_int_equal(dones, 500);
    for (int i = 0; i < 500; i++)
        assert_int_equal(hits[i], 1);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_parse_is_identical),
        cmocka_unit_test(test_pool_runs_done_on_the_loop_and_drains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
