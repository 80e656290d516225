/* SPDX-License-Identifier: MIT */
/*
 * itest_consent.c - 本人's consent holds on every path (issue 8, items 1,
 * 2, 3, 7 and 11), through a running tsunagud.
 *
 * One daemon for the group (temp database, free port, fixture city with
 * every feed fetched, TSUNAGU_NOW = the fixtures' now, mail written to a
 * maildir so the tests can read what each agency was sent).  Tests run in
 * order and share state:
 *   - item 1: every meeting type except 支援会議 is consent-based: Y-06
 *     (本人 excludes hikikomori) cannot invite hikikomori to 個別ケース会議
 *     or 定例会議 either, and Y-11 (no consent) cannot book them; a
 *     支援会議 may invite the excluded member, with a warning;
 *   - item 2: a case update that excludes a booked attendee removes it in
 *     the same transaction, queues it a CANCEL without the reason, and its
 *     links, list and meetings.ics stop working (410 for the links); a
 *     case update withdrawing consent puts the meeting in 要再調整 and
 *     tells the secretariat; both land in the case's audit trail;
 *   - item 3: consent_rows[] (one row per data route, next to the route
 *     table in spirit: every route registered with a data class must have
 *     a row, which test_every_data_route_has_a_consent_row checks against
 *     GET /v1/routes) run as an excluded, an uninvolved and an involved
 *     agency;
 *   - item 7: an agency gets the same 403 for a case that exists and one
 *     that does not;
 *   - item 11: re-importing agencies.json keeps the approved leads.
 */
#include "support_daemon.h"

#include <curl/curl.h>
#include <dirent.h>
#include <sqlite3.h>
#include <limits.h>
#include <stdio.h>

#include "imip.h"

#define CITY  "tests/data/yamanami"
#define ADMIN "itest-consent-admin-token-0123456789abcdef"

static struct {
    support_daemon_t d;
    char   *maildir;
    char   *chuo, *hiki, *jiritsu, *kodomo;   /* agency tokens */
    int64_t kobetsu;          /* C-WD 個別ケース会議 with hikikomori (item 2) */
    int64_t support_mtg;      /* Y-06 支援会議 with hikikomori (item 1) */
    long    decision;         /* approved decision of C-WD */
} g;

#define http_json(m, p, tok, b, want) support_api_json(&g.d, m, p, tok, b, want)
#define expect_error(m, p, tok, b, st, code, needle) \
    support_api_error(&g.d, m, p, tok, b, st, code, needle)

/* ---- helpers ------------------------------------------------------------ */

/* The fixture case n as JSON, renamed to id when id is non-NULL. */
static json_t *case_doc(int n, const char *id)
{
    char path[128];
    snprintf(path, sizeof path, CITY "/cases/Y-%02d.json", n);
    json_t *doc = json_load_file(path, 0, NULL);
    assert_non_null(doc);
    if (id)
        json_object_set_new(doc, "id", json_string(id));
    return doc;
}

static json_t *self_of(json_t *doc)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(doc, "members"), i, m)
        if (!strcmp(json_string_value(json_object_get(m, "relation")), "本人"))
            return m;
    fail_msg("no 本人");
    return NULL;
}

static void send_case(const char *method, const char *path, json_t *doc, long want)
{
    char *t = json_dumps(doc, JSON_COMPACT);
    json_decref(http_json(method, path, ADMIN, t, want));
    free(t);
}

static char *booking(const char *cs, const char *type, const char *start, const char *end,
                     const char *attendees)
{
    return xasprintf("{\"case\":\"%s\",\"type\":\"%s\",\"start\":\"%s\",\"end\":\"%s\","
                     "\"attendees\":%s,\"location\":\"市役所 会議室\"}", cs, type, start, end,
                     attendees);
}

/* POST /v1/meetings; on 409 retries at the first suggestion.  Returns the
 * final response (status in *status). */
static json_t *book(const char *cs, const char *type, const char *attendees, long *status)
{
    char *body = booking(cs, type, "2026-12-08T13:00:00+09:00", "2026-12-08T14:00:00+09:00",
                         attendees);
    support_resp_t r = support_daemon_http(&g.d, "POST", "/v1/meetings", ADMIN, body);
    free(body);
    json_t *j = json_loads(r.body.s, 0, NULL);
    if (r.status == 409) {
        json_t *s = json_array_get(json_object_get(j, "suggestions"), 0);
        if (!s)
            fail_msg("booking %s: 409 without suggestions: %s", cs, r.body.s);
        body = booking(cs, type, json_string_value(json_object_get(s, "start")),
                       json_string_value(json_object_get(s, "end")), attendees);
        json_decref(j);
        strbuf_free(&r.body);
        r = support_daemon_http(&g.d, "POST", "/v1/meetings", ADMIN, body);
        free(body);
        j = json_loads(r.body.s, 0, NULL);
    }
    *status = r.status;
    strbuf_free(&r.body);
    assert_non_null(j);
    return j;
}

static long long outbox_to(const char *rcpt, const char *kind)
{
    json_t *j = http_json("GET", "/v1/outbox", ADMIN, NULL, 200);
    size_t i;
    json_t *m;
    long long n = 0;
    json_array_foreach(json_object_get(j, "messages"), i, m)
        if (!strcmp(json_string_value(json_object_get(m, "rcpt")), rcpt) &&
            (!kind || !strcmp(json_string_value(json_object_get(m, "kind")), kind)))
            n++;
    json_decref(j);
    return n;
}

