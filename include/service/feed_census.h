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
 *
 * Two ways to take it.  feed_census_init/add/finish count every feed
 * once (a full recount, O(feeds)).  A feed_tally_t is the same census
 * kept up to date as feeds change: the scheduler takes a feed out before
 * changing what the census sees of it and puts it back after, so a
 * scrape (feed_tally_census) is O(agencies with a failing feed), not
 * O(feeds).  The success ages need the time of the scrape: the tally
 * keeps a count per second of last success over a ring of
 * FEED_TALLY_RING seconds starting a week (the largest bound) before
 * the last scrape, with 1024-second block sums, so each bucket is a sum
 * over at most a few thousand counters; older successes are one
 * counter.  A last success further in the future than the ring counts
 * as age 0 (the daemon writes its own clock, so only a clock set back
 * by weeks gets there).
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
/* init + every feed of f + finish: the full recount. */
void feed_census_recount(feed_census_t *c, const feeds_t *f, int64_t now);
/* The census from f's tally (feeds_tally), without visiting the feeds. */
void feed_census_take(feed_census_t *c, feeds_t *f, int64_t now);

/* ---- the tally: the census kept as feeds change ---------------------- */
#define FEED_TALLY_RING  (1 << 21)    /* seconds (24 days), a multiple of 1024 */

typedef struct feed_tally {
    size_t    total;
    size_t    by_state[FEED_STATE_COUNT];
    size_t    by_kind[FEED_KIND_COUNT][FEED_STATE_COUNT];
    long long intervals;
    strmap_t  failing;                /* agency -> feed_tally_agency_t*, owned */
    uint32_t *sec;                    /* FEED_TALLY_RING counts, index t % ring */
    uint32_t *blk;                    /* their sums per 1024 seconds */
    int64_t   base;                   /* the ring holds [base, base + ring) */
    size_t    in_ring, older;         /* successes in the ring / before base */
    int64_t   key_sum;                /* sum of the keys of every success counted */
} feed_tally_t;

void    feed_tally_init(feed_tally_t *t, int64_t now);
void    feed_tally_free(feed_tally_t *t);
/* Count v; the result is the key to give feed_tally_remove (the last
 * success as the tally placed it). */
int64_t feed_tally_add(feed_tally_t *t, const feed_view_t *v);
/* Uncount v, added with that key (v as it was when added). */
void    feed_tally_remove(feed_tally_t *t, const feed_view_t *v, int64_t key);
/* The census as of now (moves the ring forward: not const). */
/* Move the ring's start to now - one week (the seconds left behind count
 * as older).  The census does it at each scrape; the feeds module also
 * does it before each add, so a tally that is seldom scraped still places
 * new successes at their own second. */
void    feed_tally_advance(feed_tally_t *t, int64_t now);
void    feed_tally_census(feed_tally_t *t, int64_t now, feed_census_t *out);
/* The census as Prometheus text (HELP/TYPE lines included). */
void feed_census_prometheus(const feed_census_t *c, strbuf_t *out);

#endif
