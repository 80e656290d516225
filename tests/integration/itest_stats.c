/* SPDX-License-Identifier: MIT */
/*
 * itest_stats.c - statistics, similar cases and rule impact through a
 * running tsunagud (DESIGN "Statistics, similar cases and rule impact").
 *
 * One daemon for the group.  Its clock is the config file's NOW, moved
 * forward by rewriting the file and sending SIGHUP, so the scripted
 * history below happens on known dates:
 *   2026-10-05 09:00  Y-01 (中央) and Y-07 (南部) opened; Y-01's proposal
 *                     approved, Y-07's overridden to jiritsu with a reason
 *   2026-10-20 09:00  Y-06 (中央) and Y-13 (南部) opened; Y-06 proposed,
 *                     left pending
 *   2026-11-02 09:00  meetings booked: Y-01 (monitoring date 11-20),
 *                     Y-07 (then cancelled), Y-07 again; csw accepts the
 *                     Y-01 meeting by iMIP REPLY and declines the second
 *                     Y-07 one (要再調整); Y-13 closed
 *   2026-12-01 09:00  the figures are read
 * Tests run in order and share that state:
 *   - the figures of 2026-10-01..2026-11-30, one by one, whole city and
 *     district 中央, and the monthly series;
 *   - CSV: BOM, CRLF, Japanese headers, and every table read back by
 *     /usr/bin/python3's csv module (utf-8-sig) with the JSON's numbers;
 *   - bad input: dates, to before from, over 10 years, limit, district;
 *   - similar: Y-01's list with the reason in Japanese and the decided
 *     outcome of each result; 404; staff only (agency token 403);
 *   - rule impact: the hikikomori +30 -> +60 edit (no change: the agency
 *     is at its cap) and a condition edit (work stops firing), nothing
 *     stored; 400 with file:line:col; 413 over 1 MB; coordinator 403;
 *   - the CLI: tsunagu stats / --csv, similar, rules impact.
 */
#include "support_daemon.h"

#include <signal.h>
#include <stdio.h>

#include "timeutil.h"

#define CITY  "tests/data/yamanami"
#define ADMIN "itest-stats-admin-token-0123456789abcdef"

static struct {
    support_daemon_t d;
    char   *rules, *coord, *secr, *csw;
    int     reloads;
    char    start01[40], start07[40];     /* the booked starts */
} g;

#define http_json(m, p, tok, b, want) support_api_json(&g.d, m, p, tok, b, want)
#define expect_error(m, p, tok, b, st, code, needle) \
    support_api_error(&g.d, m, p, tok, b, st, code, needle)

/* ---- the clock ------------------------------------------------------------- */

static int write_conf(const char *now)
{
    char *conf = xasprintf("ADMIN_TOKEN = " ADMIN "\nPOLL_INTERVAL = 3600\nRULES = %s\n"
                           "MAIL_TRANSPORT = file\nMAIL_PATH = %s/mail.mbox\nNOW = %s\n",
                           g.rules, g.d.dir, now);
    int rc = support_write_file(g.d.conf, conf, (size_t)-1);
    free(conf);
    return rc;
}

static int count_in_log(const char *needle)
{
    char *log = support_read_log(g.d.log);
    int n = 0;
    for (const char *p = log; p && (p = strstr(p, needle)); p++)
        n++;
    free(log);
    return n;
}

static void set_clock(const char *now)
{
    assert_int_equal(write_conf(now), 0);
    kill(g.d.pid, SIGHUP);
    g.reloads++;
    for (int i = 0; i < 200 && count_in_log("reload: configuration reloaded") < g.reloads; i++) {
        struct timespec ts = { 0, 25 * 1000000L };
        nanosleep(&ts, NULL);
    }
    assert_int_equal(count_in_log("reload: configuration reloaded"), g.reloads);
}