/* A message with its base64 parts decoded (after the raw text). */
static void append_decoded(strbuf_t *out, const char *raw)
{
    strbuf_printf(out, "%s\n", raw);
    const char *mark = "Content-Transfer-Encoding: base64\r\n\r\n";
    for (const char *p = strstr(raw, mark); p; p = strstr(p, mark)) {
        p += strlen(mark);
        const char *end = strstr(p, "\r\n--");
        size_t n = end ? (size_t)(end - p) : strlen(p), len;
        char *text = imip_base64_decode(p, n, &len);
        if (text)
            strbuf_printf(out, "%s\n", text);
        free(text);
    }
}

/* Every file in the maildir (new/ and cur/) addressed to rcpt, in name
 * order, concatenated and decoded: the text a mailbox received. */
static char *mail_to(const char *rcpt)
{
    strbuf_t all;
    strbuf_init(&all);
    const char *sub[] = { "new", "cur", "tmp" };
    for (int k = 0; k < 3; k++) {
        char *dir = xasprintf("%s/%s", g.maildir, sub[k]);
        struct dirent **ents;
        int n = scandir(dir, &ents, NULL, alphasort);
        for (int i = 0; i < n; i++) {
            char *p = xasprintf("%s/%s", dir, ents[i]->d_name);
            char *t = ents[i]->d_name[0] != '.' ? read_file(p, NULL) : NULL;
            const char *to = t ? strstr(t, "\nTo:") : NULL, *e = to ? to + 1 : NULL;
            while (e && (e = strchr(e, '\n')) && (e[1] == ' ' || e[1] == '\t'))
                e++;                                    /* folded header lines */
            char *line = to ? xstrndup(to + 1, e ? (size_t)(e - to - 1) : strlen(to + 1)) : NULL;
            if (line && strstr(line, rcpt))
                append_decoded(&all, t);
            free(line);
            free(t);
            free(p);
            free(ents[i]);
        }
        if (n >= 0)
            free(ents);
        free(dir);
    }
    return all.s ? all.s : xstrdup("");
}

/* Wait until the outbox has nothing pending (mail written to the maildir). */
static void wait_outbox_idle(void)
{
    for (int i = 0; i < 100; i++) {
        json_t *j = http_json("GET", "/v1/outbox", ADMIN, NULL, 200);
        json_t *c = json_object_get(j, "counts");
        long long busy = json_integer_value(json_object_get(c, "pending")) +
                         json_integer_value(json_object_get(c, "sending"));
        json_decref(j);
        if (!busy)
            return;
        struct timespec ts = { 0, 100 * 1000000L };
        nanosleep(&ts, NULL);
    }
    fail_msg("outbox did not drain");
}

/* ---- daemon ------------------------------------------------------------- */

static int group_setup(void **state)
{
    if (support_daemon_init(&g.d, "itest-consent") != 0)
        return -1;
    g.maildir = support_path(g.d.dir, "maildir");
    char *conf = xasprintf("ADMIN_TOKEN = " ADMIN "\nPOLL_INTERVAL = 600\n"
                           "MAIL_TRANSPORT = maildir\nMAIL_PATH = %s\n"
                           "SMTP_FROM = kyodo@yamanami.example\n"
                           "LINK_SECRET = itest-consent-link-secret-0123456789\n"
                           "PUBLIC_URL = http://127.0.0.1:%d\n", g.maildir, g.d.port);
    int rc = support_write_file(g.d.conf, conf, (size_t)-1);
    free(conf);
    if (rc)
        return -1;
    const char *env[] = { "TSUNAGU_NOW=" SUPPORT_FIXTURE_NOW, "TSUNAGU_SECRETS=", NULL };
    unsetenv("TSUNAGU_RULES");
    unsetenv("TSUNAGU_MAIL_TRANSPORT");
    unsetenv("TSUNAGU_SMTP_URL");
    /* TSUNAGU_ITEST_VALGRIND=1 runs the daemon under memcheck (as
     * itest_cases does); teardown then fails on leaks or memory errors */
    const char *vg = getenv("TSUNAGU_ITEST_VALGRIND") ? "valgrind -q --leak-check=full "
                     "--errors-for-leak-kinds=definite --error-exitcode=99" : NULL;
    return support_daemon_start(&g.d, vg, env, vg ? 60000 : 10000);
}

static void t3_free(void);

static int group_teardown(void **state)
{
    int status = support_daemon_stop(&g.d, getenv("TSUNAGU_ITEST_VALGRIND") ? 30000 : 5000);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 99) {
        char *l = support_read_log(g.d.log);
        fprintf(stderr, "valgrind reported errors:\n%s\n", l);
        free(l);
        return -1;
    }
    if (getenv("ITEST_KEEP")) {
        fprintf(stderr, "kept %s\n", g.d.dir);
        free(g.d.dir);
        g.d.dir = NULL;
    }
    support_daemon_free(&g.d);
    free(g.maildir);
    free(g.chuo); free(g.hiki); free(g.jiritsu); free(g.kodomo);
    t3_free();
    return 0;
}

static void test_import_city_and_cases(void **state)
{
    support_api_import_city(&g.d, ADMIN, CITY, NULL, NULL);
    g.chuo = support_api_token(&g.d, ADMIN, "agency:houkatsu-chuo", "itest-consent", NULL);
    g.hiki = support_api_token(&g.d, ADMIN, "agency:hikikomori", "itest-consent", NULL);
    g.jiritsu = support_api_token(&g.d, ADMIN, "agency:jiritsu", "itest-consent", NULL);
    g.kodomo = support_api_token(&g.d, ADMIN, "agency:kodomo", "itest-consent", NULL);
    json_t *doc = case_doc(6, NULL);                 /* 本人 excludes hikikomori */
    send_case("POST", "/v1/cases", doc, 201);
    json_decref(doc);
    doc = case_doc(11, NULL);                        /* 本人 did not consent */
    send_case("POST", "/v1/cases", doc, 201);
    json_decref(doc);
}

