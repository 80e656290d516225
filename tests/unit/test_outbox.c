/* SPDX-License-Identifier: MIT */
/*
 * test_outbox.c - durable outbox with the maildir, file and smtp
 * transports: store-before-send, duplicate Message-IDs refused, recovery
 * of rows left 'sending' by a crash, backoff, dead-lettering by age.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "curlev.h"
#include "imip.h"
#include "mailer.h"
#include "outbox.h"
#include "store.h"
#include "store_outbox.h"
#include "support_proc.h"
#include "timeutil.h"
#include "util.h"

typedef struct fx {
    char              *dir;
    store_t           *st;
    struct event_base *base;
    mailer_t          *mailer;
    outbox_t          *ob;
} fx_t;

static int setup(void **state)
{
    fx_t *f = xcalloc(1, sizeof *f);
    char err[256];
    f->dir = support_mkdtemp("outbox");
    char *db = support_path(f->dir, "t.db");
    f->st = store_open(db, err, sizeof err);
    free(db);
    assert_non_null(f->st);
    f->base = event_base_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    outbox_free(f->ob);
    mailer_free(f->mailer);
    store_close(f->st);
    event_base_free(f->base);
    support_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static void use_maildir(fx_t *f)
{
    char *md = support_path(f->dir, "Maildir");
    mailer_config_t mc = { .transport = "maildir", .path = md };
    char *err = NULL;
    f->mailer = mailer_new(&mc, f->base, NULL, &err);
    free(md);
    assert_non_null(f->mailer);
    outbox_config_t oc = { .retry_initial = 1 };
    f->ob = outbox_new(f->st, f->mailer, f->base, &oc);
}

static void enqueue_text(fx_t *f, const char *seed, const char *to, bool *dup)
{
    imip_mail_t m;
    char *err = NULL;
    assert_true(imip_build_text("kyodo@yamanami.example", "事務局", to, "件名", "本文",
                                seed, 1800000000, &m, &err));
    assert_true(outbox_enqueue(f->st, &m, 0, "reminder", tu_now(), dup));
    imip_mail_free(&m);
}

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

/* Run the loop until `state` has `want` rows or ~5 s pass. */
static void run_until(fx_t *f, const char *state, int want)
{
    for (int i = 0; i < 500 && store_outbox_count(f->st, state) != want; i++) {
        struct timeval tv = { 0, 10000 };
        event_base_loopexit(f->base, &tv);
        event_base_dispatch(f->base);
    }
}

static void test_maildir_delivers_each_once(void **state)
{
    fx_t *f = *state;
    use_maildir(f);
    bool dup = true;
    enqueue_text(f, "a", "one@yamanami.example", &dup);
    assert_false(dup);
    enqueue_text(f, "b", "two@yamanami.example", &dup);
    enqueue_text(f, "a", "one@yamanami.example", &dup);    /* same Message-ID */
    assert_true(dup);
    assert_int_equal(store_outbox_count(f->st, "pending"), 2);
    outbox_kick(f->ob);
    run_until(f, "sent", 2);
    assert_int_equal(store_outbox_count(f->st, "sent"), 2);
    char *newdir = support_path(f->dir, "Maildir/new");
    assert_int_equal(count_files(newdir), 2);
    /* kicking again sends nothing more */
    outbox_kick(f->ob);
    for (int i = 0; i < 20; i++) {
        struct timeval tv = { 0, 10000 };
        event_base_loopexit(f->base, &tv);
        event_base_dispatch(f->base);
    }
    assert_int_equal(store_outbox_count(f->st, "sent"), 2);
    assert_int_equal(count_files(newdir), 2);
    free(newdir);
    json_t *j = outbox_json(f->st, NULL, 10);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "counts"), "sent")), 2);
    assert_int_equal(json_array_size(json_object_get(j, "messages")), 2);
    json_decref(j);
}

