/* SPDX-License-Identifier: MIT */
/*
 * itest_cases.c - cases, proposals and the secretariat's review through a
 * running tsunagud (real daemon, temp database, free port, fixture city
 * imported with every feed fetched, TSUNAGU_NOW = the fixtures' now, and
 * RULES pointing at a copy of default.rules that the test edits).
 *
 * In order:
 *   - the active rule set is the file's SHA-256;
 *   - case create/read/update: validation errors name the field, unknown
 *     features come back as warnings, duplicates 409;
 *   - all 14 fixture cases proposed through the API give expected/lead
 *     (422 with the error code and a next step for the error cases);
 *   - approve moves lead_cases and sets the case's lead; approving twice
 *     is 409; coordinators may not review;
 *   - a re-import without an agency that an open case names warns, and
 *     so does one that changes a calendar's url (its busy data is dropped);
 *   - override without a reason is 400; with one it records the reason;
 *     consent-excluded and unknown leads are refused;
 *   - agency tokens read a case only as lead/supporter with consent;
 *   - after editing the rules and SIGHUP, old decisions explain themselves
 *     as they were (old hash, same text) while new proposals follow the
 *     new rules; an invalid rules file is refused and the rules stay;
 *   - closing releases the lead's count; decisions are append-only in the
 *     database itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sha256.h"
#include "support_daemon.h"
#include "support_proc.h"
#include "util.h"

#define CITY "tests/data/yamanami"
#define ADMIN "itest-cases-admin-token-0123456789abcdef"

static struct {
    support_daemon_t d;
    char  *rules;
    char  *coord, *secr, *chuo, *hiki, *kodomo, *jiritsu;
    long   decision[15];          /* by case number, 0 when none */
    bool   valgrind;
} g;

/* ---- HTTP (tests/support/support_daemon.h) ------------------------------- */
#define http_json(m, p, tok, b, want) support_api_json(&g.d, m, p, tok, b, want)
#define expect_error(m, p, tok, b, st, code, needle) \
    support_api_error(&g.d, m, p, tok, b, st, code, needle)

static char *case_text(int n)
{
    char path[256];
    snprintf(path, sizeof path, CITY "/cases/Y-%02d.json", n);
    char *t = read_file(path, NULL);
    if (!t)
        fail_msg("cannot read %s", path);
    return t;
}

static int lead_cases_of(const char *agency)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/agencies/%s", agency);
    json_t *j = http_json("GET", path, ADMIN, NULL, 200);
    int n = (int)json_integer_value(json_object_get(j, "lead_cases"));
    json_decref(j);
    return n;
}

static char *decision_path(int n, const char *suffix)
{
    assert_true(g.decision[n] > 0);
    return xasprintf("/v1/decisions/%ld%s", g.decision[n], suffix);
}

/* ---- daemon --------------------------------------------------------------- */
static char *create_token(const char *role)
{
    return support_api_token(&g.d, ADMIN, role, "itest-cases", NULL);
}

static int group_setup(void **state)
{
    if (support_daemon_init(&g.d, "itest-cases") != 0)
        return -1;
    g.rules = support_path(g.d.dir, "policy.rules");
    char *text = read_file("rules/default.rules", NULL);
    if (!text || support_write_file(g.rules, text, (size_t)-1))
        return -1;
    free(text);
    char *conf = xasprintf("ADMIN_TOKEN = " ADMIN "\nPOLL_INTERVAL = 600\nRULES = %s\n", g.rules);
    int rc = support_write_file(g.d.conf, conf, (size_t)-1);
    free(conf);
    if (rc)
        return -1;
    const char *env[] = { "TSUNAGU_NOW=" SUPPORT_FIXTURE_NOW, "TSUNAGU_SECRETS=", NULL };
    unsetenv("TSUNAGU_RULES");
    /* TSUNAGU_ITEST_VALGRIND=1 runs the daemon under memcheck; teardown
     * then fails on definite leaks or memory errors in the handlers. */
    g.valgrind = getenv("TSUNAGU_ITEST_VALGRIND") != NULL;
    const char *vg = "valgrind -q --leak-check=full --errors-for-leak-kinds=definite "
                     "--error-exitcode=99";
    return support_daemon_start(&g.d, g.valgrind ? vg : NULL, env, g.valgrind ? 60000 : 10000);
}