/* ---- item 1 ------------------------------------------------------------- */

static void test_every_consent_type_refuses_excluded_agency(void **state)
{
    const char *types[] = { "重層的支援会議", "個別ケース会議", "定例会議" };
    for (size_t i = 0; i < 3; i++) {
        long st;
        json_t *j = book("Y-06", types[i], "[\"kyodo\",\"jiritsu\",\"hikikomori\"]", &st);
        if (st != 422)
            fail_msg("%s with an excluded agency: HTTP %ld, wanted 422", types[i], st);
        assert_string_equal(json_string_value(json_object_get(j, "error")), "consent-excluded");
        assert_non_null(strstr(json_string_value(json_object_get(j, "message")), types[i]));
        json_decref(j);
    }
    assert_int_equal(outbox_to("hikikomori@yamanami.example", NULL), 0);
    /* no meeting shows up for hikikomori either */
    json_t *l = http_json("GET", "/v1/meetings", g.hiki, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(l, "meetings")), 0);
    json_decref(l);
}

static void test_every_consent_type_needs_consent(void **state)
{
    const char *types[] = { "重層的支援会議", "個別ケース会議", "定例会議" };
    for (size_t i = 0; i < 3; i++) {
        long st;
        json_t *j = book("Y-11", types[i], "[\"kyodo\",\"houkatsu-chuo\"]", &st);
        if (st != 422)
            fail_msg("%s without consent: HTTP %ld, wanted 422", types[i], st);
        assert_string_equal(json_string_value(json_object_get(j, "error")), "consent-required");
        assert_non_null(strstr(json_string_value(json_object_get(j, "message")), "支援会議"));
        json_decref(j);
    }
    assert_int_equal(outbox_to("houkatsu-chuo@yamanami.example", NULL), 0);
}

static void test_support_meeting_may_invite_excluded_member_with_warning(void **state)
{
    long st;
    json_t *j = book("Y-06", "支援会議", "[\"kyodo\",\"jiritsu\",\"hikikomori\"]", &st);
    assert_int_equal(st, 201);
    json_t *w = json_object_get(j, "warnings");
    assert_int_equal(json_array_size(w), 1);
    assert_non_null(strstr(json_string_value(json_array_get(w, 0)), "ひきこもり地域支援センター"));
    assert_non_null(strstr(json_string_value(json_array_get(w, 0)), "除外"));
    g.support_mtg = json_integer_value(json_object_get(j, "id"));
    json_decref(j);
    assert_int_equal(outbox_to("hikikomori@yamanami.example", "request"), 1);
    /* no warning when nobody excluded is invited */
    j = book("Y-06", "支援会議", "[\"kyodo\",\"jiritsu\"]", &st);
    assert_int_equal(st, 201);
    assert_null(json_object_get(j, "warnings"));
    json_decref(j);
}


/* ---- item 2 ------------------------------------------------------------- */

/* The link labelled `label` in the mail about case cs. */
static char *link_after(const char *text, const char *cs, const char *label)
{
    char *about = xasprintf("事例番号: %s\r\n", cs);
    const char *p = strstr(text, about);
    free(about);
    p = p ? strstr(p, label) : NULL;
    if (!p)
        fail_msg("no \"%s\" in mail", label);
    p += strlen(label);
    return xstrndup(p, strcspn(p, "\r\n"));
}

static long link_status(const char *method, const char *url)
{
    support_resp_t r = support_http_request(method, url, NULL, NULL, 10);
    strbuf_free(&r.body);
    return r.status;
}

static bool listed_for(const char *token, int64_t id)
{
    json_t *l = http_json("GET", "/v1/meetings", token, NULL, 200);
    size_t i;
    json_t *m;
    bool found = false;
    json_array_foreach(json_object_get(l, "meetings"), i, m)
        found |= json_integer_value(json_object_get(m, "id")) == id;
    json_decref(l);
    return found;
}

static char *ics_of(const char *agency, const char *token)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/agencies/%s/meetings.ics", agency);
    support_resp_t r = support_daemon_http(&g.d, "GET", path, token, NULL);
    assert_int_equal(r.status, 200);
    return r.body.s;
}

static json_t *audit_of(const char *cs)
{
    char path[96];
    snprintf(path, sizeof path, "/v1/cases/%s/audit", cs);
    json_t *j = http_json("GET", path, ADMIN, NULL, 200);
    json_t *a = json_incref(json_object_get(j, "audit"));
    json_decref(j);
    return a;
}

static size_t audit_count(const json_t *rows, const char *action, const char *agency)
{
    size_t i, n = 0;
    json_t *v;
    json_array_foreach(rows, i, v)
        if (!strcmp(json_string_value(json_object_get(v, "action")), action) &&
            (!agency || (json_is_string(json_object_get(v, "agency")) &&
                         !strcmp(json_string_value(json_object_get(v, "agency")), agency)))) {
            assert_non_null(strstr(json_string_value(json_object_get(v, "actor")), "admin"));
            assert_true(json_is_string(json_object_get(v, "at")));
            n++;
        }
    return n;
}

