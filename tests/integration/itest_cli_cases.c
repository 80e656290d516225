/* SPDX-License-Identifier: MIT */
/*
 * itest_cli_cases.c - the case and decision verbs of bin/tsunagu against
 * a running tsunagud (real daemon, temp database, free port, default
 * rules, TSUNAGU_NOW = the fixtures' now).
 *
 * Every step runs the real client as a child process and asserts on its
 * exit code and what it printed; the daemon's state is then checked
 * through the client's --json output (the raw API response), so the
 * human-readable lines are compared with what the daemon actually holds.
 * Expected leads come from tests/data/yamanami/expected/lead, never from
 * constants in this file.
 *
 * In order: help lists the verbs; import + a secretariat token; case
 * create (warnings for unknown features, 400 naming the field, 409 with
 * the update hint), update, show, list; propose Y-01 (paragraph + table
 * match the stored decision and expected/lead), 422 consent-required for
 * Y-11 suggests 支援会議; decisions by status; approve moves lead_cases,
 * approving twice fails; override without --reason is refused locally
 * (nothing sent), with an empty reason the daemon's 400 shows, with a
 * reason it is recorded; decision shows the stored explanation; close
 * releases the count; rules show; transport and usage errors.
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support_daemon.h"
#include "support_proc.h"
#include "util.h"

#define CITY "tests/data/yamanami"
#define ADMIN "itest-cli-cases-admin-0123456789abcdef"

static struct {
    support_daemon_t d;
    char  *secr;                 /* secretariat token */
    long   approved, overridden; /* decision ids */
    char  *override_lead;
} g;

/* ---- running the client ------------------------------------------------- */

typedef support_run_t run_t;    /* code: exit status (-1 if killed); out: stdout + stderr */

/* bin/tsunagu ARGS with TSUNAGU_URL/TOKEN; url NULL = the test daemon. */
static run_t cli_as(const char *token, const char *url, const char *const args[])
{
    return support_daemon_cli(&g.d, url, token, NULL, args);
}

#define CLI(...) cli_as(g.secr, NULL, (const char *const[]){ __VA_ARGS__, NULL })
#define CLI_ADMIN(...) cli_as(ADMIN, NULL, (const char *const[]){ __VA_ARGS__, NULL })

static void expect_code(run_t r, int code)
{
    if (r.code != code)
        fail_msg("exit %d, wanted %d; output:\n%s", r.code, code, r.out);
}

static void expect_has(const run_t r, const char *needle)
{
    if (!strstr(r.out, needle))
        fail_msg("output lacks \"%s\":\n%s", needle, r.out);
}

static void expect_lacks(const run_t r, const char *needle)
{
    if (strstr(r.out, needle))
        fail_msg("output unexpectedly has \"%s\":\n%s", needle, r.out);
}

/* Run, expect exit 0 and a JSON document on stdout. */
static json_t *cli_json(const char *token, const char *const args[])
{
    run_t r = cli_as(token, NULL, args);
    expect_code(r, 0);
    json_error_t je;
    json_t *j = json_loads(r.out, 0, &je);
    if (!j)
        fail_msg("not JSON (%s):\n%s", je.text, r.out);
    free(r.out);
    return j;
}

#define JSON(...) cli_json(g.secr, (const char *const[]){ __VA_ARGS__, "--json", NULL })

static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static json_t *expected_lead(const char *case_id)
{
    char path[256];
    snprintf(path, sizeof path, CITY "/expected/lead/%s.json", case_id);
    json_t *j = json_load_file(path, 0, NULL);
    if (!j)
        fail_msg("cannot read %s", path);
    return j;
}

static long lead_cases_of(const char *agency)
{
    json_t *a = JSON("agency", agency);
    long n = (long)json_integer_value(json_object_get(a, "lead_cases"));
    json_decref(a);
    return n;
}

static const char *decision_status(long id, json_t **keep)
{
    char sid[32];
    snprintf(sid, sizeof sid, "%ld", id);
    *keep = JSON("decision", sid);
    return jstr(*keep, "status");
}

/* The line of out that starts with prefix (malloc'd), or NULL. */
static char *line_starting(const char *out, const char *prefix)
{
    for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (!strncmp(p, prefix, strlen(prefix))) {
            const char *e = strchr(p, '\n');
            return xstrndup(p, e ? (size_t)(e - p) : strlen(p));
        }
    }
    return NULL;
}