static int group_teardown(void **state)
{
    int status = support_daemon_stop(&g.d, g.valgrind ? 30000 : 5000);
    if (g.valgrind && WIFEXITED(status) && WEXITSTATUS(status) == 99) {
        char *l = support_read_log(g.d.log);
        fprintf(stderr, "valgrind reported errors:\n%s\n", l);
        free(l);
        return -1;
    }
    support_daemon_free(&g.d);
    free(g.rules);
    free(g.coord); free(g.secr); free(g.chuo); free(g.hiki); free(g.kodomo); free(g.jiritsu);
    return 0;
}

/* ---- tests ---------------------------------------------------------------- */

static void test_import_city_and_tokens(void **state)
{
    support_api_import_city(&g.d, ADMIN, CITY, NULL, NULL);
    g.coord = create_token("coordinator");
    g.secr = create_token("secretariat");
    g.chuo = create_token("agency:houkatsu-chuo");
    g.hiki = create_token("agency:hikikomori");
    g.kodomo = create_token("agency:kodomo");
    g.jiritsu = create_token("agency:jiritsu");
}

static char *rules_hash_now(void)
{
    json_t *j = http_json("GET", "/v1/rules", g.coord, NULL, 200);
    char *h = xstrdup(json_string_value(json_object_get(j, "hash")));
    json_decref(j);
    return h;
}

static void test_rules_identified_by_content_hash(void **state)
{
    size_t len;
    char *text = read_file(g.rules, &len), want[65];
    sha256_hex(text, len, want);
    json_t *j = http_json("GET", "/v1/rules", g.coord, NULL, 200);
    assert_string_equal(json_string_value(json_object_get(j, "hash")), want);
    assert_string_equal(json_string_value(json_object_get(j, "policy")), "やまなみ市既定方針 v1");
    assert_int_equal(json_array_size(json_object_get(j, "rules")), 15);
    json_decref(j);
    free(text);
    expect_error("GET", "/v1/rules", g.kodomo, NULL, 403, "forbidden", NULL);
}

static void test_case_validation(void **state)
{
    /* structural errors name the field */
    expect_error("POST", "/v1/cases", g.coord,
                 "{\"id\":\"X-1\",\"district\":\"中央\",\"meeting_type\":\"支援会議\","
                 "\"members\":[{\"relation\":\"本人\",\"age\":40,\"consent\":true},"
                 "{\"relation\":\"従兄\",\"age\":41,\"consent\":true}]}",
                 400, "bad-case", "members[1].relation");
    expect_error("POST", "/v1/cases", g.coord,
                 "{\"id\":\"X-1\",\"district\":\"月面\",\"meeting_type\":\"支援会議\","
                 "\"members\":[{\"relation\":\"本人\",\"age\":40,\"consent\":true}]}",
                 400, "bad-case", "district");
    expect_error("POST", "/v1/cases", g.coord, "{\"id\":\"X-1\"", 400, "bad-json", NULL);
    /* an unknown feature is kept, with a warning listing the known ones */
    json_t *j = http_json("POST", "/v1/cases", g.coord,
                          "{\"id\":\"X-2\",\"district\":\"中央\",\"meeting_type\":\"支援会議\","
                          "\"members\":[{\"relation\":\"本人\",\"age\":80,\"features\":[\"認知賞\"],"
                          "\"consent\":true}]}", 201);
    json_t *w = json_object_get(j, "warnings");
    assert_int_equal(json_array_size(w), 1);
    assert_non_null(strstr(json_string_value(json_array_get(w, 0)), "認知賞"));
    assert_non_null(strstr(json_string_value(json_array_get(w, 0)), "認知症"));
    assert_string_equal(json_string_value(json_array_get(json_object_get(json_array_get(
        json_object_get(json_object_get(j, "case"), "members"), 0), "features"), 0)), "認知賞");
    json_decref(j);
    /* duplicates, PUT fixes the typo, id mismatch, staff only */
    expect_error("POST", "/v1/cases", g.coord,
                 "{\"id\":\"X-2\",\"district\":\"中央\",\"meeting_type\":\"支援会議\","
                 "\"members\":[{\"relation\":\"本人\",\"age\":80,\"consent\":true}]}",
                 409, "exists", NULL);
    j = http_json("PUT", "/v1/cases/X-2", g.coord,
                  "{\"district\":\"中央\",\"meeting_type\":\"支援会議\","
                  "\"members\":[{\"relation\":\"本人\",\"age\":80,\"features\":[\"認知症\"],"
                  "\"consent\":true}]}", 200);
    assert_int_equal(json_array_size(json_object_get(j, "warnings")), 0);
    json_decref(j);
    expect_error("PUT", "/v1/cases/X-2", g.coord, "{\"id\":\"X-3\",\"district\":\"中央\"}",
                 400, "bad-case", "id");
    expect_error("POST", "/v1/cases", g.kodomo, "{}", 403, "forbidden", NULL);
    expect_error("GET", "/v1/cases/NOPE", g.coord, NULL, 404, "not-found", NULL);
}

