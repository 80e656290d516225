/* SPDX-License-Identifier: MIT */
/*
 * itest_slots.c - common slots and holds through a running tsunagud.
 *
 * One daemon for the group (temp database, free port,
 * TSUNAGU_NOW=2026-12-01T09:00:00+09:00, the fixture city imported with
 * absolute calendar paths, every feed fetched for real).  Tests run in
 * order:
 *   - every fixture query through POST /v1/slots gives expected/slots
 *     (instants and optional lists), with data age for every attendee;
 *   - the impossible query explains itself (blockers; no widened slot,
 *     because the first one lies past hoken's free/busy feed, whose
 *     declared range GET /v1/feeds shows as "covers");
 *   - bad queries get 400s naming the problem, auth 401/403;
 *   - holds: a hold on the first urgent slot removes it from the next
 *     answer, an overlapping hold is refused 409, delete restores the
 *     answer, bad holds 400, unknown 404;
 *   - a failing feed is flagged in the answer (never silently free) while
 *     the last good data is still used;
 *   - the CLI prints the table with Japanese dates, and --json; holds
 *     from the CLI (create, clash, list, delete).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support_daemon.h"
#include "support_proc.h"
#include "timeutil.h"
#include "util.h"

#define CITY "tests/data/yamanami"
#define ADMIN "itest-slots-admin-token-0123456789abcdef"

static struct {
    support_daemon_t d;
    char  *ssw_copy;
    char  *coord, *agency_tok;
} g;

/* ---- HTTP (tests/support/support_daemon.h) ------------------------------- */
#define status_of(m, p, tok, b) support_daemon_status(&g.d, m, p, tok, b)
#define http_json(m, p, tok, b, want) support_api_json(&g.d, m, p, tok, b, want)

/* A 4xx with the given error code and a message containing needle. */
#define expect_error(m, p, tok, b, st, code, needle) \
    support_api_error(&g.d, m, p, tok, b, st, code, needle)

static int64_t iso(const char *s)
{
    int64_t t = 0;
    if (!s || !tu_parse_iso8601(s, NULL, &t)) fail_msg("bad time %s", s ? s : "(null)");
    return t;
}

static char *query_text(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, CITY "/queries/%s.json", name);
    char *t = read_file(path, NULL);
    if (!t) fail_msg("cannot read %s", path);
    return t;
}

static json_t *slots_for(const char *name)
{
    char *q = query_text(name);
    json_t *j = http_json("POST", "/v1/slots", g.coord ? g.coord : ADMIN, q, 200);
    free(q);
    return j;
}

static bool same_optional(const json_t *a, const json_t *b)
{
    if (json_array_size(a) != json_array_size(b)) return false;
    for (size_t i = 0; i < json_array_size(a); i++) {
        bool found = false;
        for (size_t k = 0; k < json_array_size(b); k++)
            if (strcmp(json_string_value(json_array_get(a, i)), json_string_value(json_array_get(b, k))) == 0)
                found = true;
        if (!found) return false;
    }
    return true;
}

static void assert_expected_slots(const char *name, const json_t *got)
{
    char path[512];
    snprintf(path, sizeof path, CITY "/expected/slots/%s.json", name);
    json_t *want = json_load_file(path, 0, NULL);
    assert_non_null(want);
    if (json_array_size(got) != json_array_size(want))
        fail_msg("%s: %zu slots, expected %zu", name, json_array_size(got), json_array_size(want));
    for (size_t i = 0; i < json_array_size(want); i++) {
        const json_t *a = json_array_get(got, i), *b = json_array_get(want, i);
        const char *gs = json_string_value(json_object_get(a, "start"));
        if (iso(gs) != iso(json_string_value(json_object_get(b, "start"))) ||
            iso(json_string_value(json_object_get(a, "end"))) != iso(json_string_value(json_object_get(b, "end"))))
            fail_msg("%s slot %zu: got %s", name, i, gs);
        assert_non_null(strstr(gs, "+09:00"));                  /* city offset */
        if (!same_optional(json_object_get(a, "optional"), json_object_get(b, "optional")))
            fail_msg("%s slot %zu: optional differs", name, i);
    }
    json_decref(want);
}

/* ---- daemon --------------------------------------------------------------- */
static json_t *wait_feed(const char *id, const char *state, int timeout_ms)
{
    char path[256];
    snprintf(path, sizeof path, "/v1/feeds/%s", id);
    for (int waited = 0;; waited += 100) {
        json_t *j = http_json("GET", path, ADMIN, NULL, 200);
        const char *s = json_string_value(json_object_get(j, "state"));
        if ((s && strcmp(s, state) == 0) || waited >= timeout_ms) return j;
        json_decref(j);
        support_sleep_ms(100);
    }
}

