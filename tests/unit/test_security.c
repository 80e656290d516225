/* SPDX-License-Identifier: MIT */
/*
 * test_security.c - security properties of single modules that need no
 * daemon: files holding personal data or secrets are created private;
 * transports that run on the event loop never wait on another process;
 * a few bytes of hostile calendar cannot keep the parser (which runs on
 * the event loop) busy for long.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "icalbusy.h"
#include "mailer.h"
#include "store.h"
#include "support_proc.h"

static void assert_private(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        fail_msg("%s: missing", path);
    if (sb.st_mode & 077)
        fail_msg("%s: mode %03o, readable by others", path, (unsigned)(sb.st_mode & 0777));
}

/* A new database (cases, token hashes) and its WAL are 0600 even under
 * the common umask 022; an existing database keeps its mode. */
static void test_new_database_is_private(void **state)
{
    mode_t old = umask(022);
    char *dir = support_mkdtemp("test-security");
    char *path = support_path(dir, "t.db");
    char *wal = support_path(dir, "t.db-wal");
    char err[256];
    store_t *st = store_open(path, err, sizeof err);
    if (!st)
        fail_msg("%s", err);
    assert_int_equal(store_exec(st, "INSERT INTO tokens(hash, role, created) VALUES ('h', 'admin', 0)"), 0);
    assert_private(path);
    assert_private(wal);
    store_close(st);

    assert_int_equal(chmod(path, 0640), 0);            /* the operator's choice stays */
    st = store_open(path, err, sizeof err);
    assert_non_null(st);
    store_close(st);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0640);
    umask(old);
    support_rmtree(dir);
    free(wal);
    free(path);
    free(dir);
}

typedef struct outcome {
    bool          done;
    mail_result_t res;
    char          detail[256];
} outcome_t;

static void on_mail_done(mail_result_t res, const char *detail, void *arg)
{
    outcome_t *o = arg;
    o->done = true;
    o->res = res;
    snprintf(o->detail, sizeof o->detail, "%s", detail ? detail : "");
}

static outcome_t send_one(mailer_t *m, struct event_base *base, const char *mid)
{
    static const char msg[] = "From: a@example.org\r\nSubject: s\r\n\r\nbody\r\n";
    outcome_t o = { 0 };
    alarm(10);                  /* a send that waits for the lock kills the test */
    assert_int_equal(mailer_send(m, "a@example.org", "b@example.org", msg, sizeof msg - 1, mid,
                                 on_mail_done, &o), 0);
    alarm(0);
    event_base_dispatch(base);
    assert_true(o.done);
    return o;
}

/* The file transport runs on the event loop: a mail reader holding the
 * mbox's flock must give a TEMPFAIL (the outbox retries), not a daemon
 * blocked until the reader lets go. */
static void test_file_transport_never_waits_for_lock(void **state)
{
    char *dir = support_mkdtemp("test-security");
    char *path = support_path(dir, "mail.mbox");
    struct event_base *base = event_base_new();
    mailer_config_t mc = { .transport = "file", .path = path };
    char *err = NULL;
    mailer_t *m = mailer_new(&mc, base, NULL, &err);
    assert_non_null(m);
    int reader = open(path, O_RDONLY);
    assert_true(reader >= 0);
    assert_int_equal(flock(reader, LOCK_EX), 0);

    outcome_t o = send_one(m, base, "<locked@example.org>");
    assert_int_equal(o.res, MAIL_TEMPFAIL);
    assert_non_null(strstr(o.detail, "ロック"));
    assert_int_equal(mailer_delivered(m, "<locked@example.org>"), MAILER_NOT_DELIVERED);

    assert_int_equal(flock(reader, LOCK_UN), 0);     /* the retry goes through */
    o = send_one(m, base, "<locked@example.org>");
    assert_int_equal(o.res, MAIL_SENT);
    close(reader);
    mailer_free(m);
    event_base_free(base);
    support_rmtree(dir);
    free(path);
    free(dir);
}