static void test_exclusion_after_booking_removes_attendee(void **state)
{
    /* C-WD: Y-06's household before 本人 excluded hikikomori */
    json_t *doc = case_doc(6, "C-WD");
    json_object_set_new(self_of(doc), "consent_excludes", json_array());
    send_case("POST", "/v1/cases", doc, 201);
    long st;
    json_t *m = book("C-WD", "個別ケース会議", "[\"kyodo\",\"jiritsu\",\"hikikomori\"]", &st);
    assert_int_equal(st, 201);
    g.kobetsu = json_integer_value(json_object_get(m, "id"));
    int seq = (int)json_integer_value(json_object_get(m, "sequence"));
    json_decref(m);
    wait_outbox_idle();
    char *before = mail_to("hikikomori@yamanami.example");
    char *accept = link_after(before, "C-WD", "出席: ");
    char *jiritsu_mail = mail_to("jiritsu@yamanami.example");
    char *jiritsu_accept = link_after(jiritsu_mail, "C-WD", "出席: ");
    free(before);
    free(jiritsu_mail);
    assert_true(listed_for(g.hiki, g.kobetsu));

    /* 本人 now excludes hikikomori */
    json_object_set_new(self_of(doc), "consent_excludes", json_pack("[s]", "hikikomori"));
    char *t = json_dumps(doc, JSON_COMPACT);
    json_t *j = http_json("PUT", "/v1/cases/C-WD", ADMIN, t, 200);
    free(t);
    json_t *ch = json_array_get(json_object_get(j, "meetings"), 0);
    assert_int_equal(json_integer_value(json_object_get(ch, "meeting")), g.kobetsu);
    assert_string_equal(json_string_value(json_array_get(json_object_get(ch, "removed"), 0)),
                        "hikikomori");
    json_decref(j);
    json_decref(doc);

    /* hikikomori: gone from the meeting, its list and feed; links 410 */
    char path[64];
    snprintf(path, sizeof path, "/v1/meetings/%lld", (long long)g.kobetsu);
    m = http_json("GET", path, ADMIN, NULL, 200);
    json_t *att = json_object_get(m, "attendees");
    size_t i;
    json_t *a;
    json_array_foreach(att, i, a)
        assert_string_not_equal(json_string_value(json_object_get(a, "agency")), "hikikomori");
    assert_int_equal(json_integer_value(json_object_get(m, "sequence")), seq);  /* others' links live */
    assert_string_equal(json_string_value(json_object_get(m, "status")), "scheduled");
    json_decref(m);
    assert_false(listed_for(g.hiki, g.kobetsu));
    expect_error("GET", path, g.hiki, NULL, 404, "not-found", NULL);
    char *ics = ics_of("hikikomori", g.hiki);
    assert_null(strstr(ics, "C-WD"));
    free(ics);
    assert_int_equal(link_status("GET", accept), 410);
    assert_int_equal(link_status("POST", accept), 410);
    assert_int_equal(link_status("GET", jiritsu_accept), 200);     /* the others go on */
    free(accept);
    free(jiritsu_accept);

    /* its CANCEL: queued, METHOD:CANCEL, and no reason in the text */
    assert_int_equal(outbox_to("hikikomori@yamanami.example", "cancel"), 1);
    wait_outbox_idle();
    char *after = mail_to("hikikomori@yamanami.example");
    char *cancel = strstr(after, "METHOD:CANCEL");
    assert_non_null(cancel);
    assert_null(strstr(after, "同意"));
    assert_null(strstr(after, "除外"));
    free(after);
    json_t *rows = audit_of("C-WD");
    assert_int_equal(audit_count(rows, "attendee-removed", "hikikomori"), 1);
    assert_int_equal(audit_count(rows, "consent-changed", NULL), 1);
    json_decref(rows);
}

static void test_consent_withdrawn_puts_meeting_in_replan(void **state)
{
    long long to_secretariat = outbox_to("kyodo@yamanami.example", "replan");
    json_t *doc = case_doc(6, "C-WD");
    json_object_set_new(self_of(doc), "consent", json_false());
    char *t = json_dumps(doc, JSON_COMPACT);
    json_t *j = http_json("PUT", "/v1/cases/C-WD", ADMIN, t, 200);
    free(t);
    json_decref(doc);
    json_t *ch = json_array_get(json_object_get(j, "meetings"), 0);
    assert_int_equal(json_integer_value(json_object_get(ch, "meeting")), g.kobetsu);
    assert_string_equal(json_string_value(json_object_get(ch, "status")), "replan");
    json_decref(j);
    char path[64];
    snprintf(path, sizeof path, "/v1/meetings/%lld", (long long)g.kobetsu);
    json_t *m = http_json("GET", path, ADMIN, NULL, 200);
    assert_string_equal(json_string_value(json_object_get(m, "status")), "replan");
    /* the 会議 screen says why: no decline, the consent */
    json_t *rp = json_object_get(m, "replan");
    assert_int_equal(json_array_size(json_object_get(rp, "declined")), 0);
    assert_non_null(strstr(json_string_value(json_object_get(rp, "message")), "本人の同意が取り消された"));
    json_decref(m);
    assert_int_equal(outbox_to("kyodo@yamanami.example", "replan"), to_secretariat + 1);
    wait_outbox_idle();
    char *mail = mail_to("kyodo@yamanami.example");
    assert_non_null(strstr(mail, "本人の同意が取り消されました"));
    assert_non_null(strstr(mail, "支援会議"));
    free(mail);
    json_t *rows = audit_of("C-WD");
    assert_int_equal(audit_count(rows, "meeting-replan", NULL), 1);
    assert_int_equal(audit_count(rows, "consent-changed", NULL), 2);
    json_decref(rows);
    /* the 支援会議 of Y-06 is statutory: a case update leaves it alone */
    doc = case_doc(6, NULL);
    t = json_dumps(doc, JSON_COMPACT);
    j = http_json("PUT", "/v1/cases/Y-06", ADMIN, t, 200);
    assert_int_equal(json_array_size(json_object_get(j, "meetings")), 0);
    json_decref(j);
    free(t);
    json_decref(doc);
}

