/* SPDX-License-Identifier: MIT */
/*
 * scale_bench.c - `make bench-scale` (issue 14): tsunagud with 10,000 to
 * 100,000 feeds on one machine.  Not part of `make bench` (it needs
 * minutes and most of the machine); run it with nice, one size at a time.
 *
 *   build/bench/scale_bench N MODE INTERVAL DELAY_MS WINDOW_S
 *     N         feeds (60 per agency, like a municipality)
 *     MODE      200 | 304 | changed  (what the ICS server answers)
 *     INTERVAL  POLL_INTERVAL in seconds (900 = the 15-minute target; a
 *               short one is the "compressed" run that shows capacity)
 *     DELAY_MS  server latency added to every answer (300 = realistic)
 *     WINDOW_S  length of each measuring window (0: import and restart only)
 *     STEADY_S  optional: length of a true steady-state window.  The first
 *               round at 100,000 feeds and 15 minutes takes 15 minutes, so
 *               instead of waiting for it the bench stops the daemon after
 *               the first-round window and makes every feed fresh in the
 *               database, as a finished first round leaves it (state ok,
 *               the busy rows and ETag of a feed fetched in the first
 *               round, last success within the last interval, next poll
 *               spread evenly over the next), then restarts the daemon
 *               (the restart time is then that of a full database) and
 *               measures STEADY_S seconds of steady state.
 *
 * The ICS server is a forked child of this program: libevent's evhttp on
 * 32 loopback ports (the agencies spread over them, so the daemon sees 32
 * hosts and its per-host cap is realistic), serving a 16 KB calendar of
 * 39 events in the daemon's window.  "200" ignores conditional headers,
 * "304" honours If-None-Match, "changed" moves one event on every answer
 * (new busy data each time, no ETag).  Its own CPU is reported so it is
 * seen not to be the bottleneck.
 *
 * Steps, each printed as it ends: import (client time of POST /v1/import,
 * and the loop's longest pause meanwhile: /healthz probed back to back by
 * a child process; the daemon's own step count and longest step from GET
 * /v1/import); SCALE_BENCH_DAEMON names another tsunagud binary, for a
 * before/after in one session;
 * window 1 = the first round (fetches/s and daemon CPU per fetch from
 * /metrics and /proc, /healthz p50/p99/max from sequential probes every
 * 20 ms); window 2 = later (steady state when INTERVAL is short enough
 * for the first round to have finished); /metrics size and time; RSS, DB
 * and WAL sizes; then SIGTERM and a restart: time from spawn to the first
 * /healthz answer.  Only 127.0.0.1 is used; children die with the bench.
 */
#include <curl/curl.h>
#include <sqlite3.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support_proc.h"
#include "util.h"

#define PER_AGENCY 60
#define NPORTS     32
#define ADMIN      "scale-bench-admin-token-0123456789abcdef"

