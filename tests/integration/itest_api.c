/* SPDX-License-Identifier: MIT */
/*
 * itest_api.c - the tsunagud daemon end to end over real HTTP.
 *
 * One daemon (bin/tsunagud) is started for the whole group on a free port
 * with a temp database, TSUNAGU_NOW=2026-12-01T09:00:00+09:00 and a config
 * file (so SIGHUP reload can be observed through ADMIN_TOKEN).  The fixture
 * city tests/data/yamanami is imported with calendar urls resolved to
 * absolute paths, and the tests then check: busy time per feed against
 * expected/busy, the need rule, VFREEBUSY, auth for every role, 404/405,
 * bad JSON, bad imports (400 naming the field, nothing half-imported),
 * GET /v1/busy with at most 200 agencies (a longer list: 400 in Japanese),
 * idempotent re-import, a failing feed keeping its intervals, /healthz,
 * /metrics, SIGHUP and SIGTERM (exit 0).  Tests run in order and share
 * state (tokens created earlier are used later).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "interval.h"
#include "support_daemon.h"
#include "support_proc.h"
#include "timeutil.h"
#include "util.h"

#define CITY "tests/data/yamanami"
#define ADMIN1 "itest-admin-token-one-0123456789abcdef"
#define ADMIN2 "itest-admin-token-two-0123456789abcdef"

static struct {
    support_daemon_t d;
    char  *ssw_copy;
    const char *admin;
    json_t *doc;                       /* import document, absolute urls */
    char   *tok_coord, *tok_secr, *tok_agency;
    long long tok_coord_id;
} g;

/* ---- HTTP (tests/support/support_daemon.h) -------------------------------
 * auth: NULL = none; "Basic:xxx" sends basic auth with password xxx. */
typedef support_resp_t resp_t;
#define http(m, p, auth, b) support_daemon_http(&g.d, m, p, auth, b)
#define http_json(m, p, auth, b, want) support_api_json(&g.d, m, p, auth, b, want)
#define expect_error(m, p, auth, b, st, code) support_api_error(&g.d, m, p, auth, b, st, code, NULL)
#define status_of(m, p, auth, b) support_daemon_status(&g.d, m, p, auth, b)

/* ---- fixtures ------------------------------------------------------------- */
static int64_t iso(const char *s)
{
    int64_t t = 0;
    if (!tu_parse_iso8601(s, NULL, &t))
        fail_msg("bad time %s", s);
    return t;
}

static void load_pairs(json_t *arr, ivset_t *out)
{
    size_t i;
    json_t *p;
    json_array_foreach(arr, i, p)
        ivset_push(out, iso(json_string_value(json_array_get(p, 0))),
                   iso(json_string_value(json_array_get(p, 1))));
}

static void load_expected(const char *feed, ivset_t *out)
{
    char path[512];
    snprintf(path, sizeof path, CITY "/expected/busy/%s.json", feed);
    json_t *j = json_load_file(path, 0, NULL);
    if (!j)
        fail_msg("cannot read %s", path);
    load_pairs(j, out);
    json_decref(j);
}

static void assert_same_set(const ivset_t *got, const ivset_t *want, const char *what)
{
    if (got->n != want->n)
        fail_msg("%s: %zu intervals, expected %zu", what, got->n, want->n);
    for (size_t i = 0; i < got->n; i++)
        if (got->v[i].start != want->v[i].start || got->v[i].end != want->v[i].end)
            fail_msg("%s: interval %zu differs", what, i);
}

/* The import document with every relative url made absolute; ssw points
 * to a copy we can break on purpose. */
static json_t *make_doc(void)
{
    json_t *doc = support_city_doc(CITY, "ssw", g.ssw_copy);
    assert_non_null(doc);
    return doc;
}

static char *dump(const json_t *j) { return json_dumps(j, JSON_COMPACT); }

static void write_conf(const char *admin)
{
    char *text = xasprintf("# itest config\nADMIN_TOKEN = %s\nPOLL_INTERVAL = 600\n"
                           "LOG_LEVEL = info\n", admin);
    assert_int_equal(support_write_file(g.d.conf, text, (size_t)-1), 0);
    free(text);
}

static bool log_contains(const char *needle)
{
    char *text = support_read_log(g.d.log);
    bool found = text && strstr(text, needle);
    free(text);
    return found;
}

/* TSUNAGU_ITEST_WRAPPER (e.g. "valgrind -q --error-exitcode=99
 * --leak-check=full --errors-for-leak-kinds=definite") is prepended to
 * every daemon started here when set, so the whole suite can run the
 * daemon under a checker; a checker error then fails the SIGTERM
 * exit-status tests. */
static pid_t spawn_daemon(const char *const args[], const char *const env[], const char *log)
{
    return support_tsunagud_spawn(getenv("TSUNAGU_ITEST_WRAPPER"), args, env, log);
}

static int group_setup(void **state)
{
    if (support_daemon_init(&g.d, "itest-api") != 0)
        return -1;
    g.d.http_timeout_s = 20;
    g.ssw_copy = support_path(g.d.dir, "ssw.ics");
    g.admin = ADMIN1;
    write_conf(ADMIN1);
    char mailenv[600];
    snprintf(mailenv, sizeof mailenv, "TSUNAGU_MAIL_PATH=%s/mail.mbox", g.d.dir);
    const char *env[] = {mailenv, "TSUNAGU_NOW=" SUPPORT_FIXTURE_NOW, "TSUNAGU_SECRETS=", NULL};
    return support_daemon_start(&g.d, getenv("TSUNAGU_ITEST_WRAPPER"), env, 30000);
}

static int group_teardown(void **state)
{
    json_decref(g.doc);
    support_daemon_free(&g.d);
    free(g.ssw_copy);
    free(g.tok_coord); free(g.tok_secr); free(g.tok_agency);
    return 0;
}

/* ---- tests ---------------------------------------------------------------- */
static void test_healthz_is_public(void **state)
{
    json_t *j = http_json("GET", "/healthz", NULL, NULL, 200);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    json_decref(j);
}

static void test_auth_missing_or_bad_token_401(void **state)
{
    const char *paths[] = {"/v1/agencies", "/v1/feeds", "/v1/tokens", "/metrics",
                           "/v1/feeds/ssw/busy", "/v1/agencies/kodomo/freebusy.ics"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        expect_error("GET", paths[i], NULL, NULL, 401, "unauthorized");
        expect_error("GET", paths[i], "not-a-token", NULL, 401, "unauthorized");
        expect_error("GET", paths[i], "Basic:not-a-token", NULL, 401, "unauthorized");
    }
    expect_error("POST", "/v1/import", NULL, "{}", 401, "unauthorized");
}

static void test_bad_json_400(void **state)
{
    expect_error("POST", "/v1/import", g.admin, "{\"city\": ", 400, "bad-json");
    expect_error("POST", "/v1/import", g.admin, "", 400, "bad-json");
    expect_error("POST", "/v1/import", g.admin, "\"just a string\"", 400, "bad-json");
    expect_error("POST", "/v1/tokens", g.admin, "[1,2", 400, "bad-json");
}