/* ---- item 3: consent on every read --------------------------------------
 * consent_rows[]: one row per data route (api_route with a data class
 * other than API_DATA_NONE, see include/api/api.h), run as the agency 本人
 * excluded (hikikomori), an agency not involved (kodomo) and the involved
 * lead (jiritsu), each with the status it must get.  Placeholders: {C}
 * the case, {M} its meeting, {D} its decision, {A} the calling agency,
 * {L} the calling agency's RSVP token (kodomo has none: a made-up one),
 * {K} the calling agency's calendar subscription key (issued by itself).
 * A 200 to the excluded or uninvolved agency must not mention the case;
 * when `shows` is set, the involved agency's 200 must.  A NEW DATA ROUTE
 * MUST ADD A ROW: test_every_data_route_has_a_consent_row walks the
 * daemon's route table (GET /v1/routes) and fails for a route without. */
typedef struct consent_row {
    const char *method, *pattern, *path, *body;
    long        excluded, uninvolved, involved;
    bool        shows;
} consent_row_t;

#define CASE_BODY "{\"id\":\"C-X\",\"district\":\"中央\",\"meeting_type\":\"重層的支援会議\"," \
                  "\"members\":[{\"relation\":\"本人\",\"age\":40,\"consent\":true}]}"
static const consent_row_t consent_rows[] = {
    {"POST", "/v1/cases", "/v1/cases", CASE_BODY, 403, 403, 403, false},
    {"GET", "/v1/cases", "/v1/cases", NULL, 403, 403, 403, false},
    {"GET", "/v1/cases/{id}", "/v1/cases/{C}", NULL, 403, 403, 200, true},
    {"PUT", "/v1/cases/{id}", "/v1/cases/{C}", CASE_BODY, 403, 403, 403, false},
    {"POST", "/v1/cases/{id}/close", "/v1/cases/{C}/close", "{}", 403, 403, 403, false},
    {"GET", "/v1/cases/{id}/audit", "/v1/cases/{C}/audit", NULL, 403, 403, 403, false},
    {"POST", "/v1/cases/{id}/proposals", "/v1/cases/{C}/proposals", "{}", 403, 403, 403, false},
    {"GET", "/v1/decisions", "/v1/decisions", NULL, 403, 403, 403, false},
    {"GET", "/v1/decisions/{id}", "/v1/decisions/{D}", NULL, 403, 403, 403, false},
    {"POST", "/v1/decisions/{id}/approve", "/v1/decisions/{D}/approve", "{}", 403, 403, 403, false},
    {"POST", "/v1/decisions/{id}/override", "/v1/decisions/{D}/override",
     "{\"lead\":\"hikikomori\",\"reason\":\"x\"}", 403, 403, 403, false},
    {"POST", "/v1/meetings", "/v1/meetings", "{\"case\":\"{C}\"}", 403, 403, 403, false},
    {"GET", "/v1/meetings", "/v1/meetings", NULL, 200, 200, 200, true},
    {"GET", "/v1/meetings/{id}", "/v1/meetings/{M}", NULL, 404, 404, 200, true},
    {"POST", "/v1/meetings/{id}/reschedule", "/v1/meetings/{M}/reschedule", "{}", 403, 403, 403, false},
    {"POST", "/v1/meetings/{id}/cancel", "/v1/meetings/{M}/cancel", "{}", 403, 403, 403, false},
    {"POST", "/v1/meetings/{id}/answer", "/v1/meetings/{M}/answer", "{\"partstat\":\"TENTATIVE\"}",
     404, 404, 200, true},
    {"GET", "/v1/rsvp/{token}", "/v1/rsvp/{L}", NULL, 410, 403, 200, true},
    {"HEAD", "/v1/rsvp/{token}", "/v1/rsvp/{L}", NULL, 410, 403, 200, false},
    {"POST", "/v1/rsvp/{token}", "/v1/rsvp/{L}", NULL, 410, 403, 200, true},
    {"POST", "/v1/imip", "/v1/imip", "{\"message\":\"x\"}", 403, 403, 403, false},
    {"GET", "/v1/outbox", "/v1/outbox", NULL, 403, 403, 403, false},
    {"GET", "/v1/agencies/{id}/meetings.ics", "/v1/agencies/{A}/meetings.ics", NULL, 200, 200, 200, true},
    {"GET", "/v1/ics/{key}/meetings.ics", "/v1/ics/{K}/meetings.ics", NULL, 200, 200, 200, true},
    {"GET", "/v1/stats", "/v1/stats", NULL, 403, 403, 403, false},
    {"GET", "/v1/overview/home", "/v1/overview/home", NULL, 403, 403, 403, false},
    {"GET", "/v1/overview/cases", "/v1/overview/cases", NULL, 403, 403, 403, false},
    {"GET", "/v1/cases/{id}/similar", "/v1/cases/{C}/similar", NULL, 403, 403, 403, false},
    {"POST", "/v1/rules/impact", "/v1/rules/impact", "policy \"x\"\n", 403, 403, 403, false},
};

typedef struct actor {
    const char *agency, *token;
    char       *link;             /* RSVP token */
    char       *key;              /* calendar subscription key */
} actor_t;

static struct {
    int64_t meeting;
    long    decision;
    actor_t who[3];               /* excluded, uninvolved, involved */
} t3;

static void t3_free(void)
{
    for (int k = 0; k < 3; k++)
        free(t3.who[k].link), free(t3.who[k].key);
}

static char *token_of(const char *link)
{
    const char *p = strstr(link, "/v1/rsvp/");
    assert_non_null(p);
    return xstrdup(p + strlen("/v1/rsvp/"));
}

