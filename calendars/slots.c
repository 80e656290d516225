/* SPDX-License-Identifier: MIT */
/*
 * slots.c - the common-slot engine (DESIGN "Common slots").
 *
 * Design: everything happens in "start space".  For a meeting of length
 * D, an agency's constraints become the set of instants s at which a
 * meeting [s, s+D) may START, as a sorted merged interval set:
 *
 *   open(a)    = on each business day of a, [day+hours.start,
 *                day+hours.end-D] (inclusive; stored half-open +1s).
 *   busy -> blocked starts: calendar busy [b0,b1) with travel t blocks the
 *                start s exactly when [b0-t, b1+t) overlaps [s, s+D), i.e.
 *                s in [b0-t-D+1, b1+t).  One pass, no scan of minutes.
 *   blocked(a) = starts where more than (n - need) of a's n staff
 *                calendars are blocked (a counting sweep over the n
 *                per-calendar blocked-start sets, merged in order), plus
 *                agency-wide extra busy (holds, meetings).
 *   ok(a)      = open(a) \ blocked(a).
 *
 * Working in start space makes "need k of n free for the WHOLE slot"
 * exact: a calendar that is busy anywhere inside the padded slot blocks
 * that start, so two staff busy at different moments of one slot both
 * count (a plain time-space sweep would miss that).
 *
 * A query then is: feasible = ∩ ok(required), computed by narrowing: start
 * from the days where every required agency works (a per-day max/min of
 * their hours), and let each required agency in turn, strictest first
 * (largest share of staff needed, then longest travel), remove its
 * blocked starts, looking only at busy time near what is still feasible
 * (galloping search into its sorted sets, so an agency costs
 * O(R log(N/R)) for R surviving ranges, never a scan of the window).
 * Staff calendars combine without a sweep in the common cases: need 1 is
 * an intersection chain (each calendar looks only where the previous ones
 * are all blocked), two of three is (b0 ∩ b1) ∪ (b2 ∩ (b0 ∪ b1)); other
 * k-of-n use the counting sweep.  Then enumerate grid starts (multiples of granularity from
 * local midnight) inside feasible, count optional agencies by walking
 * their ok sets in step, rank (more optional first, then earliest) and
 * take greedily without overlap up to limit.
 *
 * Precomputation (slot_cache_t): an agency's staff-blocked starts depend
 * only on its calendars, D, travel and need, so they can be computed once
 * over all its data and reused by every later query with the same
 * duration until the data version changes; a query then only slices
 * them.  Extra busy (holds) is small and never cached.
 *
 * When nothing is feasible, diagnostics compute each required agency's
 * full sets over the window: the number of candidate starts each one
 * blocks; for each required agency whether the others alone are feasible
 * (and from when); and the earliest feasible start when the window is
 * widened to 26 weeks from `from`, capped at the end of the busy data
 * (searched a week, then doubling spans, stopping at the first found).
 * The result records where a horizon stopped the widened search, so the
 * response can say so.
 */
#include "slots.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "holidays.h"
#include "timeutil.h"

/* ---- query / result lifecycle ------------------------------------------ */

void slot_query_init(slot_query_t *q)
{
    memset(q, 0, sizeof *q);
    strvec_init(&q->required);
    strvec_init(&q->optional);
    q->granularity_minutes = SLOTS_DEFAULT_GRANULARITY;
    q->limit = SLOTS_DEFAULT_LIMIT;
}

void slot_query_free(slot_query_t *q)
{
    free(q->id);
    strvec_free(&q->required);
    strvec_free(&q->optional);
    memset(q, 0, sizeof *q);
}

void slot_result_init(slot_result_t *r) { memset(r, 0, sizeof *r); }

static void slot_free_fields(slot_t *s) { strvec_free(&s->optional); }

void slot_result_free(slot_result_t *r)
{
    for (size_t i = 0; i < r->nslots; i++) slot_free_fields(&r->slots[i]);
    free(r->slots);
    free(r->blockers);
    free(r->drops);
    if (r->has_next) slot_free_fields(&r->next);
    memset(r, 0, sizeof *r);
}

static const tz_t *city_tz(const city_t *c)
{
    return c->tz ? c->tz : tz_default();
}

int64_t slots_notice_start(const city_t *city, int64_t now, int notice_days)
{
    if (notice_days <= 0) return now;
    const tz_t *tz = city_tz(city);
    int64_t day = tz_local_day(tz, now, NULL);
    int found = 0;
    while (found < notice_days) {
        day++;
        if (city_is_business_day(city, NULL, day)) found++;
    }
    return tz_local_to_utc(tz, day, 0);
}

/* ---- per-query day table ------------------------------------------------ */

/* Local midnights and city business days for days d0 .. d0+n-1 (plus the
 * midnight after the last day), so the hot loops make no zone lookups. */
typedef struct day_table {
    int64_t  d0;
    size_t   n;
    int64_t *midnight;          /* n + 1 entries */
    bool    *city_business;     /* n entries */
    int     *weekday;           /* n entries, 0 = Sunday */
} day_table_t;

static void day_table_build(day_table_t *dt, const city_t *c, int64_t lo, int64_t hi)
{
    const tz_t *tz = city_tz(c);
    dt->d0 = tz_local_day(tz, lo, NULL) - 1;
    int64_t d1 = tz_local_day(tz, hi, NULL) + 1;
    dt->n = (size_t)(d1 - dt->d0 + 1);
    dt->midnight = xmalloc((dt->n + 1) * sizeof *dt->midnight);
    dt->city_business = xmalloc(dt->n * sizeof *dt->city_business);
    dt->weekday = xmalloc(dt->n * sizeof *dt->weekday);
    for (size_t i = 0; i <= dt->n; i++)
        dt->midnight[i] = tz_local_to_utc(tz, dt->d0 + (int64_t)i, 0);
    for (size_t i = 0; i < dt->n; i++) {
        dt->weekday[i] = weekday_of_day(dt->d0 + (int64_t)i);
        dt->city_business[i] = city_is_business_day(c, NULL, dt->d0 + (int64_t)i);
    }
}

static void day_table_free(day_table_t *dt)
{
    free(dt->midnight);
    free(dt->city_business);
    free(dt->weekday);
}

