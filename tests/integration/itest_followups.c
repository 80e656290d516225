/* SPDX-License-Identifier: MIT */
/*
 * itest_followups.c - follow-up fixes checked through a running tsunagud
 * (real daemon, temp database, free port, TSUNAGU_NOW = the fixtures' now,
 * the fixture city imported from a copy of its calendars in a temp folder
 * so a test can change a feed's data).
 *
 * In order:
 *   - override: a reason of only white space (ASCII or 全角空白) is 400
 *     reason-required; a padded reason is stored trimmed;
 *   - only a case's newest proposal may be reviewed: an older pending one
 *     is 409 superseded, naming the newer decision;
 *   - POST /v1/slots uses the engine's per-agency cache (a repeated query
 *     hits it) yet answers from the new data once a feed's calendar
 *     changes, and sees a new hold at once;
 *   - with FILE_FEEDS_DIR set (to the temp folder of calendars), an import
 *     naming a local file outside it (absolute path, "..", file:// with
 *     %2e%2e) is 400 naming the calendar, and changes nothing; narrowed
 *     by SIGHUP, a feed imported earlier fails its polls instead of being
 *     read, and works again once the folder is widened;
 *   - the WAL is checkpointed by the daemon's timer (CHECKPOINT_INTERVAL=1)
 *     and truncated at shutdown even while another connection is open
 *     (last: it stops the daemon).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support_daemon.h"
#include "support_proc.h"
#include "timeutil.h"
#include "util.h"

#define CITY "tests/data/yamanami"
#define ADMIN "itest-followups-admin-token-0123456789abcdef"

static struct {
    support_daemon_t d;       /* dir, db, conf, log, port, pid */
    char  *feeds;
    char  *coord, *secr;
} g;

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* ---- daemon --------------------------------------------------------------- */

/* The fixture city with every calendar url pointing into dir. */
static json_t *make_doc(const char *dir)
{
    json_t *doc = json_load_file(CITY "/agencies.json", 0, NULL);
    assert_non_null(doc);
    size_t i, k;
    json_t *a, *c;
    json_array_foreach(json_object_get(doc, "agencies"), i, a)
        json_array_foreach(json_object_get(a, "calendars"), k, c) {
            const char *url = json_string_value(json_object_get(c, "url"));
            const char *base = strrchr(url, '/');
            char *abs = xasprintf("%s/%s", dir, base ? base + 1 : url);
            json_object_set_new(c, "url", json_string(abs));
            free(abs);
        }
    return doc;
}

/* Copy the fixture calendars into g.feeds. */
static int copy_calendars(void)
{
    json_t *doc = json_load_file(CITY "/agencies.json", 0, NULL);
    if (!doc)
        return -1;
    size_t i, k;
    json_t *a, *c;
    int rc = 0;
    json_array_foreach(json_object_get(doc, "agencies"), i, a)
        json_array_foreach(json_object_get(a, "calendars"), k, c) {
            const char *url = json_string_value(json_object_get(c, "url"));
            const char *base = strrchr(url, '/');
            char *src = xasprintf(CITY "/%s", url);
            char *dst = support_path(g.feeds, base ? base + 1 : url);
            size_t len;
            char *text = read_file(src, &len);
            if (!text || support_write_file(dst, text, len))
                rc = -1;
            free(text);
            free(src);
            free(dst);
        }
    json_decref(doc);
    return rc;
}

