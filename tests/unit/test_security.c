/*
 * test_security.c - security properties of single modules that need no
 * daemon: files holding personal data or secrets are created private.
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_database_is_private),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
