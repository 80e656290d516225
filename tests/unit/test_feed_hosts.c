/* SPDX-License-Identifier: MIT */
/*
 * test_feed_hosts.c - the scheduler's per-host rules (feed_hosts.h): the
 * host key ignores path, credentials and case and fills in the default
 * port; local files have no host and are never held back; a host at its
 * cap says "busy"; three network failures in a row make it back off for
 * 30 s, doubling per failed probe up to an hour, with a single probe
 * allowed after the backoff; fetches that began before the backoff do not
 * escalate it; any HTTP answer revives the host.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "feed_hosts.h"

static void assert_key(const char *url, const char *want)
{
    char *k = feed_host_key(url);
    if (!want)
        assert_null(k);
    else
        assert_string_equal(k, want);
    free(k);
}

static void test_keys(void **state)
{
    assert_key("https://Cal.Example.JP/a/b.ics?x=1", "https://cal.example.jp:443");
    assert_key("http://user:pw@cal.example.jp:8080/a.ics", "http://cal.example.jp:8080");
    assert_key("http://[::1]/a.ics", "http://[::1]:80");
    assert_key("http://[::1]:81/a.ics", "http://[::1]:81");
    assert_key("file:///srv/cal/a.ics", NULL);
    assert_key("/srv/cal/a.ics", NULL);
    feed_hosts_t h;
    feed_hosts_init(&h);
    assert_ptr_equal(feed_hosts_get(&h, "https://a.example/x.ics"),
                     feed_hosts_get(&h, "https://A.example:443/y.ics"));
    assert_true(feed_hosts_get(&h, "https://a.example/x.ics") != feed_hosts_get(&h, "http://a.example/x.ics"));
    assert_null(feed_hosts_get(&h, "/srv/a.ics"));
    assert_int_equal(feed_host_admit(NULL, 1, 0), FEED_ADMIT_GO);
    feed_hosts_free(&h);
}

static void test_cap(void **state)
{
    feed_hosts_t h;
    feed_hosts_init(&h);
    feed_host_t *host = feed_hosts_get(&h, "https://a.example/x.ics");
    for (int i = 0; i < 2; i++) {
        assert_int_equal(feed_host_admit(host, 2, 0), FEED_ADMIT_GO);
        feed_host_started(host);
    }
    assert_int_equal(feed_host_admit(host, 2, 0), FEED_ADMIT_BUSY);
    assert_int_equal(feed_host_admit(host, 0, 0), FEED_ADMIT_GO);    /* 0 = no cap */
    feed_host_finished(host, true, 0);
    assert_int_equal(feed_host_admit(host, 2, 0), FEED_ADMIT_GO);
    feed_hosts_free(&h);
}

static void fail_once(feed_host_t *host, int64_t now)
{
    feed_host_started(host);
    feed_host_finished(host, false, now);
}

static void test_dead_host_backs_off(void **state)
{
    feed_hosts_t h;
    feed_hosts_init(&h);
    feed_host_t *host = feed_hosts_get(&h, "https://dead.example/x.ics");
    fail_once(host, 100);
    fail_once(host, 100);
    assert_int_equal(feed_host_admit(host, 16, 100), FEED_ADMIT_GO);
    /* two fetches in flight when the third failure comes */
    feed_host_started(host);
    feed_host_started(host);
    feed_host_finished(host, false, 100);                 /* 3rd: dead for 30 s */
    assert_int_equal(host->dead_until, 130);
    assert_int_equal(feed_hosts_dead(&h, 100), 1);
    assert_int_equal(feed_host_admit(host, 16, 129), FEED_ADMIT_DEAD);
    feed_host_finished(host, false, 101);                 /* began before: no escalation */
    assert_int_equal(host->dead_until, 130);
    /* after the backoff a single probe */
    assert_int_equal(feed_host_admit(host, 16, 130), FEED_ADMIT_GO);
    feed_host_started(host);
    assert_int_equal(feed_host_admit(host, 16, 130), FEED_ADMIT_BUSY);
    feed_host_finished(host, false, 131);                 /* probe failed: 60 s */
    assert_int_equal(host->dead_until, 191);
    for (int i = 0; i < 12; i++)
        fail_once(host, host->dead_until);                /* doubles, capped */
    int64_t t = host->dead_until;
    fail_once(host, t);
    assert_int_equal(host->dead_until - t, FEED_HOST_BACKOFF_MAX);
    /* any HTTP answer (even an error status) revives it */
    feed_host_started(host);
    feed_host_finished(host, true, t + 5000);
    assert_int_equal(feed_host_admit(host, 16, t + 5000), FEED_ADMIT_GO);
    assert_int_equal(feed_hosts_dead(&h, t + 5000), 0);
    assert_int_equal(host->in_flight, 0);
    feed_hosts_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_dead_host_backs_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
