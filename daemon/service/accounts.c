/* SPDX-License-Identifier: MIT */
/*
 * accounts.c - personal accounts and sessions: login with throttling,
 * session lookup and expiry, password change, admin add/reset/disable.
 *
 * Every operation that hashes is a small state machine: a heap "op"
 * carries the request's data through pwhash's callback (and, for logins,
 * a delay timer from event_base_once) and is freed when the caller's
 * callback has run.  tsunagud_hold/release bracket each op, so SIGTERM
 * waits for it.  Throttling state is an in-memory table of recent failure
 * counts keyed "u:<name>" and "a:<address>" (oldest entry reused when
 * full); it is not persisted: a restart forgets it.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts.h"
#include "log.h"
#include "pwhash.h"
#include "sha256.h"
#include "util.h"

#define THROTTLE_SLOTS   512
#define THROTTLE_WINDOW  (15 * 60)
#define THROTTLE_MAX_MS  30000L
/* Failures from one address (often a whole office behind one proxy) that
 * pass before that address is slowed; an account is slowed at once. */
#define ADDR_FREE_FAILURES 5

static pwhash_t *hasher;
static char     *dummy_hash;    /* verified against for unknown accounts */

typedef struct throttle {
    char    key[200];
    int     failures;
    int64_t last;
} throttle_t;
static throttle_t throttles[THROTTLE_SLOTS];

static int64_t wall_now(void) { return (int64_t)time(NULL); }

bool accounts_init(tsunagud_t *d)
{
    if (hasher)
        return true;
    if (!dummy_hash)
        dummy_hash = pwhash_hash_now("tsunagu-dummy-password");
    hasher = dummy_hash ? pwhash_new(d->base) : NULL;
    if (!hasher)
        log_error("accounts: libsodium unusable; logins are unavailable");
    return hasher != NULL;
}

void accounts_shutdown(void)
{
    pwhash_free(hasher);
    hasher = NULL;
    free(dummy_hash);
    dummy_hash = NULL;
}

static void random_hex(char *out, size_t nbytes)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[64];
    randombytes_buf(raw, nbytes);
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[2 * nbytes] = '\0';
}

void accounts_session_key(const char *token, char out[65])
{
    sha256_hex(token, strlen(token), out);
}

bool accounts_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

const char *accounts_password_problem(const char *name, const char *password)
{
    if (!password || utf8_chars(password) < ACCOUNTS_MIN_PASSWORD)
        return "パスワードは10文字以上にしてください";
    if (strlen(password) > 1000)
        return "パスワードが長すぎます (1000バイトまで)";
    if (name && strstr(password, name))
        return "パスワードにアカウント名を含めないでください";
    return NULL;
}

/* ---- throttling --------------------------------------------------------- */

static throttle_t *throttle_find(const char *key, bool create)
{
    throttle_t *oldest = &throttles[0];
    int64_t now = wall_now();
    for (size_t i = 0; i < THROTTLE_SLOTS; i++) {
        throttle_t *t = &throttles[i];
        if (t->key[0] && now - t->last > THROTTLE_WINDOW)
            t->key[0] = '\0';
        if (t->key[0] && !strcmp(t->key, key))
            return t;
        if (t->last < oldest->last)
            oldest = t;
    }
    if (!create)
        return NULL;
    memset(oldest, 0, sizeof *oldest);
    snprintf(oldest->key, sizeof oldest->key, "%s", key);
    return oldest;
}

static int failures_of(const char *prefix, const char *v)
{
    char key[200];
    snprintf(key, sizeof key, "%s%s", prefix, v ? v : "");
    throttle_t *t = throttle_find(key, false);
    return t ? t->failures : 0;
}

static void record(const char *prefix, const char *v, bool failed)
{
    char key[200];
    snprintf(key, sizeof key, "%s%s", prefix, v ? v : "");
    throttle_t *t = throttle_find(key, failed);
    if (!t)
        return;
    if (failed) {
        t->failures++;
        t->last = wall_now();
    } else
        t->key[0] = '\0';
}

static long base_delay_ms(tsunagud_t *d)
{
    long ms = config_int(d->config, "LOGIN_DELAY_MS", 1000, NULL);
    return ms < 0 ? 0 : ms;
}

static long throttle_ms(tsunagud_t *d, const char *name, const char *addr)
{
    int a = failures_of("u:", name), b = failures_of("a:", addr) - ADDR_FREE_FAILURES;
    int n = a > b ? a : b;
    if (n == 0)
        return 0;
    long ms = base_delay_ms(d);
    for (int i = 1; i < n && ms < THROTTLE_MAX_MS; i++)
        ms *= 2;
    return ms < THROTTLE_MAX_MS ? ms : THROTTLE_MAX_MS;
}

