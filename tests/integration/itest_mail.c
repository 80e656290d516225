/* SPDX-License-Identifier: MIT */
/*
 * itest_mail.c - meetings and iMIP mail end to end: bin/tsunagud sending
 * through a real SMTP server (tests/support/smtpsink.py, aiosmtpd) on
 * loopback, every delivered message checked by tests/support/check_imip.py
 * (Python's email + icalendar).
 *
 * One daemon and one sink for the group; tests run in order and share
 * state (the first meeting is replied to, rescheduled and cancelled by
 * later tests).  The daemon clock is pinned with TSUNAGU_NOW; restarts
 * with a later TSUNAGU_NOW drive link expiry and monitoring reminders.
 * Crash tests use SIGKILL with the sink stalling either before the
 * message reaches it (--delay-mail: must be re-sent) or after the whole
 * message arrived (--delay-data: the server accepts it; must NOT be
 * re-sent), and then require every Message-ID exactly once.  RSVP links
 * are used as a browser (or a mail scanner opening them first) would:
 * GET and HEAD must record nothing, only the confirmation form's POST
 * does; every page, refusals included, must be well-formed UTF-8 HTML
 * with nothing loaded from elsewhere, no-store and no-referrer.
 *
 * The daemon's temp dir, port, HTTP requests, fixture city and tokens
 * come from tests/support/support_daemon.h; the daemon itself is
 * configured by environment only (TSUNAGU_ITEST_DAEMON runs another
 * build of it, e.g. ASan).
 */
#include "support_daemon.h"

#include <curl/curl.h>
#include <dirent.h>
#include <libical/ical.h>
#include <libxml/parser.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>

#include "holidays.h"
#include "imip.h"
#include "timeutil.h"

#define CITY  "tests/data/yamanami"
#define ADMIN "itest-mail-admin-token-0123456789abcdef"
#define NOW0  SUPPORT_FIXTURE_NOW
#define HTTP_TIMEOUT_S 20

static struct {
    support_daemon_t d;         /* dir, db, log, port, pid of tsunagud */
    char   *sink, *sinklog;
    int     smtp_port;
    pid_t   sink_pid;
    int64_t m1;                 /* Y-01 meeting, replied/rescheduled/cancelled */
    char   *m1_uid;
    char   *old_accept_link;    /* chuo's accept link at SEQUENCE 0 */
    int64_t decl;               /* Y-02 meeting declined through a link */
    char   *decl_accept_link;   /* csw's accept link for it */
    const char *extra_env[4];   /* more TSUNAGU_* for the next start */
} g;

/* ---- small helpers -------------------------------------------------------- */
/* An admin request that must answer want; returns its JSON. */
static json_t *api(const char *method, const char *path, const char *body, long want)
{
    return support_api_json(&g.d, method, path, ADMIN, body, want);
}

static void expect_error(const char *method, const char *path, const char *body, long want,
                         const char *code)
{
    support_api_error(&g.d, method, path, ADMIN, body, want, code, NULL);
}

/* ---- processes ------------------------------------------------------------ */
static void start_sink4(const char *e1, const char *e2, const char *e3, const char *e4)
{
    char port[16];
    snprintf(port, sizeof port, "%d", g.smtp_port);
    const char *argv[] = {"/usr/bin/python3", "tests/support/smtpsink.py", "--port", port,
                          "--dir", g.sink, e1, e2, e3, e4, NULL};
    g.sink_pid = support_spawn(argv, NULL, NULL, g.sinklog);
    if (g.sink_pid < 0 || !support_wait_port(g.smtp_port, 15000, g.sink_pid))
        fail_msg("smtpsink did not start: %s", support_read_log(g.sinklog));
}

static void start_sink(const char *extra1, const char *extra2)
{
    start_sink4(extra1, extra2, NULL, NULL);
}

static void stop_sink(void)
{
    if (g.sink_pid > 0) support_stop(g.sink_pid, 5000);
    g.sink_pid = -1;
}

static void start_daemon(const char *now)
{
    char listen[64], db[600], smtp[64], nowenv[64], pub[80], cases[PATH_MAX + 32];
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(listen, sizeof listen, "TSUNAGU_LISTEN=127.0.0.1:%d", g.d.port);
    snprintf(db, sizeof db, "TSUNAGU_DATABASE=%s", g.d.db);
    snprintf(smtp, sizeof smtp, "TSUNAGU_SMTP_URL=smtp://127.0.0.1:%d", g.smtp_port);
    snprintf(nowenv, sizeof nowenv, "TSUNAGU_NOW=%s", now);
    snprintf(pub, sizeof pub, "TSUNAGU_PUBLIC_URL=http://127.0.0.1:%d/", g.d.port);
    snprintf(cases, sizeof cases, "TSUNAGU_CASES_DIR=%s/" CITY "/cases", cwd);
    const char *env[] = {listen, db, smtp, nowenv, pub, cases,
                         "TSUNAGU_ADMIN_TOKEN=" ADMIN, "TSUNAGU_SMTP_STARTTLS=no",
                         "TSUNAGU_SMTP_FROM=kyodo@yamanami.example",
                         "TSUNAGU_LINK_SECRET=itest-link-secret-0123456789abcdef0123",
                         "TSUNAGU_OUTBOX_RETRY_SECONDS=1", "TSUNAGU_OUTBOX_RETRY_MAX=1",
                         "TSUNAGU_MONITOR_INTERVAL=1", "TSUNAGU_POLL_INTERVAL=3600",
                         "TSUNAGU_SMTP_TIMEOUT=10",
                         g.extra_env[0], g.extra_env[1], g.extra_env[2], g.extra_env[3], NULL};
    /* TSUNAGU_ITEST_DAEMON: another build of the daemon (e.g. ASan) */
    const char *bin = getenv("TSUNAGU_ITEST_DAEMON");
    const char *argv[] = {bin && *bin ? bin : "bin/tsunagud", NULL};
    g.d.pid = support_spawn(argv, env, NULL, g.d.log);
    if (g.d.pid < 0 || !support_wait_port(g.d.port, 10000, g.d.pid))
        fail_msg("tsunagud did not start: %s", support_read_log(g.d.log));
}

static void kill_daemon(int sig)
{
    if (g.d.pid <= 0) return;
    if (sig == SIGKILL) {
        kill(g.d.pid, SIGKILL);
        waitpid(g.d.pid, NULL, 0);
    } else {
        support_stop(g.d.pid, 10000);
    }
    g.d.pid = -1;
}

/* ---- the sink --------------------------------------------------------------- */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted paths of delivered messages. */
static void sink_files(strvec_t *out)
{
    strvec_init(out);
    DIR *d = opendir(g.sink);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (n > 4 && strcmp(e->d_name + n - 4, ".eml") == 0) {
            char *p = support_path(g.sink, e->d_name);
            strvec_push(out, p);
            free(p);
        }
    }
    closedir(d);
    qsort(out->v, out->n, sizeof *out->v, cmp_str);
}

static char *header_of(const char *raw, const char *name)
{
    char *needle = xasprintf("\n%s: ", name);
    const char *p = strstr(raw, needle);
    char *v = NULL;
    if (p) {
        p += strlen(needle);
        v = xstrndup(p, strcspn(p, "\r\n"));
    }
    free(needle);
    return v;
}

static char *file_header(const char *path, const char *name)
{
    char *raw = read_file(path, NULL);
    char *v = raw ? header_of(raw, name) : NULL;
    free(raw);
    return v;
}

/* Decoded text/plain (base64) part of a delivered message. */
static char *file_text(const char *path)
{
    char *raw = read_file(path, NULL);
    assert_non_null(raw);
    const char *p = strstr(raw, "Content-Type: text/plain");
    assert_non_null(p);
    p = strstr(p, "\r\n\r\n") + 4;
    const char *e = strstr(p, "\r\n--");
    char *t = imip_base64_decode(p, e ? (size_t)(e - p) : strlen(p), NULL);
    free(raw);
    return t;
}

/* Files delivered to rcpt (X-Sink-Rcpt-To) among those after index `from`. */
static void files_to(const strvec_t *all, size_t from, const char *rcpt, strvec_t *out)
{
    strvec_init(out);
    for (size_t i = from; i < all->n; i++) {
        char *to = file_header(all->v[i], "X-Sink-Rcpt-To");
        if (!to) {  /* first line of the file has no leading newline */
            char *raw = read_file(all->v[i], NULL);
            char *tmp = xasprintf("\n%s", raw);
            to = header_of(tmp, "X-Sink-Rcpt-To");
            free(tmp);
            free(raw);
        }
        if (to && strcmp(to, rcpt) == 0) strvec_push(out, all->v[i]);
        free(to);
    }
}

/* Every Message-ID in the sink is unique; returns how many messages. */
static size_t assert_sink_ids_unique(void)
{
    strvec_t files, ids;
    sink_files(&files);
    strvec_init(&ids);
    for (size_t i = 0; i < files.n; i++) {
        char *id = file_header(files.v[i], "Message-ID");
        assert_non_null(id);
        if (strvec_contains(&ids, id)) fail_msg("Message-ID %s delivered twice", id);
        strvec_push(&ids, id);
        free(id);
    }
    size_t n = files.n;
    strvec_free(&files);
    strvec_free(&ids);
    return n;
}

static bool sink_has_id(const char *id)
{
    strvec_t files;
    sink_files(&files);
    bool found = false;
    for (size_t i = 0; i < files.n && !found; i++) {
        char *v = file_header(files.v[i], "Message-ID");
        found = v && strcmp(v, id) == 0;
        free(v);
    }
    strvec_free(&files);
    return found;
}

/* Wait until the sink holds at least n messages. */
static void wait_sink(size_t n, int timeout_ms)
{
    for (int w = 0; w < timeout_ms; w += 50) {
        strvec_t f;
        sink_files(&f);
        size_t have = f.n;
        strvec_free(&f);
        if (have >= n) return;
        support_sleep_ms(50);
    }
    fail_msg("sink did not receive %zu messages; daemon log:\n%s", n, support_read_log(g.d.log));
}

static json_t *outbox(void) { return api("GET", "/v1/outbox", NULL, 200); }

/* The sent outbox rows of meeting id (a new array), each of which must
 * be in the sink ("lost <Message-ID><when>" otherwise). */
static json_t *sent_rows_in_sink(int64_t id, const char *when)
{
    json_t *ob = api("GET", "/v1/outbox?state=sent", NULL, 200);
    json_t *mine = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(ob, "messages"), i, row) {
        if (json_integer_value(json_object_get(row, "meeting_id")) != id) continue;
        const char *mid = json_string_value(json_object_get(row, "message_id"));
        if (!sink_has_id(mid)) fail_msg("lost %s%s", mid, when);
        json_array_append(mine, row);
    }
    json_decref(ob);
    return mine;
}

static long long outbox_total(void)
{
    json_t *j = outbox();
    long long n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(j, "counts"), k, v) n += json_integer_value(v);
    json_decref(j);
    return n;
}

static long long outbox_count(const char *state)
{
    json_t *j = outbox();
    long long n = json_integer_value(json_object_get(json_object_get(j, "counts"), state));
    json_decref(j);
    return n;
}

