/* SPDX-License-Identifier: MIT */
/*
 * test_interop.c - the calendars other producers write (Google, Outlook /
 * Exchange, Confluence, Apple iCloud, Thunderbird, Nextcloud), one file
 * each under tests/data/interop/, read by icalbusy and compared with the
 * hand-checked busy set in the .busy file beside it.
 *
 * A .busy file has one directive a line ('#' starts a comment):
 *   window FROM TO      the window to expand into (required, ISO-8601)
 *   zone NAME           the agency's zone (default Asia/Tokyo)
 *   busy START END      an expected interval, in order, merged
 *   warnings N          exactly N warnings
 *   warn TEXT           some warning contains TEXT
 * The second test runs crosscheck.py, which derives the same busy sets
 * with Python's icalendar and recurring_ical_events, so the expectations
 * are not only tsunagu's own reading.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "icalbusy.h"

#define DIR_PATH "tests/data/interop"
#define MIN_FILES 8

typedef struct expected {
    int64_t     from, to;
    const tz_t *zone;
    ivset_t     busy;
    long        warnings;          /* -1: not checked */
    strvec_t    warn;
} expected_t;

static int64_t iso(const char *file, int line, const char *s)
{
    int64_t t;
    if (!s || !tu_parse_iso8601(s, NULL, &t)) fail_msg("%s:%d: bad time \"%s\"", file, line, s ? s : "");
    return t;
}

static void read_expected(const char *path, expected_t *e)
{
    size_t len;
    char *text = read_file(path, &len);
    if (!text) fail_msg("%s: missing (every .ics needs its .busy)", path);
    *e = (expected_t){.zone = tz_default(), .warnings = -1};
    ivset_init(&e->busy);
    strvec_init(&e->warn);
    int n = 0;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        n++;
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        char *sp = NULL, *word = strtok_r(line, " \t", &sp);
        if (!word) continue;
        char *a = strtok_r(NULL, " \t", &sp), *b = strtok_r(NULL, " \t", &sp);
        if (strcmp(word, "window") == 0) {
            e->from = iso(path, n, a), e->to = iso(path, n, b);
        } else if (strcmp(word, "busy") == 0) {
            ivset_push(&e->busy, iso(path, n, a), iso(path, n, b));
        } else if (strcmp(word, "zone") == 0 && a) {
            if (!(e->zone = tz_get(a))) fail_msg("%s:%d: unknown zone %s", path, n, a);
        } else if (strcmp(word, "warnings") == 0 && a) {
            e->warnings = atol(a);
        } else if (strcmp(word, "warn") == 0 && a) {
            strvec_push(&e->warn, a);
        } else {
            fail_msg("%s:%d: unknown directive %s", path, n, word);
        }
    }
    if (e->to <= e->from) fail_msg("%s: no window", path);
    free(text);
}

static void print_set(const char *what, const ivset_t *s)
{
    char a[TU_ISO_LEN], b[TU_ISO_LEN];
    print_message("  %s:\n", what);
    for (size_t i = 0; i < s->n; i++)
        print_message("    %s %s\n", tu_format_iso8601(s->v[i].start, tz_default(), a),
                      tu_format_iso8601(s->v[i].end, tz_default(), b));
}

/* 0 when the file gives what its .busy says; messages go to the output. */
static int check_file(const char *ics)
{
    char *busy_path = xasprintf("%.*s.busy", (int)(strlen(ics) - 4), ics);
    expected_t e;
    read_expected(busy_path, &e);
    size_t len;
    char *data = read_file(ics, &len);
    assert_non_null(data);
    icalbusy_opts_t opts = {e.zone, e.from, e.to};
    ivset_t got;
    strvec_t warnings;
    ivset_init(&got);
    strvec_init(&warnings);
    char *err = NULL;
    int bad = 0;
    if (icalbusy_parse(data, len, &opts, &got, &warnings, &err) != 0) {
        print_message("%s: refused: %s\n", ics, err);
        bad = 1;
    } else {
        ivset_normalize(&e.busy);
        bool same = got.n == e.busy.n;
        for (size_t i = 0; same && i < got.n; i++)
            same = got.v[i].start == e.busy.v[i].start && got.v[i].end == e.busy.v[i].end;
        if (!same) {
            print_message("%s: busy set differs\n", ics);
            print_set("got", &got);
            print_set("want", &e.busy);
            bad = 1;
        }
        if (e.warnings >= 0 && (long)warnings.n != e.warnings) {
            print_message("%s: %zu warnings, want %ld\n", ics, warnings.n, e.warnings);
            bad = 1;
        }
        for (size_t i = 0; i < e.warn.n; i++) {
            bool found = false;
            for (size_t j = 0; j < warnings.n && !found; j++)
                found = strstr(warnings.v[j], e.warn.v[i]) != NULL;
            if (!found) {
                print_message("%s: no warning mentions \"%s\"\n", ics, e.warn.v[i]);
                bad = 1;
            }
        }
    }
    for (size_t i = 0; i < warnings.n; i++) print_message("%s: warning: %s\n", ics, warnings.v[i]);
    free(err);
    free(data);
    free(busy_path);
    ivset_free(&got);
    ivset_free(&e.busy);
    strvec_free(&warnings);
    strvec_free(&e.warn);
    return bad;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_every_producer_file_gives_its_busy_set(void **state)
{
    DIR *d = opendir(DIR_PATH);
    assert_non_null(d);
    strvec_t files;
    strvec_init(&files);
    for (struct dirent *de; (de = readdir(d));) {
        size_t n = strlen(de->d_name);
        if (n > 4 && strcmp(de->d_name + n - 4, ".ics") == 0)
            strvec_push(&files, de->d_name);
    }
    closedir(d);
    qsort(files.v, files.n, sizeof *files.v, name_cmp);
    int bad = 0;
    for (size_t i = 0; i < files.n; i++) {
        char *path = xasprintf(DIR_PATH "/%s", files.v[i]);
        int b = check_file(path);
        print_message("%s %s\n", b ? "FAIL" : "ok  ", path);
        bad += b;
        free(path);
    }
    size_t nfiles = files.n;
    strvec_free(&files);
    if (nfiles < MIN_FILES) fail_msg("only %zu .ics files in " DIR_PATH, nfiles);
    if (bad) fail_msg("%d interop file(s) differ from their .busy", bad);
}

/* The expectations, derived again by another implementation. */
static void test_expectations_cross_checked_in_python(void **state)
{
    if (access("/usr/bin/python3", X_OK) != 0 ||
        system("/usr/bin/python3 -c 'import icalendar, recurring_ical_events, pytz' "
               ">/dev/null 2>&1") != 0) {
        print_message("skipped: /usr/bin/python3 with python3-icalendar and "
                      "python3-recurring-ical-events is needed (contrib/install-deps --test)\n");
        skip();
    }
    assert_int_equal(system("/usr/bin/python3 " DIR_PATH "/crosscheck.py"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_producer_file_gives_its_busy_set),
        cmocka_unit_test(test_expectations_cross_checked_in_python),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