static void test_consent_table_setup(void **state)
{
    /* C-3: Y-06's household with a 母 who did not consent, before 本人
     * excluded hikikomori; proposed and approved (lead jiritsu), booked */
    json_t *doc = case_doc(6, "C-3");
    json_object_set_new(self_of(doc), "consent_excludes", json_array());
    json_array_append_new(json_object_get(doc, "members"),
                          json_pack("{s:s, s:i, s:[], s:b}", "relation", "母", "age", 85,
                                    "features", "consent", 0));
    send_case("POST", "/v1/cases", doc, 201);
    json_t *p = http_json("POST", "/v1/cases/C-3/proposals", ADMIN, "{}", 201);
    t3.decision = (long)json_integer_value(json_object_get(p, "decision"));
    assert_string_equal(json_string_value(json_object_get(p, "lead")), "jiritsu");
    json_decref(p);
    char path[64];
    snprintf(path, sizeof path, "/v1/decisions/%ld/approve", t3.decision);
    json_decref(http_json("POST", path, ADMIN, "{}", 200));
    long st;
    json_t *m = book("C-3", "重層的支援会議", "[\"kyodo\",\"jiritsu\",\"hikikomori\"]", &st);
    assert_int_equal(st, 201);
    t3.meeting = json_integer_value(json_object_get(m, "id"));
    json_decref(m);
    wait_outbox_idle();
    t3.who[0] = (actor_t){ "hikikomori", g.hiki, NULL, NULL };
    t3.who[1] = (actor_t){ "kodomo", g.kodomo, xstrdup("MXwxfGtvZG9tb3xBQ0NFUFRFRHwwfDE.bm90LXNpZ25lZA"), NULL };
    t3.who[2] = (actor_t){ "jiritsu", g.jiritsu, NULL, NULL };
    for (int k = 0; k < 3; k++) {          /* each agency issues its own key */
        char kpath[96];
        snprintf(kpath, sizeof kpath, "/v1/agencies/%s/ics-key", t3.who[k].agency);
        json_t *key = http_json("POST", kpath, t3.who[k].token, "{}", 201);
        t3.who[k].key = xstrdup(json_string_value(json_object_get(key, "key")));
        json_decref(key);
    }
    char *mail = mail_to("hikikomori@yamanami.example");
    char *l = link_after(mail, "C-3", "出席: ");
    t3.who[0].link = token_of(l);
    free(l);
    free(mail);
    mail = mail_to("jiritsu@yamanami.example");
    l = link_after(mail, "C-3", "出席: ");
    t3.who[2].link = token_of(l);
    free(l);
    free(mail);
    /* 本人 excludes hikikomori now */
    json_object_set_new(self_of(doc), "consent_excludes", json_pack("[s]", "hikikomori"));
    send_case("PUT", "/v1/cases/C-3", doc, 200);
    json_decref(doc);
    /* and the attendee row comes back behind the daemon's back: every read
     * must still refuse hikikomori on the case's word alone */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(g.d.db, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *sql = sqlite3_mprintf("INSERT INTO meeting_attendees(meeting_id, agency, email)"
                                " VALUES (%lld, 'hikikomori', 'hikikomori@yamanami.example')",
                                (long long)t3.meeting);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_free(sql);
    sqlite3_close(db);
}

static char *expand(const char *tmpl, const actor_t *a)
{
    strbuf_t b;
    strbuf_init(&b);
    for (const char *p = tmpl; *p; p++) {
        if (p[0] == '{' && p[1] && p[2] == '}') {
            switch (p[1]) {
            case 'C': strbuf_puts(&b, "C-3"); break;
            case 'M': strbuf_printf(&b, "%lld", (long long)t3.meeting); break;
            case 'D': strbuf_printf(&b, "%ld", t3.decision); break;
            case 'A': strbuf_puts(&b, a->agency); break;
            case 'L': strbuf_puts(&b, a->link); break;
            case 'K': strbuf_puts(&b, a->key); break;
            default: fail_msg("bad placeholder in %s", tmpl);
            }
            p += 2;
        } else {
            strbuf_printf(&b, "%c", *p);
        }
    }
    return b.s ? b.s : xstrdup("");
}

static size_t drop_body(char *p, size_t size, size_t n, void *arg) { return size * n; }

static long head_status(const char *path, const char *token)
{
    char *url = xasprintf("http://127.0.0.1:%d%s", g.d.port, path);
    char *auth = xasprintf("Authorization: Bearer %s", token);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, auth);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, drop_body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(auth);
    free(url);
    return status;
}

static void run_row(const consent_row_t *row, int k)
{
    static const char *const as[] = { "excluded", "uninvolved", "involved" };
    const actor_t *a = &t3.who[k];
    long want = k == 0 ? row->excluded : k == 1 ? row->uninvolved : row->involved;
    char *path = expand(row->path, a), *body = row->body ? expand(row->body, a) : NULL;
    long got;
    char *text = NULL;
    if (!strcmp(row->method, "HEAD")) {
        got = head_status(path, a->token);
    } else {
        support_resp_t r = support_daemon_http(&g.d, row->method, path, a->token, body);
        got = r.status;
        text = r.body.s ? r.body.s : xstrdup("");
    }
    if (got != want)
        fail_msg("%s %s as the %s agency (%s): HTTP %ld, wanted %ld: %s", row->method, path,
                 as[k], a->agency, got, want, text ? text : "");
    if (got == 200 && text && k < 2 && strstr(text, "C-3"))
        fail_msg("%s %s shows case C-3 to the %s agency %s: %s", row->method, path, as[k],
                 a->agency, text);
    if (got == 200 && text && k == 2 && row->shows && !strstr(text, "C-3"))
        fail_msg("%s %s does not show case C-3 to the involved agency: %s", row->method, path, text);
    free(text);
    free(path);
    free(body);
}

