/* SPDX-License-Identifier: MIT */
/*
 * slots_bruteforce.c - reference implementation of DESIGN "Common slots"
 * by direct check of every candidate start (see slots_bruteforce.h).
 *
 * Deliberately naive: no interval algebra, no binary search, no caching.
 * Each rule of the spec maps to one small predicate below, so a reader
 * can check it against the text line by line.
 */
#include "slots_bruteforce.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

static const tz_t *bf_tz(const city_t *c) { return c->tz ? c->tz : tz_default(); }

static const slot_agency_busy_t *bf_busy(const slot_agency_busy_t *b, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(b[i].agency_id, id) == 0) return &b[i];
    return NULL;
}

/* "00:00 of the notice_days-th business day after today", or now. */
static int64_t bf_earliest_allowed(const city_t *c, int64_t now, int notice_days)
{
    if (notice_days == 0) return now;
    int64_t day = tz_local_day(bf_tz(c), now, NULL);
    for (int seen = 0; seen < notice_days;)
        if (city_is_business_day(c, NULL, ++day)) seen++;
    return tz_local_to_utc(bf_tz(c), day, 0);
}

static bool bf_overlaps_any(const ivset_t *s, int64_t a, int64_t b)
{
    if (!s) return false;
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].start < b && a < s->v[i].end) return true;
    return false;
}

/* The slot lies within one business day of a and inside a's hours. */
static bool bf_in_hours(const city_t *c, const agency_t *a, int64_t s, int64_t e)
{
    int sod;
    int64_t day = tz_local_day(bf_tz(c), s, &sod);
    if (!city_is_business_day(c, a, day)) return false;
    int wd = weekday_of_day(day);
    if (!a->hours.open[wd]) return false;
    int64_t m0 = s - sod;
    return s >= m0 + a->hours.start[wd] && e <= m0 + a->hours.end[wd];
}

/* At least need calendars have nothing overlapping [s-travel, e+travel). */
static bool bf_free(const agency_t *a, const slot_agency_busy_t *b, int64_t s, int64_t e)
{
    int64_t t = (int64_t)a->travel_minutes * 60;
    if (bf_overlaps_any(b->extra, s - t, e + t)) return false;
    size_t free_cals = 0;
    for (size_t i = 0; i < b->ncalendars; i++)
        if (!bf_overlaps_any(&b->calendars[i], s - t, e + t)) free_cals++;
    int need = a->need > 0 ? a->need : 1;
    return free_cals >= (size_t)need;
}

typedef struct bf_ctx {
    const city_t *c;
    const slot_query_t *q;
    const slot_agency_busy_t *busy;
    size_t nbusy;
    int64_t dur;
} bf_ctx_t;

static bool bf_attends(const bf_ctx_t *x, const char *id, int64_t s)
{
    const agency_t *a = city_agency(x->c, id);
    return bf_in_hours(x->c, a, s, s + x->dur) &&
           bf_free(a, bf_busy(x->busy, x->nbusy, id), s, s + x->dur);
}

/* Every required agency except skip (-1 for none) attends at s. */
static bool bf_required_attend(const bf_ctx_t *x, int64_t s, ptrdiff_t skip)
{
    for (size_t i = 0; i < x->q->required.n; i++)
        if ((ptrdiff_t)i != skip && !bf_attends(x, x->q->required.v[i], s)) return false;
    return true;
}

static bool bf_required_hours(const bf_ctx_t *x, int64_t s)
{
    for (size_t i = 0; i < x->q->required.n; i++)
        if (!bf_in_hours(x->c, city_agency(x->c, x->q->required.v[i]), s, s + x->dur))
            return false;
    return true;
}

/* Calls fn for every grid start s with lo <= s and s + dur <= hi. */
typedef bool (*bf_visit_fn)(const bf_ctx_t *x, int64_t s, void *arg);  /* false = stop */

static void bf_grid(const bf_ctx_t *x, int64_t lo, int64_t hi, bf_visit_fn fn, void *arg)
{
    const tz_t *tz = bf_tz(x->c);
    int64_t g = (int64_t)x->q->granularity_minutes * 60;
    for (int64_t day = tz_local_day(tz, lo, NULL); tz_local_to_utc(tz, day, 0) < hi; day++) {
        int64_t m0 = tz_local_to_utc(tz, day, 0), m1 = tz_local_to_utc(tz, day + 1, 0);
        for (int64_t s = m0; s < m1; s += g) {
            if (s < lo || s + x->dur > hi) continue;
            if (!fn(x, s, arg)) return;
        }
    }
}