/* "決定 N を作成しました" -> N */
static long decision_id_in(const char *out)
{
    const char *p = strstr(out, "決定 ");
    long id = 0;
    while (p && !(sscanf(p, "決定 %ld を作成しました", &id) == 1 && id > 0))
        p = strstr(p + 1, "決定 ");
    if (id <= 0)
        fail_msg("no decision id in:\n%s", out);
    return id;
}

/* ---- daemon ---------------------------------------------------------------- */

static int group_setup(void **state)
{
    if (support_daemon_init(&g.d, "itest-cli-cases") != 0)
        return -1;
    if (support_write_file(g.d.conf, "ADMIN_TOKEN = " ADMIN "\nPOLL_INTERVAL = 600\n"
                           "RULES = rules/default.rules\n", (size_t)-1))
        return -1;
    const char *env[] = { "TSUNAGU_NOW=" SUPPORT_FIXTURE_NOW, "TSUNAGU_SECRETS=", NULL };
    unsetenv("TSUNAGU_RULES");
    if (support_daemon_start(&g.d, NULL, env, 10000) != 0)
        return -1;
    g.secr = xstrdup("");
    return 0;
}

static int group_teardown(void **state)
{
    support_daemon_free(&g.d);
    free(g.secr); free(g.override_lead);
    return 0;
}

/* ---- tests ------------------------------------------------------------------- */

static void test_help_lists_case_verbs(void **state)
{
    run_t r = cli_as("", NULL, (const char *const[]){ "help", NULL });
    expect_code(r, 0);
    static const char *const lines[][2] = {
        { "case create CASE.json", "ケースを登録する" },
        { "case show ID", "ケースの内容" },
        { "case update ID CASE.json", "ケースを書き換える" },
        { "case close ID", "ケースを終結" },
        { "cases ", "ケースの一覧" },
        { "propose ", "主担当機関をルールで提案" },
        { "decisions [--status pending|approved|overridden]", "一覧" },
        { "decision ", "提案時の説明" },
        { "approve ", "承認する" },
        { "override 決定番号 --lead 機関ID --reason", "理由は必須" },
        { "rules show", "稼働中のルール" },
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        char *line = line_starting(r.out, lines[i][0]);
        if (line && !strstr(line, lines[i][1])) {
            /* a long "VERB ARGS" has its description on the next line */
            const char *at = strstr(r.out, line), *next = at ? strchr(at, '\n') : NULL;
            if (next && next[1] == ' ') {
                free(line);
                line = line_starting(next + 1 + strspn(next + 1, " "), "");
            }
        }
        if (!line || !strstr(line, lines[i][1]))
            fail_msg("help: no line \"%s ... %s\":\n%s", lines[i][0], lines[i][1], r.out);
        /* Japanese first: the description starts with a non-ASCII character */
        const char *desc = strstr(line, lines[i][1]);
        assert_true((unsigned char)desc[0] >= 0x80);
        free(line);
    }
    free(r.out);
}

static void wait_feeds_ok(void)
{
    for (int waited = 0; waited < 30000; waited += 100) {
        json_t *j = cli_json(ADMIN, (const char *const[]){ "feeds", "--json", NULL });
        size_t i, ok = 0, n = json_array_size(json_object_get(j, "feeds"));
        json_t *f;
        json_array_foreach(json_object_get(j, "feeds"), i, f)
            ok += !strcmp(jstr(f, "state"), "ok");
        json_decref(j);
        if (n && ok == n)
            return;
        support_sleep_ms(100);
    }
    fail_msg("feeds did not all reach state ok");
}

static void test_import_and_secretariat_token(void **state)
{
    /* a file without an agencies array reaches the daemon, whose 400
     * names the field (the CLI once stopped with no word) */
    char *bad = support_path(g.d.dir, "no-agencies.json");
    assert_int_equal(support_write_file(bad, "{\"city\":\"x\",\"agencies\":{}}", (size_t)-1), 0);
    run_t r = CLI_ADMIN("import", bad);
    expect_code(r, 1);
    expect_has(r, "HTTP 400");
    expect_has(r, "agencies");
    free(r.out);
    free(bad);
    r = CLI_ADMIN("import", CITY "/agencies.json");
    expect_code(r, 0);
    free(r.out);
    wait_feeds_ok();
    json_t *t = cli_json(ADMIN, (const char *const[]){ "token", "create", "secretariat", "--label",
                                                       "itest-cli-cases", "--json", NULL });
    free(g.secr);
    g.secr = xstrdup(jstr(t, "token"));
    assert_true(strlen(g.secr) > 10);
    json_decref(t);
}

