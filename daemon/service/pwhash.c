/* SPDX-License-Identifier: MIT */
/*
 * pwhash.c - argon2id (libsodium crypto_pwhash_str) on a worker thread.
 *
 * Jobs are appended to a mutex-protected FIFO (at most PWHASH_QUEUE_MAX)
 * and taken by one worker thread, which hashes or verifies and then writes
 * the finished job's pointer into a pipe.  The read end is a libevent
 * event on the daemon's loop: on_done reads the pointers and calls each
 * job's callback there, so callers never see another thread.  One worker
 * is enough: logins are rare and each job already uses 64 MiB.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "pwhash.h"
#include "util.h"

#define PWHASH_QUEUE_MAX 32
#define PWHASH_MAX_PASSWORD 1024

typedef struct job {
    struct job    *next;
    bool           verify, ok;
    char           password[PWHASH_MAX_PASSWORD + 1];
    char           hash[crypto_pwhash_STRBYTES];
    pwhash_done_fn fn;
    void          *arg;
} job_t;

struct pwhash {
    pthread_t       thread;
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    job_t          *head, *tail;
    int             queued;
    bool            stop;
    int             pipe_r, pipe_w;
    struct event   *ev;
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

static void run_job(job_t *j)
{
    size_t n = strlen(j->password);
    if (j->verify)
        j->ok = crypto_pwhash_str_verify(j->hash, j->password, n) == 0;
    else
        j->ok = crypto_pwhash_str(j->hash, j->password, n, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                  crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0;
    sodium_memzero(j->password, sizeof j->password);
}

static job_t *take_job(pwhash_t *p)
{
    pthread_mutex_lock(&p->mu);
    while (!p->head && !p->stop)
        pthread_cond_wait(&p->cv, &p->mu);
    job_t *j = p->stop ? NULL : p->head;
    if (j) {
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
    }
    pthread_mutex_unlock(&p->mu);
    return j;
}

static void *worker(void *arg)
{
    pwhash_t *p = arg;
    job_t *j;
    while ((j = take_job(p))) {
        run_job(j);
        ssize_t w;
        do
            w = write(p->pipe_w, &j, sizeof j);
        while (w < 0 && errno == EINTR);
    }
    return NULL;
}

/* On the loop: finished jobs' pointers arrive through the pipe. */
static void on_done(evutil_socket_t fd, short what, void *arg)
{
    pwhash_t *p = arg;
    job_t *j;
    while (read(fd, &j, sizeof j) == (ssize_t)sizeof j) {
        pthread_mutex_lock(&p->mu);
        p->queued--;
        pthread_mutex_unlock(&p->mu);
        j->fn(j->arg, j->ok, j->verify || !j->ok ? NULL : j->hash);
        sodium_memzero(j, sizeof *j);
        free(j);
    }
}

pwhash_t *pwhash_new(struct event_base *base)
{
    int fds[2];
    if (sodium_init() < 0 || pipe2(fds, O_CLOEXEC) != 0)
        return NULL;
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    pwhash_t *p = xcalloc(1, sizeof *p);
    p->pipe_r = fds[0];
    p->pipe_w = fds[1];
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->ev = event_new(base, p->pipe_r, EV_READ | EV_PERSIST, on_done, p);
    if (!p->ev || event_add(p->ev, NULL) != 0 ||
        thread_create_quiet(&p->thread, worker, p) != 0) {
        log_error("pwhash: cannot start the worker thread");
        if (p->ev)
            event_free(p->ev);
        close(fds[0]);
        close(fds[1]);
        free(p);
        return NULL;
    }
    return p;
}

void pwhash_free(pwhash_t *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    event_free(p->ev);
    job_t *j;
    while (read(p->pipe_r, &j, sizeof j) == (ssize_t)sizeof j)
        free(j);                    /* finished but not yet delivered */
    for (job_t *q = p->head, *next; q; q = next) {
        next = q->next;
        sodium_memzero(q, sizeof *q);
        free(q);
    }
    close(p->pipe_r);
    close(p->pipe_w);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}

static bool enqueue(pwhash_t *p, job_t *j)
{
    pthread_mutex_lock(&p->mu);
    bool ok = p->queued < PWHASH_QUEUE_MAX && !p->stop;
    if (ok) {
        p->queued++;
        if (p->tail)
            p->tail->next = j;
        else
            p->head = j;
        p->tail = j;
        pthread_cond_signal(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    if (!ok) {
        sodium_memzero(j, sizeof *j);
        free(j);
    }
    return ok;
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