static void test_bad_import_names_field_and_imports_nothing(void **state)
{
    json_t *doc = make_doc();
    json_t *a3 = json_array_get(json_object_get(doc, "agencies"), 3);
    json_object_set_new(json_object_get(a3, "hours"), "mon-fri", json_string("nine to five"));
    char *body = dump(doc);
    json_t *j = http_json("POST", "/v1/import", g.admin, body, 400);
    const char *msg = json_string_value(json_object_get(j, "message"));
    assert_non_null(strstr(msg, "agencies[3].hours"));
    json_decref(j);
    free(body);
    json_decref(doc);
    /* nothing was imported */
    j = http_json("GET", "/v1/agencies", g.admin, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "agencies")), 0);
    json_decref(j);
    j = http_json("GET", "/v1/feeds", g.admin, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "feeds")), 0);
    json_decref(j);
    /* relative urls are refused by the daemon (the CLI resolves them) */
    doc = json_load_file(CITY "/agencies.json", 0, NULL);
    body = dump(doc);
    j = http_json("POST", "/v1/import", g.admin, body, 400);
    assert_non_null(strstr(json_string_value(json_object_get(j, "message")),
                           "agencies[0].calendars[0].url"));
    json_decref(j);
    free(body);
    json_decref(doc);
}

static json_t *wait_feeds_settled(int timeout_ms)
{
    for (int waited = 0;; waited += 100) {
        json_t *j = http_json("GET", "/v1/feeds", g.admin, NULL, 200);
        size_t i, pending = 0;
        json_t *f;
        json_array_foreach(json_object_get(j, "feeds"), i, f)
            if (strcmp(json_string_value(json_object_get(f, "state")), "pending") == 0)
                pending++;
        if (pending == 0 || waited >= timeout_ms)
            return j;
        json_decref(j);
        support_sleep_ms(100);
    }
}

static void test_import_and_feeds_become_ok(void **state)
{
    g.doc = make_doc();
    char *body = dump(g.doc);
    json_t *j = http_json("POST", "/v1/import", g.admin, body, 200);
    free(body);
    assert_int_equal(json_integer_value(json_object_get(j, "agencies")),
                     json_array_size(json_object_get(g.doc, "agencies")));
    assert_int_equal(json_integer_value(json_object_get(j, "feeds")), 22);
    json_decref(j);
    j = wait_feeds_settled(20000);
    json_t *feeds = json_object_get(j, "feeds");
    assert_int_equal(json_array_size(feeds), 22);
    size_t i;
    json_t *f;
    json_array_foreach(feeds, i, f) {
        const char *id = json_string_value(json_object_get(f, "id"));
        if (strcmp(json_string_value(json_object_get(f, "state")), "ok") != 0)
            fail_msg("feed %s: %s", id, json_dumps(f, 0));
        assert_true(json_integer_value(json_object_get(f, "intervals")) > 0);
        assert_string_equal(json_string_value(json_object_get(f, "last_success")),
                            "2026-12-01T09:00:00+09:00");
    }
    json_decref(j);
}

#define WIN "from=2026-11-30T00:00:00%2B09:00&to=2027-03-01T00:00:00%2B09:00"

static void fetch_busy(const char *path, ivset_t *out)
{
    json_t *j = http_json("GET", path, g.admin, NULL, 200);
    load_pairs(json_object_get(j, "busy"), out);
    json_decref(j);
}

static void test_feed_busy_matches_expected(void **state)
{
    size_t i, k;
    json_t *a, *c;
    int checked = 0;
    json_array_foreach(json_object_get(g.doc, "agencies"), i, a)
        json_array_foreach(json_object_get(a, "calendars"), k, c) {
            const char *id = json_string_value(json_object_get(c, "id"));
            char path[256];
            snprintf(path, sizeof path, "/v1/feeds/%s/busy?%s", id, WIN);
            ivset_t got, want;
            ivset_init(&got);
            ivset_init(&want);
            fetch_busy(path, &got);
            load_expected(id, &want);
            assert_true(want.n > 0);
            assert_same_set(&got, &want, id);
            ivset_free(&got);
            ivset_free(&want);
            checked++;
        }
    assert_int_equal(checked, 22);
    /* the busy reply is clipped to the window and carries offsets */
    json_t *j = http_json("GET", "/v1/feeds/kodomo/busy?from=2026-12-01T10:00:00%2B09:00"
                          "&to=2026-12-01T11:00:00%2B09:00", g.admin, NULL, 200);
    assert_string_equal(json_string_value(json_object_get(j, "feed")), "kodomo");
    json_t *b = json_object_get(j, "busy");
    for (size_t n = 0; n < json_array_size(b); n++) {
        assert_true(iso(json_string_value(json_array_get(json_array_get(b, n), 0))) >=
                    iso("2026-12-01T10:00:00+09:00"));
        assert_non_null(strstr(json_string_value(json_array_get(json_array_get(b, n), 1)), "+09:00"));
    }
    json_decref(j);
}

/* Plain two-pointer intersection, independent of the daemon's algebra. */
static void intersect(const ivset_t *a, const ivset_t *b, ivset_t *out)
{
    size_t i = 0, j = 0;
    while (i < a->n && j < b->n) {
        int64_t s = a->v[i].start > b->v[j].start ? a->v[i].start : b->v[j].start;
        int64_t e = a->v[i].end < b->v[j].end ? a->v[i].end : b->v[j].end;
        if (s < e)
            ivset_push(out, s, e);
        if (a->v[i].end < b->v[j].end) i++; else j++;
    }
}

static void test_agency_busy_need_rule(void **state)
{
    /* kikan-shogai has three calendars and need 1: busy only when all three are */
    ivset_t a, b, c, ab, want, got;
    ivset_init(&a); ivset_init(&b); ivset_init(&c);
    ivset_init(&ab); ivset_init(&want); ivset_init(&got);
    load_expected("kikan-shogai-a", &a);
    load_expected("kikan-shogai-b", &b);
    load_expected("kikan-shogai-c", &c);
    intersect(&a, &b, &ab);
    intersect(&ab, &c, &want);
    json_t *j = http_json("GET", "/v1/agencies/kikan-shogai/busy?" WIN, g.admin, NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(j, "need")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "calendars")), 3);
    assert_int_equal(json_array_size(json_object_get(j, "failing")), 0);
    load_pairs(json_object_get(j, "busy"), &got);
    json_decref(j);
    assert_true(want.n > 0 && want.n < a.n);
    assert_same_set(&got, &want, "kikan-shogai combined");
    /* a one-calendar agency's busy time is its calendar's */
    ivset_t one, exp1;
    ivset_init(&one); ivset_init(&exp1);
    fetch_busy("/v1/agencies/houkatsu-hokubu/busy?" WIN, &one);
    load_expected("houkatsu-hokubu", &exp1);
    assert_same_set(&one, &exp1, "houkatsu-hokubu combined");
    ivset_free(&one); ivset_free(&exp1);
    ivset_free(&a); ivset_free(&b); ivset_free(&c);
    ivset_free(&ab); ivset_free(&want); ivset_free(&got);
}