static int group_setup(void **state)
{
    if (support_daemon_init(&g.d, "itest-followups") != 0)
        return -1;
    g.feeds = support_path(g.d.dir, "feeds");
    char *mk = xasprintf("mkdir -p '%s'", g.feeds);
    int rc = system(mk);
    free(mk);
    if (rc != 0 || copy_calendars() != 0)
        return -1;
    char *conf = xasprintf("ADMIN_TOKEN = " ADMIN "\nPOLL_INTERVAL = 600\nLOG_LEVEL = debug\n"
                           "CHECKPOINT_INTERVAL = 1\nFILE_FEEDS_DIR = %s\n", g.feeds);
    rc = support_write_file(g.d.conf, conf, (size_t)-1);
    free(conf);
    if (rc)
        return -1;
    char listen[64], dbenv[600];
    snprintf(listen, sizeof listen, "TSUNAGU_LISTEN=127.0.0.1:%d", g.d.port);
    snprintf(dbenv, sizeof dbenv, "TSUNAGU_DATABASE=%s", g.d.db);
    const char *env[] = { listen, dbenv, "TSUNAGU_NOW=2026-12-01T09:00:00+09:00",
                          "TSUNAGU_SECRETS=", NULL };
    unsetenv("TSUNAGU_ADMIN_TOKEN");
    unsetenv("TSUNAGU_RULES");
    /* TSUNAGU_ITEST_DAEMON: another build of the daemon (e.g. ASan) */
    const char *bin = getenv("TSUNAGU_ITEST_DAEMON");
    const char *argv[] = { bin && *bin ? bin : "bin/tsunagud", "-c", g.d.conf, NULL };
    g.d.pid = support_spawn(argv, env, NULL, g.d.log);
    if (g.d.pid < 0 || !support_wait_port(g.d.port, 10000, g.d.pid)) {
        char *l = support_read_log(g.d.log);
        fprintf(stderr, "tsunagud did not start:\n%s\n", l);
        free(l);
        return -1;
    }
    json_t *doc = make_doc(g.feeds);
    char *body = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    support_resp_t r = support_daemon_http(&g.d, "POST", "/v1/import", ADMIN, body);
    free(body);
    rc = r.status == 200 && support_api_feeds_ok(&g.d, ADMIN, 30000) ? 0 : -1;
    if (rc)
        fprintf(stderr, "import: HTTP %ld %s\n", r.status, r.body.s ? r.body.s : "");
    strbuf_free(&r.body);
    if (rc)
        return -1;
    g.coord = support_api_token(&g.d, ADMIN, "coordinator", "itest-followups", NULL);
    g.secr = support_api_token(&g.d, ADMIN, "secretariat", "itest-followups", NULL);
    return 0;
}

static int group_teardown(void **state)
{
    support_daemon_free(&g.d);
    free(g.feeds);
    free(g.coord); free(g.secr);
    return 0;
}

/* ---- decisions -------------------------------------------------------------- */

static long propose(const char *case_id)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/cases/%s/proposals", case_id);
    json_t *j = support_api_json(&g.d, "POST", path, g.coord, "{}", 201);
    long id = (long)json_integer_value(json_object_get(j, "decision"));
    json_decref(j);
    assert_true(id > 0);
    return id;
}

/* An agency other than the proposed lead that may lead the case. */
static char *other_lead(long decision)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/decisions/%ld", decision);
    json_t *d = support_api_json(&g.d, "GET", path, g.secr, NULL, 200);
    json_t *res = json_object_get(d, "result"), *cd;
    const char *lead = json_string_value(json_object_get(res, "lead"));
    char *other = NULL;
    size_t i;
    json_array_foreach(json_object_get(res, "candidates"), i, cd)
        if (!other && json_is_true(json_object_get(cd, "eligible_lead")) &&
            strcmp(json_string_value(json_object_get(cd, "agency")), lead))
            other = xstrdup(json_string_value(json_object_get(cd, "agency")));
    json_decref(d);
    assert_non_null(other);
    return other;
}

