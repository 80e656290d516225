/* SPDX-License-Identifier: MIT */
/*
 * test_docs_config.c - the configuration keys are documented where an
 * operator looks for them: every key of config_keys[] (daemon/core/config.c,
 * the one list that also feeds `tsunagud --help`) must
 *
 *   - have a row in README.md's configuration table (the table under the
 *     header "| key | default | meaning |"), showing the table default
 *     and the default named in the help text's "[...]" as `code`;
 *   - appear in contrib/tsunagud.conf.sample as a "KEY = value" or
 *     "#KEY = value" line;
 *   - head an entry of contrib/tsunagud.8's CONFIGURATION section (the
 *     tag line after a .TP, e.g. ".B SMTP_URL" or
 *     ".BR SMTP_USER \", \" SMTP_PASSWORD").
 *
 * The other way round, the README table, the sample and the man page's
 * entries must not name a key the daemon does not know (a renamed or
 * removed key).  And contrib/tsunagud.service starts the program where
 * `make install` puts it ($(SBINDIR)/tsunagud).  The helpers
 * are checked on small synthetic texts first, so a parser that finds
 * nothing cannot pass the real checks by accident.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

#define README "README.md"
#define SAMPLE "contrib/tsunagud.conf.sample"
#define MAN8 "contrib/tsunagud.8"
#define TABLE_HEADER "| key | default | meaning |\n"

/* ---- helpers --------------------------------------------------------------- */

/* The configuration table of a README: the lines from the header to the
 * first line that does not start with '|' (malloc'd; NULL if none). */
static char *config_table(const char *readme)
{
    const char *t = strstr(readme, TABLE_HEADER);
    if (!t) return NULL;
    const char *end = t;
    while (*end == '|') {
        const char *nl = strchr(end, '\n');
        end = nl ? nl + 1 : end + strlen(end);
    }
    return xstrndup(t, (size_t)(end - t));
}

/* The first cell of a table row (between the first two '|'), malloc'd. */
static char *first_cell(const char *row)
{
    const char *a = strchr(row, '|');
    const char *b = a ? strchr(a + 1, '|') : NULL;
    return b ? xstrndup(a + 1, (size_t)(b - a - 1)) : xstrdup("");
}

/* The row of table whose first cell names `KEY` (malloc'd line), or NULL. */
static char *row_for_key(const char *table, const char *key)
{
    char *want = xasprintf("`%s`", key);
    char *found = NULL;
    for (const char *l = table; l && *l && !found;) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        char *line = xstrndup(l, len);
        char *cell = first_cell(line);
        if (strstr(cell, want)) found = xstrdup(line);
        free(cell);
        free(line);
        l = nl ? nl + 1 : NULL;
    }
    free(want);
    return found;
}

/* Does a line of the sample set key ("KEY = v" or "#KEY = v")? */
static bool sample_sets(const char *sample, const char *key)
{
    size_t kl = strlen(key);
    for (const char *l = sample; l && *l;) {
        const char *p = l + (*l == '#');
        if (!strncmp(p, key, kl)) {
            p += kl;
            while (*p == ' ' || *p == '\t') p++;
            if (*p == '=') return true;
        }
        const char *nl = strchr(l, '\n');
        l = nl ? nl + 1 : NULL;
    }
    return false;
}

/* The default named at the end of a help text, "... [try]" -> "try". */
static char *help_default(const char *help)
{
    const char *open = strrchr(help, '[');
    const char *close = open ? strchr(open, ']') : NULL;
    if (!close || close[1] != '\0') return NULL;
    return xstrndup(open + 1, (size_t)(close - open - 1));
}

static bool known_key(const char *key)
{
    for (const config_key_t *k = config_keys; k->key; k++)
        if (!strcmp(k->key, key)) return true;
    return false;
}

