/* SPDX-License-Identifier: MIT */
/*
 * test_imip.c - iMIP builder and REPLY parser.
 *
 * The generated mail is checked three ways: libical parses the calendar
 * part and its METHOD restrictions hold (icalrestriction_check), Python's
 * email + icalendar modules accept the whole message
 * (tests/support/check_imip.py), and the raw bytes are inspected for
 * header injection, RFC 2047 subjects and the confidentiality rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <jansson.h>
#include <libical/ical.h>

#include "imip.h"
#include "mailbox.h"
#include "support_proc.h"
#include "timeutil.h"
#include "util.h"

static const imip_attendee_t attendees[] = {
    { "chuo@houkatsu.yamanami.example", "中央地域包括支援センター", true, PARTSTAT_NEEDS_ACTION, false },
    { "jiritsu@yamanami.example", "自立相談支援機関", true, PARTSTAT_NEEDS_ACTION, false },
    { "kyodo@yamanami.example", "多機関協働事務局", false, PARTSTAT_NEEDS_ACTION, false },
};

static imip_meeting_t sample_meeting(const char *type)
{
    imip_meeting_t m = {
        .uid = "tsunagu-meeting-7-ab12@yamanami.example",
        .sequence = 0,
        .case_id = "Y-01",
        .meeting_type = type,
        .location = "やまなみ市役所 本庁舎3階 第2会議室",
        .url = "https://meet.example/room-7",
        .organizer_email = "kyodo@yamanami.example",
        .organizer_name = "やまなみ市 多機関協働事務局",
        .attendees = attendees,
        .nattendees = 3,
    };
    int64_t day = days_from_civil(2026, 12, 3);
    m.start = tz_local_to_utc(tz_default(), day, 10 * 3600);
    m.end = m.start + 3600;
    m.dtstamp = m.start - 86400;
    return m;
}

/* Decode the base64 body of the part whose Content-Type starts with ctype. */
static char *part_body(const char *raw, const char *ctype)
{
    const char *p = strstr(raw, ctype);
    if (!p) return NULL;
    p = strstr(p, "\r\n\r\n");
    if (!p) return NULL;
    p += 4;
    const char *end = strstr(p, "\r\n--");
    return imip_base64_decode(p, end ? (size_t)(end - p) : strlen(p), NULL);
}

static imip_mail_t build_ok(const imip_meeting_t *m, imip_method_t method, int who)
{
    imip_mail_t mail;
    char *err = NULL;
    imip_links_t links = { "https://t.example/v1/rsvp/A", "https://t.example/v1/rsvp/D",
                           "https://t.example/v1/rsvp/T" };
    bool ok = imip_build(m, method, &attendees[who], &links, &mail, &err);
    if (!ok) fail_msg("imip_build: %s", err ? err : "?");
    return mail;
}

/* A message in the invitation shape around a given calendar text. */
static char *shaped_mail(const char *cal)
{
    char *c64 = imip_base64_encode_lines(cal, strlen(cal));
    char *raw = xasprintf(
        "From: x@yamanami.example\r\nTo: y@yamanami.example\r\nSubject: t\r\n"
        "Message-ID: <t@yamanami.example>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=\"M\"\r\n\r\n"
        "--M\r\nContent-Type: multipart/alternative; boundary=\"A\"\r\n\r\n"
        "--A\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\ntext\r\n"
        "--A\r\nContent-Type: text/calendar; charset=UTF-8; method=REQUEST\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n%s--A--\r\n--M--\r\n", c64);
    free(c64);
    return raw;
}

/* Run the Python checker on raw mail; returns its exit status. */
static int run_checker(const char *raw, const char *const extra[], char **out)
{
    char *dir = support_mkdtemp("imip");
    char *file = support_path(dir, "mail.eml");
    char *log = support_path(dir, "out.txt");
    assert_int_equal(support_write_file(file, raw, (size_t)-1), 0);
    const char *argv[24] = { "/usr/bin/python3", "tests/support/check_imip.py" };
    size_t n = 2;
    for (size_t i = 0; extra && extra[i] && n < 22; i++) argv[n++] = extra[i];
    argv[n++] = file;
    argv[n] = NULL;
    pid_t pid = support_spawn(argv, NULL, NULL, log);
    assert_true(pid > 0);
    int status = 0;
    waitpid(pid, &status, 0);
    char *text = support_read_log(log);
    if (out) *out = text;
    else free(text);
    support_rmtree(dir);
    free(dir); free(file); free(log);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
}

