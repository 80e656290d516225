/* SPDX-License-Identifier: MIT */
/*
 * itest_mail_interop.c - invitations and replies as real mail clients and
 * relays shape them (issue 11, items 9-14), end to end: bin/tsunagud
 * sending through a real SMTP server (tests/support/smtpsink.py,
 * aiosmtpd), replies fed through bin/tsunagu reply exactly as an MTA pipe
 * would.
 *
 * The daemon runs with a dedicated REPLY_ADDRESS (the ORGANIZER, never an
 * ATTENDEE; the secretariat gets a copy) and a VERP BOUNCE_ADDRESS, and
 * hikikomori lists reply_from addresses (a distribution list).  Replies
 * come from the files in tests/data/mail/, written in the shapes Thunderbird,
 * Outlook (including TNEF), Gmail (a Google Group member, MEMBER=) and a
 * Japanese Shift_JIS client send, plus a forged From and an RFC 3464
 * bounce.  Tests run in order and share the one meeting they answer.
 * The last test restarts the sink so it refuses EHLO names that are not
 * fully qualified, and the daemon with HELO_NAME=vm.
 */
#include "support_daemon.h"

#include <curl/curl.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>

#include "imip.h"

#define CITY  "tests/data/yamanami"
#define DATA  "tests/data/mail/"
#define ADMIN "itest-interop-admin-token-0123456789abcdef"
#define NOW0  SUPPORT_FIXTURE_NOW
#define REPLY "tsunagu-reply@yamanami.example"

static struct {
    support_daemon_t d;
    char   *sink, *sinklog;
    int     smtp_port;
    pid_t   sink_pid;
    int64_t meeting;
    char   *uid;
    const char *extra_env[2];   /* more TSUNAGU_* for the next start */
} g;

/* ---- processes ------------------------------------------------------------ */
static void start_sink(const char *flag)
{
    char port[16];
    snprintf(port, sizeof port, "%d", g.smtp_port);
    const char *argv[] = {"/usr/bin/python3", "tests/support/smtpsink.py", "--port", port,
                          "--dir", g.sink, flag, NULL};
    g.sink_pid = support_spawn(argv, NULL, NULL, g.sinklog);
    if (g.sink_pid < 0 || !support_wait_port(g.smtp_port, 15000, g.sink_pid))
        fail_msg("smtpsink did not start: %s", support_read_log(g.sinklog));
}

static void stop_sink(void)
{
    if (g.sink_pid > 0) support_stop(g.sink_pid, 5000);
    g.sink_pid = -1;
}

static void start_daemon(void)
{
    char listen[64], db[600], smtp[64], pub[80];
    snprintf(listen, sizeof listen, "TSUNAGU_LISTEN=127.0.0.1:%d", g.d.port);
    snprintf(db, sizeof db, "TSUNAGU_DATABASE=%s", g.d.db);
    snprintf(smtp, sizeof smtp, "TSUNAGU_SMTP_URL=smtp://127.0.0.1:%d", g.smtp_port);
    snprintf(pub, sizeof pub, "TSUNAGU_PUBLIC_URL=http://127.0.0.1:%d/", g.d.port);
    const char *env[] = {listen, db, smtp, pub, "TSUNAGU_NOW=" NOW0,
                         "TSUNAGU_CASES_DIR=" CITY "/cases", "TSUNAGU_ADMIN_TOKEN=" ADMIN,
                         "TSUNAGU_SMTP_STARTTLS=no", "TSUNAGU_REPLY_ADDRESS=" REPLY,
                         "TSUNAGU_BOUNCE_ADDRESS=bounce@yamanami.example",
                         "TSUNAGU_LINK_SECRET=itest-interop-link-secret-0123456789abcdef", "TSUNAGU_OUTBOX_RETRY_SECONDS=1",
                         "TSUNAGU_OUTBOX_RETRY_MAX=1", "TSUNAGU_POLL_INTERVAL=3600",
                         "TSUNAGU_SMTP_TIMEOUT=10", g.extra_env[0], g.extra_env[1], NULL};
    const char *argv[] = {"bin/tsunagud", NULL};
    g.d.pid = support_spawn(argv, env, NULL, g.d.log);
    if (g.d.pid < 0 || !support_wait_port(g.d.port, 10000, g.d.pid))
        fail_msg("tsunagud did not start: %s", support_read_log(g.d.log));
}

static void stop_daemon(void)
{
    if (g.d.pid > 0) support_stop(g.d.pid, 10000);
    g.d.pid = -1;
}