static void test_case_create_update_show_list(void **state)
{
    run_t r = CLI("case", "create", CITY "/cases/Y-01.json");
    expect_code(r, 0);
    expect_has(r, "ケース Y-01 を登録しました");
    expect_lacks(r, "警告");
    free(r.out);

    /* a duplicate is 409, with the update verb as the next step */
    r = CLI("case", "create", CITY "/cases/Y-01.json");
    expect_code(r, 1);
    expect_has(r, "エラー: ");
    expect_has(r, "HTTP 409 exists");
    expect_has(r, "tsunagu case update");
    free(r.out);

    /* the stored case reads back as the file said */
    json_t *c = JSON("case", "show", "Y-01");
    json_t *file = json_load_file(CITY "/cases/Y-01.json", 0, NULL);
    assert_non_null(file);
    assert_string_equal(jstr(json_object_get(c, "case"), "title"), jstr(file, "title"));
    assert_string_equal(jstr(c, "status"), "open");
    json_decref(c);

    r = CLI("case", "show", "Y-01");
    expect_code(r, 0);
    expect_has(r, jstr(file, "title"));
    expect_has(r, "対応中 (open)");
    expect_has(r, jstr(file, "district"));
    expect_has(r, "本人");
    free(r.out);

    /* update: same content is accepted; a mismatching id or bad field is 400 */
    r = CLI("case", "update", "Y-01", CITY "/cases/Y-01.json");
    expect_code(r, 0);
    expect_has(r, "ケース Y-01 を更新しました");
    free(r.out);
    r = CLI("case", "update", "Y-02", CITY "/cases/Y-01.json");
    expect_code(r, 1);
    expect_has(r, "HTTP 404");
    free(r.out);
    char *bad = support_path(g.d.dir, "bad.json");
    assert_int_equal(support_write_file(bad, "{\"id\":\"Y-01\",\"district\":\"月面\","
        "\"meeting_type\":\"支援会議\",\"members\":[{\"relation\":\"本人\",\"age\":40,"
        "\"consent\":true}]}", (size_t)-1), 0);
    r = CLI("case", "update", "Y-01", bad);
    expect_code(r, 1);
    expect_has(r, "district");
    expect_has(r, "HTTP 400 bad-case");
    free(r.out);
    c = JSON("case", "show", "Y-01");
    assert_string_equal(jstr(json_object_get(c, "case"), "district"), jstr(file, "district"));
    json_decref(c);
    json_decref(file);

    /* an unknown feature is kept and reported as a warning */
    assert_int_equal(support_write_file(bad, "{\"id\":\"T-1\",\"district\":\"中央\","
        "\"meeting_type\":\"支援会議\",\"members\":[{\"relation\":\"本人\",\"age\":80,"
        "\"features\":[\"認知賞\"],\"consent\":true}]}", (size_t)-1), 0);
    r = CLI("case", "create", bad);
    expect_code(r, 0);
    expect_has(r, "警告");
    expect_has(r, "認知賞");
    expect_has(r, "認知症");
    free(r.out);
    r = CLI("case", "create", "/nonexistent/case.json");
    expect_code(r, 1);
    expect_has(r, "読めません");
    free(r.out);
    free(bad);

    r = CLI("cases");
    expect_code(r, 0);
    char *row = line_starting(r.out, "Y-01 ");
    assert_non_null(row);
    assert_non_null(strstr(row, "対応中"));
    free(row);
    row = line_starting(r.out, "T-1 ");
    assert_non_null(row);
    free(row);
    free(r.out);
}

