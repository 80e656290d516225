/* SPDX-License-Identifier: MIT */
/*
 * workq.c - worker threads with a FIFO and a pipe back to the loop
 * (workq.h).
 *
 * Tasks wait in a FIFO under a mutex; workers take them one at a time.
 * A finished task's pointer is written to a pipe (8 bytes, atomic below
 * PIPE_BUF; a full pipe blocks the worker rather than lose a task); the
 * loop's read event takes every pointer available and runs its done.
 * Shutdown sets `stop`: with draining, workers exit once the queue is
 * empty and the caller's thread reads the pipe dry while joining them,
 * so every done has run; without, workers exit after the task in hand
 * and what is left is handed to discard.
 */
#include "workq.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

typedef struct task {
    workq_fn     work, done;
    void        *arg;
    struct task *next;
} task_t;

struct workq {
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    task_t         *head, *tail;
    int             pending, max_pending;   /* submitted, done not yet run */
    bool            stop, drain;
    int             nworkers;
    pthread_t      *workers;
    int             pipefd[2];              /* workers write finished tasks, the loop reads */
    struct event   *ev;
};

static void *worker_main(void *arg)
{
    workq_t *q = arg;
    for (;;) {
        pthread_mutex_lock(&q->mu);
        while (!q->head && !q->stop)
            pthread_cond_wait(&q->cv, &q->mu);
        task_t *t = q->stop && !q->drain ? NULL : q->head;
        if (t) {
            q->head = t->next;
            if (!q->head)
                q->tail = NULL;
        }
        pthread_mutex_unlock(&q->mu);
        if (!t)
            return NULL;                    /* stopping (and, draining, nothing left) */
        t->work(t->arg);
        ssize_t w;
        do
            w = write(q->pipefd[1], &t, sizeof t);
        while (w < 0 && errno == EINTR);
    }
}

/* Hand every finished task the pipe holds to fn (done, or a discard). */
static void deliver(workq_t *q, workq_fn discard)
{
    task_t *batch[64];
    ssize_t r;
    while ((r = read(q->pipefd[0], batch, sizeof batch)) > 0 || (r < 0 && errno == EINTR))
        for (ssize_t i = 0; i < r / (ssize_t)sizeof batch[0]; i++) {
            pthread_mutex_lock(&q->mu);
            q->pending--;
            pthread_mutex_unlock(&q->mu);
            (discard ? discard : batch[i]->done)(batch[i]->arg);
            free(batch[i]);
        }
}

static void on_finished(evutil_socket_t fd, short what, void *arg)
{
    deliver(arg, NULL);
}

static int cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

workq_t *workq_new(struct event_base *base, int workers, int max_pending, int priority,
                   char *err, size_t errlen)
{
    workq_t *q = xcalloc(1, sizeof *q);
    q->nworkers = workers > 0 ? workers : cpus();
    q->max_pending = max_pending;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    if (pipe2(q->pipefd, O_CLOEXEC | O_NONBLOCK) != 0) {
        snprintf(err, errlen, "作業スレッド用のパイプを作れません (worker pipe): %s", strerror(errno));
        pthread_mutex_destroy(&q->mu);
        pthread_cond_destroy(&q->cv);
        free(q);
        return NULL;
    }
    /* workers block on a full pipe rather than lose a task */
    fcntl(q->pipefd[1], F_SETFL, fcntl(q->pipefd[1], F_GETFL) & ~O_NONBLOCK);
    q->ev = event_new(base, q->pipefd[0], EV_READ | EV_PERSIST, on_finished, q);
    if (priority >= 0)
        event_priority_set(q->ev, priority);
    event_add(q->ev, NULL);
    q->workers = xcalloc((size_t)q->nworkers, sizeof *q->workers);
    int started = 0;                        /* workers take no signals */
    while (started < q->nworkers &&
           thread_create_quiet(&q->workers[started], worker_main, q) == 0)
        started++;
    if (started < q->nworkers) {
        snprintf(err, errlen, "作業スレッドを起動できません (cannot start worker threads)");
        q->nworkers = started;
        workq_free(q, NULL);
        return NULL;
    }
    return q;
}

int workq_size(const workq_t *q) { return q ? q->nworkers : 0; }

int workq_submit(workq_t *q, workq_fn work, workq_fn done, void *arg)
{
    task_t *t = xcalloc(1, sizeof *t);
    t->work = work;
    t->done = done;
    t->arg = arg;
    pthread_mutex_lock(&q->mu);
    bool ok = !q->stop && (q->max_pending <= 0 || q->pending < q->max_pending);
    if (ok) {
        q->pending++;
        if (q->tail)
            q->tail->next = t;
        else
            q->head = t;
        q->tail = t;
        pthread_cond_signal(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
    if (!ok)
        free(t);
    return ok ? 0 : -1;
}

void workq_free(workq_t *q, workq_fn discard)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->mu);
    q->stop = true;
    q->drain = discard == NULL;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    /* a worker blocked on a full pipe needs the reader: deliver while joining */
    for (int i = 0; i < q->nworkers; i++) {
        while (pthread_tryjoin_np(q->workers[i], NULL) == EBUSY) {
            deliver(q, discard);
            usleep(1000);
        }
    }
    deliver(q, discard);
    for (task_t *t = q->head, *next; t; t = next) {    /* never started (not draining) */
        next = t->next;
        discard(t->arg);
        free(t);
    }
    event_free(q->ev);
    close(q->pipefd[0]);
    close(q->pipefd[1]);
    free(q->workers);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    free(q);
}