static int group_setup(void **state)
{
    if (support_daemon_init(&g.d, "itest-stats") != 0)
        return -1;
    g.rules = support_path(g.d.dir, "policy.rules");
    char *text = read_file("rules/default.rules", NULL);
    if (!text || support_write_file(g.rules, text, (size_t)-1) || write_conf("2026-10-05T09:00:00+09:00"))
        return -1;
    free(text);
    unsetenv("TSUNAGU_NOW");
    unsetenv("TSUNAGU_RULES");
    const char *env[] = { "TSUNAGU_SECRETS=", NULL };
    return support_daemon_start(&g.d, NULL, env, 10000);
}

static int group_teardown(void **state)
{
    support_daemon_free(&g.d);
    free(g.rules);
    free(g.coord);
    free(g.secr);
    free(g.csw);
    return 0;
}

/* ---- the history ------------------------------------------------------------- */

static void post_case(const char *id)
{
    char path[128];
    snprintf(path, sizeof path, CITY "/cases/%s.json", id);
    char *text = read_file(path, NULL);
    assert_non_null(text);
    json_decref(http_json("POST", "/v1/cases", g.coord, text, 201));
    free(text);
}

static long propose(const char *id)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/cases/%s/proposals", id);
    json_t *j = http_json("POST", path, g.coord, "{}", 201);
    long d = (long)json_integer_value(json_object_get(j, "decision"));
    json_decref(j);
    assert_true(d > 0);
    return d;
}

/* Book at start (or the first suggestion when that is taken); returns
 * the meeting and copies its start into out. */
static json_t *book(const char *cs, const char *start, const char *end, const char *extra,
                    char out[40])
{
    char *body = xasprintf("{\"case\":\"%s\",\"type\":\"重層的支援会議\",\"start\":\"%s\","
                           "\"end\":\"%s\",\"attendees\":[\"csw\",\"jutaku\"],"
                           "\"location\":\"会議室A\"%s%s}", cs, start, end, extra ? "," : "",
                           extra ? extra : "");
    support_resp_t r = support_daemon_http(&g.d, "POST", "/v1/meetings", g.secr, body);
    json_t *j = json_loads(r.body.s, 0, NULL);
    strbuf_free(&r.body);
    if (r.status == 409) {
        json_t *s = json_array_get(json_object_get(j, "suggestions"), 0);
        assert_non_null(s);
        char *again = xasprintf("{\"case\":\"%s\",\"type\":\"重層的支援会議\",\"start\":\"%s\","
                                "\"end\":\"%s\",\"attendees\":[\"csw\",\"jutaku\"],"
                                "\"location\":\"会議室A\"%s%s}", cs,
                                json_string_value(json_object_get(s, "start")),
                                json_string_value(json_object_get(s, "end")), extra ? "," : "",
                                extra ? extra : "");
        json_decref(j);
        j = http_json("POST", "/v1/meetings", g.secr, again, 201);
        free(again);
    } else if (r.status != 201) {
        fail_msg("booking %s: HTTP %ld: %s", cs, r.status, body);
    }
    free(body);
    snprintf(out, 40, "%s", json_string_value(json_object_get(j, "start")));
    return j;
}

static void reply(const json_t *m, const char *partstat)
{
    char *cal = xasprintf(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nMETHOD:REPLY\r\n"
        "BEGIN:VEVENT\r\nUID:%s\r\nSEQUENCE:%lld\r\nDTSTAMP:20261102T010000Z\r\n"
        "ORGANIZER:mailto:kyodo@yamanami.example\r\n"
        "ATTENDEE;PARTSTAT=%s:mailto:csw@yamanami.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        json_string_value(json_object_get(m, "uid")),
        (long long)json_integer_value(json_object_get(m, "sequence")), partstat);
    char *eml = xasprintf("From: csw <csw@yamanami.example>\r\nTo: kyodo@yamanami.example\r\n"
                          "Subject: Re\r\nMIME-Version: 1.0\r\n"
                          "Content-Type: text/calendar; charset=UTF-8; method=REPLY\r\n\r\n%s", cal);
    json_t *msg = json_pack("{s:s}", "message", eml);     /* JSON-wrapped raw mail */
    char *body = json_dumps(msg, JSON_COMPACT);
    json_decref(http_json("POST", "/v1/imip", g.secr, body, 200));
    free(body);
    json_decref(msg);
    free(eml);
    free(cal);
}