/* ---- helpers ---------------------------------------------------------------- */
static json_t *api(const char *method, const char *path, const char *body, long want)
{
    return support_api_json(&g.d, method, path, ADMIN, body, want);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted paths of the messages the sink accepted. */
static void sink_files(strvec_t *out)
{
    strvec_init(out);
    DIR *d = opendir(g.sink);
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (n > 4 && !strcmp(e->d_name + n - 4, ".eml")) {
            char *p = support_path(g.sink, e->d_name);
            strvec_push(out, p);
            free(p);
        }
    }
    if (d) closedir(d);
    qsort(out->v, out->n, sizeof *out->v, cmp_str);
}

/* A header of a sink file (the X-Sink-* ones included), or NULL. */
static char *file_header(const char *path, const char *name)
{
    char *raw = read_file(path, NULL);
    char *all = xasprintf("\n%s", raw ? raw : "");
    char *needle = xasprintf("\n%s: ", name);
    const char *p = strstr(all, needle);
    char *v = p ? xstrndup(p + strlen(needle), strcspn(p + strlen(needle), "\r\n")) : NULL;
    free(raw); free(all); free(needle);
    return v;
}

/* The sink file delivered to rcpt after the first `from` files, or NULL. */
static char *file_to(size_t from, const char *rcpt)
{
    strvec_t f;
    sink_files(&f);
    char *found = NULL;
    for (size_t i = from; i < f.n && !found; i++) {
        char *to = file_header(f.v[i], "X-Sink-Rcpt-To");
        if (to && !strcmp(to, rcpt)) found = xstrdup(f.v[i]);
        free(to);
    }
    strvec_free(&f);
    return found;
}

static size_t sink_count(void)
{
    strvec_t f;
    sink_files(&f);
    size_t n = f.n;
    strvec_free(&f);
    return n;
}

static void wait_sink(size_t n)
{
    for (int w = 0; w < 15000 && sink_count() < n; w += 50) support_sleep_ms(50);
    if (sink_count() < n) fail_msg("sink has %zu < %zu; log:\n%s", sink_count(), n,
                                   support_read_log(g.d.log));
}

/* The outbox row (new reference) of rcpt with the given kind. */
static json_t *outbox_row(const char *rcpt, const char *kind)
{
    json_t *ob = api("GET", "/v1/outbox", NULL, 200), *found = NULL;
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(ob, "messages"), i, r)
        if (!found && !strcmp(json_string_value(json_object_get(r, "rcpt")), rcpt) &&
            !strcmp(json_string_value(json_object_get(r, "kind")), kind))
            found = json_incref(r);
    json_decref(ob);
    if (!found) fail_msg("no %s outbox row for %s", kind, rcpt);
    return found;
}

/* tests/data/mail/<name> with @UID@, @SEQ@, @CAL_BASE64@ (the .ics of the
 * same name, templated too), @OUTBOX@ and @MSGID@ filled in, LF -> CRLF. */
static char *fixture(const char *name, int64_t outbox, const char *msgid);

static char *fill(const char *text, int64_t outbox, const char *msgid, const char *cal64)
{
    char seq[16], ob[32];
    snprintf(seq, sizeof seq, "%d", 0);
    snprintf(ob, sizeof ob, "%lld", (long long)outbox);
    const char *keys[] = {"@UID@", "@SEQ@", "@OUTBOX@", "@MSGID@", "@CAL_BASE64@"};
    const char *vals[] = {g.uid, seq, ob, msgid ? msgid : "", cal64 ? cal64 : ""};
    strbuf_t b;
    strbuf_init(&b);
    for (const char *p = text; *p;) {
        size_t k = 0;
        while (k < 5 && strncmp(p, keys[k], strlen(keys[k]))) k++;
        if (k < 5) {
            strbuf_puts(&b, vals[k]);
            p += strlen(keys[k]);
        } else {
            if (*p == '\n' && (p == text || p[-1] != '\r')) strbuf_putc(&b, '\r');
            strbuf_putc(&b, *p++);
        }
    }
    return strbuf_detach(&b);
}

static char *fixture(const char *name, int64_t outbox, const char *msgid)
{
    char *path = xasprintf(DATA "%s.eml", name), *ics_path = xasprintf(DATA "%s.ics", name);
    char *text = read_file(path, NULL), *ics = read_file(ics_path, NULL);
    if (!text) fail_msg("cannot read %s", path);
    char *cal = ics ? fill(ics, outbox, msgid, NULL) : NULL;
    char *cal64 = cal ? imip_base64_encode_lines(cal, strlen(cal)) : NULL;
    char *out = fill(text, outbox, msgid, cal64);
    free(path); free(ics_path); free(text); free(ics); free(cal); free(cal64);
    return out;
}