static bool same_sorted(const json_t *a, const json_t *b)
{
    if (json_array_size(a) != json_array_size(b))
        return false;
    for (size_t i = 0; i < json_array_size(a); i++) {
        bool found = false;
        for (size_t k = 0; k < json_array_size(b); k++)
            found |= !strcmp(json_string_value(json_array_get(a, i)),
                             json_string_value(json_array_get(b, k)));
        if (!found)
            return false;
    }
    return true;
}

static void test_fixture_cases_through_api(void **state)
{
    for (int n = 1; n <= 14; n++) {
        char *text = case_text(n), path[128], want_path[128];
        json_decref(http_json("POST", "/v1/cases", g.coord, text, 201));
        free(text);
        snprintf(want_path, sizeof want_path, CITY "/expected/lead/Y-%02d.json", n);
        json_t *want = json_load_file(want_path, 0, NULL);
        assert_non_null(want);
        snprintf(path, sizeof path, "/v1/cases/Y-%02d/proposals", n);
        const char *werr = json_string_value(json_object_get(want, "error"));
        json_t *got = http_json("POST", path, g.coord, "{}", werr ? 422 : 201);
        if (werr) {
            assert_string_equal(json_string_value(json_object_get(got, "error")), werr);
            assert_true(strlen(json_string_value(json_object_get(got, "message"))) > 20);
        } else {
            if (strcmp(json_string_value(json_object_get(got, "lead")),
                       json_string_value(json_object_get(want, "lead"))))
                fail_msg("Y-%02d: lead %s", n, json_string_value(json_object_get(got, "lead")));
            assert_int_equal(json_is_true(json_object_get(got, "forced")),
                             json_is_true(json_object_get(want, "forced")));
            assert_true(same_sorted(json_object_get(got, "supports"), json_object_get(want, "supports")));
            assert_true(same_sorted(json_object_get(got, "rules"), json_object_get(want, "rules")));
            assert_string_equal(json_string_value(json_object_get(got, "status")), "pending");
            assert_non_null(json_object_get(json_object_get(got, "explanation"), "tie_break"));
            assert_true(strlen(json_string_value(json_object_get(got, "text"))) > 100);
            g.decision[n] = (long)json_integer_value(json_object_get(got, "decision"));
            assert_true(g.decision[n] > 0);
        }
        json_decref(got);
        json_decref(want);
    }
    expect_error("POST", "/v1/cases/Y-11/proposals", g.coord, "{}", 422, "consent-required", "支援会議");
    json_t *list = http_json("GET", "/v1/decisions?status=pending", g.secr, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(list, "decisions")), 11);
    json_decref(list);
    expect_error("GET", "/v1/decisions?status=maybe", g.secr, NULL, 400, "bad-status", NULL);
}

