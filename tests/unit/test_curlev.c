/* SPDX-License-Identifier: MIT */
/*
 * test_curlev.c - the libcurl-on-libevent driver (calendars/curlev.c):
 * transfers run to completion from the loop with their done callback,
 * a refused multi call (adding a handle twice) is reported instead of
 * ignored, and removing or freeing with transfers in flight leaves no
 * bookkeeping behind (the ASan and valgrind passes check the memory).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "curlev.h"
#include "support_proc.h"

typedef struct done_log {
    int      calls;
    CURLcode result;
    size_t   bytes;
} done_log_t;

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    ((done_log_t *)arg)->bytes += size * n;
    return size * n;
}

static void on_done(CURL *easy, CURLcode result, void *arg)
{
    done_log_t *log = arg;
    log->calls++;
    log->result = result;
}

static CURL *file_easy(const char *url, done_log_t *log)
{
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, log);
    return e;
}

static void test_transfer_completes_from_the_loop(void **state)
{
    char *dir = support_mkdtemp("test-curlev");
    char *path = support_path(dir, "x.txt");
    assert_int_equal(support_write_file(path, "hello curlev\n", (size_t)-1), 0);
    char url[600];
    snprintf(url, sizeof url, "file://%s", path);
    struct event_base *base = event_base_new();
    curlev_t *cev = curlev_new(base);
    assert_non_null(cev);
    done_log_t log = {0};
    CURL *e = file_easy(url, &log);
    assert_int_equal(curlev_add(cev, e, on_done, &log), 0);
    assert_int_equal(curlev_in_flight(cev), 1);
    for (int i = 0; i < 100 && log.calls == 0; i++)
        event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    assert_int_equal(log.calls, 1);
    assert_int_equal(log.result, CURLE_OK);
    assert_int_equal(log.bytes, strlen("hello curlev\n"));
    assert_int_equal(curlev_in_flight(cev), 0);
    curl_easy_cleanup(e);
    curlev_free(cev);
    event_base_free(base);
    support_rmtree(dir);
    free(path);
    free(dir);
}

/* curl_multi_add_handle refuses a handle that is already added
 * (CURLM_ADDED_ALREADY): curlev_add must say so and count it once. */
static void test_refused_add_is_reported(void **state)
{
    struct event_base *base = event_base_new();
    curlev_t *cev = curlev_new(base);
    done_log_t log = {0};
    CURL *e = file_easy("file:///nonexistent/x", &log);
    assert_int_equal(curlev_add(cev, e, on_done, &log), 0);
    assert_int_equal(curlev_add(cev, e, on_done, &log), -1);
    assert_int_equal(curlev_in_flight(cev), 1);
    curlev_remove(cev, e);
    assert_int_equal(curlev_in_flight(cev), 0);
    curlev_remove(cev, e);                       /* unknown now: a no-op */
    /* removed transfers never call back */
    for (int i = 0; i < 20; i++)
        event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    assert_int_equal(log.calls, 0);
    /* freeing with a transfer in flight drops it without a callback */
    assert_int_equal(curlev_add(cev, e, on_done, &log), 0);
    curlev_free(cev);
    assert_int_equal(log.calls, 0);
    curl_easy_cleanup(e);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transfer_completes_from_the_loop),
        cmocka_unit_test(test_refused_add_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