static void test_override_reason_blank_is_refused(void **state)
{
    char *text = read_file(CITY "/cases/Y-01.json", NULL);
    assert_non_null(text);
    json_decref(support_api_json(&g.d, "POST", "/v1/cases", g.coord, text, 201));
    free(text);
    long id = propose("Y-01");
    char *lead = other_lead(id);
    char path[64];
    snprintf(path, sizeof path, "/v1/decisions/%ld/override", id);
    const char *blanks[] = { " ", "\\t \\n", "\\u3000", " \\u3000\\u3000 ", "\\u00a0\\u2003" };
    for (size_t i = 0; i < sizeof blanks / sizeof *blanks; i++) {
        char *body = xasprintf("{\"lead\":\"%s\",\"reason\":\"%s\"}", lead, blanks[i]);
        support_api_error(&g.d, "POST", path, g.secr, body, 400, "reason-required", "理由");
        free(body);
    }
    /* nothing was recorded: the decision is still pending */
    char get[64];
    snprintf(get, sizeof get, "/v1/decisions/%ld", id);
    json_t *d = support_api_json(&g.d, "GET", get, g.secr, NULL, 200);
    assert_string_equal(json_string_value(json_object_get(d, "status")), "pending");
    json_decref(d);
    /* a real reason padded with 全角空白 is kept, trimmed */
    char *body = xasprintf("{\"lead\":\"%s\",\"reason\":\"\\u3000 本人の希望 \\u3000\"}", lead);
    d = support_api_json(&g.d, "POST", path, g.secr, body, 200);
    free(body);
    assert_string_equal(json_string_value(json_object_get(d, "status")), "overridden");
    assert_string_equal(json_string_value(json_object_get(json_object_get(d, "review"), "reason")),
                        "本人の希望");
    assert_string_equal(json_string_value(json_object_get(json_object_get(d, "review"), "lead")), lead);
    json_decref(d);
    free(lead);
}

static void test_older_proposal_is_superseded(void **state)
{
    char *text = read_file(CITY "/cases/Y-03.json", NULL);
    assert_non_null(text);
    json_decref(support_api_json(&g.d, "POST", "/v1/cases", g.coord, text, 201));
    free(text);
    long older = propose("Y-03"), newer = propose("Y-03");
    assert_true(newer > older);
    char path[64], want[32];
    snprintf(want, sizeof want, "決定 %ld", newer);
    snprintf(path, sizeof path, "/v1/decisions/%ld/approve", older);
    support_api_error(&g.d, "POST", path, g.secr, "{}", 409, "superseded", "新しい提案");
    support_api_error(&g.d, "POST", path, g.secr, "{}", 409, "superseded", want);
    char *lead = other_lead(older);
    char *body = xasprintf("{\"lead\":\"%s\",\"reason\":\"担当者の継続性\"}", lead);
    snprintf(path, sizeof path, "/v1/decisions/%ld/override", older);
    support_api_error(&g.d, "POST", path, g.secr, body, 409, "superseded", "新しい提案");
    free(body);
    free(lead);
    /* the older one stays pending (append-only: nothing was written) */
    snprintf(path, sizeof path, "/v1/decisions/%ld", older);
    json_t *d = support_api_json(&g.d, "GET", path, g.secr, NULL, 200);
    assert_string_equal(json_string_value(json_object_get(d, "status")), "pending");
    json_decref(d);
    /* the newest is reviewable */
    snprintf(path, sizeof path, "/v1/decisions/%ld/approve", newer);
    d = support_api_json(&g.d, "POST", path, g.secr, "{}", 200);
    assert_string_equal(json_string_value(json_object_get(d, "status")), "approved");
    json_decref(d);
    /* and still refused afterwards: the newer one is the case's decision */
    snprintf(path, sizeof path, "/v1/decisions/%ld/approve", older);
    support_api_error(&g.d, "POST", path, g.secr, "{}", 409, "superseded", NULL);
}

/* ---- slots: the per-agency cache never serves stale data -------------------- */

#define QUERY CITY "/queries/q1-8050.json"

static json_t *slots_now(void)
{
    char *q = read_file(QUERY, NULL);
    assert_non_null(q);
    json_t *j = support_api_json(&g.d, "POST", "/v1/slots", g.coord, q, 200);
    free(q);
    assert_true(json_array_size(json_object_get(j, "slots")) > 0);
    return j;
}

static int64_t slot_time(const json_t *slot, const char *key)
{
    int64_t t;
    assert_true(tu_parse_iso8601(json_string_value(json_object_get(slot, key)), NULL, &t));
    return t;
}

/* true when some slot of j overlaps [start, end). */
static bool any_slot_overlaps(const json_t *j, int64_t start, int64_t end)
{
    size_t i;
    json_t *sl;
    json_array_foreach(json_object_get(j, "slots"), i, sl)
        if (slot_time(sl, "start") < end && slot_time(sl, "end") > start)
            return true;
    return false;
}