static void test_propose_prints_paragraph_and_table(void **state)
{
    json_t *want = expected_lead("Y-01");
    run_t r = CLI("propose", "Y-01");
    expect_code(r, 0);
    long id = decision_id_in(r.out);

    /* the paragraph is the one the daemon stored for this decision */
    char sid[32];
    snprintf(sid, sizeof sid, "%ld", id);
    json_t *d = JSON("decision", sid);
    const json_t *result = json_object_get(d, "result");
    assert_string_equal(jstr(d, "status"), "pending");
    assert_true(strlen(jstr(result, "text")) > 0);
    expect_has(r, jstr(result, "text"));

    /* ◎ marks the expected lead, ○ each expected supporter */
    char *lead_row = line_starting(r.out, "◎");
    assert_non_null(lead_row);
    char *needle = xasprintf(" %s ", jstr(want, "lead"));
    if (!strstr(lead_row, needle))
        fail_msg("lead row \"%s\" lacks %s", lead_row, jstr(want, "lead"));
    free(needle);
    free(lead_row);
    size_t i, nsup = 0;
    json_t *v;
    json_array_foreach(json_object_get(want, "supports"), i, v) {
        char *s = xasprintf("○  %s ", json_string_value(v));
        expect_has(r, s);
        free(s);
    }
    for (const char *p = r.out; (p = strstr(p, "○  ")); p++)
        nsup++;
    assert_int_equal(nsup, json_array_size(json_object_get(want, "supports")));
    json_array_foreach(json_object_get(want, "rules"), i, v)
        expect_has(r, json_string_value(v));
    expect_has(r, "決め手");
    expect_has(r, "tsunagu approve");
    assert_string_equal(jstr(result, "lead"), jstr(want, "lead"));

    /* every listed candidate is a row of the table */
    json_array_foreach(json_object_get(result, "candidates"), i, v) {
        char *s = xasprintf("  %s ", jstr(v, "agency"));
        expect_has(r, s);
        free(s);
    }
    g.approved = id;
    free(r.out);
    json_decref(d);
    json_decref(want);
}

static void test_propose_json_and_consent_required(void **state)
{
    json_t *want = expected_lead("Y-11");
    assert_non_null(json_object_get(want, "error"));
    run_t r = CLI("case", "create", CITY "/cases/Y-11.json");
    expect_code(r, 0);
    free(r.out);
    r = CLI("propose", "Y-11");
    expect_code(r, 1);
    char *code = xasprintf("HTTP 422 %s", jstr(want, "error"));
    expect_has(r, code);
    expect_has(r, "エラー: ");
    expect_has(r, "支援会議");        /* the next step the daemon suggests */
    free(code);
    free(r.out);

    /* --json prints the raw proposal (a second pending decision for Y-01) */
    json_t *p = JSON("propose", "Y-01");
    json_t *y01 = expected_lead("Y-01");
    assert_string_equal(jstr(p, "lead"), jstr(y01, "lead"));
    assert_true(json_equal(json_object_get(p, "supports"), json_object_get(y01, "supports")));
    g.overridden = (long)json_integer_value(json_object_get(p, "decision"));
    assert_true(g.overridden > g.approved);
    /* the override target: another agency that may lead, per the candidates */
    size_t i;
    json_t *cd;
    json_array_foreach(json_object_get(p, "candidates"), i, cd)
        if (!g.override_lead && json_is_true(json_object_get(cd, "eligible_lead")) &&
            strcmp(jstr(cd, "agency"), jstr(p, "lead")))
            g.override_lead = xstrdup(jstr(cd, "agency"));
    assert_non_null(g.override_lead);
    json_decref(p);
    json_decref(y01);
    json_decref(want);
}