static void test_freebusy_ics(void **state)
{
    resp_t r = http("GET", "/v1/agencies/houkatsu-hokubu/freebusy.ics?" WIN, g.admin, NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.ctype, "text/calendar"));
    assert_non_null(strstr(r.body.s, "BEGIN:VFREEBUSY\r\n"));
    assert_non_null(strstr(r.body.s, "DTSTART:20261129T150000Z\r\n"));
    size_t lines = 0;
    for (const char *p = r.body.s; (p = strstr(p, "\r\nFREEBUSY;FBTYPE=BUSY:")); p++)
        lines++;
    ivset_t want;
    ivset_init(&want);
    load_expected("houkatsu-hokubu", &want);
    assert_int_equal(lines, want.n);
    /* first period is the first expected interval, in UTC */
    char first[64];
    char a[TU_ISO_LEN], b[TU_ISO_LEN];
    tu_format_iso8601(want.v[0].start, NULL, a);
    tu_format_iso8601(want.v[0].end, NULL, b);
    snprintf(first, sizeof first, "FREEBUSY;FBTYPE=BUSY:%.4s%.2s%.2sT%.2s%.2s%.2sZ/%.4s%.2s%.2sT%.2s%.2s%.2sZ",
             a, a + 5, a + 8, a + 11, a + 14, a + 17, b, b + 5, b + 8, b + 11, b + 14, b + 17);
    assert_non_null(strstr(r.body.s, first));
    strbuf_free(&r.body);
    /* as=events: the same busy time as opaque VEVENTs */
    r = http("GET", "/v1/agencies/houkatsu-hokubu/freebusy.ics?as=events&" WIN, g.admin, NULL);
    assert_int_equal(r.status, 200);
    size_t events = 0;
    for (const char *p = r.body.s; (p = strstr(p, "\r\nBEGIN:VEVENT\r\n")); p++)
        events++;
    assert_int_equal(events, want.n);
    assert_non_null(strstr(r.body.s, "TRANSP:OPAQUE"));
    strbuf_free(&r.body);
    expect_error("GET", "/v1/agencies/houkatsu-hokubu/freebusy.ics?as=xml", g.admin, NULL, 400,
                 "bad-request");
    /* calendar clients subscribe with HTTP Basic, the token as password */
    assert_int_equal(status_of("GET", "/v1/agencies/houkatsu-hokubu/freebusy.ics",
                               "Basic:" ADMIN1, NULL), 200);
    ivset_free(&want);
}

static char *create_token(const char *role, long long *id)
{
    return support_api_token(&g.d, g.admin, role, "itest", id);
}

static void test_tokens_created_listed_hashed(void **state)
{
    g.tok_coord = create_token("coordinator", &g.tok_coord_id);
    g.tok_secr = create_token("secretariat", NULL);
    g.tok_agency = create_token("agency:houkatsu-hokubu", NULL);
    resp_t r = http("GET", "/v1/tokens", g.admin, NULL);
    assert_int_equal(r.status, 200);
    /* listed, but never the token itself */
    assert_null(strstr(r.body.s, g.tok_coord));
    assert_null(strstr(r.body.s, g.tok_agency));
    json_t *j = json_loads(r.body.s, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(j, "tokens")), 3);
    json_decref(j);
    strbuf_free(&r.body);
    /* the database holds hashes only */
    char *dbtext = read_file(g.d.db, NULL);
    if (dbtext)
        assert_null(strstr(dbtext, g.tok_coord));
    free(dbtext);
    expect_error("POST", "/v1/tokens", g.admin, "{\"role\": \"superuser\"}", 400, "bad-request");
    expect_error("POST", "/v1/tokens", g.admin, "{\"role\": \"agency:nope\"}", 400, "bad-request");
}

static void test_roles(void **state)
{
    /* staff roles read everything */
    const char *staff[] = {g.tok_coord, g.tok_secr};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(status_of("GET", "/v1/agencies", staff[i], NULL), 200);
        assert_int_equal(status_of("GET", "/v1/feeds/kodomo", staff[i], NULL), 200);
        assert_int_equal(status_of("GET", "/v1/agencies/kodomo/busy", staff[i], NULL), 200);
        assert_int_equal(status_of("GET", "/metrics", staff[i], NULL), 200);
        /* admin-only */
        expect_error("GET", "/v1/tokens", staff[i], NULL, 403, "forbidden");
        expect_error("POST", "/v1/tokens", staff[i], "{\"role\":\"admin\"}", 403, "forbidden");
        expect_error("POST", "/v1/import", staff[i], "{}", 403, "forbidden");
    }
    /* an agency token sees its own feeds only */
    const char *ag = g.tok_agency;
    assert_int_equal(status_of("GET", "/v1/feeds/houkatsu-hokubu", ag, NULL), 200);
    assert_int_equal(status_of("GET", "/v1/feeds/houkatsu-hokubu/busy", ag, NULL), 200);
    assert_int_equal(status_of("GET", "/v1/agencies/houkatsu-hokubu/busy", ag, NULL), 200);
    assert_int_equal(status_of("GET", "/v1/agencies/houkatsu-hokubu/freebusy.ics", ag, NULL), 200);
    expect_error("GET", "/v1/feeds/kodomo", ag, NULL, 403, "forbidden");
    expect_error("GET", "/v1/feeds/kodomo/busy", ag, NULL, 403, "forbidden");
    expect_error("POST", "/v1/feeds/kodomo/refresh", ag, NULL, 403, "forbidden");
    expect_error("GET", "/v1/agencies/kodomo/busy", ag, NULL, 403, "forbidden");
    expect_error("GET", "/v1/agencies/kodomo/freebusy.ics", ag, NULL, 403, "forbidden");
    /* several agencies at once: only when every one is its own */
    assert_int_equal(status_of("GET", "/v1/busy?agencies=houkatsu-hokubu", ag, NULL), 200);
    expect_error("GET", "/v1/busy?agencies=houkatsu-hokubu,kodomo", ag, NULL, 403, "forbidden");
    expect_error("GET", "/metrics", ag, NULL, 403, "forbidden");
    expect_error("GET", "/v1/tokens", ag, NULL, 403, "forbidden");
    expect_error("POST", "/v1/import", ag, "{}", 403, "forbidden");
    json_t *j = http_json("GET", "/v1/feeds", ag, NULL, 200);
    json_t *feeds = json_object_get(j, "feeds");
    assert_int_equal(json_array_size(feeds), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(feeds, 0), "agency")),
                        "houkatsu-hokubu");
    json_decref(j);
    /* nothing about other agencies (issue 10): another agency's page is
     * refused and the list holds the agency's own entry only */
    expect_error("GET", "/v1/agencies/kodomo", ag, NULL, 403, "forbidden");
    j = http_json("GET", "/v1/agencies", ag, NULL, 200);
    json_t *list = json_object_get(j, "agencies");
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "id")),
                        "houkatsu-hokubu");
    json_decref(j);
    j = http_json("GET", "/v1/agencies/houkatsu-hokubu", ag, NULL, 200);
    json_t *own = json_object_get(j, "feeds");
    assert_int_equal(json_array_size(own), 1);
    assert_true(json_is_null(json_object_get(json_array_get(own, 0), "advice")) ||
                json_is_object(json_object_get(json_array_get(own, 0), "advice")));
    json_decref(j);
}

/* ---- refresh rate limit (issue 8 item 6) ----------------------------------- */

static size_t keep_retry_after(char *buf, size_t size, size_t n, void *arg)
{
    size_t len = size * n;
    if (len > 12 && strncasecmp(buf, "Retry-After:", 12) == 0)
        *(long *)arg = strtol(buf + 12, NULL, 10);
    return len;
}

static size_t drop_body(char *buf, size_t size, size_t n, void *arg) { return size * n; }

/* POST path with token; the status, and Retry-After in *retry (-1 if none). */
static long post_with_retry_after(const char *path, const char *token, long *retry)
{
    CURL *h = curl_easy_init();
    char *url = xasprintf("http://127.0.0.1:%d%s", g.d.port, path);
    char *auth = xasprintf("Authorization: Bearer %s", token);
    struct curl_slist *hd = curl_slist_append(NULL, auth);
    *retry = -1;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, keep_retry_after);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, retry);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, drop_body);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    long status = 0;
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    free(auth);
    free(url);
    return status;
}