/* `tsunagu reply < eml`: exit status, its output in *out when non-NULL. */
static int cli_reply(const char *eml, char **out)
{
    char *file = support_path(g.d.dir, "reply.eml"), *log = support_path(g.d.dir, "reply.out");
    assert_int_equal(support_write_file(file, eml, (size_t)-1), 0);
    char *cmd = xasprintf("TSUNAGU_URL=http://127.0.0.1:%d TSUNAGU_TOKEN=" ADMIN
                          " bin/tsunagu reply < %s > %s 2>&1", g.d.port, file, log);
    int st = system(cmd);
    if (out) *out = support_read_log(log);
    free(cmd); free(file); free(log);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 99;
}

static size_t keep(char *p, size_t s, size_t n, void *arg)
{
    strbuf_add(arg, p, s * n);
    return s * n;
}

/* POST /v1/imip with the raw message as message/rfc822; the status. */
static long post_raw(const char *eml, char **body)
{
    CURL *h = curl_easy_init();
    char *url = xasprintf("http://127.0.0.1:%d/v1/imip", g.d.port);
    struct curl_slist *hd = curl_slist_append(NULL, "Authorization: Bearer " ADMIN);
    hd = curl_slist_append(hd, "Content-Type: message/rfc822");
    strbuf_t b;
    strbuf_init(&b);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, eml);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(eml));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    long st = 0;
    if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    free(url);
    *body = b.s ? strbuf_detach(&b) : xstrdup("");
    return st;
}

/* The attendee row of agency in the shared meeting (new reference). */
static json_t *attendee(const char *agency)
{
    char *path = xasprintf("/v1/meetings/%lld", (long long)g.meeting);
    json_t *m = api("GET", path, NULL, 200), *found = NULL;
    free(path);
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(m, "attendees"), i, a)
        if (!strcmp(json_string_value(json_object_get(a, "agency")), agency))
            found = json_incref(a);
    json_decref(m);
    assert_non_null(found);
    return found;
}

static void assert_answer(const char *agency, const char *partstat, const char *by)
{
    json_t *a = attendee(agency);
    assert_string_equal(json_string_value(json_object_get(a, "partstat")), partstat);
    const char *rb = json_string_value(json_object_get(a, "replied_by"));
    if (!rb || strcmp(rb, by)) fail_msg("%s replied_by %s, wanted %s", agency, rb ? rb : "-", by);
    json_decref(a);
}

/* ---- setup -------------------------------------------------------------------- */
static int group_setup(void **state)
{
    if (support_daemon_init(&g.d, "itest-interop") != 0) return -1;
    g.sink = support_path(g.d.dir, "sink");
    g.sinklog = support_path(g.d.dir, "sink.log");
    g.smtp_port = support_free_port();
    while (g.smtp_port == g.d.port) g.smtp_port = support_free_port();
    start_sink(NULL);
    start_daemon();
    /* hikikomori is a distribution list: a member and a whole domain */
    json_t *doc = support_city_doc(CITY, NULL, NULL);
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(doc, "agencies"), i, a)
        if (!strcmp(json_string_value(json_object_get(a, "id")), "hikikomori"))
            json_object_set_new(a, "reply_from", json_pack("[s, s]", "Staff1@hikikomori-list.example",
                                                           "@hikikomori.yamanami.example"));
    json_decref(support_api_post_doc(&g.d, "/v1/import", ADMIN, doc, 200));
    json_decref(doc);
    assert_true(support_api_feeds_ok(&g.d, ADMIN, 30000));
    return 0;
}

static int group_teardown(void **state)
{
    stop_daemon();
    stop_sink();
    support_daemon_free(&g.d);
    free(g.sink); free(g.sinklog); free(g.uid);
    return 0;
}

/* ---- tests -------------------------------------------------------------------- */
#define ATTENDEES "[\"kyodo\",\"houkatsu-chuo\",\"hikikomori\",\"jiritsu\"]"

/* Item 9 (and 12, 13 on the way out): the ORGANIZER is REPLY_ADDRESS and
 * never an ATTENDEE; kyodo (the secretariat) gets a copy; every message
 * goes out with a VERP envelope sender naming its outbox row and EHLO
 * with the reply address's domain. */