static void test_decisions_by_status_and_approve(void **state)
{
    char a[32];
    snprintf(a, sizeof a, "%ld ", g.approved);
    run_t r = CLI("decisions", "--status", "pending");
    expect_code(r, 0);
    char *row = line_starting(r.out, a);
    assert_non_null(row);
    assert_non_null(strstr(row, "Y-01"));
    assert_non_null(strstr(row, "承認待ち"));
    free(row);
    free(r.out);

    json_t *want = expected_lead("Y-01");
    const char *lead = jstr(want, "lead");
    long before = lead_cases_of(lead);
    snprintf(a, sizeof a, "%ld", g.approved);
    r = CLI("approve", a);
    expect_code(r, 0);
    expect_has(r, "承認しました");
    expect_has(r, lead);
    free(r.out);
    assert_int_equal(lead_cases_of(lead), before + 1);
    json_t *c = JSON("case", "show", "Y-01");
    assert_string_equal(jstr(c, "lead"), lead);
    json_decref(c);
    json_t *keep;
    assert_string_equal(decision_status(g.approved, &keep), "approved");
    json_decref(keep);

    /* twice: the daemon's 409 shows, exit 1 */
    r = CLI("approve", a);
    expect_code(r, 1);
    expect_has(r, "HTTP 409 already-reviewed");
    free(r.out);

    r = CLI("decisions", "--status", "approved");
    expect_code(r, 0);
    snprintf(a, sizeof a, "%ld ", g.approved);
    row = line_starting(r.out, a);
    assert_non_null(row);
    assert_non_null(strstr(row, "承認済み"));
    free(row);
    free(r.out);
    r = CLI("decisions", "--status", "pending");
    assert_null(line_starting(r.out, a));
    free(r.out);

    r = CLI("decisions", "--status", "done");
    expect_code(r, 1);
    expect_has(r, "HTTP 400 bad-status");
    expect_has(r, "pending / approved / overridden");
    free(r.out);
    json_decref(want);
}

static void test_override_needs_a_reason(void **state)
{
    char id[32];
    snprintf(id, sizeof id, "%ld", g.overridden);
    json_t *keep;

    /* no --reason: refused before anything is sent */
    run_t r = CLI("override", id, "--lead", g.override_lead);
    assert_true(r.code != 0);
    expect_has(r, "理由");
    expect_has(r, "--reason");
    expect_has(r, "使い方");
    free(r.out);
    assert_string_equal(decision_status(g.overridden, &keep), "pending");
    json_decref(keep);
    r = CLI("decisions", "--status", "approved");        /* pending: not listed */
    expect_code(r, 0);
    char pending_prefix[40];
    snprintf(pending_prefix, sizeof pending_prefix, "%ld ", g.overridden);
    assert_null(line_starting(r.out, pending_prefix));
    free(r.out);

    /* an empty reason reaches the daemon, whose 400 is shown */
    r = CLI("override", id, "--lead", g.override_lead, "--reason", "");
    expect_code(r, 1);
    expect_has(r, "HTTP 400 reason-required");
    expect_has(r, "理由");
    free(r.out);
    assert_string_equal(decision_status(g.overridden, &keep), "pending");
    json_decref(keep);

    /* an unknown agency: the daemon names it */
    r = CLI("override", id, "--lead", "no-such-agency", "--reason", "テスト");
    expect_code(r, 1);
    expect_has(r, "no-such-agency");
    expect_has(r, "HTTP 400 bad-lead");
    free(r.out);

    const char *reason = "本人が以前から相談しており関係ができているため";
    json_t *want = expected_lead("Y-01");
    long was = lead_cases_of(jstr(want, "lead")), other = lead_cases_of(g.override_lead);
    r = CLI("override", id, "--lead", g.override_lead, "--reason", reason);
    expect_code(r, 0);
    expect_has(r, "変更しました");
    expect_has(r, g.override_lead);
    expect_has(r, reason);
    free(r.out);
    const char *st = decision_status(g.overridden, &keep);
    assert_string_equal(st, "overridden");
    const json_t *rv = json_object_get(keep, "review");
    assert_string_equal(jstr(rv, "reason"), reason);
    assert_string_equal(jstr(rv, "lead"), g.override_lead);
    json_decref(keep);
    assert_int_equal(lead_cases_of(jstr(want, "lead")), was - 1);
    assert_int_equal(lead_cases_of(g.override_lead), other + 1);

    r = CLI("decisions", "--status", "overridden");
    expect_code(r, 0);
    char prefix[40];
    snprintf(prefix, sizeof prefix, "%ld ", g.overridden);
    char *row = line_starting(r.out, prefix);
    assert_non_null(row);
    assert_non_null(strstr(row, reason));
    assert_non_null(strstr(row, g.override_lead));
    free(row);
    free(r.out);
    json_decref(want);
}