static const char *mode;
static int delay_ms;
static long served;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the ICS server (child process) ---------------------------------- */
static char *calendar(long shift_min)
{
    strbuf_t b;
    strbuf_init(&b);
    strbuf_puts(&b, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tsunagu//scale bench//EN\r\n");
    time_t base = time(NULL) - 10 * 86400;
    for (int i = 0; i < 39; i++) {
        time_t s = base + (time_t)i * 4 * 86400 + 3600 * (i % 8) + (i == 0 ? shift_min * 60 : 0);
        struct tm a, z;
        time_t e = s + 5400;
        gmtime_r(&s, &a);
        gmtime_r(&e, &z);
        strbuf_printf(&b, "BEGIN:VEVENT\r\nUID:scale-%d@bench\r\nDTSTAMP:20261201T000000Z\r\n"
                      "DTSTART:%04d%02d%02dT%02d%02d00Z\r\nDTEND:%04d%02d%02dT%02d%02d00Z\r\n"
                      "SUMMARY:ケース会議 %d\r\nDESCRIPTION:", i, a.tm_year + 1900, a.tm_mon + 1,
                      a.tm_mday, a.tm_hour, a.tm_min, z.tm_year + 1900, z.tm_mon + 1, z.tm_mday,
                      z.tm_hour, z.tm_min, i);
        for (int k = 0; k < 3; k++)
            strbuf_puts(&b, "関係機関との調整と記録のための長めの説明文です。");
        strbuf_puts(&b, "\r\n");
        if (i % 5 == 0)
            strbuf_puts(&b, "RRULE:FREQ=WEEKLY;COUNT=3\r\n");
        strbuf_puts(&b, "END:VEVENT\r\n");
    }
    strbuf_puts(&b, "END:VCALENDAR\r\n");
    return strbuf_detach(&b);
}

static char *body_fixed;

static void send_answer(struct evhttp_request *req)
{
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    const char *inm = evhttp_find_header(evhttp_request_get_input_headers(req), "If-None-Match");
    served++;
    if (strcmp(mode, "304") == 0 && inm && strcmp(inm, "\"e1\"") == 0) {
        evhttp_send_reply(req, 304, "Not Modified", NULL);
        return;
    }
    struct evbuffer *b = evbuffer_new();
    char *changed = strcmp(mode, "changed") == 0 ? calendar(served % 1000) : NULL;
    evbuffer_add(b, changed ? changed : body_fixed, strlen(changed ? changed : body_fixed));
    free(changed);
    if (strcmp(mode, "changed") != 0)
        evhttp_add_header(out, "ETag", "\"e1\"");
    evhttp_add_header(out, "Content-Type", "text/calendar; charset=utf-8");
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}

static void on_delay(evutil_socket_t fd, short what, void *arg)
{
    send_answer(arg);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct event_base *base = arg;
    if (strcmp(evhttp_request_get_uri(req), "/served") == 0) {
        struct evbuffer *b = evbuffer_new();
        evbuffer_add_printf(b, "%ld\n", served);
        evhttp_send_reply(req, 200, "OK", b);
        evbuffer_free(b);
        return;
    }
    if (delay_ms <= 0) {
        send_answer(req);
        return;
    }
    struct timeval tv = {delay_ms / 1000, (delay_ms % 1000) * 1000};
    event_base_once(base, -1, EV_TIMEOUT, on_delay, req, &tv);
}

static pid_t start_server(int port0)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    body_fixed = calendar(0);
    struct event_base *base = event_base_new();
    struct evhttp *http = evhttp_new(base);
    evhttp_set_gencb(http, on_request, base);
    for (int i = 0; i < NPORTS; i++)
        if (evhttp_bind_socket(http, "127.0.0.1", (uint16_t)(port0 + i)) != 0)
            _exit(2);
    event_base_dispatch(base);
    _exit(0);
}

/* ---- measuring --------------------------------------------------------- */
static double cpu_s(pid_t pid)          /* utime + stime */
{
    return support_cpu_s(pid);
}

static long rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

static long long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}

static int port;

