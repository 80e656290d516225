/* SPDX-License-Identifier: MIT */
/*
 * feed_census.h - aggregate feed health for /metrics, with a number of
 * series that does not grow with the number of feeds (issue 14: one
 * series per feed made /metrics 12.8 MB at 100,000 feeds).
 *
 * A census is taken from the scheduler's in-memory mirror (feeds_each),
 * so a scrape runs no query.  It counts feeds by state, by kind x state,
 * the busy rows stored, a histogram of the time since each feed's last
 * success, the number of agencies with a failing feed, and names at most
 * FEED_CENSUS_TOP agencies, those with the most failing feeds (ties by
 * id).  Per-feed detail is on GET /v1/feeds?state=failing (paginated)
 * and `tsunagu feeds --failing`.
 */
#ifndef TSUNAGU_FEED_CENSUS_H
#define TSUNAGU_FEED_CENSUS_H

#include <stddef.h>
#include <stdint.h>

#include "feeds.h"
#include "strmap.h"
#include "util.h"

#define FEED_CENSUS_TOP  20
#define FEED_CENSUS_AGES 7            /* finite buckets of the age histogram */
extern const double feed_census_age_bounds[FEED_CENSUS_AGES];   /* seconds */

typedef struct feed_census_top {
    const char *agency;               /* borrowed from the feeds' mirror */
    size_t      failing;
} feed_census_top_t;

typedef struct feed_census {
    int64_t   now;
    size_t    total;
    size_t    by_state[FEED_STATE_COUNT];
    size_t    by_kind[FEED_KIND_COUNT][FEED_STATE_COUNT];
    long long intervals;
    size_t    age_bucket[FEED_CENSUS_AGES + 1];   /* per bucket, last = +Inf */
    double    age_sum;
    size_t    age_count;                          /* feeds that ever succeeded */
    strmap_t  failing_by_agency;                  /* agency -> count (as pointer) */
    const char *run_agency;                       /* failing feeds of one agency in a row, */
    size_t    run_n;                              /* ... not yet in failing_by_agency */
    size_t    agencies_failing;
    feed_census_top_t top[FEED_CENSUS_TOP];
    size_t    ntop;
} feed_census_t;

void feed_census_init(feed_census_t *c, int64_t now);
void feed_census_add(feed_census_t *c, const feed_view_t *v);
void feed_census_finish(feed_census_t *c);        /* fills agencies_failing, top */
void feed_census_free(feed_census_t *c);
/* init + every feed of f + finish. */
void feed_census_take(feed_census_t *c, const feeds_t *f, int64_t now);
/* The census as Prometheus text (HELP/TYPE lines included). */
void feed_census_prometheus(const feed_census_t *c, strbuf_t *out);

#endif