static void test_approve(void **state)
{
    int before = lead_cases_of("houkatsu-chuo");
    char *p = decision_path(1, "/approve");
    expect_error("POST", p, g.coord, "{}", 403, "forbidden", NULL);
    json_t *j = http_json("POST", p, g.secr, "{}", 200);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "approved");
    json_t *rv = json_object_get(j, "review");
    assert_string_equal(json_string_value(json_object_get(rv, "lead")), "houkatsu-chuo");
    assert_non_null(strstr(json_string_value(json_object_get(rv, "actor")), "secretariat"));
    json_decref(j);
    assert_int_equal(lead_cases_of("houkatsu-chuo"), before + 1);
    j = http_json("GET", "/v1/cases/Y-01", g.coord, NULL, 200);
    assert_string_equal(json_string_value(json_object_get(j, "lead")), "houkatsu-chuo");
    assert_int_equal(json_array_size(json_object_get(j, "supports")), 2);
    json_decref(j);
    expect_error("POST", p, g.secr, "{}", 409, "already-reviewed", NULL);
    free(p);
    j = http_json("GET", "/v1/decisions?status=approved", g.secr, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "decisions")), 1);
    json_decref(j);
    expect_error("POST", "/v1/decisions/999999/approve", g.secr, "{}", 404, "not-found", NULL);
    expect_error("POST", "/v1/decisions/abc/approve", g.secr, "{}", 400, "bad-id", NULL);
}

/* A re-import that drops an agency an open case and a coming meeting
 * still name answers 200 with a warning naming the agency, the case and
 * the meeting (the row may have been dropped by mistake); rescheduling
 * that meeting says the attendee is not in the registry (it said "busy",
 * with no suggestion); the full document again warns about nothing. */