static void test_scripted_history(void **state)
{
    support_api_import_city(&g.d, ADMIN, CITY, NULL, NULL);
    g.coord = support_api_token(&g.d, ADMIN, "coordinator", "itest-stats", NULL);
    g.secr = support_api_token(&g.d, ADMIN, "secretariat", "itest-stats", NULL);
    g.csw = support_api_token(&g.d, ADMIN, "agency:csw", "itest-stats", NULL);

    post_case("Y-01");
    post_case("Y-07");
    char path[128];
    snprintf(path, sizeof path, "/v1/decisions/%ld/approve", propose("Y-01"));
    json_decref(http_json("POST", path, g.secr, "{}", 200));
    snprintf(path, sizeof path, "/v1/decisions/%ld/override", propose("Y-07"));
    json_decref(http_json("POST", path, g.secr,
                          "{\"lead\":\"jiritsu\",\"reason\":\"生活再建を先に進めるため\"}", 200));

    set_clock("2026-10-20T09:00:00+09:00");
    post_case("Y-06");
    post_case("Y-13");
    propose("Y-06");

    set_clock("2026-11-02T09:00:00+09:00");
    char cancelled[40];
    json_t *m1 = book("Y-01", "2026-11-10T10:00:00+09:00", "2026-11-10T11:00:00+09:00",
                      "\"monitoring_date\":\"2026-11-20\"", g.start01);
    json_t *mx = book("Y-07", "2026-11-12T10:00:00+09:00", "2026-11-12T11:00:00+09:00", NULL,
                      cancelled);
    snprintf(path, sizeof path, "/v1/meetings/%lld/cancel", (long long)json_integer_value(json_object_get(mx, "id")));
    json_decref(http_json("POST", path, g.secr, "{}", 200));
    json_t *m2 = book("Y-07", "2026-11-19T10:00:00+09:00", "2026-11-19T11:00:00+09:00", NULL,
                      g.start07);
    reply(m1, "ACCEPTED");
    reply(m2, "DECLINED");
    json_decref(http_json("POST", "/v1/cases/Y-13/close", g.secr, "{}", 200));
    json_decref(m1);
    json_decref(mx);
    json_decref(m2);
    set_clock("2026-12-01T09:00:00+09:00");
}

/* ---- figures ------------------------------------------------------------------- */

static json_int_t num(const json_t *s, const char *block, const char *key)
{
    const json_t *o = block ? json_object_get(s, block) : s;
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        fail_msg("%s.%s is not an integer", block ? block : "", key);
    return json_integer_value(v);
}

static double real(const json_t *s, const char *block, const char *key)
{
    const json_t *v = json_object_get(json_object_get(s, block), key);
    if (!json_is_number(v))
        fail_msg("%s.%s is not a number", block, key);
    return json_number_value(v);
}

/* Days from 2026-MM-DD 09:00 JST (creation) to an ISO start, one decimal. */
static double days_since(const char *created, const char *start)
{
    int64_t a, b;
    assert_true(tu_parse_iso8601(created, NULL, &a));
    assert_true(tu_parse_iso8601(start, NULL, &b));
    return (double)(b - a) / 86400.0;
}

static const json_t *agency_row(const json_t *s, const char *id)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(s, "agencies"), i, a)
        if (!strcmp(json_string_value(json_object_get(a, "agency")), id))
            return a;
    fail_msg("agency %s not in stats", id);
    return NULL;
}

