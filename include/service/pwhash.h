/* SPDX-License-Identifier: MIT */
/*
 * pwhash.h - password hashing off the event loop.
 *
 * libsodium's crypto_pwhash_str (argon2id, INTERACTIVE limits: 64 MiB,
 * about 0.1 s) would stall every other request if it ran on the loop, so
 * jobs go to one worker thread and their callbacks run back on the loop
 * (a pipe wakes it).  The queue is bounded: a full queue refuses the job
 * (false) and the caller answers 503 instead of piling up memory.
 * Passwords are copied into the job and wiped (sodium_memzero) once used.
 */
#ifndef TSUNAGU_PWHASH_H
#define TSUNAGU_PWHASH_H

#include <event2/event.h>
#include <stdbool.h>

typedef struct pwhash pwhash_t;

/* hash: the new hash string (NULL when ok is false) for pwhash_hash;
 * NULL for pwhash_verify, where ok says whether the password matched. */
typedef void (*pwhash_done_fn)(void *arg, bool ok, const char *hash);

/* NULL when libsodium cannot initialise or the thread cannot start. */
pwhash_t *pwhash_new(struct event_base *base);
/* Waits for the job in progress; queued jobs are dropped uncalled. */
void pwhash_free(pwhash_t *p);

bool pwhash_hash(pwhash_t *p, const char *password, pwhash_done_fn fn, void *arg);
bool pwhash_verify(pwhash_t *p, const char *hash, const char *password, pwhash_done_fn fn,
                   void *arg);

/* Synchronous, for tests and the store's first admin: the hash string
 * (malloc'd) or NULL. */
char *pwhash_hash_now(const char *password);

#endif