/* Index of the local day containing t (t inside the table's span). */
static size_t day_index(const day_table_t *dt, int64_t t)
{
    size_t lo = 0, hi = dt->n;               /* last midnight <= t */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (dt->midnight[mid] <= t) lo = mid;
        else hi = mid;
    }
    return lo;
}

static bool agency_business_day(const day_table_t *dt, const city_t *c,
                                const agency_t *a, size_t i)
{
    if (!a->has_closed_days) return dt->city_business[i];
    return city_is_business_day(c, a, dt->d0 + (int64_t)i);
}

/* ---- the grid of candidate starts ---------------------------------------- */

/* day_index(dt, t) found by walking forward from day hint when t lies at
 * or after it (sets are visited in order), else by binary search. */
static size_t day_index_from(const day_table_t *dt, int64_t t, size_t hint)
{
    if (hint >= dt->n || dt->midnight[hint] > t) return day_index(dt, t);
    while (hint + 1 < dt->n && dt->midnight[hint + 1] <= t) hint++;
    return hint;
}

/* First grid start >= t (multiples of g seconds from local midnight); *day is in: a hint (a day at or before t's, or
 * anything), out: the start's day. */
static int64_t grid_ceil_from(const day_table_t *dt, int64_t t, int64_t g, size_t *day)
{
    size_t i = day_index_from(dt, t, *day);
    int64_t m0 = dt->midnight[i];
    int64_t k = (t - m0 + g - 1) / g;
    int64_t s = m0 + k * g;
    if (i + 1 <= dt->n && s >= dt->midnight[i + 1]) { i++; s = dt->midnight[i]; }
    *day = i;
    return s;
}

/* The same without a hint: t's day by binary search. */
static int64_t grid_ceil(const day_table_t *dt, int64_t t, int64_t g, size_t *day)
{
    *day = SIZE_MAX;
    return grid_ceil_from(dt, t, g, day);
}

static int64_t grid_next(const day_table_t *dt, int64_t s, int64_t g, size_t *day)
{
    int64_t n = s + g;
    if (*day + 1 <= dt->n && n >= dt->midnight[*day + 1]) { (*day)++; n = dt->midnight[*day]; }
    return n;
}

/* Number of grid starts inside set, counted a local day at a time (the
 * grid restarts at every midnight) instead of stepping through them. */
static size_t grid_count(const day_table_t *dt, const ivset_t *set, int64_t g)
{
    size_t count = 0, day = 0;
    for (size_t i = 0; i < set->n; i++) {
        int64_t s = grid_ceil_from(dt, set->v[i].start, g, &day), end = set->v[i].end;
        while (s < end) {
            int64_t stop = day + 1 <= dt->n && dt->midnight[day + 1] < end ? dt->midnight[day + 1] : end;
            if (s < stop) count += (size_t)((stop - 1 - s) / g) + 1;
            if (stop == end || day + 1 > dt->n) break;
            s = dt->midnight[++day];
        }
    }
    return count;
}

/* First grid start inside set, or false. */
static bool grid_first(const day_table_t *dt, const ivset_t *set, int64_t g, int64_t *out)
{
    size_t day;
    for (size_t i = 0; i < set->n; i++) {
        int64_t s = grid_ceil(dt, set->v[i].start, g, &day);
        if (s < set->v[i].end) { *out = s; return true; }
    }
    return false;
}

static bool ivset_contains(const ivset_t *s, int64_t t)
{
    return ivset_overlaps(s, t, t + 1);
}

/* ---- one agency's start-space sets ---------------------------------------- */

typedef struct plan {
    const agency_t           *a;
    const slot_agency_busy_t *busy;
    ivset_t open;       /* starts inside hours on business days, in [lo,hi) */
    ivset_t blocked;    /* busy-blocked starts, only where last computed */
    ivset_t ok;         /* open \ blocked within the ranges last asked for */
    bool    has_open;   /* open is built (lazily: the main path needs few) */
} plan_t;

typedef struct search {
    const city_t *city;
    int64_t       lo, hi;         /* start-space range */
    int64_t       dur, gran;      /* seconds */
    day_table_t   days;
    plan_t       *req, *opt;
    size_t        nreq, nopt;
    /* scratch sets reused by every agency (no allocation in steady state) */
    ivset_t      *per;            /* one per staff calendar */
    size_t        nper;
    ivset_t       staff, extra, within;
    ivset_t       nblocked, nok;  /* narrowing works in these, not per plan */
    ivset_t       aux[2];         /* two-of-three staff */
    bool          inside_days;    /* every daily window ends before midnight */
    slot_cache_t *cache;          /* may be NULL */
} search_t;

/* Room for n intervals without a reallocation on every push. */
static void reserve(ivset_t *s, size_t n)
{
    if (s->cap >= n) return;
    s->v = xrealloc(s->v, n * sizeof *s->v);
    s->cap = n;
}

/* Agency a's open starts on table day i, [*lo, *hi) clipped to the
 * search range; false when it does not work that day. */
static bool day_window(const search_t *S, const agency_t *a, size_t i, int64_t *lo, int64_t *hi)
{
    int wd = S->days.weekday[i];
    if (!a->hours.open[wd]) return false;
    if (a->hours.end[wd] - a->hours.start[wd] < S->dur) return false;
    int64_t m0 = S->days.midnight[i];
    int64_t l = m0 + a->hours.start[wd];
    int64_t h = m0 + a->hours.end[wd] - S->dur + 1;
    if (l < S->lo) l = S->lo;
    if (h > S->hi) h = S->hi;
    if (l >= h || !agency_business_day(&S->days, S->city, a, i)) return false;
    *lo = l;
    *hi = h;
    return true;
}

static void build_open(const search_t *S, const agency_t *a, ivset_t *out)
{
    ivset_clear(out);
    reserve(out, S->days.n);                    /* at most one range a day */
    int64_t lo, hi;
    for (size_t i = 0; i < S->days.n; i++)
        if (day_window(S, a, i, &lo, &hi)) out->v[out->n++] = (interval_t){lo, hi};
}

/* Append to an ordered set, merging with the last interval. */
static inline void push_merge(ivset_t *s, int64_t start, int64_t end)
{
    if (end <= start) return;
    if (s->n && start <= s->v[s->n - 1].end) {
        if (end > s->v[s->n - 1].end) s->v[s->n - 1].end = end;
        return;
    }
    if (s->n < s->cap) s->v[s->n++] = (interval_t){start, end};   /* no call */
    else ivset_push(s, start, end);
}

