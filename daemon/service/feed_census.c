/* SPDX-License-Identifier: MIT */
/*
 * feed_census.c - aggregate feed health for /metrics (see feed_census.h).
 *
 * One pass over the scheduler's mirror fills fixed-size counters; failing
 * feeds are also counted per agency in a hash map, from which finish()
 * keeps the FEED_CENSUS_TOP largest with an insertion into a small sorted
 * array.  The Prometheus text therefore has a fixed number of lines, up
 * to FEED_CENSUS_TOP agency lines, whatever the number of feeds.
 *
 * The tally (feed_tally_t) is that census maintained by the scheduler on
 * every change of a feed, so /metrics reads it instead of walking 100,000
 * feeds (2.7-6 ms a scrape).  Counters move by one on add and remove;
 * failing feeds per agency live in a map with owned keys, dropped when
 * they reach zero; last successes are counted per second in a ring (see
 * feed_census.h) and each age bucket is summed from it when scraped.
 */
#include "feed_census.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

const double feed_census_age_bounds[FEED_CENSUS_AGES] = {300, 900, 1800, 3600, 21600, 86400,
                                                         604800};

static const char *const state_names[FEED_STATE_COUNT] = {"pending", "ok", "failing"};

void feed_census_init(feed_census_t *c, int64_t now)
{
    memset(c, 0, sizeof *c);
    c->now = now;
    strmap_init(&c->failing_by_agency);
}

void feed_census_free(feed_census_t *c)
{
    strmap_free(&c->failing_by_agency);
}

/* Add the run of failing feeds of one agency to the map.  The run's
 * agency string belongs to the feed, valid while the census is taken. */
static void flush_run(feed_census_t *c)
{
    if (!c->run_agency)
        return;
    uintptr_t n = (uintptr_t)strmap_get(&c->failing_by_agency, c->run_agency);
    strmap_put(&c->failing_by_agency, c->run_agency, (void *)(n + c->run_n));
    c->run_agency = NULL;
    c->run_n = 0;
}

void feed_census_add(feed_census_t *c, const feed_view_t *v)
{
    c->total++;
    c->by_state[v->state]++;
    if (v->kind < FEED_KIND_COUNT)
        c->by_kind[v->kind][v->state]++;
    c->intervals += v->intervals;
    if (v->last_success > 0) {
        double age = (double)(c->now - v->last_success);
        size_t b = 0;
        while (b < FEED_CENSUS_AGES && age > feed_census_age_bounds[b])
            b++;
        c->age_bucket[b]++;
        c->age_sum += age < 0 ? 0 : age;
        c->age_count++;
    }
    if (v->state == FEED_STATE_FAILING && v->agency) {
        /* feeds come agency by agency: count a run, one map update per run */
        if (c->run_agency && strcmp(c->run_agency, v->agency) == 0) {
            c->run_n++;
            return;
        }
        flush_run(c);
        c->run_agency = v->agency;
        c->run_n = 1;
    }
}

/* true when a ranks before b: more failing feeds, then the smaller id */
static bool ranks_before(const feed_census_top_t *a, const feed_census_top_t *b)
{
    return a->failing != b->failing ? a->failing > b->failing : strcmp(a->agency, b->agency) < 0;
}

static void offer_top(feed_census_t *c, feed_census_top_t t)
{
    if (c->ntop == FEED_CENSUS_TOP && !ranks_before(&t, &c->top[c->ntop - 1]))
        return;
    size_t i = c->ntop < FEED_CENSUS_TOP ? c->ntop++ : c->ntop - 1;
    while (i > 0 && ranks_before(&t, &c->top[i - 1])) {
        c->top[i] = c->top[i - 1];
        i--;
    }
    c->top[i] = t;
}

void feed_census_finish(feed_census_t *c)
{
    flush_run(c);
    const strmap_t *m = &c->failing_by_agency;
    c->agencies_failing = strmap_len(m);
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key)
            offer_top(c, (feed_census_top_t){m->slots[i].key, (size_t)(uintptr_t)m->slots[i].val});
}

static void census_cb(const feed_view_t *v, void *arg)
{
    feed_census_add(arg, v);
}

void feed_census_recount(feed_census_t *c, const feeds_t *f, int64_t now)
{
    feed_census_init(c, now);
    feeds_each(f, census_cb, c);
    feed_census_finish(c);
}

void feed_census_take(feed_census_t *c, feeds_t *f, int64_t now)
{
    feed_tally_census(feeds_tally(f), now, c);
}

/* ---- the tally ----------------------------------------------------------- */
#define RING    ((int64_t)FEED_TALLY_RING)
#define BLOCK   1024
#define KEEP    ((int64_t)604800 + 1)   /* the ring starts this long before a scrape */

typedef struct feed_tally_agency {
    char  *agency;
    size_t failing;
} feed_tally_agency_t;

void feed_tally_init(feed_tally_t *t, int64_t now)
{
    memset(t, 0, sizeof *t);
    strmap_init(&t->failing);
    t->sec = xcalloc((size_t)RING, sizeof *t->sec);
    t->blk = xcalloc((size_t)(RING / BLOCK), sizeof *t->blk);
    t->base = now - KEEP;
}