static void test_import_warns_about_removed_agency_in_use(void **state)
{
    json_t *q = http_json("POST", "/v1/slots", ADMIN,
                          "{\"required\":[\"houkatsu-chuo\",\"jiritsu\"],\"optional\":[],"
                          "\"duration_minutes\":60,\"from\":\"2026-12-09T00:00:00+09:00\","
                          "\"to\":\"2026-12-24T00:00:00+09:00\",\"granularity_minutes\":30,"
                          "\"notice_days\":0,\"limit\":2}", 200);
    json_t *slots = json_object_get(q, "slots");
    assert_int_equal(json_array_size(slots), 2);
    char *book = xasprintf("{\"case\":\"Y-01\",\"type\":\"支援会議\",\"start\":\"%s\",\"end\":\"%s\","
                           "\"attendees\":[\"houkatsu-chuo\",\"jiritsu\"],\"location\":\"本庁舎\"}",
                           json_string_value(json_object_get(json_array_get(slots, 0), "start")),
                           json_string_value(json_object_get(json_array_get(slots, 0), "end")));
    json_t *m = http_json("POST", "/v1/meetings", ADMIN, book, 201);
    json_int_t mid = json_integer_value(json_object_get(m, "id"));
    assert_true(mid > 0);
    json_decref(m);
    free(book);
    json_t *doc = support_city_doc(CITY, NULL, NULL);
    json_t *full = json_deep_copy(doc);
    json_t *agencies = json_object_get(doc, "agencies"), *a;
    size_t i;
    json_array_foreach(agencies, i, a)
        if (!strcmp(json_string_value(json_object_get(a, "id")), "jiritsu")) {
            json_array_remove(agencies, i);
            break;
        }
    /* and kodomo's calendar now points elsewhere (a mistyped url, say) */
    json_array_foreach(agencies, i, a)
        if (!strcmp(json_string_value(json_object_get(a, "id")), "kodomo")) {
            json_t *cal = json_array_get(json_object_get(a, "calendars"), 0);
            char *url = xstrdup(json_string_value(json_object_get(cal, "url")));
            char *base = strstr(url, "kodomo.ics");
            assert_non_null(base);
            *base = '\0';
            char *moved = xasprintf("%shikikomori.ics", url);
            json_object_set_new(cal, "url", json_string(moved));
            free(moved);
            free(url);
        }
    json_t *j = support_api_post_doc(&g.d, "/v1/import", ADMIN, doc, 200);
    assert_int_equal(json_integer_value(json_object_get(j, "url_changed_count")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "url_changed"), 0)), "kodomo");
    const char *uw = json_string_value(json_array_get(json_object_get(j, "warnings"), 1));
    if (!uw || !strstr(uw, "URL か種類が変わったカレンダーが 1 件あります (kodomo)"))
        fail_msg("url warning: %s", uw ? uw : "(none)");
    json_t *gone = json_object_get(j, "removed_in_use");
    assert_int_equal(json_array_size(gone), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(gone, 0), "agency")), "jiritsu");
    json_t *cases = json_object_get(json_array_get(gone, 0), "cases");
    assert_string_equal(json_string_value(json_array_get(cases, 0)), "Y-01");
    assert_int_equal(json_integer_value(json_array_get(json_object_get(json_array_get(gone, 0), "meetings"), 0)),
                     mid);
    const char *w = json_string_value(json_array_get(json_object_get(j, "warnings"), 0));
    if (!w || !strstr(w, "機関 jiritsu は名簿にありません") || !strstr(w, "Y-01") || !strstr(w, "今後の会議"))
        fail_msg("warning: %s", w ? w : "(none)");
    json_decref(j);
    char *path = xasprintf("/v1/meetings/%lld/reschedule", (long long)mid);
    char *move = xasprintf("{\"start\":\"%s\",\"end\":\"%s\"}",
                           json_string_value(json_object_get(json_array_get(slots, 1), "start")),
                           json_string_value(json_object_get(json_array_get(slots, 1), "end")));
    expect_error("POST", path, ADMIN, move, 409, "unknown-agency", "jiritsu が機関の名簿にありません");
    free(path);
    free(move);
    json_decref(q);
    j = support_api_post_doc(&g.d, "/v1/import", ADMIN, full, 200);
    assert_int_equal(json_array_size(json_object_get(j, "removed_in_use")), 0);
    assert_int_equal(json_array_size(json_object_get(j, "warnings")), 1);     /* kodomo's url, back */
    assert_int_equal(json_integer_value(json_object_get(j, "url_changed_count")), 1);
    json_decref(j);
    j = support_api_post_doc(&g.d, "/v1/import", ADMIN, full, 200);     /* the same again: nothing */
    assert_int_equal(json_array_size(json_object_get(j, "warnings")), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "url_changed_count")), 0);
    json_decref(j);
    assert_true(support_api_feeds_ok(&g.d, ADMIN, 30000));
    json_decref(doc);
    json_decref(full);
    path = xasprintf("/v1/meetings/%lld/cancel", (long long)mid);
    json_decref(http_json("POST", path, ADMIN, "{}", 200));
    free(path);
}

static void test_override_needs_reason(void **state)
{
    char *p = decision_path(8, "/override");
    expect_error("POST", p, g.secr, "{\"lead\":\"kikan-shogai\"}", 400, "reason-required", "理由");
    expect_error("POST", p, g.secr, "{\"lead\":\"kikan-shogai\",\"reason\":\"\"}", 400,
                 "reason-required", NULL);
    expect_error("POST", p, g.secr, "{\"lead\":\"ghost\",\"reason\":\"x\"}", 400, "bad-lead", NULL);
    int before = lead_cases_of("kikan-shogai");
    json_t *j = http_json("POST", p, g.secr,
                          "{\"lead\":\"kikan-shogai\",\"reason\":\"本人が以前から基幹相談支援センターに通っているため\"}",
                          200);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "overridden");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "review"), "reason")),
                        "本人が以前から基幹相談支援センターに通っているため");
    /* the proposal itself is unchanged: the record keeps what was proposed */
    assert_string_equal(json_string_value(json_object_get(j, "proposed_lead")), "sodan-hikari");
    json_decref(j);
    assert_int_equal(lead_cases_of("kikan-shogai"), before + 1);
    free(p);
    j = http_json("GET", "/v1/decisions?status=overridden", g.secr, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "decisions")), 1);
    json_decref(j);
    /* 本人 excluded hikikomori in Y-06: it can never be made lead */
    p = decision_path(6, "/override");
    expect_error("POST", p, g.secr, "{\"lead\":\"hikikomori\",\"reason\":\"専門性\"}", 422,
                 "consent-excluded", "同意");
    free(p);
    /* Y-02 is a 支援会議: hellowork is not a member and cannot lead it */
    p = decision_path(2, "/override");
    expect_error("POST", p, g.secr, "{\"lead\":\"hellowork\",\"reason\":\"就労が中心\"}", 422,
                 "not-member", "構成員");
    free(p);
}