/* Busy [b0,b1) padded by travel blocks starts [b0-t-D+1, b1+t).  Only the
 * slice of busy that can touch [lo,hi) is visited.  *cursor is the first
 * interval that could still reach past the previous (earlier) range's end
 * (everything before it ends there): successive ranges of one pass
 * gallop forward from there (exponential then binary search), so a pass
 * over R sorted ranges costs O(R log(N/R) + slices) instead of R log N.
 * Appends to out (ranges come in order, so out stays sorted). */
/* First index >= a whose interval ends after t: a few linear steps (the
 * usual distance between successive ranges), then a gallop. */
static inline size_t seek_end_after(const interval_t *v, size_t n, size_t a, int64_t t)
{
    for (int k = 0; k < 8; k++, a++)
        if (a >= n || v[a].end > t) return a;
    size_t step = 1, b;                               /* v[a-1].end <= t */
    while (a + step < n && v[a + step].end <= t) {
        a += step;
        step *= 2;
    }
    b = a + step < n ? a + step : n;
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (v[mid].end <= t) a = mid + 1;
        else b = mid;
    }
    return a;
}

static inline void blocked_starts(const ivset_t *busy, int64_t travel, int64_t dur,
                                  int64_t lo, int64_t hi, size_t *cursor, ivset_t *out)
{
    if (!busy || !busy->n) return;
    const interval_t *v = busy->v;
    size_t n = busy->n;
    int64_t before = travel + dur - 1, after = travel;
    size_t a = seek_end_after(v, n, *cursor, lo - after);   /* end + after > lo */
    size_t done = a;                  /* intervals that cannot reach past hi */
    for (size_t i = a; i < n && v[i].start - before < hi; i++) {
        int64_t s = v[i].start - before, e = v[i].end + after;
        /* dense calendars: swallow every interval whose padding touches
         * this run before writing anything (ends only grow) */
        while (e < hi && i + 1 < n && v[i + 1].start - before <= e) {
            done = ++i;                        /* the one before ends inside */
            e = v[i].end + after;
        }
        push_merge(out, s < lo ? lo : s, e > hi ? hi : e);
        if (e <= hi) done = i + 1;
    }
    *cursor = done;
}

/* Times covered by at least k of n normal sets: a counting sweep that
 * merges the sets' boundaries in order (no sort; O(N * n), n = staff).
 * Each set's next boundary is kept at hand; at equal times ends go
 * first, so touching intervals never count as overlapping. */
static void count_sweep(ivset_t *out, const ivset_t *sets, size_t n, size_t k)
{
    ivset_clear(out);
    if (k == 0 || k > n) return;
    if (n == 1) { ivset_copy(out, &sets[0]); return; }
    typedef struct edge { int64_t t; size_t pos; bool live, is_end; } edge_t;
    edge_t stack_next[16];
    edge_t *next = n <= 16 ? stack_next : xmalloc(n * sizeof *next);
    for (size_t i = 0; i < n; i++)              /* pos: boundary 2*j (+1 = end) */
        next[i] = (edge_t){sets[i].n ? sets[i].v[0].start : 0, 0, sets[i].n > 0, false};
    size_t depth = 0;
    int64_t open_at = 0;
    for (;;) {
        size_t best = n;
        for (size_t i = 0; i < n; i++) {
            if (!next[i].live) continue;
            if (best == n || next[i].t < next[best].t ||
                (next[i].t == next[best].t && next[i].is_end && !next[best].is_end))
                best = i;
        }
        if (best == n) break;
        edge_t *e = &next[best];
        int64_t bt = e->t;
        size_t before = depth;
        depth = e->is_end ? depth - 1 : depth + 1;
        if (before < k && depth >= k) open_at = bt;
        else if (before >= k && depth < k) push_merge(out, open_at, bt);
        e->pos++;
        e->live = e->pos < 2 * sets[best].n;
        if (e->live) {
            e->is_end = e->pos & 1;
            e->t = e->is_end ? sets[best].v[e->pos / 2].end : sets[best].v[e->pos / 2].start;
        }
    }
    if (next != stack_next) free(next);
}

/* Append a ∪ b (both inside one range, after everything in out). */
static void append_union(ivset_t *out, const ivset_t *a, const ivset_t *b)
{
    size_t i = 0, j = 0;
    while (i < a->n || j < b->n) {
        const interval_t *x = (j >= b->n || (i < a->n && a->v[i].start <= b->v[j].start))
                                  ? &a->v[i++] : &b->v[j++];
        push_merge(out, x->start, x->end);
    }
}

/* Calendar c's blocked starts inside ranges, appended in one galloping pass. */
static void calendar_blocked(const search_t *S, const plan_t *p, size_t c,
                             const ivset_t *ranges, ivset_t *out)
{
    int64_t travel = (int64_t)p->a->travel_minutes * 60;
    size_t cursor = 0;
    ivset_clear(out);
    for (size_t r = 0; r < ranges->n; r++)
        blocked_starts(&p->busy->calendars[c], travel, S->dur, ranges->v[r].start,
                       ranges->v[r].end, &cursor, out);
}

/* Starts inside ranges where more than n - need staff calendars are
 * blocked.  need == 1 (the usual case) means every calendar must be
 * blocked: an intersection, computed as a chain in which each calendar
 * only looks at the starts the previous ones all block (no sweep).
 * Otherwise one galloping pass per calendar over all ranges, then one
 * counting sweep.  Requires need <= n. */
