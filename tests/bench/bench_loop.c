/*
 * bench_loop.c - loop responsiveness of the real daemon (issue 2
 * "Benchmark"): with 500 feeds being fetched from a deliberately slow
 * local server, /healthz p99 must stay under 50 ms.
 *
 * Setup: tests/support/badhttp.py serves /slow.ics?s=S (sleeps S seconds,
 * then answers).  bin/tsunagud runs with MAX_CONCURRENT_FETCHES=500 and
 * imports a city of 50 agencies x 10 calendars, all pointing at the slow
 * route, so all 500 fetches are in flight at once.  While they are, this
 * program sends /healthz requests one after another (a fresh connection
 * each, like a load balancer's probe) and records each latency; it also
 * samples tsunagu_feed_fetches_in_flight from /metrics to show the load
 * was really there.  A second phase probes /v1/agencies/{id}/busy, which
 * touches the store.  Exit status is 1 when the /healthz p99 target is
 * missed.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "support_proc.h"
#include "util.h"

#define NAGENCIES 50
#define NCALS 10
#define SLOW_SECONDS 5
#define TARGET_P99_MS 50.0

static int dport;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static size_t sink(char *p, size_t s, size_t n, void *arg)
{
    if (arg)
        strbuf_add(arg, p, s * n);
    return s * n;
}

/* GET/POST; returns status, latency in *ms, body into out (may be NULL). */
static long call(const char *method, const char *path, const char *body, double *ms,
                 strbuf_t *out)
{
    CURL *c = curl_easy_init();
    char url[512], auth[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", dport, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer bench-admin");
    struct curl_slist *h = curl_slist_append(NULL, auth);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    double t0 = now_ms();
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (ms)
        *ms = now_ms() - t0;
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

static char *city_doc(int hport)
{
    json_t *agencies = json_array();
    for (int a = 0; a < NAGENCIES; a++) {
        json_t *cals = json_array();
        for (int k = 0; k < NCALS; k++) {
            char id[32], url[128];
            snprintf(id, sizeof id, "ag%02d-c%d", a, k);
            snprintf(url, sizeof url, "http://127.0.0.1:%d/slow.ics?s=%d&f=%s", hport,
                     SLOW_SECONDS, id);
            json_array_append_new(cals, json_pack("{s:s, s:s, s:s}", "id", id, "kind", "ics",
                                                  "url", url));
        }
        char id[16];
        snprintf(id, sizeof id, "ag%02d", a);
        json_array_append_new(agencies, json_pack(
            "{s:s, s:s, s:[s], s:[], s:s, s:{s:s}, s:i, s:i, s:i, s:b, s:i, s:o}",
            "id", id, "name", id, "fields", "高齢", "areas", "email", "x@example.org",
            "hours", "mon-fri", "09:00-17:00", "travel_minutes", 0, "max_lead_cases", 5,
            "lead_cases", 0, "support_meeting_member", 1, "need", 3, "calendars", cals));
    }
    json_t *doc = json_pack("{s:s, s:s, s:[], s:o}", "city", "bench", "timezone", "Asia/Tokyo",
                            "districts", "agencies", agencies);
    char *s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return s;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

/* A gauge from /metrics ("\nname value"), or -1. */
static long metric(const char *name)
{
    strbuf_t b;
    strbuf_init(&b);
    call("GET", "/metrics", NULL, NULL, &b);
    char *key = xasprintf("\n%s ", name);
    const char *p = b.s ? strstr(b.s, key) : NULL;
    long n = p ? atol(p + strlen(key)) : -1;
    free(key);
    strbuf_free(&b);
    return n;
}

static long in_flight(void) { return metric("tsunagu_feed_fetches_in_flight"); }

/* Probe path for duration_ms; latencies into v (cap n). */
static size_t probe(const char *path, double duration_ms, double *v, size_t cap,
                    long *max_in_flight)
{
    size_t n = 0;
    double end = now_ms() + duration_ms;
    while (now_ms() < end && n < cap) {
        double ms;
        if (call("GET", path, NULL, &ms, NULL) != 200) {
            fprintf(stderr, "bench_loop: %s failed\n", path);
            break;
        }
        v[n++] = ms;
        struct timespec pause = {0, 2000000};     /* ~400 probes a second */
        nanosleep(&pause, NULL);
        if (n % 50 == 0) {
            long f = in_flight();
            if (f > *max_in_flight)
                *max_in_flight = f;
        }
    }
    return n;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char *dir = support_mkdtemp("bench-loop");
    int hport = support_free_port();
    dport = support_free_port();
    char hp[16];
    snprintf(hp, sizeof hp, "%d", hport);
    char *hlog = support_path(dir, "badhttp.log"), *dlog = support_path(dir, "tsunagud.log");
    const char *hargv[] = {"/usr/bin/python3", "tests/support/badhttp.py", hp, ".", NULL};
    pid_t hpid = support_spawn(hargv, NULL, NULL, hlog);
    char listen[64], dbenv[600], mailenv[600];
    snprintf(listen, sizeof listen, "TSUNAGU_LISTEN=127.0.0.1:%d", dport);
    snprintf(dbenv, sizeof dbenv, "TSUNAGU_DATABASE=%s/bench.db", dir);
    snprintf(mailenv, sizeof mailenv, "TSUNAGU_MAIL_PATH=%s/mail.mbox", dir);
    const char *env[] = {listen, dbenv, mailenv, "TSUNAGU_ADMIN_TOKEN=bench-admin",
                         "TSUNAGU_MAX_CONCURRENT_FETCHES=500", "TSUNAGU_FETCH_TIMEOUT=60",
                         "TSUNAGU_LOG_LEVEL=warn", NULL};
    const char *dargv[] = {"bin/tsunagud", NULL};
    pid_t dpid = support_spawn(dargv, env, NULL, dlog);
    int rc = 1;
    if (hpid < 0 || dpid < 0 || !support_wait_port(hport, 10000, hpid) ||
        !support_wait_port(dport, 10000, dpid)) {
        fprintf(stderr, "bench_loop: servers did not start\n");
        goto out;
    }
    char *doc = city_doc(hport);
    double import_ms;
    long st = call("POST", "/v1/import", doc, &import_ms, NULL);
    free(doc);
    if (st != 200) {
        fprintf(stderr, "bench_loop: import failed (%ld)\n", st);
        goto out;
    }
    static double hz[20000], busy[20000];
    long max_fl = 0;
    struct timespec ramp = {1, 200000000};        /* let every fetch start */
    nanosleep(&ramp, NULL);
    size_t nh = probe("/healthz", SLOW_SECONDS * 1000.0 * 0.45, hz, 20000, &max_fl);
    size_t nb = probe("/v1/agencies/ag07/busy", SLOW_SECONDS * 1000.0 * 0.2, busy, 20000, &max_fl);
    if (nh < 10 || nb < 10) {
        fprintf(stderr, "bench_loop: too few probes\n");
        goto out;
    }
    double t_ok = now_ms();
    long ok = 0;
    while ((ok = metric("tsunagu_feeds{state=\"ok\"}")) < NAGENCIES * NCALS &&
           now_ms() - t_ok < 30000) {
        struct timespec pause = {0, 50000000};
        nanosleep(&pause, NULL);
    }
    qsort(hz, nh, sizeof *hz, cmp_double);
    qsort(busy, nb, sizeof *busy, cmp_double);
    printf("loop responsiveness: %d feeds from a slow server (%d s each), max %ld fetches in flight\n",
           NAGENCIES * NCALS, SLOW_SECONDS, max_fl);
    printf("import of %d agencies / %d feeds: %.1f ms; feeds ok afterwards: %ld\n\n", NAGENCIES,
           NAGENCIES * NCALS, import_ms, ok);
    printf("%-28s %8s %8s %8s %8s\n", "endpoint (during fetches)", "probes", "p50 ms", "p99 ms", "max ms");
    printf("%-28s %8zu %8.2f %8.2f %8.2f\n", "GET /healthz", nh, pct(hz, nh, 0.5),
           pct(hz, nh, 0.99), hz[nh - 1]);
    printf("%-28s %8zu %8.2f %8.2f %8.2f\n", "GET /v1/agencies/{id}/busy", nb, pct(busy, nb, 0.5),
           pct(busy, nb, 0.99), busy[nb - 1]);
    double p99 = pct(hz, nh, 0.99);
    printf("\nratio /healthz p99 / target %.0f ms: %.3f (%s)\n", TARGET_P99_MS, p99 / TARGET_P99_MS,
           p99 < TARGET_P99_MS ? "ok" : "MISSED");
    if (max_fl < NAGENCIES * NCALS / 2)
        printf("warning: only %ld fetches were in flight at once\n", max_fl);
    rc = p99 < TARGET_P99_MS ? 0 : 1;
out:
    if (dpid > 0)
        support_stop(dpid, 15000);
    if (hpid > 0)
        support_stop(hpid, 3000);
    support_rmtree(dir);
    free(dir);
    free(hlog);
    free(dlog);
    curl_global_cleanup();
    return rc;
}
