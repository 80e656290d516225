/* SPDX-License-Identifier: MIT */
/*
 * parse_pool.c - worker threads for feed parsing (see parse_pool.h).
 *
 * Tasks wait in a FIFO under a mutex; workers take them one at a time.
 * A finished task's pointer is written to a pipe (8 bytes, atomic below
 * PIPE_BUF); the loop's read event takes every pointer available and
 * runs its done.  Shutdown: workers exit once the queue is empty, then
 * the loop side reads the pipe dry, so every done has run.
 */
#include "parse_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "curlev.h"
#include "util.h"

typedef struct task {
    parse_pool_fn work, done;
    void         *arg;
    struct task  *next;
} task_t;

struct parse_pool {
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    task_t         *head, *tail;
    bool            stop;
    int             nworkers;
    pthread_t      *workers;
    int             pipefd[2];        /* workers write finished tasks, the loop reads */
    struct event   *ev;
};

static void *worker_main(void *arg)
{
    parse_pool_t *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->head && !p->stop)
            pthread_cond_wait(&p->cv, &p->mu);
        task_t *t = p->head;
        if (t) {
            p->head = t->next;
            if (!p->head)
                p->tail = NULL;
        }
        pthread_mutex_unlock(&p->mu);
        if (!t)
            return NULL;                  /* stopping and nothing left */
        t->work(t->arg);
        ssize_t w;
        do
            w = write(p->pipefd[1], &t, sizeof t);
        while (w < 0 && errno == EINTR);
    }
}

/* Run the done of every finished task the pipe holds. */
static void drain(parse_pool_t *p)
{
    task_t *batch[64];
    ssize_t r;
    while ((r = read(p->pipefd[0], batch, sizeof batch)) > 0 || (r < 0 && errno == EINTR))
        for (ssize_t i = 0; i < r / (ssize_t)sizeof batch[0]; i++) {
            batch[i]->done(batch[i]->arg);
            free(batch[i]);
        }
}

static void on_finished(evutil_socket_t fd, short what, void *arg)
{
    drain(arg);
}

static int cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

parse_pool_t *parse_pool_new(struct event_base *base, int workers, char *err, size_t errlen)
{
    parse_pool_t *p = xcalloc(1, sizeof *p);
    p->nworkers = workers > 0 ? workers : cpus();
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (pipe2(p->pipefd, O_CLOEXEC | O_NONBLOCK) != 0) {
        snprintf(err, errlen, "解析スレッド用のパイプを作れません (parse pool pipe): %s", strerror(errno));
        free(p);
        return NULL;
    }
    /* workers block on a full pipe rather than lose a task */
    fcntl(p->pipefd[1], F_SETFL, fcntl(p->pipefd[1], F_GETFL) & ~O_NONBLOCK);
    p->ev = event_new(base, p->pipefd[0], EV_READ | EV_PERSIST, on_finished, p);
    event_priority_set(p->ev, EVPRI_BACKGROUND);
    event_add(p->ev, NULL);
    p->workers = xcalloc((size_t)p->nworkers, sizeof *p->workers);
    int started = 0;                    /* workers take no signals */
    while (started < p->nworkers &&
           thread_create_quiet(&p->workers[started], worker_main, p) == 0)
        started++;
    if (started < p->nworkers) {
        snprintf(err, errlen, "解析スレッドを起動できません (cannot start parse workers)");
        p->nworkers = started;
        parse_pool_free(p);
        return NULL;
    }
    return p;
}

int parse_pool_size(const parse_pool_t *p) { return p ? p->nworkers : 0; }

int parse_pool_submit(parse_pool_t *p, parse_pool_fn work, parse_pool_fn done, void *arg)
{
    task_t *t = xcalloc(1, sizeof *t);
    t->work = work;
    t->done = done;
    t->arg = arg;
    pthread_mutex_lock(&p->mu);
    bool stopping = p->stop;
    if (!stopping) {
        if (p->tail)
            p->tail->next = t;
        else
            p->head = t;
        p->tail = t;
        pthread_cond_signal(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    if (stopping)
        free(t);
    return stopping ? -1 : 0;
}

void parse_pool_free(parse_pool_t *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    /* a worker blocked on a full pipe needs the reader: drain while joining */
    for (int i = 0; i < p->nworkers; i++) {
        while (pthread_tryjoin_np(p->workers[i], NULL) == EBUSY) {
            drain(p);
            usleep(1000);
        }
    }
    drain(p);
    event_free(p->ev);
    close(p->pipefd[0]);
    close(p->pipefd[1]);
    free(p->workers);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}