static void staff_blocked(search_t *S, const plan_t *p, const ivset_t *ranges, ivset_t *out)
{
    size_t n = p->busy->ncalendars, need = p->a->need > 0 ? (size_t)p->a->need : 1;
    if (need == 1) {
        const ivset_t *in = ranges;
        for (size_t c = 0; c < n; c++) {
            ivset_t *dst = c + 1 == n ? out : &S->per[c];
            calendar_blocked(S, p, c, in, dst);
            if (!dst->n) { ivset_clear(out); return; }
            in = dst;
        }
        return;
    }
    if (n == 3 && need == 2) {
        /* two of three blocked = (b0 ∩ b1) ∪ (b2 ∩ (b0 ∪ b1)): the third
         * calendar only looks where one of the first two is blocked */
        calendar_blocked(S, p, 0, ranges, &S->per[0]);
        calendar_blocked(S, p, 1, ranges, &S->per[1]);
        ivset_union(&S->aux[0], &S->per[0], &S->per[1]);
        ivset_intersect(&S->aux[1], &S->per[0], &S->per[1]);
        calendar_blocked(S, p, 2, &S->aux[0], &S->per[2]);
        ivset_union(out, &S->aux[1], &S->per[2]);
        return;
    }
    for (size_t c = 0; c < n; c++) calendar_blocked(S, p, c, ranges, &S->per[c]);
    count_sweep(out, S->per, n, n - need + 1);
}

/* out = ranges ∩ set, galloping through set (set may be much larger). */
static void intersect_gallop(ivset_t *out, const ivset_t *ranges, const ivset_t *set)
{
    size_t cursor = 0;
    ivset_clear(out);
    for (size_t r = 0; r < ranges->n; r++) {
        int64_t lo = ranges->v[r].start, hi = ranges->v[r].end;
        size_t a = cursor, step = 1, b;
        while (a + step < set->n && set->v[a + step].end <= lo) { a += step; step *= 2; }
        b = a + step < set->n ? a + step : set->n;
        while (a < b) {
            size_t mid = a + (b - a) / 2;
            if (set->v[mid].end <= lo) a = mid + 1;
            else b = mid;
        }
        cursor = a;
        for (size_t i = a; i < set->n && set->v[i].start < hi; i++) {
            push_merge(out, set->v[i].start < lo ? lo : set->v[i].start,
                       set->v[i].end > hi ? hi : set->v[i].end);
            if (set->v[i].end <= hi) cursor = i + 1;   /* ends before later ranges */
        }
    }
}

static const ivset_t *cache_staff_blocked(search_t *S, const plan_t *p);

/* The starts inside ranges at which agency p cannot attend: staff
 * blocked (from the cache when there is one) or agency-wide extra busy. */
static void blocked_within(search_t *S, const plan_t *p, const ivset_t *ranges, ivset_t *out)
{
    size_t n = p->busy->ncalendars, need = p->a->need > 0 ? (size_t)p->a->need : 1;
    const ivset_t *cached;
    if (need > n) ivset_copy(&S->staff, ranges);      /* can never gather need staff */
    else if ((cached = cache_staff_blocked(S, p))) intersect_gallop(&S->staff, ranges, cached);
    else staff_blocked(S, p, ranges, &S->staff);
    size_t cursor = 0;
    int64_t travel = (int64_t)p->a->travel_minutes * 60;
    ivset_clear(&S->extra);
    for (size_t r = 0; r < ranges->n && p->busy->extra; r++)
        blocked_starts(p->busy->extra, travel, S->dur, ranges->v[r].start, ranges->v[r].end,
                       &cursor, &S->extra);
    if (S->extra.n == 0) {                            /* common case: no holds */
        ivset_t t = *out;
        *out = S->staff;
        S->staff = t;
        return;
    }
    ivset_clear(out);
    append_union(out, &S->staff, &S->extra);
}

static const ivset_t *plan_open(search_t *S, plan_t *p)
{
    if (!p->has_open) build_open(S, p->a, &p->open);
    p->has_open = true;
    return &p->open;
}

/* out = open(a) ∩ ranges cut from a's day windows, without building
 * open(a).  Only when S->inside_days (windows never cross midnight). */
static void open_within(const search_t *S, const agency_t *a, const ivset_t *ranges, ivset_t *out)
{
    ivset_clear(out);
    size_t d = 0;
    for (size_t r = 0; r < ranges->n; r++) {
        int64_t lo = ranges->v[r].start, hi = ranges->v[r].end, l, h;
        while (d + 1 < S->days.n && S->days.midnight[d + 1] <= lo) d++;
        for (size_t i = d; i < S->days.n && S->days.midnight[i] < hi; i++) {
            if (!day_window(S, a, i, &l, &h)) continue;
            if (l < lo) l = lo;
            if (h > hi) h = hi;
            if (l < h) ivset_push(out, l, h);
        }
    }
}

/* p->ok = (open ∩ ranges) \ blocked, computing blocked only there.
 * ranges_in_open: the caller knows ranges ⊆ open (skips the intersection). */
static void ok_within_ex(search_t *S, plan_t *p, const ivset_t *ranges, bool ranges_in_open)
{
    const ivset_t *within = ranges;
    if (!ranges_in_open) {
        if (S->inside_days) open_within(S, p->a, ranges, &S->within);
        else ivset_intersect(&S->within, plan_open(S, p), ranges);
        within = &S->within;
    }
    blocked_within(S, p, within, &p->blocked);
    ivset_subtract(&p->ok, within, &p->blocked);
}

static void ok_within(search_t *S, plan_t *p, const ivset_t *ranges)
{
    ok_within_ex(S, p, ranges, false);
}

/* Id -> first position among n names (NULL names skipped), by open
 * addressing, so resolving a query's attendees costs one hash each
 * instead of a scan of the city and of the busy input per attendee. */
typedef struct id_index {
    const char *const *names;     /* not owned */
    size_t             n, cap;    /* cap: power of two, or 0 = scan names */
    size_t            *slot;      /* position + 1; 0 = empty */
} id_index_t;

static uint64_t id_hash(const char *id)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++) h = (h ^ *p) * 1099511628211ULL;
    return h ^ (h >> 29);
}

static size_t id_index_find(const id_index_t *ix, const char *id)
{
    if (!ix->cap) {
        for (size_t i = 0; i < ix->n; i++)
            if (ix->names[i] && strcmp(ix->names[i], id) == 0) return i;
        return SIZE_MAX;
    }
    for (size_t h = id_hash(id) & (ix->cap - 1);; h = (h + 1) & (ix->cap - 1)) {
        if (!ix->slot[h]) return SIZE_MAX;
        if (strcmp(ix->names[ix->slot[h] - 1], id) == 0) return ix->slot[h] - 1;
    }
}