static void test_calendar_validates_with_libical(void **state)
{
    imip_meeting_t m = sample_meeting("支援会議");
    for (int method = IMIP_REQUEST; method <= IMIP_CANCEL; method++) {
        imip_mail_t mail = build_ok(&m, (imip_method_t)method, 0);
        char *ics = part_body(mail.raw, "text/calendar");
        assert_non_null(ics);
        char *direct = imip_calendar(&m, (imip_method_t)method);
        assert_string_equal(ics, direct);
        icalcomponent *cal = icalparser_parse_string(ics);
        assert_non_null(cal);
        assert_int_equal(icalcomponent_get_method(cal),
                         method == IMIP_REQUEST ? ICAL_METHOD_REQUEST : ICAL_METHOD_CANCEL);
        assert_true(icalrestriction_check(cal));
        assert_int_equal(icalcomponent_count_errors(cal), 0);
        icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
        assert_string_equal(icalcomponent_get_uid(ev), m.uid);
        assert_string_equal(icalcomponent_get_summary(ev), "Y-01 支援会議");
        struct icaltimetype st = icalcomponent_get_dtstart(ev);
        assert_string_equal(icaltime_get_tzid(st), "Asia/Tokyo");
        assert_int_equal(st.hour, 10);
        assert_non_null(st.zone);     /* TZID resolved against the VTIMEZONE */
        assert_int_equal((int64_t)icaltime_as_timet_with_zone(st, st.zone), m.start);
        assert_non_null(icalcomponent_get_first_component(cal, ICAL_VTIMEZONE_COMPONENT));
        int natt = 0;
        for (icalproperty *a = icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY); a;
             a = icalcomponent_get_next_property(ev, ICAL_ATTENDEE_PROPERTY)) {
            icalparameter *r = icalproperty_get_first_parameter(a, ICAL_RSVP_PARAMETER);
            assert_non_null(r);
            assert_int_equal(icalparameter_get_rsvp(r),
                             method == IMIP_REQUEST ? ICAL_RSVP_TRUE : ICAL_RSVP_FALSE);
            /* the organizer (kyodo) is never also an ATTENDEE */
            assert_null(strstr(icalproperty_get_attendee(a), m.organizer_email));
            natt++;
        }
        assert_int_equal(natt, 2);
        icalcomponent_free(cal);
        free(ics); free(direct);
        imip_mail_free(&mail);
    }
}

static void test_python_checker_accepts_request_and_cancel(void **state)
{
    imip_meeting_t m = sample_meeting("支援会議");
    imip_mail_t req = build_ok(&m, IMIP_REQUEST, 1);
    const char *a1[] = { "--method", "REQUEST", "--summary", "Y-01 支援会議", "--confidential", NULL };
    char *out = NULL;
    int rc = run_checker(req.raw, a1, &out);
    if (rc != 0) fail_msg("checker: %s", out);
    assert_non_null(strstr(out, "\"sequence\": 0"));
    assert_non_null(strstr(out, "【会議案内】Y-01 支援会議"));   /* decoded subject */
    free(out);
    m.sequence = 2;
    imip_mail_t can = build_ok(&m, IMIP_CANCEL, 1);
    const char *a2[] = { "--method", "CANCEL", "--confidential", NULL };
    rc = run_checker(can.raw, a2, &out);
    if (rc != 0) fail_msg("checker: %s", out);
    assert_non_null(strstr(out, "\"status\": \"CANCELLED\""));
    assert_non_null(strstr(out, "【会議中止】"));
    free(out);
    /* the checker is not a rubber stamp: a wrong method fails */
    const char *a3[] = { "--method", "REQUEST", NULL };
    assert_int_not_equal(run_checker(can.raw, a3, NULL), 0);
    imip_mail_free(&req);
    imip_mail_free(&can);
}

static void test_confidentiality_notice_only_for_support_meeting(void **state)
{
    imip_meeting_t m = sample_meeting("支援会議");
    imip_mail_t a = build_ok(&m, IMIP_REQUEST, 0);
    char *text = part_body(a.raw, "text/plain");
    assert_non_null(strstr(text, "守秘義務"));
    assert_non_null(strstr(text, "社会福祉法第106条の6"));
    free(text);
    m = sample_meeting("重層的支援会議");
    imip_mail_t b = build_ok(&m, IMIP_REQUEST, 0);
    text = part_body(b.raw, "text/plain");
    assert_null(strstr(text, "守秘義務"));
    assert_non_null(strstr(text, "重層的支援会議"));
    free(text);
    const char *args[] = { "--confidential", NULL };
    assert_int_not_equal(run_checker(b.raw, args, NULL), 0);
    imip_mail_free(&a);
    imip_mail_free(&b);
}

/* Decode every encoded word of the Subject header and join them. */
static char *decoded_subject(const char *raw)
{
    const char *p = strstr(raw, "\r\nSubject: ");
    assert_non_null(p);
    p += 11;
    strbuf_t b;
    strbuf_init(&b);
    for (;;) {
        const char *eol = strstr(p, "\r\n");
        assert_true(eol - p <= 76);                     /* folded */
        assert_true(strncmp(p, "=?UTF-8?B?", 10) == 0);
        const char *q = strstr(p + 10, "?=");
        assert_true(q && q + 2 == eol);
        size_t n;
        char *dec = imip_base64_decode(p + 10, (size_t)(q - p - 10), &n);
        assert_true(utf8_valid(dec, n));                /* split on char boundary */
        strbuf_add(&b, dec, n);
        free(dec);
        if (eol[2] != ' ') break;
        p = eol + 3;
    }
    return strbuf_detach(&b);
}