static void test_figures(void **state)
{
    json_t *s = http_json("GET", "/v1/stats?from=2026-10-01&to=2026-11-30", g.coord, NULL, 200);
    assert_string_equal(json_string_value(json_object_get(s, "from")), "2026-10-01");
    assert_int_equal(num(s, "cases", "opened"), 4);
    assert_int_equal(num(s, "cases", "closed"), 1);
    assert_int_equal(num(s, "cases", "open_now"), 3);
    assert_int_equal(num(s, "decisions", "approved"), 1);
    assert_int_equal(num(s, "decisions", "overridden"), 1);
    assert_int_equal(num(s, "decisions", "pending"), 1);
    assert_float_equal(real(s, "decisions", "override_rate"), 0.5, 1e-9);
    /* Y-01 and Y-07 were created 2026-10-05 09:00; Y-07's first meeting
     * that is not cancelled is the second one */
    double d1 = days_since("2026-10-05T09:00:00+09:00", g.start01);
    double d7 = days_since("2026-10-05T09:00:00+09:00", g.start07);
    double lo = d1 < d7 ? d1 : d7, hi = d1 < d7 ? d7 : d1;
    assert_int_equal(num(s, "days_to_first_meeting", "count"), 2);
    assert_float_equal(real(s, "days_to_first_meeting", "median"), (lo + hi) / 2, 0.051);
    assert_float_equal(real(s, "days_to_first_meeting", "p90"), hi, 0.051);
    assert_int_equal(num(s, "meetings", "booked"), 3);
    assert_int_equal(num(s, "meetings", "scheduled"), 1);
    assert_int_equal(num(s, "meetings", "replan"), 1);
    assert_int_equal(num(s, "meetings", "cancelled"), 1);
    /* 3 meetings x (csw, jutaku): csw accepted one and declined one */
    assert_int_equal(num(s, "answers", "accepted"), 1);
    assert_int_equal(num(s, "answers", "declined"), 1);
    assert_int_equal(num(s, "answers", "tentative"), 0);
    assert_int_equal(num(s, "answers", "none"), 4);
    assert_int_equal(num(s, NULL, "monitoring_overdue"), 1);
    const json_t *csw = agency_row(s, "csw"), *jiritsu = agency_row(s, "jiritsu"),
                 *chuo = agency_row(s, "houkatsu-chuo");
    assert_int_equal(num(csw, NULL, "invited"), 3);
    assert_int_equal(num(csw, NULL, "declined"), 1);
    assert_int_equal(num(jiritsu, NULL, "open_lead"), 1);     /* Y-07, overridden */
    assert_int_equal(num(jiritsu, NULL, "cap"), 20);
    assert_int_equal(num(chuo, NULL, "open_lead"), 1);        /* Y-01, approved */
    assert_int_equal(num(chuo, NULL, "cap"), 12);
    /* every agency's open leads and supports, against the open cases' own records */
    json_t *lead = json_object(), *sup = json_object();
    const char *open[] = { "Y-01", "Y-06", "Y-07" };
    for (size_t k = 0; k < 3; k++) {
        char p[64];
        snprintf(p, sizeof p, "/v1/cases/%s", open[k]);
        json_t *c = http_json("GET", p, g.secr, NULL, 200);
        const char *l = json_string_value(json_object_get(c, "lead"));
        if (l)
            json_object_set_new(lead, l, json_integer(json_integer_value(json_object_get(lead, l)) + 1));
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(c, "supports"), i, v)
            json_object_set_new(sup, json_string_value(v),
                                json_integer(json_integer_value(json_object_get(sup, json_string_value(v))) + 1));
        json_decref(c);
    }
    assert_true(json_object_size(sup) >= 2);     /* Y-01 and Y-07 have supporters */
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(s, "agencies"), i, a) {
        const char *id = json_string_value(json_object_get(a, "agency"));
        assert_int_equal(num(a, NULL, "open_lead"), json_integer_value(json_object_get(lead, id)));
        assert_int_equal(num(a, NULL, "open_supports"), json_integer_value(json_object_get(sup, id)));
    }
    json_decref(lead);
    json_decref(sup);
    const json_t *mo = json_object_get(s, "monthly");
    assert_int_equal(json_array_size(mo), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(mo, 0), "month")), "2026-10");
    assert_int_equal(num(json_array_get(mo, 0), NULL, "cases_opened"), 4);
    assert_int_equal(num(json_array_get(mo, 0), NULL, "meetings"), 0);
    assert_int_equal(num(json_array_get(mo, 1), NULL, "cases_opened"), 0);
    assert_int_equal(num(json_array_get(mo, 1), NULL, "meetings"), 2);
    json_decref(s);

    /* 中央: Y-01 and Y-06 only */
    s = http_json("GET", "/v1/stats?from=2026-10-01&to=2026-11-30&district=%E4%B8%AD%E5%A4%AE",
                  g.secr, NULL, 200);
    assert_int_equal(num(s, "cases", "opened"), 2);
    assert_int_equal(num(s, "cases", "closed"), 0);
    assert_int_equal(num(s, "decisions", "approved"), 1);
    assert_int_equal(num(s, "decisions", "overridden"), 0);
    assert_int_equal(num(s, "decisions", "pending"), 1);
    assert_int_equal(num(s, "meetings", "booked"), 1);
    assert_int_equal(num(s, "days_to_first_meeting", "count"), 1);
    assert_int_equal(num(agency_row(s, "jiritsu"), NULL, "open_lead"), 0);
    json_decref(s);

    /* October only: nothing was booked to start then */
    s = http_json("GET", "/v1/stats?from=2026-10-01&to=2026-10-31", ADMIN, NULL, 200);
    assert_int_equal(num(s, "meetings", "booked"), 0);
    assert_int_equal(num(s, "cases", "opened"), 4);
    assert_int_equal(num(s, NULL, "monitoring_overdue"), 0);
    json_decref(s);
}