/* Calls fn for every `UPPER_CASE` word in s. */
static void each_code_key(const char *s, void (*fn)(const char *key, void *arg), void *arg)
{
    for (const char *p = strchr(s, '`'); p; p = strchr(p + 1, '`')) {
        const char *q = strchr(p + 1, '`');
        if (!q) break;
        bool key = q > p + 1 && isupper((unsigned char)p[1]);
        for (const char *c = p + 1; key && c < q; c++)
            key = isupper((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_';
        if (key) {
            char *k = xstrndup(p + 1, (size_t)(q - p - 1));
            fn(k, arg);
            free(k);
        }
        p = q;
    }
}

/* Calls fn for every key a sample line sets ("KEY =" / "#KEY ="). */
static void each_sample_key(const char *s, void (*fn)(const char *key, void *arg), void *arg)
{
    for (const char *l = s; l && *l;) {
        const char *p = l + (*l == '#'), *e = p;
        while (isupper((unsigned char)*e) || isdigit((unsigned char)*e) || *e == '_') e++;
        const char *v = e;
        while (*v == ' ' || *v == '\t') v++;
        if (e > p && isupper((unsigned char)*p) && *v == '=') {
            char *k = xstrndup(p, (size_t)(e - p));
            fn(k, arg);
            free(k);
        }
        const char *nl = strchr(l, '\n');
        l = nl ? nl + 1 : NULL;
    }
}

/* The CONFIGURATION section of a man page: from ".SH CONFIGURATION" to
 * the next ".SH" (malloc'd; NULL if none). */
static char *man_config_section(const char *man)
{
    const char *t = strstr(man, "\n.SH CONFIGURATION\n");
    if (!t) return NULL;
    t++;
    const char *end = strstr(t + 1, "\n.SH ");
    return xstrndup(t, end ? (size_t)(end - t + 1) : strlen(t));
}

/* Calls fn for every UPPER_CASE word of every entry tag line (the line
 * after a ".TP") in section. */
static void each_man_tag_key(const char *section, void (*fn)(const char *key, void *arg),
                             void *arg)
{
    bool tag = false;
    for (const char *l = section; l && *l;) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        if (tag && l[0] == '.' && l[1] == 'B') {
            for (const char *p = l + 2; p < l + len;) {
                const char *e = p;
                while (e < l + len && (isupper((unsigned char)*e) || isdigit((unsigned char)*e) ||
                                       *e == '_'))
                    e++;
                bool word = e - p >= 2 && isupper((unsigned char)*p) &&
                            (p == l || !isalnum((unsigned char)p[-1])) &&
                            (e == l + len || !isalnum((unsigned char)*e));
                if (word) {
                    char *k = xstrndup(p, (size_t)(e - p));
                    fn(k, arg);
                    free(k);
                }
                p = e > p ? e : p + 1;
            }
        }
        tag = len == 3 && !strncmp(l, ".TP", 3);
        l = nl ? nl + 1 : NULL;
    }
}

typedef struct key_search {
    const char *want;
    bool        found;
} key_search_t;

static void match_key(const char *key, void *arg)
{
    key_search_t *ks = arg;
    if (!strcmp(key, ks->want)) ks->found = true;
}

static bool man_has_entry(const char *section, const char *key)
{
    key_search_t ks = { key, false };
    each_man_tag_key(section, match_key, &ks);
    return ks.found;
}

static void count_key(const char *key, void *arg) { (void)key; (*(int *)arg)++; }

static void must_be_known(const char *key, void *arg)
{
    if (!known_key(key))
        fail_msg("%s names the key %s, which daemon/core/config.c does not know", (const char *)arg, key);
}

/* ---- the helpers on synthetic texts ---------------------------------------- */

static const char fake_readme[] =
    "Intro mentions `RULES` in prose only.\n\n"
    TABLE_HEADER
    "|---|---|---|\n"
    "| `LISTEN` | `127.0.0.1:8080` | address |\n"
    "| `FETCH_TIMEOUT`, `MAX_CONCURRENT_FETCHES` | `30`, `16` | fetches |\n"
    "| `NOW` | – | uses `LISTEN` in the meaning |\n"
    "\n| `DATABASE` | after the table | not in it |\n";

static void test_helpers_find_rows(void **state)
{
    char *t = config_table(fake_readme);
    assert_non_null(t);
    char *r = row_for_key(t, "MAX_CONCURRENT_FETCHES");
    assert_non_null(r);
    assert_non_null(strstr(r, "`16`"));
    free(r);
    assert_null(row_for_key(t, "RULES"));       /* prose, not the table */
    assert_null(row_for_key(t, "DATABASE"));    /* after the table ended */
    r = row_for_key(t, "NOW");                  /* its own row, not LISTEN's */
    assert_non_null(r);
    assert_non_null(strstr(r, "`NOW`"));
    free(r);
    int n = 0;
    each_code_key(t, count_key, &n);
    assert_int_equal(n, 5);    /* LISTEN, FETCH_TIMEOUT, MAX_..., NOW, LISTEN */
    free(t);
    assert_null(config_table("no table here\n"));
}

static void test_helpers_read_the_sample(void **state)
{
    const char s[] = "# LISTEN = in a comment sentence\n#SMTP_URL = smtp://x\n"
                     "POLL_INTERVAL=300\n#   try     use it (= default)\nLOG_LEVELX = 1\n";
    assert_false(sample_sets(s, "LISTEN"));
    assert_true(sample_sets(s, "SMTP_URL"));
    assert_true(sample_sets(s, "POLL_INTERVAL"));
    assert_false(sample_sets(s, "LOG_LEVEL"));
    int n = 0;
    each_sample_key(s, count_key, &n);
    assert_int_equal(n, 3);    /* SMTP_URL, POLL_INTERVAL, LOG_LEVELX */
    char *d = help_default("seconds per SMTP delivery [60]");
    assert_string_equal(d, "60");
    free(d);
    assert_null(help_default("[x] not at the end"));
}

static const char fake_man[] =
    ".SH OPTIONS\n.TP\n.B SMTP_URL\nan option, not configuration\n"
    ".SH CONFIGURATION\nThe file holds one\n.B KEY = value\nper line.\n"
    ".TP\n.B LISTEN\nAddress (see\n.BR DATABASE ).\n"
    ".TP\n.BR SMTP_USER \", \" SMTP_PASSWORD\nSMTP AUTH.\n"
    ".TP\n.B OUTBOX_MAX_AGE\nAge.\n"
    ".SS Mail\n.TP\n.B MAIL_PATH\nmail.\n"
    ".SH SIGNALS\n.TP\n.B NOW\nnot configuration\n";

static void test_helpers_read_the_man_page(void **state)
{
    char *sec = man_config_section(fake_man);
    assert_non_null(sec);
    assert_true(man_has_entry(sec, "LISTEN"));
    assert_true(man_has_entry(sec, "SMTP_USER"));
    assert_true(man_has_entry(sec, "SMTP_PASSWORD"));
    assert_true(man_has_entry(sec, "OUTBOX_MAX_AGE"));
    assert_true(man_has_entry(sec, "MAIL_PATH"));      /* in a .SS of the section */
    assert_false(man_has_entry(sec, "KEY"));           /* prose, not an entry */
    assert_false(man_has_entry(sec, "DATABASE"));      /* mentioned in a description */
    assert_false(man_has_entry(sec, "SMTP_URL"));      /* another section */
    assert_false(man_has_entry(sec, "NOW"));
    assert_false(man_has_entry(sec, "OUTBOX_MAX"));    /* whole words only */
    int n = 0;
    each_man_tag_key(sec, count_key, &n);
    assert_int_equal(n, 5);
    free(sec);
    assert_null(man_config_section("no section\n"));
}

/* ---- the real documents ------------------------------------------------------ */

static void test_readme_table_lists_every_key(void **state)
{
    char *readme = read_file(README, NULL);
    assert_non_null(readme);
    char *table = config_table(readme);
    if (!table) fail_msg(README ": no configuration table (header %s)", TABLE_HEADER);
    size_t n = 0;
    for (const config_key_t *k = config_keys; k->key; k++, n++) {
        char *row = row_for_key(table, k->key);
        if (!row) fail_msg(README ": the configuration table has no row for `%s` (%s)", k->key, k->help);
        char *want = k->def ? xasprintf("`%s`", k->def) : NULL;
        if (want && !strstr(row, want))
            fail_msg(README ": the row of `%s` does not show its default %s", k->key, want);
        free(want);
        char *hd = help_default(k->help);
        want = hd ? xasprintf("`%s`", hd) : NULL;
        if (want && !strstr(row, want))
            fail_msg(README ": the row of `%s` does not show the default %s named in its help", k->key, want);
        free(want);
        free(hd);
        free(row);
    }
    assert_true(n >= 30);
    free(table);
    free(readme);
}

static void test_readme_table_names_only_known_keys(void **state)
{
    char *readme = read_file(README, NULL);
    assert_non_null(readme);
    char *table = config_table(readme);
    assert_non_null(table);
    /* first cells only: the meaning column may quote other things */
    int n = 0;
    for (const char *l = table; l && *l;) {
        const char *nl = strchr(l, '\n');
        char *line = xstrndup(l, nl ? (size_t)(nl - l) : strlen(l));
        char *cell = first_cell(line);
        each_code_key(cell, must_be_known, README " (configuration table)");
        each_code_key(cell, count_key, &n);
        free(cell);
        free(line);
        l = nl ? nl + 1 : NULL;
    }
    assert_true(n >= 30);
    free(table);
    free(readme);
}

static void test_sample_sets_every_key(void **state)
{
    char *sample = read_file(SAMPLE, NULL);
    assert_non_null(sample);
    for (const config_key_t *k = config_keys; k->key; k++)
        if (!sample_sets(sample, k->key))
            fail_msg(SAMPLE ": no \"%s = ...\" or \"#%s = ...\" line (%s)", k->key, k->key, k->help);
    int n = 0;
    each_sample_key(sample, must_be_known, SAMPLE);
    each_sample_key(sample, count_key, &n);
    assert_true(n >= 30);
    free(sample);
}

static void test_man_page_documents_every_key(void **state)
{
    char *man = read_file(MAN8, NULL);
    assert_non_null(man);
    char *sec = man_config_section(man);
    if (!sec) fail_msg(MAN8 ": no CONFIGURATION section");
    for (const config_key_t *k = config_keys; k->key; k++)
        if (!man_has_entry(sec, k->key))
            fail_msg(MAN8 ": the CONFIGURATION section has no entry for %s (%s)", k->key, k->help);
    int n = 0;
    each_man_tag_key(sec, must_be_known, MAN8 " (CONFIGURATION)");
    each_man_tag_key(sec, count_key, &n);
    assert_true(n >= 30);
    free(sec);
    free(man);
}

/* The value of a Makefile variable set as "NAME = v" or "NAME ?= v"
 * (malloc'd, trimmed), or NULL. */
static char *make_var(const char *mk, const char *name)
{
    size_t n = strlen(name);
    for (const char *l = mk; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
        if (strncmp(l, name, n) || (l[n] != ' ' && l[n] != '?' && l[n] != '='))
            continue;
        const char *v = l + n + strspn(l + n, " ?");
        if (*v != '=')
            continue;
        v += 1 + strspn(v + 1, " \t");
        size_t len = strcspn(v, "\n");
        while (len && isspace((unsigned char)v[len - 1]))
            len--;
        return xstrndup(v, len);
    }
    return NULL;
}

static void test_unit_starts_the_installed_daemon(void **state)
{
    char *mk = read_file("Makefile", NULL), *unit = read_file("contrib/tsunagud.service", NULL);
    assert_non_null(mk);
    assert_non_null(unit);
    char *prefix = make_var(mk, "PREFIX"), *sbindir = make_var(mk, "SBINDIR");
    assert_non_null(prefix);
    assert_non_null(sbindir);
    assert_non_null(strstr(mk, "bin/tsunagud $(DESTDIR)$(SBINDIR)/tsunagud"));
    assert_int_equal(strncmp(sbindir, "$(PREFIX)/", 10), 0);
    char *want = xasprintf("\nExecStart=%s/%s/tsunagud ", prefix, sbindir + 10);
    if (!strstr(unit, want))
        fail_msg("contrib/tsunagud.service: expected%s(make install puts tsunagud there)", want);
    free(want);
    free(prefix);
    free(sbindir);
    free(mk);
    free(unit);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_helpers_find_rows),
        cmocka_unit_test(test_helpers_read_the_sample),
        cmocka_unit_test(test_readme_table_lists_every_key),
        cmocka_unit_test(test_readme_table_names_only_known_keys),
        cmocka_unit_test(test_sample_sets_every_key),
        cmocka_unit_test(test_helpers_read_the_man_page),
        cmocka_unit_test(test_man_page_documents_every_key),
        cmocka_unit_test(test_unit_starts_the_installed_daemon),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
