/* SPDX-License-Identifier: MIT */
/*
 * workq.h - worker threads with a FIFO, and a pipe back to the event loop.
 *
 * The one pattern behind the feed parse pool (calendars/parse_pool.c)
 * and password hashing (service/pwhash.c): a task is a pair of functions,
 * work(arg) on a worker thread (it must touch nothing the loop uses) and
 * done(arg) afterwards on the loop, in completion order.  Workers start
 * with thread_create_quiet (no signals).  max_pending > 0 bounds the
 * tasks between submit and done: a full queue refuses the task, so the
 * caller can answer 503 instead of piling up memory.
 */
#ifndef TSUNAGU_WORKQ_H
#define TSUNAGU_WORKQ_H

#include <event2/event.h>
#include <stddef.h>

typedef struct workq workq_t;
typedef void (*workq_fn)(void *arg);

/* workers <= 0: one per online CPU.  priority < 0: the base's default,
 * else the libevent priority of the loop-side event.  NULL on failure
 * (err says why, Japanese first). */
workq_t *workq_new(struct event_base *base, int workers, int max_pending, int priority,
                   char *err, size_t errlen);
int  workq_size(const workq_t *q);                 /* worker threads; 0 for NULL */
/* Queue a task; 0, or -1 when the queue is stopping or full. */
int  workq_submit(workq_t *q, workq_fn work, workq_fn done, void *arg);
/* Stop.  discard NULL: the workers finish every queued task and every
 * done runs before this returns.  discard set: workers finish only the
 * task in hand; each task not yet done (queued, or finished but not yet
 * delivered) gets discard(arg) instead of done.  NULL q is fine. */
void workq_free(workq_t *q, workq_fn discard);

#endif
