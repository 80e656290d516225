/* SPDX-License-Identifier: MIT */
/*
 * accounts.h - personal accounts and browser sessions: the policy.
 *
 * Passwords are hashed with argon2id on pwhash's worker thread; every
 * function that hashes answers through a callback on the loop.
 *
 * Login (accounts_login) is slowed per account name and per client
 * address: after n recent failures (within 15 minutes) of the account,
 * or n + 5 of the address (an office may share one proxy), the attempt
 * waits LOGIN_DELAY_MS * 2^(n-1) (at most 30 s) before it is checked,
 * and every failed attempt is answered only after LOGIN_DELAY_MS.
 * An unknown or disabled account costs the same argon2id verify (against
 * a dummy hash) and gets the same answer as a wrong password, so the
 * answer never tells whether an account exists.
 *
 * Sessions: the cookie value is 32 random bytes in hex; only its SHA-256
 * is stored, with a CSRF token of the same size.  A session ends after
 * SESSION_IDLE seconds without a request (default 1800) or SESSION_MAX
 * seconds after login (default 28800), on logout, and when the account
 * is disabled, reset or changes its password (other sessions).  Session
 * times use the real clock, not the NOW override.
 */
#ifndef TSUNAGU_ACCOUNTS_H
#define TSUNAGU_ACCOUNTS_H

#include <stdbool.h>

#include "daemon.h"
#include "store_users.h"

#define ACCOUNTS_TOKEN_LEN 64          /* hex characters */
#define ACCOUNTS_MIN_PASSWORD 10       /* characters (UTF-8 code points) */

typedef enum {
    ACCOUNTS_OK = 0,
    ACCOUNTS_DENIED,        /* wrong name/password, or wrong current password */
    ACCOUNTS_BUSY,          /* hashing queue full: try again */
    ACCOUNTS_EXISTS,        /* user add: the name is taken */
    ACCOUNTS_UNKNOWN,       /* reset: no such user */
    ACCOUNTS_ERROR,         /* store error */
} accounts_status_t;

typedef struct accounts_login_result {
    accounts_status_t status;
    char              token[ACCOUNTS_TOKEN_LEN + 1];   /* the cookie value */
    store_session_t   session;
} accounts_login_result_t;

typedef void (*accounts_login_fn)(void *arg, const accounts_login_result_t *res);
/* status OK; secret: the new initial password (user add / reset), else NULL. */
typedef void (*accounts_done_fn)(void *arg, accounts_status_t status, const char *secret);

/* Start the hashing worker; false when libsodium is unusable.  Idempotent. */
bool accounts_init(tsunagud_t *d);
/* Stop the worker (after the loop has ended). */
void accounts_shutdown(void);

void accounts_login(tsunagud_t *d, const char *name, const char *password, const char *addr,
                    accounts_login_fn fn, void *arg);

/* 1 and *out filled: a live session (its last use is recorded); 0: no
 * such session; -1: it existed and has just expired (removed). */
int  accounts_session(tsunagud_t *d, const char *token, store_session_t *out);
void accounts_logout(tsunagud_t *d, const char *token);
/* The SHA-256 hex of a cookie value (the sessions table's key). */
void accounts_session_key(const char *token, char out[65]);

/* NULL when acceptable, else a Japanese reason. */
const char *accounts_password_problem(const char *name, const char *password);
/* Account names: 1-63 of [A-Za-z0-9._-]. */
bool accounts_name_ok(const char *name);

/* Verify current, store the hash of fresh (must_change cleared) and end
 * the user's other sessions (keep_token's stays). */
void accounts_change_password(tsunagud_t *d, const char *name, const char *keep_token,
                              const char *current, const char *fresh, accounts_done_fn fn,
                              void *arg);
/* A new account (must change its password at first login) with a random
 * initial password, given to fn once. */
void accounts_add(tsunagud_t *d, const char *name, const char *role, accounts_done_fn fn,
                  void *arg);
/* A new random password, must_change set, every session ended. */
void accounts_reset(tsunagud_t *d, const char *name, accounts_done_fn fn, void *arg);
/* Disable (every session ended) or enable.  false: no such user. */
bool accounts_set_disabled(tsunagud_t *d, const char *name, bool disabled);

#endif