/* The value of an unlabelled series in /metrics; -1 when absent. */
static long metric_value(const char *name)
{
    resp_t r = http("GET", "/metrics", g.admin, NULL);
    char *key = xasprintf("\n%s ", name);
    const char *p = r.body.s ? strstr(r.body.s, key) : NULL;
    long n = p ? strtol(p + strlen(key), NULL, 10) : -1;
    free(key);
    strbuf_free(&r.body);
    return n;
}

static long fetches_total(void)
{
    return metric_value("tsunagu_feed_fetch_seconds_count");
}

/* 200 refreshes in a burst start at most one fetch (the forced one):
 * the others join it (202) or get 429 with Retry-After within
 * REFRESH_MIN_INTERVAL (60 s); an agency may not force. */
static void test_refresh_rate_limited(void **state)
{
    const char *feed = "/v1/feeds/houkatsu-hokubu/refresh";
    char *forced = xasprintf("%s?force=1", feed);
    long before = fetches_total();
    assert_true(before >= 0);
    long retry;
    assert_int_equal(post_with_retry_after(forced, g.admin, &retry), 202);
    int accepted = 0, limited = 0;
    for (int i = 0; i < 200; i++) {
        const char *tok = i % 2 ? g.tok_agency : g.admin;
        long st = post_with_retry_after(feed, tok, &retry);
        if (st == 429) {
            if (retry < 1 || retry > 60)
                fail_msg("429 with Retry-After %ld", retry);
            limited++;
        } else if (st == 202) {
            accepted++;         /* joined the forced fetch still in flight */
        } else {
            fail_msg("refresh #%d: HTTP %ld", i, st);
        }
    }
    assert_true(limited > 0);
    expect_error("POST", forced, g.tok_agency, NULL, 403, "forbidden");
    support_sleep_ms(1000);     /* let the forced fetch finish */
    long after = fetches_total();
    print_message("refresh burst: 200 requests, %d joined, %d x 429, %ld fetch(es) started\n",
                  accepted, limited, after - before);
    assert_int_equal(after - before, 1);
    free(forced);
    /* the CLI: refused with the wait in the message; --force goes through */
    const char *plain[] = {"refresh", "houkatsu-hokubu", NULL};
    support_run_t r = support_daemon_cli(&g.d, NULL, g.admin, NULL, plain);
    assert_int_not_equal(r.code, 0);
    if (!strstr(r.out, "秒"))
        fail_msg("tsunagu refresh: %s", r.out);
    free(r.out);
    const char *force[] = {"refresh", "--force", "houkatsu-hokubu", NULL};
    r = support_daemon_cli(&g.d, NULL, g.admin, NULL, force);
    if (r.code != 0)
        fail_msg("tsunagu refresh --force: %s", r.out);
    free(r.out);
}

static void test_token_revoke(void **state)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/tokens/%lld", g.tok_coord_id);
    assert_int_equal(status_of("DELETE", path, g.admin, NULL), 204);
    expect_error("GET", "/v1/agencies", g.tok_coord, NULL, 401, "unauthorized");
    expect_error("DELETE", path, g.admin, NULL, 404, "not-found");
    expect_error("DELETE", "/v1/tokens/xyz", g.admin, NULL, 400, "bad-id");
}

static void test_not_found_and_method(void **state)
{
    expect_error("GET", "/v1/feeds/no-such-feed", g.admin, NULL, 404, "not-found");
    expect_error("GET", "/v1/feeds/no-such-feed/busy", g.admin, NULL, 404, "not-found");
    expect_error("POST", "/v1/feeds/no-such-feed/refresh", g.admin, NULL, 404, "not-found");
    expect_error("GET", "/v1/agencies/no-such-agency", g.admin, NULL, 404, "not-found");
    expect_error("GET", "/v1/agencies/no-such-agency/busy", g.admin, NULL, 404, "not-found");
    expect_error("GET", "/v1/agencies/no-such-agency/freebusy.ics", g.admin, NULL, 404, "not-found");
    expect_error("GET", "/v1/nothing-here", g.admin, NULL, 404, "not-found");
    expect_error("GET", "/nothing-here", NULL, NULL, 404, "not-found");
    expect_error("GET", "/assets/0000/app.js", NULL, NULL, 404, "not-found");   /* old build id */
    /* "/" is the web UI's page, public and never cached */
    support_resp_t ui = support_daemon_http(&g.d, "GET", "/", NULL, NULL);
    assert_int_equal(ui.status, 200);
    assert_string_equal(ui.ctype, " text/html; charset=utf-8");
    assert_non_null(strstr(ui.body.s, "<html lang=\"ja\">"));
    strbuf_free(&ui.body);
    expect_error("DELETE", "/v1/agencies", g.admin, NULL, 405, "method-not-allowed");
    expect_error("DELETE", "/v1/import", g.admin, NULL, 405, "method-not-allowed");
    expect_error("GET", "/v1/import", NULL, NULL, 401, "unauthorized");   /* its status: admin only */
}

static void test_bad_query_400(void **state)
{
    expect_error("GET", "/v1/feeds/kodomo/busy?from=yesterday", g.admin, NULL, 400, "bad-time");
    expect_error("GET", "/v1/feeds/kodomo/busy?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z",
                 g.admin, NULL, 400, "bad-time");
    expect_error("GET", "/v1/agencies/kodomo/busy?to=2026-13-45T00:00:00Z", g.admin, NULL, 400,
                 "bad-time");
}

/* GET /v1/busy?agencies=...: at most 200 ids (BUSY_MANY_MAX), and a
 * longer list is a 400 that says so in Japanese, before any is read. */
static char *busy_many_path(int n)
{
    strbuf_t b;
    strbuf_init(&b);
    strbuf_puts(&b, "/v1/busy?from=2026-12-01T00:00:00&to=2026-12-02T00:00:00&agencies=");
    for (int i = 0; i < n; i++)
        strbuf_puts(&b, i ? ",kodomo" : "kodomo");
    return strbuf_detach(&b);
}

static void test_busy_many_at_most_200(void **state)
{
    char *path = busy_many_path(200);
    json_t *j = http_json("GET", path, g.admin, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "agencies")), 200);
    json_decref(j);
    free(path);
    path = busy_many_path(201);
    support_api_error(&g.d, "GET", path, g.admin, NULL, 400, "too-many-agencies", "機関は最大200です");
    free(path);
    path = busy_many_path(1000);
    support_api_error(&g.d, "GET", path, g.admin, NULL, 400, "too-many-agencies", "機関は最大200です");
    free(path);
    expect_error("GET", "/v1/busy?from=2026-12-01T00:00:00", g.admin, NULL, 400, "bad-field");
}

static long long intervals_of(const char *feed)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/feeds/%s", feed);
    json_t *j = http_json("GET", path, g.admin, NULL, 200);
    long long n = json_integer_value(json_object_get(j, "intervals"));
    json_decref(j);
    return n;
}

