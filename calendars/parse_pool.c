/* SPDX-License-Identifier: MIT */
/*
 * parse_pool.c - worker threads for feed parsing (see parse_pool.h).
 *
 * A thin layer over core's workq (queue, workers, pipe back to the loop):
 * the loop-side event runs at EVPRI_BACKGROUND, the queue is unbounded
 * (a feed's fetch slot already bounds it), and shutdown drains, so every
 * done has run when parse_pool_free returns.
 */
#include "parse_pool.h"

#include <stdlib.h>

#include "curlev.h"
#include "util.h"
#include "workq.h"

struct parse_pool {
    workq_t *q;
};

parse_pool_t *parse_pool_new(struct event_base *base, int workers, char *err, size_t errlen)
{
    workq_t *q = workq_new(base, workers, 0, EVPRI_BACKGROUND, err, errlen);
    if (!q)
        return NULL;
    parse_pool_t *p = xcalloc(1, sizeof *p);
    p->q = q;
    return p;
}

int parse_pool_size(const parse_pool_t *p) { return p ? workq_size(p->q) : 0; }

int parse_pool_submit(parse_pool_t *p, parse_pool_fn work, parse_pool_fn done, void *arg)
{
    return workq_submit(p->q, work, done, arg);
}

void parse_pool_free(parse_pool_t *p)
{
    if (!p)
        return;
    workq_free(p->q, NULL);
    free(p);
}
