/* SPDX-License-Identifier: MIT */
/*
 * test_file_feeds.c - FILE_FEEDS_DIR: with it unset local calendar files
 * are allowed anywhere; once set, a file:// url or absolute path must
 * resolve inside it (".." and symlinks followed, %-escapes decoded), while
 * http(s) urls are never affected.  An import naming an outside file is
 * refused with the calendar named and changes nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "support_proc.h"
#include "util.h"

static const char *doc_fmt =
    "{\"city\": \"テスト市\", \"timezone\": \"Asia/Tokyo\", \"districts\": [\"北部\"],"
    " \"agencies\": ["
    "  {\"id\": \"a\", \"name\": \"機関A\", \"fields\": [\"高齢\"], \"areas\": [],"
    "   \"email\": \"a@example.org\", \"hours\": {\"mon-fri\": \"09:00-17:00\"},"
    "   \"travel_minutes\": 0, \"max_lead_cases\": 5, \"lead_cases\": 0,"
    "   \"support_meeting_member\": true,"
    "   \"calendars\": [{\"id\": \"a-web\", \"kind\": \"ics\", \"url\": \"https://cal.example/a.ics\"},"
    "                   {\"id\": \"a-file\", \"kind\": \"ics\", \"url\": \"%s\"}]}"
    "]}";

typedef struct fx {
    char    *root, *inside, *outside;
    store_t *st;
} fx_t;

static int setup(void **state)
{
    fx_t *f = xcalloc(1, sizeof *f);
    f->root = support_mkdtemp("test-file-feeds");
    f->inside = support_path(f->root, "feeds");
    f->outside = support_path(f->root, "secret");
    char *cmd = xasprintf("mkdir -p '%s/sub' '%s' && ln -s '%s' '%s/link-out' && ln -s '%s/sub' '%s/link-in'",
                          f->inside, f->outside, f->outside, f->inside, f->inside, f->inside);
    if (system(cmd) != 0)
        return -1;
    free(cmd);
    char *a = support_path(f->inside, "a.ics"), *s = support_path(f->outside, "s.ics");
    support_write_file(a, "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", (size_t)-1);
    support_write_file(s, "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", (size_t)-1);
    free(a);
    free(s);
    char err[256];
    f->st = store_open(":memory:", err, sizeof err);
    *state = f;
    return f->st ? 0 : -1;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    store_close(f->st);
    support_rmtree(f->root);
    free(f->root);
    free(f->inside);
    free(f->outside);
    free(f);
    return 0;
}

static bool allowed(fx_t *f, const char *fmt, const char *dir)
{
    char *url = xasprintf(fmt, dir);
    bool ok = store_local_url_allowed(f->st, url);
    free(url);
    return ok;
}

static void test_unset_allows_anything(void **state)
{
    fx_t *f = *state;
    char err[256];
    assert_true(store_set_file_feeds_dir(f->st, NULL, err, sizeof err));
    assert_null(store_file_feeds_dir(f->st));
    assert_true(store_local_url_allowed(f->st, "/etc/passwd"));
    assert_true(store_local_url_allowed(f->st, "file:///etc/passwd"));
}

static void test_set_confines_local_files(void **state)
{
    fx_t *f = *state;
    char err[256];
    assert_false(store_set_file_feeds_dir(f->st, "/no/such/folder", err, sizeof err));
    assert_non_null(strstr(err, "FILE_FEEDS_DIR"));
    assert_true(store_set_file_feeds_dir(f->st, f->inside, err, sizeof err));
    assert_non_null(store_file_feeds_dir(f->st));
    /* inside: existing, not yet existing, via file://, escaped, inner symlink */
    assert_true(allowed(f, "%s/a.ics", f->inside));
    assert_true(allowed(f, "%s/sub/later.ics", f->inside));
    assert_true(allowed(f, "file://%s/a.ics", f->inside));
    assert_true(allowed(f, "file://localhost%s/a.ics", f->inside));
    assert_true(allowed(f, "%s/link-in/x.ics", f->inside));
    /* outside */
    assert_false(store_local_url_allowed(f->st, "/etc/passwd"));
    assert_false(store_local_url_allowed(f->st, "file:///etc/passwd"));
    assert_false(allowed(f, "%s/s.ics", f->outside));
    assert_false(allowed(f, "%s/../secret/s.ics", f->inside));
    assert_false(allowed(f, "file://%s/%%2e%%2e/secret/s.ics", f->inside));
    assert_false(allowed(f, "%s/link-out/s.ics", f->inside));
    assert_false(allowed(f, "%s", f->inside));                   /* the folder itself */
    assert_false(allowed(f, "%s-other/a.ics", f->inside));       /* a sibling prefix */
    assert_false(allowed(f, "%s/missing/dir/a.ics", f->inside)); /* cannot be resolved */
    /* not local: unaffected */
    assert_true(store_local_url_allowed(f->st, "https://cal.example/a.ics"));
    assert_true(store_local_url_allowed(f->st, "http://127.0.0.1:1/x.ics"));
    /* a bad new setting keeps the old one */
    assert_false(store_set_file_feeds_dir(f->st, "/no/such/folder", err, sizeof err));
    assert_false(store_local_url_allowed(f->st, "/etc/passwd"));
}

static bool import(fx_t *f, const char *url, char *err, size_t errlen)
{
    char *text = xasprintf(doc_fmt, url);
    json_t *d = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(d);
    bool ok = store_import_city(f->st, d, NULL, NULL, NULL, err, errlen);
    json_decref(d);
    return ok;
}

static void test_import_refuses_outside_files(void **state)
{
    fx_t *f = *state;
    char err[1024];
    assert_true(store_set_file_feeds_dir(f->st, f->inside, err, sizeof err));
    char *good = support_path(f->inside, "a.ics"), *bad = support_path(f->outside, "s.ics");
    assert_true(import(f, good, err, sizeof err));
    json_t *before = store_city_json(f->st);
    assert_false(import(f, bad, err, sizeof err));
    assert_non_null(strstr(err, "a-file"));
    assert_non_null(strstr(err, "agencies[0].calendars[1].url"));
    assert_non_null(strstr(err, "FILE_FEEDS_DIR"));
    /* nothing changed */
    json_t *after = store_city_json(f->st);
    assert_true(json_equal(before, after));
    json_decref(before);
    json_decref(after);
    /* unset again: the same document imports */
    assert_true(store_set_file_feeds_dir(f->st, "", err, sizeof err));
    assert_true(import(f, bad, err, sizeof err));
    free(good);
    free(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unset_allows_anything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_confines_local_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_refuses_outside_files, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