/* ---- CSV ------------------------------------------------------------------------ */

static char *run_python(const char *script, const char *csv_path)
{
    char *py = support_path(g.d.dir, "check.py"), *out = support_path(g.d.dir, "py.out");
    assert_int_equal(support_write_file(py, script, (size_t)-1), 0);
    const char *argv[] = { "/usr/bin/python3", py, csv_path, NULL };
    support_run_t r = support_run(argv, NULL, out);
    if (r.code != 0)
        fail_msg("python: %s", r.out);
    free(py);
    free(out);
    return r.out;
}

static char *fetch_csv(const char *table)
{
    char *path = xasprintf("/v1/stats?from=2026-10-01&to=2026-11-30&format=csv&table=%s", table);
    support_resp_t r = support_daemon_http(&g.d, "GET", path, g.secr, NULL);
    free(path);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.ctype, "text/csv"));
    assert_memory_equal(r.body.s, "\xEF\xBB\xBF", 3);
    assert_non_null(strstr(r.body.s, "\r\n"));
    for (const char *p = r.body.s; (p = strchr(p, '\n')); p++)
        assert_true(p > r.body.s && p[-1] == '\r');       /* every line ends CRLF */
    char *file = support_path(g.d.dir, table);
    assert_int_equal(support_write_file(file, r.body.s, r.body.len), 0);
    strbuf_free(&r.body);
    return file;
}

static const char *py_dump =
    "import csv, json, sys\n"
    "with open(sys.argv[1], encoding='utf-8-sig', newline='') as f:\n"
    "    rows = list(csv.reader(f))\n"
    "assert not rows[0][0].startswith('\\ufeff')\n"
    "print(json.dumps(rows, ensure_ascii=False))\n";

static json_t *csv_rows(const char *table)
{
    char *file = fetch_csv(table);
    char *out = run_python(py_dump, file);
    json_t *rows = json_loads(out, 0, NULL);
    if (!rows)
        fail_msg("python output: %s", out);
    free(out);
    free(file);
    return rows;
}

static const char *cell(const json_t *rows, size_t r, size_t c)
{
    return json_string_value(json_array_get(json_array_get(rows, r), c));
}

/* The value column of the summary row labelled label. */
static const char *summary_value(const json_t *rows, const char *label)
{
    for (size_t r = 1; r < json_array_size(rows); r++)
        if (!strcmp(cell(rows, r, 0), label))
            return cell(rows, r, 1);
    fail_msg("summary has no row %s", label);
    return NULL;
}