static void test_reimport_idempotent_and_updates_in_place(void **state)
{
    long long before = intervals_of("kodomo");
    char *body = dump(g.doc);
    json_t *j = http_json("POST", "/v1/import", g.admin, body, 200);
    json_decref(j);
    free(body);
    j = http_json("GET", "/v1/agencies", g.admin, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "agencies")),
                     json_array_size(json_object_get(g.doc, "agencies")));
    json_decref(j);
    /* unchanged feeds keep their state and intervals */
    j = http_json("GET", "/v1/feeds/kodomo", g.admin, NULL, 200);
    assert_string_equal(json_string_value(json_object_get(j, "state")), "ok");
    json_decref(j);
    assert_int_equal(intervals_of("kodomo"), before);
    /* a changed name is updated in place */
    json_t *doc = json_deep_copy(g.doc);
    json_t *kodomo = NULL, *a;
    size_t i;
    json_array_foreach(json_object_get(doc, "agencies"), i, a)
        if (strcmp(json_string_value(json_object_get(a, "id")), "kodomo") == 0)
            kodomo = a;
    assert_non_null(kodomo);
    json_object_set_new(kodomo, "name", json_string("こども家庭センター(改称)"));
    body = dump(doc);
    json_decref(http_json("POST", "/v1/import", g.admin, body, 200));
    free(body);
    j = http_json("GET", "/v1/agencies/kodomo", g.admin, NULL, 200);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "こども家庭センター(改称)");
    json_decref(j);
    assert_int_equal(intervals_of("kodomo"), before);
    /* a bad re-import changes nothing: name change + broken field elsewhere */
    json_object_set_new(kodomo, "name", json_string("壊れた取り込み"));
    json_t *last = json_array_get(json_object_get(doc, "agencies"),
                                  json_array_size(json_object_get(doc, "agencies")) - 1);
    json_object_set_new(last, "need", json_string("two"));
    body = dump(doc);
    j = http_json("POST", "/v1/import", g.admin, body, 400);
    char want[64];
    snprintf(want, sizeof want, "agencies[%zu].need",
             json_array_size(json_object_get(doc, "agencies")) - 1);
    assert_non_null(strstr(json_string_value(json_object_get(j, "message")), want));
    json_decref(j);
    free(body);
    j = http_json("GET", "/v1/agencies/kodomo", g.admin, NULL, 200);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "こども家庭センター(改称)");
    json_decref(j);
    json_decref(doc);
    /* restore the original */
    body = dump(g.doc);
    json_decref(http_json("POST", "/v1/import", g.admin, body, 200));
    free(body);
}

static json_t *wait_feed_state(const char *id, const char *state, int timeout_ms)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/feeds/%s", id);
    for (int waited = 0;; waited += 50) {
        json_t *j = http_json("GET", path, g.admin, NULL, 200);
        if (strcmp(json_string_value(json_object_get(j, "state")), state) == 0)
            return j;
        if (waited >= timeout_ms)
            fail_msg("feed %s never became %s: %s", id, state, json_dumps(j, 0));
        json_decref(j);
        support_sleep_ms(50);
    }
}

static void test_failing_feed_keeps_intervals(void **state)
{
    ivset_t want, got;
    ivset_init(&want);
    ivset_init(&got);
    load_expected("ssw", &want);
    assert_int_equal(support_write_file(g.ssw_copy, "BEGIN:VCALENDAR\r\nBEGIN:VEV", (size_t)-1), 0);
    json_t *j = http_json("POST", "/v1/feeds/ssw/refresh?force=1", g.admin, NULL, 202);
    json_decref(j);
    j = wait_feed_state("ssw", "failing", 10000);
    assert_true(json_is_string(json_object_get(j, "last_error")));
    assert_true(strlen(json_string_value(json_object_get(j, "last_error"))) > 0);
    /* explained in plain Japanese (feed_explain.c) */
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "advice"), "code")),
                        "bad-ical");
    assert_non_null(strstr(json_string_value(json_object_get(json_object_get(j, "advice"), "text")),
                           "書き出し直す"));
    assert_int_equal(json_integer_value(json_object_get(j, "failures")), 1);
    assert_true(json_is_string(json_object_get(j, "last_success")));
    json_decref(j);
    /* the failure backoff (POLL_INTERVAL 600 -> about 150 s) holds for the
     * agency; staff wait only REFRESH_MIN_INTERVAL (60 s) */
    char *ssw = create_token("agency:ssw", NULL);
    long ra;
    assert_int_equal(post_with_retry_after("/v1/feeds/ssw/refresh", ssw, &ra), 429);
    if (ra <= 60)
        fail_msg("agency refresh of a failing feed: Retry-After %ld, wanted the backoff", ra);
    assert_int_equal(post_with_retry_after("/v1/feeds/ssw/refresh", g.admin, &ra), 429);
    assert_true(ra >= 1 && ra <= 60);
    free(ssw);
    fetch_busy("/v1/feeds/ssw/busy?" WIN, &got);
    assert_same_set(&got, &want, "ssw after a failed fetch");
    assert_true(log_contains("feed ssw: failed"));
    /* agency busy reports the failing calendar */
    j = http_json("GET", "/v1/agencies/ssw/busy", g.admin, NULL, 200);
    json_t *failing = json_object_get(j, "failing");
    assert_int_equal(json_array_size(failing), 1);
    json_decref(j);
    /* metrics count it */
    resp_t r = http("GET", "/metrics", g.admin, NULL);
    assert_non_null(strstr(r.body.s, "tsunagu_feeds{state=\"failing\"} 1\n"));
    assert_non_null(strstr(r.body.s, "tsunagu_agency_failing_feeds{agency=\"ssw\"} 1\n"));
    assert_non_null(strstr(r.body.s, "tsunagu_agencies_with_failing_feeds 1\n"));
    strbuf_free(&r.body);
    /* the failing feed in full: the API's filter and the client's --failing */
    j = http_json("GET", "/v1/feeds?state=failing", g.admin, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "feeds")), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "feeds"), 0), "id")), "ssw");
    json_decref(j);
    /* failing is not stale, and the fresh ones are not either (itest_stale
     * lists a really stale feed) */
    j = http_json("GET", "/v1/feeds?state=stale", g.admin, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "feeds")), 0);
    assert_true(json_is_null(json_object_get(j, "next_offset")));
    json_decref(j);
    support_run_t cli = support_daemon_cli(&g.d, NULL, g.admin, SUPPORT_FIXTURE_NOW,
                                           (const char *[]){"feeds", "--failing", NULL});
    assert_int_equal(cli.code, 0);
    assert_non_null(strstr(cli.out, "ssw"));
    assert_null(strstr(cli.out, "kodomo"));
    free(cli.out);
    /* repaired file: back to ok */
    char *text = read_file(CITY "/calendars/ssw.ics", NULL);
    assert_int_equal(support_write_file(g.ssw_copy, text, (size_t)-1), 0);
    free(text);
    json_decref(http_json("POST", "/v1/feeds/ssw/refresh?force=1", g.admin, NULL, 202));
    j = wait_feed_state("ssw", "ok", 10000);
    assert_int_equal(json_integer_value(json_object_get(j, "failures")), 0);
    json_decref(j);
    ivset_free(&want);
    ivset_free(&got);
}

