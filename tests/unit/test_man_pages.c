/* SPDX-License-Identifier: MIT */
/*
 * test_man_pages.c - contrib/tsunagu.1 documents every verb that
 * `tsunagu help` lists: each name in the CLI verb tables must head an
 * entry of the man page (a .B/.BI/.BR line whose first argument is the
 * verb, e.g. `.BI "case create" " case.json"` or `.B cases`), and the
 * entries for verbs added later are Japanese first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

#define MAN "contrib/tsunagu.1"

static const cli_verb_t *const tables[] = {
    cli_core_verbs, cli_rules_verbs, cli_meetings_verbs, cli_demo_verbs, cli_slots_verbs,
    cli_cases_verbs, cli_users_verbs, cli_stats_verbs,
};

/* The text an entry line names: all of a .B line, the first argument of
 * .BI/.BR; quotes removed.  NULL when the line is not such an entry. */
static char *entry_name(const char *line)
{
    const char *p;
    bool whole;
    if (!strncmp(line, ".B ", 3)) {
        p = line + 3;
        whole = true;
    } else if (!strncmp(line, ".BI ", 4) || !strncmp(line, ".BR ", 4)) {
        p = line + 4;
        whole = false;
    } else {
        return NULL;
    }
    if (*p == '"') {
        const char *q = strchr(p + 1, '"');
        return q ? xstrndup(p + 1, (size_t)(q - p - 1)) : NULL;
    }
    size_t n = whole ? strcspn(p, "\n") : strcspn(p, " \n");
    return xstrndup(p, n);
}

/* The line after an entry ".TP\n<entry>\n" is its description. */
static const char *description_after(const char *text, const char *verb)
{
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, ".TP\n", 4))
            continue;
        const char *entry = l + 4;
        char *name = entry_name(entry);
        bool hit = name && !strcmp(name, verb);
        free(name);
        if (hit) {
            const char *nl = strchr(entry, '\n');
            return nl ? nl + 1 : "";
        }
    }
    return NULL;
}

static void test_every_verb_has_an_entry(void **state)
{
    char *text = read_file(MAN, NULL);
    assert_non_null(text);
    size_t n = 0;
    for (size_t t = 0; t < sizeof tables / sizeof *tables; t++)
        for (const cli_verb_t *v = tables[t]; v->name; v++, n++)
            if (!description_after(text, v->name))
                fail_msg(MAN ": no entry for the verb \"%s\" (%s)", v->name, v->help);
    assert_true(n >= 30);
    free(text);
}

static void test_new_entries_are_japanese_first(void **state)
{
    static const char *const verbs[] = {
        "case create", "case show", "case update", "case close", "cases", "propose", "decisions",
        "decision", "approve", "override", "rules show", "slots", "hold create", "holds",
        "hold delete", "meeting book", "meeting show", "meeting reschedule", "meeting cancel",
        "outbox", "reply", "demo-mail", "user add", "user list", "user disable", "user enable",
        "user reset", "stats", "similar", "rules impact",
    };
    char *text = read_file(MAN, NULL);
    assert_non_null(text);
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++) {
        const char *d = description_after(text, verbs[i]);
        assert_non_null(d);
        if ((unsigned char)d[0] < 0x80)
            fail_msg(MAN ": the description of \"%s\" should start in Japanese: %.60s", verbs[i], d);
    }
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_verb_has_an_entry),
        cmocka_unit_test(test_new_entries_are_japanese_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
