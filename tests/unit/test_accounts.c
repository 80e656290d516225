/* SPDX-License-Identifier: MIT */
/*
 * test_accounts.c - the pieces of personal accounts below the API:
 *   - store_users.c on an in-memory store: users (add, duplicate, get,
 *     list, new hash, disable) and sessions (add, get with the user,
 *     touch, delete, end a user's others, expire by idle and age);
 *   - pwhash.c: argon2id on the worker thread, callbacks back on the
 *     loop's thread, a right and a wrong password, an overlong one refused;
 *   - accounts.c's name and password rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "pwhash.h"
#include "store.h"
#include "store_users.h"

static store_t *open_store(void)
{
    char err[256];
    store_t *st = store_open(":memory:", err, sizeof err);
    if (!st)
        fail_msg("store_open: %s", err);
    assert_true(store_has_migration(st, 10));
    return st;
}

static void test_users_in_the_store(void **state)
{
    store_t *st = open_store();
    assert_int_equal(store_user_add(st, "tanaka", "coordinator", "$h1", 100), 1);
    assert_int_equal(store_user_add(st, "tanaka", "admin", "$h2", 101), 0);
    assert_int_equal(store_user_add(st, "suzuki", "secretariat", "$h3", 102), 1);
    store_user_t u;
    assert_true(store_user_get(st, "tanaka", &u));
    assert_string_equal(u.role, "coordinator");
    assert_string_equal(u.hash, "$h1");
    assert_true(u.must_change);
    assert_false(u.disabled);
    assert_false(store_user_get(st, "nobody", &u));
    assert_true(store_user_set_hash(st, "tanaka", "$new", false, 200));
    assert_false(store_user_set_hash(st, "nobody", "$new", false, 200));
    assert_true(store_user_get(st, "tanaka", &u));
    assert_string_equal(u.hash, "$new");
    assert_false(u.must_change);
    assert_true(store_user_set_disabled(st, "suzuki", true, 300));
    json_t *list = store_user_list(st);
    assert_int_equal(json_array_size(list), 2);
    json_t *first = json_array_get(list, 0);             /* by name: suzuki first */
    assert_string_equal(json_string_value(json_object_get(first, "name")), "suzuki");
    assert_true(json_is_true(json_object_get(first, "disabled")));
    assert_null(json_object_get(first, "hash"));         /* never listed */
    json_decref(list);
    store_close(st);
}

static void test_sessions_in_the_store(void **state)
{
    store_t *st = open_store();
    store_user_add(st, "tanaka", "coordinator", "$h", 100);
    store_user_t u;
    store_user_get(st, "tanaka", &u);
    assert_true(store_session_add(st, "k1", u.id, "csrf1", 1000));
    assert_true(store_session_add(st, "k2", u.id, "csrf2", 1000));
    store_session_t s;
    assert_true(store_session_get(st, "k1", &s));
    assert_string_equal(s.user.name, "tanaka");
    assert_string_equal(s.csrf, "csrf1");
    assert_int_equal(s.last_seen, 1000);
    assert_true(store_session_touch(st, "k1", 1500));
    assert_true(store_session_get(st, "k1", &s));
    assert_int_equal(s.last_seen, 1500);
    /* idle before 1200: k2 goes, k1 (seen at 1500) stays */
    assert_int_equal(store_sessions_expire(st, 1200, 0), 1);
    assert_false(store_session_get(st, "k2", &s));
    assert_true(store_session_get(st, "k1", &s));
    /* created before 1001: k1 goes too */
    assert_int_equal(store_sessions_expire(st, 0, 1001), 1);
    assert_false(store_session_get(st, "k1", &s));
    /* a user's other sessions end, the kept one stays */
    store_session_add(st, "a", u.id, "c", 2000);
    store_session_add(st, "b", u.id, "c", 2000);
    assert_true(store_sessions_end_user(st, u.id, "a"));
    assert_true(store_session_get(st, "a", &s));
    assert_false(store_session_get(st, "b", &s));
    assert_true(store_session_delete(st, "a"));
    assert_false(store_session_get(st, "a", &s));
    store_close(st);
}

typedef struct hash_state {
    struct event_base *base;
    pthread_t          loop_thread;
    int                done;
    bool               ok[3];
    char              *hash;
    bool               on_loop;
} hash_state_t;

static void on_hashed(void *arg, bool ok, const char *hash)
{
    hash_state_t *h = arg;
    h->on_loop = pthread_equal(pthread_self(), h->loop_thread);
    h->ok[0] = ok;
    h->hash = hash ? strdup(hash) : NULL;
    h->done++;
}

static void on_right(void *arg, bool ok, const char *hash)
{
    hash_state_t *h = arg;
    h->ok[1] = ok;
    h->done++;
}

static void on_wrong(void *arg, bool ok, const char *hash)
{
    hash_state_t *h = arg;
    h->ok[2] = ok;
    h->done++;
}

static void run_until(hash_state_t *h, int n)
{
    while (h->done < n)
        event_base_loop(h->base, EVLOOP_ONCE);
}

static void test_pwhash_on_a_worker(void **state)
{
    hash_state_t h = { .base = event_base_new(), .loop_thread = pthread_self() };
    pwhash_t *p = pwhash_new(h.base);
    assert_non_null(p);
    assert_true(pwhash_hash(p, "correct horse battery", on_hashed, &h));
    run_until(&h, 1);
    assert_true(h.ok[0]);
    assert_true(h.on_loop);
    assert_non_null(h.hash);
    assert_memory_equal(h.hash, "$argon2id$", 10);
    assert_true(pwhash_verify(p, h.hash, "correct horse battery", on_right, &h));
    assert_true(pwhash_verify(p, h.hash, "correct horse batterY", on_wrong, &h));
    run_until(&h, 3);
    assert_true(h.ok[1]);
    assert_false(h.ok[2]);
    char *big = malloc(2000);
    memset(big, 'x', 1999);
    big[1999] = '\0';
    assert_false(pwhash_hash(p, big, on_hashed, &h));     /* too long: refused at once */
    free(big);
    pwhash_free(p);
    free(h.hash);
    event_base_free(h.base);
}

static void test_name_and_password_rules(void **state)
{
    assert_true(accounts_name_ok("tanaka.h"));
    assert_true(accounts_name_ok("kodomo_1-a"));
    assert_false(accounts_name_ok(""));
    assert_false(accounts_name_ok("田中"));
    assert_false(accounts_name_ok("a b"));
    assert_false(accounts_name_ok("a/b"));
    char long_name[80];
    memset(long_name, 'a', 64);
    long_name[64] = '\0';
    assert_false(accounts_name_ok(long_name));
    assert_null(accounts_password_problem("tanaka", "mori-no-hikari"));
    assert_non_null(accounts_password_problem("tanaka", "short"));
    assert_non_null(accounts_password_problem("tanaka", "my-tanaka-password"));
    assert_null(accounts_password_problem("tanaka", "もりのひかりとうみのおと"));   /* 12 characters */
    assert_non_null(accounts_password_problem("tanaka", "もりのひかり"));          /* 6, though 18 bytes */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_users_in_the_store),
        cmocka_unit_test(test_sessions_in_the_store),
        cmocka_unit_test(test_pwhash_on_a_worker),
        cmocka_unit_test(test_name_and_password_rules),
    };
    return cmocka_run_group_tests_name("test_accounts", tests, NULL, NULL);
}