static void test_consent_rows(void **state)
{
    for (size_t i = 0; i < sizeof consent_rows / sizeof consent_rows[0]; i++)
        for (int k = 0; k < 3; k++)
            run_row(&consent_rows[i], k);
    /* per-member consent: the involved agency does not see the 母 */
    json_t *c = http_json("GET", "/v1/cases/C-3", g.jiritsu, NULL, 200);
    json_t *members = json_object_get(json_object_get(c, "case"), "members");
    assert_int_equal(json_array_size(members), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(members, 0), "relation")),
                        "本人");
    json_decref(c);
    c = http_json("GET", "/v1/cases/C-3", ADMIN, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(json_object_get(c, "case"), "members")), 2);
    json_decref(c);
}

static void test_every_data_route_has_a_consent_row(void **state)
{
    json_t *j = http_json("GET", "/v1/routes", ADMIN, NULL, 200);
    size_t i, data = 0;
    json_t *r;
    strbuf_t missing;
    strbuf_init(&missing);
    json_array_foreach(json_object_get(j, "routes"), i, r) {
        const char *m = json_string_value(json_object_get(r, "method"));
        const char *p = json_string_value(json_object_get(r, "path"));
        if (!strcmp(json_string_value(json_object_get(r, "data")), "none"))
            continue;
        data++;
        bool found = false;
        for (size_t k = 0; k < sizeof consent_rows / sizeof consent_rows[0]; k++)
            found |= !strcmp(consent_rows[k].method, m) && !strcmp(consent_rows[k].pattern, p);
        if (!found)
            strbuf_printf(&missing, " %s %s", m, p);
    }
    json_decref(j);
    assert_true(data > 0);
    if (missing.len)
        fail_msg("data routes without a row in consent_rows[]:%s", missing.s);
    strbuf_free(&missing);
    assert_int_equal(data, sizeof consent_rows / sizeof consent_rows[0]);  /* no stale rows */
}

/* ---- the 会議 screens' API (issue 10) -------------------------------------
 * POST /v1/slots with exclude_meeting leaves the meeting's own time free
 * (rescheduling it); an agency answers on screen (POST .../answer): only
 * an agency account, its own answer, recorded with who and when, and a
 * decline re-plans as a mailed one does; staff see the meeting's history,
 * the delivery of its mail and the 要再調整 suggestions, an agency none. */
static json_t *slots_at(const json_t *m, const char *extra)
{
    const char *st = json_string_value(json_object_get(m, "start"));
    const char *en = json_string_value(json_object_get(m, "end"));
    char *q = xasprintf("{\"required\":[\"jiritsu\",\"kyodo\"],\"duration_minutes\":60,"
                        "\"from\":\"%s\",\"to\":\"%s\",\"granularity_minutes\":15,\"limit\":5%s}",
                        st, en, extra);
    json_t *j = http_json("POST", "/v1/slots", ADMIN, q, 200);
    free(q);
    return j;
}

static bool has_action(const json_t *rows, const char *action)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
        if (!strcmp(json_string_value(json_object_get(r, "action")), action))
            return true;
    return false;
}

static void test_meeting_screens_api(void **state)
{
    char path[96], ex[64];
    snprintf(path, sizeof path, "/v1/meetings/%lld", (long long)t3.meeting);
    json_t *m = http_json("GET", path, ADMIN, NULL, 200);
    /* its own time is busy, unless excluded */
    json_t *s = slots_at(m, "");
    assert_int_equal(json_array_size(json_object_get(s, "slots")), 0);
    json_decref(s);
    snprintf(ex, sizeof ex, ",\"exclude_meeting\":%lld", (long long)t3.meeting);
    s = slots_at(m, ex);
    assert_int_equal(json_array_size(json_object_get(s, "slots")), 1);
    json_decref(s);
    json_decref(http_json("POST", "/v1/slots", ADMIN,
                          "{\"required\":[\"kyodo\"],\"exclude_meeting\":\"x\"}", 400));
    /* staff see history and delivery, with Japanese states and reasons */
    assert_true(has_action(json_object_get(m, "history"), "meeting-booked"));
    json_t *dl = json_object_get(m, "delivery");
    assert_true(json_array_size(dl) >= 2);
    assert_non_null(json_string_value(json_object_get(json_array_get(dl, 0), "state_label")));
    assert_non_null(json_string_value(json_object_get(json_array_get(dl, 0), "reason")));
    json_decref(m);
    json_t *a = http_json("GET", path, g.jiritsu, NULL, 200);
    assert_null(json_object_get(a, "history"));
    assert_null(json_object_get(a, "delivery"));
    json_decref(a);
    /* answering: agency accounts only, a known PARTSTAT */
    snprintf(path, sizeof path, "/v1/meetings/%lld/answer", (long long)t3.meeting);
    expect_error("POST", path, ADMIN, "{\"partstat\":\"ACCEPTED\"}", 403, "forbidden", "機関");
    expect_error("POST", path, g.jiritsu, "{\"partstat\":\"NEEDS-ACTION\"}", 400, "bad-field",
                 "partstat");
    a = http_json("POST", path, g.jiritsu, "{\"partstat\":\"DECLINED\"}", 200);
    assert_string_equal(json_string_value(json_object_get(a, "status")), "replan");
    assert_null(json_object_get(a, "note"));
    json_decref(a);
    snprintf(path, sizeof path, "/v1/meetings/%lld", (long long)t3.meeting);
    m = http_json("GET", path, ADMIN, NULL, 200);
    json_t *att;
    size_t i;
    json_array_foreach(json_object_get(m, "attendees"), i, att)
        if (!strcmp(json_string_value(json_object_get(att, "agency")), "jiritsu")) {
            assert_string_equal(json_string_value(json_object_get(att, "partstat")), "DECLINED");
            assert_non_null(json_string_value(json_object_get(att, "replied_at")));
            assert_non_null(strstr(json_string_value(json_object_get(att, "replied_by")), "jiritsu"));
        }
    json_t *rp = json_object_get(m, "replan");
    assert_non_null(rp);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(rp, "declined"), 0),
                                                          "agency")), "jiritsu");
    assert_true(json_is_array(json_object_get(rp, "suggestions")));
    assert_true(has_action(json_object_get(m, "history"), "meeting-answered"));
    assert_true(has_action(json_object_get(m, "history"), "meeting-declined"));
    /* rescheduling: the time stays busy for whoever declined it */
    s = slots_at(m, ex);
    assert_int_equal(json_array_size(json_object_get(s, "slots")), 0);
    json_decref(s);
    json_decref(m);
    assert_true(outbox_to("kyodo@yamanami.example", "replan") >= 1);
    json_t *rows = audit_of("C-3"), *v;      /* the case's trail names who answered */
    bool found = false;
    json_array_foreach(rows, i, v)
        if (!strcmp(json_string_value(json_object_get(v, "action")), "meeting-declined")) {
            assert_non_null(strstr(json_string_value(json_object_get(v, "actor")), "jiritsu"));
            found = true;
        }
    assert_true(found);
    json_decref(rows);
}