static void test_agency_token_access(void **state)
{
    /* Y-01: lead houkatsu-chuo, supporters hikikomori and jiritsu */
    json_decref(http_json("GET", "/v1/cases/Y-01", g.chuo, NULL, 200));
    json_decref(http_json("GET", "/v1/cases/Y-01", g.hiki, NULL, 200));
    expect_error("GET", "/v1/cases/Y-01", g.kodomo, NULL, 403, "forbidden", NULL);
    /* pending proposals give no access: Y-02 proposes kodomo but is unreviewed */
    expect_error("GET", "/v1/cases/Y-02", g.kodomo, NULL, 403, "forbidden", NULL);
    expect_error("GET", "/v1/cases/NOPE", g.kodomo, NULL, 403, "forbidden", NULL);
    expect_error("GET", "/v1/decisions", g.chuo, NULL, 403, "forbidden", NULL);
    expect_error("GET", "/v1/cases", g.chuo, NULL, 403, "forbidden", NULL);
    /* 本人 later withdraws consent for hikikomori: the supporter loses access */
    char *text = case_text(1);
    json_t *doc = json_loads(text, 0, NULL);
    free(text);
    json_t *self = json_array_get(json_object_get(doc, "members"), 0);
    json_object_set_new(self, "consent_excludes", json_pack("[s]", "hikikomori"));
    char *body = json_dumps(doc, JSON_COMPACT);
    json_decref(http_json("PUT", "/v1/cases/Y-01", g.coord, body, 200));
    free(body);
    expect_error("GET", "/v1/cases/Y-01", g.hiki, NULL, 403, "forbidden", NULL);
    json_decref(http_json("GET", "/v1/cases/Y-01", g.jiritsu, NULL, 200));
    /* withdrawing consent entirely closes it for the lead too */
    json_object_set_new(self, "consent", json_false());
    body = json_dumps(doc, JSON_COMPACT);
    json_decref(http_json("PUT", "/v1/cases/Y-01", g.coord, body, 200));
    free(body);
    expect_error("GET", "/v1/cases/Y-01", g.chuo, NULL, 403, "forbidden", NULL);
    json_object_set_new(self, "consent", json_true());
    json_object_del(self, "consent_excludes");
    body = json_dumps(doc, JSON_COMPACT);
    json_decref(http_json("PUT", "/v1/cases/Y-01", g.coord, body, 200));
    free(body);
    json_decref(doc);
    json_decref(http_json("GET", "/v1/cases/Y-01", g.chuo, NULL, 200));
}

static void replace_in_rules(const char *from, const char *to)
{
    char *text = read_file(g.rules, NULL);
    char *at = text ? strstr(text, from) : NULL;
    assert_non_null(at);
    strbuf_t b;
    strbuf_init(&b);
    strbuf_add(&b, text, (size_t)(at - text));
    strbuf_puts(&b, to);
    strbuf_puts(&b, at + strlen(from));
    assert_int_equal(support_write_file(g.rules, b.s, b.len), 0);
    strbuf_free(&b);
    free(text);
}