void feed_tally_free(feed_tally_t *t)
{
    for (size_t i = 0; i < t->failing.cap; i++) {
        feed_tally_agency_t *a = t->failing.slots[i].val;
        if (t->failing.slots[i].key) {
            free(a->agency);
            free(a);
        }
    }
    strmap_free(&t->failing);
    free(t->sec);
    free(t->blk);
    memset(t, 0, sizeof *t);
}

static size_t ring_at(int64_t sec)
{
    return (size_t)(((sec % RING) + RING) % RING);
}

static void ring_move(feed_tally_t *t, int64_t sec, int d)
{
    size_t i = ring_at(sec);
    t->sec[i] = (uint32_t)((int64_t)t->sec[i] + d);
    t->blk[i / BLOCK] = (uint32_t)((int64_t)t->blk[i / BLOCK] + d);
}

static void failing_move(feed_tally_t *t, const char *agency, int d)
{
    feed_tally_agency_t *a = strmap_get(&t->failing, agency);
    if (!a) {
        if (d < 0)
            return;
        a = xcalloc(1, sizeof *a);
        a->agency = xstrdup(agency);
        strmap_put(&t->failing, a->agency, a);
    }
    a->failing = (size_t)((long long)a->failing + d);
    if (a->failing == 0) {
        strmap_del(&t->failing, a->agency);
        free(a->agency);
        free(a);
    }
}

/* Everything but the success time, by d (+1 or -1). */
static void counts_move(feed_tally_t *t, const feed_view_t *v, int d)
{
    t->total = (size_t)((long long)t->total + d);
    t->by_state[v->state] = (size_t)((long long)t->by_state[v->state] + d);
    if (v->kind < FEED_KIND_COUNT)
        t->by_kind[v->kind][v->state] = (size_t)((long long)t->by_kind[v->kind][v->state] + d);
    t->intervals += d * (long long)v->intervals;
    if (v->state == FEED_STATE_FAILING && v->agency)
        failing_move(t, v->agency, d);
}

int64_t feed_tally_add(feed_tally_t *t, const feed_view_t *v)
{
    counts_move(t, v, +1);
    if (v->last_success <= 0)
        return 0;
    int64_t key = v->last_success;
    if (key >= t->base + RING)
        key = t->base + RING - 1;           /* far in the future: age 0 */
    if (key < t->base)
        t->older++;
    else {
        ring_move(t, key, +1);
        t->in_ring++;
    }
    t->key_sum += key;
    return key;
}

void feed_tally_remove(feed_tally_t *t, const feed_view_t *v, int64_t key)
{
    counts_move(t, v, -1);
    if (key <= 0)
        return;
    if (key < t->base)                      /* counted as older, or moved there since */
        t->older--;
    else {
        ring_move(t, key, -1);
        t->in_ring--;
    }
    t->key_sum -= key;
}

/* Move the ring's start to now - KEEP: the seconds left behind go to
 * older, a whole block at a time where possible. */
void feed_tally_advance(feed_tally_t *t, int64_t now)
{
    int64_t to = now - KEEP;
    if (to <= t->base)
        return;
    if (to - t->base >= RING) {
        t->older += t->in_ring;
        t->in_ring = 0;
        memset(t->sec, 0, (size_t)RING * sizeof *t->sec);
        memset(t->blk, 0, (size_t)(RING / BLOCK) * sizeof *t->blk);
        t->base = to;
        return;
    }
    while (t->base < to) {
        size_t i = ring_at(t->base);
        if (i % BLOCK == 0 && to - t->base >= BLOCK) {
            t->older += t->blk[i / BLOCK];
            t->in_ring -= t->blk[i / BLOCK];
            memset(&t->sec[i], 0, BLOCK * sizeof *t->sec);
            t->blk[i / BLOCK] = 0;
            t->base += BLOCK;
            continue;
        }
        t->older += t->sec[i];
        t->in_ring -= t->sec[i];
        t->blk[i / BLOCK] -= t->sec[i];
        t->sec[i] = 0;
        t->base++;
    }
}

/* Successes counted in the ring at seconds [from, to). */
static size_t ring_sum(const feed_tally_t *t, int64_t from, int64_t to)
{
    size_t n = 0;
    while (from < to) {
        size_t i = ring_at(from);
        if (i % BLOCK == 0 && to - from >= BLOCK) {
            n += t->blk[i / BLOCK];
            from += BLOCK;
        } else {
            n += t->sec[i];
            from++;
        }
    }
    return n;
}