static void after_ms(tsunagud_t *d, long ms, event_callback_fn fn, void *arg)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    if (event_base_once(d->base, -1, EV_TIMEOUT, fn, arg, &tv) != 0)
        fn(-1, EV_TIMEOUT, arg);
}

/* ---- login -------------------------------------------------------------- */

/* A password (malloc'd, may be NULL): wiped, then freed. */
static void free_secret(char *pw)
{
    if (pw)
        sodium_memzero(pw, strlen(pw));
    free(pw);
}

typedef struct login_op {
    tsunagud_t             *d;
    char                   *name, *password, *addr;
    bool                    found;
    store_user_t            user;
    accounts_login_fn       fn;
    void                   *arg;
    accounts_login_result_t res;
} login_op_t;

static void login_free(login_op_t *op)
{
    tsunagud_release(op->d);
    free_secret(op->password);
    free(op->name);
    free(op->addr);
    sodium_memzero(&op->res, sizeof op->res);
    free(op);
}

static void login_answer(evutil_socket_t fd, short what, void *arg)
{
    login_op_t *op = arg;
    op->fn(op->arg, &op->res);
    login_free(op);
}

static bool start_session(login_op_t *op)
{
    store_t *st = op->d->store;
    char key[65];
    int64_t now = wall_now();
    random_hex(op->res.token, ACCOUNTS_TOKEN_LEN / 2);
    random_hex(op->res.session.csrf, 32);
    accounts_session_key(op->res.token, key);
    if (!store_session_add(st, key, op->user.id, op->res.session.csrf, now))
        return false;
    store_user_logged_in(st, op->user.id, now);
    op->res.session.user = op->user;
    op->res.session.created = op->res.session.last_seen = now;
    return true;
}

static void on_login_verified(void *arg, bool ok, const char *hash)
{
    login_op_t *op = arg;
    /* the account may have changed while the hash ran */
    store_user_t now_user;
    bool still = ok && op->found && store_user_get(op->d->store, op->name, &now_user) &&
                 !now_user.disabled && now_user.id == op->user.id;
    if (still) {
        op->user = now_user;
        op->res.status = start_session(op) ? ACCOUNTS_OK : ACCOUNTS_ERROR;
        record("u:", op->name, false);
        log_info("accounts: %s logged in", op->name);
        login_answer(-1, 0, op);
        return;
    }
    record("u:", op->name, true);
    record("a:", op->addr, true);
    log_info("accounts: failed login for \"%s\" from %s", op->name, op->addr);
    op->res.status = ACCOUNTS_DENIED;
    after_ms(op->d, base_delay_ms(op->d), login_answer, op);
}

static void login_check(evutil_socket_t fd, short what, void *arg)
{
    login_op_t *op = arg;
    op->found = store_user_get(op->d->store, op->name, &op->user) && !op->user.disabled;
    const char *hash = op->found ? op->user.hash : dummy_hash;
    if (!hasher || !pwhash_verify(hasher, hash, op->password, on_login_verified, op)) {
        op->res.status = ACCOUNTS_BUSY;
        login_answer(-1, 0, op);
    }
}

void accounts_login(tsunagud_t *d, const char *name, const char *password, const char *addr,
                    accounts_login_fn fn, void *arg)
{
    login_op_t *op = xcalloc(1, sizeof *op);
    op->d = d;
    op->name = xstrdup(name);
    op->password = xstrdup(password);
    op->addr = xstrdup(addr ? addr : "");
    op->fn = fn;
    op->arg = arg;
    tsunagud_hold(d);
    after_ms(d, throttle_ms(d, name, op->addr), login_check, op);
}

/* ---- sessions ----------------------------------------------------------- */

int accounts_session(tsunagud_t *d, const char *token, store_session_t *out)
{
    char key[65];
    if (!token || strlen(token) != ACCOUNTS_TOKEN_LEN)
        return 0;
    accounts_session_key(token, key);
    if (!store_session_get(d->store, key, out))
        return 0;
    int64_t now = wall_now();
    long idle = config_int(d->config, "SESSION_IDLE", 1800, NULL);
    long max = config_int(d->config, "SESSION_MAX", 28800, NULL);
    if (out->user.disabled || now - out->last_seen >= idle || now - out->created >= max) {
        store_session_delete(d->store, key);
        store_sessions_expire(d->store, now - idle, now - max);
        return -1;
    }
    if (now != out->last_seen)
        store_session_touch(d->store, key, now);
    return 1;
}

void accounts_logout(tsunagud_t *d, const char *token)
{
    char key[65];
    accounts_session_key(token, key);
    store_session_delete(d->store, key);
}

/* ---- password change, add, reset --------------------------------------- */

typedef struct pw_op {
    tsunagud_t      *d;
    char            *name, *role, *keep, *fresh;
    char             secret[17];
    accounts_done_fn fn;
    void            *arg;
} pw_op_t;