static void test_metrics(void **state)
{
    resp_t r = http("GET", "/metrics", g.admin, NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.ctype, "text/plain"));
    assert_non_null(strstr(r.body.s, "tsunagu_feeds{state=\"ok\"} 22\n"));
    assert_non_null(strstr(r.body.s, "tsunagu_feeds{state=\"failing\"} 0\n"));
    assert_non_null(strstr(r.body.s, "tsunagu_feed_fetch_seconds_bucket{le=\"+Inf\"}"));
    /* aggregate only: no series per feed */
    assert_null(strstr(r.body.s, "feed=\"kodomo\""));
    assert_non_null(strstr(r.body.s, "tsunagu_feed_success_age_seconds_count 22\n"));
    assert_non_null(strstr(r.body.s, "tsunagu_agencies_with_failing_feeds 0\n"));
    /* stored intervals = sum over feeds */
    json_t *j = http_json("GET", "/v1/feeds", g.admin, NULL, 200);
    long long sum = 0;
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(j, "feeds"), i, f)
        sum += json_integer_value(json_object_get(f, "intervals"));
    json_decref(j);
    char want[64];
    snprintf(want, sizeof want, "tsunagu_busy_intervals %lld\n", sum);
    assert_non_null(strstr(r.body.s, want));
    strbuf_free(&r.body);
    /* GET /v1/feeds pages: 22 feeds as 10 + 10 + 2, in document order */
    json_t *all = http_json("GET", "/v1/feeds", g.admin, NULL, 200);
    assert_true(json_is_null(json_object_get(all, "next_offset")));
    json_t *p = http_json("GET", "/v1/feeds?limit=10&offset=10", g.admin, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(p, "feeds")), 10);
    assert_int_equal(json_integer_value(json_object_get(p, "next_offset")), 20);
    assert_true(json_equal(json_array_get(json_object_get(p, "feeds"), 0),
                           json_array_get(json_object_get(all, "feeds"), 10)));
    json_decref(p);
    p = http_json("GET", "/v1/feeds?limit=10&offset=20", g.admin, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(p, "feeds")), 2);
    assert_true(json_is_null(json_object_get(p, "next_offset")));
    json_decref(p);
    json_decref(all);
    expect_error("GET", "/v1/feeds?limit=-1", g.admin, NULL, 400, "bad-query");
    expect_error("GET", "/v1/feeds?state=broken", g.admin, NULL, 400, "bad-query");
    /* the group commit's counters rise with a refresh: one more result
     * written, in at least one more transaction; none dropped (no import
     * runs meanwhile) */
    long commits = metric_value("tsunagu_feed_result_commits_total");
    long written = metric_value("tsunagu_feed_results_written_total");
    long dropped = metric_value("tsunagu_feed_results_dropped_total");
    assert_true(commits > 0 && written >= commits && dropped >= 0);
    json_decref(http_json("POST", "/v1/feeds/kodomo/refresh?force=1", g.admin, NULL, 202));
    long now_written = written;
    for (int t = 0; t < 200 && now_written == written; t++) {
        support_sleep_ms(50);
        now_written = metric_value("tsunagu_feed_results_written_total");
    }
    long now_commits = metric_value("tsunagu_feed_result_commits_total");
    print_message("group commit: %ld -> %ld commits, %ld -> %ld results written\n",
                  commits, now_commits, written, now_written);
    assert_true(now_written > written);
    assert_true(now_commits > commits);
    assert_int_equal(metric_value("tsunagu_feed_results_dropped_total"), dropped);
}

/* Run bin/tsunagu with TSUNAGU_URL/TOKEN/NOW set; output (stdout+stderr)
 * is returned malloc'd, the exit status in *code. */
static char *run_cli(const char *const args[], int *code)
{
    support_run_t r = support_daemon_cli(&g.d, NULL, g.admin, SUPPORT_FIXTURE_NOW, args);
    *code = r.code;
    return r.out;
}

static void test_cli(void **state)
{
    int code;
    /* import resolves the relative calendar urls against the file's folder */
    char *out = run_cli((const char *[]){"import", CITY "/agencies.json", NULL}, &code);
    assert_int_equal(code, 0);
    assert_non_null(strstr(out, "取り込みました"));
    free(out);
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    char *want_url = xasprintf("%s/" CITY "/calendars/ssw.ics", cwd);
    json_t *j = wait_feed_state("kodomo", "ok", 5000);
    json_decref(j);
    json_t *f = http_json("GET", "/v1/feeds/ssw", g.admin, NULL, 200);
    assert_string_equal(json_string_value(json_object_get(f, "url")), want_url);
    json_decref(f);
    free(want_url);
    j = wait_feed_state("ssw", "ok", 10000);
    json_decref(j);

    /* busy: one row per day, the first interval of the day as HH:MM-HH:MM */
    ivset_t want;
    ivset_init(&want);
    load_expected("houkatsu-hokubu", &want);
    int64_t day_start = iso("2026-12-01T00:00:00+09:00"), day_end = iso("2026-12-02T00:00:00+09:00");
    char first[32] = "";
    for (size_t i = 0; i < want.n && !first[0]; i++)
        if (want.v[i].start >= day_start && want.v[i].start < day_end) {
            char a[TU_ISO_LEN], b[TU_ISO_LEN];
            tu_format_iso8601(want.v[i].start, tz_default(), a);
            tu_format_iso8601(want.v[i].end, tz_default(), b);
            snprintf(first, sizeof first, "%.5s-%.5s", a + 11, b + 11);
        }
    ivset_free(&want);
    assert_true(first[0]);
    out = run_cli((const char *[]){"busy", "houkatsu-hokubu", "--from", "2026-12-01", "--to",
                                   "2026-12-01", NULL}, &code);
    assert_int_equal(code, 0);
    assert_non_null(strstr(out, "2026-12-01(火)"));
    assert_non_null(strstr(out, first));
    assert_null(strstr(out, "2026-12-02("));      /* no row for the next day */
    free(out);

    /* tables and JSON */
    out = run_cli((const char *[]){"agencies", NULL}, &code);
    assert_int_equal(code, 0);
    assert_non_null(strstr(out, "基幹相談支援センター"));
    free(out);
    out = run_cli((const char *[]){"feed", "kodomo", "--json", NULL}, &code);
    assert_int_equal(code, 0);
    json_t *parsed = json_loads(out, 0, NULL);
    assert_non_null(parsed);
    assert_string_equal(json_string_value(json_object_get(parsed, "state")), "ok");
    json_decref(parsed);
    free(out);

    /* errors: Japanese first, exit 1; usage errors exit 2 */
    out = run_cli((const char *[]){"feed", "no-such-feed", NULL}, &code);
    assert_int_equal(code, 1);
    assert_non_null(strstr(out, "エラー: "));
    assert_non_null(strstr(out, "HTTP 404"));
    free(out);
    out = run_cli((const char *[]){"no-such-verb", NULL}, &code);
    assert_int_equal(code, 2);
    free(out);
    out = run_cli((const char *[]){"busy", NULL}, &code);
    assert_int_equal(code, 2);
    assert_non_null(strstr(out, "使い方"));
    free(out);
}

/* Every warning an operator sees at start-up is Japanese first, the
 * English in parentheses: this daemon runs without LINK_SECRET and
 * REPLY_ADDRESS, so both of those warnings are in its log. */
static void test_startup_warnings_japanese_first(void **state)
{
    char *text = support_read_log(g.d.log);
    assert_non_null(text);
    int warnings = 0;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        const char *w = strstr(line, " warn ");
        if (w) {
            warnings++;
            const char *paren = strstr(w, " (");
            const char *end = paren ? paren : w + strlen(w);
            bool japanese = false;
            for (const char *p = w; p < end; p++)
                if ((unsigned char)*p >= 0x80) japanese = true;
            if (!japanese)
                fail_msg("start-up warning not Japanese first: %s", line);
        }
        line = nl ? nl + 1 : NULL;
    }
    free(text);
    assert_true(warnings >= 2);
    assert_true(log_contains("LINK_SECRET が未設定です"));
    assert_true(log_contains("(LINK_SECRET is not set"));
    assert_true(log_contains("REPLY_ADDRESS が未設定です"));
    (void)state;
}