static int parse_rrule(const char *rrule, size_t *nbusy, char **err)
{
    char *ics = xasprintf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
                          "BEGIN:VEVENT\r\nUID:a@t\r\nDTSTAMP:20261101T000000Z\r\n"
                          "DTSTART:20261201T000000Z\r\nDURATION:PT1M\r\nRRULE:%s\r\n"
                          "END:VEVENT\r\nEND:VCALENDAR\r\n", rrule);
    int64_t from;
    assert_true(tu_parse_iso8601("2026-12-01T00:00:00Z", NULL, &from));
    icalbusy_opts_t o = { tz_default(), from, from + 180 * 86400LL };
    ivset_t busy;
    ivset_init(&busy);
    *err = NULL;
    alarm(20);                  /* a parse that walks for minutes kills the test */
    int rc = icalbusy_parse(ics, strlen(ics), &o, &busy, NULL, err);
    alarm(0);
    *nbusy = busy.n;
    ivset_free(&busy);
    free(ics);
    return rc;
}

/* A 200-byte event with FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30 (never
 * matches) kept libical stepping second by second for hours inside one
 * call, on the event loop.  Sub-daily rules with BY parts are refused
 * with a clear error; plain sub-daily rules still expand. */
static void test_hostile_rrule_refused_quickly(void **state)
{
    const char *refused[] = {
        "FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30", "FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30", "FREQ=SECONDLY;BYSECOND=0;BYMINUTE=0;BYHOUR=0",
    };
    size_t n;
    char *err;
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        if (parse_rrule(refused[i], &n, &err) != -1)
            fail_msg("%s: accepted", refused[i]);
        assert_non_null(strstr(err, "RRULE"));
        free(err);
    }
    assert_int_equal(parse_rrule("FREQ=HOURLY;INTERVAL=2;COUNT=3", &n, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(parse_rrule("FREQ=DAILY;COUNT=2", &n, &err), 0);
    assert_int_equal(n, 2);
}

/* 200 events whose rule stops matching after DTSTART (DAILY;BYMONTH=2;
 * BYMONTHDAY=30) each had libical walk day by day to the end of its
 * calendar, about 0.35 s an event: a 30 KB feed held the event loop for
 * over a minute.  The iterator now stops at the expansion span. */
static void test_never_matching_rules_are_cheap(void **state)
{
    strbuf_t b;
    strbuf_init(&b);
    strbuf_puts(&b, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n");
    for (int i = 0; i < 200; i++)
        strbuf_printf(&b, "BEGIN:VEVENT\r\nUID:e%d@t\r\nDTSTAMP:20261101T000000Z\r\n"
                          "DTSTART:20261201T0900%02dZ\r\nDURATION:PT1M\r\n"
                          "RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30\r\nEND:VEVENT\r\n", i, i % 60);
    strbuf_puts(&b, "END:VCALENDAR\r\n");
    int64_t from, dtstart;
    assert_true(tu_parse_iso8601("2026-12-01T00:00:00Z", NULL, &from));
    assert_true(tu_parse_iso8601("2026-12-01T09:00:00Z", NULL, &dtstart));
    icalbusy_opts_t o = { tz_default(), from, from + 180 * 86400LL };
    ivset_t busy;
    ivset_init(&busy);
    char *err = NULL;
    alarm(20);
    int rc = icalbusy_parse(b.s, b.len, &o, &busy, NULL, &err);
    alarm(0);
    if (rc != 0)
        fail_msg("%s", err ? err : "?");
    assert_true(busy.n >= 1);                 /* the DTSTARTs themselves are busy */
    assert_int_equal(busy.v[0].start, dtstart);
    ivset_free(&busy);
    strbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_database_is_private),
        cmocka_unit_test(test_file_transport_never_waits_for_lock),
        cmocka_unit_test(test_hostile_rrule_refused_quickly),
        cmocka_unit_test(test_never_matching_rules_are_cheap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