/* Wait until nothing is pending or in flight. */
static void wait_outbox_idle(int timeout_ms)
{
    for (int w = 0; w < timeout_ms; w += 100) {
        json_t *snap = outbox();
        json_t *c = json_object_get(snap, "counts");
        bool idle = json_integer_value(json_object_get(c, "pending")) == 0 &&
                    json_integer_value(json_object_get(c, "sending")) == 0 &&
                    json_integer_value(json_object_get(c, "handed")) == 0;
        json_decref(snap);
        if (idle) return;
        support_sleep_ms(100);
    }
    fail_msg("outbox did not drain; log:\n%s", support_read_log(g.d.log));
}

/* Run the Python checker; returns the exit status. */
static int check_imip(const strvec_t *files, const char *const args[], char **out)
{
    const char *argv[64] = {"/usr/bin/python3", "tests/support/check_imip.py"};
    size_t n = 2;
    for (size_t i = 0; args && args[i] && n < 40; i++) argv[n++] = args[i];
    for (size_t i = 0; i < files->n && n < 62; i++) argv[n++] = files->v[i];
    argv[n] = NULL;
    char *log = support_path(g.d.dir, "check.out");
    unlink(log);
    pid_t pid = support_spawn(argv, NULL, NULL, log);
    int st = 0;
    waitpid(pid, &st, 0);
    char *text = support_read_log(log);
    if (out) *out = text;
    else free(text);
    free(log);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 99;
}

static void assert_imip_ok(const strvec_t *files, const char *const args[])
{
    char *out = NULL;
    if (check_imip(files, args, &out) != 0) fail_msg("check_imip failed:\n%s", out);
    free(out);
}

/* The URL after `label` ("出席: ") in a message's text part. */
static char *link_in(const char *path, const char *label)
{
    char *t = file_text(path);
    const char *p = strstr(t, label);
    char *url = p ? xstrndup(p + strlen(label), strcspn(p + strlen(label), "\r\n")) : NULL;
    free(t);
    return url;
}

static char *meeting_json_body(const char *cs, const char *type, const char *start,
                               const char *end, const char *attendees, const char *extra)
{
    return xasprintf("{\"case\":\"%s\",\"type\":\"%s\",\"start\":\"%s\",\"end\":\"%s\","
                     "\"attendees\":%s%s%s}", cs, type, start, end, attendees,
                     extra ? "," : "", extra ? extra : "");
}

/* A booking that must be refused with status and error code. */
static void expect_booking_error(const char *cs, const char *type, const char *start,
                                 const char *end, const char *attendees, const char *extra,
                                 long status, const char *code)
{
    char *body = meeting_json_body(cs, type, start, end, attendees, extra);
    expect_error("POST", "/v1/meetings", body, status, code);
    free(body);
}

/* Book a meeting of type at [start, end), or at the first suggestion if
 * that is taken. */
static json_t *book_type_near(const char *type, const char *cs, const char *start,
                              const char *end, const char *attendees, const char *extra)
{
    char *body = meeting_json_body(cs, type, start, end, attendees, extra);
    support_resp_t r = support_daemon_http(&g.d, "POST", "/v1/meetings", ADMIN, body);
    free(body);
    json_t *j = json_loads(r.body.s, 0, NULL);
    if (r.status == 409) {
        json_t *s = json_array_get(json_object_get(j, "suggestions"), 0);
        if (!s) fail_msg("booking %s: HTTP 409 without suggestions: %s", cs, r.body.s);
        body = meeting_json_body(cs, type, json_string_value(json_object_get(s, "start")),
                                 json_string_value(json_object_get(s, "end")), attendees, extra);
        json_decref(j);
        strbuf_free(&r.body);
        r = support_daemon_http(&g.d, "POST", "/v1/meetings", ADMIN, body);
        free(body);
        j = json_loads(r.body.s, 0, NULL);
    }
    if (r.status != 201) fail_msg("booking %s: HTTP %ld %s", cs, r.status, r.body.s);
    strbuf_free(&r.body);
    return j;
}

static json_t *book_near(const char *cs, const char *start, const char *end,
                         const char *attendees, const char *extra)
{
    return book_type_near("重層的支援会議", cs, start, end, attendees, extra);
}

static json_t *book_somewhere(const char *cs, const char *attendees, const char *extra)
{
    return book_near(cs, "2026-12-02T13:00:00+09:00", "2026-12-02T14:00:00+09:00", attendees,
                     extra);
}

/* book_somewhere, keeping only the new meeting's id. */
static int64_t book_somewhere_id(const char *cs, const char *attendees, const char *extra)
{
    json_t *m = book_somewhere(cs, attendees, extra);
    int64_t id = json_integer_value(json_object_get(m, "id"));
    json_decref(m);
    return id;
}

/* Back to the plain setup: a well-behaved sink and the daemon with no
 * extra settings. */
static void restart_plain(void)
{
    kill_daemon(SIGTERM);
    memset(g.extra_env, 0, sizeof g.extra_env);
    stop_sink();
    start_sink(NULL, NULL);
    start_daemon(NOW0);
}

/* ---- group setup -------------------------------------------------------------- */
static int group_setup(void **state)
{
    if (support_daemon_init(&g.d, "itest-mail") != 0)
        return -1;
    g.d.http_timeout_s = HTTP_TIMEOUT_S;
    g.sink = support_path(g.d.dir, "sink");
    g.sinklog = support_path(g.d.dir, "sink.log");
    g.smtp_port = support_free_port();
    while (g.smtp_port == g.d.port) g.smtp_port = support_free_port();
    g.sink_pid = -1;
    start_sink(NULL, NULL);
    start_daemon(NOW0);
    support_api_import_city(&g.d, ADMIN, CITY, NULL, NULL);
    return 0;
}

static int group_teardown(void **state)
{
    kill_daemon(SIGTERM);
    stop_sink();
    if (getenv("ITEST_KEEP")) {
        fprintf(stderr, "kept %s\n", g.d.dir);
        free(g.d.dir);
        g.d.dir = NULL;                     /* support_daemon_free removes no dir */
    }
    support_daemon_free(&g.d);
    free(g.sink); free(g.sinklog);
    free(g.m1_uid); free(g.old_accept_link); free(g.decl_accept_link);
    return 0;
}

/* ---- tests ---------------------------------------------------------------- */
#define M1_ATTENDEES "[\"kyodo\",\"houkatsu-chuo\",\"hikikomori\",\"jiritsu\"]"

static void test_invitations_arrive_as_valid_imip(void **state)
{
    /* the location tries to smuggle a header and a calendar property */
    char *body = meeting_json_body("Y-01", "重層的支援会議", "2026-12-08T12:30:00+09:00",
                                   "2026-12-08T14:00:00+09:00", M1_ATTENDEES,
                                   "\"location\":\"市役所 第2会議室\\r\\nBcc: evil@attacker.example"
                                   "\\nATTENDEE:mailto:evil@attacker.example\","
                                   "\"note\":\"本人82歳 要介護、子ひきこもり\","
                                   "\"monitoring_date\":\"2026-12-20\"");
    json_t *m = api("POST", "/v1/meetings", body, 201);
    free(body);
    g.m1 = json_integer_value(json_object_get(m, "id"));
    g.m1_uid = xstrdup(json_string_value(json_object_get(m, "uid")));
    assert_int_equal(json_integer_value(json_object_get(m, "sequence")), 0);
    assert_string_equal(json_string_value(json_object_get(m, "status")), "scheduled");
    json_decref(m);
    wait_sink(4, 10000);
    wait_outbox_idle(10000);
    strvec_t files;
    sink_files(&files);
    assert_int_equal(files.n, 4);
    /* one message per role mailbox, nothing to the attacker */
    const char *want[] = {"kyodo@yamanami.example", "houkatsu-chuo@yamanami.example",
                          "hikikomori@yamanami.example", "jiritsu@yamanami.example"};
    for (size_t i = 0; i < 4; i++) {
        strvec_t to;
        files_to(&files, 0, want[i], &to);
        assert_int_equal(to.n, 1);
        strvec_free(&to);
    }
    for (size_t i = 0; i < files.n; i++) {
        char *raw = read_file(files.v[i], NULL);
        assert_null(strstr(raw, "\nBcc:"));
        assert_null(strstr(raw, "attacker"));       /* not even encoded: base64 parts */
        free(raw);
    }
    /* valid iMIP; the note and the case's personal data never leave */
    const char *args[] = {"--method", "REQUEST", "--summary", "Y-01 重層的支援会議",
                          "--forbid", "82歳", "--forbid", "要介護", "--forbid", "ひきこもりの子",
                          "--forbid", "8050: 要介護の親とひきこもりの子", NULL};
    assert_imip_ok(&files, args);
    assert_int_equal(assert_sink_ids_unique(), 4);
    /* no confidentiality notice for 重層的支援会議 */
    char *text = file_text(files.v[0]);
    assert_null(strstr(text, "守秘義務"));
    assert_non_null(strstr(text, "Y-01"));
    free(text);
    strvec_t chuo;
    files_to(&files, 0, "houkatsu-chuo@yamanami.example", &chuo);
    g.old_accept_link = link_in(chuo.v[0], "出席: ");
    assert_non_null(g.old_accept_link);
    strvec_free(&chuo);
    strvec_free(&files);
    assert_int_equal(outbox_count("sent"), 4);
}

static void test_support_meeting_mail_carries_confidentiality_notice(void **state)
{
    strvec_t before;
    sink_files(&before);
    json_t *m = book_somewhere("Y-02", "[\"kyodo\",\"kodomo\"]", "\"location\":\"会議室A\"");
    json_decref(m);
    /* book_somewhere used 重層的支援会議; a 支援会議 for Y-13 proper: */
    m = book_type_near("支援会議", "Y-13", "2026-12-03T15:00:00+09:00",
                       "2026-12-03T16:00:00+09:00", "[\"kyodo\",\"hoken\"]",
                       "\"online_url\":\"https://meet.example/y13\"");
    json_decref(m);
    wait_sink(before.n + 4, 10000);
    strvec_t all, hoken;
    sink_files(&all);
    files_to(&all, 0, "hoken@yamanami.example", &hoken);
    assert_int_equal(hoken.n, 1);
    const char *args[] = {"--method", "REQUEST", "--summary", "Y-13 支援会議", "--confidential", NULL};
    assert_imip_ok(&hoken, args);
    char *text = file_text(hoken.v[0]);
    assert_non_null(strstr(text, "https://meet.example/y13"));
    free(text);
    strvec_free(&hoken);
    strvec_free(&all);
    strvec_free(&before);
}

