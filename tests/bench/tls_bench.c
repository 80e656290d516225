/* SPDX-License-Identifier: MIT */
/*
 * tls_bench.c - `make bench-tls` (issue 14): what a TLS handshake costs the
 * daemon, and whether its feed fetches reuse connections per host.  Not a
 * timed test: it prints numbers.
 *
 * A self-signed certificate for 127.0.0.1 is made with Debian's openssl
 * in a temp dir; tests/bench/tls_server.py serves a small calendar over
 * https and over plain http (HTTP/1.1 keep-alive), counting TCP
 * connections, TLS handshakes and resumed sessions on the server side.
 *
 * 1. Handshake cost, client side, with plain libcurl: N sequential GETs
 *    on a fresh connection each (FRESH_CONNECT + FORBID_REUSE, a new easy
 *    handle each: a full handshake every time), the same with a shared
 *    TLS session cache (resumed handshakes), and N GETs on one kept-alive
 *    connection.  CPU of this process per request (getrusage) and wall.
 * 2. The daemon's own path: N feed refreshes (feed_refresh on a curlev,
 *    FEED_CA_FILE = the certificate) to one host, CONC at a time, over
 *    https and over http.  The server's counts say how many connections
 *    and handshakes those N fetches really needed.
 *
 *   build/bench/tls_bench [N [CONC]]     (defaults 400 and 8)
 */
#include <curl/curl.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "curlev.h"
#include "feed.h"
#include "support_proc.h"
#include "timeutil.h"
#include "util.h"

static char *cert, *key;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static size_t sink(char *p, size_t sz, size_t n, void *arg)
{
    strbuf_add(arg, p, sz * n);
    return sz * n;
}

/* The server's counters: connections, handshakes, resumed, requests. */
static void counts(const char *base, long out[4])
{
    CURL *c = curl_easy_init();
    strbuf_t b;
    strbuf_init(&b);
    char *url = xasprintf("%s/count", base);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, cert);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    memset(out, 0, 4 * sizeof *out);
    if (curl_easy_perform(c) == CURLE_OK && b.s) {
        const char *k[4] = {"\"connections\": ", "\"handshakes\": ", "\"resumed\": ",
                            "\"requests\": "};
        for (int i = 0; i < 4; i++) {
            const char *p = strstr(b.s, k[i]);
            out[i] = p ? strtol(p + strlen(k[i]), NULL, 10) : -1;
        }
    }
    curl_easy_cleanup(c);
    strbuf_free(&b);
    free(url);
}

/* ---- 1. plain libcurl: full, resumed, kept-alive ------------------------ */
typedef enum { FRESH, RESUMED, KEPT } mode_t_;

static void plain_run(const char *label, const char *base, mode_t_ mode, int n)
{
    char *url = xasprintf("%s/cal.ics", base);
    CURLSH *sh = curl_share_init();
    curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    CURL *kept = NULL;
    long c0[4], c1[4];
    counts(base, c0);
    double t0 = now_s(), u0 = self_cpu_s();
    int ok = 0;
    for (int i = 0; i < n; i++) {
        CURL *c = mode == KEPT && kept ? kept : curl_easy_init();
        strbuf_t b;
        strbuf_init(&b);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_CAINFO, cert);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
        if (mode != KEPT) {
            curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
            curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
        }
        if (mode == RESUMED)
            curl_easy_setopt(c, CURLOPT_SHARE, sh);
        ok += curl_easy_perform(c) == CURLE_OK;
        strbuf_free(&b);
        if (mode == KEPT)
            kept = c;
        else
            curl_easy_cleanup(c);
    }
    double el = now_s() - t0, cpu = self_cpu_s() - u0;
    counts(base, c1);
    printf("%-34s %4d/%d ok  %6.3f ms CPU/request  %6.2f ms wall/request;"
           " server: %ld connections, %ld handshakes (%ld resumed)\n", label, ok, n,
           1000 * cpu / n, 1000 * el / n, c1[0] - c0[0] - 1, c1[1] - c0[1] - (c1[1] > c0[1]),
           c1[2] - c0[2]);
    if (kept)
        curl_easy_cleanup(kept);
    curl_share_cleanup(sh);
    free(url);
}

/* ---- 2. the daemon's path: feed_refresh on a curlev --------------------- */
typedef struct run {
    int   started, finished, ok, n, conc;
    const char *base;
    curlev_t   *cev;
    struct event_base *evb;
} run_t;

static void start_one(run_t *r);