static char *create_token(const char *role)
{
    return support_api_token(&g.d, ADMIN, role, "itest-slots", NULL);
}

static int group_setup(void **state)
{
    if (support_daemon_init(&g.d, "itest-slots") != 0) return -1;
    g.ssw_copy = support_path(g.d.dir, "ssw.ics");
    if (support_write_file(g.d.conf, "ADMIN_TOKEN = " ADMIN "\nPOLL_INTERVAL = 600\n", (size_t)-1))
        return -1;
    const char *env[] = {"TSUNAGU_NOW=" SUPPORT_FIXTURE_NOW, "TSUNAGU_SECRETS=", NULL};
    return support_daemon_start(&g.d, NULL, env, 10000);
}

static int group_teardown(void **state)
{
    support_daemon_free(&g.d);
    free(g.ssw_copy);
    free(g.coord); free(g.agency_tok);
    return 0;
}

/* ---- tests ---------------------------------------------------------------- */
static void test_slots_before_import_409(void **state)
{
    char *q = query_text("q1-8050");
    expect_error("POST", "/v1/slots", ADMIN, q, 409, "no-city", NULL);
    free(q);
}

static void test_import_city(void **state)
{
    support_api_import_city(&g.d, ADMIN, CITY, "ssw", g.ssw_copy);   /* ssw: a copy we can break */
    g.coord = create_token("coordinator");
    g.agency_tok = create_token("agency:kodomo");
}

static void test_fixture_queries_match_expected(void **state)
{
    const char *names[] = {"q1-8050", "q2-freebusy-feed", "q3-urgent", "q4-new-year", "q5-impossible"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        json_t *j = slots_for(names[i]);
        assert_expected_slots(names[i], json_object_get(j, "slots"));
        /* every attendee has fresh data: fetched at "now", age 0 */
        json_t *att = json_object_get(json_object_get(j, "diagnostics"), "attendees");
        assert_true(json_array_size(att) > 0);
        size_t k;
        json_t *a;
        json_array_foreach(att, k, a) {
            assert_string_equal(json_string_value(json_object_get(a, "status")), "ok");
            assert_int_equal(json_integer_value(json_object_get(a, "data_age_seconds")), 0);
        }
        assert_int_equal(json_array_size(json_object_get(json_object_get(j, "diagnostics"), "warnings")), 0);
        json_decref(j);
    }
}

static void test_impossible_query_explains(void **state)
{
    json_t *j = slots_for("q5-impossible");
    json_t *d = json_object_get(j, "diagnostics");
    assert_string_equal(json_string_value(json_object_get(d, "reason")), "all-blocked");
    json_t *b = json_object_get(d, "blocking");
    assert_true(json_array_size(b) >= 1);
    json_t *top = json_array_get(b, 0);
    assert_true(json_integer_value(json_object_get(top, "blocked_candidates")) > 0);
    assert_int_equal(json_integer_value(json_object_get(top, "candidates")),
                     json_integer_value(json_object_get(d, "candidates")));
    /* the widened search may not look past hoken's free/busy feed, which
     * covers 2026-11-30..2027-03-01 (its VFREEBUSY DTSTART/DTEND): the
     * first time all nine can meet is 1 March, which nobody knows yet */
    json_t *next = json_object_get(d, "next_available");
    assert_true(json_is_null(next));
    assert_non_null(strstr(json_string_value(json_object_get(d, "message")), "見つかりません"));
    assert_true(json_is_array(json_object_get(d, "drop_one")));
    assert_non_null(strstr(json_string_value(json_object_get(d, "message")), "最も支障"));
    json_decref(j);
}

/* A free/busy feed's declared range is kept ("covers") and bounds the
 * widened search: hoken's feed ends on 1 March 00:00, so q5's widened
 * slot (1 March 10:30 when time past the feed was taken as free) is gone. */