static void test_booked_meeting_is_busy_409_with_suggestions(void **state)
{
    /* chuo is now busy 12:30-14:00 on 12/8 (plus travel) */
    char *body = meeting_json_body("Y-03", "重層的支援会議", "2026-12-08T13:00:00+09:00",
                                   "2026-12-08T14:00:00+09:00", "[\"kyodo\",\"houkatsu-chuo\"]",
                                   "\"location\":\"x\"");
    long long queued = outbox_total();
    json_t *j = api("POST", "/v1/meetings", body, 409);
    free(body);
    assert_string_equal(json_string_value(json_object_get(j, "error")), "slot-taken");
    /* plain Japanese for the person reading it (the CLI prints the list
     * above it): no JSON field name in the text */
    const char *msg = json_string_value(json_object_get(j, "message"));
    assert_non_null(strstr(msg, "新しい候補日時"));
    assert_null(strstr(msg, "suggestions"));
    json_t *busy = json_object_get(j, "busy");
    bool chuo = false;
    size_t i;
    json_t *v;
    json_array_foreach(busy, i, v) chuo |= strcmp(json_string_value(v), "houkatsu-chuo") == 0;
    assert_true(chuo);
    json_t *sugg = json_object_get(j, "suggestions");
    assert_true(json_array_size(sugg) > 0);
    /* a suggestion really is free: booking it succeeds */
    json_t *s0 = json_array_get(sugg, 0);
    body = meeting_json_body("Y-03", "重層的支援会議", json_string_value(json_object_get(s0, "start")),
                             json_string_value(json_object_get(s0, "end")),
                             "[\"kyodo\",\"houkatsu-chuo\"]", "\"location\":\"x\"");
    json_t *ok = api("POST", "/v1/meetings", body, 201);
    free(body);
    json_decref(ok);
    json_decref(j);
    assert_int_equal(outbox_total(), queued + 2);
    wait_outbox_idle(10000);
    /* and the slot engine (POST /v1/slots) no longer offers M1's time */
    json_t *q = api("POST", "/v1/slots",
                    "{\"required\":[\"houkatsu-chuo\"],\"optional\":[],\"duration_minutes\":30,"
                    "\"from\":\"2026-12-08T08:30:00+09:00\",\"to\":\"2026-12-08T17:15:00+09:00\","
                    "\"granularity_minutes\":15,\"notice_days\":0,\"limit\":50}", 200);
    int64_t b0, b1;
    assert_true(tu_parse_iso8601("2026-12-08T12:30:00+09:00", NULL, &b0));
    assert_true(tu_parse_iso8601("2026-12-08T14:00:00+09:00", NULL, &b1));
    size_t i2;
    json_t *sl;
    json_array_foreach(json_object_get(q, "slots"), i2, sl) {
        int64_t t0, t1;
        assert_true(tu_parse_iso8601(json_string_value(json_object_get(sl, "start")), NULL, &t0));
        assert_true(tu_parse_iso8601(json_string_value(json_object_get(sl, "end")), NULL, &t1));
        if (t0 < b1 && b0 < t1) fail_msg("slot %s overlaps the booked meeting",
                                         json_string_value(json_object_get(sl, "start")));
    }
    json_decref(q);
}

static void test_confidentiality_refusals(void **state)
{
    long long before = outbox_total();
    /* Y-06: 本人 excluded hikikomori */
    char *body = meeting_json_body("Y-06", "重層的支援会議", "2026-12-09T10:00:00+09:00",
                                   "2026-12-09T11:00:00+09:00", "[\"kyodo\",\"hikikomori\"]",
                                   "\"location\":\"x\"");
    json_t *j = api("POST", "/v1/meetings", body, 422);
    free(body);
    assert_string_equal(json_string_value(json_object_get(j, "error")), "consent-excluded");
    assert_non_null(strstr(json_string_value(json_object_get(j, "message")), "本人の同意"));
    assert_non_null(strstr(json_string_value(json_object_get(j, "message")), "ひきこもり地域支援センター"));
    json_decref(j);
    /* Y-11: 本人 did not consent */
    expect_booking_error("Y-11", "重層的支援会議", "2026-12-09T10:00:00+09:00",
                         "2026-12-09T11:00:00+09:00", "[\"kyodo\"]", "\"location\":\"x\"", 422,
                         "consent-required");
    /* 支援会議 admits registered members only (hellowork is not) */
    expect_booking_error("Y-02", "支援会議", "2026-12-09T10:00:00+09:00",
                         "2026-12-09T11:00:00+09:00", "[\"kyodo\",\"hellowork\"]",
                         "\"location\":\"x\"", 422, "not-support-meeting-member");
    assert_int_equal(outbox_total(), before);
}

static void test_holds_block_and_own_hold_is_consumed(void **state)
{
    json_t *q = api("POST", "/v1/slots",
                    "{\"required\":[\"kyodo\",\"hoken\"],\"optional\":[],\"duration_minutes\":60,"
                    "\"from\":\"2026-12-09T00:00:00+09:00\",\"to\":\"2026-12-24T00:00:00+09:00\","
                    "\"granularity_minutes\":30,\"notice_days\":0,\"limit\":1}", 200);
    json_t *slot = json_array_get(json_object_get(q, "slots"), 0);
    assert_non_null(slot);
    char *start = xstrdup(json_string_value(json_object_get(slot, "start")));
    char *end = xstrdup(json_string_value(json_object_get(slot, "end")));
    json_decref(q);
    /* another coordinator's hold on hoken makes the slot taken */
    char *hb = xasprintf("{\"agencies\":[\"hoken\"],\"start\":\"%s\",\"end\":\"%s\","
                         "\"expiry\":3600}", start, end);
    json_t *h = api("POST", "/v1/holds", hb, 201);
    free(hb);
    long long hold = json_integer_value(json_object_get(h, "id"));
    json_decref(h);
    char *body = meeting_json_body("Y-05", "重層的支援会議", start, end, "[\"kyodo\",\"hoken\"]",
                                   "\"location\":\"x\"");
    json_t *c = api("POST", "/v1/meetings", body, 409);
    free(body);
    json_t *busy = json_object_get(c, "busy");
    assert_int_equal(json_array_size(busy), 1);
    assert_string_equal(json_string_value(json_array_get(busy, 0)), "hoken");
    json_decref(c);
    /* the holder books it: the hold is consumed */
    char *extra = xasprintf("\"location\":\"x\",\"hold\":%lld", hold);
    body = meeting_json_body("Y-05", "重層的支援会議", start, end, "[\"kyodo\",\"hoken\"]", extra);
    json_t *m = api("POST", "/v1/meetings", body, 201);
    json_decref(m);
    free(body);
    free(extra);
    char path[64];
    snprintf(path, sizeof path, "/v1/holds/%lld", hold);
    support_resp_t r = support_daemon_http(&g.d, "GET", path, ADMIN, NULL);
    assert_int_equal(r.status, 404);
    strbuf_free(&r.body);
    expect_error("POST", "/v1/meetings", "{\"case\":\"Y-05\",\"type\":\"重層的支援会議\","
                 "\"start\":\"2026-12-22T10:00:00+09:00\",\"end\":\"2026-12-22T11:00:00+09:00\","
                 "\"attendees\":[\"kyodo\"],\"location\":\"x\",\"hold\":\"x\"}", 400, "bad-field");
    free(start);
    free(end);
    wait_outbox_idle(10000);
}

/* hoken's data horizon (data_until in POST /v1/slots diagnostics; its
 * free/busy feed declares the range it covers), or a test failure. */
static int64_t hoken_data_until(void)
{
    json_t *q = api("POST", "/v1/slots",
                    "{\"required\":[\"hoken\"],\"optional\":[],\"duration_minutes\":60,"
                    "\"from\":\"2027-02-22T00:00:00+09:00\",\"to\":\"2027-03-12T00:00:00+09:00\","
                    "\"granularity_minutes\":30,\"notice_days\":0,\"limit\":1}", 200);
    json_t *att = json_array_get(json_object_get(json_object_get(q, "diagnostics"), "attendees"), 0);
    const char *until = json_string_value(json_object_get(att, "data_until"));
    int64_t t = 0;
    if (!until || !tu_parse_iso8601(until, NULL, &t)) {
        char *d = json_dumps(q, JSON_COMPACT);
        fail_msg("no data_until for hoken: %s", d);
    }
    json_decref(q);
    return t;
}

/* 409 suggestions come from the same busy input as POST /v1/slots, so
 * none lies past a required attendee's data horizon: hoken is held all
 * of its last covered business day, and nothing after that is offered. */
static void test_409_suggestions_stop_at_data_horizon(void **state)
{
    int64_t horizon = hoken_data_until();
    const tz_t *tz = tz_default();
    int64_t last = tz_local_day(tz, horizon - 1, NULL);
    while (weekday_of_day(last) == 0 || weekday_of_day(last) == 6 || jp_holiday(last, NULL))
        last--;
    char s[TU_ISO_LEN], e[TU_ISO_LEN], ms[TU_ISO_LEN], me[TU_ISO_LEN];
    int64_t day0 = tz_local_to_utc(tz, last, 0);
    tu_format_iso8601(day0, tz, s);
    tu_format_iso8601(day0 + 86400, tz, e);
    tu_format_iso8601(day0 + 10 * 3600, tz, ms);
    tu_format_iso8601(day0 + 11 * 3600, tz, me);
    char *hb = xasprintf("{\"agencies\":[\"hoken\"],\"start\":\"%s\",\"end\":\"%s\","
                         "\"expiry\":3600}", s, e);
    json_t *h = api("POST", "/v1/holds", hb, 201);
    free(hb);
    long long hold = json_integer_value(json_object_get(h, "id"));
    json_decref(h);
    char *body = meeting_json_body("Y-05", "重層的支援会議", ms, me, "[\"kyodo\",\"hoken\"]",
                                   "\"location\":\"x\"");
    json_t *c = api("POST", "/v1/meetings", body, 409);
    free(body);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(c, "suggestions"), i, v) {
        int64_t end = 0;
        assert_true(tu_parse_iso8601(json_string_value(json_object_get(v, "end")), NULL, &end));
        if (end > horizon)
            fail_msg("suggestion %s ends past hoken's data horizon",
                     json_string_value(json_object_get(v, "start")));
    }
    json_decref(c);
    char path[64];
    snprintf(path, sizeof path, "/v1/holds/%lld", hold);
    support_resp_t r = support_daemon_http(&g.d, "DELETE", path, ADMIN, NULL);
    assert_true(r.status == 200 || r.status == 204);
    strbuf_free(&r.body);
}

static void test_reschedule_rechecks_consent(void **state)
{
    /* Y-07 in the case registry, booked with jutaku; then 本人 excludes jutaku */
    json_t *doc = json_load_file(CITY "/cases/Y-07.json", 0, NULL);
    assert_non_null(doc);
    char *txt = json_dumps(doc, 0);
    json_t *c = api("POST", "/v1/cases", txt, 201);
    json_decref(c);
    free(txt);
    json_t *m = book_near("Y-07", "2026-12-04T13:00:00+09:00", "2026-12-04T14:00:00+09:00",
                          "[\"kyodo\",\"jutaku\"]", "\"location\":\"x\"");
    int64_t id = json_integer_value(json_object_get(m, "id"));
    json_decref(m);
    size_t i;
    json_t *mem;
    json_array_foreach(json_object_get(doc, "members"), i, mem)
        if (strcmp(json_string_value(json_object_get(mem, "relation")), "本人") == 0)
            json_object_set_new(mem, "consent_excludes", json_pack("[s]", "jutaku"));
    txt = json_dumps(doc, 0);
    c = api("PUT", "/v1/cases/Y-07", txt, 200);
    /* the update itself removed jutaku (issue 8 item 2), so the meeting
     * is not stuck: it can be rescheduled without it */
    json_t *ch = json_array_get(json_object_get(c, "meetings"), 0);
    assert_int_equal(json_integer_value(json_object_get(ch, "meeting")), id);
    assert_string_equal(json_string_value(json_array_get(json_object_get(ch, "removed"), 0)), "jutaku");
    json_decref(c);
    free(txt);
    json_decref(doc);
    char path[96];
    snprintf(path, sizeof path, "/v1/meetings/%lld/reschedule", (long long)id);
    json_t *after = api("POST", path, "{\"start\":\"2026-12-18T13:00:00+09:00\","
                                      "\"end\":\"2026-12-18T14:00:00+09:00\"}", 200);
    assert_int_equal(json_integer_value(json_object_get(after, "sequence")), 1);
    size_t k;
    json_t *a;
    json_array_foreach(json_object_get(after, "attendees"), k, a)
        assert_string_not_equal(json_string_value(json_object_get(a, "agency")), "jutaku");
    json_decref(after);
    wait_outbox_idle(10000);
}