static void test_csv_round_trip(void **state)
{
    json_t *rows = csv_rows("summary");
    assert_string_equal(cell(rows, 0, 0), "項目");
    assert_string_equal(cell(rows, 0, 1), "値");
    assert_string_equal(summary_value(rows, "新規事例"), "4");
    assert_string_equal(summary_value(rows, "終結した事例"), "1");
    assert_string_equal(summary_value(rows, "提案の変更(オーバーライド)"), "1");
    assert_string_equal(summary_value(rows, "変更率"), "0.5");
    assert_string_equal(summary_value(rows, "会議: 要再調整"), "1");
    assert_string_equal(summary_value(rows, "回答: 未回答"), "4");
    assert_string_equal(summary_value(rows, "モニタリング期限超過"), "1");
    json_decref(rows);

    json_t *st = http_json("GET", "/v1/stats?from=2026-10-01&to=2026-11-30", g.secr, NULL, 200);
    rows = csv_rows("agencies");
    assert_string_equal(cell(rows, 0, 0), "機関ID");
    assert_string_equal(cell(rows, 0, 1), "機関名");
    assert_int_equal(json_array_size(rows) - 1, json_array_size(json_object_get(st, "agencies")));
    for (size_t r = 1; r < json_array_size(rows); r++) {
        const json_t *a = json_array_get(json_object_get(st, "agencies"), r - 1);
        assert_string_equal(cell(rows, r, 0), json_string_value(json_object_get(a, "agency")));
        assert_string_equal(cell(rows, r, 1), json_string_value(json_object_get(a, "name")));
        char n[32];
        snprintf(n, sizeof n, "%lld", (long long)json_integer_value(json_object_get(a, "invited")));
        assert_string_equal(cell(rows, r, 6), n);
    }
    json_decref(rows);
    json_decref(st);

    rows = csv_rows("monthly");
    assert_string_equal(cell(rows, 0, 0), "月");
    assert_string_equal(cell(rows, 1, 0), "2026-10");
    assert_string_equal(cell(rows, 1, 1), "4");
    assert_string_equal(cell(rows, 2, 2), "2");
    json_decref(rows);

    rows = csv_rows("days");
    assert_string_equal(cell(rows, 0, 0), "初回会議までの日数");
    assert_string_equal(cell(rows, 9, 0), "56日以上");
    int total = 0;
    for (size_t r = 1; r < json_array_size(rows); r++)
        total += atoi(cell(rows, r, 1));
    assert_int_equal(total, 2);
    json_decref(rows);
    expect_error("GET", "/v1/stats?format=csv&table=nope", g.secr, NULL, 400, "bad-table", "table");
}

static void test_bad_input(void **state)
{
    expect_error("GET", "/v1/stats?from=2026-13-01", g.secr, NULL, 400, "bad-date", "from");
    expect_error("GET", "/v1/stats?from=2026-10-01&to=10/31", g.secr, NULL, 400, "bad-date", "to");
    expect_error("GET", "/v1/stats?from=2026-10-01&to=2026-09-30", g.secr, NULL, 400, "bad-range", "to");
    expect_error("GET", "/v1/stats?from=2016-10-01&to=2026-10-01", g.secr, NULL, 400, "bad-range", "10年");
    json_decref(http_json("GET", "/v1/stats?from=2016-10-01&to=2026-09-30", g.secr, NULL, 200));
    expect_error("GET", "/v1/stats?district=%E6%9C%88", g.secr, NULL, 400, "bad-district", "district");
    expect_error("GET", "/v1/stats?format=xml", g.secr, NULL, 400, "bad-format", "format");
    expect_error("GET", "/v1/stats", g.csw, NULL, 403, "forbidden", NULL);
    expect_error("GET", "/v1/stats", NULL, NULL, 401, "unauthorized", NULL);
}

/* ---- similar ---------------------------------------------------------------------- */

