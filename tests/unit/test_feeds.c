/* SPDX-License-Identifier: MIT */
/*
 * test_feeds.c - feed_refresh and curlev without outside servers, so the
 * fetch path also runs under ASan/UBSan in `make unit-san`.
 *
 * An evhttp server on the same event loop (127.0.0.1, ephemeral port)
 * plays the remote side: a good feed, ETag/304, an oversized body, a 404.
 * Local files cover file:// and absolute paths, including the mtime-based
 * FEED_UNCHANGED.  The real-server integration tests live in
 * tests/integration/itest_feeds_http.c and itest_caldav_*.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "feed.h"
#include "support_proc.h"

static const char *good_ics =
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
    "BEGIN:VEVENT\r\nUID:u1\r\nDTSTAMP:20261120T000000Z\r\n"
    "DTSTART:20261202T010000Z\r\nDTEND:20261202T020000Z\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:u2\r\nDTSTAMP:20261120T000000Z\r\n"
    "DTSTART:20261203T010000Z\r\nDTEND:20261203T013000Z\r\nEND:VEVENT\r\n"
    "END:VCALENDAR\r\n";

typedef struct outcome {
    bool          done;
    int           calls;
    feed_status_t status;
    long          http_status;
    char         *error;
    size_t        nbusy;
    int64_t       first_start;
    char         *state;
} outcome_t;

static struct {
    struct event_base *base;
    struct evhttp     *http;
    curlev_t          *cev;
    int                port;
    char              *dir;
} T;

/* ---- in-process HTTP server ------------------------------------------- */

static void reply(struct evhttp_request *req, int code, const char *body, size_t len)
{
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, body, len);
    evhttp_send_reply(req, code, code == 200 ? "OK" : "X", b);
    evbuffer_free(b);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    const char *uri = evhttp_request_get_uri(req);
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    if (strcmp(uri, "/good.ics") == 0) {
        reply(req, 200, good_ics, strlen(good_ics));
    } else if (strcmp(uri, "/etag.ics") == 0) {
        const char *inm = evhttp_find_header(in, "If-None-Match");
        evhttp_add_header(out, "ETag", "\"e-42\"");
        if (inm && strcmp(inm, "\"e-42\"") == 0)
            evhttp_send_reply(req, 304, "Not Modified", NULL);
        else
            reply(req, 200, good_ics, strlen(good_ics));
    } else if (strcmp(uri, "/big.ics") == 0) {
        size_t n = 300 * 1024;
        char *big = malloc(n);
        memset(big, 'x', n);
        reply(req, 200, big, n);
        free(big);
    } else {
        reply(req, 404, "nope", 4);
    }
}

/* ---- harness ------------------------------------------------------------ */

static void on_done(feed_result_t *res, void *arg)
{
    outcome_t *o = arg;
    o->done = true;
    o->calls++;
    o->status = res->status;
    o->http_status = res->http_status;
    o->error = xstrdup(res->error);
    o->nbusy = res->busy.n;
    o->first_start = res->busy.n ? res->busy.v[0].start : 0;
    o->state = xstrdup(res->state_json);
}

static void outcome_free(outcome_t *o)
{
    free(o->error);
    free(o->state);
    memset(o, 0, sizeof *o);
}

static void run(feed_kind_t kind, const char *url, size_t max_body, const char *state,
                outcome_t *o)
{
    memset(o, 0, sizeof *o);
    feed_request_t req = { .kind = kind, .url = url, .tz = tz_default(),
                           .window_from = 1795964400LL, .window_to = 1795964400LL + 90 * 86400,
                           .max_body = max_body, .timeout_ms = 10000, .state_json = state };
    feed_job_t *job = feed_refresh(T.cev, &req, on_done, o);
    assert_non_null(job);
    assert_false(o->done);
    for (int i = 0; i < 100000 && !o->done; i++)
        event_base_loop(T.base, EVLOOP_ONCE);
    assert_true(o->done);
    assert_int_equal(o->calls, 1);
}

static char *http_url(const char *path)
{
    return xasprintf("http://127.0.0.1:%d%s", T.port, path);
}

static int setup(void **state)
{
    T.base = event_base_new();
    T.http = evhttp_new(T.base);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(T.http, "127.0.0.1", 0);
    if (!bs)
        return -1;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl);
    T.port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    evhttp_set_gencb(T.http, on_request, NULL);
    T.cev = curlev_new(T.base);
    T.dir = support_mkdtemp("test-feeds");
    return T.cev && T.dir ? 0 : -1;
}

static int teardown(void **state)
{
    curlev_free(T.cev);
    evhttp_free(T.http);
    event_base_free(T.base);
    support_rmtree(T.dir);
    free(T.dir);
    return 0;
}

/* ---- tests ----------------------------------------------------------------- */