static void test_subject_rfc2047_folded(void **state)
{
    imip_meeting_t m = sample_meeting("重層的支援会議");
    m.case_id = "Y-01-長い事例番号の例として十分に長い文字列を与えて折り返しを起こす";
    imip_mail_t mail = build_ok(&m, IMIP_REQUEST, 0);
    char *subj = decoded_subject(mail.raw);
    assert_string_equal(subj, mail.subject);
    assert_non_null(strstr(subj, "【会議案内】"));
    assert_non_null(strstr(subj, "2026年12月3日(木) 10:00"));
    free(subj);
    char *enc = imip_encode_header("abc", 9);
    assert_string_equal(enc, "abc");                    /* plain ASCII stays */
    free(enc);
    enc = imip_encode_header("=?x?= trick", 9);         /* looks encoded: encode */
    assert_true(strncmp(enc, "=?UTF-8?B?", 10) == 0);
    free(enc);
    imip_mail_free(&mail);
}

static bool has_line_starting(const char *raw, const char *prefix)
{
    for (const char *p = raw; p; p = strchr(p, '\n')) {
        if (*p == '\n') p++;
        if (strncasecmp(p, prefix, strlen(prefix)) == 0) return true;
    }
    return false;
}

static void test_header_injection_neutralised(void **state)
{
    imip_meeting_t m = sample_meeting("支援会議");
    m.case_id = "Y-01\r\nBcc: evil@attacker.example";
    m.location = "会議室\r\nX-Evil: 1\nATTENDEE:mailto:evil@attacker.example";
    imip_attendee_t to = { "jiritsu@yamanami.example", "名前\r\nBcc: evil@attacker.example",
                           true, PARTSTAT_NEEDS_ACTION, false };
    imip_attendee_t list[] = { to };
    m.attendees = list;
    m.nattendees = 1;
    m.organizer_name = "事務局\r\nReply-To: evil@attacker.example";
    imip_mail_t mail;
    char *err = NULL;
    assert_true(imip_build(&m, IMIP_REQUEST, &to, NULL, &mail, &err));
    assert_false(has_line_starting(mail.raw, "Bcc:"));
    assert_false(has_line_starting(mail.raw, "Reply-To:"));
    assert_false(has_line_starting(mail.raw, "X-Evil"));
    char *ics = part_body(mail.raw, "text/calendar");
    assert_false(has_line_starting(ics, "X-Evil"));
    icalcomponent *cal = icalparser_parse_string(ics);
    icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
    assert_int_equal(icalcomponent_count_properties(ev, ICAL_ATTENDEE_PROPERTY), 1);
    assert_int_equal(icalcomponent_count_properties(ev, ICAL_X_PROPERTY), 0);
    /* the location survives as one escaped TEXT value */
    assert_non_null(strstr(icalcomponent_get_location(ev), "X-Evil: 1"));
    icalcomponent_free(cal);
    free(ics);
    const char *args[] = { "--method", "REQUEST", NULL };
    char *out = NULL;
    int rc = run_checker(mail.raw, args, &out);
    if (rc != 0) fail_msg("checker: %s", out);
    free(out);
    imip_mail_free(&mail);

    /* addresses with CR/LF or specials are refused outright */
    imip_attendee_t bad = { "a@b.example\r\nBcc: c@d.example", "x", true, 0, false };
    assert_false(imip_build(&m, IMIP_REQUEST, &bad, NULL, &mail, &err));
    assert_non_null(err);
    free(err);
    m.organizer_email = "kyodo@yamanami.example>\r\nX: y";
    err = NULL;
    assert_false(imip_build(&m, IMIP_REQUEST, &to, NULL, &mail, &err));
    free(err);
    m.organizer_email = "kyodo@yamanami.example";
    m.url = "javascript:alert(1)";
    err = NULL;
    assert_false(imip_build(&m, IMIP_REQUEST, &to, NULL, &mail, &err));
    free(err);
    assert_false(imip_valid_email("a b@c.example"));
    assert_false(imip_valid_email("a@b@c"));
    assert_false(imip_valid_email("@c.example"));
    assert_true(imip_valid_email("kikan.a+x@yamanami.example"));
}

