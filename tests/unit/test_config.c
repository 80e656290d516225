/* SPDX-License-Identifier: MIT */
/*
 * test_config.c - config file parsing, TSUNAGU_<KEY> overrides, defaults,
 * sizes, and clear errors for bad lines and missing files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "support_proc.h"

static char *write_tmp(const char *text)
{
    char *dir = support_mkdtemp("test-config");
    assert_non_null(dir);
    char *path = support_path(dir, "tsunagud.conf");
    assert_int_equal(support_write_file(path, text, (size_t)-1), 0);
    free(dir);
    return path;
}

/* Remove the temp file's directory and free the path. */
static void drop(char *path)
{
    char *slash = strrchr(path, '/');
    if (slash) {
        *slash = '\0';
        support_rmtree(path);
    }
    free(path);
}

static void test_file_values_and_defaults(void **state)
{
    unsetenv("TSUNAGU_LISTEN");
    unsetenv("TSUNAGU_POLL_INTERVAL");
    unsetenv("TSUNAGU_DATABASE");
    char *path = write_tmp("# comment\n\n  listen = 127.0.0.1:9999  \nDATABASE = \"/var/x.db\"\n"
                           "POLL_INTERVAL=42\nMAX_FEED_BYTES = 2M\n");
    char err[256];
    config_t *c = config_load(path, err, sizeof err);
    assert_non_null(c);
    assert_string_equal(config_get(c, "LISTEN"), "127.0.0.1:9999");
    assert_string_equal(config_get(c, "DATABASE"), "/var/x.db");
    assert_int_equal(config_int(c, "POLL_INTERVAL", 1, NULL), 42);
    assert_int_equal(config_size(c, "MAX_FEED_BYTES", 0), 2 * 1024 * 1024);
    /* table default when absent from the file */
    assert_string_equal(config_get(c, "DRAIN_SECONDS"), "10");
    assert_null(config_get(c, "ADMIN_TOKEN"));
    /* caller default for keys outside the table (read, never written) */
    assert_string_equal(config_str(c, "SOMETHING_ELSE", "dflt"), "dflt");
    config_free(c);
    drop(path);
}

static void test_env_overrides_file(void **state)
{
    char *path = write_tmp("LISTEN = 127.0.0.1:9999\nPOLL_INTERVAL = 42\n");
    setenv("TSUNAGU_LISTEN", "0.0.0.0:1234", 1);
    setenv("TSUNAGU_NOW", "2026-12-01T09:00:00+09:00", 1);
    char err[256];
    config_t *c = config_load(path, err, sizeof err);
    assert_non_null(c);
    assert_string_equal(config_get(c, "LISTEN"), "0.0.0.0:1234");
    assert_string_equal(config_get(c, "NOW"), "2026-12-01T09:00:00+09:00");
    assert_int_equal(config_int(c, "POLL_INTERVAL", 1, NULL), 42);
    unsetenv("TSUNAGU_LISTEN");
    unsetenv("TSUNAGU_NOW");
    assert_string_equal(config_get(c, "LISTEN"), "127.0.0.1:9999");
    config_free(c);
    /* no file at all: env and defaults only */
    c = config_load(NULL, err, sizeof err);
    assert_non_null(c);
    assert_string_equal(config_get(c, "LISTEN"), "127.0.0.1:8080");
    config_free(c);
    drop(path);
}