static void test_similar(void **state)
{
    /* the store holds Y-01, Y-06, Y-07, Y-13: for Y-01, Y-07 = 8/15, Y-06 = 17/60 */
    json_t *j = http_json("GET", "/v1/cases/Y-01/similar", g.coord, NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(j, "limit")), 5);
    const json_t *res = json_object_get(j, "results");
    assert_int_equal(json_array_size(res), 2);
    const json_t *a = json_array_get(res, 0), *b = json_array_get(res, 1);
    assert_string_equal(json_string_value(json_object_get(a, "id")), "Y-07");
    assert_float_equal(json_real_value(json_object_get(a, "sim")), 0.533, 1e-12);
    assert_string_equal(json_string_value(json_object_get(a, "reason")),
                        "共通: ルール hikikomori・8050、特徴 ひきこもり");
    assert_string_equal(json_string_value(json_object_get(a, "decision")), "overridden");
    assert_string_equal(json_string_value(json_object_get(a, "override_reason")), "生活再建を先に進めるため");
    assert_string_equal(json_string_value(json_object_get(a, "lead")), "jiritsu");
    assert_true(json_is_true(json_object_get(a, "open")));
    assert_true(json_is_number(json_object_get(a, "days_to_first_meeting")));
    assert_string_equal(json_string_value(json_object_get(b, "id")), "Y-06");
    assert_float_equal(json_real_value(json_object_get(b, "sim")), 0.283, 1e-12);
    assert_true(json_is_null(json_object_get(b, "decision")));          /* pending */
    assert_true(json_is_null(json_object_get(b, "days_to_first_meeting")));
    json_decref(j);
    j = http_json("GET", "/v1/cases/Y-01/similar?limit=1", g.secr, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "results")), 1);
    json_decref(j);
    /* Y-13 shares nothing above the threshold */
    j = http_json("GET", "/v1/cases/Y-13/similar", ADMIN, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "results")), 0);
    json_decref(j);
    expect_error("GET", "/v1/cases/NOPE/similar", g.coord, NULL, 404, "not-found", "NOPE");
    expect_error("GET", "/v1/cases/Y-01/similar?limit=0", g.coord, NULL, 400, "bad-limit", "limit");
    expect_error("GET", "/v1/cases/Y-01/similar?limit=51", g.coord, NULL, 400, "bad-limit", "limit");
    expect_error("GET", "/v1/cases/Y-01/similar?limit=x", g.coord, NULL, 400, "bad-limit", "limit");
    /* staff only: csw supports nothing here, but even an involved agency is refused */
    expect_error("GET", "/v1/cases/Y-01/similar", g.csw, NULL, 403, "forbidden", NULL);
}

/* ---- rule impact -------------------------------------------------------------------- */

static char *edited(const char *from, const char *to)
{
    char *src = read_file("rules/default.rules", NULL);
    char *at = strstr(src, from);
    assert_non_null(at);
    char *out = xasprintf("%.*s%s%s", (int)(at - src), src, to, at + strlen(from));
    free(src);
    return out;
}

static json_int_t decisions_count(void)
{
    json_t *j = http_json("GET", "/v1/decisions", ADMIN, NULL, 200);
    json_int_t n = (json_int_t)json_array_size(json_object_get(j, "decisions"));
    json_decref(j);
    return n;
}