static void test_http_ok_then_304(void **state)
{
    char *url = http_url("/etag.ics");
    outcome_t a, b;
    run(FEED_ICS, url, 0, NULL, &a);
    assert_int_equal(a.status, FEED_OK);
    assert_int_equal(a.http_status, 200);
    assert_int_equal(a.nbusy, 2);
    assert_non_null(strstr(a.state, "e-42"));
    run(FEED_ICS, url, 0, a.state, &b);
    assert_int_equal(b.status, FEED_UNCHANGED);
    assert_int_equal(b.http_status, 304);
    assert_int_equal(b.nbusy, 0);
    outcome_free(&a);
    outcome_free(&b);
    free(url);
}

static void test_http_errors(void **state)
{
    char *big = http_url("/big.ics"), *missing = http_url("/missing.ics");
    outcome_t o;
    run(FEED_ICS, big, 100 * 1024, NULL, &o);
    assert_int_equal(o.status, FEED_ERROR);
    assert_non_null(strstr(o.error, "102400"));
    outcome_free(&o);
    run(FEED_ICS, missing, 0, NULL, &o);
    assert_int_equal(o.status, FEED_ERROR);
    assert_int_equal(o.http_status, 404);
    assert_non_null(strstr(o.error, "HTTP 404"));
    outcome_free(&o);
    char *good = http_url("/good.ics");
    run(FEED_FREEBUSY, good, 0, NULL, &o);               /* not a VFREEBUSY */
    assert_int_equal(o.status, FEED_ERROR);
    assert_non_null(strstr(o.error, "VFREEBUSY"));
    outcome_free(&o);
    free(good);
    free(big);
    free(missing);
}

static void test_local_file_and_change(void **state)
{
    char *path = support_path(T.dir, "cal.ics");
    assert_int_equal(support_write_file(path, good_ics, (size_t)-1), 0);
    char *furl = xasprintf("file://%s", path);
    outcome_t a, b, c;
    run(FEED_ICS, furl, 0, NULL, &a);
    assert_int_equal(a.status, FEED_OK);
    assert_int_equal(a.nbusy, 2);
    run(FEED_ICS, path, 0, a.state, &b);
    assert_int_equal(b.status, FEED_UNCHANGED);
    /* rewrite with one event and a different mtime */
    const char *one = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
                      "BEGIN:VEVENT\r\nUID:u9\r\nDTSTAMP:20261120T000000Z\r\n"
                      "DTSTART:20261210T010000Z\r\nDTEND:20261210T020000Z\r\nEND:VEVENT\r\n"
                      "END:VCALENDAR\r\n";
    assert_int_equal(support_write_file(path, one, (size_t)-1), 0);
    struct timeval tv[2] = { { 1700000000, 0 }, { 1700000000, 0 } };
    assert_int_equal(utimes(path, tv), 0);
    run(FEED_ICS, path, 0, a.state, &c);
    assert_int_equal(c.status, FEED_OK);
    assert_int_equal(c.nbusy, 1);
    outcome_free(&a);
    outcome_free(&b);
    outcome_free(&c);
    free(furl);
    free(path);
}

static void test_bad_requests_fail_through_the_callback(void **state)
{
    outcome_t o;
    run(FEED_KIND_COUNT, "/x.ics", 0, NULL, &o);
    assert_int_equal(o.status, FEED_ERROR);
    assert_non_null(strstr(o.error, "フィード種別"));
    outcome_free(&o);
    run(FEED_ICS, "", 0, NULL, &o);
    assert_int_equal(o.status, FEED_ERROR);
    outcome_free(&o);
    run(FEED_CALDAV, "/local/path/", 0, NULL, &o);
    assert_int_equal(o.status, FEED_ERROR);
    assert_non_null(strstr(o.error, "http(s)"));
    outcome_free(&o);
    run(FEED_ICS, T.dir, 0, NULL, &o);                     /* a directory */
    assert_int_equal(o.status, FEED_ERROR);
    assert_non_null(strstr(o.error, "通常のファイル"));
    outcome_free(&o);
}

static void test_cancel(void **state)
{
    char *url = http_url("/good.ics");
    outcome_t o;
    memset(&o, 0, sizeof o);
    feed_request_t req = { .kind = FEED_ICS, .url = url, .window_from = 0,
                           .window_to = 4102444800LL };
    feed_job_t *job = feed_refresh(T.cev, &req, on_done, &o);
    assert_int_equal(curlev_in_flight(T.cev), 1);
    feed_job_cancel(job);
    assert_int_equal(curlev_in_flight(T.cev), 0);
    for (int i = 0; i < 50; i++)
        event_base_loop(T.base, EVLOOP_NONBLOCK);
    assert_false(o.done);
    free(url);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_ok_then_304),
        cmocka_unit_test(test_http_errors),
        cmocka_unit_test(test_local_file_and_change),
        cmocka_unit_test(test_bad_requests_fail_through_the_callback),
        cmocka_unit_test(test_cancel),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
