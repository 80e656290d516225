/* SPDX-License-Identifier: MIT */
/*
 * itest_demo.c - the `make run` demo (contrib/demo) must keep working, and
 * the access log must not leak RSVP tokens.
 *
 *   - contrib/demo runs non-interactively (TSUNAGU_DEMO_EXIT=1) on a free
 *     port with its state in a temp folder: it exits 0, every step's
 *     heading appears in order (import, busy, case, proposal, approval,
 *     slots, booking, mail), and the maildir holds one invitation per
 *     agency the demo's slot query required, each with a text/calendar
 *     part (method=REQUEST) whose decoded iCalendar says METHOD:REQUEST
 *     and invites that agency's mailbox.  The demo's daemon log shows the
 *     booking and the deliveries.
 *   - a tsunagud under the test harness answers GET and POST
 *     /v1/rsvp/<token> (a forged one, plain and %-encoded), and its log
 *     has the request lines with the path "/v1/rsvp/…" and never the token.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "imip.h"
#include "support_daemon.h"
#include "support_proc.h"
#include "util.h"

#define DEMO_TIMEOUT_MS 120000

/* Run contrib/demo to completion in a fresh state folder; its combined
 * output in *out (malloc'd).  Returns the wait status, or -1. */
static int run_demo(const char *state, int port, char **out)
{
    char *log = support_path(state, "demo.out");
    char *port_env = xasprintf("TSUNAGU_DEMO_PORT=%d", port);
    char *state_env = xasprintf("TSUNAGU_DEMO_STATE=%s", state);
    const char *const argv[] = {"sh", "contrib/demo", NULL};
    const char *const env[] = {port_env, state_env, "TSUNAGU_DEMO_EXIT=1", NULL};
    pid_t pid = support_spawn(argv, env, NULL, log);
    int status = -1;
    for (int waited = 0; pid > 0 && waited < DEMO_TIMEOUT_MS; waited += 100) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            break;
        status = -1;
        support_sleep_ms(100);
    }
    if (pid > 0 && status == -1) {
        fprintf(stderr, "contrib/demo did not finish in %d ms\n", DEMO_TIMEOUT_MS);
        support_stop(pid, 5000);
    }
    *out = support_read_log(log);
    free(log);
    free(port_env);
    free(state_env);
    return status;
}

/* The agencies the demo's slot query required (its attendees). */
static json_t *required_agencies(const char *state)
{
    char *path = support_path(state, "query.json");
    json_t *q = json_load_file(path, 0, NULL);
    free(path);
    assert_non_null(q);
    json_t *req = json_incref(json_object_get(q, "required"));
    json_decref(q);
    assert_true(json_is_array(req));
    assert_true(json_array_size(req) >= 2);
    return req;
}

/* The decoded, unfolded iCalendar of the text/calendar part of raw when
 * its Content-Type says method=REQUEST, else NULL. */
static char *calendar_part(const char *raw)
{
    const char *ct = strstr(raw, "Content-Type: text/calendar");
    const char *body = ct ? strstr(ct, "\r\n\r\n") : NULL;
    if (!body)
        return NULL;
    char *hdr = xstrndup(ct, (size_t)(body - ct));
    bool request = strstr(hdr, "method=REQUEST") != NULL;
    bool base64 = strstr(hdr, "Content-Transfer-Encoding: base64") != NULL;
    free(hdr);
    if (!request)
        return NULL;
    body += 4;
    const char *end = strstr(body, "\r\n--");
    size_t n = end ? (size_t)(end - body) : strlen(body), len;
    char *ical = base64 ? imip_base64_decode(body, n, &len) : xstrndup(body, n);
    char *w = ical;                              /* unfold (RFC 5545 3.1) */
    for (const char *r = ical; *r; r++) {
        if (r[0] == '\r' && r[1] == '\n' && (r[2] == ' ' || r[2] == '\t'))
            r += 2;
        else
            *w++ = *r;
    }
    *w = '\0';
    return ical;
}

/* The unfolded To: header of raw (malloc'd, "" when none). */
static char *to_header(const char *raw)
{
    const char *p = strstr(raw, "\r\nTo: ");
    strbuf_t b;
    strbuf_init(&b);
    for (p = p ? p + 6 : ""; *p && !(p[0] == '\r' && p[1] == '\n' && p[2] != ' '); p++)
        if (*p != '\r' && *p != '\n')
            strbuf_putc(&b, *p);
    return strbuf_detach(&b);
}

#define DEMO_SECRETARIAT "kyodo"
#define DEMO_REPLY_ADDRESS "mailto:tsunagu-reply@yamanami.example"