static bool wait_rules_hash_change(const char *old, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        char *h = rules_hash_now();
        bool changed = strcmp(h, old) != 0;
        free(h);
        if (changed)
            return true;
        support_sleep_ms(50);
    }
    return false;
}

static void test_reexplain_after_rules_change(void **state)
{
    char *p = decision_path(5, "");
    json_t *before = http_json("GET", p, g.secr, NULL, 200);
    const char *old_hash = json_string_value(json_object_get(before, "rules_hash"));
    assert_true(json_is_true(json_object_get(before, "rules_current")));
    /* the municipality lowers 精神保健: new proposals change, old ones do not */
    replace_in_rules("score 精神保健 +35", "score 精神保健 +20");
    assert_int_equal(kill(g.d.pid, SIGHUP), 0);
    assert_true(wait_rules_hash_change(old_hash, 10000));
    json_t *after = http_json("GET", p, g.secr, NULL, 200);
    assert_string_equal(json_string_value(json_object_get(after, "rules_hash")), old_hash);
    assert_false(json_is_true(json_object_get(after, "rules_current")));
    assert_true(json_equal(json_object_get(before, "result"), json_object_get(after, "result")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(after, "result"), "lead")), "hoken");
    assert_non_null(strstr(json_string_value(json_object_get(json_object_get(after, "result"), "text")),
                           "精神保健 +35点"));
    assert_string_equal(json_string_value(json_object_get(after, "policy")), "やまなみ市既定方針 v1");
    json_t *snap = json_object_get(after, "inputs");
    assert_string_equal(json_string_value(json_object_get(json_object_get(snap, "case"), "id")), "Y-05");
    assert_non_null(json_object_get(json_object_get(snap, "city"), "agencies"));
    /* and it is reproducible: the stored rule text on the stored inputs */
    char *rp = decision_path(5, "?recompute=1");
    json_t *again = http_json("GET", rp, g.secr, NULL, 200);
    assert_true(json_is_true(json_object_get(again, "reproducible")));
    json_decref(again);
    free(rp);
    json_t *fresh = http_json("POST", "/v1/cases/Y-05/proposals", g.coord, "{}", 201);
    assert_string_equal(json_string_value(json_object_get(fresh, "lead")), "ssw");
    assert_string_not_equal(json_string_value(json_object_get(fresh, "rules_hash")), old_hash);
    json_decref(fresh);
    json_decref(before);
    json_decref(after);
    free(p);
}

static void test_invalid_rules_keep_previous(void **state)
{
    char *hash = rules_hash_now();
    replace_in_rules("score 高齢 +40", "score 高令 +40");
    assert_int_equal(kill(g.d.pid, SIGHUP), 0);
    bool logged = false;
    for (int waited = 0; waited < 10000 && !logged; waited += 50) {
        char *log = support_read_log(g.d.log);
        logged = strstr(log, "policy.rules:") && strstr(log, "未知の分野「高令」");
        free(log);
        if (!logged)
            support_sleep_ms(50);
    }
    assert_true(logged);
    char *now = rules_hash_now();
    assert_string_equal(now, hash);
    free(now);
    free(hash);
    assert_true(support_alive(g.d.pid));
    json_t *j = http_json("POST", "/v1/cases/Y-14/proposals", g.coord, "{}", 201);
    assert_string_equal(json_string_value(json_object_get(j, "lead")), "houkatsu-tobu");
    json_decref(j);
}

static void test_close_releases_lead(void **state)
{
    int before = lead_cases_of("houkatsu-chuo");
    json_t *j = http_json("POST", "/v1/cases/Y-01/close", g.coord, "{}", 200);
    assert_string_equal(json_string_value(json_object_get(j, "released")), "houkatsu-chuo");
    json_decref(j);
    assert_int_equal(lead_cases_of("houkatsu-chuo"), before - 1);
    expect_error("POST", "/v1/cases/Y-01/close", g.coord, "{}", 409, "case-closed", NULL);
    expect_error("POST", "/v1/cases/Y-01/proposals", g.coord, "{}", 409, "case-closed", NULL);
    expect_error("PUT", "/v1/cases/Y-01", g.coord, "{}", 409, "case-closed", NULL);
    /* a case without an approved lead releases nothing */
    j = http_json("POST", "/v1/cases/Y-12/close", g.coord, "{}", 200);
    assert_true(json_is_null(json_object_get(j, "released")));
    json_decref(j);
}

