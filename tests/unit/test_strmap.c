/* SPDX-License-Identifier: MIT */
/*
 * test_strmap.c - the string hash map behind linear-time import and the
 * scheduler's id lookup: every key inserted is found with its value,
 * duplicates are reported, deletion (backward shift) keeps every other
 * key reachable, and NULL values still count as present.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "strmap.h"
#include "util.h"

#define N 20000

static void test_put_get_delete(void **state)
{
    char **keys = xcalloc(N, sizeof *keys);
    strmap_t m;
    strmap_init(&m);
    assert_false(strmap_has(&m, "x"));
    assert_null(strmap_get(&m, "x"));
    assert_false(strmap_del(&m, "x"));
    for (size_t i = 0; i < N; i++) {
        keys[i] = xasprintf("feed-%zu", i);
        assert_true(strmap_put(&m, keys[i], keys[i]));
    }
    assert_int_equal(strmap_len(&m), N);
    for (size_t i = 0; i < N; i++)
        assert_ptr_equal(strmap_get(&m, keys[i]), keys[i]);
    char probe[32];
    snprintf(probe, sizeof probe, "feed-%d", 7);
    assert_false(strmap_put(&m, probe, NULL));        /* duplicate: value replaced */
    assert_true(strmap_has(&m, "feed-7"));
    assert_null(strmap_get(&m, "feed-7"));
    assert_int_equal(strmap_len(&m), N);
    for (size_t i = 0; i < N; i += 2)
        assert_true(strmap_del(&m, keys[i]));
    assert_int_equal(strmap_len(&m), N / 2);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(strmap_has(&m, keys[i]), i % 2 == 1);
        if (i % 2 && i != 7)
            assert_ptr_equal(strmap_get(&m, keys[i]), keys[i]);
    }
    assert_false(strmap_has(&m, "feed-20000"));
    strmap_free(&m);
    for (size_t i = 0; i < N; i++)
        free(keys[i]);
    free(keys);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_delete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