static void test_widened_search_stops_at_freebusy_coverage(void **state)
{
    json_t *f = http_json("GET", "/v1/feeds/hoken", ADMIN, NULL, 200);
    json_t *covers = json_object_get(f, "covers");
    assert_int_equal(json_array_size(covers), 2);
    assert_int_equal(iso(json_string_value(json_array_get(covers, 0))), iso("2026-11-30T00:00:00+09:00"));
    int64_t covered_to = iso(json_string_value(json_array_get(covers, 1)));
    assert_int_equal(covered_to, iso("2027-03-01T00:00:00+09:00"));
    json_decref(f);
    f = http_json("GET", "/v1/feeds/ssw", ADMIN, NULL, 200);        /* VEVENTs: no range */
    assert_true(json_is_null(json_object_get(f, "covers")));
    json_decref(f);
    /* q5 itself: nothing before 1 March, and 1 March is past what hoken published */
    json_t *j = slots_for("q5-impossible");
    json_t *next = json_object_get(json_object_get(j, "diagnostics"), "next_available");
    if (json_is_object(next))
        fail_msg("widened slot %s is past hoken's feed (ends 2027-03-01T00:00+09:00)",
                 json_string_value(json_object_get(next, "start")));
    json_decref(j);
}

static void test_bad_queries_400(void **state)
{
    const char *W = "\"from\":\"2026-12-01T00:00:00+09:00\",\"to\":\"2026-12-15T00:00:00+09:00\"";
    char body[1024];
    snprintf(body, sizeof body, "{\"required\":[\"kyodo\",\"ghost\"],\"duration_minutes\":60,%s}", W);
    expect_error("POST", "/v1/slots", ADMIN, body, 400, "unknown-agency", "ghost");
    snprintf(body, sizeof body, "{\"required\":[\"kyodo\"],\"duration_minutes\":60,"
             "\"from\":\"2026-12-15T00:00:00+09:00\",\"to\":\"2026-12-01T00:00:00+09:00\"}");
    expect_error("POST", "/v1/slots", ADMIN, body, 400, "bad-window", NULL);
    snprintf(body, sizeof body, "{\"required\":[\"kyodo\"],\"duration_minutes\":0,%s}", W);
    expect_error("POST", "/v1/slots", ADMIN, body, 400, "bad-duration", NULL);
    snprintf(body, sizeof body, "{\"required\":[\"kyodo\"],\"duration_minutes\":600,%s}", W);
    expect_error("POST", "/v1/slots", ADMIN, body, 400, "bad-duration", "kyodo");
    snprintf(body, sizeof body, "{\"required\":[\"kyodo\"],\"duration_minutes\":60,"
             "\"from\":\"2026-12-01T00:00:00+09:00\",\"to\":\"2027-07-01T00:00:00+09:00\"}");
    expect_error("POST", "/v1/slots", ADMIN, body, 400, "window-too-long", "26");
    strbuf_t big;
    strbuf_init(&big);
    strbuf_puts(&big, "{\"required\":[\"kyodo\"],\"optional\":[");
    for (int i = 0; i < 201; i++) strbuf_printf(&big, "%s\"a%d\"", i ? "," : "", i);
    strbuf_printf(&big, "],\"duration_minutes\":60,%s}", W);
    expect_error("POST", "/v1/slots", ADMIN, big.s, 400, "too-many-attendees", "200");
    strbuf_free(&big);
    expect_error("POST", "/v1/slots", ADMIN, "{\"required\":", 400, "bad-json", NULL);
    /* auth: none 401, agency token 403 */
    char *q = query_text("q3-urgent");
    expect_error("POST", "/v1/slots", NULL, q, 401, "unauthorized", NULL);
    expect_error("POST", "/v1/slots", g.agency_tok, q, 403, "forbidden", NULL);
    free(q);
}

static long long create_hold(const char *agencies, const char *start, const char *end, long want)
{
    char body[512];
    snprintf(body, sizeof body, "{\"agencies\":[%s],\"start\":\"%s\",\"end\":\"%s\",\"expiry\":86400}",
             agencies, start, end);
    json_t *j = http_json("POST", "/v1/holds", g.coord, body, want);
    long long id = want == 201 ? json_integer_value(json_object_get(j, "id"))
                               : json_integer_value(json_object_get(json_object_get(j, "conflict"), "id"));
    if (want == 409) assert_string_equal(json_string_value(json_object_get(j, "error")), "hold-conflict");
    json_decref(j);
    return id;
}

