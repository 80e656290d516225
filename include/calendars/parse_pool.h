/* SPDX-License-Identifier: MIT */
/*
 * parse_pool.h - a small pool of worker threads for the CPU-heavy part of
 * a feed refresh, iCalendar parsing and recurrence expansion, so it does
 * not run on the event loop (issue 14: with 200 responses 78 % of the
 * daemon's CPU was libical on the loop, and /healthz p99 reached 95 ms).
 *
 * A task is a pair of functions: work(arg) runs on a worker thread and
 * must touch nothing the loop uses; done(arg) then runs on the loop
 * (through a pipe the loop watches), in completion order.  The pool
 * never drops a task: parse_pool_free lets the workers finish the queue
 * and runs every done before it returns.
 *
 * The feed code uses the pool set with feed_set_parse_pool (feed.h); with
 * none set, it parses inline as before (tests, the CLI).
 */
#ifndef TSUNAGU_PARSE_POOL_H
#define TSUNAGU_PARSE_POOL_H

#include <event2/event.h>

typedef struct parse_pool parse_pool_t;
typedef void (*parse_pool_fn)(void *arg);

/* workers <= 0: one per online CPU.  NULL on failure (err says why). */
parse_pool_t *parse_pool_new(struct event_base *base, int workers, char *err, size_t errlen);
void parse_pool_free(parse_pool_t *p);             /* drains; NULL is fine */
int  parse_pool_size(const parse_pool_t *p);
/* Queue a task; 0, or -1 when the pool is shutting down. */
int  parse_pool_submit(parse_pool_t *p, parse_pool_fn work, parse_pool_fn done, void *arg);

#endif