static void on_feed_done(feed_result_t *res, void *arg)
{
    run_t *r = arg;
    r->finished++;
    r->ok += res->status != FEED_ERROR;
    if (res->status == FEED_ERROR && r->finished == 1)
        fprintf(stderr, "feed error: %s\n", res->error);
    if (r->started < r->n)
        start_one(r);
    if (r->finished == r->n)
        event_base_loopbreak(r->evb);
}

static void start_one(run_t *r)
{
    char url[256];
    snprintf(url, sizeof url, "%s/f%d.ics", r->base, r->started);
    int64_t now = tu_now();
    feed_request_t req = {.kind = FEED_ICS, .url = url, .tz = tz_default(),
                          .window_from = now - 30 * 86400, .window_to = now + 400 * 86400,
                          .ca_file = cert};
    r->started++;
    if (!feed_refresh(r->cev, &req, on_feed_done, r))
        r->finished++;
}

static void feed_run(const char *label, const char *base, int n, int conc)
{
    struct event_base *evb = event_base_new();
    run_t r = {.n = n, .conc = conc, .base = base, .evb = evb, .cev = curlev_new(evb)};
    long c0[4], c1[4];
    counts(base, c0);
    double t0 = now_s(), u0 = self_cpu_s();
    for (int i = 0; i < conc && r.started < n; i++)
        start_one(&r);
    event_base_dispatch(evb);
    double el = now_s() - t0, cpu = self_cpu_s() - u0;
    counts(base, c1);
    printf("%-34s %4d/%d ok  %6.3f ms CPU/fetch    %6.2f ms wall/fetch;"
           " server: %ld connections, %ld handshakes (%ld resumed) for %d fetches\n", label,
           r.ok, n, 1000 * cpu / n, 1000 * el / n, c1[0] - c0[0] - 1,
           c1[1] - c0[1] - (c1[1] > c0[1]), c1[2] - c0[2], n);
    curlev_free(r.cev);
    event_base_free(evb);
}

static pid_t serve(int port, bool tls)
{
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    const char *tls_argv[] = {"/usr/bin/python3", "tests/bench/tls_server.py", p, cert, key, NULL};
    const char *plain_argv[] = {"/usr/bin/python3", "tests/bench/tls_server.py", p, NULL};
    pid_t pid = support_spawn(tls ? tls_argv : plain_argv, NULL, NULL, "/dev/null");
    return pid > 0 && support_wait_port(port, 10000, pid) ? pid : -1;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 400, conc = argc > 2 ? atoi(argv[2]) : 8;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char *dir = support_mkdtemp("tls-bench");
    cert = support_path(dir, "cert.pem");
    key = support_path(dir, "key.pem");
    char *cmd = xasprintf("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
                          " -nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1"
                          " -keyout %s -out %s 2>/dev/null", key, cert);
    if (system(cmd) != 0) {
        fprintf(stderr, "openssl req failed\n");
        return 1;
    }
    free(cmd);
    int tport = support_free_port(), pport = support_free_port();
    pid_t ts = serve(tport, true), ps = serve(pport, false);
    if (ts < 0 || ps < 0) {
        fprintf(stderr, "could not start tests/bench/tls_server.py\n");
        return 1;
    }
    char *https = xasprintf("https://127.0.0.1:%d", tport), *http = xasprintf("http://127.0.0.1:%d", pport);
    printf("== TLS (%s), %d requests, server: python3 ssl (ECDSA P-256)\n",
           curl_version_info(CURLVERSION_NOW)->ssl_version, n);
    int m = n / 2 > 0 ? n / 2 : 1;
    plain_run("https, full handshake each", https, FRESH, m);
    plain_run("https, resumed session each", https, RESUMED, m);
    plain_run("https, one kept-alive connection", https, KEPT, m);
    plain_run("http, new connection each", http, FRESH, m);
    plain_run("http, one kept-alive connection", http, KEPT, m);
    char label[64];
    snprintf(label, sizeof label, "feeds over https, %d at a time", conc);
    feed_run(label, https, n, conc);
    snprintf(label, sizeof label, "feeds over http, %d at a time", conc);
    feed_run(label, http, n, conc);
    kill(ts, SIGTERM);
    kill(ps, SIGTERM);
    waitpid(ts, NULL, 0);
    waitpid(ps, NULL, 0);
    support_rmtree(dir);
    free(https);
    free(http);
    free(cert);
    free(key);
    free(dir);
    return 0;
}