static void id_index_build(id_index_t *ix, const char *const *names, size_t n)
{
    *ix = (id_index_t){names, n, 0, NULL};
    if (n < 16) return;                              /* a scan is cheaper */
    size_t cap = 32;
    while (cap < 2 * n) cap *= 2;
    ix->slot = xcalloc(cap, sizeof *ix->slot);
    ix->cap = cap;
    for (size_t i = 0; i < n; i++) {
        if (!names[i]) continue;
        size_t h = id_hash(names[i]) & (cap - 1);
        for (; ix->slot[h]; h = (h + 1) & (cap - 1))
            if (strcmp(names[ix->slot[h] - 1], names[i]) == 0) break;   /* first one wins */
        if (!ix->slot[h]) ix->slot[h] = i + 1;
    }
}

typedef struct lookup {
    const city_t             *city;
    const slot_agency_busy_t *busy;
    const char              **city_ids, **busy_ids;
    id_index_t                agencies, inputs;
} lookup_t;

static void lookup_init(lookup_t *L, const city_t *c, const slot_agency_busy_t *busy, size_t nbusy)
{
    L->city = c;
    L->busy = busy;
    L->city_ids = xmalloc((c->nagencies ? c->nagencies : 1) * sizeof *L->city_ids);
    L->busy_ids = xmalloc((nbusy ? nbusy : 1) * sizeof *L->busy_ids);
    for (size_t i = 0; i < c->nagencies; i++) L->city_ids[i] = c->agencies[i].id;
    for (size_t i = 0; i < nbusy; i++) L->busy_ids[i] = busy[i].agency_id;
    id_index_build(&L->agencies, L->city_ids, c->nagencies);
    id_index_build(&L->inputs, L->busy_ids, nbusy);
}

static void lookup_free(lookup_t *L)
{
    free(L->agencies.slot);
    free(L->inputs.slot);
    free(L->city_ids);
    free(L->busy_ids);
}

static bool resolve_plans(const lookup_t *L, const strvec_t *ids, plan_t **out, size_t *maxcal,
                          char *err, size_t errlen)
{
    *out = xcalloc(ids->n ? ids->n : 1, sizeof **out);
    for (size_t i = 0; i < ids->n; i++) {
        plan_t *p = &(*out)[i];
        ivset_init(&p->open);
        ivset_init(&p->blocked);
        ivset_init(&p->ok);
        size_t a = id_index_find(&L->agencies, ids->v[i]);
        if (a == SIZE_MAX) {
            snprintf(err, errlen, "未登録の機関です / unknown agency: %s", ids->v[i]);
            return false;
        }
        p->a = &L->city->agencies[a];
        size_t b = id_index_find(&L->inputs, ids->v[i]);
        if (b == SIZE_MAX) {
            snprintf(err, errlen, "空き情報がありません / no busy data for agency: %s", ids->v[i]);
            return false;
        }
        p->busy = &L->busy[b];
        if (p->busy->ncalendars > *maxcal) *maxcal = p->busy->ncalendars;
    }
    return true;
}

static bool search_init(search_t *S, const city_t *c, const slot_query_t *q,
                        const slot_agency_busy_t *busy, size_t nbusy,
                        char *err, size_t errlen)
{
    memset(S, 0, sizeof *S);
    S->city = c;
    S->dur = (int64_t)q->duration_minutes * 60;
    S->gran = (int64_t)(q->granularity_minutes > 0 ? q->granularity_minutes : 1) * 60;
    S->nreq = q->required.n;
    S->nopt = q->optional.n;
    ivset_init(&S->staff);
    ivset_init(&S->extra);
    ivset_init(&S->within);
    lookup_t L;
    lookup_init(&L, c, busy, nbusy);
    bool ok = resolve_plans(&L, &q->required, &S->req, &S->nper, err, errlen) &&
              resolve_plans(&L, &q->optional, &S->opt, &S->nper, err, errlen);
    lookup_free(&L);
    S->per = xcalloc(S->nper ? S->nper : 1, sizeof *S->per);
    return ok;
}

/* True when every attendee's daily window ends before the next local
 * midnight on every table day, so windows of different days never meet:
 * then ∩ of open sets is a per-day max/min and open ∩ ranges can be cut
 * from the day windows directly. */
static bool windows_inside_days(const search_t *S)
{
    int64_t shortest = INT64_MAX;
    for (size_t i = 0; i < S->days.n; i++)
        if (S->days.midnight[i + 1] - S->days.midnight[i] < shortest)
            shortest = S->days.midnight[i + 1] - S->days.midnight[i];
    for (size_t r = 0; r < S->nreq + S->nopt; r++)
        for (int wd = 0; wd < 7; wd++) {
            const plan_t *p = r < S->nreq ? &S->req[r] : &S->opt[r - S->nreq];
            const hours_t *h = &p->a->hours;
            if (h->open[wd] && (h->start[wd] < 0 || h->end[wd] - S->dur + 1 >= shortest))
                return false;
        }
    return true;
}

/* Day table and every attendee's open set for the start range [lo, hi). */
static void search_window(search_t *S, int64_t lo, int64_t hi)
{
    S->lo = lo;
    S->hi = hi > lo ? hi : lo;
    day_table_build(&S->days, S->city, S->lo, S->hi);
    S->inside_days = windows_inside_days(S);
    size_t room = S->days.n + 16;                     /* a range a day or so */
    for (size_t i = 0; i < S->nreq; i++) S->req[i].has_open = false;
    for (size_t i = 0; i < S->nopt; i++) S->opt[i].has_open = false;
    for (size_t c = 0; c < S->nper; c++) reserve(&S->per[c], room);
    reserve(&S->staff, room);
    reserve(&S->nblocked, room);
    reserve(&S->nok, room);
}

static void search_window_end(search_t *S) { day_table_free(&S->days); }

static void plans_free(plan_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ivset_free(&p[i].open);
        ivset_free(&p[i].blocked);
        ivset_free(&p[i].ok);
    }
    free(p);
}

static void search_free(search_t *S)
{
    plans_free(S->req, S->req ? S->nreq : 0);
    plans_free(S->opt, S->opt ? S->nopt : 0);
    for (size_t i = 0; i < S->nper; i++) ivset_free(&S->per[i]);
    free(S->per);
    ivset_free(&S->staff);
    ivset_free(&S->extra);
    ivset_free(&S->within);
    ivset_free(&S->nblocked);
    ivset_free(&S->nok);
    ivset_free(&S->aux[0]);
    ivset_free(&S->aux[1]);
}