static long http_get(const char *path, const char *auth, strbuf_t *body, double *secs, long timeout)
{
    CURL *c = curl_easy_init();
    char url[256], hdr[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    struct curl_slist *h = NULL;
    if (auth) {
        snprintf(hdr, sizeof hdr, "Authorization: Bearer %s", auth);
        h = curl_slist_append(h, hdr);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, NULL);
    FILE *sink = NULL;
    if (body) {
        strbuf_init(body);
        sink = open_memstream(&body->s, &body->len);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
    } else {
        sink = fopen("/dev/null", "w");
        curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
    }
    double t0 = now_s();
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (secs)
        *secs = now_s() - t0;
    fclose(sink);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

static long metric(const char *name)
{
    strbuf_t b;
    if (http_get("/metrics", ADMIN, &b, NULL, 60) != 200) {
        free(b.s);
        return -1;
    }
    char key[128];
    snprintf(key, sizeof key, "\n%s ", name);
    char *p = strstr(b.s, key);
    long v = p ? strtol(p + strlen(key), NULL, 10) : -1;
    free(b.s);
    return v;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The machine's 1-minute load average (the machine is shared). */
static double load1(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f && fscanf(f, "%lf", &l) != 1)
        l = -1;
    if (f)
        fclose(f);
    return l;
}

/* Time the daemon's loop thread (its main thread) has spent runnable but
 * waiting for a CPU, in ms (/proc schedstat): on a shared machine the
 * tail of /healthz is mostly this, not the loop's own work. */
static double runq_wait_ms(pid_t pid)
{
    char path[80];
    snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", (int)pid, (int)pid);
    FILE *f = fopen(path, "r");
    unsigned long long run = 0, wait = 0;
    if (f && fscanf(f, "%llu %llu", &run, &wait) != 2)
        wait = 0;
    if (f)
        fclose(f);
    return (double)wait / 1e6;
}

/* One window: /healthz probes every 20 ms; fetch rate and CPU. */
static void window(const char *label, pid_t daemon, pid_t server, int secs)
{
    long f0 = metric("tsunagu_feed_fetch_seconds_count");
    double c0 = cpu_s(daemon), s0 = cpu_s(server), w0 = runq_wait_ms(daemon), t0 = now_s();
    size_t n = 0, cap = (size_t)secs * 60 + 16;
    double *lat = xcalloc(cap, sizeof *lat);
    while (now_s() - t0 < secs && n < cap) {
        double dt;
        if (http_get("/healthz", NULL, NULL, &dt, 30) == 200)
            lat[n++] = dt * 1000;
        support_sleep_ms(20);
    }
    double el = now_s() - t0;
    long f1 = metric("tsunagu_feed_fetch_seconds_count");
    double c1 = cpu_s(daemon), s1 = cpu_s(server), w1 = runq_wait_ms(daemon);
    qsort(lat, n, sizeof *lat, cmp_d);
    double rate = (double)(f1 - f0) / el;
    printf("%-13s %6.1f fetches/s, daemon CPU %5.1f %% (%.2f ms per fetch), server CPU %5.1f %%;"
           " /healthz p50 %.2f p99 %.2f max %.2f ms (%zu probes); load %.2f\n", label, rate,
           100 * (c1 - c0) / el, f1 > f0 ? 1000 * (c1 - c0) / (double)(f1 - f0) : 0,
           100 * (s1 - s0) / el, n ? lat[n / 2] : 0, n ? lat[n * 99 / 100] : 0,
           n ? lat[n - 1] : 0, n, load1());
    printf("%-13s loop thread waited for a CPU %.1f ms per s of the window\n", "", (w1 - w0) / el);
    fflush(stdout);
    free(lat);
}

/* /metrics size and time: 20 scrapes 100 ms apart, p50 and max. */
static void metrics_time(void)
{
    double t[20];
    size_t len = 0;
    for (int i = 0; i < 20; i++) {
        strbuf_t mb;
        http_get("/metrics", ADMIN, &mb, &t[i], 60);
        t[i] *= 1000;
        len = mb.len;
        free(mb.s);
        support_sleep_ms(100);
    }
    qsort(t, 20, sizeof t[0], cmp_d);
    printf("/metrics      %zu bytes, p50 %.2f max %.2f ms (20 scrapes)\n", len, t[10], t[19]);
    fflush(stdout);
}

static bool exec_sql(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return true;
    fprintf(stderr, "prefill: %s: %s\n", msg ? msg : "?", sql);
    sqlite3_free(msg);
    return false;
}

/* With the daemon stopped: every feed as a finished first round leaves
 * it (see the header), copied from one feed the first round fetched. */
static bool make_fresh(const char *db_path, long interval)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(db_path, &db) != SQLITE_OK)
        return false;
    double t0 = now_s();
    char sql[1024];
    long long now = (long long)time(NULL);
    snprintf(sql, sizeof sql,
             "CREATE TEMP TABLE tpl AS SELECT start, end FROM busy WHERE feed_id ="
             " (SELECT id FROM feeds WHERE state = 'ok' AND intervals > 0 LIMIT 1);"
             "CREATE TEMP TABLE src AS SELECT * FROM feeds WHERE state = 'ok' AND intervals > 0"
             " LIMIT 1;"
             "BEGIN;"
             "INSERT INTO busy(feed_id, start, end) SELECT f.id, t.start, t.end FROM feeds f,"
             " tpl t WHERE f.intervals = 0 ORDER BY f.id, t.start;"
             "UPDATE feeds SET state = 'ok', failures = 0, last_error = NULL,"
             " http_status = (SELECT http_status FROM src),"
             " state_json = (SELECT state_json FROM src),"
             " covers_from = (SELECT covers_from FROM src), covers_to = (SELECT covers_to FROM src),"
             " intervals = (SELECT intervals FROM src),"
             " last_success = %lld - abs(random() %% %ld),"
             " next_poll = %lld + 1 + abs(random() %% %ld);"
             "COMMIT;", now, interval, now, interval);
    bool ok = exec_sql(db, "PRAGMA journal_mode=DELETE") && exec_sql(db, sql);
    sqlite3_close(db);
    printf("make fresh    %.1f s (every feed ok, busy rows and ETag of a fetched one)\n",
           now_s() - t0);
    fflush(stdout);
    return ok;
}

