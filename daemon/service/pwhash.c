/* SPDX-License-Identifier: MIT */
/*
 * pwhash.c - argon2id (libsodium crypto_pwhash_str) on a worker thread.
 *
 * Jobs go to core's workq (one worker thread, at most PWHASH_QUEUE_MAX
 * pending): the worker hashes or verifies, and job_done calls the job's
 * callback back on the daemon's loop, so callers never see another
 * thread.  One worker is enough: logins are rare and each job already
 * uses 64 MiB.  A job is wiped (sodium_memzero) when done or discarded.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pwhash.h"
#include "util.h"
#include "workq.h"

#define PWHASH_QUEUE_MAX 32
#define PWHASH_MAX_PASSWORD 1024

typedef struct job {
    bool           verify, ok;
    char           password[PWHASH_MAX_PASSWORD + 1];
    char           hash[crypto_pwhash_STRBYTES];
    pwhash_done_fn fn;
    void          *arg;
} job_t;

struct pwhash {
    workq_t *q;
};

char *pwhash_hash_now(const char *password)
{
    char out[crypto_pwhash_STRBYTES];
    if (sodium_init() < 0 ||
        crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return NULL;
    return xstrdup(out);
}

static void run_job(void *arg)              /* on the worker */
{
    job_t *j = arg;
    size_t n = strlen(j->password);
    if (j->verify)
        j->ok = crypto_pwhash_str_verify(j->hash, j->password, n) == 0;
    else
        j->ok = crypto_pwhash_str(j->hash, j->password, n, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                  crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0;
    sodium_memzero(j->password, sizeof j->password);
}

static void wipe_job(void *arg)
{
    sodium_memzero(arg, sizeof(job_t));
    free(arg);
}

static void job_done(void *arg)             /* on the loop */
{
    job_t *j = arg;
    j->fn(j->arg, j->ok, j->verify || !j->ok ? NULL : j->hash);
    wipe_job(j);
}

pwhash_t *pwhash_new(struct event_base *base)
{
    char err[256];
    if (sodium_init() < 0)
        return NULL;
    workq_t *q = workq_new(base, 1, PWHASH_QUEUE_MAX, -1, err, sizeof err);
    if (!q) {
        log_error("pwhash: %s", err);
        return NULL;
    }
    pwhash_t *p = xcalloc(1, sizeof *p);
    p->q = q;
    return p;
}

void pwhash_free(pwhash_t *p)
{
    if (!p)
        return;
    workq_free(p->q, wipe_job);     /* the job in hand finishes; the rest are wiped uncalled */
    free(p);
}

static bool enqueue(pwhash_t *p, job_t *j)
{
    if (workq_submit(p->q, run_job, job_done, j) == 0)
        return true;
    wipe_job(j);
    return false;
}

static job_t *new_job(const char *password, pwhash_done_fn fn, void *arg)
{
    if (strlen(password) > PWHASH_MAX_PASSWORD)
        return NULL;
    job_t *j = xcalloc(1, sizeof *j);
    strcpy(j->password, password);
    j->fn = fn;
    j->arg = arg;
    return j;
}

bool pwhash_hash(pwhash_t *p, const char *password, pwhash_done_fn fn, void *arg)
{
    job_t *j = new_job(password, fn, arg);
    return j && enqueue(p, j);
}

bool pwhash_verify(pwhash_t *p, const char *hash, const char *password, pwhash_done_fn fn,
                   void *arg)
{
    job_t *j = new_job(password, fn, arg);
    if (!j)
        return false;
    if (strlen(hash) >= sizeof j->hash) {
        free(j);
        return false;
    }
    j->verify = true;
    strcpy(j->hash, hash);
    return enqueue(p, j);
}