static void test_no_personal_data(void **state)
{
    /* Y-01's title, relations, ages and issues must not leak into mail. */
    json_error_t jerr;
    json_t *c = json_load_file("tests/data/yamanami/cases/Y-01.json", 0, &jerr);
    assert_non_null(c);
    imip_meeting_t m = sample_meeting(json_string_value(json_object_get(c, "meeting_type")));
    m.case_id = json_string_value(json_object_get(c, "id"));
    imip_mail_t mail = build_ok(&m, IMIP_REQUEST, 0);
    const char *args[24] = { "--summary", "Y-01 重層的支援会議" };
    size_t n = 2;
    args[n++] = "--forbid";
    args[n++] = json_string_value(json_object_get(c, "title"));
    size_t i;
    json_t *mem;
    char ages[4][8];
    json_array_foreach(json_object_get(c, "members"), i, mem) {
        json_t *f;
        size_t j;
        json_array_foreach(json_object_get(mem, "features"), j, f) {
            if (n < 18) { args[n++] = "--forbid"; args[n++] = json_string_value(f); }
        }
        if (i < 4 && n < 20) {
            snprintf(ages[i], sizeof ages[i], "%d歳", (int)json_integer_value(json_object_get(mem, "age")));
            args[n++] = "--forbid";
            args[n++] = ages[i];
        }
    }
    args[n] = NULL;
    assert_true(n > 6);
    char *out = NULL;
    int rc = run_checker(mail.raw, args, &out);
    if (rc != 0) fail_msg("checker: %s", out);
    free(out);
    /* and the checker does catch a leak */
    imip_meeting_t leak = m;
    leak.location = json_string_value(json_object_get(c, "title"));
    imip_mail_t bad = build_ok(&leak, IMIP_REQUEST, 0);
    assert_int_not_equal(run_checker(bad.raw, args, NULL), 0);
    imip_mail_free(&bad);
    imip_mail_free(&mail);
    json_decref(c);
}

static void test_message_id_stable_and_unique(void **state)
{
    imip_meeting_t m = sample_meeting("支援会議");
    imip_mail_t a = build_ok(&m, IMIP_REQUEST, 0);
    imip_mail_t b = build_ok(&m, IMIP_REQUEST, 0);
    imip_mail_t c = build_ok(&m, IMIP_REQUEST, 1);
    m.sequence = 1;
    imip_mail_t d = build_ok(&m, IMIP_REQUEST, 0);
    imip_mail_t e = build_ok(&m, IMIP_CANCEL, 0);
    assert_string_equal(a.message_id, b.message_id);
    assert_string_equal(a.raw, b.raw);
    assert_string_not_equal(a.message_id, c.message_id);
    assert_string_not_equal(a.message_id, d.message_id);
    assert_string_not_equal(d.message_id, e.message_id);
    assert_non_null(strstr(a.message_id, "@yamanami.example>"));
    assert_null(strchr(a.message_id + 1, '<'));
    imip_mail_free(&a); imip_mail_free(&b); imip_mail_free(&c);
    imip_mail_free(&d); imip_mail_free(&e);
}

static void test_long_utf8_lines_fold_on_boundaries(void **state)
{
    imip_meeting_t m = sample_meeting("支援会議");
    m.location = "やまなみ市役所本庁舎三階第二会議室（北側エレベーターを降りて右手、受付で事務局とお伝えください）";
    char *ics = imip_calendar(&m, IMIP_REQUEST);
    for (char *line = ics; *line;) {
        char *eol = strstr(line, "\r\n");
        assert_non_null(eol);
        assert_true(eol - line <= 75);
        assert_true(utf8_valid(line, (size_t)(eol - line)));
        line = eol + 2;
    }
    icalcomponent *cal = icalparser_parse_string(ics);
    icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
    assert_string_equal(icalcomponent_get_location(ev), m.location);
    icalcomponent_free(cal);
    free(ics);
}

static const char reply_cal[] =
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Mail//EN\r\nMETHOD:REPLY\r\n"
    "BEGIN:VEVENT\r\nUID:tsunagu-meeting-7-ab12@yamanami.example\r\nSEQUENCE:1\r\n"
    "DTSTAMP:20261201T000000Z\r\nDTSTART:20261203T010000Z\r\n"
    "ORGANIZER:mailto:kyodo@yamanami.example\r\n"
    "ATTENDEE;PARTSTAT=DECLINED;CN=Jiritsu:mailto:Jiritsu@Yamanami.example\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n";

static char *reply_mail(const char *cte, const char *cal, const char *from)
{
    char *body;
    if (strcmp(cte, "base64") == 0) body = imip_base64_encode_lines(cal, strlen(cal));
    else body = xstrdup(cal);
    char *m = xasprintf(
        "From: =?UTF-8?B?5LuW?= <%s>\r\nTo: kyodo@yamanami.example\r\n"
        "Subject: Declined\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed;\r\n boundary=\"outer\"\r\n\r\n"
        "--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n"
        "--inner\r\nContent-Type: text/plain\r\n\r\nI decline.\r\n"
        "--inner\r\nContent-Type: text/calendar; method=REPLY; charset=UTF-8\r\n"
        "Content-Transfer-Encoding: %s\r\n\r\n%s\r\n--inner--\r\n--outer--\r\n",
        from, cte, body);
    free(body);
    return m;
}