/* The loop's longest pause during the import, seen from outside: a child
 * probes /healthz back to back (1 ms apart) until the parent closes the
 * stop pipe, then writes {probes, p50, p99, max} (ms) to the out pipe. */
static pid_t start_prober(const int stop_pipe[2], const int out_pipe[2])
{
    pid_t pid = fork();
    if (pid != 0) {
        close(stop_pipe[0]);
        close(out_pipe[1]);
        return pid;
    }
    close(stop_pipe[1]);                 /* else the parent's close is no EOF here */
    close(out_pipe[0]);
    int stop = stop_pipe[0], out = out_pipe[1];
    size_t n = 0, cap = 1 << 20;
    double *lat = xcalloc(cap, sizeof *lat);
    for (;;) {
        struct timeval tv = {0, 1000};
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(stop, &rd);
        if (select(stop + 1, &rd, NULL, NULL, &tv) != 0)
            break;
        double dt;
        if (n < cap && http_get("/healthz", NULL, NULL, &dt, 60) == 200)
            lat[n++] = dt * 1000;
    }
    qsort(lat, n, sizeof *lat, cmp_d);
    double r[4] = {(double)n, n ? lat[n / 2] : 0, n ? lat[n * 99 / 100] : 0, n ? lat[n - 1] : 0};
    _exit(write(out, r, sizeof r) == (ssize_t)sizeof r ? 0 : 1);
}

static char *city_doc(long nfeeds, int port0)
{
    strbuf_t b;
    strbuf_init(&b);
    strbuf_puts(&b, "{\"city\": \"規模試験市\", \"timezone\": \"Asia/Tokyo\", \"agencies\": [");
    for (long a = 0; a * PER_AGENCY < nfeeds; a++) {
        strbuf_printf(&b, "%s{\"id\": \"ag%ld\", \"name\": \"機関%ld\", \"calendars\": [",
                      a ? "," : "", a, a);
        for (long c = 0; c < PER_AGENCY && a * PER_AGENCY + c < nfeeds; c++)
            strbuf_printf(&b, "%s{\"id\": \"f%ld\", \"kind\": \"ics\", \"url\": "
                          "\"http://127.0.0.1:%ld/f%ld.ics\"}", c ? "," : "",
                          a * PER_AGENCY + c, port0 + a % NPORTS, a * PER_AGENCY + c);
        strbuf_puts(&b, "]}");
    }
    strbuf_puts(&b, "]}");
    return strbuf_detach(&b);
}

static pid_t spawn_daemon(const char *dir, const char *interval)
{
    static char listen[64], db[600], poll[64];
    snprintf(listen, sizeof listen, "TSUNAGU_LISTEN=127.0.0.1:%d", port);
    snprintf(db, sizeof db, "TSUNAGU_DATABASE=%s/t.db", dir);
    snprintf(poll, sizeof poll, "TSUNAGU_POLL_INTERVAL=%s", interval);
    const char *env[] = {listen, db, poll, "TSUNAGU_ADMIN_TOKEN=" ADMIN, "TSUNAGU_LOG_LEVEL=warn",
                         "TSUNAGU_MAX_BODY_BYTES=64M", "TSUNAGU_DRAIN_SECONDS=5", NULL};
    const char *bin = getenv("SCALE_BENCH_DAEMON");    /* another build, for a before/after */
    const char *argv[] = {bin && *bin ? bin : "bin/tsunagud", NULL};
    char *log = support_path(dir, "tsunagud.log");
    pid_t pid = support_spawn(argv, env, NULL, log);
    free(log);
    return pid;
}

static double time_to_healthz(pid_t pid)
{
    double t0 = now_s();
    while (now_s() - t0 < 120) {
        if (http_get("/healthz", NULL, NULL, NULL, 30) == 200)
            return now_s() - t0;
        if (!support_alive(pid))
            return -1;
        support_sleep_ms(10);
    }
    return -1;
}