/* ---- item 7 ------------------------------------------------------------- */

static void test_agency_cannot_tell_whether_a_case_exists(void **state)
{
    const char *tokens[] = { g.kodomo, g.hiki };
    for (size_t i = 0; i < 2; i++) {
        support_resp_t exists = support_daemon_http(&g.d, "GET", "/v1/cases/C-3", tokens[i], NULL);
        support_resp_t unknown = support_daemon_http(&g.d, "GET", "/v1/cases/C-NONE", tokens[i], NULL);
        assert_int_equal(exists.status, 403);
        assert_int_equal(unknown.status, 403);
        assert_string_equal(exists.body.s, unknown.body.s);
        strbuf_free(&exists.body);
        strbuf_free(&unknown.body);
    }
    expect_error("GET", "/v1/cases/C-NONE", ADMIN, NULL, 404, "not-found", "C-NONE");
}

/* ---- item 11 ------------------------------------------------------------ */

static int lead_cases_of(const char *agency, int *base)
{
    char path[96];
    snprintf(path, sizeof path, "/v1/agencies/%s", agency);
    json_t *j = http_json("GET", path, ADMIN, NULL, 200);
    int n = (int)json_integer_value(json_object_get(j, "lead_cases"));
    if (base)
        *base = (int)json_integer_value(json_object_get(j, "lead_cases_base"));
    json_decref(j);
    return n;
}

static void import_with_jiritsu_base(int base)
{
    json_t *doc = support_city_doc(CITY, NULL, NULL);
    assert_non_null(doc);
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(doc, "agencies"), i, a)
        if (!strcmp(json_string_value(json_object_get(a, "id")), "jiritsu"))
            json_object_set_new(a, "lead_cases", json_integer(base));
    json_decref(support_api_post_doc(&g.d, "/v1/import", ADMIN, doc, 200));
    json_decref(doc);
}

static void test_reimport_keeps_approved_leads(void **state)
{
    /* the file says 14; C-3's approved lead (test_consent_table_setup) adds one */
    int base;
    assert_int_equal(lead_cases_of("jiritsu", &base), 15);
    assert_int_equal(base, 14);
    import_with_jiritsu_base(14);                 /* the same file again */
    assert_int_equal(lead_cases_of("jiritsu", &base), 15);
    assert_int_equal(base, 14);
    import_with_jiritsu_base(16);                 /* a corrected carried-in load */
    assert_int_equal(lead_cases_of("jiritsu", &base), 17);
    assert_int_equal(base, 16);
    /* the rules see the live count too: C-3's explanation shows 17 */
    json_t *p = http_json("POST", "/v1/cases/C-3/proposals", ADMIN, "{}", 201);
    size_t i;
    json_t *c;
    int seen = -1;
    json_array_foreach(json_object_get(p, "candidates"), i, c)
        if (!strcmp(json_string_value(json_object_get(c, "agency")), "jiritsu"))
            seen = (int)json_integer_value(json_object_get(c, "lead_cases"));
    assert_int_equal(seen, 17);
    json_decref(p);
    json_decref(http_json("POST", "/v1/cases/C-3/close", ADMIN, "{}", 200));
    assert_int_equal(lead_cases_of("jiritsu", NULL), 16);    /* released */
    import_with_jiritsu_base(14);
    assert_int_equal(lead_cases_of("jiritsu", NULL), 14);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_city_and_cases),
        cmocka_unit_test(test_every_consent_type_refuses_excluded_agency),
        cmocka_unit_test(test_every_consent_type_needs_consent),
        cmocka_unit_test(test_support_meeting_may_invite_excluded_member_with_warning),
        cmocka_unit_test(test_exclusion_after_booking_removes_attendee),
        cmocka_unit_test(test_consent_withdrawn_puts_meeting_in_replan),
        cmocka_unit_test(test_consent_table_setup),
        cmocka_unit_test(test_consent_rows),
        cmocka_unit_test(test_every_data_route_has_a_consent_row),
        cmocka_unit_test(test_meeting_screens_api),
        cmocka_unit_test(test_agency_cannot_tell_whether_a_case_exists),
        cmocka_unit_test(test_reimport_keeps_approved_leads),
    };
    return cmocka_run_group_tests_name("itest_consent", tests, group_setup, group_teardown);
}