static void test_bad_requests(void **state)
{
    expect_error("POST", "/v1/meetings", "{\"type\":\"支援会議\"}", 400, "bad-field");
    const char *t10 = "2026-12-09T10:00:00+09:00", *t11 = "2026-12-09T11:00:00+09:00";
    const char *jk = "重層的支援会議", *kyodo = "[\"kyodo\"]", *place = "\"location\":\"x\"";
    expect_booking_error("Y-01", "雑談", t10, t11, kyodo, place, 400, "bad-field");
    expect_booking_error("Y-01", jk, t11, t10, kyodo, place, 400, "bad-time");
    expect_booking_error("Y-01", jk, "2026-11-20T10:00:00+09:00", "2026-11-20T11:00:00+09:00",
                         kyodo, place, 400, "past");
    expect_booking_error("Y-01", jk, t10, t11, kyodo, NULL, 400, "bad-field");   /* no place */
    expect_booking_error("Y-01", jk, t10, t11, kyodo, "\"online_url\":\"javascript:alert(1)\"",
                         400, "bad-field");
    expect_booking_error("Y-01", jk, t10, t11, "[\"nosuch\"]", place, 422, "unknown-agency");
    expect_booking_error("Y-99", jk, t10, t11, kyodo, place, 404, "not-found");
    /* no attendees and no approved decision */
    expect_error("POST", "/v1/meetings",
                 "{\"case\":\"Y-01\",\"type\":\"重層的支援会議\",\"start\":\"2026-12-09T10:00:00+09:00\","
                 "\"end\":\"2026-12-09T11:00:00+09:00\",\"location\":\"x\"}", 422, "no-approved-lead");
    expect_error("GET", "/v1/meetings/999999", NULL, 404, "not-found");
    expect_error("GET", "/v1/meetings/abc", NULL, 400, "bad-id");
    expect_error("GET", "/v1/outbox?state=weird", NULL, 400, "bad-field");
    support_resp_t r = support_daemon_http(&g.d, "GET", "/v1/outbox", NULL, NULL);
    assert_int_equal(r.status, 401);
    strbuf_free(&r.body);
    r = support_daemon_http(&g.d, "POST", "/v1/meetings", NULL, "{}");
    assert_int_equal(r.status, 401);
    strbuf_free(&r.body);
}

static json_t *m1(void)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/meetings/%lld", (long long)g.m1);
    return api("GET", path, NULL, 200);
}

static const char *partstat_of(json_t *m, const char *agency)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(m, "attendees"), i, a)
        if (strcmp(json_string_value(json_object_get(a, "agency")), agency) == 0)
            return json_string_value(json_object_get(a, "partstat"));
    return NULL;
}

/* ---- RSVP links ------------------------------------------------------------ */
typedef struct page {
    long     status;            /* 0 when the request failed */
    strbuf_t body, head;        /* head: the response's header lines */
} page_t;

static size_t page_add(char *p, size_t size, size_t n, void *buf)
{
    strbuf_add(buf, p, size * n);
    return size * n;
}

/* Open an RSVP link as a browser (or a mail scanner) would: GET, HEAD, or
 * the confirmation form's POST (empty urlencoded body, no Authorization),
 * on connection c (kept open between calls). */
static page_t rsvp_on(CURL *c, const char *method, const char *url)
{
    page_t pg;
    memset(&pg, 0, sizeof pg);
    strbuf_init(&pg.body);
    strbuf_init(&pg.head);
    struct curl_slist *h = NULL;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "POST") == 0) {
        h = curl_slist_append(h, "Content-Type: application/x-www-form-urlencoded");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, page_add);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &pg.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, page_add);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &pg.head);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)HTTP_TIMEOUT_S);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &pg.status);
    else
        strbuf_printf(&pg.body, "(%s)", curl_easy_strerror(rc));
    curl_slist_free_all(h);
    return pg;
}

static page_t rsvp(const char *method, const char *url)
{
    CURL *c = curl_easy_init();
    page_t pg = rsvp_on(c, method, url);
    curl_easy_cleanup(c);
    return pg;
}

/* HEAD of an RSVP link over a plain socket: everything the daemon sent
 * until it closed the connection. */
static char *raw_head(const char *url)
{
    const char *path = strstr(url, "/v1/rsvp/");
    assert_non_null(path);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g.d.port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {HTTP_TIMEOUT_S, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    char *req = xasprintf("HEAD %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    free(req);
    strbuf_t b;
    strbuf_init(&b);
    char buf[4096];
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) strbuf_add(&b, buf, (size_t)n);
    close(fd);
    return strbuf_detach(&b);
}

static void page_free(page_t *pg)
{
    strbuf_free(&pg->body);
    strbuf_free(&pg->head);
}

static void assert_header(const page_t *pg, const char *line)
{
    char *want = xasprintf("\n%s\r\n", line);
    if (!strcasestr(pg->head.s, want)) fail_msg("no \"%s\" in the reply:\n%s", line, pg->head.s);
    free(want);
}

/* Every RSVP page, the refusals included: UTF-8 HTML that is also
 * well-formed XML (so every value was escaped), nothing loaded from
 * elsewhere, not cached, the token-bearing URL never sent as a Referer. */
static void assert_rsvp_page(const page_t *pg, long status)
{
    if (pg->status != status) fail_msg("HTTP %ld, want %ld:\n%s", pg->status, status, pg->body.s);
    assert_header(pg, "Content-Type: text/html; charset=utf-8");
    assert_header(pg, "Cache-Control: no-store");
    assert_header(pg, "Referrer-Policy: no-referrer");
    assert_true(utf8_valid(pg->body.s, pg->body.len));
    assert_int_equal(strncmp(pg->body.s, "<!DOCTYPE html>\n<html lang=\"ja\">", 32), 0);
    xmlDocPtr doc = xmlReadMemory(pg->body.s, (int)pg->body.len, "rsvp.html", "UTF-8",
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) fail_msg("the page is not well-formed:\n%s", pg->body.s);
    xmlFreeDoc(doc);
    static const char *const external[] = {"src=", "href=", "<script", "<link", "url(", "http"};
    for (size_t i = 0; i < sizeof external / sizeof *external; i++)
        if (strstr(pg->body.s, external[i])) fail_msg("\"%s\" in the page:\n%s", external[i], pg->body.s);
}

/* GET (a person, or a scanner opening the link first): the confirmation
 * page for answer `label`; HEAD: the same headers, no body. */
static void assert_opens_confirmation(const char *link, const char *label, const char *current)
{
    CURL *c = curl_easy_init();
    page_t pg = rsvp_on(c, "GET", link);
    assert_rsvp_page(&pg, 200);
    size_t page_len = pg.body.len;
    char *answer = xasprintf("回答する内容: 「<strong>%s</strong>」", label);
    if (!strstr(pg.body.s, answer)) fail_msg("no %s in:\n%s", answer, pg.body.s);
    free(answer);
    if (!strstr(pg.body.s, current)) fail_msg("no %s in:\n%s", current, pg.body.s);
    /* one button, posting back to the link itself (no action elsewhere) */
    assert_non_null(strstr(pg.body.s, "<form method=\"post\"><p><button type=\"submit\">"
                                      "この内容で回答する</button></p></form>"));
    assert_non_null(strstr(pg.body.s, "事例 Y-"));
    page_free(&pg);
    pg = rsvp_on(c, "HEAD", link);
    assert_int_equal(pg.status, 200);
    assert_header(&pg, "Cache-Control: no-store");
    assert_header(&pg, "Referrer-Policy: no-referrer");
    assert_int_equal(pg.body.len, 0);
    page_free(&pg);
    curl_easy_cleanup(c);
    /* on the wire: headers only (a body would be read as the next reply) */
    char *raw = raw_head(link);
    const char *blank = strstr(raw, "\r\n\r\n");
    if (strncmp(raw, "HTTP/1.1 200 ", 13) != 0 || !blank || blank[4])
        fail_msg("HEAD sent more than headers (GET page: %zu bytes):\n%s", page_len, raw);
    free(raw);
}

/* POST: the answer is recorded. */
static void assert_post_records(const char *link, const char *label)
{
    page_t pg = rsvp("POST", link);
    assert_rsvp_page(&pg, 200);
    char *recorded = xasprintf("「<strong>%s</strong>」として記録しました", label);
    if (!strstr(pg.body.s, recorded)) fail_msg("no %s in:\n%s", recorded, pg.body.s);
    free(recorded);
    assert_null(strstr(pg.body.s, "<form"));
    page_free(&pg);
}

/* Both methods refuse the link with status and a page saying `why`. */
static void assert_link_refused(const char *link, long status, const char *why)
{
    static const char *const methods[] = {"GET", "POST"};
    for (size_t i = 0; i < 2; i++) {
        page_t pg = rsvp(methods[i], link);
        assert_rsvp_page(&pg, status);
        if (!strstr(pg.body.s, why)) fail_msg("%s: no %s in:\n%s", methods[i], why, pg.body.s);
        assert_null(strstr(pg.body.s, "<form"));
        page_free(&pg);
    }
}

/* 要再調整 mails queued for meeting id (any state). */
static size_t replan_mails(int64_t id)
{
    json_t *ob = outbox();
    size_t i, n = 0;
    json_t *o;
    json_array_foreach(json_object_get(ob, "messages"), i, o)
        if (json_integer_value(json_object_get(o, "meeting_id")) == id &&
            strcmp(json_string_value(json_object_get(o, "kind")), "replan") == 0)
            n++;
    json_decref(ob);
    return n;
}

static void assert_m1(const char *agency, const char *partstat, const char *status)
{
    json_t *m = m1();
    assert_string_equal(partstat_of(m, agency), partstat);
    assert_string_equal(json_string_value(json_object_get(m, "status")), status);
    json_decref(m);
}

static void test_rsvp_links(void **state)
{
    /* opening the link records nothing, however often */
    assert_opens_confirmation(g.old_accept_link, "出席", "現在の回答: まだ回答していません");
    assert_opens_confirmation(g.old_accept_link, "出席", "現在の回答: まだ回答していません");
    assert_m1("houkatsu-chuo", "NEEDS-ACTION", "scheduled");
    /* the confirmation's button does */
    assert_post_records(g.old_accept_link, "出席");
    assert_m1("houkatsu-chuo", "ACCEPTED", "scheduled");
    assert_m1("jiritsu", "NEEDS-ACTION", "scheduled");
    assert_opens_confirmation(g.old_accept_link, "出席", "現在の回答: 「出席」");
    /* a required attendee's decline link, opened (as a scanner would):
     * no answer, no 要再調整, no mail to the secretariat */
    strvec_t all, hik, jir;
    sink_files(&all);
    files_to(&all, 0, "hikikomori@yamanami.example", &hik);
    char *decline = link_in(hik.v[0], "欠席: ");
    assert_non_null(decline);
    assert_opens_confirmation(decline, "欠席", "現在の回答: まだ回答していません");
    assert_m1("hikikomori", "NEEDS-ACTION", "scheduled");
    assert_int_equal(replan_mails(g.m1), 0);
    /* forged: flip one character of the signature, or of the payload */
    char *forged = xstrdup(decline);
    char *last = forged + strlen(forged) - 2;
    *last = *last == 'A' ? 'B' : 'A';
    assert_link_refused(forged, 403, "無効");
    char *p = strstr(forged, "/rsvp/") + 8;
    *last = decline[last - forged];
    *p = *p == 'x' ? 'y' : 'x';
    assert_link_refused(forged, 403, "無効");
    free(forged);
    char *junk = xasprintf("http://127.0.0.1:%d/v1/rsvp/not-a-token", g.d.port);
    assert_link_refused(junk, 403, "無効");
    free(junk);
    assert_m1("hikikomori", "NEEDS-ACTION", "scheduled");
    assert_int_equal(replan_mails(g.m1), 0);
    free(decline);
    /* jiritsu's tentative link from its own mail */
    files_to(&all, 0, "jiritsu@yamanami.example", &jir);
    char *tent = link_in(jir.v[0], "仮承諾: ");
    /* one word for TENTATIVE everywhere, the web UI's (Outlook's) 仮承諾 */
    char *jtext = file_text(jir.v[0]);
    assert_null(strstr(jtext, "未定"));
    free(jtext);
    assert_opens_confirmation(tent, "仮承諾", "現在の回答: まだ回答していません");
    assert_m1("jiritsu", "NEEDS-ACTION", "scheduled");
    assert_post_records(tent, "仮承諾");
    assert_m1("jiritsu", "TENTATIVE", "scheduled");
    free(tent);
    strvec_free(&jir);
    strvec_free(&hik);
    strvec_free(&all);
}

static char *reply_eml(const char *from, const char *attendee, const char *partstat, int seq)
{
    char *cal = xasprintf(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test Mail//EN\r\nMETHOD:REPLY\r\n"
        "BEGIN:VEVENT\r\nUID:%s\r\nSEQUENCE:%d\r\nDTSTAMP:20261201T010000Z\r\n"
        "DTSTART;TZID=Asia/Tokyo:20261208T123000\r\n"
        "ORGANIZER:mailto:kyodo@yamanami.example\r\n"
        "ATTENDEE;PARTSTAT=%s:mailto:%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        g.m1_uid, seq, partstat, attendee);
    char *b64 = imip_base64_encode_lines(cal, strlen(cal));
    char *eml = xasprintf(
        "From: Reply <%s>\r\nTo: kyodo@yamanami.example\r\nSubject: Re: invitation\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n"
        "--b1\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nreply\r\n"
        "--b1\r\nContent-Type: text/calendar; charset=UTF-8; method=REPLY\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n%s--b1--\r\n", from, b64);
    free(cal);
    free(b64);
    return eml;
}

/* `tsunagu reply < file` with `token`; returns the exit status. */
static int cli_reply_as(const char *eml, const char *token)
{
    char *file = support_path(g.d.dir, "reply.eml");
    char *out = support_path(g.d.dir, "reply.out");
    assert_int_equal(support_write_file(file, eml, (size_t)-1), 0);
    char *cmd = xasprintf("TSUNAGU_URL=http://127.0.0.1:%d TSUNAGU_TOKEN=%s bin/tsunagu reply < %s > %s 2>&1",
                          g.d.port, token, file, out);
    int st = system(cmd);
    free(cmd);
    free(file);
    free(out);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 99;
}

static int cli_reply(const char *eml)
{
    return cli_reply_as(eml, ADMIN);
}

static void test_reply_mail_flow(void **state)
{
    char *eml = reply_eml("kyodo@yamanami.example", "kyodo@yamanami.example", "ACCEPTED", 0);
    assert_int_equal(cli_reply(eml), 0);
    free(eml);
    json_t *m = m1();
    assert_string_equal(partstat_of(m, "kyodo"), "ACCEPTED");
    json_decref(m);
    /* `meeting show --json` prints the meeting once, as one JSON document */
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)g.m1);
    const char *args[] = {"--json", "meeting", "show", id, NULL};
    support_run_t r = support_daemon_cli(&g.d, NULL, ADMIN, NULL, args);
    assert_int_equal(r.code, 0);
    json_error_t jerr;
    json_t *shown = json_loads(r.out, 0, &jerr);
    if (!shown) fail_msg("meeting show --json is not one JSON document: %s\n%s", jerr.text, r.out);
    assert_string_equal(partstat_of(shown, "kyodo"), "ACCEPTED");
    json_decref(shown);
    free(r.out);
    /* From is not the attendee */
    eml = reply_eml("evil@attacker.example", "jiritsu@yamanami.example", "DECLINED", 0);
    assert_int_equal(cli_reply(eml), 1);                /* refused: the MTA bounces it */
    free(eml);
    /* an agency that was not invited */
    eml = reply_eml("hoken@yamanami.example", "hoken@yamanami.example", "ACCEPTED", 0);
    assert_int_equal(cli_reply(eml), 1);
    free(eml);
    /* POST /v1/imip directly: same 403, and a non-REPLY is a 400 */
    eml = reply_eml("evil@attacker.example", "jiritsu@yamanami.example", "DECLINED", 0);
    json_t *body = json_pack("{s:s}", "message", eml);
    char *txt = json_dumps(body, 0);
    expect_error("POST", "/v1/imip", txt, 403, "not-attendee");
    free(txt);
    json_decref(body);
    free(eml);
    expect_error("POST", "/v1/imip", "{\"message\":\"From: a@b.example\\r\\n\\r\\nhello\"}", 400,
                 "bad-reply");
    /* From is exactly one mailbox: "<attendee> evil@..." was read as the
     * attendee; now 400 on POST /v1/imip and a refusal from `tsunagu reply` */
    const char *spoofs[] = { "<jiritsu@yamanami.example> evil@attacker.example",
                             "jiritsu@yamanami.example, evil@attacker.example" };
    for (size_t i = 0; i < 2; i++) {
        char *real = reply_eml("jiritsu@yamanami.example", "jiritsu@yamanami.example", "DECLINED", 0);
        eml = xasprintf("From: %s%s", spoofs[i], strstr(real, "\r\n"));
        free(real);
        body = json_pack("{s:s}", "message", eml);
        txt = json_dumps(body, 0);
        support_api_error(&g.d, "POST", "/v1/imip", ADMIN, txt, 400, "bad-reply", "From");
        free(txt);
        json_decref(body);
        assert_int_equal(cli_reply(eml), 1);
        free(eml);
    }
    m = m1();
    assert_string_equal(partstat_of(m, "jiritsu"), "TENTATIVE");    /* unchanged */
    assert_null(partstat_of(m, "hoken"));
    json_decref(m);
}