static void test_recover_in_doubt_rows(void **state)
{
    fx_t *f = *state;
    use_maildir(f);
    enqueue_text(f, "x", "one@yamanami.example", NULL);
    enqueue_text(f, "y", "two@yamanami.example", NULL);
    outbox_kick(f->ob);
    run_until(f, "sent", 2);
    /* simulate a crash after delivery of x but before 'sent' was stored,
     * and a crash before delivery of a third message z */
    enqueue_text(f, "z", "three@yamanami.example", NULL);
    assert_int_equal(store_exec(f->st, "UPDATE outbox SET state = 'sending' WHERE id IN (1, 3)"), 0);
    assert_int_equal(outbox_recover(f->ob), 2);
    assert_int_equal(store_outbox_count(f->st, "sent"), 2);     /* x, y */
    assert_int_equal(store_outbox_count(f->st, "pending"), 1);  /* z */
    outbox_kick(f->ob);
    run_until(f, "sent", 3);
    char *newdir = support_path(f->dir, "Maildir/new");
    assert_int_equal(count_files(newdir), 3);
    free(newdir);
}

static void test_backoff_doubles_and_caps(void **state)
{
    outbox_config_t c = { .retry_initial = 30, .retry_max = 3600 };
    assert_int_equal(outbox_backoff(&c, 1), 30);
    assert_int_equal(outbox_backoff(&c, 2), 60);
    assert_int_equal(outbox_backoff(&c, 3), 120);
    assert_int_equal(outbox_backoff(&c, 8), 3600);
    assert_int_equal(outbox_backoff(&c, 100), 3600);
}

/* The one dead row's last_error starts with `want`. */
static void assert_dead_note(fx_t *f, const char *want)
{
    json_t *j = outbox_json(f->st, "dead", 1);
    const char *e = json_string_value(json_object_get(
        json_array_get(json_object_get(j, "messages"), 0), "last_error"));
    assert_non_null(e);
    if (strncmp(e, want, strlen(want)) != 0)
        fail_msg("dead-letter note \"%s\" does not start with \"%s\"", e, want);
    json_decref(j);
}

static void test_smtp_down_retries_then_dead_letter(void **state)
{
    fx_t *f = *state;
    curlev_t *cev = curlev_new(f->base);
    int port = support_free_port();       /* nobody listens here */
    char *url = xasprintf("smtp://127.0.0.1:%d", port);
    mailer_config_t mc = { .transport = "smtp", .url = url, .starttls = "no", .timeout_ms = 2000 };
    char *err = NULL;
    f->mailer = mailer_new(&mc, f->base, cev, &err);
    assert_non_null(f->mailer);
    outbox_config_t oc = { .retry_initial = 600 };
    f->ob = outbox_new(f->st, f->mailer, f->base, &oc);
    enqueue_text(f, "down", "one@yamanami.example", NULL);
    outbox_kick(f->ob);
    bool tried = false;
    for (int i = 0; i < 300 && !tried; i++) {
        struct timeval tv = { 0, 10000 };
        event_base_loopexit(f->base, &tv);
        event_base_dispatch(f->base);
        json_t *j = outbox_json(f->st, "pending", 1);
        json_t *m = json_array_get(json_object_get(j, "messages"), 0);
        tried = m && json_integer_value(json_object_get(m, "attempts")) == 1;
        json_decref(j);
    }
    json_t *j = outbox_json(f->st, "pending", 1);
    json_t *m = json_array_get(json_object_get(j, "messages"), 0);
    assert_non_null(m);
    assert_int_equal(json_integer_value(json_object_get(m, "attempts")), 1);
    assert_non_null(json_string_value(json_object_get(m, "last_error")));
    json_decref(j);
    assert_int_equal(store_outbox_count(f->st, "sent"), 0);
    /* 49 hours later (created moved back), the next pump dead-letters it */
    assert_int_equal(store_exec(f->st, "UPDATE outbox SET created = created - 49*3600,"
                                       " next_attempt = 0"), 0);
    outbox_kick(f->ob);
    run_until(f, "dead", 1);
    assert_int_equal(store_outbox_count(f->st, "dead"), 1);
    assert_int_equal(store_outbox_count(f->st, "pending"), 0);
    assert_dead_note(f, "48時間以内");             /* the default OUTBOX_MAX_AGE */
    outbox_free(f->ob);
    f->ob = NULL;
    mailer_free(f->mailer);
    f->mailer = NULL;
    curlev_free(cev);
    free(url);
}