static void test_parse_reply_base64_nested(void **state)
{
    char *raw = reply_mail("base64", reply_cal, "jiritsu@yamanami.example");
    imip_reply_t r;
    char *err = NULL;
    if (!imip_parse_reply(raw, strlen(raw), &r, &err)) fail_msg("%s", err);
    assert_string_equal(r.from, "jiritsu@yamanami.example");
    assert_string_equal(r.attendee, "jiritsu@yamanami.example");   /* lower-cased */
    assert_string_equal(r.uid, "tsunagu-meeting-7-ab12@yamanami.example");
    assert_int_equal(r.sequence, 1);
    assert_int_equal(r.partstat, PARTSTAT_DECLINED);
    imip_reply_free(&r);
    free(raw);
}

/* From is exactly one RFC 5322 mailbox (issue 8 item 8): the forms real
 * mailers write pass; lists, trailing text and a second address fail. */
static void test_mailbox_parse(void **state)
{
    static const struct { const char *in, *want; } ok[] = {
        { "jiritsu@yamanami.example", "jiritsu@yamanami.example" },
        { "  Jiritsu@Yamanami.Example  ", "jiritsu@yamanami.example" },
        { "<a@b.example>", "a@b.example" },
        { "自立相談 <a@b.example>", "a@b.example" },
        { "=?UTF-8?B?5LuW?= <a@b.example>", "a@b.example" },
        { "\"Kyodo, Jimukyoku\" <a@b.example>", "a@b.example" },
        { "\"a@x.example\" <a@b.example>", "a@b.example" },
        { "a@b.example (自立相談)", "a@b.example" },
        { "(c) Name (d) < a@b.example > (e)", "a@b.example" },
        { "Mr. J. Smith <a.b@c.example>", "a.b@c.example" },
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        char *a = mailbox_parse(ok[i].in);
        if (!a || strcmp(a, ok[i].want) != 0)
            fail_msg("mailbox_parse(%s) = %s, wanted %s", ok[i].in, a ? a : "NULL", ok[i].want);
        free(a);
    }
    const char *bad[] = {
        "<houkatsu-chuo@yamanami.example> evil@attacker.example",
        "houkatsu-chuo@yamanami.example evil@attacker.example",
        "a@b.example, evil@attacker.example",
        "A <a@b.example>, B <evil@attacker.example>",
        "<a@b.example><evil@attacker.example>",
        "A <a@b.example> trailing",
        "group: a@b.example;",
        "", "   ", "<>", "a@", "@b.example", "a@@b.example", "a@b..example", "<a@b.example",
        "\"unterminated <a@b.example>", "(unterminated a@b.example", "a@b.example (x",
        "a b@c.example", "\"q\"@b.example", "a@[127.0.0.1]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *a = mailbox_parse(bad[i]);
        if (a)
            fail_msg("mailbox_parse(%s) accepted as %s", bad[i], a);
    }
    assert_null(mailbox_parse(NULL));
}

/* A reply whose From holds anything but one mailbox, or that has two
 * From: fields, is refused (it was read as the address in <>). */
static void test_parse_reply_from_must_be_one_mailbox(void **state)
{
    const char *froms[] = {
        "<jiritsu@yamanami.example> evil@attacker.example",
        "jiritsu@yamanami.example, evil@attacker.example",
    };
    for (size_t i = 0; i < sizeof froms / sizeof *froms; i++) {
        char *raw = reply_mail("base64", reply_cal, froms[i]);
        /* reply_mail wraps the address in "=?..?= <%s>"; unwrap to test the raw From */
        char *hdr_end = strstr(raw, "\r\n");
        char *rest = xstrdup(hdr_end);
        char *msg = xasprintf("From: %s%s", froms[i], rest);
        imip_reply_t r;
        char *err = NULL;
        if (imip_parse_reply(msg, strlen(msg), &r, &err))
            fail_msg("accepted From: %s as %s", froms[i], r.from);
        assert_non_null(strstr(err, "From"));
        free(err);
        free(msg);
        free(rest);
        free(raw);
    }
    char *raw = reply_mail("base64", reply_cal, "jiritsu@yamanami.example");
    char *msg = xasprintf("From: evil@attacker.example\r\n%s", raw);
    imip_reply_t r;
    char *err = NULL;
    if (imip_parse_reply(msg, strlen(msg), &r, &err))
        fail_msg("accepted two From: fields as %s", r.from);
    assert_non_null(strstr(err, "From"));
    free(err);
    free(msg);
    free(raw);
}

static void test_parse_reply_quoted_printable_lf(void **state)
{
    /* QP with a soft line break inside the ATTENDEE line, bare LF ends */
    char *cal = xstrdup(reply_cal);
    char *qp = xasprintf("%s", cal);
    free(cal);
    strbuf_t b;
    strbuf_init(&b);
    for (char *p = qp; *p; p++) {
        if (*p == '\r') continue;
        if (strncmp(p, "PARTSTAT=DECLINED", 17) == 0) {
            strbuf_puts(&b, "PARTSTAT=3DTENTA=\nTIVE");
            p += 16;
            continue;
        }
        strbuf_putc(&b, *p);
    }
    free(qp);
    char *raw = xasprintf("From: jiritsu@yamanami.example\nSubject: x\n"
                          "Content-Type: text/calendar; method=REPLY\n"
                          "Content-Transfer-Encoding: quoted-printable\n\n%s", b.s);
    strbuf_free(&b);
    imip_reply_t r;
    char *err = NULL;
    if (!imip_parse_reply(raw, strlen(raw), &r, &err)) fail_msg("%s", err);
    assert_int_equal(r.partstat, PARTSTAT_TENTATIVE);
    imip_reply_free(&r);
    free(raw);
}