/* ∩ of the required agencies' open sets: day by day, the latest window
 * start and earliest window end (no per-agency sets are built). */
static void required_open(search_t *S, ivset_t *out)
{
    if (!S->nreq || !S->inside_days) {               /* general path */
        const ivset_t **sets = xmalloc((S->nreq ? S->nreq : 1) * sizeof *sets);
        for (size_t i = 0; i < S->nreq; i++) sets[i] = plan_open(S, &S->req[i]);
        ivset_intersect_many(out, sets, S->nreq);
        free(sets);
        return;
    }
    /* per weekday: latest start and earliest last start over everyone */
    int64_t wlo[7], whi[7];
    bool wopen[7], closed_days = false;
    for (int wd = 0; wd < 7; wd++) {
        wlo[wd] = INT64_MIN;
        whi[wd] = INT64_MAX;
        wopen[wd] = true;
        for (size_t r = 0; r < S->nreq; r++) {
            const hours_t *h = &S->req[r].a->hours;
            if (!h->open[wd] || h->end[wd] - h->start[wd] < S->dur) wopen[wd] = false;
            if (h->start[wd] > wlo[wd]) wlo[wd] = h->start[wd];
            if (h->end[wd] - S->dur + 1 < whi[wd]) whi[wd] = h->end[wd] - S->dur + 1;
        }
    }
    for (size_t r = 0; r < S->nreq; r++) closed_days |= S->req[r].a->has_closed_days;
    ivset_clear(out);
    reserve(out, S->days.n);
    for (size_t i = 0; i < S->days.n; i++) {
        int wd = S->days.weekday[i];
        if (!wopen[wd]) continue;
        int64_t lo = S->days.midnight[i] + wlo[wd], hi = S->days.midnight[i] + whi[wd];
        if (lo < S->lo) lo = S->lo;
        if (hi > S->hi) hi = S->hi;
        if (lo >= hi) continue;
        bool business = true;
        if (!closed_days) business = S->days.city_business[i];
        for (size_t r = 0; closed_days && r < S->nreq && business; r++)
            business = agency_business_day(&S->days, S->city, S->req[r].a, i);
        if (business) out->v[out->n++] = (interval_t){lo, hi};
    }
}

/* feasible = base narrowed by each required agency in turn.  Each agency
 * only examines busy time near what is still feasible, so once the first
 * few agencies have cut the window down, the rest cost a few binary
 * searches each. */
/* How hard agency p is to satisfy, for ordering only: the share of its
 * staff that must be free (all of them when need exceeds the staff),
 * then travel.  Larger first. */
static bool stricter(const plan_t *x, const plan_t *y)
{
    size_t nx = x->busy->ncalendars, ny = y->busy->ncalendars;
    size_t kx = x->a->need > 0 ? (size_t)x->a->need : 1, ky = y->a->need > 0 ? (size_t)y->a->need : 1;
    if (kx > nx) kx = nx = 1;
    if (ky > ny) ky = ny = 1;
    if (kx * ny != ky * nx) return kx * ny > ky * nx;
    return x->a->travel_minutes > y->a->travel_minutes;
}

static void narrow_feasible(search_t *S, const ivset_t *base, ivset_t *feasible)
{
    /* The answer does not depend on the order; starting with the agencies
     * that cut most leaves fewer, larger ranges for the rest to examine. */
    size_t stack_order[64];
    size_t *order = S->nreq <= 64 ? stack_order : xmalloc(S->nreq * sizeof *order);
    for (size_t i = 0; i < S->nreq; i++) {
        size_t j = i;
        for (; j > 0 && stricter(&S->req[i], &S->req[order[j - 1]]); j--) order[j] = order[j - 1];
        order[j] = i;
    }
    ivset_copy(feasible, base);
    for (size_t k = 0; k < S->nreq && feasible->n; k++) {
        plan_t *p = &S->req[order[k]];
        ivset_t own_blocked = p->blocked, own_ok = p->ok; /* lend it the scratch */
        p->blocked = S->nblocked;
        p->ok = S->nok;
        ok_within_ex(S, p, feasible, true);               /* feasible ⊆ base ⊆ open */
        S->nblocked = p->blocked;
        S->nok = *feasible;                               /* feasible = ok (swap) */
        *feasible = p->ok;
        p->blocked = own_blocked;
        p->ok = own_ok;
    }
    if (order != stack_order) free(order);
}

/* Full ok sets of every required agency over the whole range (for
 * diagnostics). */
static void required_full(search_t *S)
{
    ivset_t whole;
    ivset_init(&whole);
    ivset_push(&whole, S->lo, S->hi);
    for (size_t i = 0; i < S->nreq; i++) ok_within(S, &S->req[i], &whole);
    ivset_free(&whole);
}

/* ∩ of required ok sets, skipping index skip. */
static void required_meet_except(const search_t *S, size_t skip, ivset_t *out)
{
    const ivset_t **sets = xmalloc((S->nreq ? S->nreq : 1) * sizeof *sets);
    size_t n = 0;
    for (size_t i = 0; i < S->nreq; i++)
        if (i != skip) sets[n++] = &S->req[i].ok;
    ivset_intersect_many(out, sets, n);
    free(sets);
}

/* Optional agencies that can attend at s (ok sets must cover s). */
static void optional_at(const search_t *S, int64_t s, strvec_t *out)
{
    strvec_init(out);
    for (size_t i = 0; i < S->nopt; i++)
        if (ivset_contains(&S->opt[i].ok, s)) strvec_push(out, S->opt[i].a->id);
}

static void optional_within(search_t *S, const ivset_t *ranges)
{
    for (size_t i = 0; i < S->nopt; i++) ok_within(S, &S->opt[i], ranges);
}

/* The earliest attendee data horizon before `before` (0 = none), and
 * whose it is. */
static int64_t earliest_horizon(const search_t *S, int64_t before, const char **who)
{
    int64_t h = 0;
    for (size_t i = 0; i < S->nreq + S->nopt; i++) {
        const plan_t *p = i < S->nreq ? &S->req[i] : &S->opt[i - S->nreq];
        int64_t k = p->busy->known_until;
        if (k && k < before && (!h || k < h)) {
            h = k;
            *who = p->a->id;
        }
    }
    return h;
}

