/* SPDX-License-Identifier: MIT */
/*
 * store_users.h - personal accounts and browser sessions in the store
 * (migration 10: users, sessions).  SQL only; the policy (hashing,
 * expiry, throttling) lives in service/accounts.c.
 *
 * A user row holds the argon2id hash string (crypto_pwhash_str), one role
 * string as for tokens ("admin", "coordinator", "secretariat",
 * "agency:<id>"), must_change (first login, after a reset) and disabled.
 * A session row is keyed by the SHA-256 hex of the cookie value and holds
 * the CSRF token, its creation and its last use.
 */
#ifndef TSUNAGU_STORE_USERS_H
#define TSUNAGU_STORE_USERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "store.h"

typedef struct store_user {
    int64_t id;
    char    name[64];
    char    role[160];
    char    hash[160];         /* crypto_pwhash_STRBYTES is 128 */
    bool    must_change, disabled;
    int64_t created, last_login;
} store_user_t;

typedef struct store_session {
    store_user_t user;
    char    csrf[65];
    int64_t created, last_seen;
} store_session_t;

/* Whether anyone can act as admin from the store: an enabled admin
 * account or an admin token (the config's ADMIN_TOKEN aside). */
bool store_admin_exists(store_t *st);

/* 1 added, 0 the name exists, -1 SQL error. */
int  store_user_add(store_t *st, const char *name, const char *role, const char *hash,
                    int64_t now);
bool store_user_get(store_t *st, const char *name, store_user_t *out);
/* [{name, role, must_change, disabled, created, last_login}] by name,
 * times as epoch seconds (0 = never); NULL on SQL error. */
json_t *store_user_list(store_t *st);
/* New hash; must_change as given.  false when no such user / SQL error. */
bool store_user_set_hash(store_t *st, const char *name, const char *hash, bool must_change,
                         int64_t now);
bool store_user_set_disabled(store_t *st, const char *name, bool disabled, int64_t now);
bool store_user_logged_in(store_t *st, int64_t user_id, int64_t now);

bool store_session_add(store_t *st, const char *hash, int64_t user_id, const char *csrf,
                       int64_t now);
/* The session and its user; false when unknown. */
bool store_session_get(store_t *st, const char *hash, store_session_t *out);
bool store_session_touch(store_t *st, const char *hash, int64_t now);
bool store_session_delete(store_t *st, const char *hash);
/* Every session of a user (disable, reset, password change except keep). */
bool store_sessions_end_user(store_t *st, int64_t user_id, const char *keep_hash);
/* Remove sessions idle since before idle_before or created before
 * created_before; the number removed or -1. */
int  store_sessions_expire(store_t *st, int64_t idle_before, int64_t created_before);

#endif