static void test_holds_count_as_busy(void **state)
{
    /* q3's only slot is 12/1 10:00-11:00; hold it for dv */
    long long id = create_hold("\"dv\"", "2026-12-01T10:00:00+09:00", "2026-12-01T11:00:00+09:00", 201);
    assert_true(id > 0);
    json_t *j = slots_for("q3-urgent");
    json_t *slots = json_object_get(j, "slots");
    for (size_t i = 0; i < json_array_size(slots); i++)
        assert_true(iso(json_string_value(json_object_get(json_array_get(slots, i), "start"))) !=
                    iso("2026-12-01T10:00:00+09:00"));
    json_decref(j);
    /* a second coordinator cannot hold an overlapping time for dv */
    long long clash = create_hold("\"kodomo\",\"dv\"", "2026-12-01T10:30:00+09:00",
                                  "2026-12-01T11:30:00+09:00", 409);
    assert_int_equal(clash, id);
    /* another agency at the same time is fine */
    long long other = create_hold("\"hogo\"", "2026-12-01T10:00:00+09:00", "2026-12-01T11:00:00+09:00", 201);
    j = http_json("GET", "/v1/holds", g.coord, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "holds")), 2);
    json_decref(j);
    char path[64];
    snprintf(path, sizeof path, "/v1/holds/%lld", id);
    j = http_json("GET", path, g.coord, NULL, 200);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "agencies"), 0)), "dv");
    json_decref(j);
    assert_int_equal(status_of("DELETE", path, g.coord, NULL), 204);
    assert_int_equal(status_of("DELETE", path, g.coord, NULL), 404);
    snprintf(path, sizeof path, "/v1/holds/%lld", other);
    assert_int_equal(status_of("DELETE", path, ADMIN, NULL), 204);
    /* released: the slot is offered again */
    j = slots_for("q3-urgent");
    assert_expected_slots("q3-urgent", json_object_get(j, "slots"));
    json_decref(j);
}

static void test_bad_holds(void **state)
{
    expect_error("POST", "/v1/holds", g.coord, "{\"agencies\":[],\"start\":\"2026-12-01T10:00:00+09:00\","
                 "\"end\":\"2026-12-01T11:00:00+09:00\",\"expiry\":60}", 400, "bad-field", "agencies");
    expect_error("POST", "/v1/holds", g.coord, "{\"agencies\":[\"ghost\"],\"start\":\"2026-12-01T10:00:00+09:00\","
                 "\"end\":\"2026-12-01T11:00:00+09:00\",\"expiry\":60}", 400, "unknown-agency", "ghost");
    expect_error("POST", "/v1/holds", g.coord, "{\"agencies\":[\"dv\"],\"start\":\"2026-12-01T10:00:00+09:00\","
                 "\"end\":\"2026-12-01T09:00:00+09:00\",\"expiry\":60}", 400, "bad-window", "end");
    expect_error("POST", "/v1/holds", g.coord, "{\"agencies\":[\"dv\"],\"start\":\"2026-12-01T10:00:00+09:00\","
                 "\"end\":\"2026-12-01T11:00:00+09:00\",\"expiry\":\"2026-11-30T00:00:00+09:00\"}",
                 400, "bad-expiry", "expiry");
    expect_error("POST", "/v1/holds", g.coord, "{\"agencies\":[\"dv\"],\"start\":\"tomorrow\","
                 "\"end\":\"2026-12-01T11:00:00+09:00\",\"expiry\":60}", 400, "bad-field", "start");
    expect_error("DELETE", "/v1/holds/not-a-number", g.coord, NULL, 400, "bad-id", NULL);
    expect_error("POST", "/v1/holds", g.agency_tok, "{}", 403, "forbidden", NULL);
}

static void test_failing_feed_is_flagged(void **state)
{
    assert_int_equal(support_write_file(g.ssw_copy, "BEGIN:VCALENDAR\r\nBEGIN:VEV", (size_t)-1), 0);
    json_decref(http_json("POST", "/v1/feeds/ssw/refresh?force=1", ADMIN, NULL, 202));
    json_decref(wait_feed("ssw", "failing", 10000));
    json_t *j = slots_for("q4-new-year");
    /* last good data still used: the answer is unchanged ... */
    assert_expected_slots("q4-new-year", json_object_get(j, "slots"));
    /* ... but ssw is flagged, with a warning naming it */
    json_t *d = json_object_get(j, "diagnostics");
    size_t i;
    json_t *a;
    bool seen = false;
    json_array_foreach(json_object_get(d, "attendees"), i, a)
        if (strcmp(json_string_value(json_object_get(a, "agency")), "ssw") == 0) {
            seen = true;
            assert_string_equal(json_string_value(json_object_get(a, "status")), "failing");
            assert_int_equal(json_array_size(json_object_get(a, "failing_calendars")), 1);
        }
    assert_true(seen);
    json_t *w = json_object_get(d, "warnings");
    assert_int_equal(json_array_size(w), 1);
    assert_non_null(strstr(json_string_value(json_array_get(w, 0)), "ssw"));
    json_decref(j);
    /* repair */
    char *text = read_file(CITY "/calendars/ssw.ics", NULL);
    assert_int_equal(support_write_file(g.ssw_copy, text, (size_t)-1), 0);
    free(text);
    json_decref(http_json("POST", "/v1/feeds/ssw/refresh?force=1", ADMIN, NULL, 202));
    json_decref(wait_feed("ssw", "ok", 10000));
}