static void pw_finish(pw_op_t *op, accounts_status_t st)
{
    op->fn(op->arg, st, st == ACCOUNTS_OK && op->secret[0] ? op->secret : NULL);
    tsunagud_release(op->d);
    free_secret(op->fresh);
    free(op->name);
    free(op->role);
    free(op->keep);
    sodium_memzero(op->secret, sizeof op->secret);
    free(op);
}

static pw_op_t *pw_op_new(tsunagud_t *d, const char *name, accounts_done_fn fn, void *arg)
{
    pw_op_t *op = xcalloc(1, sizeof *op);
    op->d = d;
    op->name = xstrdup(name);
    op->fn = fn;
    op->arg = arg;
    tsunagud_hold(d);
    return op;
}

static void end_sessions(pw_op_t *op)
{
    store_user_t u;
    char key[65] = "";
    if (op->keep)
        accounts_session_key(op->keep, key);
    if (store_user_get(op->d->store, op->name, &u))
        store_sessions_end_user(op->d->store, u.id, key);
}

static void on_new_hash(void *arg, bool ok, const char *hash)
{
    pw_op_t *op = arg;
    store_t *st = op->d->store;
    accounts_status_t res = ACCOUNTS_ERROR;
    if (!ok)
        res = ACCOUNTS_ERROR;
    else if (op->role) {                            /* add */
        int rc = store_user_add(st, op->name, op->role, hash, wall_now());
        res = rc > 0 ? ACCOUNTS_OK : rc == 0 ? ACCOUNTS_EXISTS : ACCOUNTS_ERROR;
    } else if (store_user_set_hash(st, op->name, hash, op->fresh == NULL, wall_now())) {
        end_sessions(op);                           /* reset or change */
        res = ACCOUNTS_OK;
    } else
        res = ACCOUNTS_UNKNOWN;
    if (res == ACCOUNTS_OK)
        log_info("accounts: %s: %s", op->name, op->role ? "added" : op->fresh ? "password changed"
                                                                            : "password reset");
    pw_finish(op, res);
}

static void hash_next(pw_op_t *op, const char *password)
{
    if (!hasher || !pwhash_hash(hasher, password, on_new_hash, op))
        pw_finish(op, ACCOUNTS_BUSY);
}

static void on_current_checked(void *arg, bool ok, const char *hash)
{
    pw_op_t *op = arg;
    if (!ok)
        pw_finish(op, ACCOUNTS_DENIED);
    else
        hash_next(op, op->fresh);
}

void accounts_change_password(tsunagud_t *d, const char *name, const char *keep_token,
                              const char *current, const char *fresh, accounts_done_fn fn,
                              void *arg)
{
    pw_op_t *op = pw_op_new(d, name, fn, arg);
    op->keep = xstrdup(keep_token);
    op->fresh = xstrdup(fresh);
    store_user_t u;
    if (!store_user_get(d->store, name, &u))
        pw_finish(op, ACCOUNTS_UNKNOWN);
    else if (!hasher || !pwhash_verify(hasher, u.hash, current, on_current_checked, op))
        pw_finish(op, ACCOUNTS_BUSY);
}

/* 16 characters without look-alikes (no 0/O, 1/l/I). */
static void initial_password(char out[17])
{
    static const char set[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    for (int i = 0; i < 16; i++)
        out[i] = set[randombytes_uniform(sizeof set - 1)];
    out[16] = '\0';
}

void accounts_add(tsunagud_t *d, const char *name, const char *role, accounts_done_fn fn,
                  void *arg)
{
    pw_op_t *op = pw_op_new(d, name, fn, arg);
    op->role = xstrdup(role);
    if (store_user_get(d->store, name, &(store_user_t){0})) {
        pw_finish(op, ACCOUNTS_EXISTS);
        return;
    }
    initial_password(op->secret);
    hash_next(op, op->secret);
}

void accounts_reset(tsunagud_t *d, const char *name, accounts_done_fn fn, void *arg)
{
    pw_op_t *op = pw_op_new(d, name, fn, arg);
    if (!store_user_get(d->store, name, &(store_user_t){0})) {
        pw_finish(op, ACCOUNTS_UNKNOWN);
        return;
    }
    initial_password(op->secret);
    hash_next(op, op->secret);
}

bool accounts_set_disabled(tsunagud_t *d, const char *name, bool disabled)
{
    if (!store_user_set_disabled(d->store, name, disabled, wall_now()))
        return false;
    store_user_t u;
    if (disabled && store_user_get(d->store, name, &u))
        store_sessions_end_user(d->store, u.id, NULL);
    log_info("accounts: %s %s", name, disabled ? "disabled" : "enabled");
    return true;
}