/* Does any "  N. 12月8日(火) HH:MM〜HH:MM" line of a 要再調整 mail overlap
 * [from, to) (minutes of the day) on month/day?  Counts the lines seen. */
static bool suggestion_overlaps(const char *text, int month, int day, int from, int to,
                                int *lines)
{
    bool hit = false;
    *lines = 0;
    for (const char *p = strstr(text, "\n  "); p; p = strstr(p + 1, "\n  ")) {
        int n, mo, d, h1, m1, h2, m2, used = 0;
        if (sscanf(p, "\n  %d. %d月%d日(%*[^)]) %d:%d〜%d:%d%n", &n, &mo, &d, &h1, &m1, &h2, &m2,
                   &used) != 7 || used == 0)
            continue;
        (*lines)++;
        if (mo == month && d == day && h1 * 60 + m1 < to && h2 * 60 + m2 > from) hit = true;
    }
    return hit;
}

/* An MTA pipe must tell "retry later" (EX_TEMPFAIL) from "refused" (1). */
static void test_reply_exit_codes_tell_the_mta_to_retry(void **state)
{
    char *eml = reply_eml("kyodo@yamanami.example", "kyodo@yamanami.example", "TENTATIVE", 0);
    /* our own token refused: the message is fine, keep it */
    assert_int_equal(cli_reply_as(eml, "not-a-valid-token"), 75);
    /* tsunagud down */
    kill_daemon(SIGTERM);
    assert_int_equal(cli_reply(eml), 75);
    start_daemon(NOW0);
    json_t *m = m1();
    assert_string_equal(partstat_of(m, "kyodo"), "ACCEPTED");   /* nothing recorded yet */
    json_decref(m);
    /* the MTA's retry goes through */
    assert_int_equal(cli_reply(eml), 0);
    m = m1();
    assert_string_equal(partstat_of(m, "kyodo"), "TENTATIVE");
    json_decref(m);
    free(eml);
}

/* GET /v1/meetings/{id}'s replan.suggestions are the ones mailed (text,
 * line by line) to the secretariat, each with ISO start and end whose
 * local date and times are the line's: "  1. 1月5日(火) 10:00〜11:00" is
 * 2027-01-05T10:00:00+09:00 when mailed in late December.  Counts the
 * suggestions of each year, from 2026 (years[0]) to 2027 (years[1]). */
static void assert_replan_is_mailed(int64_t id, const char *text, int years[2])
{
    char path[64];
    snprintf(path, sizeof path, "/v1/meetings/%lld", (long long)id);
    json_t *m = api("GET", path, NULL, 200);
    json_t *sugg = json_object_get(json_object_get(m, "replan"), "suggestions");
    size_t n = 0;
    years[0] = years[1] = 0;
    for (const char *p = strstr(text, "\n  "); p; p = strstr(p + 1, "\n  ")) {
        int k, mo, d, h1, m1, h2, m2, used = 0;
        if (sscanf(p, "\n  %d. %d月%d日(%*[^)]) %d:%d〜%d:%d%n", &k, &mo, &d, &h1, &m1, &h2, &m2,
                   &used) != 7 || used == 0)
            continue;
        json_t *s = json_array_get(sugg, n++);
        if (!s) fail_msg("mailed suggestion %d is not in the meeting's replan", k);
        const char *line = strstr(p, ". ") + 2;
        size_t len = strcspn(line, "\r\n");
        assert_int_equal(strlen(json_string_value(json_object_get(s, "text"))), len);
        assert_memory_equal(json_string_value(json_object_get(s, "text")), line, len);
        const char *st = json_string_value(json_object_get(s, "start"));
        const char *en = json_string_value(json_object_get(s, "end"));
        assert_non_null(st);
        assert_non_null(en);
        int y, y2, smo, sd, sh, sm, emo, ed, eh, em;
        assert_int_equal(sscanf(st, "%d-%d-%dT%d:%d", &y, &smo, &sd, &sh, &sm), 5);
        assert_int_equal(sscanf(en, "%d-%d-%dT%d:%d", &y2, &emo, &ed, &eh, &em), 5);
        assert_true(strlen(st) == 25 && strcmp(st + 19, "+09:00") == 0);
        if (smo != mo || sd != d || sh != h1 || sm != m1 || emo != mo || ed != d || eh != h2 ||
            em != m2 || y2 != y)
            fail_msg("suggestion %d: mailed %d月%d日 %02d:%02d〜%02d:%02d, API %s - %s", k, mo, d,
                     h1, m1, h2, m2, st, en);
        assert_true(y == 2026 || y == 2027);
        years[y - 2026]++;
    }
    assert_true(n > 0);
    assert_int_equal(json_array_size(sugg), n);
    json_decref(m);
}