static void test_sighup_reloads_config(void **state)
{
    write_conf(ADMIN2);
    assert_int_equal(kill(g.d.pid, SIGHUP), 0);
    for (int i = 0; i < 100 && !log_contains("reload: configuration reloaded"); i++)
        support_sleep_ms(50);
    assert_true(log_contains("reload: configuration reloaded"));
    expect_error("GET", "/v1/agencies", ADMIN1, NULL, 401, "unauthorized");
    assert_int_equal(status_of("GET", "/v1/agencies", ADMIN2, NULL), 200);
    g.admin = ADMIN2;
    /* a broken config file keeps the running one */
    assert_int_equal(support_write_file(g.d.conf, "this is not a config line\n", (size_t)-1), 0);
    assert_int_equal(kill(g.d.pid, SIGHUP), 0);
    for (int i = 0; i < 100 && !log_contains("keeping the old config"); i++)
        support_sleep_ms(50);
    assert_true(log_contains("keeping the old config"));
    assert_int_equal(status_of("GET", "/v1/agencies", ADMIN2, NULL), 200);
    /* a misspelt key is refused the same way, naming the nearest key */
    assert_int_equal(support_write_file(g.d.conf, "ADMIN_TOKNE = " ADMIN1 "\n", (size_t)-1), 0);
    assert_int_equal(kill(g.d.pid, SIGHUP), 0);
    for (int i = 0; i < 100 && !log_contains("ADMIN_TOKEN ですか?"); i++)
        support_sleep_ms(50);
    assert_true(log_contains("ADMIN_TOKNE は不明な設定です。ADMIN_TOKEN ですか?"));
    assert_int_equal(status_of("GET", "/v1/agencies", ADMIN2, NULL), 200);
    assert_true(support_alive(g.d.pid));
}

/* Start a second daemon with args and env that must make it exit non-zero
 * within 10 s, logging `needle`; `what` names the cause in a failure. */
static void expect_refused_start(const char *const args[], const char *const env[],
                                 const char *log, const char *needle, const char *what)
{
    pid_t pid = spawn_daemon(args, env, log);
    assert_true(pid > 0);
    int st = -1;
    for (int i = 0; i < 200; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            break;
        st = -1;
        support_sleep_ms(50);
    }
    if (st == -1) {
        support_stop(pid, 2000);
        fail_msg("tsunagud started with %s", what);
    }
    char *text = support_read_log(log);
    if (!strstr(text, needle))
        fail_msg("log lacks \"%s\":\n%s", needle, text);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) != 0);
    free(text);
}

static void test_secrets_file_must_be_private(void **state)
{
    char *secrets = support_path(g.d.dir, "secrets");
    assert_int_equal(support_write_file(secrets, "ssw user:pass\n", (size_t)-1), 0);
    chmod(secrets, 0644);
    char *log = support_path(g.d.dir, "secrets.log");
    char *db = support_path(g.d.dir, "other.db");
    char senv[600], dbenv[600], listen[64];
    snprintf(senv, sizeof senv, "TSUNAGU_SECRETS=%s", secrets);
    snprintf(dbenv, sizeof dbenv, "TSUNAGU_DATABASE=%s", db);
    snprintf(listen, sizeof listen, "TSUNAGU_LISTEN=127.0.0.1:%d", support_free_port());
    char mailenv[600];
    snprintf(mailenv, sizeof mailenv, "TSUNAGU_MAIL_PATH=%s/mail2.mbox", g.d.dir);
    const char *env[] = {senv, dbenv, listen, mailenv, NULL};
    expect_refused_start((const char *[]){NULL}, env, log, "0600", "a world-readable secrets file");
    free(secrets); free(log); free(db);
}

/* A misspelt TSUNAGU_* variable stops the daemon at start: the operator
 * is told which one and the nearest key, instead of silently getting the
 * default (here: sending mail nowhere). */
static void test_unknown_env_key_refused_at_start(void **state)
{
    char *log = support_path(g.d.dir, "unknown-env.log");
    char listen[64];
    snprintf(listen, sizeof listen, "TSUNAGU_LISTEN=127.0.0.1:%d", support_free_port());
    const char *env[] = {listen, "TSUNAGU_SMTP_URl=smtp://127.0.0.1:1", NULL};
    expect_refused_start((const char *[]){NULL}, env, log, "SMTP_URl は不明な設定です。SMTP_URL ですか?",
                         "a misspelt TSUNAGU_SMTP_URl");
    free(log);
}

/* tsunagud exits (non-zero, the log naming the problem) instead of
 * starting with cfg (mode) and env; log_needle is expected in the log. */
static void expect_refused_config(const char *cfg, mode_t mode, const char *env_extra,
                                  const char *log_needle)
{
    char *conf = support_path(g.d.dir, "refused.conf");
    assert_int_equal(support_write_file(conf, cfg, (size_t)-1), 0);
    assert_int_equal(chmod(conf, mode), 0);
    char *log = support_path(g.d.dir, "refused.log");
    char *db = support_path(g.d.dir, "refused.db");
    char dbenv[600], listen[64], mailenv[600];
    snprintf(dbenv, sizeof dbenv, "TSUNAGU_DATABASE=%s", db);
    snprintf(listen, sizeof listen, "TSUNAGU_LISTEN=127.0.0.1:%d", support_free_port());
    snprintf(mailenv, sizeof mailenv, "TSUNAGU_MAIL_PATH=%s/mail-refused.mbox", g.d.dir);
    const char *env[] = {dbenv, listen, mailenv, "TSUNAGU_SECRETS=", env_extra, NULL};
    expect_refused_start((const char *[]){"-c", conf, NULL}, env, log, log_needle, cfg);
    free(conf); free(log); free(db);
}

/* Secrets hygiene (issue 8 item 12): a config file holding ADMIN_TOKEN or
 * LINK_SECRET readable by others, and secrets under 32 characters. */
static void test_config_secrets_refused(void **state)
{
    expect_refused_config("ADMIN_TOKEN = " ADMIN1 "\n", 0644, NULL, "0600");
    expect_refused_config("LINK_SECRET = 0123456789abcdef0123456789abcdef\n", 0640, NULL, "0600");
    expect_refused_config("ADMIN_TOKEN = short-admin-token\n", 0600, NULL, "32");
    expect_refused_config("POLL_INTERVAL = 600\n", 0644, "TSUNAGU_LINK_SECRET=short", "LINK_SECRET");
}

/* A second daemon against a real HTTP server (badhttp.py): credentials
 * from the secrets file, HTTP errors recorded on the feed, URL userinfo
 * redacted, and SIGTERM draining a fetch in flight before exiting 0. */