typedef struct bf_cand { int64_t s; size_t nopt; } bf_cand_t;
typedef struct bf_list { bf_cand_t *v; size_t n, cap; slot_result_t *r; } bf_list_t;

static bool bf_collect(const bf_ctx_t *x, int64_t s, void *arg)
{
    bf_list_t *l = arg;
    if (bf_required_hours(x, s)) l->r->candidates++;
    if (!bf_required_attend(x, s, -1)) return true;
    size_t nopt = 0;
    for (size_t i = 0; i < x->q->optional.n; i++)
        if (bf_attends(x, x->q->optional.v[i], s)) nopt++;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = (bf_cand_t){s, nopt};
    return true;
}

static void bf_optional_list(const bf_ctx_t *x, int64_t s, strvec_t *out)
{
    strvec_init(out);
    for (size_t i = 0; i < x->q->optional.n; i++)
        if (bf_attends(x, x->q->optional.v[i], s)) strvec_push(out, x->q->optional.v[i]);
}

/* Rank: more optional first, then earliest; take greedily, no overlap. */
static void bf_rank_and_take(const bf_ctx_t *x, bf_list_t *l, slot_result_t *r)
{
    r->slots = calloc((size_t)x->q->limit + 1, sizeof *r->slots);
    for (size_t want = x->q->optional.n + 1; want-- > 0;) {     /* by optional count */
        for (size_t i = 0; i < l->n && r->nslots < (size_t)x->q->limit; i++) {
            if (l->v[i].nopt != want) continue;
            int64_t s = l->v[i].s, e = s + x->dur;
            bool clash = false;
            for (size_t j = 0; j < r->nslots; j++)
                if (s < r->slots[j].end && r->slots[j].start < e) clash = true;
            if (clash) continue;
            r->slots[r->nslots].start = s;
            r->slots[r->nslots].end = e;
            bf_optional_list(x, s, &r->slots[r->nslots].optional);
            r->nslots++;
        }
    }
}

typedef struct bf_first { ptrdiff_t skip; bool found; int64_t s; } bf_first_t;

static bool bf_find_first(const bf_ctx_t *x, int64_t s, void *arg)
{
    bf_first_t *f = arg;
    if (!bf_required_attend(x, s, f->skip)) return true;
    f->found = true;
    f->s = s;
    return false;
}

typedef struct bf_block { size_t idx, count; } bf_block_t;

static bool bf_count_block(const bf_ctx_t *x, int64_t s, void *arg)
{
    bf_block_t *b = arg;
    if (!bf_required_hours(x, s)) return true;
    const char *id = x->q->required.v[b->idx];
    if (!bf_free(city_agency(x->c, id), bf_busy(x->busy, x->nbusy, id), s, s + x->dur))
        b->count++;
    return true;
}

static int bf_blocker_cmp(const void *p, const void *q)
{
    const slot_blocker_t *a = p, *b = q;
    if (a->blocked != b->blocked) return a->blocked > b->blocked ? -1 : 1;
    return strcmp(a->agency_id, b->agency_id);
}

static void bf_diagnose(const bf_ctx_t *x, int64_t lo, slot_result_t *r)
{
    size_t n = x->q->required.n;
    r->blockers = calloc(n + 1, sizeof *r->blockers);
    r->drops = calloc(n + 1, sizeof *r->drops);
    for (size_t i = 0; i < n; i++) {
        bf_block_t b = {i, 0};
        bf_grid(x, lo, x->q->to, bf_count_block, &b);
        if (b.count)
            r->blockers[r->nblockers++] =
                (slot_blocker_t){city_agency(x->c, x->q->required.v[i])->id, b.count};
        if (n < 2) continue;
        bf_first_t f = {(ptrdiff_t)i, false, 0};
        bf_grid(x, lo, x->q->to, bf_find_first, &f);
        if (f.found)
            r->drops[r->ndrops++] =
                (slot_drop_t){city_agency(x->c, x->q->required.v[i])->id, f.s};
    }
    qsort(r->blockers, r->nblockers, sizeof *r->blockers, bf_blocker_cmp);
    bf_first_t f = {-1, false, 0};
    int64_t end = x->q->from + SLOTS_MAX_WINDOW_SECONDS;
    const strvec_t *lists[2] = {&x->q->required, &x->q->optional};
    for (int li = 0; li < 2; li++)
        for (size_t i = 0; i < lists[li]->n; i++) {
            int64_t k = bf_busy(x->busy, x->nbusy, lists[li]->v[i])->known_until;
            if (k && k < end) end = k;
        }
    bf_grid(x, lo, end, bf_find_first, &f);
    if (f.found) {
        r->has_next = true;
        r->next.start = f.s;
        r->next.end = f.s + x->dur;
        bf_optional_list(x, f.s, &r->next.optional);
    }
}