static void test_required_decline_marks_replan_and_mails_secretariat(void **state)
{
    /* decline on the meeting's own day, just before it: the meeting's own
     * time (12:30-14:00) is then the nearest slot where the others are free */
    kill_daemon(SIGTERM);
    start_daemon("2026-12-08T12:00:00+09:00");
    strvec_t before;
    sink_files(&before);
    char *eml = reply_eml("hikikomori@yamanami.example", "hikikomori@yamanami.example",
                          "DECLINED", 0);
    assert_int_equal(cli_reply(eml), 0);
    free(eml);
    json_t *m = m1();
    assert_string_equal(partstat_of(m, "hikikomori"), "DECLINED");
    assert_string_equal(json_string_value(json_object_get(m, "status")), "replan");
    assert_string_equal(json_string_value(json_object_get(m, "status_label")), "要再調整");
    json_decref(m);
    wait_sink(before.n + 1, 10000);
    strvec_t all, sec;
    sink_files(&all);
    files_to(&all, before.n, "kyodo@yamanami.example", &sec);
    assert_int_equal(sec.n, 1);
    char *subject = file_header(sec.v[0], "Subject");
    assert_non_null(subject);
    char *text = file_text(sec.v[0]);
    assert_non_null(strstr(text, "要再調整"));
    assert_non_null(strstr(text, "ひきこもり地域支援センター"));
    assert_non_null(strstr(text, "候補日時"));
    assert_non_null(strstr(text, "  1. "));
    /* the decliner cannot come at the declined time: no suggestion overlaps it */
    int lines;
    bool overlap = suggestion_overlaps(text, 12, 8, 12 * 60 + 30, 14 * 60, &lines);
    if (overlap) fail_msg("a suggestion overlaps the declined 12/8 12:30-14:00:\n%s", text);
    assert_true(lines > 0);
    int years[2];
    assert_replan_is_mailed(g.m1, text, years);
    assert_int_equal(years[0], lines);
    free(text);
    free(subject);
    strvec_free(&sec);
    strvec_free(&all);
    strvec_free(&before);
}

/* Back to the group's clock after a test that moved it. */
static int restart_at_now0(void **state)
{
    kill_daemon(SIGTERM);
    start_daemon(NOW0);
    return 0;
}

static void test_reschedule_then_cancel_sequences(void **state)
{
    strvec_t before;
    sink_files(&before);
    char path[96], id[32];
    snprintf(id, sizeof id, "%lld", (long long)g.m1);
    /* `tsunagu meeting reschedule` without --end: usage, exit 2, nothing sent */
    const char *bad[] = {"meeting", "reschedule", id, "--start", "2026-12-16T09:00:00+09:00", NULL};
    support_run_t r = support_daemon_cli(&g.d, NULL, ADMIN, NULL, bad);
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.out, "meeting reschedule"));
    free(r.out);
    /* ... and with both: POST /v1/meetings/{id}/reschedule, SEQUENCE+1 */
    const char *resch[] = {"meeting", "reschedule", id, "--start", "2026-12-16T09:00:00+09:00",
                           "--end", "2026-12-16T10:30:00+09:00", NULL};
    r = support_daemon_cli(&g.d, NULL, ADMIN, NULL, resch);
    if (r.code != 0) fail_msg("meeting reschedule: exit %d\n%s", r.code, r.out);
    assert_non_null(strstr(r.out, "SEQUENCE 1"));
    assert_non_null(strstr(r.out, "2026-12-16T09:00:00+09:00"));
    free(r.out);
    json_t *m = m1();
    assert_int_equal(json_integer_value(json_object_get(m, "sequence")), 1);
    assert_string_equal(json_string_value(json_object_get(m, "status")), "scheduled");
    assert_string_equal(partstat_of(m, "houkatsu-chuo"), "NEEDS-ACTION");   /* reset */
    json_decref(m);
    wait_sink(before.n + 4, 10000);
    strvec_t all, newer;
    sink_files(&all);
    strvec_init(&newer);
    for (size_t i = before.n; i < all.n; i++) strvec_push(&newer, all.v[i]);
    assert_int_equal(newer.n, 4);
    char *out = NULL;
    const char *args[] = {"--method", "REQUEST", "--summary", "Y-01 重層的支援会議", NULL};
    if (check_imip(&newer, args, &out) != 0) fail_msg("%s", out);
    assert_non_null(strstr(out, "\"sequence\": 1"));
    assert_non_null(strstr(out, g.m1_uid));                        /* same UID */
    assert_non_null(strstr(out, "2026-12-16T09:00:00+09:00"));
    assert_null(strstr(out, "\"sequence\": 0"));
    free(out);
    /* the SEQUENCE-0 link is stale now, opened or posted */
    assert_link_refused(g.old_accept_link, 410, "日時が変更された");
    strvec_free(&newer);
    strvec_free(&all);

    size_t n1 = before.n + 4;
    snprintf(path, sizeof path, "/v1/meetings/%lld/cancel", (long long)g.m1);
    m = api("POST", path, "{}", 200);
    assert_int_equal(json_integer_value(json_object_get(m, "sequence")), 2);
    assert_string_equal(json_string_value(json_object_get(m, "status")), "cancelled");
    json_decref(m);
    wait_sink(n1 + 4, 10000);
    sink_files(&all);
    strvec_init(&newer);
    for (size_t i = n1; i < all.n; i++) strvec_push(&newer, all.v[i]);
    const char *cargs[] = {"--method", "CANCEL", NULL};
    if (check_imip(&newer, cargs, &out) != 0) fail_msg("%s", out);
    assert_non_null(strstr(out, "\"sequence\": 2"));
    assert_non_null(strstr(out, "\"status\": \"CANCELLED\""));
    free(out);
    strvec_free(&newer);
    strvec_free(&all);
    expect_error("POST", path, "{}", 409, "cancelled");
    snprintf(path, sizeof path, "/v1/meetings/%lld/reschedule", (long long)g.m1);
    expect_error("POST", path, "{\"start\":\"2026-12-17T09:00:00+09:00\","
                               "\"end\":\"2026-12-17T10:00:00+09:00\"}", 409, "cancelled");
    /* the cancelled slot is free again */
    char *body = meeting_json_body("Y-04", "重層的支援会議", "2026-12-16T09:00:00+09:00",
                                   "2026-12-16T10:30:00+09:00", "[\"houkatsu-chuo\"]",
                                   "\"location\":\"x\"");
    json_t *ok = api("POST", "/v1/meetings", body, 201);
    json_decref(ok);
    free(body);
    wait_outbox_idle(10000);
    assert_sink_ids_unique();
    strvec_free(&before);
}

static void test_agency_meetings_ics(void **state)
{
    support_resp_t r = support_daemon_http(&g.d, "GET", "/v1/agencies/houkatsu-chuo/meetings.ics",
                                           ADMIN, NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body.s, g.m1_uid));
    assert_non_null(strstr(r.body.s, "SUMMARY:Y-01 重層的支援会議"));
    assert_non_null(strstr(r.body.s, "STATUS:CANCELLED"));
    assert_null(strstr(r.body.s, "LOCATION"));
    assert_null(strstr(r.body.s, "ATTENDEE"));
    assert_null(strstr(r.body.s, "要介護"));
    icalcomponent *cal = icalparser_parse_string(r.body.s);
    assert_non_null(cal);
    assert_true(icalcomponent_count_components(cal, ICAL_VEVENT_COMPONENT) >= 2);
    icalcomponent_free(cal);
    strbuf_free(&r.body);
    expect_error("GET", "/v1/agencies/nosuch/meetings.ics", NULL, 404, "not-found");
}

static void test_list_and_access_scoping(void **state)
{
    json_t *l = api("GET", "/v1/meetings?case=Y-01", NULL, 200);
    json_t *arr = json_object_get(l, "meetings");
    assert_int_equal(json_array_size(arr), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "status")),
                        "cancelled");
    json_decref(l);
    expect_error("GET", "/v1/meetings?status=bogus", NULL, 400, "bad-field");
    char *chuo = support_api_token(&g.d, ADMIN, "agency:houkatsu-chuo", "itest", NULL);
    char *hw = support_api_token(&g.d, ADMIN, "agency:hellowork", "itest", NULL);
    char *coord = support_api_token(&g.d, ADMIN, "coordinator", "itest", NULL);
    char path[96];
    snprintf(path, sizeof path, "/v1/meetings/%lld", (long long)g.m1);
    assert_int_equal(support_daemon_status(&g.d, "GET", path, chuo, NULL), 200);   /* attends */
    support_resp_t rn = support_daemon_http(&g.d, "GET", path, chuo, NULL);
    assert_null(strstr(rn.body.s, "82歳"));                          /* note: staff only */
    strbuf_free(&rn.body);
    json_t *staff_view = api("GET", path, NULL, 200);
    assert_non_null(strstr(json_string_value(json_object_get(staff_view, "note")), "82歳"));
    json_decref(staff_view);
    assert_int_equal(support_daemon_status(&g.d, "GET", path, hw, NULL), 404);     /* does not */
    const char *ics = "/v1/agencies/houkatsu-chuo/meetings.ics";
    assert_int_equal(support_daemon_status(&g.d, "GET", ics, hw, NULL), 404);
    assert_int_equal(support_daemon_status(&g.d, "GET", ics, chuo, NULL), 200);
    assert_int_equal(support_daemon_status(&g.d, "GET", "/v1/outbox", hw, NULL), 403);
    assert_int_equal(support_daemon_status(&g.d, "POST", "/v1/meetings", hw, "{}"), 403);
    assert_int_equal(support_daemon_status(&g.d, "POST", "/v1/imip", hw, "{\"message\":\"x\"}"),
                     403);
    snprintf(path, sizeof path, "/v1/meetings/%lld/cancel", (long long)g.m1);
    assert_int_equal(support_daemon_status(&g.d, "POST", path, chuo, "{}"), 403);
    assert_int_equal(support_daemon_status(&g.d, "GET", "/v1/outbox", coord, NULL), 200);
    /* an agency's list shows only its own meetings */
    support_resp_t r = support_daemon_http(&g.d, "GET", "/v1/meetings", hw, NULL);
    assert_int_equal(r.status, 200);
    json_t *j = json_loads(r.body.s, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(j, "meetings")), 0);
    json_decref(j);
    strbuf_free(&r.body);
    r = support_daemon_http(&g.d, "GET", "/v1/meetings?agency=hellowork", chuo, NULL);   /* agency ignored */
    j = json_loads(r.body.s, 0, NULL);
    assert_true(json_array_size(json_object_get(j, "meetings")) >= 1);
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(j, "meetings"), i, m)
        assert_non_null(partstat_of(m, "houkatsu-chuo"));
    json_decref(j);
    strbuf_free(&r.body);
    free(chuo);
    free(hw);
    free(coord);
}