/* ---- the per-agency cache ------------------------------------------------ */

typedef struct cache_entry {
    char    *agency_id;           /* NULL = empty slot */
    int64_t  dur;
    int      travel, need;
    size_t   ncal;
    uint64_t version;
    ivset_t  blocked;             /* staff-blocked starts over all busy data */
} cache_entry_t;

struct slot_cache {
    cache_entry_t *v;
    size_t         cap, used;     /* open addressing, cap a power of two */
    size_t         hits, misses;
};

#define SLOT_CACHE_MAX 8192       /* entries before the cache starts over */

slot_cache_t *slot_cache_new(void) { return xcalloc(1, sizeof(slot_cache_t)); }

void slot_cache_clear(slot_cache_t *c)
{
    for (size_t i = 0; i < c->cap; i++) {
        free(c->v[i].agency_id);
        ivset_free(&c->v[i].blocked);
    }
    free(c->v);
    c->v = NULL;
    c->cap = c->used = 0;
}

void slot_cache_free(slot_cache_t *c)
{
    if (!c) return;
    slot_cache_clear(c);
    free(c);
}

void slot_cache_stats(const slot_cache_t *c, size_t *hits, size_t *misses)
{
    *hits = c ? c->hits : 0;
    *misses = c ? c->misses : 0;
}

static uint64_t cache_hash(const char *id, int64_t dur, int travel, int need)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++) h = (h ^ *p) * 1099511628211ULL;
    h ^= (uint64_t)dur * 0x9E3779B97F4A7C15ULL;
    h ^= ((uint64_t)(unsigned)travel << 32 | (unsigned)need) * 0xC2B2AE3D27D4EB4FULL;
    return h ^ (h >> 29);
}

static cache_entry_t *cache_slot(slot_cache_t *c, const char *id, int64_t dur, int travel, int need)
{
    size_t i = cache_hash(id, dur, travel, need) & (c->cap - 1);
    for (;; i = (i + 1) & (c->cap - 1)) {
        cache_entry_t *e = &c->v[i];
        if (!e->agency_id || (e->dur == dur && e->travel == travel && e->need == need &&
                              strcmp(e->agency_id, id) == 0))
            return e;
    }
}

static void cache_grow(slot_cache_t *c)
{
    if (c->used >= SLOT_CACHE_MAX) slot_cache_clear(c);
    if (c->cap && (c->used + 1) * 2 <= c->cap) return;
    slot_cache_t bigger = {xcalloc(c->cap ? c->cap * 2 : 64, sizeof(cache_entry_t)),
                           c->cap ? c->cap * 2 : 64, 0, 0, 0};
    for (size_t i = 0; i < c->cap; i++) {
        cache_entry_t *e = &c->v[i];
        if (!e->agency_id) continue;
        *cache_slot(&bigger, e->agency_id, e->dur, e->travel, e->need) = *e;
        bigger.used++;
    }
    free(c->v);
    c->v = bigger.v;
    c->cap = bigger.cap;
}

/* Staff-blocked starts of p over the hull of all its busy data, from the
 * cache, computing and storing them on a miss.  NULL when not cacheable. */
static const ivset_t *cache_staff_blocked(search_t *S, const plan_t *p)
{
    slot_cache_t *c = S->cache;
    if (!c || !p->busy->version) return NULL;
    cache_grow(c);
    int need = p->a->need > 0 ? p->a->need : 1;
    cache_entry_t *e = cache_slot(c, p->a->id, S->dur, p->a->travel_minutes, need);
    if (e->agency_id && e->version == p->busy->version && e->ncal == p->busy->ncalendars) {
        c->hits++;
        return &e->blocked;
    }
    c->misses++;
    if (!e->agency_id) {
        e->agency_id = xstrdup(p->a->id);
        e->dur = S->dur;
        e->travel = p->a->travel_minutes;
        e->need = need;
        ivset_init(&e->blocked);
        c->used++;
    }
    e->version = p->busy->version;
    e->ncal = p->busy->ncalendars;
    int64_t lo = INT64_MAX, hi = INT64_MIN, pad = (int64_t)p->a->travel_minutes * 60 + S->dur;
    for (size_t i = 0; i < p->busy->ncalendars; i++) {
        const ivset_t *b = &p->busy->calendars[i];
        if (!b->n) continue;
        if (b->v[0].start - pad < lo) lo = b->v[0].start - pad;
        if (b->v[b->n - 1].end + pad > hi) hi = b->v[b->n - 1].end + pad;
    }
    ivset_t hull;
    ivset_init(&hull);
    if (lo < hi) ivset_push(&hull, lo, hi);
    staff_blocked(S, p, &hull, &e->blocked);
    ivset_free(&hull);
    return &e->blocked;
}

/* ---- ranking ------------------------------------------------------------ */

typedef struct cand {
    int64_t start;
    size_t  nopt;
} cand_t;

static int cand_cmp(const void *x, const void *y)
{
    const cand_t *a = x, *b = y;
    if (a->nopt != b->nopt) return a->nopt > b->nopt ? -1 : 1;
    return (a->start > b->start) - (a->start < b->start);
}

/* Grid starts inside feasible, each with its optional-attendee count
 * (one pointer per optional agency walks its ok set in step). */
static cand_t *enumerate(const search_t *S, const ivset_t *feasible, size_t *ncand)
{
    size_t cap = 64, n = 0, day = 0;
    cand_t *c = xmalloc(cap * sizeof *c);
    size_t *ptr = xcalloc(S->nopt ? S->nopt : 1, sizeof *ptr);
    for (size_t i = 0; i < feasible->n; i++) {
        for (int64_t s = grid_ceil_from(&S->days, feasible->v[i].start, S->gran, &day);
             s < feasible->v[i].end; s = grid_next(&S->days, s, S->gran, &day)) {
            size_t cnt = 0;
            for (size_t o = 0; o < S->nopt; o++) {
                const ivset_t *ok = &S->opt[o].ok;
                while (ptr[o] < ok->n && ok->v[ptr[o]].end <= s) ptr[o]++;
                if (ptr[o] < ok->n && ok->v[ptr[o]].start <= s) cnt++;
            }
            if (n == cap) c = xrealloc(c, (cap *= 2) * sizeof *c);
            c[n++] = (cand_t){s, cnt};
        }
    }
    free(ptr);
    *ncand = n;
    return c;
}