void feed_tally_census(feed_tally_t *t, int64_t now, feed_census_t *c)
{
    feed_census_init(c, now);
    feed_tally_advance(t, now);
    c->total = t->total;
    memcpy(c->by_state, t->by_state, sizeof c->by_state);
    memcpy(c->by_kind, t->by_kind, sizeof c->by_kind);
    c->intervals = t->intervals;
    /* bucket b: bounds[b-1] < age <= bounds[b], i.e. now - bounds[b] <= t
     * < now - bounds[b-1]; every such t is in the ring (base < now - week) */
    size_t within = 0;                      /* successes with age <= the bound so far */
    for (size_t b = 0; b < FEED_CENSUS_AGES; b++) {
        int64_t lo = now - (int64_t)feed_census_age_bounds[b];
        size_t upto = t->in_ring - ring_sum(t, t->base, lo);   /* t >= lo */
        c->age_bucket[b] = upto - within;
        within = upto;
    }
    c->age_count = t->in_ring + t->older;
    c->age_bucket[FEED_CENSUS_AGES] = c->age_count - within;
    c->age_sum = (double)c->age_count * (double)now - (double)t->key_sum;
    c->agencies_failing = strmap_len(&t->failing);
    for (size_t i = 0; i < t->failing.cap; i++)
        if (t->failing.slots[i].key) {
            const feed_tally_agency_t *a = t->failing.slots[i].val;
            offer_top(c, (feed_census_top_t){a->agency, a->failing});
        }
}

/* Prometheus label value escaping: backslash, quote, newline. */
static void put_label(strbuf_t *b, const char *v)
{
    for (const char *p = v ? v : ""; *p; p++) {
        if (*p == '\\' || *p == '"')
            strbuf_putc(b, '\\');
        if (*p == '\n') {
            strbuf_puts(b, "\\n");
            continue;
        }
        strbuf_putc(b, *p);
    }
}

static void put_states(const feed_census_t *c, strbuf_t *b)
{
    strbuf_puts(b, "# HELP tsunagu_feeds Feeds by state.\n# TYPE tsunagu_feeds gauge\n");
    static const feed_state_t order[] = {FEED_STATE_OK, FEED_STATE_FAILING, FEED_STATE_PENDING};
    for (size_t i = 0; i < 3; i++)
        strbuf_printf(b, "tsunagu_feeds{state=\"%s\"} %zu\n", state_names[order[i]],
                      c->by_state[order[i]]);
    strbuf_puts(b, "# HELP tsunagu_feeds_by_kind Feeds by kind and state.\n"
                   "# TYPE tsunagu_feeds_by_kind gauge\n");
    for (int k = 0; k < FEED_KIND_COUNT; k++)
        for (size_t i = 0; i < 3; i++)
            strbuf_printf(b, "tsunagu_feeds_by_kind{kind=\"%s\",state=\"%s\"} %zu\n",
                          feed_kind_name((feed_kind_t)k), state_names[order[i]],
                          c->by_kind[k][order[i]]);
}

static void put_ages(const feed_census_t *c, strbuf_t *b)
{
    strbuf_puts(b, "# HELP tsunagu_feed_success_age_seconds Time since each feed's last "
                   "successful poll (feeds never polled successfully are not counted).\n"
                   "# TYPE tsunagu_feed_success_age_seconds histogram\n");
    size_t cum = 0;
    for (size_t i = 0; i < FEED_CENSUS_AGES; i++) {
        cum += c->age_bucket[i];
        strbuf_printf(b, "tsunagu_feed_success_age_seconds_bucket{le=\"%g\"} %zu\n",
                      feed_census_age_bounds[i], cum);
    }
    cum += c->age_bucket[FEED_CENSUS_AGES];
    strbuf_printf(b, "tsunagu_feed_success_age_seconds_bucket{le=\"+Inf\"} %zu\n"
                     "tsunagu_feed_success_age_seconds_sum %.0f\n"
                     "tsunagu_feed_success_age_seconds_count %zu\n", cum, c->age_sum, c->age_count);
}

static void put_agencies(const feed_census_t *c, strbuf_t *b)
{
    strbuf_printf(b, "# HELP tsunagu_agencies_with_failing_feeds Agencies with at least one "
                     "failing feed.\n# TYPE tsunagu_agencies_with_failing_feeds gauge\n"
                     "tsunagu_agencies_with_failing_feeds %zu\n", c->agencies_failing);
    strbuf_printf(b, "# HELP tsunagu_agency_failing_feeds Failing feeds of the %d agencies with "
                     "the most (all of them: GET /v1/feeds?state=failing).\n"
                     "# TYPE tsunagu_agency_failing_feeds gauge\n", FEED_CENSUS_TOP);
    for (size_t i = 0; i < c->ntop; i++) {
        strbuf_puts(b, "tsunagu_agency_failing_feeds{agency=\"");
        put_label(b, c->top[i].agency);
        strbuf_printf(b, "\"} %zu\n", c->top[i].failing);
    }
}

void feed_census_prometheus(const feed_census_t *c, strbuf_t *b)
{
    put_states(c, b);
    put_ages(c, b);
    put_agencies(c, b);
    strbuf_printf(b, "# HELP tsunagu_busy_intervals Busy intervals stored.\n"
                     "# TYPE tsunagu_busy_intervals gauge\ntsunagu_busy_intervals %lld\n",
                  c->intervals);
}