static void test_default_attendees_from_approved_decision(void **state)
{
    /* register Y-14 in the case registry, propose, approve */
    char *doc = read_file(CITY "/cases/Y-14.json", NULL);
    assert_non_null(doc);
    json_t *c = api("POST", "/v1/cases", doc, 201);
    free(doc);
    json_decref(c);
    json_t *p = api("POST", "/v1/cases/Y-14/proposals", "{}", 201);
    long long did = json_integer_value(json_object_get(p, "decision"));
    const char *lead = json_string_value(json_object_get(p, "lead"));
    assert_true(did > 0 && lead);
    strvec_t want;
    strvec_init(&want);
    strvec_push(&want, lead);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(p, "supports"), i, v)
        strvec_push(&want, json_is_string(v) ? json_string_value(v)
                                             : json_string_value(json_object_get(v, "agency")));
    if (!strvec_contains(&want, "kyodo")) strvec_push(&want, "kyodo");
    char path[96];
    snprintf(path, sizeof path, "/v1/decisions/%lld/approve", did);
    json_t *a = api("POST", path, "{}", 200);
    json_decref(a);
    /* no attendees: the approved lead + supports + the secretariat */
    json_t *m = NULL;
    const char *start = "2026-12-03T10:00:00+09:00", *end = "2026-12-03T11:00:00+09:00";
    json_t *sugg = NULL;
    for (int tries = 0; tries < 3 && !m; tries++) {
        char *body = xasprintf("{\"case\":\"Y-14\",\"type\":\"重層的支援会議\",\"start\":\"%s\","
                               "\"end\":\"%s\",\"location\":\"x\"}", start, end);
        support_resp_t r = support_daemon_http(&g.d, "POST", "/v1/meetings", ADMIN, body);
        free(body);
        json_t *j = json_loads(r.body.s, 0, NULL);
        if (r.status == 201) {
            m = j;
        } else {
            if (r.status != 409) fail_msg("HTTP %ld %s", r.status, r.body.s);
            json_decref(sugg);
            sugg = j;
            json_t *s0 = json_array_get(json_object_get(j, "suggestions"), 0);
            assert_non_null(s0);
            start = json_string_value(json_object_get(s0, "start"));
            end = json_string_value(json_object_get(s0, "end"));
        }
        strbuf_free(&r.body);
    }
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "lead")), lead);
    json_t *atts = json_object_get(m, "attendees");
    assert_int_equal(json_array_size(atts), want.n);
    json_array_foreach(atts, i, v)
        assert_true(strvec_contains(&want, json_string_value(json_object_get(v, "agency"))));
    json_decref(m);
    json_decref(sugg);
    json_decref(p);
    strvec_free(&want);
    wait_outbox_idle(10000);
    /* an unknown lead is refused; a closed case takes no more meetings */
    expect_error("POST", "/v1/meetings",
                 "{\"case\":\"Y-14\",\"type\":\"重層的支援会議\",\"start\":\"2026-12-22T10:00:00+09:00\","
                 "\"end\":\"2026-12-22T10:30:00+09:00\",\"location\":\"x\",\"lead\":\"nosuch\"}",
                 422, "unknown-agency");
    json_t *cl = api("POST", "/v1/cases/Y-14/close", "{}", 200);
    json_decref(cl);
    expect_error("POST", "/v1/meetings",
                 "{\"case\":\"Y-14\",\"type\":\"重層的支援会議\",\"start\":\"2026-12-22T10:00:00+09:00\","
                 "\"end\":\"2026-12-22T10:30:00+09:00\",\"location\":\"x\"}", 409, "case-closed");
}

/* The 会議 screen's delivery row of meeting id to rcpt (GET
 * /v1/meetings/{id}, staff): its state and reason in Japanese. */
static void delivery_says(int64_t id, const char *rcpt, const char *label, const char *reason)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/meetings/%lld", (long long)id);
    json_t *j = api("GET", path, NULL, 200), *d;
    size_t i;
    bool found = false;
    json_array_foreach(json_object_get(j, "delivery"), i, d)
        if (!strcmp(json_string_value(json_object_get(d, "rcpt")), rcpt)) {
            assert_string_equal(json_string_value(json_object_get(d, "state_label")), label);
            assert_non_null(strstr(json_string_value(json_object_get(d, "reason")), reason));
            found = true;
        }
    json_decref(j);
    if (!found) fail_msg("no delivery row to %s for meeting %lld", rcpt, (long long)id);
}

static void test_smtp_down_then_each_mail_exactly_once(void **state)
{
    stop_sink();
    json_t *a = book_somewhere("Y-03", "[\"kyodo\",\"kodomo\",\"ssw\"]", "\"location\":\"会議室B\"");
    json_t *b = book_somewhere("Y-04", "[\"kyodo\",\"hogo\"]", "\"location\":\"会議室C\"");
    json_decref(b);
    support_sleep_ms(2500);                       /* several failed attempts */
    delivery_says(json_integer_value(json_object_get(a, "id")), "kodomo@yamanami.example",
                  "失敗・再送待ち", "回失敗しました");
    json_decref(a);
    json_t *ob = api("GET", "/v1/outbox?state=pending", NULL, 200);
    json_t *msgs = json_object_get(ob, "messages");
    assert_int_equal(json_array_size(msgs), 5);
    strvec_t ids;
    strvec_init(&ids);
    size_t i;
    json_t *m;
    json_array_foreach(msgs, i, m) {
        assert_true(json_integer_value(json_object_get(m, "attempts")) >= 1);
        assert_non_null(json_string_value(json_object_get(m, "last_error")));
        strvec_push(&ids, json_string_value(json_object_get(m, "message_id")));
    }
    json_decref(ob);
    start_sink(NULL, NULL);
    wait_outbox_idle(20000);
    for (i = 0; i < ids.n; i++)
        if (!sink_has_id(ids.v[i])) fail_msg("lost %s", ids.v[i]);
    assert_sink_ids_unique();
    assert_int_equal(outbox_count("dead"), 0);
    strvec_free(&ids);
}

/* Book while the sink stalls, SIGKILL the daemon mid-send, restart. */
static void kill_mid_send(const char *sink_flag, const char *cs, const char *attendees,
                          const char *expect_state)
{
    stop_sink();
    start_sink(sink_flag, "1.5");
    int64_t id = book_somewhere_id(cs, attendees, "\"location\":\"会議室D\"");
    /* wait until the first message is in the expected in-flight state */
    bool seen = false;
    for (int w = 0; w < 5000 && !seen; w += 20) {
        seen = outbox_count(expect_state) == 1;
        if (!seen) support_sleep_ms(20);
    }
    if (!seen) fail_msg("outbox never reached %s", expect_state);
    /* 'handed' is recorded just BEFORE the last bytes and the end-of-data
     * marker go out; give them a moment to reach the (stalling) server so
     * the kill lands while the server holds the whole message. */
    support_sleep_ms(300);
    kill_daemon(SIGKILL);
    support_sleep_ms(2000);                /* the stalled server finishes (or not) */
    stop_sink();
    start_sink(NULL, NULL);
    start_daemon(NOW0);
    wait_outbox_idle(20000);
    json_t *mine = sent_rows_in_sink(id, " after SIGKILL");
    assert_true(json_array_size(mine) >= 2);
    json_decref(mine);
    assert_sink_ids_unique();
    assert_int_equal(outbox_count("dead"), 0);
}

static void test_sigkill_before_server_has_message_resends_once(void **state)
{
    kill_mid_send("--delay-mail", "Y-05", "[\"kyodo\",\"kenri\",\"csw\"]", "sending");
}

static void test_sigkill_after_server_has_message_never_resends(void **state)
{
    kill_mid_send("--delay-data", "Y-12", "[\"kyodo\",\"jutaku\"]", "handed");
    json_t *ob = api("GET", "/v1/outbox?state=sent", NULL, 200);
    bool noted = false;
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(ob, "messages"), i, m) {
        const char *e = json_string_value(json_object_get(m, "last_error"));
        noted |= e && strstr(e, "受理確認前に停止");
    }
    json_decref(ob);
    assert_true(noted);
}

static void test_no_verdict_after_handover_is_not_resent(void **state)
{
    /* the server stores the message, then stalls its 250 past our timeout */
    stop_sink();
    start_sink("--delay-data", "4");
    kill_daemon(SIGTERM);
    g.extra_env[0] = "TSUNAGU_SMTP_TIMEOUT=2";
    start_daemon(NOW0);
    int64_t id = book_somewhere_id("Y-13", "[\"kyodo\"]", "\"location\":\"会議室G\"");
    wait_outbox_idle(15000);
    support_sleep_ms(3000);                  /* no retry may follow */
    json_t *mine = sent_rows_in_sink(id, "");
    size_t i;
    json_t *row;
    json_array_foreach(mine, i, row) {
        assert_int_equal(json_integer_value(json_object_get(row, "attempts")), 1);
        assert_non_null(strstr(json_string_value(json_object_get(row, "last_error")),
                               "受理の応答なし"));
    }
    assert_int_equal(json_array_size(mine), 1);
    json_decref(mine);
    assert_sink_ids_unique();
    restart_plain();
}

static void test_starttls_and_auth(void **state)
{
    /* a server that requires STARTTLS and AUTH */
    stop_sink();
    start_sink4("--starttls", "--auth", "kyodo-relay:s3cret-pw", NULL);
    kill_daemon(SIGTERM);
    g.extra_env[0] = "TSUNAGU_SMTP_STARTTLS=require";
    g.extra_env[1] = "TSUNAGU_SMTP_INSECURE=1";          /* self-signed test cert */
    g.extra_env[2] = "TSUNAGU_SMTP_USER=kyodo-relay";
    g.extra_env[3] = "TSUNAGU_SMTP_PASSWORD=s3cret-pw";
    start_daemon(NOW0);
    int64_t id = book_somewhere_id("Y-12", "[\"kyodo\",\"csw\"]", "\"location\":\"会議室E\"");
    wait_outbox_idle(20000);
    json_t *mine = sent_rows_in_sink(id, "");
    assert_int_equal(json_array_size(mine), 2);
    json_decref(mine);
    /* without STARTTLS the same server refuses: mail waits, nothing lost */
    kill_daemon(SIGTERM);
    g.extra_env[0] = "TSUNAGU_SMTP_STARTTLS=no";
    start_daemon(NOW0);
    book_somewhere_id("Y-12", "[\"kyodo\",\"jutaku\"]", "\"location\":\"会議室F\"");
    support_sleep_ms(2000);
    json_t *snap = outbox();                 /* one snapshot of the counts */
    json_t *counts = json_object_get(snap, "counts");
    long long waiting = json_integer_value(json_object_get(counts, "pending")) +
                        json_integer_value(json_object_get(counts, "sending"));
    if (waiting != 2) fail_msg("expected 2 waiting: %s", json_dumps(snap, 0));
    assert_int_equal(json_integer_value(json_object_get(counts, "dead")), 0);
    json_decref(snap);
    restart_plain();
    wait_outbox_idle(20000);
    assert_sink_ids_unique();
}

static void test_permanent_failure_is_dead_lettered(void **state)
{
    stop_sink();
    start_sink("--reject-rcpt", "kikan-shogai@yamanami.example");
    json_t *m = book_somewhere("Y-08", "[\"kyodo\",\"kikan-shogai\"]", "\"location\":\"x\"");
    for (int w = 0; w < 10000 && outbox_count("dead") < 1; w += 100) support_sleep_ms(100);
    delivery_says(json_integer_value(json_object_get(m, "id")), "kikan-shogai@yamanami.example",
                  "送信できませんでした", "配達不能");
    json_decref(m);
    json_t *ob = api("GET", "/v1/outbox?state=dead", NULL, 200);
    json_t *d = json_array_get(json_object_get(ob, "messages"), 0);
    assert_non_null(d);
    assert_string_equal(json_string_value(json_object_get(d, "rcpt")), "kikan-shogai@yamanami.example");
    assert_non_null(strstr(json_string_value(json_object_get(d, "last_error")), "550"));
    json_decref(ob);
    stop_sink();
    start_sink(NULL, NULL);
}