static void test_invitations_from_the_reply_address(void **state)
{
    json_t *m = api("POST", "/v1/meetings",
                    "{\"case\":\"Y-01\",\"type\":\"重層的支援会議\",\"start\":\"2026-12-08T12:30:00+09:00\","
                    "\"end\":\"2026-12-08T14:00:00+09:00\",\"attendees\":" ATTENDEES ","
                    "\"location\":\"会議室\"}", 201);
    g.meeting = json_integer_value(json_object_get(m, "id"));
    g.uid = xstrdup(json_string_value(json_object_get(m, "uid")));
    json_decref(m);
    wait_sink(4);
    const char *rcpts[] = {"kyodo@yamanami.example", "houkatsu-chuo@yamanami.example",
                           "hikikomori@yamanami.example", "jiritsu@yamanami.example"};
    for (size_t i = 0; i < 4; i++) {
        char *f = file_to(0, rcpts[i]);
        assert_non_null(f);
        json_t *row = outbox_row(rcpts[i], "request");
        char *verp = xasprintf("bounce+%lld@yamanami.example",
                               (long long)json_integer_value(json_object_get(row, "id")));
        char *from = file_header(f, "X-Sink-Mail-From"), *helo = file_header(f, "X-Sink-Helo");
        assert_string_equal(from, verp);
        assert_string_equal(helo, "yamanami.example");
        /* the checker refuses an ORGANIZER listed as ATTENDEE */
        char *cmd = xasprintf("/usr/bin/python3 tests/support/check_imip.py --method REQUEST %s"
                              " > %s/check.out 2>&1", f, g.d.dir);
        int st = system(cmd);
        char *log = support_path(g.d.dir, "check.out"), *out = support_read_log(log);
        if (st != 0) fail_msg("check_imip: %s", out);
        assert_non_null(strstr(out, "\"organizer\": \"" REPLY "\""));
        assert_null(strstr(out, "\"kyodo@yamanami.example\""));   /* not an attendee */
        assert_non_null(strstr(out, "\"outlook_imip\": true"));
        if (i == 0) assert_non_null(strstr(out, "事務局控え"));
        else assert_null(strstr(out, "事務局控え"));
        json_decref(row);
        free(verp); free(from); free(helo); free(cmd); free(log); free(out); free(f);
    }
}

static void test_thunderbird_accept(void **state)
{
    char *eml = fixture("thunderbird-accept", 0, NULL), *out = NULL;
    if (cli_reply(eml, &out) != 0) fail_msg("tsunagu reply: %s", out);
    assert_answer("hikikomori", "ACCEPTED", "hikikomori@yamanami.example");
    free(eml); free(out);
}

/* A Google Group member answers from their own address: ATTENDEE is the
 * person, MEMBER= the role mailbox; the person is in reply_from. */
static void test_gmail_group_member_accept(void **state)
{
    char *eml = fixture("gmail-member-accept", 0, NULL), *out = NULL;
    if (cli_reply(eml, &out) != 0) fail_msg("tsunagu reply: %s", out);
    assert_answer("hikikomori", "ACCEPTED", "staff1@hikikomori-list.example");
    free(eml); free(out);
}

/* An Outlook distribution-list member: From the person (listed by
 * "@domain"), ATTENDEE the role mailbox. */
static void test_outlook_distribution_list_member(void **state)
{
    char *eml = fixture("outlook-dl-member", 0, NULL), *out = NULL;
    if (cli_reply(eml, &out) != 0) fail_msg("tsunagu reply: %s", out);
    assert_answer("hikikomori", "TENTATIVE", "h.sato@hikikomori.yamanami.example");
    /* `tsunagu meeting show` names who answered */
    char *cmd = xasprintf("TSUNAGU_URL=http://127.0.0.1:%d TSUNAGU_TOKEN=" ADMIN
                          " bin/tsunagu meeting show %lld > %s/show.out 2>&1", g.d.port,
                          (long long)g.meeting, g.d.dir);
    assert_int_equal(system(cmd), 0);
    char *path = support_path(g.d.dir, "show.out"), *text = support_read_log(path);
    assert_non_null(strstr(text, "回答元"));
    assert_non_null(strstr(text, "h.sato@hikikomori.yamanami.example"));
    free(cmd); free(path); free(text);
    free(eml); free(out);
}

static void test_forged_from_is_refused(void **state)
{
    char *eml = fixture("forged-from", 0, NULL), *out = NULL;
    assert_int_equal(cli_reply(eml, &out), 1);
    if (!strstr(out, "not-attendee")) fail_msg("output: %s", out);
    assert_answer("hikikomori", "TENTATIVE", "h.sato@hikikomori.yamanami.example");
    free(eml); free(out);
}