static void test_parse_reply_rejects_bad_input(void **state)
{
    imip_reply_t r;
    char *err = NULL;
    const char *cases[] = {
        "",
        "no headers at all",
        "From: a@b.example\r\nContent-Type: text/plain\r\n\r\nhello\r\n",
        "Content-Type: text/calendar\r\n\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
        "From: a@b.example\r\nContent-Type: text/calendar\r\n\r\nnot a calendar\r\n",
        "From: a@b.example\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        err = NULL;
        assert_false(imip_parse_reply(cases[i], strlen(cases[i]), &r, &err));
        assert_non_null(err);
        free(err);
    }
    /* a REQUEST is not a reply */
    imip_meeting_t m = sample_meeting("支援会議");
    imip_mail_t mail = build_ok(&m, IMIP_REQUEST, 0);
    err = NULL;
    assert_false(imip_parse_reply(mail.raw, mail.len, &r, &err));
    assert_non_null(strstr(err, "REPLY"));
    free(err);
    imip_mail_free(&mail);
    /* missing PARTSTAT */
    char *cal = xstrdup(reply_cal);
    char *p = strstr(cal, "PARTSTAT=DECLINED;");
    memmove(p, p + 18, strlen(p + 18) + 1);
    char *raw = reply_mail("7bit", cal, "jiritsu@yamanami.example");
    err = NULL;
    assert_false(imip_parse_reply(raw, strlen(raw), &r, &err));
    free(err);
    free(raw);
    free(cal);
}

static void test_text_mail(void **state)
{
    imip_mail_t mail;
    char *err = NULL;
    assert_true(imip_build_text("kyodo@yamanami.example", "事務局", "chuo@houkatsu.yamanami.example",
                                "【モニタリング】Y-01\r\nBcc: x@y.example", "本文です。\n二行目。",
                                "reminder-7", 1800000000, &mail, &err));
    assert_false(has_line_starting(mail.raw, "Bcc:"));
    char *body = part_body(mail.raw, "text/plain");
    assert_string_equal(body, "本文です。\r\n二行目。");
    free(body);
    imip_mail_t again;
    assert_true(imip_build_text("kyodo@yamanami.example", "事務局", "chuo@houkatsu.yamanami.example",
                                "s", "b", "reminder-7", 1, &again, &err));
    assert_string_equal(mail.message_id, again.message_id);
    imip_mail_free(&mail);
    imip_mail_free(&again);
    assert_false(imip_build_text("bad", NULL, "a@b.example", "s", "b", "x", 1, &mail, &err));
    free(err);
}

static void test_feed_calendar_only_case_and_type(void **state)
{
    imip_meeting_t ms[2] = { sample_meeting("支援会議"), sample_meeting("重層的支援会議") };
    ms[1].uid = "tsunagu-meeting-8@yamanami.example";
    ms[1].case_id = "Y-02";
    ms[1].start += 86400;
    ms[1].end += 86400;
    ms[1].sequence = 3;
    bool cancelled[2] = { false, true };
    char *ics = imip_feed_calendar(ms, cancelled, 2, "中央地域包括支援センター 会議");
    assert_null(strstr(ics, "METHOD"));
    assert_null(strstr(ics, "ATTENDEE"));
    assert_null(strstr(ics, "LOCATION"));
    assert_null(strstr(ics, "meet.example"));
    icalcomponent *cal = icalparser_parse_string(ics);
    assert_non_null(cal);
    assert_int_equal(icalcomponent_count_components(cal, ICAL_VEVENT_COMPONENT), 2);
    icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
    assert_string_equal(icalcomponent_get_summary(ev), "Y-01 支援会議");
    assert_int_equal(icalcomponent_get_status(ev), ICAL_STATUS_CONFIRMED);
    ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT);
    assert_string_equal(icalcomponent_get_summary(ev), "Y-02 重層的支援会議");
    assert_int_equal(icalcomponent_get_status(ev), ICAL_STATUS_CANCELLED);
    assert_int_equal(icalcomponent_get_sequence(ev), 3);
    icalcomponent_free(cal);
    free(ics);
}