static void test_monitoring_reminder_once(void **state)
{
    /* meetings so far: Y-01 (cancelled, monitoring 12-20), others without a
     * monitoring date.  Book Y-09 with monitoring 12-10 and Y-10 with
     * 12-10 plus a later Y-10 meeting: only Y-09 is reminded. */
    json_t *a = book_somewhere("Y-09", "[\"kyodo\",\"houkatsu-nanbu\"]",
                               "\"location\":\"x\",\"monitoring_date\":\"2026-12-10\"");
    json_t *b = book_near("Y-10", "2026-12-02T10:00:00+09:00", "2026-12-02T10:30:00+09:00",
                          "[\"jiritsu\"]", "\"location\":\"x\",\"monitoring_date\":\"2026-12-10\"");
    json_t *c = book_near("Y-10", "2026-12-21T10:00:00+09:00", "2026-12-21T10:30:00+09:00",
                          "[\"jiritsu\"]", "\"location\":\"x\"");
    json_decref(b);
    json_decref(c);
    const char *lead = json_string_value(json_object_get(a, "lead"));
    assert_string_equal(lead, "houkatsu-nanbu");
    json_decref(a);
    wait_outbox_idle(10000);
    strvec_t before;
    sink_files(&before);
    /* two days after the monitoring date */
    kill_daemon(SIGTERM);
    start_daemon("2026-12-12T09:00:00+09:00");
    wait_sink(before.n + 2, 15000);
    support_sleep_ms(2500);                        /* more monitor ticks: still once */
    wait_outbox_idle(10000);
    strvec_t all, lead_mail, sec_mail;
    sink_files(&all);
    assert_int_equal(all.n, before.n + 2);
    files_to(&all, before.n, "houkatsu-nanbu@yamanami.example", &lead_mail);
    files_to(&all, before.n, "kyodo@yamanami.example", &sec_mail);
    assert_int_equal(lead_mail.n, 1);
    assert_int_equal(sec_mail.n, 1);
    char *text = file_text(lead_mail.v[0]);
    assert_non_null(strstr(text, "Y-09"));
    assert_non_null(strstr(text, "2026-12-10"));
    assert_null(strstr(text, "Y-10"));
    free(text);
    /* and not again after another restart */
    kill_daemon(SIGTERM);
    start_daemon("2026-12-13T09:00:00+09:00");
    support_sleep_ms(2500);
    wait_outbox_idle(10000);
    strvec_t again;
    sink_files(&again);
    assert_int_equal(again.n, all.n);
    strvec_free(&again);
    strvec_free(&lead_mail);
    strvec_free(&sec_mail);
    strvec_free(&all);
    strvec_free(&before);
}

/* A required attendee's decline link: opening it does nothing; the
 * confirmation's POST marks the meeting 要再調整 and mails the secretariat. */
static void test_decline_link_replans_only_on_post(void **state)
{
    kill_daemon(SIGTERM);
    start_daemon(NOW0);
    strvec_t before;
    sink_files(&before);
    json_t *m = book_type_near("個別ケース会議", "Y-02", "2026-12-03T10:00:00+09:00",
                               "2026-12-03T11:00:00+09:00", "[\"kyodo\",\"csw\"]",
                               "\"location\":\"会議室H\"");
    g.decl = json_integer_value(json_object_get(m, "id"));
    json_decref(m);
    wait_sink(before.n + 2, 10000);
    strvec_t all, csw;
    sink_files(&all);
    files_to(&all, before.n, "csw@yamanami.example", &csw);
    assert_int_equal(csw.n, 1);
    char *decline = link_in(csw.v[0], "欠席: ");
    g.decl_accept_link = link_in(csw.v[0], "出席: ");
    assert_non_null(decline);
    assert_non_null(g.decl_accept_link);
    char path[64];
    snprintf(path, sizeof path, "/v1/meetings/%lld", (long long)g.decl);

    assert_opens_confirmation(decline, "欠席", "現在の回答: まだ回答していません");
    m = api("GET", path, NULL, 200);
    assert_string_equal(partstat_of(m, "csw"), "NEEDS-ACTION");
    assert_string_equal(json_string_value(json_object_get(m, "status")), "scheduled");
    json_decref(m);
    assert_int_equal(replan_mails(g.decl), 0);

    assert_post_records(decline, "欠席");
    m = api("GET", path, NULL, 200);
    assert_string_equal(partstat_of(m, "csw"), "DECLINED");
    assert_string_equal(json_string_value(json_object_get(m, "status")), "replan");
    json_decref(m);
    assert_int_equal(replan_mails(g.decl), 1);
    wait_sink(all.n + 1, 10000);
    strvec_t after, sec;
    sink_files(&after);
    files_to(&after, all.n, "kyodo@yamanami.example", &sec);
    assert_int_equal(sec.n, 1);
    char *text = file_text(sec.v[0]);
    assert_non_null(strstr(text, "要再調整"));
    assert_non_null(strstr(text, "Y-02"));
    free(text);
    free(decline);
    strvec_free(&sec);
    strvec_free(&after);
    strvec_free(&csw);
    strvec_free(&all);
    strvec_free(&before);
}

/* A decline in the last days of the year: the suggestions mailed run
 * into January (年末年始 12/29-1/3 closed), and GET /v1/meetings/{id}
 * gives each with its ISO times in the right year, not guessed from
 * "1月5日".  A 要再調整 row from before the times were stored (written
 * here as migration 14 left old rows) still gives the mailed text. */
static void test_replan_suggestions_carry_times_across_new_year(void **state)
{
    kill_daemon(SIGTERM);
    start_daemon("2026-12-28T14:00:00+09:00");
    strvec_t before;
    sink_files(&before);
    json_t *m = book_type_near("個別ケース会議", "Y-02", "2027-01-06T10:00:00+09:00",
                               "2027-01-06T11:00:00+09:00", "[\"kyodo\",\"csw\"]",
                               "\"location\":\"会議室H\"");
    int64_t id = json_integer_value(json_object_get(m, "id"));
    json_decref(m);
    wait_sink(before.n + 2, 10000);
    strvec_t all, csw;
    sink_files(&all);
    files_to(&all, before.n, "csw@yamanami.example", &csw);
    assert_int_equal(csw.n, 1);
    char *decline = link_in(csw.v[0], "欠席: ");
    assert_non_null(decline);
    assert_post_records(decline, "欠席");
    wait_sink(all.n + 1, 10000);
    strvec_t after, sec;
    sink_files(&after);
    files_to(&after, all.n, "kyodo@yamanami.example", &sec);
    assert_int_equal(sec.n, 1);
    char *text = file_text(sec.v[0]);
    int years[2];
    assert_replan_is_mailed(id, text, years);
    if (years[0] == 0 || years[1] == 0)     /* 12/28 afternoon, then from 1/4 */
        fail_msg("the suggestions do not cross into 2027:\n%s", text);

    /* an old row: the same sentence, no stored times */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(g.d.db, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *sql = sqlite3_mprintf("INSERT INTO audit(case_id, meeting_id, agency, action, detail,"
                                " actor, at) SELECT case_id, meeting_id, agency, action, detail,"
                                " actor, at FROM audit WHERE meeting_id = %lld"
                                " AND action = 'meeting-declined'", (long long)id);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_free(sql);
    sqlite3_close(db);
    char path[64];
    snprintf(path, sizeof path, "/v1/meetings/%lld", (long long)id);
    m = api("GET", path, NULL, 200);
    json_t *sugg = json_object_get(json_object_get(m, "replan"), "suggestions"), *v;
    size_t i;
    assert_int_equal(json_array_size(sugg), (size_t)(years[0] + years[1]));
    json_array_foreach(sugg, i, v) {
        char *line = xasprintf("\n  %zu. %s\r\n", i + 1, json_string_value(json_object_get(v, "text")));
        if (!strstr(text, line)) fail_msg("old row: %s not mailed in:\n%s", line, text);
        free(line);
        assert_true(json_is_null(json_object_get(v, "start")));
        assert_true(json_is_null(json_object_get(v, "end")));
    }
    json_decref(m);
    free(text);
    free(decline);
    strvec_free(&sec);
    strvec_free(&after);
    strvec_free(&csw);
    strvec_free(&all);
    strvec_free(&before);
}

static void test_expired_link_rejected(void **state)
{
    /* the Y-09 invitation link to houkatsu-nanbu: valid until a day
     * after its meeting; now move the clock beyond that */
    strvec_t all, nanbu;
    sink_files(&all);
    files_to(&all, 0, "houkatsu-nanbu@yamanami.example", &nanbu);
    char *link = NULL;
    for (size_t i = 0; i < nanbu.n && !link; i++) link = link_in(nanbu.v[i], "欠席: ");
    assert_non_null(link);
    kill_daemon(SIGTERM);
    start_daemon("2027-02-01T09:00:00+09:00");
    assert_link_refused(link, 410, "有効期限");
    /* an expired link records nothing: csw's Y-02 answer stays DECLINED */
    assert_non_null(g.decl_accept_link);
    assert_link_refused(g.decl_accept_link, 410, "有効期限");
    char path[64];
    snprintf(path, sizeof path, "/v1/meetings/%lld", (long long)g.decl);
    json_t *m = api("GET", path, NULL, 200);
    assert_string_equal(partstat_of(m, "csw"), "DECLINED");
    json_decref(m);
    free(link);
    strvec_free(&nanbu);
    strvec_free(&all);
    assert_sink_ids_unique();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invitations_arrive_as_valid_imip),
        cmocka_unit_test(test_support_meeting_mail_carries_confidentiality_notice),
        cmocka_unit_test(test_booked_meeting_is_busy_409_with_suggestions),
        cmocka_unit_test(test_confidentiality_refusals),
        cmocka_unit_test(test_holds_block_and_own_hold_is_consumed),
        cmocka_unit_test(test_409_suggestions_stop_at_data_horizon),
        cmocka_unit_test(test_reschedule_rechecks_consent),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_rsvp_links),
        cmocka_unit_test(test_reply_mail_flow),
        cmocka_unit_test(test_reply_exit_codes_tell_the_mta_to_retry),
        cmocka_unit_test_teardown(test_required_decline_marks_replan_and_mails_secretariat,
                                  restart_at_now0),
        cmocka_unit_test(test_reschedule_then_cancel_sequences),
        cmocka_unit_test(test_agency_meetings_ics),
        cmocka_unit_test(test_list_and_access_scoping),
        cmocka_unit_test(test_default_attendees_from_approved_decision),
        cmocka_unit_test(test_smtp_down_then_each_mail_exactly_once),
        cmocka_unit_test(test_sigkill_before_server_has_message_resends_once),
        cmocka_unit_test(test_sigkill_after_server_has_message_never_resends),
        cmocka_unit_test(test_no_verdict_after_handover_is_not_resent),
        cmocka_unit_test(test_starttls_and_auth),
        cmocka_unit_test(test_permanent_failure_is_dead_lettered),
        cmocka_unit_test(test_monitoring_reminder_once),
        cmocka_unit_test(test_decline_link_replans_only_on_post),
        cmocka_unit_test(test_replan_suggestions_carry_times_across_new_year),
        cmocka_unit_test(test_expired_link_rejected),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