int slots_bruteforce(const city_t *city, const slot_query_t *q, int64_t now,
                     const slot_agency_busy_t *busy, size_t nbusy, bool diagnostics,
                     slot_result_t *out)
{
    slot_result_init(out);
    const strvec_t *lists[2] = {&q->required, &q->optional};
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < lists[l]->n; i++)
            if (!city_agency(city, lists[l]->v[i]) || !bf_busy(busy, nbusy, lists[l]->v[i]))
                return -1;
    bf_ctx_t x = {city, q, busy, nbusy, (int64_t)q->duration_minutes * 60};
    int64_t allowed = bf_earliest_allowed(city, now, q->notice_days);
    int64_t lo = q->from > allowed ? q->from : allowed;
    out->earliest = lo;
    bf_list_t l = {NULL, 0, 0, out};
    bf_grid(&x, lo, q->to, bf_collect, &l);
    out->feasible = l.n;
    bf_rank_and_take(&x, &l, out);
    free(l.v);
    if (diagnostics && out->nslots == 0) bf_diagnose(&x, lo, out);
    return 0;
}

static bool same_strvec(const strvec_t *a, const strvec_t *b)
{
    if (a->n != b->n) return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]) != 0) return false;
    return true;
}

#define DIFF(...) do { snprintf(why, n, __VA_ARGS__); return false; } while (0)

bool slots_result_equal(const slot_result_t *a, const slot_result_t *b, char *why, size_t n)
{
    if (a->earliest != b->earliest) DIFF("earliest %lld vs %lld", (long long)a->earliest, (long long)b->earliest);
    if (a->candidates != b->candidates) DIFF("candidates %zu vs %zu", a->candidates, b->candidates);
    if (a->feasible != b->feasible) DIFF("feasible %zu vs %zu", a->feasible, b->feasible);
    if (a->nslots != b->nslots) DIFF("nslots %zu vs %zu", a->nslots, b->nslots);
    for (size_t i = 0; i < a->nslots; i++) {
        if (a->slots[i].start != b->slots[i].start || a->slots[i].end != b->slots[i].end)
            DIFF("slot %zu: %lld vs %lld", i, (long long)a->slots[i].start, (long long)b->slots[i].start);
        if (!same_strvec(&a->slots[i].optional, &b->slots[i].optional))
            DIFF("slot %zu optional lists differ", i);
    }
    if (a->nblockers != b->nblockers) DIFF("nblockers %zu vs %zu", a->nblockers, b->nblockers);
    for (size_t i = 0; i < a->nblockers; i++)
        if (strcmp(a->blockers[i].agency_id, b->blockers[i].agency_id) != 0 ||
            a->blockers[i].blocked != b->blockers[i].blocked)
            DIFF("blocker %zu: %s/%zu vs %s/%zu", i, a->blockers[i].agency_id, a->blockers[i].blocked,
                 b->blockers[i].agency_id, b->blockers[i].blocked);
    if (a->ndrops != b->ndrops) DIFF("ndrops %zu vs %zu", a->ndrops, b->ndrops);
    for (size_t i = 0; i < a->ndrops; i++)
        if (strcmp(a->drops[i].agency_id, b->drops[i].agency_id) != 0 ||
            a->drops[i].earliest != b->drops[i].earliest)
            DIFF("drop %zu differs", i);
    if (a->has_next != b->has_next) DIFF("has_next %d vs %d", a->has_next, b->has_next);
    if (a->has_next && (a->next.start != b->next.start ||
                        !same_strvec(&a->next.optional, &b->next.optional)))
        DIFF("next %lld vs %lld", (long long)a->next.start, (long long)b->next.start);
    return true;
}