static int64_t cache_hits_logged(void)
{
    char *l = support_read_log(g.d.log);
    long long hits = -1;
    for (const char *p = l; (p = strstr(p, "slots: cache ")); p++)
        sscanf(p, "slots: cache %lld hits", &hits);
    free(l);
    return hits;
}

/* Append a busy VEVENT [start, end) to the copy of kyodo's calendar. */
static void add_busy_to_kyodo(int64_t start, int64_t end)
{
    char *path = support_path(g.feeds, "kyodo.ics");
    char *text = read_file(path, NULL);
    assert_non_null(text);
    char *tail = strstr(text, "END:VCALENDAR");
    assert_non_null(tail);
    *tail = '\0';
    char s[32], e[32];
    time_t ts = (time_t)start, te = (time_t)end;
    struct tm tm;
    strftime(s, sizeof s, "%Y%m%dT%H%M%SZ", gmtime_r(&ts, &tm));
    strftime(e, sizeof e, "%Y%m%dT%H%M%SZ", gmtime_r(&te, &tm));
    char *out = xasprintf("%sBEGIN:VEVENT\r\nUID:followups-%s@tsunagu.test\r\nDTSTAMP:20261120T000000Z\r\n"
                          "DTSTART:%s\r\nDTEND:%s\r\nSUMMARY:急な面談\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                          text, s, s, e);
    assert_int_equal(support_write_file(path, out, (size_t)-1), 0);
    free(out);
    free(text);
    free(path);
}

/* Refresh kyodo and wait until its stored busy time covers [start, end). */
static bool kyodo_busy_at(int64_t start, int64_t end, int timeout_ms)
{
    json_decref(support_api_json(&g.d, "POST", "/v1/feeds/kyodo/refresh?force=1", g.coord, NULL, 202));
    char from[TU_ISO_LEN], to[TU_ISO_LEN], path[256];
    tu_format_iso8601(start, NULL, from);
    tu_format_iso8601(end, NULL, to);
    char *ef = curl_easy_escape(NULL, from, 0), *et = curl_easy_escape(NULL, to, 0);
    snprintf(path, sizeof path, "/v1/feeds/kyodo/busy?from=%s&to=%s", ef, et);
    curl_free(ef);
    curl_free(et);
    for (int waited = 0; waited < timeout_ms; waited += 100) {
        json_t *j = support_api_json(&g.d, "GET", path, g.coord, NULL, 200);
        size_t i;
        json_t *iv;
        bool covered = false;
        json_array_foreach(json_object_get(j, "busy"), i, iv) {
            int64_t a, b;
            if (tu_parse_iso8601(json_string_value(json_array_get(iv, 0)), NULL, &a) &&
                tu_parse_iso8601(json_string_value(json_array_get(iv, 1)), NULL, &b) &&
                a <= start && b >= end)
                covered = true;
        }
        json_decref(j);
        if (covered)
            return true;
        sleep_ms(100);
    }
    return false;
}

static void test_slots_cache_follows_feed_data(void **state)
{
    json_t *first = slots_now();
    json_t *again = slots_now();
    /* the same data gives the same answer, from the cache */
    assert_true(json_equal(json_object_get(first, "slots"), json_object_get(again, "slots")));
    assert_true(cache_hits_logged() > 0);
    json_t *top = json_array_get(json_object_get(first, "slots"), 0);
    int64_t start = slot_time(top, "start"), end = slot_time(top, "end");
    assert_true(any_slot_overlaps(first, start, end));
    /* kyodo (required) becomes busy at the best slot */
    add_busy_to_kyodo(start, end);
    assert_true(kyodo_busy_at(start, end, 10000));
    json_t *after = slots_now();
    assert_false(any_slot_overlaps(after, start, end));
    assert_false(json_equal(json_object_get(first, "slots"), json_object_get(after, "slots")));
    json_decref(first);
    json_decref(again);
    json_decref(after);
}

static void test_slots_see_new_hold(void **state)
{
    json_t *before = slots_now();
    json_t *top = json_array_get(json_object_get(before, "slots"), 0);
    int64_t start = slot_time(top, "start"), end = slot_time(top, "end");
    char *body = xasprintf("{\"agencies\":[\"hikikomori\"],\"start\":\"%s\",\"end\":\"%s\",\"expiry\":3600}",
                           json_string_value(json_object_get(top, "start")),
                           json_string_value(json_object_get(top, "end")));
    json_decref(support_api_json(&g.d, "POST", "/v1/holds", g.coord, body, 201));
    free(body);
    json_t *after = slots_now();
    assert_false(any_slot_overlaps(after, start, end));
    json_decref(before);
    json_decref(after);
}

/* ---- FILE_FEEDS_DIR ----------------------------------------------------------- */

/* Import the fixture city with kyodo's calendar url replaced by url. */
static void expect_import_refused(const char *url)
{
    json_t *doc = make_doc(g.feeds);
    json_t *cal = json_array_get(json_object_get(json_array_get(json_object_get(doc, "agencies"), 0),
                                                 "calendars"), 0);
    assert_string_equal(json_string_value(json_object_get(cal, "id")), "kyodo");
    json_object_set_new(cal, "url", json_string(url));
    char *body = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    support_api_error(&g.d, "POST", "/v1/import", ADMIN, body, 400, "bad-import",
                      "カレンダー「kyodo」");
    support_api_error(&g.d, "POST", "/v1/import", ADMIN, body, 400, "bad-import",
                      "FILE_FEEDS_DIR");
    free(body);
}

static void test_file_feeds_outside_dir_refused(void **state)
{
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    char *fixture = xasprintf("%s/" CITY "/calendars/kyodo.ics", cwd);
    char *escape = xasprintf("%s/../tsunagud.conf", g.feeds);
    char *as_url = xasprintf("file://%s/%%2e%%2e/tsunagu.db", g.feeds);
    expect_import_refused(fixture);               /* a real calendar, but outside */
    expect_import_refused("/etc/passwd");
    expect_import_refused(escape);
    expect_import_refused(as_url);
    free(fixture);
    free(escape);
    free(as_url);
    /* nothing changed: kyodo still reads its file inside the folder */
    json_t *j = support_api_json(&g.d, "GET", "/v1/feeds/kyodo", g.coord, NULL, 200);
    const char *url = json_string_value(json_object_get(j, "url"));
    assert_non_null(url);
    assert_true(strncmp(url, g.feeds, strlen(g.feeds)) == 0);
    assert_string_equal(json_string_value(json_object_get(j, "state")), "ok");
    json_decref(j);
    /* and http(s) feeds are not affected by the setting */
    json_t *doc = make_doc(g.feeds);
    json_t *cal = json_array_get(json_object_get(json_array_get(json_object_get(doc, "agencies"), 0),
                                                 "calendars"), 0);
    json_object_set_new(cal, "url", json_string("http://127.0.0.1:9/kyodo.ics"));
    char *body = json_dumps(doc, JSON_COMPACT);
    json_decref(support_api_json(&g.d, "POST", "/v1/import", ADMIN, body, 200));
    free(body);
    /* back to the file inside, as before */
    body = json_dumps(doc = make_doc(g.feeds), JSON_COMPACT);
    json_decref(doc);
    json_decref(support_api_json(&g.d, "POST", "/v1/import", ADMIN, body, 200));
    free(body);
}

/* Rewrite the config with FILE_FEEDS_DIR = dir and SIGHUP the daemon. */
static void reload_with_file_feeds_dir(const char *dir)
{
    char *conf = xasprintf("ADMIN_TOKEN = " ADMIN "\nPOLL_INTERVAL = 600\nLOG_LEVEL = debug\n"
                           "CHECKPOINT_INTERVAL = 1\nFILE_FEEDS_DIR = %s\n", dir);
    assert_int_equal(support_write_file(g.d.conf, conf, (size_t)-1), 0);
    free(conf);
    assert_int_equal(kill(g.d.pid, SIGHUP), 0);
}

static const char *feed_state(json_t **keep)
{
    *keep = support_api_json(&g.d, "GET", "/v1/feeds/kyodo", g.coord, NULL, 200);
    return json_string_value(json_object_get(*keep, "state"));
}

static void test_file_feeds_dir_applies_to_polls(void **state)
{
    /* narrowed to a subfolder: kyodo's file, imported before, is not read */
    char *sub = support_path(g.feeds, "only-here");
    char *mk = xasprintf("mkdir -p '%s'", sub);
    assert_int_equal(system(mk), 0);
    free(mk);
    reload_with_file_feeds_dir(sub);
    bool failing = false;
    json_t *j = NULL;
    for (int waited = 0; waited < 10000 && !failing; waited += 200) {
        json_decref(support_api_json(&g.d, "POST", "/v1/feeds/kyodo/refresh?force=1", g.coord, NULL, 202));
        sleep_ms(200);
        failing = !strcmp(feed_state(&j), "failing");
        if (failing)
            assert_non_null(strstr(json_string_value(json_object_get(j, "last_error")),
                                   "FILE_FEEDS_DIR"));
        json_decref(j);
    }
    assert_true(failing);
    /* back to the whole folder: polls work again */
    reload_with_file_feeds_dir(g.feeds);
    bool ok = false;
    for (int waited = 0; waited < 10000 && !ok; waited += 200) {
        json_decref(support_api_json(&g.d, "POST", "/v1/feeds/kyodo/refresh?force=1", g.coord, NULL, 202));
        sleep_ms(200);
        ok = !strcmp(feed_state(&j), "ok");
        json_decref(j);
    }
    assert_true(ok);
    free(sub);
}

/* ---- WAL checkpoints (last: stops the daemon) ------------------------------ */

static bool log_has(const char *needle, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 100) {
        char *l = support_read_log(g.d.log);
        bool has = strstr(l, needle) != NULL;
        free(l);
        if (has)
            return true;
        sleep_ms(100);
    }
    return false;
}