static void test_bad_input(void **state)
{
    char err[256];
    char *path = write_tmp("LISTEN = 1\nthis line has no equals sign\n");
    assert_null(config_load(path, err, sizeof err));
    assert_non_null(strstr(err, ":2:"));
    drop(path);
    path = write_tmp("BAD KEY = x\n");
    assert_null(config_load(path, err, sizeof err));
    assert_non_null(strstr(err, ":1:"));
    drop(path);
    assert_null(config_load("/nonexistent/tsunagud.conf", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/tsunagud.conf"));
    path = write_tmp("POLL_INTERVAL = soon\nMAX_FEED_BYTES = lots\n");
    config_t *c = config_load(path, err, sizeof err);
    bool ok = true;
    assert_int_equal(config_int(c, "POLL_INTERVAL", 300, &ok), 300);
    assert_false(ok);
    assert_int_equal(config_size(c, "MAX_FEED_BYTES", 77), 77);
    config_free(c);
    drop(path);
}

/* A misspelt key must never fall back to its default silently. */
static void test_unknown_key_refused_with_nearest(void **state)
{
    char err[512];
    char *path = write_tmp("LISTEN = 127.0.0.1:1\nSMTP_URI = smtp://x\n");
    assert_null(config_load(path, err, sizeof err));
    assert_non_null(strstr(err, ":2:"));
    assert_non_null(strstr(err, "SMTP_URI は不明な設定です。SMTP_URL ですか?"));
    drop(path);
    /* keys in the file are case-insensitive: smtp_url is SMTP_URL */
    path = write_tmp("smtp_url = smtp://x\n");
    config_t *c = config_load(path, err, sizeof err);
    assert_non_null(c);
    config_free(c);
    drop(path);
    path = write_tmp("POLL_INTERVL = 5\n");
    assert_null(config_load(path, err, sizeof err));
    assert_non_null(strstr(err, "POLL_INTERVL は不明な設定です。POLL_INTERVAL ですか?"));
    drop(path);
    /* nothing close: no guess */
    path = write_tmp("COMPLETELY_DIFFERENT_THING = 1\n");
    assert_null(config_load(path, err, sizeof err));
    assert_non_null(strstr(err, "COMPLETELY_DIFFERENT_THING は不明な設定です"));
    assert_null(strstr(err, "ですか"));
    drop(path);
}

static void test_unknown_env_refused_reserved_kept(void **state)
{
    char err[512];
    setenv("TSUNAGU_URL", "http://127.0.0.1:1", 1);          /* the CLI's */
    setenv("TSUNAGU_ITEST_DAEMON", "x", 1);                  /* the tests' */
    assert_true(config_check_env(err, sizeof err));
    /* the environment is case-sensitive (getenv): SMTP_URl is never read */
    setenv("TSUNAGU_SMTP_URl", "smtp://x", 1);
    assert_false(config_check_env(err, sizeof err));
    assert_non_null(strstr(err, "SMTP_URl は不明な設定です。SMTP_URL ですか?"));
    unsetenv("TSUNAGU_SMTP_URl");
    setenv("TSUNAGU_SMTP_FORM", "a@b", 1);
    assert_false(config_check_env(err, sizeof err));
    assert_non_null(strstr(err, "TSUNAGU_SMTP_FORM"));
    assert_non_null(strstr(err, "SMTP_FROM ですか?"));
    unsetenv("TSUNAGU_SMTP_FORM");
    unsetenv("TSUNAGU_URL");
    unsetenv("TSUNAGU_ITEST_DAEMON");
    assert_true(config_check_env(err, sizeof err));
}

/* config_num reads the default from config_keys[], the one place it is
 * written: unset, and unparsable, both give the table's value. */
static void test_numeric_default_from_table(void **state)
{
    unsetenv("TSUNAGU_OUTBOX_MAX_AGE");
    char err[256];
    config_t *c = config_load(NULL, err, sizeof err);
    assert_int_equal(config_num(c, "OUTBOX_MAX_AGE", NULL), 172800);
    assert_int_equal(config_num(c, "RSVP_TTL", NULL), 86400);
    setenv("TSUNAGU_OUTBOX_MAX_AGE", "99", 1);
    assert_int_equal(config_num(c, "OUTBOX_MAX_AGE", NULL), 99);
    unsetenv("TSUNAGU_OUTBOX_MAX_AGE");
    for (const config_key_t *k = config_keys; k->key; k++)
        assert_null(strchr(k->help, '['));      /* no second copy of a default */
    config_free(c);
}

/* Secrets (issue 8 item 12): ADMIN_TOKEN and LINK_SECRET of fewer than
 * 32 characters are refused, from the file or the environment; a config
 * file holding either must not be readable by group or others. */
static bool secrets_ok(const char *text, mode_t mode, char *err, size_t errlen)
{
    char *path = write_tmp(text);
    assert_int_equal(chmod(path, mode), 0);
    config_t *c = config_load(path, err, errlen);
    assert_non_null(c);
    bool ok = config_check_secrets(c, path, err, errlen);
    config_free(c);
    drop(path);
    return ok;
}

static void test_secrets_hygiene(void **state)
{
    char err[512] = "";
    unsetenv("TSUNAGU_ADMIN_TOKEN");
    unsetenv("TSUNAGU_LINK_SECRET");
    const char *long1 = "ADMIN_TOKEN = 0123456789abcdef0123456789abcdef\n";
    assert_true(secrets_ok(long1, 0600, err, sizeof err));
    assert_false(secrets_ok(long1, 0644, err, sizeof err));
    assert_non_null(strstr(err, "0600"));
    assert_non_null(strstr(err, "ADMIN_TOKEN"));
    assert_false(secrets_ok(long1, 0640, err, sizeof err));
    assert_false(secrets_ok("LINK_SECRET = 0123456789abcdef0123456789abcdef\n", 0604, err, sizeof err));
    assert_non_null(strstr(err, "LINK_SECRET"));
    assert_false(secrets_ok("SMTP_PASSWORD = pw\n", 0644, err, sizeof err));
    assert_non_null(strstr(err, "SMTP_PASSWORD"));
    assert_true(secrets_ok("SMTP_PASSWORD = pw\n", 0600, err, sizeof err));   /* no minimum length */
    /* a config without secrets may be readable */
    assert_true(secrets_ok("POLL_INTERVAL = 600\n", 0644, err, sizeof err));
    /* too short: 31 characters */
    assert_false(secrets_ok("ADMIN_TOKEN = 0123456789abcdef0123456789abcde\n", 0600, err, sizeof err));
    assert_non_null(strstr(err, "32"));
    assert_false(secrets_ok("LINK_SECRET = short\n", 0600, err, sizeof err));
    /* from the environment too; the file is then not the secret's home */
    setenv("TSUNAGU_ADMIN_TOKEN", "short-env-token", 1);
    assert_false(secrets_ok("POLL_INTERVAL = 600\n", 0644, err, sizeof err));
    assert_non_null(strstr(err, "ADMIN_TOKEN"));
    setenv("TSUNAGU_ADMIN_TOKEN", "0123456789abcdef0123456789abcdef", 1);
    assert_true(secrets_ok("POLL_INTERVAL = 600\n", 0644, err, sizeof err));
    unsetenv("TSUNAGU_ADMIN_TOKEN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_values_and_defaults),
        cmocka_unit_test(test_env_overrides_file),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_unknown_key_refused_with_nearest),
        cmocka_unit_test(test_unknown_env_refused_reserved_kept),
        cmocka_unit_test(test_numeric_default_from_table),
        cmocka_unit_test(test_secrets_hygiene),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