/* Run bin/tsunagu ARGS as the coordinator; returns exit status, output in *out. */
static int run_cli(const char *const *args, char **out)
{
    support_run_t r = support_daemon_cli(&g.d, NULL, g.coord, NULL, args);
    *out = r.out;
    return r.code;
}

static void test_cli_table_and_json(void **state)
{
    char *out;
    const char *a1[] = {"slots", CITY "/queries/q1-8050.json", NULL};
    assert_int_equal(run_cli(a1, &out), 0);
    assert_non_null(strstr(out, "12月8日(火)"));
    assert_non_null(strstr(out, "12:30〜14:00"));
    assert_non_null(strstr(out, "csw, hoken"));
    assert_non_null(strstr(out, "12月18日(金)"));
    free(out);
    const char *a2[] = {"slots", CITY "/queries/q3-urgent.json", "--json", NULL};
    assert_int_equal(run_cli(a2, &out), 0);
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(j);
    assert_expected_slots("q3-urgent", json_object_get(j, "slots"));
    json_decref(j);
    free(out);
    const char *a3[] = {"slots", CITY "/queries/q5-impossible.json", NULL};
    assert_int_equal(run_cli(a3, &out), 0);
    assert_non_null(strstr(out, "候補となる時間帯はありません"));
    assert_non_null(strstr(out, "支障となっている必須機関"));
    free(out);
    char *bad = support_path(g.d.dir, "bad.json");
    support_write_file(bad, "{\"required\":[\"ghost\"],\"duration_minutes\":60,"
                       "\"from\":\"2026-12-01T00:00:00+09:00\",\"to\":\"2026-12-02T00:00:00+09:00\"}",
                       (size_t)-1);
    const char *a4[] = {"slots", bad, NULL};
    assert_int_equal(run_cli(a4, &out), 1);
    assert_non_null(strstr(out, "ghost"));
    assert_non_null(strstr(out, "HTTP 400"));
    free(out);
    free(bad);
    /* holds from the CLI: create, clash, list, delete */
    const char *h1[] = {"hold", "create", "dv,kodomo", "2026-12-02T10:00:00+09:00",
                        "2026-12-02T11:00:00+09:00", NULL};
    assert_int_equal(run_cli(h1, &out), 0);
    assert_non_null(strstr(out, "仮押さえしました"));
    long long id = 0;
    const char *p = strstr(out, "番号 ");
    assert_non_null(p);
    id = strtoll(p + strlen("番号 "), NULL, 10);
    assert_true(id > 0);
    free(out);
    const char *h2[] = {"hold", "create", "kodomo", "2026-12-02T10:30:00+09:00",
                        "2026-12-02T11:30:00+09:00", "--expiry", "3600", NULL};
    assert_int_equal(run_cli(h2, &out), 1);
    assert_non_null(strstr(out, "hold-conflict"));
    free(out);
    const char *h3[] = {"holds", NULL};
    assert_int_equal(run_cli(h3, &out), 0);
    assert_non_null(strstr(out, "12月2日(水) 10:00〜11:00"));
    assert_non_null(strstr(out, "dv, kodomo"));
    free(out);
    char idbuf[32];
    snprintf(idbuf, sizeof idbuf, "%lld", id);
    const char *h4[] = {"hold", "delete", idbuf, NULL};
    assert_int_equal(run_cli(h4, &out), 0);
    free(out);
    assert_int_equal(run_cli(h4, &out), 1);
    assert_non_null(strstr(out, "HTTP 404"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slots_before_import_409),
        cmocka_unit_test(test_import_city),
        cmocka_unit_test(test_fixture_queries_match_expected),
        cmocka_unit_test(test_impossible_query_explains),
        cmocka_unit_test(test_widened_search_stops_at_freebusy_coverage),
        cmocka_unit_test(test_bad_queries_400),
        cmocka_unit_test(test_holds_count_as_busy),
        cmocka_unit_test(test_bad_holds),
        cmocka_unit_test(test_failing_feed_is_flagged),
        cmocka_unit_test(test_cli_table_and_json),
    };
    return cmocka_run_group_tests_name("itest_slots", tests, group_setup, group_teardown);
}