static void test_decisions_append_only_in_db(void **state)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(g.d.db, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *err = NULL;
    assert_int_not_equal(sqlite3_exec(db, "UPDATE decisions SET proposed_lead = 'x'", NULL, NULL, &err),
                         SQLITE_OK);
    assert_non_null(strstr(err, "append-only"));
    sqlite3_free(err);
    err = NULL;
    assert_int_not_equal(sqlite3_exec(db, "DELETE FROM decision_reviews", NULL, NULL, &err), SQLITE_OK);
    sqlite3_free(err);
    sqlite3_close(db);
}

/* Run bin/tsunagu with argv; returns the exit code, output in *out. */
static int run_cli(const char *const *argv, char **out)
{
    char *log = support_path(g.d.dir, "cli.log");
    support_run_t r = support_run(argv, NULL, log);
    free(log);
    *out = r.out;
    return r.code;
}

static void test_cli_offline(void **state)
{
    char *out;
    const char *check_ok[] = { "bin/tsunagu", "rules", "check", "rules/default.rules", NULL };
    assert_int_equal(run_cli(check_ok, &out), 0);
    assert_non_null(strstr(out, "やまなみ市既定方針 v1"));
    assert_non_null(strstr(out, "child-abuse"));
    free(out);
    /* g.rules now holds the broken edit from the SIGHUP test */
    const char *check_bad[] = { "bin/tsunagu", "rules", "check", g.rules, NULL };
    assert_int_equal(run_cli(check_bad, &out), 1);
    assert_non_null(strstr(out, "policy.rules:"));
    assert_non_null(strstr(out, "未知の分野「高令」"));
    free(out);
    const char *explain[] = { "bin/tsunagu", "rules", "explain", "--city", CITY "/agencies.json",
                              CITY "/cases/Y-08.json", NULL };
    assert_int_equal(run_cli(explain, &out), 0);
    assert_non_null(strstr(out, "相談支援事業所ひかり"));
    assert_non_null(strstr(out, "同点の決め方1: 主担当件数"));
    assert_non_null(strstr(out, "ルール「disability」"));
    free(out);
    const char *refused[] = { "bin/tsunagu", "rules", "explain", "--city", CITY "/agencies.json",
                              CITY "/cases/Y-11.json", NULL };
    assert_int_equal(run_cli(refused, &out), 1);
    assert_non_null(strstr(out, "consent-required"));
    assert_non_null(strstr(out, "支援会議"));
    free(out);
    const char *json[] = { "bin/tsunagu", "rules", "explain", "--json", "--city",
                           CITY "/agencies.json", "--rules", "rules/default.rules",
                           CITY "/cases/Y-03.json", NULL };
    assert_int_equal(run_cli(json, &out), 0);
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "lead")), "dv");
    assert_true(json_is_true(json_object_get(j, "forced")));
    json_decref(j);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_city_and_tokens),
        cmocka_unit_test(test_rules_identified_by_content_hash),
        cmocka_unit_test(test_case_validation),
        cmocka_unit_test(test_fixture_cases_through_api),
        cmocka_unit_test(test_approve),
        cmocka_unit_test(test_import_warns_about_removed_agency_in_use),
        cmocka_unit_test(test_override_needs_reason),
        cmocka_unit_test(test_agency_token_access),
        cmocka_unit_test(test_reexplain_after_rules_change),
        cmocka_unit_test(test_invalid_rules_keep_previous),
        cmocka_unit_test(test_close_releases_lead),
        cmocka_unit_test(test_decisions_append_only_in_db),
        cmocka_unit_test(test_cli_offline),
    };
    return cmocka_run_group_tests_name("itest_cases", tests, group_setup, group_teardown);
}