/* Outlook's decline of a required attendee: 要再調整, and the notice goes
 * to the secretariat's mailbox, never to the reply pipe. */
static void test_outlook_decline_notifies_secretariat(void **state)
{
    size_t before = sink_count();
    char *eml = fixture("outlook-decline", 0, NULL), *out = NULL;
    if (cli_reply(eml, &out) != 0) fail_msg("tsunagu reply: %s", out);
    assert_non_null(strstr(out, "要再調整"));
    assert_answer("jiritsu", "DECLINED", "jiritsu@yamanami.example");
    wait_sink(before + 1);
    char *notice = file_to(before, "kyodo@yamanami.example");
    assert_non_null(notice);
    assert_null(file_to(before, REPLY));
    free(notice); free(eml); free(out);
}

static void test_tnef_refused_with_rsvp_hint(void **state)
{
    char *eml = fixture("outlook-tnef", 0, NULL), *out = NULL, *body = NULL;
    assert_int_equal(cli_reply(eml, &out), 1);
    assert_non_null(strstr(out, "出欠のリンク"));
    assert_non_null(strstr(out, "winmail.dat"));
    assert_int_equal(post_raw(eml, &body), 422);
    assert_non_null(strstr(body, "\"tnef\""));
    free(eml); free(out); free(body);
}

/* Item 14: a Shift_JIS 8-bit text part: the CLI and a raw POST agree. */
static void test_shift_jis_reply_cli_and_api_agree(void **state)
{
    char *eml = fixture("sjis-tentative", 0, NULL), *out = NULL, *body = NULL;
    if (cli_reply(eml, &out) != 0) fail_msg("tsunagu reply: %s", out);
    assert_answer("hikikomori", "TENTATIVE", "hikikomori@yamanami.example");
    assert_int_equal(post_raw(eml, &body), 200);
    free(eml); free(out); free(body);
}

/* Item 12: an RFC 3464 report to the VERP address marks that row
 * 'bounced' with the reason; without VERP the returned Message-ID finds
 * the row. */
static void test_dsn_marks_outbox_bounced(void **state)
{
    json_t *row = outbox_row("houkatsu-chuo@yamanami.example", "request");
    int64_t id = json_integer_value(json_object_get(row, "id"));
    char *eml = fixture("dsn-bounce", id, "<not-ours@yamanami.example>"), *out = NULL;
    if (cli_reply(eml, &out) != 0) fail_msg("tsunagu reply: %s", out);
    assert_non_null(strstr(out, "配送不能の通知を記録しました"));
    json_decref(row);
    row = outbox_row("houkatsu-chuo@yamanami.example", "request");
    assert_string_equal(json_string_value(json_object_get(row, "state")), "bounced");
    const char *why = json_string_value(json_object_get(row, "last_error"));
    assert_non_null(strstr(why, "5.1.1"));
    assert_non_null(strstr(why, "User unknown"));
    json_decref(row);
    free(eml); free(out);
    /* no VERP: matched by the returned Message-ID */
    row = outbox_row("jiritsu@yamanami.example", "request");
    const char *mid = json_string_value(json_object_get(row, "message_id"));
    char *raw = fixture("dsn-bounce", 0, mid);
    char *plain = NULL;
    for (char *p; (p = strstr(raw, "bounce+0@"));) memcpy(p, "postmast@", 9);
    assert_int_equal(cli_reply(raw, &plain), 0);
    json_decref(row);
    row = outbox_row("jiritsu@yamanami.example", "request");
    assert_string_equal(json_string_value(json_object_get(row, "state")), "bounced");
    json_decref(row);
    /* the secretariat sees them: GET /v1/outbox?state=bounced, tsunagu outbox */
    json_t *ob = api("GET", "/v1/outbox?state=bounced", NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(ob, "counts"), "bounced")), 2);
    json_decref(ob);
    char *cmd = xasprintf("TSUNAGU_URL=http://127.0.0.1:%d TSUNAGU_TOKEN=" ADMIN
                          " bin/tsunagu outbox --state bounced > %s/outbox.out 2>&1",
                          g.d.port, g.d.dir);
    assert_int_equal(system(cmd), 0);
    char *log = support_path(g.d.dir, "outbox.out"), *text = support_read_log(log);
    assert_non_null(strstr(text, "不達通知 2"));
    assert_non_null(strstr(text, "User unknown"));
    free(cmd); free(log); free(text); free(raw); free(plain);
    /* ... and on the secretariat's ホーム, with the server's reason */
    json_t *home = api("GET", "/v1/overview/home", NULL, 200);
    size_t i, bounced = 0;
    json_t *m;
    json_array_foreach(json_object_get(home, "dead_mail"), i, m)
        if (!strcmp(json_string_value(json_object_get(m, "state")), "bounced")) {
            bounced++;
            assert_non_null(strstr(json_string_value(json_object_get(m, "last_error")),
                                   "User unknown"));
        }
    assert_int_equal(bounced, 2);
    json_decref(home);
}