static void test_reply_as_application_ics_attachment(void **state)
{
    char *b64 = imip_base64_encode_lines(reply_cal, strlen(reply_cal));
    char *raw = xasprintf("From: \"Jiritsu\" <JIRITSU@yamanami.example>\r\nSubject: x\r\n"
                          "Content-Type: multipart/mixed; boundary=\"a b\"\r\n\r\n"
                          "--a b\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n"
                          "--a b\r\nContent-Type: application/ics; name=invite.ics\r\n"
                          "Content-Transfer-Encoding: BASE64\r\n\r\n%s--a b--\r\n", b64);
    imip_reply_t r;
    char *err = NULL;
    if (!imip_parse_reply(raw, strlen(raw), &r, &err)) fail_msg("%s", err);
    assert_string_equal(r.from, "jiritsu@yamanami.example");
    assert_int_equal(r.partstat, PARTSTAT_DECLINED);
    imip_reply_free(&r);
    free(raw);
    free(b64);
}

/* The shape Outlook, Gmail and Thunderbird send (imip.c
 * put_invitation_body): multipart/mixed whose FIRST child is
 * multipart/alternative {text/plain, text/calendar; method=M}, then the
 * same calendar as an application/ics attachment.  Outlook looks for
 * iMIP only in that first child ([MS-STANOICAL] V0343); the checker
 * reports it as "outlook_imip".  The old flat layout must fail. */
static void test_mail_shape_where_outlook_looks(void **state)
{
    imip_meeting_t m = sample_meeting("重層的支援会議");
    for (int method = IMIP_REQUEST; method <= IMIP_CANCEL; method++) {
        imip_mail_t mail = build_ok(&m, (imip_method_t)method, 0);
        const char *args[] = { "--method", imip_method_name((imip_method_t)method), NULL };
        char *out = NULL;
        if (run_checker(mail.raw, args, &out) != 0) fail_msg("checker: %s", out);
        assert_non_null(strstr(out, "\"shape\": \"multipart/mixed{multipart/alternative"
                                    "{text/plain,text/calendar},application/ics}\""));
        assert_non_null(strstr(out, "\"outlook_imip\": true"));
        free(out);
        /* the attachment is the same calendar, and libical's restriction
         * checker accepts it for the METHOD */
        char *att = part_body(mail.raw, "application/ics");
        char *direct = imip_calendar(&m, (imip_method_t)method);
        assert_non_null(att);
        assert_string_equal(att, direct);
        icalcomponent *cal = icalparser_parse_string(att);
        assert_true(icalrestriction_check(cal));
        icalcomponent_free(cal);
        assert_non_null(strstr(mail.raw, "Content-Disposition: attachment; filename=\"invite.ics\""));
        free(att); free(direct);
        imip_mail_free(&mail);
    }
    /* the checker is not a rubber stamp: the old flat layout
     * mixed{text/plain, text/calendar} is refused */
    imip_mail_t mail = build_ok(&m, IMIP_REQUEST, 0);
    char *cal = imip_calendar(&m, IMIP_REQUEST);
    char *cal64 = imip_base64_encode_lines(cal, strlen(cal));
    char *hdr_end = strstr(mail.raw, "Content-Type: multipart/mixed");
    assert_non_null(hdr_end);
    char *flat = xasprintf("%.*sContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n"
                           "--B\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\ntext\r\n"
                           "--B\r\nContent-Type: text/calendar; charset=UTF-8; method=REQUEST\r\n"
                           "Content-Transfer-Encoding: base64\r\n\r\n%s--B--\r\n",
                           (int)(hdr_end - mail.raw), mail.raw, cal64);
    const char *args[] = { "--method", "REQUEST", NULL };
    char *out = NULL;
    assert_int_not_equal(run_checker(flat, args, &out), 0);
    assert_non_null(strstr(out, "first child of multipart/mixed is not multipart/alternative"));
    free(out); free(flat); free(cal); free(cal64);
    imip_mail_free(&mail);
}

/* Item 9: the ORGANIZER is never an ATTENDEE, and an attendee marked as
 * the secretariat's copy is left out of the ATTENDEE lines too but still
 * gets a mail that says it is the secretariat's copy. */
static void test_organizer_never_attendee_secretariat_copy(void **state)
{
    imip_attendee_t atts[3];
    memcpy(atts, attendees, sizeof atts);
    atts[2].copy = true;                          /* kyodo: the secretariat */
    imip_meeting_t m = sample_meeting("重層的支援会議");
    m.organizer_email = "tsunagu-reply@yamanami.example";
    m.attendees = atts;
    char *ics = imip_calendar(&m, IMIP_REQUEST);
    char *w = ics;                                      /* unfold */
    for (const char *r = ics; *r; r++) {
        if (r[0] == '\r' && r[1] == '\n' && r[2] == ' ') { r += 2; continue; }
        *w++ = *r;
    }
    *w = '\0';
    assert_non_null(strstr(ics, "ORGANIZER;CN=\"やまなみ市 多機関協働事務局\":mailto:tsunagu-reply@"));
    assert_null(strstr(ics, "mailto:kyodo@"));
    assert_non_null(strstr(ics, "mailto:jiritsu@"));
    free(ics);
    imip_mail_t mail;
    char *err = NULL;
    assert_true(imip_build(&m, IMIP_REQUEST, &atts[2], NULL, &mail, &err));
    assert_int_equal(strncmp(mail.raw, "From: ", 6), 0);
    assert_non_null(strstr(mail.raw, "<tsunagu-reply@yamanami.example>"));
    char *text = part_body(mail.raw, "text/plain");
    assert_non_null(strstr(text, "事務局控え"));
    free(text);
    const char *args[] = { "--method", "REQUEST", NULL };
    char *out = NULL;
    if (run_checker(mail.raw, args, &out) != 0) fail_msg("checker: %s", out);
    free(out);
    imip_mail_free(&mail);
    /* the checker refuses a calendar that lists the organizer as attendee */
    char *cal = imip_calendar(&m, IMIP_REQUEST);
    char *org = strstr(cal, "ORGANIZER;");
    assert_non_null(org);
    char *evil = xasprintf("%.*sATTENDEE;RSVP=TRUE;PARTSTAT=NEEDS-ACTION:mailto:"
                           "tsunagu-reply@yamanami.example\r\n%s", (int)(org - cal), cal, org);
    char *raw = shaped_mail(evil);
    assert_int_equal(run_checker(raw, args, &out), 1);
    assert_non_null(strstr(out, "ORGANIZER is also an ATTENDEE"));
    free(out); free(cal); free(evil); free(raw);
}