int main(int argc, char **argv)
{
    if (argc != 6 && argc != 7) {
        fprintf(stderr, "usage: scale_bench N 200|304|changed INTERVAL DELAY_MS WINDOW_S [STEADY_S]\n");
        return 2;
    }
    long n = atol(argv[1]);
    mode = argv[2];
    delay_ms = atoi(argv[4]);
    int win = atoi(argv[5]), steady = argc == 7 ? atoi(argv[6]) : 0;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char *dir = support_mkdtemp("scale-bench");
    /* 32 ports below the ephemeral range; another base if one is taken */
    int port0 = 0;
    pid_t server = -1;
    for (int attempt = 0; attempt < 8 && server < 0; attempt++) {
        port0 = 20000 + (int)((getpid() * 7 + attempt * 1009) % 12000);
        server = start_server(port0);
        if (!support_wait_port(port0 + NPORTS - 1, 3000, server)) {
            kill(server, SIGKILL);
            waitpid(server, NULL, 0);
            server = -1;
        }
    }
    port = support_free_port();
    pid_t d = spawn_daemon(dir, argv[3]);
    if (server < 0 || time_to_healthz(d) < 0) {
        fprintf(stderr, "could not start the server or the daemon (%s)\n", dir);
        return 1;
    }
    printf("== %ld feeds, mode %s, POLL_INTERVAL %s s, server delay %d ms\n", n, mode, argv[3],
           delay_ms);
    char *doc = city_doc(n, port0);
    char hdr[64], url[128];
    snprintf(hdr, sizeof hdr, "Authorization: Bearer %s", ADMIN);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/import", port);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, hdr);
    FILE *null = fopen("/dev/null", "w");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, doc);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 600L);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, null);
    int stop[2], res[2];
    if (pipe(stop) != 0 || pipe(res) != 0)
        return 1;
    fflush(stdout);
    pid_t prober = start_prober(stop, res);
    double t0 = now_s();
    long st = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    double took = now_s() - t0;
    close(stop[1]);
    double pr[4] = {0};
    if (read(res[0], pr, sizeof pr) != (ssize_t)sizeof pr)
        memset(pr, 0, sizeof pr);
    waitpid(prober, NULL, 0);
    close(res[0]);
    printf("import        %.2f s (HTTP %ld, %zu bytes); /healthz meanwhile: %.0f probes,"
           " p50 %.1f p99 %.1f max %.1f ms\n", took, st, strlen(doc), pr[0], pr[1], pr[2], pr[3]);
    strbuf_t ib;
    if (http_get("/v1/import", ADMIN, &ib, NULL, 60) == 200)
        printf("import status %s", ib.s);
    free(ib.s);
    fflush(stdout);
    if (win > 0) {
        window("first round", d, server, win);
        if (steady <= 0)
            window("later", d, server, win);
    }
    metrics_time();
    char *db = support_path(dir, "t.db"), *wal = xasprintf("%s-wal", db);
    printf("memory/disk   RSS %ld MB, DB %.1f MB, WAL %.1f MB; feeds ok %ld, failing %ld\n",
           rss_kb(d) / 1024, file_size(db) / 1048576.0, file_size(wal) / 1048576.0,
           metric("tsunagu_feeds{state=\"ok\"}"), metric("tsunagu_feeds{state=\"failing\"}"));
    support_stop(d, 30000);
    if (steady > 0 && !make_fresh(db, atol(argv[3])))
        return 1;
    d = spawn_daemon(dir, argv[3]);
    printf("restart       /healthz after %.2f s\n", time_to_healthz(d));
    fflush(stdout);
    support_sleep_ms(3000);
    printf("after restart RSS %ld MB\n", rss_kb(d) / 1024);
    if (steady > 0) {
        support_sleep_ms(7000);              /* the steps of the load are over */
        window("steady state", d, server, steady);
        metrics_time();
        printf("steady end    RSS %ld MB, DB %.1f MB, WAL %.1f MB; feeds ok %ld, failing %ld\n",
               rss_kb(d) / 1024, file_size(db) / 1048576.0, file_size(wal) / 1048576.0,
               metric("tsunagu_feeds{state=\"ok\"}"), metric("tsunagu_feeds{state=\"failing\"}"));
    }
    support_stop(d, 30000);
    kill(server, SIGKILL);
    waitpid(server, NULL, 0);
    support_rmtree(dir);
    fclose(null);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(doc);
    free(db);
    free(wal);
    free(dir);
    return 0;
}
