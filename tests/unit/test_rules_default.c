/* SPDX-License-Identifier: MIT */
/*
 * test_rules_default.c - where the daemon and the CLI find the shipped
 * rule file when RULES is unset (rules_default_path()).  Each test builds
 * a layout in a temp folder and runs from a working directory without
 * rules/: a source tree's bin/ (../rules/default.rules), a `make install`
 * tree's sbin/ (../share/tsunagu/rules/default.rules), and neither (the
 * relative default, so the error names it).  The working directory's
 * rules/default.rules wins over both.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "rules.h"
#include "util.h"

static char root[64], cwd_before[4096];

static void mkdirs(const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0700);
            *p = '/';
        }
    mkdir(path, 0700);
}

static void touch(const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("policy \"t\"\n", f);
    fclose(f);
}

static int setup(void **state)
{
    snprintf(root, sizeof root, "/tmp/tsunagu-rulesdef-XXXXXX");
    assert_non_null(mkdtemp(root));
    assert_non_null(getcwd(cwd_before, sizeof cwd_before));
    mkdirs("work");
    char w[512];
    snprintf(w, sizeof w, "%s/work", root);
    assert_int_equal(chdir(w), 0);
    return 0;
}

static int teardown(void **state)
{
    assert_int_equal(chdir(cwd_before), 0);
    char *cmd = xasprintf("rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    return 0;
}

static void expect_path(const char *exe_rel, const char *want_rel)
{
    char *exe = xasprintf("%s/%s", root, exe_rel);
    char *got = rules_default_path(exe);
    char *want = want_rel[0] == '/' || !strncmp(want_rel, "rules/", 6)
                     ? xstrdup(want_rel) : xasprintf("%s/%s", root, want_rel);
    assert_string_equal(got, want);
    free(exe);
    free(got);
    free(want);
}

static void test_installed_tree(void **state)
{
    mkdirs("usr/local/sbin");
    mkdirs("usr/local/bin");
    mkdirs("usr/local/share/tsunagu/rules");
    touch("usr/local/share/tsunagu/rules/default.rules");
    expect_path("usr/local/sbin/tsunagud", "usr/local/share/tsunagu/rules/default.rules");
    expect_path("usr/local/bin/tsunagu", "usr/local/share/tsunagu/rules/default.rules");
}

static void test_source_tree_elsewhere(void **state)
{
    mkdirs("src/bin");
    mkdirs("src/rules");
    touch("src/rules/default.rules");
    expect_path("src/bin/tsunagud", "src/rules/default.rules");
}

static void test_none_names_the_relative_default(void **state)
{
    mkdirs("empty/bin");
    expect_path("empty/bin/tsunagud", RULES_DEFAULT_RELATIVE);
    char *self = rules_default_path(NULL);     /* build/tests/: no rules there either */
    assert_non_null(self);
    free(self);
}

static void test_working_directory_first(void **state)
{
    mkdirs("src/bin");
    mkdirs("src/rules");
    touch("src/rules/default.rules");
    mkdirs("work/rules");
    touch("work/rules/default.rules");
    expect_path("src/bin/tsunagud", RULES_DEFAULT_RELATIVE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_installed_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_source_tree_elsewhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_none_names_the_relative_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_working_directory_first, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