static void test_http_feeds_secrets_and_drain(void **state)
{
    int hport = support_free_port(), dport = support_free_port();
    char hp[16];
    snprintf(hp, sizeof hp, "%d", hport);
    char *hlog = support_path(g.d.dir, "badhttp.log");
    const char *hargv[] = {"/usr/bin/python3", "tests/support/badhttp.py", hp, CITY "/calendars", NULL};
    pid_t hpid = support_spawn(hargv, NULL, NULL, hlog);
    assert_true(hpid > 0);
    assert_true(support_wait_port(hport, 10000, hpid));

    char *secrets = support_path(g.d.dir, "secrets-ok");
    assert_int_equal(support_write_file(secrets, "# feed credentials\nwithcred agency:s3cret\n",
                                        (size_t)-1), 0);
    assert_int_equal(chmod(secrets, 0600), 0);
    char *dlog = support_path(g.d.dir, "tsunagud2.log");
    char *db = support_path(g.d.dir, "second.db");
    char senv[600], dbenv[600], listen[64], mailenv[600];
    snprintf(senv, sizeof senv, "TSUNAGU_SECRETS=%s", secrets);
    snprintf(dbenv, sizeof dbenv, "TSUNAGU_DATABASE=%s", db);
    snprintf(listen, sizeof listen, "TSUNAGU_LISTEN=127.0.0.1:%d", dport);
    snprintf(mailenv, sizeof mailenv, "TSUNAGU_MAIL_PATH=%s/mail3.mbox", g.d.dir);
    const char *env[] = {senv, dbenv, listen, mailenv, "TSUNAGU_ADMIN_TOKEN=second-admin-token-0123456789abcdef",
                         "TSUNAGU_NOW=2026-12-01T09:00:00+09:00", NULL};
    pid_t dpid = spawn_daemon((const char *[]){NULL}, env, dlog);
    assert_true(dpid > 0);
    assert_true(support_wait_port(dport, 30000, dpid));

    int saved_port = g.d.port;
    const char *saved_admin = g.admin;
    g.d.port = dport;
    g.admin = "second-admin-token-0123456789abcdef";
    char *doc = xasprintf(
        "{\"city\": \"テスト市\", \"timezone\": \"Asia/Tokyo\", \"districts\": [],"
        " \"agencies\": [{\"id\": \"x\", \"name\": \"機関X\", \"fields\": [\"高齢\"],"
        "  \"areas\": [], \"email\": \"x@example.org\", \"hours\": {\"mon-fri\": \"09:00-17:00\"},"
        "  \"travel_minutes\": 0, \"max_lead_cases\": 5, \"lead_cases\": 0,"
        "  \"support_meeting_member\": true, \"calendars\": ["
        "   {\"id\": \"withcred\", \"kind\": \"ics\", \"url\": \"http://127.0.0.1:%d/auth.ics\"},"
        "   {\"id\": \"nocred\", \"kind\": \"ics\", \"url\": \"http://127.0.0.1:%d/auth.ics\"},"
        "   {\"id\": \"inline\", \"kind\": \"ics\", \"url\": \"http://someone:pw@127.0.0.1:%d/404.ics\"}]}]}",
        hport, hport, hport);
    json_decref(http_json("POST", "/v1/import", g.admin, doc, 200));
    free(doc);
    json_t *j = wait_feed_state("withcred", "ok", 10000);
    assert_int_equal(json_integer_value(json_object_get(j, "intervals")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "http_status")), 200);
    json_decref(j);
    j = wait_feed_state("nocred", "failing", 10000);
    assert_int_equal(json_integer_value(json_object_get(j, "http_status")), 401);
    assert_int_equal(json_integer_value(json_object_get(j, "intervals")), 0);
    json_decref(j);
    j = wait_feed_state("inline", "failing", 10000);
    assert_int_equal(json_integer_value(json_object_get(j, "http_status")), 404);
    const char *url = json_string_value(json_object_get(j, "url"));
    assert_null(strstr(url, "pw"));
    assert_non_null(strstr(url, "***@127.0.0.1"));
    json_decref(j);
    resp_t ra = http("GET", "/v1/agencies/x", g.admin, NULL);
    assert_int_equal(ra.status, 200);
    assert_null(strstr(ra.body.s, "someone:pw"));
    assert_non_null(strstr(ra.body.s, "***@127.0.0.1"));
    strbuf_free(&ra.body);
    resp_t r = http("GET", "/v1/feeds", g.admin, NULL);
    assert_null(strstr(r.body.s, "s3cret"));
    strbuf_free(&r.body);

    /* a slow fetch in flight when SIGTERM arrives is finished, then exit 0 */
    doc = xasprintf(
        "{\"city\": \"テスト市\", \"timezone\": \"Asia/Tokyo\", \"districts\": [],"
        " \"agencies\": [{\"id\": \"x\", \"name\": \"機関X\", \"fields\": [\"高齢\"],"
        "  \"areas\": [], \"email\": \"x@example.org\", \"hours\": {\"mon-fri\": \"09:00-17:00\"},"
        "  \"travel_minutes\": 0, \"max_lead_cases\": 5, \"lead_cases\": 0,"
        "  \"support_meeting_member\": true, \"calendars\": ["
        "   {\"id\": \"slow\", \"kind\": \"ics\", \"url\": \"http://127.0.0.1:%d/slow.ics?s=1.5\"}]}]}",
        hport);
    json_decref(http_json("POST", "/v1/import", g.admin, doc, 200));
    free(doc);
    support_sleep_ms(300);
    assert_int_equal(kill(dpid, SIGTERM), 0);
    support_sleep_ms(200);
    /* while draining, new API work is refused, health still answers */
    expect_error("GET", "/v1/feeds", g.admin, NULL, 503, "shutting-down");
    int status = -1;
    for (int i = 0; i < 200; i++) {
        if (waitpid(dpid, &status, WNOHANG) == dpid)
            break;
        status = -1;
        support_sleep_ms(50);
    }
    if (status == -1) {
        support_stop(dpid, 2000);
        fail_msg("tsunagud did not exit after SIGTERM");
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    char *text = support_read_log(dlog);
    char *shut = strstr(text, "shutdown: SIGTERM; draining 1 task(s)");
    assert_non_null(shut);
    assert_non_null(strstr(shut, "feed slow: ok"));
    free(text);

    g.d.port = saved_port;
    g.admin = saved_admin;
    support_stop(hpid, 3000);
    free(hlog); free(secrets); free(dlog); free(db);
}

static void test_sigterm_exits_zero(void **state)
{
    assert_int_equal(kill(g.d.pid, SIGTERM), 0);
    int status = 0;
    for (int i = 0; i < 200; i++) {
        pid_t w = waitpid(g.d.pid, &status, WNOHANG);
        if (w == g.d.pid)
            break;
        support_sleep_ms(50);
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_true(log_contains("shutdown: SIGTERM"));
    assert_true(log_contains("tsunagud stopped"));
    g.d.pid = -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_startup_warnings_japanese_first),
        cmocka_unit_test(test_healthz_is_public),
        cmocka_unit_test(test_auth_missing_or_bad_token_401),
        cmocka_unit_test(test_bad_json_400),
        cmocka_unit_test(test_bad_import_names_field_and_imports_nothing),
        cmocka_unit_test(test_import_and_feeds_become_ok),
        cmocka_unit_test(test_feed_busy_matches_expected),
        cmocka_unit_test(test_agency_busy_need_rule),
        cmocka_unit_test(test_freebusy_ics),
        cmocka_unit_test(test_tokens_created_listed_hashed),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_refresh_rate_limited),
        cmocka_unit_test(test_token_revoke),
        cmocka_unit_test(test_not_found_and_method),
        cmocka_unit_test(test_bad_query_400),
        cmocka_unit_test(test_busy_many_at_most_200),
        cmocka_unit_test(test_reimport_idempotent_and_updates_in_place),
        cmocka_unit_test(test_failing_feed_keeps_intervals),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_sighup_reloads_config),
        cmocka_unit_test(test_unknown_env_key_refused_at_start),
        cmocka_unit_test(test_secrets_file_must_be_private),
        cmocka_unit_test(test_config_secrets_refused),
        cmocka_unit_test(test_http_feeds_secrets_and_drain),
        cmocka_unit_test(test_sigterm_exits_zero),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
