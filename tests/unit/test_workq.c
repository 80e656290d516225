/* SPDX-License-Identifier: MIT */
/*
 * test_workq.c - core's worker queue (workq.h), the one used by the feed
 * parse pool and password hashing: every task's work runs on a worker and
 * its done on the loop; a bounded queue refuses the task past its limit;
 * freeing with drain runs every done, freeing with a discard hands the
 * unfinished tasks to it instead.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

#include "workq.h"

typedef struct item {
    int       n;
    pthread_t worker;
    bool      worked, done, discarded;
    int      *dones;
    useconds_t sleep_us;
} item_t;

static void work(void *arg)
{
    item_t *it = arg;
    if (it->sleep_us)
        usleep(it->sleep_us);
    it->worker = pthread_self();
    it->worked = true;
}

static void done(void *arg)
{
    item_t *it = arg;
    assert_true(pthread_equal(pthread_self(), it->worker) == 0);   /* not on the worker */
    it->done = true;
    (*it->dones)++;
}

static void discard(void *arg)
{
    ((item_t *)arg)->discarded = true;
}

static void test_work_on_workers_done_on_loop(void **state)
{
    struct event_base *base = event_base_new();
    char err[256];
    workq_t *q = workq_new(base, 3, 0, -1, err, sizeof err);
    assert_non_null(q);
    assert_int_equal(workq_size(q), 3);
    enum { N = 200 };
    item_t items[N] = {0};
    int dones = 0;
    for (int i = 0; i < N; i++) {
        items[i].n = i;
        items[i].dones = &dones;
        assert_int_equal(workq_submit(q, work, done, &items[i]), 0);
    }
    while (dones < N)
        event_base_loop(base, EVLOOP_ONCE);
    for (int i = 0; i < N; i++)
        assert_true(items[i].worked && items[i].done);
    workq_free(q, NULL);
    event_base_free(base);
}

static void test_bounded_and_drained(void **state)
{
    struct event_base *base = event_base_new();
    char err[256];
    workq_t *q = workq_new(base, 1, 4, -1, err, sizeof err);
    item_t items[5] = {0};
    int dones = 0;
    for (int i = 0; i < 5; i++) {
        items[i].dones = &dones;
        items[i].sleep_us = 2000;
    }
    for (int i = 0; i < 4; i++)
        assert_int_equal(workq_submit(q, work, done, &items[i]), 0);
    assert_int_equal(workq_submit(q, work, done, &items[4]), -1);    /* full */
    workq_free(q, NULL);                     /* drains: every done ran */
    assert_int_equal(dones, 4);
    assert_false(items[4].worked);
    event_base_free(base);
}

static void test_free_with_discard(void **state)
{
    struct event_base *base = event_base_new();
    char err[256];
    workq_t *q = workq_new(base, 1, 0, -1, err, sizeof err);
    enum { N = 20 };
    item_t items[N] = {0};
    int dones = 0;
    for (int i = 0; i < N; i++) {
        items[i].dones = &dones;
        items[i].sleep_us = 5000;
        assert_int_equal(workq_submit(q, work, done, &items[i]), 0);
    }
    workq_free(q, discard);
    assert_int_equal(dones, 0);              /* no done after free */
    int discarded = 0;
    for (int i = 0; i < N; i++) {
        discarded += items[i].discarded;
        assert_false(items[i].done);
    }
    assert_int_equal(discarded, N);          /* each task once: finished ones too */
    assert_true(items[N - 1].worked == false);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_work_on_workers_done_on_loop),
        cmocka_unit_test(test_bounded_and_drained),
        cmocka_unit_test(test_free_with_discard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