static void test_wal_checkpointed_by_timer(void **state)
{
    /* the import and the feeds wrote plenty; the timer copies it back */
    assert_true(log_has("store: WAL checkpoint, ", 5000));
}

static void test_shutdown_truncates_wal(void **state)
{
    sqlite3 *other;        /* keeps the file open: SQLite alone would leave the WAL */
    assert_int_equal(sqlite3_open(g.d.db, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "SELECT count(*) FROM feeds", NULL, NULL, NULL), SQLITE_OK);
    char *wal = xasprintf("%s-wal", g.d.db);
    /* a write after the last timer tick */
    json_decref(support_api_json(&g.d, "POST", "/v1/tokens", ADMIN,
                                 "{\"role\": \"coordinator\", \"label\": \"wal\"}", 201));
    struct stat sb;
    assert_int_equal(stat(wal, &sb), 0);
    assert_true(sb.st_size > 0);
    int status = support_stop(g.d.pid, 10000);
    g.d.pid = -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char *l = support_read_log(g.d.log);
        size_t n = strlen(l);
        fprintf(stderr, "%s\n", n > 3000 ? l + n - 3000 : l);
        fail_msg("tsunagud exit status %d", status);
    }
    assert_int_equal(stat(wal, &sb), 0);
    assert_int_equal(sb.st_size, 0);
    assert_true(log_has("WAL checkpointed and truncated", 0));
    sqlite3_close(other);
    free(wal);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_override_reason_blank_is_refused),
        cmocka_unit_test(test_older_proposal_is_superseded),
        cmocka_unit_test(test_slots_cache_follows_feed_data),
        cmocka_unit_test(test_slots_see_new_hold),
        cmocka_unit_test(test_file_feeds_outside_dir_refused),
        cmocka_unit_test(test_file_feeds_dir_applies_to_polls),
        cmocka_unit_test(test_wal_checkpointed_by_timer),
        cmocka_unit_test(test_shutdown_truncates_wal),
    };
    return cmocka_run_group_tests_name("itest_followups", tests, group_setup, group_teardown);
}