/* Gmail's group-member reply names the group with MEMBER=; TNEF is
 * recognised; an RFC 3464 report gives VERP id, action, reason and the
 * returned Message-ID. */
static void test_member_tnef_and_dsn(void **state)
{
    const char *gm =
        "From: a@list.example\r\nContent-Type: text/calendar; method=REPLY\r\n\r\n"
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\n"
        "UID:u1\r\nDTSTAMP:20261201T000000Z\r\nATTENDEE;PARTSTAT=ACCEPTED;MEMBER=\"mailto:Role@c"
        "ity.example\":mailto:a@list.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    imip_reply_t r;
    char *err = NULL;
    assert_true(imip_parse_reply(gm, strlen(gm), &r, &err));
    assert_string_equal(r.attendee, "a@list.example");
    assert_string_equal(r.member, "role@city.example");
    imip_reply_free(&r);
    const char *tnef = "From: a@b.example\r\nContent-Type: multipart/mixed; boundary=\"t\"\r\n\r\n"
                       "--t\r\nContent-Type: text/plain\r\n\r\nx\r\n--t\r\n"
                       "Content-Type: application/ms-tnef; name=\"winmail.dat\"\r\n\r\neJ8+\r\n--t--\r\n";
    assert_true(imip_has_tnef(tnef, strlen(tnef)));
    assert_false(imip_has_tnef(gm, strlen(gm)));
    const char *dsn =
        "To: bounce+42@city.example\r\nContent-Type: multipart/report; report-type=delivery-status;"
        " boundary=\"d\"\r\n\r\n--d\r\nContent-Type: text/plain\r\n\r\nsorry\r\n"
        "--d\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; r.example\r\n\r\n"
        "Final-Recipient: rfc822; x@city.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User\r\n unknown\r\n\r\n"
        "--d\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <Abc.1@city.example>\r\n--d--\r\n";
    imip_dsn_t d;
    assert_true(imip_parse_dsn(dsn, strlen(dsn), &d));
    assert_int_equal(d.verp_id, 42);
    assert_string_equal(d.verp_local, "bounce");
    assert_string_equal(d.verp_domain, "city.example");
    assert_true(d.failed);
    assert_string_equal(d.message_id, "<Abc.1@city.example>");
    assert_string_equal(d.reason, "5.1.1 x@city.example: smtp; 550 5.1.1 User unknown");
    imip_dsn_free(&d);
    assert_false(imip_parse_dsn(gm, strlen(gm), &d));   /* a reply is not a report */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calendar_validates_with_libical),
        cmocka_unit_test(test_python_checker_accepts_request_and_cancel),
        cmocka_unit_test(test_confidentiality_notice_only_for_support_meeting),
        cmocka_unit_test(test_subject_rfc2047_folded),
        cmocka_unit_test(test_header_injection_neutralised),
        cmocka_unit_test(test_no_personal_data),
        cmocka_unit_test(test_message_id_stable_and_unique),
        cmocka_unit_test(test_long_utf8_lines_fold_on_boundaries),
        cmocka_unit_test(test_parse_reply_base64_nested),
        cmocka_unit_test(test_parse_reply_quoted_printable_lf),
        cmocka_unit_test(test_parse_reply_rejects_bad_input),
        cmocka_unit_test(test_text_mail),
        cmocka_unit_test(test_mailbox_parse),
        cmocka_unit_test(test_parse_reply_from_must_be_one_mailbox),
        cmocka_unit_test(test_feed_calendar_only_case_and_type),
        cmocka_unit_test(test_reply_as_application_ics_attachment),
        cmocka_unit_test(test_mail_shape_where_outlook_looks),
        cmocka_unit_test(test_organizer_never_attendee_secretariat_copy),
        cmocka_unit_test(test_member_tnef_and_dsn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