static void test_rule_impact(void **state)
{
    json_int_t before = decisions_count();
    char *h60 = edited("score ひきこもり +30", "score ひきこもり +60");
    json_t *j = http_json("POST", "/v1/rules/impact?name=h60.rules", g.secr, h60, 200);
    assert_int_equal(json_integer_value(json_object_get(j, "open_cases")), 3);
    /* hikikomori is at its cap (10/10): no lead moves, supporters are the same set */
    assert_int_equal(json_array_size(json_object_get(j, "changed")), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "candidate"), "file")), "h60.rules");
    json_decref(j);

    char *work = edited("when member has 失業", "when member has 就労困難");
    j = http_json("POST", "/v1/rules/impact", ADMIN, work, 200);
    const json_t *rc = json_object_get(j, "rules_changed");
    assert_int_equal(json_array_size(rc), 0);   /* no open case here fires work */
    json_decref(j);

    /* hikikomori never fires: Y-01, Y-06 and Y-07 lose it */
    char *nohiki = edited("rule hikikomori\n  when member has ひきこもり",
                          "rule hikikomori\n  when member has 該当なしの課題");
    j = http_json("POST", "/v1/rules/impact", g.secr, nohiki, 200);
    rc = json_object_get(j, "rules_changed");
    assert_int_equal(json_array_size(rc), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rc, 0), "rule")), "hikikomori");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rc, 0), "current")), 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rc, 0), "candidate")), 0);
    assert_int_equal(json_array_size(json_object_get(json_array_get(rc, 0), "cases")), 3);
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(j, "changed"), i, e) {
        assert_true(json_array_size(json_object_get(e, "changes")) > 0);
        assert_true(strlen(json_string_value(json_object_get(json_object_get(e, "current"), "text"))) > 50);
        assert_true(strlen(json_string_value(json_object_get(json_object_get(e, "candidate"), "text"))) > 50);
    }
    json_decref(j);

    char *bad = xasprintf("policy \"x\"\nrule broken\n  when member has\n");
    expect_error("POST", "/v1/rules/impact?name=bad.rules", g.secr, bad, 400, "bad-rules", "bad.rules:");
    expect_error("POST", "/v1/rules/impact", g.coord, h60, 403, "forbidden", NULL);
    strbuf_t big;
    strbuf_init(&big);
    while (big.len <= 1024 * 1024)
        strbuf_puts(&big, "# padding padding padding padding padding padding padding\n");
    expect_error("POST", "/v1/rules/impact", g.secr, big.s, 413, "too-large", NULL);
    strbuf_free(&big);
    assert_int_equal(decisions_count(), before);       /* nothing stored */
    free(bad);
    free(nohiki);
    free(work);
    free(h60);
}

/* ---- the CLI ------------------------------------------------------------------------- */

static void test_cli(void **state)
{
    support_run_t r = support_daemon_cli(&g.d, NULL, g.secr, NULL,
        (const char *[]){ "stats", "--from", "2026-10-01", "--to", "2026-11-30", NULL });
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "新規事例"));
    assert_non_null(strstr(r.out, "2026-10"));
    free(r.out);
    r = support_daemon_cli(&g.d, NULL, g.secr, NULL,
        (const char *[]){ "stats", "--from", "2026-10-01", "--to", "2026-11-30", "--csv", NULL });
    assert_int_equal(r.code, 0);
    assert_memory_equal(r.out, "\xEF\xBB\xBF項目,値\r\n", strlen("\xEF\xBB\xBF項目,値\r\n"));
    free(r.out);
    r = support_daemon_cli(&g.d, NULL, g.secr, NULL, (const char *[]){ "similar", "Y-01", NULL });
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "Y-07"));
    assert_non_null(strstr(r.out, "共通: ルール hikikomori・8050"));
    free(r.out);
    r = support_daemon_cli(&g.d, NULL, g.csw, NULL, (const char *[]){ "similar", "Y-01", NULL });
    assert_int_equal(r.code, 1);
    free(r.out);
    char *file = support_path(g.d.dir, "cand.rules");
    char *h60 = edited("score ひきこもり +30", "score ひきこもり +60");
    assert_int_equal(support_write_file(file, h60, (size_t)-1), 0);
    r = support_daemon_cli(&g.d, NULL, g.secr, NULL, (const char *[]){ "rules", "impact", file, NULL });
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "cand.rules"));
    assert_non_null(strstr(r.out, "0 件が変わります"));
    free(r.out);
    assert_int_equal(support_write_file(file, "rule x\n  when nonsense\n", (size_t)-1), 0);
    r = support_daemon_cli(&g.d, NULL, g.secr, NULL, (const char *[]){ "rules", "impact", file, NULL });
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.out, "cand.rules:"));
    free(r.out);
    free(h60);
    free(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scripted_history),
        cmocka_unit_test(test_figures),
        cmocka_unit_test(test_csv_round_trip),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_similar),
        cmocka_unit_test(test_rule_impact),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