/* The dead-letter note names the configured age, not a fixed 48 hours. */
static void test_dead_letter_note_follows_max_age(void **state)
{
    fx_t *f = *state;
    char *md = support_path(f->dir, "Maildir");
    mailer_config_t mc = { .transport = "maildir", .path = md };
    char *err = NULL;
    f->mailer = mailer_new(&mc, f->base, NULL, &err);
    free(md);
    assert_non_null(f->mailer);
    outbox_config_t oc = { .retry_initial = 1, .max_age = 7 * 86400 };
    f->ob = outbox_new(f->st, f->mailer, f->base, &oc);
    enqueue_text(f, "old", "one@yamanami.example", NULL);
    /* 6 days old: still sent */
    assert_int_equal(store_exec(f->st, "UPDATE outbox SET created = created - 6*86400"), 0);
    outbox_kick(f->ob);
    run_until(f, "sent", 1);
    assert_int_equal(store_outbox_count(f->st, "sent"), 1);
    /* 8 days old: dead, and the note says 7 days */
    enqueue_text(f, "older", "two@yamanami.example", NULL);
    assert_int_equal(store_exec(f->st, "UPDATE outbox SET created = created - 8*86400"
                                       " WHERE state = 'pending'"), 0);
    outbox_kick(f->ob);
    run_until(f, "dead", 1);
    assert_int_equal(store_outbox_count(f->st, "dead"), 1);
    assert_dead_note(f, "7日以内");
}

static void test_max_age_note_units(void **state)
{
    static const struct { int64_t s; const char *want; } cases[] = {
        { 172800, "48時間以内" }, { 3600, "1時間以内" }, { 86400, "24時間以内" },
        { 604800, "7日以内" }, { 5400, "90分以内" }, { 90, "90秒以内" }, { 259201, "259201秒以内" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *note = outbox_max_age_note(cases[i].s);
        if (strncmp(note, cases[i].want, strlen(cases[i].want)) != 0)
            fail_msg("max_age %lld: got \"%s\", want \"%s...\"", (long long)cases[i].s, note,
                     cases[i].want);
        free(note);
    }
}

static void test_file_transport_and_delivered(void **state)
{
    fx_t *f = *state;
    char *path = support_path(f->dir, "mail.mbox");
    mailer_config_t mc = { .transport = "file", .path = path };
    char *err = NULL;
    f->mailer = mailer_new(&mc, f->base, NULL, &err);
    assert_non_null(f->mailer);
    f->ob = outbox_new(f->st, f->mailer, f->base, NULL);
    imip_mail_t m;
    assert_true(imip_build_text("kyodo@yamanami.example", NULL, "a@yamanami.example", "s",
                                "From here\nline", "file-1", 1800000000, &m, &err));
    assert_int_equal(mailer_delivered(f->mailer, m.message_id), MAILER_NOT_DELIVERED);
    assert_true(outbox_enqueue(f->st, &m, 0, "reminder", tu_now(), NULL));
    outbox_kick(f->ob);
    run_until(f, "sent", 1);
    assert_int_equal(mailer_delivered(f->mailer, m.message_id), MAILER_DELIVERED);
    char *data = read_file(path, NULL);
    assert_true(strncmp(data, "From kyodo@yamanami.example ", 28) == 0);
    assert_null(strstr(data, "\r\n"));
    free(data);
    imip_mail_free(&m);
    free(path);
}

static void test_bad_transport_config(void **state)
{
    char *err = NULL;
    mailer_config_t a = { .transport = "pigeon" };
    assert_null(mailer_new(&a, NULL, NULL, &err));
    assert_non_null(strstr(err, "pigeon"));
    free(err);
    err = NULL;
    mailer_config_t b = { .transport = "smtp", .url = "http://x" };
    assert_null(mailer_new(&b, NULL, NULL, &err));
    free(err);
    err = NULL;
    mailer_config_t c = { .transport = "maildir" };
    assert_null(mailer_new(&c, NULL, NULL, &err));
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_maildir_delivers_each_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recover_in_doubt_rows, setup, teardown),
        cmocka_unit_test(test_backoff_doubles_and_caps),
        cmocka_unit_test_setup_teardown(test_smtp_down_retries_then_dead_letter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_letter_note_follows_max_age, setup, teardown),
        cmocka_unit_test(test_max_age_note_units),
        cmocka_unit_test_setup_teardown(test_file_transport_and_delivered, setup, teardown),
        cmocka_unit_test(test_bad_transport_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
