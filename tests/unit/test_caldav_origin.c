/* SPDX-License-Identifier: MIT */
/*
 * test_caldav_origin.c - where CalDAV discovery may lead
 * and where a redirect may lead (feed_dav_url_refusal in feed_guard.c):
 * only the feed URL's own scheme, host and port or a host listed in
 * FEED_ALLOW_HOSTS; with credentials only the feed URL's own scheme,
 * host and port (default ports, letter case and paths do
 * not matter; user info in the feed URL counts as credentials); never from
 * https down to http, with or without credentials; the message is Japanese
 * first and names only the other origin, never a password.
 * itest_feeds_http checks the same against real servers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "feed_backend.h"
#include "util.h"

/* The refusal for following `to` from a feed at `feed` (NULL: allowed). */
static char *refusal(const char *feed, const char *userpwd, const char *to)
{
    feed_job_t job;
    memset(&job, 0, sizeof job);
    job.url = xstrdup(feed);
    job.userpwd = xstrdup(userpwd);
    char *why = feed_dav_url_refusal(&job, to);
    free(job.url);
    free(job.userpwd);
    return why;
}

static void assert_allowed(const char *feed, const char *userpwd, const char *to)
{
    char *why = refusal(feed, userpwd, to);
    if (why) fail_msg("%s -> %s refused: %s", feed, to, why);
}

static void assert_refused(const char *feed, const char *userpwd, const char *to,
                           const char *needle)
{
    char *why = refusal(feed, userpwd, to);
    if (!why) fail_msg("%s -> %s allowed", feed, to);
    if (!strstr(why, needle)) fail_msg("\"%s\" lacks \"%s\"", why, needle);
    assert_null(strstr(why, "s3cret"));
    assert_true(utf8_valid(why, strlen(why)));
    free(why);
}

#define OTHER_HOST "認証情報を別のホストへ送らないため中止しました"
#define DOWNGRADE "https から http へ切り替えないため中止しました"

static void test_same_origin_is_allowed(void **state)
{
    assert_allowed("https://dav.example.jp/cal/", "a:b", "https://dav.example.jp/principals/a/");
    assert_allowed("https://dav.example.jp/cal/", "a:b", "https://DAV.Example.JP:443/home/");
    assert_allowed("HTTPS://dav.example.jp:443/", "a:b", "https://dav.example.jp/x/");
    assert_allowed("http://127.0.0.1:5232/", "a:b", "http://127.0.0.1:5232/a/b/");
    assert_allowed("http://dav.example.jp/", "a:b", "http://dav.example.jp:80/a/");
}

static void test_credentials_stay_on_origin(void **state)
{
    assert_refused("https://dav.example.jp/", "a:s3cret", "https://evil.example/", OTHER_HOST);
    assert_refused("https://dav.example.jp/", "a:s3cret", "https://dav.example.jp:8443/",
                   "https://dav.example.jp:8443");
    assert_refused("http://127.0.0.1:5232/", "a:s3cret", "http://127.0.0.1:5233/", OTHER_HOST);
    assert_refused("http://127.0.0.1:5232/", "a:s3cret", "http://localhost:5232/", OTHER_HOST);
    /* an upgrade is another origin too */
    assert_refused("http://dav.example.jp/", "a:s3cret", "https://dav.example.jp/", OTHER_HOST);
    /* user info in the feed URL is a credential as well */
    assert_refused("https://a:s3cret@dav.example.jp/", NULL, "https://evil.example/",
                   OTHER_HOST);
    assert_refused("https://dav.example.jp/", "a:s3cret", "https://x:s3cret@evil.example/",
                   "https://evil.example:443");
}

#define AWAY "別のホストへの転送を拒否しました"

/* The allowed-host check on a job whose FEED_ALLOW_HOSTS is allow. */
static char *refusal_allowing(const char *feed, const char *allow, const char *to)
{
    feed_job_t job;
    memset(&job, 0, sizeof job);
    job.url = xstrdup(feed);
    job.allow_hosts = xstrdup(allow);
    char *why = feed_dav_url_refusal(&job, to);
    free(job.url);
    free(job.allow_hosts);
    return why;
}

/* Without credentials another origin is refused too (issue 8 item 4: a
 * feed server must not point tsunagud at other hosts or ports), unless
 * FEED_ALLOW_HOSTS lists the host (any port). */
static void test_without_credentials_origin_is_kept(void **state)
{
    assert_refused("https://dav.example.jp/", NULL, "https://cdn.example.net/cal/", AWAY);
    assert_refused("http://dav.example.jp/", NULL, "http://other.example/cal/", AWAY);
    assert_refused("http://dav.example.jp/", NULL, "https://dav.example.jp/cal/", AWAY);
    assert_refused("http://10.0.0.5:5232/", NULL, "http://10.0.0.5:8080/", AWAY);
    assert_refused("http://10.0.0.5:5232/", NULL, "http://127.0.0.1:5232/", AWAY);
    char *why = refusal_allowing("https://dav.example.jp/", "cdn.example.net, 10.0.0.9",
                                 "https://cdn.example.net:8443/cal/");
    assert_null(why);
    why = refusal_allowing("http://10.0.0.5:5232/", "a.example 10.0.0.9", "http://10.0.0.9:80/x");
    assert_null(why);
    why = refusal_allowing("http://[::1]:5232/", "::1", "http://[::1]:5233/x");
    assert_null(why);
    why = refusal_allowing("https://dav.example.jp/", "cdn.example.net", "https://cdn.example.net.evil/");
    assert_non_null(strstr(why, AWAY));
    free(why);
    why = refusal_allowing("https://dav.example.jp/", "example.net", "https://cdn.example.net/");
    assert_non_null(strstr(why, AWAY));   /* whole names only, no suffix match */
    free(why);
    /* an allowed host never gets the credentials, nor a downgrade */
    feed_job_t job;
    memset(&job, 0, sizeof job);
    job.url = "https://dav.example.jp/";
    job.userpwd = "a:s3cret";
    job.allow_hosts = "cdn.example.net";
    why = feed_dav_url_refusal(&job, "https://cdn.example.net/");
    assert_non_null(strstr(why, OTHER_HOST));
    free(why);
    job.userpwd = NULL;
    why = feed_dav_url_refusal(&job, "http://cdn.example.net/");
    assert_non_null(strstr(why, DOWNGRADE));
    free(why);
}

static void test_never_down_to_http(void **state)
{
    assert_refused("https://dav.example.jp/", NULL, "http://dav.example.jp/cal/", DOWNGRADE);
    assert_refused("https://dav.example.jp/", "a:s3cret", "http://dav.example.jp/cal/",
                   DOWNGRADE);
    assert_refused("https://dav.example.jp/", NULL, "http://other.example/", DOWNGRADE);
}

static void test_unparsable_urls_are_refused(void **state)
{
    assert_refused("https://dav.example.jp/", "a:b", "", "URL");
    assert_refused("https://dav.example.jp/", "a:b", "not a url", "URL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_origin_is_allowed),
        cmocka_unit_test(test_credentials_stay_on_origin),
        cmocka_unit_test(test_without_credentials_origin_is_kept),
        cmocka_unit_test(test_never_down_to_http),
        cmocka_unit_test(test_unparsable_urls_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