static void assert_invitations(const char *state, const json_t *required)
{
    char *newdir = support_path(state, "maildir/new");
    DIR *d = opendir(newdir);
    assert_non_null(d);
    size_t files = 0, i;
    bool *invited = xcalloc(json_array_size(required) + 1, sizeof *invited);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *path = support_path(newdir, e->d_name);
        char *raw = read_file(path, NULL);
        assert_non_null(raw);
        char *ical = calendar_part(raw);
        if (!ical)
            fail_msg("%s: no text/calendar; method=REQUEST part", path);
        if (!strstr(ical, "METHOD:REQUEST\r\n") || !strstr(ical, "BEGIN:VEVENT") ||
            !strstr(ical, "UID:") || !strstr(ical, DEMO_REPLY_ADDRESS))
            fail_msg("%s: calendar part is not an iTIP REQUEST:\n%s", path, ical);
        char *to = to_header(raw);
        const json_t *id;
        json_array_foreach(required, i, id) {
            char *addr = xasprintf("%s@", json_string_value(id));
            char *att = xasprintf("mailto:%s@", json_string_value(id));
            const char *at = strstr(to, addr);
            /* the secretariat (the demo's default, kyodo) gets a copy: the
             * ORGANIZER (the reply address) stands for it, so it is never
             * an ATTENDEE; everyone else is */
            bool copy = strcmp(json_string_value(id), DEMO_SECRETARIAT) == 0;
            if (at && (at == to || at[-1] == '<' || at[-1] == ' ') &&
                (copy ? !strstr(ical, att) : strstr(ical, att) != NULL))
                invited[i] = true;
            free(addr);
            free(att);
        }
        free(to);
        free(ical);
        free(raw);
        free(path);
        files++;
    }
    closedir(d);
    assert_int_equal(files, json_array_size(required));
    const json_t *id;
    json_array_foreach(required, i, id)
        if (!invited[i])
            fail_msg("no invitation to %s in %s", json_string_value(id), newdir);
    free(invited);
    free(newdir);
}

static void test_demo_walks_the_whole_flow(void **state)
{
    char *dir = support_mkdtemp("itest-demo");
    assert_non_null(dir);
    int port = support_free_port();
    assert_true(port > 0);
    char *out = NULL;
    int status = run_demo(dir, port, &out);
    if (!(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0))
        fail_msg("contrib/demo failed (status %d):\n%s", status, out);

    /* each step's heading, in order */
    static const char *const headings[] = {
        "支援機関とカレンダーを取り込み", "各機関の予定",    "ケースを登録",
        "主担当機関の提案",               "提案を承認",      "共通の空き時間を探す",
        "最初の候補で会議を予約",         "招待メールの配送", "デモ完了",
    };
    const char *at = out;
    for (size_t i = 0; i < sizeof headings / sizeof *headings; i++) {
        const char *h = strstr(at, headings[i]);
        if (!h)
            fail_msg("heading \"%s\" missing (or out of order) in:\n%s", headings[i], out);
        at = h;
    }
    /* the proposal's Japanese paragraph and the mail summary were printed */
    assert_non_null(strstr(out, "主担当には"));
    assert_non_null(strstr(out, "METHOD:REQUEST あり"));
    assert_null(strstr(out, "デモ失敗"));

    json_t *required = required_agencies(dir);
    assert_invitations(dir, required);
    json_decref(required);

    char *logpath = support_path(dir, "tsunagud.log");
    char *log = support_read_log(logpath);
    assert_non_null(strstr(log, "http POST /v1/meetings 201"));
    assert_non_null(strstr(log, "outbox: message 1 sent"));
    free(log);
    free(logpath);
    free(out);
    support_rmtree(dir);
    free(dir);
}

static void test_access_log_redacts_rsvp_token(void **state)
{
    support_daemon_t d;
    assert_int_equal(support_daemon_init(&d, "itest-demo-log"), 0);
    assert_int_equal(support_write_file(d.conf, "ADMIN_TOKEN = itest-demo-admin-token-0123456789abcdef\n", (size_t)-1), 0);
    assert_int_equal(support_daemon_start(&d, getenv("TSUNAGU_ITEST_WRAPPER"), NULL, 30000), 0);

    static const char *const paths[] = {
        "/v1/rsvp/SeCrEtToKeN0001.abcdef",
        "/v1/%72svp/SeCrEtToKeN0002.abcdef",       /* "rsvp" %-encoded */
        "/v1/rsvp/SeCrEtToKeN0003%zz",             /* undecodable */
    };
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        long st = support_daemon_status(&d, "GET", paths[i], NULL, NULL);
        assert_true(st >= 200 && st < 500);
        st = support_daemon_status(&d, "POST", paths[i], NULL, "");   /* the answer itself */
        assert_true(st >= 200 && st < 500);
    }
    /* a request of another kind still logs its full path */
    assert_int_equal(support_daemon_status(&d, "GET", "/v1/agencies/nosuch", "itest-demo-admin-token-0123456789abcdef",
                                           NULL), 404);
    char *log = NULL;
    for (int i = 0; i < 50; i++) {
        free(log);
        log = support_read_log(d.log);
        if (strstr(log, "/v1/agencies/nosuch"))
            break;
        support_sleep_ms(100);
    }
    assert_non_null(strstr(log, "http GET /v1/agencies/nosuch 404"));
    assert_non_null(strstr(log, "http GET /v1/rsvp/… "));
    assert_non_null(strstr(log, "http POST /v1/rsvp/… 403 "));
    if (strstr(log, "SeCrEtToKeN"))
        fail_msg("an RSVP token reached the log:\n%s", log);
    free(log);
    support_daemon_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demo_walks_the_whole_flow),
        cmocka_unit_test(test_access_log_redacts_rsvp_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