static void test_decision_shows_stored_explanation(void **state)
{
    char id[32];
    snprintf(id, sizeof id, "%ld", g.overridden);
    json_t *d = JSON("decision", id);
    run_t r = CLI("decision", id);
    expect_code(r, 0);
    expect_has(r, jstr(json_object_get(d, "result"), "text"));
    expect_has(r, jstr(d, "policy"));
    expect_has(r, "変更済み");
    expect_has(r, jstr(json_object_get(d, "review"), "reason"));
    expect_has(r, "◎");
    free(r.out);
    r = CLI("decision", id, "--recompute");
    expect_code(r, 0);
    expect_has(r, "再計算");
    expect_has(r, "reproducible");
    expect_lacks(r, "not reproducible");
    free(r.out);
    r = CLI("decision", "999999");
    expect_code(r, 1);
    expect_has(r, "HTTP 404");
    free(r.out);
    json_decref(d);
}

static void test_close_releases_the_lead(void **state)
{
    long before = lead_cases_of(g.override_lead);
    run_t r = CLI("case", "close", "Y-01");
    expect_code(r, 0);
    expect_has(r, "終結しました");
    expect_has(r, g.override_lead);
    free(r.out);
    assert_int_equal(lead_cases_of(g.override_lead), before - 1);
    r = CLI("case", "close", "Y-01");
    expect_code(r, 1);
    expect_has(r, "HTTP 409 case-closed");
    free(r.out);
    r = CLI("case", "show", "Y-01");
    expect_code(r, 0);
    expect_has(r, "終結 (closed)");
    free(r.out);
    r = CLI("propose", "Y-01");
    expect_code(r, 1);
    expect_has(r, "終結");
    free(r.out);
}

static void test_rules_show(void **state)
{
    json_t *j = JSON("rules", "show");
    run_t r = CLI("rules", "show");
    expect_code(r, 0);
    expect_has(r, jstr(j, "hash"));
    expect_has(r, jstr(j, "policy"));
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(j, "rules"), i, v) {
        char *prefix = xasprintf("%s ", jstr(v, "id"));
        char *row = line_starting(r.out, prefix);
        free(prefix);
        assert_non_null(row);
        assert_non_null(strstr(row, jstr(v, "reason")));
        free(row);
    }
    assert_true(json_array_size(json_object_get(j, "rules")) > 0);
    free(r.out);
    json_decref(j);
}

static void test_errors_are_readable(void **state)
{
    /* no token: 401 with the hint */
    run_t r = cli_as("", NULL, (const char *const[]){ "cases", NULL });
    expect_code(r, 1);
    expect_has(r, "HTTP 401");
    expect_has(r, "TSUNAGU_TOKEN");
    free(r.out);
    /* no daemon there */
    int port = support_free_port();
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    r = cli_as(g.secr, url, (const char *const[]){ "cases", NULL });
    expect_code(r, 1);
    expect_has(r, "接続できません");
    free(r.out);
    /* usage */
    static const char *const verbs[][4] = {
        { "case", "create", NULL }, { "case", "show", NULL }, { "case", "update", "Y-01" },
        { "case", "close", NULL }, { "propose", NULL, NULL }, { "decision", NULL, NULL },
        { "approve", NULL, NULL }, { "override", NULL, NULL },
    };
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        r = cli_as(g.secr, NULL, verbs[i]);
        if (r.code != 2 || !strstr(r.out, "使い方"))
            fail_msg("%s %s: exit %d:\n%s", verbs[i][0], verbs[i][1] ? verbs[i][1] : "", r.code,
                     r.out);
        free(r.out);
    }
    r = CLI("case", "show", "no-such-case");
    expect_code(r, 1);
    expect_has(r, "エラー: ");
    expect_has(r, "no-such-case");
    expect_has(r, "HTTP 404");
    free(r.out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_lists_case_verbs),
        cmocka_unit_test(test_import_and_secretariat_token),
        cmocka_unit_test(test_case_create_update_show_list),
        cmocka_unit_test(test_propose_prints_paragraph_and_table),
        /* approve the first Y-01 proposal before a newer one supersedes it */
        cmocka_unit_test(test_decisions_by_status_and_approve),
        cmocka_unit_test(test_propose_json_and_consent_required),
        cmocka_unit_test(test_override_needs_a_reason),
        cmocka_unit_test(test_decision_shows_stored_explanation),
        cmocka_unit_test(test_close_releases_the_lead),
        cmocka_unit_test(test_rules_show),
        cmocka_unit_test(test_errors_are_readable),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