/* Item 13: a relay that refuses "EHLO vm" is a configuration error: the
 * mail waits and is never dead-lettered, not even past OUTBOX_MAX_AGE
 * (2 s here); the log, the outbox row and `tsunagu outbox` say so; once
 * the default name (the reply address's domain) is used, it goes out. */
static void test_helo_refused_keeps_mail(void **state)
{
    stop_daemon();
    stop_sink();
    start_sink("--require-fqdn");
    g.extra_env[0] = "TSUNAGU_OUTBOX_MAX_AGE=2";
    g.extra_env[1] = "TSUNAGU_HELO_NAME=vm";
    start_daemon();
    char *cancel = xasprintf("/v1/meetings/%lld/cancel", (long long)g.meeting);
    json_decref(api("POST", cancel, NULL, 200));
    free(cancel);
    support_sleep_ms(4000);                       /* past OUTBOX_MAX_AGE */
    json_t *ob = api("GET", "/v1/outbox", NULL, 200);
    json_t *c = json_object_get(ob, "counts");
    assert_int_equal(json_integer_value(json_object_get(c, "dead")), 0);
    assert_true(json_integer_value(json_object_get(c, "config_error")) >= 1);
    assert_true(json_integer_value(json_object_get(c, "pending")) +
                json_integer_value(json_object_get(c, "sending")) >= 1);
    json_decref(ob);
    json_t *row = outbox_row("hikikomori@yamanami.example", "cancel");
    const char *err = json_string_value(json_object_get(row, "last_error"));
    if (!err || !strstr(err, "設定エラー")) fail_msg("last_error: %s", err ? err : "-");
    json_decref(row);
    char *log = support_read_log(g.d.log);
    assert_non_null(strstr(log, "CONFIGURATION ERROR"));
    free(log);
    char *cmd = xasprintf("TSUNAGU_URL=http://127.0.0.1:%d TSUNAGU_TOKEN=" ADMIN
                          " bin/tsunagu outbox > %s/outbox.out 2>&1", g.d.port, g.d.dir);
    assert_int_equal(system(cmd), 0);
    char *path = support_path(g.d.dir, "outbox.out"), *text = support_read_log(path);
    assert_non_null(strstr(text, "*** 設定エラー"));
    free(cmd); free(path); free(text);
    /* the secretariat's ホーム lists the held mail */
    json_t *home = api("GET", "/v1/overview/home", NULL, 200);
    json_t *held = json_object_get(home, "mail_config_errors");
    assert_true(json_array_size(held) >= 1);
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(held, 0), "last_error")),
                           "設定エラー"));
    json_decref(home);
    stop_daemon();
    g.extra_env[1] = NULL;                        /* OUTBOX_MAX_AGE=2 stays */
    size_t before = sink_count();
    start_daemon();
    wait_sink(before + 4);
    char *f = file_to(before, "hikikomori@yamanami.example");
    assert_non_null(f);
    char *helo = file_header(f, "X-Sink-Helo");
    assert_string_equal(helo, "yamanami.example");
    free(helo); free(f);
    ob = api("GET", "/v1/outbox", NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(ob, "counts"), "dead")), 0);
    json_decref(ob);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invitations_from_the_reply_address),
        cmocka_unit_test(test_thunderbird_accept),
        cmocka_unit_test(test_gmail_group_member_accept),
        cmocka_unit_test(test_outlook_distribution_list_member),
        cmocka_unit_test(test_forged_from_is_refused),
        cmocka_unit_test(test_outlook_decline_notifies_secretariat),
        cmocka_unit_test(test_tnef_refused_with_rsvp_hint),
        cmocka_unit_test(test_shift_jis_reply_cli_and_api_agree),
        cmocka_unit_test(test_dsn_marks_outbox_bounced),
        cmocka_unit_test(test_helo_refused_keeps_mail),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