static void take_greedy(const search_t *S, cand_t *c, size_t n, int limit,
                        slot_result_t *out)
{
    if (S->nopt) qsort(c, n, sizeof *c, cand_cmp);   /* else already by start */
    size_t want = limit > 0 ? (size_t)limit : 0;
    out->slots = xcalloc(want ? want : 1, sizeof *out->slots);
    for (size_t i = 0; i < n && out->nslots < want; i++) {
        int64_t s = c[i].start, e = s + S->dur;
        bool clash = false;
        for (size_t j = 0; j < out->nslots && !clash; j++)
            clash = s < out->slots[j].end && out->slots[j].start < e;
        if (clash) continue;
        slot_t *sl = &out->slots[out->nslots++];
        sl->start = s;
        sl->end = e;
        optional_at(S, s, &sl->optional);
    }
}

/* ---- diagnostics ---------------------------------------------------------- */

static int blocker_cmp(const void *x, const void *y)
{
    const slot_blocker_t *a = x, *b = y;
    if (a->blocked != b->blocked) return a->blocked > b->blocked ? -1 : 1;
    return strcmp(a->agency_id, b->agency_id);
}

/* Needs required_full(): blocked sets cover the whole range. */
static void diagnose_blockers(const search_t *S, const ivset_t *base, slot_result_t *out)
{
    ivset_t tmp;
    ivset_init(&tmp);
    out->blockers = xcalloc(S->nreq ? S->nreq : 1, sizeof *out->blockers);
    for (size_t i = 0; i < S->nreq; i++) {
        ivset_intersect(&tmp, base, &S->req[i].blocked);
        size_t blocked = grid_count(&S->days, &tmp, S->gran);
        if (!blocked) continue;
        out->blockers[out->nblockers++] = (slot_blocker_t){S->req[i].a->id, blocked};
    }
    qsort(out->blockers, out->nblockers, sizeof *out->blockers, blocker_cmp);
    ivset_free(&tmp);
}

static void diagnose_drops(const search_t *S, slot_result_t *out)
{
    if (S->nreq < 2) return;
    ivset_t meet;
    ivset_init(&meet);
    out->drops = xcalloc(S->nreq, sizeof *out->drops);
    for (size_t i = 0; i < S->nreq; i++) {
        required_meet_except(S, i, &meet);
        int64_t first;
        if (grid_first(&S->days, &meet, S->gran, &first))
            out->drops[out->ndrops++] = (slot_drop_t){S->req[i].a->id, first};
    }
    ivset_free(&meet);
}

/* Earliest feasible start in [lo, from + 26 weeks), never past the busy
 * data any attendee holds, with its optional attendees. */
static void diagnose_next(search_t *S, const slot_query_t *q, int64_t lo, slot_result_t *out)
{
    int64_t end = q->from + SLOTS_MAX_WINDOW_SECONDS;
    int64_t cut = earliest_horizon(S, end, &out->next_until_agency);
    if (cut) end = out->next_until = cut;
    int64_t hi = end - S->dur + 1;
    if (hi <= lo || !S->nreq) return;
    /* Only the earliest start is wanted: search a week, then windows that
     * double, and stop at the first with a feasible start.  Feasibility
     * is a property of each start alone and the grid hangs on local
     * midnights, so splitting [lo, hi) changes nothing but the work. */
    int64_t chunk = 7 * 86400;
    for (int64_t c0 = lo; c0 < hi && !out->has_next; c0 += chunk, chunk *= 2) {
        int64_t c1 = hi - c0 > chunk ? c0 + chunk : hi;
        search_window(S, c0, c1);
        ivset_t base, feasible;
        ivset_init(&base);
        ivset_init(&feasible);
        required_open(S, &base);
        narrow_feasible(S, &base, &feasible);
        int64_t first;
        if (grid_first(&S->days, &feasible, S->gran, &first)) {
            ivset_t at;
            ivset_init(&at);
            ivset_push(&at, first, first + 1);
            optional_within(S, &at);
            out->has_next = true;
            out->next.start = first;
            out->next.end = first + S->dur;
            optional_at(S, first, &out->next.optional);
            ivset_free(&at);
        }
        ivset_free(&base);
        ivset_free(&feasible);
        search_window_end(S);
    }
}

/* ---- the query ------------------------------------------------------------ */

int slots_find(const city_t *city, const slot_query_t *q, int64_t now,
               const slot_agency_busy_t *busy, size_t nbusy,
               slot_result_t *out, char *err, size_t errlen)
{
    return slots_find_cached(city, q, now, busy, nbusy, NULL, out, err, errlen);
}

int slots_find_cached(const city_t *city, const slot_query_t *q, int64_t now,
                      const slot_agency_busy_t *busy, size_t nbusy, slot_cache_t *cache,
                      slot_result_t *out, char *err, size_t errlen)
{
    slot_result_init(out);
    search_t S;
    if (!search_init(&S, city, q, busy, nbusy, err, errlen)) {
        search_free(&S);
        return -1;
    }
    S.cache = cache;
    int64_t notice = slots_notice_start(city, now, q->notice_days);
    int64_t lo = q->from > notice ? q->from : notice;
    out->earliest = lo;
    search_window(&S, lo, q->to - S.dur + 1);

    ivset_t base, feasible;
    ivset_init(&base);
    ivset_init(&feasible);
    required_open(&S, &base);
    out->candidates = grid_count(&S.days, &base, S.gran);
    if (S.nreq) narrow_feasible(&S, &base, &feasible);
    optional_within(&S, &feasible);

    size_t ncand;
    cand_t *cand = enumerate(&S, &feasible, &ncand);
    out->feasible = ncand;
    take_greedy(&S, cand, ncand, q->limit, out);
    free(cand);

    if (out->nslots == 0) {
        required_full(&S);
        diagnose_blockers(&S, &base, out);
        diagnose_drops(&S, out);
    }
    ivset_free(&base);
    ivset_free(&feasible);
    search_window_end(&S);
    if (out->nslots == 0) diagnose_next(&S, q, lo, out);
    search_free(&S);
    return 0;
}
